"""How long does the command line take to start, against ``python -c "import numpy"``?

Run by hand (never by the tests); no data needed:

    python benchmarks/cli_start.py                 # 15 rounds
    python benchmarks/cli_start.py --rounds 30

Each round starts, one after the other, ``python -c "import numpy"`` (the floor: the
engine is NumPy) and each command below, and takes their wall times from process start
to exit. The commands take turns inside every round, so load that comes and goes on a
shared machine hits them alike. The figure is each command's median over the rounds
divided by the median of ``import numpy``; the spread is the range of the round-by-round
ratios.

Two settings, both measured:

- **cached bytecode** (how an installed package runs): the children compile each module
  once into a private ``PYTHONPYCACHEPREFIX`` folder, in a warm-up round, and read it
  from then on;
- **no bytecode** (``PYTHONDONTWRITEBYTECODE=1`` with no cache, as on this project's
  development machine): every start compiles nncore's sources again.

It also checks, in one more child, which of scikit-learn, SciPy and pandas the command
line imported (none should be). The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "import numpy": ["-c", "import numpy"],
    "nncore presets": ["-m", "nncore", "presets"],
    "nncore --help": ["-m", "nncore", "--help"],
    "nncore train xor, 1 epoch": ["-m", "nncore", "train", "--preset", "seed001-xor",
                                  "--epochs", "1", "--quiet"],
}

HEAVY_CHECK = """
import contextlib, io, runpy, sys
sys.argv = ["nncore", "presets"]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        runpy.run_module("nncore", run_name="__main__")
    except SystemExit:
        pass
print(",".join(m for m in ("sklearn", "scipy", "pandas") if m in sys.modules))
"""


def _env(cache: str | None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONPYCACHEPREFIX", None)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def _run(args, env) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def measure(rounds: int, cache: str | None) -> dict:
    env = _env(cache)
    for args in COMMANDS.values():          # warm-up: the OS file cache, and the bytecode
        _run(args, env)
    seconds = {name: [] for name in COMMANDS}
    names = list(COMMANDS)
    for r in range(rounds):
        # rotate the order every round, so that no command always runs first
        for name in names[r % len(names):] + names[:r % len(names)]:
            seconds[name].append(_run(COMMANDS[name], env))
    floor = seconds["import numpy"]
    out = {"median_seconds": {n: round(statistics.median(s), 4) for n, s in seconds.items()}}
    out["ratio"], out["ratio_range"] = {}, {}
    for name, s in seconds.items():
        if name == "import numpy":
            continue
        out["ratio"][name] = round(statistics.median(s) / statistics.median(floor), 3)
        per_round = sorted(a / b for a, b in zip(s, floor))
        out["ratio_range"][name] = [round(per_round[0], 3), round(per_round[-1], 3)]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args()
    result = {"rounds": args.rounds, "load_average": list(os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="nncore-pycache-") as cache:
        for label, where in (("cached bytecode", cache), ("no bytecode", None)):
            m = measure(args.rounds, where)
            result[label] = m
            floor = m["median_seconds"]["import numpy"]
            print(f"{label} ({args.rounds} rounds): import numpy {floor:.3f} s")
            for name, ratio in m["ratio"].items():
                lo, hi = m["ratio_range"][name]
                print(f"  {name:<28} {m['median_seconds'][name]:.3f} s  {ratio:.2f} × "
                      f"(rounds: {lo:.2f}–{hi:.2f})")
    heavy = subprocess.run([sys.executable, "-c", HEAVY_CHECK], env=_env(None), cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    result["heavy_modules_imported"] = heavy.split(",") if heavy else []
    print(f"scikit-learn / SciPy / pandas imported by `nncore presets`: {heavy or 'none'}")
    result["load_average_end"] = list(os.getloadavg())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
