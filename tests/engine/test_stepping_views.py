"""What step mode shows about a recorded step, checked against independent computations:
one neuron's sums (the seeds' equations entry by entry, a convolution's patch by loops),
the source lines (the files themselves), the gradient check (it fails on a broken
backward), the divergence diagnosis (an independent search for the first overflow), the
initialisation spreads and the 2-D unit maps (the forward pass written out)."""

import ast
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from nncore import ActivationLayer, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Network, Reshape
from nncore.initializers import INITIALIZERS
from nncore.stepping import (Stepper, check_gradients, diagnose_run, initial_spreads,
                             neuron_view, record_step, sources, unit_maps)
from nncore.stepping.gradcheck import PASS
from nncore.stepping.gradcheck import numeric_gradient as engine_numeric_gradient
from support.gradcheck import numeric_gradient as oracle_gradient
from nncore.stepping.initialisation import with_initialisation

ROOT = Path(__file__).resolve().parents[2]


def moons_like(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def seed003_net(l2=0.0, dtype=np.float64):
    return Network([Dense(2, 16, "relu"), Dense(16, 8, "tanh"), Dense(8, 1, "sigmoid")],
                   loss="binary_cross_entropy", l2=l2, seed=3, dtype=dtype,
                   optimizer={"name": "sgd", "lr": 1.0})


# ------------------------------------------------------------------ one neuron
def test_one_neurons_sums_are_the_seeds_equations_entry_by_entry():
    net = seed003_net(l2=0.01)
    X, y = moons_like()
    r = record_step(net, X, y)
    s1, s2 = r.stages[0], r.stages[1]
    n, j = 5, 3
    v = neuron_view(r, 2, j, n, max_terms=4)
    # z_j = Σ_i a_i W_ij + b_j with this sample's numbers
    products = s2.a_prev[n] * s2.W[:, j]
    assert v.z.n_terms == 16 and len(v.z.terms) == 4 and v.z.hidden == 12
    shown = sorted(np.abs(products))[::-1][:4]
    assert [abs(t.product) for t in v.z.terms] == pytest.approx(shown)
    assert v.z.rest == pytest.approx(products.sum() - sum(t.product for t in v.z.terms))
    assert v.z.total == pytest.approx(products.sum() + s2.b[j]) == pytest.approx(s2.z[n, j])
    assert v.a == pytest.approx(np.tanh(s2.z[n, j]))
    # dA_j = Σ_k δ^(3)_k W^(3)_jk, δ = dA · (1 − a²)
    s3 = r.stages[2]
    assert v.dA.total == pytest.approx(float(s3.delta[n] @ s3.W[j]))
    assert v.derivative == pytest.approx(1 - np.tanh(s2.z[n, j]) ** 2)
    assert v.delta == pytest.approx(v.dA.total * v.derivative)
    # dW_ij = Σ_n a_ni δ_nj / m + λ W_ij for the weight with the largest term in z
    i = v.weight[0]
    assert abs(products[i]) == pytest.approx(max(abs(products)))
    expected = s2.a_prev[:, i] @ s2.delta[:, j] / r.m + 0.01 * s2.W[i, j]
    assert v.dW.total == pytest.approx(expected) and v.dW.recorded == pytest.approx(expected)
    assert v.db.total == pytest.approx(s2.delta[:, j].mean())
    # written as the issue writes it
    text = v.z.text()
    assert re.fullmatch(r"(\(?−?[\d.e−]+\)? × \(?−?[\d.e−]+\)? \+ ){4}… 12 more terms "
                        r"\(−?[\d.e−]+\) \+ \(?−?[\d.e−]+\)? = −?[\d.e−]+", text), text
    assert v.activation_text().startswith("tanh → ")
    # the output unit: the loss's gradient, then δ
    out = neuron_view(r, 3, 0, n)
    assert out.dA is None and out.dA_value == pytest.approx(float(s3.dA[n, 0]))
    assert out.delta_text().startswith("δ = dA × σ'(z)")
    with pytest.raises(ValueError, match="unit must index"):
        neuron_view(r, 1, 16, 0)
    assert s1.z.shape == (40, 16)


def test_a_convolution_unit_sums_its_patch():
    net = Network([Reshape((2, 5, 5)), Conv2D(2, 3, 3, stride=2, padding=1, activation="relu"),
                   Flatten(), Dense(27, 2, "softmax")], seed=1, dtype=np.float64)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(3, 50)), rng.integers(0, 2, 3)
    r = record_step(net, X, y)
    conv = r.stages[0]
    f, yy, xx, n = 2, 1, 2, 1
    v = neuron_view(r, 1, (f, yy, xx), n, max_terms=100)
    images = X.reshape(3, 2, 5, 5)
    total = conv.b[f]
    for c in range(2):
        for i in range(3):
            for j in range(3):
                row, col = 2 * yy + i - 1, 2 * xx + j - 1
                if 0 <= row < 5 and 0 <= col < 5:
                    total += conv.W[f, c, i, j] * images[n, c, row, col]
    assert v.z.n_terms == 18 and v.z.total == pytest.approx(total)
    assert v.z.recorded == pytest.approx(total)
    # one kernel entry's gradient: a sum over the batch and the 3 × 3 output positions
    assert v.dW.n_terms == 3 * 9
    c, i, j = v.weight
    assert v.dW.total == pytest.approx(conv.dW[f, c, i, j])


