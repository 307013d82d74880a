"""The Runs tab: every run of this session, compared, restored, downloaded, or run again
from the same start with one thing changed (a twin run).

The history itself lives in ``lab.history`` (kept by ``lab.runs``); this module only draws
it and turns clicks into calls. Figures are kept per set of runs (``memo.cached``).
"""

from __future__ import annotations

import io

import streamlit as st

from lab import datasets, runs, state
from lab.figures import history as figures
from lab.figures import training as training_figures
from lab.history import MAX_RUNS, MAX_WEIGHT_BYTES, differing_settings
from lab.page import callback, notice
from lab.pages.training.memo import cached
from lab.summaries import duration, network_line
from nncore.data import DataUnavailable
from nncore.runs import experiments as ex
from nncore.runs.schema import OPTIMIZER, OPTIMIZERS, RUN, SCHEDULES, SpecError
from nncore.runs.spec import RunSpec
from nncore.serialization import save

COMPARE = "history_compare"         # multiselect: the runs to compare (their numbers)
# Streamlit forgets a widget's value in a rerun that does not draw it (another tab open):
# the choice is kept apart, with the newest run it has been offered.
COMPARE_CHOICE = "history_compare_choice"
COMPARE_SEEN = "history_compare_seen"
PICK = "history_pick"               # selectbox: the run the actions below apply to


def _fmt(value, percent=False) -> str:
    if value is None:
        return "–"
    return f"{value:.2%}" if percent else f"{value:.4g}"


def _table(records) -> list[dict]:
    rows = []
    for r in records:
        spec = RunSpec.from_dict(r.spec)
        m = r.metrics
        rows.append({"run": r.name, "ended": r.state, "epochs": len(r.history.get("epoch", [])),
                     "network": network_line(spec, *(r.sizes or ())), "train loss": _fmt(m.get("train_loss")),
                     "val. accuracy": _fmt(m.get("val_accuracy"), True),
                     "test accuracy": _fmt(m.get("test_accuracy"), True),
                     "time": duration(r.seconds),
                     "weights kept": "yes" if r.has_weights else "no"})
    return rows


def history_tab() -> None:
    history = runs.history()
    if not len(history):
        st.info("Every run you train in this session is kept here — its settings, curves and "
                f"figures (the last {MAX_RUNS}) — to compare side by side, restore, download, "
                "or run again from the same initial weights with one setting changed.",
                icon=":material/history:")
        return
    records = list(history)
    st.dataframe(_table(records), hide_index=True, width="stretch")
    st.caption(f"The last {MAX_RUNS} runs of this session are kept, and their weights up to "
               f"{MAX_WEIGHT_BYTES // 2**20} MB in all (older runs then keep their curves only).")
    _compare(records)
    st.divider()
    _one_run(history, records)


def _compare(records) -> None:
    numbers = [r.number for r in records]
    names = {r.number: r.name for r in records}
    # the widget's value when it has one (a change just made), else the choice kept apart
    choice = st.session_state.get(COMPARE, st.session_state.get(COMPARE_CHOICE))
    if choice is None:
        chosen = numbers[-3:]
    else:       # the visitor's choice, and a run that has ended since joins it
        chosen = [n for n in choice if n in numbers]
        seen = st.session_state.get(COMPARE_SEEN, 0)
        chosen += [n for n in numbers if n > seen and n not in chosen]
    st.session_state[COMPARE], st.session_state[COMPARE_SEEN] = chosen, numbers[-1]
    chosen = st.multiselect("Compare", numbers, format_func=names.get, key=COMPARE)
    st.session_state[COMPARE_CHOICE] = chosen
    picked = [r for r in records if r.number in chosen]
    if not picked:
        return
    pairs = [(r.name, r.history) for r in picked]
    sig = tuple((r.number, r.name) for r in picked)
    left, right = st.columns(2)
    left.plotly_chart(cached("history_loss", sig, lambda: figures.overlay_figure(pairs, "loss")),
                      key="history_loss_chart")
    right.plotly_chart(cached("history_acc", sig,
                              lambda: figures.overlay_figure(pairs, "accuracy")),
                       key="history_accuracy_chart")
    diff = differing_settings(picked) if len(picked) > 1 else []
    if len(picked) > 1:
        if diff:
            st.markdown("**What differs between them**")
            st.dataframe(diff, hide_index=True, width="stretch")
        else:
            st.caption("These runs have the same settings.")
    _boundaries(picked, sig)


