"""The data sets the pages show and train on: loaded once per server, shared read-only.

``dataset_for(spec.data)`` is the one way a page gets data. Sets that every visitor may ask
for (MNIST, the generated 2-D sets) are cached once per server process with their arrays
made read-only, so one visitor can neither slow another down by loading them again nor
change what another sees. Two things come from the session instead, and never from a link
(a link must not name files): a local folder of MNIST IDX files typed on the Dataset page,
and an uploaded data set (``data["name"] == UPLOAD``), kept in this session only.

The server's data sets live in shared memory, once: every visitor's training process maps
the same read-only pages (MNIST: 220 MB for the whole server, however many runs).

MNIST that cannot be loaded comes back as the 8×8 digits with ``fallback_reason`` set, and
the pages say so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading

import numpy as np
import streamlit as st

from lab import state
from lab.links import UPLOAD
from nncore.data import DATASETS, DataUnavailable, Dataset, load_dataset, train_val_test_split
from nncore.data import points as drawn
from nncore.data.mnist import IDX_FILES
from nncore.data.registry import known_shape as registry_shape
from nncore.jobs import shared_data

MNIST_DIRS = "mnist_dirs"        # dict kind -> local folder of IDX files (session only)
UPLOADED = "uploaded_data"       # dict: X, y, class_names, image_shape, filename (session only)
UPLOAD_SPLIT = "upload_split"    # (data key, Dataset): the upload split as the spec says
DRAWN_SPLIT = "drawn_split"      # (data key, Dataset): your own points split as the spec says

# What the server has learned about a data set once it was loaded, for one-line summaries
# that must not load data themselves. Keyed by the data dict; facts, not anyone's state.
_FALLBACKS: dict[str, bool] = {}
_SHAPES: dict[str, tuple[int, int]] = {}


ARRAYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


def _read_only(dataset: Dataset) -> Dataset:
    for name in ARRAYS:
        getattr(dataset, name).flags.writeable = False
    return dataset


def _held_once(dataset: Dataset) -> Dataset:
    """The server's copy of a data set: every array moved into shared memory (read-only),
    so that each visitor's training process maps these very pages instead of a copy of its
    own (``nncore.jobs.shared_data``). The blocks go when the cache drops the data set."""
    return dataclasses.replace(dataset, **{name: shared_data.share(getattr(dataset, name))
                                           for name in ARRAYS})


@st.cache_resource(show_spinner="Loading the data set…", max_entries=16)
def _cached_dataset(key: str) -> Dataset:
    params = json.loads(key)
    return _held_once(load_dataset(params.pop("name"), **params))


def _data_key(data: dict) -> str:
    """The server's key for a data dict: its parameters with the data set's defaults filled
    in, so that one data set written two ways (``{"name": "mnist"}`` and ``{"name": "mnist",
    "seed": 0, "val_fraction": 0.1}``) is loaded and held once."""
    info = DATASETS.get(data.get("name"))
    params = {**(info.defaults() if info else {}), **data}
    folder = mnist_folder(params.get("name"))
    if folder:
        params["data_dir"] = folder
    return json.dumps(params, sort_keys=True)


def dataset_for(data: dict) -> Dataset:
    """The data set a spec's ``data`` dict names (see the module docstring)."""
    if data.get("name") == UPLOAD:
        return uploaded_dataset(data)
    if data.get("name") == drawn.NAME:
        return drawn_dataset(data)
    key = _data_key(data)
    dataset = _cached_dataset(key)
    _FALLBACKS[key] = bool(dataset.fallback_reason)
    _SHAPES[key] = (dataset.n_features, dataset.n_classes)
    return dataset


def current_dataset() -> Dataset:
    return dataset_for(state.get_spec().data)


def known_shape(data: dict) -> tuple[int | None, int | None]:
    """(n_features, n_classes) of a data set: as it was loaded (MNIST that fell back: the
    8×8 digits'), else as the registry knows it before loading, else (None, None)."""
    if data.get("name") == UPLOAD:
        upload = st.session_state.get(UPLOADED)
        return (upload["X"].shape[1], len(upload["class_names"])) if upload else (None, None)
    if data.get("name") == drawn.NAME:
        return registry_shape(drawn.NAME, data.get("points")) or (2, None)
    return _SHAPES.get(_data_key(data)) or registry_shape(data.get("name")) or (None, None)


def fell_back(data: dict) -> bool:
    """Whether this data set, when it was loaded, fell back to the 8×8 digits."""
    return data.get("name") != UPLOAD and _FALLBACKS.get(_data_key(data), False)


