"""Coverage engine: oracle distances (networkx), boundary access, exact covered length, flags."""

from __future__ import annotations

import math
import re

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph
from shapely.geometry import LineString, Point, box

from geo import coverage as cv
from geo.errors import InputError
from geo.network import WalkNetwork

CRS = "EPSG:32651"
X0, Y0 = 355000.0, 3465000.0  # somewhere in Yangpu, UTM 51N


def make_net(nodes, uv, names=None) -> WalkNetwork:
    """A WalkNetwork of straight edges between local (metre) node coordinates."""
    xy = np.asarray(nodes, float) + [X0, Y0]
    geoms = [LineString([xy[u], xy[v]]) for u, v in uv]
    data = {"u": [u for u, _ in uv], "v": [v for _, v in uv], "length_m": [g.length for g in geoms]}
    if names is not None:
        data["name"] = names
    return WalkNetwork(xy, gpd.GeoDataFrame(data, geometry=geoms, crs=CRS), CRS)


def P(x, y):
    return Point(x + X0, y + Y0)


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


def oracle(net: WalkNetwork, fac_snap: cv.Snap, bld_snap: cv.Snap) -> np.ndarray:
    """networkx distance from each building (snap leg + network) to the nearest facility.

    Snapped points are inserted as graph nodes splitting their edges; each facility
    hangs off its snapped point by its snap leg.
    """
    G = nx.Graph()

    def add(a, b, w):
        if a == b:
            return
        if G.has_edge(a, b):
            w = min(w, G[a][b]["weight"])
        G.add_edge(a, b, weight=w)

    pts = {}
    for kind, s in (("f", fac_snap), ("b", bld_snap)):
        for i, (e, t) in enumerate(zip(s.edge, s.t_m)):
            pts.setdefault(int(e), []).append((float(t), (kind, i)))
    for e, row in enumerate(net.edges.itertuples()):
        chain = [(0.0, ("n", row.u))] + sorted(pts.get(e, [])) + [(row.length_m, ("n", row.v))]
        for (t0, a), (t1, b) in zip(chain[:-1], chain[1:]):
            add(a, b, t1 - t0)
    for i, leg in enumerate(fac_snap.snap_m):
        G.add_edge(("F", i), ("f", i), weight=float(leg))
    d = nx.multi_source_dijkstra_path_length(G, [("F", i) for i in range(len(fac_snap))], weight="weight")
    return np.array([d.get(("b", i), np.nan) + bld_snap.snap_m[i] for i in range(len(bld_snap))])


# ---------------------------------------------------------------------------


def test_csgraph_keeps_explicit_zero_weights():
    # the engine relies on this: 0 -0-> 1 -5-> 2, 0 -10-> 2
    g = sp.csr_matrix((np.array([0.0, 5.0, 10.0]), (np.array([0, 1, 0]), np.array([1, 2, 2]))), shape=(3, 3))
    assert g.nnz == 3
    assert csgraph.dijkstra(g, directed=True, indices=0).tolist() == [0.0, 0.0, 5.0]


def test_snap_to_edge_not_node():
    net = make_net([(0, 0), (100, 0), (100, 100)], [(1, 0), (1, 2)])  # edge 0 runs from x=100 to x=0
    s = cv.snap_points(net, np.array([[30 + X0, 10 + Y0], [120 + X0, 50 + Y0]]))
    assert s.edge.tolist() == [0, 1]
    np.testing.assert_allclose(s.t_m, [70.0, 50.0])  # offset from u
    np.testing.assert_allclose(s.snap_m, [10.0, 20.0])
    np.testing.assert_allclose(s.snapped_xy, [[30 + X0, Y0], [100 + X0, 50 + Y0]])


