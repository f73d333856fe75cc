"""OpenStreetMap files and services: walk-filter semantics, XML/PBF readers, online fetch.

- :func:`walk_filter` / :func:`is_walkable`: osmnx's own ``network_type="walk"``
  rules, parsed from the Overpass filter string osmnx builds
  (``osmnx._overpass._get_network_filter``), so they follow the installed osmnx.
- :func:`read_osm_ways`, :func:`read_osm_features`: pyosmium readers for
  ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.xml`` and ``.osm.pbf``.
- :func:`graph_from_osm_xml`, :func:`fetch_walk_graph`: osmnx graphs from an
  XML file or from Overpass (online, cached under ``data/cache/osmnx``).

Every reader turns unreadable input (missing, malformed, truncated or non-OSM
files) into :class:`~geo.errors.InputError` naming the file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .categories import CATEGORIES
from .errors import InputError, no_internet
from .io import WGS84, require_file

__all__ = [
    "walk_filter",
    "is_walkable",
    "walk_tag_keys",
    "FEATURE_TAG_KEYS",
    "NAME_KEYS",
    "osm_format",
    "polygon_4326",
    "read_osm_ways",
    "read_osm_ways_with_nodes",
    "read_osm_features",
    "osmnx_settings",
    "graph_from_osm_xml",
    "fetch_walk_graph",
]

NAME_KEYS: tuple[str, ...] = ("name", "name:zh", "alt_name", "official_name", "old_name")

# tag keys of the taxonomy table (plus social_facility:for, which category_for_tags reads)
FEATURE_TAG_KEYS: tuple[str, ...] = tuple(dict.fromkeys(
    [k for c in CATEGORIES.values() for k in c.osm_tags] + ["social_facility:for"]))

# ---------------------------------------------------------------------------
# osmnx walk filter
_CLAUSE = re.compile(r'\[\s*"([^"]+)"\s*(?:(!~|!=|~|=)\s*"([^"]*)")?\s*\]')


def walk_filter() -> list[tuple[str, str | None, str | None]]:
    """osmnx's ``network_type="walk"`` Overpass filter as ``(key, op, value)`` clauses.

    ``op`` is ``None`` (the key must exist), ``"!~"``/``"~"`` (regex, unanchored,
    as in Overpass) or ``"!="``/``"="``. Parsed from the installed osmnx, including
    its ``settings.default_access``.
    """
    from osmnx import _overpass

    text = _overpass._get_network_filter("walk")
    clauses = [(k, op or None, val if op else None) for k, op, val in _CLAUSE.findall(text)]
    if not clauses or _CLAUSE.sub("", text).strip():
        raise RuntimeError(f"cannot parse osmnx's walk filter: {text!r}")  # osmnx changed its syntax
    return clauses


def _tag_ok(tags: dict, key: str, op: str | None, val: str | None) -> bool:
    v = tags.get(key)
    if v is not None and not isinstance(v, str):
        v = None if (isinstance(v, float) and v != v) else str(v)
    if op is None:
        return v is not None
    if op == "!~":
        return v is None or re.search(val or "", v) is None
    if op == "~":
        return v is not None and re.search(val or "", v) is not None
    if op == "!=":
        return v != val
    return v == val


def is_walkable(tags: dict, clauses: list | None = None) -> bool:
    """Whether an OSM way with these tags is in osmnx's walking network.

    Examples: ``highway=footway`` → True; ``highway=motorway``, ``foot=no``,
    ``access=private``, ``highway=construction``, ``area=yes`` → False.
    """
    clauses = walk_filter() if clauses is None else clauses
    return all(_tag_ok(tags, k, op, val) for k, op, val in clauses)


def walk_tag_keys() -> tuple[str, ...]:
    """The tag keys osmnx's walk filter reads (they must survive on graph edges)."""
    return tuple(dict.fromkeys(k for k, _, _ in walk_filter()))


# ---------------------------------------------------------------------------
# file helpers
def osm_format(path: str | Path) -> str | None:
    """pyosmium format string for an OSM file name (``osm``, ``osm.bz2``, ``pbf`` ...), or None."""
    name = Path(path).name.lower()
    for suffix, fmt in ((".osm.pbf", "pbf"), (".pbf", "pbf"), (".osm.bz2", "osm.bz2"), (".xml.bz2", "osm.bz2"),
                        (".osm.gz", "osm.gz"), (".xml.gz", "osm.gz"), (".osm", "osm"), (".xml", "osm")):
        if name.endswith(suffix):
            return fmt
    return None


def _bad_osm(path: Path, exc: BaseException) -> InputError:
    first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
    return InputError(f"无法读取 OSM 文件：文件损坏、被截断或不是 OSM 数据（{first}）。请重新下载或导出。",
                      f"cannot read this OSM file: it is corrupt, truncated or not OSM data ({first}); "
                      f"download or export it again.", path)


def _osm_file(path: str | Path):
    import osmium

    p = require_file(path)
    fmt = osm_format(p)
    if fmt is None:
        raise InputError("无法识别的 OSM 文件类型；请使用 .osm、.osm.bz2、.xml 或 .osm.pbf。",
                         "unknown OSM file type; use .osm, .osm.bz2, .xml or .osm.pbf.", p)
    return p, osmium.io.File(str(p), fmt)


