"""Step through training one batch at a time and see every number it computes.

The lab's step mode reads everything it shows from here; nothing here draws.

    record.py          record_step: one training step (fit's own) that keeps every layer's
                       a, z, output, δ, dW, db, dA_prev, the optimizer's terms (Adam's m, v,
                       bias corrections and step), pooling's winners, the dropout masks
    stepper.py         Stepper: fit's batches in fit's order, one press at a time, within
                       declared bounds; stepped to the end, the weights equal fit's
    neuron.py          one unit's sums written out: z = Σ a·W + b, dA, δ, dW, db
    sources.py         the lines of nncore that computed each equation, read at run time
    gradcheck.py       backprop against central differences (the engine's tests use it too)
    divergence.py      the first step and the first number that overflowed, in a sentence
    initialisation.py  the spread of every layer's numbers at step 0, per initialisation
    maps.py            every unit of a 2-D network as a map over the input plane

Built on ``nncore.trace``'s one forward and backward pass.
"""

from .divergence import Divergence, diagnose, diagnose_run
from .gradcheck import Check, check_gradients, numeric_gradient
from .initialisation import InitSpread, initial_spreads
from .maps import UnitMaps, unit_maps
from .neuron import NeuronView, WrittenSum, neuron_view
from .record import ParameterUpdate, StageStep, StepRecord, record_step
from .sources import Source, sources
from .stepper import STEP_BOUNDS, Stepper, StepTooLarge, check_bounds, work_per_sample

__all__ = ["Check", "Divergence", "InitSpread", "NeuronView", "ParameterUpdate", "STEP_BOUNDS",
           "Source", "StageStep", "StepRecord", "StepTooLarge", "Stepper", "UnitMaps",
           "WrittenSum", "check_bounds", "check_gradients", "diagnose", "diagnose_run",
           "initial_spreads", "neuron_view", "numeric_gradient", "record_step", "sources",
           "unit_maps", "work_per_sample"]
