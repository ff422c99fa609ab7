"""Route areas: the parts of a territory its cycle routes cover, and what driving them costs.

A day starts at the office and ends at the last shop, so the shape that drives least depends
on the map. Compact areas suit a territory that is a town of its own; where the shops spread
out around the office, wedges pointing away from it do better (each route drives outward
through its shops instead of crossing empty ground to a compact area, as the classic sweep
heuristic's petals do). The territory design estimates both (:func:`open_route_km`: each
area's route ordered as the search would, on the plane, with the shops visited every week on
their weekday's route of each week) and keeps the cheaper for the whole team: wedge
territories cut into wedges, compact ones into compact areas.
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
    rng: np.random.Generator, rides: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """One territory's route areas (area = day x weeks + week), wedges or compact (``None``:
    whichever :func:`shorter_areas` finds shorter, each shop riding ``rides`` weeks)."""
    if wedge is None:
        return shorter_areas(xy, weights, office, days, weeks, rng, rides)
    return wedge_areas(xy, weights, office, days, weeks) if wedge else compact_areas(xy, weights, days, weeks, rng)


def shorter_areas(
    xy: np.ndarray, weights: np.ndarray, office: np.ndarray, days: int, weeks: int, rng: np.random.Generator,
    rides: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Wedge or compact areas, whichever routes :func:`open_route_km` finds shorter (compact on a
    tie): for a territory whose shape no design chose, e.g. a manager new to a route book."""
    compact = compact_areas(xy, weights, days, weeks, rng)
    wedge = wedge_areas(xy, weights, office, days, weeks)
    km = [open_route_km(xy, office, areas, weeks=weeks, rides=rides) for areas in (wedge, compact)]
    return wedge if km[0] < km[1] else compact


def weeks_ridden(visits: np.ndarray, weeks: int, days_in_month: int) -> np.ndarray:
    """In how many of the cycle's weeks each shop rides its weekday's route: as many as its
    monthly visits need (the route of one cycle week runs about ``days_in_month / 7 / weeks``
    times a month), at least one, at most every week. A class-A shop seen 4 times a month in a
    two-week cycle rides both weeks' routes."""
    runs = days_in_month / 7 / weeks
    return np.clip(np.ceil(np.asarray(visits, dtype=float) / runs - 1e-9), 1, weeks).astype(np.int64)


def open_route_km(
    xy: np.ndarray, office: np.ndarray, areas: np.ndarray, *, weeks: int = 1, rides: np.ndarray | None = None
) -> float:
    """Estimated km of driving each area once from the office, on the plane: a route from the
    office through the area's shops, ending at the last one (nearest neighbour first, then 2-opt
    and Or-opt, as the search orders its routes).

    ``rides``: in how many of the cycle's ``weeks`` each shop rides its weekday's route
    (:func:`weeks_ridden`; default one). A shop riding more is a stop of as many routes of its
    weekday, evenly spaced from its own area's week: the detour of a weekly shop is what makes
    two weeks' areas cut side by side from one weekday area cost more than they seem to.
    """
    ridden = np.ones(len(xy), dtype=np.int64) if rides is None else np.asarray(rides, dtype=np.int64)
    # rides_in[r, s]: a shop riding r weeks rides the week s weeks after its own
    rides_in = np.zeros((weeks + 1, weeks), dtype=bool)
    for r in range(1, weeks + 1):
        rides_in[r, [i * weeks // r for i in range(r)]] = True
    day, week = np.divmod(areas, weeks)
    total = 0.0
    for a in np.unique(areas):
        d, w = divmod(int(a), weeks)
        on = (day == d) & rides_in[ridden, (w - week) % weeks]
        stops = np.vstack([office[None, :], xy[on]])
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
