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


def _open_task_id(challenge: dict) -> int:
    [task] = [t for t in challenge["tasks"] if t["status"] == "open"]
    return task["id"]


def _second_practitioner(in_db, police):
    from engine.accounts import create_user

    def add(session):
        made = create_user(session, "police-practitioner-2", "Second practitioner, Durham Constabulary",
                           "police-practitioner-2@test.invalid", "demo-password", [(police.id, "practitioner")])
        session.commit()
        return made.id

    return in_db(add)


def test_a_claim_is_released_by_its_holder_and_a_manager_reassigns_it_telling_both(
        raise_via_api, police, as_user, in_db):
    second_id = _second_practitioner(in_db, police)
    tid = _open_task_id(raise_via_api(police.id))
    officer = as_user("police-practitioner")
    assert officer.post(f"/tasks/{tid}/claim").status_code == 302
    assert "Release it" in text(officer.get(f"/tasks/{tid}"))
    assert officer.post(f"/tasks/{tid}/release").status_code == 302
    assert "Nobody has claimed this task yet." in text(officer.get(f"/tasks/{tid}"))
    assert officer.post(f"/tasks/{tid}/claim").status_code == 302

    manager = as_user("police-manager")
    page = text(manager.get(f"/tasks/{tid}"))
    assert "Reassign this task" in page and "Second practitioner, Durham Constabulary" in page
    refused = manager.post(f"/tasks/{tid}/reassign", data={"to_user_id": str(second_id), "reason": ""})
    assert refused.status_code == 422
    assert "Say why the task is reassigned" in text(refused)
    done = manager.post(f"/tasks/{tid}/reassign", data={"to_user_id": str(second_id), "reason": "On leave."})
    assert done.status_code == 302
    assert "both of you have been told" in text(manager.get(f"/tasks/{tid}"))

    assert "task reassigned - Stage 1" in text(officer.get("/notifications"))
    second = as_user("police-practitioner-2")
    assert "task reassigned to you - Stage 1" in text(second.get("/notifications"))
    assert "You have claimed this task." in text(second.get(f"/tasks/{tid}"))
    assert "Reassign this task" not in text(officer.get(f"/tasks/{tid}"))  # practitioners do not reassign


def test_release_and_reassign_through_the_api(client, token, raise_via_api, police, in_db):
    _second_practitioner(in_db, police)
    tid = _open_task_id(raise_via_api(police.id))

    def call(path, username, body=None):
        return client.post(f"/api/v1/tasks/{tid}/{path}", json=body,
                           headers={"Authorization": f"Bearer {token(username)}"})

    assert call("claim", "police-practitioner").status_code == 200
    r = call("release", "police-practitioner")
    assert r.status_code == 200 and r.json["claimed_by"] is None
    assert call("release", "police-practitioner").status_code == 403  # not theirs now
    r = call("reassign", "police-manager", {"to": "nobody", "reason": "x"})
    assert r.status_code == 422 and set(r.json["errors"]) == {"to"}
    r = call("reassign", "police-manager", {"to": "police-practitioner-2", "reason": "Covering."})
    assert r.status_code == 200 and r.json["claimed_by"] == "police-practitioner-2"
    assert call("reassign", "police-practitioner", {"to": "police-practitioner", "reason": "x"}).status_code == 403
    assert call("reassign", "police-manager", {"to": "police-practitioner"}).status_code == 422
    spec = client.get("/api/v1/openapi.json").json
    assert "/tasks/{id}/release" in spec["paths"] and "/tasks/{id}/reassign" in spec["paths"]


def test_a_stuck_claim_is_freed_by_a_command_without_touching_the_database(app, raise_via_api, police, as_user):
    tid = _open_task_id(raise_via_api(police.id))
    officer = as_user("police-practitioner")
    assert officer.post(f"/tasks/{tid}/claim").status_code == 302
    runner = app.test_cli_runner()
    result = runner.invoke(args=["release-claims", "police-practitioner", "--reason", "off sick"])
    assert result.exit_code == 0, result.output
    assert "1 claim of police-practitioner released" in result.output
    assert "Nobody has claimed this task yet." in text(officer.get(f"/tasks/{tid}"))
    assert runner.invoke(args=["release-claims", "nobody", "--reason", "x"]).exit_code != 0
    assert officer.post(f"/tasks/{tid}/claim").status_code == 302
    result = runner.invoke(args=["deactivate-user", "police-practitioner"])
    assert "police-practitioner deactivated; 1 claim released" in result.output


def test_the_api_lists_the_agencies_one_can_raise_against_with_their_ids(client, token, police):
    r = client.get("/api/v1/agencies", headers={"Authorization": f"Bearer {token('csc-practitioner')}"})
    assert r.status_code == 200
    assert [a["name"] for a in r.json["raising_agencies"]] == ["Darlington Children's Social Care"]
    names = {a["name"]: a["id"] for a in r.json["receiving_agencies"]}
    assert names["Durham Constabulary"] == police.id
    assert "Darlington Children's Social Care" not in names and "DSP Business Unit" not in names
    assert {a["partnership"] for a in r.json["receiving_agencies"]} == {"darlington"}
    assert client.get("/api/v1/agencies").status_code == 401


def test_a_draft_of_the_answers_is_kept_on_the_task_page_until_the_task_is_completed(raise_via_api, police,
                                                                                     as_user):
    tid = _open_task_id(raise_via_api(police.id))
    officer = as_user("police-practitioner")
    r = officer.post(f"/tasks/{tid}", data={"action": "draft", "rationale": "Half a thought"})
    assert r.status_code == 302
    page = text(officer.get(f"/tasks/{tid}"))
    assert "Draft saved by Practitioner, Durham Constabulary" in page
    assert "Half a thought" in page
    # A draft need not be complete; submitting it is checked as ever.
    refused = officer.post(f"/tasks/{tid}", data={"rationale": "Half a thought"})
    assert refused.status_code == 422
    done = officer.post(f"/tasks/{tid}", data={"rationale": "Whole.", "response": "We will review it."})
    assert done.status_code == 302
    assert "Draft saved" not in text(officer.get(f"/tasks/{tid}"))


def test_a_note_added_on_the_challenge_page_and_through_the_api(client, token, raise_via_api, police, as_user):
    challenge = raise_via_api(police.id)
    referrer = as_user("csc-practitioner")
    assert referrer.post(f"/challenges/{challenge['id']}/notes", data={"note": "Spoke to the school."}).status_code \
        == 302
    page = text(referrer.get(f"/challenges/{challenge['id']}"))
    assert "Note added: “Spoke to the school.”" in page
    assert "Add a note" in page
    assert "Add a note" not in text(as_user("dsp-auditor").get(f"/challenges/{challenge['id']}"))
    r = client.post(f"/api/v1/challenges/{challenge['id']}/notes", json={"note": ""},
                    headers={"Authorization": f"Bearer {token('police-practitioner')}"})
    assert r.status_code == 422 and "note" in r.json["errors"]
    r = client.post(f"/api/v1/challenges/{challenge['id']}/notes", json={"note": "Reviewing today."},
                    headers={"Authorization": f"Bearer {token('police-practitioner')}"})
    assert r.status_code == 201
