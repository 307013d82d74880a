"""Three visitors on one server in Chromium: a run each, one training slot.

The server runs with ``NNCORE_SLOTS=1``. The first visitor's run trains; the next two
press Start while it does and see their places in line (1st, 2nd); the first stops, and
the two waiting runs start by themselves, one after the other, and finish — each page
showing its own run (the three setups differ in their number of epochs), none an error.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

APP_ENV = {"NNCORE_SLOTS": "1"}      # the server of this module's app_url: one training slot
WAIT = 60_000   # ms


def _link(base: str, epochs: int) -> str:
    from lab.links import query_string, spec_to_params
    from nncore.runs.spec import LayerSpec, RunSpec

    spec = RunSpec(data={"name": "moons", "n_samples": 400, "noise": 0.2, "seed": 0},
                   hidden=[LayerSpec(16)], optimizer={"name": "sgd", "lr": 0.1},
                   batch_size=1, epochs=epochs, seed=epochs)
    return f"{base}/training?{query_string(spec_to_params(spec))}"


def test_three_visitors_share_one_slot_in_order(browser, app_url):
    from playwright.sync_api import expect

    contexts = [browser.new_context(viewport={"width": 1300, "height": 1000}) for _ in range(3)]
    try:
        pages = []
        for context, epochs in zip(contexts, (10_000, 3, 4)):   # the first is stopped by hand
            page = context.new_page()
            page.goto(_link(app_url, epochs))
            page.get_by_role("button", name="Start training").wait_for(timeout=WAIT)
            pages.append(page)
        first, second, third = pages

        first.get_by_role("button", name="Start training").click()
        expect(first.get_by_text(re.compile(r"Epoch \d+/10000"))).to_be_visible(timeout=WAIT)
        second.get_by_role("button", name="Start training").click()
        expect(second.get_by_text("1st in line")).to_be_visible(timeout=WAIT)
        third.get_by_role("button", name="Start training").click()
        expect(third.get_by_text("2nd in line")).to_be_visible(timeout=WAIT)
        expect(second.get_by_role("button", name="Cancel")).to_be_visible()

        first.get_by_role("button", name="Stop").click()
        expect(first.get_by_text(re.compile(r"The run was stopped by the user"))).to_be_visible(
            timeout=WAIT)
        # The two waiting runs start by themselves, in order, and finish.
        expect(second.get_by_text("Finished 3 epochs")).to_be_visible(timeout=WAIT)
        expect(third.get_by_text("Finished 4 epochs")).to_be_visible(timeout=WAIT)
        for page in pages:
            body = page.inner_text("body")
            assert "Something went wrong" not in body and "Traceback" not in body
            assert page.locator('[data-testid="stException"]').count() == 0
        # each page shows its own run, never another visitor's
        assert "Finished 4 epochs" not in second.inner_text("body")
        assert "Finished 3 epochs" not in third.inner_text("body")
    finally:
        for context in contexts:
            context.close()
