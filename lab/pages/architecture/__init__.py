"""The Architecture page: ``page.py`` lays it out, ``editing.py`` turns its widgets' changes
into new run specs."""
