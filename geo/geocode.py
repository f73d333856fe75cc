"""Geocoding facility mentions against OSM, a corrections file, and the planned-scenario switch.

A mention (one row of ``geo.texts.extract_files``: ``name, category, status,
count, district, subdistrict, source, sentence``) is matched to an OSM feature
by name (``name``, ``name:zh``, ``alt_name``, ``official_name``,
``old_name``), category (the taxonomy in :mod:`geo.categories`: the
candidate's OSM class and the keyword head of its name) and place (the
mention's district polygon, preferring its subdistrict). Nothing is forced:

- a mention without a name (a counted mention, "新建3处睦邻点") is ``not_applicable``;
- a planned facility only matches on a (near-)exact name, and branch words
  (分馆, 分院, 新馆 ...) must agree on both sides;
- two distinct candidates scoring alike make the row ``ambiguous`` (top 3 listed).

Manual fixes go to a small corrections file keyed by :func:`mention_key`
(:func:`save_correction`); :func:`apply_corrections` re-applies them on every
run so no manual work is lost. :func:`to_facilities` turns the result into
the Facilities schema of ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rapidfuzz import fuzz, process

from .categories import CATEGORIES, category_for_fclass, category_for_tags, osmnx_tags
from .errors import InputError
from .i18n import MATCH_STATUSES, match_label
from .io import METRIC_CRS, WGS84, as_wgs84, atomic_file, require_file, to_csv_bom
from .names import clean_name, nfkc, strip_punct
from .workspace import CORRECTION_COLUMNS, read_corrections, read_csv_text, reject_binary, save_correction

__all__ = [
    "MATCH_COLUMNS",
    "CORRECTION_COLUMNS",
    "normalize_name",
    "name_category",
    "mention_key",
    "load_candidates",
    "candidates_online",
    "geocode_mentions",
    "apply_corrections",
    "save_correction",
    "read_corrections",
    "to_facilities",
    "bilingual_reason",
    "scenario",
    "write_geocoded",
    "cli_geocode",
]


MENTION_COLUMNS = ["name", "category", "status", "count", "district", "subdistrict", "source", "sentence"]
MATCH_COLUMNS = ["mention_key", "match_status", "match_score", "osm_id", "osm_type", "osm_name", "lon", "lat",
                 "reason", "candidates"]
NAME_TAGS = ("name", "name:zh", "alt_name", "official_name", "old_name")
CANDIDATE_COLUMNS = ["candidate_id", "osm_id", "osm_type", *NAME_TAGS, "category", "fclass", "source_file", "geometry"]

_BRANCH = re.compile(r"分馆|分院|新馆|分中心|分部|分店|分园|分校|院区|校区|东馆|西馆|南馆|北馆|新院|二期|三期|一期")
_ADMIN_SUFFIX = re.compile(r"(街道办事处|街道|新区|地区|镇|乡|区|县|市)$")
_KEYWORDS: tuple[tuple[str, str], ...] = tuple(sorted(((k, c.key) for c in CATEGORIES.values() for k in c.keywords),
                                                      key=lambda kc: -len(kc[0])))
_KEYWORD_SET = frozenset(k for k, _ in _KEYWORDS)
_KEYWORD_CAT = dict(reversed(_KEYWORDS))  # a word listed in two categories keeps its first (longest-first order)
# reversed names and keywords: the leftmost hit in the reversed name is the keyword ending last, longest first
_HEAD_RE = re.compile("|".join(re.escape(k[::-1]) for k, _ in _KEYWORDS))
_GENERIC_PREFIX = re.compile(r"^(社区|街道|区|市|本区|全区|各|新建|新)?")


# --------------------------------------------------------------------------- names
def _branch_words(name: str) -> frozenset[str]:
    """Branch markers (分馆, 分院, 新馆, 院区 ...), brackets included: they must agree on both sides."""
    return frozenset(_BRANCH.findall(strip_punct(name)))


def normalize_name(name: object, *, district: str = "", districts: Iterable[str] = ()) -> tuple[str, str]:
    """The two comparable forms of a facility name.

    NFKC, no brackets (``（杨浦店）``), no spaces or punctuation, no ``上海市``
    prefix; a leading ``区`` (as in ``区图书馆``) becomes the mention's district.

    Returns
    -------
    full, short : str
        ``full`` keeps district prefixes (``杨浦区图书馆``); ``short`` also drops
        ``上海``/district prefixes (``图书馆``). ``short`` is ``''`` when it is only
        a category word, so generic names never match on it.
    """
    s = clean_name(name)
    s = re.sub(r"^上海市", "", s)
    if district and s.startswith("区") and not s.startswith(tuple(districts)):
        s = district + s[1:]
    full = s
    short = re.sub(r"^上海", "", s)
    for d in sorted({d for d in districts if d}, key=len, reverse=True):
        if short.startswith(d):
            short = short[len(d):]
            break
    if short.startswith("区"):
        short = short[1:]
    if _is_generic(short):
        short = ""
    return full, short


def _is_generic(s: str) -> bool:
    rest = _GENERIC_PREFIX.sub("", s, count=1)
    return len(rest) < 2 or rest in _KEYWORD_SET


def name_category(name: object) -> str | None:
    """Taxonomy key of the keyword that heads a name (the one ending last, longest first), or None.

    >>> name_category("杨浦区图书馆滨江分馆")
    'culture'
    """
    head = _head(strip_punct(name))
    return _KEYWORD_CAT[head[1]] if head else None


def _head(s: str) -> tuple[int, str] | None:
    """Start and text of the category keyword ending last in ``s`` (longest of those), or None."""
    m = _HEAD_RE.search(s[::-1])
    if m is None:
        return None
    kw = m.group(0)[::-1]
    return len(s) - m.end(), kw


def _stem(form: str) -> str:
    """A normalised name without its category head word (``延吉社区文化活动中心`` → ``延吉``)."""
    head = _head(form)
    stem = form if head is None else form[:head[0]] + form[head[0] + len(head[1]):]
    return stem if len(stem) >= 2 else ""


def _score_matrix(full: Sequence[str], short: Sequence[str], var_full: Sequence[str],
                  var_short: Sequence[str]) -> np.ndarray:
    """Name scores (0-100) of every mention x candidate name variant.

    ``fuzz.ratio`` of the full forms (or of the short forms, when both have
    one), scaled by how well each side's distinctive stem (the name without
    its category word) is found in the other (``fuzz.partial_ratio``,
    character-wise, no tokenising): the shared 当代艺术馆 does not make
    敦煌当代艺术馆 score high against 上海当代艺术馆, nor 新江湾城公园
    against 新江湾城滑板公园.
    """
    if not len(full) or not len(var_full):
        return np.zeros((len(full), len(var_full)), np.float32)
    kw: dict[str, Any] = {"dtype": np.float32, "workers": -1}
    score = process.cdist(full, var_full, scorer=fuzz.ratio, **kw)
    score[np.array([not f for f in full])] = 0.0
    r_short = process.cdist(short, var_short, scorer=fuzz.ratio, **kw)
    r_short[np.array([not s for s in short])] = 0.0
    r_short[:, np.array([not s for s in var_short])] = 0.0
    score = np.maximum(score, r_short)
    stems = [_stem(s or f) for f, s in zip(full, short)]
    cover = process.cdist(stems, var_full, scorer=fuzz.partial_ratio, **kw)
    cover[np.array([not s for s in stems])] = 100.0
    var_stems = [_stem(s or f) for f, s in zip(var_full, var_short)]
    cover_c = process.cdist(full, var_stems, scorer=fuzz.partial_ratio, **kw)
    cover_c[:, np.array([not s for s in var_stems])] = 100.0
    return score * (0.5 + 0.5 * np.minimum(cover, cover_c) / 100.0)


def mention_key(row: Mapping) -> str:
    """Stable key of a mention for the corrections file: ``<source file>|<name>|<category>``.

    Counted mentions (no name) use a hash of their sentence instead of the name.
    """
    src = Path(nfkc(row.get("source", ""))).name
    name = nfkc(row.get("name", ""))
    if not name:
        name = "#" + hashlib.sha1(nfkc(row.get("sentence", "")).encode("utf-8")).hexdigest()[:10]
    return f"{src}|{name}|{nfkc(row.get('category', ''))}"


# --------------------------------------------------------------------------- candidates
def _empty_candidates() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in CANDIDATE_COLUMNS[:-1]},
                            geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def _finish_candidates(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return _empty_candidates()
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=WGS84)
    for c in CANDIDATE_COLUMNS[:-1]:
        if c not in out.columns:
            out[c] = ""
        out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
    has_name = np.zeros(len(out), bool)
    for t in NAME_TAGS:
        has_name |= out[t].str.strip().ne("").to_numpy()
    out = out[has_name & out.geometry.notna().to_numpy()]
    # a POI polygon that is also a green area, or the same feature from two inputs: keep the first
    out = out.drop_duplicates(subset="candidate_id").reset_index(drop=True)
    return out[CANDIDATE_COLUMNS + [c for c in out.columns if c not in CANDIDATE_COLUMNS]]


def _read_geofabrik(path: Path, mask) -> list[gpd.GeoDataFrame]:
    from .facilities import geofabrik_files  # the one place that knows the Geofabrik layer names

    parts = []
    for f in geofabrik_files(path):
        try:
            gdf = gpd.read_file(f, engine="pyogrio", mask=mask)
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"无法读取 OSM 图层（{first}）。", f"cannot read the OSM layer ({first}).", f) from None
        if not len(gdf):
            continue
        if gdf.crs is None:
            raise InputError("文件没有坐标参考系（CRS）。", "the file has no coordinate reference system (CRS).", f)
        if "name" not in gdf.columns or "osm_id" not in gdf.columns:
            raise InputError("图层缺少 osm_id 或 name 列，不是 Geofabrik 数据。",
                             "the layer has no osm_id or name column; not a Geofabrik layer.", f)
        gdf = gdf.to_crs(WGS84)
        fclass = gdf["fclass"].astype(object).fillna("").astype(str) if "fclass" in gdf.columns else pd.Series("", index=gdf.index)
        is_point = gdf.geom_type.eq("Point").to_numpy()
        osm_type = np.where(is_point, "node", "area")
        osm_id = gdf["osm_id"].astype(str).to_numpy()
        frame = {"candidate_id": [f"osm:{t}/{i}" for t, i in zip(osm_type, osm_id)], "osm_id": osm_id,
                 "osm_type": osm_type, "category": [category_for_fclass(v) or "" for v in fclass],
                 "fclass": fclass.to_numpy(), "source_file": f.name}
        for t in NAME_TAGS:
            col = t.replace(":", "_")
            frame[t] = gdf[t].to_numpy() if t in gdf.columns else gdf[col].to_numpy() if col in gdf.columns else ""
        parts.append(gpd.GeoDataFrame(frame, geometry=gdf.geometry.values, crs=WGS84))
    return parts


def _candidates_from_features(feats: gpd.GeoDataFrame | None, source_file: str) -> gpd.GeoDataFrame:
    """Candidates from OSM features with tag columns (``geo.osm.read_osm_features`` or osmnx ``features_*``)."""
    if feats is None or not len(feats):
        return _empty_candidates()
    from .facilities import osm_ids  # (element, id) index or element/id columns -> "type/id"

    feats = as_wgs84(feats)
    tag_cols = [c for c in feats.columns if c != feats.geometry.name]
    tags = feats[tag_cols].to_dict("records")
    ids = osm_ids(feats)
    fkeys = ("amenity", "leisure", "tourism", "healthcare", "shop", "office", "social_facility", "landuse")

    def fclass(t: dict) -> str:
        return ";".join(f"{k}={t[k]}" for k in fkeys if isinstance(t.get(k), str) and t[k])

    frame = {"candidate_id": [f"osm:{i}" for i in ids], "osm_type": [i.split("/")[0] for i in ids],
             "osm_id": [i.split("/")[-1] for i in ids],
             "category": [category_for_tags(t) or "" for t in tags], "fclass": [fclass(t) for t in tags],
             "source_file": source_file}
    for t in NAME_TAGS:
        frame[t] = [v if isinstance(v := row.get(t), str) else "" for row in tags]
    return _finish_candidates([gpd.GeoDataFrame(frame, geometry=feats.geometry.values, crs=feats.crs or WGS84)])


def _candidates_from_table(path: Path) -> gpd.GeoDataFrame:
    from .facilities import read_facility_table

    fac = read_facility_table(path)
    return _finish_candidates([gpd.GeoDataFrame({
        "candidate_id": fac["facility_id"].to_numpy(), "osm_id": fac["facility_id"].to_numpy(), "osm_type": "",
        "name": fac["name"].to_numpy(), "category": fac["category"].to_numpy(), "fclass": "",
        "source_file": path.name}, geometry=fac.geometry.values, crs=WGS84)])


def _mask_of(boundaries) -> shapely.Geometry | None:
    if boundaries is None:
        return None
    frames = _boundary_frames(boundaries)
    return shapely.union_all([g for f in frames for g in f.to_crs(WGS84).geometry.values]) if frames else None


def load_candidates(paths: str | Path | Iterable[str | Path], *, boundaries=None) -> gpd.GeoDataFrame:
    """OSM candidates for matching, with every name tag and the category.

    Parameters
    ----------
    paths : path or list of paths
        Geofabrik folders or layers (all named features, not just facility
        classes), OSM XML/PBF files (via ``geo.osm.read_osm_features``), or
        facility lists (CSV/XLSX/GeoJSON/GPKG via ``geo.facilities.read_facility_table``).
    boundaries : GeoDataFrame, dict or list of GeoDataFrames, optional
        Only features intersecting them are read.

    Returns
    -------
    GeoDataFrame
        ``candidate_id`` (``osm:node/1``, ``osm:area/2``, ``official:P1`` ...),
        ``osm_id, osm_type, name, name:zh, alt_name, official_name, old_name,
        category`` (taxonomy key or ``''``), ``fclass`` (Geofabrik fclass or
        ``key=value`` tags), ``source_file``, geometry (EPSG:4326). Only named features.
    """
    from .facilities import OSM_SUFFIXES, is_geofabrik

    if isinstance(paths, (str, Path)):
        paths = [paths]
    mask = _mask_of(boundaries)
    parts = []
    for path in paths:
        p = require_file(path)
        name = p.name.lower()
        if is_geofabrik(p) or p.suffix.lower() == ".shp":
            parts.extend(_read_geofabrik(p, mask))
        elif p.is_dir():
            raise InputError("文件夹不是 Geofabrik 数据（缺少 gis_osm_pois_free_1.shp）。",
                             "the folder is not a Geofabrik extract (no gis_osm_pois_free_1.shp).", p)
        elif p.suffix.lower() in OSM_SUFFIXES and (name.endswith((".osm", ".pbf", ".xml")) or ".osm." in name):
            from . import osm  # NETWORK's reader

            parts.append(_candidates_from_features(osm.read_osm_features(p, polygon=mask), p.name))
        else:
            reject_binary(p, allowed=(".xlsx", ".xlsm", ".xls", ".gpkg", ".parquet", ".zip", ".fgb"))
            parts.append(_candidates_from_table(p))
    out = _finish_candidates(parts)
    if mask is not None and len(out):
        out = out[out.intersects(mask)].reset_index(drop=True)
    return out


def area_candidates(meta: Mapping, facilities: gpd.GeoDataFrame, *,
                    resolve: Callable[[str], Path] = Path) -> gpd.GeoDataFrame:
    """Geocoding candidates of a prepared area: the POI sources it was prepared from (``area.json``) when
    they are still there, else the area's own facilities."""
    src = ((meta or {}).get("source") or {}).get("inputs") or {}
    paths = [resolve(p) for p in [src.get("geofabrik"), src.get("osm_facilities")] if p]
    paths = [p for p in paths if p.exists()]
    if paths:
        return load_candidates(paths)
    return _candidates_from_features(facilities, "facilities.gpkg")



