"""Ordering the stops of one route: nearest neighbour, then 2-opt and Or-opt on an open path.

A path runs from a fixed start node through the stops to a fixed end node (the
office, or a virtual node at zero distance from everywhere when the day ends at the
last shop). The improvement loop itself is compiled (``kernels.improve_path``).
"""

from __future__ import annotations

import numpy as np

from .kernels import improve_path


def path_length(dist: np.ndarray, start: int, stops: list[int], end: int) -> float:
    if not stops:
        return float(dist[start, end])
    path = np.asarray([start, *stops, end])
    return float(dist[path[:-1], path[1:]].sum())


def nearest_neighbour(dist: np.ndarray, start: int, stops: list[int]) -> list[int]:
    """Greedy order from ``start``: always the closest unvisited stop next."""
    left = list(stops)
    order: list[int] = []
    here = start
    while left:
        row = dist[here, left]
        k = int(np.argmin(row))
        here = left.pop(k)
        order.append(here)
    return order


def improve_order(dist: np.ndarray, start: int, stops: list[int], end: int) -> list[int]:
    """Local optimum of 2-opt and Or-opt (segments of 1-3) from the given order."""
    if len(stops) < 2:
        return list(stops)
    path = np.asarray([start, *stops, end], dtype=np.int64)
    return [int(x) for x in improve_path(dist, path)[1:-1]]