# ------------------------------------------------------------------ source lines
def test_the_source_lines_are_the_files_lines_and_compute_the_equation():
    net = Network([Dense(2, 4, "relu"), Dropout(0.2), Dense(4, 3, "softmax")], l2=0.1,
                  optimizer={"name": "adam"})
    src = sources(net)
    expected = {"z": "a_prev @ self.W", "dW": "self.dW /= m", "db": "np.sum(delta",
                "dA_prev": "delta @ self.W.T", "delta": "self.activation.backward",
                "dropout": "scaled_mask"}
    for eq, code in expected.items():
        blocks = src[1][eq]
        assert blocks[0].exact and any(code in line for b in blocks for line in b.lines), eq
    assert src[1]["a"][1].function == "ReLU.forward"
    assert src[2]["a"][1].function == "Softmax.forward"
    assert src["loss"]["loss"][0].function == "SoftmaxCrossEntropy.forward"
    assert "dA_is_delta=True" in "".join(src["loss"]["delta"][0].lines)
    assert src["update"]["step"][0].function == "Adam._step_fused"
    assert "self.l2 * layer.W" in src["l2"]["l2"][0].lines[0]
    for blocks in [*src[1].values(), *src["update"].values(), *src["loss"].values()]:
        for b in blocks:     # file, line numbers and text: the file's own
            lines = (ROOT / b.file).read_text().splitlines()
            assert list(b.lines) == lines[b.first - 1:b.last], b.where()
            assert b.numbered().splitlines()[0].startswith(str(b.first))


def test_the_source_lines_follow_the_code_that_runs():
    class LoopDense(Dense):
        def forward(self, a_prev, training=False):
            z = np.einsum("mi,ij->mj", a_prev, self.W)
            z = z + self.b
            self.a_prev, self.z, self.a = a_prev, z, self.activation.forward(z)
            return self.a

    net = Network([LoopDense(2, 3, "tanh"), Dense(3, 2, "softmax")], seed=0)
    z = sources(net)[1]["z"]
    here = Path(__file__).resolve().relative_to(ROOT).as_posix()
    assert z[0].file == here and z[0].function.endswith("LoopDense.forward")
    assert not z[0].exact and any("einsum" in line for line in z[0].lines)   # whole function
    assert sources(net)[2]["z"][0].exact


def test_conv_and_pool_sources_come_from_the_functions_that_ran():
    net = Network([Reshape((1, 4, 4)), Conv2D(1, 2, 3, padding=1), ActivationLayer("tanh"),
                   MaxPool2D(2), Flatten(), Dense(8, 2, "softmax")])
    src = sources(net)
    assert src[1]["z"][0].function == "Conv2D.forward"
    assert src[1]["a"][-1].function == "Tanh.forward"      # the separate activation layer
    assert src[2]["pool"][0].function == "MaxPool2D.forward"
    assert src[2]["pool_back"][0].function == "MaxPool2D.backward"


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_a_fast_path_shows_its_own_lines_and_the_plain_path_none_of_them(fast, monkeypatch):
    """A conv of two input channels and a 2×2 pool take their fast paths unless ``fast`` is
    off: the lines shown are those of the path that runs, as the files hold them."""
    monkeypatch.setattr(Conv2D, "fast", fast)
    monkeypatch.setattr(MaxPool2D, "fast", fast)
    net = Network([Reshape((2, 4, 4)), Conv2D(2, 3, 3, padding=1, activation="relu"),
                   MaxPool2D(2), Flatten(), Dense(12, 2, "softmax")])
    src = sources(net)
    conv, pool = src[1], src[2]
    for blocks in [*conv.values(), *pool.values()]:
        assert all(b.exact for b in blocks)
        for b in blocks:
            lines = (ROOT / b.file).read_text().splitlines()
            assert list(b.lines) == lines[b.first - 1:b.last], b.where()
    text = {eq: "\n".join(line for b in blocks for line in b.lines) for eq, blocks in
            [*conv.items(), *pool.items()]}
    for eq in ("z", "dW", "dA_prev"):
        assert ("self.shifted" in text[eq]) == fast, eq
    assert ("im2col(x, self.kh" in text["z"]) != fast and "z += self.b" in text["z"]
    assert ("col2im(dcols, self.x.shape" in text["dA_prev"]) != fast
    assert ("np.maximum(left, right)" in text["pool"]) == fast
    assert ("np.maximum(best, candidate" in text["pool"]) != fast
    assert ("_backward_2x2" in {b.function.split(".")[-1] for b in pool["pool_back"]}) == fast


