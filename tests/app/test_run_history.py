"""The Training page's Runs tab in AppTest: every run of the session kept and compared,
renamed, removed, restored, downloaded, and run again as a twin (same initial weights and
data order, one setting changed) — and the history's bounds (``lab.history``)."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import (moons_spec, plotly_array, run_until_ended, start_and_wait,
                             training_page)

from lab.history import RunHistory, differing_settings, settings_of
from nncore import Dense, Network
from nncore.runs.run import build_for, load_spec_data
from nncore.runs.spec import LayerSpec, RunSpec


def _spec(**changes) -> RunSpec:
    """This file's runs: four epochs of 16-sample batches, seed 3."""
    return moons_spec(**{"batch_size": 16, "epochs": 4, "seed": 3, **changes})


def _runs_tab(at: AppTest) -> None:
    at.session_state["training_tabs"] = "Runs"
    at.run()
    assert not at.exception, at.exception


def test_two_runs_are_kept_and_compared_with_what_differs():
    at = training_page(_spec())
    start_and_wait(at)
    at.session_state["spec"] = _spec(optimizer={"name": "sgd", "lr": 0.05})
    at.run()
    start_and_wait(at)
    _runs_tab(at)
    history = at.session_state["run_history"]
    assert [r.name for r in history] == ["Run 1", "Run 2"]
    first, second = history.records
    # the kept curves are those of the run itself: the same setup trained here with fit
    data = load_spec_data(_spec())
    for record, spec in ((first, _spec()), (second, _spec(optimizer={"name": "sgd", "lr": 0.05}))):
        again = build_for(spec, data)
        again.fit(data.X_train, data.y_train, epochs=spec.epochs, batch_size=spec.batch_size,
                  seed=spec.seed, shuffle=spec.shuffle, schedule=spec.schedule,
                  validation_data=(data.X_val, data.y_val) if data.n_val else None)
        np.testing.assert_allclose(record.history["train_loss"], again.history.train_loss,
                                   rtol=1e-5)
    assert second.metrics["test_accuracy"] == pytest.approx(
        second.network.score(data.X_test, data.y_test))
    table = at.dataframe[0].value
    assert list(table["run"]) == ["Run 1", "Run 2"]
    # the network's sizes as its weights have them ("2-8-1"), not "in-8-out"
    dense = [w for name, w, _ in first.network.parameters() if w.ndim == 2]
    sizes = "-".join(str(n) for n in [dense[0].shape[0], *(w.shape[1] for w in dense)])
    assert all(line.startswith(sizes + " ") for line in table["network"]), list(table["network"])
    assert at.multiselect(key="history_compare").value == [1, 2]
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) >= 2 + 2                       # loss and accuracy overlays, 2 boundaries
    diff = at.dataframe[1].value
    assert list(diff["setting"]) == ["optimizer.lr"]
    assert list(diff.iloc[0][["Run 1", "Run 2"]]) == [0.5, 0.05]


def test_a_twin_with_nothing_changed_repeats_the_run_exactly_and_one_change_shows():
    at = training_page(_spec(epochs=5))
    start_and_wait(at)
    _runs_tab(at)
    original = at.session_state["run_history"].get(1)
    at.button(key="history_twin_1_start").click().run()
    assert "same initial weights and data order, with nothing (the same run again)" in \
        "\n".join(i.value for i in at.info)
    run_until_ended(at)
    twin = at.session_state["run_history"].get(2)
    assert twin.history["train_loss"] == original.history["train_loss"]
    for a, b in zip(twin.network.get_weights(), original.network.get_weights()):
        np.testing.assert_array_equal(a, b)
    # now change one thing: the learning rate; the start is the same, the curve is not
    _runs_tab(at)
    at.selectbox(key="history_pick").set_value(1).run()
    at.number_input(key="history_twin_1_lr").set_value(0.05).run()
    at.button(key="history_twin_1_start").click().run()
    assert "with optimizer.lr changed" in "\n".join(i.value for i in at.info)
    run_until_ended(at)
    third = at.session_state["run_history"].get(3)
    for a, b in zip(third.initial_weights, original.initial_weights):
        np.testing.assert_array_equal(a, b)
    assert third.history["train_loss"] != original.history["train_loss"]
    # the twin's start is the original's, which is not what a fresh seed would give
    fresh = build_for(_spec(seed=4), load_spec_data(_spec()))
    assert not all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(),
                                                         original.initial_weights))


