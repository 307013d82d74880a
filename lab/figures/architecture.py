"""What the Architecture page draws, without Streamlit: the network's columns of nodes, the
diagram, and the equations of its forward and backward pass in the seeds' notation
(z = a·W + b, a = σ(z), δ = dA ∘ σ'(z), dW = aᵀ·δ/m).

Everything is read off a built ``Network`` (``nncore.runs.spec.build_network``), so what is shown
is exactly what trains: dense layers, and the conv / max-pool layers a spec may start with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from nncore.layers import Conv2D, Dense, Flatten, MaxPool2D, Reshape
from nncore.runs.schema import OPTIMIZER, default_lr
from nncore.runs.spec import RunSpec
from nncore.trace import stages

MAX_NODES = 8
ACT_LABELS = {"relu": "ReLU", "leaky_relu": "Leaky ReLU", "tanh": "tanh", "sigmoid": "sigmoid",
              "linear": "linear", "softmax": "softmax"}


# ------------------------------------------------------------------ columns of the diagram
@dataclass
class Column:
    """One column of nodes: a layer's units (dense) or channels (conv, pooling, input image)."""
    nodes: int
    title: str
    detail: str
    link: str = "full"            # how it connects to the column before: "full" or "one-to-one"
    weights: object = None        # (nodes before, nodes) array when a trained model is given
    layers: list = field(default_factory=list)


def columns(network, n_features: int, trained=None) -> list[Column]:
    """The diagram's columns for ``network``, one per stage (``nncore.trace.stages``: a layer
    and the activation after it); edge weights from ``trained`` when it has the very same
    layers and parameter shapes (a model trained with this setup)."""
    if trained is not None and not same_structure(network, trained):
        trained = None
    source = trained if trained is not None else network
    layers = list(source.layers)
    if layers and isinstance(layers[0], Reshape):
        c, h, w = layers[0].target_shape
        cols = [Column(c, "input", f"{h}×{w} image")]
    else:
        cols = [Column(n_features, "input", f"{n_features:,} features")]
    shapes, shape = [], tuple(network.input_shape)
    for layer in layers:
        shape = layer.output_shape(shape)
        shapes.append(shape)
    previous = -1                 # the index of the last layer drawn so far
    for stage in stages(source):
        layer, shape = layers[stage.layer_index], shapes[stage.layer_index]
        act = ACT_LABELS.get(stage.activation, stage.activation)
        if stage.kind == "conv":
            W = np.asarray(layer.W)
            cols.append(Column(W.shape[0], f"conv {W.shape[2]}×{W.shape[3]} ({act})",
                               f"{W.shape[0]} maps {shape[1]}×{shape[2]}",
                               weights=W.sum(axis=(2, 3)).T if trained is not None else None))
        elif stage.kind == "pool":
            cols.append(Column(shape[0], f"max-pool {layer.pool_size}×{layer.pool_size}",
                               f"{shape[0]} maps {shape[1]}×{shape[2]}", link="one-to-one"))
        else:
            W = np.asarray(layer.W)
            weights = None
            if trained is not None:
                flattened = any(isinstance(l, Flatten)
                                for l in layers[previous + 1:stage.layer_index])
                # After a Flatten, the inputs are the pixels of the maps before: sum them
                # per map, so that an edge joins a map to a unit.
                weights = (W.reshape(cols[-1].nodes, -1, W.shape[1]).sum(axis=1)
                           if flattened else W)
            cols.append(Column(W.shape[1], act, f"{W.shape[1]:,} units", weights=weights))
        previous = stage.output_index
    dense_cols = [c for c in cols[1:] if c.detail.endswith("units")]
    for c in dense_cols:
        c.title = f"{'output' if c is cols[-1] else 'hidden'} ({c.title})"
    return cols


def same_structure(a, b) -> bool:
    try:
        def signature(net):
            return [(type(l).__name__, tuple(tuple(p.shape) for _, p, _ in l.parameters()))
                    for l in net.layers]
        return signature(a) == signature(b)
    except AttributeError:
        return False


