"""geo.coords against published WGS-84 / GCJ-02 / BD-09 reference points, and round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.coords import from_wgs84, in_china, normalize_datum, to_wgs84

# (wgs lat, wgs lon, gcj lat, gcj lon): the reference vectors of the eviltransform
# project (googollee/eviltransform, transform_test.go), cross-checked in many ports.
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


def _bd_encrypt(gcj_lon: float, gcj_lat: float) -> tuple[float, float]:
    """Baidu's published GCJ-02 -> BD-09 formula (bd_encrypt), written out independently."""
    x_pi = math.pi * 3000.0 / 180.0
    z = math.hypot(gcj_lon, gcj_lat) + 0.00002 * math.sin(gcj_lat * x_pi)
    theta = math.atan2(gcj_lat, gcj_lon) + 0.000003 * math.cos(gcj_lon * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM)
def test_wgs_to_gcj_matches_reference(wlat, wlon, glat, glon):
    lon, lat = from_wgs84([wlon], [wlat], "gcj02")
    assert lon[0] == pytest.approx(glon, abs=1e-7)
    assert lat[0] == pytest.approx(glat, abs=1e-7)


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM)
def test_gcj_to_wgs_inverts_reference_to_centimetres(wlat, wlon, glat, glon):
    lon, lat = to_wgs84([glon], [glat], "GCJ-02")
    # 1e-7 degree is about 1 cm
    assert lon[0] == pytest.approx(wlon, abs=1e-7)
    assert lat[0] == pytest.approx(wlat, abs=1e-7)


def test_bd09_matches_published_formula_and_reference():
    wlat, wlon, glat, glon = EVILTRANSFORM[0]
    blon, blat = from_wgs84([wlon], [wlat], "baidu")
    exp_lon, exp_lat = _bd_encrypt(glon, glat)
    assert blon[0] == pytest.approx(exp_lon, abs=1e-7)
    assert blat[0] == pytest.approx(exp_lat, abs=1e-7)
    # published GCJ -> BD value for the Shanghai vector
    assert blat[0] == pytest.approx(31.181328606874466, abs=1e-6)
    assert blon[0] == pytest.approx(121.53801568643858, abs=1e-6)
    back_lon, back_lat = to_wgs84(blon, blat, "bd09")
    assert back_lon[0] == pytest.approx(wlon, abs=1e-7)
    assert back_lat[0] == pytest.approx(wlat, abs=1e-7)


def test_offset_is_hundreds_of_metres_in_shanghai():
    lon, lat = from_wgs84([121.5], [31.3], "gcj02")
    dx = (lon[0] - 121.5) * 111_320 * math.cos(math.radians(31.3))
    dy = (lat[0] - 31.3) * 110_574
    assert 300 < math.hypot(dx, dy) < 800


def test_round_trips_on_a_grid_and_nan_passthrough():
    rng = np.random.default_rng(0)
    lon = rng.uniform(120.9, 122.0, 200)
    lat = rng.uniform(30.7, 31.9, 200)
    # prcoords' iterative inverses: GCJ-02 to ~1 cm, BD-09 (two steps) to a few cm
    for datum, tol in (("gcj02", 1e-7), ("bd09", 5e-7)):
        x, y = from_wgs84(lon, lat, datum)
        bx, by = to_wgs84(x, y, datum)
        assert np.max(np.abs(bx - lon)) < tol and np.max(np.abs(by - lat)) < tol
    x, y = to_wgs84([np.nan, 121.5], [31.2, 31.2], "gcj02")
    assert np.isnan(x[0]) and np.isnan(y[0]) and np.isfinite(x[1])
    x, y = to_wgs84([121.5], [31.2], "wgs84")
    assert (x[0], y[0]) == (121.5, 31.2)


def test_normalize_datum_and_in_china():
    assert normalize_datum("Amap") == "gcj02"
    assert normalize_datum(" BD-09 ") == "bd09"
    assert normalize_datum("EPSG:4326") == "wgs84"
    with pytest.raises(ValueError):
        normalize_datum("utm51")
    assert in_china([121.5, 2.35, 31.2], [31.2, 48.85, 121.5]).tolist() == [True, False, False]
