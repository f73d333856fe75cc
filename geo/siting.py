"""Where new facilities should go: the maximal covering location problem on the walking network.

Given the coverage of one category by the existing facilities
(:class:`geo.coverage.Distances`), :func:`site` proposes ``p`` new sites so
that the most demand not yet within the category's threshold comes within it.

Model
-----
- **Demand** is the residential buildings (their representative points, snapped
  exactly as coverage snaps them), weighted by :mod:`geo.demand`; only buildings
  not already covered count, and buildings anywhere in the study area count even
  when candidates are restricted to one subdistrict.
- **Candidates** are points along walkable edges about every ``spacing_m``
  (default), building representative points, or a user layer (points or
  polygons), inside the study area or one subdistrict. Each one is turned into
  access intervals by :func:`geo.coverage.facility_sources`, exactly like a
  facility, so a polygon parcel is reached at its boundary.
- **Distances** follow coverage: candidate access leg + network + building
  access leg, with same-edge stretches measured along the edge. The sparse
  candidate × demand coverage matrix comes from distance-limited
  :func:`scipy.sparse.csgraph.dijkstra` searches (``limit=threshold``) run per
  spatial tile of candidates on the sub-network within ``threshold`` of the tile
  (network distance is never shorter than the straight line), so no dense
  all-pairs matrix is ever built.
- **Solving**: lazy greedy first; then exact with :func:`scipy.optimize.milp`
  (HiGHS) under a time limit, after merging identical candidates and identical
  demand columns. The objective is always reported, and when optimality is not
  proven, the gap to the LP (dual) bound.
- **Totals**: the figures per proposed site are re-computed with the coverage
  engine itself (existing facilities + the first k sites), so
  ``buildings_covered_total`` is what ``lifecircle coverage`` reports once the
  sites are added as facilities.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csgraph

from .categories import CATEGORIES, CATEGORY_KEYS, label
from .coverage import (
    Distances,
    Sources,
    assign_subdistrict,
    base_csr,
    distance_at,
    distance_field,
    edge_index,
    facility_sources,
    location_labels,
    named_facilities,
    subdistrict_boundaries,
)
from .demand import DemandWeights, demand_weights
from .errors import InputError, Message, warn
from .i18n import t
from .io import align_crs

__all__ = [
    "DEFAULT_SPACING_M",
    "DEFAULT_TIME_LIMIT_S",
    "SITE_COLUMNS",
    "SITE_FILES",
    "Candidates",
    "SitingResult",
    "Solution",
    "candidate_sites",
    "cli_site",
    "coverage_matrix",
    "lscp",
    "mclp",
    "mclp_greedy",
    "site",
    "street_points",
]

DEFAULT_SPACING_M = 50.0  # street candidates about every 50 m
DEFAULT_TIME_LIMIT_S = 10.0  # for the exact solver
_MAX_DENSE = 4_000_000  # cells of one batch's dense dijkstra output (32 MB)
# HiGHS's MIP presolve does not look at the time limit: on a 55,357 x 6,643 reduced matrix (497k pairs) it ran
# 60 s against a 10 s limit, and returned within the limit without it. Bigger problems go without presolve.
_PRESOLVE_MAX_NNZ = 100_000

SITE_FILES = ("sites.csv", "sites.gpkg", "params.json")  # what `lifecircle site` writes into OUTDIR
SITE_COLUMNS = ["rank", "category", "subdistrict", "lon", "lat", "label", "buildings_newly_covered",
                "buildings_covered_total", "share_buildings_covered_total"]


# ---------------------------------------------------------------------------
# candidates


@dataclass(frozen=True)
class Candidates:
    """Candidate sites, snapped like facilities.

    Attributes
    ----------
    geometry : ndarray of shapely geometries
        In the network's CRS (points or polygons); what a chosen site is.
    xy : ndarray (n, 2)
        Anchor point of each (the point itself, else the representative point).
    kind : str
        ``streets``, ``buildings`` or the file name of a user layer.
    sources : Sources
        Access intervals; ``facility`` is the candidate position.
    report : DataFrame
        :func:`geo.coverage.facility_sources`' report (``excluded`` = too far from the network).
    """

    geometry: np.ndarray
    xy: np.ndarray
    kind: str
    sources: Sources
    report: pd.DataFrame

    def __len__(self) -> int:
        return len(self.geometry)


def street_points(net, spacing_m: float = DEFAULT_SPACING_M, within=None) -> np.ndarray:
    """Points along every edge about every ``spacing_m``: ``ceil(L / spacing)`` points at the middles of equal parts.

    Never on a node, so each point snaps back to its own edge. ``within`` (a
    polygon in ``net.crs``) skips the edges that do not touch it. Returns (n, 2) coordinates.
    """
    ei = edge_index(net)
    geoms = ei.geoms
    if within is not None:
        shapely.prepare(within)
        geoms = geoms[shapely.intersects(within, geoms)]
    glen = shapely.length(geoms)
    k = np.maximum(1, np.ceil(glen / float(spacing_m)).astype(np.int64))
    rep = np.repeat(np.arange(len(k)), k)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
    frac = (j + 0.5) / k[rep]
    return shapely.get_coordinates(shapely.line_interpolate_point(geoms[rep], frac, normalized=True))


def candidate_sites(net, candidates: str | gpd.GeoDataFrame = "streets", *, within=None,
                    buildings: gpd.GeoDataFrame | None = None, spacing_m: float = DEFAULT_SPACING_M,
                    max_snap_m: float = 200.0, access_tol_m: float = 20.0) -> Candidates:
    """Candidate sites inside ``within`` (a polygon in ``net.crs``; None = anywhere), snapped like facilities.

    Parameters
    ----------
    candidates : "streets", "buildings" or GeoDataFrame
        Street points every ``spacing_m``, building representative points, or a
        user layer of points/polygons (any CRS; a polygon is reached at its boundary).
    buildings : GeoDataFrame, optional
        Needed for ``"buildings"`` (footprints or points, any CRS).
    """
    if isinstance(candidates, gpd.GeoDataFrame):
        lay = align_crs(candidates, net.crs, "候选地块")
        geoms = np.asarray(lay.geometry.values, dtype=object)
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        kind = str(candidates.attrs.get("name", "file"))
    elif candidates == "streets":
        if not (isinstance(spacing_m, (int, float)) and math.isfinite(spacing_m) and spacing_m > 0):
            raise InputError(f"候选点间距必须是正数（米），得到 {spacing_m!r}。",
                             f"the candidate spacing must be a positive number of metres, got {spacing_m!r}.")
        geoms, kind = shapely.points(street_points(net, spacing_m, within)), "streets"
    elif candidates == "buildings":
        if buildings is None or not len(buildings):
            raise InputError("以建筑为候选点需要建筑图层（--buildings）。",
                             "building candidates need a buildings layer (--buildings).")
        b = align_crs(buildings, net.crs, "建筑")
        geoms = shapely.point_on_surface(np.asarray(b.geometry.values, dtype=object))
        geoms, kind = geoms[~shapely.is_empty(geoms)], "buildings"
    else:
        raise InputError(f"未知的候选点类型：{candidates}（可用 streets、buildings 或文件路径）。",
                         f"unknown candidates: {candidates} (use streets, buildings or a file).")
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms)) if len(geoms) else np.empty((0, 2))
    if within is not None and len(geoms):
        shapely.prepare(within)
        keep = shapely.intersects(within, geoms)
        geoms, xy = geoms[keep], xy[keep]
    frame = gpd.GeoDataFrame({"facility_id": [f"candidate:{i}" for i in range(len(geoms))]},
                             geometry=list(geoms), crs=net.crs)
    src, rep = facility_sources(net, frame, access_tol_m=access_tol_m, max_snap_m=max_snap_m)
    return Candidates(geoms, xy, kind, src, rep)


# ---------------------------------------------------------------------------
# the sparse coverage matrix


def _grid(xy: np.ndarray, x0: float, y0: float, cell: float, ncx: int):
    """Points bucketed into square cells: (order, sorted cell ids)."""
    cx = np.clip(((xy[:, 0] - x0) // cell).astype(np.int64), 0, ncx - 1)
    cy = np.maximum(((xy[:, 1] - y0) // cell).astype(np.int64), 0)
    cid = cy * ncx + cx
    order = np.argsort(cid, kind="stable")
    return order, cid[order]


def _in_box(order, cids, box_cells, ncx: int) -> np.ndarray:
    """Positions of the points whose cell lies in the cell box (cx0, cy0, cx1, cy1)."""
    cx0, cy0, cx1, cy1 = box_cells
    rows = np.arange(cy0, cy1 + 1)
    lo = np.searchsorted(cids, rows * ncx + cx0, side="left")
    hi = np.searchsorted(cids, rows * ncx + cx1, side="right")
    if not len(lo):
        return np.empty(0, np.int64)
    return np.concatenate([order[a:b] for a, b in zip(lo, hi)])


def coverage_matrix(net, cands: Candidates, edge: np.ndarray, t_m: np.ndarray, leg_m: np.ndarray,
                    xy: np.ndarray, threshold_m: float, *, tile_m: float | None = None) -> sp.csr_matrix:
    """Which candidate brings which demand point within ``threshold_m`` (sparse, candidates × demand).

    Demand point ``i`` sits at offset ``t_m[i]`` of ``edge[i]`` with access leg
    ``leg_m[i]`` (its representative point is ``xy[i]``). Its distance from a
    candidate is ``min over the candidate's intervals`` of the coverage model's
    distance (:func:`geo.coverage.distance_at`) plus ``leg_m[i]``. Candidates are
    processed per square tile of side ``tile_m`` (default ``threshold_m / 2``):
    one :func:`scipy.sparse.csgraph.dijkstra` with ``limit=threshold_m`` from
    the tile's candidates (one virtual node each, wired one way to its edges'
    ends like :func:`geo.coverage.distance_field`) on the sub-network of nodes
    within ``threshold_m`` of the tile.
    """
    T = float(threshold_m)
    k, m = len(cands), len(edge)
    if k == 0 or m == 0 or len(cands.sources) == 0:
        return sp.csr_matrix((k, m), dtype=bool)
    ei = edge_index(net)
    base = base_csr(net)
    n = net.n_nodes
    node_xy = net.node_xy
    cell = float(tile_m or max(T / 2.0, 50.0))
    bounds = shapely.bounds(cands.geometry)
    allxy = np.vstack([node_xy, xy, bounds[:, :2], bounds[:, 2:]])
    x0, y0 = allxy.min(axis=0) - T - 1.0
    ncx = int((allxy[:, 0].max() + T + 1.0 - x0) // cell) + 1
    n_order, n_cid = _grid(node_xy, x0, y0, cell, ncx)
    d_order, d_cid = _grid(xy, x0, y0, cell, ncx)
    c_order, c_cid = _grid(cands.xy, x0, y0, cell, ncx)

    src = cands.sources
    by_cand = np.argsort(src.facility, kind="stable")
    cptr = np.searchsorted(src.facility[by_cand], np.arange(k + 1))
    du_all, dv_all = ei.u[edge], ei.v[edge]
    dL = ei.length_m[edge]
    pos = np.full(n, -1, np.int64)
    rows_out, cols_out = [], []
    starts = np.flatnonzero(np.r_[True, c_cid[1:] != c_cid[:-1]])
    ends = np.r_[starts[1:], len(c_cid)]
    for a, b in zip(starts, ends):
        cid = c_order[a:b]  # candidates of this tile
        lo = bounds[cid, :2].min(axis=0) - T
        hi = bounds[cid, 2:].max(axis=0) + T
        box = (max(0, int((lo[0] - x0) // cell)), max(0, int((lo[1] - y0) // cell)),
               min(ncx - 1, int((hi[0] - x0) // cell)), int((hi[1] - y0) // cell))
        S = np.sort(_in_box(n_order, n_cid, box, ncx))
        dem = _in_box(d_order, d_cid, box, ncx)
        if not len(dem):
            continue
        ms = len(S)
        pos[S] = np.arange(ms)
        # sub-network rows (CSR arrays copied, so explicit zeros stay edges)
        st = base.indptr[S]
        cnt = base.indptr[S + 1] - st
        ent = np.repeat(st - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
        col = pos[base.indices[ent]]
        keep = col >= 0
        row = np.repeat(np.arange(ms), cnt)[keep]
        col, w = col[keep], base.data[ent][keep]
        # one virtual node per candidate: one-way entries to its intervals' edge ends
        iv = np.concatenate([by_cand[cptr[c]:cptr[c + 1]] for c in cid])
        loc = np.repeat(np.arange(len(cid)), cptr[cid + 1] - cptr[cid])
        e = src.edge[iv]
        vt = np.concatenate([pos[ei.u[e]], pos[ei.v[e]]])
        vw = np.concatenate([src.t0_m[iv] + src.leg_m[iv], ei.length_m[e] - src.t1_m[iv] + src.leg_m[iv]])
        vr = np.concatenate([loc, loc])
        ok = (vt >= 0) & (vw <= T)
        vr, vt, vw = vr[ok], vt[ok], np.maximum(vw[ok], 0.0)
        o = np.lexsort((vw, vt, vr))
        vr, vt, vw = vr[o], vt[o], vw[o]
        first = np.ones(len(vr), bool)
        first[1:] = (vr[1:] != vr[:-1]) | (vt[1:] != vt[:-1])
        vr, vt, vw = vr[first], vt[first], vw[first]
        kt = len(cid)
        indptr = np.concatenate([np.searchsorted(row, np.arange(ms + 1)),
                                 len(row) + np.searchsorted(vr, np.arange(1, kt + 1))]).astype(np.int32)
        g = sp.csr_matrix((np.concatenate([w, vw]), np.concatenate([col, vt]).astype(np.int32), indptr),
                          shape=(ms + kt, ms + kt))
        # demand near the tile, and the same-edge terms
        eu, ev = pos[du_all[dem]], pos[dv_all[dem]]
        td, Ld, legd = t_m[dem], dL[dem], leg_m[dem]
        sorder = np.argsort(src.edge[iv], kind="stable")
        s_edge = src.edge[iv][sorder]
        slo = np.searchsorted(s_edge, edge[dem], side="left")
        scnt = np.searchsorted(s_edge, edge[dem], side="right") - slo
        q = np.repeat(np.arange(len(dem)), scnt)
        s = sorder[np.arange(len(q)) - np.repeat(np.cumsum(scnt) - scnt, scnt) + np.repeat(slo, scnt)]
        s_d = src.leg_m[iv][s] + np.maximum(0.0, np.maximum(src.t0_m[iv][s] - td[q], td[q] - src.t1_m[iv][s]))
        step = max(1, _MAX_DENSE // (ms + kt))
        for c0 in range(0, kt, step):
            c1 = min(kt, c0 + step)
            D = csgraph.dijkstra(g, directed=True, indices=ms + np.arange(c0, c1), limit=T)
            D = np.concatenate([D[:, :ms], np.full((c1 - c0, 1), np.inf)], axis=1)  # column ms = "not in S"
            d = np.minimum(D[:, np.where(eu >= 0, eu, ms)] + td, D[:, np.where(ev >= 0, ev, ms)] + (Ld - td))
            sel = (loc[s] >= c0) & (loc[s] < c1)
            np.minimum.at(d, (loc[s][sel] - c0, q[sel]), s_d[sel])
            r, c = np.nonzero(d + legd <= T)
            rows_out.append(cid[c0 + r])
            cols_out.append(dem[c])
        pos[S] = -1
    r = np.concatenate(rows_out) if rows_out else np.empty(0, np.int64)
    c = np.concatenate(cols_out) if cols_out else np.empty(0, np.int64)
    A = sp.csr_matrix((np.ones(len(r), bool), (r, c)), shape=(k, m))
    A.sum_duplicates()
    return A


# ---------------------------------------------------------------------------
# solvers


@dataclass(frozen=True)
class Solution:
    """An MCLP (or LSCP) solution.

    Attributes
    ----------
    chosen : ndarray of int
        Candidate rows, ranked by marginal gain (largest first).
    objective : float
        Demand weight covered by the chosen candidates (LSCP: number of sites).
    bound : float
        Best bound on the objective (upper for MCLP, lower for LSCP).
    status : str
        ``optimal`` (proven), ``time_limit`` or ``heuristic``.
    solver : str
        ``milp`` (HiGHS), ``greedy`` or ``trivial``.
    seconds : float
    """

    chosen: np.ndarray
    objective: float
    bound: float
    status: str
    solver: str
    seconds: float = 0.0

    @property
    def gap(self) -> float:
        """Relative gap to the bound (0 when proven optimal)."""
        if self.status == "optimal":
            return 0.0
        if not math.isfinite(self.bound) or self.bound == 0:
            return 0.0 if self.bound == self.objective else float("nan")
        return abs(self.bound - self.objective) / abs(self.bound)


def _rows_key(A: sp.csr_matrix) -> np.ndarray:
    """Group id of each row of a CSR matrix by its exact set of columns."""
    A = A.tocsr()
    A.sort_indices()
    keys = [A.indices[A.indptr[i]:A.indptr[i + 1]].tobytes() for i in range(A.shape[0])]
    _, gid = np.unique(np.array(keys, dtype=object), return_inverse=True)
    return gid


def _reduce(A: sp.csr_matrix, w: np.ndarray):
    """Drop useless rows/columns, merge identical candidates and identical demand columns.

    Returns (R, wr, cand_of_row, col_group): the reduced matrix, merged weights,
    the original candidate of each reduced row (the lowest of its group) and the
    reduced column of each original column (-1 = nobody covers it).
    """
    A = A.tocsr().astype(bool)
    m = A.shape[1]
    useful = np.flatnonzero(np.diff(A.indptr) > 0)
    if not len(useful):
        return sp.csr_matrix((0, 0), dtype=bool), np.zeros(0), np.zeros(0, np.int64), np.full(m, -1, np.int64)
    gid = _rows_key(A[useful])
    _, first = np.unique(gid, return_index=True)  # np.unique keeps the first occurrence: lowest candidate
    rows = useful[np.sort(first)]
    B = A[rows]
    covered = np.flatnonzero(np.asarray(B.sum(axis=0)).ravel() > 0)
    cg = _rows_key(B[:, covered].T.tocsr())
    ng = int(cg.max()) + 1 if len(cg) else 0
    col_group = np.full(m, -1, np.int64)
    col_group[covered] = cg
    wr = np.bincount(cg, weights=w[covered], minlength=ng)
    _, rep = np.unique(cg, return_index=True)
    R = B[:, covered[rep]].tocsr()
    return R, wr, rows, col_group


def _gain_order(A: sp.csr_matrix, w: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Chosen candidates ordered by marginal gain, largest first (ties: lowest row)."""
    todo = [int(j) for j in chosen]
    out, covered = [], np.zeros(A.shape[1], bool)
    while todo:
        gains = [float(w[c][~covered[c]].sum()) for c in (A.indices[A.indptr[j]:A.indptr[j + 1]] for j in todo)]
        best = max(range(len(todo)), key=lambda i: (gains[i], -todo[i]))
        j = todo.pop(best)
        out.append(j)
        covered[A.indices[A.indptr[j]:A.indptr[j + 1]]] = True
    return np.array(out, np.int64)


