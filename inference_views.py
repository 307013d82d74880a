"""What the Inference page computes and draws, without Streamlit.

The page (``app_pages/inference.py``) stays a thin layer of widgets; everything here is plain
NumPy and Plotly, so it can be tested and reused on its own:

* ``model_info`` — what a network expects (input width, image shape, class names), read
  from the metadata it was trained with, or inferred from its input width;
* ``explain`` — one input through the network: class probabilities, the top answer, every
  hidden layer's activations and the saliency map of the top class;
* ``predict_all`` — the network's answers on a whole test set (for "only the mistakes");
* ``conv_feature_maps`` — one input's feature maps after every convolution and pooling
  layer (the Training page draws them for a CNN, with ``activation_figure``);
* figure builders — the image the network receives, probabilities, activations, saliency,
  and a decision map for 2-D models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from nncore.layers import ActivationLayer, Dense
from nncore.vision import canvas_to_digits8, canvas_to_mnist
from training_views import CLASS_COLOURS, tile

#: Image shapes the canvas can be prepared for (see ``nncore.vision.prepare_for_model``).
CANVAS_SHAPES = {(28, 28): canvas_to_mnist, (8, 8): canvas_to_digits8}

ACCENT = "#4f46e5"      # the app's primary colour (.streamlit/config.toml)
MUTED = "#c7c9d9"
WRONG = "#dc2626"
RIGHT = "#16a34a"


# ---------------------------------------------------------------------- the model
@dataclass
class ModelInfo:
    n_inputs: int
    n_classes: int                    # columns of predict_proba
    class_names: list[str]
    image_shape: tuple[int, int] | None
    dataset_name: str | None          # what the model was trained on, if it says
    data_params: dict | None          # the spec's data dict, if the model records one
    layer_sizes: list = field(default_factory=list)   # ints, or "conv8" for 8 feature maps
    activations: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if self.image_shape is not None:
            return "image"
        return "2d" if self.n_inputs == 2 else "other"

    @property
    def can_draw(self) -> bool:
        return self.image_shape in CANVAS_SHAPES

    def describe(self, title=None) -> str:
        """One line: layer sizes, activations, data. ``title`` turns a data-set name into
        the name people know it by."""
        sizes = "-".join(str(s) for s in self.layer_sizes)
        acts = "/".join(dict.fromkeys(self.activations)) or "no hidden layer"
        name = self.dataset_name and (title(self.dataset_name) if title else self.dataset_name)
        where = f", trained on {name}" if name else ""
        return f"{sizes} ({acts}){where}"


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def model_info(model) -> ModelInfo:
    """What ``model`` expects. Metadata from an uploaded file is untrusted: anything that
    does not fit the network's own shapes is ignored and inferred instead."""
    n_inputs = int(model.n_inputs)
    n_out = int(model.n_outputs)
    n_classes = 2 if n_out == 1 else n_out
    meta = model.metadata if isinstance(getattr(model, "metadata", None), dict) else {}
    ds = meta.get("dataset") if isinstance(meta.get("dataset"), dict) else {}

    shape = ds.get("image_shape")
    image_shape = None
    if (isinstance(shape, (list, tuple)) and len(shape) == 2 and all(_is_int(s) and s > 0 for s in shape)
            and shape[0] * shape[1] == n_inputs):
        image_shape = (int(shape[0]), int(shape[1]))
    elif "image_shape" not in ds:   # no word either way: guess from the width
        image_shape = {784: (28, 28), 64: (8, 8)}.get(n_inputs)

    names = ds.get("class_names")
    if isinstance(names, (list, tuple)) and len(names) == n_classes and all(isinstance(n, str) for n in names):
        class_names = [n[:30] for n in names]
    else:
        class_names = [str(i) for i in range(n_classes)]

    name = ds.get("name") if isinstance(ds.get("name"), str) else None
    spec = meta.get("spec") if isinstance(meta.get("spec"), dict) else {}
    data = spec.get("data") if isinstance(spec.get("data"), dict) else None
    if data is not None and not isinstance(data.get("name"), str):
        data = None

    sizes = [n_inputs] + [layer.out_features if isinstance(layer, Dense)
                          else f"conv{layer.out_channels}"
                          for layer in model.layers if isinstance(layer, Dense) or _is_conv(layer)]
    acts = [act for _, act, _ in hidden_layers(model)]
    return ModelInfo(n_inputs, n_classes, class_names, image_shape, name, data, sizes, acts)


