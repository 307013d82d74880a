"""Training: start, pause, resume and stop a run that trains in a child process, watch it
learn in live charts, look inside the trained network, run seed 003's experiments, and
save or load the model.

The run itself is a ``nncore.jobs.processes.ProcessTrainer`` kept in the session state
(``shared.TRAINER``): the training happens in another process (on a thread where the
system cannot start one), watched by a thread that touches no Streamlit API, so reruns,
clicks and visits to other pages leave it alone. While it runs, a fragment polls its
progress every two seconds and another redraws the charts every six; figures are rebuilt
only when the numbers behind them changed.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import statistics

import numpy as np
import streamlit as st

import inference_views
import shared
import training_views as views
from nncore.runs import experiments as ex
from nncore.jobs.threads import BackgroundTask, BackgroundTrainer, SessionToken
from nncore.data import DataUnavailable
from nncore.metrics import confusion_matrix, per_class_accuracy
from nncore.optimizers import get_optimizer
from nncore.runs.presets import LEARNING_RATE_STUDY
from nncore.jobs.processes import make_trainer
from nncore.runs.run import build_for
from nncore.serialization import ModelFileError, load, save
from nncore.runs.spec import LIMITS, RunSpec, count_parameters
from nncore.training import TrainingError

# ---------------------------------------------------------------- page-private state
OWNER = "training_owner"            # SessionToken: the workers stop when it is dropped
EXPERIMENT = "training_experiment"  # BackgroundTask of the running / last experiment
CACHE = "training_cache"            # name -> (signature, value): figures and analyses
NOTICE = "training_notice"          # (kind, sentence) left by a button's callback
UPLOAD_SEEN = "training_upload_seen"  # file_id of the last upload handled
UPLOAD_NOTE = "training_upload_note"  # (kind, sentence) about that upload
SNAPSHOT = "training_snapshot"      # (trainer, network): weights taken during a run
FEATURE_IMAGE = "training_feature_image"  # number_input: whose feature maps a CNN shows
POLL = shared.TRAINING_POLL_SECONDS   # progress bar and figures
CHART_SECONDS = 6.0                   # charts: redrawn less often, they cost more
ANALYSIS_BATCH = 512                # the fixed batch for gradients and dead units
STUDY_WORK_LIMIT = LIMITS["max_work"]


_LOG = logging.getLogger(__name__)


# ---------------------------------------------------------------- small helpers
def _guarded(fn):
    """Run ``fn``; an unexpected error becomes a sentence on the page (the traceback goes
    to the server log only). st.rerun / st.stop pass through: they are BaseExceptions."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            _LOG.exception("Training page error")
            shared.show_error(f"Something went wrong on this page: {exc}")
    return wrapper


def _owner() -> SessionToken:
    if not isinstance(st.session_state.get(OWNER), SessionToken):
        st.session_state[OWNER] = SessionToken()
    return st.session_state[OWNER]


def _cached(name: str, signature, build):
    """``build()`` once per ``signature`` (compared with ==, identity for networks)."""
    cache = st.session_state.setdefault(CACHE, {})
    hit = cache.get(name)
    if hit is not None and _same(hit[0], signature):
        return hit[1]
    value = build()
    cache[name] = (signature, value)
    return value


def _same(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float, str, type(None))) and isinstance(b, (int, float, str, type(None))):
        return a == b
    return a is b


def _notice(kind: str, text: str) -> None:
    st.session_state[NOTICE] = (kind, text)


def _show(kind: str, text: str) -> None:
    {"error": shared.show_error, "success": st.success, "info": st.info,
     "warning": st.warning}.get(kind, st.info)(text)


