"""How long the app takes to open on a fresh server, against a one-line Streamlit app
(issue 14, goal 2: at most 1.3 ×).

Run by hand (never by the tests), with Chromium and Playwright installed; no data needed:

    python benchmarks/cold_start.py [--rounds 10]

Each round starts, one after the other (the order alternating from round to round), a
``streamlit run`` server of a one-line app (``st.title("Hello")``) and of this app, and
times each from the moment its process starts to the first heading of its page on screen
in Chromium (a browser kept running, a fresh tab per start, opened as soon as the server
takes connections). Also split out: the server's own start (until it takes connections).
The figure is the median of this app's times over the one-line app's, with the range of
the round-by-round ratios, in two settings (as ``cli_start.py`` has them):

- **no bytecode** (``PYTHONDONTWRITEBYTECODE=1`` and no cache, as on this project's
  development machine): every start compiles the app's and nncore's sources again, where
  Streamlit's own come compiled from its installation;
- **cached bytecode** (how an installed app, or a hosted demo that has started once,
  runs): a private ``PYTHONPYCACHEPREFIX``, filled by a warm-up start.

It also lists the modules the first page run imports beyond what the one-line app's
does (heavy ones — scikit-learn, SciPy, pandas — should not be among them), from an
``AppTest`` run in a fresh interpreter each. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

from cli_start import bytecode_env  # noqa: E402
from page_throughput import CHROMIUM, free_port, load, streamlit_command  # noqa: E402

ONE_LINE = 'import streamlit as st\nst.title("Hello")\n'
HEAVY = ("sklearn", "scipy", "pandas", "pyarrow", "nbformat")
MODULES = """
import sys
from streamlit.testing.v1 import AppTest
before = set(sys.modules)
AppTest.from_file(sys.argv[1], default_timeout=120).run()
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def _ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.01)
    raise SystemExit("error: a server did not start within a minute")


def one_start(browser, script: Path, cwd: Path, env: dict) -> tuple[float, float]:
    """(seconds to the server taking connections, seconds to the first heading on screen),
    both from the process's start."""
    port = free_port()
    page = browser.new_page()       # the browser's tab is ready before the clock starts
    start = time.monotonic()
    server = subprocess.Popen(streamlit_command(port, script), cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _ready(port, start + 60)
        listening = time.monotonic() - start
        page.goto(f"http://127.0.0.1:{port}")
        page.locator("h1").first.wait_for(timeout=60_000)
        shown = time.monotonic() - start
    finally:
        page.close()
        server.terminate()
        server.wait(timeout=30)
    return listening, shown


def first_run_modules(script: Path, cwd: Path) -> set[str]:
    out = subprocess.run([sys.executable, "-c", MODULES, str(script)], cwd=cwd,
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def measure(browser, apps: dict, rounds: int, env: dict) -> dict:
    """Each app's (server, heading) seconds, ``rounds`` times, taking turns."""
    times = {name: [] for name in apps}
    for script, cwd in apps.values():             # warm-up: the OS's file cache, bytecode
        one_start(browser, script, cwd, env)
    names = list(apps)
    for r in range(1, rounds + 1):
        for name in names if r % 2 else names[::-1]:
            times[name].append(one_start(browser, *apps[name], env))
        line = "   ".join(f"{n}: server {t[-1][0]:.2f} s, heading {t[-1][1]:.2f} s"
                           for n, t in times.items())
        print(f"  round {r}: {line}  (load {load()})", flush=True)
    base = [t[1] for t in times["one-line app"]]
    ours = [t[1] for t in times["the lab"]]
    per_round = sorted(a / b for a, b in zip(ours, base))
    return {"seconds": times, "lab": statistics.median(ours), "one_line": statistics.median(base),
            "ratio": statistics.median(ours) / statistics.median(base),
            "ratio_range": [per_round[0], per_round[-1]],
            "servers": {n: statistics.median(t[0] for t in v) for n, v in times.items()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--app", type=Path, default=ROOT,
                   help="the app's folder (default: this checkout; another version to compare)")
    args = p.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"error: no Chromium at {CHROMIUM} (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="nncore-cold-"))
    (folder / "hello.py").write_text(ONE_LINE)
    apps = {"one-line app": (folder / "hello.py", folder),
            "the lab": (args.app.resolve() / "app.py", args.app.resolve())}
    print(f"{args.rounds} rounds each; load {load()}", flush=True)
    results = {}
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="nncore-pyc-") as cache:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu"])
        for label, where in (("no bytecode", None), ("cached bytecode", cache)):
            print(label, flush=True)
            results[label] = m = measure(browser, apps, args.rounds, bytecode_env(where))
            lo, hi = m["ratio_range"]
            print(f"{label}: first heading, the lab {m['lab']:.2f} s, the one-line app "
                  f"{m['one_line']:.2f} s (medians): {m['ratio']:.2f} × (rounds: {lo:.2f}–"
                  f"{hi:.2f}; goal ≤ 1.3 ×); server taking connections: "
                  + ", ".join(f"{n} {v:.2f} s" for n, v in m["servers"].items()), flush=True)
        browser.close()
    extra = first_run_modules(*apps["the lab"]) - first_run_modules(*apps["one-line app"])
    heavy = sorted({m.split(".")[0] for m in extra} & set(HEAVY))
    tops = sorted({m.split(".")[0] for m in extra})
    print(f"the first page run imports {len(extra)} modules more than the one-line app's, from "
          f"{len(tops)} packages ({', '.join(tops[:25])}{' …' if len(tops) > 25 else ''}); "
          f"heavy among them: {', '.join(heavy) or 'none'}")
    print(json.dumps({"rounds": args.rounds, **results, "extra_top_modules": tops,
                      "heavy_modules": heavy, "load_end": load()}))


if __name__ == "__main__":
    main()
