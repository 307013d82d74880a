"""Finite-difference gradient checks, in float64.

Every analytic gradient nncore computes is compared with a central difference
(f(θ + h) − f(θ − h)) / 2h of the quantity it claims to differentiate — computed here
from forward passes only, never from the backward code under test.

The contract being checked (see ``losses.py`` and ``layers/dense.py``): a loss's
``forward`` is the *mean* over the m samples, its ``backward`` is each sample's own
gradient (so m × ∂forward/∂a), and ``Dense`` divides by m when it forms dW and db, so
the network's dW is ∂(mean loss + ½λΣW²)/∂W.
"""

import numpy as np
from support.gradcheck import numeric_gradient
import pytest

from nncore import ActivationLayer, Dense, Dropout, Network
from nncore.activations import ACTIVATIONS, get_activation
from nncore.losses import get_loss
from nncore.optimizers import SGD

TOL = 1e-6        # relative error allowed


def rel_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12))


def away_from_kinks(activation, z, margin=1e-3):
    """ReLU-type activations have a kink at 0: a finite difference across it is wrong, so
    their test data must keep every pre-activation clear of it."""
    if activation in ("relu", "leaky_relu"):
        assert np.min(np.abs(z)) > margin, "test data put a pre-activation at the kink"


# ------------------------------------------------------------------ activations
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_is_the_vector_jacobian_product(name):
    rng = np.random.default_rng(1)
    act = get_activation(name)
    z = rng.normal(0, 2, (5, 4))
    away_from_kinks(name, z)
    R = rng.normal(size=z.shape)                 # L(z) = Σ R ∘ σ(z)
    a = act.forward(z)
    analytic = act.backward(R, z, a)
    numeric = numeric_gradient(lambda: float(np.sum(R * act.forward(z))), z)
    assert rel_error(analytic, numeric) < TOL


def test_activation_values_against_their_definitions():
    z = np.linspace(-5, 5, 41).reshape(1, -1)
    assert np.allclose(get_activation("sigmoid").forward(z), 1 / (1 + np.exp(-z)), rtol=1e-14)
    assert np.allclose(get_activation("tanh").forward(z), np.tanh(z))
    assert np.array_equal(get_activation("relu").forward(z), np.where(z > 0, z, 0))
    assert np.allclose(get_activation("leaky_relu").forward(z), np.where(z > 0, z, 0.01 * z))
    p = get_activation("softmax").forward(z.reshape(-1, 1).repeat(3, 1) * [1, 2, 3])
    assert np.allclose(p.sum(axis=1), 1)
    # sigmoid must not overflow far out in float32 (seed 000's 1/(1+exp(-z)) does)
    with np.errstate(over="raise"):
        s = get_activation("sigmoid").forward(np.array([[-1000.0, 1000.0]], np.float32))
    assert s.tolist() == [[0.0, 1.0]]
    # softmax survives huge logits
    p = get_activation("softmax").forward(np.array([[1000.0, 0.0, -1000.0]]))
    assert np.allclose(p, [[1, 0, 0]])


# ------------------------------------------------------------------ losses
def _probabilities(rng, m, k):
    e = np.exp(rng.normal(size=(m, k)))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("name", ["mse", "mse_sum"])
def test_squared_error_losses(name):
    rng = np.random.default_rng(2)
    loss = get_loss(name)
    a, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    m, k = a.shape
    expected = np.mean((a - y) ** 2) * (1 if name == "mse" else k)   # definitions
    assert loss.forward(a, y) == pytest.approx(expected, rel=1e-14)
    numeric = numeric_gradient(lambda: loss.forward(a, y), a) * m        # per-sample gradient
    assert rel_error(loss.backward(a, y), numeric) < TOL
    if name == "mse_sum":   # seed 000: dA = 2·(prediction − target)
        assert np.allclose(loss.backward(a, y), 2 * (a - y), rtol=0, atol=1e-15)


