"""Benchmark: territories, free search against fixed territories, with their compactness.

    python benchmarks/territories.py [--time-limit 60] [--shapes demo,dense,townships,two_offices,edinburgh]

One row per (scenario, mode): rules broken, km, km per visit, compactness (the share of
each shop's 8 nearest shops served by its own manager: 1.0 means territories never
interleave) and seconds. ``edinburgh`` (3,233 real OpenStreetMap shops, 9 managers) needs
../shared/data beside the checkout.
"""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.table import Table
from shapes import DEFAULT, benchmark_scenario

from routeplan.check import check_plan
from routeplan.compare import compactness
from routeplan.figures import plan_kpis
from routeplan.solve.month import PlanParams, plan_month


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--shapes", default=DEFAULT + ",edinburgh")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    table = Table(title=f"Free search vs fixed territories ({args.time_limit:g} s)")
    for col in ("scenario", "territories", "shops", "managers", "rules broken", "km", "km/visit", "compactness",
                "seconds"):  # fmt: skip
        table.add_column(col, justify="right")
    for name in args.shapes.split(","):
        sc = benchmark_scenario(name)
        for fixed in (False, True):
            t = time.monotonic()
            plan = plan_month(
                sc, PlanParams(time_limit_s=args.time_limit, territories="fixed" if fixed else "free"), seed=args.seed
            )
            secs = time.monotonic() - t
            k = plan_kpis(sc, plan)["total"]
            table.add_row(
                name, "fixed" if fixed else "free", str(len(sc.retailers)), str(len(sc.managers)),
                str(len(check_plan(sc, plan))), f"{k['km']:.0f}", f"{k['km_per_visit']:.3f}",
                f"{compactness(sc, plan):.1%}", f"{secs:.1f}",
            )  # fmt: skip
            print(name, "fixed" if fixed else "free", k["km"], f"{secs:.0f}s", flush=True)
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
