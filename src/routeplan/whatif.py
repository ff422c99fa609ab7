"""What-if teams: the same shops planned with other numbers of managers.

Each variant gets its own territory design (changing as few shops as possible from the
current split) and a full monthly plan, checked from scratch; variants are planned in
parallel, one process each.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from .check import Violation, check_plan
from .figures import plan_kpis
from .geo import haversine_km
from .model import Manager, Scenario
from .plan import Plan
from .solve.company import plan_company
from .solve.design import Territories, design_territories, shop_work, shop_work_parts
from .solve.month import PlanParams

#: Share of a working day's field window a manager can really fill, for the first guess of a team size.
USABLE_SHARE = 0.85
#: A capacity note names the morning drive when it is at least this share of the month's work.
MORNING_DRIVE_NOTE = 0.15
#: Workload balance (max / min field minutes in the month) a variant aims at.
BALANCE_TARGET = 1.10
#: How strongly a second design corrects each manager's share by his field minutes a day.
SHARE_CORRECTION = 2.0
#: Corrected designs tried at most, and each one's time limit as a share of the first plan's.
RETRIES = 2
RETRY_SHARE = 0.6


@dataclass(frozen=True)
class VariantPlan:
    """A variant's territory split, its plan and the rules the plan breaks."""

    name: str
    scenario: Scenario
    territories: Territories
    plan: Plan
    violations: tuple[Violation, ...]
    seconds: float

    @property
    def feasible(self) -> bool:
        return not self.violations


def busiest_office(scenario: Scenario, managers: Sequence[Manager]) -> Manager:
    """The manager whose office has the most shops per manager (shops counted at their nearest office).

    A new manager joins that office, so he starts near the work he takes over.
    """
    offices = list(dict.fromkeys(m.office for m in managers))
    staff = Counter(m.office for m in managers)
    shop_lat = np.array([r.location.lat for r in scenario.retailers])[:, None]
    shop_lon = np.array([r.location.lon for r in scenario.retailers])[:, None]
    km = haversine_km(shop_lat, shop_lon, np.array([[o.lat for o in offices]]), np.array([[o.lon for o in offices]]))
    shops = np.bincount(np.argmin(km, axis=1), minlength=len(offices))
    best = max(range(len(offices)), key=lambda i: (shops[i] / staff[offices[i]], -i))
    return next(m for m in managers if m.office == offices[best])


def team_name(size: int) -> str:
    return f"{size} manager" if size == 1 else f"{size} managers"


def with_team_size(scenario: Scenario, size: int) -> Scenario:
    """The scenario with ``size`` managers: the first ``size`` of the staff list, or new ones added.

    New managers (``N1``, ``N2``, ...) join the office with the most shops per manager. Shops
    pinned to a manager who leaves are unpinned.
    """
    if size < 1:
        raise ValueError("a team needs at least one manager")
    keep = scenario.managers[:size]
    taken = {m.id for m in scenario.managers}
    extra: list[Manager] = []
    number = 1
    while len(keep) + len(extra) < size:
        mid = f"N{number}"
        number += 1
        if mid in taken:
            continue
        template = busiest_office(scenario, [*keep, *extra])
        extra.append(dataclasses.replace(template, id=mid, name=f"New manager {number - 1}", days_off=frozenset()))
    managers = (*keep, *extra)
    ids = {m.id for m in managers}
    shops = tuple(r if r.manager_id in ids or r.manager_id is None else dataclasses.replace(r, manager_id=None)
                  for r in scenario.retailers)  # fmt: skip
    return dataclasses.replace(
        scenario, name=f"{scenario.name} ({team_name(size)})", managers=managers, retailers=shops
    )


def team_estimate(scenario: Scenario, work: np.ndarray | None = None) -> int:
    """A first guess of the smallest team: the month's estimated work (``work``: each shop's, as
    :func:`shop_work` gives it) over what one manager can do."""
    total = float((shop_work(scenario) if work is None else work).sum())
    days = len(scenario.calendar.working_days())
    per_manager = days * scenario.rules.field_window_minutes * USABLE_SHARE
    return max(1, math.ceil(total / per_manager))


