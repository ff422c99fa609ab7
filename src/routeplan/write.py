"""Writing a plan: visits.csv, calls.csv, summary.json, schedule.xlsx and a copy of its scenario.

All files are written to a temporary folder first and moved into place only when
every one of them is complete, so a failed run leaves no half-written output.
Text cells that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .calendar import WEEKDAY_NAMES
from .check import Violation, summarize
from .compare import compactness
from .figures import office_kpis, plan_kpis
from .model import Manager, Scenario
from .plan import Plan, Route, clock
from .routebook import RouteBook, stability
from .whatif import capacity_note

VISIT_COLUMNS = (
    "manager_id", "date", "seq", "retailer_id", "arrival", "departure", "route_id",
    "name", "lat", "lon", "class", "travel_km", "service_minutes", "makeup", "address", "phone",
)  # fmt: skip
CALL_COLUMNS = ("manager_id", "date", "retailer_id", "route_id", "name", "phone")
ROUTE_COLUMNS = ("route_id", "manager_id", "slot", "seq", "retailer_id", "status", "name", "lat", "lon")
CHANGE_COLUMNS = ("retailer_id", "change", "from", "to", "why")
#: Leading characters that make Excel or LibreOffice treat a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """Prefix a quote to text a spreadsheet would evaluate (``=cmd|...``, ``+1``, ``@SUM``)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def restore(text: str) -> str:
    """Undo :func:`defuse` when reading our own CSV back."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS) else text


def atomic_output(folder: Path, files: dict[str, Callable[[Path], object]]) -> None:
    """Run each writer into a temp folder, then move every file (or folder) into ``folder``.

    A folder being replaced is moved aside first and deleted with the temp folder. When
    ``folder`` does not exist yet, the temp folder sits beside it and nothing is created
    unless every writer succeeds.
    """
    fresh = not folder.exists()
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-routeplan-", dir=folder.parent if fresh else folder))
    try:
        for name, writer in files.items():
            writer(tmp / name)
        if fresh:
            folder.mkdir()
        for name in files:
            target = folder / name
            if target.is_dir():
                os.replace(target, tmp / f".old-{name}")
            os.replace(tmp / name, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _csv_text(header: tuple[str, ...], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def visits_csv(scenario: Scenario, plan: Plan) -> str:
    shops = {r.id: r for r in scenario.retailers}
    rows: list[list[object]] = []
    for v in plan.visits:
        r = shops[v.retailer_id]
        rows.append([
            defuse(v.manager_id), v.date.isoformat(), v.seq, defuse(v.retailer_id), clock(v.arrival),
            clock(v.departure), defuse(v.route_id), defuse(r.name), f"{r.location.lat:.6f}", f"{r.location.lon:.6f}",
            defuse(r.klass), f"{v.travel_km:.3f}", f"{r.service_minutes:g}", "yes" if v.makeup else "no",
            defuse(r.address), defuse(r.phone),
        ])  # fmt: skip
    return _csv_text(VISIT_COLUMNS, rows)


def calls_csv(scenario: Scenario, plan: Plan) -> str:
    shops = {r.id: r for r in scenario.retailers}
    rows: list[list[object]] = [
        [defuse(c.manager_id), c.date.isoformat(), defuse(c.retailer_id), defuse(c.route_id),
         defuse(shops[c.retailer_id].name), defuse(shops[c.retailer_id].phone)]
        for c in plan.calls
    ]  # fmt: skip
    return _csv_text(CALL_COLUMNS, rows)


def routes_csv(scenario: Scenario, plan: Plan) -> str:
    """The route book: one row per stop of each standing route, suspended shops in their places."""
    shops = {r.id: r for r in (*scenario.retailers, *scenario.suspended)}
    rows: list[list[object]] = []
    for route in plan.routes:
        visited = set(route.stops)
        for seq, sid in enumerate(route.order, 1):
            r = shops[sid]
            rows.append([
                defuse(route.id), defuse(route.manager_id), route.label, seq, defuse(sid),
                "active" if sid in visited else "suspended", defuse(r.name),
                f"{r.location.lat:.6f}", f"{r.location.lon:.6f}",
            ])  # fmt: skip
    return _csv_text(ROUTE_COLUMNS, rows)


def changes_csv(plan: Plan) -> str:
    rows: list[list[object]] = [
        [defuse(c.retailer_id), c.kind, defuse(c.before), defuse(c.after), defuse(c.why)] for c in plan.changes
    ]
    return _csv_text(CHANGE_COLUMNS, rows)


def summary(
    scenario: Scenario, plan: Plan, violations: list[Violation], previous: RouteBook | None = None
) -> dict[str, Any]:
    kpis = plan_kpis(scenario, plan)
    kpis["total"]["compactness"] = compactness(scenario, plan)
    cal = scenario.calendar
    doc: dict[str, Any] = {
        "scenario": scenario.name,
        "month": f"{cal.year}-{cal.month:02d}",
        "feasible": not violations,
        "seed": plan.seed,
        "cycle": {"start": str(cal.cycle_start), "weeks": cal.cycle_weeks},
        "violation_count": len(violations),
        "violations": summarize(violations),
        "kpis": kpis,
        "notes": list(plan.notes),
        # a month that holds less work than its visits need: the cause of its broken rules, and the fix
        "capacity": capacity_note(scenario) if violations else None,
    }
    if len(scenario.offices()) > 1:
        doc["offices"] = office_kpis(scenario, plan, kpis)
    if previous is not None:
        doc["stability"] = stability(
            previous.routes, plan.routes, km_before=previous.km, km_after=float(kpis["total"]["km"]),
            frequency_before=previous.frequency, frequency_after=scenario.frequencies(),
        )  # fmt: skip
        doc["previous"] = {"month": f"{previous.month[0]}-{previous.month[1]:02d}"}
    return doc


_HEAD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDDDDD")


def _cell(ws: Any, row: int, col: int, value: Any, bold: bool = False) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        # a spreadsheet cannot hold control characters (a bell pasted into a name): show them escaped
        value = ILLEGAL_CHARACTERS_RE.sub(lambda m: repr(m.group())[1:-1], value)
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever the text starts with
        if value.startswith(FORMULA_TRIGGERS):
            cell.alignment = Alignment(horizontal="left")
            cell.quotePrefix = True
    else:
        cell.value = value
    if bold:
        cell.font = _HEAD


def schedule_xlsx(scenario: Scenario, plan: Plan, violations: list[Violation], path: Path) -> None:
    """Overview sheet, then per manager: the month as a calendar of routes and each route's stops."""
    wb = Workbook()
    info = summary(scenario, plan, violations)
    _overview_sheet(wb.active, scenario, info, violations)
    by_route_days: dict[str, list[str]] = defaultdict(list)
    day_route: dict[tuple[str, Any], tuple[str, int]] = {}
    for (mid, day), seq in plan.days().items():
        own = [v for v in seq if not v.makeup]
        rid = own[0].route_id if own else seq[0].route_id
        day_route[(mid, day)] = (rid, len(seq))
        by_route_days[rid].append(day.strftime("%d %b"))
    for m in scenario.managers:
        ws = wb.create_sheet(title=_sheet_title(m.id))
        _cell(ws, 1, 1, f"{m.id} {m.name}: {info['month']}", bold=True)
        row = _month_grid(ws, scenario, m, day_route)
        _route_lists(ws, row + 1, scenario, [r for r in plan.routes if r.manager_id == m.id], by_route_days)
        _widths(ws, [12, 26, 26, 26, 26, 26])
    wb.save(path)


