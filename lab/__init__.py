"""The Streamlit app around nncore: Neural Network Lab.

``streamlit run app.py`` starts it; ``app.py`` is only the frame (the page list, the
sidebar). The parts, each in its own module:

    state.py        what a session holds: the current run spec (a checked RunSpec), the
                    current model, the notes about the link it was opened with
    links.py        the share-link grammar: RunSpec ⇄ query parameters (no Streamlit)
    datasets.py     data sets, loaded once per server and shared read-only
    uploads.py      reading an uploaded CSV / NPZ data set (no Streamlit)
    runs.py         the one training-run lifecycle of a session: start, watch, stop, collect
    models.py       what the app reads off a network: its inputs, one input explained
    summaries.py    the one-line descriptions of a setup the sidebar and pages show
    page.py         the shape of every page: one entry function, one error guard
    figures/        Plotly figures, no Streamlit: common.py (palette, tiling) and one module
                    per page
    pages/          one module per page (a package for the larger ones)

Per-user state lives in ``st.session_state``; what users share (the data sets) is held
once per server process, read-only.
"""
