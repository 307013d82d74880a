"""The link's vocabulary, and writing a RunSpec as a link (spec → query parameters).

Every bound, default and choice comes from ``nncore.runs.schema``; what lives here are the
link's own short names (``bs`` for the batch size, ``ce`` for softmax cross-entropy) and the
layer tokens (``16relu``, ``conv8x3relu:psame``, ``pool2``).
"""

from __future__ import annotations

import math
import re
from typing import Mapping
from urllib.parse import urlencode, urlparse

from ...data import points as drawn
from ..schema import DEFAULT_SCHEDULE, OPTIMIZER, SCHEDULE
from ..spec import LayerSpec, RunSpec

# ------------------------------------------------------------------- the vocabulary
# The link's own short names; every bound, default and choice comes from the schema.
DATA_KEYS = {"n_samples": "n", "noise": "noise", "seed": "dseed", "val_fraction": "val",
             "test_fraction": "test", "limit": "limit"}
LOSS_CODES = {"softmax_cross_entropy": "ce", "binary_cross_entropy": "bce", "mse": "mse",
              "mse_sum": "sse"}
OPTIMIZER_KEYS = {"lr": "lr", "momentum": "mom", "nesterov": "nest", "beta1": "b1",
                  "beta2": "b2", "eps": "eps"}
SCHEDULE_KEYS = {"step_size": "sstep", "gamma": "gamma", "min_lr_fraction": "minlr"}
assert set(OPTIMIZER_KEYS) == set(OPTIMIZER) and set(SCHEDULE_KEYS) == set(SCHEDULE)

SPEC_KEYS = {  # the top-level keys, besides data parameters and optimizer/schedule settings
    "v", "data", "layers", "loss", "out", "oinit", "sep", "opt", "sched", "l2", "bs", "ep",
    "shuf", "seed",
}
POINTS_KEYS = {"pts", "npts"}   # your own points: their text, or how many did not travel
# an assignment's locks and question, which lab/links/assignment.py reads
ASSIGNMENT_KEYS = {"lock", "hide", "ask"}
ALL_KEYS = (SPEC_KEYS | POINTS_KEYS | ASSIGNMENT_KEYS | set(DATA_KEYS.values())
            | set(OPTIMIZER_KEYS.values()) | set(SCHEDULE_KEYS.values()))
IGNORED_KEYS = {"embed", "embed_options"}   # Streamlit's own

# ------------------------------------------------------------------- the link's format
# A key left out of a link means its default — the default of the day the link was made.
# So a link says which format wrote it (``v=2``), and a format whose defaults differ from
# today's says here what it meant by leaving a key out. The first format had no ``v`` and
# left ``sched`` out for a constant rate, which was the default then; today's links leave it
# out for today's default (``DEFAULT_SCHEDULE``, cosine decay). Every link ever made opens
# the setup it was made with (tests/app/links_of_earlier_versions.json).
FORMAT = 2
LEFT_OUT = {1: {"sched": "constant"}}       # format → key → what leaving it out meant

MAX_VALUE_LENGTH = 64         # longer values are refused outright
MAX_LAYERS_LENGTH = 400       # the layers value may be longer: six layers with options
# Your own points travel in a link up to this many (4 characters each); a larger set is a
# file to share, and its link says so (npts) instead of carrying it.
MAX_LINK_POINTS = 200
MAX_POINTS_LENGTH = drawn.CHARS * MAX_LINK_POINTS
# Token shapes (matched whole, with re.fullmatch); the numbers in them are read by
# parse_number. re.ASCII: without it \d would also match "²" and "١".
_LAYER = re.compile(r"(\d{1,7})([a-z_]+)", re.ASCII)
_CONV = re.compile(r"conv(\d{1,7})x(\d{1,7})([a-z_]+)", re.ASCII)
_POOL = re.compile(r"pool(\d{1,7})", re.ASCII)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?", re.ASCII)
_WHOLE = re.compile(r"\d{1,7}", re.ASCII)
UPLOAD = "upload"             # the app's name for an uploaded data set (never in a link)


