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

from ..activations import ACTIVATIONS
from ..initializers import INITIALIZERS
from ..layers import ActivationLayer, Dense, Dropout
from ..layers import Conv2D, Flatten, MaxPool2D, Reshape
from ..losses import LOSSES
from ..network import Network

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
# Convolutional layers (LayerSpec kind "conv" / "maxpool"); their work counts multiply-adds.
LIMITS.update({"max_filters": 128, "max_kernel": 9, "max_stride": 4, "max_pool": 8})
LAYER_KINDS = ("dense", "conv", "maxpool")

HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "tanh", "linear")


@dataclass
class LayerSpec:
    """One hidden layer: ``kind`` "dense" (``units`` wide, the default), "conv" (``filters``
    filters of ``kernel``×``kernel``, ``stride`` and ``padding`` — a number or "same") or
    "maxpool" (``pool``×``pool`` windows, ``stride`` apart, default ``pool``).

    Conv and maxpool layers come first: ``build_network`` turns each flat image row into a
    (1, H, W) image in front of them (a Reshape layer) and flattens the feature maps before
    the first dense layer (or the output layer).
    """
    units: int | None = None         # dense: number of units
    activation: str = "relu"
    dropout: float = 0.0
    init: str | None = None          # None: He for ReLU-like layers, Glorot otherwise
    kind: str = "dense"              # "dense", "conv" or "maxpool"
    filters: int | None = None       # conv: number of filters (output channels)
    kernel: int = 3                  # conv: kernel size k (k×k)
    stride: int | None = None        # None: 1 for conv, ``pool`` for maxpool
    padding: int | str = 0           # conv: zeros around each image, or "same"
    pool: int = 2                    # maxpool: window size

    def to_dict(self) -> dict:
        """The fields that matter for this kind (a dense layer gives exactly the four
        fields specs had before conv layers existed)."""
        return {k: v for k, v in asdict(self).items()
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


_KIND_FIELDS = {
    "dense": ("units", "activation", "dropout", "init"),
    "conv": ("kind", "filters", "kernel", "stride", "padding", "activation", "dropout", "init"),
    "maxpool": ("kind", "pool", "stride"),
}


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
        d = copy.deepcopy(asdict(self))
        d["hidden"] = [h.to_dict() for h in self.hidden]
        return d

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
            elif (isinstance(h, dict) and set(h) <= set(LayerSpec.__dataclass_fields__)
                  and ("units" in h or h.get("kind", "dense") != "dense")):
                layers.append(LayerSpec(**h))
            else:
                raise ValueError(f"Hidden layer {i + 1} must be a dict with 'units' (and "
                                 f"optionally activation, dropout, init), or with 'kind' "
                                 f"\"conv\" (filters, kernel, stride, padding) or \"maxpool\" "
                                 f"(pool, stride); got {h!r}.")
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
        seen_dense = False
        for i, h in enumerate(self.hidden, 1):
            if h.kind != "dense":
                _check_image_layer(i, h, after_dense=seen_dense)
                continue
            seen_dense = True
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
        from ..optimizers import get_optimizer
        from ..schedules import get_schedule
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

    def work(self, n_train: int, n_features: int, n_classes: int, image_shape=None) -> float:
        """epochs × training samples × parameters: a rough size of the whole run. (With conv
        layers, whose few weights are used at every pixel, multiply-adds per sample instead.)"""
        per_sample = _work_per_sample(self, n_features, n_classes, image_shape)
        return float(self.epochs) * n_train * per_sample

    def check_limits(self, n_train: int, n_features: int, n_classes: int,
                     image_shape=None) -> None:
        work = self.work(n_train, n_features, n_classes, image_shape)
        if work > LIMITS["max_work"]:
            per_sample = _work_per_sample(self, n_features, n_classes, image_shape)
            what = ("multiply-adds per sample" if _has_image_layers(self) else "parameters")
            raise ValueError(
                f"This run is too large for the shared demo: {self.epochs} epochs × {n_train:,} "
                f"samples × {per_sample:,} {what} "
                f"= {work:.2g}, above the limit of {LIMITS['max_work']:.0e}. Use fewer epochs, "
                "fewer samples or smaller layers."
            )


def count_parameters(spec: RunSpec, n_features: int, n_classes: int, image_shape=None) -> int:
    if _has_image_layers(spec):
        return sum(p for p, _ in _layer_costs(spec, n_features, n_classes, image_shape))
    sizes = [n_features] + [h.units for h in spec.hidden] + [spec.output_layer(n_classes)[0]]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


# ------------------------------------------------------------------ conv layers in a spec
def _has_image_layers(spec: RunSpec) -> bool:
    return any(h.kind != "dense" for h in spec.hidden)


def _check_image_layer(i: int, h: LayerSpec, after_dense: bool) -> None:
    """Validate hidden layer ``i`` of kind "conv" or "maxpool" (ValueError naming the field)."""
    def whole(label, value, lo, hi):
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"Hidden layer {i} ({h.kind}): {label} must be a whole number "
                             f"from {lo} to {hi}, got {value!r}.")

    if h.kind not in LAYER_KINDS:
        raise ValueError(f"Hidden layer {i}: kind must be one of {', '.join(LAYER_KINDS)}, "
                         f"got {h.kind!r}.")
    if after_dense:
        raise ValueError(f"Hidden layer {i} ({h.kind}) comes after a dense layer: conv and "
                         "maxpool layers work on images, so they must come before the dense "
                         "layers.")
    if h.kind == "maxpool":
        whole("pool", h.pool, 1, LIMITS["max_pool"])
        if h.stride is not None:
            whole("stride", h.stride, 1, h.pool)
        return
    whole("filters", h.filters, 1, LIMITS["max_filters"])
    whole("kernel", h.kernel, 1, LIMITS["max_kernel"])
    if h.stride is not None:
        whole("stride", h.stride, 1, LIMITS["max_stride"])
    if h.padding == "same":
        if h.kernel % 2 == 0:
            raise ValueError(f"Hidden layer {i} (conv): padding \"same\" needs an odd kernel, "
                             f"got {h.kernel}.")
    elif h.padding != "valid":
        whole("padding (or \"same\")", h.padding, 0, max(h.kernel - 1, 0))
    if h.activation not in HIDDEN_ACTIVATIONS:
        raise ValueError(f"Hidden layer {i} (conv): activation must be one of "
                         f"{', '.join(HIDDEN_ACTIVATIONS)}, got {h.activation!r}.")
    if not isinstance(h.dropout, (int, float)) or not 0 <= h.dropout <= 0.9:
        raise ValueError(f"Hidden layer {i} (conv): dropout must be from 0 to 0.9, got "
                         f"{h.dropout!r}.")
    if h.init is not None and h.init not in INITIALIZERS:
        raise ValueError(f"Hidden layer {i} (conv): init must be one of "
                         f"{', '.join(INITIALIZERS)}, got {h.init!r}.")


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


