"""Travel models: how far and how long between two places.

The solver only sees the two matrices a :class:`TravelModel` returns, so a road
network provider can replace the great-circle model without touching it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .geo import LatLon, distance_matrix_km
from .model import Rules


class TravelModel(Protocol):
    """Anything that can give road km and travel minutes between all pairs of points."""

    def matrices(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(dist_km, travel_min)``, both ``len(points)`` square float arrays."""
        ...


@dataclass(frozen=True)
class GreatCircleTravel:
    """Great-circle km times a detour factor, driven at a constant speed."""

    speed_kmh: float = 25.0
    detour_factor: float = 1.3

    @classmethod
    def from_rules(cls, rules: Rules) -> GreatCircleTravel:
        return cls(rules.speed_kmh, rules.detour_factor)

    def matrices(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        lats = np.fromiter((p.lat for p in points), float, len(points))
        lons = np.fromiter((p.lon for p in points), float, len(points))
        km = distance_matrix_km(lats, lons) * self.detour_factor
        return km, km / self.speed_kmh * 60.0
