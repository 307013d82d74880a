"""The one training-run lifecycle of a session: start, watch, steer, collect.

A session has at most one run and one experiment at a time, whichever page started them:
the Training page's Start, the Inference page's one-click default network and the
Training page's experiments all go through ``start`` / ``start_task`` here, and all of them
are refused with a sentence while another one is going (``busy``).

    start(spec, dataset)      build the spec's network and train it in a child process
                              (``nncore.jobs.processes.make_trainer``); returns None, or
                              the sentence saying why it did not start
    current()                 the session's run (running, paused or ended), or None
    pause_or_resume(), stop() steer it
    collect()                 once it has ended: its network becomes the session's model
    live_model(...)           a copy of the weights of the run going on, kept per epoch
    sidebar(poll)             "Training: epoch 3/10 (running)", refreshed while it runs

The run and its watcher thread touch no Streamlit API, so reruns, clicks and visits to
other pages leave them alone; a page reads ``current().progress()`` whenever it draws.
The workers hold only a weak reference to the session's ``SessionToken``: when the session
is dropped, its run and experiment stop.
"""

from __future__ import annotations

import streamlit as st

from lab import state
from lab.models import model_fits
from nncore.jobs.processes import make_trainer
from nncore.jobs.threads import BackgroundTask, BackgroundTrainer, SessionToken
from nncore.optimizers import get_optimizer
from nncore.runs.run import build_for
from nncore.runs.schema import LIMITS, RunTooLarge, SpecError
from nncore.training import TrainingError

TRAINER = "trainer"        # the session's run: a ProcessTrainer (a BackgroundTrainer where
                           # processes cannot start), or None
TASK = "experiment"        # the session's experiment: a BackgroundTask, or None
OWNER = "run_owner"        # SessionToken: the workers stop when it is dropped
LIVE = "live_model"        # (trainer, epoch, network): the copy of a running network in use
RESULT = "run_result"      # (trainer, final Progress) of the run collected last

# Every fragment rerun costs the browser ~0.2 s of CPU (Streamlit re-renders the app),
# whatever it shows; on a small machine that CPU comes out of training. Measured with
# benchmarks/page_throughput.py: polling every 2 s instead of 1 s (and the charts every 6 s
# instead of 4 s) took the page from 71 % to 85 % of the command line's speed.
POLL_SECONDS = 2.0


def init() -> None:
    """A new session has no run and no experiment yet."""
    st.session_state.setdefault(TRAINER, None)
    st.session_state.setdefault(TASK, None)


def _owner() -> SessionToken:
    if not isinstance(st.session_state.get(OWNER), SessionToken):
        st.session_state[OWNER] = SessionToken()
    return st.session_state[OWNER]


def current() -> BackgroundTrainer | None:
    trainer = st.session_state.get(TRAINER)
    return trainer if isinstance(trainer, BackgroundTrainer) else None


def current_task() -> BackgroundTask | None:
    task = st.session_state.get(TASK)
    return task if isinstance(task, BackgroundTask) else None


def active() -> bool:
    trainer = current()
    return trainer is not None and trainer.progress(batch_loss=False).active


def busy() -> str | None:
    """Why nothing else may start now (one run per session), or None."""
    if active():
        return ("A training run is already in progress in this session: pause or stop it "
                "before starting another.")
    task = current_task()
    if task is not None and task.progress().active:
        return ("An experiment is running in this session: stop it or let it finish before "
                "starting another run.")
    return None


