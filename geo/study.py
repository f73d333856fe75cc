"""A study: every parameter and source of a coverage result in one typed value, and the one function that runs it.

The CLI (``lifecircle coverage``), the app and the notebook all build a
:class:`Study` and call :func:`run_study`; every export is written from the
:class:`StudyResult` it returns, so what is shown is what is exported.
``params.json`` in a coverage folder holds the study (``params["study"]``)
and loads back with :meth:`Study.load`: ``lifecircle coverage --study
OUTDIR/params.json -o OUT2`` reproduces OUTDIR.

Thresholds are a distance (metres) or a walking time (minutes). A time is
turned into metres at the study's walking speed, so a slower walker (the
elderly profile, 1.0 m/s) reaches less ground in the same minutes; a distance
stays the same distance whoever walks it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from . import facilities as fac
from .categories import CATEGORIES, CATEGORY_KEYS, PROFILES, label
from .coverage import CoverageResult, Distances, compute_distances, summarize
from .demand import PERSONS_PER_HOUSEHOLD, DemandWeights, demand_weights, with_weighted_columns
from .errors import InputError, Message, warn
from .i18n import UNITS, t, unit_label
from .io import as_wgs84

__all__ = [
    "Threshold",
    "FacilityLayer",
    "Study",
    "StudyInputs",
    "StudyResult",
    "StudyCache",
    "LAYER_KINDS",
    "parse_threshold",
    "load_inputs",
    "run_study",
    "file_digest",
    "weighting_params",
]

STUDY_VERSION = 1

#: Facility layer kinds: (zh, en) labels.
LAYER_KINDS: dict[str, tuple[str, str]] = {
    "area": ("研究区设施（OSM 与官方名录，准备时合并）", "study-area facilities (OSM and official lists, merged when prepared)"),
    "table": ("设施文件", "facility file"),
    "texts": ("政策文本（地理编码与人工校正）", "policy texts (geocoded, with manual corrections)"),
    "siting": ("选址建议（已采纳或移动的）", "siting proposals (accepted or moved)"),
}


def file_digest(path: str | Path) -> str:
    """First 16 hex digits of the SHA-1 of a file (a folder: of its file names, sizes and times).

    A file's content is hashed once per (path, size, modification time): the app asks on every rerun.
    """
    p = Path(path)
    if p.is_dir():
        h = hashlib.sha1()
        for f in sorted(p.rglob("*")):
            if f.is_file():
                st = f.stat()
                h.update(f"{f.relative_to(p)}:{st.st_size}:{st.st_mtime_ns}".encode())
        return h.hexdigest()[:16]
    if not p.is_file():
        return ""
    st = p.stat()
    return _content_digest(str(p.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _content_digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- thresholds
@dataclass(frozen=True)
class Threshold:
    """A walking threshold: a distance in metres or a walking time in minutes."""

    value: float
    unit: str = "m"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise InputError(f"阈值单位须为 m 或 min，得到 {self.unit!r}。", f"a threshold unit is m or min, got {self.unit!r}.")
        v = self.value
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
            raise InputError(f"阈值必须是正数，得到 {v!r}。", f"a threshold must be a positive number, got {v!r}.")
        object.__setattr__(self, "value", float(v))

    def metres(self, speed_m_per_min: float) -> float:
        """The threshold as network metres at ``speed_m_per_min``."""
        return self.value * speed_m_per_min if self.unit == "min" else self.value

    def minutes(self, speed_m_per_min: float) -> float:
        """The threshold as walking minutes at ``speed_m_per_min``."""
        return self.value if self.unit == "min" else self.value / speed_m_per_min

    def text(self, lang: str = "zh") -> str:
        """``500 米`` / ``10 分钟`` / ``500 m`` / ``10 min``."""
        return f"{self.value:g} {unit_label(self.unit, lang)}"

    def kind(self, lang: str = "zh") -> str:
        """Which kind of threshold this is, for tables and exports."""
        return t("threshold_kind_time" if self.unit == "min" else "threshold_kind_distance", lang)


def parse_threshold(text: str) -> tuple[str, Threshold]:
    """``"park=300"``, ``"park=300m"`` or ``"elderly_care=10min"`` → ``(category, Threshold)``.

    Raises
    ------
    InputError
        Unknown category or a value that is not a positive number.
    """
    key, sep, val = str(text).partition("=")
    key, val = key.strip(), val.strip().lower().replace(" ", "")
    unit = "m"
    for suffix, u in (("minutes", "min"), ("min", "min"), ("分钟", "min"), ("米", "m"), ("m", "m")):
        if val.endswith(suffix):
            val, unit = val[: -len(suffix)], u
            break
    try:
        number = float(val)
    except ValueError:
        number = float("nan")
    if not sep or key not in CATEGORIES or not (math.isfinite(number) and number > 0):
        raise InputError(f"--threshold {text!r} 无效：应为 类别=米数 或 类别=分钟数min（如 park=300、elderly_care=10min），"
                         f"类别取 {', '.join(CATEGORY_KEYS)}。",
                         f"invalid --threshold {text!r}: use CATEGORY=METRES or CATEGORY=MINUTESmin (e.g. park=300, "
                         f"elderly_care=10min) with one of {', '.join(CATEGORY_KEYS)}.")
    return key, Threshold(number, unit)


# --------------------------------------------------------------------------- facility layers
@dataclass(frozen=True)
class FacilityLayer:
    """One source of facilities, with everything needed to read it again.

    Attributes
    ----------
    kind : str
        ``area`` (the prepared area's own facilities), ``table`` (a facility
        file: official list, Geofabrik folder, OSM file, geocode output),
        ``texts`` (a geocoded mention table with its corrections file) or
        ``siting`` (siting proposals with the planner's decisions, :mod:`geo.plan`).
    path : str
        The file ('' for ``area``).
    datum : str
        Coordinate datum of a table (``wgs84``, ``gcj02``, ``bd09``).
    corrections : str
        ``texts``: the corrections file applied when the layer is read;
        ``siting``: the proposal states file (only accepted and moved proposals count).
    name : str
        What the planner called it (the uploaded file's name).
    digest : str
        :func:`file_digest` when the layer was added; a different digest when
        the study runs again is reported.
    """

    kind: str
    path: str = ""
    datum: str = "wgs84"
    corrections: str = ""
    name: str = ""
    digest: str = ""

    def __post_init__(self) -> None:
        if self.kind not in LAYER_KINDS:
            raise InputError(f"未知的设施图层类型 {self.kind!r}（可用：{', '.join(LAYER_KINDS)}）。",
                             f"unknown facility layer kind {self.kind!r} (use {', '.join(LAYER_KINDS)}).")

    @classmethod
    def of_file(cls, kind: str, path: str | Path, **kw: Any) -> FacilityLayer:
        """A layer for ``path`` (made absolute), with its digest taken now."""
        p = Path(path).resolve()
        return cls(kind, str(p), digest=file_digest(p), name=kw.pop("name", "") or p.name, **kw)

    def describe(self, lang: str = "zh") -> str:
        """One line: kind, file, datum."""
        text = LAYER_KINDS[self.kind][0 if lang == "zh" else 1]
        if self.path:
            text = t("labelled", lang, label=text, text=self.name or Path(self.path).name)
        if self.kind == "table" and self.datum != "wgs84":
            text += f" ({self.datum.upper()})"
        return text


AREA_LAYER = FacilityLayer("area")


# --------------------------------------------------------------------------- the study
@dataclass(frozen=True)
class Study:
    """Everything that determines a coverage result.

    Attributes
    ----------
    area : str
        A prepared area folder (``data/areas/<area>``); or give ``network``.
    network, boundaries, buildings : str
        Input files when there is no prepared area (``buildings`` is the demand
        layer; with an area, '' means the area's own buildings).
    boundary_name : str
        Name column of ``boundaries`` ('' = detect).
    layers : tuple of FacilityLayer
        Facility sources, in order; merged and de-duplicated when read.
    thresholds : dict
        Per-category :class:`Threshold`; categories not given use the
        taxonomy's default distance.
    profile : str
        Walking profile key (:data:`geo.categories.PROFILES`).
    speed_m_per_min : float or None
        Overrides the profile's speed.
    persons_per_household, m2_per_person : float
        Demand weighting (:func:`geo.demand.demand_weights`): residents per
        household for a 户数 column, and floor area per resident (None: floor
        area stays m²).
    include_planned : bool
        False is the before-the-plan scenario: ``planned`` and ``building`` (under
        construction) facilities left out (:func:`geo.facilities.filter_scenario`).
    lang : str
        Language of messages and exports (``zh`` or ``en``).
    name : str
        A name for saving the study.
    """

    area: str = ""
    network: str = ""
    boundaries: str = ""
    boundary_name: str = ""
    buildings: str = ""
    layers: tuple[FacilityLayer, ...] = ()
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    profile: str = "default"
    speed_m_per_min: float | None = None
    include_planned: bool = True
    lang: str = "zh"
    name: str = ""
    persons_per_household: float = PERSONS_PER_HOUSEHOLD
    m2_per_person: float | None = None

    def __post_init__(self) -> None:
        if not self.area and not self.network:
            raise InputError("研究需要 --area（已准备的研究区）或 --network（路网文件）。",
                             "a study needs --area (a prepared study area) or --network (a network file).")
        if self.area and self.network:
            raise InputError("--area 与 --network 只能二选一。", "give either --area or --network, not both.")
        if self.profile not in PROFILES:
            raise InputError(f"未知的步行速度档：{self.profile}（可用：{', '.join(PROFILES)}）。",
                             f"unknown walking profile: {self.profile} (use {', '.join(PROFILES)}).")
        s = self.speed_m_per_min
        if s is not None and (isinstance(s, bool) or not isinstance(s, (int, float)) or not (math.isfinite(s) and s > 0)):
            raise InputError(f"步行速度必须是正数（米/分钟），得到 {s!r}。",
                             f"walking speed must be a positive number of metres per minute, got {s!r}.")
        for key in ("persons_per_household", "m2_per_person"):
            v = getattr(self, key)
            if v is None and key == "m2_per_person":
                continue
            if (isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0)):
                raise InputError(f"{key} 必须是正数，得到 {v!r}。", f"{key} must be a positive number, got {v!r}.")
        if self.lang not in ("zh", "en"):
            raise InputError(f"语言须为 zh 或 en，得到 {self.lang!r}。", f"the language is zh or en, got {self.lang!r}.")
        bad = [k for k in self.thresholds if k not in CATEGORIES]
        if bad:
            raise InputError(f"未知类别：{', '.join(bad)}（可用：{', '.join(CATEGORY_KEYS)}）。",
                             f"unknown categories: {', '.join(bad)} (use {', '.join(CATEGORY_KEYS)}).")
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "thresholds", {k: self.thresholds[k] for k in CATEGORY_KEYS if k in self.thresholds})

    # ----- derived values
    @property
    def speed(self) -> float:
        """Walking speed in metres per minute (the override, else the profile's)."""
        return float(self.speed_m_per_min) if self.speed_m_per_min else PROFILES[self.profile].speed_m_per_min

    def threshold(self, category: str) -> Threshold:
        """The category's threshold (the taxonomy's default distance when not set)."""
        return self.thresholds.get(category) or Threshold(CATEGORIES[category].threshold_m, "m")

    def thresholds_m(self) -> dict[str, float]:
        """Every category's threshold in network metres at this study's speed."""
        return {c: self.threshold(c).metres(self.speed) for c in CATEGORY_KEYS}

    @property
    def scenario(self) -> str:
        """``after`` (also planned and under construction) or ``before`` (existing and upgrading);
        :data:`geo.categories.SCENARIO_STATUSES`."""
        return "after" if self.include_planned else "before"

    def scenario_label(self, lang: str = "zh") -> str:
        return t("study_scenario_after" if self.include_planned else "study_scenario_before", lang)

    def replace(self, **changes: Any) -> Study:
        """A copy with ``changes`` (a study is immutable)."""
        return dataclasses.replace(self, **changes)

    def with_layer(self, layer: FacilityLayer) -> Study:
        """A copy with ``layer`` added; a layer of the same file (same digest) replaces the earlier one."""
        keep = [x for x in self.layers if not (x.kind == layer.kind and (x.path == layer.path or
                                                                         (layer.digest and x.digest == layer.digest)))]
        return self.replace(layers=tuple(keep) + (layer,))

    def facility_layers(self) -> tuple[FacilityLayer, ...]:
        """The layers read for this study: with an area, its own facilities come first."""
        if self.area and not any(x.kind == "area" for x in self.layers):
            return (AREA_LAYER,) + self.layers
        return self.layers

    # ----- serialisation
    def to_dict(self) -> dict:
        """A JSON-ready dict (``version``, every field; thresholds as ``{"value", "unit"}``)."""
        d = dataclasses.asdict(self)
        d["thresholds"] = {k: {"value": t.value, "unit": t.unit} for k, t in self.thresholds.items()}
        d["layers"] = [dataclasses.asdict(x) for x in self.layers]
        return {"version": STUDY_VERSION, **d}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Study:
        """Inverse of :meth:`to_dict` (unknown keys are refused with a clear message)."""
        if not isinstance(d, Mapping):
            raise InputError("研究文件应为 JSON 对象。", "a study file must hold a JSON object.")
        d = dict(d)
        d.pop("version", None)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise InputError(f"研究文件中有未知字段：{', '.join(unknown)}。", f"unknown fields in the study: {', '.join(unknown)}.")
        try:
            d["layers"] = tuple(FacilityLayer(**x) for x in d.get("layers", ()))
            d["thresholds"] = {k: Threshold(float(v["value"]), str(v.get("unit", "m"))) if isinstance(v, Mapping)
                               else Threshold(float(v)) for k, v in (d.get("thresholds") or {}).items()}
        except (TypeError, KeyError, ValueError) as exc:
            raise InputError(f"研究文件的图层或阈值格式不对（{exc}）。", f"the study's layers or thresholds are malformed ({exc}).") \
                from None
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    def save(self, path: str | Path) -> Path:
        """Write the study as JSON (atomically; the previous version is kept)."""
        from .workspace import write_keeping_previous

        text = self.to_json()
        return write_keeping_previous(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    @classmethod
    def load(cls, path: str | Path) -> Study:
        """A study from a study JSON or a coverage folder's ``params.json`` (its ``study`` entry)."""
        from .io import require_file

        p = require_file(path)
        if p.is_dir():
            p = require_file(p / "params.json")
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"无法读取研究文件（{exc}）。", f"cannot read the study file ({exc}).", p) from None
        if isinstance(d, dict) and "study" in d:
            d = d["study"]
        try:
            return cls.from_dict(d)
        except InputError as exc:
            raise InputError(exc.zh, exc.en, p) from None


# --------------------------------------------------------------------------- inputs
@dataclass
class StudyInputs:
    """What a study reads: network, boundaries, demand, and every facility with its source."""

    network: Any  # geo.network.WalkNetwork
    boundaries: gpd.GeoDataFrame | None
    buildings: gpd.GeoDataFrame | None
    facilities: gpd.GeoDataFrame  # every layer merged, before the scenario filter (WGS-84)
    layer_counts: list[dict]
    warnings: list[Message]
    area: Any = None  # geo.areas.StudyArea
    area_meta: dict = field(default_factory=dict)


def _read_texts_layer(layer: FacilityLayer) -> gpd.GeoDataFrame:
    from .geocode import apply_corrections, to_facilities
    from .io import read_vector, require_file
    from .workspace import read_csv_text

    p = require_file(layer.path)
    table = read_csv_text(p) if p.suffix.lower() == ".csv" else pd.DataFrame(read_vector(p).drop(columns="geometry"))
    if "match_status" not in table.columns:
        raise InputError("这不是地理编码结果表（缺少 match_status 列）。请使用 lifecircle geocode 的输出。",
                         "not a geocoded table (no match_status column); use the output of lifecircle geocode.", p)
    if layer.corrections and Path(layer.corrections).is_file():
        table = apply_corrections(table, layer.corrections)
    out = to_facilities(table)
    problems = table.attrs.get("correction_problems", [])
    if problems:
        out.attrs["warnings"] = [warn(f"校正文件中 {len(problems)} 行无法使用（保留在文件中）：" +
                                      "；".join(f"第{r}行 {z}" for r, z, _ in problems[:5]),
                                      f"{len(problems)} rows of the corrections file cannot be used (kept in the file): " +
                                      "; ".join(f"row {r} {e}" for r, _, e in problems[:5]))]
    return out


def _read_layer(layer: FacilityLayer, area: Any, near: shapely.Geometry) -> gpd.GeoDataFrame:
    if layer.kind == "area":
        if area is None:
            raise InputError("“研究区设施”图层需要 --area。", "the study-area facility layer needs --area.")
        return area.facilities
    if layer.kind == "texts":
        return _read_texts_layer(layer)
    if layer.kind == "siting":
        from .plan import read_siting_layer

        return read_siting_layer(layer.path, layer.corrections or None)
    out = fac.read_facilities(layer.path, mask=near, datum=layer.datum) if layer.datum != "wgs84" \
        else fac.read_facilities(layer.path, mask=near)
    return fac.require_facilities(out, layer.path)


def _merge_layers(parts: list[gpd.GeoDataFrame], counts: list[dict]) -> tuple[gpd.GeoDataFrame, list[Message]]:
    """All layers as one facility table; added layers are merged with what is there by id, name and location."""
    warnings: list[Message] = []
    if len(parts) == 1:
        return fac.normalize_facilities(parts[0]), warnings
    allf = fac.combine(*parts)
    before = len(allf)
    # the same id twice (the same list added twice) is one facility, whatever else differs
    allf = allf[~allf["facility_id"].astype(str).duplicated(keep="first") | (allf["facility_id"].astype(str) == "")]
    merged = fac.dedupe(allf)
    n = before - len(merged)
    if n:
        warnings.append(warn(f"合并了 {n} 个重复设施（同一编号，或同名且位置相近）：{before} → {len(merged)}。",
                             f"merged {n} duplicate facilities (the same id, or a similar name nearby): {before} → {len(merged)}."))
    merged.attrs["merged"] = n
    return merged, warnings


def load_inputs(study: Study, *, area: Any = None, progress: Callable[[float, str], None] | None = None) -> StudyInputs:
    """Read everything ``study`` names (a prepared ``area`` already in memory may be passed in).

    Raises
    ------
    InputError
        Missing or unreadable inputs, boundaries that miss the network, a
        changed input file is only a warning.
    """
    from .areas import FACILITY_BUFFER_M, load_area, load_network_file, network_extent, with_building_ids
    from .boundaries import read_boundaries
    from .io import read_vector

    progress = progress or (lambda f, m: None)
    warnings: list[Message] = []
    meta: dict = {}
    if study.area:
        area = area if area is not None else load_area(study.area, context=False)
        net, boundaries, buildings, meta = area.network, area.boundaries, area.buildings, dict(area.meta)
    else:
        progress(0.0, f"network: {study.network}")
        net, boundaries, buildings = load_network_file(study.network), None, None
    if study.boundaries:
        boundaries = read_boundaries(study.boundaries, study.boundary_name or None)
    if study.buildings:
        b = read_vector(study.buildings)
        if not len(b):
            raise InputError("建筑文件没有要素。", "the buildings file has no features.", study.buildings)
        buildings = with_building_ids(b, Path(study.buildings).stem)
        if not len(buildings):
            raise InputError("建筑文件中没有面要素（建筑轮廓）。", "the buildings file has no polygons (footprints).", study.buildings)
    if boundaries is not None and len(boundaries) and not as_wgs84(boundaries).intersects(network_extent(net)).any():
        raise InputError("边界与路网范围不相交：请检查边界文件是否对应该路网（以及坐标系是否正确）。",
                         "the boundaries do not intersect the network; check that they belong to this network "
                         "(and that their CRS is right).", study.boundaries or None)
    near = network_extent(net, FACILITY_BUFFER_M)
    parts, counts = [], []
    layers = study.facility_layers()
    if not layers:
        raise InputError("请用 --facilities 给出至少一个设施文件。", "give at least one facilities file with --facilities.")
    for layer in layers:
        progress(0.0, f"facilities: {layer.describe(study.lang)}")
        if layer.path and layer.digest and file_digest(layer.path) not in ("", layer.digest):
            warnings.append(warn(f"{layer.path} 自加入研究后已改变，结果可能与当时不同。",
                                 f"{layer.path} has changed since it was added to the study; results may differ from then."))
        part = _read_layer(layer, area, near)
        parts.append(part)
        counts.append({**dataclasses.asdict(layer), "features": int(len(part)), "label": layer.describe(study.lang)})
    facilities, merge_warnings = _merge_layers(parts, counts)
    warnings += [w for p in parts for w in p.attrs.get("warnings", [])] + merge_warnings
    return StudyInputs(network=net, boundaries=boundaries, buildings=buildings, facilities=facilities,
                       layer_counts=counts, warnings=list(dict.fromkeys(warnings)), area=area, area_meta=meta)


def _outside_warning(facilities: gpd.GeoDataFrame, inputs: StudyInputs) -> Message | None:
    """Count facilities outside the study area (boundaries, else the network extent)."""
    from .areas import network_extent

    if not len(facilities):
        return None
    b = inputs.boundaries
    area = shapely.union_all(as_wgs84(b).geometry.values) if b is not None and len(b) else network_extent(inputs.network)
    n = int((~as_wgs84(facilities).intersects(area)).sum())
    if not n:
        return None
    return warn(f"{n} 个设施位于研究区边界之外；它们在步行可达范围内时仍计入覆盖。",
                f"{n} facilities lie outside the study area; they still count where they are within walking reach.")


# --------------------------------------------------------------------------- running
@dataclass
class StudyResult:
    """A study and its result: what the screen shows and every export is written from."""

    study: Study
    coverage: CoverageResult
    facilities: gpd.GeoDataFrame  # the facilities of the scenario (WGS-84)
    distances: Distances
    inputs: StudyInputs

    @property
    def params(self) -> dict:
        return self.coverage.params

    @property
    def warnings(self) -> list[Message]:
        return self.coverage.warnings

    def outputs(self) -> Any:
        """The exports' view of this result (:class:`geo.report.CoverageOutputs`)."""
        from .report import CoverageOutputs

        return CoverageOutputs.from_result(self.coverage, facilities=self.facilities, boundaries=self.inputs.boundaries)


def _threshold_params(study: Study) -> dict:
    speed = study.speed
    out = {}
    for c in CATEGORY_KEYS:
        t = study.threshold(c)
        out[c] = {"value": t.value, "unit": t.unit, "metres": t.metres(speed), "minutes": t.minutes(speed),
                  "set": c in study.thresholds, "kind": t.kind(study.lang), "standard": CATEGORIES[c].standard}
    return out


def _notes(study: Study) -> list[Message]:
    """Why figures differ between walkers: only walking-time thresholds depend on the speed."""
    timed = [c for c in CATEGORY_KEYS if study.threshold(c).unit == "min"]
    if not timed:
        return []
    speed = study.speed
    parts = {lg: [f"{label(c, lg)} {study.threshold(c).text(lg)} = {study.threshold(c).metres(speed):.0f}" +
                  f" {unit_label('m', lg)}" for c in timed] for lg in ("zh", "en")}
    return [warn(f"按步行时间设定的阈值随步速换算为距离（{speed:g} 米/分钟，{label(study.profile, 'zh')}）："
                 f"{'；'.join(parts['zh'])}。步速越慢，同样分钟数走得越近，覆盖率随之降低。",
                 f"walking-time thresholds become distances at the walking speed ({speed:g} m/min, "
                 f"{label(study.profile, 'en')}): {'; '.join(parts['en'])}. A slower walker covers less ground in the "
                 "same minutes, so coverage is lower.")]


def study_params(study: Study, inputs: StudyInputs, used: gpd.GeoDataFrame) -> dict:
    """What a result records of its study: the study itself, scenario, thresholds with their kind, every source."""
    from .areas import ATTRIBUTION

    speed_source = "user --speed" if study.speed_m_per_min else PROFILES[study.profile].source
    return {
        "study": study.to_dict(),
        "scenario": {"key": study.scenario, "label": study.scenario_label(study.lang),
                     "include_planned": study.include_planned},
        "include_planned": study.include_planned,
        "threshold_spec": _threshold_params(study),
        "inputs": {k: v for k, v in (("area", study.area), ("network", study.network), ("boundaries", study.boundaries),
                                     ("buildings", study.buildings)) if v}
                  | ({"facilities": [x.path for x in study.layers if x.path]} if any(x.path for x in study.layers)
                     else {}),
        "facility_layers": inputs.layer_counts,
        "facilities_by_source": {str(k): int(v) for k, v in used["source"].value_counts().items()},
        "facilities_planned_dropped": int(len(inputs.facilities) - len(used)),
        "facilities_merged": int(inputs.facilities.attrs.get("merged", 0)),
        "sources": {"categories": {c.key: {"label": c.zh, "label_en": c.en, "threshold_m": c.threshold_m,
                                           "standard": c.standard, "standard_en": c.standard_en}
                                   for c in CATEGORIES.values()},
                    "walking_speed": speed_source},
        "area_source": inputs.area_meta.get("source") if inputs.area_meta else None,
        "attribution": ATTRIBUTION,
        "lang": study.lang,
    }


def weighting_params(weights: DemandWeights | None) -> dict:
    """What params.json records of the demand weighting (also for plain counts, and when there are no buildings)."""
    if weights is None:
        return {"method": "none", "unit": "", "label": "无建筑（以道路为需求）", "label_en": "no buildings (streets are the demand)"}
    return {"method": weights.method, "unit": weights.unit, "column": weights.column, **weights.params,
            "total": float(weights.weights.sum()), "label": weights.description("zh"),
            "label_en": weights.description("en")}


class StudyCache:
    """Bounded memo of the heavy steps (areas, facility layers, distances) for the app.

    :func:`run_study` re-reads nothing whose inputs did not change: the key of
    each step is built from the study fields and file digests it depends on.
    """

    def __init__(self, max_entries: int = 6):
        self.max_entries = max_entries
        self._store: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.RLock()

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._store:
                self._store.move_to_end(key)
                return self._store[key]
        value = make()
        with self._lock:
            self._store[key] = value
            while len(self._store) > self.max_entries:
                self._store.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._store.clear()

    def area(self, path: str | Path) -> Any:
        """The prepared area at ``path`` (with its map context), read once per ``area.json`` version."""
        from .areas import load_area

        return self.get(("area", _area_stamp(str(path))), lambda: load_area(path))


def _area_stamp(path: str) -> str:
    meta = Path(path) / "area.json"
    return f"{Path(path).resolve()}@{meta.stat().st_mtime_ns if meta.exists() else 0}"


def _inputs_key(study: Study) -> tuple:
    layers = tuple((x.kind, x.path, x.datum, x.corrections, file_digest(x.path) if x.path else "",
                    file_digest(x.corrections) if x.corrections else "") for x in study.facility_layers())
    src = _area_stamp(study.area) if study.area else (study.network, file_digest(study.network))
    return ("inputs", src, study.boundaries, study.boundary_name, study.buildings, layers, study.lang)


def run_study(study: Study, *, cache: StudyCache | None = None,
              progress: Callable[[float, str], None] | None = None) -> StudyResult:
    """Run a study: read its inputs, compute walking distances once, threshold them.

    Parameters
    ----------
    study : Study
    cache : StudyCache, optional
        Reuse the area, facilities and distances of earlier runs whose inputs
        are the same (the app); None computes everything (the CLI).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    StudyResult
    """
    from .areas import load_area

    progress = progress or (lambda f, m: None)
    area = None
    if study.area:
        area = cache.area(study.area) if cache else load_area(study.area, context=False)
    ikey = _inputs_key(study)
    inputs = cache.get(ikey, lambda: load_inputs(study, area=area, progress=progress)) if cache \
        else load_inputs(study, area=area, progress=progress)
    used = fac.filter_scenario(inputs.facilities, study.include_planned)

    def sub(frac: float, msg: str) -> None:
        progress(0.02 + 0.88 * frac, msg)

    def distances() -> tuple[Distances, Message | None]:
        return compute_distances(inputs.network, used, inputs.buildings, progress=sub), _outside_warning(used, inputs)

    dkey = ("distances", ikey, study.include_planned)
    dist, outside = cache.get(dkey, distances) if cache else distances()
    warnings = list(inputs.warnings) + ([outside] if outside else [])
    progress(0.92, "summarizing")
    thresholds = study.thresholds_m()

    def summary() -> CoverageResult:
        return summarize(dist, inputs.boundaries, thresholds=thresholds, speed_m_per_min=study.speed)

    skey = ("summary", dkey, tuple(sorted(thresholds.items())), study.speed, study.profile, study.lang)
    base = cache.get(skey, summary) if cache else summary()

    def weights() -> DemandWeights | None:
        b = dist.buildings
        return None if b is None else demand_weights(b, persons_per_household=study.persons_per_household,
                                                     m2_per_person=study.m2_per_person)

    wkey = ("weights", dkey, study.persons_per_household, study.m2_per_person)
    w8 = cache.get(wkey, weights) if cache else weights()
    base = dataclasses.replace(base, subdistricts=with_weighted_columns(base.subdistricts, base.buildings, w8,
                                                                        thresholds, study.lang))
    params = {**base.params, **study_params(study, inputs, used), "profile": study.profile,
              "demand_weighting": weighting_params(w8)}
    all_warnings = list(dict.fromkeys(warnings + list(base.warnings) + _notes(study)))
    params["warnings"] = [w.to_dict() for w in all_warnings]  # JSON as written to params.json
    result = dataclasses.replace(base, params=params, warnings=all_warnings)
    progress(1.0, "coverage done")
    return StudyResult(study=study, coverage=result, facilities=as_wgs84(used), distances=dist, inputs=inputs)
