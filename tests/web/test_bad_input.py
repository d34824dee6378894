"""Every bad input a clean refusal (issue 9, item 4): each input of the hostile-input probe, named, against the
real app through the test client. Under /api/v1 the answer is a 4xx with a JSON body that has "error"; elsewhere
a 4xx page; never a 5xx, and nothing is written (challenges, tasks, events and notifications are counted before
and after; the access log may gain the rows of failed logins, as it should)."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.models import ApiToken, Challenge, Event, Notification, Task, User
from engine.procedures.files import raise_form
from engine.text import UNSTORABLE_MESSAGE
from tests.conftest import raise_answers
from tests.walk import Walk, at
from tests.web import test_web_pages as pages

as_user = pages.as_user

RESPOND = {"rationale": "The referral did not meet the threshold for a section 47 enquiry.",
           "response": "We will review the case with the school's DSL tomorrow."}
NUL = "a\x00b"
SURROGATE = "\ud800"
UNSTORABLE = {"nul": NUL, "lone-surrogate": SURROGATE}

# Ids in a URL that no row can have: past PostgreSQL's integer (and SQLite's), negative, zero.
URL_IDS = {
    "2**31": str(2**31),
    "2**63": str(2**63),
    "2**64+1": str(2**64 + 1),
    "20-nines": "99999999999999999999",
    "-1": "-1",
    "0": "0",
    "5000-digits": "9" * 5000,
}


# --- helpers ----------------------------------------------------------------------------------------------------

def _shown(response) -> str:
    return f"{response.request.method} {response.request.path[:120]} -> {response.status_code} " \
           f"{response.content_type} {response.get_data()[:300]!r}"


def refused_json(response, status: int | None = None) -> dict:
    """A clean refusal under /api/v1: a 4xx (the given one), JSON, with an "error" message."""
    assert 400 <= response.status_code < 500, _shown(response)
    if status is not None:
        assert response.status_code == status, _shown(response)
    assert response.content_type == "application/json", _shown(response)
    body = response.get_json(silent=True)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], _shown(response)
    return body


def refused_page(response, status: int | None = None) -> str:
    """A clean refusal of a page: a 4xx (the given one) as an HTML page of ours."""
    assert 400 <= response.status_code < 500, _shown(response)
    if status is not None:
        assert response.status_code == status, _shown(response)
    assert response.content_type.startswith("text/html"), _shown(response)
    page = response.get_data(as_text=True)
    assert page.lstrip().lower().startswith("<!doctype html>") and "</html>" in page, _shown(response)
    return html.unescape(page)


def field_error(page: str, name: str) -> str | None:
    found = re.search(rf'<p class="error" id="{name}-error"><span class="visually-hidden">Error:</span> ([^<]*)</p>',
                      page)
    return found.group(1).strip() if found else None


def raw_json(value) -> bytes:
    """JSON text as a client would send it: lone surrogates and NUL as \\u escapes (what json.dumps writes)."""
    return json.dumps(value).encode()


# --- fixtures ---------------------------------------------------------------------------------------------------

@pytest.fixture
def in_db(app):
    def run(fn):
        from web.database import db

        with app.app_context():
            return fn(db.session)

    return run


@pytest.fixture
def counts(in_db):
    """Challenges, tasks, events and notifications: what a refused request must not add to or change."""

    def get() -> tuple[int, ...]:
        return in_db(lambda s: tuple(s.scalar(select(func.count(m.id))) for m in (Challenge, Task, Event,
                                                                                   Notification)))

    return get


@pytest.fixture
def bearer(token):
    made: dict[str, dict] = {}

    def get(username: str) -> dict:
        if username not in made:
            made[username] = {"Authorization": f"Bearer {token(username)}"}
        return made[username]

    return get


@pytest.fixture
def police(agency):
    return agency("Durham")


@pytest.fixture
def world(client, bearer, police):
    """A challenge csc-practitioner raised against Durham Constabulary, and its open stage 1 task (which
    police-practitioner may complete)."""
    r = client.post("/api/v1/challenges", json=raise_answers(police.id), headers=bearer("csc-practitioner"))
    assert r.status_code == 201, r.json
    [task] = r.json["tasks"]
    return {"challenge": r.json["id"], "task": task["id"]}




def task_state(in_db, task_id: int) -> tuple:
    """What a refused completion must leave as it was."""

    def read(s) -> tuple:
        task = s.get(Task, task_id)
        return task.status, task.claimed_by_id, task.completed_by_id, task.data

    return in_db(read)


# --- ids in URLs ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", URL_IDS.values(), ids=URL_IDS.keys())
def test_an_id_no_row_can_have_is_a_json_404_on_every_api_route(client, bearer, world, counts, bad):
    before = counts()
    calls = [("GET", f"/api/v1/challenges/{bad}", "csc-practitioner", None),
             ("GET", f"/api/v1/challenges/{bad}/events", "csc-practitioner", None),
             ("GET", f"/api/v1/tasks/{bad}", "police-practitioner", None),
             ("POST", f"/api/v1/tasks/{bad}/claim", "police-practitioner", None),
             ("POST", f"/api/v1/tasks/{bad}/complete", "police-practitioner", {"data": RESPOND})]
    for method, path, who, body in calls:
        refused_json(client.open(path, method=method, json=body, headers=bearer(who)), 404)
    assert counts() == before


@pytest.mark.parametrize("bad", URL_IDS.values(), ids=URL_IDS.keys())
def test_an_id_no_row_can_have_is_a_404_page_on_every_page_route(as_user, world, counts, bad):
    before = counts()
    police = as_user("police-practitioner")
    for method, path, data in [("GET", f"/challenges/{bad}", None),
                               ("GET", f"/challenges/{bad}/records/monitoring_return", None),
                               ("GET", f"/challenges/{bad}/records/monitoring_return.pdf", None),
                               ("GET", f"/tasks/{bad}", None),
                               ("POST", f"/tasks/{bad}", RESPOND),
                               ("POST", f"/tasks/{bad}/claim", None),
                               ("POST", f"/account/tokens/{bad}/revoke", None)]:
        refused_page(police.open(path, method=method, data=data), 404)
    assert counts() == before


def _non_ascii_digits(number: int, zero: str) -> str:
    return "".join(chr(ord(zero) + int(d)) for d in str(number))


@pytest.mark.parametrize("zero", ["\u0660", "\uff10", "\u0966"], ids=["arabic-indic", "fullwidth", "devanagari"])
def test_a_real_id_written_in_other_digits_is_no_id(client, bearer, as_user, world, zero):
    """int() reads "١" as 1; a URL id is ASCII digits only, as a form's number is."""
    cid, tid = (_non_ascii_digits(world[k], zero) for k in ("challenge", "task"))
    for path in (f"/api/v1/challenges/{cid}", f"/api/v1/challenges/{cid}/events", f"/api/v1/tasks/{tid}"):
        refused_json(client.get(path, headers=bearer("csc-practitioner")), 404)
    refused_json(client.post(f"/api/v1/tasks/{tid}/claim", headers=bearer("police-practitioner")), 404)
    police = as_user("police-practitioner")
    for path in (f"/challenges/{cid}", f"/tasks/{tid}", f"/challenges/{cid}/records/monitoring_return"):
        refused_page(police.get(path), 404)


