"""Architecture page: presets, hidden layers, loss, optimizer and training settings, with
the network's summary, a diagram and the equations of its forward and backward pass.

Every widget is bound to the current setup: its value is set from ``state.get_spec()``
before it is drawn, its range and options come from the run schema
(``nncore.runs.schema``), and its callback (``editing``) makes the new setup — or refuses,
with the reason, what the schema or the hosted limits do not allow.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lab import datasets, sharing, state
from lab.figures import architecture as figures
from lab.pages.architecture import assignment, editing
from lab.pages.architecture.editing import AUTO, ERROR
from lab.page import run_page, show_error
from lab.summaries import data_line
from nncore.data import DataUnavailable
from nncore.runs.presets import PRESETS
from nncore.runs.schema import (CONV, DENSE, LAYER_KINDS, LIMITS, MAXPOOL, OPTIMIZER, OPTIMIZERS,
                                RUN, SCHEDULE, SCHEDULES)
from nncore.runs.spec import build_network

LOSS_LABELS = {
    "softmax_cross_entropy": "Softmax cross-entropy",
    "binary_cross_entropy": "Binary cross-entropy",
    "mse": "Mean squared error",
    "mse_sum": "Sum of squared errors",
}
ACT_LABELS = figures.ACT_LABELS
KIND_LABELS = {"dense": "dense", "conv": "convolution", "maxpool": "max-pool"}
WIDTHS = [1.4, 1.6, 1.6, 1.6, 1.6, 0.45, 0.45, 0.45]


def _bind(key, value):
    """Show ``value`` in the widget ``key`` (set before the widget is drawn)."""
    st.session_state[key] = value


def _whole(label, setting, key, args, column, layer=None, disabled=False):
    """A number input for a whole-number setting, with the schema's bounds."""
    low, high = setting.bounds(layer)
    column.number_input(label, int(low), int(high), step=1, key=key, on_change=editing.layer,
                        args=args, disabled=disabled)


# An assignment link may fix a setting (its widgets are shown, disabled) or hide it (its
# widgets are left out); names are the link's (lab.links.assignment.SETTINGS).
fixed, hidden = sharing.fixed, sharing.hidden


# ------------------------------------------------------------------ the page's parts
def _presets() -> None:
    with st.expander("🌱 Seed presets — one click loads a tutorial's whole setup", expanded=False):
        for name, preset in PRESETS.items():
            c1, c2 = st.columns([4, 1])
            with c1:
                st.markdown(f"**{preset.title}**  \nExpect: {preset.expectation}"
                            + (f" · the seed reports: {preset.published}"
                               if preset.published != "—" else ""))
                st.caption(preset.description)
            with c2:
                st.button("Load", key=f"preset_load_{name}", on_click=editing.load, args=(name,),
                          type="primary" if state.preset_name() == name else "secondary",
                          disabled=state.get_assignment().locks,
                          help="The assignment link fixes part of this setup: Unlock in the "
                               "sidebar first." if state.get_assignment().locks else None)
    if state.preset_name() in PRESETS:
        preset = PRESETS[state.preset_name()]
        st.success(f"Preset loaded: **{preset.title}**. Expect {preset.expectation}.", icon="🌱")


