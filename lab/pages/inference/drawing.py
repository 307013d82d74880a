"""Draw a digit on the canvas and see what the network answers, each time the pen lifts.

The canvas (streamlit-drawable-canvas) sends its picture as a PNG; ``lab.canvas`` decodes it
once its header says it is the canvas's size, ``lab.models`` prepares it the way the model's
training images were (cropped, scaled, centred) and explains it. A blank or full canvas gets
"draw a digit", not a guess.
"""

from __future__ import annotations

import logging

import streamlit as st

from lab.canvas import CANVAS_SIZE, CanvasImageError, decode_canvas
from lab.models import ModelInfo, explain, prepare_drawing
from lab.page import callback, show_error
from lab.pages.inference.answer import answer, inside

CANVAS = "inference_canvas"          # + clear counter: the canvas widget's key
CANVAS_N = "inference_canvas_n"      # int: bumped by "Clear" (a new key = an empty canvas)
PEN = "inference_pen"                # pen width slider
_LOG = logging.getLogger("lab")


def canvas_key() -> str:
    return f"{CANVAS}_{st.session_state.get(CANVAS_N, 0)}"


@callback
def _clear_canvas():
    st.session_state[CANVAS_N] = st.session_state.get(CANVAS_N, 0) + 1


def _read_drawing(result, info: ModelInfo):
    """(the drawing prepared for the model, or None for a blank or full canvas; a sentence
    if the picture is not one the canvas sends). The PNG's size is checked before it is
    decoded (``lab.canvas``): anyone can send any picture in the canvas's place."""
    try:
        png = result.image_bytes
        if not png:
            return None, None
        return prepare_drawing(decode_canvas(png, CANVAS_SIZE), info.image_shape), None
    except CanvasImageError as exc:
        return None, str(exc)
    except Exception:  # noqa: BLE001 — a drawing we cannot read is no drawing
        _LOG.exception("A canvas drawing could not be read")
        return None, "it is not a picture this page can read"


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
                           width=CANVAS_SIZE[0], height=CANVAS_SIZE[1], drawing_mode="freedraw",
                           return_image_data=True, key=canvas_key())
        st.button("Clear", key="inference_clear", icon="🧽", on_click=_clear_canvas)
        st.caption("The canvas's own toolbar has undo, redo and reset. The network answers "
                   "each time you lift the pen.")
        if tuple(info.image_shape) == (8, 8):
            st.caption("This model learned from 1,797 tiny 8×8 digits, so your drawing is "
                       "shrunk to 8×8 for it; it reads drawings less surely than an MNIST "
                       "model (about 7 in 10 of our test drawings, against 99 in 100).")
    x, problem = _read_drawing(result, info)
    with right:
        if problem:
            show_error(f"The drawing was not read: {problem}. Draw a digit on the canvas.")
            return
        if x is None:      # a blank canvas, or one inked all over: no guess
            st.info("Draw a digit on the black square: the network's answer, its confidence "
                    "and what it sees appear here.", icon="✏️")
            return
        ex = explain(model, x.ravel())
        answer(info, ex)
    inside(info, x, ex)