def _boundaries(picked, sig) -> None:
    """For 2-D data: the final boundaries of the runs that kept their weights, side by side."""
    with_weights = [r for r in picked if r.network is not None]
    if not with_weights or with_weights[0].network.n_inputs != 2:
        return
    try:
        dataset = datasets.dataset_for(with_weights[0].spec["data"])
    except (DataUnavailable, ValueError, OSError):
        return
    if dataset.n_features != 2:
        return
    X, y = dataset.X_test if dataset.n_test else dataset.X_train, \
        dataset.y_test if dataset.n_test else dataset.y_train

    def boundary(record):
        grid = ex.decision_grid(record.network, X, resolution=60)
        return training_figures.boundary_figure(
            grid, X, y, ex.correct_mask(record.network, X, y), list(dataset.class_names),
            title=record.name)

    st.markdown("**Their final boundaries**")
    figs = cached("history_boundaries", tuple((r.number, r.name, r.network) for r in with_weights),
                  lambda: [boundary(r) for r in with_weights])   # one entry, whichever runs
    for start in range(0, len(with_weights), 3):
        for col, record, fig in zip(st.columns(min(3, len(with_weights))),
                                    with_weights[start:start + 3],
                                    figs[start:start + 3]):
            col.plotly_chart(fig, key=f"history_boundary_{record.number}")


# ---------------------------------------------------------------- one run: actions
@callback
def _rename(number: int) -> None:
    runs.history().rename(number, st.session_state.get(f"history_name_{number}", ""))


@callback
def _remove(number: int) -> None:
    runs.history().remove(number)
    notice("info", "The run was removed from this session's history.")


@callback
def _restore(number: int) -> None:
    record = runs.history().get(number)
    if record is None or record.network is None:
        notice("error", "This run's weights are no longer kept, so it cannot be restored.")
        return
    state.set_model(record.network)
    notice("success", f"{record.name} is the current model again (the Inference page uses it).")


@callback
def _use_settings(number: int) -> None:
    record = runs.history().get(number)
    if record is None:
        return
    state.set_spec(RunSpec.from_dict(record.spec))    # a locked setting: @callback says why
    notice("success", f"The setup is now {record.name}'s: press Start to train it anew.")


@callback
def _twin(number: int) -> None:
    record = runs.history().get(number)
    if record is None or not record.has_weights:
        notice("error", "This run's initial weights are no longer kept: a twin run needs them.")
        return
    key = f"history_twin_{number}_"
    base = RunSpec.from_dict(record.spec)
    name = st.session_state[key + "optimizer"]
    optimizer = dict(base.optimizer) if name == base.optimizer["name"] else {"name": name}
    optimizer["lr"] = float(st.session_state[key + "lr"])
    schedule = st.session_state[key + "schedule"]
    try:
        spec = base.replace(optimizer=optimizer,
                            batch_size=int(st.session_state[key + "batch"]) or None,
                            epochs=int(st.session_state[key + "epochs"]),
                            l2=float(st.session_state[key + "l2"]),
                            schedule=dict(base.schedule) if schedule == base.schedule["name"]
                            else {"name": schedule})
        dataset = datasets.dataset_for(spec.data)
    except (SpecError, DataUnavailable, ValueError, OSError) as exc:
        notice("error", str(exc))
        return
    changed = [row["setting"] for row in differing_settings([record, _SpecNotYetRun(spec)])]
    state.set_spec(spec)            # a locked setting: @callback says why
    reason = runs.start(spec, dataset, initial_weights=record.initial_weights,
                        purpose="twin")
    if reason:
        notice("error", reason)
    else:
        what = ", ".join(changed) if changed else "nothing (the same run again)"
        notice("info", f"A twin of {record.name} is training: the same initial weights and "
                       f"data order, with {what} changed. Compare them here when it ends.")


