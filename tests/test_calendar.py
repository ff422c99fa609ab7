"""The month's calendar: slots of the cycle, working days, spacing rules."""

from __future__ import annotations

from datetime import date

import pytest

from routeplan.calendar import Calendar, min_gap_days, most_spaced_visits, parse_weekday, required_gap_days
from routeplan.solve.patterns import ManagerCalendar, pattern_dates, richest_patterns, valid_patterns

DEC = Calendar(2026, 12, (0, 1, 2, 3, 4), frozenset({date(2026, 12, 25)}), 2)
#: February 2027 with the Spring Festival off: all of week 2 and Mon-Tue of week 3
SPRING = frozenset({date(2027, 2, d) for d in (8, 9, 10, 11, 12, 15, 16)})
FEB = Calendar(2027, 2, (0, 1, 2, 3, 4), SPRING, 2)


def test_slots_repeat_every_cycle():
    assert DEC.n_slots == 10
    assert DEC.slot_of(date(2026, 12, 1)) == DEC.slot_of(date(2026, 12, 15)) == DEC.slot_of(date(2026, 12, 29))
    assert DEC.slot_of(date(2026, 12, 1)) != DEC.slot_of(date(2026, 12, 8))
    assert DEC.slot_of(date(2026, 12, 5)) is None  # Saturday
    assert DEC.slot_label(DEC.slot_of(date(2026, 12, 8))) == "W2-Tue"


def test_working_days_skip_holidays_and_days_off():
    days = DEC.working_days(frozenset({date(2026, 12, 16)}))
    assert len(days) == 21
    assert date(2026, 12, 25) not in days and date(2026, 12, 16) not in days


def test_gap_rule():
    assert required_gap_days(2, 31, None) == 10
    assert required_gap_days(4, 31, None) == 6
    assert required_gap_days(2, 31, 7) == 7
    assert min_gap_days([date(2026, 12, 1), date(2026, 12, 15), date(2026, 12, 3)]) == 2
    assert parse_weekday("thursday") == 3
    with pytest.raises(ValueError):
        parse_weekday("someday")


def test_lost_friday_is_made_up_in_its_week():
    mcal = ManagerCalendar(DEC, frozenset())
    friday_w2 = DEC.slot_of(date(2026, 12, 11))
    fit = pattern_dates(mcal, [friday_w2], frozenset(), None)
    assert fit is not None
    assert fit.dates[0] == date(2026, 12, 11)
    assert date(2026, 12, 21) <= fit.dates[1] <= date(2026, 12, 24)


def test_class_a_patterns_are_weekly():
    mcal = ManagerCalendar(DEC, frozenset())
    fits = valid_patterns(mcal, 4, frozenset(), None, extra=0)
    assert fits
    for fit in fits:
        assert len(fit.dates) >= 4
        assert min_gap_days(fit.dates) >= required_gap_days(len(fit.dates), 31, None)


def test_closed_weekday_excludes_slots():
    mcal = ManagerCalendar(DEC, frozenset())
    for fit in valid_patterns(mcal, 2, frozenset({0}), None):
        assert all(d.weekday() != 0 for d in fit.dates)


def test_a_month_too_short_for_the_frequency_gives_the_most_well_spaced_visits():
    """No slot set gives a weekly shop 4 visits in a February with a week of holidays (a lost
    run of week 2 has no day of its week to go to); the richest patterns give 3, well spaced."""
    mcal = ManagerCalendar(FEB, frozenset())
    assert valid_patterns(mcal, 4, frozenset(), None) == []
    fits = richest_patterns(mcal, frozenset(), None)
    assert fits
    for fit in fits:
        assert len(fit.dates) == 3 and len(fit.slots) == 2
        assert min_gap_days(fit.dates) >= required_gap_days(3, 28, None)
        assert not set(fit.dates) & SPRING


def test_the_most_spaced_visits_a_calendar_holds():
    """February 2027 without its Spring Festival holds 4 visits 5 days apart; with it, 3 (7 days
    apart: Feb 1, 17, 24); a shop open on Fridays only, 3 (Feb 5, 19, 26); December, 4 of 4."""
    assert most_spaced_visits(Calendar(2027, 2, (0, 1, 2, 3, 4)).working_days(), 4, 28, None) == 4
    assert most_spaced_visits(FEB.working_days(), 4, 28, None) == 3
    fridays = [d for d in FEB.working_days() if d.weekday() == 4]
    assert most_spaced_visits(fridays, 4, 28, None) == 3
    assert most_spaced_visits(DEC.working_days(), 4, 31, None) == 4
    assert most_spaced_visits([], 2, 31, None) == 0
