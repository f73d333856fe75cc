"""``lifecircle coverage``: load inputs, compute walking coverage, write OUTDIR atomically, print a summary.

:func:`run_coverage` is the API the CLI and the app share; :func:`write_outputs`
writes the coverage OUTDIR of ``docs/ARCHITECTURE.md``::

    subdistricts.csv  streets.gpkg  buildings.gpkg  gaps.geojson  green.csv  facilities.gpkg  params.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import facilities as fac
from .areas import (ATTRIBUTION, FACILITY_BUFFER_M, json_default, load_area, load_network_file, network_extent, quiet_libraries,
                    with_building_ids)
from .boundaries import read_boundaries
from .categories import CATEGORIES, CATEGORY_KEYS, PROFILES, label
from .coverage import CoverageResult, compute_distances, named_streets, summarize
from .errors import InputError, Message, warn
from .io import as_wgs84, atomic_dir, read_vector, to_csv_bom
from .network import WalkNetwork
from .progress import null_progress, stderr_progress

__all__ = ["OUTPUT_FILES", "run_coverage", "write_outputs", "parse_thresholds", "summary_table", "cli_coverage"]

OUTPUT_FILES = ("subdistricts.csv", "streets.gpkg", "buildings.gpkg", "gaps.geojson", "green.csv",
                "facilities.gpkg", "params.json")
WGS84 = "EPSG:4326"


def _sources_cited(speed_source: str | None) -> dict:
    """Thresholds' standards from the taxonomy table (never restated here)."""
    out = {c.key: {"label": c.zh, "label_en": c.en, "threshold_m": c.threshold_m, "standard": c.standard,
                   "standard_en": c.standard_en} for c in CATEGORIES.values()}
    return {"categories": out, "walking_speed": speed_source}


def _check_overlap(net: WalkNetwork, boundaries: gpd.GeoDataFrame | None, path) -> None:
    if boundaries is None or not len(boundaries):
        return
    ext = network_extent(net)
    b = as_wgs84(boundaries)
    if not b.intersects(ext).any():
        raise InputError("边界与路网范围不相交：请检查边界文件是否对应该路网（以及坐标系是否正确）。",
                         "the boundaries do not intersect the network; check that they belong to this network "
                         "(and that their CRS is right).", path)


def _outside_warning(facilities: gpd.GeoDataFrame, net: WalkNetwork,
                     boundaries: gpd.GeoDataFrame | None) -> str | None:
    """Count facilities outside the study area (boundaries, else the network extent)."""
    if not len(facilities):
        return None
    if boundaries is not None and len(boundaries):
        area = shapely.union_all(boundaries.to_crs(WGS84).geometry.values)
    else:
        area = network_extent(net)
    outside = ~facilities.to_crs(WGS84).intersects(area)
    n = int(outside.sum())
    if not n:
        return None
    return warn(f"{n} 个设施位于研究区边界之外；它们在步行可达范围内时仍计入覆盖。",
                f"{n} facilities lie outside the study area; they still count where they are within walking reach.")


def run_coverage(network: WalkNetwork, facilities: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None,
                 buildings: gpd.GeoDataFrame | None = None, *, profile: str = "default",
                 speed_m_per_min: float | None = None, thresholds: dict[str, float] | None = None,
                 include_planned: bool = True, progress: Callable[[float, str], None] | None = None,
                 inputs: dict | None = None) -> CoverageResult:
    """Walking coverage of every taxonomy category on ``network``.

    Parameters
    ----------
    network : WalkNetwork
    facilities : GeoDataFrame
        Facilities schema (any source, see :mod:`geo.facilities`).
    boundaries : GeoDataFrame or None
        ``subdistrict`` (and ``district``) polygons; None reports one area.
    buildings : GeoDataFrame, optional
        Footprints; without them streets are the only demand.
    profile : str
        Walking profile key of :data:`geo.categories.PROFILES`.
    speed_m_per_min : float, optional
        Overrides the profile's speed.
    thresholds : dict, optional
        Per-category threshold overrides in metres.
    include_planned : bool
        False drops ``planned`` facilities (the before-the-plan scenario).
    inputs : dict, optional
        Input paths, recorded in ``params`` and named in errors.

    Returns
    -------
    CoverageResult
        With ``result.facilities`` set to the facilities used (WGS-84).
    """
    progress = progress or null_progress
    inputs = dict(inputs or {})
    if profile not in PROFILES:
        raise InputError(f"未知的步行速度档：{profile}（可用：{', '.join(PROFILES)}）。",
                         f"unknown walking profile: {profile} (use {', '.join(PROFILES)}).")
    if speed_m_per_min is not None and not (math.isfinite(speed_m_per_min) and speed_m_per_min > 0):
        raise InputError(f"步行速度必须是正数（米/分钟），得到 {speed_m_per_min!r}。",
                         f"walking speed must be a positive number of metres per minute, got {speed_m_per_min!r}.")
    _check_overlap(network, boundaries, inputs.get("boundaries"))
    used = fac.filter_scenario(fac.normalize_facilities(facilities), include_planned)
    warnings = list(facilities.attrs.get("warnings", []))
    w = _outside_warning(used, network, boundaries)
    if w:
        warnings.append(w)

    def sub(frac: float, msg: str) -> None:
        progress(0.02 + 0.88 * frac, msg)

    dist = compute_distances(network, used, buildings, progress=sub)
    progress(0.92, "summarizing")
    if speed_m_per_min is not None:
        result = summarize(dist, boundaries, thresholds=thresholds, speed_m_per_min=float(speed_m_per_min))
        speed_source = "user --speed"
    else:
        result = summarize(dist, boundaries, thresholds=thresholds, profile=profile)
        speed_source = PROFILES[profile].source
    result.warnings = warnings + [x for x in result.warnings if x not in warnings]
    result.params.update({
        "include_planned": bool(include_planned),
        "inputs": {k: (str(v) if isinstance(v, Path) else v) for k, v in inputs.items()},
        "facilities_by_source": {k: int(v) for k, v in used["source"].value_counts().items()},
        "facilities_planned_dropped": int(len(facilities) - len(used)),
        "sources": _sources_cited(speed_source),
        "attribution": ATTRIBUTION,
        "warnings": [w.to_dict() for w in result.warnings],
    })
    result.facilities = used.to_crs(WGS84)  # what was used, for facilities.gpkg
    progress(1.0, "coverage done")
    return result


