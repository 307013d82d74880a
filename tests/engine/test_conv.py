"""Convolutional layers: Conv2D, MaxPool2D, Flatten, Reshape and CNN specs.

Every gradient is checked three ways: against finite differences (float64), against an
independent computation (scipy.signal for stride 1, naive loops written here for stride 2
and padding), and end to end through a small conv net. Then: shapes and their error
messages, save/load, specs and presets, and learning — on the 8×8 digits always, on real
MNIST when NNCORE_MNIST_DIR is set.
"""

import io
import json

import numpy as np
from support.gradcheck import numeric_gradient
import pytest
from scipy import signal
from sklearn.datasets import load_digits

from nncore.layers import (LAYER_TYPES, Conv2D, Dense, Flatten, MaxPool2D, Reshape,
                           layer_from_config)
from nncore.layers.fast_columns import ShiftedColumns
from nncore.layers.im2col import col2im, im2col
from nncore.network import Network
from nncore.runs.presets import get_preset
from nncore.serialization import ModelFileError, load, save
from nncore.runs.spec import RunSpec, build_network, count_parameters

from support.data import mnist_dir

RNG = np.random.default_rng(20)


# ------------------------------------------------------------------ helpers
def conv64(C, F, k, stride=1, padding=0, activation="linear"):
    layer = Conv2D(C, F, k, stride=stride, padding=padding, activation=activation, seed=1)
    layer.astype(np.float64)
    layer.W[...] = RNG.standard_normal(layer.W.shape)
    layer.b[...] = RNG.standard_normal(layer.b.shape)
    return layer


def naive_conv(x, W, b, stride, padding):
    """Z[n, f, y, x] = b[f] + Σ_c Σ_i Σ_j W[f, c, i, j] · Xp[n, c, y·s + i, x·s + j], by loops."""
    m, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    p, s = padding, stride
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    OH, OW = (H + 2 * p - kh) // s + 1, (Wd + 2 * p - kw) // s + 1
    z = np.zeros((m, F, OH, OW))
    for n in range(m):
        for f in range(F):
            for y in range(OH):
                for xx in range(OW):
                    z[n, f, y, xx] = b[f] + np.sum(W[f] * xp[n, :, y * s:y * s + kh, xx * s:xx * s + kw])
    return z


def naive_conv_backward(x, W, delta, stride, padding):
    """dW, db (÷ m) and dX by looping over every output pixel and spreading its δ back."""
    m, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    p, s = padding, stride
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    for n in range(m):
        for f in range(F):
            for y in range(delta.shape[2]):
                for xx in range(delta.shape[3]):
                    d = delta[n, f, y, xx]
                    dW[f] += d * xp[n, :, y * s:y * s + kh, xx * s:xx * s + kw]
                    dxp[n, :, y * s:y * s + kh, xx * s:xx * s + kw] += d * W[f]
    return dW / m, delta.sum(axis=(0, 2, 3)) / m, dxp[:, :, p:p + H, p:p + Wd]


@pytest.fixture(params=[True, False], ids=["fast", "plain"])
def path(request, monkeypatch):
    """Run a test through the fast paths (ShiftedColumns, 2×2 pooling) and the plain ones."""
    monkeypatch.setattr(Conv2D, "fast", request.param)
    monkeypatch.setattr(MaxPool2D, "fast", request.param)
    return request.param


