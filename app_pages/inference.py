"""Inference: draw a digit and see what the network sees, what lights up inside it, and
what it answers — or walk through the test set, mistakes first if you like.

The page is widgets only; the computing and the figures are in ``inference_views``.
Where the model comes from, in order:

1. a run in progress (``st.session_state[shared.TRAINER]``) — a *live* copy of its weights;
2. the session's model (``st.session_state[shared.MODEL]``);
3. none: the page offers to train the strong default (preset ``mnist-mlp``) in one click,
   or to upload a saved model (.npz).
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

import inference_views as views
import shared
from nncore.data import DATASETS

from nncore.jobs.threads import SessionToken as _Owner

# ---------------------------------------------------------------- this page's session keys
CANVAS = "inference_canvas"          # + clear counter: the canvas widget's key
CANVAS_N = "inference_canvas_n"      # int: bumped by "Clear" (a new key = an empty canvas)
PEN = "inference_pen"                # pen width slider
MODE = "inference_mode"              # "Draw" | "Test images"
QUICK = "inference_quick"            # dict: the one-click default training in progress
QUICK_REQUEST = "inference_quick_request"
OWNER = "inference_owner"            # keeps background runs alive while the session lives
UPLOAD = "inference_upload"          # file uploader
UPLOAD_MSG = "inference_upload_msg"  # (kind, text) after an upload
FLASH = "inference_flash"            # (kind, text) shown once at the top
POS = "inference_pos"                # position in the test-set walk
MISTAKES = "inference_mistakes"      # toggle: walk only the misread test images
EVAL = "inference_eval"              # cache: {"model", "dataset", "pred"} (identity-keyed)
USE_LIVE = "inference_use_live"      # toggle: live weights or the last finished model
POINT = "inference_point"            # 2-D models: the point entered

DRAW, TEST = "Draw", "Test images"
DEFAULT_PRESET = "mnist-mlp"


def canvas_key() -> str:
    return f"{CANVAS}_{st.session_state.get(CANVAS_N, 0)}"


# ---------------------------------------------------------------- getting a model
def _request_quick_training():
    st.session_state[QUICK_REQUEST] = True


def _start_quick_training():
    """Build the default network for its data (MNIST, else the digits fallback) and train
    it in a child process; the loop in ``_quick_training`` shows its progress."""
    from nncore.runs.presets import PRESETS
    from nncore.jobs.processes import make_trainer
    from nncore.runs.run import build_for

    spec = PRESETS[DEFAULT_PRESET].run_spec()
    dataset = shared.dataset_for(spec.data)
    network = build_for(spec, dataset)
    network.metadata["preset"] = DEFAULT_PRESET
    owner = st.session_state.setdefault(OWNER, _Owner())
    validation = (dataset.X_val, dataset.y_val) if dataset.n_val else None
    trainer = make_trainer(network, dataset.X_train, dataset.y_train, validation=validation,
                           owner=owner, epochs=spec.epochs, batch_size=spec.batch_size,
                           shuffle=spec.shuffle, seed=spec.seed, schedule=spec.schedule)
    st.session_state[QUICK] = {"trainer": trainer, "dataset": dataset,
                               "title": shared.dataset_title(dataset.name)}
    trainer.start()


def _quick_training() -> None:
    """Run (or keep watching) the one-click default training, with a progress bar; when
    it ends, its network becomes the session's model."""
    if st.session_state.pop(QUICK_REQUEST, False) and not st.session_state.get(QUICK):
        try:
            _start_quick_training()
        except Exception as exc:  # noqa: BLE001 — a sentence, never a stack trace
            shared.show_error(f"The default network could not be trained: {exc}")
            return
    job = st.session_state.get(QUICK)
    if not job:
        return
    trainer, dataset = job["trainer"], job["dataset"]
    if dataset.fallback_reason:
        st.warning("MNIST is not available here, so the default network trains on the 8×8 "
                   f"digits instead. ({dataset.fallback_reason})", icon="ℹ️")
    bar = st.progress(0.0, text=f"Training the default network on {job['title']}…")
    while True:
        p = trainer.progress()
        eta = f", about {p.eta_seconds:.0f} s left" if p.eta_seconds else ""
        bar.progress(p.fraction, text=f"Training the default network on {job['title']}: "
                                      f"epoch {min(p.epoch + 1, p.epochs)} of {p.epochs}{eta}")
        if not p.active:
            break
        time.sleep(0.2)
    st.session_state.pop(QUICK, None)
    if p.state != "finished":
        bar.empty()
        shared.show_error(f"The default network's training ended early: {p.message}")
        return
    bar.progress(1.0, text=f"Trained the default network on {job['title']}: {p.epochs} epochs "
                           f"in {p.elapsed:.0f} s")
    network = trainer.network
    network.metadata["history"] = p.history
    accuracy = network.score(dataset.X_test, dataset.y_test) if dataset.n_test else None
    shared.set_model(network)
    st.session_state[POS] = 0
    scored = (f": it reads {accuracy:.1%} of the {dataset.n_test:,} test images right"
              if accuracy is not None else "")
    note = (" MNIST is not available here, so it learned from the 8×8 digits, and the canvas "
            "is prepared as an 8×8 image." if dataset.fallback_reason else "")
    st.session_state[FLASH] = ("success", f"Trained the default network on {job['title']}{scored}.{note}")


