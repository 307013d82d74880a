"""Gradient checking: backpropagation against the definition of a derivative.

The Training page's step mode checks a network's gradients as the engine's tests do: move
one number by ±ε, run the forward pass twice, and divide::

    ∂L/∂θ ≈ (L(θ + ε) − L(θ − ε)) / 2ε

in float64 with ε = 1e-6, whose own error is about ε² + 1e-16/ε ≈ 1e-10. Backprop agrees
with it when the relative error

    max |backprop − numeric| / max(|backprop|, |numeric|)

over the entries checked is below 1e-6 — the threshold of the engine's tests. One case
is set apart: an entry within ε of a kink (a ReLU input at exactly 0 — an all-zero image
patch with a zero bias — or a tie in a max-pool window), where the central difference
averages the two slopes of a corner and backprop rightly takes one of them.

``check_gradients(network, X, y)`` does that for every parameter tensor of a network on a
batch: on a float64 copy (the network itself is not touched), with each Dropout drawing
the same mask at every pass, and — for tensors larger than ``max_entries`` — on a seeded
sample of their entries. The forward passes for a perturbed layer start at that layer
(what comes before it does not change). The tests hold a finite-difference oracle of their
own (``tests/support/gradcheck.py``) and check this one against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..layers import Dropout
from ..trace import trace

EPS = 1e-6
PASS = 1e-6          # the engine's tests' threshold
SUSPECT = 1e-3       # above: backprop is wrong; between: look closer (see Check.verdict)
MASK_SEED = 1000     # Dropout layer j draws its mask from default_rng(MASK_SEED + j)


def numeric_gradient(f, x, eps=EPS, entries=None):
    """∂f/∂x by central differences, (f(x + ε) − f(x − ε)) / 2ε, for every entry of x
    (or only ``entries``, a list of index tuples; the others stay 0).

    ``f`` takes no argument and reads ``x``, which is changed in place and restored.
    In float64 the error is about ε² + 1e-16/ε ≈ 1e-10.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in (np.ndindex(x.shape) if entries is None else entries):
        old = x[idx]
        x[idx] = old + eps
        up = f()
        x[idx] = old - eps
        down = f()
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-12)
    return float(np.max(np.abs(a - b))) / scale


@dataclass
class Check:
    """One parameter tensor: the entries compared and how well they agree."""

    name: str                 # "layer0.W"
    shape: tuple
    entries: list             # the index tuples compared
    backprop: np.ndarray      # at those entries, float64
    numeric: np.ndarray
    error: float              # relative error over them, the kinks left out (NaN: all kinks)
    kinks: list = field(default_factory=list)   # entries on a kink (see _on_a_kink)

    @property
    def sampled(self) -> bool:
        return len(self.entries) < int(np.prod(self.shape))

    @property
    def verdict(self) -> str:
        """pass, look closer, fail — or "on kinks" when every entry checked sits on one
        (finite differences cannot check those)."""
        if np.isnan(self.error):
            return "on kinks"
        if self.error < PASS:
            return "pass"
        return "look closer" if self.error < SUSPECT else "fail"


def _fix_masks(network) -> None:
    for j, layer in enumerate(network.layers):
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(MASK_SEED + j)


def float64_copy(network, weights=None):
    """A float64 network with the same layers, loss, L2 and (given, else the current)
    weights."""
    config = dict(network.get_config(), dtype="float64")
    clone = type(network).from_config(config)
    clone.set_weights(network.get_weights() if weights is None else weights)
    return clone


def check_gradients(network, X, y, *, weights=None, max_entries: int = 10,
                    seed: int = 0) -> list[Check]:
    """Backprop against central differences for every parameter tensor of ``network``
    on the batch (X, y), at ``weights`` (default: its current weights), in training mode.
    Tensors with more than ``max_entries`` entries are checked on a seeded sample."""
    net = float64_copy(network, weights)
    X = net._check_X(X)
    Y = net._targets(y, len(X))
    _fix_masks(net)
    t = trace(net, X, training=True)
    t.backward(Y)
    analytic = {name: g.copy() for name, _, g in net.parameters()}
    rng = np.random.default_rng(seed)
    checks = []
    for i, layer in enumerate(net.layers):
        a_in = t.records[i].input
        for name, p, _ in layer.parameters():
            key = f"layer{i}.{name}"
            picked = np.arange(p.size)           # flat indices, in the order of p.ravel()
            if p.size > max_entries:
                picked = np.sort(rng.choice(p.size, size=max_entries, replace=False))
            take = np.unravel_index(picked, p.shape)          # one index array per axis
            entries = [tuple(idx) for idx in np.transpose(take).tolist()]

            def loss_from_here(i=i, a_in=a_in):
                _fix_masks(net)
                a = a_in
                for later in net.layers[i:]:
                    a = later.forward(a, True)
                return net.compute_loss(a, Y)

            numeric = numeric_gradient(loss_from_here, p, entries=entries)
            b, n = analytic[key][take], numeric[take]
            kinks = _on_a_kink(loss_from_here, p, entries, b, n)
            smooth = [k for k in range(len(entries)) if k not in kinks]
            error = relative_error(b[smooth], n[smooth]) if smooth else float("nan")
            checks.append(Check(key, p.shape, entries, b, n, error,
                                [entries[k] for k in kinks]))
    return checks


def _on_a_kink(f, x, entries, backprop, numeric, eps=EPS) -> list[int]:
    """Which entries sit within ε of a kink — a ReLU input at exactly 0, a tie in a
    max-pool window — where the loss has a corner: there the central difference averages
    the slopes on either side, while backprop takes one of them. An entry is on a kink when
    it misses the threshold but backprop equals one of the one-sided slopes,
    (f(x + ε) − f(x)) / ε or (f(x) − f(x − ε)) / ε, to within the threshold."""
    scale = max(float(np.max(np.abs(backprop))), float(np.max(np.abs(numeric))), 1e-12)
    off = [k for k in range(len(entries)) if abs(backprop[k] - numeric[k]) / scale >= PASS]
    if not off:
        return []
    middle, found = f(), []
    for k in off:
        idx = entries[k]
        old = x[idx]
        x[idx] = old + eps
        right = (f() - middle) / eps
        x[idx] = old - eps
        left = (middle - f()) / eps
        x[idx] = old
        if min(abs(backprop[k] - right), abs(backprop[k] - left)) / scale < 10 * PASS:
            found.append(k)
    return found


__all__ = ["Check", "check_gradients", "float64_copy", "numeric_gradient", "relative_error",
           "EPS", "PASS", "SUSPECT"]
