"""The replay of a run: its decision boundary (2-D data), its loss and accuracy curves with a
cursor, and that epoch's figures, moved together by one epoch slider and a Play button.

One Plotly figure with one animation frame per snapshot the run kept
(``nncore.jobs.threads.Snapshot``): the browser plays and scrubs it on its own, with no
round trip to the server, so a run that took a second can be watched epoch by epoch, and
watching costs the shared server nothing. Pure function of plain data, no Streamlit.

A frame is a dict: ``epoch``, ``metrics`` (that epoch's train_loss, train_accuracy,
val_loss, val_accuracy, those recorded), and for 2-D data ``grid`` (``decision_grid`` of
that epoch's network) and ``wrong`` (the points it got wrong then, a boolean mask).

The figure holds all its frames, so they are kept small: each frame sends only what
changes (the boundary's values, the wrong points, the cursors), and a two-class boundary
sends P(class 1) in steps of 1/255 as one byte per grid point (``shade``) — the side of
0.5 every point is on stays exact — so 50 frames of a 60×60 grid weigh about 250 kB.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lab.figures.common import (TRAIN, VAL, class_colour, class_scale, finite,
                                probability_scale, probability_title)

CURSOR = "#111827"
FRAME_MS = 150                  # one snapshot on screen while playing: 50 in 7.5 s

_NAMES = {"train_loss": "training loss", "train_accuracy": "training accuracy",
          "val_loss": "validation loss", "val_accuracy": "validation accuracy"}


def caption(frame: dict, epochs: int) -> str:
    """"Epoch 340 of 1000 · training loss 0.2310 · training accuracy 94.1% · …"; a frame
    of a run's state now (``now``) says so."""
    if frame.get("now"):
        parts = [f"Now: {frame['epoch']} of {epochs} epochs done"]
    else:
        parts = [f"Epoch {frame['epoch']} of {epochs}" if frame["epoch"] else "Before training"]
    for key, name in _NAMES.items():
        value = frame["metrics"].get(key)
        if value is not None and np.isfinite(value):
            parts.append(f"{name} {value:.1%}" if key.endswith("accuracy") else
                         f"{name} {value:.4f}")
    return " · ".join(parts)


def _range(*curves) -> list[float]:
    values = np.concatenate([c for c in curves if c.size] or [np.zeros(1)])
    values = values[np.isfinite(values)]
    if not values.size:
        return [0.0, 1.0]
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) or 0.05 * abs(hi) or 0.05
    return [lo - pad, hi + pad]


def shade(grid: dict) -> np.ndarray:
    """The values a frame sends for ``grid``: P(class 1) × 255 rounded, as uint8, for two
    classes; the predicted class, as int8, for more."""
    if grid["kind"] == "binary":
        return np.rint(np.asarray(grid["z"], np.float64) * 255).astype(np.uint8)
    return np.asarray(grid["z"]).astype(np.int8)


def _boundary(grid: dict, whole: bool, class_names=None) -> dict:
    """The boundary trace (``whole``), or what a frame changes of it: its map, and the grid
    it is drawn on (the last frame's is finer than the others')."""
    trace = {"type": "contour" if grid["kind"] == "binary" else "heatmap", "z": shade(grid),
             "x": grid["x"], "y": grid["y"]}
    if not whole:
        return trace
    trace.update(hoverinfo="skip", xaxis="x", yaxis="y")
    if grid["kind"] == "binary":   # P(class 1) shaded, the 0.5 line drawn on it
        ticks = [0, 0.25, 0.5, 0.75, 1]
        trace.update(colorscale=probability_scale(), zmin=0, zmax=255, opacity=0.55,
                     line={"color": "black", "width": 2},
                     contours={"coloring": "heatmap", "start": 127.5, "end": 127.5,
                               "size": 255, "showlines": True},
                     colorbar={"title": {"text": probability_title(class_names)},
                               "thickness": 12, "len": 0.9,
                               "x": 0.41, "tickvals": [255 * t for t in ticks],
                               "ticktext": [f"{t:g}" for t in ticks]})
        return trace
    k = grid["n_classes"]
    trace.update(colorscale=class_scale(k), zmin=-0.5, zmax=k - 0.5, opacity=0.35,
                 showscale=False)
    return trace


