"""Is a session's visitor still there? Asked by the training workers and the scheduler.

A run belongs to a visitor, and a visitor who closes the tab should not hold a slot of a
shared server, nor its memory. Streamlit drops a closed session's state only about two
minutes after its tab went (it keeps it for a reconnect), so ``lab.runs`` gives every run
a ``Presence`` to ask, from the workers' own threads, much sooner.
"""

from __future__ import annotations

import time


class Presence:
    """Whether a session's visitor is still there, asked by the workers and the scheduler
    from their own threads (so it holds the session's id, never the session).

    Gone means: the tab's connection has been closed for GRACE_SECONDS (a connection that
    drops on a busy server and comes back within that keeps its run), or the page has not
    polled for HEARTBEAT_SECONDS while it should have (pages poll every few seconds while
    a run is queued or going; a browser slows the timers of a hidden tab to once a
    minute, so the heartbeat waits for two of those)."""

    GRACE_SECONDS = 15.0
    HEARTBEAT_SECONDS = 150.0

    def __init__(self, session_id: str | None):
        self.session_id = session_id
        self.seen = time.monotonic()
        self.disconnected_since: float | None = None

    def touch(self) -> None:
        self.seen = time.monotonic()

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self.seen > self.HEARTBEAT_SECONDS:
            return False
        if _connected(self.session_id):
            self.disconnected_since = None
            return True
        if self.disconnected_since is None:
            self.disconnected_since = now
        return now - self.disconnected_since < self.GRACE_SECONDS

    def away(self) -> bool:
        """Not there just now: gone, or the connection down (within the grace, it may come
        back). A queue passes such a visitor's run over rather than start it."""
        return not self() or self.disconnected_since is not None


def _connected(session_id: str | None) -> bool:
    """Whether Streamlit holds a live connection for this session (True where there is
    no server to ask, as in the page tests)."""
    from streamlit.runtime import Runtime
    if session_id is None or not Runtime.exists():
        return True
    return Runtime.instance().is_active_session(session_id)
