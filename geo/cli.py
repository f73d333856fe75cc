"""The ``lifecircle`` command line. Each sub-command is a thin call into the geo API.

Handlers live beside the code they drive (``geo.<module>.cli_<command>``) and
take the parsed arguments; they return an exit code. Any
:class:`~geo.errors.LifecircleError` becomes one line on stderr and exit code 2;
so does an operating-system fault (``OSError``: permissions, read-only folders,
a file where a folder is needed, a full disk), named with its path. Anything
else is a bug: one line saying so (exit code 1), the traceback goes to a log file.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .categories import CATEGORY_KEYS, PROFILES
from .errors import LifecircleError, error_summary, log_traceback, os_error
from .i18n import t

__all__ = ["build_parser", "main"]

# command -> "module:function"
HANDLERS = {
    "prepare": "geo.areas:cli_prepare",
    "coverage": "geo.pipeline:cli_coverage",
    "extract": "geo.texts:cli_extract",
    "geocode": "geo.geocode:cli_geocode",
    "locate": "geo.places:cli_locate",
    "report": "geo.report:cli_report",
    "site": "geo.siting:cli_site",
    "plan": "geo.plan:cli_plan",
    "app": "geo.ui:cli_app",
}

FORCE_HELP = ("write into a folder that holds files lifecircle did not write (they are kept, never deleted); "
              "without it such a folder is refused")


def _add_inputs(s: argparse.ArgumentParser) -> None:
    """The study-area inputs shared by ``coverage`` and ``site``."""
    s.add_argument("--area", help="a prepared area folder (data/areas/<area>) instead of the separate inputs")
    s.add_argument("--network", help="OSM XML/PBF or a road line layer (GeoJSON/GPKG/SHP)")
    s.add_argument("--facilities", action="append", default=[], help="facility file (repeatable)")
    s.add_argument("--boundaries", help="subdistrict boundaries")
    s.add_argument("--boundary-name", help="name column of the boundaries (detected if omitted)")


def _add_demand(s: argparse.ArgumentParser) -> None:
    """The demand-weighting flags shared by ``coverage`` and ``site`` (:func:`geo.demand.demand_weights`)."""
    s.add_argument("--persons-per-household", type=float, metavar="N",
                   help="residents per household when demand has a 户数/households column (default: the Shanghai "
                        "7th-census average, geo.demand.PERSONS_PER_HOUSEHOLD; with --study: the study's)")
    s.add_argument("--m2-per-person", type=float, metavar="M2",
                   help="floor area per resident: turns floor-area weights (footprint x levels) into residents "
                        "(default: none, floor area stays m2; with --study: the study's)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    p = argparse.ArgumentParser(prog="lifecircle", description="15分钟社区生活圈步行覆盖分析 / 15-minute life-circle walking coverage")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of messages and reports (default: zh)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("prepare", help="prepare a study area under data/areas/<area>/")
    s.add_argument("--area", help="area id (folder name under data/areas; default xinjiangwan, or the pinyin "
                   "of --subdistrict)")
    s.add_argument("--from", dest="from_dir", metavar="DIR", help="offline mirror directory, e.g. ../shared/data")
    s.add_argument("--place", help='place query for OSM online, e.g. "新江湾城街道, 杨浦区, 上海市"')
    s.add_argument("--data-dir", default="data", help="root of prepared data (default: data)")
    s.add_argument("--subdistrict", metavar="NAME",
                   help="another 街道 offline: clip what --from has for it (POIs, green, official lists, boundary) "
                        "and report per layer; without --network it says what is missing")
    s.add_argument("--district", metavar="NAME", help="district of --subdistrict when the name is ambiguous")
    s.add_argument("--network", metavar="FILE", help="walking network for --subdistrict: OSM XML/PBF, a "
                   "GeoJSON/GPKG/SHP line layer or a zipped shapefile")
    s.add_argument("--buildings", metavar="FILE", help="building footprints for --subdistrict (optional)")

    s = sub.add_parser("coverage", help="walking coverage of facilities on a network")
    _add_inputs(s)
    s.add_argument("--buildings", help="building footprints (optional; without them streets are the demand)")
    s.add_argument("--speed", type=float, help="walking speed in metres per minute (overrides --profile)")
    s.add_argument("--profile", choices=sorted(PROFILES), default="default", help="walking profile")
    s.add_argument("--study", metavar="FILE", help="a saved study or an OUTDIR/params.json: run it again "
                   "(holds every other input and parameter)")
    s.add_argument("--threshold", action="append", default=[], metavar="CAT=M|CAT=Nmin",
                   help="a category threshold in metres (park=300) or walking minutes (elderly_care=10min); "
                        f"categories: {', '.join(CATEGORY_KEYS)}")
    s.add_argument("--no-planned", action="store_true",
                   help="exclude planned and under-construction facilities (before-the-plan scenario)")
    _add_demand(s)
    s.add_argument("-o", "--outdir", required=True, help="output directory")
    s.add_argument("--force", action="store_true", help=FORCE_HELP)

    s = sub.add_parser("site", help="propose where new facilities of one category should go (maximal covering)")
    s.add_argument("--study", metavar="FILE", help="a saved study or a coverage OUTDIR/params.json: its area, "
                   "facility layers, scenario, walker and thresholds (instead of --area/--network/--facilities)")
    _add_inputs(s)
    s.add_argument("--buildings", help="residential demand: footprints or points (weights from 人口/户数/levels)")
    s.add_argument("--category", required=True, help=f"facility category ({', '.join(CATEGORY_KEYS)})")
    s.add_argument("--count", type=int, required=True, metavar="P", help="number of new facilities")
    s.add_argument("--subdistrict", help="place candidates only in this subdistrict (demand anywhere counts)")
    s.add_argument("--threshold", type=float, metavar="M", help="walking threshold in metres (default: the category's)")
    s.add_argument("--candidates", default="streets", metavar="streets|buildings|FILE",
                   help="candidate sites: points along streets (default), building points, or a points/polygons file")
    s.add_argument("--spacing", type=float, default=50.0, metavar="M", help="street candidate spacing in metres")
    s.add_argument("--no-planned", action="store_true", help="exclude planned facilities from the existing ones")
    s.add_argument("--solver", choices=["auto", "milp", "greedy"], default="auto",
                   help="auto: greedy then exact MILP (HiGHS) under --time-limit")
    s.add_argument("--time-limit", type=float, default=10.0, metavar="S", help="time limit of the exact solver (s)")
    _add_demand(s)
    s.add_argument("--lscp", action="store_true",
                   help="also report the fewest sites that would cover every reachable home (set covering)")
    s.add_argument("-o", "--outdir", required=True, help="output directory (sites.csv, sites.gpkg, params.json)")
    s.add_argument("--force", action="store_true", help=FORCE_HELP)

    s = sub.add_parser("plan", help="site the plan's counted and unlocated planned facilities; coverage before/after")
    s.add_argument("texts", nargs="+", help="policy texts (.txt/.docx/.pdf) or one extract/geocode CSV")
    s.add_argument("--study", metavar="FILE", help="a saved study or a coverage OUTDIR/params.json (instead of --area ...)")
    _add_inputs(s)
    s.add_argument("--threshold", action="append", default=[], metavar="CAT=M|CAT=Nmin",
                   help="a category threshold in metres (park=300) or walking minutes (elderly_care=10min)")
    s.add_argument("--no-lscp", action="store_true", help="skip the set-covering reference per subdistrict and category")
    s.add_argument("--after", choices=["all", "accepted"], default="all",
                   help="which proposals the after-the-plan scenario counts: all = every one not dropped in the "
                        "workspace's proposal_states.csv (proposed+accepted+moved, default); accepted = only the "
                        "accepted and moved ones, as the app's 规划后 (accepted+moved); plan.csv says which")
    s.add_argument("--report", action="append", default=[], choices=["xlsx", "pdf"],
                   help="also write plan.xlsx / plan.pdf (repeatable; the same exports as the app's plan view)")
    s.add_argument("-o", "--outdir", required=True, help="output directory (plan.csv, requests.csv, sites.csv, sites.gpkg)")
    s.add_argument("--force", action="store_true", help=FORCE_HELP)

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

    s = sub.add_parser("app", help="serve the app with its caches filled first (the first page draws at once)")
    s.add_argument("--area", default="xinjiangwan", help="prepared area to warm (default: xinjiangwan)")
    s.add_argument("streamlit_args", nargs=argparse.REMAINDER,
                   help="options passed to `streamlit run`, e.g. --server.port 8502")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lifecircle`` console script."""
    args = build_parser().parse_args(argv)
    module, func = HANDLERS[args.command].split(":")
    word = t("cli_error", args.lang)
    try:
        from .io import clean_stale_temp

        clean_stale_temp()
        handler = getattr(importlib.import_module(module), func)
        return int(handler(args) or 0)
    except LifecircleError as exc:
        print(f"lifecircle {args.command}: {word}: {exc.message(args.lang)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a fault nobody named: still one line with the path
        err = os_error(exc)
        print(f"lifecircle {args.command}: {word}: {err.message(args.lang)}", file=sys.stderr)
        return err.exit_code
    except MemoryError:
        print(f"lifecircle {args.command}: {word}: {t('cli_out_of_memory', args.lang)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug: one line here, the traceback in a log file
        log = log_traceback(f"lifecircle {args.command}", exc)
        what = error_summary(exc)
        print(f"lifecircle {args.command}: {t('cli_internal_error', args.lang, what=what, log=log)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
