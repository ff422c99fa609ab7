"""Reading a scenario folder: ``scenario.toml``, ``retailers.csv``, ``staff.csv`` (or workbooks).

The only module that parses scenario files (``table.py`` turns a CSV or a sheet into rows).
Every problem becomes an :class:`~routeplan.errors.InputError` naming the file, the row (line
number as an editor shows it, or Excel's row) and the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .calendar import Calendar, parse_weekday
from .coords import DATUMS, to_wgs84
from .errors import InputError
from .geo import LatLon, haversine_km
from .model import ClassRule, Manager, Retailer, Rules, Scenario, offices_of
from .plan import Call, Change, Plan, Route, Visit
from .routebook import RouteBook
from .table import Table

T = TypeVar("T")

RETAILER_REQUIRED = ("id", "name", "lat", "lon", "class")
RETAILER_OPTIONAL = (
    "address",
    "phone",
    "visits_per_month",
    "service_minutes",
    "manager_id",
    "closed_weekdays",
    "status",
    "route_id",
    "office",
)
#: ``status`` values: an empty cell means active.
STATUSES = {
    "": "active", "active": "active", "open": "active", "suspended": "suspended", "closed": "closed",
    # as Chinese sales systems export them: trading, paused (停业/歇业 are temporary), licence cancelled
    "正常": "active", "营业": "active", "在营": "active", "有效": "active",
    "暂停": "suspended", "停业": "suspended", "歇业": "suspended", "暂停营业": "suspended",
    "关闭": "closed", "注销": "closed", "已注销": "closed", "闭店": "closed", "已关闭": "closed",
}  # fmt: skip
STAFF_REQUIRED = ("id", "name", "start_lat", "start_lon")
STAFF_OPTIONAL = ("min_stops_per_day", "days_off", "return_to_office", "office")
#: the staff fields an error about a manager's position names
MANAGER_POSITION = ("start_lat", "start_lon")
#: no road crosses a city faster than this on average (see :func:`reach_problems`)
FASTEST_ROAD_KMH = 120.0
#: Each input list's required and optional columns, by the list's kind.
LIST_COLUMNS = {"retailers": (RETAILER_REQUIRED, RETAILER_OPTIONAL), "staff": (STAFF_REQUIRED, STAFF_OPTIONAL)}
#: Every column each input list may have.
LIST_ALL_COLUMNS = {kind: required + optional for kind, (required, optional) in LIST_COLUMNS.items()}
SCENARIO_KEYS = {
    "name",
    "month",
    "retailers",
    "staff",
    "workdays",
    "holidays",
    "workday_swaps",
    "rules",
    "classes",
    "crs",
    "travel",
    "columns",
    "cycle_start",
    "extends",
    "remove_managers",
    "add_managers",
    "reassign",
    "add_retailers",
    "close_retailers",
}
#: The shape each scenario.toml key takes, and how an error message says it.
TOML_TYPES = {
    "name": ("text", "a text"),
    "month": ("text", 'a month like "2026-12"'),
    "retailers": ("file", 'a file name, or a table like {file = "shops.xlsx", sheet = "门店"}'),
    "staff": ("file", 'a file name, or a table like {file = "shops.xlsx", sheet = "人员"}'),
    "columns": ("table", 'a table [columns] like lat = "纬度(GCJ02)"'),
    "extends": ("text", "a folder name"),
    "crs": ("text", 'a datum name like "wgs84"'),
    "workdays": ("texts", 'a list like ["Mon", "Tue"]'),
    "holidays": ("days", 'a list of dates like ["2026-12-25"]'),
    "workday_swaps": (
        "day table",
        'a table like { "2026-10-10" = "2026-10-07" } (day worked = holiday it is worked for)',
    ),
    "cycle_start": ("day", 'a date like "2026-11-30"'),
    "rules": ("table", "a table [rules]"),
    "travel": ("table", "a table [travel]"),
    "classes": ("table of tables", "tables like [classes.A]"),
    "remove_managers": ("texts", "a list of manager ids"),
    "add_managers": ("tables", "a list of tables [[add_managers]]"),
    "reassign": ("tables", "a list of tables [[reassign]]"),
    "add_retailers": ("text", "a file name"),
    "close_retailers": ("file or texts", "a file name or a list of shop ids"),
}
#: Keys whose tables merge key by key down an ``extends`` chain (the rest are replaced).
MERGED_KEYS = ("rules", "classes", "travel")
#: The planner's edits a variant applies to what it extends, in this order.
EDIT_KEYS = ("remove_managers", "add_managers", "add_retailers", "close_retailers", "reassign")
RULE_KEYS = {f.name for f in fields(Rules)} - {"day_start_minutes"} | {"day_start"}
CLASS_KEYS = {"visits_per_month", "service_minutes"}


def parse_clock(text: str, *, past_midnight: bool = False) -> int:
    """``"07:30"`` -> 450 minutes after midnight. ``past_midnight``: a visit's time, counted from
    the midnight that starts its day, so a day that runs on past midnight reads ``"25:10"``."""
    hh, sep, mm = str(text).partition(":")
    if not sep or not hh.strip().isdigit() or not mm.strip().isdigit():
        raise ValueError(f"'{text}' is not a time HH:MM")
    h, m = int(hh), int(mm)
    if not ((0 <= h < 24 or past_midnight) and 0 <= m < 60):
        raise ValueError(f"'{text}' is not a time HH:MM")
    return h * 60 + m


def _visit_clock(text: str) -> int:
    return parse_clock(text, past_midnight=True)


def parse_date(text: str) -> date:
    """``2026-12-25``, or as spreadsheets and Chinese lists write it: ``2026/12/25``, ``2026.12.25``, ``2026年12月25日``."""
    plain = str(text).strip()
    for sep in ("/", ".", "年", "月"):
        plain = plain.replace(sep, "-")
    plain = plain.removesuffix("日")
    parts = plain.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
        plain = f"{parts[0]}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    try:
        return date.fromisoformat(plain)
    except ValueError:
        raise ValueError(f"'{text}' is not a date YYYY-MM-DD") from None


def parse_bool(text: str) -> bool:
    key = text.strip().lower()
    if key in ("true", "yes", "1", "y"):
        return True
    if key in ("false", "no", "0", "n", ""):
        return False
    raise ValueError(f"'{text}' is not true or false")


def parse_number(text: str, kind: type[int] | type[float] = float) -> float:
    """Parse a finite number, saying in words what was wrong."""
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a {'whole number' if kind is int else 'number'}") from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"'{text}' is not a number")
    return value


def _coordinate(text: str, low: float, high: float) -> float:
    value = parse_number(text)
    if not low <= value <= high:
        raise ValueError(f"{text} is outside {low:g}..{high:g}")
    return value


#: Larger counts (of stops, visits, a sequence) are typing slips, not plans.
MAX_COUNT = 1_000_000


def _positive_int(text: str) -> int:
    value = int(parse_number(text, int))
    if value < 0:
        raise ValueError(f"{value} is negative")
    if value > MAX_COUNT:
        raise ValueError(f"{_echo(text)} is too large (at most {MAX_COUNT:,})")
    return value


#: Longest visit a shop may take (a whole day); nan and inf are no number of minutes.
MAX_SERVICE_MINUTES = 24 * 60


def _service_minutes(text: str) -> float:
    value = parse_number(text)
    if not 0 < value <= MAX_SERVICE_MINUTES:
        raise ValueError(f"{text} is not a positive number of minutes (at most {MAX_SERVICE_MINUTES})")
    return value


def _toml_value(table: dict[str, Any], key: str, kind: type | tuple[type, ...], file: str, prefix: str = "") -> Any:
    value = table[key]
    if isinstance(value, bool) and kind is not bool:
        raise InputError(
            f"expected {getattr(kind, '__name__', 'a number')}, got {value!r}", file=file, field=prefix + key
        )
    if not isinstance(value, kind):
        raise InputError(
            f"expected {getattr(kind, '__name__', 'a number')}, got {value!r}", file=file, field=prefix + key
        )
    return value


def _read_rules(table: dict[str, Any], file: str) -> Rules:
    unknown = set(table) - RULE_KEYS
    if unknown:
        raise InputError(
            f"unknown rule (known: {', '.join(sorted(RULE_KEYS))})", file=file, field="rules." + sorted(unknown)[0]
        )
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key == "day_start":
            try:
                kwargs["day_start_minutes"] = parse_clock(value)
            except ValueError as exc:
                raise InputError(str(exc), file=file, field="rules.day_start") from None
        elif key in ("service_minutes", "speed_kmh", "detour_factor"):
            kwargs[key] = float(_toml_value(table, key, (int, float), file, "rules."))
        else:
            kwargs[key] = _toml_value(table, key, int, file, "rules.")
    try:
        return Rules(**kwargs)
    except InputError as exc:
        raise InputError(exc.detail, file=file, field="rules." + (exc.field or "")) from None


def _read_classes(table: dict[str, Any], file: str) -> dict[str, ClassRule]:
    classes: dict[str, ClassRule] = {}
    for name, spec in table.items():
        if not isinstance(spec, dict):
            raise InputError("expected a table like [classes.A]", file=file, field=f"classes.{name}")
        unknown = set(spec) - CLASS_KEYS
        if unknown:
            raise InputError(
                f"unknown key (known: {', '.join(sorted(CLASS_KEYS))})",
                file=file,
                field=f"classes.{name}.{sorted(unknown)[0]}",
            )
        visits = spec.get("visits_per_month")
        if visits is not None and (isinstance(visits, bool) or not isinstance(visits, int) or visits < 1):
            raise InputError("must be a whole number, at least 1", file=file, field=f"classes.{name}.visits_per_month")
        service = spec.get("service_minutes")
        if service is not None and (
            isinstance(service, bool) or not isinstance(service, int | float) or not 0 < service <= MAX_SERVICE_MINUTES
        ):
            raise InputError(
                f"must be a positive number of minutes, at most {MAX_SERVICE_MINUTES}", file=file,
                field=f"classes.{name}.service_minutes",
            )  # fmt: skip
        classes[str(name)] = ClassRule(str(name), visits, float(service) if service is not None else None)
    return classes


def _load_toml(folder: Path) -> dict[str, Any]:
    toml_path = folder / "scenario.toml"
    tname = str(toml_path)
    if not folder.is_dir():
        raise InputError("not a scenario folder", file=str(folder))
    if toml_path.exists() and not toml_path.is_dir() and not toml_path.is_file():
        raise InputError("not a regular file (a device or a pipe?)", file=tname)
    try:
        with toml_path.open("rb") as fh:
            spec = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError("file not found", file=tname) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=tname) from None
    except RecursionError:
        raise InputError("not valid TOML: nested too deeply", file=tname) from None
    except IsADirectoryError:
        raise InputError("a folder where the scenario file belongs", file=tname) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=tname) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=tname) from None
    unknown = set(spec) - SCENARIO_KEYS
    if unknown:
        raise InputError(
            f"unknown key (known: {', '.join(sorted(SCENARIO_KEYS))})", file=tname, field=sorted(unknown)[0]
        )
    for key, value in spec.items():
        kind, what = TOML_TYPES[key]
        if not _is_kind(value, kind):
            raise InputError(f"expected {what}, got {_echo(value)}", file=tname, field=key)
    return spec


def _is_kind(value: Any, kind: str) -> bool:
    """Whether a TOML value has the shape a scenario key takes (see :data:`TOML_TYPES`)."""
    if kind == "text":
        return isinstance(value, str)
    if kind == "day":
        return isinstance(value, str | date)
    if kind == "texts":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "days":
        return isinstance(value, list) and all(isinstance(v, str | date) for v in value)
    if kind == "table":
        return isinstance(value, dict)
    if kind == "day table":
        return isinstance(value, dict) and all(isinstance(v, str | date) for v in value.values())
    if kind == "file":
        return isinstance(value, str) or (
            isinstance(value, dict) and isinstance(value.get("file"), str) and set(value) <= {"file", "sheet"}
            and isinstance(value.get("sheet", ""), str)
        )  # fmt: skip
    if kind == "tables":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    if kind == "table of tables":
        return isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
    return isinstance(value, str | list)  # "file or texts"


def _echo(value: Any, limit: int = 40) -> str:
    """A value as a message may quote it: short, control characters escaped."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _inside(folder: Path, name: Any, field: str) -> Path:
    """The file a scenario.toml names, which must sit in (or under) that scenario's folder."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"expected a file name, got {name!r}", file=str(folder / "scenario.toml"), field=field)
    path = folder / name
    base = folder.resolve()
    if not path.resolve().is_relative_to(base):
        raise InputError(
            f"{_echo(str(name))} is outside the scenario folder: keep the files a scenario names in its folder",
            file=str(folder / "scenario.toml"), field=field,
        )  # fmt: skip
    return path


def _load_spec(folder: Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[tuple[Path, dict[str, Any]]]]:
    """The scenario.toml of ``folder`` merged over what it ``extends``, and the edits of each level.

    File names (retailers, staff) are resolved against the folder whose scenario.toml names them.
    """
    here = folder.resolve()
    if here in chain:
        raise InputError("'extends' goes round in a circle", file=str(folder / "scenario.toml"), field="extends")
    spec = _load_toml(folder)
    for key in ("retailers", "staff"):
        if key in spec:
            value = spec[key]
            name, sheet = (value["file"], value.get("sheet")) if isinstance(value, dict) else (value, None)
            spec[key] = (str(_inside(folder, name, key)), sheet)
    osm = spec.get("travel", {}).get("osm") if isinstance(spec.get("travel"), dict) else None
    if isinstance(osm, str) and osm:
        spec["travel"]["osm"] = str((folder / osm).resolve())  # relative to the file that names it
    edits = {k: spec.pop(k) for k in EDIT_KEYS if k in spec}
    if "extends" not in spec:
        spec.setdefault("retailers", (_default_file(folder, "retailers"), None))
        spec.setdefault("staff", (_default_file(folder, "staff"), None))
        return spec, [(folder, edits)]
    base_dir = folder / str(spec.pop("extends"))
    if not (base_dir / "scenario.toml").is_file():
        hint = ": name its folder" if base_dir.name == "scenario.toml" and base_dir.is_file() else ""
        raise InputError(f"no scenario at '{base_dir}'{hint}", file=str(folder / "scenario.toml"), field="extends")
    base, base_edits = _load_spec(base_dir, (*chain, here))
    merged = {**base, **{k: v for k, v in spec.items() if k not in MERGED_KEYS}}
    for key in ("rules", "travel"):
        merged[key] = {**base.get(key, {}), **spec.get(key, {})}
    classes = {name: dict(table) for name, table in base.get("classes", {}).items()}
    for name, table in spec.get("classes", {}).items():
        classes[name] = {**classes.get(name, {}), **(table if isinstance(table, dict) else {})}
    merged["classes"] = classes
    if "name" not in spec:
        merged["name"] = folder.name
    return merged, [*base_edits, (folder, edits)]


def _default_file(folder: Path, stem: str) -> str:
    """``retailers.csv``, or ``retailers.xlsx`` where only the workbook is there."""
    csv_path, book = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    return str(book if book.exists() and not csv_path.exists() else csv_path)


def _read_columns(table: dict[str, Any], tname: str) -> dict[str, dict[str, str]]:
    """``[columns]``: the header a file uses for a routeplan column. Plain keys are the shop
    list's; ``[columns.staff]`` (and ``[columns.retailers]``) name one file's."""
    out: dict[str, dict[str, str]] = {"retailers": {}, "staff": {}}
    for key, value in table.items():
        kind, pairs = (key, value) if isinstance(value, dict) else ("retailers", {key: value})
        prefix = f"columns.{key}." if isinstance(value, dict) else "columns."
        if kind not in LIST_ALL_COLUMNS:
            raise InputError("a column table is [columns.retailers] or [columns.staff]", file=tname,
                             field=f"columns.{key}")  # fmt: skip
        for field, header in pairs.items():
            where = prefix + field if isinstance(value, dict) else f"columns.{field}"
            if field not in LIST_ALL_COLUMNS[kind]:
                near = difflib.get_close_matches(field, LIST_ALL_COLUMNS[kind], n=1)
                hint = f"did you mean '{near[0]}'? " if near else ""
                raise InputError(f"not a column of {kind} ({hint}known: {', '.join(LIST_ALL_COLUMNS[kind])})", file=tname,
                                 field=where)  # fmt: skip
            if not isinstance(header, str) or not header.strip():
                raise InputError(f"expected the header text, got {_echo(header)}", file=tname, field=where)
            if header in out[kind].values():
                raise InputError(f"'{header}' is already the header of another column", file=tname, field=where)
            out[kind][field] = header
    return out


def _read_calendar(spec: dict[str, Any], rules: Rules, tname: str) -> Calendar:
    """The month, its workdays and holidays, and the cycle's anchor."""
    if "month" not in spec:
        raise InputError("missing", file=tname, field="month")
    month_text = str(spec["month"])
    try:
        year, month = (int(p) for p in month_text.split("-"))
        if not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise InputError(f"{_echo(month_text)} is not a month YYYY-MM", file=tname, field="month") from None
    if not 1900 <= year <= 2199:
        raise InputError(f"{_echo(month_text)}: the year must be 1900 to 2199", file=tname, field="month")
    try:
        workdays = tuple(parse_weekday(str(d)) for d in spec.get("workdays", ["Mon", "Tue", "Wed", "Thu", "Fri"]))
    except ValueError as exc:
        raise InputError(str(exc), file=tname, field="workdays") from None
    try:
        holidays = frozenset(parse_date(str(d)) for d in spec.get("holidays", []))
    except ValueError as exc:
        raise InputError(str(exc), file=tname, field="holidays") from None
    try:
        moved = tuple(
            sorted((parse_date(str(k)), parse_date(str(v))) for k, v in spec.get("workday_swaps", {}).items())
        )
    except ValueError as exc:
        raise InputError(str(exc), file=tname, field="workday_swaps") from None
    cycle_start = None
    if "cycle_start" in spec:
        try:
            cycle_start = parse_date(str(spec["cycle_start"]))
        except ValueError as exc:
            raise InputError(str(exc), file=tname, field="cycle_start") from None
    try:
        return Calendar(year, month, workdays, holidays, rules.cycle_weeks, cycle_start, moved)
    except ValueError as exc:
        swapped = exc
    try:  # the swaps are to blame only where the calendar holds without them
        Calendar(year, month, workdays, holidays, rules.cycle_weeks, cycle_start)
    except ValueError as exc:
        raise InputError(str(exc), file=tname, field="workdays") from None
    raise InputError(str(swapped), file=tname, field="workday_swaps") from None


