"""Shareable links: a ``RunSpec`` ⇄ the page's query parameters.

A link carries the whole setup — data set, hidden layers, loss, optimizer, schedule and
seeds — so opening it rebuilds the same run, and with the same seed training reaches the
same weights. The encoding is short and readable::

    ?data=moons&n=1000&noise=0.2&dseed=0&val=0&layers=16relu:normal-0.1&loss=bce
     &oinit=normal-0.1&opt=sgd&lr=1.0&bs=full&ep=1000&seed=99

A link is untrusted text, so reading one (``spec_from_params``) never fails and never
does anything but parse: names are looked up in fixed tables, numbers are parsed with
``float``/``int`` and pulled into the same ranges the spec and the data sets allow
(``LIMITS``, ``ParamSpec``), nothing is evaluated, and nothing names a file. Whatever is
wrong falls back to the default and is described in a note for the page to show.

No Streamlit here: the app applies these functions to ``st.query_params``.
"""

from __future__ import annotations

import math
import re
from typing import Mapping
from urllib.parse import urlencode, urlparse

from nncore.data.registry import DATASETS
from nncore.initializers import INITIALIZERS
from nncore.losses import LOSSES
from nncore.runs.spec import HIDDEN_ACTIVATIONS, LIMITS, OUTPUT_ACTIVATIONS, LayerSpec, RunSpec

# ------------------------------------------------------------------- the vocabulary
# data-set parameter ⇄ link key
DATA_KEYS = {"n_samples": "n", "noise": "noise", "seed": "dseed", "val_fraction": "val",
             "test_fraction": "test", "limit": "limit"}
LOSS_CODES = {"softmax_cross_entropy": "ce", "binary_cross_entropy": "bce", "mse": "mse",
              "mse_sum": "sse"}
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adam")
SCHEDULE_NAMES = ("constant", "step", "cosine")

# optimizer / schedule setting ⇄ (link key, kind, min, max)
OPTIMIZER_KEYS = {
    "lr": ("lr", float, 1e-6, 10.0),
    "momentum": ("mom", float, 0.0, 0.99),
    "nesterov": ("nest", bool, 0, 1),
    "beta1": ("b1", float, 0.0, 0.999),
    "beta2": ("b2", float, 0.0, 0.9999),
    "eps": ("eps", float, 1e-12, 1e-2),
}
DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adam": 0.001}
OPTIMIZER_SETTINGS = {"sgd": ("lr", "momentum", "nesterov"), "momentum": ("lr", "momentum"),
                      "nesterov": ("lr", "momentum"), "adam": ("lr", "beta1", "beta2", "eps")}
SCHEDULE_KEYS = {
    "step_size": ("sstep", int, 1, 10_000),
    "gamma": ("gamma", float, 0.01, 1.0),
    "min_lr_fraction": ("minlr", float, 0.0, 1.0),
}
SCHEDULE_SETTINGS = {"constant": (), "step": ("step_size", "gamma"), "cosine": ("min_lr_fraction",)}
# what an out-of-range or unreadable setting falls back to (lr: the optimizer's DEFAULT_LR)
OPTIMIZER_FALLBACKS = {"momentum": 0.9, "nesterov": False, "beta1": 0.9, "beta2": 0.999,
                       "eps": 1e-8}
SCHEDULE_FALLBACKS = {"step_size": 10, "gamma": 0.5, "min_lr_fraction": 0.0}

SPEC_KEYS = {  # the top-level keys, besides data parameters and optimizer/schedule settings
    "data", "layers", "loss", "out", "oinit", "sep", "opt", "sched", "l2", "bs", "ep", "shuf",
    "seed",
}
ALL_KEYS = (SPEC_KEYS | set(DATA_KEYS.values()) | {k for k, *_ in OPTIMIZER_KEYS.values()}
            | {k for k, *_ in SCHEDULE_KEYS.values()})
IGNORED_KEYS = {"embed", "embed_options"}   # Streamlit's own

MAX_VALUE_LENGTH = 64         # longer values are refused outright
MAX_LAYERS_LENGTH = 400       # the layers value may be longer: six layers with options
SEED_MAX = 2 ** 32 - 1
_LAYER = re.compile(r"^(\d{1,7})([a-z_]+)$")
_CONV = re.compile(r"^conv(\d{1,7})x(\d{1,7})([a-z_]+)$")
_POOL = re.compile(r"^pool(\d{1,7})$")
UPLOAD = "upload"             # the app's name for an uploaded data set (never in a link)


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
    """The query parameters that describe ``spec`` (all values strings)."""
    p: dict[str, str] = {"data": str(spec.data.get("name", ""))}
    for name, key in DATA_KEYS.items():
        if spec.data.get(name) is not None:
            p[key] = _num(spec.data[name])
    p["layers"] = ",".join(layer_token(h) for h in spec.hidden) or "none"
    p["loss"] = LOSS_CODES.get(spec.loss, spec.loss)
    if spec.output_activation is not None:
        p["out"] = spec.output_activation
    if spec.output_init is not None:
        p["oinit"] = spec.output_init
    if spec.separate_activations:
        p["sep"] = "1"
    p["opt"] = str(spec.optimizer.get("name"))
    for name, (key, *_rest) in OPTIMIZER_KEYS.items():
        if name in spec.optimizer:
            p[key] = _num(spec.optimizer[name])
    schedule = spec.schedule or {"name": "constant"}
    if schedule.get("name", "constant") != "constant" or len(schedule) > 1:
        p["sched"] = str(schedule.get("name"))
        for name, (key, *_rest) in SCHEDULE_KEYS.items():
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


