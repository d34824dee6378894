"""Issue 9, item 6: the access log records logins (and refusals), logouts, password changes and resets, token
use, and every read of a case (page, task, record, PDF, API) with who, when and from where; a refused read is
not a read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.cases.raising import raise_challenge
from engine.models import AccessLog, Task
from tests.conftest import START, raise_answers

OFFICE = "192.0.2.20"
HOME = "198.51.100.30"


@pytest.fixture
def raised(session, clock, user, agency):
    """A challenge csc-practitioner raised against Durham Constabulary, and its stage 1 task's id."""
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    return challenge.id, session.scalar(select(Task.id).where(Task.challenge_id == challenge.id))


@pytest.fixture
def log(app):
    """The access log entries written since the last call, oldest first, as plain tuples."""
    seen = [0]

    def read(*fields: str) -> list[tuple]:
        from web.database import db

        fields = fields or ("kind", "username", "address", "at")
        with app.app_context():
            rows = db.session.scalars(select(AccessLog).where(AccessLog.id > seen[0]).order_by(AccessLog.id)).all()
        if rows:
            seen[0] = rows[-1].id
        return [tuple(getattr(row, f) for f in fields) for row in rows]

    return read


def browser(app, address: str = OFFICE):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def log_in(client, username: str = "csc-practitioner", password: str = "demo-password"):
    return client.post("/login", data={"username": username, "password": password})


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_logins_refusals_and_logouts_are_logged_with_the_name_given_the_address_and_the_time(app, clock, log, user):
    log()
    client = browser(app)
    assert log_in(client, password="a wrong guess").status_code == 401
    refused_at = clock.now()
    assert log_in(browser(app, HOME), "nobody-of-that-name", "a guess").status_code == 401
    clock.advance(minutes=1)
    assert log_in(client).status_code == 302
    logged_in_at = clock.now()
    clock.advance(minutes=10)
    assert client.post("/logout").status_code == 302
    assert log("kind", "username", "user_id", "address", "at") == [
        ("login_failed", "csc-practitioner", None, OFFICE, refused_at),
        ("login_failed", "nobody-of-that-name", None, HOME, refused_at),
        ("login", "csc-practitioner", user("csc-practitioner").id, OFFICE, logged_in_at),
        ("logout", "csc-practitioner", user("csc-practitioner").id, OFFICE, clock.now()),
    ]


def test_a_throttled_login_is_logged_as_such(app, log):
    client = browser(app)
    for _ in range(5):
        log_in(client, password="a wrong guess")
    log()
    assert log_in(client).status_code == 429
    assert log("kind", "username", "address") == [("login_throttled", "csc-practitioner", OFFICE)]


def test_password_changes_and_resets_are_logged(app, clock, log):
    client = browser(app)
    log_in(client)
    log()
    r = client.post("/account/password", data={"current_password": "demo-password",
                                               "new_password": "lantern orchard pebble",
                                               "confirm_password": "lantern orchard pebble"})
    assert r.status_code == 302
    assert log() == [("password_changed", "csc-practitioner", OFFICE, clock.now())]
    clock.advance(minutes=1)
    assert app.test_cli_runner().invoke(args=["reset-password", "csc-practitioner"]).exit_code == 0
    assert log("kind", "username", "detail") == [("password_reset", "csc-practitioner",
                                                  {"by": "the reset-password command"})]


def test_making_using_and_revoking_a_token_is_logged(app, clock, log, user):
    client = browser(app)
    log_in(client)
    log()
    r = client.post("/account/tokens", data={"name": "nightly import", "days": "30"})
    assert r.status_code == 200
    me = user("csc-practitioner").id
    [(kind, user_id, address, what, detail, at)] = log("kind", "user_id", "address", "what", "detail", "at")
    assert (kind, user_id, address, what, at) == ("token_created", me, OFFICE, "nightly import", START)
    token_id = detail["token"]
    clock.advance(minutes=2)
    assert browser(app, HOME).get("/api/v1/tasks", headers=bearer(_secret(r))).status_code == 200
    clock.advance(minutes=2)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert log("kind", "user_id", "address", "token_id", "what", "at") == [
        ("token_used", me, HOME, token_id, "nightly import", START + timedelta(minutes=2)),
        ("token_revoked", me, OFFICE, None, "nightly import", START + timedelta(minutes=4)),
    ]


def _secret(response) -> str:
    body = response.get_data(as_text=True)
    return body.split('<code id="new-token">')[1].split("</code>")[0]


