"""The sidebar's words, read as a visitor reads them (AppTest on the whole app): the data set
with its parameters in words, the network with its real sizes before the data is loaded,
the run's state as it is (paused, not "running"), and the share link on one line."""

import os

import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import app_page, moons_spec, poll_until, run_until_ended

from lab import datasets, pages
from lab.summaries import data_line
from nncore.data import DATASETS, load_dataset
from nncore.data.mnist import KINDS as MNIST_KINDS
from nncore.data.registry import known_shape
from nncore.runs.presets import get_preset
from nncore.runs.spec import LayerSpec, RunSpec


def _sidebar(at: AppTest) -> str:
    return "\n".join(m.value for m in at.sidebar.markdown)


def test_the_data_line_says_the_parameters_in_words():
    at = app_page(get_preset("seed003-moons").run_spec())
    assert ("**Data:** Two moons (1,000 points, noise 0.2, seed 0, no validation split)"
            in _sidebar(at).splitlines())
    spec = RunSpec(data={"name": "mnist", "val_fraction": 0.1, "seed": 3, "limit": 5000})
    assert data_line(spec) == "MNIST (10% for validation, seed 3, 5,000 training images)"
    assert data_line(RunSpec(data={"name": "xor", "seed": 1}, hidden=[LayerSpec(3, "tanh")])) \
        == "XOR (seed 1)"


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_parameter_of_every_data_set_is_said_in_words(name):
    """No raw key reaches the line, whatever the value: the registry's ParamSpec says each."""
    for key, ps in DATASETS[name].params.items():
        for value in {ps.min, ps.max, ps.default}:
            said = ps.say(value)
            assert "_" not in said and "limit" not in said, (key, value, said)
            assert said == ps.none or any(c.isdigit() for c in said), (key, value, said)


def test_the_network_has_its_real_sizes_before_the_data_is_loaded():
    # a data set nobody has loaded in this process (its seed is new): the frame must not
    # load it to say the sizes, and must not say "in-…-out"
    data = {"name": "mnist", "val_fraction": 0.1, "seed": 918_273}
    assert datasets._SHAPES.get(datasets._data_key(data)) is None
    at = app_page(RunSpec(data=data))
    assert "**Network:** 784-256-128-10 relu" in _sidebar(at)
    assert datasets._SHAPES.get(datasets._data_key(data)) is None     # still not loaded
    moons = RunSpec(data={"name": "spiral", "seed": 918_273}, hidden=[LayerSpec(8)])
    assert "**Network:** 2-8-3 relu" in _sidebar(app_page(moons))


# (your own points are not known by name: their classes are the points', read from the spec's
# data by lab.datasets.known_shape; tests/app/test_own_points.py checks them)
@pytest.mark.parametrize("name", [name for name in DATASETS if name != "points"])
def test_the_shape_known_before_loading_is_the_loaded_shape(name):
    if name in MNIST_KINDS and not os.environ.get(MNIST_KINDS[name].env_var):
        pytest.skip(f"{MNIST_KINDS[name].env_var} is not set: no {name} to load and compare")
    assert known_shape(name) is not None, (
        f"nncore.data.registry.known_shape does not know {name!r}: say its (features, "
        "classes), so the sidebar can size the network before the data is loaded")
    loaded = load_dataset(name, allow_fallback=False, allow_download=False)
    assert known_shape(name) == (loaded.n_features, loaded.n_classes)


def test_the_run_says_paused_while_it_is_paused():
    at = app_page(moons_spec(batch_size=1, epochs=5000), pages.TRAINING)
    at.button(key="training_start").click().run()
    trainer = at.session_state["trainer"]
    try:
        poll_until(at, lambda: trainer.state == "running", what="the run did not start in time")
        assert "**Training:** running — its progress is on this page" in _sidebar(at)
        at.button(key="training_pause").click().run()
        assert trainer.state == "paused"
        side = _sidebar(at)
        assert "**Training:** paused — its progress is on this page" in side
        assert "running" not in side
        at.button(key="training_pause").click().run()          # Resume
        assert "**Training:** running" in _sidebar(at)
    finally:
        trainer.stop()
    run_until_ended(at)


def test_the_share_link_is_one_line_that_never_breaks_inside_a_word():
    at = app_page()
    link = at.sidebar.code[0]
    assert link.value.startswith("?") and "data=" in link.value and " " not in link.value
    assert not link.proto.wrap_lines            # wrapped, it broke anywhere, mid-word
