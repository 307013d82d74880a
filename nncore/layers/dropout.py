"""Dropout: randomly silence units while training so no unit can rely on another."""

from __future__ import annotations

import numpy as np

from .base import Layer


class Dropout(Layer):
    """Inverted dropout with drop probability ``rate``.

    Training:  y = x ∘ mask / (1 − rate),  mask ~ Bernoulli(1 − rate)
    Inference: y = x

    Dividing by (1 − rate) while training keeps the expected activation the same, so
    nothing has to be rescaled at inference. Backward: ∂L/∂x = ∂L/∂y ∘ mask / (1 − rate).
    """

    def __init__(self, rate: float = 0.5, seed: int | None = None):
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.rng = np.random.default_rng(seed)
        self.scaled_mask = None

    def initialize(self, rng, dtype=np.float32):
        self.rng = rng

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.scaled_mask = None
            return x
        keep = 1.0 - self.rate
        self.scaled_mask = (self.rng.random(x.shape, dtype=np.float32) < keep).astype(x.dtype) / keep
        return x * self.scaled_mask

    def backward(self, grad):
        return grad if self.scaled_mask is None else grad * self.scaled_mask

    def get_config(self):
        return {"type": "Dropout", "rate": self.rate}
