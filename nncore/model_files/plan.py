"""The layers of a model file, worked out from the numbers in its description alone.

``plan_model(layers)`` reads the layer list of model.json — the dicts ``get_config``
writes — and says which parameter arrays it needs and of which shapes, building nothing.
Every size is held to the bounds of a run's spec (``runs.schema``: units, filters,
kernels, strides, pools, how many layers, parameters, work per sample), so a file
cannot describe a network the app would not let a visitor train.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..runs.schema import CONV, DENSE, LIMITS, MAXPOOL
from ..runs.work import layer_work
from .errors import shown

_SIZED = ("Dense", "Conv2D", "MaxPool2D")        # the layers a spec counts as layers
MAX_SIZED_LAYERS = LIMITS["max_hidden_layers"] + 1   # the hidden layers and the output layer
#: Entries of the layer list: each sized layer may bring an ActivationLayer and a Dropout;
#: a Reshape and a Flatten frame the image layers.
MAX_LAYER_ENTRIES = 3 * MAX_SIZED_LAYERS + 2


@dataclass(frozen=True)
class ModelPlan:
    """What a layer list describes: its parameter arrays ("layer0.W" → shape), how many
    numbers they hold, and one sample's work through them (``runs.work``)."""

    shapes: dict[str, tuple]
    parameters: int
    work_per_sample: int


