"""Training one batch at a time, in ``fit``'s order: the step mode's loop.

``Stepper(network, X, y, epochs=…, batch_size=…, shuffle=…, seed=…, schedule=…)`` takes
the same settings as ``Network.fit`` and walks the very batches ``fit`` would, in the same
order, with the same dropout masks and learning rates, so that a run stepped through batch
by batch ends with exactly the weights ``fit`` ends with::

    stepper = Stepper(network, X, y, epochs=10, batch_size=128, seed=0)
    stepper.advance(1)          # one batch, recorded: stepper.last is its StepRecord
    stepper.advance(10)         # ten batches; only the last one is recorded
    stepper.finish_epoch()      # to the end of the epoch in progress
    stepper.reset()             # back to the initial weights, the first batch

fit's order: one generator, ``default_rng(seed)``; at the start of every epoch the batches'
order is drawn from it (``nncore.training.BatchPlan``, which fit walks too) and then, batch
by batch, every Dropout layer draws its mask from the same generator. The learning rate of
epoch e (from 0) is ``schedule(lr, e, epochs)``.

When a step overflows (the loss, or any weight, is no longer a finite number), the
stepper puts back the weights from before that step and says where it happened
(``nncore.stepping.divergence``): ``diverged`` holds the ``Divergence``, and stepping
stops until ``reset``.

Every press of a button is bounded before it starts (``STEP_BOUNDS``, checked by
``check_bounds``): the multiply-adds of one step, and of all the steps of one press.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ..layers import Dropout
from ..runs.work import work_per_sample
from ..schedules import get_schedule
from ..training import BatchPlan
from .divergence import Divergence, diagnose
from .record import StepRecord, _record

#: What one press of a step button may cost, in multiply-adds of the forward pass (the
#: backward pass costs about twice as much again). One step of the 784-256-128-10 default
#: with 128 rows is 3e7; finishing one of its epochs, 1.3e10 (under a second here).
STEP_BOUNDS = {
    "max_step_work": 2e9,       # one recorded step keeps every number of the batch
    "max_press_work": 3e10,     # all the steps of one press ("Finish the epoch")
    "max_record_bytes": 64 * 2**20,   # what one recorded step may keep (below)
}
# A recorded step keeps, for every sample of its batch, each layer's input and output and
# about four arrays of their size besides (z, σ'(z), δ, dA): some 6 float32 numbers for
# every value a sample passes through the network.
RECORD_BYTES_PER_VALUE = 6 * 4


class StepTooLarge(ValueError):
    """A press of a step button would go over ``STEP_BOUNDS``; the message says why."""


def check_bounds(network, batch_rows: int, steps: int) -> None:
    """Raise StepTooLarge when ``steps`` steps of ``batch_rows`` rows go over STEP_BOUNDS."""
    per_sample = work_per_sample(network)
    step = batch_rows * per_sample
    if step > STEP_BOUNDS["max_step_work"]:
        most = max(1, int(STEP_BOUNDS["max_step_work"] // per_sample))
        raise StepTooLarge(f"One step of this setup is {batch_rows:,} samples × {per_sample:,} "
                           f"multiply-adds = {step:.2g}, above step mode's bound of "
                           f"{STEP_BOUNDS['max_step_work']:.0e}: use a batch size of at most "
                           f"{most:,}.")
    record = batch_rows * _values_per_sample(network) * RECORD_BYTES_PER_VALUE
    if record > STEP_BOUNDS["max_record_bytes"]:
        most = max(1, int(STEP_BOUNDS["max_record_bytes"] // (record / batch_rows)))
        raise StepTooLarge(f"A recorded step of {batch_rows:,} samples would keep about "
                           f"{record / 2**20:,.0f} MB of numbers, above step mode's bound of "
                           f"{STEP_BOUNDS['max_record_bytes'] // 2**20} MB: use a batch size "
                           f"of at most {most:,}.")
    if steps * step > STEP_BOUNDS["max_press_work"]:
        raise StepTooLarge(f"{steps:,} steps of {batch_rows:,} samples × {per_sample:,} "
                           f"multiply-adds = {steps * step:.2g}, above the bound of "
                           f"{STEP_BOUNDS['max_press_work']:.0e} for one press: press Start "
                           "to train whole epochs.")


def _values_per_sample(network) -> int:
    """How many numbers one sample passes through ``network``: its input and every
    layer's output."""
    shape = tuple(network.input_shape)
    total = math.prod(shape)
    for layer in network.layers:
        shape = layer.output_shape(shape)
        total += math.prod(shape)
    return int(total)


