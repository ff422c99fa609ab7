"""Compiled inner loops of the search (numba).

Scoring one customer against every route and every pattern, and improving one
route's order, are the two loops the search spends its time in. In numpy they
were dominated by call overhead (dozens of tiny array operations per customer),
so they are compiled with numba: no C compiler needed, and the functions stay
readable Python. ``cache=True`` keeps the machine code between runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Where each price sits in the array the compiled loops read
#: (:meth:`routeplan.solve.params.Penalties.prices`).
OVER, UNDER, MISSING, SOFT = range(4)


@njit(cache=True)
def route_penalty(km, minutes, stops, max_min, min_min, min_stops, target_min, prices):
    """Penalised cost of one route: km plus the price of every broken limit (``prices``: see
    :class:`routeplan.solve.params.Penalties`)."""
    over = minutes - max_min
    over = over if over > 0.0 else 0.0
    if stops > 0:
        under = min_min - minutes
        under = under if under > 0.0 else 0.0
    else:
        under = min_min
    missing = min_stops - stops
    missing = missing if missing > 0.0 else 0.0
    soft = minutes - target_min
    soft = soft if soft > 0.0 else 0.0
    return km + prices[OVER] * over + prices[UNDER] * under + prices[MISSING] * missing + prices[SOFT] * soft


@njit(cache=True)
def route_edges(offsets, n_edges, r):
    """The flat edge indices of route r: ``lo`` .. ``hi`` (the routes' edges lie one after the other)."""
    return offsets[r], (offsets[r + 1] if r + 1 < len(offsets) else n_edges)


@njit(cache=True)
def evaluate_customer(
    c,
    dist,
    dist_to,
    tmat,
    time_to,
    base_km,
    base_min,
    service,
    ef,
    et,
    offsets,
    n_edges,
    km,
    minutes,
    stops,
    max_min,
    min_min,
    min_stops,
    target_min,
    cost_r,
    cur_routes,
    cur_prev,
    cur_next,
    pats,
    pcost,
    cur_k,
    mk_targets,
    mk_runs,
    prices,
):
    """Best pattern for customer c with every other customer fixed.

    ``dist_to`` and ``time_to`` are the transposed matrices (row c = everything *to* c),
    so both lookups per edge read one contiguous row. Returns ``(pattern index,
    change in penalised cost, best insertion edge per route)``.
    """
    from_c = dist[c]
    to_c = dist_to[c]
    n_routes = len(offsets)
    pos = np.empty(n_routes, dtype=np.int64)
    w = np.empty(n_routes + 1)
    w[n_routes] = 0.0
    best_km = np.empty(n_routes)
    for r in range(n_routes):
        lo, hi = route_edges(offsets, n_edges, r)
        best = 1e300
        at = lo
        for e in range(lo, hi):
            delta = to_c[ef[e]] + from_c[et[e]] - base_km[e]
            if delta < best:
                best = delta
                at = e
        dmin = time_to[c, ef[at]] + tmat[c, et[at]] - base_min[at] + service[c]
        pos[r] = at - lo
        best_km[r] = best
        w[r] = (
            route_penalty(
                km[r] + best,
                minutes[r] + dmin,
                stops[r] + 1.0,
                max_min[r],
                min_min[r],
                min_stops[r],
                target_min[r],
                prices,
            )
            - cost_r[r]
        )
    removal = 0.0
    for j in range(len(cur_routes)):
        r = cur_routes[j]
        p = cur_prev[j]
        q = cur_next[j]
        rkm = dist[p, c] + dist[c, q] - dist[p, q]
        rmin = tmat[p, c] + tmat[c, q] - tmat[p, q] + service[c]
        after = route_penalty(
            km[r] - rkm,
            minutes[r] - rmin,
            stops[r] - 1.0,
            max_min[r],
            min_min[r],
            min_stops[r],
            target_min[r],
            prices,
        )
        delta = after - cost_r[r]
        removal += delta
        w[r] = -delta
    # a route that loses runs sends c to other days of that week: price the cheapest one
    mk = np.zeros(n_routes + 1)
    for r in range(n_routes):
        if mk_runs[r] > 0.0:
            cheapest = 1e300
            for j in range(mk_targets.shape[1]):
                t = mk_targets[r, j]
                if t >= 0 and best_km[t] < cheapest:
                    cheapest = best_km[t]
            if cheapest < 1e300:
                mk[r] = mk_runs[r] * (cheapest if cheapest > 0.0 else 0.0)
    base = pcost[cur_k] if cur_k >= 0 else 0.0
    for j in range(len(cur_routes)):
        base += mk[cur_routes[j]]
    best_k = 0
    best_total = 1e300
    for k in range(pats.shape[0]):
        total = removal + pcost[k] - base
        for j in range(pats.shape[1]):
            r = pats[k, j]
            if r >= 0:
                total += w[r] + mk[r]
        if total < best_total:
            best_total = total
            best_k = k
    return best_k, best_total, pos


@njit(cache=True)
def evaluate_customers(cs, choice, rows, first_row, n_rows, row_cost, dist, dist_to, tmat, time_to, base_km,
                       base_min, service, ef, et, offsets, n_edges, km, minutes, stops, max_min, min_min, min_stops,
                       target_min, cost_r, mk_targets, mk_runs, prices):  # fmt: skip
    """:func:`evaluate_customer` for each customer of ``cs`` with every other one fixed, in one
    call: ``(pattern, change in penalised cost)`` arrays. Customer ``cs[i]``'s patterns are rows
    ``first_row[i]`` .. ``+ n_rows[i]`` of ``rows`` (-1 padded), their costs in ``row_cost``; the
    places before and after it on each route it rides are read from the flat edges."""
    width = rows.shape[1]
    ks = np.empty(len(cs), dtype=np.int64)
    deltas = np.empty(len(cs))
    cur = np.empty(width, dtype=np.int64)
    prev = np.empty(width, dtype=np.int64)
    nxt = np.empty(width, dtype=np.int64)
    for i in range(len(cs)):
        c = cs[i]
        lo_row = first_row[i]
        pats = rows[lo_row : lo_row + n_rows[i]]
        cur_k = choice[c]
        m = 0
        if cur_k >= 0:
            for j in range(width):
                r = pats[cur_k, j]
                if r < 0:
                    continue
                lo, hi = route_edges(offsets, n_edges, r)
                for e in range(lo, hi):
                    if et[e] == c:  # the edge into c; the next one leaves it
                        cur[m] = r
                        prev[m] = ef[e]
                        nxt[m] = et[e + 1]
                        m += 1
                        break
        k, delta, _ = evaluate_customer(
            c, dist, dist_to, tmat, time_to, base_km, base_min, service, ef, et, offsets, n_edges, km, minutes,
            stops, max_min, min_min, min_stops, target_min, cost_r, cur[:m], prev[:m], nxt[:m], pats,
            row_cost[lo_row : lo_row + n_rows[i]], cur_k, mk_targets, mk_runs, prices,
        )  # fmt: skip
        ks[i] = k
        deltas[i] = delta
    return ks, deltas


@njit(cache=True)
def _path_sums(dist, path, fwd, bwd):
    """Prefix sums of the path's edges driven forward and backward (they differ on one-way streets)."""
    fwd[0] = 0.0
    bwd[0] = 0.0
    for t in range(len(path) - 1):
        fwd[t + 1] = fwd[t] + dist[path[t], path[t + 1]]
        bwd[t + 1] = bwd[t] + dist[path[t + 1], path[t]]


@njit(cache=True)
def improve_path(dist, path):
    """2-opt and Or-opt (segments of 1-3, either direction) on an open path with fixed ends.

    First-improvement sweeps until no move gains; returns the improved path. The matrix may
    be asymmetric: a reversed stretch is priced with its edges driven the other way (the
    prefix sums ``fwd``/``bwd``; on a symmetric matrix the two are equal and cancel).
    """
    n = len(path)
    path = path.copy()
    eps = 1e-9
    fwd = np.empty(n)
    bwd = np.empty(n)
    _path_sums(dist, path, fwd, bwd)
    improved = True
    while improved:
        improved = False
        # 2-opt: reverse path[i..j]
        for i in range(1, n - 2):
            a = path[i - 1]
            b = path[i]
            for j in range(i + 1, n - 1):
                c = path[j]
                d = path[j + 1]
                inner = (fwd[j] - fwd[i]) - (bwd[j] - bwd[i])
                gain = dist[a, b] + dist[c, d] - dist[a, c] - dist[b, d] + inner
                if gain > eps:
                    path[i : j + 1] = path[i : j + 1][::-1].copy()
                    _path_sums(dist, path, fwd, bwd)
                    improved = True
                    b = path[i]
        # Or-opt: move path[i..i+seg-1] between path[q], path[q+1]
        for seg in range(1, 4):
            i = 1
            while i + seg <= n - 1:
                first = path[i]
                last = path[i + seg - 1]
                before = path[i - 1]
                after = path[i + seg]
                removal = dist[before, first] + dist[last, after] - dist[before, after]
                turned = (fwd[i + seg - 1] - fwd[i]) - (bwd[i + seg - 1] - bwd[i])
                best_gain = eps
                best_q = -1
                best_rev = False
                for q in range(0, n - 1):
                    if i - 1 <= q <= i + seg - 1:
                        continue
                    u = path[q]
                    v = path[q + 1]
                    fwd_gain = removal - (dist[u, first] + dist[last, v] - dist[u, v])
                    if fwd_gain > best_gain:
                        best_gain = fwd_gain
                        best_q = q
                        best_rev = False
                    rev_gain = removal - (dist[u, last] + dist[first, v] - dist[u, v]) + turned
                    if rev_gain > best_gain:
                        best_gain = rev_gain
                        best_q = q
                        best_rev = True
                if best_q >= 0:
                    segment = path[i : i + seg].copy()
                    if best_rev:
                        segment = segment[::-1].copy()
                    rest = np.concatenate((path[:i], path[i + seg :]))
                    at = best_q + 1 if best_q < i else best_q + 1 - seg
                    path = np.concatenate((rest[:at], segment, rest[at:]))
                    _path_sums(dist, path, fwd, bwd)
                    improved = True
                else:
                    i += 1
    return path


@njit(cache=True)
def makeup_cost(pairs, dist, dist_to, ef, et, offsets, n_edges, base_km, mk_targets, mk_runs):
    """Km of make-up visits: for each (customer, lost route) pair, the cheapest insertion
    into a route of that week, times the runs lost."""
    total = 0.0
    for i in range(pairs.shape[0]):
        c = pairs[i, 0]
        r = pairs[i, 1]
        cheapest = 1e300
        for j in range(mk_targets.shape[1]):
            t = mk_targets[r, j]
            if t < 0:
                continue
            lo, hi = route_edges(offsets, n_edges, t)
            for e in range(lo, hi):
                delta = dist_to[c, ef[e]] + dist[c, et[e]] - base_km[e]
                if delta < cheapest:
                    cheapest = delta
        if cheapest < 1e300 and cheapest > 0.0:
            total += mk_runs[r] * cheapest
    return total


def warm_up() -> None:
    """Compile (or load from the cache) every kernel, so that no time limit pays for it."""
    dist = np.zeros((3, 3))
    edges = np.array([0], dtype=np.int64)
    route = np.zeros(1)
    evaluate_customer(
        1, dist, dist, dist, dist, route, route, np.zeros(3), edges, np.array([2], dtype=np.int64), edges, 1,
        route, route, route, route, route, route, route, route, np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((1, 1), dtype=np.int64), np.zeros(1), -1,
        np.full((1, 1), -1, dtype=np.int64), route, np.zeros(4),
    )  # fmt: skip
    one = np.ones(1, dtype=np.int64)
    evaluate_customers(
        one, np.zeros(3, dtype=np.int64), np.zeros((1, 1), dtype=np.int64), edges, one, np.zeros(1), dist, dist,
        dist, dist, route, route, np.zeros(3), edges, np.array([2], dtype=np.int64), edges, 1, route, route, route,
        route, route, route, route, route, np.full((1, 1), -1, dtype=np.int64), route, np.zeros(4),
    )  # fmt: skip
    makeup_cost(np.zeros((0, 2), dtype=np.int64), dist, dist, edges, edges, edges, 1, route,
                np.full((1, 1), -1, dtype=np.int64), route)  # fmt: skip
    improve_path(dist, np.array([0, 1, 2], dtype=np.int64))
