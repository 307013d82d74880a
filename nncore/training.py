"""What a training run reports and how it is controlled from outside.

- ``TrainingEvent``: what ``Network.fit`` tells its callbacks after every batch and epoch.
- ``History``: the per-epoch record of a run (losses, accuracies, timings).
- ``TrainingControl``: stop, pause and resume a run from another thread; ``fit``
  looks at it between batches, so a batch is never cut in half.
- ``TrainingDiverged``: raised when the loss stops being a finite number.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


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
