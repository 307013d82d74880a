"""A tiny training job for the tests of the trainers, the scheduler and shared data: four
features, two classes (the sign of x₀·x₁), and a 4-16-2 network that learns it."""

import threading
import time

import numpy as np

from nncore import Dense, Network

TIMEOUT = 20          # seconds: these runs take a fraction of one


def xor_signs(n: int = 256):
    """(X, y): n rows of four normal features, y = 1 where x₀ and x₁ have the same sign."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def small_network() -> Network:
    return Network([Dense(4, 16, "relu"), Dense(16, 2, "softmax")],
                   optimizer={"name": "adam", "lr": 0.01}, seed=1)


def wait_until(predicate, timeout: float = TIMEOUT) -> bool:
    """True as soon as ``predicate()`` is, False if it is not within ``timeout`` seconds
    (polled every 10 ms: a deadline, not a sleep that hopes something happened)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.01)
    return True
