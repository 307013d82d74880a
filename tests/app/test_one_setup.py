"""One setup, one run: the session holds a checked RunSpec, checked once per change and
encoded as a link once; the widgets take their bounds from the schema; every page's training
goes through the one run lifecycle of the session."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import lab.links
from lab import pages, runs
from lab.pages.inference.sources import PURPOSE
from nncore.runs.schema import DENSE, OPTIMIZER, RUN
from nncore.runs.spec import LayerSpec, RunSpec

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30
MOONS = RunSpec(data={"name": "moons", "n_samples": 200, "noise": 0.2, "seed": 0},
                hidden=[LayerSpec(8)], optimizer={"name": "sgd", "lr": 0.5}, batch_size=32,
                epochs=2, seed=0)


@pytest.fixture(autouse=True)
def _fresh_machine(monkeypatch):
    monkeypatch.delenv("NNCORE_MNIST_DIR", raising=False)
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def app(page: str | None = None, spec: RunSpec | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if spec is not None:
        at.session_state["spec"] = spec
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_widgets_take_their_bounds_from_the_schema():
    at = app(pages.ARCHITECTURE, MOONS.replace(hidden=[LayerSpec(8, dropout=0.1)]))
    units, drop = at.number_input(key="arch_units_0"), at.number_input(key="arch_drop_0")
    assert (units.min, units.max) == DENSE["units"].bounds()
    assert (drop.min, drop.max) == DENSE["dropout"].bounds()
    lr, epochs = at.number_input(key="arch_lr"), at.number_input(key="arch_ep")
    assert (lr.min, lr.max) == OPTIMIZER["lr"].bounds()
    assert (epochs.min, epochs.max) == RUN["epochs"].bounds()
    assert at.number_input(key="arch_bs").max == RUN["batch_size"].high
    assert at.number_input(key="arch_seed").max == RUN["seed"].high


def test_a_change_is_checked_once_and_the_link_is_encoded_once(monkeypatch):
    at = app(pages.ARCHITECTURE, MOONS)
    checks, encodings = [], []
    real_validate, real_encode = RunSpec.validate, lab.links.spec_to_params
    monkeypatch.setattr(RunSpec, "validate",
                        lambda self: checks.append(self.epochs) or real_validate(self))
    monkeypatch.setattr(lab.links, "spec_to_params",
                        lambda spec: encodings.append(spec.epochs) or real_encode(spec))
    at.run()                                         # nothing changed: nothing re-done
    assert (checks, encodings) == ([], [])
    at.number_input(key="arch_ep").set_value(7).run()
    assert not at.exception
    assert at.session_state["spec"].epochs == 7 and isinstance(at.session_state["spec"], RunSpec)
    assert checks == [7] and encodings == [7]        # once each, for the new setup
    assert at.query_params["ep"] in ("7", ["7"])      # and the address bar follows


def _wait_until_ended(at: AppTest) -> None:
    end = time.monotonic() + TIMEOUT
    while at.session_state[runs.TRAINER].progress().active:
        assert time.monotonic() < end, "the run did not end in time"
        time.sleep(0.05)


def test_the_one_click_network_is_the_sessions_run_and_waits_its_turn():
    """Inference's one-click training goes through the same lifecycle as Start: refused while
    the Training page's run goes on, shown in the sidebar, never blocking the page."""
    from lab.datasets import dataset_for
    from nncore.runs.run import build_for

    at = app(pages.TRAINING, MOONS.replace(epochs=5000, batch_size=1))
    earlier = build_for(MOONS, dataset_for(MOONS.data))     # a model the session had before
    at.session_state["model"] = earlier
    at.button(key="training_start").click().run()
    first = at.session_state[runs.TRAINER]
    try:
        assert first.progress().active
        at.switch_page(pages.INFERENCE).run()
        assert any("Live model" in i.value for i in at.info)  # the run's weights, live
        at.toggle(key="inference_use_live").set_value(False).run()
        at.button(key="inference_train_default").click().run()
        assert "already in progress" in " ".join(e.value for e in at.error)
        assert at.session_state[runs.TRAINER] is first       # no second run beside it
    finally:
        first.stop()
    _wait_until_ended(at)
    at.run()

    started = time.monotonic()
    at.button(key="inference_train_default").click().run()
    assert time.monotonic() - started < 10            # the page does not wait for the run
    said = [s.value for s in at.success]              # (a short run may be done by then)
    trainer = at.session_state[runs.TRAINER]
    assert trainer is not first and trainer.meta["purpose"] == PURPOSE
    _wait_until_ended(at)
    at.run()
    assert at.session_state["model"] is trainer.network
    assert any("Trained the default network" in s for s in said + [s.value for s in at.success])


def test_the_sidebar_shows_the_one_click_run():
    from lab.datasets import dataset_for
    from nncore.jobs.threads import BackgroundTrainer
    from nncore.runs.run import build_for

    data = dataset_for({"name": "digits"})
    spec = RunSpec(data={"name": "digits"}, hidden=[LayerSpec(8)], epochs=3)
    gate = threading.Event()

    def hold(event):
        if event.kind == "epoch_end":
            gate.wait(TIMEOUT)

    trainer = BackgroundTrainer(build_for(spec, data), data.X_train, data.y_train,
                                on_event=hold, epochs=3,
                                meta={"spec": spec.to_dict(), "data": spec.data,
                                      "purpose": PURPOSE}).start()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.session_state[runs.TRAINER] = trainer
        at.run()
        assert not at.exception
        sidebar = "\n".join(m.value for m in at.sidebar.markdown)
        assert "**Training:** epoch" in sidebar and "(running)" in sidebar
    finally:
        gate.set()
        trainer.stop()
        trainer.join(TIMEOUT)
