"""Reading a link (query parameters → RunSpec), which is untrusted text.

``spec_from_params`` never fails and never does anything but parse: names are looked up in
fixed tables, numbers are ASCII only and pulled into the schema's bounds, nothing is
evaluated, nothing names a file. Whatever is wrong falls back to the default and is
described in a note. The spec is built once, from a dict, and checked once.
"""

from __future__ import annotations

import logging
from typing import Mapping

from .grammar import (ALL_KEYS, ASSIGNMENT_KEYS, DATA_KEYS, FORMAT, IGNORED_KEYS,
                               LEFT_OUT, LOSS_CODES, MAX_LAYERS_LENGTH, MAX_LINK_POINTS,
                               MAX_POINTS_LENGTH, MAX_VALUE_LENGTH, OPTIMIZER_KEYS,
                               SCHEDULE_KEYS, UPLOAD, _num, parse_number)
from .grammar import shown as _shown
from .layers import read_layers
from ...data import points as drawn
from ...data.registry import DATASETS
from ..schema import OPTIMIZER, OPTIMIZERS, RUN, SCHEDULE, SCHEDULES, default_lr
from ..spec import RunSpec

_LOG = logging.getLogger("nncore.links")


# ------------------------------------------------------------------- link → spec
def is_link(params: Mapping) -> bool:
    """Whether the query parameters say anything about the setup."""
    return any(key in ALL_KEYS for key in params)


LONG_VALUES = {"layers": MAX_LAYERS_LENGTH, "pts": MAX_POINTS_LENGTH}   # key → its length bound


