"""Final ordering of each route with OR-Tools' routing solver (guided local search).

The only module that imports OR-Tools. It polishes the order the numba 2-opt /
Or-opt search found; the better of the two is kept, so it can only help.
"""

from __future__ import annotations

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

#: Matrix scale: OR-Tools wants integers, so km become metres.
METRES_PER_KM = 1000
#: Guided-local-search solutions per route; a count, not a clock, keeps runs repeatable.
SOLUTION_LIMIT = 20
#: Safety net per route, in seconds (a 40-stop route takes about 0.2 s).
ROUTE_TIME_LIMIT_S = 10


def ortools_order(dist: np.ndarray, start: int, stops: list[int], end: int) -> list[int]:
    """Order ``stops`` on an open path from ``start`` to ``end`` (both fixed)."""
    if len(stops) < 4:
        return list(stops)
    nodes = [start, *stops, end]
    sub = np.rint(dist[np.ix_(nodes, nodes)] * METRES_PER_KM).astype(np.int64)
    size = len(nodes)
    manager = pywrapcp.RoutingIndexManager(size, 1, [0], [size - 1])
    routing = pywrapcp.RoutingModel(manager)

    def cost(i: int, j: int) -> int:
        return int(sub[manager.IndexToNode(i), manager.IndexToNode(j)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(cost))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.solution_limit = SOLUTION_LIMIT
    params.time_limit.seconds = ROUTE_TIME_LIMIT_S
    # large-neighbourhood steps are time-boxed by default (100 ms); box them far above
    # what they take so that a busy machine gets the same order
    params.lns_time_limit.seconds = ROUTE_TIME_LIMIT_S
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return list(stops)
    order: list[int] = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(nodes[manager.IndexToNode(index)])
        index = solution.Value(routing.NextVar(index))
    return order
