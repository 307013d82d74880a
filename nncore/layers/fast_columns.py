"""The fast path of Conv2D: the columns of ``im2col.py``, laid out so they are copied faster.

Read ``im2col.py`` and ``conv.py`` first: they hold the equations, and this file computes
exactly the same Z, dW and dX (``tests/engine/test_conv.py`` checks it against them). It
is only about speed, and Conv2D uses it only where it was measured faster: stride 1 and
more than one input channel (``Conv2D.fast_path``; ``Conv2D.fast = False`` turns it off).

Why: for each of the kh·kw kernel offsets, ``im2col`` copies a strided slice made of
m·C·OH short rows of OW numbers each (OW = 14 in the mnist-cnn preset's second layer);
here each offset is C long rows of m·Hp·Wp numbers. (``benchmarks/cnn_parts.py`` times
this layout's im2col against one contiguous copy of the same bytes.)

The shifted layout: pad every image (Hp = H + 2p rows, Wp = W + 2p columns), lay it flat,
and put the m images of the batch end to end, channel by channel::

    xp (C, m·Hp·Wp)            column q = n·Hp·Wp + y·Wp + x is pixel (y, x) of image n

With stride 1, pixel (i, j) of the patch whose top-left corner is at q is
xp[c, q + i·Wp + j]: every row of the column matrix is the same xp, shifted::

    cols[(c, i, j), q] = xp[c, q + i·Wp + j]        (C·kh·kw, m·Hp·Wp)

so im2col is kh·kw copies of C long rows, and col2im kh·kw additions of them. Row
(c, i, j) is in ``im2col``'s (channel, row, column) order, so W_col is the same matrix;
image n's block of columns, cols[:, n·Hp·Wp : (n+1)·Hp·Wp], is a view, and Z = W_col · cols
is one product per image, (m, F, Hp·Wp), as on the plain path.

The price: every pixel of a padded image gets a column, so a block has Hp·Wp columns, not
OH·OW. A column whose patch would run over the right or bottom edge of its image
(x > Wp − kw or y > Hp − kh) is no output: it is computed, then cut away by ``to_images``,
and ``from_images`` gives it δ = 0, so it adds nothing to dW or dX. ``tail`` zeros after
the last image keep its largest shift inside the array.
"""

from __future__ import annotations

import numpy as np


class ShiftedColumns:
    """The columns of one batch shape (m, C, H, W) in the shifted layout, for a kh×kw kernel
    with stride 1 and ``padding`` (see the module docstring)."""

    def __init__(self, x_shape, kh, kw, padding):
        self.x_shape, self.kh, self.kw, self.padding = x_shape, kh, kw, padding
        m, C, H, W = x_shape
        self.Hp, self.Wp = H + 2 * padding, W + 2 * padding
        self.OH, self.OW = self.Hp - kh + 1, self.Wp - kw + 1
        self.n = m * self.Hp * self.Wp                    # columns: every pixel of every xp
        self.tail = (kh - 1) * self.Wp + kw - 1           # the largest shift

    def im2col(self, x):
        """x (m, C, H, W) → cols (m, C·kh·kw, Hp·Wp): one block of the long rows per image."""
        m, C, H, W = x.shape
        p = self.padding
        xp = self._rows(C, x.dtype, fill=0)                                   # (C, m·Hp·Wp + tail)
        self._images(xp)[:, :, p:p + H, p:p + W] = x.transpose(1, 0, 2, 3)
        cols = self._rows(C * self.kh * self.kw, x.dtype)                     # (C·kh·kw, m·Hp·Wp + tail)
        by_offset = cols.reshape(C, self.kh, self.kw, -1)
        for i, j, shift in self._shifts():       # one long copy per channel and kernel pixel
            by_offset[:, i, j, :self.n] = xp[:, shift:shift + self.n]
        return self._blocks(cols)

    def empty_cols(self, dtype):
        """Room for dcols = W_colᵀ · δ, (m, C·kh·kw, Hp·Wp), laid out as ``col2im`` reads it."""
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
        """dcols (m, C·kh·kw, Hp·Wp), as ``empty_cols`` lays it out → dX (m, C, H, W): each
        shifted copy adds its gradient back where it was copied from."""
        m, C, H, W = self.x_shape
        p = self.padding
        by_offset = self._unblock(dcols).reshape(C, self.kh, self.kw, self.n)
        dxp = self._rows(C, dcols.dtype, fill=0)                              # (C, m·Hp·Wp + tail)
        for i, j, shift in self._shifts():
            dxp[:, shift:shift + self.n] += by_offset[:, i, j]
        images = self._images(dxp)[:, :, p:p + H, p:p + W]          # the padding is no input
        return np.ascontiguousarray(images.transpose(1, 0, 2, 3))

    # --- the long rows and their views ----------------------------------------------
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


__all__ = ["ShiftedColumns"]
