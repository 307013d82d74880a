"""The Dataset page: ``page.py`` lays it out (choose the data, its parameters and splits,
look at it, upload your own), ``points.py`` is the plane where you place your own points."""
