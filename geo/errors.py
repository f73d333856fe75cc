"""User-facing errors: one clear, bilingual, actionable line instead of a traceback.

Every stage raises :class:`InputError` for bad input it can name (a missing
file, malformed XML, an empty network ...). The CLI prints
:meth:`InputError.message` and exits with code 2; the app shows the same text
with ``st.error``. Nothing else should reach the user as a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["LifecircleError", "InputError", "ui_lang", "warn"]


def ui_lang() -> str:
    """Language for messages: ``LIFECIRCLE_LANG`` (``zh``/``en``), Chinese first."""
    return "en" if os.environ.get("LIFECIRCLE_LANG", "zh").lower().startswith("en") else "zh"


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

    def message(self, lang: str | None = None) -> str:
        lang = lang or ui_lang()
        text = self.zh if lang == "zh" else self.en
        if self.path:
            text = f"{self.path}: {text}"
        return " ".join(text.split())  # always one line


class InputError(LifecircleError):
    """Bad or unusable input (file missing, unreadable, wrong CRS, empty ...)."""


def warn(zh: str, en: str) -> str:
    """Format a one-line warning in the UI language (callers log or collect it)."""
    return zh if ui_lang() == "zh" else en
