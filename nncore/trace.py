"""Look inside a network: one forward pass that keeps what every layer received and gave.

This is the lab's way to look inside a network. What the pages show about one — the
activations of its hidden layers, a CNN's feature maps, the gradient statistics of every
layer, the saliency map of an answer, and, step by step, one batch going forward and back —
is read from a ``Trace`` rather than from another walk over the layers::

    t = trace(network, X)               # forward, layer by layer, nothing thrown away
    t.records[i].input, .z, .output     # what layer i received, z = a·W + b, what it gave
    t.stage_outputs()                   # (Stage, a) for every layer as the seeds count them
    t.proba()                           # the output read as predict_proba reads it
    loss = t.backward(y)                # then .dA, .delta, .dW, .db, .dA_prev of every record
    t.input_gradient(k)                 # ∂output[:, k]/∂X: the saliency map

The backward pass is ``Network.backward`` itself, on the caches this forward left in the
layers (so it must come before the network runs anything else), with the L2 gradient λ·W
added as training adds it. For one Dense layer it fills in the seeds' equations::

    δ = dA ∘ σ'(z)      dW = aᵀ·δ / m      db = Σ_rows δ / m      dA_prev = δ·Wᵀ

A *stage* is what the seeds call one layer: a Dense or Conv2D with the activation that
follows it, which in this engine is either the layer's own σ or — seed 001's style — a
separate ActivationLayer right after it (a Dropout between them changes nothing). A max-pool
is a stage of its own, keeping the activation of the maps it pools.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .layers import ActivationLayer, Conv2D, Dense, Dropout, Layer, MaxPool2D, Reshape
from .layers import WeightedLayer

if TYPE_CHECKING:
    from .network import Network


@dataclass
class LayerRecord:
    """Layer ``index`` of a traced pass: what went in and came out, and after
    ``Trace.backward`` the gradients of the loss with respect to each of them.

    As in ``losses.py``, dA, delta and dA_prev are per sample — row n is ∂ℓ_n of sample
    n's own loss, m × ∂L of the batch's mean loss L — and dW and db are the batch means.
    """

    index: int
    layer: Layer
    input: np.ndarray                   # what the layer received, (m, …)
    z: np.ndarray | None                # Dense / Conv2D: the pre-activation z, else None
    output: np.ndarray                  # what it handed to the next layer, (m, …)
    dA: np.ndarray | None = None        # ∂ℓ/∂output; None where the loss gave δ directly
    delta: np.ndarray | None = None     # ∂ℓ/∂z = dA ∘ σ'(z), shape of z (Dense / Conv2D)
    dW: np.ndarray | None = None        # ∂L/∂W = aᵀ·δ / m + λ·W (a copy)
    db: np.ndarray | None = None        # ∂L/∂b = Σ_rows δ / m (a copy)
    dA_prev: np.ndarray | None = None   # ∂ℓ/∂input = δ·Wᵀ, the dA of the layer before


@dataclass(frozen=True)
class Stage:
    """One layer as the seeds count them: a Dense or Conv2D (or a MaxPool2D) and the
    activation a that follows it."""

    layer_index: int        # the Dense / Conv2D / MaxPool2D
    output_index: int       # the layer whose output is a: an ActivationLayer after it, or itself
    kind: str               # "dense" | "conv" | "pool"
    activation: str         # σ's name; a pool keeps the activation of the maps it pools
    units: int              # out_features, out_channels, or the channels a pool passes on


def stages(network: "Network") -> list[Stage]:
    """The network's stages, first to last (the last one is the output layer)."""
    layers = network.layers
    found: list[Stage] = []
    for i, layer in enumerate(layers):
        if isinstance(layer, (Dense, Conv2D)):
            act, out = layer.activation.name, i
            j = i + 1
            while j < len(layers) and isinstance(layers[j], Dropout):
                j += 1
            if act == "linear" and j < len(layers) and isinstance(layers[j], ActivationLayer):
                act, out = layers[j].activation.name, j   # seed 001: σ is a layer of its own
            dense = isinstance(layer, Dense)
            found.append(Stage(i, out, "dense" if dense else "conv", act,
                               layer.out_features if dense else layer.out_channels))
        elif isinstance(layer, MaxPool2D):
            act = found[-1].activation if found else "linear"
            found.append(Stage(i, i, "pool", act, _channels_before(layers, i)))
    return found


