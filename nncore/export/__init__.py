"""Export a run as one self-contained NumPy script, or as a Jupyter notebook with the same cells.

    from nncore.export import export_spec
    exported = export_spec(get_preset("seed003-moons").run_spec(), title="Seed 003: two moons")
    exported.script        # the .py text:  python seed003-moons.py
    exported.notebook()    # the .ipynb text (nbformat)

The script holds the whole run with no import of nncore: the data (made, or read from
MNIST's IDX files in a folder it names), the initial weights, forward, backward, the loss,
the optimizer, the training loop and the test, each equation in a comment where it is
computed. It repeats the lab's run — the same split, initial weights, batch order, loss and
optimizer — so its epoch losses are the lab's to float32 rounding; it prints them, the
test accuracy, and a last line of JSON as ``python -m nncore train --json`` does.

``export_model(network, path)`` writes the script of a saved model (``nncore.save``)
trained further, as the lab's "Continue training the current model" does: it starts from
the model's own weights, which it reads from the model's .npz with ``np.load`` (plain
arrays, no pickle), first printing the test accuracy the model has.

What the script cannot express (an uploaded data set, a layer it does not write) is an
``ExportError`` with a sentence, raised before any text is made.

    plan.py        a network and its run → the stages the script computes, or ExportError
    data_code.py   the data: made or read, split the lab's way
    model_code.py  the weights, helpers for images, forward, backward
    train_code.py  settings, loss, optimizer, training loop, test
    document.py    the sections as a .py file or as an nbformat notebook
"""

from __future__ import annotations

from dataclasses import dataclass

from .data_code import data_section
from .document import notebook, script_text
from .model_code import helpers_section, network_section, weights_section
from .plan import ExportError, Plan, plan_model, plan_spec
from .train_code import (loss_section, optimizer_section, settings_section, test_section,
                         training_section)


@dataclass(frozen=True)
class Export:
    """One run, written out: ``script`` (the .py text) and ``notebook()`` (the .ipynb text)."""

    plan: Plan
    script: str

    def notebook(self) -> str:
        import nbformat
        return nbformat.writes(notebook(self.plan.title, _intro(self.plan, "", notebook=True),
                                        _sections(self.plan, notebook=True)))


def export_spec(spec, title: str | None = None, filename: str = "run.py") -> Export:
    """The script of ``spec`` run from scratch. ``title`` is its docstring's first line,
    ``filename`` the name the docstring's command runs it by."""
    return _export(plan_spec(spec, title), filename)


def export_model(network, model_file: str, title: str | None = None,
                 filename: str = "run.py") -> Export:
    """The script of the saved ``network`` (read from ``model_file``) trained further."""
    return _export(plan_model(network, model_file, title), filename)


def _export(plan: Plan, filename: str) -> Export:
    return Export(plan, script_text(plan.title, _intro(plan, filename), _sections(plan)))


def _sections(plan: Plan, notebook: bool = False) -> list:
    sections = [settings_section(plan), data_section(plan.data, plan.n_outputs, notebook),
                weights_section(plan), helpers_section(plan), network_section(plan),
                loss_section(plan), optimizer_section(plan), training_section(plan),
                test_section(plan)]
    return [s for s in sections if s is not None]


def _intro(plan: Plan, filename: str, notebook: bool = False) -> str:
    mnist = plan.data["name"] in ("mnist", "fashion-mnist")
    needs = ("It needs NumPy for the math and scikit-learn for " + ("the split" if mnist else
             "the data") if "sklearn" in _uses(plan) else "It needs NumPy only")
    start = (f"the same initial weights (seed {plan.seed})" if plan.model_file is None
             else "the model's own weights to start from")
    run = "" if notebook else f"\n\n    python {filename}" + (" MNIST_FOLDER" if mnist else "")
    return (f"Exported from Neural Network Lab (python -m nncore export): the whole run in "
            f"NumPy, top to bottom. {needs}. It repeats the lab's run — the same data split, "
            f"{start}, the same batches, loss and optimizer — so each epoch's loss equals the "
            f"lab's to float32 rounding.{run}")


def _uses(plan: Plan) -> str:
    return "\n".join(data_section(plan.data, plan.n_outputs).imports)


__all__ = ["Export", "ExportError", "export_spec", "export_model"]