# ------------------------------------------------------------------ gradient check
def test_gradient_check_passes_on_the_engine_and_fails_on_a_broken_backward(monkeypatch):
    X, y = moons_like(12)
    for net in (seed003_net(l2=0.05, dtype=np.float32),
                Network([Dense(2, 6, "tanh"), Dropout(0.3), Dense(6, 2, "softmax")], seed=2)):
        checks = check_gradients(net, X, y, max_entries=6)
        assert len(checks) == 2 * sum(isinstance(l, Dense) for l in net.layers)
        for c in checks:
            assert c.verdict == "pass" and c.error < PASS, (c.name, c.error)
            assert len(c.entries) == min(6, int(np.prod(c.shape)))
        assert net.dtype == np.float32                # the network itself is untouched
    cnn = Network([Reshape((1, 4, 4)), Conv2D(1, 2, 3, padding=1, activation="tanh"),
                   MaxPool2D(2), Flatten(), Dense(8, 2, "softmax")], seed=4)
    rng = np.random.default_rng(0)
    assert all(c.verdict == "pass" for c in check_gradients(cnn, rng.normal(size=(5, 16)),
                                                             rng.integers(0, 2, 5)))
    # a ReLU input at exactly 0 (a zero input row, zero biases): a kink, set apart
    kinked = Network([Dense(2, 3, "relu"), Dense(3, 2, "softmax")], seed=5)
    X0 = np.vstack([np.zeros((1, 2)), X[:5]])
    checks = {c.name: c for c in check_gradients(kinked, X0, np.r_[1, y[:5]])}
    b = checks["layer0.b"]
    assert len(b.kinks) == 3 and b.verdict == "on kinks"  # every unit's z is 0 for row 0 …
    assert np.max(np.abs(b.backprop - b.numeric)) > 100 * PASS * np.max(np.abs(b.backprop))
    assert checks["layer0.W"].verdict == "pass" and not checks["layer0.W"].kinks  # … not W's
    backward = Dense.backward

    def off_by_one_percent(self, dA, dA_is_delta=False):
        out = backward(self, dA, dA_is_delta)
        self.dW *= 1.01
        return out
    monkeypatch.setattr(Dense, "backward", off_by_one_percent)
    checks = check_gradients(seed003_net(), X, y)
    assert {c.name: c.verdict for c in checks}["layer0.W"] == "fail"


def test_the_gradient_oracle_is_the_tests_own():
    """tests/support/gradcheck.py imports nothing of the engine: the reference answer of
    every gradient test is not code under test."""
    oracle = ROOT / "tests" / "support" / "gradcheck.py"
    imported = [alias.name for node in ast.walk(ast.parse(oracle.read_text()))
                if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module for node in ast.walk(ast.parse(oracle.read_text()))
                 if isinstance(node, ast.ImportFrom)]
    assert imported == ["numpy"], imported


def cnn_with_every_layer(dtype):
    return Network([Reshape((2, 4, 4)), Conv2D(2, 3, 3, padding=1, activation="tanh"),
                    MaxPool2D(2), Flatten(), Dense(12, 5, "sigmoid"), Dense(5, 3, "softmax")],
                   loss="softmax_cross_entropy", l2=0.05, seed=1, dtype=dtype)


