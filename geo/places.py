"""Placing what OSM names do not: online providers, street addresses, relative places.

Runs after :func:`geo.geocode.geocode_mentions` on its result (and on official
lists), never instead of it:

- :func:`locate_with_provider`: rows OSM left ``unmatched`` are looked up with
  an opt-in provider (:mod:`geo.providers`): by the street address their
  sentence gives ("位于双阳路399号", :func:`address_in_sentence`) or else by name
  (not for planned facilities: they must not land on an existing namesake).
  Without a provider nothing is called and rows with an address say so.
- :func:`resolve_relative`: "X公园内/旁", "X小区" in a still-unmatched row's
  sentence is looked up among the OSM candidates; a hit places the row
  ``approximate`` (never ``matched``) at that feature, for the planner to confirm.
- :func:`locate_official`: an official list's rows with an address but no
  coordinates go through the same provider, or are listed as unlocated with the reason.

Every touched row carries ``provider`` (``osm``, ``tianditu``, ``amap``),
``match_confidence`` (0-1) and ``address``.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError, Message, warn
from .geocode import bilingual_reason  # the geocode table's reason format
from .i18n import t
from .names import nfkc
from .providers import Place, Provider, ProviderError

__all__ = [
    "PLACE_COLUMNS",
    "address_in_sentence",
    "ensure_place_columns",
    "locate_official",
    "locate_with_provider",
    "place_beyond_osm",
    "relative_anchors",
    "resolve_relative",
]

PLACE_COLUMNS = ["provider", "match_confidence", "address"]
WGS84 = "EPSG:4326"

_CJK = r"\u4e00-\u9fff"
# 双阳路399号, 上海市杨浦区延吉中路77号, 国和路1000弄2号, 政立路485-1号
_ADDRESS = re.compile(rf"(?:上海市)?(?:[{_CJK}]{{1,4}}区)?[{_CJK}0-9]{{1,12}}?(?:路|街|道|巷|弄|大道|公路)"
                      rf"[0-9０-９一二三四五六七八九十百千]+(?:[-—－][0-9]+)?(?:弄[0-9]+)?号")
_ADDRESS_CUE = re.compile(r"(?:位于|坐落于|地处|地址[为是：:]?|设在|落户|在)$")
# anchor words of a relative place, and the words that put a facility in/beside it
# (not 苑 alone: 健身苑 is a fitness station; an estate "X苑" is caught as "X苑小区")
_AREA_KW = ("公园", "绿地", "广场", "花园", "商场", "大厦", "公寓")
_HOME_KW = ("小区", "新村", "家园")  # "X小区" alone already says where
_CLAUSE = re.compile(r"[。；;！!？?\n]")
_RELATION = re.compile(r"^(内|里|旁边|旁|边上|附近|一侧|东侧|南侧|西侧|北侧|对面|周边|门口|入口处?|中(?!心))")
_STOP = re.compile(rf"[^{_CJK}0-9A-Za-z]")


def _add_reason(old: object, zh: str, en: str) -> str:
    """Append one zh/en note to an existing ``zh，zh / en, en`` reason."""
    old = nfkc(old)
    if " / " in old:
        a, b = old.split(" / ", 1)
        return f"{a}，{zh} / {b}, {en}"
    return bilingual_reason([x for x in (old, zh) if x], [en])


def _col(df: pd.DataFrame) -> Callable[[str], int]:
    """Position of a (unique) column, as ``DataFrame.iat`` wants it."""
    return lambda name: int(df.columns.get_loc(name))  # type: ignore[arg-type]


def _dist_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in metres between two lon/lat points (equirectangular; fine at city scale)."""
    k = math.pi / 180.0
    x = (b[0] - a[0]) * k * math.cos((a[1] + b[1]) * k / 2)
    y = (b[1] - a[1]) * k
    return 6_371_000.0 * math.hypot(x, y)