def candidates_online(names: Iterable[str], polygon, *, nominatim: bool = True,
                      min_score: float = 85.0) -> gpd.GeoDataFrame:
    """Candidates fetched online with osmnx: the taxonomy's tags inside ``polygon`` (Overpass).

    A name with no candidate scoring ``min_score`` among them is looked up on
    its own with Nominatim (``ox.geocode_to_gdf``); hits outside ``polygon`` are dropped.
    """
    import osmnx as ox

    try:
        feats = ox.features_from_polygon(polygon, tags=osmnx_tags())
    except ox._errors.InsufficientResponseError:
        feats = None
    except Exception as exc:  # network errors, Overpass refusals
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"无法从 OSM 在线获取设施（{first}）。", f"cannot fetch facilities from OSM online ({first}).") from None
    cands = _candidates_from_features(feats, "overpass")
    if not nominatim:
        return cands
    found = [n for t in NAME_TAGS for n in cands[t] if n]
    found_norm = [normalize_name(n) for n in found]
    extra = []
    for name in dict.fromkeys(n for n in names if nfkc(n)):
        f, sh = normalize_name(name)
        if found_norm and _score_matrix([f], [sh], *zip(*found_norm)).max() >= min_score:
            continue
        try:
            hit = ox.geocode_to_gdf(name)
        except Exception:  # not found (InsufficientResponseError, TypeError ...) or offline
            continue
        if hit is None or not len(hit):
            continue
        hit = hit[hit.intersects(polygon)]
        if not len(hit):
            continue
        t = [{str(r.get("class", "")): r.get("type", "")} for r in hit.to_dict("records")]
        ids = [f"{r.get('osm_type', '')}/{r.get('osm_id', '')}" for r in hit.to_dict("records")]
        extra.append(gpd.GeoDataFrame({
            "candidate_id": [f"osm:{i}" for i in ids], "osm_type": [i.split("/")[0] for i in ids],
            "osm_id": [i.split("/")[1] for i in ids],
            "name": hit["name"].to_numpy() if "name" in hit.columns else name,
            "category": [category_for_tags(x) or "" for x in t],
            "fclass": [";".join(f"{k}={v}" for k, v in x.items()) for x in t], "source_file": "nominatim",
        }, geometry=hit.geometry.values, crs=hit.crs or WGS84))
    return _finish_candidates([cands, *extra])


