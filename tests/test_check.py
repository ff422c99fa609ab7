"""The checker catches every kind of broken plan (it is the oracle of the solver tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from routeplan.check import check_plan
from routeplan.plan import Call, Plan, Visit
from routeplan.travel import travel_for


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


def test_a_long_day_of_make_ups_points_to_the_holiday_not_the_territory(tiny, tiny_plan):
    (_mid, _day), seq = next((k, s) for k, s in sorted(tiny_plan.days().items()) if any(v.makeup for v in s))
    last = seq[-1]
    late = replace(last, arrival=last.arrival + 600, departure=last.departure + 600)
    broken = replace(tiny_plan, visits=tuple(late if v is last else v for v in tiny_plan.visits))
    found = [v for v in check_plan(tiny, broken) if v.code == "max-day"]
    makeups = sum(v.makeup for v in seq)
    assert len(found) == 1 and found[0].fix.startswith(f"{makeups} of its visits make up runs lost to holidays")
    assert "workday_swaps" in found[0].fix and "visits_per_month" in found[0].fix


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


# ---- one test per kind of violation: a correct plan broken by hand, exactly that kind found ----
# Where one broken rule necessarily breaks another too, the companion is named and explained.


def _a_day(plan: Plan, pred=lambda k, seq: True) -> tuple[tuple[str, object], list[Visit]]:
    return next((k, seq) for k, seq in sorted(plan.days().items()) if pred(k, seq))


def _with(plan: Plan, visits) -> Plan:
    return replace(plan, visits=tuple(visits))


def _shop(sc, rid):
    return next(r for r in sc.retailers if r.id == rid)


def _retailers(sc, rid, **changes):
    return replace(sc, retailers=tuple(replace(r, **changes) if r.id == rid else r for r in sc.retailers))


def test_kind_unknown_shop(tiny, tiny_plan):
    v0 = tiny_plan.visits[0]
    assert only(tiny, _with(tiny_plan, [*tiny_plan.visits, replace(v0, retailer_id="NOPE")])) == {"unknown-shop"}


def test_kind_unknown_manager(tiny, tiny_plan):
    v0 = tiny_plan.visits[0]
    assert only(tiny, _with(tiny_plan, [*tiny_plan.visits, replace(v0, manager_id="NOBODY")])) == {"unknown-manager"}


def test_kind_unassigned(tiny, tiny_plan):
    # a shop nobody visits or calls: its route's runs all lose it alike, so nothing else breaks
    shops = {v.retailer_id for v in tiny_plan.visits}
    sc = replace(tiny, retailers=(*tiny.retailers, replace(tiny.retailers[0], id="EXTRA")))
    assert "EXTRA" not in shops
    assert only(sc, tiny_plan) == {"unassigned", "frequency"}  # no visit also means too few visits


def test_a_shop_pinned_to_a_manager_away_all_month_names_him(tiny, tiny_plan):
    """Unvisited because its manager is off every day: the report names him and the pin, not
    a missing manager or closed weekdays."""
    away = tiny.managers[1]
    month_off = frozenset(tiny.calendar.working_days())
    sc = replace(
        tiny,
        retailers=(*tiny.retailers, replace(tiny.retailers[0], id="EXTRA", manager_id=away.id)),
        managers=tuple(replace(m, days_off=month_off) if m.id == away.id else m for m in tiny.managers),
    )
    found = {v.code: v for v in check_plan(sc, tiny_plan) if v.retailer_id == "EXTRA"}
    assert set(found) == {"unassigned", "frequency"}
    assert f"pinned to {away.id}, who has no working day" in found["unassigned"].message
    assert found["unassigned"].manager_id == away.id
    assert f"{away.id} has no working day this month" in found["frequency"].fix


def test_kind_shared(tiny, tiny_plan):
    c0 = tiny_plan.calls[0]
    other = next(m.id for m in tiny.managers if m.id != c0.manager_id)
    calls = (*tiny_plan.calls, replace(c0, manager_id=other))
    assert only(tiny, replace(tiny_plan, calls=calls)) == {"shared"}


def test_kind_pin(tiny, tiny_plan):
    v0 = tiny_plan.visits[0]
    other = next(m.id for m in tiny.managers if m.id != v0.manager_id)
    assert only(_retailers(tiny, v0.retailer_id, manager_id=other), tiny_plan) == {"pin"}


def test_kind_same_day(tiny, tiny_plan):
    # every run of one route ends with its first shop again: the runs stay alike, the day stays short
    travel = travel_for(tiny)
    route = tiny_plan.visits[0].route_id
    extra = []
    for (_mid, _day), seq in tiny_plan.days().items():
        if seq[0].route_id != route or any(v.makeup for v in seq):
            continue
        first, last = seq[0], seq[-1]
        a, b = _shop(tiny, last.retailer_id).location, _shop(tiny, first.retailer_id).location
        arrive = last.departure + int(travel.leg(a, b)[1]) + 2
        extra.append(
            replace(first, seq=last.seq + 1, arrival=arrive, departure=arrive + first.departure - first.arrival)
        )
    assert extra
    assert only(tiny, _with(tiny_plan, [*tiny_plan.visits, *extra])) == {"same-day"}


def test_kind_frequency(tiny, tiny_plan):
    v0 = tiny_plan.visits[0]
    shop = _shop(tiny, v0.retailer_id)
    assert only(_retailers(tiny, shop.id, visits_per_month=shop.visits_per_month + 5), tiny_plan) == {"frequency"}


def test_a_frequency_fix_says_what_the_month_holds(tiny, tiny_plan):
    """A shop short of visits is put on another route, unless the month cannot hold them: open on
    Fridays only, December 2026 has 3 working Fridays (the 25th is a holiday) for 4 or more; with its
    manager off on those, none."""
    v0 = tiny_plan.visits[0]
    shop = _shop(tiny, v0.retailer_id)

    def fix(sc):
        return next(v.fix for v in check_plan(sc, tiny_plan) if v.code == "frequency" and v.retailer_id == shop.id)

    want = 1 + len({v.date for v in tiny_plan.visits if v.retailer_id == shop.id})  # one more than it gets
    assert fix(_retailers(tiny, shop.id, visits_per_month=want)).startswith("put it on another")
    want = max(4, want)
    fridays = _retailers(tiny, shop.id, visits_per_month=want, closed_weekdays=frozenset({0, 1, 2, 3}))
    assert "at most 3 well-spaced visits: approve 3" in fix(fridays)
    off = frozenset(date(2026, 12, d) for d in (4, 11, 18))
    away = replace(fridays, managers=tuple(replace(m, days_off=off) if m.id == v0.manager_id else m
                                           for m in fridays.managers))  # fmt: skip
    assert fix(away).startswith("it is open on none of this month's working days")


def test_kind_spacing(tiny, tiny_plan):
    # a shop's second visit moved to the day after its first, at the end of that day
    travel = travel_for(tiny)
    by_shop: dict[str, list[Visit]] = {}
    for v in tiny_plan.visits:
        by_shop.setdefault(v.retailer_id, []).append(v)
    days = tiny_plan.days()
    first, second = next(
        (a, b)
        for a, b in (sorted(vs, key=lambda v: v.date) for vs in by_shop.values() if len(vs) == 2)
        if (a.manager_id, a.date + timedelta(days=1)) in days
    )
    (_mid, day), seq = _a_day(tiny_plan, lambda k, s: k == (first.manager_id, first.date + timedelta(days=1)))
    last = seq[-1]
    a, b = _shop(tiny, last.retailer_id).location, _shop(tiny, second.retailer_id).location
    arrive = last.departure + int(travel.leg(a, b)[1]) + 2
    moved = replace(second, date=day, seq=last.seq + 1, arrival=arrive,
                    departure=arrive + second.departure - second.arrival)  # fmt: skip
    rest = [v for v in tiny_plan.visits if v is not second]
    found = only(tiny, _renumber(_with(tiny_plan, [*rest, moved])))
    # the moved visit also leaves its own run short and rides its route off the route's slot
    assert "spacing" in found
    assert found <= {"spacing", "route-order", "route-slot-label", "off-slot", "min-stops", "no-contact", "timing"}


def test_kind_closed(tiny, tiny_plan):
    v0 = tiny_plan.visits[0]
    assert only(_retailers(tiny, v0.retailer_id, closed_weekdays=frozenset({v0.date.weekday()})), tiny_plan) == {
        "closed"
    }


def test_kind_not_working(tiny, tiny_plan):
    # a day made a holiday after planning: its visits and calls are on no working day, and its
    # route's run is not made up that week
    day = tiny_plan.visits[0].date
    sc = replace(tiny, calendar=replace(tiny.calendar, holidays=tiny.calendar.holidays | {day}))
    assert only(sc, tiny_plan) == {"not-working", "makeup", "call-day"}


def test_kind_sequence(tiny, tiny_plan):
    (mid, day), _seq = _a_day(tiny_plan)
    shifted = [replace(v, seq=v.seq + 1) if (v.manager_id, v.date) == (mid, day) else v for v in tiny_plan.visits]
    assert only(tiny, _with(tiny_plan, shifted)) == {"sequence"}


def test_kind_min_stops(tiny, tiny_plan):
    m0 = tiny.managers[0]
    sc = replace(tiny, managers=(replace(m0, min_stops_per_day=500), *tiny.managers[1:]))
    assert only(sc, tiny_plan) == {"min-stops"}


def test_kind_timing(tiny, tiny_plan):
    (_mid, _day), seq = _a_day(tiny_plan, lambda k, s: len(s) > 2)
    second = seq[1]
    early = replace(second, arrival=seq[0].arrival, departure=seq[0].arrival + (second.departure - second.arrival))
    assert only(tiny, _with(tiny_plan, [early if v is second else v for v in tiny_plan.visits])) == {"timing"}


def test_kind_service(tiny, tiny_plan):
    (_mid, _day), seq = _a_day(tiny_plan)
    v = seq[0]
    shorter = replace(v, departure=v.arrival + 1)
    assert only(tiny, _with(tiny_plan, [shorter if x is v else x for x in tiny_plan.visits])) == {"service"}


def test_kind_min_field(tiny, tiny_plan):
    sc = replace(tiny, rules=replace(tiny.rules, min_field_minutes=tiny.rules.max_day_minutes - 60))
    assert only(sc, tiny_plan) == {"min-field"}


def test_kind_max_day(tiny, tiny_plan):
    longest = max(v.departure for v in tiny_plan.visits) - tiny.rules.day_start_minutes
    sc = replace(tiny, rules=replace(tiny.rules, max_day_minutes=longest - 30, min_field_minutes=30))
    assert only(sc, tiny_plan) == {"max-day"}


def test_kind_route_managers(tiny, tiny_plan):
    # one route's visits relabelled with another manager's route id: that id is driven by two
    a = tiny_plan.routes[0]
    b = next(r for r in tiny_plan.routes if r.manager_id != a.manager_id)
    visits = [replace(v, route_id=a.id) if v.route_id == b.id else v for v in tiny_plan.visits]
    assert only(tiny, _with(tiny_plan, visits)) == {"route-managers"}


def test_kind_route_order(tiny, tiny_plan):
    # one regular run has two shops the other way round (times stay possible: the swap is timed)
    (_mid, _day), seq = _a_day(tiny_plan, lambda k, s: len(s) > 3 and not any(v.makeup for v in s))
    route = seq[0].route_id
    assert len({v.date for v in tiny_plan.visits if v.route_id == route and not v.makeup}) > 1
    a, b = seq[0], seq[1]
    swapped = {
        id(a): replace(b, seq=a.seq, arrival=a.arrival, departure=a.arrival + b.departure - b.arrival),
        id(b): replace(a, seq=b.seq, arrival=b.arrival + 30, departure=b.arrival + 30 + a.departure - a.arrival),
    }
    found = only(tiny, _with(tiny_plan, [swapped.get(id(v), v) for v in tiny_plan.visits]))
    assert "route-order" in found and found <= {"route-order", "timing"}


def test_kind_off_slot(tiny, tiny_plan):
    # a route runs a second time in a week with no lost run (on another day of its manager)
    (mid, day), seq = _a_day(tiny_plan, lambda k, s: not any(v.makeup for v in s))
    other_day = next(
        d for (m, d) in sorted(tiny_plan.days()) if m == mid and d != day and d.isocalendar()[1] == day.isocalendar()[1]
    )
    later = max(v.departure for v in tiny_plan.visits if v.manager_id == mid and v.date == other_day)
    n = len([v for v in tiny_plan.visits if v.manager_id == mid and v.date == other_day])
    v = seq[0]
    extra = replace(
        v, date=other_day, seq=n + 1, makeup=True, arrival=later + 120, departure=later + 120 + v.departure - v.arrival
    )
    found = only(tiny, _with(tiny_plan, [*tiny_plan.visits, extra]))
    assert found == {"off-slot", "spacing"}  # the shop's extra visit is days from its own


def test_kind_makeup_shops(tiny, tiny_plan):
    mk = next(v for v in tiny_plan.visits if v.makeup)
    day_route = next(v.route_id for v in tiny_plan.visits if v.date == mk.date and v.manager_id == mk.manager_id
                     and not v.makeup)  # fmt: skip
    stranger = next(v for v in tiny_plan.visits if v.route_id == day_route and v.date == mk.date)
    # a shop of the day's own route booked as a make-up of the lost route
    visits = [replace(v, route_id=mk.route_id, makeup=True) if v is stranger else v for v in tiny_plan.visits]
    found = only(tiny, _with(tiny_plan, visits))
    assert "makeup-shops" in found and found <= {"makeup-shops", "route-order"}


def test_kind_makeup(tiny, tiny_plan):
    mk = next(v for v in tiny_plan.visits if v.makeup)
    shop = _shop(tiny, mk.retailer_id)
    visits = [v for v in tiny_plan.visits if v is not mk]
    # the shop gets a call instead, and fewer visits are approved for it: only the missing make-up is left
    sc = _retailers(tiny, shop.id, visits_per_month=1)
    call = Call(manager_id=mk.manager_id, date=mk.date, retailer_id=mk.retailer_id, route_id=mk.route_id)
    broken = replace(_renumber(_with(tiny_plan, visits)), calls=(*tiny_plan.calls, call))
    found = only(sc, broken)
    assert "makeup" in found and found <= {"makeup", "timing"}


def test_kind_call_day(tiny, tiny_plan):
    c0 = tiny_plan.calls[0]
    saturday = c0.date + timedelta(days=5 - c0.date.weekday())
    calls = (replace(c0, date=saturday), *tiny_plan.calls[1:])
    assert only(tiny, replace(tiny_plan, calls=calls)) == {"call-day"}


def test_kind_no_contact(tiny, tiny_plan):
    assert only(tiny, replace(tiny_plan, calls=tiny_plan.calls[1:])) == {"no-contact"}


def test_every_kind_has_its_test():
    """The kinds the checker can report, read from its source, each appear in a test above."""
    import inspect
    import re

    import routeplan.check as check

    kinds = set(re.findall(r'code="([a-z-]+)"', inspect.getsource(check)))
    tested = set(re.findall(r'"([a-z-]+)"', inspect.getsource(inspect.getmodule(test_every_kind_has_its_test))))
    assert kinds and kinds <= tested, sorted(kinds - tested)
