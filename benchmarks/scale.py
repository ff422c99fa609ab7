"""Benchmark: a city company from 1,500 to 30,000 shops on one machine.

    python benchmarks/scale.py [--sizes 1500,3000,6000,12000,30000] [--time-limits 60,60,90,240,540]
                               [--workers 2] [--seed 0] [--offices N]
    python benchmarks/scale.py --province 6x2500 [--task-seconds 20]
    python benchmarks/scale.py --continued [--sizes 6000,30000 --time-limits 90,540]
    python benchmarks/scale.py --alone [--sizes 30000 --time-limits 540]

For each size, a synthetic company (``routeplan.synth.company_scenario``: a manager per ~340
shops, a named market office per ~5,000) is planned in a child process, and the naive sweep
planner plans it in another, office by office. Prints shops, managers, offices, the plan's
seconds and peak memory (the proportional set size of the child and its worker processes
together, sampled every 0.2 s), rules broken, km, km per visit, the naive plan's km and rules
broken (mostly days that run past the day limit), and the km saved against the naive plan; then
both plans' km from the office to each day's first shop (ours / naive) and the km saved on the
rest of the day, between shops: the morning drive grows with a city around one office and is
much the same for any plan, so it shows how much of the day a planner can shorten at all.

``--offices N`` gives every company N market offices instead (1: a city company whose managers
all start at one office, planned in territory groups of that office).

``--province OFFICESxSHOPS`` plans a province (that many named offices of that many shops) on a
Dask LocalCluster with 1 and then 2 workers, reproducibly: per-task seconds, total seconds,
parallel efficiency (1-worker seconds / (2 x 2-worker seconds)), whether the two plans are
identical, and the projection for 300,000 shops on 32 workers from the measured task times.

``--continued`` plans each size fresh, then the next month with a month's churn (as
``months.py`` makes it) continued from that plan's route book (``plan --previous``), each in its
own child: seconds and peak memory of both, rules broken and the stability figures.

``--alone`` plans each size as a company, then each of its offices on its own with the same
time per shop (the company's time limit x the office's share of the shops), and prints each
office's km per visit both ways: whether the quality of a plan decays with the company's size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent


def _tree_pss_mb(pid: int) -> float:
    """Memory of a process and all its descendants, in MB: the proportional set size (Linux
    /proc), so pages a forked worker shares with its parent are counted once, not twice."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/smaps_rollup", encoding="ascii") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:")) / 1024
        except (OSError, StopIteration, ValueError):
            continue
    return total


