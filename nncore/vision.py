"""Turn a drawing from a canvas into the kind of image a digit classifier was trained on.

A network trained on MNIST has never seen a 280×280 canvas. It has seen 28×28 images
that were prepared in one particular way, and it only reads a drawing well if the
drawing is prepared the same way. LeCun, Cortes and Burges describe MNIST's preparation:

1. the original black-and-white NIST digits were size-normalised to fit in a
   20×20 pixel box *while preserving their aspect ratio*;
2. the normalisation used an anti-aliasing technique, so the result has grey levels;
3. the 20×20-bounded digit was placed in a 28×28 field so that its centre of mass
   (intensity-weighted) lies at the centre of the field.

:func:`canvas_to_mnist` repeats those steps with NumPy. :func:`canvas_to_digits8` does
the same for scikit-learn's small 8×8 ``load_digits`` set, which was made differently
(32×32 normalised bitmaps, counted in 4×4 blocks). :func:`prepare_for_model` picks
one of the two from a model's input shape.

Conventions used throughout:

* Images are 2-D float arrays ``img[row, col]`` with ink bright (1.0) on a dark (0.0)
  background, like MNIST and like a white pen on a black canvas.
* Coordinates are *pixel indices*: the centre of pixel ``(r, c)`` is at ``(r, c)``.
  In these coordinates the centres of mass of real MNIST digits average 14.0 with a
  spread of ±0.5 in both directions, i.e. MNIST aimed at ``(14, 14)`` and moved the
  digit by whole pixels. That is what this module does too.

Only NumPy is used, so every step is visible here rather than hidden in an image library.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "to_grayscale",
    "bounding_box",
    "center_of_mass",
    "resize_area",
    "canvas_to_mnist",
    "canvas_to_digits8",
    "prepare_for_model",
    "INK_LEVEL",
    "MIN_INK",
    "MAX_INK",
    "MIN_EXTENT",
    "MAX_PIXELS",
]

#: A pixel counts as ink (for the crop and for the emptiness rule) when its grey level
#: exceeds this: about 3/255, i.e. anything visibly non-black. MNIST's own 20-px box
#: includes even its faintest anti-aliased pixels (for 99.9 % of the test digits the
#: box of all non-zero pixels is the box of pixels above 1/255), so the level must be
#: close to zero; it is not exactly zero so that invisible noise (a stray 1/255 from a
#: compressed image) cannot stretch the box.
INK_LEVEL = 0.01

#: Default emptiness rule, part 1: the ink mass (sum of grey levels, so a fully white
#: pixel counts 1 and a half-grey edge pixel 0.5) must be at least this fraction of
#: the canvas area. 0.001 is 0.1 % of the pixels, about 78 white pixels on 280×280.
MIN_INK = 0.001

#: Default emptiness rule, part 3: the ink mass must be at most this fraction of the
#: canvas area. The most ink-heavy MNIST test digit covers 64 % of the square around it
#: (the 99.9th percentile 58 %), and drawings with the thickest pen about 30 % of the
#: canvas; a canvas inked beyond 75 % holds no digit shape however it was drawn — it is
#: full, or drawn black on white — and gets no answer either.
MAX_INK = 0.75

#: The largest image the pipeline prepares (the app's canvas is 280×280 = 78,400 pixels).
#: Converting works in float64, 8 bytes per pixel and channel: an 8000×8000 RGBA array
#: would take 2 GB, so larger images are refused before any conversion.
MAX_PIXELS = 1024 * 1024

#: Default emptiness rule, part 2: the longer side of the ink's bounding box must be
#: at least this fraction of the canvas's longer side (28 px on a 280-px canvas).
#: This is what separates a *dot* (a tap of the pen, ink everywhere but no extent)
#: from a *stroke*: a thin line of any length beyond this counts as a drawing.
MIN_EXTENT = 0.1

# ITU-R BT.601 luma weights, the same ones Pillow uses for convert("L").
_LUMA = np.array([0.299, 0.587, 0.114])

_MNIST_SIDE = 28  # the field
_MNIST_BOX = 20  # the digit's longer side inside the field
_DIGITS8_BITMAP = 32  # scikit-learn digits: 32×32 bitmap ...
_DIGITS8_BLOCK = 4  # ... counted in 4×4 blocks -> 8×8


# --------------------------------------------------------------------------- input


def to_grayscale(image) -> np.ndarray:
    """Convert a canvas image to a float32 ``(H, W)`` ink map in ``[0, 1]``.

    Accepted inputs
        * dtype ``uint8`` (0..255), a floating dtype with values in ``[0, 1]``,
          or ``bool`` (True = ink);
        * shape ``(H, W)`` (grey), ``(H, W, 1)``, ``(H, W, 3)`` (RGB) or
          ``(H, W, 4)`` (RGBA).

    Steps
        1. Scale to ``[0, 1]`` (uint8 is divided by 255) so later thresholds mean the
           same thing whatever the input type.
        2. Colour is reduced to luminance with the BT.601 weights
           ``0.299 R + 0.587 G + 0.114 B``. Ink is expected to be *bright on dark*
           (white pen on black), which is MNIST's polarity, so luminance is the ink.
        3. For RGBA the luminance is multiplied by alpha. A drawable canvas with a
           black background is opaque everywhere (alpha = 1), so this changes
           nothing there; on a *transparent* background, alpha is 0 wherever nothing
           was drawn — whatever colour those invisible pixels happen to store — and
           partial along anti-aliased stroke edges, so ``luminance × alpha`` is
           exactly how much white ink each pixel shows over a black page.

    Raises
        ValueError: for an empty array, one of more than ``MAX_PIXELS`` pixels, an
        unsupported shape or dtype, or float values outside ``[0, 1]`` (or not finite).
    """
    arr = np.asarray(image)
    if arr.ndim >= 2 and arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise ValueError(
            f"expected an image of at most {MAX_PIXELS:,} pixels; got "
            f"{arr.shape[0]}×{arr.shape[1]} (the canvas is 280×280)"
        )
    if arr.dtype == np.uint8:
        scaled = arr.astype(np.float64) / 255.0
    elif arr.dtype == np.bool_:
        scaled = arr.astype(np.float64)
    elif np.issubdtype(arr.dtype, np.floating):
        scaled = arr.astype(np.float64)
    else:
        raise ValueError(
            f"expected an image array of dtype uint8 (0..255), float (0..1) or bool; "
            f"got dtype {arr.dtype}"
        )
    if arr.size == 0:
        raise ValueError(f"expected a non-empty image; got an array of shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] in (1, 3, 4):
        channels = arr.shape[2]
    elif arr.ndim == 2:
        channels = 0
    else:
        raise ValueError(
            "expected an image shaped (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) "
            f"RGBA; got shape {arr.shape}"
        )
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(scaled)):
            raise ValueError("float image contains NaN or infinite values")
        lo, hi = float(scaled.min()), float(scaled.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"float images must have values in [0, 1]; got range [{lo:g}, {hi:g}] "
                "(divide 0..255 data by 255 or pass it as uint8)"
            )

    if channels == 0:
        gray = scaled
    elif channels == 1:
        gray = scaled[..., 0]
    else:
        gray = scaled[..., :3] @ _LUMA
        if channels == 4:
            gray = gray * scaled[..., 3]
    # The weights sum to 1, but rounding can leave 1.0000000001; keep the promise.
    return np.clip(gray, 0.0, 1.0).astype(np.float32)


def _as_2d_float(img, name: str = "img") -> np.ndarray:
    """Validate a 2-D, non-empty, finite, real image and return it as float64."""
    arr = np.asarray(img)
    if not (
        arr.dtype == np.bool_
        or np.issubdtype(arr.dtype, np.integer)
        or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"{name} must be a numeric 2-D array; got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (H, W); got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


# -------------------------------------------------------------------- small helpers


def bounding_box(img, level: float = INK_LEVEL) -> tuple[int, int, int, int] | None:
    """Smallest box holding every pixel brighter than ``level``.

    Returns ``(r0, r1, c0, c1)`` with *exclusive* ends, so ``img[r0:r1, c0:c1]`` is the
    crop, or ``None`` when no pixel exceeds ``level``.

    A row belongs to the box if any pixel in it is ink (``mask.any(axis=1)``); the first
    and last such rows are the box's edges. Working on whole rows and columns keeps it
    vectorised.
    """
    arr = _as_2d_float(img)
    mask = arr > level
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def center_of_mass(img) -> tuple[float, float]:
    """Intensity-weighted centre ``(row, col)`` of a non-negative image.

    Each pixel pulls with its grey level: ``row = Σ r·I(r, c) / Σ I``. In pixel-index
    coordinates (the centre of pixel ``(r, c)`` is ``(r, c)``), which is the convention
    in which real MNIST digits are centred at ``(14, 14)``. The row/column sums
    reduce the 2-D sum to two 1-D dot products.

    Raises ValueError if the image has negative values or no mass at all (the centre
    of nothing is undefined).
    """
    arr = _as_2d_float(img)
    if arr.min() < 0:
        raise ValueError("center_of_mass needs non-negative intensities")
    total = arr.sum()
    if total <= 0:
        raise ValueError("center_of_mass is undefined for an image with no ink (all zeros)")
    row = arr.sum(axis=1) @ np.arange(arr.shape[0]) / total
    col = arr.sum(axis=0) @ np.arange(arr.shape[1]) / total
    return float(row), float(col)


# ------------------------------------------------------------------------ resampling


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` matrix that area-resamples one axis from ``n_in`` to ``n_out``.

    Lay the input pixels on a line as unit intervals ``[j, j+1)``. Output pixel ``i``
    covers the stretch ``[i·s, (i+1)·s)`` of that line, with ``s = n_in / n_out``
    source pixels per output pixel. Its value is the average of the input over that
    stretch, so input pixel ``j`` gets the weight

        overlap([j, j+1), [i·s, (i+1)·s)) / s,

    which is fractional where a stretch cuts a pixel in two. Every row sums to 1, so a
    flat image stays flat. Shrinking averages many pixels (the anti-aliasing: detail
    finer than an output pixel becomes grey instead of flickering in and out);
    enlarging copies pixels and blends only where an output pixel straddles two.
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    j = np.arange(n_in)[None, :]
    overlap = np.minimum(hi, j + 1) - np.maximum(lo, j)
    weights = np.clip(overlap, 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def resize_area(img, out_h: int, out_w: int) -> np.ndarray:
    """Resize a 2-D image to ``(out_h, out_w)`` by area averaging (a box filter).

    Area averaging treats each pixel as a small square of constant brightness and asks,
    for every output square, what its average brightness is. Because a box is
    *separable* (averaging over a rectangle = averaging rows, then columns), the whole
    resize is two matrix products::

        out = Ry @ img @ Rx.T

    where ``Ry`` (out_h × H) resamples the rows and ``Rx`` (out_w × W) the columns —
    see :func:`_area_weights`. Consequences worth knowing:

    * Ink mass is preserved up to the change of pixel size:
      ``out.sum() · (H·W) / (out_h·out_w) == img.sum()``.
    * An integer shrink factor gives exactly the mean of each k×k block.
    * It is anti-aliased: a thin stroke becomes a fainter, one-pixel-wide stroke rather
      than vanishing or breaking up, which is what MNIST's grey edges look like.

    Returns float32.
    """
    arr = _as_2d_float(img)
    for name, value in (("out_h", out_h), ("out_w", out_w)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    ry = _area_weights(arr.shape[0], int(out_h))
    rx = _area_weights(arr.shape[1], int(out_w))
    return (ry @ arr @ rx.T).astype(np.float32)


# ------------------------------------------------------------------------- pipeline


def _validate_rule(min_ink: float, min_extent: float, max_ink: float = MAX_INK) -> None:
    for name, value in (("min_ink", min_ink), ("min_extent", min_extent), ("max_ink", max_ink)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} must be a fraction in [0, 1]; got {value!r}")


def _crop_ink(image, min_ink: float, min_extent: float,
              max_ink: float = MAX_INK) -> np.ndarray | None:
    """Grey-scale the canvas, apply the emptiness rule, and crop to the ink.

    The rule (all must hold, otherwise ``None``):

    * enough ink: ``sum(grey levels) >= min_ink · H · W`` — rules out an empty canvas
      and a few stray pixels;
    * not too much: ``sum(grey levels) <= max_ink · H · W`` — rules out a full canvas
      (or one drawn black on white), which has no digit shape to read;
    * real extent: the longer side of the ink's bounding box (pixels > ``INK_LEVEL``)
      is ``>= min_extent · max(H, W)`` — rules out a dot, however heavy, and lets a
      thin line through as long as it is long enough.
    """
    _validate_rule(min_ink, min_extent, max_ink)
    gray = to_grayscale(image).astype(np.float64)
    h, w = gray.shape
    box = bounding_box(gray, INK_LEVEL)
    if box is None or not min_ink * h * w <= gray.sum() <= max_ink * h * w:
        return None
    r0, r1, c0, c1 = box
    if max(r1 - r0, c1 - c0) < min_extent * max(h, w):
        return None
    return gray[r0:r1, c0:c1]


def _fit_longer_side(crop: np.ndarray, side: int) -> np.ndarray:
    """Area-resample ``crop`` so its longer side is ``side``, keeping the aspect ratio.

    The shorter side is rounded to whole pixels (and is at least 1), so the aspect
    ratio is kept to within half a pixel.
    """
    h, w = crop.shape
    scale = side / max(h, w)
    out_h = max(1, int(np.floor(h * scale + 0.5)))
    out_w = max(1, int(np.floor(w * scale + 0.5)))
    return resize_area(crop, out_h, out_w).astype(np.float64)


def canvas_to_mnist(
    image, *, min_ink: float = MIN_INK, min_extent: float = MIN_EXTENT,
    max_ink: float = MAX_INK,
) -> np.ndarray | None:
    """Prepare a canvas drawing the way MNIST's digits were prepared.

    Returns a ``(28, 28)`` float32 image in ``[0, 1]`` whose brightest pixel is 1.0,
    or ``None`` if the canvas is (nearly) empty or (nearly) full — the caller should
    then ask for a drawing rather than show a guess.

    Steps, each mirroring MNIST:

    1. **Grey levels** — :func:`to_grayscale` (white ink on black; RGBA alpha honoured).
    2. **Emptiness rule** — ``None`` unless the ink mass (sum of grey levels) is at
       least ``min_ink`` of the canvas area (default 0.1 %) *and* the longer side of
       the ink's bounding box is at least ``min_extent`` of the canvas's longer side
       (default 10 %), and the ink mass is at most ``max_ink`` of the area (default
       75 %). So a blank canvas, a few stray pixels, a single tap of the pen or a
       canvas inked all over give ``None``, while a thin but long line counts as a
       drawing.
    3. **Crop** to the ink's bounding box (pixels above ``INK_LEVEL`` = 0.01, i.e.
       anything visibly non-black, faint anti-aliased rims included, as MNIST's
       box does). No binarisation: the grey levels inside are kept as they are.
    4. **Size-normalise** so the longer side is 20 px and the aspect ratio is kept
       (a "1" stays thin), with anti-aliased area averaging, :func:`resize_area`
       (``out = Ry @ crop @ Rx.T`` with two small box-filter weight matrices).
    5. **Centre by mass** — place the patch in a 28×28 field so its intensity-weighted
       centre of mass lands on ``(14, 14)`` (pixel-index coordinates). The shift is
       rounded to *whole pixels*, as in MNIST itself (its digits' centres of mass
       scatter uniformly within ±0.5 px of 14), so the result is never blurred by
       interpolation and the centre ends up within 0.5 px of (14, 14). If the mass
       is so lopsided that this shift would push ink off the field, the shift is
       limited so the whole 20-px patch stays inside; the centre then sits as close
       to (14, 14) as that allows.
    6. **Normalise** so the brightest pixel is 1.0 (MNIST digits peak at 255): area
       averaging makes a thin pen stroke grey, and a network trained on MNIST expects
       the core of a stroke to be full white.
    """
    crop = _crop_ink(image, min_ink, min_extent, max_ink)
    if crop is None:
        return None
    patch = _fit_longer_side(crop, _MNIST_BOX)
    ph, pw = patch.shape
    cy, cx = center_of_mass(patch)
    centre = _MNIST_SIDE / 2
    # floor(x + 0.5) rounds halves up; np.round would round them to even.
    top = int(np.clip(np.floor(centre - cy + 0.5), 0, _MNIST_SIDE - ph))
    left = int(np.clip(np.floor(centre - cx + 0.5), 0, _MNIST_SIDE - pw))
    field = np.zeros((_MNIST_SIDE, _MNIST_SIDE))
    field[top : top + ph, left : left + pw] = patch
    return (field / field.max()).astype(np.float32)


def canvas_to_digits8(
    image, *, min_ink: float = MIN_INK, min_extent: float = MIN_EXTENT,
    max_ink: float = MAX_INK,
) -> np.ndarray | None:
    """Prepare a canvas drawing like scikit-learn's 8×8 ``load_digits`` images.

    Returns an ``(8, 8)`` float32 image in ``[0, 1]`` (the data set's 0..16 divided by
    16, as this project scales it), or ``None`` for a (nearly) empty or full canvas, by
    the same rule as :func:`canvas_to_mnist`.

    Those digits (UCI "optdigits") come from NIST's preprocessing: each digit was
    normalised into a 32×32 bitmap — scaled so it fills the box along its longer side
    (in practice the height: every one of the 1797 images spans all 8 rows) and
    centred — and the bitmap was cut into 64 non-overlapping 4×4 blocks, each
    reporting how many of its 16 pixels are on (0..16). Here:

    1. grey levels, emptiness rule and crop as in :func:`canvas_to_mnist`;
    2. area-resample so the longer side is 32 px, keeping the aspect ratio;
    3. centre the bounding box (not the centre of mass) in a 32×32 field, and
       normalise so the brightest pixel is 1 — the bitmaps were black and white,
       "on" means full ink;
    4. average each 4×4 block: the mean of a block of on/off pixels is exactly
       (number on)/16, and for grey pixels it is the fractional count.
    """
    crop = _crop_ink(image, min_ink, min_extent, max_ink)
    if crop is None:
        return None
    side, block = _DIGITS8_BITMAP, _DIGITS8_BLOCK
    patch = _fit_longer_side(crop, side)
    ph, pw = patch.shape
    top, left = (side - ph) // 2, (side - pw) // 2
    field = np.zeros((side, side))
    field[top : top + ph, left : left + pw] = patch / patch.max()
    # (32, 32) -> (8, 4, 8, 4): axis 1 and 3 run inside a block; averaging them gives
    # one number per block without a loop.
    n = side // block
    blocks = field.reshape(n, block, n, block).mean(axis=(1, 3))
    return blocks.astype(np.float32)


_PREPARERS = {
    (28, 28): canvas_to_mnist,
    (8, 8): canvas_to_digits8,
}


def prepare_for_model(image, image_shape, **rule) -> np.ndarray | None:
    """Prepare a canvas for a model whose input images have shape ``image_shape``.

    ``(28, 28)`` → :func:`canvas_to_mnist`; ``(8, 8)`` → :func:`canvas_to_digits8`.
    Keyword arguments (``min_ink``, ``min_extent``, ``max_ink``) are passed on. Returns ``None``
    for a (nearly) empty or full canvas.
    """
    try:
        key = tuple(image_shape)
    except TypeError:  # not a sequence at all, e.g. 28
        key = None
    if key not in _PREPARERS:
        supported = " or ".join(str(s) for s in _PREPARERS)
        raise ValueError(f"image_shape must be {supported}; got {image_shape!r}")
    return _PREPARERS[key](image, **rule)
