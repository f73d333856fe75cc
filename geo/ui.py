"""App-side glue for ``app.py``: where data lives, cached calls into the geo API, upload checks.

No analysis happens here: every result comes from :mod:`geo.coverage`,
:mod:`geo.areas`, :mod:`geo.facilities` ... This module only decides what is
cached and how (``st.cache_resource`` for the area, network and distances,
which are heavy and must never be recomputed when only a threshold changes)
and turns uploads into files the API can read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from .errors import InputError, LifecircleError, error_summary, log_traceback, os_error
from .io import clean_stale_temp, make_temp_dir, temp_dir
from .limits import MAX_UPLOAD_MB, check_zip
from .settings import REPO, data_dir, data_dir_is_set

__all__ = [
    "REPO",
    "DEFAULT_AREA",
    "MAX_UPLOAD_MB",
    "data_dir",
    "area_dir",
    "prepare_command",
    "area_stamp",
    "leaflet_url",
    "study_cache",
    "load_area",
    "run",
    "workspace",
    "Guard",
    "guard",
    "check_upload",
    "keep_upload",
    "save_upload",
    "clean_temp_on_start",
    "threshold_table",
    "thresholds_from_table",
]

DEFAULT_AREA = "xinjiangwan"
ZIP_TYPES = (".docx", ".xlsx", ".xlsm", ".zip")  # zip containers: checked for bombs before they are saved


@dataclass
class Guard:
    """What :func:`guard` saw: ``failed`` once the guarded block raised (and its one line was shown)."""

    failed: bool = False


@contextmanager
def guard(what: str, lang: str) -> Iterator[Guard]:
    """Run one part of the page (a view) so that nothing it raises reaches the planner as a traceback.

    A :class:`~geo.errors.LifecircleError` is its own one line (``st.error``),
    an ``OSError`` the one line of :func:`geo.errors.os_error`; anything else
    is a bug: its traceback goes to the log file of
    :func:`geo.errors.log_traceback` (the CLI's) and ``st.error`` says, in
    ``lang``, what failed, that the planner's files are untouched and where
    the log is. The rest of the page (sidebar, other views) is drawn as usual.
    Streamlit's control flow (``st.stop()``, ``st.rerun()``: ``BaseException``
    subclasses, not ``Exception``) passes through untouched.

    Parameters
    ----------
    what : str
        The part's name as the planner sees it (e.g. the view's label).
    lang : str
        ``"zh"`` or ``"en"``.

    Yields
    ------
    Guard
        ``failed`` is True after the block raised.
    """
    from .i18n import t

    seen = Guard()
    try:
        yield seen
    except LifecircleError as exc:
        seen.failed = True
        st.error(exc.message(lang))
    except OSError as exc:
        seen.failed = True
        st.error(os_error(exc).message(lang))
    except Exception as exc:  # noqa: BLE001 - a bug: one line here, the traceback in the log file
        seen.failed = True
        log = log_traceback(f"lifecircle app: {what}", exc)
        st.error(t("view_failed", lang, view=what, what=error_summary(exc), log=str(log)))


def area_dir(area: str = DEFAULT_AREA) -> Path:
    """Folder of a prepared study area (``<data>/areas/<area>``)."""
    return data_dir() / "areas" / area


def prepare_command(area: str = DEFAULT_AREA) -> str:
    """The exact shell command that prepares the default area from the shared mirror."""
    cmd = ".venv/bin/lifecircle prepare --from ../shared/data"
    if area != DEFAULT_AREA:
        cmd += f" --area {area}"
    if data_dir_is_set():
        cmd += f" --data-dir {data_dir()}"
    return cmd


def area_stamp(path: str | Path) -> str:
    """Cache key of a prepared area: its path and the time ``area.json`` was written."""
    meta = Path(path) / "area.json"
    return f"{Path(path).resolve()}@{meta.stat().st_mtime_ns if meta.exists() else 0}"


@st.cache_resource(show_spinner=False)
def leaflet_url() -> str:
    """URL prefix of the locally served Leaflet files (copied into ``static/`` once)."""
    from .webmap import install_assets

    install_assets(REPO / "static")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static/leaflet" if base else "/app/static/leaflet"


# --------------------------------------------------------------------------- the study and its cache
@st.cache_resource(show_spinner=False)
def study_cache():
    """One bounded cache of areas, facility layers and distances for the whole server (:class:`geo.study.StudyCache`)."""
    from .study import StudyCache

    return StudyCache(max_entries=16)


def threshold_table(thresholds: dict, speed: float, lang: str) -> pd.DataFrame:
    """Every category's threshold as one editable table: value, unit (m/min), metres and minutes now, the standard."""
    from .categories import CATEGORIES, CATEGORY_KEYS, label

    rows = []
    for c in CATEGORY_KEYS:
        t = thresholds[c]
        rows.append({"category": label(c, lang), "value": t.value, "unit": t.unit, "threshold_m": round(t.metres(speed)),
                     "threshold_min": round(t.minutes(speed), 1), "standard": CATEGORIES[c].cite(lang)})
    return pd.DataFrame(rows, index=list(CATEGORY_KEYS))


