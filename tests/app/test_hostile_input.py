"""A hostile visitor's inputs, sent to the app: links, canvas pictures, folder paths, data and
model uploads, and failures inside callbacks. Each gets one sentence — never Streamlit's
error box, never a stack trace — and each is bounded before the work it asks for: the
peak memory of the reading is measured here with ``tracemalloc`` where that is cheap.

(Model files on their own, without the app: tests/engine/test_hostile_models.py.)
"""

from __future__ import annotations

import ast
import io
import json
import logging
import os
import random
import re
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lab import datasets, links, pages, state
from lab.canvas import CanvasImageError, decode_canvas, png_size
from nncore.runs.links.grammar import parse_number
from lab.uploads import UPLOAD_LIMITS, parse_upload
from nncore import Network, save
from nncore.data import write_idx
from nncore.layers import Dense
from nncore.runs.presets import PRESETS
from nncore.runs.spec import RunSpec
from support import drawings as H

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    """No MNIST folder, no host settings, and no data set cached by an earlier test."""
    import streamlit as st

    for name in ("NNCORE_MNIST_DIR", datasets.HOSTED, datasets.DATA_ROOT):
        monkeypatch.delenv(name, raising=False)
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def new_app(query=None, page=None, **session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    for key, value in session.items():
        at.session_state[key] = value
    if page:
        at.switch_page(page).run()
    return clean(at)


def clean(at: AppTest) -> AppTest:
    """Nothing reached Streamlit's error box, and no page fell into its error guard."""
    assert not at.exception, [e.value for e in at.exception]
    guarded = [e.value for e in at.error if "went wrong" in e.value]
    assert not guarded, guarded
    return at


def errors(at) -> list[str]:
    return [str(e.value) for e in at.error]


def peak_of(fn, *args):
    """(what fn returned or raised, the peak memory it took)."""
    tracemalloc.start()
    try:
        try:
            out = fn(*args)
        except Exception as exc:  # noqa: BLE001 — returned for the test to look at
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------ links
@pytest.mark.parametrize("text, number", [
    ("12", 12.0), ("-0.5", -0.5), ("1e-3", 1e-3), (".5", 0.5), ("+3", 3.0),
    ("²", None), ("1²", None), ("١٢", None), ("1_000", None), (" 12", None), ("12\n", None),
    ("inf", None), ("nan", None), ("1e999", None), ("0x10", None), ("", None), ("--1", None),
])
def test_one_parser_reads_every_number_of_a_link_in_ascii_digits(text, number):
    assert parse_number(text) == number
    whole = parse_number(text, whole=True)
    assert whole == (int(text) if text.isascii() and text.isdigit() else None)


def test_the_issue_s_link_opens_the_app_with_a_note_on_every_reload():
    # "²" passes str.isdigit but not int(): this link showed Streamlit's error screen
    at = new_app({"layers": "conv8x3relu:s²"})
    assert any("s²" in note for note in at.session_state[state.NOTES])
    for page in (pages.ARCHITECTURE, pages.TRAINING, pages.HOME):
        at.switch_page(page).run()
        clean(at)


def test_a_link_is_read_even_when_its_reader_fails(monkeypatch, caplog):
    from nncore.runs.links import reader

    def broken(*_):
        raise RuntimeError("a reader bug")

    monkeypatch.setattr(reader, "read_layers", broken)
    with caplog.at_level(logging.ERROR, logger="nncore.links"):
        spec, notes = links.spec_from_params({"layers": "16relu", "ep": "3"})
    assert spec == RunSpec() and notes == ["The link could not be read; the default setup "
                                           "was used."]
    assert any(r.exc_info and "a reader bug" in str(r.exc_info[1]) for r in caplog.records)


_KEYS = sorted(links.ALL_KEYS) + ["embed", "x", "layers[]", "ｄata", ""]
_PIECES = ["16", "relu", "conv", "x", "pool", ":", ",", "s", "p", "d", "same", "0", "9" * 9,
           "²", "١", "٣", "1e3", "-", ".", "e", "nan", "inf", "full", "none", "he", "tanh",
           "mnist", "moons", "upload", "%", "\n", " ", "\u202e", "\x00", "💥", "_", "0.5",
           "1_0", "NaN", "ce", "adam", "cosine", "1" * 70]


def _fuzzed_query(rng: random.Random) -> dict:
    """A query string a visitor might send: a preset's link with values replaced, keys
    added, values cut or repeated, made of the link grammar's own pieces and odd text."""
    params = dict(links.spec_to_params(rng.choice(list(PRESETS.values())).run_spec()))
    for _ in range(rng.randint(1, 6)):
        key = rng.choice(_KEYS if rng.random() < 0.3 else sorted(params) or _KEYS)
        value = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 8)))
        if rng.random() < 0.1:
            value = value * rng.randint(20, 80)
        params[key] = value if rng.random() < 0.9 else [value, "16relu"]
    return params


