"""Shared fixtures: the bundled tiny scenario and one plan of it."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
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


#: The tiny scenario's columns as a Chinese export spells them.
ZH_SHOPS = {"id": "客户编码", "name": "客户名称", "lat": "纬度", "lon": "经度", "class": "档位", "address": "经营地址",
            "phone": "联系电话", "manager_id": "客户经理", "closed_weekdays": "休息日"}  # fmt: skip
ZH_STAFF = {"id": "工号", "name": "姓名", "start_lat": "纬度", "start_lon": "经度", "min_stops_per_day": "每日最少拜访",
            "days_off": "休假日期", "return_to_office": "返回办公点"}  # fmt: skip


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _as_number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def workbook_scenario(folder: Path, *, title_row: bool = True, edit: Callable[[Any], object] | None = None) -> Path:
    """The tiny scenario as one workbook (sheets 门店 and 人员) with Chinese headers and numeric cells."""
    shutil.copytree(TINY, folder)
    shops, staff = _csv(folder / "retailers.csv"), _csv(folder / "staff.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "门店"
    if title_row:
        ws.append(["客户明细表（导出）"])
    ws.append([ZH_SHOPS[c] for c in ZH_SHOPS])
    for row in shops:
        ws.append([_as_number(row[c]) if c in ("lat", "lon") else row[c] or None for c in ZH_SHOPS])
    people = wb.create_sheet("人员")
    people.append([ZH_STAFF[c] for c in ZH_STAFF])
    for row in staff:
        people.append([row["id"], row["name"], float(row["start_lat"]), float(row["start_lon"]),
                       int(row["min_stops_per_day"]), None, row["return_to_office"] == "true"])  # fmt: skip
    if edit is not None:
        edit(wb)
    wb.save(folder / "门店.xlsx")
    (folder / "retailers.csv").unlink()
    (folder / "staff.csv").unlink()
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    toml = toml.replace('retailers = "retailers.csv"', 'retailers = { file = "门店.xlsx", sheet = "门店" }')
    toml = toml.replace('staff = "staff.csv"', 'staff = { file = "门店.xlsx", sheet = "人员" }')
    (folder / "scenario.toml").write_text(toml, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for one test module (the module's tests skip where none is installed)."""
    from playwright.sync_api import sync_playwright

    from routeplan.render.pdf import BROWSER_ARGS, find_browser

    with sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=find_browser(), args=list(BROWSER_ARGS))
        yield chrome
        chrome.close()


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A writable copy of the tiny scenario folder, for breaking it."""
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest
