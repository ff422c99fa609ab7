"""What maps and route sheets show: a plan regrouped by manager, route and day.

Positions are in the datum of the background map (``wgs84`` for OpenStreetMap,
``gcj02`` for AMap), so markers sit on the right street of whichever tiles are used.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from ..coords import from_wgs84
from ..figures import day_km
from ..geo import LatLon, convex_hull, local_xy_km
from ..model import Manager, Retailer, Scenario
from ..plan import Plan, Visit, clock
from ..travel import travel_for

#: Colours readable on a light map and distinct from each other (Tableau 10, then darker shades).
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#393b79", "#843c39", "#637939", "#7b4173", "#8c6d31", "#3182bd",
)  # fmt: skip


@dataclass(frozen=True)
class Shop:
    """A shop as drawn and printed: its user data and its display position."""

    id: str
    name: str
    address: str
    phone: str
    klass: str
    at: LatLon


@dataclass(frozen=True)
class Stop:
    """One visit of a day, in visiting order."""

    seq: int
    shop: Shop
    arrival: str
    departure: str
    route_id: str
    makeup: bool
    travel_km: float


@dataclass(frozen=True)
class RouteView:
    """A fixed route: its stops in order, the dates it runs and a typical run's figures."""

    id: str
    label: str
    color: str
    stops: tuple[Shop, ...]
    dates: tuple[date, ...]
    km: float
    leave: str
    finish: str
    #: the line to draw along the streets (road model), office to office; empty: straight lines
    track: tuple[LatLon, ...] = ()


@dataclass(frozen=True)
class DayView:
    """A manager's working day: the route sheet's content."""

    date: date
    route_ids: tuple[str, ...]
    stops: tuple[Stop, ...]
    calls: tuple[tuple[Shop, str], ...]
    km: float
    leave: str
    finish: str
    field_minutes: int
    #: the day's drive along the streets (road model); empty: straight lines between the stops
    track: tuple[LatLon, ...] = ()


@dataclass(frozen=True)
class ManagerView:
    id: str
    name: str
    color: str
    office: LatLon
    outline: tuple[LatLon, ...]
    routes: tuple[RouteView, ...]
    days: tuple[DayView, ...]
    visit_dates: dict[str, tuple[date, ...]]


@dataclass(frozen=True)
class PlanView:
    scenario_name: str
    month: str
    datum: str
    managers: tuple[ManagerView, ...]


def positions(managers: Sequence[ManagerView]) -> list[LatLon]:
    """Every office and stop the managers' maps show."""
    return [m.office for m in managers] + [s.at for m in managers for r in m.routes for s in r.stops]


def _shop(r: Retailer, datum: str) -> Shop:
    return Shop(r.id, r.name, r.address, r.phone, r.klass, from_wgs84(r.location, datum))


def _outline(points: list[LatLon]) -> tuple[LatLon, ...]:
    if len(points) < 3:
        return tuple(points)
    xy = local_xy_km(np.array([p.lat for p in points]), np.array([p.lon for p in points]))
    return tuple(points[i] for i in convex_hull(xy))


def route_label(route_id: str, manager_id: str) -> str:
    """A route's name without its manager's prefix (``M01-W1-Tue`` -> ``W1-Tue``)."""
    return route_id.removeprefix(manager_id + "-")


def _routes(
    m: Manager, visits: list[Visit], shops: dict[str, Shop], leave_minutes: int, back_km: Callable[[str], float]
) -> tuple[RouteView, ...]:
    """Rebuild each fixed route from its visits: order from its regular runs, make-up stops last.

    ``back_km(shop)``: the drive from that shop back to the office (0 for a manager who does not return).
    """
    by_route: dict[str, list[Visit]] = defaultdict(list)
    for v in visits:
        by_route[v.route_id].append(v)
    out = []

    def first_run(item: tuple[str, list[Visit]]) -> tuple[date, str]:
        regular = [v.date for v in item[1] if not v.makeup] or [v.date for v in item[1]]
        return min(regular), item[0]

    for i, (rid, vs) in enumerate(sorted(by_route.items(), key=first_run)):
        regular = sorted((v for v in vs if not v.makeup), key=lambda v: (v.date, v.seq))
        makeups = sorted((v for v in vs if v.makeup), key=lambda v: (v.date, v.seq))
        order = dict.fromkeys(v.retailer_id for v in regular + makeups)
        runs: dict[date, list[Visit]] = defaultdict(list)
        for v in regular:
            runs[v.date].append(v)
        typical = max(runs.values(), key=len) if runs else sorted(vs, key=lambda v: (v.date, v.seq))
        typical = sorted(typical, key=lambda v: v.seq)
        out.append(
            RouteView(
                id=rid,
                label=route_label(rid, m.id),
                color=PALETTE[i % len(PALETTE)],
                stops=tuple(shops[s] for s in order),
                dates=tuple(sorted(runs)),
                km=round(sum(v.travel_km for v in typical) + back_km(typical[-1].retailer_id), 1),
                leave=clock(leave_minutes),
                finish=clock(typical[-1].departure),
            )
        )
    return tuple(out)