def _gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GeoPackage can store: object/str columns as plain str ('' for missing), bools kept."""
    out = gdf.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        s = out[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[c] = s.astype(object).where(s.notna(), None)
    return out


def write_outputs(result: CoverageResult, outdir: str | Path, *,
                  facilities: gpd.GeoDataFrame | None = None) -> Path:
    """Write the coverage OUTDIR atomically (nothing partial is ever left).

    Files: ``subdistricts.csv``, ``green.csv`` and, when streets have names,
    ``named_streets.csv`` (UTF-8 with BOM),
    ``streets.gpkg``, ``buildings.gpkg`` (only with buildings), ``gaps.geojson``,
    ``facilities.gpkg`` and ``params.json``; geodata in WGS-84.
    """
    facilities = facilities if facilities is not None else getattr(result, "facilities", None)
    out = Path(outdir)
    with atomic_dir(out) as tmp:
        to_csv_bom(result.subdistricts, tmp / "subdistricts.csv")
        by_name = named_streets(result.streets, result.params.get("thresholds"))
        if len(by_name):  # only networks with street names (OSM XML/PBF/online; not the shared line layer)
            to_csv_bom(by_name, tmp / "named_streets.csv")
        _gpkg_safe(as_wgs84(result.streets)).to_file(tmp / "streets.gpkg", layer="streets", engine="pyogrio")
        if result.buildings is not None:
            _gpkg_safe(as_wgs84(result.buildings)).to_file(tmp / "buildings.gpkg", layer="buildings", engine="pyogrio")
        gaps = as_wgs84(result.gaps)
        if len(gaps):
            _gpkg_safe(gaps).to_file(tmp / "gaps.geojson", driver="GeoJSON", engine="pyogrio")
        else:
            (tmp / "gaps.geojson").write_text('{"type": "FeatureCollection", "features": []}\n', encoding="utf-8")
        green = result.green if result.green is not None else pd.DataFrame(columns=["subdistrict", "buildings"])
        to_csv_bom(green, tmp / "green.csv")
        if facilities is not None:
            _gpkg_safe(as_wgs84(facilities)).to_file(tmp / "facilities.gpkg", layer="facilities", engine="pyogrio")
        params = dict(result.params)
        params["warnings"] = [Message.coerce(w).to_dict() for w in result.warnings]
        params.setdefault("attribution", ATTRIBUTION)
        params["files"] = sorted(p.name for p in tmp.iterdir()) + ["params.json"]
        (tmp / "params.json").write_text(json.dumps(params, ensure_ascii=False, indent=1, default=json_default),
                                         encoding="utf-8")
    return out


def parse_thresholds(items: list[str]) -> dict[str, float]:
    """``["park=300", "health=800"]`` → ``{"park": 300.0, "health": 800.0}`` (InputError on bad syntax)."""
    out = {}
    for item in items or []:
        key, sep, val = str(item).partition("=")
        key = key.strip()
        try:
            metres = float(val)
        except ValueError:
            metres = float("nan")
        if not sep or key not in CATEGORIES or not (math.isfinite(metres) and metres > 0):
            raise InputError(f"--threshold {item!r} 无效：应为 类别=米数，类别取 {', '.join(CATEGORY_KEYS)}。",
                             f"invalid --threshold {item!r}: use CATEGORY=METRES with one of {', '.join(CATEGORY_KEYS)}.")
        out[key] = metres
    return out


def summary_table(result: CoverageResult, lang: str = "zh") -> pd.DataFrame:
    """Per subdistrict × category: share of buildings covered and of street length covered, in %.

    Cells read ``buildings% / street%`` (``-`` where a subdistrict has no buildings).
    """
    zh = lang == "zh"
    df = result.subdistricts

    def pct(v) -> str:
        return "-" if not np.isfinite(v) else f"{v * 100:.0f}"

    cells = df.assign(cell=[f"{pct(b)}/{pct(s)}" for b, s in zip(df["share_buildings_covered"].astype(float),
                                                                  df["share_street_covered"].astype(float))])
    tab = cells.pivot(index="subdistrict", columns="category", values="cell")
    tab = tab.reindex(index=list(dict.fromkeys(df["subdistrict"])),
                      columns=[c for c in CATEGORY_KEYS if c in tab.columns])
    tab.columns = [label(c, "zh" if zh else "en") for c in tab.columns]
    share = df.drop_duplicates("subdistrict").set_index("subdistrict")["network_share_in_area"]
    tab.insert(0, "路网覆盖%" if zh else "network%", [pct(share[s]) for s in tab.index])
    tab.index.name = None
    return tab


def _prepare_outdir(outdir: Path) -> None:
    """Refuse to replace a folder that is not a coverage OUTDIR (it would be deleted)."""
    if outdir.exists():
        if not outdir.is_dir():
            raise InputError("输出路径是一个文件，请指定文件夹。", "the output path is a file; give a folder.", outdir)
        if any(outdir.iterdir()) and not (outdir / "params.json").exists():
            raise InputError("输出文件夹已存在且不是 coverage 的输出，为避免覆盖请换一个文件夹。",
                             "the output folder exists and is not a coverage output; choose another folder "
                             "so nothing is overwritten.", outdir)


def _read_buildings(path: str) -> gpd.GeoDataFrame:
    b = read_vector(path)
    if not len(b):
        raise InputError("建筑文件没有要素。", "the buildings file has no features.", path)
    b = with_building_ids(b, Path(path).stem)
    if not len(b):
        raise InputError("建筑文件中没有面要素（建筑轮廓）。", "the buildings file has no polygons (footprints).", path)
    return b


@quiet_libraries
def cli_coverage(args) -> int:
    """``lifecircle coverage``: compute and write OUTDIR, print a summary table."""
    lang = getattr(args, "lang", "zh")
    zh = lang == "zh"
    outdir = Path(args.outdir)
    _prepare_outdir(outdir)
    thresholds = parse_thresholds(args.threshold)
    progress = stderr_progress()
    inputs: dict = {}
    if args.area:
        area = load_area(args.area, context=False)
        net, facilities, boundaries, buildings = area.network, area.facilities, area.boundaries, area.buildings
        inputs["area"] = str(area.root)
        if args.network:
            raise InputError("--area 与 --network 只能二选一。", "give either --area or --network, not both.")
    elif args.network:
        progress(0.0, f"network: {args.network}")
        net = load_network_file(args.network)
        inputs["network"] = args.network
        facilities = boundaries = buildings = None
        if not args.facilities:
            raise InputError("请用 --facilities 给出至少一个设施文件。", "give at least one facilities file with --facilities.")
    else:
        raise InputError("请给出 --area（已准备的研究区）或 --network（路网文件）。",
                         "give --area (a prepared study area) or --network (a network file).")
    near = network_extent(net, FACILITY_BUFFER_M)
    if args.facilities:
        parts = [facilities] if facilities is not None else []
        for f in args.facilities:
            progress(0.0, f"facilities: {f}")
            parts.append(fac.read_facilities(f, mask=near))
        inputs["facilities"] = list(args.facilities)
        facilities = fac.dedupe(fac.combine(*parts))
    if args.boundaries:
        boundaries = read_boundaries(args.boundaries, args.boundary_name)
        inputs["boundaries"] = args.boundaries
    if args.buildings:
        buildings = _read_buildings(args.buildings)
        inputs["buildings"] = args.buildings
    result = run_coverage(net, facilities, boundaries, buildings, profile=args.profile, speed_m_per_min=args.speed,
                          thresholds=thresholds, include_planned=not args.no_planned, progress=progress,
                          inputs=inputs)
    write_outputs(result, outdir)
    tab = summary_table(result, lang)
    speed = result.params.get("speed_m_per_min")
    print(("步行覆盖率（建筑% / 道路长度%；步速 {s:g} 米/分钟）" if zh else
           "walking coverage (buildings % / street length %; speed {s:g} m/min)").format(s=speed))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(tab.to_string())
    for w in result.warnings:
        print(("警告：" if zh else "warning: ") + w.text(lang), file=sys.stderr)
    print(("已写入 {o}" if zh else "written to {o}").format(o=outdir))
    print(ATTRIBUTION)
    return 0