# ------------------------------------------------------------------ finite differences
@pytest.mark.parametrize("stride, padding, kernel, activation", [
    (1, 0, 3, "linear"), (1, 1, 3, "tanh"), (2, 1, 3, "sigmoid"), (2, 0, (2, 3), "tanh"),
    (3, 2, 3, "linear"),
])
def test_conv2d_gradients_match_finite_differences(stride, padding, kernel, activation, path):
    layer = conv64(2, 3, kernel, stride, padding, activation)
    x = RNG.standard_normal((3, 2, 7, 6))
    R = RNG.standard_normal((3,) + layer.output_shape(x.shape[1:]))
    # L = Σ(A∘R)/m: backward(R) returns dX = m·∂L/∂X and dW = ∂L/∂W (÷ m, like Dense)
    loss = lambda: np.sum(layer.forward(x) * R) / 3
    layer.forward(x, training=True)   # keeps the patches (cols)
    dx = layer.backward(R)
    assert np.allclose(dx, 3 * numeric_gradient(loss, x), atol=1e-7)
    assert np.allclose(layer.dW, numeric_gradient(loss, layer.W), atol=1e-7)
    assert np.allclose(layer.db, numeric_gradient(loss, layer.b), atol=1e-7)


@pytest.mark.parametrize("pool, stride, size", [(2, None, 6), (2, None, 7), (3, 2, 7), (2, 1, 5)])
def test_maxpool_gradient_matches_finite_differences(pool, stride, size, path):
    layer = MaxPool2D(pool, stride)
    x = RNG.standard_normal((2, 3, size, size))
    R = RNG.standard_normal((2,) + layer.output_shape(x.shape[1:]))
    layer.forward(x)
    dx = layer.backward(R)
    assert np.allclose(dx, numeric_gradient(lambda: np.sum(layer.forward(x) * R), x), atol=1e-7)


def test_flatten_and_reshape_gradients_are_the_reshaped_gradient():
    x = RNG.standard_normal((4, 2, 3, 5))
    flat, back = Flatten(), Reshape((2, 3, 5))
    y = flat.forward(x)
    assert y.shape == (4, 30) and np.array_equal(back.forward(y), x)
    R = RNG.standard_normal((4, 2, 3, 5))
    assert np.array_equal(flat.backward(back.backward(R)), R)
    assert np.allclose(back.backward(R), numeric_gradient(lambda: np.sum(back.forward(y) * R), y))


def small_cnn(dtype=np.float64, seed=3):
    return Network([Reshape((1, 6, 6)), Conv2D(1, 2, 3, padding=1, activation="tanh"),
                    MaxPool2D(2), Conv2D(2, 3, 2, stride=1, activation="sigmoid"),
                    Flatten(), Dense(12, 3, "softmax")],
                   loss="softmax_cross_entropy", optimizer="sgd", seed=seed, dtype=dtype)


def test_small_conv_net_gradients_end_to_end(path):
    net = small_cnn()
    X = RNG.random((5, 36))
    Y = net._targets(RNG.integers(0, 3, 5), 5)
    net.backward(net.loss.backward(net.forward(X, training=True), Y))
    loss = lambda: net.compute_loss(net.forward(X), Y)
    for name, p, g in net.parameters():
        analytic = g.copy()
        assert np.allclose(analytic, numeric_gradient(loss, p), atol=1e-7), name
    # and the gradient reaching the inputs, through Reshape (saliency maps)
    saliency = net.input_gradient(X[:1], 1)
    assert saliency.shape == (1, 36)
    X0 = X[:1].copy()
    assert np.allclose(saliency, numeric_gradient(lambda: float(net.forward(X0)[0, 1]), X0),
                       atol=1e-7)


