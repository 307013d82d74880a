"""Every data set by name: what it is, which parameters it takes, and ``load_dataset``.

``DATASETS`` describes each data set and each of its parameters with a default and an
allowed range, so a user interface can build its widgets from it, read a link's values
into it, and clamp values kept from an earlier rerun (``ParamSpec.clamp``). ``load_dataset`` checks its arguments against the
same table, so the limits live in one place. The ranges are sized for a hosted demo:
enough to learn from, small enough that nobody can ask the server for a million points.

Parameters (a data set takes only those listed for it in ``DATASETS``):

- ``val_fraction``, ``test_fraction`` — shares of the whole set held out (see
  ``train_val_test_split``). MNIST keeps its standard test set, so it has no test_fraction.
- ``seed`` — the same seed gives the same points and the same splits.
- ``n_samples``, ``noise`` — size and spread of a generated 2-D set.
- ``limit`` — MNIST only: a smaller seeded subset for quick runs (see ``mnist_dataset``).
- ``points`` — your own points only: the points themselves, as text (see ``points.py``).
  It is not in ``params`` (which are numbers, with ranges): ``load_dataset`` takes it apart.

Two sets reproduce a seed tutorial exactly and so have defaults of their own:

- ``clusters`` is seed 002's data. Its points are always the published ones; ``seed`` only
  chooses the split. With the defaults (seed 12, test_fraction 0.1, val_fraction 0) the
  test set is exactly the tutorial's ``train_test_split(X, y, test_size=.1,
  random_state=12)`` — 13,500 training and 1,500 test points, the split its 96.4 % was
  measured on. (That is why this split is not stratified: the tutorial's was not.)
- ``xor`` without ``n_samples`` is seed 001's four points; see ``_xor_points``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from typing import Callable, NamedTuple

import numpy as np

from . import points as drawn
from . import toy2d
from .dataset import DataUnavailable, Dataset
from .mnist import KINDS as MNIST_KINDS
from .mnist import IMAGE_SHAPE as MNIST_IMAGE_SHAPE
from .mnist import N_PIXELS, mnist_dataset
from .splits import train_val_test_split


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a data set: its default, the allowed range and its type.

    A default of None means "off unless given" (``limit``: use all of MNIST; ``n_samples``
    for xor: the four exact points).
    """

    default: int | float | None
    min: int | float
    max: int | float
    type: type  # int or float
    help: str = ""
    words: str = "{}"  # how a value reads in a summary line: "{:,} points" → "1,000 points"
    none: str = ""     # what 0 or None reads as, where it means "none": "no validation split"

    def check(self, name, value, dataset=""):
        """Return ``value`` if it is allowed, else raise ValueError saying what is."""
        if value is None and self.default is None:
            return None
        if self.type is int:
            ok_type = isinstance(value, numbers.Integral) and not isinstance(value, bool)
            kind = "an integer"
        else:
            ok_type = (isinstance(value, numbers.Real) and not isinstance(value, bool)
                       and math.isfinite(value))
            kind = "a number"
        if not ok_type or not self.min <= value <= self.max:
            where = f" for {dataset!r}" if dataset else ""
            optional = " (or None)" if self.default is None else ""
            raise ValueError(
                f"{name}{where} must be {kind} from {self.min} to {self.max}{optional}; got {value!r}."
            )
        return self.type(value)

    def say(self, value) -> str:
        """``value`` in words, as a one-line summary of a setup says it."""
        return self.none if not value and self.none else self.words.format(value)

    def clamp(self, value):
        """Turn an untrusted value — a URL query parameter, say, possibly a string — into an
        allowed one: parse it, then pull it into [min, max]. Unparseable gives the default."""
        if value is None or value == "":
            return self.default
        try:
            number = float(value)
            if not math.isfinite(number):
                return self.default
            number = min(max(number, self.min), self.max)
            return int(number) if self.type is int else float(number)
        except (TypeError, ValueError):
            return self.default


@dataclass(frozen=True)
class DatasetInfo:
    """What the app needs to offer a data set: a title, a sentence, and its parameters."""

    name: str
    title: str
    kind: str  # "image" or "2d"
    description: str
    params: dict  # parameter name -> ParamSpec

    def defaults(self) -> dict:
        return {key: spec.default for key, spec in self.params.items()}