def _random_net(seed: int, n_side: int = 7, spacing: float = 100.0):
    rng = np.random.default_rng(seed)
    ij = [(i, j) for i in range(n_side) for j in range(n_side)]
    nodes = [(i * spacing + rng.uniform(-20, 20), j * spacing + rng.uniform(-20, 20)) for i, j in ij]
    idx = {p: k for k, p in enumerate(ij)}
    uv = []
    for (i, j), k in idx.items():
        for di, dj in ((1, 0), (0, 1)):
            if (i + di, j + dj) in idx and rng.random() > 0.15:
                uv.append((k, idx[(i + di, j + dj)]) if rng.random() < 0.5 else (idx[(i + di, j + dj)], k))
    uv.append((idx[(0, 0)], idx[(1, 1)]))  # a diagonal
    uv.append((idx[(2, 2)], idx[(2, 3)]))  # a parallel edge (the duplicate is kept)
    return make_net(nodes, uv), rng


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distances_match_networkx_oracle(seed):
    net, rng = _random_net(seed)
    ext = 6 * 100
    fac_xy = rng.uniform(0, ext, (6, 2)) + [X0, Y0]
    bld_xy = rng.uniform(0, ext, (80, 2)) + [X0, Y0]
    facilities = gpd.GeoDataFrame({"category": ["market"] * 6, "name": [f"F{i}" for i in range(6)]},
                                  geometry=gpd.points_from_xy(*fac_xy.T), crs=CRS)
    buildings = gpd.GeoDataFrame({"building_id": np.arange(80)}, geometry=gpd.points_from_xy(*bld_xy.T), crs=CRS)
    dist = cv.compute_distances(net, facilities, buildings, categories=["market"], max_snap_m=1e9)
    fsnap = cv.snap_points(net, fac_xy)
    bsnap = dist.building_snap
    inside = (bsnap.t_m > 1e-6) & (bsnap.t_m < net.edges["length_m"].to_numpy()[bsnap.edge] - 1e-6)
    assert inside.mean() > 0.9  # buildings land mid-edge
    expect = oracle(net, fsnap, bsnap)
    np.testing.assert_allclose(dist.building_dist["market"], expect, atol=0.01)
    # nearest facility: its own distance equals the building's distance
    w = dist.building_nearest["market"]
    fmask = np.isfinite(expect)
    for i in np.flatnonzero(fmask)[:20]:
        one = oracle(net, cv.Snap(fsnap.edge[[w[i]]], fsnap.t_m[[w[i]]], fsnap.snap_m[[w[i]]], fsnap.snapped_xy[[w[i]]]),
                     cv.Snap(bsnap.edge[[i]], bsnap.t_m[[i]], bsnap.snap_m[[i]], bsnap.snapped_xy[[i]]))
        assert one[0] == pytest.approx(expect[i], abs=0.01)
    # snapping itself: snap_m is the distance to the nearest edge geometry
    lines = net.edges.geometry.union_all()
    np.testing.assert_allclose(bsnap.snap_m, [lines.distance(Point(p)) for p in bld_xy], atol=1e-6)


def test_zero_length_edge_and_zero_weight_source():
    # nodes 1 and 2 coincide, joined by a zero-length edge; the facility sits exactly on node 0
    net = make_net([(0, 0), (100, 0), (100, 0), (200, 0)], [(0, 1), (1, 2), (2, 3)])
    fac = gdf([P(0, 0)], category=["health"], name=["H"])
    bld = gdf([P(150, 20)])
    d = cv.compute_distances(net, fac, bld, categories=["health"])
    assert d.building_dist["health"][0] == pytest.approx(20 + 150)
    np.testing.assert_allclose(d.fields["health"].node_dist, [0, 100, 100, 200])


def test_point_facility_same_edge_and_midpoint():
    net = make_net([(0, 0), (400, 0)], [(0, 1)])
    fac = gdf([P(100, 30)], category=["culture"], name=["Lib"])
    src, rep = cv.facility_sources(net, fac)
    assert (src.t0_m[0], src.t1_m[0], src.leg_m[0]) == pytest.approx((100, 100, 30))
    fld = cv.distance_field(net, src)
    np.testing.assert_allclose(fld.node_dist, [130, 330])
    d, w = cv.distance_at(net, fld, np.array([0, 0, 0]), np.array([0.0, 120.0, 400.0]))
    np.testing.assert_allclose(d, [130, 50, 330])
    assert w.tolist() == [0, 0, 0]


def test_park_adjacent_to_street_is_zero_on_that_street():
    # the street runs along the park's south side; the park touches it over x in [100, 250]
    net = make_net([(0, 0), (300, 0), (300, 300)], [(0, 1), (1, 2)])
    park = gdf([box(100 + X0, Y0, 250 + X0, 80 + Y0)], category=["park"], name=["Park"])
    bld = gdf([P(175, -30), P(20, -10)])
    d = cv.compute_distances(net, park, bld, categories=["park"])
    assert d.edge_mid_dist["park"][0] == pytest.approx(0.0)
    np.testing.assert_allclose(d.building_dist["park"], [30.0, 10 + 80], atol=1e-6)
    dd, _ = cv.distance_at(net, d.fields["park"], np.array([0, 0]), np.array([50.0, 260.0]))
    np.testing.assert_allclose(dd, [50.0, 10.0], atol=1e-6)


def test_street_inside_park_is_zero_and_entry_counts():
    net = make_net([(0, 0), (100, 0), (200, 0)], [(0, 1), (1, 2)])
    park = gdf([box(150 + X0, -50 + Y0, 400 + X0, 50 + Y0)], category=["park"])
    src, _ = cv.facility_sources(net, park)
    inside = src.leg_m == 0
    assert inside.any()
    assert src.t0_m[inside].min() == pytest.approx(50.0) and src.t1_m[inside].max() == pytest.approx(100.0)
    fld = cv.distance_field(net, src)
    np.testing.assert_allclose(fld.node_dist, [150.0, 50.0, 0.0], atol=1e-6)