# ---------------------------------------------------------------- starting and steering
def start(spec, dataset, *, continue_model=None, purpose: str = "training",
          preset: str | None = None) -> str | None:
    """Start a run of ``spec`` on ``dataset`` (or, with ``continue_model``, train that model
    further with the spec's optimizer and training settings). Returns None when it started,
    else the sentence saying why not. ``purpose`` tells pages whose run it is; ``preset``
    names the preset the spec is, and goes into the trained model's metadata."""
    reason = busy()
    if reason:
        return reason
    try:
        network = (_continued(spec, dataset, continue_model) if continue_model is not None
                   else _built(spec, dataset))
    except (SpecError, TrainingError, ValueError) as exc:
        return str(exc)
    if preset is not None and continue_model is None:
        network.metadata["preset"] = preset
    validation = (dataset.X_val, dataset.y_val) if dataset.n_val else None
    trainer = make_trainer(
        network, dataset.X_train, dataset.y_train, validation=validation, owner=_owner(),
        meta={"spec": spec.to_dict(), "data": dict(spec.data), "purpose": purpose,
              "continued": continue_model is not None, "n_train": dataset.n_train},
        epochs=spec.epochs, batch_size=spec.batch_size, shuffle=spec.shuffle, seed=spec.seed,
        schedule=spec.schedule)
    st.session_state[TRAINER] = trainer.start()
    st.session_state.pop(LIVE, None)
    return None


def _built(spec, dataset):
    """The spec's network, once the spec suits the data and fits the hosted limits."""
    blocking = spec.blocking_problem(dataset.n_classes)
    if blocking is not None:
        raise SpecError(blocking.field, blocking.message)
    spec.check_limits(dataset.n_train, dataset.n_features, dataset.n_classes,
                      image_shape=dataset.image_shape)
    return build_for(spec, dataset)


def _continued(spec, dataset, model):
    """A copy of ``model`` to train further (the current model stays as it is)."""
    problem = model_fits(model, dataset)
    if problem:
        raise ValueError(problem)
    work = float(spec.epochs) * dataset.n_train * model.n_parameters()
    if work > LIMITS["max_work"]:
        raise RunTooLarge("epochs", f"This run is too large for the shared demo: {spec.epochs} "
                          f"epochs × {dataset.n_train:,} samples × {model.n_parameters():,} "
                          f"parameters = {work:.2g}, above the limit of "
                          f"{LIMITS['max_work']:.0e}. Use fewer epochs.")
    network = model.copy()
    network.optimizer = get_optimizer(dict(spec.optimizer))
    network.l2 = float(spec.l2)
    return network


def pause_or_resume() -> None:
    trainer = current()
    if trainer is not None:
        trainer.resume() if trainer.state == "paused" else trainer.pause()


def stop() -> bool:
    """Ask the run to stop after its current batch; True if there was one to stop."""
    trainer = current()
    if trainer is not None and trainer.progress(batch_loss=False).active:
        trainer.stop()
        return True
    return False


def start_task(job, meta: dict) -> str | None:
    """Start an experiment ``job(report, control)`` on a worker thread; None, or why not."""
    reason = busy()
    if reason:
        return reason
    st.session_state[TASK] = BackgroundTask(job, owner=_owner(), meta=meta).start()
    return None


def stop_task() -> None:
    task = current_task()
    if task is not None:
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
    st.session_state[RESULT] = (trainer, final)
    return final


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


# ---------------------------------------------------------------- the sidebar's line
def status_line(progress) -> str:
    return f"**Training:** epoch {progress.epoch}/{progress.epochs} ({progress.state})"


def _sidebar_body(was_active: bool) -> None:
    trainer = current()
    if trainer is None:
        return
    progress = trainer.progress(batch_loss=False)
    st.markdown(status_line(progress))
    if was_active and not progress.active:
        collect()
        if _in_fragment_rerun():
            st.rerun()      # once, at the end of the run: the page redraws with the new model


def _in_fragment_rerun() -> bool:
    """True while Streamlit reruns only fragments (not the whole script)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    return bool(ctx is not None and getattr(ctx, "fragment_ids_this_run", None))


def sidebar(poll: bool = True) -> None:
    """The sidebar's "Training: epoch 3/10" line. While a run goes on and ``poll`` is
    true it refreshes itself every POLL_SECONDS (a fragment), and when the run ends it
    hands the network on to the model and reruns the app once. A page that shows the
    progress itself (Training) makes the frame pass poll=False: one poller fewer."""
    collect()
    trainer = current()
    if trainer is None:
        return
    if trainer.progress(batch_loss=False).active and poll:
        st.fragment(run_every=POLL_SECONDS)(_sidebar_body)(True)
    elif trainer.progress(batch_loss=False).active:
        st.markdown("**Training:** running — its progress is on this page")
    else:
        _sidebar_body(False)
