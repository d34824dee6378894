"""The working-day calendar: Monday to Friday less the bank holidays of the partnership's nation; "N working
days after a moment" ends at 17:00 London time on the Nth working day after the day of that moment.

Every expected value below was worked out by hand from a calendar, not read back from the code:
2026-12-18 is a Friday; Christmas Day 2026 is a Friday, so Boxing Day (Saturday) is substituted on Monday 28
December; 1 January 2027 is a Friday; Easter Sunday 2027 is 28 March (Good Friday 26, Easter Monday 29), and
British Summer Time starts that same Sunday; BST 2026 ended on Sunday 25 October; 1 January 2026 was a Thursday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from engine.calendar import WorkingCalendar


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def england() -> WorkingCalendar:
    return WorkingCalendar("england-wales")


@pytest.fixture
def scotland() -> WorkingCalendar:
    return WorkingCalendar("scotland")


@pytest.fixture
def northern_ireland() -> WorkingCalendar:
    return WorkingCalendar("northern-ireland")


# --- one working day, over a weekend ----------------------------------------------------------------------------

def test_friday_afternoon_plus_one_working_day_is_monday_17_00_london(england):
    # Friday 18 December 2026, 15:00 UTC = 15:00 GMT; Saturday and Sunday do not count.
    due = england.add_working_days(utc(2026, 12, 18, 15, 0), 1)
    assert due == utc(2026, 12, 21, 17, 0)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)


def test_the_deadline_is_the_same_whatever_the_time_of_day_it_was_raised(england):
    early = england.add_working_days(utc(2026, 12, 18, 8, 0), 1)
    late = england.add_working_days(utc(2026, 12, 18, 16, 59), 1)
    assert early == late == utc(2026, 12, 21, 17, 0)


def test_raised_on_a_saturday_counts_from_the_saturday(england):
    # The day of the moment is Saturday 19 December; the first working day after it is Monday 21 December.
    assert england.add_working_days(utc(2026, 12, 19, 10, 0), 1) == utc(2026, 12, 21, 17, 0)
    # Sunday likewise.
    assert england.add_working_days(utc(2026, 12, 20, 10, 0), 1) == utc(2026, 12, 21, 17, 0)


def test_five_working_days_from_a_friday_is_the_next_friday(england):
    # Friday 6 November 2026 (no bank holiday near): Mon 9, Tue 10, Wed 11, Thu 12, Fri 13.
    assert england.add_working_days(utc(2026, 11, 6, 11, 0), 5) == utc(2026, 11, 13, 17, 0)


def test_weekend_days_are_not_working_days(england):
    assert england.is_working_day(date(2026, 12, 18))  # Friday
    assert not england.is_working_day(date(2026, 12, 19))  # Saturday
    assert not england.is_working_day(date(2026, 12, 20))  # Sunday
    assert england.is_working_day(date(2026, 12, 21))  # Monday


def test_zero_working_days_is_17_00_on_the_same_day(england):
    assert england.add_working_days(utc(2026, 12, 18, 9, 0), 0) == utc(2026, 12, 18, 17, 0)


# --- Christmas 2026 ----------------------------------------------------------------------------------------------

def test_christmas_eve_plus_one_working_day_is_tuesday_29_december(england):
    # Fri 25 Christmas Day, Sat 26 and Sun 27, Mon 28 the substitute for Boxing Day: Tuesday 29 December.
    assert england.add_working_days(utc(2026, 12, 24, 10, 0), 1) == utc(2026, 12, 29, 17, 0)


def test_25_to_28_december_2026_are_not_working_days_in_england(england):
    for day in (25, 26, 27, 28):
        assert not england.is_working_day(date(2026, 12, day)), day
    assert england.is_working_day(date(2026, 12, 24))
    assert england.is_working_day(date(2026, 12, 29))
    assert "Christmas" in england.holiday_name(date(2026, 12, 25))
    assert "Boxing Day" in england.holiday_name(date(2026, 12, 28))
    assert england.holiday_name(date(2026, 12, 29)) is None


def test_a_three_day_deadline_over_christmas_skips_25_to_28_december(england):
    # From Tuesday 22 December: Wed 23, Thu 24, then (25-28 skipped) Tue 29.
    assert england.add_working_days(utc(2026, 12, 22, 12, 0), 3) == utc(2026, 12, 29, 17, 0)
    # From Wednesday 23 December, five: Thu 24, Tue 29, Wed 30, Thu 31, (Fri 1 Jan holiday, weekend) Mon 4 Jan.
    assert england.add_working_days(utc(2026, 12, 23, 12, 0), 5) == utc(2027, 1, 4, 17, 0)


def test_raised_on_christmas_day_counts_from_the_first_working_day_after_it(england):
    assert england.add_working_days(utc(2026, 12, 25, 12, 0), 1) == utc(2026, 12, 29, 17, 0)


def test_new_years_eve_plus_one_is_monday_4_january_2027_in_england(england):
    # Friday 1 January 2027 is New Year's Day; then the weekend.
    assert england.add_working_days(utc(2026, 12, 31, 12, 0), 1) == utc(2027, 1, 4, 17, 0)


# --- Easter 2027, and British Summer Time ------------------------------------------------------------------------

def test_easter_2027_good_friday_and_easter_monday_are_holidays_in_england(england):
    assert not england.is_working_day(date(2027, 3, 26))  # Good Friday
    assert not england.is_working_day(date(2027, 3, 29))  # Easter Monday
    assert england.is_working_day(date(2027, 3, 25))
    assert england.is_working_day(date(2027, 3, 30))


def test_maundy_thursday_plus_one_in_england_is_tuesday_after_easter_in_summer_time(england):
    # Thu 25 March 2027 (GMT). Good Friday, the weekend (BST starts Sunday 28) and Easter Monday do not count:
    # Tuesday 30 March, 17:00 BST = 16:00 UTC.
    assert england.add_working_days(utc(2027, 3, 25, 10, 0), 1) == utc(2027, 3, 30, 16, 0)


def test_scotland_has_good_friday_but_no_easter_monday(scotland):
    assert not scotland.is_working_day(date(2027, 3, 26))
    assert scotland.is_working_day(date(2027, 3, 29))
    # So one working day after Maundy Thursday is Easter Monday, 17:00 BST = 16:00 UTC.
    assert scotland.add_working_days(utc(2027, 3, 25, 10, 0), 1) == utc(2027, 3, 29, 16, 0)


def test_17_00_london_in_summer_is_16_00_utc(england):
    # Monday 15 June 2026 -> Tuesday 16 June, 17:00 BST.
    due = england.add_working_days(utc(2026, 6, 15, 9, 0), 1)
    assert due == utc(2026, 6, 16, 16, 0)
    assert due.astimezone(england.zone).time() == time(17, 0)


def test_17_00_london_in_winter_is_17_00_utc(england):
    due = england.add_working_days(utc(2026, 12, 14, 9, 0), 1)
    assert due == utc(2026, 12, 15, 17, 0)
    assert due.astimezone(england.zone).time() == time(17, 0)


def test_the_day_of_the_moment_is_the_london_day_not_the_utc_day(england):
    # 23:30 UTC on Monday 15 June 2026 is 00:30 BST on Tuesday 16 June: one working day later is Wednesday.
    assert england.local_day(utc(2026, 6, 15, 23, 30)) == date(2026, 6, 16)
    assert england.add_working_days(utc(2026, 6, 15, 23, 30), 1) == utc(2026, 6, 17, 16, 0)


def test_a_deadline_across_the_end_of_summer_time(england):
    # Friday 23 October 2026, 10:00 UTC (11:00 BST); BST ends Sunday 25 October: Monday 26, 17:00 GMT.
    assert england.add_working_days(utc(2026, 10, 23, 10, 0), 1) == utc(2026, 10, 26, 17, 0)


def test_an_aware_moment_in_another_zone_is_read_in_london(england):
    # 01:00 on Saturday 19 December at UTC+5 is 20:00 UTC on Friday 18 December: the day is Friday.
    moment = datetime(2026, 12, 19, 1, 0, tzinfo=timezone(timedelta(hours=5)))
    assert england.local_day(moment) == date(2026, 12, 18)
    assert england.add_working_days(moment, 1) == utc(2026, 12, 21, 17, 0)


# --- the other nations -------------------------------------------------------------------------------------------

def test_scotland_keeps_2_january(scotland, england):
    # 2026: New Year's Day Thursday 1 January; 2 January (Friday) is a bank holiday in Scotland only.
    assert not scotland.is_working_day(date(2026, 1, 2))
    assert england.is_working_day(date(2026, 1, 2))
    assert scotland.add_working_days(utc(2025, 12, 31, 12, 0), 1) == utc(2026, 1, 5, 17, 0)
    assert england.add_working_days(utc(2025, 12, 31, 12, 0), 1) == utc(2026, 1, 2, 17, 0)


def test_scotland_substitutes_2_january_2027_on_monday_4_january(scotland, england):
    # 1 January 2027 is a Friday, so Scotland's 2 January (Saturday) moves to Monday 4 January.
    assert not scotland.is_working_day(date(2027, 1, 4))
    assert england.is_working_day(date(2027, 1, 4))
    assert scotland.add_working_days(utc(2026, 12, 31, 12, 0), 1) == utc(2027, 1, 5, 17, 0)


def test_northern_ireland_keeps_st_patricks_day(northern_ireland, england):
    # Wednesday 17 March 2027 (still GMT).
    assert not northern_ireland.is_working_day(date(2027, 3, 17))
    assert england.is_working_day(date(2027, 3, 17))
    assert northern_ireland.add_working_days(utc(2027, 3, 16, 10, 0), 1) == utc(2027, 3, 18, 17, 0)
    assert england.add_working_days(utc(2027, 3, 16, 10, 0), 1) == utc(2027, 3, 17, 17, 0)


def test_northern_ireland_has_easter_monday(northern_ireland):
    assert not northern_ireland.is_working_day(date(2027, 3, 29))
    assert northern_ireland.add_working_days(utc(2027, 3, 25, 10, 0), 1) == utc(2027, 3, 30, 16, 0)


def test_an_unknown_nation_is_rejected():
    with pytest.raises(ValueError, match="unknown nation 'wales'"):
        WorkingCalendar("wales")
    with pytest.raises(ValueError, match="unknown nation"):
        WorkingCalendar("ENG")


# --- naive datetimes ---------------------------------------------------------------------------------------------

NAIVE = datetime(2026, 12, 18, 15, 0)


def test_add_working_days_rejects_a_naive_datetime(england):
    with pytest.raises(ValueError, match="aware"):
        england.add_working_days(NAIVE, 1)


def test_local_day_rejects_a_naive_datetime(england):
    with pytest.raises(ValueError, match="aware"):
        england.local_day(NAIVE)


def test_day_n_rejects_a_naive_datetime(england):
    with pytest.raises(ValueError, match="aware"):
        england.day_n(NAIVE, 1)


def test_working_days_before_rejects_a_naive_datetime(england):
    # A naive deadline would be read in the server's own zone, silently.
    with pytest.raises(ValueError):
        england.working_days_before(NAIVE, 1)


# --- working_days_before (reminders ahead of a deadline) --------------------------------------------------------

def test_one_working_day_before_monday_17_00_is_friday_17_00(england):
    assert england.working_days_before(utc(2026, 12, 21, 17, 0), 1) == utc(2026, 12, 18, 17, 0)


def test_one_working_day_before_thursday_24_december_is_wednesday_23(england):
    assert england.working_days_before(utc(2026, 12, 24, 17, 0), 1) == utc(2026, 12, 23, 17, 0)


def test_one_working_day_before_tuesday_29_december_skips_christmas_back_to_christmas_eve(england):
    assert england.working_days_before(utc(2026, 12, 29, 17, 0), 1) == utc(2026, 12, 24, 17, 0)


def test_working_days_before_keeps_the_london_time_of_day_across_summer_time(england):
    # Tuesday 30 March 2027, 17:00 BST (16:00 UTC); one working day before, past Easter Monday, the weekend and
    # Good Friday, is Thursday 25 March, 17:00 GMT = 17:00 UTC.
    assert england.working_days_before(utc(2027, 3, 30, 16, 0), 1) == utc(2027, 3, 25, 17, 0)


def test_two_working_days_before_a_monday(england):
    # Monday 14 December 2026, 12:00 -> Friday 11, Thursday 10.
    assert england.working_days_before(utc(2026, 12, 14, 12, 0), 2) == utc(2026, 12, 10, 12, 0)


# --- day N (procedures that count the day raised as day 1) -----------------------------------------------------

def test_day_1_is_the_day_raised_and_day_2_the_next_working_day(england):
    assert england.day_n(utc(2026, 12, 18, 15, 0), 1) == utc(2026, 12, 18, 17, 0)
    assert england.day_n(utc(2026, 12, 18, 15, 0), 2) == utc(2026, 12, 21, 17, 0)


def test_day_1_of_a_challenge_raised_on_a_saturday_is_the_monday(england):
    assert england.day_n(utc(2026, 12, 19, 10, 0), 1) == utc(2026, 12, 21, 17, 0)


def test_day_numbers_start_at_1(england):
    with pytest.raises(ValueError):
        england.day_n(utc(2026, 12, 18, 15, 0), 0)