def test_big_park_reached_at_boundary_not_centroid():
    # 36 ha park; the street runs 10 m south of it; a building 90 m south of the street
    net = make_net([(-100, -10), (700, -10), (700, 700)], [(0, 1), (1, 2)])
    park = gdf([box(X0, Y0, 600 + X0, 600 + Y0)], category=["park"], name=["Big"])
    bld = gdf([P(300, -100)])
    d = cv.compute_distances(net, park, bld, categories=["park"])
    got = d.building_dist["park"][0]
    assert P(300, -100).distance(park.geometry[0]) == pytest.approx(100)
    assert P(300, -100).distance(park.geometry[0].centroid) == pytest.approx(400)
    assert got == pytest.approx(100.0, abs=0.5)


def test_polygon_without_close_edge_uses_nearest_point():
    net = make_net([(0, 0), (200, 0)], [(0, 1)])
    park = gdf([box(80 + X0, 50 + Y0, 120 + X0, 90 + Y0)], category=["park"])
    src, rep = cv.facility_sources(net, park, access_tol_m=20)
    assert len(src) == 1
    assert (src.t0_m[0], src.t1_m[0], src.leg_m[0]) == pytest.approx((80.0, 80.0, 50.0), abs=1e-6) or \
        src.leg_m[0] == pytest.approx(50.0)
    assert rep.loc[0, "snap_m"] == pytest.approx(50.0)
    _, rep2 = cv.facility_sources(net, park, max_snap_m=40)
    assert bool(rep2.loc[0, "excluded"]) and rep2.loc[0, "reason"] == "too_far"


def test_island_component_is_unreachable():
    net = make_net([(0, 0), (100, 0), (0, 500), (100, 500)], [(0, 1), (2, 3)])
    fac = gdf([P(50, 5)], category=["health"], name=["Clinic"])
    bld = gdf([P(20, 10), P(50, 510)])
    d = cv.compute_distances(net, fac, bld, categories=["health"])
    r = cv.summarize(d)
    b = r.buildings
    assert b["dist_m_health"].iloc[0] == pytest.approx(10 + 30 + 5)
    assert math.isnan(b["dist_m_health"].iloc[1]) and math.isnan(b["walk_min_health"].iloc[1])
    assert b["unreachable_health"].tolist() == [False, True]
    assert b["nearest_health"].iloc[0] == "Clinic" and pd.isna(b["nearest_health"].iloc[1])
    row = r.subdistricts.iloc[0]
    assert (row.buildings, row.buildings_covered, row.buildings_unreachable) == (2, 1, 1)
    assert math.isnan(r.streets["dist_m_health"].iloc[1])


def _closed_form(du, dv, L, intervals, T):
    """Measure of {t in [0, L]: min(du + t, dv + L - t, leg + gap) <= T} from interval arithmetic."""
    segs = []
    if du <= T:
        segs.append((0.0, min(L, T - du)))
    if dv <= T:
        segs.append((max(0.0, L - (T - dv)), L))
    for t0, t1, leg in intervals:
        if leg <= T:
            segs.append((max(0.0, t0 - (T - leg)), min(L, t1 + (T - leg))))
    segs.sort()
    total, end = 0.0, -np.inf
    for a, b in segs:
        if b > max(a, end):
            total += b - max(a, end)
        end = max(end, b)
    return total


def test_covered_length_exact():
    # e0: (0,0)-(100,0); e1: (100,0)-(300,0) with two point facilities; e2: (300,0)-(300,400)
    net = make_net([(0, 0), (100, 0), (300, 0), (300, 400)], [(0, 1), (1, 2), (2, 3)])
    fac = gdf([P(130, 5), P(260, 20)], category=["market", "market"], name=["A", "B"])
    src, _ = cv.facility_sources(net, fac)
    fld = cv.distance_field(net, src)
    nd = fld.node_dist
    np.testing.assert_allclose(nd, [135, 35, 60, 460])
    for T in (20.0, 60.0, 100.0, 300.0, 500.0):
        got = cv.covered_length(net, fld, T)
        exp = [_closed_form(nd[0], nd[1], 100, [], T),
               _closed_form(nd[1], nd[2], 200, [(30, 30, 5), (160, 160, 20)], T),
               _closed_form(nd[2], nd[3], 400, [], T)]
        np.testing.assert_allclose(got, exp, atol=1e-9)
        # and against dense sampling of distance_at
        for e, L in enumerate([100, 200, 400]):
            t = np.linspace(0, L, 40001)
            d, _ = cv.distance_at(net, fld, np.full(t.size, e), t)
            assert got[e] == pytest.approx((d <= T).mean() * L, abs=0.05)
    # T = 60 by hand: e1 = [0, 85] ∪ [200 - 0, 200] ∪ [160-40, 160+40] = 85 + 80; e0 = [75, 100]
    np.testing.assert_allclose(cv.covered_length(net, fld, 60.0), [25.0, 165.0, 0.0])


