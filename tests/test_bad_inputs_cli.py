"""Faults, ownership of folders and coordinates through the real CLI (issue 10, part B).

Every case: exit code 2, exactly one line on stderr, no traceback, nothing
partial left, earlier outputs intact. Tests run as root here, where file
permissions do not stop anyone: read-only cases drop to ``nobody`` in a
subprocess (or use chmod when not root).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString
from test_pipeline import UTM, X0, Y0, make_toy, toy_args

from geo import io as gio
from geo.cli import main
from geo.errors import InputError
from geo.outdir import MANIFEST

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- helpers
def tree(folder: Path) -> dict[str, str] | None:
    """Every file under ``folder`` (hidden ones too) with a hash of its bytes; None when missing."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def fails(argv: list[str], capsys, watch: Path, *, name: str | None = None, command: str | None = None) -> str:
    """Run the CLI in-process: exit 2, one stderr line (progress lines aside), no traceback, ``watch`` unchanged."""
    before = tree(watch)
    code = main(["--lang", "en", *argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("[")]
    assert code == 2, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"lifecircle {command or argv[0]}: error: "), lines[0]
    if name:
        assert name in lines[0], lines[0]
    assert tree(watch) == before, "files changed or left behind"
    return lines[0]


def ok(argv: list[str], capsys) -> None:
    code = main(["--lang", "en", *argv])
    err = capsys.readouterr().err
    assert code == 0, err


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture()
def toy(tmp_path):
    return make_toy(tmp_path / "in")


@pytest.fixture()
def coverage_out(tmp_path, toy, capsys) -> Path:
    out = tmp_path / "out"
    ok(toy_args(toy, out), capsys)
    return out


