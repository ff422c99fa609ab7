"""The compiled ruin-and-recreate on the engine's own problem (fixed routes and free days)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routeplan.solve.lns import fixed_routes, solve_free_day
from routeplan.solve.search import PeriodicSearch, Problem, RouteSpec


def _fixed_route_problem(seed: int, n: int, n_routes: int) -> Problem:
    """n customers and one office (node n); each customer may ride one of three random route sets."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n + 1, 2))
    dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2))
    patterns = []
    for _ in range(n):
        rows = [sorted(rng.choice(n_routes, int(rng.integers(1, min(3, n_routes) + 1)), replace=False))
                for _ in range(3)]  # fmt: skip
        arr = np.full((3, max(len(r) for r in rows)), -1, dtype=np.int64)
        for k, row in enumerate(rows):
            arr[k, : len(row)] = row
        patterns.append(arr)
    specs = [RouteSpec(start=n, end=n, max_minutes=1e9) for _ in range(n_routes)]
    costs = [rng.uniform(0, 1, 3) for _ in range(n)]
    return Problem(dist, dist * 2.4, np.full(n + 1, 10.0), specs, patterns, costs)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 25), n_routes=st.integers(1, 6))
def test_fixed_routes_ride_exactly_their_pattern(seed, n, n_routes):
    problem = _fixed_route_problem(seed, n, n_routes)
    result = solve_free_day(fixed_routes(problem), seed=seed, iterations=300)
    assert result.feasible
    for c in range(n):
        want = {int(r) for r in problem.patterns[c][result.choice[c]] if r >= 0}
        got = [r for r, stops in enumerate(result.routes) for x in stops if x == c]
        assert sorted(got) == sorted(want)  # each route of the pattern once, no other route
    # the value it reports is the plan's km plus its pattern costs, recomputed here from scratch
    km = sum(problem.dist[[n, *s], [*s, n]].sum() for s in result.routes if s)
    extra = sum(problem.pattern_cost[c][result.choice[c]] for c in range(n))
    assert abs(result.cost - (km + extra)) < 1e-6


def test_starting_plan_is_never_made_worse():
    problem = _fixed_route_problem(5, 40, 4)
    search = PeriodicSearch(problem, seed=1)
    search.insert(list(range(40)))
    start = ([list(r) for r in search.routes], search.choice.copy())
    before = search.total_cost()
    result = solve_free_day(fixed_routes(problem), iterations=2000, initial=start)
    search.set_routes(result.routes, result.choice)
    assert search.total_cost() <= before + 1e-6
