"""Single sign-on: each partnership with an identity provider has a sign-in button on the login page that sends
the browser there (OpenID Connect's authorization code flow with PKCE, by Authlib) and a callback that takes the
code back, has Authlib check the ID token (signature, audience, nonce, the partnership's issuer) and hands its
claims to `engine.single_sign_on`, which decides who that is here."""

from __future__ import annotations

import hashlib

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from joserfc.errors import JoseError
from sqlalchemy import select

from engine import access_log, single_sign_on
from engine.access_log import Caller
from engine.errors import Conflict, NotFound, Refused
from engine.models import IdentityProvider, Partnership

from .auth import start_session
from .database import clock, db
from .security import secret_box

bp = Blueprint("oidc", __name__, url_prefix="/login")
oauth = OAuth()


def init_app(app: Flask) -> None:
    oauth.init_app(app)


def _provider(slug: str) -> tuple[Partnership, IdentityProvider]:
    found = db.session.execute(select(Partnership, IdentityProvider)
                               .join(IdentityProvider, IdentityProvider.partnership_id == Partnership.id)
                               .where(Partnership.slug == slug)).first()
    if found is None:
        raise NotFound("That partnership does not sign its people in through an identity provider.")
    return found[0], found[1]


def _client(partnership: Partnership, provider: IdentityProvider):
    """Authlib's client for the provider as configured now: a change of settings makes a new one."""
    secret = secret_box(current_app).open(provider.client_secret)
    fingerprint = hashlib.sha256("\n".join((provider.issuer, provider.client_id, secret))
                                 .encode()).hexdigest()[:16]
    name = f"{partnership.slug}-{fingerprint}"
    client = oauth.create_client(name)
    if client is None:
        client = oauth.register(
            name, client_id=provider.client_id, client_secret=secret,
            server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256", "timeout": 10})
    return client


def _refused(message: str):
    return render_template("login.html", error=message), 401


@bp.route("/<slug>/identity-provider")
def start(slug: str):
    partnership, provider = _provider(slug)
    try:
        client = _client(partnership, provider)
    except Conflict as exc:
        return _refused(str(exc))
    try:
        return client.authorize_redirect(url_for(".callback", slug=slug, _external=True))
    except (AuthlibBaseError, requests.RequestException, ValueError):
        return _refused(f"{partnership.name}'s identity provider cannot be reached just now; try again shortly.")


@bp.route("/<slug>/identity-provider/callback")
def callback(slug: str):
    partnership, provider = _provider(slug)
    try:
        client = _client(partnership, provider)
    except Conflict as exc:
        return _refused(str(exc))
    try:
        token = client.authorize_access_token(
            claims_options={"iss": {"essential": True, "values": [provider.issuer]}})
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError) as exc:
        reason = getattr(exc, "error", None) or type(exc).__name__
        access_log.log(db.session, clock(), "login_failed", Caller(None, request.remote_addr),
                       detail={"via": "identity provider", "partnership": slug, "reason": str(reason)[:200]})
        db.session.commit()
        return _refused("Your organisation's sign-in could not be accepted (it was refused, expired or came from "
                        "another provider). Try again, or ask your partnership's administrator.")
    claims = dict(token.get("userinfo") or {})
    try:
        user, key = single_sign_on.sign_in(db.session, clock(), partnership, provider, claims, request.remote_addr)
    except Refused as exc:
        return _refused(str(exc))
    start_session(user, key)
    flash(f"Signed in through {partnership.name}'s identity provider.")
    return redirect(url_for("tasks.my_tasks"))


def sign_in_choices() -> list[Partnership]:
    """The partnerships whose people can sign in through their identity provider, for the login page."""
    return list(db.session.scalars(select(Partnership).join(IdentityProvider,
                                                            IdentityProvider.partnership_id == Partnership.id)
                                   .order_by(Partnership.name)))


@bp.app_context_processor
def _choices():
    return {"sign_in_providers": sign_in_choices}