def _layer_row(i, layer, n_layers) -> None:
    off = fixed("layers")
    c = st.columns(WIDTHS, vertical_alignment="bottom")
    _bind(f"arch_kind_{i}", layer.kind)
    c[0].selectbox(f"Layer {i + 1}", LAYER_KINDS, key=f"arch_kind_{i}", on_change=editing.kind,
                   args=(i,), format_func=KIND_LABELS.get, disabled=off)
    if layer.kind == "maxpool":
        _bind(f"arch_pool_{i}", int(layer.pool))
        _whole("Window p×p", MAXPOOL["pool"], f"arch_pool_{i}", (i, "pool"), c[1], disabled=off)
        _bind(f"arch_stride_{i}", AUTO if layer.stride is None else int(layer.stride))
        c[2].selectbox("Stride", (AUTO, *range(1, int(layer.pool) + 1)), key=f"arch_stride_{i}",
                       format_func=lambda v: "= window" if v == AUTO else str(v),
                       on_change=editing.layer, args=(i, "stride"), disabled=off)
    else:
        if layer.kind == "conv":
            _bind(f"arch_filters_{i}", int(layer.filters))
            _whole("Filters", CONV["filters"], f"arch_filters_{i}", (i, "filters"), c[1],
                   disabled=off)
            _bind(f"arch_kernel_{i}", int(layer.kernel))
            _whole("Kernel k×k", CONV["kernel"], f"arch_kernel_{i}", (i, "kernel"), c[2],
                   disabled=off)
            pads = (*CONV["padding"].words, *range(1, max(int(layer.kernel), 1)))
            _bind(f"arch_pad_{i}", layer.padding if layer.padding in pads else "valid")
            c[4].selectbox("Padding", pads, key=f"arch_pad_{i}", on_change=editing.layer,
                           args=(i, "pad"), disabled=off,
                           format_func=lambda v: {"same": "same (keeps the size)",
                                                  "valid": "none"}.get(v, f"{v} pixels"))
        else:
            _bind(f"arch_units_{i}", int(layer.units))
            _whole("Units", DENSE["units"], f"arch_units_{i}", (i, "units"), c[1], disabled=off)
            _bind(f"arch_drop_{i}", float(layer.dropout))
            c[2].number_input("Dropout", *DENSE["dropout"].bounds(), step=0.05,
                              key=f"arch_drop_{i}", on_change=editing.layer, args=(i, "drop"),
                              disabled=off)
            _bind(f"arch_init_{i}", layer.init or AUTO)
            c[4].selectbox("Initialisation", (AUTO, *DENSE["init"].choices), key=f"arch_init_{i}",
                           format_func=lambda v: "auto (He / Glorot)" if v == AUTO else v,
                           on_change=editing.layer, args=(i, "init"), disabled=off)
        _bind(f"arch_act_{i}", layer.activation)
        c[3].selectbox("Activation", DENSE["activation"].choices, key=f"arch_act_{i}",
                       format_func=ACT_LABELS.get, on_change=editing.layer, args=(i, "act"),
                       disabled=off)
    c[5].button("", icon=":material/arrow_upward:", key=f"arch_up_{i}", on_click=editing.move,
                args=(i, -1), disabled=off or i == 0, help="Move this layer up")
    c[6].button("", icon=":material/arrow_downward:", key=f"arch_down_{i}",
                on_click=editing.move, args=(i, 1), disabled=off or i == n_layers - 1,
                help="Move this layer down")
    c[7].button("", icon=":material/delete:", key=f"arch_del_{i}", on_click=editing.remove,
                args=(i,), help="Remove this layer", disabled=off)


def _hidden_layers(spec, image_data: bool) -> None:
    if hidden("layers"):
        return
    st.subheader("Hidden layers")
    st.caption(f"Up to {LIMITS['max_hidden_layers']} hidden layers: dense layers of up to "
               f"{DENSE['units'].high:,} units, after convolution and max-pool layers when the "
               "data are images. The input and output layers follow from the data.")
    for i, layer in enumerate(spec.hidden):
        _layer_row(i, layer, len(spec.hidden))
    if not spec.hidden:
        st.info("No hidden layer: the network is a single Dense layer from inputs to outputs "
                "(logistic or softmax regression).")
    full = len(spec.hidden) >= LIMITS["max_hidden_layers"] or fixed("layers")
    b = st.columns([1.2, 1.5, 1.2, 3])
    b[0].button("Dense layer", icon=":material/add:", key="arch_add", on_click=editing.add,
                disabled=full)
    b[1].button("Convolution", icon=":material/add:", key="arch_add_conv", on_click=editing.add,
                args=("conv",), disabled=full or not image_data,
                help="Convolution and max-pool layers read images, so they need image data "
                     "and come before the dense layers." if image_data else
                     "Convolutions need image data (MNIST, Fashion-MNIST, the 8×8 digits).")
    b[2].button("Reset", icon=":material/restart_alt:", key="arch_reset", on_click=editing.reset,
                help="The default network and hyper-parameters (the data set stays).",
                disabled=state.get_assignment().locks)


