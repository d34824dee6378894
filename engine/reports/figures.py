"""A partnership's figures for a period, each beside the period before: challenges raised and closed, the stage
they reached, who challenged whom, the areas, outcomes, satisfaction, referrals to the partnership, time to
resolution, deadlines met and missed per stage, open cases by age, children and adults. Each figure is a
`Table` (what the page, its chart, the print and the downloads all show), counted in SQL over the facts rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..calendar import WorkingCalendar
from ..models import Agency, ChallengeFacts, Partnership, ProcedureVersion, StageFacts
from ..vocabulary import outcome_label
from .periods import Period

F, S = ChallengeFacts, StageFacts
RAISE_FORM = Path(__file__).resolve().parents[2] / "workflows" / "raise.json"
AGE_BANDS = ((0, 5, "Up to 5 working days"), (6, 10, "6 to 10"), (11, 20, "11 to 20"), (21, 40, "21 to 40"),
             (41, None, "More than 40 working days"))
SATISFIED_LABELS = {"yes": "Yes", "partly": "Partly", "no": "No", None: "Not recorded"}


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    # How its chart draws it: "bars" (the first column's labels, this period beside the previous one), "matrix".
    chart: str = "bars"


@dataclass
class Report:
    partnership: str
    period: Period
    previous: Period
    stage_word: str
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


def nearest_rank(counts: dict[int, int], share: float) -> int | None:
    """The value at the given share (0.5 the median, 0.9 the 90th percentile) of values given as value -> how
    many times it occurs, by the nearest-rank rule (always a value that occurred)."""
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = max(1, -(-int(share * total * 1000) // 1000)), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return None


def area_labels() -> dict[str, str]:
    return json.loads(RAISE_FORM.read_text())["properties"]["area"]["x-labels"]


class _Counter:
    """The counts of one period, read in one scan of a covering index each: the challenges raised in it, those
    closed in it, those open at its end, the stages that ended in it and the stage deadlines that fell in it.
    Each figure then adds up the groups it needs."""

    RAISED = (F.raising_agency_id, F.receiving_agency_id, F.area, F.subject_kind)
    CLOSED = (F.stage_reached, F.outcome, F.satisfied, F.referred_to_partnership, F.working_days_to_close)

    def __init__(self, session: Session, partnership_id: int, period: Period, now: datetime,
                 calendar: WorkingCalendar) -> None:
        self.session, self.partnership_id, self.calendar = session, partnership_id, calendar
        self.starts, self.ends, self.now = period.starts, period.ends, now
        # Open at the period's end (or now, for a period still running).
        self.until = min(self.ends, now)
        mine = F.partnership_id == partnership_id
        self.raised = [tuple(row) for row in session.execute(
            select(*self.RAISED, func.count()).where(mine, F.raised_at >= self.starts, F.raised_at < self.ends)
            .group_by(*self.RAISED))]
        self.closed = [tuple(row) for row in session.execute(
            select(*self.CLOSED, func.count()).where(mine, F.closed_at >= self.starts, F.closed_at < self.ends)
            .group_by(*self.CLOSED))]
        self.open_days: dict[date, int] = dict(session.execute(
            select(F.raised_on, func.count()).where(mine, F.raised_at < self.until,
                                                    or_(F.closed_at.is_(None), F.closed_at >= self.until))
            .group_by(F.raised_on)).all())

    @staticmethod
    def _by(rows: list[tuple], columns: tuple, column) -> dict[Any, int]:
        index, out = columns.index(column), {}
        for row in rows:
            out[row[index]] = out.get(row[index], 0) + row[-1]
        return out

    def raised_by(self, column) -> dict[Any, int]:
        return self._by(self.raised, self.RAISED, column)

    def closed_by(self, column) -> dict[Any, int]:
        return self._by(self.closed, self.CLOSED, column)

    def totals(self) -> dict[str, int]:
        return {"Raised": sum(row[-1] for row in self.raised), "Closed": sum(row[-1] for row in self.closed),
                "Open at the end": sum(self.open_days.values())}

    def ages(self) -> dict[str, int]:
        last_day = self.calendar.local_day(self.until - timedelta(microseconds=1))
        last = self.calendar.working_day_number(last_day)
        bands = {label: 0 for _, _, label in AGE_BANDS}
        for raised_on, count in self.open_days.items():
            age = last - self.calendar.working_day_number(raised_on)
            label = next(label for low, high, label in AGE_BANDS if age >= low and (high is None or age <= high))
            bands[label] += count
        return bands

    def resolution(self) -> dict[str, tuple[int | None, int | None, int]]:
        """Working days to resolution, overall and per stage: (median, 90th percentile, how many)."""
        overall = {days: n for days, n in self.closed_by(F.working_days_to_close).items() if days is not None}
        out: dict[Any, tuple[int | None, int | None, int]] = {
            "All closed challenges": (nearest_rank(overall, 0.5), nearest_rank(overall, 0.9), sum(overall.values()))}
        ended = and_(S.partnership_id == self.partnership_id, S.ended_at >= self.starts, S.ended_at < self.ends)
        per_stage: dict[int, dict[int, int]] = {}
        for stage, days, count in self.session.execute(
                select(S.stage, S.working_days, func.count()).where(ended).group_by(S.stage, S.working_days)):
            per_stage.setdefault(stage, {})[days] = count
        for stage in sorted(per_stage):
            counts = per_stage[stage]
            out[stage] = (nearest_rank(counts, 0.5), nearest_rank(counts, 0.9), sum(counts.values()))
        return out

    def deadlines(self) -> dict[int, tuple[int, int, int]]:
        """Per stage, of the stage deadlines that fell in the period: (met, missed, not yet due)."""
        falls = and_(S.partnership_id == self.partnership_id, S.deadline >= self.starts, S.deadline < self.ends)
        missed = or_(S.missed.is_(True), S.ended_at > S.deadline, and_(S.ended_at.is_(None), S.deadline < self.now))
        pending = and_(S.ended_at.is_(None), S.deadline >= self.now, S.missed.is_(False))
        out: dict[int, list[int]] = {}
        rows = self.session.execute(
            select(S.stage, func.sum(_case(missed)), func.sum(_case(pending)), func.count()).where(falls)
            .group_by(S.stage)).all()
        for stage, missed_count, pending_count, count in rows:
            missed_count, pending_count = int(missed_count or 0), int(pending_count or 0)
            out[stage] = [count - missed_count - pending_count, missed_count, pending_count]
        return {stage: tuple(values) for stage, values in out.items()}


def _case(condition):
    return case((condition, 1), else_=0)


def _pair(current: dict, previous: dict, labels: dict | None = None, order: list | None = None) -> list[list[Any]]:
    keys = order if order is not None else sorted(set(current) | set(previous), key=lambda k: (k is None, str(k)))
    return [[(labels or {}).get(k, k), current.get(k, 0), previous.get(k, 0)] for k in keys]


def report(session: Session, partnership: Partnership, period: Period, calendar: WorkingCalendar,
           now: datetime) -> Report:
    """Every figure of the period, each beside the previous period's."""
    version = session.get(ProcedureVersion, partnership.current_version_id) if partnership.current_version_id \
        else None
    meta = version.meta if version else {}
    word = meta.get("stage_word", "stage")
    previous = period.previous()
    this, before = (_Counter(session, partnership.id, p, now, calendar) for p in (period, previous))
    agencies = dict(session.execute(select(Agency.id, Agency.name)
                                    .where(Agency.partnership_id == partnership.id)).all())
    columns = ["", period.label, previous.label]
    result = Report(partnership.name, period, previous, word)
    add = result.tables.append

    totals_now, totals_before = this.totals(), before.totals()
    add(Table("totals", "Challenges raised and closed", columns,
              [[k, totals_now[k], totals_before[k]] for k in totals_now]))

    def stage_label(n):
        return f"{word.capitalize()} {n}"
    reached = (this.closed_by(F.stage_reached), before.closed_by(F.stage_reached))
    add(Table("stages", f"Closed challenges by the {word} they reached", columns,
              _pair(*reached, labels={n: stage_label(n) for n in set(reached[0]) | set(reached[1])})))

    grid: dict[tuple[int, int], int] = {}
    for raising, receiving, _, _, count in this.raised:
        grid[raising, receiving] = grid.get((raising, receiving), 0) + count
    receivers = sorted({c for _, c in grid}, key=lambda a: agencies.get(a, ""))
    raisers = sorted({r for r, _ in grid}, key=lambda a: agencies.get(a, ""))
    add(Table("matrix", "Who challenged whom (raised in the period)",
              ["Raising agency \\ receiving agency", *(agencies.get(a, str(a)) for a in receivers), "Total"],
              [[agencies.get(r, str(r)), *(grid.get((r, c), 0) for c in receivers),
                sum(grid.get((r, c), 0) for c in receivers)] for r in raisers], chart="matrix"))

    add(Table("areas", "Areas of challenge (raised in the period)", columns,
              _pair(this.raised_by(F.area), before.raised_by(F.area), area_labels())))

    outcomes = (this.closed_by(F.outcome), before.closed_by(F.outcome))
    add(Table("outcomes", "Outcomes (closed in the period)", columns,
              _pair(*outcomes, labels={k: outcome_label(k, meta.get("outcome_labels")) for k in
                                       set(outcomes[0]) | set(outcomes[1])})))

    add(Table("satisfaction", "Were those involved satisfied with the outcome? (closed in the period)", columns,
              _pair(this.closed_by(F.satisfied), before.closed_by(F.satisfied),
                    SATISFIED_LABELS, order=["yes", "partly", "no", None])))

    referred = (this.closed_by(F.referred_to_partnership), before.closed_by(F.referred_to_partnership))
    add(Table("referred", "Referred to the partnership (closed in the period)", columns,
              [[label, referred[0].get(value, 0), referred[1].get(value, 0)]
               for value, label in ((True, "Referred"), (False, "Not referred"))]))

    times_now, times_before = this.resolution(), before.resolution()
    rows = []
    overall = "All closed challenges"
    for key in [overall, *sorted(k for k in set(times_now) | set(times_before) if k != overall)]:
        now_m, now_p, now_n = times_now.get(key, (None, None, 0))
        was_m, was_p, was_n = times_before.get(key, (None, None, 0))
        rows.append([key if isinstance(key, str) else stage_label(key), now_m, now_p, now_n, was_m, was_p, was_n])
    add(Table("resolution", "Working days to resolution: median and 90th percentile",
              ["", "Median", "90th percentile", "How many", "Median before", "90th percentile before",
               "How many before"], rows,
              note=f"Overall from raised to closed; per {word}, from its start to its end, for {word}s that ended "
                   "in the period.", chart="medians"))

    deadlines_now, deadlines_before = this.deadlines(), before.deadlines()
    add(Table("deadlines", f"Deadlines met and missed per {word}",
              ["", "Met", "Missed", "Not yet due", "Met before", "Missed before"],
              [[stage_label(stage), *deadlines_now.get(stage, (0, 0, 0)),
                *deadlines_before.get(stage, (0, 0, 0))[:2]]
               for stage in sorted(set(deadlines_now) | set(deadlines_before))],
              note=f"A {word}'s deadline is the latest of its tasks'; counted in the period it fell in.",
              chart="deadlines"))

    ages_now, ages_before = this.ages(), before.ages()
    add(Table("ages", "Open challenges by age (at the end of the period)", columns,
              [[label, ages_now[label], ages_before[label]] for _, _, label in AGE_BANDS]))

    if set(meta.get("covers", ["child"])) >= {"child", "adult"}:
        add(Table("subjects", "Children and adults (raised in the period)", columns,
                  _pair(this.raised_by(F.subject_kind), before.raised_by(F.subject_kind),
                        {"child": "Children and young people", "adult": "Adults"}, order=["child", "adult"])))
    return result
