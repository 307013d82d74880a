"""The network's sections of an exported script: its weights, its forward and backward passes.

The code is written out stage by stage, with each stage's sizes filled in, rather than as
a loop over layer objects: the script reads like the seeds' equations, one line per
equation, and holds only what this network uses. Every line computes exactly what the
matching line of ``nncore.layers`` computes, in the same order and in float32, so the
script's numbers are the lab's to the last rounding.
"""

from __future__ import annotations

import re

from .document import Section, code
from .plan import Plan, Stage

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
COMMENT_COLUMN = 50


def sub(k) -> str:
    return str(k).translate(_SUB)


def line(statement: str, comment: str = "", indent: int = 4) -> str:
    """One statement with its equation in a comment, the comments lined up when they fit."""
    text = " " * indent + statement
    return f"{text.ljust(COMMENT_COLUMN)}  # {comment}" if comment else text


def shape(dims) -> str:
    return "(m, " + ", ".join(str(d) for d in dims) + ")"


# ---------------------------------------------------------------------- the initial weights
_INITS = {
    "he": ("He et al. (2015), for ReLU layers: W ~ N(0, 2/fan_in), b = 0.",
           "rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in), np.zeros(fan_out)"),
    "glorot": ("Glorot & Bengio (2010): W ~ U(±√(6/(fan_in + fan_out))), b = 0.",
               "rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)"),
    "lecun": ("LeCun: W ~ N(0, 1/fan_in), b = 0.",
              "rng.standard_normal((fan_in, fan_out)) * np.sqrt(1.0 / fan_in), np.zeros(fan_out)"),
    "normal-0.1": ("Seeds 000 and 003: W, b ~ N(0, 1)·0.1 (np.random.randn(...) * 0.1).",
                   "rng.standard_normal((fan_in, fan_out)) * 0.1, rng.standard_normal(fan_out) * 0.1"),
    "uniform-0.5": ("Seed 001: W, b ~ U(−0.5, 0.5) (np.random.rand(...) - 0.5).",
                    "rng.random((fan_in, fan_out)) - 0.5, rng.random(fan_out) - 0.5"),
    "normal-1": ("Seed 002: W ~ N(0, 1), b = 0.",
                 "rng.standard_normal((fan_in, fan_out)), np.zeros(fan_out)"),
}


def _init_function(name: str) -> str:
    doc, draws = _INITS[name]
    body = "    limit = np.sqrt(6.0 / (fan_in + fan_out))\n" if name == "glorot" else ""
    return (f"def {name.replace('-', '_').replace('.', '')}(rng, fan_in, fan_out):\n"
            f'    """{doc}"""\n{body}    return {draws}\n')


def weights_section(plan: Plan) -> Section:
    if plan.model_file is not None:
        return _trained_weights(plan)
    inits = sorted({s.init for s in plan.weighted}, key=list(_INITS).index)
    lines = ["\n\n".join(_init_function(name) for name in inits), "",
             "init_rng = np.random.default_rng(SEED)"]
    for s in plan.weighted:
        k, fn = s.k, s.init.replace("-", "_").replace(".", "")
        if s.kind == "dense":
            fan_in, fan_out = s.in_shape[0], s.out_shape[0]
            lines.append(line(f"W{k}, b{k} = [p.astype(np.float32) for p in {fn}(init_rng, "
                              f"{fan_in}, {fan_out})]", f"({fan_in}, {fan_out}), ({fan_out},)", 0))
        else:
            C, F, K = s.in_shape[0], s.out_shape[0], s.size
            lines.append(line(f"W{k}, b{k} = [p.astype(np.float32) for p in {fn}(init_rng, "
                              f"{C} * {K} * {K}, {F})]", "a filter on one patch: a dense layer", 0))
            lines.append(line(f"W{k} = np.ascontiguousarray(W{k}.T).reshape({F}, {C}, {K}, {K})",
                              "(F, C, k, k): each column laid out as a filter", 0))
    lines.append(_params(plan))
    words = "Drawn as the lab draws them: from a generator seeded with SEED, W then b, in order."
    return Section("The initial weights", words, "\n".join(lines), ("import numpy as np",))


