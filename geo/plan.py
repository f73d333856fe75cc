"""The plan as a scenario: siting requests from the texts, proposals, and coverage before and after the plan.

The texts name a plan's facilities in two ways (:mod:`geo.texts`): *counted*
("殷行街道新增5个助餐点": canteen, 5, 殷行街道) and *named* ("C-04地块社区服务综合体").
Planned counted mentions have no place at all, and planned named ones rarely
geocode (they do not exist yet). :func:`siting_requests` turns both into siting
requests and :func:`run_plan` answers them with :func:`geo.siting.site`:

- a counted mention whose 街道 lies in the study area gets ``count`` sites there;
- a counted mention with no 街道 (a district-wide count) is sited across the
  whole study area, and says so;
- a mention for a 街道 (or district) outside the study area is listed with the
  reason ("prepare that area to site it");
- a named planned facility that did not geocode gets one proposed site in its
  街道 (across the area without one), flagged as a proposal, never as a match.

Requests of one category are answered in order, each against the existing and
geocoded planned facilities plus the proposals made so far, so two requests
never propose the same gap twice.

Scenarios: *before* is what stands (:data:`geo.categories.SCENARIO_STATUSES`);
*after* adds the geocoded planned facilities and the proposals the planner kept.
A proposal's state (proposed / accepted / moved / dropped, and the moved
coordinates) lives in the planner's workspace (``proposal_states.csv``), written
atomically with the previous version kept, and is re-applied on every run.
Which proposals the after scenario counts is a rule of :data:`AFTER_RULES`,
named in every output (``plan.csv`` column ``after_counts``, ``params.json``
``after_counts``): ``lifecircle plan`` counts every proposal not dropped
(``all``, the default) or, with ``--after accepted``, only the accepted and
moved ones, as a study's ``siting`` facility layer (:func:`read_siting_layer`,
what the app shows as 规划后) always does (:data:`STUDY_AFTER_RULE`).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import facilities as fac
from .categories import CATEGORIES, CATEGORY_KEYS, SCENARIO_STATUSES, label
from .coverage import CoverageResult, compute_distances, summarize
from .errors import InputError, LifecircleError, Message
from .i18n import column_label, t
from .io import as_wgs84, gpkg_safe, to_csv_bom

__all__ = [
    "AFTER_RULES",
    "COUNTING_STATES",
    "STUDY_AFTER_RULE",
    "after_rule_text",
    "PLAN_FILES",
    "PLAN_STATUSES",
    "PROPOSAL_STATES",
    "STATE_COLUMNS",
    "PlanResult",
    "apply_states",
    "cli_plan",
    "lscp_reference",
    "plan_table",
    "proposal_facilities",
    "read_proposal_states",
    "read_proposals",
    "read_siting_layer",
    "run_plan",
    "save_proposal_state",
    "siting_requests",
    "write_proposals",
]

WGS84 = "EPSG:4326"
#: Statuses a plan adds: what the after scenario has and the before scenario has not (building, planned).
PLAN_STATUSES: tuple[str, ...] = tuple(s for s in SCENARIO_STATUSES["after"] if s not in SCENARIO_STATUSES["before"])
#: A proposal's state: (zh, en).
PROPOSAL_STATES: dict[str, tuple[str, str]] = {
    "proposed": ("建议", "proposed"),
    "accepted": ("已采纳", "accepted"),
    "moved": ("已移动", "moved"),
    "dropped": ("已放弃", "dropped"),
}
#: Which proposals count in the after scenario, by rule: ``all`` (every one not dropped: ``lifecircle plan``'s
#: default) or ``accepted`` (the ones the planner accepted or moved). The one place of that rule.
AFTER_RULES: dict[str, tuple[str, ...]] = {"all": ("proposed", "accepted", "moved"), "accepted": ("accepted", "moved")}
#: The rule of a study's ``siting`` layer: the app's 规划后 and its exports (``lifecircle plan --after accepted``).
STUDY_AFTER_RULE = "accepted"
#: States that count in a study's after scenario (the planner kept them).
COUNTING_STATES: tuple[str, ...] = AFTER_RULES[STUDY_AFTER_RULE]
STATE_COLUMNS = ["proposal_id", "state", "lon", "lat", "note"]
PLAN_FILES = ("plan.csv", "sites.csv", "sites.gpkg", "requests.csv", "params.json", "plan.xlsx", "plan.pdf")
#: How a request was placed: (zh, en).
SCOPES: dict[str, tuple[str, str]] = {
    "subdistrict": ("本街道", "in its 街道"),
    "area": ("全区（未指明街道）：在整个研究区内选址", "district-wide (no 街道 named): sited across the whole study area"),
    "outside": ("研究区外", "outside the study area"),
}
REQUEST_COLUMNS = ["mention_key", "request", "category", "count", "name", "district", "subdistrict", "scope",
                   "scope_subdistrict", "outcome", "proposed", "note", "source", "sentence"]


def _text(v: object) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return unicodedata.normalize("NFKC", str(v)).strip()


def _place_key(name: str) -> str:
    """A 街道 or district name without its suffix, for matching (延吉新村街道 ~ 延吉新村)."""
    s = _text(name)
    for suffix in ("街道办事处", "街道", "新区", "镇", "区"):
        if s.endswith(suffix) and len(s) > len(suffix):
            return s[: -len(suffix)]
    return s


# --------------------------------------------------------------------------- requests
def _counted(df: pd.DataFrame) -> pd.Series:
    if "mention_type" in df.columns:
        return df["mention_type"].astype(str).eq("counted")
    count = df["count"] if "count" in df.columns else pd.Series(np.nan, index=df.index)
    return df["name"].map(_text).eq("") & pd.to_numeric(count, errors="coerce").notna()


def _named(df: pd.DataFrame) -> pd.Series:
    if "mention_type" in df.columns:
        return df["mention_type"].astype(str).eq("named")
    return df["name"].map(_text).ne("")


def siting_requests(geocoded: pd.DataFrame, boundaries: gpd.GeoDataFrame | None, lang: str = "zh") -> pd.DataFrame:
    """Every counted planned mention, and every named planned one that did not geocode, as a siting request.

    Parameters
    ----------
    geocoded : DataFrame
        :func:`geo.geocode.geocode_mentions` output (``mention_key``, ``match_status``,
        ``name, category, status, count, district, subdistrict, source, sentence``;
        ``mention_type`` when it came from ``lifecircle extract``).
    boundaries : GeoDataFrame or None
        The study area's ``subdistrict`` (and ``district``) polygons.

    Returns
    -------
    DataFrame
        :data:`REQUEST_COLUMNS`; ``scope`` is ``subdistrict`` (``scope_subdistrict``
        names the area's 街道), ``area`` (no 街道 named: the whole study area) or
        ``outside`` (``note`` says why). ``outcome`` is filled by :func:`run_plan`.
    """
    zh = lang == "zh"
    df = geocoded.reset_index(drop=True)
    status = df["status"].map(_text)
    planned = status.isin(PLAN_STATUSES)
    count = pd.to_numeric(df["count"], errors="coerce") if "count" in df.columns else pd.Series(np.nan, index=df.index)
    matched = df["match_status"].isin(["matched", "manual"]) if "match_status" in df.columns \
        else pd.Series(False, index=df.index)
    known = df["category"].map(_text).isin(CATEGORIES)
    counted = planned & known & _counted(df) & (count >= 1)
    named = planned & known & _named(df) & ~matched
    subs = {} if boundaries is None or not len(boundaries) else \
        {_place_key(s): str(s) for s in boundaries["subdistrict"]}
    districts = set() if boundaries is None or "district" not in boundaries.columns else \
        {_place_key(d) for d in boundaries["district"] if _text(d)}
    rows = []
    for i in np.flatnonzero(counted | named):
        r = df.iloc[i]
        sub, dist = _text(r.get("subdistrict")), _text(r.get("district"))
        if sub:
            inside = subs.get(_place_key(sub))
            scope = "subdistrict" if inside else "outside"
            note = "" if inside else t("plan_outside_subdistrict", lang, place=sub)
        elif dist and districts and _place_key(dist) not in districts:
            inside, scope = None, "outside"
            note = t("plan_outside_district", lang, place=dist)
        else:
            inside, scope = None, "area"
            note = SCOPES["area"][0 if zh else 1]
        is_counted = bool(counted.iloc[i])
        rows.append({"mention_key": _text(r.get("mention_key")), "request": "counted" if is_counted else "named",
                     "category": _text(r["category"]), "count": int(count.iloc[i]) if is_counted else 1,
                     "name": _text(r.get("name")), "district": dist, "subdistrict": sub, "scope": scope,
                     "scope_subdistrict": inside or "", "outcome": "", "proposed": 0, "note": note,
                     "source": _text(r.get("source")), "sentence": _text(r.get("sentence"))})
    return pd.DataFrame(rows, columns=REQUEST_COLUMNS)


# --------------------------------------------------------------------------- proposal states (the workspace)
def read_proposal_states(path: str | Path | None) -> pd.DataFrame:
    """The planner's decisions (:data:`STATE_COLUMNS`, one row per proposal; empty when there is no file)."""
    from .workspace import read_csv_text

    p = Path(path) if path else None
    if p is None or not p.is_file() or not p.stat().st_size:
        return pd.DataFrame(columns=STATE_COLUMNS)
    raw = read_csv_text(p)
    if "proposal_id" not in raw.columns or "state" not in raw.columns:
        raise InputError("选址决定文件缺少 proposal_id 或 state 列。", "the proposal states file has no proposal_id or state column.", p)
    out = raw.reindex(columns=STATE_COLUMNS)
    out["proposal_id"] = out["proposal_id"].map(_text)
    out["state"] = out["state"].map(_text)
    out = out[out["proposal_id"].ne("") & out["state"].isin(PROPOSAL_STATES)]
    for c in ("lon", "lat"):
        out[c] = pd.to_numeric(out[c], errors="coerce")
    return out.drop_duplicates("proposal_id", keep="last").reset_index(drop=True)


def save_proposal_state(path: str | Path, proposal_id: str, state: str, *, lon: float | None = None,
                        lat: float | None = None, note: str = "") -> pd.DataFrame:
    """Record the planner's decision on one proposal (atomic write, previous version kept); returns every state.

    ``moved`` needs ``lon``/``lat`` (WGS-84, inside China).

    Raises
    ------
    InputError
        Unknown state, a move without coordinates or outside China.
    """
    from .coords import in_china
    from .workspace import write_keeping_previous

    p = Path(path)
    if state not in PROPOSAL_STATES:
        raise InputError(f"未知的选址状态“{state}”（可用：{', '.join(PROPOSAL_STATES)}）。",
                         f"unknown proposal state {state!r} (use {', '.join(PROPOSAL_STATES)}).", p)
    x = np.nan if lon is None else float(lon)
    y = np.nan if lat is None else float(lat)
    if state == "moved" and not (np.isfinite(x) and np.isfinite(y)):
        raise InputError("移动选址需要新的经纬度。", "moving a proposal needs its new longitude and latitude.", p)
    if np.isfinite(x) and not bool(in_china(np.array([x]), np.array([y]))[0]):
        raise InputError(f"坐标不在中国范围内（{x}, {y}）。", f"coordinates outside China ({x}, {y}).", p)
    states = read_proposal_states(p)
    states = states[states["proposal_id"] != _text(proposal_id)]
    row = pd.DataFrame([{"proposal_id": _text(proposal_id), "state": state, "lon": x, "lat": y, "note": _text(note)}])
    states = pd.concat([states.astype(object), row.astype(object)], ignore_index=True)[STATE_COLUMNS]
    p.parent.mkdir(parents=True, exist_ok=True)
    write_keeping_previous(p, lambda tmp: to_csv_bom(states, tmp))
    return read_proposal_states(p)


def apply_states(proposals: gpd.GeoDataFrame, states: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """Proposals with the planner's decisions applied: ``state`` set, moved ones at their new place."""
    out = proposals.copy()
    if "state" not in out.columns:
        out["state"] = "proposed"
    if states is None or not len(states) or not len(out):
        return out
    out["lon"] = pd.to_numeric(out["lon"], errors="coerce").astype(float)
    out["lat"] = pd.to_numeric(out["lat"], errors="coerce").astype(float)
    by_id = states.set_index("proposal_id")
    for i, pid in zip(out.index, out["proposal_id"]):
        if pid not in by_id.index:
            continue
        s = by_id.loc[pid]
        out.at[i, "state"] = s["state"]
        if s["state"] == "moved" and np.isfinite(s["lon"]) and np.isfinite(s["lat"]):
            out.at[i, "lon"], out.at[i, "lat"] = float(s["lon"]), float(s["lat"])
            out.loc[[i], "geometry"] = gpd.GeoSeries([shapely.Point(float(s["lon"]), float(s["lat"]))],
                                                      index=[i], crs=out.crs)
    return out


def after_rule_text(rule: str, lang: str | None = None) -> str:
    """The states a rule of :data:`AFTER_RULES` counts: ``proposed+accepted+moved`` (the files' value), or in ``lang``
    (``建议+已采纳+已移动``) for people."""
    if lang is None:
        return "+".join(AFTER_RULES[rule])
    return "+".join(PROPOSAL_STATES[s][lang != "zh"] for s in AFTER_RULES[rule])


def proposal_facilities(proposals: gpd.GeoDataFrame, states: tuple[str, ...] = COUNTING_STATES) -> gpd.GeoDataFrame:
    """The proposals in ``states`` as Facilities rows (``source = siting``, ``status = planned``)."""
    keep = proposals[proposals["state"].isin(states)] if len(proposals) else proposals
    if not len(keep):
        return fac.empty_facilities()
    return fac.normalize_facilities(gpd.GeoDataFrame(keep[fac.FACILITY_COLUMNS[:-1]], geometry=keep.geometry.values,
                                                     crs=proposals.crs))


def write_proposals(proposals: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write proposals as a CSV with lon/lat (UTF-8 with BOM), atomically keeping the previous version."""
    from .workspace import write_keeping_previous

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(proposals.drop(columns=proposals.geometry.name))
    return write_keeping_previous(p, lambda tmp: to_csv_bom(table, tmp))


def read_proposals(path: str | Path, states_path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Proposals written by :func:`write_proposals`, with the planner's states re-applied."""
    from .io import require_file
    from .workspace import read_csv_text

    p = require_file(path)
    t = read_csv_text(p)
    need = {"proposal_id", "category", "lon", "lat"}
    if not need <= set(t.columns):
        raise InputError(f"这不是选址建议表（缺少 {', '.join(sorted(need - set(t.columns)))} 列）。",
                         f"not a proposals table (missing {', '.join(sorted(need - set(t.columns)))}).", p)
    x = pd.to_numeric(t["lon"], errors="coerce").to_numpy(float)
    y = pd.to_numeric(t["lat"], errors="coerce").to_numpy(float)
    ok = np.isfinite(x) & np.isfinite(y)
    t = t[ok].reset_index(drop=True)
    t["lon"], t["lat"] = x[ok], y[ok]
    for c in ("rank", "buildings_newly_covered", "buildings_covered_total", "share_buildings_covered_total", "snap_m"):
        if c in t.columns:  # the siting figures as numbers again (the CSV reader keeps text)
            t[c] = pd.to_numeric(t[c], errors="coerce")
    for c in ("facility_id", "name", "source_detail"):
        t[c] = t[c].map(_text) if c in t.columns else ""
    t["state"] = "proposed"  # the file records proposals; decisions come from the states file only
    t["status"], t["source"] = "planned", "siting"
    g = gpd.GeoDataFrame(t, geometry=shapely.points(x[ok], y[ok]), crs=WGS84)
    return apply_states(g, read_proposal_states(states_path))


def read_siting_layer(path: str | Path, states_path: str | Path | None = None) -> gpd.GeoDataFrame:
    """A study's ``siting`` facility layer: the accepted and moved proposals as Facilities."""
    return proposal_facilities(read_proposals(path, states_path), COUNTING_STATES)


# --------------------------------------------------------------------------- running the plan
@dataclass
class PlanResult:
    """What :func:`run_plan` returns.

    Attributes
    ----------
    requests : DataFrame
        :data:`REQUEST_COLUMNS`, with ``outcome`` (``sited``, ``outside``, ``covered``,
        ``none``), ``proposed`` and ``note``.
    proposals : GeoDataFrame
        Every proposal (WGS-84): ``proposal_id, state, rank, category, subdistrict,
        scope, request, mention_key, mention_name, lon, lat, label``, the siting
        figures and the Facilities columns.
    table : DataFrame
        Per 街道 × category: before/after buildings covered and shares, gain,
        facilities added (geocoded planned + proposals), remaining uncovered,
        LSCP reference (NaN when not computed).
    before, after : CoverageResult
    params : dict
    facilities : GeoDataFrame
        The after scenario's facilities (WGS-84), proposals included.
    """

    requests: pd.DataFrame
    proposals: gpd.GeoDataFrame
    table: pd.DataFrame
    before: CoverageResult
    after: CoverageResult
    params: dict
    notes: list[str] = field(default_factory=list)
    facilities: gpd.GeoDataFrame | None = None


def _empty_proposals() -> gpd.GeoDataFrame:
    cols = ["proposal_id", "state", "rank", "category", "subdistrict", "scope", "request", "mention_key",
            "mention_name", "lon", "lat", "label", "buildings_newly_covered", "buildings_covered_total",
            "share_buildings_covered_total", "source_text", "sentence", *fac.FACILITY_COLUMNS[:-1]]
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols}, geometry=gpd.GeoSeries([], crs=WGS84),
                            crs=WGS84)


def _proposals_of(req: pd.Series, sites: gpd.GeoDataFrame, zh: bool) -> gpd.GeoDataFrame:
    out = sites.copy()
    pid = [f"{req['mention_key']}#{r}" for r in out["rank"]]
    out.insert(0, "proposal_id", pid)
    out.insert(1, "state", "proposed")
    out["scope"] = req["scope_subdistrict"] or SCOPES["area"][0 if zh else 1]
    out["request"] = req["request"]
    out["mention_key"] = req["mention_key"]
    out["mention_name"] = req["name"]
    out["source_text"] = req["source"]
    out["sentence"] = req["sentence"]
    out["facility_id"] = [f"siting:{p}" for p in pid]
    what = req["name"] or f"{label(req['category'], 'zh' if zh else 'en')} ×{req['count']}"
    out["source_detail"] = t("proposal_detail", "zh" if zh else "en", what=what, source=req["source"])
    return out


def lscp_reference(dist: Any, boundaries: gpd.GeoDataFrame, thresholds: dict[str, float],
                   categories: tuple[str, ...] = CATEGORY_KEYS, *, time_limit_s: float = 10.0,
                   lang: str = "zh") -> pd.DataFrame:
    """Fewest new facilities (set covering, LSCP) to bring every reachable building of each 街道 within the threshold.

    Candidates are street points inside the 街道; demand is its buildings not yet
    covered by ``dist``'s facilities. Returns ``subdistrict, category, lscp_sites,
    lscp_status`` (0 where everything reachable is covered).
    """
    from .siting import site

    rows = []
    for cat in categories:
        for s in boundaries["subdistrict"]:
            one = boundaries[boundaries["subdistrict"] == s]
            res = site(dist, cat, 0, boundaries=one, threshold_m=thresholds[cat], with_lscp=True,
                       time_limit_s=time_limit_s, lang=lang)
            rows.append({"subdistrict": s, "category": cat, "lscp_sites": int(res.params["lscp_sites"]),
                         "lscp_status": res.params["lscp_status"]})
    return pd.DataFrame(rows, columns=["subdistrict", "category", "lscp_sites", "lscp_status"])


def plan_table(before: CoverageResult, after: CoverageResult, proposals: gpd.GeoDataFrame,
               planned: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None,
               lscp: pd.DataFrame | None, after_rule: str = "all") -> pd.DataFrame:
    """Per 街道 × category: coverage before and after, the gain, facilities added (located planned + proposals), LSCP.

    ``proposals`` are those the after scenario counted, by ``after_rule`` (a key of
    :data:`AFTER_RULES`), which the last column ``after_counts`` names.
    """
    from .coverage import assign_subdistrict

    key = ["subdistrict", "category"]
    b = before.subdistricts[key + ["threshold_m", "buildings", "buildings_covered", "share_buildings_covered"]]
    a = after.subdistricts[key + ["buildings_covered", "share_buildings_covered"]]
    t = b.rename(columns={"buildings_covered": "buildings_covered_before", "share_buildings_covered": "share_before"}) \
        .merge(a.rename(columns={"buildings_covered": "buildings_covered_after", "share_buildings_covered": "share_after"}),
               on=key, how="left")
    t["gain"] = t["share_after"] - t["share_before"]
    t["buildings_gained"] = t["buildings_covered_after"] - t["buildings_covered_before"]
    t["buildings_uncovered_after"] = t["buildings"] - t["buildings_covered_after"]

    def per_sub(g: gpd.GeoDataFrame) -> pd.Series:
        if not len(g) or boundaries is None:
            return pd.Series(0, index=pd.MultiIndex.from_tuples([], names=key), dtype=int)
        m = as_wgs84(g).to_crs(32651)
        xy = np.column_stack([m.geometry.representative_point().x, m.geometry.representative_point().y])
        sub = assign_subdistrict(xy, boundaries.to_crs(32651))
        return pd.DataFrame({"subdistrict": sub, "category": g["category"].to_numpy()}).groupby(key).size()

    t = t.set_index(key)
    t["planned_added"] = per_sub(planned).reindex(t.index, fill_value=0)
    t["proposals_added"] = per_sub(proposals).reindex(t.index, fill_value=0)
    t["facilities_added"] = t["planned_added"] + t["proposals_added"]
    t = t.reset_index()
    if lscp is not None and len(lscp):
        t = t.merge(lscp, on=key, how="left")
    else:
        t["lscp_sites"], t["lscp_status"] = np.nan, ""
    t["after_counts"] = after_rule_text(after_rule)
    order = {c: i for i, c in enumerate(CATEGORY_KEYS)}
    return t.sort_values(["subdistrict", "category"], key=lambda s: s.map(order) if s.name == "category" else s,
                         kind="stable").reset_index(drop=True)


def run_plan(inputs: Any, study: Any, geocoded: pd.DataFrame, *, states: pd.DataFrame | None = None,
             after_rule: str = "all", with_lscp: bool = True,
             progress: Callable[[float, str], None] | None = None) -> PlanResult:
    """Answer every siting request of ``geocoded`` and compare coverage before and after the plan.

    Parameters
    ----------
    inputs : geo.study.StudyInputs
        The study area's network, boundaries, buildings and facilities.
    study : geo.study.Study
        Thresholds, walking speed, language.
    geocoded : DataFrame
        Geocoded mentions (:func:`geo.geocode.geocode_mentions`, corrections applied).
    states : DataFrame, optional
        The planner's proposal decisions (:func:`read_proposal_states`).
    after_rule : {'all', 'accepted'}
        Which proposals count in the after scenario (:data:`AFTER_RULES`): every one not dropped (the
        CLI's default) or the accepted and moved ones (a study's siting layer, the app's 规划后).
    with_lscp : bool
        Compute the set-covering reference per 街道 × category (a few seconds per category).

    Raises
    ------
    InputError
        No buildings (siting needs demand).
    """
    from .geocode import to_facilities
    from .siting import site

    progress = progress or (lambda f, m: None)
    if after_rule not in AFTER_RULES:
        raise InputError(f"未知的规划后计数规则“{after_rule}”（可用：{', '.join(AFTER_RULES)}）。",
                         f"unknown after-the-plan rule {after_rule!r} (use {', '.join(AFTER_RULES)}).")
    counting = AFTER_RULES[after_rule]
    zh = study.lang == "zh"
    if inputs.buildings is None or not len(inputs.buildings):
        raise InputError("规划方案需要居住建筑作为需求（已准备研究区的建筑或 --buildings）。",
                         "a plan needs residential buildings as demand (a prepared area with buildings, or --buildings).")
    net, boundaries, buildings = inputs.network, inputs.boundaries, inputs.buildings
    thresholds = study.thresholds_m()
    texts = to_facilities(geocoded)
    base = fac.dedupe(fac.combine(inputs.facilities, texts)) if len(texts) else inputs.facilities
    before_f = fac.filter_scenario(base, False)
    planned = base[base["status"].isin(PLAN_STATUSES)]
    requests = siting_requests(geocoded, boundaries, study.lang)
    labels = base[["name", "geometry"]]
    parts: list[gpd.GeoDataFrame] = []
    notes: list[str] = []
    cats = [c for c in CATEGORY_KEYS if c in set(requests["category"])]
    for k, cat in enumerate(cats):
        progress(0.05 + 0.5 * k / max(1, len(cats)), f"siting: {cat}")
        idx = requests.index[(requests["category"] == cat) & (requests["scope"] != "outside")]
        for i in idx:
            req = requests.loc[i]
            made = [p for p in parts if p["category"].iat[0] == cat]
            facs = pd.concat([base[base["category"] == cat]] + [proposal_facilities(p, ("proposed",)) for p in made],
                             ignore_index=True)
            dist = compute_distances(net, gpd.GeoDataFrame(facs, geometry="geometry", crs=WGS84), buildings,
                                     categories=(cat,))
            res = site(dist, cat, int(req["count"]), boundaries=boundaries, lang=study.lang,
                       subdistrict=req["scope_subdistrict"] or None, threshold_m=thresholds[cat], label_features=labels)
            said = [n.text(study.lang) for n in res.notes]
            n = len(res.sites)
            requests.at[i, "proposed"] = n
            if n:
                requests.at[i, "outcome"] = "sited"
                parts.append(_proposals_of(req, res.sites, zh))
                if n < int(req["count"]):
                    requests.at[i, "note"] = "；".join(x for x in [str(requests.at[i, "note"]), *said] if x)
            else:
                requests.at[i, "outcome"] = "covered" if res.params["buildings_uncovered"] == 0 else "none"
                requests.at[i, "note"] = "；".join(x for x in [str(requests.at[i, "note"]), *said] if x)
            notes += [f"{req['name'] or label(cat, study.lang)}: {x}" for x in said]
    requests.loc[requests["scope"] == "outside", "outcome"] = "outside"
    proposals = pd.concat(parts, ignore_index=True) if parts else _empty_proposals()
    proposals = gpd.GeoDataFrame(proposals, geometry="geometry", crs=WGS84)
    dup = proposals["proposal_id"].duplicated(keep=False)
    if dup.any():  # two counted mentions of one category in one sentence share a key: number them apart
        proposals.loc[dup, "proposal_id"] = [f"{p}.{j}" for j, p in enumerate(proposals.loc[dup, "proposal_id"])]
        proposals["facility_id"] = "siting:" + proposals["proposal_id"]
    proposals = apply_states(proposals, states)
    kept = proposal_facilities(proposals, counting)

    progress(0.6, "before the plan")
    dist_before = compute_distances(net, before_f, buildings)
    before = summarize(dist_before, boundaries, thresholds=thresholds, speed_m_per_min=study.speed)
    progress(0.75, "after the plan")
    after_f = fac.combine(base, kept) if len(kept) else base
    dist_after = compute_distances(net, after_f, buildings)
    after = summarize(dist_after, boundaries, thresholds=thresholds, speed_m_per_min=study.speed)
    lscp = None
    if with_lscp and boundaries is not None and len(boundaries):
        progress(0.85, "set covering reference")
        lscp = lscp_reference(dist_before, boundaries, thresholds, lang=study.lang)
    counted_props = proposals[proposals["state"].isin(counting)] if len(proposals) else proposals
    table = plan_table(before, after, counted_props, planned, boundaries, lscp, after_rule)
    params = {
        "scenarios": {"before": list(SCENARIO_STATUSES["before"]),
                      "after": "existing + geocoded planned + proposals in states " + ", ".join(counting)},
        "after_counts": {"rule": after_rule, "states": list(counting), "text": after_rule_text(after_rule)},
        "requests": len(requests), "requests_sited": int((requests["outcome"] == "sited").sum()),
        "requests_outside": int((requests["outcome"] == "outside").sum()),
        "proposals": len(proposals), "proposals_counted": len(counted_props),
        "planned_geocoded": len(planned), "thresholds_m": thresholds, "speed_m_per_min": study.speed,
        "study": study.to_dict(), "lscp": bool(lscp is not None),
    }
    progress(1.0, "plan done")
    return PlanResult(requests, proposals, table, before, after, params, list(dict.fromkeys(notes)), as_wgs84(after_f))


# --------------------------------------------------------------------------- CLI
def _read_plan_mentions(paths: list[str]) -> tuple[pd.DataFrame, list[LifecircleError]]:
    """Texts (.txt/.docx/.pdf, through geo.texts) or one extract/geocode CSV.

    Each text succeeds or fails on its own (:func:`geo.texts.extract_files`,
    as ``lifecircle extract`` and the app read them): the mentions of the
    readable ones and one problem per unreadable one. A single unreadable
    text, or no facility in the readable ones, raises.
    """
    from .geocode import read_mentions
    from .texts import extract_files

    if len(paths) == 1 and Path(paths[0]).suffix.lower() == ".csv":
        return read_mentions(paths[0]), []
    mentions = extract_files(paths, errors="collect")
    problems = list(mentions.attrs.pop("problems", None) or [])
    if len(problems) == 1 and len(paths) == 1:
        raise problems[0]
    if not len(mentions) and not problems:
        raise InputError("文本中没有找到设施。", "no facilities found in the texts.")
    return mentions, problems


def _workspace_of(area: str) -> Any:
    """The area's workspace, read only: never created by the CLI."""
    from .settings import workspaces_dir
    from .workspace import Workspace, safe_name

    p = Path(area).resolve()
    return Workspace(workspaces_dir(p.parent.parent) / safe_name(p.name))


def _table_for_people(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The before/after table as printed (and pasted in the README): shares in %, facilities added, LSCP."""
    tab = table[table["buildings"] > 0]

    def pct(v: float) -> str:
        return "-" if not np.isfinite(v) else f"{v * 100:.1f}"

    return pd.DataFrame({
        column_label("subdistrict", lang): tab["subdistrict"],
        t("cli_plan_category", lang): [label(c, lang) for c in tab["category"]],
        t("cli_plan_before", lang): [pct(v) for v in tab["share_before"]],
        t("cli_plan_after", lang): [pct(v) for v in tab["share_after"]],
        column_label("gain", lang): [pct(v) for v in tab["gain"]],
        t("cli_plan_added", lang): tab["facilities_added"].astype(int),
        t("cli_plan_lscp", lang): ["" if not np.isfinite(v) else f"{v:.0f}"
                                   for v in pd.to_numeric(tab["lscp_sites"], errors="coerce")],
    })


def cli_plan(args: Any) -> int:
    """``lifecircle plan``: siting requests from the texts, proposals, before/after per 街道 × category."""
    import argparse
    import sys

    from .areas import ATTRIBUTION, json_default, quiet_libraries
    from .geocode import apply_corrections, area_candidates, geocode_mentions
    from .outdir import check_not_input, check_outdir, owned_dir
    from .pipeline import study_from_args
    from .progress import stderr_progress
    from .study import load_inputs
    from .texts import print_problems

    @quiet_libraries
    def run() -> int:
        lang = getattr(args, "lang", None) or "zh"
        outdir = Path(args.outdir)
        progress = stderr_progress()
        study = study_from_args(argparse.Namespace(**{**vars(args), "threshold": getattr(args, "threshold", []),
                                                      "buildings": None, "no_planned": False, "profile": "default",
                                                      "speed": None}))
        ws = _workspace_of(study.area) if study.area else None
        check_not_input(outdir, [study.area, study.network, study.boundaries, *args.texts,
                                 *(x for layer in study.layers for x in (layer.path, layer.corrections))],
                        replaces=PLAN_FILES)
        check_outdir(outdir, "plan", PLAN_FILES, force=args.force)
        mentions, unread = _read_plan_mentions(args.texts)
        print_problems("plan", unread, lang)  # each text that could not be read: one line; the others are planned
        if not len(mentions):
            return 2
        inputs = load_inputs(study, progress=progress)
        if "match_status" not in mentions.columns:
            progress(0.02, "geocoding the mentions")
            geocoded = geocode_mentions(mentions, area_candidates(inputs.area_meta, inputs.facilities),
                                        boundaries=inputs.boundaries)
        else:
            geocoded = mentions
        if ws is not None and ws.corrections.is_file():
            geocoded = apply_corrections(geocoded, ws.corrections)
        states = read_proposal_states(ws.proposal_states) if ws is not None else None
        res = run_plan(inputs, study, geocoded, states=states, after_rule=getattr(args, "after", None) or "all",
                       with_lscp=not args.no_lscp, progress=progress)
        bad = {str(Path(e.path).resolve()) for e in unread if e.path}
        params = dict(res.params, attribution=ATTRIBUTION,
                      texts=[p for p in (str(Path(x).resolve()) for x in args.texts) if p not in bad],
                      texts_unread=[{"path": e.path, **Message(e.zh, e.en).to_dict()} for e in unread],
                      workspace=str(ws.root) if ws is not None else "", notes=res.notes,
                      warnings=[Message.coerce(w).to_dict() for w in dict.fromkeys(inputs.warnings)])
        sites = res.proposals
        with owned_dir(outdir, "plan", PLAN_FILES, force=args.force) as tmp:
            to_csv_bom(res.table, tmp / "plan.csv")
            to_csv_bom(pd.DataFrame(sites.drop(columns="geometry")), tmp / "sites.csv")
            gpkg_safe(sites).to_file(tmp / "sites.gpkg", layer="sites", engine="pyogrio")
            to_csv_bom(res.requests, tmp / "requests.csv")
            (tmp / "params.json").write_text(json.dumps(params, ensure_ascii=False, indent=1, default=json_default),
                                             encoding="utf-8")
            if args.report:
                from .report import CoverageOutputs, to_pdf, to_xlsx

                outputs = CoverageOutputs.from_plan(res, boundaries=inputs.boundaries, facilities=res.facilities)
                for kind in dict.fromkeys(args.report):
                    progress(0.95, f"plan.{kind}")
                    (to_xlsx if kind == "xlsx" else to_pdf)(outputs, tmp / f"plan.{kind}", lang)
        r = res.requests
        print(t("cli_plan_requests", lang, n=len(r), sited=(r["outcome"] == "sited").sum(), sites=len(sites),
                outside=(r["outcome"] == "outside").sum(), other=r["outcome"].isin(["covered", "none"]).sum()))
        rule = res.params["after_counts"]["rule"]
        print(t("cli_after_counts", lang, states=after_rule_text(rule, lang)))
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.unicode.east_asian_width", True):
            print(_table_for_people(res.table, lang).to_string(index=False))
        for n in res.notes:
            print(n)
        if unread:
            print(t("cli_texts_unread", lang, n=len(unread)), file=sys.stderr)
        return 2 if unread else 0

    return run()
