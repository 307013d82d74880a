"""What a run shows while it goes on, and once it has ended.

``live_view`` is a fragment: while a run goes on it reruns on its own every POLL seconds,
without the rest of the page, and draws the progress line, the figures and the charts
from one reading of the run's record, so the charts never lag the progress line. (Start
lets the run go for a moment before the page is drawn: ``runs.START_SECONDS``.)

The charts are the run's replay (``lab.figures.replay``): its curves with a cursor, its
decision boundary for 2-D data, and that epoch's figures, one frame per snapshot the run
kept — played and scrubbed in the browser, during the run and after it. While the run
goes on the last frame is its state now. Each figure is rebuilt only when the numbers
behind it changed (``memo.cached``), each snapshot's boundary computed once.
``outcome`` says what happened, once the run ended.
"""

from __future__ import annotations

import statistics

import streamlit as st

from lab import run_views, runs, state
from lab.figures import replay
from lab.figures import training as figures
from lab.page import guarded, show_error
from lab.pages.training import diverged
from lab.pages.training.memo import cached
from lab.summaries import data_line, duration, network_line
from nncore.jobs import processes
from nncore.runs import experiments as ex
from nncore.runs.spec import RunSpec
from nncore.training import History

POLL = runs.POLL_SECONDS            # the whole live view: progress, figures, charts
CHART_SECONDS = 6.0                 # the step-mode unit maps' pace (stepping_maps.py)
GRID = 60                           # points per side of each replayed boundary …
SHARP_GRID = 120                    # … and of the one on show: a cell per 4 px of its plot
FRAMES = "training_replay_frames"   # (trainer, {(epoch, step): frame}) — made once each


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
def live_view(dataset, polling: bool) -> None:
    """The session's run: progress line, figures and charts, read from one record."""
    trainer = runs.current()
    if trainer is None or not trainer.progress(batch_loss=False).active:
        processes.warm_up()             # a Start may come: have its process ready
    if trainer is None:
        spec = state.get_spec()
        batch = spec.batch_size or "full batch"
        st.info(f"No run yet. **Start** trains "
                f"{network_line(spec, dataset.n_features, dataset.n_classes)} on "
                f"{dataset.n_train:,} training samples ({dataset.n_val:,} for validation), "
                f"batch size {batch}. The charts below fill in as it learns.",
                icon=":material/play_circle:")
        return
    p = trainer.progress()
    if polling and not p.active:
        st.rerun()      # the run just ended: redraw the whole page once, with its result
    if p.state == "queued" and run_views.waiting_panel(trainer, "Your run", key="training_cancel_wait"):
        return
    _status(trainer, p)
    if p.state != "cancelled":
        _charts(trainer, p, dataset)


def _status(trainer, p) -> None:
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


def _charts(trainer, p, dataset) -> None:
    """The replay (curves, boundary, that epoch's figures) and the loss of every batch."""
    two_d = (dataset.n_features == 2 and trainer.network.n_inputs == 2
             and trainer.meta["data"] == state.get_spec().data)
    points = _boundary_points(dataset) if two_d else None
    shots = trainer.snapshots()
    replayed = points is not None and all(s.weights is not None for s in shots)
    frames = _frames(trainer, p, shots, points if replayed else None)
    newest = frames[-1]["step"] if replayed else frames[-1]["epoch"]
    signature = (trainer, len(shots), newest, p.epoch, p.state, replayed)
    fig = cached("replay_fig", signature, lambda: replay.replay_figure(
        p.history, frames, p.epochs, points=points if replayed else None,
        class_names=list(dataset.class_names)))
    st.plotly_chart(fig, key="training_replay_chart")
    if len(frames) > 1:
        st.caption("**▶ Play** replays the run from its first epoch; the slider shows any "
                   "epoch it kept: the boundary, the cursor on the curves and that epoch's "
                   "figures move together.")
    last = p.batch_loss[-1][0] if p.batch_loss else 0
    batch_fig = cached("batch_fig", (trainer, last, p.state, len(p.batch_loss)),
                       lambda: figures.batch_loss_figure(p.batch_loss))
    if points is not None and not replayed:      # a network too large to replay: now only
        left, right = st.columns(2)
        left.plotly_chart(batch_fig, key="training_batch_chart")
        with right:
            fig = cached("boundary_fig", (trainer, p.epoch, p.batch, p.state),
                         lambda: _boundary_now(trainer, p, dataset, points))
            st.plotly_chart(fig, key="training_boundary_chart")
    else:
        st.plotly_chart(batch_fig, key="training_batch_chart")


def _boundary_now(trainer, p, dataset, points):
    net = trainer.model_copy() if p.active else trainer.network
    X, y = points
    return figures.boundary_figure(ex.decision_grid(net, X, resolution=70), X, y,
                                   ex.correct_mask(net, X, y), list(dataset.class_names),
                                   title=f"Decision boundary after epoch {p.epoch} "
                                         "(training points; ✕ = wrong)")


def _frames(trainer, p, shots, points) -> list[dict]:
    """One replay frame per snapshot (its boundary, with ``points``, computed once), and,
    while the run goes on past the last snapshot, one of its state now."""
    held = st.session_state.get(FRAMES)
    if held is None or held[0] is not trainer:
        held = st.session_state[FRAMES] = (trainer, {})
    made, frames, net = held[1], [], None
    for s in shots:
        frame = made.setdefault((s.epoch, s.step),
                                {"epoch": s.epoch, "step": s.step, "metrics": s.metrics})
        if points is not None and "grid" not in frame:   # drawn once, when first asked
            net = net or trainer.network.copy()
            net.set_weights(s.weights)
            frame.update(_map(net, points))
        frames.append(frame)
    # the run now, when it is ahead of its last snapshot: its weights (a boundary moves
    # with every batch), else its epochs (curves and figures move once an epoch)
    newest = (shots[-1].step if points is not None else shots[-1].epoch) if shots else 0
    if p.active and (p.step if points is not None else p.epoch) > newest:
        h = p.history
        metrics = History.last_figures(h)
        frame = {"epoch": p.epoch, "step": p.step, "metrics": metrics, "now": True}
        if points is not None:
            frame.update(cached("replay_now", (trainer, p.step),
                                lambda: _map(trainer.model_copy(), points, SHARP_GRID)))
        frames.append(frame)
    elif points is not None and shots:
        # the frame on show is the last snapshot: drawn again on the finer grid (the
        # others stay coarse, so that fifty of them travel to the browser cheaply)
        s = shots[-1]
        frames[-1] = {**frames[-1], "grid": cached(
            "replay_sharp", (trainer, s.epoch, s.step),
            lambda: _sharp_grid(trainer, s.weights, points))}
    return frames or [{"epoch": 0, "step": 0, "metrics": {}}]


def _map(net, points, resolution: int = GRID) -> dict:
    X, y = points
    return {"grid": ex.decision_grid(net, X, resolution=resolution),
            "wrong": net.predict(X) != y}


def _sharp_grid(trainer, weights, points) -> dict:
    net = trainer.network.copy()
    net.set_weights(weights)
    return ex.decision_grid(net, points[0], resolution=SHARP_GRID)


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
        per_epoch = f"{median * 1000:.3g} ms" if median < 0.1 else f"{median:.2f} s"
        st.success(f"Finished {p.epoch} epoch{'s' if p.epoch != 1 else ''} in {duration(p.elapsed)} "
                   f"({p.samples_per_second:,.0f} samples/s, median {per_epoch} per epoch). "
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
