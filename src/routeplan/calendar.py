"""The month being planned: working days, the fixed-route cycle and its slots.

A *slot* is one (week of the cycle, weekday) pair. With ``cycle_weeks = 2`` and a
Monday-to-Friday week there are ten slots; a route is bound to one slot and runs on
every date of that slot in the month. A day off the workdays may be worked in place of a
holiday (调休: the Saturday after a holiday week, say): it runs that holiday's routes.
"""

from __future__ import annotations

import calendar as _stdcal
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: A worked weekend day stands for a holiday at most this many days away (China's swaps are
#: within two weeks; one across a month boundary is the Sunday before a holiday week).
MAX_SWAP_DAYS = 31


#: Weekday names as Chinese shop lists write them (周二, 星期二, 礼拜二): the last character.
CHINESE_WEEKDAYS = "一二三四五六日"


def parse_weekday(text: str) -> int:
    """``"Tue"`` (any case, or a full name), or ``"周二"`` / ``"星期二"`` -> 1."""
    zh = text.strip()
    if zh[:1] in ("周", "星") or zh[:2] == "礼拜":
        last = zh[-1:].replace("天", "日")
        if last in CHINESE_WEEKDAYS and zh[:-1] in ("周", "星期", "礼拜"):
            return CHINESE_WEEKDAYS.index(last)
    key = text.strip()[:3].title()
    if key not in WEEKDAY_NAMES:
        raise ValueError(f"'{text}' is not a weekday (use {', '.join(WEEKDAY_NAMES)})")
    return WEEKDAY_NAMES.index(key)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def min_gap_days(days: Iterable[date]) -> int | None:
    """Smallest distance in days between consecutive dates, ``None`` for fewer than two."""
    ordered = sorted(days)
    if len(ordered) < 2:
        return None
    return min((b - a).days for a, b in itertools.pairwise(ordered))


def days_to_nearest(day: date, others: Iterable[date]) -> int:
    """Days between ``day`` and the closest of ``others`` (99 when there are none)."""
    return min((abs((day - x).days) for x in others), default=99)


@dataclass(frozen=True)
class Calendar:
    """Working-day structure of one month, shared by every manager."""

    year: int
    month: int
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    holidays: frozenset[date] = frozenset()
    cycle_weeks: int = 2
    cycle_start: date | None = None
    #: (day worked, holiday it is worked for): each holiday's runs move to that day (调休). The
    #: holiday may fall in the next or the previous month (the Sunday before National Day week);
    #: pairs whose worked day is in another month are dropped (a year's swaps may be listed once)
    moved: tuple[tuple[date, date], ...] = ()
    _days: tuple[date, ...] = field(init=False, repr=False, compare=False)
    #: each worked day of :attr:`moved` -> its holiday
    _worked_for: dict[date, date] = field(init=False, repr=False, compare=False)
    #: the month's dates of each slot (``None``: days off the workdays), asked for thousands of
    #: times while patterns are built
    _slot_days: dict[int | None, tuple[date, ...]] = field(init=False, repr=False, compare=False)
    #: the Mondays of the weeks that overlap the month (the checker asks for them once a shop)
    _weeks: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not 1..12")
        if not self.workdays:
            raise ValueError("workdays is empty")
        if len(set(self.workdays)) != len(self.workdays):
            raise ValueError("workdays lists a weekday twice")
        if self.cycle_weeks < 1:
            raise ValueError("cycle_weeks must be at least 1")
        ndays = _stdcal.monthrange(self.year, self.month)[1]
        days = tuple(date(self.year, self.month, d) for d in range(1, ndays + 1))
        object.__setattr__(self, "_days", days)
        object.__setattr__(self, "workdays", tuple(sorted(self.workdays)))
        object.__setattr__(self, "moved", tuple(pair for pair in self.moved if pair[0] in days))
        object.__setattr__(self, "_worked_for", dict(self.moved))
        self._check_moved(days)
        if self.cycle_start is None:
            object.__setattr__(self, "cycle_start", monday_of(days[0]))
        else:
            object.__setattr__(self, "cycle_start", monday_of(self.cycle_start))
        by_slot: dict[int | None, list[date]] = {}
        for d in days:
            by_slot.setdefault(self.slot_of(d), []).append(d)
        object.__setattr__(self, "_slot_days", {slot: tuple(ds) for slot, ds in by_slot.items()})
        object.__setattr__(self, "_weeks", tuple(sorted({monday_of(d) for d in days})))

    def _check_moved(self, days: tuple[date, ...]) -> None:
        taken: set[date] = set()
        for worked, holiday in self.moved:
            if abs((holiday - worked).days) > MAX_SWAP_DAYS:
                raise ValueError(f"{worked} for {holiday}: a holiday at most {MAX_SWAP_DAYS} days from the day worked")
            if worked.weekday() in self.workdays:
                raise ValueError(f"{worked} is a workday already (a {WEEKDAY_NAMES[worked.weekday()]})")
            if worked in self.holidays:
                raise ValueError(f"{worked} is a holiday")
            if holiday not in self.holidays or holiday.weekday() not in self.workdays:
                listed = "" if holiday in days else " (list it in holidays too: they may be days of other months)"
                raise ValueError(
                    f"{holiday} is not a holiday on a workday{listed}, so it has no routes to move to {worked}"
                )
            if holiday in taken:
                raise ValueError(f"{holiday}'s routes are moved to two days")
            taken.add(holiday)
        if len(self._worked_for) != len(self.moved):
            raise ValueError("a day is worked for two holidays")

    @property
    def days(self) -> tuple[date, ...]:
        return self._days

    def worked_for(self, day: date) -> date | None:
        """The holiday whose routes ``day`` runs (``None``: a day of its own)."""
        return self._worked_for.get(day)

    def moved_holidays(self) -> frozenset[date]:
        """The holidays whose runs are worked on another day (they are not lost)."""
        return frozenset(holiday for _, holiday in self.moved)

    @property
    def days_in_month(self) -> int:
        return len(self._days)

    @property
    def n_slots(self) -> int:
        return self.cycle_weeks * len(self.workdays)

    def cycle_week(self, day: date) -> int:
        assert self.cycle_start is not None
        return ((monday_of(day) - self.cycle_start).days // 7) % self.cycle_weeks

    def slot_of(self, day: date) -> int | None:
        """Slot index of a date, ``None`` when its weekday is not a workday (a day worked for a
        holiday: the holiday's slot)."""
        day = self._worked_for.get(day, day)
        if day.weekday() not in self.workdays:
            return None
        return self.cycle_week(day) * len(self.workdays) + self.workdays.index(day.weekday())

    def slot_weekday(self, slot: int) -> int:
        return self.workdays[slot % len(self.workdays)]

    def slot_week(self, slot: int) -> int:
        return slot // len(self.workdays)

    def slot_label(self, slot: int) -> str:
        """``"W1-Tue"``: week of the cycle (1-based) and weekday."""
        return f"W{self.slot_week(slot) + 1}-{WEEKDAY_NAMES[self.slot_weekday(slot)]}"

    def slot_from_label(self, label: str) -> int | None:
        """``"W1-Tue"`` -> its slot, ``None`` if the cycle has no such slot."""
        for slot in range(self.n_slots):
            if self.slot_label(slot) == label:
                return slot
        return None

    def is_working(self, day: date, days_off: frozenset[date] = frozenset()) -> bool:
        return (
            (day.weekday() in self.workdays or day in self._worked_for)
            and day not in self.holidays
            and day not in days_off
            and day.month == self.month
            and day.year == self.year
        )

    def working_days(self, days_off: frozenset[date] = frozenset()) -> list[date]:
        return [d for d in self._days if self.is_working(d, days_off)]

    def lost_days(self) -> list[date]:
        """The holidays that fall on a workday of the month: the days its runs are lost (or, for
        :attr:`moved` ones, worked on another day)."""
        return [d for d in self._days if d in self.holidays and d.weekday() in self.workdays]

    def lost_runs(self, slot: int, days_off: frozenset[date] = frozenset()) -> list[date]:
        """The dates of a slot's runs that nobody works: its holidays (not those worked on
        another day) and, for a manager, his days off."""
        moved = self.moved_holidays()
        return [d for d in self.slot_dates(slot) if not self.is_working(d, days_off) and d not in moved]

    def slot_dates(self, slot: int) -> list[date]:
        """Every date of the month on which a route of this slot is due (working or not)."""
        return list(self._slot_days.get(slot, ()))

    def weeks(self) -> list[date]:
        """Mondays of the calendar weeks that overlap the month."""
        return list(self._weeks)

    def week_days(self, monday: date) -> list[date]:
        """Dates of that week that lie inside the month."""
        week = (monday + timedelta(days=i) for i in range(7))
        return [d for d in week if d.month == self.month and d.year == self.year]


def required_gap_days(n_visits: int, days_in_month: int, cap: int | None) -> int:
    """Least days between two visits of a shop seen ``n_visits`` times in the month.

    ``floor(days / (n + 1))``, never more than the scenario's ``min_gap_days`` cap.
    """
    gap = days_in_month // (n_visits + 1)
    return min(gap, cap) if cap is not None else gap


def most_spaced_visits(days: Iterable[date], want: int, days_in_month: int, cap: int | None) -> int:
    """The most visits, up to ``want``, that ``days`` (the days a shop can be visited) hold spaced
    as the rule asks: a calendar bound, whatever the routes.

    For a given gap, taking the earliest day that keeps it from the last one chosen takes the
    most days; the gap shrinks as the count grows, so each count is tried from ``want`` down.
    """
    ordered = sorted(set(days))
    for n in range(want, 0, -1):
        gap, taken, last = required_gap_days(n, days_in_month, cap), 0, None
        for d in ordered:
            if last is None or (d - last).days >= gap:
                taken, last = taken + 1, d
        if taken >= n:
            return n
    return 0


def format_weekdays(days: Sequence[int]) -> str:
    return ";".join(WEEKDAY_NAMES[d] for d in days)
