"""The real app in headless Chromium: language switching never raises, the map appears on a cold server.

Each server is a fresh ``lifecircle app`` process (the caches are filled
before the port opens) on a free local port, stopped afterwards. Debian's
Chromium only; nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from test_e2e import (  # noqa: E402  (same browser flags; tests/ is put on the path just above)
    _TWO_FRAMES_JS,
    ARGS,
    CHROMIUM,
    _free_port,
    _wait_for_map,
    rerun_done,
)

pytestmark = pytest.mark.e2e
EXCEPTION = "[data-testid='stException']"


@pytest.fixture(scope="module")
def data_dir(prepared_data_dir):
    if not Path(CHROMIUM).exists():
        msg = f"needs Debian's Chromium at {CHROMIUM} (scripts/setup --test installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return prepared_data_dir


class Server:
    """``lifecircle app`` in a fresh process on a free port; :meth:`stop` ends exactly that process."""

    def __init__(self, data: Path, log: Path):
        self.port = _free_port()
        self.log = log
        env = dict(os.environ, LIFECIRCLE_DATA_DIR=str(data), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
                   LIFECIRCLE_WORKSPACE_DIR=str(log.parent / "workspaces"))  # its own: joins no other session
        self.proc = subprocess.Popen(
            [str(REPO / ".venv/bin/lifecircle"), "app", "--", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1"],
            cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 240  # the caches are filled before the port opens
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                assert self.proc.poll() is None, log.read_text()
                time.sleep(0.1)
        else:
            self.stop()
            raise AssertionError(f"the server did not open its port: {log.read_text()[-2000:]}")
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _map_drawn(page, timeout_s: float) -> int:
    """Wait until the map has all its layers loaded and drawn (two animation frames later); vector layer count."""
    frame, n = _wait_for_map(page, "", timeout_s)
    frame.evaluate(_TWO_FRAMES_JS)  # the canvas draws on the next animation frame
    return n


# --------------------------------------------------------------------------- language
TITLES = {"zh": "15分钟社区生活圈", "en": "15-minute community life circle"}
SWITCH = {"zh": "中文", "en": "English"}


def _switch(page, lang: str) -> None:
    page.locator("[data-testid='stSidebar'] label").filter(has_text=re.compile(f"^{SWITCH[lang]}$")).first.click()
    page.locator("h1").filter(has_text=TITLES[lang]).first.wait_for(timeout=60_000)
    rerun_done(page, 60, settle_ms=0)  # the title is new: this run has started


def test_language_switch_never_raises(data_dir, tmp_path):
    """English ↔ 中文 four times in three fresh sessions (one keeps the defaults, one picks the elderly
    walker in English, one a category in English): no exception on the page, no traceback in the log."""
    from playwright.sync_api import sync_playwright

    server = Server(data_dir, tmp_path / "server.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for session in range(3):
                ctx = browser.new_context(viewport={"width": 1500, "height": 1150})
                page = ctx.new_page()
                page.goto(server.url, wait_until="domcontentloaded")
                page.locator("h1").filter(has_text=TITLES["zh"]).first.wait_for(timeout=120_000)
                for _ in range(4):
                    _switch(page, "en")
                    if session == 1:  # the walker chosen by its English label, then back to Chinese
                        page.locator("[data-testid='stSidebar'] label").filter(has_text="Elderly walker").click()
                    elif session == 2:
                        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
                        page.get_by_role("option", name="Parks and green space", exact=True).click()
                    rerun_done(page, 60)
                    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
                    _switch(page, "zh")
                    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
                # the choice survived the switches, shown in Chinese
                sidebar = page.locator("[data-testid='stSidebar']")
                checked = sidebar.locator("label:has(input:checked)").all_inner_texts()
                assert ("老年人步行" if session == 1 else "一般步行") in checked, checked
                if session == 2:
                    page.get_by_text("公园绿地服务缺口").first.wait_for(timeout=30_000)  # the gap list's title
                ctx.close()
            browser.close()
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and "KeyError" not in log, log[-3000:]


# --------------------------------------------------------------------------- the map on a cold server
COLD_STARTS = 10
MAP_TARGET_S = 5.0  # issue 7's target, from navigation: a speed target, so bench/app_start.py reports it
MAP_RELIABLE_S = 15.0  # asserted: never blank (Streamlit itself warns "trouble loading" after 15 s)


class ColdStart(NamedTuple):
    """One fresh server and one fresh browser context: seconds until each stage (navigation = 0)."""

    port_open_s: float  # from starting the process (the caches are filled before the port opens)
    title_s: float  # Streamlit's own page: the app's first heading
    map_s: float  # the Leaflet canvas has drawn every layer
    layers: int
    log: str


def cold_starts(data: Path, n: int, log_dir: Path) -> list[ColdStart]:
    """``n`` cold starts of ``lifecircle app`` on ``data``, one at a time, each server stopped before the next."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for i in range(n):
            t_start = time.perf_counter()
            server = Server(data, log_dir / f"server{i}.log")
            port_open = time.perf_counter() - t_start
            try:
                ctx = browser.new_context(viewport={"width": 1500, "height": 1150})
                page = ctx.new_page()
                t0 = time.perf_counter()
                page.goto(server.url, wait_until="commit")
                page.locator("h1").first.wait_for(timeout=120_000)  # Streamlit has run the script's first lines
                title = time.perf_counter() - t0
                layers = _map_drawn(page, 120)
                drawn = time.perf_counter() - t0
                assert page.locator(EXCEPTION).count() == 0
                ctx.close()
            finally:
                server.stop()
            out.append(ColdStart(port_open, title, drawn, layers, (log_dir / f"server{i}.log").read_text()))
        browser.close()
    return out


def describe(starts: list[ColdStart]) -> str:
    """The times of :func:`cold_starts` as two lines, against :data:`MAP_TARGET_S`."""
    maps = [s.map_s for s in starts]
    after_title = sorted(s.map_s - s.title_s for s in starts)[len(starts) // 2]
    return (f"cold servers: port open after {', '.join(f'{s.port_open_s:.1f}' for s in starts)} s; page title "
            f"{', '.join(f'{s.title_s:.2f}' for s in starts)} s; map drawn {', '.join(f'{m:.2f}' for m in maps)} s "
            f"after navigation (max {max(maps):.2f} s)\n"
            f"map drawn within {MAP_TARGET_S:g} s of navigation: {sum(m < MAP_TARGET_S for m in maps)} of "
            f"{len(maps)}; after Streamlit's own title: median {after_title:.2f} s")


def test_map_drawn_on_ten_cold_servers(data_dir, tmp_path, capsys):
    """Ten fresh server processes, one fresh browser context each: the map is drawn every time, never blank.

    Times from page navigation until the Leaflet canvas has drawn every layer are printed (pytest -s) beside
    Streamlit's own page (its title) as the same-run baseline; the 5 s target is reported by
    ``bench/app_start.py``. With Streamlit's file watcher off (.streamlit/config.toml) the map came 2.5-3.2 s
    after navigation on a fresh clone (4.0-4.8 s with the watcher on, same runs).
    """
    starts = cold_starts(data_dir, COLD_STARTS, tmp_path)
    with capsys.disabled():  # in every test log (CI's too), not only with -s
        print("\n" + describe(starts))
    for i, s in enumerate(starts):
        assert s.layers > 8_000, (i, s.layers)
        assert "Traceback" not in s.log, s.log[-3000:]
    assert max(s.map_s for s in starts) < MAP_RELIABLE_S, describe(starts)
