"""OSM readers, osmnx walk-filter semantics, XML/PBF networks, mocked online fetch."""

from __future__ import annotations

import bz2
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import requests
import shapely
from scipy.sparse import csgraph
from shapely.geometry import box

from geo.categories import CATEGORIES, category_for_tags
from geo.errors import InputError
from geo.network import WalkNetwork, load_network, network_from_osm_xml, network_from_pbf, network_from_place
from geo.osm import FEATURE_TAG_KEYS, NAME_KEYS, is_walkable, read_osm_features, read_osm_ways, walk_filter

FIXTURE = Path(__file__).parent / "fixtures" / "net_small.osm"
WALKABLE_WAYS = {101, 102, 108, 109}  # footway, residential, path, service=driveway
# 103 motorway, 104 foot=no, 105 access=private, 106 construction, 107 area=yes


# ------------------------------------------------------------------ walk filter
@pytest.mark.parametrize("tags, ok", [
    ({"highway": "footway"}, True),
    ({"highway": "residential"}, True),
    ({"highway": "path"}, True),
    ({"highway": "steps"}, True),
    ({"highway": "service", "service": "parking_aisle"}, True),
    ({"highway": "motorway"}, False),
    ({"highway": "motorway_link"}, False),  # Overpass regexes are unanchored: "motor" matches
    ({"highway": "cycleway"}, False),
    ({"highway": "footway", "foot": "no"}, False),
    ({"highway": "residential", "access": "private"}, False),
    ({"highway": "service", "service": "private"}, False),
    ({"highway": "construction"}, False),
    ({"highway": "pedestrian", "area": "yes"}, False),
    ({"highway": "primary", "sidewalk": "separate"}, False),
    ({"building": "yes"}, False),  # no highway tag
    ({}, False),
])
def test_is_walkable_matches_osmnx_walk_semantics(tags, ok):
    assert is_walkable(tags) is ok


def test_walk_filter_is_parsed_from_osmnx(monkeypatch):
    import osmnx as ox
    from osmnx import _overpass

    clauses = walk_filter()
    assert ("highway", None, None) in clauses
    assert ("foot", "!~", "no") in clauses
    # it follows osmnx: changing osmnx's access rule changes ours
    assert is_walkable({"highway": "footway", "access": "no"})
    monkeypatch.setattr(ox.settings, "default_access", '["access"!~"private|no"]')
    assert '"access"!~"private|no"' in _overpass._get_network_filter("walk")
    assert not is_walkable({"highway": "footway", "access": "no"})


# ------------------------------------------------------------------ readers
def test_read_osm_ways_keeps_only_walkable_ways():
    ways = read_osm_ways(FIXTURE)
    assert set(ways["osm_id"]) == WALKABLE_WAYS
    assert ways.crs.to_epsg() == 4326
    assert {"osm_id", "name", "highway", "u_node", "v_node", "geometry"} <= set(ways.columns)
    r = ways.set_index("osm_id")
    assert r.loc[102, "name"] == "国和路" and r.loc[102, "highway"] == "residential"
    assert (r.loc[102, "u_node"], r.loc[102, "v_node"]) == (3, 5)
    assert shapely.get_coordinates(r.loc[101, "geometry"]).tolist() == [[121.5, 31.33], [121.501, 31.33],
                                                                        [121.502, 31.33]]
    # polygon: whole ways that intersect it
    clip = read_osm_ways(FIXTURE, polygon=box(121.4995, 31.3295, 121.5005, 31.3305))
    assert set(clip["osm_id"]) == {101, 109}


