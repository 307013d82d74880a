"""The step view's equations in the seeds' notation, with this step's numbers in them.

Pure functions from a recorded step (``nncore.stepping.StepRecord``) to LaTeX strings: no
Streamlit, no computing beyond picking numbers out of the record. Every equation comes as
an ``Equation``: the general form with the shapes, and the same equation for the sample
followed (row n of the batch), with its numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lab.figures.architecture import ACT_NAME_TEX

SHOWN = 4           # entries of a vector written out before "⋯"


@dataclass
class Equation:
    key: str             # what nncore.stepping.sources calls it: "z", "a", "delta", …
    title: str
    general: str         # LaTeX with the shapes
    numbers: str | None  # LaTeX with this step's numbers (None: see the figure)


def num(x: float) -> str:
    """3 significant digits; powers of ten as LaTeX writes them."""
    x = float(x)
    if math.isnan(x):
        return r"\text{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    text = f"{x:.3g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exp)}}}"
    return text


def factor(x: float) -> str:
    """A number as a factor of a product: in parentheses when negative."""
    text = num(x)
    return f"({text})" if float(x) < 0 else text


def vector(values, shown: int = SHOWN) -> str:
    """A row vector, its first entries and its last, with ⋯ between when it is long."""
    v = np.asarray(values).ravel()
    if len(v) <= shown + 1:
        cells = [num(x) for x in v]
    else:
        cells = [num(x) for x in v[:shown]] + [r"\cdots", num(v[-1])]
    return r"\begin{bmatrix}" + " & ".join(cells) + r"\end{bmatrix}"


def matrix(M, rows: int = 4, cols: int = SHOWN) -> str:
    """The top-left corner of a matrix, with ⋮ and ⋯ for what is left out."""
    M = np.asarray(M)
    if M.ndim == 1:
        return vector(M, cols)
    r, c = M.shape
    lines = []
    for i in range(min(r, rows)):
        cells = [num(x) for x in M[i, :cols]] + ([r"\cdots"] if c > cols else [])
        lines.append(" & ".join(cells))
    if r > rows:
        lines.append(" & ".join([r"\vdots"] * min(c, cols) + ([r"\ddots"] if c > cols else [])))
    return r"\begin{bmatrix}" + r" \\ ".join(lines) + r"\end{bmatrix}"


def dims(shape) -> str:
    return r" \times ".join(str(int(d)) for d in shape)


def shaped(equation: str, shapes: str) -> str:
    """The equation, and its shapes in small type under it."""
    return rf"\begin{{gathered}} {equation} \\ \scriptstyle {shapes} \end{{gathered}}"


def chain(lhs: str, *steps) -> str:
    """lhs = step₁ = step₂ …, one step per line, aligned on the = signs; a step given as
    (operator, term) continues the line before with that operator (∘, +)."""
    lines = []
    for step in steps:
        op, term = step if isinstance(step, tuple) else ("=", step)
        lines.append(rf"&{op} {term}")
    return rf"\begin{{aligned}} {lhs} " + r" \\ ".join(lines) + r" \end{aligned}"


def _act(name: str) -> str:
    return ACT_NAME_TEX.get(name, rf"\operatorname{{{name}}}")


# ------------------------------------------------------------------ dense and conv layers
def forward(record, stage, n: int) -> list[Equation]:
    """z and a of ``stage`` (a StageStep), the sample's numbers for row ``n``."""
    l, s = stage.number, stage
    m = record.m
    if s.kind == "pool":
        p = s.config["pool_size"]
        return [Equation("pool", "Max-pooling", rf"a^{{({l})}}_{{c,y,x}} = \max_{{0 \le i,j < {p}}}"
                         rf" a^{{({l - 1})}}_{{c,\,sy+i,\,sx+j}}, \qquad ({dims((m,) + s.a_prev.shape[1:])})"
                         rf" \to ({dims(s.a.shape)})", _window_example(s, n))]
    if s.kind == "conv":
        z = Equation("z", "Convolution", shaped(
                         rf"z^{{({l})}} = a^{{({l - 1})}} \star K^{{({l})}} + b^{{({l})}}",
                         rf"({dims(s.a_prev.shape)}) \star ({dims(s.W.shape)}) + ({s.b.size})"
                         rf" \to ({dims(s.z.shape)})"),
                     rf"b^{{({l})}} = {vector(s.b)}, \quad z^{{({l})}}_{{{n},0,0,0}} = {num(s.z[n, 0, 0, 0])}")
    else:
        z = Equation("z", "Pre-activation", shaped(
                         rf"z^{{({l})}} = a^{{({l - 1})}} W^{{({l})}} + b^{{({l})}}",
                         rf"({dims(s.a_prev.shape)})({dims(s.W.shape)}) + ({s.b.size})"
                         rf" \to ({dims(s.z.shape)})"),
                     chain(rf"z^{{({l})}}_{{{n}}}", rf"{vector(s.a_prev[n])}\, W^{{({l})}} + b^{{({l})}}",
                           vector(s.z[n])))
    act = _act(s.activation)
    a = Equation("a", "Activation", rf"a^{{({l})}} = {act}\big(z^{{({l})}}\big)",
                 chain(rf"a^{{({l})}}_{{{n}}}", rf"{act}\big(z^{{({l})}}_{{{n}}}\big)", vector(s.a[n])))
    out = [z, a]
    if s.dropout_mask is not None:
        out.append(Equation("dropout", "Dropout (training only)",
                            rf"a^{{({l})}} \leftarrow a^{{({l})}} \circ \frac{{r^{{({l})}}}}{{1 - {s.dropout:g}}},"
                            rf"\quad r \sim \operatorname{{Bernoulli}}({1 - s.dropout:g})",
                            rf"\frac{{r^{{({l})}}_{{{n}}}}}{{1 - {s.dropout:g}}} = {vector(s.dropout_mask[n])}"))
    return out


