"""Training: start, pause, resume and stop a run, watch it learn in live charts, look inside
the trained network, run seed 003's experiments, and save or load the model.

The run is the session's one run (``lab.runs``): it trains in a child process, watched by a
thread that touches no Streamlit API, so reruns, clicks and visits to other pages leave it
alone. While it runs, a fragment redraws its progress and charts every two seconds;
figures are rebuilt only when the numbers behind them changed.
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, runs, sharing, state
from lab.page import run_page, show_error, show_notice
from lab.pages.training import (analysis, controls, experiments, history, live, model_file,
                                stepping, target)
from lab.pages.training.memo import cached
from lab.summaries import network_line
from nncore.data import DataUnavailable


def _tabs(dataset) -> None:
    st.subheader("What the network learned")
    tabs = st.tabs(["Results", "Inside the network", "Experiments", "Runs"],
                   key="training_tabs", on_change="rerun")
    for tab, draw in ((tabs[0], analysis.results_tab), (tabs[1], analysis.inside_tab)):
        with tab:
            if tab.open:   # a closed tab costs nothing
                model = analysis.analysed_model(dataset)
                if model is not None:
                    a = cached("analysis", (model, dataset), lambda: analysis.analyse(model, dataset))
                    draw(model, dataset, a)
    with tabs[2]:
        if tabs[2].open:
            experiments.experiments_tab(dataset)
    with tabs[3]:
        if tabs[3].open:
            history.history_tab()


def render() -> None:
    st.title("Training")
    sharing.question()                 # an assignment link's question, as plain text
    spec = state.get_spec()
    try:
        dataset = datasets.current_dataset()
    except (DataUnavailable, ValueError, OSError) as exc:
        show_error(f"The data set could not be loaded: {exc}")
        return
    runs.collect()
    title = datasets.dataset_title
    about = (f"{title(dataset.name)}, standing in for {title(spec.data['name'])}"
             if dataset.fallback_reason else dataset.description)   # (why: the warning below)
    st.caption(f"**Data:** {about} — {dataset.n_train:,} training, "
               f"{dataset.n_val:,} validation, {dataset.n_test:,} test samples.  \n"
               f"**Network:** {network_line(spec, dataset.n_features, dataset.n_classes)}")
    if dataset.fallback_reason:
        st.warning(dataset.fallback_reason, icon=":material/warning:")
    for problem in spec.problems(dataset.n_classes):
        st.warning(problem.message)

    trainer = runs.current()
    progress = trainer.progress() if trainer is not None else None
    active = progress is not None and progress.active
    controls.buttons(dataset, progress)
    show_notice()
    stepping.section(dataset)          # step mode, 2-D unit maps

    st.fragment(run_every=live.POLL if active else None)(live.live_view)(dataset, active)
    live.outcome(dataset)
    target.section(active)             # a preset's run beside the figure it should reach

    with st.expander(":material/save: Save or load the model", expanded=False):
        model_file.model_file_section(dataset)
    _tabs(dataset)


run_page(render)
