"""Facility layers from every source, normalised to one schema, merged and de-duplicated.

Sources: Geofabrik free shapefiles (:func:`from_geofabrik`), OSM XML/PBF
(:func:`from_osm_file`, :func:`from_osm_features`), and tables planners hold
(:func:`read_facility_table`: CSV in any Chinese encoding, XLSX, GeoJSON, GPKG,
with WGS-84, GCJ-02 or BD-09 coordinates), including the output of
``lifecircle geocode``. Every loader returns the Facilities GeoDataFrame of
``docs/ARCHITECTURE.md``::

    facility_id, name, category, status, source, source_detail, geometry (EPSG:4326)

Categories are always resolved through :mod:`geo.categories`; loaders never
keep their own lists. Non-fatal problems (rows without coordinates ...) are
collected in ``gdf.attrs["warnings"]``.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rapidfuzz import fuzz
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .categories import (
    CATEGORIES,
    SCENARIO_STATUSES,
    SOURCES,
    STATUS_ALIASES,
    STATUSES,
    category_for_fclass,
    category_for_tags,
)
from .coords import in_china, normalize_datum, to_wgs84
from .errors import InputError, Message, warn
from .io import METRIC_CRS, WGS84, as_wgs84, read_vector, require_file, restore_formulas
from .limits import MAX_TABLE_MB, check_size, check_zip
from .names import clean_name, nfkc

__all__ = [
    "FACILITY_COLUMNS",
    "empty_facilities",
    "normalize_facilities",
    "from_geofabrik",
    "from_osm_features",
    "from_osm_file",
    "read_facility_table",
    "require_facilities",
    "read_facilities",
    "category_lookup",
    "status_lookup",
    "norm_key",
    "geofabrik_files",
    "is_geofabrik",
    "osm_ids",
    "read_csv_any",
    "read_table",
    "find_column",
    "parse_coordinates",
    "LON_NAMES",
    "LAT_NAMES",
    "CATEGORY_NAMES",
    "STATUS_NAMES",
    "NAME_NAMES",
    "ID_NAMES",
    "combine",
    "dedupe",
    "filter_scenario",
]

log = logging.getLogger(__name__)

FACILITY_COLUMNS = ["facility_id", "name", "category", "status", "source", "source_detail", "geometry"]

GEOFABRIK_LAYERS = ("gis_osm_pois_free_1", "gis_osm_pois_a_free_1")
GEOFABRIK_GREEN = "green_areas.geojson"
OSM_SUFFIXES = {".osm", ".pbf", ".xml", ".bz2", ".gz"}
TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls"}


# --------------------------------------------------------------------------- schema
def empty_facilities() -> gpd.GeoDataFrame:
    """An empty Facilities GeoDataFrame with the contract's columns."""
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in FACILITY_COLUMNS[:-1]},
                            geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def _add_warnings(gdf: gpd.GeoDataFrame, messages: Iterable[Message]) -> gpd.GeoDataFrame:
    msgs = list(gdf.attrs.get("warnings", [])) + [m for m in messages if m]
    for m in msgs:
        log.info(m.en)
    gdf.attrs["warnings"] = msgs
    return gdf


