"""Every setting of a run, declared once: its type, its bounds, its default, its choices.

scikit-learn declares the hyper-parameters of each estimator in ``_parameter_constraints``
and checks them all with one validator. This module does the same for a ``RunSpec``::

    RUN["epochs"]      = Setting(int, 10, low=1, high=10_000)
    DENSE["units"]     = Setting(int, None, low=1, high=1024, required=True)
    OPTIMIZER["lr"]    = Setting(float, None, low=1e-6, high=10.0)

Everything that needs a bound reads it from here: the spec's own validation
(``RunSpec.validate``), the share-link reader (which pulls an out-of-range number back into
range and says so), the Architecture page's widgets (their min, max and options) and the
command line's defaults. A bound is written once, so it cannot drift between them.

The bounds are sized for a hosted demo that many visitors share: enough to learn from,
small enough that nobody can ask the server for a network it cannot train.

What can be wrong with a spec is a value, not a sentence to be recognised by its words:

- ``SpecError``: a setting is out of its bounds (``field`` says which, the message what was
  expected);
- ``RunTooLarge``: every setting is allowed, but together they ask for too much work;
- ``SpecProblem``: the spec is valid but does not suit a data set (``blocking`` says whether
  a run can start at all, or whether it is only a note).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

from ..initializers import INITIALIZERS
from ..losses import LOSSES

HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "tanh", "linear")
LAYER_KINDS = ("dense", "conv", "maxpool")


# ---------------------------------------------------------------------- what can be wrong
class SpecError(ValueError):
    """A setting of a run spec is not allowed. ``field`` names it: "epochs",
    "optimizer.lr", "hidden[2].units"; the message says what was expected."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class RunTooLarge(SpecError):
    """Every setting is allowed, but the run as a whole is above the hosted demo's work
    limit (epochs × samples × parameters, see ``LIMITS["max_work"]``)."""


@dataclass(frozen=True)
class SpecProblem:
    """Why a valid spec does not suit a data set. ``blocking``: no run can start (binary
    cross-entropy on ten classes); otherwise a note (an output activation that the loss
    replaces)."""

    field: str
    message: str
    blocking: bool


# ---------------------------------------------------------------------- one setting
@dataclass(frozen=True)
class Setting:
    """One setting: its type, the default a missing value means, and what is allowed.

    kind : int, float, bool or str.
    default : what the setting is when a spec leaves it out.
    low, high : inclusive bounds of a number; ``high`` may be a function of the other
        settings of the same layer (a max-pool's stride is at most its window).
    choices : the allowed names of a str setting.
    words : names a number setting also accepts ("same" and "valid" padding).
    optional : None is allowed and means this ("full batch"); None otherwise is refused.
    required : the setting has no default: a spec must give it (a dense layer's units).
    """

    kind: type
    default: object = None
    low: float | None = None
    high: float | Callable[[dict], float] | None = None
    choices: tuple = ()
    words: tuple = ()
    optional: str | None = None
    required: bool = False

    def bounds(self, siblings: dict | None = None) -> tuple:
        """(low, high) with a ``high`` that depends on the other settings worked out."""
        high = self.high(siblings or {}) if callable(self.high) else self.high
        return self.low, high

    def expected(self, siblings: dict | None = None) -> str:
        """What the setting allows, in words: "a whole number from 1 to 1024"."""
        if self.kind is bool:
            text = "true or false"
        elif self.kind is str:
            text = f"one of {', '.join(self.choices)}"
        else:
            low, high = self.bounds(siblings)
            text = (f"a whole number from {_number(low)} to {_number(high)}" if self.kind is int
                    else f"from {_number(low)} to {_number(high)}")
            if self.words:
                text += " (or " + " or ".join(f'"{w}"' for w in self.words) + ")"
        if self.optional:
            text += f", or None for {self.optional}"
        return text

    def allows(self, value, siblings: dict | None = None) -> bool:
        if value is None:
            return self.optional is not None or (self.default is None and not self.required)
        if self.kind is bool:
            return isinstance(value, bool)
        if self.kind is str:
            return isinstance(value, str) and value in self.choices
        if isinstance(value, str):
            return value in self.words
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if not math.isfinite(value):
            return False
        low, high = self.bounds(siblings)
        return low <= value <= high

    def check(self, value, field: str, where: str, siblings: dict | None = None):
        """``value`` if allowed, else a SpecError: "{where} must be {expected}, got …"."""
        if not self.allows(value, siblings):
            raise SpecError(field, f"{where} must be {self.expected(siblings)}, got {value!r}.")
        return value

    def clamp(self, value, siblings: dict | None = None):
        """A number pulled into the bounds (the link reader's repair)."""
        low, high = self.bounds(siblings)
        return min(max(value, low), high)


