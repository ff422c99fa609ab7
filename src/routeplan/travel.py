"""Travel models: how far and how long between two places.

The scenario names its travel model (:func:`travel_for`), and every part of routeplan
takes it from there: the solver sees only the two matrices :meth:`TravelModel.matrices`
returns, and the checker, the writer and the comparison ask :meth:`TravelModel.leg` for
single legs. Matrices may be asymmetric (one-way streets): ``dist[i, j]`` is from ``i``
to ``j``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from geopy.distance import great_circle

from .geo import LatLon, distance_matrix_km, haversine_km
from .model import Rules

if TYPE_CHECKING:
    from .model import Scenario


class TravelModel(Protocol):
    """Anything that can give road km and travel minutes between places."""

    def matrices(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(dist_km, travel_min)``, both ``len(points)`` square float arrays (row: from)."""
        ...

    def leg(self, a: LatLon, b: LatLon) -> tuple[float, float]:
        """Km and minutes from ``a`` to ``b``."""
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
        km = distance_matrix_km(lats, lons, self.detour_factor)
        return km, km * (60.0 / self.speed_kmh)

    def pair_minutes(self, a: Sequence[LatLon], b: Sequence[LatLon]) -> np.ndarray:
        """Minutes from each ``a[i]`` to ``b[i]`` (no matrix: for estimates over a whole city)."""
        la, lb = (
            np.array([(p.lat, p.lon) for p in a]).reshape(-1, 2),
            np.array([(p.lat, p.lon) for p in b]).reshape(-1, 2),
        )
        km = haversine_km(la[:, 0], la[:, 1], lb[:, 0], lb[:, 1]) * self.detour_factor
        return np.asarray(km * (60.0 / self.speed_kmh))

    def leg(self, a: LatLon, b: LatLon) -> tuple[float, float]:
        # geopy, not the numpy code of the matrices: the checker recomputes legs independently
        km = great_circle((a.lat, a.lon), (b.lat, b.lon)).km * self.detour_factor
        return km, km / self.speed_kmh * 60.0


class KeptTravel:
    """A travel model that keeps the matrices of the largest set of points it was asked for and
    hands the same arrays to every user: the problems of one month (the cycle, each lay of it
    onto the month, the free territories) are over the same places and share one pair of
    matrices, while the smaller sets a territory design asks for in between pass through.

    Its users read the arrays; the one write allowed is a month model's free end (a last point
    whose row and column it zeroes: every model over the same points writes the same zeros).
    Arrays a model hands out read-only (the road models' remembered tables) are copied once.
    """

    def __init__(self, travel: TravelModel) -> None:
        self.travel = travel
        self._points: tuple[LatLon, ...] = ()
        self._kept: tuple[np.ndarray, np.ndarray] | None = None

    def matrices(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        key = tuple(points)
        if self._kept is not None and key == self._points:
            return self._kept
        if len(key) < len(self._points):
            return self.travel.matrices(points)
        self._kept = None  # the last pair goes before the next is computed
        km, minutes = (m if m.flags.writeable else m.copy() for m in self.travel.matrices(points))
        self._points, self._kept = key, (km, minutes)
        return self._kept

    def leg(self, a: LatLon, b: LatLon) -> tuple[float, float]:
        return self.travel.leg(a, b)

    @classmethod
    def around(cls, travel: TravelModel) -> KeptTravel:
        """``travel`` keeping its matrices: itself where it already does."""
        return travel if isinstance(travel, cls) else cls(travel)


#: The road engines' walk or crawl from a place to the street it is snapped to (km/h), and the
#: snap beyond which a place is reported as far from a road (km).
SNAP_KMH = 10.0
FAR_FROM_ROAD_KM = 0.2


class MatrixLegs:
    """For models that compute whole matrices (the road engines): a single leg is looked up in the
    matrices computed so far, and the checker warms one manager's legs at a time. The class using
    it keeps ``_tables`` and calls :meth:`_remember` with every matrix it computes, and keeps the
    snap km of each place (``snapped``) and the pairs with no road between them (``unreachable``)."""

    _tables: list[tuple[dict[LatLon, int], np.ndarray, np.ndarray]]
    snapped: dict[LatLon, float]
    unreachable: set[tuple[LatLon, LatLon]]

    def far_from_road(self) -> dict[LatLon, float]:
        """Places snapped more than :data:`FAR_FROM_ROAD_KM` away, with their snap km."""
        return {p: d for p, d in self.snapped.items() if d > FAR_FROM_ROAD_KM}

    def matrices(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _remember(self, points: Sequence[LatLon], km: np.ndarray, minutes: np.ndarray) -> None:
        """Keep the matrices for :meth:`leg`, read-only: the arrays go to the caller too, and a
        write there (a month model's free end) would change the legs looked up here."""
        for mat in (km, minutes):
            mat.setflags(write=False)
        self._tables.append(({p: i for i, p in enumerate(points)}, km, minutes))

    def leg(self, a: LatLon, b: LatLon) -> tuple[float, float]:
        for index, km, minutes in reversed(self._tables):
            i, j = index.get(a), index.get(b)
            if i is not None and j is not None:
                return float(km[i, j]), float(minutes[i, j])
        km, minutes = self.matrices([a, b])
        return float(km[0, 1]), float(minutes[0, 1])

    def warm(self, points: Sequence[LatLon]) -> None:
        """Compute the legs among ``points`` in one go."""
        self.matrices(points)


_ROADS: dict[tuple[str, str], TravelModel] = {}


def travel_for(scenario: Scenario) -> TravelModel:
    """The travel model the scenario names (one road model per extract and process, so the
    checker finds the legs the solver computed)."""
    if scenario.travel_model == "great-circle":
        return GreatCircleTravel.from_rules(scenario.rules)
    if scenario.travel_model != "road":
        raise ValueError(f"unknown travel model {scenario.travel_model!r}")  # the scenario refuses it when built
    key = (scenario.engine, scenario.osrm_url or scenario.osm or "")
    if key not in _ROADS:
        _ROADS[key] = _road_model(scenario)
    return _ROADS[key]


def _road_model(scenario: Scenario) -> TravelModel:
    from .osrm import OsrmTravel, find_programs

    if scenario.osrm_url:
        return OsrmTravel(scenario.osrm_url)
    assert scenario.osm is not None  # the scenario checks it when built
    if scenario.engine == "osrm" or (scenario.engine == "auto" and find_programs() is not None):
        return OsrmTravel.for_extract(scenario.osm)
    from .roads import RoadTravel, road_graph

    return RoadTravel(road_graph(scenario.osm))


def close_models() -> None:
    """Stop what the road models started (an ``osrm-routed`` on loopback) and forget them."""
    for model in _ROADS.values():
        server = getattr(model, "server", None)
        if server is not None:
            server.stop()
    _ROADS.clear()