def test_superscript_digits_in_an_id_are_no_id(client, bearer, as_user, world):
    refused_json(client.get("/api/v1/challenges/\u00b2", headers=bearer("csc-practitioner")), 404)
    refused_page(as_user("csc-practitioner").get("/challenges/\u00b2"), 404)


# --- ids in JSON bodies -----------------------------------------------------------------------------------------

BAD_BODY_IDS = {
    "2**31": 2**31,
    "2**63": 2**63,
    "2**64+1": 2**64 + 1,
    "20-nines": 99999999999999999999,
    "4000-digits": int("9" * 4000),
    "-1": -1,
    "-2**63": -2**63,
    "0": 0,
    "float": 1.5,
    "huge-float": 1e300,
    "string": "2",
    "true": True,
    "false": False,
    "list": [2],
    "object": {"id": 2},
}


@pytest.mark.parametrize("field", ["receiving_agency_id", "raising_agency_id"])
def test_an_agency_id_that_is_no_id_is_422_for_its_field(client, bearer, police, counts, field):
    before = counts()
    for name, bad in BAD_BODY_IDS.items():
        r = client.post("/api/v1/challenges", json={**raise_answers(police.id), field: bad},
                        headers=bearer("csc-practitioner"))
        assert field in refused_json(r, 422)["errors"], (name, _shown(r))
    assert counts() == before


