"""Coverage tables count residents when demand is weighted (issue 8 item 3), through the Study.

A toy: one straight road y = 0 from x = -100 to 900 m, a park at x = 0, the park threshold 300 m, and four
10 x 10 m footprints 20 m north of the road centred at x = 100, 200, 500 and 800. Subdistrict 甲 spans
x < 600 (the first three), 乙 the rest. Only the buildings at 100 and 200 are within 300 m of the park
(about 100 and 200 m along the road plus the short leg to the footprint; the next is 500 m away).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal
from shapely.geometry import LineString

from geo.cli import main
from geo.coverage import summarize
from geo.errors import InputError
from geo.i18n import COLUMNS
from geo.study import FacilityLayer, Study, StudyCache, Threshold, run_study

CRS = "EPSG:32651"
X0, Y0 = 355_000.0, 3_465_000.0
XS = (100, 200, 500, 800)
BASE_COLUMNS = ["subdistrict", "category", "threshold_m", "threshold_min", "facilities", "buildings",
                "buildings_covered", "buildings_unreachable", "share_buildings_covered", "street_km",
                "street_km_covered", "share_street_covered", "network_share_in_area"]


def toy_inputs(folder: Path, **cols) -> list[str]:
    """The toy as files; ``cols`` are the footprints' attribute columns (one value per building)."""
    folder.mkdir(parents=True, exist_ok=True)
    gpd.GeoDataFrame({"osm_way_id": [1]}, geometry=[LineString([(X0 - 100, Y0), (X0 + 900, Y0)])],
                     crs=CRS).to_file(folder / "roads.gpkg")
    park = gpd.GeoSeries([shapely.Point(X0, Y0 + 5)], crs=CRS).to_crs(4326)
    pd.DataFrame({"facility_id": ["t:1"], "name": ["西公园"], "category": ["park"],
                  "lon": park.x, "lat": park.y}).to_csv(folder / "facilities.csv", index=False)
    homes = [shapely.box(X0 + x - 5, Y0 + 15, X0 + x + 5, Y0 + 25) for x in XS]
    gpd.GeoDataFrame({"osm_way_id": list(range(11, 15)), **cols}, geometry=homes, crs=CRS).to_crs(4326).to_file(
        folder / "homes.gpkg")
    gpd.GeoDataFrame({"name": ["甲街道", "乙街道"]},
                     geometry=[shapely.box(X0 - 200, Y0 - 60, X0 + 600, Y0 + 60),
                               shapely.box(X0 + 600, Y0 - 60, X0 + 1000, Y0 + 60)],
                     crs=CRS).to_crs(4326).to_file(folder / "bnd.geojson")
    return ["--network", str(folder / "roads.gpkg"), "--facilities", str(folder / "facilities.csv"),
            "--buildings", str(folder / "homes.gpkg"), "--boundaries", str(folder / "bnd.geojson"),
            "--threshold", "park=300"]


def park_rows(outdir: Path) -> pd.DataFrame:
    s = pd.read_csv(outdir / "subdistricts.csv", encoding="utf-8-sig")
    return s[s["category"] == "park"].set_index("subdistrict")


def test_population_column_gives_residents_covered(tmp_path, capsys):
    args = toy_inputs(tmp_path / "in", 人口=[10, 20, 40, 80])
    out = tmp_path / "out"
    assert main(["coverage", *args, "-o", str(out)]) == 0
    p = park_rows(out)
    assert p.loc["甲街道", "buildings"] == 3 and p.loc["甲街道", "buildings_covered"] == 2  # the building counts stay
    assert p.loc["甲街道", "residents"] == 70 and p.loc["甲街道", "residents_covered"] == 30
    assert p.loc["甲街道", "share_residents_covered"] == pytest.approx(30 / 70)
    assert p.loc["乙街道", "residents"] == 80 and p.loc["乙街道", "residents_covered"] == 0
    assert p["weighting"].str.contains("人口").all()
    cols = list(p.reset_index().columns)
    assert cols.index("residents") == cols.index("share_buildings_covered") + 1
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    w = params["demand_weighting"]
    assert w["method"] == "population" and w["unit"] == "residents" and w["column"] == "人口" and w["total"] == 150
    assert "人口" in w["label"] and "population" in w["label_en"]
    assert "需求加权：按人口加权" in capsys.readouterr().out


