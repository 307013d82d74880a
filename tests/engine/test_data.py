"""Tests for nncore.data: IDX files, the MNIST loading chain, the toy sets, splits, the registry.

Nothing here touches the network: an autouse fixture sets NNCORE_OFFLINE=1 and points the
cache at a temporary folder, and the download tests replace urllib's urlopen with a fake
that serves tiny IDX files. The one test on the real MNIST runs only when NNCORE_MNIST_DIR
names a folder of the four real files.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_circles as sk_make_circles
from sklearn.datasets import make_moons as sk_make_moons
from sklearn.model_selection import train_test_split

from nncore.data import (
    DATASETS,
    DataUnavailable,
    Dataset,
    load_dataset,
    load_mnist,
    make_seed002_clusters,
    make_spiral,
    make_xor,
    one_hot,
    read_idx,
    scale_images,
    train_val_test_split,
    write_idx,
)
from nncore.data import splits
from nncore.data.idx import idx_shape
from nncore.data.mnist import IDX_FILES, KINDS

# Read before the autouse fixture clears it for every other test.
REAL_MNIST_DIR = os.environ.get("NNCORE_MNIST_DIR")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's folders or cache, and none may reach the network."""
    for var in ("NNCORE_MNIST_DIR", "NNCORE_FASHION_MNIST_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NNCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NNCORE_OFFLINE", "1")


