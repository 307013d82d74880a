"""One neuron of a recorded step, written out as the sums it is.

For unit j of a Dense layer l and sample n of the batch (the seeds' equations, one entry)::

    z_j   = Σ_i a_i · W_ij + b_j                     (a = a^(l−1) of sample n)
    a_j   = σ(z_j)
    dA_j  = Σ_k δ^(l+1)_k · W^(l+1)_jk                (the layer above; at the output: ℓ'(a))
    δ_j   = dA_j · σ'(z_j)
    dW_ij = (1/m) Σ_n a_ni · δ_nj  (+ λ·W_ij)          (one weight: a sum over the batch)
    db_j  = (1/m) Σ_n δ_nj

For a Conv2D the unit is one output pixel (f, y, x) of filter f, and z sums over the
C·kh·kw numbers of its patch; dK of one kernel entry sums over the batch and every position.

Every sum comes back as a ``WrittenSum``: its terms (the largest first, when there are
many), what the terms not shown add up to, and the total recomputed in float64 next to
the value the engine computed — so the page can write "0.31 × 1.20 + (−0.52) × 0.07 + …
+ 0.10 = 0.44" and the tests can check that it adds up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import get_activation
from ..layers.im2col import pad_images


def number(x: float, digits: int = 3) -> str:
    """A number as the sums write it: 3 significant digits, a real minus sign."""
    text = f"{x + 0.0:.{digits}g}"          # + 0.0: no "−0"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{int(exp)}"
    return text.replace("-", "−")


ACTIVATION_NAMES = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "sigmoid": "sigmoid",
                    "tanh": "tanh", "softmax": "softmax", "linear": "identity"}


def _factor(x: float) -> str:
    text = number(x)
    return f"({text})" if x < 0 else text


@dataclass
class Term:
    index: tuple            # which entry: (i,) of a Dense input, (c, i, j) of a patch, (n,) …
    left: float | None      # None: the term is ``right`` alone (the sum of db)
    right: float

    @property
    def product(self) -> float:
        return self.right if self.left is None else self.left * self.right


@dataclass
class WrittenSum:
    """value = scale · Σ left·right + constant, written out (see the module docstring)."""

    name: str
    terms: list[Term]             # the terms shown: all, or the largest |product| first
    n_terms: int                  # how many there are in all
    rest: float                   # what the terms not shown add up to
    scale: float | None           # 1/m for the gradients of W and b, else None
    constant: float | None        # b_j for z, λ·W_ij for dW, else None
    total: float                  # the whole sum, in float64
    recorded: float               # the value the engine computed

    @property
    def hidden(self) -> int:
        return self.n_terms - len(self.terms)

    def text(self) -> str:
        """"0.31 × 1.20 + (−0.52) × 0.07 + … 14 more terms (−0.03) + 0.10 = 0.44"."""
        parts = [_factor(t.right) if t.left is None else f"{_factor(t.left)} × {_factor(t.right)}"
                 for t in self.terms]
        if self.hidden:
            parts.append(f"… {self.hidden} more term{'s' if self.hidden > 1 else ''} "
                         f"({number(self.rest)})")
        body = " + ".join(parts) if parts else "0"
        if self.scale is not None:
            body = f"({body}) / {round(1 / self.scale)}"
        if self.constant is not None:
            body += f" + {_factor(self.constant)}"
        return f"{body} = {number(self.recorded)}"


def written_sum(name, shape, left, right, *, recorded, scale=None, constant=None,
                max_terms: int = 8) -> WrittenSum:
    """Σ left·right over the entries of an index space of ``shape`` (``left`` and ``right``
    hold one number per entry, in row-major order; ``left`` None: Σ right), keeping the
    ``max_terms`` largest products when there are more."""
    right = np.asarray(right, dtype=np.float64).ravel()
    if left is not None:
        left = np.asarray(left, dtype=np.float64).ravel()
    products = right if left is None else left * right
    order = np.arange(len(products))
    if len(products) > max_terms:
        order = np.argsort(-np.abs(products), kind="stable")[:max_terms]
    hidden = np.ones(len(products), bool)
    hidden[order] = False
    total = float(products.sum())
    if scale is not None:
        total *= scale
    if constant is not None:
        total += constant
    terms = [Term(tuple(int(i) for i in np.unravel_index(k, shape)),
                  None if left is None else float(left[k]), float(right[k])) for k in order]
    return WrittenSum(name, terms, len(products), float(products[hidden].sum()), scale,
                      constant, total, float(recorded))


@dataclass
class NeuronView:
    """Unit ``unit`` of the seeds' layer ``layer``, for sample ``sample`` of the batch."""

    layer: int
    unit: tuple
    sample: int
    activation: str
    z: WrittenSum
    a: float
    dA: WrittenSum | None         # a sum over the layer above, or None …
    dA_value: float | None        # … with its value (None where the loss gave δ itself)
    dA_note: str                  # where dA came from, in words
    derivative: float | None      # σ'(z) (None for softmax, whose δ mixes the whole row)
    delta: float
    weight: tuple                 # the weight whose gradient is written out
    dW: WrittenSum
    db: WrittenSum

    def activation_text(self) -> str:
        """"ReLU → 0.44"."""
        return f"{ACTIVATION_NAMES.get(self.activation, self.activation)} → {number(self.a)}"

    def delta_text(self) -> str:
        if self.dA_value is None:
            return f"δ = a − y = {number(self.delta)}  (the loss gives δ directly)"
        if self.derivative is None:
            return (f"δ = a ∘ (dA − Σ dA·a) = {number(self.delta)}  (softmax: every output "
                    "of the row takes part)")
        return (f"δ = dA × σ'(z) = {_factor(self.dA_value)} × {_factor(self.derivative)} "
                f"= {number(self.delta)}")


