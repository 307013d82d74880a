"""A shared server in Streamlit's AppTest: two visitors' sessions, one training slot.

The second visitor's Start waits in the server's queue (the page says where it stands and
offers Cancel), and starts by itself when the first run ends; a full queue answers with a
sentence; a visitor whose tab has gone loses their place; the sidebar says "waiting".
Each test gives the app a scheduler of its own (one slot), as ``NNCORE_SLOTS=1`` would.
"""


import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import TIMEOUT, app_page, moons_spec, poll_until, training_page

from lab import presence, runs
from nncore.jobs.scheduler import Scheduler
from nncore.runs.spec import RunSpec



@pytest.fixture
def one_slot(monkeypatch):
    """The app's scheduler for this test: one slot, a watchdog the test drives itself."""
    made = {}

    def make(**kwargs):
        kwargs = {"slots": 1, "max_waiting": 5, "tick_seconds": 60, **kwargs}
        made["scheduler"] = Scheduler(**kwargs)
        monkeypatch.setattr(runs, "scheduler", lambda: made["scheduler"])
        return made["scheduler"]
    yield make
    if "scheduler" in made:
        made["scheduler"].close()


def _spec(epochs=2) -> RunSpec:
    return moons_spec(batch_size=1, epochs=epochs)


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in (at.info, at.success, at.error, at.warning,
                                               at.markdown) for e in kind)


def test_a_second_visitors_start_waits_then_runs_by_itself(one_slot):
    scheduler = one_slot()
    first, second = training_page(_spec(epochs=10_000)), training_page(_spec(epochs=2))
    first.button(key="training_start").click().run()
    first_run = first.session_state["trainer"]
    assert first_run.state == "running"

    second.button(key="training_start").click().run()
    second_run = second.session_state["trainer"]
    assert second_run.state == "queued"
    assert scheduler.counts() == (1, 1)
    texts = _texts(second)
    assert "waiting for a free slot" in texts and "1st in line" in texts
    assert second.button(key="training_cancel_wait")            # it can leave the queue
    assert second.button(key="training_pause").disabled         # nothing to pause yet

    first.button(key="training_stop").click().run()             # the slot frees …
    poll_until(second, lambda: not second_run.progress().active)  # … and the wait ends
    assert second_run.progress().state == "finished"
    assert second.session_state["model"] is second_run.network
    assert first_run.started_at <= second_run.started_at
    assert first.session_state["model"] is not second.session_state["model"]
    assert scheduler.counts() == (0, 0)


def test_a_waiting_visitor_can_cancel_and_start_again(one_slot):
    scheduler = one_slot()
    first, second = training_page(_spec(epochs=10_000)), training_page(_spec(epochs=2))
    first.button(key="training_start").click().run()
    second.button(key="training_start").click().run()
    waiting = second.session_state["trainer"]
    second.button(key="training_cancel_wait").click().run()
    assert waiting.progress().state == "cancelled"
    assert "cancelled while it waited" in _texts(second)
    assert second.session_state["model"] is None                # nothing was trained
    assert scheduler.counts() == (1, 0)

    second.button(key="training_start").click().run()            # back in line
    assert second.session_state["trainer"].state == "queued"
    first.button(key="training_stop").click().run()
    again = second.session_state["trainer"]
    poll_until(second, lambda: not again.progress().active)
    assert again.progress().state == "finished"


def test_one_run_per_session_and_a_full_queue_answers_with_a_sentence(one_slot):
    one_slot(max_waiting=1)
    first, second, third = (training_page(_spec(epochs=10_000)) for _ in range(3))
    first.button(key="training_start").click().run()
    second.button(key="training_start").click().run()
    assert second.session_state["trainer"].state == "queued"

    second.button(key="training_start").click().run()            # a second Start, same session
    assert "already waiting for a free slot" in _texts(second)

    third.button(key="training_start").click().run()             # the queue is full
    assert third.session_state["trainer"] is None
    assert "The lab is busy" in _texts(third) and "Try again in a minute" in _texts(third)
    assert not third.exception

    first.button(key="training_stop").click().run()
    poll_until(second, lambda: second.session_state["trainer"].state != "queued")
    second.button(key="training_stop").click().run()
    poll_until(second, lambda: not second.session_state["trainer"].progress().active)


def test_a_visitor_who_left_loses_their_place_and_their_run_stops(one_slot, monkeypatch):
    scheduler = one_slot()
    first, second = training_page(_spec(epochs=10_000)), training_page(_spec(epochs=10_000))
    first.button(key="training_start").click().run()
    second.button(key="training_start").click().run()
    waiting = second.session_state["trainer"]
    running = first.session_state["trainer"]

    # Both tabs close: Streamlit no longer holds their connections.
    monkeypatch.setattr(presence, "_connected", lambda session_id: False)
    monkeypatch.setattr(presence.Presence, "GRACE_SECONDS", 0.0)
    scheduler.look_once()
    assert waiting.progress().state == "cancelled"
    assert "session ended" in waiting.progress().message
    assert running.join(TIMEOUT)
    assert running.progress().state == "stopped"
    assert "session ended" in running.progress().message
    assert scheduler.counts() == (0, 0)


def test_presence_allows_a_short_drop_and_notices_a_silent_tab(monkeypatch):
    """A connection that drops and comes back within the grace keeps its run; one that
    stays away does not; a page that stops polling is gone after the heartbeat."""
    clock = [1000.0]
    monkeypatch.setattr(presence.time, "monotonic", lambda: clock[0])
    connected = [True]
    monkeypatch.setattr(presence, "_connected", lambda session_id: connected[0])
    visitor = presence.Presence("session-1")
    assert visitor()
    assert not visitor.away()
    connected[0] = False
    clock[0] += presence.Presence.GRACE_SECONDS - 1
    assert visitor()                          # dropped, but within the grace
    assert visitor.away()                     # … so a queue passes its run over for now
    connected[0] = True
    clock[0] += 5
    assert visitor() and not visitor.away()   # back: the grace starts again next time
    connected[0] = False
    assert visitor()
    clock[0] += presence.Presence.GRACE_SECONDS + 1
    assert not visitor()                      # away for longer than the grace
    connected[0] = True
    visitor.touch()
    clock[0] += presence.Presence.HEARTBEAT_SECONDS + 1
    assert not visitor()                      # connected, but the page went silent


def test_the_sidebar_says_a_run_is_waiting(one_slot):
    """The frame's sidebar, on any page, says the session's run waits and where."""
    one_slot()
    first, second = training_page(_spec(epochs=10_000)), training_page(_spec(epochs=2))
    first.button(key="training_start").click().run()
    second.button(key="training_start").click().run()
    waiting = second.session_state["trainer"]
    frame = app_page(second.session_state["spec"], run_owner=second.session_state["run_owner"],
                     trainer=waiting)
    sidebar = "\n".join(m.value for m in frame.sidebar.markdown)
    assert "waiting for a free slot (1st in line of 1)" in sidebar
    first.button(key="training_stop").click().run()
    poll_until(second, lambda: not waiting.progress().active)
