#!/usr/bin/env python
"""Benchmark of ``lifecircle site`` (geo.siting): the default area end to end, a synthetic district
about 10x its size, and PySAL spopt's MCLP on the same instance.

Run from the repository root with the project venv (spopt comes with the ``test`` extra)::

    .venv/bin/python bench/siting.py [--category elderly_care] [--count 5] [--skip-synthetic]

What is timed, in one run:

1. ``lifecircle site --area data/areas/xinjiangwan --category C --count 5`` as a subprocess
   (wall clock, Python start-up included; best of 3); target < 2 s. The area is the one
   ``lifecircle prepare`` made, or is prepared from ../shared/data into a temporary folder.
2. In-process, the same run split into load / distances / candidates / coverage matrix / solve.
3. spopt ``MCLP.from_cost_matrix`` + CBC on the very coverage matrix of (2) (dense cost matrix,
   as spopt takes it), its time and objective beside ours, and the ratio.
4. A SYNTHETIC district: a seeded perturbed street lattice (``bench/coverage.py``'s generator)
   about 10x the default network's extent and street length, 10x its buildings and facilities,
   3x3 subdistricts; ``compute_distances`` + ``site`` with street candidates every 50 m; target < 30 s.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from geo import coverage as cv  # noqa: E402
from geo import siting as st  # noqa: E402
from geo.areas import load_area, prepare_offline  # noqa: E402
from geo.demand import demand_weights  # noqa: E402
from geo.settings import shared_dir  # noqa: E402

SHARED = shared_dir()
AREA = REPO / "data" / "areas" / "xinjiangwan"

warnings.filterwarnings("ignore")
SEED = 20251201


def timed(fn):
    gc.collect()
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - w, time.process_time() - c), out


def fmt(t: float) -> str:
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"


def bench_coverage_module():
    """bench/coverage.py, for its synthetic lattice generator (not duplicated here)."""
    spec = importlib.util.spec_from_file_location("bench_coverage", REPO / "bench" / "coverage.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def the_area() -> Path:
    if (AREA / "area.json").is_file():
        return AREA
    if not (SHARED / "data").is_dir():
        sys.exit(f"needs data/areas/xinjiangwan (lifecircle prepare) or ../shared/data (looked in {SHARED})")
    root = Path(tempfile.mkdtemp(prefix="bench-siting-"))
    prepare_offline("xinjiangwan", SHARED / "data", data_dir=root)
    return root / "areas" / "xinjiangwan"


def spopt_mclp(A, w: np.ndarray, p: int, T: float, time_limit: float):
    """spopt MCLP on the same coverage matrix; (seconds, objective, note)."""
    try:
        import pulp
        from spopt.locate import MCLP
    except ImportError as exc:
        return float("nan"), float("nan"), f"spopt not installed ({exc}); pip install -e '.[test]'"
    t0 = time.perf_counter()
    cost = np.where(A.toarray().T, 0.0, 10 * T)  # demand x candidates, as spopt takes it
    model = MCLP.from_cost_matrix(cost, w, service_radius=T, p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    secs = time.perf_counter() - t0
    chosen = [j for j, v in enumerate(model.fac_vars) if v.value() and v.value() > 0.5]
    obj = float(w[np.unique(A.tocsr()[chosen].indices)].sum()) if chosen else 0.0
    return secs, obj, f"CBC status {pulp.LpStatus[model.problem.status]}"


def synthetic(bc, n_buildings: int, n_fac: int, category: str, p: int, junctions: int, subdiv: int, block: float):
    net = bc.synthetic_graph(junctions=junctions, subdiv=subdiv, block_m=block, seed=SEED)
    rng = np.random.default_rng(SEED)
    ei = cv.edge_index(net)
    # buildings: 12 x 12 m squares 15-40 m beside random edges
    e = rng.integers(0, len(ei.geoms), n_buildings)
    mid = shapely.get_coordinates(shapely.line_interpolate_point(ei.geoms[e], rng.random(n_buildings), normalized=True))
    ang = rng.uniform(0, 2 * np.pi, n_buildings)
    off = rng.uniform(15, 40, n_buildings)
    c = mid + np.c_[np.cos(ang), np.sin(ang)] * off[:, None]
    bld = gpd.GeoDataFrame({"building_id": np.arange(n_buildings)},
                           geometry=shapely.box(c[:, 0] - 6, c[:, 1] - 6, c[:, 0] + 6, c[:, 1] + 6), crs=net.crs)
    f = rng.choice(net.n_nodes, n_fac, replace=False)
    fac = gpd.GeoDataFrame({"facility_id": [f"syn:{i}" for i in range(n_fac)], "name": "", "category": category},
                           geometry=shapely.points(net.node_xy[f] + 8.0), crs=net.crs)
    x0, y0 = net.node_xy.min(axis=0) - 50
    x1, y1 = net.node_xy.max(axis=0) + 50
    xs, ys = np.linspace(x0, x1, 4), np.linspace(y0, y1, 4)
    cells = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(3) for j in range(3)]
    bnd = gpd.GeoDataFrame({"subdistrict": [f"合成{k + 1}" for k in range(9)]}, geometry=cells, crs=net.crs)
    return net, bld, fac, bnd


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--category", default="elderly_care")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--spopt-time-limit", type=float, default=300.0, help="CBC time limit for spopt (s)")
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--scale", type=float, default=10.0, help="synthetic district size / default network (default 10)")
    args = ap.parse_args()
    cat, p = args.category, args.count
    t_all = time.perf_counter()
    print("lifecircle site benchmark")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print("times: process CPU time and wall clock; every step is single-threaded, so CPU time is what the wall clock")
    print("       shows on an idle machine; targets use CPU time (other jobs on a shared machine inflate wall time)")
    area = the_area()

    # 1. the CLI end to end
    exe = Path(sys.executable).with_name("lifecircle")
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "geo.cli"]),
           "site", "--area", str(area), "--category", cat, "--count", str(p)]
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(3):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            w0 = time.perf_counter()
            r = subprocess.run([*cmd, "-o", str(Path(tmp) / f"o{i}")], capture_output=True, text=True, check=False)
            walls.append(time.perf_counter() - w0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
            if r.returncode != 0:
                print(r.stdout, r.stderr)
                return 1
        summary = r.stdout.splitlines()[0]
    cli, cli_wall = min(cpus), min(walls)
    print(f"\n== default area ({area}) ==")
    print(f"(1) `lifecircle site --category {cat} --count {p}` end to end, subprocess incl. Python start-up: "
          f"{fmt(cli)} CPU ({fmt(cli_wall)} wall), best of 3 (CPU {', '.join(fmt(x) for x in cpus)}; "
          f"wall {', '.join(fmt(x) for x in walls)})")
    print(f"    {summary}")

    # 2. in process, by step
    (t_load, _), a = timed(lambda: load_area(area, context=False))
    fac = a.facilities[a.facilities["category"] == cat]
    (t_dist, _), dist = timed(lambda: cv.compute_distances(a.network, fac, a.buildings, categories=(cat,)))
    (t_site, c_site), res = timed(lambda: st.site(dist, cat, p, boundaries=a.boundaries))  # (wall, CPU)
    P = res.params
    print(f"(2) in process, wall: load_area {fmt(t_load)}, compute_distances ({cat}) {fmt(t_dist)}, site() {fmt(t_site)} "
          f"(CPU {fmt(c_site)}) of which, wall, coverage matrix {fmt(P['matrix_seconds'])} "
          f"[{P['n_candidates']:,} street candidates every 50 m x {P['buildings_uncovered']:,} uncovered buildings, "
          f"{P['matrix_nonzeros']:,} pairs] and solve {fmt(P['solve_seconds'])} ({P['solver']}/{P['status']})")
    print(f"    objective: {P['objective']:g} buildings newly covered; before {P['buildings_covered_before']} "
          f"of {P['n_buildings']}; bound {P['bound']:g}, gap {P['gap']:.2%}")

    # 3. spopt on the same instance
    b = cv.subdistrict_boundaries(a.boundaries, dist.net.crs)
    T = P["threshold_m"]
    in_area = pd.notna(cv.assign_subdistrict(dist.building_xy, b))
    pool = np.flatnonzero(in_area & ~(dist.building_dist[cat] <= T) & ~dist.snap_too_far)
    c = st.candidate_sites(dist.net, "streets", within=shapely.union_all(b.geometry.values))
    bs = dist.building_snap
    A = st.coverage_matrix(dist.net, c, bs.edge[pool], bs.t_m[pool], bs.snap_m[pool], dist.building_xy[pool], T)
    w = demand_weights(dist.buildings).weights[pool]
    cbc0 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    (t_ours_w, t_ours), sol = timed(lambda: st.mclp(A, w, p))
    c0 = time.process_time()
    t_sp_w, obj_sp, note = spopt_mclp(A, w, p, T, args.spopt_time_limit)
    t_sp = time.process_time() - c0 + (resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - cbc0)  # + CBC child
    same = "SAME" if obj_sp == sol.objective else "DIFFERENT"
    print(f"(3) on the same {A.shape[0]:,} x {A.shape[1]:,} coverage matrix: geo.siting.mclp objective "
          f"{sol.objective:g} ({sol.solver}/{sol.status}), {fmt(t_ours)} CPU ({fmt(t_ours_w)} wall); spopt MCLP "
          f"(dense cost matrix + CBC) {fmt(t_sp)} CPU incl. the CBC process ({fmt(t_sp_w)} wall) objective "
          f"{obj_sp:g} ({note}) -> objectives {same}, spopt/ours CPU time {t_sp / t_ours:.0f}x")

    # 4. synthetic district
    t_syn = float("nan")
    if not args.skip_synthetic:
        bc = bench_coverage_module()
        hull = shapely.convex_hull(shapely.multipoints(a.network.node_xy)).area
        length = float(a.network.edges["length_m"].sum())
        side = np.sqrt(args.scale * hull)
        block = 1.8 * side ** 2 / (args.scale * length)  # lattice street length ~ 1.8 side^2 / block
        J = round(side / block)
        net, bld, sfac, bnd = synthetic(bc, int(args.scale * len(a.buildings)), int(args.scale * len(fac)), cat, p,
                                        J, 2, block)
        print(f"\n== SYNTHETIC district: {args.scale:g}x the default network ({hull / 1e6:.1f} km2, "
              f"{length / 1000:.0f} km of streets) ==")
        print(f"SYNTHETIC: {J}x{J} junctions every {block:.0f} m, {net.n_nodes:,} nodes, {len(net.edges):,} edges, "
              f"{net.edges['length_m'].sum() / 1000:,.0f} km, {len(bld):,} buildings, {len(sfac)} {cat} facilities, "
              f"9 subdistricts")

        def run():
            d = cv.compute_distances(net, sfac, bld, categories=(cat,))
            return d, st.site(d, cat, p, boundaries=bnd)

        (w_syn, t_syn), (_, sres) = timed(run)
        S = sres.params
        print(f"compute_distances + site(p={p}): {fmt(t_syn)} CPU ({fmt(w_syn)} wall); coverage matrix "
              f"{fmt(S['matrix_seconds'])} wall [{S['n_candidates']:,} candidates x {S['buildings_uncovered']:,} uncovered, "
              f"{S['matrix_nonzeros']:,} pairs], solve {fmt(S['solve_seconds'])} wall ({S['solver']}/{S['status']}, "
              f"gap {S['gap']:.2%}); objective {S['objective']:g} of {S['buildings_coverable']:,} coverable")
        print(f"spopt not run on SYNTHETIC: its dense cost matrix would hold "
              f"{S['n_candidates'] * S['buildings_uncovered']:,} cells")

    print("\n== targets ==")
    print(f"{'PASS' if cli < 2 else 'FAIL'}  site, one category, p={p}, default area, street candidates every 50 m, "
          f"end to end < 2 s (CPU): {fmt(cli)} CPU ({fmt(cli_wall)} wall)")
    if not args.skip_synthetic:
        print(f"{'PASS' if t_syn < 30 else 'FAIL'}  SYNTHETIC district ~{args.scale:g}x the default area < 30 s (CPU): "
              f"{fmt(t_syn)} CPU ({fmt(w_syn)} wall)")
    print(f"{'PASS' if obj_sp == sol.objective else 'FAIL'}  same objective as spopt MCLP on the same instance: "
          f"{sol.objective:g} vs {obj_sp:g}")
    print(f"\nbenchmark wall time {time.perf_counter() - t_all:.0f} s")
    print(f"speedup_vs_spopt: {t_sp / t_ours:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