# --------------------------------------------------------------------------- boundaries
def _boundary_frames(boundaries) -> list[gpd.GeoDataFrame]:
    if boundaries is None:
        return []
    if isinstance(boundaries, gpd.GeoDataFrame):
        return [boundaries]
    if isinstance(boundaries, Mapping):
        return [b for b in boundaries.values() if b is not None]
    return [b for b in boundaries if b is not None]


def _place_key(name: object) -> str:
    s = strip_punct(name)
    s = re.sub(r"^上海市?", "", s)
    return _ADMIN_SUFFIX.sub("", s) or s


@dataclass
class _Place:
    name: str
    level: str  # "district" or "subdistrict"
    district: str
    geom: shapely.Geometry  # metric


def _gazetteer(boundaries) -> dict[str, _Place]:
    """Normalised place name -> polygon, from district and subdistrict layers of any naming."""
    places: dict[str, _Place] = {}
    frames = _boundary_frames(boundaries)
    if isinstance(boundaries, Mapping):
        levels = [str(k) for k, v in boundaries.items() if v is not None]
    else:
        levels = [""] * len(frames)
    for level, gdf in zip(levels, frames):
        cols = [c for c in gdf.columns if c != gdf.geometry.name]
        ncol = next((c for c in ("subdistrict", "name", "name:zh", "district") if c in cols), None)
        if level.startswith("district") and "district" in cols and "subdistrict" not in cols:
            ncol = "district"
        if ncol is None:
            continue
        g = gdf.to_crs(METRIC_CRS) if gdf.crs is not None else gdf.set_crs(WGS84).to_crs(METRIC_CRS)
        dist_col = g["district"] if "district" in cols and ncol != "district" else pd.Series("", index=g.index)
        for name, dist, geom in zip(g[ncol], dist_col, g.geometry.values):
            name = nfkc(name)
            if not name or geom is None:
                continue
            lvl = level.rstrip("s") if level in ("district", "districts", "subdistrict", "subdistricts") else (
                "district" if re.search(r"(区|县)$", name) and not name.endswith("地区") else "subdistrict")
            key = _place_key(name)
            if key in places:
                places[key].geom = shapely.union(places[key].geom, geom)
            else:
                places[key] = _Place(name, lvl, nfkc(dist), geom)
    return places


