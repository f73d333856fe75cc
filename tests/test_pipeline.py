"""`lifecircle coverage`: a toy case with hand-computed distances, and the real 新江湾城 area end to end."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString

from geo.cli import main
from geo.errors import InputError
from geo.pipeline import OUTPUT_FILES, parse_thresholds

UTM = "EPSG:32651"
X0, Y0 = 355_000.0, 3_465_000.0  # a spot in Shanghai, UTM 51N metres
_TO_WGS = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> tuple[float, float]:
    return _TO_WGS.transform(X0 + x, Y0 + y)


def make_toy(folder) -> dict:
    """A T-shaped network and hand-placed facilities / building, in files.

    Roads: A = (0,0)-(1000,0), B = (500,0)-(500,400), in metres from (X0, Y0).
    Park point at (0, 10)   -> access leg 10 m at x = 0.
    Planned clinic at (900, 5) -> leg 5 m at x = 900.
    Building square centred (900, -20) -> leg 20 m at x = 900.
    """
    folder.mkdir(parents=True, exist_ok=True)
    roads = gpd.GeoDataFrame({"osm_way_id": [1, 2], "name": ["甲路", "乙路"]},
                             geometry=[LineString([(X0, Y0), (X0 + 1000, Y0)]),
                                       LineString([(X0 + 500, Y0), (X0 + 500, Y0 + 400)])], crs=UTM)
    roads.to_file(folder / "roads.gpkg")
    rows = [("toy:1", "西公园", "park", "existing", *lonlat(0, 10)),
            ("toy:2", "东诊所", "health", "planned", *lonlat(900, 5))]
    pd.DataFrame(rows, columns=["facility_id", "name", "category", "status", "lon", "lat"]).to_csv(
        folder / "facilities.csv", index=False, encoding="utf-8-sig")
    bld = gpd.GeoDataFrame({"osm_way_id": [7], "levels": [6]},
                           geometry=[shapely.box(X0 + 895, Y0 - 25, X0 + 905, Y0 - 15)], crs=UTM)
    bld.to_file(folder / "buildings.gpkg")
    bnd = gpd.GeoDataFrame({"name": ["甲街道"]}, geometry=[shapely.box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 500)], crs=UTM)
    bnd.to_crs(4326).to_file(folder / "boundaries.geojson")
    return {k: str(folder / f) for k, f in (("network", "roads.gpkg"), ("facilities", "facilities.csv"),
                                             ("buildings", "buildings.gpkg"), ("boundaries", "boundaries.geojson"))}


def toy_args(files: dict, outdir, *extra) -> list[str]:
    return ["coverage", "--network", files["network"], "--facilities", files["facilities"],
            "--buildings", files["buildings"], "--boundaries", files["boundaries"], "-o", str(outdir), *extra]


def test_toy_distances_and_outputs(tmp_path, capsys):
    files = make_toy(tmp_path / "in")
    out = tmp_path / "out"
    assert main(["--lang", "en", *toy_args(files, out, "--threshold", "park=1000", "--profile", "elderly")]) == 0
    # roads have names; .lifecircle.json names the files coverage owns (geo.outdir)
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUT_FILES, "named_streets.csv", ".lifecircle.json"])
    b = gpd.read_file(out / "buildings.gpkg")
    # building leg 20 + 900 along A + park leg 10 = 930; clinic: 20 + 0 + 5 = 25
    assert b["dist_m_park"].iloc[0] == pytest.approx(930, abs=1.0)
    assert b["dist_m_health"].iloc[0] == pytest.approx(25, abs=1.0)
    assert b["snap_m"].iloc[0] == pytest.approx(20, abs=0.5)
    assert b["walk_min_park"].iloc[0] == pytest.approx(930 / 60, abs=0.05)  # elderly profile: 60 m/min
    assert b["levels"].iloc[0] == 6 and b["building_id"].iloc[0] == "osm:way/7"  # input columns kept
    assert bool(b["unreachable_canteen"].iloc[0]) and np.isnan(b["dist_m_canteen"].iloc[0])
    sub = pd.read_csv(out / "subdistricts.csv", encoding="utf-8-sig").set_index("category")
    assert (open(out / "subdistricts.csv", "rb").read(3) == b"\xef\xbb\xbf")
    assert sub.loc["park", "buildings_covered"] == 1 and sub.loc["park", "threshold_m"] == 1000
    assert sub.loc["park", "street_km"] == pytest.approx(1.4, abs=1e-6)
    # park reached at x=0 with leg 10: street within 1000 m -> all of A (1000) and B up to 1000-10-500 = 490 m
    assert sub.loc["park", "street_km_covered"] == pytest.approx(1.0 + 0.39, abs=0.002)
    assert sub.loc["canteen", "street_km_covered"] == 0 and sub.loc["canteen", "buildings_covered"] == 0
    assert sub.loc["park", "network_share_in_area"] <= 1.0
    by_name = pd.read_csv(out / "named_streets.csv", encoding="utf-8-sig").set_index(["name", "category"])
    # per named street (甲路 is two edges, split by 乙路): 甲路 covered up to x = 1000 - 10 = 990 m;
    # 乙路 starts 510 m from the park and is 400 m long, so all of it is within 1000 m
    assert by_name.loc[("甲路", "park"), "street_km_covered"] == pytest.approx(0.99, abs=0.002)
    assert by_name.loc[("乙路", "park"), "share_street_covered"] == pytest.approx(1.0, abs=0.005)
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    assert params["speed_m_per_min"] == 60 and params["profile"] == "elderly"
    assert params["thresholds"]["park"] == 1000 and params["include_planned"] is True
    assert params["inputs"]["network"] == files["network"]
    assert "OpenStreetMap" in params["attribution"] and "GB" in params["sources"]["categories"]["park"]["standard"]
    # no facilities: warned, in both languages ({"zh", "en"} objects)
    assert any("canteen" in w["en"].lower() and "食堂" in w["zh"] for w in params["warnings"])
    captured = capsys.readouterr()
    assert "甲街道" in captured.out and "Parks and green space" in captured.out
    used = gpd.read_file(out / "facilities.gpkg")
    assert set(used["facility_id"]) == {"toy:1", "toy:2"}


def test_toy_scenarios_and_default_threshold(tmp_path):
    files = make_toy(tmp_path / "in")
    out = tmp_path / "out"
    assert main(toy_args(files, out, "--no-planned", "--speed", "80")) == 0
    b = gpd.read_file(out / "buildings.gpkg")
    assert np.isnan(b["dist_m_health"].iloc[0]) and bool(b["unreachable_health"].iloc[0])  # planned clinic dropped
    sub = pd.read_csv(out / "subdistricts.csv").set_index("category")
    # default park threshold 500: 930 m is not covered; street covered = A from 0 to 490 m
    assert sub.loc["park", "buildings_covered"] == 0
    assert sub.loc["park", "street_km_covered"] == pytest.approx(0.49, abs=0.002)
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    assert params["speed_m_per_min"] == 80 and params["include_planned"] is False
    assert params["facilities_planned_dropped"] == 1


def test_parse_thresholds():
    from geo.study import Threshold

    assert parse_thresholds(["park=300", "health=800.5m", "elderly_care=10min", "canteen=7.5 分钟"]) == {
        "park": Threshold(300.0, "m"), "health": Threshold(800.5, "m"), "elderly_care": Threshold(10.0, "min"),
        "canteen": Threshold(7.5, "min")}
    for bad in (["park"], ["karaoke=300"], ["park=-1"], ["park=abc"], ["park=10h"], ["park=0min"]):
        with pytest.raises(InputError):
            parse_thresholds(bad)


# ---------------------------------------------------------------------------- real data
def test_real_coverage_plausible(real_outdir, shared_data):
    out = real_outdir
    sub = pd.read_csv(out / "subdistricts.csv", encoding="utf-8-sig")
    for col in ("subdistrict", "category", "threshold_m", "buildings", "buildings_covered", "street_km",
                "street_km_covered", "network_share_in_area"):
        assert col in sub.columns
    shares = sub[["share_buildings_covered", "share_street_covered", "network_share_in_area"]].to_numpy(float)
    assert np.all((shares[np.isfinite(shares)] >= 0) & (shares[np.isfinite(shares)] <= 1))
    assert (sub["street_km_covered"] <= sub["street_km"] + 1e-9).all()
    assert (sub["buildings_covered"] <= sub["buildings"]).all()
    share = sub.drop_duplicates("subdistrict").set_index("subdistrict")["network_share_in_area"]
    # the Overpass box of the network contains the whole of 新江湾城 (networks/README.md) but only the
    # northern edge of 五角场 (measured 0.15)
    assert share["新江湾城街道"] > 0.98
    assert share["五角场街道"] < 0.5
    # no building is lost: all 885 footprints are in buildings.gpkg, with WGS-84 geometry
    src_n = len(gpd.read_file(shared_data / "networks" / "xinjiangwan" / "buildings.geojson"))
    b = gpd.read_file(out / "buildings.gpkg")
    assert src_n == 885 and len(b) == 885 and b.crs.to_epsg() == 4326
    assert {"osm_way_id", "building_id", "snap_m", "dist_m_park", "unreachable_park"} <= set(b.columns)
    for cat in ("park", "health", "canteen"):
        assert (b[f"dist_m_{cat}"].isna() == b[f"unreachable_{cat}"].astype(bool)).all()
    x = sub[sub["subdistrict"] == "新江湾城街道"].set_index("category")
    # measured: 497 buildings in 新江湾城 (the rest lie in 殷行/江湾镇, outside both boundaries).
    assert 400 <= x.loc["park", "buildings"] <= 600
    # Parks: a new town planned around green corridors (新江湾城公园, 湿地公园, 滑板公园 ...); OSM has
    # ~120 park polygons within the network box, so most blocks have a park boundary within 500 m,
    # but the large gated estates in the north-east do not (measured 0.76).
    assert 0.55 <= x.loc["park", "share_buildings_covered"] <= 0.95
    # No OSM or official community canteen exists here: coverage is exactly 0, with a warning.
    assert x.loc["canteen", "buildings_covered"] == 0 and x.loc["canteen", "street_km_covered"] == 0
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    assert any("食堂" in w["zh"] and "canteen" in w["en"].lower() for w in params["warnings"])
    # Sports: dozens of school and university pitches (measured 0.94); culture is scarce (0.23)
    assert x.loc["sports", "share_buildings_covered"] > x.loc["culture", "share_buildings_covered"]
    # covered street km can never exceed the network's total in the subdistrict (~180 km measured)
    assert 120 <= x.loc["park", "street_km"] <= 240


def test_real_network_distance_never_beats_straight_line(real_outdir):
    """Independent check: a walk along straight segments is never shorter than the crow flies."""
    out = real_outdir
    b = gpd.read_file(out / "buildings.gpkg").to_crs(UTM)
    parks = gpd.read_file(out / "facilities.gpkg").to_crs(UTM)
    parks = parks[parks["category"] == "park"]
    pts = b.geometry.representative_point()
    crow = np.array([parks.distance(p).min() for p in pts])
    d = b["dist_m_park"].to_numpy(float)
    ok = np.isfinite(d)
    assert ok.sum() > 700
    assert np.all(d[ok] >= crow[ok] - 1.0)
    ratio = np.median(d[ok] / np.maximum(crow[ok], 1.0))
    assert 1.0 <= ratio <= 3.0  # typical urban detour factor 1.2-1.6; leg rounding pushes short trips up
