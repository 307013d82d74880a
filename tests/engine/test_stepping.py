"""nncore.stepping's recorded step and Stepper, checked against answers computed without it.

* Every number a recorded step keeps is recomputed here from the seeds' equations written
  out in NumPy — z = a·W + b, a = σ(z), the loss's dA, δ = dA ∘ σ'(z), dW = aᵀ·δ / m + λW,
  db = Σ δ / m, dA_prev = δ·Wᵀ — and the optimizer's update from its paper's equations
  (SGD, momentum, Nesterov, Adam's m, v, m̂, v̂), over several steps.
* Convolutional networks: the recorded gradients against central differences, pooling's
  winners against a window-by-window argmax.
* A run stepped through batch by batch (one, ten, "finish the epoch") ends with exactly
  the weights and batch losses of ``Network.fit`` with the same settings.
"""

import numpy as np
import pytest
from support.gradcheck import numeric_gradient

import nncore.trace
from nncore import ActivationLayer, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Network, Reshape
from nncore.stepping import STEP_BOUNDS, Stepper, StepTooLarge, check_bounds, record_step
from nncore.stepping import record as record_module
from nncore.stepping import work_per_sample
from nncore.training import BatchPlan

# ------------------------------------------------------------------ the seeds' equations
SIGMA = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
         "tanh": np.tanh, "linear": lambda z: z,
         "softmax": lambda z: np.exp(z - z.max(1, keepdims=True))
         / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)}
SIGMA_PRIME = {"relu": lambda z, a: (z > 0).astype(float), "sigmoid": lambda z, a: a * (1 - a),
               "tanh": lambda z, a: 1 - a ** 2, "linear": lambda z, a: np.ones_like(z)}


def loss_dA(name, a, Y):
    """∂ℓ/∂a per sample, as the seeds write it (softmax CE: δ = a − y directly)."""
    return {"binary_cross_entropy": lambda: -(Y / a - (1 - Y) / (1 - a)),
            "mse": lambda: 2 * (a - Y) / a.shape[1], "mse_sum": lambda: 2 * (a - Y),
            "softmax_cross_entropy": lambda: a - Y}[name]()


def loss_value(name, a, Y):
    return {"binary_cross_entropy": lambda: -np.mean(Y * np.log(a) + (1 - Y) * np.log(1 - a)),
            "mse": lambda: np.mean((a - Y) ** 2), "mse_sum": lambda: np.sum((a - Y) ** 2) / len(a),
            "softmax_cross_entropy": lambda: -np.sum(Y * np.log(a)) / len(a)}[name]()


class WrittenOut:
    """The seeds' forward and backward pass for a list of (W, b, σ, dropout mask or None)
    layers, and the optimizers' updates, written out with their own state."""

    def __init__(self, opt: dict):
        self.opt, self.t, self.state = opt, 0, {}

    def pass_(self, X, Y, layers, loss, l2):
        a, cache = X, []
        for W, b, act, mask in layers:
            z = a @ W + b
            out = SIGMA[act](z)
            cache.append((a, z, out))
            a = out if mask is None else out * mask
        value = loss_value(loss, a, Y) + 0.5 * l2 * sum(np.sum(W ** 2) for W, *_ in layers)
        grads, dA, m = [], loss_dA(loss, a, Y), len(X)
        for k in range(len(layers) - 1, -1, -1):
            W, b, act, mask = layers[k]
            a_prev, z, out = cache[k]
            if k == len(layers) - 1 and loss == "softmax_cross_entropy":
                delta = dA
            else:
                delta = dA * SIGMA_PRIME[act](z, out)
            dW = a_prev.T @ delta / m + l2 * W
            db = delta.sum(0) / m
            dA_prev = delta @ W.T
            grads.append(dict(z=z, a=out, dA=dA, delta=delta, dW=dW, db=db, dA_prev=dA_prev))
            if k:
                dA = dA_prev if layers[k - 1][3] is None else dA_prev * layers[k - 1][3]
        return value, grads[::-1]

    def update(self, name, p, g):
        o, lr = self.opt, self.opt["lr"]
        if o["name"] == "adam":
            b1, b2, eps = 0.9, 0.999, 1e-8
            m, v = self.state.get(name, (0.0, 0.0))
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g ** 2
            self.state[name] = (m, v)
            m_hat, v_hat = m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)
            return p - lr * m_hat / (np.sqrt(v_hat) + eps), dict(m=m, v=v, m_hat=m_hat, v_hat=v_hat)
        if o.get("momentum"):
            v = o["momentum"] * self.state.get(name, 0.0) - lr * g
            self.state[name] = v
            step = o["momentum"] * v - lr * g if o.get("nesterov") else v
            return p + step, dict(velocity=v)
        return p - lr * g, {}