def query_string(params: Mapping[str, str]) -> str:
    """``params`` as a query string that keeps commas and colons readable."""
    return urlencode(params, safe=",:")


def share_url(base_url: str | None, spec: RunSpec) -> str:
    """The full link (or just ``?…`` when the app's address is unknown)."""
    query = "?" + query_string(spec_to_params(spec))
    if not base_url:
        return query
    root = urlparse(base_url).path in ("", "/")
    return base_url.rstrip("/") + ("/" if root else "") + query


# ------------------------------------------------------------------- link → spec
def is_link(params: Mapping) -> bool:
    """Whether the query parameters say anything about the setup."""
    return any(key in ALL_KEYS for key in params)


def _shown(value) -> str:
    """An untrusted value, safe and short enough to quote in a note."""
    text = "".join(ch for ch in str(value) if ch.isprintable() and ch not in "`\\$")
    return f"`{text[:30]}{'…' if len(text) > 30 else ''}`"


class _Reader:
    """Reads one link, collecting a note for everything it had to correct."""

    def __init__(self, params: Mapping):
        self.notes: list[str] = []
        self.raw: dict[str, str] = {}
        for key, value in params.items():
            if isinstance(value, (list, tuple)):        # a repeated key: the last one wins
                value = value[-1] if value else ""
            key, value = str(key), str(value)
            if key in IGNORED_KEYS:
                continue
            if key not in ALL_KEYS:
                self.notes.append(f"The link parameter {_shown(key)} is not one this app "
                                  "knows; it was ignored.")
                continue
            limit = MAX_LAYERS_LENGTH if key == "layers" else MAX_VALUE_LENGTH
            if len(value) > limit:
                self.notes.append(f"The link's {key} value is too long ({len(value)} "
                                  f"characters); the default was used.")
                continue
            self.raw[key] = value.strip()
        self.used: set[str] = set()

    def take(self, key):
        self.used.add(key)
        return self.raw.get(key)

    def note(self, text):
        self.notes.append(text)

    def number(self, key, kind, lo, hi, default, what=None):
        """Parse ``key`` as int/float/bool in [lo, hi]; garbage gives ``default``."""
        value = self.take(key)
        if value is None:
            return default
        what = what or key
        if kind is bool:
            if value in ("1", "true", "yes", "on"):
                return True
            if value in ("0", "false", "no", "off"):
                return False
            self.note(f"{what} should be 1 or 0, not {_shown(value)}; the default was used.")
            return default
        number = _finite_number(value)
        if number is None:
            self.note(f"{what} should be a number, not {_shown(value)}; the default "
                      f"({_default_text(default)}) was used.")
            return default
        if kind is int and number != int(number):
            self.note(f"{what} should be a whole number, not {_shown(value)}; it was rounded.")
            number = float(round(number))
        if not lo <= number <= hi:
            clamped = min(max(number, lo), hi)
            self.note(f"{what} = {_shown(value)} is outside {_num(lo)} … {_num(hi)}; "
                      f"{_num(kind(clamped))} was used.")
            number = clamped
        return kind(number)

    def choice(self, key, options, default, what=None, aliases=None):
        value = self.take(key)
        if value is None:
            return default
        value = (aliases or {}).get(value.lower(), value.lower())
        if value in options:
            return value
        self.note(f"{what or key} {_shown(value)} is not one of {', '.join(options)}; "
                  f"{default} was used.")
        return default


def _default_text(default):
    return "none" if default is None else _num(default) if isinstance(default, (int, float)) else str(default)


