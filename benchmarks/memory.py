"""Peak memory: loading MNIST, and training the mnist-cnn preset, each in a child process.

Run by hand (never by the tests); needs the real MNIST:

    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/memory.py
    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/memory.py --epochs 1 --eval-batch 4096

1. **Loading**: a child imports NumPy and nncore, notes its resident memory (RSS), loads
   MNIST as the presets do (``load_spec_data``: 54,000 training, 6,000 validation and
   10,000 test digits, float32), and reports its peak RSS (the kernel's VmHWM) less the
   RSS before loading — the memory the loading itself took — next to the 219.5 MB the
   70,000 float32 images hold. A second child measures the same with ``tracemalloc``
   (NumPy reports its arrays to it), which leaves out the libraries' code pages.
2. **CNN training**: a child runs ``python -m nncore train --preset mnist-cnn`` (for
   ``--epochs`` epochs: each one trains, scores the validation digits, and the run ends
   by scoring the 10,000 test digits) and reports the peak RSS of the whole process.
   ``--eval-batch N`` sets ``nncore.network.EVAL_BATCH`` (rows per chunk when the network
   predicts) in that child, to compare chunk sizes.

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1e6

LOAD = """
import json, resource, sys, tracemalloc
import numpy as np
import nncore
from nncore.runs.presets import get_preset
from nncore.runs.run import load_spec_data

def rss(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024

spec = get_preset("mnist-cnn").run_spec()
if sys.argv[1] == "tracemalloc":
    tracemalloc.start()
    data = load_spec_data(spec, allow_fallback=False)
    peak = tracemalloc.get_traced_memory()[1]
    before = 0
else:
    np.random.default_rng(0)      # NumPy's random module is loaded before the baseline
    before = rss("VmRSS")
    data = load_spec_data(spec, allow_fallback=False)
    peak = rss("VmHWM")
pixels = sum(X.nbytes for X in (data.X_train, data.X_val, data.X_test))
print(json.dumps({"before": before, "peak": peak, "pixels": pixels}))
"""

TRAIN = """
import atexit, json, runpy, sys
import nncore.network

def report():
    with open("/proc/self/status") as f:
        hwm = [int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM")][0]
    print(json.dumps({"peak": hwm, "eval_batch": nncore.network.EVAL_BATCH}), file=sys.stderr)

if sys.argv[2] != "default":
    nncore.network.EVAL_BATCH = int(sys.argv[2])
atexit.register(report)
sys.argv = ["nncore", "train", "--preset", "mnist-cnn", "--epochs", sys.argv[1], "--json"]
runpy.run_module("nncore", run_name="__main__")
"""


def child(code: str, *args: str) -> tuple[dict, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the child failed:\n{done.stderr[-2000:]}")
    return done, done.stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", default="1", help="epochs of the CNN run (default 1)")
    p.add_argument("--eval-batch", default="default",
                   help="nncore.network.EVAL_BATCH in the CNN run (default: as it is)")
    args = p.parse_args()
    if not os.environ.get("NNCORE_MNIST_DIR"):
        raise SystemExit("Set NNCORE_MNIST_DIR to a folder holding the four MNIST IDX files.")
    out = {"load_average": list(os.getloadavg())}

    rss = json.loads(child(LOAD, "rss")[1].strip().splitlines()[-1])
    traced = json.loads(child(LOAD, "tracemalloc")[1].strip().splitlines()[-1])
    pixels = rss["pixels"]
    load = {"pixels_mb": round(pixels / MB, 1),
            "rss_before_mb": round(rss["before"] / MB, 1),
            "rss_peak_mb": round(rss["peak"] / MB, 1),
            "rss_growth_mb": round((rss["peak"] - rss["before"]) / MB, 1),
            "rss_growth_ratio": round((rss["peak"] - rss["before"]) / pixels, 3),
            "tracemalloc_peak_mb": round(traced["peak"] / MB, 1),
            "tracemalloc_ratio": round(traced["peak"] / pixels, 3)}
    out["loading"] = load
    print(f"loading MNIST ({load['pixels_mb']} MB of float32 pixels): RSS grew by "
          f"{load['rss_growth_mb']} MB ({load['rss_growth_ratio']:.2f} × the pixels; "
          f"{load['rss_before_mb']} MB before, peak {load['rss_peak_mb']} MB); tracemalloc "
          f"peak {load['tracemalloc_peak_mb']} MB ({load['tracemalloc_ratio']:.2f} ×)")

    done, stdout = child(TRAIN, args.epochs, args.eval_batch)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    result = json.loads(stdout.strip().splitlines()[-1])
    train = {"epochs": int(args.epochs), "eval_batch": report["eval_batch"],
             "peak_rss_mb": round(report["peak"] / MB, 1),
             "test_accuracy": result.get("test_accuracy")}
    out["cnn_training"] = train
    print(f"python -m nncore train --preset mnist-cnn --epochs {args.epochs} (EVAL_BATCH "
          f"{train['eval_batch']}): peak RSS {train['peak_rss_mb']} MB, test accuracy "
          f"{train['test_accuracy']}")
    out["load_average_end"] = list(os.getloadavg())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