def thresholds_from_table(edited: pd.DataFrame, before: dict, speed: float) -> dict:
    """The thresholds an edited :func:`threshold_table` holds.

    A row whose unit changed but not its value is converted at ``speed``
    (500 m becomes 6.9 min), so switching the unit never changes the ground
    covered; empty or non-positive values keep the previous threshold.
    """
    from .study import Threshold

    out = dict(before)
    for c, row in edited.iterrows():
        old = before[c]
        cell = row.get("unit")
        unit = cell if cell in ("m", "min") else old.unit  # `in` narrows away None
        # the cell as a number: to_numeric gives int, bool or float, NaN when it is not one
        value = float(pd.to_numeric(pd.Series([row.get("value")]), errors="coerce").to_numpy(dtype=float)[0])
        if not (pd.notna(value) and value > 0):
            continue
        if unit != old.unit and float(value) == old.value:
            value = old.minutes(speed) if unit == "min" else old.metres(speed)
            value = round(value, 2) if unit == "min" else round(value)
        out[c] = Threshold(float(value), unit)
    return out


def load_area(path: str | Path):
    """:func:`geo.areas.load_area` once per ``area.json`` version (shared with :func:`run`)."""
    return study_cache().area(path)


def run(study: Any):
    """:func:`geo.study.run_study` with the server's cache: only what changed is computed again."""
    from .study import run_study

    return run_study(study, cache=study_cache())


def workspace(area_id: str):
    """The planner's folder for an area (:class:`geo.workspace.Workspace`), apart from what ``prepare`` rebuilds."""
    from .workspace import Workspace

    return Workspace.for_area(data_dir(), area_id)


# --------------------------------------------------------------------------- uploads
def check_upload(uploaded: Any, allowed: Iterable[str], *, max_mb: float | None = None) -> tuple[str, bytes]:
    """The name and bytes of an ``st.file_uploader`` file, after checking type, emptiness, size and zip content.

    Raises
    ------
    InputError
        Wrong extension, empty, larger than ``max_mb`` (message names the limit;
        default :data:`geo.limits.MAX_UPLOAD_MB`), or a zip container (.docx,
        .xlsx, .zip) that would unpack beyond :mod:`geo.limits`.
    """
    max_mb = MAX_UPLOAD_MB if max_mb is None else max_mb
    name = Path(getattr(uploaded, "name", "upload")).name
    allowed = [a.lower().lstrip(".") for a in allowed]
    suffix = "".join(Path(name).suffixes[-2:]).lower() if name.lower().endswith((".osm.pbf", ".osm.bz2")) \
        else Path(name).suffix.lower()
    if suffix.lstrip(".") not in allowed and Path(name).suffix.lower().lstrip(".") not in allowed:
        raise InputError(f"不支持的文件类型“{suffix or '无扩展名'}”。可上传：{'、'.join('.' + a for a in allowed)}。",
                         f"unsupported file type '{suffix or 'none'}'; allowed: {', '.join('.' + a for a in allowed)}.",
                         name)
    data = uploaded.getvalue()
    if len(data) == 0:
        raise InputError("文件为空。", "the file is empty.", name)
    if len(data) > max_mb * 1024 * 1024:
        raise InputError(f"文件超过 {max_mb:.0f} MB 的上传上限。", f"the file exceeds the {max_mb:.0f} MB upload limit.",
                         name)
    if Path(name).suffix.lower() in ZIP_TYPES:
        check_zip(name, data=data)
    return name, data


