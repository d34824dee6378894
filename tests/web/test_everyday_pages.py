"""Everyday work through the pages: risk marked on every list with the MASH advice and contact on the task
page, My tasks filtered and paged, my agency's cases for managers, and claims released and reassigned."""

from __future__ import annotations

import re

from tests.web import test_web_pages as pages

# The page tests' fixtures, shared.
as_user, in_db, police, raise_via_api = pages.as_user, pages.in_db, pages.police, pages.raise_via_api
text = pages.text


def rows(response) -> list[str]:
    return re.findall(r'<tr class="([^"]*)" data-task-id="\d+">', response.get_data(as_text=True))


def test_a_child_at_significant_risk_is_marked_on_every_list_with_the_mash_contact_on_the_task(
        raise_via_api, police, as_user):
    risky = raise_via_api(police.id, subject_reference="CH-RISK", significant_risk=True)
    raise_via_api(police.id, subject_reference="CH-CP", cp_or_lac="looked_after")
    officer = as_user("police-practitioner")

    page = officer.get("/tasks")
    classes = rows(page)
    assert sum("at-risk" in c for c in classes) == 1
    body = text(page)
    assert "Significant risk" in body and "Looked After" in body

    [task] = [t for t in risky["tasks"] if t["status"] == "open"]
    task_page = text(officer.get(f"/tasks/{task['id']}"))
    assert "The referrer said the child or adult is at significant risk of harm now" in task_page
    assert "Darlington Children's Initial Advice Team (MASH): 01632 960001" in task_page
    # The disagreement comes before the form, with a link to the whole challenge.
    assert task_page.index("The disagreement") < task_page.index('<form method="post" novalidate>')
    assert f'href="/challenges/{risky["id"]}"' in task_page

    referrer = as_user("csc-practitioner")
    listing = text(referrer.get("/challenges"))
    assert "Significant risk" in listing and "Looked After" in listing
    notices = text(officer.get("/notifications"))
    assert "Significant risk" in notices


def test_my_tasks_filters_by_risk_sorts_by_risk_and_pages(raise_via_api, police, as_user):
    for n in range(27):
        raise_via_api(police.id, subject_reference=f"CH-{n:02d}", significant_risk=(n == 26))
    officer = as_user("police-practitioner")
    first = officer.get("/tasks")
    assert len(rows(first)) == 25
    assert 'rel="next" href="/tasks?page=2"' in first.get_data(as_text=True)
    second = officer.get("/tasks?page=2")
    assert len(rows(second)) == 2
    assert "at-risk" in rows(second)[-1]  # raised last, so due last

    by_risk = officer.get("/tasks?sort=risk")
    assert "at-risk" in rows(by_risk)[0]
    only = officer.get("/tasks?risk=significant")
    assert len(rows(only)) == 1 and "at-risk" in rows(only)[0]
    assert "No open tasks match these filters." in text(officer.get("/tasks?side=raising"))
    assert officer.get("/tasks?page=notanumber&stage=x&risk=bogus").status_code == 200


def test_a_manager_lists_their_agency_cases_and_a_practitioner_may_not(raise_via_api, police, as_user, in_db):
    from engine.models import AccessLog

    first = raise_via_api(police.id, subject_reference="CH-ONE")
    raise_via_api(police.id, subject_reference="CH-TWO", significant_risk=True)
    head = as_user("csc-head")
    assert "My agency's cases" in text(head.get("/tasks"))  # in the navigation
    page = head.get("/agency-cases")
    assert page.status_code == 200
    body = text(page)
    assert re.findall(r'data-challenge-id="(\d+)"', body)[0] == str(first["id"])
    assert "CH-ONE" in body and "CH-TWO" in body
    holders = re.sub(r"<[^>]+>", "", body)
    assert "Stage 1: respond to the challenge: Receiving practitioner, Durham Constabulary (not claimed)" in holders
    only = text(head.get("/agency-cases?risk=significant"))
    assert "CH-TWO" in only and "CH-ONE" not in only
    assert head.get(f"/challenges/{first['id']}").status_code == 200  # no longer "not found"
    logged = in_db(lambda s: s.query(AccessLog).filter_by(what="agency cases").count())
    assert logged == 2

    practitioner = as_user("csc-practitioner")
    assert "My agency's cases" not in text(practitioner.get("/tasks"))
    assert practitioner.get("/agency-cases").status_code == 403
    assert as_user("health-manager").get(f"/challenges/{first['id']}").status_code == 404