# --------------------------------------------------------------------------- matching
def bilingual_reason(zh: Sequence[str], en: Sequence[str]) -> str:
    """The ``reason`` cell of a geocoded row: ``"中文，中文 / english, english"`` (both languages kept).

    Parameters
    ----------
    zh, en : sequence of str
        The parts of the reason in Chinese and in English.
    """
    return "，".join(zh) + " / " + ", ".join(en)


def _natural(osm_id: str) -> tuple:
    return (0, int(osm_id), "") if str(osm_id).isdigit() else (1, 0, str(osm_id))


def _normalize_mentions(mentions: pd.DataFrame) -> pd.DataFrame:
    from .facilities import category_lookup, norm_key, status_lookup

    df = mentions.copy()
    for c in MENTION_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    for c in ("name", "category", "status", "district", "subdistrict", "source", "sentence"):
        df[c] = [nfkc(v) for v in df[c]]
    cats, slook = category_lookup(), status_lookup()
    df["category"] = [v if v in CATEGORIES else cats.get(norm_key(v), v) if v else "" for v in df["category"]]
    df["status"] = [slook.get(norm_key(v), v) if v else "existing" for v in df["status"]]
    return df


@dataclass(frozen=True)
class _CandidateIndex:
    """Candidates prepared once for matching: every name variant and the facts a decision reads."""

    frame: gpd.GeoDataFrame  # CANDIDATE_COLUMNS as str, RangeIndex
    metric: np.ndarray  # geometries in METRIC_CRS
    points: gpd.GeoSeries  # representative points, WGS-84
    var_row: np.ndarray  # candidate row of each name variant
    var_full: list[str]
    var_short: list[str]
    category: np.ndarray  # OSM-derived category key ('' when unknown)
    head: list[str | None]  # category of the name's head keyword
    branch: list[frozenset[str]]  # branch words over all name tags
    osm_id: np.ndarray

    def name(self, i: int) -> str:
        return str(self.frame["name"].iat[i])


@dataclass(frozen=True)
class _Scope:
    """Where a mention is looked for: its district (buffered) or 2 km around its subdistrict, or nowhere."""

    geom: shapely.Geometry | None
    name: str  # e.g. 杨浦区, 殷行街道周边2公里
    sub: _Place | None  # the mention's subdistrict: prefers candidates inside it
    zh: str  # the scope, worded for the reason column
    en: str


class _Scored(NamedTuple):
    """One candidate as judged for one mention."""

    score: float  # name score, less the unknown-category penalty
    in_sub: bool  # inside the mention's subdistrict
    osm_id: str
    cand: int  # candidate row
    excluded: tuple[str, str] | None  # why it cannot match (zh, en), or None
    same_category: bool  # the category was checked and agrees


@dataclass(frozen=True)
class _Decision:
    """The match columns of one mention (:data:`MATCH_COLUMNS` except ``mention_key``)."""

    match_status: str
    reason: str
    match_score: float = np.nan
    osm_id: str = ""
    osm_type: str = ""
    osm_name: str = ""
    lon: float = np.nan
    lat: float = np.nan
    candidates: str = ""


def _candidate_index(candidates: gpd.GeoDataFrame, districts: set[str]) -> _CandidateIndex:
    """Clean the candidate table and list its name variants (``full``/``short`` forms per name tag)."""
    cands = candidates.reset_index(drop=True)
    missing = [c for c in CANDIDATE_COLUMNS[:-1] if c not in cands.columns]
    if missing:
        cands = cands.assign(**{c: "" for c in missing})
    if "candidate_id" in missing:
        cands["candidate_id"] = cands["osm_id"].astype(str)
    for c in CANDIDATE_COLUMNS[:-1]:
        cands[c] = cands[c].astype(object).where(cands[c].notna(), "").astype(str)
    has = len(cands) > 0
    var_row: list[int] = []
    var_full: list[str] = []
    var_short: list[str] = []
    name_rows = list(cands[list(NAME_TAGS)].itertuples(index=False))
    for i, row in enumerate(name_rows):
        for v in dict.fromkeys(x for x in row if x):
            f, s = normalize_name(v, districts=districts)
            var_row.append(i)
            var_full.append(f)
            var_short.append(s)
    return _CandidateIndex(
        frame=cands,
        metric=cands.to_crs(METRIC_CRS).geometry.values if has else np.array([], object),
        points=cands.geometry.representative_point() if has else gpd.GeoSeries([], crs=WGS84),
        var_row=np.asarray(var_row, int), var_full=var_full, var_short=var_short,
        category=cands["category"].to_numpy() if has else np.array([], object),
        head=[name_category(n) for n in cands["name"]] if has else [],
        branch=[_branch_words(" ".join(x for x in row if x)) for row in name_rows],
        osm_id=cands["osm_id"].astype(str).to_numpy() if has else np.array([], object))


