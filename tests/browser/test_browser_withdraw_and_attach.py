"""End to end in real headless Chromium: a withdrawn challenge (its referrer withdraws it with a reason, after a
refusal without the confirmation; the page shows it withdrawn and the history says so in words; the other side's
task is gone from their My tasks and they are told), and an attachment refused when too big, then one accepted,
listed and downloaded by the other side. Every page checked with axe-core under the CSP."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.cases.raising import raise_challenge
from engine.models import Agency, User
from tests.browser import check_page, chromium, log_in, log_out, new_page, served
from tests.conftest import raise_answers
from tests.engine.test_attachments import PDF

pytestmark = pytest.mark.browser


@pytest.fixture
def challenge_id(session, clock):
    police = session.scalar(select(Agency).where(Agency.name == "Durham Constabulary"))
    referrer = session.scalar(select(User).where(User.username == "csc-practitioner"))
    challenge = raise_challenge(session, clock, referrer, raise_answers(police.id, subject_reference="CH-5120"))
    session.commit()
    return challenge.id


def test_a_withdrawn_challenge(live_app, challenge_id):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "police-practitioner")
        assert page.locator("tr", has_text="CH-5120").count() == 1
        log_out(page)

        log_in(page, base, "csc-practitioner")
        page.goto(f"{base}/challenges/{challenge_id}")
        check_page(page, "the referrer's challenge page with the withdraw form")
        page.get_by_label("Why are you withdrawing it?").fill("The family moved away; the new authority has it.")
        page.get_by_role("button", name="Withdraw this challenge").click()  # not confirmed: refused
        page.locator("#withdraw-confirm-error").wait_for()
        expect(page.locator("#withdraw-errors")).to_be_focused()
        assert page.get_by_label("Why are you withdrawing it?").input_value().startswith("The family moved away")
        check_page(page, "a refused withdrawal")
        page.get_by_label("I understand that withdrawing closes the challenge").check()
        page.get_by_role("button", name="Withdraw this challenge").click()
        page.locator(".flash", has_text="its deadlines stopped").wait_for()
        assert "Withdrawn by the referrer" in page.locator("#challenge-status").inner_text()
        assert "The family moved away" in page.locator("#withdrawn").inner_text()
        history = page.locator("ol.history").inner_text()
        assert "Challenge withdrawn by its referrer: “The family moved away" in history
        assert "Task closed (the challenge was withdrawn): Stage 1: respond to the challenge" in history
        assert "closed when the challenge was withdrawn" in page.locator(".task-record").first.inner_text()
        assert page.get_by_role("button", name="Withdraw this challenge").count() == 0
        assert page.get_by_role("button", name="Attach the file").count() == 0
        check_page(page, "a withdrawn challenge")
        log_out(page)

        log_in(page, base, "police-practitioner")
        assert page.locator("tr", has_text="CH-5120").count() == 0  # the task is gone from My tasks
        check_page(page, "My tasks without the withdrawn challenge's task")
        page.get_by_role("link", name="Notifications").click()
        page.wait_for_url(f"{base}/notifications")
        assert "withdrawn by Practitioner, Darlington Children" in page.content()
        check_page(page, "the notice of the withdrawal")


def test_an_attachment_refused_when_too_big_then_one_accepted_and_downloaded(live_app, challenge_id, tmp_path):
    too_big = tmp_path / "strategy-minutes.pdf"
    too_big.write_bytes(b"%PDF-1.4\n" + bytes(6 * 1024 * 1024))
    summary = tmp_path / "Summary of our call.pdf"
    summary.write_bytes(PDF)
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "police-practitioner")
        page.goto(f"{base}/challenges/{challenge_id}")
        assert "No file has been attached." in page.content()
        page.get_by_label("Attach a file").set_input_files(str(too_big))
        page.get_by_role("button", name="Attach the file").click()
        page.locator("#attach-errors").wait_for()
        expect(page.locator("#attach-errors")).to_be_focused()
        assert "A file can be at most 5 MB" in page.locator("#attach-file-error").inner_text()
        check_page(page, "an attachment refused when too big")

        page.get_by_label("Attach a file").set_input_files(str(summary))
        page.get_by_role("button", name="Attach the file").click()
        page.locator(".flash", has_text="is attached").wait_for()
        row = page.locator("table.attachments tbody tr")
        assert row.count() == 1
        assert "Summary of our call.pdf" in row.inner_text() and "Practitioner, Durham Constabulary" in row.inner_text()
        assert "File attached: Summary of our call.pdf" in page.locator("ol.history").inner_text()
        check_page(page, "a challenge with an attachment")
        log_out(page)

        log_in(page, base, "csc-practitioner")  # the other side downloads it
        page.goto(f"{base}/challenges/{challenge_id}")
        with page.expect_download() as download:
            page.get_by_role("link", name="Summary of our call.pdf").click()
        assert download.value.suggested_filename == "Summary of our call.pdf"
        assert Path(download.value.path()).read_bytes() == PDF
        check_page(page, "the challenge page after a download")
