"""Single sign-on end to end: a real OpenID Connect provider (npm's oidc-provider, started by the test on
127.0.0.1) and real Chromium following the real redirects. Darlington's administrator sets the provider up on
the Sign-in page (a role map naming no agency of ours refused); a Darlington practitioner then signs in at their
organisation, their account linked at the first sign-in and matched by issuer and subject after; a newcomer is
given an account at their first sign-in with the roles their app roles map to; a token from a provider of another
issuer, and one expired on our clock, are refused and logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.administration import sign_in
from engine.administration.secrets_box import SecretBox
from engine.models import AccessLog, User
from tests.browser import check_page, chromium, log_in, log_out, new_page, served
from tests.identity_provider import identity_provider

pytestmark = pytest.mark.browser

ACCOUNTS = {
    # An account the administrator made (its username the user principal name): linked at the first sign-in.
    "existing-sub": {"name": "Darlington practitioner", "email": "csc-practitioner@demo.invalid",
                     "preferred_username": "csc-practitioner"},
    "newcomer-sub": {"name": "N. Newcomer, Police Constable", "email": "n.newcomer@police.uk",
                     "preferred_username": "n.newcomer@police.uk", "roles": ["Police.Practitioner", "Unknown"]},
}


def _sign_in_at_provider(page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    check_page(page, "the login page with its identity provider")
    page.get_by_role("link", name="Sign in with Darlington Safeguarding Partnership's identity provider").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything")
    page.locator("button[type=submit]").click()


def _configure(session, clock, demo, issuer: str, client_id: str, secret: str) -> None:
    sign_in.set_sign_in(session, clock, None, demo, sign_in.SignInSettings(
        passwords_allowed=True, issuer=issuer, client_id=client_id, client_secret=secret, create_users=True,
        role_map="Police.Practitioner, Durham Constabulary, practitioner"), SecretBox("browser-test"))


def test_sign_in_through_the_partnerships_identity_provider(live_app, session, clock, demo, tmp_path):
    clock.set(datetime.now(UTC).replace(microsecond=0))  # tokens carry real times; our clock is the judge
    existing = session.scalar(select(User).where(User.username == "csc-practitioner"))
    with served(live_app) as base, chromium() as browser:
        callback = f"{base}/login/darlington/identity-provider/callback"
        with identity_provider(tmp_path, [callback], ACCOUNTS) as provider:
            # The partnership's administrator sets its identity provider up in the browser.
            page = new_page(browser)
            log_in(page, base, "dsp-admin")
            page.goto(f"{base}/administration/darlington/sign-in")
            assert callback in page.locator("main").inner_text()  # the redirect address to register
            page.get_by_label("Issuer").fill(provider.issuer)
            page.get_by_label("Application (client) ID").fill(provider.client_id)
            page.get_by_label("Client secret").fill(provider.client_secret)
            page.get_by_label("Create an account at someone's first sign-in").check()
            page.get_by_label("App roles", exact=True).fill("Police.Practitioner, Nowhere, practitioner")
            page.get_by_role("button", name="Save").click()
            page.wait_for_selector(".error-summary")
            assert "has no agency called 'Nowhere'" in page.locator(".error-summary").inner_text()
            check_page(page, "the sign-in settings with an error")
            page.get_by_label("Client secret").fill(provider.client_secret)
            page.get_by_label("App roles", exact=True).fill("Police.Practitioner, Durham Constabulary, practitioner")
            page.get_by_role("button", name="Save").click()
            assert "Sign-in settings saved." in page.locator(".flash").inner_text()
            check_page(page, "the sign-in settings")
            log_out(page)

            page = new_page(browser)
            _sign_in_at_provider(page, base, "existing-sub")
            page.wait_for_url(f"{base}/tasks")
            assert "Signed in through Darlington" in page.locator(".flash").inner_text()
            assert page.locator(".who").first.inner_text() == existing.display_name
            check_page(page, "My tasks after single sign-on")
            page.get_by_role("button", name="Log out").click()
            session.expire_all()
            assert (existing.oidc_issuer, existing.oidc_subject) == (provider.issuer, "existing-sub")

            page = new_page(browser)  # a browser of its own: the provider's session would sign the last one in
            _sign_in_at_provider(page, base, "newcomer-sub")
            page.wait_for_url(f"{base}/tasks")
            session.expire_all()
            newcomer = session.scalar(select(User).where(User.oidc_subject == "newcomer-sub"))
            assert (newcomer.username, newcomer.display_name) == ("n.newcomer@police.uk",
                                                                  "N. Newcomer, Police Constable")
            assert [(m.agency.name, m.role) for m in newcomer.memberships] == [("Durham Constabulary",
                                                                               "practitioner")]
            page.get_by_role("button", name="Log out").click()

            # Matched by issuer and subject from now on, whatever name the provider gives.
            provider.set_accounts({**ACCOUNTS, "existing-sub": {"name": "Renamed", "preferred_username": "other"}})
            page = new_page(browser)
            _sign_in_at_provider(page, base, "existing-sub")
            page.wait_for_url(f"{base}/tasks")
            assert page.locator(".who").first.inner_text() == existing.display_name
            page.get_by_role("button", name="Log out").click()

            # Expired on our clock (the provider's tokens last an hour): refused, logged, nobody signed in.
            clock.set(clock.now() + timedelta(hours=2))
            page = new_page(browser)
            _sign_in_at_provider(page, base, "existing-sub")
            page.wait_for_selector(".error-summary")
            assert "That sign-in has expired" in page.locator(".error-summary").inner_text()
            assert page.get_by_role("button", name="Log out").count() == 0
            check_page(page, "the login page refusing a sign-in")
            clock.set(clock.now() - timedelta(hours=2))

        # A provider that says it is another issuer (another tenant): refused.
        with identity_provider(tmp_path, [callback], ACCOUNTS, host="localhost") as other:
            _configure(session, clock, demo, other.issuer.replace("localhost", "127.0.0.1"), other.client_id,
                       other.client_secret)
            page = new_page(browser)
            _sign_in_at_provider(page, base, "existing-sub")
            page.wait_for_selector(".error-summary")
            assert "could not be accepted" in page.locator(".error-summary").inner_text() or \
                "another organisation" in page.locator(".error-summary").inner_text()
            assert page.get_by_role("button", name="Log out").count() == 0

    session.expire_all()
    refusals = [row.detail["reason"] for row in session.scalars(
        select(AccessLog).where(AccessLog.kind == "login_failed").order_by(AccessLog.id))]
    assert refusals[0] == "expired" and len(refusals) == 2
    logins = session.scalars(select(AccessLog).where(AccessLog.kind == "login")).all()
    assert [row.detail["via"] for row in logins if row.detail] == [provider.issuer] * 3
