"""Continuing a plan: next month's routes grown out of this month's route book.

The route book (every standing route's shops, in order, on its cycle slot) is kept,
and only what the month's changes force is changed. The changes go into the book on the
*standing cycle* first (the month without its holidays and days off, every route running
every cycle), and that book is then laid onto the month (:func:`lay_book` again): what one
month's holidays force stays out of the book the months after it continue from. A fresh
plan is made the same way (``month.plan_month``: the cycle planned, then laid). In each step:

- the cycle runs on across the month boundary (the same cycle anchor), so a route
  keeps its weekday and its week of the cycle;
- a continuing shop keeps its manager, routes and place in each route's order;
  closed shops leave their routes; suspended ones keep their place in the book;
  new shops go where they cost least; a new frequency adds or drops routes;
- when the team changes, the territory design (``design.py``) decides, changing as
  few shops as possible, who takes a leaving manager's shops and which shops make up a
  new manager's territory (his routes are built afresh from them);
- new shops and shops whose frequency changed go where their visits cost least, whatever
  that does to the routes' limits; a route they or the closures broke (short of its stops
  or field time, or over its day) is then repaired by handover chains (``chains.py``): its
  neighbours hand border shops along, or a shop nearby gets a visit more or one fewer.
  Filling a hole with the one far shop a single move can free, month after month, is what
  made standing routes decay (12 months of churn: +6-21% km against a fresh plan);
- a route no chain repairs is rebuilt by the fresh plan's ruin-and-recreate together with the
  routes of its manager next to it (``PlanParams.continuing.rebuild_neighbour_routes``, the routes
  holding most of its shops' nearest shops), with moves priced at ``repair_move_km``, so that a hole
  is filled by a chain of near shops rather than by one far one; the rebuild is sized for
  ``PlanParams.shares.continued_rebuild`` of the time limit (0.2: a fresh plan gives its
  per-manager phase half) times the share of managers it rebuilds, and the
  other routes stand. A steepest-descent repair across managers follows. Outside those
  rebuilds a continuing shop's other patterns cost ``move_km`` km a month more than its own,
  so it moves only where that repairs a broken rule or saves at least that much; a route is
  re-ordered only where that saves ``PlanParams.continuing.reorder_km`` km a month.

Why 5 km a month by default: a move costs a shop its known day and its manager a learnt
order; at the demo's density 5 km is about a quarter of an hour of driving a month, roughly
the detour one badly placed shop causes on each of its runs. Below that, moves chase noise:
an unchanged month then moves shops for savings of a kilometre or two. See the trade-off
table of ``benchmarks/months.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..model import Scenario
from ..plan import Plan, Route
from ..routebook import RouteBook, changes, memberships, stability
from ..travel import KeptTravel, TravelModel, travel_for
from .chains import balance
from .design import design_territories
from .kernels import warm_up
from .lns import warm_up as warm_up_lns
from .month import (
    MonthModel,
    PlanParams,
    area_pattern,
    day_areas,
    improve_each_manager,
    neighbours,
    positions,
    settle_reserve,
    standing_cycle,
)  # fmt: skip
from .schedule import lay_out_month
from .search import PeriodicSearch, RouteLimits
from .tsp import path_length

ProgressFn = Callable[[str, float], None]

#: A new shop goes onto a route of one of its this many nearest placed shops, where it can.
NEAR_SHOPS = 12
#: Moves of the repair search between two re-orderings of the routes they touched.
REORDER_EVERY = 25
#: The repair search stops after this many moves per shop whatever is left to gain: a bound
#: that does not depend on the clock (a tight scenario can otherwise trade penalties for long).
REPAIR_MOVES_PER_SHOP = 20


def continuable(scenario: Scenario, previous: RouteBook) -> None:
    """Raise :class:`InputError` (naming the field) where the book cannot carry over."""
    cal = scenario.calendar
    if (cal.year, cal.month) <= previous.month:
        y, m = previous.month
        raise InputError(
            f"the previous plan is of {y}-{m:02d}, not before {cal.year}-{cal.month:02d}: continue from an earlier month",
            field="month",
        )
    if cal.cycle_weeks != previous.cycle_weeks:
        raise InputError(
            f"cycle_weeks changed from {previous.cycle_weeks} to {cal.cycle_weeks}: the routes cannot carry over; "
            "make a fresh plan (without --previous)",
            field="rules.cycle_weeks",
        )
    if cal.workdays != previous.workdays:
        raise InputError(
            "workdays changed: the routes cannot carry over; make a fresh plan (without --previous)", field="workdays"
        )
    book = memberships(previous.routes)
    ids = {r.id for r in (*scenario.retailers, *scenario.suspended)}
    if not ids & book.keys():
        raise InputError("no shop in common with the previous plan: make a fresh plan", field="id")


def continued_calendar(scenario: Scenario, previous: RouteBook) -> Scenario:
    """The scenario with its cycle anchored where the previous month's was (the cycle runs on)."""
    cal = dataclasses.replace(scenario.calendar, cycle_start=previous.cycle_start)
    return dataclasses.replace(scenario, calendar=cal)


