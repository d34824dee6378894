"""The Procedures area through the app: only a partnership's process owner sees it (everyone else, and other
partnerships' owners, get "not found"); every bad body is a clean refusal that changes nothing; hostile diagrams
are refused with a message; publishing and rolling back from the pages are recorded with who and why."""

from __future__ import annotations

import io
import json
import random

import pytest
from sqlalchemy import func, select

from engine.models import ProcedureChange, ProcedureDraft, ProcedureVersion
from engine.procedures.archive import read_zip, write_zip
from engine.procedures.files import WORKFLOWS, read_folder

DRAFT = "/procedures/darlington/darlington"


def logged_in(app, username: str):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "demo-password"}).status_code == 302
    return client


def counts(session) -> tuple[int, int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(ProcedureVersion)),
            session.scalar(select(func.count()).select_from(ProcedureDraft)),
            session.scalar(select(func.count()).select_from(ProcedureChange)))


@pytest.mark.parametrize("username", ["csc-practitioner", "dsp-auditor", "dsp-business-unit", "tees-process-owner"])
def test_only_the_partnerships_process_owner_reaches_its_procedures(app, username):
    client = logged_in(app, username)
    paths = [f"{DRAFT}/edit", f"{DRAFT}/draft.json", "/procedures/darlington/versions/1/diagram.bpmn",
             "/procedures/darlington/compare?a=1&b=1"]
    if username != "tees-process-owner":
        paths.append("/procedures")
    for path in paths:
        assert client.get(path).status_code == 404, path
    assert client.post(f"{DRAFT}/validate", json={}).status_code == 404
    assert b"/procedures" not in client.get("/tasks").data or username == "tees-process-owner"


def test_the_owner_sees_versions_and_the_draft_data(app):
    client = logged_in(app, "dsp-process-owner")
    page = client.get("/procedures").get_data(as_text=True)
    assert "Darlington professional challenge" in page and "current" in page and "demo loader" in page
    data = client.get(f"{DRAFT}/draft.json").get_json()
    assert data["process_id"] == "darlington_professional_challenge" and "practitioner" in data["roles"]
    assert client.get("/procedures/darlington/nothing/edit").status_code == 404


@pytest.mark.parametrize("body", [None, [], "text", {"bpmn": 1}, {"bpmn": "<x/>", "title": "", "process_id": "p"},
                                  {"bpmn": "<x/>\x00", "title": "t", "process_id": "p"},
                                  {"bpmn": "<x/>", "title": "t", "process_id": "p", "forms": []},
                                  {"bpmn": "<x/>", "title": "t", "process_id": "p", "lanes": {"a": 1}},
                                  {"bpmn": "<x/>", "title": "t" * 201, "process_id": "p"}])