def _trained_weights(plan: Plan) -> Section:
    lines = ["weights = np.load(MODEL_FILE)   # plain arrays: np.load needs no pickle"]
    for s in plan.weighted:
        lines.append(f"W{s.k}, b{s.k} = weights[{s.keys[0]!r}], weights[{s.keys[1]!r}]")
    lines.append(_params(plan))
    words = ("The trained model's weights, read from its .npz file: training starts from "
             "them, as the lab's \"Continue training the current model\" does.")
    return Section("The trained weights", words, "\n".join(lines), ("import numpy as np",))


def _params(plan: Plan) -> str:
    names = ", ".join(f'"{p}{s.k}": {p}{s.k}' for s in plan.weighted for p in "Wb")
    return (f"params = {{{names}}}   # the optimizer updates these arrays in place")


# ---------------------------------------------------------------------- helpers for images
_IM2COL = code('''
    def im2col(x, k, s, p):
        """Every k×k patch of x (m, C, H, W), stride s, zero-padding p, as a column."""
        m, C, H, W = x.shape
        OH, OW = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        cols = np.empty((m, C, k, k, OH, OW), dtype=x.dtype)
        for i in range(k):
            for j in range(k):
                cols[:, :, i, j] = xp[:, :, i:i + s * OH:s, j:j + s * OW:s]
        return cols.reshape(m, C * k * k, OH * OW)
    ''')

_COL2IM = code('''
    def col2im(dcols, x_shape, k, s, p):
        """The way back: a pixel's gradient is the sum over its copies in the columns."""
        m, C, H, W = x_shape
        OH, OW = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        dcols = dcols.reshape(m, C, k, k, OH, OW)
        dxp = np.zeros((m, C, H + 2 * p, W + 2 * p), dtype=dcols.dtype)
        for i in range(k):
            for j in range(k):
                dxp[:, :, i:i + s * OH:s, j:j + s * OW:s] += dcols[:, :, i, j]
        return dxp[:, :, p:p + H, p:p + W]
    ''')

_MAXPOOL = code('''
    def maxpool(x, p, s):
        """Each p×p window's largest value (windows s apart) and which position won it."""
        OH, OW = (x.shape[2] - p) // s + 1, (x.shape[3] - p) // s + 1
        windows = [x[:, :, i:i + s * OH:s, j:j + s * OW:s] for i in range(p) for j in range(p)]
        best, winner = windows[0].copy(), np.zeros(windows[0].shape, dtype=np.int64)
        for position, candidate in enumerate(windows[1:], 1):
            won = candidate > best   # on a tie the first position, row by row, stays
            best[won], winner[won] = candidate[won], position
        return best, winner
    ''')

_MAXPOOL_BACK = code('''
    def maxpool_backward(dY, winner, x_shape, p, s):
        """Each window's gradient goes to the position that won it; the others get 0."""
        OH, OW = dY.shape[2:]
        dx = np.zeros(x_shape, dtype=dY.dtype)
        for position in range(p * p):
            i, j = divmod(position, p)
            dx[:, :, i:i + s * OH:s, j:j + s * OW:s] += dY * (winner == position)
        return dx
    ''')

_DROPOUT = code('''
    def dropout_mask(shape, keep):
        """Inverted dropout, from the loop's rng: 1/keep where a unit is kept, else 0."""
        return (rng.random(shape, dtype=np.float32) < keep).astype(np.float32) / keep
    ''')


def helpers_section(plan: Plan) -> Section | None:
    """The functions the forward and backward passes call, only those this network needs."""
    first = plan.weighted[0].k
    kinds = {s.kind for s in plan.stages}
    parts = []
    if "conv" in kinds:
        parts.append(_IM2COL)
        if any(s.kind == "conv" and s.k > first for s in plan.stages):
            parts.append(_COL2IM)
    if "pool" in kinds:
        parts.append(_MAXPOOL)
        if any(s.kind == "pool" and s.k > first for s in plan.stages):
            parts.append(_MAXPOOL_BACK)
    if any(s.dropout for s in plan.stages):
        parts.append(_DROPOUT)
    if not parts:
        return None
    words = [w for kind, w in (("conv", "im2col (a convolution as one matrix product)"),
                               ("pool", "max pooling"), ("dropout", "dropout masks"))
             if kind in kinds or (kind == "dropout" and any(s.dropout for s in plan.stages))]
    words = ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]
    words = words if words.startswith("im2col") else words[0].upper() + words[1:]
    return Section("Helpers", words + ".", "\n\n\n".join(parts), ("import numpy as np",))


