"""The background trainers and task without Streamlit: start, pause, resume, stop, one run
per trainer, owner gone → stop, diverged and failed states, independent model copies.

Every trainer test runs twice: with ``BackgroundTrainer`` (a worker thread) and with
``ProcessTrainer`` (a child process, what the app uses).

No test sleeps to give a run time: each waits for what it needs to see (a step count, a
pause that has taken hold, an event) with a generous deadline, so that a loaded machine
makes the tests slower, never wrong. Runs the test means to stop are LONG, never short
runs slowed down; and the shared-memory tests look at the blocks their own run made, not
at everything in /dev/shm, which other programs training on the machine change too."""

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
from nncore.jobs import shared_data
from nncore.jobs.processes import ProcessTrainer
from support.jobs import TIMEOUT, wait_until


@pytest.fixture(autouse=True)
def data_in_blocks(monkeypatch):
    """These tests' arrays are small enough to travel with the network; make them go the
    way a data set does (a block of the run's own, or the server's shared one)."""
    monkeypatch.setattr(process_trainer, "INLINE_BYTES", 0)


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


def _net(seed=0, lr=0.1, loss="softmax_cross_entropy", out_act="softmax", width=16):
    return Network([Dense(4, width, "relu"), Dense(width, 2, out_act)], loss=loss,
                   optimizer={"name": "sgd", "lr": lr}, seed=seed)


def _weights(network):
    return [p.copy() for _, p, _ in network.parameters()]


def _same_weights(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b)))


LONG = 1_000_000   # epochs of a run the test means to stop: hours of work, never finished


@pytest.fixture(params=["thread", "process"])
def make(request):
    """make(network, X, y, **kwargs): a trainer of the kind under test."""
    def factory(network, X, y, **kwargs):
        cls = BackgroundTrainer if request.param == "thread" else ProcessTrainer
        return cls(network, X, y, **kwargs)
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
    tr = make(_net(), X, y, epochs=LONG, batch_size=16)
    tr.start()
    assert wait_until(lambda: tr.progress().step >= 3)
    tr.pause()
    assert tr.progress().state == "paused"             # at once, for the page to show
    assert wait_until(lambda: tr.progress().held)      # once the batch in flight is done
    p = tr.progress()
    before = p.step
    assert p.batch_loss[-1][0] == before               # everything done is on the curve
    # An absence can only be watched for a while: half a second in which nothing moves,
    # however fast or slow the machine (a run that is held cannot move at all).
    assert not wait_until(lambda: tr.progress().step != before, timeout=0.5), \
        "no progress while paused"
    assert tr.progress().state == "paused" and tr.progress().held
    assert tr.claim_result() is None                          # nothing to hand on yet
    tr.resume()
    p = tr.progress()
    assert p.state == "running" and not p.held
    assert wait_until(lambda: tr.progress().step > before)
    assert tr.progress().batch_loss[-1][0] > before
    tr.stop()
    assert tr.join(TIMEOUT)
    assert tr.progress().state == "stopped"


def test_a_pause_overtaken_by_a_resume_is_not_held(make):
    """pause, resume, pause in quick succession: ``held`` must speak of the last pause,
    never of an earlier one the run has already left."""
    X, y = _data()
    tr = make(_net(), X, y, epochs=LONG, batch_size=16).start()
    assert wait_until(lambda: tr.progress().step >= 2)
    for _ in range(10):
        tr.pause()
        assert wait_until(lambda: tr.progress().held)
        tr.resume()
        assert not tr.progress().held
        tr.pause()                         # the run may not even have left the first one
        tr.resume()
        tr.pause()
        assert wait_until(lambda: tr.progress().held)
        held_at = tr.progress().step
        assert not wait_until(lambda: tr.progress().step != held_at, timeout=0.05), \
            "held, yet still moving: the held was about an earlier pause"
        tr.resume()
        assert wait_until(lambda: tr.progress().step > held_at)
    tr.stop()
    assert tr.join(TIMEOUT)


def test_stop_ends_the_run_early_and_stop_while_paused_too(make):
    X, y = _data()
    tr = make(_net(), X, y, epochs=LONG, batch_size=16)
    tr.start()
    assert wait_until(lambda: tr.progress().epoch >= 1)
    tr.stop()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "stopped" and p.epoch < p.epochs and p.message == "stopped by the user"

    tr = make(_net(), X, y, epochs=LONG, batch_size=16)
    tr.start()
    assert wait_until(lambda: tr.progress().step >= 2)
    tr.pause()
    tr.stop()                              # a paused run wakes up to notice the stop
    assert tr.join(TIMEOUT)
    assert tr.progress().state == "stopped"


