"""Figures of the Runs tab: several runs' curves on one chart. No Streamlit here.

Each run keeps one colour in both charts; training is a solid line, validation dashed.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

RUN_COLOURS = ("#4f46e5", "#f97316", "#059669", "#db2777", "#0891b2", "#ca8a04", "#7c3aed",
               "#dc2626", "#475569", "#65a30d")


def run_colour(i: int) -> str:
    return RUN_COLOURS[i % len(RUN_COLOURS)]


def overlay_figure(runs: list[tuple[str, dict]], metric: str) -> go.Figure:
    """``runs``: (name, per-epoch history) pairs; ``metric``: "loss" or "accuracy"."""
    fig = go.Figure()
    for i, (name, history) in enumerate(runs):
        epochs = history.get("epoch", [])
        for split, dash in (("train", "solid"), ("val", "dash")):
            values = history.get(f"{split}_{metric}") or []
            if not values:
                continue
            y = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            y[~np.isfinite(y)] = np.nan
            fig.add_trace(go.Scatter(
                x=epochs[:len(y)], y=y, mode="lines", legendgroup=name,
                name=f"{name} ({'training' if split == 'train' else 'validation'})",
                line=dict(color=run_colour(i), dash=dash, width=2)))
    fig.update_layout(title=dict(text=f"{metric.capitalize()} per epoch, run by run", x=0,
                                 font=dict(size=15)),
                      height=340, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0),
                      xaxis_title="epoch", yaxis_title=metric)
    if metric == "accuracy":
        fig.update_yaxes(tickformat=".0%")
    return fig
