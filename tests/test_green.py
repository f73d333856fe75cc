"""500 m green check: GB/T 50563 park classes on hand-made parks, wiring into summarize."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geo import coverage as cv
from geo.categories import PARK_CLASSES, ParkClass
from geo.green import TOO_SMALL, classify_parks, green_check, park_classes
from geo.network import WalkNetwork

CRS = "EPSG:32651"
X0, Y0 = 355000.0, 3465000.0


def street(length=2000.0) -> WalkNetwork:
    """One straight 2 km street along y = 0."""
    xy = np.array([[X0, Y0], [X0 + length, Y0]])
    edges = gpd.GeoDataFrame({"u": [0], "v": [1], "length_m": [length]}, geometry=[LineString(xy)], crs=CRS)
    return WalkNetwork(xy, edges, CRS)


def sq(x, side):
    """A park square touching the street (y = 0) from the north at x .. x + side."""
    return box(X0 + x, Y0, X0 + x + side, Y0 + side)


# a 1 ha park at x 0-100, a 0.3 ha park (~54.8 m side) at x 1000, a 0.1 ha park at x 1800
PARKS = gpd.GeoDataFrame({"name": ["big", "mid", "tiny"]},
                         geometry=[sq(0, 100), sq(1000, np.sqrt(3000)), sq(1800, np.sqrt(1000))], crs=CRS)


def bld(xs, y=-10.0):
    return gpd.GeoDataFrame({"bid": np.arange(len(xs))},
                            geometry=[Point(X0 + x, Y0 + y) for x in xs], crs=CRS)


def test_classify_parks_by_area():
    cp = classify_parks(PARKS.to_crs(4326))
    assert cp["park_class"].tolist() == ["large", "small", TOO_SMALL]
    np.testing.assert_allclose(cp["area_m2"], [10000, 3000, 1000], rtol=1e-3)
    assert cp["radius_m"].iloc[:2].tolist() == [500.0, 300.0] and np.isnan(cp["radius_m"].iloc[2])


def test_park_classes_at_the_class_boundaries():
    keys, radius = park_classes([5000.0, 4999.9, 2000.0, 1999.9, 0.0, float("nan")])
    assert keys.tolist() == ["large", "small", "small", TOO_SMALL, TOO_SMALL, TOO_SMALL]
    np.testing.assert_array_equal(radius, [500.0, 300.0, 300.0, np.nan, np.nan, np.nan])


def test_green_map_uses_the_same_classes():
    """The map colours parks by geo.green.park_classes (it had its own classifier)."""
    from geo import webmap

    parks = gpd.GeoDataFrame({"name": ["big", "mid", "tiny"]},
                             geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 200, Y0, X0 + 260, Y0 + 50),
                                       box(X0 + 300, Y0, X0 + 330, Y0 + 30)], crs=CRS).to_crs(4326)
    m = webmap.green_map(parks=parks, buildings=None)
    layer = next(c for c in m._children.values() if type(c).__name__ == "FastGeoJson")
    c = webmap.PARK_COLORS
    assert layer.styles["fillColor"] == [c["large"], c["small"], c[None]]  # 1 ha, 0.3 ha, 0.09 ha
    assert layer.props["class"] == [PARK_CLASSES[0].zh, PARK_CLASSES[1].zh, "<0.2公顷（不计入）"]


def test_green_check_classes_and_shares():
    # x=550: 450 m from the big park's edge (x=100) -> 500 m rule; 10 m leg -> 460
    # x=1300: ~245 m from the mid park -> 300 m rule only
    # x=1750: 40 m from the tiny park (too small), ~705 m from mid -> neither
    # x=50: in front of the big park -> both rules
    b = bld([550, 1300, 1750, 50])
    bnd = gpd.GeoDataFrame({"subdistrict": ["A", "B"]},
                           geometry=[box(X0 - 100, Y0 - 100, X0 + 1000, Y0 + 200),
                                     box(X0 + 1000, Y0 - 100, X0 + 2100, Y0 + 200)], crs=CRS)
    table, parks = green_check(street(), PARKS, b, bnd)
    t = table.set_index("subdistrict")
    assert list(table.columns) == ["subdistrict", "buildings", "buildings_300m", "buildings_500m", "buildings_served",
                                   "share_300m", "share_500m", "share_served"]
    assert t.loc["A"].tolist()[:4] == [2, 1, 2, 2]  # x=50 within 300 m of the big park too
    assert t.loc["B"].tolist()[:4] == [2, 1, 0, 1]
    assert t.loc["B", "share_served"] == pytest.approx(0.5)
    assert parks["park_class"].tolist() == ["large", "small", TOO_SMALL]
    assert any("residential" in w.en and "居住" in w.zh for w in table.attrs["warnings"])


def test_green_boundary_access_not_centroid():
    # a 25 ha park: building 460 m from its edge but ~720 m from its centroid is served
    net = street(3000)
    park = gpd.GeoDataFrame(geometry=[box(X0, Y0 + 5, X0 + 500, Y0 + 505)], crs=CRS)
    b = bld([950], y=-5)
    table, _ = green_check(net, park, b)
    assert table["buildings_500m"].iloc[0] == 1
    assert Point(X0 + 950, Y0 - 5).distance(park.geometry[0].centroid) > 600


def test_custom_classes():
    classes = (ParkClass("any", "任意", "any", 500.0, 200.0),)
    table, parks = green_check(street(), PARKS, bld([1900, 1300]), classes=classes)
    # tiny (0.1 ha) qualifies now; x=1900 is ~68 m from it, x=1300 is ~245 m from mid
    assert table.columns.tolist() == ["subdistrict", "buildings", "buildings_200m", "buildings_served",
                                      "share_200m", "share_served"]
    assert table["buildings_200m"].iloc[0] == 1
    assert (parks["park_class"] == "any").all()


def test_wired_into_summarize():
    fac = PARKS.assign(category="park")
    d = cv.compute_distances(street(), fac, bld([550, 1300, 1750, 50]), categories=["park"])
    r = cv.summarize(d)
    assert r.green is not None and r.green["buildings_served"].iloc[0] == 3
    assert r.green_parks["park_class"].tolist() == ["large", "small", TOO_SMALL]
    assert r.params["green"]["residential_buildings"].startswith("all buildings")
    # same as the standalone check reusing the distances
    table, _ = green_check(d, PARKS)
    assert table["share_served"].iloc[0] == pytest.approx(0.75)
    assert PARK_CLASSES[0].radius_m == 500.0
