"""调休: a weekend day worked in place of a holiday runs that holiday's routes."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from conftest import TINY, rewrite_csv
from routeplan.calendar import Calendar
from routeplan.check import check_plan
from routeplan.cli import main
from routeplan.errors import InputError
from routeplan.model import Scenario
from routeplan.plan import Plan
from routeplan.read import read_plan, read_scenario
from routeplan.solve.month import PlanParams, plan_month

#: National Day 2026: Thursday 1 to Wednesday 7 October off, Saturday 10 worked for Wednesday 7.
HOLIDAYS = [date(2026, 10, d) for d in (1, 2, 5, 6, 7)]
SATURDAY, FOR = date(2026, 10, 10), date(2026, 10, 7)
#: shops R0001-R0012 close on Saturdays
SHUT_SATURDAYS = {f"R{i:04d}" for i in range(1, 13)}


def _october(folder: Path, swaps: str = '{ "2026-10-10" = "2026-10-07" }') -> Path:
    shutil.copytree(TINY, folder)
    toml = folder / "scenario.toml"
    holidays = ", ".join(f'"{d}"' for d in HOLIDAYS)
    text = toml.read_text(encoding="utf-8").replace('month = "2026-12"', 'month = "2026-10"')
    text = text.replace('holidays = ["2026-12-25"]', f"holidays = [{holidays}]\nworkday_swaps = {swaps}")
    # a month with a holiday week has less work a day: the tiny team's minimums follow it
    text = text.replace("min_stops_per_day = 8", "min_stops_per_day = 4").replace("min_field_minutes = 90",
                                                                                 "min_field_minutes = 30")  # fmt: skip
    toml.write_text(text, encoding="utf-8")

    def edit(rows: list[list[str]]) -> None:
        col = rows[0].index("closed_weekdays")
        for row in rows[1:]:
            if row[0] in SHUT_SATURDAYS:
                row[col] = "Sat"

    rewrite_csv(folder / "retailers.csv", edit)
    rewrite_csv(folder / "staff.csv", lambda rows: [row.__setitem__(4, "4") for row in rows[1:]])
    return folder


@pytest.fixture(scope="module")
def october(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, Plan]:
    sc = read_scenario(_october(tmp_path_factory.mktemp("swap") / "october"))
    return sc, plan_month(sc, PlanParams(time_limit_s=6, workers=1, clock=False), seed=0)


def test_the_day_worked_for_a_holiday_takes_its_slot_and_the_holiday_is_not_lost():
    cal = Calendar(2026, 10, holidays=frozenset(HOLIDAYS), moved=((SATURDAY, FOR),))
    slot = cal.slot_of(FOR)
    assert slot is not None and cal.slot_of(SATURDAY) == slot and cal.slot_of(date(2026, 10, 3)) is None
    assert cal.is_working(SATURDAY) and not cal.is_working(FOR) and cal.worked_for(SATURDAY) == FOR
    assert SATURDAY in cal.slot_dates(slot) and FOR not in cal.lost_runs(slot)
    assert cal.lost_runs(slot, days_off=frozenset({SATURDAY})) == [SATURDAY]  # off that Saturday: lost there
    assert date(2026, 10, 6) in cal.lost_runs(cal.slot_of(date(2026, 10, 6)) or 0)  # not moved: lost


@pytest.mark.parametrize(
    ("moved", "message"),
    [
        (((date(2026, 10, 9), FOR),), "2026-10-09 is a workday already"),
        (((SATURDAY, date(2026, 10, 8)),), "2026-10-08 is not a holiday on a workday"),
        (((SATURDAY, FOR), (date(2026, 10, 11), FOR)), "2026-10-07's routes are moved to two days"),
        (((SATURDAY, date(2026, 11, 13)),), "at most 31 days from the day worked"),
        (((date(2026, 10, 31), date(2026, 11, 2)),), r"not a holiday on a workday \(list it in holidays too"),
        (((date(2026, 10, 3), FOR),), "2026-10-03 is a holiday"),
    ],
)
def test_swaps_that_make_no_sense_are_refused(moved, message):
    with pytest.raises(ValueError, match=message):
        Calendar(2026, 10, holidays=frozenset([*HOLIDAYS, date(2026, 10, 3), date(2026, 11, 13)]), moved=moved)


def test_a_sunday_worked_for_next_months_holiday_runs_its_slot_and_a_years_swaps_may_be_listed_once():
    """The Sunday before National Day week, worked for Thursday 1 October: in September it runs
    the routes the cycle has on 1 October; in October that day is a holiday like any other. Each
    month keeps the swaps whose worked day is its own."""
    sunday, first = date(2026, 9, 27), date(2026, 10, 1)
    year = ((sunday, first), (SATURDAY, FOR))
    september = Calendar(2026, 9, holidays=frozenset([date(2026, 9, 25), *HOLIDAYS]), moved=year)
    assert september.moved == ((sunday, first),) and september.worked_for(sunday) == first
    assert september.is_working(sunday) and september.slot_of(sunday) == september.slot_of(first)
    assert sunday in september.slot_dates(september.slot_of(first) or 0)
    assert len(september.working_days()) == 22  # 21 weekdays but the 25th, and the Sunday
    october = Calendar(2026, 10, holidays=frozenset(HOLIDAYS), moved=year, cycle_start=september.cycle_start)
    assert october.moved == ((SATURDAY, FOR),)
    assert first in october.lost_runs(october.slot_of(first) or 0) and first not in october.moved_holidays()


@pytest.mark.parametrize(
    ("swaps", "expected"),
    [
        ('{ "2026-10-09" = "2026-10-07" }', "2026-10-09 is a workday already"),
        ('{ "2026-10-10" = "07 Oct" }', "is not a date"),
        ('{ "2026-10-10" = 7 }', "expected a table like"),
        ('["2026-10-10"]', "expected a table like"),
    ],
)
def test_bad_swaps_in_the_scenario_name_the_key(tmp_path: Path, capsys, swaps: str, expected: str):
    folder = _october(tmp_path / "october", swaps)
    with pytest.raises(InputError) as err:
        read_scenario(folder)
    assert err.value.field == "workday_swaps" and expected in err.value.detail
    assert main(["validate", str(folder)]) == 2 and "workday_swaps" in capsys.readouterr().err


def test_the_saturday_runs_the_holidays_routes_and_every_rule_is_kept(october):
    sc, plan = october
    assert check_plan(sc, plan) == []
    cal = sc.calendar
    saturday = [v for v in plan.visits if v.date == SATURDAY and not v.makeup]
    labels = {r.id: r.label for r in plan.routes}
    assert saturday and {labels[v.route_id] for v in saturday} == {cal.slot_label(cal.slot_of(FOR) or 0)}
    week = {date(2026, 10, d) for d in range(5, 12)}
    for route in (r for r in plan.routes if r.slot == cal.slot_of(FOR)):
        run = [v.retailer_id for v in sorted(plan.visits, key=lambda v: v.seq)
               if v.date == SATURDAY and v.route_id == route.id and not v.makeup]  # fmt: skip
        shut = [s for s in route.stops if s in SHUT_SATURDAYS]
        assert run == [s for s in route.stops if s not in SHUT_SATURDAYS]  # the route's order, less the shut shops
        for shop in shut:  # made up in that week, on a day it is open
            days = {v.date for v in plan.visits if v.retailer_id == shop and v.makeup and v.date in week}
            assert days and SATURDAY not in days
    # no make-ups for the moved holiday's runs beyond the shut shops
    moved_routes = {r.id for r in plan.routes if r.slot == cal.slot_of(FOR)}
    extra = {v.retailer_id for v in plan.visits if v.route_id in moved_routes and v.makeup and v.date in week}
    assert extra <= SHUT_SATURDAYS


def test_the_checker_wants_a_shut_shop_made_up(october):
    sc, plan = october
    week = {date(2026, 10, d) for d in range(5, 12)}
    slot_routes = {r.id for r in plan.routes if r.slot == sc.calendar.slot_of(FOR)}
    made_up = next(v for v in plan.visits if v.route_id in slot_routes and v.makeup and v.date in week)
    # in another week it still counts (where the holiday week has no room): no make-up missing
    later = replace(made_up, date=date(2026, 10, 29), seq=99)
    moved = replace(plan, visits=tuple(later if v is made_up else v for v in plan.visits))
    assert "makeup" not in {v.code for v in check_plan(sc, moved)}
    # dropped, it is owed: exactly one make-up violation, naming the day worked for the holiday
    dropped = replace(plan, visits=tuple(v for v in plan.visits if v is not made_up))
    found = [v for v in check_plan(sc, dropped) if v.code == "makeup"]
    assert len(found) == 1 and "are not made up for 1 shops" in found[0].message
    assert "2026-10-10 (worked for 2026-10-07, " in found[0].message and "closed on Sat)" in found[0].message


def test_a_plan_without_the_swap_breaks_the_saturday(october, tmp_path: Path):
    """The same month planned as if the Saturday were off: checked against the swap, the holiday's
    routes do not run where they are due."""
    sc, _ = october
    without = replace(sc, calendar=replace(sc.calendar, moved=()))
    plan = plan_month(without, PlanParams(time_limit_s=3, workers=1, clock=False), seed=0)
    assert check_plan(without, plan) == []
    assert "route-order" in {v.code for v in check_plan(sc, plan)}


def test_a_december_plan_works_the_sunday_before_new_years_day_for_it(tmp_path: Path):
    """Sunday 27 December worked for Friday 1 January: every rule kept, the Sunday runs the
    routes of 1 January's slot (one run more this month), and the month sheet shows it."""
    from openpyxl import load_workbook

    folder = shutil.copytree(TINY, tmp_path / "december")
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace(
        'holidays = ["2026-12-25"]',
        'holidays = ["2026-12-25", "2027-01-01"]\nworkday_swaps = { "2026-12-27" = "2027-01-01" }',
    )
    # a day more to fill: the tiny team's daily minimum of stops follows it
    toml.write_text(text.replace("min_stops_per_day = 8", "min_stops_per_day = 6"), encoding="utf-8")
    rewrite_csv(folder / "staff.csv", lambda rows: [row.__setitem__(4, "6") for row in rows[1:]])
    out = tmp_path / "out"
    assert (
        main(["plan", str(folder), "-o", str(out), "--time-limit", "4", "--reproducible", "--quiet", "--no-render"])
        == 0
    )
    sc = read_scenario(folder)
    cal, sunday = sc.calendar, date(2026, 12, 27)
    slot = cal.slot_of(date(2027, 1, 1))
    assert slot is not None and cal.slot_of(sunday) == slot and sunday in cal.working_days()
    plan = read_plan(out)
    labels = {r.id: r.label for r in plan.routes}
    run = [v for v in plan.visits if v.date == sunday and not v.makeup]
    assert run and {labels[v.route_id] for v in run} == {cal.slot_label(slot)}
    assert check_plan(sc, plan) == []
    cells = [str(c) for ws in load_workbook(out / "schedule.xlsx") for row in ws.iter_rows(values_only=True)
             for c in row if c]  # fmt: skip
    assert any("27 (Sun): worked for the holiday of 01 Jan" in c for c in cells)


