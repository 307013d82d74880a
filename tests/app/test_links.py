"""lab/links.py: a RunSpec ⇄ query parameters, and what a malformed link falls back to."""

from __future__ import annotations

import builtins
import json
import random
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from lab import links
from nncore.data.registry import DATASETS
from nncore.initializers import INITIALIZERS
from nncore.losses import LOSSES
from nncore.runs.presets import PRESETS
from nncore.runs.schema import (CONV, DENSE, HIDDEN_ACTIVATIONS, LIMITS, MAXPOOL, OPTIMIZERS,
                                OUTPUT_ACTIVATIONS, RUN)
from nncore.cli import _parser, _spec_from_args
from nncore.runs.spec import RunSpec


# ------------------------------------------------------------------ valid specs round-trip
def test_default_spec_reads_as_documented():
    params = links.spec_to_params(RunSpec())
    assert links.query_string(params) == (
        "v=2&data=mnist&layers=256relu,128relu&loss=ce&opt=adam&lr=0.001&bs=128&ep=10&seed=0")
    assert all(isinstance(v, str) for v in params.values())
    assert set(params) <= links.ALL_KEYS


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips_exactly(name):
    spec = PRESETS[name].run_spec()
    back, notes = links.spec_from_params(links.spec_to_params(spec))
    assert notes == []
    assert back.to_dict() == spec.to_dict()


def _random_value(rng, ps):
    if ps.type is int:
        return rng.randint(int(ps.min), int(ps.max))
    return rng.choice([round(rng.uniform(ps.min, ps.max), rng.randint(1, 6)), rng.uniform(ps.min, ps.max)])


def random_spec(rng: random.Random) -> RunSpec:
    name = rng.choice(list(DATASETS))
    data = {"name": name}
    for pname, ps in DATASETS[name].params.items():
        if rng.random() < 0.6:
            data[pname] = _random_value(rng, ps)
    hidden = [{"units": rng.randint(1, DENSE["units"].high),
               "activation": rng.choice(HIDDEN_ACTIVATIONS),
               "dropout": rng.choice([0.0, round(rng.uniform(0, 0.9), 3), rng.uniform(0, 0.9)]),
               "init": rng.choice([None, *INITIALIZERS])}
              for _ in range(rng.randint(0, LIMITS["max_hidden_layers"]))]
    image_layers = []
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        if rng.random() < 0.5:
            pool = rng.randint(1, MAXPOOL["pool"].high)
            image_layers.append({"kind": "maxpool", "pool": pool,
                                 "stride": rng.choice([None, rng.randint(1, pool)])})
        else:
            kernel = rng.randint(1, CONV["kernel"].high)
            image_layers.append({
                "kind": "conv", "filters": rng.randint(1, CONV["filters"].high), "kernel": kernel,
                "stride": rng.choice([None, rng.randint(1, CONV["stride"].high)]),
                "padding": rng.choice([0, "valid", rng.randint(0, kernel - 1)]
                                      + (["same"] if kernel % 2 else [])),
                "activation": rng.choice(HIDDEN_ACTIVATIONS),
                "dropout": rng.choice([0.0, rng.uniform(0, 0.9)]),
                "init": rng.choice([None, *INITIALIZERS])})
    hidden = (image_layers + hidden)[:LIMITS["max_hidden_layers"]]
    opt_name = rng.choice(tuple(OPTIMIZERS))
    optimizer = {"name": opt_name, "lr": rng.choice([0.1, 1e-3, rng.uniform(1e-6, 10)])}
    if opt_name == "adam" and rng.random() < 0.5:
        optimizer.update(beta1=rng.uniform(0, 0.999), beta2=rng.uniform(0, 0.9999), eps=1e-7)
    if opt_name in ("momentum", "nesterov") and rng.random() < 0.7:
        optimizer["momentum"] = rng.uniform(0.01, 0.99)
    if opt_name == "sgd" and rng.random() < 0.3:
        optimizer.update(momentum=rng.uniform(0.01, 0.99), nesterov=rng.random() < 0.5)
    schedule = rng.choice([{"name": "constant"}, {"name": "cosine"},
                           {"name": "cosine", "min_lr_fraction": rng.uniform(0, 1)},
                           {"name": "step", "step_size": rng.randint(1, 100), "gamma": rng.uniform(0.01, 1)}])
    return RunSpec.from_dict({
        "data": data, "hidden": hidden, "loss": rng.choice(list(LOSSES)),
        "output_activation": rng.choice([None, *OUTPUT_ACTIVATIONS]),
        "output_init": rng.choice([None, *INITIALIZERS]),
        "separate_activations": rng.random() < 0.3, "optimizer": optimizer, "schedule": schedule,
        "l2": rng.choice([0.0, 0.01, rng.uniform(0, 1)]),
        "batch_size": rng.choice([None, 1, 128, rng.randint(1, RUN["batch_size"].high)]),
        "epochs": rng.randint(1, RUN["epochs"].high), "shuffle": rng.random() < 0.7,
        "seed": rng.randint(0, 2 ** 32 - 1),
    })


