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

import errno
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["InputError", "LifecircleError", "Message", "one_line", "os_error", "warn"]


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