def _output(spec, n_classes: int) -> None:
    st.subheader("Output layer and loss")
    out_units, out_act = spec.output_layer(n_classes)
    if not hidden("loss"):
        _loss_widgets(spec, fixed("loss"))
    why = {"softmax_cross_entropy": "one softmax unit per class, probabilities that sum to 1",
           "binary_cross_entropy": "one sigmoid unit: the probability of class 1",
           "mse": "one unit for two classes, else one per class (one-hot targets)",
           "mse_sum": "one unit for two classes, else one per class (one-hot targets)"}[spec.loss]
    st.markdown(f"Output: **{out_units} {ACT_LABELS[out_act]} unit{'s' if out_units > 1 else ''}**"
                f" — {why}.")
    for problem in spec.problems(n_classes):
        st.warning(problem.message, icon="⚠️")
        if problem.blocking and problem.field == "loss":
            st.button("Use softmax cross-entropy", key="arch_fix_loss", on_click=editing.fix_loss,
                      disabled=fixed("loss"))


def _loss_widgets(spec, off: bool) -> None:
    c = st.columns(4)
    _bind("arch_loss", spec.loss)
    c[0].selectbox("Loss", RUN["loss"].choices, key="arch_loss", format_func=LOSS_LABELS.get,
                   on_change=editing.setting, args=("loss", "arch_loss"), disabled=off,
                   help="Softmax cross-entropy: seed 002 · binary cross-entropy: seed 003 · "
                        "mean squared error: seed 001 · sum of squared errors: seed 000.")
    auto = lambda v: None if v == AUTO else v   # noqa: E731
    _bind("arch_out", spec.output_activation or AUTO)
    c[1].selectbox("Output activation", (AUTO, *RUN["output_activation"].choices), key="arch_out",
                   format_func=lambda v: "what the loss needs" if v == AUTO else ACT_LABELS[v],
                   on_change=editing.setting, args=("output_activation", "arch_out", auto),
                   disabled=off, help="Squared error may sit on any output activation; the cross-entropies "
                        "fix it.")
    _bind("arch_oinit", spec.output_init or AUTO)
    c[2].selectbox("Output initialisation", (AUTO, *RUN["output_init"].choices), key="arch_oinit",
                   on_change=editing.setting, args=("output_init", "arch_oinit", auto),
                   disabled=off)
    _bind("arch_sep", spec.separate_activations)
    c[3].checkbox("Separate activation layers", key="arch_sep", on_change=editing.setting,
                  args=("separate_activations", "arch_sep"), disabled=off,
                  help="Seed 001's style: Dense (linear) followed by an ActivationLayer. Same "
                       "math, one more row per layer in the summary.")


def _optimizer(spec) -> str:
    """The optimizer's widgets; returns the name the page shows it under."""
    st.subheader("Optimizer and training")
    opt = spec.optimizer
    shown = opt["name"]
    if shown == "sgd" and opt.get("momentum"):
        shown = "nesterov" if opt.get("nesterov") else "momentum"
    c = st.columns(4)
    _bind("arch_opt", shown)      # (bound even when hidden: a callback reads every value)
    if not hidden("opt"):
        c[0].selectbox("Optimizer", tuple(OPTIMIZERS), key="arch_opt", disabled=fixed("opt"),
                       format_func=lambda name: OPTIMIZERS[name].label,
                       on_change=editing.optimizer)
    _bind("arch_lr", float(opt.get("lr", OPTIMIZERS[opt["name"]].lr)))
    if not hidden("lr"):
        c[1].number_input("Learning rate η", *OPTIMIZER["lr"].bounds(), step=0.0005,
                          format="%.6g", key="arch_lr", on_change=editing.optimizer,
                          disabled=fixed("lr"))
    if shown in ("momentum", "nesterov"):
        _bind("arch_mom", float(opt.get("momentum", OPTIMIZER["momentum"].default)))
        if not hidden("opt"):
            c[2].slider("Momentum μ", *OPTIMIZER["momentum"].bounds(), step=0.01, key="arch_mom",
                        on_change=editing.optimizer, disabled=fixed("opt"))
    elif shown == "adam":
        _bind("arch_beta1", float(opt.get("beta1", OPTIMIZER["beta1"].default)))
        _bind("arch_beta2", float(opt.get("beta2", OPTIMIZER["beta2"].default)))
        if not hidden("opt"):
            c[2].number_input("β₁", *OPTIMIZER["beta1"].bounds(), step=0.01, format="%.4g",
                              key="arch_beta1", on_change=editing.optimizer,
                              disabled=fixed("opt"))
            c[3].number_input("β₂", *OPTIMIZER["beta2"].bounds(), step=0.001, format="%.5g",
                              key="arch_beta2", on_change=editing.optimizer,
                              disabled=fixed("opt"))
    return shown


