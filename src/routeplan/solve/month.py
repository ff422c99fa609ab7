"""Planning a month: the scenario mapped onto the periodic search and back.

Routes are (manager, cycle slot) pairs; a shop's patterns are the slot sets of one
manager that give it its monthly visits, so "one manager per shop" and "fixed
routes" hold by construction. The search then moves shops between routes, slots
and managers; finally the cycle is laid onto the calendar (make-up visits for runs
lost to holidays and days off, phone calls for weeks without a visit). The routes are
planned for the standing cycle (the month without its holidays and days off) and then
laid onto the month (:func:`plan_month`), so that they stand in the months after it.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from ..calendar import Calendar
from ..geo import mean_nearest, nearest_in_rows
from ..model import Retailer, Scenario
from ..plan import Plan
from ..routebook import RouteBook
from ..travel import KeptTravel, TravelModel, travel_for
from .areas import TERRITORY_SHAPES, cut_areas, weeks_ridden
from .design import design_territories, pins, positions_km
from .kernels import warm_up
from .lns import compiled as lns_compiled
from .lns import fixed_routes, solve_free_day
from .lns import warm_up as warm_up_lns
from .ordering import ortools_order
from .params import Continuing, LnsSchedule, Margins, Penalties, Rounds, TimeShares, Weights
from .patterns import ManagerCalendar, PatternFit, pattern_dates, richest_patterns, valid_patterns
from .schedule import lay_out_month, makeup_load
from .search import PeriodicSearch, Problem, RouteSpec
from .territory import split_among_offices

if TYPE_CHECKING:
    from ..check import Violation

#: A pattern that gives well-spaced visits this month but not in one of the next this many
#: months is *fragile*: a standing route book built on it would have to change then.
ROBUST_MONTHS = 3
NEIGHBOURS = 30

ProgressFn = Callable[[str, float], None]

TERRITORY_MODES = ("auto", "fixed", "free")


@dataclass(frozen=True)
class PlanParams:
    """How hard to search. ``time_limit_s`` bounds the whole solve."""

    time_limit_s: float = 60.0
    workers: int = 0
    #: ``fixed``: design the territories first (balanced, compact; see ``design.py``) and keep
    #: them, so the search spends its time on routes. ``free``: the search moves shops between
    #: managers as it likes (territories interleave more). ``auto``: fixed, and where that
    #: breaks a rule (no shop can move to another manager to relieve a holiday week) the free
    #: search too, sized for ``shares.fallback`` of the time limit; the better plan is kept.
    territories: str = "auto"
    #: the designed territories' shape for a team at one office: ``wedges`` around the office,
    #: ``compact``, or ``auto``: whichever drives less by the estimate (see ``areas.py``)
    territory_shape: str = "auto"
    #: continuing a plan: a shop that keeps its place changes route only to repair a broken
    #: rule or to save at least this many km a month (see ``continuation.py`` for the default)
    move_km: float = 5.0
    #: continuing a plan: at most this many continuing shops change route (``None``: no cap)
    max_moves: int | None = None
    #: every phase's work is counted in rounds sized from the time limit; ``clock`` also stops a
    #: phase at its share of the limit (a safety net on a slow machine). Off, only the round
    #: counts stop the search: a seed gives the same plan on any machine, however long it takes.
    clock: bool = True
    #: the clock's safety net as a share of ``time_limit_s``: below 1 for an office or group of
    #: a company left less time than its rounds are sized for (the split among offices took it,
    #: or its worker's earlier parts ran long), so that all end by the company's limit while the
    #: round counts, and so the plan a fast machine makes, stay those of its share of the limit
    clock_share: float = 1.0
    #: how the time limit is shared among the phases
    shares: TimeShares = TimeShares()
    #: what the search's soft preferences cost
    weights: Weights = Weights()
    #: minutes a route keeps from the day's limits
    margins: Margins = Margins()
    #: how much search a second of the time limit buys
    rounds: Rounds = Rounds()
    #: what a continued month pays for changing the route book
    continuing: Continuing = Continuing()
    #: what a broken limit costs inside the search
    penalties: Penalties = Penalties()
    #: how the compiled ruin-and-recreate searches
    lns: LnsSchedule = LnsSchedule()

    def __post_init__(self) -> None:
        if self.territories not in TERRITORY_MODES:
            raise ValueError(f"territories must be one of {', '.join(TERRITORY_MODES)}, not {self.territories!r}")
        if not 0 < self.clock_share <= 1:
            raise ValueError(f"clock_share must be in (0, 1], not {self.clock_share!r}")
        if self.territory_shape not in TERRITORY_SHAPES:
            raise ValueError(
                f"territory_shape must be one of {', '.join(TERRITORY_SHAPES)}, not {self.territory_shape!r}"
            )

    def n_workers(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)

    def deadline(self, t0: float, share: float = 1.0) -> float:
        """When a phase that may use ``share`` of the time limit from ``t0`` must stop (never, without the clock)."""
        return t0 + share * max(1.0, self.time_limit_s) * self.clock_share if self.clock else math.inf

    def within(self, seconds: float, left: float) -> float:
        """The time limit of a phase sized for ``seconds`` that must end within ``left`` seconds
        of the clock."""
        return max(0.0, min(seconds, left / self.clock_share))


@dataclass
class _Part:
    """One manager's share of the problem, small enough to ship to a worker process."""

    problem: Problem
    routes: list[list[int]]
    choice: np.ndarray
    rounds: int
    seed: int
    #: time.monotonic() value at which the part stops, whatever it has left to do
    deadline: float
    polish: bool
    #: what broken limits cost, and the shortfall price of the phase that made the part
    penalties: Penalties
    shortfall_price: float
    schedule: LnsSchedule
    #: iterations of the compiled ruin-and-recreate (``lns.py``) before the Python one
    lns_iterations: int = 0


def _improve_part(part: _Part) -> tuple[list[list[int]], np.ndarray]:
    if part.problem.n_customers == 0:  # a manager with no shops (all pinned elsewhere, or away)
        return part.routes, part.choice
    warm_up()
    search = PeriodicSearch(part.problem, seed=part.seed, penalties=part.penalties)
    search.price_shortfall(part.shortfall_price)
    search.set_routes(part.routes, part.choice)
    deadline = part.deadline
    search.local_search(deadline)
    if part.lns_iterations > 0:
        _compiled_rounds(search, part, deadline)
    nb = neighbours(part.problem.dist, part.problem.n_customers)
    search.ruin_recreate(deadline, nb, rounds=part.rounds)
    search.local_search(deadline)
    if part.polish:
        search.polish_orders(ortools_order)
    return search.routes, search.choice