# --------------------------------------------------------------------------- 1. output paths
def test_output_under_a_file_in_every_command(tmp_path, toy, coverage_out, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    fails(toy_args(toy, blocker / "out"), capsys, tmp_path, name="afile")
    fails(["report", str(coverage_out), "-o", str(blocker / "r.xlsx")], capsys, tmp_path, name="afile")
    text = tmp_path / "plan.txt"
    text.write_text("新建社区食堂1处。", encoding="utf-8")
    fails(["extract", str(text), "-o", str(blocker / "f.csv")], capsys, tmp_path, name="afile")
    fails(["geocode", toy["facilities"], "--pois", toy["facilities"], "-o", str(blocker / "g.csv")], capsys, tmp_path,
          name="afile")
    fails(["prepare", "--area", "toy", "--from", str(Path(toy["network"]).parent), "--data-dir", str(blocker)],
          capsys, tmp_path, name="afile")
    fails(toy_args(toy, blocker), capsys, tmp_path, name="afile")  # -o names a file, not a folder


def test_report_onto_a_directory_leaves_no_tmp(tmp_path, coverage_out, capsys):
    target = tmp_path / "report.xlsx"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    line = fails(["report", str(coverage_out), "-o", str(target)], capsys, tmp_path, name="report.xlsx")
    assert "folder" in line
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


# --------------------------------------------------------------------------- 2. permissions
def _drop_root_overrides() -> None:  # pragma: no cover - runs in the child
    """As root, give up CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH for good (bounding set): permissions apply again."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _run_unprivileged(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The CLI in a subprocess where file permissions are enforced (root: without its override capabilities)."""
    return subprocess.run([sys.executable, "-m", "geo.cli", "--lang", "en", *argv], cwd=cwd, capture_output=True,
                          text=True,
                          timeout=300, check=False, preexec_fn=_drop_root_overrides if os.geteuid() == 0 else None)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Toy inputs, a coverage OUTDIR, a read-only folder holding an earlier file, an unreadable input."""
    root = tmp_path_factory.mktemp("perm")
    files = make_toy(root / "in")
    assert main(["--lang", "en", *toy_args(files, root / "out")]) == 0
    (root / "plan.txt").write_text("新建社区食堂1处。", encoding="utf-8")
    locked = root / "locked"
    locked.mkdir()
    (locked / "old.txt").write_text("earlier")
    secret = root / "secret.csv"
    shutil.copy(files["facilities"], secret)
    os.chmod(locked, 0o555)
    os.chmod(secret, 0o000)
    yield root, files
    os.chmod(locked, 0o755)
    os.chmod(secret, 0o644)


PERMISSION_CASES = {
    "coverage": lambda f, r: toy_args(f, r / "locked" / "out"),
    "report": lambda f, r: ["report", str(r / "out"), "-o", str(r / "locked" / "report.xlsx")],
    "extract": lambda f, r: ["extract", str(r / "plan.txt"), "-o", str(r / "locked" / "f.csv")],
    "geocode": lambda f, r: ["geocode", f["facilities"], "--pois", f["facilities"], "-o", str(r / "locked" / "g.csv")],
    "prepare": lambda f, r: ["prepare", "--area", "toy", "--from", str(Path(f["network"]).parent),
                             "--data-dir", str(r / "locked")],
    "unreadable": lambda f, r: ["coverage", "--network", f["network"], "--facilities", str(r / "secret.csv"),
                                "-o", str(r / "out2")],
}


@pytest.mark.parametrize("case", sorted(PERMISSION_CASES))
def test_read_only_folder_and_unreadable_file(world, case):
    root, files = world
    before = tree(root / "locked"), tree(root / "out")
    proc = _run_unprivileged(PERMISSION_CASES[case](files, root), root)
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("[")]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr
    assert ("secret.csv" if case == "unreadable" else "locked") in lines[0], lines[0]
    assert "permission" in lines[0], lines[0]
    assert (tree(root / "locked"), tree(root / "out")) == before
    assert not (root / "out2").exists()


def test_pipes_and_folders_as_inputs(tmp_path, toy, capsys):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)  # reading it would block for ever
    out = tmp_path / "out"
    fails(["coverage", "--network", toy["network"], "--facilities", str(fifo), "-o", str(out)], capsys, tmp_path,
          name="fifo.csv")
    fails(["coverage", "--network", str(fifo), "--facilities", toy["facilities"], "-o", str(out)], capsys, tmp_path,
          name="fifo.csv")
    folder = tmp_path / "notes"
    folder.mkdir()
    fails(["geocode", str(folder), "--pois", toy["facilities"], "-o", str(tmp_path / "g.csv")], capsys, tmp_path,
          name="notes")
    fails(["report", toy["facilities"], "-o", str(tmp_path / "r.xlsx")], capsys, tmp_path, name="facilities.csv")


# --------------------------------------------------------------------------- 3. coordinates
def _metres_without_crs(gdf: gpd.GeoDataFrame, path: Path) -> str:
    """GeoJSON in UTM metres with the crs member removed (GDAL then assumes lon/lat)."""
    data = json.loads(gdf.to_json())
    data.pop("crs", None)
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_projected_coordinates_without_crs_are_named(tmp_path, toy, capsys):
    out = tmp_path / "out"
    roads = _metres_without_crs(gpd.read_file(toy["network"]), tmp_path / "roads_m.geojson")
    line = fails(["coverage", "--network", roads, "--facilities", toy["facilities"], "-o", str(out)], capsys, tmp_path,
                 name="roads_m.geojson")
    assert "look projected" in line and "no CRS" in line and "EPSG:32651" in line
    bnd = _metres_without_crs(gpd.read_file(toy["boundaries"]).to_crs(UTM), tmp_path / "bnd_m.geojson")
    fails(toy_args({**toy, "boundaries": bnd}, out), capsys, tmp_path, name="bnd_m.geojson")
    bld = _metres_without_crs(gpd.read_file(toy["buildings"]), tmp_path / "bld_m.geojson")
    fails(toy_args({**toy, "buildings": bld}, out), capsys, tmp_path, name="bld_m.geojson")
    pts = gpd.GeoDataFrame({"name": ["园"], "category": ["park"]}, geometry=[shapely.Point(X0, Y0 + 10)], crs=UTM)
    fac = _metres_without_crs(pts, tmp_path / "fac_m.geojson")
    line = fails(toy_args({**toy, "facilities": fac}, out), capsys, tmp_path, name="fac_m.geojson")
    assert "look projected" in line
    # a GeoPackage without any CRS, in metres
    gpkg = tmp_path / "roads_nocrs.gpkg"
    gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 500, Y0)])]).to_file(gpkg)
    fails(["coverage", "--network", str(gpkg), "--facilities", toy["facilities"], "-o", str(out)], capsys, tmp_path,
          name="roads_nocrs.gpkg")
    # metres in lon/lat columns of a table
    table = tmp_path / "fac_m.csv"
    pd.DataFrame({"category": ["park"], "lon": [X0], "lat": [Y0]}).to_csv(table, index=False)
    line = fails(toy_args({**toy, "facilities": str(table)}, out), capsys, tmp_path, name="fac_m.csv")
    assert "projected metres" in line


def test_facility_file_without_any_facility_is_an_error(tmp_path, toy, capsys):
    out = tmp_path / "out"
    for body in ("category,lon,lat\npark,abc,xyz\nhealth,,\n", "category,lon,lat\npark,nan,nan\n"):
        bad = tmp_path / "nocoords.csv"
        bad.write_text(body, encoding="utf-8")
        line = fails(toy_args({**toy, "facilities": str(bad)}, out), capsys, tmp_path, name="nocoords.csv")
        assert "no usable facility" in line
    # the same file beside a good one: still refused (it contributes nothing, silently)
    fails([*toy_args(toy, out), "--facilities", str(bad)], capsys, tmp_path, name="nocoords.csv")


# --------------------------------------------------------------------------- 4. ownership
def test_coverage_rerun_keeps_reports_and_foreign_files_only_with_force(tmp_path, toy, coverage_out, capsys):
    out = coverage_out
    ok(["report", str(out), "-o", str(out / "report.xlsx")], capsys)
    assert json.loads((out / MANIFEST).read_text())["files"]["report.xlsx"] == "report"
    report = (out / "report.xlsx").read_bytes()
    ok(toy_args(toy, out, "--threshold", "park=300"), capsys)  # a re-run: recognised files only
    assert (out / "report.xlsx").read_bytes() == report
    assert json.loads((out / "params.json").read_text())["thresholds"]["park"] == 300
    # a file lifecircle did not write: refused without --force, kept (never deleted) with it
    (out / "notes.txt").write_text("planner's notes", encoding="utf-8")
    line = fails(toy_args(toy, out), capsys, out, name="notes.txt")
    assert "--force" in line
    args = ["coverage", "--network", toy["network"], "--facilities", toy["facilities"], "-o", str(out), "--force"]
    ok(args, capsys)  # no --buildings this time: coverage's own buildings.gpkg goes, the others stay
    assert (out / "notes.txt").read_text(encoding="utf-8") == "planner's notes"
    assert (out / "report.xlsx").read_bytes() == report
    assert not (out / "buildings.gpkg").exists()
    files = json.loads((out / MANIFEST).read_text())["files"]
    assert "notes.txt" not in files and files["report.xlsx"] == "report" and "buildings.gpkg" not in files
    # a foreign file named like one coverage writes is never overwritten, even with --force
    (out / "notes.txt").unlink()
    manifest = json.loads((out / MANIFEST).read_text())
    del manifest["files"]["green.csv"]
    (out / MANIFEST).write_text(json.dumps(manifest))
    line = fails([*args], capsys, out, name="green.csv")
    assert "overwrite" in line


def test_legacy_outdir_without_manifest(tmp_path, toy, coverage_out, capsys):
    """Folders of earlier versions: params.json's files and scripts/run's report.xlsx/pdf are recognised."""
    out = coverage_out
    (out / MANIFEST).unlink()
    (out / "report.pdf").write_bytes(b"%PDF-1.4 earlier report")
    ok(toy_args(toy, out), capsys)
    assert (out / "report.pdf").read_bytes() == b"%PDF-1.4 earlier report"
    # a report of another name into a folder of an earlier version: the manifest starts from params.json
    (out / MANIFEST).unlink()
    ok(["report", str(out), "-o", str(out / "summary.gpkg")], capsys)
    files = json.loads((out / MANIFEST).read_text())["files"]
    assert files["summary.gpkg"] == "report" and files["params.json"] == "coverage" and files["report.pdf"] == "report"
    ok(toy_args(toy, out), capsys)
    assert (out / "summary.gpkg").is_file() and (out / "report.pdf").is_file()


def test_never_writes_onto_its_own_inputs(tmp_path, toy, coverage_out, capsys):
    corr = tmp_path / "corrections.csv"
    corr.write_text("key,osm_id,name,category,status,lon,lat,note\n", encoding="utf-8")
    fails(["geocode", toy["facilities"], "--pois", toy["facilities"], "--corrections", str(corr), "-o", str(corr)],
          capsys, tmp_path, name="corrections.csv")
    fails(["geocode", toy["facilities"], "--pois", toy["facilities"], "-o", toy["facilities"]], capsys, tmp_path,
          name="facilities.csv")
    text = tmp_path / "plan.csv"
    text.write_text("新建社区食堂1处。", encoding="utf-8")
    fails(["extract", str(text), "-o", str(text)], capsys, tmp_path, name="plan.csv")
    fails(["report", str(coverage_out), "-o", str(coverage_out / "streets.gpkg")], capsys, tmp_path,
          name="streets.gpkg")
    # the previous run's facilities as input, the same folder as output: refused even with --force
    fails(["coverage", "--network", toy["network"], "--facilities", str(coverage_out / "facilities.gpkg"),
           "-o", str(coverage_out), "--force"], capsys, tmp_path, name="facilities.gpkg")


@pytest.fixture()
def toy_area(tmp_path, toy, capsys) -> Path:
    ok(["prepare", "--area", "toy", "--from", str(Path(toy["network"]).parent), "--data-dir", str(tmp_path / "data")],
       capsys)
    return tmp_path / "data" / "areas" / "toy"


def test_prepare_keeps_the_planners_files(tmp_path, toy, toy_area, capsys):
    """`prepare` replaces only what it wrote (the planner's files in the area folder are kept, linked, never copied)."""
    src = str(Path(toy["network"]).parent)
    argv = ["prepare", "--area", "toy", "--from", src, "--data-dir", str(tmp_path / "data")]
    (toy_area / "my_map.qgz").write_bytes(b"qgis project")
    inode = (toy_area / "my_map.qgz").stat().st_ino
    ok(argv, capsys)
    assert (toy_area / "my_map.qgz").read_bytes() == b"qgis project"
    assert (toy_area / "my_map.qgz").stat().st_ino == inode  # a hard link: no data copied
    assert json.loads((toy_area / "area.json").read_text(encoding="utf-8"))["kept_files"] == ["my_map.qgz"]
    assert json.loads((toy_area / MANIFEST).read_text())["files"]["area.json"] == "prepare"
    # a foreign folder named like one prepare writes is never replaced
    (toy_area / MANIFEST).unlink()
    (toy_area / "area.json").unlink()  # not an area folder any more: nothing in it is recognised
    fails(argv, capsys, toy_area, name="toy")
    # prepare reading from the folder it writes; coverage writing into the area it reads
    fails(["prepare", "--area", "toy", "--from", str(toy_area), "--data-dir", str(tmp_path / "data")], capsys, toy_area)


def test_coverage_never_writes_into_the_area_it_reads(tmp_path, toy_area, capsys):
    fails(["coverage", "--area", str(toy_area), "-o", str(toy_area)], capsys, toy_area)
    fails(["coverage", "--area", str(toy_area), "-o", str(toy_area / "out")], capsys, toy_area)


# --------------------------------------------------------------------------- 5. atomic_dir / atomic_file
def _write(folder: Path, **files: str) -> None:
    for k, v in files.items():
        (folder / k).write_text(v)


def test_atomic_dir_recovers_a_crash_between_the_renames(tmp_path, toy, coverage_out, capsys):
    out = coverage_out
    before = tree(out)
    pid = dead_pid()
    # killed after "out -> .out.old-PID" and before ".out.tmp-PID -> out": out is missing
    old = tmp_path / f".out.old-{pid}-abc"
    out.rename(old)
    (tmp_path / f".out.tmp-{pid}-def").mkdir()
    (tmp_path / f".out.tmp-{pid}-def" / "half.csv").write_text("partial")
    ok(["report", str(out), "-o", str(tmp_path / "r.xlsx")], capsys)  # the reader puts it back first
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "r.xlsx"]
    # the same crash, then a new coverage run: the earlier folder is restored, then replaced
    (tmp_path / "notes.txt").unlink(missing_ok=True)
    (out / "report.pdf").write_bytes(b"%PDF")  # scripts/run's report: kept
    out.rename(old)
    ok(toy_args(toy, out), capsys)
    assert (out / "report.pdf").read_bytes() == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "r.xlsx"]


