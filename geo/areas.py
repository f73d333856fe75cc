"""Study areas: ``lifecircle prepare`` builds ``data/areas/<area>/``; :func:`load_area` reads it back.

A prepared area holds everything the coverage pipeline and the app need, in
the layout of ``docs/ARCHITECTURE.md``::

    area.json        area, name, place, crs, source, created, repair, layers, attribution, notes
    network/         WalkNetwork.save() cache
    facilities.gpkg  layer "facilities" (Facilities schema)
    boundaries.gpkg  layer "boundaries" (subdistrict, district)
    buildings.gpkg   layer "buildings" (building_id + source columns)
    context.gpkg     layers "water", "parks" (map background)

Offline (:func:`prepare_offline`) it is built from a local mirror such as
``../shared/data``; known areas are listed in :data:`AREAS`, any other folder
is read with the generic layout of :func:`find_inputs`. Online
(:func:`prepare_online`) it is fetched from OpenStreetMap with osmnx.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import facilities as fac
from .boundaries import boundaries_from_place, read_boundaries
from .categories import category_for_fclass, osmnx_tags
from .errors import InputError, LifecircleError, no_internet
from .i18n import t
from .io import WGS84, as_wgs84, read_vector, require_file
from .network import WalkNetwork, load_network, network_from_place
from .outdir import check_not_input, check_outdir, kept_files, owned_dir
from .progress import null_progress, stderr_progress
from .settings import shared_dir

__all__ = [
    "ATTRIBUTION",
    "AreaSpec",
    "AREAS",
    "StudyArea",
    "find_inputs",
    "with_building_ids",
    "load_network_file",
    "network_extent",
    "write_area",
    "context_layer",
    "prepare_offline",
    "prepare_online",
    "load_area",
    "repair_summary",
    "cli_prepare",
]

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
FACILITY_BUFFER_M = 1500.0  # facilities just outside the study area still serve it
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class AreaSpec:
    """Where a known area's inputs live inside an offline mirror (paths relative to it)."""

    name: str
    place: str
    roads: str
    buildings: str | None = None
    parks: tuple[str, ...] = ()
    water: str | None = None
    boundaries: str | None = None
    geofabrik: str | None = None
    tables: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


#: Known areas of the offline mirror ``../shared/data``.
AREAS: dict[str, AreaSpec] = {
    "xinjiangwan": AreaSpec(
        name="新江湾城街道",
        place="新江湾城街道, 杨浦区, 上海市",
        roads="networks/xinjiangwan/roads.geojson",
        buildings="networks/xinjiangwan/buildings.geojson",
        parks=("networks/xinjiangwan/parks.geojson",),
        water="networks/xinjiangwan/water.geojson",
        boundaries="boundaries/yangpu_subdistricts_osm.geojson",
        geofabrik="osm-shanghai-2025-03-18",
        tables=("facilities/yangpu_official_facilities.csv",),
        notes=(
            "Roads: OSM ways of one Overpass box; junction vertices lost to 2 m simplification, repaired by "
            "noding crossings and snapping loose ends (see repair); elevated expressways excluded.",
            "Buildings carry no type tag: every building counts as potential housing.",
            "Boundaries: the Yangpu subdistricts intersecting the network extent; only 新江湾城街道 is fully "
            "covered by the network (see network_share_in_area in coverage outputs).",
            "Facilities: Geofabrik POIs 2025-03-18 and parks within 1.5 km of the network, plus the official "
            "Yangpu list, de-duplicated (column 'sources' tells which saw each).",
        ),
    ),
}


@dataclass
class StudyArea:
    """A prepared study area in memory (see :func:`load_area`)."""

    root: Path
    meta: dict
    network: WalkNetwork
    facilities: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame | None
    context: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.meta.get("area") or self.root.name


# --------------------------------------------------------------------------- helpers
def load_network_file(path: str | Path, polygon=None) -> WalkNetwork:
    """A WalkNetwork from an OSM XML/PBF file, a road line layer or a network cache (``geo.network.load_network``)."""
    return load_network(path, polygon=polygon)


