"""The plane your own points are placed on: the points by class, and what lets a click land.

Streamlit reports a Plotly chart's selection of *points* only — a click on empty plane
reports nothing. So, while points are being added, the plane is covered by a fine grid of
invisible points (one every 0.05): a click selects the grid point nearest to it, and that
is where the new point goes. The grid is sent as small whole numbers (int8: the plane is
drawn in grid steps, its axes labelled in plane units), 121 × 121 points in about 50 kB,
and it is left out while erasing, so that a box dragged over the plane selects the drawn
points inside it and not thousands of grid points. No Streamlit here.
"""

from __future__ import annotations


import numpy as np
import plotly.graph_objects as go

from lab.figures.common import class_colour
from nncore.data import points as drawn

PER_UNIT = 20                    # grid points per unit of the plane: a click lands on 0.05
_EDGE = int(drawn.PLANE * PER_UNIT)
_STEPS = np.arange(-_EDGE, _EDGE + 1, dtype=np.int8)
GRID_X, GRID_Y = (a.ravel() for a in np.meshgrid(_STEPS, _STEPS))   # (121², ) each, int8
GRID_TRACE = 0                   # the grid is the figure's first trace (while adding)


def to_plane(value: float) -> float:
    """A chart coordinate (grid steps) → the plane's."""
    return float(value) / PER_UNIT


def plane_figure(X: np.ndarray, y: np.ndarray, *, erasing: bool, locked: bool = False,
                 height: int = 520) -> go.Figure:
    """The plane with points ``X`` (n, 2) of classes ``y``. While adding, a click lands on
    the grid; while ``erasing``, a dragged box selects the points inside it."""
    fig = go.Figure()
    if not erasing and not locked:
        fig.add_trace(go.Scattergl(
            x=GRID_X, y=GRID_Y, mode="markers", name="plane", showlegend=False,
            marker=dict(size=6, opacity=0), hoverinfo="none",
            selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0))))
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2) * PER_UNIT
    for c in range(drawn.MAX_CLASSES):
        mine = np.asarray(y) == c
        fig.add_trace(go.Scatter(
            x=X[mine, 0], y=X[mine, 1], mode="markers", name=f"class {c}",
            marker=dict(size=10, color=class_colour(c), line=dict(width=1, color="white")),
            hoverinfo="skip", unselected=dict(marker=dict(opacity=1))))
    ticks = np.arange(-drawn.PLANE, drawn.PLANE + 1)
    axis = dict(range=[-_EDGE - 4, _EDGE + 4], fixedrange=True, tickvals=ticks * PER_UNIT,
                ticktext=[f"{t:g}" for t in ticks], zeroline=True, showgrid=True)
    fig.update_xaxes(title="x₁", **axis)
    fig.update_yaxes(title="x₂", scaleanchor="x", scaleratio=1, **axis)
    fig.update_layout(height=height, margin=dict(t=30, b=10, l=10, r=10), hovermode="closest",
                      dragmode="select" if erasing and not locked else False,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
                      plot_bgcolor="#f8fafc")
    return fig
