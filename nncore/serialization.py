"""Save and load a network as one ``.npz`` file that never needs pickle.

Layout of the file (a zip of ``.npy`` arrays):

    model.json      a 0-d string array: {"format": "nncore-model", "version": 1,
                    "network": {layers, loss, optimizer, l2, …}, "metadata": {…}}
    layer0.W, layer0.b, layer2.W, …   float arrays, one per parameter

``save(network, path)`` writes one and ``load(path)`` reads it back.

A model file may come from anyone (the app lets visitors upload one), so ``load`` spends
nothing on it before it knows what it will cost. In this order, each step bounded by the
one before it:

1. the zip's directory and every array's ``.npy`` header — names, dtypes, shapes — are read
   without inflating any data (``nncore.archive``), within ``FILE_LIMITS``;
2. ``model.json`` is read (at most ``MAX_JSON`` characters), its nesting measured before it
   is parsed, and its layers are worked out *from the numbers in it alone*
   (``plan_parameters``): every size within the bounds of a run's spec (``runs.schema``:
   units, filters, kernels, layers, parameters, multiply-adds per sample);
3. every array's header is checked against that plan, then its data read, checked finite
   in the dtype the network computes in;
4. the metadata is checked field by field;
5. only then are the layers built and the arrays copied in.

Every refusal is a ``ModelFileError`` with one sentence saying what is wrong. Arrays are
read with pickle impossible: a member holding Python objects is refused from its header.
"""

from __future__ import annotations

import json
import math
import os
import re

import numpy as np

from .archive import ArchiveError, NpzLimits, open_npz
from .network import Network
from .runs.schema import CONV, DENSE, LIMITS, MAXPOOL

FORMAT, VERSION = "nncore-model", 1
MAX_JSON = 4_000_000            # characters of model.json (10,000 epochs of history: 1.3e6)
MAX_JSON_DEPTH = 32             # nesting of its arrays and objects (a model needs 6)
MAX_TEXT = 200                  # characters of a name in the metadata
_SIZED = ("Dense", "Conv2D", "MaxPool2D")        # the layers a spec counts as layers
_MAX_SIZED = LIMITS["max_hidden_layers"] + 1     # the hidden layers and the output layer
#: Entries of the layer list: each sized layer may bring an ActivationLayer and a Dropout;
#: a Reshape and a Flatten frame the image layers.
MAX_LAYER_ENTRIES = 3 * _MAX_SIZED + 2
_MEMBERS = 2 * _MAX_SIZED + 1                    # W and b of each, and model.json
FILE_LIMITS = NpzLimits(
    max_members=_MEMBERS,
    # float64 parameters at most, model.json as UTF-32 (NumPy's "<U"), .npy headers
    max_unpacked_bytes=8 * LIMITS["max_parameters"] + 4 * MAX_JSON + 1024 * _MEMBERS,
    max_file_bytes=8 * LIMITS["max_parameters"] + 4 * MAX_JSON + 2048 * _MEMBERS,
)


class ModelFileError(ValueError):
    """The file is not a usable nncore model; the message says what is wrong.

    A message may quote the file — a member's name, a value, the complaint of a layer it
    describes — and a file may hold millions of characters: every message is made one line
    of at most ``MAX_MESSAGE`` characters here, where all of them pass. The beginning (which
    file, what is wrong) and the end (what was expected) are kept; the middle gives way."""

    MAX_MESSAGE = 300

    def __init__(self, message: str):
        message = " ".join(str(message).splitlines())
        if len(message) > self.MAX_MESSAGE:
            head = 2 * self.MAX_MESSAGE // 3
            message = message[:head] + " … " + message[head + 3 - self.MAX_MESSAGE:]
        super().__init__(message)


