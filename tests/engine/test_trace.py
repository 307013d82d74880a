"""nncore.trace: one traced pass, checked against answers computed without it.

The forward records must be ``Network.forward`` exactly. The backward records are checked
two independent ways, never against nncore's own backward code:

* the seeds' equations written out here in NumPy, layer by layer —
  z = a·W + b, a = σ(z); δ = dA ∘ σ'(z), dW = aᵀ·δ / m + λ·W, db = Σ_rows δ / m,
  dA_prev = δ·Wᵀ — for networks of Dense, ActivationLayer and Dropout layers;
* finite differences of the loss (float64 networks), for those and for convolutional
  networks: with respect to every W and b, every z, and every layer's input.

Per-sample convention (``losses.py``): dA, δ and dA_prev are m × the gradient of the
batch's mean loss L; dW and db are the gradients of L itself.
"""

import numpy as np
import pytest
from support.gradcheck import numeric_gradient

from nncore import (ActivationLayer, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Network,
                    Reshape)
from nncore.trace import Stage, stages, trace

MASK_SEED = 1000   # Dropout layer j draws its mask from default_rng(MASK_SEED + j)


def fix_masks(net):
    """Give every Dropout a fresh generator of its own, so that each forward pass in
    training mode draws the very same masks."""
    for j, layer in enumerate(net.layers):
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(MASK_SEED + j)


def data(n_in, m=6, k=3, seed=0, binary=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n_in))
    y = rng.integers(0, 2 if binary else k, m)
    return X, y


# ------------------------------------------------------------------ the networks
def dense_net(dtype=np.float64):
    return Network([Dense(4, 7, "relu"), Dropout(0.3), Dense(7, 5, "tanh"),
                    Dense(5, 3, "softmax")], l2=0.01, seed=1, dtype=dtype)


def seed001_net(dtype=np.float64):
    return Network([Dense(4, 6), ActivationLayer("tanh"), Dropout(0.25), Dense(6, 5),
                    ActivationLayer("sigmoid"), Dense(5, 3), ActivationLayer("tanh")],
                   loss="mse", seed=2, dtype=dtype)


def seed001_softmax_net(dtype=np.float64):
    # softmax as a layer of its own: the cross-entropy's δ passes through it. (Not a ReLU
    # after the Dropout: the zeros it drops sit on the kink, where differences are wrong.)
    return Network([Dense(4, 6), Dropout(0.4), ActivationLayer("sigmoid"), Dense(6, 3),
                    ActivationLayer("softmax")], l2=0.003, seed=3, dtype=dtype)


def bce_net(dtype=np.float64):
    return Network([Dense(4, 5, "leaky_relu"), Dense(5, 1, "sigmoid")],
                   loss="binary_cross_entropy", seed=4, dtype=dtype)


def mse_sum_net(dtype=np.float64):
    return Network([Dense(4, 6, "sigmoid"), Dense(6, 3, "sigmoid")], loss="mse_sum",
                   seed=5, dtype=dtype)


def cnn(dtype=np.float64):
    # 6×6 → conv 3×3 pad 1 → (2, 6, 6) → pool → (2, 3, 3) → conv 2×2 → (3, 2, 2) → 12 → 3
    return Network([Reshape((1, 6, 6)), Conv2D(1, 2, 3, padding=1, activation="tanh"),
                    MaxPool2D(2), Conv2D(2, 3, 2), ActivationLayer("relu"), Dropout(0.2),
                    Flatten(), Dense(12, 3, "softmax")], l2=0.01, seed=6, dtype=dtype)


DENSE_NETS = [dense_net, seed001_net, seed001_softmax_net, bce_net, mse_sum_net]
ALL_NETS = DENSE_NETS + [cnn]


def inputs_for(net, m=6, seed=0):
    binary = net.n_outputs == 1
    return data(net.n_inputs, m=m, k=net.n_outputs, seed=seed, binary=binary)


