"""The real app in headless Chromium: ``streamlit run app.py`` + Playwright, network limited to localhost.

Checks what a planner sees: the Leaflet map renders inside the streamlit-folium
iframe with vector layers and NO request leaves the machine; changing the
category changes the subdistrict table; the XLSX export downloads and opens.
A screenshot is saved to ``tests/artifacts/app.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import skip_or_fail

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(prepared_data_dir, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"needs Debian's Chromium at {CHROMIUM} (scripts/setup --test installs it)")
    data = prepared_data_dir
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    # a workspace of this module's own: proposals, decisions and studies made here join no other module's session
    env = dict(os.environ, LIFECIRCLE_DATA_DIR=str(data), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
               LIFECIRCLE_WORKSPACE_DIR=str(tmp_path_factory.mktemp("workspaces")))
    proc = subprocess.Popen([str(REPO / ".venv/bin/streamlit"), "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _subdistrict_table_text(page) -> str:
    """Visible text of the current-category subdistrict table (glide grid a11y DOM)."""
    return page.evaluate(_TABLE_JS)


# st.dataframe draws on a canvas; its accessible <table> holds the cell text
_TABLE_JS = """() => [...document.querySelectorAll("[data-testid='stDataFrame'] table")]
  .map(t => t.textContent).find(t => t.includes('新江湾城街道') && !t.includes('排名')) || ''"""


# Vector layers (L.Path: polylines, polygons, circle markers) on the Leaflet map in the streamlit-folium
# iframe, whatever renderer (canvas or SVG) draws them; counted only once every layer's data has arrived
# (geo.webmap sets data-lc-loaded) and, if ``want`` is given, only on the map whose legend says it.
# -1: no Leaflet yet, -2: no such map (yet).
_VECTOR_JS = """(want) => {
  if (typeof L === 'undefined') return -1;
  const maps = new Set();  // the map is also window.map: count each map once
  for (const k of Object.keys(window)) { const m = window[k]; if (m instanceof L.Map) maps.add(m); }
  let n = -2;
  maps.forEach(m => {
    const c = m.getContainer();
    if (!c.isConnected || c.getAttribute('data-lc-loaded') !== '1') return;
    if (want && ![...c.querySelectorAll('.lifecircle-legend')].some(e => e.textContent.includes(want))) return;
    n = Math.max(n, 0);
    m.eachLayer(l => { if (l instanceof L.Path) n += 1; });
  });
  return n;
}"""
_TWO_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
# container points of a few features of one pane (lc_streets / lc_buildings), away from the legends
_FEATURE_POINTS_JS = """(pane) => {
  const out = [];
  const m = window.map;
  m.eachLayer(l => {
    if (out.length >= 12 || !l.feature || l.options.pane !== pane) return;
    const p = m.latLngToContainerPoint(l.getCenter()), s = m.getSize();
    if (p.x > 60 && p.y > 60 && p.x < s.x - 60 && p.y < s.y - 220) out.push([p.x, p.y]);
  });
  return out;
}"""
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
# the script run is over: Streamlit's own run state on the app's root (the status widget alone shows up late:
# waiting for it alone read pages before their run had started)
_RUN_DONE_JS = """() => { const a = document.querySelector("[data-testid='stApp']");
  return !!a && a.getAttribute('data-test-script-state') === 'notRunning'
         && !document.querySelector("[data-testid='stStatusWidget']"); }"""


def rerun_done(page, timeout_s: float = 180, settle_ms: int = 300) -> None:
    """Wait until the script run that the last click started has finished."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_function(_RUN_DONE_JS, timeout=timeout_s * 1000)


def _map_frame(page):
    """The (current) streamlit-folium iframe: it is replaced when the map changes."""
    handle = page.locator(MAP_IFRAME).first.element_handle()
    return handle.content_frame() if handle else None


