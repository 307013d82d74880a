"""Helpers every page of the app shares: session-state keys, the current setup, cached data.

Per-user state lives in ``st.session_state`` under the keys below; data shared between
users (MNIST, generated sets) is cached once per server process and handed out read-only.
Pages stay thin: they read and write the setup through these helpers and call ``nncore``.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from nncore.data import DATASETS, DataUnavailable, Dataset, load_dataset
from nncore.runs.spec import RunSpec

# ---------------------------------------------------------------- session-state keys
SPEC = "spec"            # dict: the current RunSpec (data set, layers, optimizer, …)
MODEL = "model"          # nncore.Network or None: the latest trained or uploaded model
TRAINER = "trainer"      # nncore.jobs.processes.ProcessTrainer or None: the run in progress
NOTES = "link_notes"     # list[str]: what was wrong with the link the session opened with


def init_state() -> None:
    """Give a new session its defaults (the app frame calls this on every run)."""
    st.session_state.setdefault(SPEC, RunSpec().to_dict())
    st.session_state.setdefault(MODEL, None)
    st.session_state.setdefault(TRAINER, None)
    st.session_state.setdefault(NOTES, [])


def get_spec() -> RunSpec:
    """The current setup. A stored spec that no longer validates falls back to the default."""
    try:
        return RunSpec.from_dict(st.session_state[SPEC])
    except (ValueError, TypeError):
        st.session_state[SPEC] = RunSpec().to_dict()
        return RunSpec()


def set_spec(spec: RunSpec) -> None:
    st.session_state[SPEC] = spec.validate().to_dict()


def get_model():
    return st.session_state.get(MODEL)


def set_model(network) -> None:
    st.session_state[MODEL] = network


# ---------------------------------------------------------------- data, cached per server
def _read_only(dataset: Dataset) -> Dataset:
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        getattr(dataset, name).flags.writeable = False
    return dataset


@st.cache_resource(show_spinner="Loading the data set…", max_entries=16)
def _cached_dataset(key: str) -> Dataset:
    params = json.loads(key)
    return _read_only(load_dataset(params.pop("name"), **params))


def dataset_for(data: dict) -> Dataset:
    """The data set a spec's ``data`` dict names, loaded once per server and shared
    read-only. MNIST that cannot be loaded comes back as the 8×8 digits with
    ``fallback_reason`` set — pages must show that reason.

    Two things come from this session rather than from the spec (so never from a link):
    a local folder of MNIST IDX files typed on the Dataset page (``mnist_folder``), and an
    uploaded data set (``data["name"] == "upload"``, see ``uploaded_dataset``)."""
    if data.get("name") == UPLOAD:
        return uploaded_dataset(data)
    key = _data_key(data)
    dataset = _cached_dataset(key)
    _FALLBACKS[key] = bool(dataset.fallback_reason)
    _SHAPES[key] = (dataset.n_features, dataset.n_classes)
    return dataset


def known_shape(spec: RunSpec) -> tuple[int | None, int | None]:
    """(n_features, n_classes) of the spec's data if it was loaded already, else (None, None):
    for one-line summaries that must not load data themselves."""
    if spec.data.get("name") == UPLOAD:
        upload = st.session_state.get(UPLOADED)
        return (upload["X"].shape[1], len(upload["class_names"])) if upload else (None, None)
    return _SHAPES.get(_data_key(spec.data), (None, None))


def _data_key(data: dict) -> str:
    params = dict(data)
    folder = mnist_folder(params.get("name"))
    if folder:
        params["data_dir"] = folder
    return json.dumps(params, sort_keys=True)


_FALLBACKS: dict = {}   # data key -> whether it fell back to the digits (known once loaded)
_SHAPES: dict = {}      # data key -> (n_features, n_classes) (known once loaded)


def current_dataset() -> Dataset:
    return dataset_for(get_spec().data)


def dataset_title(name: str) -> str:
    if name == UPLOAD:
        upload = st.session_state.get(UPLOADED)
        return f"Uploaded: {upload['filename']}" if upload else "Uploaded data (none in this session)"
    info = DATASETS.get(name)
    return info.title if info else name


# ---------------------------------------------------------------- one-line summaries
def data_line(spec: RunSpec) -> str:
    params = ", ".join(f"{k} {v}" for k, v in spec.data.items() if k != "name")
    line = f"{dataset_title(spec.data['name'])}" + (f" ({params})" if params else "")
    if spec.data.get("name") != UPLOAD and _FALLBACKS.get(_data_key(spec.data)):
        line += " — unavailable, the 8×8 digits stand in"
    return line


def network_line(spec: RunSpec, n_features: int | None = None, n_classes: int | None = None) -> str:
    sizes = [str(n_features) if n_features else "in"]
    sizes += [_layer_size(h) for h in spec.hidden]
    if n_classes:
        sizes.append(str(spec.output_layer(n_classes)[0]))
    else:
        sizes.append("out")
    acts = "/".join(dict.fromkeys(h.activation for h in spec.hidden
                                  if h.kind != "maxpool")) or "no hidden layer"
    opt = spec.optimizer
    return f"{'-'.join(sizes)} {acts}, {opt['name']} lr {opt.get('lr')}, {spec.epochs} epochs"


def _layer_size(h) -> str:
    """"256" for a dense layer, "conv8" / "pool2" for the image layers a spec may start with."""
    kind = h.kind
    return {"conv": f"conv{getattr(h, 'filters', '')}", "maxpool": f"pool{getattr(h, 'pool', '')}"
            }.get(kind, str(h.units))


def show_error(message: str) -> None:
    """Errors reach the page as a sentence, never as a stack trace."""
    st.error(message, icon="⚠️")


__all__ = [
    "SPEC", "MODEL", "TRAINER", "NOTES", "init_state", "get_spec", "set_spec", "get_model",
    "set_model", "dataset_for", "current_dataset", "dataset_title", "data_line",
    "network_line", "show_error", "DataUnavailable", "np",
]


# ================================================================ links, presets, local and
# uploaded data (issue 3). Session-only state: a typed MNIST folder and an uploaded data
# set live in st.session_state and never in a link (a link must not name files).
import io as _io
import os as _os
import threading as _threading
import zipfile as _zipfile

import links
from links import UPLOAD

LINK_READ = "link_read"        # bool: this session has read the link it was opened with
MNIST_DIRS = "mnist_dirs"      # dict kind -> local folder of IDX files (session only)
UPLOADED = "uploaded_data"     # dict: X, y, class_names, image_shape, filename (session only)
PRESET = "preset"              # str | None: the preset loaded last (None once edited by hand)


def apply_link_once() -> None:
    """Read the link the session was opened with (once), before anything else sets the
    setup; what was wrong with it goes to ``st.session_state[NOTES]``."""
    if st.session_state.get(LINK_READ):
        return
    st.session_state[LINK_READ] = True
    params = st.query_params.to_dict()
    if not links.is_link(params):
        return
    spec, notes = links.spec_from_params(params)
    st.session_state[SPEC] = spec.to_dict()
    st.session_state[NOTES] = notes


def sync_link(spec: RunSpec | None = None) -> None:
    """Mirror the current setup in the page's query parameters (only when it changed)."""
    params = links.spec_to_params(spec or get_spec())
    try:
        if st.query_params.to_dict() != params:
            st.query_params.from_dict(params)
    except Exception:  # noqa: BLE001 — no script context (a unit test): nothing to mirror
        pass


