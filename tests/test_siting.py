"""Siting (MCLP/LSCP on the walking network) and demand weights: hand-built optima, spopt, coverage round trip."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from shapely.geometry import LineString, Point

from geo import coverage as cv
from geo import siting as st
from geo.cli import main
from geo.demand import PERSONS_PER_HOUSEHOLD, covered_weights, demand_weights
from geo.errors import InputError
from geo.facilities import read_facilities
from geo.network import WalkNetwork, load_network

CRS = "EPSG:32651"
X0, Y0 = 355_000.0, 3_465_000.0


def line_net(xs) -> WalkNetwork:
    """A straight road along y = 0 with nodes at the given x (metres from X0, Y0)."""
    xy = np.array([[X0 + x, Y0] for x in xs], float)
    uv = [(i, i + 1) for i in range(len(xs) - 1)]
    geoms = [LineString([xy[u], xy[v]]) for u, v in uv]
    edges = gpd.GeoDataFrame({"u": [u for u, _ in uv], "v": [v for _, v in uv],
                              "length_m": [g.length for g in geoms]}, geometry=geoms, crs=CRS)
    return WalkNetwork(xy, edges, CRS)


def line_net_from(path: str) -> WalkNetwork:
    return load_network(path)


def pts(xys, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(X0 + x, Y0 + y) for x, y in xys], crs=CRS)


def no_facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"facility_id": [], "name": [], "category": []}, geometry=[], crs=CRS)


@pytest.fixture
def greedy_trap():
    """Demand 1, 2, 2, 1 at x = 0, 100, 200, 300 (10 m off the road); candidates on the road at x = 50, 150, 250.

    With T = 61 m a candidate covers its two neighbours (50 + 10 m): 50 -> {0, 100} (3), 150 -> {100, 200} (4),
    250 -> {200, 300} (3). For p = 2 greedy takes 150 first and ends at 5; the optimum is {50, 250} = 6.
    """
    net = line_net([-100, 0, 100, 200, 300, 400])
    bld = pts([(0, 10), (100, 10), (200, 10), (300, 10)], population=[1, 2, 2, 1])
    dist = cv.compute_distances(net, no_facilities(), bld, categories=("canteen",))
    cands = pts([(50, 0), (150, 0), (250, 0)])
    return dist, cands


def brute_force(A: sp.csr_matrix, w: np.ndarray, p: int) -> float:
    A = A.tocsr()
    best = 0.0
    for combo in itertools.combinations(range(A.shape[0]), min(p, A.shape[0])):
        cols = np.unique(A[list(combo)].indices)
        best = max(best, float(w[cols].sum()))
    return best


# --------------------------------------------------------------------------- hand-built
def test_greedy_vs_exact_known_optimum(greedy_trap):
    dist, cands = greedy_trap
    w = demand_weights(dist.buildings)
    assert w.method == "population" and w.weights.tolist() == [1, 2, 2, 1]
    res = st.site(dist, "canteen", 2, candidates=cands, threshold_m=61.0, weights=w)
    assert res.params["status"] == "optimal" and res.params["objective"] == 6
    assert res.sites["lon"].size == 2
    xs = sorted(round(float(x) - X0) for x in res.sites.to_crs(CRS).geometry.x)
    assert xs == [50, 250]
    assert res.sites["residents_covered_total"].iloc[-1] == 6
    assert res.sites["buildings_covered_total"].tolist() == [2, 4]
    assert res.sites["residents_newly_covered"].tolist() == [3, 3]

    g = st.site(dist, "canteen", 2, candidates=cands, threshold_m=61.0, weights=w, solver="greedy")
    assert g.params["objective"] == 5 and g.params["status"] == "heuristic"
    assert g.params["bound"] >= 6 - 1e-9 and g.params["gap"] == pytest.approx(1 / 6)
    assert round(float(g.sites.to_crs(CRS).geometry.x.iloc[0]) - X0) == 150  # greedy's first pick
    # no time left for the exact solver: the greedy answer, reported with its gap to the LP bound
    t = st.mclp(st.coverage_matrix(dist.net, st.candidate_sites(dist.net, cands), dist.building_snap.edge,
                                   dist.building_snap.t_m, dist.building_snap.snap_m, dist.building_xy, 61.0),
                w.weights, 2, time_limit_s=1e-9)
    assert (t.status, t.solver, t.objective, t.bound) == ("time_limit", "greedy", 5.0, 6.0)
    assert t.gap == pytest.approx(1 / 6)


def test_coverage_matrix_on_hand_built_graph(greedy_trap):
    dist, cands = greedy_trap
    c = st.candidate_sites(dist.net, cands)
    bs = dist.building_snap
    A = st.coverage_matrix(dist.net, c, bs.edge, bs.t_m, bs.snap_m, dist.building_xy, 61.0)
    assert A.toarray().astype(int).tolist() == [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]
    # 59 m: the 10 m legs + 50 m along the road no longer fit
    assert st.coverage_matrix(dist.net, c, bs.edge, bs.t_m, bs.snap_m, dist.building_xy, 59.0).nnz == 0


def test_lscp_and_greedy_on_small_matrices():
    rng = np.random.default_rng(7)
    for _ in range(25):
        A = sp.csr_matrix(rng.random((7, 9)) < 0.3)
        w = rng.integers(1, 5, 9).astype(float)
        for p in (1, 2, 3):
            exact = st.mclp(A, w, p)
            assert exact.status == "optimal"
            assert exact.objective == pytest.approx(brute_force(A, w, p))
            assert len(exact.chosen) <= p
            greedy = st.mclp(A, w, p, solver="greedy")
            assert greedy.objective <= exact.objective + 1e-9 and greedy.bound >= exact.objective - 1e-9
        ref = st.lscp(A)
        coverable = np.asarray(A.sum(axis=0)).ravel() > 0
        fewest = next(k for k in range(8) if brute_force(A, coverable.astype(float), k) == coverable.sum())
        assert ref.objective == fewest and ref.status == "optimal"


def test_p_zero_and_fully_covered(greedy_trap):
    dist, cands = greedy_trap
    none = st.site(dist, "canteen", 0, candidates=cands, threshold_m=61.0)
    assert len(none.sites) == 0 and none.params["objective"] == 0 and list(none.sites.columns[:9]) == st.SITE_COLUMNS
    # every building is 10 m from an existing canteen on the road: nothing to do
    fac = pts([(0, 0), (100, 0), (200, 0), (300, 0)], facility_id=list("abcd"), name=list("abcd"),
              category=["canteen"] * 4)
    full = cv.compute_distances(dist.net, fac, dist.buildings, categories=("canteen",))
    res = st.site(full, "canteen", 3, candidates=cands, threshold_m=61.0)
    assert len(res.sites) == 0 and res.params["buildings_uncovered"] == 0
    assert any("already" in n.en and "已覆盖" in n.zh for n in res.notes)


def test_unknown_subdistrict_is_an_input_error(greedy_trap):
    dist, cands = greedy_trap
    bnd = gpd.GeoDataFrame({"subdistrict": ["甲街道"]}, geometry=[shapely.box(X0 - 200, Y0 - 50, X0 + 500, Y0 + 50)],
                           crs=CRS)
    with pytest.raises(InputError) as e:
        st.site(dist, "canteen", 1, boundaries=bnd, subdistrict="乙街道", candidates=cands)
    assert "甲街道" in e.value.message("zh") and "甲街道" in e.value.message("en")
    # street candidates every 50 m: at x = 25, 75, 125 ... (middles of the two halves of each 100 m edge);
    # 125 reaches 100 (25 + 10 m) and 200 (75 + 10 m) within 86 m: weight 2 + 2
    res = st.site(dist, "canteen", 1, boundaries=bnd, subdistrict="甲街道", threshold_m=86.0)
    assert res.params["objective"] == 4 and res.sites["subdistrict"].tolist() == ["甲街道"]
    # candidates only in 甲 (x < 80) still serve demand in 乙: 50 reaches the homes at 0 (甲) and 100 (乙)
    two = gpd.GeoDataFrame({"subdistrict": ["甲", "乙"]}, crs=CRS, geometry=[
        shapely.box(X0 - 200, Y0 - 50, X0 + 80, Y0 + 50), shapely.box(X0 + 80, Y0 - 50, X0 + 500, Y0 + 50)])
    res = st.site(dist, "canteen", 2, boundaries=two, subdistrict="甲", candidates=cands, threshold_m=61.0)
    assert res.params["n_candidates"] == 1 and res.params["objective"] == 3 and res.params["n_buildings"] == 4
    assert res.sites["buildings_covered_total"].tolist() == [2]


# --------------------------------------------------------------------------- demand weights
def test_demand_weights_choice_and_description():
    sq = [shapely.box(X0, Y0, X0 + 10, Y0 + 20), shapely.box(X0, Y0, X0 + 5, Y0 + 5)]
    g = gpd.GeoDataFrame({"户数": [10, None], "building:levels": [3, None]}, geometry=sq, crs=CRS)
    hh = demand_weights(g)
    assert hh.method == "households" and hh.unit == "residents"
    assert hh.weights.tolist() == pytest.approx([10 * PERSONS_PER_HOUSEHOLD, 0.0])
    assert "户数" in hh.description("zh") and "1 栋缺值" in hh.description("zh")
    fa = demand_weights(g.drop(columns="户数"))
    assert fa.method == "floor_area" and fa.unit == "floor_area_m2"
    assert fa.weights.tolist() == pytest.approx([200 * 3, 25 * 1])  # no levels: one storey
    assert demand_weights(g.drop(columns="户数"), m2_per_person=25).weights.tolist() == pytest.approx([24, 1])
    cnt = demand_weights(g[["geometry"]])
    assert cnt.method == "count" and not cnt.weighted and "count" in cnt.description("en")
    pop = demand_weights(g.assign(人口=[100, 7]).to_crs(4326))
    assert pop.method == "population" and pop.weights.tolist() == [100, 7]
    with pytest.raises(InputError):
        demand_weights(g.assign(population=[-1, 2]))
    with pytest.raises(InputError):
        demand_weights(g[["geometry"]], method="population")


def test_covered_weights_per_subdistrict():
    b = pd.DataFrame({"subdistrict": ["甲", "甲", "乙", None], "dist_m_park": [100, 600, 50, 10]})
    w = demand_weights(gpd.GeoDataFrame({"人口": [10, 20, 5, 99]}, geometry=[Point(0, 0)] * 4, crs=CRS))
    t = covered_weights(b, w, {"park": 500}).set_index("subdistrict")
    assert t.loc["甲", "residents"] == 30 and t.loc["甲", "residents_covered"] == 10
    assert t.loc["甲", "share_residents_covered"] == pytest.approx(1 / 3)
    assert t.loc["乙", "residents_covered"] == 5 and len(t) == 2  # outside every subdistrict: left out
    assert (t["weighting"].str.len() > 0).all()


# --------------------------------------------------------------------------- CLI on a toy
def toy_files(folder):
    folder.mkdir(parents=True, exist_ok=True)
    roads = gpd.GeoDataFrame({"osm_way_id": [1]}, geometry=[LineString([(X0 - 100, Y0), (X0 + 400, Y0)])], crs=CRS)
    roads.to_file(folder / "roads.gpkg")
    park = gpd.GeoSeries([Point(X0 + 390, Y0 + 5)], crs=CRS).to_crs(4326)
    pd.DataFrame({"facility_id": ["t:1"], "name": ["东公园"], "category": ["park"],
                  "lon": park.x, "lat": park.y}).to_csv(folder / "facilities.csv", index=False)
    pts([(0, 10), (100, 10), (200, 10), (300, 10)], 人口=[1, 2, 2, 1]).to_crs(4326).to_file(folder / "homes.gpkg")
    gpd.GeoDataFrame({"name": ["甲街道"]}, geometry=[shapely.box(X0 - 200, Y0 - 50, X0 + 500, Y0 + 50)],
                     crs=CRS).to_crs(4326).to_file(folder / "bnd.geojson")
    return ["--network", str(folder / "roads.gpkg"), "--facilities", str(folder / "facilities.csv"),
            "--buildings", str(folder / "homes.gpkg"), "--boundaries", str(folder / "bnd.geojson")]


def test_cli_toy_points_demand_and_errors(tmp_path, capsys):
    args = toy_files(tmp_path / "in")
    out = tmp_path / "out"
    cand = tmp_path / "in" / "rooms.geojson"  # a user layer: the three road points of greedy_trap
    pts([(50, 0), (150, 0), (250, 0)], room=["a", "b", "c"]).to_crs(4326).to_file(cand)
    assert main(["--lang", "en", "site", *args, "--category", "canteen", "--count", "2", "--threshold", "61",
                 "--candidates", str(cand), "--lscp", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".lifecircle.json", "params.json", "sites.csv", "sites.gpkg"]
    assert (out / "sites.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    s = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert list(s.columns[:9]) == st.SITE_COLUMNS
    assert s["residents_covered_total"].tolist() == [3, 6] and s["subdistrict"].tolist() == ["甲街道"] * 2
    assert s["weighting"].str.contains("population").all()
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    assert params["status"] == "optimal" and params["objective"] == 6 and params["weighting"] == "population"
    assert params["candidates"] == "rooms.geojson" and params["n_candidates"] == 3
    assert params["lscp_sites"] == 2 and params["lscp_status"] == "optimal"  # {50, 250} covers all four
    assert "population" in capsys.readouterr().out
    # households instead of residents: 户数 x the stated persons per household
    hh = tmp_path / "in" / "hh.gpkg"
    gpd.read_file(args[5]).rename(columns={"人口": "户数"}).to_file(hh)
    assert main(["site", *args[:4], "--buildings", str(hh), *args[6:], "--category", "canteen", "--count", "2",
                 "--threshold", "61", "--candidates", str(cand), "--persons-per-household", "3",
                 "-o", str(tmp_path / "hh")]) == 0
    h = pd.read_csv(tmp_path / "hh" / "sites.csv", encoding="utf-8-sig")
    assert h["residents_covered_total"].tolist() == [9, 18] and h["weighting"].str.contains("3").all()

    # street candidates every 50 m on the one 500 m edge sit at x = -75, -25, 25, ...: each reaches one home
    assert main(["site", *args, "--category", "canteen", "--count", "2", "--threshold", "61",
                 "-o", str(tmp_path / "streets")]) == 0
    s2 = pd.read_csv(tmp_path / "streets" / "sites.csv", encoding="utf-8-sig")
    assert s2["residents_newly_covered"].tolist() == [2, 2] and s2["buildings_covered_total"].tolist() == [1, 2]

    # the same study saved by `coverage` (its params.json) gives the same proposals
    assert main(["coverage", *args[:4], *args[6:], "-o", str(tmp_path / "cov")]) == 0  # coverage wants footprints
    assert main(["site", "--study", str(tmp_path / "cov" / "params.json"), "--buildings", args[5], "--category",
                 "canteen", "--count", "2", "--threshold", "61", "--candidates", str(cand),
                 "-o", str(tmp_path / "again")]) == 0
    again = pd.read_csv(tmp_path / "again" / "sites.csv", encoding="utf-8-sig")
    assert again[["lon", "lat", "residents_covered_total"]].equals(s[["lon", "lat", "residents_covered_total"]])

    # a parcel (polygon) candidate is reached at its boundary, and sites.gpkg read back as facilities keeps
    # the parcel, so coverage finds the same total
    parcel = tmp_path / "in" / "parcel.gpkg"
    gpd.GeoDataFrame({"lot": ["p1"]}, geometry=[shapely.box(X0 + 140, Y0 + 15, X0 + 160, Y0 + 40)],
                     crs=CRS).to_crs(4326).to_file(parcel)
    # road stretches within 20 m of the parcel are its access (x = 126.8 ... 173.2, gap 15-20 m), so both
    # homes at 100 and 200 are within about 20 + 27 + 10 = 57 m
    assert main(["site", *args, "--category", "canteen", "--count", "1", "--threshold", "61", "--candidates",
                 str(parcel), "-o", str(tmp_path / "parcel")]) == 0
    got = pd.read_csv(tmp_path / "parcel" / "sites.csv", encoding="utf-8-sig")
    assert got["residents_covered_total"].tolist() == [4]
    back = read_facilities(tmp_path / "parcel" / "sites.gpkg")
    assert back.geometry.geom_type.tolist() == ["Polygon"] and back["category"].tolist() == ["canteen"]
    homes = gpd.read_file(args[5])
    d = cv.compute_distances(line_net_from(args[1]), back, homes, categories=("canteen",))
    assert int((d.building_dist["canteen"] <= 61).sum()) == got["buildings_covered_total"].iloc[0] == 2

    # p = 0: nothing proposed, nothing changes
    assert main(["site", *args, "--category", "canteen", "--count", "0", "-o", str(tmp_path / "zero")]) == 0
    z = pd.read_csv(tmp_path / "zero" / "sites.csv", encoding="utf-8-sig")
    assert len(z) == 0 and list(z.columns[:9]) == st.SITE_COLUMNS

    # an unknown subdistrict: exit 2, one line naming the valid ones, no output folder
    capsys.readouterr()
    code = main(["site", *args, "--category", "canteen", "--count", "1", "--subdistrict", "乙街道",
                 "-o", str(tmp_path / "bad")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("[")]  # minus progress lines
    assert code == 2 and len(err) == 1 and "乙街道" in err[0] and "甲街道" in err[0]
    assert not (tmp_path / "bad").exists()
    assert main(["site", *args, "--category", "karaoke", "--count", "1", "-o", str(tmp_path / "bad")]) == 2

    # a folder holding the planner's own files is refused, and with --force they are kept
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["site", *args, "--category", "canteen", "--count", "1", "-o", str(mine)]) == 2
    assert main(["site", *args, "--category", "canteen", "--count", "1", "--force", "-o", str(mine)]) == 0
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me" and (mine / "sites.csv").exists()


# --------------------------------------------------------------------------- the real area
@pytest.fixture(scope="module")
def area(prepared_data_dir):
    return prepared_data_dir / "areas" / "xinjiangwan"


@pytest.fixture(scope="module")
def real(area):
    from geo.areas import load_area

    a = load_area(area, context=False)
    fac = a.facilities[a.facilities["category"].isin(["elderly_care", "market"])]
    return a, cv.compute_distances(a.network, fac, a.buildings, categories=("elderly_care", "market"))


def test_matrix_rows_equal_single_facility_coverage_runs(real):
    """Each matrix row is what the coverage engine gives for that candidate alone (its own Dijkstra)."""
    _, dist = real
    T = 500.0
    c = st.candidate_sites(dist.net, "streets", spacing_m=50.0)
    bs = dist.building_snap
    ok = ~dist.snap_too_far
    A = st.coverage_matrix(dist.net, c, bs.edge[ok], bs.t_m[ok], bs.snap_m[ok], dist.building_xy[ok], T).tocsr()
    rng = np.random.default_rng(3)
    for j in rng.choice(len(c), 40, replace=False):
        srcj = c.sources.subset(c.sources.facility == j)
        fld = cv.distance_field(dist.net, srcj)
        d, _ = cv.distance_at(dist.net, fld, bs.edge[ok], bs.t_m[ok])
        want = np.flatnonzero(d + bs.snap_m[ok] <= T)
        assert A[j].indices.tolist() == want.tolist(), j


def spopt_objective(A: sp.csr_matrix, w: np.ndarray, p: int, T: float) -> float:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    cost = np.where(A.toarray().T, 0.0, 10 * T)  # demand x candidates
    model = locate.MCLP.from_cost_matrix(cost, w, service_radius=T, p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    chosen = [j for j, v in enumerate(model.fac_vars) if v.value() and v.value() > 0.5]
    return float(w[np.unique(A[chosen].indices)].sum())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("category,p,kind,spacing", [("elderly_care", 3, "buildings", 50.0),
                                                     ("market", 4, "streets", 50.0),
                                                     ("elderly_care", 6, "streets", 50.0)])
def test_mclp_objective_equals_spopt(real, category, p, kind, spacing):
    a, dist = real
    T = 500.0
    d0 = dist.building_dist[category]
    pool = np.flatnonzero(~(d0 <= T) & ~dist.snap_too_far)
    b = cv.subdistrict_boundaries(a.boundaries, dist.net.crs)
    within = b.geometry.values[list(b["subdistrict"]).index("新江湾城街道")]
    c = st.candidate_sites(dist.net, kind, within=within, buildings=dist.buildings, spacing_m=spacing)
    bs = dist.building_snap
    A = st.coverage_matrix(dist.net, c, bs.edge[pool], bs.t_m[pool], bs.snap_m[pool], dist.building_xy[pool], T)
    levels = np.random.default_rng(11).integers(1, 30, len(dist.buildings))  # floor-area weights, seeded
    w = demand_weights(dist.buildings.assign(levels=levels)).weights[pool]
    # a small instance for pulp/CBC: 200 of the candidates that reach someone, the demand they reach
    useful = np.flatnonzero(np.diff(A.tocsr().indptr) > 0)
    A = A.tocsr()[np.sort(np.random.default_rng(5).choice(useful, min(200, len(useful)), replace=False))]
    reach = np.flatnonzero(np.asarray(A.sum(axis=0)).ravel() > 0)
    A, w = A[:, reach], w[reach]
    ours = st.mclp(A, w, p)
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(spopt_objective(A, w, p, T), rel=1e-9)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_lscp_equals_spopt_and_subdistrict_scope(real):
    """Fewest sites for full coverage = spopt LSCP; candidates in 五角场 still serve demand elsewhere."""
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    a, dist = real
    T = 500.0
    pool = np.flatnonzero(~(dist.building_dist["market"] <= T) & ~dist.snap_too_far)
    c = st.candidate_sites(dist.net, "buildings", buildings=dist.buildings)
    bs = dist.building_snap
    A = st.coverage_matrix(dist.net, c, bs.edge[pool], bs.t_m[pool], bs.snap_m[pool], dist.building_xy[pool], T)
    A = A.tocsr()[np.sort(np.random.default_rng(2).choice(A.shape[0], 150, replace=False))]
    reach = np.flatnonzero(np.asarray(A.sum(axis=0)).ravel() > 0)
    A = A[:, reach]
    ours = st.lscp(A)
    model = locate.LSCP.from_cost_matrix(np.where(A.toarray().T, 0.0, 10 * T), service_radius=T)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    theirs = sum(1 for v in model.fac_vars if v.value() and v.value() > 0.5)
    assert ours.status == "optimal" and ours.objective == theirs
    assert np.all(np.asarray(A[ours.chosen].sum(axis=0)).ravel() > 0)  # it does cover everyone

    res = st.site(dist, "market", 3, boundaries=a.boundaries, subdistrict="新江湾城街道", with_lscp=True)
    assert (res.sites["subdistrict"] == "新江湾城街道").all() and len(res.sites) == 3
    assert res.params["lscp_status"] == "optimal" and res.params["lscp_sites"] > 3
    # the network covers only a sliver of 五角场, more than 1 km from any uncovered home: nothing, and said so
    far = st.site(dist, "market", 3, boundaries=a.boundaries, subdistrict="五角场街道")
    assert len(far.sites) == 0 and any("no candidate" in n.en and "没有候选点" in n.zh for n in far.notes)


def test_cli_sites_reproduce_coverage(area, tmp_path):
    out = tmp_path / "sites"
    assert main(["site", "--area", str(area), "--category", "elderly_care", "--count", "5", "-o", str(out)]) == 0
    s = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert s["rank"].tolist() == [1, 2, 3, 4, 5]
    assert (s["buildings_newly_covered"] > 0).all() and s["buildings_covered_total"].is_monotonic_increasing
    assert (s["label"].str.len() > 0).all() and s["subdistrict"].notna().all()
    before = tmp_path / "before"
    assert main(["coverage", "--area", str(area), "-o", str(before)]) == 0
    after = tmp_path / "after"
    assert main(["coverage", "--area", str(area), "--facilities", str(out / "sites.gpkg"), "-o", str(after)]) == 0
    sub0 = pd.read_csv(before / "subdistricts.csv", encoding="utf-8-sig")
    sub1 = pd.read_csv(after / "subdistricts.csv", encoding="utf-8-sig")
    got0 = int(sub0.loc[sub0["category"] == "elderly_care", "buildings_covered"].sum())
    got1 = int(sub1.loc[sub1["category"] == "elderly_care", "buildings_covered"].sum())
    assert s["buildings_covered_total"].iloc[-1] == got1
    assert got0 + s["buildings_newly_covered"].sum() == got1
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    assert params["buildings_covered_before"] == got0 and params["objective"] == got1 - got0
    # the other categories are untouched by the elderly-care proposals
    other = sub0["category"] != "elderly_care"
    assert sub0.loc[other, "buildings_covered"].tolist() == sub1.loc[other, "buildings_covered"].tolist()
