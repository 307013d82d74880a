"""The Inference page in a real browser: Debian's Chromium driven by Playwright.

The app runs as ``streamlit run app.py`` in a subprocess (``app_url``: see
tests/browser/conftest.py); each test opens it in a fresh browser context, uploads a model
trained here with nncore through the page's file uploader, draws with the mouse on the
canvas, and waits for the network's answer. Reading a drawn "1" and "7" right needs a model trained on the real
MNIST, so that test runs only when NNCORE_MNIST_DIR is set.
"""

from __future__ import annotations

import re

import pytest

import nncore
from support import drawings as H

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.upper-canvas'


def canvas_locator(page, n=0, layer="canvas.upper-canvas"):
    """The canvas with key inference_canvas_<n> ("Clear" moves on to the next key, and the
    old canvas lingers in the page until the rerun ends). Fabric.js draws on stacked
    canvases; the mouse goes to the upper one, the strokes live on the lower one."""
    return page.locator(f'.st-key-inference_canvas_{n} [data-testid="stBidiComponentIsolated"] '
                        f'{layer}')


WAIT = 30_000   # ms: a rerun takes well under a second, but the machine may be busy


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A model trained here: on real MNIST when NNCORE_MNIST_DIR is set, else on the 8×8
    digits (the page then prepares drawings as 8×8 images)."""
    model = H.small_mnist_model() if H.mnist_dir() else H.digits_model()
    path = tmp_path_factory.mktemp("browser-model") / "model.npz"
    nncore.save(model, path)
    return path


# ------------------------------------------------------------------ page helpers
def open_inference(page, url):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 1500})
    page.goto(url)
    # Wait for the frame (st.navigation) before following its link to the page.
    page.get_by_text("Current setup").wait_for(timeout=WAIT)
    page.get_by_role("link", name="Inference", exact=True).click()
    expect(page.get_by_text("There is no trained model yet")).to_be_visible(timeout=WAIT)


def upload_model(page, path):
    from playwright.sync_api import expect

    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    expect(page.get_by_text("Loaded model.npz")).to_be_visible(timeout=WAIT)
    expect(canvas_locator(page)).to_be_visible(timeout=WAIT)


def stroke_glyph(page, lines, n=0, top=40, left=80, size=200):
    """Draw polylines (unit box, (row, col)) on canvas ``n`` with the mouse, one stroke each."""
    from playwright.sync_api import expect

    canvas = canvas_locator(page, n)
    expect(canvas).to_be_visible(timeout=WAIT)
    box = canvas.bounding_box()
    for line in H.place(lines, top=top, left=left, size=size):
        (r0, c0), rest = line[0], line[1:]
        page.mouse.move(box["x"] + c0, box["y"] + r0)
        # The canvas's toolbar rests over its top edge and slides up once the pointer is
        # over the canvas; let it go before pressing, as a hand would.
        page.wait_for_timeout(300)
        page.mouse.down()
        for r, c in rest:
            page.mouse.move(box["x"] + c, box["y"] + r, steps=12)
        page.mouse.up()


def ink_on_canvas(page, n=0) -> int:
    """Sum of the red channel of the canvas's drawing layer (0 for an empty canvas)."""
    lower = canvas_locator(page, n, "canvas.dc-canvas.lower-canvas")
    return lower.evaluate("""c => { const d = c.getContext('2d').getImageData(0, 0, c.width,
        c.height).data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s; }""")


def answer(page):
    return (page.get_by_test_id("stMetric").filter(has_text="The network says")
            .get_by_test_id("stMetricValue"))


def clear_canvas(page, n=0) -> int:
    """Press "Clear" under canvas ``n``; returns the number of the new, empty canvas."""
    from playwright.sync_api import expect

    clear = page.get_by_role("button", name="Clear")
    expect(clear).to_have_count(1, timeout=WAIT)   # not a stale copy from the last rerun
    clear.click()
    # A new key mounts a new, empty canvas; the old one lingers until the rerun ends.
    expect(canvas_locator(page, n + 1)).to_be_visible(timeout=WAIT)
    expect(canvas_locator(page, n)).to_have_count(0, timeout=WAIT)
    expect(answer(page)).to_have_count(0, timeout=WAIT)
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible(timeout=WAIT)
    return n + 1


# ------------------------------------------------------------------ tests
def test_draw_a_digit_and_see_the_answer(page, app_url, model_file):
    from playwright.sync_api import expect

    open_inference(page, app_url)
    upload_model(page, model_file)
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible(timeout=WAIT)
    stroke_glyph(page, H.GLYPHS[7][0])
    # Every view this run draws (Streamlit streams them in one by one).
    expect(answer(page)).to_have_text(re.compile(r"^\d$"), timeout=WAIT)
    expect(page.get_by_text("Runner-up")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Confidence")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"^What the network sees \("))).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Hidden layer 1")).to_be_visible(timeout=WAIT)
    assert "Traceback" not in page.inner_text("body")
    # The drawing is still on the canvas after the rerun (the "Loaded" notice above it has
    # gone; the canvas must not have been mounted afresh, which would wipe it).
    expect(page.get_by_text("Loaded model.npz")).to_have_count(0, timeout=WAIT)
    assert ink_on_canvas(page) > 0
    n = clear_canvas(page)
    assert ink_on_canvas(page, n) == 0


def test_drawn_one_and_seven_are_read_right(page, app_url, model_file):
    from playwright.sync_api import expect

    if not H.mnist_dir():
        pytest.skip("NNCORE_MNIST_DIR is not set: reading a drawn 1 and 7 right needs a model "
                    "trained on the real MNIST (the 8×8-digits stand-in reads drawings ~70 %)")
    open_inference(page, app_url)
    upload_model(page, model_file)
    stroke_glyph(page, H.GLYPHS[1][1])      # a "1" with a little flag at the top
    expect(answer(page)).to_have_text("1", timeout=WAIT)
    n = clear_canvas(page)
    stroke_glyph(page, H.GLYPHS[7][0], n)
    expect(answer(page)).to_have_text("7", timeout=WAIT)


def test_a_broken_upload_is_a_sentence_not_a_stack_trace(page, app_url, tmp_path):
    from playwright.sync_api import expect

    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"definitely not a model")
    open_inference(page, app_url)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(bad))
    expect(page.get_by_text("broken.npz is not an nncore model file: it is not an .npz archive")).to_be_visible(timeout=WAIT)
    assert "Traceback" not in page.inner_text("body")
    expect(page.locator(CANVAS)).to_have_count(0)
