"""The route book: the standing routes that persist from month to month, and how two books differ.

A route book is a plan's routes (:class:`~routeplan.plan.Route`): each route's id,
manager, cycle slot and the ordered shops it holds, suspended ones included. A
month's visits are the book laid onto that month's calendar; the book is what a
customer manager learns by heart and what a shop expects, so continuing a plan
means keeping the book and changing only what the month's changes force.

The figures here compare any two books (``routeplan diff``, ``summary.json``'s
``stability`` block, the what-if comparison).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from .model import Scenario
from .plan import Change, Plan, Route


@dataclass(frozen=True)
class RouteBook:
    """A month's standing routes and how its cycle ran: what the next month continues from."""

    #: the routes, suspended shops in their places
    routes: tuple[Route, ...]
    #: the Monday of cycle week 1 that month's calendar used
    cycle_start: date
    #: the month planned, as (year, month)
    month: tuple[int, int]
    cycle_weeks: int
    workdays: tuple[int, ...]
    #: each shop's visits a month then (to tell frequency changes from moves)
    frequency: Mapping[str, int] = field(default_factory=dict)
    #: the month's km, as its summary gave them (``None`` if unknown)
    km: float | None = None

    @classmethod
    def of(cls, scenario: Scenario, plan: Plan, km: float | None = None) -> RouteBook:
        """The book of a plan of ``scenario`` (its calendar gives the cycle's anchor)."""
        cal = scenario.calendar
        assert cal.cycle_start is not None
        return cls(plan.routes, cal.cycle_start, (cal.year, cal.month), cal.cycle_weeks, cal.workdays,
                   scenario.frequencies(), km)  # fmt: skip


@dataclass(frozen=True)
class Membership:
    """Where one shop stands in a book: its manager, its routes and whether it is visited this month."""

    manager_id: str
    routes: frozenset[str]
    weekdays: frozenset[str]
    active: bool


def memberships(routes: Iterable[Route]) -> dict[str, Membership]:
    """Each shop of the book, with every route it rides (suspended shops included)."""
    mgr: dict[str, str] = {}
    on: dict[str, set[str]] = defaultdict(set)
    days: dict[str, set[str]] = defaultdict(set)
    active: dict[str, bool] = defaultdict(bool)
    for r in routes:
        visited = set(r.stops)
        for shop in r.order:
            mgr.setdefault(shop, r.manager_id)
            on[shop].add(r.id)
            days[shop].add(r.weekday)
            active[shop] |= shop in visited
    return {s: Membership(mgr[s], frozenset(on[s]), frozenset(days[s]), active[s]) for s in mgr}


def stop_pairs(routes: Iterable[Route], shops: set[str]) -> set[tuple[str, str, str]]:
    """Consecutive (route, shop, next shop) of each route's order, counting only ``shops``."""
    out: set[tuple[str, str, str]] = set()
    for r in routes:
        seq = [x for x in r.order if x in shops]
        out.update((r.id, a, b) for a, b in itertools.pairwise(seq))
    return out


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def stability(
    before: Sequence[Route],
    after: Sequence[Route],
    *,
    km_before: float | None = None,
    km_after: float | None = None,
    frequency_before: Mapping[str, int] | None = None,
    frequency_after: Mapping[str, int] | None = None,
) -> dict[str, object]:
    """How much of ``before`` survives in ``after``.

    *Continuing* shops are visited in both months; a *moved* one changed routes (not
    counting shops whose own frequency changed). Pairs are consecutive stops of a
    route counting continuing shops only (a closed shop between two others, or a new
    shop put between them, does not break their pair; a re-ordering does). *Changed*
    shops are the month's churn: new, closed, suspended, reopened, or a new frequency.
    """
    a, b = memberships(before), memberships(after)
    continuing = sorted(s for s in a.keys() & b.keys() if a[s].active and b[s].active)
    n = len(continuing)
    keep_manager = sum(a[s].manager_id == b[s].manager_id for s in continuing)
    keep_route = sum(a[s].routes == b[s].routes for s in continuing)
    keep_weekday = sum(a[s].weekdays == b[s].weekdays for s in continuing)
    common = set(continuing)
    pairs_before = stop_pairs(before, common)
    pairs_kept = len(pairs_before & stop_pairs(after, common))
    counts = churn(a, b, frequency_before, frequency_after)
    changed = sum(counts.values())
    # a shop whose own frequency changed takes or drops routes by necessity: not a move
    refreq = {
        s for s in continuing
        if frequency_before and frequency_after and frequency_before.get(s, 0) != frequency_after.get(s, 0)
    }  # fmt: skip
    moved = sum(a[s].routes != b[s].routes for s in continuing if s not in refreq)
    out: dict[str, object] = {
        "continuing_shops": n,
        "keep_manager": _share(keep_manager, n),
        "keep_route": _share(keep_route, n),
        "keep_weekday": _share(keep_weekday, n),
        "stop_pairs": len(pairs_before),
        "stop_pairs_kept": _share(pairs_kept, len(pairs_before)),
        "changed_shops": changed,
        **{f"changed_{kind}": count for kind, count in counts.items()},
        "moved_shops": moved,
        "moves_per_changed_shop": round(moved / changed, 3) if changed else (0.0 if not moved else None),
    }
    if km_before is not None and km_after is not None:
        out["km_before"] = round(km_before, 1)
        out["km"] = round(km_after, 1)
        out["km_change"] = round(km_after / km_before - 1, 4) if km_before else None
    return out