def _training(spec) -> None:
    c = st.columns(4)
    if not hidden("sched"):
        _schedule(spec.schedule, c, fixed("sched"))
    _bind("arch_l2", float(spec.l2))
    if not hidden("l2"):
        c[3].number_input("L2 weight decay λ", *RUN["l2"].bounds(), step=0.001, format="%.4g",
                          key="arch_l2", on_change=editing.setting, args=("l2", "arch_l2", float),
                          disabled=fixed("l2"))

    c = st.columns(4)
    _bind("arch_full", spec.batch_size is None)
    _bind("arch_bs", int(spec.batch_size or RUN["batch_size"].default))
    if not hidden("bs"):
        c[0].checkbox("Full batch", key="arch_full", on_change=editing.batch, disabled=fixed("bs"),
                      help="Every step uses all the training data (seeds 002 and 003).")
        c[0].number_input("Batch size", *RUN["batch_size"].bounds(), step=1, key="arch_bs",
                          on_change=editing.batch,
                          disabled=fixed("bs") or spec.batch_size is None)
    _bind("arch_ep", int(spec.epochs))
    if not hidden("ep"):
        c[1].number_input("Epochs", *RUN["epochs"].bounds(), step=1, key="arch_ep",
                          on_change=editing.setting, args=("epochs", "arch_ep", int),
                          disabled=fixed("ep"))
    _bind("arch_seed", int(spec.seed))
    if not hidden("seed"):
        c[2].number_input("Seed", *RUN["seed"].bounds(), step=1, key="arch_seed",
                          on_change=editing.setting, args=("seed", "arch_seed", int),
                          disabled=fixed("seed"),
                          help="Same seed, same data, same setup → the same weights.")
    _bind("arch_shuf", bool(spec.shuffle))
    if not hidden("shuf"):
        c[3].checkbox("Shuffle every epoch", key="arch_shuf", on_change=editing.setting,
                      args=("shuffle", "arch_shuf"), disabled=fixed("shuf"))


def _schedule(sched: dict, c, off: bool) -> None:
    _bind("arch_sched", sched["name"])
    c[0].selectbox("Learning-rate schedule", tuple(SCHEDULES), key="arch_sched", disabled=off,
                   on_change=editing.schedule, format_func=lambda name: SCHEDULES[name].label)
    if sched["name"] == "step":
        _bind("arch_sstep", int(sched.get("step_size", SCHEDULE["step_size"].default)))
        low, high = SCHEDULE["step_size"].bounds()
        c[1].number_input("Every … epochs", low, high, step=1, key="arch_sstep", disabled=off,
                          on_change=editing.schedule)
        _bind("arch_gamma", float(sched.get("gamma", SCHEDULE["gamma"].default)))
        c[2].slider("multiply η by γ", *SCHEDULE["gamma"].bounds(), step=0.01, key="arch_gamma",
                    on_change=editing.schedule, disabled=off)
    elif sched["name"] == "cosine":
        _bind("arch_minlr", float(sched.get("min_lr_fraction",
                                            SCHEDULE["min_lr_fraction"].default)))
        c[1].slider("Final η as a share of η", *SCHEDULE["min_lr_fraction"].bounds(), step=0.01,
                    key="arch_minlr", on_change=editing.schedule, disabled=off)


