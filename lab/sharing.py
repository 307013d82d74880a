"""What a link brings to the page and cannot take away: an assignment's lock (and Unlock) in
the sidebar, its question at the top of the Training page, and what a share link cannot
carry, said where the link is.

The assignment itself is the session's (``state.get_assignment``, read from the link by
``lab.links.assignment``); the pages that edit a setup ask ``fixed`` and ``hidden`` before
they draw a setting's widgets.
"""

from __future__ import annotations

import streamlit as st

from lab import links, state
from lab.links import UPLOAD
from lab.links.assignment import describe
from nncore.data import points as drawn


def fixed(name: str) -> bool:
    """Whether the setting ``name`` (a key of ``links.assignment.SETTINGS``) is shown but
    not editable: the assignment link locked or hid it."""
    return state.get_assignment().fixed(name)


def hidden(name: str) -> bool:
    """Whether the setting ``name`` is left off the page: the assignment link hid it."""
    return state.get_assignment().is_hidden(name)


def lock_status() -> None:
    """The sidebar's word on an assignment link's lock, and the one click that lifts it."""
    assignment = state.get_assignment()
    if not assignment.locks:
        return
    with st.container(border=True, key="assignment_lock"):
        st.markdown("🔒 **This setup is locked** by the assignment link.")
        st.caption(describe(assignment)[0].upper() + describe(assignment)[1:] + ".")
        st.button("Unlock", key="assignment_unlock", icon=":material/lock_open:",
                  on_click=state.unlock, help="Make every setting editable again (the "
                  "question stays on the Training page).")


def link_limits() -> None:
    """Under the share link: what it cannot carry, plainly."""
    data = state.get_spec().data
    if data.get("name") == drawn.NAME and not links.points_travel(data):
        st.warning(f"Your {drawn.count(data['points']):,} points are too many to travel in a "
                   f"link (at most {links.MAX_LINK_POINTS}): this link opens an empty plane. "
                   "Share them as a CSV file (Dataset page).", icon="📦")
    elif data.get("name") == UPLOAD:
        st.warning("An uploaded data set stays in this session: this link opens the default "
                   "data set instead.", icon="📦")


def question() -> None:
    """The assignment's question at the top of the Training page, as plain text (never
    Markdown or HTML: a link's text is a stranger's)."""
    prompt = state.get_assignment().prompt
    if prompt:
        with st.container(border=True, key="assignment_question"):
            st.markdown("**📝 Your assignment**")
            st.text(prompt)
