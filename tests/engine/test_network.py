"""The Network: building, determinism, errors that name the problem, training controls,
callbacks and History, inference helpers, dtype."""

import threading
import time

import numpy as np
import pytest

from nncore import (ActivationLayer, Dense, Dropout, Network, TrainingControl,
                    TrainingDiverged, TrainingError)
from nncore.optimizers import SGD


def blobs(n=120, k=3, d=2, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(0, 0.6, (n, d)) + np.eye(k, d)[y] * 3
    return X.astype(np.float32), y


def small_net(seed=0, **kw):
    return Network([Dense(2, 8, "relu"), Dropout(0.2), Dense(8, 3, "softmax")],
                   optimizer={"name": "adam", "lr": 0.01}, seed=seed, **kw)


# ------------------------------------------------------------------ building
def test_from_architecture_accepts_both_seed_dialects():
    seed000 = Network.from_architecture([{"in": 784, "out": 16, "activation": "relu"},
                                         {"in": 16, "out": 10, "activation": "sigmoid"}],
                                        loss="mse_sum")
    seed003 = Network.from_architecture([{"input_dim": 2, "output_dim": 16, "activation": "relu"},
                                         {"input_dim": 16, "output_dim": 1, "activation": "sigmoid",
                                          "dropout": 0.0}], loss="bce")
    assert [(l.W.shape, l.activation.name) for l in seed000.layers] == [((784, 16), "relu"),
                                                                       ((16, 10), "sigmoid")]
    assert [(l.W.shape, l.activation.name) for l in seed003.layers] == [((2, 16), "relu"),
                                                                       ((16, 1), "sigmoid")]
    assert seed000.loss.name == "mse_sum" and seed003.loss.name == "binary_cross_entropy"
    with_dropout = Network.from_architecture([{"in": 4, "out": 3, "dropout": 0.5},
                                              {"in": 3, "out": 2, "activation": "softmax"}])
    assert [type(l).__name__ for l in with_dropout.layers] == ["Dense", "Dropout", "Dense"]
    assert with_dropout.n_parameters() == 4 * 3 + 3 + 3 * 2 + 2


@pytest.mark.parametrize("arch, message", [
    ([], "non-empty list"),
    ([{"in": 2}], "needs its sizes"),
    (["dense"], "must be a dict"),
    ([{"in": 2, "out": 3}, {"in": 4, "out": 1}], "expects 4 inputs, but the layer before it gives 3"),
    ([{"in": 2, "out": 0}], "out_features must be a whole number ≥ 1"),
    ([{"in": 2, "out": 3, "activation": "swish"}], "Unknown activation 'swish'"),
    ([{"in": 2, "out": 3, "init": "xavier"}], "Unknown initialisation 'xavier'"),
])
def test_bad_architectures_are_named(arch, message):
    with pytest.raises(ValueError) as err:
        Network.from_architecture(arch)
    assert message in str(err.value)


def test_add_checks_shapes_and_types():
    net = Network().add(Dense(2, 3))
    with pytest.raises(ValueError, match=r"Layer 2 \(Dense\) expects 4 inputs, but the layer before it gives 3"):
        net.add(Dense(4, 1))
    with pytest.raises(ValueError, match="add\\(\\) takes a Layer, got str"):
        net.add("relu")
    net.add(ActivationLayer("tanh")).add(Dense(3, 1))   # activation layers keep the width
    assert net.output_shape == (1,)


def test_add_and_use_build_the_same_network_as_the_constructor():
    """Seed 001 builds with add() and use(); with a seed and a dtype that must give exactly
    what Network(layers, seed=…, dtype=…) gives."""
    def layers():
        return [Dense(2, 3, init="uniform-0.5"), ActivationLayer("tanh"),
                Dense(3, 1, init="uniform-0.5"), ActivationLayer("tanh")]
    built = Network(seed=5, dtype=np.float64, optimizer=SGD(0.1))
    for layer in layers():
        built.add(layer)
    built.use("mse")
    direct = Network(layers(), loss="mse", seed=5, dtype=np.float64)
    for (_, p, _), (_, q, _) in zip(built.parameters(), direct.parameters()):
        assert p.dtype == np.float64
        assert np.array_equal(p, q)
    unseeded = Network(dtype=np.float64).add(Dense(2, 2))
    assert unseeded.layers[0].W.dtype == np.float64


def test_unknown_names_are_named():
    with pytest.raises(ValueError, match="Unknown activation 'gelu'.*relu"):
        Dense(2, 2, "gelu")
    with pytest.raises(ValueError, match="Unknown activation 'gelu'"):
        ActivationLayer("gelu")
    with pytest.raises(ValueError, match="Unknown loss 'hinge'"):
        Network(loss="hinge")
    with pytest.raises(ValueError, match="Unknown optimizer 'rmsprop'"):
        Network(optimizer="rmsprop")
    with pytest.raises(ValueError, match="Unknown initialisation 'zeros'"):
        Dense(2, 2, init="zeros")
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        Network(dtype=np.float16)
    with pytest.raises(ValueError, match="l2 must be a non-negative number"):
        Network(l2=-1)
    with pytest.raises(ValueError, match=r"Dropout rate must be in \[0, 1\)"):
        Dropout(1.0)


# ------------------------------------------------------------------ determinism
def _fit_weights(seed, fit_seed=None):
    X, y = blobs()
    net = small_net(seed)
    net.fit(X, y, epochs=3, batch_size=16, seed=fit_seed)
    return [p.copy() for _, p, _ in net.parameters()]


def test_same_seed_same_data_gives_bit_identical_weights():
    a, b = _fit_weights(7), _fit_weights(7)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_a_different_seed_gives_different_weights():
    a, b = _fit_weights(7), _fit_weights(8)
    assert not any(np.array_equal(p, q) for p, q in zip(a, b) if p.size > 3)
    # the same initial weights with a different shuffling/dropout seed also differ
    c = _fit_weights(7, fit_seed=99)
    assert not np.array_equal(a[0], c[0])


# ------------------------------------------------------------------ bad input
@pytest.fixture
def trained():
    X, y = blobs()
    net = small_net()
    net.fit(X, y, epochs=1)
    return net, X, y


def test_wrong_input_width(trained):
    net, X, y = trained
    with pytest.raises(ValueError, match=r"expects inputs with 2 features, got an array of shape \(5, 3\)"):
        net.predict(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="expects inputs with 2 features"):
        net.fit(np.zeros((5, 3)), np.zeros(5, int))


def test_nan_and_infinite_inputs(trained):
    net, X, y = trained
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.fit(bad, y)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.predict(bad)
    with pytest.raises(ValueError, match="targets contain NaN"):
        Network([Dense(2, 1, "linear")], loss="mse").fit(X[:2], np.array([[1.0], [np.nan]]))


def test_empty_data_set(trained):
    net, X, y = trained
    with pytest.raises(ValueError, match="data set is empty"):
        net.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="data set is empty"):
        net.evaluate(X[:0], y[:0])


