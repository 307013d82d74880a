"""A 2-D model: enter a point of the plane, see what the network answers and where the point
lies on the map of the classes it gives every point around."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab import datasets
from lab.figures import inference as figures
from lab.models import ModelInfo, explain
from lab.pages.inference.answer import activations, answer
from lab.pages.inference.test_images import find_test_set

POINT = "inference_point"            # the point entered


def point_view(model, info: ModelInfo):
    """A 2-D model: enter a point, see the probabilities and where it lies on the map."""
    ds, _ = find_test_set(model, info)
    st.markdown("This network reads points of the plane, not drawings. Enter a point to see "
                "what it answers; the map shows the class it gives every point around.")
    point = st.session_state.get(POINT, (0.0, 0.0))
    with st.form("inference_point_form", border=True):
        a, b = st.columns(2)
        x1 = a.number_input("x1", value=float(point[0]), step=0.1, format="%.3f", key="inference_x1")
        x2 = b.number_input("x2", value=float(point[1]), step=0.1, format="%.3f", key="inference_x2")
        if st.form_submit_button("Classify this point"):
            point = (float(x1), float(x2))
            st.session_state[POINT] = point
    ex = explain(model, np.array(point), saliency=False)
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        answer(info, ex)
    with right:
        if ds is not None:
            X, y = ds.X_test, ds.y_test
        else:
            X, y = np.array([[-1.0, -1.0], [1.0, 1.0]]), np.array([-1, -1])
        st.plotly_chart(figures.decision_map_figure(model, X, y, info.class_names, point=point),
                        key="inference_map", config={"displayModeBar": False})
        if ds is not None:
            st.caption(f"Dots: the {len(y):,} test points of {datasets.dataset_title(ds.name)}.")
    activations(ex)