def share_url() -> str:
    """The link that opens this setup: the app's address (when the browser told us) plus
    the query string."""
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001
        base = None
    return links.share_url(base, get_spec())


def load_preset(name: str) -> None:
    """Make the preset the current setup (the trained model, if any, is left alone)."""
    from nncore.runs.presets import get_preset
    set_spec(get_preset(name).run_spec())
    st.session_state[PRESET] = name


# ---------------------------------------------------------------- MNIST from a local folder
def mnist_folder(name: str | None) -> str | None:
    return (st.session_state.get(MNIST_DIRS) or {}).get(name)


def set_mnist_folder(name: str, folder: str | None) -> None:
    dirs = dict(st.session_state.get(MNIST_DIRS) or {})
    if folder:
        dirs[name] = folder
    else:
        dirs.pop(name, None)
    st.session_state[MNIST_DIRS] = dirs


_DOWNLOADS_TRIED: set = set()
_DOWNLOAD_LOCK = _threading.Lock()


def download_with_progress(name: str, progress) -> None:
    """Fetch MNIST or Fashion-MNIST into the disk cache once per server, calling
    ``progress(fraction, message)`` while it downloads, so the first load shows a bar
    (the cached loader cannot draw one). Does nothing when the files are already at hand,
    downloads are off, or a download was tried before; a failure is left to
    ``dataset_for``, which falls back to the digits and says why."""
    from nncore.data.mnist import KINDS, default_cache_dir, load_mnist
    if name not in KINDS or name in _DOWNLOADS_TRIED or mnist_folder(name):
        return
    if _os.environ.get("NNCORE_OFFLINE") == "1" or _os.environ.get(KINDS[name].env_var):
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


