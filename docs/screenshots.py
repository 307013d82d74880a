"""The README's screenshots, taken afresh: the app in Chromium, as a visitor sees it.

    NNCORE_MNIST_DIR=/path/to/mnist python docs/screenshots.py [--only training compare-runs]

Starts ``streamlit run app.py`` on a free port (offline, its own cache), opens each page in
Debian's Chromium through Playwright, does what the picture shows (loads a preset, trains,
draws a digit …) and writes ``docs/<name>.png``. Run it by hand after the pages change;
the tests never do.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from support import drawings  # noqa: E402
from support.server import CHROMIUM, CHROMIUM_ARGS, app_server  # noqa: E402

WAIT = 180_000          # ms: MNIST loads and trains on a small machine
DOCS = ROOT / "docs"


def link(base: str, spec, page: str = "training") -> str:
    from nncore.runs.links import query_string, spec_to_params
    return f"{base}/{page}?{query_string(spec_to_params(spec))}"


def preset(name: str):
    from nncore.runs.presets import get_preset
    return get_preset(name).run_spec()


def settle(page, ms: int = 1500) -> None:
    """Let the charts finish drawing (Plotly animates in)."""
    page.wait_for_timeout(ms)


def train(page) -> None:
    page.get_by_role("button", name="Start training").click()
    page.get_by_text(re.compile(r"Finished \d+ epochs?")).first.wait_for(timeout=WAIT)
    settle(page)


def shot(page, name: str, full: bool = True, element=None) -> None:
    """docs/<name>.png: the page (``full``: all of it), or only ``element`` (a locator)."""
    path = DOCS / f"{name}.png"
    page.mouse.move(0, 0)             # no tooltip of the last button pressed
    page.wait_for_timeout(300)
    if element is not None:
        element.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=full)
    print(f"wrote {path.relative_to(ROOT)}")


# ---------------------------------------------------------------- one function a picture
def home(page, base):
    page.goto(base)
    page.get_by_text("Current setup").wait_for(timeout=WAIT)
    settle(page)
    shot(page, "home")


def dataset(page, base):
    page.goto(link(base, preset("seed003-moons"), "dataset"))
    page.get_by_text("Current setup").wait_for(timeout=WAIT)
    settle(page, 3000)
    shot(page, "dataset")


def architecture(page, base):
    page.goto(link(base, preset("mnist-cnn"), "architecture"))
    page.get_by_text("Current setup").wait_for(timeout=WAIT)
    settle(page, 3000)
    shot(page, "architecture")


def training(page, base):
    page.goto(link(base, preset("seed003-moons")))
    train(page)
    shot(page, "training")


def training_mnist(page, base):
    page.goto(link(base, preset("mnist-mlp").replace(epochs=3)))
    train(page)
    shot(page, "training-mnist")


def compare_runs(page, base):
    """One run of the moons preset, then its twin with a tenth of the learning rate (the
    history is the session's: both runs in one page, the twin started from the Runs tab)."""
    page.goto(link(base, preset("seed003-moons").replace(epochs=300)))
    train(page)
    page.get_by_role("tab", name="Runs").click()
    lr = page.locator(".st-key-history_twin_1_lr input")
    lr.fill("0.1")
    lr.press("Enter")
    settle(page)
    page.get_by_role("button", name="Start the twin run").click()
    page.get_by_text("What differs between them").wait_for(timeout=WAIT)
    settle(page, 3000)
    page.get_by_role("tab", name="Runs").scroll_into_view_if_needed()
    page.mouse.wheel(0, 250)          # the table of runs and the comparison under it
    settle(page)
    shot(page, "compare-runs")


def inference(page, base):
    page.goto(f"{base}/inference")
    page.get_by_role("button", name=re.compile("Train the default network")).click()
    page.get_by_text(re.compile("Trained the default network")).wait_for(timeout=WAIT)
    canvas = page.locator('.st-key-inference_canvas_0 [data-testid="stBidiComponentIsolated"] '
                          'canvas')
    canvas.wait_for(timeout=WAIT)
    drawings.draw_with_mouse(page, canvas.bounding_box(),
                             drawings.place(drawings.GLYPHS[3][0], top=40, left=80, size=200))
    page.get_by_text("Runner-up").wait_for(timeout=WAIT)
    settle(page, 2500)
    shot(page, "inference-draw")
    page.get_by_text("Test images", exact=True).click()
    settle(page, 3000)
    shot(page, "inference-test")


def training_export(page, base):
    page.goto(link(base, preset("seed003-moons")))
    train(page)
    page.get_by_text("Save or load the model").click()
    page.get_by_text("Export").first.wait_for(timeout=WAIT)
    settle(page)
    page.get_by_text("Save or load the model").scroll_into_view_if_needed()
    shot(page, "training-export")


def _stepped(page, base, steps: int = 3):
    """Seed 003's network on the Training page, stepped ``steps`` batches; its expander."""
    page.goto(link(base, preset("seed003-moons")))
    page.get_by_text("Step through training: see the math run").click()
    for _ in range(steps):
        page.get_by_role("button", name="Step one batch").click()
        settle(page, 800)
    page.get_by_text(f"Step {steps}").first.wait_for(timeout=WAIT)
    settle(page, 2500)
    return page.locator('[data-testid="stExpander"]').filter(
        has_text="Step through training: see the math run")


def step_view(page, base):
    shot(page, "step-view", element=_stepped(page, base))


def step_neuron(page, base):
    expander = _stepped(page, base)
    expander.get_by_role("tab", name="One neuron").click()
    settle(page, 2500)
    shot(page, "step-neuron", element=expander)


def neuron_maps(page, base):
    page.goto(link(base, preset("seed003-moons")))
    train(page)
    page.get_by_text("Neurons as pictures: every unit as a map over the input plane").click()
    settle(page, 4000)
    shot(page, "neuron-maps", element=page.locator('[data-testid="stExpander"]').filter(
        has_text="Neurons as pictures"))


def own_points(page, base):
    import numpy as np
    from nncore.data import points
    rng = np.random.default_rng(3)
    angle = rng.uniform(0, 2 * np.pi, 60)
    radius = np.where(np.arange(60) < 24, rng.uniform(0, 0.9, 60), rng.uniform(1.6, 2.3, 60))
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    y = (np.arange(60) >= 24).astype(np.int64)
    spec = preset("seed003-moons").replace(
        data={"name": points.NAME, "points": points.encode(X, y), "val_fraction": 0.0})
    page.goto(link(base, spec, "dataset"))
    page.get_by_text("60 points").first.wait_for(timeout=WAIT)
    settle(page, 3000)
    shot(page, "own-points", full=False)


def assignment(page, base):
    from urllib.parse import quote_plus
    question = ("Before you press Start: what will the boundary look like after 10 epochs? "
                "Then try a learning rate ten times smaller.")
    page.goto(link(base, preset("seed003-moons")) + "&lock=layers,lr&hide=l2,seed&ask="
              + quote_plus(question))
    page.get_by_text("Before you press Start").first.wait_for(timeout=WAIT)
    settle(page, 2500)
    shot(page, "assignment", full=False)


PICTURES = {"home": home, "dataset": dataset, "architecture": architecture,
            "training": training, "training-mnist": training_mnist,
            "training-export": training_export, "compare-runs": compare_runs,
            "step-view": step_view, "step-neuron": step_neuron, "neuron-maps": neuron_maps,
            "own-points": own_points, "assignment": assignment, "inference": inference}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=sorted(PICTURES), help="these pictures only")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, app_server(Path(folder)) as base, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in args.only or PICTURES:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            PICTURES[name](page, base)
            page.context.close()
        browser.close()


if __name__ == "__main__":
    main()
