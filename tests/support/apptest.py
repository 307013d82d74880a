"""Driving the app's pages in Streamlit's AppTest, as the page tests share it.

    at = training_page(moons_spec(epochs=3))      # the page alone, or, with the sidebar:
    at = app_page(moons_spec(epochs=3), pages.TRAINING)
    at.button(key="training_start").click().run()
    run_until_ended(at)                   # reruns the page until the session's run has ended
    assert "Finished" in texts(at.success)

A run trains in a child process (or a thread), so after Start a test reruns the page —
``at.run()``, as the page's own polling would — until what it waits for is true, with a
deadline rather than a fixed sleep: ``poll_until``. It then reruns once more, so the page
has drawn the end, and fails on any exception the page raised.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab import pages
from nncore.runs.spec import LayerSpec, RunSpec

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TRAINING = str(ROOT / pages.TRAINING)
TIMEOUT = 25          # seconds: the small runs of the tests take well under one


def moons_spec(**changes) -> RunSpec:
    """A small setup that trains in a moment: 200 moons, one hidden layer of 8, SGD."""
    spec = RunSpec(data={"name": "moons", "n_samples": 200, "noise": 0.2, "seed": 0},
                   hidden=[LayerSpec(8)], optimizer={"name": "sgd", "lr": 0.5},
                   batch_size=32, epochs=2, seed=0)
    return spec.replace(**changes)


def training_page(spec: RunSpec, *, timeout: float = 20, **state) -> AppTest:
    """The Training page, run once with ``spec`` as the setup and ``state`` in the session."""
    at = AppTest.from_file(TRAINING, default_timeout=timeout)
    at.session_state["spec"] = spec
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def app_page(spec: RunSpec | None = None, page: str | None = None, *, timeout: float = 30,
             **state) -> AppTest:
    """The whole app (the frame: sidebar, navigation) on ``page`` (one of ``lab.pages``;
    default: Home), run once with ``spec`` and ``state`` in the session."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()                              # the frame registers its pages: then switch_page
    if spec is not None:
        at.session_state["spec"] = spec
    for key, value in state.items():
        at.session_state[key] = value
    if page is not None:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    """The values of a list of elements (``at.success``, ``at.caption`` …), one a line."""
    return "\n".join(str(e.value) for e in elements)


def poll_until(at: AppTest, done, timeout: float = TIMEOUT,
               what: str = "the page did not get there in time") -> None:
    """Rerun the page until ``done()`` is true (failing with ``what`` after ``timeout``
    seconds), then once more."""
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            pytest.fail(what)
        time.sleep(0.05)
        at.run()
    at.run()
    assert not at.exception, at.exception


def run_ended(at: AppTest) -> bool:
    trainer = at.session_state["trainer"]
    return trainer is not None and not trainer.progress().active


def run_until_ended(at: AppTest, timeout: float = TIMEOUT) -> None:
    """Rerun the page until the session's run has ended."""
    poll_until(at, lambda: run_ended(at), timeout, "the run did not end in time")


def start_and_wait(at: AppTest, timeout: float = TIMEOUT) -> None:
    """Press Start, and rerun the page until the run it started has ended."""
    at.button(key="training_start").click().run()
    run_until_ended(at, timeout)


def plotly_array(value):
    """A trace's array as Plotly serialises it into a chart's JSON: a list, or typed
    binary data (base64, with its dtype and, for a matrix, its shape)."""
    import base64

    import numpy as np
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value, dtype=np.float64)
