"""Why a run diverged: the first step and the first number that stopped being finite.

A learning rate that is too large makes each update overshoot; the weights grow, the
pre-activations z with them, until some value no longer fits in a float (float32 ends
at 3.4e38) and becomes inf, and then NaN (inf − inf, 0 × inf). ``diagnose`` reads the
recorded step where that first happened, in the order the step computed it — forward
layer by layer (z, then a), the loss, backward from the last layer (dA, δ, dW, db), and
last the update θ − η·g — and says it in one sentence with the numbers.

``diagnose_run`` finds it for a normal run that diverged: it replays the run from the
same initial weights in the same order (``Stepper``), within a bound on the work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Divergence:
    step: int                  # the step (batch, counted over all epochs) that overflowed
    epoch: int
    batch: int
    where: str                 # "z" | "a" | "loss" | "dA" | "delta" | "dW" | "db" | "update"
    layer: int | None          # the seeds' layer number l (None for the loss)
    value: float               # what it became: inf, -inf or nan
    largest: float             # the largest finite |value| in that array (0 if none)
    weight: float              # largest |W| of that layer when the step started
    previous_grad: float | None  # largest |dW| of that layer at the step before
    lr: float
    recent_losses: list[float] = field(default_factory=list)   # the last few, this one too
    sentence: str = ""

    @property
    def retry_lr(self) -> float:
        return self.lr / 10


def _bad(a) -> bool:
    return a is not None and not np.isfinite(a).all()


def _first_bad(a) -> float:
    flat = np.asarray(a, dtype=np.float64).ravel()
    bad = flat[~np.isfinite(flat)]
    nan = np.isnan(bad)
    return float("nan") if nan.all() else float(bad[~nan][0])


def _largest(a) -> float:
    flat = np.abs(np.asarray(a, dtype=np.float64).ravel())
    flat = flat[np.isfinite(flat)]
    return float(flat.max()) if flat.size else 0.0


def _what_became(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "−inf")


def _num(x: float) -> str:
    return f"{x:.2g}".replace("e+", "e").replace("-", "−")


def find_overflow(record) -> tuple[str, int | None, np.ndarray | float] | None:
    """(where, layer number, the array or value) of the first non-finite number of the
    recorded step, in the order the step computed them; None if every number is finite."""
    for s in record.stages:
        for where in ("z", "a"):
            if _bad(getattr(s, where)):
                return where, s.number, getattr(s, where)
    if not math.isfinite(record.loss):
        return "loss", None, record.loss
    for s in reversed(record.stages):
        for where in ("dA", "delta", "dW", "db"):
            if _bad(getattr(s, where)):
                return where, s.number, getattr(s, where)
    for s in record.stages:
        if s.kind != "pool":
            after = record.updates[f"layer{s.layer_index}.W"].after
            after_b = record.updates[f"layer{s.layer_index}.b"].after
            if _bad(after) or _bad(after_b):
                return "update", s.number, after if _bad(after) else after_b
    return None


NAMES = {"z": "z (the pre-activation)", "a": "output a", "dA": "gradient dA",
         "delta": "δ", "dW": "weight gradient dW", "db": "bias gradient db",
         "update": "weights after the update"}


def diagnose(failed, previous=None, losses=()) -> Divergence:
    """The Divergence of the recorded step ``failed``; ``previous`` is the recorded step
    just before it (or None), ``losses`` the losses of the steps before it."""
    found = find_overflow(failed)
    if found is None:
        raise ValueError("Every number of this step is finite: it did not diverge.")
    where, number, array = found
    stage = failed.stages[number - 1] if number is not None else None
    if previous is not None and previous.step != failed.step - 1:
        previous = None
    weight = _largest(stage.W) if stage is not None and stage.W is not None else 0.0
    prev_grad = None
    if previous is not None and stage is not None and stage.kind != "pool":
        prev_grad = _largest(previous.stages[number - 1].dW)
    value = float(array) if where == "loss" else _first_bad(array)
    largest = 0.0 if where == "loss" else _largest(array)
    recent = [float(v) for v in list(losses)[-4:]] + [float(failed.loss)]
    d = Divergence(failed.step, failed.epoch, failed.batch, where, number, value, largest,
                   weight, prev_grad, failed.lr, recent)
    d.sentence = _sentence(d, failed)
    return d


def _sentence(d: Divergence, failed) -> str:
    at = f"At batch {d.batch} of epoch {d.epoch} (step {d.step})"
    became = _what_became(d.value)
    if d.where == "loss":
        what = (f"the loss became {became} although every layer's output was finite "
                f"(largest output {_num(_largest(failed.output))})")
    else:
        what = f"layer {d.layer}'s {NAMES[d.where]} became {became}"
        if d.largest:
            what += f" (its largest finite entry: {_num(d.largest)})"
    why = f"; the layer's weights reached |W| = {_num(d.weight)}" if d.weight else ""
    if d.previous_grad is not None:
        why += f" after a step before with dW of up to {_num(d.previous_grad)}"
    cause = (f": the learning rate {d.lr:g} multiplies gradients this large into overflow "
             f"(float32 ends at {_num(FLOAT32_MAX)}).")
    trend = ""
    finite = [x for x in d.recent_losses if math.isfinite(x)]
    if len(finite) >= 2:
        trend = (" The loss went " + " → ".join(_num(x) if math.isfinite(x) else _what_became(x)
                                              for x in d.recent_losses) + ".")
    return f"{at}, {what}{why}{cause}{trend}"


def diagnose_run(make_network, X, y, *, epochs, batch_size, shuffle=True, seed=None,
                 schedule=None, max_work: float = 2e10) -> Divergence | str:
    """Replay a run that diverged — ``make_network()`` gives its network with the initial
    weights — in fit's order until the first step that overflows, and diagnose it.

    Returns the Divergence, or a sentence saying why not (the replay would cost more than
    ``max_work`` multiply-adds, or it did not diverge)."""
    from .stepper import Stepper, StepTooLarge, work_per_sample

    network = make_network()
    stepper = Stepper(network, X, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                      seed=seed, schedule=schedule)
    per_step = stepper.batch_size * work_per_sample(network)
    budget = max(1, int(max_work // max(per_step, 1)))
    try:
        while stepper.diverged is None and not stepper.finished and stepper.steps < budget:
            stepper.advance(min(stepper.n_batches, budget - stepper.steps), record_last=False)
    except StepTooLarge as exc:
        return str(exc)
    if stepper.diverged is not None:
        return stepper.diverged
    if stepper.finished:
        return "Replayed from the same initial weights, the run did not diverge."
    return (f"The first {stepper.steps:,} steps replayed from the same initial weights stayed "
            f"finite; replaying further would go over the bound of {max_work:.0e} "
            "multiply-adds.")


__all__ = ["Divergence", "diagnose", "diagnose_run", "find_overflow"]
