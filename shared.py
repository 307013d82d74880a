"""Helpers every page of the app shares: session-state keys, the current setup, cached data.

Per-user state lives in ``st.session_state`` under the keys below; data shared between
users (MNIST, generated sets) is cached once per server process and handed out read-only.
Pages stay thin: they read and write the setup through these helpers and call ``nncore``.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from nncore.data import DATASETS, DataUnavailable, Dataset, load_dataset
from nncore.spec import RunSpec

# ---------------------------------------------------------------- session-state keys
SPEC = "spec"            # dict: the current RunSpec (data set, layers, optimizer, …)
MODEL = "model"          # nncore.Network or None: the latest trained or uploaded model
TRAINER = "trainer"      # nncore.background.BackgroundTrainer or None: the run in progress
NOTES = "link_notes"     # list[str]: what was wrong with the link the session opened with


def init_state() -> None:
    """Give a new session its defaults (the app frame calls this on every run)."""
    st.session_state.setdefault(SPEC, RunSpec().to_dict())
    st.session_state.setdefault(MODEL, None)
    st.session_state.setdefault(TRAINER, None)
    st.session_state.setdefault(NOTES, [])


def get_spec() -> RunSpec:
    """The current setup. A stored spec that no longer validates falls back to the default."""
    try:
        return RunSpec.from_dict(st.session_state[SPEC])
    except (ValueError, TypeError):
        st.session_state[SPEC] = RunSpec().to_dict()
        return RunSpec()


def set_spec(spec: RunSpec) -> None:
    st.session_state[SPEC] = spec.validate().to_dict()


def get_model():
    return st.session_state.get(MODEL)


def set_model(network) -> None:
    st.session_state[MODEL] = network


# ---------------------------------------------------------------- data, cached per server
def _read_only(dataset: Dataset) -> Dataset:
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        getattr(dataset, name).flags.writeable = False
    return dataset


@st.cache_resource(show_spinner="Loading the data set…", max_entries=16)
def _cached_dataset(key: str) -> Dataset:
    params = json.loads(key)
    return _read_only(load_dataset(params.pop("name"), **params))


def dataset_for(data: dict) -> Dataset:
    """The data set a spec's ``data`` dict names, loaded once per server and shared
    read-only. MNIST that cannot be loaded comes back as the 8×8 digits with
    ``fallback_reason`` set — pages must show that reason."""
    return _cached_dataset(json.dumps(data, sort_keys=True))


def current_dataset() -> Dataset:
    return dataset_for(get_spec().data)


def dataset_title(name: str) -> str:
    info = DATASETS.get(name)
    return info.title if info else name


# ---------------------------------------------------------------- one-line summaries
def data_line(spec: RunSpec) -> str:
    params = ", ".join(f"{k} {v}" for k, v in spec.data.items() if k != "name")
    return f"{dataset_title(spec.data['name'])}" + (f" ({params})" if params else "")


def network_line(spec: RunSpec, n_features: int | None = None, n_classes: int | None = None) -> str:
    sizes = [str(n_features) if n_features else "in"]
    sizes += [str(h.units) for h in spec.hidden]
    if n_classes:
        sizes.append(str(spec.output_layer(n_classes)[0]))
    else:
        sizes.append("out")
    acts = "/".join(dict.fromkeys(h.activation for h in spec.hidden)) or "no hidden layer"
    opt = spec.optimizer
    return f"{'-'.join(sizes)} {acts}, {opt['name']} lr {opt.get('lr')}, {spec.epochs} epochs"


def show_error(message: str) -> None:
    """Errors reach the page as a sentence, never as a stack trace."""
    st.error(message, icon="⚠️")


__all__ = [
    "SPEC", "MODEL", "TRAINER", "NOTES", "init_state", "get_spec", "set_spec", "get_model",
    "set_model", "dataset_for", "current_dataset", "dataset_title", "data_line",
    "network_line", "show_error", "DataUnavailable", "np",
]