# ------------------------------------------------------------------ forward
@pytest.mark.parametrize("make", ALL_NETS)
@pytest.mark.parametrize("training", [False, True])
def test_the_records_are_the_forward_pass_exactly(make, training):
    net = make(np.float32)
    X, _ = inputs_for(net, m=9)
    fix_masks(net)
    t = trace(net, X, training=training)
    fix_masks(net)
    a = X.astype(np.float32)
    for i, layer in enumerate(net.layers):
        r = t.records[i]
        assert r.index == i and r.layer is layer
        assert np.array_equal(r.input, a)
        a = layer.forward(a, training)
        assert r.output.dtype == np.float32 and np.array_equal(r.output, a)
        assert (r.z is None) == (not isinstance(layer, (Dense, Conv2D)))
    assert np.array_equal(t.output, a)
    fix_masks(net)
    assert np.array_equal(t.output, net.forward(X.astype(np.float32), training))


def test_z_is_the_pre_activation():
    net = dense_net()
    X, _ = inputs_for(net)
    t = trace(net, X)
    r = t.records[0]
    np.testing.assert_array_equal(r.z, X @ net.layers[0].W + net.layers[0].b)
    np.testing.assert_array_equal(r.output, np.maximum(r.z, 0))


def test_trace_checks_its_inputs_as_the_network_does():
    net = dense_net()
    with pytest.raises(ValueError, match="expects inputs with 4 features"):
        trace(net, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        trace(net, np.full((3, 4), np.nan))
    assert trace(net, np.zeros(4)).X.shape == (1, 4)          # one sample, as predict takes it


# ------------------------------------------------------------------ the seeds' equations
SIGMA = {   # σ and σ' as the seeds write them
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z),
                   lambda z: np.where(z > 0, 1.0, 0.01)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)),
                lambda z: 1 / (1 + np.exp(-z)) * (1 - 1 / (1 + np.exp(-z)))),
}


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def seeds_pass(net, X, Y, training):
    """Forward and backward of a Dense / ActivationLayer / Dropout network, by the seeds'
    equations. Returns one dict per layer."""
    m = len(X)
    steps, a = [], X
    for j, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            z = a @ layer.W + layer.b                                   # z = a·W + b
            act = layer.activation.name
            out = softmax(z) if act == "softmax" else SIGMA[act][0](z)  # a = σ(z)
            steps.append({"a_prev": a, "z": z, "out": out, "act": act})
        elif isinstance(layer, ActivationLayer):
            act = layer.activation.name
            out = softmax(a) if act == "softmax" else SIGMA[act][0](a)
            steps.append({"x": a, "out": out, "act": act})
        else:                                      # Dropout: mask ~ Bernoulli(1 − rate)/(1 − rate)
            keep = 1 - layer.rate
            mask = None
            if training:
                draw = np.random.default_rng(MASK_SEED + j).random(a.shape, dtype=np.float32)
                mask = (draw < keep).astype(a.dtype) / keep
            out = a if mask is None else a * mask
            steps.append({"mask": mask, "out": out})
        a = out

    # the loss's own gradient, per sample
    p, k = a, a.shape[1]
    loss = net.loss.name
    if loss == "softmax_cross_entropy":
        dA, delta_out = None, p - Y                     # δ = p − y at the softmax's input
    elif loss == "mse":
        dA, delta_out = 2 * (p - Y) / k, None
    elif loss == "mse_sum":
        dA, delta_out = 2 * (p - Y), None
    else:                                               # binary cross-entropy
        dA, delta_out = -(Y / p - (1 - Y) / (1 - p)), None

    for j in reversed(range(len(net.layers))):
        layer, s = net.layers[j], steps[j]
        s["dA"] = dA
        if isinstance(layer, Dense):
            if delta_out is not None:
                delta, delta_out = delta_out, None
            else:
                delta = dA * SIGMA[s["act"]][1](s["z"])            # δ = dA ∘ σ'(z)
            s["delta"] = delta
            s["dW"] = s["a_prev"].T @ delta / m + net.l2 * layer.W   # dW = aᵀ·δ/m + λW
            s["db"] = delta.sum(axis=0) / m                          # db = Σ_rows δ / m
            dA = delta @ layer.W.T                                   # dA_prev = δ·Wᵀ
        elif isinstance(layer, ActivationLayer):
            if delta_out is not None:          # the softmax layer the loss's δ skips
                dA, delta_out = delta_out, None
            else:
                dA = dA * SIGMA[s["act"]][1](s["x"])
        else:
            dA = dA if s["mask"] is None else dA * s["mask"]
        s["dA_prev"] = dA
    return steps


