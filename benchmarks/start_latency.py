"""From "Start training" to the first progress on screen, in Chromium (issue 14, goal 0).

Run by hand (never by the tests), with Chromium and Playwright installed:

    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/start_latency.py [--rounds 5]

One ``streamlit run app.py`` server, started by this script, and one Chromium page. Each
round opens every preset's share link on the Training page in turn (the 2-D presets
``seed003-moons``, ``seed001-xor``, ``seed002-clusters`` and ``mnist-mlp``, its data
already loaded), waits a second, clicks Start and watches the page:

- **first progress**: from the click to the first time the progress line shows a batch
  done (``batch 3/422``, ``20 epochs done``, or the run finished);
- **finished on screen** (2-D presets, which train for a second or less): from the click
  to the page saying the run finished;
- **lag**: while a run goes on, how many refreshes of the progress line the replay's
  last frame ("Now: 899 of 5001 epochs done") is behind it (goal: at most one);
- the "missing ScriptRunContext" warnings the server logged, per Start.

Times are taken in the browser (``performance.now()`` at the click and when the page
changed, seen by a MutationObserver), so they hold what the learner sees. MNIST runs are
stopped once their first progress is seen. The first Start of the fresh server is
reported on its own (its training process server was started when the page opened).
The figure is each preset's median against its bound (1 s for the 2-D presets, 2 s for
MNIST), with the range over the rounds. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from page_throughput import CHROMIUM, free_port, load, start_server  # noqa: E402

PRESETS = {"seed003-moons": 1.0, "seed001-xor": 1.0, "seed002-clusters": 1.0,
           "mnist-mlp": 2.0}                      # preset → bound, seconds
WAIT = 120_000                                    # ms: a page on a busy machine

# Every change of the progress line or of the replay's title, with the browser's clock.
WATCH = """() => {
  window.__marks = []; window.__clicked = null;
  let last = null;
  const record = () => {
    const bar = document.querySelector('[data-testid="stProgress"]');
    const title = document.querySelector('.st-key-training_replay_chart .gtitle');
    const done = document.querySelector('[data-testid="stAlertContentSuccess"]');
    const now = [bar ? bar.innerText : null, title ? title.textContent : null,
                 done ? done.innerText : null];
    const key = JSON.stringify(now);
    if (key !== last) { last = key; window.__marks.push([performance.now(), ...now]); }
  };
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true,
                                                       characterData: true});
  document.addEventListener('click', () => { window.__clicked ??= performance.now(); }, true);
}"""

UNDER_WAY = re.compile(r"batch ([1-9]\d*)/|\b([1-9]\d*) epochs done|epochs done · ")
EPOCHS_DONE = re.compile(r"(\d+)(?:/\d+)? epochs done")
TITLE_EPOCH = re.compile(r"^(?:Now: (\d+) of|Epoch (\d+) of|Before training)")


def _url(port: int, preset: str) -> str:
    from lab.links import query_string, spec_to_params
    from nncore.runs.presets import get_preset

    spec = get_preset(preset).run_spec()
    return f"http://127.0.0.1:{port}/training?{query_string(spec_to_params(spec))}"


def _lag(marks) -> int:
    """How many progress-line refreshes the replay's epoch was behind, at worst."""
    progress_epochs, worst = [], 0
    for _, bar, title, _ in marks:
        done = EPOCHS_DONE.search(bar or "")
        if done is None:
            continue
        if not progress_epochs or progress_epochs[-1] != int(done.group(1)):
            progress_epochs.append(int(done.group(1)))
        shown = TITLE_EPOCH.match(title or "")
        if shown is None:
            continue
        epoch = int(shown.group(1) or shown.group(2) or 0)
        behind = sum(1 for e in progress_epochs if e > epoch)   # refreshes it missed
        worst = max(worst, behind)
    return worst