def _channels_before(layers, i: int) -> int:
    """How many feature maps reach layer i: the last convolution's filters, or the image
    channels of the Reshape in front (pooling and activations keep the count)."""
    for layer in reversed(layers[:i]):
        if isinstance(layer, Conv2D):
            return layer.out_channels
        if isinstance(layer, Reshape):
            return layer.target_shape[0]
    return 0


@dataclass
class Trace:
    """One forward pass of ``network`` on ``X`` (as ``Network._check_X`` prepared it)."""

    network: "Network"
    X: np.ndarray
    records: list[LayerRecord] = field(default_factory=list)
    output: np.ndarray | None = None

    def proba(self) -> np.ndarray:
        """The traced output as class probabilities — ``Network.predict_proba``'s rules."""
        return self.network.probabilities(self.output)

    def stage_outputs(self) -> list[tuple[Stage, np.ndarray]]:
        """(stage, its activation a for every sample) for each stage of the network."""
        return [(s, self.records[s.output_index].output) for s in stages(self.network)]

    def backward(self, y) -> float:
        """Backpropagate the loss of the traced output against ``y`` (labels or a target
        matrix) and fill in every record's gradients; returns the loss (with its L2 term).

        The input gradient of the first layer is computed too (training skips it)."""
        net, records = self.network, self.records
        Y = net._targets(y, len(self.X))
        loss = net.compute_loss(self.output, Y)

        def keep(i, dA, dA_prev):
            records[i].dA, records[i].dA_prev = dA, dA_prev

        with _input_gradient_on(net):
            net.backward(net.loss.backward(self.output, Y), on_layer=keep)
        net.add_l2_gradients()
        for r in records:
            if isinstance(r.layer, WeightedLayer):
                r.delta, r.dW, r.db = r.layer.delta, r.layer.dW.copy(), r.layer.db.copy()
        return loss

    def input_gradient(self, target) -> np.ndarray:
        """∂output[:, target]/∂X — how much each input number moves that output: the
        saliency map. ``target`` is one output index, or one per sample.

        Not a loss gradient: the backward pass starts from a one-hot seed at the output
        and goes through every layer, the output's activation included."""
        net, X = self.network, self.X
        target = np.asarray(target)
        k = net.n_outputs
        if (not np.issubdtype(target.dtype, np.integer) or target.ndim > 1
                or target.size not in (1, len(X)) or np.any((target < 0) | (target >= k))):
            raise ValueError(f"input_gradient: target must be one output index in 0…{k - 1}, "
                             f"or one per sample ({len(X)}), got {target.tolist()!r}.")
        out = self.output
        grad = np.zeros_like(out)
        grad[np.arange(len(out)), np.broadcast_to(target.reshape(-1), (len(out),))] = 1.0
        with _input_gradient_on(net):
            for layer in reversed(net.layers):
                grad = layer.backward(grad)
        return grad


def trace(network: "Network", X, training: bool = False) -> Trace:
    """Run ``X`` forward through ``network`` layer by layer, recording every layer.

    ``training=True`` runs the layers as ``fit`` does (Dropout draws its masks from its
    ``rng``); the outputs equal ``network.forward(X, training)`` exactly."""
    X = network._check_X(X)
    t = Trace(network, X)
    a = X
    for i, layer in enumerate(network.layers):
        out = layer.forward(a, training)
        t.records.append(LayerRecord(i, layer, a, layer.z if isinstance(layer, WeightedLayer)
                                     else None, out))
        a = out
    t.output = a
    return t


@contextlib.contextmanager
def _input_gradient_on(network):
    """Let the first Dense / Conv2D compute ∂L/∂X for the duration (fit switches it off)."""
    first = network._first_parametric()
    skip = first is not None and first.skip_input_gradient
    if first is not None:
        first.skip_input_gradient = False
    try:
        yield
    finally:
        if first is not None:
            first.skip_input_gradient = skip


__all__ = ["LayerRecord", "Stage", "Trace", "stages", "trace"]
