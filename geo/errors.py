"""User-facing errors and warnings: bilingual values, rendered in one language at the edge.

Every stage raises :class:`InputError` for bad input it can name (a missing
file, malformed XML, an empty network ...). The CLI prints
:meth:`LifecircleError.message` in its ``--lang`` and exits with code 2; the app
shows the same text with ``st.error`` in the UI language. Nothing else should
reach the user as a traceback.

Warnings are :class:`Message` values holding both languages; results keep
them bilingual (``params.json`` stores ``{"zh": ..., "en": ...}``) and only
the CLI, the app and the report pick one with :meth:`Message.text`. No
environment variable decides a message's language.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import re
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["InputError", "LifecircleError", "Message", "NoInternetError", "error_summary", "log_traceback", "no_internet",
           "one_line", "os_error", "warn"]


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) to single spaces."""
    return " ".join(str(text).split())


@dataclass(frozen=True)
class Message:
    """A one-line message in Chinese and English; :meth:`text` picks one.

    Parameters
    ----------
    zh, en : str
        The same message in both languages.
    """

    zh: str
    en: str

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``), on one line."""
        return one_line(self.zh if lang == "zh" else self.en)

    def to_dict(self) -> dict[str, str]:
        """``{"zh": ..., "en": ...}`` (the ``params.json`` form)."""
        return {"zh": self.zh, "en": self.en}

    @classmethod
    def coerce(cls, value: Any) -> Message:
        """A :class:`Message` from itself, a ``{"zh", "en"}`` dict or a plain (old, one-language) string."""
        if isinstance(value, Message):
            return value
        if isinstance(value, dict):
            zh, en = value.get("zh"), value.get("en")
            return cls(str(zh if zh is not None else en or ""), str(en if en is not None else zh or ""))
        return cls(str(value), str(value))


class LifecircleError(Exception):
    """Base class: an error the user can act on.

    Parameters
    ----------
    zh, en : str
        The message in Chinese and English; say what is wrong and what to do.
    path : str or Path, optional
        The file the message is about; it is named in the message.
    """

    exit_code = 2

    def __init__(self, zh: str, en: str, path: str | Path | None = None):
        self.zh, self.en, self.path = zh, en, (str(path) if path is not None else None)
        super().__init__(self.message("en"))

    def __reduce__(self):
        # copy/pickle rebuild from (zh, en, path), not from the one-line message (pandas deep-copies
        # DataFrame.attrs, where extract_files keeps the errors of the files it could not read)
        return (self.__class__, (self.zh, self.en, self.path))

    def message(self, lang: str) -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``), on one line, prefixed by the file."""
        text = self.zh if lang == "zh" else self.en
        if self.path:
            text = f"{self.path}: {text}"
        return one_line(text)


class InputError(LifecircleError):
    """Bad or unusable input (file missing, unreadable, wrong CRS, empty ...)."""


class NoInternetError(InputError):
    """OpenStreetMap cannot be reached (no connection, DNS failure, timeout): not a bad place name."""

    def __init__(self, kind: str = "", path: str | Path | None = None):
        zh_d, en_d = _FAILURES.get(kind, ("", ""))
        super().__init__(
            f"无法连接 OpenStreetMap（没有网络）{'：' + zh_d if zh_d else ''}，因此地名未被检查。请改用离线准备："
            "在“研究区”页选择区和街道，或运行 lifecircle prepare --subdistrict 街道名 --from ../shared/data --network 路网文件。",
            f"cannot reach OpenStreetMap (no internet){': ' + en_d if en_d else ''}, so the place name was not "
            "checked. Prepare the area offline instead: pick the district and 街道 in the Study area view, or run "
            "lifecircle prepare --subdistrict NAME --from ../shared/data --network FILE.",
            path)


_FAILURES = {"DNS": ("域名解析失败", "the DNS lookup failed"), "timeout": ("连接超时", "the connection timed out"),
             "connection": ("连接失败", "the connection failed")}


def _connection_failure(exc: BaseException) -> str | None:
    """What kind of network failure ``exc`` is (``"DNS"``, ``"timeout"``, ``"connection"``), or None."""
    import socket
    import urllib.error

    kinds: list[type] = []
    try:
        import requests

        kinds += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
    except ImportError:  # pragma: no cover - osmnx depends on requests
        pass
    try:
        import urllib3

        kinds += [urllib3.exceptions.NewConnectionError, urllib3.exceptions.MaxRetryError,
                  urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError]
    except ImportError:  # pragma: no cover
        pass
    seen: set[int] = set()
    e: BaseException | None = exc
    found = None
    while e is not None and id(e) not in seen:  # the whole chain: requests wraps urllib3 wraps socket
        seen.add(id(e))
        if isinstance(e, socket.gaierror) or "NameResolution" in type(e).__name__ \
                or "Name or service not known" in str(e) or "Temporary failure in name resolution" in str(e):
            return "DNS"
        if isinstance(e, (socket.timeout, TimeoutError)) or "Timeout" in type(e).__name__:
            found = found or "timeout"
        elif isinstance(e, (ConnectionError, urllib.error.URLError, *kinds)):
            found = found or "connection"
        nxt = [e.__cause__, e.__context__, getattr(e, "reason", None), *(e.args[:1] or [None])]
        e = next((x for x in nxt if isinstance(x, BaseException) and id(x) not in seen), None)
    return found


