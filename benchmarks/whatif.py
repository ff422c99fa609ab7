"""Benchmark: team-size what-ifs on the demo and other city shapes.

    python benchmarks/whatif.py [--time-limit 60] [--shapes demo,dense,townships,two_offices] [--extra 2]

For each scenario: the smallest team that keeps every rule (``smallest_team``, which also
plans one manager fewer to show it fails), then that size plus 1 .. ``--extra``. One row per
team size planned: feasible, broken rules, km, workload balance (max/min field minutes per
manager in the month), shops that change manager against the designed split of the team as
given, and the seconds that variant's design and plan took (two variants run at once).
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table
from shapes import DEFAULT, benchmark_scenario

from routeplan.check import RULES
from routeplan.figures import plan_kpis
from routeplan.solve.design import design_territories
from routeplan.solve.month import PlanParams
from routeplan.whatif import BALANCE_TARGET, VariantPlan, plan_variants, smallest_team, team_name, with_team_size

SECONDS_TARGET = 120.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--shapes", default=DEFAULT)
    ap.add_argument("--extra", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    params = PlanParams(time_limit_s=args.time_limit)
    table = Table(title=f"team-size what-ifs ({args.time_limit:g} s per variant, 2 variants at a time)")
    for col in ("scenario", "managers", "feasible", "rules broken", "km", "balance", "moved", "seconds", "target"):
        table.add_column(col, justify="right")
    all_met = True
    for name in args.shapes.split(","):
        sc = benchmark_scenario(name)
        current = dict(design_territories(sc, seed=args.seed).manager_of)
        best, tried = smallest_team(sc, params, current=current, seed=args.seed)
        results: dict[int, VariantPlan] = {len(r.scenario.managers): r for r in tried}
        if best is not None:
            more = [k for k in range(best + 1, best + args.extra + 1) if k not in results]
            variants = [(team_name(k), with_team_size(sc, k)) for k in more]
            for r in plan_variants(variants, params, current=current, seed=args.seed):
                results[len(r.scenario.managers)] = r
        for k, r in sorted(results.items()):
            kp = plan_kpis(sc, r.plan)["total"]
            balance = kp["workload_balance"] or float("inf")
            in_range = best is not None and best <= k <= best + args.extra
            met = (not in_range) or (r.feasible and balance <= BALANCE_TARGET and r.seconds < SECONDS_TARGET)
            all_met &= met
            broken = ", ".join(sorted({str(v.rule) for v in r.violations})) or "-"
            table.add_row(
                name, str(k), "yes" if r.feasible else "no", broken, f"{kp['km']:.0f}", f"{balance:.3f}",
                str(r.territories.moved), f"{r.seconds:.0f}", ("met" if met else "MISSED") if in_range else "(k-1)",
            )  # fmt: skip
        table.add_section()
    console = Console(width=140)
    console.print(table)
    console.print("rules: " + "; ".join(f"{k} {v}" for k, v in RULES.items()))
    console.print(f"targets for the smallest feasible team .. +{args.extra}: every rule kept, balance <= "
                  f"{BALANCE_TARGET}, under {SECONDS_TARGET:.0f} s: {'all met' if all_met else 'NOT all met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
