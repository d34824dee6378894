"""The pages through the Flask test client: logging in and out, My tasks, raising a challenge, a task's page,
who sees what, notifications, and CSRF."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.cases.raising import MASH_ADVICE
from engine.models import Challenge, Event, Notification, Task, User
from tests.conftest import raise_answers

RESPOND = {"rationale": "The referral did not meet the threshold for a section 47 enquiry.",
           "response": "We will review the case with the school's DSL tomorrow."}
DECIDE_ESCALATE = {"discussion": "We spoke on the phone and could not agree.", "decision": "escalate",
                   "reason": "The injuries are still unexplained."}
POLICE_PRACTITIONER = "Practitioner, Durham Constabulary"


@pytest.fixture
def as_user(app):
    """A test client logged in as a user (each user gets a client of their own)."""

    def make(username: str):
        c = app.test_client()
        r = c.post("/login", data={"username": username, "password": "demo-password"})
        assert r.status_code == 302, (username, r.status_code)
        return c

    return make


@pytest.fixture
def police(agency):
    return agency("Durham")


@pytest.fixture
def in_db(app):
    """Run a query against the app's database and return its result."""

    def run(fn):
        from web.database import db

        with app.app_context():
            return fn(db.session)

    return run


@pytest.fixture
def counts(in_db):
    def get() -> tuple[int, int, int]:
        return in_db(lambda s: tuple(s.scalar(select(func.count(m.id))) for m in (Challenge, Task, Event)))

    return get


@pytest.fixture
def raise_via_api(client, token):
    """Raise a challenge as csc-practitioner through the API (so the raising time can be given); returns JSON."""
    tokens: dict[str, str] = {}

    def do(receiving_agency_id: int, raised_at: str = "2026-12-18T15:00:00Z", username: str = "csc-practitioner",
           **overrides):
        if username not in tokens:
            tokens[username] = token(username)
        r = client.post("/api/v1/challenges", json={**raise_answers(receiving_agency_id, **overrides),
                                                    "raised_at": raised_at},
                        headers={"Authorization": f"Bearer {tokens[username]}"})
        assert r.status_code == 201, r.json
        return r.json

    return do


@pytest.fixture
def raised(raise_via_api, police):
    return raise_via_api(police.id)


def form_data(answers: dict) -> dict[str, str]:
    """Answers as a browser posts them: every value text, booleans as true/false."""
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in answers.items()}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(response, name: str) -> str | None:
    found = re.search(rf'<p class="error" id="{name}-error"><span class="visually-hidden">Error:</span> ([^<]*)</p>',
                      response.get_data(as_text=True))
    return html.unescape(found.group(1)).strip() if found else None


def task_row_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="[^"]*" data-task-id="(\d+)">', response.get_data(as_text=True))]


def task_row(response, task_id: int) -> str:
    page = response.get_data(as_text=True)
    found = re.search(rf'<tr class="([^"]*)" data-task-id="{task_id}">(.*?)</tr>', page, re.S)
    assert found, f"no row for task {task_id}"
    return found.group(1) + "|" + html.unescape(found.group(2))


def respond_task_id(challenge: dict) -> int:
    [task] = [t for t in challenge["tasks"] if t["title"] == "Stage 1: respond to the challenge"]
    return task["id"]


def task_state(in_db, task_id: int) -> tuple:
    def read(s):
        t = s.get(Task, task_id)
        return (t.status, t.claimed_by_id, t.completed_by_id, t.data)

    return in_db(read)


# --- logging in and out -----------------------------------------------------------------------------------------

def test_login_page_is_200_with_its_fields(client):
    r = client.get("/login")
    assert r.status_code == 200
    page = text(r)
    assert "<h1>Log in</h1>" in page
    assert 'name="username"' in page and 'name="password"' in page
    assert 'type="password"' in page


@pytest.mark.parametrize("username,password", [
    ("csc-practitioner", "wrong-password"),
    ("nobody-at-all", "demo-password"),
    ("csc-practitioner", ""),
])
def test_a_bad_login_is_401_with_a_message_and_logs_nobody_in(client, username, password):
    r = client.post("/login", data={"username": username, "password": password})
    assert r.status_code == 401
    assert "That username and password do not match an active account." in text(r)
    # The username is kept in the form; the password is not.
    assert f'value="{username}"' in r.get_data(as_text=True)
    r = client.get("/tasks")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login")


