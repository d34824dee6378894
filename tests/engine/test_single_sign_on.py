"""What an identity provider's verified claims mean here (engine.single_sign_on), on a real database: the
partnership's own issuer only, not expired on our clock, matched by issuer and subject, an administrator's
account linked by its username at the first sign-in, a newcomer created only where the partnership allows it and
only with roles its app roles map to; each refusal logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import single_sign_on
from engine.administration import services, sign_in
from engine.administration.secrets_box import SecretBox
from engine.errors import Refused
from engine.models import AccessLog, User

ISSUER = "https://login.microsoftonline.com/darlington-tenant/v2.0"


@pytest.fixture
def provider(session, clock, demo):
    sign_in.set_sign_in(session, clock, None, demo, sign_in.SignInSettings(
        passwords_allowed=True, issuer=ISSUER, client_id="app", client_secret="secret", create_users=False,
        role_map="Police.Practitioner, Durham Constabulary, practitioner"), SecretBox("test"))
    return sign_in.provider_of(session, demo)


def claims(clock, **given):
    return {"iss": ISSUER, "sub": "sub-1", "exp": int((clock.now() + timedelta(hours=1)).timestamp()), **given}


def test_tokens_that_are_not_the_partnerships_or_have_expired_are_refused(session, clock, demo, provider):
    for bad, reason in ((claims(clock, iss="https://login.microsoftonline.com/other/v2.0"), "wrong issuer"),
                        (claims(clock, exp=int(clock.now().timestamp())), "expired"),
                        (claims(clock, exp="tomorrow"), "expired"),
                        (claims(clock, sub=""), "no subject"),
                        (claims(clock, preferred_username="nobody"), "no account")):
        with pytest.raises(Refused):
            single_sign_on.sign_in(session, clock, demo, provider, bad, "192.0.2.1")
        logged = session.scalars(select(AccessLog).order_by(AccessLog.id.desc())).first()
        assert (logged.kind, logged.detail["reason"]) == ("login_failed", reason)


def test_an_account_is_linked_then_matched_and_deactivation_refuses_it(session, clock, demo, provider):
    user, _ = single_sign_on.sign_in(session, clock, demo, provider,
                                     claims(clock, preferred_username="police-practitioner"), None)
    assert (user.username, user.oidc_issuer, user.oidc_subject) == ("police-practitioner", ISSUER, "sub-1")
    again, _ = single_sign_on.sign_in(session, clock, demo, provider, claims(clock, preferred_username="x"), None)
    assert again.id == user.id
    # Someone of another partnership is not linked by a username that happens to be theirs.
    with pytest.raises(Refused):
        single_sign_on.sign_in(session, clock, demo, provider,
                               claims(clock, sub="sub-2", preferred_username="dudley-csc-practitioner"), None)
    services.deactivate(session, clock, None, demo, user)
    with pytest.raises(Refused):
        single_sign_on.sign_in(session, clock, demo, provider, claims(clock), None)


def test_newcomers_are_created_only_where_allowed_and_with_mapped_roles(session, clock, demo, provider):
    provider.create_users = True
    session.commit()
    with pytest.raises(Refused):  # no app role that means anything here
        single_sign_on.sign_in(session, clock, demo, provider, claims(clock, roles=["Finance"]), None)
    user, key = single_sign_on.sign_in(session, clock, demo, provider, claims(
        clock, name="N. Newcomer", email="n@police.uk", roles=["Police.Practitioner", "Finance"]), None)
    assert key and user.username == "n@police.uk" and user.password_hash == services.NO_PASSWORD
    assert [(m.agency.name, m.role) for m in user.memberships] == [("Durham Constabulary", "practitioner")]
    assert session.scalar(select(User).where(User.oidc_subject == "sub-1")).id == user.id
