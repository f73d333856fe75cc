"""geo.study: one typed value for every parameter and source, one function that runs it, reproducible outputs."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geo.categories import CATEGORIES
from geo.cli import main
from geo.errors import InputError
from geo.study import FacilityLayer, Study, StudyCache, Threshold, parse_threshold, run_study

sys.path.insert(0, str(Path(__file__).parent))


# --------------------------------------------------------------------------- the value itself
def test_threshold_units():
    assert Threshold(10, "min").metres(60.0) == 600.0 and Threshold(10, "min").metres(72.0) == 720.0
    assert Threshold(500).metres(60.0) == 500.0 and Threshold(500).minutes(50.0) == 10.0
    assert parse_threshold("elderly_care=10min") == ("elderly_care", Threshold(10.0, "min"))
    assert parse_threshold("park=300m") == ("park", Threshold(300.0, "m"))
    for bad in ((0, "m"), (-1, "min"), (float("nan"), "m"), (5, "h"), ("5", "m"), (True, "m")):
        with pytest.raises(InputError):
            Threshold(*bad)


def test_study_round_trip_and_validation(tmp_path):
    layer = FacilityLayer("table", "/x/list.csv", datum="gcj02", name="官方名录.csv", digest="abc")
    s = Study(area="/data/areas/x", layers=(layer,), thresholds={"park": Threshold(300), "canteen": Threshold(8, "min")},
              profile="elderly", speed_m_per_min=55.0, include_planned=False, lang="en", name="test")
    back = Study.from_dict(json.loads(s.to_json()))
    assert back == s and back.thresholds["canteen"] == Threshold(8.0, "min")
    assert back.thresholds_m()["canteen"] == 8 * 55.0 and back.thresholds_m()["park"] == 300.0
    assert back.thresholds_m()["health"] == CATEGORIES["health"].threshold_m  # not set: the taxonomy's distance
    assert back.scenario == "before" and back.speed == 55.0
    assert s.facility_layers()[0].kind == "area"  # with an area, its own facilities come first
    p = s.save(tmp_path / "s.json")
    assert Study.load(p) == s
    s.replace(name="second").save(p)
    assert Study.load(p).name == "second" and Study.load(tmp_path / "s.prev.json").name == "test"  # previous kept
    with pytest.raises(InputError, match="unknown fields"):
        Study.from_dict({**s.to_dict(), "colour": "red"})
    for bad in ({}, {"area": "a", "network": "n"}, {"area": "a", "profile": "runner"}, {"area": "a", "lang": "fr"},
                {"area": "a", "thresholds": {"karaoke": Threshold(3)}}, {"area": "a", "speed_m_per_min": 0}):
        with pytest.raises(InputError):
            Study(**bad)
    # a study with the same file added twice holds it once
    assert len(s.with_layer(layer).with_layer(layer).layers) == 1


# --------------------------------------------------------------------------- the real default area
@pytest.fixture(scope="module")
def area_dir(prepared_data_dir: Path) -> Path:
    return prepared_data_dir / "areas" / "xinjiangwan"


def _dump(path: Path) -> str:
    """A GeoPackage's SQL dump without its write timestamps (the only thing that differs between two runs)."""
    con = sqlite3.connect(path)
    try:
        text = "\n".join(con.iterdump())
    finally:
        con.close()
    return re.sub(r"'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z'", "'T'", text)


def test_cli_study_reproduces_outdir(area_dir, shared_data, tmp_path):
    """`coverage --study OUTDIR/params.json` writes the same files: tables and params to the byte, layers but for timestamps."""
    official = shared_data / "facilities" / "yangpu_official_facilities.csv"
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["coverage", "--area", str(area_dir), "--facilities", str(official), "--threshold", "elderly_care=10min",
                 "--threshold", "park=300", "--profile", "elderly", "--no-planned", "-o", str(first)]) == 0
    params = json.loads((first / "params.json").read_text(encoding="utf-8"))
    study = Study.from_dict(params["study"])
    assert study.thresholds == {"elderly_care": Threshold(10, "min"), "park": Threshold(300)}
    assert study.profile == "elderly" and study.include_planned is False
    assert params["thresholds"]["elderly_care"] == 600.0 and params["scenario"]["key"] == "before"
    assert [x["kind"] for x in params["facility_layers"]] == ["area", "table"]
    assert params["facility_layers"][1]["path"] == str(official.resolve())
    assert main(["coverage", "--study", str(first / "params.json"), "-o", str(second)]) == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and "params.json" in names
    for name in names:
        a, b = first / name, second / name
        if name.endswith(".gpkg"):
            assert _dump(a) == _dump(b), name
        else:
            assert a.read_bytes() == b.read_bytes(), name
    # --study holds every parameter: mixing it with other inputs is refused
    assert main(["coverage", "--study", str(first / "params.json"), "--threshold", "park=200", "-o",
                 str(tmp_path / "third")]) == 2