def spec_from_params(params: Mapping) -> tuple[RunSpec, list[str]]:
    """The RunSpec a link describes, and a note for everything that had to be corrected.

    Never raises: anything malformed falls back to the default ``RunSpec()`` values.
    """
    r = _Reader(params)
    default = RunSpec()
    d: dict = {}

    # --- the data set
    name = r.take("data")
    if name is None:
        d["data"] = dict(default.data)
    elif name in DATASETS:
        d["data"] = {"name": name}
    else:
        if name == UPLOAD:
            r.note("The link was made with an uploaded data set, which a link cannot carry; "
                   f"the default data set ({default.data['name']}) was used.")
        else:
            r.note(f"Unknown data set {_shown(name)} (expected one of {', '.join(DATASETS)}); "
                   f"the default ({default.data['name']}) was used.")
        d["data"] = dict(default.data)
    info = DATASETS[d["data"]["name"]]
    given = [key for key in DATA_KEYS.values() if key in r.raw]
    if name is not None and name not in DATASETS and given:
        r.note(f"The data parameters meant for that data set ({', '.join(given)}) were ignored.")
        for key in given:
            r.take(key)
        given = []
    for pname, key in DATA_KEYS.items():
        if key not in given:
            continue
        spec = info.params.get(pname)
        if spec is None:
            r.take(key)
            r.note(f"The data set {info.name} takes no {key} ({pname}); it was ignored.")
        elif spec.default is None and r.raw[key].lower() in ("", "none"):
            r.take(key)           # "none" is this parameter's own "off" (MNIST's limit)
        else:
            parsed = r.number(key, spec.type, spec.min, spec.max, spec.default)
            if parsed is not None:
                d["data"][pname] = parsed

    # --- the layers
    d["hidden"] = _layers(r, default)

    # --- loss and output layer
    d["loss"] = r.choice("loss", tuple(LOSSES), default.loss, "The loss",
                         aliases={v: k for k, v in LOSS_CODES.items()})
    d["output_activation"] = r.choice("out", OUTPUT_ACTIVATIONS, None, "The output activation")
    d["output_init"] = r.choice("oinit", tuple(INITIALIZERS), None, "The output initialisation")
    d["separate_activations"] = r.number("sep", bool, 0, 1, False, "sep")

    # --- optimizer
    opt_name = r.choice("opt", OPTIMIZER_NAMES, default.optimizer["name"], "The optimizer")
    optimizer = {"name": opt_name}
    default_lr = DEFAULT_LR[opt_name]
    if "lr" not in r.raw:
        optimizer["lr"] = default_lr
    optimizer.update(_settings(r, f"the {opt_name} optimizer", OPTIMIZER_KEYS,
                               OPTIMIZER_SETTINGS[opt_name], {**OPTIMIZER_FALLBACKS, "lr": default_lr}))
    if optimizer.get("nesterov") and not optimizer.get("momentum"):
        r.note("Nesterov momentum needs a momentum above 0; nesterov was switched off.")
        optimizer.pop("nesterov")
    if opt_name == "nesterov" and optimizer.get("momentum") == 0:
        r.note("Nesterov momentum needs a momentum above 0; 0.9 was used.")
        optimizer["momentum"] = 0.9
    d["optimizer"] = dict(sorted(optimizer.items(), key=lambda kv: kv[0] != "name"))

    # --- schedule
    sched_name = r.choice("sched", SCHEDULE_NAMES, "constant", "The schedule")
    schedule = {"name": sched_name}
    schedule.update(_settings(r, f"the {sched_name} schedule", SCHEDULE_KEYS,
                              SCHEDULE_SETTINGS[sched_name], SCHEDULE_FALLBACKS))
    d["schedule"] = schedule

    # --- training settings
    d["l2"] = r.number("l2", float, 0.0, 1.0, 0.0, "l2")
    bs = r.raw.get("bs")
    if bs is not None and bs.lower() in ("full", "none", "all"):
        r.take("bs")
        d["batch_size"] = None
    else:
        d["batch_size"] = r.number("bs", int, 1, LIMITS["max_batch_size"], default.batch_size,
                                   "The batch size (bs)")
    d["epochs"] = r.number("ep", int, 1, LIMITS["max_epochs"], default.epochs, "The epochs (ep)")
    d["shuffle"] = r.number("shuf", bool, 0, 1, True, "shuf")
    d["seed"] = r.number("seed", int, 0, SEED_MAX, default.seed, "The seed")

    try:
        return RunSpec.from_dict(d), r.notes
    except (ValueError, TypeError) as e:  # a combination no single check caught
        return RunSpec(), r.notes + [f"The link's setup did not hold together ({e}); the "
                                     "default setup was used."]