def json_default(o):
    """JSON encoder fallback for numpy scalars/arrays and paths (NaN becomes null)."""
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o) if np.isfinite(o) else None
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def network_extent(net: WalkNetwork, buffer_m: float = 0.0) -> shapely.Geometry:
    """Convex hull of the network's edges (buffered by ``buffer_m``), in WGS-84."""
    hull = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(net.edges.geometry.values)))
    if buffer_m:
        hull = hull.buffer(buffer_m)
    return gpd.GeoSeries([hull], crs=net.crs).to_crs(WGS84).iloc[0]


def with_building_ids(b: gpd.GeoDataFrame, source_name: str = "building", *, points: bool = False) -> gpd.GeoDataFrame:
    """Polygon buildings in WGS-84 with a ``building_id`` first (``osm:way/<id>`` when known), source columns kept.

    ``points=True`` keeps point features too (residential compounds, 小区, given as points).
    """
    kinds = ["Polygon", "MultiPolygon"] + (["Point", "MultiPoint"] if points else [])
    b = b[b.geometry.notna() & b.geom_type.isin(kinds)].reset_index(drop=True)
    b = as_wgs84(b)
    idcol = next((c for c in ("building_id", "osm_way_id", "osm_id", "osmid", "id") if c in b.columns), None)
    if idcol == "building_id":
        ids = b[idcol].astype(str)
    elif idcol in ("osm_way_id",):
        ids = "osm:way/" + b[idcol].astype(str)
    elif idcol is not None:
        ids = b[idcol].astype(str).map(lambda v: v if ":" in v or "/" in v else f"{source_name}:{v}")
    else:
        ids = pd.Series([f"{source_name}:{i}" for i in range(len(b))])
    if not ids.is_unique:
        ids = ids + "#" + b.groupby(ids).cumcount().astype(str)
    b = b.drop(columns=["building_id"], errors="ignore")
    b.insert(0, "building_id", ids.to_numpy())
    return b


def _parks_as_facilities(parks: gpd.GeoDataFrame, source_name: str) -> gpd.GeoDataFrame:
    """Park polygons of an OSM-derived layer (``osm_way_id``, ``kind``) as facilities (category via fclass)."""
    kind_col = next((c for c in ("kind", "fclass", "leisure") if c in parks.columns), None)
    kinds = parks[kind_col].astype(str) if kind_col else pd.Series("park", index=parks.index)
    cat = kinds.map(category_for_fclass)
    keep = cat.notna() & parks.geom_type.isin(["Polygon", "MultiPolygon"])
    p = parks[keep]
    idcol = next((c for c in ("osm_way_id", "osm_id", "id") if c in p.columns), None)
    ids = (("osm:way/" if idcol == "osm_way_id" else "osm:area/") + p[idcol].astype(str)) if idcol else \
        pd.Series([f"osm:{source_name}:{i}" for i in range(len(p))], index=p.index)
    out = gpd.GeoDataFrame({
        "facility_id": ids.to_numpy(), "name": (p["name"].fillna("").astype(str).to_numpy() if "name" in p else ""),
        "category": cat[keep].to_numpy(), "status": "existing", "source": "osm",
        "source_detail": [f"{source_name} {kind_col}={k}" for k in kinds[keep]],
    }, geometry=p.geometry.values, crs=p.crs)
    return fac.normalize_facilities(out)


def _clip_to(gdf: gpd.GeoDataFrame, polygon: shapely.Geometry) -> gpd.GeoDataFrame:
    if gdf is None or not len(gdf):
        return gdf
    g = as_wgs84(gdf)
    out = g[g.intersects(polygon)].reset_index(drop=True)
    out.attrs = dict(gdf.attrs)
    return out


def repair_summary(repair: dict, lang: str = "zh") -> list[str]:
    """Human lines describing a network repair report (before/after connectivity)."""
    b, a = repair.get("before", {}), repair.get("after", {})
    lines = []
    if b:
        lines.append(t("repair_before", lang, n=b.get("n_components", "?"), s=b.get("largest_share_length", 0.0)))
    if a:
        lines.append(t("repair_after", lang, n=a.get("n_components", "?"), s=a.get("largest_share_length", 0.0),
                       km=a.get("km_total", 0.0)))
    bits = [f"{t('repair_' + key, lang)} {repair[key]}" for key in ("excluded_ways", "ends_snapped", "crossings_noded")
            if key in repair]
    if "excluded_km" in repair and repair.get("excluded_ways"):
        bits[0] += f" ({repair['excluded_km']:.1f} km)"
    if bits:
        lines.append(t("list_separator", lang).join(bits))
    return lines


