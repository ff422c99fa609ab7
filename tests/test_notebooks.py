"""The notebooks are committed without outputs and use only the public API (they run via nbmake)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_three_walkthroughs():
    assert [p.name for p in NOTEBOOKS] == ["01-monthly-plan.ipynb", "02-what-if.ipynb", "03-month-to-month.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    for cell in doc["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_private_imports(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "code")
    assert "routeplan.solve" not in code and "import _" not in code
