"""The pages, one module each (a package for the larger ones, its entry file ``page.py``).

Every page file defines ``render()`` and ends with ``lab.page.run_page(render)``. A page
imports only the app's shared modules (``lab.state``, ``lab.runs``, ``lab.figures`` …) and
its own package, never another page. The paths below are where the frame (``app.py``)
registers each page, and what ``st.page_link`` points at.
"""

HOME = "lab/pages/home.py"
DATASET = "lab/pages/dataset/page.py"
ARCHITECTURE = "lab/pages/architecture/page.py"
TRAINING = "lab/pages/training/page.py"
INFERENCE = "lab/pages/inference/page.py"
