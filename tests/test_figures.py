"""Figures agree: one plan, one km, whichever command or file reports it; plans round-trip."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import TINY
from routeplan.check import check_plan
from routeplan.cli import main
from routeplan.figures import return_legs, total_km
from routeplan.read import read_plan, read_scenario
from routeplan.write import write_plan


def _returning(tmp_path: Path) -> Path:
    scen = tmp_path / "back"
    shutil.copytree(TINY, scen)
    staff = scen / "staff.csv"
    staff.write_text(staff.read_text(encoding="utf-8").replace(",false", ",true"), encoding="utf-8")
    return scen


def test_same_km_from_every_command_and_file(tmp_path, capsys):
    scen = _returning(tmp_path)
    out = tmp_path / "plan"
    code = main(["plan", str(scen), "-o", str(out), "--time-limit", "3", "--workers", "1", "--quiet", "--no-render"])
    assert code in (0, 1)
    km = json.loads((out / "summary.json").read_text(encoding="utf-8"))["kpis"]["total"]["km"]
    sc, plan = read_scenario(scen), read_plan(out)
    legs = sum(v.travel_km for v in plan.visits)
    assert sum(return_legs(sc, plan).values()) > 10 and km > legs + 10, "the drives back are counted"
    assert total_km(sc, plan) == pytest.approx(km, abs=0.1)  # legs are written to the metre
    capsys.readouterr()
    main(["check", str(scen), str(out)])
    assert f"{km:.1f}" in capsys.readouterr().out
    assert main(["compare", str(out), "-o", str(tmp_path / "cmp")]) == 0
    rows = {r[0]: r[1:] for r in csv.reader((tmp_path / "cmp" / "comparison.csv").open(encoding="utf-8"))}
    assert float(rows["total km"][0]) == pytest.approx(km, abs=0.05)
    ws = load_workbook(out / "schedule.xlsx")["Overview"]
    total = next(row for row in ws.iter_rows(values_only=True) if row[0] == "total")
    assert total[4] == pytest.approx(km, abs=0.05)


def test_read_plan_round_trips_what_write_plan_writes(tmp_path, tiny, tiny_plan):
    write_plan(tmp_path / "p", tiny, tiny_plan, check_plan(tiny, tiny_plan))
    back = read_plan(tmp_path / "p")

    def key(v):
        return dataclasses.replace(v, travel_km=round(v.travel_km, 3))

    assert [key(v) for v in back.visits] == [key(v) for v in tiny_plan.visits]
    assert back.calls == tiny_plan.calls
    assert [(r.id, r.manager_id, r.label, r.stops, r.order) for r in back.routes] == [
        (r.id, r.manager_id, r.label, r.stops, r.order) for r in tiny_plan.routes
    ]
    assert back.seed == tiny_plan.seed
    assert check_plan(tiny, back) == []
