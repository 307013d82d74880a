"""Plotly figures for the Dataset page: class counts, image grids, the 2-D scatter."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lab.figures.common import ACCENT, class_colour, tile

SYMBOLS = {"train": "circle", "val": "diamond", "test": "x"}


def class_counts_figure(ds):
    """Examples per class, one bar per split."""
    fig = go.Figure()
    for split, color in (("train", "#4f46e5"), ("val", "#f59e0b"), ("test", "#10b981")):
        counts = np.bincount(getattr(ds, f"y_{split}"), minlength=ds.n_classes)
        fig.add_trace(go.Bar(x=list(ds.class_names), y=counts, name=split, marker_color=color))
    fig.update_layout(barmode="group", height=360, margin=dict(t=50, b=10),
                      title="Examples per class in each split", xaxis_type="category",
                      yaxis_title="examples", legend_title="split")
    return fig


def image_grid_figure(images, titles, cols, title, height):
    """Small images tiled into one heatmap (much lighter than one subplot per image), each
    with its label above it."""
    n, h, w = images.shape
    gap = max(2, h // 4)
    canvas = tile(images, cols, row_gap=gap, gap_above=True)
    fig = go.Figure(go.Heatmap(z=canvas, colorscale="Greys", zmin=0, showscale=False,
                               zmax=max(1.0, float(np.nanmax(images))), hoverinfo="skip"))
    for i, text in enumerate(titles):
        r, c = divmod(i, cols)
        fig.add_annotation(x=c * (w + 1) + (w - 1) / 2, y=r * (h + gap) + gap - 0.6, text=text,
                           showarrow=False, yanchor="bottom", font=dict(size=12))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(title=title, height=height, margin=dict(t=40, b=0, l=0, r=0),
                      plot_bgcolor="white")
    return fig


def scatter_figure(ds, limit=4000):
    X = np.concatenate([ds.X_train, ds.X_val, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    split = np.repeat(["train", "val", "test"], [ds.n_train, ds.n_val, ds.n_test])
    if len(X) > limit:
        keep = np.random.default_rng(0).choice(len(X), limit, replace=False)
        X, y, split = X[keep], y[keep], split[keep]
    second = X[:, 1] if X.shape[1] > 1 else np.zeros(len(X))
    fig = go.Figure()
    for c, name in enumerate(ds.class_names):
        m = y == c
        fig.add_trace(go.Scatter(
            x=X[m, 0], y=second[m], mode="markers", name=name,
            marker=dict(size=6, opacity=0.75, color=class_colour(c),
                        symbol=[SYMBOLS[s] for s in split[m]]),
            text=split[m], hovertemplate="%{text}: (%{x:.2f}, %{y:.2f})<extra>" + name + "</extra>"))
    total = ds.n_train + ds.n_val + ds.n_test
    fig.update_yaxes(scaleanchor="x", scaleratio=1, title="x₂")
    fig.update_xaxes(title="x₁")
    fig.update_layout(height=520, margin=dict(t=50, b=10), legend_title="class",
                      title="Every point, coloured by class" if len(X) == total
                      else f"A random {len(X):,} of the {total:,} points, coloured by class")
    return fig


def pixel_histogram_figure(rows):
    """How bright the pixels of some training images are (log scale: most are 0)."""
    counts, edges = np.histogram(rows, bins=32, range=(0.0, max(1.0, float(rows.max()))))
    fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, marker_color=ACCENT))
    fig.update_yaxes(type="log", title="pixels")
    fig.update_xaxes(title="pixel intensity (0 = background, 1 = full ink)")
    fig.update_layout(height=360, margin=dict(t=50, b=10), bargap=0.05,
                      title=f"Pixel intensities of {len(rows):,} training images (log scale)")
    return fig


def class_means(ds, limit: int = 20):
    """The mean training image of each of the first ``limit`` classes, (k, h, w)."""
    shown = range(min(ds.n_classes, limit))
    means = [ds.X_train[ds.y_train == c].mean(axis=0) if np.any(ds.y_train == c)
             else np.zeros(ds.n_features, np.float32) for c in shown]
    return np.stack(means).reshape(-1, *ds.image_shape)