def _wrong(X: np.ndarray, wrong, whole: bool) -> dict:
    wrong = np.zeros(len(X), bool) if wrong is None else np.asarray(wrong, bool)
    trace = {"type": "scatter", "x": X[wrong, 0], "y": X[wrong, 1]}
    if whole:
        trace.update(mode="markers", name="wrong", xaxis="x", yaxis="y",
                     hoverinfo="skip", marker={"symbol": "x", "size": 9, "color": CURSOR})
    return trace


def _cursor(epoch: int, span: list[float], axes: tuple[str, str], whole: bool) -> dict:
    trace = {"type": "scatter", "x": [epoch, epoch]}
    if whole:
        trace.update(y=span, mode="lines", showlegend=False,
                     line={"color": CURSOR, "width": 1.5, "dash": "dot"}, hoverinfo="skip",
                     xaxis=axes[0], yaxis=axes[1])
    return trace


def _marks(frame: dict, metric: str, axes: tuple[str, str], whole: bool) -> dict:
    """That epoch's values on the curves: training first, then validation."""
    shown = [(k, frame["metrics"].get(k)) for k in (f"train_{metric}", f"val_{metric}")]
    shown = [(k, v) for k, v in shown if v is not None and np.isfinite(v)]
    trace = {"type": "scatter", "x": [frame["epoch"]] * len(shown), "y": [v for _, v in shown],
             "marker": {"size": 9, "line": {"color": "white", "width": 1},
                        "color": [TRAIN if k.startswith("train") else VAL for k, _ in shown]}}
    if whole:
        trace.update(mode="markers", showlegend=False, hoverinfo="skip", xaxis=axes[0],
                     yaxis=axes[1])
    return trace


