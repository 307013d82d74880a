"""Finite differences, the independent answer every gradient test compares against.

The method lives in the engine (``nncore.stepping.gradcheck``), where the Training page's
gradient check uses it too: ``numeric_gradient(f, x)`` is (f(x + ε) − f(x − ε)) / 2ε for
every entry of x, computed from forward passes only — never from the backward code under
test. In float64 its error is about ε² + 1e-16/ε ≈ 1e-10.
"""

from nncore.stepping.gradcheck import numeric_gradient

__all__ = ["numeric_gradient"]
