"""The printed map of one day's route: stops, office and streets projected onto the page.

Drawn as SVG in millimetres so it prints sharp and in black and white; the template
only places the numbers computed here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..geo import EARTH_RADIUS_KM, LatLon
from .streets import Street

#: Lengths a scale bar may show, in km.
SCALE_STEPS_KM = (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100)
PAD_MM = 7.0


@dataclass(frozen=True)
class DayMap:
    width: float
    height: float
    route: str
    stops: tuple[tuple[float, float, int], ...]
    office: tuple[float, float]
    streets: tuple[str, ...]
    scale_mm: float
    scale_label: str


class StreetIndex:
    """Streets with their bounding boxes, so each day's map takes only the ones it shows."""

    def __init__(self, streets: tuple[Street, ...]) -> None:
        self.lines = [np.asarray(s, dtype=float) for s in streets]
        if self.lines:
            self.lo = np.array([ln.min(axis=0) for ln in self.lines])
            self.hi = np.array([ln.max(axis=0) for ln in self.lines])

    def within(self, south: float, west: float, north: float, east: float) -> list[np.ndarray]:
        if not self.lines:
            return []
        keep = (self.hi[:, 0] >= south) & (self.lo[:, 0] <= north) & (self.hi[:, 1] >= west) & (self.lo[:, 1] <= east)
        return [self.lines[i] for i in np.flatnonzero(keep)]


def _path(xy: np.ndarray) -> str:
    return "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in xy)


def day_map(
    office: LatLon,
    stops: list[LatLon],
    streets: StreetIndex | None,
    width: float = 90.0,
    height: float = 90.0,
    track: Sequence[LatLon] = (),
) -> DayMap:
    """Fit the office and the day's stops into a ``width`` x ``height`` mm box; the route is drawn
    along ``track`` (the streets driven, with the road model) or straight from stop to stop."""
    pts = np.array([office, *stops], dtype=float)
    lat0 = float(pts[:, 0].mean())
    kx = math.radians(1.0) * EARTH_RADIUS_KM * math.cos(math.radians(lat0))
    ky = math.radians(1.0) * EARTH_RADIUS_KM
    xy_km = np.column_stack(((pts[:, 1] - pts[0, 1]) * kx, (pts[:, 0] - pts[0, 0]) * ky))
    lo, hi = xy_km.min(axis=0), xy_km.max(axis=0)
    span = np.maximum(hi - lo, 0.2)
    mm_per_km = min((width - 2 * PAD_MM) / span[0], (height - 2 * PAD_MM) / span[1])
    mid = (lo + hi) / 2

    def project(lat_lon: np.ndarray) -> np.ndarray:
        x = ((lat_lon[:, 1] - pts[0, 1]) * kx - mid[0]) * mm_per_km + width / 2
        y = height / 2 - ((lat_lon[:, 0] - pts[0, 0]) * ky - mid[1]) * mm_per_km
        return np.column_stack((x, y))

    xy = project(pts)
    line = project(np.array(track, dtype=float)) if len(track) > 1 else xy
    street_paths: tuple[str, ...] = ()
    if streets is not None:
        half_w, half_h = width / 2 / mm_per_km, height / 2 / mm_per_km
        south = pts[0, 0] + (mid[1] - half_h) / ky
        north = pts[0, 0] + (mid[1] + half_h) / ky
        west = pts[0, 1] + (mid[0] - half_w) / kx
        east = pts[0, 1] + (mid[0] + half_w) / kx
        street_paths = tuple(_path(project(line)) for line in streets.within(south, west, north, east))
    target = width * 0.3 / mm_per_km
    step = max((s for s in SCALE_STEPS_KM if s <= target), default=SCALE_STEPS_KM[0])
    label = f"{step * 1000:.0f} m" if step < 1 else f"{step:g} km"
    return DayMap(
        width=width,
        height=height,
        route=_path(line),
        stops=tuple((float(x), float(y), i) for i, (x, y) in enumerate(xy[1:], start=1)),
        office=(float(xy[0, 0]), float(xy[0, 1])),
        streets=street_paths,
        scale_mm=step * mm_per_km,
        scale_label=label,
    )
