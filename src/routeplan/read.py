"""Reading a scenario folder: ``scenario.toml``, ``retailers.csv``, ``staff.csv``.

The only module that parses scenario files. Every problem becomes an
:class:`~routeplan.errors.InputError` naming the file, the row (line number as an
editor shows it, header = 1) and the field.
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from .calendar import Calendar, parse_weekday
from .coords import DATUMS, to_wgs84
from .errors import InputError
from .geo import LatLon
from .model import ClassRule, Manager, Retailer, Rules, Scenario
from .plan import Call, Plan, Visit

T = TypeVar("T")

RETAILER_REQUIRED = ("id", "name", "lat", "lon", "class")
RETAILER_OPTIONAL = (
    "address",
    "phone",
    "visits_per_month",
    "service_minutes",
    "manager_id",
    "closed_weekdays",
)
STAFF_REQUIRED = ("id", "name", "start_lat", "start_lon")
STAFF_OPTIONAL = ("min_stops_per_day", "days_off", "return_to_office")
SCENARIO_KEYS = {
    "name",
    "month",
    "retailers",
    "staff",
    "workdays",
    "holidays",
    "rules",
    "classes",
    "crs",
    "cycle_start",
}
RULE_KEYS = {f.name for f in fields(Rules)} - {"day_start_minutes"} | {"day_start"}
CLASS_KEYS = {"visits_per_month", "service_minutes"}


def parse_clock(text: str) -> int:
    """``"07:30"`` -> 450 minutes after midnight."""
    hh, sep, mm = str(text).partition(":")
    if not sep or not hh.strip().isdigit() or not mm.strip().isdigit():
        raise ValueError(f"'{text}' is not a time HH:MM")
    h, m = int(hh), int(mm)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"'{text}' is not a time HH:MM")
    return h * 60 + m


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date YYYY-MM-DD") from None


def parse_bool(text: str) -> bool:
    key = text.strip().lower()
    if key in ("true", "yes", "1", "y"):
        return True
    if key in ("false", "no", "0", "n", ""):
        return False
    raise ValueError(f"'{text}' is not true or false")


def _number(text: str, kind: type[int] | type[float] = float) -> float:
    """Parse a finite number, saying in words what was wrong."""
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a {'whole number' if kind is int else 'number'}") from None
    if not math.isfinite(value):
        raise ValueError(f"'{text}' is not a number")
    return value


def _coordinate(text: str, low: float, high: float) -> float:
    value = _number(text)
    if not low <= value <= high:
        raise ValueError(f"{text} is outside {low:g}..{high:g}")
    return value


def _positive_int(text: str) -> int:
    value = int(_number(text, int))
    if value < 0:
        raise ValueError(f"{value} is negative")
    return value


def _positive_float(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise ValueError(f"{text} is not a positive number")
    return value


class _Rows:
    """A CSV file's rows as dicts, with the line number for error messages."""

    def __init__(self, path: Path, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
        self.path = path
        self.name = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError("file not found", file=self.name) from None
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8", file=self.name) from None
        self.reader = csv.reader(text.splitlines())
        header = next(self.reader, None)
        if header is None:
            raise InputError("file is empty", file=self.name, row=1)
        self.header = [h.strip() for h in header]
        for col in required:
            if col not in self.header:
                raise InputError(f"missing column (needs {', '.join(required)})", file=self.name, row=1, field=col)
        seen: set[str] = set()
        for col in self.header:
            if col in seen:
                raise InputError("column appears twice", file=self.name, row=1, field=col)
            seen.add(col)
        self.known = set(required) | set(optional)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        for lineno, cells in enumerate(self.reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(self.header):
                raise InputError(
                    f"{len(cells)} cells but the header has {len(self.header)}", file=self.name, row=lineno
                )
            cells = cells + [""] * (len(self.header) - len(cells))
            yield lineno, {h: c.strip() for h, c in zip(self.header, cells, strict=True)}

    def get(self, row: dict[str, str], lineno: int, col: str, parse: Callable[[str], T], *, required: bool = True) -> T:
        text = row.get(col, "")
        if required and text == "":
            raise InputError("empty value", file=self.name, row=lineno, field=col)
        try:
            return parse(text)
        except ValueError as exc:
            raise InputError(str(exc), file=self.name, row=lineno, field=col) from None


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
        if service is not None and (isinstance(service, bool) or not isinstance(service, (int, float)) or service <= 0):
            raise InputError("must be a positive number", file=file, field=f"classes.{name}.service_minutes")
        classes[str(name)] = ClassRule(str(name), visits, float(service) if service is not None else None)
    return classes


def read_scenario(folder: str | Path) -> Scenario:
    """Load and validate a scenario folder (see the README for the contract)."""
    folder = Path(folder)
    toml_path = folder / "scenario.toml"
    tname = str(toml_path)
    if not folder.is_dir():
        raise InputError("not a scenario folder", file=str(folder))
    try:
        with toml_path.open("rb") as fh:
            spec = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError("file not found", file=tname) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=tname) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=tname) from None
    unknown = set(spec) - SCENARIO_KEYS
    if unknown:
        raise InputError(
            f"unknown key (known: {', '.join(sorted(SCENARIO_KEYS))})", file=tname, field=sorted(unknown)[0]
        )
    for key in ("month",):
        if key not in spec:
            raise InputError("missing", file=tname, field=key)

    month_text = str(spec["month"])
    try:
        year, month = (int(p) for p in month_text.split("-"))
        if not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise InputError(f"'{month_text}' is not a month YYYY-MM", file=tname, field="month") from None

    rules = _read_rules(spec.get("rules", {}), tname)
    classes = _read_classes(spec.get("classes", {}), tname)

    try:
        workdays = tuple(parse_weekday(str(d)) for d in spec.get("workdays", ["Mon", "Tue", "Wed", "Thu", "Fri"]))
    except ValueError as exc:
        raise InputError(str(exc), file=tname, field="workdays") from None
    try:
        holidays = frozenset(parse_date(str(d)) for d in spec.get("holidays", []))
    except ValueError as exc:
        raise InputError(str(exc), file=tname, field="holidays") from None
    cycle_start = None
    if "cycle_start" in spec:
        try:
            cycle_start = parse_date(str(spec["cycle_start"]))
        except ValueError as exc:
            raise InputError(str(exc), file=tname, field="cycle_start") from None
    try:
        cal = Calendar(year, month, workdays, holidays, rules.cycle_weeks, cycle_start)
    except ValueError as exc:
        raise InputError(str(exc), file=tname, field="workdays") from None
    crs = str(spec.get("crs", "wgs84")).lower()
    if crs not in DATUMS:
        raise InputError(f"'{crs}' is not one of {', '.join(DATUMS)}", file=tname, field="crs")

    staff_path = folder / str(spec.get("staff", "staff.csv"))
    retailer_path = folder / str(spec.get("retailers", "retailers.csv"))
    managers = _read_staff(staff_path, rules, crs)
    retailers, rows_of = _read_retailers(retailer_path, rules, classes, crs, managers)
    try:
        return Scenario(
            name=str(spec.get("name", folder.name)),
            calendar=cal,
            rules=rules,
            retailers=tuple(retailers),
            managers=tuple(managers),
            classes=classes,
            crs=crs,
        )
    except InputError as exc:
        if exc.key is not None and exc.key in rows_of:
            raise InputError(exc.detail, file=str(retailer_path), row=rows_of[exc.key], field=exc.field) from None
        raise InputError(exc.detail, file=tname, field=exc.field) from None


