"""Facility loaders, category mapping, datum conversion, merging and boundaries."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import prcoords
import pytest
import shapely
from shapely.geometry import Point

from geo import facilities as F
from geo.boundaries import read_boundaries
from geo.categories import CATEGORY_KEYS, STATUSES
from geo.errors import InputError

# 新江湾城's network extent (shared/data/networks/README.md) plus ~1.5 km
XJW_BOX = (121.46, 31.30, 121.55, 31.37)


def _metres(lon1, lat1, lon2, lat2) -> float:
    """Haversine distance (independent of the code under test)."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _schema_ok(gdf):
    assert list(gdf.columns[:6]) == F.FACILITY_COLUMNS[:6] and gdf.geometry.name == "geometry"
    assert gdf.crs.to_epsg() == 4326
    assert set(gdf["category"]) <= set(CATEGORY_KEYS)
    assert set(gdf["status"]) <= set(STATUSES)


# ----------------------------------------------------------------- Geofabrik (real data)
@pytest.fixture(scope="module")
def geofabrik(shared_data):
    return shared_data / "osm-shanghai-2025-03-18"


def test_geofabrik_linyi_park_is_a_park_polygon(geofabrik):
    gdf = F.from_geofabrik(geofabrik)
    _schema_ok(gdf)
    linyi = gdf[gdf["name"] == "临沂公园"]
    assert len(linyi) == 1
    row = linyi.iloc[0]
    assert row.category == "park" and row.source == "osm"
    assert row.geometry.geom_type == "Polygon" and row.facility_id.startswith("osm:area/")
    assert "fclass=park" in row.source_detail and "osm_id=" in row.source_detail
    # green_areas.geojson parks are read too; city-wide 9 of them are not in the POI polygons
    assert gdf["source_detail"].str.startswith("green_areas.geojson").sum() == 9
    # one OSM object may serve two categories (a community centre tagged as a park too)
    assert not gdf.duplicated(["facility_id", "category"]).any()
    # restaurants, benches ... are not facilities of the taxonomy
    assert not gdf["source_detail"].str.contains("fclass=restaurant").any()


def test_geofabrik_near_xinjiangwan_counts_are_plausible(geofabrik):
    gdf = F.from_geofabrik(geofabrik, mask=XJW_BOX)
    _schema_ok(gdf)
    b = gdf.total_bounds
    # every feature intersects the box
    assert b[2] >= XJW_BOX[0] and b[0] <= XJW_BOX[2] and b[3] >= XJW_BOX[1] and b[1] <= XJW_BOX[3]
    assert gdf.intersects(shapely.box(*XJW_BOX)).all()
    counts = gdf["category"].value_counts()
    # measured 2025-03-18 extract: park 125, sports 122, education 90, market 28, health 22, culture 10.
    # A 9 x 8 km urban box with universities (复旦 江湾, 财大) has dozens of pitches and schools,
    # while OSM maps hardly any elder care in Shanghai (shared README).
    assert 60 <= counts["park"] <= 250
    assert 50 <= counts["sports"] <= 250
    assert 30 <= counts["education"] <= 200
    assert 5 <= counts["health"] <= 60
    assert counts.get("elderly_care", 0) <= 5
    assert gdf["facility_id"].is_unique


# ----------------------------------------------------------------- official list
def test_official_list_import(shared_data):
    path = shared_data / "facilities" / "yangpu_official_facilities.csv"
    gdf = F.read_facility_table(path)
    _schema_ok(gdf)
    assert len(gdf) == 129  # 131 rows, two culture rows lack coordinates
    assert any("2 行没有坐标" in w.zh and "skipped 2 rows" in w.en for w in gdf.attrs["warnings"])
    raw = pd.read_csv(path)
    expected = raw.dropna(subset=["wgs84_lon"])["facility_type"].replace({"healthcare": "health"}).value_counts()
    assert gdf["category"].value_counts().sort_index().to_dict() == expected.sort_index().to_dict()
    assert (gdf["source"] == "official").all()
    assert gdf["facility_id"].str.startswith("official:P06G").all() and gdf["facility_id"].is_unique
    yp = gdf[gdf["facility_id"] == "official:P06G001"].iloc[0]
    assert yp["name"] == "杨浦公园" and yp.category == "park"
    assert yp.geometry.x == pytest.approx(121.528608) and yp.geometry.y == pytest.approx(31.282833)


