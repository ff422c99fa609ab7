"""Splitting points into groups of about equal work: compact (balanced k-means) or wedges
around an office.

Used for territories (shops -> managers) and, inside a territory, for the areas
worked on each weekday and each week of the cycle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..geo import nearest_neighbours

#: How far a group's load may exceed the mean before points spill to the next-best group.
DEFAULT_SLACK = 1.03
#: Pull of a manager's office on his territory, per km, when the team works from several offices.
OFFICE_PULL = 0.3
#: Nearest neighbours that say which group a point's surroundings belong to.
NEIGHBOURS = 8
#: A point borders a group when this many of its nearest neighbours are in it.
BORDER_VOTES = 2
#: Extra cost (km) of moving a point into a group it does not border: an enclave, last resort.
ENCLAVE_KM = 5.0


def _kmeans_pp(xy: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centers = [xy[int(rng.integers(len(xy)))]]
    d2 = ((xy - centers[0]) ** 2).sum(-1)  # each point's squared distance to its nearest centre so far
    for _ in range(1, k):
        total = d2.sum()
        pick = int(rng.choice(len(xy), p=d2 / total)) if total > 0 else int(rng.integers(len(xy)))
        centers.append(xy[pick])
        d2 = np.minimum(d2, ((xy - xy[pick]) ** 2).sum(-1))
    return np.asarray(centers, dtype=float)


def balanced_clusters(
    xy: np.ndarray,
    weights: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    fixed: np.ndarray | None = None,
    anchors: np.ndarray | None = None,
    anchor_pull: float = 0.0,
    slack: float = DEFAULT_SLACK,
    iterations: int = 25,
    init: np.ndarray | None = None,
    shares: np.ndarray | None = None,
    current: np.ndarray | None = None,
    stay_km: float = 0.0,
) -> np.ndarray:
    """Label each point 0..k-1 so groups are compact and carry about equal weight.

    ``fixed[i] >= 0`` forces point i into that group. ``anchors`` (k x 2) pull each
    group towards a place (a manager's office) with strength ``anchor_pull``.
    ``shares`` (summing to 1) give each group its part of the total weight (equal parts
    by default). A point whose ``current[i]`` group is another costs ``stay_km`` more
    there, so a redesign keeps what it can.
    """
    n = len(xy)
    if k <= 1 or n == 0:
        return np.zeros(n, dtype=np.int64)
    fixed = np.full(n, -1) if fixed is None else fixed
    if init is not None:
        centers = np.array(init, dtype=float)
    elif n >= k:
        centers = _kmeans_pp(xy, k, rng)
    else:
        centers = np.vstack([xy] * (k // n + 1))[:k].astype(float)
    for j in range(k):
        mine = fixed == j
        if mine.any():
            centers[j] = xy[mine].mean(axis=0)
    share = np.full(k, 1.0 / k) if shares is None else np.asarray(shares, dtype=float) / np.sum(shares)
    cap = weights.sum() * share * slack
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(iterations):
        cost = np.sqrt(((xy[:, None, :] - centers[None, :, :]) ** 2).sum(-1))
        if anchors is not None and anchor_pull > 0:
            cost = cost + anchor_pull * np.sqrt(((xy[:, None, :] - anchors[None, :, :]) ** 2).sum(-1))
        if current is not None and stay_km > 0:
            cost = cost + stay_km * ((current[:, None] >= 0) & (current[:, None] != np.arange(k)[None, :]))
        load = np.zeros(k)
        new = np.full(n, -1, dtype=np.int64)
        pinned = np.flatnonzero(fixed >= 0)
        new[pinned] = fixed[pinned]
        np.add.at(load, fixed[pinned], weights[pinned])
        free = np.flatnonzero(fixed < 0)
        order = np.argsort(cost[free], axis=1, kind="stable")
        part = np.take_along_axis(cost[free], order[:, :2], axis=1)
        regret = part[:, 1] - part[:, 0]
        turn = np.argsort(-regret, kind="stable")
        _fill(free[turn], order[turn], weights, load, cap, new)
        for j in range(k):
            mine = new == j
            if mine.any():
                centers[j] = np.average(xy[mine], axis=0, weights=weights[mine] + 1e-9)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def wedges(
    xy: np.ndarray, weights: np.ndarray, centre: np.ndarray, shares: np.ndarray, *, fixed: np.ndarray | None = None
) -> np.ndarray:
    """Label each point 0..k-1 by wedges around ``centre``, each carrying its ``shares`` part of
    the total weight (k = ``len(shares)``).

    The cut starts in the widest empty direction around the centre, so no wedge straddles a gap.
    ``fixed[i] >= 0`` keeps point i in that group; a group with pinned points takes the wedge
    where they lie (groups in order of their pins' median angle, those without pins after).
    """
    n, k = len(xy), len(shares)
    fixed = np.full(n, -1) if fixed is None else fixed
    if n == 0 or k <= 1:
        return np.zeros(n, dtype=np.int64)
    rel = xy - centre
    angle = np.arctan2(rel[:, 1], rel[:, 0])
    around = np.sort(angle)
    gaps = np.diff(np.concatenate([around, [around[0] + 2 * np.pi]]))
    turned = (angle - around[(int(np.argmax(gaps)) + 1) % n]) % (2 * np.pi)
    where = [float(np.median(turned[fixed == j])) if (fixed == j).any() else np.inf for j in range(k)]
    sequence = np.argsort(np.array(where), kind="stable")
    share = np.asarray(shares, dtype=float)[sequence]
    bounds = np.cumsum(share) / max(float(share.sum()), 1e-12) * weights.sum()
    order = np.argsort(turned, kind="stable")
    middle = np.cumsum(weights[order]) - weights[order] / 2  # each point's place along the sweep
    labels = np.zeros(n, dtype=np.int64)
    labels[order] = sequence[np.minimum(np.searchsorted(bounds, middle), k - 1)]
    pinned = fixed >= 0
    labels[pinned] = fixed[pinned]
    return labels


def office_pull(offices: np.ndarray) -> float:
    """How strongly groups are drawn to their offices: only when the offices are apart (more than 1 km)."""
    return OFFICE_PULL if len(offices) > 1 and float(np.ptp(offices, axis=0).max()) > 1.0 else 0.0


def split_among_offices(
    xy: np.ndarray,
    weights: np.ndarray,
    offices: np.ndarray,
    rng: np.random.Generator,
    *,
    fixed: np.ndarray,
    shares: np.ndarray | None = None,
) -> np.ndarray:
    """Balanced groups, one per office, each matched to the nearest free office, then refined with pins."""
    k = len(offices)
    first = balanced_clusters(xy, weights, k, rng, shares=shares)
    first = match_groups(group_centers(xy, first, k), offices)[first]
    return balanced_clusters(
        xy, weights, k, rng, fixed=fixed, anchors=offices, anchor_pull=office_pull(offices),
        init=group_centers(xy, first, k), shares=shares,
    )  # fmt: skip


def nearest_anchors(
    xy: np.ndarray,
    weights: np.ndarray,
    anchors: np.ndarray,
    *,
    fixed: np.ndarray,
    shares: np.ndarray,
    tolerance: float = 0.02,
    rounds: int = 400,
) -> np.ndarray:
    """Each point to its nearest anchor (a market office), with each anchor's part of the total
    weight kept to its share.

    A capacitated nearest-office assignment solved on prices: an anchor whose points carry more
    than its share grows dearer (km added to every distance to it) until the loads match, so the
    areas are the nearest-office areas of the city with their borders moved, and every point is
    as near its anchor as the balance allows. A compact cluster that merely contains the most
    work can lie far from its office, and every working day then starts with that drive.
    ``fixed[i] >= 0`` pins point i to that anchor. Loads still off by more than ``tolerance``
    after ``rounds`` are evened out by :func:`rebalance`.
    """
    n, k = len(xy), len(anchors)
    dist = np.sqrt(((xy[:, None, :] - anchors[None, :, :]) ** 2).sum(-1))
    share = np.asarray(shares, dtype=float) / max(float(np.sum(shares)), 1e-12)
    target = weights.sum() * share
    pinned = np.flatnonzero(fixed >= 0)
    closed = np.where(target > 0, 0.0, np.inf)  # an anchor with no share takes only its pins
    scale = max(float(np.median(dist.min(axis=1))) if n else 0.0, 1e-3)
    price = np.zeros(k)
    best, best_off = np.zeros(n, dtype=np.int64), np.inf
    step = 0.5 * scale
    for _ in range(rounds):
        labels = np.argmin(dist + price + closed, axis=1)
        labels[pinned] = fixed[pinned]
        load = np.bincount(labels, weights=weights, minlength=k)
        rel = np.divide(load, target, out=np.ones(k), where=target > 0)
        off = float(np.abs(rel - 1).max())
        if off < best_off:
            best, best_off = labels, off
        if off <= tolerance:
            break
        price += step * (rel - 1)
        step *= 0.98
    if best_off > tolerance:
        best = rebalance(xy, weights, best, np.maximum(share, 1e-12), fixed=fixed, tolerance=tolerance)
    return best


def group_centers(xy: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean position of each group (the overall mean for an empty group)."""
    overall = xy.mean(axis=0)
    return np.array([_center(xy, labels, j, overall) for j in range(k)]).reshape(k, 2)


def _center(xy: np.ndarray, labels: np.ndarray, j: int, overall: np.ndarray) -> np.ndarray:
    mine = labels == j
    return xy[mine].mean(axis=0) if mine.any() else overall


def match_groups(centers: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Greedy one-to-one match of group centres to anchors, nearest pair first.

    Returns ``perm`` with ``perm[group] = anchor``.
    """
    return cheapest_pairs(np.sqrt(((centers[:, None, :] - anchors[None, :, :]) ** 2).sum(-1)))


def cheapest_pairs(cost: np.ndarray) -> np.ndarray:
    """Greedy one-to-one match of the rows of a square ``cost`` to its columns, cheapest pair
    first (ties by position). Returns ``perm`` with ``perm[row] = column``."""
    k = len(cost)
    perm = np.full(k, -1, dtype=np.int64)
    used = np.zeros(k, dtype=bool)
    for flat in np.argsort(cost, axis=None, kind="stable"):
        g, a = divmod(int(flat), k)
        if perm[g] < 0 and not used[a]:
            perm[g] = a
            used[a] = True
    return perm


def rebalance(
    xy: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray,
    shares: np.ndarray,
    *,
    fixed: np.ndarray | None = None,
    tolerance: float = 0.02,
    max_moves: int = 5000,
    current: np.ndarray | None = None,
    stay_km: float = 0.0,
) -> np.ndarray:
    """Even out group loads (per share) by moving border points, keeping groups compact.

    Alternately the heaviest group gives and the lightest takes a point: each time the one
    whose distance to its new group's centre grows least (plus ``stay_km`` for taking a
    point away from its ``current`` group). Stops when the heaviest load is within
    ``1 + 2 * tolerance`` of the lightest, or no move helps.
    """
    labels = labels.copy()
    k = len(shares)
    share = np.asarray(shares, dtype=float) / np.sum(shares)
    target = weights.sum() * share
    movable = np.ones(len(xy), dtype=bool) if fixed is None else fixed < 0
    load = np.bincount(labels, weights=weights, minlength=k)
    near = nearest_neighbours(xy, NEIGHBOURS)

    def borders(cand: np.ndarray) -> np.ndarray:
        """Which groups each candidate touches: some of its nearest neighbours are there."""
        counts = np.zeros((len(cand), k))
        rows = np.repeat(np.arange(len(cand)), near.shape[1])
        np.add.at(counts, (rows, labels[near[cand]].ravel()), 1.0)
        return counts >= BORDER_VOTES

    def apart(points: np.ndarray, groups: np.ndarray | int) -> np.ndarray:
        """Distance of each point to its group's centre (or to one group's)."""
        return np.sqrt(((xy[points] - centers[groups]) ** 2).sum(-1))

    # a move changes two groups' centres only: the others are kept, so a step costs the points
    # of the groups it looks at, not every point times every group (hundreds of managers)
    overall = xy.mean(axis=0)
    centers = group_centers(xy, labels, k)
    for step in range(max_moves):
        rel = load / target
        hi, lo = int(np.argmax(rel)), int(np.argmin(rel))
        if rel[hi] <= (1 + 2 * tolerance) * rel[lo]:
            break
        if step % 2 == 0:  # the heaviest gives to whichever lighter group it borders best
            cand = np.flatnonzero((labels == hi) & movable)
            dist = np.sqrt(((xy[cand, None, :] - centers[None, :, :]) ** 2).sum(-1))
            grow = dist - dist[:, [hi]] + _leaving(cand, np.full(len(cand), hi), np.arange(k), current, stay_km)
            after = (load[None, :] + weights[cand, None]) / target[None, :]
            ok = (after < rel[hi]) & (np.arange(k)[None, :] != hi)
            grow = np.where(ok, grow + np.where(borders(cand), 0.0, ENCLAVE_KM), np.inf)
            if not len(cand) or not np.isfinite(grow).any():
                continue
            i, j = divmod(int(np.argmin(grow)), k)
        else:  # the lightest takes from whichever heavier group borders it best
            cand = np.flatnonzero((labels != lo) & movable)
            own = labels[cand]
            taken = (labels[near[cand]] == lo).sum(axis=1) >= BORDER_VOTES
            into = apart(cand, lo) - apart(cand, own) + _leaving(cand, own, np.array([lo]), current, stay_km)[:, 0]
            ok = (load[lo] + weights[cand]) / target[lo] < rel[own]
            into = np.where(ok, into + np.where(taken, 0.0, ENCLAVE_KM), np.inf)
            if not len(cand) or not np.isfinite(into).any():
                break
            i, j = int(np.argmin(into)), lo
        point = int(cand[i])
        was = int(labels[point])
        load[was] -= weights[point]
        load[j] += weights[point]
        labels[point] = j
        centers[was], centers[j] = _center(xy, labels, was, overall), _center(xy, labels, j, overall)
    return labels


def _leaving(points: np.ndarray, src: np.ndarray, groups: np.ndarray, current: np.ndarray | None,
             stay_km: float) -> np.ndarray:  # fmt: skip
    """Extra cost of moving each point from ``src`` to each of ``groups`` (a column each): leaving
    home costs, going home pays."""
    if current is None or stay_km <= 0:
        return np.zeros((len(points), len(groups)))
    home = current[points]
    cost = np.where((home[:, None] == src[:, None]) & (home[:, None] >= 0), stay_km, 0.0)
    return cost - np.where(home[:, None] == groups[None, :], stay_km, 0.0) * (home[:, None] != src[:, None])


def smooth(xy: np.ndarray, labels: np.ndarray, movable: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Give a movable point to the group most of its nearest neighbours belong to.

    Balancing by capacity can leave points inside another group's area; a few rounds of
    plurality vote make territories contiguous again (then rebalance evens the loads).
    """
    labels = labels.copy()
    near = nearest_neighbours(xy, NEIGHBOURS)
    if not near.shape[1]:
        return labels
    _vote(labels, near, np.flatnonzero(movable), rounds, int(labels.max()) + 1)
    return labels


@njit(cache=True)
def _fill(points, order, weights, load, cap, labels):
    """Each point in turn to its nearest group with room (by ``order``, its groups nearest first),
    else to the group least loaded for its capacity: the greedy step of :func:`balanced_clusters`."""
    for row in range(len(points)):
        i = points[row]
        j = -1
        for g in order[row]:
            if load[g] + weights[i] <= cap[g]:
                j = g
                break
        if j < 0:
            j = np.argmin(load / cap)
        labels[i] = j
        load[j] += weights[i]


@njit(cache=True)
def _vote(labels, near, movable, rounds, k):
    """The plurality rounds of :func:`smooth`, in place."""
    votes = np.zeros(k, dtype=np.int64)
    for _ in range(rounds):
        changed = False
        for i in movable:
            votes[:] = 0
            for n in near[i]:
                votes[labels[n]] += 1
            top = np.argmax(votes)
            if top != labels[i] and votes[top] > votes[labels[i]] + 1:
                labels[i] = top
                changed = True
        if not changed:
            break
