"""The Training page's replay of a run, in Streamlit's AppTest: one frame per snapshot, the
boundary, the curves' cursor and that epoch's figures in each, during the run and after.

The oracle is a plain ``Network.fit`` of the same setup (the same network from the same
seed, the same data and split) with a callback that copies the weights at every epoch's
end; the page's frame of epoch k must show the boundary of exactly those weights — the
probability of class 1 at every grid point the figure lists, computed here with the
network's own ``predict_proba`` — and the points they get wrong.
"""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from support.apptest import TIMEOUT, moons_spec, plotly_array, start_and_wait, training_page
from support.jobs import wait_until

from lab.pages.training.live import GRID, SHARP_GRID
from nncore.runs.run import build_for, load_spec_data
from nncore.runs.spec import LayerSpec, RunSpec

def _spec(**changes) -> RunSpec:
    """This file's run: 120 full-batch epochs of a 2-8-1 tanh network, seed 3."""
    return moons_spec(**{"hidden": [LayerSpec(8, "tanh")], "batch_size": None,
                         "epochs": 120, "seed": 3, **changes})


def _replay(at: AppTest) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("training_replay_chart"))
    return json.loads(chart.proto.spec)


def _oracle(spec: RunSpec):
    """Every epoch's network weights from a plain fit of the setup (0: the initial ones),
    the history, and the data."""
    data = load_spec_data(spec)
    net = build_for(spec, data)
    weights = [net.get_weights()]

    def keep(event):
        if event.kind == "epoch_end":
            weights.append(net.get_weights())
    validation = (data.X_val, data.y_val) if data.n_val else None
    history = net.fit(data.X_train, data.y_train, validation_data=validation,
                      callbacks=[keep], epochs=spec.epochs, batch_size=spec.batch_size,
                      shuffle=spec.shuffle, seed=spec.seed, schedule=spec.schedule)
    return net, weights, history, data


def _boundary_of(net, weights, boundary) -> np.ndarray:
    """P(class 1) × 255, rounded, at every point of the grid a boundary trace lists."""
    xs, ys = plotly_array(boundary["x"]), plotly_array(boundary["y"])
    gx, gy = np.meshgrid(xs, ys)
    net.set_weights(weights)
    p = net.predict_proba(np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32))[:, 1]
    return np.rint(p.astype(np.float64) * 255).reshape(gx.shape)


def test_the_replay_shows_each_kept_epoch_as_its_weights_draw_it():
    spec = _spec()
    at = training_page(spec)
    start_and_wait(at)
    fig = _replay(at)
    net, weights, history, data = _oracle(spec)

    frames = fig["frames"]
    epochs = [int(s["label"]) for s in fig["layout"]["sliders"][0]["steps"]]
    assert epochs == list(range(0, 121, 3))            # the start and every 3rd epoch
    assert len(frames) == len(epochs) and fig["layout"]["sliders"][0]["active"] == len(epochs) - 1
    assert any(b["label"] == "▶ Play" for b in fig["layout"]["updatemenus"][0]["buttons"])
    X, y = data.X_train, data.y_train                   # all 140 drawn (under 1,500)
    for frame, epoch in zip(frames, epochs):
        boundary, wrong, loss_cursor = frame["data"][0], frame["data"][1], frame["data"][2]
        expected = _boundary_of(net, weights[epoch], boundary)
        np.testing.assert_array_equal(plotly_array(boundary["z"]).reshape(expected.shape), expected)
        # every kept epoch on the coarse grid; the one on show, the last, on the fine one
        assert expected.shape == ((SHARP_GRID,) * 2 if epoch == epochs[-1] else (GRID,) * 2)
        missed = net.predict(X) != y                    # the weights of that epoch, still set
        np.testing.assert_allclose(np.sort(plotly_array(wrong["x"])), np.sort(X[missed, 0]))
        assert loss_cursor["x"] == [epoch, epoch]
        title = frame["layout"]["title"]["text"]
        if epoch:
            assert title.startswith(f"Epoch {epoch} of 120")
            assert f"training loss {history.train_loss[epoch - 1]:.4f}" in title
            assert f"training accuracy {history.train_accuracy[epoch - 1]:.1%}" in title
        else:
            assert title == "Before training"
    # the figure shows the last frame: the trained network's boundary, the whole curves
    np.testing.assert_array_equal(plotly_array(fig["data"][0]["z"]).reshape(expected.shape),
                                  _boundary_of(net, weights[120], fig["data"][0]))
    curve = next(t for t in fig["data"] if t.get("name") == "training" and t.get("yaxis") == "y2")
    np.testing.assert_allclose(plotly_array(curve["y"]), history.train_loss)


