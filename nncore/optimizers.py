"""Optimizers: turn gradients into parameter updates, in place.

    SGD:       θ ← θ − η·g
    Momentum:  v ← μ·v − η·g;  θ ← θ + v            (Nesterov: θ ← θ + μ·v − η·g)
    Adam:      m ← β₁·m + (1−β₁)·g;  v ← β₂·v + (1−β₂)·g²
               θ ← θ − η·m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)
               (written out literally, and fused into fewer sweeps for speed)

``step(params, grads)`` takes two lists of arrays in a fixed order; per-parameter state
(velocities, moments) is kept in the same order.
"""

from __future__ import annotations

import math

import numpy as np


def _check_lr(lr):
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"The learning rate must be a positive number, got {lr!r}.")
    return float(lr)


class Optimizer:
    name = "optimizer"

    def __init__(self, lr: float):
        self.lr = _check_lr(lr)

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget accumulated state (new training run, or weights replaced)."""

    def get_config(self) -> dict:
        return {"name": self.name, "lr": self.lr}


class SGD(Optimizer):
    """Plain, momentum or Nesterov gradient descent."""

    name = "sgd"

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1), got {momentum!r}.")
        if nesterov and momentum == 0.0:
            raise ValueError("Nesterov momentum needs a momentum above 0.")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.velocities = None

    def reset(self):
        self.velocities = None

    def step(self, params, grads):
        if self.momentum == 0.0:
            for p, g in zip(params, grads):
                p -= self.lr * g
            return
        if self.velocities is None:
            self.velocities = [np.zeros_like(p) for p in params]
        mu, lr = self.momentum, self.lr
        for p, g, v in zip(params, grads, self.velocities):
            v *= mu
            v -= lr * g
            if self.nesterov:
                p += mu * v - lr * g   # look ahead along the new velocity
            else:
                p += v

    def get_config(self):
        return {"name": self.name, "lr": self.lr, "momentum": self.momentum,
                "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), Algorithm 1 of the paper, at step t with gradient g::

        m ← β₁·m + (1−β₁)·g          v ← β₂·v + (1−β₂)·g²
        m̂ = m/(1−β₁ᵗ)                v̂ = v/(1−β₂ᵗ)
        θ ← θ − η·m̂ / (√v̂ + ε)

    ``_step_literal`` is that, line for line: read it to learn Adam. ``_step_fused``, the
    default (``fused=True``), is what training runs. It is the same math, rearranged so
    that it sweeps every parameter array fewer times — the update is about half the time
    of a training step on MNIST:

    * the moments are kept without their (1−β) factors, m' = m/(1−β₁) and v' = v/(1−β₂),
      so they update as m' ← β₁·m' + g and v' ← β₂·v' + g²;
    * every constant (bias corrections, the (1−β) factors) is folded into one step size
      and one ε, as in section 2 of the paper:  θ ← θ − η_t · m' / (√v' + ε_t).

    The two agree to float32 rounding (``tests/engine/test_losses_optimizers.py``). Their
    m and v hold different things, so one optimizer keeps one form for its whole run.

    Why ``_flush_subnormals`` (fused form only): weights fed by always-zero inputs (MNIST's
    border pixels) get exactly zero gradients, so their moments decay geometrically into
    subnormal floats, which the CPU handles tens of times slower. Every hundred steps,
    values far below anything that could move a weight are set to exactly zero.
    """

    name = "adam"
    FLUSH_EVERY = 100
    TINY = 1e-30

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, fused: bool = True):
        super().__init__(lr)
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Adam {label} must be in [0, 1), got {beta!r}.")
        if eps <= 0:
            raise ValueError(f"Adam eps must be positive, got {eps!r}.")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.fused = bool(fused)
        self.reset()

    def reset(self):
        self.t = 0
        self.m = self.v = self.scratch = None

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
            self.scratch = [np.empty_like(p) for p in params] if self.fused else None
        self.t += 1
        if self.fused:
            self._step_fused(params, grads)
        else:
            self._step_literal(params, grads)

    def _step_literal(self, params, grads):
        """The paper's update, one line per equation (m and v as the paper keeps them)."""
        b1, b2, t, lr, eps = self.beta1, self.beta2, self.t, self.lr, self.eps
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m[...] = b1 * m + (1 - b1) * g            # m ← β₁·m + (1−β₁)·g
            v[...] = b2 * v + (1 - b2) * g ** 2       # v ← β₂·v + (1−β₂)·g²
            m_hat = m / (1 - b1 ** t)                 # m̂ = m/(1−β₁ᵗ)
            v_hat = v / (1 - b2 ** t)                 # v̂ = v/(1−β₂ᵗ)
            p -= lr * m_hat / (np.sqrt(v_hat) + eps)  # θ ← θ − η·m̂/(√v̂ + ε)

    def step_constants(self) -> tuple[float, float]:
        """(η_t, ε_t) such that θ ← θ − η_t·m'/(√v' + ε_t) is the textbook update."""
        b1, b2, t = self.beta1, self.beta2, self.t
        # m̂ = (1−β₁)·m'/(1−β₁ᵗ),  √v̂ = √(1−β₂)·√v'/√(1−β₂ᵗ)
        # math.sqrt, not np.sqrt: a NumPy float64 scalar would make every float32 sweep
        # below compute in float64 and cast back, several times slower.
        v_scale = math.sqrt((1.0 - b2) / (1.0 - b2 ** t))
        lr_t = self.lr * (1.0 - b1) / (1.0 - b1 ** t) / v_scale
        return lr_t, self.eps / v_scale

    def _step_fused(self, params, grads):
        """The same update on m' and v', in place, with one step size η_t and one ε_t."""
        b1, b2 = self.beta1, self.beta2
        lr_t, eps_t = self.step_constants()
        for p, g, m, v, tmp in zip(params, grads, self.m, self.v, self.scratch):
            m *= b1                       # m' ← β₁·m' + g
            m += g
            np.multiply(g, g, out=tmp)    # v' ← β₂·v' + g²
            v *= b2
            v += tmp
            np.sqrt(v, out=tmp)           # θ ← θ − η_t · m' / (√v' + ε_t)
            tmp += eps_t
            np.divide(m, tmp, out=tmp)
            tmp *= lr_t
            p -= tmp
        if self.t % self.FLUSH_EVERY == 0:
            self._flush_subnormals()

    def _flush_subnormals(self):
        for m, v, tmp in zip(self.m, self.v, self.scratch):
            np.abs(m, out=tmp)
            np.copyto(m, 0, where=tmp < self.TINY)
            np.copyto(v, 0, where=v < self.TINY)

    def get_config(self):
        config = {"name": self.name, "lr": self.lr, "beta1": self.beta1, "beta2": self.beta2,
                  "eps": self.eps}
        if not self.fused:   # only when not the default, so saved files stay as they were
            config["fused"] = False
        return config


OPTIMIZERS = {"sgd": SGD, "momentum": SGD, "nesterov": SGD, "adam": Adam}


def get_optimizer(spec) -> Optimizer:
    """An optimizer from an instance, a name, or a dict like {"name": "adam", "lr": 1e-3}."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"Optimizer must be a name or a dict with a 'name', got {spec!r}.")
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    name = str(spec["name"]).lower()
    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {spec['name']!r}: expected one of sgd, momentum, "
                         "nesterov, adam.")
    if name == "momentum":
        kwargs.setdefault("momentum", 0.9)
    if name == "nesterov":
        kwargs.setdefault("momentum", 0.9)
        kwargs["nesterov"] = True
    try:
        return OPTIMIZERS[name](**kwargs)
    except TypeError as exc:
        raise ValueError(f"Optimizer {name!r} got unexpected settings: {exc}") from None
