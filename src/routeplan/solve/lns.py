"""Compiled ruin-and-recreate over the periodic problem, for the free-day mode.

In the free-day mode a customer's pattern names *groups* of routes (a day's fleet)
rather than routes: on each day of the chosen pattern the customer may ride any of
that day's vehicles. One iteration removes a handful of customers from every day
they are served (a neighbourhood, or strings of consecutive stops from nearby
routes of one day), re-inserts each at its cheapest pattern, vehicle and position
(with a few positions skipped at random, so that rebuilds differ), re-orders the
touched routes with 2-opt and Or-opt, and keeps the result by simulated annealing.
Capacity and duration are penalised, not forbidden, with weights that adapt so that
about a third of the rebuilt plans are feasible; the best feasible plan is kept.

The whole loop is compiled (numba): an iteration is a few hundred microseconds of
work, and in Python the interpreter overhead per insertion would dominate it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from .kernels import improve_path, route_penalty
from .params import LnsSchedule, Penalties
from .search import Problem
from .tsp import path_length

#: Iterations run between two looks at the clock.
CHUNK = 2000
#: Where each setting of :class:`routeplan.solve.params.LnsSchedule` sits in its array.
(S_RUIN_MIN, S_RUIN_MAX, S_BLINK, S_T_START, S_T_END, S_START_WEIGHT, S_WEIGHT_MIN, S_WEIGHT_MAX, S_ADAPT_EVERY,
 S_FEASIBLE_LOW, S_FEASIBLE_HIGH, S_RAISE, S_LOWER, S_NEIGHBOURS, S_GRANULAR) = range(15)  # fmt: skip
#: Where each weight sits in the search's weight array: the adaptive overtime and overload
#: weights, then the route prices (:meth:`routeplan.solve.params.Penalties.prices`).
W_OVERTIME, W_OVERLOAD, W_PRICES = 0, 1, 2


@dataclass(frozen=True)
class FreeDayProblem:
    """Arrays the compiled loop reads. Customers are nodes ``0..C-1``; route ends follow.

    ``patterns[c, k]`` lists the groups (days) of pattern k (-1 padded); ``group_routes[g]``
    the routes (vehicles) of group g (-1 padded).
    """

    dist: np.ndarray
    time: np.ndarray
    service: np.ndarray
    demand: np.ndarray
    start: np.ndarray
    end: np.ndarray
    #: per route: max minutes, min minutes, min stops, target minutes, capacity
    limits: np.ndarray
    group_routes: np.ndarray
    patterns: np.ndarray
    n_patterns: np.ndarray
    pattern_cost: np.ndarray

    @property
    def n_customers(self) -> int:
        return len(self.n_patterns)


@dataclass
class FreeDayResult:
    """The best plan found that keeps the duration and capacity limits (if none did, the last one)."""

    routes: list[list[int]]
    choice: np.ndarray
    #: km plus pattern costs (plus the monthly plan's soft terms); km alone when not feasible
    cost: float
    feasible: bool
    iterations: int
    seconds: float


@njit(cache=True)
def _cost(r, km, mins, stops, load, limits, weights):
    """Penalised cost of route r: km, the monthly-plan terms, overtime and overload."""
    base = route_penalty(km, mins, stops, np.inf, limits[r, 1], limits[r, 2], limits[r, 3], weights[W_PRICES:])
    over = mins - limits[r, 0]
    heavy = load - limits[r, 4]
    return base + weights[W_OVERTIME] * max(over, 0.0) + weights[W_OVERLOAD] * max(heavy, 0.0)


@njit(cache=True)
def _violation(r, mins, load, limits):
    return max(mins - limits[r, 0], 0.0) + max(load - limits[r, 4], 0.0)


@njit(cache=True)
def _refresh(r, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost, limits, weights):
    prev = start[r]
    k = 0.0
    m = 0.0
    q = 0.0
    for i in range(ln[r]):
        c = seq[r, i]
        k += dist[prev, c]
        m += tmat[prev, c] + service[c]
        q += demand[c]
        prev = c
    k += dist[prev, end[r]]
    if ln[r] > 0:
        m += tmat[prev, end[r]]
    km[r] = k
    mins[r] = m
    load[r] = q
    cost[r] = _cost(r, k, m, float(ln[r]), q, limits, weights)


@njit(cache=True)
def _touch(r, touched, tlist, nt, seq, ln, km, mins, load, cost, bseq, bln, bkm, bmins, bload, bcost):
    """Back up route r the first time an iteration changes it; returns the new count."""
    if touched[r]:
        return nt
    touched[r] = True
    tlist[nt] = r
    bln[r] = ln[r]
    for i in range(ln[r]):
        bseq[r, i] = seq[r, i]
    bkm[r] = km[r]
    bmins[r] = mins[r]
    bload[r] = load[r]
    bcost[r] = cost[r]
    return nt + 1


@njit(cache=True)
def _scan_route(c, r, blink, best_val, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost,
                limits, weights):  # fmt: skip
    """Cheapest position for c in route r if below ``best_val``: (value, position, km part) or (inf, -1, 0)."""
    n = ln[r]
    # overload changes by the same amount at every position
    fixed = weights[W_OVERLOAD] * (max(load[r] + demand[c] - limits[r, 4], 0.0) - max(load[r] - limits[r, 4], 0.0))
    simple = limits[r, 1] <= 0.0 and limits[r, 2] <= 0.0 and limits[r, 3] == np.inf
    over_now = max(mins[r] - limits[r, 0], 0.0)
    prev = start[r]
    at = -1
    at_km = 0.0
    for i in range(n + 1):
        nxt = seq[r, i] if i < n else end[r]
        if blink > 0.0 and np.random.random() < blink:
            prev = nxt
            continue
        dk = dist[prev, c] + dist[c, nxt] - dist[prev, nxt]
        if simple and dk + fixed >= best_val:
            prev = nxt
            continue
        if n == 0:
            dm = tmat[prev, c] + tmat[c, nxt] + service[c]
        else:
            dm = tmat[prev, c] + tmat[c, nxt] - tmat[prev, nxt] + service[c]
        if simple:
            val = dk + fixed + weights[W_OVERTIME] * (max(mins[r] + dm - limits[r, 0], 0.0) - over_now)
        else:
            val = _cost(r, km[r] + dk, mins[r] + dm, n + 1.0, load[r] + demand[c], limits, weights) - cost[r]
        if val < best_val:
            best_val = val
            at = i
            at_km = dk
        prev = nxt
    return best_val, at, at_km


@njit(cache=True)
def _best_insertion(c, blink, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost,  # noqa: C901 (one compiled hot loop: split, numba would pay a call per candidate)
                    limits, weights, group_routes, patterns, n_patterns, pattern_cost, cgroups, wg, rg, pg,
                    cr, neighbours, granular, mark):  # fmt: skip
    """Cheapest (pattern, route per group, position per group) for customer c; returns the pattern.

    With ``granular`` > 0, a day's routes are first searched only where one of c's
    nearest ``granular`` customers rides (and one empty route); all of them only when
    every such insertion breaks a limit.
    """
    for j in range(cgroups.shape[1]):
        g = cgroups[c, j]
        if g < 0:
            break
        wg[g] = np.inf
        penalised = True
        if granular > 0:
            empty_done = False
            for v in range(group_routes.shape[1]):
                r = group_routes[g, v]
                if r < 0:
                    break
                near = False
                if ln[r] == 0:
                    near = not empty_done
                    empty_done = True
                else:
                    for q in range(granular):
                        if cr[neighbours[c, q], g] == r:
                            near = True
                            break
                if not near:
                    continue
                mark[r] = True
                val, at, at_km = _scan_route(c, r, blink, wg[g], seq, ln, start, end, dist, tmat, service, demand,
                                             km, mins, load, cost, limits, weights)  # fmt: skip
                if at >= 0:
                    wg[g] = val
                    rg[g] = r
                    pg[g] = at
                    penalised = val > at_km + 1e-9
        for v in range(group_routes.shape[1]):
            r = group_routes[g, v]
            if r < 0:
                break
            if mark[r]:
                mark[r] = False
                continue
            if granular > 0 and not penalised:
                continue
            val, at, at_km = _scan_route(c, r, blink, wg[g], seq, ln, start, end, dist, tmat, service, demand,
                                         km, mins, load, cost, limits, weights)  # fmt: skip
            if at >= 0:
                wg[g] = val
                rg[g] = r
                pg[g] = at
    best = -1
    best_total = np.inf
    for k in range(n_patterns[c]):
        total = pattern_cost[c, k]
        for j in range(patterns.shape[2]):
            g = patterns[c, k, j]
            if g < 0:
                break
            total += wg[g]
        if total < best_total:
            best_total = total
            best = k
    return best


@njit(cache=True)
def _insert(c, k, rg, pg, seq, ln, cr, choice, patterns, start, end, dist, tmat, service, demand,
            km, mins, load, cost, limits, weights, touched, tlist, nt, bseq, bln, bkm, bmins, bload, bcost):  # fmt: skip
    for j in range(patterns.shape[2]):
        g = patterns[c, k, j]
        if g < 0:
            break
        r = rg[g]
        i = pg[g]
        nt = _touch(r, touched, tlist, nt, seq, ln, km, mins, load, cost, bseq, bln, bkm, bmins, bload, bcost)
        n = ln[r]
        for q in range(n, i, -1):
            seq[r, q] = seq[r, q - 1]
        seq[r, i] = c
        ln[r] = n + 1
        cr[c, g] = r
        _refresh(r, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost, limits, weights)
    choice[c] = k
    return nt


@njit(cache=True)
def _remove(c, seq, ln, cr, choice, start, end, dist, tmat, service, demand, km, mins, load, cost,
            limits, weights, touched, tlist, nt, bseq, bln, bkm, bmins, bload, bcost):  # fmt: skip
    for g in range(cr.shape[1]):
        r = cr[c, g]
        if r < 0:
            continue
        nt = _touch(r, touched, tlist, nt, seq, ln, km, mins, load, cost, bseq, bln, bkm, bmins, bload, bcost)
        n = ln[r]
        at = 0
        while seq[r, at] != c:
            at += 1
        for q in range(at, n - 1):
            seq[r, q] = seq[r, q + 1]
        ln[r] = n - 1
        cr[c, g] = -1
        _refresh(r, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost, limits, weights)
    choice[c] = -1
    return nt


@njit(cache=True)
def _total(cost, choice, pattern_cost):
    total = cost.sum()
    for c in range(len(choice)):
        if choice[c] >= 0:
            total += pattern_cost[c, choice[c]]
    return total


@njit(cache=True)
def _violation_sum(mins, load, limits):
    """Overtime plus overload over all routes (zero for a plan that keeps the hard limits)."""
    bad = 0.0
    for r in range(len(mins)):
        bad += _violation(r, mins[r], load[r], limits)
    return bad


@njit(cache=True)
def _route_stats(seq, ln, start, end, dist, tmat, service, demand, limits, weights):
    """km, minutes, load and penalised cost of every route, from scratch."""
    n_routes = seq.shape[0]
    km = np.zeros(n_routes)
    mins = np.zeros(n_routes)
    load = np.zeros(n_routes)
    cost = np.zeros(n_routes)
    for r in range(n_routes):
        _refresh(r, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost, limits, weights)
    return km, mins, load, cost


@njit(cache=True)
def plan_value(seq, ln, choice, weights, dist, tmat, service, demand, start, end, limits, pattern_cost):
    """(penalised total, overtime + overload) of a plan, from scratch."""
    _, mins, load, cost = _route_stats(seq, ln, start, end, dist, tmat, service, demand, limits, weights)
    return _total(cost, choice, pattern_cost), _violation_sum(mins, load, limits)


@njit(cache=True)
def _ruin(seq, ln, cr, choice, group_routes, neighbours, size, removed):
    """Pick customers to remove: a neighbourhood, or strings from nearby routes of one day."""
    n_cust = len(choice)
    seed = np.random.randint(n_cust)
    tries = 0
    while choice[seed] < 0 or cr[seed].max() < 0:
        seed = np.random.randint(n_cust)
        tries += 1
        if tries > 10 * n_cust:
            return 0  # nobody rides a route (every pattern empty)
    count = 0
    if np.random.random() < 0.5:
        removed[0] = seed
        count = 1
        for j in range(neighbours.shape[1]):
            if count >= size:
                break
            x = neighbours[seed, j]
            if choice[x] >= 0 and x != seed:
                removed[count] = x
                count += 1
        return count
    # strings: one day of the seed; walk its neighbours, cut a string out of each new route met
    days = np.empty(cr.shape[1], dtype=np.int64)
    nd = 0
    for g in range(cr.shape[1]):
        if cr[seed, g] >= 0:
            days[nd] = g
            nd += 1
    g = days[np.random.randint(nd)]
    max_len = max(2, size // 3)
    seen_routes = np.zeros(seq.shape[0], dtype=np.bool_)
    mark = np.zeros(n_cust, dtype=np.bool_)
    for j in range(-1, neighbours.shape[1]):
        if count >= size:
            break
        x = seed if j < 0 else neighbours[seed, j]
        r = cr[x, g]
        if r < 0 or seen_routes[r]:
            continue
        seen_routes[r] = True
        at = 0
        while seq[r, at] != x:
            at += 1
        length = min(ln[r], 1 + np.random.randint(max_len))
        lo = at - np.random.randint(length)
        lo = max(0, min(lo, ln[r] - length))
        for q in range(lo, lo + length):
            y = seq[r, q]
            if not mark[y] and count < size:
                mark[y] = True
                removed[count] = y
                count += 1
    return count


@njit(cache=True)
def _order_for_rebuild(removed, count, dist, depot_row):
    """Random order, or far-from-office first, or near first (as SISR does)."""
    pick = np.random.random()
    if pick < 0.5:
        np.random.shuffle(removed[:count])
        return
    key = np.empty(count)
    for i in range(count):
        key[i] = depot_row[removed[i]]
    order = np.argsort(key)
    if pick < 0.8:
        order = order[::-1]
    tmp = removed[:count].copy()
    for i in range(count):
        removed[i] = tmp[order[i]]


@njit(cache=True)
def run(iterations, t_start, t_end, seed_value, seq, ln, cr, choice, weights, best_seq, best_ln, best_choice,  # noqa: C901 (the compiled main loop: ruin, rebuild, re-order, accept; kept whole for numba)
        best_value, dist, tmat, service, demand, start, end, limits, group_routes, patterns, n_patterns,
        pattern_cost, cgroups, neighbours, depot_row, schedule, state, granular):  # fmt: skip
    """Run ``iterations`` ruin-and-recreate steps with a temperature falling from t_start to t_end.

    ``schedule``: :meth:`routeplan.solve.params.LnsSchedule.array`; ``state`` = [unused, feasible
    rebuilds since the last weight update, rebuilds] carried between calls.
    Returns the best feasible plan value found so far (it lives in ``best_*``).
    """
    np.random.seed(seed_value)
    n_routes = seq.shape[0]
    n_groups = group_routes.shape[0]
    km, mins, load, cost = _route_stats(seq, ln, start, end, dist, tmat, service, demand, limits, weights)
    bseq = np.empty_like(seq)
    bln = np.empty_like(ln)
    bkm = np.empty(n_routes)
    bmins = np.empty(n_routes)
    bload = np.empty(n_routes)
    bcost = np.empty(n_routes)
    touched = np.zeros(n_routes, dtype=np.bool_)
    mark = np.zeros(n_routes, dtype=np.bool_)
    tlist = np.empty(n_routes, dtype=np.int64)
    wg = np.empty(n_groups)
    rg = np.empty(n_groups, dtype=np.int64)
    pg = np.empty(n_groups, dtype=np.int64)
    removed = np.empty(len(choice), dtype=np.int64)
    order = np.empty(len(choice), dtype=np.int64)
    bcr = np.empty_like(cr)
    bchoice = np.empty(len(choice), dtype=np.int64)
    current = _total(cost, choice, pattern_cost)
    size_hi = min(int(schedule[S_RUIN_MAX]), len(choice))
    size_lo = min(int(schedule[S_RUIN_MIN]), size_hi)
    blink = schedule[S_BLINK]
    every = int(schedule[S_ADAPT_EVERY])
    for it in range(iterations):
        temp = t_start * (t_end / t_start) ** (it / max(1, iterations))
        nt = 0
        size = size_lo + np.random.randint(size_hi - size_lo + 1)
        count = _ruin(seq, ln, cr, choice, group_routes, neighbours, size, removed)
        for i in range(count):
            c = removed[i]
            bchoice[i] = choice[c]
            for g in range(cr.shape[1]):
                bcr[i, g] = cr[c, g]
            nt = _remove(c, seq, ln, cr, choice, start, end, dist, tmat, service, demand, km, mins, load, cost,
                         limits, weights, touched, tlist, nt, bseq, bln, bkm, bmins, bload, bcost)  # fmt: skip
        for i in range(count):
            order[i] = removed[i]
        _order_for_rebuild(order, count, dist, depot_row)
        for i in range(count):
            c = order[i]
            k = _best_insertion(c, blink, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost,
                                limits, weights, group_routes, patterns, n_patterns, pattern_cost, cgroups,
                                wg, rg, pg, cr, neighbours, granular, mark)  # fmt: skip
            if k < 0:
                k = _best_insertion(c, 0.0, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost,
                                    limits, weights, group_routes, patterns, n_patterns, pattern_cost, cgroups,
                                    wg, rg, pg, cr, neighbours, 0, mark)  # fmt: skip
            nt = _insert(c, k, rg, pg, seq, ln, cr, choice, patterns, start, end, dist, tmat, service, demand,
                         km, mins, load, cost, limits, weights, touched, tlist, nt, bseq, bln, bkm, bmins, bload,
                         bcost)  # fmt: skip
        for j in range(nt):
            r = tlist[j]
            if ln[r] > 2:
                path = np.empty(ln[r] + 2, dtype=np.int64)
                path[0] = start[r]
                path[1 : ln[r] + 1] = seq[r, : ln[r]]
                path[ln[r] + 1] = end[r]
                path = improve_path(dist, path)
                seq[r, : ln[r]] = path[1 : ln[r] + 1]
                _refresh(r, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost, limits, weights)
        candidate = _total(cost, choice, pattern_cost)
        bad = _violation_sum(mins, load, limits)
        state[2] += 1
        if bad <= 1e-9:
            state[1] += 1
            if candidate < best_value[0] - 1e-9:
                best_value[0] = candidate
                best_seq[:, :] = seq
                best_ln[:] = ln
                best_choice[:] = choice
        if candidate < current - temp * math.log(np.random.random() + 1e-300):
            current = candidate
        else:
            # restore: routes first, then the removed customers' assignments
            for j in range(nt):
                r = tlist[j]
                ln[r] = bln[r]
                for i in range(bln[r]):
                    seq[r, i] = bseq[r, i]
                km[r] = bkm[r]
                mins[r] = bmins[r]
                load[r] = bload[r]
                cost[r] = bcost[r]
            for i in range(count):
                c = removed[i]
                choice[c] = bchoice[i]
                for g in range(cr.shape[1]):
                    cr[c, g] = bcr[i, g]
        for j in range(nt):
            touched[tlist[j]] = False
        if state[2] % every == 0:
            share = state[1] / every
            state[1] = 0
            changed = False
            if share < schedule[S_FEASIBLE_LOW]:
                for w in (W_OVERTIME, W_OVERLOAD):
                    weights[w] = min(weights[w] * schedule[S_RAISE], schedule[S_WEIGHT_MAX])
                changed = True
            elif share > schedule[S_FEASIBLE_HIGH]:
                for w in (W_OVERTIME, W_OVERLOAD):
                    weights[w] = max(weights[w] * schedule[S_LOWER], schedule[S_WEIGHT_MIN])
                changed = True
            if changed:
                for r in range(n_routes):
                    cost[r] = _cost(r, km[r], mins[r], float(ln[r]), load[r], limits, weights)
                current = _total(cost, choice, pattern_cost)
    return best_value[0]


@njit(cache=True)
def construct(order, seq, ln, cr, choice, weights, dist, tmat, service, demand, start, end, limits, group_routes,
              patterns, n_patterns, pattern_cost, cgroups):  # fmt: skip
    """Cheapest insertion of every customer, in the given order, into the (empty) routes."""
    n_routes = seq.shape[0]
    n_groups = group_routes.shape[0]
    km, mins, load, cost = _route_stats(seq, ln, start, end, dist, tmat, service, demand, limits, weights)
    bseq = np.empty_like(seq)
    bln = np.empty_like(ln)
    backup = np.empty(n_routes)
    touched = np.zeros(n_routes, dtype=np.bool_)
    mark = np.zeros(n_routes, dtype=np.bool_)
    tlist = np.empty(n_routes, dtype=np.int64)
    wg = np.empty(n_groups)
    rg = np.empty(n_groups, dtype=np.int64)
    pg = np.empty(n_groups, dtype=np.int64)
    for c in order:
        k = _best_insertion(c, 0.0, seq, ln, start, end, dist, tmat, service, demand, km, mins, load, cost,
                            limits, weights, group_routes, patterns, n_patterns, pattern_cost, cgroups, wg, rg, pg,
                            cr, cgroups, 0, mark)  # fmt: skip
        nt = _insert(c, k, rg, pg, seq, ln, cr, choice, patterns, start, end, dist, tmat, service, demand,
                     km, mins, load, cost, limits, weights, touched, tlist, 0, bseq, bln, backup, backup, backup,
                     backup)  # fmt: skip
        for j in range(nt):
            touched[tlist[j]] = False


def _customer_groups(patterns: np.ndarray) -> np.ndarray:
    """Per customer, every group any of its patterns uses (-1 padded)."""
    n = patterns.shape[0]
    rows = [sorted({int(g) for g in patterns[c].ravel() if g >= 0}) for c in range(n)]
    width = max(1, max((len(r) for r in rows), default=1))
    out = np.full((n, width), -1, dtype=np.int64)
    for c, row in enumerate(rows):
        out[c, : len(row)] = row
    return out


def solve_free_day(
    problem: FreeDayProblem,
    *,
    seed: int = 0,
    time_limit_s: float = 60.0,
    iterations: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    initial: tuple[list[list[int]], np.ndarray] | None = None,
    prices: np.ndarray | None = None,
    schedule: LnsSchedule | None = None,
) -> FreeDayResult:
    """Ruin and recreate until the time limit (or ``iterations``, which makes a run repeatable).

    Starts from ``initial`` (routes, pattern per customer) if given, else from a cheapest-
    insertion construction. ``prices``: what a broken route limit costs
    (:meth:`routeplan.solve.params.Penalties.prices`, default the standard ones);
    ``schedule``: how the search runs (default :class:`routeplan.solve.params.LnsSchedule`). ``progress(done share, best value)`` is called between chunks.
    """
    t0 = time.monotonic()
    p = problem
    n_cust = p.n_customers
    n_routes = len(p.start)
    rng = np.random.default_rng(seed)
    seq = np.zeros((n_routes, n_cust + 1), dtype=np.int64)
    ln = np.zeros(n_routes, dtype=np.int64)
    cr = np.full((n_cust, p.group_routes.shape[0]), -1, dtype=np.int64)
    choice = np.full(n_cust, -1, dtype=np.int64)
    schedule = schedule or LnsSchedule()
    prices = Penalties().prices() if prices is None else np.asarray(prices, dtype=float)
    weights = np.concatenate([[schedule.start_weight, schedule.start_weight], prices])
    cgroups = _customer_groups(p.patterns)
    tmat = np.ascontiguousarray(p.time)
    dist = np.ascontiguousarray(p.dist)
    args = (dist, tmat, p.service, p.demand, p.start, p.end, p.limits, p.group_routes, p.patterns, p.n_patterns,
            p.pattern_cost, cgroups)  # fmt: skip
    if initial is not None:
        _load(initial, p, seq, ln, cr, choice)
    else:
        # most-constrained first: few patterns, many visits, heavy
        visits = (p.patterns >= 0).sum(axis=2).max(axis=1)
        keys = np.lexsort((rng.random(n_cust), -p.demand[:n_cust], -visits, p.n_patterns))
        construct(keys.astype(np.int64), seq, ln, cr, choice, weights, *args)
    best_seq = seq.copy()
    best_ln = ln.copy()
    best_choice = choice.copy()
    value, bad = plan_value(seq, ln, choice, weights, dist, tmat, p.service, p.demand, p.start, p.end, p.limits,
                            p.pattern_cost)  # fmt: skip
    best_value = np.array([value if bad <= 1e-9 else np.inf])
    sub = dist[:n_cust, :n_cust].copy()
    np.fill_diagonal(sub, np.inf)
    k_nb = min(schedule.neighbours, max(1, n_cust - 1))
    neighbours = np.argsort(sub, axis=1, kind="stable")[:, :k_nb].astype(np.int64)
    depot_row = dist[:n_cust][:, np.unique(p.start)].min(axis=1)
    km0 = _route_km(dist, p.start, p.end, seq, ln)
    edges = int(ln.sum() + (ln > 0).sum())
    # every shop at one point gives edges of length 0: keep the annealing temperatures positive
    mean_edge = max(km0 / max(1, edges), 1e-6)
    t_hi, t_lo = schedule.temperature_start * mean_edge, schedule.temperature_end * mean_edge
    state = np.zeros(3, dtype=np.int64)
    settings = schedule.array()
    granular = min(schedule.granular, neighbours.shape[1])
    done = 0
    deadline = t0 + time_limit_s
    has_visits = bool((p.patterns >= 0).any())
    while has_visits:
        now = time.monotonic()
        if now >= deadline or (iterations is not None and done >= iterations):
            break
        share = done / iterations if iterations else (now - t0) / time_limit_s
        chunk = CHUNK if iterations is None else min(CHUNK, iterations - done)
        share_end = (done + chunk) / iterations if iterations else min(1.0, share + 0.01)
        a = t_hi * (t_lo / t_hi) ** share
        b = t_hi * (t_lo / t_hi) ** share_end
        run(chunk, a, b, int(rng.integers(2**31)), seq, ln, cr, choice, weights, best_seq, best_ln, best_choice,
            best_value, dist, tmat, p.service, p.demand, p.start, p.end, p.limits, p.group_routes, p.patterns,
            p.n_patterns, p.pattern_cost, cgroups, neighbours, depot_row, settings, state, granular)  # fmt: skip
        done += chunk
        if progress is not None:
            progress(min(1.0, share_end), float(best_value[0]))
    feasible = bool(np.isfinite(best_value[0]))
    if not feasible:
        best_seq, best_ln, best_choice = seq, ln, choice
    routes = [[int(c) for c in best_seq[r, : best_ln[r]]] for r in range(n_routes)]
    value = float(best_value[0]) if feasible else _route_km(dist, p.start, p.end, best_seq, best_ln)
    return FreeDayResult(routes, best_choice.copy(), value, feasible, done, time.monotonic() - t0)


def _load(
    initial: tuple[list[list[int]], np.ndarray],
    p: FreeDayProblem,
    seq: np.ndarray,
    ln: np.ndarray,
    cr: np.ndarray,
    choice: np.ndarray,
) -> None:
    routes, start_choice = initial
    group_of = np.full(len(p.start), -1, dtype=np.int64)
    for g, row in enumerate(p.group_routes):
        group_of[row[row >= 0]] = g
    for r, stops in enumerate(routes):
        seq[r, : len(stops)] = stops
        ln[r] = len(stops)
        for c in stops:
            cr[c, group_of[r]] = r
    choice[:] = start_choice


def fixed_routes(problem: Problem) -> FreeDayProblem:
    """The monthly plan's problem in free-day form: every route is a group of its own."""
    n = problem.n_customers
    width_p = max(len(p) for p in problem.patterns)
    width_k = max(p.shape[1] for p in problem.patterns)
    patterns = np.full((n, width_p, width_k), -1, dtype=np.int64)
    costs = np.zeros((n, width_p))
    for c, (pats, pc) in enumerate(zip(problem.patterns, problem.pattern_cost, strict=True)):
        patterns[c, : len(pats), : pats.shape[1]] = pats
        costs[c, : len(pc)] = pc
    spec = problem.routes
    limits = np.array(
        [[r.max_minutes, r.min_minutes, r.min_stops, r.target_minutes, np.inf] for r in spec], dtype=float
    )
    n_nodes = len(problem.service)
    return FreeDayProblem(
        problem.dist, problem.time, problem.service, np.zeros(n_nodes),
        np.array([r.start for r in spec], dtype=np.int64), np.array([r.end for r in spec], dtype=np.int64), limits,
        np.arange(len(spec), dtype=np.int64).reshape(-1, 1), patterns,
        np.array([len(p) for p in problem.patterns], dtype=np.int64), costs,
    )  # fmt: skip


def _route_km(dist: np.ndarray, start: np.ndarray, end: np.ndarray, seq: np.ndarray, ln: np.ndarray) -> float:
    return sum(path_length(dist, int(start[r]), [int(c) for c in seq[r, : ln[r]]], int(end[r]))
               for r in range(len(ln)) if ln[r])  # fmt: skip


def compiled() -> bool:
    """Whether this process already holds the compiled loop."""
    return bool(run.signatures)


def warm_up() -> None:
    """Compile (or load from the cache) the loop on a two-customer problem."""
    dist = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    problem = FreeDayProblem(
        dist, dist, np.zeros(3), np.ones(3), np.array([2], dtype=np.int64), np.array([2], dtype=np.int64),
        np.array([[np.inf, 0.0, 0.0, np.inf, 10.0]]), np.array([[0]], dtype=np.int64),
        np.array([[[0]], [[0]]], dtype=np.int64), np.array([1, 1], dtype=np.int64), np.zeros((2, 1)),
    )  # fmt: skip
    solve_free_day(problem, iterations=10, time_limit_s=10.0)
