"""Model files made to hurt the server: every one is refused with a ModelFileError before
the memory or the work it asks for is spent, and no pickle inside one ever runs.

The bound is measured where it is cheap: ``tracemalloc`` records the peak memory of each
load (NumPy reports its arrays to it), and a spy on ``Network.from_config`` shows that no
layer was built (no weights drawn) for a file that is refused.
"""

from __future__ import annotations

import io
import json
import pickle
import random
import signal
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from nncore import ModelFileError, Network, load, save
from nncore.archive import ArchiveError, NpzLimits, open_npz
from nncore.layers import Dense
from nncore.runs.schema import DENSE, LIMITS, RUN
from nncore.runs.spec import RunSpec, build_network, count_parameters
from nncore.model_files.description import MAX_JSON, MAX_JSON_DEPTH, json_depth
from nncore.model_files.plan import plan_model
from nncore.serialization import FILE_LIMITS
from nncore.stepping import work_per_sample

MB = 1024 * 1024


# ------------------------------------------------------------------ making files
def npz(members: dict, compressed: bool = True) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **members)
    return buf.getvalue()


def model_json(layers, metadata=None, **network) -> np.ndarray:
    return np.array(json.dumps({"format": "nncore-model", "version": 1,
                                "network": {"layers": layers, **network},
                                "metadata": metadata or {}}))


def dense(n_in, n_out, activation="relu"):
    return {"type": "Dense", "in_features": n_in, "out_features": n_out,
            "activation": activation, "init": "he"}


