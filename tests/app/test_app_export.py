"""The Training page's "Export as Python" in Streamlit's AppTest: the files the two buttons
hand to the browser are taken as they are served, and the script — and the notebook's cells —
run without nncore to the losses the lab trains the same setup to. A setup the exporter
cannot write (an uploaded data set) gets a sentence instead of the buttons."""

from pathlib import Path

import nbformat
import numpy as np
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from lab.uploads import parse_upload
from nncore.runs.run import train_spec
from nncore.runs.spec import LayerSpec, RunSpec
from support.apptest import training_page
from support.exported import finished, started

SPEC = RunSpec(data={"name": "moons", "n_samples": 200, "noise": 0.2, "seed": 0},
               hidden=[LayerSpec(8, "relu", dropout=0.2)], optimizer={"name": "sgd", "lr": 0.5},
               l2=0.001, batch_size=32, epochs=3, seed=0)


@pytest.fixture
def served(monkeypatch):
    """file name → the bytes Streamlit serves for it (what a click downloads)."""
    files = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def _losses(path: Path) -> list[float]:
    return finished(started(path))[0]


def test_export_buttons_serve_a_script_and_a_notebook_that_repeat_the_run(served, tmp_path):
    at = training_page(SPEC)
    buttons = {b.proto.id.rsplit("-", 1)[-1]: b.proto.label for b in at.get("download_button")}
    assert buttons["training_export_script"] == "Export as Python (nncore-moons.py)"
    assert buttons["training_export_notebook"] == "Export as a notebook (nncore-moons.ipynb)"
    assert any("python nncore-moons.py" in c.value for c in at.caption)

    script = tmp_path / "nncore-moons.py"
    script.write_bytes(_as_bytes(served["nncore-moons.py"]))
    notebook = nbformat.reads(_as_bytes(served["nncore-moons.ipynb"]).decode(), as_version=4)
    nbformat.validate(notebook)
    cells = tmp_path / "cells.py"
    cells.write_text("\n\n".join(c.source for c in notebook.cells if c.cell_type == "code"))

    lab = train_spec(SPEC).history.train_loss
    np.testing.assert_allclose(_losses(script), lab, rtol=1e-5)
    np.testing.assert_allclose(_losses(cells), lab, rtol=1e-5)


def test_a_preset_is_exported_under_its_name(served):
    at = training_page(SPEC, preset="seed003-moons")
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Export as Python (seed003-moons.py)" in labels


def test_an_uploaded_data_set_gets_a_sentence_instead_of_the_buttons(served):
    csv = b"x1,x2,label\n" + b"".join(f"{np.cos(i):.3f},{np.sin(i):.3f},{'ab'[i % 2]}\n".encode()
                                     for i in range(60))
    at = training_page(SPEC.replace(data={"name": "upload"}),
              uploaded_data=parse_upload("points.csv", csv))
    keys = [b.proto.id for b in at.get("download_button")]
    assert not any("training_export" in k for k in keys)
    assert any("uploaded data set lives in the app's session only" in c.value for c in at.caption)
    assert not [name for name in served if name and name.endswith((".py", ".ipynb"))]


def _as_bytes(data) -> bytes:
    return data.encode() if isinstance(data, str) else data
