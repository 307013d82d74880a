"""The data section of an exported script: the lab's data set, made or read, split the lab's way.

Generated sets are made as ``nncore.data.toy2d`` makes them (scikit-learn's generators, or
NumPy with the same seeded generator); MNIST is read from the four IDX ``.gz`` files in a
folder the script names. The split is scikit-learn's ``train_test_split`` with the lab's
seed and sizes — the rows ``nncore.data.splits`` picks, which its tests check against
scikit-learn row for row — so the script trains on the lab's rows, in the lab's order.
"""

from __future__ import annotations

import textwrap

from ..data import points as drawn
from ..data.registry import DATASETS, _resolve, known_image_shape, known_shape
from ..data.splits import _part_size
from .document import Section, code

_MNIST_ENV = {"mnist": "NNCORE_MNIST_DIR", "fashion-mnist": "NNCORE_FASHION_MNIST_DIR"}


def data_settings(data: dict) -> tuple[dict, int, int, tuple | None]:
    """(the data dict with every parameter filled in, n_features, n_classes, image_shape):
    the registry's shapes, known without loading the data (your own points: as many
    classes as the points have); a data set the script cannot make is an ExportError."""
    from .plan import ExportError

    name = data.get("name")
    if name not in DATASETS:
        what = ("An uploaded data set lives in the app's session only" if name == "upload"
                else f"The data set {name!r} is not one of the lab's")
        raise ExportError(f"{what}, so a script cannot load it: export a setup on one of "
                          f"the lab's data sets ({', '.join(DATASETS)}).")
    try:
        params = _resolve(DATASETS[name], {k: v for k, v in data.items()
                                           if k not in ("name", "points")})
        if name == drawn.NAME:     # your own points: the script holds them
            drawn.check_trainable(drawn.decode(data.get("points") or "")[1])
            return ({"name": name, **params, "points": data["points"]},
                    *known_shape(name, data["points"]), None)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    return {"name": name, **params}, *known_shape(name), known_image_shape(name)


def data_section(data: dict, n_outputs: int, notebook: bool = False) -> Section:
    name = data["name"]
    if name in _MNIST_ENV:
        return _mnist(data, n_outputs, notebook)
    make, words, imports = _MAKERS[name](data)
    lines = [make]
    if name == "xor" and data["n_samples"] is None:
        lines.append("X_train, y_train, X_test, y_test = X, y, X, y   # learned by heart: the "
                     "test is the same four points")
    else:
        # Seed 002's published split is a plain shuffle; the other sets keep class shares.
        stratify, n, seed = name != "clusters", _size(data), data["seed"]
        if stratify:
            lines += ["", "", _SPLIT, "", ""]
        n_test = _part_size(data["test_fraction"], n)
        lines.append(_split_line("X", "y", "X_test", "y_test", n_test, seed, stratify,
                                 f"{data['test_fraction']:.0%} for the final test"))
        if data["val_fraction"]:
            lines.append(_split_line("X_train", "y_train", "_", "_",
                                     _part_size(data["val_fraction"], n), seed, stratify,
                                     _VAL_NOTE.format(data["val_fraction"])))
        imports += ("from sklearn.model_selection import train_test_split",)
    lines.append(_targets(n_outputs))
    return Section("The data", words, "\n".join(lines), ("import numpy as np",) + imports)


_VAL_NOTE = "{:.0%} the lab watches while training: not used here"


def _split_line(X, y, X_part, y_part, n_part, seed, stratify, comment) -> str:
    """Cut n_part rows off (X, y) into (X_part, y_part); what is left is the training set."""
    if stratify:
        return (f"X_train, y_train, {X_part}, {y_part} = split_off({X}, {y}, {n_part}, "
                f"seed={seed})   # {comment}")
    return (f"X_train, {X_part}, y_train, {y_part} = train_test_split({X}, {y}, "
            f"test_size={n_part}, random_state={seed})   # {comment}")


def _size(data: dict) -> int:
    if data["name"] == "digits":
        return 1797
    if data["name"] == "clusters":
        return 15_000
    if data["name"] == "points":
        return drawn.count(data["points"])
    return data["n_samples"]


