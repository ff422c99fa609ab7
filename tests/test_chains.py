"""Handover chains: a short route filled, a long one relieved, by its neighbours in turn."""

from __future__ import annotations

import numpy as np

from routeplan import Continuing
from routeplan.solve.chains import _cheapest_gaps, balance
from routeplan.solve.search import PeriodicSearch, Problem, RouteSpec
from routeplan.solve.tsp import path_length

PRICES = Continuing()
# three routes of one manager side by side; route 1 reaches towards both others
ROUTE_X = ([0.0, 0.1], [0.35, 1.0, 1.65], [2.0, 2.1, 2.2, 2.3, 2.4])


def _search(max_minutes: tuple[float, ...] = (1e6, 1e6, 1e6), min_stops: int = 3) -> PeriodicSearch:
    xs = [x for route in ROUTE_X for x in route]
    n = len(xs)
    pts = np.array([[x, 0.0] for x in xs] + [[1.2, -5.0], [0.0, 0.0]])  # shops, office, end
    dist = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(axis=2))
    dist[:, n + 1] = 0.0  # the day ends where the last visit is (an open path)
    dist[n + 1, :] = 0.0
    specs = [RouteSpec(start=n, end=n + 1, max_minutes=m, min_stops=min_stops) for m in max_minutes]
    patterns = [np.array([[0], [1], [2]], dtype=np.int64) for _ in range(n)]
    costs = [np.zeros(3) for _ in range(n)]
    problem = Problem(dist, dist * 2.0, np.full(n + 2, 1.0), specs, patterns, costs)
    search = PeriodicSearch(problem)
    routes, choice, c = [], np.zeros(n, dtype=np.int64), 0
    for r, route in enumerate(ROUTE_X):
        routes.append(list(range(c, c + len(route))))
        choice[c : c + len(route)] = r
        c += len(route)
    search.set_routes(routes, choice)
    return search


def _near(search: PeriodicSearch) -> np.ndarray:
    n = search.p.n_customers
    return np.argsort(search.p.dist[:n, :n], axis=1, kind="stable")[:, :4]


def test_short_route_is_filled_by_a_chain_of_border_shops():
    search = _search()
    assert search.is_short(0) and not search.is_short(1)
    km_before = search.km.sum()
    moved = balance(search, _near(search), 3, search.p.pattern_cost, lambda shops: True, PRICES)
    # route 1's shop nearest route 0 goes there, and route 2's shop nearest route 1 takes its place
    assert moved == {2: 0, 5: 0}
    assert [sorted(r) for r in search.routes] == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert not any(search.is_short(r) for r in range(3))
    # cheaper than the one move that also repairs it: route 2's nearest shop straight to route 0
    direct = _search()
    direct.apply(5, 0, np.array([2, 0, 0]))
    assert search.km.sum() - km_before < direct.km.sum() - km_before


def test_no_route_is_repaired_after_the_deadline():
    search = _search()
    before = [list(r) for r in search.routes]
    assert balance(search, _near(search), 3, search.p.pattern_cost, lambda shops: True, PRICES, deadline=0.0) == {}
    assert search.routes == before and search.is_short(0)


def test_a_shop_that_may_not_move_is_not_handed_on():
    search = _search()
    balance(search, _near(search), 3, search.p.pattern_cost, lambda shops: 2 not in shops, PRICES)
    assert 2 in search.routes[1]
    assert not search.is_short(0)  # filled another way (route 1's next shop or route 2's)


def test_route_past_its_day_hands_shops_along_to_a_route_with_room():
    full = _search(min_stops=0)
    minutes = full.minutes.copy()
    # route 0 one shop past its day, route 1 exactly full, route 2 with room
    search = _search(max_minutes=(minutes[0] - 0.5, minutes[1], 1e6), min_stops=0)
    assert search.is_over(0)
    moved = balance(search, _near(search), 3, search.p.pattern_cost, lambda shops: True, PRICES)
    assert moved and set(moved.values()) == {0}
    assert not any(search.is_over(r) for r in range(3))
    assert len(search.routes[2]) == len(ROUTE_X[2]) + 1  # the shop ended where there was room


def test_nothing_moves_where_no_route_is_broken():
    search = _search(min_stops=2)
    before = [list(r) for r in search.routes]
    assert balance(search, _near(search), 3, search.p.pattern_cost, lambda shops: True, PRICES) == {}
    assert search.routes == before


def test_other_managers_routes_help_only_where_his_own_cannot():
    search = _search()
    # with one route per manager, route 0's neighbours belong to other managers: it is still
    # filled, by route 1's border shop and route 2's shop after it, as with one manager
    moved = balance(search, _near(search), 1, search.p.pattern_cost, lambda shops: True, PRICES)
    assert moved == {2: 0, 5: 0}
    assert not search.is_short(0)


def test_short_route_takes_an_extra_visit_of_a_shop_nearby():
    search = _search()
    # shop 2 (route 1's border) may also be visited on both routes 0 and 1, for a small price
    n = search.p.n_customers
    search.p.patterns[2] = np.array([[0, -1], [1, -1], [2, -1], [0, 1]], dtype=np.int64)
    search.p.pattern_cost[2] = np.array([0.0, 0.0, 0.0, 0.1])
    search.set_routes(search.routes, search.choice)
    # route 2's shops stay (locked): no chain can end at a route that spares a shop
    moved = balance(search, _near(search), 3, [*search.p.pattern_cost], lambda shops: all(c < 5 for c in shops), PRICES)
    assert moved == {2: 0}  # one visit more, no route gives anything
    assert sorted(search.routes_of(2)) == [0, 1]
    assert [len(r) for r in search.routes] == [3, 3, 5]
    assert n == search.p.n_customers


def test_a_chain_longer_than_the_links_allowed_is_not_taken():
    """Route 0's repair takes two handovers (route 1 gives, route 2 refills it): with one
    allowed, no chain repairs it and nothing moves."""
    search = _search()
    before = [list(r) for r in search.routes]
    moved = balance(search, _near(search), 3, search.p.pattern_cost, lambda shops: True,
                    Continuing(chain_links=1))  # fmt: skip
    assert moved == {} and search.routes == before
    assert search.is_short(0)


def test_each_shop_s_gap_on_a_route_is_where_it_adds_least():
    """The gaps found for many shops at once are, for each, the place on the route where it
    adds the fewest km, with the stops before and after it."""
    search = _search()
    for r, route in enumerate(search.routes):
        shops = [c for c in range(search.p.n_customers) if c not in route]
        path = [int(search.start[r]), *route, int(search.end[r])]

        def km(p: list[int]) -> float:
            return path_length(search.p.dist, p[0], p[1:-1], p[-1])

        for c, (j, before, after) in zip(shops, _cheapest_gaps(search, r, shops), strict=True):
            added = [km([*path[: i + 1], c, *path[i + 1 :]]) - km(path) for i in range(len(path) - 1)]
            assert added[j] <= min(added) + 1e-9
            assert (before, after) == (path[j], path[j + 1])
    assert _cheapest_gaps(search, 0, []) == []
