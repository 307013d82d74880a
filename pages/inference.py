import streamlit as st

st.title("Inference")
st.info("This page is being built.")