def test_binary_cross_entropy():
    rng = np.random.default_rng(3)
    loss = get_loss("binary_cross_entropy")
    p = rng.uniform(0.05, 0.95, (8, 1))
    y = rng.integers(0, 2, (8, 1)).astype(float)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))    # seed 003's L
    assert loss.forward(p, y) == pytest.approx(expected, rel=1e-14)
    numeric = numeric_gradient(lambda: loss.forward(p, y), p) * len(p)
    assert rel_error(loss.backward(p, y), numeric) < TOL


def test_fused_softmax_cross_entropy_returns_dL_dz():
    rng = np.random.default_rng(4)
    loss = get_loss("softmax_cross_entropy")
    softmax = get_activation("softmax")
    z = rng.normal(size=(7, 4))
    Y = np.eye(4)[rng.integers(0, 4, 7)]
    p = softmax.forward(z)
    expected = -np.mean(np.log(p[Y.astype(bool)]))                  # seed 002's loss
    assert loss.forward(p, Y) == pytest.approx(expected, rel=1e-14)
    assert loss.returns_delta
    numeric = numeric_gradient(lambda: loss.forward(softmax.forward(z), Y), z) * len(z)
    assert rel_error(loss.backward(p, Y), numeric) < TOL


# ------------------------------------------------------------------ single layers
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_dense_layer_gradients(name):
    rng = np.random.default_rng(5)
    layer = Dense(4, 3, name, init="lecun", seed=0, dtype=np.float64)
    layer.b[:] = rng.normal(size=3)
    x = rng.normal(size=(6, 4))
    R = rng.normal(size=(6, 3))
    m = len(x)

    def L():   # mean over samples of Σ R∘a — the quantity whose W-gradient dW is
        return float(np.sum(R * layer.forward(x))) / m

    z = x @ layer.W + layer.b
    away_from_kinks(name, z)
    assert np.allclose(layer.forward(x), get_activation(name).forward(z), rtol=1e-14)
    dW_num = numeric_gradient(L, layer.W)
    db_num = numeric_gradient(L, layer.b)
    dx_num = numeric_gradient(L, x) * m              # dA_prev is per sample: not divided by m
    layer.forward(x, training=True)
    dx = layer.backward(R)
    assert rel_error(layer.dW, dW_num) < TOL
    assert rel_error(layer.db, db_num) < TOL
    assert rel_error(dx, dx_num) < TOL


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_layer_gradient(name):
    rng = np.random.default_rng(6)
    layer = ActivationLayer(name)
    x = rng.normal(0, 2, (5, 3))
    away_from_kinks(name, x)
    R = rng.normal(size=x.shape)
    numeric = numeric_gradient(lambda: float(np.sum(R * layer.forward(x))), x)
    layer.forward(x, training=True)
    assert rel_error(layer.backward(R), numeric) < TOL


def test_dropout_gradient_with_a_fixed_mask():
    rng = np.random.default_rng(7)
    layer = Dropout(0.4)
    x = rng.normal(size=(50, 6))
    R = rng.normal(size=x.shape)

    def forward_fixed_mask():
        layer.rng = np.random.default_rng(123)   # the same mask on every call
        return layer.forward(x, training=True)

    y = forward_fixed_mask()
    kept = y != 0
    assert np.allclose(y[kept], x[kept] / 0.6)   # inverted dropout: survivors scaled by 1/(1−p)
    numeric = numeric_gradient(lambda: float(np.sum(R * forward_fixed_mask())), x)
    forward_fixed_mask()
    assert rel_error(layer.backward(R), numeric) < TOL
    # inference is the identity
    assert layer.forward(x, training=False) is x
    # the drop rate is what was asked for
    layer.rng = np.random.default_rng(0)
    big = layer.forward(np.ones((400, 250)), training=True)
    assert abs(np.mean(big == 0) - 0.4) < 0.01
    assert abs(big.mean() - 1.0) < 0.02


