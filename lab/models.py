"""What the app reads off a network: what it expects, and what it makes of one input.

No Streamlit here. Every page that shows a model goes through these:

* ``model_info`` — the inputs a network takes (width, image shape), its class names and
  layer sizes, read from the metadata it was trained with, else inferred from its shapes;
* ``model_fits`` — why a network cannot be used on a data set (None: it can);
* ``read_model_file`` — an uploaded ``.npz`` read, checked and refused with a sentence;
* ``explain`` — one input through the network once (``nncore.trace``): its class
  probabilities, every hidden layer's activations and the saliency map of its answer;
* ``conv_feature_maps`` — one input's feature maps after every convolution and pooling;
* ``prepare_drawing``, ``predict_all``, ``browse_order`` — the canvas, the test set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nncore.serialization import ModelFileError, load
from nncore.trace import stages, trace
from nncore.vision import canvas_to_digits8, canvas_to_mnist

#: Image shapes the canvas can be prepared for (see ``nncore.vision.prepare_for_model``).
CANVAS_SHAPES = {(28, 28): canvas_to_mnist, (8, 8): canvas_to_digits8}


# ---------------------------------------------------------------------- the model
@dataclass
class ModelInfo:
    n_inputs: int
    n_classes: int                    # columns of predict_proba
    class_names: list[str]
    image_shape: tuple[int, int] | None
    dataset_name: str | None          # what the model was trained on, if it says
    data_params: dict | None          # the spec's data dict, if the model records one
    layer_sizes: list = field(default_factory=list)   # ints, or "conv8" for 8 feature maps
    activations: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if self.image_shape is not None:
            return "image"
        return "2d" if self.n_inputs == 2 else "other"

    @property
    def can_draw(self) -> bool:
        return self.image_shape in CANVAS_SHAPES

    def describe(self, title=None) -> str:
        """One line: layer sizes, activations, data. ``title`` turns a data-set name into
        the name people know it by."""
        sizes = "-".join(str(s) for s in self.layer_sizes)
        acts = "/".join(dict.fromkeys(self.activations)) or "no hidden layer"
        name = self.dataset_name and (title(self.dataset_name) if title else self.dataset_name)
        where = f", trained on {name}" if name else ""
        return f"{sizes} ({acts}){where}"


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def hidden_stages(model) -> list:
    """The hidden layers as the seeds count them: every Dense or Conv2D stage (a layer and
    the activation after it) but the output one."""
    return [s for s in stages(model) if s.kind != "pool"][:-1]


def model_info(model) -> ModelInfo:
    """What ``model`` expects. Metadata from an uploaded file is untrusted: anything that
    does not fit the network's own shapes is ignored and inferred instead."""
    n_inputs = int(model.n_inputs)
    n_out = int(model.n_outputs)
    n_classes = 2 if n_out == 1 else n_out
    meta = model.metadata if isinstance(getattr(model, "metadata", None), dict) else {}
    ds = meta.get("dataset") if isinstance(meta.get("dataset"), dict) else {}

    shape = ds.get("image_shape")
    image_shape = None
    if (isinstance(shape, (list, tuple)) and len(shape) == 2 and all(_is_int(s) and s > 0 for s in shape)
            and shape[0] * shape[1] == n_inputs):
        image_shape = (int(shape[0]), int(shape[1]))
    elif "image_shape" not in ds:   # no word either way: guess from the width
        image_shape = {784: (28, 28), 64: (8, 8)}.get(n_inputs)

    names = ds.get("class_names")
    if isinstance(names, (list, tuple)) and len(names) == n_classes and all(isinstance(n, str) for n in names):
        class_names = [n[:30] for n in names]
    else:
        class_names = [str(i) for i in range(n_classes)]

    name = ds.get("name") if isinstance(ds.get("name"), str) else None
    spec = meta.get("spec") if isinstance(meta.get("spec"), dict) else {}
    data = spec.get("data") if isinstance(spec.get("data"), dict) else None
    if data is not None and not isinstance(data.get("name"), str):
        data = None

    weighted = [s for s in stages(model) if s.kind != "pool"]
    sizes = [n_inputs] + [s.units if s.kind == "dense" else f"conv{s.units}" for s in weighted]
    acts = [s.activation for s in weighted[:-1]]
    return ModelInfo(n_inputs, n_classes, class_names, image_shape, name, data, sizes, acts)


def model_fits(network, dataset) -> str | None:
    """Why ``network`` cannot be used on ``dataset`` (None: it can)."""
    if network.n_inputs != dataset.n_features:
        return (f"The model expects {network.n_inputs} input features, but the current data "
                f"set ({dataset.name}) has {dataset.n_features}. Choose matching data on the "
                "Dataset page, or train a new network.")
    k = network.n_outputs
    if not (k == dataset.n_classes or (k == 1 and dataset.n_classes == 2)):
        return (f"The model has {k} output units, but the current data set has "
                f"{dataset.n_classes} classes.")
    return None


