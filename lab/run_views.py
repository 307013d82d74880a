"""What the pages and the sidebar show of a session's run, whoever started it.

    waiting_panel(job, …)     while a run waits for a free slot: its place in the server's
                              line, about how long, and Cancel
    sidebar(poll)             "Training: epoch 3/10 (running)" in the frame's sidebar,
                              refreshed while the run goes on

The run itself — starting, steering, collecting — is ``lab.runs``.
"""

from __future__ import annotations

import streamlit as st

from lab import runs
from lab.page import callback, guarded
from lab.summaries import duration, ordinal


def waiting_panel(job, what: str, key: str) -> bool:
    """While ``job`` waits for a free slot: where it stands in the server's queue, about
    how long until it starts, and a Cancel button (``key``). False when it does not wait."""
    place = runs.scheduler().place(job)
    if place is None:
        return False
    running, _ = runs.scheduler().counts()
    wait = (f" About {duration(place.wait_seconds)} to wait." if place.wait_seconds is not None
            else "")
    left, right = st.columns([5, 1])
    left.info(f"{what} is waiting for a free slot on this shared server: "
              f"**{ordinal(place.position)} in line** of {place.waiting}, with {running} "
              f"run{'s' if running != 1 else ''} training now.{wait} It starts by itself; "
              "keep this tab open.", icon=":material/hourglass_top:")
    right.button("Cancel", key=key, icon=":material/close:", on_click=_cancel, args=(job,))
    return True


@callback
def _cancel(job) -> None:
    runs.scheduler().cancel(job, "cancelled while it waited for a free slot")


def status_line(progress, place=None) -> str:
    if place is not None:
        return (f"**Training:** waiting for a free slot ({ordinal(place.position)} in line "
                f"of {place.waiting})")
    return f"**Training:** epoch {progress.epoch}/{progress.epochs} ({progress.state})"


@guarded
def _sidebar_body(was_active: bool) -> None:
    trainer = runs.current()
    if trainer is None:
        return
    progress = trainer.progress(batch_loss=False)
    st.markdown(status_line(progress, runs.scheduler().place(trainer)))
    if was_active and not progress.active:
        runs.collect()
        if _in_fragment_rerun():
            st.rerun()      # once, at the end of the run: the page redraws with the new model


def _in_fragment_rerun() -> bool:
    """True while Streamlit reruns only fragments (not the whole script)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    return bool(ctx is not None and getattr(ctx, "fragment_ids_this_run", None))


def sidebar(poll: bool = True) -> None:
    """The sidebar's "Training: epoch 3/10" line. While a run goes on and ``poll`` is
    true it refreshes itself every POLL_SECONDS (a fragment), and when the run ends it
    hands the network on to the model and reruns the app once. A page that shows the
    progress itself (Training) makes the frame pass poll=False: one poller fewer."""
    runs.collect()
    trainer = runs.current()
    if trainer is None:
        return
    if trainer.progress(batch_loss=False).active and poll:
        st.fragment(run_every=runs.POLL_SECONDS)(_sidebar_body)(True)
    elif trainer.progress(batch_loss=False).active:     # no epoch count: it would go stale
        now = {"queued": "waiting for a free slot"}.get(trainer.state, trainer.state)
        st.markdown(f"**Training:** {now} — its progress is on this page")
    else:
        _sidebar_body(False)
