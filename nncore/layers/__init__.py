"""Layers: each one computes ``forward`` and ``backward`` under the same contract."""

from .activation_layer import ActivationLayer
from .base import Layer, WeightedLayer
from .dense import Dense
from .dropout import Dropout
from .conv import Conv2D
from .pool import MaxPool2D
from .reshape import Flatten, Reshape

LAYER_TYPES = {cls.__name__: cls for cls in (Dense, ActivationLayer, Dropout)}
LAYER_TYPES.update({cls.__name__: cls for cls in (Conv2D, MaxPool2D, Flatten, Reshape)})


def layer_from_config(config: dict) -> Layer:
    """Rebuild a layer from ``Layer.get_config()`` (used when loading a saved model)."""
    if not isinstance(config, dict) or config.get("type") not in LAYER_TYPES:
        known = ", ".join(LAYER_TYPES)
        raise ValueError(f"Unknown layer description {config!r}: expected a type among {known}.")
    kwargs = {k: v for k, v in config.items() if k != "type"}
    try:
        return LAYER_TYPES[config["type"]](**kwargs)
    except TypeError as exc:
        raise ValueError(f"Layer description {config!r} has wrong fields: {exc}") from None


__all__ = ["Layer", "WeightedLayer", "Dense", "ActivationLayer", "Dropout", "LAYER_TYPES", "layer_from_config"]
__all__ += ["Conv2D", "MaxPool2D", "Flatten", "Reshape"]
