"""One email a day instead of one per notice, for those who choose it: police-practitioner chooses the daily
digest at 08:00 on Friday 18 December 2026, 15:00; two challenges are raised against Durham Constabulary (the
second about a child at significant risk on a Child Protection Plan). Nothing is mailed to them one by one; at
08:00 on Saturday one email lists both challenges' notices, the newest first, over real SMTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.cases.raising import raise_challenge
from engine.cases.worker import TimerWorker
from engine.digests import send_digests, set_notice_email
from engine.errors import Invalid
from engine.models import Notification
from engine.notifications import deliver_pending
from engine.queries.inbox import notice_groups
from tests.conftest import raise_answers
from tests.engine.test_email import smtp_server  # noqa: F401 (the local SMTP server fixture)
from tests.walk import at


def text(message) -> str:
    return message.get_payload(decode=True).decode().replace("\r\n", "\n")


def to(inbox, address: str) -> list:
    return [message for recipients, message in inbox.messages if address in recipients]


@pytest.fixture
def two_challenges(session, clock, user, agency):
    police = user("police-practitioner")
    set_notice_email(session, clock, police, "daily", "08:00")
    assert police.digest_due_at == at(2026, 12, 19, 8)
    first = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    clock.set(at(2026, 12, 18, 16))
    second = raise_challenge(session, clock, user("school-practitioner"), raise_answers(
        agency("Durham").id, subject_reference="CH-2001", significant_risk=True, cp_or_lac="child_protection_plan"))
    return police, first, second


def test_a_digest_lists_the_days_notices_in_one_email_and_none_is_sent_on_its_own(session, clock, two_challenges,
                                                                                  smtp_server):  # noqa: F811
    inbox, smtp = smtp_server
    police, first, second = two_challenges
    assert deliver_pending(session, clock, smtp) == (0, 0)  # theirs wait for the digest
    assert send_digests(session, clock, smtp) == 0  # not due before 08:00 tomorrow
    clock.set(at(2026, 12, 19, 7, 59))
    assert send_digests(session, clock, smtp) == 0
    assert to(inbox, police.email) == []

    clock.set(at(2026, 12, 19, 8))
    assert send_digests(session, clock, smtp) == 1
    [message] = to(inbox, police.email)
    assert message["Subject"] == "Your daily digest: 2 notices, 1 at risk"
    body = text(message)
    # Grouped by challenge, the newest first, the case at risk marked.
    newest = body.index(f"{second.reference} - case CH-2001 [SIGNIFICANT RISK] [CHILD PROTECTION PLAN]")
    older = body.index(f"{first.reference} - case CH-1042\n")
    assert newest < older
    assert f"Friday 18 December 2026, 16:00: {second.reference}: new task - Stage 1: respond to the challenge" in body
    assert "2 notices about 2 challenges" in body
    rows = session.scalars(select(Notification).where(Notification.user_id == police.id)).all()
    assert {(row.email_status, row.sent_at) for row in rows} == {("digested", at(2026, 12, 19, 8))}
    session.refresh(police)
    assert police.digest_due_at == at(2026, 12, 20, 8)

    # Nothing sent twice; the in-app notifications are as they were (unread, grouped).
    assert deliver_pending(session, clock, smtp) == (0, 0)
    assert send_digests(session, clock, smtp) == 0
    groups = notice_groups(session, police)
    assert [g.challenge.id for g in groups] == [second.id, first.id] and all(g.unread == 1 for g in groups)
    assert len(to(inbox, police.email)) == 1


def test_a_day_with_no_notice_sends_nothing_and_after_downtime_one_digest_comes(session, clock, sessions, user,
                                                                                 agency, two_challenges,
                                                                                 smtp_server):  # noqa: F811
    inbox, smtp = smtp_server
    police, *_ = two_challenges
    worker = TimerWorker(sessions, clock, smtp, mail_every=0)
    clock.set(at(2026, 12, 19, 8))
    worker.tick()
    assert len(to(inbox, police.email)) == 1
    clock.set(at(2026, 12, 20, 8))
    worker.tick()
    assert len(to(inbox, police.email)) == 1  # Sunday: nothing new, nothing sent
    # A third challenge on Sunday afternoon; then the worker is down until Wednesday 23 December, 10:00.
    clock.set(at(2026, 12, 20, 15))
    third = raise_challenge(session, clock, user("health-practitioner"),
                            raise_answers(agency("Durham").id, subject_reference="CH-3003"))
    clock.set(at(2026, 12, 23, 10))
    while worker.tick():
        pass
    worker.tick()
    digests = to(inbox, police.email)
    assert len(digests) == 2  # one digest, not one per day missed
    body = text(digests[-1])
    # Everything since Saturday's: the third challenge's new task, and the three stage 1 deadlines that passed on
    # Monday while the worker was down (caught up before the digest went).
    assert "4 notices about 3 challenges" in body
    assert body.index(f"{third.reference} - case CH-3003") < body.index("DAR-2026-00002 - case CH-2001")
    assert body.count("stage 1 deadline missed, now at stage 2") == 3
    assert f"Sunday 20 December 2026, 15:00: {third.reference}: new task" in body
    session.expire_all()
    assert session.get(type(police), police.id).digest_due_at == at(2026, 12, 24, 8)


def test_choosing_each_notice_again_mails_what_waited_one_by_one(session, clock, two_challenges,
                                                                 smtp_server):  # noqa: F811
    inbox, smtp = smtp_server
    police, *_ = two_challenges
    set_notice_email(session, clock, police, "each", None)
    assert police.digest_due_at is None
    assert deliver_pending(session, clock, smtp) == (2, 0)
    assert len(to(inbox, police.email)) == 2


def test_a_choice_the_page_does_not_offer_is_refused_and_changes_nothing(session, clock, user):
    police = user("police-practitioner")
    with pytest.raises(Invalid) as refused:
        set_notice_email(session, clock, police, "weekly", "08:00")
    assert "notice_email" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        set_notice_email(session, clock, police, "daily", "08:30")
    assert "digest_time" in refused.value.errors
    session.expire_all()
    assert (police.notice_email, police.digest_due_at) == ("each", None)


def test_the_deliver_mail_command_sends_the_digests_due(app, session, clock, two_challenges,
                                                        smtp_server):  # noqa: F811
    inbox, smtp = smtp_server
    police, *_ = two_challenges
    app.config.update(SMTP_HOST=smtp.host, SMTP_PORT=smtp.port, SMTP_STARTTLS="off")
    clock.set(at(2026, 12, 19, 8))
    result = app.test_cli_runner().invoke(args=["deliver-mail"])
    assert result.exit_code == 0 and "1 daily digest(s) sent" in result.output, result.output
    assert len(to(inbox, police.email)) == 1
