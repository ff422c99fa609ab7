"""The plan checker: verifies every rule of the service standard from scratch.

It reads nothing but the scenario and the plan's visits and calls, recomputes every
leg with the scenario's travel model (for the default great-circle model: geopy, not
the solver's numpy code), and lists every broken rule with the manager, the shop or
day, and what would fix it. It is the oracle of the solver tests and the engine
behind ``routeplan check``. One function per rule of the standard; each kind of
violation has a test that breaks a correct plan by hand (``tests/test_check.py``),
and ``benchmarks/check_mutants.py`` shows that deleting any single check fails one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from .calendar import min_gap_days, monday_of, most_spaced_visits
from .model import Manager, Retailer, Scenario
from .plan import Call, Plan, Visit, clock
from .travel import TravelModel, travel_for

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


def check_plan(
    scenario: Scenario, plan: Plan, previous: Plan | None = None, travel: TravelModel | None = None
) -> list[Violation]:
    """Every rule the plan breaks; an empty list means every rule is kept.

    With ``previous`` (the month before), also that the cycle runs on: a route keeps
    its weekday and its week of the cycle across the month boundary. ``travel``: the
    travel model (default: the one the scenario names).
    """
    travel = travel or travel_for(scenario)
    _warm(travel, scenario, plan)
    month = _Month.of(scenario, plan, travel)
    out: list[Violation] = []
    for rule in MONTH_RULES:
        out += rule(month)
    out += check_standing(scenario, plan)
    if previous is not None:
        out += check_cycle_phase(scenario, plan, previous)
    return out


def _warm(travel: TravelModel, scenario: Scenario, plan: Plan) -> None:
    """Let a model that computes legs in batches (roads) compute each manager's at once."""
    warm = getattr(travel, "warm", None)
    if warm is None:
        return
    where = {r.id: r.location for r in (*scenario.retailers, *scenario.suspended)}
    for m in scenario.managers:
        shops = dict.fromkeys(
            where[v.retailer_id] for v in plan.visits if v.manager_id == m.id and v.retailer_id in where
        )
        warm([m.office, *shops])


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


@dataclass(frozen=True)
class _Month:
    """What every rule reads: the scenario, the plan's visits and calls to known shops, who serves whom."""

    sc: Scenario
    plan: Plan
    travel: TravelModel
    shops: dict[str, Retailer]
    #: active and suspended shops: a suspended shop's visits still fill its manager's day
    everyone: dict[str, Retailer]
    managers: dict[str, Manager]
    visits: list[Visit]
    calls: list[Call]
    owner: dict[str, set[str]]

    @classmethod
    def of(cls, sc: Scenario, plan: Plan, travel: TravelModel) -> _Month:
        shops = {r.id: r for r in sc.retailers}
        everyone = {r.id: r for r in (*sc.retailers, *sc.suspended)}
        managers = {m.id: m for m in sc.managers}
        visits = [v for v in plan.visits if v.retailer_id in everyone and v.manager_id in managers]
        calls = [c for c in plan.calls if c.retailer_id in shops and c.manager_id in managers]
        owner: dict[str, set[str]] = defaultdict(set)
        for v in visits:
            owner[v.retailer_id].add(v.manager_id)
        for c in calls:
            owner[c.retailer_id].add(c.manager_id)
        return cls(sc, plan, travel, shops, everyone, managers, visits, calls, owner)

    def served_by(self, rid: str) -> str:
        return ",".join(sorted(self.owner.get(rid, set())))


def check_references(month: _Month) -> list[Violation]:
    """Rule 1: every visit is to a shop of the scenario, by a manager of the team
    (visits to suspended shops are reported by :func:`check_standing`)."""
    out: list[Violation] = []
    held = {r.id for r in month.sc.suspended}
    for v in month.plan.visits:
        if v.retailer_id not in month.shops and v.retailer_id not in held:
            out.append(Violation(
                rule=1, code="unknown-shop", message=f"visit to unknown shop {v.retailer_id}",
                fix="re-plan from the current retailers.csv", manager_id=v.manager_id, retailer_id=v.retailer_id,
                date=str(v.date),
            ))  # fmt: skip
        if v.manager_id not in month.managers:
            out.append(Violation(
                rule=1, code="unknown-manager", message=f"visit by unknown manager {v.manager_id}",
                fix="re-plan from the current staff.csv", manager_id=v.manager_id, retailer_id=v.retailer_id,
                date=str(v.date),
            ))  # fmt: skip
    return out


