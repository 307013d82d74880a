"""Home: what the lab is, the four steps, and the seed presets one click away."""

import streamlit as st

import shared
from nncore.runs.presets import PRESETS


def _load(name: str) -> None:
    shared.load_preset(name)
    st.session_state["home_loaded"] = name


# The frame (app.py) normally does this; AppTest's switch_page runs a page without app.py,
# so the page makes sure of it too (both calls do nothing the second time).
shared.init_state()
shared.apply_link_once()
shared.sync_link()

st.title("🧠 Neural Network Lab")
st.write("Build a neural network whose every line of math is NumPy you can read, train it "
         "while you watch it learn, then draw a digit and see what it answers. Four steps, "
         "one page each — the sidebar always shows where you are:")

steps = [
    ("app_pages/dataset.py", "1 · Dataset", "📊",
     "Pick MNIST, Fashion-MNIST, the small 8×8 digits or a 2-D toy set (moons, circles, XOR, "
     "spiral, clusters), set its size, noise and splits, and look at it."),
    ("app_pages/architecture.py", "2 · Architecture", "🧱",
     "Stack hidden layers, choose activations, loss and optimizer, and read the forward and "
     "backward equations of exactly that network."),
    ("app_pages/training.py", "3 · Training", "📈",
     "Train it and watch loss and accuracy, curve by curve."),
    ("app_pages/inference.py", "4 · Inference", "✏️",
     "Draw a digit or pick a test image and see what the network answers, and why."),
]
cols = st.columns(4)
for col, (page, label, icon, text) in zip(cols, steps):
    with col.container(border=True):
        st.page_link(page, label=label, icon=icon)
        st.caption(text)

st.info("Every setting travels with the page's address: copy the link under **🔗 Share this "
        "setup** in the sidebar and whoever opens it gets the same data, network and seed — "
        "and, training with that seed, the same weights.", icon="🔗")

st.subheader("🌱 Start from a seed tutorial")
st.write("Each preset reproduces one of the seed tutorials the lab is built on. One click loads "
         "its whole setup (data, network, optimizer, seed); then train it and compare with "
         "what the tutorial reports. You can also load them on the "
         "Architecture page.")
if "home_loaded" in st.session_state:
    title = PRESETS[st.session_state.pop("home_loaded")].title
    st.success(f"Loaded **{title}**. Next: look at it on the Architecture page, or train it.",
               icon="✅")
    c1, c2, _ = st.columns([1, 1, 3])
    c1.page_link("app_pages/architecture.py", label="Architecture", icon="🧱")
    c2.page_link("app_pages/training.py", label="Training", icon="📈")
for name, preset in PRESETS.items():
    with st.container(border=True):
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        with c1:
            st.markdown(f"**{preset.title}**  \nExpect {preset.expectation}.")
            st.caption(preset.description)
        with c2:
            st.button("Load", key=f"home_preset_{name}", on_click=_load, args=(name,),
                      type="primary" if st.session_state.get(shared.PRESET) == name else "secondary",
                      width="stretch")
