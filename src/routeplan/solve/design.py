"""Territory design: which manager serves which shop, as its own step.

Work is balanced (visits x (service + travel to near neighbours), shared out in
proportion to each manager's working days), territories are compact around their
offices, or wedges around a team's one office where those drive less, pinned shops stay
pinned, and when a current split is given as few shops as possible change hands.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ..geo import LatLon, local_xy_km, nearest_neighbours
from ..model import Scenario
from ..travel import GreatCircleTravel, TravelModel, travel_for
from .areas import WEDGE_GAIN, cut_areas, open_route_km, weeks_ridden
from .territory import (
    balanced_clusters,
    cheapest_pairs,
    group_centers,
    office_pull,
    rebalance,
    smooth,
    split_among_offices,
    wedges,
)

#: Extra km a shop "pays" to leave its current manager: enough to keep a split stable, small
#: next to a district's size so balance still wins.
STAY_KM = 6.0
#: Nearest neighbours whose distance estimates the travel a visit costs.
NEAR = 3
#: Shops per travel matrix when a road model estimates the travel (memory ~ its square).
AREA_SHOPS = 500


@dataclass(frozen=True)
class Territories:
    """A split of the shops among the managers, with its estimated monthly work."""

    manager_of: Mapping[str, str]
    work_minutes: Mapping[str, float]
    moved: int = 0
    #: wedges around the team's office (cut into wedge-shaped route areas), else compact
    wedges: bool = False

    def __reduce__(self) -> tuple[type, tuple[dict[str, str], dict[str, float], int, bool]]:
        return (Territories, (dict(self.manager_of), dict(self.work_minutes), self.moved, self.wedges))

    @property
    def balance(self) -> float:
        """Largest estimated monthly work over the smallest."""
        loads = list(self.work_minutes.values())
        return max(loads) / min(loads) if loads and min(loads) > 0 else float("inf")

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with every shop pinned to its designed manager."""
        shops = tuple(dataclasses.replace(r, manager_id=self.manager_of[r.id]) for r in scenario.retailers)
        return dataclasses.replace(scenario, retailers=shops)