def _window_example(s, n: int) -> str:
    p, stride = s.config["pool_size"], s.config["stride"]
    window = s.a_prev[n, 0, :p, :p].ravel()
    return (rf"a^{{({s.number})}}_{{{n},0,0,0}} = \max({', '.join(num(x) for x in window)})"
            rf" = {num(s.a[n, 0, 0, 0])} \quad (\text{{window }} {p} \times {p}, \text{{ stride }} {stride})")


LOSS_TEX = {
    "softmax_cross_entropy": (r"\mathcal{L} = -\frac{1}{m} \sum_{i} \sum_{c} y_{ic} \ln a_{ic}",
                              r"\delta = a - y"),
    "binary_cross_entropy": (r"\mathcal{L} = -\frac{1}{m} \sum_i \big[y_i \ln a_i + (1 - y_i)\ln(1 - a_i)\big]",
                             r"dA = -\Big(\frac{y}{a} - \frac{1 - y}{1 - a}\Big)"),
    "mse": (r"\mathcal{L} = \frac{1}{m} \sum_i \frac{1}{k} \sum_j (a_{ij} - y_{ij})^2",
            r"dA = \frac{2}{k}(a - y)"),
    "mse_sum": (r"\mathcal{L} = \frac{1}{m} \sum_i \sum_j (a_{ij} - y_{ij})^2", r"dA = 2(a - y)"),
}


def loss(record, n: int) -> list[Equation]:
    """The loss of the batch and its gradient at the output, for sample ``n``."""
    value, grad = LOSS_TEX.get(record.loss_name, (r"\mathcal{L}", r"dA"))
    L = len(record.stages)
    l2 = record.loss - record.data_loss
    total = (rf" + \tfrac{{\lambda}}{{2}}\textstyle\sum \lVert W \rVert^2 = {num(record.data_loss)}"
             rf" + {num(l2)} = {num(record.loss)}" if record.l2 else rf" = {num(record.loss)}")
    out = [Equation("loss", "Loss", value.replace("a_", f"a^{{({L})}}_") + total, None)]
    y, a, g = record.Y[n], record.output[n], record.dA_output[n]
    name = r"\delta" if record.loss_gives_delta else "dA"
    out.append(Equation("dA", "Gradient at the output", grad.replace("dA", rf"dA^{{({L})}}")
                        .replace(r"\delta", rf"\delta^{{({L})}}"),
                        rf"a^{{({L})}}_{{{n}}} = {vector(a)},\ y_{{{n}}} = {vector(y)}"
                        rf"\ \Rightarrow\ {name}^{{({L})}}_{{{n}}} = {vector(g)}"))
    return out