def mclp_greedy(A: sp.csr_matrix, w: np.ndarray, p: int) -> np.ndarray:
    """Greedy MCLP with lazy evaluation: the chosen rows, in the order picked (largest gain first).

    A candidate's gain only shrinks as others are chosen, so a stale gain is an
    upper bound: the top of the heap is re-evaluated and taken when it is still
    at least the next stale gain. Rows with no gain are never chosen.
    """
    A = A.tocsr()
    w = np.asarray(w, float)
    gains = A.astype(float) @ w
    heap = [(-g, j) for j, g in enumerate(gains) if g > 0]
    heapq.heapify(heap)
    covered = np.zeros(A.shape[1], bool)
    chosen: list[int] = []
    while heap and len(chosen) < p:
        _, j = heapq.heappop(heap)
        cols = A.indices[A.indptr[j]:A.indptr[j + 1]]
        g = float(w[cols][~covered[cols]].sum())
        if g <= 0:
            continue
        if heap and g < -heap[0][0] * (1 - 1e-12):
            heapq.heappush(heap, (-g, j))
            continue
        chosen.append(j)
        covered[cols] = True
    return np.array(chosen, np.int64)


def _covered_weight(A: sp.csr_matrix, w: np.ndarray, rows: np.ndarray) -> float:
    if not len(rows):
        return 0.0
    cols = np.unique(A[rows].indices)
    return float(w[cols].sum())