def normalize_facilities(df: pd.DataFrame | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Coerce a frame to the Facilities schema (column order, dtypes, EPSG:4326).

    Missing ``name``/``source_detail`` become ``''``, missing ``status``
    ``existing``; extra columns (e.g. ``sources`` after :func:`dedupe`) are kept
    after the contract columns.
    """
    gdf = df if isinstance(df, gpd.GeoDataFrame) else gpd.GeoDataFrame(df, geometry="geometry", crs=WGS84)
    gdf = gdf.copy()
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    elif not gdf.crs.equals(WGS84):
        gdf = gdf.to_crs(WGS84)
    for col, default in (("name", ""), ("status", "existing"), ("source_detail", ""), ("source", "manual")):
        if col not in gdf.columns:
            gdf[col] = default
        gdf[col] = gdf[col].astype(object).where(gdf[col].notna(), default).astype(str)
    for col in ("facility_id", "category"):
        if col not in gdf.columns:
            raise ValueError(f"facilities need a {col!r} column")
        gdf[col] = gdf[col].astype(str)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    extra = [c for c in gdf.columns if c not in FACILITY_COLUMNS]
    out = gdf[FACILITY_COLUMNS[:-1] + extra + ["geometry"]].reset_index(drop=True)
    out.attrs = dict(df.attrs)
    return out


# --------------------------------------------------------------------------- Geofabrik
def _as_mask(mask) -> shapely.Geometry | None:
    """A WGS-84 shapely geometry from a geometry, a (minx, miny, maxx, maxy) box or a GeoDataFrame."""
    if mask is None:
        return None
    if isinstance(mask, (gpd.GeoDataFrame, gpd.GeoSeries)):
        m = as_wgs84(mask)
        return shapely.union_all(m.geometry.values if isinstance(m, gpd.GeoDataFrame) else m.values)
    if isinstance(mask, (tuple, list)) and len(mask) == 4:
        return shapely.box(*mask)
    return mask


def geofabrik_files(folder_or_shp: str | Path) -> list[Path]:
    p = require_file(folder_or_shp)
    if p.is_file():
        return [p]
    files = [p / f"{layer}.shp" for layer in GEOFABRIK_LAYERS if (p / f"{layer}.shp").exists()]
    if not files:
        raise InputError("文件夹中没有 Geofabrik 设施图层（gis_osm_pois_free_1.shp / gis_osm_pois_a_free_1.shp）。",
                         "the folder has no Geofabrik POI layer (gis_osm_pois_free_1.shp / gis_osm_pois_a_free_1.shp).", p)
    if (p / GEOFABRIK_GREEN).exists():
        files.append(p / GEOFABRIK_GREEN)
    return files


def from_geofabrik(folder_or_shp: str | Path, mask=None) -> gpd.GeoDataFrame:
    """Facilities from Geofabrik free shapefiles (points, polygons and ``green_areas.geojson`` parks).

    Parameters
    ----------
    folder_or_shp : path
        The unzipped Geofabrik folder, or one of its layers.
    mask : shapely geometry, (minx, miny, maxx, maxy) or GeoDataFrame, optional
        Only features intersecting it are read (WGS-84); pyogrio filters while reading.

    Returns
    -------
    GeoDataFrame
        Facilities schema; ``facility_id`` is ``osm:node/<id>`` for points and
        ``osm:area/<id>`` for polygons (Geofabrik does not say whether a polygon
        was a way or a relation); ``source_detail`` holds the file, fclass and osm_id.
    """
    geom_mask = _as_mask(mask)
    fclasses = sorted({f for c in CATEGORIES.values() for f in c.fclass})
    where = "fclass IN ({})".format(", ".join(f"'{f}'" for f in fclasses))
    parts = []
    for path in geofabrik_files(folder_or_shp):
        try:
            gdf = gpd.read_file(path, engine="pyogrio", mask=geom_mask, where=where,
                                columns=["osm_id", "fclass", "name"])
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"无法读取 Geofabrik 图层（{first}）。", f"cannot read the Geofabrik layer ({first}).", path) from None
        if gdf.crs is None and len(gdf):
            raise InputError("文件没有坐标参考系（CRS）。", "the file has no coordinate reference system (CRS).", path)
        if not len(gdf):
            continue
        gdf = gdf.to_crs(WGS84) if not gdf.crs.equals(WGS84) else gdf
        cat = gdf["fclass"].map(category_for_fclass)
        gdf = gdf[cat.notna()].assign(category=cat[cat.notna()])
        is_point = gdf.geom_type.eq("Point").to_numpy()
        osm_id = gdf["osm_id"].astype(str).to_numpy()
        parts.append(gpd.GeoDataFrame({
            "facility_id": np.where(is_point, "osm:node/", "osm:area/").astype(object) + osm_id.astype(object),
            "name": gdf["name"].fillna("").astype(str).to_numpy(),
            "category": gdf["category"].to_numpy(),
            "status": "existing",
            "source": "osm",
            "source_detail": [f"{path.name} fclass={f} osm_id={i}" for f, i in zip(gdf["fclass"], osm_id)],
        }, geometry=gdf.geometry.values, crs=WGS84))
    if not parts:
        return empty_facilities()
    out = pd.concat(parts, ignore_index=True)
    # the same polygon can be both a POI polygon and a green area: keep one
    out = out.drop_duplicates(subset=["facility_id", "category"]).reset_index(drop=True)
    return normalize_facilities(out)


# --------------------------------------------------------------------------- OSM files
_NAME_TAGS = ("name:zh", "name:zh-Hans", "name", "name:en")


def osm_ids(gdf: pd.DataFrame) -> list[str]:
    """``type/id`` strings from an osmnx-style (element, id) index or element/id columns."""
    idx = gdf.index
    if isinstance(idx, pd.MultiIndex) and idx.nlevels == 2:
        return [f"{t}/{i}" for t, i in idx]
    for tcol, icol in (("element", "id"), ("element_type", "osmid"), ("osm_type", "osm_id"), ("type", "id")):
        if tcol in gdf.columns and icol in gdf.columns:
            return [f"{t}/{i}" for t, i in zip(gdf[tcol], gdf[icol])]
    for icol in ("osm_id", "osmid", "id"):
        if icol in gdf.columns:
            return [str(i) if "/" in str(i) else f"node/{i}" for i in gdf[icol]]
    return [f"feature/{i}" for i in range(len(gdf))]


def from_osm_features(gdf: gpd.GeoDataFrame, *, source_detail: str = "") -> gpd.GeoDataFrame:
    """Facilities from OSM features with tag columns (``geo.osm.read_osm_features`` or osmnx ``features_*``).

    The category of each feature comes from :func:`geo.categories.category_for_tags`;
    features of no category are dropped.
    """
    if gdf is None or not len(gdf):
        return empty_facilities()
    tag_cols = [c for c in gdf.columns if c != gdf.geometry.name]
    # absent tags may come as '' or NaN: drop them so that `healthcare=*` style rules do not fire
    tags = [{k: v for k, v in rec.items() if isinstance(v, str) and v.strip() or
             (v is not None and not isinstance(v, (str, float)))}
            for rec in gdf[tag_cols].to_dict("records")]
    cats = [category_for_tags(t) for t in tags]
    ids = osm_ids(gdf)
    keep = [i for i, c in enumerate(cats) if c is not None]

    def name_of(t: dict) -> str:
        for k in _NAME_TAGS:
            v = t.get(k)
            if isinstance(v, str) and v.strip():
                return v.strip()
        return ""

    geoms = gdf.geometry.values[keep]
    out = gpd.GeoDataFrame({
        "facility_id": [f"osm:{ids[i]}" for i in keep],
        "name": [name_of(tags[i]) for i in keep],
        "category": [cats[i] for i in keep],
        "status": "existing",
        "source": "osm",
        "source_detail": [f"{source_detail} {ids[i]}".strip() for i in keep],
    }, geometry=geoms, crs=gdf.crs or WGS84)
    return normalize_facilities(out)


def from_osm_file(path: str | Path, mask=None) -> gpd.GeoDataFrame:
    """Facilities from an OSM XML or PBF file (read by ``geo.osm.read_osm_features``)."""
    from . import osm  # NETWORK's reader; imported lazily so facilities work without it

    p = require_file(path)
    feats = osm.read_osm_features(p, polygon=_as_mask(mask))
    return from_osm_features(feats, source_detail=p.name)


# --------------------------------------------------------------------------- tables
def norm_key(s: object) -> str:
    """A header or vocabulary word as a lookup key (``Elderly Care`` → ``elderly_care``).

    For identifiers only; names are compared through :func:`geo.names.clean_name`.
    """
    return re.sub(r"[\s\-_/]+", "_", nfkc(s).lower()).strip("_")


def category_lookup() -> dict[str, str]:
    """Every spelling of a category a table may use, derived from the taxonomy table.

    Keys, Chinese and English labels, Geofabrik fclass values, OSM tag values
    and tag keys that belong to exactly one category (``healthcare`` → ``health``)
    and the Chinese keywords. Ambiguous spellings are left out.
    """
    seen: dict[str, set[str]] = {}

    def add(word: str, key: str) -> None:
        seen.setdefault(norm_key(word), set()).add(key)

    for c in CATEGORIES.values():
        for w in (c.key, c.zh, c.en, *c.fclass, *c.keywords):
            add(w, c.key)
        for k, vals in c.osm_tags.items():
            if vals is True:
                add(k, c.key)
            else:
                for v in vals:
                    add(v, c.key)
    out = {w: next(iter(keys)) for w, keys in seen.items() if len(keys) == 1}
    for c in CATEGORIES.values():  # the key and labels always win
        for w in (c.key, c.zh, c.en):
            out[norm_key(w)] = c.key
    return out


def status_lookup() -> dict[str, str]:
    """Every spelling of a status an official list may use (keys, labels and
    :data:`geo.categories.STATUS_ALIASES`: 在建/已开工 → building, 已建成 → existing …)."""
    out = {}
    for key, words in STATUS_ALIASES.items():
        for w in words:
            out[norm_key(w)] = key
    for key, (zh, en) in STATUSES.items():
        for w in (key, zh, en):
            out[norm_key(w)] = key
    return out


# Column names a facility table may use for each field (compared with norm_key; see find_column).
LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "x", "wgs84_lon", "lon_wgs84", "wgs_lon", "gcj02_lon",
              "gcj_lon", "bd09_lon", "point_x")
LAT_NAMES = ("lat", "latitude", "纬度", "y", "wgs84_lat", "lat_wgs84", "wgs_lat", "gcj02_lat", "gcj_lat",
              "bd09_lat", "point_y")
CATEGORY_NAMES = ("category", "facility_type", "类别", "设施类别", "设施类型", "类型", "type", "kind", "fclass")
STATUS_NAMES = ("status", "状态", "建设状态", "设施状态", "state")
NAME_NAMES = ("name", "facility_name", "名称", "设施名称", "name_zh", "name:zh", "title", "机构名称")
ID_NAMES = ("facility_id", "request_id", "id", "编号", "序号")


def find_column(columns: Iterable[str], candidates: Iterable[str], *, fuzzy: str | None = None) -> str | None:
    """The column of a table that holds one field, e.g. the longitude.

    Parameters
    ----------
    columns : iterable of str
        The table's columns.
    candidates : iterable of str
        Accepted names in order of preference (``LON_NAMES`` ...), compared with :func:`norm_key`.
    fuzzy : str, optional
        Regex tried on the columns when no candidate matched; used only when exactly one column matches.

    Returns
    -------
    str or None
        The column as written in the table, None when there is none.
    """
    cols = list(columns)
    norm = {norm_key(c): c for c in cols}
    for cand in candidates:
        if norm_key(cand) in norm:
            return norm[norm_key(cand)]
    if fuzzy:
        hits = [c for c in cols if re.search(fuzzy, str(c), re.I)]
        if len(hits) == 1:
            return hits[0]
    return None


def read_csv_any(p: Path) -> pd.DataFrame:
    """A CSV in any Chinese encoding, as text columns; cells the tool defused (``'=x``) are restored."""
    check_size(p, MAX_TABLE_MB)
    raw = p.read_bytes()
    sep = "\t" if p.suffix.lower() == ".tsv" else None
    encodings = ["utf-8-sig", "gb18030", "big5"]
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:200_000]).best()
        if best is not None and best.encoding not in encodings:
            encodings.append(best.encoding)
    except ImportError:  # pragma: no cover
        pass
    for enc in encodings:
        try:
            text = raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        import io

        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, engine="python", dtype=str, keep_default_na=True)
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"无法解析 CSV（{first}）。", f"cannot parse the CSV ({first}).", p) from None
        return restore_formulas(df)
    raise InputError("无法识别文件编码（试过 UTF-8、GB18030、Big5）。", "cannot detect the text encoding (tried UTF-8, GB18030, Big5).", p)