# --------------------------------------------------------------------------- inputs
_VEC = (".geojson", ".gpkg", ".shp", ".json", ".fgb", ".parquet")


def _first(folder: Path, stems: tuple[str, ...], suffixes=_VEC) -> Path | None:
    for stem in stems:
        for suf in suffixes:
            p = folder / f"{stem}{suf}"
            if p.exists():
                return p
    return None


def find_inputs(folder: str | Path) -> dict:
    """Inputs of a generic offline folder.

    Layout (all optional except the network): an OSM file (``*.osm``,
    ``*.osm.pbf``, ``*.pbf``) or a line layer ``roads.*``; ``buildings.*``;
    ``boundaries.*``; ``parks.*``; ``water.*``; facility tables
    ``facilities*.csv|xlsx|geojson|gpkg``; a Geofabrik folder (any sub-folder
    holding ``gis_osm_pois_free_1.shp``, or the folder itself).
    """
    root = require_file(folder)
    if not root.is_dir():
        raise InputError("--from 需要是一个文件夹。", "--from must be a folder.", root)
    osm = sorted([p for p in root.iterdir() if p.name.lower().endswith((".osm", ".osm.pbf", ".pbf", ".osm.xml"))])
    roads = _first(root, ("roads", "streets", "network", "lines"))
    network = osm[0] if osm else roads
    if network is None:
        raise InputError("文件夹中没有路网（需要 OSM/PBF 文件或 roads.geojson 等线图层）。",
                         "no network in the folder (need an OSM/PBF file or a roads.geojson line layer).", root)
    geofabrik = [p for p in [root, *sorted(q for q in root.iterdir() if q.is_dir())]
                 if (p / "gis_osm_pois_free_1.shp").exists() or (p / "gis_osm_pois_a_free_1.shp").exists()]
    tables = sorted(p for p in root.iterdir()
                    if p.name.lower().startswith("facilities") and p.suffix.lower() in (".csv", ".xlsx", ".geojson", ".gpkg"))
    return {
        "network": network,
        "buildings": _first(root, ("buildings",)),
        "boundaries": _first(root, ("boundaries", "subdistricts")),
        "parks": [p for p in [_first(root, ("parks", "green"))] if p],
        "water": _first(root, ("water",)),
        "geofabrik": geofabrik[0] if geofabrik else None,
        "tables": tables,
        "osm_facilities": osm[0] if osm else None,
    }


def _spec_inputs(spec: AreaSpec, root: Path) -> dict:
    def path(rel):
        return require_file(root / rel) if rel else None

    return {
        "network": path(spec.roads), "buildings": path(spec.buildings),
        "boundaries": path(spec.boundaries), "parks": [path(p) for p in spec.parks],
        "water": path(spec.water), "geofabrik": path(spec.geofabrik),
        "tables": [path(t) for t in spec.tables], "osm_facilities": None,
        "green": (root / spec.geofabrik / fac.GEOFABRIK_GREEN) if spec.geofabrik else None,
    }


# --------------------------------------------------------------------------- writing
#: What ``prepare`` writes into an area folder; anything else there is the planner's and survives a re-prepare.
AREA_FILES = ("area.json", "network", "facilities.gpkg", "boundaries.gpkg", "buildings.gpkg", "context.gpkg")


def _legacy_area(out_root: Path) -> dict[str, str]:
    """An area folder written before the manifest (geo.outdir): its layout."""
    return {n: "prepare" for n in AREA_FILES} if (out_root / "area.json").is_file() else {}


def check_area_out(out_root: Path, inputs: list | None = None) -> None:
    """Before the work: the area folder can be written, is none of the inputs, holds no foreign ``network`` ...

    Other files there are the planner's: kept (hard links), never refused.
    """
    check_not_input(out_root, inputs or [], replaces=AREA_FILES)
    check_outdir(out_root, "prepare", AREA_FILES, force=True, legacy=_legacy_area(out_root))