NETS = {
    "seed003": lambda: Network([Dense(3, 5, "relu"), Dense(5, 1, "sigmoid")],
                               loss="binary_cross_entropy", optimizer={"name": "sgd", "lr": 0.5},
                               seed=1, dtype=np.float64),
    "softmax_dropout_l2_adam": lambda: Network(
        [Dense(3, 6, "tanh"), Dropout(0.3), Dense(6, 4, "relu"), Dense(4, 3, "softmax")],
        optimizer={"name": "adam", "lr": 0.01}, l2=0.02, seed=2, dtype=np.float64),
    "seed001_momentum": lambda: Network(
        [Dense(3, 4), ActivationLayer("tanh"), Dense(4, 3), ActivationLayer("sigmoid")],
        loss="mse", optimizer={"name": "momentum", "lr": 0.3, "momentum": 0.8}, seed=3,
        dtype=np.float64),
    "seed000_nesterov": lambda: Network([Dense(3, 6, "relu"), Dense(6, 3, "sigmoid")],
                                        loss="mse_sum", optimizer={"name": "nesterov", "lr": 0.1},
                                        seed=4, dtype=np.float64),
    "adam_literal": lambda: Network([Dense(3, 5, "sigmoid"), Dense(5, 3, "softmax")],
                                    optimizer={"name": "adam", "lr": 0.05, "fused": False},
                                    seed=5, dtype=np.float64),
}


