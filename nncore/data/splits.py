"""Small array chores every data set needs: splitting, one-hot labels, pixel scaling."""

from __future__ import annotations

import numbers

import numpy as np


def train_val_test_split(X, y, *, val_fraction, test_fraction, seed, stratify=True):
    """Shuffle and cut (X, y) into train, validation and test parts.

    Both fractions are fractions of the *whole* data set: ``val_fraction=0.1,
    test_fraction=0.2`` gives 70 % / 10 % / 20 %. A fraction of 0 gives an empty part.

    The test part is cut first, as scikit-learn's ``train_test_split(random_state=seed)``
    cuts it (``shuffled_split`` and ``stratified_split`` below draw the same random numbers
    in the same order), so with ``stratify=False`` it is exactly the split a tutorial
    calling ``train_test_split(X, y, test_size=test_fraction, random_state=seed)`` made. The
    validation part is then cut from what is left, with the same seed.

    ``stratify=True`` keeps each class's share the same in every part, which matters for
    small sets (a 20-point test set could otherwise miss a class). It needs every class to
    have at least two members and every part to be able to hold one of each; when that is
    not so (tiny sets) the cut is a plain shuffle.

    Returns six arrays in pairs: ``X_train, y_train, X_val, y_val, X_test, y_test``.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"X and y must hold one row and one label per example; got X of shape {X.shape} "
            f"and y of shape {y.shape}."
        )
    _check_fraction("val_fraction", val_fraction)
    _check_fraction("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must be below 1 so that some training data is "
            f"left; got {val_fraction} + {test_fraction}."
        )
    check_seed(seed)
    n = len(X)
    n_test, n_val = _part_size(test_fraction, n), _part_size(val_fraction, n)
    if n - n_test - n_val < 1:
        raise ValueError(
            f"{n} examples are too few for val_fraction={val_fraction} and "
            f"test_fraction={test_fraction}: no training example would be left."
        )
    X_rest, y_rest, X_test, y_test = _split_off(X, y, n_test, seed, stratify)
    X_train, y_train, X_val, y_val = _split_off(X_rest, y_rest, n_val, seed, stratify)
    return X_train, y_train, X_val, y_val, X_test, y_test


def _part_size(fraction, n):
    # Rounded, not truncated, so 0.1 of 15,000 is 1,500 even when the float product is
    # 1499.9999…; and a non-zero fraction always gets at least one example.
    return 0 if fraction == 0 else max(1, int(round(fraction * n)))


def _split_off(X, y, n_part, seed, stratify):
    """Return (X_rest, y_rest, X_part, y_part) with ``n_part`` examples in the part."""
    if n_part == 0:
        return X, y, X[:0], y[:0]
    classes, counts = np.unique(y, return_counts=True)
    can_stratify = counts.min() >= 2 and min(n_part, len(y) - n_part) >= len(classes)
    if stratify and can_stratify:
        rest, part = stratified_split(y, n_part, seed)
    else:
        rest, part = shuffled_split(len(y), n_part, seed)
    return X[rest], y[rest], X[part], y[part]


# scikit-learn's train_test_split, written out. It is here, rather than imported, because
# importing scikit-learn (with SciPy and pandas) takes several times longer than a whole
# command-line run of a small preset. Each function draws the same random numbers in the
# same order as scikit-learn's ShuffleSplit / StratifiedShuffleSplit, so every split (and
# every published figure measured on one) stays as it was; tests/engine/test_data.py
# compares them with scikit-learn's on many sizes and seeds.


def shuffled_split(n, n_part, seed):
    """(rest, part) row indices: the first ``n_part`` of a seeded permutation of 0 … n−1
    are the part, the others the rest (scikit-learn's ``ShuffleSplit``)."""
    order = np.random.RandomState(seed).permutation(n)
    return order[n_part:], order[:n_part]


def stratified_split(y, n_part, seed):
    """(rest, part) row indices, each class split in proportion to its size
    (scikit-learn's ``StratifiedShuffleSplit``).

    How many rows of each class go to each side is the most likely draw of n_part rows
    without replacement (``_class_shares``); then each class's rows are shuffled and cut,
    and finally each side is shuffled so that the classes are mixed.
    """
    _, y_class, counts = np.unique(y, return_inverse=True, return_counts=True)
    rows_of_class = np.split(np.argsort(y_class, kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    n_rest = _class_shares(counts, len(y) - n_part, rng)
    n_in_part = _class_shares(counts - n_rest, n_part, rng)
    rest, part = [], []
    for rows, r, p in zip(rows_of_class, n_rest, n_in_part):
        rows = rows[rng.permutation(len(rows))]
        rest.append(rows[:r])
        part.append(rows[r:r + p])
    return rng.permutation(np.concatenate(rest)), rng.permutation(np.concatenate(part))


def _class_shares(counts, n_draws, rng):
    """How many of ``n_draws`` rows each class gets: its proportional share rounded down,
    then one more for the classes with the largest remainders (ties broken at random)
    until the shares add up to ``n_draws``."""
    share = counts / counts.sum() * n_draws
    taken = np.floor(share)
    missing = int(n_draws - taken.sum())
    remainder = share - taken
    for value in np.sort(np.unique(remainder))[::-1]:
        if missing <= 0:
            break
        (tied,) = np.where(remainder == value)
        add = min(len(tied), missing)
        taken[rng.choice(tied, size=add, replace=False)] += 1
        missing -= add
    return taken.astype(int)


def _check_fraction(name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1); got {value!r}.")


def check_seed(seed):
    """Raise ValueError unless ``seed`` is an integer NumPy and scikit-learn accept."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32); got {seed!r}.")


def one_hot(y, n_classes) -> np.ndarray:
    """Turn class indices into one-hot rows: ``one_hot([2, 0], 3) -> [[0, 0, 1], [1, 0, 0]]``.

    A network with one output unit per class is trained against these rows. Labels must
    be whole numbers in 0 … n_classes − 1 (floats such as 2.0 are accepted, 2.5 is not).
    Returns a float32 array of shape (n, n_classes).
    """
    if not isinstance(n_classes, numbers.Integral) or isinstance(n_classes, bool) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer; got {n_classes!r}.")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of class indices; got shape {y.shape}.")
    if y.dtype == bool or not np.issubdtype(y.dtype, np.number):
        raise ValueError(f"y must hold integer class indices; got dtype {y.dtype}.")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        whole = np.isfinite(y) & (y == np.round(y))
        if not whole.all():
            raise ValueError(
                f"y must hold whole-number class indices; got {y[~whole][0].item()!r} "
                f"(at position {int(np.argmax(~whole))})."
            )
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0].item()
        raise ValueError(
            f"label {bad!r} is out of range for n_classes={n_classes}: labels must be in "
            f"0..{n_classes - 1}."
        )
    out = np.zeros((y.size, n_classes), dtype=np.float32)
    out[np.arange(y.size), y.astype(np.int64)] = 1.0
    return out


def scale_images(X_uint8, out=None) -> np.ndarray:
    """Map uint8 pixels 0 … 255 to float32 0 … 1 (same shape), into ``out`` if given.

    Networks train badly on inputs in the hundreds: the first layer's pre-activations
    become huge and sigmoids saturate. Dividing by 255 keeps every pixel in [0, 1] and
    keeps black at exactly 0 — unlike a min-max scaler fitted per data set (seed 000),
    which gives train and test slightly different scales.
    """
    X = np.asarray(X_uint8)
    if X.dtype != np.uint8:
        raise ValueError(
            f"scale_images expects uint8 pixels (0..255); got dtype {X.dtype}. "
            f"Data that is already float is probably scaled already."
        )
    # uint8 ÷ float32 divides in float32: the same numbers as X.astype(float32) / 255,
    # without the float32 temporary.
    return np.divide(X, np.float32(255.0), out=out, dtype=np.float32)