def _read_travel(table: dict[str, Any], tname: str) -> dict[str, Any]:
    """The travel model the scenario names (``[travel]``), as Scenario keyword arguments.

    The extract may sit outside the scenario folder (several scenarios of a city share one);
    it is only ever read.
    """
    unknown = set(table) - {"model", "osm", "engine", "osrm_url"}
    if unknown:
        raise InputError("unknown key (known: model, osm, engine, osrm_url)", file=tname,
                         field=f"travel.{sorted(unknown)[0]}")  # fmt: skip
    # which models and engines exist, and that roads need an extract: Scenario checks those
    model = table.get("model", "great-circle")
    if model != "road":
        return {"travel_model": model}
    url = table.get("osrm_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise InputError(f"{_echo(url)} is not an http(s) address", file=tname, field="travel.osrm_url")
    osm = table.get("osm")
    path = None
    if isinstance(osm, str) and osm:
        path = Path(osm)  # made absolute by _load_spec, against the folder whose scenario.toml names it
        if not path.is_file():
            raise InputError(f"no such OpenStreetMap extract: {_echo(osm)}", file=tname, field="travel.osm")
    engine = table.get("engine", "auto")
    return {"travel_model": "road", "osm": str(path) if path else None, "engine": engine, "osrm_url": url}


def read_scenario(folder: str | Path) -> Scenario:
    """Load and validate a scenario folder (see the README for the contract).

    A folder whose scenario.toml says ``extends = "../other"`` is a variant: it takes
    everything from the other scenario, overrides what it sets (``[rules]`` and
    ``[classes]`` key by key) and applies its edits (managers added or removed, shops
    added, closed or reassigned by area).
    """
    folder = Path(folder)
    tname = str(folder / "scenario.toml")
    spec, edits = _load_spec(folder)
    rules = _read_rules(spec.get("rules", {}), tname)
    classes = _read_classes(spec.get("classes", {}), tname)
    cal = _read_calendar(spec, rules, tname)
    crs = str(spec.get("crs", "wgs84")).lower()
    if crs not in DATUMS:
        raise InputError(f"'{crs}' is not one of {', '.join(DATUMS)}", file=tname, field="crs")
    travel = _read_travel(spec.get("travel", {}), tname)

    columns = _read_columns(spec.get("columns", {}), tname)
    staff_path, staff_sheet = spec["staff"]
    retailer_path, retailer_sheet = spec["retailers"]
    staff_table = Table(Path(staff_path), "staff", STAFF_REQUIRED, STAFF_OPTIONAL, sheet=staff_sheet,
                        columns=columns["staff"])  # fmt: skip
    managers, staff_rows = _read_staff(staff_table, rules, crs)
    retailer_table = Table(Path(retailer_path), "retailers", RETAILER_REQUIRED, RETAILER_OPTIONAL,
                           sheet=retailer_sheet, columns=columns["retailers"])  # fmt: skip
    shops, rows_of = _read_retailers(retailer_table, rules, classes, crs, managers)
    for where, edit in edits:
        managers, shops = _apply_edits(where, edit, managers, shops, rules, classes, crs, columns["retailers"])
    if not managers:
        raise staff_table.error("no managers: the staff list has no rows", None)
    if not shops.active and not shops.suspended:
        raise retailer_table.error("no retailers: every row is closed or the list has none", None)
    try:
        scenario = Scenario(
            name=str(spec.get("name", folder.name)),
            calendar=cal,
            rules=rules,
            retailers=tuple(shops.active),
            managers=tuple(managers),
            classes=classes,
            crs=crs,
            suspended=tuple(shops.suspended),
            **travel,
        )
        road = scenario.travel_model != "great-circle"
        owners = [scenario.owner(r) for r in scenario.retailers]
        problems = reach_problems(scenario.retailers, scenario.managers, rules, road=road, owners=owners)
        if problems:
            raise problems[0]
        return scenario
    except InputError as exc:
        if exc.field in (*MANAGER_POSITION, "days_off") and exc.key in staff_rows:
            raise staff_table.error(exc.detail, staff_rows[exc.key], exc.field) from None
        if exc.key is not None and exc.key in rows_of:
            raise retailer_table.error(exc.detail, rows_of[exc.key], exc.field) from None
        raise InputError(exc.detail, file=tname, field=exc.field) from None


def reach_problems(
    retailers: Sequence[Retailer], managers: Sequence[Manager], rules: Rules, *, road: bool = False,
    owners: Sequence[str | None] | None = None,
) -> list[InputError]:  # fmt: skip
    """Shops no day can reach from a manager who may visit them, and managers whose start reaches
    no shop: one error each (``key``: the shop's or manager's id), the managers first.

    A position hundreds of km off is a typo, swapped digits or another datum's coordinate; left
    to the planner, such a shop takes one manager's whole month (a route to that one shop and
    empty days) and the report blames the days, not the row. A shop may be visited by its
    ``owners`` entry (its pin or locked route's manager; default: its ``manager_id``), else by
    its office's team (``office``), else by anyone. The reach is the planner's straight-line
    model (the rules' detour factor and speed); with ``road`` travel, straight-line km at
    :data:`FASTEST_ROAD_KMH`, which no road beats.
    """
    if not retailers or not managers:
        return []
    per_km = 60.0 / FASTEST_ROAD_KMH if road else rules.detour_factor * 60.0 / rules.speed_kmh
    how = f"at {FASTEST_ROAD_KMH:.0f} km/h" if road else f"at {rules.speed_kmh:g} km/h with the detour factor"
    window = rules.field_window_minutes
    lat = np.array([r.location.lat for r in retailers])
    lon = np.array([r.location.lon for r in retailers])
    service = np.array([r.service_minutes for r in retailers])
    office_of = offices_of(managers)
    index = {m.id: i for i, m in enumerate(managers)}
    offices = {name: j for j, name in enumerate(dict.fromkeys(office_of.values()))}
    owner_ids = owners if owners is not None else [r.manager_id for r in retailers]
    owner = np.array([index.get(o or "", -1) for o in owner_ids])
    pin = np.array([offices.get(r.office_id or "", -1) for r in retailers])
    nearest = np.full(len(retailers), np.inf)  # km to the nearest start of a manager who may visit the shop
    reached = np.zeros(len(retailers), dtype=bool)
    problems = []
    too_long = service > window  # no start reaches such a visit: its length is the problem, not a position
    for m in managers:
        km = haversine_km(lat, lon, np.full(1, m.office.lat), np.full(1, m.office.lon))
        fits = km * per_km * (2.0 if m.return_to_office else 1.0) + service <= window
        if not fits.any() and not too_long.all():
            problems.append(InputError(
                f"{m.id} starts {float(km[~too_long].min()):,.0f} km from the nearest shop: no shop can be reached "
                f"and visited within a day's {window} field minutes ({how}); check start_lat / start_lon",
                field="start_lat", key=m.id,
            ))  # fmt: skip
        may = ((owner < 0) | (owner == index[m.id])) & ((pin < 0) | (pin == offices[office_of[m.id]]))
        nearest = np.where(may, np.minimum(nearest, km), nearest)
        reached |= may & fits
    for i in np.flatnonzero(~reached):
        r, km_i = retailers[int(i)], float(nearest[i])
        if too_long[i]:
            problems.append(InputError(
                f"shop {r.id}'s visit takes {r.service_minutes:g} min and a day has {window} field minutes; check "
                f"service_minutes (the shop's cell, or [classes.{r.klass}] or [rules] in scenario.toml)",
                field="service_minutes", key=r.id,
            ))  # fmt: skip
            continue
        problems.append(InputError(
            f"shop {r.id} lies {km_i:,.0f} km from the nearest start of a manager who may visit it: the drive "
            f"takes {km_i * per_km:,.0f} min ({how}), the visit {r.service_minutes:g} min, and a day has {window} "
            "field minutes; check lat / lon",
            field="lat", key=r.id,
        ))  # fmt: skip
    return problems


def _unique_id(rows: Table, row: dict[str, str], lineno: int, seen: dict[str, int]) -> str:
    """The row's id, which no earlier row may have (``seen``: id -> row, updated)."""
    key = rows.get(row, lineno, "id", str)
    if key in seen:
        raise rows.error(f"duplicate id '{key}' (first on row {seen[key]})", lineno, "id")
    seen[key] = lineno
    return key


def _position(rows: Table, row: dict[str, str], lineno: int, lat_col: str, lon_col: str) -> tuple[float, float]:
    return (
        rows.get(row, lineno, lat_col, lambda t: _coordinate(t, -90, 90)),
        rows.get(row, lineno, lon_col, lambda t: _coordinate(t, -180, 180)),
    )


def _read_staff(rows: Table, rules: Rules, crs: str) -> tuple[list[Manager], dict[str, int]]:
    """The managers, and each one's row."""
    managers: list[Manager] = []
    seen: dict[str, int] = {}
    for lineno, row in rows:
        with rows.each_row():
            mid = _unique_id(rows, row, lineno, seen)
            lat, lon = _position(rows, row, lineno, "start_lat", "start_lon")
            min_stops = (
                rows.get(row, lineno, "min_stops_per_day", _positive_int, required=False)
                if row.get("min_stops_per_day")
                else rules.min_stops_per_day
            )
            days_off = _date_list(rows, row, lineno, "days_off")
            back = (
                rows.get(row, lineno, "return_to_office", parse_bool, required=False)
                if row.get("return_to_office")
                else False
            )
            managers.append(
                Manager(
                    id=mid,
                    name=rows.get(row, lineno, "name", str, required=False) or mid,
                    office=to_wgs84(LatLon(lat, lon), crs),
                    min_stops_per_day=min_stops,
                    days_off=days_off,
                    return_to_office=back,
                    office_id=row.get("office", ""),
                )
            )
    return managers, seen


@dataclass(frozen=True)
class ListReview:
    """A shop list and a staff list read to the end, every bad row's error gathered."""

    managers: tuple[Manager, ...]
    retailers: tuple[Retailer, ...]
    suspended: tuple[Retailer, ...]
    errors: tuple[InputError, ...]


def review_lists(
    shops: Table, staff: Table, rules: Rules | None = None, classes: dict[str, ClassRule] | None = None,
    crs: str = "wgs84",
) -> ListReview:  # fmt: skip
    """Read both lists as :func:`read_scenario` does, but past bad rows (tables made with ``collect``)."""
    rules = rules or Rules()
    managers, staff_rows = _read_staff(staff, rules, crs)
    found, shop_rows = _read_retailers(shops, rules, classes or {}, crs, managers)
    if not staff.errors and not shops.errors:  # a position too far for a day, on the row that gives it
        for problem in reach_problems(found.active, managers, rules):
            table, rows = (staff, staff_rows) if problem.field in MANAGER_POSITION else (shops, shop_rows)
            with table.each_row():
                raise table.error(problem.detail, rows[problem.key or ""], problem.field)
    errors = [*(staff.errors or []), *(shops.errors or [])]
    return ListReview(tuple(managers), tuple(found.active), tuple(found.suspended), tuple(errors))


def _list_cell(text: str) -> list[str]:
    """The items of a cell holding a list: ``Mon;Wed``, ``Mon, Wed``, ``周一、周三``, ``2026/12/3；2026/12/4``."""
    return [part for part in re.split(r"[;,，、；\s]+", text) if part]


def _date_list(rows: Table, row: dict[str, str], lineno: int, col: str) -> frozenset[date]:
    out = set()
    for part in _list_cell(row.get(col, "")):
        if part.strip():
            try:
                out.add(parse_date(part))
            except ValueError as exc:
                raise rows.error(str(exc), lineno, col) from None
    return frozenset(out)


@dataclass
class _Shops:
    """The shops read so far: those planned this month and those suspended (closed ones are dropped)."""

    active: list[Retailer]
    suspended: list[Retailer]

    def ids(self) -> set[str]:
        return {r.id for r in (*self.active, *self.suspended)}

    def map(self, fn: Callable[[Retailer], Retailer]) -> _Shops:
        return _Shops([fn(r) for r in self.active], [fn(r) for r in self.suspended])

    def drop(self, ids: set[str]) -> _Shops:
        return _Shops([r for r in self.active if r.id not in ids], [r for r in self.suspended if r.id not in ids])


def _read_retailers(
    rows: Table, rules: Rules, classes: dict[str, ClassRule], crs: str, managers: list[Manager]
) -> tuple[_Shops, dict[str, int]]:
    manager_ids = {m.id for m in managers}
    names = [m.name for m in managers]
    by_name = {m.name: m.id for m in managers if names.count(m.name) == 1}
    shops = _Shops([], [])
    seen: dict[str, int] = {}
    for lineno, row in rows:
        with rows.each_row():
            rid = _unique_id(rows, row, lineno, seen)
            lat, lon = _position(rows, row, lineno, "lat", "lon")
            if lat == 0 and lon == 0:
                raise rows.error("0,0 is not a shop position (missing geocode?)", lineno, "lat")
            klass = rows.get(row, lineno, "class", str)
            if classes and klass not in classes:
                raise rows.error(
                    f"unknown class '{klass}' (scenario.toml defines {', '.join(sorted(classes))})", lineno, "class"
                )
            crule = classes.get(klass, ClassRule(klass))
            visits = (
                rows.get(row, lineno, "visits_per_month", _positive_int)
                if row.get("visits_per_month")
                else crule.visits_per_month or rules.min_visits_per_month
            )
            if visits < 1:
                raise rows.error("must be at least 1", lineno, "visits_per_month")
            service = (
                rows.get(row, lineno, "service_minutes", _service_minutes)
                if row.get("service_minutes")
                else crule.service_minutes or rules.service_minutes
            )
            pin = row.get("manager_id") or None
            if pin is not None and pin not in manager_ids:
                pin = by_name.get(pin)  # a shop list often names its manager rather than his id
                if pin is None:
                    raise rows.error(f"unknown manager '{row['manager_id']}' (neither an id nor a name in the staff list)",
                                     lineno, "manager_id")  # fmt: skip
            status = STATUSES.get(row.get("status", "").lower())
            if status is None:
                raise rows.error(f"'{row['status']}' is not a status (use active, suspended or closed)", lineno, "status")  # fmt: skip
            if status == "closed":
                continue
            closed: set[int] = set()
            for part in _list_cell(row.get("closed_weekdays", "")):
                if part.strip():
                    try:
                        closed.add(parse_weekday(part))
                    except ValueError as exc:
                        raise rows.error(str(exc), lineno, "closed_weekdays") from None
            try:
                (shops.active if status == "active" else shops.suspended).append(
                    Retailer(
                        id=rid,
                        name=row.get("name", "") or rid,
                        location=to_wgs84(LatLon(lat, lon), crs),
                        klass=klass,
                        visits_per_month=visits,
                        service_minutes=service,
                        address=row.get("address", ""),
                        phone=row.get("phone", ""),
                        manager_id=pin,
                        closed_weekdays=frozenset(closed),
                        route_id=row.get("route_id") or None,
                        office_id=row.get("office") or None,
                    )
                )
            except InputError as exc:
                raise rows.error(exc.detail, lineno, exc.field) from None
    return shops, seen


def read_plan(folder: str | Path, scenario: Scenario | None = None) -> Plan:
    """Read a plan folder back into a :class:`Plan`: visits, calls, the route book and its changes.

    With ``scenario``, every visit and call must be by one of its managers to one of its open
    shops (what drawing the plan needs; the checker instead reports strangers as violations).
    """
    from .write import restore

    folder = Path(folder)
    shops = {r.id for r in scenario.retailers} if scenario is not None else None
    staff = {m.id for m in scenario.managers} if scenario is not None else None

    def known(rows: Table, row: dict[str, str], lineno: int, field: str, ids: set[str] | None, what: str) -> str:
        value = restore(rows.get(row, lineno, field, str))
        if ids is not None and value not in ids:
            raise rows.error(
                f"{what} {_echo(value)} is not in the scenario: draw the plan with the scenario it was made from",
                lineno, field,
            )  # fmt: skip
        return value

    if not folder.is_dir():
        raise InputError("not a plan folder", file=str(folder))
    vrows = Table(
        folder / "visits.csv",
        "plan",
        ("manager_id", "date", "seq", "retailer_id", "arrival", "departure", "route_id"),
        ("makeup", "travel_km"),
        warn_unknown=False,  # a plan folder holds our own columns; the reader needs only these
    )
    visits = []
    for lineno, row in vrows:
        visits.append(
            Visit(
                manager_id=known(vrows, row, lineno, "manager_id", staff, "manager"),
                date=vrows.get(row, lineno, "date", parse_date),
                seq=vrows.get(row, lineno, "seq", _positive_int),
                retailer_id=known(vrows, row, lineno, "retailer_id", shops, "open shop"),
                arrival=vrows.get(row, lineno, "arrival", _visit_clock),
                departure=vrows.get(row, lineno, "departure", _visit_clock),
                route_id=restore(vrows.get(row, lineno, "route_id", str)),
                travel_km=vrows.get(row, lineno, "travel_km", float) if row.get("travel_km") else 0.0,
                makeup=row.get("makeup", "no") == "yes",
            )
        )
    crows = Table(
        folder / "calls.csv", "plan", ("manager_id", "date", "retailer_id", "route_id"), (), warn_unknown=False
    )
    calls = [
        Call(
            manager_id=known(crows, row, lineno, "manager_id", staff, "manager"),
            date=crows.get(row, lineno, "date", parse_date),
            retailer_id=known(crows, row, lineno, "retailer_id", shops, "open shop"),
            route_id=restore(crows.get(row, lineno, "route_id", str)),
        )
        for lineno, row in crows
    ]
    seconds, seed = 0.0, 0
    summary = folder / "summary.json"
    if summary.is_file():
        doc = _summary(summary)
        try:
            seconds = float(doc.get("kpis", {}).get("total", {}).get("solve_seconds", 0.0))
            seed = int(doc.get("seed", 0))
        except (AttributeError, TypeError, ValueError):
            raise InputError("not a summary this version wrote", file=str(summary)) from None
    routes = _read_routes(folder / "routes.csv") if (folder / "routes.csv").exists() else _routes_from_visits(visits)
    changes = _read_changes(folder / "changes.csv") if (folder / "changes.csv").exists() else ()
    return Plan(
        scenario_name=str(folder), visits=tuple(visits), calls=tuple(calls), routes=routes, solve_seconds=seconds,
        seed=seed, changes=changes,
    )  # fmt: skip


def _summary(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InputError("not a summary this version wrote", file=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError("not a summary this version wrote", file=str(path))
    return doc


def _slot_of_label(label: str) -> int:
    """A sortable slot number from a ``W2-Tue`` label (the calendar's own numbering needs its workdays)."""
    week, _, day = label.partition("-")
    return (int(week[1:]) - 1) * 7 + parse_weekday(day)


def _label(text: str) -> str:
    week, _, day = text.partition("-")
    if len(week) < 2 or week[0] != "W" or not week[1:].isdigit() or not day:
        raise ValueError(f"'{text}' is not a cycle slot like W1-Mon")
    parse_weekday(day)
    return text


def _read_routes(path: Path) -> tuple[Route, ...]:
    """The route book (``routes.csv``): one row per stop, in each route's order."""
    from .write import restore

    rows = Table(
        path, "plan", ("route_id", "manager_id", "slot", "seq", "retailer_id", "status"), (), warn_unknown=False
    )
    stops: dict[str, list[tuple[int, str, bool]]] = {}
    head: dict[str, tuple[str, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for lineno, row in rows:
        rid = restore(rows.get(row, lineno, "route_id", str))
        manager = restore(rows.get(row, lineno, "manager_id", str))
        label = rows.get(row, lineno, "slot", _label)
        if rid != f"{manager}-{label}":
            raise rows.error(f"route {rid} is not named after its manager and slot ({manager}-{label})", lineno, "route_id")  # fmt: skip
        if head.setdefault(rid, (manager, label)) != (manager, label):
            raise rows.error(f"route {rid} has another manager or slot on an earlier row", lineno, "slot")  # fmt: skip
        shop = restore(rows.get(row, lineno, "retailer_id", str))
        if (rid, shop) in seen:
            raise rows.error(f"shop {shop} stands twice on route {rid} (first on row {seen[(rid, shop)]})", lineno, "retailer_id")  # fmt: skip
        seen[(rid, shop)] = lineno
        status = rows.get(row, lineno, "status", str)
        if status not in ("active", "suspended"):
            raise rows.error(f"'{status}' is not active or suspended", lineno, "status")
        stops.setdefault(rid, []).append((rows.get(row, lineno, "seq", _positive_int), shop, status == "active"))
    out = []
    for rid, entries in stops.items():
        entries.sort()
        manager, label = head[rid]
        order = tuple(shop for _, shop, _ in entries)
        active = tuple(shop for _, shop, on in entries if on)
        out.append(Route(rid, manager, _slot_of_label(label), label, active, order if order != active else ()))
    return tuple(sorted(out, key=lambda r: (r.manager_id, r.slot)))


def _routes_from_visits(visits: list[Visit]) -> tuple[Route, ...]:
    """Plans written before the route book: each route is its fullest regular run."""
    runs: dict[str, dict[date, list[Visit]]] = {}
    for v in visits:
        if not v.makeup:
            runs.setdefault(v.route_id, {}).setdefault(v.date, []).append(v)
    out = []
    for rid, by_day in runs.items():
        fullest = max(sorted(by_day), key=lambda d: len(by_day[d]))
        seq = sorted(by_day[fullest], key=lambda v: v.seq)
        parts = rid.rsplit("-", 2)
        label = f"{parts[1]}-{parts[2]}" if len(parts) == 3 else "W1-" + fullest.strftime("%a")
        try:
            slot = _slot_of_label(_label(label))
        except ValueError:
            label, slot = "W1-" + fullest.strftime("%a"), fullest.weekday()
        out.append(Route(rid, seq[0].manager_id, slot, label, tuple(v.retailer_id for v in seq)))
    return tuple(sorted(out, key=lambda r: (r.manager_id, r.slot)))


def _read_changes(path: Path) -> tuple[Change, ...]:
    from .write import restore

    rows = Table(path, "plan", ("retailer_id", "change", "from", "to", "why"), (), warn_unknown=False)
    return tuple(
        Change(restore(row["retailer_id"]), row["change"], restore(row["from"]), restore(row["to"]),
               restore(row["why"]))
        for _, row in rows
    )  # fmt: skip


def with_plan_cycle(scenario: Scenario, folder: str | Path) -> Scenario:
    """The scenario with the cycle anchor the plan in ``folder`` ran on (a continued plan's runs on
    from the month before, whatever the scenario's default)."""
    path = Path(folder) / "summary.json"
    if not path.is_file():
        return scenario
    cycle = _summary(path).get("cycle")
    if not isinstance(cycle, dict) or "start" not in cycle:
        return scenario
    try:
        start = parse_date(str(cycle["start"]))
    except ValueError:
        raise InputError("not a date", file=str(path), field="cycle.start") from None
    return dataclasses.replace(scenario, calendar=dataclasses.replace(scenario.calendar, cycle_start=start))


def read_route_book(folder: str | Path) -> RouteBook:
    """The route book of a plan folder, with the calendar anchor and frequencies of its scenario copy."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a plan folder (expected the output folder of 'routeplan plan')", file=str(folder))
    for need in ("visits.csv", "summary.json", "scenario/scenario.toml"):
        if not (folder / need).is_file():
            raise InputError(f"not a plan folder: it has no {need}", file=str(folder))
    plan = read_plan(folder)
    scenario = read_scenario(folder / "scenario")
    doc = _summary(folder / "summary.json")
    try:
        km = float(doc["kpis"]["total"]["km"])
    except (KeyError, TypeError, ValueError):
        km = None
    cal = scenario.calendar
    # slots numbered as the scenario's calendar numbers them
    routes = tuple(
        dataclasses.replace(r, slot=slot) for r in plan.routes if (slot := cal.slot_from_label(r.label)) is not None
    )
    return RouteBook.of(scenario, dataclasses.replace(plan, routes=routes), km)


def _apply_edits(
    folder: Path,
    edit: dict[str, Any],
    managers: list[Manager],
    shops: _Shops,
    rules: Rules,
    classes: dict[str, ClassRule],
    crs: str,
    columns: dict[str, str],
) -> tuple[list[Manager], _Shops]:
    """One variant level's edits, in a fixed order: managers, new shops, closed shops, areas."""
    tname = str(folder / "scenario.toml")
    if "remove_managers" in edit:
        managers, shops = _remove_managers(_toml_list(edit["remove_managers"], tname, "remove_managers"), managers,
                                           shops, tname)  # fmt: skip
    for i, table in enumerate(edit.get("add_managers", [])):
        managers = [*managers, _manager_from_table(table, rules, crs, tname, f"add_managers[{i}]")]
        if len({m.id for m in managers}) != len(managers):
            raise InputError(f"manager '{managers[-1].id}' already exists", file=tname, field=f"add_managers[{i}].id")
    if "add_retailers" in edit:
        path = _inside(folder, edit["add_retailers"], "add_retailers")
        table = Table(path, "retailers", RETAILER_REQUIRED, RETAILER_OPTIONAL, columns=columns)
        shops = _add_retailers(table, shops, rules, classes, crs, managers)
    if "close_retailers" in edit:
        shops = _close_retailers(folder, edit["close_retailers"], shops, tname)
    for i, table in enumerate(edit.get("reassign", [])):
        shops = _reassign(folder, table, f"reassign[{i}]", managers, shops, crs, tname)
    return managers, shops


def _remove_managers(
    gone: list[str], managers: list[Manager], shops: _Shops, tname: str
) -> tuple[list[Manager], _Shops]:
    """The team without ``gone``; their shops (pins and locks) are released to the others."""
    known = {m.id for m in managers}
    for mid in gone:
        if mid not in known:
            raise InputError(f"no manager '{mid}' to remove", file=tname, field="remove_managers")

    def release(r: Retailer) -> Retailer:
        locked_to_gone = r.route_id is not None and r.route_id.rsplit("-", 2)[0] in gone
        if r.manager_id in gone or locked_to_gone:
            return dataclasses.replace(r, manager_id=None, route_id=None)
        return r

    return [m for m in managers if m.id not in gone], shops.map(release)


def _add_retailers(
    table: Table, shops: _Shops, rules: Rules, classes: dict[str, ClassRule], crs: str, managers: list[Manager]
) -> _Shops:
    added, added_rows = _read_retailers(table, rules, classes, crs, managers)
    have = shops.ids()
    for r in (*added.active, *added.suspended):
        if r.id in have:
            raise table.error(f"shop '{r.id}' already exists", added_rows[r.id], "id")
    return _Shops([*shops.active, *added.active], [*shops.suspended, *added.suspended])


def _close_retailers(folder: Path, value: Any, shops: _Shops, tname: str) -> _Shops:
    """Shops closed by a list of ids in scenario.toml or by a CSV file of ids."""
    if isinstance(value, str):
        rows = Table(_inside(folder, value, "close_retailers"), "retailers", ("id",), ())
        closing = [rows.get(row, lineno, "id", str) for lineno, row in rows]
    else:
        closing = _toml_list(value, tname, "close_retailers")
    have = shops.ids()
    for rid in closing:
        if rid not in have:
            raise InputError(f"no shop '{rid}' to close", file=tname, field="close_retailers")
    return shops.drop(set(closing))


def _reassign(
    folder: Path, table: Any, where: str, managers: list[Manager], shops: _Shops, crs: str, tname: str
) -> _Shops:
    """Every shop inside the table's polygon goes to its manager (pins and locks replaced)."""
    if not isinstance(table, dict) or "polygon" not in table or "manager" not in table:
        raise InputError("needs polygon = FILE.geojson and manager = ID", file=tname, field=where)
    manager = str(table["manager"])
    if manager not in {m.id for m in managers}:
        raise InputError(f"unknown manager '{manager}'", file=tname, field=f"{where}.manager")
    rings = read_polygon(_inside(folder, table["polygon"], f"{where}.polygon"), crs)
    every = [*shops.active, *shops.suspended]
    lats = np.array([r.location.lat for r in every])
    lons = np.array([r.location.lon for r in every])
    inside = np.zeros(len(every), dtype=bool)
    for ring in rings:
        inside ^= points_in_ring(lats, lons, ring)
    moved = {r.id for r, hit in zip(every, inside, strict=True) if hit}

    def reassign(r: Retailer) -> Retailer:
        return dataclasses.replace(r, manager_id=manager, route_id=None) if r.id in moved else r

    return shops.map(reassign)


def _toml_list(value: Any, file: str, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("must be a list of ids", file=file, field=field)
    return list(value)


def _manager_from_table(table: Any, rules: Rules, crs: str, file: str, where: str) -> Manager:
    """A ``[[add_managers]]`` table: staff.csv's columns as keys, each of its TOML type."""
    if not isinstance(table, dict):
        raise InputError("must be a table", file=file, field=where)
    known = (*STAFF_REQUIRED, *STAFF_OPTIONAL)
    for key in table:
        if key not in known:
            raise InputError(f"unknown key (known: {', '.join(known)})", file=file, field=f"{where}.{key}")
    for key in STAFF_REQUIRED:
        if key not in table:
            raise InputError("missing", file=file, field=f"{where}.{key}")

    def typed(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        return _toml_value(table, key, kind, file, f"{where}.") if key in table else default

    def checked(key: str, parse: Callable[[Any], Any], value: Any) -> Any:
        try:
            return parse(value)
        except (ValueError, InputError) as exc:
            raise InputError(getattr(exc, "detail", str(exc)), file=file, field=f"{where}.{key}") from None

    ident = typed("id", str, "").strip()
    if not ident:
        raise InputError("empty id", file=file, field=f"{where}.id")
    lat = checked("start_lat", lambda v: _coordinate(str(v), -90, 90), typed("start_lat", (int, float), 0.0))
    lon = checked("start_lon", lambda v: _coordinate(str(v), -180, 180), typed("start_lon", (int, float), 0.0))
    min_stops = checked(
        "min_stops_per_day", lambda v: _positive_int(str(v)), typed("min_stops_per_day", int, rules.min_stops_per_day)
    )
    days_off = frozenset(checked("days_off", lambda v: parse_date(str(v)), d) for d in typed("days_off", list, []))
    name, back, office = typed("name", str, ""), typed("return_to_office", bool, False), typed("office", str, "")
    try:
        return Manager(
            id=ident,
            name=name,
            office=to_wgs84(LatLon(lat, lon), crs),
            min_stops_per_day=min_stops,
            days_off=days_off,
            return_to_office=back,
            office_id=office.strip(),
        )
    except InputError as exc:
        raise InputError(exc.detail, file=file, field=f"{where}.{exc.field or 'id'}") from None


def read_polygon(path: Path, crs: str = "wgs84") -> list[list[LatLon]]:
    """The outer and inner rings of a GeoJSON Polygon or MultiPolygon (bare, Feature or collection)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not GeoJSON: {exc}", file=str(path)) from None
    except RecursionError:
        raise InputError("not GeoJSON: nested too deeply", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("a folder where a GeoJSON file belongs", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=str(path)) from None
    geometries = _polygons(doc)
    if not geometries:
        raise InputError("no Polygon or MultiPolygon in it", file=str(path), field="type")
    rings: list[list[LatLon]] = []
    try:
        for geom in geometries:
            polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
            for polygon in polygons:
                for ring in polygon:
                    rings.append([to_wgs84(LatLon(float(pt[1]), float(pt[0])), crs) for pt in ring])
    except (KeyError, TypeError, ValueError, IndexError):
        raise InputError("coordinates are not [lon, lat] rings", file=str(path), field="coordinates") from None
    return rings


def _polygons(node: Any) -> list[dict[str, Any]]:
    """The Polygon and MultiPolygon geometries in a GeoJSON document, features and collections opened."""
    if not isinstance(node, dict):
        return []
    kind = node.get("type")
    if kind == "FeatureCollection":
        features = node.get("features", [])
        return [g for f in (features if isinstance(features, list) else []) for g in _polygons(f)]
    if kind == "Feature":
        return _polygons(node.get("geometry"))
    return [node] if kind in ("Polygon", "MultiPolygon") else []


def points_in_ring(lats: np.ndarray, lons: np.ndarray, ring: list[LatLon]) -> np.ndarray:
    """Even-odd test of each point against a closed ring (vectorised over the points)."""
    inside = np.zeros(len(lats), dtype=bool)
    n = len(ring)
    for i in range(n):
        a, b = ring[i], ring[(i + 1) % n]
        crosses = (a.lat > lats) != (b.lat > lats)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = a.lon + (lats - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)
        inside ^= crosses & (lons < x)
    return inside
