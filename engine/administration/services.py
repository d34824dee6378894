"""The administration services: each validates, changes, writes its `changes` record and commits once (one
unit of work). Bad input raises `Invalid` with a message per field and changes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases.claims import release_within
from ..clock import Clock
from ..errors import Conflict, Invalid, NotFound
from ..models import Agency, Membership, Partnership, Role, User
from ..passwords import hash_password, random_password
from ..signin import end_sessions, revoke_tokens_of
from ..text import storable
from ..unit_of_work import unit_of_work
from . import changes
from .rights import ADMINISTRATOR

NATIONS = ("england-wales", "scotland", "northern-ireland")
# Roles the product itself gives a meaning to: every partnership has them from the start.
PRODUCT_ROLES = {
    ADMINISTRATOR: "Partnership administrator (agencies, roles, people, sign-in)",
    "business_unit": "Partnership business unit",
    "auditor": "Auditor (reads every case of the partnership, changes nothing)",
}
AGENCY_KINDS = ("children_social_care", "adult_social_care", "police", "health", "school", "education",
                "probation", "housing", "third_sector", "business_unit", "other")
# No password can match this: an account made for single sign-on, or waiting for its one-time password.
NO_PASSWORD = "!"

_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$")
_ROLE_KEY = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(errors: dict[str, str], field: str, value: str, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        errors[field] = f"Give {what}."
    elif len(value) > limit:
        errors[field] = f"{what[0].upper()}{what[1:]} can be at most {limit} characters."
    elif not storable(value):
        errors[field] = "This contains characters that cannot be kept."
    return value


def _refuse(errors: dict[str, str]) -> None:
    if errors:
        raise Invalid(errors, next(iter(errors.values())) if len(errors) == 1 else "Some answers need correcting.")


def create_partnership(session: Session, clock: Clock, actor: User | None, slug: str, name: str,
                       nation: str = "england-wales", body_name: str = "") -> Partnership:
    """A new partnership with its own body (the business unit its partnership lanes resolve to) and the
    product's roles. Commits."""
    errors: dict[str, str] = {}
    slug = (slug or "").strip().lower()
    if not _SLUG.match(slug):
        errors["slug"] = "A short name is 2 to 40 lower-case letters, digits and hyphens, starting with a letter."
    name = _text(errors, "name", name, "the partnership's name", 200)
    if nation not in NATIONS:
        errors["nation"] = "Choose England and Wales, Scotland or Northern Ireland."
    body_name = (body_name or "").strip() or f"{name} Business Unit"
    if "slug" not in errors and session.scalar(select(Partnership.id).where(Partnership.slug == slug)):
        errors["slug"] = f"There is already a partnership {slug!r}."
    _refuse(errors)
    with unit_of_work(session) as work:
        partnership = Partnership(slug=slug, name=name, nation=nation, passwords_allowed=True)
        session.add(partnership)
        session.flush()
        session.add(Agency(partnership_id=partnership.id, name=body_name[:200], kind="business_unit",
                           is_partnership_body=True))
        for key, label in PRODUCT_ROLES.items():
            session.add(Role(partnership_id=partnership.id, key=key, label=label))
        changes.write(session, clock, partnership.id, actor,
                      changes.PartnershipCreated({"slug": slug, "name": name, "nation": nation}))
        work.commit()
        return partnership


def partnership_body(session: Session, partnership: Partnership) -> Agency:
    body = session.scalar(select(Agency).where(Agency.partnership_id == partnership.id,
                                               Agency.is_partnership_body.is_(True)).order_by(Agency.id).limit(1))
    if body is None:
        raise NotFound(f"{partnership.name} has no partnership body (business unit).")
    return body


def add_agency(session: Session, clock: Clock, actor: User | None, partnership: Partnership, name: str,
               kind: str) -> Agency:
    errors: dict[str, str] = {}
    name = _text(errors, "name", name, "the agency's name", 200)
    if kind not in AGENCY_KINDS:
        errors["kind"] = "Choose the kind of agency."
    if "name" not in errors and session.scalar(select(Agency.id).where(Agency.partnership_id == partnership.id,
                                                                       Agency.name == name)):
        errors["name"] = f"{partnership.name} already has an agency called {name!r}."
    _refuse(errors)
    with unit_of_work(session) as work:
        agency = Agency(partnership_id=partnership.id, name=name, kind=kind, is_partnership_body=False)
        session.add(agency)
        changes.write(session, clock, partnership.id, actor, changes.AgencyAdded({"agency": name, "kind": kind}))
        work.commit()
        return agency


