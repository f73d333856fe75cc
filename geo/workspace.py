"""The planner's own files, kept apart from everything the tool regenerates.

A prepared area (``<data>/areas/<area>/``) is rebuilt by ``lifecircle prepare``
whenever the planner asks; what the planner makes lives in a workspace beside
it that ``prepare`` never touches::

    <data>/workspaces/<area>/    (LIFECIRCLE_WORKSPACE_DIR/<area> when set)
        corrections.csv          geocoding corrections (re-applied on every run)
        corrections.prev.csv     the version before the last save
        proposals.csv            siting proposals of the plan (geo.plan)
        proposal_states.csv      the planner's decisions on them (accepted / moved / dropped)
        uploads/<hash>-<name>    uploaded official lists and texts (by content: one copy each)
        studies/<name>.json      saved studies (geo.study.Study)

Every write is atomic and keeps the previous version (``<stem>.prev<suffix>``).
A corrections file the planner edited by hand keeps its extra columns and
the rows the tool cannot read; those rows are reported, never dropped.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .categories import CATEGORIES, STATUSES
from .coords import in_china
from .errors import InputError
from .io import WGS84, atomic_file, read_vector, require_file, to_csv_bom
from .names import nfkc

__all__ = [
    "CORRECTION_COLUMNS",
    "Workspace",
    "CorrectionsTable",
    "write_keeping_previous",
    "previous_version",
    "load_corrections",
    "read_corrections",
    "save_correction",
    "reject_binary",
    "read_csv_text",
    "safe_name",
]

CORRECTION_COLUMNS = ["key", "osm_id", "lon", "lat", "name", "category", "status", "note"]
_VECTOR = (".geojson", ".json", ".gpkg")


# --------------------------------------------------------------------------- atomic writes, previous version
def previous_version(path: str | Path) -> Path:
    """Where the version before the last write of ``path`` is kept (``name.prev.csv``)."""
    p = Path(path)
    return p.with_name(f"{p.stem}.prev{p.suffix}")


def write_keeping_previous(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically with ``write(tmp)``; the old file (if any) is kept as :func:`previous_version`.

    The new file appears whole or not at all; the previous version is copied
    before the new one replaces it, so a crash at any point leaves either the
    old or the new file in place.
    """
    p = Path(path)
    with atomic_file(p) as tmp:
        write(tmp)
        if p.is_file():
            shutil.copy2(p, previous_version(p))
    return p


# --------------------------------------------------------------------------- corrections
@dataclass
class CorrectionsTable:
    """A corrections file as the planner wrote it, and what the tool can use of it.

    Attributes
    ----------
    raw : DataFrame
        Every row and column of the file, as text (written back unchanged).
    valid : DataFrame
        ``CORRECTION_COLUMNS``, one row per key (the last row of a key wins).
    problems : list of (row, zh, en)
        Rows that cannot be used (row numbers as a spreadsheet shows them:
        the header is row 1) and why; they stay in the file.
    """

    raw: pd.DataFrame
    valid: pd.DataFrame
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    def problem_lines(self, lang: str = "zh") -> list[str]:
        """One line per unusable row, in ``lang``."""
        from .i18n import t

        return [t("row_problem", lang, row=r, text=zh if lang == "zh" else en) for r, zh, en in self.problems]


def reject_binary(p: Path, allowed: Sequence[str] = ()) -> None:
    """InputError for a binary file where text is expected (NUL bytes in the first 8 KB)."""
    if p.suffix.lower() in allowed or not p.is_file():
        return
    with open(p, "rb") as fh:
        head = fh.read(8192)
    if b"\x00" in head:
        raise InputError("这是二进制文件，不是文本表格（CSV）。", "this is a binary file, not a text table (CSV).", p)


def read_csv_text(p: Path) -> pd.DataFrame:
    """A CSV table in any Chinese encoding (one-line errors; binary files refused)."""
    from .facilities import read_csv_any

    reject_binary(p)
    return read_csv_any(p)


def _read_raw(p: Path) -> pd.DataFrame:
    if p.suffix.lower() in _VECTOR:
        gdf = read_vector(p)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
        if len(gdf):
            pts = gdf.to_crs(WGS84).geometry
            is_pt = np.asarray(pts.geom_type == "Point")
            for col, coord in (("lon", "x"), ("lat", "y")):
                from_geom = np.where(is_pt, getattr(pts.where(is_pt), coord, np.nan), np.nan)
                given = pd.to_numeric(df[col], errors="coerce") if col in df.columns else pd.Series(np.nan, index=df.index)
                df[col] = np.where(given.notna(), given, from_geom)
        return df
    return read_csv_text(p)