def test_households_times_persons_and_study_round_trip(tmp_path):
    args = toy_inputs(tmp_path / "in", 户数=[10, 20, 40, 80])
    out, again = tmp_path / "out", tmp_path / "again"
    assert main(["coverage", *args, "--persons-per-household", "3", "-o", str(out)]) == 0
    p = park_rows(out)
    assert p.loc["甲街道", "residents"] == 210 and p.loc["甲街道", "residents_covered"] == 90  # (10 + 20) x 3
    assert p.loc["乙街道", "residents"] == 240
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    assert params["study"]["persons_per_household"] == 3.0 and params["study"]["m2_per_person"] is None
    assert params["demand_weighting"]["persons_per_household"] == 3.0
    # the study file holds the weighting: running it again gives the same table, byte for byte
    assert main(["coverage", "--study", str(out / "params.json"), "-o", str(again)]) == 0
    assert (again / "subdistricts.csv").read_bytes() == (out / "subdistricts.csv").read_bytes()
    # ... and, holding every parameter, it is not combined with the weighting flags
    assert main(["coverage", "--study", str(out / "params.json"), "--m2-per-person", "30",
                 "-o", str(tmp_path / "third")]) == 2
    assert main(["coverage", *args, "--persons-per-household", "0", "-o", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad" / "subdistricts.csv").exists()


def test_levels_only_gives_floor_area_or_residents(tmp_path):
    args = toy_inputs(tmp_path / "in", **{"building:levels": [2.0, None, 6.0, 3.0]})
    out = tmp_path / "out"
    assert main(["--lang", "en", "coverage", *args, "-o", str(out)]) == 0
    p = park_rows(out)
    # 100 m2 footprints x levels (none = one storey): 200 + 100 + 600 in 甲, 300 in 乙
    assert p.loc["甲街道", "floor_area_m2"] == pytest.approx(900, rel=1e-3)
    assert p.loc["甲街道", "floor_area_m2_covered"] == pytest.approx(300, rel=1e-3)
    assert p.loc["乙街道", "floor_area_m2"] == pytest.approx(300, rel=1e-3)
    assert "residents" not in p.columns and p["weighting"].str.contains("floor area").all()
    # with a floor area per resident the same building counts people: 900 / 25 = 36, 300 / 25 = 12
    out2 = tmp_path / "out2"
    assert main(["coverage", *args, "--m2-per-person", "25", "-o", str(out2)]) == 0
    p2 = park_rows(out2)
    assert p2.loc["甲街道", "residents"] == pytest.approx(36, rel=1e-3)
    assert p2.loc["甲街道", "residents_covered"] == pytest.approx(12, rel=1e-3)
    assert "floor_area_m2" not in p2.columns


def test_plain_counts_leave_the_table_as_it_was(tmp_path):
    """No population, household or levels column: the table is summarize's, only params say 'counted'."""
    toy_inputs(tmp_path / "in")
    f = tmp_path / "in"
    study = Study(network=str(f / "roads.gpkg"), buildings=str(f / "homes.gpkg"), boundaries=str(f / "bnd.geojson"),
                  layers=(FacilityLayer.of_file("table", f / "facilities.csv"),), thresholds={"park": Threshold(300)})
    res = run_study(study, cache=StudyCache())
    expected = summarize(res.distances, res.inputs.boundaries, thresholds=study.thresholds_m(),
                         speed_m_per_min=study.speed).subdistricts
    assert_frame_equal(res.coverage.subdistricts, expected)
    assert list(res.coverage.subdistricts.columns) == BASE_COLUMNS
    assert res.params["demand_weighting"]["method"] == "count"
    assert res.params["demand_weighting"]["label"] == "按建筑栋数计（无人口、户数或层数信息）"


def test_weighting_in_xlsx_and_parameters(tmp_path):
    from openpyxl import load_workbook

    from geo import report

    args = toy_inputs(tmp_path / "in", 人口=[10, 20, 40, 80])
    out = tmp_path / "out"
    assert main(["coverage", *args, "-o", str(out)]) == 0
    outputs = report.load_outdir(out)
    xlsx = report.to_xlsx(outputs, tmp_path / "r.xlsx", "zh")
    wb = load_workbook(xlsx, read_only=True)
    sub_rows = list(wb.worksheets[0].iter_rows(values_only=True))
    header = next(r for r in sub_rows if r and COLUMNS["residents_covered"][0] in r)
    for key in ("residents", "residents_covered", "share_residents_covered", "weighting"):
        assert COLUMNS[key][0] in header, key
    i = header.index(COLUMNS["residents_covered"][0])
    assert sorted(r[i] for r in sub_rows[sub_rows.index(header) + 1:] if r and r[i] is not None)[-1] == 30
    text = "\n".join(str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if c)
    assert "按人口加权（列“人口”）" in text
    params = report.params_table(outputs, "en")
    assert params["value"].str.contains("weighted by population").any()
    from pypdf import PdfReader

    pdf = PdfReader(report.to_pdf(outputs, tmp_path / "r.pdf", "zh"))
    text = "".join(page.extract_text() for page in pdf.pages).replace(" ", "").replace("\n", "")
    assert text.count("按人口加权") == 2  # the title page and the parameters section


def test_study_weighting_validation():
    with pytest.raises(InputError):
        Study(area="a", m2_per_person=0)
    with pytest.raises(InputError):
        Study(area="a", persons_per_household=None)
    s = Study(area="a", persons_per_household=2.5, m2_per_person=30)
    assert Study.from_dict(json.loads(s.to_json())) == s
    assert Study.from_dict({"area": "a"}).persons_per_household == 2.32  # a study saved before weighting


def test_default_area_is_counted_and_unchanged(prepared_data_dir):
    """The real default area has no population, household or levels data: summarize's table, 'counted' stated."""
    from geo import report

    study = Study(area=str(prepared_data_dir / "areas" / "xinjiangwan"))
    res = run_study(study)
    expected = summarize(res.distances, res.inputs.boundaries, thresholds=study.thresholds_m(),
                         speed_m_per_min=study.speed).subdistricts
    assert_frame_equal(res.coverage.subdistricts, expected)
    assert list(res.coverage.subdistricts.columns) == BASE_COLUMNS
    assert res.params["demand_weighting"]["method"] == "count"
    assert res.params["demand_weighting"]["total"] == len(res.coverage.buildings)
    params = report.params_table(res.outputs(), "zh")
    assert params["value"].eq("按建筑栋数计（无人口、户数或层数信息）").sum() == 1


def test_weights_computed_once_per_inputs(tmp_path, monkeypatch):
    """The app re-thresholds without re-weighting; a new persons-per-household weighs again."""
    import geo.study as gs

    calls = []
    real = gs.demand_weights
    monkeypatch.setattr(gs, "demand_weights", lambda *a, **k: calls.append(k) or real(*a, **k))
    toy_inputs(tmp_path / "in", 户数=[10, 20, 40, 80])
    f = tmp_path / "in"
    study = Study(network=str(f / "roads.gpkg"), buildings=str(f / "homes.gpkg"), boundaries=str(f / "bnd.geojson"),
                  layers=(FacilityLayer.of_file("table", f / "facilities.csv"),), thresholds={"park": Threshold(300)})
    cache = StudyCache()
    run_study(study, cache=cache)
    wider = run_study(study.replace(thresholds={"park": Threshold(600)}), cache=cache)
    assert len(calls) == 1
    park = wider.coverage.subdistricts.set_index(["subdistrict", "category"]).loc[("甲街道", "park")]
    assert park["residents_covered"] == pytest.approx((10 + 20 + 40) * 2.32)  # 600 m reaches x = 500 too
    run_study(study.replace(persons_per_household=3.0), cache=cache)
    assert len(calls) == 2 and calls[-1]["persons_per_household"] == 3.0
