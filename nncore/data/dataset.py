"""What a loaded data set looks like: the ``Dataset`` record and the ``DataUnavailable`` error.

Every loader in this package ends by building one ``Dataset``, so the rest of the
project (training, plots, the app) meets a single shape whatever the source:

- ``X_*`` are float32 matrices of shape (n, n_features): one row per example. Images are
  flattened row-major (pixel (r, c) of a 28×28 image is column 28·r + c) and scaled to [0, 1].
- ``y_*`` are int64 class indices 0 … n_classes − 1 (not one-hot: see ``one_hot``).
- The three splits play different roles: the network learns from *train*, we watch *val*
  while choosing settings, and *test* is looked at once, at the end, to report a number
  nobody tuned for. A split may be empty (0 rows) when a data set has no use for it.

``description`` and ``fallback_reason`` exist so the data is never swapped silently: when
MNIST cannot be loaded and the bundled 8×8 digits are used instead, both say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class DataUnavailable(RuntimeError):
    """A data set could not be loaded from any source.

    The message is written for people, not for logs: it says what was tried and how to
    fix it, so a user interface can show it as it is.
    """


# eq=False: the fields hold NumPy arrays, whose ``==`` is element-wise, so the generated
# __eq__ would fail with "truth value of an array is ambiguous". Identity is what we want.
@dataclass(frozen=True, eq=False)
class Dataset:
    """One data set, already split into train / validation / test.

    Construction checks the promises listed in the module docstring (dtypes, shapes,
    label range), so a mistake in a loader fails here, loudly, and not three modules later
    as a strange training curve.
    """

    name: str
    description: str
    source: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    class_names: tuple[str, ...]
    image_shape: tuple[int, int] | None
    fallback_reason: str | None = None

    def __post_init__(self):
        n_features = self.X_train.shape[1] if self.X_train.ndim == 2 else None
        for split in ("train", "val", "test"):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if X.dtype != np.float32 or X.ndim != 2:
                raise ValueError(f"X_{split} must be a 2-D float32 array; got {X.ndim}-D {X.dtype}.")
            if X.shape[1] != n_features:
                raise ValueError(
                    f"X_{split} has {X.shape[1]} features but X_train has {n_features}."
                )
            if y.dtype != np.int64 or y.shape != (X.shape[0],):
                raise ValueError(
                    f"y_{split} must be a 1-D int64 array with one label per row of X_{split} "
                    f"({X.shape[0]}); got shape {y.shape} and dtype {y.dtype}."
                )
            if y.size and (y.min() < 0 or y.max() >= self.n_classes):
                raise ValueError(
                    f"y_{split} holds labels {y.min()}..{y.max()}, outside 0..{self.n_classes - 1}."
                )
        if len(self.class_names) != self.n_classes:
            raise ValueError(
                f"class_names has {len(self.class_names)} names for {self.n_classes} classes."
            )
        if self.image_shape is not None and int(np.prod(self.image_shape)) != n_features:
            raise ValueError(
                f"image_shape {self.image_shape} does not match {n_features} features per row."
            )

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.X_val.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.X_test.shape[0])

    @property
    def is_image(self) -> bool:
        return self.image_shape is not None

    def __repr__(self):
        # The default repr would print six arrays; a one-line summary is what one wants
        # to see in a notebook or a log.
        fallback = f", fallback_reason={self.fallback_reason!r}" if self.fallback_reason else ""
        return (
            f"Dataset(name={self.name!r}, source={self.source!r}, n_train={self.n_train}, "
            f"n_val={self.n_val}, n_test={self.n_test}, n_features={self.n_features}, "
            f"n_classes={self.n_classes}{fallback})"
        )
