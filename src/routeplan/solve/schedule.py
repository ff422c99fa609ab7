"""Laying the cycle's routes onto the month's dates.

Each working day runs the route of its slot in the fixed order. A run lost to a
holiday or a day off is made up within its week: each of its shops is inserted into
another working day of that week, on the day that keeps its visits spaced and costs
the least detour, keeping the day inside its time limit where possible (a week too
short for its lost runs sends the rest to other weeks); then each make-up moves to
the cheapest place of its week while that saves km. Shops not
seen in person in a week get a phone call on their route's weekday.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import numpy as np

from ..calendar import days_to_nearest, monday_of
from ..model import Scenario
from ..plan import Call, Plan, Route, Visit

#: Rounds of moving make-up visits to cheaper places (each round tries every one).
MAKEUP_PASSES = 5
#: Least km a move of a make-up visit must save (rounding noise is no saving).
MAKEUP_GAIN_KM = 1e-6
#: Minutes of rounding noise ignored when a day's field time is compared with its minimum.
FIELD_TOLERANCE_MIN = 1e-6

if TYPE_CHECKING:
    from .month import MonthModel
    from .search import CycleRoutes

#: one manager's laid days (day -> [(customer, route, is make-up)]), visit dates and notes
_LaidManager = tuple[dict[date, list[tuple[int, int, bool]]], dict[int, set[date]], list[str]]


def _day_minutes(model: MonthModel, start: int, seq: list[int], end: int) -> float:
    return _path_minutes(model, np.asarray([start, *seq, end]))


def _path_minutes(model: MonthModel, path: np.ndarray) -> float:
    """Field minutes of a day's path (its start, its stops, its end)."""
    return float(model.time[path[:-1], path[1:]].sum() + model.service[path[1:-1]].sum())


def _cheapest_insertion(model: MonthModel, start: int, seq: list[int], end: int, c: int) -> tuple[float, float, int]:
    """(km added, minutes added, position) of the cheapest place for c in the day."""
    return _insertion_on(model, np.asarray([start, *seq, end]), c)


def _insertion_on(model: MonthModel, path: np.ndarray, c: int) -> tuple[float, float, int]:
    """(km added, minutes added, position) of the cheapest place for c on a day's path."""
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
        shut = _shut(model, cycle, r, day)
        days[day] = [(c, r, False) for c in cycle.routes[r] if c not in shut]
    return days


def _shut(model: MonthModel, cycle: CycleRoutes, r: int, day: date) -> set[int]:
    """The shops of route r closed on ``day``: on a day worked for a holiday (a Saturday), those
    closed that weekday, whose visit is made up in the week; on the route's own weekday none."""
    if model.sc.calendar.worked_for(day) is None:
        return set()
    return {c for c in cycle.routes[r] if day.weekday() in model.sc.retailers[c].closed_weekdays}


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
    lost_runs: list[tuple[date, int, tuple[int, ...]]] = []  # (day, route, its shops not seen that day)
    for slot in range(n_slots):
        r = mi * n_slots + slot
        regular, lost = mcal.runs(slot)
        lost_runs += [(day, r, tuple(cycle.routes[r])) for day in lost]
        lost_runs += [(day, r, tuple(sorted(shut))) for day in regular if (shut := _shut(model, cycle, r, day))]
    for _, _, shops in lost_runs:
        for c in shops:
            pending[c] += 1

    def freedom(c: int, targets: tuple[date, ...]) -> int:
        """How many days of the week could take c's make-up visit with its spacing kept."""
        gap = sc.gap_days(len(visit_days[c]) + pending[c])
        return sum(d not in visit_days[c] and days_to_nearest(d, visit_days[c]) >= gap for d in targets)

    for lost_day, r, shops in sorted(lost_runs):
        targets = mcal.makeup_days(lost_day)
        # the most constrained shops first, so that the flexible ones make room for them
        for c in sorted(shops, key=lambda c: freedom(c, targets)):
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

    laid = _LaidDays(sc, model, mi, days, visit_days)
    _spread_make_ups(laid)
    _spread_make_ups(laid, elsewhere=True)
    _tighten_make_ups(laid)
    return visit_days