def _overview_sheet(ws: Any, scenario: Scenario, info: dict[str, Any], violations: list[Violation]) -> None:
    """The plan's figures per manager and in total, then the broken rules."""
    ws.title = "Overview"
    k = info["kpis"]
    _cell(ws, 1, 1, f"{scenario.name}: route schedule {info['month']}", bold=True)
    _cell(ws, 2, 1, "Every rule kept" if not violations else f"{len(violations)} rule violations (see below)")
    head = ["manager", "name", "days", "visits", "km", "stops/day min", "stops/day mean", "field min/day min",
            "field min/day mean", "field min/day max"]  # fmt: skip
    for j, h in enumerate(head, 1):
        _cell(ws, 4, j, h, bold=True)
    names = {m.id: m.name for m in scenario.managers}
    rows = [([mid, names.get(mid, ""), mk["days"]], mk, False) for mid, mk in k["managers"].items()]
    rows.append((["total", "", ""], k["total"], True))
    row = 5
    for first, mk, bold in rows:
        stops, field = mk["stops_per_day"], mk["field_minutes_per_day"]
        values = [
            *first,
            mk["visits"],
            mk["km"],
            stops["min"],
            stops["mean"],
            field["min"],
            field["mean"],
            field["max"],
        ]
        for j, val in enumerate(values, 1):
            _cell(ws, row, j, val, bold=bold)
        row += 1
    row += 1
    for line in info["violations"]:
        _cell(ws, row, 1, line)
        row += 1
    _widths(ws, [12, 20, 8, 8, 10, 14, 14, 16, 16, 16])


