"""Laying the cycle onto the month: make-up visits that do not fit their day move within the week;
the layout reads the search's routes as a snapshot."""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import date, timedelta

import numpy as np
import pytest

from routeplan.calendar import monday_of
from routeplan.model import Scenario
from routeplan.solve.month import MonthModel, relabel_routes, routes_from_groups, settle_reserve, standing_cycle
from routeplan.solve.naive import sweep_groups
from routeplan.solve.schedule import (
    _cheapest_insertion,
    _day_minutes,
    _LaidDays,
    _spread_make_ups,
    _tighten_make_ups,
    lay_out_month,
    makeup_load,
)
from routeplan.solve.search import CycleRoutes, PeriodicSearch
from routeplan.solve.tsp import path_length
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
    _spread_make_ups(_LaidDays(sc, model, 0, days, visit_days))
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


def test_a_model_lays_a_manager_s_routes_the_same_from_its_memo_as_afresh(tiny: Scenario) -> None:
    """A month model keeps each manager's laid days by his routes: the month laid after the
    make-up load (and again) is the month a fresh model lays, and what one layout does with the
    days it is handed (the visits, the calls) leaves the kept ones as they were."""
    model = MonthModel(tiny, travel_for(tiny))
    search = PeriodicSearch(model.problem(np.zeros(model.k * model.s)))
    search.set_routes(*routes_from_groups(model, *sweep_groups(model)))
    cycle = search.cycle()
    assert any(model.mcals[mi].runs(slot)[1] for mi in range(model.k) for slot in range(model.s)), "no lost run"
    load = makeup_load(model, cycle)
    laid = lay_out_month(model, cycle, seconds=0.0, seed=0)
    assert lay_out_month(model, cycle, seconds=0.0, seed=0) == laid
    fresh = MonthModel(tiny, travel_for(tiny))
    assert lay_out_month(fresh, cycle, seconds=0.0, seed=0) == laid
    assert np.array_equal(makeup_load(fresh, cycle), load) and load.any()
    assert any(v.makeup for v in laid.visits)
    # the first manager's routes of the lost run's slot and another slot swapped: laid anew
    lost = next(slot for slot in range(model.s) if model.mcals[0].runs(slot)[1])
    swap = {lost: (lost + 1) % model.s, (lost + 1) % model.s: lost}
    routes = [cycle.routes[swap.get(r, r)] for r in range(len(cycle.routes))]
    rides = tuple(tuple(swap.get(r, r) for r in cycle.routes_of(c)) for c in range(model.n))
    swapped = CycleRoutes(tuple(routes), rides)
    again = lay_out_month(model, swapped, seconds=0.0, seed=0)
    assert again != laid
    assert again == lay_out_month(MonthModel(tiny, travel_for(tiny)), swapped, seconds=0.0, seed=0)


def test_the_slots_a_month_runs_most_take_the_shortest_routes(tiny: Scenario) -> None:
    """December runs three of the cycle's slots three times and the others twice: relabelling
    each manager's routes (the cycle's weeks rotated, its weekdays reversed, two slots swapped)
    gives the thrice-run slots shorter routes. The routes themselves stay as they were, every
    shop keeps an allowed pattern, and the laid month drives less."""
    sc = standing_cycle(tiny)
    assert sc is not None
    model = MonthModel(sc, travel_for(sc))
    runs = np.concatenate([model.month_runs(mi) for mi in range(model.k)])
    assert set(runs) == {2.0, 3.0}
    search = PeriodicSearch(model.problem(np.zeros(model.k * model.s)))
    search.set_routes(*routes_from_groups(model, *sweep_groups(model)))
    # start from the worst whole-cycle labelling of each manager: the longest routes run most
    nwd, weeks = len(sc.calendar.workdays), sc.calendar.cycle_weeks
    for mi in range(model.k):
        base = mi * model.s
        for shift, reverse in ((1, False), (0, True), (1, True)):
            perm = {
                base + w * nwd + d: base + (w + shift) % weeks * nwd + (nwd - 1 - d if reverse else d)
                for w in range(weeks) for d in range(nwd)
            }  # fmt: skip
            search.try_permutation(perm, lambda: -float(runs @ search.loads().km))
    routes_before = sorted(tuple(r) for r in search.routes)
    weighted_before = float(runs @ search.loads().km)
    month_before = lay_out_month(model, search.cycle(), seconds=0.0, seed=0)

    assert relabel_routes(model, search, deadline=time.monotonic() - 1) == 0, "past its deadline: no manager"
    assert float(runs @ search.loads().km) == weighted_before
    assert relabel_routes(model, search) > 0
    assert float(runs @ search.loads().km) < weighted_before
    assert sorted(tuple(r) for r in search.routes) == routes_before
    for c in range(model.n):
        rows = search.routes_of(c)
        assert rows and search.choice[c] >= 0
        assert tuple(sorted(rows)) in {tuple(sorted(p[p >= 0])) for p in model.patterns[c]}
    month_after = lay_out_month(model, search.cycle(), seconds=0.0, seed=0)
    assert sum(v.travel_km for v in month_after.visits) < sum(v.travel_km for v in month_before.visits)


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


