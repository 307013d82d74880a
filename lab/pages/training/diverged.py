"""A run that diverged, answered once: what happened, why, and one way on.

``outcome(trainer, progress)`` is what the Training page says when the session's run
diverged: the run's own sentence (where the loss stopped being a number, which weights were
kept), then why — the run replayed from its initial weights, step by step
(``nncore.stepping.diagnose_run``, within REPLAY_WORK), to the first number that overflowed —
and one button: retry from the same initial weights at a tenth of the learning rate. A run
that continued an earlier model has no initial weights to go back to; its button sets the
smaller learning rate, and Start trains the model further with it.
"""

from __future__ import annotations

import streamlit as st

from lab import datasets, runs, state
from lab.page import callback, notice, show_error
from lab.pages.training.controls import on_use_rate
from nncore.data import DataUnavailable
from nncore.runs.run import build_for
from nncore.runs.schema import SpecError, default_lr
from nncore.runs.spec import RunSpec
from nncore.stepping import diagnose_run

DIAGNOSIS = "training_diverged_diagnosis"   # (trainer, its Divergence or a sentence)
REPLAY_WORK = 2e10          # a diverged run is replayed up to this many multiply-adds


def outcome(trainer, p) -> None:
    """The diverged run's sentence, where it overflowed, and one retry."""
    kept = ("It completed no epoch, so the previous model (if any) was kept."
            if p.epoch < 1 else "Its last good weights are now the current model.")
    show_error(f"{p.message} {kept}")
    held = st.session_state.get(DIAGNOSIS)
    if held is None or held[0] is not trainer:          # replayed once per diverged run
        held = st.session_state[DIAGNOSIS] = (trainer, _replay(trainer))
    d = held[1]
    spec = RunSpec.from_dict(trainer.meta["spec"])
    lr = float(spec.optimizer.get("lr", default_lr(spec.optimizer["name"]))) / 10
    with st.container(border=True, key="training_diverged"):
        st.markdown("**Why the run diverged**")
        if isinstance(d, str):
            st.caption(d)
        else:
            st.markdown(d.sentence)
        if trainer.meta.get("continued"):
            st.button(f"Use learning rate {lr:g} (lr / 10)", key="training_use_suggested",
                      on_click=on_use_rate, args=(lr,), icon=":material/healing:")
        else:
            st.button(f"Retry from the same initial weights at lr / 10 ({lr:g})",
                      key="training_retry_diverged", on_click=_retry_run, args=(lr,),
                      icon=":material/healing:", type="primary", disabled=bool(runs.busy()))


@callback
def _retry_run(lr: float) -> None:
    """The diverged run again at ``lr``: its setup, its data, its initial weights (so its
    batches too, in the same order); the retried setup becomes the current one."""
    trainer = runs.current()
    if trainer is None or trainer.state != "diverged":
        return
    try:
        spec = RunSpec.from_dict(trainer.meta["spec"])
        new = spec.replace(optimizer={**spec.optimizer, "lr": lr})
        state.set_spec(new)         # first: an assignment link may have fixed the rate
        reason = runs.start(new, datasets.dataset_for(trainer.meta["data"]),
                            initial_weights=trainer.meta["initial_weights"])
    except (SpecError, ValueError, DataUnavailable, OSError, KeyError) as exc:
        reason = str(exc)
    if reason:
        notice("error", reason)
        return
    notice("success", f"A new run from the same initial weights at learning rate {lr:g} has "
                      "started.")


def _replay(trainer):
    """Replay the diverged run from its initial weights to its first overflow (bounded)."""
    meta = trainer.meta
    if meta.get("continued"):
        return ("This run continued an earlier model, whose starting weights are not kept: it "
                "cannot be replayed to find where it overflowed.")
    try:
        spec = RunSpec.from_dict(meta["spec"])
        data = datasets.dataset_for(meta["data"])
        with st.spinner("Replaying the run from its initial weights to find where it overflowed…"):
            return diagnose_run(lambda: build_for(spec, data), data.X_train, data.y_train,
                                epochs=spec.epochs, batch_size=spec.batch_size,
                                shuffle=spec.shuffle, seed=spec.seed, schedule=spec.schedule,
                                max_work=REPLAY_WORK)
    except (SpecError, DataUnavailable, ValueError, OSError, KeyError) as exc:
        return f"The run could not be replayed: {exc}"