def _compile_in_background() -> multiprocessing.process.BaseProcess | None:
    """On a fresh install, compile the free-day loop (about 30 s, once) on another core while
    the whole-plan phase runs, rather than in every worker later."""
    if lns_compiled() or multiprocessing.current_process().daemon:
        return None  # a daemonic process (a Dask worker) may not start one: it compiles when it needs to
    helper = multiprocessing.get_context("fork").Process(target=warm_up_lns, daemon=True)
    helper.start()
    return helper


def _compiled_rounds(search: PeriodicSearch, part: _Part, deadline: float) -> None:
    """Many fast ruin-and-recreate rounds that do not price make-up visits; kept only if the
    full cost (which does) went down."""
    warm_up_lns()
    before = search.total_cost()
    snapshot = ([list(r) for r in search.routes], search.choice.copy())
    problem = fixed_routes(part.problem)
    # a route that loses runs sends its shops to the other days of that week, whose make-up
    # room was reserved for it staying near its target: here that target is its limit
    runs = part.problem.makeup_runs
    limits = problem.limits.copy()
    if runs is not None:
        lossy = runs > 0
        limits[lossy, 0] = np.minimum(limits[lossy, 0], limits[lossy, 3])
    found = solve_free_day(
        dataclasses.replace(problem, limits=limits), seed=part.seed, time_limit_s=max(0.0, deadline - time.monotonic()),
        iterations=part.lns_iterations, initial=snapshot, prices=search.prices,
        schedule=part.schedule,
    )  # fmt: skip
    search.set_routes(found.routes, found.choice)
    search.reorder(set(range(len(search.routes))))
    if search.total_cost() > before:
        search.set_routes(*snapshot)


def neighbours(dist: np.ndarray, n: int) -> np.ndarray:
    """Each shop's :data:`NEIGHBOURS` nearest shops (itself among them), row block by row block."""
    return nearest_in_rows(dist, NEIGHBOURS, n, with_self=True)


class _Fragility:
    """Whether a slot set would break the spacing rule in one of the next months (no holidays).

    Irregular sets (a Tuesday one week, a Thursday the next) keep their spacing in some
    months and not in others; a route book built on them cannot stand month after month.
    """

    def __init__(self, cal: Calendar, gap_cap: int | None) -> None:
        self.gap_cap = gap_cap
        self.months = []
        year, month = cal.year, cal.month
        for _ in range(ROBUST_MONTHS):
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            ahead = Calendar(year, month, cal.workdays, frozenset(), cal.cycle_weeks, cal.cycle_start)
            self.months.append(ManagerCalendar(ahead, frozenset()))
        self.cache: dict[tuple[tuple[int, ...], int, frozenset[int]], bool] = {}

    def __call__(self, slots: tuple[int, ...], visits: int, closed: frozenset[int]) -> bool:
        key = (slots, visits, closed)
        if key not in self.cache:
            fits = [pattern_dates(m, slots, closed, self.gap_cap) for m in self.months]
            self.cache[key] = any(f is None or len(f.dates) < visits for f in fits)
        return self.cache[key]


#: a shop's patterns (-1 padded), the make-up part of their cost, and their whole cost
_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def _free_end(mat: np.ndarray, end: int) -> np.ndarray:
    """``mat`` with a free end: node ``end``'s row and column zero (a route ends wherever its
    last shop is). Written only where they are not zero yet, so month models over the same
    points can share one array (:class:`routeplan.travel.KeptTravel`); an array the travel
    model keeps read-only for its own lookups is copied first."""
    if mat[end].any() or mat[:, end].any():
        if not mat.flags.writeable:
            mat = mat.copy()
        mat[:, end] = 0.0
        mat[end, :] = 0.0
    return mat


