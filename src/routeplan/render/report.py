"""The what-if report: the comparison table and a small territory map per plan, in one HTML file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..geo import EARTH_RADIUS_KM
from ..model import Scenario
from .jinja import template
from .view import PALETTE

MAP_MM = 80.0


@dataclass(frozen=True)
class TerritoryMap:
    name: str
    dots: tuple[tuple[float, float, str], ...]
    offices: tuple[tuple[float, float, str], ...]
    legend: tuple[tuple[str, str], ...]


def territory_maps(named: Sequence[tuple[str, Scenario, dict[str, str]]], size: float = MAP_MM) -> list[TerritoryMap]:
    """One map per (name, scenario, shop -> manager), all on the same projection so they compare."""
    points = [r.location for _, sc, _ in named for r in sc.retailers] + [
        m.office for _, sc, _ in named for m in sc.managers
    ]
    lat0 = sum(p.lat for p in points) / len(points)
    kx = math.radians(1.0) * EARTH_RADIUS_KM * math.cos(math.radians(lat0))
    ky = math.radians(1.0) * EARTH_RADIUS_KM
    xs = [p.lon * kx for p in points]
    ys = [p.lat * ky for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 0.1)
    scale = (size - 6) / span
    x0, y1 = min(xs), max(ys)

    def at(lat: float, lon: float) -> tuple[float, float]:
        return round(3 + (lon * kx - x0) * scale, 2), round(3 + (y1 - lat * ky) * scale, 2)

    out = []
    for name, sc, manager_of in named:
        colour = {m.id: PALETTE[i % len(PALETTE)] for i, m in enumerate(sc.managers)}
        dots = tuple(
            (*at(r.location.lat, r.location.lon), colour.get(manager_of.get(r.id, ""), "#000")) for r in sc.retailers
        )
        offices = tuple((*at(m.office.lat, m.office.lon), colour[m.id]) for m in sc.managers)
        legend = tuple((m.id, colour[m.id]) for m in sc.managers)
        out.append(TerritoryMap(name, dots, offices, legend))
    return out


def report_html(title: str, names: Sequence[str], rows: list[tuple[str, list[str]]], maps: list[TerritoryMap]) -> str:
    return template("report.html.j2").render(title=title, names=names, rows=rows, maps=maps, size=MAP_MM)
