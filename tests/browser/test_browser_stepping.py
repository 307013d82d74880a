"""Step mode in a real browser: Debian's Chromium driven by Playwright.

The app runs as ``streamlit run app.py`` in a subprocess (``app_url``: see
tests/browser/conftest.py). The test opens the seed 003 preset's link on the Training page,
opens step mode, presses "Step one batch" three times, and finds what the step shows: the
layer equations rendered with their numbers, the lines of nncore beside them, one neuron's
sum written out, and a gradient check that passes.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

WAIT = 30_000   # ms: a step and its rerun take well under a second, the machine may be busy


def preset_link(base: str, name: str) -> str:
    from lab.links import query_string, spec_to_params
    from nncore.runs.presets import get_preset

    return f"{base}/training?{query_string(spec_to_params(get_preset(name).run_spec()))}"


def test_three_steps_of_seed_003_show_the_math_with_its_numbers(page, app_url):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(preset_link(app_url, "seed003-moons"))
    page.get_by_text("Step through training").first.click(timeout=WAIT)
    step = page.get_by_role("button", name="Step one batch")
    step.click(timeout=WAIT)
    expect(page.get_by_text("Step 1", exact=True)).to_be_visible(timeout=WAIT)

    # one neuron, written out as its sum (this tab is quick to draw: step on it)
    page.get_by_role("tab", name="One neuron").click()
    for n in (2, 3):
        step.click(timeout=WAIT)
        expect(page.get_by_text(f"Step {n}", exact=True)).to_be_visible(timeout=WAIT)
    neuron = page.locator(".st-key-stepping_neuron_sum")
    expect(neuron.get_by_text(re.compile(r"^z = .+ × .+ = [−\d].*ReLU → "))
           ).to_be_visible(timeout=WAIT)
    expect(neuron.get_by_text(re.compile(r"^δ = dA × σ'\(z\) = "))).to_be_visible(timeout=WAIT)

    # step 3's equations, rendered, with its numbers in them
    page.get_by_role("tab", name="This step, layer by layer").click()
    equations = page.locator(".st-key-stepping_equations")
    expect(page.get_by_text(re.compile(r"^Step 3: epoch 3"))).to_be_visible(timeout=WAIT)
    expect(equations.get_by_text("Pre-activation")).to_be_visible(timeout=WAIT)
    katex = equations.locator(".katex-html")
    expect(katex.filter(has_text=re.compile(r"z\s*\(\s*1\s*\)"))).not_to_have_count(0)
    numbers = katex.filter(has_text=re.compile(r"[−-]?\d\.\d{2,}"))
    expect(numbers.first).to_be_visible(timeout=WAIT)
    assert numbers.count() >= 4
    # the lines of nncore that computed them
    expect(equations.locator("code").filter(has_text="a_prev @ self.W").first
           ).to_be_visible(timeout=WAIT)
    expect(equations.get_by_text(re.compile(r"nncore/layers/dense\.py, lines? \d+"))
           .first).to_be_visible(timeout=WAIT)

    # the gradient check passes
    page.get_by_role("tab", name="Gradient check").click()
    page.get_by_role("button", name="Check the gradients on this batch").click(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"Backprop agrees with finite differences on all "
                                       r"4 tensors"))).to_be_visible(timeout=WAIT)
    assert "Traceback" not in page.inner_text("body")
