"""The domain model: retailers, managers, rules and the scenario that holds them.

Every type is frozen. A what-if variant is a copy made with
:func:`dataclasses.replace`, never an edit in place. Values are checked when the
object is built, so the solver can trust a :class:`Scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from .calendar import Calendar, required_gap_days
from .errors import InputError
from .geo import LatLon

#: The travel models a scenario may name (``routeplan.travel`` builds them).
TRAVEL_MODELS = ("great-circle", "road")
ROAD_ENGINES = ("auto", "osrm", "graph")


@dataclass(frozen=True)
class ClassRule:
    """Defaults for one retailer class (``A``, ``B``, ...); ``None`` means the scenario default."""

    name: str
    visits_per_month: int | None = None
    service_minutes: float | None = None


@dataclass(frozen=True)
class Rules:
    """The service standard: what every plan must keep."""

    min_stops_per_day: int = 30
    min_visits_per_month: int = 2
    day_start_minutes: int = 7 * 60 + 30
    meeting_minutes: int = 30
    min_field_minutes: int = 360
    max_day_minutes: int = 600
    service_minutes: float = 10.0
    speed_kmh: float = 25.0
    detour_factor: float = 1.3
    min_gap_days: int | None = None
    cycle_weeks: int = 2

    def __post_init__(self) -> None:
        checks = [
            (self.min_stops_per_day >= 0, "min_stops_per_day", "must be 0 or more"),
            (self.min_visits_per_month >= 1, "min_visits_per_month", "must be at least 1"),
            (0 <= self.day_start_minutes < 24 * 60, "day_start", "must be a time of day"),
            (self.meeting_minutes >= 0, "meeting_minutes", "must be 0 or more"),
            (self.max_day_minutes > self.meeting_minutes, "max_day_minutes", "must exceed meeting_minutes"),
            (self.max_day_minutes <= 24 * 60, "max_day_minutes", "must be at most a day (1440)"),
            (0 < self.service_minutes <= 24 * 60, "service_minutes", "must be positive and at most a day (1440)"),
            (0 < self.speed_kmh <= 200, "speed_kmh", "must be positive and at most 200"),
            (1 <= self.detour_factor <= 10, "detour_factor", "must be 1 to 10"),
            (self.min_gap_days is None or self.min_gap_days >= 0, "min_gap_days", "must be 0 or more"),
            (1 <= self.cycle_weeks <= 4, "cycle_weeks", "must be 1 to 4"),
        ]
        for ok, name, why in checks:
            if not ok:
                raise InputError(why, field=name)
        if self.min_field_minutes > self.field_window_minutes:
            raise InputError(
                f"{self.min_field_minutes} field minutes cannot fit in a day of "
                f"{self.max_day_minutes} minutes after a {self.meeting_minutes}-minute meeting",
                field="min_field_minutes",
            )

    @property
    def field_window_minutes(self) -> int:
        """Longest possible field time: the day less the morning meeting."""
        return self.max_day_minutes - self.meeting_minutes

    @property
    def leave_minutes(self) -> int:
        """Clock time (minutes after midnight) at which staff leave the office."""
        return self.day_start_minutes + self.meeting_minutes


@dataclass(frozen=True)
class Retailer:
    """A shop to be visited. ``visits_per_month`` and ``service_minutes`` are resolved values."""

    id: str
    name: str
    location: LatLon
    klass: str
    visits_per_month: int
    service_minutes: float
    address: str = ""
    phone: str = ""
    manager_id: str | None = None
    closed_weekdays: frozenset[int] = frozenset()
    #: a lock: the shop rides this standing route (``M01-W1-Tue``) whatever the search finds
    route_id: str | None = None
    #: a pin to a market office (``office`` in retailers.csv): the company-level split keeps it there
    office_id: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise InputError("empty id", field="id")
        if not (-90 <= self.location.lat <= 90 and -180 <= self.location.lon <= 180):
            raise InputError(f"{self.location} is not a position on earth", field="lat")
        if self.visits_per_month < 1:
            raise InputError("must be at least 1", field="visits_per_month")
        if self.service_minutes <= 0:
            raise InputError("must be positive", field="service_minutes")


@dataclass(frozen=True)
class Manager:
    """A customer manager: starts each day at an office."""

    id: str
    name: str
    office: LatLon
    min_stops_per_day: int
    days_off: frozenset[date] = frozenset()
    return_to_office: bool = False
    #: the market office the manager belongs to (``office`` in staff.csv); empty: the office is
    #: the manager's start position (one office per distinct start)
    office_id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise InputError("empty id", field="id")
        if not (-90 <= self.office.lat <= 90 and -180 <= self.office.lon <= 180):
            raise InputError(f"{self.office} is not a position on earth", field="start_lat")
        if self.min_stops_per_day < 0:
            raise InputError("must be 0 or more", field="min_stops_per_day")


@dataclass(frozen=True)
class Scenario:
    """Everything a monthly plan depends on, checked for consistency when built."""

    name: str
    calendar: Calendar
    rules: Rules
    retailers: tuple[Retailer, ...]
    managers: tuple[Manager, ...]
    classes: Mapping[str, ClassRule] = field(default_factory=lambda: MappingProxyType({}))
    crs: str = "wgs84"
    #: shops with ``status = suspended``: neither visited nor called this month, but they keep
    #: their place in the route book and come back there when they reopen
    suspended: tuple[Retailer, ...] = ()
    #: how travel km and minutes are computed (``[travel] model``); see ``routeplan.travel``
    travel_model: str = "great-circle"
    #: the OpenStreetMap extract of the road model (``[travel] osm``), an absolute path
    osm: str | None = None
    #: the road model's engine: ``auto`` (OSRM where its programs are found, else ``graph``),
    #: ``osrm`` or ``graph`` (in-process); ``osrm_url``: an OSRM server the office already runs
    engine: str = "auto"
    osrm_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", MappingProxyType(dict(self.classes)))
        if self.travel_model not in TRAVEL_MODELS:
            raise InputError(
                f"'{self.travel_model}' is not a travel model (one of {', '.join(TRAVEL_MODELS)})", field="travel.model"
            )
        if self.travel_model == "road" and not (self.osm or self.osrm_url):
            raise InputError('the road model needs an extract: osm = "city.osm.pbf"', field="travel.osm")
        if self.engine not in ROAD_ENGINES:
            raise InputError(f"'{self.engine}' is not one of {', '.join(ROAD_ENGINES)}", field="travel.engine")
        if not self.managers:
            raise InputError("no managers: staff.csv has no rows", field="staff")
        if not self.retailers:
            raise InputError("no retailers: retailers.csv has no rows", field="retailers")
        if self.crs not in ("wgs84", "gcj02", "bd09"):
            raise InputError(f"'{self.crs}' is not one of wgs84, gcj02, bd09", field="crs")
        manager_ids = {m.id for m in self.managers}
        if len(manager_ids) != len(self.managers):
            raise InputError("duplicate manager id", field="id")
        if len({r.id for r in (*self.retailers, *self.suspended)}) != len(self.retailers) + len(self.suspended):
            raise InputError("duplicate retailer id", field="id")
        n_working = len(self.calendar.working_days())
        if not n_working:
            raise InputError(
                f"no working day is left in {self.calendar.year}-{self.calendar.month:02d}: every workday is a holiday",
                field="holidays",
            )
        if not any(self.working_days(m) for m in self.managers):
            raise InputError(
                f"every manager has every working day of {self.calendar.year}-{self.calendar.month:02d} off: "
                "no one can visit a shop (check days_off)",
                field="days_off", key=self.managers[0].id,
            )  # fmt: skip
        for r in self.retailers:
            self._check_retailer(r, manager_ids, n_working)

    def _check_retailer(self, r: Retailer, manager_ids: set[str], n_working: int) -> None:
        if r.manager_id is not None and r.manager_id not in manager_ids:
            raise InputError(f"shop {r.id} is pinned to unknown manager '{r.manager_id}'", field="manager_id", key=r.id)
        open_days = set(self.calendar.workdays) - r.closed_weekdays
        if not open_days:
            raise InputError(f"shop {r.id} is closed on every workday", field="closed_weekdays", key=r.id)
        if r.route_id is not None:
            self._check_lock(r)
        if r.office_id is not None:
            self._check_office(r)
        if r.visits_per_month > n_working:
            raise InputError(
                f"shop {r.id} needs {r.visits_per_month} visits but the month has {n_working} working days",
                field="visits_per_month",
                key=r.id,
            )

    def _check_lock(self, r: Retailer) -> None:
        assert r.route_id is not None
        found = self.route_slot(r.route_id)
        if found is None:
            raise InputError(
                f"shop {r.id} is locked to '{r.route_id}', not a route of this scenario "
                f"(routes are MANAGER-W<week>-<day>, e.g. {self.managers[0].id}-{self.calendar.slot_label(0)})",
                field="route_id",
                key=r.id,
            )
        if r.manager_id is not None and found[0] != r.manager_id:
            raise InputError(
                f"shop {r.id} is locked to route {r.route_id} of {found[0]} but pinned to {r.manager_id}",
                field="route_id",
                key=r.id,
            )
        if self.calendar.slot_weekday(found[1]) in r.closed_weekdays:
            raise InputError(
                f"shop {r.id} is locked to route {r.route_id} on a day it is closed", field="route_id", key=r.id
            )

    def _check_office(self, r: Retailer) -> None:
        offices = self.office_of_manager()
        if r.office_id not in set(offices.values()):
            raise InputError(
                f"shop {r.id} is pinned to office '{r.office_id}', not an office of the staff list "
                f"({', '.join(sorted(set(offices.values())))})",
                field="office", key=r.id,
            )  # fmt: skip
        owner = self.owner(r)
        if owner is not None and offices[owner] != r.office_id:
            raise InputError(
                f"shop {r.id} is pinned to office '{r.office_id}' but its manager {owner} works from '{offices[owner]}'",
                field="office", key=r.id,
            )  # fmt: skip

    def office_of_manager(self) -> dict[str, str]:
        """Each manager's market office (see :func:`offices_of`)."""
        return offices_of(self.managers)

    def offices(self) -> dict[str, tuple[Manager, ...]]:
        """The market offices and their teams, in staff-list order."""
        of = self.office_of_manager()
        out: dict[str, list[Manager]] = {}
        for m in self.managers:
            out.setdefault(of[m.id], []).append(m)
        return {k: tuple(v) for k, v in out.items()}

    def owner(self, r: Retailer) -> str | None:
        """The manager a shop must have: its pin, or the manager of the route it is locked to."""
        if r.manager_id is not None:
            return r.manager_id
        lock = self.route_slot(r.route_id) if r.route_id else None
        return lock[0] if lock else None

    def route_slot(self, route_id: str) -> tuple[str, int] | None:
        """``"M01-W2-Tue"`` -> (``"M01"``, its slot), ``None`` if no manager or slot has that name."""
        parts = route_id.rsplit("-", 2)
        if len(parts) != 3:
            return None
        slot = self.calendar.slot_from_label(f"{parts[1]}-{parts[2]}")
        if slot is None or parts[0] not in {m.id for m in self.managers}:
            return None
        return parts[0], slot

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle (for worker processes) with the read-only class table as a plain dict."""
        fields = (
            self.name, self.calendar, self.rules, self.retailers, self.managers, dict(self.classes), self.crs,
            self.suspended, self.travel_model, self.osm, self.engine, self.osrm_url,
        )  # fmt: skip
        return (Scenario, fields)

    def frequencies(self) -> dict[str, int]:
        """Each shop's visits a month, suspended shops included (what a route book records)."""
        return {r.id: r.visits_per_month for r in (*self.retailers, *self.suspended)}

    @property
    def retailer_index(self) -> dict[str, int]:
        return {r.id: i for i, r in enumerate(self.retailers)}

    @property
    def manager_index(self) -> dict[str, int]:
        return {m.id: i for i, m in enumerate(self.managers)}

    def gap_days(self, n_visits: int) -> int:
        """Least days between visits of a shop seen ``n_visits`` times this month."""
        return required_gap_days(n_visits, self.calendar.days_in_month, self.rules.min_gap_days)

    def working_days(self, manager: Manager) -> list[date]:
        return self.calendar.working_days(manager.days_off)


def offices_of(managers: Sequence[Manager]) -> dict[str, str]:
    """Each manager's market office: the staff list's ``office``, else one per start position
    (named ``O1``, ``O2`` ... in the order the staff list first reaches them)."""
    out: dict[str, str] = {}
    by_place: dict[tuple[float, float], str] = {}
    for m in managers:
        if m.office_id:
            out[m.id] = m.office_id
            continue
        key = (m.office.lat, m.office.lon)
        by_place.setdefault(key, f"O{len(by_place) + 1}")
        out[m.id] = by_place[key]
    return out
