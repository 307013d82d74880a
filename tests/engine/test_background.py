"""The background trainers and task without Streamlit: start, pause, resume, stop, one run
per trainer, owner gone → stop, diverged and failed states, independent model copies.

Every trainer test runs twice: with ``BackgroundTrainer`` (a worker thread) and with
``ProcessTrainer`` (a child process, what the app uses)."""

import gc
import os
import subprocess
import sys
import multiprocessing as mp
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nncore import Dense, Network
from nncore.jobs.threads import BackgroundTask, BackgroundTrainer, SessionToken
from nncore.jobs import processes as process_trainer
from nncore.jobs.processes import ProcessTrainer

TIMEOUT = 20


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


def _net(seed=0, lr=0.1, loss="softmax_cross_entropy", out_act="softmax", width=16):
    return Network([Dense(4, width, "relu"), Dense(width, 2, out_act)], loss=loss,
                   optimizer={"name": "sgd", "lr": lr}, seed=seed)


def _wait(predicate, timeout=TIMEOUT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def _slow(delay=0.002):
    """An on_event hook that makes each batch take a little while (so the test can act)."""
    def hook(event):
        if event.kind == "batch_end":
            time.sleep(delay)
    return hook


LONG = 20_000   # epochs of a run the test means to stop: minutes of work, never finished


@pytest.fixture(params=["thread", "process"])
def make(request):
    """make(network, X, y, slow=None, **kwargs): a trainer of the kind under test. ``slow``
    (seconds per batch) slows a thread's batches so the test can act; a child process
    cannot run the test's hook, so a run meant to be slow gets LONG epochs instead."""
    def factory(network, X, y, slow=None, **kwargs):
        if request.param == "thread":
            return BackgroundTrainer(network, X, y, on_event=_slow(slow) if slow else None,
                                     **kwargs)
        if slow:
            kwargs["epochs"] = LONG
        return ProcessTrainer(network, X, y, **kwargs)
    factory.kind = request.param
    return factory


def test_runs_to_the_end_and_reports_progress(make):
    X, y = _data()
    tr = make(_net(), X, y, validation=(X[:64], y[:64]), epochs=3, batch_size=32)
    assert tr.progress().state == "idle"
    tr.start()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "finished" and p.epoch == 3 and p.fraction == 1.0
    assert len(p.history["train_loss"]) == 3 and len(p.history["val_accuracy"]) == 3
    assert "batch_loss" not in p.history
    assert len(p.batch_loss) == 3 * 8 and p.batch_loss[0][0] == 1
    assert p.samples_per_second > 0 and p.eta_seconds == 0.0
    assert tr.claim_result() is not None and tr.claim_result() is None   # handed on once


def test_second_start_raises(make):
    X, y = _data()
    tr = make(_net(), X, y, epochs=1, batch_size=64).start()
    with pytest.raises(RuntimeError):
        tr.start()
    assert tr.join(TIMEOUT)


def test_pause_holds_progress_and_resume_continues(make):
    X, y = _data()
    tr = make(_net(), X, y, epochs=200, batch_size=16, slow=0.002)
    tr.start()
    assert _wait(lambda: len(tr.progress().batch_loss) >= 3)
    tr.pause()
    assert tr.progress().state == "paused"
    time.sleep(0.15)                       # the batch in flight (if any) finishes
    before = tr.progress().batch_loss[-1][0]
    time.sleep(0.4)
    p = tr.progress()
    assert p.state == "paused" and p.batch_loss[-1][0] == before, "no progress while paused"
    assert tr.claim_result() is None                          # nothing to hand on yet
    tr.resume()
    assert tr.progress().state == "running"
    assert _wait(lambda: tr.progress().batch_loss[-1][0] > before)
    tr.stop()
    assert tr.join(TIMEOUT)
    assert tr.progress().state == "stopped"


def test_stop_ends_the_run_early_and_stop_while_paused_too(make):
    X, y = _data()
    tr = make(_net(), X, y, epochs=500, batch_size=16, slow=0.002)
    tr.start()
    assert _wait(lambda: tr.progress().epoch >= 1)
    tr.stop()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "stopped" and p.epoch < p.epochs and p.message == "stopped by the user"

    tr = make(_net(), X, y, epochs=500, batch_size=16, slow=0.002)
    tr.start()
    assert _wait(lambda: len(tr.progress().batch_loss) >= 2)
    tr.pause()
    tr.stop()                              # a paused run wakes up to notice the stop
    assert tr.join(TIMEOUT)
    assert tr.progress().state == "stopped"


def test_owner_gone_stops_the_run(make):
    X, y = _data()
    owner = SessionToken()
    tr = make(_net(), X, y, owner=owner, epochs=10_000, batch_size=16, slow=0.001)
    tr.start()
    assert _wait(lambda: len(tr.progress().batch_loss) >= 2)
    assert tr.alive
    del owner                              # the session's state is dropped
    gc.collect()
    assert tr.join(TIMEOUT), "the worker must end when its owner is gone"
    p = tr.progress()
    assert p.state == "stopped" and "session ended" in p.message
    assert p.epoch < p.epochs


def test_diverged_state_keeps_last_good_weights_and_suggests_a_rate(make):
    X, y = _data()
    # squared error on a linear output with lr 10: the loss reaches inf within a few batches
    net = Network([Dense(4, 16, "relu"), Dense(16, 2, "linear")], loss="mse_sum",
                  optimizer={"name": "sgd", "lr": 10.0}, seed=0)
    initial = [p.copy() for _, p, _ in net.parameters()]
    tr = make(net, X, y, epochs=50, batch_size=32).start()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "diverged", p
    assert p.suggested_lr == pytest.approx(1.0)
    assert "learning rate 10 is too large" in p.message and "try 1" in p.message
    assert p.epoch == 0 and p.eta_seconds is None
    for (_, w, _), w0 in zip(tr.network.parameters(), initial):
        np.testing.assert_array_equal(w, w0)      # back to the last good (initial) weights
    assert tr.claim_result().state == "diverged"


def test_failed_state_has_a_message(make):
    X, y = _data()
    y_bad = y.copy()
    y_bad[0] = 7                            # a label the 2-output network cannot have
    tr = make(_net(), X, y_bad, epochs=2, batch_size=32).start()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "failed"
    assert p.message.startswith("Training failed: ") and "Labels must lie in 0" in p.message


def test_model_copy_is_independent_of_further_training(make):
    X, y = _data()
    tr = make(_net(), X, y, epochs=300, batch_size=16, slow=0.001)
    tr.start()
    assert _wait(lambda: tr.progress().epoch >= 1)
    copy = tr.model_copy()
    frozen = [p.copy() for _, p, _ in copy.parameters()]
    assert _wait(lambda: tr.progress().epoch >= 3)
    tr.stop()
    assert tr.join(TIMEOUT)
    for (_, p, _), saved in zip(copy.parameters(), frozen):
        np.testing.assert_array_equal(p, saved)      # the copy did not move…
    moved = any(not np.array_equal(a, b) for (_, a, _), (_, b, _)
                in zip(copy.parameters(), tr.network.parameters()))
    assert moved                                     # …while the trained network did
    assert copy.predict(X).shape == (len(X),)


def test_pause_when_the_run_has_just_ended_is_harmless(make):
    X, y = _data()
    tr = make(_net(), X, y, epochs=1, batch_size=256).start()
    assert tr.join(TIMEOUT)
    tr.pause()
    tr.resume()
    assert tr.progress().state == "finished"


# ------------------------------------------------------------------ BackgroundTask
def test_task_reports_and_finishes():
    def job(report, control):
        for i in range(5):
            report((i + 1) / 5, f"step {i + 1}", {"done": i + 1})
        return "result"
    task = BackgroundTask(job).start()
    assert task.join(TIMEOUT)
    p = task.progress()
    assert p.state == "finished" and p.result == "result" and p.fraction == 1.0
    assert p.partial == {"done": 5}


def test_task_stop_owner_and_failure():
    started = threading.Event()

    def job(report, control):
        started.set()
        n = 0
        while not control.stopped:
            n += 1
            report(0.5, partial=n)
            time.sleep(0.005)
        return n

    task = BackgroundTask(job).start()
    assert started.wait(TIMEOUT)
    task.stop()
    assert task.join(TIMEOUT)
    assert task.progress().state == "stopped" and task.progress().result >= 1

    owner = SessionToken()
    started.clear()
    task = BackgroundTask(job, owner=owner).start()
    assert started.wait(TIMEOUT)
    del owner
    gc.collect()
    assert task.join(TIMEOUT)
    assert "session ended" in task.progress().message

    def broken(report, control):
        raise ValueError("no data")
    task = BackgroundTask(broken).start()
    assert task.join(TIMEOUT)
    assert task.progress().state == "failed" and "no data" in task.progress().message
    with pytest.raises(RuntimeError):
        task.start()


# ------------------------------------------------------------------ ProcessTrainer only
def _shared_blocks():
    """The shared-memory blocks that exist now (Linux; Python names them psm_…)."""
    if not Path("/dev/shm").is_dir():
        pytest.skip("no /dev/shm to look at on this system")
    return {p.name for p in Path("/dev/shm").iterdir() if p.name.startswith("psm_")}


@pytest.mark.parametrize("channel", ["shared memory", "temporary file"])
def test_process_run_is_bit_identical_to_the_thread_run(channel, monkeypatch, tmp_path):
    """The child rebuilds the network from its configuration and weights, and the data
    travels through shared memory, or through a temporary file when shared memory is
    too small (as /dev/shm often is in containers): none of that may change a single bit
    of the result, and the file is gone afterwards."""
    if channel == "temporary file":
        monkeypatch.setattr(process_trainer, "_shared_memory_has_room", lambda nbytes: False)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    X, y = _data(512)
    kwargs = dict(validation=(X[:64], y[:64]), epochs=4, batch_size=32, seed=3,
                  schedule="cosine")
    nets = []
    for cls in (BackgroundTrainer, ProcessTrainer):
        net = Network([Dense(4, 16, "relu"), Dense(16, 2, "softmax")],
                      optimizer={"name": "adam", "lr": 0.01}, seed=5)
        tr = cls(net, X, y, **kwargs).start()
        assert tr.join(TIMEOUT)
        assert tr.progress().state == "finished"
        nets.append((tr.network, tr.progress()))
    (thread_net, thread_p), (process_net, process_p) = nets
    for (_, a, _), (_, b, _) in zip(thread_net.parameters(), process_net.parameters()):
        np.testing.assert_array_equal(a, b)
    assert process_p.history["val_loss"] == thread_p.history["val_loss"]
    assert process_p.batch_loss == thread_p.batch_loss
    assert process_net.history.train_loss == thread_p.history["train_loss"]
    assert list(tmp_path.iterdir()) == []


def test_process_model_copy_while_paused_is_what_a_stop_then_keeps(monkeypatch):
    # A child that stopped answering would make model_copy wait this long and then fall
    # back on older weights; the paused child must answer at once instead.
    monkeypatch.setattr(process_trainer, "WEIGHTS_WAIT_SECONDS", 60.0)
    X, y = _data()
    net = _net()
    initial = [p.copy() for _, p, _ in net.parameters()]
    tr = ProcessTrainer(net, X, y, epochs=LONG, batch_size=16).start()
    assert _wait(lambda: tr.progress().epoch >= 2)
    running_copy = tr.model_copy()                 # asked of the child, mid-run
    assert any(not np.array_equal(a, b) for (_, a, _), b in zip(running_copy.parameters(), initial))
    tr.pause()
    paused_copy = tr.model_copy()                  # at once: the batch in flight may end first
    time.sleep(0.3)
    asked = time.monotonic()
    later_copy = tr.model_copy()                   # answered by the paused child
    assert time.monotonic() - asked < 10, "the paused child did not answer"
    tr.stop()                                      # wakes the paused child: it ends at once
    assert tr.join(TIMEOUT)
    assert tr.progress().state == "stopped"
    for copy in (paused_copy, later_copy):
        for (_, a, _), (_, b, _) in zip(copy.parameters(), tr.network.parameters()):
            np.testing.assert_array_equal(a, b)


def test_process_that_dies_is_reported_and_leaves_the_network_and_memory_alone():
    before = _shared_blocks()
    X, y = _data()
    net = _net()
    initial = [p.copy() for _, p, _ in net.parameters()]
    tr = ProcessTrainer(net, X, y, epochs=LONG, batch_size=16).start()
    assert _wait(lambda: len(tr.progress().batch_loss) >= 2)
    tr.process.kill()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "failed" and "ended unexpectedly (exit code -9)" in p.message
    for (_, w, _), w0 in zip(tr.network.parameters(), initial):
        np.testing.assert_array_equal(w, w0)
    assert _shared_blocks() <= before, "the data's shared memory must be released"


def test_process_runs_release_their_shared_memory():
    before = _shared_blocks()
    X, y = _data()
    tr = ProcessTrainer(_net(), X, y, validation=(X[:32], y[:32]), epochs=2,
                        batch_size=32).start()
    assert tr.join(TIMEOUT) and tr.progress().state == "finished"
    assert _shared_blocks() <= before


def test_process_stop_mid_epoch_reports_every_batch_done():
    """The child reports its losses every REPORT_SECONDS; what it did since the last report
    must still arrive when a stop ends the run between two reports."""
    X, y = _data(4096)
    tr = ProcessTrainer(_net(), X, y, epochs=LONG, batch_size=1).start()   # long epochs
    assert _wait(lambda: len(tr.progress().batch_loss) >= 2)
    tr.stop()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    steps = len(tr.network.history.batch_loss)          # every batch the child trained
    stride = p.batch_loss[1][0] - p.batch_loss[0][0]     # the curve may have been thinned
    assert steps - stride < p.batch_loss[-1][0] <= steps
    assert p.epoch == len(tr.network.history.epoch)


def test_where_processes_cannot_start_training_runs_on_a_thread(monkeypatch):
    """Some hosts refuse semaphores or new processes: the run must still happen, on a
    thread, with the same result."""
    X, y = _data()
    reference = BackgroundTrainer(_net(), X, y, epochs=2, batch_size=32).start()
    assert reference.join(TIMEOUT)

    def no_semaphores():
        raise OSError("sem_open is not implemented on this host")
    monkeypatch.setattr(process_trainer, "_context", no_semaphores)
    tr = process_trainer.make_trainer(_net(), X, y, epochs=2, batch_size=32)
    assert type(tr) is BackgroundTrainer

    class Unstartable:
        def start(self):
            raise OSError("no new processes on this host")

    class NoProcesses:            # semaphores and pipes work, starting a process does not
        def __init__(self):
            self.real = mp.get_context("spawn")
            self.Event, self.Pipe = self.real.Event, self.real.Pipe

        def Process(self, **kwargs):
            return Unstartable()
    monkeypatch.setattr(process_trainer, "_context", NoProcesses)
    before = _shared_blocks()
    tr = process_trainer.make_trainer(_net(), X, y, epochs=2, batch_size=32)
    assert type(tr) is ProcessTrainer
    tr.start()
    assert tr.join(TIMEOUT)
    assert tr.progress().state == "finished" and tr.process is None
    for (_, a, _), (_, b, _) in zip(tr.network.parameters(), reference.network.parameters()):
        np.testing.assert_array_equal(a, b)
    assert tr.model_copy().predict(X).shape == (len(X),)
    assert _shared_blocks() <= before


def test_process_start_that_fails_is_reported_and_releases_the_data():
    before = _shared_blocks()
    X, y = _data()
    # a schedule the child cannot receive: functions defined here do not pickle
    tr = ProcessTrainer(_net(), X, y, epochs=2, batch_size=32,
                        schedule=lambda lr, epoch, epochs: lr).start()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "failed" and p.message.startswith("Training failed: ")
    assert _shared_blocks() <= before


def test_process_that_cannot_map_its_data_says_why(monkeypatch):
    X, y = _data()
    real_create = process_trainer._SharedArray.create

    def vanished(array):          # the block is gone before the child can map it
        shared = real_create(array)
        shared.release()
        return shared
    monkeypatch.setattr(process_trainer._SharedArray, "create", staticmethod(vanished))
    tr = ProcessTrainer(_net(), X, y, epochs=2, batch_size=32).start()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "failed" and p.message.startswith("Training could not start: ")


def test_process_trainer_refuses_callbacks_it_could_not_run():
    X, y = _data()
    with pytest.raises(TypeError, match="another process"):
        ProcessTrainer(_net(), X, y, epochs=1, on_event=_slow())


PARENT_THAT_DIES = """
import sys, time
sys.path.insert(0, {root!r})
import numpy as np
from nncore import Dense, Network
from nncore.jobs.processes import ProcessTrainer
if __name__ == "__main__":
    X = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = Network([Dense(4, 8, "relu"), Dense(8, 2, "softmax")], seed=0)
    tr = ProcessTrainer(net, X, y, epochs=100000, batch_size=16).start()
    while not tr.progress().batch_loss:
        time.sleep(0.01)
    tr.pause()
    time.sleep(0.3)
    print(tr.process.pid, flush=True)
    time.sleep(60)
"""


def test_a_paused_child_ends_when_the_program_that_started_it_is_killed(tmp_path):
    """A crashed server must not leave paused training processes behind forever."""
    script = tmp_path / "parent.py"
    script.write_text(PARENT_THAT_DIES.format(root=str(Path(__file__).resolve().parents[2])))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        assert _alive(child_pid)
        parent.kill()
        parent.wait(TIMEOUT)
        assert _wait(lambda: not _alive(child_pid), timeout=10), "the paused child lived on"
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")                 # a zombie has ended too
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")
