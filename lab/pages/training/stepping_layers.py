"""Step mode's first two tabs: the step just taken, layer by layer, and one neuron of it.

Every equation is drawn with three things beside it: the general form with its shapes,
the same equation for the sample followed with its numbers, and the lines of nncore that
computed it (``nncore.stepping.sources``, read from the code at run time). The matrices
are heatmaps (``lab.figures.stepping``), with the numbers in the cells when they are small.
"""

from __future__ import annotations

import streamlit as st

from lab.figures import stepping as figures
from lab.figures import stepping_math as math
from lab.figures.architecture import ACT_LABELS
from lab.pages.training.memo import cached
from nncore.stepping import neuron_view, sources

SAMPLE = "stepping_sample"        # number_input: the row of the batch followed
LAYER = "stepping_layer"          # radio: the layer shown
NEURON_LAYER = "stepping_neuron_layer"
NEURON_UNIT = "stepping_neuron_unit"


def label(stage) -> str:
    act = ACT_LABELS.get(stage.activation, stage.activation)
    if stage.kind == "dense":
        return f"{stage.number} · dense {stage.W.shape[1]} {act}"
    if stage.kind == "conv":
        return f"{stage.number} · conv {stage.W.shape[0]}×{stage.W.shape[2]}×{stage.W.shape[3]} {act}"
    return f"{stage.number} · max-pool {stage.config['pool_size']}×{stage.config['pool_size']}"


def sample_picker(record, where) -> int:
    last = record.m - 1
    if st.session_state.get(SAMPLE, 0) > last:      # a smaller batch than before
        st.session_state[SAMPLE] = last
    return int(where.number_input(f"Sample to follow (row 0 … {last} of the batch)",
                                  min_value=0, max_value=last, step=1, key=SAMPLE))


def _choice(key, options, where, label_of, title):
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    return where.radio(title, options, format_func=label_of, key=key, horizontal=True)


def _sources(session):
    """The source lines of every equation, read once per stepping session."""
    return session.caches.setdefault("sources", sources(session.stepper.network))


def show_equation(eq, blocks) -> None:
    """An equation, its numbers, and the nncore lines that computed it."""
    left, right = st.columns([5, 3])
    with left:
        st.markdown(f"**{eq.title}**")
        # one formula for both lines: half as many for the browser to typeset
        st.latex(eq.general if not eq.numbers else
                 rf"\begin{{gathered}} {eq.general} \\[10pt] {eq.numbers} \end{{gathered}}")
    with right:
        for block in blocks or []:
            st.code(block.numbered(), language="python", wrap_lines=True)
            st.caption(f"`{block.where()}`" + ("" if block.exact else " — the whole function"))


# ---------------------------------------------------------------- layer by layer
def layers_tab(session, record) -> None:
    options = [s.number for s in record.stages]
    top, pick = st.columns([3, 1], vertical_alignment="bottom")
    l = _choice(LAYER, options, top, lambda i: label(record.stages[i - 1]), "Layer")
    n = sample_picker(record, pick)
    stage = record.stages[l - 1]
    src = _sources(session)
    truth = int(record.labels()[n])
    st.caption(f"Step {record.step}: epoch {record.epoch}, batch {record.batch} of "
               f"{record.batches}, {record.m:,} samples, learning rate {record.lr:g}. Sample {n} "
               f"is training row {int(record.rows[n]) if record.rows is not None else n}, "
               f"class {truth}. Its row is boxed in every matrix of the batch.")
    with st.container(key="stepping_equations"):
        st.markdown("##### Forward")
        for eq in math.forward(record, stage, n):
            show_equation(eq, src[l].get(eq.key))
        _forward_figures(record, stage, n)
        if l == len(record.stages):
            st.markdown("##### The loss")
            for eq in math.loss(record, n):
                blocks = src["loss"][eq.key]
                if eq.key == "dA" and record.loss_gives_delta:   # δ = a − y, handed over
                    blocks = blocks + src["loss"]["delta"]
                show_equation(eq, blocks)
        st.markdown("##### Backward")
        for eq in math.backward(record, stage, n):
            blocks = src[l].get(eq.key, [])
            if eq.key == "delta" and stage.dA is None:    # the loss handed δ = a − y over
                blocks = src["loss"]["dA"] + src["loss"]["delta"] + blocks[:1]
            if eq.key == "dW" and record.l2:
                blocks = blocks + src["l2"]["l2"]
            show_equation(eq, blocks)
        _backward_figures(record, stage, n)
        if stage.kind != "pool":
            st.markdown("##### The update")
            symbol = "K" if stage.kind == "conv" else "W"
            for p, sym in (("W", symbol), ("b", "b")):
                update = record.updates[f"layer{stage.layer_index}.{p}"]
                at = math.moved_most(update)
                st.caption(f"{sym}: the numbers of entry {list(at)}, the one this step moved most.")
                for eq in math.update(record, update, sym, l):
                    show_equation(eq, src["update"].get(eq.key))
            _update_figure(record, stage)


