"""geo.names: the one name normaliser, and the modules that compare names agree with it."""

from __future__ import annotations

import pytest

from geo import facilities, geocode
from geo.names import clean_name, nfkc, strip_punct


@pytest.mark.parametrize("raw, want", [
    ("新江湾城 公园（南门）", "新江湾城公园"),
    ("ＡＢＣ 公园", "abc公园"),           # full-width letters and space
    ("殷行·社区【试点】食堂", "殷行社区食堂"),
    ("Youth-Center (East)", "youthcenter"),
    ("长者照护之家〔二期〕", "长者照护之家"),
    (None, ""),
    (float("nan"), ""),
])
def test_clean_name(raw, want):
    assert clean_name(raw) == want


def test_nfkc_and_strip_punct():
    assert nfkc(" ＡＢＣ１ ") == "ABC1"
    assert strip_punct("殷行 社区·食堂（一）") == "殷行社区食堂(一)"  # brackets are kept, only punctuation goes


def test_geocode_and_facilities_compare_names_alike():
    """Names the geocoder treats as equal are similar for the de-duplication, and vice versa."""
    a, b = "ＡＢＣ 社区食堂（东门）", "abc社区食堂"
    assert geocode.normalize_name(a)[0] == geocode.normalize_name(b)[0] == clean_name(b)
    assert facilities._similar_names(a, b)  # full-width letters used to defeat the de-duplication


def test_norm_key_is_for_identifiers():
    assert facilities.norm_key(" Elderly Care ") == "elderly_care"
    assert facilities.norm_key("ｐａｒｋ") == "park"
    assert facilities.norm_key(float("nan")) == ""
