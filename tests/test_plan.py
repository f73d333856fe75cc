"""`lifecircle plan`: siting requests from the texts, proposals kept in the workspace, before/after per 街道."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import plan as pl
from geo.cli import main
from geo.study import FacilityLayer, Study, run_study
from geo.workspace import previous_version

AREA_SUB = "新江湾城街道"


@pytest.fixture(scope="module")
def area(shared_data, tmp_path_factory) -> Path:
    from geo.areas import prepare_offline

    root = tmp_path_factory.mktemp("plan-data")
    prepare_offline("xinjiangwan", shared_data, data_dir=root)
    return root / "areas" / "xinjiangwan"


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)


MENTIONS = pd.DataFrame([
    # a counted mention whose 街道 lies in the area
    {"name": "", "category": "canteen", "status": "planned", "count": 3, "district": "杨浦区", "subdistrict": AREA_SUB,
     "source": "t.txt", "sentence": "新江湾城街道新增3个助餐点。", "mention_type": "counted"},
    # a district-wide count (no 街道)
    {"name": "", "category": "elderly_care", "status": "building", "count": 2, "district": "杨浦区", "subdistrict": "",
     "source": "t.txt", "sentence": "全区新建2家综合为老服务中心。", "mention_type": "counted"},
    # a 街道 outside the area
    {"name": "", "category": "canteen", "status": "planned", "count": 5, "district": "杨浦区", "subdistrict": "殷行街道",
     "source": "t.txt", "sentence": "殷行街道新增5个助餐点。", "mention_type": "counted"},
    # a named planned facility that will not geocode
    {"name": "新江湾城街道第二社区服务中心", "category": "community_service", "status": "planned", "count": 1,
     "district": "杨浦区", "subdistrict": AREA_SUB, "source": "t.txt", "sentence": "规划新建新江湾城街道第二社区服务中心。",
     "mention_type": "named"},
    # not a request: existing counts, an upgrade
    {"name": "", "category": "sports", "status": "existing", "count": 17, "district": "杨浦区", "subdistrict": AREA_SUB,
     "source": "t.txt", "sentence": "现有17处健身点。", "mention_type": "counted"},
    {"name": "", "category": "park", "status": "upgrading", "count": 2, "district": "杨浦区", "subdistrict": AREA_SUB,
     "source": "t.txt", "sentence": "改造2处口袋公园。", "mention_type": "counted"},
])


@pytest.fixture(scope="module")
def planned(area, tmp_path_factory):
    """`lifecircle plan` on a mention table with the three request cases and a named planned facility."""
    root = tmp_path_factory.mktemp("plan-run")
    src = root / "facilities.csv"
    MENTIONS.to_csv(src, index=False, encoding="utf-8-sig")
    out = root / "plan"
    assert main(["--lang", "en", "plan", str(src), "--area", str(area), "--no-lscp", "--report", "xlsx",
                 "--report", "pdf", "-o", str(out)]) == 0
    return out


def test_requests_three_cases_and_named(planned):
    req = read(planned / "requests.csv")
    # exactly the planned/building counted mentions and the unlocated named one (not the existing or upgrading counts)
    assert sorted(zip(req["request"], req["category"], req["count"])) == sorted(
        [("counted", "canteen", 3), ("counted", "elderly_care", 2), ("counted", "canteen", 5),
         ("named", "community_service", 1)])
    by = {(r.category, r["count"]): r for _, r in req.iterrows()}
    inside, district, outside = by[("canteen", 3)], by[("elderly_care", 2)], by[("canteen", 5)]
    named = req[req["request"] == "named"].iloc[0]
    assert (inside.scope, inside.scope_subdistrict, inside.outcome, inside.proposed) == ("subdistrict", AREA_SUB, "sited", 3)
    assert (district.scope, district.outcome, district.proposed) == ("area", "sited", 2)
    assert "district-wide" in district.note and "whole study area" in district.note
    assert (outside.scope, outside.outcome, outside.proposed) == ("outside", "outside", 0)
    assert "殷行街道" in outside.note and "prepare that area to site it" in outside.note
    assert (named.scope_subdistrict, named.outcome, named.proposed) == (AREA_SUB, "sited", 1)

    sites = read(planned / "sites.csv")
    assert len(sites) == 3 + 2 + 1
    assert (sites["source"] == "siting").all() and (sites["status"] == "planned").all()
    assert (sites["name"] == "").all()  # a proposal is never a named (matched) facility
    assert sites["proposal_id"].is_unique and sites["facility_id"].str.startswith("siting:").all()
    can = sites[sites["mention_key"] == inside.mention_key]
    assert can["rank"].tolist() == [1, 2, 3] and (can["subdistrict"] == AREA_SUB).all()
    assert (sites.loc[sites["mention_key"] == named.mention_key, "mention_name"] == named["name"]).all()
    assert (sites.loc[sites["mention_key"] == district.mention_key, "scope"].str.contains("district-wide")).all()
    assert sites["sentence"].str.len().gt(0).all()


def test_plan_after_equals_coverage_with_the_sites(planned, area, tmp_path):
    """plan.csv's after scenario is what `lifecircle coverage` gives with the proposals added as facilities."""
    table = pd.read_csv(planned / "plan.csv", encoding="utf-8-sig")
    before, after = tmp_path / "before", tmp_path / "after"
    assert main(["coverage", "--area", str(area), "--no-planned", "-o", str(before)]) == 0
    assert main(["coverage", "--area", str(area), "--facilities", str(planned / "sites.gpkg"), "-o", str(after)]) == 0
    for out, col in ((before, "buildings_covered_before"), (after, "buildings_covered_after")):
        sub = read(out / "subdistricts.csv").set_index(["subdistrict", "category"])["buildings_covered"]
        got = table.set_index(["subdistrict", "category"])[col]
        assert got.to_dict() == sub.reindex(got.index).to_dict()
    t = table.set_index(["subdistrict", "category"])
    assert np.allclose(t["gain"], t["share_after"] - t["share_before"], equal_nan=True)
    # facilities added per 街道 × category: the proposals there (no planned facility geocoded)
    sites = read(planned / "sites.csv")
    added = sites.groupby(["subdistrict", "category"]).size()
    assert t["proposals_added"][t["proposals_added"] > 0].to_dict() == added.to_dict()
    assert t.loc[(AREA_SUB, "canteen"), "buildings_gained"] > 0
    assert t.loc[(AREA_SUB, "sports"), "gain"] == 0  # nothing planned for sports


