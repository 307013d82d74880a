"""Neural Network Lab — the frame around every page.

``streamlit run app.py``. This file sets the page up, gives a new session its defaults and
reads the link it was opened with, shows the current data set and network in the sidebar,
and routes to one page module in ``lab/pages/`` with ``st.navigation``. (Not a folder named
``pages/`` next to this file: Streamlit would serve it as an old-style multipage app on a
freshly started server.) Everything else lives in the ``lab`` package.
"""

import streamlit as st

from lab import datasets, pages, run_views, runs, sharing, state
from lab.page import guarded
from lab.summaries import data_line, network_line

# Material icons, not emoji: the first emoji icon of a server costs it 0.1 s (Streamlit
# loads its catalogue of emoji and compiles one regular expression of them all), on the
# first page a visitor waits for.
st.set_page_config(page_title="Neural Network Lab", page_icon=":material/neurology:", layout="wide")
state.init()
runs.init()
state.apply_link_once()    # a shared link sets up the session before anything else

page = st.navigation([
    st.Page(pages.HOME, title="Home", icon=":material/home:", default=True),
    st.Page(pages.DATASET, title="Dataset", icon=":material/bar_chart:", url_path="dataset"),
    st.Page(pages.ARCHITECTURE, title="Architecture", icon=":material/stacks:",
            url_path="architecture"),
    st.Page(pages.TRAINING, title="Training", icon=":material/show_chart:", url_path="training"),
    st.Page(pages.INFERENCE, title="Inference", icon=":material/draw:", url_path="inference"),
])

@guarded
def sidebar() -> None:
    """The setup, the session's run, an assignment's lock and the share link."""
    spec = state.get_spec()
    st.caption("Current setup")
    st.markdown(f"**Data:** {data_line(spec)}")
    st.markdown(f"**Network:** {network_line(spec, *datasets.known_shape(spec.data))}")
    # "Training: epoch 3/10", refreshed while a run goes on (the Training page shows its own)
    run_views.sidebar(poll=page.url_path != "training")
    sharing.lock_status()       # an assignment link's lock (and Unlock)
    with st.expander("🔗 Share this setup"):
        st.code(state.share_url(), language=None, wrap_lines=False)   # one line, never split
        st.caption("Copy this link (the icon at the top right of the box): it opens the same "
                   "data, network, hyper-parameters and seed.")
        sharing.link_limits()   # what a link cannot carry


with st.sidebar:
    sidebar()

if state.link_notes():
    with st.container(border=True):
        st.warning("The link this session opened with had problems; these settings fell back "
                   "to defaults:\n\n" + "\n".join(f"- {n}" for n in state.link_notes()),
                   icon=":material/link:")
        st.button("Dismiss", key="link_notes_dismiss", on_click=state.dismiss_link_notes)

try:
    page.run()
finally:
    state.sync_link()      # the address bar mirrors the setup, once per run of the frame