def test_too_far_facility_excluded_with_warning():
    net = make_net([(0, 0), (100, 0)], [(0, 1)])
    fac = gdf([P(50, 10), P(50, 900)], category=["sports", "sports"], name=["Near", "远处体育馆"])
    d = cv.compute_distances(net, fac, None, categories=["sports"], max_snap_m=200)
    rep = d.reports["sports"]
    assert rep["excluded"].tolist() == [False, True]
    assert rep["reason"].tolist() == ["", "too_far"]
    assert any("远处体育馆" in w.zh and "1 个设施" in w.zh and "1 facilities excluded" in w.en for w in d.warnings)
    r = cv.summarize(d)
    assert r.subdistricts["facilities"].tolist() == [1]
    assert r.params["facilities_excluded"] == {"sports": 1}


def test_empty_category_gives_zero_coverage_and_warning():
    net = make_net([(0, 0), (100, 0)], [(0, 1)])
    fac = gdf([P(50, 10)], category=["health"], name=["H"])
    bld = gdf([P(10, 5), P(90, 5)])
    d = cv.compute_distances(net, fac, bld, categories=["health", "market"])
    r = cv.summarize(d)
    m = r.subdistricts.set_index("category").loc["market"]
    assert m.buildings_covered == 0 and m.share_buildings_covered == 0.0 and m.street_km_covered == 0.0
    assert r.buildings["unreachable_market"].all()
    # bilingual: the same warning in either language, whatever the environment says
    assert any("Markets" in w.text("en") and "no facilities" in w.text("en") for w in r.warnings)
    assert any("菜市场" in w.text("zh") and "没有设施" in w.text("zh") for w in r.warnings)
    h = r.subdistricts.set_index("category").loc["health"]
    assert h.share_buildings_covered == 1.0 and h.share_street_covered == pytest.approx(1.0)


def test_building_too_far_from_network():
    net = make_net([(0, 0), (100, 0)], [(0, 1)])
    fac = gdf([P(50, 0)], category=["health"])
    bld = gdf([box(X0, 300 + Y0, 20 + X0, 320 + Y0), box(X0, 10 + Y0, 20 + X0, 30 + Y0)])
    d = cv.compute_distances(net, fac, bld, categories=["health"], max_snap_m=200)
    r = cv.summarize(d)
    assert r.buildings["snap_too_far"].tolist() == [True, False]
    assert math.isnan(r.buildings["dist_m_health"].iloc[0])
    # representative point of the footprint (10, 20) -> 20 m leg + 40 m along the street
    assert r.buildings["dist_m_health"].iloc[1] == pytest.approx(60.0)
    assert any("200 米" in w.zh and "200 m" in w.en for w in r.warnings)