def test_an_inactive_user_cannot_log_in(client, in_db):
    def deactivate(s):
        s.scalar(select(User).where(User.username == "csc-practitioner")).active = False
        s.commit()

    in_db(deactivate)
    r = client.post("/login", data={"username": "csc-practitioner", "password": "demo-password"})
    assert r.status_code == 401


def test_a_good_login_goes_to_my_tasks(client):
    r = client.post("/login", data={"username": "csc-practitioner", "password": "demo-password"})
    assert r.status_code == 302
    assert r.headers["Location"] == "/tasks"
    r = client.get("/tasks")
    assert r.status_code == 200
    assert "Practitioner, Darlington Children's Social Care" in text(r)
    # Already logged in: the login page sends you on.
    assert client.get("/login").status_code == 302


@pytest.mark.parametrize("next_url,goes_to", [
    ("/challenges", "/challenges"),
    ("https://evil.example/steal", "/tasks"),
    ("//evil.example/steal", "/tasks"),
])
def test_login_returns_to_a_local_next_page_only(client, next_url, goes_to):
    r = client.post("/login", query_string={"next": next_url},
                    data={"username": "csc-practitioner", "password": "demo-password"})
    assert r.status_code == 302
    assert r.headers["Location"] == goes_to


@pytest.mark.parametrize("method,path", [
    ("GET", "/"),
    ("GET", "/tasks"),
    ("GET", "/tasks/1"),
    ("POST", "/tasks/1"),
    ("POST", "/tasks/1/claim"),
    ("GET", "/challenges"),
    ("GET", "/challenges/new"),
    ("POST", "/challenges/new"),
    ("GET", "/challenges/1"),
    ("GET", "/notifications"),
    ("POST", "/notifications/read"),
])
def test_pages_redirect_to_login_when_logged_out(client, raised, counts, method, path):
    before = counts()
    r = client.open(path, method=method, data=form_data(RESPOND))
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")
    assert counts() == before


def test_logout_is_post_only(as_user):
    c = as_user("csc-practitioner")
    r = c.get("/logout")
    assert r.status_code == 405
    assert c.get("/tasks").status_code == 200  # still logged in
    r = c.post("/logout")
    assert r.status_code == 302
    assert r.headers["Location"] == "/login"
    assert "You have logged out." in text(c.get("/login"))
    assert c.get("/tasks").status_code == 302


def test_every_page_offers_a_logout_form_not_a_link(as_user):
    page = as_user("csc-practitioner").get("/tasks").get_data(as_text=True)
    assert re.search(r'<form class="logout" method="post" action="/logout">', page)
    assert 'href="/logout"' not in page


# --- My tasks ---------------------------------------------------------------------------------------------------

def test_my_tasks_lists_claimable_and_claimed_tasks_soonest_first_and_marks_overdue(raise_via_api, police,
                                                                                   as_user, clock):
    monday = raise_via_api(police.id, "2026-12-18T15:00:00Z", subject_reference="CH-MON")     # due Mon 17:00
    friday = raise_via_api(police.id, "2026-12-17T10:00:00Z", subject_reference="CH-FRI")     # due Fri 17:00
    tuesday_raise = raise_via_api(police.id, "2026-12-18T14:00:00Z", subject_reference="CH-MON2")  # due Mon
    c = as_user("police-practitioner")
    assert c.post(f"/tasks/{respond_task_id(monday)}/claim").status_code == 302

    r = c.get("/tasks")
    assert r.status_code == 200
    ids = task_row_ids(r)
    assert ids == [respond_task_id(friday), respond_task_id(monday), respond_task_id(tuesday_raise)]
    friday_row = task_row(r, respond_task_id(friday))
    monday_row = task_row(r, respond_task_id(monday))
    assert "Fri 18 Dec 2026, 17:00" in friday_row
    assert "Mon 21 Dec 2026, 17:00" in monday_row
    assert "CH-FRI" in friday_row and friday["reference"] in friday_row
    assert "Stage 1: respond to the challenge" in friday_row
    assert "Not yet" in friday_row
    assert "By you" in monday_row
    assert "Overdue" not in r.get_data(as_text=True)

    # Past Friday's deadline, with no timer fired: the task is still there, now marked overdue.
    clock.set(datetime(2026, 12, 18, 17, 30, tzinfo=UTC))
    r = c.get("/tasks")
    assert task_row_ids(r) == ids
    friday_row = task_row(r, respond_task_id(friday))
    assert friday_row.startswith("overdue|")
    assert "Overdue" in friday_row
    for other in (monday, tuesday_raise):
        row = task_row(r, respond_task_id(other))
        assert not row.startswith("overdue|")
        assert "Overdue" not in row
    # The task's own page says so too.
    assert "Overdue" in text(c.get(f"/tasks/{respond_task_id(friday)}"))
    assert "Overdue" not in text(c.get(f"/tasks/{respond_task_id(monday)}"))