def dataset_title(name: str) -> str:
    if name == UPLOAD:
        upload = st.session_state.get(UPLOADED)
        return f"Uploaded: {upload['filename']}" if upload else "Uploaded data (none in this session)"
    info = DATASETS.get(name)
    return info.title if info else name


# ---------------------------------------------------------------- MNIST from a local folder
# On your own machine the Dataset page's folder box reads any folder you type, as a desktop
# app would. On a hosted demo the visitor is a stranger and the folder box would let them
# probe the server's disk, so it is off — unless the host names one folder, the data root,
# inside which visitors may pick a folder. Both are the host's settings: an environment
# variable, or a Streamlit secret of the same name (see README, Security).
HOSTED = "NNCORE_HOSTED"          # "1": this server is a public demo
DATA_ROOT = "NNCORE_DATA_ROOT"    # the folder inside which visitors may name a folder
MAX_PATH = 1024                   # characters of a typed path


def _host_setting(name: str) -> str | None:
    """A host's setting: the environment variable ``name``, else the secret of that name."""
    value = os.environ.get(name)
    if value is None:
        try:
            value = st.secrets.get(name)
        except Exception:   # noqa: BLE001 — no secrets file at all: the setting is not set
            value = None
    return None if value is None else str(value).strip()


def is_hosted() -> bool:
    return (_host_setting(HOSTED) or "").lower() in ("1", "true", "yes", "on")


def data_root() -> str | None:
    """The real path of the data root the host named, if any (it applies locally too)."""
    root = _host_setting(DATA_ROOT)
    return os.path.realpath(root) if root else None


def folder_box_allowed() -> bool:
    """Whether visitors may name a folder: always locally, on a hosted demo only inside a
    data root the host names."""
    return not is_hosted() or data_root() is not None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _quoted(text: str) -> str:
    text = "".join(ch for ch in text if ch.isprintable() and ch not in "`\\$")
    return f"`{text[:60]}{'…' if len(text) > 60 else ''}`"


def resolve_folder(text: str) -> str:
    """The real path (symbolic links and ``..`` resolved) of a typed folder holding the
    four IDX files, or a ValueError with one sentence. Every spelling of one folder —
    ``./x``, ``x/``, ``x/.`` — resolves to the same path, so it is loaded once.

    With a data root (always, on a hosted demo) a relative path is taken inside the root,
    and a path that resolves outside it gets the same sentence whether or not it exists:
    the answer never says what is on the server beyond the root. The IDX files are
    resolved too, so a link inside the root cannot lead to a file outside it."""
    text = text.strip()
    if len(text) > MAX_PATH:
        raise ValueError(f"That path is {len(text):,} characters long; a folder path has at "
                         f"most {MAX_PATH:,}.")
    if not text or "\0" in text:
        raise ValueError("Type the path of a folder.")
    inside = data_root()
    if inside is None:
        if is_hosted():
            raise ValueError("This demo reads no folders from its visitors.")
        real = os.path.realpath(os.path.expanduser(text))
        if not os.path.isdir(real):
            raise ValueError(f"{_quoted(text)} is not a folder on this machine.")
    else:
        real = os.path.realpath(os.path.join(inside, text))
        if not _inside(real, inside) or not os.path.isdir(real):
            raise ValueError(f"{_quoted(text)} is not a folder inside the data folder this "
                             "demo offers; name one relative to it.")
    missing = []
    for name in IDX_FILES:
        found = [os.path.realpath(os.path.join(real, n)) for n in (f"{name}.gz", name)]
        found = [f for f in found if os.path.isfile(f) and (inside is None or _inside(f, inside))]
        if not found:
            missing.append(f"{name}.gz")
    if missing:
        raise ValueError(f"{_quoted(text)} lacks {', '.join(missing)}: all four IDX files "
                         "are needed.")
    return real


def mnist_folder(name: str | None) -> str | None:
    """The real path of the folder this session reads ``name`` from, if any."""
    return (st.session_state.get(MNIST_DIRS) or {}).get(name)


def shown_folder(name: str | None) -> str:
    """That folder as the visitor may see it: relative to the data root, if there is one."""
    folder, root = mnist_folder(name), data_root()
    if folder and root and _inside(folder, root):
        return os.path.relpath(folder, root)
    return folder or ""


def set_mnist_folder(name: str, folder: str | None) -> None:
    """Read ``name`` (MNIST or Fashion-MNIST) from ``folder`` in this session (None: stop).
    The folder is checked and resolved first (``resolve_folder``, a ValueError if not)."""
    dirs = dict(st.session_state.get(MNIST_DIRS) or {})
    if folder:
        dirs[name] = resolve_folder(folder)
    else:
        dirs.pop(name, None)
    st.session_state[MNIST_DIRS] = dirs