def test_random_valid_specs_round_trip_exactly():
    rng = random.Random(1234)
    for _ in range(300):
        spec = random_spec(rng)
        params = links.spec_to_params(spec)
        back, notes = links.spec_from_params(params)
        assert notes == [], (params, notes)
        assert back.to_dict() == spec.to_dict(), params
        # and the link itself is stable: the same spec gives the same text
        assert links.spec_to_params(back) == params


def test_repeated_keys_take_the_last_value():
    spec, notes = links.spec_from_params({"data": ["digits", "moons"], "ep": ["3", "7"]})
    assert spec.data["name"] == "moons" and spec.epochs == 7 and notes == []


def test_share_url_with_and_without_the_apps_address():
    spec = PRESETS["seed003-moons"].run_spec()
    url = links.share_url("https://nn-lab.streamlit.app/", spec)
    assert url.startswith("https://nn-lab.streamlit.app/?v=2&data=moons&n=1000&noise=0.2")
    assert "layers=16relu:normal-0.1" in url and "bs=full" in url
    assert links.share_url(None, spec).startswith("?v=2&data=moons")
    assert links.share_url("http://localhost:8501/architecture", spec).startswith(
        "http://localhost:8501/architecture?v=2&data=moons")


def test_a_page_without_link_parameters_is_not_a_link():
    assert not links.is_link({})
    assert not links.is_link({"embed": "true"})
    assert links.is_link({"ep": "3"})