def save(network, path) -> None:
    """Write ``network`` to ``path`` (".npz" is added when missing) or to a file object:
    every parameter array plus the JSON description ``load`` rebuilds it from."""
    header = {"format": FORMAT, "version": VERSION, "network": network.get_config(),
              "metadata": network.metadata}
    arrays = {"model.json": np.array(json.dumps(header, default=_json_default))}
    for name, p, _ in network.parameters():
        arrays[name] = p
    if hasattr(path, "write"):
        np.savez_compressed(path, **arrays)
        return
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:            # write then rename: no half-written model
        np.savez_compressed(fh, **arrays)
    os.replace(tmp, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ---------------------------------------------------------------------- load
def load(source, name: str | None = None):
    """Read a network written by ``save`` from a path, bytes or a file object.

    ``name`` is how error messages call the file (an upload's file name, say)."""
    if name is None:
        name = getattr(source, "name", source if isinstance(source, (str, os.PathLike)) else "upload")
    try:
        archive = open_npz(source, FILE_LIMITS)
    except FileNotFoundError:
        raise ModelFileError(f"No model file at {name}.") from None
    except OSError as exc:
        raise ModelFileError(f"{name} cannot be read ({exc.strerror or exc}).") from None
    except ArchiveError as exc:
        raise ModelFileError(_archive_sentence(name, exc)) from None
    try:
        with archive:
            return _load(archive, name)
    except ArchiveError as exc:
        raise ModelFileError(_archive_sentence(name, exc)) from None


def _archive_sentence(name, exc: ArchiveError) -> str:
    reason = exc.reason
    if reason == "empty":
        return f"{name} is empty: it is not a saved model."
    if reason == "npy":
        return f"{name} holds a single NumPy array (.npy), not an nncore model (.npz)."
    if reason == "not_zip":
        return f"{name} is not an nncore model file: it is not an .npz archive."
    if reason == "objects":
        return (f"{name} contains pickled Python objects, which are never loaded: a model "
                "file holds plain arrays only.")
    if reason in ("too_large", "too_many"):
        return f"{name} is larger than any model this app makes: {exc}."
    if reason == "not_npy":
        return f"{name} is damaged or not an nncore model: {exc}."
    return f"{name} is truncated or corrupted and cannot be read ({exc})."


def _load(archive, name):
    header = _read_header(archive, name)
    config = header.get("network")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{name}: the model description has no list of layers.")
    dtype = config.get("dtype", "float32")
    if dtype not in ("float32", "float64"):
        raise ModelFileError(f"{name}: the model's dtype must be float32 or float64, got "
                             f"{_shown(dtype)}.")
    try:
        plan = plan_parameters(config["layers"])
    except ValueError as exc:
        raise ModelFileError(f"{name}: {exc}") from None

    stored = set(archive.headers) - {"model.json"}
    unexpected = sorted(stored - set(plan), key=_natural)
    if unexpected:
        raise ModelFileError(f"{name} holds arrays the described layers do not have: "
                             f"{', '.join(unexpected[:5])}.")
    for pname, shape in plan.items():       # every header, before any data is read
        if pname not in archive:
            raise ModelFileError(f"{name} is missing the array {pname}.")
        h = archive.headers[pname]
        if h.shape != shape:
            raise ModelFileError(f"{name}: {pname} has shape {h.shape}, but the described "
                                 f"layer needs {shape}.")
        if h.dtype.kind != "f" or h.dtype.fields is not None:
            raise ModelFileError(f"{name}: {pname} holds {h.dtype} values, not floats.")
    arrays = {}
    for pname in plan:
        with np.errstate(over="ignore"):     # an overflow is what the check below reports
            arrays[pname] = archive.read(pname).astype(dtype)
        if not np.isfinite(arrays[pname]).all():
            raise ModelFileError(f"{name}: {pname} contains NaN or infinite values (in "
                                 f"{dtype}, the precision the network computes in).")
    metadata = check_metadata(header.get("metadata"), name)

    network = _network_from(config, name)
    built = {pname: p.shape for pname, p, _ in network.parameters()}
    if built != plan:        # the plan is worked out independently of the layers: compare
        raise ModelFileError(f"{name}: the described layers do not add up to the arrays "
                             "they need.")
    for pname, p, _ in network.parameters():
        p[...] = arrays[pname]
    network.metadata = metadata
    return network


def _natural(text):
    """"layer10.W" after "layer9.W"."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text, flags=re.ASCII)]


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


# ---------------------------------------------------------------------- model.json
def json_depth(text: str) -> int:
    """How deeply a JSON text nests its arrays and objects, counted without parsing it:
    ``json.loads`` recurses once per level, so ten thousand "[" would be a RecursionError
    (and a hundred thousand a crash) before any check on the parsed value could run.

    One pass, one character at a time: a bracket counts only outside strings, and inside a
    string a backslash escapes the character after it (``"\\"]"`` is one string). A string
    that never closes costs one pass too."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "[" or c == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif c == "]" or c == "}":
            depth -= 1
    return deepest


def _read_header(archive, name) -> dict:
    """model.json, bounded: its length from the .npy header, its depth before parsing."""
    if "model.json" not in archive:
        raise ModelFileError(f"{name} is an .npz file but not an nncore model: it has no "
                             "model.json entry.")
    h = archive.headers["model.json"]
    if h.dtype.kind != "U" or h.shape != () or h.dtype.itemsize > 4 * MAX_JSON:
        raise ModelFileError(f"{name}: the model.json entry is not a JSON text (of at most "
                             f"{MAX_JSON:,} characters).")
    text = str(archive.read("model.json")[()])
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ModelFileError(f"{name}: the model description nests {depth:,} levels deep; a "
                             f"model needs at most {MAX_JSON_DEPTH}.")
    try:
        header = json.loads(text)
    except ValueError as exc:     # JSONDecodeError, or an integer of over 4300 digits
        raise ModelFileError(f"{name}: the model description is not valid JSON "
                             f"({exc}).") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{name}: the model description is not a JSON object.")
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not an nncore model file (format "
                             f"{_shown(header.get('format'))}).")
    if header.get("version") != VERSION:
        raise ModelFileError(f"{name} was written by format version "
                             f"{_shown(header.get('version'))}; this version reads {VERSION}.")
    return header


