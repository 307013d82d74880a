"""The sidebar's share link in a real browser: one line, never broken inside a word.

Wrapped, the link broke wherever the sidebar's edge fell — "lay" at the end of one line and
"ers=256relu" at the start of the next. It is one line now, which scrolls sideways, and its
copy button copies it whole.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

WAIT = 30_000   # ms


def test_the_share_link_is_one_line(page, app_url):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1300, "height": 900})
    page.goto(app_url)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Share this setup").click(timeout=WAIT)
    code = sidebar.locator("pre code").filter(has_text="data=")
    expect(code).to_be_visible(timeout=WAIT)
    link = code.inner_text()
    assert "\n" not in link.strip() and "layers=" in link
    lines, overflows = code.evaluate("""c => {
        const box = c.getBoundingClientRect(), style = getComputedStyle(c);
        const line = parseFloat(style.lineHeight) || 1.5 * parseFloat(style.fontSize);
        const pre = c.closest('pre');
        return [Math.round(box.height / line), pre.scrollWidth > pre.clientWidth]; }""")
    assert lines == 1, f"the link takes {lines} lines"
    assert overflows                   # longer than the sidebar is wide: it scrolls instead
