"""Walking networks: the :class:`WalkNetwork` container, its builders and its cache.

A WalkNetwork is an undirected graph in a projected (metric) CRS, held as
arrays so shortest paths run on a scipy sparse matrix:

- ``node_xy``: (n, 2) float array of node coordinates in metres;
- ``edges``: GeoDataFrame, one row per street segment, with integer ``u``, ``v``
  (node indices), ``length_m`` (the geometry's length), the source attributes
  (``osm_id``, ``name``, ``kind`` ...) and a LineString geometry running from
  node ``u`` to node ``v``;
- ``crs``: the metric CRS of both;
- ``repair``: what loading did to the data (counts, before/after connectivity).

Builders
--------
- :func:`network_from_lines`: a road centre-line layer (GeoJSON/GPKG/SHP).
  Real centre-line data is rarely noded cleanly, so the builder nodes ways at
  shared vertices, snaps loose ends onto nearby lines, optionally nodes
  crossings without a shared vertex, drops non-walkable (elevated) ways, and
  reports every repair with before/after connectivity.
- :func:`network_from_osm_xml` (via osmnx), :func:`network_from_pbf` (via
  pyosmium), :func:`network_from_graph` (any osmnx graph),
  :func:`network_from_place` (online, osmnx + Overpass) and the dispatcher
  :func:`load_network`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS
from scipy.sparse import csgraph
from shapely.geometry import box

from .errors import InputError
from .io import METRIC_CRS, WGS84, atomic_dir, read_vector, require_file

__all__ = [
    "WalkNetwork",
    "ELEVATED_QUERY",
    "metric_crs",
    "network_from_lines",
    "network_from_osm_xml",
    "network_from_pbf",
    "network_from_graph",
    "network_from_place",
    "load_network",
    "connectivity",
]

#: Ways of the shared 新江湾城 layer that run on the elevated expressways
#: (../shared/data/networks/README.md, "Known defects" §2): within 3 m of the
#: viaduct for most of their length. Applied automatically when the columns exist.
ELEVATED_QUERY = "elev_median_offset_m <= 3 and elev_frac15m > 0.5"

#: Metric CRS used for Shanghai (UTM zone 51N).
_SHANGHAI_BOX = box(120.8, 30.6, 122.3, 31.95)

GRID_M = 0.01  # vertices closer than ~1 cm (same grid cell) are the same node
_VERTEX_JOIN_M = 1.0  # a snap lands on an existing vertex if one is this close along the line
_CACHE_VERSION = 1


@dataclass
class WalkNetwork:
    """An undirected walking network in a metric CRS (see module docstring)."""

    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    crs: object
    repair: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])

    def csr(self, extra_nodes: int = 0) -> sp.csr_matrix:
        """Symmetric sparse adjacency (weights = ``length_m``), with room for extra nodes.

        Parallel edges keep their shortest length (a sparse matrix would sum them).
        """
        n = self.n_nodes + extra_nodes
        u = self.edges["u"].to_numpy(np.int64)
        v = self.edges["v"].to_numpy(np.int64)
        w = self.edges["length_m"].to_numpy(float)
        a, b = np.minimum(u, v), np.maximum(u, v)
        order = np.lexsort((w, b, a))
        a, b, w = a[order], b[order], w[order]
        first = np.ones(len(a), bool)
        first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        a, b, w = a[first], b[first], w[first]
        keep = a != b  # self-loops never shorten a path
        a, b, w = a[keep], b[keep], w[keep]
        return sp.csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n))

    def components(self) -> np.ndarray:
        """Connected-component label of every node."""
        _, labels = csgraph.connected_components(self.csr(), directed=False)
        return labels

    # ------------------------------------------------------------------ cache
    def save(self, folder: str | Path) -> Path:
        """Write the network to ``folder`` (``nodes.npy``, ``edges.parquet``, ``meta.json``).

        The folder is replaced atomically; GeoParquet keeps the metric CRS.
        """
        folder = Path(folder)
        with atomic_dir(folder) as tmp:
            np.save(tmp / "nodes.npy", np.ascontiguousarray(self.node_xy, dtype=float))
            self.edges.to_parquet(tmp / "edges.parquet", index=False)
            meta = {
                "version": _CACHE_VERSION,
                "crs": CRS.from_user_input(self.crs).to_wkt(),
                "crs_name": CRS.from_user_input(self.crs).to_string(),
                "n_nodes": self.n_nodes,
                "n_edges": int(len(self.edges)),
                "repair": self.repair,
            }
            (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=_json_default),
                                           encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> WalkNetwork:
        """Read a network written by :meth:`save`.

        Raises
        ------
        InputError
            The folder or one of its files is missing or unreadable.
        """
        folder = Path(folder)
        for name in ("nodes.npy", "edges.parquet", "meta.json"):
            if not (folder / name).is_file():
                raise InputError(f"步行网络缓存不完整（缺少 {name}）。请重新运行 lifecircle prepare。",
                                 f"incomplete walking-network cache (missing {name}); re-run `lifecircle prepare`.",
                                 folder)
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            node_xy = np.load(folder / "nodes.npy", allow_pickle=False)
            edges = gpd.read_parquet(folder / "edges.parquet")
        except Exception as exc:  # corrupt cache
            raise InputError(f"无法读取步行网络缓存（{type(exc).__name__}）。请重新运行 lifecircle prepare。",
                             f"cannot read the walking-network cache ({type(exc).__name__}); re-run `lifecircle prepare`.",
                             folder) from None
        crs = CRS.from_user_input(meta["crs"])
        if edges.crs is None:
            edges = edges.set_crs(crs)
        return cls(node_xy=node_xy, edges=edges, crs=edges.crs, repair=meta.get("repair", {}))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (Path, CRS)):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


# ---------------------------------------------------------------------------
# connectivity
def _component_stats(n_nodes: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> dict:
    """Components of the graph with edges (a, b) and lengths w, and the length share of the largest."""
    total = float(w.sum())
    if n_nodes == 0 or len(a) == 0:
        return {"n_components": 0, "largest_share_length": 0.0, "km_total": 0.0}
    g = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n_nodes, n_nodes)).tocsr()
    n_comp, labels = csgraph.connected_components(g, directed=False)
    per = np.bincount(labels[a], weights=w, minlength=n_comp)
    return {
        "n_components": int(n_comp),
        "largest_share_length": float(per.max() / total) if total > 0 else 0.0,
        "km_total": total / 1000.0,
    }


def connectivity(net: WalkNetwork) -> dict:
    """Connectivity of a network.

    Returns
    -------
    dict
        ``n_components`` (connected components, counting isolated loops),
        ``largest_share_length`` (share of the street length in the largest
        component, by length) and ``km_total``.
    """
    e = net.edges
    return _component_stats(net.n_nodes, e["u"].to_numpy(np.int64), e["v"].to_numpy(np.int64),
                            e["length_m"].to_numpy(float))


# ---------------------------------------------------------------------------
# helpers
def metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """The metric CRS to compute in: UTM 51N for Shanghai, else ``estimate_utm_crs()``.

    Applied whatever the layer's own CRS (Web Mercator is in metres but not
    distance-true: 17 % too long at Shanghai's latitude).
    """
    crs = CRS.from_user_input(gdf.crs)
    ll = gdf.to_crs(WGS84) if not crs.equals(CRS.from_user_input(WGS84)) else gdf
    minx, miny, maxx, maxy = ll.total_bounds
    if np.all(np.isfinite([minx, miny, maxx, maxy])) and _SHANGHAI_BOX.contains(
            shapely.Point((minx + maxx) / 2, (miny + maxy) / 2)):
        return CRS.from_user_input(METRIC_CRS)
    return CRS.from_user_input(ll.estimate_utm_crs())


def _group_ids(*cols: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense ids of equal rows over the given integer columns (like np.unique(axis=0), faster)."""
    n = len(cols[0])
    if n == 0:
        return np.zeros(0, np.int64), 0
    order = np.lexsort(cols[::-1])
    new = np.zeros(n, bool)
    new[0] = True
    for c in cols:
        cs = c[order]
        new[1:] |= cs[1:] != cs[:-1]
    ids_sorted = np.cumsum(new) - 1
    ids = np.empty(n, np.int64)
    ids[order] = ids_sorted
    return ids, int(ids_sorted[-1] + 1)


