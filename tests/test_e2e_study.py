"""What is shown is what is exported, in the real app in headless Chromium.

The planner adds an official list, sets the thresholds of three categories in the sidebar table, switches
category and walker, and downloads the XLSX and the PDF: both state the thresholds that were set, the
scenario and every source.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from test_e2e import ARGS, ARTIFACTS, CHROMIUM, MAP_IFRAME, _wait_for_map, rerun_done, server  # noqa: F401  (server is a fixture)

pytestmark = pytest.mark.e2e

OFFICIAL = "名称,类别,状态,经度,纬度\n测试社区书房,culture,existing,121.5066,31.3357\n"


def _edit_threshold(page, row: int, value: str) -> None:
    """Type ``value`` into the threshold column of ``row`` of the sidebar's threshold table (glide data grid)."""
    grid = page.locator("[data-testid='stSidebar'] [data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + 35 + 17)  # row 0, first column (the header is one row)
    page.keyboard.press("ArrowRight")  # the value column
    for _ in range(row):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # open the cell editor (typing straight into the grid loses keystrokes)
    page.wait_for_timeout(200)
    page.keyboard.press("Control+A")
    page.keyboard.type(value, delay=60)
    page.keyboard.press("Enter")


_GRID_TEXT = """() => [...document.querySelectorAll("[data-testid='stSidebar'] [data-testid='stDataFrame'] table")]
  .map(t => t.textContent).join('|')"""



def test_exports_show_what_was_set(server, tmp_path):  # noqa: F811
    from openpyxl import load_workbook
    from playwright.sync_api import sync_playwright

    url, log = server
    official = tmp_path / "街道官方名录.csv"
    official.write_text(OFFICIAL, encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1500, "height": 1150}, locale="zh-CN", accept_downloads=True)
        ctx.route("**/*", lambda route: route.continue_() if re.match(r"^(https?://(127\.0\.0\.1|localhost)|data:|blob:|about:)",
                                                                      route.request.url) else route.abort())
        page = ctx.new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.frame_locator(MAP_IFRAME).first.locator(".leaflet-container").wait_for(timeout=180_000)
        _wait_for_map(page, "养老服务", 120)

        # an official list of the planner's own
        page.get_by_text("我的资料", exact=False).first.click()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(official))
        page.get_by_role("button", name=re.compile("加入")).first.click()
        page.get_by_text("已从 街道官方名录.csv 加入 1 个设施", exact=False).wait_for(timeout=120_000)

        # three thresholds in the sidebar table
        page.get_by_text("各类设施步行阈值（米或分钟）").click()
        page.locator("[data-testid='stSidebar'] [data-testid='stDataFrame']").first.wait_for()
        page.wait_for_timeout(800)  # the expander's opening animation
        for row, value in ((0, "450"), (2, "300"), (5, "800")):  # 养老服务, 公园绿地, 医疗卫生
            _edit_threshold(page, row, value)
            rerun_done(page)
        shown = page.evaluate(_GRID_TEXT)
        assert "养老服务450" in shown and "公园绿地300" in shown and "医疗卫生800" in shown, shown
        # another category and another walker
        page.get_by_text("步行覆盖地图", exact=True).first.click()
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
        page.get_by_role("option", name="公园绿地", exact=True).click()
        rerun_done(page)
        page.locator("[data-testid='stSidebar']").get_by_text("老年人步行", exact=True).click()
        rerun_done(page)
        try:
            page.get_by_text("（300 米 / 5.0 分钟）", exact=False).first.wait_for(timeout=60_000)
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "study.png"), full_page=True)

        page.get_by_text("导出", exact=True).click()
        docs = {}
        for kind, name in (("xlsx", "下载 Excel（XLSX）"), ("pdf", "下载 PDF 报告")):
            button = page.get_by_role("button", name=name)
            button.wait_for(timeout=60_000)
            with page.expect_download(timeout=180_000) as dl:
                button.click()
            docs[kind] = tmp_path / f"report.{kind}"
            dl.value.save_as(docs[kind])
        browser.close()

    wb = load_workbook(docs["xlsx"])
    sheet = next(ws for ws in wb.worksheets if ws.title in ("参数与来源", "Parameters and sources"))
    xlsx_text = re.sub(r"\s+", "", " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None))
    pdf_text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(docs["pdf"]), "-"], capture_output=True, text=True,
                                                 check=True).stdout)
    for doc in (xlsx_text, pdf_text):
        assert "450米" in doc and "300米" in doc and "800米" in doc  # the thresholds that were set
        assert "规划后" in doc  # the scenario
        assert "街道官方名录.csv" in doc and "研究区设施" in doc  # every source
        assert "老年人步行" in doc and "60" in doc  # the walker
    assert "医疗卫生1000米" not in xlsx_text
    assert "Traceback" not in log.read_text()
