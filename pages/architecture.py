import streamlit as st

st.title("Architecture")
st.info("This page is being built.")