def positions_km(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Shops and offices on one local km plane (x east, y north)."""
    lats = np.array([r.location.lat for r in scenario.retailers] + [m.office.lat for m in scenario.managers])
    lons = np.array([r.location.lon for r in scenario.retailers] + [m.office.lon for m in scenario.managers])
    xy = local_xy_km(lats, lons)
    n = len(scenario.retailers)
    return xy[:n], xy[n:]


def pins(scenario: Scenario) -> np.ndarray:
    """Each shop's pinned manager (by ``manager_id`` or by a route lock) as an index, -1 where it is free."""
    index = scenario.manager_index
    owners = [scenario.owner(r) for r in scenario.retailers]
    return np.array([index[m] if m else -1 for m in owners], dtype=np.int64)


def shop_work(scenario: Scenario, travel: TravelModel | None = None) -> np.ndarray:
    """Estimated monthly minutes each shop costs: visits x (service + travel from a near
    neighbour + the shop's share of the morning drive from the office).

    The near neighbours are the nearest shops on the plane, their minutes by the travel model:
    memory grows with the shops, for a road model too (its matrices are made area by area).
    A territory far from its office drives out every working day; without that share it would
    get as much visiting as a near one, and its days would run long.
    """
    return shop_work_parts(scenario, travel)[0]


def shop_work_parts(scenario: Scenario, travel: TravelModel | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shop_work`, and the part of each shop's that is its share of the morning drive
    (a large part where one office serves a wide city)."""
    travel = travel or travel_for(scenario)
    points = [r.location for r in scenario.retailers]
    n = len(points)
    near = np.zeros(n)
    xy, starts = positions_km(scenario)
    pace = 0.0  # minutes per straight-line km, as the travel model drives the hops
    if n > 1:
        nb = nearest_neighbours(xy, min(NEAR, n - 1))
        if isinstance(travel, GreatCircleTravel):
            a = [points[i] for i in np.repeat(np.arange(n), nb.shape[1])]
            b = [points[j] for j in nb.ravel()]
            near = travel.pair_minutes(a, b).reshape(n, -1).mean(axis=1)
        else:
            near = _near_minutes(travel, points, xy, nb)
        hop_km = np.sqrt(((xy[:, None, :] - xy[nb]) ** 2).sum(-1)).mean(axis=1)
        pace = float(near.sum() / hop_km.sum()) if hop_km.sum() > 0 else 0.0
    visits = np.array([r.visits_per_month for r in scenario.retailers], dtype=float)
    service = np.array([r.service_minutes for r in scenario.retailers], dtype=float)
    morning = _first_leg_share(scenario, xy, starts, visits, pace)
    return visits * (service + near + morning), visits * morning


def _first_leg_share(
    scenario: Scenario, xy: np.ndarray, starts: np.ndarray, visits: np.ndarray, pace: float
) -> np.ndarray:
    """Each visit's share of the drive from the office to the day's first shop: the shop's
    minutes from its nearest office over the visits a working day holds on average."""
    if not len(xy) or not len(starts) or pace <= 0:
        return np.zeros(len(xy))
    offices = np.unique(starts, axis=0)
    km = np.min(np.sqrt(((xy[:, None, :] - offices[None, :, :]) ** 2).sum(-1)), axis=1)
    days = sum(len(scenario.working_days(m)) for m in scenario.managers)
    per_day = max(1.0, float(visits.sum()) / max(1, days))
    return km * pace / per_day


def _near_minutes(travel: TravelModel, points: list[LatLon], xy: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """Each shop's mean minutes to its shops ``nb`` by a matrix model: one matrix per area of
    about :data:`AREA_SHOPS` shops (strips of the plane cut into pieces) with their neighbours."""
    n = len(points)
    strips = max(1, round(math.sqrt(n / AREA_SHOPS)))
    by_x = np.argsort(xy[:, 0], kind="stable")
    near = np.zeros(n)
    for strip in np.array_split(by_x, strips):
        by_y = strip[np.argsort(xy[strip, 1], kind="stable")]
        for rows in np.array_split(by_y, max(1, round(len(by_y) / AREA_SHOPS))):
            members = np.unique(np.concatenate([rows, nb[rows].ravel()]))
            _, minutes = travel.matrices([points[i] for i in members])
            r, c = np.searchsorted(members, rows), np.searchsorted(members, nb[rows])
            near[rows] = minutes[r[:, None], c].mean(axis=1)
    return near


def _wedges_if_shorter(
    scenario: Scenario,
    xy: np.ndarray,
    weights: np.ndarray,
    offices: np.ndarray,
    share: np.ndarray,
    fixed: np.ndarray,
    compact: np.ndarray,
    seed: int,
    *,
    always: bool = False,
) -> tuple[np.ndarray, bool]:
    """Wedge territories around the team's office instead of the ``compact`` ones where their
    wedge routes are estimated shorter than the compact territories' compact routes (see
    :mod:`routeplan.solve.areas`): a team whose shops lie all around its office drives out
    through them, one wedge each (``always``: wedges whatever the estimate). Returns the labels
    and whether they are wedges."""
    wedge = rebalance(xy, weights, wedges(xy, weights, offices.mean(axis=0), share, fixed=fixed), share, fixed=fixed)
    if always:
        return wedge, True
    cal = scenario.calendar
    days, weeks = len(cal.workdays), cal.cycle_weeks
    rides = weeks_ridden(np.array([r.visits_per_month for r in scenario.retailers]), weeks, cal.days_in_month)

    def km(labels: np.ndarray, shape: bool) -> float:
        rng = np.random.default_rng(seed)
        return sum(
            open_route_km(xy[mine], offices[j], cut_areas(xy[mine], weights[mine], offices[j], days, weeks,
                                                          wedge=shape, rng=rng), weeks=weeks, rides=rides[mine])
            for j in range(len(offices))
            if len(mine := np.flatnonzero(labels == j))
        )  # fmt: skip

    if km(wedge, True) < (1 - WEDGE_GAIN) * km(compact, False):
        return wedge, True
    return compact, False


def design_territories(
    scenario: Scenario,
    *,
    current: Mapping[str, str] | None = None,
    shares: Mapping[str, float] | None = None,
    seed: int = 0,
    travel: TravelModel | None = None,
    shape: str = "auto",
    fresh: bool = False,
) -> Territories:
    """Split the shops among ``scenario.managers``.

    ``current`` (shop id -> manager id) is the split in use; shops of managers that
    still exist keep them unless balance asks otherwise. ``shares`` overrides each
    manager's part of the work (default: in proportion to working days). ``shape`` is one of
    :data:`routeplan.solve.areas.TERRITORY_SHAPES`: a new design for a team at one office
    may be wedges around it (a split in use keeps its shape). ``fresh``: design as if no split
    were in use, then give each territory to the manager of ``current`` who has most of its shops
    (among managers that could swap territories: same office and share, no pinned shops), for a
    team whose split in use cannot be balanced by moving its borders.
    """
    rng = np.random.default_rng(seed)
    managers = scenario.managers
    k = len(managers)
    shaped = False
    index = scenario.manager_index
    n = len(scenario.retailers)
    xy, offices = positions_km(scenario)
    weights = shop_work(scenario, travel)
    fixed = pins(scenario)
    if shares is None:
        share = np.array([len(scenario.working_days(m)) for m in managers], dtype=float)
    else:
        share = np.array([shares[m.id] for m in managers], dtype=float)
    now = np.array([index.get((current or {}).get(r.id, ""), -1) for r in scenario.retailers])
    in_use = now
    if fresh:
        now = np.full(n, -1)
    if k == 1:
        labels = np.zeros(n, dtype=np.int64)
    elif (now >= 0).any():
        init = group_centers(xy, np.where(now >= 0, now, 0), k)
        for j in range(k):
            if not (now == j).any():  # a new manager starts where the others are furthest
                gap = np.min(
                    ((xy[:, None, :] - init[None, [i for i in range(k) if (now == i).any()], :]) ** 2).sum(-1), axis=1
                )
                init[j] = xy[int(np.argmax(gap))]
        labels = balanced_clusters(
            xy, weights, k, rng, fixed=fixed, anchors=offices, anchor_pull=office_pull(offices), init=init,
            shares=share, current=now, stay_km=STAY_KM,
        )  # fmt: skip
    else:
        labels = split_among_offices(xy, weights, offices, rng, fixed=fixed, shares=share)
    if k > 1:
        labels = smooth(xy, labels, (fixed < 0) & (labels != now))  # shops that stay keep their place
        labels = rebalance(xy, weights, labels, share, fixed=fixed, current=now, stay_km=STAY_KM)
        if shape != "compact" and not (now >= 0).any() and not office_pull(offices):  # new, one office
            labels, shaped = _wedges_if_shorter(scenario, xy, weights, offices, share, fixed, labels, seed,
                                                always=shape == "wedges")  # fmt: skip
    if fresh and k > 1:
        labels = _keep_names(labels, in_use, offices, share, fixed, k)
    manager_of = {r.id: managers[int(j)].id for r, j in zip(scenario.retailers, labels, strict=True)}
    work = {m.id: float(weights[labels == j].sum()) for j, m in enumerate(managers)}
    moved = sum(1 for r in scenario.retailers if current and r.id in current and current[r.id] != manager_of[r.id])
    return Territories(MappingProxyType(manager_of), MappingProxyType(work), moved, shaped)


def _keep_names(labels: np.ndarray, in_use: np.ndarray, offices: np.ndarray, share: np.ndarray,
                fixed: np.ndarray, k: int) -> np.ndarray:  # fmt: skip
    """Relabel a fresh design so that each territory goes to the manager of the split in use
    who has most of its shops, most shared shops first. Only managers who could swap
    territories trade them: the same office and share, no pinned shops."""
    pinned = np.zeros(k, dtype=bool)
    pinned[fixed[fixed >= 0]] = True
    overlap = np.zeros((k, k))
    known = in_use >= 0
    np.add.at(overlap, (labels[known], in_use[known]), 1.0)
    perm = np.arange(k)
    groups: dict[tuple[float, float, float], list[int]] = {}
    for j in range(k):
        if not pinned[j]:
            groups.setdefault((float(offices[j, 0]), float(offices[j, 1]), float(share[j])), []).append(j)
    for members in groups.values():
        idx = np.array(members)
        perm[idx] = idx[cheapest_pairs(-overlap[np.ix_(idx, idx)])]
    return perm[labels]
