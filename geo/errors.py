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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["InputError", "LifecircleError", "Message", "one_line", "warn"]


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