def test_summarize_thresholds_speed_subdistricts_and_gaps():
    net = make_net([(0, 0), (400, 0), (1000, 0), (1000, 1000)], [(0, 1), (1, 2), (2, 3)],
                   names=["West Rd", "Along Rd", "North Rd"])
    fac = gdf([P(0, 0)], category=["culture"], name=["Hall"])
    xs = [100, 120, 140, 700, 720, 900]
    bld = gdf([box(x + X0 - 5, 20 + Y0, x + X0 + 5, 30 + Y0) for x in xs])
    bnd = gpd.GeoDataFrame({"subdistrict": ["West", "East", "Nowhere"]},
                           geometry=[box(X0 - 100, Y0 - 500, X0 + 450, Y0 + 500),
                                     box(X0 + 450, Y0 - 500, X0 + 1500, Y0 + 1500),
                                     box(X0 + 5000, Y0, X0 + 6000, Y0 + 1000)], crs=CRS).to_crs(4326)
    d = cv.compute_distances(net, fac, bld, categories=["culture"])
    r = cv.summarize(d, bnd, thresholds={"culture": 500}, speed_m_per_min=60.0)
    b = r.buildings
    np.testing.assert_allclose(b["dist_m_culture"], np.array(xs) + 25, atol=1e-6)  # point_on_surface y = 25
    np.testing.assert_allclose(b["walk_min_culture"], (np.array(xs) + 25) / 60.0)
    assert b["subdistrict"].tolist() == ["West"] * 3 + ["East"] * 3
    s = r.subdistricts.set_index("subdistrict")
    assert s.loc["West", "buildings_covered"] == 3 and s.loc["East", "buildings_covered"] == 0
    assert s.loc["Nowhere", "buildings"] == 0 and s.loc["Nowhere", "street_km"] == 0
    assert s.loc["Nowhere", "network_share_in_area"] == 0.0
    assert r.streets["subdistrict"].tolist() == ["West", "East", "East"]  # by edge midpoint
    np.testing.assert_allclose(r.streets["covered_km_culture"], [0.4, 0.1, 0.0])
    assert s.loc["West", "share_street_covered"] == pytest.approx(1.0)
    assert s.loc["East", "share_street_covered"] == pytest.approx(0.1 / 1.6)
    # West box is 550 x 1000; the network's 200 m buffer covers x in [0, 450] x [-200, 200]
    # plus the round cap over x in [-100, 0]: 2 * int_0^100 sqrt(200^2 - x^2) dx
    cap = 100 * math.sqrt(200**2 - 100**2) + 200**2 * math.asin(0.5)
    assert s.loc["West", "network_share_in_area"] == pytest.approx((450 * 400 + cap) / 550_000, rel=0.02)
    g = r.gaps
    assert g["kind"].tolist() == ["buildings", "buildings"]
    assert g["n_buildings"].tolist() == [2, 1] and g["rank"].tolist() == [1, 2]
    assert g["label"].tolist() == ["Along Rd", "Along Rd"]
    assert r.params["thresholds"]["culture"] == 500 and r.params["profile"] == "elderly"
    # re-thresholding is cheap and changes the answer
    r2 = cv.summarize(d, bnd, thresholds={"culture": 800})
    assert r2.subdistricts.set_index("subdistrict").loc["East", "buildings_covered"] == 2
    # per-threshold caches on Distances: going back gives exactly what a fresh Distances gives
    back = cv.summarize(d, bnd, thresholds={"culture": 500}, speed_m_per_min=60.0)
    fresh = cv.summarize(cv.compute_distances(net, fac, bld, categories=["culture"]), bnd,
                         thresholds={"culture": 500}, speed_m_per_min=60.0)
    pd.testing.assert_frame_equal(back.subdistricts, fresh.subdistricts)
    pd.testing.assert_frame_equal(pd.DataFrame(back.gaps.drop(columns="geometry")),
                                  pd.DataFrame(fresh.gaps.drop(columns="geometry")))
    np.testing.assert_allclose(back.streets["covered_km_culture"], fresh.streets["covered_km_culture"])
    with pytest.raises(InputError):
        cv.summarize(d, bnd, thresholds={"nope": 3})
    with pytest.raises(InputError):
        cv.summarize(d, bnd, speed_m_per_min=0)


def _east_west_gaps():
    """Culture hall at x=0 on a 1 km street; West/East 街道 boundaries; one gap in East, one outside both."""
    net = make_net([(0, 0), (400, 0), (1000, 0)], [(0, 1), (1, 2)])
    fac = gdf([P(0, 0)], category=["culture"], name=["Hall"])
    xs = [100, 700, 720, 950]  # 700/720 are one cluster (20 m apart), 950 is 230 m further
    bld = gdf([box(x + X0 - 5, 20 + Y0, x + X0 + 5, 30 + Y0) for x in xs])
    bnd = gpd.GeoDataFrame({"subdistrict": ["West", "East"]},
                           geometry=[box(X0 - 100, Y0 - 500, X0 + 450, Y0 + 500),
                                     box(X0 + 450, Y0 - 500, X0 + 800, Y0 + 500)], crs=CRS).to_crs(4326)
    d = cv.compute_distances(net, fac, bld, categories=["culture"])
    return cv.summarize(d, bnd, thresholds={"culture": 500})


def test_gaps_carry_their_subdistrict_by_representative_point():
    r = _east_west_gaps()
    g = r.gaps
    assert g["n_buildings"].tolist() == [2, 1]
    # the buildings' own assignment says the same: 700/720 in East, 950 outside every 街道
    def names(col):
        return [v if isinstance(v, str) else None for v in col]

    assert names(r.buildings["subdistrict"])[1:] == ["East", "East", None]
    assert names(g["subdistrict"]) == ["East", None]
    assert list(g.columns[:7]) == ["category", "rank", "kind", "n_buildings", "street_m", "subdistrict", "label"]
    # the streets have no names: labelled from the named hall, the same distance in both languages
    for zh, en in zip(g["label"], g["label_en"]):
        m = re.fullmatch(r"Hall东约(\d+)米", zh)
        assert m and en == f"≈{m.group(1)} m E of Hall", (zh, en)


