"""A run's snapshots, for its replay: the start and about 50 evenly spaced epochs, each with
that epoch's figures and (for a small network) its weights — the same record whether the
run trains on a thread or in a child process.

The oracle is ``Network.fit`` itself, run here with a callback that copies the weights and
the history at every epoch's end: a snapshot of epoch k must hold exactly those.
"""

import time

import numpy as np
import pytest

from nncore import Dense, Network
from nncore.jobs import threads
from nncore.jobs.processes import ProcessTrainer
from nncore.jobs.threads import BackgroundTrainer, SnapshotPlan

TIMEOUT = 30
LONG = 1_000_000


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X, y


def _net(width=6):
    return Network([Dense(2, width, "tanh"), Dense(width, 2, "softmax")],
                   optimizer={"name": "adam", "lr": 0.05}, seed=4)


def _oracle(X, y, validation, **fit_kwargs):
    """Every epoch's weights and figures, from a plain fit (index 0: before training)."""
    net = _net()
    weights, figures = [net.get_weights()], [{}]

    def keep(event):
        if event.kind == "epoch_end":
            weights.append(net.get_weights())
            h = event.history
            figures.append({k: getattr(h, k)[-1]
                            for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
                            if getattr(h, k)})
    net.fit(X, y, validation_data=validation, callbacks=[keep], **fit_kwargs)
    return weights, figures


@pytest.mark.parametrize("kind", [BackgroundTrainer, ProcessTrainer])
def test_snapshots_are_the_weights_and_figures_of_evenly_spaced_epochs(kind):
    X, y = _data()
    validation = (X[:32], y[:32])
    fit_kwargs = dict(epochs=120, batch_size=32, seed=1)
    weights, figures = _oracle(X, y, validation, **fit_kwargs)
    trainer = kind(_net(), X, y, validation=validation, **fit_kwargs).start()
    assert trainer.join(TIMEOUT) and trainer.progress().state == "finished"
    shots = trainer.snapshots()
    assert [s.epoch for s in shots] == list(range(0, 121, 3))     # 120 / 50 → every 3rd
    assert [s.step for s in shots] == [3 * s.epoch for s in shots]   # 3 batches an epoch
    for s in shots:
        for got, expected in zip(s.weights, weights[s.epoch]):
            np.testing.assert_array_equal(got, expected)
        assert s.metrics == figures[s.epoch]
    # training seconds by then: the epochs' own, as the history counts them
    assert shots[-1].elapsed == pytest.approx(sum(trainer.progress().history["seconds"]))


def test_the_thread_and_the_process_keep_the_same_snapshots():
    X, y = _data()
    records = []
    for kind in (BackgroundTrainer, ProcessTrainer):
        trainer = kind(_net(), X, y, epochs=7, batch_size=40, seed=2).start()
        assert trainer.join(TIMEOUT) and trainer.progress().state == "finished"
        records.append(trainer.snapshots())
    thread, process = records
    assert [s.epoch for s in thread] == list(range(8))            # fewer than 50: all
    assert [(s.epoch, s.step, s.metrics) for s in thread] == \
        [(s.epoch, s.step, s.metrics) for s in process]
    for a, b in zip(thread, process):
        for wa, wb in zip(a.weights, b.weights):
            np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("epochs, every, count", [(1000, 20, 51), (5001, 101, 51),
                                                 (50, 1, 51), (3, 1, 4)])
def test_about_fifty_snapshots_whatever_the_length(epochs, every, count):
    plan = SnapshotPlan(_net(), epochs)
    kept = [0] + [e for e in range(1, epochs + 1) if e % plan.every == 0 or e == epochs]
    assert plan.every == every and len(kept) == count and len(kept) <= plan.most