_SEED = ParamSpec(0, 0, 2**31 - 1, int, "The same seed gives the same data and the same splits.",
                  "seed {}")
_VAL = ParamSpec(0.1, 0.0, 0.5, float, "Share of the data held out to watch while training.",
                 "{:.0%} for validation", "no validation split")
_TEST = ParamSpec(0.2, 0.05, 0.5, float, "Share of the data kept for the final test.",
                  "{:.0%} for testing")
_N = ParamSpec(1000, 50, 20_000, int, "Number of points.", "{:,} points")
_NOISE = ParamSpec(0.2, 0.0, 1.0, float, "Standard deviation of the Gaussian noise.", "noise {:g}")
_LIMIT = ParamSpec(None, 100, 70_000, int,
                   "Use a random subset of this many training images (None: all 60,000).",
                   "{:,} training images", "all training images")


def _generated_params(n_samples, noise):
    return {"n_samples": replace(_N, default=n_samples), "noise": replace(_NOISE, default=noise),
            "val_fraction": _VAL, "test_fraction": _TEST, "seed": _SEED}


_MNIST_PARAMS = {"val_fraction": _VAL, "seed": _SEED, "limit": _LIMIT}

DATASETS = {
    info.name: info
    for info in (
        DatasetInfo("mnist", "MNIST", "image",
                    "70,000 handwritten digits 0–9 of 28×28 pixels, with the standard "
                    "60,000 / 10,000 train/test split.", dict(_MNIST_PARAMS)),
        DatasetInfo("fashion-mnist", "Fashion-MNIST", "image",
                    "70,000 Zalando clothing images of 28×28 pixels in 10 classes, with the "
                    "standard 60,000 / 10,000 train/test split.", dict(_MNIST_PARAMS)),
        DatasetInfo("digits", "8×8 digits", "image",
                    "1,797 handwritten digits of 8×8 pixels that ship with scikit-learn: "
                    "no download needed.", {"val_fraction": _VAL, "test_fraction": _TEST, "seed": _SEED}),
        DatasetInfo("moons", "Two moons", "2d",
                    "Two interleaving half circles (scikit-learn's `make_moons`, as in seed 003).",
                    _generated_params(1000, 0.2)),
        DatasetInfo("circles", "Circles", "2d",
                    "A small circle inside a large one (scikit-learn's `make_circles`).",
                    _generated_params(1000, 0.1)),
        DatasetInfo("xor", "XOR", "2d",
                    "Exclusive or: seed 001's four points, or a noisy cloud around them when "
                    "`n_samples` is set.",
                    {**_generated_params(None, 0.2),
                     "n_samples": replace(_N, default=None, none="seed 001's four points",
                                          help="None: the four exact points; a number: a noisy cloud.")}),
        DatasetInfo("spiral", "Spiral", "2d", "Three intertwined spiral arms (CS231n).",
                    {**_generated_params(300, 0.2),
                     "noise": replace(_NOISE, help="Standard deviation of the angle jitter, in radians.")}),
        DatasetInfo("clusters", "Three clusters", "2d",
                    "Seed 002's three Gaussian clusters of 5,000 points each, with its published split.",
                    {"val_fraction": replace(_VAL, default=0.0), "test_fraction": replace(_TEST, default=0.1),
                     "seed": replace(_SEED, default=12,
                                     help="Chooses the split (the points are always the published ones); "
                                          "12 gives the published split.")}),
        DatasetInfo(drawn.NAME, "Your own points", "2d",
                    "Points you place yourself on the plane, in up to "
                    f"{drawn.MAX_CLASSES} classes: click to add, drag a box to erase.",
                    {"val_fraction": replace(_VAL, default=0.0), "test_fraction": _TEST,
                     "seed": replace(_SEED, help="Chooses the split (the points are yours).")}),
    )
}


def dataset_info(name) -> DatasetInfo:
    """The ``DatasetInfo`` for ``name``, or a ValueError listing the known names."""
    if name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(map(repr, DATASETS))}; got {name!r}.")
    return DATASETS[name]


DIGITS_IMAGE_SHAPE = (8, 8)      # scikit-learn's bundled digits


