"""Benchmark: the free-day engine on the periodic VRP set of Cordeau, Gendreau & Laporte.

    python benchmarks/pvrp.py [--time-limit 60] [--instances p01,p02,...|all] [--seed 0] [--workers 0]
                              [--save benchmarks/results/pvrp.txt]

One row per instance: customers n, vehicles a day m, days t, the cost found (re-evaluated
by the checker), the best-known value, the gap, seconds and feasibility; then the mean gap
over the p-set, the pr-set and all. Needs ``../shared/pvrp`` beside the checkout
(or ``--data DIR``).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from routeplan import pvrp
from routeplan.solve.lns import warm_up

DATA = Path(__file__).resolve().parents[2] / "shared" / "pvrp"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--instances", default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--save", type=Path, help="also write the table to this file")
    args = ap.parse_args(argv)
    bks = {row["instance"]: float(row["bks"]) for row in csv.DictReader((args.data / "bks.csv").open())}
    names = list(bks) if args.instances == "all" else args.instances.split(",")
    warm_up()
    table = Table(title=f"routeplan on the PVRP set ({args.time_limit:g} s per instance, seed {args.seed})")
    for col in ("instance", "n", "m", "t", "cost", "BKS", "gap %", "seconds", "feasible"):
        table.add_column(col, justify="right")
    gaps: dict[str, float] = {}
    console = Console(width=120)
    for name in names:
        inst = pvrp.read_instance(args.data / "instances" / f"{name}.txt")
        t = time.monotonic()
        routes, _ = pvrp.solve(inst, time_limit_s=args.time_limit, seed=args.seed, workers=args.workers)
        secs = time.monotonic() - t
        cost, problems = pvrp.evaluate(inst, routes)
        gap = 100 * (cost / bks[name] - 1)
        gaps[name] = gap
        row = (name, str(inst.n), str(inst.m), str(inst.t), f"{cost:.2f}", f"{bks[name]:.2f}", f"{gap:.2f}",
               f"{secs:.1f}", "yes" if not problems else f"NO: {problems[0]}")  # fmt: skip
        table.add_row(*row)
        console.print(" ".join(row))
    console.print(table)
    summary = []
    for label, keep in (("p", lambda s: not s.startswith("pr")), ("pr", lambda s: s.startswith("pr")), ("all", None)):
        chosen = [g for s, g in gaps.items() if keep is None or keep(s)]
        if chosen:
            summary.append(f"mean gap {label}-set: {statistics.mean(chosen):.2f}% over {len(chosen)}, "
                           f"worst {max(chosen):.2f}%")  # fmt: skip
    for line in summary:
        console.print(line)
    if args.save:
        with console.capture() as cap:
            console.print(table)
            for line in summary:
                console.print(line)
        args.save.write_text(cap.get())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
