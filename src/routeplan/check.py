"""The plan checker: verifies every rule of the service standard from scratch.

It reads nothing but the scenario and the plan's visits and calls, recomputes
distances with geopy (not the solver's numpy code), and lists every broken rule
with the manager, the shop or day, and what would fix it. It is the oracle of the
solver tests and the engine behind ``routeplan check``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from geopy.distance import great_circle

from .calendar import min_gap_days, monday_of
from .model import Scenario
from .plan import Plan, Visit, clock

#: Minutes of slack for times printed as whole minutes.
ROUNDING_MINUTES = 1.0

RULES = {
    1: "one manager per shop",
    2: "visit frequency and spacing",
    3: "working day: stops, field time, day length",
    4: "fixed routes",
    5: "weekly contact (phone visits)",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule, said so that a market manager can act on it."""

    rule: int
    code: str
    message: str
    fix: str
    manager_id: str = ""
    retailer_id: str = ""
    date: str = ""

    def __str__(self) -> str:
        return f"rule {self.rule} ({RULES[self.rule]}): {self.message}; fix: {self.fix}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _travel_minutes(scenario: Scenario, a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    km = great_circle(a, b).km * scenario.rules.detour_factor
    return km, km / scenario.rules.speed_kmh * 60.0


def check_plan(scenario: Scenario, plan: Plan, previous: Plan | None = None) -> list[Violation]:
    """Every rule the plan breaks; an empty list means every rule is kept.

    With ``previous`` (the month before), also that the cycle runs on: a route keeps
    its weekday and its week of the cycle across the month boundary.
    """
    out = _check_month(scenario, plan)
    out += check_standing(scenario, plan)
    if previous is not None:
        out += check_cycle_phase(scenario, plan, previous)
    return out


def _regular_runs(plan: Plan) -> dict[str, set[date]]:
    """Each route's dates of regular (not make-up) runs."""
    runs: dict[str, set[date]] = defaultdict(set)
    for v in plan.visits:
        if not v.makeup:
            runs[v.route_id].add(v.date)
    return runs


def check_standing(scenario: Scenario, plan: Plan) -> list[Violation]:
    """Locks kept, suspended shops left alone, and every route running on the slot its book names."""
    out: list[Violation] = []
    cal = scenario.calendar
    rides: dict[str, set[str]] = defaultdict(set)
    for v in plan.visits:
        rides[v.retailer_id].add(v.route_id)
    for shop in scenario.retailers:
        if shop.route_id and rides.get(shop.id) and shop.route_id not in rides[shop.id]:
            out.append(Violation(
                rule=4, code="route-lock", retailer_id=shop.id,
                message=f"shop {shop.id} is locked to route {shop.route_id} but rides {', '.join(sorted(rides[shop.id]))}",
                fix=f"put it on {shop.route_id}, or clear its route_id in retailers.csv",
            ))  # fmt: skip
    held = {r.id for r in scenario.suspended}
    touched = {v.retailer_id for v in plan.visits} | {c.retailer_id for c in plan.calls}
    for rid in sorted(held & touched):
        out.append(Violation(
            rule=2, code="suspended", retailer_id=rid,
            message=f"shop {rid} is suspended this month but is visited or called",
            fix="leave it out of this month's visits and calls (it keeps its place in the route book)",
        ))  # fmt: skip
    labels = {r.id: r.label for r in plan.routes}
    for route_id, days in sorted(_regular_runs(plan).items()):
        label = labels.get(route_id)
        if label is None:
            continue
        wrong = sorted(d for d in days if cal.slot_of(d) is None or cal.slot_label(cal.slot_of(d) or 0) != label)
        if wrong:
            out.append(Violation(
                rule=4, code="route-slot-label", date=str(wrong[0]),
                message=f"route {route_id} is booked on {label} but runs on {wrong[0]} ({len(wrong)} runs off its slot)",
                fix="run each route on the cycle slot of its route book entry",
            ))  # fmt: skip
    return out


def check_cycle_phase(scenario: Scenario, plan: Plan, previous: Plan) -> list[Violation]:
    """From the dates alone: a route's runs this month are whole cycles after its runs last month."""
    period = 7 * scenario.calendar.cycle_weeks
    before = _regular_runs(previous)
    out: list[Violation] = []
    for route_id, days in sorted(_regular_runs(plan).items()):
        if route_id not in before:
            continue
        last = max(before[route_id])
        off = sorted(d for d in days if (d - last).days % period)
        if off:
            out.append(Violation(
                rule=4, code="cycle-phase", date=str(off[0]),
                message=f"route {route_id} ran on {last} last month and on {off[0]} now, not a whole "
                        f"{scenario.calendar.cycle_weeks}-week cycle later",
                fix="continue the cycle from the previous plan (plan --previous), so each route keeps its week",
            ))  # fmt: skip
    return out


