"""Shared test settings: no test may reach the network, and caches go to a temporary folder.

The tests live in folders that say what they test: ``engine/`` (nncore: gradient checks and
independent oracles), ``app/`` (the pages, driven headless with Streamlit's AppTest) and
``browser/`` (the real app in Debian's Chromium, through Playwright). ``support/`` holds what
several of them share.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests"):   # the project, and tests/support
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    """Tests run as on a fresh machine with no network: downloads are off and the data
    cache is a fresh temporary folder (NNCORE_MNIST_DIR, when CI sets it, stays)."""
    monkeypatch.setenv("NNCORE_OFFLINE", "1")
    monkeypatch.setenv("NNCORE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "nncore-cache"))