def _prefix_districts(places: Mapping[str, _Place], mention_districts: Iterable[str]) -> set[str]:
    """District names used as name prefixes (from the boundaries and the mentions), full forms only.

    杨浦公园 keeps its 杨浦: only ``…区``/``…县`` are stripped.
    """
    names = {p.name for p in places.values() if p.level == "district"} | {d for d in mention_districts if d}
    return {d for d in names if d.endswith(("区", "县"))}


def _name_hits(forms: Sequence[tuple[str, str]], index: _CandidateIndex,
               chunk: int = 256) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per mention: candidate rows scoring >= 50 and their scores (best name variant per candidate).

    Batched: every mention x every candidate name variant, ``chunk`` mentions at a time.
    """
    var_row = index.var_row
    starts = np.flatnonzero(np.r_[True, var_row[1:] != var_row[:-1]]) if len(var_row) else np.zeros(0, int)
    hits: list[tuple[np.ndarray, np.ndarray]] = []
    for lo in range(0, len(forms), chunk):
        part = forms[lo:lo + chunk]
        s_var = _score_matrix([f for f, _ in part], [s for _, s in part], index.var_full, index.var_short)
        best = np.maximum.reduceat(s_var, starts, axis=1) if len(starts) else s_var
        for row_scores in best:
            keep = np.flatnonzero(row_scores >= 50.0)
            hits.append((var_row[starts[keep]] if len(starts) else keep, row_scores[keep].astype(float)))
    return hits


def _scope(row: Mapping[Hashable, Any], places: Mapping[str, _Place], buffer_m: float) -> _Scope:
    """The mention's search area and how the reason words it."""
    sub = places.get(_place_key(row["subdistrict"])) if row["subdistrict"] else None
    dist = places.get(_place_key(row["district"])) if row["district"] else None
    if dist is None and sub is not None and sub.district:
        dist = places.get(_place_key(sub.district))
    if dist is not None:
        return _Scope(shapely.buffer(dist.geom, buffer_m), dist.name, sub, f"位于{dist.name}内", f"inside {dist.name}")
    if sub is not None:
        name = f"{sub.name}周边2公里"
        return _Scope(shapely.buffer(sub.geom, 2000.0), name, sub, f"位于{name}内", f"inside {name}")
    if not places:
        return _Scope(None, "", None, "未限定范围（未提供边界文件）", "not scoped (no boundaries given)")
    where = row["subdistrict"] or row["district"]
    if where:
        return _Scope(None, "", None, f"边界文件中没有“{where}”，未限定范围", f"{where} not in the boundaries, not scoped")
    return _Scope(None, "", None, "文本未注明区/街道，未限定范围", "no district in the text, not scoped")


def _judge(row: Mapping[Hashable, Any], idx: np.ndarray, raw: np.ndarray, scope: _Scope, index: _CandidateIndex,
           unknown_category_penalty: float) -> list[_Scored]:
    """The candidates a mention's name hit, judged on category, branch words and scope; best first.

    The mention may be any category its name or its row names (体育公园: sports and park); the
    candidate its OSM class or its name's head word (金杨文化中心 is amenity=community_centre).
    """
    name = row["name"]
    plain = strip_punct(name)
    m_cats = {c for c in (row["category"],) if c in CATEGORIES} | {c for kw, c in _KEYWORDS if kw in plain}
    m_branch = _branch_words(name)
    n = len(index.frame)
    in_scope = np.ones(n, bool)
    if scope.geom is not None and len(idx):
        in_scope[idx] = shapely.intersects(index.metric[idx], scope.geom)
    in_sub = np.zeros(n, bool)
    if scope.sub is not None and len(idx):
        in_sub[idx] = shapely.intersects(index.metric[idx], scope.sub.geom)
    judged = []
    for i in idx:
        c_set = {c for c in (index.category[i], index.head[i]) if c}
        score = float(raw[i])
        why = None
        if m_cats and c_set and not (m_cats & c_set):
            why = ("类别不符", "different category")
        elif m_branch != index.branch[i]:
            why = ("分馆/分院等分支名称不一致", "branch words differ")
        elif not in_scope[i]:
            why = (f"不在{scope.name}内", f"outside {scope.name}")
        if m_cats and not c_set:
            score -= unknown_category_penalty
        judged.append(_Scored(score, bool(in_sub[i]), index.osm_id[i], int(i), why, bool(m_cats & c_set)))
    judged.sort(key=lambda r: (-round(r.score, 6), not r.in_sub, _natural(r.osm_id), r.cand))
    return judged


def _distinct(eligible: list[_Scored], index: _CandidateIndex, duplicate_m: float) -> list[_Scored]:
    """Eligible candidates without near-duplicates (same normalised name within ``duplicate_m``): one place."""
    distinct: list[_Scored] = []
    for r in eligible:
        same = any(normalize_name(index.name(r.cand))[0] == normalize_name(index.name(d.cand))[0]
                   and shapely.distance(index.metric[r.cand], index.metric[d.cand]) <= duplicate_m
                   for d in distinct)
        if not same:
            distinct.append(r)
    return distinct


def _unmatched(judged: list[_Scored], scope: _Scope, planned: bool, index: _CandidateIndex) -> _Decision:
    """No candidate qualifies: say so, with the nearest miss and why it was left out."""
    zh = ["OSM 中未找到名称相符的设施"]
    en = ["no OSM feature with a matching name"]
    if planned:
        zh.append("规划或在建设施仅在名称几乎完全一致时匹配")
        en.append("planned facility (or one under construction): only a near-exact name matches")
    near = next((r for r in judged if r.score >= 60.0), None)
    if near is not None:
        nm = index.name(near.cand)
        why = near.excluded or ("得分不足", "score too low")
        zh.append(f"最接近的“{nm}”（{near.osm_id}，得分 {near.score:.0f}）{why[0]}")
        en.append(f"nearest '{nm}' ({near.osm_id}, score {near.score:.0f}): {why[1]}")
    zh.append(f"已在{scope.name}内查找" if scope.geom is not None else scope.zh)
    en.append(f"searched inside {scope.name}" if scope.geom is not None else scope.en)
    return _Decision("unmatched", bilingual_reason(zh, en))


