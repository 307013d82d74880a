"""Seed 003's experiments on the current 2-D setup: the learning-rate study (the same
network trained once per rate, from the same initial weights) and the cross-check with
scikit-learn's MLPClassifier. Each runs as the session's experiment (``lab.runs``), on a
worker thread, watched by a fragment while it goes on.
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, run_views, runs, state
from lab.figures import training as figures
from lab.page import callback, guarded, notice, show_error
from lab.pages.training.controls import BLOCKED, blocked
from lab.pages.training.live import POLL
from lab.pages.training.memo import cached
from nncore.data import DataUnavailable
from nncore.runs import experiments as ex
from nncore.runs.presets import LEARNING_RATE_STUDY
from nncore.runs.schema import LIMITS, SpecError
from nncore.runs.spec import count_parameters

STUDY_SCALE = "training_study_scale"   # checkbox: slower rates get more epochs


def _work(epochs: int, n_train: int, n_parameters: int) -> float:
    return float(epochs) * n_train * n_parameters


@callback
def _start(kind: str):
    try:
        spec = state.get_spec()
        dataset = datasets.current_dataset()
        if dataset.n_features != 2:
            raise ValueError("The experiments of seed 003 run on a 2-D data set.")
        scale = bool(st.session_state.get(STUDY_SCALE))
        params = count_parameters(spec, dataset.n_features, dataset.n_classes)
        if kind == "study":
            epochs = sum(max(1, int(round(spec.epochs / r))) if scale else spec.epochs
                         for r in LEARNING_RATE_STUDY)
        else:
            epochs = 2 * spec.epochs
            ex.sklearn_settings(spec, dataset.n_train)   # refuse early what sklearn lacks
        work = _work(epochs, dataset.n_train, params)
        if work > LIMITS["max_work"]:
            raise ValueError(f"This experiment is too large for the shared demo ({work:.2g} > "
                             f"{LIMITS['max_work']:.0e}): use fewer epochs or a smaller network.")
        blocking = spec.blocking_problem(dataset.n_classes)
        if blocking is not None:
            raise SpecError(blocking.field, blocking.message)
    except (ValueError, DataUnavailable) as exc:
        notice("error", str(exc))
        return
    if kind == "study":
        def job(report, control):
            return ex.learning_rate_study(spec, dataset, report, control, scale_epochs=scale)
    else:
        def job(report, control):
            return ex.sklearn_crosscheck(spec, dataset, report, control)
    estimate = spec.estimate_seconds(dataset.n_train, dataset.n_features,
                                     dataset.n_classes) * epochs / spec.epochs
    reason = runs.start_task(job, meta={"kind": kind, "spec": spec.to_dict()},
                             estimate_seconds=estimate)
    if reason:
        notice("error", reason)


@guarded
def experiment_panel(polling: bool) -> None:
    task = runs.current_task()
    if task is None:
        return
    p = task.progress()
    if polling and not p.active:
        st.rerun()
    kind = task.meta.get("kind")
    data = p.result if p.result is not None else p.partial
    label = "Learning-rate study" if kind == "study" else "scikit-learn cross-check"
    if p.state == "queued" and run_views.waiting_panel(task, f"The {label[0].lower()}{label[1:]}",
                                                  key="experiment_cancel_wait"):
        return
    if p.active:
        st.progress(p.fraction, text=f"{label}: {p.message or 'starting…'}")
    elif p.state == "failed":
        show_error(p.message or "The experiment failed.")
    elif p.state == "stopped":
        st.info(f"{label} {p.message}; showing what it had done.")
    elif p.state == "cancelled":
        st.info(f"The {label[0].lower()}{label[1:]} was {p.message}.")
    if not data:
        return
    sig = (id(task), p.state, round(p.fraction, 3))
    if kind == "study":
        fig = cached("study_fig", sig, lambda: figures.rate_study_figure(data["curves"],
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
        fig = cached("cross_fig", sig, lambda: figures.crosscheck_figure(ours, theirs))
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
    spec = state.get_spec()
    task = runs.current_task()
    running = task is not None and task.progress().active
    st.markdown(f"**Learning-rate study** (seed 003): the current network trained once with "
                f"each rate {', '.join(f'{r:g}' for r in LEARNING_RATE_STUDY)} for "
                f"{spec.epochs} epochs, from the same initial weights; the loss curves overlaid.")
    st.checkbox("Give slower rates more epochs (epochs ÷ rate, as seed 003 does)",
                key=STUDY_SCALE)
    c1, c2, c3 = st.columns([1, 1, 1])
    kw = {"disabled": True, "help": BLOCKED} if blocked(dataset) else {}
    c1.button("Run the learning-rate study", key="training_study_start", icon=":material/show_chart:",
              on_click=_start, args=("study",), **kw)
    c2.button("Run the scikit-learn cross-check", key="training_cross_start", icon=":material/compare_arrows:",
              on_click=_start, args=("cross",), **kw)
    c3.button("Stop the experiment", key="training_experiment_stop", icon=":material/stop:",
              on_click=runs.stop_task, disabled=not running)
    st.caption("The cross-check trains the same network (hidden layers, activation, batch "
               "size, learning rate, epochs, seed, L2) with scikit-learn's MLPClassifier "
               "(solver 'sgd' with momentum 0 for plain SGD) on the same data.")
    st.fragment(run_every=POLL if running else None)(experiment_panel)(running)
