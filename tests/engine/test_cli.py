"""The command line, run as a user runs it: ``python -m nncore …`` in a subprocess."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nncore.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(*args, timeout=300):
    # Offline explicitly: the module-scoped fixture below runs before conftest's patch does.
    env = {**os.environ, "NNCORE_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "nncore", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def last_json(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_preset_json_line():
    proc = run("train", "--preset", "seed001-xor", "--json")
    out = last_json(proc)
    assert out["preset"] == "seed001-xor" and out["epochs"] == 1000
    assert out["final_error"] == out["train_loss"] <= 0.001
    assert out["seconds_per_epoch"] > 0
    assert out["met"] is True and out["headline"] == "final_error"
    assert "epoch 1000/1000" in proc.stdout


def test_custom_run_save_and_evaluate(tmp_path):
    model = tmp_path / "moons.npz"
    proc = run("train", "--data", "moons", "--hidden", "16", "--epochs", "5", "--seed", "3",
               "--save", str(model), "--json", "--quiet")
    out = last_json(proc)
    assert out["preset"] == "custom" and out["epochs"] == 5 and out["data"] == "moons"
    assert 0.5 < out["test_accuracy"] <= 1 and out["seconds_per_epoch"] > 0
    assert "epoch 1/5" not in proc.stdout                 # --quiet
    assert model.exists()
    ev = last_json(run("evaluate", str(model), "--json"))
    assert ev["preset"] == "custom" and ev["data"] == "moons"
    assert ev["test_accuracy"] == pytest.approx(out["test_accuracy"])   # same model, same data
    assert ev["test_loss"] == pytest.approx(out["test_loss"], rel=1e-6)


def test_presets_lists_every_preset(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("mnist-mlp", "seed000-mnist", "seed001-xor", "seed001-mnist",
                 "seed002-clusters", "seed003-moons"):
        assert name in out


def _corrupted(tmp):
    bad = tmp / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this was a model once")
    return str(bad)


# Run for real, in a subprocess: exit code, stderr, no traceback.
SUBPROCESS_MISTAKES = {
    "bad flag": (lambda tmp: ["train", "--preset", "seed001-xor", "--bogus"],
                 "unrecognized arguments: --bogus"),
    "unknown preset": (lambda tmp: ["train", "--preset", "nope"], "invalid choice: 'nope'"),
    "corrupted model": (lambda tmp: ["evaluate", _corrupted(tmp)], "truncated or corrupted"),
}
# The same error path, in-process (each subprocess pays two seconds of start-up).
IN_PROCESS_MISTAKES = {
    "no command": (lambda tmp: [], "required: command"),
    "no preset nor data": (lambda tmp: ["train"], "Give --preset NAME, or --data NAME"),
    "bad hidden sizes": (lambda tmp: ["train", "--data", "moons", "--hidden", "16,x"],
                         "--hidden takes layer sizes"),
    "epochs out of range": (lambda tmp: ["train", "--preset", "seed001-xor", "--epochs", "0"],
                            "epochs must be a whole number from 1"),
    "unknown data set": (lambda tmp: ["train", "--data", "cifar"], "'cifar'"),
    "missing model": (lambda tmp: ["evaluate", str(tmp / "none.npz")], "No model file at"),
    "model without its data": (lambda tmp: ["evaluate", _bare_model(tmp)],
                               "does not record the data it was trained on"),
    "unwritable save": (lambda tmp: ["train", "--preset", "seed001-xor", "--epochs", "1",
                                     "--quiet", "--save", str(tmp / "no" / "such" / "dir.npz")],
                        "No such file or directory"),
}


def _bare_model(tmp):
    from nncore import Dense, Network, save
    path = tmp / "bare.npz"
    save(Network([Dense(2, 2, "softmax")], seed=0), path)
    return str(path)


def check_one_error_line(code, stderr, expected):
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert expected in lines[0]


@pytest.fixture(scope="module")
def subprocess_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(run, *make(tmp))
                   for name, (make, _) in SUBPROCESS_MISTAKES.items()}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("case", sorted(SUBPROCESS_MISTAKES))
def test_mistakes_give_exit_code_2_and_one_error_line(case, subprocess_runs):
    proc = subprocess_runs[case]
    check_one_error_line(proc.returncode, proc.stderr, SUBPROCESS_MISTAKES[case][1])


@pytest.mark.parametrize("case", sorted(IN_PROCESS_MISTAKES))
def test_more_mistakes_in_process(case, tmp_path, capsys):
    make, expected = IN_PROCESS_MISTAKES[case]
    try:
        code = main(make(tmp_path))
    except SystemExit as exit_:           # argparse's own exit
        code = exit_.code
    check_one_error_line(code, capsys.readouterr().err, expected)
