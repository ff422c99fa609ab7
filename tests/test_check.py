"""The checker catches every kind of broken plan (it is the oracle of the solver tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from routeplan.check import check_plan
from routeplan.plan import Plan


def codes(scenario, plan: Plan) -> set[str]:
    return {v.code for v in check_plan(scenario, plan)}


def test_tiny_plan_keeps_every_rule(tiny, tiny_plan):
    assert check_plan(tiny, tiny_plan) == []


def _drop(plan: Plan, pred) -> Plan:
    return replace(plan, visits=tuple(v for v in plan.visits if not pred(v)))


def _renumber(plan: Plan) -> Plan:
    out = []
    for (_, _), seq in sorted(plan.days().items()):
        out.extend(replace(v, seq=i) for i, v in enumerate(seq, 1))
    return replace(plan, visits=tuple(out))


def test_missing_visits_break_frequency(tiny, tiny_plan):
    victim = tiny_plan.visits[0].retailer_id
    broken = _renumber(_drop(tiny_plan, lambda v: v.retailer_id == victim and v.date != tiny_plan.visits[0].date))
    assert "frequency" in codes(tiny, broken)


def test_shop_served_by_two_managers(tiny, tiny_plan):
    v0 = tiny_plan.visits[0]
    other = next(m.id for m in tiny.managers if m.id != v0.manager_id)
    visits = list(tiny_plan.visits)
    visits[0] = replace(v0, manager_id=other)
    found = codes(tiny, replace(tiny_plan, visits=tuple(visits)))
    assert "shared" in found


def test_short_day_breaks_min_stops(tiny, tiny_plan):
    (mid, day), seq = next(iter(sorted(tiny_plan.days().items())))
    keep = {v.retailer_id for v in seq[:3]}
    broken = _drop(tiny_plan, lambda v: v.manager_id == mid and v.date == day and v.retailer_id not in keep)
    assert "min-stops" in codes(tiny, broken)


def test_late_day_breaks_max_day(tiny, tiny_plan):
    (_mid, _day), seq = next(iter(sorted(tiny_plan.days().items())))
    last = seq[-1]
    late = replace(last, arrival=last.arrival + 600, departure=last.departure + 600)
    visits = tuple(late if v is last else v for v in tiny_plan.visits)
    assert "max-day" in codes(tiny, replace(tiny_plan, visits=visits))


def test_impossible_arrival_time(tiny, tiny_plan):
    (_mid, _day), seq = next(iter(sorted(tiny_plan.days().items())))
    second = seq[1]
    early = replace(second, arrival=seq[0].arrival, departure=seq[0].arrival + (second.departure - second.arrival))
    visits = tuple(early if v is second else v for v in tiny_plan.visits)
    assert "timing" in codes(tiny, replace(tiny_plan, visits=visits))


def test_reordered_run_breaks_fixed_route(tiny, tiny_plan):
    days = sorted(tiny_plan.days().items())
    (_mid, _day), seq = next(((k, s) for k, s in days if len(s) > 3 and not any(v.makeup for v in s)))
    a, b = seq[0], seq[1]
    swapped = {id(a): replace(a, seq=b.seq), id(b): replace(b, seq=a.seq)}
    visits = tuple(swapped.get(id(v), v) for v in tiny_plan.visits)
    assert "route-order" in codes(tiny, replace(tiny_plan, visits=visits))


def test_route_moved_to_another_weekday(tiny, tiny_plan):
    days = sorted(tiny_plan.days().items())
    (mid, day), _seq = next(((k, s) for k, s in days if k[1].weekday() == 1))
    target = day + timedelta(days=1)  # the Wednesday: not this route's slot
    moved = tuple(
        replace(v, date=target, seq=v.seq + 1000) if v.manager_id == mid and v.date == day else v
        for v in tiny_plan.visits
    )
    found = codes(tiny, _renumber(replace(tiny_plan, visits=moved)))
    assert {"off-slot", "min-stops"} & found


def test_visit_on_holiday(tiny, tiny_plan):
    holiday = next(iter(tiny.calendar.holidays))
    v0 = tiny_plan.visits[0]
    visits = (replace(v0, date=holiday, seq=1), *tiny_plan.visits[1:])
    assert "not-working" in codes(tiny, _renumber(replace(tiny_plan, visits=visits)))


def test_bunched_visits_break_spacing(tiny, tiny_plan):
    by_shop: dict[str, list] = {}
    for v in tiny_plan.visits:
        by_shop.setdefault(v.retailer_id, []).append(v)
    _rid, vs = next((k, vs) for k, vs in by_shop.items() if len(vs) == 2)
    first, second = sorted(vs, key=lambda v: v.date)
    moved = replace(second, date=first.date + timedelta(days=1), seq=999)
    visits = tuple(moved if v is second else v for v in tiny_plan.visits)
    assert "spacing" in codes(tiny, _renumber(replace(tiny_plan, visits=visits)))


def test_missing_calls_break_weekly_contact(tiny, tiny_plan):
    assert tiny_plan.calls, "a two-week cycle leaves weeks without a visit"
    broken = replace(tiny_plan, calls=tiny_plan.calls[1:])
    assert "no-contact" in codes(tiny, broken)


def test_unplanned_shop(tiny, tiny_plan):
    victim = tiny.retailers[5].id
    broken = replace(
        _renumber(_drop(tiny_plan, lambda v: v.retailer_id == victim)),
        calls=tuple(c for c in tiny_plan.calls if c.retailer_id != victim),
    )
    assert "unassigned" in codes(tiny, broken)


@pytest.mark.parametrize("rule", [1, 2, 3, 4, 5])
def test_every_violation_says_how_to_fix(tiny, tiny_plan, rule):
    broken = replace(tiny_plan, visits=tiny_plan.visits[::2], calls=())
    found = [v for v in check_plan(tiny, broken) if v.rule == rule]
    if rule == 1:
        found = check_plan(tiny, replace(tiny_plan, visits=(), calls=()))
    assert found
    assert all(v.fix and v.message for v in found)


def only(scenario, plan: Plan, previous: Plan | None = None) -> set[str]:
    return {v.code for v in check_plan(scenario, plan, previous)}


def test_lock_broken_is_route_lock(tiny, tiny_plan):
    v0 = tiny_plan.visits[0]
    other = next(r.id for r in tiny_plan.routes if r.manager_id == v0.manager_id and r.id != v0.route_id
                 and v0.retailer_id not in r.stops)  # fmt: skip
    shops = tuple(replace(r, route_id=other) if r.id == v0.retailer_id else r for r in tiny.retailers)
    assert only(replace(tiny, retailers=shops), tiny_plan) == {"route-lock"}


def test_suspended_shop_visited_is_caught(tiny, tiny_plan):
    victim = tiny.retailers[0]
    sc = replace(tiny, retailers=tiny.retailers[1:], suspended=(victim,))
    assert only(sc, tiny_plan) == {"suspended"}


def test_route_off_its_booked_slot_is_caught(tiny, tiny_plan):
    r0 = tiny_plan.routes[0]
    other = next(r for r in tiny_plan.routes if r.manager_id == r0.manager_id and r.label != r0.label)
    routes = tuple(replace(r, label=other.label) if r.id == r0.id else r for r in tiny_plan.routes)
    assert only(tiny, replace(tiny_plan, routes=routes)) == {"route-slot-label"}


def test_cycle_that_does_not_run_on_is_caught(tiny, tiny_plan):
    period = 7 * tiny.calendar.cycle_weeks
    shifted = tuple(replace(v, date=v.date - timedelta(days=period)) for v in tiny_plan.visits)
    previous = replace(tiny_plan, visits=shifted, calls=())
    assert only(tiny, tiny_plan, previous) == set(), "runs a whole cycle apart keep the phase"
    off_phase = tuple(replace(v, date=v.date - timedelta(days=7)) for v in tiny_plan.visits)
    assert only(tiny, tiny_plan, replace(tiny_plan, visits=off_phase, calls=())) == {"cycle-phase"}


def test_pin_by_lock_counts_as_pin(tiny, tiny_plan):
    v0 = tiny_plan.visits[0]
    other_manager = next(m.id for m in tiny.managers if m.id != v0.manager_id)
    lock = f"{other_manager}-{tiny_plan.routes[0].label}"
    shops = tuple(replace(r, route_id=lock) if r.id == v0.retailer_id else r for r in tiny.retailers)
    assert only(replace(tiny, retailers=shops), tiny_plan) == {"pin", "route-lock"}