def test_my_tasks_leaves_out_tasks_claimed_by_a_colleague(raised, as_user, in_db, police):
    from engine.accounts import create_user

    def add(s):
        create_user(s, "police-practitioner-2", "Second police practitioner", "pp2@test.invalid", "demo-password",
                    [(police.id, "practitioner")])
        s.commit()

    in_db(add)
    tid = respond_task_id(raised)
    colleague = as_user("police-practitioner-2")
    assert task_row_ids(colleague.get("/tasks")) == [tid]
    assert as_user("police-practitioner").post(f"/tasks/{tid}/claim").status_code == 302
    r = colleague.get("/tasks")
    assert task_row_ids(r) == []
    assert "You have no open tasks." in text(r)


def test_my_tasks_is_empty_for_the_referrer_at_first(raised, as_user):
    r = as_user("csc-practitioner").get("/tasks")
    assert r.status_code == 200
    assert task_row_ids(r) == []
    assert "You have no open tasks." in text(r)


# --- raising a challenge ----------------------------------------------------------------------------------------

def test_raise_form_shows_its_fields_without_the_users_own_agency(as_user):
    r = as_user("csc-practitioner").get("/challenges/new")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    select_html = re.search(r'<select id="receiving_agency_id" name="receiving_agency_id".*?</select>', page, re.S)
    assert select_html, "no receiving agency select"
    options = [html.unescape(label) for label in re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>',
                                                            select_html.group(0))]
    assert options == ["County Durham and Darlington NHS Foundation Trust", "Darlington Primary School",
                       "Durham Constabulary"]
    assert "Darlington Children's Social Care" not in options
    assert "DSP Business Unit" not in options
    for value in ("thresholds", "assessment_outcome", "decision_making", "information_sharing", "other"):
        assert f'name="area" value="{value}"' in page
    for name in ("subject_reference", "summary", "concern_first_raised"):
        assert f'name="{name}"' in page
    assert 'name="cp_or_lac" value="looked_after"' in page
    assert 'name="significant_risk" value="true"' in page
    assert 'name="raising_agency_id"' not in page  # one agency only: no choice to make
    assert "of Darlington Children's Social Care" in text(r)
    advice = re.search(r'<p id="mash-advice">(.*?)</p>', page, re.S)
    assert advice and html.unescape(advice.group(1)) == MASH_ADVICE
    assert "Multi-Agency Safeguarding Hub (MASH)" in text(r)


def test_raise_form_for_another_agency_leaves_that_agency_out(as_user):
    page = text(as_user("police-practitioner").get("/challenges/new"))
    select_html = re.search(r'<select id="receiving_agency_id".*?</select>', page, re.S).group(0)
    assert "Durham Constabulary" not in select_html
    assert "Darlington Children's Social Care" in select_html


def test_raise_form_is_403_for_a_user_with_no_agency_role(app, in_db):
    from engine.accounts import create_user

    in_db(lambda s: (create_user(s, "no-role", "No Role", "no-role@test.invalid", "demo-password", []),
                     s.commit()))
    c = app.test_client()
    assert c.post("/login", data={"username": "no-role", "password": "demo-password"}).status_code == 302
    assert c.get("/challenges/new").status_code == 403


