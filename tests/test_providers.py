"""Online providers (Tianditu, Amap), addresses and relative places — no network.

Every HTTP answer is a recorded response from tests/data/providers/ (written to
each API's documented format) served by a stub session that also counts calls.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pytest
import requests
import shapely

from geo import providers
from geo.geocode import geocode_mentions, to_facilities, write_geocoded
from geo.places import (
    address_in_sentence,
    locate_official,
    locate_with_provider,
    resolve_relative,
)
from geo.providers import Amap, ProviderError, Tianditu, make_provider

DATA = Path(__file__).parent / "data" / "providers"


def recorded(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


class _Resp:
    def __init__(self, status: int, body):
        self.status_code, self._body = status, body

    def json(self):
        if isinstance(self._body, (dict, list)):
            return self._body
        raise ValueError("not JSON")


class StubSession:
    """``requests.Session`` stand-in: ``route(url, params)`` names a recorded answer (or is an exception)."""

    def __init__(self, route):
        self.route = route if callable(route) else (lambda url, params: route)
        self.calls: list[tuple[str, dict, float]] = []

    def get(self, url, params=None, timeout=None):
        self.calls.append((url, dict(params or {}), timeout))
        r = self.route(url, params or {})
        if isinstance(r, Exception):
            raise r
        rec = recorded(r)
        return _Resp(rec["http_status"], rec["body"])


def client(provider: str, answer, tmp_path: Path, **kw):
    session = StubSession(answer)
    cls = {"tianditu": Tianditu, "amap": Amap}[provider]
    return cls("test-key", session=session, cache=tmp_path / "cache", min_interval=0, **kw), session


def mentions(*rows: dict) -> pd.DataFrame:
    """Geocoded mentions, as geocode_mentions leaves them when OSM has nothing (all unmatched)."""
    base = {"category": "community_service", "status": "existing", "district": "杨浦区", "subdistrict": "",
            "source": "plan.txt"}
    df = pd.DataFrame([{**base, "sentence": r.get("name", ""), **r} for r in rows])
    empty = gpd.GeoDataFrame({"name": pd.Series(dtype=object)}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    return geocode_mentions(df, empty)


def metres(a, b) -> float:
    """Haversine distance (m) between (lon, lat) pairs: independent of geo.places."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


GOOD = "延吉新村街道社区文化活动中心"


# --------------------------------------------------------------------------- the five recorded cases, both providers
@pytest.mark.parametrize("provider", ["tianditu", "amap"])
def test_good_match_is_matched_in_wgs84(provider, tmp_path):
    p, session = client(provider, f"{provider}_search_good", tmp_path)
    out = locate_with_provider(mentions({"name": GOOD}), p)
    row = out.iloc[0]
    assert row["match_status"] == "matched"
    assert row["provider"] == provider and row["match_confidence"] == pytest.approx(1.0)
    assert row["osm_name"] == GOOD
    poi = recorded(f"{provider}_search_good")["body"]["pois"][0]
    raw = [float(v) for v in (poi.get("lonlat") or poi.get("location")).split(",")]
    if provider == "tianditu":  # CGCS2000 = WGS-84: taken as given
        assert (row["lon"], row["lat"]) == pytest.approx(tuple(raw), abs=1e-9)
    else:  # Amap is GCJ-02: the stored point, shifted forward again, is the recorded one ...
        back = prcoords.wgs_gcj(prcoords.Coords(row["lat"], row["lon"]))
        assert (back.lon, back.lat) == pytest.approx(tuple(raw), abs=1e-6)
        # ... and the GCJ-02 offset in Shanghai is a few hundred metres, not zero
        assert 300 < metres(raw, (row["lon"], row["lat"])) < 700
    assert len(session.calls) == 1 and session.calls[0][2] == providers.TIMEOUT_S