def add_role(session: Session, clock: Clock, actor: User | None, partnership: Partnership, key: str,
             label: str) -> Role:
    errors: dict[str, str] = {}
    key = (key or "").strip()
    if not _ROLE_KEY.match(key):
        errors["key"] = ("A role's key is 2 to 60 lower-case letters, digits and underscores, starting with a "
                         "letter (it is what the procedure's lanes.json names).")
    label = _text(errors, "label", label, "the role's name", 200)
    if "key" not in errors and session.scalar(select(Role.id).where(Role.partnership_id == partnership.id,
                                                                    Role.key == key)):
        errors["key"] = f"{partnership.name} already has the role {key!r}."
    _refuse(errors)
    with unit_of_work(session) as work:
        role = Role(partnership_id=partnership.id, key=key, label=label)
        session.add(role)
        changes.write(session, clock, partnership.id, actor, changes.RoleAdded({"key": key, "role": label}))
        work.commit()
        return role


def roles_of(session: Session, partnership: Partnership) -> list[Role]:
    return list(session.scalars(select(Role).where(Role.partnership_id == partnership.id).order_by(Role.label)))


def _agency_of(session: Session, partnership: Partnership, agency_id: int | str | None) -> Agency | None:
    try:
        agency = session.get(Agency, int(agency_id)) if agency_id not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return agency if agency is not None and agency.partnership_id == partnership.id else None


def _role_keys(session: Session, partnership: Partnership) -> set[str]:
    return set(session.scalars(select(Role.key).where(Role.partnership_id == partnership.id)))


@dataclass(frozen=True)
class NewPerson:
    username: str
    display_name: str
    email: str
    agency_id: int | str | None
    role: str


def check_person(session: Session, partnership: Partnership, person: NewPerson,
                 taken: set[str] = frozenset()) -> tuple[dict[str, str], Agency | None]:
    """What is wrong with a new person (field -> message), and their agency. `taken`: usernames already
    spoken for (earlier rows of an import)."""
    errors: dict[str, str] = {}
    username = (person.username or "").strip()
    if not _USERNAME.match(username) or not storable(username):
        errors["username"] = ("A username is 2 to 80 letters, digits, dots, hyphens, underscores or @, starting "
                              "with a letter or digit.")
    elif username in taken or session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = f"The username {username!r} is taken."
    _text(errors, "display_name", person.display_name, "their name", 200)
    email = (person.email or "").strip()
    if not _EMAIL.match(email) or len(email) > 200 or not storable(email):
        errors["email"] = "Give an email address such as name@agency.gov.uk."
    agency = _agency_of(session, partnership, person.agency_id)
    if agency is None:
        errors["agency"] = "Choose one of the partnership's agencies."
    if person.role not in _role_keys(session, partnership):
        errors["role"] = "Choose one of the partnership's roles."
    return errors, agency


def new_account(session: Session, clock: Clock, actor: User | None, partnership: Partnership, person: NewPerson,
                agency: Agency, *, imported: bool) -> User:
    """The account with its one membership and their changes, in the caller's unit of work (no commit)."""
    user = User(username=person.username.strip(), display_name=person.display_name.strip(),
                email=person.email.strip(), password_hash=NO_PASSWORD, active=True)
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, agency_id=agency.id, role=person.role))
    changes.write(session, clock, partnership.id, actor, changes.PersonAdded(
        {"username": user.username, "display_name": user.display_name, "imported": imported}))
    changes.write(session, clock, partnership.id, actor, changes.MembershipAdded(
        {"username": user.username, "agency": agency.name, "role": person.role}))
    return user


def add_person(session: Session, clock: Clock, actor: User | None, partnership: Partnership,
               person: NewPerson) -> User:
    """A new account holding one role in one agency; it has no password until an administrator gives it a
    one-time one (or its partnership's identity provider signs it in). Commits."""
    errors, agency = check_person(session, partnership, person)
    _refuse(errors)
    with unit_of_work(session) as work:
        user = new_account(session, clock, actor, partnership, person, agency, imported=False)
        work.commit()
        return user


def change_person(session: Session, clock: Clock, actor: User | None, partnership: Partnership, user: User,
                  display_name: str, email: str) -> None:
    """Correct someone's name (and job title) or email. Commits."""
    errors: dict[str, str] = {}
    display_name = _text(errors, "display_name", display_name, "their name", 200)
    email = (email or "").strip()
    if not _EMAIL.match(email) or len(email) > 200 or not storable(email):
        errors["email"] = "Give an email address such as name@agency.gov.uk."
    _refuse(errors)
    _ours_alone(session, actor, partnership, user)
    with unit_of_work(session) as work:
        user.display_name, user.email = display_name, email
        changes.write(session, clock, partnership.id, actor, changes.PersonChanged(
            {"username": user.username, "display_name": display_name, "email": email}))
        work.commit()


def add_membership(session: Session, clock: Clock, actor: User | None, partnership: Partnership, user: User,
                   agency_id: int | str | None, role: str) -> Membership:
    errors: dict[str, str] = {}
    agency = _agency_of(session, partnership, agency_id)
    if agency is None:
        errors["agency"] = "Choose one of the partnership's agencies."
    if role not in _role_keys(session, partnership):
        errors["role"] = "Choose one of the partnership's roles."
    if not errors and any(m.agency_id == agency.id and m.role == role for m in user.memberships):
        errors["role"] = f"{user.display_name} already holds that role in {agency.name}."
    _refuse(errors)
    with unit_of_work(session) as work:
        membership = Membership(user_id=user.id, agency_id=agency.id, role=role)
        session.add(membership)
        changes.write(session, clock, partnership.id, actor, changes.MembershipAdded(
            {"username": user.username, "agency": agency.name, "role": role}))
        work.commit()
        return membership


