"""End to end in real headless Chromium, for a manager with many cases: the child at significant risk marked in
My tasks and first when sorted by risk, at desktop width and at 375 px (no sideways scroll); the manager's agency
list; a claim reassigned by a manager and told to both; every page checked with axe-core under the CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.accounts import create_user
from engine.cases.raising import raise_challenge
from engine.models import Agency
from tests.browser import check_page, chromium, log_in, log_out, new_page, served
from tests.conftest import raise_answers

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def _no_sideways_scroll(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
                         PHONE["width"])
    assert width <= PHONE["width"], f"{what} is {width} px wide at {PHONE['width']} px: {wide}"


@pytest.fixture
def cases(session, clock, user):
    police = session.scalar(select(Agency).where(Agency.name == "Durham Constabulary"))
    referrer = user("csc-practitioner")
    for n in range(8):
        raise_challenge(session, clock, referrer, raise_answers(police.id, subject_reference=f"CH-{n:03d}",
                                                                cp_or_lac="looked_after" if n == 3 else "neither"))
    raise_challenge(session, clock, referrer, raise_answers(police.id, subject_reference="CH-AT-RISK",
                                                            significant_risk=True))
    create_user(session, "police-practitioner-2", "Second practitioner, Durham Constabulary",
                "police-practitioner-2@test.invalid", "demo-password", [(police.id, "practitioner")])
    session.commit()


def test_risk_first_at_desktop_and_phone_width_then_a_manager_reassigns_a_claim(live_app, cases):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "police-practitioner")
        risky = page.locator("tr.at-risk")
        assert risky.count() == 1 and "CH-AT-RISK" in risky.inner_text()
        assert "significant risk" in risky.inner_text().lower()
        assert "looked after" in page.locator("tr", has_text="CH-003").inner_text().lower()
        check_page(page, "My tasks with risk marked")
        page.get_by_label("Sort").select_option("risk")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**/tasks?*sort=risk*")
        assert "CH-AT-RISK" in page.locator("tbody tr").first.inner_text()
        check_page(page, "My tasks sorted by risk")
        page.locator("tr.at-risk").get_by_role("link").first.click()
        page.locator("#mash-advice").wait_for()
        assert "01632 960001" in page.locator("#mash-advice").inner_text()
        check_page(page, "a task at significant risk")
        page.get_by_role("button", name="Claim it").click()
        page.get_by_role("button", name="Release it").wait_for()
        check_page(page, "a claimed task")
        # Half an answer, kept as a draft and there again on the next visit.
        page.get_by_label("Rationale for the decision, action or inaction").fill("The threshold was applied as")
        page.get_by_role("button", name="Save as draft").click()
        page.locator(".flash", has_text="Draft saved").wait_for()
        page.reload()
        assert page.get_by_label("Rationale for the decision, action or inaction").input_value() == (
            "The threshold was applied as")
        assert page.locator("#draft-note").is_visible()
        check_page(page, "a task with a draft")

        phone = new_page(browser, viewport=PHONE)
        log_in(phone, base, "police-practitioner")
        _no_sideways_scroll(phone, "My tasks")
        assert phone.locator("tr.at-risk").is_visible()
        check_page(phone, "My tasks at 375 px")
        phone.locator("tr.at-risk").get_by_role("link").first.click()
        phone.locator("#mash-advice").wait_for()
        _no_sideways_scroll(phone, "the task page")
        check_page(phone, "a task page at 375 px")
        log_out(phone)

        # Raising about an adult, the Child Protection Plan / Looked After question goes away.
        page.get_by_role("link", name="Raise a challenge").first.click()
        page.locator("#field-cp_or_lac").wait_for()
        page.get_by_role("radio", name="An adult").check()
        assert not page.locator("#field-cp_or_lac").is_visible()
        check_page(page, "the raise page about an adult")
        page.get_by_role("radio", name="A child or young person").check()
        assert page.locator("#field-cp_or_lac").is_visible()
        log_out(page)
        log_in(page, base, "police-manager")
        page.get_by_role("link", name="My agency's cases").click()
        page.wait_for_url(f"{base}/agency-cases")
        assert page.locator("tr[data-challenge-id]").count() == 9
        assert "Practitioner, Durham Constabulary" in page.locator("tr.at-risk").inner_text()  # who holds it
        check_page(page, "my agency's cases")
        page.locator("tr.at-risk").get_by_role("link", name="Stage 1: respond to the challenge").click()
        page.get_by_label("Give it to").select_option(label="Second practitioner, Durham Constabulary")
        page.get_by_role("button", name="Reassign").click()  # no reason: refused, with a message
        page.locator("#reassign-reason-error").wait_for()
        # Focus moves to the summary of what needs correcting, so a screen reader or keyboard starts there.
        expect(page.locator("#reassign-errors")).to_be_focused()
        check_page(page, "a refused reassignment")
        page.get_by_label("Give it to").select_option(label="Second practitioner, Durham Constabulary")
        page.get_by_label("Why").fill("On leave from tomorrow.")
        page.get_by_role("button", name="Reassign").click()
        page.locator(".flash", has_text="both of you have been told").wait_for()
        phone = new_page(browser, viewport=PHONE)
        log_in(phone, base, "police-manager")
        phone.goto(f"{base}/agency-cases")
        _no_sideways_scroll(phone, "my agency's cases")
        check_page(phone, "my agency's cases at 375 px")
        log_out(page)

        for username, subject in (("police-practitioner", "task reassigned - Stage 1"),
                                  ("police-practitioner-2", "task reassigned to you - Stage 1")):
            log_in(page, base, username)
            page.get_by_role("link", name="Notifications").click()
            page.wait_for_url(f"{base}/notifications")
            assert subject in page.content()
            # Grouped by challenge: the reassigned case's group first, marked at risk.
            first = page.locator(".notice-group").first
            assert "CH-AT-RISK" in first.inner_text() and "significant risk" in first.inner_text().lower()
            check_page(page, f"{username}'s notifications")
            log_out(page)
