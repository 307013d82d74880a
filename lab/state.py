"""What a session holds: the current setup and model, and the link that mirrors them.

Per-user state lives in ``st.session_state`` under the keys below, and only this module
reads or writes them (pages keep their own widget keys):

    SPEC      the current ``RunSpec``: a checked value, replaced on every change and never
              edited in place, so it is validated once per change and nowhere else
    MODEL     the latest trained or uploaded ``nncore.Network``, or None
    PRESET    the preset loaded last, or None once the setup is edited by hand
    NOTES     what was wrong with the link the session was opened with
    ASSIGNMENT  what an assignment link asked (``links.Assignment``): settings locked or
              hidden, which ``set_spec`` keeps as they are, and a question
    LINK      (spec, assignment, query parameters): the link of the current setup, encoded
              once per change

The link in the address bar is read once, when the session starts (``apply_link_once``),
and written at the end of every run of the frame (``sync_link``) when the setup changed.
"""

from __future__ import annotations

import streamlit as st

from lab import links
from lab.page import callback, notice
from nncore.runs.presets import get_preset
from nncore.runs.spec import RunSpec

SPEC = "spec"
MODEL = "model"
PRESET = "preset"
NOTES = "link_notes"
ASSIGNMENT = "assignment"
LINK_READ = "link_read"
LINK = "link"
NO_ASSIGNMENT = links.Assignment()


def init() -> None:
    """Give a new session its defaults (the frame calls this on every run)."""
    if SPEC not in st.session_state:      # (setdefault would build a RunSpec every time)
        st.session_state[SPEC] = RunSpec()
    st.session_state.setdefault(MODEL, None)
    st.session_state.setdefault(PRESET, None)
    st.session_state.setdefault(NOTES, [])


# ---------------------------------------------------------------- the setup
def get_spec() -> RunSpec:
    """The current setup (a checked RunSpec; make a changed one with ``spec.replace``)."""
    spec = st.session_state.get(SPEC)
    if not isinstance(spec, RunSpec):
        spec = st.session_state[SPEC] = RunSpec()
    return spec


def set_spec(spec: RunSpec, preset: str | None = None) -> None:
    """Make ``spec`` the current setup; ``preset`` names it when it is one, unchanged. A
    change to a setting an assignment link fixed is refused: ``links.Locked``, a SpecError
    whose sentence says which and how to unlock."""
    if not isinstance(spec, RunSpec):
        raise TypeError(f"set_spec takes a RunSpec, got {type(spec).__name__}.")
    get_assignment().check(get_spec(), spec)
    st.session_state[SPEC] = spec
    st.session_state[PRESET] = preset


def load_preset(name: str) -> None:
    """Make the preset the current setup (the trained model, if any, is left alone) —
    unless it would change what an assignment link fixed: then a notice says so."""
    try:
        set_spec(get_preset(name).run_spec(), preset=name)
    except links.Locked as e:
        notice("warning", f"The preset was not loaded: {e}")


def get_assignment() -> links.Assignment:
    """What the assignment link this session opened with still asks (none: nothing)."""
    return st.session_state.get(ASSIGNMENT) or NO_ASSIGNMENT


@callback
def unlock() -> None:
    """One click: every setting editable again; the question stays."""
    st.session_state[ASSIGNMENT] = get_assignment().unlocked()


def preset_name() -> str | None:
    return st.session_state.get(PRESET)


def get_model():
    return st.session_state.get(MODEL)


def set_model(network) -> None:
    st.session_state[MODEL] = network


# ---------------------------------------------------------------- the link
def apply_link_once() -> None:
    """Read the link the session was opened with (once), before anything else sets the
    setup; what was wrong with it goes to NOTES."""
    if st.session_state.get(LINK_READ):
        return
    st.session_state[LINK_READ] = True
    params = st.query_params.to_dict()
    if not links.is_link(params):
        return
    spec, notes = links.spec_from_params(params)
    set_spec(spec)
    st.session_state[ASSIGNMENT], more = links.assignment_from_params(params)
    st.session_state[NOTES] = notes + more


def link_notes() -> list[str]:
    return st.session_state.get(NOTES) or []


@callback
def dismiss_link_notes() -> None:
    st.session_state[NOTES] = []


def link_params() -> dict[str, str]:
    """The query parameters of the current setup (and of its assignment, while there is
    one), encoded once per change."""
    spec, assignment = get_spec(), get_assignment()
    held = st.session_state.get(LINK)
    if held is None or held[0] is not spec or held[1] != assignment:
        held = st.session_state[LINK] = (spec, assignment, {**links.spec_to_params(spec),
                                                            **assignment.params()})
    return held[2]


def sync_link() -> None:
    """Mirror the current setup in the address bar (only when it changed)."""
    params = link_params()
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def share_url() -> str:
    """The link that opens this setup: the app's address (when the browser told us) plus
    the query string."""
    query = "?" + links.query_string(link_params())
    base = st.context.url
    if not base:
        return query
    return links.with_base(base, query)
