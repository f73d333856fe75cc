"""Gazetteer: exact, short-form, homophone and fuzzy resolution of Shanghai place names."""

from __future__ import annotations

import pytest

from geo.gazetteer import _from_osm_boundaries, gazetteer_from_records, subdistrict_roots

# a tiny gazetteer built here: the matching logic must not depend on downloaded data
SMALL = gazetteer_from_records(
    ["杨浦区", "浦东新区", "松江区", "虹口区"],
    [("殷行街道", "杨浦区"), ("五角场街道", "杨浦区"), ("四平路街道", "杨浦区"), ("长白新村街道", "杨浦区"),
     ("南码头路街道", "浦东新区"), ("三林镇", "浦东新区"), ("川沙新镇", "浦东新区"), ("泗泾镇", "松江区"),
     ("江湾镇街道", "虹口区")],
)


def test_roots_are_the_short_forms_texts_use():
    assert subdistrict_roots("四平路街道") == ["四平路", "四平"]
    assert subdistrict_roots("长白新村街道") == ["长白新村", "长白"]
    assert subdistrict_roots("川沙新镇") == ["川沙"]
    assert subdistrict_roots("江湾镇街道") == ["江湾"]
    assert subdistrict_roots("殷行街道") == ["殷行"]


@pytest.mark.parametrize("raw, name, method", [
    ("殷行街道", "殷行街道", "exact"),
    ("殷行", "殷行街道", "root"),
    ("四平", "四平路街道", "root"),
    ("三林", "三林镇", "root"),
    ("杨浦", "杨浦区", "root"),
    ("尹航街道", "殷行街道", "homophone"),  # seed 000 misspells 殷行 (yin hang) both ways
    ("银航街道", "殷行街道", "homophone"),
    ("银航", "殷行街道", "homophone"),
    ("五角厂街道", "五角场街道", "homophone"),
])
def test_resolve(raw, name, method):
    res = SMALL.resolve(raw)
    assert res is not None and (res.name, res.method) == (name, method)
    assert res.district == ("杨浦区" if name in ("殷行街道", "五角场街道", "四平路街道", "杨浦区") else res.district)


def test_corrected_is_recorded_only_for_misspellings():
    assert SMALL.resolve("尹航街道").corrected == "尹航街道→殷行街道"
    assert SMALL.resolve("殷行街道").corrected == ""
    assert SMALL.resolve("四平").corrected == ""


def test_fuzzy_typo_within_district():
    res = SMALL.resolve("南码头街道办")  # neither a root nor a homophone: similarity
    assert res is None or res.name == "南码头路街道"
    res = SMALL.resolve("长白新村街", district="杨浦区")
    assert res is not None and res.name == "长白新村街道" and res.method == "fuzzy"


@pytest.mark.parametrize("raw", ["已经街道", "各街道", "全区", "街道", "银行家", "建设"])
def test_no_false_matches(raw):
    # 已 has an archaic reading "si" among pypinyin's heteronyms; the written form is read
    # by its contextual reading, so 已经 never becomes 泗泾
    res = SMALL.resolve(raw, kind="subdistrict")
    assert res is None, res


def test_district_of():
    assert SMALL.district_of("殷行街道") == "杨浦区"
    assert SMALL.district_of("浦东新区") == "浦东新区"
    assert SMALL.district_of("火星街道") == ""


def test_real_gazetteer_has_all_of_shanghai(gazetteer):
    g = gazetteer
    assert len(g.districts) == 16
    assert 200 <= len(g.subdistricts) <= 230  # ~215 街道/镇 (farms, parks and development zones dropped)
    assert g.note == ""
    for raw, name in [("尹航街道", "殷行街道"), ("银航", "殷行街道"), ("周家渡", "周家渡街道"),
                      ("南码头路街道", "南码头路街道"), ("三林", "三林镇")]:
        assert g.resolve(raw, district="杨浦区" if "行" in name else None).name == name
    assert g.district_of("殷行街道") == "杨浦区"
    assert g.district_of("周家渡街道") == "浦东新区"


def test_osm_boundaries_fallback(shared_data):
    g = _from_osm_boundaries(shared_data / "boundaries")
    assert len(g.districts) == 16
    assert set(g.subdistricts["name"]) >= {"五角场街道", "新江湾城街道"}
    assert g.note  # says the list is incomplete and how to fix it
    assert g.resolve("五角厂街道").name == "五角场街道"
