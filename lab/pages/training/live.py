"""What a run shows while it goes on, and once it has ended.

``live_status`` (progress bar and figures) and ``live_charts`` (the curves, the 2-D
boundary) are fragments: while a run goes on they rerun on their own, every POLL and every
CHART_SECONDS, without the rest of the page. Each figure is rebuilt only when the numbers
behind it changed (``memo.cached``). ``outcome`` says what happened, once the run ended.
"""

from __future__ import annotations

import statistics

import streamlit as st

from lab import runs, state
from lab.figures import training as figures
from lab.page import guarded, show_error
from lab.pages.training import diverged
from lab.pages.training.memo import cached
from lab.summaries import data_line, duration, network_line
from nncore.runs import experiments as ex
from nncore.runs.spec import RunSpec

POLL = runs.POLL_SECONDS            # progress bar and figures
CHART_SECONDS = 6.0                 # charts: redrawn less often, they cost more


def _progress_text(p) -> str:
    if p.active:
        current = min(p.epoch + 1, p.epochs)
        text = (f"Epoch {current}/{p.epochs} · batch {p.batch}/{p.batches or '…'} · "
                f"{p.epoch} epochs done")
        if p.eta_seconds is not None and p.state == "running":
            text += f" · about {duration(p.eta_seconds)} left"
        return text + (" · paused" if p.state == "paused" else "")
    return f"{p.epoch}/{p.epochs} epochs done · {p.state}"


def _boundary_points(dataset):
    X, y = dataset.X_train, dataset.y_train
    if len(X) > 1500:
        rows = ex.fixed_batch(len(X), 1500, seed=1)
        X, y = X[rows], y[rows]
    return X, y


@guarded
def live_status(dataset, polling: bool) -> None:
    """Progress bar and figures, refreshed every POLL seconds while a run goes on."""
    trainer = runs.current()
    if trainer is None:
        spec = state.get_spec()
        batch = spec.batch_size or "full batch"
        st.info(f"No run yet. **Start** trains "
                f"{network_line(spec, dataset.n_features, dataset.n_classes)} on "
                f"{dataset.n_train:,} training samples ({dataset.n_val:,} for validation), "
                f"batch size {batch}. The charts below fill in as it learns.",
                icon=":material/play_circle:")
        return
    p = trainer.progress(batch_loss=False)
    if polling and not p.active:
        st.rerun()      # the run just ended: redraw the whole page once, with its result
    if p.state == "queued" and runs.waiting_panel(trainer, "Your run", key="training_cancel_wait"):
        return
    st.progress(p.fraction, text=_progress_text(p))
    h = p.history
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Samples / second", f"{p.samples_per_second:,.0f}")
    c2.metric("Training time", duration(p.elapsed))
    c3.metric("Time left", duration(p.eta_seconds) if p.active else "–")
    c4.metric("Training loss", f"{h['train_loss'][-1]:.4f}" if h.get("train_loss") else "–")
    if h.get("val_accuracy"):
        c5.metric("Validation accuracy", f"{h['val_accuracy'][-1]:.2%}")
    else:
        c5.metric("Training accuracy",
                  f"{h['train_accuracy'][-1]:.2%}" if h.get("train_accuracy") else "–")
    if trainer.meta["data"] != state.get_spec().data:
        st.caption(f"This run trains on {data_line(RunSpec.from_dict(trainer.meta['spec']))}, "
                   "not on the data set chosen now.")


@guarded
def live_charts(dataset) -> None:
    """The run's charts, refreshed every CHART_SECONDS while it goes on. Each figure is
    rebuilt only when the numbers behind it changed (new epoch, new batches)."""
    trainer = runs.current()
    if trainer is None:
        return
    p = trainer.progress()
    if p.state in ("queued", "cancelled"):
        return
    h = p.history
    key = id(trainer)
    left, right = st.columns(2)
    with left:
        fig = cached("loss_fig", (key, p.epoch, p.state), lambda: figures.epoch_figure(h, "loss"))
        st.plotly_chart(fig, key="training_loss_chart")
    with right:
        fig = cached("acc_fig", (key, p.epoch, p.state), lambda: figures.epoch_figure(h, "accuracy"))
        st.plotly_chart(fig, key="training_accuracy_chart")

    last = p.batch_loss[-1][0] if p.batch_loss else 0
    batch_fig = cached("batch_fig", (key, last, p.state, len(p.batch_loss)),
                        lambda: figures.batch_loss_figure(p.batch_loss))
    same_data = trainer.meta["data"] == state.get_spec().data
    if dataset.n_features == 2 and trainer.network.n_inputs == 2 and same_data:
        left, right = st.columns(2)
        with left:
            st.plotly_chart(batch_fig, key="training_batch_chart")
        with right:
            def boundary():
                net = trainer.model_copy() if p.active else trainer.network
                X, y = _boundary_points(dataset)
                grid = ex.decision_grid(net, X, resolution=70)
                return figures.boundary_figure(grid, X, y, ex.correct_mask(net, X, y),
                                             list(dataset.class_names),
                                             title=f"Decision boundary after epoch {p.epoch} "
                                                   "(training points; ✕ = wrong)")
            fig = cached("boundary_fig", (key, p.epoch, p.batch, p.state), boundary)
            st.plotly_chart(fig, key="training_boundary_chart")
    else:
        st.plotly_chart(batch_fig, key="training_batch_chart")


def outcome(dataset) -> None:
    """What happened to the last run, said once it has ended (outside the fragment)."""
    trainer = runs.current()
    if trainer is None:
        return
    p = trainer.progress()
    if p.active:
        return
    if p.state == "finished":
        median = statistics.median(p.history.get("seconds") or [float("nan")])
        st.success(f"Finished {p.epoch} epoch{'s' if p.epoch != 1 else ''} in {duration(p.elapsed)} "
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
        diverged.outcome(trainer, p)        # what happened, where it overflowed, one retry
    elif p.state == "cancelled":
        st.info(f"The run was {p.message or 'cancelled'}; nothing was trained.",
                icon=":material/cancel:")
    elif p.state == "failed":
        show_error(p.message or "Training failed.")
