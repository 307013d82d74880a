"""What an exported script computes, read off a network and its run — or refused.

The exporter writes code for the network a run *is*, not for a general engine: a few lines
per layer, with the sizes written in. ``plan_spec`` (a RunSpec, built into its Network) and
``plan_model`` (a saved model and the run it records) give a ``Plan``: the numbered stages
of the forward pass and the run's settings. Anything the script could not say is an
``ExportError`` whose message is a sentence, raised before anything is written.

Stages are numbered as the script names its arrays: stage k computes a_k from a_{k−1}, and
a dense or conv stage k owns the parameters W_k and b_k. A max-pooling layer is a stage of
its own (it has no parameters, so there is no W_2 after a pooling stage 2). An activation
kept as a layer of its own (seed 001's ``ActivationLayer``) belongs to the stage before it,
and so does a Dropout layer: the numbers are the same as the lab's either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..layers import ActivationLayer, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Reshape
from ..optimizers import get_optimizer
from ..runs.schema import SpecError
from ..runs.spec import RunSpec, build_network
from ..schedules import get_schedule
from ..training import TrainingError
from .data_code import data_settings


class ExportError(ValueError):
    """The run cannot be written as a script; the message says why, in a sentence."""


@dataclass(frozen=True)
class Stage:
    """Stage k of the forward pass: a dense layer, a convolution or a max-pooling."""

    k: int
    kind: str                       # "dense", "conv" or "pool"
    in_shape: tuple                 # one sample's input: (n,) or (C, H, W)
    out_shape: tuple                # one sample's output
    activation: str = "linear"      # dense and conv: σ
    init: str | None = None         # dense and conv: how W_k and b_k are drawn
    size: int = 0                   # pool: the window p; conv: the kernel k
    stride: int = 1
    padding: int = 0
    dropout: float = 0.0            # the rate of the dropout applied to a_k while training
    flatten: bool = False           # dense after images: its input is flattened first
    keys: tuple = ()                # the model file's names of W_k and b_k

    @property
    def weighted(self) -> bool:
        return self.kind in ("dense", "conv")


@dataclass(frozen=True)
class Plan:
    """Everything the script is written from."""

    title: str
    stages: tuple
    image: tuple | None             # (C, H, W) the flat input rows become, or None
    loss: str
    optimizer: dict                 # the optimizer's whole config: name, lr and settings
    schedule: dict                  # the schedule's whole config
    l2: float
    batch_size: int | None          # None: full batch
    epochs: int
    shuffle: bool
    seed: int
    data: dict                      # the data set's name and every parameter
    n_outputs: int
    model_file: str | None = None   # a trained model's .npz: the starting weights

    @property
    def weighted(self) -> list[Stage]:
        return [s for s in self.stages if s.weighted]

    @property
    def output(self) -> Stage:
        return self.stages[-1]


def plan_spec(spec: RunSpec, title: str | None = None) -> Plan:
    """The plan of a run from scratch: the spec's network, drawn from its seed."""
    data, n_features, n_classes, image_shape = data_settings(spec.data)
    try:
        network = build_network(spec, n_features, n_classes, image_shape)
    except (SpecError, ValueError) as exc:
        raise ExportError(str(exc)) from None
    return _plan(network, spec, data, title or describe(spec, data), None)


def plan_model(network, model_file: str, title: str | None = None) -> Plan:
    """The plan of a saved model trained further, as the lab's "Continue training the current
    model" does: its weights to start from, the optimizer and L2 of the run it records."""
    recorded = network.metadata.get("spec") if isinstance(network.metadata, dict) else None
    if not recorded:
        raise ExportError(f"{model_file} does not record the run it was trained with (its "
                          "data set and settings), so there is nothing to write a script for.")
    try:
        spec = RunSpec.from_dict(recorded)
    except (SpecError, ValueError, TypeError) as exc:
        raise ExportError(f"{model_file} records a run this version cannot read: {exc}") from None
    data, n_features, n_classes, _ = data_settings(spec.data)
    if network.n_inputs != n_features:
        raise ExportError(f"{model_file} takes {network.n_inputs} inputs, but its data set "
                          f"{data['name']} has {n_features} features per sample.")
    outputs = network.n_outputs     # one per class, or one sigmoid unit for two classes
    if not (outputs == n_classes or (outputs == 1 and n_classes == 2)):
        raise ExportError(f"{model_file} has {outputs} outputs, but its data set "
                          f"{data['name']} has {n_classes} classes.")
    return _plan(network, spec, data, title or f"The model in {model_file}, trained further",
                 model_file)


