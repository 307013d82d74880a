"""For teachers: an assignment link made from the current setup — the settings to lock (shown
but not editable), those to hide, and a question for the top of the Training page.

Nothing here changes this session: the link is for the learners. It opens on the Training
page, where the question is; ``lab.links.assignment`` reads it there.
"""

from __future__ import annotations

import streamlit as st

from lab import links, state
from lab.links.assignment import KEYS, MAX_PROMPT, SETTINGS, describe, make

LOCK, HIDE, ASK = "assign_lock", "assign_hide", "assign_ask"
EXAMPLE = ("Before you press Start: what will happen to the boundary if you halve the learning "
           "rate?")


def assignment_link(base: str | None) -> str:
    """The link of the current setup with the teacher's choices, on the Training page."""
    chosen = make(st.session_state.get(LOCK) or (), st.session_state.get(HIDE) or (),
                  st.session_state.get(ASK) or "")
    setup = {k: v for k, v in state.link_params().items() if k not in KEYS}   # (encoded once)
    query = "?" + links.query_string({**setup, **chosen.params()})
    if not base:
        return query
    page = base.split("?")[0].rstrip("/").removesuffix("/architecture")
    return links.with_base(page + "/training", query)


def maker() -> None:
    with st.expander("📝 For teachers: make an assignment link", icon=None):
        st.markdown("The link opens **this setup** on the Training page, with the settings you "
                    "choose fixed (shown, not editable) or hidden, and your question at the top, "
                    "as plain text. Learners can always unlock it with one click.")
        c = st.columns(2)
        c[0].multiselect("Lock: shown, not editable", list(SETTINGS), key=LOCK,
                         format_func=SETTINGS.get)
        c[1].multiselect("Hide: not shown (and not editable)", list(SETTINGS), key=HIDE,
                         format_func=SETTINGS.get)
        st.text_area("Question at the top of the Training page", key=ASK, max_chars=MAX_PROMPT,
                     placeholder=EXAMPLE, height=80)
        st.code(assignment_link(st.context.url), language=None, wrap_lines=False)
        chosen = make(st.session_state.get(LOCK) or (), st.session_state.get(HIDE) or ())
        what = describe(chosen)
        st.caption(f"In this link {what}." if what else
                   "Nothing is locked yet: choose settings above (or share the question alone).")
        if not links.points_travel(state.get_spec().data):
            st.warning(f"This setup's points are more than a link carries "
                       f"({links.MAX_LINK_POINTS}): learners would get an empty plane. Share "
                       "the CSV file with the link.", icon="📦")