def _choose(distinct: list[_Scored], scope: _Scope, raw: np.ndarray, index: _CandidateIndex,
            ambiguous_margin: float) -> _Decision:
    """``matched`` to the best distinct candidate, or ``ambiguous`` when others score within the margin."""
    best = distinct[0]
    close = [r for r in distinct[1:] if best.score - r.score < ambiguous_margin]
    if close and scope.sub is not None:  # the mention's own subdistrict decides between near-equals
        inside = [r for r in [best, *close] if r.in_sub]
        if len(inside) == 1:
            best, close = inside[0], []
    if close:
        top = [best, *close]
        return _Decision("ambiguous", bilingual_reason([f"{len(top)} 个候选得分接近，请人工确认", scope.zh],
                                          [f"{len(top)} candidates score alike; confirm by hand", scope.en]),
                         match_score=round(best.score, 1),
                         candidates="; ".join(f"{index.name(r.cand)} ({r.osm_id}, {r.score:.0f})" for r in top[:3]))
    i = best.cand
    exact = raw[i] >= 100
    zh = ["名称完全一致" if exact else f"名称相近（得分 {raw[i]:.0f}）",
          "类别相符" if best.same_category else "类别无法核对"]
    en = ["exact name" if exact else f"similar name (score {raw[i]:.0f})",
          "same category" if best.same_category else "category could not be checked"]
    if best.in_sub and scope.sub is not None:
        zh.append(f"位于{scope.sub.name}内")
        en.append(f"inside {scope.sub.name}")
    else:
        zh.append(scope.zh)
        en.append(scope.en)
    pt = index.points.iat[i]
    return _Decision("matched", bilingual_reason(zh, en), match_score=round(best.score, 1), osm_id=index.osm_id[i],
                     osm_type=str(index.frame["osm_type"].iat[i]), osm_name=index.name(i),
                     lon=float(pt.x), lat=float(pt.y))


def geocode_mentions(mentions: pd.DataFrame, candidates: gpd.GeoDataFrame, *, boundaries=None,
                     min_score: float = 85.0, planned_min_score: float = 95.0, ambiguous_margin: float = 5.0,
                     unknown_category_penalty: float = 15.0, scope_buffer_m: float = 200.0,
                     duplicate_m: float = 300.0) -> pd.DataFrame:
    """Match facility mentions to OSM candidates.

    Parameters
    ----------
    mentions : DataFrame
        ``name, category, status, district, subdistrict, source, sentence`` (missing columns are empty).
    candidates : GeoDataFrame
        From :func:`load_candidates` or :func:`candidates_online`.
    boundaries : GeoDataFrame, dict or list, optional
        District and/or subdistrict polygons (``{"district": gdf, "subdistrict": gdf}``,
        or layers whose names end in 区/县 for districts). A mention is matched
        inside its district (``scope_buffer_m`` wider), preferring its subdistrict;
        with only a subdistrict known, within 2 km of it. Without boundaries,
        matching is not scoped (and the reason says so).
    min_score : float
        Lowest name score (0-100) for a match; ``planned_min_score`` for planned facilities.
    ambiguous_margin : float
        Two distinct candidates within this many points make the row ``ambiguous``.
    unknown_category_penalty : float
        Subtracted when the candidate's category cannot be told (neither OSM
        class nor name keyword); a clear category conflict excludes the candidate.

    Returns
    -------
    DataFrame
        The mentions with ``mention_key, match_status`` (``matched``,
        ``ambiguous``, ``unmatched``, ``not_applicable``), ``match_score``,
        ``osm_id, osm_type, osm_name, lon, lat`` (WGS-84), ``reason`` (zh / en)
        and ``candidates`` (top 3 of ambiguous rows).

    Notes
    -----
    The steps: :func:`_candidate_index` (name variants), :func:`_name_hits`
    (batched name scores), then per mention :func:`_scope`, :func:`_judge`
    (category, branch words, scope), :func:`_distinct` (near-duplicates are one
    place) and :func:`_choose` or :func:`_unmatched`.
    """
    df = _normalize_mentions(mentions)
    places = _gazetteer(boundaries)
    districts = _prefix_districts(places, df["district"])
    index = _candidate_index(candidates, districts)
    forms = [normalize_name(nm, district=d, districts=districts) for nm, d in zip(df["name"], df["district"])]
    hits = _name_hits(forms, index)

    decisions: list[_Decision] = []
    for row, (full, short), (idx, vals) in zip(df.to_dict("records"), forms, hits):
        if not row["name"]:
            decisions.append(_Decision("not_applicable", bilingual_reason(["无具体名称（计数类提及），不做匹配"],
                                                             ["no name (counted mention), not geocoded"])))
            continue
        if _is_generic(_GENERIC_PREFIX.sub("", full, count=1)) and not short:
            decisions.append(_Decision("unmatched", bilingual_reason(["名称过于笼统（仅为类别词），不做匹配"],
                                                        ["name is only a category word, not geocoded"])))
            continue
        scope = _scope(row, places, scope_buffer_m)
        raw = np.zeros(len(index.frame))
        raw[idx] = vals
        judged = _judge(row, idx, raw, scope, index, unknown_category_penalty)
        planned = row["status"] in ("planned", "building")  # not there yet: never forced onto a feature
        threshold = planned_min_score if planned else min_score
        distinct = _distinct([r for r in judged if r.excluded is None and r.score >= threshold], index, duplicate_m)
        decisions.append(_choose(distinct, scope, raw, index, ambiguous_margin) if distinct
                         else _unmatched(judged, scope, planned, index))

    res = df.copy()
    res["mention_key"] = [mention_key(row) for row in df.to_dict("records")]
    for c in MATCH_COLUMNS[1:]:
        res[c] = [getattr(d, c) for d in decisions]
    for c in ("match_score", "lon", "lat"):
        res[c] = pd.to_numeric(res[c], errors="coerce")
    return res