def _duration(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _trainer() -> BackgroundTrainer | None:
    trainer = st.session_state.get(shared.TRAINER)
    return trainer if isinstance(trainer, BackgroundTrainer) else None


def _experiment() -> BackgroundTask | None:
    task = st.session_state.get(EXPERIMENT)
    return task if isinstance(task, BackgroundTask) else None


def _busy() -> str | None:
    """Why nothing else may start now (one run per session), or None."""
    trainer = _trainer()
    if trainer is not None and trainer.progress(batch_loss=False).active:
        return ("A training run is already in progress in this session: pause or stop it "
                "before starting another.")
    task = _experiment()
    if task is not None and task.progress().active:
        return ("An experiment is running in this session: stop it or let it finish before "
                "starting another run.")
    return None


def model_fits(network, dataset) -> str | None:
    """Why ``network`` cannot be used on ``dataset`` (None: it can)."""
    if network.n_inputs != dataset.n_features:
        return (f"The model expects {network.n_inputs} input features, but the current data "
                f"set ({dataset.name}) has {dataset.n_features}. Choose matching data on the "
                "Dataset page, or train a new network.")
    k = network.n_outputs
    if not (k == dataset.n_classes or (k == 1 and dataset.n_classes == 2)):
        return (f"The model has {k} output units, but the current data set has "
                f"{dataset.n_classes} classes.")
    return None


def accept_upload(data: bytes, filename: str, dataset):
    """Read an uploaded model. Returns (network, None) or (None, a sentence saying why
    not). Never unpickles: ``nncore.load`` reads with allow_pickle=False."""
    try:
        network = load(data, name=filename or "the uploaded file")
    except ModelFileError as exc:
        return None, f"That file was not loaded: {exc}"
    except Exception as exc:   # anything unforeseen in a hostile file is still a refusal
        return None, f"That file was not loaded: {filename} is not a readable nncore model ({exc})."
    problem = model_fits(network, dataset)
    if problem:
        return None, f"That file was not loaded: {problem}"
    return network, None


def _work(epochs: int, n_train: int, n_parameters: int) -> float:
    return float(epochs) * n_train * n_parameters


# ---------------------------------------------------------------- starting and steering
def start_training(spec: RunSpec, dataset, continue_model=None) -> str | None:
    """Start a run (refusing a second one); None on success, else the reason."""
    busy = _busy()
    if busy:
        return busy
    try:
        if continue_model is not None:
            problem = model_fits(continue_model, dataset)
            if problem:
                return problem
            work = _work(spec.epochs, dataset.n_train, continue_model.n_parameters())
            if work > LIMITS["max_work"]:
                return (f"This run is too large for the shared demo: {spec.epochs} epochs × "
                        f"{dataset.n_train:,} samples × {continue_model.n_parameters():,} "
                        f"parameters = {work:.2g}, above the limit of {LIMITS['max_work']:.0e}. "
                        "Use fewer epochs.")
            network = continue_model.copy()       # the current model stays as it is
            network.optimizer = get_optimizer(dict(spec.optimizer))
            network.l2 = float(spec.l2)
        else:
            blocking = [p for p in spec.problems(dataset.n_classes) if "needs exactly" in p]
            if blocking:
                return blocking[0]
            spec.check_limits(dataset.n_train, dataset.n_features, dataset.n_classes,
                              image_shape=dataset.image_shape)
            network = build_for(spec, dataset)
    except (ValueError, TrainingError) as exc:
        return str(exc)
    validation = (dataset.X_val, dataset.y_val) if dataset.n_val else None
    trainer = make_trainer(
        network, dataset.X_train, dataset.y_train, validation=validation, owner=_owner(),
        meta={"spec": spec.to_dict(), "data": dict(spec.data), "continued": continue_model is not None,
              "n_train": dataset.n_train},
        epochs=spec.epochs, batch_size=spec.batch_size, shuffle=spec.shuffle, seed=spec.seed,
        schedule=spec.schedule)
    st.session_state[shared.TRAINER] = trainer.start()
    st.session_state.pop(SNAPSHOT, None)
    return None


def _on_start():
    try:
        spec = shared.get_spec()
        dataset = shared.current_dataset()
    except (DataUnavailable, ValueError, OSError) as exc:
        _notice("error", f"The data could not be loaded: {exc}")
        return
    model = shared.get_model() if st.session_state.get("training_continue") else None
    if st.session_state.get("training_continue") and model is None:
        _notice("error", "There is no model to continue training: train or upload one first.")
        return
    reason = start_training(spec, dataset, model)
    if reason:
        _notice("error", reason)


def _on_pause():
    trainer = _trainer()
    if trainer is not None:
        if trainer.state == "paused":
            trainer.resume()
        else:
            trainer.pause()


def _on_stop():
    trainer = _trainer()
    if trainer is not None and trainer.progress().active:
        trainer.stop()
        _notice("info", "Stopping: the run ends after the batch it is working on.")


def _on_use_rate(rate: float):
    spec = shared.get_spec()
    spec.optimizer = {**spec.optimizer, "lr": float(rate)}
    try:
        shared.set_spec(spec)
        _notice("success", f"The learning rate is now {rate:g}. Press Start to train again.")
    except ValueError as exc:
        _notice("error", str(exc))


# ---------------------------------------------------------------- the live panel
def _progress_text(p) -> str:
    if p.active:
        current = min(p.epoch + 1, p.epochs)
        text = (f"Epoch {current}/{p.epochs} · batch {p.batch}/{p.batches or '…'} · "
                f"{p.epoch} epochs done")
        if p.eta_seconds is not None and p.state == "running":
            text += f" · about {_duration(p.eta_seconds)} left"
        return text + (" · paused" if p.state == "paused" else "")
    return f"{p.epoch}/{p.epochs} epochs done · {p.state}"


def _boundary_points(dataset):
    X, y = dataset.X_train, dataset.y_train
    if len(X) > 1500:
        rows = ex.fixed_batch(len(X), 1500, seed=1)
        X, y = X[rows], y[rows]
    return X, y


@_guarded
def live_status(dataset, polling: bool) -> None:
    """Progress bar and figures, refreshed every POLL seconds while a run goes on."""
    trainer = _trainer()
    if trainer is None:
        spec = shared.get_spec()
        batch = spec.batch_size or "full batch"
        st.info(f"No run yet. **Start** trains "
                f"{shared.network_line(spec, dataset.n_features, dataset.n_classes)} on "
                f"{dataset.n_train:,} training samples ({dataset.n_val:,} for validation), "
                f"batch size {batch}. The charts below fill in as it learns.",
                icon=":material/play_circle:")
        return
    p = trainer.progress(batch_loss=False)
    if polling and not p.active:
        st.rerun()      # the run just ended: redraw the whole page once, with its result
    st.progress(p.fraction, text=_progress_text(p))
    h = p.history
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Samples / second", f"{p.samples_per_second:,.0f}")
    c2.metric("Training time", _duration(p.elapsed))
    c3.metric("Time left", _duration(p.eta_seconds) if p.active else "–")
    c4.metric("Training loss", f"{h['train_loss'][-1]:.4f}" if h.get("train_loss") else "–")
    if h.get("val_accuracy"):
        c5.metric("Validation accuracy", f"{h['val_accuracy'][-1]:.2%}")
    else:
        c5.metric("Training accuracy",
                  f"{h['train_accuracy'][-1]:.2%}" if h.get("train_accuracy") else "–")
    if trainer.meta.get("data") not in (None, shared.get_spec().data):
        st.caption(f"This run trains on {shared.data_line(RunSpec.from_dict(trainer.meta['spec']))}, "
                   "not on the data set chosen now.")


@_guarded
def live_charts(dataset) -> None:
    """The run's charts, refreshed every CHART_SECONDS while it goes on. Each figure is
    rebuilt only when the numbers behind it changed (new epoch, new batches)."""
    trainer = _trainer()
    if trainer is None:
        return
    p = trainer.progress()
    h = p.history
    key = id(trainer)
    left, right = st.columns(2)
    with left:
        fig = _cached("loss_fig", (key, p.epoch, p.state), lambda: views.epoch_figure(h, "loss"))
        st.plotly_chart(fig, key="training_loss_chart")
    with right:
        fig = _cached("acc_fig", (key, p.epoch, p.state), lambda: views.epoch_figure(h, "accuracy"))
        st.plotly_chart(fig, key="training_accuracy_chart")

    last = p.batch_loss[-1][0] if p.batch_loss else 0
    batch_fig = _cached("batch_fig", (key, last, p.state, len(p.batch_loss)),
                        lambda: views.batch_loss_figure(p.batch_loss))
    same_data = trainer.meta.get("data") in (None, shared.get_spec().data)
    if dataset.n_features == 2 and trainer.network.n_inputs == 2 and same_data:
        left, right = st.columns(2)
        with left:
            st.plotly_chart(batch_fig, key="training_batch_chart")
        with right:
            def boundary():
                net = trainer.model_copy() if p.active else trainer.network
                X, y = _boundary_points(dataset)
                grid = ex.decision_grid(net, X, resolution=70)
                return views.boundary_figure(grid, X, y, ex.correct_mask(net, X, y),
                                             list(dataset.class_names),
                                             title=f"Decision boundary after epoch {p.epoch} "
                                                   "(training points; ✕ = wrong)")
            fig = _cached("boundary_fig", (key, p.epoch, p.batch, p.state), boundary)
            st.plotly_chart(fig, key="training_boundary_chart")
    else:
        st.plotly_chart(batch_fig, key="training_batch_chart")


def outcome(dataset) -> None:
    """What happened to the last run, said once it has ended (outside the fragment)."""
    trainer = _trainer()
    if trainer is None:
        return
    p = trainer.progress()
    if p.active:
        return
    if p.state == "finished":
        median = statistics.median(p.history.get("seconds") or [float("nan")])
        st.success(f"Finished {p.epoch} epoch{'s' if p.epoch != 1 else ''} in {_duration(p.elapsed)} "
                   f"({p.samples_per_second:,.0f} samples/s, median {median:.2f} s per epoch). "
                   "The trained network is now the "
                   "current model: the Inference page uses it, and you can save it below.",
                   icon=":material/check_circle:")
    elif p.state == "stopped":
        why = p.message or "stopped"
        st.info(f"The run was {why} after {p.epoch} complete epoch{'s' if p.epoch != 1 else ''}. "
                "The network as it stood "
                "is now the current model.", icon=":material/stop_circle:")
    elif p.state == "diverged":
        kept = ("It completed no epoch, so the previous model (if any) was kept."
                if p.epoch < 1 else "Its last good weights are now the current model.")
        shared.show_error(f"{p.message} {kept}")
        if p.suggested_lr:
            st.button(f"Use learning rate {p.suggested_lr:g}", key="training_use_suggested",
                      on_click=_on_use_rate, args=(p.suggested_lr,), icon=":material/healing:")
    elif p.state == "failed":
        shared.show_error(p.message or "Training failed.")


# ---------------------------------------------------------------- looking inside
def _analysis_model(dataset):
    """The network to analyse: the current model, or weights taken from a run in progress."""
    trainer = _trainer()
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
    model = shared.get_model()
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


def _analysis(model, dataset) -> dict:
    X, y, split = _evaluation_split(dataset)
    scores = model.evaluate(X, y)
    pred = model.predict(X)
    cm = confusion_matrix(y, pred, dataset.n_classes)
    rows = ex.fixed_batch(dataset.n_train, ANALYSIS_BATCH, seed=0)
    stats = ex.layer_statistics(model, dataset.X_train[rows], dataset.y_train[rows])
    out = {"split": split, "scores": scores, "cm": cm, "per_class": per_class_accuracy(cm),
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
        st.plotly_chart(_cached("cm_fig", (model, dataset),
                                lambda: views.confusion_figure(a["cm"], names)),
                        key="training_confusion_chart")
    with right:
        st.plotly_chart(_cached("pc_fig", (model, dataset),
                                lambda: views.per_class_figure(a["per_class"], names)),
                        key="training_per_class_chart")
    if "grid" in a:
        X, y, split = _evaluation_split(dataset)
        st.plotly_chart(_cached("test_boundary_fig", (model, dataset), lambda: views.boundary_figure(
            a["grid"], X, y, a["correct"], names,
            title=f"The {split} points: right (●) and wrong (✕), over the network's output")),
            key="training_test_boundary_chart")
    if dataset.is_image:
        wrong = a["wrong"]
        st.markdown(f"**Misclassified {a['split']} images** — the first {len(wrong['rows'])} "
                    f"of {wrong['n_wrong']:,}:")
        if len(wrong["rows"]):
            X, _, _ = _evaluation_split(dataset)
            images = [views.thumbnail(X[r], dataset.image_shape) for r in wrong["rows"]]
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
            st.plotly_chart(_cached("weights_img_fig", (model, dataset),
                                    lambda: views.weight_images_figure(images, what=what)),
                            key="training_weight_images_chart")
        except ValueError as exc:
            st.info(str(exc))
        if inference_views.is_convolutional(model):
            feature_maps_section(model, dataset)
    stats = a["stats"]
    if any(s["dead_share"] is not None for s in stats):
        st.plotly_chart(_cached("dead_fig", (model, dataset), lambda: views.dead_relu_figure(stats)),
                        key="training_dead_chart")
        total = sum(s.get("dead_units", 0) for s in stats)
        st.caption(f"{total} ReLU units output 0 for every one of {ANALYSIS_BATCH} training "
                   "samples: they pass no gradient back and have stopped learning.")
    st.plotly_chart(_cached("hist_fig", (model, dataset), lambda: views.layer_histograms_figure(stats)),
                    key="training_histogram_chart")


def _feature_maps_view(model, dataset, i: int) -> dict:
    """Everything the feature-map section shows for image ``i`` of the evaluation split."""
    X, y, split = _evaluation_split(dataset)
    names = list(dataset.class_names)
    probs = model.predict_proba(X[i:i + 1])[0]
    top, true = int(np.argmax(probs)), int(y[i])
    verdict = "right" if top == true else "wrong"
    return {"image": views.thumbnail(X[i], dataset.image_shape, size=112),
            "caption": f"{split.capitalize()} image #{i}: a {names[true]}. The network says "
                       f"{names[top]} ({probs[top]:.0%}) — {verdict}.",
            "figures": [inference_views.activation_figure(maps, title, act)
                        for title, act, maps in inference_views.conv_feature_maps(model, X[i])]}


@_guarded
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
    view = _cached("feature_maps", (model, dataset, i), lambda: _feature_maps_view(model, dataset, i))
    picture.image(view["image"], width=view["image"].shape[1])
    words.caption(view["caption"])
    figures = view["figures"]
    for start in range(0, len(figures), 3):
        for k, (col, fig) in enumerate(zip(st.columns(3), figures[start:start + 3]), start=start):
            col.plotly_chart(fig, key=f"training_feature_map_{k}", config={"displayModeBar": False})


# ---------------------------------------------------------------- experiments
def _start_experiment(kind: str):
    busy = _busy()
    if busy:
        _notice("error", busy)
        return
    try:
        spec = shared.get_spec()
        dataset = shared.current_dataset()
        if dataset.n_features != 2:
            raise ValueError("The experiments of seed 003 run on a 2-D data set.")
        scale = bool(st.session_state.get("training_study_scale"))
        params = count_parameters(spec, dataset.n_features, dataset.n_classes)
        if kind == "study":
            epochs = sum(max(1, int(round(spec.epochs / r))) if scale else spec.epochs
                         for r in LEARNING_RATE_STUDY)
        else:
            epochs = 2 * spec.epochs
            ex.sklearn_settings(spec, dataset.n_train)   # refuse early what sklearn lacks
        work = _work(epochs, dataset.n_train, params)
        if work > STUDY_WORK_LIMIT:
            raise ValueError(f"This experiment is too large for the shared demo ({work:.2g} > "
                             f"{STUDY_WORK_LIMIT:.0e}): use fewer epochs or a smaller network.")
        blocking = [p for p in spec.problems(dataset.n_classes) if "needs exactly" in p]
        if blocking:
            raise ValueError(blocking[0])
    except (ValueError, DataUnavailable) as exc:
        _notice("error", str(exc))
        return
    if kind == "study":
        def job(report, control):
            return ex.learning_rate_study(spec, dataset, report, control, scale_epochs=scale)
    else:
        def job(report, control):
            return ex.sklearn_crosscheck(spec, dataset, report, control)
    task = BackgroundTask(job, owner=_owner(), meta={"kind": kind, "spec": spec.to_dict()})
    st.session_state[EXPERIMENT] = task.start()


def _stop_experiment():
    task = _experiment()
    if task is not None:
        task.stop()


@_guarded
def experiment_panel(polling: bool) -> None:
    task = _experiment()
    if task is None:
        return
    p = task.progress()
    if polling and not p.active:
        st.rerun()
    kind = task.meta.get("kind")
    data = p.result if p.result is not None else p.partial
    label = "Learning-rate study" if kind == "study" else "scikit-learn cross-check"
    if p.active:
        st.progress(p.fraction, text=f"{label}: {p.message or 'starting…'}")
    elif p.state == "failed":
        shared.show_error(p.message or "The experiment failed.")
    elif p.state == "stopped":
        st.info(f"{label} {p.message}; showing what it had done.")
    if not data:
        return
    sig = (id(task), p.state, round(p.fraction, 3))
    if kind == "study":
        fig = _cached("study_fig", sig, lambda: views.rate_study_figure(data["curves"],
                                                                        data.get("results")))
        st.plotly_chart(fig, key="training_study_chart")
        results = data.get("results") or {}
        if results:
            st.dataframe([{"learning rate": r, "epochs": v["epochs"],
                           "final loss": v["final_loss"],
                           "accuracy (test)": v["test_accuracy"],
                           "note": "diverged" if v["diverged"] else ""}
                          for r, v in sorted(results.items(), reverse=True)],
                         hide_index=True, width="content")
            st.caption("Seed 003: small rates can sit on a plateau for a long time; too large "
                       "a rate makes the loss jump around or diverge.")
    else:
        ours = data["nncore"] if isinstance(data["nncore"], list) else data["nncore"]["loss"]
        theirs = data["sklearn"] if isinstance(data["sklearn"], list) else data["sklearn"]["loss"]
        fig = _cached("cross_fig", sig, lambda: views.crosscheck_figure(ours, theirs))
        st.plotly_chart(fig, key="training_cross_chart")
        if p.result is not None:
            rows = []
            for who, name in (("nncore", "nncore"), ("sklearn", "scikit-learn MLPClassifier")):
                r = p.result[who]
                rows.append({"trained by": name,
                             "final loss": r["loss"][-1] if r["loss"] else None,
                             "training accuracy": r.get("train_accuracy"),
                             "test accuracy": r.get("test_accuracy"),
                             "note": r.get("diverged", "")})
            st.dataframe(rows, hide_index=True, width="content")
            with st.expander("The MLPClassifier settings used"):
                st.json(p.result["settings"])
            for note in p.result["notes"]:
                st.caption(note)


def experiments_tab(dataset) -> None:
    if dataset.n_features != 2:
        st.info("Seed 003's experiments — the learning-rate study and the cross-check with "
                "scikit-learn — run on the 2-D data sets (moons, circles, xor, spiral, "
                "clusters). Choose one on the Dataset page.", icon=":material/science:")
        return
    spec = shared.get_spec()
    task = _experiment()
    running = task is not None and task.progress().active
    st.markdown(f"**Learning-rate study** (seed 003): the current network trained once with "
                f"each rate {', '.join(f'{r:g}' for r in LEARNING_RATE_STUDY)} for "
                f"{spec.epochs} epochs, from the same initial weights; the loss curves overlaid.")
    st.checkbox("Give slower rates more epochs (epochs ÷ rate, as seed 003 does)",
                key="training_study_scale")
    c1, c2, c3 = st.columns([1, 1, 1])
    c1.button("Run the learning-rate study", key="training_study_start", icon=":material/show_chart:",
              on_click=_start_experiment, args=("study",))
    c2.button("Run the scikit-learn cross-check", key="training_cross_start", icon=":material/compare_arrows:",
              on_click=_start_experiment, args=("cross",))
    c3.button("Stop the experiment", key="training_experiment_stop", icon=":material/stop:",
              on_click=_stop_experiment, disabled=not running)
    st.caption("The cross-check trains the same network (hidden layers, activation, batch "
               "size, learning rate, epochs, seed, L2) with scikit-learn's MLPClassifier "
               "(solver 'sgd' with momentum 0 for plain SGD) on the same data.")
    st.fragment(run_every=POLL if running else None)(experiment_panel)(running)


# ---------------------------------------------------------------- saving and loading
def model_file_section(dataset) -> None:
    model = shared.get_model()
    trainer = _trainer()
    active = trainer is not None and trainer.progress().active
    left, right = st.columns(2)
    with left:
        st.markdown("**Download the current model**")
        if model is None:
            st.caption("No model yet: train one or upload one.")
        else:
            def to_bytes():
                buffer = io.BytesIO()
                save(model, buffer)
                return buffer.getvalue()
            try:
                data = _cached("model_bytes", (model,), to_bytes)
                name = f"nncore-{model.metadata.get('dataset', {}).get('name', 'model')}.npz"
                st.download_button(f"Download {name} ({len(data) / 1024:,.0f} KiB)", data,
                                   file_name=name, mime="application/octet-stream",
                                   key="training_download", icon=":material/download:", on_click="ignore")
                st.caption(f"{model!r}. Load it later here to continue training, or on "
                           "another machine with `nncore.load(path)`.")
            except (TypeError, ValueError, OSError) as exc:
                shared.show_error(f"The model could not be saved: {exc}")
    with right:
        upload = st.file_uploader("Upload a model (.npz saved by this app or by nncore)",
                                  key="training_upload", disabled=active,
                                  help="Only plain arrays are read: files holding pickled "
                                       "Python objects are refused.")
        if active:
            st.caption("Stop the run in progress to load a model.")
        if upload is not None and st.session_state.get(UPLOAD_SEEN) != upload.file_id:
            st.session_state[UPLOAD_SEEN] = upload.file_id
            network, problem = accept_upload(upload.getvalue(), upload.name, dataset)
            if network is not None:
                shared.set_model(network)
                st.session_state[UPLOAD_NOTE] = (
                    "success", f"Loaded {upload.name}: {network!r}. It is now the current "
                    "model — tick “Continue training the current model” to train it further, "
                    "or draw a digit for it on the Inference page.")
            else:
                st.session_state[UPLOAD_NOTE] = ("error", problem + " The current model is "
                                                 "unchanged.")
        if upload is None:
            st.session_state.pop(UPLOAD_NOTE, None)
            st.session_state.pop(UPLOAD_SEEN, None)
        note = st.session_state.get(UPLOAD_NOTE)
        if note:
            _show(*note)


# ---------------------------------------------------------------- the page
def main() -> None:
    shared.init_state()
    st.title("Training")
    spec = shared.get_spec()
    try:
        dataset = shared.current_dataset()
    except (DataUnavailable, ValueError, OSError) as exc:
        shared.show_error(f"The data set could not be loaded: {exc}")
        return
    shared.collect_training_result()
    st.caption(f"**Data:** {dataset.description} — {dataset.n_train:,} training, "
               f"{dataset.n_val:,} validation, {dataset.n_test:,} test samples.  \n"
               f"**Network:** {shared.network_line(spec, dataset.n_features, dataset.n_classes)}")
    if dataset.fallback_reason:
        st.warning(dataset.fallback_reason, icon=":material/warning:")
    for problem in spec.problems(dataset.n_classes):
        st.warning(problem)

    trainer = _trainer()
    progress = trainer.progress() if trainer is not None else None
    active = progress is not None and progress.active
    model = shared.get_model()
    can_continue = model is not None and model_fits(model, dataset) is None

    c1, c2, c3, c4 = st.columns([1.2, 1, 1, 2.4])
    c1.button("Start training", key="training_start", type="primary", icon=":material/play_arrow:",
              on_click=_on_start, help="One run at a time per session: while a run goes on, "
                                       "Start says so instead of starting another.")
    paused = progress is not None and progress.state == "paused"
    c2.button("Resume" if paused else "Pause", key="training_pause",
              icon=":material/play_arrow:" if paused else ":material/pause:", on_click=_on_pause, disabled=not active)
    c3.button("Stop", key="training_stop", icon=":material/stop:", on_click=_on_stop, disabled=not active)
    c4.toggle("Continue training the current model", key="training_continue",
              disabled=not can_continue or active,
              help="Train the current (trained or uploaded) model further with the "
                   "hyper-parameters set on the Architecture page, instead of a new network.")
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        _show(*notice)

    st.fragment(run_every=POLL if active else None)(live_status)(dataset, active)
    st.fragment(run_every=CHART_SECONDS if active else None)(live_charts)(dataset)
    outcome(dataset)

    with st.expander(":material/save: Save or load the model", expanded=False):
        model_file_section(dataset)

    st.subheader("What the network learned")
    tabs = st.tabs(["Results", "Inside the network", "Experiments"], key="training_tabs",
                   on_change="rerun")
    for tab, draw in ((tabs[0], results_tab), (tabs[1], inside_tab)):
        with tab:
            if tab.open:   # a closed tab costs nothing
                model = _analysis_model(dataset)
                if model is not None:
                    a = _cached("analysis", (model, dataset), lambda: _analysis(model, dataset))
                    draw(model, dataset, a)
    with tabs[2]:
        if tabs[2].open:
            experiments_tab(dataset)


if __name__ == "__main__":
    _guarded(main)()
