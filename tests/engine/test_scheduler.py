"""The server-wide scheduler: at most ``slots`` jobs run, the rest wait in order, each
waiting job knows its place and an estimate of its wait, can be cancelled, and starts by
itself when a slot frees; visitors who leave, runs past the time limit and runs that stay
paused while others wait are dealt with by the watchdog; BLAS threads follow the number
of runs.

Jobs here are real ``BackgroundTask``s that wait on an event the test sets (so a test
decides when each one ends, and never sleeps to let something happen) and real
``ProcessTrainer``s on tiny data."""

import gc
import threading
import time

import numpy as np
import pytest

from nncore.jobs import processes
from nncore.jobs.processes import ProcessTrainer
from nncore.jobs.scheduler import LabBusy, Scheduler
from nncore.jobs.threads import BackgroundTask, SessionToken
from support.jobs import TIMEOUT, small_network, wait_until, xor_signs



class HeldJob:
    """A BackgroundTask that runs until the test lets it finish; records its start."""

    def __init__(self, name, started_order, owner=None, alive=None):
        self.started = threading.Event()
        self.release = threading.Event()
        self.name = name

        def job(report, control):
            started_order.append(name)
            self.started.set()
            while not self.release.wait(0.01):
                if control.stopped:
                    return "stopped"
            return name

        self.task = BackgroundTask(job, owner=owner, alive=alive)
        self.threads = []
        self.task.set_threads = self.threads.append   # what the scheduler gave it

    def finish(self):
        self.release.set()
        assert self.task.join(TIMEOUT)


def _jobs(n, order, **kw):
    return [HeldJob(f"job{i}", order, **kw) for i in range(n)]