def test_the_pages_gradient_check_agrees_with_the_tests_own_finite_differences():
    """check_gradients (what step mode runs) against tests/support/gradcheck.py: at every
    entry it checks, its numeric derivative and backprop's are the oracle's derivative of
    the loss of a whole forward pass (its own passes start at the perturbed layer)."""
    net = cnn_with_every_layer(np.float32)
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(4, 32)), np.array([0, 2, 1, 2])
    checks = check_gradients(net, X, y, max_entries=7)
    reference = cnn_with_every_layer(np.float64)
    reference.set_weights(net.get_weights())
    Y = reference._targets(y, len(X))
    params = {f"layer{i}.{name}": p for i, layer in enumerate(reference.layers)
              for name, p, _ in layer.parameters()}
    assert [c.name for c in checks] == list(params)
    loss = lambda: reference.compute_loss(reference.forward(X, True), Y)
    for c in checks:
        at = oracle_gradient(loss, params[c.name])[tuple(np.array(c.entries).T)]
        assert len(c.entries) == min(7, params[c.name].size) and not c.kinks
        assert np.allclose(c.numeric, at, rtol=1e-7, atol=1e-9), c.name
        assert np.allclose(c.backprop, at, rtol=1e-5, atol=1e-8), c.name
    # and the engine's own central differences, at the entries it is asked for
    W, some = params["layer1.W"], [(0, 1, 2, 2), (2, 0, 0, 1)]
    engine = engine_numeric_gradient(loss, W, entries=some)
    where = tuple(np.array(some).T)
    assert np.allclose(engine[where], oracle_gradient(loss, W)[where], rtol=1e-7, atol=1e-9)
    assert np.count_nonzero(engine) == len(some)           # the others stay 0


