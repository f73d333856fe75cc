"""The ``lifecircle`` command line. Each sub-command is a thin call into the geo API.

Handlers live beside the code they drive (``geo.<module>.cli_<command>``) and
take the parsed arguments; they return an exit code. Any
:class:`~geo.errors.LifecircleError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .categories import CATEGORY_KEYS, PROFILES
from .errors import LifecircleError, ui_lang

__all__ = ["build_parser", "main"]

# command -> "module:function"
HANDLERS = {
    "prepare": "geo.areas:cli_prepare",
    "coverage": "geo.pipeline:cli_coverage",
    "extract": "geo.texts:cli_extract",
    "geocode": "geo.geocode:cli_geocode",
    "locate": "geo.places:cli_locate",
    "report": "geo.report:cli_report",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    p = argparse.ArgumentParser(prog="lifecircle", description="15分钟社区生活圈步行覆盖分析 / 15-minute life-circle walking coverage")
    p.add_argument("--lang", choices=["zh", "en"], help="message language (default: LIFECIRCLE_LANG or zh)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("prepare", help="prepare a study area under data/areas/<area>/")
    s.add_argument("--area", default="xinjiangwan", help="area id (folder name under data/areas)")
    s.add_argument("--from", dest="from_dir", metavar="DIR", help="offline mirror directory, e.g. ../shared/data")
    s.add_argument("--place", help='place query for OSM online, e.g. "新江湾城街道, 杨浦区, 上海市"')
    s.add_argument("--data-dir", default="data", help="root of prepared data (default: data)")

    s = sub.add_parser("coverage", help="walking coverage of facilities on a network")
    s.add_argument("--area", help="a prepared area folder (data/areas/<area>) instead of the separate inputs")
    s.add_argument("--network", help="OSM XML/PBF or a road line layer (GeoJSON/GPKG/SHP)")
    s.add_argument("--facilities", action="append", default=[], help="facility file (repeatable)")
    s.add_argument("--boundaries", help="subdistrict boundaries")
    s.add_argument("--boundary-name", help="name column of the boundaries (detected if omitted)")
    s.add_argument("--buildings", help="building footprints (optional; without them streets are the demand)")
    s.add_argument("--speed", type=float, help="walking speed in metres per minute (overrides --profile)")
    s.add_argument("--profile", choices=sorted(PROFILES), default="default", help="walking profile")
    s.add_argument("--study", metavar="FILE", help="a saved study or an OUTDIR/params.json: run it again "
                   "(holds every other input and parameter)")
    s.add_argument("--threshold", action="append", default=[], metavar="CAT=M|CAT=Nmin",
                   help="a category threshold in metres (park=300) or walking minutes (elderly_care=10min); "
                        f"categories: {', '.join(CATEGORY_KEYS)}")
    s.add_argument("--no-planned", action="store_true", help="exclude planned facilities (before-the-plan scenario)")
    s.add_argument("-o", "--outdir", required=True, help="output directory")

    s = sub.add_parser("extract", help="extract facility mentions from policy texts")
    s.add_argument("texts", nargs="+", help=".txt (any Chinese encoding), .docx or .pdf")
    s.add_argument("-o", "--output", required=True, help="facilities.csv")

    s = sub.add_parser("geocode", help="match extracted facilities to OSM features")
    s.add_argument("facilities", help="facilities.csv from `lifecircle extract`")
    s.add_argument("--pois", action="append", default=[], required=True,
                   help="Geofabrik folder or shapefile, OSM XML/PBF, or a facility list (repeatable)")
    s.add_argument("--boundaries", action="append", default=[],
                   help="district or subdistrict boundaries to scope matches (repeatable: districts + subdistricts)")
    s.add_argument("--corrections", help="corrections file to re-apply (CSV or GeoJSON)")
    s.add_argument("--provider", choices=["tianditu", "amap"],
                   help="also look up what OSM lacks online (key from LIFECIRCLE_TIANDITU_KEY / LIFECIRCLE_AMAP_KEY)")
    s.add_argument("-o", "--output", required=True, help="geocoded.csv | .geojson | .gpkg")

    s = sub.add_parser("locate", help="locate official-list rows that have an address but no coordinates")
    s.add_argument("table", help="facility list (CSV/XLSX/GeoJSON/GPKG) with an address column")
    s.add_argument("--datum", default="wgs84", choices=["wgs84", "gcj02", "bd09"], help="datum of its coordinates")
    s.add_argument("--provider", choices=["tianditu", "amap"],
                   help="look addresses up online (key from LIFECIRCLE_TIANDITU_KEY / LIFECIRCLE_AMAP_KEY)")
    s.add_argument("-o", "--output", required=True, help="located.csv (WGS-84; accepted by coverage --facilities)")

    s = sub.add_parser("report", help="export a coverage output folder as XLSX or PDF")
    s.add_argument("outdir", help="output folder of `lifecircle coverage`")
    s.add_argument("-o", "--output", required=True, help="report.xlsx | report.pdf")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lifecircle`` console script."""
    args = build_parser().parse_args(argv)
    if args.lang:
        os.environ["LIFECIRCLE_LANG"] = args.lang
    module, func = HANDLERS[args.command].split(":")
    try:
        handler = getattr(importlib.import_module(module), func)
        return int(handler(args) or 0)
    except LifecircleError as exc:
        word = "错误" if ui_lang() == "zh" else "error"
        print(f"lifecircle {args.command}: {word}: {exc.message()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
