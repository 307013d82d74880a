"""A training run described as plain data: ``RunSpec``.

One small JSON-able object says everything needed to rebuild a run — the data set, the
hidden layers, the loss, the optimizer and its schedule, batch size, epochs and seed. The
presets are RunSpecs, the command line builds one from its flags, the app edits one on
its Architecture page and mirrors it in the page's link, and a saved model records the
one it was trained with. Same spec, same seed → same weights.

A RunSpec is a value: it is checked against ``schema`` when it is made, and never changed
afterwards — ``spec.replace(epochs=5)`` makes a new, checked one. So whoever holds a spec
holds a valid one, and nothing downstream has to check it again.

The output layer is not part of the spec: it follows from the data and the loss
(``output_layer``), so a spec cannot ask for 10 softmax units on a 2-class problem.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from ..activations import ACTIVATIONS
from ..layers import ActivationLayer, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Reshape
from ..network import Network
from .schema import (CONV, DEFAULT_DATA, DEFAULT_HIDDEN, DEFAULT_OPTIMIZER, DEFAULT_SCHEDULE,
                     DENSE, HIDDEN_ACTIVATIONS, LAYER, LAYER_KINDS, LIMITS, MAXPOOL, OPTIMIZER,
                     OPTIMIZERS, OUTPUT_ACTIVATIONS, RUN, SCHEDULE, SCHEDULES, RunTooLarge,
                     SpecError, SpecProblem, check_choice_settings)
from .work import layer_work


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer: ``kind`` "dense" (``units`` wide, the default), "conv" (``filters``
    filters of ``kernel``×``kernel``, ``stride`` and ``padding`` — a number or "same") or
    "maxpool" (``pool``×``pool`` windows, ``stride`` apart, default ``pool``).

    Conv and maxpool layers come first: ``build_network`` turns each flat image row into a
    (1, H, W) image in front of them (a Reshape layer) and flattens the feature maps before
    the first dense layer (or the output layer). The bounds of every field are in
    ``schema.DENSE``, ``schema.CONV`` and ``schema.MAXPOOL``.
    """
    units: int | None = DENSE["units"].default         # dense: number of units
    activation: str = DENSE["activation"].default
    dropout: float = DENSE["dropout"].default
    init: str | None = DENSE["init"].default            # None: He for ReLU-like, else Glorot
    kind: str = "dense"                                 # "dense", "conv" or "maxpool"
    filters: int | None = CONV["filters"].default       # conv: number of filters
    kernel: int = CONV["kernel"].default                # conv: kernel size k (k×k)
    stride: int | None = CONV["stride"].default         # None: 1 for conv, ``pool`` for maxpool
    padding: int | str = CONV["padding"].default        # conv: zeros around each image, or "same"
    pool: int = MAXPOOL["pool"].default                 # maxpool: window size

    @classmethod
    def from_value(cls, value, i: int) -> "LayerSpec":
        """A LayerSpec from itself or from a dict of its fields (``i`` counts from 1)."""
        if isinstance(value, LayerSpec):
            return value
        if (isinstance(value, dict) and set(value) <= set(cls.__dataclass_fields__)
                and ("units" in value or value.get("kind", "dense") != "dense")):
            return cls(**value)
        raise SpecError(f"hidden[{i - 1}]",
                        f"Hidden layer {i} must be a dict with 'units' (and optionally "
                        f"activation, dropout, init), or with 'kind' \"conv\" (filters, kernel, "
                        f"stride, padding) or \"maxpool\" (pool, stride); got {value!r}.")

    def to_dict(self) -> dict:
        """The fields that matter for this kind (a dense layer gives exactly the four
        fields specs had before conv layers existed)."""
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k in _KIND_FIELDS.get(self.kind, self.__dataclass_fields__)}

    def describe(self) -> str:
        """A short label: "256 relu", "conv 8×3×3 relu", "maxpool 2×2"."""
        if self.kind == "conv":
            extra = (f", stride {self.stride}" if self.stride not in (None, 1) else "") + \
                    (f", padding {self.padding}" if self.padding not in (0, "valid") else "")
            return f"conv {self.filters}×{self.kernel}×{self.kernel} {self.activation}{extra}"
        if self.kind == "maxpool":
            return f"maxpool {self.pool}×{self.pool}" + (
                f", stride {self.stride}" if self.stride not in (None, self.pool) else "")
        return f"{self.units} {self.activation}"

    def validate(self, i: int, after_dense: bool) -> None:
        """Check every field this kind uses against the schema (``i`` counts from 1)."""
        if self.kind not in LAYER_KINDS:
            raise SpecError(f"hidden[{i - 1}].kind", f"Hidden layer {i}: kind must be one of "
                                                     f"{', '.join(LAYER_KINDS)}, got {self.kind!r}.")
        where = f"Hidden layer {i}" if self.kind == "dense" else f"Hidden layer {i} ({self.kind})"
        if self.kind != "dense" and after_dense:
            raise SpecError(f"hidden[{i - 1}].kind",
                            f"{where} comes after a dense layer: conv and maxpool layers work "
                            "on images, so they must come before the dense layers.")
        fields = self.to_dict()
        if self.kind == "conv" and self.padding == "same" and self.kernel % 2 == 0:
            raise SpecError(f"hidden[{i - 1}].padding", f"{where}: padding \"same\" needs an "
                                                        f"odd kernel, got {self.kernel}.")
        for name, setting in LAYER[self.kind].items():
            setting.check(fields.get(name), f"hidden[{i - 1}].{name}", f"{where}: {name}", fields)