def write_area(out_root: Path, *, area: str, meta: dict, net: WalkNetwork, facilities: gpd.GeoDataFrame,
                boundaries: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None,
                context: dict[str, gpd.GeoDataFrame]) -> Path:
    """Write a prepared study area (``network/``, the GeoPackages, ``area.json``) to ``out_root``, atomically.

    Parameters
    ----------
    out_root : Path
        ``<data>/areas/<area>``; files ``prepare`` did not write are kept.
    area : str
        The area id.
    meta : dict
        ``area.json`` fields (name, place, source, notes); counts, CRS, repair and date are added.
    net, facilities, boundaries, buildings, context
        The layers (``context``: map background layers by name, e.g. ``water``, ``parks``).

    Returns
    -------
    Path
        ``out_root``.
    """
    layers = {}
    legacy = _legacy_area(out_root)
    with owned_dir(out_root, "prepare", AREA_FILES, force=True, legacy=legacy) as tmp:
        kept = kept_files(out_root, "prepare", legacy)  # linked into the new folder when it replaces the old
        net.save(tmp / "network")
        facilities.to_file(tmp / "facilities.gpkg", layer="facilities", engine="pyogrio")
        layers["facilities"] = {"features": int(len(facilities)),
                                "by_category": {k: int(v) for k, v in facilities["category"].value_counts().items()},
                                "by_source": {k: int(v) for k, v in facilities["source"].value_counts().items()}}
        boundaries.to_file(tmp / "boundaries.gpkg", layer="boundaries", engine="pyogrio")
        layers["boundaries"] = {"features": int(len(boundaries)), "subdistricts": boundaries["subdistrict"].tolist()}
        if buildings is not None and len(buildings):
            buildings.to_file(tmp / "buildings.gpkg", layer="buildings", engine="pyogrio")
            layers["buildings"] = {"features": int(len(buildings))}
        for name, g in context.items():
            if g is not None and len(g):
                g.to_file(tmp / "context.gpkg", layer=name, engine="pyogrio")
                layers.setdefault("context", {})[name] = int(len(g))
        layers["network"] = {"nodes": net.n_nodes, "edges": int(len(net.edges)),
                             "km": float(net.edges["length_m"].sum() / 1000.0)}
        meta = {**meta, "area": area, "crs": str(net.crs.to_string() if hasattr(net.crs, "to_string") else net.crs),
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "repair": net.repair, "layers": layers, "attribution": ATTRIBUTION, "kept_files": kept}
        (tmp / "area.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=json_default),
                                       encoding="utf-8")
    return out_root


def context_layer(paths, clip, kind_default: str) -> gpd.GeoDataFrame | None:
    """A map background layer (``osm_id``, ``kind``, ``name``; WGS-84) from the files in ``paths`` that exist.

    Parameters
    ----------
    paths : iterable of path or None
        Vector files (Geofabrik water or green layers ...); missing ones are skipped.
    clip : geometry or None
        Read only the features intersecting it (WGS-84).
    kind_default : str
        ``kind`` when a file has neither ``kind`` nor ``fclass``.

    Returns
    -------
    GeoDataFrame or None
        None when no file exists.
    """
    parts = []
    for p in paths:
        if p is None or not Path(p).exists():
            continue
        g = gpd.read_file(p, engine="pyogrio", mask=clip) if clip is not None else read_vector(p)
        g = as_wgs84(g)
        kind = g["kind"] if "kind" in g else g["fclass"] if "fclass" in g else kind_default
        osm_id = g["osm_way_id"] if "osm_way_id" in g else g["osm_id"] if "osm_id" in g else ""
        parts.append(gpd.GeoDataFrame({"osm_id": pd.Series(osm_id, index=g.index).astype(str).to_numpy(),
                                       "kind": pd.Series(kind, index=g.index).astype(str).to_numpy(),
                                       "name": (g["name"].fillna("").astype(str).to_numpy() if "name" in g else "")},
                                      geometry=g.geometry.values, crs=WGS84))
    if not parts:
        return None
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84).drop_duplicates(["osm_id", "kind"]).reset_index(drop=True)