def test_read_osm_features_nodes_ways_relations():
    f = read_osm_features(FIXTURE)
    assert f.crs.to_epsg() == 4326
    for col in ("osm_id", *NAME_KEYS, "amenity", "leisure", "shop", "tourism", "healthcare", "social_facility",
                "social_facility:for", "landuse", "office"):
        assert col in f.columns
    # the tag columns come from the taxonomy table
    assert set(FEATURE_TAG_KEYS) >= {k for c in CATEGORIES.values() for k in c.osm_tags}
    r = f.set_index("osm_id")
    assert set(r.index) == {"node/20", "way/110", "relation/201"}  # no highways, no unnamed building
    assert r.loc["node/20", "name"] == "新江湾城图书馆" and r.loc["node/20", "geometry"].geom_type == "Point"
    assert category_for_tags(r.loc["node/20"].to_dict()) == "culture"
    park = r.loc["way/110", "geometry"]
    assert park.geom_type == "Polygon" and park.area == pytest.approx(0.001 * 0.001)
    assert r.loc["relation/201", "leisure"] == "park" and r.loc["relation/201", "name"] == "江湾绿地"
    assert r.loc["relation/201", "geometry"].area == pytest.approx(0.002 * 0.001)
    assert r.loc["way/110", "amenity"] == ""
    only = read_osm_features(FIXTURE, polygon=box(121.501, 31.330, 121.502, 31.331))
    assert list(only["osm_id"]) == ["node/20"]


def _write_pbf(src: Path, dst: Path) -> Path:
    import osmium

    with osmium.SimpleWriter(str(dst)) as w:
        for o in osmium.FileProcessor(str(src)):
            w.add(o)
    return dst


def _distances(net: WalkNetwork) -> tuple[np.ndarray, np.ndarray]:
    return net.node_xy, csgraph.dijkstra(net.csr(), directed=False)


def _same_network(a: WalkNetwork, b: WalkNetwork) -> None:
    assert a.crs.equals(b.crs)
    assert a.edges["length_m"].sum() == pytest.approx(b.edges["length_m"].sum(), abs=1e-6)
    assert set(a.edges["osm_id"]) == set(b.edges["osm_id"])
    # same nodes (by position) and same shortest-path distances between them
    xa, da = _distances(a)
    xb, db = _distances(b)
    assert len(xa) == len(xb)
    idx = [int(np.argmin(np.hypot(*(xb - p).T))) for p in xa]
    assert np.allclose(xb[idx], xa, atol=1e-6)
    np.testing.assert_allclose(da, db[np.ix_(idx, idx)], atol=0.01)


def test_osm_xml_network_has_only_walkable_edges():
    net = network_from_osm_xml(FIXTURE)
    assert set(net.edges["osm_id"]) == WALKABLE_WAYS
    assert net.crs.to_epsg() == 32651
    assert net.repair["excluded_ways"] == 5
    assert net.repair["after"]["n_components"] == 1
    names = dict(zip(net.edges["osm_id"], net.edges["name"]))
    assert names[102] == "国和路" and names[101] == ""
    # each edge geometry runs from u to v
    e = net.edges
    np.testing.assert_allclose(shapely.get_coordinates(shapely.get_point(e.geometry.values, 0)),
                               net.node_xy[e["u"]], atol=1e-9)
    np.testing.assert_allclose(shapely.get_coordinates(shapely.get_point(e.geometry.values, -1)),
                               net.node_xy[e["v"]], atol=1e-9)
    # independent check: ways 101 + 102 + 108 + 109 form one ring; its length is the sum of the ways
    ways = read_osm_ways(FIXTURE).to_crs(32651)
    assert net.edges["length_m"].sum() == pytest.approx(ways.length.sum(), abs=1e-6)


def test_pbf_and_bz2_load_the_same_network(tmp_path):
    xml_net = network_from_osm_xml(FIXTURE)
    pbf = _write_pbf(FIXTURE, tmp_path / "small.osm.pbf")
    pbf_net = load_network(pbf)
    assert pbf_net.repair["builder"] == "network_from_pbf"
    _same_network(xml_net, pbf_net)
    bz = tmp_path / "small.osm.bz2"
    bz.write_bytes(bz2.compress(FIXTURE.read_bytes()))
    _same_network(xml_net, load_network(bz))
    assert set(read_osm_ways(pbf)["osm_id"]) == WALKABLE_WAYS
    assert set(read_osm_features(pbf)["osm_id"]) == {"node/20", "way/110", "relation/201"}
    # .xml is read as OSM XML too
    x = shutil.copy(FIXTURE, tmp_path / "small.xml")
    _same_network(xml_net, load_network(x))


