"""MNIST and Fashion-MNIST: find the 70,000 images wherever they are, or say clearly why not.

``load_mnist`` tries the sources in this order and stops at the first that works:

1. **A folder of the four IDX files** — ``data_dir``, else the folder named by the
   environment variable ``NNCORE_MNIST_DIR`` (``NNCORE_FASHION_MNIST_DIR`` for Fashion).
   This is the way for a machine without internet.
2. **The disk cache** ``<cache_dir>/<kind>.npz``, written after a download. ``cache_dir`` is
   the ``NNCORE_CACHE_DIR`` environment variable, else ``~/.cache/nncore``. A cache that
   cannot be read is skipped (and said so), never trusted.
3. **A download** (unless ``allow_download=False`` or ``NNCORE_OFFLINE=1``): the four IDX
   files from a public mirror, else scikit-learn's ``fetch_openml`` (the route seed 000
   takes). Every network call has a timeout, so a dead network fails instead of hanging.

When everything fails, ``DataUnavailable`` says what was tried and how to fix it.

The images come back as they are stored, uint8 0 … 255, 784 per row; ``mnist_dataset``
turns them into a ready-to-train ``Dataset``. The first 60,000 rows are the standard
training images and the last 10,000 the standard test images, from every source (OpenML's
``mnist_784`` keeps that order). Use that test set: published MNIST accuracies are on it.
"""

from __future__ import annotations

import numbers
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .dataset import DataUnavailable, Dataset
from .idx import idx_shape, read_idx
from .splits import scale_images, train_val_test_split

# The standard file names, in the order the data is stacked: training part, then test part.
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
IDX_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

IMAGE_SHAPE = (28, 28)
N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
N_STANDARD_TRAIN, N_STANDARD_TEST = 60_000, 10_000
DEFAULT_TIMEOUT = 20  # seconds to wait on the network before giving up


@dataclass(frozen=True)
class MnistKind:
    """What differs between MNIST and Fashion-MNIST: names, where to look, what to fetch."""

    title: str
    what: str
    env_var: str
    mirrors: tuple[str, ...]
    openml_name: str
    class_names: tuple[str, ...]


KINDS = {
    "mnist": MnistKind(
        title="MNIST",
        what="handwritten digits",
        env_var="NNCORE_MNIST_DIR",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        openml_name="mnist_784",
        class_names=tuple(str(d) for d in range(10)),
    ),
    "fashion-mnist": MnistKind(
        title="Fashion-MNIST",
        what="Zalando clothing images",
        env_var="NNCORE_FASHION_MNIST_DIR",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        openml_name="Fashion-MNIST",
        class_names=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
    ),
}


class _Loaded(NamedTuple):
    X: np.ndarray  # uint8 (n, 784)
    y: np.ndarray  # uint8 (n,)
    n_train: int  # rows before this index are the standard training part
    source: str
    description: str


def load_mnist(kind="mnist", *, data_dir=None, cache_dir=None, allow_download=True,
               progress=None, timeout=DEFAULT_TIMEOUT):
    """Load all of MNIST (or Fashion-MNIST) as raw pixels.

    Returns ``(X, y, source, description)``: X is uint8 of shape (70000, 784), y uint8 of
    shape (70000,), ``source`` one of "idx-folder", "cache", "download", "openml", and
    ``description`` a sentence saying what was loaded and from where.

    ``progress(fraction, message)``, if given, is called while a download runs.
    ``timeout`` (seconds) bounds every wait on the network. A folder holding fewer images
    than the standard files (a small test fixture, say) is read as it is.
    """
    loaded = _load(kind, data_dir, cache_dir, allow_download, progress, timeout)
    return loaded.X, loaded.y, loaded.source, loaded.description


