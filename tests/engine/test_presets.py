"""The presets reproduce the seed tutorials: their settings, and their published numbers.

The toy presets run in full. The MNIST ones need the real digits (NNCORE_MNIST_DIR) and
run reduced, with thresholds a broken engine could not reach; the full runs and their
figures are in benchmarks/README.md.
"""

import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from nncore.runs.presets import LEARNING_RATE_STUDY, PRESETS, get_preset
from nncore.runs.run import load_spec_data, train_spec

from support.data import mnist_dir


# ------------------------------------------------------------------ settings = the seeds' text
SEED_SETTINGS = {
    # preset: (data, hidden [(units, activation)], output activation, loss, optimizer, lr,
    #          batch size, epochs, l2)  — as written in /work/shared/seeds/*.txt
    "seed000-mnist": ("mnist", [(16, "relu")], "sigmoid", "mse_sum", "sgd", 0.1, 64, 50, 0.0),
    "seed001-xor": ("xor", [(3, "tanh")], "tanh", "mse", "sgd", 0.1, 1, 1000, 0.0),
    "seed001-mnist": ("mnist", [(100, "tanh"), (50, "tanh")], "tanh", "mse", "sgd", 0.1, 1, 30, 0.0),
    "seed002-clusters": ("clusters", [(5, "relu")], None, "softmax_cross_entropy", "sgd", 0.01,
                         None, 5001, 0.01),
    "seed003-moons": ("moons", [(16, "relu")], None, "binary_cross_entropy", "sgd", 1.0, None,
                      1000, 0.0),
}


@pytest.mark.parametrize("name", sorted(SEED_SETTINGS))
def test_seed_presets_use_the_seeds_settings(name):
    data, hidden, out, loss, opt, lr, batch, epochs, l2 = SEED_SETTINGS[name]
    spec = get_preset(name).run_spec()
    assert spec.data["name"] == data
    assert [(h.units, h.activation) for h in spec.hidden] == hidden
    assert spec.output_activation == out and spec.loss == loss
    assert spec.optimizer == {"name": opt, "lr": lr}
    assert spec.batch_size == batch and spec.epochs == epochs and spec.l2 == l2
    assert spec.schedule == {"name": "constant"}


def test_seed_initialisations_and_data():
    assert {h.init for h in get_preset("seed000-mnist").run_spec().hidden} == {"normal-0.1"}
    assert get_preset("seed001-xor").run_spec().separate_activations
    assert get_preset("seed002-clusters").run_spec().output_init == "normal-1"
    moons = get_preset("seed003-moons").run_spec()
    assert moons.data["n_samples"] == 1000 and moons.data["noise"] == 0.2 and moons.seed == 99
    assert LEARNING_RATE_STUDY == (2.0, 1.0, 0.5, 0.3, 0.2, 0.1)


def test_every_preset_is_valid_and_names_its_headline():
    for name, preset in PRESETS.items():
        spec = preset.run_spec()
        assert spec.validate() is spec
        assert preset.headline in ("test_accuracy", "final_error")
        assert preset.better in ("higher", "lower") and preset.published
    with pytest.raises(ValueError, match="Unknown preset 'nope'"):
        get_preset("nope")


# ------------------------------------------------------------------ the toy presets, in full
def test_seed001_xor_reaches_the_published_error():
    result = train_spec(get_preset("seed001-xor").run_spec())
    final = result.metrics["final_error"]
    assert final <= 0.001
    assert f"{final:.2g}" == "0.00024"          # the seed prints error=0.000242
    out = result.network.decision_function(result.dataset.X_test)[:, 0]
    assert np.array_equal(out > 0.5, result.dataset.y_test == 1)
    # the seed's printed outputs are ~0.001, 0.978, 0.978, −0.001
    assert np.all(np.abs(out - result.dataset.y_test) < 0.05)


def test_seed003_moons_reaches_95_percent_and_agrees_with_scikit_learn():
    result = train_spec(get_preset("seed003-moons").run_spec())
    assert result.metrics["test_accuracy"] >= 0.95
    ds = result.dataset
    # seed 003's own cross-check model, with its settings verbatim, on the same training data
    sk = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=1., momentum=0., alpha=0.,
                       batch_size=len(ds.X_train), solver="sgd", max_iter=1000, random_state=99)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(ds.X_train.astype(np.float64), ds.y_train)
    points = np.vstack([ds.X_train, ds.X_test]).astype(np.float64)
    assert np.mean(sk.predict(points) == result.network.predict(points)) >= 0.95
    lo, hi = points.min(0), points.max(0)                     # the seed's boundary plot
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 50), np.linspace(lo[1], hi[1], 50))
    grid = np.stack([g0.ravel(), g1.ravel()], 1)
    assert np.mean(sk.predict(grid) == result.network.predict(grid)) >= 0.90


def test_seed002_clusters_reaches_96_percent():
    spec = get_preset("seed002-clusters").run_spec()
    ds = load_spec_data(spec)
    assert (ds.n_train, ds.n_test) == (13_500, 1_500)          # the seed's split
    result = train_spec(spec, ds)
    assert result.metrics["epochs"] == 5001
    assert result.metrics["test_accuracy"] >= 0.96              # published: 96.4 %
    # the seed's loss at step 5000 is 0.2274 (with its own random start)
    assert 0.2 < result.metrics["train_loss"] < 0.26


# ------------------------------------------------------------------ MNIST, reduced
def _mnist_run(name, epochs):
    mnist_dir()
    spec = get_preset(name).run_spec()
    ds = load_spec_data(spec, allow_download=False, allow_fallback=False)
    assert ds.name == "mnist" and ds.fallback_reason is None
    return train_spec(spec, ds, epochs=epochs)


@pytest.mark.slow
def test_mnist_mlp_three_epochs_reach_97_percent():
    result = _mnist_run("mnist-mlp", 3)            # measured 0.9758; ten epochs reach 0.981
    assert result.dataset.n_test == 10_000
    assert result.metrics["test_accuracy"] >= 0.97


@pytest.mark.slow
def test_seed000_mnist_six_epochs_reach_92_percent():
    result = _mnist_run("seed000-mnist", 6)        # measured 0.926; the full 50 epochs: 0.948
    assert result.metrics["test_accuracy"] >= 0.92


@pytest.mark.slow
def test_seed001_mnist_ten_epochs_reach_75_percent():
    result = _mnist_run("seed001-mnist", 10)       # per-sample SGD, 1000 digits: measured 0.783;
                                                   # the full 30 epochs: 0.886
    assert result.dataset.n_train == 1000
    assert result.metrics["test_accuracy"] >= 0.75
