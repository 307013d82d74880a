"""Run a ``RunSpec`` end to end: load its data, build its network, train, evaluate.

The command line, the benchmarks and the app's Training page all go through here, so a
preset means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import Dataset, load_dataset
from ..network import Network
from .spec import RunSpec, build_network


@dataclass
class RunResult:
    network: Network
    dataset: Dataset
    history: object
    metrics: dict = field(default_factory=dict)


def load_spec_data(spec: RunSpec, *, limit: int | None = None, **load_kwargs) -> Dataset:
    """The data set a spec names, with its parameters; ``limit`` overrides MNIST's subset."""
    params = {k: v for k, v in spec.data.items() if k != "name"}
    if limit is not None:
        params["limit"] = limit
    return load_dataset(spec.data["name"], **params, **load_kwargs)


def describe_dataset(dataset: Dataset) -> dict:
    """What a saved model records about the data it was trained on."""
    return {"name": dataset.name, "description": dataset.description,
            "n_features": dataset.n_features, "n_classes": dataset.n_classes,
            "class_names": list(dataset.class_names),
            "image_shape": list(dataset.image_shape) if dataset.image_shape else None}


def build_for(spec: RunSpec, dataset: Dataset) -> Network:
    network = build_network(spec, dataset.n_features, dataset.n_classes, dataset.image_shape)
    network.metadata["dataset"] = describe_dataset(dataset)
    return network


def evaluate_run(network: Network, dataset: Dataset, history) -> dict:
    """The figures a run reports: final train loss, test loss and accuracy, timing."""
    test = network.evaluate(dataset.X_test, dataset.y_test)
    return {
        "epochs": len(history.epoch),
        "train_loss": history.train_loss[-1] if history.train_loss else float("nan"),
        "final_error": history.train_loss[-1] if history.train_loss else float("nan"),
        "test_loss": test["loss"],
        "test_accuracy": test["accuracy"],
        "val_accuracy": history.val_accuracy[-1] if history.val_accuracy else None,
        "seconds_per_epoch": history.seconds_per_epoch,
        "stop_reason": history.stop_reason,
    }


def train_spec(spec: RunSpec, dataset: Dataset | None = None, *, epochs: int | None = None,
               network: Network | None = None, **fit_kwargs) -> RunResult:
    """Train ``spec`` (on ``dataset`` if given, else on the data it names).

    ``epochs`` overrides the spec's; ``network`` continues training an existing network;
    the other keywords (callbacks, control, verbose) go to ``Network.fit``.
    """
    dataset = dataset if dataset is not None else load_spec_data(spec)
    network = network if network is not None else build_for(spec, dataset)
    validation = (dataset.X_val, dataset.y_val) if dataset.n_val else None
    history = network.fit(
        dataset.X_train, dataset.y_train, epochs=epochs or spec.epochs,
        batch_size=spec.batch_size, shuffle=spec.shuffle, validation_data=validation,
        seed=spec.seed, schedule=spec.schedule, **fit_kwargs)
    network.metadata["history"] = {k: v for k, v in history.as_dict().items()
                                   if k != "batch_loss"}
    return RunResult(network, dataset, history, evaluate_run(network, dataset, history))


def json_safe(value):
    """Floats that JSON can carry (NaN → None)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
