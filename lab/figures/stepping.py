"""What step mode draws, without Streamlit: a step's matrices as heatmaps, feature maps and
kernels as tiles, the loss of every step, the initialisation explorer's small multiples,
one neuron's terms, and the network of unit maps for 2-D data.

Large matrices are drawn as images, never as thousands of table cells: a heatmap shows at
most MAX_SIDE rows and columns (evenly spaced, each one a real entry, its index on hover),
and the numbers themselves only when the matrix is small (NUMBERS × NUMBERS at most).
Figures are built as plain dicts handed to Plotly unvalidated, as the live charts are:
validation would cost more than the step they show.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lab.figures.common import class_colour, tile

MAX_SIDE = 80        # rows / columns of a heatmap drawn at most
NUMBERS = 16         # up to NUMBERS × NUMBERS entries, the numbers are written in the cells
WIDTH = 900          # about how wide step mode draws a figure, in pixels (room for numbers)
SCALE = "RdBu"       # Plotly's runs blue → red: reversed, red is negative, blue positive
POSITIVE, NEGATIVE = "#2563eb", "#f97316"    # edges: blue for w > 0, orange for w < 0


def _fast(traces: list[dict], layout: dict) -> go.Figure:
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def _layout(title: str | None, height: int, **extra) -> dict:
    layout = {"height": height, "margin": {"l": 10, "r": 10, "t": 48 if title else 30, "b": 10},
              "uirevision": "keep", "showlegend": False, **extra}
    if title:
        layout["title"] = {"text": title, "x": 0, "font": {"size": 14}}
    return layout


def _domain(start: float, end: float) -> list[float]:
    """An axis's share of the figure, kept inside [0, 1] (sums of fractions drift)."""
    return [min(max(start, 0.0), 1.0), min(max(end, 0.0), 1.0)]


def _limit(a) -> float:
    a = np.asarray(a, dtype=np.float64)
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def picked(n: int, keep: int | None = None) -> np.ndarray:
    """Which of n rows (or columns) a heatmap draws: all of them up to MAX_SIDE, else
    MAX_SIDE evenly spaced ones, plus ``keep`` (the sample followed)."""
    if n <= MAX_SIDE:
        return np.arange(n)
    rows = np.unique(np.linspace(0, n - 1, MAX_SIDE).round().astype(int))
    return np.union1d(rows, [keep]) if keep is not None else rows


