"""End to end in real headless Chromium, under the served Content-Security-Policy: Darlington's process owner
changes the stage 1 deadline from 1 to 2 working days in the modeler, publishes, and a new challenge gets the new
deadline while an open one keeps the old; compares the two versions; rolls back with a reason. A broken diagram
has its problem marked on the element and publishing refused."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from engine.cases.raising import raise_challenge
from engine.models import Challenge, Partnership, ProcedureChange, Task, User
from engine.procedures.files import WORKFLOWS, read_folder
from engine.procedures.versions import current_version, publish
from tests.browser import check_page, chromium, log_in, new_page, served
from tests.conftest import raise_answers

pytestmark = pytest.mark.browser


def _raise(session, clock):
    user = session.scalar(select(User).where(User.username == "csc-practitioner"))
    police = next(a for a in session.scalar(select(Partnership).where(Partnership.slug == "darlington")).agencies
                  if a.name.startswith("Durham"))
    challenge = raise_challenge(session, clock, user, raise_answers(police.id))
    return session.scalar(select(Task.due_at).where(Task.challenge_id == challenge.id))


def _open_modeler(page, base):
    page.get_by_role("link", name="Procedures").click()
    page.wait_for_url(f"{base}/procedures")
    page.get_by_role("link", name="Edit the draft of darlington").click()
    page.wait_for_selector("[data-modeler][data-ready=true]", timeout=30_000)


def test_a_process_owner_moves_a_deadline_publishes_compares_and_rolls_back(live_app, session, clock):
    before = _raise(session, clock)
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "dsp-process-owner")
        page.get_by_role("link", name="Procedures").click()
        check_page(page, "the procedures page")
        current = page.locator("table.versions tr.current td")
        assert (current.nth(0).inner_text(), current.nth(4).inner_text()) == ("1", "1")  # version 1, 1 open case
        _open_modeler(page, base)
        check_page(page, "the modeler")

        # The stage's deadline is set by the script entering stage 1: an expert's code field.
        page.locator('[data-element-id="enter_1"]').first.click()
        script = page.get_by_label("Script (for experts", exact=False)
        script.fill(script.input_value().replace("working_days_after(stage_started, 1)",
                                                 "working_days_after(stage_started, 2)"))
        script.blur()
        # The deadline editor gives the date a choice means for the sample start.
        page.get_by_label("Element", exact=True).select_option("s1_respond_reminder")
        page.get_by_label("How many").fill("4")
        page.get_by_label("Unit").select_option("hours")
        page.get_by_label("Counted from").select_option("before")
        page.get_by_role("button", name="Set the deadline").click()
        page.get_by_text("hours_before(stage_due, 4): for a challenge raised Friday 18 December 2026").wait_for()
        page.get_by_role("button", name="Validate", exact=True).click()
        page.get_by_text("No problems: the draft can be published.").wait_for()
        page.get_by_label("What changed, and why").fill("Stage 1 takes two working days")
        page.get_by_role("button", name="Save, validate and publish").click()
        page.wait_for_url(f"{base}/procedures")
        assert "Version 2 of Darlington professional challenge is current" in page.locator(".flash").inner_text()
        check_page(page, "the procedures page after publishing")

        session.expire_all()
        after = _raise(session, clock)
        assert (before.day, after.day) == (21, 22)  # Monday 17:00 kept; the new one Tuesday 17:00

        page.get_by_role("button", name="Compare").click()
        page.wait_for_selector("[data-compare][data-ready=true]", timeout=30_000)
        assert "enter_1" in page.locator("ul.compare-changed").inner_text()
        assert page.locator(".compare-changed").count() >= 2
        check_page(page, "the comparison")

        page.get_by_role("link", name="Procedures").first.click()
        page.get_by_label("Make version").select_option("1")
        page.get_by_label("current again, because").fill("The partnership has not agreed two days yet")
        page.get_by_role("button", name="Roll back").click()
        assert "Version 1 of" in page.locator(".flash").inner_text()

    session.expire_all()
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    assert current_version(session, darlington.id).number == 1
    change = session.scalars(select(ProcedureChange).order_by(ProcedureChange.id.desc())).first()
    assert (change.action, change.by, change.reason) == ("made_current", "dsp-process-owner",
                                                         "The partnership has not agreed two days yet")


def test_a_broken_diagram_has_its_problem_marked_and_cannot_be_published(live_app, session, clock):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "dsp-process-owner")
        _open_modeler(page, base)
        page.get_by_label("Element", exact=True).select_option("s1_respond")
        page.get_by_label("Form", exact=True).select_option("")
        page.get_by_label("Element", exact=True).select_option("raised")
        script = page.get_by_label("Script (for experts", exact=False)
        script.fill("import os")
        script.blur()
        page.get_by_role("button", name="Validate", exact=True).click()
        page.locator("#modeler-problems .problem").first.wait_for()
        assert "has-problem" in page.locator('[data-element-id="raised"]').first.get_attribute("class")
        check_page(page, "the modeler with problems")
        page.get_by_role("button", name="Save, validate and publish").click()
        page.locator("#modeler-problems .problem").first.wait_for()
        assert page.url.endswith("/edit")
        # With the script fixed, the missing form is the problem left, on its task.
        page.get_by_label("Element", exact=True).select_option("raised")
        page.get_by_label("Script (for experts", exact=False).fill("missed_deadlines = []")
        page.get_by_label("Script (for experts", exact=False).blur()
        page.get_by_role("button", name="Validate", exact=True).click()
        page.get_by_text("needs a form").first.wait_for()
        assert "has-problem" in page.locator('[data-element-id="s1_respond"]').first.get_attribute("class")
    session.expire_all()
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    assert current_version(session, darlington.id).number == 1


def test_a_process_owner_moves_open_cases_onto_the_new_version_and_undoes_a_move(live_app, session, clock):
    _raise(session, clock)
    _raise(session, clock)
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    files = read_folder(WORKFLOWS / "darlington")
    changed = files.bpmn_xml.replace("stage_due = working_days_after(stage_started, 5)",
                                     "stage_due = working_days_after(stage_started, 6)", 1)
    v2 = publish(session, clock, darlington, dataclasses.replace(files, bpmn_xml=changed), by="test")
    session.commit()
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "dsp-process-owner")
        page.get_by_role("link", name="Procedures").click()
        page.get_by_role("link", name="Move open cases onto the current version").click()
        plan = page.locator("#migration-plan")
        assert plan.locator("tbody tr").count() == 2 and plan.get_by_text("yes").count() == 2
        check_page(page, "the migration's dry run")
        page.get_by_role("button", name="Move the chosen cases").click()
        assert "2 of 2 cases moved to the current version." in page.locator(".flash").inner_text()
        assert page.locator("#migration-results").get_by_text("moved to version 2").count() == 2
        check_page(page, "the migration's results")
        page.get_by_role("link", name="Back to the open cases").click()
        page.get_by_role("button", name="Undo the move of").first.click()
        assert "is back on the version it ran on" in page.locator(".flash").inner_text()
        assert page.locator("#migration-plan tbody tr").count() == 1  # the one moved back can move again
    session.expire_all()
    versions = sorted(c.procedure_version_id for c in session.scalars(select(Challenge)))
    assert versions == sorted([v2.id, versions[0]]) and versions[0] != v2.id
