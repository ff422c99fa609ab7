"""Laying the cycle onto the month: make-up visits that do not fit their day move within the week;
the layout reads the search's routes as a snapshot."""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
import pytest

from routeplan.calendar import monday_of
from routeplan.model import Scenario
from routeplan.solve.month import MonthModel, routes_from_groups, settle_reserve
from routeplan.solve.naive import sweep_groups
from routeplan.solve.schedule import _day_minutes, _spread_make_ups, lay_out_month
from routeplan.solve.search import PeriodicSearch
from routeplan.travel import travel_for

Day = list[tuple[int, int, bool]]


def _two_days(sc: Scenario) -> tuple[date, date]:
    """Two working days of one week of the first manager."""
    days = sc.working_days(sc.managers[0])
    for d in days:
        same = [x for x in days if x != d and monday_of(x) == monday_of(d)]
        if same:
            return d, same[0]
    raise AssertionError("no week with two working days")


def _model_with_window(tiny: Scenario, full: Day) -> tuple[Scenario, MonthModel]:
    """A model of the tiny scenario whose field window ends 1 minute before ``full`` does."""
    model = MonthModel(tiny, travel_for(tiny))
    office = model.n
    minutes = _day_minutes(model, office, [c for c, _, _ in full], model.end_node)
    window = math.ceil(minutes) - 1
    rules = dataclasses.replace(tiny.rules, max_day_minutes=window + tiny.rules.meeting_minutes, min_field_minutes=0)
    sc = dataclasses.replace(tiny, rules=rules)
    return sc, MonthModel(sc, travel_for(sc))


@pytest.mark.parametrize("room", [True, False])
def test_a_make_up_moves_off_a_full_day_to_a_day_of_its_week_with_room(tiny: Scenario, room: bool) -> None:
    first, second = _two_days(tiny)
    made_up = 25
    full: Day = [(c, 0, False) for c in range(24)] + [(made_up, 1, True)]
    light: Day = [(c, 0, False) for c in range(30, 34 if room else 60)]
    sc, model = _model_with_window(tiny, full)
    window = sc.rules.field_window_minutes
    days = {first: list(full), second: list(light)}
    visit_days = {c: {first} for c, _, _ in full} | {c: {second} for c, _, _ in light}

    def length(d: date) -> float:
        return _day_minutes(model, model.n, [c for c, _, _ in days[d]], model.end_node)

    second_before = length(second)
    _spread_make_ups(sc, model, 0, days, visit_days)
    if room:
        # the make-up went to the other day of its week, which stays inside the window; the
        # regular visits did not move, in their order
        assert (made_up, 1, True) in days[second] and visit_days[made_up] == {second}
        assert length(first) <= window and length(second) <= window
        assert [v for v in days[second] if not v[2]] == light
        assert days[first] == full[:-1]
    else:
        # the other day has no room for it (it is itself past the window): nothing moves
        assert second_before > window
        assert days[first] == full and days[second] == light


def test_the_month_is_laid_from_a_snapshot_of_the_routes(tiny: Scenario) -> None:
    """The calendar reads the routes the search handed on, not the search: moves made after the
    snapshot change nothing in the laid month, and every shop of the snapshot is visited."""
    model = MonthModel(tiny, travel_for(tiny))
    search = PeriodicSearch(model.problem(np.zeros(model.k * model.s)))
    search.set_routes(*routes_from_groups(model, *sweep_groups(model)))
    cycle = search.cycle()
    first = lay_out_month(model, cycle, seconds=0.0, seed=0)
    search.set_routes([[] for _ in search.routes], np.full(model.n, -1))  # the search moves on
    assert cycle.routes != tuple(tuple(r) for r in search.routes)
    again = lay_out_month(model, cycle, seconds=0.0, seed=0)
    assert again == first
    riding = {tiny.retailers[c].id for route in cycle.routes for c in route}
    assert riding and riding == {v.retailer_id for v in first.visits}
    assert all(cycle.routes_of(c) for c in range(model.n) if tiny.retailers[c].id in riding)


def test_make_up_room_leaves_every_route_room_for_a_stop_above_its_minimum(tiny: Scenario) -> None:
    """A route whose days take make-up visits keeps, below its ceiling, its minimum field time
    and room for one more stop: a route just short of the minimum can take a whole stop."""
    # 3 hours in the field at least, a field window of 4.5 hours: the make-ups of the Christmas
    # run (up to about 2 hours on a day) do not all fit beside a route at its minimum
    rules = dataclasses.replace(tiny.rules, min_field_minutes=180, max_day_minutes=300, min_stops_per_day=4)
    sc = dataclasses.replace(tiny, rules=rules)
    assert date(2026, 12, 25) in sc.calendar.holidays
    model = MonthModel(sc, travel_for(sc))
    reserve = model.initial_reserve()
    search = PeriodicSearch(model.problem(reserve))
    search.set_routes(*routes_from_groups(model, *sweep_groups(model)))
    reserve = settle_reserve(sc, model, search, reserve, math.inf)
    now, held = search.loads(), search.limits()
    per_stop = now.minutes / np.maximum(now.stops, 1.0)
    squeezed = (reserve > 0) & (held.min_minutes > 0)
    assert squeezed.any()  # the holiday's make-ups take room on the other days of its week
    assert np.all(held.max_minutes[squeezed] >= held.min_minutes[squeezed] + per_stop[squeezed] - 1e-6)
