"""Route areas: the parts of a territory its cycle routes cover, and what driving them costs.

A day starts at the office and ends at the last shop, so the shape that drives least depends
on the map. Compact areas suit a territory that is a town of its own; where the shops spread
out around the office, wedges pointing away from it do better (each route drives outward
through its shops instead of crossing empty ground to a compact area, as the classic sweep
heuristic's petals do). The territory design estimates both (:func:`open_route_km`: each
area's route ordered as the search would, on the plane) and keeps the cheaper for the whole
team: wedge territories cut into wedges, compact ones into compact areas.
"""

from __future__ import annotations

import numpy as np

from .kernels import improve_path
from .territory import balanced_clusters, wedges
from .tsp import nearest_neighbour

#: How a team at one office may have its territories shaped (``auto``: by the estimate).
TERRITORY_SHAPES = ("auto", "compact", "wedges")
#: Wedges are taken only when their estimate is this share below the compact areas' (0: any
#: gain; a share > 0 would favour compact areas, which the search was first tuned on).
WEDGE_GAIN = 0.0


def cut_areas(
    xy: np.ndarray, weights: np.ndarray, office: np.ndarray, days: int, weeks: int, *, wedge: bool | None,
    rng: np.random.Generator,
) -> np.ndarray:  # fmt: skip
    """One territory's route areas (area = day x weeks + week), wedges or compact (``None``:
    whichever :func:`shorter_areas` finds shorter)."""
    if wedge is None:
        return shorter_areas(xy, weights, office, days, weeks, rng)
    return wedge_areas(xy, weights, office, days, weeks) if wedge else compact_areas(xy, weights, days, weeks, rng)


def shorter_areas(
    xy: np.ndarray, weights: np.ndarray, office: np.ndarray, days: int, weeks: int, rng: np.random.Generator
) -> np.ndarray:
    """Wedge or compact areas, whichever routes :func:`open_route_km` finds shorter (compact on a
    tie): for a territory whose shape no design chose, e.g. a manager new to a route book."""
    compact = compact_areas(xy, weights, days, weeks, rng)
    wedge = wedge_areas(xy, weights, office, days, weeks)
    return wedge if open_route_km(xy, office, wedge) < open_route_km(xy, office, compact) else compact


def open_route_km(xy: np.ndarray, office: np.ndarray, areas: np.ndarray) -> float:
    """Estimated km of driving each area once from the office, on the plane: a route from the
    office through the area's shops, ending at the last one (nearest neighbour first, then 2-opt
    and Or-opt, as the search orders its routes)."""
    total = 0.0
    for a in np.unique(areas):
        stops = np.vstack([office[None, :], xy[areas == a]])
        m = len(stops)
        dist = np.zeros((m + 1, m + 1))  # the last node ends the day anywhere, at no cost
        dist[:m, :m] = np.sqrt(((stops[:, None, :] - stops[None, :, :]) ** 2).sum(-1))
        first = nearest_neighbour(dist, 0, list(range(1, m)))
        path = improve_path(dist, np.asarray([0, *first, m], dtype=np.int64))
        total += float(dist[path[:-1], path[1:]].sum())
    return total


def compact_areas(xy: np.ndarray, weights: np.ndarray, days: int, weeks: int, rng: np.random.Generator) -> np.ndarray:
    """Compact areas: the territory cut into ``days`` weekday areas, each into ``weeks`` cycle
    weeks (area = day x weeks + week)."""
    day = balanced_clusters(xy, weights, days, rng)
    areas = day * weeks
    for g in range(days):
        sub = np.flatnonzero(day == g)
        if len(sub):
            areas[sub] += balanced_clusters(xy[sub], weights[sub], weeks, rng)
    return areas


def wedge_areas(xy: np.ndarray, weights: np.ndarray, office: np.ndarray, days: int, weeks: int) -> np.ndarray:
    """Wedges around the office, neighbouring wedges the same weekday in the cycle's weeks (a
    shop visited every week rides both, so they should lie side by side)."""
    return wedges(xy, weights, office, np.ones(days * weeks))
