"""Each message once, where it applies: the Training page (the whole app, in AppTest) is
read in every state a newcomer reaches — step mode and the unit maps open, each tab, after
pressing Start — and every sentence that explains a problem is counted.

- Without MNIST, the list of places that were tried is the warning's, not the caption's too.
- A model that does not fit the data is said once (the Results tab); Start then trains a new
  network instead of trying to continue that model and saying it again.
- A setup that does not suit the data (binary cross-entropy on three classes) is said once,
  at the top; the buttons it keeps from working are disabled instead of repeating it.
"""

import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import app_page, run_until_ended

from lab import pages
from nncore import Dense, Network
from nncore.runs.spec import LayerSpec, RunSpec

TEXT_KINDS = ("markdown", "caption", "warning", "error", "info", "success", "text", "toast")
TABS = ("Results", "Inside the network", "Experiments", "Runs")


def _training(spec: RunSpec, **state) -> AppTest:
    return app_page(spec, pages.TRAINING, **state)


def _times_said(at: AppTest, phrase: str) -> int:
    return sum(phrase in str(e.value) for kind in TEXT_KINDS for e in at.get(kind))


def _every_view(at: AppTest):
    """The page as it is, with step mode and the unit maps open, then on each tab."""
    yield "closed"
    at.session_state["stepping_open"] = True
    at.session_state["stepping_maps_open"] = True
    at.run()
    yield "step mode open"
    for tab in TABS:
        at.session_state["training_tabs"] = tab
        at.run()
        yield tab
    assert not at.exception, at.exception


def test_without_mnist_the_places_tried_are_listed_once(monkeypatch, tmp_path):
    monkeypatch.delenv("NNCORE_MNIST_DIR", raising=False)
    monkeypatch.setenv("NNCORE_CACHE_DIR", str(tmp_path))     # no MNIST cached either
    # a seed no other test loads MNIST with: the server's cache cannot hold a real copy
    at = _training(RunSpec(data={"name": "mnist", "val_fraction": 0.1, "seed": 31_337}))
    for view in _every_view(at):
        assert _times_said(at, "Tried:") == 1, view
        assert _times_said(at, "standing in for MNIST") == 1, view   # the caption, short


def test_a_model_that_does_not_fit_the_data_is_said_once():
    digits = RunSpec(data={"name": "digits"}, hidden=[LayerSpec(8)], epochs=1)
    model = Network([Dense(64, 4, "relu"), Dense(4, 10, "softmax")], seed=0)
    at = _training(digits, model=model)
    at.toggle(key="training_continue").set_value(True).run()     # fits: continue it
    at.session_state["spec"] = RunSpec(data={"name": "moons", "n_samples": 200, "seed": 0},
                                       hidden=[LayerSpec(8)], epochs=2)
    at.run()
    mismatch = "The model expects 64 input features"
    assert _times_said(at, mismatch) == 1
    assert at.toggle(key="training_continue").value is False     # off, not only disabled
    at.button(key="training_start").click().run()
    assert _times_said(at, mismatch) <= 1                        # Start did not say it again
    trainer = at.session_state["trainer"]
    assert trainer is not None and trainer.meta["continued"] is False
    run_until_ended(at)


@pytest.mark.parametrize("data", [{"name": "spiral", "seed": 0}, {"name": "digits"}])
def test_a_setup_that_does_not_suit_the_data_is_said_once(data):
    spec = RunSpec(data=data, hidden=[LayerSpec(8)], loss="binary_cross_entropy",
                   output_activation="sigmoid")
    at = _training(spec)
    problem = "Binary cross-entropy needs exactly two classes"
    for view in _every_view(at):
        assert _times_said(at, problem) == 1, view
        if view == "Experiments" and data["name"] == "spiral":    # (2-D data only)
            assert at.button(key="training_study_start").disabled
            assert at.button(key="training_cross_start").disabled
    for key in ("training_start", "stepping_one", "stepping_ten", "stepping_epoch"):
        assert at.button(key=key).disabled, key
