"""Max pooling: keep the largest value of each small window, shrinking the feature maps."""

from __future__ import annotations

import numpy as np

from .base import Layer, whole_number
from .im2col import conv_output_size


class MaxPool2D(Layer):
    """Max over p×p windows of each channel, windows ``stride`` apart (default: p, no overlap).

    Forward, for an input batch X of shape (m, C, H, W)::

        Y[n, c, y, x] = max_{0 ≤ i, j < p}  X[n, c, y·s + i, x·s + j]
        Y: (m, C, OH, OW),  OH = (H − p) // s + 1,  OW = (W − p) // s + 1

    Pooling has no parameters. It halves the height and width (p = s = 2), so the layers
    after it do a quarter of the work, and a feature found anywhere in a window gives the
    same output: a little tolerance to small shifts.

    Backward: each output is a copy of its window's largest input, so its gradient goes
    entirely to that position; the other positions did not affect the output and get 0::

        ∂L/∂X[n, c, y·s + i*, x·s + j*] += ∂L/∂Y[n, c, y, x]     (i*, j*) = window argmax

    When several positions tie for the maximum, the first one (row by row) is the single
    winner, so the gradient is not counted twice.

    When the windows do not tile the input exactly (e.g. 7 rows, p = s = 2), the last rows
    and columns that fit no window are dropped, as in Keras and PyTorch ("floor" mode), and
    receive no gradient.

    The loops below run over the p×p positions inside a window (4 for p = 2); each step
    handles that position of every window of the batch at once.
    """

    def __init__(self, pool_size: int = 2, stride: int | None = None):
        self.pool_size = whole_number("MaxPool2D", "pool_size", pool_size)
        self.stride = (self.pool_size if stride is None
                       else whole_number("MaxPool2D", "stride", stride))

    # --- shapes -------------------------------------------------------------------
    def output_shape(self, input_shape):
        """(C, OH, OW) for one input of shape (C, H, W); a clear ValueError otherwise."""
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"MaxPool2D expects images of shape (C, H, W) (channels first), "
                             f"got per-sample shape {input_shape}.")
        C, H, W = input_shape
        p = self.pool_size
        if p > H or p > W:
            raise ValueError(f"MaxPool2D: the {p}×{p} window is larger than the {H}×{W} "
                             "feature maps it pools.")
        return (C, conv_output_size(H, p, self.stride, 0), conv_output_size(W, p, self.stride, 0))

    def _window_slices(self, OH, OW):
        """(k, slice) for every position (i, j) of the window: the slice picks position
        (i, j) of every window of the batch at once."""
        p, s = self.pool_size, self.stride
        return [(i * p + j, (slice(None), slice(None), slice(i, i + s * OH, s),
                             slice(j, j + s * OW, s)))
                for i in range(p) for j in range(p)]

    # --- forward and backward ---------------------------------------------------
    def forward(self, x, training=False):
        if x.ndim != 4:
            raise ValueError(f"MaxPool2D expects a batch of shape (m, C, H, W) (channels "
                             f"first), got an array of shape {x.shape}.")
        C, OH, OW = self.output_shape(x.shape[1:])
        windows = self._window_slices(OH, OW)
        best = x[windows[0][1]].copy()                      # (m, C, OH, OW)
        # Which of the p·p positions won: 0 … p²−1 (uint8 unless the window is huge).
        argmax = np.zeros(best.shape, np.uint8 if len(windows) <= 256 else np.int32)
        for k, where in windows[1:]:
            candidate = x[where]
            won = candidate > best       # strictly greater: on a tie the earlier position stays
            np.maximum(best, candidate, out=best)
            argmax += won * (k - argmax)   # k where it won, unchanged elsewhere (k > argmax)
        self.x_shape, self.argmax = x.shape, argmax
        return best

    def backward(self, grad):
        OH, OW = grad.shape[2:]
        dx = np.zeros(self.x_shape, dtype=grad.dtype)
        overlap = self.stride < self.pool_size
        for k, where in self._window_slices(OH, OW):
            # Route each window's gradient to its winner (0 to the other positions).
            if overlap:      # a pixel in several windows collects from each of them
                dx[where] += grad * (self.argmax == k)
            else:            # each pixel is in one window at most: write in place
                np.multiply(grad, self.argmax == k, out=dx[where])
        return dx

    # --- description ------------------------------------------------------------
    def get_config(self):
        return {"type": "MaxPool2D", "pool_size": self.pool_size, "stride": self.stride}