def read_table(p: Path, sheet) -> pd.DataFrame | gpd.GeoDataFrame:
    """A facility table as text columns (CSV in any Chinese encoding, XLSX/XLS) or a vector layer.

    Parameters
    ----------
    p : Path
    sheet : str, int or None
        The Excel sheet (None: the first).

    Raises
    ------
    InputError
        Too large, not parseable, or a zip bomb.
    """
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv_any(p)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        check_size(p, MAX_TABLE_MB)
        check_zip(p)
        try:
            with warnings.catch_warnings():  # openpyxl's notes on styles and extensions: library noise
                warnings.simplefilter("ignore")
                return pd.read_excel(p, sheet_name=sheet if sheet is not None else 0, dtype=str,
                                     engine="openpyxl" if suffix != ".xls" else None)
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"无法读取 Excel 文件（{first}）。", f"cannot read the Excel file ({first}).", p) from None
    return read_vector(p)


def parse_coordinates(s: pd.Series) -> np.ndarray:
    """Numbers of a longitude/latitude column given as text (``" 121.5°"`` → 121.5); NaN where not a number."""
    return pd.to_numeric(s.astype(str).str.strip().str.replace("°", "", regex=False), errors="coerce").to_numpy(float)


def read_facility_table(path: str | Path, *, datum: str = "wgs84", category_col: str | None = None,
                        name_col: str | None = None, lon_col: str | None = None, lat_col: str | None = None,
                        sheet: str | int | None = None, source: str = "official") -> gpd.GeoDataFrame:
    """Facilities from a table: CSV (any encoding), XLSX, GeoJSON or GPKG.

    Parameters
    ----------
    path : path
        The table. The output of ``lifecircle geocode`` (``name, category, status,
        ..., match_status, lon, lat``) is accepted as is.
    datum : {"wgs84", "gcj02", "bd09"}
        Datum of the coordinates (Amap/Tencent use GCJ-02, Baidu BD-09); converted to WGS-84.
    category_col, name_col, lon_col, lat_col : str, optional
        Column names; detected when omitted (``lon``/``lng``/``经度``/``wgs84_lon``...).
        The category column may hold taxonomy keys, Chinese or English labels,
        or other spellings from the taxonomy (``healthcare``, ``hospital``, ``养老院``).
    sheet : str or int, optional
        Excel sheet (default: the first).
    source : str
        ``source`` for rows without a valid ``source`` column (default ``official``).

    Raises
    ------
    InputError
        Unreadable file, no coordinate or category column, coordinates outside
        China, unknown category or status values.
    """
    p = require_file(path)
    datum_key = normalize_datum(datum)
    df = read_table(p, sheet)
    if not len(df):
        raise InputError("表格没有数据行。", "the table has no rows.", p)
    cols = [c for c in df.columns if c != "geometry"]

    # category
    ccol = category_col or find_column(cols, CATEGORY_NAMES, fuzzy=r"categor|类别|类型")
    if ccol is None or ccol not in df.columns:
        raise InputError(f"找不到设施类别列（现有列：{', '.join(map(str, cols))}）。请用 category 列或指定类别列。",
                         f"no facility category column (columns: {', '.join(map(str, cols))}); add a 'category' column or name it.", p)
    lookup = category_lookup()
    raw_cat = df[ccol].astype(object).where(df[ccol].notna(), "").astype(str).str.strip()
    cat = raw_cat.map(lambda v: lookup.get(norm_key(v)))
    bad = sorted(set(raw_cat[cat.isna()]))
    if bad:
        raise InputError(f"类别列“{ccol}”有无法识别的值：{', '.join(repr(b) for b in bad[:10])}。可用类别：{', '.join(CATEGORIES)}。",
                         f"unknown values in category column '{ccol}': {', '.join(repr(b) for b in bad[:10])}; "
                         f"use one of {', '.join(CATEGORIES)}.", p)

    # coordinates
    xcol = lon_col or find_column(cols, LON_NAMES, fuzzy=r"lon|lng|经度")
    ycol = lat_col or find_column(cols, LAT_NAMES, fuzzy=r"lat|纬度")
    has_geom = isinstance(df, gpd.GeoDataFrame) and df.geometry.notna().any()
    # a layer of polygons (parks, proposed parcels in sites.gpkg) keeps them even when it also has lon/lat columns
    has_area = has_geom and bool((df.geometry.notna() & ~df.geometry.geom_type.isin(["Point", "MultiPoint"])).any())
    if xcol in df.columns and ycol in df.columns and not has_area:
        lon, lat = parse_coordinates(df[xcol]), parse_coordinates(df[ycol])
        geoms = None
    elif has_geom:
        g = as_wgs84(df)
        geoms = g.geometry.values
        rep = g.geometry.representative_point()
        lon = np.where(g.geometry.notna(), rep.x, np.nan)
        lat = np.where(g.geometry.notna(), rep.y, np.nan)
    else:
        raise InputError(f"找不到经纬度列（现有列：{', '.join(map(str, cols))}）。请提供 lon/lat（或 经度/纬度）列。",
                         f"no longitude/latitude columns (columns: {', '.join(map(str, cols))}); add lon/lat columns or name them.", p)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if "match_status" in df.columns:  # `lifecircle geocode` output: approximate/ambiguous rows are no facilities
        placed = df["match_status"].astype(str).isin(["matched", "manual"]).to_numpy()
        lon, lat, ok = np.where(placed, lon, np.nan), np.where(placed, lat, np.nan), ok & placed
    outside = ok & ~in_china(lon, lat)
    if outside.any():
        rows = np.flatnonzero(outside)
        eg = rows[0]
        swapped = bool(in_china(lat[eg], lon[eg]))
        metres = abs(lon[eg]) > 180 or abs(lat[eg]) > 90
        hint_zh = "（经纬度可能填反了）" if swapped else "（看起来是投影坐标（米），请提供经纬度（度））" if metres else ""
        hint_en = (" (longitude and latitude look swapped)" if swapped else
                   " (they look like projected metres; give longitude/latitude in degrees)" if metres else "")
        raise InputError(f"{len(rows)} 行坐标不在中国范围内，例如第 {eg + 2} 行（{lon[eg]}, {lat[eg]}）{hint_zh}。",
                         f"{len(rows)} rows have coordinates outside China, e.g. row {eg + 2} ({lon[eg]}, {lat[eg]}){hint_en}.", p)
    warnings = []
    if (~ok).any():
        n = int((~ok).sum())
        warnings.append(warn(f"{p.name}：{n} 行没有坐标，已跳过。", f"{p.name}: skipped {n} rows without coordinates."))
    if datum_key != "wgs84" and geoms is None:
        lon, lat = to_wgs84(lon, lat, datum_key)
    elif datum_key != "wgs84":
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], datum_key)))
    if geoms is None:
        geoms = shapely.points(np.where(ok, lon, np.nan), np.where(ok, lat, np.nan))
        geoms = np.where(ok, geoms, None)

    # name, status, source, id
    ncol = name_col or find_column(cols, NAME_NAMES)
    names = df[ncol].astype(object).where(df[ncol].notna(), "").astype(str).str.strip() if ncol else pd.Series("", index=df.index)
    scol = find_column(cols, STATUS_NAMES, fuzzy=r"status|状态")
    if scol is not None:
        slook = status_lookup()
        raw_st = df[scol].astype(object).where(df[scol].notna(), "existing").astype(str).str.strip()
        status = raw_st.map(lambda v: slook.get(norm_key(v or "existing")))
        bad = sorted(set(raw_st[status.isna()]))
        if bad:
            raise InputError(f"状态列“{scol}”有无法识别的值：{', '.join(map(repr, bad[:10]))}（可用：{', '.join(STATUSES)}）。",
                             f"unknown values in status column '{scol}': {', '.join(map(repr, bad[:10]))} (use {', '.join(STATUSES)}).", p)
    else:
        status = pd.Series("existing", index=df.index)
    if "match_status" in df.columns:  # `lifecircle geocode` output: its `source` column is the text file
        src: pd.Series = pd.Series(np.where(df["match_status"].astype(str) == "manual", "manual", "text"), index=df.index)
    elif "source" in df.columns:
        src = df["source"].astype(object).where(df["source"].isin(list(SOURCES)), source).astype(str)
    else:
        src = pd.Series(source, index=df.index)
    icol = find_column(cols, ID_NAMES)
    ids = []
    for i, (s, v) in enumerate(zip(src, df[icol] if icol else [None] * len(df))):
        v = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        ids.append(v if re.match(r"^[a-z]+:", v) else f"{s}:{v}" if v else f"{s}:{p.stem}:{i + 2}")
    detail = [f"{p.name} {ccol}={r}" + (f" match_status={m}" if m is not None else "")
              for r, m in zip(raw_cat, df["match_status"] if "match_status" in df.columns else [None] * len(df))]
    out = gpd.GeoDataFrame({
        "facility_id": ids, "name": names.to_numpy(), "category": cat.to_numpy(), "status": status.to_numpy(),
        "source": src.to_numpy(), "source_detail": detail,
    }, geometry=gpd.GeoSeries(list(geoms), crs=WGS84).values, crs=WGS84)
    out = out[ok].reset_index(drop=True)
    return _add_warnings(normalize_facilities(out), warnings)


