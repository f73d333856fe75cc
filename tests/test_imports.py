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


def _private_uses(files: list[Path], package: str = "geo") -> list[str]:
    """``from .mod import _x`` / ``mod._x`` across modules of ``package``: a private name used outside its module."""
    out = []
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        modules: dict[str, str] = {}  # local name -> module of the package
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                relative = node.level > 0 or mod.split(".")[0] == package
                sub = mod if node.level else mod.removeprefix(package).lstrip(".")
                for a in node.names if relative else []:
                    if not sub:  # from . import coverage as cv
                        modules[a.asname or a.name] = a.name
                    elif a.name.startswith("_") and not a.name.startswith("__"):
                        out.append(f"{f.name}:{node.lineno} from {sub} import {a.name}")
            elif isinstance(node, ast.Import):
                modules.update({a.asname: a.name.split(".", 1)[1] for a in node.names
                                if a.asname and a.name.startswith(package + ".")})
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in modules):
                out.append(f"{f.name}:{node.lineno} {modules[node.value.id]}.{node.attr}")
    return out


def test_modules_use_each_others_public_names_only() -> None:
    files = sorted((REPO / "geo").glob("*.py")) + [REPO / "app.py"]
    assert _private_uses(files) == []


def test_checker_reports_a_private_cross_module_use(tmp_path: Path) -> None:
    f = tmp_path / "mod.py"
    f.write_text("from .coverage import _labels, named_streets\nfrom . import facilities as fac\n"
                 "from geo import webmap\nimport geo.io as gio\nfrom .x import __version__\nfrom .geocode import _bi\n"
                 "fac._find_col(1)\nwebmap._bounds()\ngio.WGS84\nself._cache\n", encoding="utf-8")
    assert _private_uses([f]) == ["mod.py:1 from coverage import _labels", "mod.py:6 from geocode import _bi",
                                  "mod.py:7 facilities._find_col", "mod.py:8 webmap._bounds"]
