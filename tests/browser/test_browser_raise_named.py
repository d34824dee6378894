"""End to end in real headless Chromium: a Dudley teacher raises a challenge naming the professional challenged
and the day the concern first arose. The form says that Dudley counts its days from that day; a contact that is
neither an email address nor a phone number is refused; the challenge page says what the deadlines count from
and that stage 1 had already ended, and the police line manager who now holds it sees who was challenged."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import check_page, chromium, log_in, log_out, new_page, served

pytestmark = pytest.mark.browser

ROLE = "Role of the professional or decision-maker you are challenging"


def test_a_challenge_names_who_is_challenged_and_counts_from_the_concern(live_app):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "dudley-school-practitioner")
        page.get_by_role("link", name="Raise a challenge").first.click()
        # Under the date, the form says what it does in this partnership's procedure.
        expect(page.locator("#concern_first_raised-hint")).to_contain_text(
            "Your partnership's procedure counts its days from this date: it is day 1.")
        check_page(page, "the Dudley raise page")
        page.get_by_label("Agency you are challenging").select_option(label="West Midlands Police")
        page.get_by_label(ROLE).fill("Detective sergeant")
        page.get_by_label("Their name (optional)").fill("Jo Smith")
        page.get_by_label("Their team or service (optional)").fill("Public protection unit")
        page.get_by_label("Their email address or phone number (optional)").fill("ask at the front desk")
        page.get_by_label("Case reference of the child or adult").fill("CH-6120")
        page.get_by_role("radio", name="Decision making", exact=True).check()
        page.get_by_label("What is the disagreement?").fill("No strategy discussion after the third disclosure.")
        page.get_by_role("radio", name="Neither", exact=True).check()
        page.get_by_role("group", name="significant risk").get_by_role("radio", name="No").check()
        page.get_by_label("When was the concern first raised?").fill("2026-12-14")
        page.get_by_role("button", name="Raise the challenge").click()

        # Refused, with the contact's message, the answers kept.
        expect(page.locator("#challenged_contact-error")).to_contain_text("Enter an email address")
        expect(page.get_by_label(ROLE)).to_have_value("Detective sergeant")
        check_page(page, "the raise page with a bad contact")
        page.get_by_label("Their email address or phone number (optional)").fill("jo.smith@police.example.uk")
        page.get_by_role("button", name="Raise the challenge").click()
        page.wait_for_url("**/challenges/*")

        # Day 1 was Monday 14 December: stage 1 ended on the Tuesday, so the challenge starts at stage 2.
        expect(page.locator("#challenge-status")).to_contain_text("Open at stage 2")
        expect(page.locator("#challenged")).to_contain_text("Detective sergeant")
        expect(page.locator("#challenged")).to_contain_text("jo.smith@police.example.uk")
        expect(page.locator("#deadlines-from")).to_contain_text(
            "Deadlines count from Monday 14 December 2026, the day the concern was first raised")
        expect(page.locator("#deadlines-from")).to_contain_text("the deadline of stage 1 had already passed")
        check_page(page, "the challenge page naming who was challenged")
        log_out(page)

        # The police line manager, who holds stage 2, sees who was challenged on the task.
        log_in(page, base, "dudley-police-manager")
        row = page.locator("tr", has_text="Stage 2: line manager / safeguarding lead responds")
        expect(row).to_contain_text("Thu 24 Dec 2026, 17:00")
        row.get_by_role("link", name="Stage 2: line manager / safeguarding lead responds").click()
        expect(page.locator("#task-challenged")).to_contain_text("Public protection unit")
        expect(page.locator("#task-challenged")).to_contain_text("Jo Smith")
        check_page(page, "the task page naming who was challenged")