def capacity_note(scenario: Scenario) -> str | None:
    """One line for a report whose month holds more work than its team can do (a week of holidays,
    say): the month is the cause, not a route, and fewer visits or more managers the fix; or
    whose team is too large for its shops to give each manager his daily stops."""
    crowded = _crowded_note(scenario)
    if crowded is not None:
        return crowded
    work, morning = shop_work_parts(scenario)
    need, have = team_estimate(scenario, work), len(scenario.managers)
    if need <= have:
        return None
    cal = scenario.calendar
    days = len(cal.working_days())
    note = (
        f"The month's {days} working days ({len(cal.lost_days())} lost to holidays) hold less work than its shops' visits need: "
        f"about {need} managers' for a team of {have}. Approve fewer visits for this month (visits_per_month in "
        f"the shop list, or a class's in scenario.toml) or add managers."
    )
    share = float(morning.sum() / work.sum()) if work.sum() > 0 else 0.0
    if share >= MORNING_DRIVE_NOTE:
        note += (
            f" About {share:.0%} of that work is the drive from the office to each day's first shop: "
            f"managers starting nearer their territories (an office of their own, start_lat/start_lon in the "
            f"staff list) would need less."
        )
    return note


def _crowded_note(scenario: Scenario) -> str | None:
    """A shop has one manager and is visited once a day, so a manager's day has at most as many
    stops as he has shops: a team whose daily minimums add up to more than the shops cannot keep
    them, whatever the routes."""
    minimums = sorted(m.min_stops_per_day for m in scenario.managers)
    shops = len(scenario.retailers)
    if sum(minimums) <= shops:
        return None
    fit = sum(1 for total in itertools.accumulate(minimums) if total <= shops)
    span = f"{minimums[0]}" if minimums[0] == minimums[-1] else f"{minimums[0]}-{minimums[-1]}"
    team = f"{len(minimums)} manager{'s' if len(minimums) > 1 else ''}"
    head = (
        f"{shops:,} shop{'s' if shops != 1 else ''} cannot give {team} their daily minimum of stops: each "
        f"manager needs at least that many shops of his own ({span} a day)."
    )
    if not fit:
        return f"{head} Lower min_stops_per_day, or add the territory's other shops."
    return (
        f"{head} A team of at most {fit} can keep it; drop managers (routeplan whatif --managers auto finds the "
        f"smallest team that keeps every rule) or lower min_stops_per_day."
    )


def plan_variant(
    name: str,
    scenario: Scenario,
    params: PlanParams,
    current: Mapping[str, str] | None,
    seed: int,
    balance_target: float = BALANCE_TARGET,
) -> VariantPlan:
    """Design the territories of ``scenario`` (close to ``current``), plan them, check the plan.

    When the plan's workload balance misses ``balance_target`` (the estimate of a territory's
    work cannot see every detour), the shares are corrected by the field minutes each manager
    really got and the variant is designed and planned again in a shorter time, up to
    ``RETRIES`` times; if it still misses, once more from a fresh design (``fresh=True``: the
    split in use kept only in the managers' names); the best plan is kept.
    """
    started = time.monotonic()
    params = dataclasses.replace(params, territories="free")  # designed here: every shop is pinned
    retry = dataclasses.replace(params, time_limit_s=params.time_limit_s * RETRY_SHARE)

    def attempt(
        design: Territories, run: PlanParams
    ) -> tuple[tuple[int, float], Territories, Plan, tuple[Violation, ...]]:
        planned = plan_company(design.apply(scenario), run, seed=seed)
        found = tuple(check_plan(scenario, planned))
        return (len(found), _balance(scenario, planned)), design, planned, found

    best = attempt(design_territories(scenario, current=current, seed=seed), params)
    shares = {m.id: float(len(scenario.working_days(m))) for m in scenario.managers}
    latest = best[2]
    several = len(scenario.managers) > 1
    for _ in range(RETRIES if several else 0):
        if best[0][1] <= balance_target:
            break
        per_day = _minutes_per_day(scenario, latest)
        mean = sum(per_day.values()) / len(per_day)
        shares = {mid: shares[mid] * (mean / per_day[mid]) ** SHARE_CORRECTION for mid in shares}
        tried = attempt(design_territories(scenario, current=current, shares=shares, seed=seed), retry)
        latest = tried[2]
        best = min(best, tried, key=lambda t: t[0])
    if current and several and best[0][1] > balance_target:
        # moving borders could not balance it (at the daily minimum of stops a manager's day is
        # long for the far places his territory holds, whatever its share): a fresh design, each
        # territory given to the manager who has most of its shops; more shops change hands
        tried = attempt(design_territories(scenario, current=current, seed=seed, fresh=True), retry)
        best = min(best, tried, key=lambda t: t[0])
    _, territories, plan, violations = best
    return VariantPlan(name, scenario, territories, plan, violations, time.monotonic() - started)


