"""Exports of a coverage output folder: XLSX, CSV, GeoPackage, GeoJSON and a printable PDF.

``lifecircle coverage -o OUTDIR`` writes the tables and layers described in
docs/ARCHITECTURE.md ("Coverage OUTDIR"). This module reads them once
(:func:`load_outdir`) and turns them into files planners hand on:

- :func:`to_xlsx` one sheet per table, Chinese headers, percentages, sources;
- :func:`to_csv` the same tables as UTF-8-with-BOM CSV (folder or ZIP);
- :func:`to_geopackage` / :func:`to_geojson` the layers for QGIS;
- :func:`to_pdf` an A4 gap report with maps and the CJK font embedded.

Every writer takes a path (written atomically) or a binary file object such
as ``io.BytesIO`` (the app's download buttons).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import math
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from .categories import CATEGORIES, CATEGORY_KEYS, PARK_CLASSES, PROFILES, label
from .coverage import gap_labels, named_streets
from .errors import InputError, Message
from .i18n import column_label, localize_columns, t, unit_label
from .io import (
    METRIC_CRS,
    WGS84,
    as_wgs84,
    atomic_file,
    read_vector,
    recover_dir,
    restore_formulas,
    temp_dir,
    to_csv_bom,
)

__all__ = [
    "ATTRIBUTION",
    "CoverageOutputs",
    "Sheet",
    "load_outdir",
    "report_tables",
    "params_table",
    "gap_summary",
    "to_xlsx",
    "to_csv",
    "to_geopackage",
    "to_geojson",
    "coverage_figure",
    "gaps_figure",
    "figure_png",
    "to_pdf",
    "cli_report",
]

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"

Dest = str | os.PathLike | BinaryIO

# Files of a coverage OUTDIR: required ones make load_outdir fail when missing.
REQUIRED_FILES = ("subdistricts.csv", "params.json", "streets.gpkg")
READ_FILES = (*REQUIRED_FILES, "green.csv", "boundaries.gpkg", "boundaries.geojson", "buildings.gpkg", "gaps.geojson", "facilities.gpkg",
              "named_streets.csv")  # what load_outdir may read
OPTIONAL_FILES = ("buildings.gpkg", "gaps.geojson", "green.csv", "facilities.gpkg", "boundaries.gpkg")
_SUBDISTRICT_COLUMNS = ("subdistrict", "category", "threshold_m")

_EXCEL_MAX_ROWS = 1_048_575


# --------------------------------------------------------------------------- loading


@dataclass
class PlanOutputs:
    """The plan's part of an export (:class:`geo.plan.PlanResult`).

    Attributes
    ----------
    table : DataFrame
        Per 街道 × category before/after (``plan.csv``).
    proposals : GeoDataFrame
        Proposed sites with their state (WGS-84).
    before_buildings : GeoDataFrame or None
        Buildings with their ``dist_m_<cat>`` before the plan (the after ones are ``CoverageOutputs.buildings``).
    """

    table: pd.DataFrame
    proposals: gpd.GeoDataFrame
    before_buildings: gpd.GeoDataFrame | None = None


@dataclass
class CoverageOutputs:
    """The tables and layers of one coverage run, as read from its OUTDIR.

    Attributes
    ----------
    subdistricts : DataFrame
        One row per subdistrict × category (``subdistricts.csv``).
    green : DataFrame
        500 m green-space check per subdistrict (empty when not computed).
    gaps, facilities, streets : GeoDataFrame
        Layers in EPSG:4326 (``gaps`` and ``facilities`` may be empty).
    buildings, boundaries : GeoDataFrame or None
        Present when the run had buildings / wrote boundaries.
    params : dict
        ``params.json``: thresholds, speed, profile, inputs, sources, warnings.
    outdir : Path or None
        Where it was read from.
    """

    subdistricts: pd.DataFrame
    streets: gpd.GeoDataFrame
    params: dict = field(default_factory=dict)
    green: pd.DataFrame = field(default_factory=pd.DataFrame)
    gaps: gpd.GeoDataFrame = field(default_factory=lambda: gpd.GeoDataFrame(geometry=[], crs=WGS84))
    facilities: gpd.GeoDataFrame = field(default_factory=lambda: gpd.GeoDataFrame(geometry=[], crs=WGS84))
    buildings: gpd.GeoDataFrame | None = None
    boundaries: gpd.GeoDataFrame | None = None
    outdir: Path | None = None
    area: dict = field(default_factory=dict)
    plan: PlanOutputs | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_result(cls, result: Any, *, facilities: gpd.GeoDataFrame | None = None,
                    boundaries: gpd.GeoDataFrame | None = None) -> CoverageOutputs:
        """Wrap an in-memory :class:`geo.coverage.CoverageResult` (the app's download buttons).

        Layers may be in any CRS; the writers convert to WGS-84.
        """
        params = dict(getattr(result, "params", {}) or {})
        params.setdefault("warnings", list(getattr(result, "warnings", []) or []))
        green = getattr(result, "green", None)
        empty = gpd.GeoDataFrame(geometry=[], crs=WGS84)
        return cls(subdistricts=result.subdistricts, streets=result.streets, params=params,
                   green=green if green is not None else pd.DataFrame(),
                   gaps=result.gaps if getattr(result, "gaps", None) is not None else empty,
                   facilities=facilities if facilities is not None else empty,
                   buildings=getattr(result, "buildings", None), boundaries=boundaries, area=_area_meta(params))

    @classmethod
    def from_plan(cls, plan: Any, *, boundaries: gpd.GeoDataFrame | None = None,
                  facilities: gpd.GeoDataFrame | None = None) -> CoverageOutputs:
        """The after-the-plan result of :func:`geo.plan.run_plan` with the plan's tables and proposals attached."""
        out = cls.from_result(plan.after, facilities=facilities, boundaries=boundaries)
        out.plan = PlanOutputs(plan.table, plan.proposals, plan.before.buildings)
        return out

    @property
    def categories(self) -> list[str]:
        """Category keys of this run, in taxonomy order (unknown keys last)."""
        present = list(dict.fromkeys(self.subdistricts["category"].astype(str))) if len(self.subdistricts) else []
        if not present:
            present = list(self.thresholds)
        return [k for k in CATEGORY_KEYS if k in present] + [k for k in present if k not in CATEGORIES]

    @property
    def thresholds(self) -> dict[str, float]:
        """Walking threshold (m) per category: params, else the table, else the taxonomy."""
        out: dict[str, float] = {}
        thr = self.params.get("thresholds")
        if isinstance(thr, dict):
            for k, v in thr.items():
                with contextlib.suppress(TypeError, ValueError):
                    out[str(k)] = float(v["threshold_m"] if isinstance(v, dict) else v)
        if len(self.subdistricts) and "threshold_m" in self.subdistricts:
            for k, v in self.subdistricts.groupby("category")["threshold_m"].first().items():
                out.setdefault(str(k), float(v))
        for k, c in CATEGORIES.items():
            out.setdefault(k, c.threshold_m)
        return out

    @property
    def profile(self) -> str:
        """Walking profile key (``default`` when unknown)."""
        p = self.params.get("profile", "default")
        if isinstance(p, dict):
            p = p.get("key", "default")
        return str(p)

    @property
    def speed_m_per_min(self) -> float:
        """Walking speed in metres per minute."""
        for key in ("speed_m_per_min", "speed"):
            v = self.params.get(key)
            if isinstance(v, dict):
                v = v.get("m_per_min", v.get("value"))
            with contextlib.suppress(TypeError, ValueError):
                if v is not None and float(v) > 0:
                    return float(v)
        return PROFILES.get(self.profile, PROFILES["default"]).speed_m_per_min

    @property
    def area_name(self) -> str:
        """Display name of the study area.

        ``params`` ``area_name``/``name``, else the prepared area's ``area.json``
        name (``area``, read by :func:`load_outdir`), else the subdistricts.
        """
        for key in ("area_name", "name"):
            v = self.params.get(key)
            if isinstance(v, str) and v:
                return v
        if self.area.get("name"):
            return str(self.area["name"])
        subs = self.params.get("boundaries")
        if not (isinstance(subs, list) and subs):
            subs = list(dict.fromkeys(self.subdistricts.get("subdistrict", pd.Series(dtype=str)).astype(str)))
        return "、".join(str(x) for x in subs[:6]) if subs else str(self.params.get("area", ""))

    @property
    def warnings(self) -> list[Message]:
        """Warnings of the run, bilingual (old ``params.json`` with plain strings: the same text in both)."""
        w = self.params.get("warnings") or []
        if isinstance(w, (str, dict)):
            w = [w]
        return [Message.coerce(x if isinstance(x, (str, dict, Message)) else json.dumps(x, ensure_ascii=False))
                for x in w]


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return restore_formulas(pd.read_csv(path, encoding="utf-8-sig"))
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"无法读取该表格（{first}）。请重新运行 lifecircle coverage。",
                         f"cannot read this table ({first}); re-run lifecircle coverage.", path) from None


