"""Training in a background thread, watched and steered from a user interface.

``BackgroundTrainer`` runs ``Network.fit`` on a worker thread that touches no UI code.
The UI polls ``progress()`` for a consistent snapshot (epochs, batch losses, throughput,
ETA), flips ``pause / resume / stop``, and can take ``model_copy()`` — the latest weights —
at any moment, for instance to draw a digit while the run goes on. A pause takes hold
between two batches: ``progress().held`` says when it has (the batch in flight is done),
and ``progress().step`` counts the batches trained, so that a caller can wait for the
run to stand still or to move on instead of guessing how long that takes.

The worker stops by itself when its owner disappears: the UI passes an ``owner`` object
(anything it keeps alive while the user's session lives); the worker holds only a weak
reference to it, so when the session and its state are dropped, the run ends too
(``SessionToken`` is a ready-made owner: keep one in the session's state). An ``alive``
function can say more: the app's says whether the visitor's browser tab is still there.

A job may wait before it starts: a scheduler (``scheduler.py``) marks it ``queued`` and
calls ``start()`` when a slot frees; ``when_done`` tells it when the job has ended.

``ProcessTrainer`` (``processes.py``), what the app uses, has the same interface and
runs the training in a child process instead; it reuses this module's progress record.

A run keeps snapshots for a replay (``snapshots()``): at the start and at about
SNAPSHOTS evenly spaced epoch ends, the epoch's figures and, for a network whose weights
all those snapshots hold within SNAPSHOT_BYTES, its weights — so that a page can show a
run that took a second as it learned, epoch by epoch (``SnapshotPlan``).

``BackgroundTask`` runs any other long job the same way (the app's learning-rate study
and scikit-learn cross-check): a function ``fn(report, control)`` on a worker thread,
watched through ``progress()`` and stopped through ``stop()``.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

from ..training import History, TrainingControl, TrainingDiverged

BATCH_LOSS_POINTS = 2000   # keep the per-batch curve bounded for the charts
SNAPSHOTS = 50             # evenly spaced epochs a run keeps for its replay (and its first)
SNAPSHOT_BYTES = 8 << 20   # what their weights may take, all of them: beyond, figures only


class SessionToken:
    """An object to keep in a user's session state and hand to a worker as its ``owner``:
    the worker holds only a weak reference, so dropping the session's state ends the run."""

    __slots__ = ("__weakref__",)


@dataclass
class Progress:
    state: str                      # idle | queued | running | paused
                                    # | finished | stopped | cancelled | diverged | failed
    epoch: int = 0                  # epochs completed
    epochs: int = 0
    batch: int = 0                  # batch within the current epoch
    batches: int = 0
    step: int = 0                   # batches trained and recorded, over all epochs
    held: bool = False              # paused, and standing still: the batch in flight is done
    elapsed: float = 0.0            # training seconds (pauses excluded)
    samples_per_second: float = 0.0
    eta_seconds: float | None = None
    history: dict = field(default_factory=dict)       # History.as_dict() without batch_loss
    batch_loss: list = field(default_factory=list)    # (step, loss) pairs, thinned
    message: str | None = None      # why it stopped, or the error for diverged/failed
    suggested_lr: float | None = None

    @property
    def fraction(self) -> float:
        total = self.epochs * max(self.batches, 1)
        done = self.epoch * max(self.batches, 1) + (self.batch if self.state in ("running", "paused") else 0)
        return min(1.0, done / total) if total else 0.0

    @property
    def active(self) -> bool:
        """Queued, running or paused: not ended yet."""
        return self.state in ("queued", "running", "paused")


ENDED_BEFORE_START = "cancelled"    # a queued job that was dropped before it started


@dataclass(frozen=True)
class Snapshot:
    """The run as it stood at the end of epoch ``epoch`` (0: before its first batch; a run
    that stopped mid-epoch, after batch ``step`` of the run, counts that epoch)."""

    epoch: int
    step: int                         # batches trained by then
    elapsed: float                    # training seconds by then
    metrics: dict                     # that epoch's figures (History.last_figures)
    weights: list | None = None       # the network's weights then (``get_weights``), or
                                      # None: a network too large to keep them for


