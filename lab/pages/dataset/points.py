"""Your own points: a plane to click on, a class to place, a box to erase, undo and clear,
and the set as a CSV file to download and upload back.

The points are the setup's own (``spec.data["points"]``, the text ``nncore.data.points``
writes): every change makes a new setup, so they travel with the share link (up to
``links.MAX_LINK_POINTS``), a saved model and an exported script. This session keeps what
undo needs — the texts before each change, the last ``UNDO_DEPTH`` (at most 4 kB each) —
and the last drawing, for when you come back to your points from another data set.

The chart's callback (``on_plane``) reads the selection Streamlit reports: a click while
adding selects the grid point under it (``lab.figures.points``); a box dragged while
erasing comes as its corners.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab import links, state
from lab.figures import points as figures
from lab.figures.common import class_colour
from lab.page import callback, notice
from lab.uploads import parse_points_csv, safe_name
from nncore.data import points as drawn

PLANE = "points_plane"      # the chart: its selection is a click or a box
CLASS = "points_class"      # the class a click adds
TOOL = "points_tool"        # ADD or ERASE
UNDO = "points_undo"        # the texts before each change, the latest last
KEPT = "points_kept"        # the last drawing, kept while another data set is chosen
UPLOADER = "points_upload"
ADD, ERASE = "Add points", "Erase (drag a box)"
UNDO_DEPTH = 100


# ------------------------------------------------------------------ the points of the setup
def text() -> str:
    return state.get_spec().data.get("points") or ""


def kept() -> str:
    """The drawing to show when your own points are chosen again."""
    return st.session_state.get(KEPT) or ""


def _change(new: str) -> None:
    """Make ``new`` the points of the setup, remembering the old ones for undo."""
    old = text()
    if new == old:
        return
    history = st.session_state.setdefault(UNDO, [])
    history.append(old)
    del history[:-UNDO_DEPTH]
    _set(new)


def _set(new: str) -> None:
    spec = state.get_spec()
    data = {k: v for k, v in spec.data.items() if k != "points"}
    if new:
        data["points"] = new
    state.set_spec(spec.replace(data=data))
    st.session_state[KEPT] = new


def add(x: float, y: float, label: int) -> None:
    """A point of class ``label`` at (x, y), kept to the plane's step."""
    X, classes = drawn.decode(text())
    if len(classes) >= drawn.MAX_POINTS:
        notice("warning", f"A drawn set holds at most {drawn.MAX_POINTS:,} points; erase some "
                          "to place more.")
        return
    _change(drawn.encode(np.vstack([X, [[x, y]]]), np.append(classes, label)))