def _read_staff(path: Path, rules: Rules, crs: str) -> list[Manager]:
    rows = _Rows(path, STAFF_REQUIRED, STAFF_OPTIONAL)
    managers: list[Manager] = []
    seen: dict[str, int] = {}
    for lineno, row in rows:
        mid = rows.get(row, lineno, "id", str)
        if mid in seen:
            raise InputError(f"duplicate id '{mid}' (first on row {seen[mid]})", file=rows.name, row=lineno, field="id")
        seen[mid] = lineno
        lat = rows.get(row, lineno, "start_lat", lambda t: _coordinate(t, -90, 90))
        lon = rows.get(row, lineno, "start_lon", lambda t: _coordinate(t, -180, 180))
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
            )
        )
    return managers


def _date_list(rows: _Rows, row: dict[str, str], lineno: int, col: str) -> frozenset[date]:
    out = set()
    for part in row.get(col, "").split(";"):
        if part.strip():
            try:
                out.add(parse_date(part))
            except ValueError as exc:
                raise InputError(str(exc), file=rows.name, row=lineno, field=col) from None
    return frozenset(out)


def _read_retailers(
    path: Path, rules: Rules, classes: dict[str, ClassRule], crs: str, managers: list[Manager]
) -> tuple[list[Retailer], dict[str, int]]:
    rows = _Rows(path, RETAILER_REQUIRED, RETAILER_OPTIONAL)
    manager_ids = {m.id for m in managers}
    retailers: list[Retailer] = []
    seen: dict[str, int] = {}
    for lineno, row in rows:
        rid = rows.get(row, lineno, "id", str)
        if rid in seen:
            raise InputError(f"duplicate id '{rid}' (first on row {seen[rid]})", file=rows.name, row=lineno, field="id")
        seen[rid] = lineno
        lat = rows.get(row, lineno, "lat", lambda t: _coordinate(t, -90, 90))
        lon = rows.get(row, lineno, "lon", lambda t: _coordinate(t, -180, 180))
        if lat == 0 and lon == 0:
            raise InputError("0,0 is not a shop position (missing geocode?)", file=rows.name, row=lineno, field="lat")
        klass = rows.get(row, lineno, "class", str)
        if classes and klass not in classes:
            raise InputError(
                f"unknown class '{klass}' (scenario.toml defines {', '.join(sorted(classes))})",
                file=rows.name,
                row=lineno,
                field="class",
            )
        crule = classes.get(klass, ClassRule(klass))
        visits = (
            rows.get(row, lineno, "visits_per_month", _positive_int)
            if row.get("visits_per_month")
            else crule.visits_per_month or rules.min_visits_per_month
        )
        if visits < 1:
            raise InputError("must be at least 1", file=rows.name, row=lineno, field="visits_per_month")
        service = (
            rows.get(row, lineno, "service_minutes", _positive_float)
            if row.get("service_minutes")
            else crule.service_minutes or rules.service_minutes
        )
        pin = row.get("manager_id") or None
        if pin is not None and pin not in manager_ids:
            raise InputError(
                f"unknown manager '{pin}' (not in staff.csv)", file=rows.name, row=lineno, field="manager_id"
            )
        closed: set[int] = set()
        for part in row.get("closed_weekdays", "").replace(",", ";").split(";"):
            if part.strip():
                try:
                    closed.add(parse_weekday(part))
                except ValueError as exc:
                    raise InputError(str(exc), file=rows.name, row=lineno, field="closed_weekdays") from None
        try:
            retailers.append(
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
                )
            )
        except InputError as exc:
            raise InputError(exc.detail, file=rows.name, row=lineno, field=exc.field) from None
    return retailers, seen


