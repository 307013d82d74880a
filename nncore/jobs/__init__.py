"""Training off the caller's thread, for a user interface that must stay responsive.

- ``threads``: ``BackgroundTrainer`` (``Network.fit`` on a worker thread) and
  ``BackgroundTask`` (any long job), with the ``Progress`` record a page polls;
- ``processes``: ``ProcessTrainer``, the same interface with the training in a child
  process that imports only NumPy and nncore (what the app uses).
"""
