"""Plotly figures for the Training page. Pure functions of plain data: no session state,
no Streamlit, so the page can cache them and tests can build them directly."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.figures.common import (TRAIN, VAL, class_colour, class_scale, finite, mosaic,
                                probability_scale, probability_title)

RAW, SMOOTH = "rgba(79,70,229,0.25)", TRAIN      # a batch's loss, and its running average
MAX_DRAWN = 1000        # points per line in the live batch-loss chart


def _layout(fig: go.Figure, title: str, height: int = 300, **kwargs) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)), height=height,
                      margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
                      uirevision="keep", **kwargs)
    return fig


def _layout_dict(title: str, height: int = 300, **axes) -> dict:
    return {"title": {"text": title, "x": 0, "font": {"size": 15}}, "height": height,
            "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "uirevision": "keep",
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right",
                       "x": 1}, **axes}


def _fast(traces: list[dict], layout: dict) -> go.Figure:
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def ema(values, alpha: float = 0.05) -> np.ndarray:
    """Exponential moving average, the smoothed line over the raw batch losses."""
    out = []
    acc = None
    for v in np.asarray(values, dtype=np.float64).tolist():
        if v != v or v in (float("inf"), float("-inf")):
            out.append(float("nan"))
            continue
        acc = v if acc is None else alpha * v + (1 - alpha) * acc
        out.append(acc)
    return np.asarray(out, dtype=np.float64)


def batch_loss_figure(pairs, log_y: bool = False) -> go.Figure:
    """Loss of every batch (thinned to a bounded number of points), with its EMA."""
    traces = []
    if len(pairs):
        arr = np.asarray(pairs, dtype=np.float64)
        steps, losses = arr[:, 0], arr[:, 1]
        alpha = 2 / (1 + max(10, len(losses) // 20))
        smooth = ema(losses, alpha)                      # over every point…
        every = -(-len(steps) // MAX_DRAWN)              # …drawn at most MAX_DRAWN
        steps, losses, smooth = steps[::every], losses[::every], smooth[::every]
        traces = [{"type": "scatter", "x": steps, "y": np.round(finite(losses), 5),
                   "name": "batch loss", "mode": "lines", "line": {"color": RAW, "width": 1}},
                  {"type": "scatter", "x": steps, "y": np.round(finite(smooth), 5),
                   "name": "smoothed (EMA)", "mode": "lines",
                   "line": {"color": SMOOTH, "width": 2.5}}]
    yaxis = {"title": {"text": "loss"}}
    if log_y:
        yaxis["type"] = "log"
    return _fast(traces, _layout_dict("Loss per batch", xaxis={"title": {"text": "batch (step)"}},
                                      yaxis=yaxis))


def boundary_figure(grid: dict, X, y, correct=None, class_names=None,
                    title: str = "Decision boundary", highlight=None) -> go.Figure:
    """Seed 003's contour of the network output, with the points on top; with
    ``correct`` the points are marked right (●) or wrong (✕) as in seed 002; with
    ``highlight`` (a mask of the points, or a (mask, label) pair) those points are ringed."""
    fig = go.Figure()
    if grid["kind"] == "binary":
        fig.add_trace(go.Contour(x=grid["x"], y=grid["y"], z=grid["z"],
                                 colorscale=probability_scale(), zmin=0, zmax=1, opacity=0.55,
                                 ncontours=20, contours=dict(showlines=False),
                                 colorbar=dict(title=probability_title(class_names),
                                               thickness=12)))
        fig.add_trace(go.Contour(x=grid["x"], y=grid["y"], z=grid["z"], showscale=False,
                                 contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                                 line=dict(color="black", width=2), hoverinfo="skip",
                                 name="boundary (0.5)"))
    else:
        k = grid["n_classes"]
        fig.add_trace(go.Heatmap(x=grid["x"], y=grid["y"], z=grid["z"],
                                 colorscale=class_scale(k), zmin=-0.5, zmax=k - 0.5, opacity=0.35, showscale=False,
                                 hoverinfo="skip"))
    X, y = np.asarray(X), np.asarray(y)
    names = class_names or [str(c) for c in range(int(y.max()) + 1 if y.size else 0)]
    for c in np.unique(y):
        sel = y == c
        colour = class_colour(int(c))
        label = names[int(c)] if int(c) < len(names) else str(c)
        if correct is None:
            fig.add_trace(go.Scatter(x=X[sel, 0], y=X[sel, 1], mode="markers", name=label,
                                       marker=dict(color=colour, size=6,
                                                   line=dict(color="white", width=0.5))))
            continue
        ok = sel & correct
        bad = sel & ~correct
        fig.add_trace(go.Scatter(x=X[ok, 0], y=X[ok, 1], mode="markers",
                                   name=f"{label}: right", marker=dict(color=colour, size=6,
                                   line=dict(color="white", width=0.5))))
        if bad.any():
            fig.add_trace(go.Scatter(x=X[bad, 0], y=X[bad, 1], mode="markers",
                                       name=f"{label}: wrong", marker=dict(
                                           color=colour, size=10, symbol="x",
                                           line=dict(color="black", width=1.5))))
    if highlight is not None:
        mask, label = highlight if isinstance(highlight, tuple) else (highlight, "chosen")
        mask = np.asarray(mask, dtype=bool)
        fig.add_trace(go.Scatter(x=X[mask, 0], y=X[mask, 1], mode="markers", name=label,
                                 marker=dict(size=16, symbol="circle-open", color="#111827",
                                             line=dict(width=2.5))))
    _layout(fig, title, height=460, xaxis_title="x₁", yaxis_title="x₂")
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0))
    # One unit is as long on both axes; a narrow column shrinks the plot ("domain")
    # rather than stretching an axis past the grid, where nothing is drawn.
    fig.update_xaxes(range=[float(grid["x"][0]), float(grid["x"][-1])], showgrid=False,
                     constrain="domain")
    fig.update_yaxes(range=[float(grid["y"][0]), float(grid["y"][-1])], showgrid=False,
                     scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


# ------------------------------------------------------------------ after training
def confusion_figure(cm: np.ndarray, class_names) -> go.Figure:
    names = [str(n) for n in class_names]
    totals = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, totals, out=np.zeros(cm.shape), where=totals > 0)
    fig = go.Figure(go.Heatmap(z=share, x=names, y=names, colorscale="Blues", zmin=0, zmax=1,
                               text=cm, texttemplate="%{text}", showscale=False,
                               hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    _layout(fig, "Confusion matrix (test set)", height=380 + 8 * len(names),
            xaxis_title="predicted", yaxis_title="true")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="bottom")
    # A clickable point at the centre of every cell (a heatmap's cells are not clickable
    # in Plotly's select mode): clicking one selects (true, predicted) as customdata.
    true, pred = np.nonzero(cm >= 0)
    fig.add_trace(go.Scatter(x=[names[j] for j in pred], y=[names[i] for i in true],
                             mode="markers", customdata=np.stack([true, pred], axis=1),
                             marker=dict(size=28, symbol="square", color="rgba(0,0,0,0.01)"),
                             hoverinfo="skip", showlegend=False, name="cells"))
    fig.update_layout(clickmode="event+select", dragmode=False)
    return fig


def saliency_picture(grad, image_shape, size: int = 84) -> np.ndarray:
    """A signed per-pixel map as an RGB picture for ``st.image``: red where a pixel pushes
    the answer up, blue where it pushes it down, white for nothing (the 99th percentile of
    |g| is full colour, so a few extreme pixels do not wash the rest out)."""
    h, w = image_shape
    g = np.asarray(grad, dtype=np.float64).reshape(h, w)
    m = float(np.percentile(np.abs(g), 99)) or float(np.abs(g).max()) or 1.0
    t = np.clip(g / m, -1, 1)
    red = np.where(t > 0, 1.0, 1.0 + t)             # positive: white → red
    blue = np.where(t < 0, 1.0, 1.0 - t)            # negative: white → blue
    green = 1.0 - np.abs(t)
    rgb = (255 * np.stack([red, green, blue], axis=-1)).astype(np.uint8)
    factor = max(1, size // max(h, w))
    return np.kron(rgb, np.ones((factor, factor, 1), np.uint8))


def per_class_figure(accuracy: np.ndarray, class_names) -> go.Figure:
    names = [str(n) for n in class_names]
    acc = [None if not np.isfinite(a) else float(a) for a in accuracy]
    fig = go.Figure(go.Bar(x=names, y=acc, marker_color=TRAIN,
                           text=[f"{a:.1%}" if a is not None else "–" for a in acc],
                           textposition="outside"))
    _layout(fig, "Accuracy of each class (test set)", height=380, xaxis_title="class",
            yaxis_title="accuracy")
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%")
    fig.update_xaxes(type="category")
    return fig


def weight_images_figure(images: np.ndarray, columns: int = 8, what: str = "units") -> go.Figure:
    columns = min(columns, len(images))
    tiles = mosaic(images, columns)
    fig = go.Figure(go.Heatmap(z=tiles, colorscale="RdBu_r", zmin=-1, zmax=1, showscale=False,
                               hoverinfo="skip"))
    rows = -(-len(images) // columns)
    _layout(fig, f"First layer: the weights of {len(images)} {what}, as images "
            "(red +, blue −)", height=80 + 70 * rows)
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    return fig


def layer_histograms_figure(stats: list[dict]) -> go.Figure:
    """Per Dense layer: a histogram of its weights and of log₁₀ |gradient|."""
    n = len(stats)
    fig = make_subplots(rows=n, cols=2, horizontal_spacing=0.08,
                        vertical_spacing=min(0.12, 0.5 / max(n, 1)),
                        subplot_titles=[t for s in stats for t in
                                        (f"{s['layer']}: weights",
                                         f"{s['layer']}: log₁₀ |gradient|"
                                         + (f" ({s['zero_grad_share']:.0%} exactly 0)"
                                            if s.get("zero_grad_share") else ""))])
    for i, s in enumerate(stats, 1):
        for j, (key, colour) in enumerate((("weights", TRAIN), ("log10_grad", VAL)), 1):
            h = s[key]
            if len(h["counts"]):
                edges = np.asarray(h["edges"])
                fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=h["counts"],
                                     width=np.diff(edges), marker_color=colour,
                                     showlegend=False, hovertemplate="%{x:.3g}: %{y}<extra></extra>"),
                              row=i, col=j)
    _layout(fig, "Weights and gradient magnitudes per layer (gradients on a fixed batch "
            "of 512 training samples)", height=80 + 190 * n)
    fig.update_annotations(font_size=12)
    return fig


def dead_relu_figure(stats: list[dict]) -> go.Figure:
    relu = [s for s in stats if s["dead_share"] is not None]
    fig = go.Figure(go.Bar(x=[s["layer"] for s in relu], y=[s["dead_share"] for s in relu],
                           marker_color="#dc2626",
                           text=[f"{s['dead_units']}/{s['units']} dead" for s in relu],
                           textposition="outside"))
    _layout(fig, "Dead ReLU units (output 0 on every sample of the batch)", height=300,
            yaxis_title="share of units")
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%")
    return fig


# ------------------------------------------------------------------ experiments
def rate_study_figure(curves: dict, results: dict | None = None, log_y: bool = True) -> go.Figure:
    fig = go.Figure()
    palette = ["#dc2626", "#ea580c", "#ca8a04", "#16a34a", "#0891b2", "#4f46e5"]
    for i, rate in enumerate(sorted(curves, reverse=True)):
        losses = curves[rate]
        note = ""
        if results and rate in results and results[rate].get("diverged"):
            note = " (diverged)"
        fig.add_trace(go.Scatter(x=np.arange(1, len(losses) + 1), y=finite(losses),
                                   mode="lines", name=f"lr {rate:g}{note}",
                                   line=dict(color=palette[i % len(palette)], width=2)))
    _layout(fig, "Learning-rate study: training loss per epoch", height=380,
            xaxis_title="epoch", yaxis_title="loss")
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def crosscheck_figure(ours, theirs) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.arange(1, len(ours) + 1), y=finite(ours), mode="lines",
                               name="nncore", line=dict(color=TRAIN, width=2)))
    fig.add_trace(go.Scatter(x=np.arange(1, len(theirs) + 1), y=finite(theirs),
                               mode="lines", name="scikit-learn MLPClassifier",
                               line=dict(color=VAL, width=2, dash="dash")))
    _layout(fig, "Cross-check: training loss per epoch", height=360, xaxis_title="epoch",
            yaxis_title="loss")
    return fig
