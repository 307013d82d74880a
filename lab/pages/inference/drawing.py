"""Draw a digit on the canvas and see what the network answers, each time the pen lifts.

The canvas (streamlit-drawable-canvas) sends its picture as RGBA; ``lab.models`` prepares it
the way the model's training images were (cropped, scaled, centred) and explains it.
"""

from __future__ import annotations

import streamlit as st

from lab.models import ModelInfo, explain, prepare_drawing
from lab.page import show_error
from lab.pages.inference.answer import answer, inside

CANVAS = "inference_canvas"          # + clear counter: the canvas widget's key
CANVAS_N = "inference_canvas_n"      # int: bumped by "Clear" (a new key = an empty canvas)
PEN = "inference_pen"                # pen width slider


def canvas_key() -> str:
    return f"{CANVAS}_{st.session_state.get(CANVAS_N, 0)}"


def _clear_canvas():
    st.session_state[CANVAS_N] = st.session_state.get(CANVAS_N, 0) + 1


def draw_view(model, info: ModelInfo):
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # noqa: BLE001
        show_error(f"The drawing canvas is not available ({exc}); browse the test images "
                   "instead.")
        return
    left, right = st.columns([1, 1.25], gap="large")
    with left:
        st.markdown("**Draw a digit** — white on black, as large as you like")
        pen = st.slider("Pen width", 8, 40, 22, key=PEN)
        result = st_canvas(stroke_width=pen, stroke_color="#FFFFFF", background_color="#000000",
                           height=280, width=280, drawing_mode="freedraw",
                           return_image_data=True, key=canvas_key())
        st.button("Clear", key="inference_clear", icon="🧽", on_click=_clear_canvas)
        st.caption("The canvas's own toolbar has undo, redo and reset. The network answers "
                   "each time you lift the pen.")
        if tuple(info.image_shape) == (8, 8):
            st.caption("This model learned from 1,797 tiny 8×8 digits, so your drawing is "
                       "shrunk to 8×8 for it; it reads drawings less surely than an MNIST "
                       "model (about 7 in 10 of our test drawings, against 99 in 100).")
    try:
        image = result.image_data
        x = prepare_drawing(image, info.image_shape) if image is not None else None
    except Exception as exc:  # noqa: BLE001 — a drawing we cannot read is no drawing
        x = None
        with right:
            show_error(f"The drawing could not be read: {exc}")
    with right:
        if x is None:
            st.info("Draw a digit on the black square: the network's answer, its confidence "
                    "and what it sees appear here.", icon="✏️")
            return
        ex = explain(model, x.ravel())
        answer(info, ex)
    inside(info, x, ex)
