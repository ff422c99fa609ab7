"""Shared fixtures: the bundled tiny scenario and one plan of it."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from routeplan.model import Scenario
from routeplan.plan import Plan
from routeplan.read import read_scenario
from routeplan.solve.month import PlanParams, plan_month

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny"
DEMO = ROOT / "scenarios" / "demo-city"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def tiny() -> Scenario:
    """The bundled 90-shop, two-manager scenario."""
    return read_scenario(TINY)


@pytest.fixture(scope="session")
def tiny_plan(tiny: Scenario) -> Plan:
    """A plan of the tiny scenario (seed 0, one worker)."""
    return plan_month(tiny, PlanParams(time_limit_s=6, workers=1, clock=False), seed=0)


def rewrite_csv(path: Path, edit: Callable[[list[list[str]]], object], line_end: str = "\n") -> None:
    """Parse a CSV file, let ``edit`` change its rows in place, and write it back."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    edit(rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator=line_end).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A writable copy of the tiny scenario folder, for breaking it."""
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest
