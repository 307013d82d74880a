"""Architecture page: presets, hidden layers, loss, optimizer and training settings, with
the network's summary, a diagram and the equations of its forward and backward pass.

Every widget is bound to the current setup: its value is set from ``shared.get_spec()``
before it is drawn and its callback writes the setup back through ``_apply``, which
validates the result and refuses (with the reason) what the spec or the hosted limits do
not allow.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import architecture_views as views
import links
import shared
from nncore.data import DataUnavailable
from nncore.initializers import INITIALIZERS
from nncore.losses import LOSSES
from nncore.runs.presets import PRESETS
from nncore.runs.spec import (HIDDEN_ACTIVATIONS, LAYER_KINDS, LIMITS, OUTPUT_ACTIVATIONS, RunSpec,
                         build_network)

ERROR = "arch_error"
AUTO = "auto"
LOSS_LABELS = {
    "softmax_cross_entropy": "Softmax cross-entropy",
    "binary_cross_entropy": "Binary cross-entropy",
    "mse": "Mean squared error",
    "mse_sum": "Sum of squared errors",
}
OPT_LABELS = {"sgd": "Gradient descent (SGD)", "momentum": "SGD with momentum",
              "nesterov": "SGD with Nesterov momentum", "adam": "Adam"}
ACT_LABELS = views.ACT_LABELS
KIND_LABELS = {"dense": "dense", "conv": "convolution", "maxpool": "max-pool"}
FIELDS = {"units": "units", "act": "activation", "drop": "dropout", "init": "init",
          "filters": "filters", "kernel": "kernel", "pad": "padding", "pool": "pool",
          "stride": "stride"}


# ------------------------------------------------------------------ editing the spec
def _dataset():
    try:
        return shared.current_dataset()
    except (ValueError, DataUnavailable):
        return None


def _work(spec, ds) -> float:
    try:
        return spec.work(ds.n_train, ds.n_features, ds.n_classes, image_shape=ds.image_shape)
    except ValueError:   # conv layers on data that are not images: no size to speak of
        return 0.0


def _check_limits(spec, ds) -> None:
    try:
        spec.check_limits(ds.n_train, ds.n_features, ds.n_classes, image_shape=ds.image_shape)
    except ValueError as e:
        if "too large" in str(e):
            raise


def _apply(mutate) -> None:
    """Change the setup with ``mutate(dict)``; refuse, with the reason, what is not allowed."""
    old = shared.get_spec()
    d = old.to_dict()
    try:
        mutate(d)
        spec = RunSpec.from_dict(d)
        ds = _dataset()
        if ds is not None:
            new_work, old_work = _work(spec, ds), _work(old, ds)
            if new_work > LIMITS["max_work"] and new_work > old_work:
                _check_limits(spec, ds)
    except (ValueError, TypeError) as e:
        st.session_state[ERROR] = f"That change was not made: {e}"
        return
    shared.set_spec(spec)
    st.session_state[shared.PRESET] = None


def _layer(i, field):
    def mutate(d):
        value = st.session_state[f"arch_{field}_{i}"]
        if field == "init":
            value = None if value == AUTO else value
        if field == "stride":
            value = None if value == AUTO else int(value)
        d["hidden"][i][FIELDS[field]] = value
    _apply(mutate)


def _new_layer(kind: str, activation: str = "relu") -> dict:
    if kind == "conv":
        return {"kind": "conv", "filters": 8, "kernel": 3, "stride": None, "padding": "same",
                "activation": activation, "dropout": 0.0, "init": None}
    if kind == "maxpool":
        return {"kind": "maxpool", "pool": 2, "stride": None}
    return {"units": 64, "activation": activation, "dropout": 0.0, "init": None}


def _kind(i):
    def mutate(d):
        old = d["hidden"][i]
        d["hidden"][i] = _new_layer(st.session_state[f"arch_kind_{i}"],
                                    old.get("activation", "relu"))
    _apply(mutate)


def _move(i, step):
    def mutate(d):
        h = d["hidden"]
        j = i + step
        if 0 <= j < len(h):
            h[i], h[j] = h[j], h[i]
    _apply(mutate)


def _remove(i):
    _apply(lambda d: d["hidden"].pop(i))


def _add(kind="dense"):
    def mutate(d):
        if len(d["hidden"]) >= LIMITS["max_hidden_layers"]:
            raise ValueError(f"at most {LIMITS['max_hidden_layers']} hidden layers fit the "
                             "hosted demo.")
        if kind != "dense":   # image layers go after the other image layers, before dense ones
            at = sum(1 for h in d["hidden"] if h.get("kind", "dense") != "dense")
            d["hidden"].insert(at, _new_layer(kind))
            return
        dense = [h for h in d["hidden"] if h.get("kind", "dense") == "dense"]
        last = dense[-1] if dense else {"units": 128, "activation": "relu"}
        d["hidden"].append({"units": max(2, last["units"] // 2), "activation": last["activation"],
                            "dropout": 0.0, "init": None})
    _apply(mutate)


def _reset():
    def mutate(d):
        data = d["data"]
        d.clear()
        d.update(RunSpec().to_dict())
        d["data"] = data
    _apply(mutate)


def _set(field, key, convert=lambda v: v):
    def mutate(d):
        d[field] = convert(st.session_state[key])
    _apply(mutate)


def _optimizer():
    def mutate(d):
        name = st.session_state["arch_opt"]
        before = d["optimizer"].get("name")
        opt = {"name": name, "lr": float(st.session_state["arch_lr"])}
        if (name == "adam") != (before == "adam"):   # a new family: its usual learning rate
            opt["lr"] = links.DEFAULT_LR[name]
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
    _apply(mutate)


def _schedule():
    def mutate(d):
        name = st.session_state["arch_sched"]
        sched = {"name": name}
        if name == "step":
            sched.update(step_size=int(st.session_state.get("arch_sstep", 10)),
                         gamma=float(st.session_state.get("arch_gamma", 0.5)))
        elif name == "cosine" and "arch_minlr" in st.session_state and \
                d["schedule"].get("name") == "cosine":
            sched["min_lr_fraction"] = float(st.session_state["arch_minlr"])
        d["schedule"] = sched
    _apply(mutate)


def _batch():
    def mutate(d):
        d["batch_size"] = None if st.session_state["arch_full"] else int(st.session_state["arch_bs"])
    _apply(mutate)


def _load(name):
    shared.load_preset(name)
    st.session_state.pop(ERROR, None)


def _fix_loss():
    _apply(lambda d: d.update(loss="softmax_cross_entropy", output_activation=None))


def _bind(key, value):
    """Show ``value`` in the widget ``key`` (set before the widget is drawn)."""
    st.session_state[key] = value


# ------------------------------------------------------------------ the page
# The frame (app.py) normally does this; AppTest's switch_page runs a page without app.py,
# so the page makes sure of it too (both calls do nothing the second time).
shared.init_state()
shared.apply_link_once()
shared.sync_link()

st.title("🧱 Architecture")
spec = shared.get_spec()
ds = None
try:
    ds = shared.current_dataset()
except (ValueError, DataUnavailable) as e:
    shared.show_error(f"The data set could not be loaded ({e}); shapes below are unknown until "
                      "a data set is chosen on the Dataset page.")

n_features = ds.n_features if ds else 2
n_classes = ds.n_classes if ds else 2
st.write(f"Data: **{shared.data_line(spec)}**"
         + (f" — {n_features:,} inputs, {n_classes} classes." if ds else "."))

if ERROR in st.session_state:
    shared.show_error(st.session_state.pop(ERROR))

# --- presets
with st.expander("🌱 Seed presets — one click loads a tutorial's whole setup",
                 expanded=False):
    for name, preset in PRESETS.items():
        c1, c2 = st.columns([4, 1])
        with c1:
            st.markdown(f"**{preset.title}**  \nExpect: {preset.expectation}"
                        + (f" · the seed reports: {preset.published}" if preset.published != "—" else ""))
            st.caption(preset.description)
        with c2:
            st.button("Load", key=f"preset_load_{name}", on_click=_load, args=(name,),
                      type="primary" if st.session_state.get(shared.PRESET) == name else "secondary")
if st.session_state.get(shared.PRESET) in PRESETS:
    preset = PRESETS[st.session_state[shared.PRESET]]
    st.success(f"Preset loaded: **{preset.title}**. Expect {preset.expectation}.", icon="🌱")

# --- hidden layers
st.subheader("Hidden layers")
image_data = ds is not None and ds.is_image
st.caption(f"Up to {LIMITS['max_hidden_layers']} hidden layers: dense layers of up to "
           f"{LIMITS['max_units']:,} units"
           + ", after convolution and max-pool layers when the data are images"
           + ". The input and output layers follow from the data.")
WIDTHS = [1.4, 1.6, 1.6, 1.6, 1.6, 0.45, 0.45, 0.45]
for i, layer in enumerate(spec.hidden):
    kind = layer.kind
    c = st.columns(WIDTHS, vertical_alignment="bottom")
    n = i + 1
    _bind(f"arch_kind_{i}", kind)
    c[0].selectbox(f"Layer {n}", LAYER_KINDS, key=f"arch_kind_{i}", on_change=_kind, args=(i,),
                   format_func=KIND_LABELS.get)
    if kind == "maxpool":
        _bind(f"arch_pool_{i}", int(layer.pool))
        c[1].number_input("Window p×p", 1, LIMITS.get("max_pool", 8), step=1,
                          key=f"arch_pool_{i}", on_change=_layer, args=(i, "pool"))
        _bind(f"arch_stride_{i}", AUTO if layer.stride is None else int(layer.stride))
        c[2].selectbox("Stride", (AUTO, *range(1, int(layer.pool) + 1)), key=f"arch_stride_{i}",
                       format_func=lambda v: "= window" if v == AUTO else str(v),
                       on_change=_layer, args=(i, "stride"))
    else:
        if kind == "conv":
            _bind(f"arch_filters_{i}", int(layer.filters))
            c[1].number_input("Filters", 1, LIMITS.get("max_filters", 128), step=1,
                              key=f"arch_filters_{i}", on_change=_layer, args=(i, "filters"))
            _bind(f"arch_kernel_{i}", int(layer.kernel))
            c[2].number_input("Kernel k×k", 1, LIMITS.get("max_kernel", 9), step=1,
                              key=f"arch_kernel_{i}", on_change=_layer, args=(i, "kernel"))
            pads = ("same", "valid", *range(1, max(int(layer.kernel), 1)))
            _bind(f"arch_pad_{i}", layer.padding if layer.padding in pads else "valid")
            c[4].selectbox("Padding", pads, key=f"arch_pad_{i}", on_change=_layer, args=(i, "pad"),
                           format_func=lambda v: {"same": "same (keeps the size)",
                                                  "valid": "none"}.get(v, f"{v} pixels"))
        else:
            _bind(f"arch_units_{i}", int(layer.units))
            c[1].number_input("Units", 1, LIMITS["max_units"], step=1,
                              key=f"arch_units_{i}", on_change=_layer, args=(i, "units"))
            _bind(f"arch_drop_{i}", float(layer.dropout))
            c[2].number_input("Dropout", 0.0, 0.9, step=0.05, key=f"arch_drop_{i}",
                              on_change=_layer, args=(i, "drop"))
            _bind(f"arch_init_{i}", layer.init or AUTO)
            c[4].selectbox("Initialisation", (AUTO, *INITIALIZERS), key=f"arch_init_{i}",
                           format_func=lambda v: "auto (He / Glorot)" if v == AUTO else v,
                           on_change=_layer, args=(i, "init"))
        _bind(f"arch_act_{i}", layer.activation)
        c[3].selectbox("Activation", HIDDEN_ACTIVATIONS, key=f"arch_act_{i}",
                       format_func=ACT_LABELS.get, on_change=_layer, args=(i, "act"))
    c[5].button("", icon=":material/arrow_upward:", key=f"arch_up_{i}", on_click=_move,
                args=(i, -1), disabled=i == 0, help="Move this layer up")
    c[6].button("", icon=":material/arrow_downward:", key=f"arch_down_{i}", on_click=_move,
                args=(i, 1), disabled=i == len(spec.hidden) - 1, help="Move this layer down")
    c[7].button("", icon=":material/delete:", key=f"arch_del_{i}", on_click=_remove, args=(i,),
                help="Remove this layer")
if not spec.hidden:
    st.info("No hidden layer: the network is a single Dense layer from inputs to outputs "
            "(logistic or softmax regression).")
full = len(spec.hidden) >= LIMITS["max_hidden_layers"]
image_layers = any(h.kind != "dense" for h in spec.hidden)
b = st.columns([1.2, 1.5, 1.2, 3])
b[0].button("Dense layer", icon=":material/add:", key="arch_add", on_click=_add, disabled=full)
b[1].button("Convolution", icon=":material/add:", key="arch_add_conv", on_click=_add, args=("conv",),
            disabled=full or not image_data,
            help="Convolution and max-pool layers read images, so they need image data "
                 "and come before the dense layers." if image_data else
                 "Convolutions need image data (MNIST, Fashion-MNIST, the 8×8 digits).")
b[2].button("Reset", icon=":material/restart_alt:", key="arch_reset", on_click=_reset,
            help="The default network and hyper-parameters (the data set stays).")

# --- output and loss
st.subheader("Output layer and loss")
out_units, out_act = spec.output_layer(n_classes)
c = st.columns(4)
_bind("arch_loss", spec.loss)
c[0].selectbox("Loss", tuple(LOSSES), key="arch_loss", format_func=LOSS_LABELS.get,
               on_change=_set, args=("loss", "arch_loss"),
               help="Softmax cross-entropy: seed 002 · binary cross-entropy: seed 003 · "
                    "mean squared error: seed 001 · sum of squared errors: seed 000.")
_bind("arch_out", spec.output_activation or AUTO)
c[1].selectbox("Output activation", (AUTO, *OUTPUT_ACTIVATIONS), key="arch_out",
               format_func=lambda v: "what the loss needs" if v == AUTO else ACT_LABELS[v],
               on_change=_set, args=("output_activation", "arch_out", lambda v: None if v == AUTO else v),
               help="Squared error may sit on any output activation; the cross-entropies fix it.")
_bind("arch_oinit", spec.output_init or AUTO)
c[2].selectbox("Output initialisation", (AUTO, *INITIALIZERS), key="arch_oinit",
               on_change=_set, args=("output_init", "arch_oinit", lambda v: None if v == AUTO else v))
_bind("arch_sep", spec.separate_activations)
c[3].checkbox("Separate activation layers", key="arch_sep", on_change=_set,
              args=("separate_activations", "arch_sep"),
              help="Seed 001's style: Dense (linear) followed by an ActivationLayer. Same "
                   "math, one more row per layer in the summary.")
why = {"softmax_cross_entropy": "one softmax unit per class, probabilities that sum to 1",
       "binary_cross_entropy": "one sigmoid unit: the probability of class 1",
       "mse": "one unit for two classes, else one per class (one-hot targets)",
       "mse_sum": "one unit for two classes, else one per class (one-hot targets)"}[spec.loss]
st.markdown(f"Output: **{out_units} {ACT_LABELS[out_act]} unit{'s' if out_units > 1 else ''}** — {why}.")
for problem in spec.problems(n_classes):
    st.warning(problem, icon="⚠️")
    if "needs exactly" in problem:
        st.button("Use softmax cross-entropy", key="arch_fix_loss", on_click=_fix_loss)

# --- optimizer and training settings
st.subheader("Optimizer and training")
opt = spec.optimizer
ui_opt = opt["name"]
if ui_opt == "sgd" and opt.get("momentum"):
    ui_opt = "nesterov" if opt.get("nesterov") else "momentum"
c = st.columns(4)
_bind("arch_opt", ui_opt)
c[0].selectbox("Optimizer", tuple(OPT_LABELS), key="arch_opt", format_func=OPT_LABELS.get,
               on_change=_optimizer)
_bind("arch_lr", float(opt.get("lr", 0.01)))
c[1].number_input("Learning rate η", 1e-6, 10.0, step=0.0005, format="%.6g", key="arch_lr",
                  on_change=_optimizer)
if ui_opt in ("momentum", "nesterov"):
    _bind("arch_mom", float(opt.get("momentum", 0.9)))
    c[2].slider("Momentum μ", 0.0, 0.99, step=0.01, key="arch_mom", on_change=_optimizer)
elif ui_opt == "adam":
    _bind("arch_beta1", float(opt.get("beta1", 0.9)))
    c[2].number_input("β₁", 0.0, 0.999, step=0.01, format="%.4g", key="arch_beta1",
                      on_change=_optimizer)
    _bind("arch_beta2", float(opt.get("beta2", 0.999)))
    c[3].number_input("β₂", 0.0, 0.9999, step=0.001, format="%.5g", key="arch_beta2",
                      on_change=_optimizer)

c = st.columns(4)
sched = spec.schedule or {"name": "constant"}
_bind("arch_sched", sched.get("name", "constant"))
c[0].selectbox("Learning-rate schedule", ("constant", "step", "cosine"), key="arch_sched",
               on_change=_schedule,
               format_func={"constant": "constant", "step": "step decay",
                            "cosine": "cosine decay"}.get)
if sched.get("name") == "step":
    _bind("arch_sstep", int(sched.get("step_size", 10)))
    c[1].number_input("Every … epochs", 1, 10_000, step=1, key="arch_sstep", on_change=_schedule)
    _bind("arch_gamma", float(sched.get("gamma", 0.5)))
    c[2].slider("multiply η by γ", 0.01, 1.0, step=0.01, key="arch_gamma", on_change=_schedule)
elif sched.get("name") == "cosine":
    _bind("arch_minlr", float(sched.get("min_lr_fraction", 0.0)))
    c[1].slider("Final η as a share of η", 0.0, 1.0, step=0.01, key="arch_minlr",
                on_change=_schedule)
_bind("arch_l2", float(spec.l2))
c[3].number_input("L2 weight decay λ", 0.0, 1.0, step=0.001, format="%.4g", key="arch_l2",
                  on_change=_set, args=("l2", "arch_l2", float))

c = st.columns(4)
_bind("arch_full", spec.batch_size is None)
c[0].checkbox("Full batch", key="arch_full", on_change=_batch,
              help="Every step uses all the training data (seeds 002 and 003).")
_bind("arch_bs", int(spec.batch_size or 128))
c[0].number_input("Batch size", 1, LIMITS["max_batch_size"], step=1, key="arch_bs",
                  on_change=_batch, disabled=spec.batch_size is None)
_bind("arch_ep", int(spec.epochs))
c[1].number_input("Epochs", 1, LIMITS["max_epochs"], step=1, key="arch_ep", on_change=_set,
                  args=("epochs", "arch_ep", int))
_bind("arch_seed", int(spec.seed))
c[2].number_input("Seed", 0, 2 ** 32 - 1, step=1, key="arch_seed", on_change=_set,
                  args=("seed", "arch_seed", int),
                  help="Same seed, same data, same setup → the same weights.")
_bind("arch_shuf", bool(spec.shuffle))
c[3].checkbox("Shuffle every epoch", key="arch_shuf", on_change=_set, args=("shuffle", "arch_shuf"))

# --- limits, summary, diagram, equations
if ds is None:
    st.stop()
try:
    network = build_network(spec, n_features, n_classes, image_shape=ds.image_shape)
except ValueError as e:
    shared.show_error(f"This network cannot be built: {e}")
    st.stop()
try:
    spec.check_limits(ds.n_train, ds.n_features, ds.n_classes, image_shape=ds.image_shape)
    work = _work(spec, ds)
    st.caption(f"Size of this run: {spec.epochs:,} epochs × {ds.n_train:,} samples × "
               f"{work / max(spec.epochs * ds.n_train, 1):,.0f} "
               f"{'multiply-adds' if image_layers else 'parameters'} = {work:.2g} "
               f"({work / LIMITS['max_work']:.1%} of what the hosted demo allows).")
except ValueError as e:
    shared.show_error(f"Training will refuse this setup. {e}")

st.subheader("Summary")
rows = network.summary_rows()
table = pd.DataFrame([{
    "layer": r["layer"].split(": ", 1)[-1],
    "output shape": "(" + ", ".join(map(str, r["output shape"])) + ")",
    "parameters": r["parameters"],
    "memory": f"{r['bytes'] / 1024:,.1f} KiB" if r["bytes"] else "—",
} for r in rows])
st.dataframe(table, hide_index=True, key="arch_summary")
total = network.n_parameters()
st.caption(f"Total: {total:,} parameters, {total * network.dtype.itemsize / 1024:,.1f} KiB of "
           f"{network.dtype.name} weights (m is the number of samples in a batch).")

st.subheader("Diagram")
cols = views.columns(network, n_features, trained=shared.get_model())
trained = any(c.weights is not None for c in cols)
st.plotly_chart(views.network_figure(cols), key="arch_diagram")
st.caption(("Edges coloured by the trained weights (red positive, blue negative, thicker = "
            "larger)." if trained else
            "Once a model with exactly this shape is trained, the edges take the colours of its "
            "weights.")
           + " Columns with more than eight units show their first and last few"
           + ("; convolution and pooling columns show one square per feature map." if image_layers
              else "."))

st.subheader("The equations of this network")
eq = views.equations(spec, n_features, n_classes, views.layer_shapes(network), ds.image_shape)
st.markdown("**Forward pass** (one row per sample; $m$ samples at a time)")
for line in eq["forward"]:
    st.latex(line)
st.markdown("**Loss and its gradient at the output**")
for line in eq["loss"]:
    st.latex(line)
st.markdown(f"**Backward pass** for $l = {len(spec.hidden) + 1}, \\dots, 1$")
for line in eq["backward"]:
    st.latex(line)
st.markdown(f"**Update** ({OPT_LABELS.get(ui_opt, ui_opt)})")
for line in eq["update"]:
    st.latex(line)