@pytest.mark.parametrize("datum,forward", [("gcj02", prcoords.wgs_gcj), ("bd09", prcoords.wgs_bd)])
def test_chinese_datum_converts_back_to_wgs84(tmp_path, datum, forward):
    wgs = (121.5061, 31.3362)  # a point in 新江湾城
    c = forward(prcoords.Coords(wgs[1], wgs[0]))
    shift = _metres(wgs[0], wgs[1], c.lon, c.lat)
    assert shift > 100  # the datums really are offset by hundreds of metres
    path = tmp_path / "amap.csv"
    pd.DataFrame({"名称": ["某养老院"], "类别": ["养老服务"], "经度": [c.lon], "纬度": [c.lat]}).to_csv(path, index=False)
    gdf = F.read_facility_table(path, datum=datum)
    p = gdf.geometry.iloc[0]
    assert _metres(p.x, p.y, *wgs) < 1.0
    assert gdf["category"].iloc[0] == "elderly_care" and gdf["name"].iloc[0] == "某养老院"


def test_gbk_csv_and_chinese_labels(tmp_path):
    path = tmp_path / "gbk.csv"
    df = pd.DataFrame({"设施名称": ["江湾体育场", "长海医院", "市民驿站"], "设施类型": ["体育设施", "Health", "community_centre"],
                       "lng": [121.5192, 121.5276, 121.51], "lat": [31.3055, 31.3101, 31.33]})
    path.write_bytes(df.to_csv(index=False).encode("gbk"))
    gdf = F.read_facility_table(path)
    assert gdf["category"].tolist() == ["sports", "health", "community_service"]
    assert gdf["name"].tolist() == ["江湾体育场", "长海医院", "市民驿站"]


def test_xlsx_import_and_missing_coordinates(tmp_path):
    ok = tmp_path / "list.xlsx"
    pd.DataFrame({"name": ["a"], "category": ["park"], "longitude": [121.5], "latitude": [31.3]}).to_excel(ok, index=False)
    gdf = F.read_facility_table(ok)
    assert gdf.geometry.iloc[0].equals(Point(121.5, 31.3))
    bad = tmp_path / "nocoords.xlsx"
    pd.DataFrame({"name": ["a"], "category": ["park"], "address": ["x路1号"]}).to_excel(bad, index=False)
    with pytest.raises(InputError) as e:
        F.read_facility_table(bad)
    assert "nocoords.xlsx" in e.value.message("en") and "address" in e.value.message("en")


def test_bad_tables(tmp_path):
    out = tmp_path / "outside.csv"
    pd.DataFrame({"name": ["a", "b"], "category": ["park", "park"], "lon": [121.5, 31.3], "lat": [31.3, 121.5]}).to_csv(out, index=False)
    with pytest.raises(InputError, match="outside China.*swapped"):
        F.read_facility_table(out)
    unk = tmp_path / "unknown.csv"
    pd.DataFrame({"name": ["a", "b"], "category": ["park", "karaoke"], "lon": [121.5] * 2, "lat": [31.3] * 2}).to_csv(unk, index=False)
    with pytest.raises(InputError, match="karaoke"):
        F.read_facility_table(unk)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"\x00\x01not a zip")
    with pytest.raises(InputError, match="junk.xlsx"):
        F.read_facility_table(junk)
    with pytest.raises(InputError, match="not found"):
        F.read_facility_table(tmp_path / "missing.csv")


def test_geocode_output_is_accepted(tmp_path):
    path = tmp_path / "geocoded.csv"
    pd.DataFrame({
        "name": ["新江湾城文化中心", "殷行养老院", "不存在的中心"], "category": ["culture", "elderly_care", "culture"],
        "status": ["existing", "planned", "planned"], "source": ["text", "text", "text"],
        "match_status": ["matched", "manual", "unmatched"],
        "lon": [121.505, 121.52, None], "lat": [31.335, 31.32, None],
    }).to_csv(path, index=False, encoding="utf-8-sig")
    gdf = F.read_facility_table(path)
    assert len(gdf) == 2 and gdf["status"].tolist() == ["existing", "planned"]
    assert gdf["source"].tolist() == ["text", "manual"]  # provenance from match_status, not "official"
    assert gdf.attrs["warnings"] and "skipped 1 rows" in gdf.attrs["warnings"][0].text("en")
    assert len(F.filter_scenario(gdf, include_planned=False)) == 1
    # GeoJSON written from it reads back the same way (geometry column, no lon/lat needed)
    gj = tmp_path / "geocoded.geojson"
    gdf[["name", "category", "status", "geometry"]].to_file(gj)
    back = F.read_facilities(gj)
    assert back["name"].tolist() == gdf["name"].tolist()


