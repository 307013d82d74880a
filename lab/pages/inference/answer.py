"""What the network makes of one input: its answer, the saliency of that answer, and every
hidden layer's activations — all from one pass (``lab.models.explain``).

The figures of an explanation are built once (``_figure``): the page shows one input at a
time, and a rerun that shows the same explanation again (a drawing whose pen width
changed, a click elsewhere) sends the figures it built before.
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from lab.figures import inference as figures
from lab.models import Explanation, ModelInfo

FIGURES = "inference_figures"        # (explanation, {name: figure}) of the input shown last


def _figure(ex: Explanation, name: str, build):
    """``build()`` once per explanation (held, not its id: a new one is never mistaken for
    it) and figure name."""
    held = st.session_state.get(FIGURES)
    if held is None or held[0] is not ex:
        held = st.session_state[FIGURES] = (ex, {})
    if name not in held[1]:
        held[1][name] = build()
    return held[1][name]


def answer(info: ModelInfo, ex: Explanation, true_label: int | None = None):
    name = info.class_names[ex.top]
    a, b = st.columns(2)
    a.metric("The network says", name)
    b.metric("Confidence", f"{ex.probs[ex.top]:.1%}")
    order = np.argsort(ex.probs)[::-1]
    if len(order) > 1:
        second = order[1]
        st.caption(f"Runner-up: {info.class_names[second]} ({ex.probs[second]:.1%})")
    if true_label is not None:
        if true_label == ex.top:
            st.success(f"Right: this test image is a {info.class_names[true_label]}.", icon="✅")
        else:
            st.error(f"Wrong: this test image is a {info.class_names[true_label]}.", icon="❌")
    fig = _figure(ex, f"probs {true_label}", lambda: figures.probability_figure(
        ex.probs, info.class_names, true_label=true_label))
    st.plotly_chart(fig, key="inference_probs", config={"displayModeBar": False})


def no_answer(info: ModelInfo, note: str):
    """The answer's place while there is none (a blank canvas): its metrics with "–", ``note``,
    its bars all at zero — laid out as ``answer`` lays an answer out, so the first answer
    moves nothing on the page, and finds what it draws with loaded in the browser (the
    metric's code came with the first answer and made it 0.2 s late)."""
    a, b = st.columns(2)
    a.metric("The network says", "–")
    b.metric("Confidence", "–")
    st.info(note, icon="✏️")
    st.plotly_chart(_empty_bars(tuple(info.class_names)), key="inference_probs",
                    config={"displayModeBar": False, "staticPlot": True})


@functools.lru_cache(maxsize=8)
def _empty_bars(class_names: tuple[str, ...]):
    return figures.probability_figure(np.zeros(len(class_names)), class_names)


def inside(info: ModelInfo, x: np.ndarray, ex: Explanation, show_input=True):
    """The image the network receives, the saliency of its answer, each hidden layer."""
    h, w = info.image_shape
    img = np.asarray(x, dtype=np.float64).reshape(h, w)
    name = info.class_names[ex.top]
    cols = st.columns(3)
    if show_input:
        with cols[0]:
            fig = _figure(ex, "seen", lambda: figures.image_figure(
                img, f"What the network sees ({h}×{w})"))
            st.plotly_chart(fig, key="inference_seen", config={"displayModeBar": False})
            st.caption("The drawing cropped, scaled and centred the way the training images "
                       "were; hover for each pixel's value.")
    else:
        cols = [None] + st.columns(2)
    if ex.saliency is not None:
        with cols[1]:
            fig = _figure(ex, "saliency", lambda: figures.saliency_figure(
                img, ex.saliency, f"Saliency for “{name}”"))
            st.plotly_chart(fig, key="inference_saliency", config={"displayModeBar": False})
            st.caption(f"The gradient of p(“{name}”) for each pixel: red, more ink there would "
                       "make it more likely; blue, less likely.")
        with cols[2]:
            fig = _figure(ex, "evidence", lambda: figures.saliency_figure(
                img, ex.saliency * img.ravel(), "Ink that counted"))
            st.plotly_chart(fig, key="inference_evidence", config={"displayModeBar": False})
            st.caption(f"Gradient × pixel: the ink that pushed towards “{name}” (red) and "
                       "against it (blue).")
    activations(ex)


def activations(ex: Explanation):
    if not ex.activations:
        st.caption("This network has no hidden layer: the inputs go straight to the outputs.")
        return
    st.markdown("**Inside the network: each hidden layer's activations**")
    layers = ex.activations
    for row in range(0, len(layers), 3):
        cols = st.columns(3)
        for col, (i, (title, act, values)) in zip(cols, enumerate(layers[row:row + 3], start=row)):
            active = int(np.count_nonzero(values > 0))
            if values.ndim == 3:     # a convolution: feature maps, one per filter
                c, h, w = values.shape
                label = f"{title}: {c} {act} feature maps, {h}×{w}"
                note = "Each square is one filter's map of where it found its pattern."
            else:
                label = f"{title}: {values.size} {act}"
                note = (f"{active} of {values.size} units active (> 0), the strongest "
                        f"{values.max():.2f}.")
            with col:
                fig = _figure(ex, f"layer {i}", lambda: figures.activation_figure(values, label,
                                                                                   act))
                st.plotly_chart(fig, key=f"inference_layer_{i}", config={"displayModeBar": False})
                st.caption(note)
