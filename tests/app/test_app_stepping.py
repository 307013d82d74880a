"""Step mode on the Training page, in Streamlit's AppTest, one test per part of it:
the buttons and fit's order (and a run stepped to its end ends where Start's run ends),
the step layer by layer with its numbers and source lines, one neuron's sum, the gradient
check, a diverging step and a diverged run explained and retried, the initialisation
explorer, the unit maps of 2-D data, and waiting for the session's run.

The numbers the page shows are checked against the engine's record of the step (itself
checked against the seeds' equations in tests/engine/test_stepping.py), and the source
lines against the files.
"""

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest
from support.apptest import moons_spec, run_until_ended, texts, training_page

from lab.figures import stepping_math as math
from nncore.runs.presets import get_preset
from nncore.runs.run import build_for, load_spec_data
from nncore.runs.spec import LayerSpec, RunSpec
from nncore.stepping import neuron_view

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


def _app(spec: RunSpec, **state) -> AppTest:
    """The Training page with step mode open."""
    return training_page(spec, timeout=30, stepping_open=True, **state)


def _charts(at, key: str) -> list:
    return [c for c in at.get("plotly_chart") if c.proto.id.endswith(key)]


def _stepper(at):
    return at.session_state["stepping"].stepper


def _weights(net):
    return [p for _, p, _ in net.parameters()]


# ------------------------------------------------------------------ 1. the buttons
def test_the_buttons_step_in_fits_order_and_the_stepped_network_becomes_the_model():
    spec = moons_spec()
    at = _app(spec)
    labels = [b.label for b in at.button]
    for label in ("Step one batch", "Step 10 batches", "Finish the epoch",
                  "Back to the initial weights"):
        assert label in labels
    at.button(key="stepping_one").click().run()
    stepper = _stepper(at)
    assert stepper.steps == 1 and stepper.last.step == 1
    at.button(key="stepping_ten").click().run()
    assert stepper.steps == min(11, stepper.n_batches * 2)
    model = at.session_state["model"]
    assert model is not stepper.network and model.metadata["stepped"]["steps"] == stepper.steps
    assert all(np.array_equal(p, q) for p, q in zip(_weights(model), _weights(stepper.network)))
    at.button(key="stepping_epoch").click().run()
    assert stepper.batch == 0 and stepper.epoch == stepper.steps // stepper.n_batches
    assert f"**Step {stepper.steps:,}**" in texts(at.markdown)
    at.button(key="stepping_reset").click().run()
    initial = build_for(spec, load_spec_data(spec))
    assert stepper.steps == 0 and stepper.last is None
    assert all(np.array_equal(p, q) for p, q in zip(_weights(at.session_state["model"]),
                                                    _weights(initial)))


def test_a_run_stepped_to_its_end_ends_where_starts_run_ends():
    at = _app(moons_spec())
    at.button(key="training_start").click().run()
    run_until_ended(at, TIMEOUT)
    trained = at.session_state["model"]
    assert at.session_state["trainer"].progress().state == "finished"
    for _ in range(2):
        at.button(key="stepping_epoch").click().run()
    stepper = _stepper(at)
    assert stepper.finished and stepper.steps == 2 * stepper.n_batches
    stepped = at.session_state["model"]
    for p, q in zip(_weights(stepped), _weights(trained)):   # float32 rounding at most
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
    at.button(key="stepping_one").click().run()
    assert "All 2 epochs of this setup are done" in texts(at.info)


# ------------------------------------------------------------------ 2 and 4. layer by layer
def test_each_layer_shows_its_equations_with_this_steps_numbers_and_the_lines_that_ran():
    at = _app(get_preset("seed003-moons").run_spec())
    for _ in range(3):
        at.button(key="stepping_one").click().run()
    record = _stepper(at).last
    assert record.step == 3
    latex = texts(at.latex)
    first = record.stages[0]
    assert math.vector(first.z[0]) in latex and math.vector(first.a[0]) in latex
    assert math.vector(first.delta[0]) in latex and math.vector(first.db) in latex
    assert r"z^{(1)} = a^{(0)} W^{(1)} + b^{(1)}" in latex and "(800 \\times 16)" in latex
    at.number_input(key="stepping_sample").set_value(7).run()
    assert math.vector(first.z[7]) in texts(at.latex)
    # the source lines: the file's own lines, with their numbers
    codes = [c.value for c in at.code]
    assert any("z = a_prev @ self.W" in c for c in codes)
    dense = (ROOT / "nncore/layers/dense.py").read_text().splitlines()
    for code in codes:
        number, text = code.splitlines()[0].split("  ", 1)
        if "self.dW /= m" in code or "a_prev @ self.W" in code:
            assert dense[int(number) - 1].strip() == text.strip()
    assert "nncore/layers/dense.py" in texts(at.caption)
    assert _charts(at, "stepping_forward") and _charts(at, "stepping_update_chart")
    # the output layer: the loss and its gradient, and the update with its numbers
    at.radio(key="stepping_layer").set_value(2).run()
    latex = texts(at.latex)
    assert r"\mathcal{L}" in latex and math.num(record.loss) in latex
    update = record.updates[f"layer{record.stages[1].layer_index}.W"]
    at_ = math.moved_most(update)
    assert math.num(update.after[at_]) in latex


