"""Plotly figures for the pages, as pure functions of plain data: no session state, no
Streamlit, so pages can cache them and tests can build them directly. ``common`` holds what
several pages draw alike; the other modules are one per page, and ``replay`` is a run
replayed epoch by epoch (the Training page's live charts)."""