def _number(x) -> str:
    """1e-06 → "1e-6", 10.0 → "10": numbers as a sentence writes them."""
    text = f"{x:g}" if isinstance(x, float) else str(x)
    return text.replace("e-0", "e-").replace("e+0", "e+")


# ---------------------------------------------------------------------- the settings of a run
#: The hosted demo's limits on a run as a whole (single settings are bounded below).
LIMITS = {
    "max_hidden_layers": 6,
    # epochs × training samples × parameters: 5e11 is about 40 MNIST epochs of the
    # 784-256-128-10 default, roughly half an hour on two cores.
    "max_work": 5e11,
    # A network's size on its own, whatever the data (a model file has no data to weigh it
    # by): 8e6 parameters is above every dense network the layer bounds allow (six layers
    # of 1024 on 1024 inputs: 6.3e6), and 5e7 multiply-adds per sample is ten times a
    # 32-64-filter CNN on MNIST — one test-set pass of it, 5e11, is the whole-run limit.
    "max_parameters": 8_000_000,
    "max_sample_work": 5e7,
    # Inputs per sample: the widest data set a visitor can bring (an upload, a model file).
    "max_features": 1024,
}

RUN = {
    "loss": Setting(str, "softmax_cross_entropy", choices=tuple(LOSSES)),
    "output_activation": Setting(str, None, choices=OUTPUT_ACTIVATIONS,
                                 optional="what the loss needs"),
    "output_init": Setting(str, None, choices=tuple(INITIALIZERS),
                           optional="He for ReLU-like outputs, else Glorot"),
    "separate_activations": Setting(bool, False),
    "l2": Setting(float, 0.0, low=0.0, high=1.0),
    "batch_size": Setting(int, 128, low=1, high=70_000, optional="full batch"),
    "epochs": Setting(int, 10, low=1, high=10_000),
    "shuffle": Setting(bool, True),
    "seed": Setting(int, 0, low=0, high=2 ** 32 - 1),
}

# The structured parts of a new session's spec: MNIST, two ReLU layers, Adam.
DEFAULT_DATA = {"name": "mnist"}
DEFAULT_HIDDEN = ({"units": 256}, {"units": 128})

_ACTIVATION = Setting(str, "relu", choices=HIDDEN_ACTIVATIONS)
_DROPOUT = Setting(float, 0.0, low=0.0, high=0.9)
_INIT = Setting(str, None, choices=tuple(INITIALIZERS),
                optional="He for ReLU-like layers, else Glorot")

DENSE = {
    "units": Setting(int, None, low=1, high=1024, required=True),
    "activation": _ACTIVATION,
    "dropout": _DROPOUT,
    "init": _INIT,
}
CONV = {
    "filters": Setting(int, None, low=1, high=128, required=True),
    "kernel": Setting(int, 3, low=1, high=9),
    "stride": Setting(int, None, low=1, high=4, optional="stride 1"),
    # A padding of k or more would only add rows of zeros that no filter position needs.
    "padding": Setting(int, 0, low=0, high=lambda layer: max(layer.get("kernel", 3) - 1, 0),
                       words=("same", "valid")),
    "activation": _ACTIVATION,
    "dropout": _DROPOUT,
    "init": _INIT,
}
MAXPOOL = {
    "pool": Setting(int, 2, low=1, high=8),
    # Windows further apart than their size would skip pixels that no window sees.
    "stride": Setting(int, None, low=1, high=lambda layer: layer.get("pool", 2),
                      optional="a stride equal to the window"),
}
LAYER = {"dense": DENSE, "conv": CONV, "maxpool": MAXPOOL}