# ---------------------------------------------------------------- uploaded data sets
UPLOAD_LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_unpacked_bytes": 200 * 1024 * 1024,
                 "min_rows": 10, "max_rows": 20_000, "max_features": 1024,
                 "max_classes": 50}
LABEL_COLUMNS = ("label", "labels", "y", "target", "class")


def parse_upload(filename: str, content: bytes) -> dict:
    """Read an uploaded data set — a CSV with a label column, or an .npz with arrays X and
    y — into ``{"X", "y", "class_names", "image_shape", "filename"}``. Never unpickles;
    raises ValueError with a sentence saying what is wrong."""
    lim = UPLOAD_LIMITS
    if len(content) > lim["max_bytes"]:
        raise ValueError(f"The file is {len(content) / 1e6:.1f} MB; uploads are limited to "
                         f"{lim['max_bytes'] / 1e6:.0f} MB.")
    if not content:
        raise ValueError("The file is empty.")
    lower = filename.lower()
    if lower.endswith(".npz"):
        X, labels, image_shape = _read_npz(content)
    elif lower.endswith(".csv"):
        X, labels = _read_csv(content)
        image_shape = None
    else:
        raise ValueError("Upload a .csv file (a label column plus numeric feature columns) or "
                         "an .npz file holding arrays X and y.")
    n, k = X.shape
    if not lim["min_rows"] <= n <= lim["max_rows"]:
        raise ValueError(f"The data has {n:,} rows; between {lim['min_rows']} and "
                         f"{lim['max_rows']:,} are allowed.")
    if not 1 <= k <= lim["max_features"]:
        raise ValueError(f"The data has {k:,} features per row; at most {lim['max_features']:,} "
                         "are allowed.")
    if not np.all(np.isfinite(X)):
        raise ValueError("Some feature values are missing, infinite or not numbers.")
    names, y = np.unique(labels, return_inverse=True)
    if not 2 <= len(names) <= lim["max_classes"]:
        raise ValueError(f"The labels hold {len(names)} different classes; between 2 and "
                         f"{lim['max_classes']} are needed.")
    counts = np.bincount(y)
    if counts.min() < 2:
        raise ValueError(f"Class {names[counts.argmin()]!s} has a single example; every class "
                         "needs at least two.")
    if image_shape is None:
        side = int(round(k ** 0.5))
        if k >= 16 and side * side == k and X.min() >= 0 and X.max() <= 1:
            image_shape = (side, side)
    return {"X": X.astype(np.float32), "y": y.astype(np.int64),
            "class_names": tuple(_label_text(v) for v in names), "image_shape": image_shape,
            "filename": _safe_name(filename)}


def _safe_name(filename: str) -> str:
    name = "".join(ch for ch in str(filename) if ch.isprintable() and ch not in "`\\$<>")
    return name[-60:] or "upload"


def _label_text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value)[:30]


def _read_npz(content: bytes):
    try:
        archive = _zipfile.ZipFile(_io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except _zipfile.BadZipFile:
        raise ValueError("The .npz file is not a valid NumPy archive.") from None
    if unpacked > UPLOAD_LIMITS["max_unpacked_bytes"]:
        raise ValueError(f"The .npz archive unpacks to {unpacked / 1e6:.0f} MB; at most "
                         f"{UPLOAD_LIMITS['max_unpacked_bytes'] / 1e6:.0f} MB are allowed.")
    try:
        with np.load(_io.BytesIO(content), allow_pickle=False) as f:
            if "X" not in f.files or "y" not in f.files:
                raise ValueError(f"The .npz file must hold arrays named X and y; it holds "
                                 f"{', '.join(f.files[:10]) or 'nothing'}.")
            X, y = f["X"], f["y"]
    except ValueError as e:
        if "pickle" in str(e).lower() or "object arrays" in str(e).lower():
            raise ValueError("The .npz file holds Python objects; only plain numeric arrays "
                             "are accepted (they are never unpickled).") from None
        if str(e).startswith("The .npz"):
            raise
        raise ValueError(f"The .npz file could not be read: {str(e)[:200]}") from None
    except (OSError, EOFError, _zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"The .npz file could not be read: {str(e)[:200]}") from None
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric; it has dtype {X.dtype}.")
    if y.ndim != 1:
        raise ValueError(f"y must be one label per row (1-D); it has shape {y.shape}.")
    if y.dtype.kind not in "biuU":
        raise ValueError(f"y must hold integer or text labels; it has dtype {y.dtype}.")
    image_shape = None
    if X.ndim == 3:
        image_shape = tuple(int(s) for s in X.shape[1:])
        X = X.reshape(len(X), -1)
    elif X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows × features) or 3-D (images); it has shape {X.shape}.")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X):,} rows but y has {len(y):,} labels.")
    X = X.astype(np.float64)
    if image_shape is not None and X.size and X.max() > 1 and X.min() >= 0 and X.max() <= 255:
        X = X / 255.0
    return X, y, image_shape


