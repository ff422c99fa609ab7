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
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor

import numpy as np

from ..model import Manager, Retailer, Scenario
from ..plan import Plan
from .design import design_territories, positions_km, shop_work
from .month import PlanParams, ProgressFn, plan_month
from .territory import split_among_offices

#: Offices known only by their managers' start positions are planned as one problem up to this
#: many shops: one problem lets a shop go to the nearer manager whatever his office (1,500 shops,
#: two starts: 2,815 km as one problem, 2,928 km split). Offices the staff list names are always
#: planned apart: there the split is the organisation's.
ONE_PROBLEM_SHOPS = 2500
#: An office with more shops than this is planned as groups of its managers of about this many
#: shops each (see :func:`territory_groups`).
GROUP_SHOPS = 2500


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
    labels = split_among_offices(
        xy, weights, team_xy, np.random.default_rng(seed), fixed=fixed, shares=days / max(days.sum(), 1.0)
    )
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


def territory_groups(office: Scenario, seed: int = 0) -> list[tuple[str, Scenario]]:
    """A large office as groups of its managers with about :data:`GROUP_SHOPS` shops each.

    The office's territories are designed as for a plan with fixed territories (balanced work,
    compact), and neighbouring territories (in order of direction from the office) are joined
    into groups: a group is a sector of the office's area with its managers, so each manager's
    load is the office design's, not a guess. The search then works on problems of the size it
    plans best, with the memory of one group.
    """
    count = min(len(office.managers), math.ceil(len(office.retailers) / GROUP_SHOPS))
    if count <= 1:
        return [("", office)]
    split = design_territories(office, seed=seed)
    n = len(office.retailers)
    plane, starts = positions_km(dataclasses.replace(office, retailers=(*office.retailers, *office.suspended)))
    xy, spots = plane[:n], plane[n:]
    centre = starts.mean(axis=0)
    position = {r.id: i for i, r in enumerate(office.retailers)}
    mine: dict[str, list[int]] = {m.id: [] for m in office.managers}
    for shop, manager in split.manager_of.items():
        mine[manager].append(position[shop])
    angle = {
        mid: math.atan2(*(xy[rows].mean(axis=0) - centre)[::-1]) if rows else 0.0 for mid, rows in mine.items()
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
    share = {shop: group_of[manager] for shop, manager in split.manager_of.items()}
    if office.suspended:  # not planned this month: with the group whose shops lie nearest
        centres = {name: xy[[position[s] for s, g in share.items() if g == name]].mean(axis=0) for name in teams}
        for r, spot in zip(office.suspended, spots, strict=True):
            share[r.id] = min(centres, key=lambda name: float(np.hypot(*(centres[name] - spot))))
    return _team_scenarios(office, teams, share)


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

    Each office gets the time limit in proportion to its shops, times the offices planned at
    once (so the whole takes about the time limit); a reproducible plan (``params.clock`` off)
    gives each office its share of the limit only, so it is the same whatever runs it.
    ``executor`` runs the offices (a Dask client's, say) ``parallel`` at a time; without it,
    ``params.workers`` processes of this machine do.
    """
    params = params or PlanParams()
    named = any(m.office_id for m in scenario.managers)
    if len(scenario.retailers) <= ONE_PROBLEM_SHOPS and (len(scenario.offices()) < 2 or not named):
        return plan_month(scenario, params, seed=seed, progress=progress)
    say = progress or (lambda stage, frac: None)
    t0 = time.monotonic()
    say("sharing the city among offices", 0.02)
    offices = office_scenarios(scenario, share_among_offices(scenario, seed))
    parts = [
        (f"{office} {group}".strip(), part) for office, sub in offices for group, part in territory_groups(sub, seed)
    ]
    total = sum(len(sub.retailers) for _, sub in parts)
    at_once = min(len(parts), parallel or params.n_workers())
    stretch = at_once if params.clock else 1  # the reproducible share does not depend on the machine
    jobs = [(sub, _office_params(params, stretch * len(sub.retailers) / total), seed) for _, sub in parts]
    names = [office for office, _ in parts]
    plans: dict[str, Plan] = {}
    for i, (office, plan) in enumerate(_run(jobs, names, executor, at_once)):
        plans[office] = plan
        say(f"planned {office}", 0.05 + 0.95 * (i + 1) / len(jobs))
    merged = merge_plans(scenario.name, [plans[o] for o in names], seed)
    return dataclasses.replace(merged, solve_seconds=time.monotonic() - t0)


def _office_params(params: PlanParams, share: float) -> PlanParams:
    """An office's search: its share of the time limit, one process (the offices are the parallel tasks)."""
    return dataclasses.replace(params, time_limit_s=max(1.0, params.time_limit_s * share), workers=1)


def _run(
    jobs: list[tuple[Scenario, PlanParams, int]], names: list[str], executor: Executor | None, at_once: int
) -> Iterable[tuple[str, Plan]]:
    """The offices' plans: in this process, in worker processes, or on ``executor``. The largest
    tasks go first, so the workers are not left waiting for one big office at the end."""
    order = sorted(range(len(jobs)), key=lambda i: (-len(jobs[i][0].retailers), i))
    if (at_once <= 1 and executor is None) or len(jobs) <= 1:
        for i in order:
            yield names[i], plan_task(jobs[i])
        return
    with contextlib.ExitStack() as stack:
        pool = executor or stack.enter_context(ProcessPoolExecutor(max_workers=at_once))
        futures = [(names[i], pool.submit(plan_task, jobs[i])) for i in order]
        for name, fut in futures:
            yield name, fut.result()


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
