"""Ordering the stops of one route: vectorised 2-opt and Or-opt on an open path.

A path runs from a fixed start node through the stops to a fixed end node (the
office, or a virtual node at zero distance from everywhere when the day ends at the
last shop). Every move is scored for all positions at once with numpy, so a 40-stop
route improves in about a millisecond.
"""

from __future__ import annotations

import functools

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


@functools.cache
def _lower(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tril_indices(n, 1)


def _two_opt_step(dist: np.ndarray, path: np.ndarray) -> tuple[float, int, int]:
    """Best reversal of path[i..j] (1 <= i < j <= n): returns (gain, i, j)."""
    a = path[:-1]
    b = path[1:]
    base = dist[a, b]
    # delta[x, y]: replace edges (x, x+1), (y, y+1) by (x, y), (x+1, y+1)
    delta = dist[a[:, None], a[None, :]] + dist[b[:, None], b[None, :]] - base[:, None] - base[None, :]
    n = len(a)
    delta[_lower(n)] = 0.0
    k = int(np.argmin(delta))
    x, y = divmod(k, n)
    return float(-delta[x, y]), x + 1, y


def _or_opt_step(dist: np.ndarray, path: np.ndarray, seg: int) -> tuple[float, int, int, bool]:
    """Best move of a segment of ``seg`` stops elsewhere (optionally reversed)."""
    n_inner = len(path) - 2
    if n_inner <= seg:
        return 0.0, 0, 0, False
    starts = np.arange(1, n_inner - seg + 2)  # segment path[i : i+seg]
    first = path[starts]
    last = path[starts + seg - 1]
    before = path[starts - 1]
    after = path[starts + seg]
    removal = dist[before, first] + dist[last, after] - dist[before, after]
    q = np.arange(0, len(path) - 1)  # insert between path[q], path[q+1]
    u = path[q]
    v = path[q + 1]
    add_fwd = dist[u[None, :], first[:, None]] + dist[last[:, None], v[None, :]] - dist[u, v][None, :]
    add_rev = dist[u[None, :], last[:, None]] + dist[first[:, None], v[None, :]] - dist[u, v][None, :]
    # forbid insertion edges that touch the segment itself
    bad = (q[None, :] >= starts[:, None] - 1) & (q[None, :] <= starts[:, None] + seg - 1)
    add_fwd[bad] = np.inf
    add_rev[bad] = np.inf
    gain_fwd = removal[:, None] - add_fwd
    gain_rev = removal[:, None] - add_rev
    kf = int(np.argmax(gain_fwd))
    kr = int(np.argmax(gain_rev))
    if gain_fwd.flat[kf] >= gain_rev.flat[kr]:
        i, j = divmod(kf, len(q))
        return float(gain_fwd.flat[kf]), int(starts[i]), int(q[j]), False
    i, j = divmod(kr, len(q))
    return float(gain_rev.flat[kr]), int(starts[i]), int(q[j]), True


def improve_order(dist: np.ndarray, start: int, stops: list[int], end: int, max_rounds: int = 0) -> list[int]:
    """Local optimum of 2-opt and Or-opt (segments of 1-3) from the given order."""
    if len(stops) < 2:
        return list(stops)
    path = np.asarray([start, *stops, end], dtype=np.int64)
    return [int(x) for x in improve_path(dist, path)[1:-1]]
