"""How long does the command line take to start, against ``python -c "import numpy"``?

Run by hand (never by the tests); no data needed:

    python benchmarks/cli_start.py                 # 15 rounds
    python benchmarks/cli_start.py --rounds 30

Each round starts, one after the other, ``python -c "import numpy"`` (the floor: the
engine is NumPy) and each command below, and takes their wall times from process start
to exit, and the CPU time (user + system) each child used. The commands take turns
inside every round, so load that comes and goes on a shared machine hits them alike. The
figure is each command's median over the rounds divided by the median of ``import
numpy``; the spread is the range of the round-by-round ratios. Starting is CPU work
(reading and running modules), so the CPU-time ratio is the steadier one on a busy
machine, where a start's wall time also holds the time it waited for a core.

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
import resource
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


def bytecode_env(cache: str | None) -> dict:
    """This environment with Python's bytecode cache in ``cache``, or with none written
    when ``cache`` is None: a start with and without compiled modules to read."""
    env = dict(os.environ)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def _env(cache: str | None) -> dict:
    env = bytecode_env(cache)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args, env) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child run."""
    cpu, t = _cpu_of_children(), time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, _cpu_of_children() - cpu


def measure(rounds: int, cache: str | None) -> dict:
    env = _env(cache)
    for args in COMMANDS.values():          # warm-up: the OS file cache, and the bytecode
        _run(args, env)
    wall = {name: [] for name in COMMANDS}
    cpu = {name: [] for name in COMMANDS}
    names = list(COMMANDS)
    for r in range(rounds):
        # rotate the order every round, so that no command always runs first
        for name in names[r % len(names):] + names[:r % len(names)]:
            w, c = _run(COMMANDS[name], env)
            wall[name].append(w)
            cpu[name].append(c)
    out = {}
    for label, seconds in (("wall", wall), ("cpu", cpu)):
        floor = seconds["import numpy"]
        m = {"median_seconds": {n: round(statistics.median(s), 4) for n, s in seconds.items()},
             "ratio": {}, "ratio_range": {}}
        for name, s in seconds.items():
            if name == "import numpy":
                continue
            m["ratio"][name] = round(statistics.median(s) / statistics.median(floor), 3)
            per_round = sorted(a / b for a, b in zip(s, floor))
            m["ratio_range"][name] = [round(per_round[0], 3), round(per_round[-1], 3)]
        out[label] = m
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args()
    result = {"rounds": args.rounds, "load_average": list(os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="nncore-pycache-") as cache:
        for label, where in (("cached bytecode", cache), ("no bytecode", None)):
            both = measure(args.rounds, where)
            result[label] = both
            wall, cpu = both["wall"], both["cpu"]
            print(f"{label} ({args.rounds} rounds): import numpy {wall['median_seconds']['import numpy']:.3f} s"
                  f" wall, {cpu['median_seconds']['import numpy']:.3f} s CPU")
            for name in wall["ratio"]:
                print(f"  {name:<28} wall {wall['median_seconds'][name]:.3f} s "
                      f"{wall['ratio'][name]:.2f} × ({wall['ratio_range'][name][0]:.2f}–"
                      f"{wall['ratio_range'][name][1]:.2f})   CPU {cpu['median_seconds'][name]:.3f} s "
                      f"{cpu['ratio'][name]:.2f} × ({cpu['ratio_range'][name][0]:.2f}–"
                      f"{cpu['ratio_range'][name][1]:.2f})")
    heavy = subprocess.run([sys.executable, "-c", HEAVY_CHECK], env=_env(None), cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    result["heavy_modules_imported"] = heavy.split(",") if heavy else []
    print(f"scikit-learn / SciPy / pandas imported by `nncore presets`: {heavy or 'none'}")
    result["load_average_end"] = list(os.getloadavg())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
