"""The one training-run lifecycle of a session: start, wait, watch, steer, collect.

A session has at most one run and one experiment at a time, whichever page started them:
the Training page's Start, the Inference page's one-click default network and the
Training page's experiments all go through ``start`` / ``start_task`` here, and all of them
are refused with a sentence while another one is going (``busy``).

    start(spec, dataset)      build the spec's network and hand it, as a training process
                              (``nncore.jobs.processes.make_trainer``), to the server's
                              scheduler: it trains now if a slot is free, else it waits its
                              turn; returns None, or the sentence saying why it did not start
    current()                 the session's run (queued, running, paused or ended), or None
    pause_or_resume(), stop() steer it (stop cancels a run that is still waiting)
    collect()                 once it has ended: its network becomes the session's model,
                              and the run joins the session's history (``history()``)
    live_model(...)           a copy of the weights of the run going on, kept per epoch

What pages show of a run — a waiting run's place in line, the sidebar's line — is
``lab.run_views``.

The server is shared: one ``Scheduler`` per server process (``nncore.jobs.scheduler``)
decides which runs of all its visitors train now, gives each its share of the cores and
ends runs that pass the server's time limit. The run and its watcher thread touch no
Streamlit API, so reruns, clicks and visits to other pages leave them alone; a page reads
``current().progress()`` whenever it draws.

When the visitor leaves, the run stops: the workers hold only a weak reference to the
session's ``SessionToken`` (Streamlit drops a closed session's state about two minutes
after its tab closed), and, sooner, they ask the session's ``Presence`` whether its tab is
still connected (a tab that closes ends its run within ``Presence.GRACE_SECONDS`` plus a
watchdog round) and whether the page has polled lately (``HEARTBEAT_SECONDS``: for a tab
that is gone without saying so).
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, state
from lab.history import RunHistory, same_shapes
from lab.models import model_fits
from lab.page import callback
from lab.presence import Presence
from nncore.data import DataUnavailable
from nncore.jobs.processes import make_trainer
from nncore.jobs.scheduler import LabBusy, default_scheduler
from nncore.jobs.threads import BackgroundTask, BackgroundTrainer, SessionToken
from nncore.optimizers import get_optimizer
from nncore.runs.run import build_for
from nncore.runs.schema import LIMITS, RunTooLarge, SpecError
from nncore.runs.work import work_per_sample
from nncore.training import History, TrainingError

TRAINER = "trainer"        # the session's run: a ProcessTrainer (a BackgroundTrainer where
                           # processes cannot start), or None
TASK = "experiment"        # the session's experiment: a BackgroundTask, or None
OWNER = "run_owner"        # SessionToken: the workers stop when it is dropped
PRESENCE = "run_presence"  # Presence: is the visitor's tab still there?
LIVE = "live_model"        # (trainer, epoch, network): the copy of a running network in use
RESULT = "run_result"      # (trainer, final Progress) of the run collected last
HISTORY = "run_history"    # RunHistory: the session's runs that trained (lab.history)

# Every fragment rerun costs the browser ~0.2 s of CPU (Streamlit re-renders the app),
# whatever it shows; on a small machine that CPU comes out of training. Measured with
# benchmarks/page_throughput.py: polling every 2 s instead of 1 s (and the charts every 6 s
# instead of 4 s) took the page from 71 % to 85 % of the command line's speed.
POLL_SECONDS = 2.0
START_SECONDS = 0.6     # Start lets a run go this long first: the page shows it under way


def init() -> None:
    """A new session has no run and no experiment yet. (Called on every run of the frame,
    which is also a sign of life from the visitor's tab.)"""
    st.session_state.setdefault(TRAINER, None)
    st.session_state.setdefault(TASK, None)
    _presence().touch()
    if not _SERVER_BLAS:
        _SERVER_BLAS.append(_one_blas_thread())


_SERVER_BLAS: list = []         # the server process's own BLAS limit, once set


def _one_blas_thread():
    """The server's own products (the analysis tabs, a drawing's answer, a step) are small,
    and the cores belong to the training processes, which the scheduler gives their share:
    the server process keeps to one BLAS thread (a BLAS's idle threads spin, taking a core
    from a run for nothing; measured: a recorded MNIST step 4.4 ms with one
    thread, 28 ms with two beside training)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:             # without it, BLAS keeps its own number of threads
        return None
    return threadpool_limits(limits=1, user_api="blas")


def scheduler():
    """The server's scheduler (one per server process, shared by every session)."""
    return default_scheduler()


def _owner() -> SessionToken:
    if not isinstance(st.session_state.get(OWNER), SessionToken):
        st.session_state[OWNER] = SessionToken()
    return st.session_state[OWNER]


def _presence() -> Presence:
    presence = st.session_state.get(PRESENCE)
    if not isinstance(presence, Presence):
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        presence = st.session_state[PRESENCE] = Presence(ctx.session_id if ctx else None)
    return presence


def current() -> BackgroundTrainer | None:
    _presence().touch()             # every page that polls a run asks for it
    trainer = st.session_state.get(TRAINER)
    return trainer if isinstance(trainer, BackgroundTrainer) else None


def current_task() -> BackgroundTask | None:
    _presence().touch()             # the experiment panel's poll is a sign of life too
    task = st.session_state.get(TASK)
    return task if isinstance(task, BackgroundTask) else None


def active() -> bool:
    trainer = current()
    return trainer is not None and trainer.progress(batch_loss=False).active


def busy() -> str | None:
    """Why nothing else may start now (one run queued or going per session), or None."""
    trainer = current()
    if trainer is not None and trainer.state == "queued":
        return ("This session's run is already waiting for a free slot: cancel it before "
                "starting another.")
    if active():
        return ("A training run is already in progress in this session: pause or stop it "
                "before starting another.")
    task = current_task()
    if task is not None and task.progress().active:
        return ("An experiment is running in this session: stop it or let it finish before "
                "starting another run.")
    return None


# ---------------------------------------------------------------- starting and steering
def start(spec, dataset, *, continue_model=None, initial_weights=None,
          purpose: str = "training", preset: str | None = None) -> str | None:
    """Start a run of ``spec`` on ``dataset`` (or, with ``continue_model``, train that model
    further with the spec's optimizer and training settings; or, with ``initial_weights``,
    start the spec's network from those weights: a twin run). Returns None when it
    started, else the sentence saying why not. ``purpose`` tells pages whose run it is;
    ``preset`` names the preset the spec is, and goes into the trained model's metadata."""
    collect()           # a run that has ended hands its network on before another replaces it
    reason = busy()
    if reason:
        return reason
    try:
        network = (_continued(spec, dataset, continue_model) if continue_model is not None
                   else build_network(spec, dataset))
        if initial_weights is not None:
            _start_from(network, initial_weights)
    except (SpecError, TrainingError, ValueError) as exc:
        return str(exc)
    if preset is not None and continue_model is None:
        network.metadata["preset"] = preset
    validation = (dataset.X_val, dataset.y_val) if dataset.n_val else None
    trainer = make_trainer(
        network, dataset.X_train, dataset.y_train, validation=validation, owner=_owner(),
        alive=_presence(),
        meta={"spec": spec.to_dict(), "data": dict(spec.data), "purpose": purpose,
              "continued": continue_model is not None, "n_train": dataset.n_train,
              "initial_weights": network.get_weights()},
        epochs=spec.epochs, batch_size=spec.batch_size, shuffle=spec.shuffle, seed=spec.seed,
        schedule=spec.schedule)
    estimate = spec.estimate_seconds(dataset.n_train, dataset.n_features, dataset.n_classes,
                                     dataset.image_shape)
    try:
        scheduler().submit(trainer, estimate_seconds=estimate)
    except LabBusy as exc:
        return str(exc)
    st.session_state[TRAINER] = trainer
    st.session_state.pop(LIVE, None)
    trainer.wait_under_way(START_SECONDS)   # (a short run: finished)
    return None


def build_network(spec, dataset):
    """The spec's network, once the spec suits the data and fits the hosted limits
    (``SpecError`` / ``RunTooLarge`` with a sentence when it does not): what Start and
    step mode train."""
    blocking = spec.blocking_problem(dataset.n_classes)
    if blocking is not None:
        raise SpecError(blocking.field, blocking.message)
    spec.check_limits(dataset.n_train, dataset.n_features, dataset.n_classes,
                      image_shape=dataset.image_shape)
    return build_for(spec, dataset)


def _start_from(network, weights) -> None:
    """Give a freshly built network another run's initial weights (a twin run)."""
    if not same_shapes(weights, network):
        raise ValueError("A twin run starts from the first run's initial weights, so its "
                         "network must have the same layers and sizes: change the "
                         "optimizer, learning rate, schedule, batch size, epochs or L2, "
                         "not the architecture or the data.")
    network.set_weights(weights)


def _continued(spec, dataset, model):
    """A copy of ``model`` to train further (the current model stays as it is)."""
    problem = model_fits(model, dataset)
    if problem:
        raise ValueError(problem)
    per_sample = work_per_sample(model)     # counted as a spec's run is (nncore.runs.work)
    work = float(spec.epochs) * dataset.n_train * per_sample
    if work > LIMITS["max_work"]:
        raise RunTooLarge("epochs", f"This run is too large for the shared demo: {spec.epochs} "
                          f"epochs × {dataset.n_train:,} samples × {per_sample:,} "
                          f"per sample = {work:.2g}, above the limit of "
                          f"{LIMITS['max_work']:.0e}. Use fewer epochs.")
    network = model.copy()
    network.optimizer = get_optimizer(dict(spec.optimizer))
    network.l2 = float(spec.l2)
    return network


@callback
def pause_or_resume() -> None:
    trainer = current()
    if trainer is not None:
        trainer.resume() if trainer.state == "paused" else trainer.pause()


def stop() -> bool:
    """Ask the run to stop after its current batch, or take it out of the queue if it is
    still waiting; True if there was one to stop."""
    trainer = current()
    if trainer is None:
        return False
    if scheduler().cancel(trainer, "cancelled while it waited for a free slot"):
        return True
    if trainer.progress(batch_loss=False).active:
        trainer.stop()
        return True
    return False


def start_task(job, meta: dict, estimate_seconds: float | None = None) -> str | None:
    """Start an experiment ``job(report, control)`` on a worker thread when the server has
    a free slot for it (an experiment trains, so it queues like a run); None, or why not."""
    reason = busy()
    if reason:
        return reason
    task = BackgroundTask(job, owner=_owner(), alive=_presence(), meta=meta)
    try:
        scheduler().submit(task, estimate_seconds=estimate_seconds)
    except LabBusy as exc:
        return str(exc)
    st.session_state[TASK] = task
    return None


@callback
def stop_task() -> None:
    task = current_task()
    if task is not None and not scheduler().cancel(task):
        task.stop()


# ---------------------------------------------------------------- when a run ends
def collect():
    """When the session's run has ended, make its network the session's model — once.

    Returns the run's final Progress the first time, else None. A finished or stopped run
    replaces the model; a diverged one only if it completed an epoch (its network then
    holds the last good weights); a failed one leaves the model as it was.
    """
    trainer = current()
    if trainer is None:
        return None
    final = trainer.claim_result()
    if final is None:
        return None
    if final.state in ("finished", "stopped") or (final.state == "diverged" and final.epoch >= 1):
        network = trainer.network
        network.metadata["history"] = final.history
        network.metadata["spec"] = trainer.meta["spec"]
        state.set_model(network)
        _remember(trainer, final)
    st.session_state[RESULT] = (trainer, final)
    return final


def history() -> RunHistory:
    """The session's run history (``lab.history``)."""
    if not isinstance(st.session_state.get(HISTORY), RunHistory):
        st.session_state[HISTORY] = RunHistory()
    return st.session_state[HISTORY]


def _remember(trainer, final) -> None:
    """Add the run that has just ended to the history, with its final figures."""
    h = final.history
    metrics, sizes = History.last_figures(h), None
    try:
        dataset = datasets.dataset_for(trainer.meta["data"])
        sizes = (dataset.n_features, dataset.n_classes)
        if dataset.n_test:
            scores = trainer.network.evaluate(dataset.X_test, dataset.y_test)
            metrics.update(test_loss=scores["loss"], test_accuracy=scores["accuracy"])
    except (ValueError, OSError, DataUnavailable):   # the data has gone (an upload replaced)
        pass
    history().add(spec=trainer.meta["spec"], state=final.state, message=final.message,
                  history=h, metrics=metrics, seconds=final.elapsed, sizes=sizes,
                  network=trainer.network,
                  initial_weights=trainer.meta.get("initial_weights"),
                  continued=trainer.meta.get("continued", False))


def last_result():
    """(trainer, final Progress) of the run collected last, or None."""
    return st.session_state.get(RESULT)


def live_model(trainer, epoch: int, refresh: bool = False):
    """A copy of the weights of the run in progress, taken once per epoch (or when
    ``refresh``) and kept in the session: asking the training process on every rerun
    costs a round trip, and a new copy each time would make every cache that is keyed
    on the model (the Inference page's test-set predictions) miss."""
    held = st.session_state.get(LIVE)
    if refresh or held is None or held[0] is not trainer or held[1] != epoch:
        held = (trainer, epoch, trainer.model_copy())
        st.session_state[LIVE] = held
    return held[2]