def _week_km(model: MonthModel, days: dict[date, Day]) -> float:
    return sum(path_length(model.dist, model.n, [c for c, _, _ in stops], model.end_node) for stops in days.values())


def _costly_make_up(tiny: Scenario) -> tuple[MonthModel, date, date, list[int], list[int], int]:
    """Two days of a week with ten regular stops each, and the shop whose make-up costs most
    more at the end of the first day than anywhere on the second."""
    first, second = _two_days(tiny)
    model = MonthModel(tiny, travel_for(tiny))
    here, there = list(range(0, 10)), list(range(10, 20))
    shop = max(range(20, model.n), key=lambda c: float(model.dist[here[-1], c]) - _insertion_km(model, there, c))
    return model, first, second, here, there, shop


def _insertion_km(model: MonthModel, seq: list[int], c: int) -> float:
    return _cheapest_insertion(model, model.n, seq, model.end_node, c)[0]


def test_a_make_up_placed_far_from_its_neighbours_moves_to_the_cheapest_day_of_its_week(tiny: Scenario) -> None:
    """A make-up visit that took a costly place goes where it costs least in its week; the
    regular stops keep their order and the week drives that much less."""
    model, first, second, here, there, shop = _costly_make_up(tiny)
    added_first = float(model.dist[here[-1], shop])
    assert _insertion_km(model, there, shop) < _insertion_km(model, here, shop) <= added_first
    days = {first: [(c, 0, False) for c in here] + [(shop, 1, True)], second: [(c, 2, False) for c in there]}
    visit_days = {c: {first} for c in here} | {c: {second} for c in there} | {shop: {first}}
    before = _week_km(model, days)
    _tighten_make_ups(_LaidDays(tiny, model, 0, days, visit_days))
    assert (shop, 1, True) in days[second] and visit_days[shop] == {second}
    assert days[first] == [(c, 0, False) for c in here]
    assert [c for c, _, makeup in days[second] if not makeup] == there
    assert _week_km(model, days) == pytest.approx(before - added_first + _insertion_km(model, there, shop))


def test_a_make_up_does_not_move_onto_a_day_it_would_take_past_the_limit(tiny: Scenario) -> None:
    model, first, second, here, there, shop = _costly_make_up(tiny)
    full: Day = [(c, 2, False) for c in there]
    sc, model = _model_with_window(tiny, full)
    sc = dataclasses.replace(sc, rules=dataclasses.replace(sc.rules, max_day_minutes=sc.rules.max_day_minutes + 1))
    days = {first: [(c, 0, False) for c in here] + [(shop, 1, True)], second: list(full)}
    visit_days = {c: {first} for c in here} | {c: {second} for c in there} | {shop: {first}}
    # the second day has a minute to spare, less than the make-up's service alone
    assert sc.retailers[shop].service_minutes > 1
    _tighten_make_ups(_LaidDays(sc, model, 0, days, visit_days))
    assert days[second] == full and visit_days[shop] == {first}
    assert (shop, 1, True) in days[first]


