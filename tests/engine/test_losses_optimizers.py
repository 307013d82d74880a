"""Optimizers, learning-rate schedules, L2 and the loss registry, checked against
straightforward textbook implementations written here."""

import math

import numpy as np
import pytest

from nncore import Dense, Network
from nncore.losses import get_loss, l2_penalty
from nncore.optimizers import SGD, Adam, get_optimizer
from nncore.schedules import get_schedule


def _gradient_stream(rng, shapes, steps, zero_after=None):
    """Random gradients; with ``zero_after``, the first parameter's first row gets exactly
    zero gradients after that step (like MNIST's always-blank border pixels)."""
    for t in range(steps):
        grads = [rng.normal(0, 1, s) * (1 + 0.5 * np.sin(t / 7)) for s in shapes]
        if zero_after is not None and t >= zero_after:
            grads[0][0] = 0.0
        yield grads


# ------------------------------------------------------------------ SGD family
def test_plain_sgd():
    p = np.array([1.0, -2.0, 3.0])
    g = np.array([0.5, 0.25, -1.0])
    SGD(0.1).step([p], [g])
    assert np.array_equal(p, np.array([1.0, -2.0, 3.0]) - 0.1 * g)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_and_nesterov_match_pytorch_style_reference(nesterov):
    """Reference: PyTorch's formulation, buf ← μ·buf + g; step = g + μ·buf (Nesterov) or
    buf; θ ← θ − η·step — algebraically the same as nncore's velocity form."""
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,)]
    params = [rng.normal(size=s) for s in shapes]
    ref = [p.copy() for p in params]
    bufs = [np.zeros(s) for s in shapes]
    lr, mu = 0.05, 0.9
    opt = get_optimizer({"name": "nesterov" if nesterov else "momentum", "lr": lr})
    assert opt.momentum == mu and opt.nesterov == nesterov
    for grads in _gradient_stream(rng, shapes, 200):
        opt.step(params, grads)
        for r, b, g in zip(ref, bufs, grads):
            b *= mu
            b += g
            r -= lr * (g + mu * b if nesterov else b)
    for p, r in zip(params, ref):
        np.testing.assert_allclose(p, r, rtol=1e-10, atol=1e-12)
    opt.reset()
    assert opt.velocities is None