def _measured(args: list[str]) -> tuple[dict, float]:
    """Run one child; its JSON line and the peak memory of its process tree."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_pss_mb(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out, _ = proc.communicate()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed with exit {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1]), peak[0]


def _child(
    n: int, planner: str, time_limit: float, workers: int, seed: int, book: Path | None, offices: int | None = None
) -> None:
    from routeplan.check import check_plan
    from routeplan.figures import office_kpis, plan_kpis
    from routeplan.routebook import RouteBook, stability
    from routeplan.solve.company import (
        continue_company,
        merge_plans,
        office_scenarios,
        plan_company,
        share_among_offices,
    )
    from routeplan.solve.continuation import continued_calendar
    from routeplan.solve.month import PlanParams
    from routeplan.solve.naive import plan_month_naive
    from routeplan.synth import company_scenario

    sc = company_scenario(n, seed=seed, offices=offices)
    params = PlanParams(time_limit_s=time_limit, workers=workers)
    extra = {}
    t0 = time.monotonic()
    if planner == "routeplan":
        plan = plan_company(sc, params, seed=seed)
        if book is not None:  # kept for the continued month
            book.write_bytes(pickle.dumps(RouteBook.of(sc, plan)))
    elif planner == "continued":  # the next month, with a month's churn, continued from the saved book
        from months import Churn

        previous = pickle.loads(book.read_bytes()) if book is not None else None
        assert previous is not None
        sc = Churn(sc, seed + 1).month(sc, 2027, 1, 1)
        t0 = time.monotonic()
        plan = continue_company(sc, previous, params, seed=seed)
        sc = continued_calendar(sc, previous)
        st = stability(previous.routes, plan.routes, frequency_before=previous.frequency,
                       frequency_after=sc.frequencies())  # fmt: skip
        extra = {key: st[key] for key in ("keep_manager", "keep_route", "stop_pairs_kept", "moved_shops",
                                          "changed_shops")}  # fmt: skip
    elif planner == "alone":  # each office planned on its own, with the company's time per shop
        per_office = {}
        plans = []
        for office, sub in office_scenarios(sc, share_among_offices(sc, seed)):
            own = dataclasses.replace(params, time_limit_s=time_limit * len(sub.retailers) / n)
            part = plan_company(sub, own, seed=seed)
            kk = plan_kpis(sub, part)["total"]
            per_office[office] = {"km": kk["km"], "visits": kk["visits"]}
            plans.append(part)
        plan = merge_plans(sc.name, plans, seed)
        extra = {"offices_km": per_office}
    else:  # the naive planner office by office (one problem over a whole city would not fit)
        parts = office_scenarios(sc, share_among_offices(sc, seed))
        plan = merge_plans(sc.name, [plan_month_naive(sub) for _, sub in parts], seed)
    seconds = time.monotonic() - t0
    kpis = plan_kpis(sc, plan)
    k = kpis["total"]
    if planner == "routeplan":
        extra = {
            "offices_km": {o: {"km": f["km"], "visits": f["visits"]} for o, f in office_kpis(sc, plan, kpis).items()}
        }
    first_km = sum(seq[0].travel_km for seq in plan.days().values())  # office to each day's first shop
    doc = {"seconds": seconds, "km": k["km"], "first_km": first_km, "visits": k["visits"],
           "broken": len(check_plan(sc, plan)),
           "managers": len(sc.managers), "offices": len(sc.offices()), **extra}  # fmt: skip
    print(json.dumps(doc))


def _continued(sizes: list[int], limits: list[float], workers: int, seed: int) -> Table:
    """A month of churn continued from each size's fresh plan (each step in its own child)."""
    table = Table(title=f"A continued month of a city company ({workers} workers)")
    for col in ("shops", "time limit s", "fresh s", "fresh peak MB", "continued s", "continued peak MB",
                "rules broken", "keep manager", "keep route", "stop pairs kept", "moved/changed", "km vs December"):  # fmt: skip
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for n, limit in zip(sizes, limits, strict=True):
            book = str(Path(tmp) / f"book-{n}.pickle")
            common = ["--workers", str(workers), "--seed", str(seed), "--time-limit", str(limit), "--book", book]
            fresh, fresh_peak = _measured(["--child", str(n), "routeplan", *common])
            cont, peak = _measured(["--child", str(n), "continued", *common])
            table.add_row(
                f"{n:,}", f"{limit:g}", f"{fresh['seconds']:.0f}", f"{fresh_peak:.0f}", f"{cont['seconds']:.0f}",
                f"{peak:.0f}", str(cont["broken"]), f"{cont['keep_manager']:.1%}", f"{cont['keep_route']:.1%}",
                f"{cont['stop_pairs_kept']:.1%}", f"{cont['moved_shops']}/{cont['changed_shops']}",
                f"{cont['km'] / fresh['km'] - 1:+.1%}",
            )  # fmt: skip
            Console(stderr=True).print(f"{n} shops continued", style="dim")
    return table


def _alone(sizes: list[int], limits: list[float], workers: int, seed: int) -> Table:
    """Each office's km per visit in the company plan against the office planned on its own with
    the same time per shop: whether quality decays with the size of the company."""
    table = Table(title="Quality with size: each office in the company plan vs planned alone (same time per shop)")
    for col in ("shops", "office", "visits", "km/visit in company", "km/visit alone", "difference"):
        table.add_column(col, justify="right")
    for n, limit in zip(sizes, limits, strict=True):
        common = ["--workers", str(workers), "--seed", str(seed), "--time-limit", str(limit)]
        company, _ = _measured(["--child", str(n), "routeplan", *common])
        alone, _ = _measured(["--child", str(n), "alone", *common])
        rows = [(o, company["offices_km"][o], alone["offices_km"][o]) for o in sorted(alone["offices_km"])]
        rows.append(("all", company, alone))
        for office, a, b in rows:
            ka, kb = a["km"] / max(a["visits"], 1), b["km"] / max(b["visits"], 1)
            table.add_row(f"{n:,}", office, f"{a['visits']:,}", f"{ka:.3f}", f"{kb:.3f}", f"{ka / kb - 1:+.1%}")
        Console(stderr=True).print(f"{n} shops done", style="dim")
    return table


