"""The lines of nncore that compute each equation, read from the code as it runs.

Nothing here is a copy of the code: ``sources(network)`` asks each layer, activation, loss
and optimizer of *this* network for the functions it runs (``type(layer).forward``, …),
reads their source with ``inspect``, and picks the statements that compute an equation by
a short piece of the code they contain (``"a_prev @ self.W"`` for z = a·W + b). So the
file, the line numbers and the text are the ones that ran; when the code changes, so does
what is shown. When no statement contains the piece any more, the whole function is given
instead (``exact`` False) — never a line that does not compute the equation.

    src = sources(network)
    src[1]["z"]             # [Source(file='nncore/layers/dense.py', first=…, lines=[…])]
    src["loss"]["dA"]       # the loss's backward
    src["update"]["step"]   # the optimizer's update
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..layers import Dense, Dropout, MaxPool2D
from ..network import Network
from ..optimizers import SGD, Adam
from ..trace import stages

ROOT = Path(__file__).resolve().parents[2]     # the folder that holds nncore/


@dataclass(frozen=True)
class Source:
    """Lines ``first`` … of ``file`` (relative to the project), in function ``function``."""

    file: str
    function: str
    first: int
    lines: tuple[str, ...]
    exact: bool                 # False: no statement matched, this is the whole function

    @property
    def last(self) -> int:
        return self.first + len(self.lines) - 1

    def where(self) -> str:
        span = f"line {self.first}" if self.first == self.last else f"lines {self.first}–{self.last}"
        return f"{self.file}, {span} ({self.function})"

    def numbered(self) -> str:
        """The lines with their numbers in front, as an editor shows them (the indentation
        they share taken off)."""
        width = len(str(self.last))
        body = textwrap.dedent("\n".join(self.lines)).split("\n")
        return "\n".join(f"{self.first + k:>{width}}  {line}" for k, line in enumerate(body))


@functools.lru_cache(maxsize=256)
def _statements(code) -> tuple:
    """(first line, last line, normalised text) of every simple statement of a function,
    and the function's own span, from its code object (cached per code object)."""
    func_lines, start = inspect.getsourcelines(code)
    source = textwrap.dedent("".join(func_lines))
    tree = ast.parse(source)
    func = tree.body[0]
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                              ast.Constant):
        body = body[1:] or body          # skip the docstring
    found = []
    for node in body:
        for stmt in ast.walk(node):
            if isinstance(stmt, ast.stmt) and not isinstance(
                    stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.FunctionDef)):
                text = " ".join(ast.get_source_segment(source, stmt).split())
                found.append((stmt.lineno + start - 1, stmt.end_lineno + start - 1, text))
    body_span = (body[0].lineno + start - 1, body[-1].end_lineno + start - 1)
    return tuple(sorted(found)), body_span, tuple(func_lines), start


def _file_of(func) -> str:
    path = Path(inspect.getsourcefile(func)).resolve()
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def lines_of(func, *needles: str) -> list[Source]:
    """The statements of ``func`` that contain one of ``needles`` (whitespace ignored), as
    runs of consecutive lines; with no needles, or when none matches, the whole body."""
    func = inspect.unwrap(func)
    code = func.__code__
    statements, (body_first, body_last), func_lines, start = _statements(code)
    wanted = [" ".join(n.split()) for n in needles]
    spans = sorted({(a, b) for a, b, text in statements if any(w in text for w in wanted)})
    exact = bool(spans)
    if not spans:
        spans = [(body_first, body_last)]
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    file, name = _file_of(func), func.__qualname__
    exact = exact or not needles
    return [Source(file, name, a, tuple(l.rstrip("\n") for l in func_lines[a - start:b - start + 1]),
                   exact) for a, b in merged]


