"""Benchmark: a year of months, each planned as the continuation of the month before.

    python benchmarks/months.py [--time-limit 30] [--shapes demo,dense,two_offices] [--months 12] [--seed 0]
                                [--tradeoff-months 3] [--save FILE]

Each shape is planned fresh for December 2026; then every month of 2027 gets the churn of
a real branch (about 5% of shops close, a third of them suspended and reopening 1-3
months later; about 3% new shops, half of them in one new housing area; about 1% change
class) and is planned twice with the same time limit: continued from the month before
(``plan --previous``) and from scratch. One row per month: rules broken, continuing shops
keeping manager / route / weekday, stop pairs kept, moves per changed shop, km of the
continued plan against the fresh one, seconds. Then a trade-off table over ``--move-km``
on the demo's first months.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from shapes import benchmark_scenario

from routeplan.calendar import Calendar
from routeplan.check import check_plan
from routeplan.figures import total_km
from routeplan.geo import LatLon
from routeplan.model import Retailer, Scenario
from routeplan.plan import Plan
from routeplan.routebook import RouteBook, stability
from routeplan.solve.continuation import continue_month, continued_calendar
from routeplan.solve.month import PlanParams, plan_month

CLOSE_SHARE = 0.05
SUSPEND_SHARE = 1 / 3
NEW_SHARE = 0.03
CLASS_SHARE = 0.01
HOLIDAYS = {1: ["01-01"], 5: ["05-01"], 10: ["10-01"], 12: ["12-25"]}


def km(scenario: Scenario, plan: Plan) -> float:
    return total_km(scenario, plan)


def book_of(scenario: Scenario, plan: Plan) -> RouteBook:
    return RouteBook.of(scenario, plan, km(scenario, plan))


class Churn:
    """Next month's shops: closures, suspensions and reopenings, new shops, class changes."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.next_id = 1
        self.reopen: dict[str, int] = {}  # shop id -> month index it reopens
        self.classes = dict(scenario.classes)

    def month(self, sc: Scenario, year: int, month: int, index: int) -> Scenario:
        rng = self.rng
        active = list(sc.retailers)
        waiting = {r.id: r for r in sc.suspended}
        n = len(active)
        back = [waiting.pop(rid) for rid, at in list(self.reopen.items()) if at == index and rid in waiting]
        for r in back:
            del self.reopen[r.id]
        order = rng.permutation(n)
        n_close = round(CLOSE_SHARE * n)
        closing = [active[i] for i in order[:n_close]]
        suspend = closing[: round(SUSPEND_SHARE * n_close)]
        for r in suspend:
            self.reopen[r.id] = index + int(rng.integers(1, 4))
        gone = {r.id for r in closing}
        keep = [r for r in active if r.id not in gone]
        # class changes: B <-> A (2 <-> 4 visits), C -> B
        for i in rng.choice(len(keep), size=round(CLASS_SHARE * n), replace=False):
            r = keep[int(i)]
            new = {"A": "B", "B": "A", "C": "B"}.get(r.klass, r.klass)
            rule = self.classes.get(new)
            if rule is not None:
                keep[int(i)] = dataclasses.replace(
                    r, klass=new, visits_per_month=rule.visits_per_month or r.visits_per_month,
                    service_minutes=rule.service_minutes or sc.rules.service_minutes,
                )  # fmt: skip
        keep += self._new_shops(keep, round(NEW_SHARE * n))
        keep += back
        suspended = [*waiting.values(), *suspend]
        holidays = frozenset(np.datetime64(f"{year}-{d}").astype(object) for d in HOLIDAYS.get(month, []))
        cal = Calendar(year, month, sc.calendar.workdays, holidays, sc.calendar.cycle_weeks)
        managers = tuple(dataclasses.replace(m, days_off=frozenset()) for m in sc.managers)
        return dataclasses.replace(sc, calendar=cal, retailers=tuple(keep), suspended=tuple(suspended),
                                   managers=managers)  # fmt: skip

    def _new_shops(self, shops: list[Retailer], count: int) -> list[Retailer]:
        rng = self.rng
        lats = np.array([r.location.lat for r in shops])
        lons = np.array([r.location.lon for r in shops])
        # half in one new housing area: at the edge of the shops, 0.6 km across
        far = int(rng.integers(len(shops)))
        centre = (lats[far], lons[far])
        out = []
        template = shops[0]
        for j in range(count):
            if j < count // 2:
                lat = centre[0] + rng.normal(0, 0.6 / 111.2)
                lon = centre[1] + rng.normal(0, 0.6 / (111.2 * math.cos(math.radians(centre[0]))))
            else:
                i = int(rng.integers(len(shops)))
                lat, lon = lats[i] + rng.normal(0, 0.004), lons[i] + rng.normal(0, 0.004)
            klass = "C" if "C" in self.classes else template.klass
            rule = self.classes.get(klass)
            out.append(Retailer(
                id=f"N{self.next_id:05d}", name=f"New shop {self.next_id}", location=LatLon(float(lat), float(lon)),
                klass=klass, visits_per_month=(rule.visits_per_month if rule and rule.visits_per_month else 2),
                service_minutes=(rule.service_minutes if rule and rule.service_minutes else 10.0),
            ))  # fmt: skip
            self.next_id += 1
        return out


