"""The app's links: a setup's link (``nncore.runs.links``: a ``RunSpec`` ⇄ query
parameters, read without ever failing) and what an assignment link adds (``assignment.py``:
``lock``, ``hide`` and ``ask`` — settings a learner sees but cannot change, settings left off
the pages, and a teacher's question).

No Streamlit here: the app applies these functions to ``st.query_params``.
"""

from lab.links.assignment import Assignment, Locked, assignment_from_params
from nncore.runs.links import (ALL_KEYS, DATA_KEYS, FORMAT, LOSS_CODES, MAX_LINK_POINTS,
                               OPTIMIZER_KEYS, SCHEDULE_KEYS, UPLOAD, is_link, layer_token,
                               points_travel, query_string, share_url, spec_from_params,
                               spec_to_params, with_base)

__all__ = ["spec_to_params", "spec_from_params", "query_string", "share_url", "with_base",
           "Assignment", "Locked", "assignment_from_params",
           "is_link", "layer_token", "points_travel", "UPLOAD", "ALL_KEYS", "DATA_KEYS",
           "FORMAT", "LOSS_CODES", "MAX_LINK_POINTS",
           "OPTIMIZER_KEYS", "SCHEDULE_KEYS"]