def prepare_offline(area: str, from_dir: str | Path, data_dir: str | Path = Path("data"),
                    progress: Progress | None = None) -> Path:
    """Build ``<data_dir>/areas/<area>/`` from a local mirror, atomically.

    Parameters
    ----------
    area : str
        Area id. A key of :data:`AREAS` (e.g. ``xinjiangwan``) uses its known
        files inside ``from_dir`` (e.g. ``../shared/data``); any other id reads
        ``from_dir`` with the generic layout of :func:`find_inputs`.
    from_dir : path
        The mirror folder.
    data_dir : path
        Root of prepared data.
    progress : callable, optional
        ``(frac, message)`` callback.

    Returns
    -------
    Path
        The prepared area folder.
    """
    progress = progress or null_progress
    root = require_file(from_dir)
    check_area_out(Path(data_dir) / "areas" / area, [root])
    spec = AREAS.get(area)
    if spec is not None and (root / spec.roads).exists():
        inp, name, place, notes = _spec_inputs(spec, root), spec.name, spec.place, list(spec.notes)
    else:
        inp, name, place, notes = find_inputs(root), area, "", []
        inp["green"] = (inp["geofabrik"] / fac.GEOFABRIK_GREEN) if inp["geofabrik"] else None

    progress(0.05, f"network: {inp['network'].name}")
    net = load_network_file(inp["network"])
    if not len(net.edges):
        raise InputError("路网为空（没有可步行的道路）。", "the network is empty (no walkable ways).", inp["network"])
    extent = network_extent(net)
    near = network_extent(net, FACILITY_BUFFER_M)

    progress(0.45, "boundaries")
    if inp["boundaries"] is not None:
        bnd = read_boundaries(inp["boundaries"])
        bnd = bnd[bnd.intersects(extent)].reset_index(drop=True)
        if not len(bnd):
            raise InputError("边界与路网范围不相交。", "no boundary intersects the network extent.", inp["boundaries"])
    else:
        bnd = gpd.GeoDataFrame({"subdistrict": [name], "district": [""]}, geometry=[extent], crs=WGS84)
        notes.append("No boundary file: the study area is the network's convex hull.")

    progress(0.55, "buildings")
    bld = None
    if inp["buildings"] is not None:
        bld = with_building_ids(read_vector(inp["buildings"]), "building")

    progress(0.65, "facilities")
    parts, sources = [], {}
    if inp["geofabrik"] is not None:
        g = fac.from_geofabrik(inp["geofabrik"], mask=near)
        parts.append(g)
        sources["geofabrik"] = {"path": str(inp["geofabrik"]), "features": int(len(g))}
    if inp.get("osm_facilities") is not None:
        g = _clip_to(fac.from_osm_file(inp["osm_facilities"], mask=near), near)
        parts.append(g)
        sources["osm_file"] = {"path": str(inp["osm_facilities"]), "features": int(len(g))}
    for p in inp["parks"]:
        g = _clip_to(_parks_as_facilities(read_vector(p), p.name), near)
        parts.append(g)
        sources[p.name] = {"path": str(p), "features": int(len(g))}
    for table in inp["tables"]:
        g = fac.read_facilities(table)
        inside = _clip_to(g, near)
        parts.append(inside)
        sources[table.name] = {"path": str(table), "features": int(len(g)), "within_1_5km_of_network": int(len(inside)),
                           "warnings": [w.to_dict() for w in g.attrs.get("warnings", [])]}
    merged = fac.combine(*parts)
    facilities = fac.dedupe(merged)
    sources["deduplicated"] = {"before": int(len(merged)), "after": int(len(facilities))}

    progress(0.8, "context layers")
    clip = shapely.box(*near.bounds)
    context = {"water": context_layer([inp["water"]], None, "water"),
               "parks": context_layer([*inp["parks"], inp.get("green")], clip, "park")}
    context = {k: (_clip_to(v, near) if v is not None else None) for k, v in context.items()}

    progress(0.9, "writing")
    inputs = {k: (str(v) if isinstance(v, Path) else [str(x) for x in v] if isinstance(v, list) else v)
              for k, v in inp.items()}
    meta = {"name": name, "place": place,
            "source": {"mode": "offline", "from": str(root), "inputs": inputs, "facilities": sources},
            "notes": notes}
    out = write_area(Path(data_dir) / "areas" / area, area=area, meta=meta, net=net, facilities=facilities,
                      boundaries=bnd, buildings=bld, context=context)
    progress(1.0, f"written {out}")
    return out