# ---------------------------------------------------------------------- forward and backward
# σ and how δ comes back through it; in the comments {k} is the stage's subscript.
_FORWARD = {
    "relu": ("np.maximum({z}, 0)", "a{k} = ReLU(z{k}) = max(0, z{k})"),
    "leaky_relu": ("np.where({z} > 0, {z}, 0.01 * {z})", "a{k} = z{k} above 0, else 0.01·z{k}"),
    "sigmoid": ("0.5 * (1.0 + np.tanh(0.5 * {z}))",
                "a{k} = σ(z{k}) = 1/(1 + e^−z{k}) = ½(1 + tanh(z{k}/2)): no overflow"),
    "tanh": ("np.tanh({z})", "a{k} = tanh(z{k})"),
    "linear": ("{z}", "linear: a{k} = z{k}"),
}
_BACKWARD = {
    "relu": ("{g} * ({a} > 0)", "δ{k} = dA{k} ∘ ReLU'(z{k}): 1 where z{k} > 0, else 0"),
    "leaky_relu": ("{g} * np.where({z} > 0, 1.0, 0.01).astype(np.float32)",
                   "δ{k} = dA{k} ∘ (1 where z{k} > 0, else 0.01)"),
    "sigmoid": ("{g} * {a} * (1.0 - {a})", "δ{k} = dA{k} ∘ σ'(z{k}),  σ' = a{k}(1 − a{k})"),
    "tanh": ("{g} * (1.0 - {a} * {a})", "δ{k} = dA{k} ∘ (1 − tanh²(z{k}))"),
    "softmax": ("{a} * ({g} - np.sum({g} * {a}, axis=1, keepdims=True))",
                "softmax's Jacobian: δᵢ = pᵢ(dAᵢ − Σⱼ dAⱼ·pⱼ)"),
    "linear": ("{g}", "linear: δ{k} = dA{k}"),
}


def _equation(template: str, k: int) -> str:
    return template.format(k=sub(k))


def grad(name: str) -> str:
    """The gradient's name: dA1 for a1, dh1 for h1, dflat for flat (and dA₁ for a₁)."""
    return "dA" + name[1:] if name.startswith("a") else "d" + name


def returns_delta(plan: Plan) -> bool:
    """Softmax cross-entropy hands the output layer δ = p − y directly."""
    return plan.loss == "softmax_cross_entropy"


class _Names:
    """What the script calls each stage's arrays."""

    def __init__(self, plan: Plan):
        self.plan = plan

    def out(self, k: int) -> str:
        """What stage k hands on: a_k, or h_k after dropout (a0: the input)."""
        return f"h{k}" if k > 0 and self.plan.stages[k - 1].dropout else f"a{k}"

    def inp(self, s: Stage) -> str:
        return "flat" if s.flatten else self.out(s.k - 1)

    def symbol(self, s: Stage) -> str:
        """How the equations write the stage's input: a₁, h₁ (after dropout), flat."""
        name = self.inp(s)
        return name if name == "flat" else name[0] + sub(name[1:])

    def grad_symbol(self, s: Stage) -> str:
        """… and the gradient at it: dA₁, dh₁, dflat."""
        return grad(self.symbol(s))


def _activation(s: Stage, z: str, a: str) -> list[str]:
    if s.activation == "softmax":
        return [line(f"e{s.k} = np.exp({z} - {z}.max(axis=1, keepdims=True))",
                     "the row's largest z taken off: e^z cannot overflow"),
                line(f"{a} = e{s.k} / e{s.k}.sum(axis=1, keepdims=True)",
                     "softmax: pᵢ = e^zᵢ / Σⱼ e^zⱼ")]
    expr, comment = _FORWARD[s.activation]
    return [line(f"{a} = {expr.format(z=z)}", _equation(comment, s.k))]