# ------------------------------------------------------------------ whole networks
def _total_loss(net, X, Y):
    """The training objective, computed from a forward pass and the definitions:
    data loss (mean over samples) + ½λ Σ‖W‖² over the Dense layers."""
    loss = net.loss.forward(net.forward(X, training=True), Y)
    return loss + 0.5 * net.l2 * sum(float(np.sum(l.W ** 2)) for l in net.layers
                                     if isinstance(l, Dense))


def check_network(net, X, y, Y, before_forward=lambda: None):
    """Compare every parameter gradient of ``train_step`` with central differences."""
    assert net.dtype == np.float64
    numeric = []
    for _, p, _ in net.parameters():
        def f():
            before_forward()
            return _total_loss(net, X, Y)
        numeric.append(numeric_gradient(f, p))
    before = [p.copy() for _, p, _ in net.parameters()]
    before_forward()
    reported = net.train_step(X, y)
    before_forward()
    assert reported == pytest.approx(_total_loss_at(net, before, X, Y, before_forward), rel=1e-12)
    for (name, p, g), num, p0 in zip(net.parameters(), numeric, before):
        assert rel_error(g, num) < TOL, name
        # the optimizer step used exactly that gradient: θ₁ = θ₀ − η·g
        assert np.allclose(p, p0 - net.optimizer.lr * num, rtol=0, atol=1e-8), name


def _total_loss_at(net, params, X, Y, before_forward):
    saved = [p.copy() for _, p, _ in net.parameters()]
    for (_, p, _), v in zip(net.parameters(), params):
        p[...] = v
    before_forward()
    value = _total_loss(net, X, Y)
    for (_, p, _), v in zip(net.parameters(), saved):
        p[...] = v
    return value


def _data(rng, m, n, k, kind):
    X = rng.normal(size=(m, n))
    labels = rng.integers(0, max(k, 2), m)
    if kind == "labels":
        return X, labels, (np.eye(k)[labels] if k > 1 else labels[:, None].astype(float))
    Y = rng.normal(size=(m, k))
    return X, Y, Y


NETWORKS = {
    # name: (hidden activations, output activation, loss, l2, targets)
    "relu-softmax-ce": (["relu", "relu"], "softmax", "softmax_cross_entropy", 0.0, "labels"),
    "tanh-softmax-ce-l2": (["tanh"], "softmax", "softmax_cross_entropy", 0.1, "labels"),
    "relu-sigmoid-bce": (["relu"], "sigmoid", "binary_cross_entropy", 0.0, "labels"),
    "leaky-sigmoid-bce-l2": (["leaky_relu", "sigmoid"], "sigmoid", "binary_cross_entropy", 0.05,
                             "labels"),
    "sigmoid-mse-linear": (["sigmoid"], "linear", "mse", 0.0, "values"),
    "tanh-mse-tanh-l2": (["tanh", "tanh"], "tanh", "mse", 0.01, "values"),
    "relu-mse_sum-sigmoid": (["relu"], "sigmoid", "mse_sum", 0.0, "labels"),   # seed 000
    "relu-mse-softmax": (["relu"], "softmax", "mse", 0.02, "values"),   # softmax Jacobian path
    "linear-mse_sum-leaky": (["linear"], "leaky_relu", "mse_sum", 0.0, "values"),
}


@pytest.mark.parametrize("case", sorted(NETWORKS))
def test_network_gradients(case):
    hidden, out, loss, l2, kind = NETWORKS[case]
    rng = np.random.default_rng(sorted(NETWORKS).index(case))
    n, k = 3, (1 if loss == "binary_cross_entropy" else 4)
    sizes = [n] + [5] * len(hidden) + [k]
    acts = hidden + [out]
    layers = [Dense(a, b, act, init="lecun") for a, b, act in zip(sizes[:-1], sizes[1:], acts)]
    net = Network(layers, loss=loss, optimizer=SGD(0.5), l2=l2, seed=3, dtype=np.float64)
    for layer in net.layers:
        layer.b[:] = rng.normal(0, 0.3, layer.b.shape)   # non-zero biases are checked too
    X, y, Y = _data(rng, 8, n, k, kind)
    check_network(net, X, y, Y)