def read_model_file(data: bytes, filename: str, dataset=None):
    """(network, None) for an uploaded model that loads, runs and (given ``dataset``) fits
    it; else (None, a sentence saying why not). ``nncore.load`` never unpickles."""
    name = str(filename or "the uploaded file")[-80:]
    try:
        network = load(data, name=name)
        info = model_info(network)
        network.predict_proba(np.zeros((1, info.n_inputs), dtype=network.dtype))
    except ModelFileError as exc:
        return None, f"That file was not loaded: {exc}"
    except Exception as exc:  # noqa: BLE001 — anything a hostile file triggers is a refusal
        return None, (f"That file was not loaded: {name} is not a model this app can run "
                      f"({type(exc).__name__}: {str(exc)[:200]}).")
    problem = model_fits(network, dataset) if dataset is not None else None
    if problem:
        return None, f"That file was not loaded: {problem}"
    return network, None


# ---------------------------------------------------------------------- one input
@dataclass
class Explanation:
    probs: np.ndarray                 # (n_classes,)
    top: int
    activations: list[tuple[str, str, np.ndarray]]   # (title, activation name, values)
    saliency: np.ndarray | None       # ∂p_top/∂x, same length as x


def explain(model, x, *, saliency: bool = True) -> Explanation:
    """Run one input (flat, length ``n_inputs``) through ``model`` — once."""
    t = trace(model, np.asarray(x, dtype=model.dtype).reshape(1, -1))
    probs = np.asarray(t.proba()[0], dtype=np.float64)
    top = int(np.argmax(probs))
    hidden = set(hidden_stages(model))
    acts = [(f"Hidden layer {k}", stage.activation, out[0].astype(np.float64))
            for k, (stage, out) in enumerate(((s, o) for s, o in t.stage_outputs() if s in hidden), 1)]
    grad = None
    if saliency:
        if model.n_outputs == 1:     # one sigmoid unit: p(class 1) = output, p(class 0) = 1 − output
            g = t.input_gradient(0)[0]
            grad = g if top == 1 else -g
        else:
            grad = t.input_gradient(top)[0]
        grad = np.asarray(grad, dtype=np.float64)
    return Explanation(probs, top, acts, grad)


def explain_rows(model, X) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities (m, k), saliency of each row's own answer (m, n_inputs)) for a batch
    of inputs — one forward and one backward pass for them all."""
    t = trace(model, np.asarray(X, dtype=model.dtype))
    probs = np.asarray(t.proba(), dtype=np.float64)
    top = np.argmax(probs, axis=1)
    if model.n_outputs == 1:        # one sigmoid unit: class 0's saliency is the negative
        grad = t.input_gradient(0) * np.where(top == 1, 1.0, -1.0)[:, None]
    else:
        grad = t.input_gradient(top)
    return probs, np.asarray(grad, dtype=np.float64)


def is_convolutional(model) -> bool:
    return any(s.kind == "conv" for s in stages(model))


def conv_feature_maps(model, x) -> list[tuple[str, str, np.ndarray]]:
    """(title, activation name, (C, H, W) maps) for each Conv2D and MaxPool2D stage of
    ``model`` on one input ``x``; an empty list for a network without them. Layers are
    numbered as in ``Network.summary``; a pooling stage keeps the activation of the maps it
    pools, so that ``activation_figure`` colours it alike."""
    if not is_convolutional(model):
        return []
    x = np.asarray(x, dtype=model.dtype).reshape(1, -1)
    out = []
    for stage, maps in trace(model, x).stage_outputs():
        if stage.kind == "dense":
            continue
        c, h, w = maps.shape[1:]
        layer = model.layers[stage.layer_index]
        out.append((f"Layer {stage.layer_index}, {type(layer).__name__}: {c} maps of {h}×{w}",
                    stage.activation, maps[0].astype(np.float64)))
    return out


def prepare_drawing(image, image_shape) -> np.ndarray | None:
    """The canvas's RGBA array prepared the way the model's training images were, or None
    for an (almost) empty canvas."""
    return CANVAS_SHAPES[tuple(image_shape)](image)


def predict_all(model, X: np.ndarray) -> np.ndarray:
    """The model's answer for every row of X, as int64 class indices."""
    return np.asarray(model.predict(X), dtype=np.int64)


def browse_order(n: int, seed: int = 0) -> np.ndarray:
    """A fixed random order in which to show the test images."""
    return np.random.default_rng(seed).permutation(n)
