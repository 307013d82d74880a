"""The network: a stack of layers, a loss and an optimizer (Keras's ``Sequential``).

Three ways to build one, one for each seed style::

    Network.from_architecture([{"in": 784, "out": 16, "activation": "relu"},     # seed 000
                               {"in": 16, "out": 10, "activation": "sigmoid"}], loss="mse_sum")
    Network.from_architecture([{"input_dim": 2, "output_dim": 16, "activation": "relu"},
                               {"input_dim": 16, "output_dim": 1, "activation": "sigmoid"}],
                              loss="binary_cross_entropy")                       # seed 003
    net = Network(); net.add(Dense(2, 3)); net.add(ActivationLayer("tanh")); net.use("mse")
                                                                                 # seed 001

and a fourth, ``Network.from_config(net.get_config())``, which is how a saved model
(``nncore.save`` / ``nncore.load``) and ``copy()`` come back.

Training is the loop every seed writes by hand::

    for each batch:  a = forward(X)  →  dA = loss'(a, y)  →  backward(dA)  →  optimizer step

``fit`` is that loop; what it reports and how it is paused or stopped on the way lives in
``_FitRun`` at the end of this file. To see what every layer computes on a batch, use
``nncore.trace``.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterable

import numpy as np

from .layers import Dense, Dropout, Layer, ActivationLayer, WeightedLayer, layer_from_config
from .layers import Conv2D, Flatten, MaxPool2D
from .losses import Loss, get_loss, l2_penalty
from .optimizers import Optimizer, get_optimizer
from .schedules import get_schedule
from .trace import trace
from .training import (BatchPlan, History, TrainingControl, TrainingDiverged, TrainingError,
                       TrainingEvent)

EVAL_BATCH = 512  # rows per chunk when predicting (a CNN's feature maps of 512 digits: ~100 MB)


class Network:
    """A feed-forward network with scikit-learn's ``fit / predict / predict_proba / score``.

    Parameters
    ----------
    layers : the layers, in order (more can be added with ``add``).
    loss : "softmax_cross_entropy", "binary_cross_entropy", "mse", "mse_sum" or a Loss.
    optimizer : "sgd", "momentum", "nesterov", "adam", a dict such as
        ``{"name": "adam", "lr": 1e-3}``, or an Optimizer.
    l2 : λ of seed 002's weight decay ½·λ·ΣW² (0 = none).
    seed : when given, every layer's parameters are drawn afresh from this seed, and it
        is the default seed for shuffling and dropout in ``fit``. Same seed, same data →
        bit-identical weights.
    dtype : float32 (fast, the default) or float64 (for gradient checks).
    """

    def __init__(self, layers: Iterable[Layer] = (), *, loss="softmax_cross_entropy",
                 optimizer="sgd", l2: float = 0.0, seed: int | None = None, dtype=np.float32):
        self.layers: list[Layer] = []
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype!r}.")
        for layer in layers:
            self.add(layer)
        self.loss: Loss = get_loss(loss)
        self.optimizer: Optimizer = get_optimizer(optimizer)
        if not np.isfinite(l2) or l2 < 0:
            raise ValueError(f"l2 must be a non-negative number, got {l2!r}.")
        self.l2 = float(l2)
        self.seed = seed
        self.history: History | None = None
        self.metadata: dict = {}   # what the app and the command line record: data set, preset…
        if seed is not None:
            self.initialize(seed)
        else:
            self._cast_parameters()
        self._built = True   # from now on add() keeps the seed and dtype promises itself

    # ------------------------------------------------------------------ building
    @classmethod
    def from_architecture(cls, architecture: list[dict], **kwargs) -> "Network":
        """Build from seed 000's ``{"in", "out", "activation"}`` dicts or seed 003's
        ``{"input_dim", "output_dim", "activation"}`` dicts; optional keys ``init`` and
        ``dropout`` (a Dropout layer after the Dense layer)."""
        if not isinstance(architecture, (list, tuple)) or not architecture:
            raise ValueError("The architecture must be a non-empty list of layer dicts.")
        layers: list[Layer] = []
        for i, spec in enumerate(architecture):
            if not isinstance(spec, dict):
                raise ValueError(f"Layer {i} of the architecture must be a dict, got {spec!r}.")
            n_in = spec.get("in", spec.get("input_dim"))
            n_out = spec.get("out", spec.get("output_dim"))
            if n_in is None or n_out is None:
                raise ValueError(
                    f"Layer {i} {spec!r} needs its sizes as 'in'/'out' (seed 000) or "
                    "'input_dim'/'output_dim' (seed 003)."
                )
            layers.append(Dense(n_in, n_out, spec.get("activation", "linear"), spec.get("init")))
            if spec.get("dropout"):
                layers.append(Dropout(spec["dropout"]))
        return cls(layers, **kwargs)

    @classmethod
    def from_config(cls, config: dict) -> "Network":
        """Rebuild a network from ``get_config()``: the same layers, loss, optimizer, l2,
        dtype and seed, with fresh weights (``copy`` and ``nncore.load`` then copy the
        learned arrays in). A description it cannot build is a ValueError."""
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError(f"A network description needs a list of layers, got {config!r}.")
        try:
            layers = [layer_from_config(c) for c in config["layers"]]
            network = cls(layers, loss=config.get("loss", {}).get("name", "softmax_cross_entropy"),
                          optimizer=config.get("optimizer", "sgd"), l2=config.get("l2", 0.0),
                          dtype=config.get("dtype", "float32"))
        except (TypeError, AttributeError) as exc:   # a field of the wrong kind, e.g. "loss": 3
            raise ValueError(str(exc)) from None
        # The seed comes back too (it seeds fit's shuffling), set after building so that it
        # does not draw fresh weights; a seed that is not a whole number ≥ 0 is dropped.
        seed = config.get("seed")
        whole = isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
        network.seed = seed if whole else None
        return network

    def add(self, layer: Layer) -> "Network":
        """Append a layer, checking that its input size matches the previous output."""
        if not isinstance(layer, Layer):
            raise ValueError(f"add() takes a Layer, got {type(layer).__name__}.")
        if isinstance(layer, Dense) and self.layers:
            shape = self.output_shape
            if len(shape) != 1:
                raise ValueError(
                    f"Layer {len(self.layers) + 1} (Dense) takes flat inputs, but the layer "
                    f"before it gives feature maps of shape {shape}: add a Flatten layer first."
                )
            width = shape[-1]
            if width != layer.in_features:
                raise ValueError(
                    f"Layer {len(self.layers) + 1} (Dense) expects {layer.in_features} inputs, "
                    f"but the layer before it gives {width}."
                )
        if isinstance(layer, (Conv2D, MaxPool2D)) and self.layers:
            layer.output_shape(self.output_shape)   # a clear ValueError when shapes do not fit
        self.layers.append(layer)
        if getattr(self, "_built", False):
            # Seed 001 builds with add(): the result must equal Network(layers, seed=…)
            if self.seed is not None:
                self.initialize(self.seed)
            else:
                self._cast_parameters()
        return self

    def use(self, loss) -> "Network":
        """Seed 001's name for choosing the loss."""
        self.loss = get_loss(loss)
        return self

    def initialize(self, seed: int | None = None) -> None:
        """Draw every layer's parameters afresh (from ``seed`` if given)."""
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.initialize(rng, self.dtype)
        self.optimizer.reset()

    def _cast_parameters(self):
        for layer in self.layers:
            if any(p.dtype != self.dtype for _, p, _ in layer.parameters()):
                layer.astype(self.dtype)

    # ------------------------------------------------------------------ shapes
    @property
    def input_shape(self) -> tuple:
        for layer in self.layers:
            if hasattr(layer, "input_shape"):
                return tuple(layer.input_shape)
            if isinstance(layer, Dense):
                return (layer.in_features,)
            if isinstance(layer, (Conv2D, MaxPool2D, Flatten)):
                raise ValueError(f"The network starts with {type(layer).__name__}, which does not "
                                 "fix the input size: put a Reshape layer first, e.g. "
                                 "Reshape((1, 28, 28)) for flat 784-pixel MNIST rows.")
        raise ValueError("The network has no layer that fixes its input size yet.")

    @property
    def n_inputs(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def output_shape(self) -> tuple:
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    @property
    def n_outputs(self) -> int:
        return int(self.output_shape[-1])

    def parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """("layer{i}.W", W, dW) triples for every parameter, in a fixed order."""
        return [(f"layer{i}.{name}", p, g) for i, layer in enumerate(self.layers)
                for name, p, g in layer.parameters()]

    def get_weights(self) -> list[np.ndarray]:
        """A copy of every parameter array, in the order of ``parameters()``."""
        return [p.copy() for _, p, _ in self.parameters()]

    def set_weights(self, weights) -> None:
        """Copy arrays (from ``get_weights``, say) into the parameters, in place."""
        for (_, p, _), w in zip(self.parameters(), weights):
            p[...] = w

    def n_parameters(self) -> int:
        return sum(layer.n_parameters() for layer in self.layers)

    # ------------------------------------------------------------------ passes
    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        a = X
        for layer in self.layers:
            a = layer.forward(a, training)
        return a

    def backward(self, dA: np.ndarray, on_layer: Callable | None = None) -> np.ndarray | None:
        """Backpropagate ∂ℓ/∂a of the output through every layer, last to first.

        ``on_layer(i, dA, dA_prev)``, if given, is called after layer i's backward with
        the gradient it received and the one it handed down (``nncore.trace`` records
        them); dA is None for a layer the loss's δ skipped.
        """
        layers = self.layers
        grad = dA
        start = len(layers) - 1
        if self.loss.returns_delta:
            # The loss already gave δ = ∂ℓ/∂z of the output: skip the output activation.
            last = layers[-1]
            if not isinstance(last, ActivationLayer):   # an ActivationLayer: δ passes through it,
                grad = last.backward(grad, dA_is_delta=True)   # the Dense below is linear
            if on_layer is not None:
                on_layer(start, None, grad)
            start -= 1
        for i in range(start, -1, -1):   # (a one-layer network: nothing left)
            dA_i, grad = grad, layers[i].backward(grad)
            if on_layer is not None:
                on_layer(i, dA_i, grad)
            if grad is None:   # the first Dense/Conv2D skipped ∂L/∂X (fit): nothing below needs it
                break
        return grad

    def input_gradient(self, X: np.ndarray, target) -> np.ndarray:
        """∂(output of the ``target`` column)/∂X — the saliency map of each input.
        ``target``: one output index, or one per sample (see ``Trace.input_gradient``)."""
        return trace(self, X).input_gradient(target)

    def _first_parametric(self):
        return next((l for l in self.layers if isinstance(l, WeightedLayer)), None)

    # ------------------------------------------------------------------ checks
    def _check_ready(self):
        if not self.layers:
            raise TrainingError("The network has no layers yet: add at least one Dense layer.")
        want = self.loss.output_activation
        last = self.layers[-1]
        act = getattr(getattr(last, "activation", None), "name", None)
        if want is not None and act != want:
            raise TrainingError(
                f"The loss {self.loss.name!r} needs a {want} output layer, but the last "
                f"layer's activation is {act!r}."
            )
        if self.loss.name == "binary_cross_entropy" and self.n_outputs != 1:
            raise TrainingError("binary_cross_entropy needs a single sigmoid output unit, "
                                f"but the network has {self.n_outputs} outputs.")
        if self.loss.name == "softmax_cross_entropy" and self.n_outputs < 2:
            raise TrainingError("softmax_cross_entropy needs at least 2 output units.")

    def _check_X(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.dtype == object or not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"Inputs must be numbers, got an array of {X.dtype}.")
        if X.ndim == 1 and self.n_inputs == X.shape[0]:
            X = X[None, :]
        if X.ndim > 2:
            X = X.reshape(len(X), -1)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(
                f"The network expects inputs with {self.n_inputs} features, got an array of "
                f"shape {X.shape}."
            )
        if len(X) == 0:
            raise ValueError("The data set is empty: there are no samples to use.")
        X = X.astype(self.dtype, copy=False)
        if not np.isfinite(X).all():
            raise ValueError("The inputs contain NaN or infinite values; clean the data first.")
        return X

    def _targets(self, y, n: int) -> np.ndarray:
        """Turn labels into the target matrix the loss compares the output with."""
        y = np.asarray(y)
        k = self.n_outputs
        if len(y) != n:
            raise ValueError(f"Got {n} samples but {len(y)} targets.")
        if y.ndim == 2 and y.shape[1] == k:
            Y = y.astype(self.dtype, copy=False)
            if not np.isfinite(Y).all():
                raise ValueError("The targets contain NaN or infinite values.")
            return Y
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"Targets must be class labels of shape ({n},) or a ({n}, {k}) "
                             f"matrix, got shape {y.shape}.")
        if not (np.issubdtype(y.dtype, np.integer) or
                (np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y))
                 and np.all(y == np.round(y)))):
            raise ValueError("Class labels must be whole numbers (0, 1, 2, …).")
        y = y.astype(np.int64)
        n_classes = 2 if k == 1 else k
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(
                f"Labels must lie in 0…{n_classes - 1} for a network with {k} output"
                f"{'s' if k > 1 else ''}, found labels from {y.min()} to {y.max()}."
            )
        if k == 1:
            return y.astype(self.dtype).reshape(-1, 1)
        Y = np.zeros((n, k), dtype=self.dtype)
        Y[np.arange(n), y] = 1.0
        return Y

    # ------------------------------------------------------------------ training
    def _weights(self):
        return [layer.W for layer in self.layers if isinstance(layer, WeightedLayer)]

    def compute_loss(self, a: np.ndarray, Y: np.ndarray) -> float:
        """The data loss plus seed 002's L2 term ½·λ·ΣW²."""
        loss = self.loss.forward(a, Y)
        if self.l2:
            loss += l2_penalty(self._weights(), self.l2)
        return loss

    def _step(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
        """One gradient step on one batch; returns (loss, output) from before the step."""
        a = self.forward(X, training=True)
        loss = self.compute_loss(a, Y)
        self.backward(self.loss.backward(a, Y))
        self.add_l2_gradients()
        self.apply_gradients()
        return loss, a

    def apply_gradients(self) -> None:
        """The optimizer's update of every parameter with its gradient, in place (the
        last line of a training step; ``nncore.stepping`` calls it too)."""
        triples = self.parameters()
        self.optimizer.step([p for _, p, _ in triples], [g for _, _, g in triples])

    def add_l2_gradients(self) -> None:
        """Add the L2 penalty's gradient to every weight gradient after ``backward``:
        ∂(½λΣW²)/∂W = λ·W (biases are not penalised)."""
        if self.l2:
            for layer in self.layers:
                if isinstance(layer, WeightedLayer):
                    layer.dW += self.l2 * layer.W

    def train_step(self, X, y) -> float:
        """One forward pass, one backward pass and one update on the batch (X, y)."""
        self._check_ready()
        X = self._check_X(X)
        Y = self._targets(y, len(X))
        before = self.get_weights()
        with np.errstate(over="ignore", invalid="ignore"):
            loss, _ = self._step(X, Y)
        if not np.isfinite(loss) or not all(np.isfinite(p).all() for _, p, _ in self.parameters()):
            self._restore(before)
            raise self._diverged("on this batch", loss, "its weights from before this step")
        return loss

    def fit(self, X, y, *, epochs: int = 10, batch_size: int | None = 32, shuffle: bool = True,
            validation_data: tuple | None = None, seed: int | None = None,
            schedule=None, callbacks: Iterable[Callable[[TrainingEvent], None]] = (),
            control: TrainingControl | None = None, verbose: bool = False) -> History:
        """Train for ``epochs`` passes over (X, y) in mini-batches.

        batch_size : samples per step; None (or ≥ len(X)) is full-batch gradient descent,
            1 is seed 001's per-sample SGD.
        validation_data : (X_val, y_val), evaluated after every epoch.
        seed : seeds shuffling and dropout (defaults to the network's seed).
        schedule : learning-rate schedule, e.g. "cosine" or {"name": "step", "step_size": 5}.
        callbacks : functions called with a ``TrainingEvent`` after every batch and epoch.
        control : a ``TrainingControl`` another thread uses to pause or stop the run.

        A loss that turns NaN or infinite stops the run: the weights go back to the end
        of the last good epoch and ``TrainingDiverged`` is raised with a suggested
        learning rate. Returns the ``History`` (also kept as ``self.history``).
        """
        self._check_ready()
        if not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a whole number ≥ 1, got {epochs!r}.")
        X = self._check_X(X)
        Y = self._targets(y, len(X))
        plan = BatchPlan(len(X), batch_size, shuffle)     # which rows, in which order
        val = None
        if validation_data is not None and len(validation_data[0]):
            Xv = self._check_X(validation_data[0])
            val = (Xv, self._targets(validation_data[1], len(Xv)))
        schedule = get_schedule(schedule)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.rng = rng   # one stream: each epoch's shuffle, then that epoch's masks
        run = _FitRun(self, X, Y, plan, rng, epochs, val, callbacks, control, verbose)
        base_lr = self.optimizer.lr
        with run:   # quiet overflow warnings, no ∂L/∂X for the first layer, lr restored after
            for epoch in range(1, epochs + 1):
                self.optimizer.lr = schedule(base_lr, epoch - 1, epochs)
                for xb, yb in run.batches(epoch):       # waits while paused, ends if stopped
                    with run.weights_lock:
                        loss, out = self._step(xb, yb)
                    run.end_batch(loss, out)             # a NaN loss: restore, raise
                run.end_epoch()                          # History, validation, callbacks
                if run.stopped:
                    break
        return run.end_training()

    def _restore(self, snapshot):
        self.set_weights(snapshot)
        self.optimizer.reset()

    def _diverged(self, where: str, loss, kept: str, history=None) -> TrainingDiverged:
        """The error a diverging run raises: where it happened, the loss it reached, a
        learning rate to try instead (a tenth), and which weights the network kept."""
        lr = self.optimizer.lr
        message = (f"Training diverged {where}: the loss became {loss}. The learning rate "
                   f"{lr:g} is too large for this network and data; try {lr / 10:g}. "
                   f"The network kept {kept}.")
        return TrainingDiverged(message, history if history is not None else History(), lr / 10)

    def _diverged_in_fit(self, epoch, batch, loss, history) -> TrainingDiverged:
        history.stop_reason = f"diverged at epoch {epoch}, batch {batch}"
        kept = "the initial weights" if epoch == 1 else f"the weights from the end of epoch {epoch - 1}"
        return self._diverged(f"at epoch {epoch}, batch {batch}", loss, kept, history)

    @staticmethod
    def _epoch_line(h: History) -> str:
        line = (f"epoch {h.epoch[-1]}: loss {h.train_loss[-1]:.4f}, "
                f"accuracy {h.train_accuracy[-1]:.4f}")
        if h.val_loss:
            line += f", val loss {h.val_loss[-1]:.4f}, val accuracy {h.val_accuracy[-1]:.4f}"
        return line + f" ({h.seconds[-1]:.2f} s)"

    @staticmethod
    def _labels_of(Y: np.ndarray) -> np.ndarray:
        return (Y[:, 0] > 0.5).astype(np.int64) if Y.shape[1] == 1 else Y.argmax(axis=1)

    def _n_correct(self, out: np.ndarray, Y: np.ndarray) -> int:
        return int(np.count_nonzero(self._labels_of(out) == self._labels_of(Y)))

    # ------------------------------------------------------------------ inference
    def _outputs(self, X: np.ndarray) -> np.ndarray:
        return np.concatenate([self.forward(X[i:i + EVAL_BATCH])
                               for i in range(0, len(X), EVAL_BATCH)])

    def decision_function(self, X) -> np.ndarray:
        """The raw output of the last layer for each sample."""
        return self._outputs(self._check_X(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one row per sample, summing to 1 (see ``probabilities``)."""
        return self.probabilities(self.decision_function(X))

    def probabilities(self, out: np.ndarray) -> np.ndarray:
        """The network's raw outputs (m, k) read as class probabilities.

        Softmax outputs are probabilities already; a single sigmoid unit p becomes the
        two columns (1 − p, p); other outputs (seed 000's sigmoids, seed 001's tanh) are
        scores, clipped at 0 and normalised to sum to 1 — comparable, not calibrated.
        """
        if out.shape[1] == 1:
            p = np.clip(out[:, 0], 0.0, 1.0)
            return np.stack([1.0 - p, p], axis=1)
        if getattr(getattr(self.layers[-1], "activation", None), "name", None) == "softmax":
            return out
        scores = np.clip(out, 0.0, None)
        total = scores.sum(axis=1, keepdims=True)
        uniform = np.full_like(scores, 1.0 / scores.shape[1])
        return np.divide(scores, total, out=uniform, where=total > 0)

    def predict(self, X) -> np.ndarray:
        """The predicted class of each sample."""
        return self._labels_of(self.decision_function(X))

    def _evaluate_arrays(self, X, Y) -> dict:
        out = self._outputs(X)
        return {"loss": self.compute_loss(out, Y),
                "accuracy": self._n_correct(out, Y) / len(X)}

    def evaluate(self, X, y) -> dict:
        """{"loss": …, "accuracy": …} on (X, y)."""
        self._check_ready()
        X = self._check_X(X)
        return self._evaluate_arrays(X, self._targets(y, len(X)))

    def score(self, X, y) -> float:
        """Accuracy on (X, y), as scikit-learn's classifiers define ``score``."""
        return self.evaluate(X, y)["accuracy"]

    # ------------------------------------------------------------------ description
    def summary_rows(self) -> list[dict]:
        """One dict per layer: name, output shape, parameter count, parameter memory."""
        rows, shape = [], self.input_shape
        for i, layer in enumerate(self.layers):
            shape = layer.output_shape(shape)
            n = layer.n_parameters()
            rows.append({"layer": f"{i}: {layer!r}", "output shape": ("m",) + tuple(shape),
                         "parameters": n, "bytes": n * self.dtype.itemsize})
        return rows

    def summary(self) -> str:
        rows = self.summary_rows()
        width = max([len(r["layer"]) for r in rows] + [5])
        lines = [f"{'layer':<{width}}  {'output shape':<16}{'parameters':>12}"]
        for r in rows:
            shape = "(" + ", ".join(map(str, r["output shape"])) + ")"
            lines.append(f"{r['layer']:<{width}}  {shape:<16}{r['parameters']:>12,}")
        total = self.n_parameters()
        lines.append(f"total: {total:,} parameters, {total * self.dtype.itemsize / 1024:.1f} KiB "
                     f"({self.dtype.name}); loss {self.loss.name}, optimizer "
                     f"{self.optimizer.name} (lr {self.optimizer.lr:g}), l2 {self.l2:g}")
        return "\n".join(lines)

    def get_config(self) -> dict:
        return {"layers": [layer.get_config() for layer in self.layers],
                "loss": self.loss.get_config(), "optimizer": self.optimizer.get_config(),
                "l2": self.l2, "seed": self.seed, "dtype": self.dtype.name}

    def copy(self) -> "Network":
        """An independent network with the same layers and weights."""
        clone = Network.from_config(self.get_config())
        clone.set_weights(w for _, w, _ in self.parameters())
        clone.metadata = dict(self.metadata)
        return clone

    def __repr__(self) -> str:
        return (f"Network({len(self.layers)} layers, {self.n_parameters():,} parameters, "
                f"loss={self.loss.name})")


# ---------------------------------------------------------------------- fit's bookkeeping
class _FitRun:
    """Everything ``fit`` keeps track of around its steps, so that its loop stays the loop.

    * the batches: ``BatchPlan``'s, each epoch's order drawn from ``rng``;
    * pause and stop: ``control`` is asked before every batch, so a batch is never cut in
      half; the time spent paused is not training time;
    * ``weights_lock``: held around each step, so another thread reads whole weights;
    * the running loss and accuracy of the epoch, the ``History`` and the events for the
      callbacks;
    * divergence: a NaN loss, or weights that are no longer finite at the end of an epoch,
      put back the weights from the end of the last good epoch and raise TrainingDiverged.
    """

    def __init__(self, net: Network, X, Y, plan: BatchPlan, rng, epochs, val, callbacks,
                 control, verbose):
        self.net, self.X, self.Y = net, X, Y
        self.plan, self.n_batches = plan, plan.n_batches
        self.rng, self.epochs, self.val = rng, epochs, val
        self.callbacks, self.control, self.verbose = list(callbacks), control, verbose
        self.weights_lock = (control.weights_lock if control is not None
                             else contextlib.nullcontext())
        self.labels = net._labels_of(Y)   # class of each sample, for the running accuracy
        self.history = net.history = History()
        self.samples_seen, self.train_time = 0, 0.0

    @property
    def stopped(self) -> bool:
        return self.history.stop_reason is not None

    def __enter__(self):
        # Overflow on the way to a NaN loss is caught as TrainingDiverged, with a message;
        # NumPy's RuntimeWarnings about it would only be noise on stderr.
        self.saved_errstate = np.seterr(over="ignore", invalid="ignore")
        self.base_lr = self.net.optimizer.lr
        self.first = self.net._first_parametric()
        if self.first is not None:
            self.first.skip_input_gradient = True   # nobody needs ∂L/∂X while training
        return self

    def __exit__(self, *exc):
        np.seterr(**self.saved_errstate)
        self.net.optimizer.lr = self.base_lr
        if self.first is not None:
            self.first.skip_input_gradient = False

    # ---------------------------------------------------------------- one epoch
    def batches(self, epoch: int):
        """This epoch's mini-batches (xb, yb), until they run out or the run is stopped."""
        self.epoch = epoch
        self.last_good = self.net.get_weights()
        order = self.plan.epoch_order(self.rng)
        self.loss_sum, self.correct, self.done, self.paused = 0.0, 0, 0, 0.0
        self.start = time.perf_counter()
        for b in range(self.n_batches):
            if not self._go_on():
                return
            rows = self.plan.rows(order, b)
            xb, yb, self.batch_labels = self.plan.take(rows, self.X, self.Y, self.labels)
            self.batch = b + 1
            yield xb, yb

    def _go_on(self) -> bool:
        """Wait while paused (not counted as training time); False once stopped."""
        if self.control is None:
            return True
        t_wait = time.perf_counter()
        go_on = self.control.wait_while_paused()
        self.paused += time.perf_counter() - t_wait
        if not go_on:
            self.history.stop_reason = "stopped by the user"
        return go_on

    def end_batch(self, loss: float, out: np.ndarray) -> None:
        history = self.history
        if not np.isfinite(loss):
            self.net._restore(self.last_good)
            raise self.net._diverged_in_fit(self.epoch, self.batch, loss, history)
        n = len(out)
        self.loss_sum += loss * n
        self.correct += int(np.count_nonzero(self.net._labels_of(out) == self.batch_labels))
        self.done += n
        self.samples_seen += n
        history.batch_loss.append(loss)
        self._tell("batch_end", self.epoch, self.batch, loss,
                   self.train_time + time.perf_counter() - self.start - self.paused)

    def end_epoch(self) -> None:
        """Record the epoch in the History (a stopped epoch: the batches it did), evaluate
        the validation set, tell the callbacks."""
        net, history, epoch = self.net, self.history, self.epoch
        seconds = time.perf_counter() - self.start - self.paused
        self.train_time += seconds
        if self.done == 0:   # stopped before its first batch: nothing to record
            return
        if not all(np.isfinite(p).all() for _, p, _ in net.parameters()):
            net._restore(self.last_good)
            raise net._diverged_in_fit(epoch, self.n_batches, float("inf"), history)
        history.epoch.append(epoch)
        history.train_loss.append(self.loss_sum / self.done)
        history.train_accuracy.append(self.correct / self.done)
        history.lr.append(net.optimizer.lr)
        history.seconds.append(seconds)
        if self.val is not None:
            v = net._evaluate_arrays(*self.val)
            history.val_loss.append(v["loss"])
            history.val_accuracy.append(v["accuracy"])
        if self.verbose:
            print(net._epoch_line(history))
        self._tell("epoch_end", epoch, self.n_batches, history.train_loss[-1], self.train_time,
                   history.stop_reason)

    def end_training(self) -> History:
        history = self.history
        history.stop_reason = history.stop_reason or "finished"
        self._tell("train_end", len(history.epoch), 0,
                   history.train_loss[-1] if history.train_loss else float("nan"),
                   self.train_time, history.stop_reason)
        return history

    def _tell(self, kind, epoch, batch, loss, elapsed, stop_reason=None) -> None:
        for cb in self.callbacks:
            cb(TrainingEvent(kind, epoch, self.epochs, batch, self.n_batches, loss, elapsed,
                             self.samples_seen, self.history, stop_reason))
