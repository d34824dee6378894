"""The kinds of administration change, one class per kind as engine.events declares a challenge's: a stable
name (what the administration_changes table keeps), a label for people, and what its data holds. `write` is
the one way they reach the database; `history` reads a partnership's back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..models import AdministrationChange, User


@dataclass
class Change:
    """A change an administrator made."""

    name: ClassVar[str]
    label: ClassVar[str]
    keys: ClassVar[dict[str, str]] = {}

    data: dict[str, Any] = field(default_factory=dict)


class PartnershipCreated(Change):
    """A system administrator (or the create-partnership command) created a partnership."""

    name, label = "partnership_created", "Partnership created"
    keys = {"slug": "its short name", "name": "its name", "nation": "whose bank holidays count"}


class AgencyAdded(Change):
    """An agency joined the partnership."""

    name, label = "agency_added", "Agency added"
    keys = {"agency": "its name", "kind": "its kind", "is_partnership_body": "whether it is the partnership's own body"}


class RoleAdded(Change):
    """The partnership has a new role its people can hold and its procedure's lanes can name."""

    name, label = "role_added", "Role added"
    keys = {"key": "the role's key (what lanes.json names)", "role": "its label"}


class PersonAdded(Change):
    """A member of staff was given an account (by hand or from a CSV import)."""

    name, label = "person_added", "Person added"
    keys = {"username": "their username", "display_name": "their name", "imported": "whether from a CSV import"}


class PersonChanged(Change):
    """Someone's name or email changed."""

    name, label = "person_changed", "Person's details changed"
    keys = {"username": "who", "display_name": "their name now", "email": "their email now"}


class MembershipAdded(Change):
    """Someone now holds a role in an agency."""

    name, label = "membership_added", "Role given"
    keys = {"username": "who", "agency": "the agency", "role": "the role"}


class MembershipRemoved(Change):
    """Someone no longer holds a role in an agency."""

    name, label = "membership_removed", "Role taken away"
    keys = {"username": "who", "agency": "the agency", "role": "the role"}


class PersonDeactivated(Change):
    """Someone left: their account no longer signs in, their sessions ended and their claims were released."""

    name, label = "person_deactivated", "Person deactivated"
    keys = {"username": "who", "released_tasks": "the open tasks whose claim was released"}


class PersonReactivated(Change):
    """A deactivated account may sign in again."""

    name, label = "person_reactivated", "Person reactivated"
    keys = {"username": "who"}


class OneTimePasswordSet(Change):
    """An administrator gave someone a one-time password (to change at their next login)."""

    name, label = "one_time_password_set", "One-time password given"
    keys = {"username": "who"}


class StaffImported(Change):
    """A CSV file of staff was imported: how many rows came in and which were refused."""

    name, label = "staff_imported", "Staff imported from a CSV file"
    keys = {"imported": "rows imported", "refused": "the rows refused (line numbers)"}


class SignInChanged(Change):
    """The partnership's sign-in settings changed: local passwords, its identity provider."""

    name, label = "sign_in_changed", "Sign-in settings changed"
    keys = {"passwords_allowed": "whether local passwords may be used", "issuer": "the identity provider",
            "create_users": "whether accounts are created at a first sign-in"}


class RetentionChanged(Change):
    """The partnership's retention period changed: how long after a challenge closes its personal content is
    erased."""

    name, label = "retention_changed", "Retention period changed"
    keys = {"retention_days": "days after closing (none: not set)"}


KINDS: dict[str, type[Change]] = {kind.name: kind for kind in Change.__subclasses__()}


def label(name: str) -> str:
    kind = KINDS.get(name)
    return kind.label if kind else name


def write(session: Session, clock: Clock, partnership_id: int | None, actor: User | None, change: Change) -> None:
    session.add(AdministrationChange(at=clock.now(), partnership_id=partnership_id,
                                     actor_id=actor.id if actor else None, kind=change.name, data=change.data))


def history(session: Session, partnership_id: int, limit: int = 500) -> list[AdministrationChange]:
    """The partnership's administration changes, newest first."""
    return list(session.scalars(select(AdministrationChange)
                                .where(AdministrationChange.partnership_id == partnership_id)
                                .order_by(AdministrationChange.id.desc()).limit(limit)))
