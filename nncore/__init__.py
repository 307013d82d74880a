"""nncore — a neural-network engine written in plain NumPy, for learning from.

Every equation of the seed tutorials is in the code under the same names:
``z = a·W + b`` and ``δ = dA ∘ σ'(z)`` in ``layers/dense.py``, the losses in ``losses.py``,
the update rules in ``optimizers.py``, the training loop in ``network.py``.
"""

from .activations import get_activation
from .layers import ActivationLayer, Conv2D, Dense, Dropout, Flatten, Layer, MaxPool2D, Reshape
from .losses import get_loss
from .network import Network
from .optimizers import SGD, Adam, get_optimizer
from .schedules import get_schedule
from .serialization import ModelFileError, load
from .training import History, TrainingControl, TrainingDiverged, TrainingError, TrainingEvent

__all__ = [
    "Network", "Layer", "Dense", "ActivationLayer", "Dropout", "Conv2D", "MaxPool2D",
    "Flatten", "Reshape", "SGD", "Adam", "load",
    "ModelFileError", "History", "TrainingControl", "TrainingDiverged", "TrainingError",
    "TrainingEvent", "get_activation", "get_loss", "get_optimizer", "get_schedule",
]
__version__ = "0.1.0"
