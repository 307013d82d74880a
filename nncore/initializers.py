"""Weight initialisations: how W and b of a Dense layer start.

Random starting weights break the symmetry between units (with equal weights every
unit of a layer would receive the same gradient and stay identical). The scale
matters: too small and the signal fades layer after layer, too large and it explodes.

- ``he``:     W ~ N(0, 2/fan_in)          — for ReLU layers (He et al., 2015)
- ``glorot``: W ~ U(±√(6/(fan_in+fan_out))) — for tanh/sigmoid (Glorot & Bengio, 2010)
- ``lecun``:  W ~ N(0, 1/fan_in)          — for tanh/SELU-style layers
- ``normal-0.1``:  W, b ~ N(0, 1)·0.1      — seeds 000 and 003 (``np.random.randn(...) * 0.1``)
- ``uniform-0.5``: W, b ~ U(−0.5, 0.5)     — seed 001 (``np.random.rand(...) - 0.5``)
- ``normal-1``:    W ~ N(0, 1), b = 0       — seed 002 (``np.random.normal(0, 1, ...)``)

The first three start biases at zero; the seeds' own schemes draw the biases too,
exactly as the tutorials do.
"""

from __future__ import annotations

import numpy as np


def he(rng, fan_in, fan_out):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in), np.zeros(fan_out)


def glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)


def lecun(rng, fan_in, fan_out):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(1.0 / fan_in), np.zeros(fan_out)


def normal_01(rng, fan_in, fan_out):
    return rng.standard_normal((fan_in, fan_out)) * 0.1, rng.standard_normal(fan_out) * 0.1


def uniform_05(rng, fan_in, fan_out):
    return rng.random((fan_in, fan_out)) - 0.5, rng.random(fan_out) - 0.5


def normal_1(rng, fan_in, fan_out):
    return rng.standard_normal((fan_in, fan_out)), np.zeros(fan_out)


INITIALIZERS = {
    "he": he,
    "glorot": glorot,
    "lecun": lecun,
    "normal-0.1": normal_01,
    "uniform-0.5": uniform_05,
    "normal-1": normal_1,
}


def check_initializer(name: str) -> str:
    key = str(name).strip().lower()
    if key not in INITIALIZERS:
        raise ValueError(
            f"Unknown initialisation {name!r}: expected one of {', '.join(INITIALIZERS)}."
        )
    return key


def initialize(name: str, rng: np.random.Generator, fan_in: int, fan_out: int, dtype=np.float32):
    """Return (W, b) with W of shape (fan_in, fan_out) and b of shape (fan_out,)."""
    W, b = INITIALIZERS[check_initializer(name)](rng, fan_in, fan_out)
    return W.astype(dtype), b.astype(dtype)
