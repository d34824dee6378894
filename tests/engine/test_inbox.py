"""Notifications as a person reads them: grouped by challenge with the newest group first, a few newest notices
per group and a count of earlier ones, paged by group, narrowed to the unread or to cases at risk."""

from __future__ import annotations

import pytest

from engine.cases.raising import raise_challenge
from engine.models import Notification
from engine.notifications import mark_read
from engine.queries import inbox
from tests.conftest import raise_answers


@pytest.fixture
def police(agency):
    return agency("Durham")


def _notify(session, challenge, user, count: int, clock) -> None:
    for n in range(count):
        session.add(Notification(challenge_id=challenge.id, user_id=user.id, email=user.email,
                                 subject=f"{challenge.reference}: notice {n}", body="...", created_at=clock.now(),
                                 email_status="sent", attempts=1))
    session.commit()


def test_notices_are_grouped_by_challenge_newest_group_first_and_paged(session, clock, user, police):
    officer = user("police-practitioner")
    referrer = user("csc-practitioner")
    first = raise_challenge(session, clock, referrer, raise_answers(police.id, subject_reference="CH-A"))
    second = raise_challenge(session, clock, referrer, raise_answers(police.id, subject_reference="CH-B",
                                                                      significant_risk=True))
    _notify(session, first, officer, 7, clock)  # after the second's "new task": the first is newest now
    groups = inbox.notice_groups(session, officer)
    assert [g.challenge.subject_reference for g in groups] == ["CH-A", "CH-B"]
    assert (groups[0].total, len(groups[0].notices), groups[0].earlier, groups[0].unread) == (8, 5, 3, 8)
    assert groups[0].notices[0].subject.endswith("notice 6")  # newest first within the group
    assert [g.challenge.subject_reference for g in inbox.notice_groups(session, officer, limit=1, offset=1)] == [
        "CH-B"]
    assert [g.challenge.subject_reference for g in inbox.notice_groups(session, officer, at_risk_only=True)] == [
        "CH-B"]

    mark_read(session, clock, officer)
    assert inbox.notice_groups(session, officer, unread_only=True) == []
    _notify(session, second, officer, 1, clock)
    [unread] = inbox.notice_groups(session, officer, unread_only=True)
    assert (unread.challenge.subject_reference, unread.total, unread.unread) == ("CH-B", 1, 1)
    assert inbox.notice_groups(session, user("health-practitioner")) == []
