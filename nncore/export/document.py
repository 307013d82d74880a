"""One exported run, as a Python script or as a Jupyter notebook with the same cells.

Both are made from the same ``Section``s — a title, a sentence or two, the code, and the
imports that code needs — so they cannot drift apart: the script writes each section's
words as comments above its code, the notebook as a markdown cell above a code cell.
The notebook is built with ``nbformat`` (and checked by it), never written as JSON by hand.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

WIDTH = 88


@dataclass(frozen=True)
class Section:
    title: str                      # "" for the settings, which follow the imports directly
    words: str                      # markdown in the notebook, comments in the script
    code: str
    imports: tuple = ()


def code(text: str) -> str:
    """A code template written indented in the exporter, as it is meant to read."""
    return textwrap.dedent(text).strip("\n")


def _imports(sections) -> str:
    """Every section's imports once, as PEP 8 groups them: the standard library, then
    NumPy and scikit-learn."""
    lines = {line for s in sections for line in s.imports}
    third = sorted((line for line in lines if "numpy" in line or "sklearn" in line),
                   key=lambda line: ("sklearn" in line, line))
    standard = sorted(lines - set(third))
    return "\n\n".join("\n".join(group) for group in (standard, third) if group)


def _rule(title: str) -> str:
    """A section's first line: "# The data ---------…", as wide as the text."""
    return f"# {title} ".ljust(WIDTH, "-")


def _comment(words: str) -> str:
    return "\n".join("# " + line if line else "#" for line in
                     textwrap.fill(words, WIDTH - 2, break_on_hyphens=False).splitlines())


def script_text(title: str, intro: str, sections) -> str:
    """The .py file: a docstring, the imports, the settings, then each section in turn."""
    intro = "\n\n".join(p if p.startswith("    ") else textwrap.fill(p, WIDTH)
                          for p in intro.split("\n\n"))
    text = f'"""{title}\n\n{intro}\n"""\n\n{_imports(sections)}\n'
    for s in sections:
        text += (f"\n{s.code}\n" if not s.title else
                 f"\n\n{_rule(s.title)}\n{_comment(s.words)}\n{s.code}\n")
    return text


def notebook(title: str, intro: str, sections):
    """The same run as an nbformat notebook (version 4), validated: after the title, the
    imports and the settings, a markdown cell and a code cell per section."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    first = "\n\n".join([_imports(sections)] + [s.code for s in sections if not s.title])
    cells = [new_markdown_cell(f"# {title}\n\n{intro}"), new_code_cell(first)]
    for s in sections:
        if s.title:
            cells.append(new_markdown_cell(f"## {s.title}\n\n{s.words}"))
            cells.append(new_code_cell(s.code))
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


__all__ = ["Section", "code", "script_text", "notebook"]
