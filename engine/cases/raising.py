"""Raising a challenge: from one of the user's agencies against another agency of the same partnership, on the
partnership's current procedure version, started in one transaction with its first tasks, events and outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events, forms
from ..calendar import WorkingCalendar
from ..clock import Clock
from ..errors import Forbidden, Invalid, NotFound
from ..models import Agency, Challenge, Membership, Partnership, User
from ..procedures.files import raise_form
from ..procedures.versions import current_version
from ..unit_of_work import unit_of_work
from . import step
from .writer import Writer, partnership_calendar

RAISED_AT_AHEAD = timedelta(days=366)
RAISED_AT_BEHIND = timedelta(days=366)
LARGEST_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL

MASH_ADVICE = (
    "If a child or adult is at significant risk of harm now, contact the Multi-Agency Safeguarding Hub (MASH) "
    "or the police first. Raising a professional challenge does not replace a safeguarding referral."
)


def is_id(value: object) -> bool:
    """Whether `value` can be one of our ids (a larger number would overflow the database's integer)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= LARGEST_ID


def raising_agencies(session: Session, user: User, partnership_id: int | None = None) -> list[Agency]:
    """The agencies a user can raise a challenge from: where they hold any role, outside partnership bodies."""
    query = (
        select(Agency)
        .join(Membership, Membership.agency_id == Agency.id)
        .where(Membership.user_id == user.id, Agency.is_partnership_body.is_(False))
        .distinct()
        .order_by(Agency.name)
    )
    if partnership_id is not None:
        query = query.where(Agency.partnership_id == partnership_id)
    return list(session.scalars(query))


def receiving_agencies(session: Session, partnership_id: int, excluding: int | None = None) -> list[Agency]:
    query = select(Agency).where(Agency.partnership_id == partnership_id, Agency.is_partnership_body.is_(False))
    if excluding is not None:
        query = query.where(Agency.id != excluding)
    return list(session.scalars(query.order_by(Agency.name)))


def _raised_at_problem(raised_at: datetime, now: datetime) -> str | None:
    if raised_at.tzinfo is None:
        return "Give a time zone, for example 2026-12-18T15:00:00Z."
    if raised_at > now + RAISED_AT_AHEAD:
        # Integrations (and acceptance checks) record challenges raised at a given moment, which may be ahead of
        # this server's clock; deadlines count from it all the same. A year is the sane bound.
        return "raised_at can be at most a year ahead of now."
    if raised_at < now - RAISED_AT_BEHIND:
        return "raised_at can be at most a year in the past."
    return None


CHALLENGED_FIELDS = ("challenged_role", "challenged_name", "challenged_team", "challenged_contact")


def counts_from_concern(meta: dict[str, Any]) -> bool:
    """Whether the procedure counts its deadlines from the day the concern was first raised (procedure.json's
    deadlines_from), rather than from the day the challenge is raised."""
    return meta.get("deadlines_from") == "concern_first_raised"


def concern_date_hint(meta: dict[str, Any]) -> str:
    """What the raise form says under "When was the concern first raised?" for this procedure."""
    if counts_from_concern(meta):
        return ("Your partnership's procedure counts its days from this date: it is day 1. Leave it empty if the "
                "concern is raised today. If a stage's end day has already passed, the challenge starts at the "
                "stage the procedure's timetable has reached, and everyone involved is told.")
    return "Recorded with the challenge. Deadlines count from the day the challenge is raised, not from this date."


def deadlines_from(calendar: WorkingCalendar, meta: dict[str, Any], moment: datetime,
                   concern_first_raised: str | None) -> datetime:
    """The moment the case's deadlines count from: the start of the day the concern was first raised (in the
    partnership's time) where the procedure says so and that day is before the day of raising, else the moment
    the challenge is raised."""
    if not counts_from_concern(meta) or not concern_first_raised:
        return moment
    day = date.fromisoformat(concern_first_raised)
    if day >= calendar.local_day(moment):
        return moment
    return datetime.combine(day, time(0), tzinfo=calendar.zone).astimezone(UTC)


def raise_challenge(session: Session, clock: Clock, user: User, answers: dict[str, Any],
                    raised_at: datetime | None = None) -> Challenge:
    """Raise a challenge from the user's agency against another agency of the same partnership."""
    now = clock.now()
    answers = dict(answers)
    errors: dict[str, str] = {}
    mine = raising_agencies(session, user)
    if not mine:
        raise Forbidden("You hold no role in an agency, so you cannot raise a challenge.")
    if answers.get("raising_agency_id") is None and len(mine) == 1:
        answers["raising_agency_id"] = mine[0].id
    # A Child Protection Plan or being Looked After is a child's: for an adult the question is not asked.
    if answers.get("subject_kind") == "adult":
        if answers.get("cp_or_lac") in (None, "neither"):
            answers["cp_or_lac"] = "neither"
        else:
            errors["cp_or_lac"] = "A Child Protection Plan or being Looked After applies to a child, not an adult."
    try:
        # Every UK partnership shares London's date, so "not in the future" needs no partnership yet.
        forms.validate(raise_form(), answers, today=WorkingCalendar().local_day(now))
    except Invalid as exc:
        errors.update(exc.errors)
    raising = next((a for a in mine if a.id == answers.get("raising_agency_id")), None) \
        if is_id(answers.get("raising_agency_id")) else None  # 1.0 == 1, but 1.0 is not an id
    if raising is None and "raising_agency_id" not in errors:
        errors["raising_agency_id"] = "Choose one of your own agencies."
    receiving = session.get(Agency, answers["receiving_agency_id"]) if is_id(answers.get("receiving_agency_id")) \
        else None
    if "receiving_agency_id" not in errors:
        if receiving is None or receiving.is_partnership_body or (
                raising is not None and receiving.partnership_id != raising.partnership_id):
            errors["receiving_agency_id"] = "Choose an agency of your partnership."
        elif raising is not None and receiving.id == raising.id:
            errors["receiving_agency_id"] = "A professional challenge is made to another agency, not your own."
    problem = _raised_at_problem(raised_at, now) if raised_at is not None else None
    if problem:
        errors["raised_at"] = problem
    role = answers.get("challenged_role")
    if isinstance(role, str) and not role.strip() and "challenged_role" not in errors:
        errors["challenged_role"] = "This answer is required."
    concern = answers.get("concern_first_raised")
    if isinstance(concern, str) and "concern_first_raised" not in errors and not problem:
        if date.fromisoformat(concern) > WorkingCalendar().local_day(raised_at or now):
            errors["concern_first_raised"] = "The concern cannot have been first raised after the challenge."
    if errors:
        raise Invalid(errors)
    moment = raised_at or now

    partnership: Partnership = raising.partnership
    version = current_version(session, partnership.id)
    if version is None:
        raise NotFound("Your partnership has no published procedure yet.")
    calendar = partnership_calendar(partnership)
    anchor = deadlines_from(calendar, version.meta, moment, answers.get("concern_first_raised"))
    challenged = {name: answers[name].strip() for name in CHALLENGED_FIELDS if isinstance(answers.get(name), str)}

    with unit_of_work(session) as work:
        challenge = Challenge(
            reference=f"pending-{uuid.uuid4()}", partnership_id=partnership.id, procedure_version_id=version.id,
            referrer_id=user.id, raising_agency_id=raising.id, receiving_agency_id=receiving.id,
            subject_reference=answers["subject_reference"].strip(), area=answers["area"], summary=answers["summary"],
            significant_risk=answers["significant_risk"], cp_or_lac=answers["cp_or_lac"], status="open",
            current_stage=0, raised_at=moment, state=b"",
        )
        # What it refers to, held by the challenge: nothing of it is read again when the challenge is shown.
        challenge.partnership, challenge.procedure_version, challenge.referrer = partnership, version, user
        challenge.raising_agency, challenge.receiving_agency = raising, receiving
        session.add(challenge)
        session.flush()
        challenge.reference = f"{partnership.slug[:3].upper()}-{moment:%Y}-{challenge.id:05d}"
        data = {
            "reference": challenge.reference, "raised_at": moment.isoformat(),
            "raising_agency": raising.name, "raising_agency_id": raising.id, "raising_agency_kind": raising.kind,
            "receiving_agency": receiving.name, "receiving_agency_id": receiving.id,
            "receiving_agency_kind": receiving.kind, "subject_kind": answers.get("subject_kind", "child"),
            "subject_reference": challenge.subject_reference, "area": challenge.area, "summary": challenge.summary,
            "cp_or_lac": answers["cp_or_lac"], "significant_risk": answers["significant_risk"],
            "concern_first_raised": answers.get("concern_first_raised"), "deadlines_from": anchor.isoformat(),
            **challenged,
        }
        details = dict(answers)
        details.update(challenged)
        details.update(reference=challenge.reference, raised_at=moment.isoformat(), raising_agency=raising.name,
                       receiving_agency=receiving.name, deadlines_from=anchor.isoformat())
        if answers["significant_risk"]:
            details["mash_advice_shown"] = MASH_ADVICE
        details["start_data"] = data  # what the case started with: its history can then re-execute it
        result = step.take(clock, challenge, version, "start", data=data, start_at=moment)
        writer = Writer(session, clock, challenge, version, actor=user)
        writer.add(events.ChallengeRaised(moment, details, actor_id=user.id))
        writer.moments(result.moments)
        writer.finish(result)
        work.commit()
    return challenge