# ---------------------------------------------------------------------- making the points
def _moons(d):
    return (code(f"""
        X, y = make_moons({d['n_samples']}, noise={d['noise']}, random_state={d['seed']})
        X, y = X.astype(np.float32), y.astype(np.int64)
        """), f"Seed 003's two moons: scikit-learn's make_moons, {d['n_samples']:,} points "
             f"(noise {d['noise']}), seeded so that the run repeats.",
            ("from sklearn.datasets import make_moons",))


def _circles(d):
    return (code(f"""
        X, y = make_circles({d['n_samples']}, noise={d['noise']}, factor=0.5, random_state={d['seed']})
        X, y = X.astype(np.float32), y.astype(np.int64)
        """), f"A small circle inside a large one: scikit-learn's make_circles, "
             f"{d['n_samples']:,} points (noise {d['noise']}).",
            ("from sklearn.datasets import make_circles",))


_XOR = "np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)"


def _xor(d):
    if d["n_samples"] is None:
        return (code(f"""
            X = {_XOR}   # seed 001's four points
            y = np.array([0, 1, 1, 0], dtype=np.int64)   # 1 where exactly one input is 1
            """), "Seed 001's XOR: four points no straight line separates.", ())
    return (code(f"""
        noise_rng = np.random.default_rng({d['seed']})
        corner = np.arange({d['n_samples']}) % 4   # the points shared out over the four corners
        X = ({_XOR}[corner] + noise_rng.normal(0.0, {d['noise']}, size=({d['n_samples']}, 2))).astype(np.float32)
        y = np.array([0, 1, 1, 0], dtype=np.int64)[corner]   # 1 where exactly one coordinate is 1
        """), f"A noisy XOR cloud: {d['n_samples']:,} points around the corners of the unit "
             f"square, moved by Gaussian noise of deviation {d['noise']}.", ())