class Stepper:
    """``fit``, one batch at a time (see the module docstring)."""

    def __init__(self, network, X, y, *, epochs: int = 1, batch_size: int | None = 32,
                 shuffle: bool = True, seed: int | None = None, schedule=None):
        network._check_ready()
        if not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a whole number ≥ 1, got {epochs!r}.")
        self.network = network
        self.X = network._check_X(X)
        self.Y = network._targets(y, len(self.X))
        self.m = len(self.X)
        self.plan = BatchPlan(self.m, batch_size, shuffle)
        self.batch_size, self.n_batches = self.plan.size, self.plan.n_batches
        self.epochs, self.seed = int(epochs), seed
        self.schedule = get_schedule(schedule)
        self.base_lr = network.optimizer.lr
        self.initial_weights = network.get_weights()
        self.reset()

    # ---------------------------------------------------------------- position
    def reset(self) -> None:
        """Back to the initial weights, a fresh optimizer and the first batch."""
        net = self.network
        net.set_weights(self.initial_weights)
        net.optimizer.reset()
        net.optimizer.lr = self.base_lr
        self.rng = np.random.default_rng(net.seed if self.seed is None else self.seed)
        for layer in net.layers:
            if isinstance(layer, Dropout):
                layer.rng = self.rng       # one stream, as in fit
        self.epoch = 0          # epochs completed
        self.batch = 0          # batches done in the epoch in progress
        self.order = None       # this epoch's permutation, or None (no shuffling)
        self.steps = 0          # batches done in all
        self.losses: list[float] = []
        self.last: StepRecord | None = None
        self.diverged: Divergence | None = None
        self._press_before = None   # the state the last press started from (see below)

    @property
    def finished(self) -> bool:
        return self.epoch >= self.epochs

    @property
    def lr(self) -> float:
        """The learning rate of the epoch in progress."""
        return self.schedule(self.base_lr, min(self.epoch, self.epochs - 1), self.epochs)

    def why_not(self) -> str | None:
        """Why the stepper cannot take a step now, or None."""
        if self.diverged is not None:
            return ("The last step overflowed and was undone: go back to the initial "
                    "weights (or retry at a smaller learning rate) to step again.")
        if self.finished:
            return (f"All {self.epochs} epoch{'s' if self.epochs != 1 else ''} of this setup "
                    f"are done ({self.steps:,} steps): go back to the initial weights to "
                    "step through them again.")
        return None

    # ---------------------------------------------------------------- stepping
    def advance(self, n: int = 1, record_last: bool = True) -> int:
        """Take up to ``n`` steps (fewer if the epochs run out or a step overflows); the
        last one is recorded in ``last``. Returns the number of steps taken."""
        if self.why_not() is not None or n < 1:
            return 0
        n = min(n, self.remaining())
        check_bounds(self.network, self.batch_size, n)
        start = self._state()
        for done in range(n):
            record = record_last and done == n - 1
            if not self._step(record):
                self._explain_divergence(start, done)
                return done
        self._press_before = start
        return n

    def finish_epoch(self) -> int:
        """Step to the end of the epoch in progress (a whole epoch at an epoch's start)."""
        if self.why_not() is not None:
            return 0
        return self.advance(self.n_batches - self.batch)

    def remaining(self) -> int:
        """Steps left before the last epoch ends."""
        return (self.epochs - self.epoch) * self.n_batches - self.batch

    def _next_batch(self):
        """(the rows' indices, xb, yb) of the next batch, in fit's order."""
        if self.batch == 0:
            self.order = self.plan.epoch_order(self.rng)
        rows = self.plan.rows(self.order, self.batch)
        xb, yb = self.plan.take(rows, self.X, self.Y)
        return (np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows), xb, yb

    def _step(self, record: bool) -> bool:
        """One step; False (and the weights left as the step made them) if it overflowed."""
        net, opt = self.network, self.network.optimizer
        rows, xb, yb = self._next_batch()
        opt.lr = self.lr
        first = net._first_parametric()
        skip = first is not None and first.skip_input_gradient
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                if record:
                    rec = _record(net, xb, yb)
                    loss = rec.loss
                else:
                    if first is not None:
                        first.skip_input_gradient = True   # as fit: nobody needs ∂L/∂X
                    loss, _ = net._step(xb, yb)
        finally:
            opt.lr = self.base_lr
            if first is not None:
                first.skip_input_gradient = skip
        self.steps += 1
        self.batch += 1
        self.losses.append(float(loss))
        if record:
            rec.step, rec.epoch, rec.batch, rec.batches = (self.steps, self.epoch + 1,
                                                            self.batch, self.n_batches)
            rec.rows = rows
            self.last = rec
        if self.batch == self.n_batches:
            self.epoch, self.batch = self.epoch + 1, 0
        return math.isfinite(loss) and all(np.isfinite(p).all() for _, p, _ in net.parameters())

    # ---------------------------------------------------------------- overflow
    def _state(self) -> dict:
        return {"weights": self.network.get_weights(),
                "optimizer": copy.deepcopy(self.network.optimizer.__dict__),
                "rng": copy.deepcopy(self.rng.bit_generator.state),
                "position": (self.epoch, self.batch, self.order, self.steps,
                             len(self.losses), self.last)}

    def _restore(self, state: dict) -> None:
        self.network.set_weights(state["weights"])
        opt = self.network.optimizer
        opt.__dict__.clear()
        opt.__dict__.update(copy.deepcopy(state["optimizer"]))
        self.rng.bit_generator.state = copy.deepcopy(state["rng"])
        self.epoch, self.batch, self.order, self.steps, n_losses, self.last = state["position"]
        del self.losses[n_losses:]

    def _explain_divergence(self, start: dict, k: int) -> None:
        """Step ``k`` of this press overflowed: replay up to it (the same numbers: same
        weights, batches and masks), record the step before it and the step itself, and
        keep the weights from before it. The step before may belong to the press before."""
        self._restore(start)
        previous = self.last if self.last is not None and self.last.step == self.steps else None
        if k == 0 and previous is None and self._press_before is not None:
            steps = self.steps
            self._restore(self._press_before)
            for _ in range(steps - self.steps - 1):
                self._step(record=False)
            self._step(record=True)
            previous = self.last
        else:
            for _ in range(k - 1):
                self._step(record=False)
            if k >= 1:
                self._step(record=True)
                previous = self.last
        good = self._state()
        self._step(record=True)
        failed = self.last
        self._restore(good)
        self.last = previous
        self.diverged = diagnose(failed, previous, self.losses)

__all__ = ["Stepper", "StepTooLarge", "STEP_BOUNDS", "check_bounds", "work_per_sample"]
