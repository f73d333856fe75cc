"""Input limits: the one place for the numbers, and the checks that enforce them.

Every reader that takes a file from a user calls these checks before parsing,
so that a hostile or accidental input (a zip bomb, a 2 GB "text", a paragraph
without sentence punctuation) costs bounded time and memory and ends in one
clear :class:`~geo.errors.InputError` naming the limit.

========================  =======  ====================================================
limit                     value    applies to
========================  =======  ====================================================
``MAX_UPLOAD_MB``         50       every file uploaded in the app
``MAX_TEXT_MB``           20       a policy text (.txt/.docx/.pdf) read by ``extract``
``MAX_TABLE_MB``          100      a facility table (CSV/XLSX) read by any command
``MAX_UNZIPPED_MB``       200      all members of a zip container (.docx, .xlsx, .zip)
``MAX_ZIP_RATIO``         200      expansion ratio of one member larger than 1 MB
``MAX_ZIP_MEMBERS``       10000    members of a zip container
``MAX_SENTENCE_CHARS``    300      longer sentences are cut into pieces before analysis
                                   (bounds the work per sentence and the context kept per mention)
========================  =======  ====================================================
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .errors import InputError

__all__ = [
    "MAX_SENTENCE_CHARS",
    "MAX_TABLE_MB",
    "MAX_TEXT_MB",
    "MAX_UNZIPPED_MB",
    "MAX_UPLOAD_MB",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_RATIO",
    "check_size",
    "check_zip",
]

MB = 1024 * 1024
MAX_UPLOAD_MB = 50
MAX_TEXT_MB = 20
MAX_TABLE_MB = 100
MAX_UNZIPPED_MB = 200
MAX_ZIP_RATIO = 200
_RATIO_FROM_BYTES = 1 * MB  # small members may compress very well (styles, empty sheets)
MAX_ZIP_MEMBERS = 10_000
MAX_SENTENCE_CHARS = 300


def check_size(path: str | Path, max_mb: float, *, size: int | None = None) -> None:
    """Raise InputError when the file (or ``size`` bytes) is larger than ``max_mb``."""
    p = Path(path)
    n = size if size is not None else p.stat().st_size
    if n > max_mb * MB:
        raise InputError(f"文件过大（{n / MB:.1f} MB），上限为 {max_mb:g} MB。请拆分后重试。",
                         f"the file is too large ({n / MB:.1f} MB; the limit is {max_mb:g} MB); split it and retry.",
                         p)


def _too_large(p: Path, what_zh: str, what_en: str) -> InputError:
    return InputError(f"压缩包解压后过大（{what_zh}），可能是“压缩炸弹”，已拒绝读取。",
                      f"the archive is too large when unpacked ({what_en}); it may be a zip bomb and was not read.", p)


def check_zip(path: str | Path, *, data: bytes | None = None) -> None:
    """Check a zip container (.docx, .xlsx, zipped shapefile) before it is parsed.

    The sizes come from the zip directory, which Python's :mod:`zipfile` also
    enforces while reading (a member whose data expands beyond its declared size
    fails its CRC check), so nothing is decompressed here.

    Raises
    ------
    InputError
        Too many members, more than :data:`MAX_UNZIPPED_MB` in total, or a
        member expanding more than :data:`MAX_ZIP_RATIO` times. Files that are
        not zip archives pass: their reader names the format problem.

    ``data``, when given, holds the file's bytes (an upload not yet written);
    ``path`` then only names it in the message.
    """
    p = Path(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data) if data is not None else p) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _too_large(p, f"{len(infos)} 个成员，上限 {MAX_ZIP_MEMBERS}",
                         f"{len(infos)} members; the limit is {MAX_ZIP_MEMBERS}")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_MB * MB:
        raise _too_large(p, f"{total / MB:.0f} MB，上限 {MAX_UNZIPPED_MB} MB",
                         f"{total / MB:.0f} MB; the limit is {MAX_UNZIPPED_MB} MB")
    for i in infos:
        if i.file_size > _RATIO_FROM_BYTES and i.file_size > MAX_ZIP_RATIO * max(i.compress_size, 1):
            ratio = i.file_size / max(i.compress_size, 1)
            raise _too_large(p, f"{i.filename} 膨胀 {ratio:.0f} 倍，上限 {MAX_ZIP_RATIO} 倍",
                             f"{i.filename} expands {ratio:.0f} times; the limit is {MAX_ZIP_RATIO}")
