"""Training in a child process that does nothing but ``Network.fit``.

``ProcessTrainer`` has the interface of ``BackgroundTrainer`` (start, pause, resume, stop,
``progress()``, ``model_copy()``, ``claim_result()``), but the run happens in another
process, as it does for ``python -m nncore train``.

Why a process and not a thread: a training step is a handful of BLAS calls that spread
over every core, glued together by Python. In a thread of a web server, that glue shares
one interpreter lock with the server's own threads, and the BLAS threads share the cores
with them. Measured on 2 cores with benchmarks/page_throughput.py and in plain scripts:
a worker thread whose main thread woke every 2 s for half a millisecond fell into a mode
of about single-threaded speed in 6 runs of 9; the same training in a child process did
in 1 run of 6, and the command line in 2 of 15.

How the two processes talk:

    parent ──► child   the network, pickled as ``Process`` arguments are: the child
                       trains an object of its own, with the weights, optimizer state
                       and seed a thread would have started from; the data through
                       shared memory (or a temporary file, when that is too small);
                       three switches — stop, run (cleared = paused) and "send your
                       weights" — multiprocessing Events read between batches, and
                       the number of pauses asked for so far;
    child  ──► parent  messages on a pipe, read by a thread of the parent:
                       ("ready",)               once the data is mapped;
                       ("batches", losses, epoch, batch, batches, epochs, elapsed,
                           samples_seen)            the first batch's at once, then at
                                                most every REPORT_SECONDS, and before
                                                any "weights" or "snapshot";
                       ("epoch", history, arrays)   after an epoch, at most as often,
                                                and before any "snapshot";
                       ("snapshot", Snapshot)   at the epochs the run's SnapshotPlan
                                                names (a Snapshot of ``threads.py``);
                       ("weights", arrays)      when asked (also while paused), and
                                                when it pauses;
                       ("held", pauses)         when a pause has taken hold, and
                                                again if a newer one finds it held;
                       ("end", state, history, message, suggested_lr, arrays)  last.

The parent's network is not touched while the child trains. When the run ends, the final
weights are copied into it, so that the object handed to the trainer is the trained
network, as with ``BackgroundTrainer``.

The child imports nncore and nothing of the program that started it. multiprocessing would
otherwise run that program's main script again in every child before training (it does so
to find what the child's function may need from it). In a Streamlit server the main
module is the app's script (Streamlit installs it as ``__main__``), so every Start
imported Streamlit and the whole app in the child and drew the page there, with no page
to draw on: 0.4–2 s before the first batch, and some 55 "missing ScriptRunContext"
warnings in the server's log. ``_engine_only`` hides the main script while a child
starts.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import sys
import threading
import time
import types
from multiprocessing import shared_memory

import numpy as np

from . import shared_data
from .threads import BackgroundTrainer, SnapshotPlan, TrainerControl
from ..training import History, TrainingDiverged

REPORT_SECONDS = 0.2        # how often the child reports its batch losses
WEIGHTS_WAIT_SECONDS = 5.0  # how long ``model_copy`` waits for the child's newest weights
INLINE_BYTES = 1 << 20      # arrays up to this size travel pickled with the network


def _context():
    # forkserver: children are forked from a small server process that has imported only
    # NumPy and nncore, so a run starts in milliseconds and never inherits the web
    # server's threads. Where it does not exist (Windows), spawn.
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload([__name__])
    return ctx


_MAIN_SWAP = threading.Lock()   # one child starts at a time behind the stand-in


@contextlib.contextmanager
def _engine_only():
    """While a child starts, ``__main__`` is a stand-in with no file, so the child does not
    run the parent's main script (see the module docstring): its function and arguments
    all come from nncore. Only multiprocessing's start reads ``__main__`` meanwhile; a
    program that installs a new one in the while (Streamlit does, at each script run)
    keeps it."""
    stand_in = types.ModuleType("__main__")
    with _MAIN_SWAP:
        parent_main = sys.modules.get("__main__")
        sys.modules["__main__"] = stand_in
        try:
            yield
        finally:
            if sys.modules.get("__main__") is stand_in:
                sys.modules["__main__"] = parent_main


class ProcessControl(TrainerControl):
    """``TrainerControl`` whose switches work across processes; the child also answers
    requests for its weights through it, between batches and while paused.

    ``on_pause`` and ``while_paused`` are set in the child, which reports through them
    (or by the trainer, when fit runs on the parent's thread after all); they stay
    behind when the control is sent to the child. ``pauses`` counts the pauses asked
    for, so that the parent can tell which one a child's "held" message is about."""

    def __init__(self, ctx):
        super().__init__()
        self._stop, self._running = ctx.Event(), ctx.Event()
        self._running.set()
        self._weights_wanted = ctx.Event()
        self._pauses = ctx.Value("q", 0, lock=False)   # written by the parent alone
        self._threads = ctx.Value("i", 0, lock=False)  # BLAS threads; 0: as the child found it

    def pause(self):
        # Count first: a child that sees the switch must see this pause's number too.
        self._pauses.value += 1
        super().pause()

    @property
    def pauses(self) -> int:
        return self._pauses.value

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["weights_lock"]   # a thread lock is per process; the child makes its own
        state["on_pause"] = state["while_paused"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.weights_lock = threading.Lock()

    @property
    def threads(self) -> int:
        return self._threads.value

    @threads.setter
    def threads(self, n: int) -> None:
        self._threads.value = int(n)

    def request_weights(self):
        self._weights_wanted.set()

    def take_weights_request(self) -> bool:
        if self._weights_wanted.is_set():
            self._weights_wanted.clear()
            return True
        return False


class ProcessTrainer(BackgroundTrainer):
    """One training run in a child process; see the module docstring.

    Parameters are those of ``BackgroundTrainer`` except ``on_event``: callbacks would run
    in the other process.

    ``data_blocks`` lists where the run put its data for the child, for anyone who wants
    to check that nothing is left behind.
    """

    def __init__(self, network, X, y, *, validation=None, owner=None, alive=None, meta=None,
                 **fit_kwargs):
        if "on_event" in fit_kwargs:
            raise TypeError("ProcessTrainer trains in another process, where an on_event "
                            "callback cannot run; use BackgroundTrainer for callbacks.")
        super().__init__(network, X, y, validation=validation, owner=owner, alive=alive,
                         meta=meta, **fit_kwargs)
        self._ctx = _context()
        self.control = ProcessControl(self._ctx)
        self._weights: list[np.ndarray] | None = None   # the child's newest, once sent
        self._last_epoch: tuple[dict, list] | None = None   # (history, weights), last reported
        self._weights_version = 0
        self._weights_arrived = threading.Condition(self._lock)
        self.process = None
        self._in_thread = False     # True if the child could not start: fit runs here
        self._data_blocks: list[tuple[str, str]] = []

    def start(self) -> "ProcessTrainer":
        self._launch("nncore-process-reader")
        self.started_at = time.time()
        return self

    def set_threads(self, n: int) -> None:
        """The child uses at most ``n`` BLAS threads from its next batch on (a scheduler
        gives each run its share of the cores: one each when more than one trains)."""
        self.control.threads = n

    # ------------------------------------------------------------------ reading
    @property
    def data_blocks(self) -> tuple[tuple[str, str], ...]:
        """Where this run put its data for the child: ("shm", name) for a shared-memory
        block, ("file", path) for a temporary file. Each is removed as soon as the child
        has mapped it, and at the latest when the run ends, whatever way it ends.

        Arrays that are already shared (``shared_data.share``: the server's data sets)
        make no block of the run's own, and nor do small ones (they travel with the
        network): the list is then empty."""
        return tuple(self._data_blocks)

    def model_copy(self):
        """A copy of the network with the child's newest weights: asked for, and waited on
        for at most WEIGHTS_WAIT_SECONDS (a paused child answers too). Once the run has
        ended, a copy of the trained network. If the child sent nothing in time, the
        newest weights it sent before — or, before its first, the weights it started from.

        The child reports its losses before its weights, so a copy never holds more
        batches than ``progress().step`` read just after it."""
        with self._lock:
            ended = self._progress.state not in ("running", "paused")
            seen = self._weights_version
        if not ended and not self._in_thread:
            self.control.request_weights()
            deadline = time.monotonic() + WEIGHTS_WAIT_SECONDS
            with self._weights_arrived:
                while (self._weights_version == seen and self._progress.active
                       and time.monotonic() < deadline):
                    self._weights_arrived.wait(0.05)
                ended = not self._progress.active
                weights = self._weights
            if not ended and weights is not None:
                copy = self.network.copy()
                copy.set_weights(weights)
                return copy
        with self.control.weights_lock:   # the trained weights once ended, else the first
            return self.network.copy()

    # ------------------------------------------------------------------ the parent's reader
    def _run(self):
        """Start the child, then turn its messages into the progress record until it ends."""
        blocks, conn, child_conn = [], None, None
        try:
            arrays = [self._X, self._y] + (list(self._validation) if self._validation else [])
            tickets = []
            for array in arrays:        # one at a time: a failure releases those made so far
                ticket = shared_data.ticket_of(array)
                if ticket is None and np.asarray(array).nbytes <= INLINE_BYTES:
                    ticket = ("inline", np.asarray(array))
                if ticket is None:
                    blocks.append(shared_data.Block(array))     # the child maps it
                    self._data_blocks.append(blocks[-1].ticket[:2])
                    ticket = blocks[-1].ticket
                tickets.append(ticket)
            conn, child_conn = self._ctx.Pipe(duplex=False)
            # The network goes as it is: start() pickles it, so the child trains an object
            # of its own, and this one stays as it was until the final weights come back.
            self.process = self._ctx.Process(
                target=_train_in_child, name="nncore-training", daemon=True,
                args=(child_conn, self.network, tickets,
                      self.control, self._fit_kwargs, self._plan))
            try:
                with _engine_only():
                    self.process.start()
            except OSError:          # no processes here after all: train on this thread
                self.process = None
                _release(blocks)
                self._in_thread = True
                return super()._run()
            finally:
                child_conn.close()   # the child has its own copy of this end
            if not self._read(conn, blocks):
                self.process.join(1)
                self._record_death(self.process.exitcode)
        except Exception as exc:   # the UI shows the sentence; nothing escapes the thread
            self._record_end("failed", message=f"Training failed: {exc}")
        finally:
            _release(blocks)
            if conn is not None:
                conn.close()
            if self.process is not None and self.process.pid is not None:   # it started
                self.process.join(5)
                if self.process.is_alive():
                    self.process.terminate()
                    self.process.join(1)

    def _read(self, conn, blocks) -> bool:
        """Handle messages until the "end" one (True) or the child's death (False)."""
        while True:
            if self.owner_gone():
                self.control.stop()
            try:
                if not conn.poll(0.5):
                    if not self.process.is_alive() and not conn.poll(0):
                        return False
                    continue
                message = conn.recv()
            except (EOFError, OSError):
                return False
            kind, *body = message
            if kind == "ready":            # the child has mapped the data: unlink it now,
                _release(blocks)           # so that nothing is left behind if either dies
            elif kind == "batches":
                self._record_batches(*body)
            elif kind == "epoch":
                self._record_epoch(body[0])
                self._last_epoch = (body[0], body[1])
            elif kind == "snapshot":
                self._record_snapshot(body[0])
            elif kind == "weights":
                self._take_weights(body[0])
            elif kind == "held":
                self._record_held_after(body[0])
            elif kind == "end":
                state, history, message_text, suggested_lr, weights = body
                with self.control.weights_lock:
                    if weights is not None:
                        self.network.set_weights(weights)
                    if history is not None:
                        self.network.history = History(**history)
                self._record_end(state, history, message_text, suggested_lr)
                with self._weights_arrived:
                    self._weights_arrived.notify_all()
                return True

    def _record_death(self, exitcode):
        """The child died without its "end" message (killed, out of memory). The epochs it
        reported are not lost: the network takes the weights of the last one, and the run
        ends "stopped", which keeps them, as a stop would."""
        what = f"the training process ended unexpectedly (exit code {exitcode})"
        if self._last_epoch is None:
            self._record_end("failed", message=f"Training failed: {what}, before it "
                                               "completed an epoch.")
            return
        history, weights = self._last_epoch
        epoch = len(history["epoch"])
        with self.control.weights_lock:
            self.network.set_weights(weights)
            self.network.history = History(**{**history, "batch_loss": []})
        self._record_end("stopped", history,
                         message=f"stopped: {what}; the weights it had after epoch {epoch} "
                                 "are kept")

    def _record_held_after(self, pause: int):
        """The child stands still for pause number ``pause``; a message about an earlier
        pause, which a resume and another pause have overtaken, says nothing about now."""
        with self._lock:     # where pause() counts, so that no pause slips in between
            if self._progress.state == "paused" and pause == self.control.pauses:
                self._progress.held = True

    def _take_weights(self, weights):
        with self._weights_arrived:
            self._weights = weights
            self._weights_version += 1
            self._weights_arrived.notify_all()


_warm_up: threading.Thread | None = None


def warm_up() -> None:
    """Start, in the background, the small server process that training children are
    forked from, so that the first run does not wait for it (a Python importing NumPy and
    nncore: 0.2–1 s). Harmless to call often: it starts once per process."""
    global _warm_up
    if _warm_up is None and _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver
        _warm_up = threading.Thread(target=forkserver.ensure_running, daemon=True,
                                    name="nncore-forkserver-warm-up")
        _warm_up.start()


def make_trainer(network, X, y, **kwargs) -> BackgroundTrainer:
    """A ProcessTrainer where this system can start processes and share semaphores
    between them; where it cannot (some sandboxes and serverless hosts), a
    BackgroundTrainer, which has the same interface and trains on a thread."""
    try:
        return ProcessTrainer(network, X, y, **kwargs)
    except (OSError, ImportError):
        return BackgroundTrainer(network, X, y, **kwargs)


# ---------------------------------------------------------------------- data in shared memory
def _release(blocks):
    for block in blocks:
        block.remove()


# ---------------------------------------------------------------------- the child
class _BlasThreads:
    """Keeps the child's BLAS at the number of threads its control says (0: untouched).
    Looked at after every batch; threadpoolctl is asked only when the number changes."""

    def __init__(self, control):
        self._control, self._applied, self._limiter = control, 0, None

    def follow(self):
        wanted = self._control.threads
        if wanted == self._applied or wanted <= 0:
            return
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:        # without it, BLAS keeps its own number of threads
            self._applied = wanted
            return
        self._limiter = threadpool_limits(limits=wanted, user_api="blas")
        self._applied = wanted


def _train_in_child(conn, network, tickets, control, fit_kwargs, plan: SnapshotPlan):
    """The child's whole life: map the data, train, report, send the final weights."""
    try:
        attached = [shared_data.attach(t) for t in tickets]
        conn.send(("ready",))
        arrays = [a for _, a in attached]
        X, y = arrays[0], arrays[1]
        validation = (arrays[2], arrays[3]) if len(arrays) == 4 else None
    except Exception as exc:   # the parent shows the sentence
        conn.send(("end", "failed", None, f"Training could not start: {exc}", None, None))
        return
    pending, last_batch, steps = [], None, 0
    last_report = float("-inf")            # the first batch is reported at once
    last_epoch_report = time.perf_counter()
    threads = _BlasThreads(control)
    threads.follow()

    def send_losses():
        nonlocal pending, last_report
        e = last_batch
        conn.send(("batches", pending, e.epoch, e.batch, e.batches, e.epochs, e.elapsed,
                   e.samples_seen))
        pending, last_report = [], time.perf_counter()

    def report(event):
        nonlocal last_batch, last_epoch_report, steps
        if event.kind == "batch_end":
            threads.follow()
            pending.append(float(event.loss))
            last_batch, steps = event, steps + 1
            if (time.perf_counter() - last_report >= REPORT_SECONDS
                    or event.batch == event.batches):
                send_losses()
            if control.take_weights_request():
                if pending:      # the parent's step count must reach the copy's first
                    send_losses()
                conn.send(("weights", network.get_weights()))
        elif event.kind == "epoch_end" and (plan.wants(event) or time.perf_counter()
                                            - last_epoch_report >= REPORT_SECONDS):
            if pending:          # a stop mid-epoch: the parent's record reaches it first
                send_losses()
            # without the per-batch list, which the "batches" messages already carried;
            # with the epoch's weights, which the parent keeps in case this process dies
            conn.send(("epoch", {k: v for k, v in event.history.as_dict().items()
                                 if k != "batch_loss"}, network.get_weights()))
            last_epoch_report = time.perf_counter()
        if plan.wants(event):    # after the record it belongs to, as on a thread
            if pending:
                send_losses()
            conn.send(("snapshot", plan.take(network, event, steps)))

    held_for = None              # the pause the parent was last told the run stands still for

    def say_held():
        nonlocal held_for
        held_for = control.pauses
        conn.send(("held", held_for))

    def on_pause():              # show everything done so far before the run stands still
        if pending:
            send_losses()
        conn.send(("weights", network.get_weights()))
        say_held()

    def while_paused():
        if control.take_weights_request():
            conn.send(("weights", network.get_weights()))
        if control.pauses != held_for:   # resumed and paused again before it could wake:
            say_held()                   # still standing, now for the newest pause
        parent = mp.parent_process()
        if parent is not None and not parent.is_alive():
            raise SystemExit("the program that started this run has ended")

    control.on_pause, control.while_paused = on_pause, while_paused
    try:
        history = network.fit(X, y, validation_data=validation, callbacks=[report],
                              control=control, **fit_kwargs)
        end = ("finished", history.as_dict(), None, None, network.get_weights())
    except TrainingDiverged as exc:   # the network holds its last good weights again
        end = ("diverged", exc.history.as_dict(), str(exc), exc.suggested_lr,
               network.get_weights())
    except Exception as exc:   # the parent shows the sentence
        end = ("failed", None, f"Training failed: {exc}", None, None)
    if pending:                       # a stop mid-epoch: the batches since the last report
        send_losses()
    conn.send(("end",) + end)
    conn.close()
    del X, y, validation, arrays
    for holder, _ in attached:
        if isinstance(holder, shared_memory.SharedMemory):
            try:
                holder.close()
            except BufferError:   # a view is still alive somewhere: the exit unmaps it
                pass