class _Repair:
    """The guarded local search: moves of continuing shops cost ``move_km`` a month, and are counted."""

    def __init__(
        self, search: PeriodicSearch, kept: dict[int, int], route_names: list[str], params: PlanParams, runs: float,
        fresh_routes: set[int], near: np.ndarray,
    ) -> None:  # fmt: skip
        self.search = search
        self.kept = kept
        self.names = route_names
        self.params = params
        self.runs = runs
        self.fresh = fresh_routes
        self.near = near
        self.why: dict[int, str] = {}
        self.route_why: dict[int, str] = {}

    def moved(self) -> int:
        ch = self.search.choice
        return sum(1 for c, k in self.kept.items() if ch[c] != k)

    def is_broken(self, r: int) -> bool:
        """Whether route r is over its day, or short of its stops or field time."""
        s = self.search
        short = bool(s.stops[r]) and s.minutes[r] < s.min_min[r] - 1e-6
        return bool(s.minutes[r] > s.max_min[r] + 1e-6 or short or s.stops[r] < s.min_stops[r])

    def _broken(self, routes: list[int]) -> list[str]:
        return [self.names[r] for r in routes if self.is_broken(r)]

    def __call__(self, deadline: float) -> int:
        """Steepest descent: always the move that gains most, until none gains (or the deadline).

        Far cheaper moves exist than the first one found: a route short of its stops takes
        the nearest shop that can spare a visit, not the first shop of a random pass.
        Gains are cached and refreshed around each move (the moved shop's neighbours and
        the shops of the routes it touched); a cached gain is re-checked before it is used.
        """
        s = self.search
        n = s.p.n_customers
        gain = np.zeros(n)
        self._score(gain, range(n))
        moves = 0
        while time.monotonic() < deadline and moves < REPAIR_MOVES_PER_SHOP * max(n, 1):
            c = int(np.argmin(gain))
            if gain[c] >= -1e-7:
                break
            k, delta, first = s.evaluate(c)
            if delta >= -1e-7 or k == s.choice[c] or not self.may_move([c]):
                gain[c] = 0.0
                continue
            touched = sorted(set(s.routes_of(c)) | {int(r) for r in s.p.patterns[c][k] if r >= 0})
            broken = self._broken(touched)
            km = float(s.km.sum())
            cost = float(s.route_costs().sum()) + s.extra
            s.apply(c, k, first)
            if float(s.route_costs().sum()) + s.extra > cost - 1e-9:
                break  # the move's estimate and its real cost disagree: stop rather than go round
            self._explain(c, (km - float(s.km.sum())) * self.runs, broken)
            moves += 1
            around = {int(x) for x in self.near[c]} | {x for r in touched for x in s.routes[r]}
            self._score(gain, sorted(around))
            if moves % REORDER_EVERY == 0:
                self._reorder()
        self._reorder()
        return moves

    def _score(self, gain: np.ndarray, shops: Iterable[int]) -> None:
        """Each listed shop's gain from its best move (0: none, or it may not move)."""
        s = self.search
        shops = list(shops)
        gain[shops] = 0.0
        movable = [c for c in shops if s.choice[c] >= 0 and self.may_move([c])]
        if movable:
            ks, deltas = s.evaluate_many(movable)
            gain[movable] = np.where(ks != s.choice[movable], deltas, 0.0)

    def may_move(self, shops: Sequence[int], stay: Collection[int] = ()) -> bool:
        """Whether all these shops may change routes: none in ``stay``, and under
        ``max_moves`` room in the cap for those of them still at home (one leaving is a move)."""
        if any(c in stay for c in shops):
            return False
        cap = self.params.max_moves
        ch = self.search.choice
        leaving = sum(1 for c in set(shops) if c in self.kept and ch[c] == self.kept[c])
        return cap is None or leaving == 0 or self.moved() + leaving <= cap

    def _explain(self, c: int, saved: float, broken: list[str]) -> None:
        home = self.kept.get(c)
        if home is None:
            return
        if self.search.choice[c] == home:
            self.why.pop(c, None)
        elif saved >= self.params.move_km - 1e-6 or not broken:
            self.why[c] = f"saves {saved:.1f} km a month"
        else:
            self.why[c] = f"repairs {', '.join(broken[:3])} (stops, field time or day length)"

    def _reorder(self) -> None:
        s = self.search
        dirty = s.dirty
        fresh = dirty & self.fresh
        s.reorder(fresh)
        gains = s.reorder(dirty - fresh, min_gain_km=self.params.continuing.reorder_km / self.runs)
        for r, gain in gains.items():
            self.route_why[r] = f"re-ordered: saves {gain * self.runs:.1f} km a month"