@dataclass
class _LaidDays:
    """One manager's working days as laid (day -> [(customer, route, is make-up)] in visiting
    order) and each shop's visit dates, with the moves of a make-up visit within its week."""

    sc: Scenario
    model: MonthModel
    mi: int
    days: dict[date, list[tuple[int, int, bool]]]
    visit_days: dict[int, set[date]]
    office: int = field(init=False)
    end: int = field(init=False)
    window: float = field(init=False)
    #: field minutes of each day, kept up to date by :meth:`move`
    length: dict[date, float] = field(init=False)
    #: each day's path (the office, its stops, its end) as the matrices' indices, made when first
    #: asked for and dropped by :meth:`move` (the make-up moves ask for the same days again and again)
    _paths: dict[date, np.ndarray] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.office = self.model.n + self.mi
        self.end = self.office if self.sc.managers[self.mi].return_to_office else self.model.end_node
        self.window = self.sc.rules.field_window_minutes
        self.length = {d: self.minutes(d) for d in self.days}

    def stops(self, d: date, without: int | None = None) -> list[int]:
        return [c for j, (c, _, _) in enumerate(self.days[d]) if j != without]

    def path(self, d: date, without: int | None = None) -> np.ndarray:
        """Day d's path (``without`` its stop at that index)."""
        path = self._paths.get(d)
        if path is None:
            path = self._paths[d] = np.asarray([self.office, *(c for c, _, _ in self.days[d]), self.end])
        return path if without is None else np.delete(path, without + 1)

    def minutes(self, d: date, without: int | None = None) -> float:
        return _path_minutes(self.model, self.path(d, without))

    def insertion(self, d: date, c: int, without: int | None = None) -> tuple[float, float, int]:
        """(km added, minutes added, position) of the cheapest place for c on day d (``without``
        its stop at that index)."""
        return _insertion_on(self.model, self.path(d, without), c)

    def removal_km(self, d: date, i: int) -> float:
        """The km day d saves without its stop i."""
        a, c, b = self.path(d)[i : i + 3].tolist()
        return float(self.model.dist[a, c] + self.model.dist[c, b] - self.model.dist[a, b])

    def destinations(self, d: date, c: int, *, elsewhere: bool = False) -> list[date]:
        """The other working days of d's week (``elsewhere``: of the other weeks) that may take
        c's visit of day d: c is not seen that day, not closed on it, and its visits stay as far
        apart as the rules ask (or no closer than they are)."""
        others = self.visit_days[c] - {d}
        spacing = min(days_to_nearest(d, others), self.sc.gap_days(len(self.visit_days[c])))
        closed = self.sc.retailers[c].closed_weekdays
        week = self.sc.calendar.week_days(monday_of(d))
        candidates = [t for t in self.days if t not in week] if elsewhere else week
        return [
            t for t in candidates
            if t != d and t in self.days and t not in self.visit_days[c] and t.weekday() not in closed
            and days_to_nearest(t, others) >= spacing
        ]  # fmt: skip

    def keeps_minimum(self, d: date, seq: list[int]) -> bool:
        """Whether day d with the stops ``seq`` keeps the day's minimum of stops and field time, or
        is no further below it than it is now (field time: from the office to the last shop)."""
        now, then = (_day_minutes(self.model, self.office, x, self.model.end_node) for x in (self.stops(d), seq))
        least = self.sc.managers[self.mi].min_stops_per_day
        return (
            len(seq) >= min(least, len(self.days[d]))
            and then >= min(self.sc.rules.min_field_minutes, now) - FIELD_TOLERANCE_MIN
        )

    def move(self, d: date, i: int, t: date, pos: int) -> None:
        """The make-up visit at index i of day d to position pos of day t."""
        c, r, _ = self.days[d].pop(i)
        self.days[t].insert(pos, (c, r, True))
        self.visit_days[c].discard(d)
        self.visit_days[c].add(t)
        self._paths.pop(d, None)
        self._paths.pop(t, None)
        self.length[d], self.length[t] = self.minutes(d), self.minutes(t)


def _spread_make_ups(laid: _LaidDays, *, elsewhere: bool = False) -> None:
    """Move make-up visits off days past the limit to days of the same week with room
    (``elsewhere``: to days of the other weeks).

    Make-ups are placed one shop at a time, so the last ones can find every day of the week
    full while the first ones took room a later one needed. Each move takes the make-up that
    brings the fullest day furthest back to its limit onto another working day of its week
    where it fits, its visits still spaced as the rules ask (or no closer than where it was).
    A week that cannot hold its lost runs at all (a holiday week's two working days for three
    days of runs) sends what is left to the other weeks, the last resort.
    """
    days, window, length = laid.days, laid.window, laid.length
    for _ in range(sum(makeup for v in days.values() for _, _, makeup in v)):
        full = [d for d in days if length[d] > window and any(makeup for _, _, makeup in days[d])]
        if not full:
            return
        best: tuple[tuple[float, float], date, int, date] | None = None
        for d in full:
            for i, (c, _, makeup) in enumerate(days[d]):
                if not makeup:
                    continue
                relief = min(length[d] - laid.minutes(d, without=i), length[d] - window)
                for t in laid.destinations(d, c, elsewhere=elsewhere):
                    km, added, _ = laid.insertion(t, c)
                    if length[t] + added > window:
                        continue
                    key = (-relief, km)
                    if best is None or key < best[0]:
                        best = (key, d, i, t)
        if best is None:
            return
        _, d, i, t = best
        laid.move(d, i, t, laid.insertion(t, days[d][i][0])[2])