def test_text_inputs_are_refused(trained):
    net, _, _ = trained
    with pytest.raises(ValueError, match="Inputs must be numbers"):
        net.predict(np.array([["a", "b"]]))


def test_labels_out_of_range_and_not_whole(trained):
    net, X, y = trained
    with pytest.raises(ValueError, match=r"Labels must lie in 0…2 for a network with 3 outputs, found labels from 0 to 3"):
        net.fit(X, np.where(y == 2, 3, y))
    with pytest.raises(ValueError, match="found labels from -1"):
        net.fit(X, y - 1)
    with pytest.raises(ValueError, match="whole numbers"):
        net.fit(X, y + 0.5)
    with pytest.raises(ValueError, match="whole numbers"):
        net.fit(X, np.array(["cat"] * len(X)))
    with pytest.raises(ValueError, match=f"Got {len(X)} samples but 5 targets"):
        net.fit(X, y[:5])
    binary = Network([Dense(2, 1, "sigmoid")], loss="bce", seed=0)
    with pytest.raises(ValueError, match=r"Labels must lie in 0…1 for a network with 1 output,"):
        binary.fit(X, y)


def test_loss_and_output_layer_must_fit_together():
    X, y = blobs()
    with pytest.raises(TrainingError, match="binary_cross_entropy needs a single sigmoid output unit, but the network has 3 outputs"):
        Network([Dense(2, 3, "sigmoid")], loss="bce").fit(X, y)
    with pytest.raises(TrainingError, match="'softmax_cross_entropy' needs a softmax output layer, but the last layer's activation is 'sigmoid'"):
        Network([Dense(2, 3, "sigmoid")], loss="softmax_cross_entropy").fit(X, y)
    with pytest.raises(TrainingError, match="needs a sigmoid output layer"):
        Network([Dense(2, 1, "linear")], loss="bce").train_step(X, y % 2)
    with pytest.raises(TrainingError, match="no layers"):
        Network().fit(X, y)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_bad_epochs_and_batch_sizes(bad):
    X, y = blobs()
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        small_net().fit(X, y, epochs=bad)
    with pytest.raises(ValueError, match="batch_size must be a whole number ≥ 1"):
        small_net().fit(X, y, epochs=1, batch_size=bad)


