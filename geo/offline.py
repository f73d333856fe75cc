"""Another 街道, offline, in three steps.

1. **Pick** the 街道 from the gazetteer (:func:`geo.gazetteer.load_gazetteer`).
2. **Survey** (:func:`survey_subdistrict`): clip what an offline mirror such as
   ``../shared/data`` has for it — Geofabrik POIs and green areas, official
   facility lists (by their subdistrict column or by location), and the
   boundary where one exists (else the district's, and it says so) — and
   report, per layer, what was found and what is missing.
3. **Prepare** (:func:`prepare_subdistrict`) with the one thing a mirror
   usually lacks, the walking network (and optionally buildings), given by the
   planner in one of :data:`NETWORK_FORMATS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from . import facilities as fac
from .areas import (
    AREAS,
    FACILITY_BUFFER_M,
    WGS84,
    Progress,
    check_area_out,
    context_layer,
    load_network_file,
    network_extent,
    with_building_ids,
    write_area,
)
from .boundaries import read_boundaries
from .errors import InputError
from .gazetteer import Gazetteer, load_gazetteer
from .io import as_wgs84, read_vector, require_file
from .progress import null_progress

__all__ = ["NETWORK_FORMATS", "LayerFound", "Survey", "area_id_for", "missing_message", "prepare_subdistrict",
           "resolve_subdistrict", "survey_subdistrict"]

#: The walking-network files :func:`geo.network.load_network` reads (zh, en).
NETWORK_FORMATS = ("OSM XML（.osm）或 PBF（.osm.pbf）；GeoJSON / GPKG / SHP 道路线图层；压缩的 Shapefile（.zip）",
                   "OSM XML (.osm) or PBF (.osm.pbf); a GeoJSON / GPKG / SHP road line layer; a zipped shapefile (.zip)")
_SUBDISTRICT_COLS = ("official_subdistrict", "spatial_subdistrict", "subdistrict", "街道", "所属街道", "街镇")


@dataclass
class LayerFound:
    """What the mirror has for one layer of the area."""

    layer: str  # boundary, pois, green, official, network, buildings
    features: int
    source: str = ""
    note_zh: str = ""
    note_en: str = ""

    def line(self, lang: str) -> str:
        from .i18n import t

        label = _LAYER_LABELS[self.layer][0 if lang == "zh" else 1]
        note = self.note_zh if lang == "zh" else self.note_en
        if not self.features and self.layer == "boundary":
            value = t("bracketed", lang, text=t("survey_none", lang), inner=note)
        elif not self.features and self.layer in ("network", "buildings"):
            value = t("bracketed", lang, text=t("survey_missing", lang), inner=note) if note else t("survey_missing", lang)
        else:
            value = t("bracketed", lang, text=self.features, inner=note) if note else str(self.features)
        return t("labelled", lang, label=label, text=value)


_LAYER_LABELS = {"boundary": ("边界", "boundary"), "pois": ("OSM 设施点（Geofabrik）", "OSM POIs (Geofabrik)"),
                 "green": ("绿地（Geofabrik）", "green areas (Geofabrik)"),
                 "official": ("官方设施清单", "official facility lists"),
                 "network": ("步行路网", "walking network"), "buildings": ("建筑", "buildings")}


@dataclass
class Survey:
    """Step 2: what an offline mirror has for one 街道 (see :func:`survey_subdistrict`)."""

    subdistrict: str
    district: str
    mirror: Path
    boundary: gpd.GeoDataFrame  # the 街道's own polygon, else the district's (see boundary_kind)
    boundary_kind: str  # "subdistrict" | "district" | "none"
    facilities: gpd.GeoDataFrame  # POIs, green and official rows within FACILITY_BUFFER_M of the boundary
    context: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    layers: list[LayerFound] = field(default_factory=list)
    network: Path | None = None  # a network the mirror itself holds for this 街道
    buildings: Path | None = None

    @property
    def missing(self) -> list[str]:
        """Layers the planner still has to give (``network``, ``buildings``)."""
        return [x.layer for x in self.layers if x.layer in ("network", "buildings") and not x.features]

    def lines(self, lang: str) -> list[str]:
        """One line per layer in ``lang`` (``zh`` or ``en``)."""
        return [x.line(lang) for x in self.layers]


def resolve_subdistrict(name: str, district: str | None = None, gazetteer: Gazetteer | None = None) -> tuple[str, str]:
    """Step 1: ``(街道, 区)`` official names for a written 街道 name (misspellings resolved).

    Raises
    ------
    InputError
        The name is no Shanghai 街道/镇 of the gazetteer.
    """
    gaz = gazetteer or load_gazetteer()
    if district:  # 浦东 or 浦东新区
        d = gaz.resolve(district, kind="district")
        if d is None:
            raise InputError(f"名录中没有区“{district}”。", f"no district '{district}' in the gazetteer.")
        district = d.name
    res = gaz.resolve(name, district=district, kind="subdistrict")
    if res is None or (district and res.district and res.district != district):
        where = f"（{district}）" if district else ""
        raise InputError(f"名录中没有街道/镇“{name}”{where}。请从名录中选择。{gaz.note}",
                         f"no 街道/镇 '{name}' in the gazetteer{' (' + district + ')' if district else ''}; "
                         f"pick one from the list. {gaz.note}".strip())
    return res.name, res.district or (district or "")


def area_id_for(subdistrict: str) -> str:
    """A folder name for a 街道: its pinyin without the suffix (五角场街道 → ``wujiaochang``)."""
    from pypinyin import lazy_pinyin

    stem = subdistrict.removesuffix("街道").removesuffix("镇") or subdistrict
    return "".join(lazy_pinyin(stem)).lower() or "area"


def missing_message(survey: Survey) -> tuple[str, str]:
    """Step 3: what to give, in (zh, en), with the file types that work."""
    zh = (f"共享数据中没有{survey.subdistrict}的步行路网。请提供路网文件（{NETWORK_FORMATS[0]}）；"
          "建筑轮廓可选（GeoJSON / GPKG / SHP 面图层）。")
    en = (f"the shared data holds no walking network for {survey.subdistrict}; give a network file "
          f"({NETWORK_FORMATS[1]}); buildings are optional (a GeoJSON / GPKG / SHP polygon layer).")
    return zh, en


# --------------------------------------------------------------------------- reading the mirror
def _geofabrik(root: Path) -> Path | None:
    for p in [root, *sorted(q for q in root.iterdir() if q.is_dir())]:
        if (p / "gis_osm_pois_free_1.shp").exists() or (p / "gis_osm_pois_a_free_1.shp").exists():
            return p
    return None


def _subdistrict_boundary(root: Path, name: str) -> tuple[gpd.GeoDataFrame | None, Path | None]:
    folder = root / "boundaries"
    for f in sorted(folder.glob("*subdistrict*")) if folder.is_dir() else []:
        b = read_boundaries(f)
        hit = b[b["subdistrict"] == name]
        if len(hit):
            return hit.reset_index(drop=True), f
    return None, None


def _district_boundary(root: Path, district: str) -> tuple[gpd.GeoDataFrame | None, Path | None]:
    f = root / "boundaries" / "shanghai_districts.geojson"
    if not district or not f.exists():
        return None, None
    d = as_wgs84(read_vector(f))
    col = "name" if "name" in d.columns else None
    hit = d[d[col] == district] if col else d.iloc[0:0]
    if not len(hit):
        return None, None
    return gpd.GeoDataFrame({"subdistrict": [district], "district": [district]},
                            geometry=[shapely.union_all(hit.geometry.values)], crs=WGS84), f


def _tables(root: Path) -> list[Path]:
    folder = root / "facilities"
    found = sorted(folder.glob("*.csv")) + sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
    return found + sorted(p for p in root.iterdir() if p.is_file() and p.name.lower().startswith("facilities")
                          and p.suffix.lower() in (".csv", ".xlsx"))


def _official(table: Path, name: str, near: shapely.Geometry) -> tuple[gpd.GeoDataFrame, int, int]:
    """Rows of an official list for the 街道: by its subdistrict column, or by location near it.

    Returns the rows (Facilities schema) and how many were picked by column and by location.
    """
    g = fac.read_facilities(table)
    raw = fac.read_csv_any(table) if table.suffix.lower() == ".csv" else pd.read_excel(table)
    cols = [c for c in _SUBDISTRICT_COLS if c in raw.columns]
    by_col = pd.Series(False, index=raw.index)
    for c in cols:
        by_col |= raw[c].fillna("").astype(str).str.strip().eq(name)
    # rows keep their identity through read_facility_table when the table has an id column
    idcol = next((c for c in ("request_id", "id", "facility_id", "编号") if c in raw.columns), None)
    named_ids: set[str] = set(raw.loc[by_col, idcol].astype(str)) if idcol else set()
    # read_facility_table names a row "official:<id>"
    in_name = g["facility_id"].astype(str).str.split(":", n=1).str[-1].isin(named_ids)
    inside = g.intersects(near) if len(g) else pd.Series(False, index=g.index)
    keep = in_name | inside
    out = g[keep].reset_index(drop=True)
    return out, int(in_name.sum()), int((inside & ~in_name).sum())


def survey_subdistrict(subdistrict: str, from_dir: str | Path, district: str | None = None,
                       gazetteer: Gazetteer | None = None) -> Survey:
    """Step 2: clip what the mirror ``from_dir`` has for a 街道 and say what is missing.

    Parameters
    ----------
    subdistrict : str
        A 街道/镇 name (resolved against the gazetteer, misspellings included).
    from_dir : path
        The offline mirror, e.g. ``../shared/data``.
    district : str, optional
        Its district, when the name alone is ambiguous.

    Returns
    -------
    Survey
        Clipped layers and one :class:`LayerFound` per layer.
    """
    root = require_file(from_dir)
    if not root.is_dir():
        raise InputError("--from 需要是一个文件夹。", "--from must be a folder.", root)
    name, dist = resolve_subdistrict(subdistrict, district, gazetteer)
    layers: list[LayerFound] = []

    bnd, bpath = _subdistrict_boundary(root, name)
    kind = "subdistrict"
    if bnd is not None:
        layers.append(LayerFound("boundary", len(bnd), str(bpath), f"{name}自身的边界", f"{name}'s own boundary"))
    else:
        bnd, bpath = _district_boundary(root, dist)
        kind = "district" if bnd is not None else "none"
        layers.append(LayerFound(
            "boundary", 0, str(bpath or ""),
            f"共享数据中没有{name}的边界；" + (f"暂用{dist}的边界选取数据，研究区将用路网范围（限于{dist}内）"
                                           if bnd is not None else "研究区将用路网范围"),
            f"the shared data has no boundary for {name}; " + (
                f"{dist}'s boundary selects the data and the study area will be the network extent (within {dist})"
                if bnd is not None else "the study area will be the network extent")))
    if bnd is not None:
        poly = shapely.union_all(bnd.geometry.values)
        utm = bnd.estimate_utm_crs()
        near = gpd.GeoSeries([poly], crs=WGS84).to_crs(utm).buffer(FACILITY_BUFFER_M).to_crs(WGS84).iloc[0]
    else:
        poly = near = None
        bnd = gpd.GeoDataFrame({"subdistrict": [], "district": []}, geometry=[], crs=WGS84)

    parts, context = [], {}
    gf = _geofabrik(root)
    if gf is not None and near is not None:
        g = fac.from_geofabrik(gf, mask=near)
        g = g[g.intersects(near)].reset_index(drop=True)
        parts.append(g)
        buf = f"边界外扩 {FACILITY_BUFFER_M:.0f} 米内" if kind == "subdistrict" else f"{dist}边界外扩 {FACILITY_BUFFER_M:.0f} 米内"
        buf_en = f"within {FACILITY_BUFFER_M:.0f} m of the " + ("boundary" if kind == "subdistrict" else f"{dist} boundary")
        layers.append(LayerFound("pois", len(g), str(gf), buf, buf_en))
        green = context_layer([gf / fac.GEOFABRIK_GREEN], near, "park")
        if green is not None:
            context["parks"] = green[green.intersects(near)].reset_index(drop=True)
        layers.append(LayerFound("green", len(context.get("parks", ())), str(gf / fac.GEOFABRIK_GREEN), buf, buf_en))
    else:
        why = ("没有 Geofabrik 数据", "no Geofabrik data") if gf is None else ("没有边界可供裁剪", "no boundary to clip by")
        layers += [LayerFound("pois", 0, "", *why), LayerFound("green", 0, "", *why)]

    n_col = n_loc = 0
    srcs = []
    for t in _tables(root):
        rows, by_col, by_loc = _official(t, name, near if near is not None else shapely.Point())
        parts.append(rows)
        n_col, n_loc = n_col + by_col, n_loc + by_loc
        srcs.append(str(t))
    layers.append(LayerFound("official", n_col + n_loc, "; ".join(srcs),
                             f"按街道列 {n_col} 条，按位置 {n_loc} 条" if srcs else "没有官方清单",
                             f"{n_col} by the subdistrict column, {n_loc} by location" if srcs else "no official list"))
    facilities = fac.combine(*parts) if parts else fac.empty_facilities()

    if gf is not None and near is not None and (gf / "gis_osm_water_a_free_1.shp").exists():
        water = context_layer([gf / "gis_osm_water_a_free_1.shp"], near, "water")
        if water is not None:
            context["water"] = water[water.intersects(near)].reset_index(drop=True)

    # a network the mirror holds for exactly this 街道 (a known area, e.g. 新江湾城)
    net_path = bld_path = None
    for spec in AREAS.values():
        if spec.name == name and (root / spec.roads).exists():
            net_path = root / spec.roads
            bld_path = (root / spec.buildings) if spec.buildings and (root / spec.buildings).exists() else None
    in_mirror = ("共享数据中已有", "in the shared data")
    layers.append(LayerFound("network", 1 if net_path else 0, str(net_path or ""),
                             *(in_mirror if net_path else ("请提供路网文件", "give a network file"))))
    layers.append(LayerFound("buildings", 1 if bld_path else 0, str(bld_path or ""),
                             *(in_mirror if bld_path else
                               ("可选；没有建筑时以街道长度计算覆盖", "optional; without them coverage is measured on street length"))))
    return Survey(name, dist, root, bnd, kind, facilities, context, layers, net_path, bld_path)


# --------------------------------------------------------------------------- step 3
def prepare_subdistrict(subdistrict: str, from_dir: str | Path, network: str | Path | None = None, *,
                        district: str | None = None, buildings: str | Path | None = None, area: str | None = None,
                        data_dir: str | Path = Path("data"), progress: Progress | None = None,
                        survey: Survey | None = None) -> Path:
    """Step 3: build ``<data_dir>/areas/<area>/`` for a 街道 from the mirror plus the planner's network.

    Parameters
    ----------
    subdistrict, from_dir, district
        As :func:`survey_subdistrict` (``survey`` may be given instead of redoing it).
    network : path, optional
        The walking network (:data:`NETWORK_FORMATS`); required unless the mirror has one.
    buildings : path, optional
        Building footprints.
    area : str, optional
        Area id (default :func:`area_id_for` the 街道).

    Returns
    -------
    Path
        The prepared area folder; ``area.json`` carries the survey and the repair report.
    """
    progress = progress or null_progress
    sv = survey or survey_subdistrict(subdistrict, from_dir, district)
    net_file = Path(network) if network else sv.network
    if net_file is None:
        raise InputError(*missing_message(sv))
    net_file = require_file(net_file)
    bld_file = require_file(buildings) if buildings else sv.buildings
    area = area or area_id_for(sv.subdistrict)
    out_root = Path(data_dir) / "areas" / area
    check_area_out(out_root, [sv.mirror, net_file] + ([bld_file] if bld_file else []))

    progress(0.1, f"network: {net_file.name}")
    net = load_network_file(net_file)
    if not len(net.edges):
        raise InputError("路网为空（没有可步行的道路）。", "the network is empty (no walkable ways).", net_file)
    extent, near = network_extent(net), network_extent(net, FACILITY_BUFFER_M)
    notes = [(f"Another 街道 offline: {sv.subdistrict} ({sv.district}); data clipped from {sv.mirror}, "
              f"network from {net_file.name}.")]
    if sv.boundary_kind == "subdistrict":
        bnd = sv.boundary
        if not bnd.intersects(extent).any():
            raise InputError(f"路网与{sv.subdistrict}的边界不相交：请检查路网文件是否属于该街道。",
                             f"the network does not reach {sv.subdistrict}'s boundary; is it the right file?", net_file)
    else:
        poly = extent
        if sv.boundary_kind == "district":
            poly = extent.intersection(shapely.union_all(sv.boundary.geometry.values))
            if poly.is_empty:
                raise InputError(f"路网不在{sv.district}内：请检查路网文件。",
                                 f"the network lies outside {sv.district}; is it the right file?", net_file)
        bnd = gpd.GeoDataFrame({"subdistrict": [sv.subdistrict], "district": [sv.district]}, geometry=[poly], crs=WGS84)
        notes.append(f"No boundary for {sv.subdistrict} in the shared data: the study area is the network's extent"
                     + (f" within {sv.district}'s boundary." if sv.boundary_kind == "district" else "."))

    progress(0.6, "facilities")
    f = sv.facilities
    f = f[f.intersects(near)].reset_index(drop=True) if len(f) else f
    facilities = fac.dedupe(f) if len(f) else fac.empty_facilities()
    bld = with_building_ids(read_vector(bld_file), "building") if bld_file else None
    if bld is not None:
        bld = bld[bld.intersects(near)].reset_index(drop=True)
    context = {k: v[v.intersects(near)].reset_index(drop=True) for k, v in sv.context.items()}

    progress(0.9, "writing")
    meta = {"name": sv.subdistrict, "place": f"{sv.subdistrict}, {sv.district}, 上海市",
            "source": {"mode": "offline-subdistrict", "from": str(sv.mirror), "network": str(net_file),
                       "buildings": str(bld_file) if bld_file else None, "boundary": sv.boundary_kind,
                       "survey": [{"layer": x.layer, "features": x.features, "source": x.source, "note": x.note_en}
                                  for x in sv.layers]},
            "notes": notes}
    out = write_area(out_root, area=area, meta=meta, net=net, facilities=facilities, boundaries=bnd,
                      buildings=bld, context=context)
    progress(1.0, f"written {out}")
    return out