def prepare_online(area: str, place: str, data_dir: str | Path = Path("data"),
                   progress: Progress | None = None) -> Path:
    """Build ``<data_dir>/areas/<area>/`` from OpenStreetMap with osmnx (Nominatim + Overpass).

    Responses are cached under ``<data_dir>/cache/osmnx``. The network and the
    facilities cover the place's boundary buffered by 1.5 km, so facilities just
    outside still serve it.
    """
    progress = progress or null_progress
    check_area_out(Path(data_dir) / "areas" / area)
    try:
        return _prepare_online(area, place, Path(data_dir), progress)
    except LifecircleError:
        raise
    except Exception as exc:  # requests/urllib3 connection errors, DNS, timeouts: say "no internet"
        offline = no_internet(exc)
        if offline is not None:
            raise offline from None
        raise


def _prepare_online(area: str, place: str, data_dir: Path, progress: Progress) -> Path:
    import osmnx as ox

    cache = Path(data_dir) / "cache" / "osmnx"
    cache.mkdir(parents=True, exist_ok=True)
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache)

    progress(0.05, f"boundary: {place}")
    bnd = boundaries_from_place(place)
    area_poly = shapely.union_all(bnd.geometry.values)
    near = gpd.GeoSeries([area_poly], crs=WGS84).to_crs(bnd.estimate_utm_crs()).buffer(FACILITY_BUFFER_M) \
        .to_crs(WGS84).iloc[0]

    def fetch(tags: dict, polygon) -> gpd.GeoDataFrame:
        try:
            return ox.features_from_polygon(polygon, tags)
        except Exception as exc:  # InsufficientResponseError when nothing matches
            if type(exc).__name__ == "InsufficientResponseError":
                return gpd.GeoDataFrame(geometry=[], crs=WGS84)
            raise

    progress(0.15, "walking network (Overpass)")
    net = network_from_place(place, polygon=near, cache_dir=cache)
    progress(0.5, "facilities (Overpass)")
    facilities = fac.dedupe(fac.from_osm_features(fetch(osmnx_tags(), near), source_detail="overpass"))
    progress(0.65, "buildings (Overpass)")
    raw_b = fetch({"building": True}, area_poly)
    bld = None
    if len(raw_b):
        raw_b = raw_b[raw_b.geom_type.isin(["Polygon", "MultiPolygon"])]
        ids = [f"osm:{t}/{i}" for t, i in raw_b.index] if isinstance(raw_b.index, pd.MultiIndex) else None
        keep = [c for c in ("building", "name", "building:levels") if c in raw_b.columns]
        bld = gpd.GeoDataFrame(raw_b[keep].reset_index(drop=True), geometry=raw_b.geometry.values, crs=raw_b.crs)
        if ids is not None:
            bld.insert(0, "building_id", ids)
        bld = with_building_ids(bld, "building")
    progress(0.8, "context (Overpass)")
    ctx = {}
    for layer, tags in (("water", {"natural": ["water"], "waterway": True}),
                        ("parks", {"leisure": ["park", "garden"], "landuse": ["grass", "forest", "recreation_ground"]})):
        g = fetch(tags, near)
        if len(g):
            kind = next((g[c] for c in tags if c in g.columns), pd.Series("", index=g.index))
            ctx[layer] = gpd.GeoDataFrame(
                {"osm_id": [f"{t}/{i}" for t, i in g.index] if isinstance(g.index, pd.MultiIndex) else g.index.astype(str),
                 "kind": kind.fillna("").astype(str).to_numpy(),
                 "name": g["name"].fillna("").astype(str).to_numpy() if "name" in g else ""},
                geometry=g.geometry.values, crs=g.crs or WGS84)
    meta = {"name": str(bnd["subdistrict"].iloc[0]), "place": place,
            "source": {"mode": "online", "osmnx": ox.__version__, "cache": str(cache)},
            "notes": ["Fetched from OpenStreetMap via Nominatim and Overpass (osmnx)."]}
    progress(0.9, "writing")
    out = write_area(Path(data_dir) / "areas" / area, area=area, meta=meta, net=net, facilities=facilities,
                      boundaries=bnd, buildings=bld, context=ctx)
    progress(1.0, f"written {out}")
    return out


# --------------------------------------------------------------------------- loading
def _read_gpkg(path: Path, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=layer, engine="pyogrio", use_arrow=True)


