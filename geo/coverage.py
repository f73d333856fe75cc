"""The coverage engine: network walking distances from every building and street to facilities.

Model
-----
- Points (buildings, point facilities) are snapped to the nearest *edge* of the
  walking network (not the nearest node): :func:`snap_points` returns the edge,
  the offset ``t_m`` along it from node ``u`` and the access leg ``snap_m``.
- A facility is a set of *access intervals* on edges (:class:`Sources`):
  reaching any point of ``[t0_m, t1_m]`` on ``edge`` costs ``leg_m`` more metres.
  A point facility gives ``t0 == t1`` and ``leg_m = snap_m``. A polygon (or line)
  facility is reached at its boundary, never at its centroid: the stretches of
  edges inside it have ``leg_m = 0`` and the stretches within ``access_tol_m`` of
  it have ``leg_m`` = the gap to it (sampled every ``ACCESS_STEP_M``, rounded up);
  when no edge is that close, the nearest edge point is used (subject to
  ``max_snap_m``).
- One multi-source Dijkstra pass per category (:func:`distance_field`) on a
  scipy.sparse matrix: one virtual node per interval, wired *one way* to the
  edge's end nodes with weights ``t0 + leg`` and ``L - t1 + leg``.
- The distance at offset ``t`` of edge ``(u, v)`` of length ``L`` is
  ``min(d[u] + t, d[v] + L - t, leg + max(0, t0 - t, t - t1))`` over the
  same-edge intervals (:func:`distance_at`); the covered length of an edge for a
  threshold is the exact measure of the union of the sub-intervals where one of
  these terms is within the threshold (:func:`covered_length`).
- A building is represented by the *representative point* of its footprint
  (always inside it; the point itself for point layers). Its ``dist_m`` is
  building access leg + network + facility leg. Buildings farther than
  ``max_snap_m`` from any edge get NaN and ``snap_too_far=True``. A building
  whose network component holds no facility is ``unreachable_<cat>=True`` with
  ``dist_m_<cat>`` NaN (NaN distance <=> unreachable flag).
- Streets are reported per edge at the edge midpoint; buildings and edges are
  assigned to subdistricts by point-in-polygon of the building's representative
  point and of the edge's midpoint; a gap by its representative point (its
  ``subdistrict`` is None when that lies outside every boundary).
- Gaps carry ``label`` (Chinese, e.g. "安徒生童话乐园西北约320米") and
  ``label_en`` ("≈320 m NW of 安徒生童话乐园"): names stay as OSM has them.

Distances are in the network's metric CRS; results keep that CRS (writers
convert to WGS-84).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from .categories import CATEGORIES, CATEGORY_KEYS, PROFILES, label
from .errors import InputError, Message, warn
from .io import WGS84, align_crs
from .network import WalkNetwork

if TYPE_CHECKING:
    from .green import GreenDistances

__all__ = [
    "Snap",
    "Sources",
    "DistanceField",
    "Distances",
    "CoverageResult",
    "snap_points",
    "facility_sources",
    "distance_field",
    "distance_at",
    "covered_length",
    "compute_distances",
    "summarize",
    "assign_subdistrict",
    "gap_labels",
    "named_streets",
    "named_facilities",
    "location_labels",
    "subdistrict_boundaries",
    "representative_xy",
    "EdgeIndex",
    "edge_index",
    "base_csr",
    "ACCESS_STEP_M",
    "ALL_AREA",
]

ACCESS_STEP_M = 5.0  # sampling step of the gap to a polygon along near-boundary stretches
ALL_AREA = "全部"  # subdistrict name used when no boundaries are given
NETWORK_BUFFER_M = 200.0  # buffer of the network for network_share_in_area
SNAP_BOX_M = 250.0  # snap_points searches a box around points this close to an edge vertex, the STRtree for the rest


# ---------------------------------------------------------------------------
# containers


@dataclass(frozen=True)
class Snap:
    """Points snapped to the nearest edge.

    Attributes
    ----------
    edge : ndarray of int
        Edge row position in ``net.edges`` (-1 when the network has no edges).
    t_m : ndarray of float
        Offset of the snapped point along the edge from node ``u`` (metres of ``length_m``).
    snap_m : ndarray of float
        Straight distance from the point to the snapped point (NaN without edge).
    snapped_xy : ndarray (n, 2)
        Coordinates of the snapped points.
    """

    edge: np.ndarray
    t_m: np.ndarray
    snap_m: np.ndarray
    snapped_xy: np.ndarray

    def __len__(self) -> int:
        return int(self.edge.shape[0])


@dataclass(frozen=True)
class Sources:
    """Facility access intervals: reaching ``[t0_m, t1_m]`` on ``edge`` costs ``leg_m``.

    ``facility`` is the row position of the facility in the table the sources
    were built from. Rows are sorted by (edge, t0_m, t1_m, leg_m, facility).
    """

    edge: np.ndarray
    t0_m: np.ndarray
    t1_m: np.ndarray
    leg_m: np.ndarray
    facility: np.ndarray

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    @classmethod
    def build(cls, edge, t0_m, t1_m, leg_m, facility) -> Sources:
        """Sources from arrays, in canonical (deterministic) order."""
        edge = np.asarray(edge, np.int64)
        t0 = np.asarray(t0_m, float)
        t1 = np.asarray(t1_m, float)
        leg = np.asarray(leg_m, float)
        fac = np.asarray(facility, np.int64)
        order = np.lexsort((fac, leg, t1, t0, edge))
        return cls(edge[order], t0[order], t1[order], leg[order], fac[order])

    def subset(self, mask: np.ndarray) -> Sources:
        """The sources where ``mask`` is True (order kept)."""
        return Sources(self.edge[mask], self.t0_m[mask], self.t1_m[mask], self.leg_m[mask], self.facility[mask])


@dataclass(frozen=True)
class DistanceField:
    """Result of one multi-source shortest-path pass.

    Attributes
    ----------
    node_dist : ndarray
        Network distance (metres, incl. the facility leg) from each node to the
        nearest facility; NaN where no facility is reachable.
    node_nearest : ndarray of int
        Facility row position of that nearest facility (-1 when unreachable).
    sources : Sources
        The access intervals (needed for same-edge evaluation).
    edge_ptr : ndarray of int
        ``sources`` rows of edge ``e`` are ``edge_ptr[e]:edge_ptr[e + 1]``.
    """

    node_dist: np.ndarray
    node_nearest: np.ndarray
    sources: Sources
    edge_ptr: np.ndarray


@dataclass
class Distances:
    """The heavy part of a coverage run (see :func:`compute_distances`)."""

    net: WalkNetwork
    categories: tuple[str, ...]
    facilities: dict[str, gpd.GeoDataFrame]  # per category, metric CRS, positions = facility index
    reports: dict[str, pd.DataFrame]  # per-facility snap report (incl. excluded)
    fields: dict[str, DistanceField]
    edge_mid_dist: dict[str, np.ndarray]
    edge_mid_nearest: dict[str, np.ndarray]
    buildings: gpd.GeoDataFrame | None = None  # metric CRS, input columns
    building_xy: np.ndarray | None = None  # representative points
    building_snap: Snap | None = None
    snap_too_far: np.ndarray | None = None
    building_dist: dict[str, np.ndarray] = field(default_factory=dict)
    building_nearest: dict[str, np.ndarray] = field(default_factory=dict)
    green: GreenDistances | None = None
    warnings: list[Message] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)


@dataclass
class CoverageResult:
    """What :func:`summarize` returns (see the module docstring for the columns)."""

    streets: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame | None
    subdistricts: pd.DataFrame
    gaps: gpd.GeoDataFrame
    green: pd.DataFrame | None
    params: dict
    warnings: list[Message]
    green_parks: gpd.GeoDataFrame | None = None


# ---------------------------------------------------------------------------
# edge index


@dataclass(frozen=True)
class EdgeIndex:
    """A network's edges as arrays (:func:`edge_index`): geometries, end nodes, lengths and an STRtree."""

    geoms: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    scale: np.ndarray  # length_m / geometric length
    tree: shapely.STRtree


def _cached_on(net: WalkNetwork, name: str, key: tuple, build: Callable[[], Any]) -> Any:
    """``build()`` once per ``key`` (the edges' identity and size), kept on the network object as ``name``."""
    cached = net.__dict__.get(name)
    if cached is not None and cached[0] == key:
        return cached[1]
    value = build()
    net.__dict__[name] = (key, value)
    return value


def edge_index(net: WalkNetwork) -> EdgeIndex:
    """Edge arrays + STRtree, cached on the network object (rebuilt if edges change).

    Parameters
    ----------
    net : WalkNetwork

    Returns
    -------
    EdgeIndex
        ``geoms``, ``u``, ``v``, ``length_m``, ``scale`` (length_m / geometric length) per edge, and ``tree``.
    """
    def build() -> EdgeIndex:
        geoms = np.asarray(net.edges.geometry.values, dtype=object)
        length = net.edges["length_m"].to_numpy(float)
        glen = shapely.length(geoms)
        scale = np.divide(length, glen, out=np.ones_like(length), where=glen > 0)
        return EdgeIndex(geoms, net.edges["u"].to_numpy(np.int64), net.edges["v"].to_numpy(np.int64),
                         length, scale, shapely.STRtree(geoms))

    return _cached_on(net, "_coverage_index", (id(net.edges), len(net.edges)), build)


def _vertex_tree(net: WalkNetwork) -> cKDTree | None:
    """KD-tree of the points where the edges have vertices, cached on the network (None without any).

    Every one of these points lies on an edge, so the distance from a point to
    the nearest of them bounds its distance to the nearest edge from above.
    When the edges start and end exactly at their nodes' coordinates, the
    nodes stand for the end vertices (each shared end once), else every vertex
    is in the tree; either way the tree holds the same set of points.
    """
    return _cached_on(net, "_coverage_vertex_tree", (id(net.edges), len(net.edges), net.n_nodes),
                      lambda: _build_vertex_tree(net, edge_index(net)))