_KIND_FIELDS = {
    "dense": ("units", "activation", "dropout", "init"),
    "conv": ("kind", "filters", "kernel", "stride", "padding", "activation", "dropout", "init"),
    "maxpool": ("kind", "pool", "stride"),
}
assert all(set(LAYER[k]) <= set(_KIND_FIELDS[k]) for k in LAYER_KINDS)


def _default(name):
    return field(default=RUN[name].default)


@dataclass(frozen=True)
class RunSpec:
    """A whole run as a value, checked when it is made (see the module docstring).

    ``hidden`` may be given as LayerSpecs or as their dicts; it is kept as a tuple.
    ``data``, ``optimizer`` and ``schedule`` are small dicts (copied when the spec is made):
    ``{"name": "moons", "n_samples": 1000}``, ``{"name": "adam", "lr": 0.001}``,
    ``{"name": "cosine"}``.
    """
    data: dict = field(default_factory=lambda: dict(DEFAULT_DATA))
    hidden: tuple = field(default_factory=lambda: tuple(LayerSpec(**h) for h in DEFAULT_HIDDEN))
    loss: str = _default("loss")
    output_activation: str | None = _default("output_activation")   # None: what the loss needs
    output_init: str | None = _default("output_init")
    separate_activations: bool = _default("separate_activations")   # seed 001: Dense + ActivationLayer
    optimizer: dict = field(default_factory=lambda: dict(DEFAULT_OPTIMIZER))
    schedule: dict = field(default_factory=lambda: dict(DEFAULT_SCHEDULE))
    l2: float = _default("l2")
    batch_size: int | None = _default("batch_size")                 # None: full batch
    epochs: int = _default("epochs")
    shuffle: bool = _default("shuffle")
    seed: int = _default("seed")

    def __post_init__(self):
        if not isinstance(self.hidden, (list, tuple)):
            raise SpecError("hidden", "'hidden' must be a list of layers.")
        set_ = object.__setattr__        # frozen: the one place the fields are set
        set_(self, "hidden", tuple(LayerSpec.from_value(h, i)
                                   for i, h in enumerate(self.hidden, 1)))
        for name in ("data", "optimizer", "schedule"):
            value = getattr(self, name)
            if not isinstance(value, dict):
                raise SpecError(name, f"'{name}' must be a dict with a 'name', got {value!r}.")
            set_(self, name, dict(value))
        self.validate()

    # -------------------------------------------------------------- conversion
    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d.update(data=dict(self.data), optimizer=dict(self.optimizer),
                 schedule=dict(self.schedule), hidden=[h.to_dict() for h in self.hidden])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunSpec":
        if not isinstance(d, dict):
            raise SpecError("", f"A run spec must be a dict, got {type(d).__name__}.")
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise SpecError(sorted(unknown)[0],
                            f"Unknown run-spec fields: {', '.join(sorted(unknown))}.")
        return cls(**d)

    def replace(self, **changes) -> "RunSpec":
        """A new spec with ``changes`` (checked, as every spec is)."""
        return dataclasses.replace(self, **changes)

    # -------------------------------------------------------------- validation
    def validate(self) -> "RunSpec":
        """Check every setting against the schema; a SpecError names the first bad one."""
        if not isinstance(self.data.get("name"), str):
            raise SpecError("data.name", "'data' must be a dict with the data set's 'name'.")
        if len(self.hidden) > LIMITS["max_hidden_layers"]:
            raise SpecError("hidden", f"At most {LIMITS['max_hidden_layers']} hidden layers, "
                                      f"got {len(self.hidden)}.")
        seen_dense = False
        for i, h in enumerate(self.hidden, 1):
            h.validate(i, after_dense=seen_dense)
            seen_dense = seen_dense or h.kind == "dense"
        for name, setting in RUN.items():
            setting.check(getattr(self, name), name, name, None)
        check_choice_settings("optimizer", self.optimizer, OPTIMIZERS, OPTIMIZER, "optimizer")
        if self.optimizer.get("nesterov") and not self.optimizer.get("momentum"):
            raise SpecError("optimizer.nesterov", "Nesterov momentum needs a momentum above 0.")
        if self.optimizer["name"] == "nesterov" and self.optimizer.get("momentum") == 0:
            raise SpecError("optimizer.momentum", "Nesterov momentum needs a momentum above 0.")
        check_choice_settings("schedule", self.schedule, SCHEDULES, SCHEDULE, "schedule")
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

    def problems(self, n_classes: int) -> list[SpecProblem]:
        """What does not suit a data set with ``n_classes`` classes (empty: nothing)."""
        issues = []
        if self.loss == "binary_cross_entropy" and n_classes != 2:
            issues.append(SpecProblem("loss", "Binary cross-entropy needs exactly two classes, "
                                      f"but this data set has {n_classes}: use softmax "
                                      "cross-entropy (or squared error).", blocking=True))
        if self.loss == "softmax_cross_entropy" and self.output_activation not in (None, "softmax"):
            issues.append(SpecProblem("output_activation", "Softmax cross-entropy works on a "
                                      "softmax output layer; the output activation "
                                      f"{self.output_activation!r} is replaced by softmax.",
                                      blocking=False))
        if self.loss == "binary_cross_entropy" and self.output_activation not in (None, "sigmoid"):
            issues.append(SpecProblem("output_activation", "Binary cross-entropy works on a "
                                      "sigmoid output; the output activation "
                                      f"{self.output_activation!r} is replaced by sigmoid.",
                                      blocking=False))
        if self.loss in ("mse", "mse_sum") and self.output_activation == "softmax":
            issues.append(SpecProblem("output_activation", "Squared error on a softmax output "
                                      "learns slowly (its gradient vanishes as outputs "
                                      "saturate); prefer softmax cross-entropy.", blocking=False))
        return issues

    def blocking_problem(self, n_classes: int) -> SpecProblem | None:
        """The first problem that keeps this spec from training on the data, if any."""
        return next((p for p in self.problems(n_classes) if p.blocking), None)

    def work(self, n_train: int, n_features: int, n_classes: int, image_shape=None) -> float:
        """epochs × training samples × the work per sample: a rough size of the whole run."""
        per_sample = self.work_per_sample(n_features, n_classes, image_shape)
        return float(self.epochs) * n_train * per_sample

    def work_per_sample(self, n_features: int, n_classes: int, image_shape=None) -> int:
        """One sample's work through the network this spec builds, counted as everywhere
        (``runs.work``): parameters for a dense layer, multiply-adds for a conv layer."""
        return sum(layer_work(*layer) for layer in
                   _weighted_layers(self, n_features, n_classes, image_shape))

    # What a second of this machine's training buys (2 cores, measured with the presets):
    # dense layers ~2e10 multiply-adds per second, conv layers (im2col and pooling copies
    # around the products) ~2.5e9; a fixed cost per batch (Python, small products); and
    # element-wise work per sample and layer, which is what a narrow network on many
    # points (seed 002's clusters) spends its time on.
    DENSE_WORK_PER_SECOND = 2e10
    IMAGE_WORK_PER_SECOND = 2.5e9
    SECONDS_PER_BATCH = 5e-5
    SECONDS_PER_SAMPLE_LAYER = 7e-8

    def estimate_seconds(self, n_train: int, n_features: int, n_classes: int,
                         image_shape=None) -> float:
        """A rough estimate of the run's training seconds, from its size alone: what a
        queue needs to tell a waiting visitor how long the runs before theirs will take.
        (A scheduler corrects it with what it measures; nothing else should rely on it.)"""
        per_second = (self.IMAGE_WORK_PER_SECOND if _has_image_layers(self)
                      else self.DENSE_WORK_PER_SECOND)
        batches = self.epochs * math.ceil(n_train / (self.batch_size or n_train or 1))
        layers = len(self.hidden) + 1
        return (self.work(n_train, n_features, n_classes, image_shape) / per_second
                + batches * self.SECONDS_PER_BATCH
                + self.epochs * n_train * layers * self.SECONDS_PER_SAMPLE_LAYER)

    def check_size(self, n_features: int, n_classes: int, image_shape=None) -> None:
        """Raise RunTooLarge when the network alone is above the hosted demo's limits — its
        parameters, its multiply-adds per sample — whatever the data: check this before
        building it (``LIMITS["max_parameters"]``, ``LIMITS["max_sample_work"]``)."""
        params = count_parameters(self, n_features, n_classes, image_shape)
        if params > LIMITS["max_parameters"]:
            raise RunTooLarge(
                "hidden", f"This network is too large for the shared demo: {params:,} "
                f"parameters, above the limit of {LIMITS['max_parameters']:,}. Use fewer or "
                "smaller layers (a pooling layer before the first dense layer, say).")
        per_sample = self.work_per_sample(n_features, n_classes, image_shape)
        if per_sample > LIMITS["max_sample_work"]:
            raise RunTooLarge(
                "hidden", f"This network is too large for the shared demo: {per_sample:,} "
                f"multiply-adds per sample, above the limit of {LIMITS['max_sample_work']:.0e}. "
                "Use fewer filters, smaller kernels, or a pooling layer earlier.")

    def check_limits(self, n_train: int, n_features: int, n_classes: int,
                     image_shape=None) -> None:
        """Raise RunTooLarge when the network (``check_size``) or the run as a whole is
        above the hosted demo's limits."""
        self.check_size(n_features, n_classes, image_shape)
        work = self.work(n_train, n_features, n_classes, image_shape)
        if work > LIMITS["max_work"]:
            per_sample = self.work_per_sample(n_features, n_classes, image_shape)
            what = ("multiply-adds per sample" if _has_image_layers(self) else "parameters")
            raise RunTooLarge(
                "epochs",
                f"This run is too large for the shared demo: {self.epochs} epochs × {n_train:,} "
                f"samples × {per_sample:,} {what} "
                f"= {work:.2g}, above the limit of {LIMITS['max_work']:.0e}. Use fewer epochs, "
                "fewer samples or smaller layers."
            )


