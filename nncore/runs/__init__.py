"""A training run as plain data, and what the lab does with one.

- ``spec``: ``RunSpec``, everything needed to rebuild a run (data, layers, loss, optimizer,
  schedule, batch size, epochs, seed), with every bound declared once in its schema;
- ``presets``: one RunSpec per seed experiment, with the number it should reach;
- ``run``: load a spec's data, build its network, train, evaluate;
- ``experiments``: seed 003's learning-rate study, the scikit-learn cross-check, and what
  the Training page computes about a trained network.
"""