def one_hot(net, y):
    return net._targets(y, len(y))


@pytest.mark.parametrize("make", DENSE_NETS)
@pytest.mark.parametrize("training", [False, True])
def test_backward_records_follow_the_seeds_equations(make, training):
    net = make()
    X, y = inputs_for(net)
    fix_masks(net)
    t = trace(net, X, training=training)
    t.backward(y)
    expected = seeds_pass(net, X, one_hot(net, y), training)
    close = dict(rtol=1e-12, atol=1e-13)
    for r, e in zip(t.records, expected):
        np.testing.assert_allclose(r.output, e["out"], **close)
        if e["dA"] is None:
            assert r.dA is None                 # the loss handed δ straight over
        else:
            np.testing.assert_allclose(r.dA, e["dA"], **close)
        np.testing.assert_allclose(r.dA_prev, e["dA_prev"], **close)
        if isinstance(r.layer, Dense):
            np.testing.assert_allclose(r.z, e["z"], **close)
            for name in ("delta", "dW", "db"):
                np.testing.assert_allclose(getattr(r, name), e[name], **close)
        else:
            assert r.delta is None and r.dW is None and r.db is None


# ------------------------------------------------------------------ finite differences
def loss_from(net, i, a, Y, training):
    """The network's loss with ``a`` fed to layer i (the same masks every time)."""
    fix_masks(net)
    for layer in net.layers[i:]:
        a = layer.forward(a, training)
    return net.compute_loss(a, Y)


def fd(f, x):
    return numeric_gradient(f, x)


@pytest.mark.parametrize("make", ALL_NETS)
@pytest.mark.parametrize("training", [False, True])
def test_backward_records_match_finite_differences(make, training):
    net = make()
    X, y = inputs_for(net, m=4)
    Y = one_hot(net, y)
    m = len(X)
    fix_masks(net)
    t = trace(net, X, training=training)
    loss = t.backward(y)
    assert loss == pytest.approx(loss_from(net, 0, X, Y, training), rel=1e-12)
    tol = dict(rtol=1e-5, atol=1e-7)
    for i, r in enumerate(t.records):
        layer = r.layer
        # ∂ℓ/∂(this layer's input): m × ∂L/∂input, input fed in perturbed
        a_in = r.input.copy()
        numeric = fd(lambda: loss_from(net, i, a_in, Y, training), a_in)
        np.testing.assert_allclose(r.dA_prev, m * numeric, **tol)
        if r.dA is not None:   # ∂ℓ/∂output: what the next layer receives
            out = r.output.copy()
            numeric = fd(lambda: loss_from(net, i + 1, out, Y, training), out)
            np.testing.assert_allclose(r.dA, m * numeric, **tol)
        if isinstance(layer, (Dense, Conv2D)):
            z, sigma = r.z.copy(), layer.activation.forward
            numeric = fd(lambda: loss_from(net, i + 1, sigma(z), Y, training), z)
            np.testing.assert_allclose(r.delta, m * numeric, **tol)
            for name, grad in (("W", r.dW), ("b", r.db)):
                numeric = fd(lambda: loss_from(net, 0, X, Y, training), getattr(layer, name))
                np.testing.assert_allclose(grad, numeric, **tol)


def test_backward_fills_the_first_layers_input_gradient_and_leaves_the_switch_alone():
    net = cnn()
    X, y = inputs_for(net)
    first = net.layers[1]
    first.skip_input_gradient = True            # as during fit
    t = trace(net, X)
    t.backward(y)
    assert t.records[1].dA_prev is not None and t.records[0].dA_prev.shape == X.shape
    assert first.skip_input_gradient is True
    first.skip_input_gradient = False
    t.backward(y)
    assert first.skip_input_gradient is False


