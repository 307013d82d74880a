"""Neurons as pictures, for 2-D data: TensorFlow Playground's view of a network.

Every unit is drawn as a small map of its output over the input plane, the weights as
edges between them (blue positive, orange negative, thicker when larger), and the output
unit's map is the decision boundary, with the training points on it. Hover a map to read
a unit's value at a point. The maps follow the network: live while a run goes on (at the
live charts' pace: a fragment that reruns on its own), after every step, else the current
model, else the setup's initial weights.
"""

from __future__ import annotations

import streamlit as st

from lab import runs, state
from lab.figures import stepping as figures
from lab.models import model_fits
from lab.page import guarded
from lab.pages.training.controls import blocked
from lab.pages.training.live import CHART_SECONDS
from lab.pages.training.memo import cached
from nncore.runs import experiments as ex
from nncore.runs.run import build_for
from nncore.runs.schema import SpecError
from nncore.stepping import unit_maps, work_per_sample

OPEN = "stepping_maps_open"
RESOLUTION = 32        # points per side of each unit's map …
COARSE = 16            # … or this many, for a wide network
MAX_WORK = 2e8         # multiply-adds of one drawing of the maps (it may repeat every few s)
POINTS = 200           # training points drawn on the output map


def unit_maps_section(dataset) -> None:
    if dataset.n_features != 2 or blocked(dataset):   # (the page says the setup's problem)
        return
    with st.expander("Neurons as pictures: every unit as a map over the input plane",
                     icon=":material/grid_view:", key=OPEN, on_change="rerun") as box:
        if box.open:
            live = runs.active()
            st.fragment(run_every=CHART_SECONDS if live else None)(_maps)(dataset)


def _network(dataset):
    """(network, what it is) for the maps, and a signature that changes when it does."""
    trainer = runs.current()
    if trainer is not None:
        p = trainer.progress(batch_loss=False)
        if p.active and trainer.network.n_inputs == 2:
            net = cached("stepping_maps_live", (trainer, p.epoch, p.batch, p.state),
                         lambda: trainer.model_copy())
            return net, f"live: epoch {p.epoch + 1}, batch {p.batch} of the run"
    model = state.get_model()
    if model is not None and model_fits(model, dataset) is None:
        stepped = model.metadata.get("stepped")
        what = (f"after step {stepped['steps']}" if stepped else "the current model")
        return model, what
    spec = state.get_spec()
    net = cached("stepping_maps_initial", (repr(spec.to_dict()), dataset),
                 lambda: build_for(spec, dataset))
    return net, "the setup's initial weights"


@guarded
def _maps(dataset) -> None:
    try:
        net, what = _network(dataset)
    except (SpecError, ValueError) as exc:
        st.info(str(exc))
        return
    rows = ex.fixed_batch(dataset.n_train, POINTS, seed=1)
    X, y = dataset.X_train[rows], dataset.y_train[rows]

    per_sample = work_per_sample(net)
    resolution = RESOLUTION if per_sample * RESOLUTION ** 2 <= MAX_WORK else COARSE
    if per_sample * resolution ** 2 > MAX_WORK:
        st.info(f"This network is too wide to draw as maps here: {resolution ** 2} points of "
                f"the plane × {per_sample:,} multiply-adds is over the bound of {MAX_WORK:.0e}.")
        return

    def build():
        maps = unit_maps(net, dataset.X_train, resolution=resolution)
        return figures.unit_maps_figure(maps, X, y, title=f"Every unit over the plane — {what}")
    try:
        fig = cached("stepping_maps_fig", (net, what), build)
    except ValueError as exc:
        st.info(str(exc))
        return
    st.plotly_chart(fig, key="stepping_unit_maps", config={"displayModeBar": False})
    st.caption("Each square is one unit: its output at every point of the plane (x₁ to the "
               "right, x₂ upwards), blue high, red low. The output's square is the decision "
               "boundary, with training points on it. Edges: blue for a positive weight, orange "
               "for a negative one, thicker when larger. Hover a square for a unit's value at "
               "a point, the dot in the middle of an edge for its weight.")