def test_a_run_that_ends_joins_the_comparison_and_one_taken_out_stays_out():
    at = training_page(_spec())
    start_and_wait(at)
    _runs_tab(at)
    assert at.multiselect(key="history_compare").value == [1]
    at.button(key="history_twin_1_start").click().run()
    run_until_ended(at)
    _runs_tab(at)
    assert at.multiselect(key="history_compare").value == [1, 2]
    assert "These runs have the same settings." in "\n".join(c.value for c in at.caption)
    at.multiselect(key="history_compare").unselect(1).run()
    at.button(key="history_twin_1_start").click().run()
    run_until_ended(at)
    at.session_state["training_tabs"] = "Results"    # the Runs tab is not drawn a while
    at.run()
    _runs_tab(at)
    assert at.multiselect(key="history_compare").value == [2, 3]


def test_a_twin_of_another_architecture_is_refused_with_a_sentence():
    at = training_page(_spec())
    start_and_wait(at)
    _runs_tab(at)
    record = at.session_state["run_history"].get(1)
    record.spec = _spec(hidden=[LayerSpec(4)]).to_dict()     # as if its network differed
    at.button(key="history_twin_1_start").click().run()
    assert "same layers and sizes" in "\n".join(e.value for e in at.error)
    assert len(at.session_state["run_history"]) == 1


def test_rename_remove_restore_and_download():
    at = training_page(_spec())
    start_and_wait(at)
    start_and_wait(at)
    _runs_tab(at)
    history = at.session_state["run_history"]
    at.selectbox(key="history_pick").set_value(1).run()
    at.text_input(key="history_name_1").set_value("  slow   start ").run()
    assert history.get(1).name == "slow start"
    assert at.session_state["model"] is history.get(2).network
    at.button(key="history_restore_1").click().run()
    assert at.session_state["model"] is history.get(1).network
    downloads = {d.key: d for d in at.get("download_button")}
    record = history.get(1)
    payload = json.loads(record.to_json())
    assert payload["name"] == "slow start" and payload["spec"] == record.spec
    assert [row["train_loss"] for row in payload["curves"]] == record.history["train_loss"]
    csv_lines = record.to_csv().splitlines()
    assert csv_lines[0].startswith("epoch,train_loss")
    assert len(csv_lines) == 1 + len(record.history["epoch"])
    assert {"history_csv_1", "history_json_1", "history_npz_1"} <= set(downloads)
    at.button(key="history_remove_1").click().run()
    assert [r.number for r in history] == [2]
    assert not at.exception


# ------------------------------------------------------------------ the bounds, alone
def _net(width: int) -> Network:
    return Network([Dense(2, width, "relu"), Dense(width, 2, "softmax")], seed=0)


def test_the_history_keeps_the_last_runs_and_drops_old_weights_past_its_budget():
    width = 100                                    # 502 parameters: 2,008 bytes a copy
    bytes_per_run = 2 * (2 * width + width + width * 2 + 2) * 4
    history = RunHistory(max_runs=4, max_weight_bytes=3 * bytes_per_run)
    for _ in range(6):
        net = _net(width)
        history.add(spec=_spec().to_dict(), state="finished", message=None,
                    history={"epoch": [1]}, metrics={}, seconds=0.1, network=net,
                    initial_weights=net.get_weights())
    assert [r.number for r in history] == [3, 4, 5, 6]          # the last four
    assert [r.has_weights for r in history] == [False, True, True, True]
    assert sum(r.weight_bytes for r in history) <= 3 * bytes_per_run
    history.rename(6, "x" * 500)
    assert len(history.get(6).name) == 60


