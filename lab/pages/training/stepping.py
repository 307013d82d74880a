"""Step mode: train one batch at a time and see the math run.

``section(dataset)`` is the Training page's hook. It draws

* an expander with the step buttons — "Step one batch", "Step 10 batches", "Finish the
  epoch", "Back to the initial weights" — where the batch just taken is shown layer by
  layer, one neuron at a time, with a gradient check and the initialisation explorer
  (``stepping_layers``, ``stepping_checks``);
* for 2-D data, the network drawn as maps of its units (``stepping_maps``).

(When a normal run diverges, ``diverged`` replays it with the same engine to say where.)

The engine does the computing (``nncore.stepping``); these modules only draw. Stepping
runs here, in the server process, one press at a time within the bounds the engine
declares (``STEP_BOUNDS``; "Finish the epoch" under a progress bar), never in a queue; its state — a ``Stepper`` on the setup's
network — lives in ``st.session_state``. After every press the stepped network becomes the
session's model, as a finished run's does. A stepping session and a run of the same
session never go at once: while ``runs.busy()`` has a reason, the buttons say it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from lab import datasets, runs, state
from lab.figures import stepping as figures
from lab.page import callback, guarded, notice
from lab.pages.training import controls, stepping_checks, stepping_layers, stepping_maps
from nncore.data import DataUnavailable
from nncore.runs.schema import SpecError
from nncore.runs.spec import RunSpec
from nncore.stepping import Stepper, StepTooLarge, check_bounds
from nncore.training import TrainingError

SESSION = "stepping"                 # StepSession, or absent
OPEN = "stepping_open"               # the expander's state
PENDING = "stepping_pending"         # "Finish the epoch" was pressed: step with a progress bar
CHUNK = 25                           # steps between two updates of that bar


@dataclass
class StepSession:
    """A Stepper on the network of ``spec`` and the data set it names."""

    spec: RunSpec
    dataset: object                               # the Dataset it steps through
    stepper: Stepper
    checks: dict = field(default_factory=dict)    # step → the gradient check of its batch
    caches: dict = field(default_factory=dict)    # what the tabs keep between reruns


def current(spec: RunSpec | None = None, dataset=None) -> StepSession | None:
    """The session's stepping, if it steps ``spec`` (default: the current setup) on
    ``dataset`` (default: whichever data set it was started on)."""
    held = st.session_state.get(SESSION)
    spec = spec if spec is not None else state.get_spec()
    if (isinstance(held, StepSession) and held.spec == spec
            and (dataset is None or held.dataset is dataset)):
        return held
    return None


def _new_session(spec: RunSpec, dataset) -> StepSession:
    """A Stepper on the setup's network, with the initial weights Start would train from."""
    network = runs.build_network(spec, dataset)
    if state.preset_name():
        network.metadata["preset"] = state.preset_name()
    stepper = Stepper(network, dataset.X_train, dataset.y_train, epochs=spec.epochs,
                      batch_size=spec.batch_size, shuffle=spec.shuffle, seed=spec.seed,
                      schedule=spec.schedule)
    session = StepSession(spec, dataset, stepper)
    st.session_state[SESSION] = session
    return session


def _publish(session: StepSession) -> None:
    """The stepped network becomes the session's model (a copy: pages key their caches on
    the model, and the stepper goes on changing its own)."""
    stepper = session.stepper
    model = stepper.network.copy()
    model.metadata["spec"] = session.spec.to_dict()
    model.metadata["stepped"] = {"steps": stepper.steps, "epochs_done": stepper.epoch,
                                 "batch": stepper.batch}
    state.set_model(model)


# ---------------------------------------------------------------- the buttons' callbacks
@callback
def _press(how: str) -> None:
    reason = runs.busy()
    if reason:
        notice("error", f"{reason} Stepping waits until it has ended: a run and a stepping "
                        "session of the same session never train at once.")
        return
    try:
        spec, dataset = state.get_spec(), datasets.current_dataset()
        session = current(spec, dataset) or _new_session(spec, dataset)
    except (DataUnavailable, SpecError, TrainingError, ValueError, OSError) as exc:
        notice("error", str(exc))
        return
    stepper = session.stepper
    try:
        if how == "reset":
            stepper.reset()
            session.checks.clear()
        elif stepper.why_not():
            notice("info", stepper.why_not())
            return
        elif how == "epoch":          # may take seconds: stepped by _body, with progress
            check_bounds(stepper.network, stepper.batch_size, stepper.n_batches - stepper.batch)
            st.session_state[PENDING] = True
            return
        else:
            stepper.advance(10 if how == "ten" else 1)
    except StepTooLarge as exc:
        notice("error", str(exc))
        return
    _publish(session)


@callback
def _retry(lr: float) -> None:
    """Same initial weights, a tenth of the learning rate, stepped as far as before."""
    spec = state.get_spec()
    session = current(spec)
    target = session.stepper.diverged.step if session and session.stepper.diverged else 0
    try:
        new = spec.replace(optimizer={**spec.optimizer, "lr": lr})
        state.set_spec(new)
        session = _new_session(new, datasets.current_dataset())
        taken = session.stepper.advance(target) if target else 0
    except (SpecError, StepTooLarge, ValueError, DataUnavailable, OSError) as exc:
        notice("error", str(exc))
        return
    _publish(session)
    s = session.stepper
    if s.diverged:
        notice("warning", f"At learning rate {lr:g} it still overflows: {s.diverged.sentence}")
    else:
        notice("success", f"Retried from the same initial weights at learning rate {lr:g}: "
                          f"{taken} steps, past the one that overflowed, and the loss is now "
                          f"{s.losses[-1]:.4g}.")