def test_gap_labels_in_english_name_the_feature_and_direction():
    net = make_net([(0, 0), (1000, 0)], [(0, 1)])
    fac = gdf([P(0, 0)], category=["culture"], name=["安徒生童话乐园"])
    bld = gdf([box(X0 + 795, Y0 + 20, X0 + 805, Y0 + 30)])
    d = cv.compute_distances(net, fac, bld, categories=["culture"])
    g = cv.summarize(d, thresholds={"culture": 500}).gaps
    # the building's hull buffered 10 m: its representative point lies ~800 m east of the named hall
    assert g["label"].iloc[0] == "安徒生童话乐园东约800米"
    assert g["label_en"].iloc[0] == "≈800 m E of 安徒生童话乐园"
    assert cv.gap_labels(g, "en").iloc[0] == "≈800 m E of 安徒生童话乐园"
    assert cv.gap_labels(g, "zh").iloc[0] == "安徒生童话乐园东约800米"
    assert cv.gap_labels(g.drop(columns="label_en"), "en").iloc[0] == "安徒生童话乐园东约800米"  # old outputs


def test_street_gaps_without_buildings_and_lonlat_label():
    net = make_net([(0, 0), (300, 0), (600, 0), (600, 300)], [(0, 1), (1, 2), (2, 3)])
    fac = gdf([P(0, 0)], category=["market"])
    d = cv.compute_distances(net, fac, None, categories=["market"])
    r = cv.summarize(d, thresholds={"market": 450})
    g = r.gaps
    assert len(g) == 1 and g["kind"].iloc[0] == "streets"
    assert g["street_m"].iloc[0] == pytest.approx(150 + 300)
    assert g["label"].iloc[0].endswith("N") and "E, " in g["label"].iloc[0]


def test_deterministic():
    net, rng = _random_net(5)
    fac = gpd.GeoDataFrame({"category": ["health"] * 5},
                           geometry=gpd.points_from_xy(*(rng.uniform(0, 600, (5, 2)) + [X0, Y0]).T), crs=CRS)
    bld = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*(rng.uniform(0, 600, (50, 2)) + [X0, Y0]).T), crs=CRS)
    a = cv.summarize(cv.compute_distances(net, fac, bld, categories=["health"]))
    b = cv.summarize(cv.compute_distances(net, fac, bld, categories=["health"]))
    pd.testing.assert_frame_equal(pd.DataFrame(a.buildings.drop(columns="geometry")),
                                  pd.DataFrame(b.buildings.drop(columns="geometry")))
    assert a.gaps.geometry.equals(b.gaps.geometry)


def test_missing_category_column_and_crs():
    net = make_net([(0, 0), (100, 0)], [(0, 1)])
    with pytest.raises(InputError):
        cv.compute_distances(net, gdf([P(1, 1)]), None)
    nocrs = gpd.GeoDataFrame({"category": ["health"]}, geometry=[P(1, 1)])
    with pytest.raises(InputError):
        cv.compute_distances(net, nocrs, None)


# ---------------------------------------------------------------------------
# real data: 新江湾城


@pytest.fixture(scope="module")
def xjw(shared_data):
    from geo.io import read_vector
    from geo.network import network_from_lines
    d = shared_data / "networks" / "xinjiangwan"
    return network_from_lines(read_vector(d / "roads.geojson")), read_vector(d / "buildings.geojson"), \
        read_vector(d / "parks.geojson")


def test_real_network_matches_oracle(xjw):
    net, buildings, _ = xjw
    rng = np.random.default_rng(7)
    edges = net.edges
    pick = rng.choice(len(edges), 12, replace=False)
    fxy = np.array([edges.geometry.iloc[i].interpolate(0.5, normalized=True).coords[0] for i in pick]) + [15.0, 0.0]
    fac = gpd.GeoDataFrame({"category": ["health"] * 12, "name": [f"H{i}" for i in range(12)]},
                           geometry=gpd.points_from_xy(*fxy.T), crs=net.crs)
    bld = buildings.iloc[::4]
    d = cv.compute_distances(net, fac, bld, categories=["health"])
    bsnap = d.building_snap
    expect = oracle(net, cv.snap_points(net, fxy), bsnap)
    got = d.building_dist["health"]
    ok = ~d.snap_too_far
    np.testing.assert_allclose(got[ok], expect[ok], atol=0.01)
    assert np.isfinite(got).sum() > 0.8 * len(got)