def _wait_for_map(page, want: str, timeout_s: float) -> tuple[object, int]:
    """Poll until the map whose legend says ``want`` has all its layers; returns (frame, vector layer count)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            frame = _map_frame(page)
            n = frame.evaluate(f"({_VECTOR_JS})({want!r})") if frame else -1
        except Exception:  # the iframe was replaced between the two calls
            n = -1
        if n > 0:
            return frame, n
        time.sleep(0.02)
    raise AssertionError(f"no map with legend {want!r} and loaded vector layers within {timeout_s} s")


def _tooltips(page, frame, pane: str) -> list[str]:
    """Hover a few features of ``pane`` and collect the tooltip texts shown."""
    box = page.locator(MAP_IFRAME).first.bounding_box()
    texts = []
    for x, y in frame.evaluate(f"({_FEATURE_POINTS_JS})({pane!r})")[:6]:
        page.mouse.move(box["x"] + x, box["y"] + y)
        try:
            frame.locator(".leaflet-tooltip").first.wait_for(timeout=2_000)
            texts.append(frame.locator(".leaflet-tooltip").first.inner_text())
        except Exception:
            pass
    page.mouse.move(1, 1)
    return texts


def test_app_in_browser_offline(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, log = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1500, "height": 1150}, locale="zh-CN", accept_downloads=True)

        def guard(route):
            u = urlparse(route.request.url)
            if u.scheme in ("data", "blob", "about") or u.hostname in LOCAL_HOSTS:
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        ctx.route("**/*", guard)
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        frame = page.frame_locator(MAP_IFRAME).first
        frame.locator(".leaflet-container").wait_for(timeout=180_000)
        map_frame, n_paths = _wait_for_map(page, "养老服务", 120)
        first_map_s = time.perf_counter() - t0
        # 7,902 streets + 885 buildings + gaps, boundaries, facilities, water and parks as vector layers
        assert n_paths > 8_000, n_paths
        assert frame.locator(".leaflet-overlay-pane canvas").count() == 1  # one canvas, not 9,000 SVG nodes
        assert frame.locator("path.leaflet-interactive").count() == 0
        assert "OpenStreetMap contributors" in frame.locator(".leaflet-control-attribution").inner_text()
        legend = frame.locator(".lifecircle-legend", has_text="步行距离").first.inner_text()
        assert "养老服务" in legend and "min" in legend and "m" in legend
        # tooltips still work on the canvas: streets and buildings tell their walking distance
        for pane in ("lc_streets", "lc_buildings"):
            texts = _tooltips(page, map_frame, pane)
            assert any("步行距离(米)" in x for x in texts), (pane, texts)
        page.wait_for_function(f"({_TABLE_JS})() !== ''", timeout=60_000)
        before = _subdistrict_table_text(page)
        page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)

        # the planner zooms in; changing the category recolours the same map (legend, layers loaded and
        # drawn), keeps the view, and changes the table
        map_frame.evaluate("() => window.map.setView(window.map.getCenter(), window.map.getZoom() + 1, "
                           "{animate: false})")
        view = map_frame.evaluate("() => [window.map.getZoom(), window.map.getCenter().lat]")
        times = []
        for name in ("公园绿地", "医疗卫生", "公园绿地"):  # first visit twice, then a revisit
            page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
            option = page.get_by_role("option", name=name, exact=True)
            option.wait_for()
            t1 = time.perf_counter()  # from choosing the category (the dropdown is open)
            option.click()
            map_frame, n = _wait_for_map(page, f"至最近{name}", 60)
            map_frame.evaluate(_TWO_FRAMES_JS)  # the canvas draws on the next animation frame
            times.append(time.perf_counter() - t1)
            assert n > 8_000, n
            legends = map_frame.locator(".lifecircle-legend").all_inner_texts()
            assert len(legends) == 2 and sum(f"至最近{name}" in x for x in legends) == 1, legends  # old one gone
        category_s = sorted(times)[len(times) // 2]
        assert map_frame.evaluate("() => [window.map.getZoom(), window.map.getCenter().lat]") == view
        texts = _tooltips(page, map_frame, "lc_buildings")  # the tooltips follow the new category
        assert any("步行距离(米)" in x for x in texts), texts
        page.wait_for_function(f"t => {{ const x = ({_TABLE_JS})(); return x !== '' && x !== t; }}",
                               arg=before, timeout=60_000)
        after = _subdistrict_table_text(page)
        assert after and after != before

        # export: XLSX downloads and opens
        page.get_by_text("导出", exact=True).click()
        button = page.get_by_role("button", name="下载 Excel（XLSX）")
        button.wait_for(timeout=60_000)
        with page.expect_download(timeout=180_000) as dl:
            button.click()
        path = tmp_path / "report.xlsx"
        dl.value.save_as(path)
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        assert len(wb.sheetnames) >= 3
        header = [c.value for c in next(wb[wb.sheetnames[0]].iter_rows(max_row=1))]
        assert "街道" in header
        browser.close()
    print(f"\nbrowser timings: first map {first_map_s:.1f} s (cold: server start, compute); from choosing a "
          f"category until the recoloured map is loaded and drawn: median {category_s:.2f} s "
          f"({', '.join(f'{x:.2f}' for x in times)} s); {n_paths} vector layers")
    assert outside == [], f"requests left localhost: {outside[:5]}"