def _is_conv(layer) -> bool:
    # By name: convolutional layers are newer than this page and may be absent.
    return type(layer).__name__ == "Conv2D"


def _units(layer) -> int:
    return int(getattr(layer, "out_features", getattr(layer, "out_channels", 0)))


def hidden_layers(model) -> list[tuple[int, str, int]]:
    """(index of the layer whose output is the representation, activation name, units —
    or feature maps for a convolution) for each hidden layer. A Dense or Conv2D layer
    followed by an ActivationLayer is represented by the activation's output; Dropout,
    pooling and reshaping are skipped."""
    layers = model.layers
    out = []
    for i, layer in enumerate(layers):
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if (isinstance(layer, Dense) or _is_conv(layer)) and not isinstance(nxt, ActivationLayer):
            out.append((i, layer.activation.name, _units(layer)))
        elif isinstance(layer, ActivationLayer):
            prev = next((l for l in reversed(layers[:i]) if isinstance(l, Dense) or _is_conv(l)),
                        None)
            out.append((i, layer.activation.name, _units(prev) if prev is not None else 0))
    return out[:-1]   # the last one is the output layer


# ---------------------------------------------------------------------- one input
@dataclass
class Explanation:
    probs: np.ndarray                 # (n_classes,)
    top: int
    activations: list[tuple[str, str, np.ndarray]]   # (title, activation name, values)
    saliency: np.ndarray | None       # ∂p_top/∂x, same length as x


def explain(model, x, *, saliency: bool = True) -> Explanation:
    """Run one input (flat, length ``n_inputs``) through ``model``."""
    x = np.asarray(x, dtype=model.dtype).reshape(1, -1)
    probs = model.predict_proba(x)[0]
    top = int(np.argmax(probs))
    wanted = {i: (act, units) for i, act, units in hidden_layers(model)}
    acts, a = [], x
    for i, layer in enumerate(model.layers):
        a = layer.forward(a, False)
        if i in wanted:
            act, _ = wanted[i]
            acts.append((f"Hidden layer {len(acts) + 1}", act, a[0].astype(np.float64).copy()))
    grad = None
    if saliency:
        if model.n_outputs == 1:     # one sigmoid unit: p(class 1) = output, p(class 0) = 1 − output
            g = model.input_gradient(x, 0)[0]
            grad = g if top == 1 else -g
        else:
            grad = model.input_gradient(x, top)[0]
        grad = np.asarray(grad, dtype=np.float64)
    return Explanation(np.asarray(probs, dtype=np.float64), top, acts, grad)


def is_convolutional(model) -> bool:
    return any(_is_conv(layer) for layer in model.layers)


def conv_feature_maps(model, x) -> list[tuple[str, str, np.ndarray]]:
    """(title, activation name, (C, H, W) maps) for each Conv2D and MaxPool2D layer of
    ``model`` on one input ``x``; an empty list for a network without them. Layers are
    numbered as in ``Network.summary``. A Conv2D followed by an ActivationLayer (seed 001
    style) is shown after that activation, as in ``hidden_layers``; a pooling layer keeps
    the activation of the maps it pools, so that ``activation_figure`` colours it alike."""
    outputs = [m["output"] for m in model.feature_maps(x)]
    layers = model.layers
    out, act = [], "linear"
    for i, layer in enumerate(layers):
        if _is_conv(layer):
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(nxt, ActivationLayer):
                maps, act = outputs[i + 1], nxt.activation.name
            else:
                maps, act = outputs[i], layer.activation.name
        elif type(layer).__name__ == "MaxPool2D":
            maps = outputs[i]
        else:
            continue
        c, h, w = maps.shape
        out.append((f"Layer {i}, {type(layer).__name__}: {c} maps of {h}×{w}", act,
                    maps.astype(np.float64)))
    return out


def prepare_drawing(image, image_shape) -> np.ndarray | None:
    """The canvas's RGBA array prepared the way the model's training images were, or None
    for an (almost) empty canvas."""
    return CANVAS_SHAPES[tuple(image_shape)](image)


