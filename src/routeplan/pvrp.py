"""The periodic vehicle routing benchmark of Cordeau, Gendreau & Laporte (1997).

Reading instances and solutions in the published format, and re-evaluating any
solution from scratch: allowed day combinations, vehicles per day, capacity,
route duration, and the cost (Euclidean distance, unrounded, summed over days).
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .read import parse_number
from .solve.lns import FreeDayProblem, FreeDayResult, solve_free_day
from .solve.lns import warm_up as warm_up_engine


@dataclass(frozen=True)
class PvrpInstance:
    """One instance: ``t`` days, ``m`` vehicles a day, customers 1..n (node 0 is the depot)."""

    name: str
    m: int
    n: int
    t: int
    max_duration: tuple[float, ...]  # per day, 0 = no limit
    capacity: tuple[float, ...]  # per day
    x: tuple[float, ...]
    y: tuple[float, ...]
    service: tuple[float, ...]
    demand: tuple[float, ...]
    frequency: tuple[int, ...]
    combinations: tuple[tuple[frozenset[int], ...], ...]  # per node: allowed sets of days (1-based)

    def dist(self, a: int, b: int) -> float:
        return math.hypot(self.x[a] - self.x[b], self.y[a] - self.y[b])


@dataclass(frozen=True)
class PvrpRoute:
    day: int
    vehicle: int
    customers: tuple[int, ...]


def _days(code: int, t: int) -> frozenset[int]:
    """Day k (1-based) is in the combination iff bit (t - k) is set: the leftmost bit is day 1."""
    return frozenset(k for k in range(1, t + 1) if (code >> (t - k)) & 1)


#: Most days a combination code may span (a bit per day) and most vehicles or customers read.
MAX_DAYS = 31
MAX_COUNT = 1_000_000


def _lines(path: Path) -> list[list[str]]:
    """The file's non-blank lines, split on whitespace (with their 1-based numbers lost: blank
    lines do not occur in the published files)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("a folder where a file belongs", file=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a text file", file=str(path)) from None
    return [ln.split() for ln in text.splitlines() if ln.strip()]


def _number(text: str, kind: type[int] | type[float], low: float, high: float, file: str, row: int, what: str) -> float:
    """A finite number in ``low..high``, else one line naming the file, row and field."""
    try:
        value = parse_number(text, kind)
    except ValueError as exc:
        raise InputError(str(exc), file=file, row=row, field=what) from None
    if not low <= value <= high:
        raise InputError(f"{text[:20]} is outside {low:g}..{high:g}", file=file, row=row, field=what)
    return value


def read_instance(path: str | Path) -> PvrpInstance:
    """An instance file: ``type m n t``, then ``t`` lines ``D Q``, then ``n + 1`` node lines."""
    path = Path(path)
    name = str(path)
    lines = _lines(path)
    if not lines or len(lines[0]) < 4:
        raise InputError("first line must be 'type m n t'", file=name, row=1)
    kind, m, n, t = (int(_number(v, int, 0, MAX_COUNT, name, 1, f)) for v, f in zip(lines[0][:4], "kmnt", strict=True))
    if kind != 1:
        raise InputError(f"problem type {kind} is not the periodic VRP (1)", file=name, row=1)
    if not (1 <= t <= MAX_DAYS and m >= 1):
        raise InputError(f"expected at least one vehicle and 1..{MAX_DAYS} days, got m={m}, t={t}", file=name, row=1)
    if len(lines) < 1 + t:
        raise InputError(f"expected {t} day lines 'D Q' after the first", file=name)
    max_d, cap = [], []
    for i in range(t):
        cells = lines[1 + i]
        if len(cells) < 2:
            raise InputError("expected 'D Q' (duration limit, capacity)", file=name, row=2 + i)
        max_d.append(_number(cells[0], float, 0, math.inf, name, 2 + i, "D"))
        cap.append(_number(cells[1], float, 0, math.inf, name, 2 + i, "Q"))
    xs, ys, svc, dem, freq, combos = [], [], [], [], [], []
    for row, cells in enumerate(lines[1 + t : 2 + t + n], start=2 + t):
        if len(cells) < 7 or len(cells) < 7 + int(_number(cells[6], int, 0, 2**t, name, row, "a")):
            raise InputError("expected 'i x y d q f a c1 ... ca'", file=name, row=row)
        xs.append(_number(cells[1], float, -math.inf, math.inf, name, row, "x"))
        ys.append(_number(cells[2], float, -math.inf, math.inf, name, row, "y"))
        svc.append(_number(cells[3], float, 0, math.inf, name, row, "d"))
        dem.append(_number(cells[4], float, 0, math.inf, name, row, "q"))
        freq.append(int(_number(cells[5], int, 0, t, name, row, "f")))
        codes = [int(_number(c, int, 0, 2**t - 1, name, row, "c")) for c in cells[7 : 7 + int(cells[6])]]
        combos.append(tuple(_days(c, t) for c in codes))
    if len(xs) != n + 1:
        raise InputError(f"expected {n + 1} node lines, found {len(xs)}", file=name)
    return PvrpInstance(path.stem, m, n, t, tuple(max_d), tuple(cap), tuple(xs), tuple(ys), tuple(svc),
                        tuple(dem), tuple(freq), tuple(combos))  # fmt: skip


def read_solution(path: str | Path) -> tuple[float, list[PvrpRoute]]:
    """``(printed cost, routes)`` of a solution file: cost, then ``day vehicle duration load 0 c1 ... 0``."""
    path = Path(path)
    name = str(path)
    lines = _lines(path)
    if not lines:
        raise InputError("empty: expected the cost on the first line", file=name)
    cost = _number(lines[0][0], float, -math.inf, math.inf, name, 1, "cost")
    routes = []
    for row, cells in enumerate(lines[1:], start=2):
        if len(cells) < 4:
            raise InputError("expected 'day vehicle duration load 0 c1 ... 0'", file=name, row=row)
        day = int(_number(cells[0], int, -MAX_COUNT, MAX_COUNT, name, row, "day"))
        vehicle = int(_number(cells[1], int, -MAX_COUNT, MAX_COUNT, name, row, "vehicle"))
        nodes = [int(_number(v, int, 0, MAX_COUNT, name, row, "customer")) for v in cells[4:]]
        routes.append(PvrpRoute(day, vehicle, tuple(c for c in nodes if c != 0)))
    return cost, routes


def route_cost(inst: PvrpInstance, customers: tuple[int, ...]) -> float:
    path = (0, *customers, 0)
    return sum(inst.dist(a, b) for a, b in itertools.pairwise(path))


def evaluate(inst: PvrpInstance, routes: list[PvrpRoute]) -> tuple[float, list[str]]:
    """Total cost and every broken rule of a solution."""
    problems: list[str] = []
    cost = 0.0
    per_day: dict[int, int] = {}
    days_of: dict[int, set[int]] = {i: set() for i in range(1, inst.n + 1)}
    for r in routes:
        if not 1 <= r.day <= inst.t:
            problems.append(f"route on day {r.day}: the horizon is 1..{inst.t}")
            continue
        unknown = [c for c in r.customers if not 1 <= c <= inst.n]
        if unknown:  # neither its cost nor its load can be told
            problems += [f"day {r.day}: unknown customer {c}" for c in unknown]
            continue
        per_day[r.day] = per_day.get(r.day, 0) + 1
        cost += route_cost(inst, r.customers)
        problems += _route_problems(inst, r, days_of)
    _serve_depot_customers(inst, days_of, per_day)
    for day, count in sorted(per_day.items()):
        if count > inst.m:
            problems.append(f"day {day}: {count} routes, fleet is {inst.m}")
    for c, days in days_of.items():
        allowed = inst.combinations[c]
        if frozenset(days) in allowed or (inst.frequency[c] == 0 and not days):
            continue
        problems.append(f"customer {c} served on days {sorted(days)}, not an allowed combination")
    return cost, problems


def _route_problems(inst: PvrpInstance, r: PvrpRoute, days_of: dict[int, set[int]]) -> list[str]:
    """One route's load, duration and customers (each customer's days are recorded in ``days_of``)."""
    problems: list[str] = []
    load = sum(inst.demand[c] for c in r.customers)
    if load > inst.capacity[r.day - 1] + 1e-6:
        problems.append(f"day {r.day} vehicle {r.vehicle}: load {load:g} > capacity {inst.capacity[r.day - 1]:g}")
    limit = inst.max_duration[r.day - 1]
    duration = route_cost(inst, r.customers) + sum(inst.service[c] for c in r.customers)
    if limit > 0 and duration > limit + 1e-6:
        problems.append(f"day {r.day} vehicle {r.vehicle}: duration {duration:.2f} > {limit:g}")
    for c in r.customers:
        if r.day in days_of[c]:
            problems.append(f"customer {c} visited twice on day {r.day}")
        else:
            days_of[c].add(r.day)
    return problems


def _serve_depot_customers(inst: PvrpInstance, days_of: dict[int, set[int]], per_day: dict[int, int]) -> None:
    """Quirk of p01 (and its twin p03): a customer on the depot itself, with a full vehicle's
    demand, is left out of the published solutions; it takes a spare vehicle at zero distance."""
    for c, days in days_of.items():
        on_depot = inst.x[c] == inst.x[0] and inst.y[c] == inst.y[0]
        if days or not on_depot:
            continue
        for combo in inst.combinations[c]:
            if all(per_day.get(d, 0) < inst.m and inst.demand[c] <= inst.capacity[d - 1] for d in combo):
                days.update(combo)
                for d in combo:
                    per_day[d] = per_day.get(d, 0) + 1
                break


def write_solution(path: str | Path, inst: PvrpInstance, routes: list[PvrpRoute]) -> None:
    """Write routes in the reference format (cost on the first line)."""
    from .write import atomic_output

    cost, _ = evaluate(inst, routes)
    lines = [f"{cost:.2f}"]
    for r in sorted(routes, key=lambda r: (r.day, r.vehicle)):
        duration = route_cost(inst, r.customers) + sum(inst.service[c] for c in r.customers)
        load = sum(inst.demand[c] for c in r.customers)
        nodes = " ".join(str(c) for c in (0, *r.customers, 0))
        lines.append(f"{r.day} {r.vehicle} {duration:.2f} {load:g} {nodes}")
    target = Path(path)
    atomic_output(target.parent, {target.name: lambda p: p.write_text("\n".join(lines) + "\n")})


def free_day_problem(inst: PvrpInstance) -> FreeDayProblem:
    """The instance in the engine's free-day form: a group of ``m`` routes per day.

    Customers 1..n become nodes 0..n-1 and the depot node n; a customer with no
    required visit (``f = 0``) may also be left out (an empty pattern).
    """
    n, m, t = inst.n, inst.m, inst.t
    order = [*range(1, n + 1), 0]
    xy = np.column_stack([np.array(inst.x)[order], np.array(inst.y)[order]])
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    service = np.array(inst.service)[order]
    demand = np.array(inst.demand)[order]
    n_routes = m * t
    limits = np.zeros((n_routes, 5))
    for d in range(t):
        fleet = slice(d * m, (d + 1) * m)
        limits[fleet, 0] = inst.max_duration[d] if inst.max_duration[d] > 0 else np.inf
        limits[fleet, 3] = np.inf
        limits[fleet, 4] = inst.capacity[d]
    group_routes = np.arange(n_routes, dtype=np.int64).reshape(t, m)
    combos = [
        [sorted(d - 1 for d in combo) for combo in inst.combinations[c]] + ([[]] if inst.frequency[c] == 0 else [])
        for c in range(1, n + 1)
    ]
    width_p = max(len(rows) for rows in combos)
    width_k = max(1, max(len(days) for rows in combos for days in rows))
    patterns = np.full((n, width_p, width_k), -1, dtype=np.int64)
    for c, rows in enumerate(combos):
        for k, days in enumerate(rows):
            patterns[c, k, : len(days)] = days
    depot = np.full(n_routes, n, dtype=np.int64)
    return FreeDayProblem(
        dist, dist, service, demand, depot, depot.copy(), limits, group_routes, patterns,
        np.array([len(rows) for rows in combos], dtype=np.int64), np.zeros((n, width_p)),
    )  # fmt: skip


def _solve_one(inst: PvrpInstance, seed: int, time_limit_s: float, iterations: int | None) -> FreeDayResult:
    warm_up_engine()  # compiling (or loading) the engine does not count against the time limit
    return solve_free_day(free_day_problem(inst), seed=seed, time_limit_s=time_limit_s, iterations=iterations)


def solve(
    inst: PvrpInstance,
    *,
    time_limit_s: float = 60.0,
    seed: int = 0,
    workers: int = 0,
    iterations: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[list[PvrpRoute], FreeDayResult]:
    """Independent searches, one per core (different seeds); the best feasible plan wins.

    ``progress(share of the time limit used)`` is called about twice a second.
    """
    n_workers = workers if workers > 0 else (os.cpu_count() or 1)
    seeds = [seed * 1000 + i for i in range(n_workers)]
    if n_workers == 1 and progress is None:
        results = [_solve_one(inst, seeds[0], time_limit_s, iterations)]
    else:
        started = time.monotonic()
        with ProcessPoolExecutor(n_workers) as pool:
            futures = [pool.submit(_solve_one, inst, s, time_limit_s, iterations) for s in seeds]
            while wait(futures, timeout=0.5).not_done:
                if progress is not None:
                    progress(min(1.0, (time.monotonic() - started) / time_limit_s))
            results = [f.result() for f in futures]
    best = min(results, key=lambda r: (not r.feasible, r.cost))
    routes = []
    for d in range(inst.t):
        vehicle = 0
        for v in range(inst.m):
            stops = best.routes[d * inst.m + v]
            if stops:
                vehicle += 1
                routes.append(PvrpRoute(d + 1, vehicle, tuple(c + 1 for c in stops)))
    return routes, best
