"""File I/O at the edges: reading vector layers with clear errors, atomic outputs, temporary folders.

Writers never leave anything partial or half-named behind: :func:`atomic_dir`
and :func:`atomic_file` name their temporary entries after the writing
process (``.<name>.tmp-<pid>-…``), so the next run recovers or removes what a
killed run left; :func:`temp_dir` does the same for the app's uploads and
offline networks under the system temporary folder.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, overload

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import InputError, os_error
from .limits import check_zip

__all__ = ["WGS84", "METRIC_CRS", "require_file", "read_vector", "check_lonlat_range", "as_wgs84", "align_crs", "gpkg_safe",
           "FORMULA_PREFIXES", "defuse_formulas", "restore_formulas", "to_csv_bom", "atomic_dir", "atomic_file",
           "check_writable", "recover_dir", "temp_dir", "make_temp_dir", "clean_stale_temp", "link_tree", "locked_dir"]

#: CRS of every layer on disk and of every layer the API hands out
WGS84 = "EPSG:4326"
#: metric CRS computations use in Shanghai (UTM 51N); elsewhere ``estimate_utm_crs()``
METRIC_CRS = "EPSG:32651"

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".zip"}
STALE_AFTER_S = 3600.0  # leftovers without a process id (older versions) are removed after an hour


def require_file(path: str | Path) -> Path:
    """Return ``path`` as a Path, or raise InputError if it is missing, empty, unreadable or not a file/folder.

    Pipes, sockets and devices are refused (reading them would block or never end).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("文件不存在，请检查路径。", "file not found; check the path.", p)
    if not (p.is_file() or p.is_dir()):
        raise InputError("不是普通文件（可能是管道或设备）。请给出文件或文件夹。",
                         "not a regular file (a pipe or device?); give a file or a folder.", p)
    if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
        raise InputError("没有读取权限。请检查文件权限。", "no permission to read it; check its permissions.", p)
    if p.is_file() and p.stat().st_size == 0:
        raise InputError("文件为空。", "the file is empty.", p)
    return p


def check_lonlat_range(gdf: gpd.GeoDataFrame, path: str | Path | None = None) -> None:
    """Raise InputError when a layer without a CRS, or in lon/lat, holds coordinates beyond ±180/±90.

    Such a layer is in a projected CRS (metres) whose definition was lost, e.g.
    a GeoJSON written in UTM without a ``crs`` member (GDAL then assumes WGS-84).
    """
    if len(gdf) == 0 or (gdf.crs is not None and not gdf.crs.is_geographic):
        return
    with np.errstate(invalid="ignore"):
        minx, miny, maxx, maxy = gdf.total_bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return
    if max(abs(minx), abs(maxx)) > 180.0 or max(abs(miny), abs(maxy)) > 90.0:
        eg = f"{minx:.0f}, {miny:.0f}"
        raise InputError(f"坐标看起来是投影坐标（米，例如 {eg}），但文件没有坐标参考系（CRS）。请在 QGIS 中为其指定正确的坐标系"
                         "（上海一般为 EPSG:32651，UTM 51N）后重试。",
                         f"coordinates look projected (metres, e.g. {eg}) but the file has no CRS; assign the right one "
                         "(e.g. EPSG:32651, the UTM zone for Shanghai) in QGIS and retry.", path)


def read_vector(path: str | Path, *, layer: str | None = None, require_crs: bool = True) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoJSON, GeoPackage, Shapefile, GeoParquet) with pyogrio.

    Raises
    ------
    InputError
        Missing, unreadable or CRS-less files, and projected coordinates
        without a CRS, with a one-line message.
    """
    p = require_file(path)
    if p.suffix.lower() == ".zip":
        check_zip(p)
    try:
        if p.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(p)
        else:
            gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError, OSError, ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"无法读取该矢量文件（{first}）。请确认是 GeoJSON、GeoPackage 或 Shapefile。",
                         f"cannot read this vector file ({first}); expected GeoJSON, GeoPackage or Shapefile.",
                         p) from None
    check_lonlat_range(gdf, p)
    if require_crs and gdf.crs is None and len(gdf):
        raise InputError("文件没有坐标参考系（CRS）。请在 QGIS 中为其指定坐标系（如 EPSG:4326）后重试。",
                         "the file has no coordinate reference system (CRS); assign one (e.g. EPSG:4326) in QGIS and retry.",
                         p)
    return gdf


def as_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 (itself when it already is, or has no CRS)."""
    return gdf.to_crs(WGS84) if gdf.crs is not None and not gdf.crs.equals(WGS84) else gdf


