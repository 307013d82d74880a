"""Finite differences, the independent answer every gradient test compares against.

Written here, not imported from the engine: the engine's own gradient check
(``nncore.stepping.gradcheck``, which the Training page runs) is code under test like the
rest, and tests/engine/test_stepping_views.py checks it against this.
"""

import numpy as np


def numeric_gradient(f, x, eps=1e-6):
    """∂f/∂x by central differences, (f(x + ε) − f(x − ε)) / 2ε for every entry of x.

    ``f`` takes no argument and reads ``x``, which is changed in place and restored.
    In float64 the error is about ε² + 1e-16/ε ≈ 1e-10.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f()
        x[idx] = old - eps
        down = f()
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad
