"""The lint gate (scripts/lint, run by scripts/test and .ci/run) fails on a new ruff or mypy error."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT = REPO / "scripts" / "lint"
_spec = importlib.util.spec_from_loader("lint", SourceFileLoader("lint", str(LINT)))
assert _spec is not None and _spec.loader is not None
lint = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lint)


def _run(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    # mypy caches a lone file by its module name: files named alike in earlier runs must not be reused
    env = dict(os.environ, MYPY_CACHE_DIR=str(cache)) if cache else None
    return subprocess.run([sys.executable, str(LINT), *args], cwd=REPO, capture_output=True, text=True, env=env)


def _lint_file(tmp_path: Path, name: str, source: str, baseline: dict | None = None,
               *flags: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run scripts/lint on one new file against a baseline (default: empty); returns the result and the baseline."""
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    base = tmp_path / "baseline.json"
    base.write_text(json.dumps({str(path) if k == "*" else k: v for k, v in (baseline or {}).items()}), encoding="utf-8")
    return _run("--baseline", str(base), *flags, str(path), cache=tmp_path / ".mypy_cache"), base


TYPE_ERROR = 'def f(x: int) -> int:\n    return x\n\n\nf("a")\n'


def test_new_mypy_error_fails_and_clean_file_passes(tmp_path: Path) -> None:
    res, _ = _lint_file(tmp_path, "bad.py", TYPE_ERROR)
    assert res.returncode == 1, res.stderr
    assert "NEW mypy errors" in res.stderr and "bad.py: 1 mypy errors, baseline allows 0" in res.stderr
    assert 'incompatible type "str"' in res.stdout  # the error itself is shown

    res, _ = _lint_file(tmp_path, "good.py", TYPE_ERROR.replace('"a"', "1"))
    assert res.returncode == 0, res.stdout + res.stderr


def test_new_ruff_error_fails(tmp_path: Path) -> None:
    res, _ = _lint_file(tmp_path, "unused.py", "import os\n")
    assert res.returncode == 1
    assert "F401" in res.stdout and "ruff FAILED" in res.stderr


def test_baseline_may_only_shrink(tmp_path: Path) -> None:
    res, base = _lint_file(tmp_path, "bad.py", TYPE_ERROR, {"*": 3}, "--shrink")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "fewer errors" in res.stderr
    assert json.loads(base.read_text(encoding="utf-8")) == {str(tmp_path / "bad.py"): 1}


def test_compare_counts() -> None:
    out = "geo/a.py:3: error: x  [misc]\ngeo/a.py:9:2: error: y  [misc]\ngeo/b.py:1: note: z\n"
    counts = lint.mypy_counts(out)
    assert counts == {"geo/a.py": 2}
    fail, shrunk = lint.compare(counts, {"geo/a.py": 1, "geo/b.py": 4})
    assert fail == ["geo/a.py: 2 mypy errors, baseline allows 1"]
    assert shrunk == ["geo/b.py: 0 mypy errors, baseline 4"]
    assert lint.compare(counts, {"geo/a.py": 2}) == ([], [])


def test_repository_matches_its_baseline() -> None:
    """The code as committed passes the gate (what .ci/run checks before pytest)."""
    res = _run()
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