def continue_month(
    scenario: Scenario,
    previous: RouteBook,
    params: PlanParams | None = None,
    *,
    seed: int = 0,
    travel: TravelModel | None = None,
    progress: ProgressFn | None = None,
) -> Plan:
    """Plan the scenario's month as the continuation of ``previous``. Pure: reads no files.

    The result always comes back; :func:`routeplan.check.check_plan` says which rules it
    keeps, and ``Plan.changes`` what changed for whom and why.
    """
    params = params or PlanParams()
    continuable(scenario, previous)
    travel = KeptTravel.around(travel or travel_for(scenario))  # the book is laid twice over the same places
    t0 = time.monotonic()
    deadline = params.deadline(t0)
    planned = params.time_limit_s * params.shares.continued_rebuild
    scenario = continued_calendar(scenario, previous)
    cycle = standing_cycle(scenario)
    if cycle is None:
        plan, why = lay_book(scenario, previous, params, seed=seed, travel=travel, progress=progress,
                             planned_s=planned, deadline=deadline)  # fmt: skip
    else:
        # the month's changes go into the standing book first, then the book is laid onto the
        # month: what the month's holidays and days off force stays out of next month's book
        say = progress or (lambda stage, frac: None)
        book, why = lay_book(cycle, previous, params, seed=seed, travel=travel, planned_s=planned,
                             deadline=deadline, progress=lambda stage, frac: say(stage, 0.8 * frac))  # fmt: skip
        if params.max_moves is not None:
            moved = stability(previous.routes, book.routes, frequency_before=previous.frequency,
                              frequency_after=cycle.frequencies())["moved_shops"]  # fmt: skip
            assert isinstance(moved, int)
            params = dataclasses.replace(params, max_moves=max(0, params.max_moves - moved))
        plan, laid_why = lay_book(scenario, RouteBook.of(cycle, book), params, seed=seed, travel=travel,
                                  progress=None, planned_s=params.time_limit_s * params.shares.lay, deadline=deadline)  # fmt: skip
        why.update(laid_why)
        say("done", 1.0)
    diff = changes(previous.routes, plan.routes, why, previous.frequency, scenario.frequencies())
    return dataclasses.replace(plan, changes=tuple(diff), solve_seconds=time.monotonic() - t0)


def _around(
    search: PeriodicSearch, broken: list[int], near: np.ndarray, per_manager: int, count: int
) -> dict[int, list[int]]:
    """Per manager: his broken routes and, for each, the ``count`` routes of his that hold most of
    the nearest shops of its shops (where its holes are filled from)."""
    out: dict[int, set[int]] = {}
    for r in broken:
        mi = r // per_manager
        votes: dict[int, int] = {}
        for c in search.routes[r]:
            for x in near[c]:
                for q in search.routes_of(int(x)):
                    if q != r and q // per_manager == mi:
                        votes[q] = votes.get(q, 0) + 1
        best = sorted(votes, key=lambda q: (-votes[q], q))[:count]
        out.setdefault(mi, set()).update([r, *best])
    for routes in out.values():  # with every route of each shop on them (a part holds whole shops)
        todo = list(routes)
        while todo:
            for c in search.routes[todo.pop()]:
                extra = set(search.routes_of(c)) - routes
                routes |= extra
                todo.extend(extra)
    return {mi: sorted(routes) for mi, routes in out.items()}