@pytest.mark.parametrize("provider", ["tianditu", "amap"])
def test_ambiguous_answer_is_ambiguous(provider, tmp_path):
    p, _ = client(provider, f"{provider}_search_ambiguous", tmp_path)
    row = locate_with_provider(mentions({"name": "阳光之家"}), p).iloc[0]
    assert row["match_status"] == "ambiguous"
    assert np.isnan(row["lon"]) and np.isnan(row["lat"])
    assert row["candidates"].count("阳光之家") == 2
    assert "\n" not in row["reason"]


@pytest.mark.parametrize("provider", ["tianditu", "amap"])
def test_no_answer_stays_unmatched_and_says_so(provider, tmp_path):
    p, _ = client(provider, f"{provider}_search_none", tmp_path)
    out = locate_with_provider(mentions({"name": "滨江党群服务驿站"}), p)
    row = out.iloc[0]
    assert row["match_status"] == "unmatched" and np.isnan(row["lon"])
    assert ("天地图" if provider == "tianditu" else "高德") + "也未找到" in row["reason"]
    assert "provider_error" not in out.attrs


@pytest.mark.parametrize("provider, case, words", [
    ("tianditu", "quota", "日访问量"), ("amap", "quota", "DAILY_QUERY_OVER_LIMIT"),
    ("tianditu", "bad_key", "密钥被拒绝"), ("amap", "bad_key", "INVALID_USER_KEY"),
])
def test_quota_and_bad_key_give_one_line_and_stop(provider, case, words, tmp_path):
    p, session = client(provider, f"{provider}_{case}", tmp_path)
    out = locate_with_provider(mentions({"name": GOOD}, {"name": "阳光之家"}), p)
    assert list(out["match_status"]) == ["unmatched", "unmatched"]
    msg, en = out.attrs["provider_error"].text("zh"), out.attrs["provider_error"].text("en")
    assert words in msg and "\n" not in msg and "未找到" not in msg
    assert "\n" not in en and "not found" not in en and ("quota" if case == "quota" else "key") in en
    assert all("未在线查询" in r for r in out["reason"])
    assert len(session.calls) == 1  # the second row was not sent after the failure
    with pytest.raises(ProviderError) as exc:
        client(provider, f"{provider}_{case}", tmp_path / "fresh")[0].search(GOOD)
    assert exc.value.kind == case


# --------------------------------------------------------------------------- keys, cache, pacing, network
def test_no_key_means_no_call(monkeypatch, tmp_path):
    calls = []
    def get(*a, **k):
        calls.append(a)
        pytest.fail("network used")

    monkeypatch.setattr(requests.Session, "get", get)
    for env in providers.KEY_ENV.values():
        monkeypatch.delenv(env, raising=False)
    assert make_provider("tianditu") is None and make_provider("amap", key="  ") is None
    out = locate_with_provider(mentions({"name": GOOD, "sentence": f"{GOOD}位于延吉中路77号。"}), None)
    assert out["match_status"].iat[0] == "unmatched"
    assert out["address"].iat[0] == "延吉中路77号" and "未提供天地图/高德密钥" in str(out["reason"].iat[0])
    assert calls == []
    monkeypatch.setenv("LIFECIRCLE_AMAP_KEY", "from-env")
    from_env, typed = make_provider("amap"), make_provider("amap", key="typed")
    assert from_env is not None and from_env.key == "from-env"
    assert typed is not None and typed.key == "typed"  # the app's field wins