def test_read_facilities_dispatch(geofabrik):
    gdf = F.read_facilities(geofabrik / "gis_osm_pois_free_1.shp", mask=XJW_BOX)
    assert len(gdf) and gdf.geom_type.eq("Point").all()


def test_category_lookup_is_derived_and_unambiguous():
    lk = F.category_lookup()
    assert lk["healthcare"] == "health" and lk["hospital"] == "health"
    assert lk["养老服务"] == "elderly_care" and lk["parks_and_green_space"] == "park"
    assert "social_facility" not in lk  # tag value of two categories


# ----------------------------------------------------------------- merging
def _fac(rows):
    return F.normalize_facilities(gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4326))


def test_dedupe_rules():
    base = (121.5, 31.33)
    dlat = 1 / 111_320  # one metre north, in degrees
    poly = shapely.Point(base).buffer(0.0008)
    g = _fac([
        # 1. an OSM park polygon and the official point inside it, similar names
        dict(facility_id="osm:area/1", name="新江湾城公园", category="park", source="osm", geometry=poly),
        dict(facility_id="official:P1", name="新江湾城公园（东门）", category="park", source="official", geometry=Point(base)),
        # 2. same name, same place, but another category: kept apart
        dict(facility_id="official:P2", name="新江湾城公园", category="sports", source="official", geometry=Point(base)),
        # 3. same name 20 m apart (merged) and 300 m apart (kept)
        dict(facility_id="osm:node/5", name="殷行社区卫生服务中心", category="health", source="osm",
             geometry=Point(base[0] + 0.01, base[1])),
        dict(facility_id="text:0:1", name="殷行社区卫生服务中心", category="health", source="text", status="planned",
             geometry=Point(base[0] + 0.01, base[1] + 20 * dlat)),
        dict(facility_id="manual:9", name="殷行社区卫生服务中心", category="health", source="manual",
             geometry=Point(base[0] + 0.01, base[1] + 300 * dlat)),
        # 4. two unnamed pitches 10 m apart are two pitches
        dict(facility_id="osm:node/7", name="", category="sports", source="osm", geometry=Point(base[0] - 0.01, base[1])),
        dict(facility_id="osm:node/8", name="", category="sports", source="osm",
             geometry=Point(base[0] - 0.01, base[1] + 10 * dlat)),
        # 5. one OSM object seen in two extracts
        dict(facility_id="osm:area/42", name="", category="park", source="osm",
             geometry=shapely.box(121.45, 31.30, 121.451, 31.301)),
        dict(facility_id="osm:way/42", name="绿地", category="park", source="osm",
             geometry=shapely.box(121.45, 31.30, 121.451, 31.3009)),
    ])
    d = F.dedupe(g, radius_m=50)
    assert len(d) == 7
    park = d[d["facility_id"] == "osm:area/1"].iloc[0]
    assert park.geometry.geom_type == "Polygon" and park["sources"] == "osm;official"
    assert "official:P1" in park["source_detail"]
    assert (d["category"] == "sports").sum() == 3
    health = d[d["category"] == "health"]
    assert len(health) == 2
    merged = health[health["facility_id"] == "osm:node/5"].iloc[0]
    assert merged["status"] == "existing" and merged["sources"] == "osm;text"
    p42 = d[d["facility_id"].str.endswith("/42")]
    assert len(p42) == 1 and p42["name"].iloc[0] == "绿地"  # name filled from the merged member
    # combine keeps warnings of its inputs
    g.attrs["warnings"] = ["w1"]
    assert F.combine(g, F.empty_facilities()).attrs["warnings"] == ["w1"]


def test_dedupe_unites_parts_of_one_park():
    a = shapely.box(121.50, 31.33, 121.501, 31.331)
    b = shapely.box(121.501, 31.33, 121.502, 31.331)
    d = F.dedupe(_fac([dict(facility_id="osm:area/1", name="滑板公园", category="park", source="osm", geometry=a),
                       dict(facility_id="osm:area/2", name="滑板公园", category="park", source="osm", geometry=b)]))
    assert len(d) == 1
    assert d.to_crs(32651).area.iloc[0] == pytest.approx(gpd.GeoSeries([a, b], crs=4326).to_crs(32651).area.sum(), rel=1e-6)