def align_crs(gdf: gpd.GeoDataFrame, crs, what: str) -> gpd.GeoDataFrame:
    """``gdf`` in ``crs`` (itself when already there), for computing with a layer in another CRS.

    Parameters
    ----------
    gdf : GeoDataFrame
    crs : CRS or str
        Target CRS, e.g. a ``WalkNetwork.crs``.
    what : str
        Chinese name of the layer ("建筑", "公园" ...), used in the error message.

    Raises
    ------
    InputError
        ``gdf`` has no CRS.
    """
    if gdf.crs is None:
        raise InputError(f"{what}没有坐标参考系（CRS），无法与路网对齐。请先指定坐标系（如 EPSG:4326）。",
                         f"the {what} layer has no CRS, so it cannot be aligned with the network; assign one (e.g. EPSG:4326).")
    same = gdf.crs is crs or (bool(gdf.crs.srs) and gdf.crs.srs == getattr(crs, "srs", None)) or gdf.crs == crs
    return gdf if same else gdf.to_crs(crs)  # identity/text first: pyproj's == costs ~10 ms


def gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GeoPackage can store: object/str columns as plain str ('' for missing), bools kept.

    A copy; pass it to ``GeoDataFrame.to_file`` (GeoPackage or GeoJSON).
    """
    out = gdf.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        s = out[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[c] = s.astype(object).where(s.notna(), None)
    return out


# A cell starting with one of these is a formula to Excel/LibreOffice (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _defuse(v: object) -> object:
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell (and header) that a spreadsheet would run as a formula prefixed by ``'``.

    Follows the OWASP CSV-injection guidance: cells starting with ``= + - @``,
    tab or carriage return get a leading apostrophe. Numeric columns are left
    alone (``-3.5`` stays a number); ``df`` itself is not modified. Text columns
    keep their dtype (no copy to Python objects unless a cell needs the prefix).
    """
    return _map_text(df, _defuse, vectorized=_defuse_text)


def _defuse_text(s: pd.Series) -> pd.Series:
    hit = s.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
    if not hit.any():
        return s
    s = s.copy()
    s[hit] = "'" + s[hit]
    return s


def _map_text(df: pd.DataFrame, func, vectorized=None) -> pd.DataFrame:
    out = df.copy(deep=False)
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object:  # may mix text and other values
            out[col] = s.map(func)
        elif pd.api.types.is_string_dtype(s.dtype):
            out[col] = vectorized(s) if vectorized is not None else s.map(func)
    out.columns = [func(c) for c in out.columns]
    return out


def _restore(v: object) -> object:
    return v[1:] if isinstance(v, str) and v.startswith("'") and v[1:].startswith(FORMULA_PREFIXES) else v