def test_a_few_hundred_fuzzed_links_read_as_valid_setups():
    rng = random.Random(2024)
    for _ in range(400):
        query = _fuzzed_query(rng)
        spec, notes = links.spec_from_params(query)
        assert isinstance(spec, RunSpec) and all(isinstance(n, str) for n in notes), query
        assert "could not be read" not in " ".join(notes), query   # no reader bug hit
        again, more = links.spec_from_params(links.spec_to_params(spec))
        assert again == spec and more == [], query                 # what it reads, it writes
        assert all(len(n) < 400 and "\n" not in n for n in notes), query


def test_a_sample_of_fuzzed_links_through_the_whole_app():
    rng = random.Random(7)
    for i in range(8):
        at = new_app(_fuzzed_query(rng))
        at.switch_page(pages.ARCHITECTURE if i % 2 else pages.DATASET).run()
        clean(at)


def test_a_link_to_a_network_over_the_size_limit_is_not_built(monkeypatch):
    from lab.pages.architecture import page as architecture

    built = []
    real = architecture.build_network
    monkeypatch.setattr(architecture, "build_network",
                        lambda *a, **k: built.append(a) or real(*a, **k))
    at = new_app({"data": "mnist", "layers": "conv128x9relu:psame,1024relu"},
                 page=pages.ARCHITECTURE)
    assert any("too large for the shared demo" in e and "parameters" in e for e in errors(at))
    assert built == []          # 1.3·10⁸ weights were drawn on every view before


