"""Synthetic territories of realistic shape, for the demo, tests and benchmarks.

Shops cluster in districts around a city centre (a Gaussian blob per district,
plus a thin scatter); ``townships`` adds small towns 25-35 km out; ``two_offices``
splits the staff between two offices. The same seed always gives the same scenario.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from .calendar import Calendar
from .geo import LatLon
from .model import ClassRule, Manager, Retailer, Rules, Scenario

SHAPES = ("city", "dense", "townships", "two_offices")

_PREFIX = ["幸运", "好邻居", "Lucky", "Sunrise", "佳佳", "Corner", "Golden", "红旗", "Happy", "新星", "Family", "万家"]
_SUFFIX = ["便利店", "超市", "Mart", "Store", "商店", "Grocery", "小卖部", "Market"]
_STREETS = ["人民路", "建设路", "Station Rd", "解放路", "River St", "中山路", "Park Ave", "和平街"]


#: The synthetic city's centre (a real city's, so maps look familiar).
CENTRE = LatLon(30.6586, 104.0648)


@dataclass(frozen=True)
class Shape:
    """Parameters of a synthetic city."""

    name: str = "city"
    n_shops: int = 1500
    n_managers: int = 5
    centre: LatLon = CENTRE
    radius_km: float = 9.0
    districts: int = 14
    district_km: float = 1.1
    townships: int = 0
    two_offices: bool = False
    class_mix: tuple[float, float, float] = (0.10, 0.30, 0.60)


def shape(name: str, n_shops: int = 1500, n_managers: int = 5) -> Shape:
    if name == "city":
        return Shape("city", n_shops, n_managers)
    if name == "dense":
        return Shape("dense", n_shops, n_managers, radius_km=4.0, districts=10, district_km=0.6)
    if name == "townships":
        return Shape("townships", n_shops, n_managers, radius_km=7.0, districts=10, townships=4)
    if name == "two_offices":
        return Shape("two_offices", n_shops, n_managers, radius_km=14.0, districts=16, two_offices=True)
    raise ValueError(f"unknown shape '{name}' (use {', '.join(SHAPES)})")


def _offset(centre: LatLon, dx_km: np.ndarray, dy_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = centre.lat + dy_km / 111.195
    lon = centre.lon + dx_km / (111.195 * math.cos(math.radians(centre.lat)))
    return lat, lon


def synthetic_scenario(
    spec: Shape, *, seed: int = 0, year: int = 2026, month: int = 12, rules: Rules | None = None
) -> Scenario:
    """A scenario of the given shape; classes A (4 visits, 15 min), B and C (2 visits)."""
    rng = np.random.default_rng(seed)
    rules = rules or Rules()
    n = spec.n_shops
    n_town = int(n * 0.12) if spec.townships else 0
    n_scatter = int(n * 0.08)
    n_district = n - n_town - n_scatter
    ang = rng.uniform(0, 2 * np.pi, spec.districts)
    rad = spec.radius_km * np.sqrt(rng.uniform(0.05, 1.0, spec.districts))
    centres = np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])
    sizes = rng.dirichlet(np.full(spec.districts, 3.0)) * n_district
    counts = np.floor(sizes).astype(int)
    counts[: n_district - counts.sum()] += 1
    pts = [centres[i] + rng.normal(0, spec.district_km, (counts[i], 2)) for i in range(spec.districts)]
    pts.append(rng.uniform(-spec.radius_km, spec.radius_km, (n_scatter, 2)))
    if n_town:
        t_ang = rng.uniform(0, 2 * np.pi, spec.townships)
        t_rad = rng.uniform(25, 35, spec.townships)
        t_counts = np.full(spec.townships, n_town // spec.townships)
        t_counts[: n_town - t_counts.sum()] += 1
        for i in range(spec.townships):
            c = np.array([t_rad[i] * np.cos(t_ang[i]), t_rad[i] * np.sin(t_ang[i])])
            pts.append(c + rng.normal(0, 0.8, (t_counts[i], 2)))
    xy = np.vstack(pts)[:n]
    lat, lon = _offset(spec.centre, xy[:, 0], xy[:, 1])
    classes = rng.choice(["A", "B", "C"], size=n, p=list(spec.class_mix))
    class_rules = {"A": ClassRule("A", 4, 15.0), "B": ClassRule("B", 2, None), "C": ClassRule("C", 2, None)}
    retailers = []
    for i in range(n):
        k = str(classes[i])
        cr = class_rules[k]
        name = f"{_PREFIX[rng.integers(len(_PREFIX))]}{_SUFFIX[rng.integers(len(_SUFFIX))]} {i + 1:04d}"
        retailers.append(
            Retailer(
                id=f"R{i + 1:04d}",
                name=name,
                location=LatLon(round(float(lat[i]), 6), round(float(lon[i]), 6)),
                klass=k,
                visits_per_month=cr.visits_per_month or rules.min_visits_per_month,
                service_minutes=cr.service_minutes or rules.service_minutes,
                address=f"{int(rng.integers(1, 300))} {_STREETS[rng.integers(len(_STREETS))]}",
                phone=f"+86 28 {int(rng.integers(10_000_000, 99_999_999))}",
            )
        )
    offices = [spec.centre]
    if spec.two_offices:
        offices = [
            LatLon(*map(float, _offset(spec.centre, np.array(-8.0), np.array(0.0)))),
            LatLon(*map(float, _offset(spec.centre, np.array(8.0), np.array(0.0)))),
        ]
    managers = tuple(
        Manager(
            id=f"M{j + 1:02d}",
            name=f"Manager {j + 1}",
            office=LatLon(round(offices[j % len(offices)].lat, 6), round(offices[j % len(offices)].lon, 6)),
            min_stops_per_day=rules.min_stops_per_day,
        )
        for j in range(spec.n_managers)
    )
    cal = Calendar(year, month, (0, 1, 2, 3, 4), frozenset(_holidays(year, month)), rules.cycle_weeks)
    return Scenario(
        name=f"Synthetic {spec.name} ({n} shops, {spec.n_managers} managers)",
        calendar=cal,
        rules=rules,
        retailers=tuple(retailers),
        managers=managers,
        classes=class_rules,
    )


def _holidays(year: int, month: int) -> list[date]:
    if month == 12:
        return [date(year, 12, 25)]
    if month == 1:
        return [date(year, 1, 1)]
    return []


#: A synthetic city company: shops per customer manager and per market office (the issue's
#: 30,000 shops under 88 managers in 6 offices).
COMPANY_SHOPS_PER_MANAGER = 340
COMPANY_SHOPS_PER_OFFICE = 5000


def company_scenario(
    n_shops: int, *, seed: int = 0, rules: Rules | None = None, offices: int | None = None
) -> Scenario:
    """A city of ``n_shops`` (its area grows with them) with ``offices`` named market offices
    around the centre (default: one per ~5,000 shops), and a manager per ~340 shops shared among them."""
    k_offices = offices or max(1, round(n_shops / COMPANY_SHOPS_PER_OFFICE))
    n_managers = max(k_offices, math.ceil(n_shops / COMPANY_SHOPS_PER_MANAGER))
    scale = math.sqrt(n_shops / 1500)
    spec = Shape("company", n_shops, n_managers, radius_km=9.0 * scale, districts=max(14, round(14 * scale**2)))
    sc = synthetic_scenario(spec, seed=seed, rules=rules)
    ring = 0.55 * spec.radius_km if k_offices > 1 else 0.0
    angles = 2 * np.pi * np.arange(k_offices) / k_offices
    lat, lon = _offset(spec.centre, ring * np.cos(angles), ring * np.sin(angles))
    managers = tuple(
        dataclasses.replace(
            m, office=LatLon(round(float(lat[j % k_offices]), 6), round(float(lon[j % k_offices]), 6)),
            office_id=f"Office {j % k_offices + 1}",
        )
        for j, m in enumerate(sc.managers)
    )  # fmt: skip
    name = f"Synthetic company ({n_shops} shops, {n_managers} managers, {k_offices} offices)"
    return dataclasses.replace(sc, name=name, managers=managers)
