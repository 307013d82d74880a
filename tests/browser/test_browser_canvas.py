"""The Inference page in a real browser: Debian's Chromium driven by Playwright.

The app runs as ``streamlit run app.py`` in a subprocess (``app_url``: see
tests/browser/conftest.py); each test opens it in a fresh browser context, uploads a model
trained here with nncore through the page's file uploader, draws with the mouse on the
canvas, and waits for the network's answer — which must be what the model itself answers
for the picture the canvas holds, taken from the browser and read through ``lab.canvas``
and ``nncore.vision`` here (the slow path). Reading a drawn "1" and "7" right needs a model
trained on the real MNIST, so that test runs only when NNCORE_MNIST_DIR is set.
"""

from __future__ import annotations

import re

import pytest

import nncore
from support import drawings as H

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas'


def canvas_locator(page, n=0):
    """The canvas with key inference_canvas_<n> ("Clear" moves on to the next key, and the
    old canvas lingers in the page until the rerun ends)."""
    return page.locator(f'.st-key-inference_canvas_{n} [data-testid="stBidiComponentIsolated"] '
                        'canvas')


WAIT = 30_000   # ms: a rerun takes well under a second, but the machine may be busy


@pytest.fixture(scope="module")
def model():
    """A model trained here: on real MNIST when NNCORE_MNIST_DIR is set, else on the 8×8
    digits (the page then prepares drawings as 8×8 images)."""
    return H.small_mnist_model() if H.mnist_dir() else H.digits_model()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, model):
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
    H.draw_with_mouse(page, canvas.bounding_box(), H.place(lines, top=top, left=left, size=size))


def ink_on_canvas(page, n=0) -> int:
    """Sum of the red channel of the canvas (0 for an empty canvas: white on black)."""
    return canvas_locator(page, n).evaluate("""c => { const d = c.getContext('2d').getImageData(
        0, 0, c.width, c.height).data; let s = 0; for (let i = 0; i < d.length; i += 4)
        s += d[i]; return s; }""")


def canvas_png(page, n=0) -> bytes:
    """The picture canvas ``n`` holds, as the PNG it sends."""
    import base64

    url = canvas_locator(page, n).evaluate("c => c.toDataURL('image/png')")
    return base64.b64decode(url.split(",", 1)[1])


def expected_answer(model, png: bytes) -> tuple[str, str]:
    """The slow path: the PNG decoded, prepared and predicted here, worded as the page
    words it (the answer, its probability)."""
    from lab.canvas import decode_canvas
    from lab.models import model_info, prepare_drawing

    x = prepare_drawing(decode_canvas(png), model_info(model).image_shape).reshape(1, -1)
    proba = model.predict_proba(x)[0]
    top = int(proba.argmax())
    return str(top), f"{proba[top]:.1%}"


def confidence(page):
    return (page.get_by_test_id("stMetric").filter(has_text="Confidence")
            .get_by_test_id("stMetricValue"))


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
    expect(answer(page)).to_have_text("–", timeout=WAIT)        # no answer without a drawing
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible(timeout=WAIT)
    return n + 1


# ------------------------------------------------------------------ tests
def test_draw_a_digit_and_see_the_answer(page, app_url, model_file, model):
    from playwright.sync_api import expect

    open_inference(page, app_url)
    upload_model(page, model_file)
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible(timeout=WAIT)
    stroke_glyph(page, H.GLYPHS[7][0])
    # the model's own answer for the picture the canvas sent (the slow path)
    digit, sure = expected_answer(model, canvas_png(page))
    expect(answer(page)).to_have_text(digit, timeout=WAIT)
    expect(confidence(page)).to_have_text(sure, timeout=WAIT)
    # Every view this run draws (Streamlit streams them in one by one).
    expect(page.get_by_text("Runner-up")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Confidence")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"^What the network sees \("))).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Hidden layer 1")).to_be_visible(timeout=WAIT)
    assert "Traceback" not in page.inner_text("body")
    # A stroke reruns the canvas and its answer alone: the page around them stays as it
    # was, the "Loaded" notice above them too …
    expect(page.get_by_text("Loaded model.npz")).to_be_visible()
    # … and when the whole page reruns (R), the notice goes but the canvas is not mounted
    # afresh, which would wipe the drawing.
    page.keyboard.press("r")
    expect(page.get_by_text("Loaded model.npz")).to_have_count(0, timeout=WAIT)
    expect(answer(page)).to_have_text(digit, timeout=WAIT)
    assert ink_on_canvas(page) > 0
    n = clear_canvas(page)
    assert ink_on_canvas(page, n) == 0


def test_each_stroke_is_answered_and_undo_takes_the_last_one_back(page, app_url, model_file,
                                                                  model):
    """A "7" with a bar, stroke by stroke: after each stroke, and after Undo, the page shows
    the model's answer for what the canvas holds then."""
    from playwright.sync_api import expect

    open_inference(page, app_url)
    upload_model(page, model_file)
    ink = []
    for stroke in H.GLYPHS[7][1]:                       # the 7, then its bar
        stroke_glyph(page, [stroke])
        digit, sure = expected_answer(model, canvas_png(page))
        expect(confidence(page)).to_have_text(sure, timeout=WAIT)
        expect(answer(page)).to_have_text(digit, timeout=WAIT)
        ink.append(ink_on_canvas(page))
    assert ink[1] > ink[0] > 0
    page.locator('[data-testid="stBidiComponentIsolated"] button').click()   # Undo
    assert ink_on_canvas(page) == ink[0]                # the bar is gone, the 7 stays
    digit, sure = expected_answer(model, canvas_png(page))
    expect(confidence(page)).to_have_text(sure, timeout=WAIT)
    expect(answer(page)).to_have_text(digit, timeout=WAIT)
    assert "Traceback" not in page.inner_text("body")


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
