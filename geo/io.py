"""File I/O at the edges: reading vector layers with clear errors, atomic outputs."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import pandas as pd

from .errors import InputError

__all__ = ["require_file", "read_vector", "as_wgs84", "to_csv_bom", "atomic_dir", "atomic_file"]

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".zip"}


def require_file(path: str | Path) -> Path:
    """Return ``path`` as a Path, or raise InputError if it does not exist."""
    p = Path(path)
    if not p.exists():
        raise InputError("文件不存在，请检查路径。", "file not found; check the path.", p)
    if p.is_file() and p.stat().st_size == 0:
        raise InputError("文件为空。", "the file is empty.", p)
    return p


def read_vector(path: str | Path, *, layer: str | None = None, require_crs: bool = True) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoJSON, GeoPackage, Shapefile, GeoParquet) with pyogrio.

    Raises
    ------
    InputError
        Missing, unreadable or CRS-less files, with a one-line message.
    """
    p = require_file(path)
    try:
        if p.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(p)
        else:
            gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError, OSError, ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"无法读取该矢量文件（{first}）。请确认是 GeoJSON、GeoPackage 或 Shapefile。",
                         f"cannot read this vector file ({first}); expected GeoJSON, GeoPackage or Shapefile.",
                         p) from None
    if require_crs and gdf.crs is None and len(gdf):
        raise InputError("文件没有坐标参考系（CRS）。请在 QGIS 中为其指定坐标系（如 EPSG:4326）后重试。",
                         "the file has no coordinate reference system (CRS); assign one (e.g. EPSG:4326) in QGIS and retry.",
                         p)
    return gdf


def as_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 (itself when it already is, or has no CRS)."""
    return gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") else gdf


def to_csv_bom(df: pd.DataFrame, path):
    """Write CSV in UTF-8 with BOM so that Excel opens Chinese text correctly.

    ``path`` is a file path (returned as a Path) or a binary buffer (``io.BytesIO``, returned as is).
    """
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return Path(path) if isinstance(path, (str, os.PathLike)) else path


@contextlib.contextmanager
def atomic_dir(outdir: str | Path) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``outdir`` only if the block succeeds.

    Nothing partial is ever left in ``outdir``: on error the temporary folder
    is removed and ``outdir`` keeps what it had.
    """
    out = Path(outdir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path (same suffix) that is renamed to ``path`` on success."""
    dst = Path(path)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dst.stem}.tmp-", suffix=dst.suffix, dir=dst.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # let writers create it (some refuse to overwrite)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dst)
