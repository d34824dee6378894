"""Issue 9, item 5: API tokens with a name and a lifetime, their last use noted, revoked by their user (on the
account page) or by an administrator (the command line); a revoked, expired or unknown token gets 401."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.models import AccessLog, ApiToken


def logged_in(app, username: str = "csc-practitioner"):
    client = app.test_client()
    r = client.post("/login", data={"username": username, "password": "demo-password"})
    assert r.status_code == 302, r.status_code
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(response, name: str) -> str | None:
    found = re.search(rf'<p class="error" id="{name}-error"><span class="visually-hidden">Error:</span> ([^<]*)</p>',
                      response.get_data(as_text=True))
    return html.unescape(found.group(1)).strip() if found else None


def shown_secret(response) -> str | None:
    found = re.search(r'<code id="new-token">([^<]*)</code>', response.get_data(as_text=True))
    return found.group(1) if found else None


def token_rows(response) -> list[list[str]]:
    """The list of tokens on the page, each row's cells as text."""
    body = response.get_data(as_text=True)
    table = re.search(r"<tbody>(.*?)</tbody>", body, re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S) if table else []
    return [[" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows]


def revoke_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'action="/account/tokens/(\d+)/revoke"', response.get_data(as_text=True))]


def call_api(client, secret: str, path: str = "/challenges", **environ):
    return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {secret}"}, environ_base=environ)


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.is_json and response.json["error"] == "Send a valid token: 'Authorization: Bearer <token>'."
    assert response.headers["WWW-Authenticate"] == "Bearer"


def in_db(app, fn):
    from web.database import db

    with app.app_context():
        return fn(db.session)


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


# --- on the account page --------------------------------------------------------------------------------------

def test_a_user_makes_a_token_sees_it_once_uses_it_and_revokes_it(app, clock):
    client = logged_in(app)
    r = client.get("/account/tokens")
    assert r.status_code == 200 and "You have no API tokens." in text(r)

    r = client.post("/account/tokens", data={"name": "case system nightly import", "days": "30"})
    assert r.status_code == 200
    secret = shown_secret(r)
    assert secret and secret.startswith("pc_") and len(secret) > 40
    assert "Copy it now: it is shown only this once." in text(r)
    # Made Friday 18 December 2026 15:00, for 30 days; not used yet.
    assert token_rows(r) == [["case system nightly import", "Fri 18 Dec 2026, 15:00", "Sun 17 Jan 2027, 15:00",
                              "Never", "Active", "Revoke case system nightly import"]]
    again = client.get("/account/tokens")
    assert shown_secret(again) is None and secret not in again.get_data(as_text=True)

    clock.advance(minutes=5)
    assert call_api(app.test_client(), secret, REMOTE_ADDR="192.0.2.44").status_code == 200
    [row] = token_rows(client.get("/account/tokens"))
    assert row[3] == "Fri 18 Dec 2026, 15:05 from 192.0.2.44" and row[4] == "Active"

    [token_id] = revoke_ids(again)
    r = client.post(f"/account/tokens/{token_id}/revoke")
    assert r.status_code == 302 and r.headers["Location"] == "/account/tokens"
    page = client.get("/account/tokens")
    assert "The token 'case system nightly import' has been revoked: it no longer works." in text(page)
    [row] = token_rows(page)
    assert row[4] == "Revoked" and revoke_ids(page) == []
    assert_refused(call_api(app.test_client(), secret))
    # Revoking it again changes nothing.
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(AccessLog)
                                         .where(AccessLog.kind == "token_revoked"))) == 1


def test_a_user_cannot_revoke_or_see_someone_elses_token(app, token):
    secret = token("csc-practitioner")
    [token_id] = in_db(app, lambda s: s.scalars(select(ApiToken.id)).all())
    other = logged_in(app, "police-practitioner")
    assert token_rows(other.get("/account/tokens")) == []
    r = other.post(f"/account/tokens/{token_id}/revoke")
    assert r.status_code == 404
    assert call_api(app.test_client(), secret).status_code == 200
    assert token_rows(logged_in(app).get("/account/tokens"))[0][4] == "Active"


def test_the_token_pages_need_a_login(app, token):
    token("csc-practitioner")
    client = app.test_client()
    for r in (client.get("/account/tokens"), client.post("/account/tokens", data={"name": "x", "days": "30"}),
              client.post("/account/tokens/1/revoke")):
        assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert in_db(app, lambda s: s.scalars(select(ApiToken.revoked_at)).all()) == [None]


@pytest.mark.parametrize("name,days,field,message", [
    ("", "30", "name", "Give the token a name of up to 80 characters"),
    ("   ", "30", "name", "Give the token a name of up to 80 characters"),
    ("x" * 81, "30", "name", "Give the token a name of up to 80 characters"),
    ("nightly import", "5", "days", "Choose a lifetime of 7, 30, 90, 365 days."),
    ("nightly import", "", "days", "Choose a lifetime of 7, 30, 90, 365 days."),
    ("nightly import", "forever", "days", "Choose a lifetime of 7, 30, 90, 365 days."),
    ("nightly import", "-30", "days", "Choose a lifetime of 7, 30, 90, 365 days."),
    ("nightly import", "\u00b3\u2070", "days", "Choose a lifetime of 7, 30, 90, 365 days."),  # superscript 30
    ("nightly import", "\u0663\u0660", "days", "Choose a lifetime of 7, 30, 90, 365 days."),  # Arabic-Indic 30
    ("nightly import", "9" * 5000, "days", "Choose a lifetime of 7, 30, 90, 365 days."),  # more than int() reads
])
def test_a_bad_name_or_lifetime_is_422_with_the_message_at_its_field(app, name, days, field, message):
    client = logged_in(app)
    r = client.post("/account/tokens", data={"name": name, "days": days})
    assert r.status_code == 422
    assert (field_error(r, field) or "").startswith(message), text(r)
    assert 'aria-invalid="true"' in r.get_data(as_text=True)
    assert "No token was made." in text(r) and shown_secret(r) is None
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(ApiToken))) == 0


