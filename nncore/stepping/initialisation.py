"""How each initialisation starts: the spread of every layer's numbers at step 0.

Signals pass through a layer as z = a·W + b, so the spread of z is roughly the spread of
a times √fan_in times the spread of W. Too small a W and the activations shrink layer
after layer; too large and they blow up or saturate (tanh, sigmoid) — and the gradients
on the way back do the same, so a deep network with a poor start barely moves. He and
Glorot pick the spread of W that keeps them level (``nncore.initializers``).

``initial_spreads(network, X, y)`` builds the same network once per initialisation the
lab offers, from the same seed, runs one batch forward and backward (``nncore.trace``),
and returns per layer the standard deviation of its activations a, of its δ and of its
weight gradient dW, with histograms of a and dW.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..initializers import INITIALIZERS
from ..trace import stages, trace


@dataclass
class LayerSpread:
    layer: int                 # the seeds' layer number l
    kind: str
    activation: str
    a_std: float               # spread of a^(l) over the batch and the units
    delta_std: float | None    # spread of δ^(l) (None for a pool)
    grad_std: float | None     # spread of dW^(l)
    a_hist: tuple              # (counts, edges)
    grad_hist: tuple | None
    stuck_share: float | None  # ReLU: share of dead units (0 for every sample: no gradient
                               # passes); tanh / sigmoid: share saturated (σ' < 2 %); else None


@dataclass
class InitSpread:
    init: str                  # "he", "glorot", …
    loss: float                # the loss on the batch at step 0
    layers: list[LayerSpread]


def with_initialisation(network, init: str, seed: int):
    """The same layers, loss and optimizer, every weighted layer started with ``init``."""
    config = network.get_config()
    config["layers"] = [dict(c, init=init) if "init" in c else c for c in config["layers"]]
    clone = type(network).from_config(config)
    clone.initialize(seed)
    return clone


def _hist(values, bins: int) -> tuple:
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (np.zeros(0, np.int64), np.zeros(0))
    return np.histogram(values, bins=bins)


def _stuck(a, activation: str) -> float | None:
    """How much of a layer passes (nearly) no gradient back: the share of ReLU units that
    output 0 for every sample of the batch (dead), or of tanh and sigmoid outputs on their
    flat ends (σ'(z) under 2 % of its largest value)."""
    a = np.asarray(a, dtype=np.float64)
    if activation == "relu":
        return float(np.mean(np.all(a.reshape(len(a), -1) == 0, axis=0)))
    if activation == "tanh":
        return float(np.mean(1 - a * a < 0.02))
    if activation == "sigmoid":
        return float(np.mean(a * (1 - a) < 0.02 * 0.25))
    return None


def _std(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(values.std()) if np.isfinite(values).all() else float("nan")


def initial_spreads(network, X, y, *, inits=tuple(INITIALIZERS), seed: int | None = None,
                    bins: int = 30) -> list[InitSpread]:
    """One InitSpread per initialisation in ``inits`` (see the module docstring); ``seed``
    defaults to the network's (else 0)."""
    if seed is None:
        seed = network.seed if network.seed is not None else 0
    out = []
    for init in inits:
        net = with_initialisation(network, init, seed)
        with np.errstate(over="ignore", invalid="ignore"):
            t = trace(net, X)
            loss = t.backward(y)
        layers = []
        for number, s in enumerate(stages(net), start=1):
            a = t.records[s.output_index].output
            first = t.records[s.layer_index]
            weighted = s.kind != "pool"
            layers.append(LayerSpread(number, s.kind, s.activation, _std(a),
                                      _std(first.delta) if weighted else None,
                                      _std(first.dW) if weighted else None,
                                      _hist(a, bins), _hist(first.dW, bins) if weighted else None,
                                      _stuck(a, s.activation)))
        out.append(InitSpread(init, float(loss), layers))
    return out


__all__ = ["InitSpread", "LayerSpread", "initial_spreads", "with_initialisation"]
