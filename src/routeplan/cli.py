"""The ``routeplan`` command: plan, check and validate a scenario.

A thin layer: it parses arguments, shows progress and turns errors into one-line
messages. All the work happens in the library. Every command keeps these exit codes:

- 0: done; for a plan, it is written and keeps every rule;
- 1: the plan is written (or checked) and breaks rules, which are listed;
- 2: bad input (a file, row, field or option), said in one line; nothing written;
- 3: an internal error: a short message says where the full traceback was saved;
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from .check import RULES, check_plan, summarize
from .cluster import executor_for
from .compare import PlanFigures, comparison_rows, percent, plan_figures, with_moves
from .errors import InputError, InputWarning, RouteplanError
from .figures import office_kpis, plan_kpis
from .model import Scenario
from .plan import Plan
from .read import read_plan, read_route_book, read_scenario, with_plan_cycle
from .render import LANGUAGES, TILES, RenderOptions, render_plan
from .solve.areas import TERRITORY_SHAPES
from .solve.company import plan_company
from .solve.month import PlanParams
from .solve.params import SUGGESTED_LEAST_SECONDS, SUGGESTED_SECONDS_PER_1000_SHOPS, suggested_time_limit
from .travel import FAR_FROM_ROAD_KM, SNAP_KMH, MatrixLegs, close_models, travel_for
from .whatif import capacity_note
from .write import atomic_output, write_plan


class _Finite(click.FloatRange):
    """A number at least ``min`` that is finite: a plain range lets nan (and inf) through."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class _Output(click.Path):
    """Where a command writes (a folder, or with ``folder=False`` a file), checked before any
    work is done, so that an hour's plan does not end on a path it cannot write; a problem is
    one line naming the path, like any input's."""

    def __init__(self, *, folder: bool = True) -> None:
        super().__init__(path_type=Path)
        self.folder = folder

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        what = "the output folder" if self.folder else "the output file"
        if not str(value).strip():
            raise InputError(f"an empty path: name {what}", field="--out")
        if path.exists() and path.is_dir() != self.folder:
            raise InputError(f"a {'file' if self.folder else 'folder'} where {what} belongs", file=str(path))
        above = path.absolute().parent
        while not above.exists():
            above = above.parent
        if not above.is_dir():
            raise InputError(f"a file, so {what} {path} cannot be made under it", file=str(above))
        if not os.access(above, os.W_OK | os.X_OK):
            raise InputError(f"not writable, so {what} {path} cannot be made", file=str(above))
        return path


OUT_FOLDER = _Output()
SECONDS = _Finite(min=1)
SEED = click.IntRange(min=0)

EXIT_VIOLATIONS = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)


def _kpi_table(scenario: Scenario, plan: Plan) -> Table:
    k = plan_kpis(scenario, plan)
    table = Table(title=f"{scenario.name}: {scenario.calendar.year}-{scenario.calendar.month:02d}")
    for col in ("manager", "days", "visits", "km", "stops/day min", "mean", "field min/day min", "mean", "max"):
        table.add_column(col, justify="right")
    for mid, m in k["managers"].items():
        table.add_row(
            mid, str(m["days"]), str(m["visits"]), f"{m['km']:.1f}",
            f"{m['stops_per_day']['min']:.0f}", f"{m['stops_per_day']['mean']:.1f}",
            f"{m['field_minutes_per_day']['min']:.0f}", f"{m['field_minutes_per_day']['mean']:.0f}",
            f"{m['field_minutes_per_day']['max']:.0f}",
        )  # fmt: skip
    offices = office_kpis(scenario, plan, k) if len(scenario.offices()) > 1 else {}
    for office, o in offices.items():
        table.add_row(f"office {office}", "", str(o["visits"]), f"{o['km']:.1f}", *[""] * 5, style="italic")
    t = k["total"]
    table.add_row(
        "total", "", str(t["visits"]), f"{t['km']:.1f}", f"{t['stops_per_day']['min']:.0f}",
        f"{t['stops_per_day']['mean']:.1f}", f"{t['field_minutes_per_day']['min']:.0f}",
        f"{t['field_minutes_per_day']['mean']:.0f}", f"{t['field_minutes_per_day']['max']:.0f}", style="bold",
    )  # fmt: skip
    return table


#: A report lists at most this many lines of broken rules (one per rule, kind and manager) when
#: the whole list is in a file it names: a city company's can run to hundreds.
REPORT_LINES = 12


