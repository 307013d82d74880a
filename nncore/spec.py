"""A training run described as plain data: ``RunSpec``.

One small JSON-able object says everything needed to rebuild a run — the data set, the
hidden layers, the loss, the optimizer and its schedule, batch size, epochs and seed. The
presets are RunSpecs, the command line builds one from its flags, the app edits one on
its Architecture page and mirrors it in the page's link, and a saved model records the
one it was trained with. Same spec, same seed → same weights.

The output layer is not part of the spec: it follows from the data and the loss
(``output_layer``), so a spec cannot ask for 10 softmax units on a 2-class problem.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field

from .activations import ACTIVATIONS
from .initializers import INITIALIZERS
from .layers import ActivationLayer, Dense, Dropout
from .losses import LOSSES
from .network import Network

# Bounds that keep one visitor of a shared, hosted demo from exhausting it.
LIMITS = {
    "max_hidden_layers": 6,
    "max_units": 1024,
    "max_epochs": 10_000,
    "max_batch_size": 70_000,
    # epochs × training samples × parameters: 5e11 is about 40 MNIST epochs of the
    # 784-256-128-10 default, roughly half an hour on two cores.
    "max_work": 5e11,
}

HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "tanh", "linear")


@dataclass
class LayerSpec:
    units: int
    activation: str = "relu"
    dropout: float = 0.0
    init: str | None = None          # None: He for ReLU-like layers, Glorot otherwise


@dataclass
class RunSpec:
    data: dict = field(default_factory=lambda: {"name": "mnist"})
    hidden: list[LayerSpec] = field(default_factory=lambda: [LayerSpec(256), LayerSpec(128)])
    loss: str = "softmax_cross_entropy"
    output_activation: str | None = None   # None: what the loss needs (softmax, sigmoid…)
    output_init: str | None = None
    separate_activations: bool = False     # seed 001 style: Dense + ActivationLayer
    optimizer: dict = field(default_factory=lambda: {"name": "adam", "lr": 0.001})
    schedule: dict = field(default_factory=lambda: {"name": "constant"})
    l2: float = 0.0
    batch_size: int | None = 128           # None: full batch
    epochs: int = 10
    shuffle: bool = True
    seed: int = 0

    # -------------------------------------------------------------- conversion
    def to_dict(self) -> dict:
        return copy.deepcopy(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> "RunSpec":
        if not isinstance(d, dict):
            raise ValueError(f"A run spec must be a dict, got {type(d).__name__}.")
        d = copy.deepcopy(d)
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"Unknown run-spec fields: {', '.join(sorted(unknown))}.")
        hidden = d.get("hidden", [])
        if not isinstance(hidden, list):
            raise ValueError("'hidden' must be a list of layers.")
        layers = []
        for i, h in enumerate(hidden):
            if isinstance(h, LayerSpec):
                layers.append(h)
            elif isinstance(h, dict) and set(h) <= set(LayerSpec.__dataclass_fields__) and "units" in h:
                layers.append(LayerSpec(**h))
            else:
                raise ValueError(f"Hidden layer {i + 1} must be a dict with 'units' (and "
                                 f"optionally activation, dropout, init), got {h!r}.")
        d["hidden"] = layers
        spec = cls(**d)
        spec.validate()
        return spec

    def copy(self) -> "RunSpec":
        return RunSpec.from_dict(self.to_dict())

    # -------------------------------------------------------------- validation
    def validate(self) -> "RunSpec":
        """Raise ValueError naming the first field that is out of bounds."""
        if not isinstance(self.data, dict) or not isinstance(self.data.get("name"), str):
            raise ValueError("'data' must be a dict with the data set's 'name'.")
        if len(self.hidden) > LIMITS["max_hidden_layers"]:
            raise ValueError(f"At most {LIMITS['max_hidden_layers']} hidden layers, got "
                             f"{len(self.hidden)}.")
        for i, h in enumerate(self.hidden, 1):
            if not isinstance(h.units, int) or isinstance(h.units, bool) or not 1 <= h.units <= LIMITS["max_units"]:
                raise ValueError(f"Hidden layer {i}: units must be a whole number from 1 to "
                                 f"{LIMITS['max_units']}, got {h.units!r}.")
            if h.activation not in HIDDEN_ACTIVATIONS:
                raise ValueError(f"Hidden layer {i}: activation must be one of "
                                 f"{', '.join(HIDDEN_ACTIVATIONS)}, got {h.activation!r}.")
            if not isinstance(h.dropout, (int, float)) or not 0 <= h.dropout <= 0.9:
                raise ValueError(f"Hidden layer {i}: dropout must be from 0 to 0.9, got {h.dropout!r}.")
            if h.init is not None and h.init not in INITIALIZERS:
                raise ValueError(f"Hidden layer {i}: init must be one of "
                                 f"{', '.join(INITIALIZERS)}, got {h.init!r}.")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}.")
        if self.output_activation is not None and self.output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"output_activation must be one of {', '.join(OUTPUT_ACTIVATIONS)}, "
                             f"got {self.output_activation!r}.")
        if self.output_init is not None and self.output_init not in INITIALIZERS:
            raise ValueError(f"output_init must be one of {', '.join(INITIALIZERS)}, got "
                             f"{self.output_init!r}.")
        from .optimizers import get_optimizer
        from .schedules import get_schedule
        get_optimizer(self.optimizer)
        get_schedule(self.schedule)
        lr = self.optimizer.get("lr", 0.01)
        if not isinstance(lr, (int, float)) or not 1e-6 <= lr <= 10:
            raise ValueError(f"The learning rate must be from 1e-6 to 10, got {lr!r}.")
        if not isinstance(self.l2, (int, float)) or not 0 <= self.l2 <= 1 or math.isnan(self.l2):
            raise ValueError(f"l2 must be from 0 to 1, got {self.l2!r}.")
        if self.batch_size is not None and (not isinstance(self.batch_size, int)
                                            or not 1 <= self.batch_size <= LIMITS["max_batch_size"]):
            raise ValueError(f"batch_size must be a whole number from 1 to "
                             f"{LIMITS['max_batch_size']}, or None for full batch; got "
                             f"{self.batch_size!r}.")
        if not isinstance(self.epochs, int) or not 1 <= self.epochs <= LIMITS["max_epochs"]:
            raise ValueError(f"epochs must be a whole number from 1 to {LIMITS['max_epochs']}, "
                             f"got {self.epochs!r}.")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2 ** 32:
            raise ValueError(f"seed must be a whole number from 0 to 2³²−1, got {self.seed!r}.")
        return self

    # -------------------------------------------------------------- the output layer
    def output_layer(self, n_classes: int) -> tuple[int, str]:
        """(units, activation) of the output layer for ``n_classes`` classes.

        softmax cross-entropy: one softmax unit per class; binary cross-entropy: one
        sigmoid unit (two classes only); squared error: one unit for two classes (seed
        001's XOR), else one per class, with sigmoid unless the spec names another.
        """
        if self.loss == "softmax_cross_entropy":
            return n_classes, "softmax"
        if self.loss == "binary_cross_entropy":
            return 1, "sigmoid"
        units = 1 if n_classes == 2 else n_classes
        return units, self.output_activation or "sigmoid"

    def problems(self, n_classes: int) -> list[str]:
        """Why this spec cannot train on a data set with ``n_classes`` classes (empty: it can)."""
        issues = []
        if self.loss == "binary_cross_entropy" and n_classes != 2:
            issues.append(f"Binary cross-entropy needs exactly two classes, but this data set "
                          f"has {n_classes}: use softmax cross-entropy (or squared error).")
        if self.loss == "softmax_cross_entropy" and self.output_activation not in (None, "softmax"):
            issues.append("Softmax cross-entropy works on a softmax output layer; the output "
                          f"activation {self.output_activation!r} is replaced by softmax.")
        if self.loss == "binary_cross_entropy" and self.output_activation not in (None, "sigmoid"):
            issues.append("Binary cross-entropy works on a sigmoid output; the output "
                          f"activation {self.output_activation!r} is replaced by sigmoid.")
        if self.loss in ("mse", "mse_sum") and self.output_activation == "softmax":
            issues.append("Squared error on a softmax output learns slowly (its gradient "
                          "vanishes as outputs saturate); prefer softmax cross-entropy.")
        return issues

    def work(self, n_train: int, n_features: int, n_classes: int) -> float:
        """epochs × training samples × parameters: a rough size of the whole run."""
        return float(self.epochs) * n_train * count_parameters(self, n_features, n_classes)

    def check_limits(self, n_train: int, n_features: int, n_classes: int) -> None:
        work = self.work(n_train, n_features, n_classes)
        if work > LIMITS["max_work"]:
            raise ValueError(
                f"This run is too large for the shared demo: {self.epochs} epochs × {n_train:,} "
                f"samples × {count_parameters(self, n_features, n_classes):,} parameters "
                f"= {work:.2g}, above the limit of {LIMITS['max_work']:.0e}. Use fewer epochs, "
                "fewer samples or smaller layers."
            )


def count_parameters(spec: RunSpec, n_features: int, n_classes: int) -> int:
    sizes = [n_features] + [h.units for h in spec.hidden] + [spec.output_layer(n_classes)[0]]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def build_network(spec: RunSpec, n_features: int, n_classes: int) -> Network:
    """The Network a spec describes, for inputs of ``n_features`` and ``n_classes`` classes."""
    spec.validate()
    problems = [p for p in spec.problems(n_classes) if "needs exactly" in p]
    if problems:
        raise ValueError(problems[0])
    layers = []
    width = n_features
    out_units, out_act = spec.output_layer(n_classes)
    plan = [(h.units, h.activation, h.init, h.dropout) for h in spec.hidden]
    plan.append((out_units, out_act, spec.output_init, 0.0))
    for units, activation, init, dropout in plan:
        if spec.separate_activations:
            layers.append(Dense(width, units, "linear", init or _default_init(activation)))
            layers.append(ActivationLayer(activation))
        else:
            layers.append(Dense(width, units, activation, init))
        if dropout:
            layers.append(Dropout(dropout))
        width = units
    network = Network(layers, loss=spec.loss, optimizer=dict(spec.optimizer), l2=spec.l2,
                      seed=spec.seed)
    network.metadata["spec"] = spec.to_dict()
    return network


def _default_init(activation: str) -> str:
    return "he" if activation in ("relu", "leaky_relu") else "glorot"


assert set(HIDDEN_ACTIVATIONS) | set(OUTPUT_ACTIVATIONS) <= set(ACTIVATIONS)
