"""Every third-party module geo/, app.py and the tests import is declared in pyproject.toml."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
# libraries used only through another one (no import statement names them): dist -> code that needs it
INDIRECT = {"pyarrow": re.compile(r"\b(?:to|read)_parquet\(")}


def _dist(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group(0)).lower()


def _imports(files: list[Path], root: Path) -> dict[str, set[str]]:
    """Top-level module -> files importing it (absolute imports only)."""
    out: dict[str, set[str]] = {}
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                     else [])
            for n in names:
                out.setdefault(n.split(".")[0], set()).add(f.relative_to(root).as_posix())
    return out


def _undeclared(files: list[Path], declared: set[str], local: set[str], root: Path = REPO) -> list[str]:
    dists = md.packages_distributions()
    missing = []
    for mod, where in sorted(_imports(files, root).items()):
        if mod in sys.stdlib_module_names or mod in local:
            continue
        candidates = {_dist(d) for d in dists.get(mod, [])}
        if not candidates & declared:
            missing.append(f"{mod} (distribution {sorted(candidates) or '?'}) imported in {sorted(where)}")
    code = "\n".join(f.read_text(encoding="utf-8") for f in files)
    missing += [f"{d} (used through {rx.pattern})" for d, rx in INDIRECT.items() if rx.search(code) and d not in declared]
    return missing


def test_runtime_imports_are_declared() -> None:
    declared = {_dist(r) for r in PYPROJECT["project"]["dependencies"]}
    files = sorted((REPO / "geo").glob("*.py")) + [REPO / "app.py"]
    assert _undeclared(files, declared, {"geo"}) == []


def test_test_imports_are_declared() -> None:
    declared = {_dist(r) for r in PYPROJECT["project"]["dependencies"]}
    declared |= {_dist(r) for r in PYPROJECT["project"]["optional-dependencies"]["test"]}
    local = {"geo", "conftest"} | {p.stem for p in (REPO / "tests").glob("*.py")}
    files = sorted((REPO / "tests").glob("*.py"))  # bench/ has its own bench/requirements.txt
    assert _undeclared(files, declared, local) == []


def test_checker_reports_an_undeclared_import(tmp_path: Path) -> None:
    f = tmp_path / "mod.py"
    f.write_text("import numpy\nfrom docx import Document\nimport json\nfrom . import x\n", encoding="utf-8")
    g = tmp_path / "uses_parquet.py"
    g.write_text("def save(gdf):\n    gdf.to_parquet('x.parquet')\n", encoding="utf-8")
    missing = _undeclared([f, g], {"numpy"}, set(), root=tmp_path)
    assert missing == ["docx (distribution ['python-docx']) imported in ['mod.py']",
                       "pyarrow (used through \\b(?:to|read)_parquet\\()"]


@pytest.mark.parametrize("requirement, dist", [("python-docx>=1.1", "python-docx"), ("Jinja2", "jinja2"),
                                               ("charset_normalizer>=3", "charset-normalizer")])
def test_requirement_names_are_normalised(requirement: str, dist: str) -> None:
    assert _dist(requirement) == dist