def erase(x0: float, x1: float, y0: float, y1: float) -> None:
    """Every point inside the box (plane coordinates, either order) goes."""
    X, classes = drawn.decode(text())
    (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
    inside = (X[:, 0] >= x0) & (X[:, 0] <= x1) & (X[:, 1] >= y0) & (X[:, 1] <= y1)
    if inside.any():
        _change(drawn.encode(X[~inside], classes[~inside]))


# ------------------------------------------------------------------ the callbacks
@callback
def on_plane() -> None:
    """The chart's ``on_select``: a click adds a point of the chosen class where it landed,
    a box erases what is inside it."""
    selection = (st.session_state.get(PLANE) or {}).get("selection") or {}
    boxes, points = selection.get("box") or [], selection.get("points") or []
    try:
        if boxes and st.session_state.get(TOOL) == ERASE:
            box = boxes[0]
            x0, x1 = (figures.to_plane(float(v)) for v in box["x"][:2])
            y0, y1 = (figures.to_plane(float(v)) for v in box["y"][:2])
            erase(x0, x1, y0, y1)
        elif points and st.session_state.get(TOOL, ADD) == ADD:
            point = points[0]
            if point.get("curve_number") == figures.GRID_TRACE:
                add(figures.to_plane(float(point["x"])), figures.to_plane(float(point["y"])),
                    int(st.session_state.get(CLASS) or 0))
    except (drawn.PointsError, KeyError, TypeError, ValueError):
        # the browser's message is not one the plane sends: a sentence, nothing changed
        notice("error", "That click or box was not one the plane can place or erase points "
                        "with (it was outside the plane, or not a click on it); nothing "
                        "changed.")


@callback
def undo() -> None:
    history = st.session_state.get(UNDO) or []
    if history:
        _set(history.pop())


@callback
def clear() -> None:
    _change("")


@callback
def on_upload() -> None:
    file = st.session_state.get(UPLOADER)
    if file is None:
        return
    try:
        new = parse_points_csv(file.name, file.getvalue())
    except ValueError as e:
        notice("error", f"The file {safe_name(file.name)} was not used: {e}")
        return
    _change(new)
    notice("success", f"Loaded {drawn.say(new)} from {safe_name(file.name)} (undo puts back "
                      "the points you had).")


# ------------------------------------------------------------------ the editor
def editor(locked: bool = False) -> None:
    """The plane, the tools and the file buttons (``locked``: shown, not editable)."""
    X, y = drawn.decode(text())
    left, right = st.columns([3, 1.3])
    with right:
        st.session_state.setdefault(CLASS, 0)
        st.radio("Class of a new point", range(drawn.MAX_CLASSES), key=CLASS, horizontal=True,
                 disabled=locked, format_func=lambda c: f":{_colour_word(c)}[●] {c}")
        st.radio("Tool", (ADD, ERASE), key=TOOL, disabled=locked,
                 help="Add: click on the plane. Erase: drag a box over the points to remove.")
        b = st.columns(2)
        b[0].button("Undo", icon=":material/undo:", key="points_undo_button", on_click=undo,
                    disabled=locked or not st.session_state.get(UNDO))
        b[1].button("Clear", icon=":material/delete_sweep:", key="points_clear", on_click=clear,
                    disabled=locked or not len(y))
        _counts(y)
        st.download_button("Download as CSV", lambda: drawn.to_csv(X, y), file_name="points.csv",
                           mime="text/csv", icon=":material/download:", key="points_download",
                           on_click="ignore", disabled=not len(y))
        if not locked:
            st.file_uploader("Upload points (.csv: x1, x2, label)", key=UPLOADER,
                             on_change=on_upload)
    with left:
        erasing = st.session_state.get(TOOL) == ERASE
        st.plotly_chart(figures.plane_figure(X, y, erasing=erasing, locked=locked), key=PLANE,
                        on_select="ignore" if locked else on_plane,
                        selection_mode=("points", "box"),
                        config={"displayModeBar": False})
        st.caption("The plane is locked by the assignment link." if locked else
                   "Drag a box over the points to erase; Undo puts them back." if erasing else
                   "Click on the plane to place a point of the chosen class there (to 0.05).")


def _colour_word(c: int) -> str:
    """The Markdown colour nearest the class's colour on the plane (for the class buttons)."""
    return {"#4f46e5": "violet", "#f59e0b": "orange", "#10b981": "green",
            "#ef4444": "red"}.get(class_colour(c), "gray")


def _counts(y) -> None:
    n = len(y)
    per_class = np.bincount(y, minlength=1) if n else []
    st.markdown(f"**{n:,} point{'s' if n != 1 else ''}**"
                + (": " + ", ".join(f"{k} of class {c}" for c, k in enumerate(per_class) if k)
                   if n else ""))
    if n > links.MAX_LINK_POINTS:
        st.warning(f"Too many to travel in a link: a link carries at most "
                   f"{links.MAX_LINK_POINTS} points, so the share link opens an empty plane. "
                   "Share the CSV file instead.", icon="🔗")
    elif n:
        st.caption(f"They travel in the share link ({n} of at most {links.MAX_LINK_POINTS}).")