def test_raise_with_nothing_filled_in_is_422_with_each_fields_message(as_user, counts):
    before = counts()
    r = as_user("csc-practitioner").post("/challenges/new", data={})
    assert r.status_code == 422
    for name in ("receiving_agency_id", "subject_reference", "area", "summary", "cp_or_lac", "significant_risk"):
        assert field_error(r, name) == "This answer is required.", name
    assert field_error(r, "concern_first_raised") is None
    assert "Some answers need correcting." in text(r)
    assert counts() == before


def test_raise_with_some_fields_missing_keeps_what_was_typed(as_user, police, counts):
    before = counts()
    answers = form_data(raise_answers(police.id))
    del answers["summary"]
    del answers["area"]
    r = as_user("csc-practitioner").post("/challenges/new", data=answers)
    assert r.status_code == 422
    assert field_error(r, "summary") == "This answer is required."
    assert field_error(r, "area") == "This answer is required."
    assert field_error(r, "subject_reference") is None
    page = r.get_data(as_text=True)
    assert 'value="CH-1042"' in page
    assert f'<option value="{police.id}" selected>' in page
    assert counts() == before


def test_raise_against_ones_own_agency_is_refused(as_user, agency, counts):
    before = counts()
    own = agency("Darlington Children")
    r = as_user("csc-practitioner").post("/challenges/new", data=form_data(raise_answers(own.id)))
    assert r.status_code == 422
    # The own agency is not among the choices, so the message must still say what is wrong.
    assert field_error(r, "receiving_agency_id") == "A professional challenge is made to another agency, not your own."
    assert counts() == before


def test_raise_with_significant_risk_records_the_mash_advice(as_user, police, in_db):
    c = as_user("csc-practitioner")
    r = c.post("/challenges/new", data=form_data(raise_answers(police.id, significant_risk=True,
                                                               cp_or_lac="child_protection_plan")))
    assert r.status_code == 302
    challenge_id = int(re.fullmatch(r"/challenges/(\d+)", r.headers["Location"]).group(1))
    page = c.get(r.headers["Location"])
    assert page.status_code == 200
    assert f"Yes. Advice shown and recorded: {MASH_ADVICE}" in text(page)
    assert "On a Child Protection Plan" in text(page)
    assert "Open at stage 1" in text(page)
    assert "raised. The receiving agency has been given its stage 1 task." in text(page)

    raised_data = in_db(lambda s: s.scalar(select(Event.data).where(Event.challenge_id == challenge_id,
                                                                     Event.kind == "challenge_raised")))
    assert raised_data["mash_advice_shown"] == MASH_ADVICE
    assert raised_data["significant_risk"] is True


def test_raise_without_significant_risk_records_no_advice(as_user, police, in_db):
    c = as_user("csc-practitioner")
    r = c.post("/challenges/new", data=form_data(raise_answers(police.id)))
    assert r.status_code == 302
    page = text(c.get(r.headers["Location"]))
    assert re.search(r"<dt>Significant risk now</dt><dd>No</dd>", page)
    assert "Advice shown and recorded" not in page
    data = in_db(lambda s: s.scalar(select(Event.data).where(Event.kind == "challenge_raised")))
    assert "mash_advice_shown" not in data
    assert data["significant_risk"] is False


def test_concern_first_raised_in_the_future_is_refused(as_user, police, counts):
    before = counts()
    c = as_user("csc-practitioner")
    r = c.post("/challenges/new", data=form_data(raise_answers(police.id, concern_first_raised="2026-12-19")))
    assert r.status_code == 422
    assert field_error(r, "concern_first_raised") == "This date cannot be in the future."
    assert counts() == before
    r = c.post("/challenges/new", data=form_data(raise_answers(police.id, concern_first_raised="19/12/2026")))
    assert r.status_code == 422
    assert field_error(r, "concern_first_raised") == "Enter a date as YYYY-MM-DD."
    assert counts() == before
    # Today (in London) is allowed, and shown on the challenge.
    r = c.post("/challenges/new", data=form_data(raise_answers(police.id, concern_first_raised="2026-12-18")))
    assert r.status_code == 302
    assert "<dt>Concern first raised</dt><dd>Friday 18 December 2026</dd>" in text(c.get(r.headers["Location"]))


# --- a task's page ----------------------------------------------------------------------------------------------