def _on_upload():
    uploaded = st.session_state.get(UPLOAD)
    if uploaded is None:
        st.session_state.pop(UPLOAD_MSG, None)
        return
    network, message = views.load_uploaded_model(uploaded)
    if network is None:
        st.session_state[UPLOAD_MSG] = ("error", message)
        return
    shared.set_model(network)
    st.session_state[POS] = 0
    st.session_state.pop(UPLOAD_MSG, None)
    st.session_state[FLASH] = ("success", message)


def _model_sources(has_model: bool) -> None:
    """The two ways to get a model: one click on the default, or a saved file."""
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Train the default network**")
        st.caption("784-256-128-10 ReLU with Adam, 10 epochs on MNIST — usually well under a "
                   "minute (on the 8×8 digits when MNIST is not available here: a second or two).")
        label = "Train the default network" + (" (replaces this model)" if has_model else "")
        st.button(label, key="inference_train_default", type="primary" if not has_model else "secondary",
                  on_click=_request_quick_training, icon="🚀")
    with right:
        st.markdown("**Upload a model**")
        st.file_uploader("A model saved by this app or `python -m nncore train --save` (.npz)",
                         type=["npz"], key=UPLOAD, on_change=_on_upload)
        msg = st.session_state.get(UPLOAD_MSG)
        if msg:
            (st.success if msg[0] == "success" else shared.show_error)(msg[1])


def _pick_model():
    """(model, live?) — a live copy of a run in progress, else the session's model."""
    try:                        # a run that has just ended hands its network on first
        shared.collect_training_result()
    except Exception:  # noqa: BLE001 — the Training page reports its own troubles
        pass
    model = shared.get_model()
    trainer = st.session_state.get(shared.TRAINER)
    progress = None
    if trainer is not None:
        try:
            progress = trainer.progress()
        except Exception:  # noqa: BLE001 — a trainer we cannot read is no trainer
            progress = None
    if progress is None or not progress.active:
        return model, False
    live_default = True
    if model is not None and model is not getattr(trainer, "network", None):
        live_default = st.toggle("Use the live weights of the run in progress", value=True,
                                 key=USE_LIVE, help="Off: the last finished model.")
    if model is not None and not live_default:
        return model, False
    st.info(f"**Live model**: training is running (epoch {progress.epoch} of {progress.epochs} "
            "done), so these are its weights from while it runs; they follow every epoch. "
            "Press Refresh for the newest ones.", icon="⏱️")
    refresh = st.button("Refresh", key="inference_refresh", icon="🔄")
    return shared.live_model(trainer, progress.epoch, refresh), True


# ---------------------------------------------------------------- the views
def _answer(info: views.ModelInfo, ex: views.Explanation, true_label: int | None = None):
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
    st.plotly_chart(views.probability_figure(ex.probs, info.class_names, true_label=true_label),
                    key="inference_probs", config={"displayModeBar": False})