def test_elderly_walker_covers_less_under_a_time_standard(area_dir, tmp_path):
    """Minutes are ground covered at a speed: 10 min is 600 m for the elderly, 720 m by default; metres do not move."""
    from geo import report

    cache = StudyCache()
    timed = {"elderly_care": Threshold(10, "min"), "park": Threshold(5, "min")}
    base = Study(area=str(area_dir), thresholds=timed)
    default, elderly = run_study(base, cache=cache), run_study(base.replace(profile="elderly"), cache=cache)

    def share(run, cat):
        s = run.coverage.subdistricts.set_index(["subdistrict", "category"])
        return float(s.loc[("新江湾城街道", cat), "share_buildings_covered"])

    for cat in timed:
        assert share(elderly, cat) < share(default, cat), cat
    by_distance = base.replace(thresholds={"park": Threshold(400)})
    assert share(run_study(by_distance, cache=cache), "park") == share(
        run_study(by_distance.replace(profile="elderly"), cache=cache), "park")
    assert elderly.params["threshold_spec"]["elderly_care"]["metres"] == 600.0
    assert default.params["threshold_spec"]["elderly_care"]["metres"] == 720.0
    # the export says why: the threshold is a walking time, converted at the elderly speed
    note = [w for w in elderly.warnings if "步行时间" in w.zh and "walking-time" in w.en]
    assert note and "600 米" in note[0].zh and "600 m" in note[0].en
    table = report.params_table(elderly.outputs(), "zh")
    row = table[table["parameter"] == "养老服务"].iloc[0]
    assert "10 分钟 × 60 米/分钟 = 600 米" in row["value"] and "步行时间" in row["value"]
    assert (table["section"] == "情景").any() and (table["section"] == "设施来源").any()


def test_export_states_scenario_thresholds_and_sources(area_dir, shared_data, tmp_path):
    """XLSX and PDF made from a study name its scenario, the thresholds that were set and every source file."""
    from openpyxl import load_workbook

    from geo import report

    official = shared_data / "facilities" / "yangpu_official_facilities.csv"
    study = Study(area=str(area_dir), layers=(FacilityLayer.of_file("table", official),), include_planned=False,
                  thresholds={"health": Threshold(500), "park": Threshold(8, "min"), "culture": Threshold(700)})
    run = run_study(study)
    xlsx, pdf = tmp_path / "r.xlsx", tmp_path / "r.pdf"
    report.to_xlsx(run.outputs(), xlsx, "zh")
    report.to_pdf(run.outputs(), pdf, "zh")
    ws = load_workbook(xlsx)["参数与来源"]
    cells = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = re.sub(r"\s+", "", text)
    for doc in (re.sub(r"\s+", "", cells), text):
        assert "规划前" in doc
        assert "500米" in doc and "8分钟" in doc and "700米" in doc
        assert "yangpu_official_facilities.csv" in doc
    assert "1000 米" not in cells.split("医疗卫生")[1][:40]  # not the default 1000 m


def test_same_official_list_twice_counts_once(area_dir, shared_data, tmp_path):
    """The same official list added twice (or a copy of it) gives the same facilities as once, with a message."""
    from geo import facilities as fac

    official = shared_data / "facilities" / "yangpu_official_facilities.csv"
    copy = tmp_path / "copy.csv"  # the same list saved again from Excel: other bytes, same rows
    copy.write_bytes(official.read_text(encoding="utf-8-sig").encode("gb18030"))
    base = Study(area=str(area_dir))
    assert len(base.with_layer(FacilityLayer.of_file("table", official))
               .with_layer(FacilityLayer.of_file("table", official)).layers) == 1  # the same file: one layer
    rows = len(fac.read_facilities(official))
    once = run_study(base.with_layer(FacilityLayer.of_file("table", official)))
    twice = run_study(base.with_layer(FacilityLayer.of_file("table", official))
                      .with_layer(FacilityLayer.of_file("table", copy)))
    assert len(once.inputs.facilities) == len(twice.inputs.facilities)
    assert twice.params["facilities_merged"] - once.params["facilities_merged"] == rows  # every copied row merged
    # the area was prepared with the official rows inside it (43): adding the list merges those with them
    n_official_in_area = int((run_study(base).inputs.facilities["source"] == "official").sum())
    assert once.params["facilities_merged"] >= n_official_in_area > 0
    assert any(f"{twice.params['facilities_merged']} " in w.en for w in twice.warnings)