def test_task_page_shows_the_form_to_the_receiving_practitioner(raised, as_user):
    tid = respond_task_id(raised)
    r = as_user("police-practitioner").get(f"/tasks/{tid}")
    assert r.status_code == 200
    page = text(r)
    assert "<h1>Stage 1: respond to the challenge</h1>" in page
    assert "Mon 21 Dec 2026, 17:00" in page
    assert '<textarea id="rationale" name="rationale"' in page
    assert '<textarea id="response" name="response"' in page
    assert '<textarea id="proposed_plan" name="proposed_plan"' in page
    assert "Claim it" in page
    assert '<button type="submit">Submit</button>' in page
    assert raise_answers(0)["summary"] in page
    assert "Overdue" not in page


def test_task_page_post_with_missing_fields_is_422_with_messages(raised, as_user, in_db, counts):
    tid = respond_task_id(raised)
    before, state = counts(), task_state(in_db, tid)
    r = as_user("police-practitioner").post(f"/tasks/{tid}", data={"proposed_plan": "A plan."})
    assert r.status_code == 422
    assert field_error(r, "rationale") == "This answer is required."
    assert field_error(r, "response") == "This answer is required."
    assert field_error(r, "proposed_plan") is None
    assert "Some answers need correcting." in text(r)
    assert "A plan." in text(r)  # what was typed is kept
    assert counts() == before
    assert task_state(in_db, tid) == state == ("open", None, None, None)


def test_completing_via_the_page_then_again_is_409_with_a_clear_message(raised, as_user, in_db, counts):
    tid = respond_task_id(raised)
    c = as_user("police-practitioner")
    r = c.post(f"/tasks/{tid}", data=RESPOND)
    assert r.status_code == 302
    assert r.headers["Location"] == f"/challenges/{raised['id']}"
    assert "Done: Stage 1: respond to the challenge." in text(c.get(r.headers["Location"]))
    before, state = counts(), task_state(in_db, tid)
    assert state[0] == "completed" and state[3] == RESPOND

    r = c.post(f"/tasks/{tid}", data={"rationale": "Second go.", "response": "Second go."})
    assert r.status_code == 409
    page = text(r)
    assert f"This task was already completed by {POLICE_PRACTITIONER}." in page
    assert "This task is completed." in page
    assert counts() == before
    assert task_state(in_db, tid) == state


def test_another_practitioner_completing_a_claimed_task_gets_409(raised, as_user, in_db, police, counts):
    from engine.accounts import create_user

    in_db(lambda s: (create_user(s, "police-practitioner-2", "Second police practitioner", "pp2@test.invalid",
                                 "demo-password", [(police.id, "practitioner")]), s.commit()))
    tid = respond_task_id(raised)
    assert as_user("police-practitioner").post(f"/tasks/{tid}/claim").status_code == 302
    before, state = counts(), task_state(in_db, tid)
    colleague = as_user("police-practitioner-2")
    assert f"Claimed by {POLICE_PRACTITIONER}." in text(colleague.get(f"/tasks/{tid}"))
    r = colleague.post(f"/tasks/{tid}", data=RESPOND)
    assert r.status_code == 409
    assert f"This task has been claimed by {POLICE_PRACTITIONER}." in text(r)
    r = colleague.post(f"/tasks/{tid}/claim")
    assert r.status_code == 409
    assert f"This task has been claimed by {POLICE_PRACTITIONER}." in text(r)
    assert counts() == before
    assert task_state(in_db, tid) == state


def test_claiming_via_the_page(raised, as_user, in_db):
    tid = respond_task_id(raised)
    c = as_user("police-practitioner")
    r = c.post(f"/tasks/{tid}/claim")
    assert r.status_code == 302
    assert r.headers["Location"] == f"/tasks/{tid}"
    page = text(c.get(f"/tasks/{tid}"))
    assert "The task is yours: nobody else can complete it now." in page
    assert "You have claimed this task." in page
    assert "Claim it" not in page
    status, claimed_by, _, _ = task_state(in_db, tid)
    assert status == "open"
    assert claimed_by == in_db(lambda s: s.scalar(select(User.id).where(User.username == "police-practitioner")))