def describe(spec: RunSpec, data: dict) -> str:
    """A title for a spec that is not a preset: "moons: 16 relu, binary_cross_entropy, sgd"."""
    layers = ", ".join(h.describe() for h in spec.hidden) or "no hidden layer"
    return f"{data['name']}: {layers}; {spec.loss}, {spec.optimizer['name']}"


# ---------------------------------------------------------------------- reading the network
def _plan(network, spec: RunSpec, data: dict, title: str, model_file: str | None) -> Plan:
    if network.dtype.name != "float32":
        raise ExportError(f"The network computes in {network.dtype.name}; the exporter writes "
                          "float32 scripts, as the lab trains.")
    try:
        network._check_ready()
    except TrainingError as exc:
        raise ExportError(str(exc)) from None
    image, stages = _stages(network.layers)
    if not stages or stages[-1].kind != "dense":
        raise ExportError("The network does not end in a dense layer, so the exporter cannot "
                          "write its output.")
    if stages[-1].dropout:
        raise ExportError("The network applies dropout to its output, which the exporter "
                          "does not write.")
    try:
        optimizer = get_optimizer(dict(spec.optimizer)).get_config()
        schedule = get_schedule(spec.schedule).get_config()
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    return Plan(title=title, stages=tuple(stages), image=image, loss=network.loss.name,
                optimizer=optimizer, schedule=schedule, l2=float(spec.l2),
                batch_size=spec.batch_size, epochs=spec.epochs, shuffle=spec.shuffle,
                seed=spec.seed, data=data, n_outputs=network.n_outputs, model_file=model_file)


def _stages(layers) -> tuple[tuple | None, list[Stage]]:
    """(C, H, W) of the input images (or None) and the stages, from the network's layers."""
    image, shape, stages, flatten = None, None, [], False
    for i, layer in enumerate(layers):
        name = type(layer).__name__
        if isinstance(layer, Reshape):
            if i > 0 or len(layer.target_shape) != 3:
                raise ExportError("The exporter writes a Reshape only as the first layer, "
                                  "turning flat rows into (C, H, W) images.")
            image = shape = layer.target_shape
        elif isinstance(layer, (Dense, Conv2D, MaxPool2D)):
            stages.append(_stage(layer, i, len(stages) + 1, shape, flatten))
            shape, flatten = stages[-1].out_shape, False
        elif isinstance(layer, ActivationLayer):
            last = stages[-1] if stages else None
            if last is None or not last.weighted or last.activation != "linear" or last.dropout:
                raise ExportError(f"Layer {i} ({name}) does not follow a linear Dense or Conv2D "
                                  "layer, which is the only place the exporter writes an "
                                  "activation layer.")
            stages[-1] = _replace(last, activation=layer.activation.name)
        elif isinstance(layer, Dropout):
            if not stages or stages[-1].dropout:
                raise ExportError(f"Layer {i} (Dropout) does not follow a layer the exporter "
                                  "writes dropout after.")
            if layer.rate:
                stages[-1] = _replace(stages[-1], dropout=layer.rate)
        elif isinstance(layer, Flatten):
            if shape is None or len(shape) != 3:
                raise ExportError(f"Layer {i} (Flatten) does not follow image layers.")
            flatten = True
        else:
            raise ExportError(f"Layer {i} is a {name}, which the exporter cannot write.")
    return image, stages


def _stage(layer, i: int, k: int, shape, flatten: bool) -> Stage:
    if shape is None:                      # the first layer fixes the input size
        shape = (layer.in_features,) if isinstance(layer, Dense) else None
        if shape is None:
            raise ExportError(f"Layer {i} ({type(layer).__name__}) needs images, but the "
                              "network does not start by reshaping its flat inputs.")
    if flatten:
        shape = (int(shape[0] * shape[1] * shape[2]),)
    out = layer.output_shape(shape)
    keys = (f"layer{i}.W", f"layer{i}.b")
    if isinstance(layer, Dense):
        return Stage(k, "dense", shape, out, layer.activation.name, layer.init, flatten=flatten,
                     keys=keys)
    if isinstance(layer, Conv2D):
        if layer.kh != layer.kw:
            raise ExportError(f"Layer {i} (Conv2D) has a {layer.kh}×{layer.kw} kernel; the "
                              "exporter writes square kernels only, as the lab builds them.")
        return Stage(k, "conv", shape, out, layer.activation.name, layer.init, size=layer.kh,
                     stride=layer.stride, padding=layer.padding, keys=keys)
    return Stage(k, "pool", shape, out, size=layer.pool_size, stride=layer.stride)


def _replace(stage: Stage, **changes) -> Stage:
    return Stage(**{**stage.__dict__, **changes})


__all__ = ["ExportError", "Plan", "Stage", "plan_spec", "plan_model", "describe"]
