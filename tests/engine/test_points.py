"""Your own 2-D points (nncore/data/points.py): the text a spec and a link carry, the CSV a
learner downloads and uploads back, the data set they make, and the exported script of a run
on them.

The text is checked against Python's own base64 (24 bits are exactly four base-64 digits,
so the text of a point is the URL-safe base64 of its code's three bytes), the coordinates
against the decimals they stand for, and the script against the lab's run of the same spec.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest

from nncore.data import load_dataset
from nncore.data import points as drawn
from nncore.export import ExportError, export_spec
from nncore.runs.run import train_spec
from nncore.runs.spec import LayerSpec, RunSpec
from support.exported import finished, started


def some_points(n=60, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = np.round(rng.uniform(-drawn.PLANE, drawn.PLANE, (n, 2)), 2)
    y = np.arange(n) % classes
    return X, y


# ---------------------------------------------------------------------- the text
def test_the_text_is_each_points_code_in_base64():
    X, y = some_points(200, classes=4)
    text = drawn.encode(X, y)
    assert len(text) == 4 * 200
    i = np.rint((X + 3) * 100).astype(int)
    codes = y * 2 ** 20 + i[:, 0] * 2 ** 10 + i[:, 1]
    raw = b"".join(int(c).to_bytes(3, "big") for c in codes)
    assert text == base64.urlsafe_b64encode(raw).decode("ascii")


def test_points_come_back_as_the_decimals_they_were_placed_at():
    X, y = some_points(500, classes=3, seed=1)
    X2, y2 = drawn.decode(drawn.encode(X, y))
    assert np.array_equal(y2, y) and y2.dtype == np.int64
    expected = np.array([[float(f"{v:.2f}") for v in row] for row in X])
    assert np.array_equal(X2, expected)        # 0.52 is the float 0.52, not 0.5199999…
    assert drawn.encode(X2, y2) == drawn.encode(X, y)
    # a click between grid steps is kept to the step
    assert drawn.decode(drawn.encode([[0.514, -0.006]], [1]))[0].tolist() == [[0.51, -0.01]]


@pytest.mark.parametrize("text, words", [
    ("AAA", "4 characters each"), ("AA=A", "letters A–Z"), ("AAA AAAA", "letters A–Z"),
    ("AAAA" + "EAAA" + "QAAA", "Drawn point 3 is not a point of the plane"),   # class 4
    ("AAAA" + "CZwA", "Drawn point 2"),                                         # i₁ = 615
    ("AAAA" * (drawn.MAX_POINTS + 1), "1,001 points are more than"),
    ("ÀAAA", "letters A–Z")])
def test_a_text_that_is_not_points_is_refused_with_the_first_bad_point(text, words):
    with pytest.raises(drawn.PointsError, match=words):
        drawn.decode(text)


def test_text_from_outside_keeps_its_points_and_counts_what_is_not_one():
    """The lenient decoder (a link's points) reads the groups of four characters that are
    points — the same points, in order, that ``decode`` reads from them alone — and counts
    the others: a character outside the alphabet (ASCII or not), a class of 4, an index
    past 600, a short group at the end."""
    X, y = some_points(5, classes=4, seed=2)
    good = [drawn.encode(X[k:k + 1], y[k:k + 1]) for k in range(5)]
    bad = ["%%%%", "ÀAAA", "QAAA", "CZwA"]
    text = good[0] + bad[0] + good[1] + good[2] + bad[1] + bad[2] + good[3] + bad[3] + good[4]
    X2, y2, dropped = drawn.decode_lenient(text + "AB")
    assert dropped == 5 and np.array_equal(y2, y)
    assert np.array_equal(X2, drawn.decode("".join(good))[0])
    assert drawn.decode_lenient(drawn.encode(X, y))[2] == 0
    X0, y0, dropped = drawn.decode_lenient("")
    assert X0.shape == (0, 2) and len(y0) == 0 and dropped == 0
    _, y_many, dropped = drawn.decode_lenient("AAAA" * (drawn.MAX_POINTS + 3))
    assert len(y_many) == drawn.MAX_POINTS and dropped == 3     # read up to the bound


def test_a_link_reads_its_points_with_the_data_sets_own_decoder(monkeypatch):
    from nncore.runs.links import spec_from_params

    X, y = some_points(6, classes=2, seed=3)
    text = drawn.encode(X, y)
    link = {"v": "2", "data": "points", "pts": text[:8] + "%%%%" + text[8:]}
    spec, notes = spec_from_params(link)
    assert spec.data["points"] == text and notes == [
        "1 of the link's 7 points is not a point of the plane with a class 0 … 3; it was left out."]
    asked = []
    monkeypatch.setattr(drawn, "decode_lenient", lambda t: asked.append(t) or (X[:1], y[:1], 0))
    spec, notes = spec_from_params({"v": "2", "data": "points", "pts": text})
    assert asked == [text] and spec.data["points"] == text[:4] and notes == []


def test_points_off_the_plane_or_of_no_class_cannot_be_written():
    with pytest.raises(drawn.PointsError, match="Point 2 is not on the plane"):
        drawn.encode([[0, 0], [3.2, 0]], [0, 1])
    with pytest.raises(drawn.PointsError, match="Point 1 is not on the plane"):
        drawn.encode([[np.nan, 0]], [0])
    with pytest.raises(drawn.PointsError, match="Point 2 has class 4"):
        drawn.encode([[0, 0], [1, 1]], [0, 4])


# ---------------------------------------------------------------------- CSV
def test_csv_round_trip():
    X, y = some_points(300, classes=4, seed=2)
    text = drawn.to_csv(X, y)
    assert text.splitlines()[0] == "x1,x2,label" and len(text.splitlines()) == 301
    X2, y2 = drawn.from_csv(text.splitlines())
    assert drawn.encode(X2, y2) == drawn.encode(X, y)


def _rows(*rows):
    return ["x1,x2,label", *rows]


@pytest.mark.parametrize("lines, words", [
    (["x,y,label", "0,0,0"], "Row 1 must be the header x1,x2,label; it is 'x,y,label'"),
    (["x1,x2,label,extra", "0,0,0,1"], "Row 1 must be the header"),
    ([], "Row 1 must be the header x1,x2,label; it is 'nothing'"),
    (_rows("0,0,0", "1,1,1", "0.5,0.5"), "Row 4 has 2 columns"),
    (_rows("0,0,0", "nan,1,1"), "Row 3: x1 is 'nan', not a number"),
    (_rows("0,0,0", "1,inf,1"), "Row 3: x2 is 'inf', not a number"),
    (_rows("0,0,0", "1,,1"), "Row 3: x2 is '', not a number"),
    (_rows("0,0,zero"), "Row 2: label is 'zero', not a number"),
    (_rows("0,0,0", "0,0,1.5"), "Row 3: label '1.5' is not a class 0 … 3"),
    (_rows("0,0,7"), "Row 2: label '7' is not a class"),
    (_rows("0,0,0", "0,-3.5,1"), "Row 3: x2 = -3.5 is off the plane"),
    (_rows(*["0,0,0"] * drawn.MAX_POINTS, "1,1,1"), "Row 1002: more than 1,000 points"),
])
def test_a_wrong_csv_is_refused_with_its_row_number(lines, words):
    with pytest.raises(drawn.PointsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        drawn.from_csv(lines)


def test_blank_rows_are_skipped_and_counted():
    X, y = drawn.from_csv(_rows("0,0,0", "", "1,1,1", "2,2,1"))
    assert y.tolist() == [0, 1, 1]
    with pytest.raises(drawn.PointsError, match="Row 4"):
        drawn.from_csv(_rows("0,0,0", "", "nan,1,1"))


# ---------------------------------------------------------------------- the data set
def test_the_data_set_is_split_as_every_data_set_is():
    X, y = some_points(100, classes=3)
    ds = load_dataset("points", points=drawn.encode(X, y), test_fraction=0.2, seed=4)
    assert (ds.n_train, ds.n_val, ds.n_test) == (80, 0, 20)
    assert ds.class_names == ("class 0", "class 1", "class 2") and ds.image_shape is None
    assert ds.X_train.dtype == np.float32
    assert "100 placed on the plane, in 3 classes" in ds.description
    # every point is in exactly one split, unchanged
    got = np.concatenate([ds.X_train, ds.X_test]).astype(np.float64)
    assert sorted(map(tuple, np.round(got, 2))) == sorted(map(tuple, X.astype(np.float32).astype(np.float64).round(2)))
    # the same text and seed give the same split
    again = load_dataset("points", points=drawn.encode(X, y), test_fraction=0.2, seed=4)
    assert np.array_equal(again.X_test, ds.X_test)


@pytest.mark.parametrize("X, y, words", [
    ([], [], "at least two classes"),
    ([[0, 0], [1, 1]], [0, 0], "at least two classes"),
    ([[0, 0], [1, 1], [2, 2], [0, 1]], [0, 0, 2, 2], "Class 1 has no points, but class 2 has"),
    ([[0, 0], [1, 1], [2, 2]], [0, 0, 1], "Class 1 has a single point"),
])
def test_too_few_points_say_what_to_add(X, y, words):
    with pytest.raises(ValueError, match=words):
        load_dataset("points", points=drawn.encode(np.reshape(X, (-1, 2)), y))


def test_points_belong_to_your_own_points_only():
    with pytest.raises(ValueError, match="points does not apply to 'moons'"):
        load_dataset("moons", points="AAAA")


# ---------------------------------------------------------------------- the exported script
def test_an_exported_run_on_your_own_points_repeats_the_labs(tmp_path):
    X, y = some_points(90, classes=3, seed=5)
    spec = RunSpec(data={"name": "points", "points": drawn.encode(X, y), "val_fraction": 0.1},
                   hidden=[LayerSpec(12, "tanh")], optimizer={"name": "adam", "lr": 0.02},
                   batch_size=16, epochs=8, seed=3)
    script = tmp_path / "points.py"
    script.write_text(export_spec(spec).script)
    run = started(script)
    lab = train_spec(spec)
    losses, out, _ = finished(run)
    np.testing.assert_allclose(losses, lab.history.train_loss, rtol=1e-5)
    assert out["test_accuracy"] == pytest.approx(lab.metrics["test_accuracy"], abs=1e-12)


def test_too_few_points_cannot_be_exported():
    spec = RunSpec(data={"name": "points", "points": drawn.encode([[0, 0]], [0])})
    with pytest.raises(ExportError, match="at least two classes"):
        export_spec(spec)