def _finite_number(value: str) -> float | None:
    """The number a link's text spells, or None for text that is not a finite number."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _clamped(r: _Reader, where: str, what: str, value: int, lo: int, hi: int) -> int:
    if not lo <= value <= hi:
        fixed = min(max(value, lo), hi)
        r.note(f"{where}: {value} {what} is outside {lo} … {hi}; {fixed} was used.")
        return fixed
    return value


def _settings(r: _Reader, owner: str, keys: dict, applicable, fallbacks: dict) -> dict:
    """The settings of an optimizer or a schedule that the link gives: those that apply to
    ``owner`` are read (clamped, or their fallback with a note); the rest are noted and
    dropped."""
    found = {}
    for setting, (key, kind, lo, hi) in keys.items():
        if key not in r.raw:
            continue
        if setting not in applicable:
            r.take(key)
            r.note(f"{key} does not apply to {owner}; it was ignored.")
            continue
        found[setting] = r.number(key, kind, lo, hi, fallbacks[setting], what=key)
    return found


def _layers(r: _Reader, default: RunSpec) -> list[dict]:
    value = r.take("layers")
    if value is None:
        return [h.to_dict() if hasattr(h, "to_dict") else vars(h).copy() for h in default.hidden]
    if value.lower() in ("", "none", "0"):
        return []
    layers = []
    tokens = [t for t in value.split(",") if t.strip()]
    if len(tokens) > LIMITS["max_hidden_layers"]:
        r.note(f"The link asks for {len(tokens)} hidden layers; only the first "
               f"{LIMITS['max_hidden_layers']} were kept (the limit).")
        tokens = tokens[:LIMITS["max_hidden_layers"]]
    seen_dense = False
    for i, token in enumerate(tokens, 1):
        where = f"Hidden layer {i}"
        head, *options = token.strip().lower().split(":")
        dense, conv, pool = _LAYER.match(head), _CONV.match(head), _POOL.match(head)
        if not (dense or conv or pool):
            r.note(f"{where} {_shown(token)} is not of the form 16relu, conv8x3relu or pool2; "
                   "it was left out.")
            continue
        if (conv or pool) and seen_dense:
            r.note(f"{where} {_shown(head)} comes after a dense layer; conv and pool layers "
                   "must come first, so it was left out.")
            continue
        if pool:
            size = _clamped(r, where, "pool size", int(pool.group(1)), 1, LIMITS.get("max_pool", 8))
            layer = {"kind": "maxpool", "pool": size, "stride": None}
        else:
            m = dense or conv
            activation = m.group(m.lastindex)
            if activation not in HIDDEN_ACTIVATIONS:
                r.note(f"{where}: activation {_shown(activation)} is not one of "
                       f"{', '.join(HIDDEN_ACTIVATIONS)}; relu was used.")
                activation = "relu"
            if dense:
                seen_dense = True
                layer = {"units": _clamped(r, where, "units", int(m.group(1)), 1, LIMITS["max_units"]),
                         "activation": activation, "dropout": 0.0, "init": None}
            else:
                layer = {"kind": "conv",
                         "filters": _clamped(r, where, "filters", int(m.group(1)), 1,
                                             LIMITS.get("max_filters", 128)),
                         "kernel": _clamped(r, where, "kernel", int(m.group(2)), 1,
                                            LIMITS.get("max_kernel", 9)),
                         "stride": None, "padding": 0, "activation": activation,
                         "dropout": 0.0, "init": None}
        for option in options:
            _layer_option(r, where, layer, option)
        layers.append(layer)
    return layers


def _layer_option(r: _Reader, where: str, layer: dict, option: str) -> None:
    kind = layer.get("kind", "dense")
    if option in INITIALIZERS and kind != "maxpool":
        layer["init"] = option
    elif option.startswith("d") and kind != "maxpool":
        try:
            p = float(option[1:])
        except ValueError:
            p = math.nan
        if not math.isfinite(p):
            r.note(f"{where}: dropout {_shown(option)} is not a number; no dropout was used.")
            return
        if not 0 <= p <= 0.9:
            r.note(f"{where}: dropout {_shown(option[1:])} is outside 0 … 0.9; "
                   f"{min(max(p, 0.0), 0.9)} was used.")
            p = min(max(p, 0.0), 0.9)
        layer["dropout"] = p
    elif option.startswith("s") and option[1:].isdigit() and kind != "dense":
        hi = layer["pool"] if kind == "maxpool" else LIMITS.get("max_stride", 4)
        layer["stride"] = _clamped(r, where, "stride", int(option[1:]), 1, hi)
    elif option.startswith("p") and kind == "conv" and (option[1:].isdigit()
                                                         or option[1:] in ("same", "valid")):
        padding = option[1:]
        if padding == "same" and layer["kernel"] % 2 == 0:
            r.note(f"{where}: padding same needs an odd kernel; no padding was used.")
            return
        layer["padding"] = padding if padding in ("same", "valid") else _clamped(
            r, where, "padding", int(padding), 0, max(layer["kernel"] - 1, 0))
    else:
        r.note(f"{where}: {_shown(option)} is not a setting this layer takes (dropout d0.2, an "
               f"initialisation such as he{', stride s2' if kind != 'dense' else ''}"
               f"{', padding psame or p1' if kind == 'conv' else ''}); it was ignored.")


__all__ = ["spec_to_params", "spec_from_params", "query_string", "share_url", "is_link",
           "layer_token", "UPLOAD"]