def test_a_make_up_keeps_its_visits_spaced(tiny: Scenario) -> None:
    """The cheaper day is too close to the shop's other visit: the make-up stays where it is."""
    model, first, second, here, there, shop = _costly_make_up(tiny)
    days = {first: [(c, 0, False) for c in here] + [(shop, 1, True)], second: [(c, 2, False) for c in there]}
    need = tiny.gap_days(2)
    # the shop's other visit of the month: just too close to the second day, far enough from the first
    other = second + timedelta(days=need - 1) if second > first else second - timedelta(days=need - 1)
    visit_days = {c: {first} for c in here} | {c: {second} for c in there} | {shop: {first, other}}
    assert abs((other - first).days) >= need > abs((other - second).days)
    _tighten_make_ups(_LaidDays(tiny, model, 0, days, visit_days))
    assert visit_days[shop] == {first, other} and (shop, 1, True) in days[first]


def test_tightened_make_ups_drive_less_and_break_no_rule_the_layout_kept(
    tiny: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month with a holiday laid with and without moving the make-ups: fewer km, and no rule
    broken that the untightened month kept."""
    from routeplan import check
    from routeplan.figures import total_km
    from routeplan.solve import schedule

    cal = tiny.calendar
    holiday = next(d for d in cal.working_days() if d.day > 7 and d.weekday() == 4)
    # the sweep's routes are short of the daily minimums, which would hold every make-up in place
    managers = tuple(dataclasses.replace(m, min_stops_per_day=0) for m in tiny.managers)
    sc = dataclasses.replace(
        tiny, calendar=dataclasses.replace(cal, holidays=cal.holidays | {holiday}), managers=managers,
        rules=dataclasses.replace(tiny.rules, min_field_minutes=0),
    )  # fmt: skip
    model = MonthModel(sc, travel_for(sc))
    search = PeriodicSearch(model.problem(np.zeros(model.k * model.s)))
    search.set_routes(*routes_from_groups(model, *sweep_groups(model)))
    tight = lay_out_month(model, search.cycle(), seconds=0.0, seed=0)
    monkeypatch.setattr(schedule, "MAKEUP_PASSES", 0)
    # a fresh model: a model keeps the days it laid for each manager's routes
    loose = lay_out_month(MonthModel(sc, travel_for(sc)), search.cycle(), seconds=0.0, seed=0)
    assert sum(v.makeup for v in tight.visits) == sum(v.makeup for v in loose.visits) > 0
    assert total_km(sc, tight) < total_km(sc, loose)
    kinds = {(v.rule, v.code, v.manager_id, v.retailer_id) for v in check.check_plan(sc, tight)}
    assert kinds <= {(v.rule, v.code, v.manager_id, v.retailer_id) for v in check.check_plan(sc, loose)}


@pytest.mark.parametrize("minimum", ["stops", "field"])
def test_a_make_up_a_day_needs_for_its_minimum_stays(tiny: Scenario, minimum: str) -> None:
    """The first day reaches its minimum of stops (or of field time) only with the make-up: it
    stays there, however much cheaper the second day would take it."""
    model, first, second, here, there, shop = _costly_make_up(tiny)
    days = {first: [(c, 0, False) for c in here] + [(shop, 1, True)], second: [(c, 2, False) for c in there]}
    visit_days = {c: {first} for c in here} | {c: {second} for c in there} | {shop: {first}}
    sc = tiny
    if minimum == "stops":
        managers = (dataclasses.replace(tiny.managers[0], min_stops_per_day=len(here) + 1), *tiny.managers[1:])
        sc = dataclasses.replace(tiny, managers=managers, rules=dataclasses.replace(tiny.rules, min_field_minutes=0))
    else:
        field = _day_minutes(model, model.n, [*here, shop], model.end_node)
        managers = (dataclasses.replace(tiny.managers[0], min_stops_per_day=0), *tiny.managers[1:])
        sc = dataclasses.replace(
            tiny, managers=managers, rules=dataclasses.replace(tiny.rules, min_field_minutes=math.floor(field))
        )
    _tighten_make_ups(_LaidDays(sc, model, 0, days, visit_days))
    assert (shop, 1, True) in days[first] and visit_days[shop] == {first}