# ------------------------------------------------------------------ Adam
class TextbookAdam:
    """Kingma & Ba (2015), Algorithm 1, line by line."""

    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m[...] = self.b1 * m + (1 - self.b1) * g
            v[...] = self.b2 * v + (1 - self.b2) * g * g
            m_hat = m / (1 - self.b1 ** self.t)
            v_hat = v / (1 - self.b2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


@pytest.mark.parametrize("settings", [{}, {"lr": 0.01, "beta1": 0.5, "beta2": 0.99, "eps": 1e-6}])
def test_adam_matches_the_textbook_over_many_steps(settings):
    rng = np.random.default_rng(1)
    shapes = [(6, 5), (5,)]
    params = [rng.normal(size=s) for s in shapes]
    ref = [p.copy() for p in params]
    adam = Adam(**settings)
    book = TextbookAdam(ref, lr=adam.lr, b1=adam.beta1, b2=adam.beta2, eps=adam.eps)
    # 1500 steps, with one row's gradient exactly zero from step 50 on: its moments decay
    # below Adam.TINY, so the subnormal flush fires (every FLUSH_EVERY steps) many times
    for grads in _gradient_stream(rng, shapes, 1500, zero_after=50):
        adam.step(params, grads)
        book.step(ref, grads)
    assert adam.t == 1500
    for p, r in zip(params, ref):
        np.testing.assert_allclose(p, r, rtol=1e-9, atol=1e-12)
    assert np.any(adam.m[0][0] == 0)     # the flush did fire on the idle row


def test_adam_subnormal_flush_does_not_change_results_in_float32():
    rng = np.random.default_rng(2)
    shapes = [(20, 8), (8,)]
    start = [rng.normal(size=s).astype(np.float32) for s in shapes]
    flushed, unflushed = [p.copy() for p in start], [p.copy() for p in start]
    a, b = Adam(1e-3), Adam(1e-3)
    b.FLUSH_EVERY = 10 ** 9             # never flush
    for grads in _gradient_stream(rng, shapes, 3000, zero_after=100):
        grads = [g.astype(np.float32) for g in grads]
        a.step(flushed, grads)
        b.step(unflushed, grads)
    assert np.any(b.m[0][0] != 0) and np.all(a.m[0][0] == 0)   # the two really differ inside
    for p, q in zip(flushed, unflushed):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
    assert all(x.dtype == np.float32 for x in a.m + a.v + flushed)


def test_adam_step_constants_are_python_floats():
    # A NumPy float64 scalar (what np.sqrt returns) is not a "weak" scalar: float32 sweeps
    # like tmp *= lr_t would run their loops in float64 and cast back, several times
    # slower. Python floats keep every sweep in float32.
    adam = Adam(1e-3)
    adam.step([np.zeros(3, np.float32)], [np.ones(3, np.float32)])
    assert all(type(c) is float for c in adam.step_constants())


def test_adam_reset_and_config():
    adam = Adam(0.002, beta1=0.8)
    p = [np.ones(3)]
    adam.step(p, [np.ones(3)])
    # first step of Adam moves every weight by lr·sign(g) (up to ε)
    np.testing.assert_allclose(p[0], 1 - 0.002, rtol=1e-6)
    adam.reset()
    assert adam.t == 0 and adam.m is None
    assert adam.get_config() == {"name": "adam", "lr": 0.002, "beta1": 0.8, "beta2": 0.999,
                                 "eps": 1e-8}


@pytest.mark.parametrize("settings", [{}, {"lr": 0.01, "beta1": 0.5, "beta2": 0.99, "eps": 1e-6}])
def test_literal_adam_is_the_textbook_update(settings):
    rng = np.random.default_rng(3)
    shapes = [(6, 5), (5,), (2, 1, 3, 3)]
    params = [rng.normal(size=s) for s in shapes]
    ref = [p.copy() for p in params]
    adam = Adam(**settings, fused=False)
    book = TextbookAdam(ref, lr=adam.lr, b1=adam.beta1, b2=adam.beta2, eps=adam.eps)
    for grads in _gradient_stream(rng, shapes, 300, zero_after=50):
        adam.step(params, grads)
        book.step(ref, grads)
    for p, r in zip(params, ref):   # the same operations in float64: equal to the last bits
        np.testing.assert_allclose(p, r, rtol=1e-13, atol=1e-15)
    for m, v, r_m, r_v in zip(adam.m, adam.v, book.m, book.v):   # m and v as the paper keeps them
        np.testing.assert_allclose(m, r_m, rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(v, r_v, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("lr", [1e-3, 1e-2, 0.1])
def test_fused_and_literal_adam_agree_to_float32_rounding(lr):
    """The two forms compute the same θ with different roundings. Each of the T steps
    rounds θ (½ ulp) and an update smaller than about η (a few ulps of it) in both forms,
    and no θ gets further than |θ₀| + T·η from its start; so, errors adding up in the worst
    case, |θ_fused − θ_literal| ≤ T · 4ε · (|θ₀| + T·η), ε = 2⁻²³. (Measured: about
    1.5 ε · (|θ₀| + T·η), errors mostly cancel.) A wrong factor, a missing bias
    correction, would differ by a fraction of η·T — thousands of times more."""
    rng = np.random.default_rng(4)
    shapes = [(30, 20), (20,), (8, 3, 3, 3)]
    start = [rng.normal(size=s).astype(np.float32) for s in shapes]
    fused, literal = [p.copy() for p in start], [p.copy() for p in start]
    a, b = Adam(lr), Adam(lr, fused=False)
    T = 120                         # past FLUSH_EVERY: the fused form's flush runs once
    for t in range(T):
        # gradients from 10⁻⁴ to 10 in scale, as different layers see
        grads = [(rng.normal(size=s) * 10.0 ** rng.integers(-4, 2)).astype(np.float32)
                 for s in shapes]
        a.step(fused, grads)
        b.step(literal, grads)
    eps = np.finfo(np.float32).eps
    for p, q, p0 in zip(fused, literal, start):
        bound = T * 4 * eps * (np.abs(p0) + T * lr)
        assert p.dtype == q.dtype == np.float32
        assert np.all(np.abs(p - q) <= bound)
        assert np.abs(p - p0).max() > 100 * bound.max()   # the steps themselves are far larger


def test_fused_goes_into_the_config_only_when_not_the_default():
    assert "fused" not in Adam().get_config()
    literal = get_optimizer({"name": "adam", "lr": 0.01, "fused": False})
    assert literal.fused is False
    assert literal.get_config() == {"name": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999,
                                    "eps": 1e-8, "fused": False}
    assert get_optimizer(literal.get_config()).get_config() == literal.get_config()


def test_a_network_trains_alike_with_either_adam():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(200, 4)), rng.integers(0, 3, 200)
    nets = [Network([Dense(4, 8, "relu"), Dense(8, 3, "softmax")], seed=0,
                    optimizer={"name": "adam", "lr": 0.01, "fused": fused}) for fused in (True, False)]
    for net in nets:
        net.fit(X, y, epochs=5, batch_size=20)
    for (_, p, _), (_, q, _) in zip(nets[0].parameters(), nets[1].parameters()):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("spec, message", [
    ({"name": "rmsprop"}, "Unknown optimizer 'rmsprop'"),
    ({"name": "adam", "lr": -1}, "learning rate must be a positive number"),
    ({"name": "adam", "lr": float("nan")}, "learning rate must be a positive number"),
    ({"name": "sgd", "momentum": 1.5}, "momentum must be in [0, 1)"),
    ({"name": "adam", "beta1": 1.0}, "beta1 must be in [0, 1)"),
    ({"name": "adam", "betas": 1.0}, "unexpected settings"),
    (42, "must be a name or a dict"),
])
def test_bad_optimizer_settings_are_named(spec, message):
    with pytest.raises(ValueError) as err:
        get_optimizer(spec)
    assert message in str(err.value)


# ------------------------------------------------------------------ schedules
def test_schedules_give_the_documented_rates():
    const = get_schedule(None)
    assert [const(0.1, e, 10) for e in range(3)] == [0.1, 0.1, 0.1]
    step = get_schedule({"name": "step", "step_size": 3, "gamma": 0.5})
    assert [step(0.8, e, 10) for e in range(8)] == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2]
    cos = get_schedule("cosine")
    rates = [cos(1.0, e, 4) for e in range(4)]
    assert rates == pytest.approx([1.0, 0.5 + 0.5 * math.cos(math.pi / 4), 0.5,
                                   0.5 + 0.5 * math.cos(3 * math.pi / 4)])
    floor = get_schedule({"name": "cosine", "min_lr_fraction": 0.1})
    assert floor(1.0, 0, 10) == pytest.approx(1.0)
    assert floor(1.0, 5, 10) == pytest.approx(0.1 + 0.5 * 0.9)
    assert all(floor(1.0, e, 10) >= 0.1 for e in range(10))


def test_fit_uses_the_schedule_and_restores_the_base_rate():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    net = Network([Dense(2, 4, "relu"), Dense(4, 2, "softmax")], optimizer={"name": "sgd", "lr": 0.4},
                  seed=0)
    h = net.fit(X, y, epochs=5, batch_size=10,
                schedule={"name": "step", "step_size": 2, "gamma": 0.1})
    assert h.lr == pytest.approx([0.4, 0.4, 0.04, 0.04, 0.004])
    assert net.optimizer.lr == 0.4


@pytest.mark.parametrize("spec, message", [
    ("exponential", "Unknown schedule"),
    ({"name": "step", "step_size": 0}, "step_size ≥ 1"),
    ({"name": "step", "gamma": 2}, "0 < gamma ≤ 1"),
    ({"name": "cosine", "min_lr_fraction": 2}, "0 ≤ min_lr_fraction ≤ 1"),
    ({"name": "cosine", "warmup": 3}, "unexpected settings"),
])
def test_bad_schedules_are_named(spec, message):
    with pytest.raises(ValueError) as err:
        get_schedule(spec)
    assert message in str(err.value)


# ------------------------------------------------------------------ L2 and losses
def test_l2_penalty_is_half_lambda_sum_of_squares_of_weights_only():
    W1, W2 = np.arange(6.0).reshape(2, 3), np.array([[1.0], [-2.0], [3.0]])
    assert l2_penalty([W1, W2], 0.1) == pytest.approx(0.05 * (55 + 14))
    net = Network([Dense(2, 3, "tanh"), Dense(3, 2, "softmax")], l2=0.1, seed=0, dtype=np.float64)
    net.layers[0].W[...] = W1
    net.layers[0].b[...] = 100.0                      # biases are not decayed
    a = net.forward(np.ones((2, 2)))
    Y = np.eye(2)
    assert net.compute_loss(a, Y) == pytest.approx(
        get_loss("softmax_cross_entropy").forward(a, Y)
        + 0.05 * (np.sum(W1 ** 2) + np.sum(net.layers[1].W ** 2)))


@pytest.mark.parametrize("alias, name", [("cross_entropy", "softmax_cross_entropy"),
                                         ("categorical-cross-entropy", "softmax_cross_entropy"),
                                         ("BCE", "binary_cross_entropy"),
                                         ("mean_squared_error", "mse"), ("mse_sum", "mse_sum")])
def test_loss_names(alias, name):
    assert get_loss(alias).name == name


def test_unknown_loss_is_named():
    with pytest.raises(ValueError, match="Unknown loss 'hinge'"):
        get_loss("hinge")


def test_cross_entropies_stay_finite_on_confident_wrong_answers():
    for dtype in (np.float32, np.float64):
        p = np.array([[1.0, 0.0]], dtype)
        assert np.isfinite(get_loss("softmax_cross_entropy").forward(p, np.array([[0.0, 1.0]], dtype)))
        q = np.array([[0.0]], dtype)
        bce = get_loss("bce")
        assert np.isfinite(bce.forward(q, np.array([[1.0]], dtype)))
        assert np.all(np.isfinite(bce.backward(q, np.array([[1.0]], dtype))))
