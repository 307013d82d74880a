"""What several pages draw alike: the class palette, and images laid out in a grid.

No Streamlit here; every page's figures module takes these from this one place, so a class
keeps its colour and an image its look from page to page.
"""

from __future__ import annotations

import numpy as np

# One colour per class, the same on every page (Dataset, Training, Inference).
CLASS_COLOURS = ("#4f46e5", "#f59e0b", "#10b981", "#ef4444", "#06b6d4", "#8b5cf6", "#84cc16",
                 "#ec4899", "#64748b", "#f97316")
ACCENT = "#4f46e5"      # the app's primary colour (.streamlit/config.toml)
TRAIN, VAL = ACCENT, "#f97316"      # the training and the validation curves, on every chart


def finite(values) -> np.ndarray:
    """As a float array (fast for Plotly to take), NaN where a value is missing or infinite."""
    out = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def class_colour(i: int) -> str:
    return CLASS_COLOURS[i % len(CLASS_COLOURS)]


def class_scale(k: int) -> list:
    """A colour scale for a map of class numbers 0 … k−1 (zmin −0.5, zmax k − 0.5): each
    class a band of its own colour."""
    scale = []
    for c in range(k):
        scale += [[c / k, class_colour(c)], [(c + 1) / k, class_colour(c)]]
    return scale


def probability_scale() -> list:
    """The colours of P(class 1) from 0 to 1 on a two-class boundary map: the two classes'
    own colours, white where the network cannot tell (0.5), so the map is coloured like
    the points it separates."""
    return [[0.0, class_colour(0)], [0.5, "#ffffff"], [1.0, class_colour(1)]]


def probability_title(class_names=None) -> str:
    """The colour bar's title: the probability of the second class, by its name
    ("P(lower moon)"), or by its number when that is all it has ("P(class 1)")."""
    name = str(class_names[1]) if class_names and len(class_names) > 1 else "1"
    return f"P(class {name})" if name.isdigit() else f"P({name})"


def thumbnail(pixels, image_shape, size: int = 84) -> np.ndarray:
    """One image row (values 0…1) as a uint8 picture for ``st.image``: dark ink on white,
    each pixel blown up to a square block, so that an 8×8 digit is not drawn as a blur."""
    h, w = image_shape
    factor = max(1, size // max(h, w))
    ink = np.clip(np.asarray(pixels, dtype=np.float64).reshape(h, w), 0, 1)
    return np.kron((255 * (1 - ink)).astype(np.uint8), np.ones((factor, factor), np.uint8))


def tile(images: np.ndarray, columns: int, row_gap: int = 1, col_gap: int = 1,
         gap_above: bool = False) -> np.ndarray:
    """(k, h, w) images laid out in rows of ``columns`` in one array, NaN in the gaps and
    in unused cells. ``gap_above`` puts each row's gap above it (room for a label)."""
    k, h, w = images.shape
    rows = -(-k // columns)
    top = row_gap if gap_above else 0
    out = np.full((rows * (h + row_gap) - row_gap + top, columns * (w + col_gap) - col_gap),
                  np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        y, x = r * (h + row_gap) + top, c * (w + col_gap)
        out[y:y + h, x:x + w] = img
    return out


def mosaic(images: np.ndarray, columns: int = 8) -> np.ndarray:
    """Tile (k, h, w) images into one array, each scaled to [-1, 1], NaN between tiles."""
    scale = np.abs(images).max(axis=(1, 2), keepdims=True)
    return tile(images / np.where(scale > 0, scale, 1.0), columns)
