"""Where one training step of the mnist-cnn preset goes, part by part, against each part's floor.

Run by hand (never by the tests); no data needed:

    python benchmarks/cnn_parts.py                 # BLAS threads as found
    python benchmarks/cnn_parts.py --threads 1

One step on a batch of 64 random digits, taken apart into the calls the engine makes
(each part below calls the layer, layout or activation code the engine runs, on the
arrays a real step hands it). Each part's time is the median of ``--repeats`` runs of it
alone. Its floor is measured in the same run, for what the part must at least do:

- a **product**: its floating-point operations at the rate of one large
  float32 product (1024 × 1024 × 1024) on this machine, at the BLAS threads in use
  (one with ``--threads 1``), i.e. BLAS at its best;
- **data movement** (im2col, cropping, pooling, activations, additions): one contiguous
  ``np.copyto`` of as many bytes as the part reads and writes at least — each input
  array read once, each output written once.

The ratio time ÷ floor says how far each part is from what NumPy could do with the same
data in the best case. The last line printed is one JSON object with every figure.
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

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--threads", type=int, help="BLAS threads (set before NumPy is imported)")
p.add_argument("--repeats", type=int, default=200)
ARGS = p.parse_args()
if ARGS.threads:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

from nncore.runs.presets import get_preset  # noqa: E402
from nncore.layers.im2col import im2col  # noqa: E402
from nncore.runs.spec import build_network  # noqa: E402


def median_ms(f) -> float:
    f()
    times = []
    for _ in range(ARGS.repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


class Floors:
    """What this machine does at best: a large product's FLOP rate, a contiguous copy."""

    def __init__(self):
        a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
        ms = median_ms(lambda: a @ a)
        self.gflops = 2 * 1024 ** 3 / ms / 1e6

    def product(self, flops: float) -> float:
        return flops / self.gflops / 1e6

    def movement(self, nbytes: float) -> float:
        """ms of one contiguous copy reading and writing ``nbytes`` in all."""
        n = max(int(nbytes // 8), 1)                    # float32: 4 bytes read, 4 written
        src, dst = np.ones(n, np.float32), np.empty(n, np.float32)
        return median_ms(lambda: np.copyto(dst, src))


def main() -> None:
    spec = get_preset("mnist-cnn").run_spec()
    net = build_network(spec, 784, 10)
    reshape, conv1, pool1, conv2, pool2, flatten, dense1, dropout, dense2 = net.layers
    conv1.skip_input_gradient = True
    rng = np.random.default_rng(0)
    X = rng.random((spec.batch_size, 784), dtype=np.float32)
    Y = net._targets(rng.integers(0, 10, len(X)), len(X))
    net._step(X, Y)                                         # Adam's state, every cache filled
    floors = Floors()
    rows = []

    def part(name, f, *, flops=0.0, moved=()):
        """Time f; its floor: flops at BLAS's best plus the bytes of ``moved`` copied once."""
        ms = median_ms(f)
        floor = floors.product(flops) + (floors.movement(sum(a.nbytes for a in moved))
                                         if moved else 0.0)
        rows.append({"part": name, "ms": round(ms, 4), "floor_ms": round(floor, 4)})

    def gemm(M, K, N, count=1):
        return 2.0 * M * K * N * count

    def bias_relu_pool(tag, conv, z, pool):
        """A conv layer's z += b, its ReLU and the 2×2 pooling after it, each timed: the
        bias timed into a scratch array, so that z, which the later parts read, is biased
        once, not once a repeat."""
        z += conv.b[:, None, None]
        scratch = np.empty_like(z)
        part(f"{tag} + b", lambda: np.add(z, conv.b[:, None, None], out=scratch),
             moved=(z, scratch))
        a = conv.activation.forward(z)
        part(f"{tag} ReLU", lambda: conv.activation.forward(z), moved=(z, a))
        p = pool.forward(a, True)
        part(f"pool{tag[-1]} forward", lambda: pool.forward(a, True),
             moved=(a, p, pool.right_won, pool.bottom_won))
        return a, p

    m = len(X)
    # ---- forward, as Network.forward runs it
    x1 = reshape.forward(X, True)
    patch1 = (conv1.kh, conv1.kw, conv1.stride, conv1.padding)
    cols1 = im2col(x1, *patch1)
    part("conv1 im2col (plain)", lambda: im2col(x1, *patch1), moved=(x1, cols1))
    W1 = conv1.W.reshape(conv1.out_channels, -1)
    z1 = np.matmul(W1, cols1)
    part("conv1 product W_col·cols", lambda: np.matmul(W1, cols1),
         flops=gemm(*W1.shape, cols1.shape[-1], m))
    z1 = z1.reshape(conv1.z.shape)
    a1, p1 = bias_relu_pool("conv1", conv1, z1, pool1)
    L2 = conv2.shifted                                      # conv2 takes the fast path
    cols2 = L2.im2col(p1)
    part("conv2 im2col (shifted)", lambda: L2.im2col(p1), moved=(p1, cols2))
    W2 = conv2.W.reshape(conv2.out_channels, -1)
    zw2 = np.matmul(W2, cols2)
    part("conv2 product W_col·cols", lambda: np.matmul(W2, cols2),
         flops=gemm(*W2.shape, cols2.shape[-1], m))
    z2 = L2.to_images(zw2)
    part("conv2 cut to outputs", lambda: L2.to_images(zw2), moved=(z2, z2))
    a2, p2 = bias_relu_pool("conv2", conv2, z2, pool2)
    f = flatten.forward(p2, True)
    h = dense1.forward(f, True)
    part("dense 784→128 forward (z = a·W + b, ReLU)", lambda: dense1.forward(f, True),
         flops=gemm(m, 784, 128), moved=(h, h))
    d = dropout.forward(h, True)
    out = dense2.forward(d, True)
    part("dropout, dense 128→10, softmax, loss",
         lambda: (dense2.forward(dropout.forward(h, True), True), net.compute_loss(out, Y)))
    # ---- backward, as Network.backward runs it
    g = net.loss.backward(out, Y)
    part("loss δ, dense 128→10 backward", lambda: dense2.backward(net.loss.backward(out, Y), True))
    gd = dense2.backward(g, True)
    gh = dropout.backward(gd)
    gf = dense1.backward(gh)
    part("dense 784→128 backward (δ, dW, db, dA_prev)", lambda: dense1.backward(gh),
         flops=gemm(784, m, 128) + gemm(m, 128, 784))
    gp2 = flatten.backward(gf)
    ga2 = pool2.backward(gp2)
    part("pool2 backward", lambda: pool2.backward(gp2), moved=(gp2, ga2))
    delta2 = conv2.activation.backward(ga2, z2, a2)
    part("conv2 ReLU' (δ = dA ∘ σ')", lambda: conv2.activation.backward(ga2, z2, a2),
         moved=(ga2, a2, delta2))
    dwide = L2.from_images(delta2)
    part("conv2 δ to the columns' layout", lambda: L2.from_images(delta2), moved=(delta2, dwide))
    part("conv2 product dW = Σ δ·colsᵀ", lambda: np.matmul(dwide, cols2.transpose(0, 2, 1)).sum(0),
         flops=gemm(W2.shape[0], cols2.shape[-1], W2.shape[1], m))
    part("conv2 db", lambda: np.sum(delta2.sum(axis=0), axis=(1, 2)), moved=(delta2,))
    dcols = np.matmul(W2.T, dwide, out=L2.empty_cols(np.float32))
    part("conv2 product W_colᵀ·δ", lambda: np.matmul(W2.T, dwide, out=L2.empty_cols(np.float32)),
         flops=gemm(W2.shape[1], W2.shape[0], cols2.shape[-1], m))
    gp1 = L2.col2im(dcols)
    part("conv2 col2im (additions, cut padding)", lambda: L2.col2im(dcols), moved=(dcols, gp1))
    ga1 = pool1.backward(gp1)
    part("pool1 backward", lambda: pool1.backward(gp1), moved=(gp1, ga1))
    delta1 = conv1.activation.backward(ga1, z1, a1)
    part("conv1 ReLU' (δ = dA ∘ σ')", lambda: conv1.activation.backward(ga1, z1, a1),
         moved=(ga1, a1, delta1))
    d1 = delta1.reshape(m, conv1.out_channels, -1)
    part("conv1 product dW = Σ δ·colsᵀ", lambda: np.matmul(d1, cols1.transpose(0, 2, 1)).sum(0),
         flops=gemm(W1.shape[0], cols1.shape[-1], W1.shape[1], m))
    part("conv1 db", lambda: np.sum(delta1.sum(axis=0), axis=(1, 2)), moved=(delta1,))
    triples = net.parameters()
    params, grads = [p for _, p, _ in triples], [q for _, _, q in triples]
    part("Adam update (103,018 parameters)", lambda: net.optimizer.step(params, grads),
         moved=params + grads + net.optimizer.m + net.optimizer.v)
    step = median_ms(lambda: net._step(X, Y))

    total = sum(r["ms"] for r in rows)
    floor_total = sum(r["floor_ms"] for r in rows)
    print(f"one step of mnist-cnn, batch {m} (BLAS threads: {ARGS.threads or 'default'}; "
          f"products at best {floors.gflops:.0f} GFLOP/s; load {os.getloadavg()[0]:.1f}):")
    print(f"  {'part':<46}{'ms':>8}{'floor':>8}{'× floor':>9}")
    for r in rows:
        ratio = f"{r['ms'] / r['floor_ms']:.1f}" if r["floor_ms"] else "—"
        print(f"  {r['part']:<46}{r['ms']:8.3f}{r['floor_ms']:8.3f}{ratio:>9}")
    print(f"  {'sum of the parts':<46}{total:8.3f}{floor_total:8.3f}")
    print(f"  {'a whole step (Network._step)':<46}{step:8.3f}")
    print(json.dumps({"threads": ARGS.threads or "default", "gflops": round(floors.gflops, 1),
                      "parts": rows, "sum_ms": round(total, 3), "floor_ms": round(floor_total, 3),
                      "step_ms": round(step, 3), "load_average": list(os.getloadavg())}))


if __name__ == "__main__":
    main()
