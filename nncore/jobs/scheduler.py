"""Which runs train now, on a server that many visitors share: a fair queue in front of the cores.

Ten runs started at once on two cores do not finish ten times slower than one: they
finish much later, or not at all. Each child process would bring two BLAS threads that
spin while they wait, and they would fight over the cores and the memory bus. So one
``Scheduler`` per server process lets at most ``slots`` jobs run (the number of cores,
unless told otherwise) and keeps the rest waiting in the order they came:

    scheduler.submit(trainer, estimate_seconds=8.0)   # starts now, or waits its turn
    scheduler.place(trainer)      # Place(position=3, wait_seconds=21.5) while it waits
    scheduler.cancel(trainer)     # leave the queue (a job that has started: job.stop())

A job is anything with the interface of ``BackgroundTrainer`` / ``BackgroundTask``:
``start``, ``stop(reason)``, ``queue``, ``cancel(message)``, ``when_done``,
``owner_gone``, ``owner_away`` and ``set_threads``. When a job ends the next waiting one
starts, on the ended job's thread, at once — passing over a job whose visitor's connection
is down just now (it keeps its place, and starts when they are back; a class that leaves
all at once would otherwise start runs nobody will see, in the seconds before they count
as gone).

Each running job gets its share of the cores as BLAS threads: all of them alone, one
each when more than one runs. A watchdog thread, once a second, drops waiting jobs whose
visitor has gone and stops running ones that have gone, or that pass the wall-clock
limit per run (they end "stopped", with the weights they reached).

The bounds (``slots``, ``max_waiting``, ``run_seconds``) are decided when the scheduler
is made, from ``NNCORE_SLOTS``, ``NNCORE_MAX_WAITING`` and ``NNCORE_RUN_SECONDS`` when
they are set. Beyond ``max_waiting`` a new job is refused with ``LabBusy``. With
``NNCORE_RUN_LOG`` set to a file, every job that ends adds a line of JSON to it (when it
was submitted, started and ended, how it ended): what a host reads to see how long
visitors waited, and what ``benchmarks/classroom.py`` measures with.

Wait estimates: every job comes with an estimate of its own seconds (``estimate_seconds``,
from its size). The scheduler corrects those with what it has seen — the median ratio of
measured to estimated seconds of the jobs that finished — and plays the queue forward:
each slot is free when its job's time is up, the waiting jobs take the slots in order.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass


class LabBusy(RuntimeError):
    """The queue is full: the sentence says to try again later."""


def machine_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                  # macOS, Windows
        return os.cpu_count() or 1


def _env_number(name: str, default, kind=int):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}.") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}.")
    return value


@dataclass(frozen=True)
class Place:
    """Where a waiting job stands: 1 = next to start; the estimated seconds until then
    (None before any estimate can be made)."""

    position: int
    waiting: int                 # how many wait in all
    wait_seconds: float | None


@dataclass
class _Entry:
    job: object
    estimate: float | None       # the job's own estimate of its seconds
    submitted: float
    submitted_at: float = 0.0    # the same moment, as wall-clock time (for the run log)
    started: float | None = None
    paused_since: float | None = None   # while the watchdog sees it paused


class Scheduler:
    """See the module docstring.

    Parameters
    ----------
    slots : jobs that run at once (default: ``NNCORE_SLOTS``, else the machine's cores).
    max_waiting : jobs that may wait (default: ``NNCORE_MAX_WAITING``, else 60).
    run_seconds : wall-clock limit per running job (default: ``NNCORE_RUN_SECONDS``, else
        600); a job past it is stopped and keeps what it learned.
    pause_seconds : how long a paused job may hold its slot while others wait (default
        120); then it is stopped, and keeps what it learned.
    cores : BLAS threads to share between the running jobs (default: the machine's).
    tick_seconds : how often the watchdog looks.
    """

    _parameter_constraints = {"slots": (1, 1024), "max_waiting": (0, 100_000),
                              "run_seconds": (0.01, 7 * 24 * 3600.0),
                              "pause_seconds": (0.01, 24 * 3600.0), "cores": (1, 1024),
                              "tick_seconds": (0.01, 60.0)}

    def __init__(self, slots: int | None = None, max_waiting: int | None = None,
                 run_seconds: float | None = None, pause_seconds: float = 120.0,
                 cores: int | None = None, tick_seconds: float = 1.0):
        cores = cores or machine_cores()
        self.slots = slots or _env_number("NNCORE_SLOTS", cores)
        self.max_waiting = (max_waiting if max_waiting is not None
                            else _env_number("NNCORE_MAX_WAITING", 60))
        self.run_seconds = run_seconds or _env_number("NNCORE_RUN_SECONDS", 600.0, float)
        self.pause_seconds = pause_seconds
        self.cores = cores
        self.tick_seconds = tick_seconds
        for name, (low, high) in self._parameter_constraints.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"Scheduler {name} must be between {low} and {high}, "
                                 f"got {value!r}.")
        self._lock = threading.RLock()
        self._running: dict[int, _Entry] = {}
        self._waiting: deque[_Entry] = deque()
        self._ratios: deque[float] = deque(maxlen=20)   # measured ÷ estimated seconds
        self._watchdog: threading.Thread | None = None
        self._closed = threading.Event()
        self.log_path = os.environ.get("NNCORE_RUN_LOG") or None

    # ------------------------------------------------------------------ the queue
    def submit(self, job, *, estimate_seconds: float | None = None) -> None:
        """Start ``job`` now if a slot is free, else queue it; ``LabBusy`` if the queue
        is full (the job is then neither started nor queued)."""
        entry = _Entry(job, estimate_seconds, time.monotonic(), time.time())
        with self._lock:
            if len(self._running) >= self.slots and len(self._waiting) >= self.max_waiting:
                raise LabBusy(f"The lab is busy: {len(self._running)} runs are training and "
                              f"{len(self._waiting)} are waiting, as many as this server "
                              "takes. Try again in a minute.")
            job.when_done(self._done)
            if len(self._running) < self.slots and not self._waiting:
                try:
                    self._start(entry)
                except Exception as exc:
                    raise LabBusy(f"The run could not start on this server ({exc}). Try "
                                  "again in a minute.") from exc
            else:
                job.queue()
                self._waiting.append(entry)
                self._fill_slots()      # a free slot kept for visitors away goes to this one
            self._ensure_watchdog()

    def cancel(self, job, message: str = "cancelled while it waited for a free slot") -> bool:
        """Take a waiting job out of the queue; True if it was waiting (a running job
        is left alone: stop it with ``job.stop()``)."""
        with self._lock:
            entry = next((e for e in self._waiting if e.job is job), None)
            if entry is None:
                return False
            self._waiting.remove(entry)
        job.cancel(message)
        self._log(entry, "cancelled")
        return True

    def place(self, job) -> Place | None:
        """Where a waiting job stands, or None when it is not waiting."""
        with self._lock:
            order = list(self._waiting)
            index = next((i for i, e in enumerate(order) if e.job is job), None)
            if index is None:
                return None
            return Place(index + 1, len(order), self._wait_before(index, order))

    def counts(self) -> tuple[int, int]:
        """(running, waiting) now."""
        with self._lock:
            return len(self._running), len(self._waiting)

    def close(self) -> None:
        """Stop the watchdog (tests; a server's scheduler lives as long as the server)."""
        self._closed.set()

    # ------------------------------------------------------------------ inside
    def _start(self, entry: _Entry) -> None:
        entry.started = time.monotonic()
        self._running[id(entry.job)] = entry
        self._share_cores()
        try:
            entry.job.start()
        except BaseException:
            self._running.pop(id(entry.job), None)
            raise

    def _share_cores(self) -> None:
        threads = max(1, self.cores // max(1, len(self._running)))
        for entry in self._running.values():
            entry.job.set_threads(threads)

    def _done(self, job) -> None:
        """A job ended (on its own thread): learn from its time, start the next ones."""
        with self._lock:
            entry = self._running.pop(id(job), None)
            if entry is None:           # a waiting job that was cancelled
                return
            progress = job.progress()
            self._log(entry, progress.state, progress)
            if entry.estimate:
                self._ratios.append((time.monotonic() - entry.started) / entry.estimate)
            self._fill_slots()

    def _log(self, entry: _Entry, state: str, progress=None) -> None:
        """One line of JSON per ended job in the run log, when there is one (``progress``:
        the job's last, when the caller has read it already)."""
        if not self.log_path:
            return
        now = time.monotonic()
        started = entry.started if entry.started is not None else now
        line = {"kind": type(entry.job).__name__, "state": state,
                "submitted": entry.submitted_at,
                "wait_seconds": round(started - entry.submitted, 3),
                "run_seconds": round(now - started, 3) if entry.started is not None else 0.0,
                "estimate_seconds": entry.estimate,
                "training_seconds": getattr(progress or entry.job.progress(), "elapsed", None)}
        try:
            with open(self.log_path, "a") as log:
                log.write(json.dumps(line) + "\n")
        except OSError:                 # a log that cannot be written never stops a run
            pass

    def _fill_slots(self) -> None:
        """Start waiting jobs, in order, while slots are free: one whose visitor has gone
        is cancelled on the way, one whose visitor is away just now keeps its place."""
        for entry in list(self._waiting):
            if len(self._running) >= self.slots:
                break
            if entry.job.owner_gone():
                self._waiting.remove(entry)
                entry.job.cancel("stopped: its session ended before it started")
                self._log(entry, "cancelled")
            elif not entry.job.owner_away():
                self._waiting.remove(entry)
                try:
                    self._start(entry)
                except Exception as exc:    # that job says why; the line behind it moves on
                    entry.job.cancel(f"cancelled: it could not start on this server ({exc})")
                    self._log(entry, "cancelled")
        self._share_cores()

    def _corrected(self, estimate: float | None) -> float | None:
        if estimate is None:
            return None
        return estimate * (statistics.median(self._ratios) if self._ratios else 1.0)

    def _wait_before(self, index: int, order: list[_Entry]) -> float | None:
        """Seconds until ``order[index]`` starts: each slot frees when its job's time is up."""
        now = time.monotonic()
        free_at = []
        for entry in self._running.values():
            total = self._corrected(entry.estimate)
            if total is None:
                return None
            free_at.append(max(0.0, total - (now - entry.started)))
        free_at += [0.0] * (self.slots - len(free_at))
        for entry in order[:index]:
            seconds = self._corrected(entry.estimate)
            if seconds is None:
                return None
            soonest = min(range(len(free_at)), key=free_at.__getitem__)
            free_at[soonest] += seconds
        return min(free_at)

    # ------------------------------------------------------------------ the watchdog
    def _ensure_watchdog(self) -> None:
        if self._watchdog is None or not self._watchdog.is_alive():
            self._watchdog = threading.Thread(target=self._watch, name="nncore-scheduler",
                                              daemon=True)
            self._watchdog.start()

    def _watch(self) -> None:
        while not self._closed.wait(self.tick_seconds):
            self.look_once()

    def look_once(self) -> None:
        """One round of the watchdog: drop the waiting jobs of visitors who left; stop the
        running ones of visitors who left, those over the time limit, and those paused
        for longer than ``pause_seconds`` while others wait for a slot."""
        with self._lock:
            gone = [e for e in self._waiting if e.job.owner_gone()]
            for entry in gone:
                self._waiting.remove(entry)
            running = list(self._running.values())
            others_wait = bool(self._waiting)
        for entry in gone:
            entry.job.cancel("stopped: its session ended before it started")
            self._log(entry, "cancelled")
        with self._lock:
            self._fill_slots()          # a visitor passed over may be back
        now = time.monotonic()
        for entry in running:
            paused = entry.job.progress().state == "paused"
            entry.paused_since = (entry.paused_since or now) if paused else None
            if entry.job.owner_gone():
                entry.job.stop()
            elif now - entry.started > self.run_seconds:
                entry.job.stop(f"stopped: it reached this server's limit of "
                               f"{_minutes(self.run_seconds)} per run")
            elif others_wait and paused and now - entry.paused_since > self.pause_seconds:
                entry.job.stop(f"stopped: it stayed paused for {_minutes(self.pause_seconds)} "
                               "while other visitors waited for its slot")


def _minutes(seconds: float) -> str:
    if seconds >= 60:
        minutes = seconds / 60
        return f"{minutes:g} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"


_default: Scheduler | None = None
_default_lock = threading.Lock()


def default_scheduler() -> Scheduler:
    """The scheduler of this process (made on first use, from the environment)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Scheduler()
        return _default
