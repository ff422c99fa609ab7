"""Visit patterns: which cycle slots a shop may ride on for a given manager.

A pattern is a set of slots. Riding on every slot of the pattern must give the
shop at least its monthly frequency, on distinct working days spaced at least the
required gap apart, with runs lost to holidays or days off made up within the week.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ..calendar import Calendar, days_to_nearest, min_gap_days, monday_of, required_gap_days

#: A pattern never uses more slots than this; more visits than that are not a route plan.
MAX_PATTERN_SLOTS = 4


@dataclass(frozen=True)
class ManagerCalendar:
    """One manager's working days, and for every slot its regular and lost run dates."""

    calendar: Calendar
    days_off: frozenset[date]
    #: answers already given (the search asks for the same slots and days hundreds of thousands
    #: of times while it weighs relabellings)
    _runs: dict[int, tuple[tuple[date, ...], tuple[date, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _makeups: dict[date, tuple[date, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def working(self, day: date) -> bool:
        return self.calendar.is_working(day, self.days_off)

    def runs(self, slot: int) -> tuple[tuple[date, ...], tuple[date, ...]]:
        """``(working run dates, lost run dates)`` of a slot in the month."""
        found = self._runs.get(slot)
        if found is None:
            due = self.calendar.slot_dates(slot)
            found = self._runs[slot] = (
                tuple(d for d in due if self.working(d)),
                tuple(self.calendar.lost_runs(slot, self.days_off)),
            )
        return found

    def makeup_days(self, lost: date) -> tuple[date, ...]:
        """Working days of the lost run's week, inside the month, other than the lost day."""
        found = self._makeups.get(lost)
        if found is None:
            week = self.calendar.week_days(monday_of(lost))
            found = self._makeups[lost] = tuple(d for d in week if d != lost and self.working(d))
        return found


@dataclass(frozen=True)
class PatternFit:
    """What riding on a set of slots gives a shop in the month."""

    slots: tuple[int, ...]
    dates: tuple[date, ...]
    #: make-up visits that have a single well-spaced day to go to (they crowd that day)
    forced_makeups: int


def pattern_dates(
    mcal: ManagerCalendar, slots: Iterable[int], closed: frozenset[int], gap_cap: int | None
) -> PatternFit | None:
    """The visit dates riding on ``slots`` gives, or ``None`` if no valid spacing exists.

    Lost runs are made up on the day of their week that keeps the widest spacing.
    """
    slots = tuple(slots)
    cal = mcal.calendar
    dates: set[date] = set()
    lost_all: list[date] = []
    for slot in slots:
        if cal.slot_weekday(slot) in closed:
            return None
        regular, lost = mcal.runs(slot)
        if dates.intersection(regular):
            return None
        # a day worked for a holiday (a Saturday, say) finds a shop closed that weekday shut:
        # its visit is made up in the week like a lost run's
        dates.update(d for d in regular if d.weekday() not in closed)
        lost_all.extend(d for d in regular if d.weekday() in closed)
        lost_all.extend(lost)
    n_total = len(dates) + len(lost_all)
    gap = required_gap_days(n_total, cal.days_in_month, gap_cap)
    forced = 0
    for day in sorted(lost_all):
        options = [d for d in mcal.makeup_days(day) if d.weekday() not in closed and d not in dates]
        if not options:
            continue
        forced += sum(days_to_nearest(d, dates) >= gap for d in options) <= 1
        best = max(options, key=lambda d: (days_to_nearest(d, dates), -abs((d - day).days)))
        dates.add(best)
    if not dates:
        return None
    got = min_gap_days(dates)
    if got is not None and got < required_gap_days(len(dates), cal.days_in_month, gap_cap):
        return None
    return PatternFit(slots, tuple(sorted(dates)), forced)


def candidate_slot_sets(cal: Calendar) -> list[tuple[int, ...]]:
    """Slot sets worth trying: any one or two slots, and evenly spread same-weekday sets."""
    n = cal.n_slots
    nwd = len(cal.workdays)
    out: set[tuple[int, ...]] = set()
    for k in (1, 2):
        out.update(itertools.combinations(range(n), k))
    # Families: one weekday, an evenly spaced subset of cycle weeks.
    families: list[tuple[int, ...]] = []
    c = cal.cycle_weeks
    for wd in range(nwd):
        for step in (s for s in range(1, c + 1) if c % s == 0):
            for start in range(step):
                families.append(tuple(sorted(w * nwd + wd for w in range(start, c, step))))
    for fam in families:
        out.add(fam)
    for a, b in itertools.combinations(families, 2):
        if set(a) & set(b) or {x % nwd for x in a} & {x % nwd for x in b}:
            continue
        combo = tuple(sorted(a + b))
        if len(combo) <= MAX_PATTERN_SLOTS:
            out.add(combo)
    return sorted(out, key=lambda s: (len(s), s))


def valid_patterns(
    mcal: ManagerCalendar, visits: int, closed: frozenset[int], gap_cap: int | None, extra: int = 1
) -> list[PatternFit]:
    """Slot sets that give at least ``visits`` well-spaced visits.

    Patterns with up to ``extra`` slots more than the fewest needed are kept too:
    they are how a thin territory reaches its daily minimum of stops.
    """
    return _fewest_slots([f for f in _all_fits(mcal, closed, gap_cap) if len(f.dates) >= visits], extra)


def richest_patterns(mcal: ManagerCalendar, closed: frozenset[int], gap_cap: int | None) -> list[PatternFit]:
    """Where no pattern gives a shop its frequency (a month with a whole week of holidays, say):
    the fewest-slot patterns that give the most well-spaced visits the month allows, so the shop
    still gets as many as it can (3 of 4, not the 1 of a single route)."""
    fits = _all_fits(mcal, closed, gap_cap)
    most = max((len(f.dates) for f in fits), default=0)
    return _fewest_slots([f for f in fits if len(f.dates) == most], 0)


def _all_fits(mcal: ManagerCalendar, closed: frozenset[int], gap_cap: int | None) -> list[PatternFit]:
    """What every candidate slot set gives this month (those with no valid spacing left out)."""
    return [fit for slots in candidate_slot_sets(mcal.calendar) if (fit := pattern_dates(mcal, slots, closed, gap_cap))]


def _fewest_slots(fits: list[PatternFit], extra: int) -> list[PatternFit]:
    """The fits with at most ``extra`` slots more than the fewest among them."""
    fewest = min((len(f.slots) for f in fits), default=0)
    return [f for f in fits if len(f.slots) <= fewest + extra]
