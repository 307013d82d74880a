"""The run's buttons: Start, Pause / Resume, Stop, and "continue training the current model".

Their callbacks go through ``lab.runs``, the session's one run lifecycle, and leave what
they have to say as a notice for the page (a callback runs before the page is drawn).
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, runs, state
from lab.models import model_fits
from lab.page import callback, notice
from nncore.data import DataUnavailable

CONTINUE = "training_continue"      # toggle: train the current model further
# A button the setup's problem keeps from working is disabled with this help; the problem
# itself is said once, at the top of the page.
BLOCKED = "First fix the setup's problem said at the top of the page."


def blocked(dataset) -> bool:
    """Whether the setup has a problem that keeps it from training on ``dataset``."""
    return state.get_spec().blocking_problem(dataset.n_classes) is not None


@callback
def _on_start():
    try:
        spec = state.get_spec()
        dataset = datasets.current_dataset()
    except (DataUnavailable, ValueError, OSError) as exc:
        notice("error", f"The data could not be loaded: {exc}")
        return
    model = state.get_model() if st.session_state.get(CONTINUE) else None
    if st.session_state.get(CONTINUE) and model is None:
        notice("error", "There is no model to continue training: train or upload one first.")
        return
    reason = runs.start(spec, dataset, continue_model=model, preset=state.preset_name())
    if reason:
        notice("error", reason)


@callback
def _on_stop():
    queued = runs.current() is not None and runs.current().state == "queued"
    if runs.stop():
        notice("info", "The run left the queue without training." if queued
               else "Stopping: the run ends after the batch it is working on.")


@callback
def on_use_rate(rate: float):
    """Make ``rate`` the learning rate of the setup (the diverged run's suggestion)."""
    spec = state.get_spec()
    state.set_spec(spec.replace(optimizer={**spec.optimizer, "lr": float(rate)}))
    notice("success", f"The learning rate is now {rate:g}. Press Start to train again.")


def buttons(dataset, progress) -> None:
    active = progress is not None and progress.active
    model = state.get_model()
    can_continue = model is not None and model_fits(model, dataset) is None
    if not can_continue:    # off, not just disabled: Start would try it (the tab says why)
        st.session_state[CONTINUE] = False
    c1, c2, c3, c4 = st.columns([1.2, 1, 1, 2.4])
    c1.button("Start training", key="training_start", type="primary",
              icon=":material/play_arrow:", on_click=_on_start, disabled=blocked(dataset),
              help=BLOCKED if blocked(dataset) else "One run at a time per session: while a "
                   "run goes on, Start says so instead of starting another.")
    paused = progress is not None and progress.state == "paused"
    c2.button("Resume" if paused else "Pause", key="training_pause",
              icon=":material/play_arrow:" if paused else ":material/pause:",
              on_click=runs.pause_or_resume, disabled=not active or progress.state == "queued")
    c3.button("Stop", key="training_stop", icon=":material/stop:", on_click=_on_stop,
              disabled=not active, help="Stops a run after its current batch (what it "
              "learned is kept), or takes it out of the queue while it waits.")
    c4.toggle("Continue training the current model", key=CONTINUE,
              disabled=not can_continue or active,
              help="Train the current (trained or uploaded) model further with the "
                   "hyper-parameters set on the Architecture page, instead of a new network.")