# ---------------------------------------------------------------- drawing
def section(dataset) -> None:
    """The Training page's hook: step mode and the 2-D unit maps."""
    with st.expander("Step through training: see the math run", icon=":material/footprint:",
                     key=OPEN, on_change="rerun") as box:
        if box.open:
            guarded(_body)(dataset)
    stepping_maps.unit_maps_section(dataset)


def _body(dataset) -> None:
    spec = state.get_spec()
    session = current(spec, dataset)
    st.caption("Train one batch at a time — the same batches, in the same order, with the "
               "same loss and optimizer as **Start** with this seed — and see every number of "
               "the step: each layer's equations with this batch's matrices, one neuron's sum "
               "written out, the line of nncore that computed it, and a gradient check. The "
               "stepped network becomes the current model.")
    reason = runs.busy()
    if reason:
        st.info(f"{reason} Stepping waits until it has ended.", icon=":material/hourglass:")
    c1, c2, c3, c4 = st.columns([1.1, 1.1, 1.1, 1.6])
    kw = {"disabled": bool(reason) or controls.blocked(dataset)}
    if controls.blocked(dataset):
        kw["help"] = controls.BLOCKED
    c1.button("Step one batch", key="stepping_one", type="primary", on_click=_press,
              args=("one",), icon=":material/skip_next:", **kw)
    c2.button("Step 10 batches", key="stepping_ten", on_click=_press, args=("ten",),
              icon=":material/fast_forward:", **kw)
    c3.button("Finish the epoch", key="stepping_epoch", on_click=_press, args=("epoch",),
              icon=":material/last_page:", **kw)
    c4.button("Back to the initial weights", key="stepping_reset", on_click=_press,
              args=("reset",), icon=":material/restart_alt:", **kw)
    if session is not None and st.session_state.pop(PENDING, False):
        _finish_epoch(session)
    if controls.blocked(dataset):     # the explorer would only say the problem again
        return
    if session is None:
        if isinstance(st.session_state.get(SESSION), StepSession):
            st.caption("The setup changed since the last step: the next step starts again "
                       "from the new setup's initial weights.")
        stepping_checks.initialisation_tab(spec, dataset, None)
        return
    _status(session)
    tabs = st.tabs(["This step, layer by layer", "One neuron", "Gradient check",
                    "Initialisation"], key="stepping_tabs", on_change="rerun")
    record = session.stepper.last
    for tab, draw in zip(tabs[:3], (stepping_layers.layers_tab, stepping_layers.neuron_tab,
                                    stepping_checks.gradient_tab)):
        with tab:
            if tab.open:
                if record is None:
                    st.info("Press **Step one batch** to see a step's numbers.")
                else:
                    draw(session, record)
    with tabs[3]:
        if tabs[3].open:
            stepping_checks.initialisation_tab(spec, dataset, session)


def _finish_epoch(session: StepSession) -> None:
    """Step to the end of the epoch, CHUNK steps at a time under a progress bar (the
    model follows every chunk; pressing anything stops between two chunks)."""
    s = session.stepper
    total = s.n_batches - s.batch
    bar = st.progress(0.0, text=f"Stepping to the end of epoch {s.epoch + 1}…")
    done = 0
    while done < total and s.diverged is None:
        n = min(CHUNK, total - done)
        taken = s.advance(n, record_last=done + n == total)
        done += taken
        _publish(session)
        if taken < n:
            break
        bar.progress(done / total, text=f"Step {s.steps:,}: {done:,} of {total:,} batches of "
                                        "the epoch (press anything to stop)")
    bar.empty()


def _status(session: StepSession) -> None:
    s = session.stepper
    d = s.diverged
    if d is not None:
        st.error(d.sentence, icon=":material/error:")
        st.caption("The weights from before that step stay the model.")
        lr = _base_lr(session) / 10
        st.button(f"Retry from the same initial weights at lr / 10 ({lr:g})",
                  key="stepping_retry", on_click=_retry, args=(lr,),
                  icon=":material/healing:", type="primary")
    if s.finished:
        where = f"all {s.epochs} epochs done"
    elif s.batch == 0:
        where = f"{s.epoch:,} of {s.epochs:,} epochs done"
    else:
        where = f"epoch {s.epoch + 1:,} of {s.epochs:,}: {s.batch} of {s.n_batches} batches done"
    text = f"**Step {s.steps:,}** · {where} · batch size {s.batch_size:,} · learning rate {s.lr:g}"
    if s.losses:
        text += f" · loss of the last step {s.losses[-1]:.4g}"
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.markdown(text)
    if len(s.losses) > 1:
        right.plotly_chart(figures.loss_figure(s.losses), key="stepping_loss_chart",
                           config={"displayModeBar": False})


def _base_lr(session: StepSession) -> float:
    return float(session.spec.optimizer.get("lr", session.stepper.base_lr))


__all__ = ["StepSession", "current", "section"]