def check_ownership(month: _Month) -> list[Violation]:
    """Rule 1: each shop has one manager, the one it is pinned to if it is pinned."""
    out: list[Violation] = []
    for rid, shop in month.shops.items():
        who = month.owner.get(rid, set())
        pin = month.sc.owner(shop)
        if not who and pin in month.managers and not month.sc.working_days(month.managers[pin]):
            out.append(Violation(
                rule=1, code="unassigned", message=f"shop {rid} is pinned to {pin}, who has no working day this month",
                fix=f"pin it to another manager (manager_id), or give {pin} working days (days_off)",
                manager_id=pin, retailer_id=rid,
            ))  # fmt: skip
        elif not who:
            out.append(Violation(
                rule=1, code="unassigned", message=f"shop {rid} has no manager and no visit",
                fix="give it a manager (or close it in retailers.csv) and re-plan", retailer_id=rid,
            ))  # fmt: skip
        elif len(who) > 1:
            out.append(Violation(
                rule=1, code="shared", message=f"shop {rid} is served by {', '.join(sorted(who))}",
                fix="keep it with one manager", manager_id=month.served_by(rid), retailer_id=rid,
            ))  # fmt: skip
        if pin and who and who != {pin}:
            out.append(Violation(
                rule=1, code="pin", message=f"shop {rid} is pinned to {pin} but served by {', '.join(sorted(who))}",
                fix=f"move it to {pin}", manager_id=month.served_by(rid), retailer_id=rid,
            ))  # fmt: skip
    return out


def check_frequency(month: _Month) -> list[Violation]:
    """Rule 2: each shop gets its visits, on distinct days, spaced, on days it is open."""
    out: list[Violation] = []
    dates_of: dict[str, list[date]] = defaultdict(list)
    for v in month.visits:
        dates_of[v.retailer_id].append(v.date)
    for rid, shop in month.shops.items():
        ds = dates_of.get(rid, [])
        distinct = sorted(set(ds))
        mid = month.served_by(rid)
        if len(distinct) != len(ds):
            out.append(Violation(
                rule=2, code="same-day", message=f"shop {rid} is visited twice on one day",
                fix="drop the repeat visit", manager_id=mid, retailer_id=rid,
            ))  # fmt: skip
        if len(distinct) < shop.visits_per_month:
            out.append(Violation(
                rule=2, code="frequency",
                message=f"shop {rid} (class {shop.klass}) gets {len(distinct)} of {shop.visits_per_month} visits",
                fix=_frequency_fix(month, shop), manager_id=mid, retailer_id=rid,
            ))  # fmt: skip
        gap = min_gap_days(distinct)
        need = month.sc.gap_days(len(distinct))
        if gap is not None and gap < need:
            out.append(Violation(
                rule=2, code="spacing", message=f"shop {rid} has visits {gap} days apart (needs {need})",
                fix="move one visit to a route on another week", manager_id=mid, retailer_id=rid,
            ))  # fmt: skip
        for d in distinct:
            if d.weekday() in shop.closed_weekdays:
                out.append(Violation(
                    rule=2, code="closed", message=f"shop {rid} is visited on {d} but is closed on that weekday",
                    fix="move it to a route on an open day", manager_id=mid, retailer_id=rid, date=str(d),
                ))  # fmt: skip
    return out