def parse_number(text: str, whole: bool = False) -> float | int | None:
    """The one parser of every number a link holds: ``12``, ``-0.5``, ``1e-3`` in ASCII
    digits (with ``whole``, only 0 … 9999999 as an int), or None for anything else. (Your
    own points are not numbers of the link: ``nncore.data.points`` reads their text.)

    ``float`` and ``int`` alone are too lenient for untrusted text: they take "١٢"
    (Arabic-Indic digits), "1_000", " 12 ", "inf" and "nan"; and ``str.isdigit`` is no
    guard, since "²" passes it but not ``int``."""
    if whole:
        return int(text) if _WHOLE.fullmatch(text) else None
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def shown(value) -> str:
    """An untrusted value, safe and short enough to quote in a note."""
    text = "".join(ch for ch in str(value) if ch.isprintable() and ch not in "`\\$")
    return f"`{text[:30]}{'…' if len(text) > 30 else ''}`"


# ------------------------------------------------------------------- spec → link
def _num(value) -> str:
    """A number as short text that parses back to exactly the same value."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def layer_token(layer: LayerSpec) -> str:
    """Dense ``16relu``, ``256relu:d0.2``, ``3tanh:uniform-0.5``; convolution
    ``conv8x3relu:psame`` (8 filters of 3×3, options ``:s`` stride, ``:p`` padding);
    max pooling ``pool2`` (option ``:s`` stride)."""
    kind = getattr(layer, "kind", "dense")
    if kind == "maxpool":
        return f"pool{layer.pool}" + (f":s{layer.stride}" if layer.stride is not None else "")
    if kind == "conv":
        token = f"conv{layer.filters}x{layer.kernel}{layer.activation}"
        if layer.stride is not None:
            token += f":s{layer.stride}"
        if layer.padding != 0:
            token += f":p{layer.padding}"
    else:
        token = f"{layer.units}{layer.activation}"
    if layer.dropout:
        token += f":d{_num(layer.dropout)}"
    if layer.init is not None:
        token += f":{layer.init}"
    return token


def spec_to_params(spec: RunSpec) -> dict[str, str]:
    """The query parameters that describe ``spec`` (all values strings), in today's
    format: a setting at its default is left out."""
    p: dict[str, str] = {"v": str(FORMAT), "data": str(spec.data.get("name", ""))}
    for name, key in DATA_KEYS.items():
        if spec.data.get(name) is not None:
            p[key] = _num(spec.data[name])
    if spec.data.get("points"):
        if points_travel(spec.data):
            p["pts"] = spec.data["points"]
        else:
            p["npts"] = str(drawn.count(spec.data["points"]))
    p["layers"] = ",".join(layer_token(h) for h in spec.hidden) or "none"
    p["loss"] = LOSS_CODES.get(spec.loss, spec.loss)
    if spec.output_activation is not None:
        p["out"] = spec.output_activation
    if spec.output_init is not None:
        p["oinit"] = spec.output_init
    if spec.separate_activations:
        p["sep"] = "1"
    p["opt"] = str(spec.optimizer.get("name"))
    for name, key in OPTIMIZER_KEYS.items():
        if name in spec.optimizer:
            p[key] = _num(spec.optimizer[name])
    if spec.schedule != DEFAULT_SCHEDULE:
        schedule = spec.schedule
        p["sched"] = str(schedule.get("name"))
        for name, key in SCHEDULE_KEYS.items():
            if name in schedule:
                p[key] = _num(schedule[name])
    if spec.l2:
        p["l2"] = _num(spec.l2)
    p["bs"] = "full" if spec.batch_size is None else str(spec.batch_size)
    p["ep"] = str(spec.epochs)
    if not spec.shuffle:
        p["shuf"] = "0"
    p["seed"] = str(spec.seed)
    return p


def points_travel(data: dict) -> bool:
    """Whether a link can carry this data set's points (always, when it has none)."""
    return drawn.count(data.get("points")) <= MAX_LINK_POINTS


def query_string(params: Mapping[str, str]) -> str:
    """``params`` as a query string that keeps commas and colons readable."""
    return urlencode(params, safe=",:")


def share_url(base_url: str | None, spec: RunSpec) -> str:
    """The full link (or just ``?…`` when the app's address is unknown)."""
    query = "?" + query_string(spec_to_params(spec))
    return with_base(base_url, query) if base_url else query


def with_base(base_url: str, query: str) -> str:
    """``query`` (``?…``) after the app's address, whatever query that address had."""
    parts = urlparse(base_url)
    root = parts.path in ("", "/")
    base = parts._replace(query="", fragment="").geturl()
    return base.rstrip("/") + ("/" if root else "") + query
