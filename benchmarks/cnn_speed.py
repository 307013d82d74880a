"""The mnist-cnn preset against PyTorch on the CPU: seconds per epoch and time to 99 %.

Run by hand (never by the tests):

    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/cnn_speed.py        # 6 epochs each
    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/cnn_speed.py --epochs 3 --threads 1
    python benchmarks/cnn_speed.py --layers-only                          # no MNIST needed

1. **Layers**: forward and backward milliseconds of every layer of the preset's network
   on one mini-batch of 64 (median of repeats).
2. **Epochs, interleaved**: the preset trains exactly as ``python -m nncore train --preset
   mnist-cnn`` trains it (same RunSpec, ``train_spec``, ``Network.fit``); after each of its
   epochs, PyTorch (when installed; never a dependency of this project) trains one epoch
   of the same network — conv 8 → ReLU → pool → conv 16 → ReLU → pool → 128 ReLU →
   dropout 0.4 → 10, Adam lr 0.002 with the same cosine schedule, batches of 64 shuffled
   every epoch, float32, on the same 54,000 digits. So the two take turns, epoch by epoch,
   and load that comes and goes on a shared machine hits both alike. After every epoch
   both are scored on the 10,000 test digits (not timed).

Reported: each side's median seconds per epoch (training only), the median of the
epoch-by-epoch ratios nncore ÷ PyTorch with their range, and the time to 99 % test
accuracy — the training seconds summed up to the first epoch that reaches it.

``--threads N`` sets OPENBLAS_NUM_THREADS (and OMP/MKL) before NumPy is imported and
``torch.set_num_threads(N)``; by default both use what they find (2 on this machine).
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import math
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
    p.add_argument("--threads", type=int, help="BLAS / PyTorch threads")
    p.add_argument("--epochs", type=int, help="epochs (default: the preset's 6)")
    p.add_argument("--limit", type=int, help="train on a seeded subset of MNIST digits")
    p.add_argument("--repeats", type=int, default=30, help="repeats per layer timing")
    p.add_argument("--layers-only", action="store_true", help="only the layer timings")
    p.add_argument("--no-torch", action="store_true", help="nncore alone")
    return p.parse_args()


ARGS = _parse()
if ARGS.threads:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)

from nncore.runs.presets import get_preset  # noqa: E402
from nncore.runs.spec import build_network  # noqa: E402

SPEC = get_preset("mnist-cnn").run_spec()


def _median_ms(f, repeats):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def layer_timings(batch: int, repeats: int) -> list[dict]:
    """Forward / backward ms of each layer of the preset network on one batch of random digits."""
    net = build_network(SPEC, 784, 10)
    rng = np.random.default_rng(0)
    a = rng.random((batch, 784), dtype=np.float32)
    inputs = []
    for layer in net.layers:                     # forward once to get every layer's input
        inputs.append(a)
        a = layer.forward(a, training=True)
    rows, first = [], net._first_parametric()
    for i, layer in enumerate(net.layers):
        x = inputs[i]
        out = layer.forward(x, training=True)
        grad = rng.standard_normal(out.shape).astype(np.float32)
        fwd = _median_ms(lambda: layer.forward(x, training=True), repeats)
        layer.skip_input_gradient = layer is first      # as in training: no dX for the first
        bwd = _median_ms(lambda: layer.backward(grad), repeats)
        rows.append({"layer": f"{i}: {type(layer).__name__}", "output": list(out.shape[1:]),
                     "forward_ms": round(fwd, 3), "backward_ms": round(bwd, 3)})
    if first is not None:
        first.skip_input_gradient = False
    return rows


class TorchTwin:
    """The preset's network in PyTorch, trained one epoch at a time on the same data."""

    def __init__(self, dataset, threads):
        import torch
        from torch import nn

        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        torch.manual_seed(0)
        convs = [h for h in SPEC.hidden if h.kind == "conv"]
        dense = [h for h in SPEC.hidden if h.kind == "dense"][0]
        f1, f2 = convs[0].filters, convs[1].filters
        self.model = nn.Sequential(
            nn.Conv2d(1, f1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(f1, f2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(f2 * 7 * 7, dense.units), nn.ReLU(), nn.Dropout(dense.dropout),
            nn.Linear(dense.units, 10))
        self.lr = SPEC.optimizer["lr"]
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self.loss = nn.CrossEntropyLoss()
        self.X = torch.from_numpy(dataset.X_train.reshape(-1, 1, 28, 28))
        self.y = torch.from_numpy(dataset.y_train)
        self.X_test = torch.from_numpy(dataset.X_test.reshape(-1, 1, 28, 28))
        self.y_test = dataset.y_test
        self.threads = torch.get_num_threads()

    def epoch(self, epoch: int, epochs: int) -> float:
        """Train one epoch (``epoch`` counts from 0); return its training seconds."""
        torch, batch = self.torch, SPEC.batch_size
        for group in self.opt.param_groups:        # nncore's cosine schedule, per epoch
            group["lr"] = 0.5 * self.lr * (1 + math.cos(math.pi * epoch / epochs))
        self.model.train()
        order = torch.randperm(len(self.X))
        start = time.perf_counter()
        for i in range(0, len(self.X), batch):
            idx = order[i:i + batch]
            self.opt.zero_grad()
            self.loss(self.model(self.X[idx]), self.y[idx]).backward()
            self.opt.step()
        return time.perf_counter() - start

    def test_accuracy(self) -> float:
        self.model.eval()
        with self.torch.no_grad():
            pred = np.concatenate([self.model(self.X_test[i:i + 1000]).argmax(1).numpy()
                                   for i in range(0, len(self.X_test), 1000)])
        return float(np.mean(pred == self.y_test))


def time_to(target, seconds, accuracies):
    """Training seconds summed up to the first epoch whose test accuracy reaches ``target``."""
    for k, acc in enumerate(accuracies):
        if acc >= target:
            return round(sum(seconds[:k + 1]), 2), k + 1
    return None, None


def interleaved(epochs: int | None, limit: int | None, with_torch: bool) -> dict:
    from nncore.runs.run import build_for, load_spec_data, train_spec

    dataset = load_spec_data(SPEC, limit=limit, allow_fallback=False)
    network = build_for(SPEC, dataset)
    epochs = epochs or SPEC.epochs
    twin = TorchTwin(dataset, ARGS.threads) if with_torch else None
    ours = {"seconds": [], "test_accuracy": []}
    theirs = {"seconds": [], "test_accuracy": []}

    def after_epoch(event):
        if event.kind != "epoch_end":
            return
        ours["seconds"].append(event.history.seconds[-1])
        ours["test_accuracy"].append(network.score(dataset.X_test, dataset.y_test))
        line = (f"  epoch {event.epoch}/{epochs}: nncore {ours['seconds'][-1]:6.2f} s, "
                f"test {ours['test_accuracy'][-1]:.4f}")
        if twin is not None:
            theirs["seconds"].append(twin.epoch(event.epoch - 1, epochs))
            theirs["test_accuracy"].append(twin.test_accuracy())
            line += (f"   PyTorch {theirs['seconds'][-1]:6.2f} s, test "
                     f"{theirs['test_accuracy'][-1]:.4f}   ratio "
                     f"{ours['seconds'][-1] / theirs['seconds'][-1]:.2f}")
        print(line, flush=True)

    train_spec(SPEC, dataset, epochs=epochs, network=network, callbacks=[after_epoch])
    out = {"n_train": dataset.n_train, "epochs": epochs,
           "load_average": list(os.getloadavg())}
    for name, side in (("nncore", ours), ("torch", theirs)):
        if not side["seconds"]:
            continue
        t99, e99 = time_to(0.99, side["seconds"], side["test_accuracy"])
        out[name] = {"seconds_per_epoch": round(statistics.median(side["seconds"]), 3),
                     "epoch_seconds": [round(s, 3) for s in side["seconds"]],
                     "test_accuracy": side["test_accuracy"],
                     "seconds_to_99": t99, "epochs_to_99": e99}
    if theirs["seconds"]:
        ratios = sorted(a / b for a, b in zip(ours["seconds"], theirs["seconds"]))
        out["ratio"] = round(statistics.median(ratios), 3)
        out["ratio_range"] = [round(ratios[0], 3), round(ratios[-1], 3)]
        out["torch"]["threads"] = twin.threads
    return out


def main() -> None:
    batch = SPEC.batch_size
    out = {"preset": "mnist-cnn", "threads": ARGS.threads or "default", "batch": batch,
           "cpus": os.cpu_count(), "load_average": list(os.getloadavg())}
    print(f"mnist-cnn layers, one batch of {batch} (median of {ARGS.repeats}; "
          f"BLAS threads: {out['threads']}; load average {out['load_average'][0]:.1f}):")
    rows = layer_timings(batch, ARGS.repeats)
    for r in rows:
        print(f"  {r['layer']:<14} → {str(tuple(r['output'])):<14} forward {r['forward_ms']:7.3f} ms"
              f"   backward {r['backward_ms']:7.3f} ms")
    total = sum(r["forward_ms"] + r["backward_ms"] for r in rows)
    print(f"  total {total:.2f} ms per batch (layers only: no loss, optimizer or batch gathering)")
    out["layers"], out["ms_per_batch"] = rows, round(total, 3)
    if not ARGS.layers_only:
        with_torch = not ARGS.no_torch
        if with_torch:
            try:
                import torch  # noqa: F401
            except ImportError:
                print("PyTorch is not installed: nncore alone.")
                with_torch = False
        print("mnist-cnn on MNIST, nncore and PyTorch taking turns epoch by epoch:")
        run = interleaved(ARGS.epochs, ARGS.limit, with_torch)
        out["run"] = run
        for name in ("nncore", "torch"):
            if name in run:
                r = run[name]
                reached = (f"{r['seconds_to_99']} s ({r['epochs_to_99']} epochs)"
                           if r["seconds_to_99"] is not None else "not reached")
                print(f"  {name:<7} {r['seconds_per_epoch']:.2f} s/epoch (median), test "
                      f"accuracy {r['test_accuracy'][-1]:.4f}, 99 % after {reached}")
        if "ratio" in run:
            lo, hi = run["ratio_range"]
            print(f"  nncore ÷ PyTorch, epoch by epoch: median {run['ratio']:.2f} "
                  f"(range {lo:.2f}–{hi:.2f}; PyTorch threads {run['torch']['threads']})")
    out["load_average_end"] = list(os.getloadavg())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