def churn(
    a: Mapping[str, Membership],
    b: Mapping[str, Membership],
    frequency_before: Mapping[str, int] | None = None,
    frequency_after: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """How many shops are new, closed, suspended, reopened or changed frequency between two books."""
    counts = {"new": 0, "closed": 0, "suspended": 0, "reopened": 0, "frequency": 0}
    for s in a.keys() | b.keys():
        kind = _status_change(a.get(s), b.get(s))
        if kind:
            counts[kind] += 1
        elif frequency_before and frequency_after and s in frequency_before and s in frequency_after:
            counts["frequency"] += frequency_before[s] != frequency_after[s]
    return counts


def _status_change(x: Membership | None, y: Membership | None) -> str:
    if x is None:
        return "new" if y is not None and y.active else ("suspended" if y is not None else "")
    if y is None:
        return "closed"
    if x.active and not y.active:
        return "suspended"
    if not x.active and y.active:
        return "reopened"
    return ""


def changes(
    before: Sequence[Route],
    after: Sequence[Route],
    why: Mapping[str, str] | None = None,
    frequency_before: Mapping[str, int] | None = None,
    frequency_after: Mapping[str, int] | None = None,
) -> list[Change]:
    """One row per shop and kind of change, with the reason where the planner gave one."""
    why = why or {}
    a, b = memberships(before), memberships(after)
    out: list[Change] = []

    def routes_text(m: Membership | None) -> str:
        return " ".join(sorted(m.routes)) if m else ""

    for s in sorted(a.keys() | b.keys()):
        x, y = a.get(s), b.get(s)
        kind = _status_change(x, y)
        if kind:
            default = {"new": "new in retailers.csv", "closed": "not in retailers.csv, or status closed",
                       "suspended": "status suspended: keeps its place in the route book",
                       "reopened": "back from suspension, in its old place"}[kind]  # fmt: skip
            out.append(Change(s, kind, routes_text(x), routes_text(y), why.get(s, default)))
            continue
        assert x is not None and y is not None
        reason = why.get(s, "")
        if frequency_before and frequency_after and frequency_before.get(s) != frequency_after.get(s):
            reason = reason or f"visits a month {frequency_before.get(s)} -> {frequency_after.get(s)}"
        if x.manager_id != y.manager_id:
            out.append(Change(s, "manager", x.manager_id, y.manager_id, reason))
        if x.routes != y.routes:
            out.append(Change(s, "route", routes_text(x), routes_text(y), reason))
        if x.weekdays != y.weekdays:
            out.append(Change(s, "weekday", " ".join(sorted(x.weekdays)), " ".join(sorted(y.weekdays)), reason))
    out.extend(_order_changes(before, after, a, b, why))
    return out


def _order_changes(
    before: Sequence[Route],
    after: Sequence[Route],
    a: Mapping[str, Membership],
    b: Mapping[str, Membership],
    why: Mapping[str, str],
) -> list[Change]:
    """Shops that stay on a route but follow another shop than before (continuing shops only)."""
    common = {s for s in a.keys() & b.keys() if a[s].routes == b[s].routes}
    prev_of: dict[tuple[str, str], str] = {}
    for r in before:
        seq = [x for x in r.order if x in common]
        prev_of.update({(r.id, y): x for x, y in zip(["start", *seq], seq, strict=False)})
    out = []
    for r in after:
        seq = [x for x in r.order if x in common]
        for x, y in zip(["start", *seq], seq, strict=False):
            old = prev_of.get((r.id, y))
            if old is not None and old != x:
                out.append(Change(y, "order", f"{r.id} after {old}", f"{r.id} after {x}", why.get(r.id, "")))
    return out
