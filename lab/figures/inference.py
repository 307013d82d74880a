"""Plotly figures for the Inference page (and the feature maps the Training page shows).

Pure functions of arrays: no Streamlit, no session state. What they draw comes from
``lab.models`` (``explain``, ``conv_feature_maps``).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from lab.figures.common import ACCENT, class_colour, class_scale, tile

MUTED = "#c7c9d9"
WRONG = "#dc2626"
RIGHT = "#16a34a"


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
    fig = go.Figure(go.Heatmap(x=xs, y=ys, z=cls, zmin=-0.5, zmax=k - 0.5,
                               colorscale=class_scale(k), opacity=0.28, showscale=False,
                               hoverinfo="skip"))
    for i in range(k):
        m = np.asarray(y) == i
        if m.any():
            fig.add_trace(go.Scatter(x=X[m, 0], y=X[m, 1], mode="markers", name=str(class_names[i]),
                                     marker=dict(color=class_colour(i), size=6,
                                                 line=dict(color="white", width=0.5))))
    if point is not None:
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="your point",
                                 marker=dict(symbol="star", size=18, color="#111827",
                                             line=dict(color="white", width=1.5))))
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=10, b=4),
                      xaxis_title="x1", yaxis_title="x2", legend=dict(orientation="h", y=-0.15),
                      plot_bgcolor="white")
    return fig