def test_proposal_states_layer(planned, area, tmp_path):
    """Accept, move and drop are saved atomically (previous version kept) and re-applied; only accepted and moved count."""
    sites = read(planned / "sites.csv")
    props = tmp_path / "ws" / "proposals.csv"
    states = tmp_path / "ws" / "proposal_states.csv"
    g = pl.read_proposals(planned / "sites.csv")
    pl.write_proposals(g, props)
    ids = sites["proposal_id"].tolist()
    pl.save_proposal_state(states, ids[0], "accepted")
    assert not previous_version(states).exists()
    pl.save_proposal_state(states, ids[1], "moved", lon=121.505, lat=31.335)
    assert len(pl.read_proposal_states(previous_version(states))) == 1
    pl.save_proposal_state(states, ids[2], "dropped")
    layer = pl.read_siting_layer(props, states)
    assert sorted(layer["facility_id"]) == sorted(["siting:" + ids[0], "siting:" + ids[1]])
    moved = layer[layer["facility_id"] == "siting:" + ids[1]].geometry.iloc[0]
    assert (round(moved.x, 6), round(moved.y, 6)) == (121.505, 31.335)
    assert set(layer["source"]) == {"siting"} and set(layer["status"]) == {"planned"}
    # re-deciding replaces the earlier decision
    pl.save_proposal_state(states, ids[0], "dropped")
    assert sorted(pl.read_siting_layer(props, states)["facility_id"]) == ["siting:" + ids[1]]
    with pytest.raises(pl.InputError):
        pl.save_proposal_state(states, ids[0], "moved")  # a move needs coordinates
    with pytest.raises(pl.InputError):
        pl.save_proposal_state(states, ids[0], "maybe")

    # as a study layer: the after scenario counts the kept proposals, the before scenario never does
    pl.save_proposal_state(states, ids[0], "accepted")
    study = Study(area=str(area), layers=(FacilityLayer.of_file("siting", props, corrections=str(states)),))
    base = run_study(Study(area=str(area)))
    after = run_study(study)
    before = run_study(study.replace(include_planned=False))
    kept = pl.read_siting_layer(props, states)
    assert set(after.facilities["facility_id"]) >= set(kept["facility_id"])
    assert not before.facilities["source"].eq("siting").any()
    key = ["subdistrict", "category"]
    c0 = base.coverage.subdistricts.set_index(key)["buildings_covered"]
    c1 = after.coverage.subdistricts.set_index(key)["buildings_covered"]
    cats = set(kept["category"])
    assert (c1 >= c0).all() and any(c1[(AREA_SUB, c)] > c0[(AREA_SUB, c)] for c in cats)
    assert (c1[~c1.index.get_level_values(1).isin(cats)] == c0[~c0.index.get_level_values(1).isin(cats)]).all()