def require_facilities(gdf: gpd.GeoDataFrame, path: str | Path) -> gpd.GeoDataFrame:
    """``gdf``, or InputError when a facility file yielded no facility at all.

    E.g. every coordinate is missing or not a number, or an OSM extract has
    none near the network. The CLI and the app refuse such a file alike.
    """
    if len(gdf) == 0:
        raise InputError("文件中没有可用的设施：没有一行同时有类别和有效的数字经纬度（OSM 文件：路网附近没有设施）。",
                         "no usable facility in the file: no row has both a category and valid numeric "
                         "longitude/latitude (OSM files: none near the network).", Path(path).name)
    return gdf


# --------------------------------------------------------------------------- dispatch
def is_geofabrik(p: Path) -> bool:
    if p.is_dir():
        return any((p / f"{layer}.shp").exists() for layer in GEOFABRIK_LAYERS)
    return p.name.startswith("gis_osm_") or p.name == GEOFABRIK_GREEN


def read_facilities(path: str | Path, mask=None, **table_opts) -> gpd.GeoDataFrame:
    """Facilities from any supported input, chosen by what ``path`` is.

    A Geofabrik folder or layer → :func:`from_geofabrik`; an OSM XML/PBF file →
    :func:`from_osm_file`; anything else → :func:`read_facility_table`
    (``table_opts`` are passed on). ``mask`` applies to the OSM sources.
    """
    p = require_file(path)
    if is_geofabrik(p):
        return from_geofabrik(p, mask=mask)
    if p.is_dir():
        raise InputError("文件夹不是 Geofabrik 数据（缺少 gis_osm_pois_free_1.shp）。",
                         "the folder is not a Geofabrik extract (no gis_osm_pois_free_1.shp).", p)
    name = p.name.lower()
    if p.suffix.lower() in OSM_SUFFIXES and (name.endswith((".osm", ".pbf", ".xml")) or ".osm." in name):
        return from_osm_file(p, mask=mask)
    return read_facility_table(p, **table_opts)


