"""Where the real MNIST is, for the tests that need it."""

import os

import pytest


def mnist_dir():
    """The folder of the real MNIST IDX files, or skip the test with the reason."""
    path = os.environ.get("NNCORE_MNIST_DIR")
    if not path:
        pytest.skip("NNCORE_MNIST_DIR is not set: this test needs the four real MNIST IDX files")
    return path