def test_xml_polygon_keeps_edges_reaching_into_it():
    poly = box(121.5015, 31.3305, 121.5025, 31.3315)  # around node 4 on way 102 only
    net = network_from_osm_xml(FIXTURE, polygon=poly)
    assert set(net.edges["osm_id"]) == {102}


BROKEN = {
    "malformed.osm": b'<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="31.3" lon="121.5"></way></osm>',
    "binary.osm": bytes(range(256)) * 8,
    "binary.osm.pbf": bytes(range(256)) * 8,
}


@pytest.mark.parametrize("name", [*BROKEN, "truncated.osm", "truncated.osm.pbf", "truncated.osm.bz2"])
def test_broken_osm_files_raise_input_error_naming_the_file(tmp_path, name):
    p = tmp_path / name
    if name in BROKEN:
        p.write_bytes(BROKEN[name])
    elif name.endswith(".pbf"):
        data = _write_pbf(FIXTURE, tmp_path / "full.osm.pbf").read_bytes()
        p.write_bytes(data[: len(data) // 2])
    elif name.endswith(".bz2"):
        data = bz2.compress(FIXTURE.read_bytes())
        p.write_bytes(data[: len(data) // 2])
    else:
        data = FIXTURE.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    readers = [load_network, read_osm_ways, read_osm_features]
    for reader in readers:
        with pytest.raises(InputError) as ei:
            reader(p)
        assert name in ei.value.message("en") and name in ei.value.message("zh")
        assert "\n" not in ei.value.message("en")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_load_network_input_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_network(tmp_path / "nope.osm")
    nohw = tmp_path / "nohw.osm"
    nohw.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="31.3" lon="121.5"/>'
                    '<node id="2" lat="31.31" lon="121.5"/><way id="9"><nd ref="1"/><nd ref="2"/>'
                    '<tag k="highway" v="motorway"/></way></osm>', encoding="utf-8")
    for fn in (load_network, network_from_pbf):
        with pytest.raises(InputError, match="walkable") as ei:
            fn(nohw)
        assert "nohw.osm" in ei.value.message("en")
    crsless = tmp_path / "roads.geojson"
    crsless.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString",
                                                           "coordinates": [[0, 0], [10, 0]]}}]}))
    # GeoJSON is WGS-84 by definition; a shapefile without .prj has no CRS
    import geopandas as gpd
    shp = tmp_path / "roads.shp"
    gpd.read_file(crsless).set_crs(None, allow_override=True).to_file(shp)
    shp.with_suffix(".prj").unlink(missing_ok=True)
    with pytest.raises(InputError, match="CRS") as ei:
        load_network(shp)
    assert "roads.shp" in ei.value.message("en")
    with pytest.raises(InputError, match="unknown network file type"):
        p = tmp_path / "roads.txt"
        p.write_text("x")
        load_network(p)


def test_load_network_line_layer_and_cache_folder(tmp_path):
    import geopandas as gpd

    ways = read_osm_ways(FIXTURE)
    ways.to_file(tmp_path / "roads.gpkg")
    net = load_network(tmp_path / "roads.gpkg", snap_tol_m=0)
    assert net.repair["builder"] == "network_from_lines"
    _same_network(net, network_from_osm_xml(FIXTURE))
    net.save(tmp_path / "cache")
    back = load_network(tmp_path / "cache")
    assert len(back.edges) == len(net.edges)
    clipped = load_network(tmp_path / "roads.gpkg", polygon=gpd.GeoSeries([box(121.5015, 31.3305, 121.5025, 31.3315)],
                                                                          crs=4326))
    assert set(clipped.edges["osm_id"]) == {102}


