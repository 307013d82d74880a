"""What the real-browser tests share: Debian's Chromium, and the app in a server of its own.

- pytest-playwright's ``browser`` and ``page`` fixtures launch /usr/bin/chromium (Playwright's
  own browser download does not work offline). Every test drives the browser through them:
  a second ``sync_playwright()`` in the same pytest run fails ("Sync API inside the asyncio
  loop") once pytest-playwright's has started.
- ``app_url``: ``streamlit run app.py`` for the module's tests (``support.server``), with the
  environment variables of the module's ``APP_ENV`` dict, if it has one.

Without /usr/bin/chromium these tests skip, saying so — unless NNCORE_REQUIRE_BROWSER=1 (CI),
where a missing browser is a failure.
"""

from __future__ import annotations

import os

import pytest
from support.server import CHROMIUM, CHROMIUM_ARGS, app_server


def require_browser() -> None:
    """Skip (or, under NNCORE_REQUIRE_BROWSER=1, fail) when Chromium is not installed."""
    if os.path.exists(CHROMIUM):
        return
    reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("NNCORE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"NNCORE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(f"real-browser test skipped: {reason}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at Debian's Chromium."""
    require_browser()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def app_url(request, tmp_path_factory):
    """The app's address, served until the module's tests are done."""
    require_browser()
    name = request.module.__name__.rpartition(".")[2]
    with app_server(tmp_path_factory.mktemp(name), **getattr(request.module, "APP_ENV", {})) as url:
        yield url
