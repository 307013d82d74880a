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

    Z = W.reshape(F, C·kh·kw) @ cols     (m, F, OH·OW)  one matrix product for the batch

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

``PatchColumns`` wraps these two functions for ``Conv2D``. ``ShiftedColumns`` is its fast
path for stride 1: the same columns, laid out so that each of the kh·kw copies is one long
contiguous slice rather than m·C·OH short ones (see its docstring).
``tests/engine/test_conv.py`` checks one against the other.
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
    xp = pad_images(x, padding)
    cols = np.empty((m, C, kh, kw, OH, OW), dtype=x.dtype)
    for i in range(kh):             # loop over the kh·kw kernel offsets only:
        for j in range(kw):         # each step copies one pixel of every patch at once
            cols[:, :, i, j] = xp[:, :, i:i + s * OH:s, j:j + s * OW:s]
    return cols.reshape(m, C * kh * kw, OH * OW)


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
    dxp = np.zeros((m, C, H + 2 * p, W + 2 * p), dtype=cols.dtype)
    for i in range(kh):             # the same kh·kw offsets as im2col, with += instead of =:
        for j in range(kw):         # overlapping patches add up their contributions
            dxp[:, :, i:i + s * OH:s, j:j + s * OW:s] += cols[:, :, i, j]
    if p == 0:
        return dxp
    return dxp[:, :, p:p + H, p:p + W]      # the padding is not an input: drop its gradient


class PatchColumns:
    """The plain layout, for any stride and padding: one block of columns per image.

        cols = im2col(x)                   (m, C·kh·kw, OH·OW)
        Z    = W_col · cols                (m, F, OH·OW)   one product per image
    """

    def __init__(self, x_shape, kh, kw, stride, padding):
        self.x_shape, self.kh, self.kw, self.stride, self.padding = x_shape, kh, kw, stride, padding
        m, C, H, W = x_shape
        self.OH, self.OW = conv_output_size(H, kh, stride, padding), conv_output_size(W, kw, stride, padding)

    def im2col(self, x):
        return im2col(x, self.kh, self.kw, self.stride, self.padding)

    def empty_cols(self, dtype):
        m, C = self.x_shape[:2]
        return np.empty((m, C * self.kh * self.kw, self.OH * self.OW), dtype=dtype)

    def to_images(self, z):
        """(m, F, OH·OW) → (m, F, OH, OW)."""
        return z.reshape(len(z), -1, self.OH, self.OW)

    def from_images(self, delta):
        """(m, F, OH, OW) → (m, F, OH·OW), the layout of Z."""
        return delta.reshape(delta.shape[0], delta.shape[1], -1)

    def col2im(self, dcols):
        return col2im(dcols, self.x_shape, self.kh, self.kw, self.stride, self.padding)