def read_plan(folder: str | Path) -> Plan:
    """Read ``visits.csv`` and ``calls.csv`` of an output folder back into a :class:`Plan`."""
    from .write import restore

    folder = Path(folder)
    vrows = _Rows(
        folder / "visits.csv", ("manager_id", "date", "seq", "retailer_id", "arrival", "departure", "route_id"), ()
    )
    visits = []
    for lineno, row in vrows:
        visits.append(
            Visit(
                manager_id=restore(vrows.get(row, lineno, "manager_id", str)),
                date=vrows.get(row, lineno, "date", parse_date),
                seq=vrows.get(row, lineno, "seq", _positive_int),
                retailer_id=restore(vrows.get(row, lineno, "retailer_id", str)),
                arrival=vrows.get(row, lineno, "arrival", parse_clock),
                departure=vrows.get(row, lineno, "departure", parse_clock),
                route_id=restore(vrows.get(row, lineno, "route_id", str)),
                travel_km=vrows.get(row, lineno, "travel_km", float) if row.get("travel_km") else 0.0,
                makeup=row.get("makeup", "no") == "yes",
            )
        )
    crows = _Rows(folder / "calls.csv", ("manager_id", "date", "retailer_id", "route_id"), ())
    calls = [
        Call(
            manager_id=restore(crows.get(row, lineno, "manager_id", str)),
            date=crows.get(row, lineno, "date", parse_date),
            retailer_id=restore(crows.get(row, lineno, "retailer_id", str)),
            route_id=restore(crows.get(row, lineno, "route_id", str)),
        )
        for lineno, row in crows
    ]
    return Plan(scenario_name=str(folder), visits=tuple(visits), calls=tuple(calls))