def keep_upload(uploaded: Any, allowed: Iterable[str], area_id: str) -> Path:
    """Check an upload and keep it in the area's workspace (the same file uploaded twice is kept once)."""
    name, data = check_upload(uploaded, allowed)
    return workspace(area_id).store_upload(name, data)


def save_upload(uploaded: Any, allowed: Iterable[str], *, max_mb: float | None = None,
                folder: str | Path | None = None) -> Path:
    """Write an ``st.file_uploader`` file to a temporary folder after :func:`check_upload`."""
    name, data = check_upload(uploaded, allowed, max_mb=max_mb)
    folder = Path(folder) if folder else make_temp_dir("upload")  # removed by clean_temp_on_start once we exit
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    out.write_bytes(data)
    return out


# --------------------------------------------------------------------------- more glue for app.py
NETWORK_TYPES = ("osm", "pbf", "xml", "geojson", "gpkg", "json", "zip")
TABLE_TYPES = ("csv", "xlsx", "xls", "geojson", "gpkg", "json")
TEXT_TYPES = ("txt", "docx", "pdf")


def _resolve(p: str | Path) -> Path:
    p = Path(p)
    return p if p.is_absolute() else (REPO / p)


def require_local(path: str) -> Path:
    """A local network file typed by the planner (must exist)."""
    from .io import require_file

    return require_file(_resolve(path.strip()))


def list_areas() -> list[str]:
    """Prepared areas under ``<data>/areas``."""
    root = data_dir() / "areas"
    return sorted(p.name for p in root.iterdir() if (p / "area.json").is_file()) if root.is_dir() else []


def prepare_online(area: str, place: str, progress) -> Path:
    """:func:`geo.areas.prepare_online` into the app's data folder."""
    from .areas import prepare_online as _prep

    return _prep(_safe_id(area), place, data_dir=data_dir(), progress=progress)


def _safe_id(area: str) -> str:
    import re

    s = re.sub(r"[^\w\-]+", "_", area.strip()).strip("_")
    if not s:
        raise InputError("研究区编号不能为空。", "the area id must not be empty.")
    return s


def prepare_from_file(area: str, network_file: Path, progress) -> Path:
    """Prepare an area from one OSM/PBF file or road line layer (generic offline layout)."""
    import shutil

    from .areas import prepare_offline

    name = network_file.name.lower()
    target = name if name.endswith((".osm", ".pbf", ".osm.xml")) else "roads" + Path(name).suffix
    with temp_dir("offline") as folder:  # only needed while preparing
        shutil.copyfile(network_file, folder / target)
        return prepare_offline(_safe_id(area), folder, data_dir=data_dir(), progress=progress)


BUILDING_TYPES = ("geojson", "gpkg", "json", "zip")


def mirror_dir() -> Path:
    """The offline mirror the app clips from (``geo.settings.shared_dir() / "data"``)."""
    from .settings import shared_dir

    return shared_dir().resolve() / "data"


@st.cache_resource(show_spinner=False)
def gazetteer():
    """The Shanghai gazetteer (:func:`geo.gazetteer.load_gazetteer`), once per app process."""
    from .gazetteer import load_gazetteer

    return load_gazetteer()


def subdistricts_of(district: str) -> list[str]:
    """The 街道/镇 of a district in the gazetteer, sorted."""
    s = gazetteer().subdistricts
    return sorted(s.loc[s["district"] == district, "name"])


def survey_subdistrict(subdistrict: str, district: str, mirror: str | Path):
    """Step 2 of another 街道 offline (:func:`geo.offline.survey_subdistrict`) against the app's mirror."""
    from .offline import survey_subdistrict as _survey

    return _survey(subdistrict, _resolve(mirror), district, gazetteer())


def prepare_subdistrict(survey: Any, network: Path | None, buildings: Path | None, area: str, progress) -> Path:
    """Step 3: :func:`geo.offline.prepare_subdistrict` into the app's data folder."""
    from .offline import prepare_subdistrict as _prep

    return _prep(survey.subdistrict, survey.mirror, network, buildings=buildings, area=_safe_id(area),
                 data_dir=data_dir(), progress=progress, survey=survey)


@st.cache_resource(show_spinner=False)
def clean_temp_on_start() -> int:
    """Once per app process: remove upload/offline temporary folders that dead processes left."""
    return clean_stale_temp()


