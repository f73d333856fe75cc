"""Issue 10 (part A): hostile names never become live spreadsheet formulas, and
facility de-duplication stays near-linear on hostile tables.

Names starting with = + - @ TAB CR reach every export: facility names go into the
facilities sheet and gap labels, street names into named_streets.csv. CSV cells
get a leading apostrophe (OWASP CSV-injection guidance), XLSX cells are text cells.
"""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from test_pipeline import lonlat, make_toy, toy_args

from geo import facilities as F
from geo import report
from geo.cli import main
from geo.errors import InputError
from geo.io import defuse_formulas, restore_formulas, to_csv_bom

HYPERLINK = '=HYPERLINK("http://x","y")'
DDE = "=cmd|' /C notepad'!A1"
EVIL = [HYPERLINK, DDE, "+1+2", "-3+4", "@SUM(A1)", "\tTAB", "\rCR"]


def _formula_cells(path_or_buf) -> list[str]:
    wb = openpyxl.load_workbook(path_or_buf)  # not read-only: data_type is the stored cell type
    return [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def _xlsx_texts(path_or_buf) -> set[str]:
    wb = openpyxl.load_workbook(path_or_buf)
    return {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


# --------------------------------------------------------------------------- the writer itself
def test_to_csv_bom_defuses_text_cells_and_keeps_numbers(tmp_path):
    df = pd.DataFrame({"name": EVIL + ["普通名称", "a=b"],
                       "value": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, -9.25],
                       "count": list(range(-4, 5))})
    out = to_csv_bom(df, tmp_path / "t.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, encoding="utf-8-sig", dtype={"name": str}, keep_default_na=False)
    assert back["name"].tolist() == ["'" + v for v in EVIL] + ["普通名称", "a=b"]
    assert back["value"].tolist() == df["value"].tolist()  # numbers stay numbers: -1.5, not '-1.5
    assert back["count"].tolist() == df["count"].tolist()
    assert df["name"].iloc[0] == HYPERLINK  # the caller's frame is untouched
    assert restore_formulas(back)["name"].tolist() == df["name"].tolist()


def test_defuse_covers_categorical_and_string_columns_and_headers():
    df = pd.DataFrame({"=h": pd.Categorical(["=a", "b"]), "s": pd.array(["@x", None], dtype="string")})
    out = defuse_formulas(df)
    assert list(out.columns) == ["'=h", "s"]
    assert out.iloc[:, 0].tolist() == ["'=a", "b"]
    assert out["s"].iloc[0] == "'@x" and pd.isna(out["s"].iloc[1])


# --------------------------------------------------------------------------- through the CLI
def _evil_toy(folder) -> dict:
    files = make_toy(folder)
    roads = gpd.read_file(files["network"])
    roads["name"] = [HYPERLINK, DDE]
    roads.to_file(files["network"])
    rows = [("toy:1", DDE, "park", "existing", *lonlat(0, 10)),
            ("toy:2", HYPERLINK, "health", "planned", *lonlat(900, 5)),
            ("toy:3", "@SUM(A1)", "canteen", "existing", *lonlat(500, 390))]
    pd.DataFrame(rows, columns=["facility_id", "name", "category", "status", "lon", "lat"]).to_csv(
        files["facilities"], index=False, encoding="utf-8-sig")
    return files


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("evil")
    files = _evil_toy(base / "in")
    out = base / "out"
    assert main(["--lang", "en", *toy_args(files, out)]) == 0
    return base, out


def test_coverage_csvs_hold_defused_names(evil_run):
    _, out = evil_run
    streets = pd.read_csv(out / "named_streets.csv", encoding="utf-8-sig", dtype=str)
    names = set(streets["name"])
    assert "'" + HYPERLINK in names and "'" + DDE in names
    for f in out.glob("*.csv"):
        table = pd.read_csv(f, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        cells = [str(c) for c in table.columns] + [v for col in table.columns for v in table[col]]
        # a live cell would start with a trigger; numbers such as -0.5 would be in numeric columns
        live = [c for c in cells if c[:1] in ("=", "@", "\t", "\r") or c[:1] == "+" and not _number(c)]
        assert not live, (f.name, live)


def _number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def test_report_xlsx_has_no_formula_cells(evil_run, capsys):
    base, out = evil_run
    xlsx = base / "report.xlsx"
    assert main(["--lang", "en", "report", str(out), "-o", str(xlsx)]) == 0
    assert _formula_cells(xlsx) == []
    texts = _xlsx_texts(xlsx)
    assert {HYPERLINK, DDE, "@SUM(A1)"} <= texts  # the names are there, as text


def test_report_gap_labels_built_from_names_are_text(evil_run):
    _, out = evil_run
    outputs = report.load_outdir(out)
    gaps = outputs.gaps
    assert len(gaps), "the toy must have gaps for this test to mean anything"
    labels = [str(v) for v in gaps["label"]]
    assert any(HYPERLINK in v or DDE in v for v in labels), labels
    buf = io.BytesIO()
    report.to_xlsx(outputs, buf, "zh")
    buf.seek(0)
    assert _formula_cells(buf) == []


def test_report_zip_of_csvs_is_defused(evil_run):
    base, out = evil_run
    dest = base / "report.zip"
    assert main(["--lang", "en", "report", str(out), "-o", str(dest)]) == 0
    with zipfile.ZipFile(dest) as zf:
        facs = pd.read_csv(io.BytesIO(zf.read("facilities.csv")), encoding="utf-8-sig", dtype=str)
        everything = "".join(zf.read(n).decode("utf-8-sig") for n in zf.namelist())
    names = set(facs["Name"])  # --lang en: English headers
    assert {"'" + DDE, "'" + HYPERLINK, "'@SUM(A1)"} <= names
    assert f",{HYPERLINK}" not in everything and f"\n{HYPERLINK}" not in everything


def test_app_path_from_result_is_defused(evil_run, tmp_path):
    """The app's downloads: StudyResult.outputs() (CoverageOutputs.from_result) in memory, XLSX and ZIP into buffers."""
    from geo.cli import build_parser
    from geo.pipeline import study_from_args
    from geo.study import run_study

    base, _ = evil_run
    files = {k: str(base / "in" / f) for k, f in (("network", "roads.gpkg"), ("facilities", "facilities.csv"),
                                                   ("buildings", "buildings.gpkg"),
                                                   ("boundaries", "boundaries.geojson"))}
    study = study_from_args(build_parser().parse_args(toy_args(files, tmp_path / "unused")))
    outputs = run_study(study).outputs()
    xbuf, zbuf = io.BytesIO(), io.BytesIO()
    report.to_xlsx(outputs, xbuf, "zh")
    report.to_csv(outputs, zbuf, "zh")
    xbuf.seek(0)
    assert _formula_cells(xbuf) == []
    xbuf.seek(0)
    assert {HYPERLINK, DDE} <= _xlsx_texts(xbuf)
    with zipfile.ZipFile(zbuf) as zf:
        text = "".join(zf.read(n).decode("utf-8-sig") for n in zf.namelist())
    assert "'" + HYPERLINK.replace('"', '""') in text and "'" + DDE in text
    assert f",{DDE}" not in text


def test_extract_csv_defuses_formula_names(tmp_path):
    from geo import texts

    df = pd.DataFrame([{c: "" for c in texts.COLUMNS + texts.EXTRA_COLUMNS}])
    df["name"] = "=1+1"
    to_csv_bom(df, tmp_path / "f.csv")
    assert pd.read_csv(tmp_path / "f.csv", encoding="utf-8-sig", dtype=str)["name"].iloc[0] == "'=1+1"
    # read back by the tool (geocode / coverage read it as a table), the apostrophe is removed again
    assert F.read_csv_any(tmp_path / "f.csv")["name"].iloc[0] == "=1+1"


# --------------------------------------------------------------------------- de-duplication stays bounded
def _table(n: int, lon, lat, names, cat="canteen") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"facility_id": [f"official:{i}" for i in range(n)], "name": names,
                             "category": cat, "source": "official"},
                            geometry=shapely.points(lon, lat), crs=4326)


def test_dedupe_3000_identical_rows_is_one_place():
    n = 3000
    g = _table(n, np.full(n, 121.5), np.full(n, 31.3), ["长者食堂"] * n)
    d = F.dedupe(g)
    assert len(d) == 1
    assert d["source_detail"].iloc[0].count("official:") == n - 1  # the merged ids (the kept row has no detail)


def test_dedupe_identical_unnamed_points_stay_apart():
    """Unchanged semantics: without a name or an OSM id, two points are not known to be one place."""
    n = 3000
    g = _table(n, np.full(n, 121.5), np.full(n, 31.3), [""] * n)
    assert len(F.dedupe(g)) == n


def test_dedupe_pile_of_distinct_names_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(F, "MAX_DEDUPE_PAIRS", 10_000)
    n = 500  # 124 750 pairs of distinct names on one spot
    g = _table(n, np.full(n, 121.5), np.full(n, 31.3), [f"店{i:04d}号" for i in range(n)])
    with pytest.raises(InputError, match="too many facilities"):
        F.dedupe(g)


def test_dedupe_pairs_are_counted_per_chunk(monkeypatch):
    """Small query chunks give the same groups as one big query."""
    rng = np.random.default_rng(3)
    n = 400
    lon = 121.5 + rng.random(n) * 0.002
    lat = 31.3 + rng.random(n) * 0.002
    names = [f"社区食堂{i % 7}" for i in range(n)]
    g = _table(n, lon, lat, names)
    whole = F.dedupe(g)
    monkeypatch.setattr(F, "_PAIRS_PER_QUERY", 1)
    pieces = F.dedupe(g)
    pd.testing.assert_frame_equal(pd.DataFrame(whole.drop(columns="geometry")),
                                  pd.DataFrame(pieces.drop(columns="geometry")))
    assert len(whole) < n


def test_coverage_cli_pile_of_facilities_is_one_line(tmp_path, capsys, monkeypatch):
    """A second facility list (layers are merged with dedupe) piling 400 distinct names on one spot."""
    files = make_toy(tmp_path / "in")
    n = 400
    x, y = lonlat(500, 5)
    pile = tmp_path / "in" / "pile.csv"
    pd.DataFrame({"facility_id": [f"p:{i}" for i in range(n)], "name": [f"店{i:04d}号" for i in range(n)],
                  "category": "canteen", "lon": x, "lat": y}).to_csv(pile, index=False)
    monkeypatch.setattr(F, "MAX_DEDUPE_PAIRS", 1000)
    out = tmp_path / "out"
    assert main(["--lang", "en", *toy_args(files, out, "--facilities", str(pile))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [e for e in err if "error" in e]
    assert len(errors) == 1 and "too many facilities" in errors[0]
    assert not any("Traceback" in e for e in err)
    assert not out.exists()


def test_zipped_shapefile_bomb_is_refused_through_the_cli(tmp_path, capsys):
    """A .zip road layer whose member unpacks 1000-fold: one line naming the size, not the format."""
    files = make_toy(tmp_path / "in")
    bomb = tmp_path / "roads.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("roads.shp", b"\0" * (8 * 1024 * 1024))
    out = tmp_path / "out"
    code = main(["--lang", "en", "coverage", "--network", str(bomb), "--facilities", files["facilities"],
                 "-o", str(out)])
    assert code == 2
    errors = [e for e in capsys.readouterr().err.splitlines() if "error" in e]
    assert len(errors) == 1 and "roads.zip" in errors[0] and "zip bomb" in errors[0]
    assert "cannot read this vector file" not in errors[0]
    assert not out.exists()


def test_xlsx_error_looking_names_stay_text(evil_run):
    """openpyxl would store '#N/A' as an error cell: names are text, whatever they look like."""
    _, out = evil_run
    outputs = report.load_outdir(out)
    outputs.facilities.loc[0, "name"] = "#N/A"
    buf = io.BytesIO()
    report.to_xlsx(outputs, buf, "en")
    buf.seek(0)
    wb = openpyxl.load_workbook(buf)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == "#N/A"]
    assert cells and all(c.data_type == "s" for c in cells)
