"""Splitting points into compact groups of about equal work (balanced k-means).

Used for territories (shops -> managers) and, inside a territory, for the areas
worked on each weekday and each week of the cycle.
"""

from __future__ import annotations

import numpy as np

#: How far a group's load may exceed the mean before points spill to the next-best group.
DEFAULT_SLACK = 1.03


def _kmeans_pp(xy: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centers = [xy[int(rng.integers(len(xy)))]]
    for _ in range(1, k):
        d2 = np.min(((xy[:, None, :] - np.asarray(centers)[None, :, :]) ** 2).sum(-1), axis=1)
        total = d2.sum()
        pick = int(rng.choice(len(xy), p=d2 / total)) if total > 0 else int(rng.integers(len(xy)))
        centers.append(xy[pick])
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
) -> np.ndarray:
    """Label each point 0..k-1 so groups are compact and carry about equal weight.

    ``fixed[i] >= 0`` forces point i into that group. ``anchors`` (k x 2) pull each
    group towards a place (a manager's office) with strength ``anchor_pull``.
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
    cap = weights.sum() / k * slack
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(iterations):
        cost = np.sqrt(((xy[:, None, :] - centers[None, :, :]) ** 2).sum(-1))
        if anchors is not None and anchor_pull > 0:
            cost = cost + anchor_pull * np.sqrt(((xy[:, None, :] - anchors[None, :, :]) ** 2).sum(-1))
        load = np.zeros(k)
        new = np.full(n, -1, dtype=np.int64)
        pinned = np.flatnonzero(fixed >= 0)
        new[pinned] = fixed[pinned]
        np.add.at(load, fixed[pinned], weights[pinned])
        free = np.flatnonzero(fixed < 0)
        part = np.sort(cost[free], axis=1)
        regret = part[:, 1] - part[:, 0] if k > 1 else np.zeros(len(free))
        for i in free[np.argsort(-regret, kind="stable")]:
            order = np.argsort(cost[i], kind="stable")
            room = [j for j in order if load[j] + weights[i] <= cap]
            j = int(room[0]) if room else int(np.argmin(load))
            new[i] = j
            load[j] += weights[i]
        for j in range(k):
            mine = new == j
            if mine.any():
                centers[j] = np.average(xy[mine], axis=0, weights=weights[mine] + 1e-9)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def group_centers(xy: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean position of each group (the overall mean for an empty group)."""
    out = np.tile(xy.mean(axis=0), (k, 1))
    for j in range(k):
        mine = labels == j
        if mine.any():
            out[j] = xy[mine].mean(axis=0)
    return out


def match_groups(centers: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Greedy one-to-one match of group centres to anchors, nearest pair first.

    Returns ``perm`` with ``perm[group] = anchor``.
    """
    k = len(centers)
    cost = np.sqrt(((centers[:, None, :] - anchors[None, :, :]) ** 2).sum(-1))
    perm = np.full(k, -1, dtype=np.int64)
    used = np.zeros(k, dtype=bool)
    for flat in np.argsort(cost, axis=None, kind="stable"):
        g, a = divmod(int(flat), k)
        if perm[g] < 0 and not used[a]:
            perm[g] = a
            used[a] = True
    return perm