def test_cli_provider_without_key_exits_2_before_any_call(monkeypatch, tmp_path, capsys):
    from geo.cli import main

    monkeypatch.setenv("LIFECIRCLE_LANG", "zh")  # what --lang sets; restored after the test
    monkeypatch.delenv("LIFECIRCLE_TIANDITU_KEY", raising=False)
    monkeypatch.setattr(requests.Session, "get", lambda *a, **k: pytest.fail("network used"))
    src = tmp_path / "facilities.csv"
    pd.DataFrame([{"name": GOOD, "category": "culture"}]).to_csv(src, index=False)
    pois = tmp_path / "pois.csv"
    pd.DataFrame([{"name": "杨浦公园", "category": "park", "lon": 121.5286, "lat": 31.2828}]).to_csv(pois, index=False)
    code = main(["--lang", "zh", "geocode", str(src), "--pois", str(pois), "--provider", "tianditu",
                 "-o", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "LIFECIRCLE_TIANDITU_KEY" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("provider", ["tianditu", "amap"])
def test_second_call_comes_from_the_disk_cache(provider, tmp_path):
    p1, s1 = client(provider, f"{provider}_search_good", tmp_path)
    first = p1.search(GOOD, district="杨浦区")
    p2, s2 = client(provider, f"{provider}_search_good", tmp_path)  # a new client, same cache folder
    assert p2.search(GOOD, district="杨浦区") == first
    assert len(s1.calls) == 1 and len(s2.calls) == 0
    files = list((tmp_path / "cache" / provider).glob("*.json"))
    assert len(files) == 1 and "test-key" not in files[0].read_text(encoding="utf-8")


def test_errors_are_not_cached(tmp_path):
    p, s = client("amap", "amap_quota", tmp_path)
    for _ in range(2):
        with pytest.raises(ProviderError):
            p.search(GOOD)
    assert len(s.calls) == 2 and not list((tmp_path / "cache").rglob("*.json"))


def test_requests_are_spaced_per_provider(monkeypatch, tmp_path):
    monkeypatch.setattr(providers, "_LAST_CALL", {})
    now = [100.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    p = Amap("k", session=StubSession("amap_search_none"), cache=False, clock=lambda: now[0], sleep=sleep)
    p.search("甲")
    now[0] += 0.1
    p.search("乙")
    assert slept == [pytest.approx(providers.MIN_INTERVAL_S["amap"] - 0.1)]
    t = Tianditu("k", session=StubSession("tianditu_search_none"), cache=False, clock=lambda: now[0], sleep=sleep)
    t.search("丙")  # another provider is not held back by Amap's pace
    assert len(slept) == 1


@pytest.mark.parametrize("exc, kind, words", [
    (requests.ConnectionError("Name or service not known"), "offline", "没有网络"),
    (requests.Timeout("read timed out"), "timeout", "没有应答"),
])
def test_network_failure_says_no_internet_not_not_found(exc, kind, words, tmp_path):
    p, _ = client("tianditu", exc, tmp_path)
    with pytest.raises(ProviderError) as e:
        p.search(GOOD)
    assert e.value.kind == kind and words in e.value.message("zh") and "未找到" not in e.value.message("zh")
    import copy
    import pickle

    again = pickle.loads(pickle.dumps(copy.deepcopy(e.value)))  # pandas deep-copies attrs; errors travel
    assert (again.kind, again.provider, again.message("en")) == (kind, "tianditu", e.value.message("en"))
    out = locate_with_provider(mentions({"name": GOOD}), p)
    assert out["match_status"].iat[0] == "unmatched" and words in out.attrs["provider_error"].text("zh")


# --------------------------------------------------------------------------- addresses
@pytest.mark.parametrize("sentence, name, expected", [
    ("新建的睦邻中心位于国和路1000号，明年开放。", "睦邻中心", "国和路1000号"),
    ("长白社区文化活动中心（靖宇东路270号）完成改造。", "长白社区文化活动中心", "靖宇东路270号"),
    ("助餐点设在政立路485-1号；另一处位于国权北路1688弄2号。", "助餐点", "政立路485-1号"),
    ("延吉路沿线新增3处睦邻点。", "睦邻点", ""),  # a road but no number: no address
    ("全区共有12号线站点5个。", "", ""),
])
def test_address_in_sentence(sentence, name, expected):
    assert address_in_sentence(sentence, name) == expected


def test_planned_facility_with_an_address_is_located_by_address(tmp_path):
    p, session = client("tianditu", lambda url, params: "tianditu_geocode_good" if url.endswith("/geocoder")
                        else pytest.fail("searched by name"), tmp_path)
    out = locate_with_provider(mentions({"name": "国和社区睦邻中心", "status": "planned",
                                         "sentence": "规划新建国和社区睦邻中心，位于国和路1000号。"}), p)
    row = out.iloc[0]
    assert row["match_status"] == "matched" and row["address"] == "国和路1000号"
    assert (row["lon"], row["lat"]) == (121.520345, 31.304512) and row["match_confidence"] == 1.0
    assert json.loads(session.calls[0][1]["ds"]) == {"keyWord": "上海市杨浦区国和路1000号"}
    fac = to_facilities(out)
    assert list(fac["status"]) == ["planned"] and "tianditu" in fac["source_detail"].iat[0]


def test_one_unnamed_facility_at_an_address_is_located(tmp_path):
    """The held-out Minhang reply: '拟在江川路1800号地块配建一处标准化菜市场' (a counted mention, count 1)."""
    sentence = "街道正在协商，拟在江川路1800号地块配建一处标准化菜市场，建成后交由专业公司运营。"
    geo = mentions({"name": "", "category": "market", "status": "planned", "count": 1, "district": "闵行区",
                    "sentence": sentence},
                   {"name": "", "category": "market", "status": "planned", "count": 3, "district": "闵行区",
                    "sentence": "在江川路1800号周边新建3处菜市场。"})
    assert list(geo["match_status"]) == ["not_applicable"] * 2
    p, session = client("tianditu", "tianditu_geocode_good", tmp_path)
    out = locate_with_provider(geo, p)
    assert list(out["match_status"]) == ["matched", "not_applicable"]  # three markets are not one address
    assert json.loads(session.calls[0][1]["ds"]) == {"keyWord": "上海市闵行区江川路1800号"} and len(session.calls) == 1


def test_planned_facility_without_address_is_not_searched_by_name(tmp_path):
    p, session = client("amap", "amap_search_good", tmp_path)
    out = locate_with_provider(mentions({"name": GOOD, "status": "planned"}), p)
    assert out["match_status"].iat[0] == "unmatched" and session.calls == []


def _official_route(url, params):
    assert url.endswith("/geocoder")
    kw = json.loads(params["ds"])["keyWord"]
    return "tianditu_geocode_good" if "平凉路" in kw else "tianditu_geocode_none"


def test_official_rows_without_coordinates_go_through_the_provider(shared_data, tmp_path):
    src = shared_data / "facilities" / "yangpu_official_facilities.csv"
    raw = pd.read_csv(src)
    lacking = raw[raw["wgs84_lon"].isna()]
    assert len(lacking) == 2  # the shared list as documented

    without = locate_official(src)  # no key: nothing called, both listed with the reason
    assert len(without) == len(raw) - 2
    assert list(without.attrs["unlocated"]["address"]) == list(lacking["official_address"])
    assert all("密钥" in r for r in without.attrs["unlocated"]["reason"])

    p, session = client("tianditu", _official_route, tmp_path)
    found = locate_official(src, p)
    assert len(session.calls) == 2 and len(found) == len(raw) - 1
    row = found[found["facility_id"] == f"official:{lacking['request_id'].iat[0]}"].iloc[0]
    assert row["name"] == lacking["facility_name"].iat[0] and row["category"] == "culture"
    assert (row.geometry.x, row.geometry.y) == (121.520345, 31.304512)
    assert list(found.attrs["unlocated"]["name"]) == [lacking["facility_name"].iat[1]]


# --------------------------------------------------------------------------- relative places
@pytest.fixture()
def park_candidates() -> gpd.GeoDataFrame:
    park = shapely.box(121.5270, 31.2810, 121.5310, 31.2850)
    return gpd.GeoDataFrame({
        "candidate_id": ["osm:area/1", "osm:area/2"], "osm_id": ["1", "2"], "osm_type": ["area", "area"],
        "name": ["杨浦公园", "长白二村"], "category": ["park", ""], "fclass": ["park", "residential"],
    }, geometry=[park, shapely.box(121.5400, 31.2900, 121.5420, 31.2920)], crs=4326)


def test_relative_place_is_approximate_never_matched(park_candidates, tmp_path):
    geo = mentions({"name": "市民健身驿站", "category": "sports",
                    "sentence": "在杨浦公园旁新建一处市民健身驿站。"},
                   {"name": "睦邻点", "sentence": "长白二村小区内的睦邻点完成改造。"},
                   {"name": "党群服务站", "sentence": "在滨江公园旁设置党群服务站。"})  # no such OSM park
    out = resolve_relative(geo, park_candidates)
    assert list(out["match_status"]) == ["approximate", "approximate", "unmatched"]
    rep = park_candidates.geometry.representative_point()
    assert (out["lon"].iat[0], out["lat"].iat[0]) == (rep.iat[0].x, rep.iat[0].y)
    assert out["osm_name"].iat[0] == "杨浦公园" and "杨浦公园旁" in str(out["reason"].iat[0])
    assert out["osm_name"].iat[1] == "长白二村"
    assert len(to_facilities(out)) == 0  # never used as a facility until confirmed
    # nor when the written table is read back as a facility list
    from geo.facilities import read_facility_table

    path = write_geocoded(out, tmp_path / "geocoded.csv")
    assert len(read_facility_table(path)) == 0


def test_generic_or_distant_anchors_are_not_used(park_candidates):
    """Seen on the held-out Putuo summary: OSM has a feature named just 健身苑, and it sat in another clause."""
    cands = pd.concat([park_candidates, gpd.GeoDataFrame(
        {"candidate_id": ["osm:node/3", "osm:area/4"], "osm_id": ["3", "4"], "osm_type": ["node", "area"],
         "name": ["健身苑", "社区公园"], "category": ["sports", "park"], "fclass": ["fitness_station", "park"]},
        geometry=[shapely.Point(121.40, 31.25), shapely.box(121.41, 31.25, 121.42, 31.26)], crs=4326)],
        ignore_index=True)
    out = resolve_relative(mentions(
        {"name": "真新文化活动中心", "sentence": "真新文化活动中心全年举办活动;建成益智健身苑点十一处。"},
        {"name": "睦邻点", "sentence": "睦邻点完成改造；杨浦公园旁新建驿站。"},
        {"name": "助餐点", "sentence": "在健身苑旁新建助餐点。"},
        {"name": "助浴点", "sentence": "在社区公园旁新建助浴点。"}), cands)  # only a category word
    assert list(out["match_status"]) == ["unmatched"] * 4


def test_the_park_itself_is_not_its_own_anchor(park_candidates):
    out = resolve_relative(mentions({"name": "杨浦公园", "category": "park",
                                     "sentence": "杨浦公园内新建健身步道。"}), park_candidates)
    # 杨浦公园 the mention is not placed "near 杨浦公园" (OSM would have matched it by name)
    assert out["match_status"].iat[0] == "unmatched"


# --------------------------------------------------------------------------- CLI and app hooks
def _new_session(sessions: list, route) -> StubSession:
    """A stub session, remembered in ``sessions`` (stands in for ``requests.Session()``)."""
    sessions.append(StubSession(route))
    return sessions[-1]


def _amap_route(url, params):
    return "amap_search_good" if params.get("keywords") == GOOD else "amap_search_none"


def test_cli_geocode_with_provider_places_what_osm_lacks(monkeypatch, tmp_path, capsys):
    from geo.cli import main

    sessions: list[StubSession] = []
    monkeypatch.setattr(requests, "Session", lambda: _new_session(sessions, _amap_route))
    monkeypatch.setenv("LIFECIRCLE_LANG", "zh")  # what --lang sets; restored after the test
    monkeypatch.setenv("LIFECIRCLE_AMAP_KEY", "env-key")
    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(tmp_path / "data"))
    src = tmp_path / "facilities.csv"
    pd.DataFrame([{"name": GOOD, "category": "culture", "status": "existing", "district": "杨浦区",
                   "sentence": f"{GOOD}完成改造。", "source": "plan.txt"},
                  {"name": "杨浦公园", "category": "park", "status": "existing", "district": "杨浦区",
                   "sentence": "杨浦公园整体改造。", "source": "plan.txt"}]).to_csv(src, index=False)
    pois = tmp_path / "pois.csv"
    pd.DataFrame([{"name": "杨浦公园", "category": "park", "lon": 121.5286, "lat": 31.2828}]).to_csv(pois, index=False)
    out = tmp_path / "geocoded.csv"
    assert main(["--lang", "zh", "geocode", str(src), "--pois", str(pois), "--provider", "amap", "-o", str(out)]) == 0
    res = pd.read_csv(out, encoding="utf-8-sig").set_index("name")
    assert res.loc[GOOD, "match_status"] == "matched" and res.loc[GOOD, "provider"] == "amap"
    assert res.loc["杨浦公园", "provider"] == "osm"  # OSM matched it: never sent online
    (session,) = sessions
    assert [c[1]["keywords"] for c in session.calls] == [GOOD] and session.calls[0][1]["key"] == "env-key"
    assert "已匹配 2" in capsys.readouterr().out


def test_cli_geocode_quota_is_one_warning_line_and_keeps_the_osm_result(monkeypatch, tmp_path, capsys):
    from geo.cli import main

    monkeypatch.setattr(requests, "Session", lambda: StubSession("amap_quota"))
    monkeypatch.setenv("LIFECIRCLE_LANG", "en")  # what --lang sets; restored after the test
    monkeypatch.setenv("LIFECIRCLE_AMAP_KEY", "env-key")
    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(tmp_path / "data"))
    src = tmp_path / "facilities.csv"
    pd.DataFrame([{"name": GOOD, "category": "culture"}, {"name": "杨浦公园", "category": "park"}]).to_csv(src, index=False)
    pois = tmp_path / "pois.csv"
    pd.DataFrame([{"name": "杨浦公园", "category": "park", "lon": 121.5286, "lat": 31.2828}]).to_csv(pois, index=False)
    out = tmp_path / "geocoded.csv"
    assert main(["--lang", "en", "geocode", str(src), "--pois", str(pois), "--provider", "amap", "-o", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: Amap:") and "DAILY_QUERY_OVER_LIMIT" in err[0]
    res = pd.read_csv(out, encoding="utf-8-sig").set_index("name")
    assert res.loc["杨浦公园", "match_status"] == "matched" and res.loc[GOOD, "match_status"] == "unmatched"
    assert "not looked up online" in str(res.loc[GOOD, "reason"])


@pytest.fixture()
def material(app, monkeypatch):
    """The app (conftest's AppTest on the prepared default area) on its material view, no key in the environment."""
    for env in providers.KEY_ENV.values():
        monkeypatch.delenv(env, raising=False)
    app.radio(key="view").set_value("material").run()
    return app


@pytest.mark.parametrize("typed_key", ["typed-key", ""])
def test_app_provider_choice_and_password_key(material, monkeypatch, typed_key):
    sessions: list[StubSession] = []
    monkeypatch.setattr(requests, "Session", lambda: _new_session(sessions, _amap_route))
    material.selectbox(key="provider").set_value("amap").run()
    field = material.text_input(key="provider_key")
    assert field.proto.type == field.proto.PASSWORD
    field.input(typed_key).run()
    material.file_uploader(key="up_texts").upload("要点.txt", f"杨浦区延吉新村街道：{GOOD}完成改造。".encode(), "text/plain")
    material.run()
    material.button(key="extract").click().run()
    assert not material.exception, [e.value for e in material.exception]
    geo_df = material.session_state["geocoded"]["xinjiangwan"].set_index("name")
    calls = [c for s in sessions for c in s.calls]
    if typed_key:
        assert geo_df.loc[GOOD, "match_status"] == "matched" and geo_df.loc[GOOD, "provider"] == "amap"
        assert calls and all(c[1]["key"] == "typed-key" for c in calls)
    else:  # no key typed and none in the environment: nothing is called
        assert calls == [] and geo_df.loc[GOOD, "match_status"] == "unmatched"


def test_app_lists_official_rows_it_could_not_locate(material, shared_data):
    src = shared_data / "facilities" / "yangpu_official_facilities.csv"
    material.file_uploader(key="up_official").upload("名录.csv", src.read_bytes(), "text/csv")
    material.run()
    material.button(key="add_official").click().run()
    assert not material.exception, [e.value for e in material.exception]
    assert any("2 行未定位" in w.value and "密钥" in w.value for w in material.warning)
    shown = [d.value for d in material.dataframe if "地址" in d.value.columns]
    raw = pd.read_csv(src)
    assert len(shown) == 1 and list(shown[0]["地址"]) == list(raw.loc[raw["wgs84_lon"].isna(), "official_address"])


def test_cli_locate_official_list(shared_data, monkeypatch, tmp_path, capsys):
    from geo.cli import main
    from geo.facilities import read_facility_table

    src = shared_data / "facilities" / "yangpu_official_facilities.csv"
    raw = pd.read_csv(src)
    monkeypatch.setenv("LIFECIRCLE_LANG", "zh")
    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LIFECIRCLE_TIANDITU_KEY", "env-key")
    monkeypatch.setattr(requests, "Session", lambda: StubSession(_official_route))
    out = tmp_path / "located.csv"
    assert main(["locate", str(src), "--provider", "tianditu", "-o", str(out)]) == 0
    res = pd.read_csv(out, encoding="utf-8-sig")
    assert len(res) == len(raw)  # nothing lost: located rows, then the one left with its reason
    assert res["lon"].notna().sum() == len(raw) - 1
    assert res.loc[res["lon"].isna(), "reason"].str.contains("天地图未能可靠定位").all()
    assert "130 个设施（其中 1 个按地址定位），1 行未定位" in capsys.readouterr().out
    # and it is a facility list coverage reads, in WGS-84, the located address included
    fac = read_facility_table(out)
    assert len(fac) == len(raw) - 1
    hit = fac[fac["name"] == raw.loc[raw["wgs84_lon"].isna(), "facility_name"].iat[0]].geometry.iat[0]
    assert (hit.x, hit.y) == (121.520345, 31.304512)


def test_app_official_rows_located_by_address_reach_the_study(material, shared_data, monkeypatch):
    monkeypatch.setattr(requests, "Session", lambda: StubSession(_official_route))
    material.selectbox(key="provider").set_value("tianditu").run()
    material.text_input(key="provider_key").input("typed-key").run()
    src = shared_data / "facilities" / "yangpu_official_facilities.csv"
    material.file_uploader(key="up_official").upload("名录.csv", src.read_bytes(), "text/csv")
    material.run()
    material.button(key="add_official").click().run()
    assert not material.exception, [e.value for e in material.exception]
    raw = pd.read_csv(src)
    (layer,) = material.session_state["layers"]["xinjiangwan"].values()  # the test's own workspace: no other layer
    # the study reads the located copy (WGS-84), kept in the workspace beside the upload
    assert layer.datum == "wgs84" and layer.path.endswith("-located.csv") and "workspaces" in layer.path
    from geo.facilities import read_facilities

    fac = read_facilities(layer.path)
    assert len(fac) == len(raw) - 1
    placed = fac[fac["name"] == raw.loc[raw["wgs84_lon"].isna(), "facility_name"].iat[0]].geometry.iat[0]
    assert (placed.x, placed.y) == (121.520345, 31.304512)
    shown = [d.value for d in material.dataframe if "地址" in d.value.columns]
    assert len(shown) == 1 and list(shown[0]["地址"]) == list(raw.loc[raw["wgs84_lon"].isna(), "official_address"])[1:]

