"""The 2-D convolutional layer: small filters slid over an image, Z = W ⋆ X + b, A = σ(Z)."""

from __future__ import annotations

import numpy as np

from ..initializers import initialize
from .base import WeightedLayer, whole_number
from .fast_columns import ShiftedColumns
from .im2col import col2im, conv_output_size, im2col


def kernel_pair(layer: str, kernel_size) -> tuple[int, int]:
    """``3`` → (3, 3); ``(3, 5)`` → (3, 5); anything else is a ValueError."""
    if isinstance(kernel_size, (list, tuple)):
        if len(kernel_size) != 2:
            raise ValueError(f"{layer}: kernel_size must be one number or (height, width), "
                             f"got {kernel_size!r}.")
        return tuple(whole_number(layer, "kernel_size", k) for k in kernel_size)
    k = whole_number(layer, "kernel_size", kernel_size)
    return k, k


class Conv2D(WeightedLayer):
    """Convolution of a batch of images with ``out_channels`` learned filters.

    Images are channels first: an input batch has shape (m, C, H, W) — m images, C
    channels (1 for grey MNIST digits, or the feature maps of the layer before), H rows,
    W columns. Each of the F = ``out_channels`` filters is a (C, kh, kw) block of weights;
    at every position it covers a kh×kw patch of all C channels, multiplies element-wise and
    sums — the *cross-correlation* that deep-learning libraries call convolution::

        Z[n, f, y, x] = b[f] + Σ_c Σ_i Σ_j  W[f, c, i, j] · Xp[n, c, y·s + i, x·s + j]
        A = σ(Z)                      A: (m, F, OH, OW),  OH = (H + 2p − kh) // s + 1

    where Xp is X with p rows/columns of zeros around it (``padding``) and s the ``stride``.
    The same filter is used at every position (weight sharing), so a 3×3 filter on a 1-channel
    image has 9 weights and a bias however large the image is — and it finds its pattern
    (an edge, a stroke end) wherever it is.

    Computed with im2col (see ``im2col.py``): every patch becomes a column of
    ``cols`` (m, C·kh·kw, OH·OW), and then, for the whole batch, one matrix product::

        Z = W_col · cols + b          W_col = W.reshape(F, C·kh·kw)

    Backward, given dA = ∂L/∂A, exactly as in ``Dense`` with ``cols`` in the role of a_prev::

        δ      = dA ∘ σ'(Z)                       the error signal, (m, F, OH, OW)
        dW     = Σ_n δ_n · cols_nᵀ / m            batch mean, reshaped to (F, C, kh, kw)
        db     = Σ_{n, y, x} δ / m                each bias touches every output pixel
        dcols  = W_colᵀ · δ                       gradient of each patch copy
        dX     = col2im(dcols)                    copies of one pixel add up

    (dW is the correlation of the input with δ; dX is the *full convolution* of δ with the
    filters — ``tests/engine/test_conv.py`` checks both against ``scipy.signal``.)

    ``forward`` and ``backward`` below are these equations, line by line. For stride 1 and
    more than one input channel they take a fast path (``fast_path``): the same Z, dW and
    dX from the same W_col, with the columns laid out by ``fast_columns.ShiftedColumns``
    so that they are copied faster; each place where it differs is a marked branch.
    ``fast = False`` turns it off, and the tests check one path against the other.

    Parameters
    ----------
    in_channels, out_channels : C and F.
    kernel_size : k for a k×k filter, or (kh, kw).
    stride : step s between neighbouring positions of the filter (both directions).
    padding : rows/columns of zeros added on every side, or "same" (k // 2 for an odd
        kernel: with stride 1 the output keeps the input's height and width) or "valid" (0).
    activation : σ, as for Dense ("relu", "tanh", "linear", …).
    init : "he", "glorot", … as for Dense, with fan-in C·kh·kw (the inputs one output pixel
        sums over) and fan-out F; None picks He for ReLU-like activations, else Glorot.
    seed : seeds the initial filters when the layer is used on its own.

    The learned filters are ``layer.W`` (F, C, kh, kw): ``layer.W[f, 0]`` is the kh×kw image
    filter f looks for in the first input channel.
    """

    fast = True     # the fast path where it applies (False: im2col always)

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride: int = 1,
                 padding=0, activation="linear", init: str | None = None,
                 seed: int | None = None, dtype=np.float32):
        self.in_channels = whole_number("Conv2D", "in_channels", in_channels)
        self.out_channels = whole_number("Conv2D", "out_channels", out_channels)
        self.kh, self.kw = kernel_pair("Conv2D", kernel_size)
        self.stride = whole_number("Conv2D", "stride", stride)
        if padding in ("same", "valid"):
            if padding == "same" and (self.kh % 2 == 0 or self.kw % 2 == 0):
                raise ValueError(f"Conv2D: padding='same' needs an odd kernel size (so the "
                                 f"padding is equal on both sides), got {self.kh}×{self.kw}.")
            if self.kh != self.kw and padding == "same":
                raise ValueError("Conv2D: padding='same' needs a square kernel; give the "
                                 "padding as a number instead.")
            padding = self.kh // 2 if padding == "same" else 0
        self.padding = whole_number("Conv2D", "padding", padding, minimum=0)
        self._set_activation_and_init(activation, init)
        self.initialize(np.random.default_rng(seed), dtype)

    # --- parameters -------------------------------------------------------------
    def initialize(self, rng, dtype=np.float32):
        C, F, kh, kw = self.in_channels, self.out_channels, self.kh, self.kw
        # A filter applied to one patch is a Dense layer from C·kh·kw inputs to F outputs,
        # so the Dense initialisations apply as they are: draw (C·kh·kw, F), then lay each
        # column out as a (C, kh, kw) filter.
        W_col, b = initialize(self.init, rng, C * kh * kw, F, dtype)
        self._set_parameters(np.ascontiguousarray(W_col.T).reshape(F, C, kh, kw), b)

    # --- shapes -------------------------------------------------------------------
    def output_shape(self, input_shape):
        """(F, OH, OW) for one image of shape (C, H, W); a clear ValueError otherwise."""
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                f"Conv2D expects images of shape (C, H, W) = ({self.in_channels}, H, W) "
                f"(channels first), got per-sample shape {input_shape}. Flat inputs need a "
                "Reshape layer first, e.g. Reshape((1, 28, 28)) for MNIST."
            )
        C, H, W = input_shape
        if C != self.in_channels:
            raise ValueError(f"Conv2D expects {self.in_channels} input channel"
                             f"{'s' if self.in_channels > 1 else ''}, got {C} (image shape "
                             f"{input_shape}, channels first).")
        p = self.padding
        if self.kh > H + 2 * p or self.kw > W + 2 * p:
            raise ValueError(f"Conv2D: the {self.kh}×{self.kw} kernel is larger than the "
                             f"padded input, {H + 2 * p}×{W + 2 * p} ({H}×{W} with padding "
                             f"{p}).")
        return (self.out_channels, conv_output_size(H, self.kh, self.stride, p),
                conv_output_size(W, self.kw, self.stride, p))

    # --- forward and backward ---------------------------------------------------
    def forward(self, x, training=False):
        """A = σ(W_col · cols + b) for a batch X (m, C, H, W): (m, F, OH, OW)."""
        if x.ndim != 4:
            raise ValueError(
                f"Conv2D expects a batch of shape (m, C, H, W) = (m, {self.in_channels}, H, W) "
                f"(channels first), got an array of shape {x.shape}. Flat inputs need a "
                "Reshape layer first, e.g. Reshape((1, 28, 28)) for MNIST."
            )
        m, (F, OH, OW) = len(x), self.output_shape(x.shape[1:])
        W_col = self.W.reshape(F, -1)                     # (F, C·kh·kw): filter f is row f
        self.shifted = (ShiftedColumns(x.shape, self.kh, self.kw, self.padding)
                        if self.fast_path else None)      # None: the plain path
        if self.shifted is None:
            cols = im2col(x, self.kh, self.kw, self.stride, self.padding)  # (m, C·kh·kw, OH·OW)
            z = np.matmul(W_col, cols).reshape(m, F, OH, OW)  # Z = W_col · cols: (m, F, OH, OW)
        else:       # the fast path: a column for every pixel of Xp, then the outputs kept
            cols = self.shifted.im2col(x)                                  # (m, C·kh·kw, Hp·Wp)
            z = self.shifted.to_images(np.matmul(W_col, cols))  # (m, F, Hp·Wp) → (m, F, OH, OW)
        z += self.b[:, None, None]                        # + b[f] at every pixel
        a = self.activation.forward(z)                    # A = σ(Z): (m, F, OH, OW)
        # Keep the patches for backward while training; at inference keep only x (the
        # previous layer holds it anyway) so predicting thousands of images at once does
        # not hold C·kh·kw copies of each of them. backward rebuilds cols when needed.
        self.x, self.cols, self.z, self.a = x, (cols if training else None), z, a
        return a

    def backward(self, dA, dA_is_delta: bool = False):
        """Return dX (or None for the first layer while training, see ``skip_input_gradient``)."""
        m, F = dA.shape[:2]
        delta = dA if dA_is_delta else self.activation.backward(dA, self.z, self.a)
        self.delta = delta                # δ = dA ∘ σ'(Z): (m, F, OH, OW), kept for nncore.trace
        W_col, cols = self.W.reshape(F, -1), self.cols    # cols is None after inference
        if self.shifted is None:
            if cols is None:                              # again: (m, C·kh·kw, OH·OW)
                cols = im2col(self.x, self.kh, self.kw, self.stride, self.padding)
            d = delta.reshape(m, F, -1)                   # δ laid out as Z was: (m, F, OH·OW)
        else:       # the fast path: δ = 0 in the columns that are no outputs
            if cols is None:                              # again: (m, C·kh·kw, Hp·Wp)
                cols = self.shifted.im2col(self.x)
            d = self.shifted.from_images(delta)           # (m, F, Hp·Wp)
        # dW = Σ_n δ_n · cols_nᵀ / m: one (F, C·kh·kw) product per image, summed over the batch
        np.sum(np.matmul(d, cols.transpose(0, 2, 1)), axis=0, out=self.dW.reshape(F, -1))
        self.dW /= m
        np.sum(delta.sum(axis=0), axis=(1, 2), out=self.db)   # db = Σ_{n,y,x} δ / m: (F,)
        self.db /= m
        if self.skip_input_gradient:
            return None
        if self.shifted is None:
            dcols = np.matmul(W_col.T, d)                 # W_colᵀ · δ: (m, C·kh·kw, OH·OW)
            return col2im(dcols, self.x.shape, self.kh, self.kw, self.stride,
                          self.padding)                   # dX: (m, C, H, W)
        dcols = np.matmul(W_col.T, d, out=self.shifted.empty_cols(d.dtype))  # (m, C·kh·kw, Hp·Wp)
        return self.shifted.col2im(dcols)                 # dX: (m, C, H, W)

    # --- the fast path --------------------------------------------------------------
    @property
    def fast_path(self) -> bool:
        """Whether forward takes the fast path (``fast_columns.py``): ``fast`` on, stride 1
        and more than one input channel. With one input channel (a first layer on grey
        images) im2col's copies are long enough already, and measured faster than the fast
        path's extra columns."""
        return self.fast and self.stride == 1 and self.in_channels > 1

    # --- description ------------------------------------------------------------
    def get_config(self):
        kernel = self.kh if self.kh == self.kw else [self.kh, self.kw]
        return {"type": "Conv2D", "in_channels": self.in_channels,
                "out_channels": self.out_channels, "kernel_size": kernel,
                "stride": self.stride, "padding": self.padding,
                "activation": self.activation.name, "init": self.init}
