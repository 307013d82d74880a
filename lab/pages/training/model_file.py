"""Save or load the model: download the current model as one ``.npz``, or upload one; and
export the setup as a NumPy script or a notebook.

An uploaded file is read by ``lab.models.read_model_file`` (``nncore.load`` underneath,
which never unpickles) and refused with a sentence when it is not a model that fits the
current data; the current model is then left as it was.

"Export as Python" writes the current setup with ``nncore.export``: one file that repeats
this setup's run in plain NumPy (the same split, initial weights and batches), and the same
cells as a Jupyter notebook. Both are made once per setup; a setup the exporter cannot
write (an uploaded data set) gets its sentence instead of the buttons.
"""

from __future__ import annotations

import io

import streamlit as st

from lab import runs, state
from lab.models import read_model_file
from lab.page import show, show_error
from lab.pages.training.controls import BLOCKED, blocked
from lab.pages.training.memo import cached
from nncore.export import ExportError, export_spec
from nncore.runs.presets import get_preset
from nncore.serialization import save

UPLOAD_SEEN = "training_upload_seen"  # file_id of the last upload handled
UPLOAD_NOTE = "training_upload_note"  # (kind, sentence) about that upload


def model_file_section(dataset) -> None:
    model = state.get_model()
    active = runs.active()
    left, right = st.columns(2)
    with left:
        st.markdown("**Download the current model**")
        if model is None:
            st.caption("No model yet: train one or upload one.")
        else:
            def to_bytes():
                buffer = io.BytesIO()
                save(model, buffer)
                return buffer.getvalue()
            try:
                data = cached("model_bytes", (model,), to_bytes)
                name = f"nncore-{model.metadata.get('dataset', {}).get('name', 'model')}.npz"
                st.download_button(f"Download {name} ({len(data) / 1024:,.0f} KiB)", data,
                                   file_name=name, mime="application/octet-stream",
                                   key="training_download", icon=":material/download:", on_click="ignore")
                st.caption(f"{model!r}. Load it later here to continue training, or on "
                           "another machine with `nncore.load(path)`.")
            except (TypeError, ValueError, OSError) as exc:
                show_error(f"The model could not be saved: {exc}")
    with right:
        upload = st.file_uploader("Upload a model (.npz saved by this app or by nncore)",
                                  key="training_upload", disabled=active,
                                  help="Only plain arrays are read: files holding pickled "
                                       "Python objects are refused.")
        if active:
            st.caption("Stop the run in progress to load a model.")
        if upload is not None and st.session_state.get(UPLOAD_SEEN) != upload.file_id:
            st.session_state[UPLOAD_SEEN] = upload.file_id
            network, problem = read_model_file(upload.getvalue(), upload.name, dataset)
            if network is not None:
                state.set_model(network)
                st.session_state[UPLOAD_NOTE] = (
                    "success", f"Loaded {upload.name}: {network!r}. It is now the current "
                    "model — tick “Continue training the current model” to train it further, "
                    "or draw a digit for it on the Inference page.")
            else:
                st.session_state[UPLOAD_NOTE] = ("error", problem + " The current model is "
                                                 "unchanged.")
        if upload is None:
            st.session_state.pop(UPLOAD_NOTE, None)
            st.session_state.pop(UPLOAD_SEEN, None)
        note = st.session_state.get(UPLOAD_NOTE)
        if note:
            show(*note)
    export_section(dataset)


def export_section(dataset) -> None:
    """Download the current setup as one NumPy script, or as a notebook with its cells."""
    spec, preset = state.get_spec(), state.preset_name()
    st.markdown("**Export as Python**")
    if blocked(dataset):
        st.caption(f"Nothing to export yet. {BLOCKED}")
        return
    try:
        stem, exported, notebook = cached("export", (spec, preset), lambda: _exported(spec, preset))
    except ExportError as exc:
        st.caption(f"{exc}")
        return
    left, right = st.columns(2)
    left.download_button(f"Export as Python ({stem}.py)", exported.script, file_name=f"{stem}.py",
                         mime="text/x-python", key="training_export_script",
                         icon=":material/code:", on_click="ignore")
    right.download_button(f"Export as a notebook ({stem}.ipynb)", notebook,
                          file_name=f"{stem}.ipynb", mime="application/x-ipynb+json",
                          key="training_export_notebook", icon=":material/description:",
                          on_click="ignore")
    mnist = spec.data["name"] in ("mnist", "fashion-mnist")
    caption = (f"{len(exported.script.splitlines())} lines of NumPy, readable top to bottom, "
               "each equation beside its line. Run it with "
               f"`python {stem}.py{' MNIST_FOLDER' if mnist else ''}`: it repeats this "
               "setup's run — the same split, initial weights and batches — so its losses "
               "are the ones this page shows.")
    if mnist:
        caption += " It reads the four MNIST IDX .gz files from the folder you name."
    if dataset.fallback_reason:
        caption += (" (This page trains on the 8×8 digits because MNIST could not be "
                    "loaded here; the script trains on MNIST.)")
    st.caption(caption)


def _exported(spec, preset):
    """(file name stem, the Export, the notebook's text) of a setup."""
    stem = preset or f"nncore-{spec.data['name']}"
    exported = export_spec(spec, get_preset(preset).title if preset else None,
                           filename=f"{stem}.py")
    return stem, exported, exported.notebook()