class MonthModel:
    """The scenario translated into a :class:`Problem` (node, route and pattern numbering)."""

    def __init__(self, scenario: Scenario, travel: TravelModel, params: PlanParams | None = None) -> None:
        sc = scenario
        self.sc = sc
        params = params or PlanParams()
        self.weights, self.margins, self.lns = params.weights, params.margins, params.lns
        cal = sc.calendar
        self.n = n = len(sc.retailers)
        self.k = k = len(sc.managers)
        self.s = cal.n_slots
        points = [r.location for r in sc.retailers] + [m.office for m in sc.managers] + [sc.managers[0].office]
        self.end_node = end = n + k
        self.dist, self.time = (_free_end(mat, end) for mat in travel.matrices(points))
        self.service = np.array([r.service_minutes for r in sc.retailers] + [0.0] * (k + 1))
        self.mcals = [ManagerCalendar(cal, m.days_off) for m in sc.managers]
        self.notes: list[str] = []
        freqs = sorted({r.visits_per_month for r in sc.retailers}, reverse=True)
        self._rank = {f: i for i, f in enumerate(freqs)}
        self._fits: dict[tuple[int, int, frozenset[int]], list[PatternFit]] = {}
        self._fragile = _Fragility(cal, sc.rules.min_gap_days)
        self.patterns: list[np.ndarray] = []
        self.pattern_cost: list[np.ndarray] = []
        #: the part of ``pattern_cost`` that steers a fresh plan away from crowded make-up days
        self.makeup_cost: list[np.ndarray] = []
        self.min_slots = np.zeros(n, dtype=np.int64)
        # shops of one owner, frequency and closed weekdays share their arrays (built once)
        shared: dict[tuple[int | None, int, frozenset[int]], tuple[_Arrays, bool]] = {}
        for c, r in enumerate(sc.retailers):
            lock = sc.route_slot(r.route_id) if r.route_id else None
            owner = lock[0] if lock else r.manager_id
            key = (sc.manager_index[owner] if owner else None, r.visits_per_month, r.closed_weekdays)
            built = shared.get(key) if not lock else None
            if built is None:
                built = self._shop_arrays(r, key[0], lock)
                if not lock:
                    shared[key] = built
            (arr, makeup, cost), none_fit = built
            if none_fit:
                self.notes.append(
                    f"shop {r.id}: no set of route slots gives {r.visits_per_month} well-spaced visits "
                    f"with a {cal.cycle_weeks}-week cycle this month; it rides on the routes that give the most"
                )
            self.min_slots[c] = int((arr >= 0).sum(axis=1).min())
            self.patterns.append(arr)
            self.makeup_cost.append(makeup)
            self.pattern_cost.append(cost)

    def _shop_arrays(self, r: Retailer, owner: int | None, lock: tuple[str, int] | None) -> tuple[_Arrays, bool]:
        """A shop's pattern arrays (of its owner's routes, or any manager's), and whether no pattern
        gives its frequency (then it rides the patterns that give the most well-spaced visits; one
        route, any slot on an open weekday, where none spaces them)."""
        sc, s = self.sc, self.s
        allowed = [owner] if owner is not None else range(self.k)
        rows: list[list[int]] = []
        forced: list[int] = []
        weak: list[bool] = []
        for mi in allowed:
            fit_key = (mi, r.visits_per_month, r.closed_weekdays)
            if fit_key not in self._fits:
                fits = valid_patterns(self.mcals[mi], fit_key[1], fit_key[2], sc.rules.min_gap_days)
                # fragile patterns only where the shop has no pattern that keeps its spacing ahead
                robust = [f for f in fits if not self._fragile(f.slots, fit_key[1], fit_key[2])]
                self._fits[fit_key] = robust or fits
            rows.extend([mi * s + x for x in fit.slots] for fit in self._fits[fit_key])
            forced.extend(fit.forced_makeups for fit in self._fits[fit_key])
            weak.extend(self._fragile(fit.slots, fit_key[1], fit_key[2]) for fit in self._fits[fit_key])
        none_fit = not rows
        for mi in allowed if none_fit else ():
            fits = richest_patterns(self.mcals[mi], r.closed_weekdays, sc.rules.min_gap_days)
            rows.extend([mi * s + x for x in fit.slots] for fit in fits)
            forced.extend(fit.forced_makeups for fit in fits)
            weak.extend(False for _ in fits)
        if not rows:
            weekday = sc.calendar.slot_weekday
            rows = [[mi * s + x] for mi in allowed for x in range(s) if weekday(x) not in r.closed_weekdays]
            forced = [0] * len(rows)
            weak = [False] * len(rows)
        if lock:
            route = sc.manager_index[lock[0]] * s + lock[1]
            keep = self._locked(r.id, route, rows)
            rows = [rows[i] for i in keep] if keep else [[route]]
            forced = [forced[i] for i in keep] if keep else [0]
            weak = [weak[i] for i in keep] if keep else [False]
        return self._arrays(rows, forced, weak, self._rank[r.visits_per_month], self.weights), none_fit

    @staticmethod
    def _arrays(rows: list[list[int]], forced: list[int], weak: list[bool], rank: int, weights: Weights) -> _Arrays:
        """A shop's patterns (-1 padded), the make-up part of their cost, and their whole cost."""
        width = max(len(row) for row in rows)
        arr = np.full((len(rows), width), -1, dtype=np.int64)
        for i, row in enumerate(rows):
            arr[i, : len(row)] = row
        lengths = (arr >= 0).sum(axis=1)
        makeup = weights.forced_makeup_km * np.asarray(forced, dtype=float)
        cost = (
            weights.extra_visit_km * (lengths - lengths.min()) * (1 + rank)
            + makeup
            + weights.fragile_km * np.asarray(weak, dtype=float)
        )
        return arr, makeup, cost

    def _locked(self, shop: str, route: int, rows: list[list[int]]) -> list[int]:
        """The patterns that ride the route a shop is locked to (none: it will ride that route alone)."""
        keep = [i for i, row in enumerate(rows) if route in row]
        if not keep:
            self.notes.append(f"shop {shop}: no well-spaced pattern rides its locked route; it rides that route only")
        return keep

    def route_specs(self, reserve: np.ndarray) -> list[RouteSpec]:
        rules, margins = self.sc.rules, self.margins
        specs = []
        for mi, m in enumerate(self.sc.managers):
            office = self.n + mi
            for slot in range(self.s):
                working, lost = self.mcals[mi].runs(slot)
                back = margins.return_to_office if m.return_to_office else 0.0
                min_minutes = (rules.min_field_minutes + margins.safety + back) if working else 0.0
                loses_runs = any(self.mcals[mi].makeup_days(d) for d in lost)
                specs.append(
                    RouteSpec(
                        start=office,
                        end=office if m.return_to_office else self.end_node,
                        max_minutes=rules.field_window_minutes - reserve[mi * self.s + slot] - margins.safety,
                        min_minutes=min_minutes,
                        min_stops=m.min_stops_per_day if working else 0,
                        target_minutes=min_minutes + margins.lost_run_slack if loses_runs else float("inf"),
                    )
                )
        return specs

    def initial_reserve(self) -> np.ndarray:
        """Make-up minutes each route should leave free, assuming routes that lose runs stay small."""
        small = self.sc.rules.min_field_minutes + self.margins.lost_run_slack
        return self.proportional_reserve(np.full(self.k * self.s, float(small)))

    def proportional_reserve(self, route_minutes: np.ndarray, managers: range | None = None) -> np.ndarray:
        """Make-up minutes per route if every lost run spread evenly over its week (for ``managers``)."""
        reserve = np.zeros(self.k * self.s)
        for mi in managers if managers is not None else range(self.k):
            mcal = self.mcals[mi]
            load: dict[date, float] = {}
            for slot in range(self.s):
                for day in mcal.runs(slot)[1]:
                    targets = mcal.makeup_days(day)
                    for t in targets:
                        load[t] = load.get(t, 0.0) + route_minutes[mi * self.s + slot] / len(targets)
            for target, minutes in load.items():
                target_slot = self.sc.calendar.slot_of(target)
                if target_slot is not None:
                    r = mi * self.s + target_slot
                    reserve[r] = max(reserve[r], minutes)
        return reserve

    def month_runs(self, mi: int) -> np.ndarray:
        """How often each cycle slot of manager ``mi`` runs in the month, lost runs included (their
        shops are still visited, as make-ups): a slot due three times weighs a route 1.5 times
        one due twice."""
        return np.array([sum(map(len, self.mcals[mi].runs(slot))) for slot in range(self.s)], dtype=float)

    def makeup_structure(self) -> tuple[np.ndarray, np.ndarray]:
        """Per route: the routes of the days its lost runs are made up on, and how many runs it loses."""
        cal = self.sc.calendar
        targets: list[list[int]] = []
        runs = np.zeros(self.k * self.s)
        for mi, mcal in enumerate(self.mcals):
            for slot in range(self.s):
                mine: set[int] = set()
                for day in mcal.runs(slot)[1]:
                    days = mcal.makeup_days(day)
                    if days:
                        runs[mi * self.s + slot] += 1
                        mine.update(mi * self.s + cal.slot_of(d) for d in days)  # type: ignore[operator]
                targets.append(sorted(mine))
        width = max(1, max(len(t) for t in targets))
        arr = np.full((len(targets), width), -1, dtype=np.int64)
        for r, t in enumerate(targets):
            arr[r, : len(t)] = t
        return arr, runs

    def problem(self, reserve: np.ndarray) -> Problem:
        targets, runs = self.makeup_structure()
        return Problem(
            self.dist,
            self.time,
            self.service,
            self.route_specs(reserve),
            self.patterns,
            self.pattern_cost,
            targets,
            runs,
        )

    def part(
        self,
        mi: int,
        search: PeriodicSearch,
        rounds: int,
        seed: int,
        stop_at: float,
        polish: bool,
        routes: Sequence[int] | None = None,
    ) -> tuple[_Part, np.ndarray]:
        """Manager ``mi``'s routes (or only ``routes`` of them, the others standing) and the shops
        that ride only those, as a stand-alone problem; returns it and its shop ids."""
        chosen = np.arange(mi * self.s, (mi + 1) * self.s) if routes is None else np.asarray(routes, dtype=np.int64)
        to_local = np.full(self.k * self.s, -1, dtype=np.int64)
        to_local[chosen] = np.arange(len(chosen))
        inside = set(chosen.tolist())
        customers = np.array(
            [c for c in range(self.n) if search.choice[c] >= 0 and all(r in inside for r in search.routes_of(c))],
            dtype=np.int64,
        )
        nodes = np.concatenate([customers, [self.n + mi, self.end_node]])
        local = {int(g): i for i, g in enumerate(nodes)}
        office_l, end_l = len(customers), len(customers) + 1
        dist = self.dist[np.ix_(nodes, nodes)]
        tmin = self.time[np.ix_(nodes, nodes)]
        pats, costs, choice = [], [], np.full(len(customers), -1, dtype=np.int64)
        for i, c in enumerate(customers):
            arr = self.patterns[c]
            keep = np.flatnonzero(((arr < 0) | (to_local[np.maximum(arr, 0)] >= 0)).all(axis=1))
            sub = np.where(arr[keep] >= 0, to_local[np.maximum(arr[keep], 0)], -1)
            pats.append(sub)
            costs.append(self.pattern_cost[c][keep])
            choice[i] = int(np.flatnonzero(keep == search.choice[c])[0])
        specs = [
            RouteSpec(
                start=office_l,
                end=office_l if sp.end != self.end_node else end_l,
                max_minutes=sp.max_minutes,
                min_minutes=sp.min_minutes,
                min_stops=sp.min_stops,
                target_minutes=sp.target_minutes,
            )
            for sp in (search.p.routes[int(r)] for r in chosen)
        ]
        full_targets, full_runs = search.p.makeup_targets, search.p.makeup_runs
        assert full_targets is not None and full_runs is not None
        # make-up targets outside the part are dropped (the part cannot see those routes)
        sub_targets = np.where(full_targets[chosen] >= 0, to_local[np.maximum(full_targets[chosen], 0)], -1)
        problem = Problem(dist, tmin, self.service[nodes], specs, pats, costs, sub_targets, full_runs[chosen].copy())
        part_routes = [[local[c] for c in search.routes[int(r)]] for r in chosen]
        part = _Part(problem, part_routes, choice, rounds, seed, stop_at, polish, search.penalties,
                     search.shortfall_price, self.lns)  # fmt: skip
        return part, customers


