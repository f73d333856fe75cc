"""``lifecircle coverage``: run a study, write its OUTDIR atomically, print a summary.

The study (:class:`geo.study.Study`) is built from the arguments or loaded
with ``--study``; :func:`geo.study.run_study` computes it (the app and the
notebook call the same function); :func:`write_outputs` writes the coverage
OUTDIR of ``docs/ARCHITECTURE.md``::

    subdistricts.csv  streets.gpkg  buildings.gpkg  gaps.geojson  green.csv  facilities.gpkg  params.json

``params.json`` holds the study, so ``lifecircle coverage --study OUTDIR/params.json``
computes the same result again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .areas import ATTRIBUTION, json_default, quiet_libraries
from .categories import CATEGORY_KEYS, label
from .coverage import CoverageResult, named_streets
from .demand import PERSONS_PER_HOUSEHOLD
from .errors import InputError, Message
from .i18n import t
from .io import as_wgs84, gpkg_safe, require_file, to_csv_bom
from .outdir import check_not_input, check_outdir, owned_dir
from .progress import stderr_progress
from .study import FacilityLayer, Study, StudyResult, Threshold, parse_threshold, run_study

__all__ = ["OUTPUT_FILES", "legacy_owners", "write_outputs", "parse_thresholds", "study_from_args", "summary_table", "cli_coverage"]

OUTPUT_FILES = ("subdistricts.csv", "streets.gpkg", "buildings.gpkg", "gaps.geojson", "green.csv",
                "facilities.gpkg", "params.json")
WRITES = (*OUTPUT_FILES, "named_streets.csv")  # every name coverage may write into OUTDIR


def write_outputs(result: StudyResult | CoverageResult, outdir: str | Path, *,
                  facilities: gpd.GeoDataFrame | None = None, force: bool = False) -> Path:
    """Write the coverage OUTDIR of a study atomically (nothing partial is ever left).

    Files: ``subdistricts.csv``, ``green.csv`` and, when streets have names,
    ``named_streets.csv`` (UTF-8 with BOM),
    ``streets.gpkg``, ``buildings.gpkg`` (only with buildings), ``gaps.geojson``,
    ``facilities.gpkg`` and ``params.json``; geodata in WGS-84. Only these
    are replaced: other files in OUTDIR (``report.xlsx`` ...) are kept, and a
    folder holding files lifecircle did not write is refused unless ``force``
    (:mod:`geo.outdir`).
    """
    if isinstance(result, StudyResult):
        facilities = result.facilities if facilities is None else facilities
        result = result.coverage
    out = Path(outdir)
    with owned_dir(out, "coverage", WRITES, force=force, legacy=legacy_owners(out)) as tmp:
        to_csv_bom(result.subdistricts, tmp / "subdistricts.csv")
        by_name = named_streets(result.streets, result.params.get("thresholds"))
        if len(by_name):  # only networks with street names (OSM XML/PBF/online; not the shared line layer)
            to_csv_bom(by_name, tmp / "named_streets.csv")
        gpkg_safe(as_wgs84(result.streets)).to_file(tmp / "streets.gpkg", layer="streets", engine="pyogrio")
        if result.buildings is not None:
            gpkg_safe(as_wgs84(result.buildings)).to_file(tmp / "buildings.gpkg", layer="buildings", engine="pyogrio")
        gaps = as_wgs84(result.gaps)
        if len(gaps):
            gpkg_safe(gaps).to_file(tmp / "gaps.geojson", driver="GeoJSON", engine="pyogrio")
        else:
            (tmp / "gaps.geojson").write_text('{"type": "FeatureCollection", "features": []}\n', encoding="utf-8")
        green = result.green if result.green is not None else pd.DataFrame(columns=["subdistrict", "buildings"])
        to_csv_bom(green, tmp / "green.csv")
        if facilities is not None:
            gpkg_safe(as_wgs84(facilities)).to_file(tmp / "facilities.gpkg", layer="facilities", engine="pyogrio")
        params = dict(result.params)
        params["warnings"] = [Message.coerce(w).to_dict() for w in result.warnings]
        params.setdefault("attribution", ATTRIBUTION)
        params["files"] = sorted(p.name for p in tmp.iterdir()) + ["params.json"]
        (tmp / "params.json").write_text(json.dumps(params, ensure_ascii=False, indent=1, default=json_default),
                                         encoding="utf-8")
    return out


def parse_thresholds(items: list[str]) -> dict[str, Threshold]:
    """``["park=300", "elderly_care=10min"]`` → ``{"park": Threshold(300, "m"), ...}`` (InputError on bad syntax)."""
    return dict(parse_threshold(item) for item in items or [])


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
    tab.insert(0, t("cli_network_share", lang), [pct(share[s]) for s in tab.index])
    tab.index.name = None
    return tab


def legacy_owners(outdir: Path) -> dict[str, str]:
    """A coverage OUTDIR written before the manifest (geo.outdir): the files its params.json lists,
    and the reports ``scripts/run`` has always written beside them."""
    try:
        files = json.loads((outdir / "params.json").read_text(encoding="utf-8")).get("files") or WRITES
    except (OSError, ValueError, AttributeError):
        return {}
    return {**{str(n): "coverage" for n in files}, "report.xlsx": "report", "report.pdf": "report"}


def _prepare_outdir(outdir: Path, study: Study, *, force: bool = False) -> None:
    """Before the work: OUTDIR may be written (not a file, no foreign files unless ``force``, none of the study's inputs).

    The study file itself may be ``OUTDIR/params.json``: it is read before anything is written.
    """
    inputs = [study.area, study.network, study.boundaries, study.buildings,
              *(x for layer in study.layers for x in (layer.path, layer.corrections))]
    check_not_input(outdir, inputs, replaces=WRITES)
    check_outdir(outdir, "coverage", WRITES, force=force, legacy=legacy_owners(outdir))


def study_from_args(args: Any) -> Study:
    """The :class:`Study` the ``coverage`` arguments describe (``--study FILE``, or the separate flags)."""
    if getattr(args, "study", None):
        given = [f for f in ("area", "network", "facilities", "boundaries", "buildings", "threshold", "speed",
                             "persons_per_household", "m2_per_person") if getattr(args, f, None) not in (None, [], "")]
        if given or args.no_planned or args.profile != "default":
            raise InputError("--study 已包含全部参数，不能再与 --area/--network/--facilities/--threshold 等同时使用。",
                             "--study holds every parameter; do not combine it with --area/--network/--facilities/"
                             "--threshold and the like.")
        return Study.load(args.study).replace(lang=args.lang)
    layers = tuple(FacilityLayer.of_file("table", f) for f in args.facilities or [])
    if args.network and not layers:
        raise InputError("请用 --facilities 给出至少一个设施文件。", "give at least one facilities file with --facilities.")
    return Study(area=str(Path(args.area).resolve()) if args.area else "",
                 network=str(Path(args.network).resolve()) if args.network else "",
                 boundaries=str(Path(args.boundaries).resolve()) if args.boundaries else "",
                 boundary_name=args.boundary_name or "",
                 buildings=str(Path(args.buildings).resolve()) if args.buildings else "",
                 layers=layers, thresholds=parse_thresholds(args.threshold), profile=args.profile,
                 speed_m_per_min=args.speed, include_planned=not args.no_planned, lang=args.lang,
                 persons_per_household=PERSONS_PER_HOUSEHOLD if getattr(args, "persons_per_household", None) is None
                 else args.persons_per_household,
                 m2_per_person=getattr(args, "m2_per_person", None))


@quiet_libraries
def cli_coverage(args: Any) -> int:
    """``lifecircle coverage``: run the study the arguments describe, write OUTDIR, print a summary table."""
    lang = args.lang
    zh = lang == "zh"
    outdir = Path(args.outdir)
    study = study_from_args(args)
    _prepare_outdir(outdir, study, force=args.force)
    progress = stderr_progress()
    for name in ("network", "boundaries", "buildings"):
        if getattr(study, name):
            require_file(getattr(study, name))
    result = run_study(study, progress=progress)
    write_outputs(result, outdir, force=args.force)
    tab = summary_table(result.coverage, lang)
    speed = result.study.speed
    print(t("cli_coverage_head", lang, s=speed))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(tab.to_string())
    weighting = result.params["demand_weighting"]
    print(t("cli_demand_weighting", lang, label=weighting["label" if zh else "label_en"]))
    for w in result.warnings:
        print(t("cli_warning", lang) + w.text(lang), file=sys.stderr)
    print(t("cli_written", lang, o=outdir))
    print(ATTRIBUTION)
    return 0
