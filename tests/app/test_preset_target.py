"""A preset's run on the Training page (AppTest) says what the preset is expected to reach,
while it runs and once it has ended: the expectation and the seed's own figure, this run's
figure (the test accuracy scored here against the test set, independently of the page), and
✅ or ❌ by the preset's target. A run that is not a preset's says nothing of the kind."""

from streamlit.testing.v1 import AppTest
from support.apptest import (moons_spec, poll_until, run_until_ended, start_and_wait,
                             training_page)

from nncore.runs.presets import get_preset
from nncore.runs.run import load_spec_data
from nncore.runs.spec import RunSpec

TIMEOUT = 60


def _page(spec: RunSpec, preset: str | None) -> AppTest:
    """The Training page, with ``preset`` as the preset loaded (what lab.state keeps)."""
    return training_page(spec, timeout=30, preset=preset)


def _said(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in (at.info, at.success, at.warning) for e in kind)


def test_a_finished_preset_run_is_set_beside_its_target():
    preset = get_preset("seed003-moons")
    at = _page(preset.run_spec(), preset.name)
    assert "expected:" not in _said(at)                     # no run yet
    at.button(key="training_start").click().run()
    trainer = at.session_state["trainer"]
    run_until_ended(at, TIMEOUT)
    assert trainer.progress().state == "finished"
    data = load_spec_data(preset.run_spec())
    accuracy = trainer.network.score(data.X_test, data.y_test)      # scored here, not read
    said = _said(at)
    assert (f"expected: test accuracy ≥ 95% (seed 003 reports a clean boundary matching "
            f"scikit-learn) — this run: {accuracy:.1%} {'✅' if accuracy >= 0.95 else '❌'}"
            in said), said


def test_while_a_preset_runs_its_target_and_the_figure_so_far_show_then_a_stopped_run():
    preset = get_preset("seed002-clusters")                 # 5001 full-batch epochs
    at = _page(preset.run_spec(), preset.name)
    at.button(key="training_start").click().run()
    trainer = at.session_state["trainer"]
    poll_until(at, lambda: trainer.progress().epoch >= 2, TIMEOUT)
    said = _said(at)
    assert "expected: test accuracy ≥ 96% (seed 002 reports 96.4 % test accuracy)" in said
    assert "this run so far: training accuracy" in said and "of 5001" in said, said
    at.button(key="training_stop").click().run()
    run_until_ended(at, TIMEOUT)
    p = trainer.progress()
    data = load_spec_data(preset.run_spec())
    accuracy = trainer.network.score(data.X_test, data.y_test)
    mark = "✅" if accuracy >= 0.96 else "❌"
    assert (f"— this run (stopped after {p.epoch} of 5001 epochs): {accuracy:.1%} {mark}"
            in _said(at)), _said(at)


def test_a_final_error_preset_is_judged_by_its_final_error():
    preset = get_preset("seed001-xor")                      # error ≤ 0.001 after 1000 epochs
    at = _page(preset.run_spec(), preset.name)
    at.button(key="training_start").click().run()
    trainer = at.session_state["trainer"]
    run_until_ended(at, TIMEOUT)
    error = trainer.progress().history["train_loss"][-1]
    assert f"expected: final error ≤ 0.001 (seed 001 reports error 0.000242 after 1000 " \
           f"epochs) — this run: {error:.4g} {'✅' if error <= 0.001 else '❌'}" in _said(at)


def test_a_run_that_is_no_presets_and_one_on_stand_in_data_are_not_judged(monkeypatch, tmp_path):
    at = _page(moons_spec(), None)
    start_and_wait(at, TIMEOUT)
    assert "expected:" not in _said(at)
    # seed 000's preset where MNIST cannot be loaded: the 8×8 digits stand in (a seed of
    # its own, so that no copy of the real MNIST another test loaded is in the cache)
    monkeypatch.delenv("NNCORE_MNIST_DIR", raising=False)
    monkeypatch.setenv("NNCORE_CACHE_DIR", str(tmp_path))
    seed000 = get_preset("seed000-mnist").run_spec()
    at = _page(seed000.replace(data={**seed000.data, "seed": 4243}, epochs=2), "seed000-mnist")
    start_and_wait(at, TIMEOUT)
    said = _said(at)
    assert "expected: test accuracy ≥ 94%" in said
    assert "This run trains on 8×8 digits, standing in for MNIST" in said
    assert "✅" not in said and "❌" not in said