def make_idx_folder(folder, n_train=12, n_test=4, *, gz=True, seed=0):
    """Write four small IDX files like MNIST's; return the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_idx(folder / (name + ".gz" if gz else name), array)
    return arrays


def expected_rows(arrays):
    X = np.concatenate([arrays["train-images-idx3-ubyte"], arrays["t10k-images-idx3-ubyte"]])
    y = np.concatenate([arrays["train-labels-idx1-ubyte"], arrays["t10k-labels-idx1-ubyte"]])
    return X.reshape(len(X), 784), y


# ----------------------------------------------------------------------------- IDX files


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_round_trip(tmp_path, suffix):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 0, 255], dtype=np.uint8)
    write_idx(tmp_path / f"images{suffix}", images)
    write_idx(tmp_path / f"labels{suffix}", labels)
    assert np.array_equal(read_idx(tmp_path / f"images{suffix}"), images)
    assert np.array_equal(read_idx(tmp_path / f"labels{suffix}"), labels)
    # The byte layout is the published one, checked by hand rather than by read_idx.
    raw = (tmp_path / f"labels{suffix}").read_bytes()
    raw = gzip.decompress(raw) if suffix else raw
    assert raw == b"\x00\x00\x08\x01" + b"\x00\x00\x00\x03" + bytes([7, 0, 255])


def test_idx_gzip_is_detected_by_content_not_name(tmp_path):
    write_idx(tmp_path / "labels.gz", np.array([1, 2], dtype=np.uint8))
    os.rename(tmp_path / "labels.gz", tmp_path / "labels-without-suffix")
    assert read_idx(tmp_path / "labels-without-suffix").tolist() == [1, 2]


def test_idx_truncated_plain_file(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((2, 3, 4), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match=r"truncated.*24 bytes.*19 follow") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_idx_truncated_gzip_file(tmp_path):
    path = tmp_path / "images.gz"
    write_idx(path, np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="gzip data is damaged or truncated") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_idx_header_cut_short(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x02")  # promises 3 sizes, holds 1
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


def test_idx_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01" + b"\x00" * 4)  # 0x0D = float32
    with pytest.raises(ValueError, match=r"magic number 0x00000D01.*0x00000803.*0x00000801") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_idx_byte_count_mismatch(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.array([1, 2, 3], dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\x04\x05")
    with pytest.raises(ValueError, match="2 too many") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def write_lying_idx(path, n, images=True, data=bytes(100)):
    """An IDX file whose header promises n images of 28 × 28 (or n labels) but holds
    ``data`` (gzip-compressed when ``path`` ends in .gz)."""
    header = struct.pack(">IIII", 0x803, n, 28, 28) if images else struct.pack(">II", 0x801, n)
    raw = header + data
    path.write_bytes(gzip.compress(raw, mtime=0) if path.suffix == ".gz" else raw)


@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("n_images", [2**32 - 1, 1_000_000])
def test_an_idx_header_is_checked_against_the_file_before_anything_is_allocated(
        tmp_path, suffix, n_images):
    # (2³² − 1) × 28 × 28 is 3 TiB, a MemoryError if allocated; 10⁶ images, 784 MB that the
    # allocator hands out at once and a read of a tiny file would never fill.
    import tracemalloc

    path = tmp_path / f"images{suffix}"
    write_lying_idx(path, n_images)
    tracemalloc.start()
    try:
        for read in (read_idx, idx_shape):
            with pytest.raises(ValueError, match=f"{n_images * 784:,} bytes") as e:
                read(path)
            assert str(path) in str(e.value)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak


def test_a_folder_with_a_lying_idx_header_falls_back_to_the_cache(tmp_path):
    make_idx_folder(tmp_path / "m")     # its training part promises 2³² − 1 images
    write_lying_idx(tmp_path / "m" / "train-images-idx3-ubyte.gz", 2**32 - 1)
    write_lying_idx(tmp_path / "m" / "train-labels-idx1-ubyte.gz", 2**32 - 1, images=False)
    X = np.random.default_rng(0).integers(0, 256, (10, 784), dtype=np.uint8)
    write_cache(tmp_path / "cache", "mnist", X, np.arange(10, dtype=np.uint8), 7)
    X2, _, source, description = load_mnist(data_dir=tmp_path / "m")
    assert source == "cache" and np.array_equal(X2, X)
    assert f"the IDX folder {tmp_path / 'm'} was skipped" in description


def test_write_idx_refuses_what_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        write_idx(tmp_path / "x", np.zeros((3, 3), dtype=np.uint8))


# ----------------------------------------------------------------------------- MNIST from a folder


def test_load_mnist_from_data_dir_keeps_train_then_test(tmp_path):
    arrays = make_idx_folder(tmp_path / "mnist")
    X, y, source, description = load_mnist(data_dir=tmp_path / "mnist")
    X_expected, y_expected = expected_rows(arrays)
    assert X.dtype == np.uint8 and X.shape == (16, 784) and y.dtype == np.uint8
    assert np.array_equal(X[:12], arrays["train-images-idx3-ubyte"].reshape(12, 784))
    assert np.array_equal(X[12:], arrays["t10k-images-idx3-ubyte"].reshape(4, 784))
    assert np.array_equal(y, y_expected) and np.array_equal(X, X_expected)
    assert source == "idx-folder"
    assert str(tmp_path / "mnist") in description


def test_load_mnist_from_env_var_and_plain_files(tmp_path, monkeypatch):
    arrays = make_idx_folder(tmp_path / "plain", gz=False)
    monkeypatch.setenv("NNCORE_MNIST_DIR", str(tmp_path / "plain"))
    X, y, source, _ = load_mnist()
    assert source == "idx-folder"
    assert np.array_equal(X, expected_rows(arrays)[0])


def test_fashion_uses_its_own_env_var(tmp_path, monkeypatch):
    make_idx_folder(tmp_path / "digits", seed=1)
    fashion = make_idx_folder(tmp_path / "fashion", seed=2)
    monkeypatch.setenv("NNCORE_MNIST_DIR", str(tmp_path / "digits"))
    monkeypatch.setenv("NNCORE_FASHION_MNIST_DIR", str(tmp_path / "fashion"))
    X, _, _, description = load_mnist("fashion-mnist")
    assert np.array_equal(X, expected_rows(fashion)[0])
    assert description.startswith("Fashion-MNIST")


def test_folder_problems_are_reported(tmp_path):
    make_idx_folder(tmp_path / "m")
    os.remove(tmp_path / "m" / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DataUnavailable, match="missing t10k-labels-idx1-ubyte.gz"):
        load_mnist(data_dir=tmp_path / "m")
    make_idx_folder(tmp_path / "m")
    path = tmp_path / "m" / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))
    with pytest.raises(DataUnavailable, match="truncated"):
        load_mnist(data_dir=tmp_path / "m")


def test_load_dataset_mnist_from_folder_uses_the_standard_test_part(tmp_path):
    arrays = make_idx_folder(tmp_path / "m", n_train=40, n_test=8)
    data = load_dataset("mnist", data_dir=tmp_path / "m", val_fraction=0.25, seed=3)
    assert (data.name, data.source, data.image_shape) == ("mnist", "idx-folder", (28, 28))
    assert data.n_features == 784 and data.is_image and data.class_names[3] == "3"
    assert (data.n_train, data.n_val, data.n_test) == (30, 10, 8)
    expected_test = arrays["t10k-images-idx3-ubyte"].reshape(8, 784).astype(np.float32) / 255
    assert np.array_equal(data.X_test, expected_test)
    assert data.X_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert 0.0 <= data.X_train.min() and data.X_train.max() <= 1.0
    # train + val are exactly the 40 training images, each once.
    pool = np.vstack([data.X_train, data.X_val])
    train_scaled = arrays["train-images-idx3-ubyte"].reshape(40, 784).astype(np.float32) / 255
    assert sorted(map(bytes, pool)) == sorted(map(bytes, train_scaled))
    assert data.fallback_reason is None


def test_mnist_rows_are_the_seeded_stratified_split_of_the_training_images(tmp_path):
    """Train and validation rows, in order, are scikit-learn's stratified
    train_test_split of the training images (the split the app and the presets have always
    made), scaled by 1/255: the loader only chooses rows, then scales each once."""
    arrays = make_idx_folder(tmp_path / "m", n_train=300, n_test=20, seed=4)
    data = load_dataset("mnist", data_dir=tmp_path / "m", val_fraction=0.2, seed=9)
    images = arrays["train-images-idx3-ubyte"].reshape(300, 784)
    labels = arrays["train-labels-idx1-ubyte"]
    X_tr, X_va, y_tr, y_va = train_test_split(images, labels, test_size=60, random_state=9,
                                              stratify=labels)
    assert np.array_equal(data.X_train, X_tr.astype(np.float32) / np.float32(255))
    assert np.array_equal(data.X_val, X_va.astype(np.float32) / np.float32(255))
    assert np.array_equal(data.y_train, y_tr) and np.array_equal(data.y_val, y_va)


def test_loading_mnist_holds_little_more_than_its_pixels(tmp_path):
    """Peak memory of building the Dataset (tracemalloc, which NumPy reports to) is the
    float32 pixels, the uint8 images they come from (a quarter as much) and pieces of at
    most a MiB or two — not a copy of each part more (that was 1.47 × the pixels here)."""
    import tracemalloc

    make_idx_folder(tmp_path / "m", n_train=3000, n_test=500, seed=1)
    tracemalloc.start()
    try:
        data = load_dataset("mnist", data_dir=tmp_path / "m", val_fraction=0.1, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    pixels = sum(X.nbytes for X in (data.X_train, data.X_val, data.X_test))
    assert pixels == 3500 * 784 * 4
    assert peak < 1.25 * pixels + 2 * 2**20, peak / pixels


def test_read_idx_into_an_array_of_its_shape(tmp_path):
    images = np.random.default_rng(2).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "images.gz", images)
    out = np.zeros((5, 28, 28), np.uint8)
    assert read_idx(tmp_path / "images.gz", out=out[1:4]) is not None
    assert np.array_equal(out[1:4], images) and not out[0].any() and not out[4].any()
    with pytest.raises(ValueError, match=r"shape \(3, 28, 28\).*does not fit.*\(2, 28, 28\)"):
        read_idx(tmp_path / "images.gz", out=out[:2])


def test_limit_takes_a_seeded_subset(tmp_path):
    arrays = make_idx_folder(tmp_path / "m", n_train=300, n_test=150)
    a = load_dataset("mnist", data_dir=tmp_path / "m", limit=120, seed=5)
    b = load_dataset("mnist", data_dir=tmp_path / "m", limit=120, seed=5)
    c = load_dataset("mnist", data_dir=tmp_path / "m", limit=120, seed=6)
    assert a.n_train + a.n_val == 120
    assert a.n_test == 100  # max(120 // 6, 100)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)
    test_images = arrays["t10k-images-idx3-ubyte"].reshape(150, 784).astype(np.float32) / 255
    test_rows = {bytes(r) for r in test_images}
    assert all(bytes(r) in test_rows for r in a.X_test)
    assert "limit=120" in a.description


# ----------------------------------------------------------------------------- the cache


def write_cache(folder, kind, X, y, n_train):
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{kind}.npz", X=X, y=y, n_train=np.int64(n_train))


def test_load_from_cache(tmp_path):
    X = np.random.default_rng(0).integers(0, 256, (10, 784), dtype=np.uint8)
    y = np.arange(10, dtype=np.uint8)
    write_cache(tmp_path / "cache", "mnist", X, y, 7)
    X2, y2, source, description = load_mnist(allow_download=False)
    assert source == "cache" and str(tmp_path / "cache" / "mnist.npz") in description
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    data = load_dataset("mnist", val_fraction=0.0)
    assert (data.n_train, data.n_test) == (7, 3)


@pytest.mark.parametrize("content", ["garbage", "float pixels"])
def test_unreadable_cache_is_ignored_and_named(tmp_path, content):
    cache = tmp_path / "cache" / "mnist.npz"
    if content == "garbage":
        cache.parent.mkdir(parents=True)
        cache.write_bytes(b"PK\x03\x04 this is not a zip archive")
    else:
        write_cache(tmp_path / "cache", "mnist", np.zeros((4, 784)), np.zeros(4, np.uint8), 2)
    with pytest.raises(DataUnavailable, match="unreadable") as e:
        load_mnist(allow_download=False)
    assert str(cache) in str(e.value)


def test_folder_comes_before_a_bad_cache(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "mnist.npz").write_bytes(b"junk")
    make_idx_folder(tmp_path / "m")
    assert load_mnist(data_dir=tmp_path / "m", allow_download=False)[2] == "idx-folder"


# ----------------------------------------------------------------------------- no network


def test_offline_without_files_raises_a_helpful_message():
    with pytest.raises(DataUnavailable) as e:
        load_mnist(allow_download=False)
    message = str(e.value)
    assert "NNCORE_MNIST_DIR" in message and "allow_download=False" in message
    assert "train-images-idx3-ubyte.gz" in message
    with pytest.raises(DataUnavailable, match="NNCORE_OFFLINE=1"):
        load_mnist()  # allow_download=True, but the fixture set NNCORE_OFFLINE=1
    with pytest.raises(DataUnavailable, match="NNCORE_FASHION_MNIST_DIR"):
        load_mnist("fashion-mnist")


def test_load_dataset_falls_back_to_digits_and_says_so():
    data = load_dataset("mnist", seed=4, val_fraction=0.2)
    assert data.name == "digits" and data.source == "bundled" and data.image_shape == (8, 8)
    assert "NNCORE_MNIST_DIR" in data.fallback_reason
    assert "fallback" in data.description and data.fallback_reason in data.description
    assert data.n_train + data.n_val + data.n_test == 1797
    assert data.n_val == round(0.2 * 1797)  # the requested val_fraction is kept
    with pytest.raises(DataUnavailable, match="NNCORE_MNIST_DIR"):
        load_dataset("mnist", allow_fallback=False)
    with pytest.raises(DataUnavailable, match="Fashion-MNIST could not be loaded"):
        load_dataset("fashion-mnist", allow_fallback=False)


# ----------------------------------------------------------------------------- simulated download


class FakeResponse(io.BytesIO):
    """What urlopen returns, reduced to what the loader uses; serves 500 bytes per read."""

    def __init__(self, data):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}

    def read(self, size=-1):
        return super().read(min(size, 500) if size and size > 0 else 500)


@pytest.fixture
def fake_network(monkeypatch, tmp_path):
    """Serve a tiny MNIST at every mirror; return (arrays, log of (url, timeout), files)."""
    monkeypatch.delenv("NNCORE_OFFLINE")
    arrays = make_idx_folder(tmp_path / "served", n_train=30, n_test=10)
    files = {name: (tmp_path / "served" / f"{name}.gz").read_bytes() for name in IDX_FILES}
    log = []

    def urlopen(url, timeout=None):
        log.append((url, timeout))
        name = url.rsplit("/", 1)[1].removesuffix(".gz")
        if files.get("broken mirror") and url.startswith(files["broken mirror"]):
            return FakeResponse(files[name][:50])
        return FakeResponse(files[name])

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return arrays, log, files


def test_download_reports_progress_and_writes_the_cache(tmp_path, fake_network):
    arrays, log, _ = fake_network
    events = []
    X, y, source, description = load_mnist(progress=lambda f, m: events.append((f, m)), timeout=7)
    assert source == "download" and np.array_equal(X, expected_rows(arrays)[0])
    assert [url for url, _ in log] == [KINDS["mnist"].mirrors[0] + f"{n}.gz" for n in IDX_FILES]
    assert all(timeout == 7 for _, timeout in log)
    fractions = [f for f, _ in events]
    assert len(events) > 8, "progress should be reported as bytes arrive, not once per file"
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 <= fractions[0] < 0.25
    assert any("train-images-idx3-ubyte.gz" in m for _, m in events)
    cache = tmp_path / "cache" / "mnist.npz"
    assert cache.exists() and str(cache) in description
    # The next load needs no network.
    X2, _, source2, _ = load_mnist(allow_download=False)
    assert source2 == "cache" and np.array_equal(X, X2)


def test_a_mirror_serving_a_broken_file_is_skipped(tmp_path, fake_network):
    arrays, log, files = fake_network
    first, second = KINDS["mnist"].mirrors
    files["broken mirror"] = first
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "mnist.npz").write_bytes(b"junk from an interrupted run")
    X, _, source, description = load_mnist()
    assert source == "download" and second in description
    assert "unreadable cache" in description  # the skipped cache is mentioned, not hidden
    assert np.array_equal(X, expected_rows(arrays)[0])
    assert load_mnist(allow_download=False)[2] == "cache"  # and it was replaced by a good one


def test_a_mirror_serving_a_lying_idx_header_is_skipped(tmp_path, fake_network, monkeypatch):
    arrays, _, _ = fake_network
    first, second = KINDS["mnist"].mirrors
    write_lying_idx(tmp_path / "images.gz", 2**32 - 1)
    write_lying_idx(tmp_path / "labels.gz", 2**32 - 1, images=False)
    lying = {f"{first}train-images-idx3-ubyte.gz": (tmp_path / "images.gz").read_bytes(),
             f"{first}train-labels-idx1-ubyte.gz": (tmp_path / "labels.gz").read_bytes()}
    serve = urllib.request.urlopen

    def urlopen(url, timeout=None):
        return FakeResponse(lying[url]) if url in lying else serve(url, timeout)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    X, _, source, description = load_mnist()
    assert source == "download" and second in description
    assert np.array_equal(X, expected_rows(arrays)[0])


def test_openml_is_the_last_resort(monkeypatch):
    monkeypatch.delenv("NNCORE_OFFLINE")

    def no_network(url, timeout=None):
        raise urllib.error.URLError("no route to host")

    calls = []

    def fake_fetch_openml(name, **kwargs):
        calls.append((name, kwargs))
        raise urllib.error.URLError("no route to host either")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_fetch_openml)
    with pytest.raises(DataUnavailable) as e:
        load_mnist()
    message = str(e.value)
    assert all(mirror in message for mirror in KINDS["mnist"].mirrors)
    assert "mnist_784" in message and "NNCORE_MNIST_DIR" in message
    name, kwargs = calls[0]
    assert name == "mnist_784" and kwargs["as_frame"] is False and kwargs["parser"] == "liac-arff"


def test_openml_result_is_converted_and_cached(tmp_path, monkeypatch):
    monkeypatch.delenv("NNCORE_OFFLINE")

    def no_network(url, timeout=None):
        raise OSError("network is down")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    # OpenML gives float64 pixels; float32 tests the same conversion with half the memory.
    X_openml = np.zeros((70_000, 784), dtype=np.float32)
    X_openml[:, 0] = 255.0
    y_openml = np.array([str(i % 10) for i in range(70_000)], dtype=object)  # OpenML gives strings

    class Bunch:
        data, target = X_openml, y_openml

    monkeypatch.setattr("sklearn.datasets.fetch_openml", lambda name, **kw: Bunch)
    X, y, source, _ = load_mnist()
    assert source == "openml" and X.dtype == np.uint8 and X.shape == (70_000, 784)
    assert X[0, 0] == 255 and y[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    with np.load(tmp_path / "cache" / "mnist.npz") as f:
        assert int(f["n_train"]) == 60_000


# ----------------------------------------------------------------------------- the real MNIST


def test_real_mnist():
    if not REAL_MNIST_DIR:
        pytest.skip("NNCORE_MNIST_DIR is not set: the real MNIST test needs the four IDX files")
    X, y, source, _ = load_mnist(data_dir=REAL_MNIST_DIR, allow_download=False)
    assert source == "idx-folder"
    assert X.shape == (70_000, 784) and X.dtype == np.uint8 and y.shape == (70_000,)
    assert X.min() == 0 and X.max() == 255
    # Published label counts of the standard files.
    assert np.count_nonzero(y[:60_000] == 1) == 6742
    assert np.bincount(y[:60_000]).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y[60_000:]).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    data = load_dataset("mnist", data_dir=REAL_MNIST_DIR, allow_fallback=False)
    assert (data.n_train, data.n_val, data.n_test) == (54_000, 6_000, 10_000)
    assert np.array_equal(data.X_test, X[60_000:].astype(np.float32) / 255)
    assert 0.0 == data.X_train.min() and data.X_train.max() == 1.0


# ----------------------------------------------------------------------------- seed 002 clusters


def published_seed002_clusters():
    """Seed 002's code as published, global random state and all (restored afterwards)."""
    state = np.random.get_state()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the third matrix is not PSD
            np.random.seed(12)
            num_observations = 5000
            x1 = np.random.multivariate_normal([0, 0], [[2, .75], [.75, 2]], num_observations)
            x2 = np.random.multivariate_normal([1, 4], [[1, .75], [.75, 1]], num_observations)
            x3 = np.random.multivariate_normal([2, 8], [[0, .75], [.75, 0]], num_observations)
    finally:
        np.random.set_state(state)
    X = np.vstack((x1, x2, x3)).astype(np.float32)
    y = np.hstack((np.zeros(num_observations), np.ones(num_observations), np.ones(num_observations) + 1))
    return X, y


