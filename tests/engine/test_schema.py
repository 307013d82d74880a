"""The run schema: every setting's bounds declared once and read by the spec, the command
line and the links; spec problems as typed values; a RunSpec as a checked, immutable value."""

from __future__ import annotations

import dataclasses
import math

import pytest

from nncore.cli import _parser, _spec_from_args
from nncore.runs.presets import PRESETS
from nncore.runs.schema import (CONV, DENSE, MAXPOOL, OPTIMIZER, OPTIMIZERS, RUN, SCHEDULE,
                                RunTooLarge, Setting, SpecError, SpecProblem, default_lr)
from nncore.runs.spec import LayerSpec, RunSpec


# ------------------------------------------------------------------ one validator, one bound
def _just_inside_and_outside(setting: Setting, siblings=None):
    low, high = setting.bounds(siblings)
    step = 1 if setting.kind is int else 1e-9 * max(1.0, abs(high))
    return [low, high], [low - step if setting.kind is int else low - max(step, abs(low) * 1e-6),
                         high + step if setting.kind is int else high * (1 + 1e-6) + 1e-12]


@pytest.mark.parametrize("name", [n for n, s in RUN.items() if s.kind in (int, float)])
def test_run_settings_accept_their_bounds_and_refuse_past_them(name):
    inside, outside = _just_inside_and_outside(RUN[name])
    for value in inside:
        assert getattr(RunSpec().replace(**{name: value}), name) == value
    for value in outside:
        with pytest.raises(SpecError) as info:
            RunSpec().replace(**{name: value})
        assert info.value.field == name
        assert RUN[name].expected() in str(info.value)


@pytest.mark.parametrize("name", ["lr", "momentum", "beta1", "beta2", "eps"])
def test_optimizer_settings_use_the_schema_bounds(name):
    opt = "adam" if name in OPTIMIZERS["adam"].settings else "momentum"
    inside, outside = _just_inside_and_outside(OPTIMIZER[name])
    for value in inside:
        RunSpec(optimizer={"name": opt, name: value})
    for value in outside:
        with pytest.raises(SpecError) as info:
            RunSpec(optimizer={"name": opt, name: value})
        assert info.value.field == f"optimizer.{name}"


@pytest.mark.parametrize("kind, table", [("dense", DENSE), ("conv", CONV), ("maxpool", MAXPOOL)])
def test_layer_settings_use_the_schema_bounds(kind, table):
    base = {"dense": {"units": 8}, "conv": {"kind": "conv", "filters": 4, "kernel": 5},
            "maxpool": {"kind": "maxpool", "pool": 3}}[kind]
    for name, setting in table.items():
        if setting.kind not in (int, float):
            continue
        inside, outside = _just_inside_and_outside(setting, base)
        for value in inside:
            RunSpec(hidden=[{**base, name: value}])
        for value in outside:
            with pytest.raises(SpecError) as info:
                RunSpec(hidden=[{**base, name: value}])
            assert info.value.field == f"hidden[0].{name}", (name, value)


def test_bounds_that_depend_on_the_layer():
    assert CONV["padding"].bounds({"kernel": 5}) == (0, 4)
    assert MAXPOOL["stride"].bounds({"pool": 3}) == (1, 3)
    RunSpec(hidden=[{"kind": "conv", "filters": 2, "kernel": 5, "padding": 4}])
    with pytest.raises(SpecError, match=r"padding must be a whole number from 0 to 2"):
        RunSpec(hidden=[{"kind": "conv", "filters": 2, "kernel": 3, "padding": 3}])


@pytest.mark.parametrize("bad", [True, "3", 2.5, math.nan, None])
def test_whole_numbers_are_whole_numbers(bad):
    with pytest.raises(SpecError):
        RunSpec().replace(epochs=bad)


def test_names_come_from_their_choices():
    with pytest.raises(SpecError) as info:
        RunSpec(optimizer={"name": "rmsprop"})
    assert info.value.field == "optimizer.name" and "sgd, momentum, nesterov, adam" in str(info.value)
    with pytest.raises(SpecError, match="takes lr, beta1, beta2, eps; got momentum"):
        RunSpec(optimizer={"name": "adam", "momentum": 0.5})
    with pytest.raises(SpecError, match="step_size"):
        RunSpec(schedule={"name": "cosine", "step_size": 3})
    with pytest.raises(SpecError) as info:
        RunSpec(hidden=[{"units": 4, "activation": "softmax"}])
    assert info.value.field == "hidden[0].activation"


# ------------------------------------------------------------------ a checked, immutable value
def test_a_spec_is_checked_once_when_made_and_cannot_be_changed_after():
    spec = RunSpec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.epochs = 0
    changed = spec.replace(epochs=3)
    assert (spec.epochs, changed.epochs) == (10, 3) and changed.hidden == spec.hidden
    with pytest.raises(SpecError):
        spec.replace(epochs=0)
    given = {"name": "adam", "lr": 0.01}
    spec = RunSpec(optimizer=given)
    given["lr"] = 99.0                             # the spec keeps its own copy
    assert spec.optimizer["lr"] == 0.01
    assert all(isinstance(h, LayerSpec) for h in RunSpec(hidden=[{"units": 3}]).hidden)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_a_valid_spec_that_round_trips(name):
    spec = PRESETS[name].run_spec()
    assert RunSpec.from_dict(spec.to_dict()) == spec


# ------------------------------------------------------------------ problems are values
def test_problems_say_which_setting_and_whether_they_block():
    bce = RunSpec(loss="binary_cross_entropy", output_activation="tanh")
    problems = bce.problems(n_classes=10)
    assert all(isinstance(p, SpecProblem) for p in problems)
    assert [(p.field, p.blocking) for p in problems] == [("loss", True),
                                                         ("output_activation", False)]
    assert bce.blocking_problem(10).field == "loss" and bce.blocking_problem(2) is None
    assert RunSpec().problems(10) == []


def test_a_run_too_large_is_its_own_type():
    spec = RunSpec(hidden=[{"units": 1024}, {"units": 1024}], epochs=10_000)
    with pytest.raises(RunTooLarge) as info:
        spec.check_limits(60_000, 784, 10)
    assert isinstance(info.value, SpecError) and "too large for the shared demo" in str(info.value)


# ------------------------------------------------------------------ the command line reads it
def _args(*argv):
    return _parser().parse_args(["train", *argv])


def test_the_command_line_defaults_are_the_schema_defaults():
    args = _args("--data", "moons", "--hidden", "8")
    assert args.optimizer == RunSpec().optimizer["name"]
    assert args.activation == DENSE["activation"].default and args.loss == RUN["loss"].default
    _, spec = _spec_from_args(args)
    assert spec.epochs == RUN["epochs"].default and spec.batch_size == RUN["batch_size"].default
    assert spec.optimizer == {"name": "adam", "lr": default_lr("adam")}


def test_a_flag_out_of_bounds_is_refused_by_the_schema():
    with pytest.raises(SpecError, match="The learning rate must be from 1e-6 to 10, got 50.0"):
        _spec_from_args(_args("--data", "moons", "--lr", "50"))
    assert SCHEDULE["gamma"].expected() == "from 0.01 to 1"
