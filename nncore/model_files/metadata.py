"""The metadata of a model file, checked field by field before anyone reads it."""

from __future__ import annotations

from ..runs.spec import RunSpec
from .errors import ModelFileError, shown
from .plan import is_whole

MAX_TEXT = 200                  # characters of a name in the metadata


def check_metadata(metadata, name) -> dict:
    """The metadata of a model file, checked: what the app and the command line read from
    it has the type they read it as (a data set's name is text, its class names a list of
    texts, its recorded run a valid RunSpec). Other keys are kept as they are."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{name}: the model's metadata is not a JSON object.")
    # A key the app reads must hold what it reads, when present (null included: the app
    # reads metadata["dataset"]["name"] as it would a file of its own).
    if "dataset" in metadata:
        _check_fields(metadata["dataset"], name, "dataset", {
            "name": _text, "description": lambda v: isinstance(v, str),
            "n_features": _count, "n_classes": _count,
            "class_names": lambda v: isinstance(v, list) and all(_text(c) for c in v),
            "image_shape": lambda v: v is None or (isinstance(v, list) and len(v) == 2
                                                   and all(_count(d) for d in v))})
    if metadata.get("preset") is not None and not _text(metadata["preset"]):
        raise ModelFileError(f"{name}: the metadata's preset is not a name.")
    history = metadata.get("history", {})
    if not (isinstance(history, dict) and all(
            v is None or isinstance(v, str) or (isinstance(v, list) and all(
                v_ is None or isinstance(v_, (int, float)) for v_ in v))
            for v in history.values())):
        raise ModelFileError(f"{name}: the metadata's history is not a record of numbers "
                             "per epoch.")
    if "spec" in metadata:
        try:
            RunSpec.from_dict(metadata["spec"])
        except (ValueError, TypeError) as exc:
            raise ModelFileError(f"{name}: the run recorded in the metadata is not a valid "
                                 f"run spec ({exc}).") from None
    return metadata


def _text(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT and value.isprintable()


def _count(value) -> bool:
    return is_whole(value) and value >= 1


def _check_fields(value, name, entry, checks) -> None:
    if not isinstance(value, dict):
        raise ModelFileError(f"{name}: the metadata's {entry} entry is not a JSON object.")
    for key, ok in checks.items():
        if key in value and not ok(value[key]):
            raise ModelFileError(f"{name}: the metadata's {entry} {key} is "
                                 f"{shown(value[key])}, not what a model file records.")
