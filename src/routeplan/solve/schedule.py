"""Laying the cycle's routes onto the month's dates.

Each working day runs the route of its slot in the fixed order. A run lost to a
holiday or a day off is made up within its week: each of its shops is inserted into
another working day of that week, on the day that keeps its visits spaced and costs
the least detour, keeping the day inside its time limit where possible. Shops not
seen in person in a week get a phone call on their route's weekday.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from ..calendar import days_to_nearest, monday_of
from ..model import Scenario
from ..plan import Call, Plan, Route, Visit

if TYPE_CHECKING:
    from .month import MonthModel
    from .search import CycleRoutes


def _day_minutes(model: MonthModel, start: int, seq: list[int], end: int) -> float:
    path = [start, *seq, end]
    idx = np.asarray(path)
    return float(model.time[idx[:-1], idx[1:]].sum() + model.service[seq].sum())


def _cheapest_insertion(model: MonthModel, start: int, seq: list[int], end: int, c: int) -> tuple[float, float, int]:
    """(km added, minutes added, position) of the cheapest place for c in the day."""
    path = np.asarray([start, *seq, end])
    a, b = path[:-1], path[1:]
    km = model.dist[a, c] + model.dist[c, b] - model.dist[a, b]
    i = int(np.argmin(km))
    minutes = model.time[a[i], c] + model.time[c, b[i]] - model.time[a[i], b[i]] + model.service[c]
    return float(km[i]), float(minutes), i


def _manager_days(model: MonthModel, cycle: CycleRoutes, mi: int) -> dict[date, list[tuple[int, int, bool]]]:
    """Working day -> [(customer, route, is make-up)] in visiting order, before make-ups."""
    scenario = model.sc
    cal = scenario.calendar
    days: dict[date, list[tuple[int, int, bool]]] = {}
    for day in scenario.working_days(scenario.managers[mi]):
        slot = cal.slot_of(day)
        assert slot is not None
        r = mi * model.s + slot
        days[day] = [(c, r, False) for c in cycle.routes[r]]
    return days


def _make_up(
    model: MonthModel,
    cycle: CycleRoutes,
    mi: int,
    days: dict[date, list[tuple[int, int, bool]]],
    notes: list[str],
) -> dict[int, set[date]]:
    """Insert the shops of every lost run into other working days of its week.

    Returns each customer's visit dates. ``days`` is changed in place.
    """
    sc = model.sc
    m = sc.managers[mi]
    mcal = model.mcals[mi]
    n_slots = model.s
    window = sc.rules.field_window_minutes
    office = model.n + mi
    end = office if m.return_to_office else model.end_node
    label = sc.calendar.slot_label
    visit_days: dict[int, set[date]] = defaultdict(set)
    pending: dict[int, int] = defaultdict(int)
    for day, stops in days.items():
        for c, _, _ in stops:
            visit_days[c].add(day)
    lost_runs: list[tuple[date, int]] = []
    for slot in range(n_slots):
        _, lost = mcal.runs(slot)
        for day in lost:
            r = mi * n_slots + slot
            lost_runs.append((day, r))
            for c in cycle.routes[r]:
                pending[c] += 1

    def freedom(c: int, targets: list[date]) -> int:
        """How many days of the week could take c's make-up visit with its spacing kept."""
        gap = sc.gap_days(len(visit_days[c]) + pending[c])
        return sum(d not in visit_days[c] and days_to_nearest(d, visit_days[c]) >= gap for d in targets)

    for lost_day, r in sorted(lost_runs):
        targets = mcal.makeup_days(lost_day)
        # the most constrained shops first, so that the flexible ones make room for them
        for c in sorted(cycle.routes[r], key=lambda c: freedom(c, targets)):
            pending[c] -= 1
            retailer = sc.retailers[c]
            options = [d for d in targets if d.weekday() not in retailer.closed_weekdays and d not in visit_days[c]]
            if not options:
                notes.append(
                    f"{m.id}: run of {m.id}-{label(r % n_slots)} on {lost_day} could not be made up for shop {retailer.id}"
                )
                continue
            gap = sc.gap_days(len(visit_days[c]) + 1 + pending[c])
            seen = visit_days[c]
            spaced = [d for d in options if days_to_nearest(d, seen) >= gap] or [
                max(options, key=lambda d: days_to_nearest(d, seen))
            ]
            best = None
            for d in spaced:
                seq = [x for x, _, _ in days[d]]
                km, minutes, pos = _cheapest_insertion(model, office, seq, end, c)
                after = _day_minutes(model, office, seq, end) + minutes
                over = max(0.0, after - window)
                # the smallest detour, leaning towards the emptier day
                key = (over > 0, over, km + model.weights.makeup_load_km_per_min * after, d)
                if best is None or key < best[0]:
                    best = (key, d, pos)
            assert best is not None
            _, d, pos = best
            days[d].insert(pos, (c, r, True))
            visit_days[c].add(d)

    _spread_make_ups(sc, model, mi, days, visit_days)
    return visit_days