#: What a layer added on the Architecture page starts as.
NEW_LAYER = {
    "dense": {"units": 64, "activation": "relu", "dropout": 0.0, "init": None},
    "conv": {"kind": "conv", "filters": 8, "kernel": 3, "stride": None, "padding": "same",
             "activation": "relu", "dropout": 0.0, "init": None},
    "maxpool": {"kind": "maxpool", "pool": 2, "stride": None},
}


# ---------------------------------------------------------------------- optimizer and schedule
@dataclass(frozen=True)
class Choice:
    """A named option (an optimizer, a schedule) and the settings it takes."""

    label: str
    settings: tuple[str, ...]
    lr: float | None = None          # an optimizer's usual learning rate


OPTIMIZERS = {
    "sgd": Choice("Gradient descent (SGD)", ("lr", "momentum", "nesterov"), lr=0.01),
    "momentum": Choice("SGD with momentum", ("lr", "momentum"), lr=0.01),
    "nesterov": Choice("SGD with Nesterov momentum", ("lr", "momentum"), lr=0.01),
    "adam": Choice("Adam", ("lr", "beta1", "beta2", "eps"), lr=0.001),
}
OPTIMIZER = {
    "lr": Setting(float, None, low=1e-6, high=10.0),     # None: the optimizer's usual rate
    "momentum": Setting(float, 0.9, low=0.0, high=0.99),
    "nesterov": Setting(bool, False),
    "beta1": Setting(float, 0.9, low=0.0, high=0.999),
    "beta2": Setting(float, 0.999, low=0.0, high=0.9999),
    "eps": Setting(float, 1e-8, low=1e-12, high=1e-2),
}
DEFAULT_OPTIMIZER = {"name": "adam", "lr": OPTIMIZERS["adam"].lr}

SCHEDULES = {
    "constant": Choice("constant", ()),
    "step": Choice("step decay", ("step_size", "gamma")),
    "cosine": Choice("cosine decay", ("min_lr_fraction",)),
}
SCHEDULE = {
    "step_size": Setting(int, 10, low=1, high=10_000),
    "gamma": Setting(float, 0.5, low=0.01, high=1.0),
    "min_lr_fraction": Setting(float, 0.0, low=0.0, high=1.0),
}
# Cosine decay: the default network reaches 98.22 % test with it, 97.76 % with a constant
# rate. The one default: a new session, the preset called the default, the command line and
# a link of today's format that leaves the schedule out all read it from here. (A link of
# the first format that leaves it out meant "constant": nncore/runs/links/grammar.py
# reads it so, LEFT_OUT.)
DEFAULT_SCHEDULE = {"name": "cosine"}


def default_lr(optimizer: str) -> float:
    """The learning rate an optimizer starts with when none is given."""
    return OPTIMIZERS[optimizer].lr


# ---------------------------------------------------------------------- the validator
def check_choice_settings(kind: str, given: dict, table: dict, settings: dict,
                          field: str) -> None:
    """Validate an optimizer or schedule dict ``{"name": …, setting: value, …}``."""
    name = given.get("name") if isinstance(given, dict) else None
    if name not in table:
        raise SpecError(f"{field}.name", f"The {kind} must be one of {', '.join(table)}, "
                                         f"got {name!r}.")
    takes = table[name].settings
    for key, value in given.items():
        if key == "name":
            continue
        if key not in takes:
            raise SpecError(f"{field}.{key}", f"The {name} {kind} takes "
                                              f"{', '.join(takes) or 'no settings'}; got {key}.")
        label = "The learning rate" if key == "lr" else f"The {name} {kind}'s {key}"
        settings[key].check(value, f"{field}.{key}", label, given)


__all__ = ["SpecError", "RunTooLarge", "SpecProblem", "Setting", "Choice", "LIMITS", "RUN",
           "DENSE", "CONV", "MAXPOOL", "LAYER", "NEW_LAYER", "OPTIMIZERS", "OPTIMIZER",
           "SCHEDULES", "SCHEDULE", "DEFAULT_DATA", "DEFAULT_HIDDEN", "DEFAULT_OPTIMIZER",
           "DEFAULT_SCHEDULE", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "LAYER_KINDS",
           "default_lr", "check_choice_settings"]
