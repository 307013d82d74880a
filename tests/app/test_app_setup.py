"""The frame, the Dataset and Architecture pages and shareable links, driven with AppTest.

Every test starts a fresh session of the real app (``app.py``), as a visitor would. These
tests check the app on a fresh machine: offline (tests/conftest.py sets NNCORE_OFFLINE=1)
and with no MNIST folder (the fixture below hides NNCORE_MNIST_DIR even where CI sets it),
so MNIST must fall back to the 8×8 digits with a visible message.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lab import links, pages
from nncore.data import DATASETS, write_idx
from nncore.runs.presets import PRESETS
from nncore.runs.run import train_spec
from nncore.runs.schema import LIMITS, RUN
from nncore.runs.spec import RunSpec

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
MY_PAGES = ("home", "dataset", "architecture")


@pytest.fixture(autouse=True)
def _fresh_machine(monkeypatch):
    """No MNIST folder, and no data set cached by an earlier test of this process."""
    import streamlit as st

    monkeypatch.delenv("NNCORE_MNIST_DIR", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


# ------------------------------------------------------------------ helpers
def new_app(query: dict | None = None, url: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        at.query_params.update(query)
    if url:
        at.context["url"] = url
    at.run()
    ok(at)
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(getattr(pages, page.upper())).run()
    return ok(at)


def spec_of(at: AppTest) -> RunSpec:
    spec = at.session_state["spec"]
    assert isinstance(spec, RunSpec)      # the session holds a checked spec, not a dict
    return spec


def values(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in at.get(kind)]


def widget(at: AppTest, kind: str, key: str):
    found = [w for w in at.get(kind) if getattr(w, "key", None) == key]
    assert found, f"no {kind} with key {key!r}; have {[getattr(w, 'key', None) for w in at.get(kind)]}"
    return found[0]


def set_widget(at: AppTest, kind: str, key: str, value) -> AppTest:
    widget(at, kind, key).set_value(value)
    at.run()
    return ok(at)


def click(at: AppTest, key: str) -> AppTest:
    widget(at, "button", key).click()
    at.run()
    return ok(at)


def errors(at: AppTest) -> list[str]:
    return values(at, "error")


def warnings(at: AppTest) -> list[str]:
    return values(at, "warning")


def link_of(at: AppTest) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


# ------------------------------------------------------------------ the frame
def test_every_page_renders_in_a_fresh_session():
    at = new_app()
    # the sidebar shows the data set and the network in one line each, and the link. (AppTest
    # keeps the frame's elements only on the first page it runs, so look before switching.)
    side = [m.value for m in at.sidebar.get("markdown")]
    assert len(side) == 2 and side[0].startswith("**Data:** MNIST")
    assert side[1].startswith("**Network:** ") and "-256-128-" in side[1]
    assert side[1].endswith(" relu, adam lr 0.001, 10 epochs")
    assert any(c.value.startswith("?v=2&data=mnist&layers=256relu,128relu") for c in at.sidebar.get("code"))
    # Home explains the flow and links every step and the presets
    targets = " ".join(link.proto.page for link in at.get("page_link"))
    for page in ("dataset", "architecture", "training", "inference"):
        assert page in targets, targets
    assert all(f"home_preset_{name}" in [b.key for b in at.get("button")] for name in PRESETS)
    for page in ("dataset", "architecture", "training", "inference", "home"):
        goto(at, page)
        if page in MY_PAGES:
            assert errors(at) == [], (page, errors(at))
    # once the data was loaded, a new run's sidebar names its real sizes and the fallback
    again = new_app()
    side = [m.value for m in again.sidebar.get("markdown")]
    assert "**Data:** MNIST — unavailable, the 8×8 digits stand in" in side
    assert "**Network:** 64-256-128-10 relu, adam lr 0.001, 10 epochs" in side


def test_share_link_uses_the_apps_address_when_known():
    at = new_app(url="https://nn-lab.streamlit.app")
    code = [c.value for c in at.sidebar.get("code")]
    assert any(c.startswith("https://nn-lab.streamlit.app/?v=2&data=mnist&") for c in code), code


# ------------------------------------------------------------------ the Dataset page
def test_mnist_offline_falls_back_to_the_digits_and_says_so():
    at = goto(new_app(), "dataset")
    assert spec_of(at).data["name"] == "mnist"
    assert any("MNIST could not be loaded" in w and "8×8 digits" in w for w in warnings(at))
    text = " ".join(values(at, "markdown"))
    assert "NNCORE_MNIST_DIR" in text                       # how to point at local files
    assert widget(at, "text_input", "data_dir_mnist")        # … or type a folder
    metrics = {m.label: m.value for m in at.get("metric")}
    assert metrics["Features"] == "64"                      # the digits stand in
    # Fashion-MNIST falls back the same way, and says which data set was missing
    set_widget(at, "selectbox", "data_name", "fashion-mnist")
    assert any("Fashion-MNIST could not be loaded" in w for w in warnings(at))
    assert "NNCORE_FASHION_MNIST_DIR" in " ".join(values(at, "markdown"))


def test_choose_each_data_set():
    at = goto(new_app(), "dataset")
    for name, info in DATASETS.items():
        if name == "mnist":
            continue
        set_widget(at, "selectbox", "data_name", name)
        spec = spec_of(at)
        assert spec.data == {"name": name, **{k: p.default for k, p in info.params.items()
                                              if p.default is not None}}
        assert link_of(at)["data"] == name
        charts = at.get("plotly_chart")
        # (your own points start as an empty plane, and say what to place: one chart)
        assert len(charts) >= (1 if name == "points" else 2 if info.kind == "2d" else 4), name
        if name == "fashion-mnist":
            assert any("could not be loaded" in w for w in warnings(at))
        else:
            assert errors(at) == [] and not any("could not be loaded" in w for w in warnings(at))
        assert ("Samples" in [t.label for t in at.get("tab")]) == (info.kind == "image")
    # the page keeps the choice across page switches
    goto(at, "architecture")
    goto(at, "dataset")
    assert spec_of(at).data["name"] == name
    assert widget(at, "selectbox", "data_name").value == name


def test_generated_data_parameters_are_bound_to_the_setup_and_the_link():
    at = goto(new_app(), "dataset")
    set_widget(at, "selectbox", "data_name", "moons")
    set_widget(at, "number_input", "data_moons_n_samples", 400)
    set_widget(at, "slider", "data_moons_noise", 0.35)
    set_widget(at, "number_input", "data_moons_seed", 7)
    set_widget(at, "slider", "data_moons_test_fraction", 0.25)
    data = spec_of(at).data
    assert (data["n_samples"], data["noise"], data["seed"], data["test_fraction"]) == (400, 0.35, 7, 0.25)
    link = link_of(at)
    assert (link["n"], link["noise"], link["dseed"], link["test"]) == ("400", "0.35", "7", "0.25")
    metrics = {m.label: m.value for m in at.get("metric")}
    assert metrics["Test"] == "100"                          # 25 % of 400
    # a new session opened with this link has the same data, and the sidebar says so
    side = [m.value for m in new_app(query=link).sidebar.get("markdown")]
    assert any("Two moons" in m and "400 points" in m and "noise 0.35" in m for m in side), side
    # shares that leave nothing to train on are refused, with the reason
    set_widget(at, "slider", "data_moons_val_fraction", 0.5)
    set_widget(at, "slider", "data_moons_test_fraction", 0.5)
    assert any("leave almost nothing to train on" in e for e in errors(at))
    assert spec_of(at).data["test_fraction"] == 0.25
    # XOR: the four points, or a noisy cloud once switched on
    set_widget(at, "selectbox", "data_name", "xor")
    assert "n_samples" not in spec_of(at).data
    assert {m.label: m.value for m in at.get("metric")}["Training"] == "4"
    set_widget(at, "checkbox", "data_xor_n_samples_on", True)
    assert spec_of(at).data["n_samples"] == 200


def test_redraw_shows_other_samples():
    at = goto(new_app(), "dataset")
    set_widget(at, "selectbox", "data_name", "digits")
    before = at.get("plotly_chart")[0].proto.spec
    click(at, "data_redraw")
    assert at.get("plotly_chart")[0].proto.spec != before


def test_a_local_folder_of_idx_files_replaces_the_fallback(tmp_path):
    at = goto(new_app(), "dataset")
    set_widget(at, "text_input", "data_dir_mnist", str(tmp_path / "nowhere"))
    assert any("is not a folder" in e for e in errors(at))
    set_widget(at, "text_input", "data_dir_mnist", str(tmp_path))
    assert any("lacks" in e for e in errors(at))
    rng = np.random.default_rng(0)
    for stem, n in (("train", 120), ("t10k", 30)):
        write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    set_widget(at, "text_input", "data_dir_mnist", str(tmp_path / "."))
    assert errors(at) == []
    assert not any("could not be loaded" in w for w in warnings(at))
    metrics = {m.label: m.value for m in at.get("metric")}
    assert metrics["Features"] == "784" and metrics["Test"] == "30"
    assert "dir" not in "".join(link_of(at)) and str(tmp_path) not in str(link_of(at))


def test_the_first_download_reports_progress(monkeypatch):
    """With downloads on, the page fetches MNIST once with a progress bar before loading it
    (here the download is faked: it reports progress and then fails, so the fallback shows)."""
    from lab import datasets
    from nncore.data import DataUnavailable, mnist

    calls = []

    def fake_load_mnist(kind, progress=None, **kwargs):
        for fraction in (0.0, 0.5, 1.0):
            progress(fraction, f"Downloading {kind}: {fraction:.0%}")   # draws the bar
        calls.append(kind)
        raise DataUnavailable(f"{kind}: no network in this test")

    monkeypatch.delenv("NNCORE_OFFLINE")
    monkeypatch.setattr(mnist, "load_mnist", fake_load_mnist)
    monkeypatch.setattr(mnist, "_download", lambda *args, **kwargs: None)  # never the network
    monkeypatch.setattr(datasets, "_DOWNLOADS_TRIED", set())
    at = goto(new_app(query={"data": "mnist", "dseed": "977"}), "dataset")
    assert calls == ["mnist"]
    assert any("MNIST could not be loaded" in w for w in warnings(at))
    at.run()                                   # tried once per server, not on every rerun
    assert calls == ["mnist"]


# ------------------------------------------------------------------ uploads
def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


GOOD_CSV = b"x1,x2,label\n" + b"".join(
    f"{np.cos(i):.3f},{np.sin(i):.3f},{'ab'[i % 2]}\n".encode() for i in range(60))
BAD_UPLOADS = {
    "pickled objects": ("evil.npz", _npz(X=np.array([{"a": 1}] * 20, dtype=object), y=np.arange(20) % 2),
                        "Python objects"),
    "not an archive": ("fake.npz", b"PK\x03\x04 not really a zip", "not a valid NumPy archive"),
    "missing arrays": ("xy.npz", _npz(data=np.zeros((20, 2))), "arrays named X and y"),
    "shape mismatch": ("mm.npz", _npz(X=np.zeros((20, 2)), y=np.arange(19) % 2), "19 labels"),
    "text features": ("t.csv", b"a,b,label\n1,2,0\nx,3,1\n" * 10, "must be numeric"),
    "ragged csv": ("r.csv", b"a,b,label\n1,2,0\n1,1\n", "same number of columns"),
    "one class": ("c.csv", b"a,label\n" + b"1,0\n" * 20, "2 and 50"),
    "too many classes": ("k.csv", b"a,label\n" + b"".join(f"{i},{i}\n".encode() for i in range(120)),
                         "2 and 50"),
    "not utf-8": ("u.csv", b"\xff\xfe\x00a\x00b", "not UTF-8"),
    "too few rows": ("s.csv", b"a,label\n1,0\n2,1\n", "between 10"),
    "infinite values": ("inf.csv", b"a,label\n" + b"inf,0\n1,1\n" * 10, "infinite"),
    "wrong type": ("model.pkl", b"\x80\x04K\x01.", "Upload a .csv"),
    "too large": ("big.csv", b"a,label\n" + b"1,0\n" * 6_000_000, "limited to"),
}


def test_uploading_a_data_set_and_refusing_malformed_ones():
    at = goto(new_app(), "dataset")
    for case, (name, content, message) in BAD_UPLOADS.items():
        at.get("file_uploader")[0].set_value((name, content, "application/octet-stream"))
        at.run()
        ok(at)
        assert any(message in e for e in errors(at)), (case, errors(at))
        assert spec_of(at).data["name"] == "mnist", case
    at.get("file_uploader")[0].set_value(("points.csv", GOOD_CSV, "text/csv"))
    at.run()
    ok(at)
    assert spec_of(at).data["name"] == links.UPLOAD
    assert any("Loaded points.csv" in s for s in values(at, "success"))
    metrics = {m.label: m.value for m in at.get("metric")}
    assert (metrics["Features"], metrics["Classes"]) == ("2", "2")
    assert widget(at, "selectbox", "data_name").value == links.UPLOAD
    goto(at, "architecture")
    assert errors(at) == [] and at.get("dataframe")
    # a link cannot carry the upload: it says so and opens the default data
    other = new_app(query=link_of(at))
    assert spec_of(other).data == {"name": "mnist"}
    assert any("uploaded data set" in w for w in warnings(other))


# ------------------------------------------------------------------ the Architecture page
def test_build_change_and_reset_an_architecture():
    at = goto(new_app(), "architecture")
    assert [h.units for h in spec_of(at).hidden] == [256, 128]
    assert len(at.get("latex")) >= 8 and at.get("dataframe") and at.get("plotly_chart")
    click(at, "arch_add")
    assert [h.units for h in spec_of(at).hidden] == [256, 128, 64]
    set_widget(at, "number_input", "arch_units_0", 32)
    set_widget(at, "selectbox", "arch_act_1", "tanh")
    set_widget(at, "number_input", "arch_drop_1", 0.2)
    set_widget(at, "selectbox", "arch_init_2", "lecun")
    hidden = spec_of(at).hidden
    assert [(h.units, h.activation, h.dropout, h.init) for h in hidden] == [
        (32, "relu", 0.0, None), (128, "tanh", 0.2, None), (64, "relu", 0.0, "lecun")]
    assert link_of(at)["layers"] == "32relu,128tanh:d0.2,64relu:lecun"
    latex = " ".join(values(at, "latex"))
    assert r"\tanh" in latex and r"W^{(2)} \in \mathbb{R}^{32 \times 128}" in latex
    assert "Bernoulli" in latex                                # dropout shows in the equations
    summary = at.get("dataframe")[0].value
    assert list(summary["parameters"])[:1] == [64 * 32 + 32]
    # reorder, remove
    click(at, "arch_up_1")
    assert [h.units for h in spec_of(at).hidden] == [128, 32, 64]
    click(at, "arch_down_1")
    assert [h.units for h in spec_of(at).hidden] == [128, 64, 32]
    click(at, "arch_del_0")
    assert [h.units for h in spec_of(at).hidden] == [64, 32]
    # optimizer and hyper-parameters
    set_widget(at, "selectbox", "arch_opt", "momentum")
    set_widget(at, "slider", "arch_mom", 0.8)
    set_widget(at, "number_input", "arch_lr", 0.05)
    assert spec_of(at).optimizer == {"name": "momentum", "lr": 0.05, "momentum": 0.8}
    assert r"v \leftarrow 0.8" in " ".join(values(at, "latex"))
    set_widget(at, "selectbox", "arch_sched", "step")
    set_widget(at, "number_input", "arch_sstep", 4)
    set_widget(at, "checkbox", "arch_full", True)
    set_widget(at, "number_input", "arch_l2", 0.01)
    set_widget(at, "number_input", "arch_ep", 25)
    set_widget(at, "number_input", "arch_seed", 11)
    spec = spec_of(at)
    assert spec.schedule == {"name": "step", "step_size": 4, "gamma": 0.5}
    assert (spec.batch_size, spec.l2, spec.epochs, spec.seed) == (None, 0.01, 25, 11)
    assert link_of(at)["bs"] == "full" and r"\lambda = 0.01" in " ".join(values(at, "latex"))
    set_widget(at, "selectbox", "arch_opt", "adam")
    assert spec_of(at).optimizer == {"name": "adam", "lr": 0.001}
    # no hidden layer at all is a valid network too
    click(at, "arch_del_0")
    click(at, "arch_del_0")
    assert spec_of(at).hidden == () and errors(at) == []
    # reset keeps the data and restores the defaults
    click(at, "arch_reset")
    assert spec_of(at).to_dict() == RunSpec().to_dict()


def test_convolution_and_pooling_layers_on_images_and_refused_elsewhere():
    at = goto(new_app(query={"data": "digits"}), "architecture")
    click(at, "arch_add_conv")
    assert spec_of(at).to_dict()["hidden"][0] == {
        "kind": "conv", "filters": 8, "kernel": 3, "stride": None, "padding": "same",
        "activation": "relu", "dropout": 0.0, "init": None}
    set_widget(at, "number_input", "arch_filters_0", 4)
    set_widget(at, "number_input", "arch_kernel_0", 5)
    set_widget(at, "selectbox", "arch_kind_1", "maxpool")          # 256 dense → 2×2 pooling
    set_widget(at, "selectbox", "arch_kind_2", "conv")             # 128 dense → convolution
    set_widget(at, "selectbox", "arch_pad_2", "valid")
    assert link_of(at)["layers"] == "conv4x5relu:psame,pool2,conv8x3relu:pvalid"
    assert errors(at) == []
    latex = " ".join(values(at, "latex"))
    assert r"K^{(1)} \in \mathbb{R}^{4 \times 1 \times 5 \times 5}" in latex
    assert r"\max_{0 \le i, j < 2}" in latex and r"\operatorname{rot}_{180}" in latex
    layers = list(at.get("dataframe")[0].value["layer"])
    assert [l.split("(")[0] for l in layers] == ["Reshape", "Conv2D", "MaxPool2D", "Conv2D",
                                                 "Flatten", "Dense"]
    # a dense layer in front of the convolutions is refused, with the reason
    set_widget(at, "selectbox", "arch_kind_0", "dense")
    assert any("after a dense layer" in e for e in errors(at))
    assert spec_of(at).hidden[0].kind == "conv"
    # a kernel that no longer fits the 4×4 maps after pooling is explained, not a crash
    set_widget(at, "number_input", "arch_kernel_2", 9)
    assert any("does not fit" in e or "no pixels" in e for e in errors(at)), errors(at)
    set_widget(at, "number_input", "arch_kernel_2", 3)
    # on 2-D points there are no images: the button is off and a link's conv layer is explained
    goto(at, "dataset")
    set_widget(at, "selectbox", "data_name", "moons")
    goto(at, "architecture")
    assert widget(at, "button", "arch_add_conv").disabled
    assert any("cannot be built" in e and "image" in e for e in errors(at)), errors(at)


def test_layer_count_and_run_size_limits_are_refused_with_a_reason():
    at = goto(new_app(), "architecture")
    for _ in range(LIMITS["max_hidden_layers"] - 2):
        click(at, "arch_add")
    assert len(spec_of(at).hidden) == LIMITS["max_hidden_layers"]
    assert widget(at, "button", "arch_add").disabled
    # 10,000 epochs of the default network on the digits is above the hosted limit
    set_widget(at, "number_input", "arch_ep", RUN["epochs"].high)
    assert any("too large for the shared demo" in e for e in errors(at))
    assert spec_of(at).epochs == 10 and widget(at, "number_input", "arch_ep").value == 10


def test_incompatible_loss_is_explained_and_fixable_never_a_crash():
    at = goto(new_app(), "architecture")
    click(at, "preset_load_seed003-moons")                  # binary cross-entropy, 2 classes
    goto(at, "dataset")
    set_widget(at, "selectbox", "data_name", "digits")      # … now 10 classes
    assert any("needs exactly two classes" in w for w in warnings(at))
    goto(at, "architecture")
    assert any("needs exactly two classes" in w for w in warnings(at))
    assert any("cannot be built" in e for e in errors(at))
    click(at, "arch_fix_loss")
    assert spec_of(at).loss == "softmax_cross_entropy" and errors(at) == []
    # squared error on softmax is allowed but explained
    set_widget(at, "selectbox", "arch_loss", "mse")
    set_widget(at, "selectbox", "arch_out", "softmax")
    assert any("learns slowly" in w for w in warnings(at))
    assert "2}{10}" in " ".join(values(at, "latex"))         # MSE's 2(a − y)/k, k = 10


@pytest.mark.parametrize("where", ["architecture", "home"])
def test_every_preset_loads_in_one_click(where):
    at = goto(new_app(), where)
    for name, preset in PRESETS.items():
        click(at, f"{'preset_load' if where == 'architecture' else 'home_preset'}_{name}")
        assert spec_of(at).to_dict() == preset.run_spec().to_dict(), name
        assert link_of(at) == links.spec_to_params(preset.run_spec())
        back, notes = links.spec_from_params(link_of(at))     # and it reads back as the preset
        assert notes == [] and back.to_dict() == preset.run_spec().to_dict(), name
        assert any(preset.title in s for s in values(at, "success")), name
        if where == "architecture":
            assert errors(at) == [], (name, errors(at))
            assert preset.expectation in " ".join(values(at, "success"))


def test_trained_weights_colour_the_diagram():
    at = goto(new_app(), "architecture")
    click(at, "preset_load_seed003-moons")
    grey = at.get("plotly_chart")[-1].proto.spec
    result = train_spec(spec_of(at), epochs=2)
    at.session_state["model"] = result.network
    at.run()
    ok(at)
    coloured = at.get("plotly_chart")[-1].proto.spec
    assert "#d62728" in coloured or "#1f77b4" in coloured
    assert "#d62728" not in grey and "#1f77b4" not in grey


# ------------------------------------------------------------------ shareable links
def test_a_copied_link_opens_the_same_setup_and_trains_to_the_same_weights():
    at = goto(new_app(), "dataset")
    set_widget(at, "selectbox", "data_name", "spiral")
    set_widget(at, "slider", "data_spiral_noise", 0.3)
    goto(at, "architecture")
    click(at, "arch_add")
    set_widget(at, "selectbox", "arch_act_0", "tanh")
    set_widget(at, "selectbox", "arch_opt", "nesterov")
    set_widget(at, "number_input", "arch_ep", 3)
    set_widget(at, "number_input", "arch_seed", 5)
    original = spec_of(at)
    link = link_of(at)
    assert link == links.spec_to_params(original)

    other = goto(new_app(query=link), "dataset")
    assert spec_of(other).to_dict() == original.to_dict()
    assert not other.session_state["link_notes"]
    assert link_of(other) == link
    assert widget(other, "selectbox", "data_name").value == "spiral"

    a, b = train_spec(original), train_spec(spec_of(other))
    for (_, wa, _), (_, wb, _) in zip(a.network.parameters(), b.network.parameters()):
        assert np.array_equal(wa, wb)


MALFORMED_LINKS = {
    "garbage numbers": {"data": "moons", "n": "lots", "noise": "NaN", "lr": "0x10", "ep": "-3",
                        "bs": "1e999", "seed": "-7"},
    "unknown names": {"data": "imagenet", "opt": "rmsprop", "loss": "hinge", "layers": "16swish,8gelu",
                      "sched": "warmup", "what": "ever"},
    "huge sizes": {"data": "moons", "n": "999999999", "layers": ",".join(["100000relu"] * 40),
                   "ep": "99999999", "bs": "10000000000"},
    "script-like": {"data": "<script>alert('x')</script>", "opt": "__import__('os').system('id')",
                    "lr": "{{7*7}}", "layers": "$(rm -rf ~)", "seed": "`id`"},
    "paths": {"data": "../../etc/passwd", "data_dir": "/etc", "layers": "file:///etc/passwd",
              "oinit": "C:\\Windows\\system32"},
}


@pytest.mark.parametrize("case", list(MALFORMED_LINKS))
def test_malformed_links_fall_back_with_a_visible_note(case):
    at = new_app(query=MALFORMED_LINKS[case])
    spec = spec_of(at).validate()
    notes = at.session_state["link_notes"]
    assert notes
    shown = " ".join(warnings(at))
    assert "The link this session opened with had problems" in shown
    assert all(note.split("`")[0][:30] in shown for note in notes)
    # the address bar now holds the clean setup
    assert link_of(at) == links.spec_to_params(spec)
    # the note can be dismissed, and every page still works
    click(at, "link_notes_dismiss")
    assert not at.session_state["link_notes"]
    for page in ("dataset", "architecture"):
        goto(at, page)
    # a setup clamped to every single limit can still be too much work in total: the
    # Architecture page says so (training refuses it) instead of failing
    too_large = any("too large for the shared demo" in e for e in errors(at))
    assert too_large == (case == "huge sizes"), errors(at)


def test_the_link_is_read_once_per_session_only():
    at = new_app(query={"data": "circles", "ep": "4"})
    assert spec_of(at).data["name"] == "circles" and spec_of(at).epochs == 4
    goto(at, "architecture")
    set_widget(at, "number_input", "arch_ep", 6)
    goto(at, "home")
    assert spec_of(at).epochs == 6 and link_of(at)["ep"] == "6"
