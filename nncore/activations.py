"""Activation functions σ and their derivatives.

Every activation maps the pre-activation ``z`` of a layer to its output ``a = σ(z)``
and, on the way back, turns the gradient that arrives at its output, ``dA = ∂L/∂a``,
into the gradient at its input:

    δ = dA ∘ σ'(z)          (element-wise product, as in the seeds)

Softmax is the one exception: each output depends on every input of its row, so its
backward pass is a Jacobian-vector product rather than an element-wise product.
"""

from __future__ import annotations

import numpy as np


class Activation:
    """Base class: ``forward(z) -> a`` and ``backward(dA, z, a) -> δ``."""

    name = "activation"

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dA: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Activation):
    """σ(z) = z, σ'(z) = 1: a layer that stays linear (regression outputs, logits)."""

    name = "linear"

    def forward(self, z):
        return z

    def backward(self, dA, z, a):
        return dA


class ReLU(Activation):
    """σ(z) = max(0, z); σ'(z) = 1 where z > 0, else 0."""

    name = "relu"

    def forward(self, z):
        return np.maximum(z, 0)

    def backward(self, dA, z, a):
        return np.multiply(dA, a > 0)  # a > 0 exactly where z > 0


class LeakyReLU(Activation):
    """σ(z) = z for z > 0, else α·z; σ'(z) = 1 or α."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        self.alpha = float(alpha)

    def forward(self, z):
        return np.where(z > 0, z, self.alpha * z)

    def backward(self, dA, z, a):
        return dA * np.where(z > 0, 1.0, self.alpha).astype(dA.dtype, copy=False)


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(−z)); σ'(z) = σ(z)·(1 − σ(z)).

    Written as ½·(1 + tanh(z/2)), which is the same function but never overflows:
    ``np.exp(-z)`` would overflow for z < −89 in float32.
    """

    name = "sigmoid"

    def forward(self, z):
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    def backward(self, dA, z, a):
        return dA * a * (1.0 - a)


class Tanh(Activation):
    """σ(z) = tanh(z); σ'(z) = 1 − tanh²(z)."""

    name = "tanh"

    def forward(self, z):
        return np.tanh(z)

    def backward(self, dA, z, a):
        return dA * (1.0 - a * a)


class Softmax(Activation):
    """pᵢ = e^(zᵢ) / Σⱼ e^(zⱼ), row by row.

    Subtracting the row maximum first (the log-sum-exp trick) changes nothing
    mathematically and keeps e^z from overflowing.

    Backward: ∂L/∂zᵢ = pᵢ·(dAᵢ − Σⱼ dAⱼ·pⱼ). With cross-entropy on top this collapses
    to p − y, which is why the loss ``softmax_cross_entropy`` hands δ = p − y straight to
    the output layer instead of going through this Jacobian.
    """

    name = "softmax"

    def forward(self, z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, dA, z, a):
        return a * (dA - np.sum(dA * a, axis=1, keepdims=True))


ACTIVATIONS = {cls.name: cls for cls in (Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax)}


def get_activation(name: str | Activation | None) -> Activation:
    """Look an activation up by name (``"relu"``, ``"tanh"``, ...); None means linear."""
    if isinstance(name, Activation):
        return name
    if name is None:
        return Linear()
    key = str(name).strip().lower().replace("-", "_")
    if key == "identity":
        key = "linear"
    if key not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {name!r}: expected one of {', '.join(sorted(ACTIVATIONS))}."
        )
    return ACTIVATIONS[key]()
