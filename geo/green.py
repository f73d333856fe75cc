"""The 500 m green-space check ("500米见绿") by park-size class (GB/T 50563-2010).

Parks are classified by their metric area into :data:`geo.categories.PARK_CLASSES`
(default: ≥ 0.5 ha serves 500 m, 0.2-0.5 ha serves 300 m; smaller parks do not
qualify). For every building the network walking distance to the nearest park
of each class is computed with the coverage engine (boundary access, never the
centroid: see :mod:`geo.coverage`), and a building is *served* when it is within
the radius of any class whose size its park meets. The share of served
buildings per subdistrict is the headline "500米见绿覆盖率".

Buildings carry no use tag in the shared data, so every building counts as
residential; this is stated in the params and warnings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from .categories import PARK_CLASSES, ParkClass
from .coverage import (
    ALL_AREA,
    Distances,
    Snap,
    assign_subdistrict,
    distance_at,
    distance_field,
    facility_sources,
    representative_xy,
    snap_points,
    subdistrict_boundaries,
)
from .errors import InputError, Message, warn
from .io import METRIC_CRS, align_crs
from .network import WalkNetwork

__all__ = ["GreenDistances", "park_classes", "classify_parks", "green_distances", "green_table", "green_check", "TOO_SMALL"]

TOO_SMALL = "too_small"  # park_class of parks below every class


@dataclass
class GreenDistances:
    """Per-class building distances to parks (heavy part of the green check)."""

    parks: gpd.GeoDataFrame  # classified parks, metric CRS (park_class, area_m2, radius_m)
    classes: tuple[ParkClass, ...]
    dist: dict[str, np.ndarray]  # class key -> building distance (m), NaN if none reachable
    params: dict = field(default_factory=dict)
    warnings: list[Message] = field(default_factory=list)


def _sorted(classes) -> tuple[ParkClass, ...]:
    cl = tuple(classes)
    if not cl:
        raise InputError("未给出公园分级。", "no park classes given.")
    return tuple(sorted(cl, key=lambda c: (-c.min_area_m2, c.radius_m, c.key)))


def park_classes(area_m2: ArrayLike, classes: Iterable[ParkClass] = PARK_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """GB/T 50563 size class of each park area: the one park classifier (the map and the check use it).

    Returns
    -------
    keys : ndarray of object
        The largest class met (``large``, ``small``), else :data:`TOO_SMALL`.
    radius_m : ndarray of float
        That class's service radius; NaN below every class.
    """
    area = np.asarray(area_m2, float)
    keys = np.full(area.shape, TOO_SMALL, object)
    radius = np.full(area.shape, np.nan)
    for c in reversed(_sorted(classes)):  # small to large: the largest class met wins
        met = area >= c.min_area_m2
        keys[met] = c.key
        radius[met] = c.radius_m
    return keys, radius


def classify_parks(parks: gpd.GeoDataFrame, crs=None, *, classes=PARK_CLASSES) -> gpd.GeoDataFrame:
    """Polygon parks with ``area_m2``, ``park_class`` (largest class met, else ``'too_small'``) and ``radius_m``.

    Parameters
    ----------
    parks : GeoDataFrame
        Any CRS; non-polygon rows are dropped (they have no area).
    crs : optional
        Metric CRS for areas (default: ``parks.estimate_utm_crs()``).
    """
    cl = _sorted(classes)
    if crs is None:
        crs = parks.estimate_utm_crs() if len(parks) else METRIC_CRS
    p = align_crs(parks, crs, "公园") if len(parks) else parks.set_crs(crs, allow_override=True)
    poly = p.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy() & ~p.geometry.is_empty.to_numpy()
    p = p[poly].reset_index(drop=True)
    area = shapely.area(np.asarray(p.geometry.values, dtype=object)) if len(p) else np.zeros(0)
    pc, rad = park_classes(area, cl)
    p["area_m2"] = area
    p["park_class"] = pd.array(pc, dtype="string")
    p["radius_m"] = rad
    return p


def green_distances(net: WalkNetwork, parks: gpd.GeoDataFrame, building_snap: Snap, snap_too_far: np.ndarray | None = None,
                    *, classes=PARK_CLASSES, max_snap_m: float = 200.0, access_tol_m: float = 20.0) -> GreenDistances:
    """Network distance from every building to the nearest park of each class (one pass per class).

    A class's parks are all parks at least its ``min_area_m2`` (a 1 ha park
    also serves the 300 m rule of the 0.2 ha class).
    """
    cl = _sorted(classes)
    cp = classify_parks(parks, net.crs, classes=cl)
    warnings = []
    dropped = len(parks) - len(cp)
    if dropped:
        warnings.append(warn(f"500米见绿：{dropped} 个公园不是面要素（无面积），未参与分级。",
                             f"500 m green check: {dropped} parks are not polygons (no area) and were not classified."))
    src, rep = facility_sources(net, cp, access_tol_m=access_tol_m, max_snap_m=max_snap_m)
    cp["excluded"] = rep["excluded"].to_numpy()
    too_far = np.zeros(len(building_snap), bool) if snap_too_far is None else np.asarray(snap_too_far, bool)
    out = {}
    area = cp["area_m2"].to_numpy(float)
    for c in cl:
        eligible = area >= c.min_area_m2
        fld = distance_field(net, src.subset(eligible[src.facility]) if len(src) else src)
        d, _ = distance_at(net, fld, building_snap.edge, building_snap.t_m)
        d = d + building_snap.snap_m
        d[too_far] = np.nan
        out[c.key] = d
        if not eligible.any():
            warnings.append(warn(f"500米见绿：没有面积≥{c.min_area_m2 / 10000:g}公顷的公园。",
                                 f"500 m green check: no park of at least {c.min_area_m2 / 10000:g} ha."))
    warnings.append(warn("500米见绿：建筑没有用途标签，全部按居住建筑计算。",
                         "500 m green check: buildings carry no use tag; every building counts as residential."))
    params = {"classes": [{"key": c.key, "min_area_m2": c.min_area_m2, "radius_m": c.radius_m, "source": c.source}
                          for c in cl],
              "residential_buildings": "all buildings (no use tag)",
              "parks": int(len(cp)), "parks_by_class": {str(k): int(v) for k, v in cp["park_class"].value_counts().items()}}
    return GreenDistances(cp, cl, out, params, warnings)


def _radius_cols(classes: tuple[ParkClass, ...]) -> dict[str, str]:
    """Class key -> column suffix ('500m'; the class key when two classes share a radius)."""
    names = {c.key: f"{c.radius_m:g}m" for c in classes}
    dup = {s for s in names.values() if list(names.values()).count(s) > 1}
    return {k: (k if s in dup else s) for k, s in names.items()}


def green_table(gd: GreenDistances, building_subdistrict: np.ndarray, subdistricts: list[str]) -> pd.DataFrame:
    """Per-subdistrict counts and shares of buildings served by each park class and by any."""
    suffix = _radius_cols(gd.classes)
    order = sorted(gd.classes, key=lambda c: (c.radius_m, c.key))
    within = {c.key: gd.dist[c.key] <= c.radius_m for c in order}
    served = np.zeros(len(building_subdistrict), bool)
    for w in within.values():
        served |= w
    rows = []
    for s in subdistricts:
        m = building_subdistrict == s
        nb = int(m.sum())
        row: dict[str, Any] = {"subdistrict": s, "buildings": nb}
        for c in order:
            row[f"buildings_{suffix[c.key]}"] = int(within[c.key][m].sum())
        row["buildings_served"] = int(served[m].sum())
        for c in order:
            row[f"share_{suffix[c.key]}"] = row[f"buildings_{suffix[c.key]}"] / nb if nb else np.nan
        row["share_served"] = row["buildings_served"] / nb if nb else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def green_check(source: WalkNetwork | Distances, parks: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None = None,
                boundaries: gpd.GeoDataFrame | None = None, *, classes=PARK_CLASSES, max_snap_m: float = 200.0,
                access_tol_m: float = 20.0) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The 500 m green check per subdistrict.

    Parameters
    ----------
    source : WalkNetwork or Distances
        A network, or the result of :func:`geo.coverage.compute_distances`
        (its building snaps are reused when ``buildings`` is None).
    parks : GeoDataFrame
        Park polygons, any CRS.
    buildings : GeoDataFrame, optional
        Required with a bare network. Represented by their representative point.
    boundaries : GeoDataFrame, optional
        ``subdistrict`` column; without it one row for the whole area.

    Returns
    -------
    table : DataFrame
        ``subdistrict, buildings, buildings_300m, buildings_500m, buildings_served,
        share_300m, share_500m, share_served`` (column names follow the class
        radii); ``table.attrs`` holds ``params`` and ``warnings``.
    parks : GeoDataFrame
        The classified parks (``area_m2``, ``park_class``, ``radius_m``, ``excluded``), metric CRS.
    """
    if isinstance(source, Distances):
        net = source.net
        max_snap_m = source.params.get("max_snap_m", max_snap_m)
        access_tol_m = source.params.get("access_tol_m", access_tol_m)
    else:
        net = source
    if (buildings is None and isinstance(source, Distances) and source.building_snap is not None
            and source.building_xy is not None):
        snap, too_far, bxy = source.building_snap, source.snap_too_far, source.building_xy
    else:
        if buildings is None:
            raise InputError("500米见绿检查需要建筑图层。", "the 500 m green check needs a buildings layer.")
        b = align_crs(buildings, net.crs, "建筑")
        b = b[~(b.geometry.isna() | b.geometry.is_empty)]
        bxy = representative_xy(b)
        snap = snap_points(net, bxy)
        too_far = ~(snap.snap_m <= max_snap_m)
    gd = green_distances(net, parks, snap, too_far, classes=classes, max_snap_m=max_snap_m, access_tol_m=access_tol_m)
    bnd = subdistrict_boundaries(boundaries, net.crs)
    subs = list(bnd["subdistrict"]) if bnd is not None else [ALL_AREA]
    table = green_table(gd, assign_subdistrict(bxy, bnd), subs)
    table.attrs["params"] = gd.params
    table.attrs["warnings"] = gd.warnings
    return table, gd.parks
