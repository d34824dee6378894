"""The auditors' area: an auditor reads every case of their partnership (pages, records, PDFs, the API) and
changes nothing anywhere; the audit pages (the log and its verification, replay, access logs, bundles) are theirs
alone; and every read they make is in the access log like anyone's."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import url_for
from sqlalchemy import func, select

from engine.audit.bundle import check
from engine.audit.log import extend
from engine.models import AccessLog, Challenge, Event, Notification, Task, User
from tests.conftest import raise_answers
from web.security import audit_signer

# Routes an auditor may use that change only their own session and account, or read: not a case.
THEIR_OWN = {"auth.login", "auth.logout", "account.password", "account.token_list", "account.revoke",
             "notifications.read_all", "audit.verify_now"}


@pytest.fixture
def audit_app(database_url, db_engine, clock, demo):
    from tests.conftest import LONG_SESSIONS
    from web import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock,
                      "WTF_CSRF_ENABLED": False, "SECRET_KEY": "audit-test", "DEMO": True, **LONG_SESSIONS})
    yield app
    from web.database import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def raised(session, clock, user, agency):
    from engine.cases.raising import raise_challenge

    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    task = session.scalar(select(Task).where(Task.challenge_id == challenge.id))
    return challenge, task


def logged_in(app, username: str):
    client = app.test_client()
    r = client.post("/login", data={"username": username, "password": "demo-password"})
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def counts(session) -> dict:
    session.expire_all()
    return {name: session.scalar(select(func.count()).select_from(model)) for name, model in
            (("challenges", Challenge), ("tasks", Task), ("events", Event), ("notifications", Notification))}


def test_an_auditor_reads_every_case_of_the_partnership(audit_app, raised, session, clock, user, token):
    challenge, task = raised
    client = logged_in(audit_app, "dsp-auditor")
    for path in (f"/challenges/{challenge.id}", f"/tasks/{task.id}", f"/challenges/{challenge.id}/records/"
                 "monitoring_return", f"/challenges/{challenge.id}/records/monitoring_return.pdf", "/challenges"):
        assert client.get(path).status_code == 200, path
    bearer = {"Authorization": f"Bearer {token('dsp-auditor')}"}
    assert client.get(f"/api/v1/challenges/{challenge.id}", headers=bearer).status_code == 200
    assert client.get(f"/api/v1/challenges/{challenge.id}/events", headers=bearer).status_code == 200
    # Another partnership's auditor sees nothing of it.
    assert logged_in(audit_app, "tees-auditor").get(f"/challenges/{challenge.id}").status_code == 404


def test_an_auditor_changes_nothing_through_any_route(audit_app, raised, session, token):
    challenge, task = raised
    client = logged_in(audit_app, "dsp-auditor")
    bearer = {"Authorization": f"Bearer {token('dsp-auditor')}"}
    before = counts(session)
    values = {"challenge_id": challenge.id, "task_id": task.id, "key": "monitoring_return", "filename": "site.css",
              "user_id": 1, "token_id": 1, "slug": "darlington", "membership_id": 1, "procedure": "darlington",
              "migration_id": 1}
    tried = []
    with audit_app.test_request_context():
        rules = [(rule, url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
                 for rule in audit_app.url_map.iter_rules() if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}]
    for rule, path in rules:
        if rule.endpoint in THEIR_OWN:
            continue
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            body = {"answers": {}} if path.startswith("/api/") else {}
            r = client.open(path, method=method, json=body if path.startswith("/api/") else None,
                            data=None if path.startswith("/api/") else {"rationale": "x", "response": "y"},
                            headers=bearer if path.startswith("/api/") else {})
            tried.append(rule.endpoint)
            assert r.status_code in (400, 403, 404, 405, 409, 422), (method, path, r.status_code)
    assert {"tasks.task_page", "tasks.claim", "challenges.new", "api.create_challenge", "api.claim",
            "api.complete"} <= set(tried)
    assert counts(session) == before


def test_the_audit_area_is_the_auditors_alone(audit_app, raised):
    challenge, _ = raised
    client = logged_in(audit_app, "csc-practitioner")
    for path in ("/audit", f"/audit/challenges/{challenge.id}", f"/audit/challenges/{challenge.id}/access",
                 f"/audit/challenges/{challenge.id}/bundle.zip", "/audit/people/1"):
        assert client.get(path).status_code == 404, path


def test_the_audit_pages_show_the_log_the_replay_the_access_log_and_a_bundle_that_verifies(
        audit_app, raised, session, clock):
    challenge, _ = raised
    auditor = logged_in(audit_app, "dsp-auditor")
    with audit_app.app_context():
        signer = audit_signer(audit_app)
    extend(session, clock, signer)
    page = auditor.get("/audit").get_data(as_text=True)
    assert signer.verifier() in page and challenge.reference in page
    verified = auditor.post("/audit/verify").get_data(as_text=True)
    assert "The log verifies" in verified
    replay = auditor.get(f"/audit/challenges/{challenge.id}").get_data(as_text=True)
    assert "Replay of" in replay and 'id="replay-table"' in replay
    data = auditor.get(f"/audit/challenges/{challenge.id}/replay.json").get_json()
    assert data["steps"][0]["happenings"][0]["kind"] == "challenge_raised"
    assert auditor.get(f"/audit/challenges/{challenge.id}/diagram.bpmn").mimetype == "application/xml"
    access = auditor.get(f"/audit/challenges/{challenge.id}/access").get_data(as_text=True)
    assert "Read a case" in access
    extend(session, clock, signer)
    zipped = auditor.get(f"/audit/challenges/{challenge.id}/bundle.zip")
    assert zipped.mimetype == "application/zip"
    result = check(zipped.data, signer.verifier())
    assert result.ok and result.entries > 3, result.problems
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as archive:
        assert archive.read("summary.pdf").startswith(b"%PDF")
    dsp = session.scalar(select(User).where(User.username == "dsp-auditor"))
    mine = session.scalars(select(AccessLog.what).where(AccessLog.user_id == dsp.id)).all()
    assert {"replay", "audit bundle", "access log"} <= set(mine)
    person = auditor.get(f"/audit/people/{dsp.id}").get_data(as_text=True)
    assert "audit bundle" in person
