"""Regenerate the bundled scenarios from a seed: ``python scenarios/make_scenarios.py``.

- ``demo-city``: 1,500 shops in clustered districts of a city (10% A, 30% B, 60% C),
  five customer managers from one office, December 2026 with Christmas off and one
  manager's day off.
- ``tiny``: 90 shops, two managers, small daily minimums: quick enough for tests.
- ``demo-grows/new-shops.csv``: 300 shops opening in the demo city (a what-if variant).
- ``demo-workbook``: the demo city as a sales system exports it: one Excel workbook with
  Chinese headers below a title row, numeric customer codes, GCJ-02 coordinates, a date
  cell for a day off and a column routeplan does not use.

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


WORKBOOK_TOML = """\
name = "Demo city (from the sales system's workbook)"
month = "2026-12"
retailers = { file = "客户名单.xlsx", sheet = "客户" }
staff = { file = "客户名单.xlsx", sheet = "客户经理" }
workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
holidays = ["2026-12-25"]
crs = "gcj02"  # the coordinates of Chinese web maps (Amap, Tencent)

[rules]
min_stops_per_day = 30
min_visits_per_month = 2
day_start = "07:30"
meeting_minutes = 30
min_field_minutes = 360
max_day_minutes = 600
service_minutes = 10
speed_kmh = 25
detour_factor = 1.3
cycle_weeks = 2

[classes.A]
visits_per_month = 4
service_minutes = 15

[classes.B]
visits_per_month = 2

[classes.C]
visits_per_month = 2
"""


def write_workbook_scenario(folder: Path) -> None:
    """The demo city as one workbook with Chinese headers (see the module docstring)."""
    import openpyxl

    from routeplan.calendar import format_weekdays
    from routeplan.coords import wgs84_to_gcj02
    from routeplan.read import read_scenario

    sc = read_scenario(HERE / "demo-city")
    wb = openpyxl.Workbook()
    shops = wb.active
    shops.title = "客户"
    shops.append(["2026年12月 零售客户明细（系统导出）"])
    shops.append(["序号", "客户编码", "客户名称", "档位", "经度", "纬度", "经营地址", "联系电话", "客户经理", "休息日",
                  "经营状态", "营业面积(㎡)"])  # fmt: skip
    zh = dict(zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), "一二三四五六日", strict=True))
    for i, r in enumerate(sc.retailers, start=1):
        p = wgs84_to_gcj02(r.location)
        closed = "、".join("周" + zh[d] for d in format_weekdays(sorted(r.closed_weekdays)).split(";") if d)
        shops.append([i, 510104000000 + int(r.id[1:]), r.name, r.klass, round(p.lon, 7), round(p.lat, 7), r.address,
                      r.phone, None, closed or None, "正常", 20 + i % 60])  # fmt: skip
    staff = wb.create_sheet("客户经理")
    staff.append(["工号", "姓名", "纬度", "经度", "休假日期"])
    for m in sc.managers:
        p = wgs84_to_gcj02(m.office)
        off = min(m.days_off) if m.days_off else None
        staff.append([m.id, m.name, round(p.lat, 7), round(p.lon, 7), off])
    folder.mkdir(exist_ok=True)
    wb.save(folder / "客户名单.xlsx")
    (folder / "scenario.toml").write_text(WORKBOOK_TOML, encoding="utf-8")


if __name__ == "__main__":
    write_scenario(HERE / "demo-city", demo_city())
    write_workbook_scenario(HERE / "demo-workbook")
    write_scenario(HERE / "tiny", tiny())
    write_new_shops(HERE / "demo-grows" / "new-shops.csv")
    print("wrote", HERE / "demo-city", HERE / "tiny", HERE / "demo-grows" / "new-shops.csv")