def test_seed002_clusters_match_the_published_recipe():
    X_pub, y_pub = published_seed002_clusters()
    state = np.random.get_state()[1].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our version must be silent
        X, y = make_seed002_clusters()
    assert np.array_equal(np.random.get_state()[1], state), "the global random state was touched"
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(X, X_pub) and np.array_equal(y, y_pub)


def test_clusters_dataset_has_the_published_split():
    X_pub, y_pub = published_seed002_clusters()
    X_tr, X_te, y_tr, y_te = train_test_split(X_pub, y_pub, test_size=.1, random_state=12)
    data = load_dataset("clusters")
    assert (data.n_train, data.n_val, data.n_test) == (13_500, 0, 1_500)
    assert np.array_equal(data.X_test, X_te) and np.array_equal(data.y_test, y_te)
    assert np.array_equal(data.X_train, X_tr) and np.array_equal(data.y_train, y_tr)
    assert data.image_shape is None and data.n_classes == 3


# ----------------------------------------------------------------------------- other 2-D sets


def all_rows(data):
    X = np.vstack([data.X_train, data.X_val, data.X_test])
    y = np.concatenate([data.y_train, data.y_val, data.y_test])
    order = np.lexsort((X[:, 1], X[:, 0]))
    return X[order], y[order]


@pytest.mark.parametrize("name, sk_make, kwargs", [
    ("moons", sk_make_moons, {}),
    ("circles", sk_make_circles, {"factor": 0.5}),
])
def test_moons_and_circles_are_sklearns(name, sk_make, kwargs):
    data = load_dataset(name, n_samples=400, noise=0.15, seed=7)
    X_sk, y_sk = sk_make(400, noise=0.15, random_state=7, **kwargs)
    X_sk = X_sk.astype(np.float32)
    order = np.lexsort((X_sk[:, 1], X_sk[:, 0]))
    X, y = all_rows(data)
    assert np.array_equal(X, X_sk[order]) and np.array_equal(y, y_sk[order])
    assert (data.n_train, data.n_val, data.n_test) == (280, 40, 80)
    assert data.X_train.dtype == np.float32 and data.image_shape is None


