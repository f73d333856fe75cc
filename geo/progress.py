"""Progress reporting shared by the CLI (stderr lines) and the app (st.progress)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Progress", "null_progress", "stderr_progress"]


class Progress(Protocol):
    def __call__(self, frac: float, message: str) -> None:  # frac in [0, 1]
        ...


def null_progress(frac: float, message: str) -> None:
    """Ignore progress."""


def stderr_progress(prefix: str = "lifecircle") -> Callable[[float, str], None]:
    """A progress callback that prints ``[ 42%] message (3.1 s)`` lines to stderr."""
    t0 = time.perf_counter()

    def report(frac: float, message: str) -> None:
        print(f"[{frac * 100:3.0f}%] {message} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)

    return report