# ----------------------------------------------------------------- boundaries
def test_read_boundaries_real(shared_data):
    b = read_boundaries(shared_data / "boundaries" / "yangpu_subdistricts_osm.geojson")
    assert list(b.columns) == ["subdistrict", "district", "geometry"]
    assert set(b["subdistrict"]) == {"新江湾城街道", "五角场街道", "控江路街道", "四平路街道", "平凉路街道"}
    assert (b["district"] == "杨浦区").all() and b.crs.to_epsg() == 4326
    km2 = b.to_crs(32651).set_index("subdistrict").area / 1e6
    assert km2["新江湾城街道"] == pytest.approx(8.76, rel=0.03)  # area_km2 in the file


def test_read_boundaries_detects_or_rejects_name(tmp_path):
    g = gpd.GeoDataFrame({"NAME": ["甲街道"], "code": [1]}, geometry=[shapely.box(121, 31, 121.1, 31.1)], crs=4326)
    g.to_file(tmp_path / "a.gpkg")
    assert read_boundaries(tmp_path / "a.gpkg")["subdistrict"].tolist() == ["甲街道"]
    g2 = g.rename(columns={"NAME": "label"})
    g2.to_file(tmp_path / "b.gpkg")
    with pytest.raises(InputError, match=r"b\.gpkg.*label"):
        read_boundaries(tmp_path / "b.gpkg")
    assert read_boundaries(tmp_path / "b.gpkg", name_col="label")["subdistrict"].tolist() == ["甲街道"]


def test_from_osm_features_ignores_empty_tags():
    # geo.osm.read_osm_features style: osm_id 'type/id', absent tags as ''
    g = gpd.GeoDataFrame({"osm_id": ["node/1", "way/2", "node/3"], "name": ["社区诊所", "", "便利店"],
                          "name:zh": ["", "小公园", ""], "amenity": ["clinic", "", ""], "leisure": ["", "park", ""],
                          "healthcare": ["", "", ""], "shop": ["", "", "bakery"]},
                         geometry=[Point(121.5, 31.3), shapely.box(121.5, 31.3, 121.501, 31.301), Point(121.5, 31.3)],
                         crs=4326)
    f = F.from_osm_features(g)
    assert f["facility_id"].tolist() == ["osm:node/1", "osm:way/2"]
    assert f["category"].tolist() == ["health", "park"] and f["name"].tolist() == ["社区诊所", "小公园"]


def test_osm_file_facilities():
    """NETWORK's fixture holds a library node, a park way and a park multipolygon relation."""
    from pathlib import Path

    f = F.read_facilities(Path(__file__).parent / "fixtures" / "net_small.osm")
    _schema_ok(f)
    got = dict(zip(f["facility_id"], f["category"]))
    assert got == {"osm:node/20": "culture", "osm:way/110": "park", "osm:relation/201": "park"}
    assert f.set_index("facility_id").geometry["osm:relation/201"].geom_type in ("Polygon", "MultiPolygon")


def test_status_column_found_by_its_chinese_name(tmp_path):
    path = tmp_path / "名录.csv"
    path.write_text("名称,类别,状态,经度,纬度\n甲食堂,社区食堂,规划,121.50,31.33\n乙食堂,canteen,现状,121.51,31.33\n",
                    encoding="utf-8")
    gdf = F.read_facility_table(path)
    assert gdf["status"].tolist() == ["planned", "existing"]
    assert len(F.filter_scenario(gdf, include_planned=False)) == 1
    path.write_text("名称,类别,状态,经度,纬度\n丙食堂,canteen,也许,121.50,31.33\n", encoding="utf-8")
    with pytest.raises(InputError, match="状态"):
        F.read_facility_table(path)


def test_under_construction_status_and_the_two_scenarios(tmp_path):
    """在建/已开工 read as ``building``; before the plan keeps existing and upgrading sites,
    after the plan adds building and planned ones."""
    path = tmp_path / "名录.csv"
    rows = [("甲", "现状"), ("乙", "在建"), ("丙", "已开工"), ("丁", "改造提升"), ("戊", "规划"), ("己", "under construction")]
    path.write_text("名称,类别,状态,经度,纬度\n" + "".join(f"{n}食堂,canteen,{st},121.5{i},31.33\n"
                                                for i, (n, st) in enumerate(rows)), encoding="utf-8")
    gdf = F.read_facility_table(path)
    assert gdf["status"].tolist() == ["existing", "building", "building", "upgrading", "planned", "building"]
    assert F.filter_scenario(gdf, include_planned=False)["name"].tolist() == ["甲食堂", "丁食堂"]
    assert len(F.filter_scenario(gdf, include_planned=True)) == 6
