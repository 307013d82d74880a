"""Flatten and Reshape: change how each sample's numbers are arranged, not the numbers.

Neither layer computes anything, so the backward pass only undoes the rearrangement:
∂L/∂x is ∂L/∂y put back into the input's shape (every output number *is* an input number).
"""

from __future__ import annotations

import numpy as np

from .base import Layer


class Flatten(Layer):
    """(m, C, H, W) feature maps → (m, C·H·W) rows, so Dense layers can follow a Conv2D.

    The order is row-major: channel by channel, each channel row by row.
    """

    def forward(self, x, training=False):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad):
        return grad.reshape(self.x_shape)

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Reshape(Layer):
    """Give each sample the shape ``target_shape``, e.g. 784 pixels → (1, 28, 28).

    As the first layer of a convolutional network it turns the flat rows every data set in
    nncore provides (one 784-number row per MNIST digit) into one-channel images, and its
    ``input_shape`` — the flat width (784,) — tells the Network how wide its inputs are.
    """

    def __init__(self, target_shape):
        try:
            shape = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise ValueError(f"Reshape: target_shape must be a tuple of sizes such as "
                             f"(1, 28, 28), got {target_shape!r}.") from None
        if not shape or any(d < 1 for d in shape):
            raise ValueError(f"Reshape: every size in target_shape must be ≥ 1, got "
                             f"{target_shape!r}.")
        self.target_shape = shape
        self.input_shape = (int(np.prod(shape)),)

    def forward(self, x, training=False):
        self.output_shape(x.shape[1:])      # refuses a sample of the wrong size
        self.x_shape = x.shape
        return x.reshape((x.shape[0],) + self.target_shape)

    def backward(self, grad):
        return grad.reshape(self.x_shape)

    def output_shape(self, input_shape):
        size = int(np.prod(input_shape))
        if size != self.input_shape[0]:
            raise ValueError(f"Reshape to {self.target_shape} needs {self.input_shape[0]} "
                             f"numbers per sample, got {size} (shape {tuple(input_shape)}).")
        return self.target_shape

    def get_config(self):
        return {"type": "Reshape", "target_shape": list(self.target_shape)}