def test_a_bad_draft_is_refused_and_changes_nothing(app, session, body):
    client = logged_in(app, "dsp-process-owner")
    before = counts(session)
    response = client.post(f"{DRAFT}/draft", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and response.get_json()["error"]
    response = client.post(f"{DRAFT}/validate", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200 and response.get_json()["problems"][0]["message"]
    assert counts(session) == before


HOSTILE = {
    "external entity": '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
    "entity expansion": '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><d>&b;</d>',
    "UTF-16 doctype": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d><d/>',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_diagrams_are_refused_with_a_message_and_never_published(app, session, name):
    client = logged_in(app, "dsp-process-owner")
    files = client.get(f"{DRAFT}/draft.json").get_json()
    files["bpmn"] = HOSTILE[name]
    problems = client.post(f"{DRAFT}/validate", json=files).get_json()["problems"]
    assert problems and ("DOCTYPE" in problems[0]["message"] or "XML" in problems[0]["message"])
    assert client.post(f"{DRAFT}/draft", json=files).status_code == 200  # a draft may be kept broken
    versions = counts(session)[0]
    response = client.post(f"{DRAFT}/publish", data={"reason": "try"})
    assert response.status_code == 302 and response.location.endswith("/edit")
    assert counts(session)[0] == versions


def test_an_oversized_diagram_is_refused(app, session):
    client = logged_in(app, "dsp-process-owner")
    files = client.get(f"{DRAFT}/draft.json").get_json()
    files["bpmn"] = files["bpmn"] + "<!--" + "x" * 1_100_000 + "-->"
    assert client.post(f"{DRAFT}/draft", json=files).status_code == 413


def test_publish_and_roll_back_from_the_pages_say_who_and_why(app, session):
    client = logged_in(app, "dsp-process-owner")
    files = client.get(f"{DRAFT}/draft.json").get_json()
    files["bpmn"] = files["bpmn"].replace("working_days_after(stage_started, 1)",
                                          "working_days_after(stage_started, 2)")
    assert client.post(f"{DRAFT}/validate", json=files).get_json()["problems"] == []
    assert client.post(f"{DRAFT}/draft", json=files).status_code == 200
    response = client.post(f"{DRAFT}/publish", data={"reason": "two days"})
    assert response.status_code == 302 and response.location.endswith("/procedures")
    for bad in [{"number": "x", "reason": "r"}, {"number": "1"}, {"number": "١", "reason": "r"},
                {"number": "9", "reason": "r", "procedure": "darlington"}]:
        before = counts(session)
        assert client.post("/procedures/darlington/current", data=bad).status_code == 302
        assert counts(session) == before
    client.post("/procedures/darlington/current", data={"number": "1", "reason": "not agreed",
                                                        "procedure": "darlington"})
    session.expire_all()
    changes = [(c.action, c.by, c.reason) for c in session.scalars(select(ProcedureChange)
                                                                  .order_by(ProcedureChange.id))][-2:]
    assert changes == [("published", "dsp-process-owner", "two days"), ("made_current", "dsp-process-owner",
                                                                         "not agreed")]
    first, second = _ids(session)
    page = client.get(f"/procedures/darlington/compare?a={first}&b={second}").get_data(as_text=True)
    assert "enter_1" in page
    assert client.get("/procedures/darlington/compare?a=x&b=1").status_code == 302


def _ids(session) -> list[int]:
    return list(session.scalars(select(ProcedureVersion.id).order_by(ProcedureVersion.id)
                                .where(ProcedureVersion.procedure == "darlington")))


def test_the_deadline_and_form_preview_answer_every_body_without_a_500(app):
    client = logged_in(app, "dsp-process-owner")
    good = client.post("/procedures/darlington/deadline", json={"kind": "day", "count": 9, "anchor": "raised"})
    assert good.get_json() == {"expression": "day_n(raised_at, 9)", "sample": "Monday 4 January 2027, 17:00",
                               "sample_start": "Friday 18 December 2026, 15:00"}
    preview = client.post("/procedures/darlington/form-preview", json={
        "type": "object", "required": ["why"], "properties": {"why": {"type": "string", "title": "Why?"}}})
    assert preview.status_code == 200 and "Why?" in preview.get_data(as_text=True)
    rng = random.Random(11)
    values = [None, True, 1, -1, 10**30, 1.5, "", "x" * 500, "__class__", [], {}, {"type": 1}, "\x00", "day",
              "hours", "working_days", "before", "stage_due"]
    for _ in range(300):
        body = {key: rng.choice(values) for key in rng.sample(["kind", "count", "anchor", "before", "properties",
                                                                 "required", "type"], rng.randrange(0, 6))}
        if rng.random() < 0.3:
            body["properties"] = {rng.choice(["a", "b"]): {k: rng.choice(values) for k in
                                                           rng.sample(["type", "enum", "format", "title"], 2)}}
        for path in ("/procedures/darlington/deadline", "/procedures/darlington/form-preview"):
            response = client.post(path, data=json.dumps(body), content_type="application/json")
            assert response.status_code in (200, 422), (path, body, response.status_code)


def test_a_version_exports_as_a_zip_that_imports_as_the_draft_and_an_invalid_one_is_refused(app, session):
    client = logged_in(app, "dsp-process-owner")
    first = _ids(session)[0]
    response = client.get(f"/procedures/darlington/versions/{first}/export.zip")
    assert response.mimetype == "application/zip"
    assert read_zip(response.data).content_hash() == read_folder(WORKFLOWS / "darlington").content_hash()
    before = counts(session)
    broken = read_folder(WORKFLOWS / "darlington")
    broken.lanes["DSP Business Unit"] = {"role": "nobody", "side": "partnership"}
    for data in (write_zip(broken), b"not a zip"):
        response = client.post("/procedures/darlington/import", data={"archive": (io.BytesIO(data), "p.zip")},
                               content_type="multipart/form-data", follow_redirects=True)
        assert "Not imported:" in response.get_data(as_text=True)
        assert counts(session) == before
    stoke = read_folder(WORKFLOWS / "stoke")
    response = client.post("/procedures/darlington/import",
                           data={"archive": (io.BytesIO(write_zip(stoke)), "stoke.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and response.location.endswith("/procedures/darlington/stoke/edit")
    session.expire_all()
    assert session.scalar(select(ProcedureDraft.procedure)) == "stoke"
    assert counts(session)[0] == before[0]  # kept as a draft, not published


def test_moving_cases_refuses_bad_choices_and_changes_nothing(app, session):
    client = logged_in(app, "dsp-process-owner")
    assert "Every open case runs on the current version." in client.get("/procedures/darlington/migrate") \
        .get_data(as_text=True)
    before = counts(session)
    for data in ({}, {"challenge": "x"}, {"challenge": "١"}, {"challenge": "9" * 12}):
        response = client.post("/procedures/darlington/migrate", data=data)
        assert response.status_code == 302
    response = client.post("/procedures/darlington/migrate", data={"challenge": "999"})
    assert "no such challenge" in response.get_data(as_text=True)
    response = client.post("/procedures/darlington/migrations/999/revert", follow_redirects=True)
    assert "No such migration." in response.get_data(as_text=True)
    assert counts(session) == before
    other = logged_in(app, "tees-process-owner")
    assert other.get("/procedures/darlington/migrate").status_code == 404
    assert other.post("/procedures/darlington/migrate", data={"challenge": "1"}).status_code == 404


def test_a_mapping_that_is_not_old_equals_new_is_refused(app, session):
    client = logged_in(app, "dsp-process-owner")
    for text in ("enter_1", "enter_1 = ", "a b = c", "__x = y;"):
        response = client.post("/procedures/darlington/migrate", data={"challenge": "1", "mapping": text},
                               follow_redirects=True)
        assert "is not &#34;old id = new id&#34;" in response.get_data(as_text=True) or \
            'is not "old id = new id"' in response.get_data(as_text=True), text
