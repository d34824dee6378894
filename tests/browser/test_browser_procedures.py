"""End to end in real headless Chromium, one journey per procedure for the step that makes it its own: Dudley's
DSPP Executive completes the Professional Challenge and Resolution Template; Tees' Independent Reviewing Officer
reads the notice about a child on a plan; Stoke-on-Trent's raise page shows the barriers to challenge. The steps
leading up to them go through the engine's services (tests/walk.py), on the same database and clock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import Challenge, Notification, User
from tests.browser import chromium, log_in, log_out, new_page, served
from tests.walk import Walk, at

pytestmark = pytest.mark.browser

RESPOND = {"rationale": "The threshold was not met.", "response": "We will review it."}
ESCALATE = {"discussion": "We talked it through.", "decision": "escalate", "reason": "Still no agreement."}
REPRESENTATION = {"position": "Our position, in writing.", "outcome_sought": "A strategy discussion."}


def test_dudley_executive_completes_the_resolution_template(live_app, session, clock, tmp_path):
    walk = Walk(session, clock, "dudley")
    challenge = walk.raise_("dudley-csc-practitioner", "West Midlands Police", subject_reference="CH-5150")
    for when, stage in ((at(2026, 12, 21, 17), 2), (at(2027, 1, 4, 17), 3), (at(2027, 1, 11, 17), 4)):
        walk.fire(when)  # nobody resolves it: each stage's deadline takes it on
        assert walk.refresh().current_stage == stage
    walk.complete("dudley-csc-rep", "s4_representation_raising", REPRESENTATION, at(2027, 1, 12, 10))
    walk.complete("dudley-police-rep", "s4_representation_receiving", REPRESENTATION, at(2027, 1, 12, 11))
    clock.set(at(2027, 1, 14, 10))

    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "dudley-executive")
        row = page.locator("tr", has_text="Stage 4: consider the written representations")
        assert "Wed 20 Jan 2027, 17:00" in row.inner_text()  # day 21
        row.get_by_role("link", name="Stage 4: consider the written representations").click()
        page.get_by_label("Summary of the representations and the issues").fill("Both representations read.")
        page.get_by_role("group", name="Call a meeting with the involved parties?").get_by_role(
            "radio", name="No").check()
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url("**/challenges/*")
        page.get_by_role("link", name="My tasks").first.click()
        page.get_by_role("link", name="Stage 4: Professional Challenge and Resolution Template").click()
        form_title = page.get_by_role("heading", name="Professional Challenge and Resolution Template", exact=True)
        assert form_title.is_visible()
        page.get_by_role("button", name="Submit").click()  # empty: refused with a message per field
        assert page.locator(".error-summary").is_visible()
        assert page.locator("#recommendation-error").is_visible()
        page.get_by_label("Nature of the professional challenge").fill("No strategy discussion after disclosures.")
        page.get_by_label("Steps taken to resolve it at stages 1 to 3").fill("All three stages passed unresolved.")
        page.get_by_label("Recommendation of the DSPP Executive").fill("Convene a strategy discussion this week.")
        page.get_by_label("Action and resolution for each agency").fill("Police convene; social care attends.")
        page.get_by_role("group", name="Do both agencies accept the recommendation?").get_by_role(
            "radio", name="Yes").check()
        page.get_by_role("group", name="Are those involved satisfied with the outcome?").get_by_role(
            "radio", name="Partly").check()
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url("**/challenges/*")
        assert page.locator("#challenge-status").inner_text().startswith("Resolved")
        assert "Convene a strategy discussion this week." in page.content()
        page.get_by_role("link", name="Professional Challenge and Resolution Template").first.click()
        assert "Convene a strategy discussion this week." in page.content()
        assert "Our position, in writing." in page.content()
        page.screenshot(path=str(tmp_path / "dudley-resolution-template.png"), full_page=True)
        log_out(page)

    closed = walk.refresh()
    assert (closed.status, closed.outcome) == ("closed", "resolved")
    template = walk.rows("s4_template")[0]
    assert template.completed_by.username == "dudley-executive"
    assert template.data["recommendation"] == "Convene a strategy discussion this week."
    assert template.data["agencies_accept"] is True
    # The DSPP Business Unit received the record.
    body = session.scalar(select(Notification.body).join(User, User.id == Notification.user_id).where(
        User.username == "dudley-business-unit", Notification.challenge_id == challenge.id,
        Notification.subject.endswith("Professional Challenge and Resolution Template")))
    assert "Recommendation: Convene a strategy discussion this week." in body


def test_tees_iro_reads_the_notice_about_a_child_on_a_plan(live_app, session, clock):
    walk = Walk(session, clock, "tees")
    challenge = walk.raise_("tees-school-practitioner", "Cleveland Police", cp_or_lac="child_protection_plan",
                            subject_reference="CH-7781")
    walk.complete("tees-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    walk.complete("tees-school-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 10))
    subject = f"{challenge.reference}: professional challenge about a child on a Child Protection Plan"

    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "tees-iro")
        assert page.get_by_text("You have no open tasks.").count() == 1  # told, not tasked
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_label("1 unread").count() == 1
        nav.get_by_role("link", name="Notifications").click()
        notice = page.locator("li", has_text=subject)
        assert notice.count() == 1
        text = notice.inner_text()
        assert "case CH-7781, a child on a Child Protection Plan" in text
        assert "line managers of Stockton Primary School and Cleveland Police (stage 2)" in text
        assert "New" in text
        log_out(page)

        # The other partnership body members are not told.
        log_in(page, base, "tees-scp")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
        assert page.locator("li", has_text=subject).count() == 0


def test_stoke_raise_page_shows_the_barriers_to_challenge(live_app, session, clock):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "stoke-police-practitioner")
        page.get_by_role("link", name="Raise a challenge").first.click()
        guidance = page.get_by_role("region", name="Guidance from your partnership")
        # All of it shows where the practitioner raises the challenge, each part foldable.
        assert guidance.get_by_text("evidence-based, child focused").is_visible()
        barriers = guidance.get_by_text("Fear / worry")
        assert barriers.is_visible()
        guidance.get_by_text("Barriers to professional challenge").click()
        assert not barriers.is_visible()
        guidance.get_by_text("Barriers to professional challenge").click()
        assert barriers.is_visible()
        items = guidance.locator("details", has_text="Barriers to professional challenge").locator("li")
        assert items.all_inner_texts() == [
            "Communication skills", "Lack of confidence", "Lack of experience",
            "Lack of knowledge of process / procedures", "Types of bias", "Time constraints", "Fear / worry"]
        # Only Stoke-on-Trent's agencies can be challenged from here, and the challenge goes to step 1.
        options = page.get_by_label("Agency you are challenging").locator("option").all_inner_texts()
        assert options == ["Choose…", "Midlands Partnership University NHS Foundation Trust",
                           "Stoke Primary School", "Stoke-on-Trent Children's Social Care"]
        page.get_by_label("Agency you are challenging").select_option(label="Stoke-on-Trent Children's Social Care")
        page.get_by_label("Role of the professional or decision-maker you are challenging").fill("Duty sergeant")
        page.get_by_label("Case reference of the child or adult").fill("CH-9044")
        page.get_by_role("radio", name="Service provision", exact=True).check()
        page.get_by_label("What is the disagreement?").fill("The family support service was withdrawn.")
        page.get_by_role("radio", name="Neither", exact=True).check()
        page.get_by_role("group", name="significant risk").get_by_role("radio", name="No").check()
        page.get_by_role("button", name="Raise the challenge").click()
        page.wait_for_url("**/challenges/*")
        assert "Stoke-on-Trent Safeguarding Children Partnership" in page.content()
        assert page.locator("#challenge-status").inner_text() == "Open at step 1"

    walk = Walk(session, clock, "stoke")
    walk.challenge = session.scalar(select(Challenge).where(Challenge.subject_reference == "CH-9044"))
    assert walk.challenge.raising_agency.name == "Staffordshire Police"
    assert walk.dues() == {"s1_respond": at(2026, 12, 22, 17)}
    assert walk.sees("stoke-csc-practitioner") == ["s1_respond"]