def test_seeds_every_counted_planned_mention(area, seeds_dir, tmp_path):
    """The acceptance run: every counted planned mention of the seeds is handled (here both lie outside the area)."""
    from geo.texts import extract_files

    seeds = sorted(str(p) for p in seeds_dir.glob("*.txt"))
    mentions = extract_files(seeds)
    counted = mentions[(mentions["mention_type"] == "counted") & mentions["status"].isin(pl.PLAN_STATUSES)]
    assert len(counted) >= 2
    out = tmp_path / "plan"
    assert main(["plan", *seeds, "--area", str(area), "-o", str(out)]) == 0
    req = read(out / "requests.csv")
    got = req[req["request"] == "counted"]
    assert sorted(zip(got["category"], got["count"], got["subdistrict"])) == sorted(
        zip(counted["category"], counted["count"].astype(int), counted["subdistrict"].fillna("")))
    assert (got["outcome"] != "").all()
    ours = {"五角场街道", AREA_SUB}
    for _, r in req.iterrows():
        if r["subdistrict"] and r["subdistrict"] not in ours:
            assert r["outcome"] == "outside" and "请先准备该街道的研究区" in r["note"]
        elif r["district"] == "杨浦区":
            assert r["outcome"] in ("sited", "covered", "none") and r["scope"] in ("area", "subdistrict")
    # the set-covering reference is given for every 街道 with buildings (its minimality: test_lscp_reference_is_minimal)
    table = read(out / "plan.csv")
    assert table.loc[table["buildings"] > 0, "lscp_sites"].astype(float).ge(0).all()
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    assert params["requests"] == len(req) and params["proposals"] == len(read(out / "sites.csv"))


def test_lscp_reference_is_minimal(area):
    """LSCP per 街道: that many sites cover every coverable uncovered building; the MCLP with one fewer cannot."""
    from geo.areas import load_area
    from geo.coverage import compute_distances
    from geo.siting import site

    a = load_area(area, context=False)
    cat = "sports"
    f = a.facilities[a.facilities["category"] == cat]
    dist = compute_distances(a.network, f, a.buildings, categories=(cat,))
    one = a.boundaries[a.boundaries["subdistrict"] == AREA_SUB]
    ref = pl.lscp_reference(dist, one, {cat: 1000.0}, (cat,))
    k = int(ref["lscp_sites"].iloc[0])
    assert k > 0
    full = site(dist, cat, k, boundaries=one, threshold_m=1000.0)
    coverable = full.params["buildings_coverable"]
    assert full.params["objective"] == coverable
    fewer = site(dist, cat, k - 1, boundaries=one, threshold_m=1000.0, solver="milp")
    assert fewer.params["status"] == "optimal" and fewer.params["objective"] < coverable


