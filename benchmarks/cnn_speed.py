"""How fast is nncore's convolutional path, layer by layer and per MNIST epoch?

Run by hand (never by the tests):

    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/cnn_speed.py            # layers + full preset
    python benchmarks/cnn_speed.py --layers-only                              # no MNIST needed
    python benchmarks/cnn_speed.py --threads 1 --epochs 1                     # one BLAS thread
    python benchmarks/cnn_speed.py --torch                                    # + PyTorch, same CNN

1. **Layers**: forward and backward milliseconds of every layer of the ``mnist-cnn`` preset's
   network on one mini-batch (median of repeats), so you can see where an epoch goes:
   im2col/col2im copies, the matrix products, pooling.
2. **Epochs**: the ``mnist-cnn`` preset trained as ``python -m nncore train --preset
   mnist-cnn`` trains it (same RunSpec, same code path), reporting test accuracy and the
   median seconds per epoch (training only, not the validation pass).
3. ``--torch``: the same architecture, optimiser, schedule and batch size in PyTorch on the
   CPU, as a yardstick.

``--threads N`` sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS before NumPy
is imported. On a shared 2-core machine where other processes are busy, one thread is often
*faster*: multi-threaded BLAS waits for a core that someone else holds. The last line
printed is one JSON object with every figure.
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
    p.add_argument("--epochs", type=int, help="epochs of the preset run (default: the preset's)")
    p.add_argument("--limit", type=int, help="train on a random subset of MNIST digits")
    p.add_argument("--batch", type=int, default=None, help="batch size for the layer timings")
    p.add_argument("--repeats", type=int, default=20, help="repeats per layer timing")
    p.add_argument("--layers-only", action="store_true", help="skip the MNIST run")
    p.add_argument("--torch", action="store_true", help="also time PyTorch on the same CNN")
    return p.parse_args()


ARGS = _parse()
if ARGS.threads:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)

from nncore.runs.presets import get_preset  # noqa: E402
from nncore.runs.spec import build_network  # noqa: E402


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
    spec = get_preset("mnist-cnn").run_spec()
    net = build_network(spec, 784, 10)
    rng = np.random.default_rng(0)
    a = rng.random((batch, 784), dtype=np.float32)
    rows, inputs = [], []
    for layer in net.layers:                     # forward once to get every layer's input
        inputs.append(a)
        a = layer.forward(a, training=True)
    first = net._first_parametric()
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


def preset_run(epochs: int | None, limit: int | None) -> dict:
    from nncore.runs.run import load_spec_data, train_spec

    spec = get_preset("mnist-cnn").run_spec()
    dataset = load_spec_data(spec, limit=limit, allow_fallback=False)

    def progress(event):
        if event.kind == "epoch_end":
            h = event.history
            print(f"  epoch {event.epoch}/{event.epochs}: loss {h.train_loss[-1]:.4f}, "
                  f"val accuracy {h.val_accuracy[-1]:.4f} ({h.seconds[-1]:.1f} s)", flush=True)

    result = train_spec(spec, dataset, epochs=epochs, callbacks=[progress])
    m = result.metrics
    return {"n_train": dataset.n_train, "epochs": m["epochs"],
            "test_accuracy": m["test_accuracy"], "seconds_per_epoch": m["seconds_per_epoch"],
            "epoch_seconds": result.history.seconds}


def torch_run(epochs: int, limit: int | None) -> dict:
    """The preset's CNN in PyTorch: same layers, Adam, cosine schedule, batch size, data."""
    import torch
    from torch import nn

    from nncore.runs.run import load_spec_data

    spec = get_preset("mnist-cnn").run_spec()
    dataset = load_spec_data(spec, limit=limit, allow_fallback=False)
    torch.manual_seed(0)
    convs = [h for h in spec.hidden if h.kind == "conv"]
    f1, f2 = convs[0].filters, convs[1].filters
    head, width = [], f2 * 7 * 7
    for h in spec.hidden:
        if h.kind == "dense":
            head += [nn.Linear(width, h.units), nn.ReLU()]
            head += [nn.Dropout(h.dropout)] if h.dropout else []
            width = h.units
    model = nn.Sequential(nn.Conv2d(1, f1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(f1, f2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), *head, nn.Linear(width, 10))
    opt = torch.optim.Adam(model.parameters(), lr=spec.optimizer["lr"])
    X = torch.from_numpy(dataset.X_train.reshape(-1, 1, 28, 28))
    y = torch.from_numpy(dataset.y_train)
    loss_fn = nn.CrossEntropyLoss()
    seconds = []
    for epoch in range(epochs):
        model.train()
        for g in opt.param_groups:          # the same cosine schedule, per epoch
            g["lr"] = spec.optimizer["lr"] * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        order = torch.randperm(len(X))
        t = time.perf_counter()
        for i in range(0, len(X), spec.batch_size):
            idx = order[i:i + spec.batch_size]
            opt.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()
        seconds.append(time.perf_counter() - t)
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(dataset.X_test.reshape(-1, 1, 28, 28))).argmax(1).numpy()
    return {"epochs": epochs, "test_accuracy": float(np.mean(pred == dataset.y_test)),
            "seconds_per_epoch": statistics.median(seconds), "threads": torch.get_num_threads()}


def main() -> None:
    spec = get_preset("mnist-cnn").run_spec()
    batch = ARGS.batch or spec.batch_size
    out = {"preset": "mnist-cnn", "threads": ARGS.threads or "default", "batch": batch,
           "cpus": os.cpu_count(), "load_average": list(os.getloadavg())}
    print(f"mnist-cnn layers, one batch of {batch} (median of {ARGS.repeats}; "
          f"BLAS threads: {out['threads']}; load average {out['load_average'][0]:.1f}):")
    rows = layer_timings(batch, ARGS.repeats)
    for r in rows:
        print(f"  {r['layer']:<14} → {str(tuple(r['output'])):<14} forward {r['forward_ms']:7.2f} ms"
              f"   backward {r['backward_ms']:7.2f} ms")
    total = sum(r["forward_ms"] + r["backward_ms"] for r in rows)
    print(f"  total {total:.1f} ms per batch")
    out["layers"], out["ms_per_batch"] = rows, round(total, 2)
    if not ARGS.layers_only:
        print("mnist-cnn preset on MNIST (python -m nncore train --preset mnist-cnn):")
        run = preset_run(ARGS.epochs, ARGS.limit)
        print(f"  test accuracy {run['test_accuracy']:.4f} after {run['epochs']} epochs, "
              f"{run['seconds_per_epoch']:.1f} s/epoch (median) on {run['n_train']:,} digits")
        out["nncore"] = run
        if ARGS.torch:
            t = torch_run(run["epochs"], ARGS.limit)
            print(f"  PyTorch, same CNN: test accuracy {t['test_accuracy']:.4f}, "
                  f"{t['seconds_per_epoch']:.1f} s/epoch ({t['threads']} threads)")
            out["torch"] = t
    out["load_average_end"] = list(os.getloadavg())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
