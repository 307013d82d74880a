"""Save and load a network as one ``.npz`` file that never needs pickle.

Layout of the file (a zip of ``.npy`` arrays):

    model.json      a 0-d string array: {"format": "nncore-model", "version": 1,
                    "network": {layers, loss, optimizer, l2, …}, "metadata": {…}}
    layer0.W, layer0.b, layer2.W, …   float arrays, one per parameter

``save(network, path)`` writes one and ``load(path)`` reads it back. Loading reads with
``allow_pickle=False`` — a file smuggling Python objects is refused, not executed —
rebuilds the layers from the JSON (``Network.from_config``), and checks every array's
name, shape, dtype and finiteness against what those layers expect before using any of it.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib

import numpy as np

from .network import Network

FORMAT, VERSION = "nncore-model", 1
MAX_JSON = 1_000_000


class ModelFileError(ValueError):
    """The file is not a usable nncore model; the message says what is wrong."""


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


def load(source, name: str | None = None):
    """Read a network written by ``save`` from a path, bytes or a file object.

    ``name`` is how error messages call the file (an upload's file name, say)."""
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ModelFileError(f"{name or 'The file'} is empty: it is not a saved model.")
        source = io.BytesIO(source)
    if name is None:
        name = getattr(source, "name", source if isinstance(source, (str, os.PathLike)) else "upload")
    corrupted = (zipfile.BadZipFile, OSError, EOFError, KeyError, zlib.error)
    try:
        loaded = np.load(source, allow_pickle=False)
    except FileNotFoundError:
        raise ModelFileError(f"No model file at {name}.") from None
    except ValueError:
        # neither a zip (.npz) nor an .npy: NumPy would only try pickle, which is refused
        raise ModelFileError(f"{name} is not an nncore model file: it is not an .npz "
                             "archive.") from None
    except corrupted as exc:
        raise ModelFileError(f"{name} is truncated or corrupted and cannot be read ({exc}).") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{name} holds a single NumPy array (.npy), not an nncore model "
                             "(.npz).")
    try:
        with loaded as data:
            files = {k: data[k] for k in data.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object arrays" in str(exc).lower():
            raise ModelFileError(f"{name} contains pickled Python objects, which are never "
                                 "loaded: a model file holds plain arrays only.") from None
        raise ModelFileError(f"{name} is not an nncore model (.npz): {exc}") from None
    except corrupted as exc:
        raise ModelFileError(f"{name} is truncated or corrupted and cannot be read ({exc}).") from None
    not_arrays = sorted(k for k, v in files.items() if not isinstance(v, np.ndarray))
    if not_arrays:   # NpzFile hands back the raw bytes of a member that is not an .npy
        raise ModelFileError(f"{name} is damaged or not an nncore model: its entry "
                             f"{not_arrays[0]!r} is not a NumPy array.")

    if "model.json" not in files:
        raise ModelFileError(f"{name} is an .npz file but not an nncore model: it has no "
                             "model.json entry.")
    raw = files.pop("model.json")
    if raw.dtype.kind != "U" or raw.shape != () or len(str(raw)) > MAX_JSON:
        raise ModelFileError(f"{name}: the model.json entry is not a JSON text.")
    try:
        header = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{name}: the model description is not valid JSON ({exc}).") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{name}: the model description is not a JSON object.")
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not an nncore model file (format {header.get('format')!r}).")
    if header.get("version") != VERSION:
        raise ModelFileError(f"{name} was written by format version {header.get('version')!r}; "
                             f"this version reads {VERSION}.")

    network = _network_from(header.get("network"))
    expected = network.parameters()
    names = {n for n, _, _ in expected}
    unexpected = sorted(set(files) - names)
    if unexpected:
        raise ModelFileError(f"{name} holds arrays the described layers do not have: "
                             f"{', '.join(unexpected[:5])}.")
    for pname, p, _ in expected:
        if pname not in files:
            raise ModelFileError(f"{name} is missing the array {pname}.")
        arr = files[pname]
        if arr.shape != p.shape:
            raise ModelFileError(f"{name}: {pname} has shape {arr.shape}, but the described "
                                 f"layer needs {p.shape}.")
        if arr.dtype.kind != "f":
            raise ModelFileError(f"{name}: {pname} holds {arr.dtype} values, not floats.")
        if not np.isfinite(arr).all():
            raise ModelFileError(f"{name}: {pname} contains NaN or infinite values.")
        p[...] = arr
    metadata = header.get("metadata") or {}
    network.metadata = metadata if isinstance(metadata, dict) else {}
    return network


def _network_from(config):
    """``Network.from_config``, with its complaints worded as a model file's."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError("The model description has no list of layers.")
    try:
        return Network.from_config(config)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ModelFileError(f"The model description is invalid: {exc}") from None
