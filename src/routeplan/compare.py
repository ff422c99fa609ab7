"""Plans side by side: the figures a planner weighs when choosing between variants."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .check import RULES, Violation
from .figures import plan_kpis
from .geo import neighbour_share
from .model import Scenario
from .plan import Plan, Route
from .routebook import stability

Stats = tuple[float, float, float]  # min, mean, max


@dataclass(frozen=True)
class PlanFigures:
    """One column of a comparison."""

    name: str
    managers: int
    feasible: bool
    broken_rules: Mapping[str, int]
    km: float
    visits: int
    km_per_visit: float
    stops_per_day: Stats
    field_minutes_per_day: Stats
    field_minutes_by_manager: Mapping[str, Stats]
    balance: float | None
    solve_seconds: float
    manager_of: Mapping[str, str] = field(repr=False, default_factory=dict)
    moved: int | None = None
    #: same-manager share among each shop's 8 nearest shops (1.0: territories never interleave)
    compactness: float | None = None
    routes: tuple[Route, ...] = field(repr=False, default=())
    #: route-book figures against the first plan (see :func:`routeplan.routebook.stability`)
    stability: Mapping[str, object] = field(default_factory=dict)


def _stats(d: Mapping[str, float]) -> Stats:
    return (float(d["min"]), float(d["mean"]), float(d["max"]))


def compactness(scenario: Scenario, plan: Plan) -> float | None:
    """Share of each shop's 8 nearest shops served by its own manager (1.0: no interleaving)."""
    owner = plan.manager_of()
    shops = [r for r in scenario.retailers if r.id in owner]
    if len(shops) < 2:
        return None
    lats = np.array([r.location.lat for r in shops])
    lons = np.array([r.location.lon for r in shops])
    index = {m: i for i, m in enumerate(sorted(set(owner.values())))}
    labels = np.array([index[owner[r.id]] for r in shops])
    share = neighbour_share(lats, lons, labels)
    return round(share, 4) if share is not None else None


def plan_figures(name: str, scenario: Scenario, plan: Plan, violations: Sequence[Violation]) -> PlanFigures:
    """The figures of one plan (violations as found by :func:`routeplan.check.check_plan`)."""
    k = plan_kpis(scenario, plan)
    total = k["total"]
    broken = Counter(f"{v.rule} {RULES[v.rule]}" for v in violations)
    return PlanFigures(
        name=name,
        managers=len(scenario.managers),
        feasible=not violations,
        broken_rules=dict(sorted(broken.items())),
        km=float(total["km"]),
        visits=int(total["visits"]),
        km_per_visit=float(total["km_per_visit"]),
        stops_per_day=_stats(total["stops_per_day"]),
        field_minutes_per_day=_stats(total["field_minutes_per_day"]),
        field_minutes_by_manager={mid: _stats(m["field_minutes_per_day"]) for mid, m in k["managers"].items()},
        balance=total["workload_balance"],
        solve_seconds=plan.solve_seconds,
        manager_of=plan.manager_of(),
        compactness=compactness(scenario, plan),
        routes=plan.routes,
    )


def with_moves(figures: Sequence[PlanFigures], baseline: Mapping[str, str] | None = None) -> list[PlanFigures]:
    """Each plan with its count of shops whose manager differs from ``baseline`` (default: the first plan)."""
    if not figures:
        return []
    base = baseline if baseline is not None else figures[0].manager_of
    first = figures[0].routes
    return [
        replace(
            f,
            moved=sum(1 for shop, mid in f.manager_of.items() if shop in base and base[shop] != mid),
            stability=stability(first, f.routes) if first and f.routes else {},
        )
        for f in figures
    ]


def percent(x: object) -> str:
    """A share as ``97.3%``; ``-`` where there is none."""
    return f"{x:.1%}" if isinstance(x, float) else "-"


def _fmt(s: Stats, digits: int = 0) -> str:
    return " / ".join(f"{x:.{digits}f}" for x in s)


def comparison_rows(figures: Sequence[PlanFigures]) -> list[tuple[str, list[str]]]:
    """The comparison as (figure, one text per plan) rows, for a table, a CSV or a report."""
    rows: list[tuple[str, list[str]]] = [
        ("managers", [str(f.managers) for f in figures]),
        ("feasible", ["yes" if f.feasible else "no" for f in figures]),
        (
            "rules broken",
            ["; ".join(f"{rule} ({n})" for rule, n in f.broken_rules.items()) or "-" for f in figures],
        ),
        ("total km", [f"{f.km:.1f}" for f in figures]),
        ("visits", [str(f.visits) for f in figures]),
        ("km per visit", [f"{f.km_per_visit:.3f}" for f in figures]),
        ("stops/day min / mean / max", [_fmt(f.stops_per_day, 1) for f in figures]),
        ("field min/day min / mean / max", [_fmt(f.field_minutes_per_day) for f in figures]),
        ("workload balance (max/min month)", [f"{f.balance:.3f}" if f.balance else "-" for f in figures]),
        ("shops that change manager", [str(f.moved) if f.moved is not None else "-" for f in figures]),
        ("compactness (own manager among 8 nearest)", [percent(f.compactness) for f in figures]),
        ("shops keeping their route (vs first)", [percent(f.stability.get("keep_route")) for f in figures]),
        ("shops keeping their weekday (vs first)", [percent(f.stability.get("keep_weekday")) for f in figures]),
        ("stop pairs kept (vs first)", [percent(f.stability.get("stop_pairs_kept")) for f in figures]),
        ("solve seconds", [f"{f.solve_seconds:.0f}" for f in figures]),
    ]
    managers = sorted({m for f in figures for m in f.field_minutes_by_manager})
    for mid in managers:
        rows.append(
            (
                f"{mid} field min/day min / mean / max",
                [_fmt(f.field_minutes_by_manager[mid]) if mid in f.field_minutes_by_manager else "-" for f in figures],
            )
        )
    return rows
