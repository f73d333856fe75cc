"""The planner's app through Streamlit's AppTest, and the pure map builder (geo.webmap)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import webmap
from geo.categories import label

APP = str(Path(__file__).resolve().parents[1] / "app.py")
CJK = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------- webmap (synthetic, no shared data)
def _toy():
    lines = [shapely.LineString([(121.50 + i * 0.001, 31.33), (121.50 + i * 0.001, 31.34)]) for i in range(6)]
    d = np.array([0.0, 100.0, 400.0, 600.0, 2000.0, np.nan])
    streets = gpd.GeoDataFrame({"name": ["路</script>"] * 6, "dist_m_park": d}, geometry=lines, crs=4326)
    fac = gpd.GeoDataFrame({"facility_id": ["a", "b"], "name": ["公园", "养老院"], "category": ["park", "elderly_care"],
                            "status": ["existing", "planned"], "source": ["osm", "official"], "source_detail": ["", ""]},
                           geometry=[shapely.Point(121.501, 31.335), shapely.Point(121.505, 31.336)], crs=4326)
    bnd = gpd.GeoDataFrame({"subdistrict": ["新江湾城街道"]}, geometry=[shapely.box(121.499, 31.329, 121.52, 31.341)],
                           crs=4326)
    return streets, fac, bnd


def test_distance_colors_sequential_and_unreachable_grey():
    c = webmap.distance_colors(np.array([0, 130, 260, 390, 520, 800, 1200, np.nan]), 500)
    assert len(set(c[:7])) == 7  # one colour per bin
    assert c[-1] == webmap.UNREACHABLE_COLOR
    rows = webmap.legend_rows(500, 72, "zh")
    assert "m" in rows[0][1] and "min" in rows[0][1]  # metres AND minutes
    assert rows[3][1].startswith("375–500 m") and "5.2–6.9 min" in rows[3][1]  # one decimal, as in the tables
    assert rows[0][1].startswith("0–125 m · 0–1.7 min")


@pytest.mark.parametrize("assets", ["inline", "/app/static/leaflet"])
def test_coverage_map_needs_no_cdn(assets):
    streets, fac, bnd = _toy()
    m = webmap.coverage_map(category="park", threshold_m=500, speed_m_per_min=72, streets=streets,
                            boundaries=bnd, facilities=fac, all_facilities=True, assets=assets)
    html = m.get_root().render()
    assert not re.search(r"(src|href)=\"https?://", html), "the map must not load anything from the internet"
    assert "OpenStreetMap contributors" in html
    assert "</script>\"" not in html  # a name cannot close the script early
    # one layer per kind, colours pre-computed: the street colours are in the page as one array
    colors = list(webmap.distance_colors(streets["dist_m_park"], 500))
    assert str(colors[:3]).replace("'", '"').replace(", ", ", ")[1:-1].split(", ")[0] in html
    assert html.count("L.geoJson(null") == 3  # streets, boundaries, facilities
    assert "imperial: false" in html and "L.control.scale()" not in html  # metres only, no miles
    # one shared canvas (stacked per-pane canvases would swallow each other's hover) and one tooltip per layer
    assert "map._lcCanvas = L.canvas(" in html and html.count("renderer: map._lcCanvas") == 2 * 3
    assert "onEachFeature" not in html and html.count("layer.bindTooltip(") == 3
    assert "0.0–" not in html and "6.9 min" in html  # legend minutes with one decimal (500 m at 72 m/min)


def test_base_map_is_the_same_for_every_parameter_so_the_browser_keeps_it():
    """The app's map = a base that must not change with category/threshold/speed + a swapped overlay."""
    from streamlit_folium import _get_map_string, generate_js_hash

    streets, fac, bnd = _toy()
    other = streets.assign(dist_m_park=streets["dist_m_park"] * 3, dist_m_elderly_care=50.0)

    def base_hash(s):
        m = webmap.coverage_base(streets=s, boundaries=bnd, assets="/app/static/leaflet", store=lambda t: "/g.json")
        m.render()
        return generate_js_hash(_get_map_string(m), "main_map")

    assert base_hash(streets) == base_hash(other)  # same script -> streamlit-folium keeps the map and its view
    ov = [webmap.coverage_overlay(category=c, threshold_m=th, speed_m_per_min=v, streets=s, facilities=fac)
          for c, th, v, s in (("park", 500, 72, streets), ("park", 300, 72, other), ("elderly_care", 500, 60, other))]
    live = [next(c for c in o._children.values() if isinstance(c, webmap._LiveStyle)) for o in ov]
    assert live[1].styles["color"] == list(webmap.distance_colors(other["dist_m_park"], 300))
    assert live[0].styles != live[1].styles and live[1].props != live[2].props  # category, threshold, speed
    assert live[2].fields == ["name", "dist_m", "walk_min"] and len(live[2].aliases) == 3  # tooltip order