def _frequency_fix(month: _Month, shop: Retailer) -> str:
    """What would give a shop its visits: another route, unless the month itself has no room for
    them (a week of holidays, days off, closed weekdays), which only an approval fixes."""
    pin = month.sc.owner(shop)
    who = month.owner.get(shop.id) or ({pin} if pin in month.managers else {m.id for m in month.sc.managers})
    working = {d for mid in who for d in month.sc.working_days(month.managers[mid])}
    days = {d for d in working if d.weekday() not in shop.closed_weekdays}
    cal = month.sc.calendar
    most = most_spaced_visits(days, shop.visits_per_month, cal.days_in_month, month.sc.rules.min_gap_days)
    if not working:
        return f"{', '.join(sorted(who))} has no working day this month: pin it to another manager (manager_id)"
    if most == 0:
        return "it is open on none of this month's working days: suspend it for the month (status) or check closed_weekdays"
    if most < shop.visits_per_month:
        return (f"this month's working days leave room for at most {most} well-spaced visits: approve {most} "
                f"for this month in retailers.csv (visits_per_month)")  # fmt: skip
    return "put it on another route of its manager, or approve fewer visits in retailers.csv"


def check_working_days(month: _Month) -> list[Violation]:
    """Rule 3: visits only on working days; each working day numbered, full enough and not too long."""
    out: list[Violation] = []
    by_day: dict[tuple[str, date], list[Visit]] = defaultdict(list)
    for v in month.visits:
        by_day[(v.manager_id, v.date)].append(v)
    for m in month.sc.managers:
        working = set(month.sc.working_days(m))
        for day in sorted(d for mid, d in by_day if mid == m.id and d not in working):
            out.append(Violation(
                rule=3, code="not-working", message=f"{m.id} has visits on {day}, not a working day",
                fix="move them to a working day", manager_id=m.id, date=str(day),
            ))  # fmt: skip
        for day in sorted(working):
            out += _check_day(month, m, day, sorted(by_day.get((m.id, day), []), key=lambda v: v.seq))
    return out


def _check_day(month: _Month, m: Manager, day: date, seq: list[Visit]) -> list[Violation]:
    """One manager's working day: numbering, stops, then the timeline driven leg by leg."""
    out: list[Violation] = []
    if [v.seq for v in seq] != list(range(1, len(seq) + 1)):
        out.append(Violation(
            rule=3, code="sequence", message=f"{m.id} on {day}: visit numbers are not 1..{len(seq)}",
            fix="renumber the day's visits", manager_id=m.id, date=str(day),
        ))  # fmt: skip
    if len(seq) < m.min_stops_per_day:
        out.append(Violation(
            rule=3, code="min-stops", message=f"{m.id} has {len(seq)} stops on {day} (needs {m.min_stops_per_day})",
            fix=f"{m.id} needs {m.min_stops_per_day - len(seq)} more shops that day: add shops to the territory "
                "or drop a manager",
            manager_id=m.id, date=str(day),
        ))  # fmt: skip
    if seq:
        out += _check_timeline(month, m, day, seq)
    return out