def _area_meta(params: dict) -> dict:
    """``area.json`` of the prepared area the run used (``inputs.area``), or {}."""
    inputs = params.get("inputs")
    area = inputs.get("area") if isinstance(inputs, dict) else None
    if not isinstance(area, str) or not area:
        return {}
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads((Path(area) / "area.json").read_text(encoding="utf-8"))
        if isinstance(meta, dict):
            return meta
    return {"name": Path(area).name}


def load_outdir(outdir: str | os.PathLike) -> CoverageOutputs:
    """Read a ``lifecircle coverage`` output folder.

    Parameters
    ----------
    outdir : path
        The folder given to ``lifecircle coverage -o``.

    Raises
    ------
    InputError
        The folder or a required file is missing, unreadable or lacks columns.
    """
    d = Path(outdir)
    recover_dir(d)  # a coverage run killed while replacing it left it aside
    if not d.is_dir():
        raise InputError("结果文件夹不存在。请先运行 lifecircle coverage -o 该文件夹。",
                         "output folder not found; run lifecircle coverage -o FOLDER first.", d)
    for name in REQUIRED_FILES:
        if not (d / name).is_file():
            raise InputError(f"缺少 {name}，这不是完整的 lifecircle coverage 结果文件夹。请重新运行 lifecircle coverage。",
                             f"{name} is missing; this is not a complete lifecircle coverage output folder. Re-run lifecircle coverage.",
                             d / name)
    try:
        params = json.loads((d / "params.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"params.json 已损坏（{exc}）。请重新运行 lifecircle coverage。",
                         f"params.json is corrupt ({exc}); re-run lifecircle coverage.", d / "params.json") from None
    if not isinstance(params, dict):
        raise InputError("params.json 应为 JSON 对象。", "params.json must hold a JSON object.", d / "params.json")
    subdistricts = _read_table(d / "subdistricts.csv")
    missing = [c for c in _SUBDISTRICT_COLUMNS if c not in subdistricts.columns]
    if missing:
        raise InputError(f"subdistricts.csv 缺少列：{', '.join(missing)}。", f"subdistricts.csv lacks columns: {', '.join(missing)}.",
                         d / "subdistricts.csv")
    subdistricts["subdistrict"] = subdistricts["subdistrict"].astype(str)
    subdistricts["category"] = subdistricts["category"].astype(str)

    def vec(name: str) -> gpd.GeoDataFrame | None:
        p = d / name
        if not p.is_file():
            return None
        g = read_vector(p)
        return as_wgs84(g)

    streets = vec("streets.gpkg")
    green = _read_table(d / "green.csv") if (d / "green.csv").is_file() else pd.DataFrame()
    empty = lambda: gpd.GeoDataFrame(geometry=[], crs=WGS84)  # noqa: E731
    boundaries = vec("boundaries.gpkg")
    if boundaries is None and (d / "boundaries.geojson").is_file():
        boundaries = vec("boundaries.geojson")
    area = _area_meta(params)
    if boundaries is None:  # the prepared area's subdistricts, for the maps and the GeoPackage
        area_dir = (params.get("inputs") or {}).get("area") if isinstance(params.get("inputs"), dict) else None
        if isinstance(area_dir, str) and (Path(area_dir) / "boundaries.gpkg").is_file():
            with contextlib.suppress(InputError):
                boundaries = read_vector(Path(area_dir) / "boundaries.gpkg").to_crs(WGS84)
    return CoverageOutputs(
        area=area,
        subdistricts=subdistricts,
        streets=streets,
        params=params,
        green=green,
        gaps=vec("gaps.geojson") if (d / "gaps.geojson").is_file() else empty(),
        facilities=vec("facilities.gpkg") if (d / "facilities.gpkg").is_file() else empty(),
        buildings=vec("buildings.gpkg"),
        boundaries=boundaries,
        outdir=d,
    )


# --------------------------------------------------------------------------- tables


class Sheet(NamedTuple):
    """One exported table: stable key, display title, frame with raw column names."""

    key: str
    title: str
    frame: pd.DataFrame


def _points_lonlat(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    if not len(gdf):
        return np.array([], float), np.array([], float)
    pts = gdf.geometry.to_crs(WGS84).representative_point() if gdf.crs is not None else gdf.geometry.representative_point()
    return np.round(pts.x.to_numpy(), 6), np.round(pts.y.to_numpy(), 6)


def _label_values(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Replace category/status/source keys with display labels."""
    out = df.copy()
    for col in ("category", "status", "source"):
        if col in out.columns:
            out[col] = out[col].map(lambda v: label(str(v), lang) if isinstance(v, str) else v)
    if "gap_kind" in out.columns:
        out["gap_kind"] = out["gap_kind"].map(lambda v: t(f"gap_kind_{v}", lang) if v in ("buildings", "streets") else v)
    if "label" in out.columns:  # one location column, in the report's language
        out["label"] = gap_labels(out, lang)
        out = out.drop(columns="label_en", errors="ignore")
    return out


def _scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list, tuple))


def _flatten(obj: Any, prefix: str = "", *, compact: bool = False, lang: str = "zh") -> list[tuple[str, str]]:
    """Nested dict/list -> (dotted key, one-line value) pairs.

    With ``compact`` a nested dict of scalars becomes one ``k: v; …`` value,
    category keys shown as labels.
    """
    if isinstance(obj, dict):
        if compact and prefix and obj and all(_scalar(v) for v in obj.values()):
            return [(prefix, "; ".join(f"{label(str(k), lang) if k in CATEGORIES else k}: {v}" for k, v in obj.items()))]
        out: list[tuple[str, str]] = []
        for k, v in obj.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k), compact=compact, lang=lang)
        return out
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return [(prefix, "; ".join(str(v) for v in obj))]
        out = []
        for i, v in enumerate(obj):
            out += _flatten(v, f"{prefix}[{i}]", compact=compact, lang=lang)
        return out
    return [(prefix, "" if obj is None else str(obj))]


# params.json keys params_table shows in their own sections (or leaves out: crs is the metric CRS as PROJJSON)
_PARAMS_SHOWN = {"thresholds", "speed_m_per_min", "speed", "profile", "inputs", "warnings", "sources", "standards",
                 "attribution", "speed_source", "crs", "files", "area_name", "name", "study", "scenario",
                 "threshold_spec", "facility_layers", "facilities_merged", "include_planned", "area_source", "lang",
                 "demand_weighting"}


def _weighting_text(params: dict, lang: str) -> str:
    """The demand weighting sentence params.json records ('' for a run from before weighting was recorded)."""
    w = params.get("demand_weighting")
    if not isinstance(w, dict):
        return ""
    return str(w.get("label" if lang == "zh" else "label_en") or w.get("label") or "")


def params_table(outputs: CoverageOutputs, lang: str = "zh") -> pd.DataFrame:
    """Parameters and sources as rows ``section, parameter, value, standard``.

    Thresholds per category with the cited standard, walking speed and its
    source, GB/T 50563 park classes, inputs, warnings, data sources and the
    OpenStreetMap attribution.
    """
    rows: list[dict[str, str]] = []

    def add(section: str, parameter: str, value: str, standard: str = "") -> None:
        rows.append({"section": section, "parameter": parameter, "value": value, "standard": standard})

    speed = outputs.speed_m_per_min
    thr = outputs.thresholds
    m, mins = unit_label("m", lang), unit_label("min", lang)
    params = outputs.params
    scenario = params.get("scenario")
    if isinstance(scenario, dict) and scenario.get("key"):
        add(t("scenario", lang), t(f"scenario_{scenario['key']}", lang), t(f"scenario_{scenario['key']}_note", lang))
    given_spec = params.get("threshold_spec")
    spec = given_spec if isinstance(given_spec, dict) else {}
    for cat in outputs.categories:
        c = CATEGORIES.get(cat)
        given_cat = spec.get(cat)
        s = given_cat if isinstance(given_cat, dict) else {}
        if s.get("unit") == "min":  # a walking time: the ground covered depends on the speed
            value = f"{s['value']:g} {mins} × {speed:g} {t('m_per_min', lang)} = {thr[cat]:.0f} {m} ({t('kind_time', lang)})"
        else:
            value = f"{thr[cat]:.0f} {m} ≈ {thr[cat] / speed:.1f} {mins}" + (f" ({t('kind_distance', lang)})" if s else "")
        add(t("sec_thr", lang), label(cat, lang), value, c.cite(lang) if c else "")
    for layer in params.get("facility_layers") or []:
        if isinstance(layer, dict):
            where = layer.get("path") or str((params.get("inputs") or {}).get("area", ""))
            detail = "; ".join(x for x in (where, f"{t('datum', lang)} {layer['datum'].upper()}"
                                           if layer.get("kind") == "table" and layer.get("datum") else "",
                                           f"{t('corrections', lang)} {layer['corrections']}" if layer.get("corrections") else "",
                                           f"sha1 {layer['digest']}" if layer.get("digest") else "") if x)
            add(t("sec_layers", lang), str(layer.get("label") or layer.get("kind")),
                f"{layer.get('features', '')} {t('facilities', lang)}", detail)
    if params.get("facilities_merged"):
        add(t("sec_layers", lang), t("merged", lang), str(params["facilities_merged"]))
    given = params.get("sources")
    sources = given if isinstance(given, dict) else {}
    prof = PROFILES.get(outputs.profile)
    speed_source = (prof.cite(lang) if prof and math.isclose(prof.speed_m_per_min, speed) else
                    sources.get("walking_speed") or params.get("speed_source") or "")
    add(t("walking_speed", lang), label(outputs.profile, lang),
        f"{speed:.1f} {t('m_per_min', lang)} ({speed / 60:.2f} m/s)", str(speed_source))
    weighting = _weighting_text(params, lang)
    if weighting:
        add(t("sec_demand", lang), column_label("weighting", lang), weighting)
    for pc in PARK_CLASSES:
        add(t("sec_park", lang), pc.zh if lang == "zh" else pc.en, t("radius", lang, r=pc.radius_m, a=pc.min_area_m2), pc.cite(lang))
    for k, v in _flatten(params.get("inputs", {})):
        add(t("sec_inputs", lang), k, v)
    for w in outputs.warnings:
        add(t("sec_warnings", lang), "", w.text(lang))
    # sources: the taxonomy's standards are listed above; anything else is shown as is
    rest = {k: v for k, v in sources.items() if k not in ("categories", "walking_speed")}
    for k, v in _flatten(rest) + _flatten(params.get("standards", {})):
        add(t("sec_sources", lang), k, v)
    src = outputs.area.get("source")
    if isinstance(src, dict):  # the prepared area's input files
        for k, v in _flatten({k: v for k, v in src.items() if k in ("mode", "from", "inputs", "place")}):
            if v and v != "None":
                add(t("sec_sources", lang), k, v)
    attribution = params.get("attribution")
    for a in ([attribution] if isinstance(attribution, str) else list(attribution or [])):
        if a and ATTRIBUTION not in str(a):
            add(t("sec_sources", lang), "attribution", str(a))
    add(t("sec_sources", lang), t("osm", lang), f"{ATTRIBUTION} (https://www.openstreetmap.org/copyright)")
    # everything else the run recorded (computation settings, counts), category keys as labels
    run = {k: v for k, v in params.items() if k not in _PARAMS_SHOWN}
    if isinstance(run.get("green"), dict):  # park classes are listed above from the taxonomy
        run["green"] = {k: v for k, v in run["green"].items() if k != "classes"}
    if isinstance(run.get("categories"), list):
        run["categories"] = [label(str(c), lang) for c in run["categories"]]
    for k, v in _flatten(run, compact=True, lang=lang):
        add(t("sec_run", lang), k, v if len(v) <= 300 else v[:297] + "…")
    if outputs.outdir is not None:
        add(t("sec_run", lang), t("outdir", lang), str(outputs.outdir))
    return pd.DataFrame(rows, columns=["section", "parameter", "value", "standard"])


def report_tables(outputs: CoverageOutputs, lang: str = "zh", *, streets: bool = True) -> list[Sheet]:
    """The tables every export shares, with category/status/source shown as labels.

    Column names stay raw (``share_buildings_covered``); writers localise the
    headers with :func:`geo.i18n.localize_columns`. Shares stay fractions.
    """
    speed = outputs.speed_m_per_min
    sub = _label_values(outputs.subdistricts, lang)
    if "threshold_m" in sub.columns and "threshold_min" not in sub.columns:
        pos = list(sub.columns).index("threshold_m") + 1
        sub.insert(pos, "threshold_min", (outputs.subdistricts["threshold_m"].astype(float) / speed).round(1))
    sheets = [Sheet("subdistricts", t("sheet_subdistricts", lang), sub)]
    sheets.append(Sheet("green", t("sheet_green", lang), outputs.green.copy()))

    gaps = pd.DataFrame(outputs.gaps.drop(columns="geometry", errors="ignore")).rename(columns={"kind": "gap_kind"})
    if len(gaps):
        order = {k: i for i, k in enumerate(CATEGORY_KEYS)}
        gaps["lon"], gaps["lat"] = _points_lonlat(outputs.gaps)
        sort = [c for c in ("category", "rank") if c in gaps.columns]
        if sort:
            gaps = gaps.sort_values(sort, key=lambda s: s.map(order) if s.name == "category" else s, kind="stable")
    sheets.append(Sheet("gaps", t("sheet_gaps", lang), _label_values(gaps.reset_index(drop=True), lang)))

    fac = pd.DataFrame(outputs.facilities.drop(columns="geometry", errors="ignore"))
    if len(fac):
        fac["lon"], fac["lat"] = _points_lonlat(outputs.facilities)
    sheets.append(Sheet("facilities", t("sheet_facilities", lang), _label_values(fac, lang)))

    by_name = named_streets(outputs.streets, outputs.thresholds)
    if len(by_name):
        sheets.append(Sheet("named_streets", t("sheet_named_streets", lang), _label_values(by_name, lang)))

    if streets:
        st = pd.DataFrame(outputs.streets.drop(columns="geometry", errors="ignore")).rename(columns={"kind": "road_kind"})
        # trimmed: walking time and covered length follow from the distance and the parameters
        st = st.drop(columns=[c for c in st.columns if c in ("u", "v") or c.startswith(("walk_min_", "covered_km_"))])
        if len(st):
            st["lon"], st["lat"] = _points_lonlat(outputs.streets)
            floats = st.select_dtypes("float").columns.difference(["lon", "lat"])
            st[floats] = st[floats].round(1)
        sheets.append(Sheet("streets", t("sheet_streets", lang), st.head(_EXCEL_MAX_ROWS)))
    if outputs.plan is not None:
        sheets += plan_tables(outputs.plan, lang)
    sheets.append(Sheet("params", t("sheet_params", lang), params_table(outputs, lang)))
    return sheets


_PLAN_SHEET_COLUMNS = ("subdistrict", "category", "threshold_m", "buildings", "buildings_covered_before",
                       "share_before", "buildings_covered_after", "share_after", "gain", "buildings_gained",
                       "buildings_uncovered_after", "planned_added", "proposals_added", "facilities_added",
                       "lscp_sites", "lscp_status", "after_counts")
_PROPOSAL_SHEET_COLUMNS = ("proposal_id", "state", "category", "subdistrict", "scope", "request", "mention_name",
                           "rank", "label", "lon", "lat", "buildings_newly_covered", "buildings_covered_total",
                           "share_buildings_covered_total", "source_text", "sentence")


def plan_tables(plan: PlanOutputs, lang: str = "zh") -> list[Sheet]:
    """The plan's sheets: before/after per 街道 × category (规划前后对比) and the proposals (建议选址)."""
    from .plan import AFTER_RULES, PROPOSAL_STATES, after_rule_text

    table = plan.table[[c for c in _PLAN_SHEET_COLUMNS if c in plan.table.columns]].copy()
    if "after_counts" in table.columns:  # which proposals the after columns count, in the report's language
        table["after_counts"] = table["after_counts"].replace({after_rule_text(r): after_rule_text(r, lang)
                                                               for r in AFTER_RULES})
    p = pd.DataFrame(plan.proposals.drop(columns="geometry", errors="ignore"))
    p = p[[c for c in _PROPOSAL_SHEET_COLUMNS if c in p.columns]].copy()
    if "state" in p.columns:
        p["state"] = p["state"].map(lambda s: PROPOSAL_STATES[s][lang != "zh"] if s in PROPOSAL_STATES else s)
    return [Sheet("plan", t("sheet_plan", lang), _label_values(table.reset_index(drop=True), lang)),
            Sheet("proposals", t("sheet_proposals", lang), _label_values(p.reset_index(drop=True), lang))]


def _is_share(col: str) -> bool:
    return col.startswith("share_") or col in ("network_share_in_area", "gain")


# --------------------------------------------------------------------------- sinks


@contextlib.contextmanager
def _sink(dest: Dest, suffix: str) -> Iterator[Path]:
    """A temporary path; renamed onto ``dest`` (atomic) or copied into a file object."""
    if isinstance(dest, (str, os.PathLike)):
        with atomic_file(dest) as tmp:
            yield tmp
        return
    with temp_dir("report") as d:
        tmp = d / f"out{suffix}"
        yield tmp
        dest.write(tmp.read_bytes())


# --------------------------------------------------------------------------- XLSX


def _display_width(value: Any) -> int:
    s = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def gap_summary(outputs: CoverageOutputs, lang: str = "zh") -> pd.DataFrame:
    """Per category: number of gaps, buildings in them and street length not covered (m)."""
    g = pd.DataFrame(outputs.gaps.drop(columns="geometry", errors="ignore"))
    rows = []
    for cat in outputs.categories:
        part = g[g["category"].astype(str) == cat] if "category" in g.columns else g.iloc[0:0]
        rows.append({"category": label(cat, lang), "count": len(part),
                     "n_buildings": int(part["n_buildings"].sum()) if "n_buildings" in part else 0,
                     "street_m": float(part["street_m"].sum()) if "street_m" in part else 0.0})
    return pd.DataFrame(rows, columns=["category", "count", "n_buildings", "street_m"])


def _number_format(raw: str, dtype: Any) -> str | None:
    if _is_share(raw):
        return "0.0%"
    if pd.api.types.is_float_dtype(dtype):
        if raw in ("lon", "lat"):
            return "0.000000"
        return "0.00" if raw.endswith("_km") or "_km_" in raw else "0.0"
    if pd.api.types.is_integer_dtype(dtype):
        return "#,##0"
    return None


def _excel_value(v: Any) -> Any:
    """Python scalar for openpyxl: NaN/NA -> empty cell, numpy -> builtin."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _xlsx_cell(ws: Any, value: Any) -> Any:
    """A write-only cell; text is always a text cell (openpyxl would make ``=…`` a live formula, ``#N/A`` an error)."""
    from openpyxl.cell import WriteOnlyCell

    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        c.data_type = "s"
    return c


_STYLED_ROWS = 5000  # larger sheets: values are rounded, only shares get a number format (speed)


def to_xlsx(outputs: CoverageOutputs, dest: Dest, lang: str = "zh", *, streets: bool = True) -> Dest:
    """Write every table as a sheet of one Excel workbook.

    Headers in Chinese (``lang="zh"``) via :mod:`geo.i18n`, categories as
    labels, shares as percentages, header row frozen, columns sized, and a
    parameters-and-sources sheet with the OpenStreetMap attribution.
    Streamed with openpyxl's write-only mode (a few seconds for ~10 000 streets).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheets = report_tables(outputs, lang, streets=streets)
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    head_align, wrap_top = Alignment(wrap_text=True, vertical="center"), Alignment(wrap_text=True, vertical="top")
    wb = Workbook(write_only=True)
    for sh in sheets:
        ws = wb.create_sheet(sh.title)
        ws.freeze_panes = "A2"
        headers = [column_label(c, lang) for c in sh.frame.columns]
        big = len(sh.frame) > _STYLED_ROWS
        fmts = []
        for j, raw in enumerate(sh.frame.columns, start=1):
            fmt = _number_format(raw, sh.frame[raw].dtype)
            fmts.append(fmt if fmt == "0.0%" or not big else None)
            sample = sh.frame[raw].head(300).tolist()
            width = max([_display_width(headers[j - 1])] + [_display_width(v) for v in sample if v is not None])
            if fmt == "0.0%":
                width = max(width // 2, 8)
            ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60 if sh.key == "params" else 40)
        head = []
        for h in headers:
            c = _xlsx_cell(ws, h)
            c.font, c.fill, c.alignment = head_font, head_fill, head_align
            head.append(c)
        ws.append(head)
        for row in sh.frame.itertuples(index=False, name=None):
            vals: list[Any] = [_excel_value(v) for v in row]
            for j, fmt in enumerate(fmts):
                if (fmt or sh.key == "params" or isinstance(vals[j], str) and vals[j][:1] in ("=", "#")) \
                        and vals[j] is not None:
                    c = _xlsx_cell(ws, vals[j])
                    if fmt:
                        c.number_format = fmt
                    else:
                        c.alignment = wrap_top
                    vals[j] = c
            ws.append(vals)
    with _sink(dest, ".xlsx") as tmp:
        wb.save(tmp)
    return dest


# --------------------------------------------------------------------------- CSV / GPKG / GeoJSON


def to_csv(outputs: CoverageOutputs, dest: Dest, lang: str | None = "zh") -> Dest:
    """Write each table as UTF-8-with-BOM CSV, into a folder or a ``.zip``.

    Parameters
    ----------
    dest : path or binary file object
        A folder (created if needed), a path ending in ``.zip``, or a file
        object that receives a ZIP archive.
    lang : "zh", "en" or None
        Header language; None keeps the raw column names.
    """
    def payload(sh: Sheet) -> bytes:
        frame = localize_columns(sh.frame, lang) if lang else sh.frame
        if lang and sh.key == "params":
            frame = frame.rename(columns={c: column_label(c, lang) for c in frame.columns})
        buf = io.BytesIO()
        to_csv_bom(frame, buf)  # the tool's one CSV writer: formulas defused
        return buf.getvalue()

    sheets = report_tables(outputs, lang or "en")
    as_zip = not isinstance(dest, (str, os.PathLike)) or str(dest).lower().endswith(".zip")
    if as_zip:
        with _sink(dest, ".zip") as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for sh in sheets:
                    zf.writestr(f"{sh.key}.csv", payload(sh))
        return dest
    assert isinstance(dest, (str, os.PathLike))  # not a file object: those are zipped above
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    for sh in sheets:
        with atomic_file(folder / f"{sh.key}.csv") as tmp:
            tmp.write_bytes(payload(sh))
    return dest


def _layers(outputs: CoverageOutputs) -> dict[str, gpd.GeoDataFrame]:
    layers = {"streets": outputs.streets, "buildings": outputs.buildings, "gaps": outputs.gaps,
              "facilities": outputs.facilities, "boundaries": outputs.boundaries,
              "sites": outputs.plan.proposals if outputs.plan is not None else None}
    return {k: v for k, v in layers.items() if v is not None}


def to_geopackage(outputs: CoverageOutputs, dest: Dest) -> Dest:
    """Write all layers (streets, buildings, gaps, facilities, boundaries; sites of a plan) to one GeoPackage.

    Layer names are those keys; geometry in EPSG:4326; raw column names.
    """
    import pyogrio

    with _sink(dest, ".gpkg") as tmp:
        for name, gdf in _layers(outputs).items():
            g = gdf.to_crs(WGS84) if gdf.crs is not None else gdf.set_crs(WGS84)
            pyogrio.write_dataframe(g, tmp, layer=name, driver="GPKG")
    return dest


def to_geojson(layer: gpd.GeoDataFrame, dest: Dest) -> Dest:
    """Write one layer as GeoJSON in WGS-84 (NaN as null)."""
    g = layer if layer.crs is None else layer.to_crs(WGS84)
    data = g.to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
    if isinstance(dest, (str, os.PathLike)):
        with atomic_file(dest) as tmp:
            tmp.write_bytes(data)
    else:
        dest.write(data)
    return dest


# --------------------------------------------------------------------------- maps


def _map_crs(outputs: CoverageOutputs) -> Any:
    """The metric CRS of the maps: :func:`geo.network.metric_crs` of the streets (or boundaries)."""
    from .network import metric_crs

    base = outputs.streets if len(outputs.streets) else outputs.boundaries
    if base is None or not len(base) or base.crs is None:
        return METRIC_CRS
    try:
        return metric_crs(base)
    except Exception:  # no finite extent
        return METRIC_CRS


def _metric(outputs: CoverageOutputs, name: str) -> tuple[gpd.GeoDataFrame | None, Any]:
    """Layer ``name`` in the map's metric CRS (projected once per CoverageOutputs)."""
    cache = outputs._cache
    if "crs" not in cache:
        cache["crs"] = _map_crs(outputs)
    crs = cache["crs"]
    if name not in cache:
        gdf = getattr(outputs, name)
        if gdf is None:
            cache[name] = None
        else:
            cache[name] = (gdf if gdf.crs is not None else gdf.set_crs(WGS84)).to_crs(crs)
    return cache[name], crs


def _street_segments(outputs: CoverageOutputs) -> tuple[list[np.ndarray], np.ndarray]:
    """Street lines as matplotlib segments and the street row of each (cached)."""
    cache = outputs._cache
    if "segments" not in cache:
        import shapely

        streets, _ = _metric(outputs, "streets")
        assert streets is not None  # CoverageOutputs.streets is a (possibly empty) layer
        parts, rows = shapely.get_parts(np.asarray(streets.geometry.values, dtype=object), return_index=True)
        coords, idx = shapely.get_coordinates(parts, return_index=True)
        cuts = np.flatnonzero(np.diff(idx)) + 1
        cache["segments"] = (np.split(coords, cuts) if len(coords) else [], rows[np.unique(idx)] if len(idx) else rows)
    return cache["segments"]


def _decorate(ax: Any, lang: str, outputs: CoverageOutputs, small: bool = False) -> None:
    """Extent of the streets (facilities far outside are cut off), scale bar, attribution, no axes."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    ax.set_aspect("equal")
    streets, _ = _metric(outputs, "streets")
    if streets is not None and len(streets):
        x0, y0, x1, y1 = streets.total_bounds
        pad = 0.03 * max(x1 - x0, y1 - y0, 100.0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
    else:
        ax.autoscale_view()
    x0, x1 = ax.get_xlim()
    span = x1 - x0
    nice = [50, 100, 200, 250, 500, 1000, 2000, 5000, 10000]
    bar = max([n for n in nice if n <= span / 5] or [nice[0]])
    ax.add_artist(AnchoredSizeBar(ax.transData, bar, f"{bar:.0f} {unit_label('m', lang)}", "lower left",
                                  pad=0.2 if small else 0.4, frameon=not small, size_vertical=span / 250,
                                  fontproperties={"size": 5 if small else 8}))
    ax.text(0.995, 0.005, ATTRIBUTION, transform=ax.transAxes, ha="right", va="bottom", fontsize=4 if small else 6,
            color="#333333", bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1})
    if small:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        for spine in ax.spines.values():
            spine.set_color("#999999")
    else:
        ax.set_axis_off()


def _draw_boundaries(ax: Any, outputs: CoverageOutputs, labels: bool = False) -> None:
    b, _ = _metric(outputs, "boundaries")
    if b is None or not len(b):
        return
    b.boundary.plot(ax=ax, color="#555555", linewidth=0.8, linestyle="--", zorder=1)
    if labels and "subdistrict" in b.columns:
        for name, pt in zip(b["subdistrict"], b.geometry.representative_point()):
            ax.annotate(str(name), (pt.x, pt.y), ha="center", fontsize=8, color="#333333", alpha=0.8, zorder=6)


def _of_category(gdf: gpd.GeoDataFrame | None, category: str) -> gpd.GeoDataFrame | None:
    if gdf is None or not len(gdf) or "category" not in gdf.columns:
        return None
    part = gdf[gdf["category"].astype(str) == category]
    return part if len(part) else None


def coverage_figure(outputs: CoverageOutputs, category: str, lang: str = "zh", *,
                    figsize: tuple[float, float] = (7.2, 6.4)) -> Any:
    """Streets coloured by walking distance to ``category`` (matplotlib Figure).

    A sequential colour map from 0 to twice the threshold (farther streets in
    the last colour), unreachable streets grey, facilities as markers, gaps
    outlined in red with their rank; colour bar in metres and minutes with
    the threshold marked.
    """
    from matplotlib import colormaps, rc_context
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .fonts import matplotlib_rc

    col = f"dist_m_{category}"
    thr = outputs.thresholds.get(category, 1000.0)
    speed = outputs.speed_m_per_min
    with rc_context(matplotlib_rc()):
        fig = Figure(figsize=figsize)
        ax = fig.add_axes((0.0, 0.01, 0.76, 0.90))
        cax = fig.add_axes((0.85, 0.18, 0.025, 0.62))
        segs, rows = _street_segments(outputs)
        dist = (outputs.streets[col].astype(float).to_numpy() if col in outputs.streets.columns
                else np.full(len(outputs.streets), np.nan))[rows]
        cmap = colormaps["viridis"]
        norm = Normalize(0, 2 * thr, clip=True)
        far = np.isnan(dist)
        if far.any():
            ax.add_collection(LineCollection([segs[i] for i in np.flatnonzero(far)], colors="#bbbbbb",
                                             linewidths=0.6, linestyles=(0, (2, 1)), zorder=2))
        if (~far).any():
            near = np.flatnonzero(~far)
            ax.add_collection(LineCollection([segs[i] for i in near], colors=cmap(norm(dist[near])),
                                             linewidths=1.1, zorder=3))
        _draw_boundaries(ax, outputs)
        handles: list[Any] = []
        fac = _of_category(_metric(outputs, "facilities")[0], category)
        if fac is not None:
            poly = fac.geom_type.isin(["Polygon", "MultiPolygon"])
            if poly.any():
                fac[poly].plot(ax=ax, facecolor="#a6d96a", edgecolor="#1a9641", alpha=0.5, linewidth=0.5, zorder=2)
            pts = fac.geometry.representative_point()
            ax.scatter(pts.x, pts.y, s=22, marker="^", facecolor="white", edgecolor="black", linewidth=0.8, zorder=5)
            handles.append(Line2D([], [], marker="^", linestyle="", markerfacecolor="white", markeredgecolor="black",
                                  label=f"{label(category, lang)} {t('facilities', lang)}"))
        gaps = _of_category(_metric(outputs, "gaps")[0], category)
        if gaps is not None:
            _plot_outline(ax, gaps, "#d7191c")
            _rank_labels(ax, gaps, "#d7191c")
            handles.append(Patch(facecolor="#d7191c", alpha=0.3, edgecolor="#d7191c", label=t("gaps", lang)))
        if far.any():
            handles.append(Line2D([], [], color="#bbbbbb", linestyle=(0, (2, 1)), label=column_label("unreachable", lang)))
        handles.append(Line2D([], [], color="red", linewidth=1.5,
                              label=f"{t('colorbar_threshold', lang)} {thr:.0f} {unit_label('m', lang)} ({column_label('dist_m', lang)})"))
        cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, extend="max")
        cbar.set_label(column_label("dist_m", lang))
        cbar.ax.axhline(thr, color="red", linewidth=1.5)
        sec = cbar.ax.secondary_yaxis("left", functions=(lambda m: np.divide(m, speed), lambda w: np.multiply(w, speed)))
        sec.set_ylabel(column_label("walk_min", lang))
        fig.suptitle(t("map_title", lang, cat=label(category, lang), thr=thr, mins=thr / speed), fontsize=10, y=0.985)
        if handles:
            ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.8)
        _decorate(ax, lang, outputs)
    return fig


def _plot_outline(ax: Any, gdf: gpd.GeoDataFrame, color: Any) -> None:
    poly = gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if poly.any():
        gdf[poly].plot(ax=ax, facecolor=color, alpha=0.18, edgecolor=color, linewidth=1.0, zorder=4)
    lines = gdf.geom_type.isin(["LineString", "MultiLineString"])
    if lines.any():
        gdf[lines].plot(ax=ax, color=color, linewidth=2.4, alpha=0.8, zorder=4)
    pts = gdf.geom_type.isin(["Point", "MultiPoint"])
    if pts.any():
        gdf[pts].plot(ax=ax, color=color, markersize=14, zorder=4)


def _rank_labels(ax: Any, gaps: gpd.GeoDataFrame, color: Any, top: int = 10) -> None:
    if "rank" not in gaps.columns:
        return
    g = gaps.sort_values("rank").head(top)
    for r, pt in zip(g["rank"], g.geometry.representative_point()):
        ax.annotate(str(int(r)), (pt.x, pt.y), fontsize=7, color=color, ha="center", va="center", zorder=7,
                    bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "edgecolor": color, "linewidth": 0.6})


def gaps_figure(outputs: CoverageOutputs, lang: str = "zh", *, ncols: int = 3, panel_in: float = 2.4) -> Any:
    """Small multiples: one panel per category, its gaps in red on the street network, top 3 numbered."""
    from matplotlib import rc_context
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    from .fonts import matplotlib_rc

    cats = outputs.categories or list(CATEGORY_KEYS)
    ncols = max(1, min(ncols, len(cats)))
    nrows = math.ceil(len(cats) / ncols)
    gaps, _ = _metric(outputs, "gaps")
    segs = _street_segments(outputs)[0] if len(outputs.streets) else []
    with rc_context(matplotlib_rc()):
        fig = Figure(figsize=(panel_in * ncols, panel_in * nrows + 0.45))
        top = 1 - 0.45 / (panel_in * nrows + 0.45)
        for i, cat in enumerate(cats):
            r, c = divmod(i, ncols)
            ax = fig.add_axes((c / ncols + 0.005, top - (r + 1) * top / nrows + 0.005, 1 / ncols - 0.01, top / nrows - 0.04))
            if len(segs):
                ax.add_collection(LineCollection(segs, colors="#c8c8c8", linewidths=0.35, zorder=1))
            _draw_boundaries(ax, outputs)
            g = _of_category(gaps, cat)
            if g is not None:
                _plot_outline(ax, g, "#d7191c")
                _rank_labels(ax, g, "#d7191c", top=3)
            n = 0 if g is None else len(g)
            ax.set_title(t("bracketed", lang, text=label(cat, lang), inner=n), fontsize=8, pad=2)
            _decorate(ax, lang, outputs, small=True)
        fig.suptitle(t("gapmap_title", lang), fontsize=10, y=0.995)
    return fig


def plan_figure(outputs: CoverageOutputs, category: str, lang: str = "zh", *,
                figsize: tuple[float, float] = (7.2, 3.9)) -> Any:
    """Before | after panels for one category: buildings within the threshold or not, proposals as numbered stars."""
    from matplotlib import rc_context
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from .fonts import matplotlib_rc

    plan = outputs.plan
    thr = outputs.thresholds.get(category, 1000.0)
    crs = _metric(outputs, "streets")[1]
    segs = _street_segments(outputs)[0] if len(outputs.streets) else []
    col = f"dist_m_{category}"
    props = plan.proposals if plan is not None else gpd.GeoDataFrame(geometry=[], crs=4326)
    props = props[props["category"].astype(str) == category] if len(props) else props
    props = props.to_crs(crs) if len(props) else props
    with rc_context(matplotlib_rc()):
        fig = Figure(figsize=figsize)
        for k, (key, bld) in enumerate((("scenario_before", plan.before_buildings if plan is not None else None),
                                        ("scenario_after", outputs.buildings))):
            ax = fig.add_axes((k / 2 + 0.005, 0.08, 0.49, 0.80))
            if len(segs):
                ax.add_collection(LineCollection(segs, colors="#c8c8c8", linewidths=0.35, zorder=1))
            _draw_boundaries(ax, outputs)
            if bld is not None and len(bld) and col in bld.columns:
                pts = (bld if bld.crs is not None else bld.set_crs(4326)).to_crs(crs).geometry.representative_point()
                ok = bld[col].astype(float).to_numpy() <= thr
                ax.scatter(pts.x[~ok], pts.y[~ok], s=3, color="#d7191c", linewidths=0, zorder=3)
                ax.scatter(pts.x[ok], pts.y[ok], s=3, color="#1a9641", linewidths=0, zorder=3)
            if key == "scenario_after" and len(props):
                ax.scatter(props.geometry.x, props.geometry.y, s=70, marker="*", color="#6a1b9a", edgecolor="white",
                           linewidth=0.5, zorder=6)
                for n, (x, y) in enumerate(zip(props.geometry.x, props.geometry.y), start=1):
                    ax.annotate(str(n), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=6,
                                color="#6a1b9a", zorder=7)
            ax.set_title(t(key, lang), fontsize=9, pad=2)
            _decorate(ax, lang, outputs, small=True)
        handles = [Line2D([], [], marker="o", linestyle="", color="#1a9641", markersize=4, label=t("covered", lang)),
                   Line2D([], [], marker="o", linestyle="", color="#d7191c", markersize=4, label=t("not_covered", lang)),
                   Line2D([], [], marker="*", linestyle="", color="#6a1b9a", markersize=8, label=t("proposal_list", lang))]
        fig.legend(handles=handles, loc="lower center", ncols=3, fontsize=7, frameon=False)
        fig.suptitle(t("plan_map_title", lang, cat=label(category, lang), thr=thr), fontsize=9, y=0.99)
    return fig


def figure_png(fig: Any, dpi: int = 150) -> bytes:
    """Render a matplotlib Figure to PNG bytes (no pyplot state involved)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# --------------------------------------------------------------------------- PDF


def _fmt(v: Any, kind: str = "") -> str:
    """Cell text: percentages with one decimal, integers with separators, NaN as '—'."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "—"
    if kind == "pct":
        return f"{float(v) * 100:.1f}%"
    if kind == "int":
        return f"{int(round(float(v))):,}"
    if kind == "km":
        return f"{float(v):.2f}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.1f}" if not float(v).is_integer() else f"{int(v)}"
    return str(v)


_SUB_COLUMNS = (("subdistrict", ""), ("category", ""), ("threshold_m", "int"), ("facilities", "int"),
                ("buildings", "int"), ("buildings_covered", "int"), ("share_buildings_covered", "pct"),
                ("buildings_unreachable", "int"), ("street_km", "km"), ("share_street_covered", "pct"))
_GREEN_COLUMNS = (("subdistrict", ""), ("buildings", "int"), ("buildings_300m", "int"), ("buildings_500m", "int"),
                  ("share_300m", "pct"), ("share_500m", "pct"), ("share_served", "pct"))
_GAP_SUMMARY_COLUMNS = (("category", ""), ("count", "int"), ("n_buildings", "int"), ("street_m", "int"))
_GAP_COLUMNS = (("rank", "int"), ("gap_kind", ""), ("subdistrict", ""), ("label", ""), ("n_buildings", "int"),
                ("street_m", "int"))
_PLAN_COLUMNS = (("subdistrict", ""), ("category", ""), ("share_before", "pct"), ("share_after", "pct"), ("gain", "pct"),
                 ("buildings_uncovered_after", "int"), ("facilities_added", "int"), ("lscp_sites", "int"))
_PROPOSAL_COLUMNS = (("n", "int"), ("category", ""), ("subdistrict", ""), ("mention_name", ""), ("label", ""),
                     ("state", ""), ("buildings_newly_covered", "int"))


def to_pdf(outputs: CoverageOutputs, dest: Dest, lang: str = "zh", *, max_gaps: int = 15, dpi: int = 150) -> Dest:
    """Write a printable A4 gap report (reportlab platypus) with the CJK font embedded.

    Title page (area, date, parameters, overall coverage), coverage by
    subdistrict × category, 500 m green coverage, a map of gaps, per category
    a walking-distance map and the ranked gap list, then parameters and data
    sources with the OpenStreetMap attribution.

    Raises
    ------
    InputError
        No CJK font is installed (run ``scripts/setup``).
    """
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = _pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12.5, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5)
    cell = ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9)
    h1 = ParagraphStyle("h1", parent=base, fontSize=15, leading=20, spaceBefore=6, spaceAfter=8, keepWithNext=1)
    h2 = ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=5, keepWithNext=1)
    title = ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=14)
    sub_title = ParagraphStyle("subtitle", parent=base, fontSize=13, leading=18, alignment=TA_CENTER, spaceAfter=4)
    frame_w = A4[0] - 3.6 * cm

    def P(text: Any, style: ParagraphStyle = cell) -> Paragraph:
        return Paragraph(escape(str(text)), style)

    def table(df: pd.DataFrame, cols: tuple[tuple[str, str], ...], widths: list[float] | None = None) -> Table:
        cols = tuple((c, k) for c, k in cols if c in df.columns)
        data = [[P(column_label(c, lang)) for c, _ in cols]]
        for _, row in df.iterrows():
            data.append([P(_fmt(row[c], k)) if not k else _fmt(row[c], k) for c, k in cols])
        tab = Table(data, repeatRows=1, colWidths=widths if widths and len(widths) == len(cols) else None, hAlign="LEFT")
        style = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                 ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                 ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F5F5F5")])]
        for j, (_, k) in enumerate(cols):
            if k:
                style.append(("ALIGN", (j, 1), (j, -1), "RIGHT"))
        tab.setStyle(TableStyle(style))
        return tab

    def image(fig: Any) -> Image:
        png = figure_png(fig, dpi)
        w, h = fig.get_size_inches()
        width = frame_w
        return Image(io.BytesIO(png), width=width, height=width * h / w)

    speed, thr, cats = outputs.speed_m_per_min, outputs.thresholds, outputs.categories
    today = _dt.date.today().isoformat()
    sub = _label_values(outputs.subdistricts, lang)
    story: list[Any] = [Spacer(1, 3 * cm), Paragraph(escape(t("title", lang)), title)]
    if outputs.area_name:
        story.append(Paragraph(escape(outputs.area_name), sub_title))
    story.append(Spacer(1, 1 * cm))
    meta = [(t("area", lang), outputs.area_name), (t("date", lang), today),
            (t("profile", lang), label(outputs.profile, lang)),
            (t("walking_speed", lang), f"{speed:.0f} {t('m_per_min', lang)} ({speed / 60:.2f} m/s)")]
    scenario = outputs.params.get("scenario")
    if isinstance(scenario, dict) and scenario.get("key") in ("after", "before"):
        meta.append((t("scenario", lang), t("labelled", lang, label=t("scenario_" + scenario["key"], lang),
                                            text=t("scenario_" + scenario["key"] + "_note", lang))))
    if _weighting_text(outputs.params, lang):
        meta.append((column_label("weighting", lang), _weighting_text(outputs.params, lang)))
    layers = [x for x in outputs.params.get("facility_layers") or [] if isinstance(x, dict)]
    if layers:
        meta.append((t("sec_layers", lang), "; ".join(f"{x.get('label') or x.get('kind')} ({x.get('features', '')})"
                                                        for x in layers)))
    mt = Table([[P(k, base), P(v, base)] for k, v in meta], colWidths=[4 * cm, frame_w - 4 * cm], hAlign="LEFT")
    mt.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#BBBBBB"))]))
    story += [mt, Spacer(1, 0.6 * cm), Paragraph(escape(t("thresholds", lang)), h2)]
    thr_rows = [[P(column_label("category", lang)), P(column_label("threshold_m", lang)), P(column_label("threshold_min", lang)),
                 P(t("overall", lang))]]
    s = outputs.subdistricts
    for cat in cats:
        part = s[s["category"] == cat]
        share = (part["buildings_covered"].sum() / part["buildings"].sum()
                 if {"buildings_covered", "buildings"} <= set(s.columns) and part["buildings"].sum() > 0 else
                 (part["street_km_covered"].sum() / part["street_km"].sum()
                  if {"street_km_covered", "street_km"} <= set(s.columns) and part["street_km"].sum() > 0 else np.nan))
        thr_rows.append([P(label(cat, lang)), f"{thr[cat]:.0f}", f"{thr[cat] / speed:.1f}", _fmt(share, "pct")])
    tt = Table(thr_rows, repeatRows=1, colWidths=[4 * cm, 3 * cm, 3 * cm, 4 * cm], hAlign="LEFT")
    tt.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
                            ("ALIGN", (1, 1), (-1, -1), "RIGHT")]))
    story += [tt, Spacer(1, 0.4 * cm), Paragraph(escape(f"{t('sec_sources', lang)}: {ATTRIBUTION}"), small), PageBreak()]

    # 1 coverage by subdistrict
    story += [Paragraph(escape(f"1 {t('sheet_subdistricts', lang)}"), h1), Paragraph(escape(t("sec_sub_note", lang)), small), Spacer(1, 4)]
    widths = [c * cm for c in (2.4, 2.0, 1.4, 1.3, 1.5, 1.6, 1.6, 1.6, 1.6, 1.6)]
    story.append(table(sub, _SUB_COLUMNS, widths))

    # 2 green
    story += [Paragraph(escape(f"2 {column_label('share_served', lang)}"), h1),
              Paragraph(escape(t("sec_green_note", lang)), small), Spacer(1, 4)]
    if len(outputs.green):
        story.append(table(outputs.green, _GREEN_COLUMNS, [c * cm for c in (3.0, 2.0, 2.4, 2.4, 2.4, 2.4, 2.8)]))
        if "share_served" in outputs.green.columns:
            story.append(Spacer(1, 4))
            head = column_label("share_served", lang)
            items = [f"{r['subdistrict']} {head} {_fmt(r['share_served'], 'pct')}" for _, r in outputs.green.iterrows()]
            story.append(Paragraph(escape("；".join(items) if lang == "zh" else "; ".join(items)), base))
    else:
        story.append(Paragraph("—", base))
    story.append(PageBreak())

    # 3 gap map
    story += [Paragraph(escape(f"3 {t('sec_gapmap', lang)}"), h1), image(gaps_figure(outputs, lang)), Spacer(1, 4)]
    story += [table(gap_summary(outputs, lang), _GAP_SUMMARY_COLUMNS, [c * cm for c in (4.0, 3.0, 3.5, 4.0)]), PageBreak()]

    # 4 per category
    story.append(Paragraph(escape(f"4 {t('sec_cat', lang)}"), h1))
    gaps = pd.DataFrame(outputs.gaps.drop(columns="geometry", errors="ignore")).rename(columns={"kind": "gap_kind"})
    for i, cat in enumerate(cats, start=1):
        head = Paragraph(escape(f"4.{i} " + t("bracketed", lang, text=label(cat, lang),
                                              inner=f"{thr[cat]:.0f} {unit_label('m', lang)}")), h2)
        story.append(KeepTogether([head, image(coverage_figure(outputs, cat, lang, figsize=(7.2, 5.6)))]))
        g = gaps[gaps["category"].astype(str) == cat] if "category" in gaps.columns else gaps.iloc[0:0]
        if "rank" in g.columns:
            g = g.sort_values("rank")
        story.append(Paragraph(escape(t("gaps_top", lang)), base))
        if len(g):
            story.append(table(_label_values(g.head(max_gaps), lang), _GAP_COLUMNS, [c * cm for c in (1.2, 2.2, 2.6, 5.6, 2.0, 2.4)]))
        else:
            story.append(Paragraph(escape(t("gaps_none", lang)), small))
        story.append(PageBreak())

    # 5 the plan
    plan = outputs.plan
    if plan is not None:
        story += [Paragraph(escape(f"5 {t('sec_plan', lang)}"), h1), Paragraph(escape(t("sec_plan_note", lang)), small),
                  Spacer(1, 4)]
        with_homes = plan.table[plan.table["buildings"] > 0] if "buildings" in plan.table.columns else plan.table
        story.append(table(_label_values(with_homes, lang), _PLAN_COLUMNS, [c * cm for c in (2.6, 2.2, 1.7, 1.7, 1.5, 2.1, 1.7, 2.0)]))
        props = plan.proposals
        for cat in [c for c in CATEGORY_KEYS if len(props) and (props["category"].astype(str) == c).any()]:
            story.append(KeepTogether([image(plan_figure(outputs, cat, lang))]))
        story.append(Paragraph(escape(t("proposal_list", lang)), h2))
        if len(props):
            from .plan import PROPOSAL_STATES

            order = {c: i for i, c in enumerate(CATEGORY_KEYS)}
            lst = pd.DataFrame(props.drop(columns="geometry")).sort_values(
                "category", key=lambda s: s.map(order), kind="stable")
            lst.insert(0, "n", lst.groupby("category").cumcount() + 1)
            lst["state"] = lst["state"].map(lambda s: PROPOSAL_STATES[s][lang != "zh"] if s in PROPOSAL_STATES else s)
            story.append(table(_label_values(lst, lang), _PROPOSAL_COLUMNS,
                               [c * cm for c in (0.8, 2.0, 2.4, 4.2, 3.6, 1.5, 1.6)]))
        else:
            story.append(Paragraph(escape(t("no_proposals", lang)), small))
        story.append(PageBreak())

    # 6 parameters and sources (5 without a plan)
    psec = 6 if plan is not None else 5
    story.append(Paragraph(escape(f"{psec} {t('sheet_params', lang)}"), h1))
    params = params_table(outputs, lang)
    grid = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                       ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999"))])
    for k, (section, part) in enumerate(params.groupby("section", sort=False), start=1):
        story.append(Paragraph(escape(f"{psec}.{k} {section}"), h2))
        if section == t("sec_warnings", lang):
            for n, w in enumerate(part["value"], start=1):
                story.append(Paragraph(escape(f"{n}. {w}"), small))
            continue
        cols = ["parameter", "value"] + (["standard"] if part["standard"].astype(bool).any() else [])
        widths = ([3.6 * cm, 4.4 * cm, frame_w - 8.0 * cm] if len(cols) == 3 else [5.0 * cm, frame_w - 5.0 * cm])
        rows = [[P(column_label(c, lang)) for c in cols]] + [[P(v) for v in r] for r in part[cols].itertuples(index=False)]
        ptab = Table(rows, repeatRows=1, colWidths=widths, hAlign="LEFT")
        ptab.setStyle(grid)
        story.append(ptab)

    footer = f"lifecircle · {t('generated', lang)} {today} · {ATTRIBUTION}"

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(1.8 * cm, 1.0 * cm, footer)
        canvas.drawRightString(A4[0] - 1.8 * cm, 1.0 * cm, t("page", lang, n=doc.page))
        canvas.restoreState()

    from reportlab import rl_config

    a85 = rl_config.useA85
    with _sink(dest, ".pdf") as tmp, _restore(rl_config, "useA85", a85):
        rl_config.useA85 = 0  # binary image streams: smaller, and no slow pure-Python ASCII85
        doc = SimpleDocTemplate(str(tmp), pagesize=A4, leftMargin=1.8 * cm, rightMargin=1.8 * cm, topMargin=1.6 * cm,
                                bottomMargin=1.8 * cm, title=t("title", lang), author="lifecircle",
                                subject=outputs.area_name, creator="lifecircle (reportlab)")
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return dest


@contextlib.contextmanager
def _restore(obj: Any, attr: str, value: Any) -> Iterator[None]:
    try:
        yield
    finally:
        setattr(obj, attr, value)


def _pdf_font() -> str:
    from .fonts import reportlab_font

    return reportlab_font()


# --------------------------------------------------------------------------- CLI


def cli_report(args: Any) -> int:
    """``lifecircle report OUTDIR -o report.(xlsx|pdf|gpkg|zip)``: write by suffix, print what was written."""
    out = Path(args.output)
    suffix = out.suffix.lower()
    writers = {".xlsx": "xlsx", ".pdf": "pdf", ".gpkg": "gpkg", ".zip": "zip"}
    if suffix not in writers:
        raise InputError("输出文件须以 .xlsx、.pdf、.gpkg 或 .zip 结尾。",
                         "the output must end in .xlsx, .pdf, .gpkg or .zip.", out)
    from .io import check_writable
    from .outdir import check_not_input, owners, register_output
    from .pipeline import legacy_owners

    check_writable(out)  # before the slow part (and before openpyxl holds half a workbook)

    src = Path(args.outdir)  # report.xlsx may go into it, but never onto a file coverage wrote there
    legacy = legacy_owners(src)
    read = [n for n, cmd in owners(src, legacy).items() if cmd == "coverage"] if src.is_dir() else []
    check_not_input(out, [src / n for n in {*read, *READ_FILES}])
    outputs = load_outdir(args.outdir)
    lang = getattr(args, "lang", "zh")
    kind = writers[suffix]
    if kind == "xlsx":
        to_xlsx(outputs, out, lang)
    elif kind == "pdf":
        to_pdf(outputs, out, lang)
    elif kind == "gpkg":
        to_geopackage(outputs, out)
    else:
        to_csv(outputs, out, lang)
    # a report inside a coverage OUTDIR is kept when coverage re-runs
    register_output(out, "report", legacy if out.parent.resolve() == src.resolve() else None)
    size = out.stat().st_size / 1024
    print(f"{t('cli_written', lang, o=out)} ({size:.0f} KB)")
    return 0