def _parse(raw: pd.DataFrame, path: Path) -> CorrectionsTable:
    problems: list[tuple[int, str, str]] = []
    rows = []
    for i, r in enumerate(raw.to_dict("records")):
        rowno = i + 2
        rec: dict[str, Any] = {c: nfkc(r.get(c)) for c in CORRECTION_COLUMNS}
        if not rec["key"]:
            if any(nfkc(v) for v in r.values()):
                problems.append((rowno, "缺少 key，无法对应到设施", "no key, so it matches no facility"))
            continue
        lon, lat = pd.to_numeric(pd.Series([rec["lon"] or np.nan, rec["lat"] or np.nan]), errors="coerce").to_numpy(float)
        if (rec["lon"] and not np.isfinite(lon)) or (rec["lat"] and not np.isfinite(lat)):
            problems.append((rowno, f"经纬度不是数字（{rec['lon']}, {rec['lat']}）",
                             f"longitude/latitude are not numbers ({rec['lon']}, {rec['lat']})"))
            continue
        if np.isfinite(lon) != np.isfinite(lat):
            problems.append((rowno, "经度和纬度须同时给出", "give both longitude and latitude"))
            continue
        if np.isfinite(lon) and not bool(in_china(np.array([lon]), np.array([lat]))[0]):
            problems.append((rowno, f"坐标不在中国范围内（{lon}, {lat}），经纬度是否填反？",
                             f"coordinates outside China ({lon}, {lat}); are longitude and latitude swapped?"))
            continue
        if rec["category"] and rec["category"] not in CATEGORIES:
            problems.append((rowno, f"未知类别“{rec['category']}”", f"unknown category {rec['category']!r}"))
            continue
        if rec["status"] and rec["status"] not in STATUSES:
            problems.append((rowno, f"未知状态“{rec['status']}”", f"unknown status {rec['status']!r}"))
            continue
        rec["lon"], rec["lat"] = float(lon), float(lat)
        rows.append(rec)
    valid = pd.DataFrame(rows, columns=CORRECTION_COLUMNS)
    valid["lon"] = pd.to_numeric(valid["lon"], errors="coerce")
    valid["lat"] = pd.to_numeric(valid["lat"], errors="coerce")
    valid = valid.drop_duplicates("key", keep="last").reset_index(drop=True)
    return CorrectionsTable(raw=raw, valid=valid, problems=problems)


def load_corrections(path: str | Path) -> CorrectionsTable:
    """Read a corrections file (CSV in any Chinese encoding, or GeoJSON/GPKG points).

    Raises
    ------
    InputError
        The file cannot be read, or it has no ``key`` column at all.
    """
    p = require_file(path)
    raw = _read_raw(p)
    if "key" not in raw.columns:
        raise InputError(f"校正文件缺少 key 列（现有列：{', '.join(map(str, raw.columns))}）。",
                         f"the corrections file has no 'key' column (columns: {', '.join(map(str, raw.columns))}).", p)
    return _parse(raw.reset_index(drop=True), p)


def read_corrections(path: str | Path) -> pd.DataFrame:
    """The usable corrections (``CORRECTION_COLUMNS``); unusable rows are in ``attrs["problems"]``."""
    table = load_corrections(path)
    out = table.valid
    out.attrs["problems"] = table.problems
    return out


def _write_table(df: pd.DataFrame, path: Path) -> None:
    def write(tmp: Path) -> None:
        if path.suffix.lower() in _VECTOR:
            lon = pd.to_numeric(df["lon"], errors="coerce") if "lon" in df else pd.Series(np.nan, index=df.index)
            lat = pd.to_numeric(df["lat"], errors="coerce") if "lat" in df else pd.Series(np.nan, index=df.index)
            ok = lon.notna() & lat.notna()
            geom = [shapely.Point(x, y) if k else None for x, y, k in zip(lon, lat, ok)]
            gdf = gpd.GeoDataFrame(df.astype(object).where(df.notna(), None), geometry=geom, crs=WGS84)
            gdf.to_file(tmp, driver="GPKG" if path.suffix.lower() == ".gpkg" else "GeoJSON", engine="pyogrio")
        else:
            to_csv_bom(df, tmp)

    write_keeping_previous(path, write)


