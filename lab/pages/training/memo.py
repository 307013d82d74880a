"""Figures and analyses kept in the session until the numbers behind them change.

The page reruns on every click and its live parts every few seconds; rebuilding a figure
or re-predicting a test set each time would take the CPU the training needs. ``cached``
builds a value once per *signature* — numbers compared by value, everything else (a
network, a data set) by identity, so a new model can never be mistaken for an old one.
"""

from __future__ import annotations

import streamlit as st

CACHE = "training_cache"            # name -> (signature, value)


def cached(name: str, signature, build):
    """``build()`` once per ``signature``."""
    cache = st.session_state.setdefault(CACHE, {})
    hit = cache.get(name)
    if hit is not None and _same(hit[0], signature):
        return hit[1]
    value = build()
    cache[name] = (signature, value)
    return value


def _same(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float, str, type(None))) and isinstance(b, (int, float, str, type(None))):
        return a == b
    return a is b