def test_backward_records_are_copies_that_later_passes_do_not_change():
    net = cnn()
    X, y = inputs_for(net)
    t = trace(net, X)
    t.backward(y)
    dW = t.records[1].dW.copy()
    trace(net, X[::-1] * 2).backward(y[::-1])
    np.testing.assert_array_equal(t.records[1].dW, dW)


# ------------------------------------------------------------------ stages
def test_stages_of_a_dense_network():
    assert stages(dense_net()) == [Stage(0, 0, "dense", "relu", 7),
                                   Stage(2, 2, "dense", "tanh", 5),
                                   Stage(3, 3, "dense", "softmax", 3)]


def test_stages_of_seed001_networks_end_at_the_activation_layer_past_dropout():
    assert stages(seed001_net()) == [Stage(0, 1, "dense", "tanh", 6),
                                     Stage(3, 4, "dense", "sigmoid", 5),
                                     Stage(5, 6, "dense", "tanh", 3)]
    assert stages(seed001_softmax_net()) == [Stage(0, 2, "dense", "sigmoid", 6),
                                             Stage(3, 4, "dense", "softmax", 3)]


def test_stages_of_a_cnn_keep_the_pooled_activation():
    assert stages(cnn()) == [Stage(1, 1, "conv", "tanh", 2), Stage(2, 2, "pool", "tanh", 2),
                             Stage(3, 4, "conv", "relu", 3), Stage(7, 7, "dense", "softmax", 3)]


def test_stages_in_odd_places():
    # a layer with its own σ keeps it: the ActivationLayer after it is not its activation
    net = Network([Dense(3, 4, "relu"), ActivationLayer("tanh"), Dense(4, 2, "softmax")])
    assert stages(net)[0] == Stage(0, 0, "dense", "relu", 4)
    # pooling the image itself: its channels, and no activation yet
    net = Network([Reshape((3, 4, 4)), MaxPool2D(2), Flatten(), Dense(12, 2, "softmax")])
    assert stages(net)[0] == Stage(1, 1, "pool", "linear", 3)
    # a linear layer at the very end, and an empty network
    assert stages(Network([Dense(3, 2)])) == [Stage(0, 0, "dense", "linear", 2)]
    assert stages(Network()) == []


@pytest.mark.parametrize("make", ALL_NETS)
def test_stage_outputs_are_the_outputs_of_each_stage(make):
    net = make()
    X, _ = inputs_for(net)
    t = trace(net, X)
    pairs = t.stage_outputs()
    assert [s for s, _ in pairs] == stages(net)
    for s, a in pairs:
        assert a is t.records[s.output_index].output
        assert a.shape[1] == s.units
    assert pairs[-1][1] is t.output


# ------------------------------------------------------------------ proba and saliency
@pytest.mark.parametrize("make", ALL_NETS)
def test_proba_is_predict_proba(make):
    net = make(np.float32)
    X, _ = inputs_for(net, m=20)
    np.testing.assert_array_equal(trace(net, X).proba(), net.predict_proba(X))


@pytest.mark.parametrize("make", ALL_NETS)
def test_input_gradient_matches_finite_differences(make):
    net = make()
    X, _ = inputs_for(net, m=3)
    targets = np.arange(len(X)) % net.n_outputs
    t = trace(net, X)
    saliency = t.input_gradient(targets)
    x = X.copy()
    # samples do not interact at inference: Σ_n out[n, target_n] has the per-sample gradients
    numeric = fd(lambda: float(net.forward(x)[np.arange(len(x)), targets].sum()), x)
    np.testing.assert_allclose(saliency, numeric, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(net.input_gradient(X, targets), saliency, rtol=0, atol=0)
    with pytest.raises(ValueError, match="target must be one output index"):
        t.input_gradient(net.n_outputs)
