"""The confusion matrix, clickable: a cell opens the samples behind it.

Click a cell (or pick it from the list under the matrix): for images, the test images the
network put there, each with its three most likely classes and the saliency map of its
answer (what pushed the network towards it); for 2-D data, those points ringed on the
boundary plot. Both are worked out once per (model, data set, cell) in one batched pass.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab.figures import training as figures
from lab.figures.common import thumbnail
from lab.models import explain_rows
from lab.page import callback
from lab.pages.training.memo import cached

CHART = "training_confusion_chart"  # the matrix (its selection: the clicked cell)
CELL = "training_cell"              # selectbox: "" or "true,pred"
SHOWN = 12                          # images shown for one cell


def cell_key(true: int, pred: int) -> str:
    return f"{true},{pred}"


def chosen_cell() -> tuple[int, int] | None:
    value = st.session_state.get(CELL) or ""
    try:
        true, pred = (int(v) for v in value.split(","))
    except ValueError:
        return None
    return true, pred


@callback
def _on_click() -> None:
    """A click on the matrix picks its cell in the list below it."""
    points = ((st.session_state.get(CHART) or {}).get("selection") or {}).get("points") or []
    try:
        true, pred = (int(v) for v in points[0]["customdata"][:2])
    except (IndexError, KeyError, TypeError, ValueError):
        return                  # not a click on a cell (or not one the matrix sent): no cell
    st.session_state[CELL] = cell_key(true, pred)   # checked against the matrix's cells below


def confusion_section(model, dataset, a) -> None:
    """The matrix, and the list of its non-empty cells that a click also sets."""
    names = [str(n) for n in dataset.class_names]
    cm = a["cm"]
    st.plotly_chart(cached("cm_fig", (model, dataset),
                           lambda: figures.confusion_figure(cm, names)),
                    key=CHART, on_select=_on_click, selection_mode="points")
    options = [""] + [cell_key(i, j) for i, j in zip(*np.nonzero(cm))]
    if st.session_state.get(CELL) not in options:
        st.session_state[CELL] = ""

    def label(option: str) -> str:
        if not option:
            return "— click a cell of the matrix, or choose one here —"
        i, j = (int(v) for v in option.split(","))
        what = "right" if i == j else "wrong"
        return f"true {names[i]} → predicted {names[j]}: {cm[i, j]:,} ({what})"
    st.selectbox("The samples of one cell", options, format_func=label, key=CELL)


def cell_rows(a, true: int, pred: int) -> np.ndarray:
    """Rows of the evaluation split with this true class and this prediction."""
    return np.flatnonzero((a["y"] == true) & (a["pred"] == pred))


def _image_cell(model, dataset, a, X, rows) -> dict:
    shown = rows[:SHOWN]
    probs, saliency = explain_rows(model, X[shown])
    names = list(dataset.class_names)
    items = []
    for row, p, g in zip(shown, probs, saliency):
        top3 = np.argsort(-p)[:3]
        items.append({"row": int(row), "image": thumbnail(X[row], dataset.image_shape),
                      "saliency": figures.saliency_picture(g, dataset.image_shape),
                      "top3": " · ".join(f"{names[c]} {p[c]:.0%}" for c in top3)})
    return {"items": items}


def cell_view(model, dataset, a, X) -> None:
    """What the chosen cell holds (nothing when no cell is chosen)."""
    cell = chosen_cell()
    if cell is None:
        return
    true, pred = cell
    names = [str(n) for n in dataset.class_names]
    rows = cell_rows(a, true, pred)
    heading = (f"**True {names[true]}, predicted {names[pred]}** — {len(rows):,} "
               f"{a['split']} sample{'s' if len(rows) != 1 else ''}")
    if dataset.is_image:
        st.markdown(heading + (f", the first {min(SHOWN, len(rows))} shown" if len(rows) > SHOWN
                               else "") + ": each with its three likeliest classes, and what "
                    "pushed the network to its answer (red: towards it, blue: away).")
        view = cached("cell_view", (model, dataset, cell), lambda: _image_cell(model, dataset, a,
                                                                              X, rows))
        per_row = 4
        for start in range(0, len(view["items"]), per_row):
            for col, item in zip(st.columns(per_row), view["items"][start:start + per_row]):
                left, right = col.columns(2)
                left.image(item["image"], caption=f"#{item['row']}")
                right.image(item["saliency"], caption="saliency")
                col.caption(item["top3"])
    elif "grid" in a:
        st.markdown(heading + ", ringed on the boundary:")
        mask = (a["y"] == true) & (a["pred"] == pred)
        fig = cached("cell_boundary", (model, dataset, cell), lambda: figures.boundary_figure(
            a["grid"], X, a["y"], a["correct"], names, highlight=(mask, "this cell"),
            title=f"True {names[true]}, predicted {names[pred]}: the ringed points"))
        st.plotly_chart(fig, key="training_cell_boundary_chart")