def _network(spec, ds, optimizer_shown: str) -> None:
    """The limits, the summary table, the diagram and the equations of the built network."""
    image_layers = any(h.kind != "dense" for h in spec.hidden)
    try:   # the size first: a link must not make the server build a network it refuses
        spec.check_size(ds.n_features, ds.n_classes, image_shape=ds.image_shape)
        network = build_network(spec, ds.n_features, ds.n_classes, image_shape=ds.image_shape)
    except ValueError as e:
        show_error(f"This network cannot be built: {e}")
        return
    try:
        spec.check_limits(ds.n_train, ds.n_features, ds.n_classes, image_shape=ds.image_shape)
        work = editing.work(spec, ds)
        st.caption(f"Size of this run: {spec.epochs:,} epochs × {ds.n_train:,} samples × "
                   f"{work / max(spec.epochs * ds.n_train, 1):,.0f} "
                   f"{'multiply-adds' if image_layers else 'parameters'} = {work:.2g} "
                   f"({work / LIMITS['max_work']:.1%} of what the hosted demo allows).")
    except ValueError as e:
        show_error(f"Training will refuse this setup. {e}")

    st.subheader("Summary")
    table = pd.DataFrame([{
        "layer": r["layer"].split(": ", 1)[-1],
        "output shape": "(" + ", ".join(map(str, r["output shape"])) + ")",
        "parameters": r["parameters"],
        "memory": f"{r['bytes'] / 1024:,.1f} KiB" if r["bytes"] else "—",
    } for r in network.summary_rows()])
    st.dataframe(table, hide_index=True, key="arch_summary")
    total = network.n_parameters()
    st.caption(f"Total: {total:,} parameters, {total * network.dtype.itemsize / 1024:,.1f} KiB "
               f"of {network.dtype.name} weights (m is the number of samples in a batch).")

    st.subheader("Diagram")
    cols = figures.columns(network, ds.n_features, trained=state.get_model())
    trained = any(c.weights is not None for c in cols)
    st.plotly_chart(figures.network_figure(cols), key="arch_diagram")
    st.caption(("Edges coloured by the trained weights (red positive, blue negative, thicker = "
                "larger)." if trained else
                "Once a model with exactly this shape is trained, the edges take the colours of "
                "its weights.")
               + " Columns with more than eight units show their first and last few"
               + ("; convolution and pooling columns show one square per feature map."
                  if image_layers else "."))

    st.subheader("The equations of this network")
    eq = figures.equations(spec, ds.n_features, ds.n_classes, figures.layer_shapes(network),
                           ds.image_shape)
    st.markdown("**Forward pass** (one row per sample; $m$ samples at a time)")
    for line in eq["forward"]:
        st.latex(line)
    st.markdown("**Loss and its gradient at the output**")
    for line in eq["loss"]:
        st.latex(line)
    st.markdown(f"**Backward pass** for $l = {len(spec.hidden) + 1}, \\dots, 1$")
    for line in eq["backward"]:
        st.latex(line)
    st.markdown(f"**Update** ({OPTIMIZERS[optimizer_shown].label})")
    for line in eq["update"]:
        st.latex(line)


# ------------------------------------------------------------------ the page
def render() -> None:
    st.title("🧱 Architecture")
    spec = state.get_spec()
    try:
        ds = datasets.current_dataset()
    except (ValueError, DataUnavailable) as e:
        ds = None
        show_error(f"The data set could not be loaded ({e}); shapes below are unknown until a "
                   "data set is chosen on the Dataset page.")
    n_classes = ds.n_classes if ds else 2
    st.write(f"Data: **{data_line(spec)}**"
             + (f" — {ds.n_features:,} inputs, {ds.n_classes} classes." if ds else "."))
    if ERROR in st.session_state:
        show_error(st.session_state.pop(ERROR))
    _presets()
    _hidden_layers(spec, image_data=ds is not None and ds.is_image)
    _output(spec, n_classes)
    shown = _optimizer(spec)
    _training(spec)
    assignment.maker()
    if ds is not None:
        _network(spec, ds, shown)


run_page(render)