def test_a_few_entries_of_a_large_layer_are_drawn_without_listing_them_all():
    """Two entries of a 1024 × 1024 layer: the check's memory is of the order of the
    network's parameters (it used to make a tuple for each of the million entries)."""
    net = Network([Dense(4, 1024, "tanh"), Dense(1024, 1024, "tanh"), Dense(1024, 2, "softmax")],
                  seed=0)
    X, y = np.random.default_rng(0).normal(size=(2, 4)), np.array([0, 1])
    float64_bytes = 8 * sum(p.size for _, p, _ in net.parameters())
    tracemalloc.start()
    try:
        checks = check_gradients(net, X, y, max_entries=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [len(c.entries) for c in checks] == [2] * 6 and checks[2].sampled
    assert all(c.verdict == "pass" for c in checks)
    assert peak < 8 * float64_bytes, (peak, float64_bytes)


# ------------------------------------------------------------------ divergence
def diverging_net():
    return Network([Dense(2, 8, "relu"), Dense(8, 1, "linear")], loss="mse",
                   optimizer={"name": "sgd", "lr": 3.0}, seed=0)


def first_overflow_written_out(X, y):
    """Step with the network's plain training step and look, with the seeds' forward pass
    written out, for the first step whose z, loss or new weights are not finite."""
    net = diverging_net()
    Y = y.reshape(-1, 1).astype(np.float32)
    with np.errstate(all="ignore"):
        for step in range(1, 200):
            (W1, b1), (W2, b2) = [(l.W.copy(), l.b.copy()) for l in net.layers]
            z1 = X @ W1 + b1
            z2 = np.maximum(z1, 0) @ W2 + b2
            net._step(X, Y)
            if not (np.isfinite(z1).all() and np.isfinite(z2).all()
                    and all(np.isfinite(p).all() for _, p, _ in net.parameters())):
                return step, [W1, b1, W2, b2]
    raise AssertionError("did not diverge")


def test_a_diverging_step_is_undone_and_explained_with_its_numbers():
    X, y = moons_like(32)
    X = (X * 3).astype(np.float32)
    step, weights_before = first_overflow_written_out(X, y)
    net = diverging_net()
    stepper = Stepper(net, X, y, epochs=500, batch_size=None, shuffle=False)
    taken = 0
    while stepper.diverged is None:
        taken += stepper.advance(7)
    d = stepper.diverged
    assert taken == step - 1 and d.step == step and stepper.steps == step - 1
    # the last good weights stay: those from before the step that overflowed
    assert all(np.array_equal(p, w) for (_, p, _), w in zip(net.parameters(), weights_before))
    assert d.where in ("z", "a", "loss", "dA", "delta", "dW", "db", "update")
    assert d.lr == 3.0 and d.retry_lr == pytest.approx(0.3)
    assert f"(step {step})" in d.sentence and "learning rate 3" in d.sentence
    assert re.search(r"\d\.?\d*e\d+", d.sentence), d.sentence    # the numbers, e.g. 3.1e38
    assert stepper.advance(1) == 0 and "overflowed" in stepper.why_not()
    assert stepper.last is not None and stepper.last.step == step - 1
    # a normal run that diverged: replayed from the same initial weights, the same step
    replayed = diagnose_run(diverging_net, X, y, epochs=500, batch_size=None, shuffle=False)
    assert replayed.step == step and replayed.sentence == d.sentence
    stepper.reset()
    assert stepper.diverged is None and stepper.advance(1) == 1


# ------------------------------------------------------------------ initialisation
def test_initial_spreads_per_initialisation_are_the_forward_pass_written_out():
    deep = Network([Dense(2, 32, "tanh")] + [Dense(32, 32, "tanh") for _ in range(4)]
                   + [Dense(32, 2, "softmax")], seed=7)
    X, y = moons_like(64)
    spreads = initial_spreads(deep, X, y)
    assert [s.init for s in spreads] == list(INITIALIZERS)
    for s in spreads:
        net = with_initialisation(deep, s.init, 7)
        a = X.astype(np.float32)
        for spread, layer in zip(s.layers, net.layers):
            z = a @ layer.W + layer.b
            if layer.activation.name == "tanh":
                a = np.tanh(z)
            else:
                a = np.exp(z - z.max(1, keepdims=True))
                a /= a.sum(1, keepdims=True)
            assert spread.a_std == pytest.approx(float(np.std(a.astype(np.float64))), rel=1e-4)
            assert spread.grad_std > 0 and sum(spread.a_hist[0]) == a.size
            if spread.activation == "tanh":     # σ' = 1 − a² below 2 %: saturated
                assert spread.stuck_share == pytest.approx(np.mean(1 - a.astype(float) ** 2 < 0.02))
    by = {s.init: s.layers for s in spreads}
    # N(0, 0.1²) weights: the gradients reaching the first layer are 30× smaller than
    # Glorot's; N(0, 1) weights: the deep tanh units sit on their flat ends
    assert by["normal-0.1"][0].grad_std < 0.1 * by["glorot"][0].grad_std
    assert by["normal-1"][4].stuck_share > 0.5 > by["glorot"][4].stuck_share
    assert by["normal-1"][4].a_std > 0.85 and by["glorot"][4].a_std < 0.35


# ------------------------------------------------------------------ unit maps
def test_unit_maps_are_every_units_output_over_the_plane():
    net = seed003_net(dtype=np.float32)
    X, _ = moons_like()
    maps = unit_maps(net, X, resolution=9)
    assert [l.maps.shape for l in maps.layers] == [(2, 9, 9), (16, 9, 9), (8, 9, 9), (1, 9, 9)]
    gx, gy = np.meshgrid(maps.xs, maps.ys)
    a1 = np.maximum(np.stack([gx.ravel(), gy.ravel()], 1) @ net.layers[0].W + net.layers[0].b, 0)
    np.testing.assert_allclose(maps.layers[1].maps[5], a1[:, 5].reshape(9, 9), rtol=1e-6)
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    np.testing.assert_allclose(maps.layers[3].maps[0].ravel(), net.predict_proba(grid)[:, 1],
                               rtol=1e-6)          # the output unit's map: the boundary
    np.testing.assert_array_equal(maps.layers[2].weights, net.layers[1].W)
    assert maps.layers[0].maps[0][0, -1] == maps.xs[-1] and maps.layers[0].maps[1][-1, 0] == maps.ys[-1]
    with pytest.raises(ValueError, match="2 inputs"):
        unit_maps(Network([Dense(3, 2, "softmax")]), np.zeros((4, 3)))


def test_a_recorded_step_is_bounded_by_what_it_would_keep():
    """Step mode refuses, with a sentence and before any work, a batch whose recorded step
    would keep more than STEP_BOUNDS["max_record_bytes"]; the record of a step it allows
    stays within that bound, measured."""
    import pytest
    from nncore import Dense, Network
    from nncore.stepping import STEP_BOUNDS, Stepper, StepTooLarge, check_bounds
    rng = np.random.default_rng(0)
    net = Network([Dense(784, 256, "relu"), Dense(256, 128, "relu"), Dense(128, 10, "softmax")],
                  optimizer={"name": "adam", "lr": 1e-3}, seed=0)
    with pytest.raises(StepTooLarge, match="MB of numbers.*at most"):
        check_bounds(net, 8_000, 1)
    X = rng.random((512, 784), dtype=np.float32)
    y = rng.integers(0, 10, 512)
    stepper = Stepper(net, X, y, epochs=1, batch_size=512, seed=0)
    stepper.advance(1)
    kept = sum(v.nbytes for v in _arrays(stepper.last))
    assert 0 < kept <= STEP_BOUNDS["max_record_bytes"]


def _arrays(value, seen=None):
    """Every NumPy array reachable from a record's fields (lists, tuples, dicts, objects)."""
    seen = seen if seen is not None else set()
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays(v, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays(v, seen)
    elif hasattr(value, "__dict__") and type(value).__module__.startswith("nncore.stepping"):
        for v in vars(value).values():
            yield from _arrays(v, seen)