# ------------------------------------------------------------------ divergence
def _regression(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    return X, (X @ np.array([[3.0], [-2.0], [1.0]])).astype(np.float32) * 10


def test_divergence_in_the_first_epoch_keeps_the_initial_weights():
    X, Y = _regression()
    net = Network([Dense(3, 8, "relu"), Dense(8, 1, "linear")], loss="mse",
                  optimizer=SGD(50.0), seed=0)
    initial = [p.copy() for _, p, _ in net.parameters()]
    with pytest.raises(TrainingDiverged) as err:
        net.fit(X, Y, epochs=5, batch_size=8)
    e = err.value
    assert e.suggested_lr == pytest.approx(5.0)
    assert "learning rate 50 is too large" in str(e) and "try 5" in str(e)
    assert "kept the initial weights" in str(e)
    assert e.history.stop_reason.startswith("diverged at epoch 1")
    for (_, p, _), q in zip(net.parameters(), initial):
        assert np.isfinite(p).all() and np.array_equal(p, q)
    # the suggested rate trains
    net.optimizer.lr = 1e-3
    net.fit(X, Y, epochs=2, batch_size=8)


def test_divergence_later_keeps_the_weights_of_the_last_good_epoch():
    X, Y = _regression(1)
    net = Network([Dense(3, 8, "tanh"), Dense(8, 1, "linear")], loss="mse",
                  optimizer=SGD(1e-3), seed=0)
    snapshots = {}

    def sabotage(event):
        if event.kind == "epoch_end":
            snapshots[event.epoch] = [p.copy() for _, p, _ in net.parameters()]
        if event.kind == "batch_end" and event.epoch == 3 and event.batch == 2:
            net.optimizer.lr = 1e12           # from the next batch on, the steps explode
    with pytest.raises(TrainingDiverged) as err:
        net.fit(X, Y, epochs=6, batch_size=8, callbacks=[sabotage])
    assert "weights from the end of epoch 2" in str(err.value)
    assert err.value.suggested_lr == pytest.approx(1e11)
    assert sorted(snapshots) == [1, 2]
    for (_, p, _), q in zip(net.parameters(), snapshots[2]):
        assert np.isfinite(p).all() and np.array_equal(p, q)
    assert net.optimizer.lr == 1e-3          # the base rate is restored


def test_train_step_divergence_keeps_the_weights_from_before_the_step():
    X, Y = _regression(2)
    net = Network([Dense(3, 4, "relu"), Dense(4, 1, "linear")], loss="mse",
                  optimizer=SGD(1e3), seed=0)
    with pytest.raises(TrainingDiverged) as err:
        for _ in range(50):
            before = [p.copy() for _, p, _ in net.parameters()]
            net.train_step(X, Y)
    assert err.value.suggested_lr == pytest.approx(100.0)
    assert "try 100" in str(err.value) and "its weights from before this step" in str(err.value)
    for (_, p, _), q in zip(net.parameters(), before):
        assert np.isfinite(p).all() and np.array_equal(p, q)


# ------------------------------------------------------------------ callbacks and History
def test_callbacks_receive_sensible_events():
    X, y = blobs(n=100)
    net = small_net()
    events = []
    h = net.fit(X, y, epochs=3, batch_size=32, callbacks=[events.append])
    kinds = [e.kind for e in events]
    assert kinds == (["batch_end"] * 4 + ["epoch_end"]) * 3 + ["train_end"]
    batch_events = [e for e in events if e.kind == "batch_end"]
    assert [(e.epoch, e.batch) for e in batch_events[:5]] == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1)]
    assert all(e.batches == 4 and e.epochs == 3 for e in batch_events)
    assert [e.samples_seen for e in batch_events[:4]] == [32, 64, 96, 100]
    assert [e.loss for e in batch_events] == h.batch_loss
    elapsed = [e.elapsed for e in events]
    assert all(b >= a for a, b in zip(elapsed, elapsed[1:])) and elapsed[-1] > 0
    ends = [e for e in events if e.kind == "epoch_end"]
    assert [e.epoch for e in ends] == [1, 2, 3]
    assert [e.loss for e in ends] == h.train_loss
    last = events[-1]
    assert last.stop_reason == "finished" and last.samples_seen == 300 and last.history is h
    assert last.elapsed == pytest.approx(sum(h.seconds))