def test_settings_that_differ_are_found_in_nested_settings_and_layers():
    a = _spec().to_dict()
    b = _spec(hidden=[LayerSpec(8, dropout=0.2)], optimizer={"name": "adam", "lr": 0.5}).to_dict()

    class R:
        def __init__(self, spec, name):
            self.spec, self.name = spec, name
    rows = differing_settings([R(a, "a"), R(b, "b")])
    assert {row["setting"] for row in rows} == {"hidden", "optimizer.name"}
    assert settings_of(a)["hidden"] == "8 relu"


# ------------------------------------------------------------------ mistakes by cell
def _results(spec: RunSpec) -> AppTest:
    at = training_page(spec)
    start_and_wait(at)
    at.session_state["training_tabs"] = "Results"
    at.run()
    assert not at.exception
    return at


def test_a_confusion_cell_shows_its_images_with_top_three_and_saliency():
    spec = RunSpec(data={"name": "digits"}, hidden=[LayerSpec(16)],
                   optimizer={"name": "sgd", "lr": 0.05}, batch_size=32, epochs=2, seed=0)
    at = _results(spec)
    model = at.session_state["model"]
    data = load_spec_data(spec)
    pred = model.predict(data.X_test)
    wrong = np.flatnonzero(pred != data.y_test)
    assert len(wrong), "two epochs leave some mistakes to look at"
    true, guess = int(data.y_test[wrong[0]]), int(pred[wrong[0]])
    options = at.selectbox(key="training_cell").options
    assert len(options) == 1 + np.count_nonzero(
        np.histogram2d(data.y_test, pred, bins=[range(11), range(11)])[0])
    at.selectbox(key="training_cell").set_value(f"{true},{guess}").run()
    assert not at.exception
    rows = np.flatnonzero((data.y_test == true) & (pred == guess))
    heading = "\n".join(m.value for m in at.markdown)
    assert f"**True {true}, predicted {guess}** — {len(rows):,} test sample" in heading
    captions = [c.value for c in at.caption if "%" in c.value and "·" in c.value]
    assert len(captions) == min(12, len(rows))
    probs = model.predict_proba(data.X_test[rows[0]:rows[0] + 1])[0]
    top = np.argsort(-probs)[:3]
    assert captions[0] == " · ".join(f"{c} {probs[c]:.0%}" for c in top)
    assert len(at.get("image")) >= 2 * len(captions)    # each image and its saliency


def test_a_cell_of_2d_data_rings_its_points_on_the_boundary():
    at = _results(_spec(epochs=1, optimizer={"name": "sgd", "lr": 0.05}))
    model = at.session_state["model"]
    data = load_spec_data(_spec())
    pred = model.predict(data.X_test)
    at.selectbox(key="training_cell").set_value("0,0").run()
    assert not at.exception
    chart = next(c for c in at.get("plotly_chart") if "ringed" in c.proto.spec)
    figure = json.loads(chart.proto.spec)
    ringed = next(t for t in figure["data"] if t.get("name") == "this cell")
    expected = data.X_test[(data.y_test == 0) & (pred == 0)]
    assert len(expected) > 0
    np.testing.assert_allclose(plotly_array(ringed["x"]), expected[:, 0], rtol=1e-6)
    np.testing.assert_allclose(plotly_array(ringed["y"]), expected[:, 1], rtol=1e-6)


def test_under_an_assignment_lock_a_twin_and_use_its_settings_say_why_not():
    """A setting the teacher's link fixed stays fixed from the Runs tab too: the lock's own
    sentence, no new run, the setup unchanged."""
    from lab import links
    at = training_page(_spec(), assignment=links.Assignment(locked=("lr",)))
    start_and_wait(at)
    _runs_tab(at)
    at.number_input(key="history_twin_1_lr").set_value(0.05).run()
    at.button(key="history_twin_1_start").click().run()
    errors = "\n".join(e.value for e in at.error)
    assert "fixed by the assignment link" in errors and "went wrong" not in errors
    assert len(at.session_state["run_history"]) == 1
    assert at.session_state["spec"].optimizer["lr"] == 0.5


