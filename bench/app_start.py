#!/usr/bin/env python
"""Cold starts of the app: seconds from navigation until the map has drawn every layer (issue 7: < 5 s).

Each start is a fresh ``lifecircle app`` process (its caches filled before the
port opens) and a fresh Chromium context with an empty browser cache, so every
script chunk, Leaflet and the map's geometry are fetched again: the worst case
a planner meets. The same-run baseline is Streamlit's own page, the time until
the app's first heading shows; the map's time is printed beside it and as the
time after it.

Needs the test extras (``scripts/setup --test``: playwright, and Debian's
Chromium, as the browser tests do) and the default area prepared
(``scripts/run`` or ``lifecircle prepare``) under ``data/`` (or
``LIFECIRCLE_DATA_DIR``). Run with ``.venv/bin/python bench/app_start.py [--starts N]``;
about 10 s per start.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

try:
    from test_e2e_app import MAP_TARGET_S, cold_starts, describe  # noqa: E402  (tests/ is put on the path above)
except ImportError as exc:  # the browser tests' extras are not installed
    raise SystemExit(f"bench/app_start.py needs the test extras ({exc.name} is missing): run scripts/setup --test") from None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=10, help="cold starts (default 10)")
    args = ap.parse_args()
    data = Path(os.environ.get("LIFECIRCLE_DATA_DIR") or REPO / "data")
    if not (data / "areas" / "xinjiangwan" / "area.json").is_file():
        print(f"the default area is not prepared under {data}: run scripts/run or "
              f".venv/bin/lifecircle prepare first", file=sys.stderr)
        return 2
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        starts = cold_starts(data, args.starts, Path(tmp))
    print(describe(starts))
    worst = max(s.map_s for s in starts)
    ok = all(s.map_s < MAP_TARGET_S for s in starts)
    title = sorted(s.title_s for s in starts)[len(starts) // 2]
    print(f"{'PASS' if ok else 'FAIL'}  map drawn < {MAP_TARGET_S:g} s after navigation on every cold start: "
          f"max {worst:.2f} s, {worst / title:.1f}x Streamlit's own page (median title {title:.2f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