# ------------------------------------------------------------------ malformed links
MALFORMED = {
    # garbage numbers
    "lr garbage": ({"lr": "fast"}, lambda s: s.optimizer["lr"] == 0.001),
    "lr infinite": ({"lr": "1e999"}, lambda s: s.optimizer["lr"] == 0.001),
    "lr nan": ({"opt": "sgd", "lr": "nan"}, lambda s: s.optimizer["lr"] == 0.01),
    "epochs float": ({"ep": "2.5"}, lambda s: s.epochs == 2),
    "negative batch": ({"bs": "-5"}, lambda s: s.batch_size == 1),
    "negative seed": ({"seed": "-1"}, lambda s: s.seed == 0),
    "seed hex": ({"seed": "0x1f"}, lambda s: s.seed == 0),
    "noise words": ({"data": "moons", "noise": "lots"},
                    lambda s: s.data["noise"] == DATASETS["moons"].params["noise"].default),
    "dropout garbage": ({"layers": "16relu:dX"}, lambda s: s.hidden[0].dropout == 0.0),
    "bool garbage": ({"sep": "maybe", "shuf": "2"}, lambda s: not s.separate_activations and s.shuffle),
    # unknown names
    "unknown data set": ({"data": "imagenet"}, lambda s: s.data == {"name": "mnist"}),
    "unknown optimizer": ({"opt": "rmsprop"}, lambda s: s.optimizer["name"] == "adam"),
    "unknown loss": ({"loss": "hinge"}, lambda s: s.loss == "softmax_cross_entropy"),
    "unknown schedule": ({"sched": "exponential"}, lambda s: s.schedule == {"name": "constant"}),
    "unknown activation": ({"layers": "16swish"}, lambda s: s.hidden[0].activation == "relu"),
    "unknown init": ({"oinit": "zeros"}, lambda s: s.output_init is None),
    "unknown output": ({"out": "relu"}, lambda s: s.output_activation is None),
    "unknown key": ({"ep": "3", "foo": "bar"}, lambda s: s.epochs == 3),
    "setting of another optimizer": ({"opt": "sgd", "b1": "0.5"}, lambda s: "beta1" not in s.optimizer),
    "param of another data set": ({"data": "digits", "noise": "0.3"}, lambda s: "noise" not in s.data),
    "malformed layer": ({"layers": "relu16,8tanh"}, lambda s: [h.units for h in s.hidden] == [8]),
    "nesterov without momentum": ({"opt": "sgd", "nest": "1"}, lambda s: "nesterov" not in s.optimizer),
    "uploaded data": ({"data": "upload"}, lambda s: s.data == {"name": "mnist"}),
    # convolution and pooling layers
    "conv after dense": ({"layers": "16relu,conv8x3relu,pool2"}, lambda s: len(s.hidden) == 1),
    "huge filters": ({"layers": "conv99999x3relu"}, lambda s: s.hidden[0].filters == CONV["filters"].high),
    "huge kernel": ({"layers": "conv8x99relu"}, lambda s: s.hidden[0].kernel == CONV["kernel"].high),
    "pool stride above window": ({"layers": "pool2:s9"}, lambda s: s.hidden[0].stride == 2),
    "same padding, even kernel": ({"layers": "conv8x4relu:psame"}, lambda s: s.hidden[0].padding == 0),
    "padding too wide": ({"layers": "conv8x3relu:p7"}, lambda s: s.hidden[0].padding == 2),
    "stride on a dense layer": ({"layers": "16relu:s2"}, lambda s: s.hidden[0].units == 16),
    "dropout on pooling": ({"layers": "pool2:d0.5"}, lambda s: s.hidden[0].kind == "maxpool"),
    # huge sizes
    "huge epochs": ({"ep": "1000000000"}, lambda s: s.epochs == RUN["epochs"].high),
    "huge batch": ({"bs": "1e12"}, lambda s: s.batch_size == RUN["batch_size"].high),
    "huge units": ({"layers": "999999relu"}, lambda s: s.hidden[0].units == DENSE["units"].high),
    "too many layers": ({"layers": ",".join(["8relu"] * 50)},
                        lambda s: len(s.hidden) == LIMITS["max_hidden_layers"]),
    "fractional samples": ({"data": "moons", "n": "600.6"}, lambda s: s.data["n_samples"] == 601),
    "huge samples": ({"data": "moons", "n": "1e12"},
                     lambda s: s.data["n_samples"] == DATASETS["moons"].params["n_samples"].max),
    "huge seed": ({"seed": str(2 ** 70)}, lambda s: s.seed == 2 ** 32 - 1),
    "huge lr": ({"lr": "1e6"}, lambda s: s.optimizer["lr"] == 10.0),
    "huge dropout": ({"layers": "16relu:d5"}, lambda s: s.hidden[0].dropout == 0.9),
    "very long value": ({"lr": "1" * 10_000}, lambda s: s.optimizer["lr"] == 0.001),
    "very long layers": ({"layers": "8relu," * 2000}, lambda s: len(s.hidden) == 2),
    # script-like strings
    "script tag": ({"data": "<script>alert(1)</script>"}, lambda s: s.data == {"name": "mnist"}),
    "python": ({"opt": "__import__('os').system('rm -rf /')"}, lambda s: s.optimizer["name"] == "adam"),
    "template": ({"lr": "{{7*7}}", "ep": "${IFS}"}, lambda s: s.optimizer["lr"] == 0.001 and s.epochs == 10),
    "markdown link": ({"loss": "[click](javascript:alert(1))"}, lambda s: s.loss == "softmax_cross_entropy"),
    "backticks": ({"data": "`$x$`\n"}, lambda s: s.data == {"name": "mnist"}),
    # paths
    "absolute path": ({"data": "/etc/passwd"}, lambda s: s.data == {"name": "mnist"}),
    "relative path": ({"data": "../../mnist"}, lambda s: s.data == {"name": "mnist"}),
    "data_dir key": ({"data": "mnist", "data_dir": "/etc"}, lambda s: "data_dir" not in s.data),
    "file url": ({"layers": "file:///etc/passwd"}, lambda s: s.hidden == ()),
    # digits that str.isdigit or float accept but a link's grammar does not
    "superscript stride": ({"layers": "conv8x3relu:s²"}, lambda s: s.hidden[0].stride is None),
    "superscript units": ({"layers": "1²relu"}, lambda s: s.hidden == ()),
    "arabic-indic units": ({"layers": "٣relu"}, lambda s: s.hidden == ()),
    "arabic-indic epochs": ({"ep": "١٢"}, lambda s: s.epochs == 10),
    "underscored epochs": ({"ep": "1_000"}, lambda s: s.epochs == 10),
    "fullwidth seed": ({"seed": "７"}, lambda s: s.seed == 0),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_links_fall_back_with_a_note(case, monkeypatch):
    params, check = MALFORMED[case]

    def no_files(*args, **kwargs):  # reading a link must never touch a file
        raise AssertionError(f"links tried to open {args[:1]}")
    monkeypatch.setattr(builtins, "open", no_files)

    spec, notes = links.spec_from_params(params)
    assert isinstance(spec, RunSpec)
    spec.validate()
    assert notes, f"{case}: no note for {params}"
    assert check(spec), (case, spec)
    for note in notes:
        assert note.count("`") % 2 == 0, note      # quoted values cannot break out of code
        assert "$" not in note and "\n" not in note
        assert len(note) < 400


def test_every_malformed_link_still_gives_a_link_that_reads_back_cleanly():
    for params, _ in MALFORMED.values():
        spec, _ = links.spec_from_params(params)
        again, notes = links.spec_from_params(links.spec_to_params(spec))
        assert notes == [] and again.to_dict() == spec.to_dict()


def test_a_valid_link_gives_no_notes():
    spec, notes = links.spec_from_params({
        "data": "spiral", "n": "600", "noise": "0.3", "dseed": "4", "val": "0.1", "test": "0.2",
        "layers": "64leaky_relu:d0.1:he,32tanh:glorot", "loss": "ce", "opt": "nesterov",
        "lr": "0.05", "mom": "0.8", "sched": "step", "sstep": "5", "gamma": "0.5", "l2": "0.001",
        "bs": "full", "ep": "40", "shuf": "0", "seed": "7"})
    assert notes == []
    assert spec.data == {"name": "spiral", "n_samples": 600, "noise": 0.3, "seed": 4,
                         "val_fraction": 0.1, "test_fraction": 0.2}
    assert [(h.units, h.activation, h.dropout, h.init) for h in spec.hidden] == [
        (64, "leaky_relu", 0.1, "he"), (32, "tanh", 0.0, "glorot")]
    assert spec.optimizer == {"name": "nesterov", "lr": 0.05, "momentum": 0.8}
    assert spec.schedule == {"name": "step", "step_size": 5, "gamma": 0.5}
    assert (spec.l2, spec.batch_size, spec.epochs, spec.shuffle, spec.seed) == (0.001, None, 40, False, 7)


def test_settings_that_do_not_apply_are_dropped_with_a_note():
    spec, notes = links.spec_from_params({"opt": "adam", "mom": "0.5", "b1": "0.8",
                                          "sched": "constant", "gamma": "0.3"})
    assert spec.optimizer == {"name": "adam", "lr": 0.001, "beta1": 0.8}
    assert spec.schedule == {"name": "constant"}
    assert "mom does not apply to the adam optimizer; it was ignored." in notes
    assert "gamma does not apply to the constant schedule; it was ignored." in notes


def test_an_out_of_range_setting_falls_back_with_a_note():
    spec, notes = links.spec_from_params({"opt": "sgd", "mom": "abc", "sched": "step",
                                          "sstep": "0"})
    assert spec.optimizer["momentum"] == 0.9 and spec.schedule["step_size"] >= 1
    assert len(notes) == 2


# ------------------------------------------------------------------ links made by earlier versions
# Recorded from the app before its restructure (its link encoder had not changed since the
# first version): the setups they open, and the query each one was. They are links of the
# first format (no v), where a missing sched meant a constant rate.
EARLIER_LINKS = json.loads((Path(__file__).parent / "links_of_earlier_versions.json").read_text())


@pytest.mark.parametrize("entry", EARLIER_LINKS, ids=[e["what"] for e in EARLIER_LINKS])
def test_links_made_by_earlier_versions_open_the_same_setup(entry):
    params = dict(parse_qsl(entry["query"], keep_blank_values=True))
    spec, notes = links.spec_from_params(params)
    assert notes == []
    assert spec.to_dict() == entry["spec"]
    # Today's link of that setup says its format, and differs from the old one in that
    # alone and in the schedule, which it names when it is not today's default.
    today = links.spec_to_params(spec)
    old = dict(params, v=str(links.FORMAT))
    if spec.schedule == {"name": "constant"}:
        old["sched"] = "constant"
    elif spec.schedule == RunSpec().schedule:
        old.pop("sched")
    assert today == old
    again, notes = links.spec_from_params(today)
    assert notes == [] and again.to_dict() == entry["spec"]


def test_a_link_reads_a_missing_schedule_as_the_default_of_its_format():
    old, notes = links.spec_from_params({"data": "moons", "layers": "8relu"})
    assert notes == [] and old.schedule == {"name": "constant"}       # the first format's
    new, notes = links.spec_from_params({"v": "2", "data": "moons", "layers": "8relu"})
    assert notes == [] and new.schedule == RunSpec().schedule == {"name": "cosine"}
    # settings of the default schedule apply to it without naming it
    tuned, notes = links.spec_from_params({"v": "2", "minlr": "0.1"})
    assert notes == [] and tuned.schedule == {"name": "cosine", "min_lr_fraction": 0.1}
    # a constant rate travels by name in today's links, and reads back as constant
    constant = RunSpec(schedule={"name": "constant"})
    assert links.spec_to_params(constant)["sched"] == "constant"
    assert links.spec_from_params(links.spec_to_params(constant))[0] == constant


@pytest.mark.parametrize("value, note", [
    ("3", "newer version of the app (format 3)"), ("0", "from 1, not `0`"),
    ("two", "from 1, not `two`"), ("²", "from 1, not `²`")])
def test_a_link_of_an_unknown_format_is_read_as_todays_with_a_note(value, note):
    spec, notes = links.spec_from_params({"v": value, "data": "moons"})
    assert spec.data == {"name": "moons"} and spec.schedule == RunSpec().schedule
    assert len(notes) == 1 and note in notes[0]


# ------------------------------------------------------------------ one default, everywhere
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_starts_at_one_learning_rate_everywhere(optimizer):
    """The command line, a link that names only the optimizer, and the schema agree."""
    _, from_cli = _spec_from_args(_parser().parse_args(["train", "--data", "moons", "--hidden", "8",
                                                        "--optimizer", optimizer]))
    from_link, notes = links.spec_from_params({"data": "moons", "layers": "8relu", "opt": optimizer})
    assert notes == []
    assert from_cli.optimizer["lr"] == from_link.optimizer["lr"] == OPTIMIZERS[optimizer].lr