# --- who sees what ----------------------------------------------------------------------------------------------

def test_an_uninvolved_agency_gets_404_on_the_challenge_and_task_pages(raised, as_user, in_db, counts):
    tid, cid = respond_task_id(raised), raised["id"]
    before, state = counts(), task_state(in_db, tid)
    c = as_user("health-practitioner")
    for r in (c.get(f"/challenges/{cid}"), c.get(f"/tasks/{tid}"), c.post(f"/tasks/{tid}/claim"),
              c.post(f"/tasks/{tid}", data=RESPOND)):
        assert r.status_code == 404
        page = text(r)
        assert raised["reference"] not in page
        assert "CH-1042" not in page
    assert raised["reference"] not in text(c.get("/challenges"))
    assert "No challenges you raised or have a part in." in text(c.get("/challenges"))
    assert task_row_ids(c.get("/tasks")) == []
    assert counts() == before
    assert task_state(in_db, tid) == state


def test_the_referrer_sees_the_receiving_task_read_only_and_cannot_act_on_it(raised, as_user, in_db, counts):
    tid = respond_task_id(raised)
    before, state = counts(), task_state(in_db, tid)
    c = as_user("csc-practitioner")
    r = c.get(f"/tasks/{tid}")
    assert r.status_code == 200
    page = text(r)
    assert "You can follow it here, but not complete it." in page
    assert 'name="rationale"' not in page
    assert "Claim it" not in page
    assert c.post(f"/tasks/{tid}/claim").status_code == 403
    r = c.post(f"/tasks/{tid}", data=RESPOND)
    assert r.status_code == 403
    assert "This task belongs to another role or agency." in text(r)
    assert counts() == before
    assert task_state(in_db, tid) == state


def test_the_receiving_manager_follows_stage_1_read_only(raised, as_user, in_db, counts):
    """police-manager supervises Durham Constabulary's challenges: they see this one, but the stage 1 task is the
    practitioners'."""
    tid = respond_task_id(raised)
    before, state = counts(), task_state(in_db, tid)
    c = as_user("police-manager")
    assert c.get(f"/tasks/{tid}").status_code == 200
    assert c.get(f"/challenges/{raised['id']}").status_code == 200
    assert c.post(f"/tasks/{tid}/claim").status_code == 403
    assert c.post(f"/tasks/{tid}", data=RESPOND).status_code == 403
    assert counts() == before
    assert task_state(in_db, tid) == state


def test_the_referrer_follows_the_receiving_task_read_only_and_cannot_act_on_it(raised, as_user, in_db, counts):
    tid = respond_task_id(raised)
    before, state = counts(), task_state(in_db, tid)
    c = as_user("csc-practitioner")
    r = c.get(f"/tasks/{tid}")
    assert r.status_code == 200
    assert "You can follow it here, but not complete it." in text(r)
    assert 'name="rationale"' not in text(r)
    assert c.post(f"/tasks/{tid}/claim").status_code == 403
    assert c.post(f"/tasks/{tid}", data=RESPOND).status_code == 403
    assert counts() == before
    assert task_state(in_db, tid) == state


def test_the_challenge_page_shows_the_record_to_both_sides(raised, as_user):
    for username in ("csc-practitioner", "police-practitioner"):
        r = as_user(username).get(f"/challenges/{raised['id']}")
        assert r.status_code == 200, username
        page = text(r)
        assert f"<h1>{raised['reference']}: case CH-1042</h1>" in page
        assert "Open at stage 1" in page
        assert "Durham Constabulary" in page
        assert "Challenge raised" in page
        assert "Stage 1: respond to the challenge" in page


# --- notifications ----------------------------------------------------------------------------------------------