def _fig(name, record, stage, n, build):
    return cached(f"stepping_{name}", (record, stage.number, n), build)


def _forward_figures(record, stage, n) -> None:
    l = stage.number
    if stage.kind == "dense":
        fig = _fig("forward", record, stage, n, lambda: figures.matrix_figure(
            [[(f"W({l})", stage.W, None)], [(f"b({l})", stage.b, None)],
             [(f"a({l - 1})", stage.a_prev, n), (f"z({l})", stage.z, n), (f"a({l})", stage.a, n)]],
            height=[_param_height(stage.W), _param_height(stage.b), 250]))
    elif stage.kind == "conv":
        fig = _fig("forward", record, stage, n, lambda: _conv_forward(stage, n))
    else:
        fig = _fig("forward", record, stage, n, lambda: _pool_forward(stage, n))
    if isinstance(fig, list):
        for k, f in enumerate(fig):
            st.plotly_chart(f, key=f"stepping_forward_{k}", config={"displayModeBar": False})
    else:
        st.plotly_chart(fig, key="stepping_forward", config={"displayModeBar": False})


def _param_height(W) -> int:
    """A parameter matrix small enough to show its numbers gets rows tall enough for them."""
    rows = W.shape[0] if W.ndim == 2 else 1
    return 80 + 26 * rows if rows <= figures.NUMBERS else 260


def _conv_forward(stage, n):
    l, W = stage.number, stage.W
    return [figures.maps_figure(stage.a_prev[n], f"a({l - 1}) of sample {n}: "
                                f"{stage.a_prev.shape[1]} input map(s)"),
            figures.maps_figure(W.reshape(-1, *W.shape[2:]), f"K({l}): {W.shape[0]} filters × "
                                f"{W.shape[1]} channel(s) of {W.shape[2]}×{W.shape[3]}",
                                columns=max(W.shape[1], min(8, W.shape[0]))),
            figures.maps_figure(stage.z[n], f"z({l}) of sample {n}: one map per filter"),
            figures.maps_figure(stage.a[n], f"a({l}) of sample {n}")]


def _pool_forward(stage, n):
    l = stage.number
    return [figures.maps_figure(stage.a_prev[n], f"a({l - 1}) of sample {n}: the maps pooled"),
            figures.maps_figure(stage.winners[n], "Which input won its window (dark: it won)",
                                symmetric=False),
            figures.maps_figure(stage.a[n], f"a({l}) of sample {n}: each window's largest")]


def _backward_figures(record, stage, n) -> None:
    l = stage.number
    if stage.kind == "dense":
        first = [(f"dA({l})", stage.dA, n)] if stage.dA is not None else []
        if stage.sigma_prime is not None:
            first.append((f"σ'(z({l}))", stage.sigma_prime, n))
        first.append((f"δ({l})", stage.delta, n))
        first.append((f"dA({l - 1})", stage.dA_prev, n))
        build = lambda: [figures.matrix_figure(      # noqa: E731
            [first, [(f"dW({l})", stage.dW, None)], [(f"db({l})", stage.db, None)]],
            height=[250, _param_height(stage.dW), _param_height(stage.db)])]
    elif stage.kind == "conv":
        build = lambda: [figures.maps_figure(stage.delta[n], f"δ({l}) of sample {n}"),  # noqa: E731
                         figures.maps_figure(stage.dW.reshape(-1, *stage.dW.shape[2:]),
                                             f"dK({l}): the kernels' gradients",
                                             columns=max(stage.dW.shape[1], min(8, stage.dW.shape[0])))]
    else:
        build = lambda: [figures.maps_figure(stage.dA[n], f"dA({l}) of sample {n}"),  # noqa: E731
                         figures.maps_figure(stage.dA_prev[n], f"dA({l - 1}): routed to the "
                                             "winners, 0 elsewhere")]
    for k, fig in enumerate(_fig("backward", record, stage, n, build)):
        st.plotly_chart(fig, key=f"stepping_backward_{k}", config={"displayModeBar": False})