def backward(record, stage, n: int) -> list[Equation]:
    """δ, dW, db and dA_prev of ``stage``, the sample's numbers for row ``n``."""
    l, s, m = stage.number, stage, record.m
    if s.kind == "pool":
        return [Equation("pool_back", "Gradient routed to the winners",
                         rf"dA^{{({l - 1})}}_{{c,p,q}} = dA^{{({l})}}_{{c,y,x}} \text{{ if }} (p, q)"
                         r" \text{ won window } (y, x) \text{, else } 0", None)]
    out = []
    if s.dA is not None and s.sigma_prime is not None:
        out.append(Equation("delta", "Error signal", rf"\delta^{{({l})}} = dA^{{({l})}} \circ "
                            rf"{_act(s.activation)}'\big(z^{{({l})}}\big)",
                            chain(rf"\delta^{{({l})}}_{{{n}}}", _row(s.dA, n),
                                  (r"\circ", _row(s.sigma_prime, n)), _row(s.delta, n))))
    elif s.dA is not None:
        out.append(Equation("delta", "Error signal (softmax: the Jacobian)",
                            rf"\delta^{{({l})}} = a^{{({l})}} \circ \big(dA^{{({l})}} - "
                            rf"\textstyle\sum_j dA_j a_j\big)", rf"\delta^{{({l})}}_{{{n}}} = {_row(s.delta, n)}"))
    else:
        out.append(Equation("delta", "Error signal, from the loss",
                            rf"\delta^{{({l})}} = a^{{({l})}} - y",
                            chain(rf"\delta^{{({l})}}_{{{n}}}", _row(s.a, n), ("-", vector(record.Y[n])),
                                  _row(s.delta, n))))
    l2 = rf" + \lambda W^{{({l})}}" if record.l2 else ""
    W = "K" if s.kind == "conv" else "W"
    prod = (rf"\frac{{1}}{{{m}}} \textstyle\sum_n a^{{({l - 1})}}_n \star \delta^{{({l})}}_n" if s.kind == "conv"
            else rf"\frac{{1}}{{{m}}}\, a^{{({l - 1})\top}} \delta^{{({l})}}")
    out.append(Equation("dW", f"Gradient of {W}", shaped(rf"d{W}^{{({l})}} = {prod}{l2}", f"({dims(s.dW.shape)})"),
                        rf"d{W}^{{({l})}} = {matrix(_flat2(s.dW))}"))
    out.append(Equation("db", "Gradient of b", shaped(rf"db^{{({l})}} = \frac{{1}}{{{m}}} \textstyle\sum_n "
                        rf"\delta^{{({l})}}_n", f"({s.db.size})"), rf"db^{{({l})}} = {vector(s.db)}"))
    if s.dA_prev is not None:
        back = (rf"\delta^{{({l})}} \ast \operatorname{{rot}}_{{180}}\big(K^{{({l})}}\big)" if s.kind == "conv"
                else rf"\delta^{{({l})}} W^{{({l})\top}}")
        out.append(Equation("dA_prev", "Gradient handed down", rf"dA^{{({l - 1})}} = {back}",
                            rf"dA^{{({l - 1})}}_{{{n}}} = {_row(s.dA_prev, n)}"))
    return out


def _row(a, n):
    return vector(np.asarray(a[n]).ravel())


def _flat2(a):
    a = np.asarray(a)
    return a.reshape(a.shape[0], -1) if a.ndim > 2 else a


# ------------------------------------------------------------------ the optimizer
def moved_most(update) -> tuple:
    """The entry of a parameter that this step moved most (its numbers are written out)."""
    return tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(update.terms["applied"])),
                                                 update.before.shape))


def update(record, update, symbol: str, l: int) -> list[Equation]:
    """The optimizer's update of one parameter tensor, with the numbers of the entry the
    step moved most."""
    c, t = update.constants, update.terms
    at = moved_most(update)
    p = rf"{symbol}^{{({l})}}"
    e = rf"{p}_{{{','.join(map(str, at))}}}"
    g, before, after = update.grad[at], update.before[at], update.after[at]
    lr = num(c["lr"])
    name = record.optimizer.get("name")
    if name == "adam":
        b1, b2 = c["beta1"], c["beta2"]
        return [
            Equation("m", "First moment", rf"m \leftarrow {b1:g}\, m + {1 - b1:.3g}\, g",
                     rf"m = {num(t['m'][at])}"),
            Equation("v", "Second moment", rf"v \leftarrow {b2:g}\, v + {1 - b2:.3g}\, g^2",
                     rf"v = {num(t['v'][at])}"),
            Equation("bias", "Bias corrections", rf"\hat m = \frac{{m}}{{1 - {b1:g}^{{t}}}}, \quad "
                     rf"\hat v = \frac{{v}}{{1 - {b2:g}^{{t}}}}, \quad t = {c['t']}",
                     rf"\hat m = \frac{{{num(t['m'][at])}}}{{{num(c['bias_correction1'])}}} = {num(t['m_hat'][at])}, "
                     rf"\quad \hat v = \frac{{{num(t['v'][at])}}}{{{num(c['bias_correction2'])}}} = {num(t['v_hat'][at])}"),
            Equation("step", "Step", rf"{p} \leftarrow {p} - \eta\, \frac{{\hat m}}{{\sqrt{{\hat v}} + \epsilon}}"
                     rf", \quad \eta = {lr}",
                     rf"{e} = {num(before)} - {lr} \cdot \frac{{{num(t['m_hat'][at])}}}"
                     rf"{{\sqrt{{{num(t['v_hat'][at])}}} + {num(c['eps'])}}} = {num(after)}"),
        ]
    if "velocity" in t:
        mu = c["momentum"]
        move = (rf"{mu:g}\, v - {lr}\, g" if c.get("nesterov") else "v")
        return [Equation("velocity", "Velocity", rf"v \leftarrow {mu:g}\, v - {lr}\, g",
                         rf"v = {num(t['velocity'][at])}"),
                Equation("step", "Step", rf"{p} \leftarrow {p} + {move}",
                         rf"{e} = {num(before)} + {factor(-t['step'][at])} = {num(after)}")]
    return [Equation("step", "Step", rf"{p} \leftarrow {p} - \eta\, d{symbol}^{{({l})}}, \quad \eta = {lr}",
                     rf"{e} = {num(before)} - {lr} \times {factor(g)} = {num(after)}")]


__all__ = ["Equation", "backward", "dims", "forward", "loss", "matrix", "moved_most", "num",
           "update", "vector", "factor", "chain", "shaped"]
