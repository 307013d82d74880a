"""A session's run history: every run that trained, kept to compare, restore and rerun.

No Streamlit here: ``lab.runs`` keeps one ``RunHistory`` in the session and adds a
``RunRecord`` whenever a run ends having trained (finished, stopped, diverged after an
epoch); the Training page's "Runs" tab reads it.

A record keeps what comparing needs — the settings, the per-epoch curves, the final
figures — and, while the session's budget allows, the run's weights: those it started
from (for a *twin run*: the same initial weights and data order, one setting changed)
and those it ended with (to restore it as the model, draw its boundary, download it).

Bounds, decided here once: at most ``MAX_RUNS`` records (the oldest goes first), and at
most ``MAX_WEIGHT_BYTES`` of weights over all of them: past that, the oldest runs lose
their weights and keep their curves. The default MNIST network (235,146 parameters) costs
1.9 MB a run, so ten of them keep everything; a session's history never holds more than
64 MB of weights, plus its curves (a few KB a run).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from dataclasses import dataclass, field

import numpy as np

from nncore.data import points
from nncore.runs.spec import RunSpec

MAX_RUNS = 10
MAX_WEIGHT_BYTES = 64 * 2**20


@dataclass
class RunRecord:
    number: int                     # 1, 2, 3 … in the order the session's runs ended
    name: str                       # "Run 3", until the learner renames it
    spec: dict                      # RunSpec.to_dict() of the run
    state: str                      # finished | stopped | diverged
    message: str | None             # why it stopped or diverged
    history: dict                   # History.as_dict() without the per-batch list
    metrics: dict                   # final figures: train loss, val/test accuracy …
    seconds: float                  # training time
    ended_at: float = field(default_factory=time.time)
    sizes: tuple | None = None      # (inputs, classes) of its data, for "2-16-1"; None if gone
    network: object | None = None   # the trained Network (None once the budget dropped it)
    initial_weights: list | None = None   # what it started from (None likewise)
    continued: bool = False         # it trained a model further instead of a new one

    @property
    def weight_bytes(self) -> int:
        final = (sum(p.nbytes for _, p, _ in self.network.parameters())
                 if self.network is not None else 0)
        return final + sum(w.nbytes for w in self.initial_weights or [])

    @property
    def has_weights(self) -> bool:
        return self.network is not None and self.initial_weights is not None

    def curves_rows(self) -> list[dict]:
        """One row per epoch: epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr."""
        h = self.history
        names = [k for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr",
                             "seconds") if h.get(k)]
        return [{"epoch": e, **{k: h[k][i] for k in names if i < len(h[k])}}
                for i, e in enumerate(h.get("epoch", []))]

    def to_json(self) -> str:
        """Its settings, curves and figures (no weights), for a download."""
        return json.dumps({"name": self.name, "number": self.number, "state": self.state,
                           "message": self.message, "spec": self.spec, "metrics": self.metrics,
                           "seconds": self.seconds, "curves": self.curves_rows()}, indent=1)

    def to_csv(self) -> str:
        rows = self.curves_rows()
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue()


class RunHistory:
    """The records of one session, newest last (see the module docstring for bounds)."""

    def __init__(self, max_runs: int = MAX_RUNS, max_weight_bytes: int = MAX_WEIGHT_BYTES):
        self.max_runs, self.max_weight_bytes = max_runs, max_weight_bytes
        self.records: list[RunRecord] = []
        self._next = 1

    def add(self, **fields) -> RunRecord:
        record = RunRecord(number=self._next, name=f"Run {self._next}", **fields)
        self._next += 1
        self.records.append(record)
        del self.records[:-self.max_runs]
        self._keep_within_budget()
        return record

    def _keep_within_budget(self) -> None:
        """Drop the weights of the oldest runs until all that is kept fits the budget."""
        total = sum(r.weight_bytes for r in self.records)
        for record in self.records[:-1]:        # the newest keeps its weights, always
            if total <= self.max_weight_bytes:
                break
            total -= record.weight_bytes
            record.network, record.initial_weights = None, None

    def get(self, number: int) -> RunRecord | None:
        return next((r for r in self.records if r.number == number), None)

    def remove(self, number: int) -> None:
        self.records = [r for r in self.records if r.number != number]

    def rename(self, number: int, name: str) -> None:
        record = self.get(number)
        name = " ".join(str(name).split())[:60]
        if record is not None and name:
            record.name = name

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)


def settings_of(spec: dict) -> dict:
    """{"data.name": "moons", "hidden": "16 relu, 8 relu", "optimizer.lr": 0.01, …}: a
    run's settings as one level, its layers in words."""
    flat = {}

    def walk(value, name):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{name}.{key}" if name else key)
        else:
            flat[name] = value

    walk({k: v for k, v in spec.items() if k != "hidden"}, "")
    if isinstance(flat.get("data.points"), str):    # drawn points: their count, not their text
        text = flat["data.points"]
        flat["data.points"] = (f"{points.say(text)} "
                               f"(#{hashlib.sha1(text.encode()).hexdigest()[:6]})")
    hidden = RunSpec.from_dict(spec).hidden
    flat["hidden"] = "; ".join(_layer_words(h) for h in hidden) or "none"
    return flat


def _layer_words(layer) -> str:
    """"16 relu, dropout 0.2, init he": a hidden layer with every setting it has."""
    words = [layer.describe()]
    if getattr(layer, "dropout", 0):
        words.append(f"dropout {layer.dropout:g}")
    if getattr(layer, "init", None):
        words.append(f"init {layer.init}")
    return ", ".join(words)


def differing_settings(records: list[RunRecord]) -> list[dict]:
    """One row per setting whose value is not the same in every record: the setting, then
    each record's value under its name."""
    flats = [settings_of(r.spec) for r in records]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    rows = []
    for key in keys:
        values = [f.get(key, "—") for f in flats]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            rows.append({"setting": key, **{r.name: v for r, v in zip(records, values)}})
    return rows


def same_shapes(weights, network) -> bool:
    """Whether ``weights`` fit ``network``'s parameters one for one."""
    params = network.get_weights()
    return len(params) == len(weights) and all(np.shape(a) == np.shape(b)
                                               for a, b in zip(params, weights))