def no_internet(exc: BaseException) -> NoInternetError | None:
    """A :class:`NoInternetError` when ``exc`` is a network failure (connection, DNS, timeout), else None.

    HTTP answers (404, 429, 5xx) and "nothing found" are not network failures.
    """
    kind = _connection_failure(exc)
    return NoInternetError(kind) if kind else None


def warn(zh: str, en: str) -> Message:
    """A one-line warning in both languages (callers collect it; the edge renders it)."""
    return Message(zh, en)


_DENIED = ("没有权限（只读或受保护的位置）。请换一个文件夹，或检查权限。",
           "permission denied (a read-only or protected location); choose another folder or check the permissions.")
_OS_MESSAGES = {
    errno.EACCES: _DENIED,
    errno.EPERM: _DENIED,
    errno.EROFS: ("文件系统是只读的。请换一个文件夹。", "the file system is read-only; choose another folder."),
    errno.ENOTDIR: ("路径中有一级是文件而不是文件夹。", "part of this path is a file, not a folder."),
    errno.EISDIR: ("这是一个文件夹，这里需要文件名。", "this is a folder; a file name is needed here."),
    errno.ENOENT: ("文件或文件夹不存在。", "no such file or folder."),
    errno.EEXIST: ("已存在同名的文件或文件夹。", "a file or folder of that name already exists."),
    errno.ENOTEMPTY: ("文件夹不为空（可能有另一个运行正在写入）。请稍后重试。",
                      "the folder is not empty (another run may be writing it); retry later."),
    errno.ENOSPC: ("磁盘空间不足。请腾出空间后重试。", "no space left on the disk; free some space and retry."),
    errno.EDQUOT: ("超出磁盘配额。请腾出空间后重试。", "disk quota exceeded; free some space and retry."),
    errno.ENAMETOOLONG: ("路径太长。请用较短的路径。", "the path is too long; use a shorter one."),
    errno.ELOOP: ("路径中的符号链接构成循环。", "the path has a loop of symbolic links."),
    errno.EIO: ("读写设备出错（输入/输出错误）。", "the device failed to read or write (I/O error)."),
}


def os_error(exc: OSError, path: str | Path | None = None) -> InputError:
    """A one-line :class:`InputError` for an operating-system fault, naming its path.

    ``path`` (else ``exc.filename``: callers name what the user gave, not a
    temporary name) is named; the text says what is wrong (permission,
    read-only, a file where a folder is needed, disk full ...).
    """
    zh, en = _OS_MESSAGES.get(exc.errno or 0, (f"系统错误：{exc.strerror or type(exc).__name__}。",
                                          f"system error: {exc.strerror or type(exc).__name__}."))
    where = path if path is not None else exc.filename if exc.filename not in (None, "") else None
    if where is not None:  # a temporary name of geo.io.atomic_file/atomic_dir: name what it becomes
        where = re.sub(r"\.([^/\\]+?)\.tmp-\d+-[a-z0-9_]{8}", r"\1", str(where))
    return InputError(zh, en, where)


def log_traceback(what: str, exc: BaseException) -> Path | str:
    """Write the traceback of an unexpected ``exc`` (a bug) to a log file; return its path.

    The one log writer of the CLI (:func:`geo.cli.main`) and the app
    (:func:`geo.ui.guard`): ``<cache>/lifecircle/errors/lifecircle-error-<time>-<pid>.log``
    (``XDG_CACHE_HOME`` or ``~/.cache``), else the temporary folder.

    Parameters
    ----------
    what : str
        What was running (``"lifecircle plan"``, ``"app: map view"``); the log's first line.
    exc : BaseException
        The exception whose traceback is written.

    Returns
    -------
    Path or str
        The log file, or a note when no folder is writable.
    """
    from .settings import user_cache_dir

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    text = f"{what}\n" + "".join(traceback.format_exception(exc))
    for folder in (user_cache_dir() / "lifecircle" / "errors", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"lifecircle-error-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return "(no writable folder for the log)"


def error_summary(exc: BaseException) -> str:
    """``Type: first line`` of an unexpected exception (at most 200 characters of its message)."""
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
