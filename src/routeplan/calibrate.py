"""Fitting the great-circle model to a road network, for offices without an extract.

The great-circle model drives ``detour_factor`` x the straight line at ``speed_kmh``. On the
short hops a customer manager's day is made of, :func:`calibrate` compares it with the road
model (each sampled shop to its nearest shops) and fits both numbers: the detour factor as the
median of road km over straight km, the speed as road km over road minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geo import LatLon, haversine_km
from .model import Scenario
from .travel import TravelModel

#: Each sampled shop is paired with this many of its nearest shops (a route's hops).
NEAR = 8
#: Hops shorter than this (m) are left out: the snap to the road dominates them.
MIN_HOP_KM = 0.05


@dataclass(frozen=True)
class Calibration:
    """How far the scenario's great-circle settings are from the roads, and the fitted ones."""

    hops: int
    detour_now: float
    speed_now: float
    detour_fit: float
    speed_fit: float
    #: road km over straight km: 5th, 50th and 95th percentile
    ratio_quantiles: tuple[float, float, float]
    #: median relative error of a hop's minutes with the current and with the fitted settings
    error_now: float
    error_fit: float
    far_from_road: tuple[str, ...]


def calibrate(scenario: Scenario, roads: TravelModel, sample: int = 400, seed: int = 0) -> Calibration:
    """Fit ``detour_factor`` and ``speed_kmh`` to ``roads`` on up to ``sample`` of the scenario's shops."""
    shops = list(scenario.retailers)
    rng = np.random.default_rng(seed)
    if len(shops) > sample:
        shops = [shops[i] for i in sorted(rng.choice(len(shops), size=sample, replace=False))]
    points: list[LatLon] = [r.location for r in shops]
    km, minutes = roads.matrices(points)
    lats = np.array([p.lat for p in points])
    lons = np.array([p.lon for p in points])
    straight = haversine_km(lats[:, None], lons[:, None], lats[None, :], lons[None, :])
    masked = straight + np.eye(len(points)) * 1e9
    near = np.argsort(masked, axis=1)[:, : min(NEAR, max(1, len(points) - 1))]
    rows = np.repeat(np.arange(len(points)), near.shape[1])
    cols = near.ravel()
    keep = straight[rows, cols] >= MIN_HOP_KM
    rows, cols = rows[keep], cols[keep]
    s, r_km, r_min = straight[rows, cols], km[rows, cols], minutes[rows, cols]
    ok = np.isfinite(r_km) & np.isfinite(r_min) & (r_min > 0)
    s, r_km, r_min = s[ok], r_km[ok], r_min[ok]
    rules = scenario.rules
    if not len(s):
        detour, speed = rules.detour_factor, rules.speed_kmh
        q: tuple[float, float, float] = (float("nan"),) * 3  # type: ignore[assignment]
        err_now = err_fit = float("nan")
    else:
        ratio = r_km / s
        detour = float(np.median(ratio))
        speed = float(r_km.sum() / r_min.sum() * 60.0)
        q = tuple(float(x) for x in np.percentile(ratio, [5, 50, 95]))  # type: ignore[assignment]
        now = s * rules.detour_factor / rules.speed_kmh * 60.0
        fit = s * detour / speed * 60.0
        err_now = float(np.median(np.abs(now - r_min) / r_min))
        err_fit = float(np.median(np.abs(fit - r_min) / r_min))
    far: dict[LatLon, float] = getattr(roads, "far_from_road", dict)()
    by_place = {r.location: r.id for r in shops}
    return Calibration(
        hops=len(s), detour_now=rules.detour_factor, speed_now=rules.speed_kmh, detour_fit=round(detour, 2),
        speed_fit=round(speed, 1), ratio_quantiles=q, error_now=err_now, error_fit=err_fit,
        far_from_road=tuple(sorted(by_place[p] for p in far if p in by_place)),
    )  # fmt: skip