# ---------------------------------------------------------------------- the layers, as numbers
def plan_parameters(layers: list) -> dict[str, tuple]:
    """The parameter arrays a model's layer list describes — "layer0.W" → shape — worked
    out from the numbers in it alone, nothing built, and checked against the bounds of a
    run (``runs.schema``): units, filters, kernels, strides, pools, how many layers, and in
    all the parameters and the multiply-adds per sample. A ValueError says what is over."""
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
            parameters += n_in * n_out + n_out
            work += n_in * n_out
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
            parameters += F * c_in * kh * kw + F
            work += F * c_in * kh * kw * OH * OW
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
                    or not all(_is_whole(d) and d >= 1 for d in target)):
                raise ValueError(f"{where}: target_shape must be one to three whole numbers "
                                 f"≥ 1, got {_shown(target)}.")
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
            raise ValueError(f"Unknown layer description {_shown(layer)}: expected a type "
                             "among Dense, ActivationLayer, Dropout, Conv2D, MaxPool2D, "
                             "Flatten, Reshape.")
        sized += kind in _SIZED
    if sized > _MAX_SIZED:
        raise ValueError(f"the model has {sized} layers; a run has at most "
                         f"{LIMITS['max_hidden_layers']} hidden layers and an output layer.")
    if parameters > LIMITS["max_parameters"]:
        raise ValueError(f"the model has {parameters:,} parameters, above the limit of "
                         f"{LIMITS['max_parameters']:,}.")
    if work > LIMITS["max_sample_work"]:
        raise ValueError(f"the model needs {work:,} multiply-adds per sample, above the "
                         f"limit of {LIMITS['max_sample_work']:.0e}.")
    return plan


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(layer, key, where, low, high, default=None, none_is_default=False) -> int:
    value = layer.get(key, default)
    if value is None and none_is_default:
        value = default
    if not _is_whole(value) or not low <= value <= high:
        raise ValueError(f"{where}: {key} must be a whole number from {low} to {high}, "
                         f"got {_shown(value)}.")
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


# ---------------------------------------------------------------------- metadata
def check_metadata(metadata, name) -> dict:
    """The metadata of a model file, checked: what the app and the command line read from
    it has the type they read it as (a data set's name is text, its class names a list of
    texts, its recorded run a valid RunSpec). Other keys are kept as they are."""
    from .runs.spec import RunSpec     # (runs imports the network, as this module does)

    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{name}: the model's metadata is not a JSON object.")
    # A key the app reads must hold what it reads, when present (null included: the app
    # reads metadata["dataset"]["name"] as it would a file of its own).
    if "dataset" in metadata:
        _check_fields(metadata["dataset"], name, "dataset", {
            "name": _text, "description": lambda v: isinstance(v, str),
            "n_features": _count, "n_classes": _count,
            "class_names": lambda v: isinstance(v, list) and all(_text(c) for c in v),
            "image_shape": lambda v: v is None or (isinstance(v, list) and len(v) == 2
                                                   and all(_count(d) for d in v))})
    if metadata.get("preset") is not None and not _text(metadata["preset"]):
        raise ModelFileError(f"{name}: the metadata's preset is not a name.")
    history = metadata.get("history", {})
    if not (isinstance(history, dict) and all(
            v is None or isinstance(v, str) or (isinstance(v, list) and all(
                v_ is None or isinstance(v_, (int, float)) for v_ in v))
            for v in history.values())):
        raise ModelFileError(f"{name}: the metadata's history is not a record of numbers "
                             "per epoch.")
    if "spec" in metadata:
        try:
            RunSpec.from_dict(metadata["spec"])
        except (ValueError, TypeError) as exc:
            raise ModelFileError(f"{name}: the run recorded in the metadata is not a valid "
                                 f"run spec ({exc}).") from None
    return metadata


def _text(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT and value.isprintable()


def _count(value) -> bool:
    return _is_whole(value) and value >= 1


def _check_fields(value, name, entry, checks) -> None:
    if not isinstance(value, dict):
        raise ModelFileError(f"{name}: the metadata's {entry} entry is not a JSON object.")
    for key, ok in checks.items():
        if key in value and not ok(value[key]):
            raise ModelFileError(f"{name}: the metadata's {entry} {key} is "
                                 f"{_shown(value[key])}, not what a model file records.")


def _network_from(config, name):
    """``Network.from_config``, with its complaints worded as a model file's."""
    try:
        return Network.from_config(config)
    except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"{name}: the model description is invalid: {exc}") from None
