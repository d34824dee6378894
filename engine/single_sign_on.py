"""Signing in through a partnership's identity provider (OpenID Connect). The web layer speaks the protocol
(Authlib: the redirects, the code exchange, the ID token's signature, audience and nonce); this module decides
what the verified claims mean here: the token must come from the partnership's own issuer (one tenant each, as
councils and NHS trusts run Microsoft Entra ID) and not have expired on our clock; the person is matched by
issuer and subject; at their first sign-in, an account an administrator made for them (its username their
`preferred_username`) is linked, or else one is created when the partnership allows it, with the memberships its
app roles (the `roles` claim) map to. Every sign-in and refusal goes to the access log."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import access_log
from .access_log import Caller
from .administration import changes
from .administration.services import NO_PASSWORD
from .clock import Clock
from .errors import Refused
from .models import Agency, IdentityProvider, Membership, Partnership, User
from .signin import open_session
from .text import cleaned
from .unit_of_work import unit_of_work

NO_ACCOUNT = ("You signed in at your organisation, but you have no account here yet: ask your partnership's "
              "administrator.")


def _refuse(session: Session, clock: Clock, work, address: str | None, name: str, reason: str, message: str):
    access_log.log(session, clock, "login_failed", Caller(None, address), username=cleaned(name, 80),
                   detail={"via": "identity provider", "reason": reason})
    work.commit()
    raise Refused(message)


def _memberships(session: Session, partnership: Partnership, provider: IdentityProvider,
                 roles: Any) -> list[tuple[int, str]]:
    agencies = {a.name: a.id for a in session.scalars(select(Agency).where(Agency.partnership_id == partnership.id))}
    found = []
    for app_role in roles if isinstance(roles, list) else []:
        mapped = provider.role_map.get(app_role) if isinstance(app_role, str) else None
        if mapped and mapped[0] in agencies and (agencies[mapped[0]], mapped[1]) not in found:
            found.append((agencies[mapped[0]], mapped[1]))
    return found


def _username(session: Session, claims: dict[str, Any], partnership: Partnership) -> str:
    for candidate in (claims.get("preferred_username"), claims.get("email")):
        if isinstance(candidate, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,79}", candidate) and \
                session.scalar(select(User.id).where(User.username == candidate)) is None:
            return candidate
    number = 1
    while session.scalar(select(User.id).where(User.username == f"{partnership.slug}-sso-{number}")):
        number += 1
    return f"{partnership.slug}-sso-{number}"


def _account_to_link(session: Session, partnership: Partnership, claims: dict[str, Any]) -> User | None:
    """At a person's first sign-in, the account an administrator already made for them: one of this partnership's
    with no identity yet whose username is the token's `preferred_username` (in Entra ID the user principal name,
    which the partnership's own tenant assigns; never the unverified `email` claim)."""
    name = claims.get("preferred_username")
    if not isinstance(name, str) or not name:
        return None
    user = session.scalar(select(User).where(User.username == name, User.oidc_subject.is_(None)))
    if user is None or not any(m.agency.partnership_id == partnership.id for m in user.memberships):
        return None
    return user


def sign_in(session: Session, clock: Clock, partnership: Partnership, provider: IdentityProvider,
            claims: dict[str, Any], address: str | None) -> tuple[User, str]:
    """The user the verified ID token's claims name, with a new session's key. Refuses (and logs) a token of
    another issuer, one expired on our clock, and a person with no account where accounts are not created at a
    first sign-in. Commits."""
    with unit_of_work(session) as work:
        subject, issuer = claims.get("sub"), claims.get("iss")
        name = str(claims.get("preferred_username") or claims.get("email") or subject or "")
        if issuer != provider.issuer:
            _refuse(session, clock, work, address, name, "wrong issuer",
                    "That sign-in came from another organisation's identity provider, not your partnership's.")
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or datetime.fromtimestamp(expires, UTC) <= clock.now():
            _refuse(session, clock, work, address, name, "expired", "That sign-in has expired: sign in again.")
        if not isinstance(subject, str) or not subject or len(subject) > 300:
            _refuse(session, clock, work, address, name, "no subject", "That sign-in did not say who you are.")
        user = session.scalar(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject))
        if user is None:
            user = _account_to_link(session, partnership, claims)
            if user is not None:
                user.oidc_issuer, user.oidc_subject = issuer, subject
        if user is None:
            memberships = _memberships(session, partnership, provider, claims.get("roles"))
            if not provider.create_users or not memberships:
                _refuse(session, clock, work, address, name, "no account", NO_ACCOUNT)
            user = User(username=_username(session, claims, partnership),
                        display_name=cleaned(str(claims.get("name") or name), 200),
                        email=cleaned(str(claims.get("email") or ""), 200), password_hash=NO_PASSWORD, active=True,
                        oidc_issuer=issuer, oidc_subject=subject)
            session.add(user)
            session.flush()
            for agency_id, role in memberships:
                session.add(Membership(user_id=user.id, agency_id=agency_id, role=role))
            changes.write(session, clock, partnership.id, None, changes.PersonAdded(
                {"username": user.username, "display_name": user.display_name, "imported": False,
                 "first_sign_in": issuer, "roles": [role for _, role in memberships]}))
        elif not any(m.agency.partnership_id == partnership.id for m in user.memberships):
            _refuse(session, clock, work, address, name, "other partnership", NO_ACCOUNT)
        elif not user.active:
            _refuse(session, clock, work, address, name, "deactivated", "Your account here is no longer active.")
        key = open_session(session, clock, user, address)
        access_log.log(session, clock, "login", Caller(user, address), detail={"via": issuer})
        work.commit()
        return user, key