def geocoding_provider(name: str | None, key: str | None):
    """The online geocoding client chosen in the app (key typed there, else its environment variable), or None."""
    from .providers import make_provider

    return make_provider(name or None, key or None)


def read_official(path: Path, datum: str, provider: Any = None, *, lang: str = "zh") -> gpd.GeoDataFrame:
    """An official facility list in the Facilities schema (coordinates converted from ``datum``).

    Rows with an address but no coordinates are located with ``provider`` when
    one is given, else listed in ``attrs["unlocated"]`` with the reason in
    ``lang`` (:func:`geo.places.locate_official`).
    """
    from .facilities import require_facilities
    from .places import locate_official

    return require_facilities(locate_official(path, provider, datum=datum, lang=lang), path)


@st.cache_resource(max_entries=2, show_spinner=False)
def _candidates(stamp: str, _area: Any):
    from .geocode import area_candidates

    return area_candidates(_area.meta, _area.facilities, resolve=_resolve)


def save_uploads(uploads: Iterable[Any], allowed: Iterable[str],
                 folder: str | Path) -> tuple[list[Path], list[LifecircleError]]:
    """Check and save each upload on its own (:func:`save_upload`): a bad one is listed, the others are kept.

    Returns
    -------
    paths : list of Path
        The uploads that passed, each in its own sub-folder of ``folder`` (same names never clash).
    problems : list of LifecircleError
        One per refused upload (type, emptiness, size, zip bomb), named by its file name.
    """
    allowed = tuple(allowed)
    paths: list[Path] = []
    problems: list[LifecircleError] = []
    for i, up in enumerate(uploads):
        try:
            paths.append(save_upload(up, allowed, folder=Path(folder) / str(i)))
        except LifecircleError as exc:
            problems.append(exc)
    return paths, problems


def _by_file_name(exc: LifecircleError) -> LifecircleError:
    """The same message, naming the file as the planner uploaded it (not the temporary folder it was read from)."""
    return InputError(exc.zh, exc.en, Path(exc.path).name) if exc.path else exc


def extract_and_geocode(paths: list[Path], area: Any, stamp: str, provider: Any = None,
                        problems: Iterable[LifecircleError] = ()) -> tuple[pd.DataFrame | None, list[LifecircleError]]:
    """Policy texts → facility mentions → matched to OSM candidates, then beyond OSM (:mod:`geo.places`).

    Each text succeeds or fails on its own (:func:`geo.texts.extract_files` with
    ``errors="collect"``, as ``lifecircle extract`` and ``plan`` read them): the
    readable ones are extracted and geocoded together, each unreadable one
    (encoding, empty, binary, beyond :mod:`geo.limits`) is one problem.

    Parameters
    ----------
    paths : list of Path
    area : StudyArea
    stamp : str
        :func:`area_stamp` of the area (cache key of its candidates).
    provider : optional
        Online geocoding provider (:func:`geocoding_provider`).
    problems : iterable of LifecircleError
        Problems found before (uploads refused by :func:`save_uploads`), listed first.

    Returns
    -------
    geocoded : DataFrame or None
        The mention table; None when no text could be read.
    problems : list of LifecircleError
        One per file that could not be used, named by its file name.

    Raises
    ------
    InputError
        Every text was read and none names a facility.
    """
    from .geocode import geocode_mentions
    from .places import place_beyond_osm
    from .texts import extract_files

    mentions = extract_files(paths, errors="collect")
    problems = [_by_file_name(e) for e in (*problems, *mentions.attrs.pop("problems", []))]
    if len(mentions) == 0:
        if problems:
            return None, problems
        raise InputError("文本中没有找到设施。", "no facilities found in the texts.")
    candidates = _candidates(stamp, area)
    return place_beyond_osm(geocode_mentions(mentions, candidates, boundaries=area.boundaries), candidates,
                            provider), problems


def corrections_path(area_id: str) -> Path:
    """Where the planner's corrections live: the area's workspace (re-applied on every later run)."""
    return workspace(area_id).corrections


def keep_located(facilities: gpd.GeoDataFrame, source: Path, area_id: str) -> Path:
    """An official list with rows located by address, as a WGS-84 workspace file the study reads again."""
    import io as _io

    from .io import to_csv_bom
    from .places import located_table

    buf = _io.BytesIO()
    to_csv_bom(located_table(facilities), buf)
    return workspace(area_id).store_upload(f"{Path(source).stem}-located.csv", buf.getvalue())