KILLED_BETWEEN_RENAMES = """
import os, pathlib, signal, sys
from geo import io
rename = pathlib.Path.rename
def killed_after_first(self, target):
    out = rename(self, target)
    if ".old-" in str(target):
        os.kill(os.getpid(), signal.SIGKILL)  # between "out -> .old" and ".tmp -> out"
    return out
pathlib.Path.rename = killed_after_first
with io.atomic_dir(sys.argv[1]) as tmp:
    (tmp / "a").write_text("new")
"""


def test_atomic_dir_sigkill_between_the_renames(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    _write(out, a="old", planner="kept")
    proc = subprocess.run([sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(out)], check=False)
    assert proc.returncode == -9
    assert not out.exists() and len(list(tmp_path.iterdir())) == 2  # .res.old-PID-… and .res.tmp-PID-…
    gio.recover_dir(out)  # what every writer, and report, do first
    assert tree(out) == {"a": hashlib.sha1(b"old").hexdigest(), "planner": hashlib.sha1(b"kept").hexdigest()}
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_atomic_dir_leftovers_live_writers_and_permissions(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    _write(out, a="1")
    pid = dead_pid()
    for name in (f".res.tmp-{pid}-x", f".res.old-{pid}-y", ".res.old-999999999"):
        (tmp_path / name).mkdir()
    live = tmp_path / f".res.tmp-{os.getpid()}-live"  # a writer that is still running
    live.mkdir()
    with gio.atomic_dir(out) as tmp:
        _write(tmp, b="2")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["res", live.name])
    assert [p.name for p in out.iterdir()] == ["b"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask  # not mkdtemp's 0700


def test_atomic_dir_overlapping_writers_all_succeed(tmp_path):
    out = tmp_path / "res"
    n = 6
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            with gio.atomic_dir(out) as tmp:
                _write(tmp, who=str(i), **{f"f{j}": str(i) for j in range(5)})
                barrier.wait(timeout=30)  # every writer swaps at the same moment
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    who = (out / "who").read_text()
    assert {(out / f"f{j}").read_text() for j in range(5)} == {who}  # one complete set, not a mix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_atomic_dir_error_keeps_the_old_folder(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    _write(out, a="1")
    with pytest.raises(RuntimeError), gio.atomic_dir(out) as tmp:
        _write(tmp, a="2")
        raise RuntimeError("killed")
    assert (out / "a").read_text() == "1" and sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_atomic_file_leaves_nothing_behind(tmp_path):
    dst = tmp_path / "r.xlsx"
    pid = dead_pid()
    (tmp_path / f".r.tmp-{pid}-abc.xlsx").write_text("killed run")
    (tmp_path / f".r.tmp-{pid}-abc.xlsx-journal").write_text("killed run")
    with pytest.raises(ValueError), gio.atomic_file(dst) as tmp:
        tmp.write_text("half")
        (tmp.parent / (tmp.name + "-journal")).write_text("half")
        raise ValueError
    assert list(tmp_path.iterdir()) == []
    with gio.atomic_file(dst) as tmp:
        tmp.write_text("done")
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]
    (tmp_path / "d.xlsx").mkdir()
    with pytest.raises(InputError), gio.atomic_file(tmp_path / "d.xlsx"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.xlsx", "r.xlsx"]


# --------------------------------------------------------------------------- 6. temporary folders
def test_temporary_folders_are_removed(tmp_path, toy, monkeypatch):
    from geo import ui

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    pid = dead_pid()
    stale = [tmp_path / "tmp" / f"lifecircle-upload-{pid}-a", tmp_path / "tmp" / f"lifecircle-offline-{pid}-b"]
    live = tmp_path / "tmp" / f"lifecircle-upload-{os.getpid()}-c"
    other = tmp_path / "tmp" / "lifecircle-app-data-xyz"  # not ours to judge
    for d in [*stale, live, other]:
        d.mkdir()
    assert gio.clean_stale_temp() == 2
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == sorted([live.name, other.name])
    live.rmdir()

    class Upload:
        name = "roads.gpkg"

        def getvalue(self) -> bytes:
            return Path(toy["network"]).read_bytes()

    with gio.temp_dir("upload") as folder:  # what app.py does around every upload
        path = ui.save_upload(Upload(), ui.NETWORK_TYPES, folder=folder)
        monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(tmp_path / "data"))
        area = ui.prepare_from_file("toy_up", path, lambda *a: None)
    assert (area / "area.json").is_file()
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == ["lifecircle-app-data-xyz"]
    with pytest.raises(KeyError), gio.temp_dir("upload"):
        raise KeyError("failed while reading")
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == ["lifecircle-app-data-xyz"]


# --------------------------------------------------------------------------- 7. the last-resort handler
def test_unexpected_errors_are_one_line_with_a_log(tmp_path, monkeypatch, capsys):
    import geo.texts

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def boom(args):
        raise ZeroDivisionError("division by zero in a bug")

    monkeypatch.setattr(geo.texts, "cli_extract", boom)
    code = main(["--lang", "en", "extract", "x.txt", "-o", "x.csv"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("lifecircle extract: internal error (ZeroDivisionError")
    log = Path(err.rsplit("details written to ", 1)[1].strip())
    assert log.parent == tmp_path / "cache" / "lifecircle" / "errors"
    assert "Traceback" in log.read_text() and "boom" in log.read_text()

    def denied(args):
        raise PermissionError(13, "Permission denied", "/srv/planning/out.csv")

    monkeypatch.setattr(geo.texts, "cli_extract", denied)
    assert main(["--lang", "en", "extract", "x.txt", "-o", "x.csv"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("lifecircle extract: error: /srv/planning/out.csv: permission denied (a read-only or "
                           "protected location); choose another folder or check the permissions.")

    def full(args):  # a writer failing inside atomic_file's temporary name: the user's name is given
        raise OSError(28, "No space left on device", "/srv/planning/.report.tmp-4242-ab_c9xyz.xlsx")

    monkeypatch.setattr(geo.texts, "cli_extract", full)
    assert main(["--lang", "en", "extract", "x.txt", "-o", "x.csv"]) == 2
    assert capsys.readouterr().err.strip() == ("lifecircle extract: error: /srv/planning/report.xlsx: no space left on "
                                               "the disk; free some space and retry.")


def test_a_location_even_root_cannot_write(tmp_path, capsys):
    """/sys refuses new files whoever asks (no privileges to drop): the real fault, one line."""
    try:
        tempfile.mkstemp(dir="/sys")
    except OSError:
        pass
    else:  # pragma: no cover
        pytest.skip("/sys is writable here")
    text = tmp_path / "plan.txt"
    text.write_text("新建社区食堂1处。", encoding="utf-8")
    line = fails(["extract", str(text), "-o", "/sys/facilities.csv"], capsys, tmp_path)
    assert line.startswith("lifecircle extract: error: /sys: ")
