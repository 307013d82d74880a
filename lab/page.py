"""The shape every page has: one entry function, run through one error guard.

A page file defines ``render()`` and ends with ``run_page(render)``. Anything a page does
not expect becomes one sentence on the page, and its traceback goes to the server log, so
no visitor ever sees a stack trace or Streamlit's generic error box. A fragment, which
reruns on its own without its page, wears the same guard (``@guarded``).

``st.stop()`` and ``st.rerun()`` pass through: they are not errors (Streamlit raises them
as BaseExceptions).

Sentences for the page: ``show_error`` for what went wrong, and a *notice* for what a
button's callback has to say — callbacks run before the page is drawn, so they leave the
sentence in the session and the page shows it once, where the button is.
"""

from __future__ import annotations

import functools
import logging

import streamlit as st

_LOG = logging.getLogger("lab")
NOTICE = "page_notice"          # (kind, sentence) left by a callback, shown once


def show_error(message: str) -> None:
    """Errors reach the page as a sentence, never as a stack trace."""
    st.error(message, icon="⚠️")


def guarded(fn):
    """Run ``fn``; an unexpected error becomes a sentence on the page."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            _LOG.exception("Unexpected error in %s", fn.__qualname__)
            show_error(f"Something went wrong on this page: {exc}")
    return wrapper


def run_page(render) -> None:
    """Every page's last line: draw the page through the error guard. (The session's
    defaults are the frame's job; setting them here too costs nothing and lets a page run on
    its own, as the page tests run it.)"""
    from lab import runs, state
    state.init()
    runs.init()
    guarded(render)()


# ---------------------------------------------------------------- notices from callbacks
def notice(kind: str, text: str) -> None:
    """Leave a sentence for the page to show once: kind is error, success, info or warning."""
    st.session_state[NOTICE] = (kind, text)


def show(kind: str, text: str) -> None:
    {"error": show_error, "success": st.success, "info": st.info,
     "warning": st.warning}.get(kind, st.info)(text)


def show_notice() -> None:
    """Show (and forget) the sentence a callback left, if any."""
    held = st.session_state.pop(NOTICE, None)
    if held:
        show(*held)
