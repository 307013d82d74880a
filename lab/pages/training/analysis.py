"""What the trained network learned: the Results and Inside-the-network tabs.

The network analysed is the session's model, or — while a run goes on — a copy of its
weights taken when the learner asks (the run goes on undisturbed). Everything computed
about it is kept per (model, data set) pair (``memo.cached``), so switching tabs or
clicking elsewhere recomputes nothing.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab import runs, state
from lab.figures import inference as inference_figures
from lab.figures import training as figures
from lab.figures.common import thumbnail
from lab.models import conv_feature_maps, is_convolutional, model_fits
from lab.page import guarded
from lab.pages.training import mistakes
from lab.pages.training.memo import cached
from nncore.metrics import confusion_matrix, per_class_accuracy
from nncore.runs import experiments as ex

SNAPSHOT = "training_snapshot"      # (trainer, network, epoch): weights taken during a run
FEATURE_IMAGE = "training_feature_image"  # number_input: whose feature maps a CNN shows
ANALYSIS_BATCH = 512                # the fixed batch for gradients and dead units


def analysed_model(dataset):
    """The network to analyse: the current model, or weights taken from a run in progress."""
    trainer = runs.current()
    if trainer is not None and trainer.progress().active:
        snap = st.session_state.get(SNAPSHOT)
        st.caption("A run is in progress. Take its current weights to look at them here; the "
                   "run goes on undisturbed.")
        if st.button("Analyse the current weights", key="training_snapshot_button", icon=":material/photo_camera:"):
            st.session_state[SNAPSHOT] = (trainer, trainer.model_copy(), trainer.progress().epoch)
            snap = st.session_state[SNAPSHOT]
        if snap and snap[0] is trainer:
            st.caption(f"Weights taken after epoch {snap[2]}.")
            return snap[1]
        return None
    model = state.get_model()
    if model is None:
        st.info("No trained model yet: start a run above, or load a model file.", icon=":material/info:")
        return None
    problem = model_fits(model, dataset)
    if problem:
        st.warning(problem)
        return None
    return model


def _evaluation_split(dataset):
    if dataset.n_test:
        return dataset.X_test, dataset.y_test, "test"
    if dataset.n_val:
        return dataset.X_val, dataset.y_val, "validation"
    return dataset.X_train, dataset.y_train, "training"


def analyse(model, dataset) -> dict:
    X, y, split = _evaluation_split(dataset)
    scores = model.evaluate(X, y)
    pred = model.predict(X)
    cm = confusion_matrix(y, pred, dataset.n_classes)
    rows = ex.fixed_batch(dataset.n_train, ANALYSIS_BATCH, seed=0)
    stats = ex.layer_statistics(model, dataset.X_train[rows], dataset.y_train[rows])
    out = {"split": split, "scores": scores, "cm": cm, "per_class": per_class_accuracy(cm),
           "y": np.asarray(y), "pred": np.asarray(pred),
           "stats": stats, "wrong": ex.misclassified(model, X, y, limit=24)}
    if dataset.n_features == 2:
        out["grid"] = ex.decision_grid(model, X, resolution=90)
        out["correct"] = pred == y
    if dataset.name == "xor":
        out["xor"] = ex.xor_table(model, dataset.X_train, dataset.y_train)
    return out


def results_tab(model, dataset, a) -> None:
    names = list(dataset.class_names)
    m1, m2, m3 = st.columns(3)
    m1.metric(f"Accuracy ({a['split']} set)", f"{a['scores']['accuracy']:.2%}")
    m2.metric(f"Loss ({a['split']} set)", f"{a['scores']['loss']:.4f}")
    m3.metric("Wrong", f"{a['wrong']['n_wrong']:,} of {a['wrong']['n']:,}")
    if "xor" in a:
        st.markdown("**Seed 001's XOR printout**: each input, its target and what the network "
                    "outputs.")
        st.dataframe(a["xor"], hide_index=True, width="content")
    left, right = st.columns(2)
    with left:
        mistakes.confusion_section(model, dataset, a)
    with right:
        st.plotly_chart(cached("pc_fig", (model, dataset),
                                lambda: figures.per_class_figure(a["per_class"], names)),
                        key="training_per_class_chart")
    X, y, split = _evaluation_split(dataset)
    mistakes.cell_view(model, dataset, a, X)
    if "grid" in a:
        st.plotly_chart(cached("test_boundary_fig", (model, dataset), lambda: figures.boundary_figure(
            a["grid"], X, y, a["correct"], names,
            title=f"The {split} points: right (●) and wrong (✕), over the network's output")),
            key="training_test_boundary_chart")
    if dataset.is_image:
        wrong = a["wrong"]
        st.markdown(f"**Misclassified {a['split']} images** — the first {len(wrong['rows'])} "
                    f"of {wrong['n_wrong']:,}:")
        if len(wrong["rows"]):
            X, _, _ = _evaluation_split(dataset)
            images = [thumbnail(X[r], dataset.image_shape) for r in wrong["rows"]]
            captions = [f"true {names[t]} → {names[p]}" for t, p in zip(wrong["true"], wrong["pred"])]
            per_row = 8
            for start in range(0, len(images), per_row):
                cols = st.columns(per_row)
                for col, img, cap in zip(cols, images[start:start + per_row],
                                         captions[start:start + per_row]):
                    col.image(img, caption=cap, width=img.shape[1])
        else:
            st.success("No mistakes on this split.")


def inside_tab(model, dataset, a) -> None:
    if dataset.is_image:
        try:
            images = ex.first_layer_images(model, dataset.image_shape, max_units=64)
            first = next(l for l in model.layers if l.parameters())
            what = "units" if type(first).__name__ == "Dense" else "filters"
            st.plotly_chart(cached("weights_img_fig", (model, dataset),
                                    lambda: figures.weight_images_figure(images, what=what)),
                            key="training_weight_images_chart")
        except ValueError as exc:
            st.info(str(exc))
        if is_convolutional(model):
            feature_maps_section(model, dataset)
    stats = a["stats"]
    if any(s["dead_share"] is not None for s in stats):
        st.plotly_chart(cached("dead_fig", (model, dataset), lambda: figures.dead_relu_figure(stats)),
                        key="training_dead_chart")
        total = sum(s.get("dead_units", 0) for s in stats)
        st.caption(f"{total} ReLU units output 0 for every one of {ANALYSIS_BATCH} training "
                   "samples: they pass no gradient back and have stopped learning.")
    st.plotly_chart(cached("hist_fig", (model, dataset), lambda: figures.layer_histograms_figure(stats)),
                    key="training_histogram_chart")


def _feature_maps_view(model, dataset, i: int) -> dict:
    """Everything the feature-map section shows for image ``i`` of the evaluation split."""
    X, y, split = _evaluation_split(dataset)
    names = list(dataset.class_names)
    probs = model.predict_proba(X[i:i + 1])[0]
    top, true = int(np.argmax(probs)), int(y[i])
    verdict = "right" if top == true else "wrong"
    return {"image": thumbnail(X[i], dataset.image_shape, size=112),
            "caption": f"{split.capitalize()} image #{i}: a {names[true]}. The network says "
                       f"{names[top]} ({probs[top]:.0%}) — {verdict}.",
            "figures": [inference_figures.activation_figure(maps, title, act)
                        for title, act, maps in conv_feature_maps(model, X[i])]}


@guarded
def feature_maps_section(model, dataset) -> None:
    """A CNN's feature maps for one image of the split the results are measured on."""
    X, _, split = _evaluation_split(dataset)
    last = len(X) - 1
    # The number may come from a data set with more images, chosen earlier. Out of its
    # range, the widget raises (older Streamlit) or jumps back to 0 (newer): show the last
    # image instead.
    if st.session_state.get(FEATURE_IMAGE, 0) > last:
        st.session_state[FEATURE_IMAGE] = last
    st.markdown(f"**Feature maps of one {split} image**: what each convolution and pooling "
                "layer makes of it — one square per filter, brighter where it found its pattern.")
    pick, picture, words = st.columns([1, 1, 2], vertical_alignment="center")
    i = int(pick.number_input(f"{split.capitalize()} image number", min_value=0, max_value=last,
                              step=1, key=FEATURE_IMAGE))
    view = cached("feature_maps", (model, dataset, i), lambda: _feature_maps_view(model, dataset, i))
    picture.image(view["image"], width=view["image"].shape[1])
    words.caption(view["caption"])
    maps = view["figures"]
    for start in range(0, len(maps), 3):
        for k, (col, fig) in enumerate(zip(st.columns(3), maps[start:start + 3]), start=start):
            col.plotly_chart(fig, key=f"training_feature_map_{k}", config={"displayModeBar": False})
