"""The exported NumPy script, run as a learner runs it: in a subprocess, with no nncore.

Its epoch losses are compared with the lab's own run of the same spec (``train_spec``, the
engine's layers and optimizers) to 1e-5 relative — the script writes every equation out
anew, so this checks the two implementations against each other. MNIST runs on tiny IDX
files this module writes, so nothing here needs the real data or the network.
"""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nncore import Conv2D, Dense, Network, Reshape, save
from nncore.data import load_dataset, write_idx
from nncore.data.mnist import KINDS as MNIST_KINDS
from nncore.data.registry import DATASETS
from nncore.export import ExportError, export_model, export_spec
from nncore.export.data_code import data_settings
from nncore.runs.presets import PRESETS, get_preset
from nncore.runs.run import train_spec
from nncore.runs.spec import LayerSpec, RunSpec
from nncore.serialization import load
from support.data import mnist_dir
from support.exported import finished, started

ROOT = Path(__file__).resolve().parents[2]
RTOL = 1e-5

def write_script(tmp_path, spec, name="run.py", title=None):
    exported = export_spec(spec, title, filename=name)
    path = tmp_path / name
    path.write_text(exported.script)
    return path, exported


def assert_same_run(script_run, lab):
    losses, out, _ = script_run
    assert len(losses) == len(lab.history.train_loss) == lab.metrics["epochs"]
    np.testing.assert_allclose(losses, lab.history.train_loss, rtol=RTOL)
    assert out["train_loss"] == pytest.approx(lab.metrics["train_loss"], rel=RTOL)
    assert out["test_loss"] == pytest.approx(lab.metrics["test_loss"], rel=RTOL)
    assert out["test_accuracy"] == pytest.approx(lab.metrics["test_accuracy"], abs=1e-12)
    assert out["epochs"] == lab.metrics["epochs"]