def _update_figure(record, stage) -> None:
    update = record.updates[f"layer{stage.layer_index}.W"]
    W = "K" if stage.kind == "conv" else "W"
    terms = update.terms
    panels = [(f"{W} before", update.before, None), (f"g = d{W}", update.grad, None)]
    panels += [(name, terms[name], None) for name in ("velocity", "m", "v") if name in terms]
    panels += [("step", terms["step"], None), (f"{W} after", update.after, None)]
    fig = cached("stepping_update", (record, stage.number),
                 lambda: figures.matrix_figure(panels, height=_param_height(update.before)))
    st.plotly_chart(fig, key="stepping_update_chart", config={"displayModeBar": False})


# ---------------------------------------------------------------- one neuron
def neuron_tab(session, record) -> None:
    weighted = [s for s in record.stages if s.kind != "pool"]
    c1, c2, c3 = st.columns([2, 1.3, 1.3], vertical_alignment="bottom")
    l = _choice(NEURON_LAYER, [s.number for s in weighted], c1,
                lambda i: label(record.stages[i - 1]), "Layer")
    stage = record.stages[l - 1]
    if stage.kind == "dense":
        units = stage.z.shape[1]
        if st.session_state.get(NEURON_UNIT, 0) >= units:
            st.session_state[NEURON_UNIT] = 0
        unit = int(c2.number_input(f"Unit (0 … {units - 1})", 0, units - 1, step=1,
                                   key=NEURON_UNIT))
    else:
        f = int(c2.number_input(f"Filter (0 … {stage.z.shape[1] - 1})", 0,
                                stage.z.shape[1] - 1, step=1, key="stepping_neuron_filter"))
        unit = (f, stage.z.shape[2] // 2, stage.z.shape[3] // 2)
    n = sample_picker(record, c3)
    v = cached("stepping_neuron", (record, l, str(unit), n),
               lambda: neuron_view(record, l, unit, n))
    src = _sources(session)[l]
    where = "" if stage.kind == "dense" else f" at the centre pixel {list(unit[1:])}"
    u = unit if stage.kind == "dense" else unit[0]
    with st.container(key="stepping_neuron_sum"):
        st.markdown(f"**Layer {l}, unit {u}{where}, sample {n}** — the forward sum with this "
                    "sample's numbers (the largest terms first):")
        st.markdown(f"z = {v.z.text()}, {v.activation_text()}")
        _sources_of(src.get("z"))
        st.markdown("Backward, the same unit: where its gradient comes from and where it goes.")
        if v.dA is not None:
            st.markdown(f"dA = {v.dA.text()}  ({v.dA_note})")
        elif v.dA_value is not None:
            st.markdown(f"dA = {math.num(v.dA_value).replace('-', '−')}  ({v.dA_note})")
        st.markdown(v.delta_text())
        w = list(v.weight)
        st.markdown(f"dW{w + [u] if stage.kind == 'dense' else [u] + w} = {v.dW.text()}  "
                    f"(one weight into this unit — the one with the largest term in z — "
                    f"summed over the {record.m:,} samples{' and every position' if stage.kind == 'conv' else ''})")
        st.markdown(f"db[{u}] = {v.db.text()}")
        _sources_of(src.get("dW"))
    labels = ((lambda i: f"a[{i[0]}]·W[{i[0]},{u}]") if stage.kind == "dense"
              else (lambda i: f"K[{u},{i[0]},{i[1]},{i[2]}]·x"))
    fig = cached("stepping_terms", (record, l, str(unit), n),
                 lambda: figures.terms_figure(v.z, labels))
    st.plotly_chart(fig, key="stepping_terms_chart", config={"displayModeBar": False})


def _sources_of(blocks) -> None:
    for block in blocks or []:
        st.caption(f"`{block.where()}`")
        st.code(block.numbered(), language="python", wrap_lines=True)