def test_plan_bad_inputs_exit_2(area, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["plan", str(tmp_path / "missing.txt"), "--area", str(area), "-o", str(out)]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["plan", str(bad), "--area", str(area), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err
    assert not out.exists()


def test_plan_one_unreadable_text_does_not_sink_the_others(gazetteer, area, tmp_path, capsys):
    """Several texts, one binary: the good one is planned exactly as alone, the bad one is one line, exit code 2."""
    good = tmp_path / "good.txt"
    good.write_text("新江湾城街道新增3个助餐点。", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary" * 50)
    alone, mixed = tmp_path / "alone", tmp_path / "mixed"
    assert main(["--lang", "en", "plan", str(good), "--area", str(area), "--no-lscp", "-o", str(alone)]) == 0
    capsys.readouterr()
    assert main(["--lang", "en", "plan", str(bad), str(good), "--area", str(area), "--no-lscp", "-o", str(mixed)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert not any("Traceback" in e for e in err)
    (line,) = [e for e in err if "bad.txt" in e]
    assert line.startswith(f"lifecircle plan: error: {bad}: ") and "binary" in line
    assert err[-1] == "1 text(s) could not be read (see the errors above); the plan holds the others"
    for name in ("plan.csv", "requests.csv", "sites.csv"):  # the good text's plan, whole
        pd.testing.assert_frame_equal(read(mixed / name), read(alone / name))
    assert len(read(mixed / "sites.csv")) == 3
    params = json.loads((mixed / "params.json").read_text(encoding="utf-8"))
    assert params["texts"] == [str(good.resolve())]
    (unread,) = params["texts_unread"]
    assert unread["path"] == str(bad) and "binary" in unread["en"] and "二进制" in unread["zh"]


def test_plan_exports(planned, area, tmp_path):
    """XLSX sheets 规划前后对比 / 建议选址 (English names with --lang en), the PDF plan section, the GeoPackage sites layer."""
    import subprocess

    import geopandas as gpd
    import openpyxl
    import pyogrio

    from geo.report import PlanOutputs, load_outdir, to_geopackage, to_xlsx

    table = pd.read_csv(planned / "plan.csv", encoding="utf-8-sig")
    sites = gpd.read_file(planned / "sites.gpkg")
    wb = openpyxl.load_workbook(planned / "plan.xlsx", read_only=True)
    assert {"Before and after the plan", "Proposed sites"} <= set(wb.sheetnames)
    rows = list(wb["Proposed sites"].iter_rows(values_only=True))
    assert len(rows) == len(sites) + 1 and "Decision" in rows[0]
    text = subprocess.run(["pdftotext", str(planned / "plan.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "5 The plan: before and after, proposed sites" in text and "6 Parameters and sources" in text
    assert "新江湾城街道第二社区服务中心" in text  # the named proposal is listed

    # the same writers in Chinese, from a coverage folder with the plan attached (the app's path)
    cov = tmp_path / "cov"
    assert main(["coverage", "--area", str(area), "-o", str(cov)]) == 0
    out = load_outdir(cov)
    out.plan = PlanOutputs(table, sites)
    to_xlsx(out, tmp_path / "r.xlsx", "zh", streets=False)
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert {"规划前后对比", "建议选址"} <= set(wb.sheetnames)
    head, *body = list(wb["规划前后对比"].iter_rows(values_only=True))
    assert head[:2] == ("街道", "设施类别") and len(body) == len(table)
    got = {(r[0], r[1]): r[head.index("规划后覆盖建筑数")] for r in body}
    want = {(s, c): v for s, c, v in zip(table["subdistrict"], table["category"], table["buildings_covered_after"])}
    from geo.categories import label

    assert got == {(s, label(c, "zh")): v for (s, c), v in want.items()}
    # the rule of the after columns, named in the report's language (plan.csv has the files' value)
    assert set(table["after_counts"]) == {"proposed+accepted+moved"}
    assert {r[head.index("规划后计入的选址建议")] for r in body} == {"建议+已采纳+已移动"}
    to_geopackage(out, tmp_path / "r.gpkg")
    layers = dict(pyogrio.list_layers(tmp_path / "r.gpkg"))
    assert layers.get("sites") == "Point"
    assert len(gpd.read_file(tmp_path / "r.gpkg", layer="sites")) == len(sites)


def test_app_plan_exports(planned, area, workspace, monkeypatch, tmp_path):
    """The app's export path (geo.ui.plan_outputs): accepted proposals count, the XLSX has the plan's sheets."""
    import openpyxl

    from geo import ui
    from geo.report import to_xlsx

    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(area.parent.parent))
    ws = ui.workspace("xinjiangwan")
    assert ws.root == workspace / "xinjiangwan"  # this test's own: the accepted state below joins no other test
    pl.write_proposals(pl.read_proposals(planned / "sites.csv"), ws.proposals)
    props = ui.proposals("xinjiangwan")
    first = props.iloc[0]
    ui.decide("xinjiangwan", first["proposal_id"], "accepted")
    layers: dict = {}
    ui.sync_siting_layer(layers, "xinjiangwan")
    study = Study(area=str(area), layers=tuple(layers.values()))
    out = ui.plan_outputs(study, "xinjiangwan")
    t = out.table.set_index(["subdistrict", "category"])
    row = t.loc[(first["subdistrict"], first["category"])]
    assert row["proposals_added"] == 1 and row["buildings_gained"] == first["buildings_newly_covered"]
    assert (t.drop(index=(first["subdistrict"], first["category"]))["buildings_gained"] == 0).all()
    result = ui.run(study)
    outputs = result.outputs()
    outputs.plan = out
    to_xlsx(outputs, tmp_path / "app.xlsx", "zh", streets=False)
    names = openpyxl.load_workbook(tmp_path / "app.xlsx", read_only=True).sheetnames
    assert "规划前后对比" in names and "建议选址" in names


def test_cli_after_accepted_equals_the_app(planned, area, workspace, monkeypatch, tmp_path, capsys):
    """`lifecircle plan --after accepted` with one accepted proposal gives the app's 规划后 shares; the default counts
    every proposal not dropped; plan.csv and params.json say which rule they used."""
    from geo import ui
    from geo.categories import CATEGORY_KEYS

    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(area.parent.parent))
    ws = ui.workspace("xinjiangwan")
    pl.write_proposals(pl.read_proposals(planned / "sites.csv"), ws.proposals)
    props = ui.proposals("xinjiangwan")
    first = props.iloc[0]
    ui.decide("xinjiangwan", first["proposal_id"], "accepted")
    src = planned.parent / "facilities.csv"
    runs = {}
    for rule in ("accepted", "all"):
        out = tmp_path / rule
        assert main(["--lang", "en", "plan", str(src), "--area", str(area), "--no-lscp", "--after", rule,
                     "-o", str(out)]) == 0
        runs[rule] = pd.read_csv(out / "plan.csv", encoding="utf-8-sig").set_index(["subdistrict", "category"])
        params = json.loads((out / "params.json").read_text(encoding="utf-8"))
        states = pl.AFTER_RULES[rule]
        assert params["after_counts"] == {"rule": rule, "states": list(states), "text": "+".join(states)}
        assert set(runs[rule]["after_counts"]) == {"+".join(states)}
        assert f"after the plan counts the proposals: {'+'.join(states)}" in capsys.readouterr().out
    acc, every = runs["accepted"], runs["all"]
    # the app's computation: the study with the workspace's siting layer, before and after
    layers: dict = {}
    ui.sync_siting_layer(layers, "xinjiangwan")
    study = Study(area=str(area), layers=tuple(layers.values()))
    before, after = ui.run(study.replace(include_planned=False)), ui.run(study.replace(include_planned=True))
    compared = 0
    for cat in CATEGORY_KEYS:
        for r in ui.plan_shares(before, after, cat).to_dict("records"):
            row = acc.loc[(r["subdistrict"], cat)]
            assert row["share_before"] == pytest.approx(r["share_before"])
            assert row["share_after"] == pytest.approx(r["share_after"])
            compared += 1
    assert compared >= len(CATEGORY_KEYS)
    key = (first["subdistrict"], first["category"])
    assert acc.loc[key, "proposals_added"] == 1 and acc.loc[key, "buildings_gained"] > 0
    # the default also counts the undecided proposals: more of them, and at least the same coverage everywhere
    assert every["proposals_added"].sum() == len(props) > acc["proposals_added"].sum() == 1
    assert (every["buildings_covered_after"] >= acc["buildings_covered_after"]).all()
    assert (every["buildings_covered_after"] > acc["buildings_covered_after"]).any()
    assert ui.after_rule_label("zh") == "已采纳+已移动" and ui.after_rule_label("en") == "accepted+moved"


def test_fully_covered_request_gets_a_note():
    """A counted request whose category already reaches every home: no proposal, outcome 'covered' and the note."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import LineString

    from geo.network import WalkNetwork
    from geo.study import StudyInputs

    crs, x0, y0 = "EPSG:32651", 355_000.0, 3_465_000.0
    xy = np.array([[x0 + x, y0] for x in (0, 100, 200, 300)], float)
    geoms = [LineString([xy[i], xy[i + 1]]) for i in range(3)]
    net = WalkNetwork(xy, gpd.GeoDataFrame({"u": [0, 1, 2], "v": [1, 2, 3], "length_m": [100.0] * 3},
                                           geometry=geoms, crs=crs), crs)
    homes = gpd.GeoDataFrame({"building_id": ["a", "b"]}, geometry=shapely.points([[x0 + 50, y0 + 5],
                                                                                  [x0 + 250, y0 + 5]]), crs=crs)
    clinic = gpd.GeoDataFrame({"facility_id": ["c"], "name": ["卫生站"], "category": ["health"], "status": ["existing"],
                               "source": ["official"], "source_detail": [""]},
                              geometry=shapely.points([[x0 + 150, y0]]), crs=crs).to_crs(4326)
    geocoded = pd.DataFrame([{"name": "", "category": "health", "status": "planned", "count": 2, "district": "",
                              "subdistrict": "", "source": "t.txt", "sentence": "新建2家社区卫生服务站。",
                              "mention_type": "counted", "mention_key": "t.txt|#x|health",
                              "match_status": "not_applicable", "lon": np.nan, "lat": np.nan}])
    inputs = StudyInputs(network=net, boundaries=None, buildings=homes, facilities=clinic, layer_counts=[],
                         warnings=[])
    res = pl.run_plan(inputs, Study(network="toy", lang="en"), geocoded, with_lscp=False)
    r = res.requests.iloc[0]
    assert (r["scope"], r["outcome"], r["proposed"]) == ("area", "covered", 0)
    assert "no new site is needed" in r["note"] and not len(res.proposals)
    assert res.table["buildings_covered_before"].tolist() == res.table["buildings_covered_after"].tolist()