def test_history_values_match_independent_computations():
    """Full batch: each epoch's train loss/accuracy are those of the weights before that
    epoch's single step; validation figures are those after it."""
    X, y = blobs(n=90, seed=1)
    Xv, yv = blobs(n=30, seed=2)
    net = Network([Dense(2, 6, "tanh"), Dense(6, 3, "softmax")], optimizer=SGD(0.5), seed=3,
                  dtype=np.float64)
    expected_loss, expected_acc, expected_val = [], [], []
    probe = net.copy()
    for _ in range(4):
        p = probe.forward(X.astype(np.float64))
        expected_loss.append(-np.mean(np.log(p[np.arange(len(y)), y])))
        expected_acc.append(np.mean(p.argmax(1) == y))
        probe.train_step(X, y)
        q = probe.forward(Xv.astype(np.float64))
        expected_val.append((-np.mean(np.log(q[np.arange(len(yv)), yv])), np.mean(q.argmax(1) == yv)))
    h = net.fit(X, y, epochs=4, batch_size=None, validation_data=(Xv, yv))
    assert h.epoch == [1, 2, 3, 4]
    np.testing.assert_allclose(h.train_loss, expected_loss, rtol=1e-12)
    assert h.train_accuracy == pytest.approx(expected_acc)
    np.testing.assert_allclose(h.val_loss, [v[0] for v in expected_val], rtol=1e-12)
    assert h.val_accuracy == pytest.approx([v[1] for v in expected_val])
    assert h.lr == [0.5] * 4 and len(h.seconds) == 4 and all(s > 0 for s in h.seconds)
    assert h.stop_reason == "finished" and net.history is h
    assert h.seconds_per_epoch == pytest.approx(sorted(h.seconds)[1] / 2 + sorted(h.seconds)[2] / 2)
    d = h.as_dict()
    assert d["train_loss"] == h.train_loss and d["stop_reason"] == "finished"


def test_train_loss_is_the_sample_weighted_mean_of_batch_losses():
    X, y = blobs(n=70)
    net = small_net()
    h = net.fit(X, y, epochs=1, batch_size=32)            # batches of 32, 32, 6
    weighted = (32 * h.batch_loss[0] + 32 * h.batch_loss[1] + 6 * h.batch_loss[2]) / 70
    assert h.train_loss[0] == pytest.approx(weighted)


# ------------------------------------------------------------------ controls
def _run_in_thread(target):
    result = {}

    def run():
        try:
            result["history"] = target()
        except BaseException as exc:   # surfaced in the test thread
            result["error"] = exc
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def test_stop_from_another_thread_stops_between_batches():
    X, y = blobs(n=400)
    net = small_net()
    control = TrainingControl()
    at_batch_3, stopped = threading.Event(), threading.Event()

    def callback(event):
        if event.kind == "batch_end" and event.epoch == 2 and event.batch == 3:
            at_batch_3.set()
            assert stopped.wait(5)

    def stopper():
        assert at_batch_3.wait(10)
        control.stop()                # from this other thread
        stopped.set()
    threading.Thread(target=stopper, daemon=True).start()
    events = []
    h = net.fit(X, y, epochs=5, batch_size=20, control=control,
                callbacks=[callback, events.append])
    assert h.stop_reason == "stopped by the user"
    assert len(h.batch_loss) == 20 + 3            # epoch 1 whole, then three batches
    assert h.epoch == [1, 2]                      # the partial epoch is recorded …
    assert h.train_loss[1] == pytest.approx(np.mean(h.batch_loss[20:]))   # … over its 60 samples
    assert events[-1].kind == "train_end" and events[-1].stop_reason == "stopped by the user"
    assert events[-1].samples_seen == 460
    assert control.stopped