def _report(violations: list, cause: str | None = None, written: Path | None = None) -> None:
    """The rules a plan breaks, then ``cause``: what the month, the team or the time limit may owe
    them to (:func:`_causes`); beyond :data:`REPORT_LINES` lines, the rest is left to ``written``,
    which holds them all."""
    if not violations:
        out.print("[green]Every rule kept.[/green]")
        return
    out.print(f"[red]{len(violations)} rule violations:[/red]")
    shown, total = _report_lines(violations, REPORT_LINES if written is not None else None)
    for line in shown:
        out.print(f"  - {line}", markup=False)
    if len(shown) < total:
        out.print(f"  ... and {total - len(shown)} more lines like these, every one in {written}", markup=False)
    if cause is not None:
        out.print(cause, markup=False)


def _report_lines(violations: list, limit: int | None) -> tuple[list[str], int]:
    """The report's lines (one per rule, kind and manager, as :func:`summarize` says them) and
    how many there are in all: with a ``limit`` a little exceeded, ``limit`` of them, every kind
    of broken rule among them and its managers taken in turn."""
    kinds: dict[tuple[int, str], list] = defaultdict(list)
    for v in violations:
        kinds[(v.rule, v.code)].append(v)
    lines = [summarize(vs) for _, vs in sorted(kinds.items())]
    total = sum(map(len, lines))
    if limit is not None and total > limit + 2:  # a line or two more are shown rather than hidden
        taken, left, k = [0] * len(lines), limit, 0
        while left:
            if taken[k] < len(lines[k]):
                taken[k], left = taken[k] + 1, left - 1
            k = (k + 1) % len(lines)
        lines = [kind[:n] for kind, n in zip(lines, taken, strict=True)]
    return [line for kind in lines for line in kind], total


def _causes(scenario: Scenario, violations: list, time_limit: float | None) -> tuple[str | None, str | None]:
    """What a plan's broken rules may be owed to: the month or the team (:func:`capacity_note`),
    else the time limit (:func:`_time_note`, for a plan made with ``time_limit``); each ``None``
    where it does not apply."""
    if not violations:
        return None, None
    capacity = capacity_note(scenario)
    if capacity is not None or time_limit is None:
        return capacity, None
    return None, _time_note(len(scenario.retailers), time_limit)


def _with_note(result: Plan, note: str | None) -> Plan:
    """The plan with ``note`` among its notes (``summary.json`` and the desk's run page show them)."""
    return dataclasses.replace(result, notes=(*result.notes, note)) if note else result


def _time_note(shops: int, time_limit: float) -> str | None:
    """A plan cut short by its time limit breaks rules that a longer search keeps: say so, or the
    checker's fixes (add shops, drop a manager) read as the only way out."""
    suggested = suggested_time_limit(shops)
    if time_limit >= suggested:
        return None
    return (
        f"The time limit of {time_limit:g} s is short for {shops:,} shops: a longer search may keep these rules "
        f"with the same team. Try --time-limit {suggested:g} (about {SUGGESTED_SECONDS_PER_1000_SHOPS:g} s per "
        f"1,000 shops on two cores, at least {SUGGESTED_LEAST_SECONDS:g} s) before changing the team."
    )


def _progress(quiet: bool) -> Progress:
    """The progress bar every long command shows on stderr (none with --quiet)."""
    return Progress(
        TextColumn("{task.description:<32}"), BarColumn(), TimeElapsedColumn(), console=err, disable=quiet,
        transient=True,
    )  # fmt: skip


#: Where every progress step is also appended as a JSON line (``--progress-log``), for a
#: program that runs routeplan, such as the web desk.
_progress_log: list[Path] = []


def _ticker(bar: Progress, task: TaskID) -> Callable[[str, float], None]:
    """A progress callback: the bar on stderr, and the progress log if one was asked for."""

    def tick(stage: str, frac: float) -> None:
        bar.update(task, description=stage, completed=frac)
        _log_progress(stage, frac)

    return tick


def _log_progress(stage: str, frac: float) -> None:
    for path in _progress_log:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"stage": stage, "fraction": round(float(frac), 4), "time": time.time()}) + "\n")


def _render_options(command: Callable[..., None]) -> Callable[..., None]:
    """The drawing options shared by ``plan`` and ``render``, folded into one RenderOptions."""

    @click.option(
        "--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="Labels on maps and sheets."
    )
    @click.option("--tiles", type=click.Choice(tuple(TILES)), default="osm", show_default=True,
                  help="Map background: OpenStreetMap, AMap/Gaode (GCJ-02) or none.")  # fmt: skip
    @click.option("--streets", type=click.Path(path_type=Path), default=None,
                  help="A local .osm.pbf extract drawn as the street background (works offline).")  # fmt: skip
    @click.option("--pdf/--no-pdf", default=True, show_default=True, help="Print the sheets to PDF (needs Chromium).")
    @functools.wraps(command)
    def wrapper(*args: Any, lang: str, tiles: str, streets: Path | None, pdf: bool, **kwargs: Any) -> None:
        command(*args, options=RenderOptions(lang=lang, tiles=tiles, streets=streets, pdf=pdf), **kwargs)

    return wrapper


