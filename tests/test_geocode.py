"""geo.geocode: matching mentions to OSM, corrections, facilities output, CLI; acceptance on ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import geocode as gc
from geo.cli import main
from geo.facilities import FACILITY_COLUMNS, read_facility_table

WGS84 = "EPSG:4326"


# --------------------------------------------------------------------------- helpers
def cands(rows: list[dict]) -> gpd.GeoDataFrame:
    """Candidates as load_candidates returns them; rows give osm_id, name, category, x, y (+ extras)."""
    recs = []
    for r in rows:
        r = dict(r)
        x, y = r.pop("x"), r.pop("y")
        geom = r.pop("geometry", None) or shapely.Point(x, y)
        typ = "node" if geom.geom_type == "Point" else "area"
        recs.append({"candidate_id": f"osm:{typ}/{r['osm_id']}", "osm_type": typ, "fclass": "", "category": "",
                     **r, "geometry": geom})
    return gpd.GeoDataFrame(recs, geometry="geometry", crs=WGS84)


def mentions(rows: list[dict]) -> pd.DataFrame:
    base = {"name": "", "category": "", "status": "existing", "count": "", "district": "", "subdistrict": "",
            "source": "000_test.txt", "sentence": ""}
    return pd.DataFrame([{**base, **r} for r in rows])


# two districts side by side (~10 km each) and a subdistrict inside the first
DIST_A = shapely.box(121.40, 31.20, 121.50, 31.30)
DIST_B = shapely.box(121.50, 31.20, 121.60, 31.30)
SUB_A1 = shapely.box(121.40, 31.20, 121.45, 31.25)
BOUNDS = {
    "district": gpd.GeoDataFrame({"name": ["甲区", "乙区"]}, geometry=[DIST_A, DIST_B], crs=WGS84),
    "subdistrict": gpd.GeoDataFrame({"subdistrict": ["丙街道"], "district": ["甲区"]}, geometry=[SUB_A1], crs=WGS84),
}


# --------------------------------------------------------------------------- names
def test_normalize_name_forms():
    assert gc.normalize_name("上海市 临沂公园（南门）") == ("临沂公园", "临沂公园")
    full, short = gc.normalize_name("区图书馆", district="杨浦区", districts={"杨浦区"})
    assert (full, short) == ("杨浦区图书馆", "")  # short form is only a category word
    assert gc.normalize_name("杨浦区图书馆", districts={"杨浦区"}) == ("杨浦区图书馆", "")
    assert gc.normalize_name("上海浦东游泳馆") == ("上海浦东游泳馆", "浦东游泳馆")
    assert gc.normalize_name("ＡＢＣ 公园")[0] == "abc公园"  # NFKC full-width


def test_name_category_uses_the_taxonomy_head_word():
    assert gc.name_category("杨浦区图书馆滨江分馆") == "culture"
    assert gc.name_category("书院镇社区文化活动中心-图书馆") == "culture"
    assert gc.name_category("殷行社区卫生服务中心") == "health"
    assert gc.name_category("杨浦公园健身步道") == "sports"
    assert gc.name_category("敦煌楼 兰州牛肉拉面") is None


def test_mention_key_is_stable_and_hashes_counted_mentions():
    row = {"source": "/a/b/000_x.txt", "name": "临沂公园", "category": "park", "sentence": "..."}
    assert gc.mention_key(row) == "000_x.txt|临沂公园|park"
    k1 = gc.mention_key({"source": "s.txt", "name": "", "category": "park", "sentence": "新建3处口袋公园"})
    k2 = gc.mention_key({"source": "s.txt", "name": "", "category": "park", "sentence": "新建5处口袋公园"})
    assert k1.startswith("s.txt|#") and k1 != k2


# --------------------------------------------------------------------------- matching (synthetic)
def test_exact_match_in_scope_with_reason():
    c = cands([{"osm_id": "1", "name": "临沂公园", "category": "park", "fclass": "park", "x": 121.42, "y": 31.22},
               {"osm_id": "2", "name": "临沂公园", "category": "park", "fclass": "park", "x": 121.55, "y": 31.22}])
    res = gc.geocode_mentions(mentions([{"name": "临沂公园", "category": "park", "district": "甲区"}]), c,
                              boundaries=BOUNDS)
    r = res.iloc[0]
    assert (r.match_status, r.osm_id, r.match_score) == ("matched", "1", 100.0)
    assert (r.lon, r.lat) == pytest.approx((121.42, 31.22))
    assert r.reason.startswith("名称完全一致，类别相符，位于甲区内 / exact name, same category, inside 甲区")


def test_same_name_in_two_districts_is_ambiguous_without_scope():
    c = cands([{"osm_id": "1", "name": "临沂公园", "category": "park", "x": 121.42, "y": 31.22},
               {"osm_id": "2", "name": "临沂公园", "category": "park", "x": 121.55, "y": 31.22}])
    r = gc.geocode_mentions(mentions([{"name": "临沂公园", "category": "park"}]), c).iloc[0]
    assert r.match_status == "ambiguous" and r.osm_id == "" and np.isnan(r.lon)
    assert r.candidates == "临沂公园 (1, 100); 临沂公园 (2, 100)"
    assert "not scoped (no boundaries given)" in r.reason


def test_subdistrict_decides_between_equal_candidates():
    c = cands([{"osm_id": "7", "name": "民星公园", "category": "park", "x": 121.47, "y": 31.27},
               {"osm_id": "8", "name": "民星公园", "category": "park", "x": 121.43, "y": 31.23}])
    r = gc.geocode_mentions(mentions([{"name": "民星公园", "category": "park", "district": "甲区",
                                       "subdistrict": "丙街道"}]), c, boundaries=BOUNDS).iloc[0]
    assert (r.match_status, r.osm_id) == ("matched", "8")
    assert "inside 丙街道" in r.reason


def test_category_conflict_and_unknown_category():
    c = cands([{"osm_id": "1", "name": "百联临沂", "category": "market", "fclass": "supermarket", "x": 121.42, "y": 31.22},
               {"osm_id": "2", "name": "敦煌楼 兰州牛肉拉面", "category": "", "fclass": "restaurant", "x": 121.43, "y": 31.22},
               {"osm_id": "3", "name": "金杨文化中心", "category": "community_service", "fclass": "community_centre",
                "x": 121.44, "y": 31.22}])
    res = gc.geocode_mentions(mentions([{"name": "百联临沂", "category": "park"},
                                        {"name": "敦煌楼兰州牛肉拉面", "category": "culture"},
                                        {"name": "敦煌楼兰州牛肉", "category": "culture"},
                                        {"name": "金杨文化中心", "category": "culture"}]), c)
    assert res.match_status.tolist() == ["unmatched", "matched", "unmatched", "matched"]
    assert "different category" in res.reason.iat[0]
    # an exact name of an uncategorised feature still matches, with the penalty and a note
    assert res.match_score.iat[1] == pytest.approx(85.0)
    assert "category could not be checked" in res.reason.iat[1]


def test_similar_but_different_names_do_not_match():
    c = cands([{"osm_id": "1", "name": "上海当代艺术馆", "category": "culture", "x": 121.42, "y": 31.22},
               {"osm_id": "2", "name": "新江湾城滑板公园", "category": "park", "x": 121.42, "y": 31.23},
               {"osm_id": "3", "name": "延吉新村社区文化活动中心", "category": "culture", "x": 121.42, "y": 31.24},
               {"osm_id": "4", "name": "临沂公园儿童乐园", "category": "park", "x": 121.42, "y": 31.25}])
    res = gc.geocode_mentions(mentions([{"name": "敦煌当代艺术馆", "category": "culture"},
                                        {"name": "新江湾城公园", "category": "park"},
                                        {"name": "延吉新村社区文化中心", "category": "culture"},
                                        {"name": "临沂公园", "category": "park"}]), c)
    assert res.match_status.tolist() == ["unmatched", "unmatched", "matched", "unmatched"]
    assert res.osm_id.iat[2] == "3" and 85 <= res.match_score.iat[2] < 100


def test_planned_needs_near_exact_name_and_branches_must_agree():
    c = cands([{"osm_id": "5", "name": "杨浦区图书馆", "category": "culture", "x": 121.42, "y": 31.22},
               {"osm_id": "6", "name": "延吉新村社区文化活动中心", "category": "culture", "x": 121.43, "y": 31.22}])
    m = mentions([{"name": "区图书馆滨江分馆", "category": "culture", "status": "planned", "district": "杨浦区"},
                  {"name": "区图书馆滨江分馆", "category": "culture", "status": "existing", "district": "杨浦区"},
                  {"name": "区图书馆", "category": "culture", "status": "existing", "district": "杨浦区"},
                  {"name": "延吉新村社区文化中心", "category": "culture", "status": "planned"},
                  {"name": "延吉新村社区文化中心", "category": "culture", "status": "existing"}])
    res = gc.geocode_mentions(m, c)
    assert res.match_status.tolist() == ["unmatched", "unmatched", "matched", "unmatched", "matched"]
    assert "branch words differ" in res.reason.iat[0] and "planned facility" in res.reason.iat[0]
    assert res.osm_id.iat[2] == "5"


def test_counted_and_generic_mentions_are_not_geocoded():
    c = cands([{"osm_id": "1", "name": "睦邻点", "category": "elderly_care", "x": 121.42, "y": 31.22}])
    res = gc.geocode_mentions(mentions([{"name": "", "category": "elderly_care", "count": "3"},
                                        {"name": "睦邻点", "category": "elderly_care"}]), c)
    assert res.match_status.tolist() == ["not_applicable", "unmatched"]
    assert "category word" in res.reason.iat[1]


def test_near_duplicates_are_one_place_and_result_is_deterministic():
    poly = shapely.box(121.4200, 31.2200, 121.4210, 31.2210)
    rows = [{"osm_id": "20", "name": "杨浦公园", "category": "park", "x": 121.4205, "y": 31.2214},
            {"osm_id": "10", "name": "杨浦公园", "category": "park", "x": 0, "y": 0, "geometry": poly},
            {"osm_id": "30", "name": "杨浦公园南门", "category": "", "x": 121.4205, "y": 31.2199}]
    m = mentions([{"name": "杨浦公园", "category": "park"}])
    first = gc.geocode_mentions(m, cands(rows))
    assert (first.match_status.iat[0], first.osm_id.iat[0], first.osm_type.iat[0]) == ("matched", "10", "area")
    for perm in ([2, 0, 1], [1, 2, 0]):
        again = gc.geocode_mentions(m, cands([rows[i] for i in perm]))
        pd.testing.assert_frame_equal(first, again)


def test_subdistrict_only_scope_uses_its_district():
    c = cands([{"osm_id": "1", "name": "传染病医院", "category": "health", "x": 121.55, "y": 31.22}])
    r = gc.geocode_mentions(mentions([{"name": "传染病医院", "category": "health", "subdistrict": "丙"}]), c,
                            boundaries=BOUNDS).iloc[0]
    assert r.match_status == "unmatched" and "outside 甲区" in r.reason


# --------------------------------------------------------------------------- corrections and outputs
@pytest.fixture()
def geocoded() -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    park = shapely.box(121.420, 31.220, 121.424, 31.224)
    c = cands([{"osm_id": "1", "name": "临沂公园", "category": "park", "x": 0, "y": 0, "geometry": park},
               {"osm_id": "2", "name": "四平电影院", "category": "culture", "x": 121.43, "y": 31.23}])
    m = mentions([{"name": "临沂公园", "category": "park"},
                  {"name": "四平电影院", "category": "culture", "status": "planned"},
                  {"name": "长江口二号古船博物馆", "category": "culture", "status": "planned"},
                  {"name": "", "category": "elderly_care", "count": "3", "sentence": "新建3家"}])
    return gc.geocode_mentions(m, c), c


def test_corrections_roundtrip_csv(tmp_path, geocoded):
    g, c = geocoded
    path = tmp_path / "corrections.csv"
    key = g.mention_key.iat[2]
    gc.save_correction(path, key, lon=121.51, lat=31.25, note="规划图")
    gc.save_correction(path, g.mention_key.iat[0], osm_id="2")  # wrong on purpose, replaced next
    gc.save_correction(path, g.mention_key.iat[0], lon=121.421, lat=31.221, category="park", note="南门")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = gc.read_corrections(path)
    assert len(table) == 2 and table.osm_id.tolist() == ["", ""]
    out = gc.apply_corrections(g, path)
    assert out.match_status.tolist() == ["manual", "matched", "manual", "not_applicable"]
    assert (out.lon.iat[2], out.lat.iat[2]) == pytest.approx((121.51, 31.25))
    assert "规划图" in out.reason.iat[2]
    # a correction by OSM id takes the location from the candidates
    gc.save_correction(path, key, osm_id="2", note="same as 四平电影院")
    out = gc.apply_corrections(g, path, candidates=c)
    assert (out.osm_id.iat[2], out.osm_name.iat[2]) == ("2", "四平电影院")
    assert (out.lon.iat[2], out.lat.iat[2]) == pytest.approx((121.43, 31.23))
    assert out.attrs["unused_corrections"] == []


def test_corrections_geojson_and_bad_files(tmp_path, geocoded):
    g, _ = geocoded
    path = tmp_path / "corrections.geojson"
    gc.save_correction(path, g.mention_key.iat[2], lon=121.5, lat=31.3, status="planned")
    feat = json.loads(path.read_text(encoding="utf-8"))["features"][0]
    assert feat["geometry"]["coordinates"] == [121.5, 31.3]
    out = gc.apply_corrections(g, path)
    assert out.match_status.iat[2] == "manual" and out.lon.iat[2] == pytest.approx(121.5)
    with pytest.raises(gc.InputError, match="outside China"):
        gc.save_correction(path, "k", lon=31.3, lat=121.5)
    with pytest.raises(gc.InputError):
        gc.save_correction(path, "k", category="restaurant")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lon\nx,1\n", encoding="utf-8")
    with pytest.raises(gc.InputError, match="key"):
        gc.read_corrections(bad)


def test_to_facilities_schema_polygons_and_scenario(geocoded):
    g, c = geocoded
    fac = gc.to_facilities(g, candidates=c)
    assert list(fac.columns[:6]) == FACILITY_COLUMNS[:6]
    assert fac.facility_id.tolist() == ["text:000_test.txt|临沂公园|park", "text:000_test.txt|四平电影院|culture"]
    assert fac.source.tolist() == ["text", "text"] and fac.status.tolist() == ["existing", "planned"]
    assert fac.geometry.iat[0].geom_type == "Polygon"  # the park is reached at its boundary
    assert "OSM area/1 临沂公园" in fac.source_detail.iat[0]
    assert gc.scenario(fac, include_planned=False).name.tolist() == ["临沂公园"]
    assert len(gc.scenario(fac, include_planned=True)) == 2
    assert gc.to_facilities(g).geometry.iat[0].geom_type == "Point"


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg"])
def test_outputs_are_readable_as_facilities(tmp_path, geocoded, suffix):
    g, _ = geocoded
    path = gc.write_geocoded(g, tmp_path / f"geocoded{suffix}")
    fac = read_facility_table(path)
    assert sorted(fac.name) == ["临沂公园", "四平电影院"]
    assert sorted(fac.facility_id) == sorted(gc.to_facilities(g).facility_id)
    assert dict(zip(fac.name, fac.status)) == {"临沂公园": "existing", "四平电影院": "planned"}
    assert set(fac.source) == {"text"}  # provenance survives the round trip (not "official")
    if suffix != ".csv":
        back = gpd.read_file(path)
        assert len(back) == 4 and back.geometry.isna().sum() == 2  # every row kept
    else:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        assert len(pd.read_csv(path, encoding="utf-8-sig")) == 4


# --------------------------------------------------------------------------- candidate loaders
def _geofabrik_folder(tmp_path: Path) -> Path:
    d = tmp_path / "geofabrik"
    d.mkdir()
    pts = gpd.GeoDataFrame({"osm_id": ["11", "12", "13"], "code": [2110, 2301, 2204],
                            "fclass": ["library", "restaurant", "park"],
                            "name": ["杨浦区图书馆", "敦煌楼 兰州牛肉拉面", None]},
                           geometry=[shapely.Point(121.52, 31.28), shapely.Point(121.53, 31.28),
                                     shapely.Point(121.54, 31.28)], crs=WGS84)
    pts.to_file(d / "gis_osm_pois_free_1.shp", engine="pyogrio")
    polys = gpd.GeoDataFrame({"osm_id": ["21"], "code": [2204], "fclass": ["park"], "name": ["黄兴公园"]},
                             geometry=[shapely.box(121.52, 31.29, 121.53, 31.30)], crs=WGS84)
    polys.to_file(d / "gis_osm_pois_a_free_1.shp", engine="pyogrio")
    return d


def test_load_candidates_geofabrik_and_table(tmp_path):
    folder = _geofabrik_folder(tmp_path)
    c = gc.load_candidates(folder)
    assert c.candidate_id.tolist() == ["osm:node/11", "osm:node/12", "osm:area/21"]  # unnamed dropped
    assert c.category.tolist() == ["culture", "", "park"]
    assert c.fclass.tolist() == ["library", "restaurant", "park"]
    table = tmp_path / "list.csv"
    table.write_text("facility_name,facility_type,wgs84_lon,wgs84_lat\n杨浦公园,park,121.5286,31.2828\n",
                     encoding="utf-8-sig")
    both = gc.load_candidates([folder, table])
    assert both.name.tolist()[-1] == "杨浦公园" and both.category.tolist()[-1] == "park"
    masked = gc.load_candidates(folder, boundaries=gpd.GeoDataFrame(geometry=[shapely.box(121.51, 31.285, 121.535, 31.31)],
                                                                    crs=WGS84))
    assert masked.osm_id.tolist() == ["21"]


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="31.28" lon="121.52" version="1"><tag k="amenity" v="library"/><tag k="name" v="新江湾城图书馆"/>
    <tag k="alt_name" v="新江湾城社区图书馆"/></node>
  <node id="2" lat="31.28" lon="121.53" version="1"/>
  <node id="3" lat="31.29" lon="121.53" version="1"/>
  <node id="4" lat="31.29" lon="121.52" version="1"/>
  <way id="10" version="1"><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="2"/>
    <tag k="leisure" v="park"/><tag k="name" v="江湾公园"/><tag k="old_name" v="老江湾绿地"/></way>
</osm>
"""


