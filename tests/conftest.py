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
