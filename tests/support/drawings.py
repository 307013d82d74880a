"""Helpers shared by the Inference page's tests (headless and in a browser): digits drawn
as pen strokes, canvas PNGs, and small models trained here with nncore.

Not a test module (no ``test_`` prefix); the tests import it by name (pytest puts this
folder on ``sys.path``).
"""

from __future__ import annotations

import base64
import functools
import io
import os

import numpy as np

# ------------------------------------------------------------------ digits as strokes


def _arc(cy, cx, ry, rx, a0, a1, n=24):
    """Points on an ellipse arc, angles in degrees (0 = right, 90 = up), in a unit box."""
    t = np.radians(np.linspace(a0, a1, n))
    return [(cy - ry * np.sin(a), cx + rx * np.cos(a)) for a in t]


#: Each digit as one or two styles; a style is a list of polylines of (row, col) points in
#: a unit box, rows going down — how a person would draw it with a pen, stroke by stroke.
GLYPHS = {
    0: [[_arc(0.5, 0.5, 0.5, 0.32, 0, 360, 40)],
        [_arc(0.5, 0.5, 0.5, 0.42, 90, 450, 40)]],
    1: [[[(0.0, 0.5), (1.0, 0.5)]],
        [[(0.15, 0.3), (0.0, 0.55), (1.0, 0.55)]],
        [[(0.0, 0.6), (1.0, 0.42)]]],
    2: [[_arc(0.27, 0.5, 0.27, 0.4, 160, -30, 16) + [(1.0, 0.1), (1.0, 0.95)]],
        [_arc(0.3, 0.5, 0.3, 0.45, 170, -20, 16) + [(1.0, 0.05), (0.97, 0.95)]]],
    3: [[_arc(0.25, 0.5, 0.25, 0.4, 150, -90, 20) + _arc(0.75, 0.5, 0.25, 0.45, 90, -150, 20)[1:]],
        [[(0.0, 0.1), (0.0, 0.9), (0.42, 0.45)] + _arc(0.7, 0.5, 0.3, 0.45, 90, -160, 20)]],
    4: [[[(0.0, 0.6), (0.65, 0.0), (0.65, 0.95)], [(0.3, 0.7), (1.0, 0.7)]],
        [[(0.0, 0.15), (0.55, 0.1), (0.55, 0.9)], [(0.0, 0.8), (1.0, 0.8)]]],
    5: [[[(0.0, 0.9), (0.0, 0.15), (0.42, 0.1)] + _arc(0.7, 0.45, 0.3, 0.45, 120, -160, 20)],
        [[(0.0, 0.85), (0.0, 0.2), (0.45, 0.15)] + _arc(0.7, 0.5, 0.3, 0.4, 110, -150, 20)]],
    6: [[[(0.0, 0.75), (0.3, 0.2), (0.65, 0.05)] + _arc(0.7, 0.5, 0.3, 0.42, 180, 540, 36)],
        [_arc(0.5, 0.6, 0.5, 0.5, 100, 180, 10) + _arc(0.72, 0.5, 0.28, 0.4, 180, 540, 36)]],
    7: [[[(0.0, 0.0), (0.0, 1.0), (1.0, 0.35)]],
        [[(0.05, 0.05), (0.0, 0.95), (1.0, 0.45)], [(0.5, 0.4), (0.5, 0.9)]]],
    8: [[_arc(0.25, 0.5, 0.25, 0.33, 270, 630, 30), _arc(0.73, 0.5, 0.27, 0.4, 90, 450, 30)],
        [_arc(0.25, 0.5, 0.25, 0.3, -90, 270, 30) + _arc(0.73, 0.5, 0.27, 0.38, 90, 450, 30)]],
    9: [[_arc(0.3, 0.5, 0.3, 0.45, 0, 360, 30), [(0.3, 0.95), (1.0, 0.9)]],
        [_arc(0.3, 0.45, 0.3, 0.42, -10, 360, 30) + [(1.0, 0.75)]]],
}


def place(lines, *, top, left, size, aspect=0.75, angle=0.0, jitter=0.0, rng=None):
    """The unit-box polylines scaled to ``size`` px high (``aspect`` × as wide), rotated by
    ``angle`` degrees about the box centre, optionally wobbled, moved to (top, left)."""
    a = np.radians(angle)
    c, s = np.cos(a), np.sin(a)
    out = []
    for line in lines:
        pts = np.array(line, dtype=np.float64) - 0.5
        pts = np.column_stack([pts[:, 0] * c - pts[:, 1] * s, pts[:, 0] * s + pts[:, 1] * c]) + 0.5
        if jitter and rng is not None:
            pts = pts + rng.normal(0.0, jitter, size=pts.shape)
        out.append([(top + r * size, left + q * size * aspect) for r, q in pts])
    return out


def draw_with_mouse(page, box, lines, steps=12, pause_ms=0) -> None:
    """Draw polylines already placed in pixels (``place``) with a Playwright page's mouse,
    one stroke each, inside the element whose bounding ``box`` is given (``pause_ms``: a
    hand's pause between reaching a stroke's start and pressing)."""
    for line in lines:
        (r0, c0), rest = line[0], line[1:]
        page.mouse.move(box["x"] + c0, box["y"] + r0)
        if pause_ms:
            page.wait_for_timeout(pause_ms)
        page.mouse.down()
        for r, c in rest:
            page.mouse.move(box["x"] + c, box["y"] + r, steps=steps)
        page.mouse.up()


