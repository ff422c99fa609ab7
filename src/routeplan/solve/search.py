"""The periodic local search shared by every planning mode.

The problem it sees is abstract: nodes with a distance and a time matrix, a set of
routes (each with a start, an end and limits on minutes and stops), and for every
customer a list of allowed *patterns*, each a set of routes the customer rides on.
The monthly plan maps (manager, cycle slot) pairs onto routes; the published
periodic benchmark maps (day, vehicle) pairs onto them.

Moves: take a customer out of every route of its pattern and put it, at the
cheapest positions, on the routes of another pattern (this moves shops between
routes, days and managers); re-order changed routes with 2-opt and Or-opt; ruin a
neighbourhood and rebuild it, kept only when the penalised cost drops.
Limits are soft inside the search (penalties in km) so it can walk through
infeasible states; the plan checker judges the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..geo import row_blocks
from .kernels import (
    UNDER,
    evaluate_customer,
    evaluate_customers,
    makeup_cost,
    route_penalty,
)
from .params import Penalties
from .tsp import improve_order, nearest_neighbour

#: Ruin and recreate: early rounds accept a plan up to this share of a route's cost worse.
RR_START_THRESHOLD = 0.02
#: Only re-order a rebuilt neighbourhood when it is at most this much (km) from being accepted.
REORDER_MARGIN_KM = 1.0


@dataclass(frozen=True)
class RouteSpec:
    """One route of the cycle: where it starts and ends, and what it must respect."""

    start: int
    end: int
    max_minutes: float
    min_minutes: float = 0.0
    min_stops: int = 0
    #: a softer ceiling: minutes above it cost ``SOFT_KM_PER_MIN`` (keeps routes that lose runs small)
    target_minutes: float = float("inf")


@dataclass(frozen=True)
class RouteLimits:
    """What each route is held to (arrays by route): a snapshot the search can be put back to."""

    max_minutes: np.ndarray
    min_minutes: np.ndarray
    min_stops: np.ndarray


@dataclass(frozen=True)
class RouteLoads:
    """What each route carries now (arrays by route, copies)."""

    km: np.ndarray
    minutes: np.ndarray
    stops: np.ndarray


@dataclass(frozen=True)
class CycleRoutes:
    """What a search hands on: each cycle route's shops in visiting order, and the routes each
    shop rides (none: the shop has no place)."""

    routes: tuple[tuple[int, ...], ...]
    rides: tuple[tuple[int, ...], ...]

    def routes_of(self, c: int) -> tuple[int, ...]:
        return self.rides[c]


@dataclass
class Problem:
    """The abstract periodic routing problem the search works on."""

    dist: np.ndarray
    time: np.ndarray
    service: np.ndarray
    routes: list[RouteSpec]
    #: per customer: (P x k) route indices, -1 padded
    patterns: list[np.ndarray]
    #: per customer: a cost in km added when that pattern is used
    pattern_cost: list[np.ndarray]
    #: per route: the routes its lost runs are made up on (-1 padded), and how many runs it loses
    makeup_targets: np.ndarray | None = None
    makeup_runs: np.ndarray | None = None

    def __post_init__(self) -> None:
        n_routes = len(self.routes)
        if self.makeup_targets is None:
            self.makeup_targets = np.full((n_routes, 1), -1, dtype=np.int64)
        if self.makeup_runs is None:
            self.makeup_runs = np.zeros(n_routes)

    @property
    def n_customers(self) -> int:
        return len(self.patterns)


def symmetric(mat: np.ndarray) -> bool:
    """Whether a square matrix equals its transpose, checked block by block (no n x n temporary)."""
    n = len(mat)
    return all(np.array_equal(mat[lo:hi], mat[:, lo:hi].T) for lo, hi in row_blocks(n, n))


class PeriodicSearch:
    """Mutable search state over a :class:`Problem`; callers read ``routes`` and ``choice``."""

    def __init__(self, problem: Problem, seed: int = 0, penalties: Penalties | None = None) -> None:
        self.p = problem
        self.rng = np.random.default_rng(seed)
        n_routes = len(problem.routes)
        self.routes: list[list[int]] = [[] for _ in range(n_routes)]
        self.choice = np.full(problem.n_customers, -1, dtype=np.int64)
        self.start = np.array([r.start for r in problem.routes], dtype=np.int64)
        self.end = np.array([r.end for r in problem.routes], dtype=np.int64)
        self.max_min = np.array([r.max_minutes for r in problem.routes], dtype=float)
        self.min_min = np.array([r.min_minutes for r in problem.routes], dtype=float)
        self.min_stops = np.array([r.min_stops for r in problem.routes], dtype=float)
        self.target_min = np.array([r.target_minutes for r in problem.routes], dtype=float)
        # column-major copies for the legs into a place; a symmetric matrix is its own (the
        # great-circle model's are): no second square array
        self._dist_to = problem.dist if symmetric(problem.dist) else np.ascontiguousarray(problem.dist.T)
        self._time_to = problem.time if symmetric(problem.time) else np.ascontiguousarray(problem.time.T)
        self.penalties = penalties or Penalties()
        #: what broken limits cost, as the compiled loops read them (see :meth:`price_shortfall`)
        self.prices = self.penalties.prices()
        #: by ``id`` of a customer's pattern array (the problem holds the arrays while the search lives)
        self._lookup: dict[int, dict[tuple[int, ...], int]] = {}
        self._ride_table: dict[int, tuple[tuple[int, ...], ...]] = {}
        self.cost_r = np.zeros(n_routes)
        self.extra = 0.0
        self.km = np.zeros(n_routes)
        self.minutes = np.zeros(n_routes)
        self.stops = np.zeros(n_routes)
        self._dirty: set[int] = set()
        for r in range(n_routes):
            self._refresh(r)
        self._rebuild_edges()

    # ---- bookkeeping -------------------------------------------------
    def _refresh(self, r: int) -> None:
        seq = self.routes[r]
        path = np.asarray([self.start[r], *seq, self.end[r]], dtype=np.int64)
        self.km[r] = float(self.p.dist[path[:-1], path[1:]].sum())
        self.minutes[r] = float(self.p.time[path[:-1], path[1:]].sum() + self.p.service[seq].sum()) if seq else 0.0
        self.stops[r] = len(seq)
        self.cost_r[r] = self._route_penalty(r, self.km[r], self.minutes[r], self.stops[r])

    def _route_penalty(self, r: int, km: float, minutes: float, stops: float) -> float:
        """The penalised cost of one route (the scalar twin of :meth:`penalty`)."""
        return float(
            route_penalty(
                km,
                minutes,
                float(stops),
                self.max_min[r],
                self.min_min[r],
                self.min_stops[r],
                self.target_min[r],
                self.prices,
            )
        )

    def price_shortfall(self, km_per_min: float | None = None) -> None:
        """Price a minute of field time below the day's minimum at ``km_per_min`` (``None``: the
        standard price). A phase lowers it so that days are filled with visits rather than with
        driving; costs are not recomputed (call :meth:`recost`)."""
        self.prices = self.penalties.prices(km_per_min)

    @property
    def shortfall_price(self) -> float:
        """km per minute of field time below the minimum, as the search prices it now."""
        return float(self.prices[UNDER])

    def _route_edges(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        path = np.asarray([self.start[r], *self.routes[r], self.end[r]], dtype=np.int64)
        return path[:-1], path[1:]

    def _rebuild_edges(self, changed: set[int] | None = None) -> None:
        """Refresh the flat edge arrays the insertion evaluation scans (only ``changed`` routes rebuilt)."""
        cache = getattr(self, "_edges", None)
        if cache is None or changed is None or len(cache) != len(self.routes):
            cache = self._edges = [self._route_edges(r) for r in range(len(self.routes))]
        else:
            for r in changed:
                cache[r] = self._route_edges(r)
        self.ef = np.concatenate([e[0] for e in cache])
        self.et = np.concatenate([e[1] for e in cache])
        lengths = np.array([len(e[0]) for e in cache])
        self.er = np.repeat(np.arange(len(cache)), lengths)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.edge_base_km = self.p.dist[self.ef, self.et]
        self.edge_base_min = self.p.time[self.ef, self.et]

    def penalty(self, km: np.ndarray, minutes: np.ndarray, stops: np.ndarray, idx: slice) -> np.ndarray:
        """Penalised cost of routes ``idx`` if they had these km, minutes and stops."""
        routes = range(len(self.routes))[idx]
        return np.array(
            [self._route_penalty(r, k, m, s) for r, k, m, s in zip(routes, km, minutes, stops, strict=True)]
        )

    def route_costs(self) -> np.ndarray:
        return self.cost_r

    def total_cost(self) -> float:
        return float(self.cost_r.sum()) + self.extra + self.makeup_km()

    def makeup_km(self) -> float:
        """Estimated km of make-up visits (cheapest insertion of each shop of a lost run)."""
        runs = self.p.makeup_runs
        assert runs is not None and self.p.makeup_targets is not None
        lost = np.flatnonzero(runs > 0)
        if not len(lost):
            return 0.0
        pairs = np.array([(c, r) for r in lost for c in self.routes[r]], dtype=np.int64).reshape(-1, 2)
        return float(
            makeup_cost(pairs, self.p.dist, self._dist_to, self.ef, self.et, self.offsets, len(self.ef),
                        self.edge_base_km, self.p.makeup_targets, runs)
        )  # fmt: skip

    def recost(self) -> None:
        """Recompute every route's penalised cost (after its limits changed)."""
        for r in range(len(self.routes)):
            self.cost_r[r] = self._route_penalty(r, self.km[r], self.minutes[r], self.stops[r])

    def _recount_extra(self) -> None:
        self.extra = sum(float(self.p.pattern_cost[c][k]) for c, k in enumerate(self.choice) if k >= 0)

    def routes_of(self, c: int) -> tuple[int, ...]:
        k = self.choice[c]
        if k < 0:
            return ()
        return self._rides(c)[k]

    def _rides(self, c: int) -> tuple[tuple[int, ...], ...]:
        """The routes of each of customer c's patterns (the hand-over chains ask for them often);
        customers sharing one pattern array share the table, as in :meth:`_pattern_lookup`."""
        arr = self.p.patterns[c]
        rides = self._ride_table.get(id(arr))
        if rides is None:
            rides = self._ride_table[id(arr)] = tuple(tuple(r for r in row if r >= 0) for row in arr.tolist())
        return rides

    # ---- the pattern move --------------------------------------------
    def evaluate(self, c: int) -> tuple[int, float, np.ndarray]:
        """Best pattern for customer c given all others: (pattern, delta cost, insertion edge per route)."""
        cur = self.routes_of(c)
        prev = np.empty(len(cur), dtype=np.int64)
        nxt = np.empty(len(cur), dtype=np.int64)
        for j, r in enumerate(cur):
            seq = self.routes[r]
            i = seq.index(c)
            prev[j] = seq[i - 1] if i > 0 else self.start[r]
            nxt[j] = seq[i + 1] if i + 1 < len(seq) else self.end[r]
        k, delta, pos = evaluate_customer(
            c, self.p.dist, self._dist_to, self.p.time, self._time_to, self.edge_base_km, self.edge_base_min,
            self.p.service, self.ef, self.et, self.offsets, len(self.ef),
            self.km, self.minutes, self.stops, self.max_min, self.min_min, self.min_stops, self.target_min,
            self.cost_r, np.asarray(cur, dtype=np.int64), prev, nxt, self.p.patterns[c], self.p.pattern_cost[c],
            int(self.choice[c]), self.p.makeup_targets, self.p.makeup_runs, self.prices,
        )  # fmt: skip
        return int(k), float(delta), pos

    def evaluate_many(self, customers: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`evaluate` for each listed customer (each on a route) with all others as they
        are: (best pattern, delta cost) arrays, in one compiled call (a repair scores every
        shop before each descent)."""
        cs = np.asarray(customers, dtype=np.int64)
        pats = [self.p.patterns[c] for c in customers]
        n_rows = np.fromiter((len(a) for a in pats), np.int64, len(pats))
        first_row = np.concatenate([[0], np.cumsum(n_rows)[:-1]]).astype(np.int64)
        rows = np.full((int(n_rows.sum()), max((a.shape[1] for a in pats), default=1)), -1, dtype=np.int64)
        for a, lo in zip(pats, first_row.tolist(), strict=True):
            rows[lo : lo + len(a), : a.shape[1]] = a
        row_cost = np.concatenate([self.p.pattern_cost[c] for c in customers]) if len(cs) else np.zeros(0)
        return evaluate_customers(
            cs, self.choice, rows, first_row, n_rows, np.asarray(row_cost, dtype=float), self.p.dist, self._dist_to,
            self.p.time, self._time_to, self.edge_base_km, self.edge_base_min, self.p.service, self.ef, self.et,
            self.offsets, len(self.ef), self.km, self.minutes, self.stops, self.max_min, self.min_min,
            self.min_stops, self.target_min, self.cost_r, self.p.makeup_targets, self.p.makeup_runs, self.prices,
        )  # fmt: skip

    def apply(self, c: int, k: int, first: np.ndarray) -> None:
        old = set(self.routes_of(c))
        new = {int(r) for r in self.p.patterns[c][k] if r >= 0}
        for r in old - new:
            self.routes[r].remove(c)
            self._refresh(r)
            self._dirty.add(r)
        for r in new - old:
            self.routes[r].insert(int(first[r]), c)
            self._refresh(r)
            self._dirty.add(r)
        if self.choice[c] >= 0:
            self.extra -= float(self.p.pattern_cost[c][self.choice[c]])
        self.extra += float(self.p.pattern_cost[c][k])
        self.choice[c] = k
        self._rebuild_edges(old ^ new)

    def place(self, c: int, k: int) -> None:
        """Put customer c (on no route) on pattern k, at the cheapest position of each of its routes."""
        first = np.zeros(len(self.routes), dtype=np.int64)
        for r in (int(x) for x in self.p.patterns[c][k] if x >= 0):
            ef, et = self._edges[r]
            detour = self.p.dist[ef, c] + self.p.dist[c, et] - self.p.dist[ef, et]
            first[r] = int(np.argmin(detour))
        self.apply(c, k, first)

    def pattern_of(self, c: int, routes: tuple[int, ...]) -> int | None:
        """The index of customer c's pattern riding exactly ``routes`` (sorted), if it has one."""
        return self._pattern_lookup(c).get(routes)

    @property
    def dirty(self) -> set[int]:
        """Routes changed since the last :meth:`reorder`."""
        return set(self._dirty)

    def insert(self, customers: list[int]) -> None:
        """Give every listed customer (currently on no route) its cheapest pattern."""
        for c in customers:
            k, _, first = self.evaluate(c)
            self.apply(c, k, first)

    def remove(self, customers: list[int]) -> None:
        for c in customers:
            for r in self.routes_of(c):
                self.routes[r].remove(c)
                self._dirty.add(r)
            if self.choice[c] >= 0:
                self.extra -= float(self.p.pattern_cost[c][self.choice[c]])
            self.choice[c] = -1
        for r in self._dirty:
            self._refresh(r)
        self._rebuild_edges(set(self._dirty))

    def cycle(self) -> CycleRoutes:
        """The routes as they stand now (a copy the search's later moves leave alone)."""
        return CycleRoutes(tuple(tuple(r) for r in self.routes),
                           tuple(tuple(self.routes_of(c)) for c in range(len(self.choice))))  # fmt: skip

    # ---- what the routes carry and are held to ------------------------
    def loads(self, idx: slice = slice(None)) -> RouteLoads:
        """km, minutes and stops of routes ``idx`` now."""
        return RouteLoads(self.km[idx].copy(), self.minutes[idx].copy(), self.stops[idx].copy())

    def limits(self) -> RouteLimits:
        """Every route's ceiling of minutes and floors of minutes and stops."""
        return RouteLimits(self.max_min.copy(), self.min_min.copy(), self.min_stops.copy())

    def hold_to(self, limits: RouteLimits) -> None:
        """Hold every route to ``limits`` (e.g. a snapshot from :meth:`limits`), re-pricing the routes."""
        self.max_min = np.array(limits.max_minutes, dtype=float)
        self.min_min = np.array(limits.min_minutes, dtype=float)
        self.min_stops = np.array(limits.min_stops, dtype=float)
        self.recost()

    def cap_minutes(self, idx: slice, max_minutes: np.ndarray) -> None:
        """Lower or raise routes ``idx``'s ceiling of minutes, without re-pricing (a what-if for
        :meth:`penalty`; :meth:`hold_to` puts the limits back)."""
        self.max_min[idx] = max_minutes

    def is_short(self, r: int) -> bool:
        """Whether working route r is short of its stops or its field time."""
        if self.min_stops[r] <= 0 and self.min_min[r] <= 0:
            return False
        return bool(self.stops[r] < self.min_stops[r] or self.minutes[r] < self.min_min[r] - 1e-6)

    def is_over(self, r: int, more_minutes: float = 0.0) -> bool:
        """Whether route r is past its day (with ``more_minutes`` more)."""
        return bool(self.minutes[r] + more_minutes > self.max_min[r] + 1e-6)

    def can_spare(self, r: int, minutes: float | None = None) -> bool:
        """Whether route r keeps its stops, and (given the ``minutes`` a stop takes) its field
        time, with one stop less."""
        if self.stops[r] - 1 < self.min_stops[r]:
            return False
        return bool(minutes is None or self.min_min[r] <= 0 or self.minutes[r] - minutes >= self.min_min[r] + 1e-6)

    def set_limits(self, routes: list[RouteSpec]) -> None:
        """Replace every route's limits (starts and ends stay)."""
        self.p = Problem(
            self.p.dist, self.p.time, self.p.service, routes, self.p.patterns, self.p.pattern_cost,
            self.p.makeup_targets, self.p.makeup_runs,
        )  # fmt: skip
        self.max_min = np.array([r.max_minutes for r in routes], dtype=float)
        self.min_min = np.array([r.min_minutes for r in routes], dtype=float)
        self.min_stops = np.array([r.min_stops for r in routes], dtype=float)
        self.target_min = np.array([r.target_minutes for r in routes], dtype=float)
        for r in range(len(self.routes)):
            self._refresh(r)

    def set_routes(self, routes: list[list[int]], choice: np.ndarray) -> None:
        self.routes = [list(s) for s in routes]
        self.choice = choice.copy()
        for r in range(len(self.routes)):
            self._refresh(r)
        self._recount_extra()
        self._rebuild_edges()

    # ---- improvement -------------------------------------------------
    def reorder(self, which: set[int] | None = None, min_gain_km: float = 0.0) -> dict[int, float]:
        """2-opt / Or-opt every route in ``which`` (default: every route changed since last time).

        A new order is kept only where it is at least ``min_gain_km`` shorter (a standing
        route keeps its order for small gains); returns the km saved per re-ordered route.
        """
        todo = set(self._dirty if which is None else which)
        saved: dict[int, float] = {}
        for r in sorted(todo):
            seq = self.routes[r]
            if len(seq) > 1:
                before = self.km[r]
                self.routes[r] = improve_order(self.p.dist, int(self.start[r]), seq, int(self.end[r]))
                self._refresh(r)
                gain = before - self.km[r]
                if min_gain_km > 0 and gain < min_gain_km:
                    self.routes[r] = seq
                    self._refresh(r)
                elif gain > 1e-9:
                    saved[r] = float(gain)
        self._dirty = set()
        self._rebuild_edges(todo)
        return saved

    def polish_orders(self, order_fn: Callable[[np.ndarray, int, list[int], int], list[int]]) -> None:
        """Re-order every route with ``order_fn``; keep its order only where it is shorter."""
        for r, seq in enumerate(self.routes):
            if len(seq) < 4:
                continue
            candidate = order_fn(self.p.dist, int(self.start[r]), seq, int(self.end[r]))
            if sorted(candidate) != sorted(seq):
                continue
            old_km = self.km[r]
            self.routes[r] = candidate
            self._refresh(r)
            if self.km[r] >= old_km - 1e-9:
                self.routes[r] = seq
                self._refresh(r)
        self._rebuild_edges()

    def local_search(self, deadline: float, max_passes: int = 50) -> int:
        """Pattern moves until no customer improves; returns the moves made."""
        moves = 0
        n = self.p.n_customers
        for _ in range(max_passes):
            improved = 0
            for c in self.rng.permutation(n):
                c = int(c)
                if self.choice[c] < 0:
                    continue
                k, delta, first = self.evaluate(c)
                if delta < -1e-7 and k != self.choice[c]:
                    self.apply(c, k, first)
                    improved += 1
                if time.monotonic() > deadline:
                    break
            self.reorder()
            moves += improved
            if not improved or time.monotonic() > deadline:
                break
        return moves

    def ruin_recreate(self, deadline: float, neighbours: np.ndarray, rounds: int, size: int = 25) -> tuple[int, int]:
        """Remove a random shop and its nearest neighbours, re-insert them, keep the better plan.

        Acceptance is by a threshold that shrinks to zero over the rounds (so the
        search can climb out of a local optimum early on); the best plan seen is
        the one kept. Runs ``rounds`` times (so a seed gives one result) unless the
        deadline comes first.
        """
        tried = kept = 0
        n = self.p.n_customers
        if n == 0 or rounds <= 0:
            return 0, 0
        size = min(size, neighbours.shape[1])
        current = self.total_cost()
        best = (current, [list(s) for s in self.routes], self.choice.copy())
        start_threshold = RR_START_THRESHOLD * current / max(1, len(self.routes))
        while tried < rounds and time.monotonic() < deadline:
            threshold = start_threshold * (1 - tried / rounds)
            tried += 1
            snapshot = ([list(s) for s in self.routes], self.choice.copy())
            seed = int(self.rng.integers(n))
            k = int(self.rng.integers(min(max(3, size // 2), size), size + 1))
            group = [int(x) for x in neighbours[seed, :k] if self.choice[int(x)] >= 0]
            self.remove(group)
            order = self.rng.permutation(len(group))
            self.insert([group[i] for i in order])
            if self.total_cost() < current + threshold + REORDER_MARGIN_KM:
                self.reorder()
                cost = self.total_cost()
            else:
                cost = np.inf
            if cost < current + threshold:
                current = cost
                kept += 1
                if cost < best[0] - 1e-9:
                    best = (cost, [list(s) for s in self.routes], self.choice.copy())
            else:
                self._dirty = set()
                self.set_routes(*snapshot)
        self.set_routes(best[1], best[2])
        return tried, kept

    def pattern_costs(self, routes: Iterable[int]) -> float:
        """What the patterns of the customers riding these routes cost (each customer once)."""
        customers = {c for r in routes for c in self.routes[r]}
        return sum(float(self.p.pattern_cost[c][self.choice[c]]) for c in customers)

    def try_permutation(self, perm: dict[int, int], judge: Callable[[], float] | None = None) -> bool:
        """Move the stops of route a to route ``perm[a]`` for every a (a bijection); keep if cheaper.

        Used to swap which weekday or week of the cycle a route runs on: a route
        that loses a run to a holiday should be a short one. Every affected
        customer's new pattern must be allowed, or nothing changes.
        """
        moved = set(perm)
        customers = {c for r in moved for c in self.routes[r]}
        new_choice: dict[int, int] = {}
        for c in customers:
            row = [perm.get(r, r) for r in self.routes_of(c)]
            key = tuple(sorted(row))
            k = self._pattern_lookup(c).get(key)
            if k is None:
                return False
            new_choice[c] = k
        idx = np.array(sorted(moved))
        src = np.array([next(a for a, b in perm.items() if b == r) for r in idx])

        def cost() -> float:
            if judge is not None:
                return judge()
            return float(self.route_costs()[idx].sum()) + self.pattern_costs(moved)

        def place(routes: dict[int, list[int]], choice: dict[int, int]) -> None:
            for r, seq in routes.items():
                self.routes[r] = seq
            for c, k in choice.items():
                self.choice[c] = k
            for r in routes:
                self._refresh(r)

        before = cost()
        # only the permuted routes and their customers change, so only they are put back on a
        # refusal (a manager's dozen routes, not every route of the search)
        old_routes = {int(r): self.routes[int(r)] for r in idx}
        old_choice = {c: int(self.choice[c]) for c in new_choice}
        place({int(r): list(old_routes[int(a)]) for r, a in zip(idx, src, strict=True)}, new_choice)
        if cost() < before - 1e-7:
            costs = self.p.pattern_cost
            self.extra += sum(float(costs[c][k]) - float(costs[c][old_choice[c]]) for c, k in new_choice.items())
            self._rebuild_edges(set(old_routes))
            return True
        place(old_routes, old_choice)
        return False

    def _pattern_lookup(self, c: int) -> dict[tuple[int, ...], int]:
        """Pattern index by its sorted routes; customers sharing one pattern array share the table."""
        arr = self.p.patterns[c]
        cache = self._lookup
        if id(arr) not in cache:
            cache[id(arr)] = {tuple(sorted(int(r) for r in row if r >= 0)): k for k, row in enumerate(arr)}
        return cache[id(arr)]

    def build_orders(self) -> None:
        """Nearest-neighbour then 2-opt/Or-opt order for every route (after a construction)."""
        for r, seq in enumerate(self.routes):
            if seq:
                nn = nearest_neighbour(self.p.dist, int(self.start[r]), seq)
                self.routes[r] = improve_order(self.p.dist, int(self.start[r]), nn, int(self.end[r]))
            self._refresh(r)
        self._rebuild_edges()
