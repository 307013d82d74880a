"""Loss functions: how wrong the network's output ``a`` is for targets ``y``.

Each loss gives

    forward(a, y)  -> L, the mean over the m samples of each sample's loss ℓ(a, y)
    backward(a, y) -> dA = ∂ℓ/∂a for every sample (shape of ``a``), *not* divided by m

The division by m happens once, in ``Dense.backward`` (dW = a_prevᵀ·δ / m), exactly
where seeds 000 and 003 put it.
"""

from __future__ import annotations

import numpy as np


def _clip_probabilities(p):
    # log(0) = −inf: a confident wrong answer would make the loss infinite. Keep the
    # probabilities a hair away from 0 and 1 (the smallest step float32 resolves near 1).
    eps = 1e-7 if p.dtype == np.float32 else 1e-12
    return np.clip(p, eps, 1.0 - eps)


class Loss:
    name = "loss"
    output_activation = None  # the output activation this loss is meant to sit on
    returns_delta = False     # True: backward already gives ∂ℓ/∂z of the output layer

    def forward(self, a, y) -> float:
        raise NotImplementedError

    def backward(self, a, y) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self):
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    """ℓ = mean over the k outputs of (a − y)²;  ∂ℓ/∂a = 2·(a − y) / k.

    This is seed 001's ``mse`` / ``mse_prime`` (``2*(y_pred-y_true)/y_true.size``).
    """

    name = "mse"

    def forward(self, a, y):
        return float(np.mean((a - y) ** 2))

    def backward(self, a, y):
        return 2.0 * (a - y) / a.shape[1]


class SumSquaredError(Loss):
    """ℓ = Σ over the k outputs of (a − y)²;  ∂ℓ/∂a = 2·(a − y).

    Seed 000's convention: its backward pass starts from ``dA = 2 * (prediction - target)``
    and divides by m only in dW. It is MSE without the 1/k, i.e. a k-times larger step.
    """

    name = "mse_sum"

    def forward(self, a, y):
        return float(np.sum((a - y) ** 2)) / len(a)   # Σ over outputs, mean over samples

    def backward(self, a, y):
        return 2.0 * (a - y)


class BinaryCrossEntropy(Loss):
    """Seed 003's loss on a sigmoid output ŷ ∈ (0, 1) and labels y ∈ {0, 1}:

        ℓ = −( y·ln ŷ + (1 − y)·ln(1 − ŷ) )
        ∂ℓ/∂ŷ = −( y/ŷ − (1 − y)/(1 − ŷ) )

    Through the sigmoid's σ'(z) = ŷ(1 − ŷ) this becomes δ = ŷ − y. ŷ is clipped away
    from 0 and 1 so neither the log nor the division can blow up.
    """

    name = "binary_cross_entropy"
    output_activation = "sigmoid"

    def forward(self, a, y):
        p = _clip_probabilities(a)
        return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))

    def backward(self, a, y):
        p = _clip_probabilities(a)
        return -(y / p - (1.0 - y) / (1.0 - p))


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy on a softmax output, fused with it (seed 002).

        ℓ = −ln p_y                 (p = softmax(z), y the one-hot target)
        δ = ∂ℓ/∂z = p − y

    The softmax Jacobian and the log's derivative cancel, so ``backward`` returns δ for
    the output layer directly (``returns_delta``); seed 002 writes it
    ``(output_probs - labels_onehot) / m`` and the /m happens in ``Dense.backward``.
    """

    name = "softmax_cross_entropy"
    output_activation = "softmax"
    returns_delta = True

    def forward(self, a, y):
        p = _clip_probabilities(a)
        return -float(np.sum(y * np.log(p))) / len(a)   # Σ over classes, mean over samples

    def backward(self, a, y):
        return a - y


LOSSES = {cls.name: cls for cls in (MeanSquaredError, SumSquaredError, BinaryCrossEntropy,
                                    SoftmaxCrossEntropy)}
ALIASES = {"cross_entropy": "softmax_cross_entropy", "categorical_cross_entropy":
           "softmax_cross_entropy", "bce": "binary_cross_entropy", "mean_squared_error": "mse"}


def get_loss(name: str | Loss) -> Loss:
    if isinstance(name, Loss):
        return name
    key = str(name).strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}: expected one of {', '.join(LOSSES)}.")
    return LOSSES[key]()


def l2_penalty(weights, lam: float) -> float:
    """Seed 002's weight decay: ½·λ·Σ W² over every weight matrix (biases are not decayed).
    Its gradient, λ·W, is added to each dW by the network."""
    return 0.5 * lam * float(sum(np.sum(W * W) for W in weights))