def count_parameters(spec: RunSpec, n_features: int, n_classes: int, image_shape=None) -> int:
    layers = _weighted_layers(spec, n_features, n_classes, image_shape)
    return sum(math.prod(weights) + n_biases for weights, n_biases, _ in layers)


# ------------------------------------------------------------------ conv layers in a spec
def _has_image_layers(spec: RunSpec) -> bool:
    return any(h.kind != "dense" for h in spec.hidden)


def image_shape_for(n_features: int, image_shape=None) -> tuple[int, int]:
    """(H, W) of the images a conv spec reads: the data set's ``image_shape`` when given,
    else the square of ``n_features`` pixels (784 → 28×28, 64 → 8×8)."""
    if image_shape is not None:
        H, W = (int(d) for d in image_shape)
        if H * W != n_features:
            raise ValueError(f"image_shape {tuple(image_shape)} does not hold {n_features} "
                             "features per sample.")
        return H, W
    side = math.isqrt(int(n_features))
    if side * side != n_features:
        raise ValueError(f"Conv and maxpool layers need image data, but this data set has "
                         f"{n_features} features per sample, which is not a square image. "
                         "Use dense layers only.")
    return side, side


def _conv_padding(h: LayerSpec) -> int:
    return h.kernel // 2 if h.padding == "same" else 0 if h.padding == "valid" else h.padding