def _milp_mclp(R: sp.csr_matrix, w: np.ndarray, p: int, time_limit_s: float, relax: bool = False):
    k, m = R.shape
    c = np.concatenate([np.zeros(k), -w])
    cover = sp.hstack([-R.T.astype(float), sp.identity(m)]).tocsr()  # y_i - sum_j x_j <= 0
    budget = sp.csr_matrix(np.concatenate([np.ones(k), np.zeros(m)])[None, :])
    cons = [LinearConstraint(cover, -np.inf, 0.0), LinearConstraint(budget, 0.0, float(p))]
    integ = np.concatenate([np.ones(k), np.zeros(m)]) * (0 if relax else 1)
    return milp(c, constraints=cons, integrality=integ, bounds=Bounds(0.0, 1.0), options=_milp_options(R, time_limit_s))


def _milp_options(R: sp.csr_matrix, time_limit_s: float) -> dict:
    return {"time_limit": float(time_limit_s), "disp": False, "presolve": bool(R.nnz <= _PRESOLVE_MAX_NNZ)}


def mclp(A: sp.csr_matrix, w: np.ndarray, p: int, *, solver: str = "auto",
         time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> Solution:
    """Choose at most ``p`` candidates (rows of ``A``) covering the most demand weight ``w`` (columns).

    Parameters
    ----------
    A : sparse (candidates × demand), truthy where a candidate covers a demand point
    w : ndarray
        Demand weights (>= 0).
    p : int
    solver : {"auto", "milp", "greedy"}
        ``auto``/``milp``: lazy greedy, then the LP relaxation (HiGHS); when its
        bound does not already prove the greedy optimal, the HiGHS MILP (x binary,
        y continuous) within what is left of ``time_limit_s``; the better of the two
        is kept. ``greedy``: lazy greedy with the LP-relaxation bound.

    Returns
    -------
    Solution
        ``chosen`` in original row numbers, ranked by marginal gain.
    """
    if solver not in ("auto", "milp", "greedy"):
        raise InputError(f"未知的求解器：{solver}（可用 auto、milp、greedy）。",
                         f"unknown solver: {solver} (use auto, milp, greedy).")
    t0 = time.perf_counter()
    w = np.asarray(w, float)
    R, wr, rows, _ = _reduce(A, w)
    total = float(wr.sum())
    if p <= 0 or R.shape[0] == 0 or total <= 0:
        return Solution(np.zeros(0, np.int64), 0.0, 0.0 if p <= 0 else total, "optimal", "trivial",
                        time.perf_counter() - t0)
    g = mclp_greedy(R, wr, p)
    best, obj = g, _covered_weight(R, wr, g)
    if obj >= total * (1 - 1e-12):  # every coverable demand point is covered: nothing can beat it
        return Solution(rows[_gain_order(R, wr, g)], obj, total, "optimal", "greedy", time.perf_counter() - t0)
    if R.shape[0] <= p:
        allr = np.arange(R.shape[0])
        return Solution(rows[_gain_order(R, wr, allr)], total, total, "optimal", "trivial", time.perf_counter() - t0)
    # the LP relaxation bounds every integer solution; on MCLP it often proves the greedy optimal at once
    lp = _milp_mclp(R, wr, p, time_limit_s, relax=True)
    bound = -float(lp.fun) if lp.x is not None else total
    used, status = "greedy", "heuristic"
    tol = 1e-7 * max(1.0, obj)
    if bound <= obj + tol:
        status = "optimal"
    elif solver != "greedy":
        left = time_limit_s - (time.perf_counter() - t0)
        res = _milp_mclp(R, wr, p, max(0.1, left)) if left > 0 else None
        if res is not None and res.x is not None:
            x = np.flatnonzero(res.x[:R.shape[0]] > 0.5)
            xo = _covered_weight(R, wr, x)
            if xo > obj + tol or (res.status == 0 and xo >= obj - tol):
                best, obj, used = x, xo, "milp"
        if res is not None and res.status == 0:
            status, bound = "optimal", obj
        else:
            status = "time_limit"
            dual = getattr(res, "mip_dual_bound", None) if res is not None else None
            if dual is not None and math.isfinite(dual):
                bound = min(bound, -float(dual))
    bound = max(min(bound, total), obj)
    if status != "optimal" and bound <= obj + tol:
        status = "optimal"  # the bound proves it
    return Solution(rows[_gain_order(R, wr, best)], obj, bound, status, used, time.perf_counter() - t0)


def lscp(A: sp.csr_matrix, *, time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> Solution:
    """Fewest candidates covering every coverable demand point (set covering, LSCP).

    Demand that no candidate reaches is left out. Greedy set cover first; the
    LP relaxation's bound (rounded up) proves it optimal when they meet,
    otherwise the HiGHS MILP runs within ``time_limit_s``. ``objective`` is the
    number of sites and ``bound`` the best lower bound.
    """
    t0 = time.perf_counter()
    R, _, rows, _ = _reduce(A, np.ones(A.shape[1]))
    k, m = R.shape
    if m == 0:
        return Solution(np.zeros(0, np.int64), 0.0, 0.0, "optimal", "trivial", time.perf_counter() - t0)
    ones = np.ones(m)
    best = mclp_greedy(R, ones, k)
    cover = [LinearConstraint(R.T.astype(float).tocsr(), 1.0, np.inf)]
    lp = milp(np.ones(k), constraints=cover, integrality=np.zeros(k), bounds=Bounds(0.0, 1.0),
              options=_milp_options(R, time_limit_s))
    bound = float(math.ceil(lp.fun - 1e-7)) if lp.x is not None else 1.0
    solver, status = "greedy", "heuristic"
    if len(best) <= bound:
        status = "optimal"
    else:
        left = time_limit_s - (time.perf_counter() - t0)
        res = milp(np.ones(k), constraints=cover, integrality=np.ones(k), bounds=Bounds(0.0, 1.0),
                   options=_milp_options(R, max(0.1, left))) if left > 0 else None
        if res is not None and res.x is not None:
            x = np.flatnonzero(res.x > 0.5)
            if len(x) <= len(best):
                best, solver = x, "milp"
        if res is not None and res.status == 0:
            status, bound = "optimal", float(len(best))
        else:
            status = "time_limit"
            dual = getattr(res, "mip_dual_bound", None) if res is not None else None
            if dual is not None and math.isfinite(dual):
                bound = max(bound, float(math.ceil(dual - 1e-7)))
            if len(best) <= bound:
                status = "optimal"
    return Solution(rows[_gain_order(R, ones, best)], float(len(best)), bound, status, solver,
                    time.perf_counter() - t0)


# ---------------------------------------------------------------------------
# the siting run


@dataclass
class SitingResult:
    """What :func:`site` returns.

    ``sites`` (WGS-84) has :data:`SITE_COLUMNS` first, then the weighted
    columns (``<unit>_newly_covered, <unit>_covered_total,
    share_<unit>_covered_total`` when demand is weighted), ``weighting``,
    ``candidate``, ``snap_m`` and the Facilities schema columns
    (``facility_id, name, status, source``) so the file can be read back as
    facilities. ``params`` holds the solver figures, ``notes`` what a planner
    should read.
    """

    sites: gpd.GeoDataFrame
    params: dict
    notes: list[Message] = field(default_factory=list)
    solution: Solution | None = None
    lscp: Solution | None = None


def _building_distance(dist: Distances, category: str, extra: Sources | None) -> np.ndarray:
    """Building distances as coverage computes them, with optional extra access intervals."""
    assert dist.building_snap is not None  # site() checked that the run has buildings, snapped with them
    src = dist.fields[category].sources
    if extra is not None and len(extra):
        src = Sources.build(*[np.concatenate([getattr(src, a), getattr(extra, a)])
                              for a in ("edge", "t0_m", "t1_m", "leg_m", "facility")])
    fld = distance_field(dist.net, src)
    d, _ = distance_at(dist.net, fld, dist.building_snap.edge, dist.building_snap.t_m)
    d = d + dist.building_snap.snap_m
    d[dist.snap_too_far] = np.nan
    return d


def _scope(boundaries, subdistrict: str | None, crs):
    """(dissolved metric boundaries, scope polygon or None)."""
    b = subdistrict_boundaries(boundaries, crs) if boundaries is not None else None
    if subdistrict is None:
        return b, (shapely.union_all(np.asarray(b.geometry.values, dtype=object)) if b is not None and len(b) else None)
    names = list(b["subdistrict"]) if b is not None else []
    if b is None or subdistrict not in names:
        listed = "、".join(names) if names else "（无边界图层）"
        raise InputError(f"街道“{subdistrict}”不在研究区的边界中；可用：{listed}。",
                         f"subdistrict '{subdistrict}' is not among the study area's boundaries; valid: "
                         f"{', '.join(names) if names else '(no boundaries layer)'}.")
    return b, b.geometry.values[names.index(subdistrict)]


def site(dist: Distances, category: str, count: int, *, boundaries: gpd.GeoDataFrame | None = None,
         subdistrict: str | None = None, threshold_m: float | None = None,
         candidates: str | gpd.GeoDataFrame = "streets", spacing_m: float = DEFAULT_SPACING_M,
         weights: DemandWeights | None = None, solver: str = "auto", time_limit_s: float = DEFAULT_TIME_LIMIT_S,
         label_features: gpd.GeoDataFrame | None = None, with_lscp: bool = False, lang: str = "zh") -> SitingResult:
    """Propose ``count`` new facilities of ``category`` covering the most uncovered demand.

    Parameters
    ----------
    dist : Distances
        :func:`geo.coverage.compute_distances` of the existing facilities, with
        buildings (the demand) and ``category`` among its categories.
    count : int
        Number of new sites ``p`` (0 proposes nothing).
    boundaries : GeoDataFrame, optional
        ``subdistrict`` polygons: the study area for candidates, and the
        subdistrict of each site.
    subdistrict : str, optional
        Restrict candidates to this subdistrict (demand anywhere still counts).
    threshold_m : float, optional
        Walking threshold (default: the taxonomy's for ``category``).
    candidates : "streets", "buildings" or GeoDataFrame
        See :func:`candidate_sites`.
    weights : DemandWeights, optional
        Demand weights of ``dist.buildings`` (default: :func:`geo.demand.demand_weights`).
    solver, time_limit_s : see :func:`mclp`.
    with_lscp : bool
        Also solve the set-covering reference (fewest sites for full coverage).
    lang : str
        Language of the weighting note in the table and params (``"zh"`` or ``"en"``).

    Raises
    ------
    InputError
        Unknown category or subdistrict, bad count or threshold, no buildings.
    """
    if category not in CATEGORIES:
        raise InputError(f"未知的设施类别：{category}。可用类别：{', '.join(CATEGORY_KEYS)}。",
                         f"unknown category: {category}; known: {', '.join(CATEGORY_KEYS)}.")
    if category not in dist.categories:
        raise InputError(f"类别 {category} 未参与距离计算。", f"category {category} was not part of the distance run.")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise InputError(f"新增设施数必须是非负整数，得到 {count!r}。", f"the count must be a whole number >= 0, got {count!r}.")
    T = float(CATEGORIES[category].threshold_m if threshold_m is None else threshold_m)
    if not (math.isfinite(T) and T > 0):
        raise InputError(f"阈值必须是正数（米），得到 {threshold_m!r}。",
                         f"the threshold must be a positive number of metres, got {threshold_m!r}.")
    if dist.buildings is None or not len(dist.buildings):
        raise InputError("选址需要居住建筑作为需求（--buildings 或已准备研究区的建筑）。",
                         "siting needs residential buildings as demand (--buildings, or a prepared area with buildings).")
    # compute_distances sets these together with the buildings
    assert dist.building_snap is not None and dist.building_xy is not None and dist.snap_too_far is not None
    net = dist.net
    b, scope = _scope(boundaries, subdistrict, net.crs)
    w8 = weights if weights is not None else demand_weights(dist.buildings)
    if len(w8.weights) != len(dist.buildings):
        raise ValueError("weights must have one value per building of dist.buildings")
    wts = np.asarray(w8.weights, float)
    notes: list[Message] = []
    # demand: the buildings inside the study area (all of them without boundaries), as coverage's table counts them
    in_area = pd.notna(assign_subdistrict(dist.building_xy, b))
    nb = int(in_area.sum())
    d0 = dist.building_dist[category]
    cov0 = (d0 <= T) & in_area
    pool = np.flatnonzero(in_area & ~cov0 & ~dist.snap_too_far)
    t_start = time.perf_counter()
    cands = candidate_sites(net, candidates, within=scope, buildings=dist.buildings, spacing_m=spacing_m,
                            max_snap_m=float(dist.params.get("max_snap_m", 200.0)),
                            access_tol_m=float(dist.params.get("access_tol_m", 20.0)))
    bs = dist.building_snap
    A = coverage_matrix(net, cands, bs.edge[pool], bs.t_m[pool], bs.snap_m[pool], dist.building_xy[pool], T)
    t_matrix = time.perf_counter() - t_start
    sol = mclp(A, wts[pool], int(count), solver=solver, time_limit_s=time_limit_s)
    coverable = np.asarray(A.sum(axis=0)).ravel() > 0
    ref = lscp(A, time_limit_s=time_limit_s) if with_lscp else None

    cat_zh, cat_en = label(category, "zh"), label(category, "en")
    if not len(pool):
        notes.append(warn(f"{cat_zh}：{T:g} 米内已覆盖全部可达建筑，无需新增设施。",
                          f"{cat_en}: every reachable building is already within {T:g} m; no new site is needed."))
    elif count and not len(sol.chosen):
        notes.append(warn(f"{cat_zh}：没有候选点能在 {T:g} 米内覆盖尚未覆盖的建筑，未提出选址。",
                          f"{cat_en}: no candidate brings any uncovered building within {T:g} m; no site proposed."))
    elif len(sol.chosen) < count:
        notes.append(warn(f"{cat_zh}：{len(sol.chosen)} 处新设施已覆盖候选点能覆盖的全部建筑，"
                          f"其余 {count - len(sol.chosen)} 处不再增加覆盖，未列出。",
                          f"{cat_en}: {len(sol.chosen)} new sites already cover all that the candidates can reach; "
                          f"the other {count - len(sol.chosen)} would add nothing and are not listed."))
    n_unreach = int((~coverable).sum()) if len(pool) else 0
    if n_unreach:
        notes.append(warn(f"{cat_zh}：{n_unreach} 栋未覆盖建筑距任何候选点都超过 {T:g} 米。",
                          f"{cat_en}: {n_unreach} uncovered buildings are farther than {T:g} m from every candidate."))
    far = int((dist.snap_too_far & in_area).sum())
    if far:
        notes.append(warn(f"{far} 栋建筑距可步行道路过远，无法被覆盖。",
                          f"{far} buildings are too far from any walkable edge to be covered."))
    if sol.status != "optimal":
        notes.append(warn(f"求解未证明最优（{sol.status}），与上界差距 {sol.gap:.1%}。",
                          f"not proven optimal ({sol.status}); gap to the bound {sol.gap:.1%}."))

    # per site: totals from the coverage engine itself (existing + the first k sites)
    chosen = sol.chosen
    rows = []
    src = cands.sources
    nfac = len(dist.facilities[category])
    prev_b, prev_w = int(cov0.sum()), float(wts[cov0].sum())
    tot_w = float(wts[in_area].sum())
    for r in range(len(chosen)):
        sel = np.isin(src.facility, chosen[: r + 1])
        extra = src.subset(sel)
        rank_of = {int(c): i for i, c in enumerate(chosen)}
        extra = Sources(extra.edge, extra.t0_m, extra.t1_m, extra.leg_m,
                        nfac + np.array([rank_of[int(f)] for f in extra.facility], np.int64))
        cov = (_building_distance(dist, category, extra) <= T) & in_area
        nb_cov, w_cov = int(cov.sum()), float(wts[cov].sum())
        row = {"buildings_newly_covered": nb_cov - prev_b, "buildings_covered_total": nb_cov,
               "share_buildings_covered_total": nb_cov / nb if nb else np.nan}
        if w8.weighted:
            u = w8.unit
            row.update({f"{u}_newly_covered": w_cov - prev_w, f"{u}_covered_total": w_cov,
                        f"share_{u}_covered_total": w_cov / tot_w if tot_w > 0 else np.nan})
        rows.append(row)
        prev_b, prev_w = nb_cov, w_cov
    final_w = prev_w - float(wts[cov0].sum())
    if len(chosen) and abs(final_w - sol.objective) > 1e-6 * max(1.0, sol.objective):
        notes.append(warn(f"复核：按覆盖引擎重算的新增覆盖（{final_w:g}）与求解目标值（{sol.objective:g}）不一致。",
                          f"check: the coverage engine's re-count ({final_w:g}) differs from the solver objective "
                          f"({sol.objective:g})."))
    xy = cands.xy[chosen] if len(chosen) else np.empty((0, 2))
    geoms = cands.geometry[chosen] if len(chosen) else np.empty(0, object)
    sub = assign_subdistrict(xy, b)
    labels, _ = location_labels(  # (Chinese, English): the site table keeps one location column, as before
        xy, net, label_features if label_features is not None else named_facilities(dist))
    ll = gpd.GeoSeries(shapely.points(xy), crs=net.crs).to_crs(4326) if len(xy) else gpd.GeoSeries([], crs=4326)
    snap = cands.report["snap_m"].to_numpy(float)[chosen] if len(chosen) else np.empty(0)
    table = pd.DataFrame(rows, index=range(len(chosen)))
    # np.object_ is the same dtype as object; pandas-stubs accept the builtin only for a list
    out = pd.DataFrame({"rank": np.arange(1, len(chosen) + 1), "category": category,
                        "subdistrict": pd.array(sub, dtype=np.object_), "lon": ll.x.to_numpy(), "lat": ll.y.to_numpy(),
                        "label": labels})
    out = pd.concat([out, table], axis=1)
    wcols = [f"{w8.unit}_newly_covered", f"{w8.unit}_covered_total", f"share_{w8.unit}_covered_total"]
    for col in SITE_COLUMNS[6:] + (wcols if w8.weighted else []):
        if col not in out:
            out[col] = pd.Series(dtype=float)
    out["weighting"] = w8.description(lang)
    out["candidate"] = cands.kind
    out["snap_m"] = snap
    out["facility_id"] = [f"siting:{category}:{i}" for i in range(1, len(chosen) + 1)]
    out["name"] = ""  # no name: a proposal must never be merged with a real facility by name
    out["status"] = "planned"
    out["source"] = "siting"
    sites = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(list(geoms), crs=net.crs).to_crs(4326).values, crs=4326)
    params = {
        "category": category, "threshold_m": T, "count": int(count), "proposed": len(chosen),
        "subdistrict": subdistrict, "candidates": cands.kind,
        "spacing_m": float(spacing_m) if cands.kind == "streets" else None,
        "n_candidates": len(cands), "n_candidates_snapped": int((~cands.report["excluded"]).sum()),
        "n_buildings": int(nb), "n_buildings_outside_area": int((~in_area).sum()), "buildings_covered_before": int(cov0.sum()),
        "buildings_uncovered": len(pool), "buildings_coverable": int(coverable.sum()),
        "weighting": w8.method, "weighting_note": w8.description(lang), "demand_unit": w8.unit,
        "demand_weight_total": tot_w, "demand_weight_covered_before": float(wts[cov0].sum()),
        "matrix_nonzeros": int(A.nnz), "matrix_seconds": round(t_matrix, 4),
        "solver": sol.solver, "status": sol.status, "objective": sol.objective, "bound": sol.bound,
        "gap": sol.gap, "solve_seconds": round(sol.seconds, 4), "time_limit_s": float(time_limit_s),
    }
    if ref is not None:
        params.update(lscp_sites=int(ref.objective), lscp_status=ref.status, lscp_bound=ref.bound)
    return SitingResult(sites, params, notes, sol, ref)


# ---------------------------------------------------------------------------
# CLI


def _read_candidates(path: str) -> gpd.GeoDataFrame:
    """A user candidate layer: a vector file of points/polygons, or a table with lon/lat (geocode output)."""
    from . import facilities as fac
    from .io import read_vector, require_file

    p = require_file(path)
    if p.suffix.lower() in fac.TABLE_SUFFIXES:
        t = fac.read_csv_any(p) if p.suffix.lower() in (".csv", ".txt", ".tsv") else pd.read_excel(p)
        xcol = fac.find_column(t.columns, fac.LON_NAMES, fuzzy=r"lon|lng|经度")
        ycol = fac.find_column(t.columns, fac.LAT_NAMES, fuzzy=r"lat|纬度")
        if xcol is None or ycol is None:
            raise InputError("候选点表格缺少经纬度列（lon/lat 或 经度/纬度）。",
                             "the candidates table has no longitude/latitude columns (lon/lat).", p)
        x = pd.to_numeric(t[xcol], errors="coerce").to_numpy(float)
        y = pd.to_numeric(t[ycol], errors="coerce").to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        g = gpd.GeoDataFrame(t[ok].reset_index(drop=True), geometry=shapely.points(x[ok], y[ok]), crs=4326)
    else:
        g = read_vector(p)
    g = g[g.geometry.notna() & ~g.geometry.is_empty]
    if not len(g):
        raise InputError("候选点文件没有可用的要素。", "the candidates file has no usable features.", p)
    g.attrs["name"] = p.name
    return g


def _read_demand(path: str) -> gpd.GeoDataFrame:
    """Residential demand from a file: building footprints and/or points (小区), ids added, WGS-84."""
    from .areas import with_building_ids
    from .io import read_vector

    b = read_vector(path)
    if not len(b):
        raise InputError("建筑文件没有要素。", "the buildings file has no features.", path)
    b = with_building_ids(b, Path(path).stem, points=True)
    if not len(b):
        raise InputError("建筑文件中没有面或点要素。", "the buildings file has no polygons or points.", path)
    return b


def cli_site(args) -> int:
    """``lifecircle site``: propose new sites for one category and write sites.csv, sites.gpkg, params.json."""
    import argparse
    import json
    import sys

    from . import facilities as fac
    from .areas import ATTRIBUTION, json_default, quiet_libraries
    from .coverage import compute_distances
    from .io import gpkg_safe, to_csv_bom
    from .outdir import check_not_input, check_outdir, owned_dir
    from .pipeline import study_from_args
    from .progress import stderr_progress
    from .study import load_inputs

    @quiet_libraries
    def run() -> int:
        lang = getattr(args, "lang", "zh")
        if args.category not in CATEGORIES:
            raise InputError(f"未知的设施类别：{args.category}。可用类别：{', '.join(CATEGORY_KEYS)}。",
                             f"unknown category: {args.category}; known: {', '.join(CATEGORY_KEYS)}.")
        if args.count < 0:
            raise InputError(f"--count 必须是非负整数，得到 {args.count}。", f"--count must be >= 0, got {args.count}.")
        outdir = Path(args.outdir)
        progress = stderr_progress()
        # the study (area or network, facility layers, boundaries, scenario) as `coverage` reads it; demand is
        # read here, since it may be points (小区) with population or household columns
        study = study_from_args(argparse.Namespace(**{**vars(args), "threshold": [], "buildings": None,
                                                      "persons_per_household": None, "m2_per_person": None,
                                                      "profile": getattr(args, "profile", "default"),
                                                      "speed": getattr(args, "speed", None)}))
        # before any work: OUTDIR may be written (no foreign files unless --force) and is none of the inputs
        cand_file = args.candidates if args.candidates not in ("streets", "buildings") else None
        check_not_input(outdir, [study.area, study.network, study.boundaries, args.buildings, cand_file,
                                 *(x for layer in study.layers for x in (layer.path, layer.corrections))],
                        replaces=SITE_FILES)
        check_outdir(outdir, "site", SITE_FILES, force=args.force)
        inputs = load_inputs(study, progress=progress)
        net, boundaries = inputs.network, inputs.boundaries
        buildings = _read_demand(args.buildings) if args.buildings else inputs.buildings
        if buildings is None or not len(buildings):
            raise InputError("选址需要居住建筑作为需求：请用 --buildings 给出建筑（或使用含建筑的研究区）。",
                             "siting needs residential buildings as demand: give --buildings (or an area with buildings).")
        _scope(boundaries, args.subdistrict, net.crs)  # an unknown subdistrict fails before any heavy work
        cand = args.candidates
        if cand not in ("streets", "buildings"):
            cand = _read_candidates(cand)
        threshold = args.threshold if args.threshold is not None else study.thresholds_m()[args.category]
        used = fac.filter_scenario(inputs.facilities, study.include_planned)
        used = used[used["category"] == args.category]  # the same field as coverage's, without the other categories
        progress(0.3, f"{args.category}: distances")
        dist = compute_distances(net, used, buildings, categories=(args.category,))
        weights = demand_weights(dist.buildings,  # the flags, else the study's weighting
                                 persons_per_household=study.persons_per_household
                                 if args.persons_per_household is None else args.persons_per_household,
                                 m2_per_person=study.m2_per_person if args.m2_per_person is None else args.m2_per_person)
        progress(0.6, f"{args.category}: siting {args.count}")
        res = site(dist, args.category, args.count, boundaries=boundaries, subdistrict=args.subdistrict,
                   threshold_m=threshold, candidates=cand, spacing_m=args.spacing, time_limit_s=args.time_limit,
                   solver=args.solver, with_lscp=args.lscp, weights=weights, lang=lang,
                   label_features=inputs.facilities[["name", "geometry"]])  # named places of every category
        params = dict(res.params, include_planned=study.include_planned, attribution=ATTRIBUTION,
                      study=study.to_dict(), demand=args.buildings or "", candidates_file=(
                          args.candidates if args.candidates not in ("streets", "buildings") else ""),
                      notes=[n.to_dict() for n in res.notes],
                      warnings=[w.to_dict() for w in dict.fromkeys(inputs.warnings + dist.warnings)])
        with owned_dir(outdir, "site", SITE_FILES, force=args.force) as tmp:
            to_csv_bom(pd.DataFrame(res.sites.drop(columns="geometry")), tmp / "sites.csv")
            gpkg_safe(res.sites).to_file(tmp / "sites.gpkg", layer="sites", engine="pyogrio")
            (tmp / "params.json").write_text(json.dumps(params, ensure_ascii=False, indent=1, default=json_default),
                                             encoding="utf-8")
        progress(1.0, "siting done")
        p = res.params
        gap = "" if p["status"] == "optimal" else t("cli_site_gap", lang, gap=p["gap"])
        print(t("cli_site_summary", lang, category=label(args.category, lang), proposed=p["proposed"],
                n=p["n_candidates"], candidates=p["candidates"], objective=p["objective"], unit=p["demand_unit"],
                solver=p["solver"], status=p["status"], gap=gap))
        print(p["weighting_note"])
        if res.lscp is not None:
            opt = "" if p["lscp_status"] == "optimal" else t("cli_site_lower_bound", lang, bound=p["lscp_bound"])
            print(t("cli_site_lscp", lang, sites=p["lscp_sites"], opt=opt))
        if len(res.sites):
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print(pd.DataFrame(res.sites[SITE_COLUMNS]).to_string(index=False))
        for n in res.notes:
            print(t("cli_note", lang) + n.text(lang))
        for w in params["warnings"]:
            print(t("cli_warning", lang) + Message.coerce(w).text(lang), file=sys.stderr)
        print(t("cli_written", lang, o=outdir))
        print(ATTRIBUTION)
        return 0

    return run()