def _minutes_per_day(scenario: Scenario, plan: Plan) -> dict[str, float]:
    managers = plan_kpis(scenario, plan)["managers"]
    return {m.id: max(1.0, managers.get(m.id, {}).get("field_minutes_per_day", {}).get("mean", 1.0))
            for m in scenario.managers}  # fmt: skip


def _balance(scenario: Scenario, plan: Plan) -> float:
    value = plan_kpis(scenario, plan)["total"]["workload_balance"]
    return float(value) if value else float("inf")


def plan_variants(
    variants: Sequence[tuple[str, Scenario]],
    params: PlanParams,
    *,
    current: Mapping[str, str] | None = None,
    seed: int = 0,
    workers: int = 0,
    done: Callable[[VariantPlan], None] | None = None,
) -> list[VariantPlan]:
    """Plan each (name, scenario) variant, several at once on separate cores."""
    one = dataclasses.replace(params, workers=1)
    n = min(workers or os.cpu_count() or 1, len(variants))
    results: list[VariantPlan] = []
    if n <= 1:
        for name, sc in variants:
            results.append(plan_variant(name, sc, one, current, seed))
            if done:
                done(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(plan_variant, name, sc, one, current, seed) for name, sc in variants]
        for f in futures:
            results.append(f.result())
            if done:
                done(results[-1])
    return results


def smallest_team(
    scenario: Scenario,
    params: PlanParams,
    *,
    current: Mapping[str, str] | None = None,
    seed: int = 0,
    workers: int = 0,
    largest: int | None = None,
    done: Callable[[VariantPlan], None] | None = None,
) -> tuple[int | None, list[VariantPlan]]:
    """The smallest team whose plan keeps every rule, and the plans tried on the way.

    Starts one below the estimate so that the answer comes with a plan of one manager
    fewer that breaks a named rule; climbs until a plan keeps every rule (or ``largest``).
    """
    largest = largest or len(scenario.retailers)
    size = max(1, team_estimate(scenario) - 1)
    tried: dict[int, VariantPlan] = {}
    per_round = max(1, min(workers or os.cpu_count() or 1, 4))
    while size <= largest:
        sizes = [k for k in range(size, min(largest, size + per_round - 1) + 1) if k not in tried]
        batch = [(team_name(k), with_team_size(scenario, k)) for k in sizes]
        for k, result in zip(sizes, plan_variants(batch, params, current=current, seed=seed, workers=workers,
                                                  done=done), strict=True):  # fmt: skip
            tried[k] = result
        feasible = sorted(k for k, r in tried.items() if r.feasible)
        if feasible:
            best = feasible[0]
            if best == 1 or best - 1 in tried:
                return best, [tried[k] for k in sorted(tried)]
            size = best - 1  # show that one fewer breaks a rule
            largest = best
            continue
        size = max(tried) + 1
    return None, [tried[k] for k in sorted(tried)]