def test_a_written_scenario_keeps_its_swaps(october, tmp_path: Path):
    """The plan folder's copy of the scenario (and the desk's) reads back with the same calendar."""
    from routeplan.write import write_scenario

    sc, _ = october
    write_scenario(tmp_path / "copy", sc)
    assert read_scenario(tmp_path / "copy").calendar == sc.calendar


def test_a_holiday_week_too_short_for_its_lost_runs_sends_the_rest_to_other_weeks(tmp_path: Path):
    """Monday to Thursday off: Friday cannot hold four days of runs inside a 7-hour day, so the
    make-ups that do not fit go to other weeks (keeping their spacing) and every day keeps its
    limit (laid within the week only, two days ran past it)."""
    folder = shutil.copytree(TINY, tmp_path / "short-week")
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace('holidays = ["2026-12-25"]',
                                                    'holidays = ["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"]')  # fmt: skip
    toml.write_text(text.replace("max_day_minutes = 600", "max_day_minutes = 420"), encoding="utf-8")
    sc = read_scenario(folder)
    plan = plan_month(sc, PlanParams(time_limit_s=5, workers=1, clock=False), seed=0)
    assert not {v.code for v in check_plan(sc, plan)} & {"max-day", "makeup", "off-slot", "spacing", "frequency"}
    week = {date(2026, 12, d) for d in range(7, 12)}
    elsewhere = [v for v in plan.visits if v.makeup and v.date not in week]
    assert elsewhere  # some went to other weeks
    lost_routes = {r.id for r in plan.routes if r.slot in {sc.calendar.slot_of(d) for d in week if d.day <= 10}}
    assert {v.route_id for v in elsewhere} <= lost_routes