def _check_timeline(month: _Month, m: Manager, day: date, seq: list[Visit]) -> list[Violation]:
    """Arrivals no earlier than the drive allows, service times kept, field time and day length."""
    out: list[Violation] = []
    rules = month.sc.rules
    t = float(rules.leave_minutes)
    here = m.office
    for v in seq:
        shop = month.everyone[v.retailer_id]
        t += month.travel.leg(here, shop.location)[1]
        if v.arrival < t - ROUNDING_MINUTES:
            out.append(Violation(
                rule=3, code="timing",
                message=f"{m.id} on {day}: arrives at {v.retailer_id} at {clock(v.arrival)}, cannot before {clock(t)}",
                fix="re-plan the day's times", manager_id=m.id, retailer_id=v.retailer_id, date=str(day),
            ))  # fmt: skip
        t = max(t, float(v.arrival))
        if abs((v.departure - v.arrival) - shop.service_minutes) > ROUNDING_MINUTES:
            out.append(Violation(
                rule=3, code="service",
                message=f"{m.id} on {day}: {v.departure - v.arrival} min at {v.retailer_id}, "
                        f"needs {shop.service_minutes:g}",
                fix="re-plan the day's times", manager_id=m.id, retailer_id=v.retailer_id, date=str(day),
            ))  # fmt: skip
        t += shop.service_minutes
        here = shop.location
    field = t - rules.leave_minutes
    day_end = t + (month.travel.leg(here, m.office)[1] if m.return_to_office else 0.0)
    if field < rules.min_field_minutes - ROUNDING_MINUTES:
        out.append(Violation(
            rule=3, code="min-field",
            message=f"{m.id} is {field:.0f} min in the field on {day} (needs {rules.min_field_minutes})",
            fix=f"{m.id} needs about {rules.min_field_minutes - field:.0f} more minutes of visits that day: "
                "add shops or drop a manager",
            manager_id=m.id, date=str(day),
        ))  # fmt: skip
    over = day_end - rules.day_start_minutes - rules.max_day_minutes
    if over > ROUNDING_MINUTES:
        fix = "move shops from that route to another manager, or add a manager"
        if makeups := sum(v.makeup for v in seq):  # a holiday week's runs crowd the days left
            fix = (f"{makeups} of its visits make up runs lost to holidays or days off; where the month has no "
                   "room left for them (a holiday week), approve fewer visits this month for those shops "
                   "(visits_per_month in retailers.csv) or work a weekend day for a holiday (workday_swaps); "
                   "else " + fix)  # fmt: skip
        out.append(Violation(
            rule=3, code="max-day",
            message=f"{m.id}'s day on {day} ends at {clock(day_end)}, {over:.0f} min past the "
                    f"{rules.max_day_minutes}-minute limit",
            fix=fix, manager_id=m.id, date=str(day),
        ))  # fmt: skip
    return out


def check_fixed_routes(month: _Month) -> list[Violation]:
    """Rule 4: each route has one manager and runs on its cycle slot, the same shops in the same
    order every run; a run lost to a holiday or day off is made up, with its own shops (in its
    week where the week has room: that is the planner's aim, not a rule the checker can judge)."""
    out: list[Violation] = []
    route_visits: dict[str, list[Visit]] = defaultdict(list)
    for v in month.visits:
        route_visits[v.route_id].append(v)
    for rid, rv in sorted(route_visits.items()):
        mids = {v.manager_id for v in rv}
        if len(mids) > 1:
            out.append(Violation(
                rule=4, code="route-managers", message=f"route {rid} is driven by {', '.join(sorted(mids))}",
                fix="give each route one manager", manager_id=",".join(sorted(mids)),
            ))  # fmt: skip
            continue
        out += _check_route(month, rid, month.managers[mids.pop()], rv)
    return out


