"""Demand that counts people: weights for residential buildings (footprints or points).

A 30-storey block and a bicycle shed are one "building" each; planners care
about residents. :func:`demand_weights` picks, in this order:

1. ``population`` — a population column (``人口``, ``常住人口``, ``population`` ...);
2. ``households`` — a household column (``户数``, ``households`` ...) times a
   stated persons-per-household (default :data:`PERSONS_PER_HOUSEHOLD`);
3. ``floor_area`` — footprint area × ``building:levels`` when a levels column
   has values (buildings without a value count as one storey; points have no
   footprint and weigh 0); the unit is m² of floor area, or residents when a
   floor area per person is given;
4. ``count`` — every building weighs 1.

Every result carries :attr:`DemandWeights.description`, the sentence outputs
print to say which weighting was used. :func:`covered_weights` gives the
residents covered per subdistrict and category from coverage's building table;
:func:`with_weighted_columns` adds them to coverage's per-subdistrict table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .categories import CATEGORIES
from .errors import InputError
from .i18n import t
from .network import metric_crs

__all__ = ["PERSONS_PER_HOUSEHOLD", "DemandWeights", "covered_weights", "demand_weights", "with_weighted_columns"]

#: Persons per household in Shanghai: 2.32 (上海市第七次全国人口普查主要数据公报, 2020: 平均每个家庭户的人口为2.32人).
PERSONS_PER_HOUSEHOLD = 2.32

_POPULATION_COLS = ("人口", "常住人口", "居住人口", "人口数", "population", "pop", "residents", "inhabitants")
_HOUSEHOLD_COLS = ("户数", "住户数", "总户数", "households", "household", "hh", "dwellings", "units")
_LEVEL_COLS = ("building:levels", "building_levels", "levels", "层数", "楼层数", "floors")


@dataclass(frozen=True)
class DemandWeights:
    """Weight of each demand building and how it was derived.

    Attributes
    ----------
    weights : ndarray of float
        One weight per input row (same order), never NaN (a missing value weighs 0).
    method : str
        ``population``, ``households``, ``floor_area`` or ``count``.
    unit : str
        ``residents``, ``floor_area_m2`` or ``buildings``; output columns are ``<unit>_*``.
    column : str or None
        The input column the weights come from.
    params : dict
        ``persons_per_household`` / ``m2_per_person`` when used, ``n_missing`` values.
    """

    weights: np.ndarray
    method: str
    unit: str
    column: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def weighted(self) -> bool:
        """True unless every building simply counts as one."""
        return self.method != "count"

    def description(self, lang: str = "zh") -> str:
        """One line saying which weighting was used (for every output), in ``lang``."""
        miss = self.params.get("n_missing", 0)
        tail = t("weighting_missing", lang, n=miss) if miss else ""
        if self.method == "population":
            return t("weighting_population", lang, column=self.column, tail=tail)
        if self.method == "households":
            return t("weighting_households", lang, column=self.column, pph=self.params["persons_per_household"],
                     tail=tail)
        if self.method == "floor_area":
            m2 = self.params.get("m2_per_person")
            levels_miss = self.params.get("n_without_levels", 0)
            return t("weighting_floor_area", lang, column=self.column,
                     per=t("weighting_per_person", lang, m2=m2) if m2 else "",
                     tail=t("weighting_no_levels", lang, n=levels_miss) if levels_miss else "")
        return t("weighting_count", lang)


def _find(columns, names) -> str | None:
    low = {str(c).strip().lower(): c for c in columns}
    return next((low[n.lower()] for n in names if n.lower() in low), None)


def _numbers(s: pd.Series, what: str, col: str) -> tuple[np.ndarray, int]:
    v = pd.to_numeric(s, errors="coerce").to_numpy(float)
    if np.any(v[np.isfinite(v)] < 0):
        raise InputError(f"需求图层的{what}列“{col}”含负数，请更正。",
                         f"the demand layer's {what} column '{col}' holds negative values; fix them.")
    miss = ~np.isfinite(v)
    return np.where(miss, 0.0, v), int(miss.sum())


def demand_weights(demand: gpd.GeoDataFrame, *, persons_per_household: float = PERSONS_PER_HOUSEHOLD,
                   m2_per_person: float | None = None, method: str | None = None) -> DemandWeights:
    """Weights of residential demand (building footprints or points such as 小区).

    Parameters
    ----------
    demand : GeoDataFrame
        Footprints and/or points, any CRS.
    persons_per_household : float
        Residents per household when weights come from a household column.
    m2_per_person : float, optional
        Floor area per resident; turns floor-area weights into residents.
    method : str, optional
        Force ``population``, ``households``, ``floor_area`` or ``count``
        (default: the first that the data supports, in that order).

    Raises
    ------
    InputError
        A forced method whose column is missing, or negative values.
    """
    for name, val in (("persons_per_household", persons_per_household), ("m2_per_person", m2_per_person)):
        if val is not None and not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
            raise InputError(f"{name} 必须是正数，得到 {val!r}。", f"{name} must be a positive number, got {val!r}.")
    cols = [c for c in demand.columns if c != demand.geometry.name]
    found = {"population": _find(cols, _POPULATION_COLS), "households": _find(cols, _HOUSEHOLD_COLS),
             "floor_area": _find(cols, _LEVEL_COLS)}
    if method is not None and method not in (*found, "count"):
        raise InputError(f"未知的需求加权方式：{method}（可用 population、households、floor_area、count）。",
                         f"unknown demand weighting: {method} (use population, households, floor_area, count).")
    if method in found and found[method] is None:
        raise InputError(f"需求图层没有{method}所需的列。", f"the demand layer has no column for '{method}' weighting.")
    if method is None:
        method = next((m for m in ("population", "households") if found[m]), None)
        if method is None and found["floor_area"] is not None:
            lv = pd.to_numeric(demand[found["floor_area"]], errors="coerce")
            method = "floor_area" if lv.notna().any() else None
        method = method or "count"
    n = len(demand)
    if method == "count":
        return DemandWeights(np.ones(n), "count", "buildings")
    col = found[method]
    # a method other than count is only chosen (or accepted when forced) when its column exists
    assert col is not None, method
    if method == "population":
        w, miss = _numbers(demand[col], "人口", col)
        return DemandWeights(w, method, "residents", col, {"n_missing": miss})
    if method == "households":
        w, miss = _numbers(demand[col], "户数", col)
        return DemandWeights(w * float(persons_per_household), method, "residents", col,
                             {"n_missing": miss, "persons_per_household": float(persons_per_household)})
    levels, no_levels = _numbers(demand[col], "层数", col)
    levels = np.where(levels > 0, levels, 1.0)
    if demand.crs is None:
        raise InputError("需求图层没有坐标参考系（CRS），无法计算占地面积。",
                         "the demand layer has no CRS, so footprint areas cannot be computed.")
    area = demand.to_crs(metric_crs(demand)).geometry.area.to_numpy(float)  # 0 for points
    w = area * levels
    params: dict[str, float] = {"n_without_levels": no_levels}
    if m2_per_person:
        params["m2_per_person"] = float(m2_per_person)
        return DemandWeights(w / float(m2_per_person), method, "residents", col, params)
    return DemandWeights(w, method, "floor_area_m2", col, params)


def covered_weights(buildings: pd.DataFrame, weights: DemandWeights,
                    thresholds: dict[str, float] | None = None) -> pd.DataFrame:
    """Demand weight covered per subdistrict and category (the residents-covered columns).

    Parameters
    ----------
    buildings : DataFrame
        ``CoverageResult.buildings`` (same rows as the weights): ``subdistrict``
        and ``dist_m_<cat>`` columns.
    weights : DemandWeights
    thresholds : dict, optional
        Metres per category (default: the taxonomy's).

    Returns
    -------
    DataFrame
        ``subdistrict, category, threshold_m, <unit>, <unit>_covered,
        share_<unit>_covered, weighting``; buildings outside every subdistrict
        are left out, like coverage's own table.
    """
    if len(buildings) != len(weights.weights):
        raise ValueError("weights and buildings differ in length")
    u = weights.unit
    cats = [c for c in CATEGORIES if f"dist_m_{c}" in buildings.columns]
    sub = buildings["subdistrict"].astype(object) if "subdistrict" in buildings.columns else pd.Series(
        np.full(len(buildings), "", object), index=buildings.index)
    rows = []
    w = weights.weights
    desc = weights.description()
    for c in cats:
        T = float((thresholds or {}).get(c, CATEGORIES[c].threshold_m))
        cov = buildings[f"dist_m_{c}"].to_numpy(float) <= T
        for s in dict.fromkeys(sub.dropna()):
            m = (sub == s).to_numpy()
            tot, got = float(w[m].sum()), float(w[m & cov].sum())
            rows.append({"subdistrict": s, "category": c, "threshold_m": T, u: tot, f"{u}_covered": got,
                         f"share_{u}_covered": got / tot if tot > 0 else np.nan, "weighting": desc})
    return pd.DataFrame(rows, columns=["subdistrict", "category", "threshold_m", u, f"{u}_covered",
                                       f"share_{u}_covered", "weighting"])


def with_weighted_columns(subdistricts: pd.DataFrame, buildings: pd.DataFrame | None, weights: DemandWeights | None,
                          thresholds: dict[str, float] | None = None, lang: str = "zh") -> pd.DataFrame:
    """Coverage's per-subdistrict table with ``<unit>, <unit>_covered, share_<unit>_covered`` and ``weighting``
    after ``share_buildings_covered`` — unchanged when the weights are plain counts (or there are no buildings).

    Parameters
    ----------
    subdistricts : DataFrame
        ``CoverageResult.subdistricts`` (``subdistrict``, ``category`` ...).
    buildings : DataFrame or None
        ``CoverageResult.buildings``, the rows ``weights`` belong to.
    weights : DemandWeights or None
    thresholds : dict, optional
        Metres per category, those the table was thresholded at.
    lang : str
        Language of the ``weighting`` sentence.
    """
    if weights is None or not weights.weighted or buildings is None or not len(subdistricts):
        return subdistricts
    u = weights.unit
    new = [u, f"{u}_covered", f"share_{u}_covered", "weighting"]
    cov = covered_weights(buildings, weights, thresholds).drop(columns="threshold_m")
    out = subdistricts.drop(columns=[c for c in new if c in subdistricts.columns]).merge(
        cov, on=["subdistrict", "category"], how="left", validate="one_to_one")
    out[[u, f"{u}_covered"]] = out[[u, f"{u}_covered"]].fillna(0.0)  # a subdistrict without demand buildings
    out["weighting"] = weights.description(lang)
    cols = [c for c in subdistricts.columns if c not in new]
    at = cols.index("share_buildings_covered") + 1 if "share_buildings_covered" in cols else len(cols)
    return out[cols[:at] + new + cols[at:]]
