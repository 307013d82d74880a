"""One preset per seed experiment, with its published setup, plus the app's default.

Each preset is a ``RunSpec`` plus the number it is expected to reach (its *headline*):
``python -m nncore train --preset NAME`` runs it and prints that number.
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import LayerSpec, RunSpec


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    source: str            # which seed document it reproduces
    description: str       # one paragraph: what it reproduces and what to expect
    spec: dict             # RunSpec.to_dict()
    headline: str          # "test_accuracy" or "final_error"
    target: float          # the number to reach …
    better: str            # … "higher" or "lower" is better
    published: str         # what the seed reports

    def run_spec(self) -> RunSpec:
        return RunSpec.from_dict(self.spec)

    def met(self, value: float) -> bool:
        return value >= self.target if self.better == "higher" else value <= self.target

    @property
    def expectation(self) -> str:
        sign = "≥" if self.better == "higher" else "≤"
        shown = f"{self.target:.0%}" if self.headline.endswith("accuracy") else f"{self.target:g}"
        return f"{self.headline.replace('_', ' ')} {sign} {shown}"


def _preset(name, title, source, description, spec: RunSpec, headline, target, better, published):
    return Preset(name, title, source, description, spec.validate().to_dict(), headline,
                  target, better, published)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    _preset(
        "mnist-mlp", "MNIST, 784-256-128-10 ReLU, Adam (the default)", "—",
        "The strong default: two ReLU hidden layers, softmax cross-entropy, Adam with a "
        "cosine-decaying learning rate, mini-batches of 128. Under a second per epoch on two "
        "cores; ten epochs reach 98 % on the 10,000 test digits.",
        # The default itself, as nncore/runs/schema.py declares it once: MNIST, 256 and 128
        # ReLU units, softmax cross-entropy, Adam lr 0.001 with cosine decay, batches of
        # 128, 10 epochs, seed 0 — what a new session, the command line and a link start from.
        RunSpec(),
        "test_accuracy", 0.98, "higher", "—"),
    _preset(
        "mnist-cnn", "MNIST, a small convolutional network, Adam", "001",
        "Seed 001's library mentions convolutional layers; here they are. Two 3×3 "
        "convolutions (8 then 16 filters, zero-padded so they keep the image size), each "
        "followed by ReLU and 2×2 max pooling, then a 128-unit ReLU layer with dropout 0.4 on "
        "the 16×7×7 feature maps and the softmax output: 103,018 parameters, under half of the MLP "
        "default's, of which only 1,248 are filters. Adam with a cosine-decaying learning "
        "rate, mini-batches of 64, six epochs: 99 % on the 10,000 test digits, where the MLP "
        "stops near 98 %.",
        RunSpec(data={"name": "mnist", "val_fraction": 0.1, "seed": 0},
                hidden=[LayerSpec(kind="conv", filters=8, kernel=3, padding="same"),
                        LayerSpec(kind="maxpool", pool=2),
                        LayerSpec(kind="conv", filters=16, kernel=3, padding="same"),
                        LayerSpec(kind="maxpool", pool=2),
                        LayerSpec(128, "relu", dropout=0.4)],
                loss="softmax_cross_entropy", optimizer={"name": "adam", "lr": 0.002},
                schedule={"name": "cosine"}, batch_size=64, epochs=6, seed=0),
        "test_accuracy", 0.99, "higher", "—"),
    _preset(
        "seed000-mnist", "Seed 000: MNIST 784-16-10, ReLU then sigmoid, squared error", "000",
        "Seed 000's network: one ReLU layer of 16 units and 10 sigmoid outputs, weights and "
        "biases drawn as randn·0.1, the gradient 2·(prediction − target), plain SGD with "
        "learning rate 0.1 on fixed mini-batches of 64 for 50 epochs. The seed reports over "
        "94 % validation accuracy. (Its bias step averages δ over the units — a slip we do "
        "not copy; biases here get the usual Σδ/m.)",
        RunSpec(data={"name": "mnist", "val_fraction": 0.1, "seed": 42},
                hidden=[LayerSpec(16, "relu", init="normal-0.1")], loss="mse_sum",
                output_activation="sigmoid", output_init="normal-0.1",
                schedule={"name": "constant"},
                optimizer={"name": "sgd", "lr": 0.1}, batch_size=64, epochs=50, shuffle=False,
                seed=42),
        "test_accuracy", 0.94, "higher", "> 94 % validation accuracy"),
    _preset(
        "seed001-xor", "Seed 001: XOR with a 2-3-1 tanh network, per-sample SGD", "001",
        "Seed 001's first example: Dense(2→3), tanh, Dense(3→1), tanh as separate layers, "
        "weights and biases from U(−0.5, 0.5), mean squared error, one sample at a time, "
        "learning rate 0.1, 1000 epochs. The seed prints error 0.000242, and so does seed 2 "
        "here. The published run is unseeded, and some initialisations stall near 0.279 (seeds "
        "0, 1, 4 and 10 of the first 20): the hidden tanh units start out so that gradient "
        "descent settles in a local minimum where one input is always misread, and the "
        "error stops falling. Try those seeds to watch the stall.",
        RunSpec(data={"name": "xor"}, hidden=[LayerSpec(3, "tanh", init="uniform-0.5")],
                loss="mse", output_activation="tanh", output_init="uniform-0.5",
                separate_activations=True, schedule={"name": "constant"},
                optimizer={"name": "sgd", "lr": 0.1},
                batch_size=1, epochs=1000, shuffle=False, seed=2),
        "final_error", 0.001, "lower", "error 0.000242 after 1000 epochs"),
    _preset(
        "seed001-mnist", "Seed 001: MNIST 784-100-50-10 tanh, per-sample SGD", "001",
        "Seed 001's fully connected MNIST example: Dense layers of 100, 50 and 10 units, each "
        "followed by a tanh layer, squared error, per-sample SGD with learning rate 0.1, "
        "trained on the first 1000 training digits for 30 epochs (per-sample updates in "
        "Python are slow, so the seed kept it small). The seed shows its epoch error falling "
        "to 0.011 and three test digits read right; it gives no accuracy. Expect about "
        "85 % on the test digits from 1000 training digits.",
        RunSpec(data={"name": "mnist", "limit": 1000, "val_fraction": 0.0, "seed": 0},
                hidden=[LayerSpec(100, "tanh", init="uniform-0.5"),
                        LayerSpec(50, "tanh", init="uniform-0.5")],
                loss="mse", output_activation="tanh", output_init="uniform-0.5",
                separate_activations=True, schedule={"name": "constant"},
                optimizer={"name": "sgd", "lr": 0.1},
                batch_size=1, epochs=30, shuffle=False, seed=0),
        "test_accuracy", 0.80, "higher", "epoch error 0.0109 after 30 epochs; no accuracy given"),
    _preset(
        "seed002-clusters", "Seed 002: three Gaussian clusters, 2-5-3 ReLU + softmax, L2", "002",
        "Seed 002's data (5000 points per cluster, seed 12, 10 % test split) and network: 5 "
        "ReLU units, softmax cross-entropy, L2 weight decay λ = 0.01, weights from N(0, 1), "
        "full-batch gradient descent with learning rate 0.01 for 5001 steps. The seed "
        "reports 96.4 % test accuracy (TensorFlow: 96.3 %). Its third cluster's covariance "
        "[[0, .75], [.75, 0]] is not positive semi-definite; NumPy samples it anyway, and so "
        "do we, to reproduce the published points.",
        RunSpec(data={"name": "clusters", "seed": 12, "val_fraction": 0.0},
                hidden=[LayerSpec(5, "relu", init="normal-1")], loss="softmax_cross_entropy",
                output_init="normal-1", schedule={"name": "constant"},
                optimizer={"name": "sgd", "lr": 0.01}, l2=0.01,
                batch_size=None, epochs=5001, seed=12),
        "test_accuracy", 0.96, "higher", "96.4 % test accuracy"),
    _preset(
        "seed003-moons", "Seed 003: two moons, 2-16-1 ReLU + sigmoid, binary cross-entropy", "003",
        "Seed 003's experiment: make_moons(1000, noise 0.2), 16 ReLU units and one sigmoid "
        "output, weights and biases from randn·0.1, binary cross-entropy, full-batch "
        "gradient descent with learning rate 1.0 for 1000 epochs. The seed shows a clean "
        "boundary that matches scikit-learn's MLPClassifier with the same settings; its "
        "learning-rate study tries 2, 1, 0.5, 0.3, 0.2 and 0.1 (small rates stall on a "
        "plateau).",
        RunSpec(data={"name": "moons", "n_samples": 1000, "noise": 0.2, "seed": 0,
                      "val_fraction": 0.0},
                hidden=[LayerSpec(16, "relu", init="normal-0.1")], loss="binary_cross_entropy",
                output_init="normal-0.1", schedule={"name": "constant"},
                optimizer={"name": "sgd", "lr": 1.0},
                batch_size=None, epochs=1000, seed=99),
        "test_accuracy", 0.95, "higher", "a clean boundary matching scikit-learn"),
]}

LEARNING_RATE_STUDY = (2.0, 1.0, 0.5, 0.3, 0.2, 0.1)   # seed 003's study


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}: expected one of {', '.join(PRESETS)}.")
    return PRESETS[name]