def rasterize(polylines, width, shape=(280, 280)) -> np.ndarray:
    """Anti-aliased pen strokes of ``width`` px on a black float canvas in [0, 1], like a
    round pen on the drawing canvas: coverage = clip(width/2 + 0.5 − distance, 0, 1).
    Each segment is only measured inside its own bounding box (plus the pen's reach)."""
    out = np.zeros(shape)
    reach = width / 2 + 1
    for line in polylines:
        for (r0, c0), (r1, c1) in zip(line[:-1], line[1:]):
            top = max(int(min(r0, r1) - reach), 0)
            bottom = min(int(max(r0, r1) + reach) + 1, shape[0])
            left = max(int(min(c0, c1) - reach), 0)
            right = min(int(max(c0, c1) + reach) + 1, shape[1])
            if top >= bottom or left >= right:
                continue
            rr, cc = np.mgrid[top:bottom, left:right].astype(np.float64)
            dr, dc = r1 - r0, c1 - c0
            t = np.clip(((rr - r0) * dr + (cc - c0) * dc) / max(dr * dr + dc * dc, 1e-12), 0, 1)
            dist = np.hypot(rr - (r0 + t * dr), cc - (c0 + t * dc))
            patch = np.clip(width / 2 + 0.5 - dist, 0.0, 1.0)
            np.maximum(out[top:bottom, left:right], patch, out=out[top:bottom, left:right])
    return out


def drawn_digits(n_per_style=20, seed=0):
    """(canvases, labels): every digit style drawn at random sizes, places, slants, pen
    widths and with a wobble — a stand-in for people drawing on the 280×280 canvas."""
    rng = np.random.default_rng(seed)
    canvases, labels = [], []
    for digit, styles in GLYPHS.items():
        for style in styles:
            for _ in range(n_per_style):
                size = rng.uniform(110, 250)
                aspect = rng.uniform(0.55, 0.95)
                lines = place(style, top=rng.uniform(5, 275 - size),
                              left=rng.uniform(5, max(6.0, 275 - size * aspect)), size=size,
                              aspect=aspect, angle=rng.uniform(-12, 12), jitter=0.015, rng=rng)
                canvases.append(rasterize(lines, rng.uniform(10, 32)))
                labels.append(digit)
    return canvases, np.array(labels)


# ------------------------------------------------------------------ the canvas's PNG


def rgba(gray: np.ndarray) -> np.ndarray:
    """A float ink map as the canvas returns it: opaque RGBA uint8, white on black."""
    v = np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8)
    return np.dstack([v, v, v, np.full_like(v, 255)])


def png_data_url(image: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def decode_data_url(url: str) -> np.ndarray:
    """What ``CanvasResult.image_data`` makes of the data URL (PIL → array)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(";base64,", 1)[1]))))


def canvas_value(url: str | None) -> dict:
    """The canvas widget's session-state value, as the browser sends it on mouse-up."""
    return {"drawing": {"raw": {"objects": []}, "data": url}, "backgroundFit": None}


def thick_one() -> np.ndarray:
    """A "1": a thick white vertical bar on a black 280×280 canvas (RGBA)."""
    img = np.zeros((280, 280, 4), np.uint8)
    img[..., 3] = 255
    img[40:240, 125:155, :3] = 255
    return img


# ------------------------------------------------------------------ small models


@functools.lru_cache(maxsize=None)
def digits_model():
    """64-64-10 ReLU trained on scikit-learn's 8×8 digits (about a second)."""
    from nncore.runs.run import train_spec
    from nncore.runs.spec import LayerSpec, RunSpec

    spec = RunSpec(data={"name": "digits"}, hidden=[LayerSpec(64)], epochs=30, seed=0)
    return train_spec(spec).network


def mnist_dir() -> str | None:
    return os.environ.get("NNCORE_MNIST_DIR") or None


@functools.lru_cache(maxsize=None)
def small_mnist_model():
    """784-128-10 ReLU on 10,000 real MNIST digits, 4 epochs (a second or two; ~95 %
    on the test set). Needs NNCORE_MNIST_DIR."""
    from nncore.data import load_dataset
    from nncore.runs.run import train_spec
    from nncore.runs.spec import LayerSpec, RunSpec

    data = {"name": "mnist", "limit": 10_000, "val_fraction": 0.1, "seed": 0}
    dataset = load_dataset("mnist", limit=10_000, val_fraction=0.1, seed=0,
                           data_dir=mnist_dir(), allow_download=False, allow_fallback=False)
    spec = RunSpec(data=data, hidden=[LayerSpec(128)], epochs=4, schedule={"name": "cosine"},
                   seed=0)
    return train_spec(spec, dataset).network


@functools.lru_cache(maxsize=None)
def digits28_model():
    """A 28×28 model without MNIST: the 8×8 digits blown up fivefold and prepared by
    ``canvas_to_mnist``, exactly as a drawing is, then a 784-64-10 ReLU network."""
    from sklearn.datasets import load_digits

    from nncore.data import Dataset
    from nncore.runs.run import build_for
    from nncore.runs.spec import LayerSpec, RunSpec
    from nncore.vision import canvas_to_mnist

    digits = load_digits()
    X = np.stack([canvas_to_mnist(np.kron(d.reshape(8, 8) / 16.0, np.ones((5, 5)))).ravel()
                  for d in digits.data]).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    tr, te = order[:1500], order[1500:]
    ds = Dataset("digits-28", "8×8 digits blown up to 28×28", "test", X[tr], y[tr], X[:0], y[:0],
                 X[te], y[te], 10, tuple(str(i) for i in range(10)), (28, 28))
    spec = RunSpec(data={"name": "digits"}, hidden=[LayerSpec(64)], epochs=12, seed=0)
    net = build_for(spec, ds)
    net.fit(ds.X_train, ds.y_train, epochs=12, batch_size=64, seed=0)
    return net
