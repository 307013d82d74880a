"""im2col and col2im: a convolution turned into one matrix product.

A convolution slides a small filter over the image and, at every output pixel, takes the
dot product of the filter with the patch of the image under it. Written as loops that is
six nested ``for``s — far too slow in Python. The trick every framework uses is to first
*copy every patch into a column* of a matrix (image → columns, "im2col"); then all the
dot products of all the filters with all the patches are a single matrix product, which
NumPy hands to an optimised BLAS routine.

Shapes (channels first, as in PyTorch)::

    x     (m, C, H, W)          m images of C channels, H rows, W columns
    W     (F, C, kh, kw)        F filters, each spanning all C channels
    cols  (m, C·kh·kw, OH·OW)   per image: one column per output pixel, holding its patch

with the output size, for zero-padding p and stride s::

    OH = (H + 2p − kh) // s + 1          OW = (W + 2p − kw) // s + 1

Row (c, i, j) of ``cols`` — read in that order — holds pixel (i, j) of the patch in
channel c, exactly the order of ``W.reshape(F, C·kh·kw)``, so the convolution is

    Z = W.reshape(F, C·kh·kw) @ cols     (m, F, OH·OW)  one np.matmul: a product per image

How the columns are filled: rather than loop over the m·OH·OW patches, loop over the
kh·kw *offsets* (i, j) inside the kernel. For a fixed offset, the pixels that sit at (i, j)
in every patch form the strided slice ``x_padded[:, :, i : i + s·OH : s, j : j + s·OW : s]``
— one vectorised copy of m·C·OH·OW numbers. So a 3×3 kernel costs 9 large copies, whatever
the batch or image size. (That short loop over kernel offsets is the usual way to write it;
there is no loop over samples or pixels.)

col2im is the way back. In the backward pass we get ∂L/∂cols, and every entry of ``cols``
is a copy of one input pixel, so ∂L/∂x of a pixel is the *sum* of the gradients of all its
copies — a pixel belongs to up to kh·kw overlapping patches. The same loop over offsets
adds each slice back (``+=``) where it was copied from; finally the padding is cut off,
since the zeros around the image are not inputs.

``Conv2D`` (``conv.py``) computes its forward and backward passes with these two
functions. For stride 1 and more than one input channel it has a fast path,
``fast_columns.py``: the same columns, laid out so that each of the kh·kw copies is one
long slice rather than m·C·OH short ones. It adds speed, not ideas;
``tests/engine/test_conv.py`` checks that it gives what these functions give.
"""

from __future__ import annotations

import numpy as np


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length along one axis: (size + 2·padding − kernel) // stride + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def pad_images(x: np.ndarray, padding: int) -> np.ndarray:
    """Surround every channel of every image with ``padding`` rows and columns of zeros."""
    if padding == 0:
        return x
    p = padding
    m, C, H, W = x.shape
    xp = np.zeros((m, C, H + 2 * p, W + 2 * p), dtype=x.dtype)
    xp[:, :, p:p + H, p:p + W] = x
    return xp


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Copy every kh×kw patch of ``x`` (m, C, H, W) into the columns of (m, C·kh·kw, OH·OW).

    Column ``oh·OW + ow`` of image n holds the patch whose top-left corner is at
    (oh·stride, ow·stride) of the zero-padded image, in (channel, row, column) order.
    """
    m, C, H, W = x.shape
    s = stride
    OH, OW = conv_output_size(H, kh, s, padding), conv_output_size(W, kw, s, padding)
    xp = pad_images(x, padding)                             # (m, C, H + 2p, W + 2p)
    cols = np.empty((m, C, kh, kw, OH, OW), dtype=x.dtype)
    for i in range(kh):             # loop over the kh·kw kernel offsets only:
        for j in range(kw):         # each step copies one pixel of every patch at once
            cols[:, :, i, j] = xp[:, :, i:i + s * OH:s, j:j + s * OW:s]      # (m, C, OH, OW)
    return cols.reshape(m, C * kh * kw, OH * OW)            # rows in (c, i, j) order


def col2im(cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1,
           padding: int = 0) -> np.ndarray:
    """The adjoint of ``im2col``: add every column entry back onto the pixel it came from.

    ``cols`` has the shape im2col returns, (m, C·kh·kw, OH·OW); the result has ``x_shape``
    (m, C, H, W). A pixel copied into several patches receives the sum of their gradients.
    """
    m, C, H, W = x_shape
    s, p = stride, padding
    OH, OW = conv_output_size(H, kh, s, p), conv_output_size(W, kw, s, p)
    cols = cols.reshape(m, C, kh, kw, OH, OW)
    dxp = np.zeros((m, C, H + 2 * p, W + 2 * p), dtype=cols.dtype)         # ∂L/∂Xp
    for i in range(kh):             # the same kh·kw offsets as im2col, with += instead of =:
        for j in range(kw):         # overlapping patches add up their contributions
            dxp[:, :, i:i + s * OH:s, j:j + s * OW:s] += cols[:, :, i, j]  # (m, C, OH, OW)
    if p == 0:
        return dxp
    return dxp[:, :, p:p + H, p:p + W]      # the padding is not an input: drop its gradient


__all__ = ["conv_output_size", "pad_images", "im2col", "col2im"]
