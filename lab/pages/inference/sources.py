"""Getting a model on the Inference page: train the default network in one click, or upload
a saved one.

The one-click training is the session's run like any other (``lab.runs``): the sidebar
shows it, the Training page can pause or stop it, and it cannot start beside another run.
While it goes on, a fragment shows its progress; when it ends, the page says how well the
network reads the test images.
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, run_views, runs, state
from lab.models import model_info, read_model_file
from lab.uploads import safe_name
from lab.page import callback, guarded, notice, show_error
from nncore.jobs import processes
from nncore.runs.presets import PRESETS

DEFAULT_PRESET = "mnist-mlp"
PURPOSE = "inference-default"        # how the runs it starts are marked
UPLOAD = "inference_upload"          # file uploader
UPLOAD_MSG = "inference_upload_msg"  # (kind, text) after an upload
POS = "inference_pos"                # position in the test-set walk (reset for a new model)
ANNOUNCED = "inference_announced"    # the trainer whose result the page has announced


@callback
def _start_default() -> None:
    spec = PRESETS[DEFAULT_PRESET].run_spec()
    try:
        dataset = datasets.dataset_for(spec.data)
    except (ValueError, OSError) as exc:
        notice("error", f"The default network could not be trained: {exc}")
        return
    reason = runs.start(spec, dataset, purpose=PURPOSE, preset=DEFAULT_PRESET)
    if reason:
        notice("error", reason)
    elif dataset.fallback_reason:
        notice("warning", "MNIST is not available here, so the default network trains on the "
                          f"8×8 digits instead. ({dataset.fallback_reason})")


def _title(trainer) -> str:
    """What the run trains on: "MNIST", or "8×8 digits" when MNIST fell back to them."""
    return datasets.dataset_title(datasets.dataset_for(trainer.meta["data"]).name)


@guarded
def progress(polling: bool) -> None:
    """The one-click run's progress bar, while it goes on (a fragment)."""
    trainer = runs.current()
    if trainer is None or trainer.meta.get("purpose") != PURPOSE:
        return
    p = trainer.progress(batch_loss=False)
    if polling and not p.active:
        st.rerun()          # it just ended: the whole page redraws with the new model
    if p.state == "queued" and run_views.waiting_panel(trainer, "The default network",
                                                  key="inference_cancel_wait"):
        return
    if p.active:
        eta = f", about {p.eta_seconds:.0f} s left" if p.eta_seconds else ""
        st.progress(p.fraction, text=f"Training the default network on {_title(trainer)}: epoch "
                                     f"{min(p.epoch + 1, p.epochs)} of {p.epochs}{eta}")


def announce() -> None:
    """Once the one-click run has ended, say how it went (once)."""
    held = runs.last_result()
    if held is None or st.session_state.get(ANNOUNCED) is held[0]:
        return
    trainer, p = held
    if trainer.meta.get("purpose") != PURPOSE:
        return
    st.session_state[ANNOUNCED] = trainer
    if p.state == "cancelled":
        st.info(f"The default network was {p.message}.")
        return
    if p.state != "finished":
        show_error(f"The default network's training ended early: {p.message}")
        return
    st.session_state[POS] = 0
    dataset = datasets.dataset_for(trainer.meta["data"])
    scored = (f": it reads {trainer.network.score(dataset.X_test, dataset.y_test):.1%} of the "
              f"{dataset.n_test:,} test images right" if dataset.n_test else "")
    note = (" MNIST is not available here, so it learned from the 8×8 digits, and the canvas "
            "is prepared as an 8×8 image." if dataset.fallback_reason else "")
    st.success(f"Trained the default network on {_title(trainer)} ({p.epochs} epochs in "
               f"{p.elapsed:.0f} s){scored}.{note}", icon="✅")


@callback
def _on_upload():
    uploaded = st.session_state.get(UPLOAD)
    if uploaded is None:
        st.session_state.pop(UPLOAD_MSG, None)
        return
    network, problem = read_model_file(uploaded.getvalue(), uploaded.name)
    if network is None:
        st.session_state[UPLOAD_MSG] = ("error", problem)
        return
    state.set_model(network)
    st.session_state[POS] = 0
    st.session_state.pop(UPLOAD_MSG, None)
    notice("success", f"Loaded {safe_name(uploaded.name)}: {model_info(network).describe()}.")


def model_sources(has_model: bool) -> None:
    """The two ways to get a model: one click on the default, or a saved file."""
    processes.warm_up()              # a click may come: have its training process ready
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Train the default network**")
        st.caption("784-256-128-10 ReLU with Adam, 10 epochs on MNIST (on the 8×8 digits when "
                   "MNIST is not available here). The page shows its progress and the time "
                   "left while it trains, and your place in line when the lab is busy.")
        label = "Train the default network" + (" (replaces this model)" if has_model else "")
        st.button(label, key="inference_train_default", type="primary" if not has_model else "secondary",
                  on_click=_start_default, icon="🚀")
    with right:
        st.markdown("**Upload a model**")
        # No type= filter: Streamlit refuses another name with its own error box, where
        # read_model_file refuses it with a sentence.
        st.file_uploader("A model saved by this app or `python -m nncore train --save` (.npz)",
                         key=UPLOAD, on_change=_on_upload)
        msg = st.session_state.get(UPLOAD_MSG)
        if msg:
            (st.success if msg[0] == "success" else show_error)(msg[1])