# ------------------------------------------------------------------ independent computations
def test_conv_forward_and_backward_agree_with_scipy_signal(path):
    """Stride 1 with padding: Z = Σ_c correlate(Xp_c, W_fc, valid) + b_f;
    dW_fc = Σ_n correlate(Xp_nc, δ_nf, valid) / m;  dXp_nc = Σ_f convolve(δ_nf, W_fc, full)."""
    layer = conv64(3, 4, 3, stride=1, padding=1)
    x = RNG.standard_normal((2, 3, 7, 9))
    delta = RNG.standard_normal((2, 4, 7, 9))
    z = layer.forward(x)
    dx = layer.backward(delta)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    m = len(x)
    for n in range(m):
        for f in range(4):
            expected = sum(signal.correlate(xp[n, c], layer.W[f, c], mode="valid") for c in range(3))
            assert np.allclose(z[n, f], expected + layer.b[f])
    for f in range(4):
        for c in range(3):
            dW = sum(signal.correlate(xp[n, c], delta[n, f], mode="valid") for n in range(m)) / m
            assert np.allclose(layer.dW[f, c], dW)
    for n in range(m):
        for c in range(3):
            dxp = sum(signal.convolve(delta[n, f], layer.W[f, c], mode="full") for f in range(4))
            assert np.allclose(dx[n, c], dxp[1:-1, 1:-1])   # drop the padding's gradient
    assert np.allclose(layer.db, delta.sum(axis=(0, 2, 3)) / m)


@pytest.mark.parametrize("stride, padding, kernel", [(2, 0, 3), (2, 1, 3), (2, 2, 4), (3, 1, 2)])
def test_strided_and_padded_conv_agrees_with_naive_loops(stride, padding, kernel):
    layer = conv64(2, 3, kernel, stride, padding)
    x = RNG.standard_normal((2, 2, 9, 8))
    z = layer.forward(x)
    assert np.allclose(z, naive_conv(x, layer.W, layer.b, stride, padding))
    delta = RNG.standard_normal(z.shape)
    dx = layer.backward(delta)
    dW, db, dX = naive_conv_backward(x, layer.W, delta, stride, padding)
    assert np.allclose(layer.dW, dW) and np.allclose(layer.db, db) and np.allclose(dx, dX)


def test_im2col_and_col2im_are_adjoint():
    """col2im is the transpose of im2col: <im2col(x), c> = <x, col2im(c)> for any x and c."""
    x = RNG.standard_normal((2, 3, 7, 6))
    cols = im2col(x, 3, 2, stride=2, padding=1)
    c = RNG.standard_normal(cols.shape)
    assert np.isclose(np.sum(cols * c), np.sum(x * col2im(c, x.shape, 3, 2, 2, 1)))