def test_a_convolution_shows_its_feature_maps_kernels_their_gradients_and_pooling_winners():
    spec = RunSpec(data={"name": "digits"}, hidden=[
        LayerSpec(kind="conv", filters=4, kernel=3, padding="same"), LayerSpec(kind="maxpool"),
        LayerSpec(16, dropout=0.2)], optimizer={"name": "adam", "lr": 0.01}, batch_size=32,
        epochs=1, seed=0)
    at = _app(spec)
    at.button(key="stepping_one").click().run()
    record = _stepper(at).last
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "K(1): 4 filters" in specs and "z(1) of sample 0" in specs and "dK(1)" in specs
    assert r"a^{(0)} \star K^{(1)} + b^{(1)}" in texts(at.latex)
    at.radio(key="stepping_layer").set_value(2).run()
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Which input won its window" in specs and "routed to the winners" in specs
    pool = record.stages[1]
    assert r"\max(" in texts(at.latex) and math.num(pool.a[0, 0, 0, 0]) in texts(at.latex)
    at.session_state["stepping_tabs"] = "Gradient check"
    at.run()
    at.button(key="stepping_gradcheck").click().run()
    assert "Backprop agrees with finite differences on all 6 tensors" in texts(at.success)


# ------------------------------------------------------------------ 3. one neuron
def test_one_neuron_is_written_out_as_its_sum():
    at = _app(get_preset("seed003-moons").run_spec(), stepping_tabs="One neuron")
    at.button(key="stepping_one").click().run()
    at.number_input(key="stepping_neuron_unit").set_value(5).run()
    at.number_input(key="stepping_sample").set_value(3).run()
    record = _stepper(at).last
    v = neuron_view(record, 1, 5, 3)
    text = texts(at.markdown)
    assert f"z = {v.z.text()}, ReLU → " in text
    assert v.delta_text() in text and v.dW.text() in text
    assert _charts(at, "stepping_terms_chart")


# ------------------------------------------------------------------ 5. gradient check
def test_the_gradient_check_passes_and_explains_its_threshold():
    at = _app(moons_spec(hidden=[LayerSpec(6, "tanh"), LayerSpec(5, "relu")], l2=0.01),
              stepping_tabs="Gradient check")
    at.button(key="stepping_one").click().run()
    at.button(key="stepping_gradcheck").click().run()
    assert "Backprop agrees with finite differences on all 6 tensors" in texts(at.success)
    table = at.dataframe[0].value
    assert list(table["verdict"]) == ["pass"] * 6
    assert "engine tests' threshold" in texts(at.caption)


# ------------------------------------------------------------------ 6. divergence
DIVERGING = dict(loss="mse", output_activation="linear", optimizer={"name": "sgd", "lr": 10.0},
                 epochs=20)


def test_a_diverging_step_is_explained_undone_and_retried_at_a_tenth_of_the_rate():
    at = _app(moons_spec(**DIVERGING))
    for _ in range(3):
        at.button(key="stepping_ten").click().run()
    stepper = _stepper(at)
    d = stepper.diverged
    assert d is not None and d.sentence in texts(at.error)
    assert "learning rate 10" in d.sentence and stepper.steps == d.step - 1
    model = at.session_state["model"]
    assert all(np.isfinite(p).all() for p in _weights(model))
    at.button(key="stepping_retry").click().run()
    assert at.session_state["spec"].optimizer["lr"] == 1.0
    retried = _stepper(at)
    assert retried is not stepper and retried.steps == d.step and retried.diverged is None
    assert "Retried from the same initial weights at learning rate 1" in texts(at.success)


def test_a_diverged_run_is_replayed_to_its_first_overflow_and_retried_and_stepping_waits():
    at = _app(moons_spec(**dict(DIVERGING, epochs=5000)))      # the retry must still be running
    at.button(key="training_start").click().run()
    run_until_ended(at, TIMEOUT)
    assert at.session_state["trainer"].progress().state == "diverged"
    text = texts(at.markdown)
    assert "Why the run diverged" in text and "At batch" in text and "became" in text
    first = at.session_state["trainer"]
    at.button(key="training_retry_diverged").click().run()
    assert at.session_state["spec"].optimizer["lr"] == 1.0
    retry = at.session_state["trainer"]
    assert retry is not first and retry.progress().active
    # a run of this session goes on: stepping waits, and says so; the unit maps follow it
    assert at.button(key="stepping_one").disabled
    assert "Stepping waits until it has ended" in texts(at.info)
    at.session_state["stepping_maps_open"] = True
    at.run()
    assert "live: epoch" in _charts(at, "stepping_unit_maps")[0].proto.spec
    at.button(key="training_stop").click().run()
    run_until_ended(at, TIMEOUT)
    assert not at.button(key="stepping_one").disabled


# ------------------------------------------------------------------ 7. initialisation
def test_the_initialisation_explorer_compares_every_initialisation():
    at = _app(moons_spec(hidden=[LayerSpec(16, "tanh")]))        # before any step
    assert _charts(at, "stepping_spreads_chart")
    assert "starts its hidden layers with glorot" in texts(at.caption)
    at.toggle(key="stepping_init_deeper").set_value(True).run()
    assert not at.exception and _charts(at, "stepping_spreads_chart")
    at.toggle(key="stepping_init_histograms").set_value(True).run()
    assert _charts(at, "stepping_histograms_chart")


# ------------------------------------------------------------------ 8. unit maps
def test_2d_networks_are_drawn_as_maps_of_their_units_after_every_step():
    at = _app(moons_spec(), stepping_maps_open=True)
    chart = _charts(at, "stepping_unit_maps")
    assert chart and "initial weights" in chart[0].proto.spec
    at.button(key="stepping_one").click().run()
    assert "after step 1" in _charts(at, "stepping_unit_maps")[0].proto.spec
    digits = _app(moons_spec(data={"name": "digits"}, hidden=[LayerSpec(8)]), stepping_maps_open=True)
    assert not _charts(digits, "stepping_unit_maps")