# --------------------------------------------------------------------------- the planner's files
def test_prepare_keeps_planner_files_and_workspace(shared_data, tmp_path):
    """`prepare` replaces only what it generates; a legacy corrections file moves to the workspace untouched."""
    from geo.areas import prepare_offline
    from geo.workspace import Workspace, read_corrections

    data = tmp_path / "data"
    area = prepare_offline("xinjiangwan", shared_data, data_dir=data)
    (area / "notes.txt").write_text("规划师的笔记", encoding="utf-8")
    (area / "corrections.csv").write_text("key,lon,lat,note\nk1,121.5,31.33,旧位置\n", encoding="utf-8-sig")
    prepare_offline("xinjiangwan", shared_data, data_dir=data)
    assert (area / "notes.txt").read_text(encoding="utf-8") == "规划师的笔记"
    assert json.loads((area / "area.json").read_text(encoding="utf-8"))["kept_files"] == ["corrections.csv", "notes.txt"]
    ws = Workspace.for_area(data, "xinjiangwan")
    assert ws.root == data / "workspaces" / "xinjiangwan"
    assert read_corrections(ws.corrections).set_index("key").loc["k1", "lon"] == pytest.approx(121.5)
    assert (area / "corrections.csv").exists()  # the old file is the planner's: copied, never deleted


def test_corrections_keep_extra_columns_and_unreadable_rows(tmp_path):
    from geo.workspace import load_corrections, previous_version, save_correction

    path = tmp_path / "corrections.csv"
    path.write_text("key,lon,lat,name,审核人,note\n"
                    "a,121.50,31.30,甲,张工,\n"
                    "b,31.30,121.50,乙,李工,经纬度填反\n"
                    "c,abc,31.3,丙,王工,\n"
                    ",,,,备注行,\n", encoding="utf-8-sig")
    table = load_corrections(path)
    assert list(table.valid["key"]) == ["a"]
    assert [r for r, _, _ in table.problems] == [3, 4, 5]
    assert any("row 3" in line and "swapped" in line for line in table.problem_lines("en"))
    save_correction(path, "a", lon=121.51, lat=31.31, note="挪到南门")
    save_correction(path, "d", lon=121.52, lat=31.32)
    raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(raw.columns[:6]) == ["key", "lon", "lat", "name", "审核人", "note"]  # the planner's column stays
    assert list(raw["key"]) == ["a", "b", "c", "", "d"]  # unreadable rows stay, in their place
    assert raw.set_index("审核人").loc["张工", "note"] == "挪到南门" and float(raw["lon"][0]) == 121.51
    assert raw["审核人"][3] == "备注行"
    prev = pd.read_csv(previous_version(path), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(prev["key"]) == ["a", "b", "c", ""]  # the version before the last save
    with pytest.raises(InputError, match="outside China"):
        save_correction(path, "e", lon=31.3, lat=121.5)


def test_corrections_survive_prepare_through_a_texts_layer(shared_data, tmp_path):
    """A correction saved to the workspace is applied by every later run, also after `prepare` ran again."""
    from geo.areas import prepare_offline
    from geo.geocode import write_geocoded
    from geo.workspace import Workspace, save_correction

    data = tmp_path / "data"
    area = prepare_offline("xinjiangwan", shared_data, data_dir=data)
    ws = Workspace.for_area(data, "xinjiangwan")
    table = pd.DataFrame([{"name": "新江湾城测试长者食堂", "category": "canteen", "status": "existing",
                           "source": "plan.txt", "sentence": "新建长者食堂", "mention_key": "plan.txt|新江湾城测试长者食堂|canteen",
                           "match_status": "unmatched", "match_score": float("nan"), "osm_id": "", "osm_type": "",
                           "osm_name": "", "lon": float("nan"), "lat": float("nan"), "candidates": "", "reason": ""}])
    geocoded = write_geocoded(table, ws.uploads / "texts.csv")
    layer = FacilityLayer.of_file("texts", geocoded, corrections=str(ws.corrections))
    study = Study(area=str(area), layers=(layer,))

    def canteen_share(s: Study) -> float:
        sub = run_study(s).coverage.subdistricts.set_index(["subdistrict", "category"])
        return float(sub.loc[("新江湾城街道", "canteen"), "share_buildings_covered"])

    assert canteen_share(study) == 0.0  # unmatched: no place, no canteen
    save_correction(ws.corrections, "plan.txt|新江湾城测试长者食堂|canteen", lon=121.5066, lat=31.3357)
    prepare_offline("xinjiangwan", shared_data, data_dir=data)  # the planner re-prepares the area
    assert canteen_share(study) > 0.0
