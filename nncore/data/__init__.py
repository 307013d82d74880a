"""Data sets for the lab: MNIST and friends, loaded, checked and split.

Start with ``load_dataset(name)``; ``DATASETS`` lists the names and their parameters.

    from nncore.data import load_dataset
    data = load_dataset("moons", n_samples=500, seed=1)
    data.X_train.shape   # (350, 2), float32
"""

from .dataset import DataUnavailable, Dataset
from .idx import read_idx, write_idx
from .mnist import load_mnist, mnist_dataset
from .registry import DATASETS, DatasetInfo, ParamSpec, dataset_info, load_dataset
from .splits import one_hot, scale_images, train_val_test_split
from .toy2d import make_circles, make_moons, make_seed002_clusters, make_spiral, make_xor

__all__ = [
    "DATASETS",
    "DataUnavailable",
    "Dataset",
    "DatasetInfo",
    "ParamSpec",
    "dataset_info",
    "load_dataset",
    "load_mnist",
    "make_circles",
    "make_moons",
    "make_seed002_clusters",
    "make_spiral",
    "make_xor",
    "mnist_dataset",
    "one_hot",
    "read_idx",
    "scale_images",
    "train_val_test_split",
    "write_idx",
]