# ---------------------------------------------------------------------- what computes what
def _weighted(layer, activation) -> dict:
    cls, act = type(layer), type(activation)
    if isinstance(layer, Dense):
        eq = {"z": lines_of(cls.forward, "a_prev @ self.W", "z += self.b"),
              "dW": lines_of(cls.backward, "np.matmul(self.a_prev.T, delta", "self.dW /= m"),
              "db": lines_of(cls.backward, "np.sum(delta, axis=0", "self.db /= m"),
              "dA_prev": lines_of(cls.backward, "delta @ self.W.T")}
    elif layer.fast_path:        # Conv2D's fast path: its own lines where it differs
        eq = {"z": lines_of(cls.forward, "W_col = self.W", "self.shifted.im2col(x)",
                            "self.shifted.to_images(", "z += self.b"),
              "dW": lines_of(cls.backward, "self.shifted.from_images(delta)", "out=self.dW",
                             "self.dW /= m"),
              "db": lines_of(cls.backward, "out=self.db", "self.db /= m"),
              "dA_prev": lines_of(cls.backward, "out=self.shifted.empty_cols(",
                                  "self.shifted.col2im(")}
    else:
        eq = {"z": lines_of(cls.forward, "W_col = self.W", "cols = im2col(x",
                            "np.matmul(W_col, cols).reshape(", "z += self.b"),
              "dW": lines_of(cls.backward, "d = delta.reshape(", "out=self.dW", "self.dW /= m"),
              "db": lines_of(cls.backward, "out=self.db", "self.db /= m"),
              "dA_prev": lines_of(cls.backward, "dcols = np.matmul(W_col.T, d)", "return col2im(")}
    eq["a"] = lines_of(cls.forward, "self.activation.forward(z)") + lines_of(act.forward)
    eq["delta"] = (lines_of(cls.backward, "self.activation.backward(dA")
                   + lines_of(act.backward))
    return eq


def _activation_of(network, stage):
    layer = network.layers[stage.layer_index]
    if stage.output_index != stage.layer_index:       # seed 001: σ is a layer of its own
        return network.layers[stage.output_index].activation
    return layer.activation


def sources(network: Network) -> dict:
    """{stage number: {equation: [Source]}, "loss": {...}, "update": {...}} for
    ``network`` (see the module docstring). Equations: z, a, delta, dW, db, dA_prev
    (Dense, Conv2D); pool and pool_back (MaxPool2D); dropout (a Dropout after the stage);
    loss, dA (the loss); l2; step (the optimizer)."""
    out: dict = {}
    layers = network.layers
    for number, stage in enumerate(stages(network), start=1):
        layer = layers[stage.layer_index]
        if isinstance(layer, MaxPool2D):
            pool = type(layer)
            if layer.fast_path:     # forward hands 2×2 windows two apart to the fast path
                eq = {"pool": lines_of(pool.forward, "self._forward_2x2(")
                      + lines_of(pool._forward_2x2, "np.maximum(left, right)",
                                 "np.maximum(top, bottom)"),
                      "pool_back": lines_of(pool.backward, "self._backward_2x2(")
                      + lines_of(pool._backward_2x2)}
            else:
                eq = {"pool": lines_of(pool.forward, "np.maximum(best, candidate",
                                       "won = candidate"),
                      "pool_back": lines_of(pool.backward)}
        else:
            eq = _weighted(layer, _activation_of(network, stage))
        following = stage.output_index + 1
        if following < len(layers) and isinstance(layers[following], Dropout):
            eq["dropout"] = lines_of(Dropout.forward, "self.scaled_mask = (", "x * self.scaled_mask")
        out[number] = eq
    loss = type(network.loss)
    out["loss"] = {"loss": lines_of(loss.forward), "dA": lines_of(loss.backward)}
    if network.loss.returns_delta:
        out["loss"]["delta"] = lines_of(Network.backward, "dA_is_delta=True")
    out["l2"] = {"l2": lines_of(Network.add_l2_gradients, "self.l2 * layer.W")}
    out["update"] = _update_sources(network.optimizer)
    return out


def _update_sources(opt) -> dict:
    cls = type(opt)
    if isinstance(opt, Adam) and opt.fused:
        return {"m": lines_of(cls._step_fused, "m *= b1", "m += g"),
                "v": lines_of(cls._step_fused, "np.multiply(g, g", "v *= b2", "v += tmp"),
                "bias": lines_of(cls.step_constants, "v_scale =", "lr_t =", "return lr_t"),
                "step": lines_of(cls._step_fused, "np.sqrt(v, out=tmp)", "tmp += eps_t",
                                 "np.divide(m, tmp", "tmp *= lr_t", "p -= tmp")}
    if isinstance(opt, Adam):
        return {"m": lines_of(cls._step_literal, "m[...] = b1 * m"),
                "v": lines_of(cls._step_literal, "v[...] = b2 * v"),
                "bias": lines_of(cls._step_literal, "m_hat = m /", "v_hat = v /"),
                "step": lines_of(cls._step_literal, "p -= lr * m_hat")}
    if isinstance(opt, SGD) and opt.momentum:
        return {"velocity": lines_of(cls.step, "v *= mu", "v -= lr * g"),
                "step": lines_of(cls.step, "p += mu * v - lr * g" if opt.nesterov else "p += v")}
    return {"step": lines_of(cls.step, "p -= self.lr * g")}


__all__ = ["Source", "lines_of", "sources"]