def batch(net, m=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    k = net.n_outputs
    y = rng.integers(0, 2 if k == 1 else k, m)
    return X, y, net._targets(y, m)


@pytest.mark.parametrize("name", sorted(NETS))
def test_every_recorded_number_is_the_seeds_equations_over_three_steps(name):
    net = NETS[name]()
    mine = WrittenOut(dict(net.optimizer.get_config(),
                           name="adam" if net.optimizer.name == "adam" else "sgd"))
    close = dict(rtol=1e-9, atol=1e-12)
    for step in range(3):
        X, y, Y = batch(net, seed=step)
        r = record_step(net, X, y)
        layers = [(s.W, s.b, s.activation, s.dropout_mask) for s in r.stages]
        for s in r.stages:
            if s.dropout_mask is not None:   # the engine draws the mask: check what it is
                keep = 1 - s.dropout
                assert set(np.unique(s.dropout_mask)) <= {0.0, 1 / keep}
        value, expected = mine.pass_(X, Y, layers, r.loss_name, net.l2)
        assert r.loss == pytest.approx(value, rel=1e-10)
        np.testing.assert_allclose(r.output, expected[-1]["a"] if r.stages[-1].dropout_mask is None
                                   else expected[-1]["a"] * r.stages[-1].dropout_mask, **close)
        for s, e in zip(r.stages, expected):
            assert s.a_prev.shape[0] == len(X)
            for field in ("z", "a", "delta", "dW", "db", "dA_prev"):
                np.testing.assert_allclose(getattr(s, field), e[field], **close, err_msg=field)
            if s.activation in SIGMA_PRIME:
                np.testing.assert_allclose(s.sigma_prime, SIGMA_PRIME[s.activation](e["z"], e["a"]),
                                           **close)
            else:
                assert s.sigma_prime is None          # softmax: no element-wise σ'
            if s.dA is None:
                assert s.number == len(r.stages) and r.loss_gives_delta
            else:
                np.testing.assert_allclose(s.dA, e["dA"], **close)
        # the update, from the optimizer's own equations
        mine.t += 1
        for s, e in zip(r.stages, expected):
            for p, g in (("W", e["dW"]), ("b", e["db"])):
                u = r.updates[f"layer{s.layer_index}.{p}"]
                after, terms = mine.update(u.name, getattr(s, p), g)
                np.testing.assert_allclose(u.after, after, **close)
                np.testing.assert_allclose(u.terms["applied"], getattr(s, p) - after, **close)
                np.testing.assert_allclose(u.terms["step"], u.terms["applied"], rtol=1e-7,
                                           atol=1e-12)
                for key, value in terms.items():
                    np.testing.assert_allclose(u.terms[key], value, rtol=1e-8, atol=1e-14)
                if "m" in terms:
                    assert u.constants["t"] == mine.t
                    assert u.constants["bias_correction1"] == pytest.approx(1 - 0.9 ** mine.t)
        # the network holds the updated weights, and the record kept copies
        assert all(np.array_equal(p, u.after) for (_, p, _), u in
                   zip(net.parameters(), r.updates.values()))


def cnn(dtype=np.float64):
    # 6×6 → conv 3×3 pad 1 (2, 6, 6) → pool 2 → (2, 3, 3) → conv 2×2 (3, 2, 2) → 12 → 3
    return Network([Reshape((1, 6, 6)), Conv2D(1, 2, 3, padding=1, activation="tanh"),
                    MaxPool2D(2), Conv2D(2, 3, 2), ActivationLayer("relu"), Dropout(0.2),
                    Flatten(), Dense(12, 3, "softmax")], l2=0.01, seed=6, dtype=dtype,
                   optimizer={"name": "adam", "lr": 0.01})


def test_a_cnn_records_feature_maps_kernels_winners_and_finite_difference_gradients():
    net = cnn()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4, 36)), rng.integers(0, 3, 4)
    Y = net._targets(y, 4)
    weights = net.get_weights()

    def fixed_mask_loss():
        # the same mask the recorded step drew: replay the Dropout's generator
        net.layers[5].rng = np.random.default_rng(77)
        return net.compute_loss(net.forward(X, True), Y)

    numeric = []
    for _, p, _ in net.parameters():
        numeric.append(numeric_gradient(fixed_mask_loss, p))
    net.layers[5].rng = np.random.default_rng(77)
    r = record_step(net, X, y)
    assert [s.kind for s in r.stages] == ["conv", "pool", "conv", "dense"]
    conv1, pool, conv2, dense = r.stages
    assert conv1.z.shape == (4, 2, 6, 6) and conv1.W.shape == (2, 1, 3, 3)
    assert conv2.activation == "relu" and conv2.dropout == 0.2 and conv2.dropout_mask.shape == (4, 3, 2, 2)
    grads = {}
    for s in (conv1, conv2, dense):
        grads[f"layer{s.layer_index}.W"], grads[f"layer{s.layer_index}.b"] = s.dW, s.db
    for (name, _, _), num, w0 in zip(net.parameters(), numeric, weights):
        np.testing.assert_allclose(grads[name], num, rtol=1e-5, atol=1e-8, err_msg=name)
        np.testing.assert_array_equal(r.updates[name].before, w0)
    # the recorded kernels are the weights the step started from
    np.testing.assert_array_equal(conv1.W, weights[0])
    # pooling's winners: each 2×2 window of the input, its first largest entry
    inp = pool.a_prev
    expected = np.zeros(inp.shape)
    for n, c, yy, xx in np.ndindex(pool.a.shape):
        window = inp[n, c, 2 * yy:2 * yy + 2, 2 * xx:2 * xx + 2]
        i, j = np.unravel_index(np.argmax(window), (2, 2))
        expected[n, c, 2 * yy + i, 2 * xx + j] = 1
        assert pool.a[n, c, yy, xx] == window.max()
    np.testing.assert_array_equal(pool.winners, expected)
    # δ of the first convolution against differences of the loss in its z
    z = conv1.z.copy()

    def from_z():
        a = np.tanh(z)
        net.layers[5].rng = np.random.default_rng(77)
        for layer in net.layers[2:]:
            a = layer.forward(a, True)
        return net.compute_loss(a, Y)
    net.set_weights(weights)
    np.testing.assert_allclose(conv1.delta, 4 * numeric_gradient(from_z, z), rtol=1e-5, atol=1e-8)