def _inside(info: views.ModelInfo, x: np.ndarray, ex: views.Explanation, show_input=True):
    """The image the network receives, the saliency of its answer, each hidden layer."""
    h, w = info.image_shape
    img = np.asarray(x, dtype=np.float64).reshape(h, w)
    name = info.class_names[ex.top]
    cols = st.columns(3)
    if show_input:
        with cols[0]:
            st.plotly_chart(views.image_figure(img, f"What the network sees ({h}×{w})"),
                            key="inference_seen", config={"displayModeBar": False})
            st.caption("The drawing cropped, scaled and centred the way the training images "
                       "were; hover for each pixel's value.")
    else:
        cols = [None] + st.columns(2)
    if ex.saliency is not None:
        with cols[1]:
            st.plotly_chart(views.saliency_figure(img, ex.saliency, f"Saliency for “{name}”"),
                            key="inference_saliency", config={"displayModeBar": False})
            st.caption(f"The gradient of p(“{name}”) for each pixel: red, more ink there would "
                       "make it more likely; blue, less likely.")
        with cols[2]:
            st.plotly_chart(views.saliency_figure(img, ex.saliency * img.ravel(),
                                                  "Ink that counted"),
                            key="inference_evidence", config={"displayModeBar": False})
            st.caption(f"Gradient × pixel: the ink that pushed towards “{name}” (red) and "
                       "against it (blue).")
    _activations(ex)


def _activations(ex: views.Explanation):
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
                st.plotly_chart(views.activation_figure(values, label, act),
                                key=f"inference_layer_{i}", config={"displayModeBar": False})
                st.caption(note)


def _draw_view(model, info: views.ModelInfo):
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # noqa: BLE001
        shared.show_error(f"The drawing canvas is not available ({exc}); browse the test "
                          "images instead.")
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
        x = views.prepare_drawing(image, info.image_shape) if image is not None else None
    except Exception as exc:  # noqa: BLE001 — a drawing we cannot read is no drawing
        x = None
        with right:
            shared.show_error(f"The drawing could not be read: {exc}")
    with right:
        if x is None:
            st.info("Draw a digit on the black square: the network's answer, its confidence "
                    "and what it sees appear here.", icon="✏️")
            return
        ex = views.explain(model, x.ravel())
        _answer(info, ex)
    _inside(info, x, ex)


def _clear_canvas():
    st.session_state[CANVAS_N] = st.session_state.get(CANVAS_N, 0) + 1


def _test_set(model, info: views.ModelInfo):
    """(dataset, why-not): the test set of the data the model was trained on, else the
    current data set when its inputs fit the model."""
    tried = []
    candidates = []
    if info.data_params:
        candidates.append(info.data_params)
    candidates.append(shared.get_spec().data)
    if info.dataset_name in DATASETS:
        candidates.append({"name": info.dataset_name})
    for data in candidates:
        try:
            ds = shared.dataset_for(data)
        except Exception as exc:  # noqa: BLE001
            tried.append(str(exc))
            continue
        if ds.n_features == info.n_inputs and ds.n_classes == info.n_classes and ds.n_test:
            return ds, None
        if ds.fallback_reason:
            tried.append(ds.fallback_reason)
    name = shared.dataset_title(info.dataset_name) if info.dataset_name else "its data"
    why = (f"The test set of {name} is not available here, and the current data set does not "
           f"fit this model's {info.n_inputs} inputs and {info.n_classes} classes.")
    if tried:
        why += " " + tried[0]
    return None, why


def _predictions(model, ds) -> np.ndarray:
    cache = st.session_state.get(EVAL)
    if cache and cache["model"] is model and cache["dataset"] is ds:
        return cache["pred"]
    pred = views.predict_all(model, ds.X_test)
    # Holding the model itself (not its id) makes the identity check safe: a new model
    # can never be mistaken for this one.
    st.session_state[EVAL] = {"model": model, "dataset": ds, "pred": pred}
    return pred


def _step(delta: int):
    st.session_state[POS] = st.session_state.get(POS, 0) + delta


