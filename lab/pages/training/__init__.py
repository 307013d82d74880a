"""The Training page, in parts:

    page.py         the layout, top to bottom
    controls.py     Start, Pause / Resume, Stop, "continue training" (through ``lab.runs``)
    live.py         the progress line and the live charts, refreshed while a run goes on
    analysis.py     what the trained network learned: results, inside the network
    experiments.py  seed 003's learning-rate study and the scikit-learn cross-check
    model_file.py   download the model, upload one
    memo.py         figures and analyses kept until the numbers behind them change
"""
