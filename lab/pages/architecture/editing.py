"""What the Architecture page's widgets do: each callback makes a new RunSpec from the
current one and the widget's value, and makes it the setup — or refuses, with the reason.

Each callback wears ``lab.page.callback``: Streamlit runs callbacks before the page, where
the page's own error guard cannot reach. Every change goes through ``apply``: the setup as a dict is changed by ``mutate``, checked
once by ``RunSpec.from_dict`` (the schema's bounds), and refused if it would newly go
above the hosted demo's work limit.
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, state
from lab.page import callback
from nncore.data import DataUnavailable
from nncore.runs.schema import LIMITS, NEW_LAYER, SCHEDULE, SpecError, default_lr
from nncore.runs.spec import RunSpec

ERROR = "arch_error"
AUTO = "auto"
FIELDS = {"units": "units", "act": "activation", "drop": "dropout", "init": "init",
          "filters": "filters", "kernel": "kernel", "pad": "padding", "pool": "pool",
          "stride": "stride"}


def dataset():
    """The current data set, or None when it cannot be loaded."""
    try:
        return datasets.current_dataset()
    except (ValueError, DataUnavailable):
        return None


def work(spec, ds) -> float:
    try:
        return spec.work(ds.n_train, ds.n_features, ds.n_classes, image_shape=ds.image_shape)
    except ValueError:   # conv layers on data that are not images: no size to speak of
        return 0.0


def apply(mutate) -> None:
    """Change the setup with ``mutate(dict)``; refuse, with the reason, what is not allowed."""
    old = state.get_spec()
    d = old.to_dict()
    try:
        mutate(d)
        spec = RunSpec.from_dict(d)
        ds = dataset()
        if ds is not None and work(spec, ds) > max(LIMITS["max_work"], work(old, ds)):
            spec.check_limits(ds.n_train, ds.n_features, ds.n_classes, image_shape=ds.image_shape)
    except (SpecError, ValueError, TypeError) as e:   # RunTooLarge is a SpecError
        st.session_state[ERROR] = f"That change was not made: {e}"
        return
    state.set_spec(spec)


@callback
def layer(i, field):
    def mutate(d):
        value = st.session_state[f"arch_{field}_{i}"]
        if field == "init":
            value = None if value == AUTO else value
        if field == "stride":
            value = None if value == AUTO else int(value)
        d["hidden"][i][FIELDS[field]] = value
    apply(mutate)


def new_layer(kind: str, activation: str = "relu") -> dict:
    layer = dict(NEW_LAYER[kind])
    if "activation" in layer:
        layer["activation"] = activation
    return layer


@callback
def kind(i):
    def mutate(d):
        old = d["hidden"][i]
        d["hidden"][i] = new_layer(st.session_state[f"arch_kind_{i}"], old.get("activation", "relu"))
    apply(mutate)


@callback
def move(i, step):
    def mutate(d):
        h = d["hidden"]
        j = i + step
        if 0 <= j < len(h):
            h[i], h[j] = h[j], h[i]
    apply(mutate)


@callback
def remove(i):
    apply(lambda d: d["hidden"].pop(i))


@callback
def add(kind="dense"):
    def mutate(d):
        if len(d["hidden"]) >= LIMITS["max_hidden_layers"]:
            raise ValueError(f"at most {LIMITS['max_hidden_layers']} hidden layers fit the "
                             "hosted demo.")
        if kind != "dense":   # image layers go after the other image layers, before dense ones
            at = sum(1 for h in d["hidden"] if h.get("kind", "dense") != "dense")
            d["hidden"].insert(at, new_layer(kind))
            return
        dense = [h for h in d["hidden"] if h.get("kind", "dense") == "dense"]
        last = dense[-1] if dense else {"units": 128, "activation": "relu"}
        d["hidden"].append({**new_layer("dense", last["activation"]),
                            "units": max(2, last["units"] // 2)})
    apply(mutate)


@callback
def reset():
    def mutate(d):
        data = d["data"]
        d.clear()
        d.update(RunSpec().to_dict())
        d["data"] = data
    apply(mutate)


@callback
def setting(field, key, convert=lambda v: v):
    def mutate(d):
        d[field] = convert(st.session_state[key])
    apply(mutate)


@callback
def optimizer():
    def mutate(d):
        name = st.session_state["arch_opt"]
        before = d["optimizer"].get("name")
        opt = {"name": name, "lr": float(st.session_state["arch_lr"])}
        if (name == "adam") != (before == "adam"):   # a new family: its usual learning rate
            opt["lr"] = default_lr(name)
        if name in ("momentum", "nesterov") and before in ("momentum", "nesterov", "sgd") \
                and "arch_mom" in st.session_state:
            opt["momentum"] = float(st.session_state["arch_mom"])
        if name == "adam" and before == "adam":
            for k in ("beta1", "beta2"):
                if f"arch_{k}" in st.session_state:
                    opt[k] = float(st.session_state[f"arch_{k}"])
            if "eps" in d["optimizer"]:
                opt["eps"] = d["optimizer"]["eps"]
        d["optimizer"] = opt
    apply(mutate)


@callback
def schedule():
    def mutate(d):
        name = st.session_state["arch_sched"]
        sched = {"name": name}
        if name == "step":
            sched.update(
                step_size=int(st.session_state.get("arch_sstep", SCHEDULE["step_size"].default)),
                gamma=float(st.session_state.get("arch_gamma", SCHEDULE["gamma"].default)))
        elif name == "cosine" and "arch_minlr" in st.session_state and \
                d["schedule"].get("name") == "cosine":
            sched["min_lr_fraction"] = float(st.session_state["arch_minlr"])
        d["schedule"] = sched
    apply(mutate)


@callback
def batch():
    def mutate(d):
        d["batch_size"] = None if st.session_state["arch_full"] else int(st.session_state["arch_bs"])
    apply(mutate)


@callback
def load(name):
    state.load_preset(name)
    st.session_state.pop(ERROR, None)


@callback
def fix_loss():
    apply(lambda d: d.update(loss="softmax_cross_entropy", output_activation=None))