def mnist_dataset(kind="mnist", *, val_fraction=0.1, seed=0, limit=None, data_dir=None,
                  allow_download=True, progress=None) -> Dataset:
    """MNIST or Fashion-MNIST as a ``Dataset`` with the standard train/test split.

    - test: the standard 10,000 test images, untouched;
    - validation: a seeded, class-stratified ``val_fraction`` of the 60,000 training images;
    - train: the rest of the 60,000.

    ``limit`` is for quick runs: it keeps a seeded random ``limit`` of the 60,000 training
    images (which are then split into train and validation as above) and
    ``max(limit // 6, 100)`` of the test images. The 6 keeps the standard 60k : 10k ratio;
    the floor of 100 keeps a test accuracy from being a coin toss (with 100 images one
    image moves it by one point). Pixels are scaled to [0, 1].

    Raises ``DataUnavailable`` when no source works; ``load_dataset`` turns that into a
    fallback to the bundled 8×8 digits.
    """
    info = _kind(kind)
    loaded = _load(kind, data_dir, None, allow_download, progress, DEFAULT_TIMEOUT)
    # Everything below chooses row numbers; the pixels are scaled once, straight into the
    # float32 arrays the Dataset keeps, so loading holds the uint8 images and their
    # scaled copy and nothing more (not a uint8 copy of each part and a float32
    # temporary as well).
    pool = np.arange(loaded.n_train)                            # the 60,000 training rows
    test = np.arange(loaded.n_train, len(loaded.X))             # the 10,000 test rows
    description = loaded.description
    if limit is not None:
        rng = np.random.default_rng(seed)
        pool = _random_subset(pool, limit, rng)
        test = _random_subset(test, max(limit // 6, 100), rng)
        description += (
            f"; a seeded random subset (limit={limit}) of {len(pool):,} training and "
            f"{len(test):,} test images is used"
        )
    train, _, val, _, _, _ = train_val_test_split(
        pool, loaded.y[pool], val_fraction=val_fraction, test_fraction=0.0, seed=seed
    )
    y = loaded.y.astype(np.int64)
    return Dataset(
        name=kind,
        description=description + ".",
        source=loaded.source,
        X_train=_flat_scaled(loaded.X, train), y_train=y[train],
        X_val=_flat_scaled(loaded.X, val), y_val=y[val],
        X_test=_flat_scaled(loaded.X, test), y_test=y[test],
        n_classes=10,
        class_names=info.class_names,
        image_shape=IMAGE_SHAPE,
    )


def _flat_scaled(X, rows, chunk=1024):
    """``scale_images(X[rows])`` as (len(rows), 784) float32, gathered a chunk of rows at a
    time so that no uint8 copy of the whole part is made on the way."""
    out = np.empty((len(rows), N_PIXELS), np.float32)
    for i in range(0, len(rows), chunk):
        scale_images(X[rows[i:i + chunk]], out=out[i:i + chunk])
    return out


def _random_subset(rows, k, rng):
    """A seeded random ``k`` of ``rows``, kept in their order (all of them if k ≥ len)."""
    if k >= len(rows):
        return rows
    return rows[np.sort(rng.choice(len(rows), size=k, replace=False))]


def _kind(kind) -> MnistKind:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}.")
    return KINDS[kind]


# --------------------------------------------------------------------------- the chain


def _load(kind, data_dir, cache_dir, allow_download, progress, timeout) -> _Loaded:
    info = _kind(kind)
    if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}.")
    tried = []  # one phrase per source, for the error message if all fail
    notes = []  # problems worth mentioning even when a later source succeeds

    # 1. A folder of IDX files.
    folder = data_dir if data_dir is not None else os.environ.get(info.env_var)
    if folder:
        try:
            X, y, n_train = read_idx_folder(folder)
            return _Loaded(X, y, n_train, "idx-folder",
                           f"{info.title}, {len(X):,} {info.what}, read from IDX files in {folder}")
        except (OSError, ValueError) as e:
            tried.append(f"the IDX folder {folder} ({e})")
            notes.append(f"the IDX folder {folder} was skipped: {e}")
    else:
        tried.append(f"an IDX folder (none named: data_dir was not given and {info.env_var} is not set)")

    # 2. The cache of an earlier download.
    cache_root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cache_path = cache_root / f"{kind}.npz"
    if cache_path.exists():
        try:
            X, y, n_train = _read_cache(cache_path)
            return _Loaded(X, y, n_train, "cache", _with_notes(
                f"{info.title}, {len(X):,} {info.what}, read from the cache {cache_path}", notes))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            tried.append(f"the cache {cache_path} (unreadable: {e})")
            notes.append(f"the unreadable cache {cache_path} was ignored ({e})")
    else:
        tried.append(f"the cache {cache_path} (not there)")

    # 3. The network.
    if not allow_download:
        tried.append("a download (switched off: allow_download=False)")
    elif os.environ.get("NNCORE_OFFLINE") == "1":
        tried.append("a download (switched off: NNCORE_OFFLINE=1)")
    else:
        loaded = _download(info, cache_path, progress, timeout, tried)
        if loaded is not None:
            X, y, n_train, source, where = loaded
            cache_note = _write_cache(cache_path, X, y, n_train)
            return _Loaded(X, y, n_train, source, _with_notes(
                f"{info.title}, {len(X):,} {info.what}, {where}", notes + [cache_note]))

    names = ", ".join(f"{name}.gz" for name in IDX_FILES)
    raise DataUnavailable(
        f"{info.title} could not be loaded. Tried: {'; '.join(tried)}. "
        f"To fix this, put the four IDX files ({names}) in a folder and set the environment "
        f"variable {info.env_var} to that folder (or pass it as data_dir)."
    )