def _forward_stage(s: Stage, names: _Names, defined: list) -> list[str]:
    """The lines computing stage k; the arrays they make are added to ``defined``."""
    k, x, lines = s.k, names.inp(s), []
    if s.flatten:
        lines.append(line(f"flat = {names.out(k - 1)}.reshape(len({names.out(k - 1)}), -1)",
                          f"{shape(s.in_shape)}: the feature maps as one row per image"))
        defined.append("flat")
    if s.kind == "dense":
        lines.append(line(f"z{k} = {x} @ W{k} + b{k}",
                          f"z{sub(k)} = {names.symbol(s)}·W{sub(k)} + b{sub(k)}   {shape(s.out_shape)}"))
        lines += _activation(s, f"z{k}", f"a{k}")
        defined += [f"z{k}", f"a{k}"]
    elif s.kind == "conv":
        C, H, W = s.in_shape
        F, OH, OW = s.out_shape
        lines.append(line(f"cols{k} = im2col({x}, {s.size}, {s.stride}, {s.padding})",
                          f"(m, {C}·{s.size}·{s.size}, {OH}·{OW}): every patch a column"))
        lines.append(line(f"z{k} = (np.matmul(W{k}.reshape({F}, -1), cols{k}) + b{k}[:, None])"
                          f".reshape(-1, {F}, {OH}, {OW})",
                          f"z{sub(k)} = W{sub(k)} ⋆ {names.symbol(s)} + b{sub(k)}   {shape(s.out_shape)}"))
        lines += _activation(s, f"z{k}", f"a{k}")
        defined += [f"cols{k}", f"z{k}", f"a{k}"]
    else:
        lines.append(line(f"a{k}, win{k} = maxpool({x}, {s.size}, {s.stride})",
                          f"{shape(s.out_shape)}: the largest of each {s.size}×{s.size} window"))
        defined += [f"a{k}", f"win{k}"]
    if s.dropout:
        keep = 1.0 - s.dropout
        lines.append(line(f"mask{k} = dropout_mask(a{k}.shape, {keep!r}) if training else 1.0",
                          f"dropout {s.dropout:g}: a unit is kept with p = {keep:g}"))
        lines.append(line(f"h{k} = a{k} * mask{k}", f"h{sub(k)} = a{sub(k)} ∘ mask{sub(k)}"))
        defined += [f"mask{k}", f"h{k}"]
    return lines