class SnapshotPlan:
    """Which snapshots a run of ``epochs`` epochs keeps: the start, every ``every``-th
    epoch's end (about SNAPSHOTS of them), the last epoch's, and where a run that stopped
    early ended — with weights when all of those fit in SNAPSHOT_BYTES. The thread and the
    child process take theirs by the same plan, so both keep the same record."""

    def __init__(self, network, epochs: int):
        self.epochs = max(1, int(epochs))
        self.every = max(1, -(-self.epochs // SNAPSHOTS))
        self.most = -(-self.epochs // self.every) + 2     # + the start and a stop's epoch
        nbytes = sum(p.nbytes for _, p, _ in network.parameters())
        self.weights = nbytes * self.most <= SNAPSHOT_BYTES

    def first(self, network) -> Snapshot:
        return Snapshot(0, 0, 0.0, {}, network.get_weights() if self.weights else None)

    def wants(self, event) -> bool:
        """Whether the run keeps a snapshot where ``event`` (of ``Network.fit``) stands."""
        planned = event.epoch % self.every == 0 or event.epoch == self.epochs
        if event.kind == "epoch_end":
            return planned
        # the end of a run that stopped early, mid-epoch or between two: its last weights
        return event.kind == "train_end" and event.epoch > 0 and not planned

    def take(self, network, event, step: int) -> Snapshot:
        """The snapshot of where ``event`` stands (after ``step`` batches in all)."""
        return Snapshot(event.epoch, step, event.elapsed, History.last_figures(event.history),
                        network.get_weights() if self.weights else None)


class TrainerControl(TrainingControl):
    """``TrainingControl`` that tells its trainer when a pause has taken hold.

    ``pause()`` only asks: the batch in flight finishes first. ``on_pause()`` is called
    once, on the worker, when the run has stopped between two batches, and
    ``while_paused()`` every 0.1 s until it goes on (``ProcessControl`` uses both in the
    child process)."""

    on_pause: Callable[[], None] | None = None
    while_paused: Callable[[], None] | None = None

    def wait_while_paused(self) -> bool:
        if self._running.is_set():          # every batch of a running run: no waiting
            return not self._stop.is_set()
        if self.on_pause is not None:
            self.on_pause()
        while not self._running.wait(timeout=0.1):
            if self.while_paused is not None:
                self.while_paused()
        return not self._stop.is_set()


class _Worker:
    """What every background job shares: one worker thread, a ``TrainingControl`` to stop
    it, a lock around its progress record, and the weak reference to its owner."""

    def __init__(self, owner, progress, alive=None):
        self._owner = weakref.ref(owner) if owner is not None else None
        self._alive = alive
        self.control = TrainingControl()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)   # notified when the record moves on
        self._progress = progress
        self._thread: threading.Thread | None = None
        self._stop_reason: str | None = None
        self._done_callbacks: list[Callable] = []

    def _launch(self, name: str):
        with self._lock:
            if self._thread is not None or self._progress.state not in ("idle", "queued"):
                raise RuntimeError("This job has already been started or has ended; make a new one.")
            before, self._progress.state = self._progress.state, "running"
            self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        try:
            self._thread.start()
        except BaseException:           # no thread after all: the job is as it was
            with self._lock:
                self._thread, self._progress.state = None, before
            raise

    def _main(self):
        try:
            self._run()
        finally:
            self._finish()

    def _finish(self):
        for callback in self._done_callbacks:
            callback(self)

    def when_done(self, callback: Callable) -> None:
        """Call ``callback(job)`` once the job has ended, whichever way (on its thread)."""
        self._done_callbacks.append(callback)

    def queue(self) -> None:
        """Mark a job that has not started as waiting for its turn."""
        with self._lock:
            if self._progress.state == "idle":
                self._progress.state = "queued"

    def cancel(self, message: str) -> bool:
        """End a job that is still waiting (never started); True if it was waiting."""
        with self._lock:
            if self._progress.state != "queued":
                return False
            self._progress.state, self._progress.message = ENDED_BEFORE_START, message
        self._finish()
        return True

    def stop(self, reason: str | None = None):
        """Stop after the batch in flight; ``reason`` is what the run's end will say
        ("stopped: it reached the demo's time limit")."""
        if reason is not None and self._stop_reason is None:
            self._stop_reason = reason
        self.control.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker; True if it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _why_stopped(self) -> str:
        if self._stop_reason is not None:
            return self._stop_reason
        return "stopped: its session ended" if self.owner_gone() else "stopped by the user"

    def set_threads(self, n: int) -> None:
        """How many BLAS threads the job may use (its share of the cores, from a
        scheduler). A thread shares its process's BLAS with the rest: nothing to set."""

    def _set(self, **changes):
        with self._lock:
            for k, v in changes.items():
                setattr(self._progress, k, v)
            self._changed.notify_all()

    def owner_gone(self) -> bool:
        """The session that started the job has been dropped, or its tab has gone."""
        if self._owner is not None and self._owner() is None:
            return True
        return self._alive is not None and not self._alive()

    def owner_away(self) -> bool:
        """Its visitor is not there just now: gone, or (when ``alive`` can tell, as
        ``lab.presence.Presence`` does) a connection that is down but may come back."""
        away = getattr(self._alive, "away", None)
        return self.owner_gone() or bool(away is not None and away())

    def _run(self):
        raise NotImplementedError


class BackgroundTrainer(_Worker):
    """One training run on a worker thread.

    Parameters
    ----------
    network : the Network to train (it is trained in place).
    X, y, validation : training arrays and optional (X_val, y_val).
    fit_kwargs : epochs, batch_size, shuffle, seed, schedule … passed to ``Network.fit``.
    owner : optional object whose disappearance stops the run (see module docstring).
    on_event : optional extra callback on the worker thread (must not touch UI code).
    """

    def __init__(self, network, X, y, *, validation=None, owner=None, alive=None,
                 on_event=None, meta: dict | None = None, **fit_kwargs):
        self.network = network
        self.meta = dict(meta or {})   # what the caller wants to remember about the run
        self._X, self._y, self._validation = X, y, validation
        self._fit_kwargs = fit_kwargs
        self._on_event = on_event
        super().__init__(owner, Progress("idle", epochs=int(fit_kwargs.get("epochs", 10))),
                         alive=alive)
        self.control = TrainerControl()
        self._batch_loss: list[tuple[int, float]] = []
        self._stride = 1
        self._step = 0
        self._claimed = False
        self.started_at: float | None = None
        self._plan = SnapshotPlan(network, self._progress.epochs)
        self._snapshots: list[Snapshot] = []

    # ------------------------------------------------------------------ control
    def start(self) -> "BackgroundTrainer":
        self._launch("nncore-trainer")
        self.started_at = time.time()
        return self

    def _launch(self, name: str):
        first = self._plan.first(self.network)     # before the worker changes the weights
        super()._launch(name)                      # (raises if it was started before)
        with self._lock:                           # first, whatever the worker has sent
            self._snapshots.insert(0, first)

    def pause(self):
        # Check and change under the lock: a run that ends at this very moment must not
        # be left marked "paused" with no thread behind it.
        with self._lock:
            if self._progress.state == "running":
                self.control.pause()
                self._progress.state = "paused"

    def resume(self):
        with self._lock:
            if self._progress.state == "paused":
                self.control.resume()
                self._progress.state = "running"
                self._progress.held = False

    # ------------------------------------------------------------------ reading
    def progress(self, batch_loss: bool = True) -> Progress:
        """A consistent snapshot; ``batch_loss=False`` leaves the per-batch curve out (a
        cheaper call for a status line polled every few seconds)."""
        with self._lock:
            p = self._progress
            return Progress(**{**p.__dict__, "history": {k: list(v) if isinstance(v, list) else v
                                                          for k, v in p.history.items()},
                               "batch_loss": list(self._batch_loss) if batch_loss else []})

    def snapshots(self) -> list[Snapshot]:
        """The run's snapshots so far, oldest first (see ``SnapshotPlan``)."""
        with self._lock:
            return list(self._snapshots)

    def wait_for_progress(self, timeout: float) -> bool:
        """Wait until the run has trained a batch, or has ended, for at most ``timeout``
        seconds (a page that has just started it shows it under way, not at batch 0);
        True if it has. A run still waiting for a slot is not waited for."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                state, step = self._progress.state, self._progress.step
                if step > 0 or state not in ("idle", "queued", "running", "paused"):
                    return True                          # under way, or ended
                left = deadline - time.monotonic()
                if state in ("idle", "queued") or left <= 0:
                    return False
                self._changed.wait(left)

    def wait_under_way(self, seconds: float) -> None:
        """Until ``seconds`` after the run started: wait for its first batch and, if it
        will end by then, for its end. What a page does right after Start, to show the run
        under way (a short run: finished) rather than at batch 0. Whether it will end is
        judged from its estimate of the time left once half the time has gone (the first
        batches' estimate is rough). A run waiting for a slot, or paused, is not waited
        for."""
        if self.started_at is None:
            return
        deadline, judge = self.started_at + seconds, self.started_at + seconds / 2
        with self._changed:
            while self._progress.state == "running" and time.time() < deadline:
                p, now = self._progress, time.time()
                if p.step > 0 and now >= judge:
                    if p.eta_seconds is None or now + p.eta_seconds > deadline:
                        return               # under way, and not ending by the deadline
                # woken by every report, and at the time to judge
                self._changed.wait((judge if now < judge else deadline) - now)

    def model_copy(self):
        """An independent copy of the network with whole (never half-updated) weights.

        The record follows the weights by one callback: the copy may hold one batch more
        than ``progress().step`` read just after it, never two."""
        with self.control.weights_lock:
            return self.network.copy()

    @property
    def state(self) -> str:
        with self._lock:
            return self._progress.state

    def claim_result(self):
        """Once the run has ended: its Progress, the first time this is called (later
        calls, and calls while the run goes on, return None). Lets several readers (a
        page, a sidebar) agree on who hands the trained network on."""
        with self._lock:
            if self._claimed or self._progress.state in ("idle", "queued", "running", "paused"):
                return None
            self._claimed = True
        return self.progress()

    # ------------------------------------------------------------------ worker
    def _callback(self, event):
        if self.owner_gone():
            self.control.stop()
        if event.kind == "batch_end":
            self._record_batches([float(event.loss)], event.epoch, event.batch, event.batches,
                                 event.epochs, event.elapsed, event.samples_seen)
        elif event.kind == "epoch_end":
            self._record_epoch(event.history.as_dict())
        if self._plan.wants(event):
            self._record_snapshot(self._plan.take(self.network, event, self._step))
        if self._on_event is not None:
            self._on_event(event)

    def _run(self):
        # Only while the run lasts: a control that kept the trainer's method would tie the
        # two in a cycle, and a dropped ProcessTrainer would keep its semaphores until the
        # garbage collector came by.
        self.control.on_pause = self._record_held
        try:
            history = self.network.fit(self._X, self._y, validation_data=self._validation,
                                       callbacks=[self._callback], control=self.control,
                                       **self._fit_kwargs)
            self._record_end("finished", history.as_dict())
        except TrainingDiverged as exc:
            self._record_end("diverged", exc.history.as_dict(), message=str(exc),
                             suggested_lr=exc.suggested_lr)
        except Exception as exc:   # the UI shows the sentence; nothing escapes the thread
            self._record_end("failed", message=f"Training failed: {exc}")
        finally:
            self.control.on_pause = None

    # ------------------------------------------------------------------ the record
    # What a run reports, in the three shapes the UI reads; shared with ProcessTrainer,
    # which receives the same facts from its child process instead of from callbacks.
    def _record_batches(self, losses, epoch, batch, batches, epochs, elapsed, samples_seen):
        """The losses of the batches just done; the last one was batch ``batch`` of
        epoch ``epoch`` (both 1-based)."""
        with self._lock:
            for loss in losses:
                self._step += 1
                if self._step % self._stride == 0:
                    self._batch_loss.append((self._step, loss))
                    if len(self._batch_loss) > BATCH_LOSS_POINTS:
                        self._batch_loss = self._batch_loss[::2]   # thin the curve, keep its shape
                        self._stride *= 2
            p = self._progress
            p.step, p.batch, p.batches, p.elapsed = self._step, batch, batches, elapsed
            p.samples_per_second = samples_seen / elapsed if elapsed else 0.0
            done = (epoch - 1) * batches + batch
            total = epochs * batches
            p.eta_seconds = (elapsed / done * (total - done)) if done else None
            self._changed.notify_all()

    def _record_snapshot(self, snapshot: Snapshot):
        with self._lock:
            self._snapshots.append(snapshot)

    def _record_held(self):
        """The pause has taken hold: the run stands still with everything it did recorded
        (unless a resume came first, and it is already on its way again)."""
        with self._lock:
            if self._progress.state == "paused":
                self._progress.held = True

    def _record_epoch(self, history: dict):
        history = {k: v for k, v in history.items() if k != "batch_loss"}
        self._set(epoch=len(history["epoch"]), history=history, batch=0)

    def _record_end(self, state, history: dict | None = None, message=None, suggested_lr=None):
        """finished (or stopped, if the run ended early on a stop), diverged or failed."""
        changes = {"state": state, "message": message, "eta_seconds": None, "held": False}
        if history is not None:
            history = {k: v for k, v in history.items() if k != "batch_loss"}
            changes.update(history=history, epoch=len(history["epoch"]), batch=0)
        if state == "finished":
            stopped = self.control.stopped and history["stop_reason"] != "finished"
            changes["state"] = "stopped" if stopped else "finished"
            changes["message"] = (self._why_stopped() if stopped else history["stop_reason"])
            changes["eta_seconds"] = 0.0
        elif state == "diverged":
            changes["suggested_lr"] = suggested_lr
        self._set(**changes)




# ---------------------------------------------------------------------- other long jobs
@dataclass
class TaskProgress:
    state: str                      # idle | queued | running | finished | stopped | cancelled | failed
    fraction: float = 0.0
    message: str | None = None      # what it is doing, or why it stopped / failed
    partial: Any = None             # the latest partial result the job reported
    result: Any = None              # what the job returned (finished or stopped)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class BackgroundTask(_Worker):
    """Any long job on a worker thread: ``fn(report, control) -> result``.

    ``report(fraction, message=None, partial=None)`` publishes progress (and checks that
    the owner is still there); ``control`` is a ``TrainingControl`` whose ``stopped`` the
    job looks at — pass it on to ``Network.fit`` — and which ``stop()`` flips. A job that
    returns after a stop ends "stopped" with what it returned as its result.
    """

    def __init__(self, fn: Callable, *, owner=None, alive=None, meta: dict | None = None):
        self._fn = fn
        self.meta = dict(meta or {})
        super().__init__(owner, TaskProgress("idle"), alive=alive)

    def start(self) -> "BackgroundTask":
        self._launch("nncore-task")
        return self

    def progress(self) -> TaskProgress:
        with self._lock:
            return TaskProgress(**self._progress.__dict__)

    def _report(self, fraction: float, message: str | None = None, partial=None):
        if self.owner_gone():
            self.control.stop()
        changes = {"fraction": max(0.0, min(1.0, float(fraction)))}
        if message is not None:
            changes["message"] = message
        if partial is not None:
            changes["partial"] = partial
        self._set(**changes)

    def _run(self):
        try:
            result = self._fn(self._report, self.control)
            if self.control.stopped:
                self._set(state="stopped", result=result, message=self._why_stopped())
            else:
                self._set(state="finished", result=result, fraction=1.0, message=None)
        except Exception as exc:   # the UI shows the sentence; nothing escapes the thread
            self._set(state="failed", message=f"The job failed: {exc}")
