"""notebooks/walkthrough.ipynb runs top to bottom without errors (kernel = this venv's ipykernel)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NB = REPO / "notebooks" / "walkthrough.ipynb"


def test_walkthrough_notebook_runs(shared, prepared_data_dir, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.setenv("LIFECIRCLE_SHARED", str(shared))
    monkeypatch.setenv("LIFECIRCLE_DATA_DIR", str(prepared_data_dir))  # the notebook prepares only when absent
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    # ipykernel's built-in "python3" spec launches sys.executable, i.e. this venv's interpreter
    from ipykernel.kernelspec import get_kernel_dict

    assert get_kernel_dict()["argv"][0] == sys.executable
    nb = nbformat.read(NB, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NB.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "run_study" in text and "XLSX" in text and "'unit': 'min'" in text and "'metres': 600.0" in text
    html = "".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "leaflet" in html.lower()
