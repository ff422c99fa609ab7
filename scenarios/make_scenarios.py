"""Regenerate the bundled scenarios from a seed: ``python scenarios/make_scenarios.py``.

- ``demo-city``: 1,500 shops in clustered districts of a city (10% A, 30% B, 60% C),
  five customer managers from one office, December 2026 with Christmas off and one
  manager's day off.
- ``tiny``: 90 shops, two managers, small daily minimums: quick enough for tests.
- ``demo-grows/new-shops.csv``: 300 shops opening in the demo city (a what-if variant).

The other variant folders (``demo-*``) are written by hand: each is a ``scenario.toml``
that extends ``demo-city``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from routeplan.model import Rules
from routeplan.synth import shape, synthetic_scenario
from routeplan.write import write_scenario

HERE = Path(__file__).resolve().parent


NAMES = ["王伟 Wang Wei", "李娜 Li Na", "张强 Zhang Qiang", "刘洋 Liu Yang", "陈静 Chen Jing"]


def demo_city():
    sc = synthetic_scenario(shape("city", 1500, 5), seed=2026)
    managers = [replace(m, name=NAMES[i]) for i, m in enumerate(sc.managers)]
    managers[2] = replace(managers[2], days_off=frozenset({date(2026, 12, 16)}))
    retailers = list(sc.retailers)
    for i in range(0, len(retailers), 37):  # some shops close on Mondays
        retailers[i] = replace(retailers[i], closed_weekdays=frozenset({0}))
    return replace(sc, name="Demo city", managers=tuple(managers), retailers=tuple(retailers))


def tiny():
    rules = Rules(min_stops_per_day=8, min_field_minutes=90, max_day_minutes=600)
    sc = synthetic_scenario(shape("city", 90, 2), seed=7, rules=rules)
    return replace(sc, name="Tiny town")


def new_shops(count: int = 300):
    """Shops opening in the demo city: the same districts, new ids ``N0001``..."""
    grown = synthetic_scenario(shape("city", 1500 + count, 5), seed=2026)
    fresh = grown.retailers[-count:]
    return [
        replace(r, id=f"N{i + 1:04d}", name=f"{r.name.rsplit(' ', 1)[0]} N{i + 1:04d}") for i, r in enumerate(fresh)
    ]


def write_new_shops(path: Path) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "name", "lat", "lon", "class", "address", "phone"])
        for r in new_shops():
            w.writerow([r.id, r.name, f"{r.location.lat:.6f}", f"{r.location.lon:.6f}", r.klass, r.address, r.phone])


if __name__ == "__main__":
    write_scenario(HERE / "demo-city", demo_city())
    write_scenario(HERE / "tiny", tiny())
    write_new_shops(HERE / "demo-grows" / "new-shops.csv")
    print("wrote", HERE / "demo-city", HERE / "tiny", HERE / "demo-grows" / "new-shops.csv")
