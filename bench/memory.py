#!/usr/bin/env python
"""Peak memory and time of the hostile-input cases of issue 10, each beside a small baseline.

Run from the repository root with the project venv::

    .venv/bin/python bench/memory.py            # all cases, about 1-2 minutes on 2 cores
    .venv/bin/python bench/memory.py --quick    # smaller inputs, a smoke test

Every case runs in a fresh subprocess, so its peak RSS (``resource.getrusage``,
``ru_maxrss``) is its own: imports + input + the measured call. The input is
built before the call; ``tracemalloc`` is not used because it slows the
extractor several-fold. Each large case is printed beside a baseline of the
same kind measured in the same run (same process layout, a small input), so the
ratio and the RSS above baseline say how the work grows, whatever the load of
the machine. Times are process CPU time and wall clock of the measured call.

Cases:
- ``dedupe``: :func:`geo.facilities.dedupe` on 100,000 facility rows (random
  points over 30 x 33 km, names repeating every 30,000 rows, three categories)
  vs 1,000 rows; and 3,000 identical rows.
- ``extract``: the ``lifecircle extract`` command (read, extract, write the
  CSV) on 1 MB (UTF-8) of text without sentence punctuation, dense with
  facility words, vs 10 kB of it.
- ``zip bomb``: :func:`geo.texts.read_text` on a 0.3 MB .docx whose
  document.xml unpacks to 660 MB (refused from the zip directory) vs a normal
  small .docx (read).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
kind, arg = sys.argv[2], sys.argv[3]
import numpy as np, geopandas as gpd, shapely
from geo import facilities as F, texts
from geo.errors import LifecircleError

if kind == "dedupe":
    n = int(arg)
    rng = np.random.default_rng(0)
    lon, lat = 121.3 + rng.random(n) * 0.3, 31.1 + rng.random(n) * 0.3
    names = [f"社区食堂{i % 30000}" for i in range(n)]
    g = gpd.GeoDataFrame({"facility_id": [f"official:{i}" for i in range(n)], "name": names,
                          "category": np.array(["canteen", "park", "health"], dtype=object)[np.arange(n) % 3],
                          "source": "official"}, geometry=shapely.points(lon, lat), crs=4326)
    call = lambda: f"{len(F.dedupe(g)):,} rows kept"
elif kind == "dedupe_same":
    n = int(arg)
    g = gpd.GeoDataFrame({"facility_id": [f"official:{i}" for i in range(n)], "name": ["长者食堂"] * n,
                          "category": "canteen", "source": "official"},
                         geometry=shapely.points(np.full(n, 121.5), np.full(n, 31.3)), crs=4326)
    call = lambda: f"{len(F.dedupe(g)):,} rows kept"
elif kind == "extract":  # the whole `lifecircle extract` command: read, extract, write the CSV
    import contextlib, io, os, tempfile
    from geo.cli import main
    phrase = "街道新建社区食堂和养老院并推进口袋公园建设"
    text = (phrase * (int(arg) // len(phrase.encode()) + 1)).encode()[: int(arg)].decode(errors="ignore")
    d = tempfile.mkdtemp(prefix="lifecircle-bench-")
    src, out = os.path.join(d, "big.txt"), os.path.join(d, "facilities.csv")
    open(src, "w", encoding="utf-8").write(text)
    texts.extract_mentions("新建社区食堂。")  # jieba and the gazetteer are loaded before the measurement
    def call():
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["--lang", "en", "extract", src, "-o", out])
        n = sum(1 for _ in open(out, encoding="utf-8-sig")) - 1
        return f"exit {code}, {n:,} rows written"
elif kind == "read_text":
    texts.extract_mentions("新建社区食堂。")
    def call():
        try:
            return f"read, {len(texts.read_text(arg)):,} characters"
        except LifecircleError as exc:
            return "refused: " + exc.message("en")[-90:]
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c0, w0 = time.process_time(), time.perf_counter()
what = call()
c1, w1 = time.process_time(), time.perf_counter()
print(json.dumps({"cpu": c1 - c0, "wall": w1 - w0, "rss_before_mb": r0 / 1024,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "what": what}))
'''


def run(kind: str, arg: str) -> dict:
    """One case in a fresh interpreter; returns its timings and peak RSS."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(REPO), kind, arg], capture_output=True, text=True,
                         cwd=REPO, timeout=1800, check=False)
    if out.returncode != 0:
        raise SystemExit(f"case {kind} {arg} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_docx(path: Path, pad_mb: int) -> Path:
    """A small .docx; with ``pad_mb`` its document.xml carries that many MB of spaces in a comment."""
    import zipfile

    import docx

    d = docx.Document()
    d.add_paragraph("殷行街道年内新建一家社区食堂。")
    d.save(path)
    if not pad_mb:
        return path
    with zipfile.ZipFile(path) as zf:
        items = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, body in items:
            if name != "word/document.xml":
                zf.writestr(name, body)
                continue
            head, tail = body.split(b"<w:body>", 1)
            with zf.open(name, "w", force_zip64=True) as f:
                f.write(head + b"<w:body><!--")
                chunk = b" " * (1 << 20)
                for _ in range(pad_mb):
                    f.write(chunk)
                f.write(b"-->" + tail)
    return path


def line(label: str, r: dict, base: dict | None = None) -> str:
    s = (f"  {label:<44} {r['cpu']:8.2f} s CPU {r['wall']:8.2f} s wall   peak RSS {r['peak_rss_mb']:7.0f} MB"
         f" (+{r['peak_rss_mb'] - r['rss_before_mb']:5.0f} MB in the call)")
    if base is not None:
        s += (f"   x baseline: time {r['cpu'] / max(base['cpu'], 1e-3):6.1f}x,"
              f" RSS +{r['peak_rss_mb'] - base['peak_rss_mb']:.0f} MB")
    return s + f"   [{r['what']}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller inputs (smoke test)")
    args = ap.parse_args()
    n_big, text_big, bomb_mb = (20_000, 200_000, 100) if args.quick else (100_000, 1_000_000, 660)
    t0 = time.perf_counter()
    print("lifecircle memory benchmark (issue 10): peak RSS and time of hostile inputs, beside baselines")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    results: dict[str, dict] = {}
    print("\n== facility de-duplication (geo.facilities.dedupe) ==")
    results["dedupe_base"] = base = run("dedupe", "1000")
    print(line("baseline: 1,000 rows", base))
    results["dedupe_big"] = big = run("dedupe", str(n_big))
    print(line(f"{n_big:,} rows", big, base))
    results["dedupe_same"] = same = run("dedupe_same", "3000")
    print(line("3,000 identical rows", same, base))

    print("\n== lifecircle extract on text without sentence punctuation ==")
    results["extract_base"] = base = run("extract", "10000")
    print(line("baseline: 10 kB", base))
    results["extract_big"] = big = run("extract", str(text_big))
    print(line(f"{text_big / 1e6:g} MB", big, base))

    print("\n== zip-bomb .docx (geo.texts.read_text) ==")
    with tempfile.TemporaryDirectory(prefix="lifecircle-bench-") as d:
        small = make_docx(Path(d) / "small.docx", 0)
        bomb = make_docx(Path(d) / "bomb.docx", bomb_mb)
        results["docx_base"] = base = run("read_text", str(small))
        print(line(f"baseline: normal .docx ({small.stat().st_size / 1e3:.0f} kB)", base))
        results["docx_bomb"] = big = run("read_text", str(bomb))
        print(line(f"bomb .docx ({bomb.stat().st_size / 1e6:.2f} MB -> {bomb_mb} MB)", big, base))

    print("\n== targets (issue 10) ==")
    checks = [
        (f"dedupe {n_big:,} rows < 5 s CPU and < 500 MB peak RSS",
         results["dedupe_big"]["cpu"] < 5 and results["dedupe_big"]["peak_rss_mb"] < 500),
        ("dedupe 3,000 identical rows < 1 s CPU", results["dedupe_same"]["cpu"] < 1),
        (f"extract {text_big / 1e6:g} MB < 10 s CPU and < 500 MB peak RSS",
         results["extract_big"]["cpu"] < 10 and results["extract_big"]["peak_rss_mb"] < 500),
        ("extract grows near-linearly (time ratio <= 2 x size ratio)",
         results["extract_big"]["cpu"] / max(results["extract_base"]["cpu"], 1e-3) <= 2 * text_big / 10_000),
        ("zip bomb refused, < 50 MB above the normal .docx",
         results["docx_bomb"]["what"].startswith("refused")
         and results["docx_bomb"]["peak_rss_mb"] - results["docx_base"]["peak_rss_mb"] < 50),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    print(f"\nbenchmark wall time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