def polygon_4326(polygon: Any) -> BaseGeometry | None:
    """A clip polygon in EPSG:4326 from a shapely geometry (taken as WGS-84) or a GeoSeries/GeoDataFrame."""
    if polygon is None:
        return None
    if isinstance(polygon, (gpd.GeoSeries, gpd.GeoDataFrame)):
        gs = polygon.geometry if isinstance(polygon, gpd.GeoDataFrame) else polygon
        if gs.crs is not None:
            gs = gs.to_crs(WGS84)
        return gs.union_all()
    return polygon


def _tags(o) -> dict[str, str]:
    return {t.k: t.v for t in o.tags}


# ---------------------------------------------------------------------------
# pyosmium readers
def read_osm_ways_with_nodes(path: str | Path, polygon=None) -> tuple[gpd.GeoDataFrame, list[np.ndarray]]:
    """Walkable ways (osmnx walk semantics) and the OSM node ids of their vertices.

    Parameters
    ----------
    path, polygon
        As :func:`read_osm_ways`.

    Returns
    -------
    (GeoDataFrame, list of ndarray)
        The ways (as :func:`read_osm_ways`) and, per way, the OSM ids of its vertices (the network's topology).
    """
    import osmium

    p, f = _osm_file(path)
    clauses = walk_filter()
    rows: list[tuple] = []
    coords: list[np.ndarray] = []
    refs: list[np.ndarray] = []
    try:
        fp = osmium.FileProcessor(f, osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for o in fp:
            if not isinstance(o, osmium.osm.Way) or "highway" not in o.tags:
                continue
            tags = _tags(o)
            if not is_walkable(tags, clauses):
                continue
            ids, xy = [], []
            for n in o.nodes:
                if n.location.valid():
                    ids.append(n.ref)
                    xy.append((n.lon, n.lat))
            if len(ids) < 2:
                continue
            rows.append((o.id, tags.get("name", ""), tags.get("highway", ""), ids[0], ids[-1]))
            coords.append(np.asarray(xy, float))
            refs.append(np.asarray(ids, np.int64))
    except InputError:
        raise
    except Exception as exc:
        raise _bad_osm(p, exc) from None
    df = pd.DataFrame(rows, columns=["osm_id", "name", "highway", "u_node", "v_node"])
    geom = [shapely.LineString(c) for c in coords]
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geom, crs=WGS84), crs=WGS84)
    poly = polygon_4326(polygon)
    if poly is not None and len(gdf):
        keep = gdf.intersects(poly).to_numpy()
        gdf = gdf[keep].reset_index(drop=True)
        refs = [r for r, k in zip(refs, keep) if k]
    return gdf, refs


def read_osm_ways(path: str | Path, polygon=None) -> gpd.GeoDataFrame:
    """Walkable ways of an OSM XML/PBF file as LineStrings (pyosmium).

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.xml`` or ``.osm.pbf``.
    polygon : shapely geometry (WGS-84) or GeoSeries/GeoDataFrame, optional
        Keep the ways that intersect it (whole ways, so junctions stay intact).

    Returns
    -------
    GeoDataFrame
        ``osm_id`` (way id), ``name``, ``highway``, ``u_node``/``v_node`` (OSM node
        ids at the ends), geometry; EPSG:4326. Ways are those osmnx's ``walk``
        filter keeps (:func:`is_walkable`).
    """
    return read_osm_ways_with_nodes(path, polygon)[0]


def read_osm_features(path: str | Path, polygon=None) -> gpd.GeoDataFrame:
    """Points of interest and areas of an OSM file (pyosmium, with area assembly).

    Nodes become Points; closed ways and multipolygon relations become
    (Multi)Polygons. An object is kept when it carries a tag key of the
    taxonomy (:data:`FEATURE_TAG_KEYS`, from ``geo.categories``) or a name
    (named roads excluded).

    Returns
    -------
    GeoDataFrame
        ``osm_id`` (``node/1``, ``way/2``, ``relation/3``), the :data:`NAME_KEYS`,
        the :data:`FEATURE_TAG_KEYS` ('' when absent), geometry; EPSG:4326.
    """
    import osmium

    p, f = _osm_file(path)
    cols = list(NAME_KEYS) + [k for k in FEATURE_TAG_KEYS if k not in NAME_KEYS]
    cat_keys = set(FEATURE_TAG_KEYS)
    wkb = osmium.geom.WKBFactory()
    ids: list[str] = []
    recs: list[list[str]] = []
    geoms: list = []

    def wanted(tags: dict) -> bool:
        if cat_keys & tags.keys():
            return True
        return "name" in tags and "highway" not in tags

    try:
        for o in osmium.FileProcessor(f).with_areas():
            if isinstance(o, osmium.osm.Node):
                if not len(o.tags):
                    continue
                tags = _tags(o)
                if not wanted(tags) or not o.location.valid():
                    continue
                ids.append(f"node/{o.id}")
                geoms.append(shapely.Point(o.location.lon, o.location.lat))
            elif isinstance(o, osmium.osm.Area):
                tags = _tags(o)
                if not wanted(tags):
                    continue
                try:
                    g = shapely.from_wkb(wkb.create_multipolygon(o))
                except Exception:  # broken ring: skip this feature, keep reading
                    continue
                if len(shapely.get_parts(g)) == 1:
                    g = shapely.get_parts(g)[0]
                ids.append(f"{'way' if o.from_way() else 'relation'}/{o.orig_id()}")
                geoms.append(g)
            else:
                continue
            recs.append([tags.get(k, "") for k in cols])
    except InputError:
        raise
    except Exception as exc:
        raise _bad_osm(p, exc) from None
    df = pd.DataFrame(recs, columns=cols, dtype=object)
    df.insert(0, "osm_id", ids)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)
    poly = polygon_4326(polygon)
    if poly is not None and len(gdf):
        gdf = gdf[gdf.intersects(poly)].reset_index(drop=True)
    return gdf