# --------------------------------------------------------------------------- text
def address_in_sentence(sentence: object, name: object = "") -> str:
    """The street address a sentence gives for a facility, or ``''``.

    Takes "X路Y号" after a cue (位于, 坐落于, 地址, 设在 ...) or in brackets
    right after the name (``长白社区文化活动中心（靖宇东路270号）``); with
    several, the one nearest after ``name``.

    >>> address_in_sentence("新建的睦邻中心位于国和路1000号，明年开放。")
    '国和路1000号'
    """
    s, nm = nfkc(sentence), nfkc(name)
    if not s:
        return ""
    at = s.find(nm) if nm else -1
    found = []
    for m in _ADDRESS.finditer(s):
        before = s[max(0, m.start() - 4):m.start()]
        text = m.group(0)
        # the lazy street part may have swallowed the cue (在国和路 ...): cut at the last cue word
        cut = max((text.rfind(c) + len(c) for c in ("位于", "坐落于", "地处", "地址", "设在", "在")
                   if c in text[:-2]), default=0)
        text = text[cut:].lstrip("为是：:")
        cued = cut > 0 or bool(_ADDRESS_CUE.search(before)) or before.endswith(("（", "("))
        if cued and len(text) >= 4:
            found.append((m.start(), text))
    if not found:
        return ""
    if at >= 0:
        after = [f for f in found if f[0] >= at]
        return (after or found)[0][1]
    return found[0][1]


def relative_anchors(sentence: object, name: object = "") -> list[tuple[str, str, int]]:
    """Possible anchors of a relative place in a sentence: ``(text before the anchor word, relation, position)``.

    ``text`` ends with the anchor word (公园, 绿地, 小区 ...) and reaches back
    to the previous punctuation; the caller looks up its suffixes among OSM
    names. Area words (公园, 广场 ...) need a relation (内, 旁, 附近 ...); home
    words (小区, 新村 ...) do not.
    """
    s, nm = nfkc(sentence), nfkc(name)
    out = []
    for kw in _AREA_KW + _HOME_KW:
        for m in re.finditer(re.escape(kw), s):
            end = m.end()
            rel = _RELATION.match(s[end:])
            if kw in _AREA_KW and not rel:
                continue
            if nm and s[max(0, end - len(nm)):end] == nm and not rel:
                continue  # the mention itself ("X新村" as the facility name)
            start = end
            while start > 0 and not _STOP.match(s[start - 1]) and end - start < 20:
                start -= 1
            out.append((s[start:end], rel.group(0) if rel else "", end))
    return out