# --------------------------------------------------------------------------- merging
def combine(*gdfs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Concatenate facility layers (each normalised to the schema); warnings are merged."""
    parts = [normalize_facilities(g) for g in gdfs if g is not None and len(g)]
    warnings = [w for g in gdfs if g is not None for w in g.attrs.get("warnings", [])]
    if not parts:
        out = empty_facilities()
    else:
        out = pd.concat(parts, ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)
    out.attrs["warnings"] = warnings
    return out


def _similar_names(a: str, b: str, min_ratio: float = 80.0) -> bool:
    a, b = clean_name(a), clean_name(b)
    if not a or not b:
        return False
    if a == b or fuzz.ratio(a, b) >= min_ratio:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and short in long_


def _osm_number(fid: str) -> str | None:
    m = re.match(r"^osm:(?:[a-z]+/)?(\d+)$", str(fid))
    return m.group(1) if m else None


_SOURCE_RANK = {s: i for i, s in enumerate(("osm", "official", "manual", "text"))}
_STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}  # existing, upgrading, building, planned


MAX_DEDUPE_PAIRS = 2_000_000  # distinct same-category features within the radius of each other
_PAIRS_PER_QUERY = 4_000_000  # bounds the memory of one spatial-index query (chunk size x rows)


def _near_pairs(geoms: np.ndarray, cat: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``i < j`` of the same category within ``radius_m`` (metric geometries).

    The spatial index is queried in chunks so that one query never holds more
    than about :data:`_PAIRS_PER_QUERY` pairs; more than :data:`MAX_DEDUPE_PAIRS`
    pairs in all (tens of thousands of distinct features piled on one spot) is
    an :class:`InputError`, not gigabytes of memory.
    """
    tree = shapely.STRtree(geoms)
    n = len(geoms)
    step = max(1, _PAIRS_PER_QUERY // max(n, 1))
    lefts, rights, total = [], [], 0
    for a in range(0, n, step):
        left, right = tree.query(geoms[a:a + step], predicate="dwithin", distance=radius_m)
        left = left + a
        m = (left < right) & (cat[left] == cat[right])
        left, right = left[m], right[m]
        total += len(left)
        if total > MAX_DEDUPE_PAIRS:
            raise InputError(f"设施过于密集：超过 {MAX_DEDUPE_PAIRS:,} 对同类设施相距不足 {radius_m:g} 米"
                             "（坐标可能全部相同或有误）。请检查坐标。",
                             f"too many facilities on top of each other: over {MAX_DEDUPE_PAIRS:,} pairs of one "
                             f"category lie within {radius_m:g} m (are the coordinates all the same or wrong?).")
        lefts.append(left)
        rights.append(right)
    if not lefts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(lefts).astype(np.int64), np.concatenate(rights).astype(np.int64)


def dedupe(gdf: gpd.GeoDataFrame, radius_m: float = 50.0, *, min_iou: float = 0.8) -> gpd.GeoDataFrame:
    """Merge features that are the same place, keeping which sources saw it.

    Two features of the same category are the same place when they lie within
    ``radius_m`` of each other and either carry the same OSM id, have similar
    names (rapidfuzz ratio ≥ 80, or one name contains the other), or are
    polygons overlapping with intersection-over-union ≥ ``min_iou``. Each group
    keeps one row: a polygon over a point, then OSM over other sources; a
    missing name is filled from the others, polygons of one group are united
    (a park mapped in several parts keeps all its area), the status is the most "existing"
    one, ``sources`` lists every source (``osm;official``) and
    ``source_detail`` names the merged ids.

    Time and memory are near-linear: identical rows (same category, name, OSM
    id and geometry) are compared once, the candidate pairs come from a
    spatial index, exact matches are joined before the fuzzy name test, and
    pairs already in one group are not compared again.

    Raises
    ------
    InputError
        More than :data:`MAX_DEDUPE_PAIRS` distinct same-category features
        within ``radius_m`` of each other (coordinates piled on one spot).
    """
    gdf = normalize_facilities(gdf)
    n = len(gdf)
    if n < 2:
        out = gdf.assign(sources=gdf["source"])
        return out
    metric = gdf.to_crs(METRIC_CRS)
    geoms_all = metric.geometry.values
    names_all = gdf["name"].to_numpy()
    clean_all = np.array([clean_name(x) for x in names_all], dtype=object)
    ids_all = np.array([_osm_number(f) or "" for f in gdf["facility_id"]], dtype=object)
    cat_all = gdf["category"].to_numpy()
    wkb = shapely.to_wkb(geoms_all, hex=True)
    # identical rows behave identically towards every other row: compare each kind once
    key = pd.Series(cat_all, dtype=object) + "\x1f" + clean_all + "\x1f" + ids_all + "\x1f" + pd.Series(wkb, dtype=object)
    kind = pd.factorize(key)[0]
    first = pd.Series(np.arange(n)).groupby(kind).first().to_numpy()  # representative row of each kind
    mult = np.bincount(kind)
    geoms = geoms_all[first]
    cat = cat_all[first]
    clean = clean_all[first]
    ids = ids_all[first]
    is_poly_k = np.isin(shapely.get_type_id(geoms), [3, 6])
    left, right = _near_pairs(geoms, cat, radius_m)
    k = len(first)
    # exact links first (same OSM id, same cleaned name), vectorised
    exact = ((ids[left] != "") & (ids[left] == ids[right])) | ((clean[left] != "") & (clean[left] == clean[right]))
    comp = connected_components(coo_matrix((np.ones(int(exact.sum())), (left[exact], right[exact])), shape=(k, k)),
                                directed=False)[1]
    todo = np.flatnonzero(~exact & (comp[left] != comp[right]))
    fuzzy = np.zeros(len(left), bool)
    for t in todo:
        i, j = left[t], right[t]
        if _similar_names(names_all[first[i]], names_all[first[j]]):
            fuzzy[t] = True
        elif is_poly_k[i] and is_poly_k[j]:
            inter = shapely.area(shapely.intersection(geoms[i], geoms[j]))
            union = shapely.area(shapely.union(geoms[i], geoms[j]))
            fuzzy[t] = union > 0 and inter / union >= min_iou
    linked = exact | fuzzy
    # back to rows: a kind's rows are one place when the kind links to any other, or is the same place as itself
    has_link = np.zeros(k, bool)
    has_link[left[linked]] = True
    has_link[right[linked]] = True
    self_same = (ids != "") | (clean != "") | (is_poly_k & (shapely.area(geoms) > 0))
    rows_l = [first[left[linked]]]
    rows_r = [first[right[linked]]]
    joined = (has_link | self_same)[kind] & (mult[kind] > 1)
    rows_l.append(np.flatnonzero(joined))
    rows_r.append(first[kind[joined]])
    rl, rr = np.concatenate(rows_l), np.concatenate(rows_r)
    _, group = connected_components(coo_matrix((np.ones(len(rl)), (rl, rr)), shape=(n, n)), directed=False)
    return _merge_groups(gdf, group)


def _merge_groups(gdf: gpd.GeoDataFrame, group: np.ndarray) -> gpd.GeoDataFrame:
    """One row per group (see :func:`dedupe`); single-row groups are kept as they are."""
    n = len(gdf)
    is_poly = np.isin(shapely.get_type_id(gdf.geometry.values), [3, 6])
    source = gdf["source"].to_numpy()
    src_rank = np.array([_SOURCE_RANK.get(s, 9) for s in source])
    order = np.lexsort((np.arange(n), src_rank, ~is_poly, group))  # best member first within each group
    g_sorted = group[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    best = order[starts]  # groups in label order (= order of their first row)
    out = gdf.iloc[best].copy()
    out["sources"] = source[best]
    sizes = np.diff(np.r_[starts, n])
    names, status = gdf["name"].to_numpy(), gdf["status"].to_numpy()
    fids, details = gdf["facility_id"].to_numpy(), gdf["source_detail"].to_numpy()
    geoms_wgs = gdf.geometry.values
    col = {c: out.columns.get_loc(c) for c in ("name", "status", "sources", "source_detail", "geometry")}
    for pos in np.flatnonzero(sizes > 1):
        members = order[starts[pos]:starts[pos] + sizes[pos]]
        b = members[0]
        if not names[b]:
            out.iat[pos, col["name"]] = next((names[i] for i in members if names[i]), "")
        out.iat[pos, col["status"]] = min((status[i] for i in members), key=lambda s: _STATUS_RANK.get(s, 9))
        srcs = sorted({source[i] for i in members}, key=lambda s: _SOURCE_RANK.get(s, 9))
        out.iat[pos, col["sources"]] = ";".join(srcs)
        polys = [geoms_wgs[i] for i in members if is_poly[i]]
        if len(polys) > 1:  # parts of one park mapped as several polygons: keep all of its area
            out.iat[pos, col["geometry"]] = shapely.union_all(polys)
        others = [fids[i] for i in members if i != b]
        out.iat[pos, col["source_detail"]] = f"{details[b]}; merged {', '.join(others)}".strip("; ")
    out = gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=WGS84)
    out.attrs = dict(gdf.attrs)
    return normalize_facilities(out)


def filter_scenario(gdf: gpd.GeoDataFrame, include_planned: bool) -> gpd.GeoDataFrame:
    """The facilities of a scenario (:data:`geo.categories.SCENARIO_STATUSES`).

    After the plan (``include_planned``): every facility, also those under
    construction (``building``) and ``planned``. Before the plan: what stands
    today, ``existing`` and ``upgrading`` (a site being upgraded serves before
    and after); ``building`` and ``planned`` ones are left out.
    """
    if include_planned:
        return gdf
    out = gdf[gdf["status"].isin(SCENARIO_STATUSES["before"])]
    out.attrs = dict(gdf.attrs)
    return out