def predict_all(model, X: np.ndarray) -> np.ndarray:
    """The model's answer for every row of X, as int64 class indices."""
    return np.asarray(model.predict(X), dtype=np.int64)


def browse_order(n: int, seed: int = 0) -> np.ndarray:
    """A fixed random order in which to show the test images."""
    return np.random.default_rng(seed).permutation(n)


# ---------------------------------------------------------------------- figures
def _square(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=34 if title else 4, b=4),
                      title=dict(text=title, font=dict(size=14), x=0.02) if title else None,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return fig


def image_figure(img: np.ndarray, title: str | None = None, height: int = 260) -> go.Figure:
    """The image the network receives, pixel by pixel (hover shows each value)."""
    img = np.asarray(img, dtype=np.float64)
    fig = go.Figure(go.Heatmap(z=img, colorscale="gray", zmin=0, zmax=1, showscale=False,
                               hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
    return _square(fig, height, title)


def probability_figure(probs, class_names, *, true_label: int | None = None,
                       height: int = 280) -> go.Figure:
    """One bar per class; the network's answer in the accent colour (green/red when the
    true label is known), the true class outlined."""
    probs = np.asarray(probs, dtype=np.float64)
    top = int(np.argmax(probs))
    colour = ACCENT
    if true_label is not None:
        colour = RIGHT if top == true_label else WRONG
    colours = [colour if i == top else MUTED for i in range(len(probs))]
    lines = [3 if i == true_label else 0 for i in range(len(probs))]
    names = [str(c) for c in class_names]
    fig = go.Figure(go.Bar(
        x=names, y=probs, marker=dict(color=colours, line=dict(color=RIGHT, width=lines)),
        text=[f"{p:.0%}" if p >= 0.005 else "" for p in probs], textposition="outside",
        hovertemplate="class %{x}: %{y:.3f}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=10, b=4), showlegend=False,
                      yaxis=dict(range=[0, 1.12], tickformat=".0%", title=None),
                      xaxis=dict(type="category", title=None),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig


def _grid(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lay ``n`` units out in a near-square grid (padding with NaN); also the unit numbers."""
    n = len(values)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    z = np.full(rows * cols, np.nan)
    z[:n] = values
    ids = np.full(rows * cols, np.nan)
    ids[:n] = np.arange(n)
    return z.reshape(rows, cols), ids.reshape(rows, cols)


def _mosaic(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(C, H, W) feature maps tiled into one near-square picture, a NaN gap between maps;
    also which map each cell belongs to."""
    cols = max(1, math.ceil(math.sqrt(len(maps))))
    which = np.broadcast_to(np.arange(len(maps), dtype=float)[:, None, None], maps.shape)
    return tile(maps, cols), tile(which, cols)


def activation_figure(values: np.ndarray, title: str, activation: str,
                      height: int = 240) -> go.Figure:
    """A hidden layer's units as a grid of cells, brighter = more active (a convolution's
    feature maps side by side). Layers whose activations can be negative (tanh, linear,
    leaky ReLU) get a two-sided colour scale."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 3:
        z, ids = _mosaic(values)
        gaps = {}
        hover = "map %{customdata:.0f}: %{z:.3f}<extra></extra>"
    else:
        values = values.ravel()
        z, ids = _grid(values)
        gaps = dict(xgap=1, ygap=1)
        hover = "unit %{customdata:.0f}: %{z:.3f}<extra></extra>"
    two_sided = activation in ("tanh", "linear", "leaky_relu") and np.nanmin(values) < 0
    if two_sided:
        m = float(np.nanmax(np.abs(values))) or 1.0
        scale = dict(colorscale="RdBu", reversescale=True, zmin=-m, zmax=m)
    else:
        top = float(np.nanmax(values)) if values.size else 1.0
        scale = dict(colorscale="Viridis", zmin=0, zmax=top if top > 0 else 1.0)
    fig = go.Figure(go.Heatmap(z=z, customdata=ids, showscale=False, **gaps, **scale,
                               hovertemplate=hover))
    return _square(fig, height, title)


def _robust_max(g: np.ndarray) -> float:
    """The colour range of a signed map: the 99th percentile of |g|, so that a handful of
    extreme pixels do not wash the rest out."""
    m = float(np.percentile(np.abs(g), 99)) if g.size else 0.0
    return m or float(np.abs(g).max()) or 1.0


def saliency_figure(img: np.ndarray, grad: np.ndarray, title: str,
                    height: int = 260) -> go.Figure:
    """A signed per-pixel map over the image (red positive, blue negative, white zero),
    with the drawing's outline on top."""
    img = np.asarray(img, dtype=np.float64)
    g = np.asarray(grad, dtype=np.float64).reshape(img.shape)
    m = _robust_max(g)
    fig = go.Figure(go.Heatmap(z=g, colorscale="RdBu", reversescale=True, zmin=-m, zmax=m,
                               showscale=False,
                               hovertemplate="row %{y}, col %{x}: %{z:.3g}<extra></extra>"))
    if img.max() > 0:
        fig.add_trace(go.Contour(z=img, showscale=False, hoverinfo="skip",
                                 contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                                 line=dict(color="#111827", width=1.5)))
    return _square(fig, height, title)


def decision_map_figure(model, X: np.ndarray, y: np.ndarray, class_names, point=None,
                        height: int = 420, steps: int = 150) -> go.Figure:
    """The class the model gives every point of the plane (shaded), the test points on
    top, and ``point`` as a star."""
    from nncore.runs.experiments import decision_grid

    X = np.asarray(X, dtype=np.float64)
    pts = X if point is None else np.vstack([X, np.asarray(point, dtype=np.float64)[None, :]])
    margin = 0.1 * float(np.ptp(pts, axis=0).max()) + 1e-6
    grid = decision_grid(model, pts, resolution=steps, margin=margin)
    xs, ys = grid["x"], grid["y"]
    # the class at every grid point (the binary grid holds the probability of class 1)
    cls = grid["z"] if grid["kind"] == "classes" else (grid["z"] > 0.5).astype(float)
    k = len(class_names)
    colours = [CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(k)]
    scale = []
    for i, c in enumerate(colours):
        scale += [[i / k, c], [(i + 1) / k, c]]
    fig = go.Figure(go.Heatmap(x=xs, y=ys, z=cls, zmin=-0.5, zmax=k - 0.5, colorscale=scale,
                               opacity=0.28, showscale=False, hoverinfo="skip"))
    for i in range(k):
        m = np.asarray(y) == i
        if m.any():
            fig.add_trace(go.Scatter(x=X[m, 0], y=X[m, 1], mode="markers", name=str(class_names[i]),
                                     marker=dict(color=colours[i], size=6,
                                                 line=dict(color="white", width=0.5))))
    if point is not None:
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="your point",
                                 marker=dict(symbol="star", size=18, color="#111827",
                                             line=dict(color="white", width=1.5))))
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=10, b=4),
                      xaxis_title="x1", yaxis_title="x2", legend=dict(orientation="h", y=-0.15),
                      plot_bgcolor="white")
    return fig


# ---------------------------------------------------------------------- uploads
def load_uploaded_model(uploaded):
    """(network, message) from an uploaded .npz — an ``UploadedFile`` or anything with
    ``name`` and ``getvalue()`` / raw bytes. On any problem the network is None and the
    message says what is wrong in a sentence (no stack trace)."""
    from nncore.serialization import ModelFileError, load

    name = str(getattr(uploaded, "name", "the file"))[-80:]
    try:
        data = uploaded.getvalue() if hasattr(uploaded, "getvalue") else bytes(uploaded)
    except Exception:  # noqa: BLE001
        return None, f"{name} could not be read."
    try:
        network = load(data, name=name)
    except ModelFileError as exc:
        return None, f"This is not a model the app can use. {exc}"
    except Exception as exc:  # noqa: BLE001 — anything else a hostile file can trigger
        return None, f"{name} is not a model file this app can read ({type(exc).__name__})."
    try:
        info = model_info(network)
        network.predict_proba(np.zeros((1, info.n_inputs), dtype=network.dtype))
    except Exception as exc:  # noqa: BLE001
        return None, f"{name} loads, but the network in it cannot run: {exc}"
    return network, f"Loaded {name}: {info.describe()}."