class _Reader:
    """Reads one link, collecting a note for everything it had to correct."""

    def __init__(self, params: Mapping):
        self.notes: list[str] = []
        self.raw: dict[str, str] = {}
        for key, value in params.items():
            if isinstance(value, (list, tuple)):        # a repeated key: the last one wins
                value = value[-1] if value else ""
            key, value = str(key), str(value)
            if key in IGNORED_KEYS or key in ASSIGNMENT_KEYS:   # (lab/links reads those)
                continue
            if key not in ALL_KEYS:
                self.notes.append(f"The link parameter {_shown(key)} is not one this app "
                                  "knows; it was ignored.")
                continue
            limit = LONG_VALUES.get(key, MAX_VALUE_LENGTH)
            if len(value) > limit:
                self.notes.append(
                    f"The link carries {len(value):,} characters of points, more than the "
                    f"{MAX_LINK_POINTS} points ({limit:,} characters) a link may; the plane "
                    "starts empty." if key == "pts" else
                    f"The link's {key} value is too long ({len(value):,} characters, at most "
                    f"{limit:,}); the default was used.")
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
        number = parse_number(value)
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

    def setting(self, key, setting, default, what=None, siblings=None):
        """``number`` with the kind and bounds the schema declares for this setting."""
        low, high = setting.bounds(siblings)
        return self.number(key, setting.kind, low, high, default, what)

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

    Never raises: anything malformed falls back to the default ``RunSpec()`` values, and
    should reading fail in a way nobody foresaw, the whole link does (the traceback goes
    to the server log): a link can never stop a page from drawing.
    """
    try:
        return _spec_from_params(params)
    except Exception:     # noqa: BLE001 — a bug here must not cost the visitor the app
        _LOG.exception("Reading a link failed; the default setup was used instead")
        return RunSpec(), ["The link could not be read; the default setup was used."]


def _spec_from_params(params: Mapping) -> tuple[RunSpec, list[str]]:
    r = _Reader(params)
    default = RunSpec()
    d: dict = {}
    left_out = LEFT_OUT.get(_format(r), {})    # what this link's format meant by a missing key

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
    given_points = [key for key in ("pts", "npts") if key in r.raw]
    if d["data"]["name"] == "points":
        _points(r, d["data"])
    elif given_points:
        r.note(f"The data set {info.name} takes no points ({', '.join(given_points)}); "
               "they were ignored.")
        for key in given_points:
            r.take(key)
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
    d["hidden"] = read_layers(r, default)

    # --- loss and output layer
    d["loss"] = r.choice("loss", RUN["loss"].choices, default.loss, "The loss",
                         aliases={v: k for k, v in LOSS_CODES.items()})
    d["output_activation"] = r.choice("out", RUN["output_activation"].choices, None,
                                      "The output activation")
    d["output_init"] = r.choice("oinit", RUN["output_init"].choices, None,
                                "The output initialisation")
    d["separate_activations"] = r.setting("sep", RUN["separate_activations"],
                                          default.separate_activations, "sep")

    # --- optimizer
    opt_name = r.choice("opt", tuple(OPTIMIZERS), default.optimizer["name"], "The optimizer")
    optimizer = {"name": opt_name}
    if "lr" not in r.raw:
        optimizer["lr"] = default_lr(opt_name)
    optimizer.update(_settings(r, f"the {opt_name} optimizer", OPTIMIZER_KEYS, OPTIMIZER,
                               OPTIMIZERS[opt_name].settings, {"lr": default_lr(opt_name)}))
    if optimizer.get("nesterov") and not optimizer.get("momentum"):
        r.note("Nesterov momentum needs a momentum above 0; nesterov was switched off.")
        optimizer.pop("nesterov")
    if opt_name == "nesterov" and optimizer.get("momentum") == 0:
        r.note("Nesterov momentum needs a momentum above 0; 0.9 was used.")
        optimizer["momentum"] = 0.9
    d["optimizer"] = dict(sorted(optimizer.items(), key=lambda kv: kv[0] != "name"))

    # --- schedule
    if "sched" in r.raw or "sched" in left_out:
        sched_name = r.choice("sched", tuple(SCHEDULES), left_out.get("sched", "constant"),
                              "The schedule")
        schedule = {"name": sched_name}
        schedule.update(_settings(r, f"the {sched_name} schedule", SCHEDULE_KEYS, SCHEDULE,
                                  SCHEDULES[sched_name].settings, {}))
    else:       # today's default, with any settings the link gives for it
        schedule = dict(default.schedule)
        schedule.update(_settings(r, f"the {schedule['name']} schedule", SCHEDULE_KEYS,
                                  SCHEDULE, SCHEDULES[schedule["name"]].settings, {}))
    d["schedule"] = schedule

    # --- training settings
    d["l2"] = r.setting("l2", RUN["l2"], default.l2, "l2")
    bs = r.raw.get("bs")
    if bs is not None and bs.lower() in ("full", "none", "all"):
        r.take("bs")
        d["batch_size"] = None
    else:
        d["batch_size"] = r.setting("bs", RUN["batch_size"], default.batch_size,
                                    "The batch size (bs)")
    d["epochs"] = r.setting("ep", RUN["epochs"], default.epochs, "The epochs (ep)")
    d["shuffle"] = r.setting("shuf", RUN["shuffle"], default.shuffle, "shuf")
    d["seed"] = r.setting("seed", RUN["seed"], default.seed, "The seed")

    try:
        return RunSpec.from_dict(d), r.notes
    except (ValueError, TypeError) as e:  # a combination no single check caught
        return RunSpec(), r.notes + [f"The link's setup did not hold together ({e}); the "
                                     "default setup was used."]


def _points(r: _Reader, data: dict) -> None:
    """Your own points, as the link carries them (``pts``): read by the data set's own
    lenient decoder (``nncore.data.points.decode_lenient``), which keeps every group of
    four characters that is a point of the plane with a class and counts the others. The
    value's length was bounded before anything was read (``MAX_POINTS_LENGTH``), so a link
    holds at most ``MAX_LINK_POINTS``. Without ``pts`` the plane starts empty — and
    ``npts`` says how many did not travel."""
    text, missing = r.take("pts"), r.take("npts")
    if text is None:
        if missing is not None:
            n = parse_number(missing, whole=True)
            r.note(f"The link was made with {'' if n is None else f'{n:,} of '}your own "
                   f"points: more than the {MAX_LINK_POINTS} a link can carry, so the plane "
                   "starts empty. Ask for them as a CSV file and upload it on the Dataset page.")
        return
    X, y, left_out = drawn.decode_lenient(text)
    if left_out:
        r.note(f"{left_out} of the link's {len(y) + left_out} points "
               f"{'is' if left_out == 1 else 'are'} not a point of the plane with a class "
               f"0 … {drawn.MAX_CLASSES - 1}; {'it was' if left_out == 1 else 'they were'} "
               "left out.")
    if len(y):
        data["points"] = drawn.encode(X, y)


def _format(r: _Reader) -> int:
    """The link's format: 1 without ``v`` (links made before formats were numbered)."""
    version = r.take("v")
    if version is None:
        return 1
    number = parse_number(version, whole=True)
    if number is None or number < 1:
        r.note(f"The link's format v should be a whole number from 1, not {_shown(version)}; "
               f"it was read as today's ({FORMAT}).")
        return FORMAT
    if number > FORMAT:
        r.note(f"The link was made by a newer version of the app (format {number}); it was "
               f"read as format {FORMAT}, and settings this version does not know fell back.")
        return FORMAT
    return number


def _settings(r: _Reader, owner: str, keys: dict, schema: dict, applicable,
              fallbacks: dict) -> dict:
    """The settings of an optimizer or a schedule that the link gives: those that apply to
    ``owner`` are read (clamped, or their fallback — the schema's default unless
    ``fallbacks`` says otherwise — with a note); the rest are noted and dropped."""
    found = {}
    for setting, key in keys.items():
        if key not in r.raw:
            continue
        if setting not in applicable:
            r.take(key)
            r.note(f"{key} does not apply to {owner}; it was ignored.")
            continue
        fallback = fallbacks.get(setting, schema[setting].default)
        found[setting] = r.setting(key, schema[setting], fallback, what=key)
    return found