# ------------------------------------------------------------------ the canvas
def _png(width: int, height: int, fill: int = 0) -> bytes:
    """A valid greyscale PNG of any size, written row by row (an 8000×8000 one is 64 KB)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    packer, row = zlib.compressobj(9), b"\0" + bytes([fill]) * width
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0,
                                                               0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_a_huge_png_is_refused_from_its_header():
    huge = _png(8000, 8000)
    assert len(huge) < 400_000 and png_size(huge) == (8000, 8000)
    out, peak = peak_of(decode_canvas, huge)
    assert isinstance(out, CanvasImageError) and "this one is 8000×8000" in str(out)
    assert peak < MB                      # decoded, it would be 64 MB in Pillow, 2 GB as floats
    for other in (_png(300, 300), _png(280, 281), b"GIF89a....", b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(CanvasImageError):
            decode_canvas(other)
    assert decode_canvas(_png(280, 280, 255)).shape == (280, 280, 4)


def _inference_with_a_digits_model() -> AppTest:
    return new_app(page=pages.INFERENCE, **{state.MODEL: H.digits_model()})


def _draw(at: AppTest, url: str | None) -> AppTest:
    at.session_state["inference_canvas_0"] = H.canvas_value(url)
    at.run()
    return clean(at)


def test_the_canvas_answers_only_a_drawing_of_its_own_size():
    at = _inference_with_a_digits_model()
    huge = "data:image/png;base64," + __import__("base64").b64encode(_png(8000, 8000)).decode()
    _draw(at, huge)
    assert any("The drawing was not read: the canvas sends 280×280 pictures; this one is "
               "8000×8000" in e for e in errors(at))
    assert not at.metric                          # no answer shown
    _draw(at, "data:image/png;base64,bm90IGEgcG5n")   # "not a png"
    assert any("not a PNG" in e for e in errors(at))
    _draw(at, H.png_data_url(H.thick_one()))          # the canvas works again
    assert {m.label: m.value for m in at.metric}["The network says"] == "1"


@pytest.mark.parametrize("level", [0, 255])
def test_a_blank_or_full_canvas_asks_for_a_drawing(level):
    at = _inference_with_a_digits_model()
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., :3], canvas[..., 3] = level, 255
    _draw(at, H.png_data_url(canvas))
    assert {m.label: m.value for m in at.metric}["The network says"] == "–"   # no guess
    assert errors(at) == []
    assert any("Draw a digit" in i.value for i in at.info)


# ------------------------------------------------------------------ the folder box
def _idx_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 20)):
        write_idx(path / f"{stem}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(path / f"{stem}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    return path


def _type_folder(at: AppTest, text: str) -> AppTest:
    [box] = [w for w in at.text_input if w.key == "data_dir_mnist"]
    box.set_value(text)
    at.run()
    return clean(at)


def test_every_spelling_of_a_folder_loads_it_once(tmp_path, monkeypatch):
    folder = _idx_folder(tmp_path / "x")
    loads = []
    real = datasets.load_dataset
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: loads.append(k) or real(*a, **k))
    monkeypatch.chdir(tmp_path)
    at = new_app(page=pages.DATASET)
    for spelling in ("./x", "x/", "x/.", str(folder), "x/../x"):
        _type_folder(at, spelling)
        assert errors(at) == []
        assert at.session_state[datasets.MNIST_DIRS]["mnist"] == str(folder.resolve())
    assert [k.get("data_dir") for k in loads if k.get("data_dir")] == [str(folder.resolve())]


def test_a_five_thousand_character_path_gets_a_sentence(tmp_path):
    at = new_app(page=pages.DATASET)
    _type_folder(at, "/" + "a" * 5000)                # (the box itself cuts it at 1,024)
    [message] = errors(at)
    assert "is not a folder on this machine" in message and len(message) < 200
    with pytest.raises(ValueError, match="5,001 characters long"):   # a forged value
        datasets.resolve_folder("/" + "a" * 5000)


def test_a_hosted_demo_without_a_data_root_reads_no_folders(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.HOSTED, "1")
    at = new_app(page=pages.DATASET)
    assert not [w for w in at.text_input if w.key == "data_dir_mnist"]
    assert any("visitors cannot name folders" in m.value for m in at.markdown)
    with pytest.raises(ValueError, match="reads no folders"):
        datasets.resolve_folder(str(_idx_folder(tmp_path / "x")))


def test_the_host_s_setting_may_be_a_streamlit_secret(tmp_path):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets[datasets.HOSTED] = "1"
    at.run()
    at.switch_page(pages.DATASET).run()
    clean(at)
    assert not [w for w in at.text_input if w.key == "data_dir_mnist"]


def test_inside_a_data_root_nothing_outside_it_is_revealed(monkeypatch, tmp_path):
    root = tmp_path / "root"
    _idx_folder(root / "mnist")
    outside = _idx_folder(tmp_path / "secret")            # exists, and holds IDX files
    (root / "link").symlink_to(outside)                   # a way out, inside the root
    sneaky = root / "sneaky"
    sneaky.mkdir()
    for f in os.listdir(outside):                         # files that lead outside
        (sneaky / f).symlink_to(outside / f)
    monkeypatch.setenv(datasets.HOSTED, "1")
    monkeypatch.setenv(datasets.DATA_ROOT, str(root))
    at = new_app(page=pages.DATASET)

    answers = {}
    for text in ("../secret", str(outside), "link", "../nothing-here", "/no/such/place",
                 "/etc", "../../../../../../etc"):
        _type_folder(at, text)
        [message] = errors(at)
        answers[text] = re.sub(r"`[^`]*`", "`…`", message)     # the path as typed, quoted
    assert len(set(answers.values())) == 1, answers       # one sentence, whatever exists
    assert "not a folder inside the data folder" in answers["/etc"]
    _type_folder(at, "sneaky")
    assert any("lacks" in e for e in errors(at))
    _type_folder(at, "mnist")
    assert errors(at) == []
    assert at.session_state[datasets.MNIST_DIRS]["mnist"] == str((root / "mnist").resolve())
    assert {m.label: m.value for m in at.metric}["Test"] == "20"
    assert [w.value for w in at.text_input if w.key == "data_dir_mnist"] == ["mnist"]


# ------------------------------------------------------------------ data uploads
def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    [box] = [w for w in at.get("file_uploader") if w.key == "data_upload"]
    box.set_value((name, content, "application/octet-stream"))
    at.run()
    return clean(at)


def test_a_csv_beyond_float32_gets_one_sentence_and_nothing_else():
    at = new_app(page=pages.DATASET)
    csv = b"a,label\n" + b"1e39,0\n" + b"".join(f"{i},{i % 2}\n".encode() for i in range(12))
    _upload(at, "huge.csv", csv)
    assert len(errors(at)) == 1 and "float32" in errors(at)[0]
    assert at.session_state["spec"].data["name"] == "mnist"


def test_a_csv_of_millions_of_rows_stops_being_read_at_the_limit():
    csv = b"a,label\n" + b"1,0\n" * 4_500_000          # 18 MB: under the byte limit
    assert len(csv) < UPLOAD_LIMITS["max_bytes"]
    out, peak = peak_of(parse_upload, "rows.csv", csv)
    assert isinstance(out, ValueError) and "more than 20,000 rows" in str(out)
    assert peak < len(csv) / 4          # read as it streams: not the text, not every cell


def test_npz_uploads_are_sized_from_their_headers():
    def archive(x: bytes, y=np.arange(12) % 2) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("X.npy", x)
            z.writestr("y.npy", npy(y))
        return buf.getvalue()

    def npy(array) -> bytes:
        buf = io.BytesIO()
        np.save(buf, array)
        return buf.getvalue()

    def header_only(shape, descr="<f8") -> bytes:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                                   "shape": shape})
        return buf.getvalue()

    cases = {
        "a header promising 8 TB": (archive(header_only((10**9, 1024))), "damaged"),
        "rows over the limit": (archive(npy(np.zeros((30_000, 2))), np.arange(30_000) % 2),
                                "30,000 rows"),
        "features over the limit": (archive(npy(np.zeros((12, 5000)))), "5,000 features"),
        "objects": (archive(header_only((12, 2), "|O") + b"\x80\x04N."), "never unpickled"),
    }
    for case, (content, fragment) in cases.items():
        out, peak = peak_of(parse_upload, "x.npz", content)
        assert isinstance(out, ValueError) and fragment in str(out), (case, out)
        assert peak < MB, case                   # refused before X is read
    assert parse_upload("x.npz", archive(npy(np.ones((12, 2)))))["X"].shape == (12, 2)


# ------------------------------------------------------------------ model uploads
def _model(metadata) -> bytes:
    net = Network([Dense(2, 4, "relu"), Dense(4, 2, "softmax")], seed=0)
    buf = io.BytesIO()
    save(net, buf)
    with np.load(io.BytesIO(buf.getvalue())) as f:
        members = {k: f[k] for k in f.files}
    header = json.loads(str(members["model.json"]))
    header["metadata"] = metadata
    members["model.json"] = np.array(json.dumps(header))
    out = io.BytesIO()
    np.savez(out, **members)
    return out.getvalue()


def test_a_model_whose_dataset_is_a_string_leaves_the_training_page_working():
    spec = RunSpec(data={"name": "moons", "n_samples": 200}, hidden=[{"units": 4}], epochs=1)
    at = new_app(page=pages.TRAINING, spec=spec)
    at.file_uploader(key="training_upload").set_value(
        ("odd.npz", _model({"dataset": "moons"}), "application/octet-stream"))
    at.run()
    clean(at)
    assert any("dataset entry is not a JSON object" in e for e in errors(at))
    at.run()                               # the next rerun broke the page before
    clean(at)
    assert at.file_uploader(key="training_upload")


def test_a_file_of_another_kind_on_the_inference_uploader_gets_a_sentence():
    at = new_app(page=pages.INFERENCE)
    at.file_uploader(key="inference_upload").set_value(("notes.txt", b"hi", "text/plain"))
    at.run()
    clean(at)
    assert any("not an .npz archive" in e for e in errors(at))


# ------------------------------------------------------------------ the guard
def test_a_failing_callback_gets_a_sentence_and_the_log_its_traceback(monkeypatch, caplog):
    def broken(name):
        raise RuntimeError("/srv/secret/path went away")

    monkeypatch.setattr(state, "load_preset", broken)
    at = new_app()
    with caplog.at_level(logging.ERROR, logger="lab"):
        at.button(key="home_preset_mnist-mlp").click().run()
    assert not at.exception
    [message] = [e for e in errors(at) if "went wrong" in e]
    assert "RuntimeError" in message and "/srv/secret" not in message
    assert any(r.exc_info and "/srv/secret" in str(r.exc_info[1]) for r in caplog.records)
    at.run()                                # said once
    assert not [e for e in errors(at) if "went wrong" in e]


def test_a_failing_page_gets_a_sentence_and_the_log_its_traceback(monkeypatch, caplog):
    def broken(data):
        raise KeyError("no such thing")

    monkeypatch.setattr(datasets, "dataset_for", broken)
    with caplog.at_level(logging.ERROR, logger="lab"):
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        at.switch_page(pages.DATASET).run()
    assert not at.exception
    assert any("Something went wrong on this page (KeyError)" in e for e in errors(at))
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


# Every callback and fragment of the app, found in its source: each must wear the guard.
_CALLBACK_GUARD, _FRAGMENT_GUARD = "callback", "guarded"


def _sources():
    for path in sorted((ROOT / "lab").rglob("*.py")) + [ROOT / "app.py"]:
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def _module_path(module: str) -> Path:
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"


def _decorators(path: Path, name: str) -> set[str] | None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return {d.id if isinstance(d, ast.Name) else getattr(d, "attr", "")
                    for d in node.decorator_list}
    return None


def _targets():
    """(where, what, guard it needs, whether it has it) for every on_click / on_change /
    on_select (and a component's on_…_change) and every st.fragment(...)(body) in the app."""
    for rel, tree in _sources():
        imported = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            found = [(kw.value, _CALLBACK_GUARD) for kw in node.keywords
                     if kw.arg in ("on_click", "on_change", "on_select")
                     or (kw.arg or "").startswith("on_") and kw.arg.endswith("_change")]
            if (isinstance(node.func, ast.Call) and getattr(node.func.func, "attr", "")
                    == "fragment" and node.args):
                found.append((node.args[0], _FRAGMENT_GUARD))
            # a choice between callbacks is each of them; a lambda that only returns a
            # constant does nothing that could fail
            while any(isinstance(v, ast.IfExp) for v, _ in found):
                found = [pair for v, g in found for pair in
                         ([(v.body, g), (v.orelse, g)] if isinstance(v, ast.IfExp) else [(v, g)])]
            found = [(v, g) for v, g in found
                     if not (isinstance(v, ast.Lambda) and isinstance(v.body, ast.Constant))]
            for value, guard in found:
                where = f"{rel}:{value.lineno}"
                if isinstance(value, ast.Constant) and value.value in ("rerun", "ignore"):
                    continue
                if isinstance(value, ast.Name):
                    path, name = ROOT / rel, value.id
                elif isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
                    module = imported.get(value.value.id, value.value.id)
                    path, name = _module_path(module), value.attr
                else:
                    yield where, ast.unparse(value), guard, False
                    continue
                decorators = _decorators(path, name) if path.exists() else None
                if decorators is None and isinstance(value, ast.Name) and name in imported:
                    module, _, name = imported[name].rpartition(".")    # from … import name
                    decorators = _decorators(_module_path(module), name)
                yield where, ast.unparse(value), guard, bool(decorators and guard in decorators)


def test_every_callback_and_fragment_wears_the_guard():
    found = list(_targets())
    assert len(found) > 30                                   # the scan sees the app
    unguarded = [t[:3] for t in found if not t[3]]
    assert unguarded == []
