"""Route areas: the parts of a territory its cycle routes cover, and what driving them costs.

A day starts at the office and ends at the last shop, so the shape that drives least depends
on the map. Compact areas suit a territory that is a town of its own; where the shops spread
out around the office, wedges pointing away from it do better (each route drives outward
through its shops instead of crossing empty ground to a compact area, as the classic sweep
heuristic's petals do). The territory design estimates both (:func:`open_route_km`) and keeps
the cheaper for the whole team: wedge territories cut into wedges, compact ones into compact
areas.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree

from .territory import balanced_clusters, wedges

#: How a team at one office may have its territories shaped (``auto``: by the estimate).
TERRITORY_SHAPES = ("auto", "compact", "wedges")
#: Wedges are taken only when their estimate is this share below the compact areas': the
#: estimate is rough, and compact areas are what the search was tuned on.
WEDGE_GAIN = 0.01


def cut_areas(
    xy: np.ndarray, weights: np.ndarray, office: np.ndarray, days: int, weeks: int, *, wedge: bool,
    rng: np.random.Generator,
) -> np.ndarray:  # fmt: skip
    """One territory's route areas (area = day x weeks + week), wedges or compact."""
    return wedge_areas(xy, weights, office, days, weeks) if wedge else compact_areas(xy, weights, days, weeks, rng)


def open_route_km(xy: np.ndarray, office: np.ndarray, areas: np.ndarray) -> float:
    """Estimated km of driving each area once from the office: the straight drive to its
    nearest shop plus the length of the shortest tree joining its shops (an open route through
    them is at most twice that, and usually close to it)."""
    total = 0.0
    for a in np.unique(areas):
        p = xy[areas == a]
        total += float(np.sqrt(((p - office) ** 2).sum(axis=1)).min())
        if len(p) > 1:
            gaps = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))
            total += float(minimum_spanning_tree(gaps).sum())  # coincident shops add nothing
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
