"""A naive planner, the yardstick for the optimizer's benchmark.

What a spreadsheet user would do: cut the map into angular sectors around the
office (one per manager, then one per weekday and week of the cycle), and visit
each sector's shops nearest-neighbour first. Same rules of the cycle and the
calendar as the real planner, no optimisation.
"""

from __future__ import annotations

import time

import numpy as np

from ..model import Scenario
from ..plan import Plan
from ..travel import TravelModel, travel_for
from .month import MonthModel, positions, routes_from_groups
from .schedule import lay_out_month
from .search import PeriodicSearch
from .tsp import nearest_neighbour


def _sectors(angles: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Cut points sorted by angle into k runs of about equal weight."""
    order = np.argsort(angles, kind="stable")
    cum = np.cumsum(weights[order])
    cut = np.minimum((cum / cum[-1] * k).astype(int), k - 1) if len(cum) else cum.astype(int)
    out = np.zeros(len(angles), dtype=np.int64)
    out[order] = cut
    return out


def sweep_groups(model: MonthModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Territory and route of each shop by angular sweep around the office(s).

    Each manager's shops, in order of angle, are cut into as many wedges as the
    cycle has slots (W1-Mon, W1-Tue, ... W2-Fri); a shop needing more visits also
    rides on the same weekday's route of the other weeks.
    """
    xy, offices, weights = positions(model)
    centre = offices.mean(axis=0)
    ang = np.arctan2(xy[:, 1] - centre[1], xy[:, 0] - centre[0])
    labels = _sectors(ang, weights, model.k)
    nwd = len(model.sc.calendar.workdays)
    day = np.zeros(model.n, dtype=np.int64)
    week = np.zeros(model.n, dtype=np.int64)
    for mi in range(model.k):
        mine = np.flatnonzero(labels == mi)
        if not len(mine):
            continue
        rel = xy[mine] - offices[mi]
        wedge = _sectors(np.arctan2(rel[:, 1], rel[:, 0]), weights[mine], model.s)
        day[mine], week[mine] = wedge % nwd, wedge // nwd
    return labels, day, week


def plan_month_naive(scenario: Scenario, *, travel: TravelModel | None = None) -> Plan:
    """Sweep territories and routes, nearest-neighbour order."""
    t0 = time.monotonic()
    model = MonthModel(scenario, travel or travel_for(scenario))
    routes, choice = routes_from_groups(model, *sweep_groups(model))
    search = PeriodicSearch(model.problem(np.zeros(model.k * model.s)))
    ordered = [nearest_neighbour(model.dist, int(search.start[r]), seq) if seq else [] for r, seq in enumerate(routes)]
    search.set_routes(ordered, choice)
    return lay_out_month(model, search.cycle(), seconds=time.monotonic() - t0, seed=0)