def _grid_keys(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = np.round(xy / GRID_M).astype(np.int64)
    return k[:, 0], k[:, 1]


def _along(xy: np.ndarray, line_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance of each vertex along its line; first/last-row masks of each line."""
    n = len(xy)
    first = np.ones(n, bool)
    first[1:] = line_of[1:] != line_of[:-1]
    last = np.ones(n, bool)
    last[:-1] = line_of[1:] != line_of[:-1]
    seg = np.zeros(n)
    seg[1:] = np.hypot(*(xy[1:] - xy[:-1]).T)
    seg[first] = 0.0
    cum = np.cumsum(seg)
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return cum - cum[start], first, last


def _node_and_split(xy: np.ndarray, line_of: np.ndarray, ids: np.ndarray, n_ids: int):
    """Split ordered line vertices into edges at nodes.

    Parameters
    ----------
    xy : (n, 2) vertex coordinates, grouped by line and in line order
    line_of : line index of each vertex
    ids : vertex identity (equal ids = the same node), dense in ``range(n_ids)``

    Returns
    -------
    node_xy, edge_rows_xy, edge_rows_index, edge_line, u, v
    """
    # drop consecutive repeats of the same vertex within a line
    keep = np.ones(len(xy), bool)
    keep[1:] = ~((line_of[1:] == line_of[:-1]) & (ids[1:] == ids[:-1]))
    xy, line_of, ids = xy[keep], line_of[keep], ids[keep]
    # lines reduced to a single vertex carry no length
    cnt = np.bincount(line_of, minlength=int(line_of.max()) + 1 if len(line_of) else 0)
    ok = cnt[line_of] >= 2
    xy, line_of, ids = xy[ok], line_of[ok], ids[ok]
    n = len(xy)
    if n == 0:
        return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64), \
            np.zeros(0, np.int64), np.zeros(0, np.int64)
    # one canonical coordinate per vertex id, so edges meet exactly at their nodes
    canon = np.empty((n_ids, 2))
    canon[ids] = xy
    xy = canon[ids]
    first = np.ones(n, bool)
    first[1:] = line_of[1:] != line_of[:-1]
    last = np.ones(n, bool)
    last[:-1] = line_of[1:] != line_of[:-1]
    occ = np.bincount(ids, minlength=n_ids)
    is_node_row = first | last | (occ[ids] >= 2)
    # node numbering
    node_vid = np.unique(ids[is_node_row])
    node_of_vid = np.full(n_ids, -1, np.int64)
    node_of_vid[node_vid] = np.arange(len(node_vid))
    node_xy = canon[node_vid]
    # edges: a new edge starts at every node row that is not the last row of its line
    start = is_node_row & ~last
    seg_edge = np.cumsum(start) - 1  # edge of the segment starting at each row (valid where ~last)
    rows = np.flatnonzero(~last)
    # each edge's rows: its segment start rows, plus the end row of its last segment
    edge_of_rows = seg_edge[rows]
    end_rows = rows[np.r_[edge_of_rows[1:] != edge_of_rows[:-1], True]] + 1
    all_rows = np.r_[rows, end_rows]
    all_edge = np.r_[edge_of_rows, seg_edge[end_rows - 1]]
    order = np.lexsort((all_rows, all_edge))
    all_rows, all_edge = all_rows[order], all_edge[order]
    n_edges = int(seg_edge[rows].max() + 1) if len(rows) else 0
    first_row = np.flatnonzero(start)
    u = node_of_vid[ids[first_row]]
    v = node_of_vid[ids[end_rows]]
    edge_line = line_of[first_row]
    assert len(u) == n_edges == len(end_rows)
    return node_xy, xy[all_rows], all_edge, edge_line, u, v


def _crossing_points(xy: np.ndarray, line_of: np.ndarray, pos: np.ndarray, last: np.ndarray):
    """Points where segments of the lines meet: (line, position along it, x, y) for each line.

    Works on 2-point segments (STRtree + vectorised intersection), so long
    lines cost no more than short ones. Collinear overlaps give their end vertices.
    """
    seg = np.flatnonzero(~last)  # segment r runs from row r to row r + 1
    if len(seg) == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2))
    segs = shapely.linestrings(np.stack([xy[seg], xy[seg + 1]], axis=1))
    a, b = shapely.STRtree(segs).query(segs, predicate="intersects")
    ra, rb = seg[a], seg[b]
    same = line_of[ra] == line_of[rb]
    m = (a < b) & ~(same & ((rb == ra + 1) | (ra == rb + 1)))  # neighbours on a line share a vertex anyway
    a, b, ra, rb = a[m], b[m], ra[m], rb[m]
    if len(a) == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2))
    pxy, k = shapely.get_coordinates(shapely.intersection(segs[a], segs[b]), return_index=True)
    rows = np.r_[ra[k], rb[k]]
    pxy2 = np.r_[pxy, pxy]
    along = pos[rows] + np.hypot(*(pxy2 - xy[rows]).T)
    return line_of[rows], along, pxy2


def _snap_ends(geoms: np.ndarray, end_pts: np.ndarray, end_line: np.ndarray, tol_m: float):
    """Nearest other line within ``tol_m`` of each loose end: (end idx, target line, snap point, pos)."""
    tree = shapely.STRtree(geoms)
    pi, li = tree.query(end_pts, predicate="dwithin", distance=tol_m)
    m = li != end_line[pi]
    pi, li = pi[m], li[m]
    if len(pi) == 0:
        return (np.zeros(0, np.int64),) * 2 + (np.zeros(0, object), np.zeros(0))
    d = shapely.distance(end_pts[pi], geoms[li])
    order = np.lexsort((li, d, pi))
    pi, li, d = pi[order], li[order], d[order]
    best = np.r_[True, pi[1:] != pi[:-1]]
    pi, li = pi[best], li[best]
    pos = shapely.line_locate_point(geoms[li], end_pts[pi])
    return pi, li, shapely.line_interpolate_point(geoms[li], pos), pos


# ---------------------------------------------------------------------------
# line layers
def _pick_col(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    return None


def _edge_attributes(src: pd.DataFrame, edge_line: np.ndarray) -> dict:
    out: dict[str, Any] = {}
    idc = _pick_col(src, ("osm_way_id", "osm_id", "osmid", "id"))
    out["osm_id"] = src[idc].to_numpy()[edge_line] if idc else np.full(len(edge_line), None, object)
    namec = _pick_col(src, ("name",))
    if namec:
        names = src[namec].astype("object").where(src[namec].notna(), "").astype(str).to_numpy()
        out["name"] = names[edge_line]
    else:
        out["name"] = np.full(len(edge_line), "", object)
    for c in ("kind", "highway"):
        if c in src.columns:
            vals = src[c]
            out[c] = vals.astype("object").where(vals.notna(), "").astype(str).to_numpy()[edge_line]
    return out


def network_from_lines(lines: gpd.GeoDataFrame, *, snap_tol_m: float = 2.5, node_crossings: bool = True,
                       exclude: str | None = None, crs=None, source: str | Path | None = None) -> WalkNetwork:
    """Build a walking network from a road centre-line layer, repairing its topology.

    Steps, all reported in ``net.repair``:

    1. drop non-walkable ways with the pandas query ``exclude`` (default:
       :data:`ELEVATED_QUERY` when the layer has its columns);
    2. project to a metric CRS (:func:`metric_crs` unless ``crs`` is given);
    3. node at line crossings that have no shared vertex (``node_crossings``);
    4. snap loose ends (way ends touching no other way) within ``snap_tol_m``
       onto the nearest *other* way, adding the short connector and splitting
       that way there (or joining its vertex when one is within 1 m);
    5. node at shared vertices (coordinates equal to ~1 cm) and split ways there.

    Parameters
    ----------
    lines : GeoDataFrame
        LineStrings / MultiLineStrings with a CRS. ``osm_way_id``/``osm_id``/``id``,
        ``name``, ``kind``, ``highway`` are kept on the edges when present.
    snap_tol_m : float
        Loose-end snapping tolerance in metres (0 disables snapping).
    node_crossings : bool
        Add nodes where ways cross without sharing a vertex.
    exclude : str, optional
        pandas query selecting ways that are *not* walkable.
    crs : optional
        Metric CRS to compute in.
    source : str or Path, optional
        File the layer came from, named in error messages.

    Raises
    ------
    InputError
        No CRS, an invalid ``exclude`` query, or no walkable lines left.
    """
    t0 = time.perf_counter()
    if lines.crs is None:
        raise InputError("线图层没有坐标参考系（CRS）。请在 QGIS 中为其指定坐标系（如 EPSG:4326）后重试。",
                         "the line layer has no coordinate reference system (CRS); assign one (e.g. EPSG:4326) and retry.",
                         source)
    lines = lines[lines.geometry.notna() & ~lines.geometry.is_empty]
    params: dict[str, Any] = {"snap_tol_m": float(snap_tol_m), "node_crossings": bool(node_crossings), "grid_m": GRID_M}
    # 1. exclusion
    if exclude is None and {"elev_median_offset_m", "elev_frac15m"} <= set(lines.columns):
        exclude = ELEVATED_QUERY
        params["exclude_auto"] = "elevated"
    params["exclude"] = exclude
    target_crs = CRS.from_user_input(crs) if crs is not None else (metric_crs(lines) if len(lines) else None)
    lines = lines.to_crs(target_crs) if len(lines) else lines
    excluded_ways, excluded_km = 0, 0.0
    if exclude:
        try:
            mask = lines.eval(exclude)
            mask = pd.Series(mask, index=lines.index).fillna(False).astype(bool)
        except Exception as exc:
            raise InputError(f"排除条件无效：{exclude!r}（{type(exc).__name__}: {exc}）。",
                             f"invalid exclude query {exclude!r} ({type(exc).__name__}: {exc}).", source) from None
        excluded_ways = int(mask.sum())
        excluded_km = float(lines.geometry[mask].length.sum()) / 1000.0
        lines = lines[~mask]
    # explode multi-lines, keep line geometries
    lines = lines.explode(index_parts=False, ignore_index=True)
    lines = lines[lines.geom_type.isin(["LineString", "LinearRing"]) & (lines.geometry.length > 0)]
    lines = lines.reset_index(drop=True)
    if len(lines) == 0:
        raise InputError("没有可步行的道路线（图层为空，或全部被排除）。",
                         "no walkable lines left (empty layer, or every way was excluded).", source)
    geoms = np.asarray(lines.geometry.values, dtype=object)
    xy, line_of = shapely.get_coordinates(geoms, return_index=True)
    pos, first, last = _along(xy, line_of)
    kx, ky = _grid_keys(xy)

    # connectivity as delivered: noded only at shared vertices
    vid0, n0 = _group_ids(kx, ky)
    seg = ~last
    before = _component_stats(n0, vid0[:-1][seg[:-1]], vid0[1:][seg[:-1]],
                              np.hypot(*(xy[1:] - xy[:-1]).T)[seg[:-1]])

    ins_line: list[np.ndarray] = []
    ins_pos: list[np.ndarray] = []
    ins_pts: list[np.ndarray] = []
    # 3. crossings without a shared vertex
    crossings_noded = 0
    if node_crossings:
        c_line, c_pos, cxy = _crossing_points(xy, line_of, pos, last)
        if len(c_line):
            ckx, cky = _grid_keys(cxy)
            # new node = the point is not yet a vertex of that line
            ids, _ = _group_ids(np.r_[line_of, c_line], np.r_[kx, ckx], np.r_[ky, cky])
            seen = np.zeros(ids.max() + 1, bool)
            seen[ids[: len(xy)]] = True
            new = ~seen[ids[len(xy):]]
            if new.any():
                crossings_noded = int(len(np.unique(np.c_[ckx[new], cky[new]], axis=0)))
            ins_line.append(c_line[new])
            ins_pos.append(c_pos[new])
            ins_pts.append(shapely.points(cxy[new]))

    # 4. loose ends
    ends_snapped = 0
    loose_total = 0
    if snap_tol_m and snap_tol_m > 0:
        all_line = np.r_[line_of, *ins_line] if ins_line else line_of
        axy = np.r_[xy, *(shapely.get_coordinates(p) for p in ins_pts)] if ins_pts else xy
        akx, aky = _grid_keys(axy)
        vid, nv = _group_ids(akx, aky)
        pair, _ = _group_ids(vid, all_line)
        # distinct lines per vertex, and occurrences of each (vertex, line)
        pair_first = np.zeros(pair.max() + 1, np.int64)
        pair_first[pair] = vid
        lines_per_vid = np.bincount(pair_first, minlength=nv)
        occ_pair = np.bincount(pair)
        end_rows = np.flatnonzero(first | last)
        loose = (lines_per_vid[vid[end_rows]] == 1) & (occ_pair[pair[end_rows]] == 1)
        end_rows = end_rows[loose]
        loose_total = int(len(end_rows))
        if len(end_rows):
            end_pts = shapely.points(xy[end_rows])
            e_idx, tgt, spt, spos = _snap_ends(geoms, end_pts, line_of[end_rows], snap_tol_m)
            if len(e_idx):
                # join an existing vertex of the target line when one is within 1 m along it
                spt = spt.copy()
                split = np.ones(len(e_idx), bool)
                tstart = np.searchsorted(line_of, tgt, side="left")
                tend = np.searchsorted(line_of, tgt, side="right")
                span = float(pos.max()) + 10.0  # line_of * span + pos increases over all rows
                k = np.searchsorted(line_of * span + pos, tgt * span + spos)
                # candidates: vertex just before and just after spos on the target
                for cand in (np.clip(k - 1, tstart, tend - 1), np.clip(k, tstart, tend - 1)):
                    near = (np.abs(pos[cand] - spos) <= _VERTEX_JOIN_M) & split
                    if near.any():
                        spt[near] = shapely.points(xy[cand[near]])
                        split[near] = False
                # two loose ends snapping onto each other: connect them once
                ekey = np.c_[_grid_keys(xy[end_rows[e_idx]])]
                skey = np.c_[_grid_keys(shapely.get_coordinates(spt))]
                df = pd.DataFrame({"i": np.arange(len(e_idx)), "ex": ekey[:, 0], "ey": ekey[:, 1],
                                   "sx": skey[:, 0], "sy": skey[:, 1]})
                mutual = df.merge(df, left_on=["ex", "ey", "sx", "sy"], right_on=["sx", "sy", "ex", "ey"])
                drop = mutual.loc[mutual["i_x"] > mutual["i_y"], "i_x"].to_numpy()
                keep = np.ones(len(e_idx), bool)
                keep[drop] = False
                e_idx, tgt, spt, spos, split = e_idx[keep], tgt[keep], spt[keep], spos[keep], split[keep]
                ends_snapped = int(len(e_idx))
                rows = end_rows[e_idx]
                own = line_of[rows]
                own_pos = np.where(first[rows], -1.0, pos[rows] + 1.0)  # before the start / after the end
                ins_line += [own, tgt[split]]
                ins_pos += [own_pos, spos[split]]
                ins_pts += [spt, spt[split]]

    # 5. assemble all vertices in line order and node them
    if ins_line:
        i_line = np.concatenate(ins_line)
        i_pos = np.concatenate(ins_pos)
        i_xy = shapely.get_coordinates(np.concatenate(ins_pts))
        f_line = np.r_[line_of, i_line]
        f_pos = np.r_[pos, i_pos]
        f_xy = np.r_[xy, i_xy]
        f_tie = np.r_[np.zeros(len(xy)), np.ones(len(i_line))]
        order = np.lexsort((f_tie, f_pos, f_line))
        f_line, f_xy = f_line[order], f_xy[order]
    else:
        f_line, f_xy = line_of, xy
    fkx, fky = _grid_keys(f_xy)
    fid, nf = _group_ids(fkx, fky)
    node_xy, e_xy, e_idx_rows, edge_line, u, v = _node_and_split(f_xy, f_line, fid, nf)
    net = _make_network(node_xy, e_xy, e_idx_rows, edge_line, u, v, lines.drop(columns="geometry"), target_crs)
    after = connectivity(net)
    net.repair = {
        "source": str(source) if source is not None else None,
        "builder": "network_from_lines",
        "params": params,
        "input_ways": int(len(lines) + excluded_ways),
        "excluded_ways": excluded_ways,
        "excluded_km": excluded_km,
        "loose_ends": loose_total,
        "ends_snapped": ends_snapped,
        "crossings_noded": crossings_noded,
        "before": before,
        "after": after,
        "n_nodes": net.n_nodes,
        "n_edges": int(len(net.edges)),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return net


def _make_network(node_xy, e_xy, e_rows, edge_line, u, v, src_attrs: pd.DataFrame, crs) -> WalkNetwork:
    geom = shapely.linestrings(e_xy, indices=e_rows) if len(e_xy) else np.zeros(0, object)
    data = {"u": u.astype(np.int64), "v": v.astype(np.int64), "length_m": shapely.length(geom).astype(float)}
    data.update(_edge_attributes(src_attrs, edge_line))
    edges = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geom, crs=crs), crs=crs)
    return WalkNetwork(node_xy=np.asarray(node_xy, float), edges=edges, crs=edges.crs)


# ---------------------------------------------------------------------------
# OSM sources
def _first(v: Any) -> Any:
    """First item of an osmnx list attribute (simplified edges merge ways)."""
    if isinstance(v, (list, tuple)):
        return v[0] if len(v) else None
    return v


def _nonempty(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and v != ""


def network_from_graph(G, *, crs=None, source: str | Path | None = None) -> WalkNetwork:
    """Convert an osmnx graph to an undirected :class:`WalkNetwork` in a metric CRS.

    Reciprocal edges collapse to one (``ox.convert.to_undirected``); edges
    without a geometry get a straight line; every geometry runs from ``u`` to ``v``.

    Raises
    ------
    InputError
        The graph has no edges.
    """
    import osmnx as ox

    if G.number_of_edges() == 0:
        raise InputError("没有可步行的道路（步行网络为空）。请检查范围或数据源。",
                         "no walkable ways (the walking network is empty); check the area or the data source.", source)
    Gu = ox.convert.to_undirected(G) if G.is_directed() else G
    nodes, edges = ox.convert.graph_to_gdfs(Gu, nodes=True, edges=True, fill_edge_geometry=True)
    target = CRS.from_user_input(crs) if crs is not None else metric_crs(nodes)
    nodes, edges = nodes.to_crs(target), edges.to_crs(target)
    pos = pd.Series(np.arange(len(nodes)), index=nodes.index)
    node_xy = shapely.get_coordinates(nodes.geometry.values)
    u = pos.loc[edges.index.get_level_values(0)].to_numpy(np.int64)
    v = pos.loc[edges.index.get_level_values(1)].to_numpy(np.int64)
    geom = edges.geometry.values
    xy, idx = shapely.get_coordinates(geom, return_index=True)
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    ends = np.r_[starts[1:] - 1, len(idx) - 1]
    # orient each geometry from u to v, and pin its ends to the node coordinates
    d_u = np.hypot(*(xy[starts] - node_xy[u]).T) + np.hypot(*(xy[ends] - node_xy[v]).T)
    d_v = np.hypot(*(xy[starts] - node_xy[v]).T) + np.hypot(*(xy[ends] - node_xy[u]).T)
    flip = d_v < d_u
    geom = np.where(flip, shapely.reverse(geom), geom)
    xy, idx = shapely.get_coordinates(geom, return_index=True)
    xy[starts] = node_xy[u]
    xy[ends] = node_xy[v]
    geom = shapely.linestrings(xy, indices=idx)
    data: dict[str, Any] = {"u": u, "v": v, "length_m": shapely.length(geom).astype(float)}
    data["osm_id"] = [_first(x) for x in edges["osmid"]] if "osmid" in edges else [None] * len(edges)
    names = edges["name"] if "name" in edges else pd.Series([None] * len(edges))
    data["name"] = [str(_first(n)) if _nonempty(_first(n)) else "" for n in names]
    if "highway" in edges:
        data["highway"] = [str(_first(h)) if _nonempty(_first(h)) else "" for h in edges["highway"]]
    out = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geom, crs=target), crs=target)
    out = out[out["length_m"] > 0].reset_index(drop=True)
    net = WalkNetwork(node_xy=node_xy, edges=out, crs=out.crs)
    net.repair = {"source": str(source) if source is not None else None, "builder": "network_from_graph",
                  "after": connectivity(net), "n_nodes": net.n_nodes, "n_edges": int(len(out))}
    return net


def network_from_osm_xml(path: str | Path, polygon=None) -> WalkNetwork:
    """Walking network of an OSM XML file (``.osm``, ``.osm.bz2``, ``.xml``) via osmnx.

    Only ways osmnx's ``walk`` filter keeps are used (see :func:`geo.osm.is_walkable`).
    """
    from .osm import graph_from_osm_xml

    t0 = time.perf_counter()
    G, dropped = graph_from_osm_xml(path, polygon)
    net = network_from_graph(G, source=path)
    net.repair.update({"builder": "network_from_osm_xml", "excluded_ways": dropped,
                       "exclude": "osmnx walk filter", "seconds": round(time.perf_counter() - t0, 3)})
    return net


def network_from_pbf(path: str | Path, polygon=None) -> WalkNetwork:
    """Walking network of an OSM file via pyosmium (any OSM format; meant for ``.osm.pbf``).

    Ways (osmnx ``walk`` semantics) are split at every OSM node they share;
    OSM topology is explicit, so no snapping or crossing noding is needed.
    """
    from .osm import read_osm_ways_with_nodes

    t0 = time.perf_counter()
    ways, refs = read_osm_ways_with_nodes(path, polygon)
    if len(ways) == 0:
        raise InputError("文件中没有可步行的道路。", "the file has no walkable ways.", path)
    target = metric_crs(ways)
    ways = ways.to_crs(target)
    xy, line_of = shapely.get_coordinates(ways.geometry.values, return_index=True)
    ref = np.concatenate(refs)
    ids, n_ids = _group_ids(ref)
    node_xy, e_xy, e_rows, edge_line, u, v = _node_and_split(xy, line_of, ids, n_ids)
    net = _make_network(node_xy, e_xy, e_rows, edge_line, u, v, ways.drop(columns="geometry"), target)
    net.repair = {"source": str(path), "builder": "network_from_pbf", "exclude": "osmnx walk filter",
                  "after": connectivity(net), "n_nodes": net.n_nodes, "n_edges": int(len(net.edges)),
                  "seconds": round(time.perf_counter() - t0, 3)}
    return net


def network_from_place(query: str | None = None, polygon=None, *,
                       cache_dir: str | Path = "data/cache/osmnx") -> WalkNetwork:
    """Download osmnx's ``walk`` network for a place name or polygon (online, cached)."""
    from .osm import fetch_walk_graph

    G = fetch_walk_graph(query, polygon, cache_dir=cache_dir)
    net = network_from_graph(G, source=query or "polygon")
    net.repair.update({"builder": "network_from_place", "place": query, "exclude": "osmnx walk filter"})
    return net


_LINE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".zip")


def load_network(path: str | Path, *, polygon=None, **line_opts) -> WalkNetwork:
    """Load a walking network from a file, choosing the reader by suffix.

    ``.osm``/``.osm.bz2``/``.osm.gz``/``.xml`` → :func:`network_from_osm_xml`;
    ``.pbf`` → :func:`network_from_pbf`; line layers (``.geojson``, ``.json``,
    ``.gpkg``, ``.shp`` ...) → :func:`network_from_lines` with ``line_opts``.
    A folder written by :meth:`WalkNetwork.save` is loaded from the cache.
    With ``polygon`` (WGS-84 shapely geometry or GeoSeries/GeoDataFrame) only
    ways intersecting it are used.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown type, no CRS, or no walkable ways.
    """
    from .osm import osm_format, polygon_4326

    p = Path(path)
    if p.is_dir() and (p / "meta.json").exists():
        return WalkNetwork.load(p)
    p = require_file(p)
    fmt = osm_format(p)
    if fmt == "pbf":
        net = network_from_pbf(p, polygon)
    elif fmt is not None:
        net = network_from_osm_xml(p, polygon)
    elif p.suffix.lower() in _LINE_SUFFIXES:
        lines = read_vector(p)
        poly = polygon_4326(polygon)
        if poly is not None and len(lines):
            lines = lines[lines.intersects(gpd.GeoSeries([poly], crs=WGS84).to_crs(lines.crs).iloc[0])]
        net = network_from_lines(lines, source=p, **line_opts)
    else:
        raise InputError("无法识别的路网文件类型；请使用 OSM（.osm/.osm.bz2/.osm.pbf）或道路线图层（.geojson/.gpkg/.shp）。",
                         "unknown network file type; use OSM (.osm/.osm.bz2/.osm.pbf) or a road line layer "
                         "(.geojson/.gpkg/.shp).", p)
    if len(net.edges) == 0:
        raise InputError("文件中没有可步行的道路。", "the file has no walkable ways.", p)
    return net