def _image_layers(spec: RunSpec, n_features: int, image_shape=None) -> tuple[list, tuple]:
    """Reshape((1, H, W)) and the conv / maxpool layers a spec starts with, and the
    per-sample shape (C, H, W) of their output."""
    H, W = image_shape_for(n_features, image_shape)
    layers, shape = [Reshape((1, H, W))], (1, H, W)
    for i, h in enumerate(spec.hidden, 1):
        if h.kind == "dense":
            break
        if h.kind == "conv":
            stride, padding = h.stride or 1, _conv_padding(h)
            act = "linear" if spec.separate_activations else h.activation
            init = h.init or (_default_init(h.activation) if spec.separate_activations else None)
            new = [Conv2D(shape[0], h.filters, h.kernel, stride, padding, act, init)]
            if spec.separate_activations:
                new.append(ActivationLayer(h.activation))
        else:
            new = [MaxPool2D(h.pool, h.stride)]
        try:
            out = new[0].output_shape(shape)
        except ValueError as exc:
            raise ValueError(f"Hidden layer {i} ({h.describe()}) does not fit the "
                             f"{shape[1]}×{shape[2]} images it receives: {exc}") from None
        if out[1] < 1 or out[2] < 1:
            raise ValueError(f"Hidden layer {i} ({h.describe()}) leaves no pixels of the "
                             f"{shape[1]}×{shape[2]} images it receives.")
        layers += new
        if h.kind == "conv" and h.dropout:
            layers.append(Dropout(h.dropout))
        shape = out
    return layers, shape


