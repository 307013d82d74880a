"""The Training page in Streamlit's AppTest: train a tiny network on generated data and see
the history, charts and model appear; stop a run; refuse a second one; report a diverging
learning rate with a suggestion; refuse runs over the limits; refuse malformed uploads
and keep the previous model; run seed 003's learning-rate study; show a CNN's feature
maps for a chosen test image.

The run trains in a child process, so after clicking Start the tests rerun the page until
the trainer says it has ended, with a deadline (``support.apptest``).
"""

import base64
import io
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import (TIMEOUT, moons_spec, poll_until, run_until_ended, texts,
                             training_page)

from lab import datasets
from lab.figures import common
from lab.models import conv_feature_maps, is_convolutional, read_model_file
from lab.uploads import parse_upload
from nncore import Dense, Network
from nncore.layers import ActivationLayer, Conv2D, Flatten, MaxPool2D, Reshape
from nncore.jobs.processes import ProcessTrainer
from nncore.runs.run import build_for, load_spec_data
from nncore.serialization import save
from nncore.runs.spec import LayerSpec, RunSpec

ROOT = Path(__file__).resolve().parents[2]


def _model_bytes(n_inputs=2, n_out=2, seed=0) -> bytes:
    net = Network([Dense(n_inputs, 4, "relu"), Dense(4, n_out, "softmax")], seed=seed)
    buffer = io.BytesIO()
    save(net, buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ training
def test_train_a_tiny_network_and_see_history_charts_and_model():
    at = training_page(moons_spec())
    assert "No run yet" in texts(at.info)
    assert at.session_state["model"] is None
    at.button(key="training_start").click().run()
    run_until_ended(at)

    trainer = at.session_state["trainer"]
    assert isinstance(trainer, ProcessTrainer)     # trained in its own process, like the CLI
    assert trainer.process.pid != os.getpid() and trainer.process.exitcode == 0
    p = trainer.progress()
    assert p.state == "finished" and p.epoch == 2
    assert len(p.history["train_loss"]) == 2 and len(p.history["val_loss"]) == 2
    assert "Finished 2 epochs" in texts(at.success)
    # the median epoch, in milliseconds when it is short ("0.00 s" said nothing)
    said = re.search(r"median ([\d.]+) (ms|s) per epoch", texts(at.success))
    assert said, texts(at.success)
    stated = float(said[1]) / (1000 if said[2] == "ms" else 1)
    median = float(np.median(p.history["seconds"]))
    assert stated == pytest.approx(median, rel=0.05, abs=0.005 if said[2] == "s" else 1e-6)
    assert said[2] == ("ms" if median < 0.1 else "s") and float(said[1]) > 0
    assert not at.error
    model = at.session_state["model"]
    assert model is trainer.network and model.metadata["history"]["epoch"] == [1, 2]
    assert model.metadata["spec"]["epochs"] == 2
    # the replay (curves and boundary), batch loss, confusion, per class, test boundary
    assert len(at.get("plotly_chart")) >= 5
    labels = [m.label for m in at.metric]
    assert "Samples / second" in labels and "Accuracy (test set)" in labels
    assert at.progress[0].value == 100


def test_stop_ends_the_run_and_keeps_its_network():
    at = training_page(moons_spec(epochs=5000, batch_size=1))
    at.button(key="training_start").click().run()
    assert at.session_state["trainer"].progress().active
    assert not at.button(key="training_stop").disabled
    at.button(key="training_stop").click().run()
    run_until_ended(at)
    p = at.session_state["trainer"].progress()
    assert p.state == "stopped" and p.epoch < 5000
    assert "stopped by the user" in texts(at.info)
    assert at.session_state["model"] is at.session_state["trainer"].network


def test_a_second_start_is_refused_while_a_run_goes_on():
    at = training_page(moons_spec(epochs=5000, batch_size=1))
    at.button(key="training_start").click().run()
    first = at.session_state["trainer"]
    at.button(key="training_start").click().run()
    assert "already in progress" in texts(at.error)
    assert at.session_state["trainer"] is first
    at.button(key="training_pause").click().run()
    assert first.progress().state == "paused"
    assert at.button(key="training_pause").label == "Resume"
    at.button(key="training_pause").click().run()
    assert first.progress().state == "running"
    at.button(key="training_stop").click().run()
    run_until_ended(at)


def test_diverging_learning_rate_is_explained_with_one_suggestion_that_retries():
    # squared error on a linear output with lr 10: the loss is inf within a few batches
    at = training_page(moons_spec(loss="mse", output_activation="linear", optimizer={"name": "sgd", "lr": 10.0},
                    epochs=5000))                     # the retry must still be running
    at.button(key="training_start").click().run()
    run_until_ended(at)
    first = at.session_state["trainer"]
    assert first.progress().state == "diverged"
    errors = texts(at.error)
    assert "diverged" in errors and "try 1" in errors
    assert at.session_state["model"] is None          # no good epoch: nothing replaced
    # one answer: a single button, the retry at a tenth of the rate (no second "use lr")
    answers = [b for b in at.button if "1" in b.label and ("lr" in b.label or "rate" in b.label)]
    assert [b.key for b in answers] == ["training_retry_diverged"]
    assert answers[0].label == "Retry from the same initial weights at lr / 10 (1)"
    answers[0].click().run()
    assert at.session_state["spec"].optimizer["lr"] == 1.0
    retry = at.session_state["trainer"]
    assert retry is not first and retry.meta["spec"]["optimizer"]["lr"] == 1.0
    for a, b in zip(retry.meta["initial_weights"], first.meta["initial_weights"]):
        np.testing.assert_array_equal(a, b)
    assert "from the same initial weights at learning rate 1 has started" in texts(at.success)
    at.button(key="training_stop").click().run()
    run_until_ended(at)


def test_a_run_over_the_limits_is_refused_before_it_starts():
    at = training_page(moons_spec(hidden=[LayerSpec(1024), LayerSpec(1024)], epochs=10_000))
    at.button(key="training_start").click().run()
    assert "too large for the shared demo" in texts(at.error)
    assert at.session_state["trainer"] is None


# ------------------------------------------------------------------ model files
def test_malformed_uploads_are_refused_and_the_model_kept():
    at = training_page(moons_spec())
    previous = Network([Dense(2, 3, "relu"), Dense(3, 2, "softmax")], seed=1)
    at.session_state["model"] = previous
    at.run()
    good = _model_bytes()
    pickled = io.BytesIO()
    np.savez(pickled, **{"model.json": np.array([{"evil": 1}], dtype=object)})
    cases = {
        "notes.txt": b"this is not a model",
        "truncated.npz": good[: len(good) // 2],
        "pickled.npz": pickled.getvalue(),
        "wide.npz": _model_bytes(n_inputs=784, n_out=10),
    }
    expected = {"notes.txt": "not an nncore model", "truncated.npz": "truncated or corrupted",
                "pickled.npz": "pickled Python objects", "wide.npz": "784 input features"}
    for name, content in cases.items():
        at.file_uploader(key="training_upload").set_value((name, content,
                                                           "application/octet-stream"))
        at.run()
        assert not at.exception
        errors = texts(at.error)
        assert expected[name] in errors and "current model is unchanged" in errors, (name, errors)
        assert at.session_state["model"] is previous, name

    at.file_uploader(key="training_upload").set_value(("good.npz", good, "application/octet-stream"))
    at.run()
    assert "Loaded good.npz" in texts(at.success)
    assert at.session_state["model"] is not previous
    assert at.session_state["model"].n_inputs == 2


def test_upload_checks_work_without_a_browser():
    class Data:
        name, n_features, n_classes = "moons", 2, 2

    net, problem = read_model_file(_model_bytes(), "ok.npz", Data)
    assert net is not None and problem is None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("model.json.npy", b"\x93NUMPY garbage")
    for content in (b"", b"PK\x03\x04", buffer.getvalue(), _model_bytes(n_out=3)):
        net, problem = read_model_file(content, "bad.npz", Data)
        assert net is None and problem.startswith("That file was not loaded")


def test_download_offers_the_current_model():
    at = training_page(moons_spec())
    at.button(key="training_start").click().run()
    run_until_ended(at)
    buttons = [b for b in at.get("download_button") if b.proto.id.endswith("-training_download")]
    assert len(buttons) == 1 and "Download nncore-moons.npz" in buttons[0].proto.label


# ------------------------------------------------------------------ experiments
def _run_experiment(spec, button: str):
    """Open the Experiments tab, press ``button`` and rerun until its task has ended."""
    at = training_page(spec)
    at.session_state["training_tabs"] = "Experiments"
    at.run()
    at.button(key=button).click().run()
    task = at.session_state["experiment"]
    poll_until(at, lambda: not task.progress().active, what="the experiment did not end in time")
    return at, task


def test_learning_rate_study_runs_from_the_page():
    at, task = _run_experiment(moons_spec(epochs=15, batch_size=None), "training_study_start")
    assert not at.exception
    result = task.progress().result
    assert task.progress().state == "finished"
    assert sorted(result["curves"]) == [0.1, 0.2, 0.3, 0.5, 1.0, 2.0]
    assert all(len(c) == 15 for c in result["curves"].values())
    assert len(at.get("plotly_chart")) >= 1 and len(at.dataframe) >= 1


def test_sklearn_crosscheck_runs_from_the_page():
    at, task = _run_experiment(moons_spec(epochs=10, batch_size=None), "training_cross_start")
    assert not at.exception and task.progress().state == "finished"
    result = task.progress().result
    assert len(result["nncore"]["loss"]) == 10 and len(result["sklearn"]["loss"]) == 10
    assert result["settings"]["solver"] == "sgd" and result["settings"]["momentum"] == 0.0
    assert result["settings"]["hidden_layer_sizes"] == [8]
    table = at.dataframe[-1].value
    assert list(table["trained by"]) == ["nncore", "scikit-learn MLPClassifier"]


def test_xor_outputs_table():
    spec = RunSpec(data={"name": "xor"}, hidden=[LayerSpec(3, "tanh", init="uniform-0.5")],
                   loss="mse", output_activation="tanh", output_init="uniform-0.5",
                   separate_activations=True, optimizer={"name": "sgd", "lr": 0.1},
                   batch_size=1, epochs=200, shuffle=False, seed=2)
    at = training_page(spec)
    at.button(key="training_start").click().run()
    run_until_ended(at)
    tables = [d.value for d in at.dataframe if "network output" in d.value.columns]
    assert tables, "the XOR table is shown"
    table = tables[0]
    assert list(table["target"]) == [0, 1, 1, 0] and len(table) == 4


def test_image_data_shows_the_gallery_weights_histograms_and_dead_units():
    spec = RunSpec(data={"name": "digits"}, hidden=[LayerSpec(16)], batch_size=64, epochs=1,
                   seed=0)
    at = training_page(spec)
    at.button(key="training_start").click().run()
    run_until_ended(at)
    assert "Misclassified test images" in "\n".join(m.value for m in at.markdown)
    assert len(at.get("image")) >= 1                 # the gallery of wrong digits
    at.session_state["training_tabs"] = "Inside the network"
    at.run()
    assert not at.exception and not at.error
    charts = at.get("plotly_chart")
    assert len(charts) >= 2 + 3                      # replay, batch loss + weights, dead units, histograms
    assert any("ReLU units output 0" in c.value for c in at.caption)


def test_the_sidebar_follows_the_run_from_any_page():
    """The app frame (here on the Home page) shows the run's epoch and, when it ends, hands
    the trained network on to the session's model. (AppTest's switch_page runs a page
    without the frame, and a second run of app.py in one AppTest comes back with an empty
    sidebar, so each check is a fresh first run with the run in its session state.)"""
    from nncore.jobs.threads import BackgroundTrainer, SessionToken
    from nncore.runs.run import build_for, load_spec_data

    spec = moons_spec(epochs=50, batch_size=1)
    data = load_spec_data(spec)
    token = SessionToken()
    gate = __import__("threading").Event()

    def hold(event):          # keep the run going until the first check has been made
        if event.kind == "epoch_end" and event.epoch == 1:
            gate.wait(TIMEOUT)

    trainer = BackgroundTrainer(build_for(spec, data), data.X_train, data.y_train, owner=token,
                                on_event=hold, meta={"spec": spec.to_dict(), "data": spec.data},
                                epochs=50,
                                batch_size=1).start()

    def frame():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20)
        for key, value in (("spec", spec), ("run_owner", token),
                           ("trainer", trainer)):
            at.session_state[key] = value
        at.run()
        assert not at.exception
        return at, "\n".join(m.value for m in at.sidebar.markdown)

    at, sidebar = frame()
    assert "**Training:** epoch" in sidebar and "(running)" in sidebar
    assert at.session_state["model"] is None
    gate.set()
    assert trainer.join(TIMEOUT)
    at, sidebar = frame()
    assert "**Training:** epoch 50/50 (finished)" in sidebar
    assert at.session_state["model"] is trainer.network
    assert trainer.network.metadata["spec"]["epochs"] == 50


def test_dropping_the_session_stops_its_run():
    import gc

    at = training_page(moons_spec(epochs=5000, batch_size=1))
    at.button(key="training_start").click().run()
    trainer = at.session_state["trainer"]
    assert trainer.progress().active
    del at                       # the session and its state go away (as when a tab closes)
    gc.collect()
    assert trainer.join(TIMEOUT), "the worker must end with its session"
    p = trainer.progress()
    assert p.state == "stopped" and "session ended" in p.message


def _tiny_cnn_spec(epochs: int = 1) -> RunSpec:
    """Conv 4×3×3 → max-pool 2 on scikit-learn's bundled 8×8 digits (offline, no download)."""
    return RunSpec(data={"name": "digits", "seed": 0},
                   hidden=[LayerSpec(kind="conv", filters=4, kernel=3, padding="same"),
                           LayerSpec(kind="maxpool", pool=2)],
                   optimizer={"name": "adam", "lr": 0.01}, batch_size=32, epochs=epochs,
                   seed=0).validate()


def test_a_tiny_cnn_trains_for_one_epoch_on_generated_images():
    """Issue 6: the page builds and trains a convolutional network like an MLP. The images are
    scikit-learn's bundled 8×8 digits (generated here offline, no download)."""
    at = training_page(_tiny_cnn_spec())
    at.button(key="training_start").click().run()
    run_until_ended(at)

    p = at.session_state["trainer"].progress()
    assert p.state == "finished" and p.epoch == 1, (p.state, p.message)
    model = at.session_state["model"]
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[:4] == ["Reshape", "Conv2D", "MaxPool2D", "Flatten"], kinds
    assert model.layers[1].W.shape == (4, 1, 3, 3)
    # one epoch on 1,150-odd digits already reads far better than chance (10 %)
    assert p.history["val_accuracy"][-1] > 0.5, p.history
    assert not at.error and not at.exception


# ------------------------------------------------------------------ a CNN's feature maps
FEATURE_IMAGE = "training_feature_image"


def _figures(at: AppTest) -> dict:
    """Title → figure (as JSON) of every chart on the page."""
    out = {}
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        title = fig.get("layout", {}).get("title") or {}
        out[title.get("text") if isinstance(title, dict) else title] = fig
    return out


def _heatmap(fig: dict) -> np.ndarray:
    """The z of a figure's heatmap: Plotly ≥ 6 sends NumPy arrays as dtype + base64 bytes."""
    z = fig["data"][0]["z"]
    if isinstance(z, dict) and "bdata" in z:
        shape = [int(n) for n in str(z.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape)
    return np.array(z, dtype=np.float64)


def _feature_map_figures(at: AppTest) -> dict:
    return {t: f for t, f in _figures(at).items() if t and t.startswith("Layer ")}


def _captions(at: AppTest) -> str:
    return texts(at.caption)


def test_a_trained_cnn_shows_the_feature_maps_of_a_chosen_test_image():
    spec = _tiny_cnn_spec()
    at = training_page(spec)
    at.button(key="training_start").click().run()
    run_until_ended(at)
    at.session_state["training_tabs"] = "Inside the network"
    at.run()
    assert not at.exception and not at.error
    model = at.session_state["model"]
    data = load_spec_data(spec)                      # the same split the page uses
    names = list(data.class_names)

    assert "Feature maps of one test image" in texts(at.markdown)
    assert at.number_input(key=FEATURE_IMAGE).value == 0
    figures = _feature_map_figures(at)
    # one figure per Conv2D / MaxPool2D layer, named and shaped like the layer
    assert sorted(figures) == ["Layer 1, Conv2D: 4 maps of 8×8", "Layer 2, MaxPool2D: 4 maps of 4×4"]

    def shown(i):
        predicted = int(model.predict(data.X_test[i:i + 1])[0])
        assert (f"Test image #{i}: a {names[data.y_test[i]]}. The network says "
                f"{names[predicted]}") in _captions(at)
        # the first map of the convolution, the mosaic's top-left 8×8 tile
        image = model.layers[0].forward(data.X_test[i:i + 1])            # Reshape
        conv = model.layers[1].forward(image)[0]                          # Conv2D, on its own
        tile = _heatmap(_feature_map_figures(at)["Layer 1, Conv2D: 4 maps of 8×8"])[:8, :8]
        np.testing.assert_allclose(tile, conv[0], rtol=1e-5, atol=1e-6)
        return tile

    first = shown(0)
    other = int(np.flatnonzero(data.y_test != data.y_test[0])[0])   # a different digit
    at.number_input(key=FEATURE_IMAGE).set_value(other).run()
    assert not at.exception and not at.error
    assert "Test image #0:" not in _captions(at)
    assert not np.allclose(shown(other), first)
    assert len(_feature_map_figures(at)) == 2


def test_feature_maps_show_the_weights_taken_during_a_run():
    at = training_page(_tiny_cnn_spec(epochs=500))
    at.session_state["training_tabs"] = "Inside the network"
    at.button(key="training_start").click().run()
    trainer = at.session_state["trainer"]
    assert trainer.progress().active
    assert not _feature_map_figures(at)              # nothing to analyse until asked
    # a number left over from a data set with more test images is brought into range
    at.session_state[FEATURE_IMAGE] = 10 ** 6
    at.button(key="training_snapshot_button").click().run()
    assert not at.exception and not at.error
    assert sorted(_feature_map_figures(at)) == ["Layer 1, Conv2D: 4 maps of 8×8",
                                                "Layer 2, MaxPool2D: 4 maps of 4×4"]
    last = len(load_spec_data(_tiny_cnn_spec()).y_test) - 1
    assert at.number_input(key=FEATURE_IMAGE).value == last
    assert f"Test image #{last}:" in _captions(at)
    at.number_input(key=FEATURE_IMAGE).set_value(3).run()
    assert "Test image #3:" in _captions(at)
    at.button(key="training_stop").click().run()
    run_until_ended(at)


@pytest.mark.parametrize("data", [{"name": "digits", "seed": 0},
                                  {"name": "moons", "n_samples": 200, "noise": 0.2, "seed": 0}])
def test_a_model_without_convolutions_shows_no_feature_maps(data):
    spec = RunSpec(data=data, hidden=[LayerSpec(16)], seed=0).validate()
    at = training_page(spec)
    at.session_state["model"] = build_for(spec, load_spec_data(spec))
    at.session_state["training_tabs"] = "Inside the network"
    at.run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) >= 2          # the tab itself is drawn (histograms…)
    assert "Feature maps" not in texts(at.markdown)
    assert not [w for w in at.number_input if w.key == FEATURE_IMAGE]
    assert not _feature_map_figures(at)


def test_conv_feature_maps_follow_the_layers():
    rng = np.random.default_rng(0)
    conv = Conv2D(1, 3, 3, padding="same", activation="relu")
    net = Network([Reshape((1, 8, 8)), conv, MaxPool2D(2), Flatten(), Dense(3 * 4 * 4, 5, "softmax")],
                  seed=0)
    x = rng.random(64).astype(np.float32)
    maps = conv_feature_maps(net, x)
    assert [(t, a) for t, a, _ in maps] == [("Layer 1, Conv2D: 3 maps of 8×8", "relu"),
                                           ("Layer 2, MaxPool2D: 3 maps of 4×4", "relu")]
    # the convolution worked out by hand: each filter slid over the zero-padded image
    padded = np.pad(x.reshape(8, 8).astype(np.float64), 1)
    W, b = conv.W.astype(np.float64), np.ravel(conv.b).astype(np.float64)
    by_hand = np.array([[[np.sum(W[k, 0] * padded[r:r + 3, c:c + 3]) + b[k] for c in range(8)]
                         for r in range(8)] for k in range(3)])
    by_hand = np.maximum(by_hand, 0)
    np.testing.assert_allclose(maps[0][2], by_hand, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maps[1][2], by_hand.reshape(3, 4, 2, 4, 2).max(axis=(2, 4)),
                               rtol=1e-5, atol=1e-6)

    # seed 001 style: a linear Conv2D and then an ActivationLayer is shown after the tanh
    split = Network([Reshape((1, 8, 8)), Conv2D(1, 2, 3, activation="linear"),
                     ActivationLayer("tanh"), Flatten(), Dense(2 * 6 * 6, 3, "softmax")], seed=0)
    (title, act, values), = conv_feature_maps(split, x)
    linear = split.layers[1].forward(split.layers[0].forward(x.reshape(1, -1)))[0]
    assert (title, act) == ("Layer 1, Conv2D: 2 maps of 6×6", "tanh")
    np.testing.assert_allclose(values, np.tanh(linear), rtol=1e-5, atol=1e-6)

    mlp = Network([Dense(64, 8, "relu"), Dense(8, 3, "softmax")], seed=0)
    assert conv_feature_maps(mlp, x) == []
    assert not is_convolutional(mlp) and is_convolutional(net)


def test_thumbnail_draws_dark_ink_on_white_in_square_blocks():
    img = common.thumbnail([0.0, 1.0, 0.5, 1.5], (2, 2), size=4)
    assert img.dtype == np.uint8 and img.shape == (4, 4)
    assert img.tolist() == [[255, 255, 0, 0], [255, 255, 0, 0],
                            [127, 127, 0, 0], [127, 127, 0, 0]]
    assert common.thumbnail(np.zeros(64), (8, 8), size=84).shape == (80, 80)


def test_a_cnn_on_uploaded_non_square_images_is_sized_by_their_shape():
    """The Training page checks the run against the hosted limits with the data's own
    image shape (4×8 here), as the Architecture page does, not as if it were square."""
    rng = np.random.default_rng(0)
    images = rng.random((120, 4, 8)).astype(np.float32)
    labels = (images[:, :, :4].mean(axis=(1, 2)) > images[:, :, 4:].mean(axis=(1, 2))).astype(int)
    buffer = io.BytesIO()
    np.savez(buffer, X=images, y=labels)
    upload = parse_upload("bars.npz", buffer.getvalue())
    assert upload["image_shape"] == (4, 8)
    spec = RunSpec(data={"name": "upload", "val_fraction": 0.1, "test_fraction": 0.2, "seed": 0},
                   hidden=[LayerSpec(kind="conv", filters=2, kernel=3, padding="same")],
                   optimizer={"name": "adam", "lr": 0.01}, batch_size=32, epochs=1, seed=0)
    at = training_page(spec, **{datasets.UPLOADED: upload})
    at.button(key="training_start").click().run()
    assert "not a square image" not in texts(at.error)
    run_until_ended(at)
    assert at.session_state["trainer"].progress().state == "finished"


def test_tile_lays_images_out_in_rows_with_nan_gaps():
    """The one tiling every page uses (weights, feature maps, sample images), worked by hand."""
    images = np.arange(12, dtype=float).reshape(3, 2, 2)      # three 2×2 images
    n = np.nan
    expected = np.array([[0, 1, n, 4, 5],
                         [2, 3, n, 6, 7],
                         [n, n, n, n, n],
                         [8, 9, n, n, n],
                         [10, 11, n, n, n]])
    np.testing.assert_array_equal(common.tile(images, 2), expected)
    above = common.tile(images, 2, row_gap=2, gap_above=True)  # room for labels
    assert above.shape == (8, 5) and np.isnan(above[:2]).all()
    np.testing.assert_array_equal(above[2:4], expected[:2])
    scaled = common.mosaic(np.array([[[2.0, -4.0]], [[0.0, 0.0]]]), columns=2)
    np.testing.assert_array_equal(scaled, [[0.5, -1.0, n, 0.0, 0.0]])   # each tile ÷ its max |w|