def test_real_parks_boundary_access(xjw):
    net, buildings, parks = xjw
    parks = parks.assign(category="park")
    d = cv.compute_distances(net, parks, buildings, categories=["park"])
    r = cv.summarize(d)
    got = r.buildings["dist_m_park"].to_numpy()
    # a building can never be closer by network than by straight line to the nearest park boundary
    # (up to half the gap-sampling step along near-boundary stretches)
    pm = parks.to_crs(net.crs).geometry.union_all()
    straight = np.array([pm.distance(Point(p)) for p in d.building_xy])
    fin = np.isfinite(got)
    assert (got[fin] >= straight[fin] - cv.ACCESS_STEP_M / 2).all()
    assert np.median(got[fin] - straight[fin]) > 1.0
    # and boundary access beats the centroid for buildings beside large parks
    assert np.nanmedian(got) < 400
    assert r.green is not None and 0 < r.green["share_served"].iloc[0] <= 1


def test_feature_labels_say_direction_and_distance():
    from geo.coverage import _relative_labels

    box = shapely.box(0, 0, 10, 10)
    pts = shapely.points([(5, 210), (5, 5), (-100, -100), (40, 5)])
    zh, en = _relative_labels(np.array(["某公园"] * 4, object), np.array([box] * 4, object), pts)
    # north 200 m; inside; 141 m to the south-west of the corner; 30 m east (within near_m)
    assert zh.tolist() == ["某公园北约200米", "某公园旁", "某公园西南约140米", "某公园旁"]
    assert en.tolist() == ["≈200 m N of 某公园", "next to 某公园", "≈140 m SW of 某公园", "next to 某公园"]


def test_named_streets_sum_exact_covered_length_per_name():
    from geo.coverage import named_streets

    line = LineString([(0, 0), (1, 0)])
    streets = gpd.GeoDataFrame({
        "name": ["A路", "A路", "", "B路"], "subdistrict": ["甲街道", "甲街道", "甲街道", "乙街道"],
        "length_m": [100.0, 300.0, 50.0, 200.0],
        "covered_km_park": [0.1, 0.1, 0.05, 0.0], "covered_km_health": [0.0, 0.3, 0.0, 0.2],
    }, geometry=[line] * 4, crs=32651)
    got = named_streets(streets, {"park": 300.0})
    a_park = got[(got["name"] == "A路") & (got["category"] == "park")].iloc[0]
    assert a_park["street_km"] == pytest.approx(0.4) and a_park["street_km_covered"] == pytest.approx(0.2)
    assert a_park["share_street_covered"] == pytest.approx(0.5) and a_park["threshold_m"] == 300.0
    b_health = got[(got["name"] == "B路") & (got["category"] == "health")].iloc[0]
    assert b_health["share_street_covered"] == pytest.approx(1.0) and b_health["subdistrict"] == "乙街道"
    assert b_health["threshold_m"] == 1000.0  # taxonomy default
    assert len(got) == 4  # two named streets x two categories; the unnamed segment is left out
    assert named_streets(streets.assign(name="")).empty


# --------------------------------------------------------------------------- fast paths = what GEOS says