def test_network_with_separate_activation_layers_and_dropout():
    """Seed 001's style (Dense + ActivationLayer) with a Dropout layer, fused softmax CE
    through a final ActivationLayer("softmax"), and L2."""
    rng = np.random.default_rng(8)
    layers = [Dense(4, 6, "linear", init="lecun"), ActivationLayer("tanh"), Dropout(0.3),
              Dense(6, 5, "linear", init="lecun"), ActivationLayer("sigmoid"),
              Dense(5, 3, "linear", init="lecun"), ActivationLayer("softmax")]
    net = Network(layers, loss="softmax_cross_entropy", optimizer=SGD(0.1), l2=0.05, seed=1,
                  dtype=np.float64)
    dropout = net.layers[2]
    X, y, Y = _data(rng, 10, 4, 3, "labels")

    def fix_mask():
        dropout.rng = np.random.default_rng(42)

    check_network(net, X, y, Y, before_forward=fix_mask)
    fix_mask()
    net.forward(X, training=True)
    assert np.any(dropout.scaled_mask == 0)            # the mask really dropped something


def test_separate_activation_layers_with_mse_and_tanh_output():
    rng = np.random.default_rng(9)
    layers = [Dense(2, 3, "linear", init="uniform-0.5"), ActivationLayer("tanh"),
              Dense(3, 1, "linear", init="uniform-0.5"), ActivationLayer("tanh")]
    net = Network(layers, loss="mse", optimizer=SGD(0.1), l2=0.0, seed=0, dtype=np.float64)
    X, Y, _ = _data(rng, 4, 2, 1, "values")
    check_network(net, X, Y, Y)


# ------------------------------------------------------------------ input gradient
@pytest.mark.parametrize("out", ["softmax", "sigmoid", "linear", "tanh"])
def test_input_gradient(out):
    rng = np.random.default_rng(10)
    layers = [Dense(5, 6, "tanh"), Dense(6, 4, "relu"), Dropout(0.5), Dense(4, 3, out)]
    net = Network(layers, loss="mse", seed=2, dtype=np.float64)
    X = rng.normal(size=(4, 5))
    targets = np.array([0, 2, 1, 2])
    analytic = net.input_gradient(X, targets)
    assert analytic.shape == X.shape
    for i, t in enumerate(targets):
        x = X[i:i + 1].copy()
        numeric = numeric_gradient(lambda: float(net.forward(x)[0, t]), x)
        assert rel_error(analytic[i], numeric[0]) < TOL
    # a single class for every row
    one = net.input_gradient(X, 1)
    x = X[:1].copy()
    assert rel_error(one[0], numeric_gradient(lambda: float(net.forward(x)[0, 1]), x)[0]) < TOL


@pytest.mark.parametrize("target", [3, -1, 1.0, [0, 1], [[0]], "1"])
def test_input_gradient_refuses_a_target_that_is_not_an_output(target):
    net = Network([Dense(5, 3, "softmax")], seed=0)
    X = np.zeros((4, 5), np.float32)
    with pytest.raises(ValueError, match=r"target must be one output index in 0…2"):
        net.input_gradient(X, target)


def test_input_gradient_after_fit_still_reaches_the_input():
    """fit() skips the first layer's ∂L/∂X while training; it must switch it back on."""
    rng = np.random.default_rng(11)
    net = Network([Dense(3, 4, "tanh"), Dense(4, 2, "softmax")], seed=0, dtype=np.float64)
    X = rng.normal(size=(20, 3))
    net.fit(X, rng.integers(0, 2, 20), epochs=1, batch_size=5)
    out = net.forward(X[:2], training=True)          # plain backward after fit: ∂L/∂X is back
    dX = net.backward(net.loss.backward(out, np.eye(2)[[0, 1]]))
    assert dX is not None and dX.shape == (2, 3)
    g = net.input_gradient(X[:2], 0)
    x = X[:1].copy()
    assert rel_error(g[0], numeric_gradient(lambda: float(net.forward(x)[0, 0]), x)[0]) < TOL
