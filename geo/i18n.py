"""Display text in Chinese (first) and English: column headers and UI strings.

Category, profile, status and source labels come from :mod:`geo.categories`;
this table holds everything else a person reads, so the app, the XLSX/PDF
report and the CLI summary share one wording.
"""

from __future__ import annotations

import re

from .categories import CATEGORIES, label

__all__ = ["COLUMNS", "column_label", "localize_columns"]

# column -> (zh, en). Per-category columns (dist_m_<cat> ...) are built below.
COLUMNS: dict[str, tuple[str, str]] = {
    "subdistrict": ("街道", "Subdistrict"),
    "district": ("区", "District"),
    "category": ("设施类别", "Category"),
    "threshold_m": ("步行阈值(米)", "Threshold (m)"),
    "threshold_min": ("步行阈值(分钟)", "Threshold (min)"),
    "buildings": ("建筑数", "Buildings"),
    "buildings_covered": ("覆盖建筑数", "Buildings covered"),
    "buildings_unreachable": ("不可达建筑数", "Buildings unreachable"),
    "share_buildings_covered": ("建筑覆盖率", "Share of buildings covered"),
    "street_km": ("街道长度(公里)", "Street length (km)"),
    "street_km_covered": ("覆盖街道长度(公里)", "Street length covered (km)"),
    "share_street_covered": ("街道覆盖率", "Share of street length covered"),
    "facilities": ("设施数", "Facilities"),
    "network_share_in_area": ("路网覆盖街道面积比例", "Share of area covered by the network"),
    "name": ("名称", "Name"),
    "status": ("状态", "Status"),
    "count": ("数量", "Count"),
    "source": ("来源", "Source"),
    "sentence": ("原文句子", "Sentence"),
    "match_status": ("匹配状态", "Match status"),
    "match_score": ("匹配得分", "Match score"),
    "osm_id": ("OSM编号", "OSM id"),
    "osm_name": ("OSM名称", "OSM name"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "reason": ("说明", "Reason"),
    "length_m": ("长度(米)", "Length (m)"),
    "snap_m": ("接入距离(米)", "Access leg (m)"),
    "rank": ("排名", "Rank"),
    "label": ("位置", "Location"),
    "n_buildings": ("建筑数", "Buildings"),
    "street_m": ("街道长度(米)", "Street length (m)"),
    "area_m2": ("面积(平方米)", "Area (m²)"),
    "share_300m": ("300米内比例", "Share within 300 m"),
    "share_500m": ("500米内比例", "Share within 500 m"),
    "share_served": ("500米见绿覆盖率", "Green-space coverage (500 m)"),
    # report (geo.report): gaps, facilities, green, parameters sheet
    "kind": ("缺口类型", "Gap kind"),
    "facility_id": ("设施编号", "Facility id"),
    "source_detail": ("来源详情", "Source detail"),
    "buildings_300m": ("300米内建筑数", "Buildings within 300 m"),
    "buildings_500m": ("500米内建筑数", "Buildings within 500 m"),
    "buildings_served": ("见绿覆盖建筑数", "Buildings served by green space"),
    "section": ("项目", "Section"),
    "parameter": ("参数", "Parameter"),
    "value": ("取值", "Value"),
    "standard": ("依据/来源", "Standard / source"),
}

_PER_CATEGORY = {
    "dist_m": ("步行距离(米)", "walking distance (m)"),
    "walk_min": ("步行时间(分钟)", "walking time (min)"),
    "covered_km": ("覆盖长度(公里)", "covered length (km)"),
    "unreachable": ("不可达", "unreachable"),
    "nearest": ("最近设施", "nearest facility"),
}
_PER_CATEGORY_RE = re.compile(r"^(dist_m|walk_min|covered_km|unreachable|nearest)_(\w+)$")


def column_label(col: str, lang: str = "zh") -> str:
    """Human header of a column name (falls back to the name itself)."""
    i = 0 if lang == "zh" else 1
    if col in COLUMNS:
        return COLUMNS[col][i]
    m = _PER_CATEGORY_RE.match(col)
    if m and m.group(2) in CATEGORIES:
        head = _PER_CATEGORY[m.group(1)][i]
        cat = label(m.group(2), lang)
        return f"{cat}{head}" if lang == "zh" else f"{cat} {head}"
    return col


def localize_columns(df, lang: str = "zh"):
    """A copy of ``df`` with human headers (geometry column kept as is)."""
    return df.rename(columns={c: column_label(c, lang) for c in df.columns if c != "geometry"})