# --- on the command line --------------------------------------------------------------------------------------

def test_an_administrator_makes_lists_and_revokes_tokens_on_the_command_line(app):
    made = cli(app, "create-token", "csc-practitioner", "--name", "case system", "--days", "7")
    assert made.exit_code == 0, made.output
    secret = made.output.strip()
    assert secret.startswith("pc_")
    other = cli(app, "create-token", "police-practitioner")  # default name and lifetime: 90 days
    assert other.exit_code == 0, other.output

    listed = cli(app, "list-tokens")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert len(lines) == 2
    [mine] = [line for line in lines if "csc-practitioner" in line]
    assert re.match(r"\s*\d+\s+csc-practitioner\s+case system\s+active\s+expires 2026-12-25\s+never used$", mine)
    [theirs] = [line for line in lines if "police-practitioner" in line]
    assert "command line" in theirs and "expires 2027-03-18" in theirs
    only_mine = cli(app, "list-tokens", "csc-practitioner").output.splitlines()
    assert only_mine == [mine]

    assert call_api(app.test_client(), secret, REMOTE_ADDR="192.0.2.7").status_code == 200
    assert "last used 2026-12-18 15:00 from 192.0.2.7" in cli(app, "list-tokens", "csc-practitioner").output

    token_id = mine.split()[0]
    revoked = cli(app, "revoke-token", token_id)
    assert revoked.exit_code == 0, revoked.output
    assert revoked.output.strip() == f"token {token_id} ('case system' of csc-practitioner) revoked"
    assert_refused(call_api(app.test_client(), secret))
    assert re.search(r"csc-practitioner\s+case system\s+revoked", cli(app, "list-tokens").output)
    assert call_api(app.test_client(), other.output.strip()).status_code == 200  # the other token still works


def test_the_command_line_refuses_an_unknown_token_user_or_lifetime(app):
    for args, says in ((["revoke-token", "999"], "There is no such token."),
                       (["create-token", "nobody-of-that-name"], "no user 'nobody-of-that-name'"),
                       (["list-tokens", "nobody-of-that-name"], "no user 'nobody-of-that-name'"),
                       (["create-token", "csc-practitioner", "--days", "5"], "'5' is not one of")):
        result = cli(app, *args)
        assert result.exit_code != 0, args
        assert says in result.output, result.output
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(ApiToken))) == 0


# --- refused tokens -------------------------------------------------------------------------------------------

def test_a_token_works_until_the_moment_it_expires(app, client, clock):
    secret = cli(app, "create-token", "csc-practitioner", "--days", "7").output.strip()
    clock.advance(days=7, seconds=-1)
    assert call_api(client, secret).status_code == 200
    clock.advance(seconds=1)
    assert_refused(call_api(client, secret))
    page = logged_in(app).get("/account/tokens")
    [row] = token_rows(page)
    assert row[4] == "Expired" and revoke_ids(page) == []


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer pc_not-a-token-of-ours", "Basic dXNlcjpwYXNz",
                                    "bearer  "])
def test_no_token_or_an_unknown_one_gets_401(app, client, token, header):
    token("csc-practitioner")
    r = client.get("/api/v1/challenges", headers={"Authorization": header} if header else {})
    assert_refused(r)


def test_a_token_of_a_user_who_is_no_longer_active_gets_401(app, client, token, user, session):
    secret = token("csc-practitioner")
    user("csc-practitioner").active = False
    session.commit()
    assert_refused(call_api(client, secret))


# --- last use -------------------------------------------------------------------------------------------------

def test_last_use_is_noted_and_logged_at_most_once_a_minute_or_when_the_address_changes(app, client, clock, token):
    secret = token("csc-practitioner")

    def noted():
        def read(s):
            row = s.scalar(select(ApiToken))
            uses = s.execute(select(AccessLog.at, AccessLog.address, AccessLog.token_id, AccessLog.username)
                             .where(AccessLog.kind == "token_used").order_by(AccessLog.id)).all()
            return (row.last_used_at, row.last_used_from), [tuple(u) for u in uses], row.id

        return in_db(app, read)

    start = clock.now()
    for _ in range(3):  # three calls within the minute from one address: one use noted
        assert call_api(client, secret, REMOTE_ADDR="192.0.2.1").status_code == 200
        clock.advance(seconds=29)
    last, uses, token_id = noted()
    assert last == (start, "192.0.2.1")
    assert uses == [(start, "192.0.2.1", token_id, "csc-practitioner")]

    call_api(client, secret, REMOTE_ADDR="192.0.2.2")  # another address: noted at once
    moved = clock.now()
    clock.advance(seconds=59)
    call_api(client, secret, REMOTE_ADDR="192.0.2.2")  # same address within the minute: not noted
    clock.advance(seconds=1)
    call_api(client, secret, REMOTE_ADDR="192.0.2.2")  # a minute on: noted
    last, uses, _ = noted()
    assert last == (clock.now(), "192.0.2.2")
    assert [(at, address) for at, address, _, _ in uses] == [(start, "192.0.2.1"), (moved, "192.0.2.2"),
                                                            (clock.now(), "192.0.2.2")]
    assert moved - start == timedelta(seconds=87)
