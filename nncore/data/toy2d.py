"""Two-dimensional toy data sets: small enough to train in a second, easy to draw.

With two input features a classifier's whole decision boundary can be painted on the
plane, which is what makes these sets good teachers. Each function returns raw
coordinates (float32, shape (n, 2)) and int64 labels; nothing is scaled.

Each generator takes its own seed and uses a local random generator, never NumPy's global
one, so calling it does not disturb anyone else's random numbers.
"""

from __future__ import annotations

import numpy as np


def make_moons(n_samples=1000, noise=0.2, seed=0):
    """Two interleaving half circles: scikit-learn's ``make_moons``, as seed 003 uses it.

    Label 0 is the upper moon, label 1 the lower one. Seed 003 calls
    ``make_moons(1000, noise=0.2)`` without a seed; we pass ``random_state=seed`` so a run
    can be repeated.
    """
    from sklearn.datasets import make_moons   # here: scikit-learn is slow to import

    X, y = make_moons(n_samples, noise=noise, random_state=seed)
    return X.astype(np.float32), y.astype(np.int64)


def make_circles(n_samples=1000, noise=0.1, seed=0):
    """A small circle inside a large one (radius ratio ``factor=0.5``): scikit-learn's
    ``make_circles``. Label 0 is the outer circle, label 1 the inner one.

    No straight line separates them, so a network without a hidden layer cannot do it.
    """
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples, noise=noise, factor=0.5, random_state=seed)
    return X.astype(np.float32), y.astype(np.int64)


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0], dtype=np.int64)


def make_xor(n_samples=None, noise=0.2, seed=0):
    """Exclusive or: the label is 1 when exactly one coordinate is 1.

    With ``n_samples=None`` these are exactly the four points seed 001 trains on,
    (0, 0), (0, 1), (1, 0), (1, 1) with targets 0, 1, 1, 0 (seed 001 stores them with an
    extra axis, shape (4, 1, 2); here they are plain rows), and ``noise`` and ``seed`` are
    not used.

    With ``n_samples`` given it is a noisy cloud for drawing boundaries: the points are
    shared out evenly over the four corners (so both classes are balanced) and each is
    moved by Gaussian noise of standard deviation ``noise``.
    """
    if n_samples is None:
        return XOR_X.copy(), XOR_Y.copy()
    rng = np.random.default_rng(seed)
    corner = np.arange(n_samples) % 4
    X = XOR_X[corner] + rng.normal(0.0, noise, size=(n_samples, 2))
    return X.astype(np.float32), XOR_Y[corner]


def make_spiral(n_samples=300, noise=0.2, seed=0):
    """The three-armed spiral of Stanford's CS231n notes ("Putting it together: a minimal
    neural network case study").

    Arm j holds points at radius r from 0 to 1 and angle t from 4j to 4(j + 1) radians;
    ``noise`` is the standard deviation of the Gaussian jitter added to the angle (0.2 in
    CS231n). The ``n_samples`` points are shared out over the three arms as evenly as
    possible (counts differ by at most one). Label j is arm j.
    """
    rng = np.random.default_rng(seed)
    counts = [n_samples // 3 + (j < n_samples % 3) for j in range(3)]
    X_parts, y_parts = [], []
    for j, n in enumerate(counts):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(4.0 * j, 4.0 * (j + 1), n) + rng.normal(0.0, noise, n)
        X_parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y_parts.append(np.full(n, j, dtype=np.int64))
    return np.vstack(X_parts).astype(np.float32), np.concatenate(y_parts)


def make_seed002_clusters(num_observations=5000):
    """Seed 002's three Gaussian clusters, bit for bit as published.

    The tutorial ran::

        np.random.seed(12)
        x1 = np.random.multivariate_normal([0, 0], [[2, .75], [.75, 2]], num_observations)
        x2 = np.random.multivariate_normal([1, 4], [[1, .75], [.75, 1]], num_observations)
        x3 = np.random.multivariate_normal([2, 8], [[0, .75], [.75, 0]], num_observations)

    We draw the same numbers from a local ``RandomState(12)`` (the generator behind
    ``np.random.seed``), so the global random state is left alone.

    Note the third covariance matrix, [[0, .75], [.75, 0]]: its eigenvalues are +0.75 and
    −0.75, so it is not positive semi-definite and is not a covariance of any real
    distribution. NumPy samples it anyway through its SVD (it warns but does not refuse).
    We reproduce the published sampling on purpose — the 96.4 % accuracy was measured on
    these points — and pass ``check_valid="ignore"`` so no warning is printed.

    Returns X, float32 of shape (3·num_observations, 2), and y, int64 labels 0, 1, 2 in
    blocks (the tutorial built y as floats with ``np.hstack``; the values are the same).
    """
    rng = np.random.RandomState(12)
    x1 = rng.multivariate_normal([0, 0], [[2, 0.75], [0.75, 2]], num_observations)
    x2 = rng.multivariate_normal([1, 4], [[1, 0.75], [0.75, 1]], num_observations)
    x3 = rng.multivariate_normal([2, 8], [[0, 0.75], [0.75, 0]], num_observations, check_valid="ignore")
    X = np.vstack((x1, x2, x3)).astype(np.float32)
    y = np.repeat(np.arange(3, dtype=np.int64), num_observations)
    return X, y
