"""Your own points on the Dataset page, driven with AppTest: clicks and boxes go through the
chart's own callback (tests/support/plotly_selection.py sends the selection the browser
sends), then undo and clear, the CSV round trip, a run on the points, and the share link
that carries them — or says plainly that it cannot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lab import datasets, links, pages, state
from lab.figures.points import GRID_TRACE, PER_UNIT
from lab.pages.dataset.points import ERASE
from nncore.data import points as drawn
from nncore.runs.spec import LayerSpec, RunSpec
from support.plotly_selection import select_on_chart

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CLASS_0 = [(-1.0, -1.0), (-1.5, -0.5), (-0.5, -1.25)]
CLASS_1 = [(1.0, 1.0), (1.5, 0.5), (0.55, 1.25)]


# ------------------------------------------------------------------ helpers
def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "went wrong" in e.value]
    return at


def app(query: dict | None = None, page: str = pages.DATASET) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(page).run()
    return ok(at)


def own_points(at: AppTest) -> AppTest:
    at.selectbox(key="data_name").set_value("points").run()
    return ok(at)


def click(at: AppTest, x: float, y: float, label: int | None = None) -> AppTest:
    """A click on the plane at (x, y): it lands on the grid point there (curve 0)."""
    if label is not None and at.radio(key="points_class").value != label:
        at.radio(key="points_class").set_value(label).run()
    return ok(select_on_chart(at, "points_plane", points=[
        {"curve_number": GRID_TRACE, "x": round(x * PER_UNIT), "y": round(y * PER_UNIT)}]))


def drag_box(at: AppTest, x: tuple, y: tuple) -> AppTest:
    return ok(select_on_chart(at, "points_plane", box=(tuple(v * PER_UNIT for v in x),
                                                       tuple(v * PER_UNIT for v in y))))


def placed(at: AppTest) -> tuple[list, list]:
    X, y = drawn.decode(at.session_state[state.SPEC].data.get("points", ""))
    return X.tolist(), y.tolist()


def with_six_points(query=None) -> AppTest:
    at = own_points(app(query))
    for label, where in ((0, CLASS_0), (1, CLASS_1)):
        for x, y in where:
            click(at, x, y, label)
    return at


def metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.get("metric")}


# ------------------------------------------------------------------ placing, erasing, undo
def test_an_empty_plane_says_what_to_place():
    at = own_points(app())
    assert at.session_state[state.SPEC].data == {"name": "points", "val_fraction": 0.0,
                                                 "test_fraction": 0.2, "seed": 0}
    assert [e.value for e in at.error] == []
    assert any("Place points of at least two classes" in i.value for i in at.info)
    click(at, 0.5, 0.5, 0)
    click(at, 0.7, 0.5, 0)
    assert any("Place points of at least two classes" in i.value for i in at.info)
    click(at, -0.5, 0.5, 1)
    assert any("Class 1 has a single point" in i.value for i in at.info)


def test_clicks_place_points_of_the_chosen_class_and_a_box_erases_them():
    at = with_six_points()
    assert placed(at) == ([list(p) for p in CLASS_0 + CLASS_1], [0, 0, 0, 1, 1, 1])
    assert metrics(at) == {"Training": "5", "Validation": "0", "Test": "1", "Features": "2",
                           "Classes": "2"}
    assert "**6 points**: 3 of class 0, 3 of class 1" in [m.value for m in at.markdown]
    # a box dragged while adding does nothing (the browser cannot drag one then) …
    drag_box(at, (0, 2), (0, 2))
    assert len(placed(at)[1]) == 6
    # … while erasing, it takes the points inside it, and a click places nothing
    at.radio(key="points_tool").set_value(ERASE).run()
    drag_box(at, (2, 0.7), (2, 0.4))                   # corners in either order
    assert placed(at) == ([list(p) for p in CLASS_0 + CLASS_1[2:]], [0, 0, 0, 1])
    click(at, 2.5, 2.5)
    assert len(placed(at)[1]) == 4


def test_undo_puts_back_each_change_and_clear_can_be_undone():
    at = with_six_points()
    at.radio(key="points_tool").set_value(ERASE).run()
    drag_box(at, (-3, 0), (-3, 0))
    assert placed(at)[1] == [1, 1, 1]
    at.button(key="points_clear").click().run()
    assert placed(at) == ([], []) and "points" not in at.session_state[state.SPEC].data
    at.button(key="points_undo_button").click().run()
    assert placed(at)[1] == [1, 1, 1]
    at.button(key="points_undo_button").click().run()
    assert placed(at)[1] == [0, 0, 0, 1, 1, 1]
    for _ in range(6):                                # back to the empty plane, one click each
        at.button(key="points_undo_button").click().run()
    assert placed(at) == ([], []) and at.button(key="points_undo_button").disabled


def test_a_click_off_the_grid_places_nothing():
    at = own_points(app())
    select_on_chart(at, "points_plane", points=[{"curve_number": 1, "x": 0, "y": 0}])
    assert placed(at) == ([], [])


def test_the_drawing_is_kept_while_another_data_set_is_chosen():
    at = with_six_points()
    at.selectbox(key="data_name").set_value("moons").run()
    assert "points" not in at.session_state[state.SPEC].data
    own_points(at)
    assert placed(at)[1] == [0, 0, 0, 1, 1, 1]
    at.number_input(key="data_points_seed").set_value(3).run()       # a split parameter
    assert placed(at)[1] == [0, 0, 0, 1, 1, 1]


def test_the_sidebar_knows_the_classes_before_anything_is_loaded():
    at = with_six_points()
    click(at, 0, -2, 2)
    click(at, 0.5, -2, 2)
    at.switch_page(pages.ARCHITECTURE).run()
    assert "3 classes" in datasets.dataset_for(at.session_state[state.SPEC].data).description
    assert datasets.known_shape(at.session_state[state.SPEC].data) == (2, 3)


# ------------------------------------------------------------------ CSV
@pytest.fixture
def downloads(monkeypatch):
    """What the page offers for download: (file name, data) of each download button (a
    file written only when asked for is asked for here)."""
    offered = []
    original = st.download_button

    def spy(label, data, file_name=None, *args, **kwargs):
        offered.append((file_name, data() if callable(data) else data))
        return original(label, data, file_name, *args, **kwargs)
    monkeypatch.setattr(st, "download_button", spy)
    return offered


def test_the_csv_downloaded_uploads_back_to_the_same_points(downloads):
    at = with_six_points()
    name, csv_text = [d for d in downloads if d[0] == "points.csv"][-1]
    assert csv_text.splitlines()[0] == "x1,x2,label" and len(csv_text.splitlines()) == 7
    before = placed(at)
    at.button(key="points_clear").click().run()
    at.file_uploader(key="points_upload").set_value(("points.csv", csv_text.encode(),
                                                     "text/csv")).run()
    ok(at)
    assert placed(at) == before
    assert any("Loaded 6 points in 2 classes from points.csv" in s.value for s in at.success)


@pytest.mark.parametrize("content, sentence", [
    (b"x1,x2,label\n0,0,0\n1,nan,1\n", "Row 3: x2 is 'nan', not a number"),
    (b"x,y,label\n0,0,0\n", "Row 1 must be the header x1,x2,label"),
    (b"x1,x2,label\n0,0,0\n1,1\n", "Row 3 has 2 columns"),
    (b"x1,x2,label\n" + b"0,0,0\n" * drawn.MAX_POINTS + b"1,1,1\n",
     "Row 1002: more than 1,000 points"),
])
def test_a_wrong_csv_is_refused_with_its_row_and_loses_nothing(content, sentence):
    at = with_six_points()
    before = placed(at)
    at.file_uploader(key="points_upload").set_value(("mine.csv", content, "text/csv")).run()
    ok(at)
    shown = " ".join(e.value for e in at.error)
    assert "The file mine.csv was not used" in shown and sentence in shown
    assert placed(at) == before


# ------------------------------------------------------------------ training on them
def test_a_run_trains_on_your_own_points():
    from support.apptest import run_until_ended
    at = with_six_points()
    spec = at.session_state[state.SPEC].replace(hidden=[LayerSpec(4)], epochs=5,
                                                optimizer={"name": "sgd", "lr": 0.1})
    at.session_state[state.SPEC] = spec
    at.switch_page(pages.TRAINING).run()
    ok(at)
    at.button(key="training_start").click().run()
    run_until_ended(at)
    model = at.session_state[state.MODEL]
    assert model is not None and model.metadata["dataset"]["name"] == "points"
    assert model.metadata["spec"]["data"]["points"] == spec.data["points"]
    assert model.n_inputs == 2 and model.n_outputs == 2


# ------------------------------------------------------------------ the link
def test_the_share_link_carries_the_points_and_opens_them_again():
    at = with_six_points()
    params = links.spec_to_params(at.session_state[state.SPEC])
    assert params["data"] == "points" and len(params["pts"]) == 4 * 6
    assert at.query_params["pts"] == params["pts"]           # the address bar mirrors it
    again = app({k: v for k, v in params.items()})
    assert placed(again) == placed(at)
    assert again.session_state[state.NOTES] == []
    assert metrics(again)["Classes"] == "2"


def test_a_set_too_large_for_a_link_says_so_on_both_ends():
    X = np.stack(np.meshgrid(np.arange(-2, 2, 0.25), np.arange(-2, 1.75, 0.25)), -1).reshape(-1, 2)
    y = (X[:, 0] > 0).astype(int)
    assert len(y) > links.MAX_LINK_POINTS
    at = app()
    at.session_state[state.SPEC] = RunSpec(data={"name": "points", "points": drawn.encode(X, y)})
    at.run()
    assert any(f"Too many to travel in a link: a link carries at most {links.MAX_LINK_POINTS}"
               in w.value for w in at.warning)
    params = links.spec_to_params(at.session_state[state.SPEC])
    assert "pts" not in params and params["npts"] == str(len(y))
    opened = app(params)
    notes = opened.session_state[state.NOTES]
    assert len(notes) == 1 and f"made with {len(y)} of your own points" in notes[0]
    assert "the plane starts empty" in notes[0] and placed(opened) == ([], [])


@pytest.mark.parametrize("pts, note", [
    ("A" * 100_000, "characters of points, more than the 200 points"),
    ("AAAA" + "%%%%" + "BAAB", "1 of the link's 3 points is not a point of the plane"),
    ("AAAA" + "////", "1 of the link's 2 points is not"),
    ("AAAAQAAA", "1 of the link's 2 points is not"),            # class 4
])
def test_a_hostile_points_link_is_bounded_and_noted(pts, note):
    at = app({"v": "2", "data": "points", "pts": pts})
    notes = at.session_state[state.NOTES]
    assert len(notes) == 1 and note in notes[0], notes
    assert len(placed(at)[1]) <= links.MAX_LINK_POINTS


def test_a_forged_click_or_box_gets_a_sentence_and_changes_nothing():
    """The plane trusts nothing the browser sends: a click off the plane, a box without its
    corners, a coordinate that is not a number — each is refused with one sentence, and the
    points stay as they were."""
    at = own_points(app())
    click(at, *CLASS_0[0], label=0)
    before = at.session_state["spec"].data.get("points")
    forged = [dict(points=[{"curve_number": GRID_TRACE, "x": 10 ** 6, "y": 0}]),
              dict(points=[{"curve_number": GRID_TRACE, "x": "left", "y": 0}]),
              dict(points=[{"curve_number": GRID_TRACE}])]
    for payload in forged:
        ok(select_on_chart(at, "points_plane", **payload))
        assert at.session_state["spec"].data.get("points") == before
        assert any("nothing changed" in e.value for e in at.error), payload
