"""Every unit of a network on 2-D data, drawn as a map over the input plane.

TensorFlow Playground's picture of a network: the inputs x₁ and x₂ are two maps (x₁ grows
to the right, x₂ upwards), and every hidden unit is a small map of its output a at each
point (x₁, x₂) of the plane — what that unit has learned to respond to. The output unit's
map is the decision boundary. The weights between units are the edges.

``unit_maps(network, X)`` runs a grid over the plane that covers the points ``X`` through
the network once (``nncore.trace``) and cuts every layer's output into one map per unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..trace import stages, trace


@dataclass
class LayerMaps:
    layer: int                  # the seeds' layer number l (0: the inputs)
    activation: str
    maps: np.ndarray            # (units, r, r): the output of each unit over the grid
    weights: np.ndarray | None  # W^(l) (units before, units): the edges into this layer
    bias: np.ndarray | None


@dataclass
class UnitMaps:
    xs: np.ndarray              # (r,) the grid's x₁
    ys: np.ndarray              # (r,) the grid's x₂
    layers: list[LayerMaps]     # the inputs first, the output layer last


def unit_maps(network, X, resolution: int = 24, margin: float = 0.5) -> UnitMaps:
    """The maps of every unit of a dense network with 2 inputs, over a ``resolution`` ×
    ``resolution`` grid covering the points ``X`` with ``margin`` around them."""
    X = np.asarray(X)
    if network.n_inputs != 2 or X.ndim != 2 or X.shape[1] != 2:
        raise ValueError("Unit maps need a network with 2 inputs and 2-D points.")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xs = np.linspace(lo[0], hi[0], resolution, dtype=np.float32)
    ys = np.linspace(lo[1], hi[1], resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)                           # row = x₂, column = x₁
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)      # (r², 2)
    t = trace(network, grid)
    shape = (resolution, resolution)
    layers = [LayerMaps(0, "input", np.stack([gx, gy]), None, None)]
    for number, s in enumerate(stages(network), start=1):
        if s.kind != "dense":
            raise ValueError("Unit maps are drawn for dense networks only.")
        layer = network.layers[s.layer_index]
        out = t.records[s.output_index].output             # (r², units)
        layers.append(LayerMaps(number, s.activation, out.T.reshape((-1,) + shape),
                                layer.W.copy(), layer.b.copy()))
    return UnitMaps(xs, ys, layers)


__all__ = ["LayerMaps", "UnitMaps", "unit_maps"]
