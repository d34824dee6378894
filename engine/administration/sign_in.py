"""How a partnership's people sign in: with local passwords (which can be turned off), and through its
identity provider (OpenID Connect, one tenant per partnership), whose app roles say what a person created at
their first sign-in holds here. The role map is written one app role a line: `app role, agency name, role key`."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..errors import Invalid
from ..models import Agency, IdentityProvider, Partnership, Role, User
from ..text import storable
from ..unit_of_work import unit_of_work
from . import changes
from .secrets_box import SecretBox


@dataclass(frozen=True)
class SignInSettings:
    passwords_allowed: bool
    issuer: str = ""
    client_id: str = ""
    # Left empty on the form to keep the one stored.
    client_secret: str = ""
    create_users: bool = False
    role_map: str = ""


def provider_of(session: Session, partnership: Partnership) -> IdentityProvider | None:
    return session.scalar(select(IdentityProvider).where(IdentityProvider.partnership_id == partnership.id))


def role_map_text(provider: IdentityProvider | None) -> str:
    if provider is None:
        return ""
    return "\n".join(f"{app_role}, {agency}, {role}" for app_role, (agency, role) in provider.role_map.items())


def _parse_role_map(session: Session, partnership: Partnership, text: str, errors: dict[str, str]) -> dict:
    agencies = set(session.scalars(select(Agency.name).where(Agency.partnership_id == partnership.id)))
    roles = set(session.scalars(select(Role.key).where(Role.partnership_id == partnership.id)))
    mapping: dict[str, list[str]] = {}
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        fields = [f.strip() for f in fields]
        if not any(fields):
            continue
        if len(fields) != 3 or not all(fields):
            errors["role_map"] = f"Line {number}: write an app role, an agency's name and a role key, with commas."
        elif fields[1] not in agencies:
            errors["role_map"] = f"Line {number}: {partnership.name} has no agency called {fields[1]!r}."
        elif fields[2] not in roles:
            errors["role_map"] = f"Line {number}: {partnership.name} has no role {fields[2]!r}."
        else:
            mapping[fields[0]] = [fields[1], fields[2]]
    return mapping


def seal_kept_secrets(session: Session, box: SecretBox) -> int:
    """Seal every client secret kept as given (saved before secrets were sealed). Returns how many. Commits."""
    with unit_of_work(session) as work:
        kept = [p for p in session.scalars(select(IdentityProvider)) if not box.is_sealed(p.client_secret)]
        for provider in kept:
            provider.client_secret = box.seal(provider.client_secret)
        work.commit()
    return len(kept)


def set_sign_in(session: Session, clock: Clock, actor: User | None, partnership: Partnership,
                settings: SignInSettings, box: SecretBox) -> None:
    """Save the partnership's sign-in settings, the client secret sealed in `box`. Local passwords can be turned
    off only once an identity provider is set. Commits."""
    errors: dict[str, str] = {}
    provider = provider_of(session, partnership)
    issuer = settings.issuer.strip()
    client_id = settings.client_id.strip()
    secret = settings.client_secret.strip()
    texts = {"issuer": issuer, "client_id": client_id, "client_secret": secret, "role_map": settings.role_map}
    for field, value in texts.items():
        if not storable(value) or len(value) > (20000 if field == "role_map" else 300):
            errors[field] = "This is too long or contains characters that cannot be kept."
    mapping: dict = {}
    if issuer or client_id or secret:
        try:
            parts = urlsplit(issuer)
            host = parts.hostname
        except ValueError:  # not even a URL, such as "http://[::1" (an unclosed IPv6 address)
            parts, host = urlsplit(""), None
        if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment:
            errors["issuer"] = ("Give the issuer's address, such as https://login.microsoftonline.com/TENANT-ID/v2.0 "
                                "(one tenant: the partnership's own).")
        elif parts.scheme == "http" and host not in ("127.0.0.1", "localhost"):
            errors["issuer"] = "The issuer must be reached over HTTPS."
        if not client_id:
            errors["client_id"] = "Give the application (client) ID the identity provider gave this service."
        if not secret and provider is None:
            errors["client_secret"] = "Give the client secret the identity provider gave this service."
        mapping = _parse_role_map(session, partnership, settings.role_map, errors)
    elif settings.role_map.strip():
        errors["issuer"] = "Give the identity provider first."
    if not settings.passwords_allowed and not issuer:
        errors["passwords_allowed"] = "Keep local passwords until an identity provider is set: nobody could sign in."
    if errors:
        raise Invalid(errors)
    with unit_of_work(session) as work:
        partnership.passwords_allowed = settings.passwords_allowed
        if issuer:
            if provider is None:
                provider = IdentityProvider(partnership_id=partnership.id)
                session.add(provider)
            provider.issuer, provider.client_id = issuer, client_id
            if secret:
                provider.client_secret = box.seal(secret)
            provider.create_users, provider.role_map = settings.create_users, mapping
        elif provider is not None:
            session.delete(provider)
        changes.write(session, clock, partnership.id, actor, changes.SignInChanged(
            {"passwords_allowed": settings.passwords_allowed, "issuer": issuer or None,
             "create_users": settings.create_users if issuer else False}))
        work.commit()