def _month_grid(ws: Any, scenario: Scenario, m: Manager, day_route: dict[tuple[str, Any], tuple[str, int]]) -> int:
    """The month as weeks x workdays, each day naming its route (or holiday, day off); returns the next row."""
    cal = scenario.calendar
    moved_to = {holiday: worked for worked, holiday in cal.moved}
    _cell(ws, 3, 1, "week of", bold=True)
    for j, wd in enumerate(cal.workdays, 2):
        _cell(ws, 3, j, WEEKDAY_NAMES[wd], bold=True)
    row = 4
    for monday in cal.weeks():
        _cell(ws, row, 1, monday.strftime("%d %b"))
        for j, wd in enumerate(cal.workdays, 2):
            day = monday + timedelta(days=wd)
            if day.month != cal.month:
                continue
            if (m.id, day) in day_route:
                rid, n = day_route[(m.id, day)]
                _cell(ws, row, j, f"{day.day}: {rid} ({n} stops)")
            elif day in cal.holidays and (worked := moved_to.get(day)) and (m.id, worked) in day_route:
                rid, n = day_route[(m.id, worked)]
                _cell(ws, row, j, f"{day.day}: holiday, worked on {worked.day} ({worked:%a}): {rid} ({n} stops)")
            elif day in cal.holidays:
                _cell(ws, row, j, f"{day.day}: holiday")
            elif day in m.days_off:
                _cell(ws, row, j, f"{day.day}: day off")
        row += 1
    for worked, holiday in cal.moved:  # a day worked for a holiday of another month: off the grid's weekdays
        if holiday not in cal.days and (m.id, worked) in day_route:
            rid, n = day_route[(m.id, worked)]
            _cell(ws, row, 1, worked.strftime("%d %b"))
            _cell(
                ws, row, 2, f"{worked.day} ({worked:%a}): worked for the holiday of {holiday:%d %b}: {rid} ({n} stops)"
            )
            row += 1
    return row


def _route_lists(
    ws: Any, row: int, scenario: Scenario, routes: list[Route], by_route_days: dict[str, list[str]]
) -> None:
    """Each route's stops in order, with the dates it runs."""
    shops = {r.id: r for r in scenario.retailers}
    for route in routes:
        _cell(ws, row, 1, f"Route {route.id}", bold=True)
        _cell(ws, row, 2, f"{len(route.stops)} stops; runs {', '.join(by_route_days.get(route.id, []))}")
        row += 1
        for j, h in enumerate(["seq", "shop id", "name", "class", "address", "phone"], 1):
            _cell(ws, row, j, h, bold=True)
            ws.cell(row=row, column=j).fill = _FILL
        row += 1
        for i, sid in enumerate(route.stops, 1):
            r = shops[sid]
            for j, val in enumerate([i, r.id, r.name, r.klass, r.address, r.phone], 1):
                _cell(ws, row, j, val)
            row += 1
        row += 1


def _sheet_title(text: str) -> str:
    bad = "[]:*?/\\"
    return "".join("_" if ch in bad else ch for ch in text)[:31] or "manager"