# --------------------------------------------------------------------------- corrections
# the corrections file is the planner's: reading and saving it live in geo.workspace


def _candidate_by_osm_id(candidates: gpd.GeoDataFrame | None, osm_id: str, osm_type: str = ""):
    if candidates is None or not len(candidates) or not osm_id:
        return None
    ref = osm_id.split("/")
    typ, oid = (ref[0], ref[1]) if len(ref) == 2 else (osm_type, ref[0])
    hit = candidates[(candidates["osm_id"].astype(str) == oid) | (candidates["candidate_id"].astype(str) == osm_id)]
    if typ and len(hit) > 1:
        hit = hit[hit["osm_type"] == typ] if (hit["osm_type"] == typ).any() else hit
    if not len(hit):
        return None
    hit = hit.assign(_pt=hit.geom_type.eq("Point")).sort_values("_pt", kind="stable")  # polygons first
    return hit.iloc[0]


def apply_corrections(geocoded: pd.DataFrame, corrections_path: str | Path, *,
                      candidates: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Re-apply saved corrections to a geocoded table; corrected rows get ``match_status='manual'``.

    A correction's coordinates win; with only an ``osm_id`` the location comes
    from ``candidates`` (or the row itself when it already matched that id).
    ``name``/``category``/``status`` override the mention's when given. Keys not
    in ``geocoded`` are listed in ``attrs["unused_corrections"]``.
    """
    corr = read_corrections(corrections_path)
    out = geocoded.copy()
    if "mention_key" not in out.columns:
        out["mention_key"] = [mention_key(r) for r in out.to_dict("records")]
    for c in MATCH_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan if c in ("match_score", "lon", "lat") else ""
    for c in ("osm_id", "osm_type", "osm_name", "candidates", "reason", "match_status", "name", "category", "status"):
        if c in out.columns:
            out[c] = out[c].astype(object)
    for c in ("lon", "lat", "match_score"):  # a table read back from CSV may hold them as text
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    used = set()
    pos = {col: k for k, col in enumerate(out.columns)}
    for fix in corr.to_dict("records"):
        keys = [i for i, k in enumerate(out["mention_key"]) if k == fix["key"]]
        if not keys:
            continue
        used.add(fix["key"])
        for i in keys:
            lon, lat = fix["lon"], fix["lat"]
            zh, en = ["人工校正"], ["manual correction"]
            if fix["osm_id"]:
                cand = _candidate_by_osm_id(candidates, fix["osm_id"], str(out["osm_type"].iat[i] or ""))
                if cand is not None:
                    p = cand.geometry.representative_point()
                    if not np.isfinite(lon):
                        lon, lat = p.x, p.y
                    out.iat[i, pos["osm_name"]] = cand["name"]
                    out.iat[i, pos["osm_type"]] = cand["osm_type"]
                elif str(out["osm_id"].iat[i]) == fix["osm_id"].split("/")[-1] and not np.isfinite(lon):
                    lon, lat = out["lon"].iat[i], out["lat"].iat[i]
                elif not np.isfinite(lon):
                    zh.append(f"未找到 OSM {fix['osm_id']}，请补充经纬度")
                    en.append(f"OSM {fix['osm_id']} not among the candidates; add lon/lat")
                out.iat[i, pos["osm_id"]] = fix["osm_id"].split("/")[-1]
            for col in ("name", "category", "status"):
                if fix[col]:
                    out.iat[i, pos[col]] = fix[col]
            if fix["note"]:
                zh.append(fix["note"])
                en.append(fix["note"])
            out.iat[i, pos["lon"]] = lon
            out.iat[i, pos["lat"]] = lat
            out.iat[i, pos["match_status"]] = "manual"
            out.iat[i, pos["candidates"]] = ""
            out.iat[i, pos["reason"]] = bilingual_reason(zh, en)
    out.attrs = dict(geocoded.attrs)
    out.attrs["unused_corrections"] = sorted(set(corr["key"]) - used)
    out.attrs["correction_problems"] = list(corr.attrs.get("problems", []))  # rows kept in the file, not used
    return out


# --------------------------------------------------------------------------- facilities and outputs
def _facility_ids(geocoded: pd.DataFrame) -> list[str]:
    """``text:<mention key>`` for matched rows, ``manual:<key>`` for corrected ones, ``''`` otherwise."""
    return [f"{'manual' if st == 'manual' else 'text'}:{k}" if st in ("matched", "manual") else ""
            for st, k in zip(geocoded["match_status"], geocoded["mention_key"])]


def to_facilities(geocoded: pd.DataFrame, candidates: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Matched and manual rows in the Facilities schema (``source`` ``text`` or ``manual``, status kept).

    With ``candidates``, a matched OSM polygon (a park) keeps its polygon so the
    coverage engine reaches it at its boundary; otherwise the point is used.
    """
    from .facilities import normalize_facilities

    ok = geocoded["match_status"].isin(["matched", "manual"]) & geocoded["lon"].notna() & geocoded["lat"].notna()
    rows = geocoded[ok]
    records = []
    for fid, r in zip(_facility_ids(rows), rows.to_dict("records")):
        manual = r["match_status"] == "manual"
        geom = shapely.Point(float(r["lon"]), float(r["lat"]))
        cand = _candidate_by_osm_id(candidates, str(r.get("osm_id") or ""), str(r.get("osm_type") or ""))
        if cand is not None and cand.geometry.intersects(geom.buffer(1e-6)):
            geom = cand.geometry
        oid = f"{r.get('osm_type') or 'osm'}/{r['osm_id']}" if r.get("osm_id") else ""
        match_note = (f"{r['match_status']} {r['match_score']:.0f}" if pd.notna(r.get("match_score"))
                      else r["match_status"])
        online = str(r.get("provider") or "") not in ("", "osm", "nan")  # placed by geo.providers
        detail = "; ".join(x for x in (Path(str(r.get("source") or "")).name,
                                       f"OSM {oid} {r.get('osm_name') or ''}".strip() if oid else "",
                                       f"{r['provider']} {r.get('osm_name') or ''}".strip() if online else "",
                                       match_note) if x)
        records.append({"facility_id": fid, "name": r["name"],
                        "category": r["category"], "status": r["status"] or "existing",
                        "source": "manual" if manual else "text", "source_detail": detail, "geometry": geom})
    if not records:
        from .facilities import empty_facilities

        return empty_facilities()
    return normalize_facilities(gpd.GeoDataFrame(records, geometry="geometry", crs=WGS84))


def scenario(facilities: gpd.GeoDataFrame, include_planned: bool = True) -> gpd.GeoDataFrame:
    """The facilities of a scenario: with planned and building ones (after the plan) or without (today)."""
    from .facilities import filter_scenario

    return filter_scenario(facilities, include_planned)


def _output_path(path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".geojson", ".json", ".gpkg"):
        raise InputError("输出文件须为 .csv、.geojson 或 .gpkg。", "the output must be .csv, .geojson or .gpkg.", p)
    return p


def write_geocoded(geocoded: pd.DataFrame, path: str | Path) -> Path:
    """Write the geocoded table by suffix, atomically.

    ``.csv``: UTF-8 with BOM, every row and column. ``.geojson``/``.gpkg``:
    points (WGS-84) for matched and manual rows, every other row kept with an
    empty geometry. All three are readable by ``geo.facilities.read_facility_table``;
    a ``facility_id`` column (as :func:`to_facilities` names them) is added.
    """
    p = _output_path(path)
    suffix = p.suffix.lower()
    if "facility_id" not in geocoded.columns:  # the id read_facility_table keeps (same as to_facilities)
        geocoded = geocoded.assign(facility_id=_facility_ids(geocoded))
    with atomic_file(p) as tmp:
        if suffix == ".csv":
            to_csv_bom(geocoded, tmp)
        else:
            ok = geocoded["match_status"].isin(["matched", "manual"]) & geocoded["lon"].notna() & geocoded["lat"].notna()
            geom = [shapely.Point(x, y) if k else None for x, y, k in zip(geocoded["lon"], geocoded["lat"], ok)]
            frame = geocoded.copy()
            for c in frame.columns:
                if frame[c].dtype == object or str(frame[c].dtype).startswith("str"):
                    frame[c] = frame[c].astype(object).where(frame[c].notna(), "").astype(str)
            gdf = gpd.GeoDataFrame(frame, geometry=geom, crs=WGS84)
            if suffix == ".gpkg":
                gdf.to_file(tmp, layer="geocoded", driver="GPKG", engine="pyogrio")
            else:
                gdf.to_file(tmp, driver="GeoJSON", engine="pyogrio")
    return p


# --------------------------------------------------------------------------- CLI
def read_mentions(path: str | Path) -> pd.DataFrame:
    """The facilities.csv of ``lifecircle extract`` (any Chinese encoding; needs ``name`` and ``category``)."""
    p = require_file(path)
    if p.is_dir():
        raise InputError("需要 CSV 文件，而不是文件夹。", "expected a CSV file, not a folder.", p)
    df = read_csv_text(p)
    missing = [c for c in ("name", "category") if c not in df.columns]
    if missing:
        raise InputError(f"缺少列 {', '.join(missing)}（现有列：{', '.join(map(str, df.columns))}）。"
                         "请使用 lifecircle extract 生成的 facilities.csv。",
                         f"missing column(s) {', '.join(missing)} (columns: {', '.join(map(str, df.columns))}); "
                         "use the facilities.csv written by `lifecircle extract`.", p)
    if not len(df):
        raise InputError("表格没有数据行。", "the table has no rows.", p)
    return df


def _read_boundary_args(paths) -> list[gpd.GeoDataFrame]:
    from .boundaries import read_boundaries

    if not paths:
        return []
    return [read_boundaries(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]


def cli_geocode(args) -> int:
    """``lifecircle geocode facilities.csv --pois PATH ... [--boundaries PATH] [--corrections FILE] [--provider P]
    -o OUT``."""
    from .i18n import t

    lang = "zh" if getattr(args, "lang", "zh") == "zh" else "en"
    mentions = read_mentions(args.facilities)
    out = _output_path(args.output)  # checked before the slow part
    from .io import check_writable
    from .outdir import check_not_input

    check_writable(out)
    check_not_input(out, [args.facilities, *args.pois, *(getattr(args, "boundaries", None) or []),
                          getattr(args, "corrections", None)])
    boundaries = _read_boundary_args(getattr(args, "boundaries", None))
    corrections = getattr(args, "corrections", None)
    if corrections:
        read_corrections(corrections)  # fail early, before the slow part
    from .providers import provider_from_env

    provider = provider_from_env(getattr(args, "provider", None))  # fail early on a missing key
    candidates = load_candidates(args.pois)
    geocoded = geocode_mentions(mentions, candidates, boundaries=boundaries or None)
    from .places import place_beyond_osm  # online providers, addresses, relative places

    geocoded = place_beyond_osm(geocoded, candidates, provider)
    if corrections:
        geocoded = apply_corrections(geocoded, corrections, candidates=candidates)
        for row, zh_text, en_text in geocoded.attrs.get("correction_problems", []):
            print(t("cli_warning", lang) + t("cli_correction_unused", lang, path=corrections, row=row,
                                             text=zh_text if lang == "zh" else en_text), file=sys.stderr)
    write_geocoded(geocoded, out)

    counts = geocoded["match_status"].value_counts()
    parts = [f"{match_label(k, lang)} {int(counts.get(k, 0))}" for k in MATCH_STATUSES]
    print(t("cli_geocoded", lang, counts=t("comma", lang).join(parts), out=out))
    if not boundaries:
        print(t("cli_no_boundaries", lang))
    if geocoded.attrs.get("provider_error"):
        print(t("cli_warning", lang) + geocoded.attrs["provider_error"].text(lang), file=sys.stderr)
    unmatched = geocoded.loc[geocoded["match_status"] == "unmatched", "name"]
    if len(unmatched):
        print(t("cli_unmatched", lang, names="、".join(dict.fromkeys(unmatched))))
    amb = geocoded[geocoded["match_status"] == "ambiguous"]
    for name, cands in zip(amb["name"], amb["candidates"]):
        print(t("cli_ambiguous", lang, status=match_label("ambiguous", lang), name=name, candidates=cands))
    return 0