def test_drawn_points_are_compared_by_count_and_fingerprint_not_their_text():
    from nncore.data import points
    X = np.array([[0.5, 0.5], [-1.0, 1.0], [1.5, -2.0], [2.0, 2.0]])
    text_a = points.encode(X, np.array([0, 0, 1, 1]))
    text_b = points.encode(X[::-1], np.array([0, 0, 1, 1]))
    a = settings_of(_spec(data={"name": "points", "points": text_a}).to_dict())
    b = settings_of(_spec(data={"name": "points", "points": text_b}).to_dict())
    assert a["data.points"].startswith("4 points in 2 classes (#")
    assert text_a not in a["data.points"]
    assert a["data.points"] != b["data.points"]            # two sets of four tell apart


def test_training_a_conv_model_further_is_sized_as_a_run_of_its_spec_would_be():
    """A model trained further counts its work per sample as runs and model files do
    (nncore.runs.work): a convolution's multiply-adds, not its handful of parameters."""
    from lab import runs
    from nncore.layers import Conv2D, Flatten, Reshape
    from nncore.runs.schema import LIMITS, RunTooLarge
    model = Network([Reshape((1, 8, 8)), Conv2D(1, 64, 5, padding=2, activation="relu"),
                     Flatten(), Dense(64 * 64, 10, "softmax")], seed=0)
    spec = RunSpec(data={"name": "digits"}, hidden=[LayerSpec(16)], epochs=1)
    data = load_spec_data(spec)
    # the conv's multiply-adds (64 filters · 5·5 weights × 8·8 pixels) and the dense
    # layer's parameters: over three times all the network's parameters
    per_sample = 64 * 5 * 5 * 8 * 8 + (64 * 64 * 10 + 10)
    assert per_sample > 3 * model.n_parameters()
    epochs = int(LIMITS["max_work"] / (data.n_train * per_sample)) + 1
    assert epochs * data.n_train * model.n_parameters() < LIMITS["max_work"]
    with pytest.raises(RunTooLarge, match="per sample"):
        runs._continued(spec.replace(epochs=epochs), data, model)


# ------------------------------------------------------------------ the lifecycle's edges
def test_start_right_after_a_run_ended_keeps_the_run_that_ended():
    """A run that has ended but that no rerun has collected yet (Start pressed within the
    page's poll) still becomes the model and joins the history before the next replaces it."""
    at = training_page(_spec())
    at.button(key="training_start").click().run()
    first = at.session_state["trainer"]
    assert first.join(30)                       # ended, and no rerun has seen it end
    at.button(key="training_start").click().run()
    history = at.session_state["run_history"]
    assert [r.network for r in history][:1] == [first.network]
    run_until_ended(at)
    assert len(history) == 2


def test_a_diverged_runs_retry_under_an_assignment_lock_is_refused_with_the_locks_sentence():
    from lab import links
    diverging = _spec(loss="mse", output_activation="linear",
                      optimizer={"name": "sgd", "lr": 10.0}, epochs=50)
    at = training_page(diverging, assignment=links.Assignment(locked=("lr",)))
    start_and_wait(at)
    diverged = at.session_state["trainer"]
    assert diverged.progress().state == "diverged"
    at.button(key="training_retry_diverged").click().run()
    errors = "\n".join(e.value for e in at.error)
    assert "fixed by the assignment link" in errors and "went wrong" not in errors
    assert at.session_state["trainer"] is diverged           # no run started beside the lock
    assert at.session_state["spec"].optimizer["lr"] == 10.0


def test_the_experiment_panel_is_a_sign_of_life_as_the_run_panel_is():
    """A visitor who only watches an experiment (no run going, no sidebar poll) is not taken
    for gone after the heartbeat: the experiment panel's poll refreshes the presence."""
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st
        from lab import runs
        runs.init()
        presence = st.session_state[runs.PRESENCE]
        presence.seen -= 10_000                  # silent for hours, as far as it knows
        runs.current_task()                      # what the experiment panel polls
        st.text(str(presence()))

    at = AppTest.from_function(script).run()
    assert not at.exception, at.exception
    assert at.text[0].value == "True"