@pytest.mark.parametrize("field", ["receiving_agency_id", "raising_agency_id"])
def test_a_real_agency_id_written_as_a_float_is_refused(client, bearer, police, agency, counts, field):
    """1.0 is an integer to JSON Schema, but an id is a whole number written as one: both fields alike."""
    own = agency("Darlington Children").id
    before = counts()
    body = {**raise_answers(police.id), field: float(police.id if field == "receiving_agency_id" else own)}
    r = client.post("/api/v1/challenges", json=body, headers=bearer("csc-practitioner"))
    assert field in refused_json(r, 422)["errors"], _shown(r)
    assert counts() == before


def test_a_missing_or_null_receiving_agency_is_422(client, bearer, police, counts):
    before = counts()
    for body in ({k: v for k, v in raise_answers(police.id).items() if k != "receiving_agency_id"},
                 raise_answers(None)):
        r = client.post("/api/v1/challenges", json=body, headers=bearer("csc-practitioner"))
        assert "receiving_agency_id" in refused_json(r, 422)["errors"], _shown(r)
    assert counts() == before


@pytest.fixture
def convene(session, clock, demo):
    """A Tees challenge at the Safeguarding Children Partnership's "convene" task, whose form asks for an
    integer: the agency of an independent chair. Walked through the engine's services, as the scenarios are."""
    walk = Walk(session, clock, "tees")
    walk.raise_("tees-csc-practitioner", "Cleveland Police")
    respond = {"rationale": "The threshold was not met.", "response": "We will review it."}
    escalate = {"discussion": "We could not agree.", "decision": "escalate", "reason": "No agreement."}
    steps = [("tees-police-practitioner", "s1_respond", respond), ("tees-csc-practitioner", "s1_decide", escalate),
             ("tees-police-manager", "s2_respond", respond), ("tees-csc-manager", "s2_decide", escalate),
             ("tees-police-senior", "s3_respond", {"manager": "D. Patel", **respond}),
             ("tees-csc-senior", "s3_decide", {"manager": "R. Jones", "discussion": "Consulted.",
                                               "professional_meeting": False, "decision": "refer_to_partnership",
                                               "reason": "Refer it."}),
             ("tees-scp", "s4_consider", {"issues": "The threshold.", "learning_identified": False,
                                          "recommendations": "A meeting.", "next_step": "resolution_meeting"})]
    for hour, (who, bpmn_id, answers) in enumerate(steps, start=9):
        walk.complete(who, bpmn_id, answers, at(2026, 12, 21, hour))
    task = walk.task("s4_convene")
    return {"task": task.id, "involved": walk.agency("Cleveland Police").id,
            "chair": walk.agency("Stockton Primary School").id}


CONVENE = {"meeting_date": "2027-01-20", "partnership_representatives": "Two members."}


def test_the_chairs_agency_id_that_is_no_id_is_422_through_the_api(client, bearer, convene, counts, in_db):
    before, state = counts(), task_state(in_db, convene["task"])
    for bad in [*BAD_BODY_IDS.values(), float(convene["chair"]), str(convene["chair"]), convene["involved"]]:
        r = client.post(f"/api/v1/tasks/{convene['task']}/complete", json={"data": {**CONVENE, "chairing": bad}},
                        headers=bearer("tees-scp"))
        assert "chairing" in refused_json(r, 422)["errors"], (repr(bad)[:40], _shown(r))
    assert counts() == before
    assert task_state(in_db, convene["task"]) == state


