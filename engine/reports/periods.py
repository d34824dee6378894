"""The periods a partnership reports on: financial half years (April to September, October to March, the
six-monthly reports), financial years (the annual report) or any dates; each knows the one before it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..errors import Invalid

LONDON = ZoneInfo("Europe/London")
_HALF = re.compile(r"^(\d{4})-h([12])$")
_YEAR = re.compile(r"^(\d{4})$")
EARLIEST, LATEST = date(2015, 4, 1), date(2045, 3, 31)


@dataclass(frozen=True)
class Period:
    kind: str  # half, year, dates
    first: date
    last: date  # inclusive

    @property
    def key(self) -> str:
        """What the period is called in addresses and file names."""
        if self.kind == "half":
            return f"{self.first.year}-h{1 if self.first.month == 4 else 2}"
        if self.kind == "year":
            return f"{self.first.year}"
        return f"{self.first.isoformat()}-to-{self.last.isoformat()}"

    @property
    def label(self) -> str:
        span = f"{self.first.day} {self.first:%B %Y} to {self.last.day} {self.last:%B %Y}"
        if self.kind == "half":
            return f"Half year {span}"
        if self.kind == "year":
            return f"Year {self.first.year}/{str(self.first.year + 1)[2:]} ({span})"
        return span

    @property
    def starts(self) -> datetime:
        return datetime.combine(self.first, time(0), LONDON)

    @property
    def ends(self) -> datetime:
        """The first moment after the period (London midnight after its last day)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), LONDON)

    def previous(self) -> Period:
        if self.kind == "half":
            return half_year_of(self.first - timedelta(days=1))
        if self.kind == "year":
            return year_of(self.first - timedelta(days=1))
        last = self.first - timedelta(days=1)
        months = _whole_months(self.first, self.last)
        if months:  # whole calendar months: the same number of months before
            first = last.replace(day=1)
            for _ in range(months - 1):
                first = (first - timedelta(days=1)).replace(day=1)
            return Period("dates", first, last)
        return Period("dates", last - (self.last - self.first), last)


def _whole_months(first: date, last: date) -> int:
    """How many calendar months the dates cover exactly (0 unless from a 1st to a month's last day)."""
    if first.day != 1 or (last + timedelta(days=1)).day != 1:
        return 0
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _financial_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def half_year_of(day: date) -> Period:
    year = _financial_year(day)
    if 4 <= day.month <= 9:
        return Period("half", date(year, 4, 1), date(year, 9, 30))
    return Period("half", date(year, 10, 1), date(year + 1, 3, 31))


def year_of(day: date) -> Period:
    year = _financial_year(day)
    return Period("year", date(year, 4, 1), date(year + 1, 3, 31))


def parse_period(key: str | None, first: str | None, last: str | None, today: date) -> Period:
    """The period a request names: `2026-h2`, `2026` (the financial year from April 2026), or two dates; none
    means the half year of today. Anything else is refused with a message."""
    if first or last:
        try:
            start, end = date.fromisoformat(first or ""), date.fromisoformat(last or "")
        except ValueError:
            raise Invalid({"period": "Give both dates as YYYY-MM-DD."}) from None
        if end < start:
            raise Invalid({"period": "The period must end on or after its first day."})
        if start < EARLIEST or end > LATEST:
            raise Invalid({"period": "Choose dates from April 2015 to March 2045."})
        return Period("dates", start, end)
    if not key:
        return half_year_of(today)
    if match := _HALF.match(key):
        year, half = int(match[1]), match[2]
        period = half_year_of(date(year, 4, 1) if half == "1" else date(year, 10, 1))
    elif match := _YEAR.match(key):
        period = year_of(date(int(match[1]), 4, 1))
    else:
        raise Invalid({"period": "Choose a half year (such as 2026-h2), a year (such as 2026) or two dates."})
    if period.first < EARLIEST or period.last > LATEST:
        raise Invalid({"period": "Choose a period from April 2015 to March 2045."})
    return period


def recent_periods(today: date, count: int = 6) -> list[Period]:
    """The half years and years a person is offered, the current ones first."""
    halves, years = [half_year_of(today)], [year_of(today)]
    for _ in range(count - 1):
        halves.append(halves[-1].previous())
    for _ in range(count // 2 - 1):
        years.append(years[-1].previous())
    return halves + years
