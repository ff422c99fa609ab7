"""A city company: its shops shared among its market offices, then each office planned alone.

A market office plans a few thousand shops; a city company has tens of thousands under
several offices. Planning them as one problem would need travel matrices over every shop
of the city (30,000 shops: two 7 GB arrays) and patterns for every manager of the city at
every shop. The company step instead shares the shops among the offices (balanced by each
office's team, compact around the office, pins kept: a shop pinned to an office, to a manager
or to a route goes with that office), and each office's month is planned as today, with
matrices over its own shops only; an office larger than :data:`GROUP_SHOPS` shops is planned
as territory groups of its managers. The offices and groups are independent tasks: run one
after the other, in worker processes, or on a Dask cluster (``executor``); the plan is the same
for a seed whichever runs them when the plan is reproducible (round counts, not the clock).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import Any

import numpy as np

from ..check import check_plan
from ..geo import local_xy_km, nearest_among
from ..model import Manager, Retailer, Scenario
from ..plan import Plan, Route
from ..routebook import RouteBook, changes, memberships
from .continuation import continuable, continue_month, continued_calendar
from .design import design_territories, positions_km, shop_work
from .month import PlanParams, ProgressFn, plan_month
from .territory import nearest_anchors, office_pull, split_among_offices

#: Offices known only by their managers' start positions are planned as one problem up to this
#: many shops: one problem lets a shop go to the nearer manager whatever his office (1,500 shops,
#: two starts: 2,815 km as one problem, 2,928 km split). Offices the staff list names are always
#: planned apart: there the split is the organisation's.
ONE_PROBLEM_SHOPS = 2500
#: An office with more shops than this is planned as groups of its managers of about this many
#: shops each (see :func:`territory_groups`).
GROUP_SHOPS = 2500
#: An office or group whose days run past the day limit hands this share of its estimated work
#: (its shops nearest to a neighbouring part that keeps the limit) to that part, and both are
#: planned again; at most :data:`HANDOVER_ROUNDS` times.
HANDOVER_SHARE = 0.02
HANDOVER_ROUNDS = 3

#: a task of :func:`_run`: an office's (or group's) scenario, then what its task function needs
_Job = tuple[Any, ...]


def share_among_offices(scenario: Scenario, seed: int = 0) -> dict[str, str]:
    """Each shop's office (suspended shops too): compact areas, each office's share of the work
    in proportion to its team's working days, pins kept (an office pin, or the office of the
    manager a shop is pinned or locked to)."""
    of = scenario.office_of_manager()

    def pinned(r: Retailer) -> str | None:
        owner = scenario.owner(r)
        return r.office_id if r.office_id is not None else (of[owner] if owner else None)

    return share_among_teams(scenario, scenario.offices(), pinned, seed)


def share_among_teams(
    scenario: Scenario, teams: dict[str, tuple[Manager, ...]], pinned: Callable[[Retailer], str | None], seed: int
) -> dict[str, str]:
    """Each shop's team: compact areas around the teams' start positions, each team's share of
    the work in proportion to its working days, ``pinned`` shops where they are pinned."""
    names = list(teams)
    shops = (*scenario.retailers, *scenario.suspended)
    if len(names) == 1:
        return {r.id: names[0] for r in shops}
    everyone = dataclasses.replace(scenario, retailers=shops, suspended=())
    xy, starts = positions_km(everyone)
    index = {m.id: i for i, m in enumerate(scenario.managers)}
    team_xy = np.array([starts[[index[m.id] for m in team]].mean(axis=0) for team in teams.values()])
    days = np.array([sum(len(scenario.working_days(m)) for m in team) for team in teams.values()], dtype=float)
    weights = np.zeros(len(shops))  # suspended shops cost no work this month
    weights[: len(scenario.retailers)] = shop_work(scenario)
    position = {name: j for j, name in enumerate(names)}
    fixed = np.array([position.get(pinned(r) or "", -1) for r in shops], dtype=np.int64)
    shares = days / max(days.sum(), 1.0)
    if office_pull(team_xy) > 0:  # offices apart: each shop as near its office as the balance allows
        labels = nearest_anchors(xy, weights, team_xy, fixed=fixed, shares=shares)
    else:  # teams at one place: compact areas of equal work
        labels = split_among_offices(xy, weights, team_xy, np.random.default_rng(seed), fixed=fixed, shares=shares)
    return {r.id: names[int(j)] for r, j in zip(shops, labels, strict=True)}


def office_scenarios(scenario: Scenario, share: dict[str, str]) -> list[tuple[str, Scenario]]:
    """One scenario per office with shops: its team, its shops (an office without shops has no month to plan)."""
    return _team_scenarios(scenario, scenario.offices(), share)


def _team_scenarios(
    scenario: Scenario, teams: dict[str, tuple[Manager, ...]], share: dict[str, str]
) -> list[tuple[str, Scenario]]:
    out = []
    for name, team in teams.items():
        mine = tuple(r for r in scenario.retailers if share[r.id] == name)
        waiting = tuple(r for r in scenario.suspended if share[r.id] == name)
        if mine:
            sub = dataclasses.replace(scenario, name=f"{scenario.name}: {name}", managers=team, retailers=mine,
                                      suspended=waiting)  # fmt: skip
            out.append((name, sub))
    return out


def territory_groups(office: Scenario, seed: int = 0, shape: str = "auto") -> list[tuple[str, Scenario]]:
    """A large office as groups of its managers with about :data:`GROUP_SHOPS` shops each.

    The office's territories are designed as for a plan with fixed territories (balanced work,
    compact or wedges by ``shape``), and neighbouring territories (in order of direction from
    the office) are joined into groups: a group is a sector of the office's area with its
    managers, so each manager's load is the office design's, not a guess. The search then works
    on problems of the size it plans best, with the memory of one group.
    """
    return shaped_groups(office, seed, shape)[0]


def shaped_groups(office: Scenario, seed: int = 0, shape: str = "auto") -> tuple[list[tuple[str, Scenario]], str]:
    """:func:`territory_groups`, and the territory shape its groups are planned in: the shape the
    office's design took (``shape`` itself for an office planned whole).

    A group is a sector of the office's design, and its territories keep that design's shape. Left
    to choose, a group would take it from the route estimate of ``areas.py``, made on the group's
    own shops, which misjudges such a sector: on a 30,000-shop company it chose compact
    territories for 3 of 15 groups whose wedge plans were 2-6% shorter (wedges were shorter in
    14 of the 15, and in all 6 groups of a 12,000-shop one).
    """
    if _group_count(office) <= 1:
        return [("", office)], shape
    design = design_territories(office, seed=seed, shape=shape)
    return _sector_groups(office, design.manager_of), "wedges" if design.wedges else "compact"


def _group_count(office: Scenario) -> int:
    return min(len(office.managers), math.ceil(len(office.retailers) / GROUP_SHOPS))


def _sector_groups(office: Scenario, manager_of: Mapping[str, str]) -> list[tuple[str, Scenario]]:
    """The office's managers joined into :func:`_group_count` sectors of neighbouring territories
    (``manager_of``: the shops' managers, where known), each group with its managers' shops; a
    shop without a manager of the office (new, or its manager left) goes with its nearest shop
    that has one."""
    count = _group_count(office)
    shops = (*office.retailers, *office.suspended)
    plane, starts = positions_km(dataclasses.replace(office, retailers=shops, suspended=()))
    centre = starts.mean(axis=0)
    index = office.manager_index
    mine: dict[str, list[int]] = {m.id: [] for m in office.managers}
    for i, r in enumerate(office.retailers):
        if manager_of.get(r.id) in index:
            mine[manager_of[r.id]].append(i)
    angle = {
        mid: math.atan2(*(plane[rows].mean(axis=0) - centre)[::-1]) if rows else 0.0 for mid, rows in mine.items()
    }  # fmt: skip
    order = sorted(office.managers, key=lambda m: (angle[m.id], m.id))
    sizes = np.cumsum([len(mine[m.id]) for m in order])
    cut = np.minimum(count - 1, (sizes - 1) * count // max(int(sizes[-1]), 1))
    teams: dict[str, tuple[Manager, ...]] = {}
    for j in range(count):
        chosen = {m.id for m, c in zip(order, cut, strict=True) if c == j}
        if chosen:
            teams[f"group {len(teams) + 1}"] = tuple(m for m in office.managers if m.id in chosen)
    group_of = {m.id: name for name, team in teams.items() for m in team}
    share = {r.id: group_of[manager_of[r.id]] for r in shops if manager_of.get(r.id) in group_of}
    return _team_scenarios(office, teams, _with_nearest(shops, plane, share))


def _with_nearest(shops: tuple[Retailer, ...], plane: np.ndarray, share: dict[str, str]) -> dict[str, str]:
    """``share`` completed: a shop it does not name goes where its nearest named shop goes."""
    known = [i for i, r in enumerate(shops) if r.id in share]
    rest = [i for i, r in enumerate(shops) if r.id not in share]
    if not rest:
        return share
    if not known:
        raise ValueError("no shop to take the others' team from")
    near = nearest_among(plane[rest], plane[known])
    return {**share, **{shops[i].id: share[shops[known[j]].id] for i, j in zip(rest, near, strict=True)}}


def plan_task(job: tuple[Scenario, PlanParams, int]) -> Plan:
    """One office's (or territory group's) month: the task a worker process or a Dask worker runs."""
    sub, params, seed = job
    return plan_month(sub, params, seed=seed)


def plan_company(
    scenario: Scenario,
    params: PlanParams | None = None,
    *,
    seed: int = 0,
    progress: ProgressFn | None = None,
    executor: Executor | None = None,
    parallel: int | None = None,
) -> Plan:
    """Plan the month of every office of the scenario apart (one office, or a small company whose
    offices are only start positions: exactly :func:`plan_month`).

    With the clock on, the offices (and groups) share the time limit by worker queues, and
    each stops by it on a slow machine (:func:`_plan_parts`); a reproducible plan
    (``params.clock`` off) gives each its share of the limit only, so it is the same whatever
    runs it.
    ``executor`` runs the offices (a Dask client's, say) ``parallel`` at a time; without it,
    ``params.workers`` processes of this machine do.
    """
    params = params or PlanParams()
    if _one_problem(scenario):
        return plan_month(scenario, params, seed=seed, progress=progress)
    say = progress or (lambda stage, frac: None)
    t0 = time.monotonic()
    say("sharing the city among offices", 0.02)
    parts: list[tuple[str, Scenario]] = []
    shape_of: dict[str, str] = {}  # part scenario's name -> the territory shape it is planned in
    for office, sub in office_scenarios(scenario, share_among_offices(scenario, seed)):
        groups, shape = shaped_groups(sub, seed, params.territory_shape)
        parts += [(f"{office} {group}".strip(), part) for group, part in groups]
        shape_of |= {part.name: shape for _, part in groups}

    def job(sub: Scenario, own: PlanParams) -> _Job:
        return sub, dataclasses.replace(own, territory_shape=shape_of.get(sub.name, own.territory_shape)), seed

    parts, plans, _ = _plan_parts(parts, params, job, plan_task, executor, parallel, say, t0)
    merged = merge_plans(scenario.name, [plans[name] for name, _ in parts], seed)
    return dataclasses.replace(merged, solve_seconds=time.monotonic() - t0)


def continue_company(
    scenario: Scenario,
    previous: RouteBook,
    params: PlanParams | None = None,
    *,
    seed: int = 0,
    progress: ProgressFn | None = None,
    executor: Executor | None = None,
    parallel: int | None = None,
) -> Plan:
    """Continue every office's (and territory group's) part of the previous route book apart
    (where :func:`plan_company` plans one problem: exactly :func:`continue_month`).

    A shop stays in the office and group of its manager in the book (a pin says otherwise);
    new shops and those of managers who left go with their nearest shop that stays, and an
    office the book has no shops for takes what the company split gives it. Each part is then
    continued from its managers' routes as a market office's month is, with the memory of one
    part; the changes are reported against the whole book.
    """
    params = params or PlanParams()
    if _one_problem(scenario):
        return continue_month(scenario, previous, params, seed=seed, progress=progress)
    continuable(scenario, previous)
    scenario = continued_calendar(scenario, previous)
    say = progress or (lambda stage, frac: None)
    t0 = time.monotonic()
    say("sharing the city among offices", 0.02)
    kept = _book_managers(scenario, previous)
    book = memberships(previous.routes)
    left = {shop: m.manager_id for shop, m in book.items() if shop not in kept}
    share = _book_offices(scenario, kept, seed, left)
    of = scenario.office_of_manager()
    moved = {shop: f"to office {share[shop]}" for shop, manager in kept.items() if of[manager] != share[shop]}
    parts = [
        (f"{office} {group}".strip(), part)
        for office, sub in office_scenarios(scenario, share)
        for group, part in _continued_groups(sub, kept, seed)
    ]
    staff = {m.id for m in scenario.managers}
    parts, plans, handed = _plan_parts(
        parts, params, lambda sub, own: (sub, _book_part(previous, sub, staff), own, seed), continue_task, executor,
        parallel, say, t0,
    )  # fmt: skip
    names = [name for name, _ in parts]
    merged = merge_plans(scenario.name, [plans[name] for name in names], seed)
    why = {c.retailer_id: c.why for name in names for c in plans[name].changes if c.why} | moved | handed
    diff = changes(previous.routes, merged.routes, why, previous.frequency, scenario.frequencies())
    return dataclasses.replace(merged, changes=tuple(diff), solve_seconds=time.monotonic() - t0)


def continue_task(job: tuple[Scenario, RouteBook, PlanParams, int]) -> Plan:
    """One office's (or group's) continued month: the task a worker runs (a part with no shop of
    the book, a new office, is planned fresh)."""
    sub, book, params, seed = job
    ids = {r.id for r in (*sub.retailers, *sub.suspended)}
    if not ids & memberships(book.routes).keys():
        return plan_month(sub, params, seed=seed)
    return continue_month(sub, book, params, seed=seed)


def _one_problem(scenario: Scenario) -> bool:
    named = any(m.office_id for m in scenario.managers)
    return len(scenario.retailers) <= ONE_PROBLEM_SHOPS and (len(scenario.offices()) < 2 or not named)


def _book_managers(scenario: Scenario, previous: RouteBook) -> dict[str, str]:
    """Each shop's manager where it has one now: its pin, else its manager in the book if he stays."""
    book = memberships(previous.routes)
    staff = scenario.manager_index
    out: dict[str, str] = {}
    for r in (*scenario.retailers, *scenario.suspended):
        owner = scenario.owner(r) or (book[r.id].manager_id if r.id in book else None)
        if owner in staff:
            out[r.id] = owner
    return out


