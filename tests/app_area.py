"""Prepared default study area for the app tests (once per test process, in a temporary data dir)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path


@functools.lru_cache(maxsize=1)
def prepared_data_dir(shared_data: str) -> Path:
    """``prepare_offline('xinjiangwan', ../shared/data)`` into a fresh data dir; returns that data dir."""
    from geo.areas import prepare_offline

    root = Path(tempfile.mkdtemp(prefix="lifecircle-app-data-"))
    prepare_offline("xinjiangwan", shared_data, data_dir=root)
    return root
