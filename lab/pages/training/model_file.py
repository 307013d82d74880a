"""Save or load the model: download the current model as one ``.npz``, or upload one.

An uploaded file is read by ``lab.models.read_model_file`` (``nncore.load`` underneath,
which never unpickles) and refused with a sentence when it is not a model that fits the
current data; the current model is then left as it was.
"""

from __future__ import annotations

import io

import streamlit as st

from lab import runs, state
from lab.models import read_model_file
from lab.page import show, show_error
from lab.pages.training.memo import cached
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