def test_owner_gone_stops_the_run(make):
    X, y = _data()
    owner = SessionToken()
    tr = make(_net(), X, y, owner=owner, epochs=LONG, batch_size=16)
    tr.start()
    assert wait_until(lambda: tr.progress().step >= 2)
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
    tr = make(_net(), X, y, epochs=LONG, batch_size=16)
    tr.start()
    assert wait_until(lambda: tr.progress().epoch >= 1)
    copy = tr.model_copy()
    frozen = _weights(copy)
    # The copy holds at most one batch more than the record shows just after it (a
    # thread's record follows its weights by one callback; a child reports its losses
    # before its weights): two more batches recorded are at least one the copy has not.
    at_copy = tr.progress().step
    assert wait_until(lambda: tr.progress().step >= at_copy + 2), "the run did not go on"
    tr.stop()
    assert tr.join(TIMEOUT)
    assert tr.progress().step >= at_copy + 2
    for p, saved in zip(_weights(copy), frozen):
        np.testing.assert_array_equal(p, saved)      # the copy did not move…
    assert not _same_weights(copy, tr.network)       # …while the trained network did
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
        while not control.stopped:       # busy until stopped, as real work would be
            n += 1
            report(0.5, partial=n)
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
def _left_behind(trainer):
    """Those of the blocks and files this trainer made for its data that still exist.
    Only its own: other runs on the machine (an app server training beside the tests)
    make and remove blocks of their own at any moment."""
    left = []
    for kind, where in trainer.data_blocks:
        if kind == "shm":       # Linux shows shared memory as files; elsewhere, skip
            if not Path(shared_data.SHM_DIR).is_dir():
                pytest.skip("no /dev/shm to look at on this system")
            path = Path(shared_data.SHM_DIR) / where.lstrip("/")
        else:
            path = Path(where)
        if path.exists():
            left.append((kind, where))
    return left


@pytest.mark.parametrize("channel", ["shared memory", "temporary file"])
def test_process_run_is_bit_identical_to_the_thread_run(channel, monkeypatch, tmp_path):
    """The network travels to the child pickled, and the data through shared memory, or
    through a temporary file when shared memory is too small (as /dev/shm often is in
    containers): none of that may change a single bit of the result, and the file is
    gone afterwards."""
    if channel == "temporary file":
        monkeypatch.setattr(shared_data, "shared_memory_has_room", lambda nbytes: False)
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
    kinds = {kind for kind, _ in tr.data_blocks}
    assert kinds == ({"file"} if channel == "temporary file" else {"shm"})
    assert len(tr.data_blocks) == 4 and _left_behind(tr) == []
    (thread_net, thread_p), (process_net, process_p) = nets
    for (_, a, _), (_, b, _) in zip(thread_net.parameters(), process_net.parameters()):
        np.testing.assert_array_equal(a, b)
    assert process_p.history["val_loss"] == thread_p.history["val_loss"]
    assert process_p.batch_loss == thread_p.batch_loss
    assert process_net.history.train_loss == thread_p.history["train_loss"]
    assert list(tmp_path.iterdir()) == []


def test_a_network_that_trained_before_goes_on_as_on_a_thread():
    """The child gets the network as it is, optimizer state included: a run that goes on
    from earlier training (Adam's moments and step count) ends bit-identical to the same
    run on a thread, which trains the very object."""
    X, y = _data()
    nets = []
    for cls in (BackgroundTrainer, ProcessTrainer):
        net = Network([Dense(4, 16, "relu"), Dense(16, 2, "softmax")],
                      optimizer={"name": "adam", "lr": 0.01}, seed=5)
        net.fit(X, y, epochs=2, batch_size=32, seed=1)          # moments, step count
        tr = cls(net, X, y, epochs=2, batch_size=32, seed=2).start()
        assert tr.join(TIMEOUT) and tr.progress().state == "finished"
        assert tr.network is net
        nets.append(net)
    thread_net, process_net = nets
    for a, b in zip(_weights(thread_net), _weights(process_net)):
        np.testing.assert_array_equal(a, b)


