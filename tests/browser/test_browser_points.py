"""Your own points in a real browser: click on the plane, train on the points, export the run.

Chromium opens the Dataset page, chooses "Your own points", and places points of two
classes by clicking the plane (a click on empty plane lands because of the invisible grid
the figure carries: ``lab.figures.points``); it erases one with a dragged box, trains the
setup on the Training page, and downloads "Export as Python". The script, run without
nncore, repeats the lab's own run of the setup the page's address holds: its epoch losses
are the lab's to float32 rounding.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlparse

import numpy as np
import pytest

from lab.figures.points import PER_UNIT
from lab.links import spec_from_params
from nncore.data import points as drawn
from nncore.runs.run import train_spec
from support.exported import finished, started

pytestmark = pytest.mark.browser

WAIT = 30_000   # ms
CLASS_0 = [(-1.5, -1.0), (-1.0, -1.5), (-2.0, -0.5), (-0.5, -2.0), (-1.0, -1.0)]
CLASS_1 = [(1.5, 1.0), (1.0, 1.5), (2.0, 0.5), (0.5, 2.0)]
ERASED = (-1.0, -1.0)            # the last point of class 0 goes again, in a box


def _plane(page):
    return page.locator(".st-key-points_plane .js-plotly-plot")


def _pixel(page, x: float, y: float) -> tuple[float, float]:
    """Where on the screen the plane's point (x, y) is drawn (Plotly's own axis mapping),
    once the chart — drawn anew after every change — has been laid out."""
    handle = page.wait_for_function("""([x, y]) => {
        const gd = document.querySelector('.st-key-points_plane .js-plotly-plot');
        const L = gd && gd._fullLayout;
        if (!L || !L._size || !L.xaxis || !L.xaxis.l2p) return null;
        const box = gd.getBoundingClientRect();
        return [box.left + L._size.l + L.xaxis.l2p(x), box.top + L._size.t + L.yaxis.l2p(y)];
    }""", arg=[x * PER_UNIT, y * PER_UNIT], timeout=WAIT)
    return tuple(handle.json_value())


def _count(page, n: int):
    from playwright.sync_api import expect
    shown = page.get_by_text(re.compile(rf"^{n} points?\b"))
    expect(shown).to_be_visible(timeout=WAIT)


def _click_plane(page, x, y, n_after):
    _plane(page).locator(".nsewdrag").first.wait_for(timeout=WAIT)
    page.mouse.click(*_pixel(page, x, y))
    _count(page, n_after)


def test_points_placed_by_clicking_train_and_export(page, app_url, tmp_path):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 1200})
    page.goto(f"{app_url}/dataset")
    page.get_by_test_id("stSelectbox").filter(has_text="Data set").click(timeout=WAIT)
    page.get_by_role("option", name="Your own points").click(timeout=WAIT)
    expect(page.get_by_text("Place points of at least two classes")).to_be_visible(timeout=WAIT)

    n = 0
    for label, where in ((0, CLASS_0), (1, CLASS_1)):
        page.locator(".st-key-points_class [role=radiogroup] label").nth(label).click(timeout=WAIT)
        for x, y in where:
            n += 1
            _click_plane(page, x, y, n)
    page.get_by_text("Erase (drag a box)").click(timeout=WAIT)
    expect(page.get_by_text("Drag a box over the points to erase")).to_be_visible(timeout=WAIT)
    _plane(page).locator(".nsewdrag").first.wait_for(timeout=WAIT)
    corner, other = _pixel(page, ERASED[0] - 0.2, ERASED[1] - 0.2), _pixel(page, ERASED[0] + 0.2,
                                                                           ERASED[1] + 0.2)
    page.mouse.move(*corner)
    page.mouse.down()
    page.mouse.move(*other, steps=12)
    page.mouse.up()
    _count(page, n - 1)

    # the address bar holds the points, as they were clicked (it follows at a run's end)
    page.wait_for_function(f"() => (new URLSearchParams(location.search).get('pts') || '')"
                           f".length == {drawn.CHARS * (n - 1)}", timeout=WAIT)
    spec, notes = spec_from_params(dict(parse_qsl(urlparse(page.url).query)))
    assert notes == [] and spec.data["name"] == "points"
    X, y = drawn.decode(spec.data["points"])
    assert X.tolist() == [list(p) for p in CLASS_0[:-1] + CLASS_1]
    assert y.tolist() == [0] * (len(CLASS_0) - 1) + [1] * len(CLASS_1)
    expect(page.get_by_test_id("stMetric").filter(has_text="Classes")).to_contain_text("2")

    # train on them
    page.get_by_test_id("stSidebarNav").get_by_text("Training").click(timeout=WAIT)
    page.get_by_role("button", name="Start training").click(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"^Finished \d+ epochs? in"))).to_be_visible(timeout=120_000)

    # and export the run as one NumPy script
    page.get_by_text("Save or load the model").click(timeout=WAIT)
    with page.expect_download(timeout=WAIT) as download:
        page.get_by_role("button", name=re.compile(r"^Export as Python")).click(timeout=WAIT)
    script = tmp_path / download.value.suggested_filename
    download.value.save_as(script)
    text = script.read_text()
    assert "Your own points: the 8 points placed on the lab's plane" in text
    assert "import nncore" not in text and "from nncore" not in text
    run = started(script)
    lab = train_spec(spec)
    losses, out, _ = finished(run)
    np.testing.assert_allclose(losses, lab.history.train_loss, rtol=1e-5)
    assert out["test_accuracy"] == pytest.approx(lab.metrics["test_accuracy"], abs=1e-12)
