"""Step mode's last two tabs: the gradient check of the step's batch, and how every
initialisation the lab offers would start this network.

Both compute in the engine (``nncore.stepping.check_gradients``, ``initial_spreads``) on a
bounded amount of work, decided before they start (``GRADCHECK``, ``EXPLORER_ROWS``), and
keep what they found in the stepping session, so a rerun recomputes nothing.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lab.figures import stepping as figures
from lab.pages.training.memo import cached
from nncore.initializers import INITIALIZERS
from nncore.runs import experiments as ex
from nncore.runs.run import build_for
from nncore.runs.schema import SpecError
from nncore.runs.spec import LayerSpec
from nncore.stepping import StepTooLarge, check_bounds, check_gradients, initial_spreads
from nncore.stepping.gradcheck import EPS, PASS, SUSPECT, numeric_gradient
from nncore.stepping.sources import lines_of

GRADCHECK = {"rows": 64, "entries": 10}   # the check's bound: rows of the batch, entries per tensor
EXPLORER_ROWS = 256                       # the explorer's batch
DEEPER = "stepping_init_deeper"
HISTOGRAMS = "stepping_init_histograms"


# ---------------------------------------------------------------- gradient check
def gradient_tab(session, record) -> None:
    rows = min(record.m, GRADCHECK["rows"])
    st.markdown(
        "Backpropagation computes every gradient in one backward pass. A gradient check "
        "computes some of them again from the definition of a derivative: nudge one weight "
        f"by ±ε and see how the loss moves, (L(θ + ε) − L(θ − ε)) / 2ε. Here it is done for "
        f"every parameter tensor ({GRADCHECK['entries']} sampled entries of each larger one) on "
        f"{'the' if rows == record.m else f'the first {rows} samples of the'} batch of step "
        f"{record.step}, at the weights it started from, in float64.")
    if st.button("Check the gradients on this batch", key="stepping_gradcheck",
                 icon=":material/fact_check:"):
        weights = [u.before for u in record.updates.values()]
        with st.spinner("Comparing backprop with finite differences…"):
            session.checks = {record.step: check_gradients(
                session.stepper.network, record.X[:rows], record.Y[:rows], weights=weights,
                max_entries=GRADCHECK["entries"])}      # the last check only
    checks = session.checks.get(record.step)
    if checks:
        _verdict(checks)
    st.caption("The method, from the engine (its tests use the very same function):")
    block = lines_of(numeric_gradient)[0]
    st.code(block.numbered(), language="python")
    st.caption(f"`{block.where()}`")


def _verdict(checks) -> None:
    table = pd.DataFrame({
        "tensor": [c.name for c in checks],
        "shape": ["×".join(map(str, c.shape)) for c in checks],
        "entries checked": [f"{len(c.entries)}{' (sampled)' if c.sampled else ''}" for c in checks],
        "on a kink": [len(c.kinks) for c in checks],
        "relative error": [f"{c.error:.1e}" for c in checks],
        "verdict": [c.verdict for c in checks]})
    with st.container(key="stepping_gradcheck_result"):
        errors = [c.error for c in checks if c.error == c.error]      # NaN: all on kinks
        worst = max(errors) if errors else float("nan")
        kinks = sum(len(c.kinks) for c in checks)
        aside = (f" {kinks} entr{'y' if kinks == 1 else 'ies'} sat on a kink and "
                 f"{'was' if kinks == 1 else 'were'} left out (see below)." if kinks else "")
        if all(c.verdict in ("pass", "on kinks") for c in checks):
            st.success(f"Backprop agrees with finite differences on all {len(checks)} "
                       f"tensors: the largest relative error is {worst:.1e}, below {PASS:g}."
                       + aside, icon=":material/check_circle:")
        else:
            bad = ", ".join(f"{c.name} ({c.verdict})" for c in checks
                            if c.verdict in ("look closer", "fail"))
            st.warning(f"Look closer at {bad}: the largest relative error is {worst:.1e}."
                       + aside, icon=":material/warning:")
        st.dataframe(table, hide_index=True)
    st.caption(
        f"Relative error = max |backprop − numeric| / max(|backprop|, |numeric|) over the "
        f"entries checked. Central differences in float64 with ε = {EPS:g} are themselves off "
        f"by about ε² + 10⁻¹⁶/ε ≈ 10⁻¹⁰, so below {PASS:g} (the engine tests' threshold) the two "
        f"agree: **pass**. Between {PASS:g} and {SUSPECT:g}, **look closer**. Above, **fail**: "
        "backprop is wrong. A *kink* is a corner of the loss within ε of an entry — a ReLU "
        "input at exactly 0 (an all-zero patch with a zero bias), a tie in a max-pool window: "
        "there the central difference averages the slopes on either side while backprop "
        "takes one of them, so such entries (backprop equal to a one-sided slope) are left out.")


# ---------------------------------------------------------------- initialisation explorer
def _deeper(spec):
    """The setup with six hidden layers like its first dense one, or None."""
    if not spec.hidden or any(h.kind != "dense" for h in spec.hidden):
        return None
    first = spec.hidden[0]
    return spec.replace(hidden=[LayerSpec(first.units, first.activation, init=first.init)] * 6)


def initialisation_tab(spec, dataset, session) -> None:
    st.markdown(
        "**How each initialisation starts.** Before the first step, one batch goes forward and "
        "back through the same network started with each initialisation the lab offers. If the "
        "spread of the activations shrinks layer after layer, or they pile up where σ is flat, "
        "the gradients reaching the first layers are tiny and a deep network barely moves.")
    deeper = _deeper(spec)
    use_deeper = deeper is not None and st.toggle(
        "Try it on a deeper network: six hidden layers like the first one", key=DEEPER)
    shown = deeper if use_deeper else spec
    try:
        spreads = cached("stepping_spreads", (_key(shown), dataset),
                         lambda: _spreads(shown, dataset))
    except (SpecError, StepTooLarge, ValueError) as exc:
        st.info(str(exc))
        return
    st.plotly_chart(figures.spreads_figure(spreads), key="stepping_spreads_chart",
                    config={"displayModeBar": False})
    inits = sorted({h.init or ("he" if h.activation in ("relu", "leaky_relu") else "glorot")
                    for h in shown.hidden if h.kind != "maxpool"})
    st.caption(f"This setup starts its hidden layers with {', '.join(inits)}. Each bar is the "
               f"standard deviation over one batch of {min(EXPLORER_ROWS, dataset.n_train)} "
               "training samples: top, of every layer's activations; bottom, of its weight "
               "gradients (log scale).")
    stuck = [(s.init, l.layer, l.stuck_share) for s in spreads for l in s.layers[:-1]
             if l.stuck_share is not None and l.stuck_share > 0.5]
    if stuck:
        st.caption("Stuck at step 0 (σ' about 0 for most of the batch): " + "; ".join(
            f"{init}, layer {layer}: {share:.0%}" for init, layer, share in stuck[:6]) + ".")
    if st.toggle("Show the histograms", key=HISTOGRAMS):
        init = st.segmented_control("Initialisation", list(INITIALIZERS), default="he",
                                    key="stepping_init_pick", required=True)
        chosen = next(s for s in spreads if s.init == init)
        st.plotly_chart(figures.histograms_figure(chosen), key="stepping_histograms_chart",
                        config={"displayModeBar": False})


def _key(spec) -> str:
    return repr(spec.to_dict())


def _spreads(spec, dataset):
    network = build_for(spec, dataset)
    rows = ex.fixed_batch(dataset.n_train, EXPLORER_ROWS, seed=0)
    check_bounds(network, len(rows), len(INITIALIZERS))
    return initial_spreads(network, dataset.X_train[rows], dataset.y_train[rows])
