"""The shape every page has: one entry function, run through one error guard.

A page file defines ``render()`` and ends with ``run_page(render)``. Anything a page does
not expect becomes one sentence on the page, and its traceback goes to the server log, so
no visitor ever sees a stack trace or Streamlit's generic error box. Three things run code
for a page, and each wears the guard:

- the page itself: ``run_page(render)``;
- a fragment, which reruns on its own without its page: ``@guarded``;
- a widget's callback (``on_click``, ``on_change``), which Streamlit runs *before* the
  script, outside ``render`` and outside any fragment, so a page's guard cannot catch it:
  ``@callback``. Its sentence waits in the session and ``run_page`` shows it at the top of
  the page that is drawn next.

``st.stop()`` and ``st.rerun()`` pass through: they are not errors (Streamlit raises them
as BaseExceptions).

Sentences for the page: ``show_error`` for what went wrong, and a *notice* for what a
button's callback has to say — callbacks run before the page is drawn, so they leave the
sentence in the session and the page shows it once, where the button is.
"""

from __future__ import annotations

import functools
import logging
import sys

import streamlit as st

_LOG = logging.getLogger("lab")
NOTICE = "page_notice"          # (kind, sentence) left by a callback, shown once
FAILED = "page_failed"          # the sentence about a callback that failed, shown once


def show_error(message: str) -> None:
    """Errors reach the page as a sentence, never as a stack trace."""
    st.error(message, icon="⚠️")


def _sorry(exc: Exception) -> str:
    # The exception's own text may hold the server's paths or a visitor's input: the log
    # has it, the page gets its kind only.
    return (f"Something went wrong on this page ({type(exc).__name__}); it was logged for the "
            "developers. Your setup is kept: try again, or take another step.")


def _settle_imports() -> None:
    """Plotly reads pandas from ``sys.modules`` as it finds it there, without importing it;
    on a server just started, another script run (one that a click interrupted, say) may be
    halfway through importing it, and a figure built now would meet a module half made.
    Importing it waits for that import to finish. (Nothing to do once pandas is whole.)"""
    module = sys.modules.get("pandas")
    if module is not None and not hasattr(module, "Series"):
        import pandas  # noqa: F401


def guarded(fn):
    """Run ``fn``; an unexpected error becomes a sentence on the page."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _settle_imports()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            _LOG.exception("Unexpected error in %s", fn.__qualname__)
            show_error(_sorry(exc))
    return wrapper


def callback(fn):
    """A widget's callback, guarded: a setup refused (a ``SpecError``: out of bounds, too
    large, fixed by an assignment link) is said as its own sentence; an unexpected error
    leaves a sentence for the next page drawn (``run_page`` shows it) and its traceback in
    the server log."""
    from nncore.runs.schema import SpecError

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SpecError as exc:    # written for the visitor: no traceback to log
            notice("error", str(exc))
        except Exception as exc:
            _LOG.exception("Unexpected error in the callback %s", fn.__qualname__)
            st.session_state[FAILED] = _sorry(exc)
    return wrapper


def run_page(render) -> None:
    """Every page's last line: draw the page through the error guard. (The session's
    defaults are the frame's job; setting them here too costs nothing and lets a page run on
    its own, as the page tests run it.)"""
    from lab import runs, state
    state.init()
    runs.init()
    failed = st.session_state.pop(FAILED, None)
    if failed:
        show_error(failed)
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