def test_the_chairs_agency_in_other_digits_is_refused_on_the_task_page(as_user, convene, counts, in_db):
    before, state = counts(), task_state(in_db, convene["task"])
    scp = as_user("tees-scp")
    cases = {"\u00b2": "Expected integer.", _non_ascii_digits(convene["chair"], "\u0660"): "Expected integer.",
             "1e3": "Expected integer.", "99999999999999999999": "Expected integer.",
             # Spaces around a number are a typing slip, not another number: it is read, and refused for
             # being an agency involved in the disagreement.
             f" {convene['involved']} ": "Choose an agency of the partnership that is not involved in the "
                                          "disagreement.",
             "9" * 18: "Choose an agency of the partnership that is not involved in the disagreement."}
    for value, message in cases.items():
        page = refused_page(scp.post(f"/tasks/{convene['task']}", data={**CONVENE, "chairing": value}), 422)
        assert field_error(page, "chairing") == message, value
    assert counts() == before
    assert task_state(in_db, convene["task"]) == state


# --- numbers in page forms --------------------------------------------------------------------------------------

def test_non_ascii_and_malformed_numbers_in_the_raise_form_are_422(as_user, police, agency, counts):
    """The raise page's agency fields are integers: "²" passes str.isdigit() but not int(), "١٢" is 12 to
    int(); neither is a number this form takes, and neither is "1e3"; " 12 " is 12, and here an agency of
    another partnership."""
    before = counts()
    csc = as_user("csc-practitioner")
    elsewhere = agency("Dudley Children").id
    fields = _form(raise_answers(police.id))
    cases = {"\u00b2": "Expected integer.", _non_ascii_digits(police.id, "\u0660"): "Expected integer.",
             "\u0661\u0662": "Expected integer.", "1e3": "Expected integer.", "1.0": "Expected integer.",
             "99999999999999999999": "Expected integer.", "9" * 5000: "Expected integer.",
             f" {elsewhere} ": "Choose an agency of your partnership.",
             "-1": "Choose an agency of your partnership.", "0": "Choose an agency of your partnership.",
             str(2**31): "Choose an agency of your partnership."}
    for value, message in cases.items():
        for field in ("receiving_agency_id", "raising_agency_id"):
            page = refused_page(csc.post("/challenges/new", data={**fields, field: value}), 422)
            if field == "receiving_agency_id":  # (a user of one agency is not shown the other field)
                assert field_error(page, field) == message, (field, value[:20])
    assert counts() == before


TOKEN_DAYS = {"superscript": "\u00b2", "arabic-indic": "\u0663\u0660", "5000-digits": "9" * 5000, "exponent": "1e3",
              "negative": "-7", "float": "30.0", "spaces-inside": "3 0", "empty": "", "huge": "9" * 20}


def test_a_token_lifetime_that_is_not_one_of_ours_is_422(as_user, in_db):
    csc = as_user("csc-practitioner")
    for name, days in TOKEN_DAYS.items():
        page = refused_page(csc.post("/account/tokens", data={"name": "probe", "days": days}), 422)
        assert "Choose a lifetime" in page, name
    assert in_db(lambda s: s.scalar(select(func.count(ApiToken.id)))) == 0


def test_a_next_page_that_is_no_url_sends_a_login_to_my_tasks(client):
    """urlsplit() refuses "//[" (an unclosed IPv6 address), and a tab after the first slash too, since it drops
    tabs before it reads the address."""
    for next_url in ("//[", "/\t/[", "http://[::1", "//[::1]x"):
        r = client.post("/login", query_string={"next": next_url},
                        data={"username": "csc-practitioner", "password": "demo-password"})
        assert r.status_code == 302 and r.headers["Location"] == "/tasks", (next_url, _shown(r))
        client.post("/logout")


# --- text the database cannot keep ------------------------------------------------------------------------------

# Every field of a raise (the integer and boolean ones too: a string may come where a number is expected).
RAISE_FIELDS = [*raise_form()["properties"], "raised_at"]


