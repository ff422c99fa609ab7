"""A plan's km and minutes, computed in one place.

Every figure a user sees (summary.json, the CLI table, the workbook, the maps and sheets,
``compare`` and the what-if report) comes from here, so they agree: a day's km are the
legs into its visits plus, for a manager who returns to the office, the drive back,
measured with the scenario's travel model.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from .model import Scenario
from .plan import Plan
from .travel import TravelModel, travel_for


def return_legs(scenario: Scenario, plan: Plan, travel: TravelModel | None = None) -> dict[tuple[str, date], float]:
    """Km of the drive back to the office, per (manager, day), for managers who return."""
    travel = travel or travel_for(scenario)
    managers = {m.id: m for m in scenario.managers}
    shops = {r.id: r for r in (*scenario.retailers, *scenario.suspended)}
    out: dict[tuple[str, date], float] = {}
    for (mid, day), seq in plan.days().items():
        m = managers.get(mid)
        last = shops.get(seq[-1].retailer_id)
        if m is not None and m.return_to_office and last is not None:
            out[(mid, day)] = travel.leg(last.location, m.office)[0]
    return out


def day_km(scenario: Scenario, plan: Plan, travel: TravelModel | None = None) -> dict[tuple[str, date], float]:
    """Km of each (manager, day) with visits, the drive back included where the rules require it."""
    back = return_legs(scenario, plan, travel)
    return {key: sum(v.travel_km for v in seq) + back.get(key, 0.0) for key, seq in plan.days().items()}


def plan_kpis(scenario: Scenario, plan: Plan, travel: TravelModel | None = None) -> dict[str, Any]:
    """Per-manager and total figures (km, visits, stops and field minutes a day) of the plan."""
    return plan.kpis(scenario.rules.leave_minutes, return_legs(scenario, plan, travel))


def office_kpis(scenario: Scenario, plan: Plan, kpis: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per market office: its managers, the shops they visit, visits and km (from the managers' figures)."""
    of = scenario.office_of_manager()
    shops: dict[str, set[str]] = {}
    for v in plan.visits:
        shops.setdefault(of.get(v.manager_id, ""), set()).add(v.retailer_id)
    out: dict[str, dict[str, Any]] = {}
    for office, team in scenario.offices().items():
        mine = [kpis["managers"][m.id] for m in team if m.id in kpis["managers"]]
        out[office] = {
            "managers": len(team),
            "shops": len(shops.get(office, ())),
            "visits": sum(k["visits"] for k in mine),
            "km": round(sum(k["km"] for k in mine), 1),
        }
    return out


def total_km(scenario: Scenario, plan: Plan, travel: TravelModel | None = None) -> float:
    """The plan's km for the month, drives back to the office included."""
    return float(plan_kpis(scenario, plan, travel)["total"]["km"])


def replayed_km(scenario: Scenario, plan: Plan, travel: TravelModel) -> float:
    """The plan's km driven again with another travel model (a plan made on straight lines,
    measured on the roads): every leg of every day recomputed, drives back included."""
    managers = {m.id: m for m in scenario.managers}
    where = {r.id: r.location for r in (*scenario.retailers, *scenario.suspended)}
    total = 0.0
    for (mid, _day), seq in plan.days().items():
        m = managers[mid]
        stops = [m.office, *(where[v.retailer_id] for v in seq)]
        if m.return_to_office:
            stops.append(m.office)
        total += sum(travel.leg(a, b)[0] for a, b in itertools.pairwise(stops))
    return total