class ShiftedColumns:
    """The fast path for stride 1: each row of the columns is one shifted copy of the
    batch's padded images, laid end to end.

    Pad every image (Hp = H + 2p rows, Wp = W + 2p columns), lay it flat, and put the m
    images of the batch end to end, channel by channel::

        xp (C, m·Hp·Wp)            column q = n·Hp·Wp + y·Wp + x is pixel (y, x) of image n

    With stride 1, pixel (i, j) of the patch whose top-left corner is at q is
    xp[c, q + i·Wp + j]: every row of the column matrix is the same xp, shifted::

        cols[(c, i, j), q] = xp[c, q + i·Wp + j]        (C·kh·kw, m·Hp·Wp)

    so im2col is kh·kw copies of C long rows (``im2col`` copies m·C·OH short ones for each
    offset), and col2im kh·kw additions of them. Row (c, i, j) is in ``im2col``'s (channel,
    row, column) order, so W_col is the same matrix; image n's block of columns,
    cols[:, n·Hp·Wp : (n+1)·Hp·Wp], is a view, and Z = W_col · cols is one product per
    image, (m, F, Hp·Wp), as in ``PatchColumns``.

    Every pixel of a padded image gets a column, so a block has Hp·Wp columns, not OH·OW:
    a column whose patch would run over the right or bottom edge of its image (x > Wp − kw
    or y > Hp − kh) is no output. It is computed, then cut away by ``to_images``, and
    ``from_images`` gives it δ = 0, so it adds nothing to dW or dX. ``tail`` zeros after
    the last image keep its largest shift inside the array.
    """

    def __init__(self, x_shape, kh, kw, padding):
        self.x_shape, self.kh, self.kw, self.padding = x_shape, kh, kw, padding
        m, C, H, W = x_shape
        self.Hp, self.Wp = H + 2 * padding, W + 2 * padding
        self.OH, self.OW = self.Hp - kh + 1, self.Wp - kw + 1
        self.n = m * self.Hp * self.Wp                    # columns: every pixel of every xp
        self.tail = (kh - 1) * self.Wp + kw - 1           # the largest shift

    def _shifts(self):
        """(i, j, shift) for every pixel (i, j) of the kernel."""
        return [(i, j, i * self.Wp + j) for i in range(self.kh) for j in range(self.kw)]

    def _rows(self, channels, dtype, fill=None):
        """(channels, m·Hp·Wp + tail) long rows, zeros if ``fill`` is 0."""
        shape = (channels, self.n + self.tail)
        return np.zeros(shape, dtype) if fill == 0 else np.empty(shape, dtype)

    def _images(self, rows):
        """The (channels, m, Hp, Wp) images inside long rows (a view)."""
        return rows[:, :self.n].reshape(len(rows), self.x_shape[0], self.Hp, self.Wp)

    def _blocks(self, rows):
        """Long rows seen as one (rows, Hp·Wp) block per image: (m, rows, Hp·Wp), a view."""
        m = self.x_shape[0]
        return rows[:, :self.n].reshape(len(rows), m, -1).transpose(1, 0, 2)

    def _unblock(self, blocks):
        """The long rows of ``_blocks`` again (without the tail): (rows, m·Hp·Wp), a view."""
        return blocks.transpose(1, 0, 2).reshape(blocks.shape[1], self.n)

    def im2col(self, x):
        """x (m, C, H, W) → cols: (m, C·kh·kw, Hp·Wp) blocks of the long rows."""
        m, C, H, W = x.shape
        p = self.padding
        xp = self._rows(C, x.dtype, fill=0)
        self._images(xp)[:, :, p:p + H, p:p + W] = x.transpose(1, 0, 2, 3)
        cols = self._rows(C * self.kh * self.kw, x.dtype)
        by_offset = cols.reshape(C, self.kh, self.kw, -1)
        for i, j, shift in self._shifts():       # one long copy per channel and kernel pixel
            by_offset[:, i, j, :self.n] = xp[:, shift:shift + self.n]
        return self._blocks(cols)

    def empty_cols(self, dtype):
        C = self.x_shape[1]
        return self._blocks(self._rows(C * self.kh * self.kw, dtype))

    def to_images(self, z):
        """(m, F, Hp·Wp) → (m, F, OH, OW): keep the columns that are outputs."""
        images = z.reshape(len(z), -1, self.Hp, self.Wp)[:, :, :self.OH, :self.OW]
        return np.ascontiguousarray(images)

    def from_images(self, delta):
        """(m, F, OH, OW) → (m, F, Hp·Wp), with δ = 0 in the columns that are no outputs."""
        m, F = delta.shape[:2]
        d = np.zeros((m, F, self.Hp, self.Wp), dtype=delta.dtype)
        d[:, :, :self.OH, :self.OW] = delta
        return d.reshape(m, F, -1)

    def col2im(self, dcols):
        """dcols (the blocks ``empty_cols`` gives) → dX (m, C, H, W): each shifted copy
        adds its gradient back where it was copied from."""
        m, C, H, W = self.x_shape
        p = self.padding
        by_offset = self._unblock(dcols).reshape(C, self.kh, self.kw, self.n)
        dxp = self._rows(C, dcols.dtype, fill=0)
        for i, j, shift in self._shifts():
            dxp[:, shift:shift + self.n] += by_offset[:, i, j]
        images = self._images(dxp)[:, :, p:p + H, p:p + W]          # the padding is no input
        return np.ascontiguousarray(images.transpose(1, 0, 2, 3))


__all__ = ["conv_output_size", "pad_images", "im2col", "col2im", "PatchColumns",
           "ShiftedColumns"]
