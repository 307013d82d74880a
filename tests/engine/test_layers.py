"""Layers and initialisers: shapes, the documented distributions, descriptions and errors.
(Their gradients are checked in test_gradients.py.)"""

import numpy as np
import pytest

from nncore import ActivationLayer, Dense, Dropout
from nncore.layers import layer_from_config

N_IN, N_OUT = 400, 300   # 120,000 weights: sample moments are accurate to ~1 %


@pytest.mark.parametrize("init, std, mean_abs_bias", [
    ("he", np.sqrt(2 / N_IN), 0.0),
    ("lecun", np.sqrt(1 / N_IN), 0.0),
    ("glorot", np.sqrt(6 / (N_IN + N_OUT)) / np.sqrt(3), 0.0),   # U(±l): σ = l/√3
    ("normal-0.1", 0.1, 0.1 * np.sqrt(2 / np.pi)),               # seeds 000/003: randn·0.1
    ("uniform-0.5", 1 / np.sqrt(12), 0.25),                      # seed 001: rand − 0.5
    ("normal-1", 1.0, 0.0),                                      # seed 002: N(0, 1), b = 0
])
def test_initialisers_draw_the_documented_distributions(init, std, mean_abs_bias):
    layer = Dense(N_IN, N_OUT, init=init, seed=0)
    W, b = layer.W, layer.b
    assert W.shape == (N_IN, N_OUT) and b.shape == (N_OUT,)
    assert W.dtype == np.float32 and b.dtype == np.float32
    assert abs(W.mean()) < 0.02 * std + 1e-4
    assert W.std() == pytest.approx(std, rel=0.02)
    assert np.mean(np.abs(b)) == pytest.approx(mean_abs_bias, rel=0.15, abs=1e-12)
    if init == "glorot":
        assert np.abs(W).max() <= np.sqrt(6 / (N_IN + N_OUT))
    if init == "uniform-0.5":
        assert W.min() >= -0.5 and W.max() < 0.5


def test_default_init_follows_the_activation():
    assert Dense(3, 2, "relu").init == "he"
    assert Dense(3, 2, "leaky_relu").init == "he"
    assert Dense(3, 2, "tanh").init == "glorot"
    assert Dense(3, 2).init == "glorot"


def test_dense_seed_and_dtype():
    a, b = Dense(5, 4, seed=3), Dense(5, 4, seed=3)
    assert np.array_equal(a.W, b.W)
    assert not np.array_equal(a.W, Dense(5, 4, seed=4).W)
    c = Dense(5, 4, seed=3, dtype=np.float64)
    assert c.W.dtype == np.float64 and c.dW.dtype == np.float64
    c.astype(np.float32)
    assert c.W.dtype == c.dW.dtype == c.b.dtype == np.float32


def test_dense_forward_is_z_equals_aW_plus_b():
    layer = Dense(3, 2, "linear", seed=0, dtype=np.float64)
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    expected = np.array([[sum(x[i, k] * layer.W[k, j] for k in range(3)) + layer.b[j]
                          for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-14)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(m, 3\), got \(2, 4\)"):
        layer.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(m, 3\), got \(3,\)"):
        layer.forward(np.zeros(3))


def test_dense_skip_input_gradient():
    layer = Dense(3, 2, "tanh", seed=0)
    layer.forward(np.ones((4, 3), np.float32), training=True)
    layer.skip_input_gradient = True
    assert layer.backward(np.ones((4, 2), np.float32)) is None
    assert np.abs(layer.dW).sum() > 0          # the parameter gradients are still formed


@pytest.mark.parametrize("size", [0, -2, 2.5, True, "4"])
def test_dense_sizes_must_be_positive_whole_numbers(size):
    with pytest.raises(ValueError, match="must be a whole number ≥ 1"):
        Dense(size, 3)


def test_configs_round_trip():
    for layer in (Dense(3, 2, "sigmoid", init="lecun"), ActivationLayer("leaky_relu"), Dropout(0.25)):
        rebuilt = layer_from_config(layer.get_config())
        assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()
    assert repr(Dense(3, 2, "tanh")) == ("Dense(in_features=3, out_features=2, activation='tanh', "
                                          "init='glorot')")
    assert Dense(3, 2).output_shape((3,)) == (2,) and Dropout().output_shape((7,)) == (7,)
    assert Dense(3, 2).n_parameters() == 8 and ActivationLayer("relu").n_parameters() == 0


@pytest.mark.parametrize("config, message", [
    ({"type": "LSTM"}, "Unknown layer description"),
    ("Dense", "Unknown layer description"),
    ({"type": "Dense", "in_features": 2}, "has wrong fields"),
    ({"type": "Dense", "in_features": 2, "out_features": 2, "colour": "red"}, "has wrong fields"),
    ({"type": "Dropout", "rate": 1.5}, "Dropout rate must be in [0, 1)"),
])
def test_bad_layer_configs_are_named(config, message):
    with pytest.raises(ValueError) as err:
        layer_from_config(config)
    assert message in str(err.value)


def test_activation_layer_and_dropout_have_no_parameters():
    assert ActivationLayer("tanh").parameters() == [] and Dropout(0.5).parameters() == []
    d = Dropout(0.0)
    x = np.ones((2, 3))
    assert d.forward(x, training=True) is x and d.backward(x) is x