def test_pause_blocks_and_resume_continues():
    X, y = blobs(n=200)
    net = small_net()
    control = TrainingControl()
    control.pause()
    assert control.paused
    batches = []
    t, result = _run_in_thread(lambda: net.fit(X, y, epochs=2, batch_size=50, control=control,
                                               callbacks=[batches.append]))
    time.sleep(0.6)
    assert batches == [] and t.is_alive()          # nothing happens while paused
    control.resume()
    t.join(20)
    assert not t.is_alive() and "error" not in result
    h = result["history"]
    assert h.stop_reason == "finished" and len(h.batch_loss) == 8
    assert h.seconds[0] < 0.5                       # the pause is not counted as training


def test_stop_while_paused_wakes_the_run():
    X, y = blobs(n=100)
    control = TrainingControl()
    control.pause()
    t, result = _run_in_thread(lambda: small_net().fit(X, y, epochs=3, control=control))
    time.sleep(0.3)
    control.stop()
    t.join(10)
    assert not t.is_alive()
    h = result["history"]
    assert h.stop_reason == "stopped by the user" and h.batch_loss == [] and h.epoch == []


def test_weights_lock_keeps_readers_from_half_updated_weights():
    X, y = blobs(n=100)
    net = small_net()
    control = TrainingControl()
    batches = []
    with control.weights_lock:       # a reader holds the weights …
        t, result = _run_in_thread(lambda: net.fit(X, y, epochs=1, batch_size=25, control=control,
                                                   callbacks=[batches.append]))
        time.sleep(0.3)
        assert batches == []         # … so no step can happen
    t.join(10)
    assert sum(e.kind == "batch_end" for e in batches) == 4
    assert result["history"].stop_reason == "finished"