def test_maxpool_agrees_with_naive_loops_and_routes_ties_to_one_winner(path):
    layer = MaxPool2D(2)
    x = RNG.standard_normal((2, 2, 5, 4))       # 5 rows: the last one fits no window
    y = layer.forward(x)
    assert y.shape == (2, 2, 2, 2)
    for n, c, i, j in np.ndindex(y.shape):
        assert y[n, c, i, j] == x[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max()
    dx = layer.backward(np.ones_like(y))
    assert dx.sum() == y.size and not dx[:, :, 4].any()   # one winner each; edge row gets 0
    ties = np.zeros((1, 1, 2, 2), np.float32)               # a ReLU's all-zero window
    layer.forward(ties)
    assert layer.backward(np.full((1, 1, 1, 1), 5.0, np.float32)).ravel().tolist() == [5, 0, 0, 0]


# ------------------------------------------------------------------ fast paths = plain paths
@pytest.mark.parametrize("C, F, kernel, padding, size, activation", [
    (2, 3, 3, 1, (7, 6), "tanh"), (3, 4, 3, 0, (8, 8), "relu"), (2, 2, (2, 3), 2, (5, 9), "linear"),
    (4, 3, 5, 2, (6, 7), "sigmoid"), (2, 3, 1, 0, (4, 4), "leaky_relu"),
])
def test_shifted_columns_give_what_the_plain_im2col_gives(C, F, kernel, padding, size, activation):
    """The fast path (stride 1, more than one input channel) and the plain one: same Z, A,
    dW, db and dX, in training and when backward follows an inference forward."""
    fast = conv64(C, F, kernel, 1, padding, activation)
    plain = conv64(C, F, kernel, 1, padding, activation)
    plain.W[...], plain.b[...], plain.fast = fast.W, fast.b, False
    x = RNG.standard_normal((3, C) + size)
    R = RNG.standard_normal((3,) + fast.output_shape(x.shape[1:]))
    for training in (True, False):
        a_fast, a_plain = fast.forward(x, training), plain.forward(x, training)
        assert isinstance(fast.shifted, ShiftedColumns) and plain.shifted is None
        assert a_fast.shape == a_plain.shape and np.allclose(a_fast, a_plain, atol=1e-12)
        assert np.allclose(fast.z, plain.z, atol=1e-12)
        assert np.allclose(fast.backward(R), plain.backward(R), atol=1e-12)
        assert np.allclose(fast.dW, plain.dW, atol=1e-12) and np.allclose(fast.db, plain.db)


def test_shifted_columns_hold_im2col_columns_and_col2im_is_their_adjoint():
    m, C, H, W, k, p = 3, 2, 5, 6, 3, 1
    x = RNG.standard_normal((m, C, H, W))
    shifted = ShiftedColumns(x.shape, k, k, p)
    blocks = shifted.im2col(x)                                    # (m, C·k·k, Hp·Wp)
    assert blocks.shape == (m, C * k * k, (H + 2 * p) * (W + 2 * p))
    outputs = blocks.reshape(m, C * k * k, H + 2 * p, W + 2 * p)[:, :, :H, :W]
    assert np.array_equal(outputs.reshape(m, C * k * k, -1), im2col(x, k, k, 1, p))
    c = shifted.empty_cols(np.float64)
    c[...] = RNG.standard_normal(c.shape)
    assert np.isclose(np.sum(blocks * c), np.sum(x * shifted.col2im(c)))


@pytest.mark.parametrize("shape", [(2, 3, 6, 6), (2, 2, 7, 5), (1, 1, 2, 2), (3, 4, 8, 10)])
def test_maxpool_2x2_fast_path_gives_what_the_loop_gives(shape):
    """Whole numbers 0–2, so most windows hold ties: the first maximum, row by row, wins
    in both paths, and the gradient goes to it alone."""
    x = RNG.integers(0, 3, shape).astype(np.float32)
    fast, loop = MaxPool2D(2), MaxPool2D(2)
    loop.fast = False
    y = fast.forward(x)
    assert np.array_equal(y, loop.forward(x)) and fast.argmax is None and loop.argmax is not None
    g = RNG.standard_normal(y.shape).astype(np.float32)
    dx = fast.backward(g)
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert np.array_equal(dx, loop.backward(g))


def test_a_training_step_of_the_mnist_cnn_stays_in_float32():
    net = build_network(get_preset("mnist-cnn").run_spec(), 784, 10)
    X = RNG.random((16, 784), dtype=np.float32)
    net._step(X, net._targets(RNG.integers(0, 10, 16), 16))
    for layer in net.layers:
        arrays = [getattr(layer, name, None) for name in ("z", "a", "delta", "dW", "db", "W")]
        assert all(a.dtype == np.float32 for a in arrays if a is not None), layer
    assert all(g.dtype == np.float32 for _, _, g in net.parameters())


# ------------------------------------------------------------------ shapes and messages
def test_shapes_dtypes_and_feature_maps():
    net = Network([Reshape((1, 28, 28)), Conv2D(1, 4, 3, padding="same", activation="relu"),
                   MaxPool2D(2), Conv2D(4, 6, 5, stride=2), Flatten(), Dense(6 * 5 * 5, 10, "softmax")],
                  seed=0)
    assert net.input_shape == (784,) and net.output_shape == (10,)
    assert [r["output shape"] for r in net.summary_rows()][1:4] == [
        ("m", 4, 28, 28), ("m", 4, 14, 14), ("m", 6, 5, 5)]
    X = RNG.random((3, 784), dtype=np.float32)
    assert net.decision_function(X).dtype == np.float32
    assert net.decision_function(X.reshape(3, 1, 28, 28)).shape == (3, 10)  # images are fine too
    a, shapes = X[:1], []
    for layer in net.layers[:3]:
        a = layer.forward(a)
        shapes.append(a.shape[1:])
    assert shapes == [(1, 28, 28), (4, 28, 28), (4, 14, 14)] and net.layers[1].W.shape == (4, 1, 3, 3)
    assert all(p.dtype == np.float32 for _, p, _ in net.parameters())


def test_shape_mismatches_raise_clear_messages():
    conv = Conv2D(3, 4, 3)
    with pytest.raises(ValueError, match=r"expects 3 input channels, got 1"):
        conv.forward(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"\(m, C, H, W\).*got an array of shape \(2, 64\).*Reshape"):
        conv.forward(np.zeros((2, 64), np.float32))
    with pytest.raises(ValueError, match=r"5×5 kernel is larger than the padded input, 4×4"):
        Conv2D(1, 2, 5, padding=1).forward(np.zeros((1, 1, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"padding='same' needs an odd kernel"):
        Conv2D(1, 2, 4, padding="same")
    with pytest.raises(ValueError, match=r"out_channels must be a whole number ≥ 1, got 0"):
        Conv2D(1, 0, 3)
    with pytest.raises(ValueError, match=r"3×3 window is larger than the 2×2 feature maps"):
        MaxPool2D(3).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"MaxPool2D expects a batch of shape \(m, C, H, W\)"):
        MaxPool2D(2).forward(np.zeros((1, 16)))
    with pytest.raises(ValueError, match=r"Reshape to \(1, 28, 28\) needs 784 numbers per sample, got 64"):
        Reshape((1, 28, 28)).forward(np.zeros((2, 64)))
    # Network.add checks the fit between layers
    net = Network([Reshape((1, 8, 8)), Conv2D(1, 4, 3)])
    with pytest.raises(ValueError, match=r"Dense\) takes flat inputs.*\(4, 6, 6\).*add a Flatten"):
        net.add(Dense(144, 10))
    with pytest.raises(ValueError, match=r"expects 2 input channels, got 4"):
        net.add(Conv2D(2, 4, 3))
    with pytest.raises(ValueError, match=r"starts with Conv2D.*put a Reshape layer first"):
        Network([Conv2D(1, 4, 3)]).input_shape
    with pytest.raises(ValueError, match=r"expects inputs with 64 features"):
        net.predict(np.zeros((2, 784)))


# ------------------------------------------------------------------ save and load
def test_cnn_save_load_round_trip(tmp_path):
    net = small_cnn(np.float32, seed=5)
    X = RNG.random((4, 36), dtype=np.float32)
    save(net, tmp_path / "cnn")
    back = load(tmp_path / "cnn.npz")
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in net.layers]
    assert back.get_config()["layers"] == net.get_config()["layers"]
    assert np.array_equal(back.decision_function(X), net.decision_function(X))
    assert back.layers[1].W.shape == (2, 1, 3, 3)
    for layer in net.layers:   # every layer's config rebuilds the same layer
        assert layer_from_config(layer.get_config()).get_config() == layer.get_config()
    assert {"Conv2D", "MaxPool2D", "Flatten", "Reshape"} <= set(LAYER_TYPES)
    assert net.copy().get_config()["layers"] == net.get_config()["layers"]


def test_loading_checks_conv_weight_shapes(tmp_path):
    net = small_cnn(np.float32)
    buf = io.BytesIO()
    save(net, buf)
    with np.load(io.BytesIO(buf.getvalue())) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["layer1.W"] = arrays["layer1.W"].reshape(2, 1, 9, 1)     # same numbers, wrong shape
    bad = io.BytesIO()
    np.savez(bad, **arrays)
    with pytest.raises(ModelFileError, match=r"layer1.W has shape \(2, 1, 9, 1\).*needs \(2, 1, 3, 3\)"):
        load(bad.getvalue())
    header = json.loads(str(arrays["model.json"]))
    header["network"]["layers"][1]["in_channels"] = 5                # a description that cannot fit
    arrays["model.json"] = np.array(json.dumps(header))
    arrays["layer1.W"] = arrays["layer1.W"].reshape(2, 1, 3, 3)
    bad = io.BytesIO()
    np.savez(bad, **arrays)
    with pytest.raises(ModelFileError, match=r"expects 5 input channels, got 1"):
        load(bad.getvalue())


# ------------------------------------------------------------------ specs and presets
CNN_HIDDEN = [{"kind": "conv", "filters": 4, "kernel": 3, "padding": "same"},
              {"kind": "maxpool", "pool": 2}, {"units": 16}]


def test_spec_describes_conv_layers_and_round_trips():
    spec = RunSpec.from_dict({"data": {"name": "digits"}, "hidden": CNN_HIDDEN})
    d = spec.to_dict()
    assert RunSpec.from_dict(d).to_dict() == d
    assert d["hidden"][2] == {"units": 16, "activation": "relu", "dropout": 0.0, "init": None}
    assert d["hidden"][1] == {"kind": "maxpool", "pool": 2, "stride": None}
    old = RunSpec.from_dict({"hidden": [{"units": 32, "activation": "tanh"}]})   # no "kind"
    assert old.hidden[0].kind == "dense" and old.to_dict()["hidden"] == [
        {"units": 32, "activation": "tanh", "dropout": 0.0, "init": None}]
    net = build_network(spec, 64, 10)
    names = [type(l).__name__ for l in net.layers]
    assert names == ["Reshape", "Conv2D", "MaxPool2D", "Flatten", "Dense", "Dense"]
    assert net.input_shape == (64,) and net.layers[4].in_features == 4 * 4 * 4
    assert count_parameters(spec, 64, 10) == net.n_parameters() == 40 + 64 * 16 + 16 + 170
    assert [h.describe() for h in spec.hidden] == ["conv 4×3×3 relu, padding same",
                                                   "maxpool 2×2", "16 relu"]
    sep = RunSpec.from_dict({**d, "separate_activations": True})
    assert [type(l).__name__ for l in build_network(sep, 64, 10).layers][:3] == [
        "Reshape", "Conv2D", "ActivationLayer"]


@pytest.mark.parametrize("hidden, message", [
    ([{"units": 8}, {"kind": "conv", "filters": 4}], "must come before the dense layers"),
    ([{"kind": "conv", "filters": 0}], r"filters must be a whole number from 1 to 128, got 0"),
    ([{"kind": "conv", "filters": 4, "padding": "same", "kernel": 2}], "needs an odd kernel"),
    ([{"kind": "maxpool", "pool": 2, "stride": 3}], r"stride must be a whole number from 1 to 2"),
    ([{"kind": "pool"}], "kind must be one of dense, conv, maxpool"),
    ([{"kind": "conv", "filters": 4, "activation": "softmax"}], "activation must be one of"),
])
def test_spec_validation_names_the_bad_conv_field(hidden, message):
    with pytest.raises(ValueError, match=message):
        RunSpec.from_dict({"hidden": hidden})


def test_build_network_refuses_conv_layers_that_do_not_fit_the_data():
    spec = RunSpec.from_dict({"hidden": [{"kind": "conv", "filters": 4, "kernel": 9}]})
    with pytest.raises(ValueError, match=r"Hidden layer 1 \(conv 4×9×9 relu\) does not fit the 8×8"):
        build_network(spec, 64, 10)
    with pytest.raises(ValueError, match="not a square image"):
        build_network(RunSpec.from_dict({"hidden": CNN_HIDDEN}), 2, 2)
    net = build_network(RunSpec.from_dict({"hidden": CNN_HIDDEN}), 12, 3, image_shape=(3, 4))
    assert net.layers[0].target_shape == (1, 3, 4)


def test_mnist_cnn_preset_is_a_conv_spec():
    preset = get_preset("mnist-cnn")
    spec = preset.run_spec()
    assert [h.kind for h in spec.hidden][:2] == ["conv", "maxpool"]
    assert preset.headline == "test_accuracy" and preset.target >= 0.99
    net = build_network(spec, 784, 10)
    assert isinstance(net.layers[0], Reshape) and isinstance(net.layers[1], Conv2D)
    assert net._first_parametric() is net.layers[1]


# ------------------------------------------------------------------ learning
def test_l2_decays_conv_filters_too():
    X, y = RNG.random((4, 36)), RNG.integers(0, 3, 4)
    grads = {}
    for l2 in (0.0, 0.1):
        net = small_cnn(np.float64)
        net.l2 = l2
        net.optimizer.step = lambda params, g, l2=l2: grads.update({l2: [a.copy() for a in g]})
        net._step(X, net._targets(y, 4))
    penalty = net.compute_loss(net.forward(X), net._targets(y, 4)) - net.loss.forward(
        net.forward(X), net._targets(y, 4))
    weights = [p for name, p, _ in net.parameters() if name.endswith(".W")]   # biases are not
    assert len(weights) == 3 and np.isclose(penalty, 0.05 * sum(np.sum(w * w) for w in weights))
    for (name, p, _), with_l2, without in zip(net.parameters(), grads[0.1], grads[0.0]):
        expected = 0.1 * p if name.endswith(".W") else 0.0      # ∂(½λΣW²)/∂W = λ·W
        assert np.allclose(with_l2 - without, expected), name
    assert net.parameters()[0][1].ndim == 4                      # the conv filters are among them


def test_layer_statistics_count_the_l2_gradient_of_conv_filters():
    """On all-zero images every data gradient of the filters is 0, so what the statistics
    report for them is λ·W alone: none of it may be zero."""
    from nncore.runs.experiments import layer_statistics

    net = small_cnn(np.float64)
    net.l2 = 0.5
    stats = layer_statistics(net, np.zeros((4, 36)), np.array([0, 1, 2, 0]))
    conv = stats[0]
    assert conv["layer"].startswith("Conv 1") and conv["zero_grad_share"] == 0.0
    net.l2 = 0.0
    assert layer_statistics(net, np.zeros((4, 36)), np.array([0, 1, 2, 0]))[0]["zero_grad_share"] == 1.0


def test_a_tiny_cnn_learns_the_8x8_digits_in_one_epoch():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    net = Network([Reshape((1, 8, 8)), Conv2D(1, 8, 3, padding=1, activation="relu"),
                   MaxPool2D(2), Flatten(), Dense(8 * 4 * 4, 10, "softmax")],
                  optimizer={"name": "adam", "lr": 0.01}, seed=0)
    history = net.fit(X[:1400], y[:1400], epochs=1, batch_size=32, seed=0)
    assert not net.layers[1].skip_input_gradient        # reset after fit
    assert all(p.dtype == g.dtype == np.float32 for _, p, g in net.parameters())
    assert net.layers[1].backward(net.layers[1].a).dtype == np.float32   # no float64 on the way
    assert history.train_loss[0] < np.log(10)
    assert net.score(X[1400:], y[1400:]) > 0.75          # chance is 0.10


@pytest.mark.slow
def test_mnist_cnn_one_epoch_on_20k_digits_reaches_95_percent():
    """The preset's network for one epoch on 18,000 digits (its full run: 6 epochs on 54,000,
    99.1 %, see benchmarks/cnn_speed.py)."""
    from nncore.runs.run import load_spec_data, train_spec
    mnist_dir()
    spec = get_preset("mnist-cnn").run_spec()
    dataset = load_spec_data(spec, limit=20_000, allow_fallback=False)
    result = train_spec(spec, dataset, epochs=1)
    assert result.metrics["test_accuracy"] >= 0.95, result.metrics