def _check_month(scenario: Scenario, plan: Plan) -> list[Violation]:
    """The five rules of the standard, for this month's visits and calls."""
    out: list[Violation] = []
    sc = scenario
    cal = sc.calendar
    rules = sc.rules
    shops = {r.id: r for r in sc.retailers}
    managers = {m.id: m for m in sc.managers}

    # ---- references (visits to suspended shops are reported by check_standing) --------
    held = {r.id for r in sc.suspended}
    for v in plan.visits:
        if v.retailer_id not in shops and v.retailer_id not in held:
            out.append(
                Violation(
                    1,
                    "unknown-shop",
                    f"visit to unknown shop {v.retailer_id}",
                    "re-plan from the current retailers.csv",
                    v.manager_id,
                    v.retailer_id,
                    str(v.date),
                )
            )
        if v.manager_id not in managers:
            out.append(
                Violation(
                    1,
                    "unknown-manager",
                    f"visit by unknown manager {v.manager_id}",
                    "re-plan from the current staff.csv",
                    v.manager_id,
                    v.retailer_id,
                    str(v.date),
                )
            )
    # a suspended shop's visits still fill its manager's day (check_standing reports them)
    everyone = {r.id: r for r in (*sc.retailers, *sc.suspended)}
    visits = [v for v in plan.visits if v.retailer_id in everyone and v.manager_id in managers]
    calls = [c for c in plan.calls if c.retailer_id in shops and c.manager_id in managers]

    # ---- rule 1: one manager per shop ---------------------------------
    owner: dict[str, set[str]] = defaultdict(set)
    for v in visits:
        owner[v.retailer_id].add(v.manager_id)
    for c in calls:
        owner[c.retailer_id].add(c.manager_id)
    for rid, shop in shops.items():
        who = owner.get(rid, set())
        if not who:
            out.append(
                Violation(
                    1,
                    "unassigned",
                    f"shop {rid} has no manager and no visit",
                    "give it a manager (or close it in retailers.csv) and re-plan",
                    retailer_id=rid,
                )
            )
        elif len(who) > 1:
            out.append(
                Violation(
                    1,
                    "shared",
                    f"shop {rid} is served by {', '.join(sorted(who))}",
                    "keep it with one manager",
                    ",".join(sorted(who)),
                    rid,
                )
            )
        pin = sc.owner(shop)
        if pin and who and who != {pin}:
            out.append(
                Violation(
                    1,
                    "pin",
                    f"shop {rid} is pinned to {pin} but served by {', '.join(sorted(who))}",
                    f"move it to {pin}",
                    ",".join(sorted(who)),
                    rid,
                )
            )

    # ---- rule 2: frequency and spacing --------------------------------
    dates_of: dict[str, list[date]] = defaultdict(list)
    for v in visits:
        dates_of[v.retailer_id].append(v.date)
    for rid, shop in shops.items():
        ds = dates_of.get(rid, [])
        distinct = sorted(set(ds))
        mid = ",".join(sorted(owner.get(rid, set())))
        if len(distinct) != len(ds):
            out.append(
                Violation(2, "same-day", f"shop {rid} is visited twice on one day", "drop the repeat visit", mid, rid)
            )
        if len(distinct) < shop.visits_per_month:
            out.append(
                Violation(
                    2,
                    "frequency",
                    f"shop {rid} (class {shop.klass}) gets {len(distinct)} of {shop.visits_per_month} visits",
                    "put it on another route of its manager, or approve fewer visits in retailers.csv",
                    mid,
                    rid,
                )
            )
        gap = min_gap_days(distinct)
        need = sc.gap_days(len(distinct))
        if gap is not None and gap < need:
            out.append(
                Violation(
                    2,
                    "spacing",
                    f"shop {rid} has visits {gap} days apart (needs {need})",
                    "move one visit to a route on another week",
                    mid,
                    rid,
                )
            )
        for d in distinct:
            if d.weekday() in shop.closed_weekdays:
                out.append(
                    Violation(
                        2,
                        "closed",
                        f"shop {rid} is visited on {d} but is closed on that weekday",
                        "move it to a route on an open day",
                        mid,
                        rid,
                        str(d),
                    )
                )

    # ---- rule 3: working days -----------------------------------------
    by_day: dict[tuple[str, date], list[Visit]] = defaultdict(list)
    for v in visits:
        by_day[(v.manager_id, v.date)].append(v)
    for m in sc.managers:
        working = set(sc.working_days(m))
        short_days: list[date] = []
        for _, day in sorted(k for k in by_day if k[0] == m.id):
            if day not in working:
                out.append(
                    Violation(
                        3,
                        "not-working",
                        f"{m.id} has visits on {day}, not a working day",
                        "move them to a working day",
                        m.id,
                        date=str(day),
                    )
                )
        for day in sorted(working):
            seq = sorted(by_day.get((m.id, day), []), key=lambda v: v.seq)
            if [v.seq for v in seq] != list(range(1, len(seq) + 1)):
                out.append(
                    Violation(
                        3,
                        "sequence",
                        f"{m.id} on {day}: visit numbers are not 1..{len(seq)}",
                        "renumber the day's visits",
                        m.id,
                        date=str(day),
                    )
                )
            if len(seq) < m.min_stops_per_day:
                short_days.append(day)
                out.append(
                    Violation(
                        3,
                        "min-stops",
                        f"{m.id} has {len(seq)} stops on {day} (needs {m.min_stops_per_day})",
                        f"{m.id} needs {m.min_stops_per_day - len(seq)} more shops that day: add shops to the territory or drop a manager",
                        m.id,
                        date=str(day),
                    )
                )
            if not seq:
                continue
            t = float(rules.leave_minutes)
            here = (m.office.lat, m.office.lon)
            for v in seq:
                shop = everyone[v.retailer_id]
                there = (shop.location.lat, shop.location.lon)
                _, minutes = _travel_minutes(sc, here, there)
                t += minutes
                if v.arrival < t - ROUNDING_MINUTES:
                    out.append(
                        Violation(
                            3,
                            "timing",
                            f"{m.id} on {day}: arrives at {v.retailer_id} at {clock(v.arrival)}, cannot before {clock(t)}",
                            "re-plan the day's times",
                            m.id,
                            v.retailer_id,
                            str(day),
                        )
                    )
                t = max(t, float(v.arrival))
                if abs((v.departure - v.arrival) - shop.service_minutes) > ROUNDING_MINUTES:
                    out.append(
                        Violation(
                            3,
                            "service",
                            f"{m.id} on {day}: {v.departure - v.arrival} min at {v.retailer_id}, needs {shop.service_minutes:g}",
                            "re-plan the day's times",
                            m.id,
                            v.retailer_id,
                            str(day),
                        )
                    )
                t += shop.service_minutes
                here = there
            field_end = t
            field = field_end - rules.leave_minutes
            day_end = field_end
            if m.return_to_office:
                day_end += _travel_minutes(sc, here, (m.office.lat, m.office.lon))[1]
            if field < rules.min_field_minutes - ROUNDING_MINUTES:
                out.append(
                    Violation(
                        3,
                        "min-field",
                        f"{m.id} is {field:.0f} min in the field on {day} (needs {rules.min_field_minutes})",
                        f"{m.id} needs about {rules.min_field_minutes - field:.0f} more minutes of visits that day: add shops or drop a manager",
                        m.id,
                        date=str(day),
                    )
                )
            if day_end - rules.day_start_minutes > rules.max_day_minutes + ROUNDING_MINUTES:
                out.append(
                    Violation(
                        3,
                        "max-day",
                        f"{m.id}'s day on {day} ends at {clock(day_end)}, {day_end - rules.day_start_minutes - rules.max_day_minutes:.0f} min past the {rules.max_day_minutes}-minute limit",
                        "move shops from that route to another manager, or add a manager",
                        m.id,
                        date=str(day),
                    )
                )

    # ---- rule 4: fixed routes -----------------------------------------
    route_visits: dict[str, list[Visit]] = defaultdict(list)
    for v in visits:
        route_visits[v.route_id].append(v)
    for rid, rv in sorted(route_visits.items()):
        mids = {v.manager_id for v in rv}
        if len(mids) > 1:
            out.append(
                Violation(
                    4,
                    "route-managers",
                    f"route {rid} is driven by {', '.join(sorted(mids))}",
                    "give each route one manager",
                    ",".join(sorted(mids)),
                )
            )
            continue
        m = managers[next(iter(mids))]
        runs: dict[date, list[Visit]] = defaultdict(list)
        for v in rv:
            runs[v.date].append(v)
        # the route's own slot is that of its fullest regular run (make-up days carry a share)
        own = [d for d in sorted(runs) if any(not v.makeup for v in runs[d])] or sorted(runs)
        fullest = max(own, key=lambda d: len(runs[d]))
        home = cal.slot_of(fullest)
        if home is None:
            out.append(Violation(4, "route-slot", f"route {rid} runs on no workday", "bind it to a weekday", m.id))
            continue
        regular = [d for d in cal.slot_dates(home) if cal.is_working(d, m.days_off)]
        lost = [d for d in cal.slot_dates(home) if not cal.is_working(d, m.days_off)]
        reference: list[str] | None = None
        for d in regular:
            order = [v.retailer_id for v in sorted(runs.get(d, []), key=lambda v: v.seq)]
            if reference is None:
                reference = order
            elif order != reference:
                out.append(
                    Violation(
                        4,
                        "route-order",
                        f"route {rid} on {d} differs from its other runs (shops or order)",
                        "keep the same shops in the same order on every run",
                        m.id,
                        date=str(d),
                    )
                )
        stops = set(reference or [])
        lost_weeks = {monday_of(d) for d in lost}
        for d, vs in sorted(runs.items()):
            if d in regular:
                continue
            if monday_of(d) not in lost_weeks:
                out.append(
                    Violation(
                        4,
                        "off-slot",
                        f"route {rid} runs on {d}, not its weekday {cal.slot_label(home)}, with no lost run that week",
                        "move these visits back to the route's day",
                        m.id,
                        date=str(d),
                    )
                )
            strangers = {v.retailer_id for v in vs} - stops
            if strangers:
                out.append(
                    Violation(
                        4,
                        "makeup-shops",
                        f"route {rid} on {d} visits shops not on the route: {', '.join(sorted(strangers))}",
                        "make up only the route's own shops",
                        m.id,
                        date=str(d),
                    )
                )
        for d in lost:
            week = {x for x in cal.week_days(monday_of(d)) if cal.is_working(x, m.days_off)}
            if not week:
                continue
            made_up = {v.retailer_id for x, vs in runs.items() if x in week and x not in regular for v in vs}
            made_up |= {v.retailer_id for x in week & set(regular) for v in runs.get(x, [])}
            missing = stops - made_up
            if missing:
                out.append(
                    Violation(
                        4,
                        "makeup",
                        f"route {rid}'s run on {d} ({'holiday' if d in cal.holidays else 'day off'}) is not made up for {len(missing)} shops that week",
                        "add those shops to other days of that week",
                        m.id,
                        date=str(d),
                    )
                )

    # ---- rule 5: weekly contact ---------------------------------------
    contact: dict[str, set[date]] = defaultdict(set)
    for v in visits:
        contact[v.retailer_id].add(monday_of(v.date))
    for c in calls:
        contact[c.retailer_id].add(monday_of(c.date))
        m = managers[c.manager_id]
        if not cal.is_working(c.date, m.days_off):
            out.append(
                Violation(
                    5,
                    "call-day",
                    f"{c.manager_id} calls {c.retailer_id} on {c.date}, not a working day",
                    "call on a working day",
                    c.manager_id,
                    c.retailer_id,
                    str(c.date),
                )
            )
    for rid in shops:
        served_by = owner.get(rid)
        if not served_by:
            continue
        m = managers[sorted(served_by)[0]]
        for monday in cal.weeks():
            if not any(cal.is_working(monday + timedelta(days=i), m.days_off) for i in range(7)):
                continue
            if monday not in contact[rid]:
                out.append(
                    Violation(
                        5,
                        "no-contact",
                        f"shop {rid} hears nothing from {m.id} in the week of {monday}",
                        "add a phone visit that week",
                        m.id,
                        rid,
                        str(monday),
                    )
                )
    return out


def summarize(violations: list[Violation], limit: int = 3) -> list[str]:
    """One line per (rule, kind, manager): how many, an example, and the fix."""
    groups: dict[tuple[int, str, str], list[Violation]] = defaultdict(list)
    for v in violations:
        groups[(v.rule, v.code, v.manager_id)].append(v)
    lines = []
    for (rule, code, mid), vs in sorted(groups.items()):
        head = f"rule {rule} ({RULES[rule]}), {code}"
        if mid:
            head += f", {mid}"
        example = "; ".join(v.message for v in vs[:limit])
        more = f" (+{len(vs) - limit} more)" if len(vs) > limit else ""
        lines.append(f"{head}: {len(vs)} x: {example}{more}. Fix: {vs[0].fix}")
    return lines
