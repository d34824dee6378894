"""A partnership set up from nothing through the browser, as a new administrator would: the system
administrator creates it, its first administrator (made by `create-user`) signs in with a one-time password,
chooses their own, adds agencies and a role of the partnership's own, imports staff from a CSV file (a bad row
reported in the preview and refused), adds a person, sets the retention period; a Darlington practitioner who
left is deactivated and their claim goes back to their lane; the business unit exports what is held under a case
reference. Every page passes axe-core under the served Content-Security-Policy."""

from __future__ import annotations

import zipfile

import pytest
from sqlalchemy import select

from engine.cases.tasks import claim_task
from engine.models import Task, User
from tests.browser import check_page, chromium, log_in, log_out, new_page, served
from tests.walk import Walk

pytestmark = pytest.mark.browser

STAFF = """username,display_name,email,agency,role
nurse-1,"A. Khan, Safeguarding Nurse",a.khan@trust.nhs.uk,Riverside NHS Trust,designated_nurse
pc-1,"B. Lee, Police Constable",b.lee@police.uk,Riverside Police,practitioner
dr-2,D. Okafor,d.okafor@trust.nhs.uk,Nowhere Agency,practitioner
"""
NEW_PASSWORD = "a river runs through the valley"


def test_a_partnership_set_up_from_nothing_by_its_administrator(live_app, session, clock, tmp_path):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "system-admin")
        page.get_by_role("link", name="Administration").click()
        check_page(page, "the administration page")
        page.get_by_label("Name", exact=True).fill("Riverside Safeguarding Partnership")
        page.get_by_label("Short name").fill("Riverside!")
        page.get_by_role("button", name="Create partnership").click()
        page.wait_for_selector(".error-summary")
        assert "lower-case letters" in page.locator(".error-summary").inner_text()
        check_page(page, "the administration page with an error")
        page.get_by_label("Short name").fill("riverside")
        page.get_by_role("button", name="Create partnership").click()
        page.wait_for_url(f"{base}/administration/riverside")
        log_out(page)

        result = live_app.test_cli_runner().invoke(args=[
            "create-user", "riverside-admin", "--partnership", "riverside", "--name", "R. Admin, Business Manager",
            "--email", "r.admin@riverside.gov.uk"])
        assert result.exit_code == 0, result.output
        one_time = result.output.strip().splitlines()[-1]

        page.goto(f"{base}/login")
        page.get_by_label("Username").fill("riverside-admin")
        page.get_by_label("Password").fill(one_time)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/account/password")
        page.get_by_label("Current password").fill(one_time)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url(f"{base}/tasks")

        page.get_by_role("link", name="Administration").click()
        page.get_by_role("link", name="Riverside Safeguarding Partnership").click()
        check_page(page, "a new partnership's administration")
        for name, kind in (("Riverside NHS Trust", "health"), ("Riverside Police", "police")):
            page.get_by_label("Agency's name").fill(name)
            page.get_by_label("Kind").select_option(kind)
            page.get_by_role("button", name="Add agency").click()
            assert f"{name} added." in page.locator(".flash").inner_text()
        for label, key in (("Practitioner", "practitioner"), ("Designated nurse", "designated_nurse")):
            page.get_by_label("Role's name").fill(label)
            page.get_by_label("Key").fill(key)
            page.get_by_role("button", name="Add role").click()
        assert "designated_nurse" in page.locator("#roles").inner_text()

        page.get_by_role("link", name="Import staff").click()
        csv_file = tmp_path / "staff.csv"
        csv_file.write_text(STAFF)
        page.get_by_label("CSV file").set_input_files(str(csv_file))
        page.get_by_role("button", name="Preview").click()
        page.wait_for_selector("#preview")
        preview = page.locator("#preview")
        assert preview.locator("tr.refused").count() == 1
        assert "has no agency called 'Nowhere Agency'" in preview.locator("tr.refused").inner_text()
        check_page(page, "the import preview")
        assert session.scalar(select(User).where(User.username == "nurse-1")) is None
        page.get_by_role("button", name="Import 2 people").click()
        page.wait_for_selector("#import-result")
        assert "2 people imported" in page.locator("#import-result").inner_text()
        check_page(page, "the import's result")

        page.get_by_role("link", name="Add a person").click()
        check_page(page, "the add a person page")
        page.get_by_label("Name and job title").fill("E. Novak, Designated Nurse")
        page.get_by_label("Username").fill("nurse-1")
        page.get_by_label("Email").fill("e.novak@trust.nhs.uk")
        page.get_by_label("Agency").select_option(label="Riverside NHS Trust")
        page.get_by_label("Role").select_option(label="Designated nurse")
        page.get_by_role("button", name="Add person").click()
        page.wait_for_selector(".error-summary")
        assert "The username 'nurse-1' is taken." in page.locator(".error-summary").inner_text()
        check_page(page, "the add a person page with an error")
        page.get_by_label("Username").fill("nurse-2")
        page.get_by_role("button", name="Add person").click()
        page.wait_for_selector("#memberships")
        assert "designated_nurse" in page.locator("#memberships").inner_text()
        page.get_by_role("button", name="Give a one-time password").click()
        page.wait_for_selector("#one-time-password")
        check_page(page, "a person's page with their one-time password")

        page.get_by_role("link", name="Sign-in").click()
        check_page(page, "the sign-in settings")
        page.get_by_role("link", name="Agencies, roles and people").click()
        page.wait_for_url(f"{base}/administration/riverside")
        page.get_by_label("Erase a closed challenge's personal content after (days)").fill("2557")
        page.get_by_role("button", name="Save retention period").click()
        assert "Retention period saved." in page.locator(".flash").inner_text()
        assert page.locator("#people tbody tr").count() == 4
        page.get_by_role("link", name="History").click()
        page.wait_for_url(f"{base}/administration/riverside/history")
        history = page.locator("#history").inner_text()
        for label in ("Partnership created", "Agency added", "Role added", "Staff imported from a CSV file",
                      "Person added", "One-time password given", "Retention period changed"):
            assert label in history
        check_page(page, "the history")