def test_the_parent_network_waits_for_the_final_weights():
    """The child trains an object of its own: the parent's network keeps its weights while
    the run goes on, and receives the child's when it ends."""
    X, y = _data()
    net = _net()
    initial = _weights(net)
    tr = ProcessTrainer(net, X, y, epochs=LONG, batch_size=16).start()
    assert wait_until(lambda: tr.progress().step >= 50)
    running_copy = tr.model_copy()                        # what the child has by now
    assert not all(np.array_equal(a, b) for a, b in zip(_weights(running_copy), initial))
    for w, w0 in zip(_weights(net), initial):
        np.testing.assert_array_equal(w, w0)             # untouched while the child trains
    tr.stop()
    assert tr.join(TIMEOUT) and tr.progress().state == "stopped"
    assert tr.network is net
    assert not all(np.array_equal(a, b) for a, b in zip(_weights(net), initial))
    assert len(net.history.batch_loss) == tr.progress().step   # the child's whole run
    assert _same_weights(tr.model_copy(), net)


def test_process_model_copy_while_paused_is_what_a_stop_then_keeps(monkeypatch):
    # A child that stopped answering would make model_copy wait this long and then fall
    # back on older weights; the paused child must answer at once instead.
    monkeypatch.setattr(process_trainer, "WEIGHTS_WAIT_SECONDS", 60.0)
    X, y = _data()
    net = _net()
    initial = [p.copy() for _, p, _ in net.parameters()]
    tr = ProcessTrainer(net, X, y, epochs=LONG, batch_size=16).start()
    assert wait_until(lambda: tr.progress().epoch >= 2)
    running_copy = tr.model_copy()                 # asked of the child, mid-run
    assert any(not np.array_equal(a, b) for (_, a, _), b in zip(running_copy.parameters(), initial))
    tr.pause()
    paused_copy = tr.model_copy()                  # at once: the batch in flight may end first
    assert wait_until(lambda: tr.progress().held)  # the child stands still …
    asked = time.monotonic()
    later_copy = tr.model_copy()                   # … and answers all the same
    assert time.monotonic() - asked < 10, "the paused child did not answer"
    tr.stop()                                      # wakes the paused child: it ends at once
    assert tr.join(TIMEOUT)
    assert tr.progress().state == "stopped"
    for copy in (paused_copy, later_copy):
        for (_, a, _), (_, b, _) in zip(copy.parameters(), tr.network.parameters()):
            np.testing.assert_array_equal(a, b)


def test_process_that_dies_before_an_epoch_is_reported_and_leaves_the_network_alone():
    X, y = _data(20_000)
    net = _net()
    initial = [p.copy() for _, p, _ in net.parameters()]
    tr = ProcessTrainer(net, X, y, epochs=LONG, batch_size=16).start()
    tr.pause()                # at once: the child stands still within its first batches
    assert wait_until(lambda: tr.progress().held)
    assert tr.progress().epoch == 0
    tr.process.kill()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "failed" and "ended unexpectedly (exit code -9)" in p.message
    assert "before it completed an epoch" in p.message
    for (_, w, _), w0 in zip(tr.network.parameters(), initial):
        np.testing.assert_array_equal(w, w0)
    assert len(tr.data_blocks) == 2
    assert _left_behind(tr) == [], "the data's shared memory must be released"