def _check_route(month: _Month, rid: str, m: Manager, rv: list[Visit]) -> list[Violation]:
    cal = month.sc.calendar
    runs: dict[date, list[Visit]] = defaultdict(list)
    for v in rv:
        runs[v.date].append(v)
    # the route's own slot is that of its fullest regular run (make-up days carry a share)
    own = [d for d in sorted(runs) if any(not v.makeup for v in runs[d])] or sorted(runs)
    home = cal.slot_of(max(own, key=lambda d: len(runs[d])))
    if home is None:
        return []  # its runs are on no working day: check_working_days reports them
    out: list[Violation] = []
    regular = [d for d in cal.slot_dates(home) if cal.is_working(d, m.days_off)]
    lost = cal.lost_runs(home, m.days_off)
    orders = [(d, [v.retailer_id for v in sorted(runs.get(d, []), key=lambda v: v.seq)]) for d in regular]
    # the reference run is on the route's own weekday where one is worked (a day worked for a
    # holiday, a Saturday say, runs it without the shops closed that weekday)
    reference = next((o for d, o in orders if cal.worked_for(d) is None), orders[0][1] if orders else [])
    shut = {d: {x for x in reference if x in month.everyone and d.weekday() in month.everyone[x].closed_weekdays}
            for d in regular if cal.worked_for(d) is not None}  # fmt: skip
    for d, order in orders:
        if order != [x for x in reference if x not in shut.get(d, ())]:
            out.append(Violation(
                rule=4, code="route-order", message=f"route {rid} on {d} differs from its other runs (shops or order)",
                fix="keep the same shops in the same order on every run", manager_id=m.id, date=str(d),
            ))  # fmt: skip
    stops = set(reference)
    # each run lost in a week with a working day, and each shop shut on a day worked for a
    # holiday, owes a make-up visit: in its week where the week has room, else in another
    # (a holiday week's Thursday and Friday cannot hold three days of runs)
    owed: Counter[str] = Counter()
    causes: list[tuple[date, str]] = []
    for d in lost:
        if any(cal.is_working(x, m.days_off) for x in cal.week_days(monday_of(d))):
            owed.update(stops)
            causes.append((d, f"{d} ({'holiday' if d in cal.holidays else 'day off'})"))
    for d, closed in sorted(shut.items()):
        if closed:
            owed.update(closed)
            causes.append((d, f"{d} (worked for {cal.worked_for(d)}, {len(closed)} shops closed on {d:%a})"))
    lost_weeks = {monday_of(d) for d in lost}
    for d, vs in sorted(runs.items()):
        if d in regular:
            continue
        if monday_of(d) not in lost_weeks and not (owed and all(v.makeup for v in vs)):
            out.append(Violation(
                rule=4, code="off-slot",
                message=f"route {rid} runs on {d}, not its weekday {cal.slot_label(home)}, with no lost run to make up",
                fix="move these visits back to the route's day", manager_id=m.id, date=str(d),
            ))  # fmt: skip
        strangers = {v.retailer_id for v in vs} - stops
        if strangers:
            out.append(Violation(
                rule=4, code="makeup-shops",
                message=f"route {rid} on {d} visits shops not on the route: {', '.join(sorted(strangers))}",
                fix="make up only the route's own shops", manager_id=m.id, date=str(d),
            ))  # fmt: skip
    made = Counter(v.retailer_id for d, vs in runs.items() if d not in regular and cal.is_working(d, m.days_off)
                   for v in vs)  # fmt: skip
    missing = [shop for shop, n in owed.items() if made[shop] < n]
    if missing:
        out.append(Violation(
            rule=4, code="makeup",
            message=f"route {rid}'s runs of {', '.join(text for _, text in causes)} are not made up for "
                    f"{len(missing)} shops",
            fix="add those shops to other working days, in the lost run's week where it has room",
            manager_id=m.id, date=str(causes[0][0]),
        ))  # fmt: skip
    return out


def check_weekly_contact(month: _Month) -> list[Violation]:
    """Rule 5: every shop hears from its manager every week he works (a visit or a call on a working day)."""
    out: list[Violation] = []
    cal = month.sc.calendar
    contact: dict[str, set[date]] = defaultdict(set)
    for v in month.visits:
        contact[v.retailer_id].add(monday_of(v.date))
    for c in month.calls:
        contact[c.retailer_id].add(monday_of(c.date))
        if not cal.is_working(c.date, month.managers[c.manager_id].days_off):
            out.append(Violation(
                rule=5, code="call-day", message=f"{c.manager_id} calls {c.retailer_id} on {c.date}, not a working day",
                fix="call on a working day", manager_id=c.manager_id, retailer_id=c.retailer_id, date=str(c.date),
            ))  # fmt: skip
    for rid in month.shops:
        served_by = month.owner.get(rid)
        if not served_by:
            continue
        m = month.managers[sorted(served_by)[0]]
        for monday in cal.weeks():
            works = any(cal.is_working(monday + timedelta(days=i), m.days_off) for i in range(7))
            if works and monday not in contact[rid]:
                out.append(Violation(
                    rule=5, code="no-contact", message=f"shop {rid} hears nothing from {m.id} in the week of {monday}",
                    fix="add a phone visit that week", manager_id=m.id, retailer_id=rid, date=str(monday),
                ))  # fmt: skip
    return out


#: The rules of one month's plan, in the standard's order.
MONTH_RULES: tuple[Callable[[_Month], list[Violation]], ...] = (
    check_references,
    check_ownership,
    check_frequency,
    check_working_days,
    check_fixed_routes,
    check_weekly_contact,
)


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