def test_the_referrer_is_told_when_the_challenge_moves_to_stage_2(raised, as_user, in_db):
    tid = respond_task_id(raised)
    assert as_user("police-practitioner").post(f"/tasks/{tid}", data=RESPOND).status_code == 302
    referrer = as_user("csc-practitioner")
    decide_id = in_db(lambda s: s.scalar(select(Task.id).where(Task.challenge_id == raised["id"],
                                                                Task.status == "open")))
    assert task_row_ids(referrer.get("/tasks")) == [decide_id]
    r = referrer.post(f"/tasks/{decide_id}", data=DECIDE_ESCALATE)
    assert r.status_code == 302
    assert "Open at stage 2" in text(referrer.get(f"/challenges/{raised['id']}"))

    r = referrer.get("/notifications")
    assert r.status_code == 200
    page = text(r)
    assert f"{raised['reference']}: now at stage 2" in page
    assert "has moved from stage 1 to stage 2" in page
    assert f'href="/challenges/{raised["id"]}"' in page

    # Somebody else's notifications are not shown to the referrer, nor the referrer's to them.
    other = text(as_user("health-practitioner").get("/notifications"))
    assert "No notifications yet." in other
    assert raised["reference"] not in other
    mine = in_db(lambda s: s.scalars(select(Notification.subject).join(User, User.id == Notification.user_id)
                                     .where(User.username == "csc-practitioner")).all())
    assert f"{raised['reference']}: now at stage 2" in mine


def test_marking_notifications_read(raised, as_user):
    c = as_user("police-practitioner")
    page = text(c.get("/notifications"))
    assert f"{raised['reference']}: new task - Stage 1: respond to the challenge" in page
    assert "<strong>New</strong>" in page
    assert re.search(r'<span class="badge" aria-label="1 unread">1</span>', page)
    r = c.post("/notifications/read")
    assert r.status_code == 302
    page = text(c.get("/notifications"))
    assert "<strong>New</strong>" not in page
    assert 'class="badge"' not in page


# --- CSRF -------------------------------------------------------------------------------------------------------

@pytest.fixture
def csrf_app(app):
    from web import create_app
    from web.database import db

    config = {key: app.config[key] for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "CLOCK", "SECRET_KEY")}
    protected = create_app({**config, "WTF_CSRF_ENABLED": True})
    yield protected
    with protected.app_context():
        db.session.remove()
        db.engine.dispose()


def csrf_token(response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found, "no csrf_token in the page"
    return found.group(1)


def test_login_without_a_csrf_token_is_rejected(csrf_app):
    c = csrf_app.test_client()
    r = c.post("/login", data={"username": "csc-practitioner", "password": "demo-password"})
    assert r.status_code == 400
    assert c.get("/tasks").status_code == 302  # nobody logged in
    r = c.post("/login", data={"username": "csc-practitioner", "password": "demo-password",
                               "csrf_token": "forged"})
    assert r.status_code == 400
    assert c.get("/tasks").status_code == 302
    # With the token from the page, the same login works.
    token = csrf_token(c.get("/login"))
    r = c.post("/login", data={"username": "csc-practitioner", "password": "demo-password", "csrf_token": token})
    assert r.status_code == 302
    assert c.get("/tasks").status_code == 200


def test_raising_and_completing_without_a_csrf_token_are_rejected(csrf_app, police, raised, counts, in_db):
    tid = respond_task_id(raised)
    before, state = counts(), task_state(in_db, tid)
    c = csrf_app.test_client()
    token = csrf_token(c.get("/login"))
    assert c.post("/login", data={"username": "police-practitioner", "password": "demo-password",
                                  "csrf_token": token}).status_code == 302
    assert c.post(f"/tasks/{tid}", data=RESPOND).status_code == 400
    assert c.post(f"/tasks/{tid}/claim").status_code == 400
    assert c.post("/challenges/new", data=form_data(raise_answers(police.id))).status_code == 400
    assert counts() == before
    assert task_state(in_db, tid) == state
    # Logging out needs the token too, so a link elsewhere cannot log you out.
    assert c.post("/logout").status_code == 400
    assert c.get("/tasks").status_code == 200
    # The form's own token works.
    page = c.get(f"/tasks/{tid}")
    assert c.post(f"/tasks/{tid}", data={**RESPOND, "csrf_token": csrf_token(page)}).status_code == 302
    assert task_state(in_db, tid)[0] == "completed"


def test_the_api_needs_no_csrf_token(csrf_app, police, token):
    bearer = token("csc-practitioner")
    c = csrf_app.test_client()
    r = c.post("/api/v1/challenges", json=raise_answers(police.id), headers={"Authorization": f"Bearer {bearer}"})
    assert r.status_code == 201, r.json