def test_during_the_run_the_last_frame_is_now_and_agrees_with_the_progress_line():
    at = training_page(_spec(epochs=10_000, batch_size=8))
    at.button(key="training_start").click().run()
    trainer = at.session_state["trainer"]
    try:
        assert trainer.wait_for_progress(TIMEOUT)
        at.button(key="training_pause").click().run()
        assert wait_until(lambda: trainer.progress().held), "the pause did not take hold"
        at.run()                                        # the page, the run standing still
        assert not at.exception
        p = trainer.progress()
        fig = _replay(at)
        last = fig["frames"][-1]
        assert last["layout"]["title"]["text"].startswith(f"Now: {p.epoch} of 10000 epochs done")
        assert f"{p.epoch} epochs done" in at.progress[0].proto.text
        net = trainer.model_copy()                      # the weights the run stands at
        expected = _boundary_of(net, net.get_weights(), last["data"][0])
        assert expected.shape == (SHARP_GRID, SHARP_GRID)
        np.testing.assert_array_equal(plotly_array(last["data"][0]["z"]).reshape(expected.shape),
                                      expected)
    finally:
        trainer.stop()
        trainer.resume()
        assert trainer.join(TIMEOUT)


def test_the_boundary_comes_back_when_the_runs_data_is_chosen_again():
    """Frames kept while another data set was chosen (no boundary to draw then) get their
    boundary when the run's own data is the setup's again."""
    spec = _spec(epochs=12)
    at = training_page(spec)
    start_and_wait(at)
    assert any(t["type"] == "contour" for t in _replay(at)["data"])
    at.session_state["spec"] = spec.replace(data={**spec.data, "noise": 0.3})
    at.run()
    assert not any(t["type"] == "contour" for t in _replay(at)["data"])
    at.session_state["spec"] = spec
    at.run()
    assert not at.exception
    fig = _replay(at)
    assert any(t["type"] == "contour" for t in fig["data"])
    assert all(frame["data"][0]["type"] == "contour" for frame in fig["frames"])


def test_a_run_on_images_replays_its_curves_only():
    spec = RunSpec(data={"name": "digits"}, hidden=[LayerSpec(16)], batch_size=64, epochs=3,
                   seed=0)
    at = training_page(spec)
    start_and_wait(at)
    fig = _replay(at)
    assert [int(s["label"]) for s in fig["layout"]["sliders"][0]["steps"]] == [0, 1, 2, 3]
    assert all(t["type"] == "scatter" for t in fig["data"])      # no boundary
    history = at.session_state["trainer"].progress().history
    title = fig["frames"][2]["layout"]["title"]["text"]
    assert f"validation accuracy {history['val_accuracy'][1]:.1%}" in title


@pytest.mark.parametrize("kind", ["binary", "classes"])
def test_the_replay_figure_on_its_own(kind):
    """Plain data in, one frame per snapshot out (no Streamlit, no run)."""
    from lab.figures import replay
    from nncore.runs import experiments as ex
    from nncore import Dense, Network

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)).astype(np.float32)
    k = 2 if kind == "binary" else 3
    y = rng.integers(0, k, 50)
    nets = [Network([Dense(2, 4, "relu"), Dense(4, k, "softmax")], seed=seed)
            for seed in (0, 1, 2)]                  # a different network in each frame
    grids = [ex.decision_grid(net, X, resolution=12) for net in nets]
    frames = [{"epoch": e, "metrics": {"train_loss": 1.0 / (e + 1)}, "grid": grid,
               "wrong": net.predict(X) != y} for e, grid, net in zip((0, 5, 10), grids, nets)]
    fig = replay.replay_figure({"epoch": list(range(1, 11)),
                                "train_loss": [1 / (e + 1) for e in range(1, 11)]},
                               frames, 10, points=(X, y)).to_dict()
    assert len(fig["frames"]) == 3
    for frame, grid, net in zip(fig["frames"], grids, nets):
        z = plotly_array(frame["data"][0]["z"]).reshape(12, 12)
        p = net.predict_proba(np.column_stack([a.ravel() for a in np.meshgrid(
            plotly_array(frame["data"][0]["x"]), plotly_array(frame["data"][0]["y"]))]))
        if kind == "binary":        # P(class 1) × 255 at the frame's own grid points
            np.testing.assert_array_equal(z.ravel(), np.rint(p[:, 1].astype(np.float64) * 255))
        else:                       # the class each grid point is given
            np.testing.assert_array_equal(z.ravel(), p.argmax(axis=1))
        np.testing.assert_array_equal(np.sort(plotly_array(frame["data"][1]["x"])),
                                      np.sort(X[net.predict(X) != y, 0]))
