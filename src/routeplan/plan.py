"""A monthly plan: the visits, the phone calls, the fixed routes, and what they add up to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np


def clock(minutes: float) -> str:
    """Minutes after midnight as ``HH:MM``."""
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


@dataclass(frozen=True)
class Visit:
    """One in-person visit: who, when, where in the day's order, on which route."""

    manager_id: str
    date: date
    seq: int
    retailer_id: str
    arrival: int
    departure: int
    route_id: str
    travel_km: float = 0.0
    makeup: bool = False


@dataclass(frozen=True)
class Call:
    """A phone visit for a shop not seen in person that week."""

    manager_id: str
    date: date
    retailer_id: str
    route_id: str


@dataclass(frozen=True)
class Route:
    """A fixed route: the same shops in the same order on one slot of every cycle.

    ``stops`` are the shops visited this month, in order; ``standing`` is the route's
    order in the route book, which also holds its suspended shops in their places
    (empty when it has none).
    """

    id: str
    manager_id: str
    slot: int
    label: str
    stops: tuple[str, ...]
    standing: tuple[str, ...] = ()

    @property
    def order(self) -> tuple[str, ...]:
        """Every shop of the route in the route book's order, suspended ones included."""
        return self.standing or self.stops

    @property
    def weekday(self) -> str:
        """The weekday of the route's slot label (``"W2-Tue"`` -> ``"Tue"``)."""
        return self.label.rsplit("-", 1)[-1]


@dataclass(frozen=True)
class Change:
    """One thing that changed for one shop against the previous route book."""

    retailer_id: str
    #: new, closed, suspended, reopened, manager, route, weekday or order
    kind: str
    before: str
    after: str
    why: str = ""


@dataclass(frozen=True)
class Plan:
    """The result of planning a month; check it with :func:`routeplan.check.check_plan`."""

    scenario_name: str
    visits: tuple[Visit, ...]
    calls: tuple[Call, ...]
    routes: tuple[Route, ...] = ()
    solve_seconds: float = 0.0
    seed: int = 0
    notes: tuple[str, ...] = field(default=())
    #: for a plan continued from a previous month's route book: what changed for whom, and why
    changes: tuple[Change, ...] = ()

    def days(self) -> dict[tuple[str, date], list[Visit]]:
        """Visits grouped by (manager, date), each in visiting order."""
        out: dict[tuple[str, date], list[Visit]] = defaultdict(list)
        for v in self.visits:
            out[(v.manager_id, v.date)].append(v)
        for seq in out.values():
            seq.sort(key=lambda v: v.seq)
        return dict(out)

    def manager_of(self) -> dict[str, str]:
        """Each visited shop's manager: the territory split the plan uses."""
        return {v.retailer_id: v.manager_id for v in self.visits}

    def kpis(self, leave_minutes: int, return_km: dict[tuple[str, date], float] | None = None) -> dict[str, Any]:
        """Per-manager and total figures: km, visits, stops a day, field minutes a day."""
        per: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"km": [], "stops": [], "field": []})
        for (mid, day), seq in sorted(self.days().items()):
            extra = (return_km or {}).get((mid, day), 0.0)
            per[mid]["km"].append(sum(v.travel_km for v in seq) + extra)
            per[mid]["stops"].append(len(seq))
            per[mid]["field"].append(seq[-1].departure - leave_minutes)

        def stats(values: list[float]) -> dict[str, float]:
            arr = np.asarray(values, dtype=float)
            if not len(arr):
                return {"min": 0.0, "mean": 0.0, "max": 0.0}
            return {
                "min": round(float(arr.min()), 1),
                "mean": round(float(arr.mean()), 1),
                "max": round(float(arr.max()), 1),
            }

        managers: dict[str, dict[str, Any]] = {}
        for mid, d in sorted(per.items()):
            managers[mid] = {
                "km": round(sum(d["km"]), 1),
                "visits": int(sum(d["stops"])),
                "days": len(d["stops"]),
                "stops_per_day": stats(d["stops"]),
                "field_minutes_per_day": stats(d["field"]),
                "field_minutes_month": round(sum(d["field"]), 1),
            }
        all_stops = [s for d in per.values() for s in d["stops"]]
        all_field = [s for d in per.values() for s in d["field"]]
        total_km = sum(float(m["km"]) for m in managers.values())
        visits = len(self.visits)
        month_field = [float(m["field_minutes_month"]) for m in managers.values()] or [0.0]
        total = {
            "km": round(total_km, 1),
            "visits": visits,
            "calls": len(self.calls),
            "km_per_visit": round(total_km / visits, 3) if visits else 0.0,
            "stops_per_day": stats(all_stops),
            "field_minutes_per_day": stats(all_field),
            "workload_balance": round(max(month_field) / min(month_field), 3) if min(month_field) > 0 else None,
            "solve_seconds": round(self.solve_seconds, 1),
        }
        return {"total": total, "managers": managers}