def test_moons_defaults_are_seed_003s():
    data = load_dataset("moons")
    X_sk, _ = sk_make_moons(1000, noise=0.2, random_state=0)
    assert np.array_equal(all_rows(data)[0], X_sk.astype(np.float32)[np.lexsort((X_sk[:, 1], X_sk[:, 0]))])


def test_xor_four_points():
    data = load_dataset("xor")
    assert data.X_train.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert data.y_train.tolist() == [0, 1, 1, 0]
    assert np.array_equal(data.X_test, data.X_train) and np.array_equal(data.y_test, data.y_train)
    assert data.X_val.shape == (0, 2) and data.y_val.shape == (0,)


def test_xor_cloud():
    X, y = make_xor(400, noise=0.1, seed=1)
    assert X.shape == (400, 2) and np.bincount(y).tolist() == [200, 200]
    # With little noise every point stays nearest its corner, whose XOR is the label.
    corner = np.round(X).clip(0, 1).astype(int)
    assert np.array_equal(corner[:, 0] ^ corner[:, 1], y)
    assert np.array_equal(make_xor(400, noise=0.1, seed=1)[0], X)
    assert not np.array_equal(make_xor(400, noise=0.1, seed=2)[0], X)
    assert load_dataset("xor", n_samples=200).n_val == 20


