"""Shared test fixtures: where ../shared is, and skipping (or failing in CI) without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LIFECIRCLE_SHARED", REPO.parent / "shared")).resolve()


def _require_shared() -> Path:
    if (SHARED / "README.md").exists():
        return SHARED
    msg = f"needs the read-only ../shared data folder beside the repo (looked in {SHARED})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {msg}", pytrace=False)
    pytest.skip(msg)


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


# --------------------------------------------------------------------------- the app on the prepared default area
@pytest.fixture(scope="module")
def data_dir(shared_data: Path) -> Path:
    """A data dir holding the prepared default area (prepared once per test process)."""
    from app_area import prepared_data_dir

    return prepared_data_dir(str(shared_data))


@pytest.fixture
def app(data_dir: Path, monkeypatch):
    """``app.py`` run once under Streamlit's AppTest on the prepared default area."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