def npy_header(shape, descr="<f4") -> bytes:
    """An .npy version 1.0 header promising ``shape`` of ``descr``, as NumPy writes one."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def small_model() -> Network:
    net = Network([Dense(4, 3, "relu"), Dense(3, 2, "softmax")], seed=0)
    net.metadata = {"dataset": {"name": "blobs", "n_features": 4, "n_classes": 2,
                                "class_names": ["a", "b"], "image_shape": None},
                    "spec": {"data": {"name": "moons"}, "hidden": [{"units": 3}]},
                    "history": {"train_loss": [0.5, 0.25], "stop_reason": None},
                    "preset": "custom"}
    return net


def saved(net) -> bytes:
    buf = io.BytesIO()
    save(net, buf)
    return buf.getvalue()


def members_of(data: bytes) -> dict:
    with np.load(io.BytesIO(data)) as f:       # our own good file: safe to read
        return {k: f[k] for k in f.files}


# ------------------------------------------------------------------ the measure
@pytest.fixture
def built(monkeypatch):
    """Counts the networks built from a description (each build draws its weights)."""
    calls = []
    original = Network.from_config.__func__

    def spy(cls, config):
        calls.append(config)
        return original(cls, config)

    monkeypatch.setattr(Network, "from_config", classmethod(spy))
    return calls


def refused(data, *fragments, peak_mb: float = 8.0) -> str:
    """Load ``data``; it must be refused with a ModelFileError naming ``fragments``, one
    line long, with peak memory during the load under ``peak_mb``."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as err:
            load(data, name="hostile.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message and len(message) < 400, message
    assert peak < peak_mb * MB, f"{peak / MB:.1f} MB peak for: {message}"
    return message


# ------------------------------------------------------------------ sizes read, not spent
def test_a_huge_dense_layer_is_refused_from_its_description_without_drawing_weights(built):
    # 2·10⁸ weights: 699 bytes of file, 2.5 GB and 12-21 s when the layer was built first
    data = npz({"model.json": model_json([dense(10_000, 20_000)])})
    assert len(data) < 1000
    refused(data, "in_features must be a whole number from 1 to 1024, got 10000")
    assert built == []


def test_layers_wider_than_a_run_allows_are_refused_even_with_every_array_present(built):
    layers = [dense(784, 2000), dense(2000, 10, "softmax")]
    data = npz({"model.json": model_json(layers),
                "layer0.W": np.zeros((784, 2000), np.float32), "layer0.b": np.zeros(2000, np.float32),
                "layer1.W": np.zeros((2000, 10), np.float32), "layer1.b": np.zeros(10, np.float32)})
    refused(data, "out_features must be a whole number from 1 to "
                  f"{DENSE['units'].high}, got 2000", peak_mb=4)
    assert built == []


def test_the_issue_s_784_4096_4096_4096_10_file_of_zeros_is_refused(built):
    sizes = [784, 4096, 4096, 4096, 10]
    members = {"model.json": model_json([dense(a, b) for a, b in zip(sizes, sizes[1:])])}
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        members[f"layer{i}.W"] = np.zeros((a, b), np.float32)
        members[f"layer{i}.b"] = np.zeros(b, np.float32)
    data = npz(members)
    assert len(data) < 200_000                         # 145 KB: zeros compress well
    refused(data, "larger than any model this app makes")
    assert built == []


@pytest.mark.parametrize("layers, fragment", [
    # a convolution whose flattened maps feed 1024 units: 1.3·10⁸ parameters
    ([{"type": "Reshape", "target_shape": [1, 32, 32]},
      {"type": "Conv2D", "in_channels": 1, "out_channels": 128, "kernel_size": 3, "padding": 1},
      {"type": "Flatten"}, dense(128 * 32 * 32, 1024)], "parameters, above the limit"),
    # 128 → 128 filters of 9×9 on 32×32 maps, twice: 2.7·10⁹ multiply-adds per sample
    ([{"type": "Reshape", "target_shape": [1, 32, 32]},
      {"type": "Conv2D", "in_channels": 1, "out_channels": 128, "kernel_size": 9, "padding": 4},
      {"type": "Conv2D", "in_channels": 128, "out_channels": 128, "kernel_size": 9, "padding": 4},
      {"type": "Conv2D", "in_channels": 128, "out_channels": 128, "kernel_size": 9, "padding": 4},
      {"type": "Flatten"}, dense(128 * 32 * 32, 2)], "multiply-adds per sample"),
    ([dense(8, 8)] * (LIMITS["max_hidden_layers"] + 2), "layers; a run has at most"),
    ([{"type": "Dropout", "rate": 0.1}] * 100, "layer entries"),
    ([{"type": "Reshape", "target_shape": [1, 4000, 4000]}], "above the limit of 1,024"),
    ([{"type": "Reshape", "target_shape": [1, 28, 28]},
      {"type": "Conv2D", "in_channels": 1, "out_channels": 8, "kernel_size": 99}],
     "kernel_size must be a whole number from 1 to 9"),
    ([{"type": "Reshape", "target_shape": [1, 28, 28]},
      {"type": "MaxPool2D", "pool_size": 2, "stride": 10**30}], "stride must be a whole number"),
    ([dense(True, 3)], "in_features must be a whole number"),
    ([dense(4.0, 3)], "in_features must be a whole number"),
    ([dense(4, 3), dense(5, 2)], "takes 5 inputs, but the layer before it gives 3"),
    ([{"type": "Flatten"}, dense(4, 2)], "nothing fixes the input size"),
    ([dense(4, 3), {"type": "Conv2D", "in_channels": 1, "out_channels": 2}], "needs images"),
    (["Dense"], "Unknown layer description"),
])
def test_absurd_layer_descriptions_are_refused_before_anything_is_built(built, layers, fragment):
    refused(npz({"model.json": model_json(layers)}), fragment)
    assert built == []


def test_a_zip_bomb_is_refused_from_its_directory():
    buf = io.BytesIO()     # 1 MB that inflates to 1 GB
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("model.json.npy", "w", force_zip64=True) as member:
            for _ in range(1024):
                member.write(bytes(MB))
    data = buf.getvalue()
    assert len(data) < 2 * MB
    refused(data, "unpacks to 1,073.7 MB, above the limit", peak_mb=4)


def _lie_about_sizes(data: bytes, size: int) -> bytes:
    """The zip with every member's declared unpacked size replaced by ``size`` (in the local
    header, offset 22, and in the central directory, offset 24)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = out.find(signature)
        while at >= 0:
            out[at + offset:at + offset + 4] = struct.pack("<I", size)
            at = out.find(signature, at + 4)
    return bytes(out)


def test_a_zip_bomb_that_lies_about_its_size_is_cut_off_at_the_size_it_declares():
    header = npy_header((), "<U16")                  # 64 bytes of text promised …
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("model.json.npy", "w") as member:   # … 256 MB delivered
            member.write(header)
            for _ in range(256):
                member.write(bytes(MB))
    data = _lie_about_sizes(buf.getvalue(), len(header) + 64)
    assert len(data) < MB
    # The directory now claims a small member: its header is read, the reading of its data
    # stops at the size the directory declares, and the checksum gives the lie away.
    refused(data, "truncated or corrupted", "CRC", peak_mb=2)


def test_a_hundred_million_character_json_is_refused_from_its_header():
    data = npz({"model.json": np.array(" " * 100_000_000 + "{}")})
    assert len(data) < 500_000
    refused(data, "larger than any model this app makes", peak_mb=4)
    # just over the JSON limit, but inside the unpacked cap: refused by the header's dtype
    refused(npz({"model.json": np.array(" " * (MAX_JSON + 1))}), "not a JSON text", peak_mb=4)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 10_000, 200_000])
def test_deeply_nested_json_is_measured_before_it_is_parsed(depth):
    text = '{"format": "nncore-model", "version": 1, "x": ' + "[" * depth + "]" * depth + "}"
    message = refused(npz({"model.json": np.array(text)}), f"nests {depth + 1:,} levels")
    assert "Recursion" not in message


def test_json_depth_counts_brackets_outside_strings_only():
    assert json_depth('{"a": [1, {"b": "[[[[{{"}], "c": "\\"]]"}') == 3
    assert json_depth("[]") == 1 and json_depth('"[["') == 0 and json_depth("7") == 0
    assert json_depth("[" * 50 + "]" * 50) == 50


def _seconds_within(limit: float, call, *args) -> bool:
    """Whether ``call(*args)`` returns within ``limit`` seconds; it is interrupted if not
    (SIGALRM: the regular-expression engine and Python code both stop for it)."""
    def late(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, late)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        call(*args)
        return True
    except TimeoutError:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class CountedText(str):
    """A text that counts the characters read from it."""

    def __iter__(self):
        self.read = 0
        for c in str.__iter__(self):
            self.read += 1
            yield c


def test_an_unterminated_string_is_read_once_as_a_terminated_one_is():
    # In  "\"\"\"\"…  every quote may open a string that never closes: a measurement that
    # starts again at each quote reads the text over and over (at MAX_JSON characters: half
    # a day). Counted in characters read, not seconds: one pass each, closed or not.
    escapes = '\\"' * 50_000
    for text in ('"' + escapes + '"', '"' + escapes + " "):
        counted = CountedText(text)
        assert json_depth(counted) == 0
        assert counted.read == len(text)
    # and whatever way of reading it: the longest text allowed, in a minute (one pass takes
    # a fraction of a second; starting again at every quote, hours)
    longest = '"' + '\\"' * ((MAX_JSON - 2) // 2) + " "
    assert _seconds_within(60.0, json_depth, longest)


def test_a_huge_integer_in_json_is_a_model_file_error():
    text = ('{"format": "nncore-model", "version": 1, "network": {"layers": ['
            '{"type": "Dense", "in_features": ' + "9" * 5000 + ', "out_features": 2}]}}')
    refused(npz({"model.json": np.array(text)}), "not valid JSON")


def test_too_many_members_are_refused_from_the_end_record_before_the_directory_is_read():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(3000):
            z.writestr(f"m{i}.npy", b"")
    refused(buf.getvalue(), "lists 3,000 members; at most 15", peak_mb=1)


def _zip64(members: int) -> bytes:
    """A zip of ``members`` empty .npy members with zip64 end records (as zipfile writes for
    over 65,535 members), whose classic end record then claims a single member."""
    buf = io.BytesIO()
    limit = zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP_FILECOUNT_LIMIT = 2           # zip64 records from three members on
    try:
        with zipfile.ZipFile(buf, "w") as z:
            for i in range(members):
                z.writestr(f"m{i}.npy", b"")
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = limit
    data = bytearray(buf.getvalue())
    end = data.rfind(b"PK\x05\x06")
    assert data[end - 20:end - 16] == b"PK\x06\x07"         # the zip64 locator precedes it
    data[end + 8:end + 16] = struct.pack("<HHI", 1, 1, 46)   # 1 member, 46 bytes of directory
    return bytes(data)


def test_a_zip64_archive_is_refused_before_its_directory_is_read(monkeypatch):
    data = _zip64(3000)
    opened, ZipFile = [], zipfile.ZipFile

    def spy(*args, **kwargs):
        opened.append(args)
        return ZipFile(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", spy)
    refused(data, "zip64", peak_mb=1)
    assert opened == []                     # zipfile would read the zip64 record's 3,000


@pytest.mark.parametrize("shape, descr", [
    ((10**12,), "<f4"),                 # a terabyte promised by a header of 128 bytes
    ((2**62, 2**62), "<f8"),
    ((-1, -16), "<f4"),                 # negative sizes whose product is positive
    ((), "<U1000000000"),               # a 4 GB string
])
def test_absurd_array_headers_are_refused_before_any_data_is_read(shape, descr):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("model.json.npy", npy_header(shape, descr) + bytes(64))
    refused(buf.getvalue(), "hostile.npz", peak_mb=1)


@pytest.mark.parametrize("member", ["model.json", "layer0.W"])
@pytest.mark.parametrize("descr", ["<U0", "|S0", "|V0"])
def test_a_member_of_values_of_zero_bytes_is_refused_from_its_header(member, descr):
    members = members_of(saved(small_model()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, array in members.items():
            with z.open(name + ".npy", "w") as out:
                if name == member:          # a header NumPy reads, then no data at all
                    out.write(npy_header(array.shape, descr))
                else:
                    np.lib.format.write_array(out, array)
    refused(buf.getvalue(), "hostile.npz", "holds values of zero bytes", repr(member))


def test_an_archive_member_that_is_not_an_npy_is_named():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", b"hello")
    refused(buf.getvalue(), "'notes.txt' is not a NumPy array")


def test_weights_are_checked_finite_in_the_dtype_the_network_computes_in():
    members = members_of(saved(small_model()))
    W = members["layer0.W"].astype(np.float64)
    W[0, 0] = 1e39                       # finite in float64, infinite in float32
    refused(npz({**members, "layer0.W": W}), "layer0.W contains NaN or infinite values",
            "float32")
    # the same value in a float64 network is fine
    header = json.loads(str(members["model.json"]))
    header["network"]["dtype"] = "float64"
    ok = {**members, "model.json": np.array(json.dumps(header)), "layer0.W": W}
    for name in ("layer0.b", "layer1.W", "layer1.b"):
        ok[name] = ok[name].astype(np.float64)
    assert load(npz(ok)).layers[0].W[0, 0] == 1e39


# ------------------------------------------------------------------ messages
_WEIGHTS = {"layer0.W": np.zeros((4, 2), np.float32), "layer0.b": np.zeros(2, np.float32)}
_LONG = MAX_JSON - 1000                    # as long as a text model.json can still hold


def _member_named(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, b"x")
    return buf.getvalue()


@pytest.mark.parametrize("make", [
    # the longest: an activation's name of nearly MAX_JSON characters, which the layer's
    # own complaint quotes in full
    lambda: npz({"model.json": model_json([dense(4, 2, "x" * _LONG)]), **_WEIGHTS}),
    lambda: npz({"model.json": model_json([dense(4, 2, "x\n" * (_LONG // 2))]), **_WEIGHTS}),
    lambda: npz({"model.json": model_json([dense(4, 2)], optimizer="z" * _LONG), **_WEIGHTS}),
    lambda: npz({"model.json": model_json([{**dense(4, 2), "init": "q" * _LONG}]), **_WEIGHTS}),
    lambda: npz({"model.json": model_json([dense(4, 2), {"type": "Dropout", "rate": "r" * _LONG}]),
                 **_WEIGHTS}),
    lambda: npz({"model.json": model_json([dense(4, 2)], metadata={"spec": {"x" * _LONG: 1}}),
                 **_WEIGHTS}),
    # member names: as long as the directory's bound lets them be
    lambda: npz({"model.json": model_json([dense(4, 2)]), **_WEIGHTS, "a" * 10_000: np.zeros(1)}),
    lambda: _member_named("n" * 14_000 + ".txt"),
], ids=["activation", "activation-lines", "optimizer", "init", "dropout", "spec", "member",
        "not-npy"])
def test_a_message_quoting_the_file_is_one_bounded_line(make):
    message = refused(make(), "hostile.npz", peak_mb=64)
    assert len(message) <= ModelFileError.MAX_MESSAGE


# ------------------------------------------------------------------ metadata
@pytest.mark.parametrize("metadata, fragment", [
    ("moons", "metadata is not a JSON object"),
    ({"dataset": "moons"}, "dataset entry is not a JSON object"),
    ({"dataset": None}, "dataset entry is not a JSON object"),
    ({"spec": None}, "not a valid run spec"),
    ({"history": None}, "history is not a record"),
    ({"dataset": {"name": 7}}, "dataset name is 7"),
    ({"dataset": {"name": "x" * 5000}}, "dataset name is"),
    ({"dataset": {"class_names": "0123456789"}}, "dataset class_names"),
    ({"dataset": {"class_names": [1, 2]}}, "dataset class_names"),
    ({"dataset": {"image_shape": [28, "28"]}}, "dataset image_shape"),
    ({"dataset": {"n_features": -3}}, "dataset n_features"),
    ({"preset": ["mnist-mlp"]}, "preset is not a name"),
    ({"history": {"train_loss": "low"}} | {"history": {"train_loss": [{"a": 1}]}},
     "history is not a record"),
    ({"spec": {"epochs": -1}}, "not a valid run spec"),
    ({"spec": {"hidden": "wide"}}, "not a valid run spec"),
    ({"spec": {"data": {"name": 3}}}, "not a valid run spec"),
    ({"spec": ["mnist"]}, "not a valid run spec"),
])
def test_metadata_of_the_wrong_kind_is_refused(metadata, fragment, built):
    members = members_of(saved(small_model()))
    header = json.loads(str(members["model.json"]))
    header["metadata"] = metadata
    refused(npz({**members, "model.json": np.array(json.dumps(header))}), fragment)
    assert built == []


def test_the_history_of_the_longest_run_a_spec_allows_comes_back():
    net = small_model()
    epochs = RUN["epochs"].high                            # 10,000 epochs, one figure each
    rng = np.random.default_rng(0)
    net.metadata["history"] = {k: rng.random(epochs).tolist() for k in (
        "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")}
    net.metadata["history"]["epoch"] = list(range(1, epochs + 1))
    assert len(json.dumps(net.metadata)) > 1_000_000      # over the old limit of model.json
    assert load(saved(net)).metadata == net.metadata


def test_metadata_the_app_writes_comes_back_as_it_was():
    net = small_model()
    back = load(saved(net))
    assert back.metadata == net.metadata
    spec = RunSpec(data={"name": "digits"}, hidden=[{"units": 8}])
    net = build_network(spec, 64, 10)
    net.metadata["dataset"] = {"name": "digits", "description": "8×8 digits", "n_features": 64,
                               "n_classes": 10, "class_names": [str(i) for i in range(10)],
                               "image_shape": [8, 8]}
    assert load(saved(net)).metadata == net.metadata


# ------------------------------------------------------------------ pickles never run
class CreatesFileWhenUnpickled:
    """A pickle payload: unpickling it calls open(path, "w"), creating the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _evil(marker):
    evil = np.empty(2, dtype=object)
    evil[0] = CreatesFileWhenUnpickled(marker)
    return evil


def test_pickles_anywhere_in_a_model_file_never_run(tmp_path):
    marker = tmp_path / "UNPICKLED"
    good = members_of(saved(small_model()))
    structured = np.zeros(2, dtype=[("w", "f4"), ("o", object)])
    structured["o"][0] = CreatesFileWhenUnpickled(marker)
    raw_pickle = pickle.dumps(CreatesFileWhenUnpickled(marker))
    as_member = io.BytesIO()
    with zipfile.ZipFile(as_member, "w") as z:
        z.writestr("model.json.npy", raw_pickle)
    cases = {
        "weights": npz({**good, "layer0.W": _evil(marker)}),
        "model.json": npz({**good, "model.json": _evil(marker)}),
        "only member": npz({"payload": _evil(marker)}),
        "structured": npz({**good, "layer0.b": structured}),
        "raw pickle": raw_pickle,
        "pickle as a member": as_member.getvalue(),
        "pickle as an .npy": (lambda b: (np.save(b, _evil(marker), allow_pickle=True),
                                         b.getvalue())[1])(io.BytesIO()),
    }
    for case, data in cases.items():
        message = refused(data)
        assert not marker.exists(), case
        if case in ("weights", "model.json", "only member", "structured"):
            assert "pickled Python objects" in message and "never loaded" in message, case
    # Control: the payload is live — loading it with pickle allowed does create the marker.
    with np.load(io.BytesIO(cases["only member"]), allow_pickle=True) as f:
        f["payload"]
    assert marker.exists()


# ------------------------------------------------------------------ fuzzing
def _error_types_of(data_list):
    """Load every file; anything but a network or a ModelFileError is a failure."""
    kinds = set()
    for data in data_list:
        try:
            kinds.add(type(load(data)).__name__)
        except ModelFileError:
            kinds.add("ModelFileError")
    return kinds


def test_every_truncation_of_a_good_file_is_a_model_file_error():
    data = saved(small_model())
    cuts = sorted(set(range(0, len(data), 7)) | {len(data) - 1, len(data) - 22})
    assert _error_types_of([data[:n] for n in cuts]) == {"ModelFileError"}


def test_random_byte_flips_never_escape_as_another_error():
    data = saved(small_model())
    rng = random.Random(13)
    variants = []
    for _ in range(300):
        flipped = bytearray(data)
        for _ in range(rng.choice([1, 1, 2, 8])):
            flipped[rng.randrange(len(data))] = rng.randrange(256)
        variants.append(bytes(flipped))
    assert _error_types_of(variants) <= {"ModelFileError", "Network"}


_ODD_VALUES = [None, True, -1, 0, 2**40, 10**300, 1e308, 1.5, float("nan"), "", "x" * 300,
               "²", [], [1, 2, 3], {}, {"a": [1]}]


def _mutations(node, rng, depth=0):
    """A copy of a JSON value with one field somewhere replaced by an odd value."""
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(sorted(node))
        out = dict(node)
        if rng.random() < 0.15:
            del out[key]
        else:
            out[key] = _mutations(node[key], rng, depth + 1)
        return out
    if isinstance(node, list) and node and rng.random() < 0.8:
        i = rng.randrange(len(node))
        return node[:i] + [_mutations(node[i], rng, depth + 1)] + node[i + 1:]
    return rng.choice(_ODD_VALUES)


def test_mutated_descriptions_are_loaded_or_refused_never_anything_else():
    spec = RunSpec(data={"name": "digits"},
                   hidden=[{"kind": "conv", "filters": 4, "kernel": 3, "padding": "same"},
                           {"kind": "maxpool", "pool": 2}, {"units": 8, "dropout": 0.1}],
                   separate_activations=True)
    net = build_network(spec, 64, 10, image_shape=(8, 8))
    net.metadata["dataset"] = {"name": "digits", "class_names": [str(i) for i in range(10)]}
    members = members_of(saved(net))
    header = json.loads(str(members["model.json"]))
    rng = random.Random(7)
    variants = [npz({**members, "model.json": np.array(json.dumps(_mutations(header, rng)))},
                    compressed=False) for _ in range(300)]
    assert _error_types_of(variants) <= {"ModelFileError", "Network"}


# ------------------------------------------------------------------ the same limits as a run
def _spec_networks():
    """Networks the app builds from specs on 8×8 and 28×28 images, conv and dense."""
    shapes = [(64, (8, 8)), (784, (28, 28))]
    hidden_sets = [
        [{"units": 32}],
        [{"kind": "conv", "filters": 8, "kernel": 3, "padding": "same"}, {"kind": "maxpool"},
         {"kind": "conv", "filters": 16, "kernel": 3, "padding": 1}, {"units": 16}],
        [{"kind": "conv", "filters": 4, "kernel": 5, "stride": 2}, {"units": 8, "dropout": 0.2}],
    ]
    for n_features, image_shape in shapes:
        for hidden in hidden_sets:
            for separate in (False, True):
                spec = RunSpec(hidden=hidden, separate_activations=separate)
                yield build_network(spec, n_features, 10, image_shape=image_shape)


def test_the_plan_read_from_a_description_is_what_the_built_network_holds():
    for net in _spec_networks():
        plan = plan_model(net.get_config()["layers"])
        assert plan.shapes == {name: p.shape for name, p, _ in net.parameters()}
        assert plan.parameters == net.n_parameters()


def test_a_spec_its_model_file_and_the_step_mode_count_the_same_work_per_sample():
    specs = [RunSpec(hidden=[{"units": 256}, {"units": 128}]),
             RunSpec(hidden=[{"kind": "conv", "filters": 8, "kernel": 3, "padding": "same"},
                             {"kind": "maxpool"}, {"units": 32}], separate_activations=True),
             # a conv layer whose maps are 1×1: more parameters than multiply-adds
             RunSpec(hidden=[{"kind": "conv", "filters": 4, "kernel": 5, "stride": 2},
                             {"kind": "maxpool", "pool": 3},
                             {"kind": "conv", "filters": 2, "kernel": 4}, {"units": 8}])]
    # written out, layer by layer: a Dense layer's parameters (in·out + out), a Conv2D's
    # multiply-adds (F·C·k·k × H·W), or its parameters when they are more
    expected = [(784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10),
                8 * 3 * 3 * 28 * 28 + (8 * 14 * 14 * 32 + 32) + (32 * 10 + 10),
                4 * 5 * 5 * 12 * 12 + (2 * 4 * 4 * 4 + 2) + (2 * 8 + 8) + (8 * 10 + 10)]
    for spec, work in zip(specs, expected):
        net = build_network(spec, 784, 10, image_shape=(28, 28))
        counts = (spec.work_per_sample(784, 10, (28, 28)),
                  plan_model(net.get_config()["layers"]).work_per_sample,
                  work_per_sample(net))
        assert counts == (work,) * 3, ([h.describe() for h in spec.hidden], counts)


def test_the_largest_dense_network_a_run_allows_loads():
    hidden = [{"units": DENSE["units"].high}] * LIMITS["max_hidden_layers"]
    spec = RunSpec(hidden=hidden)
    spec.check_size(LIMITS["max_features"], 50)            # the run allows it …
    layers = build_network(spec, LIMITS["max_features"], 50).get_config()["layers"]
    plan = plan_model(layers)                               # … and so does a model file
    assert plan.parameters == count_parameters(spec, LIMITS["max_features"], 50)
    assert plan.parameters < LIMITS["max_parameters"]


def test_a_network_over_the_limits_is_refused_by_the_run_too():
    big = RunSpec(hidden=[{"kind": "conv", "filters": 128, "kernel": 3, "padding": "same"},
                          {"units": 1024}])
    with pytest.raises(ValueError, match="parameters, above the limit"):
        big.check_size(784, 10, (28, 28))
    heavy = RunSpec(hidden=[{"kind": "conv", "filters": 128, "kernel": 9, "padding": "same"}] * 3
                    + [{"kind": "maxpool", "pool": 8}])
    with pytest.raises(ValueError, match="multiply-adds per sample"):
        heavy.check_size(784, 10, (28, 28))


def test_an_archive_reads_only_what_its_limits_allow():
    data = npz({"a": np.arange(10.0)}, compressed=False)
    with open_npz(data, NpzLimits(max_file_bytes=10_000, max_members=1,
                                  max_unpacked_bytes=1000)) as archive:
        assert archive.headers["a"].shape == (10,)
        np.testing.assert_array_equal(archive.read("a"), np.arange(10.0))
    with pytest.raises(ArchiveError) as err:
        open_npz(data, NpzLimits(max_file_bytes=10_000, max_members=1, max_unpacked_bytes=100))
    assert err.value.reason == "too_large"
    with pytest.raises(ArchiveError) as err:
        open_npz(data, NpzLimits(max_file_bytes=100, max_members=1, max_unpacked_bytes=1000))
    assert err.value.reason == "too_large"
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    with open_npz(npz({"f": fortran}), FILE_LIMITS) as archive:
        np.testing.assert_array_equal(archive.read("f"), fortran)
