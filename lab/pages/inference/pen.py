"""The drawing canvas: a Streamlit component of the app's own (``pen.js``), a white round pen
on black with an Undo button, which sends its picture the moment the pen lifts.

Why not streamlit-drawable-canvas, which the page used before: it waits 200 ms after every
stroke before it sends the picture (a debounce in its frontend), and the whole answer
has 150 ms. Its Fabric.js bundle (400 kB) drew far more than a pen. This canvas's state
has the same shape as that one's (``{"drawing": {"data": "data:image/png;base64,…"}}``),
so a drawing is sent, injected in tests and read the same way.

What the browser sends is untrusted: the data URL is measured before it is decoded, and
the PNG is then sized from its header by ``lab.canvas``.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import streamlit as st

from lab.canvas import CANVAS_SIZE, MAX_PNG_BYTES, CanvasImageError

_PREFIX = "data:image/png;base64,"
_MAX_URL = len(_PREFIX) + 4 * (MAX_PNG_BYTES // 3 + 1)    # base64 of the largest PNG taken
_HTML = ('<div class="pen"><canvas aria-label="Drawing canvas"></canvas>'
         '<button type="button" disabled>↶ Undo</button></div>')
_CSS = """
.pen { display: inline-flex; flex-direction: column; gap: 6px; align-items: flex-start; }
.pen canvas { background: #000; border-radius: 6px; cursor: crosshair; touch-action: none; }
.pen button { font: inherit; font-size: 0.85rem; padding: 2px 10px; border-radius: 6px;
              border: 1px solid rgba(128, 128, 128, 0.4); background: transparent;
              color: inherit; cursor: pointer; }
.pen button:disabled { opacity: 0.4; cursor: default; }
"""
_component = None


def _mount():
    global _component
    if _component is None:      # registered once per server, on the first drawing page
        _component = st.components.v2.component(
            "nnlab_pen", html=_HTML, css=_CSS,
            js=(Path(__file__).with_name("pen.js")).read_text(encoding="utf-8"))
    return _component


def pen_canvas(*, key: str, width: int, size: tuple[int, int] = CANVAS_SIZE) -> bytes | None:
    """Draw the canvas; the PNG of its picture once something is drawn (None before, and
    once every stroke is undone). A picture that is not a PNG data URL, or one larger
    than any the canvas makes, is a CanvasImageError."""
    result = _mount()(key=key, data={"width": int(width), "size": list(size)},
                      default={"drawing": None}, on_drawing_change=lambda: None,
                      width="content", height="content")
    return png_of(result.get("drawing"))


def png_of(drawing) -> bytes | None:
    """The PNG bytes in the canvas's state ``{"data": data URL}`` (None: nothing drawn)."""
    url = drawing.get("data") if isinstance(drawing, dict) else None
    if url is None:
        return None
    if not isinstance(url, str) or not url.startswith(_PREFIX):
        raise CanvasImageError("the picture is not a PNG image")
    if len(url) > _MAX_URL:
        raise CanvasImageError(f"the picture is {len(url) * 3 / 4e6:.1f} MB; the canvas sends "
                               f"at most {MAX_PNG_BYTES / 1e6:.1f} MB")
    try:
        return base64.b64decode(url[len(_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise CanvasImageError("the picture is damaged (not base64)") from None
