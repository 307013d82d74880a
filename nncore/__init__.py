"""nncore — a neural-network engine written in plain NumPy, for learning from.

Every equation of the seed tutorials is in the code under the same names. Read it in
this order, each file building on the ones before:

1. ``layers/`` — ``base.py`` (the forward / backward contract), ``dense.py``
   (z = a·W + b, δ = dA ∘ σ'(z), dW = aᵀ·δ / m), ``activation_layer.py``, ``dropout.py``,
   then ``im2col.py``, ``conv.py``, ``pool.py`` and ``reshape.py`` for images;
2. ``activations.py`` — σ and σ'; ``initializers.py`` — how W and b start;
3. ``losses.py`` — ℓ(a, y) and ∂ℓ/∂a;
4. ``optimizers.py`` — SGD, momentum, Adam (as the paper writes it, and fused);
5. ``network.py`` — the stack of layers, ``fit`` (the training loop), predict and score;
6. ``training.py`` — what ``fit`` reports (events, History) and how it is stopped or paused;
7. ``trace.py`` — one pass kept layer by layer: activations, gradients, saliency;
8. ``schedules.py``, ``serialization.py`` (``save`` / ``load``, ``.npz`` without pickle;
   ``archive.py`` and ``model_files/`` check a file before it is trusted), ``metrics.py``,
   ``vision.py`` (a drawing → an MNIST-style digit);
9. ``data/`` (the data sets), ``runs/`` (a run as plain data, presets, experiments),
   ``jobs/`` (training off the caller's thread), ``cli.py`` (``python -m nncore``).

    from nncore import Network, Dense, save, load
    net = Network([Dense(784, 128, "relu"), Dense(128, 10, "softmax")], optimizer="adam", seed=0)
    net.fit(X, y, epochs=5)
    save(net, "model.npz")

``from nncore.trace import trace`` looks inside a network (see ``trace.py``).
"""

from .activations import get_activation
from .layers import ActivationLayer, Conv2D, Dense, Dropout, Flatten, Layer, MaxPool2D, Reshape
from .losses import get_loss
from .network import Network
from .optimizers import SGD, Adam, get_optimizer
from .schedules import get_schedule
from .training import History, TrainingControl, TrainingDiverged, TrainingError, TrainingEvent

__all__ = [
    "Network", "Layer", "Dense", "ActivationLayer", "Dropout", "Conv2D", "MaxPool2D",
    "Flatten", "Reshape", "SGD", "Adam", "save", "load",
    "ModelFileError", "History", "TrainingControl", "TrainingDiverged", "TrainingError",
    "TrainingEvent", "get_activation", "get_loss", "get_optimizer", "get_schedule",
]
__version__ = "0.1.0"


def __getattr__(name):
    # save, load and ModelFileError come from serialization.py, read when first asked for:
    # the command line's presets and --help start without it.
    if name in ("save", "load", "ModelFileError"):
        from . import serialization
        return getattr(serialization, name)
    raise AttributeError(f"module 'nncore' has no attribute {name!r}")
