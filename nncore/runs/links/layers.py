"""Reading a link's hidden layers (``layers=16relu:d0.2,conv8x3relu:psame,pool2``).

Each token is matched whole against the shapes in ``grammar`` (dense, conv, pool), its
numbers read by the one parser and pulled into the schema's bounds; what cannot be read is
left out with a note, and conv and pool layers after a dense one are refused (they read
images). ``r`` is the reader of one link (``reader._Reader``): ``take`` a key, ``note`` a
sentence.
"""

from __future__ import annotations

from .grammar import _CONV, _LAYER, _POOL, _num, parse_number, shown as _shown
from ..schema import CONV, DENSE, LIMITS, MAXPOOL


def read_layers(r, default) -> list[dict]:
    value = r.take("layers")
    if value is None:
        return [h.to_dict() for h in default.hidden]
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
        dense, conv, pool = _LAYER.fullmatch(head), _CONV.fullmatch(head), _POOL.fullmatch(head)
        if not (dense or conv or pool):
            r.note(f"{where} {_shown(token)} is not of the form 16relu, conv8x3relu or pool2; "
                   "it was left out.")
            continue
        if (conv or pool) and seen_dense:
            r.note(f"{where} {_shown(head)} comes after a dense layer; conv and pool layers "
                   "must come first, so it was left out.")
            continue
        if pool:
            size = _clamped(r, where, "pool size", parse_number(pool.group(1), whole=True), MAXPOOL["pool"])
            layer = {"kind": "maxpool", "pool": size}      # the other fields: LayerSpec's defaults
        else:
            m = dense or conv
            activation = m.group(m.lastindex)
            activations = DENSE["activation"].choices
            if activation not in activations:
                r.note(f"{where}: activation {_shown(activation)} is not one of "
                       f"{', '.join(activations)}; {DENSE['activation'].default} was used.")
                activation = DENSE["activation"].default
            if dense:
                seen_dense = True
                layer = {"units": _clamped(r, where, "units", parse_number(m.group(1), whole=True), DENSE["units"]),
                         "activation": activation}
            else:
                layer = {"kind": "conv",
                         "filters": _clamped(r, where, "filters", parse_number(m.group(1), whole=True),
                                             CONV["filters"]),
                         "kernel": _clamped(r, where, "kernel", parse_number(m.group(2), whole=True), CONV["kernel"]),
                         "activation": activation}
        for option in options:
            _layer_option(r, where, layer, option)
        layers.append(layer)
    return layers


def _layer_option(r, where: str, layer: dict, option: str) -> None:
    kind = layer.get("kind", "dense")
    whole = parse_number(option[1:], whole=True)      # the number after s or p, if any
    if option in DENSE["init"].choices and kind != "maxpool":
        layer["init"] = option
    elif option.startswith("d") and kind != "maxpool":
        p = parse_number(option[1:])
        if p is None:
            r.note(f"{where}: dropout {_shown(option)} is not a number; no dropout was used.")
            return
        low, high = DENSE["dropout"].bounds()
        if not low <= p <= high:
            r.note(f"{where}: dropout {_shown(option[1:])} is outside {_num(low)} … "
                   f"{_num(high)}; {min(max(p, low), high)} was used.")
            p = min(max(p, low), high)
        layer["dropout"] = p
    elif option.startswith("s") and whole is not None and kind != "dense":
        stride = (MAXPOOL if kind == "maxpool" else CONV)["stride"]
        layer["stride"] = _clamped(r, where, "stride", whole, stride, layer)
    elif option.startswith("p") and kind == "conv" and (whole is not None
                                                         or option[1:] in CONV["padding"].words):
        padding = option[1:]
        if padding == "same" and layer["kernel"] % 2 == 0:
            r.note(f"{where}: padding same needs an odd kernel; no padding was used.")
            return
        layer["padding"] = padding if whole is None else _clamped(
            r, where, "padding", whole, CONV["padding"], {"kernel": layer["kernel"]})
    else:
        r.note(f"{where}: {_shown(option)} is not a setting this layer takes (dropout d0.2, an "
               f"initialisation such as he{', stride s2' if kind != 'dense' else ''}"
               f"{', padding psame or p1' if kind == 'conv' else ''}); it was ignored.")


def _clamped(r, where: str, what: str, value: int, setting, layer=None) -> int:
    """A layer's whole number pulled into the schema's bounds, with a note if it moved."""
    lo, hi = setting.bounds(layer)
    if not lo <= value <= hi:
        fixed = min(max(value, lo), hi)
        r.note(f"{where}: {value} {what} is outside {lo} … {hi}; {fixed} was used.")
        return fixed
    return value
