"""``streamlit run app.py`` in a subprocess, for the real-browser tests.

    with app_server(tmp_path, NNCORE_SLOTS="1") as url:
        page.goto(url)

The server runs offline (no downloads) with a data cache of its own, on a free port of
the loopback interface, with the environment variables given added to this one's; it is
stopped (and, if it hangs, killed) when the block ends. Its log is a file in the folder
given, named in the error when it does not start.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60
# Debian's Chromium (Playwright cannot download its own here), and how it is launched
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(folder: Path, **env_overrides: str):
    folder = Path(folder)
    port = free_port()
    env = dict(os.environ, NNCORE_OFFLINE="1", NNCORE_CACHE_DIR=str(folder / "cache"),
               **env_overrides)
    log_path = folder / "streamlit.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start (see {log_path})")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
