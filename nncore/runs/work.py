"""One sample's work through a network, counted one way wherever it is bounded.

A run's spec (``RunSpec.work_per_sample``, before anything is built), a model file's
description (``model_files.plan``, from its numbers alone) and a built network
(``work_per_sample`` below: the step mode's bounds, a model trained further) all count it with ``layer_work``, so
``LIMITS["max_sample_work"]`` and ``LIMITS["max_work"]`` mean one thing.

A layer with weights W and biases b costs one sample the larger of

    its multiply-adds    W.size × the positions its weights slide over (a Dense layer's
                         output is one position, a Conv2D's every pixel of its maps), and
    its parameters       W.size + b.size: each one's gradient adds a term per sample
                         (dW = aᵀ·δ / m, db = Σ δ / m).

A Dense layer's cost is its parameters (in·out + out); a Conv2D's its multiply-adds
(F·C·k·k × H·W), unless its maps are a single pixel.
"""

from __future__ import annotations

import math


def layer_work(weight_shape, n_biases: int, out_shape) -> int:
    """One sample's work through a layer whose weights have ``weight_shape``, with
    ``n_biases`` biases and one sample's output of ``out_shape``: (units,) for a Dense
    layer, (filters, H, W) for a Conv2D."""
    weights = math.prod(weight_shape)
    positions = math.prod(out_shape[1:])        # 1 for a Dense layer's (units,)
    return max(weights * positions, weights + n_biases)


def work_per_sample(network) -> int:
    """One sample's work through a built ``network``, counted as a run's spec and a model
    file count it: about in × out for a Dense layer, filter weights × output pixels for a
    Conv2D."""
    from ..layers import Conv2D, Dense
    shape, total = tuple(network.input_shape), 0
    for layer in network.layers:
        out = layer.output_shape(shape)
        if isinstance(layer, (Dense, Conv2D)):
            total += layer_work(layer.W.shape, layer.b.size, out)
        shape = out
    return int(total)
