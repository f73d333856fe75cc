"""Exports of a coverage OUTDIR: XLSX, CSV, GeoPackage, GeoJSON, PDF and `lifecircle report`."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import skip_or_fail
from shapely.geometry import LineString, Point, box

from geo import report
from geo.categories import CATEGORIES
from geo.cli import main
from geo.errors import InputError
from geo.i18n import column_label
from geo.io import to_csv_bom

SUBS = ("新江湾城", "五角场")
CATS = ("elderly_care", "park", "market")
LON0, LAT0 = 121.500, 31.330


def _write_outdir(d: Path) -> Path:
    """A small OUTDIR following docs/ARCHITECTURE.md "Coverage OUTDIR" (EPSG:4326)."""
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    rows = []
    for i, s in enumerate(SUBS):
        for j, c in enumerate(CATS):
            b = 40 + 10 * i + j
            cov = 17 + 5 * i + 3 * j
            km = 3.25 + i
            kmc = round(km * (0.3 + 0.1 * j), 3)
            rows.append({"subdistrict": s, "category": c, "threshold_m": CATEGORIES[c].threshold_m,
                         "facilities": 2 + j, "buildings": b, "buildings_covered": cov, "buildings_unreachable": i + j,
                         "share_buildings_covered": cov / b, "street_km": km, "street_km_covered": kmc,
                         "share_street_covered": kmc / km, "network_share_in_area": 0.97 - 0.01 * i})
    to_csv_bom(pd.DataFrame(rows), d / "subdistricts.csv")

    # streets: a 6 x 6 grid of ~100 m segments; the western half is 新江湾城
    lines, attrs = [], []
    step = 0.001
    for k in range(6):
        for m in range(5):
            for geom in (LineString([(LON0 + m * step, LAT0 + k * step), (LON0 + (m + 1) * step, LAT0 + k * step)]),
                         LineString([(LON0 + k * step, LAT0 + m * step), (LON0 + k * step, LAT0 + (m + 1) * step)])):
                lines.append(geom)
                a = {"subdistrict": SUBS[0] if geom.centroid.x < LON0 + 2.5 * step else SUBS[1],
                     "length_m": 100.0, "name": f"路{k}"}
                for c in CATS:
                    dist = float(rng.uniform(0, 1500))
                    if c == "market" and k == 5:
                        dist = np.nan
                    a[f"dist_m_{c}"] = dist
                    a[f"walk_min_{c}"] = dist / 72.0
                    a[f"covered_km_{c}"] = 0.1 if dist <= CATEGORIES[c].threshold_m else 0.0
                attrs.append(a)
    streets = gpd.GeoDataFrame(attrs, geometry=lines, crs=4326)
    pyogrio.write_dataframe(streets, d / "streets.gpkg", layer="streets", driver="GPKG")

    pts = [Point(LON0 + x, LAT0 + y) for x, y in rng.uniform(0, 5 * step, size=(30, 2))]
    bld = {"building_id": np.arange(30), "snap_m": rng.uniform(0, 30, 30),
           "subdistrict": [SUBS[0] if p.x < LON0 + 2.5 * step else SUBS[1] for p in pts]}
    for c in CATS:
        dd = rng.uniform(0, 1500, 30)
        bld[f"dist_m_{c}"], bld[f"walk_min_{c}"], bld[f"unreachable_{c}"] = dd, dd / 72, np.zeros(30, bool)
    pyogrio.write_dataframe(gpd.GeoDataFrame(bld, geometry=pts, crs=4326), d / "buildings.gpkg",
                            layer="buildings", driver="GPKG")

    gaps = gpd.GeoDataFrame(
        {"category": ["elderly_care", "elderly_care", "market", "park"], "rank": [1, 2, 1, 1],
         "kind": ["buildings", "buildings", "buildings", "streets"], "n_buildings": [12, 4, 7, 0],
         "street_m": [350.0, 120.0, 260.0, 410.0], "label": ["国权北路", "淞沪路", "殷行路", "政立路"]},
        geometry=[box(LON0 + 0.0035, LAT0 + 0.0035, LON0 + 0.0048, LAT0 + 0.0048),
                  box(LON0 + 0.0002, LAT0 + 0.004, LON0 + 0.001, LAT0 + 0.0048),
                  box(LON0 + 0.002, LAT0 + 0.0002, LON0 + 0.003, LAT0 + 0.001),
                  LineString([(LON0, LAT0 + 0.005), (LON0 + 0.002, LAT0 + 0.005)])], crs=4326)
    gaps.to_file(d / "gaps.geojson", driver="GeoJSON", engine="pyogrio")

    to_csv_bom(pd.DataFrame({"subdistrict": list(SUBS), "buildings": [21, 9], "buildings_300m": [8, 2],
                             "buildings_500m": [15, 6], "buildings_served": [16, 6],
                             "share_300m": [8 / 21, 2 / 9], "share_500m": [15 / 21, 6 / 9],
                             "share_served": [16 / 21, 6 / 9]}), d / "green.csv")

    fac = gpd.GeoDataFrame(
        {"facility_id": ["official:E1", "osm:node/1", "osm:way/2", "text:000:3"],
         "name": ["新江湾城综合为老服务中心", "五角场菜场", "江湾公园", "规划长者照护之家"],
         "category": ["elderly_care", "market", "park", "elderly_care"],
         "status": ["existing", "existing", "existing", "planned"],
         "source": ["official", "osm", "osm", "text"], "source_detail": ["csv", "marketplace", "park", "000.txt"]},
        geometry=[Point(LON0 + 0.001, LAT0 + 0.001), Point(LON0 + 0.004, LAT0 + 0.002),
                  box(LON0 + 0.002, LAT0 + 0.002, LON0 + 0.003, LAT0 + 0.003), Point(LON0 + 0.0045, LAT0 + 0.0045)],
        crs=4326)
    pyogrio.write_dataframe(fac, d / "facilities.gpkg", layer="facilities", driver="GPKG")

    bnd = gpd.GeoDataFrame({"subdistrict": list(SUBS), "district": ["杨浦区", "杨浦区"]},
                           geometry=[box(LON0 - 0.0005, LAT0 - 0.0005, LON0 + 0.0025, LAT0 + 0.0055),
                                     box(LON0 + 0.0025, LAT0 - 0.0005, LON0 + 0.0055, LAT0 + 0.0055)], crs=4326)
    pyogrio.write_dataframe(bnd, d / "boundaries.gpkg", layer="boundaries", driver="GPKG")

    params = {"area": "xinjiangwan", "area_name": "杨浦区新江湾城—五角场（测试）",
              "thresholds": {c: CATEGORIES[c].threshold_m for c in CATS}, "speed_m_per_min": 72.0,
              "profile": "default", "inputs": {"network": "network/edges.parquet", "buildings": "buildings.gpkg"},
              "warnings": ["路网仅覆盖五角场街道面积的一部分"], "attribution": "© OpenStreetMap contributors, ODbL 1.0"}
    (d / "params.json").write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def outdir(tmp_path_factory) -> Path:
    return _write_outdir(tmp_path_factory.mktemp("cov") / "out")


@pytest.fixture(scope="module")
def outputs(outdir):
    return report.load_outdir(outdir)


@pytest.fixture(scope="module")
def pdf_bytes(outputs) -> bytes:
    buf = io.BytesIO()
    report.to_pdf(outputs, buf)
    return buf.getvalue()


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


# ---------------------------------------------------------------- loading


def test_load_outdir_reads_every_table(outputs, outdir):
    assert outputs.categories == list(CATS)
    assert len(outputs.subdistricts) == 6 and len(outputs.streets) == 60
    assert outputs.buildings is not None and len(outputs.buildings) == 30
    assert len(outputs.gaps) == 4 and len(outputs.facilities) == 4 and len(outputs.boundaries) == 2
    assert outputs.speed_m_per_min == 72.0 and outputs.thresholds["park"] == 500.0
    assert outputs.area_name.startswith("杨浦区")
    # an older params.json with plain-string warnings still reads (the same text in both languages)
    assert [w.text("zh") for w in outputs.warnings] == ["路网仅覆盖五角场街道面积的一部分"]
    assert [w.text("en") for w in outputs.warnings] == ["路网仅覆盖五角场街道面积的一部分"]


def test_load_outdir_errors_name_the_file(tmp_path, outdir):
    with pytest.raises(InputError, match="not found"):
        report.load_outdir(tmp_path / "nope")
    broken = tmp_path / "broken"
    shutil.copytree(outdir, broken)
    (broken / "streets.gpkg").unlink()
    with pytest.raises(InputError) as ei:
        report.load_outdir(broken)
    assert "streets.gpkg" in ei.value.message("en")
    shutil.copy(outdir / "streets.gpkg", broken / "streets.gpkg")
    (broken / "params.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="params.json"):
        report.load_outdir(broken)


# ---------------------------------------------------------------- XLSX


def test_xlsx_sheets_headers_and_numbers(outputs, outdir, tmp_path):
    from openpyxl import load_workbook

    dest = tmp_path / "r.xlsx"
    report.to_xlsx(outputs, dest)
    wb = load_workbook(dest)
    assert wb.sheetnames == ["分街道覆盖", "绿地500米", "缺口清单", "设施清单", "分道路覆盖", "街道明细", "参数与来源"]
    ws = wb["分街道覆盖"]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["街道", "设施类别", "步行阈值(米)"]
    assert ws.freeze_panes == "A2"
    csv = pd.read_csv(outdir / "subdistricts.csv", encoding="utf-8-sig")
    got = pd.DataFrame(list(ws.iter_rows(min_row=2, values_only=True)), columns=headers)
    assert list(got["街道"]) == list(csv["subdistrict"])
    assert list(got["设施类别"]) == [CATEGORIES[c].zh for c in csv["category"]]
    for col in ("buildings", "buildings_covered", "buildings_unreachable", "facilities"):
        assert list(got[column_label(col)]) == list(csv[col])
    for col in ("share_buildings_covered", "share_street_covered", "street_km"):
        np.testing.assert_allclose(got[column_label(col)].astype(float), csv[col], rtol=1e-12)
    share_col = headers.index("建筑覆盖率") + 1
    assert ws.cell(row=2, column=share_col).number_format == "0.0%"
    assert ws.column_dimensions["A"].width >= 8

    by_name = pd.DataFrame(list(wb["分道路覆盖"].iter_rows(values_only=True)))
    assert list(by_name.iloc[0, :3]) == ["街道", "名称", "设施类别"]
    streets = outputs.streets  # the sheet sums each named street's exact covered length
    some = by_name.iloc[1]
    cat_key = next(k for k, c in CATEGORIES.items() if c.zh == some[2])
    same = streets[(streets["name"] == some[1]) & (streets["subdistrict"] == some[0])]
    assert float(some[5]) == pytest.approx(same[f"covered_km_{cat_key}"].sum(), abs=1e-9)

    params = wb["参数与来源"]
    text = "\n".join(str(v) for row in params.iter_rows(values_only=True) for v in row if v is not None)
    assert "© OpenStreetMap contributors, ODbL 1.0" in text
    assert "GB/T 50563" in text and "Knoblauch" in text and CATEGORIES["park"].standard in text
    assert "路网仅覆盖五角场街道面积的一部分" in text
    gaps = wb["缺口清单"]
    assert [c.value for c in gaps[1]][:3] == ["设施类别", "排名", "缺口类型"]
    assert gaps.cell(row=2, column=1).value == "养老服务" and gaps.cell(row=2, column=3).value == "建筑群"


def test_xlsx_to_bytesio_and_english(outputs):
    from openpyxl import load_workbook

    buf = io.BytesIO()
    report.to_xlsx(outputs, buf, lang="en", streets=False)
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert "Coverage by subdistrict" in wb.sheetnames and "Streets" not in wb.sheetnames
    assert [c.value for c in wb["Coverage by subdistrict"][1]][:2] == ["Subdistrict", "Category"]


# ---------------------------------------------------------------- CSV / GPKG / GeoJSON


def test_csv_folder_and_zip_have_bom(outputs, tmp_path):
    report.to_csv(outputs, tmp_path / "csv")
    raw = (tmp_path / "csv" / "subdistricts.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines()[0].startswith("街道,设施类别")
    buf = io.BytesIO()
    report.to_csv(outputs, buf, lang=None)
    with zipfile.ZipFile(buf) as zf:
        assert {"subdistricts.csv", "green.csv", "gaps.csv", "facilities.csv", "params.csv"} <= set(zf.namelist())
        first = zf.read("green.csv")
    assert first.startswith(b"\xef\xbb\xbf") and first[3:].decode().startswith("subdistrict,buildings")


def test_geopackage_layers(outputs, tmp_path):
    dest = tmp_path / "layers.gpkg"
    report.to_geopackage(outputs, dest)
    names = {row[0] for row in pyogrio.list_layers(dest)}
    assert names == {"streets", "buildings", "gaps", "facilities", "boundaries"}
    back = gpd.read_file(dest, layer="streets")
    assert len(back) == 60 and "dist_m_park" in back.columns and back.crs.to_epsg() == 4326
    buf = io.BytesIO()
    report.to_geopackage(outputs, buf)
    assert buf.getvalue()[:16] == b"SQLite format 3\x00"


def test_geojson_layer(outputs, tmp_path):
    buf = io.BytesIO()
    report.to_geojson(outputs.gaps, buf)
    data = json.loads(buf.getvalue().decode("utf-8"))
    assert len(data["features"]) == 4 and data["features"][0]["properties"]["label"] == "国权北路"
    report.to_geojson(outputs.streets, tmp_path / "s.geojson")
    back = gpd.read_file(tmp_path / "s.geojson")
    assert back["dist_m_market"].isna().sum() == outputs.streets["dist_m_market"].isna().sum() > 0


# ---------------------------------------------------------------- PDF


def test_pdf_text_numbers_and_embedded_font(pdf_bytes, outdir):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    assert len(reader.pages) >= 5
    text = "\n".join(p.extract_text() for p in reader.pages)
    compact = text.replace(" ", "").replace("\n", "")
    for heading in ("步行覆盖与缺口报告", "分街道覆盖", "500米见绿覆盖率", "参数与来源", "缺口清单"):
        assert heading in compact, heading
    csv = pd.read_csv(outdir / "subdistricts.csv", encoding="utf-8-sig")
    for s in SUBS:
        assert s in compact
    for v in csv["share_buildings_covered"]:
        assert _pct(v) in compact
    for v in csv["buildings"]:
        assert str(v) in compact
    assert _pct(16 / 21) in compact  # 500 m green coverage of 新江湾城
    assert "OpenStreetMapcontributors,ODbL1.0" in compact
    assert "国权北路" in compact  # ranked gap list

    embedded = []
    for page in reader.pages:
        for f in page["/Resources"]["/Font"].values():
            f = f.get_object()
            desc = f.get("/FontDescriptor")
            if desc is None and "/DescendantFonts" in f:
                desc = f["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            if desc is not None:
                embedded.append("/FontFile2" in desc.get_object())
    assert embedded and all(embedded)


def test_pdf_page_renders_chinese(pdf_bytes, tmp_path):
    if not shutil.which("pdftoppm"):
        skip_or_fail("pdftoppm/pdffonts (poppler-utils) not installed; run scripts/setup --test")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(pdf_bytes)
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi" in out or "LifecircleCJK" in out
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p-*1.png"))
    from PIL import Image

    grey = np.asarray(Image.open(png).convert("L"))
    assert (grey < 128).mean() > 0.002  # the title page has visible (dark) glyphs


def test_coverage_figure_has_colorbar_in_metres_and_minutes(outputs):
    fig = report.coverage_figure(outputs, "elderly_care")
    labels = {ax.get_ylabel() for ax in fig.axes} | {
        child.get_ylabel() for ax in fig.axes for child in ax.child_axes}
    assert "步行距离(米)" in labels and "步行时间(分钟)" in labels
    assert report.figure_png(fig, dpi=40).startswith(b"\x89PNG")


def test_missing_font_is_an_input_error(monkeypatch):
    from geo import fonts

    fonts.find_cjk_font.cache_clear()
    monkeypatch.setenv("LIFECIRCLE_CJK_FONT", "/nonexistent/font.ttc")
    try:
        with pytest.raises(InputError, match="LIFECIRCLE_CJK_FONT"):
            fonts.find_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()


# ---------------------------------------------------------------- CLI


def test_cli_report_writes_xlsx_and_rejects_bad_input(outdir, tmp_path, capsys):
    dest = tmp_path / "report.xlsx"
    assert main(["--lang", "zh", "report", str(outdir), "-o", str(dest)]) == 0
    assert dest.is_file() and "report.xlsx" in capsys.readouterr().out
    assert main(["report", str(outdir), "-o", str(tmp_path / "report.docx")]) == 2
    assert main(["report", str(tmp_path / "missing"), "-o", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err
    assert not (tmp_path / "r.pdf").exists()


# ---------------------------------------------------------------- real data (../shared)


# real_outdir (tests/conftest.py): `lifecircle coverage --area` on the area prepared once per session
@pytest.mark.shared
def test_real_outdir_reports(real_outdir, tmp_path, capsys):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    csv = pd.read_csv(real_outdir / "subdistricts.csv", encoding="utf-8-sig")
    outputs = report.load_outdir(real_outdir)
    assert set(outputs.categories) == set(csv["category"])
    assert outputs.boundaries is not None and "新江湾城街道" in set(outputs.boundaries["subdistrict"])
    assert outputs.area_name  # from the prepared area's area.json

    xlsx, pdf = tmp_path / "real.xlsx", tmp_path / "real.pdf"
    assert main(["report", str(real_outdir), "-o", str(xlsx)]) == 0
    report.to_pdf(outputs, pdf, dpi=60)  # the CLI path is covered above; low dpi keeps this fast
    ws = load_workbook(xlsx, read_only=True)["分街道覆盖"]
    rows = list(ws.iter_rows(values_only=True))
    got = pd.DataFrame(rows[1:], columns=rows[0])
    assert list(got["街道"]) == list(csv["subdistrict"])
    assert list(got["建筑数"]) == list(csv["buildings"])
    np.testing.assert_allclose(got["建筑覆盖率"].astype(float), csv["share_buildings_covered"], equal_nan=True)
    np.testing.assert_allclose(got["道路覆盖率"].astype(float), csv["share_street_covered"], equal_nan=True)

    reader = PdfReader(pdf)
    text = "".join(p.extract_text() for p in reader.pages).replace(" ", "").replace("\n", "")
    assert "新江湾城街道" in text and "500米见绿覆盖率" in text
    xj = csv[(csv["subdistrict"] == "新江湾城街道")]
    for v in xj["share_buildings_covered"]:
        assert _pct(v) in text
    green = pd.read_csv(real_outdir / "green.csv", encoding="utf-8-sig").set_index("subdistrict")
    assert _pct(green.loc["新江湾城街道", "share_served"]) in text

    gpkg = tmp_path / "real.gpkg"
    report.to_geopackage(outputs, gpkg)
    assert {"streets", "buildings", "gaps", "facilities", "boundaries"} <= {r[0] for r in pyogrio.list_layers(gpkg)}


# ---------------------------------------------------------------- the real pipeline on a toy network (no ../shared)


def test_report_of_a_pipeline_outdir(tmp_path):
    from test_pipeline import make_toy, toy_args  # the pipeline's own toy inputs

    out = tmp_path / "out"
    assert main(toy_args(make_toy(tmp_path / "in"), out)) == 0
    outputs = report.load_outdir(out)
    csv = pd.read_csv(out / "subdistricts.csv", encoding="utf-8-sig")
    buf = io.BytesIO()
    report.to_xlsx(outputs, buf)
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(buf.getvalue()))["分街道覆盖"]
    rows = list(ws.iter_rows(values_only=True))
    got = pd.DataFrame(rows[1:], columns=rows[0])
    np.testing.assert_allclose(got["道路覆盖率"].astype(float), csv["share_street_covered"], equal_nan=True)
    pdf = io.BytesIO()
    report.to_pdf(outputs, pdf, dpi=40)
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(pdf).pages).replace(" ", "")
    assert "甲街道" in text and "参数与来源" in text


def test_from_result_converts_metric_layers(outputs, tmp_path):
    from types import SimpleNamespace

    metric = SimpleNamespace(subdistricts=outputs.subdistricts, streets=outputs.streets.to_crs(32651),
                             buildings=outputs.buildings.to_crs(32651), gaps=outputs.gaps.to_crs(32651),
                             green=outputs.green, params=dict(outputs.params, warnings=[]), warnings=["w1"])
    wrapped = report.CoverageOutputs.from_result(metric, facilities=outputs.facilities)
    dest = tmp_path / "m.gpkg"
    report.to_geopackage(wrapped, dest)
    back = gpd.read_file(dest, layer="gaps")
    assert back.crs.to_epsg() == 4326
    np.testing.assert_allclose(back.total_bounds, outputs.gaps.total_bounds, atol=1e-6)
    fac = next(sh for sh in report.report_tables(wrapped) if sh.key == "gaps").frame
    assert fac["lon"].between(121, 122).all() and fac["lat"].between(31, 32).all()


def test_to_csv_bom_into_a_buffer():
    """The app keeps a geocoded table through a byte buffer (ui.keep_geocoded): BOM first, readable back."""
    buf = io.BytesIO()
    assert to_csv_bom(pd.DataFrame({"名称": ["新江湾城公园"], "lon": [121.5]}), buf) is buf
    assert buf.getvalue().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(buf.getvalue()), encoding="utf-8-sig")
    assert back.to_dict("records") == [{"名称": "新江湾城公园", "lon": 121.5}]


def test_gap_sheet_speaks_the_report_language_and_names_the_subdistrict(outputs):
    import dataclasses

    gaps = outputs.gaps.assign(subdistrict=["甲街道", None, "乙街道", "甲街道"],
                               label_en=["≈320 m NW of 国权北路", "", "next to 殷行路", "政立路"])
    out = dataclasses.replace(outputs, gaps=gaps)
    for lang, want in (("en", ["≈320 m NW of 国权北路", "淞沪路", "next to 殷行路", "政立路"]),
                       ("zh", ["国权北路", "淞沪路", "殷行路", "政立路"])):
        sheet = next(sh for sh in report.report_tables(out, lang) if sh.key == "gaps").frame
        by_rank = sheet.set_index(["category", "rank"]).loc[
            [(report.label(c, lang), r) for c, r in zip(gaps["category"], gaps["rank"])]]
        assert by_rank["label"].tolist() == want  # one location column, in the report's language
        assert "label_en" not in sheet.columns
        assert [v if isinstance(v, str) else None for v in by_rank["subdistrict"]] == ["甲街道", None, "乙街道", "甲街道"]
