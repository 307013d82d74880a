"""Shareable links: a ``RunSpec`` ⇄ the page's query parameters.

A link carries the whole setup — data set, hidden layers, loss, optimizer, schedule and
seeds — so opening it rebuilds the same run, and with the same seed training reaches the
same weights. The encoding is short and readable::

    ?v=2&data=moons&n=1000&noise=0.2&dseed=0&val=0&layers=16relu:normal-0.1&loss=bce
     &oinit=normal-0.1&opt=sgd&lr=1.0&sched=constant&bs=full&ep=1000&seed=99

``v`` is the link's format: a setting left out means its default, and the format says
whose (``grammar.LEFT_OUT``), so a link keeps its meaning when a default changes.

A link is untrusted text, so reading one (``spec_from_params``) never fails and never
does anything but parse: names are looked up in fixed tables, numbers are parsed with
``float``/``int`` and pulled into the same ranges the spec and the data sets allow
(``nncore.runs.schema`` for the run, ``ParamSpec`` for the data sets — the tables the spec
itself is checked against), nothing is evaluated, and nothing names a file. Whatever is
wrong falls back to the default and is described in a note for the page to show. Numbers
are ASCII digits only: "²" is a digit to ``str.isdigit`` but not to ``int``.

No Streamlit, and nothing of the app, here: the app applies these functions to
``st.query_params`` (``lab.links``, which adds the assignment links a teacher makes), and
``python -m nncore export --link URL`` reads a link the app made.
"""

from .grammar import (ALL_KEYS, DATA_KEYS, FORMAT, LOSS_CODES, MAX_LINK_POINTS,
                      OPTIMIZER_KEYS, SCHEDULE_KEYS, UPLOAD, layer_token, points_travel,
                      query_string, share_url, spec_to_params, with_base)
from .reader import is_link, spec_from_params

__all__ = ["spec_to_params", "spec_from_params", "query_string", "share_url", "with_base",
           "is_link", "layer_token", "points_travel", "UPLOAD", "ALL_KEYS", "DATA_KEYS",
           "FORMAT", "LOSS_CODES", "MAX_LINK_POINTS", "OPTIMIZER_KEYS", "SCHEDULE_KEYS"]
