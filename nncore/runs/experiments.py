"""What the Training page computes about a network, and the seed experiments it runs.

NumPy (and scikit-learn for the cross-check) only — no user interface here:

- ``decision_grid`` / ``correct_mask``: seed 003's contour of the network output over a
  grid of the 2-D input plane, and seed 002's correct / wrong marking of the points.
- ``layer_statistics``: per-layer weights, gradient magnitudes on a fixed batch (from
  ``nncore.trace``'s forward and backward pass on a *copy*, so a run in progress is not
  disturbed) and the share of dead ReLU units (output 0 on every sample of the batch).
- ``misclassified``, ``xor_table``: the wrong test images; seed 001's XOR outputs.
- ``learning_rate_study``: seed 003's study — the same network trained with each of
  2, 1, 0.5, 0.3, 0.2 and 0.1, loss curves side by side.
- ``sklearn_crosscheck``: the same network trained by scikit-learn's ``MLPClassifier``.

The two experiments take ``report(fraction, message, partial)`` and a ``TrainingControl``
so that ``nncore.jobs.threads.BackgroundTask`` can run them off the user-interface thread.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..layers import Dense
from ..trace import stages, trace
from .presets import LEARNING_RATE_STUDY
from .run import build_for
from .spec import RunSpec
from ..training import TrainingDiverged, TrainingError

SKLEARN_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic",
                       "linear": "identity"}


# ------------------------------------------------------------------ 2-D pictures
def decision_grid(network, X, resolution: int = 90, margin: float = 0.5) -> dict:
    """The network's output over a grid covering the points ``X`` (2 features).

    Returns ``{"x": (r,), "y": (r,), "z": (r, r), "kind": …}``: for two classes ``z`` is
    the probability of class 1 (seed 003's contour of the output); for more classes it
    is the predicted class, and ``confidence`` holds the winning probability.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError("A decision boundary needs 2-D inputs.")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xs = np.linspace(lo[0], hi[0], resolution, dtype=np.float32)
    ys = np.linspace(lo[1], hi[1], resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    proba = network.predict_proba(grid)
    if proba.shape[1] == 2:
        return {"x": xs, "y": ys, "z": proba[:, 1].reshape(gx.shape), "kind": "binary"}
    return {"x": xs, "y": ys, "z": proba.argmax(axis=1).reshape(gx.shape).astype(float),
            "confidence": proba.max(axis=1).reshape(gx.shape), "kind": "classes",
            "n_classes": proba.shape[1]}


def correct_mask(network, X, y) -> np.ndarray:
    """True where the network's prediction matches the label (seed 002's scatter)."""
    return network.predict(X) == np.asarray(y)


# ------------------------------------------------------------------ inside the network
def fixed_batch(n_rows: int, size: int = 512, seed: int = 0) -> np.ndarray:
    """Row indices of a fixed, seeded batch: the same rows every time it is asked for."""
    size = min(size, n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def _histogram(values: np.ndarray, bins: int = 40) -> dict:
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"counts": [], "edges": []}
    counts, edges = np.histogram(values, bins=bins)
    return {"counts": counts, "edges": edges}


def _describe(stage, layer, index: int) -> str:
    act = stage.activation
    if stage.kind == "dense":
        return f"Dense {index} ({layer.in_features}→{layer.out_features}, {act})"
    return f"Conv {index} ({layer.out_channels} filters {layer.kh}×{layer.kw}, {act})"


def layer_statistics(network, X, y, bins: int = 40) -> list[dict]:
    """One dict per layer with weights (Dense, Conv2D): its weights, its gradients on the
    batch (X, y), their histograms, and — for a ReLU layer — the share of dead units
    (a Dense unit or a conv filter whose output is 0 on every sample and position).

    The pass (``nncore.trace``, forward then backward) runs on ``network.copy()``: the
    network itself (perhaps being trained on another thread) is only read.
    """
    net = network.copy()
    t = trace(net, X)
    t.backward(y)
    stats = []
    weighted = [s for s in stages(net) if s.kind != "pool"]
    for index, stage in enumerate(weighted, start=1):
        layer = net.layers[stage.layer_index]
        W, dW = layer.W, t.records[stage.layer_index].dW
        act = stage.activation          # the layer's own, or a separate ActivationLayer's
        out = t.records[stage.output_index].output
        grad = np.abs(dW).astype(np.float64)
        entry = {
            "layer": _describe(stage, layer, index),
            "index": stage.layer_index,
            "activation": act,
            "units": stage.units,
            "weights": _histogram(W, bins),
            # exact zeros (dead units, blank pixels) have no logarithm: counted apart
            "log10_grad": _histogram(np.log10(grad[grad > 0]), bins),
            "zero_grad_share": float(np.mean(grad == 0)),
            "weight_std": float(W.std()),
            "grad_mean_abs": float(grad.mean()),
            "dead_share": None,
        }
        if act == "relu":
            axes = (0,) + tuple(range(2, out.ndim))          # all but the unit / filter axis
            dead = np.all(out <= 0, axis=axes)
            entry["dead_share"] = float(dead.mean())
            entry["dead_units"] = int(dead.sum())
        stats.append(entry)
    return stats


def first_layer_images(network, image_shape, max_units: int = 64) -> np.ndarray:
    """The first layer's weights as images, (k, h, w): for a Dense layer on the pixels,
    each unit's incoming weights as an image of the input's shape; for a convolution,
    each filter (its first input channel)."""
    first = next((l for l in network.layers if l.parameters()), None)
    if isinstance(first, Dense):
        if first.in_features != int(np.prod(image_shape)):
            raise ValueError("The first layer does not take images of this size.")
        k = min(max_units, first.out_features)
        return first.W[:, :k].T.reshape(k, *image_shape)
    if first is not None:
        W = first.parameters()[0][1]
        if W.ndim == 4:
            return W[:max_units, 0]
    raise ValueError("The first layer's weights cannot be drawn as images.")


def misclassified(network, X, y, limit: int = 24) -> dict:
    """The first ``limit`` wrong predictions: their rows, true and predicted labels."""
    pred = network.predict(X)
    wrong = np.flatnonzero(pred != np.asarray(y))
    rows = wrong[:limit]
    return {"rows": rows, "true": np.asarray(y)[rows], "pred": pred[rows],
            "n_wrong": int(wrong.size), "n": int(len(y))}


def xor_table(network, X, y) -> list[dict]:
    """Seed 001's printout: each input, its target and the network's raw output."""
    out = network.decision_function(X)
    return [{"x1": float(X[i, 0]), "x2": float(X[i, 1]), "target": int(y[i]),
             "network output": float(out[i, 0]) if out.shape[1] == 1 else float(out[i].max()),
             "predicted": int(network.predict(X[i:i + 1])[0])}
            for i in range(len(X))]


# ------------------------------------------------------------------ seed 003's experiments
def _validation(dataset):
    return (dataset.X_val, dataset.y_val) if dataset.n_val else None


def learning_rate_study(spec: RunSpec, dataset, report=None, control=None, *,
                        rates=LEARNING_RATE_STUDY, scale_epochs: bool = False) -> dict:
    """Train the spec's network once per learning rate, from the same initial weights.

    ``scale_epochs`` gives each rate epochs ÷ rate epochs, as seed 003 does
    (``max_iter=int(1000/learn_rate)``), so slow rates get as far as fast ones.
    Returns ``{"curves": {rate: train losses}, "results": {rate: {...}}}``.
    """
    report = report or (lambda *a, **k: None)
    plan = [(float(r), max(1, int(round(spec.epochs / r))) if scale_epochs else spec.epochs)
            for r in rates]
    total = sum(e for _, e in plan)
    done = 0
    curves: dict[float, list[float]] = {}
    results: dict[float, dict] = {}

    for rate, epochs in plan:
        if control is not None and control.stopped:
            break
        run = spec.replace(optimizer={**spec.optimizer, "lr": rate})
        net = build_for(run, dataset)
        curve: list[float] = []
        curves[rate] = curve
        base = done

        def on_event(event, curve=curve, base=base, rate=rate, epochs=epochs):
            if event.kind == "epoch_end":
                curve.append(float(event.history.train_loss[-1]))
                if event.epoch % max(1, epochs // 50) == 0 or event.epoch == epochs:
                    report((base + event.epoch) / total, f"learning rate {rate:g}: epoch "
                           f"{event.epoch}/{epochs}",
                           {"curves": {k: list(v) for k, v in curves.items()},
                            "results": dict(results)})

        try:
            history = net.fit(dataset.X_train, dataset.y_train, epochs=epochs,
                              batch_size=run.batch_size, shuffle=run.shuffle, seed=run.seed,
                              schedule=run.schedule, validation_data=_validation(dataset),
                              callbacks=[on_event], control=control)
            results[rate] = {"epochs": len(history.epoch),
                             "final_loss": history.train_loss[-1] if history.train_loss else None,
                             "test_accuracy": _test_accuracy(net, dataset),
                             "diverged": None}
        except TrainingDiverged as exc:
            results[rate] = {"epochs": len(exc.history.epoch),
                             "final_loss": None, "test_accuracy": None, "diverged": str(exc)}
        done += epochs
        report(done / total, f"learning rate {rate:g} done",
               {"curves": {k: list(v) for k, v in curves.items()}, "results": dict(results)})
    return {"curves": curves, "results": results,
            "epochs": {r: e for r, e in plan}}


def _test_accuracy(net, dataset):
    if dataset.n_test:
        return float(net.score(dataset.X_test, dataset.y_test))
    return float(net.score(dataset.X_train, dataset.y_train))


def sklearn_settings(spec: RunSpec, n_train: int) -> tuple[dict, list[str]]:
    """MLPClassifier keyword arguments for the spec's network, and notes on what differs.

    Raises ValueError when scikit-learn has no counterpart (e.g. a leaky ReLU).
    """
    if any(h.kind != "dense" for h in spec.hidden):
        raise ValueError("scikit-learn's MLPClassifier has only fully connected layers; this "
                         "network has convolution or pooling layers.")
    acts = {h.activation for h in spec.hidden}
    if not spec.hidden:
        raise ValueError("scikit-learn's MLPClassifier needs at least one hidden layer.")
    if len(acts) > 1:
        raise ValueError("scikit-learn uses one activation for every hidden layer; this "
                         f"network mixes {', '.join(sorted(acts))}.")
    act = acts.pop()
    if act not in SKLEARN_ACTIVATIONS:
        raise ValueError(f"scikit-learn's MLPClassifier has no {act} activation.")
    batch = spec.batch_size if spec.batch_size and spec.batch_size < n_train else n_train
    opt = dict(spec.optimizer)
    name = opt.get("name", "sgd")
    kwargs = {"hidden_layer_sizes": tuple(h.units for h in spec.hidden),
              "activation": SKLEARN_ACTIVATIONS[act],
              "learning_rate_init": float(opt.get("lr", 0.01)),
              # our L2 adds ½·λ·ΣW² to the batch's mean loss; scikit-learn adds
              # ½·α·ΣW² / batch size, so α = λ × batch size gives the same penalty
              "alpha": float(spec.l2) * batch,
              "batch_size": batch, "max_iter": spec.epochs, "random_state": spec.seed,
              "shuffle": spec.shuffle, "learning_rate": "constant"}
    if name == "adam":
        kwargs.update(solver="adam", beta_1=float(opt.get("beta1", 0.9)),
                      beta_2=float(opt.get("beta2", 0.999)), epsilon=float(opt.get("eps", 1e-8)))
    else:
        momentum = float(opt.get("momentum", 0.0 if name == "sgd" else 0.9))
        kwargs.update(solver="sgd", momentum=momentum,
                      nesterovs_momentum=(name == "nesterov"))
    notes = ["scikit-learn draws its own initial weights (Glorot-uniform), so the two runs "
             "start from different points."]
    if spec.loss not in ("softmax_cross_entropy", "binary_cross_entropy"):
        notes.append(f"scikit-learn always trains with cross-entropy (log-loss); this network "
                     f"uses {spec.loss}, so the loss values are not on the same scale.")
    if spec.schedule.get("name", "constant") != "constant":
        notes.append("scikit-learn keeps the learning rate constant here; this network uses "
                     f"a {spec.schedule['name']} schedule.")
    if any(h.dropout for h in spec.hidden):
        notes.append("scikit-learn has no dropout; its network trains without it.")
    return kwargs, notes


def sklearn_crosscheck(spec: RunSpec, dataset, report=None, control=None) -> dict:
    """Train the spec's network with nncore and with scikit-learn's MLPClassifier, on the
    same data for the same number of epochs; loss curves and accuracies of both."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    report = report or (lambda *a, **k: None)
    kwargs, notes = sklearn_settings(spec, dataset.n_train)
    epochs = spec.epochs
    total = 2 * epochs

    net = build_for(spec, dataset)
    ours: list[float] = []

    def on_event(event):
        if event.kind == "epoch_end":
            ours.append(float(event.history.train_loss[-1]))
            if event.epoch % max(1, epochs // 50) == 0:
                report(event.epoch / total, f"nncore: epoch {event.epoch}/{epochs}",
                       {"nncore": list(ours), "sklearn": []})

    out = {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()},
           "notes": notes, "nncore": {"loss": ours}, "sklearn": {"loss": []}}
    try:
        net.fit(dataset.X_train, dataset.y_train, epochs=epochs, batch_size=spec.batch_size,
                shuffle=spec.shuffle, seed=spec.seed, schedule=spec.schedule,
                callbacks=[on_event], control=control)
        out["nncore"].update(train_accuracy=float(net.score(dataset.X_train, dataset.y_train)),
                             test_accuracy=_test_accuracy(net, dataset))
    except TrainingDiverged as exc:
        out["nncore"]["diverged"] = str(exc)

    clf = MLPClassifier(**kwargs)
    classes = np.arange(dataset.n_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for epoch in range(1, epochs + 1):
            if control is not None and control.stopped:
                break
            # one partial_fit call is one epoch, and it never stops early by itself
            clf.partial_fit(dataset.X_train, dataset.y_train, classes=classes)
            loss = float(clf.loss_curve_[-1])
            if not np.isfinite(loss):
                out["sklearn"]["diverged"] = f"scikit-learn's loss became {loss} at epoch {epoch}."
                break
            if epoch % max(1, epochs // 50) == 0 or epoch == epochs:
                report((epochs + epoch) / total, f"scikit-learn: epoch {epoch}/{epochs}",
                       {"nncore": list(ours), "sklearn": list(clf.loss_curve_)})
    out["sklearn"]["loss"] = [float(v) for v in clf.loss_curve_] if hasattr(clf, "loss_curve_") else []
    if hasattr(clf, "coefs_") and "diverged" not in out["sklearn"]:
        Xt, yt = ((dataset.X_test, dataset.y_test) if dataset.n_test
                  else (dataset.X_train, dataset.y_train))
        out["sklearn"].update(train_accuracy=float(clf.score(dataset.X_train, dataset.y_train)),
                              test_accuracy=float(clf.score(Xt, yt)))
    return out


__all__ = ["decision_grid", "correct_mask", "fixed_batch", "layer_statistics",
           "first_layer_images", "misclassified", "xor_table", "learning_rate_study",
           "sklearn_settings", "sklearn_crosscheck", "TrainingError"]