# --------------------------------------------------------------------------- geocoded tables
def ensure_place_columns(geocoded: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``provider``, ``match_confidence``, ``address``; OSM matches get ``osm`` and score/100."""
    out = geocoded.copy()
    if "provider" not in out.columns:
        out["provider"] = ""
    if "match_confidence" not in out.columns:
        out["match_confidence"] = np.nan
    if "address" not in out.columns:
        out["address"] = ""
    out["provider"] = out["provider"].astype(object).where(out["provider"].notna(), "").astype(str)
    out["address"] = out["address"].astype(object).where(out["address"].notna(), "").astype(str)
    out["match_confidence"] = pd.to_numeric(out["match_confidence"], errors="coerce")
    has_id = ~out["osm_id"].astype(str).isin(["", "nan", "None"])
    osm = out["match_status"].isin(["matched", "ambiguous"]) & out["provider"].eq("") & has_id
    out.loc[osm, "provider"] = "osm"
    score = pd.to_numeric(out["match_score"], errors="coerce") if "match_score" in out.columns \
        else pd.Series(np.nan, index=out.index)
    fill = osm & out["match_confidence"].isna()
    out.loc[fill, "match_confidence"] = (score[fill] / 100.0).round(3)
    for c in ("reason", "candidates", "osm_name", "osm_id", "osm_type", "match_status"):
        if c in out.columns:
            out[c] = out[c].astype(object)
    return out


def _judge(places: list[Place], min_confidence: float, margin: float, distinct_m: float
           ) -> tuple[str, list[Place]]:
    """``matched`` / ``ambiguous`` / ``unmatched`` for a provider's answers, with the places that decided it."""
    if not places:
        return "none", []
    ranked = sorted(places, key=lambda p: -p.confidence)
    good = [p for p in ranked if p.confidence >= min_confidence]
    if not good:
        return "low", ranked[:1]
    distinct: list[Place] = []
    for p in good:
        if all(_dist_m((p.lon, p.lat), (d.lon, d.lat)) > distinct_m for d in distinct):
            distinct.append(p)
    close = [p for p in distinct[1:] if distinct[0].confidence - p.confidence <= margin]
    return ("ambiguous", [distinct[0], *close]) if close else ("matched", distinct[:1])


def locate_with_provider(geocoded: pd.DataFrame, provider: Provider | None, *, min_confidence: float = 0.85,
                         ambiguous_margin: float = 0.05, distinct_m: float = 300.0) -> pd.DataFrame:
    """Look the ``unmatched`` rows of a geocoded table up with an online provider.

    Parameters
    ----------
    geocoded : DataFrame
        The output of :func:`geo.geocode.geocode_mentions`.
    provider : Provider or None
        From :func:`geo.providers.make_provider`. ``None``: nothing is called;
        rows whose sentence gives an address say that a key would locate them.
    min_confidence : float
        Lowest confidence (0-1) of a match.
    ambiguous_margin, distinct_m : float
        Two answers more than ``distinct_m`` apart within ``ambiguous_margin``
        of each other make the row ``ambiguous``.

    Returns
    -------
    DataFrame
        The table with rows placed by the provider (``matched``, ``provider``,
        ``match_confidence``, ``lon``/``lat`` in WGS-84), ``ambiguous`` rows
        listing the provider's candidates, and reasons for the rest. When the
        provider fails (no internet, key refused, quota used up) the remaining
        rows are not looked up, their reason says why, and
        ``attrs["provider_error"]`` holds the one-line message.
    """
    out = ensure_place_columns(geocoded)
    out.attrs = dict(geocoded.attrs)
    col = _col(out)
    error: ProviderError | None = None
    pz, pe = provider.label if provider else ("", "")
    for i, row in enumerate(out.to_dict("records")):
        if row["match_status"] not in ("unmatched", "not_applicable"):
            continue
        name = nfkc(row.get("name"))
        addr = address_in_sentence(row.get("sentence", ""), name)
        try:
            count = float(row.get("count"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            count = float("nan")
        count = 1.0 if math.isnan(count) else count
        if row["match_status"] == "not_applicable" and not (addr and count <= 1):
            continue  # a counted mention is placed only when it is one facility at a given address
        if addr:
            out.iat[i, col("address")] = addr
        planned = row.get("status") == "planned"
        if not name and not addr:
            continue
        if provider is None:
            if addr:
                out.iat[i, col("reason")] = _add_reason(
                    row["reason"], f"原文有地址“{addr}”，未提供天地图/高德密钥，未按地址定位",
                    f"the text gives the address {addr}; no Tianditu/Amap key given, so it was not located")
            continue
        if planned and not addr:
            out.iat[i, col("reason")] = _add_reason(row["reason"], f"规划设施无地址，未在{pz}按名称查找",
                                                    f"planned facility without an address: not looked up by name on {pe}")
            continue
        if error is not None:
            out.iat[i, col("reason")] = _add_reason(row["reason"], f"未在线查询：{error.zh}", f"not looked up online: {error.en}")
            continue
        district = nfkc(row.get("district"))
        if addr and district and not re.search(r"[区县]", addr):
            addr = district + addr  # 江川路 is in one district, not every one
        query = addr or name
        try:
            places = provider.geocode_address(addr) if addr else provider.search(name, district=district)
        except ProviderError as exc:
            error = exc
            out.iat[i, col("reason")] = _add_reason(row["reason"], f"未在线查询：{exc.zh}", f"not looked up online: {exc.en}")
            continue
        verdict, top = _judge(places, min_confidence, ambiguous_margin, distinct_m)
        what_zh, what_en = ("地址", "address") if addr else ("名称", "name")
        if verdict == "none":
            out.iat[i, col("reason")] = _add_reason(row["reason"], f"{pz}也未找到{what_zh}“{query}”",
                                                    f"{pe} found no place for the {what_en} '{query}' either")
            continue
        best = top[0]
        label = best.name or best.address
        if verdict == "low":
            out.iat[i, col("reason")] = _add_reason(
                row["reason"], f"{pz}最接近的“{label}”置信度 {best.confidence:.2f}，不足以匹配",
                f"{pe}'s nearest answer '{label}' has confidence {best.confidence:.2f}, too low to match")
            continue
        out.iat[i, col("provider")] = provider.name
        out.iat[i, col("match_confidence")] = best.confidence
        out.iat[i, col("match_score")] = round(best.confidence * 100.0, 1)
        if verdict == "ambiguous":
            out.iat[i, col("match_status")] = "ambiguous"
            out.iat[i, col("candidates")] = "; ".join(
                f"{p.name or p.address} ({p.provider}:{p.ref or f'{p.lon:.5f},{p.lat:.5f}'}, {p.confidence:.2f})"
                for p in top[:3])
            out.iat[i, col("reason")] = bilingual_reason([f"{pz}有 {len(top)} 处相近结果，请人工确认"],
                                            [f"{pe} gives {len(top)} similar places; confirm by hand"])
            continue
        out.iat[i, col("match_status")] = "matched"
        out.iat[i, col("lon")], out.iat[i, col("lat")] = best.lon, best.lat
        out.iat[i, col("osm_id")], out.iat[i, col("osm_type")] = "", ""
        out.iat[i, col("osm_name")] = label
        out.iat[i, col("candidates")] = ""
        out.iat[i, col("reason")] = bilingual_reason(
            [f"{pz}按{what_zh}“{query}”找到“{label}”（置信度 {best.confidence:.2f}）", "已转换为 WGS-84"],
            [f"{pe} found '{label}' for the {what_en} '{query}' (confidence {best.confidence:.2f})", "converted to WGS-84"])
    if error is not None:
        out.attrs["provider_error"] = warn(error.zh, error.en)
    return out


def _clause(sentence: str, at: int) -> tuple[int, int]:
    """Start and end of the clause (between 。；！？) around position ``at``; the whole sentence when ``at < 0``."""
    if at < 0:
        return 0, len(sentence)
    starts = [m.end() for m in _CLAUSE.finditer(sentence, 0, at)]
    end = _CLAUSE.search(sentence, at)
    return (starts[-1] if starts else 0), (end.start() if end else len(sentence))


def _name_index(candidates: gpd.GeoDataFrame) -> dict[str, list[int]]:
    from .geocode import NAME_TAGS, normalize_name

    index: dict[str, list[int]] = {}
    tags = [t for t in NAME_TAGS if t in candidates.columns]
    for i, row in enumerate(candidates[tags].itertuples(index=False)):
        for v in dict.fromkeys(x for x in row if isinstance(x, str) and x):
            index.setdefault(normalize_name(v)[0], []).append(i)
    return index


def resolve_relative(geocoded: pd.DataFrame, candidates: gpd.GeoDataFrame, *, same_place_m: float = 500.0
                     ) -> pd.DataFrame:
    """Place still-``unmatched`` rows near a named place their sentence puts them in or beside, ``approximate``.

    "X公园内/旁/附近", "X小区" (:func:`relative_anchors`) is looked up among the
    OSM candidates by exact normalised name (the longest suffix of the text
    before the anchor word that is an OSM name). A hit sets ``match_status``
    to ``approximate`` with the anchor's location, OSM id and name; the row is
    never ``matched`` and never becomes a facility until the planner confirms it.
    Anchors with several distinct places of that name are not used.
    """
    from .geocode import normalize_name

    out = ensure_place_columns(geocoded)
    out.attrs = dict(geocoded.attrs)
    todo = [i for i, s in enumerate(out["match_status"]) if s == "unmatched"]
    if not todo or candidates is None or not len(candidates):
        return out
    cands = candidates.reset_index(drop=True)
    index = _name_index(cands)
    rep = cands.geometry.representative_point()
    col = _col(out)
    for i in todo:
        row = out.iloc[i]
        name = nfkc(row.get("name"))
        own = normalize_name(name)[0] if name else ""
        sentence = nfkc(row.get("sentence"))
        at = sentence.find(name) if name else -1
        lo, hi = _clause(sentence, at)
        best = None  # (distance to the name in the sentence, -length, anchor, relation, rows)
        for text, rel, end in relative_anchors(sentence, name):
            if not lo <= end <= hi:
                continue  # another clause speaks of another facility
            for k in range(len(text) - 2):
                suffix = text[k:]
                # "长白二村小区": OSM often names the estate without the word 小区
                forms = [suffix] + ([suffix[:-2]] if suffix.endswith("小区") and len(suffix) > 4 else [])
                # a distinctive name only: 健身苑 or 社区公园 alone (short form '') is no place
                key = next((f for f, short in map(normalize_name, forms) if short and f != own and f in index), None)
                if key is None:
                    continue
                d = abs(end - at) if at >= 0 else 0
                cand = (d, -len(suffix), suffix, rel, index[key])
                if best is None or cand[:2] < best[:2]:
                    best = cand
                break  # the longest suffix that is a name
        if best is None:
            continue
        _, _, anchor, rel, rows = best
        pts = [(float(rep.iat[r].x), float(rep.iat[r].y)) for r in dict.fromkeys(rows)]
        if any(_dist_m(pts[0], p) > same_place_m for p in pts[1:]):
            out.iat[i, col("reason")] = _add_reason(
                row["reason"], f"原文提到“{anchor}{rel}”，但 OSM 中有多处同名，未定位",
                f"the text says {anchor}{rel}, but OSM has several places of that name")
            continue
        r = rows[0]
        out.iat[i, col("match_status")] = "approximate"
        out.iat[i, col("lon")], out.iat[i, col("lat")] = pts[0]
        out.iat[i, col("osm_id")] = str(cands["osm_id"].iat[r])
        out.iat[i, col("osm_type")] = str(cands["osm_type"].iat[r]) if "osm_type" in cands.columns else ""
        out.iat[i, col("osm_name")] = str(cands["name"].iat[r])
        out.iat[i, col("provider")] = "osm"
        out.iat[i, col("match_confidence")] = np.nan
        out.iat[i, col("reason")] = bilingual_reason(
            [f"原文说在“{anchor}{rel}”，按 OSM 中的“{cands['name'].iat[r]}”给出近似位置，请在地图上确认"],
            [(f"the text places it at '{anchor}{rel}'; approximate location of OSM '{cands['name'].iat[r]}', "
              "confirm it on the map")])
    return out


def place_beyond_osm(geocoded: pd.DataFrame, candidates: gpd.GeoDataFrame | None,
                     provider: Provider | None = None) -> pd.DataFrame:
    """The hook after OSM name matching: :func:`locate_with_provider`, then :func:`resolve_relative`."""
    return resolve_relative(locate_with_provider(geocoded, provider), candidates)


# --------------------------------------------------------------------------- official lists
UNLOCATED_COLUMNS = ["facility_id", "name", "category", "address", "reason"]
_ADDRESS_NAMES = ("address", "official_address", "地址", "详细地址", "设施地址", "addr", "位置")


def locate_official(path: str | Path, provider: Provider | None = None, *, datum: str = "wgs84",
                    min_confidence: float = 0.8, lang: str = "zh") -> gpd.GeoDataFrame:
    """An official facility list in the Facilities schema, rows without coordinates located by their address.

    Rows with coordinates are read as :func:`geo.facilities.read_facility_table`
    reads them. Rows without coordinates but with an address (``address``,
    ``official_address``, ``地址`` ...) are looked up with ``provider``; the ones
    that stay unlocated (no key, no answer, too uncertain, provider failed) are
    listed, their reason in ``lang``, in ``attrs["unlocated"]`` (:data:`UNLOCATED_COLUMNS`), and the
    warnings (``attrs["warnings"]``) say how many and why.
    """
    from .facilities import (
        CATEGORY_NAMES,
        ID_NAMES,
        LAT_NAMES,
        LON_NAMES,
        NAME_NAMES,
        category_lookup,
        find_column,
        norm_key,
        normalize_facilities,
        parse_coordinates,
        read_facility_table,
        read_table,
    )

    p = Path(path)
    fac = read_facility_table(p, datum=datum)
    raw = read_table(p, None)
    cols = [c for c in raw.columns if c != "geometry"]
    xcol = find_column(cols, LON_NAMES, fuzzy=r"lon|lng|经度")
    ycol = find_column(cols, LAT_NAMES, fuzzy=r"lat|纬度")
    acol = find_column(cols, _ADDRESS_NAMES, fuzzy=r"address|地址")
    if xcol is None or ycol is None:
        return fac
    no_xy = ~(np.isfinite(parse_coordinates(raw[xcol])) & np.isfinite(parse_coordinates(raw[ycol])))
    if not no_xy.any():
        return fac
    zh = lang == "zh"
    ncol, ccol, icol = find_column(cols, NAME_NAMES), find_column(cols, CATEGORY_NAMES, fuzzy=r"categor|类别|类型"), \
        find_column(cols, ID_NAMES)
    lookup = category_lookup()
    located, unlocated, unlocated_why = [], [], []
    error: ProviderError | None = None
    for k in np.flatnonzero(no_xy):
        r = raw.iloc[k]
        name = nfkc(r[ncol]) if ncol else ""
        addr = nfkc(r[acol]) if acol else ""
        why = None
        place = None
        if not addr:
            why = ("没有坐标也没有地址", "no coordinates and no address")
        elif provider is None:
            why = ("没有坐标；未提供天地图/高德密钥，未按地址定位", "no coordinates; no Tianditu/Amap key given to locate the address")
        elif error is not None:
            why = (f"未在线查询：{error.zh}", f"not looked up online: {error.en}")
        else:
            try:
                verdict, top = _judge(provider.geocode_address(addr), min_confidence, 0.05, 300.0)
            except ProviderError as exc:
                error, verdict, top = exc, "error", []
                why = (f"未在线查询：{exc.zh}", f"not looked up online: {exc.en}")
            if verdict == "matched":
                place = top[0]
            elif verdict in ("none", "low"):
                pz, pe = provider.label
                why = (f"{pz}未能可靠定位该地址", f"{pe} could not place the address reliably")
            elif verdict == "ambiguous":
                pz, pe = provider.label
                why = (f"{pz}给出多处相近位置", f"{pe} gives several similar places")
        category = lookup.get(norm_key(nfkc(r[ccol])), "") if ccol else ""
        rid = nfkc(r[icol]) if icol else ""
        fid = rid if re.match(r"^[a-z]+:", rid) else f"official:{rid or f'{p.stem}:{k + 2}'}"
        if place is None or provider is None:
            why = why or ("未定位", "not located")
            unlocated.append({"facility_id": fid, "name": name, "category": category, "address": addr,
                              "reason": why[0] if zh else why[1]})
            unlocated_why.append(why)
            continue
        located.append({
            "facility_id": fid,
            "name": name, "category": category,
            "status": "existing", "source": "official",
            "source_detail": f"{p.name} {provider.name} address={addr} confidence={place.confidence:.2f}",
            "geometry": shapely.Point(place.lon, place.lat)})
    # read_facility_table's "rows without coordinates skipped" is replaced by what became of them
    warnings = [w for w in fac.attrs.get("warnings", []) if "without coordinates" not in Message.coerce(w).en]
    if located and provider is not None:
        pz, pe = provider.label
        warnings.append(warn(f"{p.name}：{len(located)} 行没有坐标，已按地址由{pz}定位（WGS-84）。",
                             f"{p.name}: {len(located)} rows without coordinates were located by address with {pe} "
                             "(WGS-84)."))
    if unlocated:
        first, (wz, we) = unlocated[0], unlocated_why[0]
        warnings.append(warn(f"{p.name}：{len(unlocated)} 行未定位，例如“{first['name']}”：{wz}。",
                             f"{p.name}: {len(unlocated)} rows not located, e.g. '{first['name']}': {we}."))
    out = fac
    if located:
        extra = normalize_facilities(gpd.GeoDataFrame(located, geometry="geometry", crs=WGS84))
        out = normalize_facilities(pd.concat([fac, extra], ignore_index=True))
    out.attrs = {**fac.attrs, "warnings": warnings, "located_by_address": len(located),
                 "unlocated": pd.DataFrame(unlocated, columns=UNLOCATED_COLUMNS)}
    if error is not None:
        out.attrs["provider_error"] = warn(error.zh, error.en)
    return out


def located_table(facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """:func:`locate_official`'s result as one table: facilities with WGS-84 ``lon``/``lat``, then the
    unlocated rows with empty coordinates and their ``reason`` (a facility list ``read_facility_table`` reads)."""
    pts = facilities.geometry.representative_point()
    table = pd.DataFrame(facilities.drop(columns="geometry")).assign(lon=pts.x.round(7), lat=pts.y.round(7), reason="")
    missing = facilities.attrs.get("unlocated", pd.DataFrame(columns=UNLOCATED_COLUMNS))
    return pd.concat([table, missing.assign(status="existing", source="official", lon=np.nan, lat=np.nan)],
                     ignore_index=True)


def cli_locate(args) -> int:
    """``lifecircle locate table.csv [--datum D] [--provider P] -o located.csv``.

    Writes every row (UTF-8 with BOM, WGS-84 ``lon``/``lat``): the located
    facilities, then the unlocated rows with empty coordinates and their
    ``reason``; ``lifecircle coverage --facilities`` reads it (and skips those).
    """
    from .io import atomic_file, to_csv_bom
    from .providers import provider_from_env

    out = Path(args.output)
    if out.suffix.lower() != ".csv":
        raise InputError("输出文件须为 .csv。", "the output must be a .csv file.", out)
    lang = getattr(args, "lang", "zh")
    provider = provider_from_env(getattr(args, "provider", None))  # before reading: a missing key stops here
    fac = locate_official(args.table, provider, datum=args.datum, lang=lang)
    missing = fac.attrs.get("unlocated", pd.DataFrame(columns=UNLOCATED_COLUMNS))
    with atomic_file(out) as tmp:
        to_csv_bom(located_table(fac), tmp)
    for w in [fac.attrs.get("provider_error"), *fac.attrs.get("warnings", [])]:
        if w:
            print(t("cli_warning", lang) + Message.coerce(w).text(lang), file=sys.stderr)
    n_addr = fac.attrs.get("located_by_address", 0)
    print(t("cli_locate_summary", lang, n=len(fac), by_address=n_addr, missing=len(missing), out=out))
    return 0