def positions(model: MonthModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shops and offices in local km, and each shop's work weight (visits x (service + local travel))."""
    sc = model.sc
    n = model.n
    xy, offices = positions_km(sc)
    # local travel: the minutes to a shop's nearest few, read from the travel model's own times
    near = mean_nearest(model.time, 3, n)
    weights = model.min_slots * (model.service[:n] + near)
    return xy, offices, weights


def cluster_groups(
    model: MonthModel, rng: np.random.Generator, *, wedges: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Territory, weekday area and cycle week of every shop: territories by balanced k-means
    (or the pinned ones), areas compact or, for ``wedges`` territories, wedges around the office."""
    sc = model.sc
    n, k = model.n, model.k
    xy, offices, weights = positions(model)
    labels = split_among_offices(xy, weights, offices, rng, fixed=pins(sc)) if k > 1 else np.zeros(n, dtype=np.int64)
    day = np.zeros(n, dtype=np.int64)
    week = np.zeros(n, dtype=np.int64)
    for mi in range(k):
        day_areas(model, np.flatnonzero(labels == mi), xy, weights, offices[mi], rng, day, week, wedges=wedges)
    return labels, day, week


def day_areas(
    model: MonthModel,
    mine: np.ndarray,
    xy: np.ndarray,
    weights: np.ndarray,
    office: np.ndarray,
    rng: np.random.Generator,
    day: np.ndarray,
    week: np.ndarray,
    *,
    wedges: bool | None = False,
) -> None:
    """Split one territory's shops (``mine``, worked from ``office``) into weekday areas and
    those into cycle weeks, compact or as wedges around the office (``None``: whichever the
    route estimate finds shorter), in place."""
    cal = model.sc.calendar
    if not len(mine):
        return
    weeks = cal.cycle_weeks
    rides = weeks_ridden(np.array([model.sc.retailers[c].visits_per_month for c in mine]), weeks, cal.days_in_month)
    areas = cut_areas(xy[mine], weights[mine], office, len(cal.workdays), weeks, wedge=wedges, rng=rng, rides=rides)
    day[mine], week[mine] = areas // weeks, areas % weeks


def routes_from_groups(
    model: MonthModel, labels: np.ndarray, day: np.ndarray, week: np.ndarray
) -> tuple[list[list[int]], np.ndarray]:
    """Give each shop the pattern of its manager closest to its weekday area and cycle week."""
    s = model.s
    choice = np.array([area_pattern(model, c, int(labels[c]), int(day[c]), int(week[c])) for c in range(model.n)],
                      dtype=np.int64)  # fmt: skip
    routes: list[list[int]] = [[] for _ in range(model.k * s)]
    for cust in range(model.n):
        if choice[cust] >= 0:
            for r in model.patterns[cust][choice[cust]]:
                if r >= 0:
                    routes[int(r)].append(cust)
    return routes, choice


def area_pattern(model: MonthModel, cust: int, mi: int, day: int, week: int) -> int:
    """The shop's fewest-slot pattern of manager ``mi`` closest to its weekday area and cycle week (-1: none)."""
    s = model.s
    cal = model.sc.calendar
    nwd, c_weeks = len(cal.workdays), cal.cycle_weeks
    arr = model.patterns[cust]
    lengths = (arr >= 0).sum(axis=1)
    best, best_score = -1, None
    for p in np.flatnonzero(lengths == model.min_slots[cust]):
        row = arr[p][arr[p] >= 0]
        if not ((row >= mi * s) & (row < (mi + 1) * s)).all():
            continue
        slots = row - mi * s
        off_day = int(np.sum(slots % nwd != day))
        w = int(slots[0] // nwd)
        wdist = min((w - week) % c_weeks, (week - w) % c_weeks)
        score = (off_day, wdist, tuple(slots))
        if best_score is None or score < best_score:
            best, best_score = int(p), score
    return best


def whole_relabellings(cal: Calendar) -> list[dict[int, int]]:
    """The relabellings of a manager's cycle slots that keep a weekly shop's two weekdays
    neighbours: the weeks rotated, the weekdays reversed, or both (the identity first)."""
    nwd, weeks = len(cal.workdays), cal.cycle_weeks
    return [
        {w * nwd + d: (w + shift) % weeks * nwd + (nwd - 1 - d if reverse else d) for w in range(weeks) for d in range(nwd)}
        for shift in range(weeks) for reverse in (False, True)
    ]  # fmt: skip


def relabel_routes(model: MonthModel, search: PeriodicSearch, deadline: float = math.inf) -> int:
    """Relabel each manager's routes where the month drives less, its make-up room kept: the
    weeks of the cycle rotated, the weekdays reversed (both keep a weekly shop's two weekdays
    neighbours), every swap of two weekdays and of two slots; returns the relabellings kept.

    A route runs on its slot every cycle, whatever its label, so this shapes no route; but a
    month runs some slots three times and some twice, and the shorter routes should take the
    slots that run most. The managers after ``deadline`` keep their labels (the clock's safety
    net: a team of hundreds under a limit of seconds)."""
    cal = model.sc.calendar
    nwd, weeks = len(cal.workdays), cal.cycle_weeks
    kept = 0
    saved = search.limits()  # each manager's judge caps only his own routes; all are put back at the end
    for mi in range(model.k):
        base = mi * model.s
        if not any(search.routes[r] for r in range(base, base + model.s)):
            continue  # no stops: every relabelling is the same month
        if time.monotonic() > deadline:
            break
        perms = [{base + a: base + b for a, b in whole.items()} for whole in whole_relabellings(cal)[1:]]
        for a in range(nwd):
            for b in range(a + 1, nwd):
                col = {}
                for w in range(weeks):
                    x, y = base + w * nwd + a, base + w * nwd + b
                    col[x], col[y] = y, x
                perms.append(col)
        for x in range(model.s):
            for y in range(x + 1, model.s):
                perms.append({base + x: base + y, base + y: base + x})

        runs = model.month_runs(mi)

        def judge(mi: int = mi, runs: np.ndarray = runs) -> float:
            # the manager's routes scored with the make-up room their new contents would need,
            # their km counted as often as their slots run this month, and their shops' patterns
            reserve = model.proportional_reserve(search.loads().minutes, range(mi, mi + 1))
            part = slice(mi * model.s, (mi + 1) * model.s)
            search.cap_minutes(part, model.sc.rules.field_window_minutes - reserve[part] - model.margins.safety)
            now = search.loads(part)
            patterns = search.pattern_costs(range(part.start, part.stop))
            return float(search.penalty(now.km, now.minutes, now.stops, part).sum() + runs @ now.km + patterns)

        for perm in perms:
            kept += search.try_permutation(perm, judge)
    search.hold_to(saved)
    return kept


def settle_reserve(
    scenario: Scenario,
    model: MonthModel,
    search: PeriodicSearch,
    reserve: np.ndarray,
    deadline: float,
    *,
    swap: bool = True,
    improve: Callable[[float], object] | None = None,
) -> np.ndarray:
    """Leave room on each route for the make-up visits its days receive, re-optimising until it fits.

    Routes are first swapped between slots so that short ones take the runs that
    holidays cancel (unless ``swap`` is off: a standing route keeps its day); then each
    route is kept below the day limit less its make-ups, ``improve`` (default: the
    search's local search) repairing what that breaks.
    """
    improve = improve or search.local_search
    window = scenario.rules.field_window_minutes - model.margins.safety
    for it in range(4):
        swapped = relabel_routes(model, search, deadline) if swap else 0
        load = makeup_load(model, search.cycle())
        base = load if (it == 0 or swapped) else np.maximum(reserve, load)
        # never squeeze a route below what its own minimum of stops takes, nor below its field
        # time and room for one more stop (a route just short of the minimum must be able to
        # take a whole stop): the make-up visits must then go to the other days of the week
        now, held = search.loads(), search.limits()
        per_stop = now.minutes / np.maximum(now.stops, 1.0)
        need = np.maximum(held.min_minutes + per_stop, per_stop * held.min_stops)
        reserve = np.minimum(base, np.maximum(window - need, 0.0))
        search.set_limits(model.route_specs(reserve))
        held = search.limits()
        if not np.any(now.minutes > held.max_minutes) and not np.any(now.stops < held.min_stops):
            break
        improve(deadline)
    return reserve


def improve_each_manager(
    model: MonthModel,
    search: PeriodicSearch,
    params: PlanParams,
    planned: float,
    seed: int,
    stop_at: float,
    managers: Sequence[int] | None = None,
    routes: Mapping[int, Sequence[int]] | None = None,
) -> None:
    """Each manager's routes improved on their own (in parallel processes), sized for ``planned`` seconds.

    The number of rounds depends on ``planned`` only, never on the clock, so a seed gives
    one plan; ``stop_at`` is a safety net on a slower machine. ``managers``: only these;
    ``routes``: of a manager listed there, only those routes (and the shops riding only them).
    """
    chosen = list(range(model.k)) if managers is None else list(managers)
    if not chosen:
        return
    workers = min(params.n_workers(), len(chosen))
    # A plan asked for one worker (what-if variants run side by side) improves its managers one
    # at a time, so it plans fewer rounds; otherwise the count assumes the reference cores
    # whatever the machine, so that a seed gives the same plan everywhere.
    rates = params.rounds
    cores = min(params.workers, rates.reference_cores) if params.workers > 0 else rates.reference_cores
    polish_s = rates.polish_seconds_per_route * model.s * len(chosen) / cores
    polish = planned > 2 * polish_s
    if polish:
        planned -= polish_s
    batches = -(-len(chosen) // cores)  # managers are improved `cores` at a time
    per_manager_s = planned / batches
    rounds = max(20, int(rates.ruin_per_second * per_manager_s * (1 - params.shares.compiled_lns)))
    lns_iterations = int(rates.lns_per_second * per_manager_s * params.shares.compiled_lns)
    subsets = {mi: (routes or {}).get(mi) for mi in chosen}
    parts = [model.part(mi, search, rounds, seed * 1000 + mi, stop_at, polish, subsets[mi]) for mi in chosen]
    for part, _ in parts:
        part.lns_iterations = lns_iterations
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_improve_part, [p for p, _ in parts]))
    else:
        results = [_improve_part(p) for p, _ in parts]
    new_routes = [list(r) for r in search.routes]
    new_choice = search.choice.copy()
    for mi, (part, customers), (sub_routes, sub_choice) in zip(chosen, parts, results, strict=True):
        to_global = np.asarray(subsets[mi] if subsets[mi] is not None else range(mi * model.s, (mi + 1) * model.s))
        for j, seq in enumerate(sub_routes):
            new_routes[int(to_global[j])] = [int(customers[x]) for x in seq]
        for i, cust in enumerate(customers):
            arr = model.patterns[cust]
            sub_row = part.problem.patterns[i][sub_choice[i]]
            want = np.where(sub_row >= 0, to_global[np.maximum(sub_row, 0)], -1)
            match = np.flatnonzero((arr == want).all(axis=1))
            new_choice[cust] = int(match[0])
    search.set_routes(new_routes, new_choice)


def plan_month(
    scenario: Scenario,
    params: PlanParams | None = None,
    *,
    seed: int = 0,
    travel: TravelModel | None = None,
    progress: ProgressFn | None = None,
) -> Plan:
    """Plan the scenario's month. Pure: reads no files, prints nothing.

    The routes are planned for the standing cycle (every route runs in every cycle, as
    in a month without holidays or days off) and then laid onto the month, whose lost
    runs the layout repairs (``continuation.lay_book``): the routes stay right for the
    months that follow, instead of being shaped around this month's holidays; where the
    search ends with two candidate cycles (:func:`_second_look`), each is laid and the better
    month kept. Where the laid month breaks a rule, the month is also planned with its
    holidays from the start (sized for ``params.shares.fallback`` of the time limit) and the
    better plan is kept.

    The result always comes back, feasible or not; :func:`routeplan.check.check_plan`
    says which rules it keeps.
    """
    params = params or PlanParams()
    standing = standing_cycle(scenario)
    t0 = time.monotonic()
    # every problem of the month (fixed and free territories, the cycle and each lay of it) is
    # over the same places: they share one pair of travel matrices
    travel = KeptTravel.around(travel or travel_for(scenario))
    if standing is None:
        planned = _plan_territories(scenario, params, seed=seed, travel=travel, progress=progress)
        second = _look(planned, params, params.deadline(t0), 0.0)
        return _best(scenario, [planned.plan, *([second] if second else [])], time.monotonic() - t0)
    say = progress or (lambda stage, frac: None)
    budget = max(1.0, params.time_limit_s)
    lay_share = params.shares.lay
    cycle_params = dataclasses.replace(params, time_limit_s=budget * (1 - lay_share))
    anew_s = budget * params.shares.fallback * params.clock_share  # the clock's for the month planned anew
    planned = _plan_territories(standing, cycle_params, seed=seed, travel=travel,
                                progress=lambda stage, frac: say(stage, frac * (1 - lay_share)))  # fmt: skip

    def lay(cycle: Plan, first: Mapping[str, dict[int, int]] | None = None) -> _Laid:
        return _lay_labelled(
            scenario, standing, RouteBook.of(standing, cycle), params, seed=seed, travel=travel,
            planned_s=budget * lay_share, deadline=params.deadline(t0), anew_s=anew_s, first=first,
        )  # fmt: skip

    say("laying the routes onto the month", 1 - lay_share)
    best = lay(planned.plan)
    say("a second look at each manager's routes", 1 - lay_share / 2)
    # where the laid month breaks a rule, the time for the month planned anew is kept from it;
    # the second cycle is laid first as the first one's best was, so the look keeps time for that
    anew = anew_s if best.broken else 0.0
    second = _look(planned, params, params.deadline(t0) - anew, best.longest)
    if second is not None:
        best = min(best, lay(second, best.relabel), key=_Laid.score)  # the first on a tie
    laid = dataclasses.replace(best.plan, changes=(), solve_seconds=time.monotonic() - t0)
    # within what is left of the time limit (laying the book may have taken its share and more)
    left = params.deadline(t0) - time.monotonic()
    if not best.broken or left <= 0:
        say("done", 1.0)
        return laid
    shaped_params = dataclasses.replace(params, time_limit_s=params.within(budget * params.shares.fallback, left))
    shaped = _plan_territories(scenario, shaped_params, seed=seed, travel=travel, progress=progress)
    return _better(scenario, laid, len(best.broken), shaped.plan, time.monotonic() - t0)


@dataclass(frozen=True)
class _Planned:
    """A month as the search left it, and how to take a second look at its cycle."""

    plan: Plan
    #: the second look (:func:`_second_look`) sized for the seconds given, ending by the
    #: deadline given: the month of the cycle it found, or ``None`` where it found none cheaper
    look: Callable[[float, float], Plan | None] | None = None
    #: what the second look is sized for without the clock: ``shares.second_look`` of the
    #: search's own time limit
    look_s: float = 0.0
    #: seconds the per-manager phase took per second it was sized for
    pace: float = 1.0


def _look(planned: _Planned, params: PlanParams, deadline: float, laying: float) -> Plan | None:
    """The second candidate of a planned month (``None``: none). With the clock on, the second
    look is cut to what ends by ``deadline`` at the per-manager phase's pace, leaving
    ``laying`` seconds (the first candidate took that long to lay onto the month)."""
    if planned.look is None:
        return None
    seconds, end = planned.look_s, deadline - laying
    if params.clock:
        seconds = min(seconds, (end - time.monotonic()) / max(planned.pace, 1e-9))
        if seconds <= 0:
            return None
    return planned.look(seconds, end)


def _lay_labelled(
    scenario: Scenario, standing: Scenario, book: RouteBook, params: PlanParams, *, seed: int,
    travel: TravelModel | None, planned_s: float, deadline: float, anew_s: float,
    first: Mapping[str, dict[int, int]] | None = None,
) -> _Laid:  # fmt: skip
    """A fresh book laid onto its month, each manager's routes on the whole relabelling of his
    cycle (:func:`whole_relabellings`) whose laid month keeps his rules with the fewest km.

    The routes' slots were chosen on the standing cycle, which has no holidays: which route
    loses the Christmas run, and where its shops are made up, is the month's. Each relabelling
    is laid for the whole team (a share of the laying time each), each manager takes his best,
    and the book so labelled is laid once more with the whole of it; the better of that and the
    best whole-team relabelling comes back.

    ``first``: a relabelling laid before the trials, with the whole laying time (the one another
    candidate cycle of the same month took: the managers' best is likely the same), so that a
    clock that cuts the trials short still lays it.

    A lay starts only if, as long as the one before, it ends by ``deadline``; while every lay so
    far breaks a rule, the lay of the managers' choice also leaves ``anew_s`` before it, the
    time the month planned anew will need. The whole-team trials do not: each takes a fraction
    of that, and where the first breaks a rule another usually keeps them all (a planned-anew
    month drives more: in a 2,312-shop group of the 30,000-shop company 4,349 km against the
    4,093 of a trial that kept every rule, when a loaded machine left no room for the trials).
    """
    from ..check import check_plan
    from ..figures import day_km
    from .continuation import lay_book

    travel = KeptTravel.around(travel or travel_for(scenario))
    wholes = whole_relabellings(scenario.calendar)
    everyone = [m.id for m in scenario.managers]

    def lay(relabel: Mapping[str, dict[int, int]], share: float) -> _Laid:
        started = time.monotonic()
        plan, _ = lay_book(
            scenario, _relabelled(book, standing, relabel), params, seed=seed, travel=travel, progress=None,
            planned_s=planned_s * share, deadline=deadline,
        )  # fmt: skip
        broken = check_plan(scenario, plan, travel=travel)
        km: dict[str, float] = defaultdict(float)
        for (mid, _day), x in day_km(scenario, plan, travel).items():
            km[mid] += x
        return _Laid(plan, broken, dict(km), dict(relabel), time.monotonic() - started)

    def room(laid: list[_Laid], *, anew: bool = True) -> bool:
        """Whether one more lay, as long as the last, ends in time (with ``anew``: leaving the
        time for the month planned anew while every lay so far breaks a rule)."""
        end = deadline - (anew_s if anew and all(x.broken for x in laid) else 0.0)
        return not laid or time.monotonic() + laid[-1].longest <= end

    # the trials share the laying time; the labels chosen get all of it (unless ``first`` had it)
    laid = [lay(first, 1.0)] if first is not None else []
    for whole in wholes:
        if not room(laid, anew=False):
            break
        relabel = {m: whole for m in everyone}
        if relabel != first:
            laid.append(lay(relabel, 1 / len(wholes)))
    best = min(laid, key=_Laid.score)
    choice = {m: min(laid, key=lambda x: x.manager_score(m)).relabel[m] for m in everyone}
    if room(laid) and choice != first:
        best = min(lay(choice, 1.0), best, key=_Laid.score)
    return dataclasses.replace(best, longest=max(x.longest for x in laid))


@dataclass(frozen=True)
class _Laid:
    """A book laid onto the month: the plan, the rules it breaks, each manager's km, and the
    relabelling of each manager's slots it was laid with."""

    plan: Plan
    broken: list[Violation]
    km: dict[str, float]
    relabel: dict[str, dict[int, int]]
    #: the seconds of the longest lay among those it was chosen from
    longest: float

    def score(self) -> tuple[int, float]:
        """Rules broken, then km: the order in which two laid months are better."""
        return len(self.broken), sum(self.km.values())

    def manager_score(self, manager_id: str) -> tuple[int, float]:
        """The same for one manager: his rules broken, then his km."""
        return sum(v.manager_id == manager_id for v in self.broken), self.km.get(manager_id, 0.0)


def _relabelled(book: RouteBook, scenario: Scenario, relabel: Mapping[str, dict[int, int]]) -> RouteBook:
    """The book with each manager's routes moved to other slots of the cycle (``relabel``: a
    manager's slot map; managers not named keep theirs)."""
    cal = scenario.calendar
    routes = []
    for r in book.routes:
        slot = relabel[r.manager_id][r.slot] if r.manager_id in relabel else r.slot
        label = cal.slot_label(slot)
        routes.append(dataclasses.replace(r, id=f"{r.manager_id}-{label}", slot=slot, label=label))
    return dataclasses.replace(book, routes=tuple(routes))


def _better(scenario: Scenario, first: Plan, first_broken: int, second: Plan, seconds: float) -> Plan:
    """The plan that breaks fewer rules, then drives fewer km (``first`` on a tie), timed ``seconds``."""
    best = second if _beats(scenario, second, first, first_broken) else first
    return dataclasses.replace(best, solve_seconds=seconds)


def _beats(scenario: Scenario, second: Plan, first: Plan, first_broken: int) -> bool:
    """Whether ``second`` breaks fewer rules than ``first`` (which breaks ``first_broken``), or as
    many and drives fewer km."""
    from ..check import check_plan
    from ..figures import total_km

    return (len(check_plan(scenario, second)), total_km(scenario, second)) < (first_broken, total_km(scenario, first))


def standing_cycle(scenario: Scenario) -> Scenario | None:
    """The scenario without the month's holidays and days off (every route runs every cycle);
    ``None`` when the month has none on a working day."""
    cal = scenario.calendar
    if not cal.lost_days() and not any(cal.is_working(d) for m in scenario.managers for d in m.days_off):
        return None
    managers = tuple(dataclasses.replace(m, days_off=frozenset()) for m in scenario.managers)
    standing = dataclasses.replace(cal, holidays=frozenset(), moved=())
    return dataclasses.replace(scenario, calendar=standing, managers=managers)


def _plan_territories(
    scenario: Scenario,
    params: PlanParams,
    *,
    seed: int,
    travel: TravelModel | None,
    progress: ProgressFn | None,
) -> _Planned:
    """The month planned with fixed territories and, with ``territories = "auto"`` where those
    break a rule, with free ones too (sized for ``shares.fallback``, or what is left of the time
    limit if less); the better is kept, with its second look."""
    if params.territories != "auto" or len(scenario.managers) < 2:
        return _plan_month(scenario, params, seed=seed, travel=travel, progress=progress)
    from ..check import check_plan

    t0 = time.monotonic()
    fixed = _plan_month(scenario, dataclasses.replace(params, territories="fixed"), seed=seed, travel=travel,
                        progress=progress)  # fmt: skip
    broken = check_plan(scenario, fixed.plan)
    left = params.deadline(t0) - time.monotonic()
    if not broken or left <= 0:
        return fixed
    free_params = dataclasses.replace(
        params, territories="free", time_limit_s=params.within(params.time_limit_s * params.shares.fallback, left)
    )
    free = _plan_month(scenario, free_params, seed=seed, travel=travel, progress=progress)
    best = free if _beats(scenario, free.plan, fixed.plan, len(broken)) else fixed
    return dataclasses.replace(best, plan=dataclasses.replace(best.plan, solve_seconds=time.monotonic() - t0))


def _best(scenario: Scenario, plans: list[Plan], seconds: float) -> Plan:
    """The candidate that breaks fewest rules, then drives fewest km (the first on a tie), timed ``seconds``."""
    from ..check import check_plan

    best = plans[0]
    for plan in plans[1:]:
        best = _better(scenario, best, len(check_plan(scenario, best)), plan, seconds)
    return dataclasses.replace(best, solve_seconds=seconds)


def _plan_month(
    scenario: Scenario,
    params: PlanParams,
    *,
    seed: int,
    travel: TravelModel | None,
    progress: ProgressFn | None,
) -> _Planned:
    """The month's plan, and the second look at its cycle (:func:`_second_look`)."""
    warm_up()
    params = params or PlanParams()
    travel = travel or travel_for(scenario)
    say = progress or (lambda stage, frac: None)
    t0 = time.monotonic()
    budget = max(1.0, params.time_limit_s)
    rng = np.random.default_rng(seed)

    compiling = _compile_in_background()
    say("travel matrix", 0.02)
    wedges = False
    if params.territories == "fixed" and len(scenario.managers) > 1:
        design = design_territories(scenario, seed=seed, travel=travel, shape=params.territory_shape)
        scenario, wedges = design.apply(scenario), design.wedges
    model = MonthModel(scenario, travel, params)
    reserve = model.initial_reserve()
    search = PeriodicSearch(model.problem(reserve), seed=seed, penalties=params.penalties)
    search.price_shortfall(params.weights.fill_under_km_per_min)
    say("territories and routes", 0.08)
    routes, choice = routes_from_groups(model, *cluster_groups(model, rng, wedges=wedges))
    search.set_routes(routes, choice)
    search.build_orders()
    missing = [c for c in range(model.n) if search.choice[c] < 0]
    search.insert(missing)
    say("improving the whole plan", 0.15)
    shares = params.shares
    search.local_search(params.deadline(t0, shares.whole_plan_end))
    if relabel_routes(model, search, params.deadline(t0, shares.whole_plan_swapped_end)):
        search.local_search(params.deadline(t0, shares.whole_plan_swapped_end))
    reserve = settle_reserve(scenario, model, search, reserve, params.deadline(t0, shares.make_up_room_end))

    say("improving each manager's routes", 0.45)
    if compiling is not None:
        compiling.join()
    warm_up_lns()  # loaded from the cache the helper wrote; worker processes inherit it
    started = time.monotonic()
    improve_each_manager(
        model, search, params, budget * shares.per_manager, seed, params.deadline(t0, 1 - shares.final)
    )
    pace = (time.monotonic() - started) / (budget * shares.per_manager)  # seconds taken per second planned
    say("balancing across managers", 0.9)
    search.price_shortfall()
    search.recost()
    search.local_search(params.deadline(t0, 1 - shares.final / 2))
    settle_reserve(scenario, model, search, reserve, params.deadline(t0, shares.last_settle_end))

    say("laying out the calendar", 0.95)
    plan = lay_out_month(model, search.cycle(), seconds=time.monotonic() - t0, seed=seed)
    say("done", 1.0)

    def look(seconds: float, deadline: float) -> Plan | None:
        if not _second_look(model, search, params, seconds, seed, deadline):
            return None
        return lay_out_month(model, search.cycle(), seconds=time.monotonic() - t0, seed=seed)

    return _Planned(plan, look, budget * shares.second_look, pace)


def _second_look(
    model: MonthModel, search: PeriodicSearch, params: PlanParams, planned: float, seed: int, deadline: float
) -> bool:
    """Each manager's routes improved once more from the finished cycle (sized for ``planned``
    seconds, other seeds), then the whole plan's local search; whether the search's cost went
    down (otherwise the cycle is left as it was)."""
    before = search.total_cost()
    snapshot = ([list(r) for r in search.routes], search.choice.copy())
    improve_each_manager(model, search, params, planned, seed + 1, deadline)
    search.recost()
    search.local_search(deadline)
    if search.total_cost() < before:
        return True
    search.set_routes(*snapshot)
    return False
