"""Subdistrict (街道) boundaries: read any polygon layer, normalise to ``subdistrict, district, geometry``."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .io import WGS84, as_wgs84, read_vector

__all__ = ["BOUNDARY_COLUMNS", "read_boundaries", "normalize_boundaries", "boundaries_from_place", "detect_name_column"]

BOUNDARY_COLUMNS = ["subdistrict", "district", "geometry"]

_NAME_CANDIDATES = ("subdistrict", "街道", "街道名称", "街镇", "乡镇", "name:zh", "name_zh", "name", "NAME",
                    "名称", "town", "township", "jdmc", "xzmc", "NAME_3")
_DISTRICT_CANDIDATES = ("district", "区", "区县", "所属区", "county", "NAME_2", "qxmc")


def _find(columns, candidates) -> str | None:
    lower = {str(c).lower(): c for c in columns}
    for cand in candidates:
        if cand in columns:
            return cand
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def detect_name_column(columns) -> str | None:
    """The column holding subdistrict names (``subdistrict``, ``街道``, ``name:zh``, ``name`` ...), or None."""
    return _find([c for c in columns if c != "geometry"], _NAME_CANDIDATES)


def normalize_boundaries(gdf: gpd.GeoDataFrame, name_col: str | None = None, *, path: str | Path | None = None,
                         district: str = "") -> gpd.GeoDataFrame:
    """Boundaries GeoDataFrame (``subdistrict, district, geometry`` in EPSG:4326) from any polygon layer.

    Raises
    ------
    InputError
        No usable name column (the columns are listed) or no polygons.
    """
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    col = name_col or detect_name_column(cols)
    if col is None or col not in gdf.columns:
        given = f"“{name_col}” 不存在；" if name_col else ""
        given_en = f"'{name_col}' does not exist; " if name_col else ""
        raise InputError(f"{given}找不到街道名称列（现有列：{', '.join(map(str, cols)) or '无'}）。请用 --boundary-name 指定。",
                         f"{given_en}no subdistrict name column (columns: {', '.join(map(str, cols)) or 'none'}); "
                         "name it with --boundary-name.", path)
    poly = gdf[gdf.geometry.notna() & gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if not len(poly):
        raise InputError("边界文件中没有面要素。", "the boundary file has no polygons.", path)
    poly = as_wgs84(poly)
    dcol = _find(cols, _DISTRICT_CANDIDATES)
    dcol = dcol if dcol != col else None
    names = poly[col].astype(object).where(poly[col].notna(), "").astype(str).str.strip()
    names = names.where(names != "", [f"#{i + 1}" for i in range(len(poly))])
    out = gpd.GeoDataFrame({
        "subdistrict": names.to_numpy(),
        "district": (poly[dcol].astype(object).fillna("").astype(str).to_numpy() if dcol else district),
    }, geometry=poly.geometry.make_valid().values, crs=poly.crs or WGS84)
    if out.crs is None or not out.crs.equals(WGS84):
        out = out.set_crs(WGS84, allow_override=True)
    return out.dissolve("subdistrict", as_index=False, sort=False, aggfunc="first")[BOUNDARY_COLUMNS]


def read_boundaries(path: str | Path, name_col: str | None = None) -> gpd.GeoDataFrame:
    """Read a boundary layer and normalise it to ``subdistrict, district, geometry`` (EPSG:4326).

    Parameters
    ----------
    path : path
        GeoJSON, GeoPackage, Shapefile ... with a CRS.
    name_col : str, optional
        The name column; detected when omitted (``subdistrict``, ``name``,
        ``NAME``, ``街道``, ``name:zh`` ...).
    """
    gdf = read_vector(path)
    if not len(gdf):
        raise InputError("边界文件没有要素。", "the boundary file has no features.", path)
    return normalize_boundaries(gdf, name_col, path=path)


def _district_of(display_name: str) -> str:
    parts = [p.strip() for p in str(display_name).split(",")]
    for p in parts[1:]:
        if re.search(r"(区|县|District|County)$", p):
            return p
    return ""


def boundaries_from_place(query: str | list[str]) -> gpd.GeoDataFrame:
    """Boundaries geocoded online with ``osmnx.geocode_to_gdf`` (Nominatim).

    ``query`` is one place or a list (one row each), e.g. ``"新江湾城街道, 杨浦区, 上海市"``.
    """
    import osmnx as ox

    q: str | list[str | dict[str, str]] = query if isinstance(query, str) else list(query)
    try:
        gdf = ox.geocode_to_gdf(q)
    except Exception as exc:  # osmnx raises InsufficientResponseError, TypeError ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"无法在 OSM 中找到该地名的边界（{first}）。", f"cannot geocode the place to a boundary ({first}).",
                         str(query)) from None
    names = gdf["name"] if "name" in gdf.columns else pd.Series([""] * len(gdf))
    display = gdf["display_name"] if "display_name" in gdf.columns else pd.Series([""] * len(gdf))
    sub = [n or str(d).split(",")[0].strip() for n, d in zip(names.fillna(""), display.fillna(""))]
    frame = gpd.GeoDataFrame({"subdistrict": sub, "district": [_district_of(d) for d in display.fillna("")]},
                             geometry=gdf.geometry.values, crs=gdf.crs or WGS84)
    return normalize_boundaries(frame, "subdistrict", path=str(query))