# ------------------------------------------------------------------ online (mocked)
def _overpass_json() -> dict:
    nodes = [(1, 31.3300, 121.5000), (2, 31.3300, 121.5010), (3, 31.3300, 121.5020), (4, 31.3310, 121.5020),
             (5, 31.3330, 121.5030)]
    return {"version": 0.6, "elements": [
        *({"type": "node", "id": i, "lat": lat, "lon": lon} for i, lat, lon in nodes),
        {"type": "way", "id": 101, "nodes": [1, 2, 3], "tags": {"highway": "footway"}},
        {"type": "way", "id": 102, "nodes": [3, 4], "tags": {"highway": "residential", "name": "国和路"}},
        # Overpass would not send this one; our own walk filter must drop it anyway
        {"type": "way", "id": 103, "nodes": [4, 5], "tags": {"highway": "motorway"}},
    ]}


def _nominatim_json() -> list:
    return [{"place_id": 1, "osm_type": "relation", "osm_id": 7, "lat": "31.331", "lon": "121.501",
             "boundingbox": ["31.32", "31.34", "121.49", "121.51"], "class": "boundary", "type": "administrative",
             "display_name": "新江湾城街道, 杨浦区, 上海市, 中国", "importance": 0.5, "place_rank": 16,
             "category": "boundary", "addresstype": "suburb", "name": "新江湾城街道",
             "geojson": {"type": "Polygon", "coordinates": [[[121.49, 31.32], [121.51, 31.32], [121.51, 31.34],
                                                             [121.49, 31.34], [121.49, 31.32]]]}}]


@pytest.fixture
def mocked_http(monkeypatch):
    from osmnx import _http, _nominatim, _overpass

    calls = {"overpass": 0, "nominatim": 0}

    def respond(obj, url):
        r = requests.Response()
        r.status_code, r.url, r._content = 200, url, json.dumps(obj).encode()
        r.headers["Content-Type"] = "application/json"
        return r

    def fake_post(url, data=None, **kw):
        calls["overpass"] += 1
        assert "way" in data["data"] and '"foot"!~"no"' in data["data"]  # osmnx's walk filter was sent
        return respond(_overpass_json(), url)

    def fake_get(url, params=None, **kw):
        calls["nominatim"] += 1
        return respond(_nominatim_json(), url)

    def no_network(*a, **kw):  # anything else would be a live request
        raise AssertionError("live HTTP request attempted")

    monkeypatch.setattr(requests.sessions.Session, "request", no_network)
    monkeypatch.setattr(_overpass.requests, "post", fake_post)
    monkeypatch.setattr(_nominatim.requests, "get", fake_get)
    monkeypatch.setattr(_http, "_config_dns", lambda url: None)
    monkeypatch.setattr(_overpass, "_get_overpass_pause", lambda *a, **k: 0)
    monkeypatch.setattr(_nominatim.time, "sleep", lambda s: None)
    return calls


def test_network_from_place_mocked(mocked_http, tmp_path):
    cache = tmp_path / "cache" / "osmnx"
    net = network_from_place("新江湾城街道, 杨浦区, 上海市", cache_dir=cache)
    assert mocked_http == {"overpass": 1, "nominatim": 1}
    assert set(net.edges["osm_id"]) == {101, 102}
    assert net.crs.to_epsg() == 32651 and net.repair["builder"] == "network_from_place"
    assert net.repair["after"]["n_components"] == 1
    assert any(cache.iterdir())  # osmnx cached the answers there
    # second call is served from the cache
    network_from_place("新江湾城街道, 杨浦区, 上海市", cache_dir=cache)
    assert mocked_http == {"overpass": 1, "nominatim": 1}
    by_poly = network_from_place(polygon=box(121.49, 31.32, 121.51, 31.34), cache_dir=tmp_path / "c2")
    assert len(by_poly.edges) == len(net.edges)


def test_network_from_place_offline_is_an_input_error(monkeypatch, tmp_path):
    from osmnx import _http, _nominatim

    def down(*a, **kw):
        raise requests.ConnectionError("no route to host")

    monkeypatch.setattr(_nominatim.requests, "get", down)
    monkeypatch.setattr(_nominatim.time, "sleep", lambda s: None)
    monkeypatch.setattr(_http, "_config_dns", lambda url: None)
    with pytest.raises(InputError, match="offline"):
        network_from_place("新江湾城街道", cache_dir=tmp_path)