def test_every_read_of_a_case_is_logged_with_who_what_when_and_from_where(app, clock, log, raised, user, token):
    challenge_id, task_id = raised
    client = browser(app)
    log_in(client)
    secret = token("csc-practitioner")
    api = browser(app, HOME)
    log()
    reads = [
        (client, f"/challenges/{challenge_id}", "page", {}),
        (client, f"/tasks/{task_id}", "task page", {"task": task_id}),
        (client, f"/challenges/{challenge_id}/records/monitoring_return", "record:monitoring_return", {}),
        (client, f"/challenges/{challenge_id}/records/monitoring_return.pdf", "pdf:monitoring_return", {}),
        (api, f"/api/v1/challenges/{challenge_id}", "api", {}),
        (api, f"/api/v1/challenges/{challenge_id}/events", "api events", {}),
        (api, f"/api/v1/tasks/{task_id}", "api task", {"task": task_id}),
    ]
    expected = []
    for who, path, what, detail in reads:
        clock.advance(minutes=1)
        assert who.get(path, headers=bearer(secret) if who is api else {}).status_code == 200, path
        address = HOME if who is api else OFFICE
        expected.append(("case_read", user("csc-practitioner").id, address, challenge_id, what, detail or None,
                         clock.now()))
    entries = log("kind", "user_id", "address", "challenge_id", "what", "detail", "at", "token_id")
    reads_logged = [e for e in entries if e[0] == "case_read"]
    assert [e[:-1] for e in reads_logged] == expected
    # The API's reads name the token they were made with (and, a minute apart, each noted its use).
    token_ids = {e[-1] for e in reads_logged[4:]}
    assert [e[-1] for e in reads_logged[:4]] == [None] * 4 and len(token_ids) == 1 and None not in token_ids
    assert [(e[2], e[-1]) for e in entries if e[0] == "token_used"] == [(HOME, *token_ids)] * 3


def test_listing_challenges_is_logged_with_the_ids_shown(app, clock, log, raised, user, token):
    challenge_id, _ = raised
    client = browser(app)
    log_in(client)
    headers = bearer(token("csc-practitioner"))
    log()
    assert client.get("/challenges").status_code == 200
    assert browser(app, HOME).get("/api/v1/challenges", headers=headers).status_code == 200
    me = user("csc-practitioner").id
    listed = [e for e in log("kind", "user_id", "address", "what", "detail", "challenge_id") if e[0] != "token_used"]
    assert listed == [("cases_listed", me, OFFICE, "page", {"challenges": [challenge_id]}, None),
                      ("cases_listed", me, HOME, "api", {"challenges": [challenge_id]}, None)]
    # Someone who sees none: the listing is logged, showing none.
    other = browser(app)
    log_in(other, "health-practitioner")
    log()
    other.get("/challenges")
    assert log("kind", "username", "detail") == [("cases_listed", "health-practitioner", {"challenges": []})]


def test_a_refused_read_is_not_logged_as_a_read(app, log, raised, token):
    challenge_id, task_id = raised
    client = browser(app)
    log_in(client, "health-practitioner")  # an agency with no part in this challenge
    headers = bearer(token("health-practitioner"))
    api = browser(app, HOME)
    api.get("/api/v1/tasks", headers=headers)  # notes the token's first use
    log()
    refused = [
        client.get(f"/challenges/{challenge_id}"),
        client.get(f"/tasks/{task_id}"),
        client.get(f"/challenges/{challenge_id}/records/monitoring_return"),
        client.get(f"/challenges/{challenge_id}/records/monitoring_return.pdf"),
        client.get(f"/challenges/{challenge_id + 1000}"),
        api.get(f"/api/v1/challenges/{challenge_id}", headers=headers),
        api.get(f"/api/v1/challenges/{challenge_id}/events", headers=headers),
        api.get(f"/api/v1/tasks/{task_id}", headers=headers),
    ]
    assert [r.status_code for r in refused] == [404] * len(refused)
    assert log() == []


def test_a_session_that_times_out_is_logged_as_ended_with_the_reason(app, clock, log, user):
    app.config.update(SESSION_IDLE_MINUTES=30)
    client = browser(app)
    log_in(client)
    log()
    clock.advance(minutes=31)
    assert client.get("/tasks").status_code == 302
    assert log("kind", "user_id", "address", "detail", "at") == [
        ("session_ended", user("csc-practitioner").id, OFFICE, {"reason": "idle"}, clock.now())]
