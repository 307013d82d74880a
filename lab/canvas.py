"""The drawing canvas's picture, read as untrusted bytes: its size is known before it is
decoded.

The canvas sends a PNG on every stroke, but anyone can send any PNG in its place. A PNG
says its width and height in its first 24 bytes (the IHDR chunk, right after the 8-byte
signature), so those are read first, and only a picture of exactly the canvas's size is
decoded: 280×280 RGBA is 314 KB, where an 8000×8000 PNG of 345 KB would inflate to 256 MB
(and to 3 GB on its way through NumPy). No Streamlit here.
"""

from __future__ import annotations

import io
import struct

import numpy as np

CANVAS_SIZE = (280, 280)           # (width, height) of the Inference page's canvas
MAX_PNG_BYTES = 2 * 1024 * 1024    # a 280×280 RGBA PNG is at most 315 KB, uncompressed
_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class CanvasImageError(ValueError):
    """The picture is not one the canvas sends; the message says what it is instead."""


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header, without decoding anything."""
    if len(data) < 24 or not data.startswith(_SIGNATURE) or data[12:16] != b"IHDR":
        raise CanvasImageError("the picture is not a PNG image")
    return struct.unpack(">II", data[16:24])


def decode_canvas(data: bytes, size: tuple[int, int] = CANVAS_SIZE) -> np.ndarray:
    """The canvas's PNG as an (height, width, 4) uint8 RGBA array — once its header says it
    is exactly ``size`` (width, height); anything else is a CanvasImageError."""
    if len(data) > MAX_PNG_BYTES:
        raise CanvasImageError(f"the picture is {len(data) / 1e6:.1f} MB; the canvas sends "
                               f"at most {MAX_PNG_BYTES / 1e6:.1f} MB")
    width, height = png_size(data)
    if (width, height) != tuple(size):
        raise CanvasImageError(f"the canvas sends {size[0]}×{size[1]} pictures; this one is "
                               f"{width}×{height}")
    from PIL import Image   # (Streamlit's own dependency; imported when a drawing comes)

    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            if image.size != tuple(size):      # the header PIL read agrees with ours
                raise CanvasImageError(f"the picture is {image.size[0]}×{image.size[1]}")
            return np.asarray(image.convert("RGBA"))
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        if isinstance(exc, CanvasImageError):
            raise
        raise CanvasImageError(f"the picture is damaged ({str(exc)[:100]})") from None