def _build_vertex_tree(net: WalkNetwork, ei: EdgeIndex) -> cKDTree | None:
    """:func:`_vertex_tree` built anew."""
    xy, owner = shapely.get_coordinates(ei.geoms, return_index=True)
    if len(xy) == 0:
        tree = None
    else:
        count = np.bincount(owner, minlength=len(ei.geoms))
        start = np.cumsum(count) - count
        has = count >= 2
        s, e = start[has], start[has] + count[has] - 1
        nx, ny = np.asarray(net.node_xy, float).T
        u, v = ei.u[has], ei.v[has]
        x, y = xy[:, 0], xy[:, 1]

        def at(i: np.ndarray, node: np.ndarray) -> np.ndarray:
            return (x[i] == nx[node]) & (y[i] == ny[node])

        ends = at(s, u) & at(e, v)
        back = np.flatnonzero(~ends)
        ends[back] = at(s[back], v[back]) & at(e[back], u[back])
        if ends.all() and has.all():
            inner = np.ones(len(xy), bool)
            inner[s] = inner[e] = False
            used = np.zeros(net.n_nodes, bool)
            used[u] = used[v] = True
            pts = np.concatenate([np.asarray(net.node_xy, float)[used], xy[inner]])
        else:
            pts = xy
        tree = cKDTree(pts, balanced_tree=False)
    return tree


def _nearest_edge(net: WalkNetwork, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest edge (the lowest position among equidistant ones) and its distance, per finite point.

    What ``STRtree.query_nearest(all_matches=True)`` gives, in about half the
    time on large inputs: the distance to the nearest edge vertex (a KD-tree)
    bounds the search box of each point, and the edges whose boxes meet it are
    measured with the same GEOS distance. A point farther than
    :data:`SNAP_BOX_M` from every vertex (its box could take in much of the
    network) asks the STRtree itself. -1 and NaN without any edge.
    """
    ei = edge_index(net)
    n = len(xy)
    tree = _vertex_tree(net)
    out, out_d = np.full(n, -1, np.int64), np.full(n, np.nan)
    if tree is None or n == 0:
        return out, out_d
    r, _ = tree.query(xy)
    near = np.flatnonzero(r <= SNAP_BOX_M)
    r = r[near] * (1.0 + 1e-9) + 1e-9  # the box must hold every edge at exactly the vertex distance
    x, y = xy[near, 0], xy[near, 1]
    cand = ei.tree.query(shapely.box(x - r, y - r, x + r, y + r))
    d = shapely.distance(shapely.points(xy[near][cand[0]]), ei.geoms[cand[1]])
    order = np.lexsort((cand[1], d, cand[0]))
    inp, edge, d = cand[0][order], cand[1][order], d[order]
    first = np.ones(len(inp), bool)
    first[1:] = inp[1:] != inp[:-1]
    out[near[inp[first]]] = edge[first]
    out_d[near[inp[first]]] = d[first]
    far = np.setdiff1d(np.arange(n), near)
    if len(far):
        pairs, dist = ei.tree.query_nearest(shapely.points(xy[far]), return_distance=True, all_matches=True)
        out[far], out_d[far] = _first_per_input(pairs, len(far), dist)
    return out, out_d


def _first_per_input(pairs: np.ndarray, n: int, dist: np.ndarray | None = None):
    """For (input, tree) pairs, the lowest tree index per input (deterministic ties)."""
    order = np.lexsort((pairs[1], pairs[0]))
    inp, tre = pairs[0][order], pairs[1][order]
    first = np.ones(len(inp), bool)
    first[1:] = inp[1:] != inp[:-1]
    out = np.full(n, -1, np.int64)
    out[inp[first]] = tre[first]
    if dist is None:
        return out, None
    d = np.full(n, np.nan)
    d[inp[first]] = dist[order][first]
    return out, d


# ---------------------------------------------------------------------------
# snapping and sources


def snap_points(net: WalkNetwork, xy: np.ndarray) -> Snap:
    """Snap points (metric ``net.crs`` coordinates) to the nearest edge.

    Parameters
    ----------
    net : WalkNetwork
    xy : ndarray (n, 2)

    Returns
    -------
    Snap
        Ties between equidistant edges go to the lowest edge position.
    """
    xy = np.asarray(xy, float).reshape(-1, 2)
    n = xy.shape[0]
    ei = edge_index(net)
    if n == 0 or len(ei.geoms) == 0:
        return Snap(np.full(n, -1, np.int64), np.full(n, np.nan), np.full(n, np.nan), np.full((n, 2), np.nan))
    pts = shapely.points(xy)
    finite = np.isfinite(xy).all(axis=1)
    edge, snap_m = np.full(n, -1, np.int64), np.full(n, np.nan)
    edge[finite], snap_m[finite] = _nearest_edge(net, xy[finite])
    if not finite.all():  # what GEOS makes of NaN or infinite coordinates
        odd = np.flatnonzero(~finite)
        pairs, dist = ei.tree.query_nearest(pts[odd], return_distance=True, all_matches=True)
        edge[odd], snap_m[odd] = _first_per_input(pairs, len(odd), dist)
    ok = edge >= 0
    t = np.full(n, np.nan)
    snapped = np.full((n, 2), np.nan)
    g = ei.geoms[edge[ok]]
    tg = shapely.line_locate_point(g, pts[ok])
    t[ok] = np.clip(tg * ei.scale[edge[ok]], 0.0, ei.length_m[edge[ok]])
    snapped[ok] = shapely.get_coordinates(shapely.line_interpolate_point(g, tg))
    return Snap(edge, t, snap_m, snapped)


def _locate(ei: EdgeIndex, edge: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Offset (metres of length_m) of points lying on the given edges."""
    t = shapely.line_locate_point(ei.geoms[edge], pts) * ei.scale[edge]
    return np.clip(t, 0.0, ei.length_m[edge])


def _explode(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten (nested) collections into simple parts, with the input index of each part."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    multi = shapely.get_type_id(parts) >= 4
    if multi.any():
        sub, sidx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        idx = np.concatenate([idx[~multi], idx[multi][sidx]])
    keep = ~shapely.is_empty(parts)
    return parts[keep], idx[keep]


def _area_sources(net: WalkNetwork, geoms: np.ndarray, *, access_tol_m: float):
    """Access intervals of polygon/line facilities (boundary access).

    Returns (edge, t0, t1, leg, owner) for intervals within ``access_tol_m``,
    plus (nearest_edge, gap) per geometry for the fallback.
    """
    ei = edge_index(net)
    out = [np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0), np.empty(0, np.int64)]
    if len(geoms) == 0 or len(ei.geoms) == 0:
        return out, np.full(len(geoms), -1, np.int64), np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    pairs = ei.tree.query(geoms, predicate="dwithin", distance=access_tol_m)
    pg, pe = pairs[0], pairs[1]
    chunks = []
    if len(pg):
        shapely.prepare(geoms)
        # (a) stretches inside or on the facility: leg 0
        inter = shapely.intersection(ei.geoms[pe], geoms[pg])
        parts, pi = _explode(inter)
        if len(parts):
            e = pe[pi]
            a = _locate(ei, e, _start(parts))
            b = _locate(ei, e, _end(parts))
            chunks.append((e, np.minimum(a, b), np.maximum(a, b), np.zeros(len(e)), pg[pi]))
        # (b) stretches within access_tol_m: sampled every ACCESS_STEP_M, leg = larger end gap
        buf = shapely.buffer(geoms, access_tol_m, quad_segs=16)
        band = shapely.intersection(ei.geoms[pe], buf[pg])
        parts, pi = _explode(band)
        lines = shapely.get_type_id(parts) == 1
        parts, pi = parts[lines], pi[lines]
        if len(parts):
            e = pe[pi]
            a = _locate(ei, e, _start(parts))
            b = _locate(ei, e, _end(parts))
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            k = np.maximum(1, np.ceil((hi - lo) / ACCESS_STEP_M).astype(np.int64))
            rep = np.repeat(np.arange(len(k)), k)
            j = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
            step = (hi - lo) / k
            s0 = lo[rep] + j * step[rep]
            s1 = np.where(j == k[rep] - 1, hi[rep], s0 + step[rep])
            er, owner = e[rep], pg[pi][rep]
            g = ei.geoms[er]
            sc = ei.scale[er]
            d0 = shapely.distance(shapely.line_interpolate_point(g, s0 / sc), geoms[owner])
            d1 = shapely.distance(shapely.line_interpolate_point(g, s1 / sc), geoms[owner])
            leg = np.maximum(d0, d1)
            ok = leg <= access_tol_m * 1.001 + 1e-9
            chunks.append((er[ok], s0[ok], s1[ok], leg[ok], owner[ok]))
    if chunks:
        out = [np.concatenate([c[i] for c in chunks]) for i in range(5)]
    # fallback for geometries with no edge within access_tol_m: nearest edge point
    has = np.zeros(len(geoms), bool)
    has[pg] = True
    near_edge = np.full(len(geoms), -1, np.int64)
    near_t = np.full(len(geoms), np.nan)
    gap = np.full(len(geoms), np.nan)
    miss = np.flatnonzero(~has)
    if len(miss):
        npairs, nd = ei.tree.query_nearest(geoms[miss], return_distance=True, all_matches=True)
        e, d = _first_per_input(npairs, len(miss), nd)
        ok = e >= 0
        line = shapely.shortest_line(ei.geoms[e[ok]], geoms[miss][ok])
        near_edge[miss[ok]] = e[ok]
        near_t[miss[ok]] = _locate(ei, e[ok], _start(line))
        gap[miss[ok]] = d[ok]
    return out, near_edge, near_t, gap


def _start(lines: np.ndarray) -> np.ndarray:
    """First point of each part (a Point part is its own start)."""
    pts = lines.copy()
    is_line = shapely.get_type_id(lines) != 0
    pts[is_line] = shapely.get_point(lines[is_line], 0)
    return pts


def _end(lines: np.ndarray) -> np.ndarray:
    pts = lines.copy()
    is_line = shapely.get_type_id(lines) != 0
    pts[is_line] = shapely.get_point(lines[is_line], -1)
    return pts


def _names(fac: gpd.GeoDataFrame) -> np.ndarray:
    """Display name per facility: name, else facility_id, else '#<row>'."""
    n = len(fac)
    name = fac["name"].astype(object).to_numpy() if "name" in fac else np.full(n, None, object)
    fid = fac["facility_id"].astype(object).to_numpy() if "facility_id" in fac else np.full(n, None, object)
    out = np.empty(n, object)
    for i in range(n):
        s = name[i] if isinstance(name[i], str) and name[i].strip() else (
            fid[i] if isinstance(fid[i], str) and fid[i].strip() else f"#{i}")
        out[i] = s
    return out


def facility_sources(net: WalkNetwork, facilities: gpd.GeoDataFrame, *, access_tol_m: float = 20.0,
                     max_snap_m: float = 200.0) -> tuple[Sources, pd.DataFrame]:
    """Access intervals of facilities on the network.

    Parameters
    ----------
    net : WalkNetwork
    facilities : GeoDataFrame
        Points and/or polygons (any CRS). ``facility`` in the result is the row
        position in this frame.
    access_tol_m : float
        Edge stretches within this distance of a polygon facility are access
        intervals (leg = gap to the polygon, 0 inside/touching).
    max_snap_m : float
        Facilities farther than this from every edge are excluded.

    Returns
    -------
    sources : Sources
    report : DataFrame
        One row per facility: ``facility, name, geom_type ('point'|'area'),
        snap_m`` (smallest access leg), ``n_intervals, excluded, reason``
        (``'' | 'too_far' | 'empty_geometry' | 'no_network'``).
    """
    fac = align_crs(facilities, net.crs, "设施") if len(facilities) else facilities
    ei = edge_index(net)
    n = len(fac)
    geoms = np.asarray(fac.geometry.values, dtype=object) if n else np.empty(0, object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms) if n else np.zeros(0, bool)
    present = geoms.copy()
    present[empty] = None
    tid = np.where(empty, -1, shapely.get_type_id(present)) if n else np.zeros(0, int)
    is_point = (tid == 0) | (tid == 4)
    is_area = (tid > 0) & ~is_point
    snap_m = np.full(n, np.nan)
    n_int = np.zeros(n, np.int64)
    reason = np.full(n, "", object)
    reason[empty] = "empty_geometry"
    parts = []

    pidx = np.flatnonzero(is_point)
    if len(pidx):
        pts = shapely.centroid(geoms[pidx])  # MultiPoint -> its centroid
        s = snap_points(net, shapely.get_coordinates(pts))
        snap_m[pidx] = s.snap_m
        ok = (s.edge >= 0) & (s.snap_m <= max_snap_m)
        parts.append((s.edge[ok], s.t_m[ok], s.t_m[ok], s.snap_m[ok], pidx[ok]))
    aidx = np.flatnonzero(is_area)
    if len(aidx):
        (e, t0, t1, leg, own), near_e, near_t, gap = _area_sources(net, geoms[aidx], access_tol_m=access_tol_m)
        parts.append((e, t0, t1, leg, aidx[own]))
        if len(own):
            best = np.full(len(aidx), np.inf)
            np.minimum.at(best, own, leg)
            snap_m[aidx] = np.where(np.isfinite(best), best, np.nan)
        fb = near_e >= 0
        snap_m[aidx[fb]] = gap[fb]
        ok = fb & (gap <= max_snap_m)
        parts.append((near_e[ok], near_t[ok], near_t[ok], gap[ok], aidx[ok]))
    if parts:
        src = Sources.build(*[np.concatenate([p[i] for p in parts]) for i in range(5)])
    else:
        src = Sources.build([], [], [], [], [])
    if len(src):
        n_int += np.bincount(src.facility, minlength=n)
    nonet = (~empty) & np.isnan(snap_m) & (len(ei.geoms) == 0)
    reason[nonet] = "no_network"
    reason[(~empty) & (n_int == 0) & (reason == "")] = "too_far"
    report = pd.DataFrame({
        "facility": np.arange(n),
        "name": _names(fac) if n else np.empty(0, object),
        "geom_type": np.where(is_area, "area", "point"),
        "snap_m": snap_m,
        "n_intervals": n_int,
        "excluded": n_int == 0,
        "reason": reason,
    })
    for col in ("facility_id", "category"):
        if col in fac:
            report.insert(1, col, fac[col].to_numpy())
    return src, report


# ---------------------------------------------------------------------------
# shortest paths


def _edge_ptr(sources: Sources, n_edges: int) -> np.ndarray:
    return np.searchsorted(sources.edge, np.arange(n_edges + 1), side="left").astype(np.int64)


def base_csr(net: WalkNetwork) -> sp.csr_matrix:
    """The symmetric network matrix (``net.csr()``, explicit zeros kept), cached on the network.

    Parameters
    ----------
    net : WalkNetwork

    Returns
    -------
    scipy.sparse.csr_matrix
        ``n_nodes × n_nodes`` edge lengths in metres, indices sorted; shared, do not modify.
    """
    def build() -> sp.csr_matrix:
        g = net.csr()
        g.sort_indices()
        return g

    return _cached_on(net, "_coverage_csr", (id(net.edges), len(net.edges), net.n_nodes), build)


def distance_field(net: WalkNetwork, sources: Sources) -> DistanceField:
    """Multi-source network distance from every node to the nearest source.

    One :func:`scipy.sparse.csgraph.dijkstra` call with ``min_only=True``: each
    interval is a virtual node with one-way edges to ``u`` (weight
    ``t0 + leg``) and ``v`` (``L - t1 + leg``), so no path passes through a
    facility. The virtual rows are appended to the cached network CSR arrays
    directly (no re-sorting, no sparse arithmetic, which would drop zeros):
    zero weights (a zero-length edge, a park touching a node) stay explicit
    entries, which csgraph treats as edges for sparse input (checked in the
    tests); a duplicate entry (self-loop edge) counts with its smaller weight.
    """
    n = net.n_nodes
    ei = edge_index(net)
    k = len(sources)
    ptr = _edge_ptr(sources, len(ei.geoms))
    if k == 0 or n == 0:
        return DistanceField(np.full(n, np.nan), np.full(n, -1, np.int64), sources, ptr)
    base = base_csr(net)
    e = sources.edge
    vcols = np.stack([ei.u[e], ei.v[e]], axis=1).ravel()
    vw = np.stack([sources.t0_m + sources.leg_m, ei.length_m[e] - sources.t1_m + sources.leg_m], axis=1).ravel()
    nnz = base.indptr[-1]
    itype = np.int32 if n + k < 2**31 - 1 and nnz + 2 * k < 2**31 - 1 else np.int64  # csgraph's native index type
    indptr = np.concatenate([base.indptr[: n + 1], nnz + 2 * np.arange(1, k + 1)]).astype(itype)
    indices = np.concatenate([base.indices[:nnz], vcols]).astype(itype)
    data = np.concatenate([base.data[:nnz], np.maximum(vw, 0.0)])
    g = sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))
    vid = n + np.arange(k)
    dist, _, origin = csgraph.dijkstra(g, directed=True, indices=vid, min_only=True, return_predecessors=True)
    nd = dist[:n].copy()
    org = origin[:n]
    reach = np.isfinite(nd) & (org >= n)
    nearest = np.full(n, -1, np.int64)
    nearest[reach] = sources.facility[org[reach] - n]
    nd[~reach] = np.nan
    return DistanceField(nd, nearest, sources, ptr)