def test_a_person_who_left_is_deactivated_and_their_claim_released(live_app, session, clock):
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary")
    task = walk.only_open_task()
    claim_task(session, clock, walk.user("police-practitioner"), task.id)

    with served(live_app) as base, chromium() as browser:
        leaver = new_page(browser)
        log_in(leaver, base, "police-practitioner")
        page = new_page(browser)
        log_in(page, base, "dsp-admin")
        page.get_by_role("link", name="Administration").click()
        page.get_by_role("link", name="Darlington Safeguarding Partnership").click()
        page.get_by_role("link", name="Practitioner, Durham Constabulary").click()
        check_page(page, "a person's page")
        page.get_by_role("button", name="Deactivate Practitioner, Durham Constabulary").click()
        assert "1 task they had claimed went back" in page.locator(".flash").inner_text()
        assert "Deactivated" in page.locator("#status").inner_text()

        leaver.reload()
        assert leaver.url.startswith(f"{base}/login")
        assert "no longer active" in leaver.locator(".flash").inner_text()

    session.expire_all()
    assert session.get(Task, task.id).claimed_by_id is None
    assert "task_released" in [e.kind for e in walk.events()]


def test_the_business_unit_exports_what_is_held_under_a_case_reference(live_app, session, clock, tmp_path):
    Walk(session, clock, "darlington").raise_("csc-practitioner", "Durham Constabulary", subject_reference="CH-77")
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser, accept_downloads=True)
        log_in(page, base, "dsp-business-unit")
        page.get_by_role("link", name="Subject access").click()
        check_page(page, "the subject access page")
        page.get_by_label("Case reference").fill("CH-78")
        page.get_by_role("button", name="Export").click()
        page.wait_for_selector(".error-summary")
        check_page(page, "the subject access page with an unknown reference")
        page.get_by_label("Case reference").fill("CH-77")
        with page.expect_download() as download:
            page.get_by_role("button", name="Export").click()
        saved = tmp_path / "export.zip"
        download.value.save_as(saved)
    assert "README.txt" in zipfile.ZipFile(saved).namelist()
