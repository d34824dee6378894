"""Working days: Monday to Friday less the bank holidays of the partnership's nation."""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

NATIONS = {
    "england-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}


@lru_cache(maxsize=16)
def _bank_holidays(nation: str) -> holidays.HolidayBase:
    if nation not in NATIONS:
        raise ValueError(f"unknown nation {nation!r}; choose one of {', '.join(NATIONS)}")
    return holidays.UK(subdiv=NATIONS[nation], years=range(2015, 2046))


# A Monday before any bank holiday we know: working days are numbered from it.
_EPOCH = date(2014, 12, 29)


@lru_cache(maxsize=16)
def _weekday_holidays(nation: str) -> tuple[date, ...]:
    return tuple(sorted(day for day in _bank_holidays(nation) if day.weekday() < 5))


class WorkingCalendar:
    """`add_working_days(moment, n)` ends at `end_of_day` local time on the nth working day after
    the day of that moment, so a challenge raised at 16:59 or at 08:00 gets the same deadline."""

    def __init__(
        self,
        nation: str = "england-wales",
        end_of_day: time = time(17, 0),
        zone: str = "Europe/London",
    ) -> None:
        self.nation = nation
        self.end_of_day = end_of_day
        self.zone = ZoneInfo(zone)
        self._holidays = _bank_holidays(nation)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day)

    def local_day(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("working days need an aware datetime")
        return moment.astimezone(self.zone).date()

    def working_day_number(self, day: date) -> int:
        """How many working days there are from a fixed Monday in 2014 up to and including `day`: the difference
        of two is the working days between them, without walking the days."""
        weeks, rest = divmod((day - _EPOCH).days + 1, 7)
        weekdays = weeks * 5 + min(rest, 5)
        return weekdays - bisect.bisect_right(_weekday_holidays(self.nation), day)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """The working days after the (London) day of `start` up to and including the day of `end`: a challenge
        raised on Friday and closed on Monday took 1."""
        return self.working_day_number(self.local_day(end)) - self.working_day_number(self.local_day(start))

    def nth_working_day_after(self, day: date, n: int) -> date:
        if n < 0:
            raise ValueError("n must not be negative")
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def nth_working_day_before(self, day: date, n: int) -> date:
        counted = 0
        while counted < n:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day, self.end_of_day, self.zone).astimezone(UTC)

    def add_working_days(self, moment: datetime, n: int) -> datetime:
        return self.end_of(self.nth_working_day_after(self.local_day(moment), n))

    def day_n(self, start: datetime, n: int) -> datetime:
        """The end of "day N" of a procedure that counts the day the concern was raised as day 1 (the first
        working day on or after it, if it was raised on a weekend or bank holiday)."""
        if n < 1:
            raise ValueError("day numbers start at 1")
        first = self.local_day(start)
        if not self.is_working_day(first):
            first = self.nth_working_day_after(first, 1)
        return self.end_of(self.nth_working_day_after(first, n - 1))

    def working_days_before(self, deadline: datetime, n: int) -> datetime:
        """The same local time of day, n working days earlier (a reminder before a deadline)."""
        if deadline.tzinfo is None:
            raise ValueError("working days need an aware datetime")
        local = deadline.astimezone(self.zone)
        day = self.nth_working_day_before(local.date(), n)
        return datetime.combine(day, local.timetz().replace(tzinfo=None), self.zone).astimezone(UTC)
