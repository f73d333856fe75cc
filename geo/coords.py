"""Chinese map datums: WGS-84, GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

Conversion is delegated to ``prcoords`` (public domain), using its iterative
("bored") inverses so that round trips agree to centimetres.
"""

from __future__ import annotations

import numpy as np
import prcoords

__all__ = ["DATUMS", "normalize_datum", "to_wgs84", "from_wgs84", "in_china"]

DATUMS: dict[str, tuple[str, str]] = {
    "wgs84": ("WGS-84（GPS、OSM、天地图）", "WGS-84 (GPS, OSM, Tianditu)"),
    "gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
    "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
}
_ALIASES = {"wgs84": "wgs84", "wgs-84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84", "cgcs2000": "wgs84",
            "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "mars": "gcj02",
            "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "bd09ll": "bd09"}

_TO_WGS = {"gcj02": prcoords.gcj_wgs_bored, "bd09": prcoords.bd_wgs_bored}
_FROM_WGS = {"gcj02": prcoords.wgs_gcj, "bd09": prcoords.wgs_bd}


def normalize_datum(name: str) -> str:
    """Canonical datum key (``wgs84``, ``gcj02``, ``bd09``) for a user spelling."""
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        raise ValueError(f"unknown datum {name!r}; use one of {', '.join(DATUMS)}")
    return key


def _apply(func, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    out_lon = np.full(lon.shape, np.nan)
    out_lat = np.full(lat.shape, np.nan)
    ok = np.isfinite(lon) & np.isfinite(lat)
    for i in np.flatnonzero(ok.ravel()):
        c = func(prcoords.Coords(lat.flat[i], lon.flat[i]))
        out_lat.flat[i], out_lon.flat[i] = c.lat, c.lon
    return out_lon, out_lat


def to_wgs84(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert longitude/latitude arrays from ``datum`` to WGS-84 (NaN stays NaN)."""
    d = normalize_datum(datum)
    if d == "wgs84":
        return np.asarray(lon, float), np.asarray(lat, float)
    return _apply(_TO_WGS[d], lon, lat)


def from_wgs84(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 longitude/latitude arrays to ``datum``."""
    d = normalize_datum(datum)
    if d == "wgs84":
        return np.asarray(lon, float), np.asarray(lat, float)
    return _apply(_FROM_WGS[d], lon, lat)


def in_china(lon, lat) -> np.ndarray:
    """True where a point lies in the rough bounding box of China (73-135.1 E, 3.8-53.6 N)."""
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    return (lon >= 73.0) & (lon <= 135.1) & (lat >= 3.8) & (lat <= 53.6)