def replay_figure(history: dict, frames: list[dict], epochs: int, points=None,
                  class_names=None, height: int | None = None) -> go.Figure:
    """The run's curves (``history``: per-epoch lists) and, with ``points`` (X, y) and
    frames that hold grids, its decision boundary; one animation frame per element of
    ``frames``, oldest first, the figure showing the last."""
    boundary = points is not None and all(f.get("grid") is not None for f in frames)
    if boundary:
        X, y = np.asarray(points[0]), np.asarray(points[1])
        loss_axes, acc_axes = ("x2", "y2"), ("x3", "y3")
    else:
        loss_axes, acc_axes = ("x", "y"), ("x2", "y2")
    x_epochs = np.asarray(history.get("epoch", []), dtype=np.int64)
    curves = {k: finite(history.get(k, [])) for k in _NAMES}
    loss_span = _range(curves["train_loss"], curves["val_loss"])
    acc_span = [0.0, 1.02]
    last = frames[-1]

    traces, moving = [], []            # moving: the traces each frame changes
    if boundary:
        moving.append(len(traces))
        names = class_names or [str(c) for c in range(int(y.max()) + 1 if y.size else 0)]
        traces.append(_boundary(last["grid"], whole=True, class_names=names))
        for c in np.unique(y):
            sel = y == c
            label = names[int(c)] if int(c) < len(names) else str(c)
            traces.append({"type": "scatter", "x": X[sel, 0], "y": X[sel, 1], "mode": "markers",
                           "name": label, "xaxis": "x", "yaxis": "y", "hoverinfo": "skip",
                           "marker": {"color": class_colour(int(c)), "size": 6,
                                      "line": {"color": "white", "width": 0.5}}})
        moving.append(len(traces))
        traces.append(_wrong(X, last.get("wrong"), whole=True))
    for metric, axes in (("loss", loss_axes), ("accuracy", acc_axes)):
        for key, colour, label in ((f"train_{metric}", TRAIN, "training"),
                                   (f"val_{metric}", VAL, "validation")):
            if len(curves[key]):
                traces.append({"type": "scatter", "x": x_epochs, "y": curves[key],
                               "mode": "lines", "name": label, "line": {"color": colour},
                               "legendgroup": label, "showlegend": metric == "loss",
                               "xaxis": axes[0], "yaxis": axes[1]})
    spans = {"loss": (loss_span, loss_axes), "accuracy": (acc_span, acc_axes)}
    for metric, (span, axes) in spans.items():
        moving.append(len(traces))
        traces.append(_cursor(last["epoch"], span, axes, whole=True))
        moving.append(len(traces))
        traces.append(_marks(last, metric, axes, whole=True))

    def frame_data(frame):
        data = []
        if boundary:
            data += [_boundary(frame["grid"], whole=False),
                     _wrong(X, frame.get("wrong"), whole=False)]
        for metric, (span, axes) in spans.items():
            data += [_cursor(frame["epoch"], span, axes, whole=False),
                     _marks(frame, metric, axes, whole=False)]
        return data

    # go.Frame unvalidated: Plotly would check every frame's arrays, ~20 ms each
    def title(frame):
        return {"text": caption(frame, epochs), "x": 0, "font": {"size": 15}}

    animation = [go.Frame(name=f"f{i}", data=frame_data(f), traces=moving,
                          layout={"title.text": caption(f, epochs)}, _validate=False)
                 for i, f in enumerate(frames)]
    still = {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
             "transition": {"duration": 0}}
    x_range = [0, max(int(x_epochs.max()) if x_epochs.size else 1, last["epoch"], 1)]
    layout = {
        "title": title(last),
        "height": height or (560 if boundary else 420), "uirevision": "keep",
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right",
                   "x": 1},
        loss_axes[0].replace("x", "xaxis"): {"title": {"text": "epoch"}, "range": x_range,
                                             "anchor": loss_axes[1]},
        loss_axes[1].replace("y", "yaxis"): {"title": {"text": "loss"}, "range": loss_span,
                                             "anchor": loss_axes[0]},
        acc_axes[0].replace("x", "xaxis"): {"title": {"text": "epoch"}, "range": x_range,
                                            "anchor": acc_axes[1]},
        acc_axes[1].replace("y", "yaxis"): {"title": {"text": "accuracy"}, "range": acc_span,
                                            "tickformat": ".0%", "anchor": acc_axes[0]},
        "sliders": [{"active": len(frames) - 1, "x": 0.14, "len": 0.86, "y": 0,
                     "yanchor": "top", "pad": {"t": 50},
                     "currentvalue": {"prefix": "epoch ", "xanchor": "right",
                                      "font": {"size": 13}},
                     "steps": [{"label": str(f["epoch"]), "method": "animate",
                                "args": [[f"f{i}"], still]} for i, f in enumerate(frames)]}],
        "updatemenus": [{"type": "buttons", "direction": "left", "showactive": False,
                         "x": 0, "y": 0, "xanchor": "left", "yanchor": "top",
                         "pad": {"t": 58, "r": 10},
                         "buttons": [
                             {"label": "▶ Play", "method": "animate",
                              "args": [None, {"mode": "immediate", "fromcurrent": False,
                                              "frame": {"duration": FRAME_MS, "redraw": True},
                                              "transition": {"duration": 0}}]},
                             {"label": "Pause", "method": "animate",
                              "args": [[None], {"mode": "immediate",
                                                "frame": {"duration": 0, "redraw": False}}]}]}],
    }
    if boundary:
        grid = last["grid"]
        layout.update(
            xaxis={"domain": [0, 0.38], "range": [float(grid["x"][0]), float(grid["x"][-1])],
                   "title": {"text": "x₁"}, "showgrid": False, "anchor": "y",
                   "constrain": "domain"},
            yaxis={"domain": [0, 1], "range": [float(grid["y"][0]), float(grid["y"][-1])],
                   "title": {"text": "x₂"}, "showgrid": False, "scaleanchor": "x",
                   "scaleratio": 1, "anchor": "x", "constrain": "domain"})
        layout["xaxis2"].update(domain=[0.58, 1])
        layout["yaxis2"].update(domain=[0.56, 1])
        layout["xaxis3"].update(domain=[0.58, 1])
        layout["yaxis3"].update(domain=[0, 0.42])
    else:
        layout["xaxis"].update(domain=[0, 0.46])
        layout["xaxis2"].update(domain=[0.54, 1])
    return go.Figure({"data": traces, "layout": layout, "frames": animation}, _validate=False)
