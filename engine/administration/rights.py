"""Who administers what: a system administrator creates partnerships; a partnership's administrators (the
`partnership_administrator` role in one of its agencies) manage that partnership and no other."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Agency, Membership, Partnership, User

ADMINISTRATOR = "partnership_administrator"


def administered_partnerships(session: Session, user: User) -> list[Partnership]:
    """The partnerships the user administers (every one, for a system administrator)."""
    query = select(Partnership).order_by(Partnership.name)
    if not user.is_system_administrator:
        query = query.where(Partnership.id.in_(
            select(Agency.partnership_id).join(Membership, Membership.agency_id == Agency.id)
            .where(Membership.user_id == user.id, Membership.role == ADMINISTRATOR)))
    return list(session.scalars(query))


def is_administrator(session: Session, user: User) -> bool:
    return user.is_system_administrator or bool(session.scalar(
        select(Membership.id).where(Membership.user_id == user.id, Membership.role == ADMINISTRATOR).limit(1)))


def administered(session: Session, user: User, slug: str) -> Partnership:
    """The partnership with this slug, if the user administers it; else NotFound (so nobody learns which
    partnerships exist)."""
    for partnership in administered_partnerships(session, user):
        if partnership.slug == slug:
            return partnership
    raise NotFound("There is no such partnership among those you administer.")


def people_of(session: Session, partnership: Partnership) -> list[User]:
    """Everyone with a membership in one of the partnership's agencies, by name."""
    return list(session.scalars(
        select(User).where(User.id.in_(select(Membership.user_id).join(Agency, Agency.id == Membership.agency_id)
                                        .where(Agency.partnership_id == partnership.id)))
        .order_by(User.active.desc(), User.display_name)))


def person_of(session: Session, partnership: Partnership, user_id: int) -> User:
    """A person of the partnership (any of their memberships in it), else NotFound."""
    user = session.get(User, user_id)
    if user is None or not any(m.agency.partnership_id == partnership.id for m in user.memberships):
        raise NotFound("There is no such person in this partnership.")
    return user
