"""Neural Network Lab — the frame around every page.

``streamlit run app.py``. This file sets the page up, gives a new session its defaults,
shows the current data set and network in the sidebar, and routes to one file per page
in ``app_pages/`` with ``st.navigation`` (not ``pages/``: Streamlit would serve a folder
of that name as an old-style multipage app on a freshly started server).
"""

import streamlit as st

import shared

st.set_page_config(page_title="Neural Network Lab", page_icon="🧠", layout="wide")
shared.init_state()
shared.apply_link_once()   # a shared link sets up the session before anything else
shared.sync_link()         # …and the address bar mirrors the setup from then on

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("app_pages/dataset.py", title="Dataset", icon="📊", url_path="dataset"),
    st.Page("app_pages/architecture.py", title="Architecture", icon="🧱", url_path="architecture"),
    st.Page("app_pages/training.py", title="Training", icon="📈", url_path="training"),
    st.Page("app_pages/inference.py", title="Inference", icon="✏️", url_path="inference"),
]
page = st.navigation(PAGES)

with st.sidebar:
    spec = shared.get_spec()
    st.caption("Current setup")
    st.markdown(f"**Data:** {shared.data_line(spec)}")
    st.markdown(f"**Network:** {shared.network_line(spec, *shared.known_shape(spec))}")
    # "Training: epoch 3/10", refreshed while a run goes on (the Training page shows its own)
    shared.training_sidebar(poll=page.url_path != "training")
    with st.expander("🔗 Share this setup"):
        st.code(shared.share_url(), language=None, wrap_lines=True)
        st.caption("Copy this link (the icon at the top right of the box): it opens the same "
                   "data, network, hyper-parameters and seed.")

if st.session_state.get(shared.NOTES):
    with st.container(border=True):
        st.warning("The link this session opened with had problems; these settings fell back "
                   "to defaults:\n\n" + "\n".join(f"- {n}" for n in st.session_state[shared.NOTES]),
                   icon="🔗")
        st.button("Dismiss", key="link_notes_dismiss",
                  on_click=lambda: st.session_state.update({shared.NOTES: []}))

try:
    page.run()
finally:
    shared.sync_link()     # a page may have changed the setup while it ran
