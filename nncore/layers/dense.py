"""The fully connected layer, z = a·W + b, followed by an activation σ."""

from __future__ import annotations

import numpy as np

from ..initializers import initialize
from .base import WeightedLayer, whole_number


class Dense(WeightedLayer):
    """Fully connected layer with an optional activation.

    Forward (seed 000: ``z = a_prev @ w + b``)::

        z = a_prev · W + b          a_prev: (m, n_in)   W: (n_in, n_out)   b: (n_out,)
        a = σ(z)                    a:      (m, n_out)

    Backward, given dA = ∂L/∂a for the m samples of the batch::

        δ       = dA ∘ σ'(z)        the error signal at this layer
        dW      = a_prevᵀ · δ / m   mean over the batch of each sample's gradient
        db      = Σ_rows δ / m
        dA_prev = δ · Wᵀ            handed to the previous layer as its dA

    The losses in this package return the gradient of each sample's own loss, so the
    division by m happens here, once, exactly where the seeds put it.

    Parameters
    ----------
    in_features, out_features : the sizes n_in and n_out.
    activation : name of σ ("relu", "sigmoid", "tanh", "softmax", "leaky_relu", "linear").
    init : "he", "glorot", "lecun", or the seeds' "normal-0.1" / "uniform-0.5";
        None picks He for ReLU-like activations and Glorot for the rest.
    seed : seeds the initial weights when the layer is used on its own.
    """

    def __init__(self, in_features: int, out_features: int, activation="linear",
                 init: str | None = None, seed: int | None = None, dtype=np.float32):
        self.in_features = whole_number("Dense", "in_features", in_features)
        self.out_features = whole_number("Dense", "out_features", out_features)
        self._set_activation_and_init(activation, init)
        self.initialize(np.random.default_rng(seed), dtype)

    # --- parameters -------------------------------------------------------------
    def initialize(self, rng, dtype=np.float32):
        self._set_parameters(*initialize(self.init, rng, self.in_features, self.out_features,
                                         dtype))

    # --- forward and backward ---------------------------------------------------
    def forward(self, a_prev, training=False):
        if a_prev.ndim != 2 or a_prev.shape[1] != self.in_features:
            raise ValueError(
                f"Dense layer expects inputs of shape (m, {self.in_features}), "
                f"got {a_prev.shape}."
            )
        z = a_prev @ self.W
        z += self.b
        a = self.activation.forward(z)
        self.a_prev, self.z, self.a = a_prev, z, a
        return a

    def backward(self, dA, dA_is_delta: bool = False):
        """Return dA_prev. With ``dA_is_delta`` the caller already passes δ = ∂L/∂z
        (softmax + cross-entropy, where σ'(z) and the loss's derivative cancel)."""
        m = dA.shape[0]
        delta = dA if dA_is_delta else self.activation.backward(dA, self.z, self.a)
        self.delta = delta                  # (m, n_out), kept for nncore.trace to show
        np.matmul(self.a_prev.T, delta, out=self.dW)
        self.dW /= m
        np.sum(delta, axis=0, out=self.db)
        self.db /= m
        if self.skip_input_gradient:
            return None
        return delta @ self.W.T

    # --- description ------------------------------------------------------------
    def output_shape(self, input_shape):
        return (self.out_features,)

    def get_config(self):
        return {"type": "Dense", "in_features": self.in_features,
                "out_features": self.out_features,
                "activation": self.activation.name, "init": self.init}