def _render(out_dir: Path, scenario: Scenario, result: Plan, options: RenderOptions, quiet: bool) -> None:
    started = time.perf_counter()
    with _progress(quiet) as bar:
        task = bar.add_task("drawing", total=1.0)
        drawn = render_plan(out_dir, scenario, result, options, _ticker(bar, task))
    for note in drawn.notes:
        err.print(f"note: {note}", markup=False)
    pdfs = sum(1 for f in drawn.files if f.suffix == ".pdf")
    out.print(
        f"Drew {out_dir}/maps/plan.html, {len(scenario.managers)} manager maps, "
        f"{sum(1 for f in drawn.files if f.parent.parent.name == 'sheets' and f.stem != 'month')} route sheets, "
        f"{pdfs} PDFs ({time.perf_counter() - started:.1f} s)"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="routeplan")
@click.option("--strict", is_flag=True, help="Input warnings (an unknown column, say) are errors (exit 2).")
@click.option("--progress-log", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also append each progress step to this file as a JSON line (for programs running routeplan).")  # fmt: skip
def cli(strict: bool, progress_log: Path | None) -> None:
    """Monthly route plans for field sales teams."""
    if strict:
        warnings.simplefilter("error", InputWarning)
    _progress_log.clear()
    if progress_log is not None:
        _progress_log.append(progress_log)


@cli.command()
@click.argument("scenario_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=OUT_FOLDER, required=True, help="Output folder.")
@click.option("--time-limit", type=SECONDS, default=60.0, show_default=True, help="Seconds for the whole solve.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Same seed, same plan.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True, help="Processes (0 = every core).")
@click.option("--quiet", is_flag=True, help="No progress display.")
@click.option("--render/--no-render", "draw", default=True, show_default=True, help="Draw maps and route sheets.")
@click.option("--current", "current_dir", type=click.Path(path_type=Path), default=None,
              help="A plan folder of the split in use: territories change as few shops as possible from it.")  # fmt: skip
@click.option("--territories", type=click.Choice(("auto", "fixed", "free")), default="auto", show_default=True,
              help="fixed: design compact territories first and keep them; free: let the search move shops "
                   "between managers; auto: fixed, and free too where fixed breaks a rule (see README).")  # fmt: skip
@click.option("--fixed-territories", is_flag=True, hidden=True, help="Same as --territories fixed.")
@click.option("--territory-shape", type=click.Choice(TERRITORY_SHAPES), default="auto", show_default=True,
              help="Designed territories of a team at one office: wedges around the office, compact, or auto: "
                   "whichever drives less (see README).")  # fmt: skip
@click.option("--previous", "previous_dir", type=click.Path(path_type=Path), default=None,
              help="The previous month's plan folder: keep its route book, change only what the month forces.")  # fmt: skip
@click.option("--move-km", type=_Finite(min=0), default=PlanParams.move_km, show_default=True,
              help="With --previous: a continuing shop changes route only to repair a rule or to save this many km a month.")  # fmt: skip
@click.option("--max-moves", type=click.IntRange(min=0), default=None,
              help="With --previous: at most this many continuing shops change route.")  # fmt: skip
@click.option("--cluster", default=None, metavar="local:N|tcp://HOST:PORT",
              help="Plan a company's offices on a Dask cluster: local:N starts N workers on this machine.")  # fmt: skip
@click.option("--reproducible", is_flag=True,
              help="Stop on round counts only, never on the clock: the same seed gives the same plan on any "
                   "machine (a slow one may run past --time-limit).")  # fmt: skip
@_render_options
def plan(
    scenario_dir: Path,
    out_dir: Path,
    time_limit: float,
    seed: int,
    workers: int,
    quiet: bool,
    draw: bool,
    current_dir: Path | None,
    territories: str,
    fixed_territories: bool,
    territory_shape: str,
    previous_dir: Path | None,
    move_km: float,
    max_moves: int | None,
    cluster: str | None,
    reproducible: bool,
    options: RenderOptions,
) -> None:
    """Plan the month of SCENARIO_DIR and write it to --out (with maps and route sheets)."""
    for kept, what in ((scenario_dir, "the scenario folder"), (previous_dir, "the --previous plan"),
                       (current_dir, "the --current plan")):  # fmt: skip
        if kept is not None and out_dir.resolve() == kept.resolve():
            raise InputError(f"the output folder is {what}: write the plan to another folder", file=str(out_dir))
    scenario = read_scenario(scenario_dir)
    params = PlanParams(
        time_limit_s=time_limit, workers=workers, territories="fixed" if fixed_territories else territories, move_km=move_km,
        max_moves=max_moves, clock=not reproducible, territory_shape=territory_shape,
    )  # fmt: skip
    if previous_dir is not None:
        if current_dir is not None:
            raise InputError("--previous keeps the previous plan's territories: drop --current")
        _continue(scenario_dir, scenario, previous_dir, out_dir, params, seed, quiet, draw, options, cluster)
        return
    planned = scenario
    if current_dir is not None:
        from .solve.design import design_territories

        current = read_plan(current_dir).manager_of()
        split = design_territories(scenario, current=current, seed=seed)
        planned = split.apply(scenario)
        params = dataclasses.replace(params, territories="free")  # the split is designed: every shop pinned
        out.print(f"Territories from {current_dir}: {split.moved} shops change manager")
    with _progress(quiet) as bar:
        task = bar.add_task("reading", total=1.0)
        with executor_for(cluster) as (executor, parallel):
            result = plan_company(planned, params, seed=seed, progress=_ticker(bar, task), executor=executor,
                                  parallel=parallel)  # fmt: skip
    violations = check_plan(scenario, result)
    capacity, slow = _causes(scenario, violations, params.time_limit_s)
    result = _with_note(result, slow)
    write_plan(out_dir, scenario, result, violations)
    out.print(_kpi_table(scenario, result))
    _report(violations, capacity or slow, out_dir / "summary.json")
    _road_report(scenario)
    out.print(
        f"Wrote {out_dir}/visits.csv, calls.csv, routes.csv, summary.json, schedule.xlsx ({result.solve_seconds:.1f} s)"
    )
    if draw:
        _render(out_dir, scenario, result, options, quiet)
    if violations:
        sys.exit(EXIT_VIOLATIONS)


def _continue(
    scenario_dir: Path, scenario: Scenario, previous_dir: Path, out_dir: Path, params: PlanParams, seed: int,
    quiet: bool, draw: bool, options: RenderOptions, cluster: str | None,
) -> None:  # fmt: skip
    """``plan --previous``: the month as the continuation of a plan folder's route book."""
    from .solve.company import continue_company
    from .solve.continuation import continuable, continued_calendar

    book = read_route_book(previous_dir)
    try:
        continuable(scenario, book)
    except InputError as exc:
        where = previous_dir if exc.field in ("month", "id") else scenario_dir / "scenario.toml"
        raise InputError(exc.detail, file=str(where), field=exc.field) from None
    with _progress(quiet) as bar:
        task = bar.add_task("reading", total=1.0)
        with executor_for(cluster) as (executor, parallel):
            result = continue_company(scenario, book, params, seed=seed, progress=_ticker(bar, task),
                                      executor=executor, parallel=parallel)  # fmt: skip
    scenario = continued_calendar(scenario, book)
    violations = check_plan(scenario, result)
    capacity, slow = _causes(scenario, violations, params.time_limit_s)
    result = _with_note(result, slow)
    write_plan(out_dir, scenario, result, violations, previous=book)
    out.print(_kpi_table(scenario, result))
    _report(violations, capacity or slow, out_dir / "summary.json")
    _road_report(scenario)
    doc = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    out.print(_stability_line(doc["stability"]))
    out.print(
        f"Wrote {out_dir}/visits.csv, calls.csv, routes.csv, changes.csv, summary.json, schedule.xlsx "
        f"({result.solve_seconds:.1f} s)"
    )
    if draw:
        _render(out_dir, scenario, result, options, quiet)
    if violations:
        sys.exit(EXIT_VIOLATIONS)


def _first_ids(ids: list[str]) -> str:
    return ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")


def _far_line(ids: list[str]) -> str:
    return (
        f"{len(ids)} shops are more than {FAR_FROM_ROAD_KM * 1000:.0f} m from a road (driven to their street at "
        f"{SNAP_KMH:g} km/h; check their coordinates): {_first_ids(ids)}"
    )


def _road_report(scenario: Scenario) -> None:
    """Name the shops the road model found far from any road or cut off from the others (their
    legs are driven slowly or on the straight line: the plan holds, the data may be wrong)."""
    if scenario.travel_model != "road":
        return
    model = travel_for(scenario)
    far = model.far_from_road() if isinstance(model, MatrixLegs) else {}
    cut = {p for pair in getattr(model, "unreachable", ()) for p in pair}
    far_ids = sorted(r.id for r in scenario.retailers if r.location in far)
    cut_ids = sorted(r.id for r in scenario.retailers if r.location in cut)
    if far_ids:
        out.print(_far_line(far_ids), markup=False)
    if cut_ids:
        out.print(f"{len(cut_ids)} shops have no road to some others (those legs are planned on the straight line "
                  f"at {SNAP_KMH:g} km/h): {_first_ids(cut_ids)}", markup=False)  # fmt: skip


def _stability_line(st: dict[str, Any]) -> str:
    km = f", km {percent(st['km_change'])} against the previous month" if st.get("km_change") is not None else ""
    return (
        f"Continuing shops: {st['continuing_shops']}, keeping manager {percent(st['keep_manager'])}, route "
        f"{percent(st['keep_route'])}, weekday {percent(st['keep_weekday'])}; stop pairs kept {percent(st['stop_pairs_kept'])}; "
        f"{st['moved_shops']} moved for {st['changed_shops']} changed shops "
        f"(new {st['changed_new']}, closed {st['changed_closed']}, suspended {st['changed_suspended']}, "
        f"reopened {st['changed_reopened']}, new frequency {st['changed_frequency']}){km}"
    )


@cli.command()
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path))
@click.option("--changes", "show", is_flag=True, help="Also list every change, shop by shop.")
def diff(before: Path, after: Path, show: bool) -> None:
    """How much of BEFORE's route book survives in AFTER (two plan folders)."""
    from .routebook import changes, stability

    a, b = read_route_book(before), read_route_book(after)
    st = stability(a.routes, b.routes, km_before=a.km, km_after=b.km, frequency_before=a.frequency,
                   frequency_after=b.frequency)  # fmt: skip
    table = Table(title=f"{before} -> {after}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in st.items():
        shown = percent(value) if key.startswith("keep_") or key in ("stop_pairs_kept", "km_change") else str(value)
        table.add_row(key.replace("_", " "), shown)
    out.print(table)
    if show:
        for c in changes(a.routes, b.routes, None, a.frequency, b.frequency):
            out.print(f"{c.retailer_id}\t{c.kind}\t{c.before}\t{c.after}\t{c.why}", markup=False)


@cli.command()
@click.argument("scenario_dir", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--previous", "previous_dir", type=click.Path(path_type=Path), default=None,
              help="The previous month's plan folder: also check that the cycle runs on from it.")  # fmt: skip
def check(scenario_dir: Path, out_dir: Path, previous_dir: Path | None) -> None:
    """Check the plan in OUT_DIR against every rule of SCENARIO_DIR (exit 1 if any is broken)."""
    scenario = with_plan_cycle(read_scenario(scenario_dir), out_dir)
    result = read_plan(out_dir)
    violations = check_plan(scenario, result, read_plan(previous_dir) if previous_dir is not None else None)
    out.print(_kpi_table(scenario, result))
    _report(violations, _causes(scenario, violations, None)[0])
    if violations:
        sys.exit(EXIT_VIOLATIONS)


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_dir", type=click.Path(path_type=Path), default=None,
              help="Scenario folder (default: the copy the plan wrote to OUT_DIR/scenario).")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress display.")
@_render_options
def render(out_dir: Path, scenario_dir: Path | None, quiet: bool, options: RenderOptions) -> None:
    """Draw the maps and route sheets of the plan in OUT_DIR."""
    scenario = read_scenario(scenario_dir or out_dir / "scenario")
    _render(out_dir, scenario, read_plan(out_dir, scenario), options, quiet)


def _comparison(
    title: str, figures: list[PlanFigures], folder: Path | None, maps: list[Any],
    plans: dict[str, Callable[[Path], object]] | None = None,
) -> None:  # fmt: skip
    """Print the comparison; write comparison.csv and comparison.html into ``folder`` if given,
    together with the compared ``plans`` (folder name: writer), all or nothing."""
    from .render.report import report_html
    from .write import comparison_csv

    rows = comparison_rows(figures)
    names = [f.name for f in figures]
    table = Table(title=title)
    table.add_column("")
    for n in names:
        table.add_column(n, justify="right")
    for label, values in rows:
        table.add_row(label, *values)
    out.print(table, width=max(out.width, 40 + 20 * len(names)))
    if folder is not None:
        files: dict[str, Callable[[Path], object]] = {
            **(plans or {}),
            "comparison.csv": lambda p: p.write_text(comparison_csv(names, rows), encoding="utf-8"),
            "comparison.html": lambda p: p.write_text(report_html(title, names, rows, maps), encoding="utf-8"),
        }
        atomic_output(folder, files)
        what = ", ".join(f"{name}/" for name in plans or {})
        out.print(f"Wrote {folder}/{what + ', ' if what else ''}comparison.csv and comparison.html", markup=False)


@cli.command()
@click.argument("plans", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=OUT_FOLDER, default=None,
              help="Folder for comparison.csv and comparison.html.")  # fmt: skip
def compare(plans: tuple[Path, ...], out_dir: Path | None) -> None:
    """Compare plan folders side by side (shops that change manager: against the first)."""
    from .render.report import territory_maps

    figures, named = [], []
    for folder in plans:
        scenario = read_scenario(folder / "scenario")
        result = read_plan(folder)
        figures.append(plan_figures(folder.name, scenario, result, check_plan(scenario, result)))
        named.append((folder.name, scenario, dict(figures[-1].manager_of)))
    _comparison("Plans compared", with_moves(figures), out_dir, territory_maps(named))


def _team_sizes(text: str) -> list[int] | None:
    if text.strip().lower() == "auto":
        return None
    try:
        sizes = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise InputError(f"'{text}' is not a list of team sizes like 3,4,5 or 'auto'", field="managers") from None
    if not sizes or sizes[0] < 1:
        raise InputError("team sizes must be 1 or more", field="managers")
    return sizes


@cli.command()
@click.argument("scenario_dir", type=click.Path(path_type=Path))
@click.option("--managers", "sizes", required=True, help="Team sizes to plan, e.g. 3,4,5,6, or 'auto'.")
@click.option("-o", "--out", "out_dir", type=OUT_FOLDER, required=True, help="Output folder.")
@click.option("--time-limit", type=SECONDS, default=60.0, show_default=True,
              help="Seconds for each variant's plan.")  # fmt: skip
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Variants planned at once (0 = every core).")  # fmt: skip
@click.option("--current", "current_dir", type=click.Path(path_type=Path), default=None,
              help="A plan folder whose split is the current one (default: the designed split of the team as is).")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress display.")
def whatif(
    scenario_dir: Path,
    sizes: str,
    out_dir: Path,
    time_limit: float,
    seed: int,
    workers: int,
    current_dir: Path | None,
    quiet: bool,
) -> None:
    """Plan SCENARIO_DIR with other team sizes and compare the plans."""
    from .render.report import territory_maps
    from .solve.design import design_territories
    from .whatif import VariantPlan, plan_variants, smallest_team, team_name, with_team_size

    scenario = read_scenario(scenario_dir)
    wanted = _team_sizes(sizes)
    if wanted and wanted[-1] > len(scenario.retailers):
        raise InputError(
            f"a team of {wanted[-1]} for {len(scenario.retailers)} open shops: every manager needs shops of his own",
            field="managers",
        )
    if current_dir is not None:
        current = read_plan(current_dir).manager_of()
    else:
        current = dict(design_territories(scenario, seed=seed).manager_of)
    params = PlanParams(time_limit_s=time_limit)
    with _progress(quiet) as bar:
        task = bar.add_task("planning variants", total=len(wanted) if wanted else None)

        def done(v: VariantPlan) -> None:
            bar.update(task, advance=1, description=f"planned {v.name}")
            _log_progress(f"planned {v.name}", bar.tasks[0].completed / (len(wanted) if wanted else 8))

        if wanted is None:
            best, results = smallest_team(scenario, params, current=current, seed=seed, workers=workers, done=done)
        else:
            variants = [(team_name(k), with_team_size(scenario, k)) for k in wanted]
            results = plan_variants(variants, params, current=current, seed=seed, workers=workers, done=done)
    folders: dict[str, Callable[[Path], object]] = {
        r.name.replace(" ", "-"): functools.partial(_write_variant, variant=r) for r in results
    }
    figures = with_moves(
        [plan_figures(r.name, r.scenario, r.plan, list(r.violations)) for r in results], baseline=current
    )
    maps = territory_maps([(r.name, r.scenario, dict(r.territories.manager_of)) for r in results])
    _comparison(f"{scenario.name}: team sizes", figures, out_dir, maps, folders)
    if wanted is None:
        if best is None:
            out.print("[red]No team size tried keeps every rule.[/red]")
        else:
            fewer = next((r for r in results if len(r.scenario.managers) == best - 1), None)
            line = f"Smallest team that keeps every rule: {best} managers."
            if fewer is not None:
                broken = sorted({f"rule {v.rule} ({RULES[v.rule]})" for v in fewer.violations})
                line += f" With {best - 1}: {', '.join(broken)} broken, e.g. {fewer.violations[0].message}."
            out.print(line, markup=False)


def _write_variant(folder: Path, variant: Any) -> None:
    write_plan(folder, variant.scenario, variant.plan, list(variant.violations))


@cli.command()
@click.argument("workspace", type=click.Path(path_type=Path, file_okay=False), default="workspace")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback: this machine only)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--token", envvar="ROUTEPLAN_TOKEN", default=None,
              help="Access token every browser session must give (or ROUTEPLAN_TOKEN); required off loopback.")  # fmt: skip