def one_start(page, url: str, preset: str) -> dict:
    from playwright.sync_api import expect

    page.goto(url)
    start = page.get_by_role("button", name="Start training")
    start.wait_for(timeout=WAIT)
    expect(page.get_by_text("No run yet")).to_be_visible(timeout=WAIT)
    time.sleep(1.0)                                   # the page at rest
    page.evaluate(WATCH)
    start.click()
    mnist = preset.startswith("mnist")
    end = time.monotonic() + 120
    first = finished = None
    while time.monotonic() < end:
        clicked, marks = page.evaluate("() => [window.__clicked, window.__marks]")
        if clicked is not None:
            for t, bar, _, done in marks:
                if first is None and (UNDER_WAY.search(bar or "") or done):
                    first = (t - clicked) / 1000
                if finished is None and done and "Finished" in done:
                    finished = (t - clicked) / 1000
        if first is not None and (mnist or finished is not None):
            break
        time.sleep(0.05)
    if mnist:
        if first is not None:
            time.sleep(5)                             # a few refreshes, for the lag
        ended = page.get_by_text(re.compile(r"The run was stopped|Finished \d+ epoch"))
        for _ in range(3):                            # a click may land mid-rerun: again
            page.get_by_role("button", name="Stop").click()
            try:
                expect(ended).to_be_visible(timeout=20_000)
                break
            except AssertionError:
                continue
    marks = page.evaluate("() => window.__marks")
    return {"first_progress": first, "finished": finished, "lag_refreshes": _lag(marks)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--presets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    p.add_argument("--data-dir", help="MNIST's four IDX .gz files (default: $NNCORE_MNIST_DIR)")
    p.add_argument("--app", type=Path, default=ROOT,
                   help="the app's folder (default: this checkout; another version of it, "
                        "say `git archive` of an older commit, to compare)")
    args = p.parse_args()
    data_dir = args.data_dir or os.environ.get("NNCORE_MNIST_DIR")
    if not data_dir and "mnist-mlp" in args.presets:
        raise SystemExit("error: no MNIST: set NNCORE_MNIST_DIR, pass --data-dir, or leave "
                         "mnist-mlp out with --presets.")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"error: no Chromium at {CHROMIUM} (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    env = dict(os.environ, PYTHONPATH=str(args.app.resolve()))
    if data_dir:
        env["NNCORE_MNIST_DIR"] = str(Path(data_dir).resolve())
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="nncore-start-")) / "streamlit.log"
    print(f"{args.rounds} rounds of {', '.join(args.presets)}; load {load()}", flush=True)
    with open(log_path, "w") as log:        # the server keeps writing to its own copy
        server = start_server(port, env, log, cwd=args.app.resolve())
    results = {name: [] for name in args.presets}
    first_start, starts = None, 0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            if "mnist-mlp" in args.presets:           # MNIST loaded once, before timing
                page.goto(_url(port, "mnist-mlp"))
                page.get_by_role("button", name="Start training").wait_for(timeout=WAIT)
            for r in range(1, args.rounds + 1):
                order = args.presets[r % len(args.presets):] + args.presets[:r % len(args.presets)]
                for name in order:
                    m = one_start(page, _url(port, name), name)
                    starts += 1
                    if first_start is None:
                        first_start = {"preset": name, **m}
                    else:
                        results[name].append(m)
                    fin = f", finished on screen {m['finished']:.2f} s" if m["finished"] else ""
                    print(f"round {r}: {name:<17} first progress {m['first_progress']:.2f} s"
                          f"{fin}, lag {m['lag_refreshes']} refreshes  (load {load()})",
                          flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    warnings = log_path.read_text().count("missing ScriptRunContext")
    summary = {}
    print(f"\nfirst Start of the fresh server ({first_start['preset']}): "
          f"{first_start['first_progress']:.2f} s")
    for name, ms in results.items():
        firsts = [m["first_progress"] for m in ms if m["first_progress"] is not None]
        if not firsts:
            continue
        done = [m["finished"] for m in ms if m["finished"] is not None]
        median = statistics.median(firsts)
        bound = PRESETS[name]
        summary[name] = {"first_progress": firsts, "median": median, "bound": bound,
                         "ratio_to_bound": median / bound, "finished": done,
                         "lag_refreshes": max(m["lag_refreshes"] for m in ms)}
        fin = (f"; finished on screen, median {statistics.median(done):.2f} s"
               if done else "")
        print(f"{name:<17} first progress median {median:.2f} s "
              f"({min(firsts):.2f}–{max(firsts):.2f}), {median / bound:.2f} × its bound of "
              f"{bound:g} s{fin}; worst lag {summary[name]['lag_refreshes']} refreshes")
    print(f"'missing ScriptRunContext' warnings in the server log: {warnings} in {starts} "
          f"Starts")
    print(json.dumps({"rounds": args.rounds, "first_start": first_start, "presets": summary,
                      "script_run_context_warnings": warnings, "starts": starts,
                      "load_end": load()}))


if __name__ == "__main__":
    main()
