"""A selection on a Plotly chart, sent to the app as the browser sends it.

AppTest has no element for ``st.plotly_chart``, so it cannot click one. The browser's part
is small: on a click or a dragged box it sets the chart's widget value to a JSON selection
(``{"selection": {"points": [...], "point_indices": [...], "box": [...], "lasso": []}}``) and
reruns; the chart's ``on_select`` callback runs first. ``select_on_chart`` does the same
through AppTest's run with one more widget state — so a test drives the very callback a
click drives. The shapes below are those Chromium sent (tests/browser/test_browser_points.py
clicks the real chart).

The chart's id holds its figure, so it is looked up afresh before every selection.
"""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def chart_id(at: AppTest, key: str) -> str:
    ids = [c.proto.id for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    assert len(ids) == 1, f"no single chart with key {key!r}"
    return ids[0]


def select_on_chart(at: AppTest, key: str, *, points=(), box=None) -> AppTest:
    """Select ``points`` (dicts with curve_number, x, y) or drag ``box`` ((x0, x1), (y0, y1))
    on the chart ``key``, and rerun as the browser would."""
    selection = {"points": [dict(p, point_number=i, point_index=i) for i, p in enumerate(points)],
                 "point_indices": list(range(len(points))),
                 "box": [] if box is None else [{"xref": "x", "yref": "y", "x": list(box[0]),
                                                  "y": list(box[1])}],
                 "lasso": []}
    states = at._tree.get_widget_states()        # every other widget as it stands
    state = states.widgets.add()
    state.id = chart_id(at, key)
    state.string_value = json.dumps({"selection": selection})
    return at._run(states)