def _spiral(d):
    n = d["n_samples"]
    counts = [n // 3 + (j < n % 3) for j in range(3)]
    return (code(f"""
        spiral_rng = np.random.default_rng({d['seed']})
        X_arms, y_arms = [], []
        for j, n in enumerate({counts}):   # arm j: radius 0 … 1, angle 4j … 4(j + 1) jittered
            r = np.linspace(0.0, 1.0, n)
            t = np.linspace(4.0 * j, 4.0 * (j + 1), n) + spiral_rng.normal(0.0, {d['noise']}, n)
            X_arms.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
            y_arms.append(np.full(n, j, dtype=np.int64))
        X, y = np.vstack(X_arms).astype(np.float32), np.concatenate(y_arms)
        """), f"The three-armed spiral of Stanford's CS231n notes: {n:,} points.", ())


def _clusters(d):
    return (code("""
        cluster_rng = np.random.RandomState(12)   # seed 002's np.random.seed(12)
        x1 = cluster_rng.multivariate_normal([0, 0], [[2, .75], [.75, 2]], 5000)
        x2 = cluster_rng.multivariate_normal([1, 4], [[1, .75], [.75, 1]], 5000)
        x3 = cluster_rng.multivariate_normal([2, 8], [[0, .75], [.75, 0]], 5000, check_valid="ignore")
        X, y = np.vstack((x1, x2, x3)).astype(np.float32), np.repeat(np.arange(3), 5000)
        """), "Seed 002's three Gaussian clusters, drawn exactly as published (the third "
              "covariance is not positive semi-definite; NumPy samples it anyway).", ())


def _digits(d):
    return (code("""
        digits = load_digits()   # 1,797 images of 8×8 pixels, bundled: nothing to download
        X, y = (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)   # ink 0…16 → [0, 1]
        """), "scikit-learn's bundled 8×8 digits, scaled to [0, 1].",
            ("from sklearn.datasets import load_digits",))


def _points(d):
    X, y = drawn.decode(d["points"])
    hundredths = ", ".join(str(v) for v in drawn.to_index(X).ravel() - drawn.TOP // 2)
    classes = "".join(str(c) for c in y)
    numbers = textwrap.fill(hundredths, 88, initial_indent="    ", subsequent_indent="    ")
    digits = "\n".join(f'    "{classes[i:i + 80]}"' for i in range(0, len(classes), 80))
    return ("\n".join([
        "X = (np.array([   # x₁, x₂ of each point in turn, in hundredths",
        numbers, "]).reshape(-1, 2) / 100).astype(np.float32)",
        "y = np.array([int(c) for c in (   # the class of each point, in the same order",
        digits, ")], dtype=np.int64)"]),
        f"Your own points: the {len(y):,} points placed on the lab's plane, with their classes.",
        ())


_MAKERS = {"moons": _moons, "circles": _circles, "xor": _xor, "spiral": _spiral,
           "clusters": _clusters, "digits": _digits, "points": _points}

_SPLIT = code('''
    def split_off(X, y, n_part, seed):
        """n_part rows cut off (X, y) as the lab cuts them, keeping class shares if it can."""
        classes, counts = np.unique(y, return_counts=True)
        stratify = counts.min() >= 2 and min(n_part, len(y) - n_part) >= len(classes)
        X_rest, X_part, y_rest, y_part = train_test_split(
            X, y, test_size=n_part, random_state=seed, stratify=y if stratify else None)
        return X_rest, y_rest, X_part, y_part
    ''')


def _targets(n_outputs: int) -> str:
    if n_outputs == 1:
        return ("Y_train, Y_test = (y_.astype(np.float32).reshape(-1, 1) for y_ in (y_train, "
                "y_test))   # one output unit: its target is the label, 0 or 1")
    return (f"Y_train, Y_test = np.eye({n_outputs}, dtype=np.float32)[y_train], "
            f"np.eye({n_outputs}, dtype=np.float32)[y_test]   # one-hot rows")


# ---------------------------------------------------------------------- MNIST
def _mnist(d, n_outputs, notebook):
    env = _MNIST_ENV[d["name"]]
    title = "Fashion-MNIST" if d["name"] == "fashion-mnist" else "MNIST"
    folder = (f'os.environ.get("{env}", "mnist")' if notebook else
              f'sys.argv[1] if len(sys.argv) > 1 else os.environ.get("{env}", "mnist")')
    lines = [f"MNIST_DIR = {folder}", "", "", code(f'''
        def read_idx(name):
            """An IDX file: byte 3 is the number of dimensions d, d big-endian sizes follow."""
            path = os.path.join(MNIST_DIR, name + ".gz")
            if not os.path.isfile(path):
                sys.exit(f"{{path}} is missing: name the folder of the four {title} IDX .gz "
                         "files on the command line or in {env}.")
            with gzip.open(path) as f:
                raw = f.read()
            shape = struct.unpack(f">{{raw[3]}}I", raw[4:4 + 4 * raw[3]])
            return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(shape)


        X_pool, y_pool = read_idx("train-images-idx3-ubyte").reshape(-1, 784), read_idx("train-labels-idx1-ubyte")
        X_test, y_test = read_idx("t10k-images-idx3-ubyte").reshape(-1, 784), read_idx("t10k-labels-idx1-ubyte")
        ''')]
    if d["limit"] is not None:
        lines.append(code(f'''
            subset_rng = np.random.default_rng({d['seed']})


            def subset(X, y, k):
                """A seeded random k of the images, in file order (all of them if k ≥ n)."""
                if k >= len(y):
                    return X, y
                keep = np.sort(subset_rng.choice(len(y), size=k, replace=False))
                return X[keep], y[keep]


            X_pool, y_pool = subset(X_pool, y_pool, {d['limit']})   # limit {d['limit']}
            X_test, y_test = subset(X_test, y_test, {max(d['limit'] // 6, 100)})   # max(limit // 6, 100)
            '''))
    imports = ("import gzip", "import os", "import struct", "import sys", "import numpy as np")
    if d["val_fraction"]:
        n_val = f"max(1, round({d['val_fraction']} * len(y_pool)))"
        lines += ["", "", _SPLIT, "", "", _split_line("X_pool", "y_pool", "_", "_", n_val, d["seed"],
                                              True, _VAL_NOTE.format(d["val_fraction"]))]
        imports += ("from sklearn.model_selection import train_test_split",)
    else:
        lines.append("X_train, y_train = X_pool, y_pool")
    lines.append(code("""
        X_train, X_test = X_train.astype(np.float32) / np.float32(255), X_test.astype(np.float32) / np.float32(255)   # 0…255 → [0, 1]
        """))
    lines.append(_targets(n_outputs))
    words = (f"{title} from its IDX .gz files: the folder "
             + (f"{env} names." if notebook else f"on the command line, else {env}."))
    return Section("The data", words, "\n".join(lines), imports)


__all__ = ["data_settings", "data_section"]
