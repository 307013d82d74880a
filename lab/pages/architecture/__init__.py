"""The Architecture page: ``page.py`` lays it out, ``editing.py`` turns its widgets' changes
into new run specs, ``assignment.py`` makes a teacher's assignment link of the setup."""