def run_shape(name: str, args: argparse.Namespace, console: Console) -> list[list[str]]:
    sc = benchmark_scenario(name)
    params = PlanParams(time_limit_s=args.time_limit, move_km=args.move_km)
    t = time.monotonic()
    plan = plan_month(sc, params, seed=args.seed)
    rows = [[name, f"{sc.calendar.year}-{sc.calendar.month:02d}", "fresh", str(len(check_plan(sc, plan))), "-", "-",
             "-", "-", "-", f"{km(sc, plan):.0f}", "-", f"{time.monotonic() - t:.1f}", "-"]]  # fmt: skip
    churn = Churn(sc, args.seed + 1)
    year, month = sc.calendar.year, sc.calendar.month
    for i in range(1, args.months + 1):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        book = book_of(sc, plan)
        nxt = churn.month(sc, year, month, i)
        t = time.monotonic()
        cont = continue_month(nxt, book, params, seed=args.seed)
        t_cont = time.monotonic() - t
        nxt = continued_calendar(nxt, book)
        t = time.monotonic()
        fresh = plan_month(nxt, PlanParams(time_limit_s=args.time_limit), seed=args.seed)
        t_fresh = time.monotonic() - t
        st = stability(book.routes, cont.routes, frequency_before=book.frequency, frequency_after=nxt.frequencies())
        gap = km(nxt, cont) / km(nxt, fresh) - 1
        rows.append([
            name, f"{year}-{month:02d}", "continued", str(len(check_plan(nxt, cont))), _pct(st["keep_manager"]),
            _pct(st["keep_route"]), _pct(st["keep_weekday"]), _pct(st["stop_pairs_kept"]),
            f"{st['moved_shops']}/{st['changed_shops']}", f"{km(nxt, cont):.0f}", f"{gap:+.1%}", f"{t_cont:.1f}",
            f"{t_fresh:.1f}",
        ])  # fmt: skip
        console.print(" ".join(rows[-1]), highlight=False)
        sc, plan = nxt, cont
    return rows


def _pct(x: object) -> str:
    return f"{x:.1%}" if isinstance(x, float) else "-"


def tradeoff(args: argparse.Namespace, console: Console) -> Table:
    """The demo's first months continued with each --move-km (and with no move allowed)."""
    table = Table(title=f"--move-km trade-off: demo, {args.tradeoff_months} months of churn, mean per month")
    for col in ("move km", "rules broken", "keep route", "stop pairs kept", "moves / changed shop", "km vs fresh"):
        table.add_column(col, justify="right")
    base = benchmark_scenario("demo")
    start = plan_month(base, PlanParams(time_limit_s=args.time_limit), seed=args.seed)
    months = []
    churn = Churn(base, args.seed + 1)
    sc, year, month = base, base.calendar.year, base.calendar.month
    for i in range(1, args.tradeoff_months + 1):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        sc = churn.month(sc, year, month, i)
        months.append(sc)
    fresh_km = []
    prev_sc, prev_plan = base, start
    settings: list[tuple[str, PlanParams]] = [
        (f"{x:g}", PlanParams(time_limit_s=args.time_limit, move_km=x)) for x in (0, 2, 5, 10, 20)
    ] + [("no moves", PlanParams(time_limit_s=args.time_limit, max_moves=0))]
    results: dict[str, list[tuple[int, float, float, float, float]]] = {label: [] for label, _ in settings}
    for label, params in settings:
        prev_sc, prev_plan = base, start
        for j, sc in enumerate(months):
            book = book_of(prev_sc, prev_plan)
            cont = continue_month(sc, book, params, seed=args.seed)
            sc2 = continued_calendar(sc, book)
            if len(fresh_km) <= j:
                fresh_km.append(km(sc2, plan_month(sc2, PlanParams(time_limit_s=args.time_limit), seed=args.seed)))
            st = stability(book.routes, cont.routes, frequency_before=book.frequency, frequency_after=sc2.frequencies())
            per = st["moves_per_changed_shop"]
            results[label].append((len(check_plan(sc2, cont)), float(st["keep_route"] or 0),  # type: ignore[arg-type]
                                   float(st["stop_pairs_kept"] or 0), float(per or 0),  # type: ignore[arg-type]
                                   km(sc2, cont) / fresh_km[j] - 1))  # fmt: skip
            prev_sc, prev_plan = sc2, cont
        r = np.array(results[label])
        table.add_row(label, f"{int(r[:, 0].sum())}", f"{r[:, 1].mean():.1%}", f"{r[:, 2].mean():.1%}",
                      f"{r[:, 3].mean():.2f}", f"{r[:, 4].mean():+.1%}")  # fmt: skip
        console.print(f"move km {label} done", highlight=False)
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--shapes", default="demo,dense,two_offices")
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--move-km", type=float, default=PlanParams.move_km)
    ap.add_argument("--tradeoff-months", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", type=Path, default=None)
    args = ap.parse_args(argv)
    console = Console(width=170, record=True)
    table = Table(
        title=f"A year of months: continued (--move-km {args.move_km:g}) vs fresh, {args.time_limit:g} s each"
    )
    for col in ("shape", "month", "plan", "rules broken", "keep manager", "keep route", "keep weekday",
                "stop pairs kept", "moved/changed", "km", "km vs fresh", "seconds", "fresh seconds"):  # fmt: skip
        table.add_column(col, justify="right")
    for name in args.shapes.split(","):
        for row in run_shape(name, args, console):
            table.add_row(*row)
    console.print(table)
    if args.tradeoff_months > 0:
        console.print(tradeoff(args, console))
    if args.save:
        args.save.write_text(console.export_text(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