def _layer_costs(spec: RunSpec, n_features: int, n_classes: int,
                 image_shape=None) -> list[tuple[int, int]]:
    """(parameters, multiply-adds per sample) of every parametric layer a spec builds."""
    costs = []
    layers, _ = _image_layers(spec, n_features, image_shape)
    shape = (n_features,)   # the layers start with Reshape: walk them from the flat input
    for layer in layers:
        if isinstance(layer, Conv2D):
            out = layer.output_shape(shape)
            n = layer.W.size + layer.b.size
            costs.append((n, layer.W.size * out[1] * out[2]))
            shape = out
        else:
            shape = layer.output_shape(shape)
    width = int(math.prod(shape))
    units = [h.units for h in spec.hidden if h.kind == "dense"] + [spec.output_layer(n_classes)[0]]
    for u in units:
        costs.append((width * u + u, width * u))
        width = u
    return costs


def _work_per_sample(spec: RunSpec, n_features: int, n_classes: int, image_shape=None) -> int:
    """Parameters for dense-only specs; multiply-adds (or parameters, if more) with conv."""
    if not _has_image_layers(spec):
        return count_parameters(spec, n_features, n_classes)
    return sum(max(p, macs) for p, macs in _layer_costs(spec, n_features, n_classes, image_shape))


def build_network(spec: RunSpec, n_features: int, n_classes: int, image_shape=None) -> Network:
    """The Network a spec describes, for inputs of ``n_features`` and ``n_classes`` classes.

    With conv / maxpool layers the flat rows are images of ``image_shape`` (H, W) — by
    default the square of ``n_features`` — and the network starts Reshape((1, H, W)) and
    puts a Flatten before its first dense layer.
    """
    spec.validate()
    problems = [p for p in spec.problems(n_classes) if "needs exactly" in p]
    if problems:
        raise ValueError(problems[0])
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