@pytest.mark.parametrize("bad", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_text_in_every_field_of_a_raise_is_422(client, bearer, police, counts, bad):
    before = counts()
    for field in RAISE_FIELDS:
        for value in (bad, f"CH-1{bad}", bad * 3000):
            r = client.post("/api/v1/challenges", data=raw_json({**raise_answers(police.id), field: value}),
                            content_type="application/json", headers=bearer("csc-practitioner"))
            assert refused_json(r, 422)["errors"] == {field: UNSTORABLE_MESSAGE}, (field, _shown(r))
    assert counts() == before


@pytest.mark.parametrize("bad", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_text_as_a_key_of_a_raise_is_422(client, bearer, police, counts, bad):
    before = counts()
    for body in ({**raise_answers(police.id), bad: "x"}, {**raise_answers(police.id), f"summary{bad}": "x"},
                 {**raise_answers(police.id), "extra": {bad: [bad]}}):
        r = client.post("/api/v1/challenges", data=raw_json(body), content_type="application/json",
                        headers=bearer("csc-practitioner"))
        refused_json(r, 422)
    assert counts() == before


@pytest.mark.parametrize("bad", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_text_in_every_field_of_a_completion_is_422(client, bearer, world, counts, in_db, bad):
    before, state = counts(), task_state(in_db, world["task"])
    url = f"/api/v1/tasks/{world['task']}/complete"
    for field in ("rationale", "response", "proposed_plan"):
        for wrapped in (True, False):
            answers = {**RESPOND, field: f"Fine text{bad}"}
            body = {"data": answers} if wrapped else answers
            r = client.post(url, data=raw_json(body), content_type="application/json",
                            headers=bearer("police-practitioner"))
            errors = refused_json(r, 422)["errors"]
            assert [key.removeprefix("data.") for key in errors] == [field], (field, wrapped, _shown(r))
    for body in ({"data": {**RESPOND, bad: "x"}}, {"data": RESPOND, bad: 1}, {bad: RESPOND},
                 {"data": {**RESPOND, "proposed_plan": [bad]}}):
        refused_json(client.post(url, data=raw_json(body), content_type="application/json",
                                 headers=bearer("police-practitioner")), 422)
    assert counts() == before
    assert task_state(in_db, world["task"]) == state


@pytest.mark.parametrize("bad", ["%00", "%ED%A0%80", "%FF"], ids=["nul", "encoded-surrogate", "invalid-utf8"])
def test_a_nul_in_a_query_string_is_400_and_broken_escapes_are_harmless_text(client, bearer, as_user, world, counts,
                                                                             bad):
    before = counts()
    for path in ("/api/v1/challenges", f"/api/v1/challenges/{world['challenge']}", "/api/v1/tasks",
                 f"/api/v1/tasks/{world['task']}"):
        for query in (f"q={bad}", f"{bad}=1"):
            r = client.get(f"{path}?{query}", headers=bearer("csc-practitioner"))
            if bad == "%00":
                refused_json(r, 400)
            else:  # decoded with a replacement character or kept as written: harmless text, and read as such
                assert r.status_code == 200, _shown(r)
    r = client.post(f"/api/v1/tasks/{world['task']}/complete?x=%00", json={"data": RESPOND},
                    headers=bearer("police-practitioner"))
    refused_json(r, 400)
    police = as_user("police-practitioner")
    for path in ("/tasks", f"/challenges/{world['challenge']}", f"/tasks/{world['task']}", "/challenges/new",
                 f"/challenges/{world['challenge']}/records/monitoring_return",
                 f"/challenges/{world['challenge']}/records/monitoring_return.pdf", "/account/password",
                 "/account/tokens"):
        r = police.get(f"{path}?q={bad}")
        if bad == "%00":
            refused_page(r, 400)
        else:
            assert r.status_code == 200, _shown(r)
    assert counts() == before


@pytest.mark.parametrize("bad", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_text_in_a_record_key_is_refused(as_user, world, bad):
    """The key of a record is written to the access log before the record is looked up: a NUL there would be
    refused by PostgreSQL's text."""
    police = as_user("police-practitioner")
    quoted = bad.encode("utf-8", "surrogatepass").hex("%").upper()
    for suffix in ("", ".pdf"):
        # The path's bytes are read as UTF-8 with replacement characters, so only the NUL is refused as such.
        refused_page(police.get(f"/challenges/{world['challenge']}/records/%{quoted}{suffix}"),
                     400 if bad == NUL else 404)
        refused_page(police.get(f"/challenges/{world['challenge']}/records/x{'y' * 5000}{suffix}"), 404)


def test_a_nul_in_an_api_path_is_refused(client, bearer, world):
    for path in (f"/api/v1/challenges/{world['challenge']}%00", "/api/v1/%00", f"/api/v1/tasks/%00{world['task']}"):
        refused_json(client.get(path, headers=bearer("csc-practitioner")))


# --- page forms with text the database cannot keep --------------------------------------------------------------

NUL_TEXTS = {"nul-inside": "a\x00b", "nul-alone": "\x00", "nul-after-5000": "x" * 5000 + "\x00"}


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _post_form(client, path: str, fields: dict[str, str]):
    """An urlencoded form as a broken client might send it: NUL as %00, and text as its UTF-8 bytes, a lone
    surrogate's included."""
    body = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in fields.items()).encode()
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded")


def _post_multipart(client, path: str, fields: dict[str, str]):
    """The same as multipart/form-data, the values' bytes as they are."""
    parts = b"".join(b"--XyZ\r\nContent-Disposition: form-data; name=\"" + k.encode("utf-8", "surrogatepass")
                     + b"\"\r\n\r\n" + v.encode("utf-8", "surrogatepass") + b"\r\n" for k, v in fields.items())
    return client.post(path, data=parts + b"--XyZ--\r\n", content_type="multipart/form-data; boundary=XyZ")


def _form(answers: dict) -> dict[str, str]:
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in answers.items()}


@pytest.mark.parametrize("bad", NUL_TEXTS.values(), ids=NUL_TEXTS.keys())
def test_a_nul_in_the_login_form_is_400_and_logs_nobody_in(client, counts, bad):
    before = counts()
    for fields in ({"username": f"csc-practitioner{bad}", "password": "demo-password"},
                   {"username": f"csc{bad}practitioner", "password": "demo-password"},
                   {"username": "csc-practitioner", "password": f"demo-password{bad}"},
                   {f"username{bad}": "csc-practitioner", "password": "demo-password"}):
        for post in (_post_form, _post_multipart):
            refused_page(post(client, "/login", fields), 400)
            assert client.get("/tasks").status_code == 302  # still logged out
    assert counts() == before


@pytest.mark.parametrize("bad", NUL_TEXTS.values(), ids=NUL_TEXTS.keys())
def test_a_nul_in_the_raise_form_is_400_and_raises_nothing(as_user, police, counts, bad):
    before = counts()
    csc = as_user("csc-practitioner")
    fields = _form(raise_answers(police.id))
    for field in [*fields, "concern_first_raised", "subject_kind", "raising_agency_id"]:
        refused_page(_post_form(csc, "/challenges/new", {**fields, field: f"CH-1{bad}"}), 400)
    refused_page(_post_multipart(csc, "/challenges/new", {**fields, "summary": bad}), 400)
    assert counts() == before


@pytest.mark.parametrize("bad", NUL_TEXTS.values(), ids=NUL_TEXTS.keys())
def test_a_nul_in_a_task_form_is_400_and_completes_nothing(as_user, world, counts, in_db, bad):
    before, state = counts(), task_state(in_db, world["task"])
    police = as_user("police-practitioner")
    for field in ("rationale", "response", "proposed_plan"):
        refused_page(_post_form(police, f"/tasks/{world['task']}", {**RESPOND, field: f"Fine{bad}"}), 400)
    refused_page(_post_multipart(police, f"/tasks/{world['task']}", {**RESPOND, "rationale": bad}), 400)
    assert counts() == before
    assert task_state(in_db, world["task"]) == state


@pytest.mark.parametrize("bad", NUL_TEXTS.values(), ids=NUL_TEXTS.keys())
def test_a_nul_in_the_password_or_token_form_changes_nothing(as_user, in_db, bad):
    def password_hash():
        return in_db(lambda s: s.scalar(select(User.password_hash).where(User.username == "csc-practitioner")))

    hash_before = password_hash()
    csc = as_user("csc-practitioner")
    good = "a much longer and unusual passphrase"
    for fields in ({"current_password": f"demo-password{bad}", "new_password": good, "confirm_password": good},
                   {"current_password": "demo-password", "new_password": good + bad,
                    "confirm_password": good + bad}):
        refused_page(_post_form(csc, "/account/password", fields), 400)
    for fields in ({"name": f"probe{bad}", "days": "30"}, {"name": "probe", "days": f"30{bad}"}):
        refused_page(_post_form(csc, "/account/tokens", fields), 400)
    assert password_hash() == hash_before
    assert in_db(lambda s: s.scalar(select(func.count(ApiToken.id)))) == 0


def test_a_multipart_part_whose_name_cannot_be_read_is_no_500(client, bearer, as_user, police, counts):
    """werkzeug gives a part with a broken Content-Disposition (a line break in its name) the name None."""
    before = counts()
    body = (b'--XyZ\r\nContent-Disposition: form-data; name="a\r\nb"\r\n\r\nvalue\r\n'
            b'--XyZ\r\nContent-Disposition: form-data; name="x\\"\r\n\r\nvalue\r\n--XyZ--\r\n')
    multipart = "multipart/form-data; boundary=XyZ"
    refused_page(client.post("/login", data=body, content_type=multipart), 401)
    refused_page(as_user("csc-practitioner").post("/challenges/new", data=body, content_type=multipart), 422)
    r = client.post("/api/v1/challenges", data=body, content_type=multipart, headers=bearer("csc-practitioner"))
    refused_json(r, 422)
    assert counts() == before


BROKEN = {"lone-surrogate": SURROGATE, "surrogate-pair-halves": "\udbff\udfff", "replacement": "\ufffd"}


@pytest.mark.parametrize("bad", BROKEN.values(), ids=BROKEN.keys())
def test_broken_characters_in_page_forms_are_never_a_500_and_never_kept(as_user, client, world, police, in_db,
                                                                          bad):
    """A browser cannot send a lone surrogate; a broken client sends its UTF-8 bytes, which are not UTF-8.
    The form is read with them kept as written (%ED%A0%80) or replaced (U+FFFD): refused or taken as that
    harmless text, never a 500, and nothing the database keeps holds a broken character."""
    from engine.text import storable

    for post in (_post_form, _post_multipart):
        r = post(client, "/login", {"username": f"csc-practitioner{bad}", "password": f"demo-password{bad}"})
        refused_page(r, 401)
        csc = as_user("csc-practitioner")
        r = post(csc, "/challenges/new", {**_form(raise_answers(police.id)), "summary": f"Summary{bad}"})
        assert r.status_code in (302, 422), _shown(r)
        r = post(csc, "/challenges/new", {**_form(raise_answers(police.id)), "subject_reference": f"CH{bad}"})
        refused_page(r, 422)
        r = post(as_user("police-practitioner"), f"/tasks/{world['task']}", {**RESPOND, "rationale": f"R{bad}"})
        assert r.status_code in (302, 409), _shown(r)
        r = post(csc, "/account/tokens", {"name": f"probe{bad}", "days": "30"})
        assert r.status_code == 200, _shown(r)
        r = post(csc, "/account/password", {"current_password": f"demo-password{bad}", "new_password": "x" * 20,
                                            "confirm_password": "x" * 20})
        refused_page(r, 422)

    def kept(s) -> list[str]:
        texts = [*s.scalars(select(Challenge.summary)), *s.scalars(select(Challenge.subject_reference)),
                 *s.scalars(select(ApiToken.name)), *(json.dumps(d, ensure_ascii=False) for d in s.scalars(
                     select(Task.data)) if d)]
        return [t for t in texts if not storable(t)]

    assert in_db(kept) == []


# --- bodies that are not what the API reads ---------------------------------------------------------------------

DEEP = 50_000
BAD_BODIES = {
    "array-50000-deep": b"[" * DEEP + b"]" * DEEP,
    "object-50000-deep": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "data-50000-deep": b'{"data":' + b"[" * DEEP + b"]" * DEEP + b"}",
    "unclosed-50000-deep": b"[" * DEEP,
    "33-deep": b'{"data":' + b'{"a":' * 32 + b"1" + b"}" * 32 + b"}",
    "5000-digit-integer": b'{"receiving_agency_id": ' + b"9" * 5000 + b"}",
    "5000-digit-in-data": b'{"data": {"rationale": ' + b"9" * 5000 + b"}}",
    "invalid-utf8": b'{"summary": "\xff\xfe\xfd"}',
    "utf8-encoded-surrogate": b'{"summary": "\xed\xa0\x80"}',
    "truncated": b'{"summary": "x',
    "nul-byte-outside-strings": b'{"summary":\x00 "x"}',
    "array": b"[1, 2, 3]",
    "string": b'"text"',
    "number": b"42",
    "null": b"null",
    "true": b"true",
    "empty": b"",
    "whitespace": b"   \n",
    "nan-only": b"NaN",
}


@pytest.mark.parametrize("route", ["raise", "complete"])
def test_a_body_the_api_cannot_use_is_422_and_writes_nothing(client, bearer, world, counts, in_db, route):
    before, state = counts(), task_state(in_db, world["task"])
    path, who = {"raise": ("/api/v1/challenges", "csc-practitioner"),
                 "complete": (f"/api/v1/tasks/{world['task']}/complete", "police-practitioner")}[route]
    for name, raw in BAD_BODIES.items():
        for content_type in ("application/json", "application/json; charset=utf-8", "text/plain", None):
            r = client.post(path, data=raw, content_type=content_type, headers=bearer(who))
            assert r.status_code == 422, (name, content_type, _shown(r))
            refused_json(r, 422)
    assert counts() == before
    assert task_state(in_db, world["task"]) == state


def test_brackets_inside_strings_are_not_nesting(client, bearer, police, counts):
    """The depth limit reads brackets outside strings only: a summary full of them is a summary."""
    before = counts()
    summary = "[{" * 2000 + '\\"' + "]}" * 2000
    r = client.post("/api/v1/challenges", json=raise_answers(police.id, summary=summary),
                    headers=bearer("csc-practitioner"))
    assert r.status_code == 201, _shown(r)
    assert counts()[0] == before[0] + 1


def test_a_completion_whose_data_is_not_an_object_is_422(client, bearer, world, counts, in_db):
    before, state = counts(), task_state(in_db, world["task"])
    for data in ([RESPOND], "text", 1, None, True, [[[]]]):
        r = client.post(f"/api/v1/tasks/{world['task']}/complete", json={"data": data},
                        headers=bearer("police-practitioner"))
        refused_json(r, 422)
    assert counts() == before
    assert task_state(in_db, world["task"]) == state


RAISED_AT = {
    "year-9999-west": "9999-12-31T23:59:59-23:59", "year-1-east": "0001-01-01T00:00:00+23:59",
    "offset-24h": "2026-12-18T15:00:00+24:00", "30-february": "2026-02-30T10:00:00Z", "hour-25": "2026-12-18T25:00:00Z",
    "six-digit-year": "+002026-12-18", "empty": "", "naive": "2026-12-18T15:00:00", "integer": 1, "float": 1e300,
    "boolean": True, "null": None, "list": [], "object": {}, "repeated": "2026-12-18T15:00:00Z" * 1000,
}


def test_a_raised_at_that_is_no_time_we_take_is_422(client, bearer, police, counts):
    before = counts()
    for name, raised_at in RAISED_AT.items():
        r = client.post("/api/v1/challenges", json={**raise_answers(police.id), "raised_at": raised_at},
                        headers=bearer("csc-practitioner"))
        assert "raised_at" in refused_json(r, 422)["errors"], (name, _shown(r))
    assert counts() == before


def test_a_token_that_expired_or_was_revoked_is_401_json(app, client, clock, police, counts):
    from engine import tokens
    from engine.models import User as UserRow
    from web.database import db

    with app.app_context():
        user = db.session.scalar(select(UserRow).where(UserRow.username == "csc-practitioner"))
        revoked_row, revoked = tokens.create_token(db.session, clock, user, "to revoke", 30)
        tokens.revoke_token(db.session, clock, revoked_row.id, user)
        clock.set(clock.now() - timedelta(days=8))
        _, expired = tokens.create_token(db.session, clock, user, "to expire", 7)
        clock.set(clock.now() + timedelta(days=8))
    before = counts()
    for secret in (revoked, expired, expired + "x", "pc_" + "\u00e9" * 100, "x" * 100_000):
        r = client.post("/api/v1/challenges", json=raise_answers(police.id),
                        headers={"Authorization": f"Bearer {secret}"})
        refused_json(r, 401)
    assert counts() == before
