"""Handover chains: a route's hole filled, or its overflow taken, by its neighbours in turn.

A standing route that closures left short of its stops, or that a new shop pushed past
its day, is next to routes that are just as full: one move can then only bring a far
shop from (or send one far to) a route with room to spare, a detour on every run from
then on. A chain hands a few border shops one route along each instead, ending at a
route that can spare a shop (or take one). The cheapest chain is found by Dijkstra over
the routes, a handover to another manager priced higher (a manager short of shops as a
whole takes some from his neighbour's border); a handover is a shop among the nearest
shops of the route it goes to, on the pattern that swaps the one route for the other.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .params import Continuing
from .search import PeriodicSearch

#: A shop's cheapest place on a route: the position, and the places before and after it.
Gap = tuple[int, int, int]


@dataclass(frozen=True)
class Handover:
    """Shop ``shop`` leaves route ``giver`` for route ``taker``, riding pattern ``pattern``."""

    shop: int
    giver: int
    taker: int
    pattern: int
    km: float  # the change in km of one run, pattern costs included
    giver_loses: float  # minutes
    taker_gains: float  # minutes


def balance(
    search: PeriodicSearch,
    near: np.ndarray,
    per_manager: int,
    base: list[np.ndarray],
    allowed: Callable[[Sequence[int]], bool],
    prices: Continuing,
    deadline: float = math.inf,
) -> dict[int, int]:
    """Repair every route short of its stops or field time, or past its day, by handover
    chains (``per_manager`` routes to a manager, in order). ``base``: pattern costs without
    move prices; ``allowed(shops)``: whether these shops may all move (pins, a cap on moves);
    ``prices``: a chain's length and price (``chain_*``, ``other_manager_km``,
    ``chains_per_route``); no route is repaired after ``deadline`` (a team far short of
    managers has a broken route everywhere, each costly to search). Returns the shops moved,
    each with the route whose repair moved it."""
    moved: dict[int, int] = {}
    for r in range(len(search.routes)):
        if time.monotonic() > deadline:
            break
        for _ in range(prices.chains_per_route):
            fill = search.is_short(r)
            if not fill and not search.is_over(r):
                break
            chain = cheapest_chain(search, near, per_manager, base, r, allowed, prices, fill=fill)
            if chain is None or not allowed([h.shop for h in chain]):
                break
            for h in reversed(chain):  # the far end first
                hand(search, h)
                moved[h.shop] = r
    return moved


def handover(
    search: PeriodicSearch, c: int, giver: int, taker: int, base: list[np.ndarray], gap: Gap | None = None
) -> Handover | None:
    """Shop c handed from route ``giver`` to its cheapest place on route ``taker``, or ``None``
    where none of its patterns swaps the one route for the other. A giver of -1 gives the shop
    one visit more (on ``taker``), a taker of -1 drops its visit on ``giver``: the visits a
    shop has beyond its class's minimum come and go this way. ``gap``: c's cheapest gap on
    ``taker`` where the caller has it (:func:`_cheapest_gaps`)."""
    held = search.routes_of(c)
    if (giver >= 0 and giver not in held) or (taker >= 0 and taker in held):
        return None
    rows = [r for r in held if r != giver] + ([taker] if taker >= 0 else [])
    k = search.pattern_of(c, tuple(sorted(rows)))
    if k is None or not rows:
        return None
    p = search.p
    km = float(base[c][k] - base[c][search.choice[c]])
    loses = gains = 0.0
    if giver >= 0:
        seq = search.routes[giver]
        i = seq.index(c)
        a = seq[i - 1] if i > 0 else int(search.start[giver])
        b = seq[i + 1] if i + 1 < len(seq) else int(search.end[giver])
        km -= p.dist[a, c] + p.dist[c, b] - p.dist[a, b]
        loses = p.time[a, c] + p.time[c, b] - p.time[a, b] + p.service[c]
    if taker >= 0:
        _, x, y = gap or _cheapest_gaps(search, taker, [c])[0]
        km += p.dist[x, c] + p.dist[c, y] - p.dist[x, y]
        gains = p.time[x, c] + p.time[c, y] - p.time[x, y] + p.service[c]
    return Handover(c, giver, taker, k, float(km), giver_loses=float(loses), taker_gains=float(gains))


def cheapest_chain(
    search: PeriodicSearch,
    near: np.ndarray,
    per_manager: int,
    base: list[np.ndarray],
    route: int,
    allowed: Callable[[Sequence[int]], bool],
    prices: Continuing,
    *,
    fill: bool,
) -> list[Handover] | None:
    """The cheapest chain repairing ``route``: with ``fill``, handovers into it (the first
    one into ``route``, each next one into the route the one before emptied), ending at a
    route that can spare a shop; without, handovers out of it, ending at a route with room.
    ``None`` where no chain of at most ``prices.chain_links`` handovers does it."""
    best: dict[int, float] = {route: 0.0}
    back: dict[int, Handover] = {}  # the route a chain reaches -> the handover that reached it
    ends: set[int] = set()
    heap: list[tuple[float, int, int]] = [(0.0, route, 0)]

    def chain_to(r: int) -> list[Handover]:
        out = []
        while r != route:
            h = back[r]
            out.append(h)
            r = h.taker if fill else h.giver
        return out[::-1]

    while heap:
        cost, at, links = heapq.heappop(heap)
        if cost > best[at] + 1e-12:
            continue
        if at in ends:
            return chain_to(at)
        if links >= prices.chain_links:
            continue
        chain = chain_to(at)
        on_chain = {route, *(h.giver if fill else h.taker for h in chain)}
        moved = {h.shop for h in chain}
        for nxt, h in _offers(search, near, base, at, on_chain, moved, allowed, fill=fill).items():
            total = cost + h.km + prices.chain_link_km
            if min(h.giver, h.taker) >= 0 and h.giver // per_manager != h.taker // per_manager:
                total += prices.other_manager_km
            if total < best.get(nxt, np.inf) - 1e-12:
                best[nxt] = total
                back[nxt] = h
                # the chain ends where the next route can spare a shop (or take one) as it is
                if _ends(search, h, fill=fill):
                    ends.add(nxt)
                else:
                    ends.discard(nxt)
                heapq.heappush(heap, (total, nxt, links + 1))
    return None


def _offers(
    search: PeriodicSearch,
    near: np.ndarray,
    base: list[np.ndarray],
    at: int,
    on_chain: set[int],
    moved: set[int],
    allowed: Callable[[Sequence[int]], bool],
    *,
    fill: bool,
) -> dict[int, Handover]:
    """The cheapest handover per route next to route ``at``: into ``at`` (``fill``), or out of it.

    Each shop's cheapest gap on each route it may go to is found for all the shops going
    there at once (one array operation per route, not one per handover)."""
    offers: dict[int, Handover] = {}
    gaps: dict[tuple[int, int], Gap] = {}
    if fill:
        shops = [x for x in sorted(set(near[search.routes[at]].ravel().tolist()) - moved) if allowed([x])]
        gaps.update(((x, at), g) for x, g in zip(shops, _cheapest_gaps(search, at, shops), strict=True))
        pairs = [(x, g, at) for x in shops for g in (*search.routes_of(x), -1)]
    else:
        shops = [x for x in sorted(set(search.routes[at]) - moved) if allowed([x])]
        rides = {y: search.routes_of(y) for y in set(near[shops].ravel().tolist())}
        takers = {x: sorted({r for y in near[x].tolist() for r in rides[y]} - on_chain) for x in shops}
        for t in sorted(set().union(*takers.values())):
            going = [x for x in shops if t in takers[x]]
            gaps.update(((x, t), g) for x, g in zip(going, _cheapest_gaps(search, t, going), strict=True))
        pairs = [(x, at, t) for x in shops for t in (*takers[x], -1)]
    for x, giver, taker in pairs:
        other = giver if fill else taker
        if other in on_chain:
            continue
        h = handover(search, x, giver, taker, base, gaps.get((x, taker)))
        if h is None or (other in offers and h.km >= offers[other].km):
            continue
        if fill and search.is_over(taker, h.taker_gains):
            continue  # the route filled must still fit its day
        if not fill and at == giver and not search.can_spare(giver):
            continue  # the route relieved must keep its stops
        offers[other] = h
    return offers


def _ends(search: PeriodicSearch, h: Handover, *, fill: bool) -> bool:
    """Whether the chain can stop after handover h: its giver can spare the shop (``fill``),
    or its taker has room for it."""
    if fill:
        g = h.giver
        if g < 0:
            return True  # one visit more: no route gives anything
        return search.can_spare(g, h.giver_loses)
    t = h.taker
    if t < 0:
        return True  # a visit dropped: no route takes anything
    return not search.is_over(t, h.taker_gains)


def hand(search: PeriodicSearch, h: Handover) -> None:
    """Carry out handover h: the shop to its cheapest place on the taker (re-evaluated now)."""
    first = np.zeros(len(search.routes), dtype=np.int64)
    if h.taker >= 0:
        first[h.taker] = _cheapest_gaps(search, h.taker, [h.shop])[0][0]
    search.apply(h.shop, h.pattern, first)


def _cheapest_gaps(search: PeriodicSearch, r: int, shops: Sequence[int]) -> list[Gap]:
    """Where each shop costs least on route r: the position, and the places before and after it."""
    path = np.asarray([search.start[r], *search.routes[r], search.end[r]], dtype=np.int64)
    a, b = path[:-1], path[1:]
    xs = np.asarray(shops, dtype=np.int64)
    dist = search.p.dist
    j = np.argmin(dist[np.ix_(a, xs)] + dist[np.ix_(xs, b)].T - dist[a, b][:, None], axis=0)
    return list(zip(j.tolist(), a[j].tolist(), b[j].tolist(), strict=True))