def neuron_view(record, layer: int, unit, sample: int = 0, weight=None,
                max_terms: int = 8) -> NeuronView:
    """The sums of one unit (an int for a Dense layer, (f, y, x) for a Conv2D) of the
    seeds' layer ``layer`` (from 1), for row ``sample`` of the recorded batch.
    ``weight`` picks the weight whose gradient is written out (an input index i, or
    (c, i, j) of a kernel); by default the one with the largest term in z."""
    if not 1 <= layer <= len(record.stages):
        raise ValueError(f"layer must be 1 … {len(record.stages)}, got {layer}.")
    s = record.stages[layer - 1]
    if s.kind == "pool":
        raise ValueError(f"Layer {layer} is a max-pool: it has no weights to sum over.")
    if not 0 <= sample < record.m:
        raise ValueError(f"sample must be 0 … {record.m - 1}, got {sample}.")
    dense = s.kind == "dense"
    unit = (int(unit),) if dense else tuple(int(u) for u in unit)
    if any(not 0 <= u < n for u, n in zip(unit, s.z.shape[1:])) or len(unit) != s.z.ndim - 1:
        raise ValueError(f"unit must index one of {s.z.shape[1:]} outputs, got {unit}.")
    inputs, kernel_of = _dense_inputs(s, sample) if dense else _conv_inputs(s, sample, unit)
    j = unit[0]
    weights = s.W[:, j] if dense else s.W[j]                      # (n_in,) or (C, kh, kw)
    z_recorded = s.z[(sample,) + unit]
    z = written_sum("z", weights.shape, inputs, weights, recorded=z_recorded,
                    constant=float(s.b[j]), max_terms=max_terms)
    if weight is None:
        weight = z.terms[0].index
    weight = tuple(np.atleast_1d(weight).tolist())
    dA, dA_value, note = _dA(record, s, sample, unit, max_terms)
    derivative = None
    if s.activation != "softmax" and dA_value is not None:
        act = get_activation(s.activation)
        at = (sample,) + unit
        derivative = float(act.backward(np.ones(1), s.z[at].reshape(1), s.a[at].reshape(1))[0])
    delta = float(s.delta[(sample,) + unit])
    dW, db = _gradient_sums(record, s, j, weight, kernel_of, max_terms)
    return NeuronView(layer, unit, sample, s.activation, z, float(s.a[(sample,) + unit]),
                      dA, dA_value, note, derivative, delta, weight, dW, db)


def _dense_inputs(s, n):
    """The inputs a Dense unit sums over for sample n, and how to find weight i's input
    in every sample and position: (m, positions) values."""
    return s.a_prev[n], lambda w: s.a_prev[:, w[0]][:, None]


def _conv_inputs(s, n, unit):
    """The C·kh·kw patch under output pixel (f, y, x) of sample n, and weight (c, i, j)'s
    input at every position of every sample."""
    _, y, x = unit
    kh, kw = s.W.shape[2:]
    OH, OW = s.z.shape[2:]
    stride, xp = s.config["stride"], pad_images(s.a_prev, s.config["padding"])
    patch = xp[n, :, y * stride:y * stride + kh, x * stride:x * stride + kw]

    def kernel_of(w):
        c, i, j = w
        return xp[:, c, i:i + stride * OH:stride, j:j + stride * OW:stride].reshape(len(xp), -1)
    return patch, kernel_of


def _dA(record, s, n, unit, max_terms):
    """dA of the unit: written out as the sum over the layer above when that is a Dense
    layer; else its value and where it came from."""
    at = (n,) + unit
    if s.dA is None:
        return None, None, "the loss gives δ = a − y at the output directly"
    value = float(s.dA[at])
    if s.number == len(record.stages):
        return None, value, f"the loss's gradient ∂ℓ/∂a ({record.loss_name})"
    above = record.stages[s.number]
    if above.kind == "dense" and s.kind == "dense":
        j = unit[0]
        terms = written_sum("dA", above.W.shape[1:], above.delta[n], above.W[j],
                            recorded=above.dA_prev[n, j],
                            max_terms=max_terms)
        note = f"δ of layer {above.number} times its weights out of this unit"
        if s.dropout_mask is not None:
            note += f", times the dropout mask ({number(float(s.dropout_mask[at]))})"
        return terms, value, note
    how = {"pool": f"routed back by the max-pool of layer {above.number} (0 unless it won "
                   "its window)",
           "dense": f"δ of layer {above.number} times its weights, back through the flatten",
           "conv": f"the gradient coming back through the convolution of layer {above.number}"}
    return None, value, how[above.kind]


def _gradient_sums(record, s, j, weight, kernel_of, max_terms):
    """dW of ``weight`` into unit/filter j and db_j, each a sum over the batch (and, for a
    convolution, over every output position)."""
    m = record.m
    deltas = s.delta[:, j].reshape(m, -1)                     # (m, positions)
    inputs = kernel_of(weight)                                # (m, positions)
    w_index = (weight + (j,)) if s.kind == "dense" else ((j,) + weight)
    l2 = record.l2 * float(s.W[w_index]) if record.l2 else None
    dW = written_sum("dW", deltas.shape, inputs, deltas, recorded=s.dW[w_index], scale=1.0 / m,
                     constant=l2, max_terms=max_terms)
    db = written_sum("db", deltas.shape, None, deltas, recorded=s.db[j],
                     scale=1.0 / m, max_terms=max_terms)
    return dW, db


__all__ = ["NeuronView", "Term", "WrittenSum", "neuron_view", "number", "written_sum"]
