"""`lifecircle prepare` offline (real mirror, generic folder) and online (osmnx mocked), and load_area."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo import areas
from geo.cli import main
from geo.errors import InputError

AREA_JSON_KEYS = {"area", "name", "place", "crs", "source", "created", "repair", "layers", "attribution", "notes", "kept_files"}


@pytest.fixture(scope="module")
def prepared(shared_data, tmp_path_factory):
    data = tmp_path_factory.mktemp("prep") / "data"
    return data, shared_data


def test_prepare_default_area_and_load(prepared, capsys):
    data, shared_data = prepared
    assert main(["--lang", "en", "prepare", "--from", str(shared_data), "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "before repair" in out and "after repair" in out and "ODbL" in out
    root = data / "areas" / "xinjiangwan"
    meta = json.loads((root / "area.json").read_text(encoding="utf-8"))
    assert set(meta) == AREA_JSON_KEYS
    assert meta["attribution"] == "© OpenStreetMap contributors, ODbL 1.0"
    # networks/README.md: noded only at shared vertices the largest component holds ~53 % of the length,
    # snapping lifts it to ~94 %; 46 ways (28.6 km) run on the viaducts
    rep = meta["repair"]
    assert rep["before"]["largest_share_length"] < 0.6
    assert rep["after"]["largest_share_length"] >= 0.90
    assert 40 <= rep["excluded_ways"] <= 60 and 20 <= rep["excluded_km"] <= 35
    assert {p.name for p in root.iterdir()} >= {"area.json", "network", "facilities.gpkg", "boundaries.gpkg",
                                                "buildings.gpkg", "context.gpkg"}

    area = areas.load_area(root)
    assert area.name == "新江湾城街道"
    assert area.network.n_nodes == meta["layers"]["network"]["nodes"]
    # 481 km of ways minus 28.6 km of viaduct, plus snapping connectors (measured 453 km)
    km = area.network.edges["length_m"].sum() / 1000
    assert 440 <= km <= 470
    assert "新江湾城街道" in set(area.boundaries["subdistrict"])
    assert list(area.boundaries.columns) == ["subdistrict", "district", "geometry"]
    assert len(area.buildings) == 885 and area.buildings["building_id"].is_unique
    f = area.facilities
    assert set(f["source"]) >= {"osm", "official"}
    assert f["facility_id"].str.startswith("osm:way/").any()  # parks.geojson polygons
    assert f["sources"].str.contains("osm;official").any()  # official parks merged into OSM polygons
    # facilities within 1.5 km of the network only: none of the official list's southern parks (杨浦公园, 31.28 N)
    assert not (f["name"] == "杨浦公园").any()
    assert set(area.context) == {"water", "parks"} and len(area.context["water"]) > 0


def test_load_area_errors(tmp_path):
    with pytest.raises(InputError, match="area.json"):
        areas.load_area(tmp_path)


def _toy_folder(folder):
    """A generic --from folder: a roads line layer + a facilities table, no boundaries."""
    folder.mkdir()
    x0, y0 = 121.50, 31.33
    lines = [LineString([(x0, y0), (x0 + 0.01, y0)]), LineString([(x0 + 0.005, y0), (x0 + 0.005, y0 + 0.005)])]
    gpd.GeoDataFrame({"osm_way_id": [1, 2]}, geometry=lines, crs=4326).to_file(folder / "roads.geojson")
    pd.DataFrame({"name": ["甲诊所", "远方医院"], "category": ["health", "health"],
                  "lon": [x0 + 0.002, x0 + 0.3], "lat": [y0 + 0.0002, y0]}).to_csv(folder / "facilities.csv", index=False)
    return folder


def test_prepare_generic_folder(tmp_path):
    src = _toy_folder(tmp_path / "mirror")
    root = areas.prepare_offline("toy", src, tmp_path / "data")
    area = areas.load_area(root)
    assert area.meta["area"] == "toy" and area.buildings is None
    assert area.boundaries["subdistrict"].tolist() == ["toy"]  # the network hull stands in
    # the far hospital (~28 km east) is outside the 1.5 km facility buffer
    assert area.facilities["name"].tolist() == ["甲诊所"]
    assert area.network.edges["length_m"].sum() == pytest.approx(950 + 555, rel=0.03)


def test_prepare_online_with_osmnx_mocked(tmp_path, monkeypatch):
    x0, y0 = 121.50, 31.33
    poly = shapely.box(x0, y0, x0 + 0.01, y0 + 0.008)

    def geocode_to_gdf(query, *a, **k):
        return gpd.GeoDataFrame({"name": ["测试街道"], "display_name": ["测试街道, 杨浦区, 上海市, 中国"]},
                                geometry=[poly], crs=4326)

    def graph_from_polygon(polygon, *a, **k):
        G = nx.MultiDiGraph(crs="epsg:4326")
        pts = {1: (x0 + 0.001, y0 + 0.001), 2: (x0 + 0.009, y0 + 0.001), 3: (x0 + 0.009, y0 + 0.007)}
        for n, (x, y) in pts.items():
            G.add_node(n, x=x, y=y)
        for i, (a_, b_) in enumerate(((1, 2), (2, 3))):
            for u, v in ((a_, b_), (b_, a_)):
                G.add_edge(u, v, osmid=100 + i, highway="footway", oneway=False, reversed=u > v, length=1.0)
        return G

    def features_from_polygon(polygon, tags, *a, **k):
        idx = pd.MultiIndex.from_tuples
        if "building" in tags:
            return gpd.GeoDataFrame({"building": ["yes"]}, geometry=[shapely.box(x0 + 0.004, y0 + 0.002, x0 + 0.0045, y0 + 0.0025)],
                                    index=idx([("way", 9)], names=["element", "id"]), crs=4326)
        if "amenity" in tags:  # the taxonomy query
            return gpd.GeoDataFrame({"amenity": ["clinic", None], "leisure": [None, "park"], "name": ["社区诊所", "小公园"]},
                                    geometry=[Point(x0 + 0.002, y0 + 0.0012),
                                              shapely.box(x0 + 0.006, y0 + 0.0015, x0 + 0.007, y0 + 0.0025)],
                                    index=idx([("node", 1), ("way", 2)], names=["element", "id"]), crs=4326)
        raise type("InsufficientResponseError", (Exception,), {})("nothing")

    calls = []
    monkeypatch.setattr(ox, "geocode_to_gdf", geocode_to_gdf)
    monkeypatch.setattr(ox, "graph_from_polygon", lambda *a, **k: calls.append("graph") or graph_from_polygon(*a, **k))
    monkeypatch.setattr(ox, "graph_from_place", lambda *a, **k: pytest.fail("must fetch by polygon (buffered area)"))
    monkeypatch.setattr(ox, "features_from_polygon", features_from_polygon)
    assert main(["prepare", "--area", "online", "--place", "测试街道, 杨浦区", "--data-dir", str(tmp_path / "data")]) == 0
    area = areas.load_area(tmp_path / "data" / "areas" / "online")
    assert calls == ["graph"]
    assert area.meta["source"]["mode"] == "online" and area.meta["name"] == "测试街道"
    assert area.boundaries["district"].tolist() == ["杨浦区"]
    f = area.facilities.set_index("facility_id")
    assert f.loc["osm:node/1", "category"] == "health" and f.loc["osm:way/2", "category"] == "park"
    assert area.buildings["building_id"].tolist() == ["osm:way/9"]
    assert len(area.network.edges) == 2 and (tmp_path / "data" / "cache" / "osmnx").is_dir()