def test_a_large_network_keeps_figures_but_no_weights(monkeypatch):
    X, y = _data()
    net = _net()
    per_snapshot = sum(p.nbytes for _, p, _ in net.parameters())
    monkeypatch.setattr(threads, "SNAPSHOT_BYTES", per_snapshot * 5)   # room for 5 only
    for kind in (BackgroundTrainer, ProcessTrainer):
        trainer = kind(_net(), X, y, epochs=8, batch_size=48).start()
        assert trainer.join(TIMEOUT)
        shots = trainer.snapshots()
        assert len(shots) == 9 and all(s.weights is None for s in shots)
        assert shots[-1].metrics["train_loss"] == trainer.progress().history["train_loss"][-1]
    assert SnapshotPlan(net, 3).weights                     # 3 epochs + the start: they fit


@pytest.mark.parametrize("kind", [BackgroundTrainer, ProcessTrainer])
def test_a_stopped_run_keeps_the_epoch_it_stopped_in(kind):
    X, y = _data(512)
    trainer = kind(_net(), X, y, epochs=LONG, batch_size=4).start()
    assert trainer.wait_for_progress(TIMEOUT)
    trainer.stop()
    assert trainer.join(TIMEOUT) and trainer.progress().state == "stopped"
    last = trainer.snapshots()[-1]
    assert last.epoch == trainer.progress().epoch and last.step == trainer.progress().step
    for got, final in zip(last.weights, trainer.network.get_weights()):
        np.testing.assert_array_equal(got, final)


@pytest.mark.parametrize("where", ["mid-epoch", "between epochs"])
def test_a_stop_keeps_where_the_run_ended(where):
    """Epoch 2 is no planned snapshot (every 20,000th is): a stop in it, or right after
    it, is kept all the same, with the weights the run ended with."""
    X, y = _data(64)
    holder = {}

    def stop_there(event):
        if (where == "mid-epoch" and event.kind == "batch_end" and event.epoch == 2
                and event.batch == 3) or (where == "between epochs"
                                           and event.kind == "epoch_end" and event.epoch == 2):
            holder["trainer"].stop()

    trainer = holder["trainer"] = BackgroundTrainer(_net(), X, y, epochs=LONG, batch_size=8,
                                                    on_event=stop_there)
    trainer.start()
    assert trainer.join(TIMEOUT) and trainer.progress().state == "stopped"
    shots = trainer.snapshots()
    assert [(s.epoch, s.step) for s in shots] == [(0, 0), (2, 11 if where == "mid-epoch" else 16)]
    for got, final in zip(shots[-1].weights, trainer.network.get_weights()):
        np.testing.assert_array_equal(got, final)


def test_wait_for_progress_waits_for_a_batch_or_the_end():
    X, y = _data()
    waiting = BackgroundTrainer(_net(), X, y, epochs=2)
    waiting.queue()                                          # a scheduler's queued run
    assert waiting.wait_for_progress(0.05) is False          # … is not waited for
    for kind in (BackgroundTrainer, ProcessTrainer):
        trainer = kind(_net(), X, y, epochs=LONG, batch_size=8).start()
        assert trainer.wait_for_progress(TIMEOUT)
        assert trainer.progress().step >= 1
        trainer.stop()
        assert trainer.join(TIMEOUT)
        assert trainer.wait_for_progress(0)                  # ended: nothing to wait for


@pytest.mark.parametrize("kind", [BackgroundTrainer, ProcessTrainer])
def test_wait_under_way_sees_a_short_run_to_its_end_and_a_long_one_going(kind):
    X, y = _data()
    short = kind(_net(), X, y, epochs=3, batch_size=32).start()
    short.wait_under_way(TIMEOUT)                            # ends long before the deadline
    assert short.progress().state == "finished"
    long = kind(_net(), X, y, epochs=LONG, batch_size=8).start()
    long.wait_under_way(0.3)
    assert long.progress().state == "running"               # not waited for to its end
    # back with its first batch done, or (a machine too busy to start it so soon) at the
    # deadline
    assert long.progress().step >= 1 or time.time() >= long.started_at + 0.3
    long.stop()
    assert long.join(TIMEOUT)
