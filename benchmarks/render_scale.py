"""Benchmark: the outputs of a whole city company: files, maps, route sheets and their PDFs.

    python benchmarks/render_scale.py [--shops 30000] [--time-limit 540] [--workers 2] [--seed 0]
                                      [--planner routeplan|naive]

Plans a synthetic city company (``routeplan.synth.company_scenario``; ``--planner naive`` skips
the search, for a quick look at the drawing alone), writes the plan folder, draws every map and
route sheet and prints the PDFs with the system's Chromium (without one: no PDF row), then opens
the company map (``maps/plan.html``) offline in Chromium and times it until every manager's
layer is listed. Prints a table of seconds per step and sizes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shops", type=int, default=30000)
    ap.add_argument("--time-limit", type=float, default=540.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--planner", choices=("routeplan", "naive"), default="routeplan")
    args = ap.parse_args(argv)

    from routeplan.check import check_plan
    from routeplan.render import RenderOptions, render_plan
    from routeplan.render.pdf import find_browser
    from routeplan.solve.company import merge_plans, office_scenarios, plan_company, share_among_offices
    from routeplan.solve.month import PlanParams
    from routeplan.solve.naive import plan_month_naive
    from routeplan.synth import company_scenario
    from routeplan.write import write_plan

    console = Console(stderr=True)
    sc = company_scenario(args.shops, seed=args.seed)
    rows: list[tuple[str, str, str]] = []
    t = time.monotonic()
    if args.planner == "routeplan":
        plan = plan_company(sc, PlanParams(time_limit_s=args.time_limit, workers=args.workers), seed=args.seed)
    else:
        parts = office_scenarios(sc, share_among_offices(sc, args.seed))
        plan = merge_plans(sc.name, [plan_month_naive(sub) for _, sub in parts], args.seed)
    rows.append(("plan", f"{time.monotonic() - t:.0f}", f"{len(plan.visits):,} visits"))
    console.print("planned", style="dim")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan"
        t = time.monotonic()
        violations = check_plan(sc, plan)
        rows.append(("check", f"{time.monotonic() - t:.0f}", f"{len(violations)} rules broken"))
        t = time.monotonic()
        write_plan(out, sc, plan, violations)
        size = sum(f.stat().st_size for f in out.iterdir() if f.is_file()) / 2**20
        rows.append(("write (CSV, summary, workbook)", f"{time.monotonic() - t:.0f}", f"{size:.0f} MB"))
        browser = find_browser()
        t = time.monotonic()
        drawn = render_plan(out, sc, plan, RenderOptions(tiles="none", pdf=False))
        maps = sum(f.stat().st_size for f in (out / "maps").glob("*.html")) / 2**20
        sheets = sum(1 for f in drawn.files if f.suffix == ".html" and f.parent.parent.name == "sheets")
        rows.append(("maps and sheets (HTML)", f"{time.monotonic() - t:.0f}",
                     f"{maps:.0f} MB of maps, plan.html {(out / 'maps' / 'plan.html').stat().st_size / 2**20:.1f} MB, "
                     f"{sheets:,} sheets"))  # fmt: skip
        console.print("drawn", style="dim")
        if browser is not None:
            t = time.monotonic()
            drawn = render_plan(out, sc, plan, RenderOptions(tiles="none", pdf=True))
            pdfs = [f for f in drawn.files if f.suffix == ".pdf"]
            rows.append(("maps, sheets and PDFs", f"{time.monotonic() - t:.0f}",
                         f"{len(pdfs)} PDFs, {sum(f.stat().st_size for f in pdfs) / 2**20:.0f} MB"))  # fmt: skip
            console.print("printed", style="dim")
            rows.append(("open maps/plan.html in Chromium", *_open_map(out / "maps" / "plan.html", browser)))
    table = Table(title=f"A city company's outputs: {args.shops:,} shops, {len(sc.managers)} managers, "
                        f"{len(sc.offices())} offices ({args.planner})")  # fmt: skip
    for col, justify in (("step", "left"), ("seconds", "right"), ("what", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    Console(width=160).print(table)
    return 0


def _open_map(path: Path, browser: str) -> tuple[str, str]:
    """Seconds until the map lists every manager's layer, offline."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser)
        page = chromium.new_context(offline=True).new_page()
        t = time.monotonic()
        page.goto(path.resolve().as_uri(), timeout=300_000)
        page.wait_for_function("document.querySelectorAll('input[data-manager]').length > 0", timeout=300_000)
        seconds = time.monotonic() - t
        layers = page.eval_on_selector_all("input[data-manager]", "els => els.length")
        chromium.close()
    return f"{seconds:.1f}", f"{layers} manager layers listed"


if __name__ == "__main__":
    sys.exit(main())