def plan_model(layers: list) -> ModelPlan:
    """The parameter arrays a model's layer list describes, worked out from the numbers in
    it alone, nothing built, and checked against the bounds of a run (``runs.schema``):
    units, filters, kernels, strides, pools, how many layers, and in all the parameters and
    the work per sample. A ValueError says what is over."""
    if len(layers) > MAX_LAYER_ENTRIES:
        raise ValueError(f"the model has {len(layers)} layer entries; a model of at most "
                         f"{LIMITS['max_hidden_layers']} hidden layers has at most "
                         f"{MAX_LAYER_ENTRIES}.")
    plan: dict[str, tuple] = {}
    shape = None             # one sample's shape, once a layer fixes it
    sized = parameters = work = 0
    for i, layer in enumerate(layers):
        kind = layer.get("type") if isinstance(layer, dict) else None
        where = f"layer {i} ({kind})"
        if kind == "Dense":
            # the first layer's inputs are bounded; a later one's must match the one before
            n_in = _whole(layer, "in_features", where, 1,
                          LIMITS["max_features"] if shape is None else 2 ** 63)
            n_out = _whole(layer, "out_features", where, 1, DENSE["units"].high)
            if shape is not None and shape != (n_in,):
                raise ValueError(f"{where} takes {n_in} inputs, but the layer before it gives "
                                 f"{_shape_text(shape)}.")
            plan[f"layer{i}.W"], plan[f"layer{i}.b"] = (n_in, n_out), (n_out,)
            shape = (n_out,)
        elif kind == "Conv2D":
            C, H, W = _image(shape, where)
            c_in = _whole(layer, "in_channels", where, 1, CONV["filters"].high)
            if c_in != C:
                raise ValueError(f"{where} expects {c_in} input channels, got {C} from the "
                                 "layer before it.")
            F = _whole(layer, "out_channels", where, 1, CONV["filters"].high)
            kh, kw = _kernel(layer, where)
            stride = _whole(layer, "stride", where, 1, CONV["stride"].high, default=1)
            padding = layer.get("padding", 0)
            if padding in ("same", "valid"):
                padding = kh // 2 if padding == "same" else 0
            else:
                padding = _whole(layer, "padding", where, 0, max(kh, kw) - 1, default=0)
            OH, OW = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
            if OH < 1 or OW < 1:
                raise ValueError(f"{where}: its {kh}×{kw} filters do not fit the {H}×{W} maps "
                                 "it receives.")
            plan[f"layer{i}.W"], plan[f"layer{i}.b"] = (F, c_in, kh, kw), (F,)
            shape = (F, OH, OW)
        elif kind == "MaxPool2D":
            C, H, W = _image(shape, where)
            pool = _whole(layer, "pool_size", where, 1, MAXPOOL["pool"].high, default=2)
            stride = _whole(layer, "stride", where, 1, pool, default=pool, none_is_default=True)
            if pool > H or pool > W:
                raise ValueError(f"{where}: its {pool}×{pool} window is larger than the "
                                 f"{H}×{W} maps it pools.")
            shape = (C, (H - pool) // stride + 1, (W - pool) // stride + 1)
        elif kind == "Reshape":
            target = layer.get("target_shape")
            if (not isinstance(target, list) or not 1 <= len(target) <= 3
                    or not all(is_whole(d) and d >= 1 for d in target)):
                raise ValueError(f"{where}: target_shape must be one to three whole numbers "
                                 f"≥ 1, got {shown(target)}.")
            width = math.prod(target)
            if shape is None and width > LIMITS["max_features"]:
                raise ValueError(f"{where}: target_shape {_shape_text(target)} asks for "
                                 f"{width:,} inputs, above the limit of "
                                 f"{LIMITS['max_features']:,}.")
            if shape is not None and width != math.prod(shape):
                raise ValueError(f"{where}: target_shape {_shape_text(target)} does not hold "
                                 f"the {_shape_text(shape)} values the layer before it gives.")
            shape = tuple(target)
        elif kind == "Flatten":
            if shape is None:
                raise ValueError(f"{where} comes first, so nothing fixes the input size.")
            shape = (math.prod(shape),)
        elif kind not in ("ActivationLayer", "Dropout"):
            raise ValueError(f"Unknown layer description {shown(layer)}: expected a type "
                             "among Dense, ActivationLayer, Dropout, Conv2D, MaxPool2D, "
                             "Flatten, Reshape.")
        if kind in ("Dense", "Conv2D"):
            weights, biases = plan[f"layer{i}.W"], plan[f"layer{i}.b"]
            parameters += math.prod(weights) + math.prod(biases)
            work += layer_work(weights, math.prod(biases), shape)
        sized += kind in _SIZED
    if sized > MAX_SIZED_LAYERS:
        raise ValueError(f"the model has {sized} layers; a run has at most "
                         f"{LIMITS['max_hidden_layers']} hidden layers and an output layer.")
    if parameters > LIMITS["max_parameters"]:
        raise ValueError(f"the model has {parameters:,} parameters, above the limit of "
                         f"{LIMITS['max_parameters']:,}.")
    if work > LIMITS["max_sample_work"]:
        raise ValueError(f"the model needs {work:,} multiply-adds per sample, above the "
                         f"limit of {LIMITS['max_sample_work']:.0e}.")
    return ModelPlan(plan, parameters, work)


def is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(layer, key, where, low, high, default=None, none_is_default=False) -> int:
    value = layer.get(key, default)
    if value is None and none_is_default:
        value = default
    if not is_whole(value) or not low <= value <= high:
        raise ValueError(f"{where}: {key} must be a whole number from {low} to {high}, "
                         f"got {shown(value)}.")
    return value


def _kernel(layer, where) -> tuple[int, int]:
    kernel = layer.get("kernel_size", 3)
    high = CONV["kernel"].high
    if isinstance(kernel, list) and len(kernel) == 2:
        return (_whole({"k": kernel[0]}, "k", f"{where} kernel_size", 1, high),
                _whole({"k": kernel[1]}, "k", f"{where} kernel_size", 1, high))
    k = _whole({"kernel_size": kernel}, "kernel_size", where, 1, high)
    return k, k


def _image(shape, where) -> tuple[int, int, int]:
    if shape is None or len(shape) != 3:
        raise ValueError(f"{where} needs images (channels, height, width) from the layer "
                         f"before it, got {_shape_text(shape) if shape else 'nothing'}.")
    return shape


def _shape_text(shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "nothing"
