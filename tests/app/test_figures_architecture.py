"""lab/figures/architecture.py: the diagram's columns and the equations match the network that trains."""

from __future__ import annotations

import numpy as np
import pytest

from lab.figures import architecture as views
from nncore.runs.presets import PRESETS
from nncore.runs.spec import HIDDEN_ACTIVATIONS, LayerSpec, RunSpec, build_network


def test_dense_columns_follow_the_layers():
    spec = RunSpec(hidden=[LayerSpec(16, "tanh"), LayerSpec(8, "relu")])
    net = build_network(spec, 64, 10)
    cols = views.columns(net, 64)
    assert [c.nodes for c in cols] == [64, 16, 8, 10]
    assert [c.title for c in cols] == ["input", "hidden (tanh)", "hidden (ReLU)", "output (softmax)"]
    assert all(c.weights is None for c in cols)
    fig = views.network_figure(cols)
    assert "⋮" in [a.text for a in fig.layout.annotations]      # 64 and 16 are summarised


def test_trained_weights_colour_only_a_model_of_the_same_shape():
    spec = RunSpec(hidden=[LayerSpec(5, "relu")])
    net = build_network(spec, 2, 3)
    trained = build_network(spec, 2, 3)
    cols = views.columns(net, 2, trained=trained)
    assert np.array_equal(cols[1].weights, trained.layers[0].W)
    assert np.array_equal(cols[2].weights, trained.layers[1].W)
    other = build_network(RunSpec(hidden=[LayerSpec(6, "relu")]), 2, 3)
    assert all(c.weights is None for c in views.columns(net, 2, trained=other))
    colours = {t.line.color for t in views.network_figure(cols).data if t.mode == "lines"}
    assert colours <= {"#d62728", "#1f77b4"} and colours


def test_convolutional_columns_and_their_weights():
    spec = PRESETS["mnist-cnn"].run_spec()
    net = build_network(spec, 784, 10)
    cols = views.columns(net, 784, trained=net)
    assert [c.nodes for c in cols] == [1, 8, 8, 16, 16, 128, 10]
    assert [c.link for c in cols[1:]] == ["full", "one-to-one", "full", "one-to-one", "full", "full"]
    assert cols[0].detail == "28×28 image" and cols[2].detail == "8 maps 14×14"
    assert cols[1].weights.shape == (1, 8) and cols[3].weights.shape == (8, 16)
    assert cols[5].weights.shape == (16, 128)             # flatten: summed over the 7×7 pixels
    assert cols[6].weights.shape == (128, 10)
    conv = net.layers[1]
    assert np.allclose(cols[1].weights, conv.W.sum(axis=(2, 3)).T)
    dense = net.layers[6]                                 # rows of W run channel by channel
    assert np.allclose(cols[5].weights, dense.W.reshape(16, 49, 128).sum(axis=1), atol=1e-5)
    assert views.layer_shapes(net) == [(8, 28, 28), (8, 14, 14), (16, 14, 14), (16, 7, 7),
                                       (128,), (10,)]


@pytest.mark.parametrize("loss, expected", [
    ("softmax_cross_entropy", r"a^{(2)} - y"),
    ("binary_cross_entropy", r"\hat y - y"),
    ("mse", r"\frac{2}{1}\big(a^{(2)} - y\big)"),
    ("mse_sum", r"2\big(a^{(2)} - y\big)"),
])
def test_the_output_gradient_of_each_loss(loss, expected):
    spec = RunSpec(hidden=[LayerSpec(4, "tanh")], loss=loss)
    eq = views.equations(spec, 2, 2)
    assert expected in " ".join(eq["loss"])


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_every_layer_names_its_activation_and_derivative(activation):
    spec = RunSpec(hidden=[LayerSpec(4, activation, dropout=0.25)], l2=0.01)
    eq = views.equations(spec, 3, 4)
    forward, backward = " ".join(eq["forward"]), " ".join(eq["backward"])
    assert views.ACT_NAME_TEX[activation] + r"\big(z^{(1)}\big)" in forward
    assert r"W^{(1)} \in \mathbb{R}^{3 \times 4}" in forward
    assert views._derivative(activation, 1) in backward
    assert r"\operatorname{Bernoulli}(0.75)" in forward and r"\frac{r^{(1)}}{1 - 0.25}" in backward
    assert r"+ \lambda W^{(l)}" in backward and r"\lambda = 0.01" in " ".join(eq["loss"])


def test_updates_name_the_optimizer_and_schedule():
    assert r"\theta \leftarrow \theta - 0.1\; g" in views.updates(RunSpec(optimizer={"name": "sgd", "lr": 0.1}))
    nesterov = " ".join(views.updates(RunSpec(optimizer={"name": "nesterov", "lr": 0.1, "momentum": 0.5})))
    assert r"\theta + 0.5\, v - 0.1\, g" in nesterov
    adam = " ".join(views.updates(RunSpec(schedule={"name": "cosine"})))
    assert r"\sqrt{\hat v}" in adam and r"\cos(\pi e / 10)" in adam