def _odd_net(seed: int, ends_at_nodes: bool) -> WalkNetwork:
    """Straight and bent edges, a parallel pair, a zero-length edge; optionally edges that stop short of their nodes."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 400, (40, 2)) + [X0, Y0]
    xy[1] = xy[0]  # a zero-length edge 0-1
    uv = [(0, 1)] + [(int(a), int(b)) for a, b in rng.integers(0, 40, (70, 2)) if a != b] + [(2, 3), (2, 3)]
    geoms = []
    for k, (u, v) in enumerate(uv):
        a, b = xy[u], xy[v]
        if not ends_at_nodes and k % 5 == 1:
            a = a + (b - a) * 0.01  # starts 1 % along, off its node
        bend = [] if k % 3 else [tuple((a + b) / 2 + rng.normal(0, 15, 2))]
        geoms.append(LineString([tuple(a), *bend, tuple(b)]))
    g = gpd.GeoDataFrame({"u": [u for u, _ in uv], "v": [v for _, v in uv], "length_m": [x.length for x in geoms]},
                         geometry=geoms, crs=CRS)
    return WalkNetwork(xy, g, CRS)


@pytest.mark.parametrize("ends_at_nodes", [True, False])
def test_snap_points_is_strtree_nearest_with_lowest_tied_edge(ends_at_nodes):
    net = _odd_net(3, ends_at_nodes)
    rng = np.random.default_rng(4)
    geoms = np.asarray(net.edges.geometry.values, dtype=object)
    pts = np.r_[rng.uniform(-50, 450, (400, 2)) + [X0, Y0],  # anywhere
                rng.uniform(-5000, 5000, (40, 2)) + [X0, Y0],  # mostly far outside: the STRtree's own search
                net.node_xy,  # on nodes: every edge at the node is equidistant
                shapely.get_coordinates(shapely.line_interpolate_point(geoms, rng.random(len(geoms)), normalized=True))]
    s = cv.snap_points(net, pts)
    # GEOS's own nearest search: all equidistant edges, the lowest position wins
    pairs, dist = shapely.STRtree(geoms).query_nearest(shapely.points(pts), return_distance=True, all_matches=True)
    expect = np.full(len(pts), -1)
    expect_d = np.full(len(pts), np.nan)
    for i, e, d in sorted(zip(pairs[0], pairs[1], dist), reverse=True):
        expect[i], expect_d[i] = e, d
    assert (np.bincount(pairs[0]) > 1).sum() > 20  # ties were there to break
    assert s.edge.tolist() == expect.tolist()
    assert np.array_equal(s.snap_m, expect_d)


def test_edge_midpoints_are_geos_interpolate():
    rng = np.random.default_rng(9)
    a = rng.uniform(-1, 1, (2000, 2)) * 10 ** rng.uniform(-3, 6, (2000, 1)) + [X0, Y0]
    b = a + rng.normal(0, 1, (2000, 2)) * 10 ** rng.uniform(-9, 3, (2000, 1))
    b[:50] = a[:50]  # zero length
    lines = np.r_[shapely.linestrings(np.stack([a, b], 1)), shapely.linestrings(rng.uniform(0, 100, (300, 4, 2)))]
    expect = shapely.get_coordinates(shapely.line_interpolate_point(lines, 0.5, normalized=True))
    assert np.array_equal(cv._midpoints(lines), expect)


def test_building_pairs_are_the_dwithin_query():
    rng = np.random.default_rng(2)
    c = rng.uniform(0, 3000, (1500, 2))
    w = np.r_[rng.uniform(3, 20, 1450), rng.uniform(100, 600, 50)]  # a few very large footprints
    geoms = np.r_[shapely.box(c[:, 0] - w, c[:, 1] - w / 2, c[:, 0] + w, c[:, 1] + w / 2),
                  shapely.points(rng.uniform(0, 3000, (100, 2)))]

    class D:
        buildings = gpd.GeoDataFrame(geometry=list(geoms), crs=CRS)
        _cache: dict = {}

    for link in (0.0, 20.0, 50.0, 150.0):
        got = cv._building_pairs(D, link)
        want = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=link)
        assert sorted(map(tuple, got.T.tolist())) == sorted(map(tuple, want.T.tolist()))


def test_result_frames_do_not_share_the_cached_arrays():
    net = make_net([(0, 0), (400, 0), (1000, 0)], [(0, 1), (1, 2)])
    fac = gdf([P(0, 0)], category=["culture"], name=["Hall"])
    bld = gdf([box(x + X0 - 5, 20 + Y0, x + X0 + 5, 30 + Y0) for x in (100, 700)])
    d = cv.compute_distances(net, fac, bld, categories=["culture"])
    r = cv.summarize(d, thresholds={"culture": 500})
    before = (r.streets["dist_m_culture"].tolist(), r.buildings["dist_m_culture"].tolist(),
              r.buildings["nearest_culture"].tolist(), r.buildings["snap_m"].tolist())
    lengths = net.edges["length_m"].tolist()
    r.streets.loc[:, ["dist_m_culture", "length_m"]] = -1.0
    r.buildings.loc[:, ["dist_m_culture", "snap_m"]] = -1.0
    r.buildings.loc[:, "nearest_culture"] = "x"
    again = cv.summarize(d, thresholds={"culture": 500})
    assert (again.streets["dist_m_culture"].tolist(), again.buildings["dist_m_culture"].tolist(),
            again.buildings["nearest_culture"].tolist(), again.buildings["snap_m"].tolist()) == before
    assert net.edges["length_m"].tolist() == lengths == again.streets["length_m"].tolist()


def test_cell_runs_cover_exactly_the_cells():
    rng = np.random.default_rng(6)
    for shape, p in (((30, 40), 0.8), ((1, 7), 0.5), ((25, 1), 0.9), ((12, 12), 1.0)):
        inner = rng.random(shape) < p
        runs = cv._cell_runs(inner, X0, Y0, 75.0)
        assert shapely.is_valid(runs).all()
        ci, cj = np.nonzero(inner)
        boxes = shapely.box(X0 + ci * 75.0, Y0 + cj * 75.0, X0 + (ci + 1) * 75.0, Y0 + (cj + 1) * 75.0)
        got = shapely.coverage_union_all(runs)
        assert got.equals(shapely.union_all(boxes))
        assert got.area == pytest.approx(inner.sum() * 75.0**2, rel=1e-12)
        assert len(runs) <= inner.sum()
