"""One-line descriptions of a setup, as the sidebar and the pages show them."""

from __future__ import annotations

import math

from lab.datasets import UPLOAD_PARAMS, dataset_title, fell_back
from lab.links import UPLOAD
from nncore.data import DATASETS
from nncore.data import points as drawn
from nncore.runs.spec import LayerSpec, RunSpec


def data_line(spec: RunSpec) -> str:
    """"Two moons (1,000 points, noise 0.2, seed 0, no validation split)": the data set and
    its parameters in words, as each parameter's ``ParamSpec`` says them."""
    name = spec.data["name"]
    specs = UPLOAD_PARAMS if name == UPLOAD else getattr(DATASETS.get(name), "params", {})
    params = ", ".join(specs[k].say(v) if k in specs else drawn.say(v) if k == "points"
                       else f"{k} {v}" for k, v in spec.data.items()
                       if k not in ("name", "upload"))     # (an upload's fingerprint: no words)
    line = dataset_title(name) + (f" ({params})" if params else "")
    if fell_back(spec.data):
        line += " — unavailable, the 8×8 digits stand in"
    return line


def network_line(spec: RunSpec, n_features: int | None = None, n_classes: int | None = None) -> str:
    """"784-256-128-10 relu, adam lr 0.001, 10 epochs" (in / out while the sizes are unknown)."""
    sizes = [str(n_features) if n_features else "in"]
    sizes += [_layer_size(h) for h in spec.hidden]
    sizes.append(str(spec.output_layer(n_classes)[0]) if n_classes else "out")
    acts = "/".join(dict.fromkeys(h.activation for h in spec.hidden
                                  if h.kind != "maxpool")) or "no hidden layer"
    opt = spec.optimizer
    return f"{'-'.join(sizes)} {acts}, {opt['name']} lr {opt.get('lr')}, {spec.epochs} epochs"


def _layer_size(h: LayerSpec) -> str:
    """"256" for a dense layer, "conv8" / "pool2" for the image layers a spec may start with."""
    return {"conv": f"conv{h.filters}", "maxpool": f"pool{h.pool}"}.get(h.kind, str(h.units))


def duration(seconds) -> str:
    """"1:05" for 65 seconds, "1:02:03" past an hour, "–" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