def plan_view(scenario: Scenario, plan: Plan, datum: str = "wgs84") -> PlanView:
    """Regroup ``plan`` for drawing, with positions in ``datum``."""
    shops = {r.id: _shop(r, datum) for r in scenario.retailers}
    leave = scenario.rules.leave_minutes
    visits_of: dict[str, list[Visit]] = defaultdict(list)
    for v in plan.visits:
        visits_of[v.manager_id].append(v)
    calls_of: dict[tuple[str, date], list[tuple[Shop, str]]] = defaultdict(list)
    for c in sorted(plan.calls, key=lambda c: (c.manager_id, c.date, c.route_id, c.retailer_id)):
        calls_of[(c.manager_id, c.date)].append((shops[c.retailer_id], c.route_id))
    days = plan.days()
    kms = day_km(scenario, plan)
    travel = travel_for(scenario)
    located = {r.id: r.location for r in (*scenario.retailers, *scenario.suspended)}
    managers = []
    for k, m in enumerate(scenario.managers):
        vs = visits_of.get(m.id, [])
        dates_of: dict[str, list[date]] = defaultdict(list)
        for v in vs:
            dates_of[v.retailer_id].append(v.date)
        day_views = []
        for day in scenario.working_days(m):
            seq = days.get((m.id, day), [])
            stops = tuple(
                Stop(v.seq, shops[v.retailer_id], clock(v.arrival), clock(v.departure), v.route_id, v.makeup,
                     v.travel_km)
                for v in seq
            )  # fmt: skip
            day_views.append(
                DayView(
                    date=day,
                    route_ids=tuple(dict.fromkeys(v.route_id for v in seq)),
                    stops=stops,
                    calls=tuple(calls_of.get((m.id, day), [])),
                    km=round(kms.get((m.id, day), 0.0), 1),
                    leave=clock(leave),
                    finish=clock(seq[-1].departure) if seq else clock(leave),
                    field_minutes=(seq[-1].departure - leave) if seq else 0,
                )
            )

        def back_km(shop: str, m: Manager = m) -> float:
            return travel.leg(located[shop], m.office)[0] if m.return_to_office else 0.0

        routes = _routes(m, vs, shops, leave, back_km)
        managers.append(
            ManagerView(
                id=m.id,
                name=m.name,
                color=PALETTE[k % len(PALETTE)],
                office=from_wgs84(m.office, datum),
                outline=_outline([shops[r].at for r in dates_of]),
                routes=routes,
                days=tuple(day_views),
                visit_dates={r: tuple(sorted(d)) for r, d in dates_of.items()},
            )
        )
    cal = scenario.calendar
    return PlanView(
        scenario_name=scenario.name,
        month=f"{cal.year}-{cal.month:02d}",
        datum=datum,
        managers=tuple(_with_tracks(scenario, travel, managers, located, datum)),
    )


def _with_tracks(
    scenario: Scenario, travel: object, managers: list[ManagerView], located: dict[str, LatLon], datum: str
) -> list[ManagerView]:
    """Each route and day drawn along the streets, where the travel model knows them (roads)."""
    paths = getattr(travel, "paths", None)
    if paths is None:
        return managers
    staff = {m.id: m for m in scenario.managers}

    def line(mid: str, shop_ids: list[str]) -> list[LatLon]:
        m = staff[mid]
        return [m.office, *(located[s] for s in shop_ids), *([m.office] if m.return_to_office else [])]

    routes = {(mv.id, r.id): line(mv.id, [s.id for s in r.stops]) for mv in managers for r in mv.routes}
    days = {(mv.id, d.date): line(mv.id, [s.shop.id for s in d.stops]) for mv in managers for d in mv.days if d.stops}
    legs = list(dict.fromkeys(leg for pts in (*routes.values(), *days.values()) for leg in itertools.pairwise(pts)))
    drawn = dict(zip(legs, paths(legs), strict=True))

    def track(pts: list[LatLon]) -> tuple[LatLon, ...]:
        out = pts[:1]
        for leg in itertools.pairwise(pts):
            out += drawn[leg][1:] or [leg[1]]
        return tuple(from_wgs84(p, datum) for p in out)

    return [
        dataclasses.replace(
            mv,
            routes=tuple(dataclasses.replace(r, track=track(routes[(mv.id, r.id)])) for r in mv.routes),
            days=tuple(dataclasses.replace(d, track=track(days[(mv.id, d.date)])) if d.stops else d for d in mv.days),
        )
        for mv in managers
    ]