def load_area(path: str | Path, *, context: bool = True) -> StudyArea:
    """Read a prepared area folder (``data/areas/<area>``).

    Raises
    ------
    InputError
        The folder is not a prepared area (no ``area.json``) or a layer is missing.
    """
    root = Path(path)
    if not (root / "area.json").is_file():
        raise InputError("不是已准备的研究区（缺少 area.json）。请先运行 lifecircle prepare。",
                         "not a prepared study area (no area.json); run `lifecircle prepare` first.", root)
    try:
        meta = json.loads((root / "area.json").read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"area.json 无法解析（{exc}）。", f"cannot parse area.json ({exc}).", root) from None
    for f in ("facilities.gpkg", "boundaries.gpkg"):
        if not (root / f).is_file():
            raise InputError(f"研究区不完整（缺少 {f}）。请重新运行 lifecircle prepare。",
                             f"incomplete study area (missing {f}); re-run `lifecircle prepare`.", root)
    net = WalkNetwork.load(root / "network")
    facilities = fac.normalize_facilities(_read_gpkg(root / "facilities.gpkg", "facilities"))
    boundaries = _read_gpkg(root / "boundaries.gpkg", "boundaries")
    buildings = _read_gpkg(root / "buildings.gpkg", "buildings") if (root / "buildings.gpkg").is_file() else None
    ctx = {}
    if context and (root / "context.gpkg").is_file():
        import pyogrio

        for name, _ in pyogrio.list_layers(root / "context.gpkg"):
            ctx[name] = _read_gpkg(root / "context.gpkg", name)
    return StudyArea(root=root, meta=meta, network=net, facilities=facilities, boundaries=boundaries,
                     buildings=buildings, context=ctx)


# --------------------------------------------------------------------------- CLI
def _default_mirror() -> Path:
    return shared_dir() / "data"


def quiet_libraries(func):
    """Run a CLI handler with library warnings (pyogrio, geopandas) silenced: errors stay one line."""
    import functools
    import warnings

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return func(*args, **kwargs)

    return wrapper


@quiet_libraries
def cli_prepare(args) -> int:
    """``lifecircle prepare``: build a study area and print its repair report."""
    lang = getattr(args, "lang", "zh")
    progress = stderr_progress()
    mirror = Path(args.from_dir) if args.from_dir else _default_mirror()
    extra = [f for f in ("network", "buildings", "district") if getattr(args, f, None)]
    if extra and not getattr(args, "subdistrict", None):
        raise InputError(f"--{extra[0]} 只能与 --subdistrict 一起使用。", f"--{extra[0]} goes with --subdistrict.")
    if getattr(args, "subdistrict", None):
        from .offline import missing_message, prepare_subdistrict, survey_subdistrict

        survey = survey_subdistrict(args.subdistrict, mirror, args.district)
        print(t("cli_survey_head", lang, s=survey.subdistrict, d=survey.district))
        for line in survey.lines(lang):
            print("  " + line)
        if not args.network and survey.network is None:
            raise InputError(*missing_message(survey))
        out = prepare_subdistrict(survey.subdistrict, mirror, args.network, buildings=args.buildings,
                                  area=args.area, data_dir=Path(args.data_dir), progress=progress, survey=survey)
    elif args.place and not args.from_dir:
        out = prepare_online(args.area or "online_area", args.place, Path(args.data_dir), progress)
    else:
        out = prepare_offline(args.area or "xinjiangwan", mirror, Path(args.data_dir), progress)
    meta = json.loads((out / "area.json").read_text(encoding="utf-8"))
    print(t("cli_area_written", lang, a=meta["area"], n=meta.get("name", ""), o=out))
    for line in repair_summary(meta.get("repair", {}), lang):
        print("  " + line)
    layers = meta.get("layers", {})
    net = layers.get("network", {})
    print("  " + t("cli_area_network", lang, **net))
    f = layers.get("facilities", {})
    cats = ", ".join(f"{k} {v}" for k, v in f.get("by_category", {}).items())
    print("  " + t("cli_area_facilities", lang, n=f.get("features", 0), c=cats))
    print("  " + t("cli_area_boundaries", lang, s=", ".join(layers.get("boundaries", {}).get("subdistricts", []))))
    if "buildings" in layers:
        print("  " + t("cli_area_buildings", lang, n=layers["buildings"]["features"]))
    for k, v in layers.get("context", {}).items():
        print(f"  context/{k}: {v}")
    print(f"  {ATTRIBUTION}")
    return 0