def test_geometry_store_keeps_geometry_out_of_page():
    streets, fac, bnd = _toy()
    stored = {}

    def store(text):
        stored[len(stored)] = text
        return f"/app/static/geo/{len(stored)}.json"

    m = webmap.coverage_map(category="park", threshold_m=500, speed_m_per_min=72, streets=streets,
                            boundaries=bnd, facilities=fac, assets="/app/static/leaflet", store=store)
    html = m.get_root().render()
    assert len(stored) == 3 and "121.5" not in html.split("fetch(")[0].split("L.geoJson(null")[-1]
    assert all('"FeatureCollection"' in v for v in stored.values())
    assert html.count("fetch(") == 3


def test_install_assets(tmp_path):
    out = webmap.install_assets(tmp_path / "static")
    assert (out / "leaflet.js").stat().st_size > 100_000 and (out / "leaflet.css").exists()
    assert (out / "images" / "layers.png").exists()


def test_scope_helpers_on_toy_subdistricts():
    """Gap scoping counts those outside every 街道; the view fits the selected 街道 (Web Mercator zoom)."""
    from geo import ui

    bnd = gpd.GeoDataFrame({"subdistrict": ["甲", "乙"]},
                           geometry=[shapely.box(121.50, 31.30, 121.51, 31.31), shapely.box(121.51, 31.30, 121.55, 31.34)],
                           crs=4326)
    gaps = gpd.GeoDataFrame({"rank": [1, 2, 3], "subdistrict": ["甲", None, "乙"]},
                            geometry=[shapely.Point(0, 0)] * 3, crs=4326)
    listed, outside, other = ui.scope_gaps(gaps, "甲")
    assert listed["rank"].tolist() == [1] and (outside, other) == (1, 1)
    listed, outside, other = ui.scope_gaps(gaps, ui.ALL_SUBDISTRICTS)
    assert listed["rank"].tolist() == [1, 3] and (outside, other) == (1, 0)
    (lat, lon), zoom = ui.scope_view(bnd, "甲", width_px=800, height_px=600)
    assert (lat, lon) == pytest.approx((31.305, 121.505))
    # width: log2(800 * 360 / (256 * 0.01)) = 16.78; height: 0.01 degrees of latitude (Mercator) in 600 px = 16.14
    assert zoom == 16
    # the whole area, 0.05 x 0.04 degrees: width 14.46, height 14.14 -> 14
    assert ui.scope_view(bnd, ui.ALL_SUBDISTRICTS)[1] == 14
    assert ui.subdistricts(bnd) == ["甲", "乙"] and ui.scope_view(None, "甲") == (None, None)


# --------------------------------------------------------------------------- AppTest on the prepared default area
# fixtures `data_dir` and `app` live in conftest.py (test_bad_inputs_app uses them too)


def set_threshold(at, category: str, value: float, unit: str | None = None):
    """Edit one row of the sidebar's threshold table (as a planner typing into it)."""
    from geo.categories import CATEGORY_KEYS

    key = f"thresholds_{at.session_state['thresholds_version'] if 'thresholds_version' in at.session_state else 0}"
    edit: dict = {"value": value} | ({"unit": unit} if unit else {})
    at.session_state[key] = {"edited_rows": {list(CATEGORY_KEYS).index(category): edit}, "added_rows": [],
                             "deleted_rows": []}
    return at


def _table(at, key="sub_table"):
    """The current category's subdistrict table (first frame with a subdistrict, no category, no gap rank)."""
    for df in at.dataframe:
        v = df.value
        if ({"街道", "Subdistrict"} & set(v.columns)) and not ({"设施类别", "Category", "排名", "Rank"} & set(v.columns)):
            return v
    raise AssertionError("no subdistrict table on the page")


