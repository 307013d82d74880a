"""model.json, the description of a model file, read within bounds.

It is a 0-d string array: {"format": "nncore-model", "version": 1, "network": {layers,
loss, optimizer, l2, …}, "metadata": {…}}. A file may hold any text there, so the text is
bounded twice before ``json.loads`` sees it: its length from the ``.npy`` header (at most
``MAX_JSON`` characters, before any is read) and its nesting (at most ``MAX_JSON_DEPTH``
levels: the parser recurses once per level).
"""

from __future__ import annotations

import json

from .errors import ModelFileError, shown

FORMAT, VERSION = "nncore-model", 1
MAX_JSON = 4_000_000            # characters of model.json (10,000 epochs of history: 1.3e6)
MAX_JSON_DEPTH = 32             # nesting of its arrays and objects (a model needs 6)


def json_depth(text: str) -> int:
    """How deeply a JSON text nests its arrays and objects, counted without parsing it:
    ``json.loads`` recurses once per level, so ten thousand "[" would be a RecursionError
    (and a hundred thousand a crash) before any check on the parsed value could run.

    One pass, one character at a time: a bracket counts only outside strings, and inside a
    string a backslash escapes the character after it (``"\\"]"`` is one string). A string
    that never closes costs one pass too."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "[" or c == "{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif c == "]" or c == "}":
            depth -= 1
    return deepest


def read_description(archive, name) -> dict:
    """model.json of an opened archive, parsed: its length bounded by its .npy header, its
    depth measured before parsing, its format and version checked. ``name`` is how
    messages call the file."""
    if "model.json" not in archive:
        raise ModelFileError(f"{name} is an .npz file but not an nncore model: it has no "
                             "model.json entry.")
    h = archive.headers["model.json"]
    if h.dtype.kind != "U" or h.shape != () or h.dtype.itemsize > 4 * MAX_JSON:
        raise ModelFileError(f"{name}: the model.json entry is not a JSON text (of at most "
                             f"{MAX_JSON:,} characters).")
    text = str(archive.read("model.json")[()])
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ModelFileError(f"{name}: the model description nests {depth:,} levels deep; a "
                             f"model needs at most {MAX_JSON_DEPTH}.")
    try:
        header = json.loads(text)
    except ValueError as exc:     # JSONDecodeError, or an integer of over 4300 digits
        raise ModelFileError(f"{name}: the model description is not valid JSON "
                             f"({exc}).") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{name}: the model description is not a JSON object.")
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not an nncore model file (format "
                             f"{shown(header.get('format'))}).")
    if header.get("version") != VERSION:
        raise ModelFileError(f"{name} was written by format version "
                             f"{shown(header.get('version'))}; this version reads {VERSION}.")
    return header