# ------------------------------------------------------------------ inference and description
def test_predict_proba_predict_score_evaluate():
    X, y = blobs(n=300)
    net = small_net()
    net.fit(X, y, epochs=20, batch_size=32)
    p = net.predict_proba(X)
    assert p.shape == (300, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert np.array_equal(net.predict(X), p.argmax(1))
    acc = np.mean(net.predict(X) == y)
    assert acc > 0.9
    assert net.score(X, y) == pytest.approx(acc)
    ev = net.evaluate(X, y)
    assert ev["accuracy"] == pytest.approx(acc)
    assert ev["loss"] == pytest.approx(-np.mean(np.log(np.clip(p[np.arange(300), y], 1e-7, 1))), rel=1e-5)
    # one sample as a 1-D vector
    assert net.predict(X[0]).shape == (1,)


def test_predict_proba_of_non_probability_outputs():
    sig = Network([Dense(2, 1, "sigmoid")], loss="bce", seed=0)
    p = sig.predict_proba(np.array([[0.0, 0.0], [5.0, 5.0]]))
    out = sig.decision_function(np.array([[0.0, 0.0], [5.0, 5.0]]))[:, 0]
    assert np.allclose(p, np.stack([1 - out, out], 1))
    tanh = Network([Dense(2, 3, "tanh")], loss="mse", seed=0)
    q = tanh.predict_proba(np.random.default_rng(0).normal(size=(50, 2)))
    assert np.all(q >= 0) and np.allclose(q.sum(1), 1, atol=1e-6)


def test_summary_and_repr():
    net = Network([Dense(784, 256, "relu"), Dense(256, 128, "relu"), Dense(128, 10, "softmax")],
                  optimizer={"name": "adam", "lr": 1e-3}, l2=1e-4)
    s = net.summary()
    total = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert f"{total:,} parameters" in s and "(m, 256)" in s and "(m, 10)" in s
    assert "adam (lr 0.001)" in s and "float32" in s and "l2 0.0001" in s
    assert [r["parameters"] for r in net.summary_rows()] == [784 * 256 + 256, 256 * 128 + 128, 1290]
    assert repr(net) == f"Network(3 layers, {total:,} parameters, loss=softmax_cross_entropy)"


def test_copy_is_independent():
    X, y = blobs()
    net = small_net()
    net.metadata["note"] = "x"
    twin = net.copy()
    assert all(np.array_equal(p, q) for (_, p, _), (_, q, _) in zip(net.parameters(), twin.parameters()))
    assert np.array_equal(net.predict_proba(X), twin.predict_proba(X))
    twin.fit(X, y, epochs=1)
    assert not np.array_equal(net.layers[0].W, twin.layers[0].W)
    assert twin.metadata == {"note": "x"}


def test_from_config_rebuilds_the_same_network_without_drawing_weights():
    net = Network([Dense(2, 8, "linear"), Dropout(0.2), ActivationLayer("tanh"),
                   Dense(8, 3, "softmax")], optimizer={"name": "nesterov", "lr": 0.05},
                  l2=1e-3, seed=7, dtype=np.float64)
    config = net.get_config()
    twin = Network.from_config(config)
    assert twin.get_config() == config and twin.seed == 7 and twin.dtype == np.float64
    # the seed is set after building: the weights are fresh default draws, not seed 7's
    assert not np.array_equal(twin.layers[0].W, net.layers[0].W)
    for seed in (-1, 2.5, True, "3"):
        assert Network.from_config({**config, "seed": seed}).seed is None


@pytest.mark.parametrize("config, message", [
    ({"layers": "Dense"}, "needs a list of layers"),
    ([], "needs a list of layers"),
    ({"layers": [{"type": "Bogus"}]}, "Unknown layer description"),
    ({"layers": [{"type": "Dense", "in_features": 2}]}, "wrong fields"),
    ({"layers": [{"type": "Dense", "in_features": 2, "out_features": 2}], "loss": 3}, "attribute"),
    ({"layers": [], "dtype": "float16"}, "dtype must be float32 or float64"),
])
def test_from_config_refuses_what_it_cannot_build_with_a_value_error(config, message):
    with pytest.raises(ValueError, match=message) as info:
        Network.from_config(config)
    assert type(info.value) is ValueError        # not the model file's error: no file here


def test_float32_stays_float32_everywhere():
    X, y = blobs()
    net = Network([Dense(2, 8, "relu"), Dense(8, 8, "tanh"), Dense(8, 3, "softmax")],
                  optimizer={"name": "adam", "lr": 0.01}, l2=1e-3, seed=0)
    net.fit(X.astype(np.float64), y, epochs=2, batch_size=16)      # float64 input is cast
    for name, p, g in net.parameters():
        assert p.dtype == np.float32 and g.dtype == np.float32, name
    assert all(m.dtype == np.float32 for m in net.optimizer.m + net.optimizer.v)
    assert net.forward(X).dtype == np.float32
    assert net.predict_proba(X).dtype == np.float32
    assert net.loss.backward(net.forward(X), np.eye(3, dtype=np.float32)[y]).dtype == np.float32
    for out, loss in (("sigmoid", "bce"), ("sigmoid", "mse"), ("tanh", "mse_sum")):
        k = 1 if loss == "bce" else 3
        n = Network([Dense(2, 4, "leaky_relu"), Dense(4, k, out)], loss=loss,
                    optimizer={"name": "nesterov", "lr": 0.01}, seed=0)
        n.fit(X, y % 2 if k == 1 else y, epochs=1)
        assert all(p.dtype == np.float32 for _, p, _ in n.parameters()), loss


def test_float64_network_trains_in_float64():
    X, y = blobs()
    net = small_net(dtype=np.float64)
    net.fit(X, y, epochs=1)
    assert all(p.dtype == np.float64 for _, p, _ in net.parameters())
    assert net.forward(X).dtype == np.float64


def test_a_one_layer_softmax_network_trains_as_softmax_regression():
    """One Dense softmax layer is multinomial logistic regression: one SGD step must be
    W ← W − η·Xᵀ(p − Y)/m and b ← b − η·Σ(p − Y)/m, written out here by hand."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    net = Network([Dense(4, 3, "softmax")], optimizer={"name": "sgd", "lr": 0.5}, seed=1,
                  dtype=np.float64)
    W, b = net.layers[0].W.copy(), net.layers[0].b.copy()
    z = X @ W + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(3)[y]) / len(X)
    net.fit(X, y, epochs=1, batch_size=None)
    assert np.allclose(net.layers[0].W, W - 0.5 * X.T @ delta)
    assert np.allclose(net.layers[0].b, b - 0.5 * delta.sum(0))


def test_get_weights_copies_and_set_weights_writes_in_place():
    a, b = small_net(), small_net(seed=99)
    weights = a.get_weights()
    weights[0] += 1.0                                   # a copy: the network is untouched
    assert not np.array_equal(weights[0], a.parameters()[0][1])
    arrays = [p for _, p, _ in b.parameters()]
    b.set_weights(a.get_weights())
    for (_, p, _), (_, q, _), same in zip(a.parameters(), b.parameters(), arrays):
        assert np.array_equal(p, q) and q is same        # written into the same arrays
