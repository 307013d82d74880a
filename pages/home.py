import streamlit as st

st.title("Neural Network Lab")
st.write("Build a neural network whose every line of math is NumPy you can read, train it, "
         "and draw a digit for it to read.")