def test_load_candidates_from_osm_xml_uses_alt_names(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    c = gc.load_candidates(path)
    assert sorted(c.candidate_id) == ["osm:node/1", "osm:way/10"]
    res = gc.geocode_mentions(mentions([{"name": "新江湾城社区图书馆", "category": "culture"},
                                        {"name": "老江湾绿地", "category": "park"}]), c)
    assert res.osm_id.tolist() == ["1", "10"] and res.osm_type.tolist() == ["node", "way"]


def test_candidates_online_with_mocked_osmnx(monkeypatch):
    import osmnx as ox

    area = shapely.box(121.5, 31.2, 121.6, 31.3)
    calls = {"features": [], "geocode": []}

    def fake_features(polygon, tags):
        calls["features"].append(tags)
        idx = pd.MultiIndex.from_tuples([("node", 1), ("way", 2)], names=["element", "id"])
        return gpd.GeoDataFrame({"name": ["临沂公园", "浦东游泳馆"], "leisure": ["park", "sports_centre"]},
                                geometry=[shapely.Point(121.51, 31.21), shapely.box(121.52, 31.22, 121.53, 31.23)],
                                index=idx, crs=WGS84)

    def fake_geocode(query, **kw):
        calls["geocode"].append(query)
        if query == "三林体育中心":
            return gpd.GeoDataFrame({"osm_type": ["way"], "osm_id": [402067663], "class": ["leisure"],
                                     "type": ["sports_centre"], "name": ["三林体育中心"]},
                                    geometry=[shapely.Point(121.55, 31.25)], crs=WGS84)
        raise ox._errors.InsufficientResponseError("nothing found")

    monkeypatch.setattr(ox, "features_from_polygon", fake_features)
    monkeypatch.setattr(ox, "geocode_to_gdf", fake_geocode)
    c = gc.candidates_online(["临沂公园", "三林体育中心", "不存在的中心"], area)
    assert calls["features"][0]["leisure"] and "park" in calls["features"][0]["leisure"]
    assert calls["features"][0]["healthcare"] is True
    assert calls["geocode"] == ["三林体育中心", "不存在的中心"]  # 临沂公园 was already found
    assert c.candidate_id.tolist() == ["osm:node/1", "osm:way/2", "osm:way/402067663"]
    assert c.category.tolist() == ["park", "sports", "sports"]


# --------------------------------------------------------------------------- CLI
def _write_mentions(path: Path) -> Path:
    mentions([{"name": "杨浦区图书馆", "category": "culture", "district": "杨浦区"},
              {"name": "敦煌当代艺术馆", "category": "culture", "status": "planned", "district": "杨浦区"},
              {"name": "", "category": "elderly_care", "count": "3"}]).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_cli_geocode_writes_output_and_summary(tmp_path, capsys):
    folder = _geofabrik_folder(tmp_path)
    fac = _write_mentions(tmp_path / "facilities.csv")
    out = tmp_path / "geocoded.csv"
    assert main(["--lang", "en", "geocode", str(fac), "--pois", str(folder), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "matched 1" in text and "unmatched 1" in text and "not applicable 1" in text
    assert "unmatched names: 敦煌当代艺术馆" in text and "not scoped" in text
    res = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(res.columns[:8]) == gc.MENTION_COLUMNS and res.osm_id.tolist() == ["11", "", ""]
    # corrections re-applied on the next run
    corr = tmp_path / "corrections.csv"
    gc.save_correction(corr, res.mention_key.iat[1], lon=121.50, lat=31.26)
    gpkg = tmp_path / "geocoded.gpkg"
    assert main(["geocode", str(fac), "--pois", str(folder), "--corrections", str(corr), "-o", str(gpkg)]) == 0
    back = gpd.read_file(gpkg)
    assert back.match_status.tolist() == ["matched", "manual", "not_applicable"]
    assert back.geometry.notna().tolist() == [True, True, False]


def _xlsx_without_coords(tmp_path: Path) -> Path:
    p = tmp_path / "list.xlsx"
    pd.DataFrame({"name": ["杨浦公园"], "category": ["park"]}).to_excel(p, index=False)
    return p


@pytest.mark.parametrize("case", ["missing", "binary", "empty", "columns", "xlsx_no_coords", "outside_china",
                                  "bad_output", "bad_corrections"])
def test_cli_geocode_bad_input_exit_2_one_line(tmp_path, capsys, case):
    folder = _geofabrik_folder(tmp_path)
    fac = _write_mentions(tmp_path / "facilities.csv")
    pois = str(folder)
    out = tmp_path / "geocoded.csv"
    extra: list[str] = []
    if case == "missing":
        fac = tmp_path / "nope.csv"
    elif case == "binary":
        fac = tmp_path / "facilities.csv"
        fac.write_bytes(b"PK\x03\x04\x00\x00binary\x00")
    elif case == "empty":
        fac.write_bytes(b"")
    elif case == "columns":
        fac.write_text("名称,数量\n公园,3\n", encoding="utf-8-sig")
    elif case == "xlsx_no_coords":
        pois = str(_xlsx_without_coords(tmp_path))
    elif case == "outside_china":
        p = tmp_path / "pois.csv"
        p.write_text("name,category,lon,lat\n杨浦公园,park,2.35,48.85\n", encoding="utf-8")
        pois = str(p)
    elif case == "bad_output":
        out = tmp_path / "geocoded.xlsx"
    elif case == "bad_corrections":
        corr = tmp_path / "corr.csv"
        corr.write_text("name,lon,lat\nk,121.5,31.2\n", encoding="utf-8")  # no key column: nothing to apply
        extra = ["--corrections", str(corr)]
    code = main(["geocode", str(fac), "--pois", pois, *extra, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


# --------------------------------------------------------------------------- acceptance on ../shared
@pytest.fixture(scope="session")
def shanghai_candidates(shared_data: Path) -> gpd.GeoDataFrame:
    return gc.load_candidates(shared_data / "osm-shanghai-2025-03-18")


@pytest.fixture(scope="session")
def shanghai_bounds(shared_data: Path) -> dict:
    b = shared_data / "boundaries"
    return {"district": gpd.read_file(b / "shanghai_districts.geojson"),
            "subdistrict": gpd.read_file(b / "yangpu_subdistricts_osm.geojson")}


SEEDS = [  # name, category, district, subdistrict, the OSM feature (looked up in the 2025-03-18 extract)
    ("临沂公园", "park", "浦东新区", "南码头路街道", "53577983"),       # pois_a fclass=park (and green_areas)
    ("浦东游泳馆", "sports", "浦东新区", "南码头路街道", "97942680"),   # pois_a fclass=sports_centre
    ("三林体育中心", "sports", "浦东新区", "周家渡街道", "402067663"),  # pois_a fclass=sports_centre (in 三林, not 周家渡)
    ("四平电影院", "culture", "杨浦区", "四平路街道", "156749765"),     # pois_a fclass=theatre
]


def test_seed_facilities_match_their_osm_features(shanghai_candidates, shanghai_bounds):
    m = mentions([{"name": n, "category": c, "district": d, "subdistrict": s} for n, c, d, s, _ in SEEDS])
    res = gc.geocode_mentions(m, shanghai_candidates, boundaries=shanghai_bounds)
    assert res.match_status.tolist() == ["matched"] * 4
    assert res.osm_id.tolist() == [s[-1] for s in SEEDS]
    assert res.osm_name.tolist() == [s[0] for s in SEEDS]


def test_traps_do_not_match(shanghai_candidates, shanghai_bounds):
    c = shanghai_candidates
    # the traps exist in the data
    assert (c.name == "敦煌楼 兰州牛肉拉面").any() and (c.name == "浦东新区传染病医院").any()
    assert c.loc[c.name == "杨浦区图书馆", "osm_id"].tolist() == ["5042026635"]
    m = mentions([{"name": "敦煌当代艺术馆", "category": "culture", "status": "planned", "district": "杨浦区"},
                  {"name": "敦煌当代艺术馆", "category": "culture", "status": "existing", "district": "杨浦区"},
                  {"name": "传染病医院", "category": "health", "status": "planned", "district": "杨浦区"},
                  {"name": "传染病医院", "category": "health", "status": "existing", "district": "杨浦区"},
                  {"name": "区图书馆滨江分馆", "category": "culture", "status": "planned", "district": "杨浦区"},
                  {"name": "区图书馆", "category": "culture", "status": "existing", "district": "杨浦区"}])
    res = gc.geocode_mentions(m, c, boundaries=shanghai_bounds)
    assert res.match_status.tolist() == ["unmatched"] * 5 + ["matched"]
    assert "浦东新区传染病医院" in res.reason.iat[3] and "outside 杨浦区" in res.reason.iat[3]
    assert "branch words differ" in res.reason.iat[4]
    assert res.osm_id.iat[5] == "5042026635"


def test_official_yangpu_parks_match_osm_namesakes(shared_data, shanghai_candidates, shanghai_bounds):
    off = pd.read_csv(shared_data / "facilities" / "yangpu_official_facilities.csv")
    parks = off[off.facility_type == "park"].reset_index(drop=True)
    assert len(parks) == 22
    m = mentions([{"name": n, "category": "park", "district": "杨浦区", "subdistrict": s}
                  for n, s in zip(parks.facility_name, parks.official_subdistrict)])
    res = gc.geocode_mentions(m, shanghai_candidates, boundaries=shanghai_bounds)

    # independent expectation: OSM park features in Yangpu whose name, brackets dropped, equals the official one
    c = shanghai_candidates
    yangpu = shanghai_bounds["district"].set_index("name").geometry["杨浦区"]
    base = c.name.str.replace(r"[（(].*?[)）]", "", regex=True).str.strip()
    is_park = (c.category == "park") & c.intersects(yangpu)
    namesakes = {n: set(c.osm_id[is_park & (base == n)]) for n in parks.facility_name}
    with_namesake = [n for n, ids in namesakes.items() if ids]
    official_pts = gpd.GeoSeries(gpd.points_from_xy(parks.wgs84_lon, parks.wgs84_lat), crs=WGS84).to_crs(32651)
    metric = c.to_crs(32651)
    matched_near = []
    for i, r in res.iterrows():
        if r.match_status != "matched":
            continue
        assert r.osm_id in namesakes[r["name"]], f"{r['name']} matched {r.osm_name}"
        geom = metric.geometry[(c.osm_id == r.osm_id) & (c.osm_type == r.osm_type)].iloc[0]
        if geom.distance(official_pts.iat[i]) <= 150:
            matched_near.append(r["name"])
    # measured on the 2025-03-18 extract: 15 of the 22 have an OSM namesake, all 15 match within 150 m
    assert len(with_namesake) == 15
    assert sorted(matched_near) == sorted(with_namesake)
    assert set(res.loc[res.match_status == "unmatched", "name"]) == set(parks.facility_name) - set(with_namesake)


def test_end_to_end_extract_then_geocode_seeds(seeds_dir, shanghai_candidates, shanghai_bounds):
    texts = pytest.importorskip("geo.texts")
    m = texts.extract_files(sorted(seeds_dir.glob("*.txt")))
    res = gc.geocode_mentions(m, shanghai_candidates, boundaries=shanghai_bounds)
    got = res[res.match_status == "matched"].drop_duplicates("name").set_index("name")["osm_id"].to_dict()
    for name, _, _, _, osm_id in SEEDS:
        assert got.get(name) == osm_id, name
    for trap in ("敦煌当代艺术馆", "传染病医院"):
        rows = res[res.name == trap]
        assert len(rows) and (rows.match_status == "unmatched").all(), trap
    branch = res[res.name.str.contains("滨江分馆")]
    assert len(branch) and (branch.match_status == "unmatched").all()
    assert (res.loc[res.name == "", "match_status"] == "not_applicable").all()
    # every match lies in the district its text is about
    districts = shanghai_bounds["district"].set_index("name").geometry
    for r in res[res.match_status == "matched"].itertuples():
        if r.district in districts.index:
            assert districts[r.district].buffer(0.003).contains(shapely.Point(r.lon, r.lat)), r.name


def test_cli_geocode_scopes_with_district_and_subdistrict_files(tmp_path, capsys):
    folder = _geofabrik_folder(tmp_path)  # 杨浦区图书馆 at 121.52, 31.28
    dist = tmp_path / "districts.geojson"
    gpd.GeoDataFrame({"name": ["杨浦区", "浦东新区"]},
                     geometry=[shapely.box(121.50, 31.25, 121.56, 31.32), shapely.box(121.50, 31.10, 121.60, 31.24)],
                     crs=WGS84).to_file(dist)
    sub = tmp_path / "subdistricts.geojson"
    gpd.GeoDataFrame({"subdistrict": ["四平路街道"], "district": ["杨浦区"]},
                     geometry=[shapely.box(121.51, 31.27, 121.525, 31.29)], crs=WGS84).to_file(sub)
    fac = tmp_path / "facilities.csv"
    mentions([{"name": "杨浦区图书馆", "category": "culture", "subdistrict": "四平路街道"},
              {"name": "杨浦区图书馆", "category": "culture", "district": "浦东新区"}]).to_csv(
        fac, index=False, encoding="utf-8-sig")
    out = tmp_path / "geocoded.geojson"
    code = main(["--lang", "en", "geocode", str(fac), "--pois", str(folder), "--boundaries", str(dist),
                 "--boundaries", str(sub), "-o", str(out)])
    assert code == 0 and "not scoped" not in capsys.readouterr().out
    back = gpd.read_file(out)
    assert back.match_status.tolist() == ["matched", "unmatched"]
    assert "inside 四平路街道" in back.reason[0] and "outside 浦东新区" in back.reason[1]
