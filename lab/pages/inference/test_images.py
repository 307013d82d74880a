"""Walk through the test set of the data the model learned from, mistakes first if you like:
each image with the network's answer, its saliency and its hidden layers."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab import datasets, state
from lab.figures import inference as figures
from lab.models import ModelInfo, browse_order, explain, predict_all
from lab.page import callback
from lab.pages.inference.answer import activations, answer, inside
from lab.pages.inference.sources import POS
from nncore.data import DATASETS

MISTAKES = "inference_mistakes"      # toggle: walk only the misread test images
EVAL = "inference_eval"              # cache: {"model", "dataset", "pred"} (identity-keyed)


def find_test_set(model, info: ModelInfo):
    """(dataset, why-not): the test set of the data the model was trained on, else the
    current data set when its inputs fit the model."""
    tried = []
    candidates = []
    if info.data_params:
        candidates.append(info.data_params)
    candidates.append(state.get_spec().data)
    if info.dataset_name in DATASETS:
        candidates.append({"name": info.dataset_name})
    for data in candidates:
        try:
            ds = datasets.dataset_for(data)
        except Exception as exc:  # noqa: BLE001
            tried.append(str(exc))
            continue
        if ds.n_features == info.n_inputs and ds.n_classes == info.n_classes and ds.n_test:
            return ds, None
        if ds.fallback_reason:
            tried.append(ds.fallback_reason)
    name = datasets.dataset_title(info.dataset_name) if info.dataset_name else "its data"
    why = (f"The test set of {name} is not available here, and the current data set does not "
           f"fit this model's {info.n_inputs} inputs and {info.n_classes} classes.")
    if tried:
        why += " " + tried[0]
    return None, why


def _predictions(model, ds) -> np.ndarray:
    cache = st.session_state.get(EVAL)
    if cache and cache["model"] is model and cache["dataset"] is ds:
        return cache["pred"]
    pred = predict_all(model, ds.X_test)
    # Holding the model itself (not its id) makes the identity check safe: a new model
    # can never be mistaken for this one.
    st.session_state[EVAL] = {"model": model, "dataset": ds, "pred": pred}
    return pred


@callback
def _step(delta: int | None):
    """Walk ``delta`` images on (None: back to the first, when the filter changes)."""
    st.session_state[POS] = 0 if delta is None else st.session_state.get(POS, 0) + delta


def browse_view(model, info: ModelInfo):
    ds, why = find_test_set(model, info)
    if ds is None:
        st.info(why, icon="ℹ️")
        return
    pred = _predictions(model, ds)
    y = ds.y_test
    wrong = int(np.count_nonzero(pred != y))
    st.caption(f"{datasets.dataset_title(ds.name)} test set: the network reads "
               f"{(len(y) - wrong) / len(y):.1%} of {len(y):,} images right ({wrong:,} mistakes)."
               + (" These are the 8×8 digits: MNIST could not be loaded." if ds.fallback_reason else ""))
    order = browse_order(len(y))
    c1, c2, c3, c4 = st.columns([1, 1, 2, 3], vertical_alignment="center")
    c1.button("Previous", key="inference_prev", on_click=_step, args=(-1,), icon="⬅️")
    c2.button("Next", key="inference_next", on_click=_step, args=(1,), icon="➡️")
    only_wrong = c3.toggle("Only the mistakes", key=MISTAKES, on_change=_step, args=(None,))
    if only_wrong:
        order = order[pred[order] != y[order]]
        if not len(order):
            st.success("The network reads every test image right: no mistakes to show.")
            return
    pos = st.session_state.get(POS, 0) % len(order)
    i = int(order[pos])
    c4.markdown(f"{'Mistake' if only_wrong else 'Image'} {pos + 1} of {len(order):,} "
                f"· test image #{i}")
    x = ds.X_test[i]
    ex = explain(model, x)
    if info.image_shape is None:
        answer(info, ex, true_label=int(y[i]))
        activations(ex)
        return
    left, right = st.columns([1, 1.25], gap="large")
    with right:
        answer(info, ex, true_label=int(y[i]))
    with left:
        h, w = info.image_shape
        st.plotly_chart(figures.image_figure(x.reshape(h, w), f"Test image #{i}: what the network "
                                           f"sees ({h}×{w})", height=320),
                        key="inference_test_image", config={"displayModeBar": False})
    inside(info, x, ex, show_input=False)