def save_correction(corrections_path: str | Path, key: str, *, osm_id: str | None = None, lon: float | None = None,
                    lat: float | None = None, name: str | None = None, category: str | None = None,
                    status: str | None = None, note: str = "") -> pd.DataFrame:
    """Add or replace the correction of one mention and write the file atomically (previous version kept).

    The file is CSV (UTF-8 with BOM, opens in Excel) or GeoJSON/GPKG by suffix
    and is created when missing. Columns the planner added and rows the tool
    cannot read are written back as they were. Returns the usable corrections.

    Raises
    ------
    InputError
        Coordinates outside China, unknown category or status.
    """
    p = Path(corrections_path)
    key = nfkc(key)
    if not key:
        raise InputError("校正缺少 key。", "a correction needs a key.", p)
    if category and category not in CATEGORIES:
        raise InputError(f"未知类别“{category}”（可用：{', '.join(CATEGORIES)}）。",
                         f"unknown category {category!r} (use {', '.join(CATEGORIES)}).", p)
    if status and status not in STATUSES:
        raise InputError(f"未知状态“{status}”（可用：{', '.join(STATUSES)}）。",
                         f"unknown status {status!r} (use {', '.join(STATUSES)}).", p)
    x = np.nan if lon is None else float(lon)
    y = np.nan if lat is None else float(lat)
    if np.isfinite(x) != np.isfinite(y):
        raise InputError("经度和纬度须同时给出。", "give both longitude and latitude.", p)
    if np.isfinite(x) and not bool(in_china(np.array([x]), np.array([y]))[0]):
        raise InputError(f"坐标不在中国范围内（{x}, {y}），请检查经纬度是否填反。",
                         f"coordinates outside China ({x}, {y}); check that longitude and latitude are not swapped.", p)
    raw = load_corrections(p).raw if p.exists() and p.stat().st_size else pd.DataFrame(columns=CORRECTION_COLUMNS)
    raw = raw.astype(object)
    for c in CORRECTION_COLUMNS:
        if c not in raw.columns:
            raw[c] = ""
    row = {"key": key, "osm_id": nfkc(osm_id), "lon": x if np.isfinite(x) else "", "lat": y if np.isfinite(y) else "",
           "name": nfkc(name), "category": nfkc(category), "status": nfkc(status), "note": nfkc(note)}
    hits = np.flatnonzero([nfkc(k) == key for k in raw["key"]])
    if len(hits):  # replace the key's last row in place: the planner's other columns on that row stay
        i = raw.index[hits[-1]]
        for c, v in row.items():
            raw.at[i, c] = v
        raw = raw.drop(index=raw.index[hits[:-1]])
    else:
        raw = pd.concat([raw, pd.DataFrame([row], columns=raw.columns).astype(object)], ignore_index=True)
    raw = raw.reset_index(drop=True)
    _write_table(raw, p)
    return _parse(raw, p).valid


# --------------------------------------------------------------------------- the workspace folder
def safe_name(name: str) -> str:
    """A file name made safe for the workspace: the last path part, only word characters, ``-`` and ``.``.

    ``"../a b?.csv"`` → ``"a_b_.csv"``; ``"file"`` when nothing is left.
    """
    s = re.sub(r"[^\w\-.]+", "_", Path(str(name)).name).strip("._")
    return s or "file"


@dataclass(frozen=True)
class Workspace:
    """The planner's folder for one study area (see the module docstring)."""

    root: Path

    @classmethod
    def for_area(cls, data_dir: str | Path, area: str) -> Workspace:
        """``<data>/workspaces/<area>`` (:func:`geo.settings.workspaces_dir`), created on first use; a legacy
        corrections file is migrated."""
        from .settings import workspaces_dir

        ws = cls(workspaces_dir(data_dir) / safe_name(area))
        ws.root.mkdir(parents=True, exist_ok=True)
        ws.migrate_legacy(Path(data_dir) / "areas" / area)
        return ws

    @property
    def corrections(self) -> Path:
        return self.root / "corrections.csv"

    @property
    def proposals(self) -> Path:
        """Siting proposals of the plan (:func:`geo.plan.write_proposals`)."""
        return self.root / "proposals.csv"

    @property
    def proposal_states(self) -> Path:
        """The planner's decisions on them: accepted, moved (with coordinates), dropped."""
        return self.root / "proposal_states.csv"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def studies(self) -> Path:
        return self.root / "studies"

    def migrate_legacy(self, area_dir: Path) -> Path | None:
        """Copy ``<area>/corrections.csv`` (where versions before the workspace kept it) into the workspace.

        The old file is left where it is (it is the planner's); it is copied
        only while the workspace has no corrections of its own. Returns the
        migrated path, or None.
        """
        old = Path(area_dir) / "corrections.csv"
        if old.is_file() and old.stat().st_size and not self.corrections.exists():
            write_keeping_previous(self.corrections, lambda tmp: shutil.copyfile(old, tmp))
            return self.corrections
        return None

    def store_upload(self, name: str, data: bytes) -> Path:
        """Keep an uploaded file (by content: the same file uploaded twice is stored once, at the same path)."""
        digest = hashlib.sha1(data).hexdigest()[:12]
        path = self.uploads / f"{digest}-{safe_name(name)}"
        if not path.is_file():
            self.uploads.mkdir(parents=True, exist_ok=True)
            with atomic_file(path) as tmp:
                tmp.write_bytes(data)
        return path

    def study_path(self, name: str) -> Path:
        return self.studies / f"{safe_name(name)}.json"

    def list_studies(self) -> list[str]:
        """Names of the saved studies, newest first."""
        if not self.studies.is_dir():
            return []
        files = sorted(self.studies.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        return [p.stem for p in files if not p.stem.endswith(".prev")]