def _backward_stage(s: Stage, names: _Names, first: int, l2: bool, delta_given: bool,
                    needs: set) -> list[str]:
    """The lines that take dA_k (or δ_k) to the gradients of W_k, b_k and of the stage's input."""
    k, x, lines = s.k, names.inp(s), []
    dx = grad(x) if s.k > first else None      # the first weighted stage: nothing below needs it
    if s.kind == "pool":
        C, H, W = s.in_shape
        lines.append(line(f"{dx} = maxpool_backward(dA{k}, win{k}, (m, {C}, {H}, {W}), "
                          f"{s.size}, {s.stride})", "each window's gradient to its largest input"))
        needs.add(f"win{k}")
    else:
        if not delta_given:      # (softmax cross-entropy gives δ = p − y itself)
            expr, comment = _BACKWARD[s.activation]
            expr, comment = expr.format(g=f"dA{k}", a=f"a{k}", z=f"z{k}"), _equation(comment, k)
            needs.update(n for n in (f"a{k}", f"z{k}") if re.search(rf"\b{n}\b", expr))
            if s.kind == "conv":
                expr = f"({expr}).reshape(m, {s.out_shape[0]}, -1)"
                comment += f"   (m, {s.out_shape[0]}, {s.out_shape[1]}·{s.out_shape[2]})"
            lines.append(line(f"delta{k} = {expr}", comment))
        decay, decay_eq = (f" + L2 * W{k}", f" + λ·W{sub(k)}") if l2 else ("", "")
        if s.kind == "dense":
            needs.add(x)
            lines.append(line(f"dW{k} = {x}.T @ delta{k} / m{decay}",
                              f"dW{sub(k)} = {names.symbol(s)}ᵀ·δ{sub(k)} / m{decay_eq}"))
            lines.append(line(f"db{k} = delta{k}.sum(axis=0) / m", f"db{sub(k)} = Σ δ{sub(k)} / m"))
            if dx:
                lines.append(line(f"{dx} = delta{k} @ W{k}.T",
                                  f"{names.grad_symbol(s)} = δ{sub(k)}·W{sub(k)}ᵀ"))
        else:
            F, C, K = s.out_shape[0], s.in_shape[0], s.size
            needs.add(f"cols{k}")
            lines.append(line(f"dW{k} = np.matmul(delta{k}, cols{k}.transpose(0, 2, 1)).sum("
                              f"axis=0).reshape({F}, {C}, {K}, {K}) / m{decay}",
                              f"dW{sub(k)} = Σₙ δ{sub(k)}ₙ·colsₙᵀ / m{decay_eq}"))
            lines.append(line(f"db{k} = delta{k}.sum(axis=(0, 2)) / m",
                              f"db{sub(k)} = Σ δ{sub(k)} / m over images and pixels"))
            if dx:
                _, H, W = s.in_shape
                lines.append(line(f"{dx} = col2im(np.matmul(W{k}.reshape({F}, -1).T, delta{k}), "
                                  f"(m, {C}, {H}, {W}), {K}, {s.stride}, {s.padding})",
                                  f"{names.grad_symbol(s)} = col2im(W{sub(k)}ᵀ·δ{sub(k)})"))
    if dx and s.flatten:
        prev = names.out(k - 1)
        prev_shape = ", ".join(map(str, names.plan.stages[k - 2].out_shape))
        lines.append(line(f"{grad(prev)} = dflat.reshape(m, {prev_shape})",
                          "back to feature maps"))
    if dx and k > 1 and names.plan.stages[k - 2].dropout:
        lines.append(line(f"dA{k - 1} = dh{k - 1} * mask{k - 1}",
                          "back through dropout: the kept units only"))
        needs.add(f"mask{k - 1}")
    return lines


def network_section(plan: Plan) -> Section:
    """The forward pass and the backward pass."""
    names = _Names(plan)
    first = plan.weighted[0].k
    image = plan.image
    forward = [line(f"a0 = X.reshape(-1, {', '.join(map(str, image))})",
                    f"each row of pixels as a {image[0]}×{image[1]}×{image[2]} image")
               if image else line("a0 = X", f"(m, {plan.stages[0].in_shape[0]})")]
    defined = ["a0"]
    for s in plan.stages:
        forward += _forward_stage(s, names, defined)
    needs: set = set()
    backward = []
    delta_given = returns_delta(plan)
    for s in reversed(plan.stages):
        if s.k < first:
            break
        backward += _backward_stage(s, names, first, bool(plan.l2), delta_given and
                                    s is plan.output, needs)
    cache = ", ".join(n for n in defined if n in needs) + ("," if len(needs) == 1 else "")
    L = plan.output.k
    given = f"delta{L}" if delta_given else f"dA{L}"
    grads = ", ".join(f'"{p}{s.k}": d{p}{s.k}' for s in plan.weighted for p in "Wb")
    fwd = "\n".join(['def forward(X, training=False):',
                     '    """The network\'s output for a batch X, and what backward needs."""',
                     *forward, f"    return a{L}, ({cache})"])
    bwd = "\n".join([f"def backward({given}, cache):",
                     '    """∂L/∂(every parameter), from the gradient at the output, last '
                     'layer first."""', f"    {cache} = cache", f"    m = len({given})",
                     *backward, f"    return {{{grads}}}"])
    words = ("Forward: z = a·W + b, a = σ(z), layer by layer. Backward, last layer first: "
             "δ = dA ∘ σ'(z), dW = aᵀ·δ / m, db = Σ δ / m, and δ·Wᵀ is the dA below.")
    return Section("The network", words, fwd + "\n\n\n" + bwd, ("import numpy as np",))


__all__ = ["weights_section", "helpers_section", "network_section", "returns_delta", "line", "sub"]
