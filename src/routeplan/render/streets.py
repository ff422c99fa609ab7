"""Street lines from a local OpenStreetMap extract, drawn where no tile server is reachable."""

from __future__ import annotations

import math
from pathlib import Path

from ..coords import from_wgs84
from ..errors import InputError
from ..geo import LatLon

#: Highway types a car or scooter uses in town; paths and footways would only clutter a route map.
DRIVABLE = frozenset(
    {
        "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
        "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link", "living_street", "service",
    }
)  # fmt: skip

Street = tuple[LatLon, ...]
BBox = tuple[float, float, float, float]  # south, west, north, east


def read_streets(path: str | Path, bbox: BBox, datum: str = "wgs84") -> tuple[Street, ...]:
    """The drivable ways of an ``.osm.pbf`` (or ``.osm``) file that touch ``bbox``, in ``datum``."""
    import osmium

    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", file=str(path), field="streets")
    south, west, north, east = bbox
    out: list[Street] = []
    try:
        ways = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
        for obj in ways:
            if not isinstance(obj, osmium.osm.Way) or obj.tags.get("highway") not in DRIVABLE:
                continue
            pts = [(n.lat, n.lon) for n in obj.nodes if n.location.valid()]
            if len(pts) >= 2 and any(south <= la <= north and west <= lo <= east for la, lo in pts):
                out.append(tuple(from_wgs84(LatLon(la, lo), datum) for la, lo in pts))
    except RuntimeError as exc:
        raise InputError(f"not a readable OpenStreetMap file ({exc})", file=str(path), field="streets") from exc
    return tuple(out)


def bbox_around(points: list[LatLon], margin_km: float = 1.0) -> BBox:
    """The box around ``points`` grown by ``margin_km`` on each side."""
    lats = [p.lat for p in points]
    lons = [p.lon for p in points]
    dlat = margin_km / 111.0
    dlon = margin_km / (111.0 * max(0.1, math.cos(math.radians(sum(lats) / len(lats)))))
    return (min(lats) - dlat, min(lons) - dlon, max(lats) + dlat, max(lons) + dlon)