def test_records_are_copies_that_later_steps_leave_alone():
    net = NETS["softmax_dropout_l2_adam"]()
    X, y, _ = batch(net)
    r = record_step(net, X, y)
    kept = {k: v.copy() for k, v in vars(r.stages[0]).items() if isinstance(v, np.ndarray)}
    for _ in range(3):
        record_step(net, X * 2, y)
        net._step(*batch(net)[::2])
    for k, v in kept.items():
        np.testing.assert_array_equal(getattr(r.stages[0], k), v)


# ------------------------------------------------------------------ the Stepper against fit
def data(n=50, n_in=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)).astype(np.float32), rng.integers(0, k, n)


RUNS = {
    # dropout, Adam, a cosine schedule, shuffling, a last batch that is not full
    "adam_dropout_cosine": (lambda: Network([Dense(3, 8, "relu"), Dropout(0.25), Dense(8, 3, "softmax")],
                                            optimizer={"name": "adam", "lr": 0.01}, seed=0),
                            dict(epochs=3, batch_size=16, shuffle=True, seed=5, schedule="cosine")),
    "full_batch_sgd": (lambda: Network([Dense(3, 6, "tanh"), Dense(6, 3, "softmax")],
                                       optimizer={"name": "sgd", "lr": 0.5}, l2=0.01, seed=1),
                       dict(epochs=4, batch_size=None, shuffle=True, seed=1)),
    "per_sample_momentum": (lambda: Network([Dense(3, 4), ActivationLayer("tanh"), Dense(4, 3),
                                             ActivationLayer("tanh")], loss="mse",
                                            optimizer={"name": "momentum", "lr": 0.05}, seed=2),
                            dict(epochs=2, batch_size=1, shuffle=False, seed=2,
                                 schedule={"name": "step", "step_size": 1, "gamma": 0.5})),
    "cnn": (lambda: Network([Reshape((1, 4, 4)), Conv2D(1, 2, 3, padding=1, activation="relu"),
                             MaxPool2D(2), Flatten(), Dropout(0.1), Dense(8, 3, "softmax")],
                            optimizer={"name": "adam", "lr": 0.01}, seed=3),
            dict(epochs=2, batch_size=8, shuffle=True, seed=3)),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_run_stepped_batch_by_batch_ends_with_fits_weights_bit_for_bit(name):
    make, settings = RUNS[name]
    X, y = data(n_in=16 if name == "cnn" else 3)
    fitted = make()
    fitted.fit(X, y, **settings)

    net = make()
    stepper = Stepper(net, X, y, **settings)
    presses = [lambda: stepper.advance(1), lambda: stepper.advance(10),
               stepper.finish_epoch, lambda: stepper.advance(3, record_last=False)]
    k = 0
    while not stepper.finished:
        presses[k % len(presses)]()
        k += 1
    assert stepper.steps == settings["epochs"] * stepper.n_batches
    assert stepper.advance(1) == 0 and "done" in stepper.why_not()
    for (label, p, _), (_, q, _) in zip(net.parameters(), fitted.parameters()):
        assert np.array_equal(p, q), label
    assert stepper.losses == fitted.history.batch_loss
    assert net.optimizer.lr == fitted.optimizer.lr     # the base rate, as fit leaves it


def test_the_batch_plan_that_fit_and_the_stepper_walk():
    plan = BatchPlan(10, 4, shuffle=True)
    assert (plan.size, plan.n_batches) == (4, 3)
    rng = np.random.default_rng(5)
    order = plan.epoch_order(rng)
    np.testing.assert_array_equal(order, np.random.default_rng(5).permutation(10))
    rows = [plan.rows(order, b) for b in range(plan.n_batches)]
    assert [len(r) for r in rows] == [4, 4, 2]
    assert sorted(np.concatenate(rows).tolist()) == list(range(10))     # each row once
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 3
    xb, yb = plan.take(rows[2], X, y)
    np.testing.assert_array_equal(xb, X[order[8:]])
    np.testing.assert_array_equal(yb, y[order[8:]])
    # one full batch (None, or at least the data's size) is never shuffled: nothing drawn
    for full in (BatchPlan(10, None, shuffle=True), BatchPlan(10, 64, shuffle=True)):
        before = rng.bit_generator.state
        assert full.epoch_order(rng) is None and rng.bit_generator.state == before
        assert full.rows(None, 0) == slice(0, 10) and full.n_batches == 1
        assert np.shares_memory(full.take(full.rows(None, 0), X)[0], X)   # a view, no copy
    assert BatchPlan(10, 4, shuffle=False).epoch_order(rng) is None
    for bad in (0, -1, 2.5, True, "8"):
        with pytest.raises(ValueError, match="batch_size must be a whole number"):
            BatchPlan(10, bad, shuffle=True)
    make, _ = RUNS["full_batch_sgd"]
    assert isinstance(Stepper(make(), *data(), batch_size=4).plan, BatchPlan)


def test_recorded_steps_train_exactly_as_fit_and_say_where_they_are():
    make, settings = RUNS["adam_dropout_cosine"]
    X, y = data()
    fitted = make()
    fitted.fit(X, y, **settings)
    net = make()
    stepper = Stepper(net, X, y, **settings)
    while not stepper.finished:
        stepper.advance(1)                 # every step recorded
        r = stepper.last
        assert (r.step, r.epoch, r.batch, r.batches) == (stepper.steps, (r.step - 1) // 4 + 1,
                                                         (r.step - 1) % 4 + 1, 4)
        assert r.lr == pytest.approx(0.01 * 0.5 * (1 + np.cos(np.pi * (r.epoch - 1) / 3)))
        np.testing.assert_array_equal(r.X, X[r.rows])
    assert all(np.array_equal(p, q) for (_, p, _), (_, q, _) in
               zip(net.parameters(), fitted.parameters()))


def test_back_to_the_initial_weights_starts_the_same_run_again():
    make, settings = RUNS["adam_dropout_cosine"]
    X, y = data()
    net = make()
    initial = net.get_weights()
    stepper = Stepper(net, X, y, **settings)
    stepper.advance(5)
    after_five = net.get_weights()
    first_losses = list(stepper.losses)
    stepper.reset()
    assert all(np.array_equal(p, w) for (_, p, _), w in zip(net.parameters(), initial))
    assert stepper.steps == 0 and stepper.last is None and net.optimizer.t == 0
    stepper.advance(5)
    assert stepper.losses == first_losses
    assert all(np.array_equal(p, w) for (_, p, _), w in zip(net.parameters(), after_five))


def test_fit_never_records(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("fit recorded a step")
    monkeypatch.setattr(nncore.trace, "trace", refuse)
    monkeypatch.setattr(record_module, "_record", refuse)
    monkeypatch.setattr(record_module, "trace", refuse)
    make, settings = RUNS["adam_dropout_cosine"]
    make().fit(*data(), **settings)


# ------------------------------------------------------------------ bounds
def test_work_per_sample_counts_multiply_adds_and_bounds_are_sentences():
    dense = Network([Dense(784, 256, "relu"), Dense(256, 10, "softmax")])
    per_sample = 784 * 256 + 256 + 256 * 10 + 10                # a dense layer's parameters
    assert work_per_sample(dense) == per_sample
    conv = RUNS["cnn"][0]()
    assert work_per_sample(conv) == 2 * 9 * 4 * 4 + 8 * 3 + 3  # filters × pixels, then dense
    check_bounds(dense, 128, 400)
    too_many_rows = int(STEP_BOUNDS["max_step_work"] // per_sample) + 1
    with pytest.raises(StepTooLarge, match="use a batch size of at most"):
        check_bounds(dense, too_many_rows, 1)
    with pytest.raises(StepTooLarge, match="press Start"):
        check_bounds(dense, 1000, int(STEP_BOUNDS["max_press_work"] // (1000 * per_sample)) + 1)
    X, y = np.zeros((20_000, 784), np.float32), np.zeros(20_000, int)
    stepper = Stepper(dense, X, y, batch_size=None)
    with pytest.raises(StepTooLarge):
        stepper.advance(1)
    assert stepper.steps == 0