def _with_notes(description, notes):
    notes = [n for n in notes if n]
    return description + "".join(f" (note: {n})" for n in notes)


def default_cache_dir() -> Path:
    """Where downloads are cached: ``$NNCORE_CACHE_DIR``, else ``~/.cache/nncore``."""
    return Path(os.environ.get("NNCORE_CACHE_DIR") or "~/.cache/nncore").expanduser()


def read_idx_folder(folder):
    """Read the four standard IDX files from ``folder`` (each ``.gz`` or uncompressed).

    Returns ``(X, y, n_train)``: all images as uint8 rows of 784 pixels, training images
    first, then test images; their labels; and how many rows are training images.
    Raises ``FileNotFoundError`` naming the missing files, ``ValueError`` for bad content.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    paths, missing = {}, []
    for name in IDX_FILES:
        found = [folder / n for n in (f"{name}.gz", name) if (folder / n).is_file()]
        if found:
            paths[name] = found[0]
        else:
            missing.append(f"{name}.gz")
    if missing:
        raise FileNotFoundError(f"missing {', '.join(missing)}")
    # The headers first: the shapes are checked, and the images of both parts are then
    # read straight into one array, without a copy of each part to concatenate.
    shapes = {name: idx_shape(path) for name, path in paths.items()}
    for images, labels in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        if len(shapes[images]) != 3 or shapes[images][1:] != IMAGE_SHAPE:
            raise ValueError(f"{paths[images]} holds images of shape {shapes[images][1:]}, "
                             f"not {IMAGE_SHAPE}")
        if len(shapes[labels]) != 1:
            raise ValueError(f"{paths[labels]} holds images, not labels")
    n_train, n_test = shapes[TRAIN_IMAGES][0], shapes[TEST_IMAGES][0]
    if shapes[TRAIN_LABELS][0] != n_train or shapes[TEST_LABELS][0] != n_test:
        raise ValueError(
            f"the label files do not match the image files: {n_train:,} training images "
            f"with {shapes[TRAIN_LABELS][0]:,} labels, {n_test:,} test "
            f"images with {shapes[TEST_LABELS][0]:,} labels"
        )
    X = np.empty((n_train + n_test,) + IMAGE_SHAPE, dtype=np.uint8)
    read_idx(paths[TRAIN_IMAGES], out=X[:n_train])
    read_idx(paths[TEST_IMAGES], out=X[n_train:])
    X = X.reshape(-1, N_PIXELS)
    y = np.concatenate([read_idx(paths[TRAIN_LABELS]), read_idx(paths[TEST_LABELS])])
    _check_labels(y, str(folder))
    return X, y, n_train


def _check_labels(y, where):
    if y.size and y.max() > 9:
        raise ValueError(f"{where} holds label {int(y.max())}; MNIST labels are 0..9")


# --------------------------------------------------------------------------- the cache


def _read_cache(path):
    # allow_pickle=False: an .npz may hold pickled objects, and unpickling runs code. Our
    # cache only ever holds plain arrays, so refuse anything else.
    with np.load(path, allow_pickle=False) as f:
        X, y, n_train = f["X"], f["y"], int(f["n_train"])
    if X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != N_PIXELS:
        raise ValueError(f"X has shape {X.shape} and dtype {X.dtype}, not (n, {N_PIXELS}) uint8")
    if y.dtype != np.uint8 or y.shape != (len(X),):
        raise ValueError(f"y has shape {y.shape} and dtype {y.dtype}, not ({len(X)},) uint8")
    if not 0 < n_train <= len(X):
        raise ValueError(f"n_train={n_train} does not fit {len(X)} rows")
    _check_labels(y, str(path))
    return X, y, n_train


def _write_cache(path, X, y, n_train):
    """Save the arrays for next time; return a note if that failed (loading still succeeded)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside it, then rename: a crash mid-write leaves no half-written cache
        # behind, because the rename is atomic. Uncompressed, so reading it back is quick.
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            np.savez(f, X=X, y=y, n_train=np.int64(n_train))
        os.replace(tmp, path)
        return f"cached in {path}"
    except OSError as e:
        return f"could not write the cache {path}: {e}"