def known_shape(name, points: str | None = None) -> tuple[int, int] | None:
    """(features, classes) that loading the data set ``name`` gives, known without loading
    it (so a summary can size a network before the data is there): for your own points,
    from their text (``points``); None for other names, and for points not yet there."""
    if name == drawn.NAME:
        try:
            return 2, int(drawn.decode(points or "")[1].max()) + 1
        except ValueError:      # no points yet (max of nothing), or a text that is not points
            return None
    if name in MNIST_KINDS:
        return N_PIXELS, len(MNIST_KINDS[name].class_names)
    if name in _GENERATORS:
        return 2, len(_GENERATORS[name].class_names)
    digits = DIGITS_IMAGE_SHAPE[0] * DIGITS_IMAGE_SHAPE[1]
    return {"digits": (digits, 10), "clusters": (2, 3)}.get(name)


def known_image_shape(name) -> tuple[int, int] | None:
    """(height, width) of the images of the data set ``name``, which conv layers read,
    known without loading it; None for 2-D points and other names."""
    if name in MNIST_KINDS:
        return MNIST_IMAGE_SHAPE
    return {"digits": DIGITS_IMAGE_SHAPE}.get(name)


def load_dataset(name, *, val_fraction=None, test_fraction=None, seed=None, limit=None,
                 n_samples=None, noise=None, points=None, data_dir=None, allow_download=True,
                 allow_fallback=True, progress=None) -> Dataset:
    """Load the data set called ``name`` (a key of ``DATASETS``) as a split ``Dataset``.

    A parameter left at None takes the data set's default from ``DATASETS``; giving one the
    data set does not take (``noise`` for MNIST, say) is a ValueError, as is a value out of
    range. ``data_dir``, ``allow_download``, ``allow_fallback`` and ``progress`` are about
    finding MNIST and Fashion-MNIST (see ``load_mnist``); the other sets need no files.

    When MNIST or Fashion-MNIST cannot be loaded, ``allow_fallback=True`` returns the bundled
    8×8 digits instead — with ``fallback_reason`` set and a description saying so, never
    silently — keeping the requested ``val_fraction`` and ``seed`` (``limit`` does not apply:
    there are only 1,797 digits). ``allow_fallback=False`` raises ``DataUnavailable``.

    ``points`` is the text of your own points (``name="points"`` only); too few to train
    on is a ValueError (``points.PointsError``) saying what to add.
    """
    info = dataset_info(name)
    p = _resolve(info, {"val_fraction": val_fraction, "test_fraction": test_fraction, "seed": seed,
                        "limit": limit, "n_samples": n_samples, "noise": noise})
    if name == drawn.NAME:
        return _drawn(p, points or "")
    if points is not None:
        raise ValueError(f"points does not apply to {name!r}: only to your own points ('points').")
    if name in MNIST_KINDS:
        try:
            return mnist_dataset(name, val_fraction=p["val_fraction"], seed=p["seed"], limit=p["limit"],
                                 data_dir=data_dir, allow_download=allow_download, progress=progress)
        except DataUnavailable as e:
            if not allow_fallback:
                raise
            fallback = _resolve(DATASETS["digits"], {"val_fraction": p["val_fraction"], "seed": p["seed"]})
            return _digits(fallback, fallback_reason=str(e))
    if name == "digits":
        return _digits(p)
    if name == "xor" and p["n_samples"] is None:
        return _xor_points()
    if name == "clusters":
        X, y = toy2d.make_seed002_clusters()
        published = p["seed"] == 12 and p["test_fraction"] == 0.1
        description = (
            f"Seed 002's three Gaussian clusters: {len(X):,} points (5,000 per cluster, drawn "
            f"exactly as published with NumPy seed 12), split with test_fraction "
            f"{p['test_fraction']} and seed {p['seed']}"
            + (" — the tutorial's own 13,500 / 1,500 split" if published else "")
        )
        return _split_into_dataset(name, description, X, y, p, ("cluster 0", "cluster 1", "cluster 2"),
                                   stratify=False)
    gen = _GENERATORS[name]
    X, y = gen.make(p["n_samples"], p["noise"], p["seed"])
    description = gen.sentence.format(n=p["n_samples"], noise=p["noise"], seed=p["seed"])
    return _split_into_dataset(name, description, X, y, p, gen.class_names)