def assert_script_repeats(tmp_path, spec, *args, env=None):
    """Export ``spec``, run the script and the lab side by side, and compare them."""
    path, _ = write_script(tmp_path, spec)
    script = started(path, *args, env=env)
    lab = train_spec(spec)
    assert_same_run(finished(script), lab)


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """Four IDX .gz files of 300 training and 120 test 'digits' (a bar whose height is the
    label, plus noise): small, learnable, written here."""
    folder = tmp_path_factory.mktemp("tiny-mnist")
    rng = np.random.default_rng(0)
    for part, n in (("train", 300), ("t10k", 120)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for image, label in zip(images, labels):
            image[4 + 2 * label:10 + 2 * label, 6:22] += 190
        write_idx(folder / f"{part}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{part}-labels-idx1-ubyte.gz", labels)
    return str(folder)


# ---------------------------------------------------------------------- the lab's runs, again
def test_seed003_moons_preset_through_the_command_line(tmp_path):
    """The whole preset, 1000 full-batch epochs: its losses, test accuracy and JSON."""
    path = tmp_path / "moons.py"
    proc = subprocess.run([sys.executable, "-m", "nncore", "export", "--preset",
                           "seed003-moons", "--out", str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "python moons.py" in path.read_text()
    script = started(path)
    assert_same_run(finished(script), train_spec(get_preset("seed003-moons").run_spec()))


def test_seed000_mnist_preset_on_tiny_idx_files(tmp_path, tiny_mnist, monkeypatch):
    """Seed 000's squared error and fixed mini-batches; the folder on the command line."""
    spec = get_preset("seed000-mnist").run_spec().replace(epochs=3)
    monkeypatch.setenv("NNCORE_MNIST_DIR", tiny_mnist)   # for the lab; the script is told below
    assert_script_repeats(tmp_path, spec, tiny_mnist, env={"NNCORE_MNIST_DIR": ""})


def test_a_small_cnn_on_limited_mnist(tmp_path, tiny_mnist, monkeypatch):
    """The mnist-cnn preset (conv, max-pool, flatten, dropout, Adam, cosine) on a seeded
    subset of 100 training images; the folder from NNCORE_MNIST_DIR."""
    spec = get_preset("mnist-cnn").run_spec().replace(
        epochs=2, data={"name": "mnist", "val_fraction": 0.1, "seed": 0, "limit": 100})
    monkeypatch.setenv("NNCORE_MNIST_DIR", tiny_mnist)   # the script's environment too
    assert_script_repeats(tmp_path, spec)


def test_adam_with_l2_and_dropout(tmp_path):
    spec = RunSpec(data={"name": "spiral", "n_samples": 300, "seed": 3},
                   hidden=[LayerSpec(32, "tanh", dropout=0.2),
                           LayerSpec(16, "leaky_relu", dropout=0.3)],
                   loss="softmax_cross_entropy", optimizer={"name": "adam", "lr": 0.01},
                   schedule={"name": "cosine", "min_lr_fraction": 0.1}, l2=0.001,
                   batch_size=32, epochs=8, seed=5)
    assert_script_repeats(tmp_path, spec)


def test_nesterov_momentum_with_l2_dropout_and_a_step_schedule(tmp_path):
    spec = RunSpec(data={"name": "circles", "n_samples": 400, "seed": 2},
                   hidden=[LayerSpec(16, "relu", dropout=0.5), LayerSpec(8, "sigmoid")],
                   loss="binary_cross_entropy",
                   optimizer={"name": "nesterov", "lr": 0.1, "momentum": 0.8}, l2=0.01,
                   schedule={"name": "step", "step_size": 3, "gamma": 0.5},
                   batch_size=50, epochs=8, seed=1)
    assert_script_repeats(tmp_path, spec)


def test_a_cnn_with_separate_activations_stride_and_conv_dropout(tmp_path):
    """scikit-learn's 8×8 digits: max-pool first, a strided conv, an activation as a layer
    of its own (seed 001's way), dropout after a convolution, squared error on tanh."""
    spec = RunSpec(data={"name": "digits", "seed": 1},
                   hidden=[LayerSpec(kind="maxpool", pool=2, stride=1),
                           LayerSpec(kind="conv", filters=4, kernel=3, padding=1, dropout=0.1),
                           LayerSpec(kind="conv", filters=6, kernel=3, stride=2,
                                     activation="sigmoid"),
                           LayerSpec(24, "relu")],
                   loss="mse", output_activation="tanh", separate_activations=True,
                   optimizer={"name": "momentum", "lr": 0.05}, batch_size=64, epochs=3, seed=2)
    assert_script_repeats(tmp_path, spec)


def test_seed002_published_split_and_seed001_xor(tmp_path):
    """The clusters' plain (unstratified) split with L2, and XOR's four points learned by
    heart with per-sample steps in a fixed order."""
    specs = (get_preset("seed002-clusters").run_spec().replace(epochs=10),
             get_preset("seed001-xor").run_spec().replace(epochs=200))
    scripts = [started(write_script(tmp_path, spec, f"run{i}.py")[0])
               for i, spec in enumerate(specs)]
    for script, spec in zip(scripts, specs):
        assert_same_run(finished(script), train_spec(spec))


@pytest.mark.slow
def test_seed000_mnist_preset_on_real_mnist(tmp_path, monkeypatch):
    """An epoch of seed 000's preset on the whole of the real MNIST: the four files read,
    the 54,000 / 6,000 split and the scaling at full size."""
    folder = mnist_dir()
    spec = get_preset("seed000-mnist").run_spec().replace(epochs=1)
    monkeypatch.setenv("NNCORE_MNIST_DIR", folder)
    assert_script_repeats(tmp_path, spec, folder)


@pytest.mark.parametrize("optimizer", [{"name": "sgd", "lr": 0.1},
                                       {"name": "momentum", "lr": 0.05, "momentum": 0.8},
                                       {"name": "nesterov", "lr": 0.05},
                                       {"name": "adam", "lr": 0.01, "beta2": 0.99}])
def test_the_scripts_optimizer_is_the_labs_bit_for_bit(optimizer):
    """The optimizer section, run on its own for 300 steps, against nncore's optimizer.
    Bit for bit, not to a tolerance: a long run amplifies any difference in rounding (Adam
    as the paper writes it, rather than the lab's fused form, is off by 4e-5 after one
    MNIST epoch and by 3e-3 after two)."""
    from nncore.export.plan import plan_spec
    from nncore.export.train_code import optimizer_section
    from nncore.optimizers import get_optimizer

    spec = RunSpec(data={"name": "moons"}, hidden=[LayerSpec(5)], optimizer=optimizer)
    rng = np.random.default_rng(0)
    shapes = {"W1": (2, 5), "b1": (5,), "W2": (5, 2), "b2": (2,)}
    start = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}
    script = {"params": {name: p.copy() for name, p in start.items()}}
    section = optimizer_section(plan_spec(spec))
    exec("\n".join(section.imports) + "\n" + section.code, script)
    lab, lab_params = get_optimizer(optimizer), [p.copy() for p in start.values()]
    for step in range(300):
        lr = optimizer["lr"] * (0.5 if step >= 150 else 1.0)   # a schedule changes η
        grads = {name: (rng.standard_normal(p.shape) * rng.uniform(1e-6, 1.0))
                 .astype(np.float32) for name, p in start.items()}
        script["update"](grads, lr)
        lab.lr = lr
        lab.step(lab_params, list(grads.values()))
    for mine, theirs in zip(script["params"].values(), lab_params):
        assert np.array_equal(mine, theirs)


# ---------------------------------------------------------------------- a trained model
def test_a_saved_model_is_trained_further_from_its_own_weights(tmp_path):
    """--model: the script reads the weights with np.load (no pickle), reports the saved
    model's test accuracy, then trains on as the lab's "Continue training" does."""
    spec = RunSpec(data={"name": "moons", "n_samples": 300, "seed": 1},
                   hidden=[LayerSpec(8, "relu", dropout=0.2)], loss="softmax_cross_entropy",
                   optimizer={"name": "adam", "lr": 0.01}, l2=0.001, batch_size=32,
                   epochs=3, seed=4)
    first = train_spec(spec)
    model = tmp_path / "model.npz"
    save(first.network, model)
    with np.load(model, allow_pickle=False) as weights:   # plain arrays, nothing pickled
        assert {"layer0.W", "layer0.b", "layer2.W", "layer2.b"} <= set(weights.files)
    path = tmp_path / "further.py"
    proc = subprocess.run([sys.executable, "-m", "nncore", "export", "--model", str(model),
                           "--out", str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    script = finished(started(path))
    saved = re.search(r"the trained model: test accuracy (\S+)", script[2]).group(1)
    assert float(saved) == pytest.approx(first.metrics["test_accuracy"], abs=1e-4)
    assert_same_run(script, train_spec(spec, network=load(model)))


# ---------------------------------------------------------------------- the notebook
def test_the_notebook_validates_and_its_cells_run_to_the_labs_numbers(tmp_path):
    spec = get_preset("seed003-moons").run_spec().replace(epochs=50)
    path, exported = write_script(tmp_path, spec)
    notebook = nbformat.reads(exported.notebook(), as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].cell_type == "markdown"
    code_cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert len(code_cells) >= 8
    joined = tmp_path / "cells.py"
    joined.write_text("\n\n".join(code_cells))
    cells = started(joined)
    assert_same_run(finished(cells), train_spec(spec))


def test_the_mnist_notebook_reads_its_folder_from_the_environment(tmp_path, tiny_mnist,
                                                                  monkeypatch):
    """A notebook kernel's command line is not the user's: the notebook names the folder
    through NNCORE_MNIST_DIR only."""
    spec = get_preset("seed001-mnist").run_spec().replace(epochs=1)
    path, exported = write_script(tmp_path, spec)
    cells = nbformat.reads(exported.notebook(), as_version=4).cells
    joined = tmp_path / "cells.py"
    joined.write_text("\n\n".join(c.source for c in cells if c.cell_type == "code"))
    assert "sys.argv" not in joined.read_text()
    cells = started(joined, env={"NNCORE_MNIST_DIR": tiny_mnist})
    monkeypatch.setenv("NNCORE_MNIST_DIR", tiny_mnist)
    lab = train_spec(spec)
    assert_same_run(finished(cells), lab)


# ---------------------------------------------------------------------- what is refused
def test_what_cannot_be_exported_is_refused_with_a_sentence_before_writing(tmp_path):
    with pytest.raises(ExportError, match="uploaded data set lives in the app's session"):
        export_spec(RunSpec(data={"name": "upload"}))
    odd = Network([Reshape((1, 8, 8)), Conv2D(1, 2, (3, 1)), *_flat_dense(2 * 6 * 8)], seed=0)
    odd.metadata["spec"] = RunSpec(data={"name": "digits"}).to_dict()
    with pytest.raises(ExportError, match="square kernels only"):
        export_model(odd, "odd.npz")
    wide = Network([Dense(2, 3, "relu"), Dense(3, 4, "softmax")], seed=0)
    wide.metadata["spec"] = RunSpec(data={"name": "moons"}).to_dict()
    with pytest.raises(ExportError, match="has 4 outputs, but its data set moons has 2 classes"):
        export_model(wide, "wide.npz")
    bare = Network([Dense(2, 3, "relu"), Dense(3, 2, "softmax")], seed=0)   # no recorded run
    model, out = tmp_path / "bare.npz", tmp_path / "bare.py"
    save(bare, model)
    proc = subprocess.run([sys.executable, "-m", "nncore", "export", "--model", str(model),
                           "--out", str(out), "--notebook", str(tmp_path / "bare.ipynb")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "does not record the run it was trained with" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() and not (tmp_path / "bare.ipynb").exists()


@pytest.mark.parametrize("name", [name for name in DATASETS if name != "points"])
def test_a_script_is_sized_by_the_registrys_shapes_which_are_the_loaded_ones(name, tiny_mnist):
    """The network of a script is built from the data set's shapes known without loading
    it (the registry's): features, classes and image shape are those of the data set
    loaded (MNIST and Fashion-MNIST from tiny IDX files of their image size)."""
    _, n_features, n_classes, image_shape = data_settings({"name": name})
    where = ({"data_dir": tiny_mnist, "allow_download": False, "allow_fallback": False}
             if name in MNIST_KINDS else {})
    loaded = load_dataset(name, **where)
    assert (n_features, n_classes, image_shape) == (loaded.n_features, loaded.n_classes,
                                                    loaded.image_shape)


def _flat_dense(width):
    from nncore import Flatten
    return [Flatten(), Dense(width, 10, "softmax")]


def test_the_link_option_reads_the_apps_link(tmp_path):
    """--link goes through the app's own link reader: the script of a link is the script
    of the spec it describes."""
    from lab.links import share_url
    spec = RunSpec(data={"name": "moons", "n_samples": 200, "seed": 3},
                   hidden=[LayerSpec(8, "tanh")], loss="binary_cross_entropy",
                   optimizer={"name": "sgd", "lr": 0.5}, batch_size=16, epochs=4, seed=7)
    proc = subprocess.run([sys.executable, "-m", "nncore", "export", "--link",
                           share_url("http://localhost:8501/training", spec)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == export_spec(spec).script


# ---------------------------------------------------------------------- how it reads
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_a_script_of_100_to_250_lines_with_its_equations(name):
    script = export_spec(PRESETS[name].run_spec(), PRESETS[name].title).script
    assert 100 <= len(script.splitlines()) <= 250
    compile(script, name, "exec")
    assert not re.search(r"^\s*(import|from)\s+(nncore|lab)\b", script, re.M)
    for equation in ("δ", "dW", "db", "·W"):
        assert equation in script
    assert ("im2col" in script) == any(h.kind == "conv" for h in PRESETS[name].run_spec().hidden)