def _shown_nodes(n):
    """Which node indices of a column of n to draw (None marks the '⋮')."""
    if n <= MAX_NODES:
        return list(range(n))
    half = MAX_NODES // 2
    return list(range(half)) + [None] + list(range(n - half + 1, n))


def network_figure(cols: list[Column]) -> go.Figure:
    """Layers as columns of nodes (large layers summarised with '⋮'); edges coloured by the
    trained weights (red positive, blue negative, thicker = larger) when there are some."""
    fig = go.Figure()
    shown = [_shown_nodes(c.nodes) for c in cols]
    ys = [np.linspace(1, -1, len(s)) if len(s) > 1 else np.zeros(1) for s in shown]
    trained = [c.weights for c in cols[1:] if c.weights is not None]
    scales = {id(c): float(np.abs(c.weights).max()) or 1.0 for c in cols if c.weights is not None}
    edges: dict = {}
    for l in range(1, len(cols)):
        col = cols[l]
        for a, ya in zip(shown[l - 1], ys[l - 1]):
            for b, yb in zip(shown[l], ys[l]):
                if a is None or b is None or (col.link == "one-to-one" and a != b):
                    continue
                if col.weights is None:
                    bucket = ("#c7c9d1", 1.0)
                else:
                    w = float(col.weights[a, b]) / scales[id(col)]
                    bucket = ("#d62728" if w >= 0 else "#1f77b4", 0.6 + 1.2 * min(3, int(abs(w) * 3)))
                xs, yz = edges.setdefault(bucket, ([], []))
                xs += [l - 1, l, None]
                yz += [ya, yb, None]
    for (color, width), (xs, yz) in edges.items():
        fig.add_trace(go.Scatter(x=xs, y=yz, mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color=color, width=width),
                                 opacity=0.6 if trained else 0.35))
    for l, (col, nodes, y) in enumerate(zip(cols, shown, ys)):
        real = [(yy, i) for yy, i in zip(y, nodes) if i is not None]
        gap = [yy for yy, i in zip(y, nodes) if i is None]
        fig.add_trace(go.Scatter(
            x=[l] * len(real), y=[yy for yy, _ in real], mode="markers", showlegend=False,
            marker=dict(size=16, symbol="square" if "map" in col.detail or "image" in col.detail
                        else "circle",
                        color="#111827" if l in (0, len(cols) - 1) else "#4f46e5",
                        line=dict(color="white", width=1)),
            hovertext=[f"{col.title}: {'map' if 'map' in col.detail else 'unit'} {i + 1} of {col.nodes}"
                       for _, i in real], hoverinfo="text"))
        if gap:
            fig.add_annotation(x=l, y=gap[0], text="⋮", showarrow=False, font=dict(size=22))
        fig.add_annotation(x=l, y=-1.3, text=f"<b>{col.title}</b><br>{col.detail}",
                           showarrow=False, font=dict(size=12))
    fig.update_xaxes(visible=False, range=[-0.6, len(cols) - 0.4])
    fig.update_yaxes(visible=False, range=[-1.55, 1.15])
    fig.update_layout(height=430, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white")
    return fig


# ------------------------------------------------------------------ equations
ACT_TEX = {  # σ(z) and σ'(z) of layer l in the seeds' notation ("(l)" is replaced)
    "relu": (r"\operatorname{ReLU}(z) = \max(0, z)", r"\mathbf{1}\big[z^{(l)} > 0\big]"),
    "leaky_relu": (r"\operatorname{LeakyReLU}(z) = \max(0.01\,z,\; z)",
                   r"\big(1 \text{ where } z^{(l)} > 0 \text{, else } 0.01\big)"),
    "tanh": (r"\tanh(z)", r"\big(1 - (a^{(l)})^2\big)"),
    "sigmoid": (r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"a^{(l)} \circ \big(1 - a^{(l)}\big)"),
    "linear": (r"z", r"1"),
    "softmax": (r"\operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}",
                r"\big(\text{the softmax Jacobian } \operatorname{diag}(a^{(l)}) - a^{(l)} a^{(l)\top}\big)"),
}
ACT_NAME_TEX = {"relu": r"\operatorname{ReLU}", "leaky_relu": r"\operatorname{LeakyReLU}",
                "tanh": r"\tanh", "sigmoid": r"\sigma", "linear": r"\operatorname{id}",
                "softmax": r"\operatorname{softmax}"}


def _derivative(act: str, l: int) -> str:
    return ACT_TEX[act][1].replace("(l)", f"({l})")


def _dims(shape) -> str:
    return r" \times ".join(str(int(s)) for s in shape)


def layer_shapes(network) -> list[tuple]:
    """Per-sample output shape of every Conv2D / MaxPool2D / Dense layer, in order: one per
    hidden layer of the spec, then the output layer."""
    shapes, shape = [], tuple(network.input_shape)
    kinds = (Conv2D, MaxPool2D, Dense)
    for layer in network.layers:
        shape = layer.output_shape(shape)
        if isinstance(layer, kinds):
            shapes.append(tuple(shape))
    return shapes


def equations(spec: RunSpec, n_features: int, n_classes: int, shapes: list[tuple] | None = None,
              image_shape: tuple | None = None) -> dict:
    """LaTeX lines for the forward pass, the loss and the backward pass of ``spec``.

    ``shapes`` (from ``layer_shapes``) gives each layer's output shape; without it the spec
    must be dense-only."""
    out_units, out_act = spec.output_layer(n_classes)
    hidden = list(spec.hidden)
    kinds = [getattr(h, "kind", "dense") for h in hidden] + ["dense"]
    if shapes is None:
        shapes = [(h.units,) for h in hidden] + [(out_units,)]
    acts = [h.activation if k != "maxpool" else None for h, k in zip(hidden, kinds)] + [out_act]
    drops = [getattr(h, "dropout", 0.0) if k != "maxpool" else 0.0 for h, k in zip(hidden, kinds)] + [0.0]
    L = len(kinds)
    images = any(k != "dense" for k in kinds)
    forward = [rf"a^{{(0)}} = X \in \mathbb{{R}}^{{m \times {n_features}}}"]
    if images:
        hw = image_shape or (int(round(n_features ** 0.5)),) * 2
        forward[0] += (rf", \text{{ each row read as a }} 1 \times {_dims(hw)} "
                       r"\text{ image}")
    prev = (1, *(image_shape or (int(round(n_features ** 0.5)),) * 2)) if images else (n_features,)
    for l in range(1, L + 1):
        kind, act, shape = kinds[l - 1], acts[l - 1], shapes[l - 1]
        if kind == "conv":
            h = hidden[l - 1]
            forward.append(
                rf"z^{{({l})}} = a^{{({l - 1})}} \star K^{{({l})}} + b^{{({l})}}, \qquad "
                rf"K^{{({l})}} \in \mathbb{{R}}^{{{shape[0]} \times {prev[0]} \times {h.kernel} \times {h.kernel}}},\; "
                rf"z^{{({l})}} \in \mathbb{{R}}^{{m \times {_dims(shape)}}}")
            forward.append(rf"a^{{({l})}} = {ACT_NAME_TEX[act]}\big(z^{{({l})}}\big), \qquad "
                           rf"(a \star K)_{{f,y,x}} = \textstyle\sum_{{c,i,j}} K_{{f,c,i,j}}\, a_{{c,\,sy+i,\,sx+j}}")
        elif kind == "maxpool":
            p = hidden[l - 1].pool
            forward.append(rf"a^{{({l})}}_{{c,y,x}} = \max_{{0 \le i, j < {p}}} a^{{({l - 1})}}_{{c,\,sy+i,\,sx+j}}, "
                           rf"\qquad a^{{({l})}} \in \mathbb{{R}}^{{m \times {_dims(shape)}}}")
        else:
            n_in = int(np.prod(prev))
            if len(prev) > 1:
                forward.append(rf"a^{{({l - 1})}} \leftarrow \operatorname{{flatten}}\big(a^{{({l - 1})}}\big)"
                               rf" \in \mathbb{{R}}^{{m \times {n_in}}}")
            forward.append(
                rf"z^{{({l})}} = a^{{({l - 1})}} W^{{({l})}} + b^{{({l})}}, \qquad "
                rf"W^{{({l})}} \in \mathbb{{R}}^{{{n_in} \times {shape[0]}}},\; "
                rf"b^{{({l})}} \in \mathbb{{R}}^{{{shape[0]}}}")
            forward.append(rf"a^{{({l})}} = {ACT_NAME_TEX[act]}\big(z^{{({l})}}\big), \qquad "
                           rf"{ACT_TEX[act][0]}")
        if drops[l - 1]:
            p = drops[l - 1]
            forward.append(rf"a^{{({l})}} \leftarrow a^{{({l})}} \circ \frac{{r^{{({l})}}}}{{1 - {p:g}}},"
                           rf"\quad r^{{({l})}} \sim \operatorname{{Bernoulli}}({1 - p:g}) "
                           r"\text{ (training only: dropout)}")
        prev = shape

    aL, k = rf"a^{{({L})}}", out_units
    deriv_out = rf"{ACT_NAME_TEX[out_act]}'\big(z^{{({L})}}\big) = dA^{{({L})}} \circ {_derivative(out_act, L)}"
    loss, grad = {
        "softmax_cross_entropy": (
            rf"\mathcal{{L}} = -\frac{{1}}{{m}} \sum_{{i=1}}^{{m}} \sum_{{c=1}}^{{{k}}} y_{{ic}} \ln a^{{({L})}}_{{ic}}",
            rf"\delta^{{({L})}} = {aL} - y \quad \text{{(softmax and cross-entropy together: }} p - y\text{{)}}"),
        "binary_cross_entropy": (
            rf"\mathcal{{L}} = -\frac{{1}}{{m}} \sum_{{i=1}}^{{m}} \big[ y_i \ln \hat y_i + (1 - y_i) \ln (1 - \hat y_i) \big], \quad \hat y = {aL}",
            rf"dA^{{({L})}} = -\Big(\frac{{y}}{{\hat y}} - \frac{{1 - y}}{{1 - \hat y}}\Big), \quad "
            rf"\delta^{{({L})}} = dA^{{({L})}} \circ \hat y (1 - \hat y) = \hat y - y"),
        "mse": (
            rf"\mathcal{{L}} = \frac{{1}}{{m}} \sum_{{i=1}}^{{m}} \frac{{1}}{{{k}}} \sum_{{j=1}}^{{{k}}} \big({aL}_{{ij}} - y_{{ij}}\big)^2",
            rf"dA^{{({L})}} = \frac{{2}}{{{k}}}\big({aL} - y\big), \quad \delta^{{({L})}} = dA^{{({L})}} \circ {deriv_out}"),
        "mse_sum": (
            rf"\mathcal{{L}} = \frac{{1}}{{m}} \sum_{{i=1}}^{{m}} \sum_{{j=1}}^{{{k}}} \big({aL}_{{ij}} - y_{{ij}}\big)^2",
            rf"dA^{{({L})}} = 2\big({aL} - y\big), \quad \delta^{{({L})}} = dA^{{({L})}} \circ {deriv_out}"),
    }[spec.loss]
    losses = [loss, grad]
    if spec.l2:
        losses.append(rf"\mathcal{{L}}_{{\text{{total}}}} = \mathcal{{L}} + \frac{{\lambda}}{{2}} "
                      rf"\sum_{{l}} \lVert W^{{(l)}} \rVert^2, \quad \lambda = {spec.l2:g}")

    l2 = r" + \lambda W^{(l)}" if spec.l2 else ""
    backward = [rf"dW^{{(l)}} = \frac{{1}}{{m}}\, a^{{(l-1)\top}} \delta^{{(l)}}{l2}, \qquad "
                r"db^{(l)} = \frac{1}{m} \sum_{i=1}^{m} \delta^{(l)}_i, \qquad "
                r"dA^{(l-1)} = \delta^{(l)} W^{(l)\top}" + (r" \qquad \text{(dense layers)}" if images else "")]
    if "conv" in kinds:
        backward.append(rf"dK^{{(l)}} = \frac{{1}}{{m}} \sum_{{n=1}}^{{m}} a^{{(l-1)}}_n \star \delta^{{(l)}}_n{l2.replace('W', 'K')}, \qquad "
                        r"db^{(l)}_f = \frac{1}{m} \sum_{n,y,x} \delta^{(l)}_{n,f,y,x}, \qquad "
                        r"dA^{(l-1)} = \delta^{(l)} \ast \operatorname{rot}_{180}\big(K^{(l)}\big)"
                        r" \qquad \text{(conv layers)}")
    if "maxpool" in kinds:
        backward.append(r"dA^{(l-1)}_{c,p,q} = dA^{(l)}_{c,y,x} \text{ where } (p, q) \text{ held the "
                        r"maximum of window } (y, x)\text{, else } 0 \qquad \text{(max-pool layers)}")
    for l in range(L - 1, 0, -1):
        act = acts[l - 1]
        if act is None:
            continue
        drop = (rf" \circ \frac{{r^{{({l})}}}}{{1 - {drops[l - 1]:g}}}" if drops[l - 1] else "")
        backward.append(rf"\delta^{{({l})}} = dA^{{({l})}}{drop} \circ {ACT_NAME_TEX[act]}'\big(z^{{({l})}}\big)"
                        rf" = dA^{{({l})}}{drop} \circ {_derivative(act, l)}")
    return {"forward": forward, "loss": losses, "backward": backward,
            "update": updates(spec, conv="conv" in kinds)}


def updates(spec: RunSpec, conv: bool = False) -> list[str]:
    opt = spec.optimizer
    name = opt.get("name")
    lr = opt.get("lr", default_lr(name))
    if name == "adam":
        b1 = opt.get("beta1", OPTIMIZER["beta1"].default)
        b2 = opt.get("beta2", OPTIMIZER["beta2"].default)
        lines = [rf"m \leftarrow {b1:g}\, m + {1 - b1:.4g}\, g, \qquad v \leftarrow {b2:g}\, v + {1 - b2:.4g}\, g^2",
                 rf"\hat m = \frac{{m}}{{1 - {b1:g}^{{\,t}}}}, \qquad \hat v = \frac{{v}}{{1 - {b2:g}^{{\,t}}}}, \qquad "
                 rf"\theta \leftarrow \theta - {lr:g}\, \frac{{\hat m}}{{\sqrt{{\hat v}} + \epsilon}}"]
    elif name in ("momentum", "nesterov") or opt.get("momentum"):
        mu = opt.get("momentum", OPTIMIZER["momentum"].default)
        nesterov = name == "nesterov" or opt.get("nesterov")
        lines = [rf"v \leftarrow {mu:g}\, v - {lr:g}\, g, \qquad \theta \leftarrow \theta + "
                 + (rf"{mu:g}\, v - {lr:g}\, g" if nesterov else "v")]
    else:
        lines = [rf"\theta \leftarrow \theta - {lr:g}\; g"]
    sched = spec.schedule or {}
    if sched.get("name") == "step":
        lines.append(rf"\eta_e = {lr:g} \cdot {sched.get('gamma', 0.5):g}^{{\lfloor e / {sched.get('step_size', 10)} \rfloor}}"
                     r" \quad \text{(step schedule, epoch } e\text{)}")
    elif sched.get("name") == "cosine":
        lines.append(rf"\eta_e = \eta_{{\min}} + \tfrac12 ({lr:g} - \eta_{{\min}})\big(1 + \cos(\pi e / {spec.epochs})\big),"
                     rf"\quad \eta_{{\min}} = {sched.get('min_lr_fraction', 0.0):g} \cdot {lr:g}")
    lines.append(r"\text{for every parameter } \theta \text{ (each } W, " + ("K, " if conv else "")
                 + r"b\text{) with its gradient } g \text{ (} dW, " + ("dK, " if conv else "")
                 + r"db\text{)}")
    return lines


__all__ = ["Column", "columns", "same_structure", "network_figure", "layer_shapes", "equations",
           "updates", "ACT_LABELS"]