# --------------------------------------------------------------------------- the network


def _download(info, cache_path, progress, timeout, tried):
    """Try each mirror, then OpenML. Return (X, y, n_train, source, where) or None."""
    import http.client   # the network modules are imported only when a download starts

    for base_url in info.mirrors:
        try:
            with tempfile.TemporaryDirectory(prefix="nncore-") as tmp:
                _fetch_idx_files(base_url, Path(tmp), progress, timeout)
                # Read back through the same checks as a local folder: a mirror serving
                # an error page or a cut-off file fails here, not during training.
                X, y, n_train = read_idx_folder(tmp)
            return X, y, n_train, "download", f"downloaded from {base_url}"
        except (OSError, ValueError, http.client.HTTPException) as e:
            tried.append(f"a download from {base_url} ({e})")
    try:
        X, y = _fetch_openml(info, cache_path.parent, progress, timeout)
        return X, y, N_STANDARD_TRAIN, "openml", f"fetched from OpenML ({info.openml_name})"
    except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
        tried.append(f"OpenML's {info.openml_name} through scikit-learn ({e})")
    return None


def _fetch_idx_files(base_url, folder, progress, timeout):
    import urllib.request

    chunk_size = 1 << 16
    for i, name in enumerate(IDX_FILES):
        url = f"{base_url}{name}.gz"
        with urllib.request.urlopen(url, timeout=timeout) as response, \
                open(folder / f"{name}.gz", "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(chunk_size):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    # Each of the four files counts for a quarter of the bar: simple, and
                    # honest enough (the sizes are not known before each file starts).
                    within = done / total if total else 0.0
                    size = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
                    progress(min((i + within) / len(IDX_FILES), 1.0), f"Downloading {name}.gz: {size}")
    if progress is not None:
        progress(1.0, "Download finished; checking the files")


def _fetch_openml(info, data_home, progress, timeout):
    import socket

    # Imported here: it is slow to import and only this last-resort path needs it.
    from sklearn.datasets import fetch_openml

    if progress is not None:
        progress(0.0, f"Fetching {info.openml_name} from OpenML (this can take a minute)")
    # fetch_openml opens its URLs without a timeout, so a dead network would hang it;
    # the socket default timeout is the only handle on that. Restore it right after.
    # n_retries=1 (the least scikit-learn accepts): the mirrors were already tried, and
    # more retries would only multiply the wait.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        bunch = fetch_openml(info.openml_name, version=1, data_home=str(data_home), as_frame=False,
                             parser="liac-arff", n_retries=1)
    finally:
        socket.setdefaulttimeout(previous)
    X = np.asarray(bunch.data)
    y = np.asarray(bunch.target).astype(np.int64)
    if X.shape != (N_STANDARD_TRAIN + N_STANDARD_TEST, N_PIXELS):
        raise ValueError(f"OpenML returned data of shape {X.shape}, not (70000, {N_PIXELS})")
    if X.min() < 0 or X.max() > 255 or y.min() < 0 or y.max() > 9:
        raise ValueError("OpenML returned pixels or labels outside 0..255 and 0..9")
    if progress is not None:
        progress(1.0, f"Fetched {info.openml_name} from OpenML")
    return X.astype(np.uint8), y.astype(np.uint8)
