"""The demo's half year of Darlington challenges, walked once through the real procedure, gives its reports
something to count: most closed at each stage and by the partnership, some deadlines missed, a few still open."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine.cases.writer import partnership_calendar
from engine.demo_history import PATHS, walk_history
from engine.models import Challenge, ChallengeFacts, Partnership
from engine.reports.figures import report
from engine.reports.periods import Period


def test_the_demo_history_is_walked_once_and_its_reports_count_it(session, clock, demo):
    assert walk_history(session, clock) == len(PATHS)
    assert walk_history(session, clock) == 0  # once: Darlington has challenges now
    facts = list(session.scalars(select(ChallengeFacts)))
    assert len(facts) == len(PATHS)
    assert {f.stage_reached for f in facts if f.status == "closed"} == {1, 2, 3, 4, 5}
    assert sum(f.deadlines_missed > 0 for f in facts) >= 4
    assert 1 <= sum(f.status == "open" for f in facts) <= 4
    set_aside = select(func.count()).select_from(Challenge).where(Challenge.set_aside_reason.is_not(None))
    assert session.scalar(set_aside) == 0
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    half = Period("dates", date(2026, 6, 1), date(2026, 12, 31))
    got = report(session, darlington, half, partnership_calendar(darlington), clock.now())
    assert dict((row[0], row[1]) for row in got.table("totals").rows)["Raised"] == len(PATHS)