def lay_book(
    scenario: Scenario,
    previous: RouteBook,
    params: PlanParams,
    *,
    seed: int,
    travel: TravelModel | None,
    progress: ProgressFn | None,
    planned_s: float,
    deadline: float,
) -> tuple[Plan, dict[str, str]]:
    """The book laid onto the scenario's month (whose calendar runs on the book's cycle), repaired
    where the month's changes, holidays and days off force it; and why each shop or route
    changed (by shop or route id).

    ``planned_s`` sizes the rebuild of the whole team (a share of it for the managers the
    month breaks a route of); ``deadline`` stops everything (a safety net: without the
    clock it is never reached).
    """
    warm_up()
    travel = travel or travel_for(scenario)
    say = progress or (lambda stage, frac: None)
    t0 = time.monotonic()
    rng = np.random.default_rng(seed)
    cal = scenario.calendar

    say("travel matrix", 0.05)
    model = MonthModel(scenario, travel, params)
    s = model.s
    names = [f"{m.id}-{cal.slot_label(x)}" for m in scenario.managers for x in range(s)]
    book = memberships(previous.routes)
    ids = [r.id for r in scenario.retailers]
    why: dict[str, str] = {}

    say("territories", 0.1)
    target = _team_change(scenario, previous, seed, travel, why)
    # the fresh plan's steer away from crowded make-up days is no reason to move a standing shop
    for c in range(model.n):
        model.pattern_cost[c] = model.pattern_cost[c] - model.makeup_cost[c]
    reserve = model.initial_reserve()
    search = PeriodicSearch(model.problem(reserve), seed=seed, penalties=params.penalties)
    # as in a fresh plan, a day short of field time is filled with visits, not with driving,
    # until the last repair
    search.price_shortfall(params.weights.fill_under_km_per_min)
    kept, forced = _start_from_book(search, previous, ids, names, target)
    for c, rows in forced.items():
        why[ids[c]] = _forced_reason(scenario, previous, c, rows, names)

    say("new and moved shops", 0.2)
    fresh = _carve_new_managers(model, search, previous, target, rng)
    for c, rows in sorted(forced.items()):
        with _limits_off(search):
            _insert_among(search, c, _closest_patterns(model, c, rows))
        kept[c] = int(search.choice[c])  # from now on it stands there like any other shop
    runs = cal.days_in_month / (7 * cal.cycle_weeks)
    back = {c for c, shop in enumerate(ids) if shop in book and not book[shop].active}
    base = list(search.p.pattern_cost)
    prices = params.continuing
    _price_moves(search, kept, back, params.move_km / runs, base, prices.reopened_weight)
    pending = [c for c in range(model.n) if search.choice[c] < 0]
    for c in pending:
        why.setdefault(ids[c], "new in retailers.csv" if ids[c] not in book else "its manager left")
    _insert_towards(model, search, pending, target)

    repair = _Repair(search, kept, names, params, runs, fresh, neighbours(model.dist, model.n))
    say("improving each manager's routes", 0.3)
    warm_up_lns()
    # a route that closures left short, or new shops past its day, is repaired by its
    # neighbours handing border shops along
    handed = balance(search, repair.near, s, base, lambda shops: repair.may_move(shops, back), prices, deadline)
    for c, r in handed.items():
        if c in kept:
            repair.why[c] = f"handed along to repair {names[r]} (stops, field time or day length)"
    before = ([list(r) for r in search.routes], search.choice.copy())
    # a broken route and the routes next to it are rebuilt, moves priced low so that a hole is
    # filled by a chain of near shops rather than by one far one; the other routes stand
    broken = [r for r in range(len(search.routes)) if repair.is_broken(r)]
    _price_moves(search, kept, back, min(params.move_km, prices.repair_move_km) / runs, base, prices.reopened_weight)
    focus = _around(search, broken, repair.near, s, prices.rebuild_neighbour_routes)
    for mi in {r // s for r in fresh}:  # a new manager's routes are rebuilt whole
        focus[mi] = list(range(mi * s, (mi + 1) * s))
    # sized for the managers rebuilt: one broken route does not get the whole team's time
    improve_each_manager(
        model, search, params, planned_s * len(focus) / max(1, model.k), seed, deadline, sorted(focus), focus
    )
    _price_moves(search, kept, back, params.move_km / runs, base, prices.reopened_weight)
    if params.max_moves is not None and repair.moved() > params.max_moves:
        search.set_routes(*before)  # the rebuild moved more shops than the cap allows
    for r, gain in _keep_orders(search, before[0], fresh, prices.reorder_km / runs).items():
        repair.route_why[r] = f"re-ordered: saves {gain * runs:.1f} km a month"
    for c, k in kept.items():
        if search.choice[c] != before[1][c] and search.choice[c] != k:
            mine = [names[r] for r in broken if r // s == search.routes_of(c)[0] // s]
            repair.why[c] = f"its manager's routes rebuilt to repair {', '.join(mine[:3])}"
    say("repairing broken rules", 0.8)
    search.price_shortfall()
    search.recost()
    repair(deadline)
    settle_reserve(scenario, model, search, reserve, deadline, swap=False, improve=repair)

    say("laying out the calendar", 0.9)
    plan = lay_out_month(model, search.cycle(), seconds=0.0, seed=seed)
    why.update({ids[c]: text for c, text in repair.why.items()})
    why.update({names[r]: text for r, text in repair.route_why.items()})
    standing = _with_suspended(plan.routes, previous, scenario)
    notes = list(plan.notes)
    dropped = ({x.id for x in scenario.suspended} & book.keys()) - {x for r in standing for x in r.order}
    if dropped:
        notes.append(f"{len(dropped)} suspended shops had no route left to hold their place (their manager left)")
    say("done", 1.0)
    plan = dataclasses.replace(plan, routes=standing, notes=tuple(notes), solve_seconds=time.monotonic() - t0)
    return plan, why


def _start_from_book(
    search: PeriodicSearch, previous: RouteBook, ids: list[str], names: list[str], target: Mapping[int, int]
) -> tuple[dict[int, int], dict[int, tuple[int, ...]]]:
    """Lay the book's routes into the search: each continuing shop on its old routes, in its old place.

    Returns the shops kept on their patterns (customer -> pattern) and those whose routes give
    no valid pattern this month (customer -> their old routes), which are left out for now.
    """
    book = memberships(previous.routes)
    index = {name: r for r, name in enumerate(names)}
    kept: dict[int, int] = {}
    forced: dict[int, tuple[int, ...]] = {}
    for c, shop in enumerate(ids):
        m = book.get(shop)
        if m is None or c in target:
            continue
        found = [index.get(x) for x in m.routes]
        if any(r is None for r in found):
            continue  # a route of a manager who left: the shop is handed over
        rows = tuple(sorted(r for r in found if r is not None))
        k = search.pattern_of(c, rows)
        if k is not None:
            kept[c] = k
        else:
            forced[c] = rows
    choice = np.full(len(ids), -1, dtype=np.int64)
    for c, k in kept.items():
        choice[c] = k
    position = {shop: c for c, shop in enumerate(ids)}
    routes: list[list[int]] = [[] for _ in range(len(names))]
    for route in previous.routes:
        r = index.get(route.id)
        if r is not None:
            routes[r] = [position[x] for x in route.order if x in position and position[x] in kept]
    search.set_routes(routes, choice)
    return kept, forced


def _price_moves(
    search: PeriodicSearch,
    kept: Mapping[int, int],
    back: set[int],
    price: float,
    base: list[np.ndarray],
    reopened_weight: float,
) -> None:
    """Every pattern but a standing shop's own costs ``price`` (km of one run) more than in
    ``base``; a shop back from suspension pays ``reopened_weight`` times that, so it stays put."""
    for c, k in kept.items():
        extra = price * (reopened_weight if c in back else 1.0)
        cost = base[c] + extra
        cost[k] -= extra
        search.p.pattern_cost[c] = cost
    search.set_routes(search.routes, search.choice)  # books the new pattern costs


def _team_change(
    scenario: Scenario, previous: RouteBook, seed: int, travel: TravelModel, why: dict[str, str]
) -> dict[int, int]:
    """Shops that change manager because the team changed: customer -> its new manager's index."""
    book = memberships(previous.routes)
    before = {m.manager_id for m in book.values()}
    now = {m.id for m in scenario.managers}
    if before == now:
        return {}
    current = {shop: m.manager_id for shop, m in book.items() if m.manager_id in now}
    split = design_territories(scenario, current=current, seed=seed, travel=travel)
    index = scenario.manager_index
    out: dict[int, int] = {}
    for c, r in enumerate(scenario.retailers):
        new = split.manager_of[r.id]
        old = book[r.id].manager_id if r.id in book else None
        if old is not None and old != new:
            out[c] = index[new]
            why[r.id] = (
                f"{old} left the team" if old not in now
                else "territories redrawn for the team change"
            )  # fmt: skip
        elif old is None:
            out[c] = index[new]
    return out


def _closest_patterns(model: MonthModel, c: int, routes: tuple[int, ...]) -> np.ndarray:
    """The shop's patterns sharing most routes with its book entry, with the fewest routes changed."""
    held = set(routes)
    keys = []
    for row in model.patterns[c]:
        got = {int(x) for x in row if x >= 0}
        keys.append((-len(got & held), len(got ^ held)))
    best = min(keys)
    return np.array([k for k, key in enumerate(keys) if key == best], dtype=np.int64)


def _insert_among(search: PeriodicSearch, c: int, candidates: np.ndarray) -> None:
    """Cheapest insertion of a shop (on no route), among the given patterns only."""
    saved = search.p.pattern_cost[c]
    allowed = np.zeros(len(saved), dtype=bool)
    allowed[candidates] = True
    search.p.pattern_cost[c] = np.where(allowed, saved, saved + 1e6)
    search.insert([c])  # one of ``candidates``: the extra cost it booked is the true one
    search.p.pattern_cost[c] = saved


def _forced_reason(scenario: Scenario, previous: RouteBook, c: int, routes: tuple[int, ...], names: list[str]) -> str:
    shop = scenario.retailers[c]
    before = previous.frequency.get(shop.id)
    if before is not None and before != shop.visits_per_month:
        return f"visits a month {before} -> {shop.visits_per_month}"
    if shop.route_id and shop.route_id not in {names[r] for r in routes}:
        return f"locked to {shop.route_id}"
    if shop.manager_id and not all(names[r].startswith(shop.manager_id + "-") for r in routes):
        return f"pinned to {shop.manager_id}"
    return f"its routes give no well-spaced visits in {scenario.calendar.year}-{scenario.calendar.month:02d}"


def _carve_new_managers(
    model: MonthModel, search: PeriodicSearch, previous: RouteBook, target: dict[int, int], rng: np.random.Generator
) -> set[int]:
    """Routes of managers new to the book, built from the shops the territory design gave them."""
    before = {r.manager_id for r in previous.routes}
    newcomers = [mi for mi, m in enumerate(model.sc.managers) if m.id not in before]
    if not newcomers:
        return set()
    xy, offices, weights = positions(model)
    day = np.zeros(model.n, dtype=np.int64)
    week = np.zeros(model.n, dtype=np.int64)
    fresh: set[int] = set()
    for mi in newcomers:
        mine = np.array(sorted(c for c, m in target.items() if m == mi), dtype=np.int64)
        # the newcomer's territory was carved from the neighbours': its shape is its own
        day_areas(model, mine, xy, weights, offices[mi], rng, day, week, wedges=None)
        for c in mine:
            k = area_pattern(model, int(c), mi, int(day[c]), int(week[c]))
            if k >= 0 and search.choice[c] < 0:
                search.place(int(c), k)
        fresh.update(range(mi * model.s, (mi + 1) * model.s))
    search.reorder(fresh)
    return fresh


def _insert_towards(model: MonthModel, search: PeriodicSearch, customers: list[int], target: dict[int, int]) -> None:
    """Cheapest insertion of each shop, among its designated manager's patterns where it has one.

    Only routes that already pass near the shop (the routes of its nearest placed shops) bid
    for it, by the detour alone: a far route cannot take a new shop however much it needs a
    stop, and a near one takes it even past its day (the chains then repair both).
    """
    s = model.s
    for c in customers:
        mi = target.get(c)
        arr = model.patterns[c]
        allowed = np.ones(len(arr), dtype=bool)
        if mi is not None:
            allowed &= ((arr < 0) | ((arr >= mi * s) & (arr < (mi + 1) * s))).all(axis=1)
        placed = np.flatnonzero(search.choice >= 0)
        nearest = placed[np.argsort(model.dist[c, placed], kind="stable")[:NEAR_SHOPS]]
        near = {r for x in nearest for r in search.routes_of(int(x))}
        local = allowed & np.array([all(r < 0 or int(r) in near for r in row) for row in arr])
        if local.any():
            with _limits_off(search):
                _insert_among(search, c, np.flatnonzero(local))
        else:
            with _limits_off(search, day=False):
                if allowed.any():
                    _insert_among(search, c, np.flatnonzero(allowed))
                else:
                    search.insert([c])


@contextlib.contextmanager
def _limits_off(search: PeriodicSearch, *, day: bool = True) -> Iterator[None]:
    """Within the block, no route is priced for being short of stops or field time, nor (with
    ``day``) for running past its day: the chains repair what an insertion breaks, with near
    shops, rather than the insertion going far to dodge a limit."""
    saved = search.limits()
    none = np.zeros_like(saved.min_stops)
    search.hold_to(RouteLimits(np.full_like(none, np.inf) if day else saved.max_minutes, none, none))
    try:
        yield
    finally:
        search.hold_to(saved)


def _keep_orders(search: PeriodicSearch, before: list[list[int]], fresh: set[int], min_gain: float) -> dict[int, float]:
    """Put back each route's old order (newcomers at their cheapest places) unless the new one
    is at least ``min_gain`` km shorter; returns the km saved by each order kept new."""
    dist = search.p.dist
    saved: dict[int, float] = {}
    for r, seq in enumerate(search.routes):
        if r in fresh or len(seq) < 2:
            continue
        start, end = int(search.start[r]), int(search.end[r])
        members = set(seq)
        old = [c for c in before[r] if c in members]
        for c in (c for c in seq if c not in set(old)):
            path = [start, *old, end]
            detour = [dist[a, c] + dist[c, b] - dist[a, b] for a, b in itertools.pairwise(path)]
            old.insert(int(np.argmin(detour)), c)
        gain = path_length(dist, start, old, end) - path_length(dist, start, seq, end)
        if gain < min_gain:
            search.routes[r] = old
        elif old != seq:
            saved[r] = gain
    search.set_routes(search.routes, search.choice)
    return saved


def _with_suspended(routes: tuple[Route, ...], previous: RouteBook, scenario: Scenario) -> tuple[Route, ...]:
    """The new routes with each suspended shop back in its place in the book's order."""
    waiting = {r.id for r in scenario.suspended}
    old = {r.id: r.order for r in previous.routes}
    out = []
    have = {r.id for r in routes}
    for r in routes:
        order = _merge(list(r.stops), old.get(r.id, ()), waiting)
        out.append(dataclasses.replace(r, standing=tuple(order) if len(order) > len(r.stops) else ()))
    # a route whose every shop is suspended this month still stands in the book
    cal = scenario.calendar
    managers = {m.id for m in scenario.managers}
    for r in previous.routes:
        if r.id in have or r.manager_id not in managers:
            continue
        order = [x for x in r.order if x in waiting]
        slot = cal.slot_from_label(r.label)
        if order and slot is not None:
            out.append(Route(r.id, r.manager_id, slot, r.label, (), tuple(order)))
    return tuple(sorted(out, key=lambda r: (r.manager_id, r.slot)))


def _merge(active: list[str], old: tuple[str, ...], waiting: set[str]) -> list[str]:
    """``active`` with each waiting shop of ``old`` put right after the shop it followed there."""
    out = list(active)
    placed = set(out)
    for i, shop in enumerate(old):
        if shop not in waiting or shop in placed:
            continue
        before = next((old[j] for j in range(i - 1, -1, -1) if old[j] in placed), None)
        at = out.index(before) + 1 if before is not None else 0
        out.insert(at, shop)
        placed.add(shop)
    return out