def test_default_area_loads(app):
    assert CJK.search(app.title[0].value)
    sub = _table(app, "sub_table")
    assert "新江湾城街道" in sub.iloc[:, 0].tolist()
    assert {"建筑覆盖率", "道路覆盖率", "路网覆盖街道面积比例", "不可达建筑数"} <= set(sub.columns)
    assert "居民数" not in sub.columns  # the default area has no population data: buildings are counted, and said so
    assert any(c.value == "需求加权方式：按建筑栋数计（无人口、户数或层数信息）" for c in app.caption)
    assert not app.error


def test_category_change_changes_table_without_recomputing_paths(app, monkeypatch):
    """Warm interactions re-threshold cached distances: no shortest-path run, timings printed (pytest -s)."""
    import statistics

    import geo.coverage as cov

    calls = []
    for fn in ("compute_distances", "distance_field"):  # the heavy step and the Dijkstra pass itself
        real = getattr(cov, fn)
        monkeypatch.setattr(cov, fn, lambda *a, _real=real, **k: calls.append(1) or _real(*a, **k))
    before = _table(app, "sub_table")
    app.selectbox(key="category").set_value("park").run()
    after = _table(app, "sub_table")
    assert not app.exception
    assert not before.equals(after)
    set_threshold(app, "park", 300.0).run()
    thr = _table(app, "sub_table")
    assert not thr.equals(after)  # 300 m covers less than 500 m

    def timed(interaction) -> float:
        t0 = time.perf_counter()
        interaction().run()
        assert not app.exception, [e.value for e in app.exception]
        return time.perf_counter() - t0

    runs: dict[str, list[float]] = {}
    for i in range(3):  # every value new: nothing is served from the summary cache
        runs.setdefault("threshold", []).append(
            timed(lambda i=i: set_threshold(app, app.session_state["category"], 350.0 + 50 * i)))
        runs.setdefault("category", []).append(
            timed(lambda i=i: app.selectbox(key="category").set_value(["health", "market", "culture"][i])))
        runs.setdefault("speed", []).append(
            timed(lambda i=i: app.number_input(key=f"speed_{app.session_state['profile']}").set_value(60.0 + 5 * i)))
        runs.setdefault("profile", []).append(
            timed(lambda i=i: app.radio(key="profile").set_value("elderly" if i % 2 == 0 else "default")))
        runs.setdefault("plain rerun", []).append(timed(lambda: app))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print("\nAppTest warm timings (median of 3, new values): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
    assert calls == []  # cached: no shortest paths recomputed for a new category, threshold, speed or profile
    assert max(med.values()) < 10  # generous bound for a busy 2-core machine; the numbers are reported


def test_tables_read_like_a_report(app):
    """Shares as 54.9 % or '—' (no 'None'), minutes with one decimal, km with two, headers in the UI language."""
    import json

    share = re.compile(r"^(\d{1,3}\.\d%|—)$")
    cur = _table(app)
    assert "步行阈值(分钟)" not in cur.columns  # the threshold is in the title above the table
    for col in ("建筑覆盖率", "道路覆盖率", "路网覆盖街道面积比例"):
        assert all(share.match(str(v)) for v in cur[col]), cur[col].tolist()
    wjc = cur.set_index("街道").loc["五角场街道"]
    assert wjc["建筑数"] == 0 and wjc["建筑覆盖率"] == "—"  # no buildings: no share, not 'None' or 0 %
    cfg = {k: v["type_config"].get("format") for k, v in json.loads(app.dataframe[1].proto.columns).items()
           if "type_config" in v}
    assert cfg.get("道路长度(公里)") == "%.2f"
    full = next(d.value for d in app.dataframe if "设施类别" in d.value.columns)
    assert len(full) == 2 * 9
    assert all(abs(v * 10 - round(v * 10)) < 1e-9 for v in full["步行阈值(分钟)"])  # 6.9, not 6.9444
    assert any("（500 米 / 6.9 分钟）" in m.value for m in app.markdown)  # the table title
    thr = app.data_editor(key="thresholds_0").value
    assert thr["value"].iloc[0] == 500 and thr["unit"].iloc[0] == "m" and "TD/T 1062" in thr["standard"].iloc[0]
    app.radio(key="lang").set_value("en").run()
    cur = _table(app)
    assert {"Subdistrict", "Share of buildings covered", "Street length (km)"} <= set(cur.columns)
    assert all(share.match(str(v)) for v in cur["Share of buildings covered"])
    app.radio(key="lang").set_value("zh").run()


def test_language_switch(app):
    app.radio(key="lang").set_value("en").run()
    assert app.title[0].value.startswith("15-minute")
    sub = _table(app, "sub_table")
    assert "Subdistrict" in sub.columns
    app.radio(key="lang").set_value("zh").run()
    assert CJK.search(app.title[0].value)


def test_bad_upload_shows_chinese_error_and_keeps_state(app):
    app.radio(key="view").set_value("material").run()
    app.file_uploader(key="up_official").upload("名录.csv", "名称,备注\n某设施,无坐标\n".encode(), "text/csv")
    app.run()
    app.button(key="add_official").click().run()
    assert not app.exception
    assert app.error and CJK.search(app.error[0].value)
    assert "Traceback" not in app.error[0].value
    app.radio(key="view").set_value("map").run()
    assert "新江湾城街道" in _table(app, "sub_table").iloc[:, 0].tolist()  # nothing lost


def test_upload_checks_type_size_and_emptiness(tmp_path):
    from geo.errors import InputError
    from geo.ui import save_upload

    class Up:
        def __init__(self, name, data):
            self.name, self._d = name, data

        def getvalue(self):
            return self._d

    with pytest.raises(InputError) as e:
        save_upload(Up("virus.exe", b"MZ"), ("csv",), folder=tmp_path)
    assert "不支持的文件类型" in e.value.message("zh") and "unsupported" in e.value.message("en")
    with pytest.raises(InputError, match="upload limit"):
        save_upload(Up("big.csv", b"x" * (2 * 1024 * 1024)), ("csv",), max_mb=1, folder=tmp_path)
    with pytest.raises(InputError):
        save_upload(Up("empty.csv", b""), ("csv",), folder=tmp_path)
    p = save_upload(Up("../../名录.csv", b"a,b\n"), ("csv",), folder=tmp_path)
    assert p.parent == tmp_path and p.read_text() == "a,b\n"  # no path traversal


def test_missing_default_area_names_the_command(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.error and "尚未准备" in at.error[0].value
    assert "lifecircle prepare --from ../shared/data" in at.code[0].value


def test_green_and_export_views(app):
    app.radio(key="view").set_value("green").run()
    assert not app.exception
    labels = [m.label for m in app.metric]
    assert any("500米见绿覆盖率" in x for x in labels)
    app.radio(key="view").set_value("export").run()
    assert not app.exception
    assert len(app.get("download_button")) == 5


def _add_official(app, csv_text: str, datum: str) -> None:
    app.radio(key="view").set_value("material").run()
    app.file_uploader(key="up_official").upload("官方名录.csv", csv_text.encode("utf-8"), "text/csv")
    app.run()
    app.selectbox(key="datum").set_value(datum).run()
    app.button(key="add_official").click().run()
    assert not app.exception, [e.value for e in app.exception]


def test_official_list_in_gcj02_is_converted_and_planned_toggle_compares(app):
    from geo.coords import from_wgs84

    lon, lat = 121.5066, 31.3357  # WGS-84, beside 新江湾城街道's culture centre, among the buildings
    glon, glat = from_wgs84([lon], [lat], "gcj02")  # what an Amap-based list would hold
    _add_official(app, f"名称,类别,状态,经度,纬度\n测试长者食堂,canteen,planned,{glon[0]:.7f},{glat[0]:.7f}\n", "gcj02")
    assert any("已从 官方名录.csv 加入 1 个设施" in m.value for m in app.success)  # shown after the rerun
    (layer,) = app.session_state["layers"]["xinjiangwan"].values()  # the test's own workspace: no other layer
    assert layer.kind == "table" and layer.datum == "gcj02" and "workspaces" in layer.path  # kept as the planner's file
    from geo import ui

    tab = ui.read_official(Path(layer.path), layer.datum)
    p = tab.geometry.iloc[0]
    # back on WGS-84 within ~1 m (1e-5 deg), although the file is ~500 m off in WGS-84 terms
    assert abs(p.x - lon) < 1e-5 and abs(p.y - lat) < 1e-5
    assert abs(glon[0] - lon) > 1e-3
    # the planned canteen covers buildings only in the "after the plan" scenario
    app.radio(key="view").set_value("map").run()
    app.selectbox(key="category").set_value("canteen").run()
    with_plan = _table(app).set_index(_table(app).columns[0])
    assert int(with_plan.loc["新江湾城街道", "覆盖建筑数"]) > 0
    app.toggle(key="include_planned").set_value(False).run()
    without = _table(app).set_index(_table(app).columns[0])
    assert int(without.loc["新江湾城街道", "覆盖建筑数"]) == 0  # neither OSM nor the official list has a canteen


def test_policy_text_upload_shows_mentions_with_match_status(gazetteer, app):
    text = ("新江湾城街道2024年工作要点：年内新建2家长者食堂，改造提升新江湾城公园，"
            "推进新江湾城社区市民健身中心更新。").encode("gb18030")
    app.radio(key="view").set_value("material").run()
    app.file_uploader(key="up_texts").upload("工作要点.txt", text, "text/plain")
    app.run()
    app.button(key="extract").click().run()
    assert not app.exception, [e.value for e in app.exception]
    geo_df = app.session_state["geocoded"]["xinjiangwan"]  # the mention table is kept per area
    assert {"name", "category", "status", "match_status", "match_score"} <= set(geo_df.columns)
    by_cat = dict(zip(geo_df["category"], geo_df["status"]))
    assert by_cat.get("canteen") == "planned" and "park" in by_cat
    assert set(geo_df["match_status"]) <= {"matched", "ambiguous", "unmatched", "manual", "not_applicable"}
    import json

    editor = app.data_editor(key="editor")  # the editable table is shown, one row per mention, with its match status
    shown = editor.value
    assert len(shown) == len(geo_df) and list(shown["match_status"]) == list(geo_df["match_status"])
    cfg = json.loads(editor.proto.columns)
    assert cfg["match_status"]["label"] == "匹配状态" and cfg["category"]["label"] == "设施类别"
    opts = {o["value"]: o["label"] for o in cfg["category"]["type_config"]["options"]}
    assert opts["canteen"] == label("canteen", "zh") and CJK.search(opts["canteen"])  # Chinese choices, key values
    assert cfg["mention_key"]["hidden"] is True
    assert any(c.value.startswith("匹配结果：") and "未匹配" in c.value for c in app.caption)


def test_table_correction_is_saved_and_reapplied_next_session(gazetteer, app, data_dir, workspace, shared_data):
    """Coordinates typed into the extraction table go to the workspace's corrections.csv and come back in a new
    session, also after `prepare` rebuilt the area (as scripts/run does at every start)."""
    from streamlit.testing.v1 import AppTest

    from geo.geocode import read_corrections

    text = "新江湾城街道2024年工作要点：改造提升新江湾城公园，推进新江湾城社区市民健身中心更新。".encode("gb18030")
    corr = workspace / "xinjiangwan" / "corrections.csv"  # the planner's workspace, not the area
    key = "工作要点.txt|新江湾城社区市民健身中心|sports"
    lon, lat = 121.5066, 31.3357

    def extract(at):
        at.radio(key="view").set_value("material").run()
        at.file_uploader(key="up_texts").upload("工作要点.txt", text, "text/plain")
        at.run()
        at.button(key="extract").click().run()
        assert not at.exception, [e.value for e in at.exception]
        return at.data_editor(key="editor").value.set_index("mention_key")

    table = extract(app)
    assert table.loc[key, "match_status"] == "unmatched" and pd.isna(table.loc[key, "lon"])
    row = list(table.index).index(key)
    app.session_state["editor"] = {"edited_rows": {row: {"lon": lon, "lat": lat}}, "added_rows": [],
                                   "deleted_rows": []}
    app.button(key="save_corr").click().run()
    assert not app.exception and not app.error
    assert any("已保存 1 条校正" in s.value for s in app.success)
    saved = read_corrections(corr).set_index("key")
    assert saved.loc[key, "lon"] == pytest.approx(lon) and saved.loc[key, "lat"] == pytest.approx(lat)
    # the same session: the table now shows the placed facility as a manual correction
    after = app.data_editor(key="editor").value.set_index("mention_key")
    assert after.loc[key, "match_status"] == "manual" and after.loc[key, "lon"] == pytest.approx(lon)
    assert app.button(key="use_text").label.startswith("将 1 个")
    # the area is prepared again (scripts/run does it at every start): the workspace is not touched
    from geo.areas import prepare_offline

    prepare_offline("xinjiangwan", shared_data, data_dir=data_dir)
    # a new session (the planner comes back tomorrow): extracting again re-applies the file
    fresh = AppTest.from_file(APP, default_timeout=240)
    fresh.run()
    again = extract(fresh)
    assert again.loc[key, "match_status"] == "manual"
    assert (again.loc[key, "lon"], again.loc[key, "lat"]) == (pytest.approx(lon), pytest.approx(lat))
    assert again.loc["工作要点.txt|新江湾城公园|park", "match_status"] != "manual"  # only the corrected row


def test_thresholds_and_speed_are_kept_across_category_and_walker(app):
    """A threshold set once holds whatever category or walker is shown; a time threshold shrinks for the elderly."""
    set_threshold(app, "health", 500.0).run()
    set_threshold(app, "park", 8.0, "min").run()
    app.selectbox(key="category").set_value("park").run()
    app.radio(key="profile").set_value("elderly").run()
    app.number_input(key="speed_elderly").set_value(55.0).run()
    app.radio(key="profile").set_value("default").run()
    app.selectbox(key="category").set_value("health").run()
    assert not app.exception, [e.value for e in app.exception]
    th = app.session_state["thresholds"]
    assert (th["health"].value, th["health"].unit) == (500.0, "m") and (th["park"].value, th["park"].unit) == (8.0, "min")
    assert any("（500 米 / 6.9 分钟）" in m.value for m in app.markdown)  # the health table uses 500 m, not 1000 m
    app.radio(key="profile").set_value("elderly").run()
    assert app.number_input(key="speed_elderly").value == 55.0  # the walker's speed came back with the walker
    app.selectbox(key="category").set_value("park").run()
    assert any("（440 米 / 8.0 分钟）" in m.value for m in app.markdown)  # 8 min at 55 m/min
    table = app.data_editor(key="thresholds_0").value.set_index("category")
    assert table.loc["公园绿地", "threshold_m"] == 440 and table.loc["医疗卫生", "threshold_m"] == 500
    app.radio(key="profile").set_value("default").run()


def test_save_and_open_a_study(app, workspace):
    """The study on screen is saved to the workspace and opened again with its thresholds, walker and scenario."""
    import json

    set_threshold(app, "culture", 700.0).run()
    app.toggle(key="include_planned").set_value(False).run()
    app.radio(key="view").set_value("export").run()
    app.text_input(key="study_name_input").set_value("方案A").run()
    app.button(key="save_study").click().run()
    assert not app.exception and not app.error
    path = workspace / "xinjiangwan" / "studies" / "方案A.json"
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["thresholds"]["culture"] == {"value": 700.0, "unit": "m"} and saved["include_planned"] is False
    set_threshold(app, "culture", 1200.0).run()
    app.toggle(key="include_planned").set_value(True).run()
    app.selectbox(key="pick_study").set_value("方案A").run()
    app.button(key="open_study").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state["thresholds"]["culture"].value == 700.0 and app.session_state["include_planned"] is False
    assert app.data_editor(key="thresholds_1").value.set_index("category").loc["文化设施", "value"] == 700.0


def test_same_official_list_twice_is_one_layer(app):
    text = "名称,类别,经度,纬度\n测试书房,culture,121.5066,31.3357\n"
    _add_official(app, text, "wgs84")
    _add_official(app, text, "wgs84")
    assert len(app.session_state["layers"]["xinjiangwan"]) == 1
    assert any("同一文件只计一次" in m.value for m in app.success)
    app.session_state["layers"]["xinjiangwan"].clear()


# --------------------------------------------------------------------------- scoped to one 街道, English warnings
@pytest.fixture(scope="module")
def engine(data_dir):
    """The default view computed outside the app: the default study run by geo.study (no app cache)."""
    from geo.study import Study, run_study

    return run_study(Study(area=str((data_dir / "areas" / "xinjiangwan").resolve()))).coverage


def _gap_list(at):
    return next(d.value for d in at.dataframe if ({"排名", "Rank"} & set(d.value.columns)))


def test_subdistrict_selector_scopes_gaps_tables_and_summary_strip(app, engine):
    subs = engine.subdistricts
    gaps = engine.gaps[engine.gaps["category"] == "elderly_care"].sort_values("rank")
    for sub in ("新江湾城街道", "五角场街道"):
        app.selectbox(key="scope").set_value(sub).run()
        assert not app.exception, [e.value for e in app.exception]
        assert _table(app)["街道"].tolist() == [sub]  # the current category's table: this 街道 only
        full = next(d.value for d in app.dataframe if "设施类别" in d.value.columns)
        assert set(full["街道"]) == {sub} and len(full) == 9
        # the summary strip: every category's covered share in this 街道 (buildings; street length without)
        mine = subs[subs["subdistrict"] == sub].set_index("category")
        by_b = mine["buildings"].sum() > 0
        expect = (mine["buildings_covered"] / mine["buildings"]) if by_b else (
            mine["street_km_covered"] / mine["street_km"])
        strip = {m.label: m.value for m in app.metric}
        assert list(strip)[:9] == [label(c, "zh") for c in mine.index]
        assert [strip[label(c, "zh")] for c in mine.index] == [f"{v:.1%}" for v in expect]
        assert any((("按建筑" if by_b else "按道路长度") in c.value and sub in c.value) for c in app.caption)
        # the gap list: this 街道's gaps only, with their 街道, same ranks as the engine's
        in_sub = gaps[gaps["subdistrict"] == sub]
        if len(in_sub):
            lst = _gap_list(app)
            assert set(lst["街道"]) == {sub} and lst["排名"].tolist() == in_sub["rank"].tolist()
        else:
            assert not any({"排名"} & set(d.value.columns) for d in app.dataframe)
        n_other = int((gaps["subdistrict"].notna() & (gaps["subdistrict"] != sub)).sum())
        assert n_other == 0 or any(f"其余 {n_other} 处缺口在其他街道" in c.value for c in app.caption)
    app.selectbox(key="scope").set_value("*").run()
    inside = gaps[gaps["subdistrict"].notna()]
    lst = _gap_list(app)
    assert lst["排名"].tolist() == inside["rank"].tolist() and set(lst["街道"]) == set(inside["subdistrict"])
    n_out = len(gaps) - len(inside)
    assert n_out == 0 or any(f"另有 {n_out} 处缺口不在任何街道边界内" in c.value for c in app.caption)
    assert len(_table(app)) == len(subs["subdistrict"].unique())


def test_english_ui_shows_english_warnings_citations_and_gap_labels(app, engine):
    app.radio(key="lang").set_value("en").run()
    assert not app.exception
    notes = next(e for e in app.expander if e.label.startswith("Notes ("))
    shown = [m.value for m in notes.markdown]
    assert shown == ["• " + w.text("en") for w in engine.warnings]
    assert not any(w.zh in " ".join(shown) for w in engine.warnings)  # not one Chinese sentence
    assert any("Source: TD/T 1062-2021 Table A" in c.value for c in app.caption)  # elderly care's standard
    lst = _gap_list(app)
    gaps = engine.gaps[(engine.gaps["category"] == "elderly_care") & engine.gaps["subdistrict"].notna()]
    assert lst["Location"].tolist() == gaps.sort_values("rank")["label_en"].tolist()
    assert {"Rank", "Subdistrict", "Location"} <= set(lst.columns)
    assert [m.label for m in app.metric][:2] == ["Elderly care", "Community canteen"]
    app.radio(key="lang").set_value("zh").run()
    notes = next(e for e in app.expander if e.label.startswith("提示（"))
    assert [m.value for m in notes.markdown] == ["• " + w.text("zh") for w in engine.warnings]


def test_plan_view_states_which_proposals_it_counts(app):
    """The 规划方案 view names its after-the-plan rule (the one lifecircle plan --after accepted reproduces)."""
    app.radio(key="view").set_value("plan").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(c.value.startswith("规划后计入的选址建议：已采纳+已移动（") for c in app.caption)
