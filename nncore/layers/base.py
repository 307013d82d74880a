"""The contract every layer keeps (seed 001's ``Layer``).

    forward(x, training)  -> y          the output, remembering what backward needs
    backward(dY)          -> dX         given ∂L/∂y, store ∂L/∂(own parameters) and
                                        return ∂L/∂x, which is the previous layer's dY

Because the output of one layer is the input of the next, ∂L/∂x of one layer *is*
∂L/∂y of the layer before it — that is all backpropagation is.
"""

from __future__ import annotations

import numpy as np

from ..activations import get_activation
from ..initializers import check_initializer



def whole_number(layer: str, label: str, value, minimum: int = 1) -> int:
    """A layer's size argument, checked: a whole number ≥ ``minimum`` (not a bool)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{layer}: {label} must be a whole number ≥ {minimum}, got {value!r}.")
    return int(value)

class Layer:
    """Base class. Layers without parameters only implement forward and backward."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # --- parameters -------------------------------------------------------------
    def parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(name, parameter, gradient) triples; the optimizer updates parameters in place."""
        return []

    def initialize(self, rng: np.random.Generator, dtype=np.float32) -> None:
        """Draw fresh parameters from ``rng`` (layers without parameters do nothing)."""

    def astype(self, dtype) -> None:
        """Convert parameters to ``dtype`` (float64 for gradient checks)."""

    # --- shapes and serialisation ---------------------------------------------
    def output_shape(self, input_shape: tuple) -> tuple:
        """Shape of one sample's output given one sample's input shape."""
        return input_shape

    def get_config(self) -> dict:
        """Everything needed to rebuild the layer (not its learned arrays)."""
        return {"type": type(self).__name__}

    def n_parameters(self) -> int:
        return sum(p.size for _, p, _ in self.parameters())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class WeightedLayer(Layer):
    """A layer with weights W and biases b (Dense, Conv2D), and after backward their
    gradients dW, db and the error signal δ = ∂L/∂z they came from (``delta``).
    Subclasses draw W and b in ``initialize``; this class keeps the rest:
    the fresh zero gradients, the (name, parameter, gradient) triples the optimizer
    updates, and the dtype change."""

    W: np.ndarray
    b: np.ndarray
    skip_input_gradient = False   # the first such layer's ∂L/∂x is never used in training

    def _set_activation_and_init(self, activation, init) -> None:
        """σ by name, and the initialisation: He for ReLU-like σ, Glorot for the rest
        unless ``init`` names one."""
        self.activation = get_activation(activation)
        if init is None:
            init = "he" if self.activation.name in ("relu", "leaky_relu") else "glorot"
        self.init = check_initializer(init)

    def _set_parameters(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W, b
        self.dW, self.db = np.zeros_like(W), np.zeros_like(b)

    def parameters(self):
        return [("W", self.W, self.dW), ("b", self.b, self.db)]

    def astype(self, dtype):
        self._set_parameters(self.W.astype(dtype), self.b.astype(dtype))