def restore_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`defuse_formulas` on a table read back from CSV (``'=x`` → ``=x``), as Excel does."""
    return _map_text(df, _restore)


@overload
def to_csv_bom(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path: ...
@overload
def to_csv_bom(df: pd.DataFrame, path: IO[bytes]) -> IO[bytes]: ...
def to_csv_bom(df: pd.DataFrame, path: str | os.PathLike[str] | IO[bytes]) -> Path | IO[bytes]:
    """Write CSV in UTF-8 with BOM so that Excel opens Chinese text correctly.

    The one CSV writer of the tool (CLI and app): text cells that a spreadsheet
    would run as formulas are defused first (:func:`defuse_formulas`); rows end
    in CRLF (RFC 4180).
    ``path`` may be a binary file object (the app's downloads).
    """
    # CRLF (RFC 4180) also makes the csv module quote cells holding a bare CR, which would split a row
    defuse_formulas(df).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return Path(path) if isinstance(path, (str, os.PathLike)) else path


# --------------------------------------------------------------------------- leftovers of killed runs
def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return False
    return True


def _is_stale(p: Path, pid: str | None) -> bool:
    """A leftover whose writer is gone: its process id is dead, or (no id) it is older than an hour."""
    if pid:
        return not _pid_alive(int(pid))
    try:
        return time.time() - p.lstat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            p.unlink()


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def locked_dir(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (flock on the directory itself: no lock file is left)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _dir_leftovers(out: Path) -> list[tuple[Path, str, str | None]]:
    """``(path, kind, pid)`` of ``.<name>.tmp-…`` / ``.<name>.old-…`` entries beside ``out``."""
    pat = re.compile(rf"^\.{re.escape(out.name)}\.(tmp|old)-(?:(\d+)-)?")
    found = []
    with contextlib.suppress(OSError):
        for p in out.parent.iterdir():
            m = pat.match(p.name)
            if m:
                pid = m.group(2)
                if pid is None and m.group(1) == "old":  # older versions named it .<name>.old-<pid>
                    tail = p.name[m.end():]
                    pid = tail if tail.isdigit() else None
                found.append((p, m.group(1), pid))
    return found


def recover_dir(outdir: str | Path) -> None:
    """Repair what a killed :func:`atomic_dir` left beside ``outdir``.

    ``outdir`` missing and a ``.old`` copy present (killed between the two
    renames) → the newest copy is put back; ``.tmp``/``.old`` entries of dead
    processes are removed. Entries of live writers are left alone. Writers
    call it on start, readers (``lifecircle report``) before reading.
    """
    out = Path(outdir)
    if out.parent.is_dir() and _dir_leftovers(out):
        with locked_dir(out.parent):
            _recover(out)


def _recover(out: Path) -> None:
    """:func:`recover_dir` with the parent already locked."""
    left = [(p, kind, pid) for p, kind, pid in _dir_leftovers(out) if _is_stale(p, pid) or
            (kind == "old" and not out.exists() and not (pid and _pid_alive(int(pid))))]
    olds = sorted((p for p, kind, _ in left if kind == "old" and p.is_dir()), key=lambda p: p.stat().st_mtime)
    if not out.exists() and not out.is_symlink() and olds:
        olds[-1].rename(out)
    for p, _, _ in left:
        if p.exists() or p.is_symlink():
            _remove(p)


def link_tree(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` as hard links (copies where links are impossible): no data moves."""
    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=link)
    else:
        link(str(src), str(dst))


def _make_parent(path: Path) -> None:
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise InputError("输出路径的上级是一个文件，而不是文件夹。", "a parent of the output path is a file, not a folder.",
                         parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (NotADirectoryError, FileExistsError):
        raise InputError("输出路径的上级中有一个文件，而不是文件夹。",
                         "a parent of the output path is a file, not a folder.", path) from None
    except OSError as exc:
        raise os_error(exc) from None


def check_writable(path: str | Path, *, folder: bool = False) -> Path:
    """Before slow work, check that ``path`` (a file, or with ``folder`` a folder) can be written; create nothing.

    Raises
    ------
    InputError
        The path is a folder where a file is meant (or a file where a folder
        is), a parent is a file, or the folder it goes into is read-only or
        not ours to write.
    """
    p = Path(path)
    if folder and p.exists() and not p.is_dir():
        raise InputError("输出路径是一个文件，请指定文件夹。", "the output path is a file; give a folder.", p)
    if not folder and p.is_dir():
        raise InputError("输出路径是一个文件夹，请给出文件名。", "the output path is a folder; give a file name.", p)
    anc = p.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise InputError("输出路径的上级是一个文件，而不是文件夹。", "a parent of the output path is a file, not a folder.",
                         anc)
    if not os.access(anc, os.W_OK | os.X_OK):
        raise os_error(OSError(errno.EROFS if _read_only(anc) else errno.EACCES, "", str(anc)))
    return p


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


@contextlib.contextmanager
def atomic_dir(outdir: str | os.PathLike[str], *, finalize: Callable[[Path | None, Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``outdir`` only if the block succeeds.

    Nothing partial is ever left in ``outdir``: on error the temporary folder
    is removed and ``outdir`` keeps what it had. ``outdir`` is never missing:
    a run killed between the two renames is repaired by the next one
    (:func:`recover_dir`); overlapping runs take turns for the swap (a lock on
    the parent folder), the last one wins. The folder gets the umask's normal
    permissions, not ``mkdtemp``'s 0700.

    Parameters
    ----------
    finalize : callable, optional
        ``finalize(old, tmp)`` runs under the lock just before the swap, with
        the current ``outdir`` (or None) and the new folder, e.g. to carry over
        files the writer does not own (see :mod:`geo.outdir`).
    """
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise InputError("输出路径是一个文件，请指定文件夹。", "the output path is a file; give a folder.", out)
    _make_parent(out)
    recover_dir(out)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    except OSError as exc:
        raise os_error(exc, out.parent) from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        with locked_dir(out.parent):
            _recover(out)
            if finalize is not None:
                finalize(out if out.is_dir() else None, tmp)
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=out.parent))
                old.rmdir()
                out.rename(old)
                try:
                    tmp.rename(out)
                except BaseException:
                    old.rename(out)
                    raise
                _remove(old)
            else:
                tmp.rename(out)
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path (same suffix) that is renamed to ``path`` on success.

    On error nothing is left: not the temporary file, nor files its writer made
    beside it (``-journal``); leftovers of killed runs are removed on the next write.
    """
    dst = Path(path)
    if dst.is_dir():
        raise InputError("输出路径是一个文件夹，请给出文件名。", "the output path is a folder; give a file name.", dst)
    _make_parent(dst)
    prefix = f".{dst.stem}.tmp-"
    pat = re.compile(rf"^{re.escape(prefix)}(?:(\d+)-)?.*{re.escape(dst.suffix)}")
    with contextlib.suppress(OSError):
        for p in dst.parent.iterdir():
            m = pat.match(p.name)
            if m and _is_stale(p, m.group(1)):
                _remove(p)
    try:
        fd, name = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", suffix=dst.suffix, dir=dst.parent)
    except OSError as exc:
        raise os_error(exc, dst.parent) from None
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # let writers create it (some refuse to overwrite); they apply the umask
    try:
        yield tmp
        os.replace(tmp, dst)
    except BaseException:
        for p in dst.parent.glob(f"{glob.escape(tmp.name)}*"):
            _remove(p)
        raise


# --------------------------------------------------------------------------- temporary folders
def temp_dir_name(kind: str) -> str:
    """Prefix of this process's temporary folders of ``kind`` (``upload``, ``offline`` ...)."""
    return f"lifecircle-{kind}-{os.getpid()}-"


def make_temp_dir(kind: str) -> Path:
    """A new private folder under the system temporary folder, named after this process.

    Whoever makes it removes it; :func:`clean_stale_temp` removes those of dead processes.
    """
    return Path(tempfile.mkdtemp(prefix=temp_dir_name(kind)))


@contextlib.contextmanager
def temp_dir(kind: str) -> Iterator[Path]:
    """:func:`make_temp_dir`, removed when the block ends (also on error)."""
    d = make_temp_dir(kind)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


_TEMP_KINDS = ("upload", "offline", "report")


def clean_stale_temp(root: str | Path | None = None) -> int:
    """Remove ``lifecircle-<kind>-<pid>-*`` temporary folders of dead processes (and id-less ones over an hour old).

    Returns the number removed. Called when the app and the CLI start.
    """
    root = Path(root or tempfile.gettempdir())
    pat = re.compile(rf"^lifecircle-(?:{'|'.join(_TEMP_KINDS)})-(?:(\d+)-)?")
    n = 0
    with contextlib.suppress(OSError):
        for p in root.iterdir():
            m = pat.match(p.name)
            if m and p.is_dir() and not p.is_symlink() and _is_stale(p, m.group(1)):
                shutil.rmtree(p, ignore_errors=True)
                n += 1
    return n