def _read_csv(content: bytes):
    import csv
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The CSV file is not UTF-8 text.") from None
    try:
        rows = [row for row in csv.reader(_io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as e:
        raise ValueError(f"The CSV file could not be parsed: {e}.") from None
    if len(rows) < 2:
        raise ValueError("The CSV file needs a header row and at least one data row.")
    header = [c.strip() for c in rows[0]]
    if len(set(len(r) for r in rows)) != 1:
        raise ValueError("The CSV rows do not all have the same number of columns.")
    if len(header) < 2:
        raise ValueError("The CSV file needs a label column and at least one feature column.")

    def is_number(cell):
        try:
            float(cell)
            return True
        except ValueError:
            return False

    if all(is_number(c) for c in header):
        header, body = [f"x{i}" for i in range(len(header) - 1)] + ["label"], rows
    else:
        body = rows[1:]
    lowered = [h.lower() for h in header]
    label_col = next((lowered.index(n) for n in LABEL_COLUMNS if n in lowered), len(header) - 1)
    features = [i for i in range(len(header)) if i != label_col]
    try:
        X = np.array([[float(r[i]) for i in features] for r in body], dtype=np.float64)
    except ValueError:
        bad = next(c for r in body for c in (r[i] for i in features) if not is_number(c))
        raise ValueError(f"Every feature column must be numeric; found {_safe_name(bad)[:20]!r}. "
                         f"(The label column is {header[label_col]!r}: name it label, y, "
                         "target or class, or put it last.)") from None
    raw = [r[label_col].strip() for r in body]
    if any(not v for v in raw):
        raise ValueError(f"Some rows have no label in the label column {header[label_col]!r}.")
    if not all(is_number(v) for v in raw):
        return X, np.array([v[:30] for v in raw])
    numeric = np.array([float(v) for v in raw])
    if not np.all(np.isfinite(numeric)) or not np.all(numeric == np.round(numeric)):
        raise ValueError(f"The label column {header[label_col]!r} holds numbers that are not "
                         "whole: labels must be class numbers (0, 1, 2, …) or names.")
    return X, numeric.astype(np.int64)


def set_upload(upload: dict) -> None:
    """Keep an uploaded data set in this session and make it the current data."""
    st.session_state[UPLOADED] = upload
    st.session_state.pop("_upload_split", None)
    spec = get_spec()
    spec.data = {"name": UPLOAD, "val_fraction": 0.1, "test_fraction": 0.2, "seed": 0}
    set_spec(spec)


def uploaded_dataset(data: dict) -> Dataset:
    """The uploaded data set split as ``data`` says (cached in this session)."""
    from nncore.data import train_val_test_split
    upload = st.session_state.get(UPLOADED)
    if not upload:
        raise ValueError("No uploaded data set in this session: upload one on the Dataset "
                         "page or choose another data set.")
    key = json.dumps(data, sort_keys=True)
    cached = st.session_state.get("_upload_split")
    if cached and cached[0] == key:
        return cached[1]
    info = DATASETS["digits"].params
    p = {k: info[k].clamp(data.get(k)) for k in ("val_fraction", "test_fraction", "seed")}
    splits = train_val_test_split(upload["X"], upload["y"], val_fraction=p["val_fraction"],
                                  test_fraction=p["test_fraction"], seed=p["seed"], stratify=True)
    dataset = _read_only(Dataset(
        name=UPLOAD, description=f"Uploaded by you: {upload['filename']} ({len(upload['y']):,} "
        f"rows, {upload['X'].shape[1]} features, {len(upload['class_names'])} classes); kept in "
        "this session only.", source="upload", X_train=splits[0], y_train=splits[1],
        X_val=splits[2], y_val=splits[3], X_test=splits[4], y_test=splits[5],
        n_classes=len(upload["class_names"]), class_names=upload["class_names"],
        image_shape=upload["image_shape"]))
    st.session_state["_upload_split"] = (key, dataset)
    return dataset


__all__ += ["known_shape", "LINK_READ", "MNIST_DIRS", "UPLOADED", "PRESET", "UPLOAD", "apply_link_once",
            "sync_link", "share_url", "load_preset", "mnist_folder", "set_mnist_folder",
            "download_with_progress", "parse_upload", "set_upload", "uploaded_dataset"]


# ---------------------------------------------------------------- the training run
# The Training page starts a ``nncore.jobs.processes.ProcessTrainer`` and keeps it under
# TRAINER; these helpers let every page read its newest weights and hand the trained
# network on to MODEL when the run ends, whichever page the user is on at that moment.
# Every fragment rerun costs the browser ~0.2 s of CPU (Streamlit re-renders the app),
# whatever it shows; on a small machine that CPU comes out of training. Measured with
# benchmarks/page_throughput.py: polling every 2 s instead of 1 s (and the charts every 6 s
# instead of 4 s) took the page from 71 % to 85 % of the command line's speed.
TRAINING_POLL_SECONDS = 2.0


def collect_training_result():
    """When the session's run has ended, put its network in MODEL — once.

    Returns the run's final Progress the first time, else None. A finished or stopped run
    replaces the model; a diverged one only if it completed an epoch (its network then
    holds the last good weights); a failed one leaves the model as it was.
    """
    trainer = st.session_state.get(TRAINER)
    if trainer is None or not hasattr(trainer, "claim_result"):
        return None
    final = trainer.claim_result()
    if final is None:
        return None
    if final.state in ("finished", "stopped") or (final.state == "diverged" and final.epoch >= 1):
        network = trainer.network
        network.metadata["history"] = final.history
        if "spec" in trainer.meta:
            network.metadata["spec"] = trainer.meta["spec"]
        set_model(network)
    return final


LIVE = "live_model"      # (trainer, epoch, network): the copy of a running network in use


def live_model(trainer, epoch: int, refresh: bool = False):
    """A copy of the weights of the run in progress, taken once per epoch (or when
    ``refresh``) and kept in the session: asking the training process on every rerun
    costs a round trip, and a new copy each time would make every cache that is keyed
    on the model (the Inference page's test-set predictions) miss."""
    held = st.session_state.get(LIVE)
    if refresh or held is None or held[0] is not trainer or held[1] != epoch:
        held = (trainer, epoch, trainer.model_copy())
        st.session_state[LIVE] = held
    return held[2]


def training_status_line(progress) -> str:
    words = {"running": "running", "paused": "paused", "finished": "finished",
             "stopped": "stopped", "diverged": "diverged", "failed": "failed"}
    return (f"**Training:** epoch {progress.epoch}/{progress.epochs} "
            f"({words.get(progress.state, progress.state)})")


def _training_sidebar_body(was_active: bool) -> None:
    trainer = st.session_state.get(TRAINER)
    if trainer is None:
        return
    progress = trainer.progress(batch_loss=False)
    st.markdown(training_status_line(progress))
    if was_active and not progress.active:
        collect_training_result()
        if _in_fragment_rerun():
            st.rerun()      # once, at the end of the run: the page redraws with the new model


def _in_fragment_rerun() -> bool:
    """True while Streamlit reruns only fragments (not the whole script)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    return bool(ctx is not None and getattr(ctx, "fragment_ids_this_run", None))


def training_sidebar(poll: bool = True) -> None:
    """The sidebar's "Training: epoch 3/10" line. While a run goes on and ``poll`` is
    true it refreshes itself every TRAINING_POLL_SECONDS (a fragment), and when the run
    ends it hands the network on to MODEL and reruns the app once. The Training page shows
    the progress itself, so there the app passes poll=False (one poller fewer)."""
    collect_training_result()
    trainer = st.session_state.get(TRAINER)
    if trainer is None:
        return
    active = trainer.progress(batch_loss=False).active
    if active and poll:
        st.fragment(run_every=TRAINING_POLL_SECONDS)(_training_sidebar_body)(True)
    elif active:
        st.markdown("**Training:** running — its progress is on this page")
    else:
        _training_sidebar_body(False)


__all__ += ["TRAINING_POLL_SECONDS", "collect_training_result", "LIVE", "live_model",
            "training_status_line", "training_sidebar"]