def test_spiral():
    X, y = make_spiral(301, noise=0.2, seed=3)
    assert X.shape == (301, 2) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [101, 100, 100]
    assert np.linalg.norm(X, axis=1).max() <= 1.0 + 1e-6  # noise moves the angle, not the radius
    assert np.array_equal(make_spiral(301, 0.2, 3)[0], X)
    assert not np.array_equal(make_spiral(301, 0.2, 4)[0], X)
    data = load_dataset("spiral", n_samples=600)
    assert data.n_classes == 3 and np.bincount(data.y_test).tolist() == [40, 40, 40]


# ----------------------------------------------------------------------------- splits


def test_split_sizes_disjoint_and_complete():
    X = np.arange(200).reshape(100, 2)
    y = np.repeat([0, 1], 50)
    X_tr, y_tr, X_va, y_va, X_te, y_te = train_val_test_split(
        X, y, val_fraction=0.1, test_fraction=0.2, seed=0)
    assert (len(X_tr), len(X_va), len(X_te)) == (70, 10, 20)
    ids = [set(part[:, 0]) for part in (X_tr, X_va, X_te)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert set.union(*ids) == set(X[:, 0])
    for Xp, yp in ((X_tr, y_tr), (X_va, y_va), (X_te, y_te)):  # rows keep their labels
        assert np.array_equal(y[Xp[:, 0] // 2], yp)


@pytest.mark.parametrize("stratify", [False, True])
def test_splits_are_scikit_learns_train_test_split_row_for_row(stratify):
    """splits.py writes out train_test_split so as not to import scikit-learn: same seed,
    same rows, in the same order — on random sizes, class counts and seeds, and on an
    MNIST-sized set (60,000 uint8 labels, 6,000 held out)."""
    rng = np.random.default_rng(7)
    cases = [(rng.integers(0, rng.integers(1, 8), n), int(rng.integers(1, n)),
              int(rng.integers(0, 2**32))) for n in rng.integers(4, 300, 150)]
    cases.append((rng.integers(0, 10, 60_000).astype(np.uint8), 6_000, 0))
    cases.append((np.repeat([0, 1, 2], [5, 7, 3]), 4, 12))          # ties in the shares
    for y, n_part, seed in cases:
        X = np.arange(len(y))
        _, counts = np.unique(y, return_counts=True)
        can = counts.min() >= 2 and min(n_part, len(y) - n_part) >= len(counts)
        X_rest, y_rest, X_part, y_part = splits._split_off(X, y, n_part, seed, stratify)
        expected = train_test_split(X, y, test_size=n_part, random_state=seed,
                                    stratify=y if stratify and can else None)
        for ours, theirs in zip((X_rest, X_part, y_rest, y_part), expected):
            assert np.array_equal(ours, theirs), (len(y), n_part, seed)


def test_importing_the_data_sets_does_not_import_scikit_learn():
    """scikit-learn (with SciPy and pandas) is imported only by what uses it: the 8×8
    digits, the toy 2-D sets, the OpenML download. The command line starts without it."""
    code = ("import sys, nncore, nncore.data, nncore.runs.run, nncore.cli; "
            "heavy = sorted(m for m in ('sklearn', 'scipy', 'pandas') if m in sys.modules); "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == ""


def test_split_stratifies():
    y = np.array([0] * 80 + [1] * 20)
    X = np.arange(100)[:, None]
    _, y_tr, _, y_va, _, y_te = train_val_test_split(X, y, val_fraction=0.1, test_fraction=0.2, seed=3)
    assert np.bincount(y_te).tolist() == [16, 4]
    assert np.bincount(y_va).tolist() == [8, 2]
    assert np.bincount(y_tr).tolist() == [56, 14]


def test_split_seed():
    X, y = np.arange(100)[:, None], np.repeat([0, 1], 50)
    a = train_val_test_split(X, y, val_fraction=0.1, test_fraction=0.2, seed=1)
    b = train_val_test_split(X, y, val_fraction=0.1, test_fraction=0.2, seed=1)
    c = train_val_test_split(X, y, val_fraction=0.1, test_fraction=0.2, seed=2)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[4], c[4])


def test_split_empty_parts_and_tiny_sets():
    X, y = np.arange(10)[:, None], np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    X_tr, _, X_va, y_va, X_te, _ = train_val_test_split(X, y, val_fraction=0.0, test_fraction=0.1, seed=0)
    assert X_va.shape == (0, 1) and y_va.shape == (0,) and len(X_tr) == 9 and len(X_te) == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"val_fraction": 0.5, "test_fraction": 0.5}, "below 1"),
    ({"val_fraction": -0.1, "test_fraction": 0.2}, "val_fraction"),
    ({"val_fraction": 0.1, "test_fraction": 1.0}, "test_fraction"),
    ({"val_fraction": 0.1, "test_fraction": 0.2, "seed": -3}, "seed"),
])
def test_split_bad_arguments(kwargs, match):
    kwargs = {"seed": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        train_val_test_split(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match="one label per example"):
        train_val_test_split(np.zeros((10, 2)), np.zeros(9), val_fraction=0.1, test_fraction=0.1, seed=0)


def test_one_hot():
    assert one_hot(np.array([2, 0, 1]), 3).tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert one_hot(np.array([1.0, 0.0]), 2).dtype == np.float32
    assert one_hot(np.array([], dtype=np.int64), 4).shape == (0, 4)


@pytest.mark.parametrize("y, n_classes, match", [
    ([0, 3], 3, "label 3 is out of range"),
    ([-1, 0], 3, "out of range"),
    ([0.5, 1.0], 3, "whole-number"),
    (["a", "b"], 3, "integer class indices"),
    ([[0, 1]], 3, "1-D"),
    ([0, 1], 0, "n_classes"),
])
def test_one_hot_errors(y, n_classes, match):
    with pytest.raises(ValueError, match=match):
        one_hot(np.array(y), n_classes)


def test_scale_images():
    X = np.array([[0, 51, 255]], dtype=np.uint8)
    scaled = scale_images(X)
    assert scaled.dtype == np.float32 and np.allclose(scaled, [[0.0, 0.2, 1.0]])
    with pytest.raises(ValueError, match="uint8"):
        scale_images(scaled)


# ----------------------------------------------------------------------------- registry and arguments


def test_every_dataset_loads_with_its_defaults():
    for name, info in DATASETS.items():
        given = {k: v for k, v in info.defaults().items() if v is not None}
        if name == "points":          # your own points: the defaults hold no points yet
            given["points"] = "AAAAAAABEAAAEAAB"    # two points of class 0, two of class 1
        data = load_dataset(name, **given)
        assert isinstance(data, Dataset) and data.X_train.dtype == np.float32
        assert data.is_image == (info.kind == "image")
        # MNIST falls back to the digits here (offline), and says so.
        assert (data.name == name) != (data.fallback_reason is not None)


def test_registry_defaults_are_in_range():
    for info in DATASETS.values():
        for key, spec in info.params.items():
            assert spec.default is None or spec.min <= spec.default <= spec.max, (info.name, key)
            assert spec.check(key, spec.default) == spec.default


def test_param_clamp_for_link_values():
    n_samples = DATASETS["moons"].params["n_samples"]
    assert n_samples.clamp("5") == 50 and n_samples.clamp("99999") == 20_000
    assert n_samples.clamp("300.7") == 300 and n_samples.clamp("abc") == 1000
    assert DATASETS["moons"].params["noise"].clamp("nan") == 0.2
    assert DATASETS["mnist"].params["limit"].clamp(None) is None


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "cifar"}, "name must be one of .*'mnist'.*got 'cifar'"),
    ({"name": "moons", "n_samples": 5}, "n_samples for 'moons' must be an integer from 50 to 20000; got 5"),
    ({"name": "moons", "n_samples": 100.5}, "n_samples .* got 100.5"),
    ({"name": "moons", "noise": -0.1}, "noise .* from 0.0 to 1.0; got -0.1"),
    ({"name": "circles", "val_fraction": 0.9}, "val_fraction .* got 0.9"),
    ({"name": "spiral", "test_fraction": 0.0}, "test_fraction .* from 0.05 to 0.5; got 0.0"),
    ({"name": "digits", "seed": -1}, "seed .* got -1"),
    ({"name": "mnist", "limit": 10}, "limit .* from 100 to 70000"),
    ({"name": "mnist", "noise": 0.1}, "noise does not apply to 'mnist'"),
    ({"name": "moons", "limit": 500}, "limit does not apply to 'moons'"),
    ({"name": "moons", "seed": True}, "seed .* got True"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dataset(**kwargs)


def test_load_mnist_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        load_mnist("emnist")
    with pytest.raises(ValueError, match="timeout"):
        load_mnist(timeout=0)


def test_dataset_checks_its_arrays():
    X, y = np.zeros((3, 2), np.float32), np.zeros(3, np.int64)
    fields = dict(name="t", description="t", source="generated", X_train=X, y_train=y, X_val=X, y_val=y,
                  X_test=X, y_test=y, n_classes=1, class_names=("a",), image_shape=None)
    assert Dataset(**fields).n_features == 2
    with pytest.raises(ValueError, match="X_val must be a 2-D float32"):
        Dataset(**{**fields, "X_val": X.astype(np.float64)})
    with pytest.raises(ValueError, match="y_test holds labels"):
        Dataset(**{**fields, "y_test": np.array([0, 0, 1])})


def test_openml_is_called_with_arguments_scikit_learn_accepts(monkeypatch, tmp_path):
    """The real fetch_openml runs (its argument checks included) and only its network is cut:
    the failure must be the network's, not a rejected argument."""
    import sklearn.datasets._openml as openml

    monkeypatch.delenv("NNCORE_OFFLINE")
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout=None: (_ for _ in ()).throw(urllib.error.URLError("offline")))

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("openml offline")

    monkeypatch.setattr(openml, "_open_openml_url", no_network)
    with pytest.raises(DataUnavailable) as e:
        load_mnist(cache_dir=tmp_path)
    message = str(e.value)
    assert "openml offline" in message, message
    assert "parameter" not in message, message