def remove_membership(session: Session, clock: Clock, actor: User | None, partnership: Partnership, user: User,
                      membership_id: int) -> None:
    """Take a role away. A person keeps at least one role in the partnership: to stop someone, deactivate
    them."""
    membership = next((m for m in user.memberships if m.id == membership_id
                       and m.agency.partnership_id == partnership.id), None)
    if membership is None:
        raise NotFound("There is no such role of this person.")
    if sum(1 for m in user.memberships if m.agency.partnership_id == partnership.id) == 1:
        raise Conflict("This is their only role in the partnership: give them another first, or deactivate them "
                       "if they left.")
    with unit_of_work(session) as work:
        data = {"username": user.username, "agency": membership.agency.name, "role": membership.role}
        session.delete(membership)
        changes.write(session, clock, partnership.id, actor, changes.MembershipRemoved(data))
        work.commit()


def _ours_alone(session: Session, actor: User | None, partnership: Partnership, user: User) -> None:
    """An account that also belongs to another partnership is not one partnership's to switch off or give a
    password to: a system administrator (or the commands) may."""
    others = {m.agency.partnership.name for m in user.memberships if m.agency.partnership_id != partnership.id}
    if others and actor is not None and not actor.is_system_administrator:
        raise Conflict(f"{user.display_name} also belongs to {', '.join(sorted(others))}: ask a system "
                       "administrator.")


def deactivate(session: Session, clock: Clock, actor: User | None, partnership: Partnership, user: User) -> int:
    """Someone left: they can no longer sign in, their sessions end, and every open task they had claimed is
    released (its challenge's history says so) for the holders of its lane to claim. Returns how many tasks were
    released. Commits."""
    if actor is not None and actor.id == user.id:
        raise Conflict("You cannot deactivate your own account; ask another administrator.")
    if not user.active:
        raise Conflict(f"{user.display_name} is already deactivated.")
    _ours_alone(session, actor, partnership, user)
    with unit_of_work(session) as work:
        released = release_within(session, clock, user, "their account was deactivated", actor)
        user.active = False
        end_sessions(session, clock, user, "deactivated")
        revoke_tokens_of(session, clock, user)
        changes.write(session, clock, partnership.id, actor, changes.PersonDeactivated(
            {"username": user.username, "released_tasks": [t.id for t in released]}))
        work.commit()
        session.expire_all()
        return len(released)


def reactivate(session: Session, clock: Clock, actor: User | None, partnership: Partnership, user: User) -> None:
    if user.active:
        raise Conflict(f"{user.display_name} is already active.")
    _ours_alone(session, actor, partnership, user)
    with unit_of_work(session) as work:
        user.active = True
        changes.write(session, clock, partnership.id, actor, changes.PersonReactivated({"username": user.username}))
        work.commit()


def give_one_time_password(session: Session, clock: Clock, actor: User | None, partnership: Partnership,
                           user: User) -> str:
    """A new random password (returned, to hand over once) that they must change at their next login; their
    sessions end. Refused where the partnership signs its people in through its identity provider only."""
    if not partnership.passwords_allowed:
        raise Conflict(f"{partnership.name} signs its people in through its identity provider: local passwords "
                       "are turned off.")
    _ours_alone(session, actor, partnership, user)
    with unit_of_work(session) as work:
        password = random_password()
        user.password_hash = hash_password(password)
        user.must_change_password = True
        end_sessions(session, clock, user, "password")
        revoke_tokens_of(session, clock, user)
        changes.write(session, clock, partnership.id, actor, changes.OneTimePasswordSet({"username": user.username}))
        work.commit()
        return password


# Shorter than a year would erase cases the partnership's own reviews still need; 25 years is the longest that
# safeguarding records are usually kept.
RETENTION_DAYS = (365, 25 * 366)


def set_retention(session: Session, clock: Clock, actor: User | None, partnership: Partnership, days: str) -> None:
    """How many days after a challenge closes its personal content is erased (engine.retention); empty: not set.
    Commits."""
    days = (days or "").strip()
    low, high = RETENTION_DAYS
    if days and not (days.isascii() and days.isdigit() and len(days) <= 6 and low <= int(days) <= high):
        raise Invalid({"retention_days": f"Give a whole number of days from {low} to {high}, or leave it empty."})
    with unit_of_work(session) as work:
        partnership.retention_days = int(days) if days else None
        changes.write(session, clock, partnership.id, actor,
                      changes.RetentionChanged({"retention_days": partnership.retention_days}))
        work.commit()