def keep_geocoded(geocoded: pd.DataFrame, area_id: str) -> Path:
    """The geocoded mention table as a workspace file, so a study can read it again (with its corrections)."""
    import io as _io

    from .io import to_csv_bom

    buf = _io.BytesIO()
    to_csv_bom(geocoded, buf)
    return workspace(area_id).store_upload("texts-geocoded.csv", buf.getvalue())


def reapply_corrections(geocoded: pd.DataFrame, path: Path) -> pd.DataFrame:
    """:func:`geo.geocode.apply_corrections` when the corrections file exists."""
    from .geocode import apply_corrections

    # geocode_mentions already keys every mention (mention_key); nothing to add without a file
    return apply_corrections(geocoded, path) if Path(path).exists() else geocoded


def save_corrections(path: Path, original: pd.DataFrame, edited: pd.DataFrame, placed_key: str | None,
                     clicked: dict | None) -> int:
    """Write every edited row (and a map-placed one) with :func:`geo.geocode.save_correction`."""
    from .geocode import save_correction

    n = 0
    orig = original.set_index("mention_key")
    for r in edited.to_dict("records"):
        k = r["mention_key"]
        o = orig.loc[k] if k in orig.index else None
        if isinstance(o, pd.DataFrame):
            o = o.iloc[0]
        changed = o is None or any(
            not (pd.isna(r.get(c)) and pd.isna(o.get(c))) and r.get(c) != o.get(c)
            for c in ("name", "category", "status", "lon", "lat"))
        if not changed:
            continue
        lon, lat = r.get("lon"), r.get("lat")
        if not (pd.notna(lon) and pd.notna(lat)):
            lon = lat = None  # coordinates only when both are given
        save_correction(path, k, lon=None if lon is None else float(lon), lat=None if lat is None else float(lat),
                        name=r.get("name") or None, category=r.get("category") or None,
                        status=r.get("status") or None, note="app: table")
        n += 1
    if placed_key and clicked:
        save_correction(path, placed_key, lon=float(clicked["lng"]), lat=float(clicked["lat"]), note="app: map click")
        n += 1
    return n


def geocoded_facilities(geocoded: pd.DataFrame) -> gpd.GeoDataFrame:
    """Matched and manually placed mentions as facilities."""
    from .geocode import to_facilities

    return to_facilities(geocoded)


def green_park_distance(dist: Any):
    """Per building: walking distance (m) to the nearest park of any qualifying size class, or None."""
    import numpy as np

    gd = getattr(dist, "green", None)
    if gd is None or not gd.dist:
        return None
    return np.fmin.reduce([np.asarray(v, float) for v in gd.dist.values()])


def exporter(outputs: Any, kind: str, lang: str):
    """A zero-argument callable for ``st.download_button`` (the file is built only when clicked)."""
    import io

    from . import report

    def build() -> bytes:
        buf = io.BytesIO()
        if kind == "xlsx":
            report.to_xlsx(outputs, buf, lang)
        elif kind == "csv":
            report.to_csv(outputs, buf, lang)
        elif kind == "gpkg":
            report.to_geopackage(outputs, buf)
        elif kind == "geojson":
            report.to_geojson(outputs.gaps, buf)
        elif kind == "pdf":
            report.to_pdf(outputs, buf, lang)
        return buf.getvalue()

    return build