def _province(spec: str, task_seconds: float, seed: int) -> None:
    import dataclasses

    from routeplan.cluster import executor_for
    from routeplan.solve.company import office_scenarios, plan_task, share_among_offices, territory_groups
    from routeplan.solve.month import PlanParams
    from routeplan.synth import company_scenario

    offices, shops = (int(x) for x in spec.lower().split("x"))
    sc = company_scenario(offices * shops, seed=seed, offices=offices)
    parts = [
        p for _, sub in office_scenarios(sc, share_among_offices(sc, seed)) for _, p in territory_groups(sub, seed)
    ]
    params = PlanParams(time_limit_s=task_seconds, workers=1, clock=False)
    runs = {}
    for workers in (1, 2):
        with executor_for(f"local:{workers}") as (executor, _):
            assert executor is not None
            executor.submit(len, []).result()  # the workers are up before the clock starts
            t0 = time.monotonic()
            futures = [executor.submit(plan_task, (p, dataclasses.replace(params), seed)) for p in parts]
            plans = [f.result() for f in futures]
            runs[workers] = (time.monotonic() - t0, plans)
    t1, plans1 = runs[1]
    t2, plans2 = runs[2]
    tasks = [p.solve_seconds for p in plans1]
    same = all(a.visits == b.visits for a, b in zip(plans1, plans2, strict=True))
    mean = sum(tasks) / len(tasks)
    per_task_shops = offices * shops / len(parts)
    projected = math.ceil(300_000 / per_task_shops / 32) * mean
    table = Table(title=f"A province on a Dask LocalCluster: {offices} offices x {shops} shops, {len(parts)} tasks")
    for col in ("workers", "total s", "per-task s (min / mean / max)", "parallel efficiency", "same plan"):
        table.add_column(col, justify="right")
    spread = f"{min(tasks):.1f} / {mean:.1f} / {max(tasks):.1f}"
    table.add_row("1", f"{t1:.1f}", spread, "-", "-")
    table.add_row("2", f"{t2:.1f}", spread, f"{t1 / (2 * t2):.0%}", "yes" if same else "NO")
    Console(width=160).print(table)
    print(f"Projection: 300,000 shops in tasks of {per_task_shops:,.0f} shops on 32 workers: "
          f"{math.ceil(300_000 / per_task_shops)} tasks, about {projected / 60:.1f} minutes "
          f"(rounds of 32 tasks x {mean:.1f} s mean task, before scheduling overhead).")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1500,3000,6000,12000,30000")
    ap.add_argument("--time-limits", default="60,60,90,240,540")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--offices", type=int, default=None,
                    help="market offices of each company (default: one per ~5,000 shops)")  # fmt: skip
    ap.add_argument("--province", default=None, metavar="OFFICESxSHOPS")
    ap.add_argument("--task-seconds", type=float, default=20.0)
    ap.add_argument("--child", nargs=2, metavar=("SHOPS", "PLANNER"), help=argparse.SUPPRESS)
    ap.add_argument("--time-limit", type=float, default=60.0, help=argparse.SUPPRESS)
    ap.add_argument("--book", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--alone", action="store_true",
                    help="instead: km per visit of each office in the company plan vs that office planned alone")  # fmt: skip
    ap.add_argument("--continued", action="store_true",
                    help="instead: a month of churn continued from each size's fresh plan (plan --previous)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.child:
        _child(int(args.child[0]), args.child[1], args.time_limit, args.workers, args.seed, args.book, args.offices)
        return 0
    if args.province:
        _province(args.province, args.task_seconds, args.seed)
        return 0
    sizes = [int(x) for x in args.sizes.split(",")]
    limits = [float(x) for x in args.time_limits.split(",")]
    limits += [limits[-1]] * (len(sizes) - len(limits))
    if args.continued:
        Console(width=200).print(_continued(sizes, limits, args.workers, args.seed))
        return 0
    if args.alone:
        Console(width=160).print(_alone(sizes, limits, args.workers, args.seed))
        return 0
    table = Table(title=f"A city company on one machine ({args.workers} workers)")
    for col in ("shops", "managers", "offices", "time limit s", "seconds", "peak MB", "rules broken", "km",
                "km/visit", "naive km", "naive broken", "naive peak MB", "km saved", "to first shop km",
                "saved after it"):  # fmt: skip
        table.add_column(col, justify="right")
    for n, limit in zip(sizes, limits, strict=True):
        common = ["--workers", str(args.workers), "--seed", str(args.seed), "--time-limit", str(limit)]
        common += ["--offices", str(args.offices)] if args.offices else []
        plan, peak = _measured(["--child", str(n), "routeplan", *common])
        naive, naive_peak = _measured(["--child", str(n), "naive", *common])
        table.add_row(
            f"{n:,}", str(plan["managers"]), str(plan["offices"]), f"{limit:g}", f"{plan['seconds']:.0f}",
            f"{peak:.0f}", str(plan["broken"]), f"{plan['km']:,.0f}", f"{plan['km'] / plan['visits']:.3f}",
            f"{naive['km']:,.0f}", str(naive["broken"]), f"{naive_peak:.0f}", f"{1 - plan['km'] / naive['km']:.1%}",
            f"{plan['first_km']:,.0f} / {naive['first_km']:,.0f}",
            f"{1 - (plan['km'] - plan['first_km']) / (naive['km'] - naive['first_km']):.1%}",
        )  # fmt: skip
        Console(stderr=True).print(f"{n} shops done", style="dim")
    Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