def _test_view(model, info: views.ModelInfo):
    ds, why = _test_set(model, info)
    if ds is None:
        st.info(why, icon="ℹ️")
        return
    pred = _predictions(model, ds)
    y = ds.y_test
    wrong = int(np.count_nonzero(pred != y))
    st.caption(f"{shared.dataset_title(ds.name)} test set: the network reads "
               f"{(len(y) - wrong) / len(y):.1%} of {len(y):,} images right ({wrong:,} mistakes)."
               + (" These are the 8×8 digits: MNIST could not be loaded." if ds.fallback_reason else ""))
    order = views.browse_order(len(y))
    c1, c2, c3, c4 = st.columns([1, 1, 2, 3], vertical_alignment="center")
    c1.button("Previous", key="inference_prev", on_click=_step, args=(-1,), icon="⬅️")
    c2.button("Next", key="inference_next", on_click=_step, args=(1,), icon="➡️")
    only_wrong = c3.toggle("Only the mistakes", key=MISTAKES,
                           on_change=lambda: st.session_state.__setitem__(POS, 0))
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
    ex = views.explain(model, x)
    if info.image_shape is None:
        _answer(info, ex, true_label=int(y[i]))
        _activations(ex)
        return
    left, right = st.columns([1, 1.25], gap="large")
    with right:
        _answer(info, ex, true_label=int(y[i]))
    with left:
        h, w = info.image_shape
        st.plotly_chart(views.image_figure(x.reshape(h, w), f"Test image #{i}: what the network "
                                           f"sees ({h}×{w})", height=320),
                        key="inference_test_image", config={"displayModeBar": False})
    _inside(info, x, ex, show_input=False)


def _point_view(model, info: views.ModelInfo):
    """A 2-D model: enter a point, see the probabilities and where it lies on the map."""
    ds, _ = _test_set(model, info)
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
    ex = views.explain(model, np.array(point), saliency=False)
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        _answer(info, ex)
    with right:
        if ds is not None:
            X, y = ds.X_test, ds.y_test
        else:
            X, y = np.array([[-1.0, -1.0], [1.0, 1.0]]), np.array([-1, -1])
        st.plotly_chart(views.decision_map_figure(model, X, y, info.class_names, point=point),
                        key="inference_map", config={"displayModeBar": False})
        if ds is not None:
            st.caption(f"Dots: the {len(y):,} test points of {shared.dataset_title(ds.name)}.")
    _activations(ex)


# ---------------------------------------------------------------- the page
def main():
    shared.init_state()   # the frame does this too; harmless twice, and the page can stand alone
    st.title("Inference")
    st.caption("Draw a digit and see what the network sees, what lights up inside it, and "
               "what it answers — or walk through the test images it gets wrong.")
    # Notices come and go (progress, "trained", "loaded", "live model"); each group sits in
    # one container, so everything after it keeps its place in the page from run to run.
    # Otherwise the canvas would be mounted afresh — and its drawing wiped — whenever a
    # notice above it disappears.
    with st.container():
        _quick_training()
        flash = st.session_state.pop(FLASH, None)
        if flash:
            st.success(flash[1], icon="✅")
    with st.container():
        model, live = _pick_model()
    if model is None:
        st.info("There is no trained model yet. Train one on the Training page, or get one "
                "here:", icon="🧠")
        _model_sources(has_model=False)
        return
    try:
        info = views.model_info(model)
    except Exception as exc:  # noqa: BLE001
        shared.show_error(f"This model cannot be shown here: {exc}")
        _model_sources(has_model=True)
        return

    st.caption(f"{'Live model' if live else 'Model'}: {info.describe(shared.dataset_title)}.")
    if info.kind == "2d":
        _point_view(model, info)
    else:
        modes = [DRAW, TEST] if info.can_draw else [TEST]
        if not info.can_draw:
            st.caption("The canvas is for 28×28 and 8×8 image models; this model's inputs are "
                       + (f"{info.image_shape[0]}×{info.image_shape[1]} images."
                          if info.image_shape else f"{info.n_inputs} numbers."))
        mode = st.radio("Show", modes, horizontal=True, key=MODE, label_visibility="collapsed")
        if mode == TEST or not info.can_draw:
            _test_view(model, info)
        else:
            _draw_view(model, info)
    if not live:
        with st.expander("Use another model"):
            _model_sources(has_model=True)


try:
    main()
except Exception as exc:  # noqa: BLE001 — the page shows a sentence, never a stack trace
    shared.show_error(f"Something went wrong on this page: {exc}")