def distance_at(net: WalkNetwork, field: DistanceField, edge: np.ndarray, t_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the nearest facility at offset ``t_m`` along ``edge``.

    Returns
    -------
    dist_m : ndarray
        NaN where no facility is reachable (or ``edge == -1``).
    nearest : ndarray of int
        Facility row position (-1 where unreachable).
    """
    ei = edge_index(net)
    edge = np.asarray(edge, np.int64)
    t = np.asarray(t_m, float)
    m = len(edge)
    ok = edge >= 0
    e = np.where(ok, edge, 0)
    dist = np.full(m, np.inf)
    nearest = np.full(m, -1, np.int64)
    if len(field.node_dist) and len(ei.length_m):
        nd = np.where(np.isnan(field.node_dist), np.inf, field.node_dist)
        eu, ev = ei.u[e], ei.v[e]
        dist = nd[eu] + t  # from u; then v and same-edge sources where strictly nearer (first minimum wins)
        nearest = field.node_nearest[eu]
        dv = nd[ev] + (ei.length_m[e] - t)
        better = np.flatnonzero(dv < dist)
        dist[better] = dv[better]
        nearest[better] = field.node_nearest[ev[better]]
    # same-edge sources
    ptr = field.edge_ptr
    if len(field.sources) and m:
        cnt = np.where(ok, ptr[e + 1] - ptr[e], 0)
        q = np.repeat(np.arange(m), cnt)
        if len(q):
            s = np.arange(len(q)) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(ptr[e], cnt)
            src = field.sources
            d = src.leg_m[s] + np.maximum(0.0, np.maximum(src.t0_m[s] - t[q], t[q] - src.t1_m[s]))
            order = np.lexsort((s, d, q))  # per query: smallest distance, then lowest source row
            q, d, s = q[order], d[order], s[order]
            first = np.ones(len(q), bool)
            first[1:] = q[1:] != q[:-1]
            q, d, s = q[first], d[first], s[first]
            better = d < dist[q]
            dist[q[better]] = d[better]
            nearest[q[better]] = src.facility[s[better]]
    bad = ~np.isfinite(dist) | ~ok
    dist[bad] = np.nan
    nearest[bad] = -1
    return dist, nearest


def covered_length(net: WalkNetwork, field: DistanceField, threshold_m: float) -> np.ndarray:
    """Exact length (metres) of each edge within ``threshold_m`` of a facility.

    The measure of the union of ``{t: d[u] + t <= T}``, ``{t: d[v] + L - t <= T}``
    and, for each same-edge interval, ``[t0 - (T - leg), t1 + (T - leg)]``,
    clipped to ``[0, L]``.
    """
    ei = edge_index(net)
    ne = len(ei.geoms)
    if ne == 0:
        return np.zeros(0)
    T = float(threshold_m)
    L = ei.length_m
    du = field.node_dist[ei.u] if len(field.node_dist) else np.full(ne, np.nan)
    dv = field.node_dist[ei.v] if len(field.node_dist) else np.full(ne, np.nan)
    src = field.sources
    sok = src.leg_m <= T
    oku = ~np.isnan(du) & (du <= T)
    okv = ~np.isnan(dv) & (dv <= T)
    if not (oku.any() or okv.any() or sok.any()):
        return np.zeros(ne)
    # union measure per edge: shift each edge to its own stretch of one line, sort, add what each interval adds
    offset = np.concatenate([[0.0], np.cumsum(L + 1.0)[:-1]])
    mixed = np.zeros(ne, bool)
    mixed[src.edge[sok]] = True
    # most edges have no same-edge source: at most [0, T - du] and [L - (T - dv), L], sorted in that order, so
    # the sort and the running maximum reduce to this (the same floating-point operations, the same sums)
    free = np.flatnonzero(~mixed)
    Lf, of, fu, fv = L[free], offset[free], oku[free], okv[free]
    hi_u = np.clip(T - du[free], 0.0, Lf) + of
    lo_v = np.clip(Lf - (T - dv[free]), 0.0, Lf) + of
    hi_v = np.clip(Lf, 0.0, Lf) + of
    add_u = np.maximum(0.0, hi_u - (0.0 + of))
    add_v = np.maximum(0.0, hi_v - np.maximum(lo_v, np.where(fu, hi_u, -np.inf)))
    total = np.zeros(ne)
    total[free] = np.where(fu, add_u, 0.0) + np.where(fv, add_v, 0.0)
    m = np.flatnonzero(mixed)
    if len(m):  # the edges with sources: every interval, sorted
        edges = [m, m, src.edge[sok]]
        starts = [np.zeros(len(m)), L[m] - (T - dv[m]), src.t0_m[sok] - (T - src.leg_m[sok])]
        ends = [T - du[m], L[m].copy(), src.t1_m[sok] + (T - src.leg_m[sok])]
        ok = [oku[m], okv[m], np.ones(int(sok.sum()), bool)]
        e = np.concatenate([a[k] for a, k in zip(edges, ok)])
        lo = np.clip(np.concatenate([a[k] for a, k in zip(starts, ok)]), 0.0, L[e])
        hi = np.clip(np.concatenate([a[k] for a, k in zip(ends, ok)]), 0.0, L[e])
        glo, ghi = lo + offset[e], hi + offset[e]
        order = np.lexsort((ghi, glo))
        glo, ghi, e = glo[order], ghi[order], e[order]
        reach = np.maximum.accumulate(ghi)
        prev = np.concatenate([[-np.inf], reach[:-1]])
        add = np.maximum(0.0, ghi - np.maximum(glo, prev))
        total[m] = np.bincount(e, weights=add, minlength=ne)[m]
    return np.minimum(total, L)


# ---------------------------------------------------------------------------
# the heavy part


def representative_xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Representative point of each geometry (inside polygons; points stay).

    Returns
    -------
    ndarray (n, 2)
        Coordinates in ``gdf``'s CRS.
    """
    return shapely.get_coordinates(shapely.point_on_surface(np.asarray(gdf.geometry.values, dtype=object)))


def compute_distances(net: WalkNetwork, facilities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None = None, *,
                      categories=None, max_snap_m: float = 200.0, access_tol_m: float = 20.0,
                      progress: Callable[[float, str], None] | None = None) -> Distances:
    """Walking distances from every building and street segment to each category's facilities.

    Parameters
    ----------
    net : WalkNetwork
    facilities : GeoDataFrame
        Facilities schema (``category`` column required; ``name``,
        ``facility_id`` used when present), any CRS.
    buildings : GeoDataFrame, optional
        Footprints or points, any CRS; represented by their representative point.
    categories : sequence of str, optional
        Categories to analyse (default: every taxonomy category, so a category
        without facilities shows as coverage 0 with a warning).
    max_snap_m, access_tol_m : float
        See :func:`facility_sources`; ``max_snap_m`` also applies to buildings.
    progress : callable ``(frac, message)``, optional
    """
    prog = progress or (lambda f, m: None)
    if net.n_nodes == 0 or len(net.edges) == 0:
        raise InputError("路网为空，无法计算步行距离。", "the walking network is empty; nothing to compute.")
    if "category" not in facilities.columns:
        raise InputError("设施表缺少 category（设施类别）列。", "the facilities table has no 'category' column.")
    cats = tuple(categories) if categories is not None else CATEGORY_KEYS
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise InputError(f"未知的设施类别：{', '.join(unknown)}。可用类别：{', '.join(CATEGORY_KEYS)}。",
                         f"unknown categories: {', '.join(unknown)}; known: {', '.join(CATEGORY_KEYS)}.")
    warnings: list[Message] = []
    fac_all = align_crs(facilities, net.crs, "设施") if len(facilities) else facilities.set_crs(net.crs, allow_override=True)
    catcol = fac_all["category"].astype(object)
    extra = sorted({str(c) for c in catcol.dropna().unique()} - set(cats))
    if extra:
        cnt = int(catcol.isin(extra).sum())
        warnings.append(warn(f"{cnt} 个设施的类别未参与分析：{', '.join(extra)}",
                             f"{cnt} facilities in categories not analysed: {', '.join(extra)}"))
    edge_index(net)
    prog(0.02, "snapping buildings")
    bld = bxy = bsnap = too_far = None
    if buildings is not None and len(buildings):
        bld = align_crs(buildings, net.crs, "建筑").reset_index(drop=True)
        bld = bld[~(bld.geometry.isna() | bld.geometry.is_empty)].reset_index(drop=True)
        bxy = representative_xy(bld)
        bsnap = snap_points(net, bxy)
        too_far = ~(bsnap.snap_m <= max_snap_m)
        if too_far.any():
            warnings.append(warn(f"{int(too_far.sum())} 栋建筑距最近可步行道路超过 {max_snap_m:g} 米，未计入距离（snap_too_far）。",
                                 f"{int(too_far.sum())} buildings are more than {max_snap_m:g} m from any walkable edge; "
                                 "their distances are left empty (snap_too_far)."))
    ei = edge_index(net)
    mid_t = ei.length_m / 2.0
    edge_all = np.arange(len(ei.geoms))
    out = Distances(net=net, categories=cats, facilities={}, reports={}, fields={}, edge_mid_dist={},
                    edge_mid_nearest={}, buildings=bld, building_xy=bxy, building_snap=bsnap, snap_too_far=too_far,
                    warnings=warnings,
                    params={"max_snap_m": float(max_snap_m), "access_tol_m": float(access_tol_m),
                            "access_step_m": ACCESS_STEP_M, "categories": list(cats), "crs": str(net.crs),
                            "building_point": "representative point of the footprint (inside it)",
                            "street_point": "edge midpoint"})
    for i, cat in enumerate(cats):
        prog(0.05 + 0.85 * i / max(1, len(cats)), f"{cat}: shortest paths")
        fac = fac_all[(catcol == cat).to_numpy()].reset_index(drop=True)
        src, rep = facility_sources(net, fac, access_tol_m=access_tol_m, max_snap_m=max_snap_m)
        out.facilities[cat], out.reports[cat] = fac, rep
        if len(fac) == 0:
            warnings.append(warn(f"{label(cat, 'zh')}：没有设施，覆盖率为 0。",
                                 f"{label(cat, 'en')}: no facilities, coverage is 0."))
        exc = rep[rep["excluded"]]
        if len(exc):
            names = "、".join(exc["name"].astype(str).head(5))
            more = "…" if len(exc) > 5 else ""
            warnings.append(warn(
                f"{label(cat, 'zh')}：{len(exc)} 个设施距可步行道路超过 {max_snap_m:g} 米或无几何，已排除：{names}{more}",
                f"{label(cat, 'en')}: {len(exc)} facilities excluded (more than {max_snap_m:g} m from any walkable "
                f"edge, or no geometry): {names}{more}"))
        fld = distance_field(net, src)
        out.fields[cat] = fld
        out.edge_mid_dist[cat], out.edge_mid_nearest[cat] = distance_at(net, fld, edge_all, mid_t)
        if bsnap is not None:
            d, w = distance_at(net, fld, bsnap.edge, bsnap.t_m)
            d = d + bsnap.snap_m
            d[too_far] = np.nan
            w[too_far] = -1
            out.building_dist[cat], out.building_nearest[cat] = d, w
    if bsnap is not None and "park" in cats:
        from .green import green_distances  # lazy: green builds on this module
        parks = out.facilities["park"]
        prog(0.92, "500 m green check")
        out.green = green_distances(net, parks, bsnap, too_far, max_snap_m=max_snap_m, access_tol_m=access_tol_m)
        warnings.extend(out.green.warnings)
    prog(1.0, "distances done")
    return out


# ---------------------------------------------------------------------------
# the cheap part


def assign_subdistrict(xy: np.ndarray, boundaries: gpd.GeoDataFrame | None) -> np.ndarray:
    """Subdistrict name of each point (point-in-polygon; first boundary row wins; None outside).

    ``boundaries`` must already be in the points' CRS and have a ``subdistrict`` column.
    Without boundaries every point is in :data:`ALL_AREA`.
    """
    n = len(xy)
    if boundaries is None:
        return np.full(n, ALL_AREA, object)
    out = np.full(n, None, object)
    if n == 0 or len(boundaries) == 0:
        return out
    geoms = np.asarray(boundaries.geometry.values, dtype=object)
    names = boundaries["subdistrict"].astype(object).to_numpy()
    x, y = np.asarray(xy, float)[:, 0], np.asarray(xy, float)[:, 1]
    todo = np.ones(n, bool)
    # boundaries in row order, each tested (prepared, on raw x/y) only on the unassigned points in its box
    for k, (g, (x0, y0, x1, y1)) in enumerate(zip(geoms, shapely.bounds(geoms))):
        cand = np.flatnonzero(todo & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if not len(cand):
            continue
        shapely.prepare(g)
        hit = cand[shapely.intersects_xy(g, x[cand], y[cand])]
        out[hit] = names[k]
        todo[hit] = False
    return out


def subdistrict_boundaries(boundaries: gpd.GeoDataFrame | None, crs) -> gpd.GeoDataFrame | None:
    """One polygon per 街道: ``boundaries`` in ``crs``, empty geometries dropped, dissolved by ``subdistrict``.

    Parameters
    ----------
    boundaries : GeoDataFrame or None
        With a ``subdistrict`` column (None gives None).
    crs : CRS or str
        The metric CRS of the computation (``net.crs``).

    Raises
    ------
    InputError
        No ``subdistrict`` column, or no CRS.
    """
    if boundaries is None:
        return None
    if "subdistrict" not in boundaries.columns:
        raise InputError("边界图层缺少 subdistrict（街道名称）列。", "the boundaries layer has no 'subdistrict' column.")
    b = align_crs(boundaries, crs, "边界")
    b = b[~(b.geometry.isna() | b.geometry.is_empty)]
    b = b.assign(subdistrict=b["subdistrict"].astype(str))
    return b.dissolve("subdistrict", sort=False, as_index=False)[["subdistrict", "geometry"]]


def _midpoints(lines: np.ndarray) -> np.ndarray:
    """``line_interpolate_point(lines, 0.5, normalized=True)`` as coordinates, the same numbers.

    A line of two vertices (most street segments) is done in numpy with GEOS's
    own arithmetic: half its length is exactly half of the segment, so GEOS
    takes the fraction 0.5 and returns ``(p1 - p0) * 0.5 + p0`` (``p0`` for a
    zero length). Other lines go to GEOS.
    """
    out = np.full((len(lines), 2), np.nan)
    if len(lines) == 0:
        return out
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    count = np.bincount(owner, minlength=len(lines))
    two = np.flatnonzero(count == 2)
    p0 = xy[(np.cumsum(count) - count)[two]]
    p1 = xy[(np.cumsum(count) - count)[two] + 1]
    dx, dy = p1[:, 0] - p0[:, 0], p1[:, 1] - p0[:, 1]
    length = np.sqrt(dx * dx + dy * dy)
    fast = np.isfinite(length)
    mid = np.where((length > 0)[:, None], (p1 - p0) * 0.5 + p0, p0)
    out[two[fast]] = mid[fast]
    rest = np.ones(len(lines), bool)
    rest[two[fast]] = False
    if rest.any():
        pts = shapely.line_interpolate_point(lines[rest], 0.5, normalized=True)
        out[rest] = np.c_[shapely.get_x(pts), shapely.get_y(pts)]  # NaN for an empty line
    return out


def _assignment(dist: Distances, boundaries: gpd.GeoDataFrame | None):
    """(metric dissolved boundaries, subdistrict per edge midpoint, per building), cached per boundary layer.

    Keyed on the layer's content, so reruns with the same boundaries skip the
    re-projection, the dissolve and the point-in-polygon tests.
    """
    key: tuple[Any, ...]
    if boundaries is None:
        key = ("assign", None)
    else:
        if "subdistrict" not in boundaries.columns:
            raise InputError("边界图层缺少 subdistrict（街道名称）列。", "the boundaries layer has no 'subdistrict' column.")
        key = ("assign", str(boundaries.crs), tuple(boundaries["subdistrict"].astype(str)),
               tuple(shapely.to_wkb(np.asarray(boundaries.geometry.values, dtype=object))))
    hit = dist._cache.get(key)
    if hit is None:
        b = subdistrict_boundaries(boundaries, dist.net.crs)
        if "mid_xy" not in dist._cache:
            dist._cache["mid_xy"] = _midpoints(edge_index(dist.net).geoms)
        ssub = assign_subdistrict(dist._cache["mid_xy"], b)
        bsub = assign_subdistrict(dist.building_xy, b) if dist.building_xy is not None else None
        hit = dist._cache[key] = (b, ssub, bsub)
    return hit


def _facility_subdistricts(dist: Distances, c: str, b: gpd.GeoDataFrame | None) -> np.ndarray:
    """Subdistrict of each used (not excluded) facility of category ``c`` (cached per boundary layer)."""
    key = ("fsub", c, id(b))  # b is the cached dissolved layer of _assignment, so its id is stable
    if key not in dist._cache:
        fac = dist.facilities[c]
        used = ~dist.reports[c]["excluded"].to_numpy() if len(fac) else np.zeros(0, bool)
        dist._cache[key] = (assign_subdistrict(representative_xy(fac[used]), b) if used.any() else np.empty(0, object), b)
    return dist._cache[key][0]


def _nearest_names(dist: Distances, c: str) -> pd.api.extensions.ExtensionArray:
    """Name of the nearest facility of ``c`` per building (string array, <NA> when none), cached."""
    key = ("nearest_names", c)
    if key not in dist._cache:
        fac = dist.facilities[c]
        names = _names(fac) if len(fac) else np.empty(0, object)
        w = dist.building_nearest[c]
        nearest = np.full(len(w), None, object)
        nearest[w >= 0] = names[w[w >= 0]]
        dist._cache[key] = pd.array(nearest, dtype="string")
    return dist._cache[key]


def _with_columns(gdf: gpd.GeoDataFrame, cols: dict) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` with ``cols`` appended (replacing same-named columns).

    The arrays of ``cols`` become the new columns as they are, each its own
    block: no 2-D stacking and no consolidating copy of some hundred MB (a
    GeoDataFrame made from a DataFrame copies it unless told not to). So they
    must be fresh arrays; pass copies of arrays kept elsewhere (caches).
    """
    base = gdf.drop(columns=[c for c in cols if c in gdf.columns])
    data = {k: base[k] for k in base.columns}
    data.update(cols)
    frame = pd.DataFrame(data, index=gdf.index, copy=False)
    return gpd.GeoDataFrame(frame, geometry=gdf.geometry.name, crs=gdf.crs, copy=False)  # no deep copy of `frame`


def _network_buffer(geoms: np.ndarray, radius_m: float, cell_m: float = 75.0,
                    vertices: cKDTree | None = None) -> shapely.Geometry:
    """``union_all(buffer(geoms, radius_m, quad_segs=4))``, the same region, without buffering every edge.

    Grid cells whose centre lies within ``radius_m - half diagonal`` of an edge
    are inside the union; an edge whose bounding box grown by ``radius_m`` lies
    in such cells only adds nothing, so only the other edges are buffered and
    unioned with those cells (on a 515k-edge network: ~2 s instead of ~40 s).
    ``vertices``: a KD-tree of the points of the edges' vertices (e.g. :func:`_vertex_tree`),
    built here when not given.
    """
    if len(geoms) == 0:
        return shapely.union_all(shapely.buffer(geoms, radius_m, quad_segs=4))
    bounds = shapely.bounds(geoms)
    x0, y0 = bounds[:, 0].min() - radius_m, bounds[:, 1].min() - radius_m
    nx = int(np.ceil((bounds[:, 2].max() + radius_m - x0) / cell_m)) + 1
    ny = int(np.ceil((bounds[:, 3].max() + radius_m - y0) / cell_m)) + 1
    inner = np.zeros((nx, ny), bool)
    reach = radius_m - cell_m * math.sqrt(0.5)
    if reach > 0 and nx * ny <= 4_000_000:
        ix, iy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
        centres = np.c_[x0 + (ix.ravel() + 0.5) * cell_m, y0 + (iy.ravel() + 0.5) * cell_m]
        # a vertex within reach of the centre suffices (the edge through it is at least as close)
        tree = vertices if vertices is not None else cKDTree(shapely.get_coordinates(geoms))
        gap, _ = tree.query(centres, distance_upper_bound=reach)
        inner.ravel()[gap <= reach] = True
    # an edge is redundant when every cell its grown bounding box touches is inner (2-D prefix sums)
    csum = np.zeros((nx + 1, ny + 1), np.int64)
    csum[1:, 1:] = inner.cumsum(0).cumsum(1)
    i0 = np.floor((bounds[:, 0] - radius_m - x0) / cell_m).astype(np.int64)
    j0 = np.floor((bounds[:, 1] - radius_m - y0) / cell_m).astype(np.int64)
    i1 = np.floor((bounds[:, 2] + radius_m - x0) / cell_m).astype(np.int64) + 1
    j1 = np.floor((bounds[:, 3] + radius_m - y0) / cell_m).astype(np.int64) + 1
    i0, j0 = np.clip(i0, 0, nx), np.clip(j0, 0, ny)
    i1, j1 = np.clip(i1, 0, nx), np.clip(j1, 0, ny)
    full = csum[i1, j1] - csum[i0, j1] - csum[i1, j0] + csum[i0, j0]
    redundant = full == (i1 - i0) * (j1 - j0)
    parts = [shapely.coverage_union_all(_cell_runs(inner, x0, y0, cell_m))] if inner.any() else []
    parts.append(shapely.union_all(shapely.buffer(geoms[~redundant], radius_m, quad_segs=4)))
    return shapely.union_all(np.array(parts, dtype=object))


def _cell_runs(inner: np.ndarray, x0: float, y0: float, cell_m: float) -> np.ndarray:
    """The True cells of ``inner`` (cell ``(i, j)`` = ``[x0 + i cell, x0 + (i + 1) cell] x [y0 + j cell, ...]``)
    as one rectangle per run of consecutive cells along ``j``, with a vertex at every cell corner.

    A valid coverage of the same cells, so ``coverage_union_all`` gives their
    union, from a few hundred polygons instead of one box per cell.
    """
    nx, ny = inner.shape
    pad = np.zeros((nx, ny + 2), np.int8)
    pad[:, 1:-1] = inner
    step = np.diff(pad, axis=1)
    ri, start = np.nonzero(step == 1)
    _, stop = np.nonzero(step == -1)  # row-major order pairs each run's start with its stop
    n = stop - start
    nv = 2 * n + 3  # up the right side, down the left side, closed
    run = np.repeat(np.arange(len(n)), nv)
    k = np.arange(int(nv.sum())) - np.repeat(np.cumsum(nv) - nv, nv)
    nr, sr, ir = n[run], start[run], ri[run]
    right = k <= nr
    last = k == nv[run] - 1
    ci = np.where(right | last, ir + 1, ir)
    cj = np.where(right, sr + k, np.where(last, sr, sr + nr - (k - nr - 1)))
    xy = np.c_[x0 + ci * cell_m, y0 + cj * cell_m]
    return shapely.polygons(shapely.linearrings(xy, indices=run))


def _network_share(dist: Distances, b: gpd.GeoDataFrame) -> np.ndarray:
    """area(subdistrict ∩ union(edges buffered 200 m)) / area(subdistrict), cached."""
    key = ("netshare", tuple(b["subdistrict"]), tuple(shapely.to_wkb(b.geometry.values)))
    if key in dist._cache:
        return dist._cache[key]
    if "netbuf" not in dist._cache:
        dist._cache["netbuf"] = _network_buffer(edge_index(dist.net).geoms, NETWORK_BUFFER_M,
                                                vertices=_vertex_tree(dist.net))
    buf = dist._cache["netbuf"]
    geoms = np.asarray(b.geometry.values, dtype=object)
    area = shapely.area(geoms)
    inter = shapely.area(shapely.intersection(geoms, buf))
    share = np.divide(inter, area, out=np.full(len(area), np.nan), where=area > 0)
    dist._cache[key] = share
    return share


def _threshold_map(dist: Distances, thresholds: dict | None) -> dict[str, float]:
    th = {c: float(CATEGORIES[c].threshold_m) for c in dist.categories}
    for k, v in (thresholds or {}).items():
        if k not in th:
            raise InputError(f"阈值的类别“{k}”不在分析类别中（{', '.join(dist.categories)}）。",
                             f"threshold category '{k}' is not analysed ({', '.join(dist.categories)}).")
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InputError(f"类别“{k}”的阈值必须是正数（米），得到 {v!r}。",
                             f"the threshold of '{k}' must be a positive number of metres, got {v!r}.")
        th[k] = float(v)
    return th


def summarize(dist: Distances, boundaries: gpd.GeoDataFrame | None = None, *, thresholds: dict[str, float] | None = None,
              speed_m_per_min: float = 72.0, label_features: gpd.GeoDataFrame | None = None,
              profile: str | None = None, gap_link_m: float = 50.0) -> CoverageResult:
    """Threshold the distances: per-street, per-building and per-subdistrict coverage and gaps.

    No shortest paths run here, so the app can re-threshold instantly.

    Parameters
    ----------
    dist : Distances
    boundaries : GeoDataFrame, optional
        ``subdistrict`` column, any CRS. Buildings are assigned by their
        representative point, edges by their midpoint.
    thresholds : dict, optional
        Per-category overrides (metres) of ``CATEGORIES[k].threshold_m``.
    speed_m_per_min : float
        Walking speed for the ``walk_min_<cat>`` columns.
    label_features : GeoDataFrame, optional
        Named features (``name``) to label gaps when edges have no names;
        by default the named facilities of every category.
    profile : str, optional
        A :data:`geo.categories.PROFILES` key; overrides ``speed_m_per_min``.
    gap_link_m : float
        Uncovered buildings closer than this belong to the same gap cluster.
    """
    if profile is not None:
        if profile not in PROFILES:
            raise InputError(f"未知的步行速度档：{profile}。", f"unknown walking profile: {profile}.")
        speed_m_per_min = PROFILES[profile].speed_m_per_min
    if not (math.isfinite(speed_m_per_min) and speed_m_per_min > 0):
        raise InputError(f"步行速度必须是正数（米/分钟），得到 {speed_m_per_min!r}。",
                         f"walking speed must be a positive number of metres per minute, got {speed_m_per_min!r}.")
    prof = profile or next((k for k, p in PROFILES.items() if p.speed_m_per_min == speed_m_per_min), "custom")
    th = _threshold_map(dist, thresholds)
    net = dist.net
    ei = edge_index(net)
    b, ssub, bsub = _assignment(dist, boundaries)
    warnings = list(dist.warnings)

    # streets (every column in one frame construction: 9 x 3 column inserts on a copy cost more than the arithmetic)
    cols: dict[str, Any] = {"subdistrict": ssub.copy()}  # copies of cached arrays: the frames own their columns
    covered = {}
    for c in dist.categories:
        d = dist.edge_mid_dist[c].copy()
        key = ("covered", c, float(th[c]))  # re-thresholding one category leaves the others cached
        if key not in dist._cache:
            dist._cache[key] = covered_length(net, dist.fields[c], th[c])
        covered[c] = dist._cache[key]
        cols[f"dist_m_{c}"] = d
        cols[f"walk_min_{c}"] = d / speed_m_per_min
        cols[f"covered_km_{c}"] = covered[c] / 1000.0
    streets = _with_columns(net.edges, cols)

    # buildings
    bgdf = None
    if dist.buildings is not None:
        assert dist.building_snap is not None  # snapped together with the buildings
        cols = {"snap_m": dist.building_snap.snap_m.copy(), "snap_too_far": np.array(dist.snap_too_far)}
        for c in dist.categories:
            d = dist.building_dist[c].copy()
            cols[f"dist_m_{c}"] = d
            cols[f"walk_min_{c}"] = d / speed_m_per_min
            cols[f"unreachable_{c}"] = np.isnan(d)
            cols[f"nearest_{c}"] = _nearest_names(dist, c).copy()
        cols["subdistrict"] = bsub.copy()
        bgdf = _with_columns(dist.buildings, cols)

    # per subdistrict
    subs = list(b["subdistrict"]) if b is not None else [ALL_AREA]
    share = _network_share(dist, b) if b is not None else np.full(1, np.nan)
    rows = []
    length_km = ei.length_m / 1000.0
    in_edges = [ssub == s for s in subs]  # once, not per category: object comparisons over every edge
    in_bld = [bsub == s for s in subs] if bgdf is not None else []
    for c in dist.categories:
        fsub = _facility_subdistricts(dist, c, b)
        for j, s in enumerate(subs):
            in_e = in_edges[j]
            km = float(length_km[in_e].sum())
            km_cov = float(covered[c][in_e].sum() / 1000.0)
            row = {"subdistrict": s, "category": c, "threshold_m": th[c], "threshold_min": th[c] / speed_m_per_min,
                   "facilities": int((fsub == s).sum())}
            if bgdf is not None:
                in_b = in_bld[j]
                d = dist.building_dist[c][in_b]
                nb = int(in_b.sum())
                cov = int((d <= th[c]).sum())
                row.update(buildings=nb, buildings_covered=cov, buildings_unreachable=int(np.isnan(d).sum()),
                           share_buildings_covered=cov / nb if nb else np.nan)
            else:
                row.update(buildings=0, buildings_covered=0, buildings_unreachable=0, share_buildings_covered=np.nan)
            row.update(street_km=km, street_km_covered=km_cov, share_street_covered=km_cov / km if km > 0 else np.nan,
                       network_share_in_area=float(share[j]))
            rows.append(row)
    subdf = pd.DataFrame(rows)
    if b is not None:
        low = [s for s, x in zip(subs, share) if not x >= 0.5]
        if low:
            warnings.append(warn(f"路网仅覆盖以下街道面积的不到一半，结果不完整：{'、'.join(low)}",
                                 f"the network covers less than half of these subdistricts, results are partial: {', '.join(low)}"))

    if label_features is None:
        label_features = named_facilities(dist)
    gaps, gap_xy = _gaps(dist, th, covered, label_features, gap_link_m)
    # a gap's 街道: its representative point, the same assignment as the buildings' (None outside every 街道)
    gaps.insert(gaps.columns.get_loc("label"), "subdistrict",
                assign_subdistrict(gap_xy, b) if len(gaps) else np.empty(0, object))

    green = green_parks = None
    if dist.green is not None and bgdf is not None:
        from .green import green_table
        green = green_table(dist.green, bsub, subs)
        green_parks = dist.green.parks

    params = dict(dist.params)
    params.update(thresholds=th, speed_m_per_min=float(speed_m_per_min), profile=prof,
                  boundaries=None if b is None else list(subs), gap_link_m=float(gap_link_m),
                  n_edges=int(len(ei.geoms)), n_nodes=int(net.n_nodes),
                  n_buildings=0 if bgdf is None else int(len(bgdf)),
                  facilities_used={c: int((~dist.reports[c]["excluded"]).sum()) for c in dist.categories},
                  facilities_excluded={c: int(dist.reports[c]["excluded"].sum()) for c in dist.categories})
    if dist.green is not None:
        params["green"] = dist.green.params
    return CoverageResult(streets=streets, buildings=bgdf, subdistricts=subdf, gaps=gaps, green=green,
                          params=params, warnings=warnings, green_parks=green_parks)


def named_streets(streets: gpd.GeoDataFrame, thresholds: dict[str, float] | None = None) -> pd.DataFrame:
    """Coverage per named street: one row per (subdistrict, street name, category).

    Segments are grouped by their ``name`` (and ``subdistrict`` when present);
    unnamed segments are left out. Covered length is the exact per-segment
    ``covered_km_<cat>`` summed, so shares are of street length.

    Parameters
    ----------
    streets : GeoDataFrame
        ``CoverageResult.streets`` (or ``streets.gpkg``): ``name``, ``length_m``,
        ``covered_km_<cat>``.
    thresholds : dict, optional
        Threshold per category, reported beside the figures.

    Returns
    -------
    DataFrame
        ``subdistrict, name, category, threshold_m, street_km, street_km_covered,
        share_street_covered``; empty when no segment has a name.
    """
    cols = ["subdistrict", "name", "category", "threshold_m", "street_km", "street_km_covered", "share_street_covered"]
    if "name" not in streets.columns or not len(streets):
        return pd.DataFrame(columns=cols)
    names = streets["name"].astype(object).where(streets["name"].notna(), "").astype(str).str.strip()
    named = streets[names != ""].assign(name=names[names != ""])
    cats = [c for c in CATEGORY_KEYS if f"covered_km_{c}" in named.columns]
    if not len(named) or not cats:
        return pd.DataFrame(columns=cols)
    sub = (named["subdistrict"].astype(object).where(named["subdistrict"].notna(), "")
           if "subdistrict" in named.columns else pd.Series("", index=named.index))
    df = pd.DataFrame({"subdistrict": sub.astype(str), "name": named["name"],
                       "street_km": named["length_m"].astype(float) / 1000.0,
                       **{c: named[f"covered_km_{c}"].astype(float) for c in cats}})
    g = df.groupby(["subdistrict", "name"], sort=True).sum()
    long = g[cats].stack().reset_index()
    long.columns = ["subdistrict", "name", "category", "street_km_covered"]
    long = long.merge(g["street_km"].reset_index(), on=["subdistrict", "name"])
    long["threshold_m"] = [float((thresholds or {}).get(c, CATEGORIES[c].threshold_m)) for c in long["category"]]
    long["share_street_covered"] = long["street_km_covered"] / long["street_km"].where(long["street_km"] > 0)
    order = {c: i for i, c in enumerate(CATEGORY_KEYS)}
    long = long.sort_values(["subdistrict", "name", "category"], key=lambda x: x.map(order) if x.name == "category" else x)
    return long[cols].reset_index(drop=True)


# ---------------------------------------------------------------------------
# gaps


def named_facilities(dist: Distances) -> gpd.GeoDataFrame | None:
    """The named facilities of every category, as one layer (cached: its id keys the gap cache).

    Returns
    -------
    GeoDataFrame or None
        ``name``, geometry (``dist.net.crs``); None when no facility has a name.
    """
    if "named_facilities" not in dist._cache:
        frames = [f[["name", "geometry"]] for f in dist.facilities.values() if len(f) and "name" in f.columns]
        allf = pd.concat(frames, ignore_index=True) if frames else None
        if allf is not None:
            allf = gpd.GeoDataFrame(allf, geometry="geometry", crs=dist.net.crs)
            allf = allf[allf["name"].astype(object).map(lambda x: isinstance(x, str) and x.strip() != "")]
        dist._cache["named_facilities"] = allf if allf is not None and len(allf) else None
    return dist._cache["named_facilities"]


def location_labels(anchor_xy: np.ndarray, net: WalkNetwork, label_features: gpd.GeoDataFrame | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Where a point lies, for people: nearest named street, else near a named feature, else 'lon, lat'.

    Parameters
    ----------
    anchor_xy : ndarray (n, 2)
        Points in ``net.crs``.
    net : WalkNetwork
        Its edges' ``name`` column gives the streets.
    label_features : GeoDataFrame or None
        Named features (``name``), e.g. :func:`named_facilities`; labels say where the point lies from them.

    Returns
    -------
    (ndarray, ndarray)
        Chinese and English labels, one per point.
    """
    n = len(anchor_xy)
    out = np.full(n, "", object)
    out_en = np.full(n, "", object)
    if n == 0:
        return out, out_en
    pts = shapely.points(anchor_xy)
    layers = []
    if "name" in net.edges.columns:
        layers.append(net.edges)
    if label_features is not None and len(label_features) and "name" in label_features.columns:
        layers.append(align_crs(label_features, net.crs, "标注要素"))
    for lay in layers:
        nm = lay["name"].astype(object).to_numpy()
        has = np.array([isinstance(x, str) and x.strip() != "" for x in nm], bool)
        if not has.any():
            continue
        geoms = np.asarray(lay.geometry.values, dtype=object)[has]
        todo = np.flatnonzero(out == "")
        pairs = shapely.STRtree(geoms).query_nearest(pts[todo], all_matches=True)
        first, _ = _first_per_input(pairs, len(todo))
        ok = first >= 0
        names = names_en = nm[has][first[ok]]
        if lay is not net.edges:  # a feature, not a street: say where the gap lies from it
            names, names_en = _relative_labels(names, geoms[first[ok]], pts[todo[ok]])
        out[todo[ok]] = names
        out_en[todo[ok]] = names_en
    todo = np.flatnonzero(out == "")
    if len(todo):
        ll = gpd.GeoSeries(pts[todo], crs=net.crs).to_crs(WGS84)
        out[todo] = out_en[todo] = [f"{p.x:.5f}E, {p.y:.5f}N" for p in ll]
    return out, out_en


def _memo_labels(dist: Distances, anchor_xy: np.ndarray, label_features: gpd.GeoDataFrame | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`location_labels`, remembered per anchor point across categories and thresholds.

    A label depends only on its point, and the same gaps (often one building)
    recur in most categories, so each distinct anchor is labelled once. The
    memo holds the points as sorted complex numbers ``x + iy`` with their labels.
    """
    key = ("labels", id(label_features))
    xy = np.asarray(anchor_xy, float).reshape(-1, 2)
    q = np.empty(len(xy), complex)
    q.real, q.imag = xy[:, 0], xy[:, 1]
    known, zh, en = dist._cache.get(key, (np.empty(0, complex), np.empty(0, object), np.empty(0, object)))
    pos = np.searchsorted(known, q)
    hit = (pos < len(known)) & (known[np.minimum(pos, max(0, len(known) - 1))] == q) if len(known) else np.zeros(len(q), bool)
    new = np.unique(q[~hit])
    if len(new):
        nzh, nen = location_labels(np.c_[new.real, new.imag], dist.net, label_features)
        order = np.argsort(np.concatenate([known, new]), kind="stable")
        known = np.concatenate([known, new])[order]
        zh, en = np.concatenate([zh, nzh])[order], np.concatenate([en, nen])[order]
        dist._cache[key] = (known, zh, en)
        pos = np.searchsorted(known, q)
    return zh[pos], en[pos]


_DIRECTIONS_ZH = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")
_DIRECTIONS_EN = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")


def _relative_labels(names: np.ndarray, geoms: np.ndarray, pts: np.ndarray, near_m: float = 30.0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """'<name>西北约320米' / '≈320 m NW of <name>' away from the named feature, '<name>旁' / 'next to <name>' near it.

    Gaps near one big park would otherwise all carry the same label.
    """
    lines = shapely.shortest_line(geoms, pts)  # from the feature to the point
    xy = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    d = xy[:, 1] - xy[:, 0]
    dist_m = np.hypot(d[:, 0], d[:, 1])
    octant = np.round(np.degrees(np.arctan2(d[:, 1], d[:, 0])) / 45.0).astype(int) % 8
    rounded = np.round(dist_m, -1).astype(np.int64).tolist()  # what round(m, -1) gives each numpy float
    zh = [f"{n}旁" if m <= near_m else f"{n}{_DIRECTIONS_ZH[o]}约{r}米"
          for n, m, o, r in zip(names, dist_m, octant, rounded)]
    en = [f"next to {n}" if m <= near_m else f"≈{r} m {_DIRECTIONS_EN[o]} of {n}"
          for n, m, o, r in zip(names, dist_m, octant, rounded)]
    return np.array(zh, dtype=object), np.array(en, dtype=object)


def gap_labels(gaps: pd.DataFrame, lang: str) -> pd.Series:
    """The gaps' ``label`` in ``lang``: ``label_en`` in English (``label`` where missing, e.g. older outputs)."""
    if lang == "zh" or "label_en" not in gaps.columns:
        return gaps["label"]
    en = gaps["label_en"]
    return en.where(en.notna() & (en.astype(str) != ""), gaps["label"])


def _building_pairs(dist: Distances, link_m: float) -> np.ndarray:
    """Pairs of buildings whose footprints are within ``link_m``, both ways and each with itself (cached).

    Candidates come from a KD-tree of the footprints' box centres (radius
    ``link_m`` plus twice the largest half-diagonal of the ordinary footprints);
    the few far larger footprints are looked up in an STRtree by their grown
    box. ``shapely.dwithin`` then keeps the pairs within ``link_m``, the same
    test as ``STRtree.query(predicate="dwithin")`` at a third of its cost.
    """
    key = ("bpairs", float(link_m))
    if key not in dist._cache:
        assert dist.buildings is not None
        geoms = np.asarray(dist.buildings.geometry.values, dtype=object)
        n = len(geoms)
        b = shapely.bounds(geoms)
        half = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2.0
        big = half > max(float(np.quantile(half, 0.99)), link_m) if n else np.zeros(0, bool)
        small = np.flatnonzero(~big)
        reach = link_m + 2.0 * (float(half[small].max()) if len(small) else 0.0)
        centre = (b[small, :2] + b[small, 2:]) / 2.0
        pr = small[cKDTree(centre).query_pairs(reach, output_type="ndarray")] if len(small) else np.empty((0, 2), np.int64)
        cand = [pr.T, pr.T[::-1], np.stack([small, small])]
        if big.any():
            bi = np.flatnonzero(big)
            grown = shapely.box(b[bi, 0] - link_m, b[bi, 1] - link_m, b[bi, 2] + link_m, b[bi, 3] + link_m)
            q = shapely.STRtree(geoms).query(grown)
            both = np.stack([bi[q[0]], q[1]])
            both = both[:, ~(big[both[1]] & (both[1] < both[0]))]  # big-big pairs once from each side
            cand += [both, both[::-1][:, both[0] != both[1]]]
        cand_pairs = np.concatenate(cand, axis=1).astype(np.int64)
        ok = shapely.dwithin(geoms[cand_pairs[0]], geoms[cand_pairs[1]], link_m)
        dist._cache[key] = cand_pairs[:, ok]
    return dist._cache[key]


def _hulls(geoms: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Convex hull of each cluster's footprints (``cluster`` sorted, 0..k-1); points and lines grown by 10 m."""
    hull = shapely.convex_hull(shapely.geometrycollections(geoms, indices=cluster))
    return _grow_small(hull)


def _grow_small(hull: np.ndarray) -> np.ndarray:
    """Hulls that are points or lines (point buildings), grown by 10 m into polygons."""
    small = ~np.isin(shapely.get_type_id(hull), [3, 6])
    hull[small] = shapely.buffer(hull[small], 10.0)
    return hull


def _single_hulls(dist: Distances, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hull of the one-building gap cluster of each building in ``idx``, and its anchor point.

    The hull of the footprint itself: the same geometry as the hull of the
    one-member collection :func:`_hulls` would build. Remembered per building
    (the same lone buildings are gaps in most categories).
    """
    assert dist.buildings is not None
    if "single_hulls" not in dist._cache:
        n = len(dist.buildings)
        dist._cache["single_hulls"] = (np.empty(n, object), np.full((n, 2), np.nan), np.zeros(n, bool))
    hull, xy, done = dist._cache["single_hulls"]
    new = np.unique(idx[~done[idx]])
    if len(new):
        h = _grow_small(shapely.convex_hull(np.asarray(dist.buildings.geometry.values, dtype=object)[new]))
        hull[new], xy[new], done[new] = h, shapely.get_coordinates(shapely.point_on_surface(h)), True
    return hull[idx], xy[idx]


def _multi_hulls(dist: Distances, members: np.ndarray, cluster: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hull and anchor point of ``k`` gap clusters of several buildings.

    ``members`` are the buildings grouped by ``cluster`` (sorted, 0..k-1), in
    increasing order within a cluster. A hull depends only on the members, and
    the same clusters recur in several categories, so each set is done once.
    """
    memo = dist._cache.setdefault("multi_hulls", {})
    cut = np.searchsorted(cluster, np.arange(k + 1))
    keys = [members[a:b].tobytes() for a, b in zip(cut[:-1].tolist(), cut[1:].tolist())]
    todo = np.array([j for j, key in enumerate(keys) if key not in memo], np.int64)
    if len(todo):
        take = np.isin(cluster, todo)
        new_id = np.searchsorted(todo, cluster[take])
        assert dist.buildings is not None
        h = _hulls(np.asarray(dist.buildings.geometry.values, dtype=object)[members[take]], new_id)
        xy = shapely.get_coordinates(shapely.point_on_surface(h))
        memo.update((keys[j], (h[i], xy[i])) for i, j in enumerate(todo.tolist()))
    hull = np.empty(k, object)
    anchor_xy = np.empty((k, 2))
    for j, key in enumerate(keys):
        hull[j], anchor_xy[j] = memo[key]
    return hull, anchor_xy


_GAP_COLUMNS = ["category", "rank", "kind", "n_buildings", "street_m", "label", "label_en"]


def _gaps(dist: Distances, th: dict, covered: dict, label_features, gap_link_m: float
          ) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Gap clusters of every category, ranked within each category, in one frame, and their representative points.

    Each category's clusters are cached per threshold. The clusters not cached
    yet are labelled together: most are one building, uncovered in several
    categories, so each distinct anchor point is labelled once.
    """
    net = dist.net
    keys = {c: ("gaps", c, float(th[c]), id(label_features), float(gap_link_m)) for c in dist.categories}
    todo = {c: _category_gaps(dist, c, th[c], covered[c], gap_link_m) for c in dist.categories
            if keys[c] not in dist._cache}
    found = [g for g in todo.values() if g is not None]
    if found:
        zh, en = _memo_labels(dist, np.concatenate([g.pop("anchor_xy") for g in found]), label_features)
        start = 0
        for g in found:
            end = start + len(g["rank"])
            g["label"], g["label_en"] = zh[start:end], en[start:end]
            start = end
    for c, res in todo.items():
        dist._cache[keys[c]] = res
    parts = [dist._cache[keys[c]] for c in dist.categories if dist._cache[keys[c]] is not None]
    if not parts:
        return gpd.GeoDataFrame({k: [] for k in _GAP_COLUMNS}, geometry=[], crs=net.crs), np.empty((0, 2))
    out = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in _GAP_COLUMNS})
    return (gpd.GeoDataFrame(out, geometry=np.concatenate([p["geometry"] for p in parts]), crs=net.crs),
            np.concatenate([p["rep_xy"] for p in parts]))


def _category_gaps(dist: Distances, c: str, T: float, covered: np.ndarray, gap_link_m: float) -> dict | None:
    """Ranked gap clusters of one category at threshold ``T`` as column arrays (None when fully covered).

    ``anchor_xy`` is where each cluster is labelled from: a point on the hull
    of its buildings, or the midpoint of its most uncovered street.
    ``rep_xy`` is the representative point of its geometry (for buildings, the anchor).
    """
    net = dist.net
    ei = edge_index(net)
    if dist.buildings is not None:
        d = dist.building_dist[c]
        unc = np.flatnonzero(~(d <= T))
        if len(unc) == 0:
            return None
        pairs = _building_pairs(dist, gap_link_m)
        keep = np.zeros(len(d), bool)
        keep[unc] = True
        pos = np.full(len(d), -1, np.int64)
        pos[unc] = np.arange(len(unc))
        pk = keep[pairs[0]] & keep[pairs[1]]
        adj = sp.csr_matrix((np.ones(int(pk.sum())), (pos[pairs[0][pk]], pos[pairs[1][pk]])), shape=(len(unc), len(unc)))
        _, lab = csgraph.connected_components(adj, directed=False)
        nlab = int(lab.max()) + 1
        assert dist.building_snap is not None
        e = dist.building_snap.edge[unc]
        unc_len = ei.length_m - covered
        street: np.ndarray = np.zeros(nlab)
        ne = max(1, len(unc_len))  # distinct (cluster, edge) pairs in (cluster, edge) order, as 1-D keys
        ue = np.unique(lab[e >= 0].astype(np.int64) * ne + e[e >= 0])
        np.add.at(street, ue // ne, unc_len[ue % ne])
        # hulls and anchors are remembered across categories: per lone building, per set of buildings
        size = np.bincount(lab, minlength=nlab)
        one = size == 1
        member = np.empty(nlab, np.int64)
        member[lab] = unc
        hull = np.empty(nlab, object)
        anchor_xy = np.full((nlab, 2), np.nan)
        hull[one], anchor_xy[one] = _single_hulls(dist, member[one])
        many = ~one
        if many.any():
            inm = many[lab]
            sub_lab, sub_b = lab[inm], unc[inm]
            o = np.argsort(sub_lab, kind="stable")  # grouped by cluster, buildings in increasing order
            new_id = np.cumsum(many) - 1
            hull[many], anchor_xy[many] = _multi_hulls(dist, sub_b[o], new_id[sub_lab][o], int(many.sum()))
        first = np.full(nlab, np.iinfo(np.int64).max)
        np.minimum.at(first, lab, unc)
        kind = "buildings"
        rep_xy = anchor_xy  # the hull's point_on_surface
    else:
        unc_len = ei.length_m - covered
        sel = np.flatnonzero(unc_len > 0.5)
        if len(sel) == 0:
            return None
        n = net.n_nodes
        adj = sp.csr_matrix((np.ones(len(sel)), (ei.u[sel], ei.v[sel])), shape=(n, n))
        _, nlab = csgraph.connected_components(adj, directed=False)
        lab = nlab[ei.u[sel]]
        _, lab = np.unique(lab, return_inverse=True)
        nlab = int(lab.max()) + 1
        order = np.argsort(lab, kind="stable")
        hull = shapely.multilinestrings(ei.geoms[sel][order], indices=lab[order])
        first = np.minimum.reduceat(sel[order], np.searchsorted(lab[order], np.arange(nlab)))
        size = np.zeros(nlab, np.int64)
        street = np.bincount(lab, weights=unc_len[sel], minlength=nlab)
        worst = np.lexsort((sel, -unc_len[sel], lab))
        anchor_edge = sel[worst[np.searchsorted(lab[worst], np.arange(nlab))]]
        # midpoint of the cluster's most uncovered street
        anchor_xy = shapely.get_coordinates(shapely.line_interpolate_point(ei.geoms[anchor_edge], 0.5, normalized=True))
        kind = "streets"
        rep_xy = shapely.get_coordinates(shapely.point_on_surface(hull))
    rank = np.lexsort((first, -street, -size))  # most buildings, then most uncovered street, then first member
    k = len(rank)
    return {"category": np.full(k, c, object), "rank": np.arange(1, k + 1, dtype=np.int64),
            "kind": np.full(k, kind, object), "n_buildings": size[rank].astype(np.int64), "street_m": street[rank],
            "geometry": hull[rank], "anchor_xy": anchor_xy[rank], "rep_xy": rep_xy[rank]}
