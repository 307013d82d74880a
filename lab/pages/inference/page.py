"""Inference: draw a digit and see what the network sees, what lights up inside it, and
what it answers — or walk through the test set, mistakes first if you like.

Where the model comes from, in order:

1. the session's run while it goes on (``lab.runs``) — a *live* copy of its weights;
2. the session's model;
3. none: the page offers to train the strong default (preset ``mnist-mlp``) in one click,
   or to upload a saved model (.npz) — see ``sources``.
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, runs, state
from lab.models import model_info
from lab.page import run_page, show_error, show_notice
from lab.pages.inference import sources
from lab.pages.inference.drawing import draw_view
from lab.pages.inference.points import point_view
from lab.pages.inference.test_images import browse_view

MODE = "inference_mode"              # "Draw" | "Test images"
USE_LIVE = "inference_use_live"      # toggle: live weights or the last finished model
DRAW, TEST = "Draw", "Test images"


def _pick_model():
    """(model, live?) — a live copy of a run in progress, else the session's model."""
    runs.collect()              # a run that has just ended hands its network on first
    model = state.get_model()
    trainer = runs.current()
    progress = trainer.progress(batch_loss=False) if trainer is not None else None
    if progress is None or progress.state not in ("running", "paused"):
        return model, False         # no run, or one that still waits for a slot
    if model is not None and model is not trainer.network:
        live = st.toggle("Use the live weights of the run in progress", value=True,
                         key=USE_LIVE, help="Off: the last finished model.")
        if not live:
            return model, False
    st.info(f"**Live model**: training is running (epoch {progress.epoch} of {progress.epochs} "
            "done), so these are its weights from while it runs; they follow every epoch. "
            "Press Refresh for the newest ones.", icon="⏱️")
    refresh = st.button("Refresh", key="inference_refresh", icon="🔄")
    return runs.live_model(trainer, progress.epoch, refresh), True


def render() -> None:
    st.title("Inference")
    st.caption("Draw a digit and see what the network sees, what lights up inside it, and "
               "what it answers — or walk through the test images it gets wrong.")
    # Notices come and go (progress, "trained", "loaded", "live model"); each group sits in
    # one container, so everything after it keeps its place in the page from run to run.
    # Otherwise the canvas would be mounted afresh — and its drawing wiped — whenever a
    # notice above it disappears.
    with st.container():
        training = runs.active() and runs.current().meta.get("purpose") == sources.PURPOSE
        st.fragment(run_every=runs.POLL_SECONDS if training else None)(sources.progress)(training)
        runs.collect()
        sources.announce()
        show_notice()
    with st.container():
        model, live = _pick_model()
    if model is None:
        st.info("There is no trained model yet. Train one on the Training page, or get one "
                "here:", icon="🧠")
        sources.model_sources(has_model=False)
        return
    try:
        info = model_info(model)
    except Exception as exc:  # noqa: BLE001 — an uploaded model whose shapes do not add up
        show_error(f"This model cannot be shown here: {exc}")
        sources.model_sources(has_model=True)
        return

    st.caption(f"{'Live model' if live else 'Model'}: {info.describe(datasets.dataset_title)}.")
    if info.kind == "2d":
        point_view(model, info)
    else:
        modes = [DRAW, TEST] if info.can_draw else [TEST]
        if not info.can_draw:
            st.caption("The canvas is for 28×28 and 8×8 image models; this model's inputs are "
                       + (f"{info.image_shape[0]}×{info.image_shape[1]} images."
                          if info.image_shape else f"{info.n_inputs} numbers."))
        mode = st.radio("Show", modes, horizontal=True, key=MODE, label_visibility="collapsed")
        if mode == TEST or not info.can_draw:
            browse_view(model, info)
        else:
            draw_view(model, info)
    if not live:
        with st.expander("Use another model"):
            sources.model_sources(has_model=True)


run_page(render)