def _tighten_make_ups(laid: _LaidDays) -> None:
    """Move each make-up visit to the cheapest place in its week while that saves km.

    The shops of a lost run are placed one at a time, the most constrained first, so a shop
    placed early took its cheapest place before its neighbours of the lost run were there to
    share the detour. Each make-up is taken out and put back at its cheapest position on a
    working day of its week (its own day too) that stays inside the day limit and keeps the
    shop's visits as far apart as the rules ask (or no closer than where it was), and never
    off a day that needs it for its minimum of stops or field time; the regular stops of each
    day keep their order.
    """
    days = laid.days
    for _ in range(MAKEUP_PASSES):
        moved = False
        for d in sorted(d for d in days if any(makeup for _, _, makeup in days[d])):
            i = 0
            while i < len(days[d]):
                c, _, makeup = days[d][i]
                if not makeup:
                    i += 1
                    continue
                rest = laid.stops(d, without=i)
                saved = laid.removal_km(d, i) - MAKEUP_GAIN_KM
                km, _, pos = laid.insertion(d, c, without=i)
                best = (km, d, pos) if km < saved and laid.keeps_minimum(d, [*rest[:pos], c, *rest[pos:]]) else None
                # a day that needs this visit for its minimum keeps it
                for t in laid.destinations(d, c) if laid.keeps_minimum(d, rest) else []:
                    km, added, pos = laid.insertion(t, c)
                    if laid.length[t] + added <= laid.window and km < min(saved, best[0] if best else saved):
                        best = (km, t, pos)
                if best is None:
                    i += 1
                    continue
                _, t, pos = best
                laid.move(d, i, t, pos)
                moved = True
                if t == d:  # put back on its own day; else the next stop now sits at i
                    i += 1
        if not moved:
            return


#: Per month model, each manager's laid days by his routes (see :func:`_laid_days`).
_LAID: WeakKeyDictionary[MonthModel, dict[tuple[int, tuple[tuple[int, ...], ...]], _LaidManager]] = WeakKeyDictionary()


def _laid_days(model: MonthModel, cycle: CycleRoutes, mi: int) -> _LaidManager:
    """Manager mi's working days with his lost runs made up, each shop's visit dates, and the
    notes on make-ups that found no day (fresh copies). They depend on his routes alone, and
    the make-up step is asked for the same routes again and again (each round of room left
    for make-ups, then the month's plan), so each model keeps them by his routes."""
    key = (mi, tuple(cycle.routes[mi * model.s : (mi + 1) * model.s]))
    memo = _LAID.setdefault(model, {})
    if key not in memo:
        days, notes = _manager_days(model, cycle, mi), list[str]()
        memo[key] = (days, _make_up(model, cycle, mi, days, notes), notes)
    days, visit_days, notes = memo[key]
    return (
        {d: list(v) for d, v in days.items()},
        defaultdict(set, {c: set(x) for c, x in visit_days.items()}),
        list(notes),
    )


def makeup_load(model: MonthModel, cycle: CycleRoutes) -> np.ndarray:
    """Minutes of make-up visits each route's days receive at most in the month."""
    scenario = model.sc
    load = np.zeros(model.k * model.s)
    for mi in range(model.k):
        office = model.n + mi
        end = office if scenario.managers[mi].return_to_office else model.end_node
        before = {d: (len(v), _day_minutes(model, office, [c for c, _, _ in v], end))
                  for d, v in _manager_days(model, cycle, mi).items()}  # fmt: skip
        days, _, _ = _laid_days(model, cycle, mi)
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
    shops_of: dict[int, list[int]] = defaultdict(list)  # by manager index: the shops on his routes
    for c in range(model.n):
        if cycle.routes_of(c):
            shops_of[cycle.routes_of(c)[0] // n_slots].append(c)
    for mi, m in enumerate(sc.managers):
        mcal = model.mcals[mi]
        office = model.n + mi
        days, visit_days, made_up_notes = _laid_days(model, cycle, mi)
        notes += made_up_notes

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
        mine = shops_of[mi]
        seen = {c: {monday_of(d) for d in visit_days[c]} for c in mine}  # the weeks each shop is visited
        for monday in cal.weeks():
            week = [d for d in cal.week_days(monday) if mcal.working(d)]
            if not week:
                continue
            for c in mine:
                if monday in seen[c]:
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
