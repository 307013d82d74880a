"""Shared test settings: no test may reach the network, and caches go to a temporary folder."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    """Tests run as on a fresh machine with no network: downloads are off and the data
    cache is a fresh temporary folder (NNCORE_MNIST_DIR, when CI sets it, stays)."""
    monkeypatch.setenv("NNCORE_OFFLINE", "1")
    monkeypatch.setenv("NNCORE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "nncore-cache"))


def mnist_dir():
    """The folder of the real MNIST IDX files, or skip the test with the reason."""
    path = os.environ.get("NNCORE_MNIST_DIR")
    if not path:
        pytest.skip("NNCORE_MNIST_DIR is not set: this test needs the four real MNIST IDX files")
    return path
