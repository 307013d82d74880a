"""An activation as a layer of its own (seed 001's ``ActivationLayer``)."""

from __future__ import annotations

from ..activations import get_activation
from .base import Layer


class ActivationLayer(Layer):
    """y = σ(x) element-wise; backward: ∂L/∂x = ∂L/∂y ∘ σ'(x).

    ``Dense(..., activation="tanh")`` and ``Dense(...)`` followed by
    ``ActivationLayer("tanh")`` compute the same thing; the second keeps the two ideas
    apart, the way seed 001 builds its networks.
    """

    def __init__(self, activation):
        self.activation = get_activation(activation)

    def forward(self, x, training=False):
        self.x = x
        self.y = self.activation.forward(x)
        return self.y

    def backward(self, grad):
        return self.activation.backward(grad, self.x, self.y)

    def get_config(self):
        return {"type": "ActivationLayer", "activation": self.activation.name}
