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
2. ``model.json`` is read, its length and nesting bounded before it is parsed
   (``model_files.description``), and its layers are worked out *from the numbers in it
   alone* (``model_files.plan``): every size within the bounds of a run's spec;
3. every array's header is checked against that plan, then its data read, checked finite
   in the dtype the network computes in;
4. the metadata is checked field by field (``model_files.metadata``);
5. only then are the layers built and the arrays copied in.

Every refusal is a ``ModelFileError`` (``model_files.errors``) with one sentence saying
what is wrong. Arrays are read with pickle impossible: a member holding Python objects is
refused from its header.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np

from .archive import ArchiveError, NpzLimits, open_npz
from .model_files.description import FORMAT, MAX_JSON, VERSION, read_description
from .model_files.errors import ModelFileError, shown
from .model_files.metadata import check_metadata
from .model_files.plan import MAX_SIZED_LAYERS, plan_model
from .network import Network
from .runs.schema import LIMITS

_MEMBERS = 2 * MAX_SIZED_LAYERS + 1              # W and b of each, and model.json
FILE_LIMITS = NpzLimits(
    max_members=_MEMBERS,
    # float64 parameters at most, model.json as UTF-32 (NumPy's "<U"), .npy headers
    max_unpacked_bytes=8 * LIMITS["max_parameters"] + 4 * MAX_JSON + 1024 * _MEMBERS,
    max_file_bytes=8 * LIMITS["max_parameters"] + 4 * MAX_JSON + 2048 * _MEMBERS,
)


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
    header = read_description(archive, name)
    config = header.get("network")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{name}: the model description has no list of layers.")
    dtype = config.get("dtype", "float32")
    if dtype not in ("float32", "float64"):
        raise ModelFileError(f"{name}: the model's dtype must be float32 or float64, got "
                             f"{shown(dtype)}.")
    try:
        plan = plan_model(config["layers"]).shapes
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


def _network_from(config, name):
    """``Network.from_config``, with its complaints worded as a model file's."""
    try:
        return Network.from_config(config)
    except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"{name}: the model description is invalid: {exc}") from None


__all__ = ["save", "load", "ModelFileError", "FILE_LIMITS", "FORMAT", "VERSION"]