def _continued_groups(office: Scenario, manager_of: Mapping[str, str], seed: int) -> list[tuple[str, Scenario]]:
    """A large office's groups for a continued month: its managers' sectors as the book has them
    (a new office: as a fresh plan makes them)."""
    if _group_count(office) <= 1:
        return [("", office)]
    team = office.manager_index
    if not any(manager_of.get(r.id) in team for r in office.retailers):
        return territory_groups(office, seed)
    return _sector_groups(office, manager_of)


def _book_offices(
    scenario: Scenario, manager_of: Mapping[str, str], seed: int, left: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Each shop's office for a continued month: its office pin, else its manager's office, else
    (new shops, shops whose manager left) its nearest placed shop's; the shops of a manager who
    left (``left``: shop -> him) stay together, in the office most of them border; an office
    with no shop so far (new) takes the shops the company split would give it."""
    of = scenario.office_of_manager()
    shops = (*scenario.retailers, *scenario.suspended)
    share: dict[str, str] = {}
    for r in shops:
        if r.office_id is not None:
            share[r.id] = r.office_id
        elif r.id in manager_of:
            share[r.id] = of[manager_of[r.id]]
    empty = set(scenario.offices()) - set(share.values())
    if empty or not share:
        fresh = share_among_offices(scenario, seed)
        free = {r.id for r in shops if r.office_id is None and scenario.owner(r) is None}
        share.update({s: o for s, o in fresh.items() if o in empty and s in free})
    done = _with_nearest(shops, _plane(shops), share)
    orphans = {shop: leaver for shop, leaver in (left or {}).items() if shop in done and shop not in share}
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for shop, leaver in orphans.items():
        votes[leaver][done[shop]] += 1
    for shop, leaver in orphans.items():
        done[shop] = max(sorted(votes[leaver]), key=votes[leaver].__getitem__)
    return done


def _book_part(previous: RouteBook, sub: Scenario, staff: set[str]) -> RouteBook:
    """The routes of the book that belong to ``sub``: its managers', and those of managers who
    left (``staff``: who stays) that hold some of its shops (their hand-over is the part's)."""
    team = {m.id for m in sub.managers}
    ids = {r.id for r in (*sub.retailers, *sub.suspended)}

    def mine(route: Route) -> bool:
        return route.manager_id in team or (route.manager_id not in staff and not ids.isdisjoint(route.order))

    return dataclasses.replace(previous, routes=tuple(r for r in previous.routes if mine(r)), km=None)


def _plan_parts(
    parts: list[tuple[str, Scenario]],
    params: PlanParams,
    job: Callable[[Scenario, PlanParams], _Job],
    task: Callable[[Any], Plan],
    executor: Executor | None,
    parallel: int | None,
    say: ProgressFn,
    t0: float,
) -> tuple[list[tuple[str, Scenario]], dict[str, Plan], dict[str, str]]:
    """Each part planned (``job`` makes a part's task for ``task`` from its scenario and its own
    search parameters), then the long days relieved (:func:`_relieve`): the parts as they end,
    their plans by name, and why each handed shop moved. The company's solve started at ``t0``;
    the parts end ``params.shares.company_join`` of the limit before it ends (their deadline),
    which is kept for checking and joining their plans.

    The parts go to ``at_once`` queues, largest first, each to the queue with the fewest shops
    so far (:func:`hand_out`), and a queue's parts run one after the other. With the clock on,
    a part's search is sized for the time limit in proportion to its shops over its queue's
    (a part alone on its worker: the whole limit; planned again after a hand-over: as large as
    the first time), whatever the clock says, so a fast machine makes the same plan every
    time; as it starts, its clock (``clock_share``, the safety net) is cut to the time left
    until ``deadline`` in the same proportion over the shops its queue still holds, so on a
    slow machine every queue still ends by the deadline (the split among offices before took
    some of it). A reproducible plan (``params.clock`` off)
    gives each part its share of the limit only, so it is the same whatever runs it.
    """
    deadline = params.deadline(t0, 1 - params.shares.company_join)
    sizes = [len(sub.retailers) for _, sub in parts]
    total = sum(sizes)
    at_once = min(len(parts), parallel or params.n_workers())
    # each part's share of the limit per shop: its queue's in the first hand-out, also when a
    # hand-over plans it again (the search then is as large as the first time)
    per_shop = {parts[i][0]: 1 / max(1, sum(sizes[j] for j in q)) for q in hand_out(sizes, at_once) for i in q}

    def job_at(name: str, sub: Scenario, queued: int) -> _Job:
        if not params.clock:  # the reproducible share does not depend on the machine
            return job(sub, _office_params(params, len(sub.retailers) / total))
        share = per_shop[name] * len(sub.retailers)
        left = max(1.0, deadline - time.monotonic()) * len(sub.retailers) / max(1, queued)
        return job(sub, _office_params(params, share, min(1.0, left / max(1.0, params.time_limit_s * share))))

    def plan(some: list[tuple[str, Scenario]], report: ProgressFn | None) -> dict[str, Plan]:
        plans: dict[str, Plan] = {}
        for i, (name, done) in enumerate(_run(some, job_at, executor, at_once, task)):
            plans[name] = done
            if report is not None:
                report(f"planned {name}", 0.05 + 0.9 * (i + 1) / len(some))
        return plans

    plans = plan(parts, say)
    parts, handed = _relieve(parts, plans, lambda some: plan(some, None), deadline, at_once)
    return parts, plans, handed


def hand_out(sizes: Sequence[int], queues: int) -> list[list[int]]:
    """The tasks (by index) of each of ``queues`` queues: largest first, each to the queue with the
    fewest shops so far (ties: the first queue, the first task)."""
    out: list[list[int]] = [[] for _ in range(max(1, queues))]
    loads = [0] * len(out)
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        q = loads.index(min(loads))
        out[q].append(i)
        loads[q] += sizes[i]
    return out


def _relieve(
    parts: list[tuple[str, Scenario]],
    plans: dict[str, Plan],
    replan: Callable[[list[tuple[str, Scenario]]], dict[str, Plan]],
    deadline: float,
    at_once: int = 1,
) -> tuple[list[tuple[str, Scenario]], dict[str, str]]:
    """Parts whose days run past the day limit hand some border shops to a neighbouring part
    that keeps it, and both are planned again (``plans`` updated), up to :data:`HANDOVER_ROUNDS`
    times, each round only when it can end by ``deadline`` (its parts planned ``at_once`` at a
    time take what they took before): a full office or group can otherwise not pass work across
    its line. A hand-over whose two parts then break more rules than before is undone. Returns
    the parts as they end and why each handed shop moved."""
    parts = list(parts)
    handed: dict[str, str] = {}
    checked = time.monotonic()
    found = {name: _check(sub, plans[name]) for name, sub in parts}  # each plan checked once
    checking = time.monotonic() - checked
    for _ in range(HANDOVER_ROUNDS):
        long_days = {name for name, (long, _) in found.items() if long}
        if not long_days:
            break
        trial = dict(parts)
        pairs: list[tuple[str, str, dict[str, str]]] = []
        touched: set[str] = set()
        for name in sorted(long_days):
            if name in touched:
                continue
            to = _receiver(list(trial.items()), name, long_days | touched)
            if to is None:
                continue
            giver, taker, shops = _hand_over(trial[name], trial[to])
            if shops:
                trial[name], trial[to] = giver, taker
                pairs.append((name, to, {shop: f"to {to}: relieves the long days of {name}" for shop in shops}))
                touched |= {name, to}
        # the round's parts, ``at_once`` at a time, as long as the slowest took, then a check again
        batches = -(-len(touched) // max(1, at_once))
        seconds = batches * max((plans[name].solve_seconds for name in touched), default=0.0) + 2 * checking
        if not touched or time.monotonic() + seconds > deadline:
            break
        now = dict(parts)
        again = replan([(name, trial[name]) for name, _ in parts if name in touched])
        kept = False
        for name, to, why in pairs:
            after = {n: _check(trial[n], again[n]) for n in (name, to)}
            if sum(broken for _, broken in after.values()) < found[name][1] + found[to][1]:
                now[name], now[to] = trial[name], trial[to]
                plans[name], plans[to] = again[name], again[to]
                found.update(after)
                handed.update(why)
                kept = True
        parts = [(name, now[name]) for name, _ in parts]
        if not kept:
            break
    return parts, handed


def _check(sub: Scenario, plan: Plan) -> tuple[int, int]:
    """The part's plan as the checker finds it: days past the day limit, and rules broken."""
    found = check_plan(sub, plan)
    return sum(1 for v in found if v.code == "max-day"), len(found)


def _receiver(parts: list[tuple[str, Scenario]], name: str, busy: set[str]) -> str | None:
    """The part outside ``busy`` that borders part ``name`` most (holds the nearest other shop
    of most of its shops)."""
    mine = next(sub for n, sub in parts if n == name).retailers
    others = [(n, r) for n, sub in parts if n not in busy and n != name for r in sub.retailers]
    if not mine or not others:
        return None
    plane = _plane([*mine, *(r for _, r in others)])
    near = nearest_among(plane[: len(mine)], plane[len(mine) :])
    votes = Counter(others[int(j)][0] for j in near)
    return min(votes, key=lambda n: (-votes[n], n))


def _hand_over(giver: Scenario, taker: Scenario) -> tuple[Scenario, Scenario, list[str]]:
    """``giver`` less its free shops nearest to ``taker`` (about :data:`HANDOVER_SHARE` of its
    work), ``taker`` with them, and their ids. Pinned and locked shops stay."""
    shops, theirs = giver.retailers, taker.retailers
    free = [i for i, r in enumerate(shops) if r.office_id is None and giver.owner(r) is None]
    if not free or not theirs:
        return giver, taker, []
    plane = _plane([*shops, *theirs])
    mine, other = plane[: len(shops)], plane[len(shops) :]
    gap = np.hypot(*(mine[free] - other[nearest_among(mine[free], other)]).T)
    work = shop_work(giver)
    chosen: list[int] = []
    for k in np.argsort(gap, kind="stable"):
        if work[chosen].sum() >= HANDOVER_SHARE * work.sum():
            break
        chosen.append(free[int(k)])
    moved = {shops[i].id for i in chosen}
    giver = dataclasses.replace(giver, retailers=tuple(r for r in shops if r.id not in moved))
    taker = dataclasses.replace(taker, retailers=(*theirs, *(shops[i] for i in chosen)))
    return giver, taker, [shops[i].id for i in chosen]


def _plane(shops: Sequence[Retailer]) -> np.ndarray:
    return local_xy_km(np.array([r.location.lat for r in shops]), np.array([r.location.lon for r in shops]))


def _office_params(params: PlanParams, share: float, clock_share: float = 1.0) -> PlanParams:
    """An office's search: its share of the time limit, the clock's share of that, one process
    (the offices are the parallel tasks)."""
    return dataclasses.replace(
        params, time_limit_s=max(1.0, params.time_limit_s * share), clock_share=max(1e-3, clock_share), workers=1
    )


def _run(
    parts: Sequence[tuple[str, Scenario]],
    job_at: Callable[[str, Scenario, int], _Job],
    executor: Executor | None,
    at_once: int,
    task: Callable[[Any], Plan] = plan_task,
) -> Iterable[tuple[str, Plan]]:
    """The parts' plans by name, as they end: in this process, in worker processes, or on
    ``executor``, in the queues of :func:`hand_out`. A part's task is made as its queue reaches
    it (``job_at(name, scenario, shops its queue still holds, itself included)``), so its clock
    can be what the queue has left."""
    sizes = [len(sub.retailers) for _, sub in parts]
    local = executor is None and (at_once <= 1 or len(parts) <= 1)
    queues = hand_out(sizes, 1 if local else at_once)
    queued = [sum(sizes[i] for i in q) for q in queues]

    def next_job(q: int) -> tuple[int, _Job]:
        i = queues[q].pop(0)
        made = job_at(*parts[i], queued[q])
        queued[q] -= sizes[i]
        return i, made

    if local:
        while queues[0]:
            i, made = next_job(0)
            yield parts[i][0], task(made)
        return
    with contextlib.ExitStack() as stack:
        pool = executor or stack.enter_context(ProcessPoolExecutor(max_workers=len(queues)))
        running: dict[Future[Plan], tuple[int, int]] = {}

        def start(q: int) -> None:
            i, made = next_job(q)
            running[pool.submit(task, made)] = (q, i)

        for q in range(len(queues)):
            if queues[q]:
                start(q)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: running[f][1]):
                q, i = running.pop(fut)
                if queues[q]:
                    start(q)  # the queue's next part starts before this one's plan is handed on
                yield parts[i][0], fut.result()


def merge_plans(name: str, plans: list[Plan], seed: int) -> Plan:
    """The offices' plans as one plan of the company."""
    return Plan(
        scenario_name=name,
        visits=tuple(v for p in plans for v in p.visits),
        calls=tuple(c for p in plans for c in p.calls),
        routes=tuple(r for p in plans for r in p.routes),
        seed=seed,
        notes=tuple(note for p in plans for note in p.notes),
    )