# ---------------------------------------------------------------------------
# osmnx
@contextlib.contextmanager
def osmnx_settings(**overrides: Any) -> Iterator[None]:
    """Temporarily change ``osmnx.settings``; also keeps the walk-filter tags on edges."""
    import osmnx as ox

    overrides.setdefault("useful_tags_way", list(dict.fromkeys(
        list(ox.settings.useful_tags_way) + list(walk_tag_keys()))))
    old = {k: getattr(ox.settings, k) for k in overrides}
    try:
        for k, v in overrides.items():
            setattr(ox.settings, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


def _keep_walkable(G: nx.MultiDiGraph) -> tuple[nx.MultiDiGraph, int]:
    """Drop edges osmnx's walk filter rejects; return the graph and the number of ways dropped."""
    clauses = walk_filter()
    bad, bad_ways = [], set()
    for u, v, k, d in G.edges(keys=True, data=True):
        if not is_walkable(d, clauses):
            bad.append((u, v, k))
            if "highway" in d:  # count dropped streets, not buildings or park outlines
                bad_ways.add(str(d.get("osmid")))
    G.remove_edges_from(bad)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    return G, len(bad_ways)


def _simplify(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """osmnx simplification that keeps every way end a node (as the pyosmium path does)
    and keeps isolated rings (a closed footway is still walkable)."""
    import osmnx as ox

    return ox.simplify_graph(G, edge_attrs_differ=["osmid"], remove_rings=False)


def graph_from_osm_xml(path: str | Path, polygon=None) -> tuple[nx.MultiDiGraph, int]:
    """osmnx walking graph of an OSM XML file (``ox.graph_from_xml``), walk filter applied.

    Every way of the file reaches osmnx (an XML file is not pre-filtered like
    an Overpass answer), so edges failing :func:`is_walkable` are removed
    before simplification. Returns the graph and the number of ways dropped.
    """
    import osmnx as ox

    p = require_file(path)
    try:
        with osmnx_settings():
            G = ox.graph_from_xml(p, bidirectional=True, simplify=False, retain_all=True)
    except Exception as exc:  # SAX/ElementTree parse errors, EOFError, OSError, osmnx errors
        raise _bad_osm(p, exc) from None
    G, dropped = _keep_walkable(G)
    poly = polygon_4326(polygon)
    if poly is not None and len(G):
        G = ox.truncate.truncate_graph_polygon(G, poly, truncate_by_edge=True)
    if len(G.edges):
        G = _simplify(G)
    return G, dropped


def fetch_walk_graph(query: str | None = None, polygon=None, *,
                     cache_dir: str | Path = "data/cache/osmnx") -> nx.MultiDiGraph:
    """Download osmnx's ``walk`` network for a place name or a polygon (Overpass; online).

    Responses are cached by osmnx under ``cache_dir``.

    Raises
    ------
    InputError
        Neither argument given, the place is not found, or the service cannot be reached.
    """
    import osmnx as ox

    if query is None and polygon is None:
        raise InputError("请给出地名或边界多边形。", "give a place name or a boundary polygon.")
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    what = query if polygon is None else "polygon"
    try:
        with osmnx_settings(cache_folder=str(cache_dir), use_cache=True):
            if polygon is not None:
                G = ox.graph_from_polygon(polygon_4326(polygon), network_type="walk", retain_all=True,
                                          simplify=False)
            else:
                G = ox.graph_from_place(str(query), network_type="walk", retain_all=True, simplify=False)
    except Exception as exc:
        offline = no_internet(exc)
        if offline is not None:
            raise offline from None
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise InputError(f"无法在线获取 {what} 的 OSM 步行网络（{first}）。请检查网络或地名，或改用离线数据（--from）。",
                         f"cannot fetch the OSM walking network for {what} online ({first}); check the connection "
                         f"or the place name, or use offline data (--from).") from None
    G, _ = _keep_walkable(G)  # a no-op for a well-behaved Overpass answer
    if len(G.edges):
        G = _simplify(G)
    return G
