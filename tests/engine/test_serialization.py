"""Save → load is exact, and every malformed file is refused with a ModelFileError whose
message names the problem — without ever unpickling anything."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from nncore import ActivationLayer, Dense, Dropout, ModelFileError, Network, load, save
from nncore.serialization import FORMAT, VERSION


@pytest.fixture(params=[np.float32, np.float64])
def net(request):
    rng = np.random.default_rng(0)
    n = Network([Dense(4, 6, "relu"), Dropout(0.3), Dense(6, 5, "linear"), ActivationLayer("tanh"),
                 Dense(5, 3, "softmax", init="normal-0.1")],
                optimizer={"name": "adam", "lr": 0.003}, l2=1e-3, seed=4, dtype=request.param)
    n.fit(rng.normal(size=(40, 4)), rng.integers(0, 3, 40), epochs=2, batch_size=8)
    n.metadata = {"preset": "custom", "dataset": {"name": "blobs", "n_features": 4,
                                                  "class_names": ["a", "b", "c"]},
                  "spec": {"epochs": 2, "hidden": [{"units": 6}]}, "note": "naïve ünïcode ✓",
                  "history": {"train_loss": [1.0, 0.5]}, "score": 0.97}
    return n


def test_save_load_is_exact(net, tmp_path):
    path = tmp_path / "model.npz"
    save(net, path)
    back = load(path)
    assert back.dtype == net.dtype
    assert [l.get_config() for l in back.layers] == [l.get_config() for l in net.layers]
    assert back.loss.name == net.loss.name and back.l2 == net.l2
    assert back.optimizer.get_config() == net.optimizer.get_config()
    assert len(back.parameters()) == len(net.parameters()) == 6
    for (n1, p, _), (n2, q, _) in zip(net.parameters(), back.parameters()):
        assert n1 == n2 and p.dtype == q.dtype and np.array_equal(p, q)
    assert back.metadata == net.metadata
    assert back.seed == net.seed == 4 and net.copy().seed == 4   # it seeds fit's shuffling
    X = np.random.default_rng(1).normal(size=(30, 4))
    assert np.array_equal(back.predict_proba(X), net.predict_proba(X))
    assert np.array_equal(back.predict(X), net.predict(X))


def test_save_adds_the_extension_and_loads_from_bytes_and_file_objects(net, tmp_path):
    save(net, tmp_path / "m")
    assert (tmp_path / "m.npz").exists() and not (tmp_path / "m.npz.tmp").exists()
    data = (tmp_path / "m.npz").read_bytes()
    for source in (data, io.BytesIO(data), open(tmp_path / "m.npz", "rb")):
        back = load(source)
        assert np.array_equal(back.layers[0].W, net.layers[0].W)
    buf = io.BytesIO()
    save(net, buf)
    assert np.array_equal(load(buf.getvalue()).layers[-1].b, net.layers[-1].b)


# ------------------------------------------------------------------ malformed files
@pytest.fixture
def good(tmp_path):
    n = Network([Dense(2, 3, "relu"), Dense(3, 2, "softmax")], seed=0)
    path = tmp_path / "good.npz"
    save(n, path)
    with np.load(path) as data:          # our own good file: safe to read
        members = {k: data[k] for k in data.files}
    return path, members


def write_npz(path, members):
    np.savez(path, **members)
    return path


def header_of(members):
    return json.loads(str(members["model.json"]))


def with_header(members, header):
    return {**members, "model.json": np.array(json.dumps(header))}


def refused(source, *fragments):
    with pytest.raises(ModelFileError) as err:
        load(source)
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message
    return message


def test_missing_file(tmp_path):
    refused(tmp_path / "nope.npz", "No model file at", "nope.npz")


def test_truncated_file(good, tmp_path):
    path, _ = good
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 5):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        refused(bad, "truncated or corrupted")
    refused(b"", "is empty")


def test_corrupted_bytes_inside_a_member(good, tmp_path):
    path, _ = good
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle:middle + 40] = bytes(40)
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        load(bad)


def test_random_bytes(tmp_path):
    bad = tmp_path / "random.npz"
    bad.write_bytes(np.random.default_rng(0).bytes(2000))
    message = refused(bad, "not an nncore model file", "not an .npz archive")
    assert "pickle" not in message          # it is not a pickle: do not say so


def test_a_single_npy_array(tmp_path):
    np.save(tmp_path / "array.npy", np.zeros(3))
    refused(tmp_path / "array.npy", "single NumPy array (.npy)")


def test_a_zip_with_garbage(tmp_path):
    bad = tmp_path / "garbage.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("model.json.npy", b"this is not an npy file at all" * 3)
    refused(bad, "'model.json' is not a NumPy array")
    other = tmp_path / "text.npz"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", b"hello")
    refused(other, "is not a NumPy array")


def test_an_npz_without_model_json(tmp_path):
    refused(write_npz(tmp_path / "plain.npz", {"weights": np.zeros((2, 2))}),
            "not an nncore model", "no model.json entry")


def test_model_json_that_is_not_text(good, tmp_path):
    _, members = good
    refused(write_npz(tmp_path / "m.npz", {**members, "model.json": np.zeros(3)}),
            "model.json entry is not a JSON text")


def test_bad_json(good, tmp_path):
    _, members = good
    refused(write_npz(tmp_path / "m.npz", {**members, "model.json": np.array("{not json")}),
            "not valid JSON")
    refused(write_npz(tmp_path / "n.npz", {**members, "model.json": np.array("[1, 2]")}),
            "not a JSON object")


def test_wrong_format_or_version(good, tmp_path):
    _, members = good
    h = header_of(members)
    refused(write_npz(tmp_path / "f.npz", with_header(members, {**h, "format": "keras"})),
            "not an nncore model file", "'keras'")
    refused(write_npz(tmp_path / "v.npz", with_header(members, {**h, "version": VERSION + 1})),
            f"format version {VERSION + 1}", f"reads {VERSION}")
    assert h["format"] == FORMAT


def test_bad_layer_descriptions(good, tmp_path):
    _, members = good
    h = header_of(members)
    h1 = json.loads(json.dumps(h))
    h1["network"]["layers"][0]["type"] = "Conv3D"
    refused(write_npz(tmp_path / "a.npz", with_header(members, h1)), "Unknown layer description")
    h2 = json.loads(json.dumps(h))
    h2["network"]["layers"][0]["activation"] = "swish"
    refused(write_npz(tmp_path / "b.npz", with_header(members, h2)), "Unknown activation 'swish'")
    h3 = json.loads(json.dumps(h))
    del h3["network"]["layers"]
    refused(write_npz(tmp_path / "c.npz", with_header(members, h3)), "no list of layers")


def test_wrong_shaped_array(good, tmp_path):
    _, members = good
    refused(write_npz(tmp_path / "m.npz", {**members, "layer0.W": np.zeros((3, 2), np.float32)}),
            "layer0.W has shape (3, 2)", "needs (2, 3)")


def test_missing_array(good, tmp_path):
    _, members = good
    refused(write_npz(tmp_path / "m.npz", {k: v for k, v in members.items() if k != "layer1.b"}),
            "missing the array layer1.b")


def test_extra_array(good, tmp_path):
    _, members = good
    refused(write_npz(tmp_path / "m.npz", {**members, "layer7.W": np.zeros(2, np.float32)}),
            "arrays the described layers do not have", "layer7.W")


def test_nan_and_non_float_weights(good, tmp_path):
    _, members = good
    W = members["layer0.W"].copy()
    W[1, 1] = np.nan
    refused(write_npz(tmp_path / "nan.npz", {**members, "layer0.W": W}),
            "layer0.W contains NaN or infinite values")
    W[1, 1] = np.inf
    refused(write_npz(tmp_path / "inf.npz", {**members, "layer0.W": W}), "NaN or infinite")
    refused(write_npz(tmp_path / "int.npz", {**members, "layer0.W": np.zeros((2, 3), np.int64)}),
            "layer0.W holds int64 values, not floats")


class CreatesFileWhenUnpickled:
    """A pickle payload: unpickling it calls open(path, "w"), creating the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_bearing_npz_is_refused_and_nothing_is_unpickled(good, tmp_path):
    _, members = good
    marker = tmp_path / "UNPICKLED"
    evil = np.empty(1, dtype=object)
    evil[0] = CreatesFileWhenUnpickled(marker)
    path = tmp_path / "evil.npz"
    np.savez(path, **{**members, "layer0.W": evil})
    refused(path, "pickled Python objects", "never loaded")
    assert not marker.exists()

    # Control: the payload is live — loading it *with* pickle does create its marker.
    control_marker = tmp_path / "CONTROL"
    control = np.empty(1, dtype=object)
    control[0] = CreatesFileWhenUnpickled(control_marker)
    control_path = tmp_path / "control.npz"
    np.savez(control_path, evil=control)
    with np.load(control_path, allow_pickle=True) as data:
        data["evil"]
    assert control_marker.exists()


def test_a_raw_pickle_file_is_refused_and_not_unpickled(tmp_path):
    marker = tmp_path / "UNPICKLED"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(CreatesFileWhenUnpickled(marker)))
    refused(path, "not an nncore model file")
    assert not marker.exists()



@pytest.mark.parametrize("seed", ["4", -1, True, 2.5])
def test_a_seed_that_is_not_a_whole_number_is_dropped(good, tmp_path, seed):
    _, members = good
    members = dict(members)
    header = json.loads(str(members["model.json"]))
    header["network"]["seed"] = seed
    members["model.json"] = np.array(json.dumps(header))
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    assert load(buffer.getvalue()).seed is None
