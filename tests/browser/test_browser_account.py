"""End to end in real headless Chromium, under the served Content-Security-Policy: a practitioner changes their
password (a mistake first), makes an API token (a mistake first), sees it once, uses it, and revokes it. Every
state of the pages is checked by axe-core and for anything the policy blocked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import User
from tests.browser import check_page, chromium, log_in, new_page, served

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lantern orchard pebble"


def test_a_practitioner_changes_their_password_and_makes_uses_and_revokes_an_api_token(live_app):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "csc-practitioner")

        # Changing the password: the wrong current password first.
        page.get_by_role("link", name="Change password").click()
        page.wait_for_url(f"{base}/account/password")
        check_page(page, "the password page")
        page.get_by_label("Current password").fill("not my password")
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        assert page.locator(".error-summary").is_visible()
        assert "That is not your current password." in page.locator("#current_password-error").inner_text()
        check_page(page, "the password page with an error")
        page.get_by_label("Current password").fill("demo-password")
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url(f"{base}/tasks")
        assert "Your password has been changed." in page.locator(".flash").inner_text()
        check_page(page, "My tasks after the change")

        # A token: no name first, then one.
        page.get_by_role("link", name="API tokens").click()
        page.wait_for_url(f"{base}/account/tokens")
        assert "You have no API tokens." in page.content()
        check_page(page, "the tokens page, empty")
        page.get_by_role("button", name="Make token").click()
        assert page.locator("#name-error").is_visible()
        check_page(page, "the tokens page with an error")
        page.get_by_label("Name").fill("case system nightly import")
        page.get_by_label("Lifetime").select_option(label="30 days")
        page.get_by_role("button", name="Make token").click()
        secret = page.locator("#new-token").inner_text()
        assert secret.startswith("pc_")
        row = page.locator("tbody tr", has_text="case system nightly import")
        assert "Sun 17 Jan 2027, 15:00" in row.inner_text() and "Active" in row.inner_text()
        check_page(page, "the tokens page showing the new token")

        api = page.context.request
        assert api.get(f"{base}/api/v1/challenges", headers={"Authorization": f"Bearer {secret}"}).status == 200
        page.goto(f"{base}/account/tokens")
        assert secret not in page.content()  # shown only once
        assert "from 127.0.0.1" in row.inner_text()  # its last use

        row.get_by_role("button", name="Revoke case system nightly import").click()
        page.wait_for_url(f"{base}/account/tokens")
        assert "has been revoked: it no longer works." in page.locator(".flash").inner_text()
        assert "Revoked" in row.inner_text() and row.get_by_role("button").count() == 0
        check_page(page, "the tokens page after revoking")
        refused = api.get(f"{base}/api/v1/challenges", headers={"Authorization": f"Bearer {secret}"})
        assert refused.status == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_a_practitioner_chooses_one_email_a_day_on_their_account(live_app, sessions):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "police-practitioner")
        page.get_by_role("link", name="Email of notices").click()
        page.wait_for_url(f"{base}/account/notices")
        expect(page.get_by_label("An email for each notice, as it happens")).to_be_checked()
        check_page(page, "the email of notices page, each notice as it happens")

        page.get_by_label("One email a day listing the day's notices").check()
        page.get_by_label("Time of the daily email (London time)").select_option("07:00")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"{base}/account/notices")
        expect(page.locator(".flash")).to_have_text("Your notices will be emailed to you in one email a day at 07:00.")
        expect(page.get_by_label("One email a day listing the day's notices")).to_be_checked()
        expect(page.get_by_label("Time of the daily email (London time)")).to_have_value("07:00")
        # Chosen on Friday 18 December 2026 at 15:00: the first digest is on Saturday morning.
        expect(page.get_by_text("Your next daily email: Sat 19 Dec 2026, 07:00")).to_be_visible()
        check_page(page, "the email of notices page, one email a day")
        with sessions() as session:
            chosen = session.scalar(select(User).where(User.username == "police-practitioner"))
            assert (chosen.notice_email, chosen.digest_time) == ("daily", "07:00")

        page.get_by_label("An email for each notice, as it happens").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".flash")).to_have_text("Each notice will be emailed to you as it happens.")
        expect(page.get_by_text("Your next daily email")).to_have_count(0)