def test_process_that_dies_keeps_the_weights_of_its_last_reported_epoch():
    """A killed child's completed epochs are not lost: the network takes the weights the
    child had after the last epoch it reported, which are exactly what training that many
    epochs on a thread gives, and the run ends "stopped" (the app keeps a stopped run)."""
    X, y = _data()
    tr = ProcessTrainer(_net(), X, y, epochs=LONG, batch_size=16, seed=5).start()
    assert wait_until(lambda: tr.progress().epoch >= 2)
    tr.pause()
    assert wait_until(lambda: tr.progress().held)
    tr.process.kill()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "stopped" and "ended unexpectedly (exit code -9)" in p.message
    assert f"after epoch {p.epoch} are kept" in p.message and p.epoch >= 2
    assert tr.claim_result() is not None
    reference = _net()
    reference.fit(X, y, epochs=p.epoch, batch_size=16, seed=5)
    for a, b in zip(tr.network.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert tr.network.history.train_loss == reference.history.train_loss
    assert _left_behind(tr) == []


def test_process_runs_release_their_shared_memory():
    X, y = _data()
    tr = ProcessTrainer(_net(), X, y, validation=(X[:32], y[:32]), epochs=2,
                        batch_size=32).start()
    assert tr.join(TIMEOUT) and tr.progress().state == "finished"
    assert len(tr.data_blocks) == 4                 # X, y and the two validation arrays
    assert _left_behind(tr) == []


def test_process_data_is_released_as_soon_as_the_child_holds_it():
    """The blocks go when the child says it has mapped them, not when the run ends: a
    parent that dies mid-run then leaves nothing behind."""
    X, y = _data()
    tr = ProcessTrainer(_net(), X, y, epochs=LONG, batch_size=16).start()
    assert wait_until(lambda: tr.progress().step >= 1)   # the child mapped the data first
    assert len(tr.data_blocks) == 2
    assert wait_until(lambda: _left_behind(tr) == [])
    tr.stop()
    assert tr.join(TIMEOUT) and tr.progress().state == "stopped"


def test_process_stop_mid_epoch_reports_every_batch_done():
    """The child reports its losses every REPORT_SECONDS; what it did since the last report
    must still arrive when a stop ends the run between two reports."""
    X, y = _data(4096)
    tr = ProcessTrainer(_net(), X, y, epochs=LONG, batch_size=1).start()   # long epochs
    assert wait_until(lambda: tr.progress().step >= 2)
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
            self.Event, self.Pipe, self.Value = self.real.Event, self.real.Pipe, self.real.Value

        def Process(self, **kwargs):
            return Unstartable()
    monkeypatch.setattr(process_trainer, "_context", NoProcesses)
    tr = process_trainer.make_trainer(_net(), X, y, epochs=2, batch_size=32)
    assert type(tr) is ProcessTrainer
    tr.start()
    assert tr.join(TIMEOUT)
    assert tr.progress().state == "finished" and tr.process is None
    for (_, a, _), (_, b, _) in zip(tr.network.parameters(), reference.network.parameters()):
        np.testing.assert_array_equal(a, b)
    assert tr.model_copy().predict(X).shape == (len(X),)
    assert len(tr.data_blocks) == 2 and _left_behind(tr) == []

    tr = process_trainer.make_trainer(_net(), X, y, epochs=LONG, batch_size=16).start()
    assert wait_until(lambda: tr.progress().step >= 2)
    tr.pause()                    # on this thread too, a pause says when it has taken hold
    assert wait_until(lambda: tr.progress().held)
    tr.stop()
    assert tr.join(TIMEOUT) and tr.progress().state == "stopped"


def test_process_start_that_fails_is_reported_and_releases_the_data():
    X, y = _data()
    # a schedule the child cannot receive: functions defined here do not pickle
    tr = ProcessTrainer(_net(), X, y, epochs=2, batch_size=32,
                        schedule=lambda lr, epoch, epochs: lr).start()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "failed" and p.message.startswith("Training failed: ")
    assert len(tr.data_blocks) == 2 and _left_behind(tr) == []


def test_process_that_cannot_map_its_data_says_why(monkeypatch):
    X, y = _data()
    real_block = shared_data.Block

    def vanished(array):          # the block is gone before the child can map it
        block = real_block(array)
        block.remove()
        return block
    monkeypatch.setattr(shared_data, "Block", vanished)
    tr = ProcessTrainer(_net(), X, y, epochs=2, batch_size=32).start()
    assert tr.join(TIMEOUT)
    p = tr.progress()
    assert p.state == "failed" and p.message.startswith("Training could not start: ")


def test_process_trainer_refuses_callbacks_it_could_not_run():
    X, y = _data()
    with pytest.raises(TypeError, match="another process"):
        ProcessTrainer(_net(), X, y, epochs=1, on_event=lambda event: None)


PARENT_THAT_DIES = """
import sys, time
sys.path.insert(0, {root!r})
import numpy as np
from nncore import Dense, Network
from nncore.jobs.processes import ProcessTrainer

def wait_until(predicate, timeout={timeout}):
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= end:
            sys.exit("timed out")
        time.sleep(0.01)

if __name__ == "__main__":
    X = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = Network([Dense(4, 8, "relu"), Dense(8, 2, "softmax")], seed=0)
    tr = ProcessTrainer(net, X, y, epochs=100000, batch_size=16).start()
    wait_until(lambda: tr.progress().step > 0)
    tr.pause()
    wait_until(lambda: tr.progress().held)     # the child is paused, not on its way there
    print(tr.process.pid, flush=True)
    tr.join(10 * {timeout})                    # a run that never ends: till the test kills us
"""


def test_a_paused_child_ends_when_the_program_that_started_it_is_killed(tmp_path):
    """A crashed server must not leave paused training processes behind forever."""
    script = tmp_path / "parent.py"
    script.write_text(PARENT_THAT_DIES.format(root=str(Path(__file__).resolve().parents[2]),
                                              timeout=TIMEOUT))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()     # the script gives up by itself if it must
        assert line.strip().isdigit(), "the parent script did not get its run paused"
        child_pid = int(line)
        assert _alive(child_pid)
        parent.kill()
        parent.wait(TIMEOUT)
        assert wait_until(lambda: not _alive(child_pid)), "the paused child lived on"
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")                 # a zombie has ended too
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")
