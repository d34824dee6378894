"""End to end in real headless Chromium: a practitioner raises a challenge; a practitioner of the receiving
agency sees it in My tasks, claims it and completes stage 1; the referrer then sees the response."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import Challenge, Task
from tests.browser import check_page, chromium, log_in, log_out, new_page, served

pytestmark = pytest.mark.browser


def test_practitioner_raises_and_receiving_practitioner_completes_stage_1(live_app, session, tmp_path):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)

        # The referrer, a social worker, raises the challenge against the police.
        page.goto(f"{base}/login")
        check_page(page, "the login page")
        log_in(page, base, "csc-practitioner")
        check_page(page, "My tasks, empty")
        page.get_by_role("link", name="Raise a challenge").first.click()
        check_page(page, "the raise page")
        page.get_by_label("Agency you are challenging").select_option(label="Durham Constabulary")
        page.get_by_label("Role of the professional or decision-maker you are challenging").fill("Duty sergeant")
        page.get_by_label("Case reference of the child or adult").fill("CH-2207")
        page.get_by_role("radio", name="Decision making", exact=True).check()
        page.get_by_label("What is the disagreement?").fill("No strategy discussion was held after the disclosure.")
        page.get_by_role("radio", name="On a Child Protection Plan", exact=True).check()
        page.get_by_role("group", name="significant risk").get_by_role("radio", name="Yes").check()
        # Saying "yes" to significant risk shows the MASH advice at once.
        expect_visible(page, "#mash-reminder")
        check_page(page, "the raise page with the MASH reminder")
        page.get_by_role("button", name="Raise the challenge").click()
        page.wait_for_url("**/challenges/*")
        check_page(page, "the challenge page")
        assert "Open at stage 1" in page.locator("#challenge-status").inner_text()
        assert "Multi-Agency Safeguarding Hub" in page.content()
        log_out(page)

        # A police practitioner sees it, claims it and responds.
        log_in(page, base, "police-practitioner")
        row = page.locator("tr", has_text="Stage 1: respond to the challenge")
        line = row.inner_text()
        # Due, task, challenge reference, case, agency and claim, as My tasks lists them.
        assert "Mon 21 Dec 2026, 17:00" in line
        assert "DAR-2026-" in line and "CH-2207" in line and "Durham Constabulary" in line and "Not yet" in line
        check_page(page, "My tasks with a task")
        row.get_by_role("link", name="Stage 1: respond to the challenge").click()
        check_page(page, "a task page")
        page.get_by_role("button", name="Claim it").click()
        assert "You have claimed this task." in page.content()
        page.get_by_role("button", name="Submit").click()  # nothing filled in: refused, with messages
        assert page.locator(".error-summary").is_visible()
        expect(page.locator(".error-summary")).to_be_focused()
        assert page.locator("#rationale-error").is_visible()
        check_page(page, "a task page with errors")
        page.get_by_label("Rationale for the decision, action or inaction").fill(
            "The disclosure was assessed as not meeting the threshold for a strategy discussion.")
        page.get_by_label("Your response to the concerns raised").fill("We will review with the sergeant today.")
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url("**/challenges/*")
        assert "We will review with the sergeant today." in page.content()
        page.screenshot(path=str(tmp_path / "stage1-completed.png"), full_page=True)
        log_out(page)

        # Back to the referrer: the stage 1 decision is now theirs.
        log_in(page, base, "csc-practitioner")
        assert page.locator("tr", has_text="Stage 1: record the discussion and decide").count() == 1

    challenge = session.scalar(select(Challenge).where(Challenge.subject_reference == "CH-2207"))
    done = session.scalar(select(Task).where(Task.challenge_id == challenge.id, Task.bpmn_id == "s1_respond"))
    assert done.status == "completed" and done.completed_by.username == "police-practitioner"


def expect_visible(page, selector: str) -> None:
    page.wait_for_selector(selector, state="visible", timeout=5000)