class _SpecNotYetRun:
    """What ``differing_settings`` reads off a record, for a spec not yet run."""

    def __init__(self, spec: RunSpec):
        self.spec, self.name = spec.to_dict(), "twin"


def _one_run(history, records) -> None:
    numbers = [r.number for r in records]
    names = {r.number: r.name for r in records}
    if st.session_state.get(PICK) not in numbers:
        st.session_state[PICK] = numbers[-1]
    number = st.selectbox("One run", numbers, format_func=names.get, key=PICK)
    record = history.get(number)
    if record.message:
        st.caption(f"It {record.state}: {record.message}")
    c1, c2, c3, c4 = st.columns(4)
    st.session_state.setdefault(f"history_name_{number}", record.name)
    c1.text_input("Name", key=f"history_name_{number}", on_change=_rename, args=(number,),
                  max_chars=60)
    c2.button("Restore as the current model", key=f"history_restore_{number}",
              on_click=_restore, args=(number,), disabled=record.network is None,
              icon=":material/restore:")
    c2.button("Use its settings", key=f"history_settings_{number}", on_click=_use_settings,
              args=(number,), icon=":material/tune:")
    c3.download_button("Curves (CSV)", record.to_csv(), file_name=f"run-{number}.csv",
                       mime="text/csv", key=f"history_csv_{number}", icon=":material/download:")
    c3.download_button("Settings and curves (JSON)", record.to_json(),
                       file_name=f"run-{number}.json", mime="application/json",
                       key=f"history_json_{number}", icon=":material/download:")
    if record.network is not None:      # the file is written when it is asked for
        c4.download_button("Weights (.npz)", lambda: _weights_file(record),
                           file_name=f"run-{number}.npz", key=f"history_npz_{number}",
                           icon=":material/download:")
    c4.button("Remove from the history", key=f"history_remove_{number}", on_click=_remove,
              args=(number,), icon=":material/delete:")
    _twin_form(record)


def _weights_file(record) -> bytes:
    buffer = io.BytesIO()
    save(record.network, buffer)
    return buffer.getvalue()


def _twin_form(record) -> None:
    st.markdown(f"**Twin run** — run {record.name} again from the same initial weights and "
                "data order, changing …")
    if not record.has_weights:
        st.caption("Its initial weights are no longer kept (the history's weight budget), so "
                   "it cannot have a twin.")
        return
    base = RunSpec.from_dict(record.spec)
    key = f"history_twin_{record.number}_"
    c = st.columns(6)
    names = list(OPTIMIZERS)
    c[0].selectbox("Optimizer", names, index=names.index(base.optimizer["name"]),
                   format_func=lambda n: OPTIMIZERS[n].label, key=key + "optimizer")
    c[1].number_input("Learning rate η", *OPTIMIZER["lr"].bounds(),
                      value=float(base.optimizer.get("lr", 0.01)), format="%.6g",
                      key=key + "lr")
    c[2].selectbox("Schedule", list(SCHEDULES), index=list(SCHEDULES).index(base.schedule["name"]),
                   key=key + "schedule")
    c[3].number_input("Batch size", 0, RUN["batch_size"].bounds()[1],
                      value=base.batch_size or 0, key=key + "batch", help="0: the full batch")
    c[4].number_input("Epochs", *RUN["epochs"].bounds(), value=base.epochs, key=key + "epochs")
    c[5].number_input("L2 λ", *RUN["l2"].bounds(), value=float(base.l2), format="%.6g",
                      key=key + "l2")
    st.button("Start the twin run", key=key + "start", on_click=_twin, args=(record.number,),
              icon=":material/content_copy:", type="primary")
