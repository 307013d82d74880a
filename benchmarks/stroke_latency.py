"""From the pen lifting off the canvas to the network's answer on screen, in Chromium
(issue 14, goal 1: median ≤ 150 ms, the first stroke ≤ 400 ms).

Run by hand (never by the tests), with Chromium and Playwright installed:

    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/stroke_latency.py [--rounds 5]

The model is the default network of the Inference page (``mnist-mlp``: 784-256-128-10),
trained here for one epoch on MNIST (without NNCORE_MNIST_DIR: a 64-64-10 network on the
8×8 digits, which the page prepares drawings for too) and saved to a file. One
``streamlit run app.py`` server, started by this script. Each round opens the Inference
page in a fresh browser context, uploads the model, and draws with the mouse, as the
browser tests do:

- **first stroke**: the first stroke on the page — its answer is the first the page
  draws (the page had no chart before);
- **strokes**: then, digit after digit (Clear between them), every stroke of a "7" with
  a bar, a "4" and a "1" with a flag.

A stroke's time runs from the mouse-up (the canvas then sends its picture) to the moment
the answer on screen changes: "The network says" and its confidence. Both are taken in
the browser with ``performance.now()`` (a mouseup listener and a MutationObserver), so
they are what a visitor sees. A stroke whose answer and confidence come out exactly as
before cannot be timed this way: it is counted and left out. The figures are the
median, p90 and range against the goals; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks", ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from page_throughput import CHROMIUM, free_port, load, start_server  # noqa: E402

WAIT = 60_000
CANVAS = '[data-testid="stBidiComponentIsolated"] canvas'
DIGITS = [(7, 1), (4, 0), (1, 1)]            # (digit, style) of support.drawings.GLYPHS

WATCH = """() => {
  window.__answers = []; window.__ups = [];
  let last = null;
  const answer = () => {             // "–" while there is none (a blank canvas)
    const metrics = Array.from(document.querySelectorAll('[data-testid="stMetric"]'));
    const text = metrics.filter(m => /The network says|Confidence/.test(m.innerText))
                        .map(m => m.innerText).join(' | ');
    return text && !/–/.test(text) ? text : null;
  };
  const record = () => {
    const now = answer();
    if (now !== last) { last = now; window.__answers.push([performance.now(), now]); }
  };
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true,
                                                       characterData: true});
  document.addEventListener('mouseup', () => window.__ups.push(performance.now()), true);
}"""


def _model_file(folder: Path) -> tuple[Path, str]:
    import nncore
    from nncore.runs.presets import get_preset
    from nncore.runs.run import train_spec
    from support import drawings

    if drawings.mnist_dir():
        spec = get_preset("mnist-mlp").run_spec().replace(epochs=1)
        network, what = train_spec(spec).network, "mnist-mlp, one epoch on MNIST"
    else:
        network, what = drawings.digits_model(), "64-64-10 on the 8×8 digits (no MNIST)"
    path = folder / "model.npz"
    nncore.save(network, path)
    return path, what


def _stroke(page, line) -> float | None:
    """Draw one polyline; seconds from its mouse-up to the answer changing on screen."""
    from support import drawings

    before = page.evaluate("() => window.__answers.length")
    # a hand's pause before pressing (an older canvas's toolbar slid away)
    drawings.draw_with_mouse(page, page.locator(CANVAS).last.bounding_box(), [line], steps=8,
                             pause_ms=300)
    end = time.monotonic() + WAIT / 1000
    while time.monotonic() < end:
        up, answers = page.evaluate("() => [window.__ups.at(-1), window.__answers]")
        fresh = [a for a in answers[before:] if a[0] > up and a[1]]
        if fresh:
            time.sleep(0.3)           # let the rest of the rerun land before the next stroke
            return (fresh[0][0] - up) / 1000
        time.sleep(0.02)
    return None                       # the same answer and confidence as before


def one_round(browser, url: str, model: Path) -> dict:
    from playwright.sync_api import expect

    from support import drawings

    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    page.goto(url)
    page.get_by_text("Current setup").wait_for(timeout=WAIT)
    page.get_by_role("link", name="Inference", exact=True).click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(model))
    expect(page.get_by_text("Loaded model.npz")).to_be_visible(timeout=WAIT)
    expect(page.locator(CANVAS).last).to_be_visible(timeout=WAIT)
    time.sleep(1.0)
    page.evaluate(WATCH)
    strokes, untimed, first = [], 0, None
    for n, (digit, style) in enumerate(DIGITS):
        if n:
            page.get_by_role("button", name="Clear").click()
            no_answer = "() => !/The network says\\s*\\d/.test(document.body.innerText)"
            page.wait_for_function(no_answer, timeout=WAIT)     # "–" (or, before, none)
            time.sleep(0.5)
        for k, line in enumerate(drawings.place(drawings.GLYPHS[digit][style], top=40,
                                                left=80, size=200)):
            seconds = _stroke(page, line)
            if seconds is None:
                untimed += 1
            elif n == 0 and k == 0:       # the page's first stroke, timed apart
                first = seconds
            else:
                strokes.append(seconds)
    context.close()
    return {"first": first, "strokes": strokes, "untimed": untimed}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--app", type=Path, default=ROOT,
                   help="the app's folder (default: this checkout; another version to compare)")
    args = p.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"error: no Chromium at {CHROMIUM} (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="nncore-stroke-"))
    model, what = _model_file(folder)
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(args.app.resolve()), NNCORE_OFFLINE="1")
    print(f"{args.rounds} rounds, model: {what}; load {load()}", flush=True)
    server = start_server(port, env, cwd=args.app.resolve())
    url = f"http://127.0.0.1:{port}"
    firsts, strokes, untimed = [], [], 0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
            for r in range(1, args.rounds + 1):
                m = one_round(browser, url, model)
                if m["first"] is not None:
                    firsts.append(m["first"])
                strokes += m["strokes"]
                untimed += m["untimed"]
                shown = ", ".join(f"{s * 1000:.0f}" for s in m["strokes"])
                said = f"{m['first'] * 1000:.0f} ms" if m["first"] is not None else "untimed"
                print(f"round {r}: first stroke {said}; strokes {shown} ms"
                      f" (load {load()})", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(strokes)
    median, p90 = statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]
    first = statistics.median(firsts)
    print(f"\nstroke → answer: median {median * 1000:.0f} ms ({median / 0.150:.2f} × the goal "
          f"of 150 ms), p90 {p90 * 1000:.0f} ms, range {ordered[0] * 1000:.0f}–"
          f"{ordered[-1] * 1000:.0f} ms over {len(ordered)} strokes ({untimed} untimed: "
          f"the same answer as before)")
    print(f"first stroke → answer: median {first * 1000:.0f} ms ({first / 0.400:.2f} × the goal "
          f"of 400 ms), range {min(firsts) * 1000:.0f}–{max(firsts) * 1000:.0f} ms")
    print(json.dumps({"model": what, "rounds": args.rounds, "first_stroke_seconds": firsts,
                      "stroke_seconds": strokes, "median": median, "p90": p90,
                      "first_median": first, "untimed": untimed, "load_end": load()}))


if __name__ == "__main__":
    main()