class Clock:
    """The scheduler's clock, moved by the test: waits and run times exactly as told."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1.8e9 + self.now


@pytest.fixture
def clock(monkeypatch):
    from nncore.jobs import scheduler as module
    fake = Clock()
    monkeypatch.setattr(module, "time", fake)
    return fake


@pytest.fixture
def scheduler():
    made = []

    def make(**kwargs):
        kwargs.setdefault("tick_seconds", 60)       # the tests call look_once themselves
        made.append(Scheduler(**kwargs))
        return made[-1]
    yield make
    for s in made:
        s.close()


def test_at_most_slots_run_and_the_rest_start_in_order_when_slots_free(scheduler):
    s = scheduler(slots=2, max_waiting=10, cores=2)
    order = []
    jobs = _jobs(5, order)
    for job in jobs:
        s.submit(job.task, estimate_seconds=1.0)
    assert jobs[0].started.wait(TIMEOUT) and jobs[1].started.wait(TIMEOUT)
    assert s.counts() == (2, 3)
    assert [j.task.progress().state for j in jobs[2:]] == ["queued"] * 3
    assert [s.place(j.task).position for j in jobs[2:]] == [1, 2, 3]
    assert s.place(jobs[0].task) is None            # running, not waiting

    jobs[1].finish()                                # a slot frees: the first in line starts
    assert jobs[2].started.wait(TIMEOUT)
    assert not jobs[3].started.is_set()
    assert [s.place(j.task).position for j in jobs[3:]] == [1, 2]
    for job in (jobs[0], jobs[2], jobs[3]):
        job.finish()
    assert jobs[4].started.wait(TIMEOUT)
    jobs[4].finish()
    assert order == ["job0", "job1", "job2", "job3", "job4"]
    assert s.counts() == (0, 0)
    assert all(j.task.progress().state == "finished" for j in jobs)


def test_a_full_queue_refuses_with_a_sentence_and_touches_nothing(scheduler):
    s = scheduler(slots=1, max_waiting=2)
    order = []
    jobs = _jobs(4, order)
    for job in jobs[:3]:
        s.submit(job.task)
    with pytest.raises(LabBusy, match="busy.*Try again in a minute"):
        s.submit(jobs[3].task)
    assert jobs[3].task.progress().state == "idle"
    assert s.counts() == (1, 2)
    for job in jobs[:3]:
        job.finish() if job.started.wait(TIMEOUT) else None
    assert order == ["job0", "job1", "job2"]


def test_cancel_takes_a_waiting_job_out_and_the_queue_closes_up(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    order = []
    jobs = _jobs(4, order)
    for job in jobs:
        s.submit(job.task)
    assert jobs[0].started.wait(TIMEOUT)
    assert s.cancel(jobs[1].task)
    assert jobs[1].task.progress().state == "cancelled"
    assert "waited" in jobs[1].task.progress().message
    assert not s.cancel(jobs[1].task)               # only once
    assert not s.cancel(jobs[0].task)               # a running job is stopped, not cancelled
    assert [s.place(j.task).position for j in jobs[2:]] == [1, 2]
    jobs[0].finish()
    assert jobs[2].started.wait(TIMEOUT)
    jobs[2].finish()
    assert jobs[3].started.wait(TIMEOUT)
    jobs[3].finish()
    assert order == ["job0", "job2", "job3"]


def test_the_wait_estimate_plays_the_queue_forward_over_the_slots(scheduler):
    s = scheduler(slots=2, max_waiting=10)
    order = []
    jobs = _jobs(5, order)
    estimates = [10.0, 20.0, 5.0, 7.0, 3.0]
    for job, seconds in zip(jobs, estimates):
        s.submit(job.task, estimate_seconds=seconds)
    assert jobs[0].started.wait(TIMEOUT) and jobs[1].started.wait(TIMEOUT)
    # slots free at 10 and 20; job2 (5 s) takes the one free at 10 → free at 15;
    # job3 (7 s) the one at 15 → 22; job4 starts at min(20, 22) = 20.
    expected = {2: 10.0, 3: 15.0, 4: 20.0}
    for index, seconds in expected.items():
        place = s.place(jobs[index].task)
        assert place.waiting == 3
        assert seconds - 1.0 <= place.wait_seconds <= seconds
    for job in jobs:
        job.finish()


def test_estimates_learn_from_the_jobs_that_finished(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    order = []
    first, second, third = _jobs(3, order)
    s.submit(first.task, estimate_seconds=1000.0)   # far too long: it ends at once
    s.submit(second.task, estimate_seconds=1000.0)
    s.submit(third.task, estimate_seconds=1000.0)
    assert first.started.wait(TIMEOUT)
    before = s.place(third.task).wait_seconds
    first.finish()
    assert second.started.wait(TIMEOUT)
    after = s.place(third.task).wait_seconds
    assert before > 900 and after < 100             # measured ÷ estimated is tiny
    second.finish()
    third.finish() if third.started.wait(TIMEOUT) else None


def test_without_estimates_the_wait_is_unknown_not_invented(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    order = []
    jobs = _jobs(2, order)
    for job in jobs:
        s.submit(job.task)
    assert s.place(jobs[1].task).wait_seconds is None
    for job in jobs:
        job.finish() if job.started.wait(TIMEOUT) else None


def test_blas_threads_are_the_cores_shared_by_the_running_jobs(scheduler):
    s = scheduler(slots=2, max_waiting=10, cores=2)
    order = []
    a, b = _jobs(2, order)
    s.submit(a.task)
    assert a.threads == [2]                         # alone: both cores
    s.submit(b.task)
    assert a.threads[-1] == 1 and b.threads[-1] == 1
    b.finish()
    assert a.threads[-1] == 2                       # alone again
    a.finish()


def test_waiting_jobs_of_visitors_who_left_are_dropped_and_running_ones_stopped(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    order = []
    owners = [SessionToken() for _ in range(3)]
    jobs = [HeldJob(f"job{i}", order, owner=owners[i]) for i in range(3)]
    for job in jobs:
        s.submit(job.task)
    assert jobs[0].started.wait(TIMEOUT)
    del owners[1:]                                  # the tabs of the waiting two close
    gc.collect()
    s.look_once()
    assert [j.task.progress().state for j in jobs[1:]] == ["cancelled", "cancelled"]
    assert "session ended" in jobs[1].task.progress().message
    assert s.counts() == (1, 0)
    del owners[0]                                   # and the running one's
    gc.collect()
    s.look_once()
    assert jobs[0].task.join(TIMEOUT)
    assert jobs[0].task.progress().state == "stopped"
    assert order == ["job0"]
    assert s.counts() == (0, 0)


def test_a_job_whose_visitor_left_while_it_waited_is_skipped_when_its_turn_comes(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    order = []
    owner = SessionToken()
    first = HeldJob("first", order)
    gone = HeldJob("gone", order, owner=owner)
    last = HeldJob("last", order)
    for job in (first, gone, last):
        s.submit(job.task)
    assert first.started.wait(TIMEOUT)
    del owner
    gc.collect()
    first.finish()                                  # no watchdog round in between
    assert last.started.wait(TIMEOUT)
    last.finish()
    assert order == ["first", "last"]
    assert gone.task.progress().state == "cancelled"


class Visitor:
    """An ``alive`` the test steers, as ``lab.presence.Presence`` is steered by a tab:
    there, away (its connection down, within the grace) or gone."""

    def __init__(self):
        self.here, self.gone = True, False

    def __call__(self):
        return not self.gone

    def away(self):
        return self.gone or not self.here


def test_a_job_whose_visitor_is_away_is_passed_over_and_keeps_its_place(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    order, visitor = [], Visitor()
    first = HeldJob("first", order)
    away = HeldJob("away", order, alive=visitor)
    last = HeldJob("last", order)
    for job in (first, away, last):
        s.submit(job.task)
    assert first.started.wait(TIMEOUT)
    visitor.here = False                            # its connection drops
    first.finish()
    assert last.started.wait(TIMEOUT)               # the slot goes to the one behind it
    assert not away.started.is_set() and away.task.progress().state == "queued"
    assert s.place(away.task).position == 1
    visitor.here = True                             # back within the grace
    last.finish()
    assert away.started.wait(TIMEOUT)
    away.finish()
    assert order == ["first", "last", "away"]


def test_a_slot_left_free_for_an_away_visitor_is_filled_when_they_are_back(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    order, visitor = [], Visitor()
    first = HeldJob("first", order)
    away = HeldJob("away", order, alive=visitor)
    for job in (first, away):
        s.submit(job.task)
    assert first.started.wait(TIMEOUT)
    visitor.here = False
    first.finish()
    assert s.counts() == (0, 1)                     # nobody to start: the slot stays free
    visitor.here = True
    s.look_once()                                   # the watchdog's round sees them back
    assert away.started.wait(TIMEOUT)
    away.finish()
    visitor.gone = True                             # and a visitor gone for good is dropped
    late = HeldJob("late", order, alive=visitor)
    blocker = HeldJob("blocker", order)
    s.submit(blocker.task)
    s.submit(late.task)
    s.look_once()
    assert late.task.progress().state == "cancelled"
    blocker.finish()
    assert order == ["first", "away", "blocker"]


def test_a_new_job_takes_a_slot_kept_free_for_visitors_away(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    order, visitor = [], Visitor()
    first = HeldJob("first", order)
    away = HeldJob("away", order, alive=visitor)
    s.submit(first.task)
    s.submit(away.task)
    assert first.started.wait(TIMEOUT)
    visitor.here = False
    first.finish()
    assert s.counts() == (0, 1)
    newcomer = HeldJob("newcomer", order)
    s.submit(newcomer.task)                         # no watchdog round in between
    assert newcomer.started.wait(TIMEOUT)
    assert s.place(away.task).position == 1         # still first in line
    newcomer.finish()
    visitor.gone = True
    s.look_once()
    assert order == ["first", "newcomer"]


# ------------------------------------------------------------------ with real trainers
def test_trainers_through_one_slot_all_finish_one_after_another(scheduler):
    s = scheduler(slots=1, max_waiting=10)
    X, y = xor_signs()
    trainers = [ProcessTrainer(small_network(), X, y, epochs=3, batch_size=32, seed=i) for i in range(3)]
    ended = {}
    for trainer in trainers:
        trainer.when_done(lambda job: ended.setdefault(id(job), time.time()))
        s.submit(trainer, estimate_seconds=0.5)
    assert [t.progress().state for t in trainers[1:]] == ["queued", "queued"]
    for trainer in trainers:     # a queued trainer has no thread yet: wait for its end
        assert wait_until(lambda: id(trainer) in ended)
    assert [t.progress().state for t in trainers] == ["finished"] * 3
    assert all(t.progress().epoch == 3 for t in trainers)
    # one slot: each run started after the one before it had ended
    for before, after in zip(trainers, trainers[1:]):
        assert after.started_at >= ended[id(before)]


def test_a_run_past_the_time_limit_stops_and_keeps_what_it_learned(scheduler, clock):
    s = scheduler(slots=1, max_waiting=10, run_seconds=0.5)   # the test calls look_once
    X, y = xor_signs(2048)
    net = small_network()
    before = [w.copy() for w in net.get_weights()]
    trainer = ProcessTrainer(net, X, y, epochs=10_000, batch_size=16)
    s.submit(trainer)
    # However slowly the child starts on a loaded machine: once it has trained and the
    # limit has passed, one watchdog round stops it.
    assert wait_until(lambda: trainer.progress(batch_loss=False).step > 0)
    s.look_once()                         # within the limit: it goes on
    assert trainer.progress().state == "running"
    clock.now += 0.6
    s.look_once()
    assert trainer.join(TIMEOUT)
    p = trainer.progress()
    assert p.state == "stopped" and "limit of 0.5 seconds per run" in p.message
    assert p.step > 0
    assert any(not np.array_equal(a, b) for a, b in zip(before, net.get_weights()))


def test_a_paused_run_gives_its_slot_up_only_when_others_wait(scheduler, clock):
    s = scheduler(slots=1, max_waiting=10, pause_seconds=0.2)   # the test calls look_once
    X, y = xor_signs(2048)
    first = ProcessTrainer(small_network(), X, y, epochs=10_000, batch_size=16)
    s.submit(first)
    first.pause()
    assert wait_until(lambda: first.progress().held)
    s.look_once()                         # the watchdog sees the pause begin …
    clock.now += 0.3
    s.look_once()                         # … and, alone, it may stay paused past the limit
    assert first.progress().state == "paused"
    order = []
    second = HeldJob("second", order)
    s.submit(second.task)                 # now someone waits: the pause costs them
    s.look_once()
    assert first.join(TIMEOUT)
    assert first.progress().state == "stopped" and "paused" in first.progress().message
    assert second.started.wait(TIMEOUT)
    second.finish()


def test_the_child_follows_the_blas_threads_it_is_given():
    """The child applies its control's number of threads with threadpoolctl, and only
    when the number changes."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not threadpoolctl.threadpool_info():
        pytest.skip("no BLAS that threadpoolctl can steer")

    class Control:
        threads = 1
    blas = processes._BlasThreads(Control())
    original = {i["internal_api"]: i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"}
    try:
        blas.follow()
        assert all(i["num_threads"] == 1 for i in threadpoolctl.threadpool_info()
                   if i["user_api"] == "blas")
    finally:
        threadpoolctl.threadpool_limits(limits=max(original.values()), user_api="blas")


def test_bounds_are_checked_when_the_scheduler_is_made(monkeypatch):
    with pytest.raises(ValueError, match="slots must be between"):
        Scheduler(slots=-1)
    monkeypatch.setenv("NNCORE_SLOTS", "two")
    with pytest.raises(ValueError, match="NNCORE_SLOTS must be a number"):
        Scheduler()
    monkeypatch.setenv("NNCORE_SLOTS", "3")
    s = Scheduler()
    assert s.slots == 3
    s.close()


def test_the_run_log_has_a_line_per_ended_job(scheduler, clock, monkeypatch, tmp_path):
    """NNCORE_RUN_LOG: one JSON line per job that ends — finished or cancelled — with its
    wait and run seconds (what a host and the classroom benchmark read)."""
    import json
    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv("NNCORE_RUN_LOG", str(log))
    s = scheduler(slots=1, max_waiting=10)
    order = []
    first, second, third = _jobs(3, order)
    for job in (first, second, third):
        s.submit(job.task, estimate_seconds=2.0)
    assert first.started.wait(TIMEOUT)
    clock.now += 5.0
    s.cancel(third.task)                            # waited 5 s, never ran
    clock.now += 3.0
    first.finish()                                  # ran 8 s; the second waited as long
    assert second.started.wait(TIMEOUT)
    clock.now += 2.0
    second.finish()
    assert wait_until(lambda: log.exists() and len(log.read_text().splitlines()) == 3)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(line["state"], line["wait_seconds"], line["run_seconds"]) for line in lines] == [
        ("cancelled", 5.0, 0.0), ("finished", 0.0, 8.0), ("finished", 8.0, 2.0)]
    assert all(line["submitted"] == 1.8e9 + 1000.0 for line in lines)
    assert all(line["estimate_seconds"] == 2.0 for line in lines)