def _weighted_layers(spec: RunSpec, n_features: int, n_classes: int,
                     image_shape=None) -> list[tuple[tuple, int, tuple]]:
    """(weight shape, number of biases, one sample's output shape) of every layer with
    weights a spec builds: its conv layers built (they are small), its dense layers not."""
    weighted, width = [], n_features
    if _has_image_layers(spec):
        layers, _ = _image_layers(spec, n_features, image_shape)
        shape = (n_features,)   # the layers start with Reshape: walk them from the flat input
        for layer in layers:
            out = layer.output_shape(shape)
            if isinstance(layer, Conv2D):
                weighted.append((layer.W.shape, layer.b.size, out))
            shape = out
        width = int(math.prod(shape))
    units = [h.units for h in spec.hidden if h.kind == "dense"] + [spec.output_layer(n_classes)[0]]
    for u in units:
        weighted.append(((width, u), u, (u,)))
        width = u
    return weighted


def build_network(spec: RunSpec, n_features: int, n_classes: int, image_shape=None) -> Network:
    """The Network a spec describes, for inputs of ``n_features`` and ``n_classes`` classes.

    With conv / maxpool layers the flat rows are images of ``image_shape`` (H, W) — by
    default the square of ``n_features`` — and the network starts Reshape((1, H, W)) and
    puts a Flatten before its first dense layer.
    """
    blocking = spec.blocking_problem(n_classes)
    if blocking is not None:
        raise SpecError(blocking.field, blocking.message)
    layers = []
    width = n_features
    if _has_image_layers(spec):
        layers, image = _image_layers(spec, n_features, image_shape)
        layers.append(Flatten())
        width = int(math.prod(image))
    out_units, out_act = spec.output_layer(n_classes)
    plan = [(h.units, h.activation, h.init, h.dropout) for h in spec.hidden if h.kind == "dense"]
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

__all__ = ["RunSpec", "LayerSpec", "build_network", "count_parameters", "image_shape_for",
           "SpecError", "SpecProblem", "RunTooLarge", "LIMITS"]
