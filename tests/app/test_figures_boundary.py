"""The 2-D boundary plots — the Training page's replay, the final boundary and the Runs
tab's — in one palette: a class has the same colour on its points and on the map's side
of it, and the colour bar names the class whose probability it shows. Checked on the
figures themselves (no Streamlit)."""

import numpy as np
import pytest
from plotly.colors import hex_to_rgb

from lab.figures import replay, training
from lab.figures.common import class_colour
from nncore import Dense, Network
from nncore.runs import experiments as ex

NAMES = ["upper moon", "lower moon"]


def to_rgb(colour: str) -> tuple:
    return tuple(v / 255 for v in hex_to_rgb(colour))


def _moons_like():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    net = Network([Dense(2, 4, "tanh"), Dense(4, 2, "softmax")], seed=0)
    return X, y, net, ex.decision_grid(net, X, resolution=12)


def _final(X, y, net, grid) -> dict:
    return training.boundary_figure(grid, X, y, ex.correct_mask(net, X, y), NAMES).to_dict()


def _replayed(X, y, net, grid) -> dict:
    frames = [{"epoch": 1, "metrics": {"train_loss": 0.5}, "grid": grid,
               "wrong": net.predict(X) != y}]
    return replay.replay_figure({"epoch": [1], "train_loss": [0.5]}, frames, 1,
                                points=(X, y), class_names=NAMES).to_dict()


def _scale_colour_at(scale, at: float):
    """The RGB a Plotly colour scale gives at ``at`` (0…1), by its own stops."""
    stops = [(float(s), np.array(to_rgb(c))) for s, c in scale]
    for (s0, c0), (s1, c1) in zip(stops, stops[1:]):
        if s0 <= at <= s1:
            return c0 + (c1 - c0) * ((at - s0) / (s1 - s0) if s1 > s0 else 0.0)
    raise AssertionError(f"{at} is outside the scale")


@pytest.mark.parametrize("figure", [_final, _replayed], ids=["final", "replay"])
def test_each_class_has_one_colour_on_its_points_and_its_side_of_the_map(figure):
    X, y, net, grid = _moons_like()
    fig = figure(X, y, net, grid)
    shaded = next(t for t in fig["data"] if t["type"] == "contour" and t.get("colorbar"))
    for c, name in enumerate(NAMES):
        points = [t for t in fig["data"] if t["type"] == "scatter"
                  and str(t.get("name", "")).startswith(name)]
        assert points, f"no points of {name}"
        for trace in points:
            assert to_rgb(trace["marker"]["color"]) == to_rgb(class_colour(c))
        # certain of class c: P(class 1) = c, the end of the scale the map uses there
        np.testing.assert_allclose(_scale_colour_at(shaded["colorscale"], float(c)),
                                   to_rgb(class_colour(c)))
    # where the network cannot tell, neither class's colour
    middle = _scale_colour_at(shaded["colorscale"], 0.5)
    assert all(np.abs(middle - to_rgb(class_colour(c))).max() > 0.2 for c in (0, 1))
    title = shaded["colorbar"]["title"]
    assert (title["text"] if isinstance(title, dict) else title) == "P(lower moon)"


@pytest.mark.parametrize("names, title", [(None, "P(class 1)"), (["0", "1"], "P(class 1)"),
                                          (["only"], "P(class 1)"),
                                          (["outer circle", "inner circle"], "P(inner circle)")])
@pytest.mark.parametrize("figure", ["final", "replay"])
def test_the_colour_bar_names_the_class_or_its_number(figure, names, title):
    X, y, net, grid = _moons_like()
    if figure == "final":
        fig = training.boundary_figure(grid, X, y, None, names).to_dict()
    else:
        frames = [{"epoch": 1, "metrics": {}, "grid": grid, "wrong": None}]
        fig = replay.replay_figure({"epoch": [1], "train_loss": [0.5]}, frames, 1,
                                   points=(X, y), class_names=names).to_dict()
    shaded = next(t for t in fig["data"] if t["type"] == "contour" and t.get("colorbar"))
    got = shaded["colorbar"]["title"]
    assert (got["text"] if isinstance(got, dict) else got) == title
