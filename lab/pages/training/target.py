"""A preset's run beside what the preset is expected to reach.

Each preset carries its headline figure, the target for it and what its seed reports
(``nncore.runs.presets``). When the session's run trains a preset — Start puts the preset's
name in the network's ``metadata["preset"]`` when the setup is that preset, unchanged — the
Training page says, while the run goes on and once it has ended:

    Seed 000: … — expected: test accuracy ≥ 94% (seed 000 reports > 94 % validation
    accuracy) — this run: 94.8% ✅

While it runs, the figure so far is the one the run measures every epoch (validation
accuracy, else training accuracy; the training loss for a final error): the test set is
scored once, at the end. A run whose data fell back (MNIST could not be loaded, the 8×8
digits stood in) is not held to a figure measured on other data, and says so.
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, runs
from lab.page import guarded
from lab.pages.training.memo import cached
from nncore.data import DataUnavailable
from nncore.runs.presets import PRESETS

PACE = 6.0           # seconds between two refreshes while a run goes on (it moves per epoch)
FINAL = {"test_accuracy": "test_accuracy", "final_error": "train_loss"}   # a record's name
SO_FAR = {"test_accuracy": (("val_accuracy", "validation accuracy"),
                            ("train_accuracy", "training accuracy")),
          "final_error": (("train_loss", "training loss"),)}


def section(active: bool) -> None:
    """The Training page's hook: the preset's target beside the session's run (refreshed
    every PACE seconds while ``active``)."""
    trainer = runs.current()
    of_a_preset = trainer is not None and trainer.network.metadata.get("preset") in PRESETS
    st.fragment(run_every=PACE if active and of_a_preset else None)(target_line)()


@guarded
def target_line() -> None:
    trainer = runs.current()
    preset = PRESETS.get(trainer.network.metadata.get("preset")) if trainer else None
    if preset is None:
        return
    p = trainer.progress(batch_loss=False)
    line = f"**{preset.title}** — expected: {_expected(preset)}"
    trained_on = (trainer.network.metadata.get("dataset") or {}).get("name")
    if trained_on != preset.spec["data"]["name"]:
        st.info(f"{line}. This run trains on {datasets.dataset_title(trained_on)}, standing "
                f"in for {datasets.dataset_title(preset.spec['data']['name'])}: the figure is "
                "for other data, so it is not compared.", icon=":material/flag:")
        return
    if p.active:
        st.info(f"{line} — this run so far: {_so_far(preset, p)}", icon=":material/flag:")
        return
    value = _final(trainer, preset, p)
    if value is None:         # failed, cancelled, or diverged before its first epoch
        return
    met = preset.met(value)
    how = "" if p.state == "finished" else f" ({p.state} after {p.epoch} of {p.epochs} epochs)"
    text = f"{line} — this run{how}: {_shown(preset, value)} {'✅' if met else '❌'}"
    if met:
        st.success(text, icon=":material/flag:")
    else:
        st.warning(text, icon=":material/flag:")


def _expected(preset) -> str:
    """"test accuracy ≥ 94% (seed 000 reports > 94 % validation accuracy)"."""
    said = f"seed {preset.source} reports {preset.published}"
    return preset.expectation + (f" ({said})" if "—" not in (preset.source, preset.published)
                                 else "")


def _shown(preset, value: float) -> str:
    return f"{value:.1%}" if preset.headline.endswith("accuracy") else f"{value:.4g}"


def _so_far(preset, p) -> str:
    if p.state == "queued":
        return "waiting for a free slot"
    for key, words in SO_FAR[preset.headline]:
        values = p.history.get(key)
        if values:
            shown = f"{values[-1]:.1%}" if key.endswith("accuracy") else f"{values[-1]:.4g}"
            at_end = (" (the test set is scored once, at the end)"
                      if preset.headline == "test_accuracy" else "")
            return f"{words} {shown} after epoch {len(values)} of {p.epochs}{at_end}"
    return "its first epoch is under way"


def _final(trainer, preset, p) -> float | None:
    """The headline figure of the ended run: the one its record in the session's history
    holds (``lab.runs`` scored it once), else scored here, once."""
    if p.epoch < 1 or p.state not in ("finished", "stopped", "diverged"):
        return None
    record = next((r for r in reversed(runs.history().records)
                   if r.network is trainer.network), None)
    if record is not None and FINAL[preset.headline] in record.metrics:
        return float(record.metrics[FINAL[preset.headline]])
    if preset.headline == "final_error":
        return float(p.history["train_loss"][-1])
    try:
        data = datasets.dataset_for(trainer.meta["data"])
    except (DataUnavailable, ValueError, OSError):
        return None
    if not data.n_test:
        return None
    return cached("preset_target", (trainer,),
                  lambda: float(trainer.network.score(data.X_test, data.y_test)))