def _widths(ws: Any, widths: list[int]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def write_plan(
    folder: str | Path, scenario: Scenario, plan: Plan, violations: list[Violation], previous: RouteBook | None = None
) -> list[Path]:
    """Write every output file of a plan into ``folder`` (atomically); returns their paths.

    A plan continued from ``previous`` also gets ``changes.csv`` and a ``stability`` block.
    """
    folder = Path(folder)
    doc = summary(scenario, plan, violations, previous)
    files: dict[str, Callable[[Path], object]] = {
        "visits.csv": lambda p: p.write_text(visits_csv(scenario, plan), encoding="utf-8"),
        "calls.csv": lambda p: p.write_text(calls_csv(scenario, plan), encoding="utf-8"),
        "routes.csv": lambda p: p.write_text(routes_csv(scenario, plan), encoding="utf-8"),
        "summary.json": lambda p: p.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8"),
        "schedule.xlsx": lambda p: schedule_xlsx(scenario, plan, violations, p),
        "scenario": lambda p: write_scenario(p, scenario),
    }
    if previous is not None:
        files["changes.csv"] = lambda p: p.write_text(changes_csv(plan), encoding="utf-8")
    elif (folder / "changes.csv").exists():
        files["changes.csv"] = lambda p: p.write_text(_csv_text(CHANGE_COLUMNS, []), encoding="utf-8")
    atomic_output(folder, files)
    return [folder / name for name in files]


def write_scenario(folder: str | Path, scenario: Scenario) -> None:
    """Write a scenario as the folder contract the reader takes (scenario.toml + two CSVs)."""
    from .calendar import format_weekdays

    folder = Path(folder)
    rules = scenario.rules
    cal = scenario.calendar
    lines = [
        f"name = {json.dumps(scenario.name, ensure_ascii=False)}",
        f'month = "{cal.year}-{cal.month:02d}"',
        'retailers = "retailers.csv"',
        'staff = "staff.csv"',
        "workdays = [" + ", ".join(f'"{d}"' for d in format_weekdays(cal.workdays).split(";")) + "]",
        "holidays = [" + ", ".join(f'"{d.isoformat()}"' for d in sorted(cal.holidays)) + "]",
        *(["workday_swaps = {" + ",".join(f' "{a}" = "{b}"' for a, b in cal.moved) + " }"] if cal.moved else []),
        'crs = "wgs84"',  # positions are held in WGS-84 whatever datum the scenario came in
        f'cycle_start = "{cal.cycle_start}"',  # the cycle's anchor: a continued plan runs on from it
        "",
        "[rules]",
        f"min_stops_per_day = {rules.min_stops_per_day}",
        f"min_visits_per_month = {rules.min_visits_per_month}",
        f'day_start = "{clock(rules.day_start_minutes)}"',
        f"meeting_minutes = {rules.meeting_minutes}",
        f"min_field_minutes = {rules.min_field_minutes}",
        f"max_day_minutes = {rules.max_day_minutes}",
        f"service_minutes = {rules.service_minutes:g}",
        f"speed_kmh = {rules.speed_kmh:g}",
        f"detour_factor = {rules.detour_factor:g}",
        f"cycle_weeks = {rules.cycle_weeks}",
    ]
    if rules.min_gap_days is not None:
        lines.append(f"min_gap_days = {rules.min_gap_days}")
    lines += ["", "[travel]", f'model = "{scenario.travel_model}"']
    if scenario.travel_model == "road":
        lines.append(f'engine = "{scenario.engine}"')
    if scenario.osm:
        lines.append(f"osm = {json.dumps(scenario.osm, ensure_ascii=False)}")
    if scenario.osrm_url:
        lines.append(f"osrm_url = {json.dumps(scenario.osrm_url)}")
    for name, cr in scenario.classes.items():
        lines += ["", f"[classes.{name}]"]
        if cr.visits_per_month is not None:
            lines.append(f"visits_per_month = {cr.visits_per_month}")
        if cr.service_minutes is not None:
            lines.append(f"service_minutes = {cr.service_minutes:g}")
    shops = io.StringIO()
    w = csv.writer(shops, lineterminator="\n")
    w.writerow(["id", "name", "lat", "lon", "class", "address", "phone", "manager_id", "closed_weekdays",
                "visits_per_month", "service_minutes", "route_id", "status", "office"])  # fmt: skip
    for r, status in [*((r, "active") for r in scenario.retailers), *((r, "suspended") for r in scenario.suspended)]:
        w.writerow([r.id, r.name, f"{r.location.lat:.7f}", f"{r.location.lon:.7f}", r.klass, r.address, r.phone,
                    r.manager_id or "", format_weekdays(sorted(r.closed_weekdays)), r.visits_per_month,
                    f"{r.service_minutes:g}", r.route_id or "", status, r.office_id or ""])  # fmt: skip
    staff = io.StringIO()
    w = csv.writer(staff, lineterminator="\n")
    w.writerow(["id", "name", "start_lat", "start_lon", "min_stops_per_day", "days_off", "return_to_office", "office"])
    for m in scenario.managers:
        w.writerow([m.id, m.name, f"{m.office.lat:.7f}", f"{m.office.lon:.7f}", m.min_stops_per_day,
                    ";".join(d.isoformat() for d in sorted(m.days_off)), str(m.return_to_office).lower(),
                    m.office_id])  # fmt: skip
    atomic_output(
        folder,
        {
            "scenario.toml": lambda p: p.write_text("\n".join(lines) + "\n", encoding="utf-8"),
            "retailers.csv": lambda p: p.write_text(shops.getvalue(), encoding="utf-8"),
            "staff.csv": lambda p: p.write_text(staff.getvalue(), encoding="utf-8"),
        },
    )


def comparison_csv(names: list[str], rows: list[tuple[str, list[str]]]) -> str:
    """A comparison as CSV: one row per figure, one column per plan."""
    return _csv_text(("figure", *(defuse(n) for n in names)), [[label, *values] for label, values in rows])