def _spread_make_ups(
    sc: Scenario,
    model: MonthModel,
    mi: int,
    days: dict[date, list[tuple[int, int, bool]]],
    visit_days: dict[int, set[date]],
) -> None:
    """Move make-up visits off days past the limit to days of the same week with room.

    Make-ups are placed one shop at a time, so the last ones can find every day of the week
    full while the first ones took room a later one needed. Each move takes the make-up that
    brings the fullest day furthest back to its limit onto another working day of its week
    where it fits, its visits still spaced as the rules ask (or no closer than where it was).
    ``days`` and ``visit_days`` change in place.
    """
    m = sc.managers[mi]
    window = sc.rules.field_window_minutes
    office = model.n + mi
    end = office if m.return_to_office else model.end_node

    def minutes(d: date) -> float:
        return _day_minutes(model, office, [x for x, _, _ in days[d]], end)

    length = {d: minutes(d) for d in days if any(makeup for _, _, makeup in days[d])}
    for _ in range(sum(makeup for v in days.values() for _, _, makeup in v)):
        full = [d for d in length if length[d] > window]
        if not full:
            return
        best: tuple[tuple[float, float], date, int, date] | None = None
        for d in full:
            week = [t for t in sc.calendar.week_days(monday_of(d)) if t != d and t in days]
            for i, (c, _, makeup) in enumerate(days[d]):
                if not makeup:
                    continue
                rest = [x for j, (x, _, _) in enumerate(days[d]) if j != i]
                relief = min(length[d] - _day_minutes(model, office, rest, end), length[d] - window)
                others = visit_days[c] - {d}
                spacing = min(days_to_nearest(d, others), sc.gap_days(len(visit_days[c])))
                closed = sc.retailers[c].closed_weekdays
                for t in week:
                    if t in visit_days[c] or t.weekday() in closed or days_to_nearest(t, others) < spacing:
                        continue
                    km, added, _ = _cheapest_insertion(model, office, [x for x, _, _ in days[t]], end, c)
                    if length.get(t, minutes(t)) + added > window:
                        continue
                    key = (-relief, km)
                    if best is None or key < best[0]:
                        best = (key, d, i, t)
        if best is None:
            return
        _, d, i, t = best
        c, r, _ = days[d].pop(i)
        _, _, pos = _cheapest_insertion(model, office, [x for x, _, _ in days[t]], end, c)
        days[t].insert(pos, (c, r, True))
        visit_days[c].discard(d)
        visit_days[c].add(t)
        length[d], length[t] = minutes(d), minutes(t)


def makeup_load(model: MonthModel, cycle: CycleRoutes) -> np.ndarray:
    """Minutes of make-up visits each route's days receive at most in the month."""
    scenario = model.sc
    load = np.zeros(model.k * model.s)
    for mi in range(model.k):
        office = model.n + mi
        end = office if scenario.managers[mi].return_to_office else model.end_node
        days = _manager_days(model, cycle, mi)
        before = {d: (len(v), _day_minutes(model, office, [c for c, _, _ in v], end)) for d, v in days.items()}
        _make_up(model, cycle, mi, days, [])
        for d, v in days.items():
            if len(v) == before[d][0]:
                continue
            slot = scenario.calendar.slot_of(d)
            assert slot is not None
            extra = _day_minutes(model, office, [c for c, _, _ in v], end) - before[d][1]
            r = mi * model.s + slot
            load[r] = max(load[r], extra)
    return load


def lay_out_month(model: MonthModel, cycle: CycleRoutes, *, seconds: float, seed: int) -> Plan:
    """The month's plan: ``cycle``'s routes run on their slots' dates, lost runs made up,
    phone calls for the weeks a shop is not visited (``model.sc`` is the scenario)."""
    sc = model.sc
    cal = sc.calendar
    rules = sc.rules
    n_slots = model.s
    retailer_ids = [r.id for r in sc.retailers]
    routes: list[Route] = []
    route_id: dict[int, str] = {}
    for mi, m in enumerate(sc.managers):
        for slot in range(n_slots):
            r = mi * n_slots + slot
            route_id[r] = f"{m.id}-{cal.slot_label(slot)}"
            if cycle.routes[r]:
                routes.append(
                    Route(
                        route_id[r], m.id, slot, cal.slot_label(slot), tuple(retailer_ids[c] for c in cycle.routes[r])
                    )
                )

    visits: list[Visit] = []
    calls: list[Call] = []
    notes: list[str] = list(model.notes)
    for mi, m in enumerate(sc.managers):
        mcal = model.mcals[mi]
        office = model.n + mi
        days = _manager_days(model, cycle, mi)
        visit_days = _make_up(model, cycle, mi, days, notes)

        for day in sorted(days):
            t = float(rules.leave_minutes)
            prev = office
            for seq_no, (c, r, makeup) in enumerate(days[day], start=1):
                t += model.time[prev, c]
                arrival = t
                t += model.service[c]
                visits.append(
                    Visit(
                        manager_id=m.id,
                        date=day,
                        seq=seq_no,
                        retailer_id=retailer_ids[c],
                        arrival=round(arrival),
                        departure=round(t),
                        route_id=route_id[r],
                        travel_km=round(float(model.dist[prev, c]), 3),
                        makeup=makeup,
                    )
                )
                prev = c

        # phone calls: every shop hears from its manager every week
        mine = [c for c in range(model.n) if cycle.routes_of(c) and cycle.routes_of(c)[0] // n_slots == mi]
        for monday in cal.weeks():
            week = [d for d in cal.week_days(monday) if mcal.working(d)]
            if not week:
                continue
            for c in mine:
                if any(monday <= d < monday + timedelta(days=7) for d in visit_days[c]):
                    continue
                r = cycle.routes_of(c)[0]
                weekday = cal.slot_weekday(r % n_slots)
                due = monday + timedelta(days=weekday)
                day = min(week, key=lambda d: (abs((d - due).days), d))
                calls.append(Call(m.id, day, retailer_ids[c], route_id[r]))

    visits.sort(key=lambda v: (v.manager_id, v.date, v.seq))
    calls.sort(key=lambda x: (x.manager_id, x.date, x.retailer_id))
    return Plan(
        scenario_name=sc.name,
        visits=tuple(visits),
        calls=tuple(calls),
        routes=tuple(routes),
        solve_seconds=seconds,
        seed=seed,
        notes=tuple(notes),
    )