def serve(workspace: Path, host: str, port: int, token: str | None) -> None:
    """The planner's desk: a web app over WORKSPACE (scenarios, plans and the run record)."""
    import ipaddress

    try:
        from waitress import serve as waitress_serve

        from .web.app import create_app
    except ImportError as exc:
        raise InputError(
            f"the web desk needs its extra: pip install 'routeplan[web]' ({exc.name} is missing)"
        ) from None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not token:
        raise InputError(
            f"serving on {host} needs an access token: set ROUTEPLAN_TOKEN (or --token) to a long random text",
            field="token",
        )
    if token is not None and len(token) < 12:
        raise InputError("the access token is too short: use at least 12 characters", field="token")
    if workspace.exists() and not workspace.is_dir():
        raise InputError("a file where the workspace folder belongs", file=str(workspace))
    app = create_app(workspace, token=token)
    out.print(
        f"routeplan desk on http://{host}:{port}/ (workspace {workspace.resolve()}); Ctrl+C stops it", markup=False
    )
    try:
        waitress_serve(app, host=host, port=port, threads=4, max_request_body_size=app.config["MAX_CONTENT_LENGTH"])
    finally:
        app.extensions["routeplan_desk"].close()


@cli.command()
@click.argument("scenario_dir", type=click.Path(path_type=Path))
def validate(scenario_dir: Path) -> None:
    """Read SCENARIO_DIR and report the first problem, if any."""
    sc = read_scenario(scenario_dir)
    out.print(
        f"{scenario_dir}: OK: {len(sc.retailers)} shops, {len(sc.managers)} managers, "
        f"{len(sc.calendar.working_days())} working days, {sc.calendar.n_slots} route slots per {sc.rules.cycle_weeks}-week cycle"
    )


