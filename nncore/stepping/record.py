"""One training step that keeps every number it computed.

``record_step(network, X, y)`` *is* a training step — the one ``fit`` takes on a batch:
forward in training mode, the loss, backpropagation, the L2 gradient, the optimizer's
update — and it hands back what each layer received, computed and passed on, as plain
arrays (copies: later steps do not change them)::

    r = record_step(network, X, y)
    r.loss, r.output, r.Y, r.dA_output       # the loss and its gradient at the output
    s = r.stages[0]                          # the seeds' layer 1 (see nncore.trace.Stage)
    s.a_prev, s.W, s.b, s.z, s.a             # z = a_prev·W + b,  a = σ(z)
    s.dA, s.delta, s.dW, s.db, s.dA_prev     # δ = dA ∘ σ'(z),  dW = a_prevᵀ·δ / m, …
    s.winners                                # max-pool: how many windows each input won
    r.updates["layer0.W"].terms["m_hat"]     # the optimizer's own terms (Adam: m, v, m̂, v̂)
    r.layers[i]                              # every nncore layer, Reshape and Dropout too

The forward and backward pass are ``nncore.trace``'s (which is ``Network.forward`` and
``Network.backward`` layer by layer), the update is ``Network.apply_gradients``: the
weights after a recorded step are the weights after ``fit``'s step, bit for bit. ``fit``
itself never records.

As in ``nncore.trace``: dA, δ and dA_prev are per sample (row n is sample n's own ∂ℓ),
dW and db are the batch means the optimizer used (with λ·W added when l2 > 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..activations import get_activation
from ..layers import Dropout, MaxPool2D
from ..optimizers import SGD, Adam
from ..trace import stages, trace


def _copy(a):
    return None if a is None else np.array(a, copy=True)


@dataclass
class LayerStep:
    """nncore layer ``index`` in this step: what it received and gave, and the gradients."""

    index: int
    name: str                      # e.g. "Dense(in_features=2, out_features=16, …)"
    input: np.ndarray
    z: np.ndarray | None           # Dense / Conv2D: the pre-activation
    output: np.ndarray
    dA: np.ndarray | None          # ∂ℓ/∂output (None where the loss gave δ directly)
    delta: np.ndarray | None       # Dense / Conv2D: ∂ℓ/∂z
    dW: np.ndarray | None
    db: np.ndarray | None
    dA_prev: np.ndarray | None     # ∂ℓ/∂input


@dataclass
class ParameterUpdate:
    """One parameter tensor's update: before, gradient, after, and the optimizer's terms.

    ``terms`` (arrays shaped like the parameter), by optimizer:
      SGD       step = η·g
      momentum  velocity v (after this step), step = −v  (Nesterov: step = −(μ·v − η·g))
      Adam      m, v (the paper's, after this step), m_hat = m/(1−β₁ᵗ), v_hat = v/(1−β₂ᵗ),
                step = η·m̂/(√v̂ + ε)
    and always ``applied`` = before − after, the change the update really made (equal to
    ``step`` up to float rounding). ``constants``: η, t, β₁, β₂, ε, the bias corrections.
    """

    name: str
    before: np.ndarray
    grad: np.ndarray
    after: np.ndarray
    terms: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)


@dataclass
class StageStep:
    """The seeds' layer ``number`` (1, 2, …) in this step: a Dense or Conv2D with the
    activation after it, or a max-pool. Fields as ``nncore.trace`` names them."""

    number: int
    kind: str                      # "dense" | "conv" | "pool"
    activation: str
    layer_index: int
    output_index: int
    config: dict                   # the layer's get_config(): sizes, stride, padding, …
    a_prev: np.ndarray             # a^(l−1): what the layer read (flattened for a Dense)
    a: np.ndarray                  # a^(l) = σ(z^(l)) (before a dropout that follows)
    z: np.ndarray | None = None
    W: np.ndarray | None = None    # before this step's update
    b: np.ndarray | None = None
    dA: np.ndarray | None = None   # ∂ℓ/∂a^(l); None where the loss gave δ = a − y itself
    sigma_prime: np.ndarray | None = None   # σ'(z^(l)) (not for softmax, whose δ mixes a row)
    delta: np.ndarray | None = None
    dW: np.ndarray | None = None
    db: np.ndarray | None = None
    dA_prev: np.ndarray | None = None
    dropout: float = 0.0           # a Dropout right after the stage: its rate …
    dropout_mask: np.ndarray | None = None   # … and mask / (1 − rate) in this step
    winners: np.ndarray | None = None        # pool: windows won by each input position


@dataclass
class StepRecord:
    """Everything one training step computed. ``step``, ``epoch``, ``batch`` and ``rows``
    are filled in by ``Stepper`` (the position in fit's data order)."""

    X: np.ndarray
    Y: np.ndarray
    output: np.ndarray
    loss: float                    # the data loss plus the L2 term
    data_loss: float
    dA_output: np.ndarray          # loss.backward(output, Y): dA of the output, or δ
    loss_gives_delta: bool
    loss_name: str
    l2: float
    lr: float
    optimizer: dict
    layers: list[LayerStep]
    stages: list[StageStep]
    updates: dict[str, ParameterUpdate]
    step: int = 0
    epoch: int = 0
    batch: int = 0
    batches: int = 0
    rows: np.ndarray | None = None

    @property
    def m(self) -> int:
        return len(self.X)

    def labels(self) -> np.ndarray:
        """The class of each sample of the batch."""
        return (self.Y[:, 0] > 0.5).astype(np.int64) if self.Y.shape[1] == 1 else self.Y.argmax(1)


def record_step(network, X, y) -> StepRecord:
    """Take one training step of ``network`` on the batch (X, y), keeping every number.

    The same step as ``fit``'s: training-mode forward (Dropout draws its masks from its
    ``rng``), loss, backward, L2, the optimizer's update at its current learning rate."""
    network._check_ready()
    X = network._check_X(X)
    return _record(network, X, network._targets(y, len(X)))


def _record(network, X: np.ndarray, Y: np.ndarray) -> StepRecord:
    net = network
    before = net.get_weights()
    names = [name for name, _, _ in net.parameters()]
    t = trace(net, X, training=True)
    loss = t.backward(Y)                       # loss, every δ, dW, db (+ λ·W)
    data_loss = net.loss.forward(t.output, Y)
    dA_output = net.loss.backward(t.output, Y)
    winners = {r.index: r.layer.backward(np.ones_like(r.output))   # the engine's own routing
               for r in t.records if isinstance(r.layer, MaxPool2D)}
    masks = {r.index: _copy(r.layer.scaled_mask) for r in t.records
             if isinstance(r.layer, Dropout)}
    grads = [g.copy() for _, _, g in net.parameters()]
    lr = net.optimizer.lr
    net.apply_gradients()
    after = net.get_weights()
    updates = _updates(net.optimizer, names, before, grads, after, lr)

    layers = [LayerStep(r.index, repr(r.layer), _copy(r.input), _copy(r.z), _copy(r.output),
                        _copy(r.dA), _copy(r.delta), _copy(r.dW), _copy(r.db), _copy(r.dA_prev))
              for r in t.records]
    return StepRecord(X=X, Y=Y, output=_copy(t.output), loss=float(loss),
                      data_loss=float(data_loss), dA_output=_copy(dA_output),
                      loss_gives_delta=net.loss.returns_delta, loss_name=net.loss.name,
                      l2=net.l2, lr=lr, optimizer=net.optimizer.get_config(), layers=layers,
                      stages=_stages(net, layers, updates, masks, winners), updates=updates)


def _stages(net, layers: list[LayerStep], updates, masks, winners) -> list[StageStep]:
    found = []
    for number, s in enumerate(stages(net), start=1):
        first, last = layers[s.layer_index], layers[s.output_index]
        stage = StageStep(number, s.kind, s.activation, s.layer_index, s.output_index,
                          net.layers[s.layer_index].get_config(),
                          a_prev=first.input, a=last.output, dA=last.dA,
                          dA_prev=first.dA_prev)
        if s.kind == "pool":
            stage.winners = _copy(winners[s.layer_index])
        else:
            stage.z, stage.delta, stage.dW, stage.db = first.z, first.delta, first.dW, first.db
            if s.activation != "softmax":      # σ'(z) = σ's backward of a gradient of ones
                act = get_activation(s.activation)
                stage.sigma_prime = act.backward(np.ones_like(stage.z), stage.z, stage.a)
            stage.W = updates[f"layer{s.layer_index}.W"].before
            stage.b = updates[f"layer{s.layer_index}.b"].before
        following = s.output_index + 1
        if following < len(net.layers) and isinstance(net.layers[following], Dropout):
            stage.dropout = net.layers[following].rate
            stage.dropout_mask = masks.get(following)
        found.append(stage)
    return found


def _updates(opt, names, before, grads, after, lr) -> dict[str, ParameterUpdate]:
    """The optimizer's terms for every parameter, read from its state after the step."""
    out = {}
    for i, name in enumerate(names):
        u = ParameterUpdate(name, before[i], grads[i], after[i], constants={"lr": lr})
        g = grads[i]
        if isinstance(opt, Adam):
            b1, b2, t, eps = opt.beta1, opt.beta2, opt.t, opt.eps
            c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
            # the fused form keeps m' = m/(1−β₁) and v' = v/(1−β₂) (see Adam's docstring)
            m = opt.m[i] * (1 - b1) if opt.fused else opt.m[i].copy()
            v = opt.v[i] * (1 - b2) if opt.fused else opt.v[i].copy()
            m_hat, v_hat = m / c1, v / c2
            u.terms = {"m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat,
                       "step": lr * m_hat / (np.sqrt(v_hat) + eps)}
            u.constants.update(t=t, beta1=b1, beta2=b2, eps=eps, bias_correction1=c1,
                               bias_correction2=c2)
        elif isinstance(opt, SGD) and opt.momentum:
            v = opt.velocities[i].copy()
            mu = opt.momentum
            step = -(mu * v - lr * g) if opt.nesterov else -v
            u.terms = {"velocity": v, "step": step}
            u.constants.update(momentum=mu, nesterov=opt.nesterov)
        else:
            u.terms = {"step": lr * g}
        u.terms["applied"] = before[i] - after[i]
        out[name] = u
    return out


__all__ = ["LayerStep", "ParameterUpdate", "StageStep", "StepRecord", "record_step"]
