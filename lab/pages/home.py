"""Home: what the lab is, the four steps, and the seed presets one click away."""

import streamlit as st

from lab import pages, state
from lab.page import callback, run_page
from nncore.runs.presets import PRESETS

LOADED = "home_loaded"          # the preset a Load button just loaded, shown once


@callback
def _load(name: str) -> None:
    state.load_preset(name)
    st.session_state[LOADED] = name


def render() -> None:
    st.title("🧠 Neural Network Lab")
    st.write("Build a neural network whose every line of math is NumPy you can read, train it "
             "while you watch it learn, then draw a digit and see what it answers. Four steps, "
             "one page each — the sidebar always shows where you are:")

    steps = [
        (pages.DATASET, "1 · Dataset", ":material/bar_chart:",
         "Pick MNIST, Fashion-MNIST, the small 8×8 digits or a 2-D toy set (moons, circles, XOR, "
         "spiral, clusters), set its size, noise and splits, and look at it."),
        (pages.ARCHITECTURE, "2 · Architecture", ":material/stacks:",
         "Stack hidden layers, choose activations, loss and optimizer, and read the forward and "
         "backward equations of exactly that network."),
        (pages.TRAINING, "3 · Training", ":material/show_chart:",
         "Train it and watch loss and accuracy, curve by curve."),
        (pages.INFERENCE, "4 · Inference", ":material/draw:",
         "Draw a digit or pick a test image and see what the network answers, and why."),
    ]
    cols = st.columns(4)
    for col, (page, label, icon, text) in zip(cols, steps):
        with col.container(border=True):
            st.page_link(page, label=label, icon=icon)
            st.caption(text)

    st.info("Every setting travels with the page's address: copy the link under **🔗 Share this "
            "setup** in the sidebar and whoever opens it gets the same data, network and seed — "
            "and, training with that seed, the same weights.", icon=":material/link:")

    st.subheader("🌱 Start from a seed tutorial")
    st.write("Each preset reproduces one of the seed tutorials the lab is built on. One click loads "
             "its whole setup (data, network, optimizer, seed); then train it and compare with "
             "what the tutorial reports. You can also load them on the "
             "Architecture page.")
    if LOADED in st.session_state:
        title = PRESETS[st.session_state.pop(LOADED)].title
        st.success(f"Loaded **{title}**. Next: look at it on the Architecture page, or train it.",
                   icon=":material/check_circle:")
        c1, c2, _ = st.columns([1, 1, 3])
        c1.page_link(pages.ARCHITECTURE, label="Architecture", icon=":material/stacks:")
        c2.page_link(pages.TRAINING, label="Training", icon=":material/show_chart:")
    for name, preset in PRESETS.items():
        with st.container(border=True):
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            with c1:
                st.markdown(f"**{preset.title}**  \nExpect {preset.expectation}.")
                st.caption(preset.description)
            with c2:
                st.button("Load", key=f"home_preset_{name}", on_click=_load, args=(name,),
                          type="primary" if state.preset_name() == name else "secondary",
                          width="stretch")


run_page(render)