_DOWNLOADS_TRIED: set = set()
_DOWNLOAD_LOCK = threading.Lock()


def download_with_progress(name: str, progress) -> None:
    """Fetch MNIST or Fashion-MNIST into the disk cache once per server, calling
    ``progress(fraction, message)`` while it downloads, so the first load shows a bar
    (the cached loader cannot draw one). Does nothing when the files are already at hand,
    downloads are off, or a download was tried before; a failure is left to
    ``dataset_for``, which falls back to the digits and says why."""
    from nncore.data.mnist import KINDS, default_cache_dir, load_mnist
    if name not in KINDS or name in _DOWNLOADS_TRIED or mnist_folder(name):
        return
    if os.environ.get("NNCORE_OFFLINE") == "1" or os.environ.get(KINDS[name].env_var):
        return
    if (default_cache_dir() / f"{name}.npz").exists():
        return
    with _DOWNLOAD_LOCK:
        if name in _DOWNLOADS_TRIED:
            return
        _DOWNLOADS_TRIED.add(name)
        try:
            load_mnist(name, progress=progress)
        except (DataUnavailable, OSError, ValueError):
            pass


# ---------------------------------------------------------------- your own points
def drawn_dataset(data: dict) -> Dataset:
    """Your own points, split as ``data`` says. They are the spec's own (``data["points"]``),
    so whoever opens its link gets the same set; they are small and change with every click,
    so each session holds its current split, and the server's cache — where MNIST lives —
    never sees them. Too few to train on is a ValueError saying what to add."""
    key = json.dumps(data, sort_keys=True)
    held = st.session_state.get(DRAWN_SPLIT)
    if held and held[0] == key:
        return held[1]
    params = {k: v for k, v in data.items() if k != "name"}
    dataset = _read_only(load_dataset(drawn.NAME, **params))
    st.session_state[DRAWN_SPLIT] = (key, dataset)
    return dataset


# ---------------------------------------------------------------- an uploaded data set
UPLOAD_DATA = {"name": UPLOAD, "val_fraction": 0.1, "test_fraction": 0.2, "seed": 0}
UPLOAD_PARAMS = {k: DATASETS["digits"].params[k] for k in ("val_fraction", "test_fraction", "seed")}


def uploaded() -> dict | None:
    """This session's uploaded data (see ``lab.uploads.parse_upload``), if any."""
    return st.session_state.get(UPLOADED)


def set_upload(upload: dict) -> None:
    """Keep an uploaded data set in this session and make it the current data. The data
    dict names this upload (a fingerprint of its arrays), so that a run of an earlier upload
    is never scored on a later one that replaced it."""
    fingerprint = hashlib.sha1(np.ascontiguousarray(upload["X"]).tobytes())
    fingerprint.update(np.ascontiguousarray(upload["y"]).tobytes())
    upload = {**upload, "id": fingerprint.hexdigest()[:12]}
    st.session_state[UPLOADED] = upload
    st.session_state.pop(UPLOAD_SPLIT, None)
    state.set_spec(state.get_spec().replace(data={**UPLOAD_DATA, "upload": upload["id"]}))


def uploaded_dataset(data: dict) -> Dataset:
    """The uploaded data set split as ``data`` says (kept in this session)."""
    upload = uploaded()
    if not upload:
        raise ValueError("No uploaded data set in this session: upload one on the Dataset "
                         "page or choose another data set.")
    if data.get("upload") not in (None, upload.get("id")):
        raise ValueError("That was an earlier upload, replaced since by "
                         f"{upload['filename']}: upload it again to use it.")
    key = json.dumps(data, sort_keys=True)
    held = st.session_state.get(UPLOAD_SPLIT)
    if held and held[0] == key:
        return held[1]
    p = {k: UPLOAD_PARAMS[k].clamp(data.get(k)) for k in UPLOAD_PARAMS}
    splits = train_val_test_split(upload["X"], upload["y"], val_fraction=p["val_fraction"],
                                  test_fraction=p["test_fraction"], seed=p["seed"], stratify=True)
    dataset = _read_only(Dataset(
        name=UPLOAD, description=f"Uploaded by you: {upload['filename']} ({len(upload['y']):,} "
        f"rows, {upload['X'].shape[1]} features, {len(upload['class_names'])} classes); kept in "
        "this session only.", source="upload", X_train=splits[0], y_train=splits[1],
        X_val=splits[2], y_val=splits[3], X_test=splits[4], y_test=splits[5],
        n_classes=len(upload["class_names"]), class_names=upload["class_names"],
        image_shape=upload["image_shape"]))
    st.session_state[UPLOAD_SPLIT] = (key, dataset)
    return dataset
