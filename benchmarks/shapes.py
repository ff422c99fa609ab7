"""The scenarios every benchmark runs on: the bundled demo and synthetic cities of other shapes."""

from __future__ import annotations

from pathlib import Path

from routeplan.model import Scenario
from routeplan.read import read_scenario
from routeplan.synth import shape, synthetic_scenario

ROOT = Path(__file__).resolve().parents[1]
#: Other shapes: (shape, shops, managers), sized for about 33 stops a route like the demo.
SHAPES = {
    "dense": ("dense", 1500, 5),
    "townships": ("townships", 1300, 5),
    "two_offices": ("two_offices", 2000, 7),
}
DEFAULT = "demo," + ",".join(SHAPES)


#: Real shop positions from OpenStreetMap (../shared/data; absent in a user's clone).
EDINBURGH = ROOT.parent / "shared" / "data" / "edinburgh-shops.csv"


def edinburgh(managers: int = 9) -> Scenario:
    """The 3,233 OpenStreetMap shops of Edinburgh, one office in the centre, December 2026.

    Classes are drawn as in the synthetic cities (10% A, 30% B, 60% C) from a fixed seed.
    """
    import csv
    from datetime import date

    import numpy as np

    from routeplan.calendar import Calendar
    from routeplan.geo import LatLon
    from routeplan.model import ClassRule, Manager, Retailer, Rules

    rows = list(csv.DictReader(EDINBURGH.open(encoding="utf-8-sig")))
    rng = np.random.default_rng(11)
    klass = rng.choice(["A", "B", "C"], size=len(rows), p=[0.1, 0.3, 0.6])
    classes = {"A": ClassRule("A", 4, 15.0), "B": ClassRule("B", 2, None), "C": ClassRule("C", 2, None)}
    shops = tuple(
        Retailer(
            id=f"E{i + 1:04d}", name=(r.get("name") or r.get("shop") or r.get("amenity") or "shop")[:60],
            location=LatLon(float(r["latitude"]), float(r["longitude"])), klass=str(k),
            visits_per_month=classes[str(k)].visits_per_month or 2, service_minutes=classes[str(k)].service_minutes or 10.0,
        )
        for i, (r, k) in enumerate(zip(rows, klass, strict=True))
    )  # fmt: skip
    office = LatLon(55.9533, -3.1883)  # Waverley, the city centre
    team = tuple(Manager(f"M{j + 1:02d}", f"Manager {j + 1}", office, 30) for j in range(managers))
    cal = Calendar(2026, 12, (0, 1, 2, 3, 4), frozenset({date(2026, 12, 25)}), 2)
    return Scenario("Edinburgh (OSM shops)", cal, Rules(), shops, team, classes)


def benchmark_scenario(name: str) -> Scenario:
    """``demo`` (scenarios/demo-city), ``edinburgh`` (real shops) or one of :data:`SHAPES` (seed 11)."""
    if name == "demo":
        return read_scenario(ROOT / "scenarios" / "demo-city")
    if name == "edinburgh":
        return edinburgh()
    kind, n, k = SHAPES[name]
    return synthetic_scenario(shape(kind, n, k), seed=11)
