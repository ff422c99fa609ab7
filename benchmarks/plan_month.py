"""Benchmark: the optimizer against a naive planner on the demo and other city shapes.

    python benchmarks/plan_month.py [--time-limit 60] [--shapes demo,dense,townships,two_offices] [--seed 0]

Prints one row per (scenario, planner): shops, visits, km, km per visit, stops a day
(min/mean), field minutes a day (mean), rule violations, solve seconds; then the
km saved by the optimizer. Both planners run in this process on the same scenario.
"""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.table import Table
from shapes import DEFAULT, benchmark_scenario

from routeplan.check import check_plan
from routeplan.figures import plan_kpis
from routeplan.solve.month import PlanParams, plan_month
from routeplan.solve.naive import plan_month_naive


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--shapes", default=DEFAULT)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    table = Table(title=f"routeplan vs naive sweep planner (time limit {args.time_limit:g} s)")
    for col in ("scenario", "planner", "shops", "visits", "km", "km/visit", "stops/day min", "mean",
                "field min/day mean", "violations", "seconds"):  # fmt: skip
        table.add_column(col, justify="right")
    savings = []
    for name in args.shapes.split(","):
        sc = benchmark_scenario(name)
        rows = {}
        for planner in ("routeplan", "naive"):
            t = time.monotonic()
            if planner == "routeplan":
                plan = plan_month(sc, PlanParams(time_limit_s=args.time_limit), seed=args.seed)
            else:
                plan = plan_month_naive(sc)
            secs = time.monotonic() - t
            k = plan_kpis(sc, plan)["total"]
            rows[planner] = k["km"]
            table.add_row(
                name, planner, str(len(sc.retailers)), str(k["visits"]), f"{k['km']:.0f}", f"{k['km_per_visit']:.3f}",
                f"{k['stops_per_day']['min']:.0f}", f"{k['stops_per_day']['mean']:.1f}",
                f"{k['field_minutes_per_day']['mean']:.0f}", str(len(check_plan(sc, plan))), f"{secs:.1f}",
            )  # fmt: skip
        savings.append((name, 1 - rows["routeplan"] / rows["naive"]))
    console = Console(width=160)
    console.print(table)
    for name, saved in savings:
        console.print(f"{name}: optimizer uses {saved:.1%} fewer km than the naive planner")
    return 0


if __name__ == "__main__":
    sys.exit(main())
