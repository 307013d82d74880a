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

    The loops in ``forward`` and ``backward`` run over the p×p positions inside a window
    (4 for p = 2); each step handles that position of every window of the batch at once,
    and ``argmax`` remembers which position won each window.

    For the usual 2×2 windows two apart there is a fast path (``fast_path``, at the end of
    the class): the same maxima and the same winners from two reshapes instead of the
    loop. ``fast = False`` turns it off; ``tests/engine/test_conv.py`` checks it against
    the loop.
    """

    fast = True     # the 2×2 fast path where it applies (False: the loop, always)

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
        self.x_shape = x.shape
        if self.fast_path:                    # the same Y, without the loop (see below)
            return self._forward_2x2(x, OH, OW)
        windows = self._window_slices(OH, OW)
        best = x[windows[0][1]].copy()                      # (m, C, OH, OW)
        # Which of the p·p positions won: 0 … p²−1 (uint8 unless the window is huge).
        argmax = np.zeros(best.shape, np.uint8 if len(windows) <= 256 else np.int32)
        for k, where in windows[1:]:
            candidate = x[where]                            # (m, C, OH, OW)
            won = candidate > best       # strictly greater: on a tie the earlier position stays
            np.maximum(best, candidate, out=best)
            argmax += won * (k - argmax)   # k where it won, unchanged elsewhere (k > argmax)
        self.argmax = argmax
        return best                                         # Y: (m, C, OH, OW)

    def backward(self, grad):
        """∂L/∂X (m, C, H, W) from ∂L/∂Y (m, C, OH, OW)."""
        if self.argmax is None:               # forward took the fast path
            return self._backward_2x2(grad)
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

    # --- the fast path: 2×2 windows two apart -------------------------------------
    @property
    def fast_path(self) -> bool:
        """Whether forward takes the 2×2 fast path: ``fast`` on, 2×2 windows, stride 2."""
        return self.fast and self.pool_size == self.stride == 2

    def _forward_2x2(self, x, OH, OW):
        """Y for 2×2 windows two apart, without the loop. The maximum of a window is the
        larger of its two rows' maxima, so the windows are two 2-way maxima, each over
        neighbours that a reshape lines up::

            pairs = X.reshape(m, C, H, W/2, 2):         row_max = max(left, right)
            rows  = row_max.reshape(m, C, H/2, 2, W/2): Y = max(top, bottom)

        The first maximum, row by row, wins a tie, as in the loop: the right one wins only
        when it is strictly larger than the left one, the bottom row only when its maximum
        is strictly larger than the top row's. ``right_won`` and ``bottom_won`` keep the
        winners for backward (``argmax`` is None)."""
        m, C = x.shape[:2]
        x = x[:, :, :2 * OH, :2 * OW]        # an odd last row or column fits no window
        pairs = x.reshape(m, C, 2 * OH, OW, 2)
        left, right = pairs[..., 0], pairs[..., 1]
        self.right_won = right > left                          # (m, C, 2·OH, OW)
        rows = np.maximum(left, right).reshape(m, C, OH, 2, OW)
        top, bottom = rows[:, :, :, 0], rows[:, :, :, 1]
        self.bottom_won = bottom > top                         # (m, C, OH, OW)
        self.argmax = None
        return np.maximum(top, bottom)                         # Y: (m, C, OH, OW)

    def _backward_2x2(self, grad):
        """The fast path's backward: ∂L/∂Y to the winning row of each window, then to the
        winning column of that row; 0 everywhere else."""
        m, C, OH, OW = grad.shape
        rows = np.empty((m, C, OH, 2, OW), dtype=grad.dtype)
        np.multiply(grad, ~self.bottom_won, out=rows[:, :, :, 0])
        np.multiply(grad, self.bottom_won, out=rows[:, :, :, 1])
        row_grad = rows.reshape(m, C, 2 * OH, OW)
        pairs = np.empty((m, C, 2 * OH, OW, 2), dtype=grad.dtype)
        np.multiply(row_grad, ~self.right_won, out=pairs[..., 0])
        np.multiply(row_grad, self.right_won, out=pairs[..., 1])
        dx = pairs.reshape(m, C, 2 * OH, 2 * OW)
        H, W = self.x_shape[2:]
        if (H, W) != (2 * OH, 2 * OW):      # rows and columns in no window get 0
            dx = np.pad(dx, ((0, 0), (0, 0), (0, H - 2 * OH), (0, W - 2 * OW)))
        return dx

    # --- description ------------------------------------------------------------
    def get_config(self):
        return {"type": "MaxPool2D", "pool_size": self.pool_size, "stride": self.stride}