def geometry_store() -> Callable[[str], str]:
    """``store(geojson_text) -> url``: map geometry as static files, fetched (and cached) by the browser.

    Files are named by content hash under ``static/geo/``, so an unchanged layer
    is written once and downloaded once; only colours travel on each rerun.
    """
    folder = REPO / "static" / "geo"
    base = leaflet_url().rsplit("/", 1)[0] + "/geo"
    memo: dict[int, tuple[str, str]] = {}  # id(text) -> (text, url): the text is kept, so its id is never reused

    def store(text: str) -> str:
        hit = memo.get(id(text))
        if hit is not None and hit[0] is text:
            return hit[1]
        name = hashlib.sha1(text.encode()).hexdigest()[:20] + ".json"
        path = folder / name
        if not path.exists():
            from .io import atomic_file

            folder.mkdir(parents=True, exist_ok=True)
            with atomic_file(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        url = f"{base}/{name}"
        memo[id(text)] = (text, url)
        return url

    return store


# --------------------------------------------------------------------------- scoped to one 街道
ALL_SUBDISTRICTS = "*"  # the subdistrict selector's "all" option (never a 街道 name)


def subdistricts(boundaries: gpd.GeoDataFrame | None) -> list[str]:
    """The area's 街道 names, in the boundary layer's order (empty without boundaries)."""
    if boundaries is None or not len(boundaries) or "subdistrict" not in boundaries.columns:
        return []
    return list(dict.fromkeys(str(s) for s in boundaries["subdistrict"] if pd.notna(s) and str(s)))


def in_scope(df: pd.DataFrame, scope: str) -> pd.DataFrame:
    """Rows of ``df`` (a ``subdistrict`` column) in the selected 街道; all rows for :data:`ALL_SUBDISTRICTS`."""
    if scope == ALL_SUBDISTRICTS or df is None or "subdistrict" not in df.columns:
        return df
    return df[df["subdistrict"].astype(object) == scope]


def scope_gaps(gaps: gpd.GeoDataFrame, scope: str) -> tuple[gpd.GeoDataFrame, int, int]:
    """(the gaps listed for ``scope``, how many lie outside every 街道, how many are in other 街道).

    A gap belongs to the 街道 of its representative point (``geo.coverage``);
    gaps outside every 街道 are never listed, also not under "all".
    """
    if not len(gaps) or "subdistrict" not in gaps.columns:
        return gaps, 0, 0
    sub = gaps["subdistrict"].astype(object)
    inside = sub.notna().to_numpy()
    mine = inside if scope == ALL_SUBDISTRICTS else (sub == scope).to_numpy()
    return gaps[mine], int((~inside).sum()), int((inside & ~mine).sum())


def scope_shares(subdistricts_table: pd.DataFrame, scope: str) -> pd.DataFrame:
    """Covered share per category in the selected 街道 (or all 街道 together), for the summary strip.

    Returns
    -------
    DataFrame
        ``category, basis, covered, total, share, threshold_m, threshold_min``;
        ``basis`` is ``buildings`` when the scope has buildings, else ``streets``
        (``covered``/``total`` in km of street), the same for every category.
    """
    from .categories import CATEGORY_KEYS

    df = in_scope(subdistricts_table, scope)
    cols = ["category", "basis", "covered", "total", "share", "threshold_m", "threshold_min"]
    if df is None or not len(df):
        return pd.DataFrame(columns=cols)
    g = df.groupby("category", sort=False).agg(buildings=("buildings", "sum"), covered_b=("buildings_covered", "sum"),
                                               km=("street_km", "sum"), covered_km=("street_km_covered", "sum"),
                                               threshold_m=("threshold_m", "first"),
                                               threshold_min=("threshold_min", "first"))
    by_buildings = bool(g["buildings"].sum() > 0)
    covered = g["covered_b"] if by_buildings else g["covered_km"]
    total = g["buildings"] if by_buildings else g["km"]
    out = pd.DataFrame({"category": g.index, "basis": "buildings" if by_buildings else "streets",
                        "covered": covered.to_numpy(), "total": total.to_numpy(),
                        "share": (covered / total.where(total > 0)).to_numpy(),
                        "threshold_m": g["threshold_m"].to_numpy(), "threshold_min": g["threshold_min"].to_numpy()})
    order = {k: i for i, k in enumerate(CATEGORY_KEYS)}
    return out.sort_values("category", key=lambda s: s.map(order)).reset_index(drop=True)[cols]


def scope_view(boundaries: gpd.GeoDataFrame | None, scope: str, *, width_px: int = 800, height_px: int = 600
               ) -> tuple[tuple[float, float] | None, int | None]:
    """Map centre (lat, lon) and zoom that fit the selected 街道 (the whole area for "all"), or (None, None)."""
    import math

    if boundaries is None or not len(boundaries):
        return None, None
    b = in_scope(boundaries, scope)
    if not len(b):
        return None, None
    from .io import as_wgs84

    minx, miny, maxx, maxy = as_wgs84(b).total_bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    dx = max((maxx - minx) / 360.0, 1e-9)
    dy = max((merc(maxy) - merc(miny)) / (2 * math.pi), 1e-9)
    zoom = math.floor(math.log2(min(width_px / (256 * dx), height_px / (256 * dy))))
    return ((miny + maxy) / 2, (minx + maxx) / 2), max(3, min(zoom, 18))


# --------------------------------------------------------------------------- a warm server
def warm(area: str = DEFAULT_AREA) -> float:
    """Fill the app's caches for the default view of ``area`` in this process; returns the seconds spent.

    The first page of a fresh ``streamlit run app.py`` process used to import
    folium, streamlit-folium and matplotlib and compute the area's distances
    and summary *inside the browser session's first script run* (~12 s on an
    idle 2-core machine, minutes under load): the page showed the map's place
    blank until then. Run before the server listens (:func:`cli_app`), the
    first page finds all of it cached and only draws. Same cached calls and
    keys as ``app.py`` (default thresholds, profile and scenario); nothing
    here changes what the app computes.
    """
    import logging
    import time

    t0 = time.perf_counter()
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    # the app's heavy imports, once per process -- but NOT streamlit_folium: its component registers with
    # the server only when first imported inside a script run; imported here, every page would get a 404
    # for the map's iframe ("trouble loading the streamlit_folium.st_folium component") and no map
    import folium.plugins  # noqa: F401  (what streamlit_folium imports: most of its import time)

    from . import report, webmap  # noqa: F401
    from .categories import CATEGORIES, CATEGORY_KEYS
    from .errors import LifecircleError
    from .study import Study, Threshold

    path = area_dir(area)
    try:
        a = load_area(path)
    except LifecircleError:
        return time.perf_counter() - t0  # not prepared: the app says what to run
    # the study app.py builds for a first page: default thresholds, walker and scenario, no own layers, Chinese
    study = Study(area=str(path.resolve()), thresholds={c: Threshold(CATEGORIES[c].threshold_m, "m")
                                                         for c in CATEGORY_KEYS}, lang="zh")
    res = run(study)
    cov = res.coverage
    # the map's layers as GeoJSON (memoised on their content) and its templates, compiled once per process
    cat = CATEGORY_KEYS[0]
    base = webmap.coverage_base(streets=cov.streets, boundaries=a.boundaries, buildings=cov.buildings,
                                context=a.context)
    base.add_child(webmap.coverage_overlay(category=cat, threshold_m=study.threshold(cat).metres(study.speed),
                                           speed_m_per_min=study.speed, streets=cov.streets,
                                           buildings=cov.buildings, facilities=res.facilities, gaps=cov.gaps))
    base.get_root().render()
    return time.perf_counter() - t0


def cli_app(args: Any) -> int:
    """``lifecircle app [--area A] [STREAMLIT OPTIONS]``: warm the caches (:func:`warm`), then serve ``app.py``.

    The port opens only once the default view is computed, so the first
    browser page draws its map at once instead of waiting on a cold process.
    """
    import sys

    from streamlit.web import cli as stcli

    from .i18n import t
    from .webmap import install_assets

    # Streamlit turns static serving off for the whole process when static/ is missing at start (the map's
    # Leaflet files and geometry are served from there): make sure it exists before the server starts
    install_assets(REPO / "static")
    seconds = warm(args.area)
    print(t("cli_app_ready", getattr(args, "lang", "zh"), s=seconds), file=sys.stderr)
    extra = [a for a in (args.streamlit_args or []) if a != "--"]
    sys.argv = ["streamlit", "run", str(REPO / "app.py"), *extra]
    return int(stcli.main(standalone_mode=False) or 0)


# --------------------------------------------------------------------------- the plan view (geo.plan)
def sync_siting_layer(layers: dict, area_id: str, lang: str = "zh") -> None:
    """Keep the workspace's proposals as the study's one ``siting`` layer (its states file re-read at every run)."""
    from .i18n import t
    from .study import FacilityLayer

    for k in [k for k, v in layers.items() if v.kind == "siting"]:
        layers.pop(k)
    ws = workspace(area_id)
    if ws.proposals.is_file():
        layer = FacilityLayer.of_file("siting", ws.proposals, corrections=str(ws.proposal_states),
                                      name=t("proposals_layer", lang))
        layers[layer.digest] = layer


def plan_mentions(study: Any, geocoded: pd.DataFrame | None, area_id: str) -> pd.DataFrame | None:
    """The mentions a plan reads: the study's texts layer (with its corrections), else the texts just extracted."""
    from .workspace import read_csv_text

    texts = [x for x in study.layers if x.kind == "texts"]
    if texts:
        table = read_csv_text(Path(texts[-1].path))
    elif geocoded is not None:
        table = geocoded
    else:
        return None
    return reapply_corrections(table, corrections_path(area_id))


def make_proposals(study: Any, geocoded: pd.DataFrame, area_id: str, progress: Callable | None = None) -> Any:
    """Site every request of the texts (:func:`geo.plan.run_plan`) and keep the proposals in the workspace.

    The planner's earlier decisions stay in the states file and apply again to
    proposals with the same id (the same mention and rank).
    """
    from .plan import read_proposal_states, run_plan, write_proposals

    base = study.replace(layers=tuple(x for x in study.layers if x.kind != "siting"), include_planned=True)
    inputs = run(base).inputs
    ws = workspace(area_id)
    res = run_plan(inputs, base, geocoded, states=read_proposal_states(ws.proposal_states), with_lscp=False,
                   progress=progress)
    write_proposals(res.proposals, ws.proposals)
    return res


def proposals(area_id: str) -> gpd.GeoDataFrame | None:
    """The workspace's proposals with the planner's decisions applied (None when there are none)."""
    from .plan import read_proposals

    ws = workspace(area_id)
    return read_proposals(ws.proposals, ws.proposal_states) if ws.proposals.is_file() else None


def decide(area_id: str, proposal_id: str, state: str, lon: float | None = None, lat: float | None = None) -> None:
    """Save the planner's decision on one proposal in the workspace (:func:`geo.plan.save_proposal_state`)."""
    from .plan import save_proposal_state

    save_proposal_state(workspace(area_id).proposal_states, proposal_id, state, lon=lon, lat=lat)


def plan_shares(before: Any, after: Any, category: str) -> pd.DataFrame:
    """Per 街道 for ``category``: buildings covered and share before and after the plan, and the gain."""
    key = ["subdistrict", "category"]
    b = before.coverage.subdistricts
    a = after.coverage.subdistricts
    t = b[key + ["buildings", "share_buildings_covered"]].merge(
        a[key + ["share_buildings_covered"]], on=key, suffixes=("_before", "_after"))
    t = t[(t["category"] == category) & (t["buildings"] > 0)]
    out = pd.DataFrame({"subdistrict": t["subdistrict"], "share_before": t["share_buildings_covered_before"],
                        "share_after": t["share_buildings_covered_after"]})
    out["gain"] = out["share_after"] - out["share_before"]
    return out.reset_index(drop=True)


def close_gap(result: Any, boundaries: gpd.GeoDataFrame, category: str) -> pd.DataFrame:
    """How many new facilities would close this category's gap in each 街道 (set covering on the shown result)."""
    from .plan import lscp_reference

    sub = result.coverage.subdistricts
    with_homes = set(sub.loc[(sub["category"] == category) & (sub["buildings"] > 0), "subdistrict"])
    b = boundaries[boundaries["subdistrict"].isin(with_homes)]
    return lscp_reference(result.distances, b, result.study.thresholds_m(), (category,))


def after_rule_label(lang: str) -> str:
    """The proposal states the study's after scenario counts (:data:`geo.plan.STUDY_AFTER_RULE`), in ``lang``."""
    from .plan import STUDY_AFTER_RULE, after_rule_text

    return after_rule_text(STUDY_AFTER_RULE, lang)


def plan_outputs(study: Any, area_id: str) -> Any:
    """The plan's part of the exports (:class:`geo.report.PlanOutputs`) for the study on screen, None without proposals.

    Before and after are the study's two scenarios; the proposals count as the study's siting layer does
    (accepted and moved ones).
    """
    from .plan import COUNTING_STATES, PLAN_STATUSES, STUDY_AFTER_RULE, plan_table
    from .report import PlanOutputs

    props = proposals(area_id)
    if props is None:
        return None
    before, after = run(study.replace(include_planned=False)), run(study.replace(include_planned=True))
    f = after.facilities
    planned = f[f["status"].isin(PLAN_STATUSES) & (f["source"] != "siting")]
    table = plan_table(before.coverage, after.coverage, props[props["state"].isin(COUNTING_STATES)], planned,
                       after.inputs.boundaries, None, STUDY_AFTER_RULE)
    return PlanOutputs(table, props, before.coverage.buildings)
