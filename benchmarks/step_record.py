"""How long does a recorded step take, next to the step ``fit`` takes?

Run by hand (never by the tests):

    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/step_record.py
    python benchmarks/step_record.py --synthetic          # random pixels, same shapes
    python benchmarks/step_record.py --threads 1 --rounds 60

The network is the default ``mnist-mlp`` preset (784-256-128-10 ReLU, softmax
cross-entropy, Adam, batches of 128), on MNIST's training digits in ``fit``'s order. Each
round times, one after the other on the next batches (so load coming and going on a shared
machine hits them alike; the two versions of fit's step take turns going first):

- **fit's step** — ``Network._step``, what ``fit`` runs for every batch (the first layer
  skips ∂L/∂X, as in ``fit``);
- **fit's step, as before step mode** — the same step with the optimizer's update written
  inline, as ``_step`` was before ``Network.apply_gradients`` (the one change step mode made
  to the path ``fit`` takes): recording must not slow a normal run;
- **stepper, unrecorded** — ``Stepper.advance(10, record_last=False)`` ÷ 10: "Step 10
  batches" and "Finish the epoch" up to their last batch;
- **recorded step** — ``Stepper.advance(1)``: one step keeping every layer's a, z, δ,
  dW, db, dA_prev and Adam's m, v, m̂, v̂ and step (what "Step one batch" runs);
- **page extras** — what the page asks of a recorded step besides: one neuron's sums and
  the source lines of every equation.

The table gives the median milliseconds of each, and its ratio to fit's step. The issue's
goal: a recorded step under 50 ms on this machine. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _parse():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, help="BLAS threads (set before NumPy is imported)")
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--synthetic", action="store_true",
                   help="random pixels instead of MNIST (same shapes)")
    return p.parse_args()


ARGS = _parse()
if ARGS.threads:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)

from nncore.runs.presets import get_preset  # noqa: E402
from nncore.runs.run import load_spec_data  # noqa: E402
from nncore.runs.spec import build_network  # noqa: E402
from nncore.stepping import Stepper, neuron_view, sources  # noqa: E402


def data(spec):
    if ARGS.synthetic:
        rng = np.random.default_rng(0)
        X = (rng.random((54_000, 784)) < 0.19).astype(np.float32) * rng.random((54_000, 784),
                                                                               np.float32)
        return X, rng.integers(0, 10, 54_000), "random pixels (19 % ink, as MNIST)"
    if not os.environ.get("NNCORE_MNIST_DIR"):
        sys.exit("Set NNCORE_MNIST_DIR to the folder of the MNIST IDX files (or --synthetic).")
    ds = load_spec_data(spec)
    if ds.fallback_reason:
        sys.exit(ds.fallback_reason)
    return ds.X_train, ds.y_train, f"MNIST, {ds.n_train:,} training digits"


def step_as_before(net, X, Y):
    """``Network._step`` as it was before ``apply_gradients`` existed."""
    a = net.forward(X, training=True)
    loss = net.compute_loss(a, Y)
    net.backward(net.loss.backward(a, Y))
    net.add_l2_gradients()
    triples = net.parameters()
    net.optimizer.step([p for _, p, _ in triples], [g for _, _, g in triples])
    return loss, a


def main():
    spec = get_preset("mnist-mlp").run_spec()
    X, y, what = data(spec)
    settings = dict(epochs=spec.epochs, batch_size=spec.batch_size, shuffle=spec.shuffle,
                    seed=spec.seed, schedule=spec.schedule)
    plain = build_network(spec, 784, 10)
    plain_stepper = Stepper(plain, X, y, **settings)     # only for fit's batches, in order
    net = build_network(spec, 784, 10)
    stepper = Stepper(net, X, y, **settings)
    timings = {"fit's step": [], "fit's step, as before": [], "stepper, unrecorded": [],
               "recorded step": [], "page extras": []}
    plain._first_parametric().skip_input_gradient = True
    old = build_network(spec, 784, 10)
    old._first_parametric().skip_input_gradient = True
    for warm in range(3):
        stepper.advance(1)
    for round_ in range(ARGS.rounds):
        rows, xb, yb = plain_stepper._next_batch()
        plain_stepper.batch = (plain_stepper.batch + 1) % plain_stepper.n_batches
        pair = [("fit's step", plain._step, plain), ("fit's step, as before",
                                                     lambda x, y: step_as_before(old, x, y), old)]
        for name, step, _ in (pair if round_ % 2 else pair[::-1]):   # alternate who goes first
            t = time.perf_counter()
            step(xb, yb)
            timings[name].append(time.perf_counter() - t)

        t = time.perf_counter()
        stepper.advance(10, record_last=False)
        timings["stepper, unrecorded"].append((time.perf_counter() - t) / 10)

        t = time.perf_counter()
        stepper.advance(1)
        timings["recorded step"].append(time.perf_counter() - t)

        t = time.perf_counter()
        neuron_view(stepper.last, 2, 7, 0)
        sources(net)
        timings["page extras"].append(time.perf_counter() - t)
        if stepper.finished:
            stepper.reset()
    base = statistics.median(timings["fit's step"])
    print(f"{what}; mnist-mlp 784-256-128-10, Adam, batch {spec.batch_size}; "
          f"{ARGS.rounds} rounds; load average {os.getloadavg()[0]:.2f}; "
          f"BLAS threads {ARGS.threads or 'default'}")
    print(f"{'':24}{'median ms':>10}{'× fit':>8}{'p90 ms':>9}")
    result = {}
    for name, values in timings.items():
        ms = [v * 1000 for v in values]
        med, p90 = statistics.median(ms), float(np.percentile(ms, 90))
        print(f"{name:24}{med:10.2f}{med / (base * 1000):8.2f}{p90:9.2f}")
        result[name] = {"median_ms": round(med, 3), "p90_ms": round(p90, 3),
                        "ratio_to_fit": round(med / (base * 1000), 2)}
    rec = result["recorded step"]["median_ms"]
    print(f"goal: a recorded step under 50 ms — {'met' if rec < 50 else 'missed'} ({rec:.1f} ms)")
    print(json.dumps({"data": what, "rounds": ARGS.rounds, "threads": ARGS.threads,
                      "load": os.getloadavg()[0], **result}))


if __name__ == "__main__":
    main()