@cli.command("pvrp")
@click.argument("instance", type=click.Path(path_type=Path))
@click.option("-o", "--out", "solution", type=_Output(folder=False), required=True,
              help="Solution file to write (reference format).")  # fmt: skip
@click.option("--time-limit", type=SECONDS, default=60.0, show_default=True, help="Seconds.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True, help="Processes (0 = every core).")
@click.option("--iterations", type=click.IntRange(min=1), default=None,
              help="Stop after this many iterations per process: the same seed then gives the same solution "
                   "on any machine (the time limit still applies).")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress display.")
def pvrp_solve(
    instance: Path, solution: Path, time_limit: float, seed: int, workers: int, iterations: int | None, quiet: bool
) -> None:
    """Solve a periodic-VRP INSTANCE (Cordeau format) and write the solution file."""
    from .pvrp import evaluate, read_instance, solve, write_solution

    inst = read_instance(instance)
    with _progress(quiet) as bar:
        task = bar.add_task(f"solving {inst.name}", total=1.0)
        routes, result = solve(inst, time_limit_s=time_limit, seed=seed, workers=workers, iterations=iterations,
                               progress=lambda frac: bar.update(task, completed=frac))  # fmt: skip
    cost, problems = evaluate(inst, routes)
    write_solution(solution, inst, routes)
    out.print(f"{inst.name}: cost {cost:.2f}, {len(routes)} routes, {result.iterations} iterations, "
              f"{result.seconds:.1f} s -> {solution}")  # fmt: skip
    for line in problems:
        out.print(f"  - {line}", markup=False)
    out.print("[green]feasible[/green]" if not problems else f"[red]{len(problems)} problems[/red]")
    if problems:
        sys.exit(EXIT_VIOLATIONS)


@cli.command()
@click.argument("scenario_dir", type=click.Path(path_type=Path))
@click.option(
    "--osm", type=click.Path(path_type=Path), required=True, help="An OpenStreetMap extract (.osm.pbf) of the city."
)
@click.option("--sample", type=click.IntRange(min=2), default=400, show_default=True, help="Shops sampled.")
@click.option("--seed", type=SEED, default=0, show_default=True)
def calibrate(scenario_dir: Path, osm: Path, sample: int, seed: int) -> None:
    """Fit the great-circle model's detour factor and speed to the roads of OSM for SCENARIO_DIR's shops."""
    from .calibrate import calibrate as fit
    from .roads import RoadTravel, road_graph

    scenario = read_scenario(scenario_dir)
    with _progress(False) as bar:
        bar.add_task("road matrix", total=None)
        c = fit(scenario, RoadTravel(road_graph(osm)), sample=sample, seed=seed)
    table = Table(title=f"{scenario.name}: great-circle model against the roads of {osm.name} ({c.hops} hops)")
    for col in ("setting", "now", "fitted", "change"):
        table.add_column(col, justify="right")
    table.add_row("detour_factor", f"{c.detour_now:g}", f"{c.detour_fit:g}", f"{c.detour_fit / c.detour_now - 1:+.0%}")
    table.add_row("speed_kmh", f"{c.speed_now:g}", f"{c.speed_fit:g}", f"{c.speed_fit / c.speed_now - 1:+.0%}")
    table.add_row("median error of a hop's minutes", f"{c.error_now:.0%}", f"{c.error_fit:.0%}", "")
    out.print(table)
    p5, p50, p95 = c.ratio_quantiles
    out.print(f"Road km / straight km on a hop: 5% {p5:.2f}, median {p50:.2f}, 95% {p95:.2f}.")
    if c.far_from_road:
        out.print(_far_line(list(c.far_from_road)), markup=False)
    out.print(f"In scenario.toml: [rules] detour_factor = {c.detour_fit:g}, speed_kmh = {c.speed_fit:g}", markup=False)


@cli.command("pvrp-check")
@click.argument("instance", type=click.Path(path_type=Path))
@click.argument("solution", type=click.Path(path_type=Path))
def pvrp_check(instance: Path, solution: Path) -> None:
    """Re-evaluate a periodic-VRP SOLUTION (reference format) of INSTANCE (Cordeau format)."""
    from .pvrp import evaluate, read_instance, read_solution

    inst = read_instance(instance)
    printed, routes = read_solution(solution)
    cost, problems = evaluate(inst, routes)
    out.print(f"{inst.name}: cost {cost:.2f} (file says {printed:.2f}), {len(routes)} routes")
    for line in problems:
        out.print(f"  - {line}", markup=False)
    out.print("[green]feasible[/green]" if not problems else f"[red]{len(problems)} problems[/red]")
    if problems:
        sys.exit(EXIT_VIOLATIONS)


#: click 8.2+ raises this for a group called without a command (8.1 prints its help itself)
_NO_ARGS_HELP: tuple[type[click.UsageError], ...] = tuple(
    e for e in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if e is not None
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (so tests can call it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", InputWarning)
            warnings.showwarning = _show_warning
            try:
                cli.main(args=list(argv) if argv is not None else None, prog_name="routeplan", standalone_mode=False)
            finally:
                close_models()  # an OSRM server started for this command ends with it
    except RouteplanError as exc:  # InputError included: one plain line, never wrapped
        sys.stderr.write(f"error: {_short(str(exc), 400)}\n")
        return EXIT_INPUT
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except _NO_ARGS_HELP as exc:  # a bare command: its help, as click shows it
        exc.show()
        return EXIT_INPUT
    except click.UsageError as exc:  # a mistyped command line: one line, like bad data
        where = exc.ctx.command_path if exc.ctx is not None else "routeplan"
        if where == "routeplan" and isinstance(exc, click.BadOptionUsage):
            # a command's option without its value is reported on the group: name the command
            words = list(argv) if argv is not None else sys.argv[1:]
            command = next((cli.commands[w] for w in words if w in cli.commands), None)
            if command is not None and any(exc.option_name in p.opts for p in command.params):
                where = f"routeplan {command.name}"
        sys.stderr.write(f"error: {where}: {_short(exc.format_message(), 400)} (see '{where} --help')\n")
        return EXIT_INPUT
    except click.ClickException as exc:
        exc.show()
        return EXIT_INPUT
    except (click.exceptions.Abort, KeyboardInterrupt):
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    except OSError as exc:  # a disk full, a folder not writable: the environment, said in one line
        name = f" {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"error:{name}: {exc.strerror or exc}\n")
        return EXIT_INPUT
    except Exception as exc:  # the last resort: never a bare traceback
        saved = _save_traceback(exc)
        sys.stderr.write(
            f"error: internal error ({type(exc).__name__}: {_short(str(exc))}); "
            f"the full traceback is in {saved}; please report it\n"
        )
        return EXIT_INTERNAL
    return 0


def _show_warning(message: Warning | str, *args: Any, **kwargs: Any) -> None:
    sys.stderr.write(f"warning: {_short(str(message), 400)}\n")


def _short(text: str, limit: int = 160) -> str:
    """One line of at most ``limit`` characters, control characters escaped."""
    flat = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _save_traceback(exc: BaseException) -> Path:
    """Write the traceback to a new file in the temp folder and return its path."""
    import tempfile
    import traceback

    fd, name = tempfile.mkstemp(prefix="routeplan-crash-", suffix=".txt")
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(f"routeplan {' '.join(sys.argv[1:])}\n\n")
        fh.write("".join(traceback.format_exception(exc)))
    return Path(name)


if __name__ == "__main__":
    sys.exit(main())
