"""Neural Network Lab — the frame around every page.

``streamlit run app.py``. This file sets the page up, gives a new session its defaults,
shows the current data set and network in the sidebar, and routes to one file per page
in ``pages/`` with ``st.navigation``.
"""

import streamlit as st

import shared

st.set_page_config(page_title="Neural Network Lab", page_icon="🧠", layout="wide")
shared.init_state()

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/dataset.py", title="Dataset", icon="📊", url_path="dataset"),
    st.Page("pages/architecture.py", title="Architecture", icon="🧱", url_path="architecture"),
    st.Page("pages/training.py", title="Training", icon="📈", url_path="training"),
    st.Page("pages/inference.py", title="Inference", icon="✏️", url_path="inference"),
]
page = st.navigation(PAGES)

with st.sidebar:
    spec = shared.get_spec()
    st.caption("Current setup")
    st.markdown(f"**Data:** {shared.data_line(spec)}")
    st.markdown(f"**Network:** {shared.network_line(spec)}")

page.run()