def test_a_job_that_cannot_start_is_cancelled_and_the_line_moves_on(scheduler, monkeypatch):
    """A start that fails (no thread, no process to be had) ends that job with a sentence;
    the jobs behind it still start, in order."""
    s = scheduler(slots=1, max_waiting=10)
    order = []
    first, broken, last = _jobs(3, order)
    for job in (first, broken, last):
        s.submit(job.task)
    assert first.started.wait(TIMEOUT)
    original, failures = threading.Thread.start, [1]

    def start_once_failing(self):       # the next job to start finds no thread to be had
        if self.name == "nncore-task" and failures:
            failures.pop()
            raise RuntimeError("can't start new thread")
        return original(self)
    monkeypatch.setattr(threading.Thread, "start", start_once_failing)
    first.finish()
    assert wait_until(lambda: broken.task.progress().state == "cancelled")
    assert "could not start on this server (can't start new thread)" in \
        broken.task.progress().message
    assert last.started.wait(TIMEOUT)
    last.finish()
    assert order == ["job0", "job2"]
    assert s.counts() == (0, 0)


def test_a_start_that_fails_at_once_answers_with_a_sentence(scheduler, monkeypatch):
    s = scheduler(slots=1, max_waiting=10)
    job = _jobs(1, [])[0]

    def no_thread(self):
        raise RuntimeError("can't start new thread")
    monkeypatch.setattr(threading.Thread, "start", no_thread)
    with pytest.raises(LabBusy, match="could not start on this server"):
        s.submit(job.task)
    assert job.task.progress().state == "idle" and s.counts() == (0, 0)