def _resolve(info, given):
    """Fill in defaults and check every value; refuse parameters the data set does not take."""
    for key, value in given.items():
        if value is not None and key not in info.params:
            takes = ", ".join(info.params) or "no parameters"
            raise ValueError(
                f"{key} does not apply to {info.name!r} (it takes {takes}); got {key}={value!r}."
            )
    return {
        key: spec.check(key, spec.default if given.get(key) is None else given[key], info.name)
        for key, spec in info.params.items()
    }


class _Generator(NamedTuple):
    make: Callable  # (n_samples, noise, seed) -> X, y
    class_names: tuple
    sentence: str  # description template


_GENERATORS = {
    "moons": _Generator(toy2d.make_moons, ("upper moon", "lower moon"),
                        "scikit-learn's `make_moons`: {n:,} points on two interleaving half circles "
                        "(noise {noise}, seed {seed})"),
    "circles": _Generator(toy2d.make_circles, ("outer circle", "inner circle"),
                          "scikit-learn's `make_circles`: {n:,} points on a circle inside a circle "
                          "(radius ratio 0.5, noise {noise}, seed {seed})"),
    "xor": _Generator(toy2d.make_xor, ("0", "1"),
                      "A noisy XOR cloud: {n:,} points around the corners of the unit square, "
                      "label 1 where exactly one coordinate is 1 (noise {noise}, seed {seed})"),
    "spiral": _Generator(toy2d.make_spiral, ("arm 0", "arm 1", "arm 2"),
                         "The CS231n three-arm spiral: {n:,} points "
                         "(angle noise {noise} rad, seed {seed})"),
}


def _split_into_dataset(name, description, X, y, p, class_names, *, stratify=True, image_shape=None,
                        source="generated", fallback_reason=None):
    X_train, y_train, X_val, y_val, X_test, y_test = train_val_test_split(
        X, y, val_fraction=p["val_fraction"], test_fraction=p["test_fraction"], seed=p["seed"],
        stratify=stratify,
    )
    return Dataset(
        name=name, description=description if description.endswith(".") else description + ".",
        source=source,
        X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val, X_test=X_test, y_test=y_test,
        n_classes=len(class_names), class_names=tuple(class_names), image_shape=image_shape,
        fallback_reason=fallback_reason,
    )


def _digits(p, fallback_reason=None):
    from sklearn.datasets import load_digits   # here: scikit-learn is slow to import

    digits = load_digits()
    # The pixels are ink counts 0..16 (each 8×8 pixel summed a 4×4 block of a 32×32
    # bitmap), so /16 maps them to [0, 1] like MNIST's /255.
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    description = f"scikit-learn's bundled 8×8 digits ({len(X):,} images)"
    if fallback_reason:
        description += (f" — a fallback, used because the requested data could not be loaded: "
                        f"{fallback_reason}")
    return _split_into_dataset("digits", description, X, y, p, tuple(str(d) for d in range(10)),
                               image_shape=DIGITS_IMAGE_SHAPE, source="bundled",
                               fallback_reason=fallback_reason)


def _drawn(p, text):
    """Your own points (their text: ``points.decode``), split as the generated sets are."""
    X, y = drawn.decode(text)
    drawn.check_trainable(y)
    k = int(y.max()) + 1
    description = (f"Your own points: {len(y):,} placed on the plane, in {k} classes "
                   f"({', '.join(f'{c:,} of class {i}' for i, c in enumerate(np.bincount(y)))})")
    return _split_into_dataset(drawn.NAME, description, X.astype(np.float32), y, p,
                               drawn.class_names(k), source="drawn")


def _xor_points():
    """Seed 001's XOR: four points, learned by heart.

    Train and test are the same four points and validation is empty, on purpose: XOR is
    the smallest problem a straight line cannot solve, and the question it asks is "can
    this network fit these four points at all?", not "does it generalise?". Holding a
    point out would leave a training set that no longer defines XOR.
    """
    X, y = toy2d.make_xor()
    return Dataset(
        name="xor",
        description="Seed 001's four XOR points (0,0), (0,1), (1,0), (1,1) with labels 0, 1, 1, 0; "
                    "train and test are the same four points and validation is empty, since the "
                    "task is to fit them.",
        source="generated",
        X_train=X, y_train=y, X_val=X[:0], y_val=y[:0], X_test=X.copy(), y_test=y.copy(),
        n_classes=2, class_names=("0", "1"), image_shape=None,
    )
