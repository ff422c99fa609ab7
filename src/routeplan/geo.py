"""Positions on the earth and the great-circle distance between them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

#: Mean earth radius in km (IUGG, as used by geopy.distance.EARTH_RADIUS).
EARTH_RADIUS_KM = 6371.009


class LatLon(NamedTuple):
    """A WGS-84 position in decimal degrees."""

    lat: float
    lon: float


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between broadcastable arrays of positions."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


#: Cells of the temporary arrays of one block of a row-by-row computation over a square (8 MB of
#: float64: the great-circle formula holds about six at once, so a block's temporaries stay near
#: 50 MB; four times as large cost as much memory as a 2,300-shop matrix pair and saved 5% of the time).
BLOCK_CELLS = 2**20


def row_blocks(n: int, width: int) -> Iterator[tuple[int, int]]:
    """Row ranges ``[lo, hi)`` of ``n`` rows of ``width`` cells, each block about :data:`BLOCK_CELLS`:
    computations over a square matrix go block by block, so their temporaries stay small."""
    step = max(16, BLOCK_CELLS // max(width, 1))
    for lo in range(0, n, step):
        yield lo, min(n, lo + step)


def distance_matrix_km(lats: np.ndarray, lons: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """All-pairs great-circle distances in km times ``scale`` (float64, symmetric, zero diagonal).

    Computed block by block of rows, so the temporaries are a block's, not the matrix's, size:
    the result is the only square array (at 6,000 shops the one-shot formula held six).
    """
    lats = np.asarray(lats, dtype=float)
    lons = np.asarray(lons, dtype=float)
    n = len(lats)
    out = np.empty((n, n))
    for lo, hi in row_blocks(n, n):
        out[lo:hi] = haversine_km(lats[lo:hi, None], lons[lo:hi, None], lats[None, :], lons[None, :])
    if scale != 1.0:
        out *= scale
    return out


def local_xy_km(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Equirectangular projection to km around the centroid; good for clustering a city."""
    lats = np.asarray(lats, dtype=float)
    lons = np.asarray(lons, dtype=float)
    lat0 = float(np.mean(lats))
    kx = np.radians(1.0) * EARTH_RADIUS_KM * np.cos(np.radians(lat0))
    ky = np.radians(1.0) * EARTH_RADIUS_KM
    return np.column_stack(((lons - np.mean(lons)) * kx, (lats - lat0) * ky))


def convex_hull(xy: np.ndarray) -> list[int]:
    """Indices of the convex hull of planar points, counter-clockwise (Andrew's monotone chain)."""
    pts = np.asarray(xy, dtype=float)
    order = sorted(range(len(pts)), key=lambda i: (pts[i, 0], pts[i, 1]))
    if len(order) < 3:
        return order

    def cross(o: int, a: int, b: int) -> float:
        return float(
            (pts[a, 0] - pts[o, 0]) * (pts[b, 1] - pts[o, 1]) - (pts[a, 1] - pts[o, 1]) * (pts[b, 0] - pts[o, 0])
        )

    lower: list[int] = []
    for i in order:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], i) <= 0:
            lower.pop()
        lower.append(i)
    upper: list[int] = []
    for i in reversed(order):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], i) <= 0:
            upper.pop()
        upper.append(i)
    return lower[:-1] + upper[:-1]


def nearest_in_rows(cost: np.ndarray, count: int, n: int | None = None, *, with_self: bool = False) -> np.ndarray:
    """Each of the first ``n`` rows' ``count`` cheapest columns among the first ``n`` (the row's
    own column left out unless ``with_self``), cheapest first, ties by column: what a stable
    argsort of the whole row gives, row block by row block so that no second square array is made."""
    n = len(cost) if n is None else n
    count = max(0, min(count, n if with_self else n - 1))
    out = np.zeros((n, count), dtype=np.int64)
    if count == 0:
        return out
    for lo, hi in row_blocks(n, n):
        block = np.array(cost[lo:hi, :n], dtype=float)
        rows = np.arange(hi - lo)
        if not with_self:
            block[rows, np.arange(lo, hi)] = np.inf
        # the ``count`` cheapest by partition, then in order (ties by column); a row where more
        # columns tie with its last one than fit is sorted whole, as the stable argsort would
        cols = np.sort(np.argpartition(block, count - 1, axis=1)[:, :count], axis=1)
        vals = block[rows[:, None], cols]
        order = np.argsort(vals, axis=1, kind="stable")
        out[lo:hi] = cols[rows[:, None], order]
        last = vals.max(axis=1)
        tied = np.flatnonzero((block <= last[:, None]).sum(axis=1) > count)
        if len(tied):
            out[lo + tied] = np.argsort(block[tied], axis=1, kind="stable")[:, :count]
    return out


def mean_nearest(cost: np.ndarray, count: int, n: int | None = None) -> np.ndarray:
    """Each of the first ``n`` rows' mean over its ``count`` cheapest other columns (the first ``n``),
    row block by row block."""
    n = len(cost) if n is None else n
    count = max(1, min(count, n - 1))
    out = np.zeros(n)
    if n < 2:
        return out
    for lo, hi in row_blocks(n, n):
        block = np.array(cost[lo:hi, :n], dtype=float)
        block[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        out[lo:hi] = np.sort(np.partition(block, count - 1, axis=1)[:, :count], axis=1).mean(axis=1)
    return out


def nearest_neighbours(xy: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest other points of each point (planar km), nearest first.

    A KD-tree (scipy): time n log n and memory linear in the points (30,000 shops: 0.1 s).
    """
    n = len(xy)
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, max(k, 0)), dtype=np.int64)
    _, idx = cKDTree(xy).query(xy, k=k + 1)
    # each point's own row lists it among its k + 1 nearest, usually first (not always: points at
    # one spot): drop it, or the farthest where a twin pushed it out
    drop = idx == np.arange(n)[:, None]
    drop[~drop.any(axis=1), -1] = True
    return np.asarray(idx[~drop].reshape(n, k), dtype=np.int64)


def nearest_among(query: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The index in ``points`` nearest to each point of ``query`` (planar km)."""
    if len(query) == 0:
        return np.zeros(0, dtype=np.int64)
    _, idx = cKDTree(points).query(query, k=1)
    return np.asarray(idx, dtype=np.int64)


def neighbour_share(lats: np.ndarray, lons: np.ndarray, labels: np.ndarray, k: int = 8) -> float | None:
    """Compactness of a split: the mean share of each point's ``k`` nearest points with its label.

    1.0 means territories never interleave; ``None`` for fewer than two points.
    """
    if len(labels) < 2:
        return None
    near = nearest_neighbours(local_xy_km(lats, lons), k)
    return float((labels[near] == labels[:, None]).mean())