def _as_2d(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        return a[None, :]
    return a.reshape(a.shape[0], -1) if a.ndim > 2 else a


def matrix_figure(panels, title: str | None = None, height: int = 250) -> go.Figure:
    """Heatmaps side by side, one per ``(name, array, row to mark or None)``; each titled
    with its shape, the numbers in the cells when it is small, the followed row boxed.
    ``panels`` may also be a list of such rows, drawn one under the other (``height``
    then a list, one per row): fewer charts for the browser to draw."""
    rows_of = panels if panels and isinstance(panels[0], list) else [panels]
    heights = height if isinstance(height, (list, tuple)) else [height] * len(rows_of)
    total = sum(heights) + 30 * (len(rows_of) - 1)
    traces, annotations, shapes = [], [], []
    layout = _layout(title, total + (70 if title else 30))
    n, top = 0, 1.0
    for row_panels, h in zip(rows_of, heights):
        y_domain = _domain(top - (h - 40) / total, top)       # room for the titles above
        n = _panel_row(row_panels, y_domain, n, traces, layout, annotations, shapes)
        top -= (h + 30) / total
    layout.update(annotations=annotations, shapes=shapes)
    layout["margin"]["t"] = 70 if title else 30
    return _fast(traces, layout)


def _panel_row(panels, y_domain, n, traces, layout, annotations, shapes) -> int:
    """One row of heatmaps on axes n + 1, n + 2, …; returns the last axis number used."""
    k, gap = len(panels), 0.04
    spans = [max(4, min(len(picked(_as_2d(a).shape[1])), 24)) for _, a, _ in panels]
    x0 = 0.0
    for p, (name, array, row) in enumerate(panels):
        width = (1 - gap * (k - 1)) * spans[p] / sum(spans)
        shape = np.shape(array)
        M = _as_2d(array)
        rows, cols = picked(M.shape[0], row), picked(M.shape[1])
        Z = M[np.ix_(rows, cols)]
        limit = _limit(Z)
        n += 1
        ax = "" if n == 1 else str(n)
        trace = {"type": "heatmap", "z": Z, "x": cols, "y": rows, "xaxis": f"x{ax}",
                 "yaxis": f"y{ax}", "colorscale": SCALE, "reversescale": True, "zmin": -limit,
                 "zmax": limit, "showscale": False, "xgap": 0, "ygap": 0,
                 "hovertemplate": f"{name}[%{{y}}, %{{x}}] = %{{z:.4g}}<extra></extra>"}
        cell = WIDTH * width / max(len(cols), 1)          # about how many pixels a cell gets
        if (Z.shape[0] <= NUMBERS and Z.shape[1] <= NUMBERS and len(rows) == M.shape[0]
                and cell >= 28):
            trace.update(texttemplate="%{z:.2g}", textfont={"size": 10})
        traces.append(trace)
        layout[f"xaxis{ax}"] = {"domain": _domain(x0, x0 + width), "anchor": f"y{ax}",
                                "showgrid": False, "zeroline": False,
                                "showticklabels": len(cols) <= NUMBERS, "dtick": 1}
        layout[f"yaxis{ax}"] = {"domain": y_domain, "anchor": f"x{ax}", "autorange": "reversed",
                                "showgrid": False, "zeroline": False,
                                "showticklabels": len(rows) <= NUMBERS, "dtick": 1}
        every = "" if len(rows) == M.shape[0] and len(cols) == M.shape[1] else ", sampled"
        size = "×".join(str(d) for d in shape)
        annotations.append({"text": f"<b>{name}</b> ({size}{every})",
                            "x": x0 + width / 2, "y": y_domain[1], "xref": "paper",
                            "yref": "paper", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": 12}})
        x0 += width + gap
        if row is not None and M.shape[0] > 1:
            shapes.append({"type": "rect", "xref": f"x{ax}", "yref": f"y{ax}",
                           "x0": cols[0] - 0.5, "x1": cols[-1] + 0.5, "y0": row - 0.5,
                           "y1": row + 0.5, "line": {"color": "#111827", "width": 2}})
    return n


def maps_figure(maps, title: str, columns: int = 8, height: int | None = None,
                symmetric: bool = True) -> go.Figure:
    """(k, h, w) maps — feature maps, kernels, a pool's winners — tiled in one heatmap."""
    maps = np.asarray(maps, dtype=np.float64)
    columns = max(1, min(columns, len(maps)))
    tiles = tile(maps, columns)
    limit = _limit(maps)
    rows = -(-len(maps) // columns)
    trace = {"type": "heatmap", "z": tiles, "colorscale": SCALE if symmetric else "Greys",
             "reversescale": symmetric,
             "zmin": -limit if symmetric else 0, "zmax": limit,
             "showscale": False, "hoverongaps": False,
             "hovertemplate": "row %{y}, column %{x}: %{z:.4g}<extra></extra>"}
    layout = _layout(title, height or 70 + rows * max(60, min(140, 560 // columns)),
                     xaxis={"visible": False}, yaxis={"visible": False, "autorange": "reversed",
                                                      "scaleanchor": "x"})
    return _fast([trace], layout)


def loss_figure(losses) -> go.Figure:
    """The loss of every step taken so far."""
    y = np.asarray(losses, dtype=np.float64)
    y[~np.isfinite(y)] = np.nan
    trace = {"type": "scatter", "x": np.arange(1, len(y) + 1), "y": y,
             "mode": "lines+markers" if len(y) <= 60 else "lines",
             "line": {"color": "#4f46e5"}, "hovertemplate": "step %{x}: %{y:.4g}<extra></extra>"}
    return _fast([trace], _layout("Loss of every step", 220, xaxis={"title": {"text": "step"}},
                                  yaxis={"title": {"text": "loss"}}))


def terms_figure(written, labels) -> go.Figure:
    """One neuron's sum as bars: each term shown, what the others add up to, the bias."""
    names = [labels(t.index) for t in written.terms]
    values = [t.product for t in written.terms]
    if written.hidden:
        names.append(f"{written.hidden} more")
        values.append(written.rest)
    if written.constant is not None:
        names.append("b" if written.name == "z" else "λ·W")
        values.append(written.constant)
    colours = [POSITIVE if v >= 0 else NEGATIVE for v in values]
    trace = {"type": "bar", "x": values, "y": names, "orientation": "h",
             "marker": {"color": colours}, "hovertemplate": "%{y}: %{x:.4g}<extra></extra>"}
    return _fast([trace], _layout(f"What adds up to {written.name}", 60 + 24 * len(names),
                                  yaxis={"autorange": "reversed", "type": "category"}))


# ------------------------------------------------------------------ initialisation explorer
def spreads_figure(spreads) -> go.Figure:
    """Small multiples, one column per initialisation: the spread (standard deviation) of
    each layer's activations a, and of its weight gradients dW (log scale)."""
    traces, layout = [], _layout("Spread of every layer at step 0, one batch", 420)
    k, gap = len(spreads), 0.02
    width = (1 - gap * (k - 1)) / k
    a_max = max((l.a_std for s in spreads for l in s.layers if np.isfinite(l.a_std)), default=1)
    annotations = []
    for p, s in enumerate(spreads):
        x0 = p * (width + gap)
        layers = [f"{l.layer}" for l in s.layers]
        for row, (field, colour) in enumerate((("a_std", "#4f46e5"), ("grad_std", "#f97316"))):
            n = p * 2 + row + 1
            ax = "" if n == 1 else str(n)
            values = [getattr(l, field) for l in s.layers]
            traces.append({"type": "bar", "x": layers, "y": [v if v else None for v in values],
                           "xaxis": f"x{ax}", "yaxis": f"y{ax}", "marker": {"color": colour},
                           "hovertemplate": f"{s.init}, layer %{{x}}: %{{y:.3g}}<extra></extra>"})
            layout[f"xaxis{ax}"] = {"domain": _domain(x0, x0 + width), "anchor": f"y{ax}",
                                    "title": {"text": "layer"} if row else None, "type": "category"}
            y_axis = {"domain": [0.55, 1.0] if row == 0 else [0.0, 0.4], "anchor": f"x{ax}",
                      "showticklabels": p == 0}
            if row == 0:
                y_axis.update(range=[0, a_max * 1.1], title={"text": "std of a"} if p == 0 else None)
            else:
                y_axis.update(type="log", title={"text": "std of dW"} if p == 0 else None,
                              matches="y2" if n != 2 else None, dtick=1,
                              exponentformat="power")
            layout[f"yaxis{ax}"] = y_axis
        annotations.append({"text": f"<b>{s.init}</b>", "x": x0 + width / 2, "y": 1.02,
                            "xref": "paper", "yref": "paper", "yanchor": "bottom",
                            "showarrow": False})
    layout["annotations"] = annotations
    layout["margin"]["t"] = 70
    return _fast(traces, layout)


def histograms_figure(spread) -> go.Figure:
    """One initialisation, every layer: the histogram of a (top) and of dW (bottom)."""
    traces, layout = [], _layout(f"{spread.init}: histograms at step 0", 380)
    k, gap = len(spread.layers), 0.03
    width = (1 - gap * (k - 1)) / k
    annotations = []
    for p, l in enumerate(spread.layers):
        x0 = p * (width + gap)
        for row, (hist, colour) in enumerate(((l.a_hist, "#4f46e5"), (l.grad_hist, "#f97316"))):
            n = p * 2 + row + 1
            ax = "" if n == 1 else str(n)
            if hist is not None and len(hist[0]):
                counts, edges = hist
                traces.append({"type": "bar", "x": (edges[:-1] + edges[1:]) / 2, "y": counts,
                               "width": np.diff(edges), "xaxis": f"x{ax}", "yaxis": f"y{ax}",
                               "marker": {"color": colour},
                               "hovertemplate": "%{x:.3g}: %{y}<extra></extra>"})
            layout[f"xaxis{ax}"] = {"domain": _domain(x0, x0 + width), "anchor": f"y{ax}"}
            layout[f"yaxis{ax}"] = {"domain": [0.58, 1.0] if row == 0 else [0.0, 0.4],
                                    "anchor": f"x{ax}", "showticklabels": False}
        annotations.append({"text": f"layer {l.layer} ({l.activation}): a, then dW",
                            "x": x0 + width / 2, "y": 1.02, "xref": "paper", "yref": "paper",
                            "yanchor": "bottom", "showarrow": False, "font": {"size": 11}})
    layout["annotations"] = annotations
    return _fast(traces, layout)


# ------------------------------------------------------------------ neurons as pictures
def unit_maps_figure(maps, X=None, y=None, max_units: int = 16, gap: int = 5,
                     title: str = "Every unit as a map of its output over the input plane",
                     tile_px: int = 44, width_px: int = 940) -> go.Figure:
    """TensorFlow Playground's picture: one column per layer (the inputs x₁, x₂ first),
    every unit a small map of its output over the plane, edges coloured by the sign of
    their weight and as thick as its size. The output unit's map is the decision
    boundary, drawn larger with ``X``, ``y`` (optional) on it. Hover a map for a unit's
    value at a point, an edge's dot for its weight. Tiles are ``tile_px`` pixels square on
    a figure about ``width_px`` wide."""
    r = len(maps.xs)
    cols = maps.layers
    k = len(cols)
    shown = [min(len(c.maps), max_units) for c in cols]
    height_units = max(shown) * (r + gap)
    scale = tile_px / r                                   # pixels per grid point
    single = shown[-1] == 1                               # one output unit: draw it 4× larger
    widths = [tile_px / width_px] * k
    if single:
        widths[-1] = min(4, max(shown) * (r + gap) / r) * tile_px / width_px
    edge_w = (1 - sum(widths)) / max(k - 1, 1)
    traces, annotations = [], []
    layout = _layout(title, int(100 + height_units * scale))
    gx, gy = np.meshgrid(maps.xs, maps.ys)
    centres, x0 = [], 0.0
    for c, col in enumerate(cols):
        n = shown[c]
        last = c == k - 1
        top = (height_units - n * (r + gap)) / 2
        rows = r if last and single else height_units
        Z = np.full((rows, r), np.nan)
        custom = np.zeros((rows, r, 2))
        text = np.full((rows, r), "", dtype=object)
        mids = []
        for u in range(n):
            y0 = 0 if last and single else int(top + u * (r + gap))
            Z[y0:y0 + r] = col.maps[u][::-1]          # x₂ upwards inside each tile
            custom[y0:y0 + r, :, 0], custom[y0:y0 + r, :, 1] = gx[::-1], gy[::-1]
            text[y0:y0 + r] = (("x₁", "x₂")[u] if col.layer == 0 else
                               f"layer {col.layer}, unit {u}" if not last else f"output unit {u}")
            mids.append(height_units / 2 if last and single else y0 + (r - 1) / 2)
        centres.append(mids)
        output = last and col.activation in ("sigmoid", "softmax")
        limit = 1.0 if output else _limit(col.maps[:n])
        ax = "" if c == 0 else str(c + 1)
        traces.append({"type": "heatmap", "z": Z, "customdata": custom, "text": text,
                       "xaxis": f"x{ax}", "yaxis": f"y{ax}", "colorscale": SCALE,
                       "reversescale": True, "zmin": 0.0 if output else -limit, "zmax": limit,
                       "showscale": False, "hoverongaps": False,
                       "hovertemplate": "%{text}<br>x₁ = %{customdata[0]:.2f}, "
                                        "x₂ = %{customdata[1]:.2f}<br>output %{z:.3f}<extra></extra>"})
        if last and single:       # the map's own axes, zoomed so that it is drawn larger
            half = (height_units + gap) * r / (widths[-1] * width_px / scale) / 2
            y_range = [(r - 1) / 2 + half, (r - 1) / 2 - half]
        else:
            y_range = [height_units, -gap]
        layout[f"xaxis{ax}"] = {"domain": _domain(x0, x0 + widths[c]), "visible": False,
                                "range": [-0.5, r - 0.5]}
        layout[f"yaxis{ax}"] = {"anchor": f"x{ax}", "visible": False, "range": y_range,
                                "autorange": False}
        more = f" (first {n} of {len(col.maps)})" if n < len(col.maps) else ""
        name = "inputs" if col.layer == 0 else "output" if last else f"layer {col.layer}"
        annotations.append({"text": f"<b>{name}</b><br>{col.activation if col.layer else 'x₁, x₂'}{more}",
                            "x": x0 + widths[c] / 2, "y": 1.0, "xref": "paper", "yref": "paper",
                            "yanchor": "bottom", "showarrow": False, "font": {"size": 11}})
        if output and single and X is not None:
            points = _points_on_tile(maps, np.asarray(X), 0)
            for cls in np.unique(y):
                sel = np.asarray(y) == cls
                traces.append({"type": "scatter", "x": points[sel, 0], "y": points[sel, 1],
                               "mode": "markers", "xaxis": f"x{ax}", "yaxis": f"y{ax}",
                               "marker": {"size": 3.5, "color": class_colour(int(cls)),
                                          "line": {"color": "white", "width": 0.4}},
                               "hoverinfo": "skip"})
        x0 += widths[c] + edge_w
    x0 = 0.0
    for c in range(1, k):
        x0 += widths[c - 1]
        traces += _edges(cols[c].weights, centres[c - 1], centres[c], c, height_units, gap,
                         x0=x0, width=edge_w, layout=layout)
        x0 += edge_w
    layout["annotations"] = annotations
    layout["margin"]["t"] = 80
    return _fast(traces, layout)


def _points_on_tile(maps, X, top):
    r = len(maps.xs)
    fx = (X[:, 0] - maps.xs[0]) / (maps.xs[-1] - maps.xs[0]) * (r - 1)
    fy = (X[:, 1] - maps.ys[0]) / (maps.ys[-1] - maps.ys[0]) * (r - 1)
    return np.stack([fx, top + (r - 1) - fy], axis=1)


def _edges(W, left, right, c, height_units, gap, x0, width, layout) -> list[dict]:
    """Lines from every shown unit of one column to every shown unit of the next: blue for
    a positive weight, orange for a negative one, width by |w| (four steps)."""
    W = np.asarray(W)[:len(left), :len(right)]
    limit = _limit(W)
    n = 100 + c
    ax = str(n)
    layout[f"xaxis{ax}"] = {"domain": _domain(x0, x0 + width), "visible": False, "range": [0, 1],
                            "fixedrange": True}
    layout[f"yaxis{ax}"] = {"anchor": f"x{ax}", "visible": False, "range": [height_units, -gap],
                            "autorange": False, "fixedrange": True}
    traces = []
    strength = np.minimum(3, (4 * np.abs(W) / limit).astype(int))      # 0 … 3
    for sign, colour in ((1, POSITIVE), (-1, NEGATIVE)):
        for s in range(4):
            i, j = np.nonzero((np.sign(W) == sign) & (strength == s))
            if not len(i):
                continue
            xs = np.column_stack([np.zeros(len(i)), np.ones(len(i)), np.full(len(i), np.nan)]).ravel()
            ys = np.column_stack([np.take(left, i), np.take(right, j),
                                  np.full(len(i), np.nan)]).ravel()
            traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines",
                           "xaxis": f"x{ax}", "yaxis": f"y{ax}", "hoverinfo": "skip",
                           "line": {"color": colour, "width": 0.5 + 1.2 * s},
                           "opacity": 0.35 + 0.2 * s})
    i, j = np.nonzero(np.ones_like(W, dtype=bool))
    traces.append({"type": "scatter", "x": np.full(len(i), 0.5),
                   "y": (np.take(left, i) + np.take(right, j)) / 2, "mode": "markers",
                   "xaxis": f"x{ax}", "yaxis": f"y{ax}", "marker": {"size": 5, "opacity": 0.0},
                   "text": [f"w[{a} → {b}] = {W[a, b]:.3g}" for a, b in zip(i, j)],
                   "hovertemplate": "%{text}<extra></extra>"})
    return traces


__all__ = ["MAX_SIDE", "NUMBERS", "histograms_figure", "loss_figure", "maps_figure",
           "matrix_figure", "picked", "spreads_figure", "terms_figure", "unit_maps_figure"]
