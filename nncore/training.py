"""What a training run reports and how it is controlled from outside.

- ``BatchPlan``: which rows make each mini-batch, epoch by epoch — fit's order, which the
  step mode's ``Stepper`` walks too.
- ``TrainingEvent``: what ``Network.fit`` tells its callbacks after every batch and epoch.
- ``History``: the per-epoch record of a run (losses, accuracies, timings).
- ``TrainingControl``: stop, pause and resume a run from another thread; ``fit``
  looks at it between batches, so a batch is never cut in half.
- ``TrainingDiverged``: raised when the loss stops being a finite number.
"""

from __future__ import annotations

import numbers
import threading
from dataclasses import dataclass, field


class BatchPlan:
    """The mini-batches of a run over ``m`` samples: their size, their number, their order.

    Batch b of an epoch (from 0) is rows [b·size, (b+1)·size) of that epoch's order: the
    rows as they stand, or, when shuffling, a permutation drawn at the start of the epoch
    from the run's one generator (``rng.permutation(m)``, before that epoch's dropout
    masks). One full batch is never shuffled: that would only copy the data, the gradient
    is the same. ``Network.fit`` and the step mode's ``Stepper`` both walk this plan, so a
    run stepped batch by batch ends with fit's weights, bit for bit.
    """

    def __init__(self, m: int, batch_size: int | None, shuffle: bool):
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral)
                                       or isinstance(batch_size, bool) or batch_size < 1):
            raise ValueError(f"batch_size must be a whole number ≥ 1 (or None for full "
                             f"batch), got {batch_size!r}.")
        self.m = m
        self.size = m if batch_size is None or batch_size >= m else int(batch_size)
        self.n_batches = -(-m // self.size)
        self.shuffle = bool(shuffle) and self.n_batches > 1

    def epoch_order(self, rng):
        """This epoch's permutation of the rows, drawn from ``rng``; None: as they stand."""
        return rng.permutation(self.m) if self.shuffle else None

    def rows(self, order, b: int):
        """The rows of batch ``b`` in ``order``: a slice (rows as they stand) or indices."""
        lo, hi = b * self.size, min((b + 1) * self.size, self.m)
        return slice(lo, hi) if order is None else order[lo:hi]

    @staticmethod
    def take(rows, *arrays) -> tuple:
        """Those rows of each array: a view for a slice, one gathering copy for indices."""
        if isinstance(rows, slice):
            return tuple(a[rows] for a in arrays)
        return tuple(a.take(rows, axis=0) for a in arrays)


@dataclass
class TrainingEvent:
    kind: str                  # "batch_end" | "epoch_end" | "train_end"
    epoch: int                 # 1-based epoch the event belongs to
    epochs: int
    batch: int = 0             # 1-based batch within the epoch
    batches: int = 0
    loss: float = float("nan")         # this batch's loss (batch_end) or the epoch's mean
    elapsed: float = 0.0               # seconds of training so far (evaluation excluded)
    samples_seen: int = 0
    history: "History | None" = None
    stop_reason: str | None = None


@dataclass
class History:
    """Per-epoch record. Train loss and accuracy are running means over the epoch's
    batches (as Keras reports them); validation figures are computed after each epoch."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)   # training time of each epoch
    batch_loss: list[float] = field(default_factory=list)
    stop_reason: str | None = None

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}

    FIGURES = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")

    @staticmethod
    def last_figures(history) -> dict:
        """The newest epoch's loss and accuracy, training and validation, those recorded;
        ``history`` is a History or its ``as_dict()``."""
        get = history.get if isinstance(history, dict) else lambda name: getattr(history, name)
        return {name: get(name)[-1] for name in History.FIGURES if get(name)}

    @property
    def seconds_per_epoch(self) -> float:
        """Median training seconds per epoch (robust to a slow first epoch)."""
        if not self.seconds:
            return float("nan")
        s = sorted(self.seconds)
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else 0.5 * (s[mid - 1] + s[mid])


class TrainingControl:
    """Thread-safe switches a UI or another thread flips while ``fit`` runs.

    ``weights_lock`` is held by ``fit`` while a batch updates the weights: another thread
    that takes it reads weights that are whole, never half-updated.
    """

    def __init__(self):
        self.weights_lock = threading.Lock()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self):
        self._stop.set()
        self._running.set()   # a paused run must wake up to notice it was stopped

    def pause(self):
        self._running.clear()

    def resume(self):
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> bool:
        """Block while paused; return True if the run should go on."""
        while not self._running.wait(timeout=0.1):
            pass
        return not self._stop.is_set()


class TrainingError(ValueError):
    """Training could not start or go on; the message says why."""


class TrainingDiverged(TrainingError):
    """The loss became NaN/infinite. The network keeps its last good weights."""

    def __init__(self, message: str, history: History, suggested_lr: float | None):
        super().__init__(message)
        self.history = history
        self.suggested_lr = suggested_lr
