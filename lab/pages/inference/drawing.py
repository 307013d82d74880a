"""Draw a digit on the canvas and see what the network answers, each time the pen lifts.

The canvas and its answer are a fragment: a stroke reruns them alone, not the page. The
canvas (``pen``) sends its picture as a PNG the moment the pen lifts; ``lab.canvas``
decodes it once its header says it is the canvas's size, ``lab.models`` prepares it the
way the model's training images were (cropped, scaled, centred) and explains it — one
pass through the network — and the answer's figures are built once per drawing
(``answer.py``): a rerun that changes nothing else (the pen width) redraws what it had.
A blank or full canvas gets "draw a digit", not a guess.
"""

from __future__ import annotations

import logging

import streamlit as st

from lab.canvas import CANVAS_SIZE, CanvasImageError, decode_canvas
from lab.models import ModelInfo, explain, prepare_drawing
from lab.page import callback, guarded, show_error
from lab.pages.inference.answer import answer, inside, no_answer
from lab.pages.inference.pen import pen_canvas

CANVAS = "inference_canvas"          # + clear counter: the canvas widget's key
CANVAS_N = "inference_canvas_n"      # int: bumped by "Clear" (a new key = an empty canvas)
PEN = "inference_pen"                # pen width slider
DRAWN = "inference_drawn"            # (model, PNG, prepared x, explanation): the last drawing
_LOG = logging.getLogger("lab")


def canvas_key() -> str:
    return f"{CANVAS}_{st.session_state.get(CANVAS_N, 0)}"


@callback
def _clear_canvas():
    st.session_state[CANVAS_N] = st.session_state.get(CANVAS_N, 0) + 1


def _read_drawing(png: bytes | None, model, info: ModelInfo):
    """(the drawing prepared for the model, or None for a blank or full canvas; its
    explanation; a sentence if the picture is not one the canvas sends) — worked out
    once per drawing and model. The PNG's size is checked before it is decoded
    (``lab.canvas``): anyone can send any picture in the canvas's place."""
    if not png:
        return None, None, None
    held = st.session_state.get(DRAWN)
    if held is not None and held[0] is model and held[1] == png:
        return held[2], held[3], None
    try:
        x = prepare_drawing(decode_canvas(png, CANVAS_SIZE), info.image_shape)
    except CanvasImageError as exc:
        return None, None, str(exc)
    except Exception:  # noqa: BLE001 — a drawing we cannot read is no drawing
        _LOG.exception("A canvas drawing could not be read")
        return None, None, "it is not a picture this page can read"
    ex = explain(model, x.ravel()) if x is not None else None
    st.session_state[DRAWN] = (model, png, x, ex)
    return x, ex, None


def draw_view(model, info: ModelInfo):
    st.fragment()(_drawing)(model, info)   # strokes rerun the canvas and its answer only


@guarded
def _drawing(model, info: ModelInfo):
    left, right = st.columns([1, 1.25], gap="large")
    with left:
        st.markdown("**Draw a digit** — white on black, as large as you like")
        pen = st.slider("Pen width", 8, 40, 22, key=PEN)
        try:
            png, problem = pen_canvas(key=canvas_key(), width=pen), None
        except CanvasImageError as exc:
            png, problem = None, str(exc)
        st.button("Clear", key="inference_clear", icon="🧽", on_click=_clear_canvas)
        st.caption("Undo takes back the last stroke. The network answers each time you lift "
                   "the pen.")
        if tuple(info.image_shape) == (8, 8):
            st.caption("This model learned from 1,797 tiny 8×8 digits, so your drawing is "
                       "shrunk to 8×8 for it; it reads drawings less surely than an MNIST "
                       "model (about 7 in 10 of our test drawings, against 99 in 100).")
    if problem is None:
        x, ex, problem = _read_drawing(png, model, info)
    with right:
        if problem:
            show_error(f"The drawing was not read: {problem}. Draw a digit on the canvas.")
            return
        if x is None:      # a blank canvas, or one inked all over: no guess
            no_answer(info, "Draw a digit on the black square: the network's answer, its "
                            "confidence and what it sees appear here.")
            return
        answer(info, ex)
    inside(info, x, ex)
