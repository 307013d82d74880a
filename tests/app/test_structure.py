"""The layout the code promises, checked: the app is one package beside the engine, the
engine never reaches into the app, pages never reach into each other, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400


def _python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module a file imports, by its absolute name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_only_the_frame_of_the_app_lives_at_the_root():
    assert sorted(p.name for p in ROOT.glob("*.py")) == ["app.py"]


def test_the_engine_never_imports_the_app_or_streamlit():
    for path in _python_files("nncore"):
        bad = {m for m in _imports(path) if m.split(".")[0] in ("lab", "streamlit", "plotly")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_no_page_imports_another_pages_modules():
    pages = ROOT / "lab" / "pages"
    for path in _python_files("lab/pages"):
        own = path.relative_to(pages).parts[0].removesuffix(".py")
        for module in _imports(path):
            parts = module.split(".")
            if parts[:2] == ["lab", "pages"] and len(parts) > 2:
                assert parts[2] == own, f"{path.relative_to(ROOT)} imports {module}"


def test_figures_and_uploads_need_no_streamlit():
    for path in _python_files("lab/figures") + [ROOT / "lab" / "uploads.py",
                                                 ROOT / "lab" / "links" / "assignment.py",
                                                 ROOT / "lab" / "models.py"]:
        assert not {m for m in _imports(path) if m.startswith("streamlit")}, path


@pytest.mark.parametrize("path", _python_files("lab") + [ROOT / "app.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_app_module_is_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_every_page_has_one_shape():
    """A page file defines render() and ends by running it through the one error guard."""
    from lab import pages
    for name in ("HOME", "DATASET", "ARCHITECTURE", "TRAINING", "INFERENCE"):
        tree = ast.parse((ROOT / getattr(pages, name)).read_text())
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "render" in functions, name
        last = tree.body[-1]
        assert ast.unparse(last) == "run_page(render)", name
