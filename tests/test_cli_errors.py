"""Bad input through the real CLI: one line on stderr naming the file, exit 2, nothing partial in OUTDIR."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString
from test_pipeline import make_toy, toy_args

from geo.cli import main


def _snapshot(folder):
    if not folder.exists():
        return None
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def run_fails(argv, outdir, capsys, *, must_name: str | None = None) -> str:
    """Run the CLI, expect exit 2, one error line, no traceback, OUTDIR untouched; return the line."""
    before = _snapshot(outdir)
    siblings = set(outdir.parent.iterdir()) if outdir.parent.exists() else set()
    code = main(["--lang", "en", *argv])
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if not line.startswith("[")]  # progress lines start with [
    assert code == 2, err
    assert "Traceback" not in err
    assert len(error_lines) == 1, err
    assert error_lines[0].startswith("lifecircle coverage: error:") or error_lines[0].startswith("lifecircle ")
    if must_name:
        assert must_name in error_lines[0], error_lines[0]
    assert _snapshot(outdir) == before
    if outdir.parent.exists():  # no temporary folders left beside it
        assert set(outdir.parent.iterdir()) == siblings
    return error_lines[0]


@pytest.fixture()
def toy(tmp_path):
    return make_toy(tmp_path / "in")


def test_malformed_and_truncated_xml(tmp_path, toy, capsys):
    out = tmp_path / "out"
    bad = tmp_path / "broken.osm"
    bad.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="31.3" lon="121.5"><tag k=', encoding="utf-8")
    run_fails(["coverage", "--network", str(bad), "--facilities", toy["facilities"], "-o", str(out)], out, capsys,
              must_name="broken.osm")
    trunc = tmp_path / "truncated.osm"
    trunc.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="31.3" lon="121.5"/>'
                     '<way id="5"><nd ref="1"/>', encoding="utf-8")
    run_fails(["coverage", "--network", str(trunc), "--facilities", toy["facilities"], "-o", str(out)], out, capsys,
              must_name="truncated.osm")


def test_empty_and_non_walkable_networks(tmp_path, toy, capsys):
    out = tmp_path / "out"
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    run_fails(["coverage", "--network", str(empty), "--facilities", toy["facilities"], "-o", str(out)], out, capsys,
              must_name="empty.geojson")
    motorway = tmp_path / "motorway.osm"
    motorway.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="31.30" lon="121.50"/><node id="2" lat="31.31" lon="121.50"/>'
        '<way id="7"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/></way></osm>', encoding="utf-8")
    run_fails(["coverage", "--network", str(motorway), "--facilities", toy["facilities"], "-o", str(out)], out, capsys,
              must_name="motorway.osm")
    # a line layer where every way is elevated (the 新江湾城 viaduct rule) has nothing walkable either
    elevated = tmp_path / "elevated.geojson"
    gpd.GeoDataFrame({"elev_median_offset_m": [1.0], "elev_frac15m": [0.9]},
                     geometry=[LineString([(121.5, 31.3), (121.51, 31.3)])], crs=4326).to_file(elevated)
    run_fails(["coverage", "--network", str(elevated), "--facilities", toy["facilities"], "-o", str(out)], out, capsys,
              must_name="elevated.geojson")


def _far_boundary(path):
    gpd.GeoDataFrame({"name": ["东城"]}, geometry=[shapely.box(116.3, 39.9, 116.4, 40.0)], crs=4326).to_file(path)


def _broken_geojson(path):
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat', encoding="utf-8")


@pytest.mark.parametrize("name, make", [("beijing.geojson", _far_boundary),  # does not intersect the network
                                        ("broken.geojson", _broken_geojson)])  # truncated JSON
def test_bad_boundaries(tmp_path, toy, capsys, name, make):
    out = tmp_path / "out"
    bad = tmp_path / name
    make(bad)
    args = toy_args(toy, out)
    args[args.index("--boundaries") + 1] = str(bad)
    run_fails(args, out, capsys, must_name=name)


def test_crs_less_and_missing_files(tmp_path, toy, capsys):
    out = tmp_path / "out"
    nocrs = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame({"name": ["甲"]}, geometry=[shapely.box(121.4, 31.2, 121.6, 31.4)]).to_file(nocrs)
    assert not nocrs.with_suffix(".prj").exists()
    args = toy_args(toy, out)
    args[args.index("--boundaries") + 1] = str(nocrs)
    line = run_fails(args, out, capsys, must_name="nocrs.shp")
    assert "CRS" in line
    missing = toy_args(toy, out, "--facilities", str(tmp_path / "missing.csv"))
    run_fails(missing, out, capsys, must_name="missing.csv")
    run_fails(["coverage", "--area", str(tmp_path / "no-such-area"), "-o", str(out)], out, capsys,
              must_name="no-such-area")


def test_bad_facility_tables(tmp_path, toy, capsys):
    out = tmp_path / "out"
    unknown = tmp_path / "unknown.csv"
    pd.DataFrame({"name": ["x"], "category": ["spa"], "lon": [121.5], "lat": [31.3]}).to_csv(unknown, index=False)
    line = run_fails(toy_args(toy, out, "--facilities", str(unknown)), out, capsys, must_name="unknown.csv")
    assert "spa" in line
    nocoords = tmp_path / "nocoords.xlsx"
    pd.DataFrame({"name": ["x"], "category": ["park"]}).to_excel(nocoords, index=False)
    run_fails(toy_args(toy, out, "--facilities", str(nocoords)), out, capsys, must_name="nocoords.xlsx")
    run_fails(toy_args(toy, out, "--threshold", "park=far"), out, capsys)


def test_failed_run_keeps_previous_outdir(tmp_path, toy, capsys):
    out = tmp_path / "out"
    assert main(toy_args(toy, out)) == 0
    capsys.readouterr()
    before = _snapshot(out)
    run_fails(toy_args(toy, out, "--facilities", str(tmp_path / "missing.csv")), out, capsys)
    assert _snapshot(out) == before and "params.json" in before


def test_refuses_to_replace_an_unrelated_folder(tmp_path, toy, capsys):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    run_fails(toy_args(toy, out), out, capsys, must_name="documents")
    assert (out / "thesis.docx").read_bytes() == b"precious"


def test_warnings_not_errors(tmp_path, toy, capsys):
    """Facilities outside the study area and a category without facilities: warnings, exit 0."""
    out = tmp_path / "out"
    outside = tmp_path / "outside.csv"
    # 3 parks ~1 km beyond the east end of the toy boundary (still in China, within the 1.5 km read buffer)
    lon0, lat0 = gpd.GeoSeries.from_xy([355_000 + 1_000 + 1_000], [3_465_000], crs="EPSG:32651").to_crs(4326).iloc[0].coords[0]
    pd.DataFrame({"name": ["东一", "东二", "东三"], "category": ["park"] * 3,
                  "lon": [lon0, lon0 + 0.0005, lon0 + 0.001], "lat": [lat0] * 3}).to_csv(outside, index=False)
    assert main(["--lang", "en", *toy_args(toy, out, "--facilities", str(outside))]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "3 facilities lie outside the study area" in err
    assert "Community canteen: no facilities" in err
    params = json.loads((out / "params.json").read_text(encoding="utf-8"))
    assert any("3 facilities lie outside" in w["en"] and "3 个设施" in w["zh"] for w in params["warnings"])
    sub = pd.read_csv(out / "subdistricts.csv").set_index("category")
    assert sub.loc["canteen", "street_km_covered"] == 0
