"""The JSON API under /api/v1 through the Flask test client: every status code it answers with, who sees what,
and that a refused request changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.models import Challenge, Event, Task
from tests.conftest import raise_answers

RAISED_AT = "2026-12-18T15:00:00Z"
# One working day after Friday 18 December 2026: Monday 21 December, 17:00 London (GMT, so 17:00 UTC).
STAGE_1_DUE = "2026-12-21T17:00:00Z"
RESPOND = {"rationale": "The referral did not meet the threshold for a section 47 enquiry.",
           "response": "We will review the case with the school's DSL tomorrow."}
DECIDE_ESCALATE = {"discussion": "We spoke on the phone and could not agree.", "decision": "escalate",
                   "reason": "The injuries are still unexplained."}


@pytest.fixture
def api(client, token):
    """Call the API as a demo user (one token per user, made through the CLI), or with no token at all."""
    tokens: dict[str, str] = {}

    def call(method: str, path: str, as_user: str | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if as_user is not None:
            if as_user not in tokens:
                tokens[as_user] = token(as_user)
            headers["Authorization"] = f"Bearer {tokens[as_user]}"
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


@pytest.fixture
def police(agency):
    return agency("Durham")


@pytest.fixture
def raised(api, police):
    """A challenge csc-practitioner raised against Durham Constabulary at Friday 18 December 2026 15:00."""
    r = api("POST", "/challenges", "csc-practitioner", json={**raise_answers(police.id), "raised_at": RAISED_AT})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def add_user(app):
    """Create a user in the app's database; memberships are (agency id, role) pairs."""

    def make(username: str, memberships: list[tuple[int, str]]):
        from engine.accounts import create_user
        from web.database import db

        with app.app_context():
            create_user(db.session, username, f"Test user {username}", f"{username}@test.invalid",
                        "demo-password", memberships)
            db.session.commit()
        return username

    return make


@pytest.fixture
def second_police_practitioner(add_user, police):
    return add_user("police-practitioner-2", [(police.id, "practitioner")])


@pytest.fixture
def counts(app):
    """How many challenges, tasks and events the database holds."""

    def get() -> tuple[int, int, int]:
        from web.database import db

        with app.app_context():
            return tuple(db.session.scalar(select(func.count(model.id))) for model in (Challenge, Task, Event))

    return get


def respond_task_id(challenge: dict) -> int:
    [task] = [t for t in challenge["tasks"] if t["title"] == "Stage 1: respond to the challenge"]
    return task["id"]


def snapshot(api, challenge_id: int, as_user: str = "csc-practitioner") -> tuple[dict, list]:
    challenge = api("GET", f"/challenges/{challenge_id}", as_user)
    events = api("GET", f"/challenges/{challenge_id}/events", as_user)
    assert challenge.status_code == 200 and events.status_code == 200
    return challenge.json, events.json["events"]


# --- POST /challenges -------------------------------------------------------------------------------------------

def test_raise_returns_201_with_stage_1_task_due_monday_17_00(api, police, agency):
    r = api("POST", "/challenges", "csc-practitioner", json={**raise_answers(police.id), "raised_at": RAISED_AT})
    assert r.status_code == 201
    body = r.json
    assert body["reference"] == f"DAR-2026-{body['id']:05d}"
    assert body["partnership"] == "darlington"
    assert body["referrer"] == "csc-practitioner"
    assert body["raising_agency"] == {"id": agency("Darlington Children").id,
                                      "name": "Darlington Children's Social Care"}
    assert body["receiving_agency"] == {"id": police.id, "name": "Durham Constabulary"}
    assert body["subject_reference"] == "CH-1042"
    assert body["area"] == "thresholds"
    assert body["status"] == "open"
    assert body["outcome"] is None
    assert body["current_stage"] == 1
    assert body["raised_at"] == RAISED_AT
    assert body["closed_at"] is None
    assert len(body["tasks"]) == 1
    task = body["tasks"][0]
    assert task["title"] == "Stage 1: respond to the challenge"
    assert task["stage"] == 1
    assert task["lane"] == "Receiving practitioner"
    assert task["status"] == "open"
    assert task["due_at"] == STAGE_1_DUE
    assert task["completed_at"] is None


def test_raise_without_raised_at_uses_the_clock(api, police):
    r = api("POST", "/challenges", "csc-practitioner", json=raise_answers(police.id))
    assert r.status_code == 201
    assert r.json["raised_at"] == RAISED_AT
    assert r.json["tasks"][0]["due_at"] == STAGE_1_DUE


def test_raised_at_in_the_past_counts_deadlines_from_it(api, police):
    # Raised on Thursday morning: one working day later is Friday 18 December, 17:00 (still ahead of the clock).
    r = api("POST", "/challenges", "csc-practitioner",
            json={**raise_answers(police.id), "raised_at": "2026-12-17T10:00:00Z"})
    assert r.status_code == 201
    assert r.json["raised_at"] == "2026-12-17T10:00:00Z"
    assert r.json["current_stage"] == 1
    assert r.json["tasks"][0]["due_at"] == "2026-12-18T17:00:00Z"


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer pc_not-a-real-token"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic Y3NjLXByYWN0aXRpb25lcjpkZW1vLXBhc3N3b3Jk"},
], ids=["no-header", "unknown-token", "empty-token", "basic-auth"])
def test_raise_without_a_valid_token_is_401_and_creates_nothing(api, police, counts, headers):
    before = counts()
    r = api("POST", "/challenges", json={**raise_answers(police.id), "raised_at": RAISED_AT}, headers=headers)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json["error"] == "Send a valid token: 'Authorization: Bearer <token>'."
    assert counts() == before


def test_a_token_of_another_kind_does_not_work_as_a_bearer(api, police, token):
    real = token("csc-practitioner")
    r = api("POST", "/challenges", json=raise_answers(police.id), headers={"Authorization": f"Token {real}"})
    assert r.status_code == 401
    r = api("POST", "/challenges", json=raise_answers(police.id), headers={"Authorization": f"Bearer {real}x"})
    assert r.status_code == 401


@pytest.mark.parametrize("method,path", [
    ("GET", "/challenges"),
    ("GET", "/challenges/1"),
    ("GET", "/challenges/1/events"),
    ("GET", "/tasks"),
    ("GET", "/tasks/1"),
    ("POST", "/tasks/1/claim"),
    ("POST", "/tasks/1/complete"),
])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer pc_wrong"}], ids=["no-token", "bad-token"])
def test_every_other_endpoint_is_401_without_a_valid_token(api, raised, counts, method, path, headers):
    before = counts()
    r = api(method, path, json={"data": RESPOND}, headers=headers)
    assert r.status_code == 401
    assert "error" in r.json
    assert raised["reference"] not in r.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize("change,field,message", [
    (lambda a, own: {k: v for k, v in a.items() if k != "subject_reference"},
     "subject_reference", "This answer is required."),
    (lambda a, own: {**a, "subject_reference": ""}, "subject_reference", "This answer is required."),
    (lambda a, own: {**a, "area": "the weather"}, "area", "Choose one of the options."),
    (lambda a, own: {**a, "raised_at": "2028-01-19T15:00:00Z"}, "raised_at",
     "raised_at can be at most a year ahead of now."),
    (lambda a, own: {**a, "raised_at": "2025-11-19T15:00:00Z"}, "raised_at",
     "raised_at can be at most a year in the past."),
    (lambda a, own: {**a, "raised_at": "next Tuesday"}, "raised_at",
     "Give an ISO 8601 time, for example 2026-12-18T15:00:00Z."),
    (lambda a, own: {**a, "raised_at": "2026-12-18T15:00:00"}, "raised_at",
     "Give a time zone, for example 2026-12-18T15:00:00Z."),
    (lambda a, own: {**a, "receiving_agency_id": own}, "receiving_agency_id",
     "A professional challenge is made to another agency, not your own."),
    (lambda a, own: {**a, "receiving_agency_id": 99999}, "receiving_agency_id",
     "Choose an agency of your partnership."),
    (lambda a, own: {**a, "significant_risk": "maybe"}, "significant_risk", "Expected boolean."),
    (lambda a, own: {**a, "favourite_colour": "blue"}, "favourite_colour", "Unexpected answer."),
], ids=["missing-subject", "empty-subject", "bad-area", "far-future-raised-at", "long-past-raised-at",
                            "unparseable-raised-at",
        "naive-raised-at", "own-agency", "unknown-agency", "non-boolean-risk", "unknown-field"])
def test_raise_with_bad_answers_is_422_with_a_message_for_the_field(api, police, agency, counts, change, field,
                                                                    message):
    own = agency("Darlington Children").id
    before = counts()
    r = api("POST", "/challenges", "csc-practitioner", json=change(raise_answers(police.id), own))
    assert r.status_code == 422, r.json
    assert r.json["errors"][field] == message
    assert r.json["error"]
    assert counts() == before
    assert api("GET", "/challenges", "csc-practitioner").json == {"challenges": []}


def test_raise_names_every_bad_field_at_once(api, counts):
    before = counts()
    r = api("POST", "/challenges", "csc-practitioner", json={"area": "nonsense", "significant_risk": False})
    assert r.status_code == 422
    assert r.json["errors"] == {
        "receiving_agency_id": "This answer is required.",
        "challenged_role": "This answer is required.",
        "subject_reference": "This answer is required.",
        "summary": "This answer is required.",
        "cp_or_lac": "This answer is required.",
        "area": "Choose one of the options.",
    }
    assert counts() == before


@pytest.mark.parametrize("kwargs", [
    {"data": "receiving_agency_id=2&subject_reference=CH-1", "content_type": "application/x-www-form-urlencoded"},
    {"data": "{not json", "content_type": "application/json"},
    {"data": "just words", "content_type": "text/plain"},
    {"json": [1, 2, 3]},
    {},
], ids=["form-encoded", "broken-json", "text", "json-array", "no-body"])
def test_raise_with_a_body_that_is_not_a_json_object_is_422(api, counts, kwargs):
    before = counts()
    r = api("POST", "/challenges", "csc-practitioner", **kwargs)
    assert r.status_code == 422
    assert r.json["error"] == "The body is not JSON."
    assert r.json["errors"] == {"_body": "Send a JSON object with Content-Type: application/json."}
    assert counts() == before


def test_raise_by_a_user_with_no_agency_role_is_403(api, add_user, police, counts):
    add_user("no-role-user", [])
    before = counts()
    r = api("POST", "/challenges", "no-role-user", json={**raise_answers(police.id), "raised_at": RAISED_AT})
    assert r.status_code == 403
    assert r.json["error"] == "You hold no role in an agency, so you cannot raise a challenge."
    assert counts() == before


def test_raise_by_a_partnership_body_only_user_is_403(api, police, counts):
    # The business unit is the partnership's own body, not an agency that can challenge another.
    before = counts()
    r = api("POST", "/challenges", "dsp-business-unit", json=raise_answers(police.id))
    assert r.status_code == 403
    assert counts() == before


# --- reading challenges -----------------------------------------------------------------------------------------

def test_referrer_and_receiving_practitioner_read_the_challenge(api, raised):
    for username in ("csc-practitioner", "police-practitioner"):
        r = api("GET", f"/challenges/{raised['id']}", username)
        assert r.status_code == 200, username
        assert r.json == raised
        listed = api("GET", "/challenges", username)
        assert listed.status_code == 200
        assert [c["id"] for c in listed.json["challenges"]] == [raised["id"]]


def test_unknown_challenge_is_404(api, raised):
    r = api("GET", "/challenges/99999", "csc-practitioner")
    assert r.status_code == 404
    assert r.json["error"] == "There is no such challenge."
    assert api("GET", "/challenges/99999/events", "csc-practitioner").status_code == 404
    assert api("GET", "/tasks/99999", "csc-practitioner").status_code == 404
    assert api("POST", "/tasks/99999/claim", "csc-practitioner").status_code == 404
    assert api("POST", "/tasks/99999/complete", "csc-practitioner", json={"data": RESPOND}).status_code == 404


def test_an_uninvolved_agency_sees_no_trace_of_the_challenge(api, raised, counts):
    cid, tid = raised["id"], respond_task_id(raised)
    before_counts = counts()
    before = snapshot(api, cid)
    who = "health-practitioner"

    assert api("GET", "/tasks", who).json == {"tasks": []}
    assert api("GET", "/challenges", who).json == {"challenges": []}
    responses = [
        api("GET", f"/challenges/{cid}", who),
        api("GET", f"/challenges/{cid}/events", who),
        api("GET", f"/tasks/{tid}", who),
        api("POST", f"/tasks/{tid}/claim", who),
        api("POST", f"/tasks/{tid}/complete", who, json={"data": RESPOND}),
    ]
    for r in responses:
        assert r.status_code == 404, (r.request.path, r.status_code)
        text = r.get_data(as_text=True)
        assert raised["reference"] not in text
        assert "CH-1042" not in text
        assert "Durham" not in text
    assert counts() == before_counts
    assert snapshot(api, cid) == before


def test_other_roles_of_uninvolved_agencies_see_nothing_either(api, raised):
    cid, tid = raised["id"], respond_task_id(raised)
    for who in ("health-manager", "school-head", "dsp-scrutineer"):
        assert api("GET", "/tasks", who).json == {"tasks": []}, who
        assert api("GET", "/challenges", who).json == {"challenges": []}, who
        assert api("GET", f"/challenges/{cid}", who).status_code == 404, who
        assert api("GET", f"/tasks/{tid}", who).status_code == 404, who


# --- GET /tasks -------------------------------------------------------------------------------------------------

def test_my_tasks_lists_soonest_deadline_first(api, police, second_police_practitioner):
    def raise_at(moment: str, subject: str) -> dict:
        r = api("POST", "/challenges", "csc-practitioner",
                json={**raise_answers(police.id, subject_reference=subject), "raised_at": moment})
        assert r.status_code == 201, r.json
        return r.json

    monday = raise_at("2026-12-18T15:00:00Z", "CH-MON")      # due Mon 21 Dec 17:00
    friday = raise_at("2026-12-17T10:00:00Z", "CH-FRI")      # due Fri 18 Dec 17:00
    monday_too = raise_at("2026-12-18T09:00:00Z", "CH-MON2")  # due Mon 21 Dec 17:00, raised later by id
    taken = raise_at("2026-12-17T09:00:00Z", "CH-TAKEN")     # due Fri 18 Dec 17:00, claimed by a colleague

    assert api("POST", f"/tasks/{respond_task_id(taken)}/claim", second_police_practitioner).status_code == 200
    assert api("POST", f"/tasks/{respond_task_id(monday)}/claim", "police-practitioner").status_code == 200

    r = api("GET", "/tasks", "police-practitioner")
    assert r.status_code == 200
    tasks = r.json["tasks"]
    assert [t["challenge_reference"] for t in tasks] == [friday["reference"], monday["reference"],
                                                          monday_too["reference"]]
    assert [t["due_at"] for t in tasks] == ["2026-12-18T17:00:00Z", STAGE_1_DUE, STAGE_1_DUE]
    assert [t["claimed_by"] for t in tasks] == [None, "police-practitioner", None]
    first = tasks[0]
    assert first["title"] == "Stage 1: respond to the challenge"
    assert first["agency"] == "Durham Constabulary"
    assert first["role"] == "practitioner"
    assert first["side"] == "receiving"
    assert first["status"] == "open"
    assert "form" not in first  # lean lines: the task's own URL has its form
    assert first["url"] == f"/api/v1/tasks/{first['id']}"
    assert set(api("GET", first["url"].removeprefix("/api/v1"), "police-practitioner").json["form"]["required"]) \
        == {"rationale", "response"}
    assert api("GET", "/tasks?claimed=mine", "police-practitioner").json["tasks"][0]["challenge_reference"] == \
        monday["reference"]

    # The colleague sees the one they claimed and the unclaimed ones, not the one claimed by police-practitioner.
    # Equal deadlines come in the order the tasks were opened.
    theirs = api("GET", "/tasks", second_police_practitioner).json["tasks"]
    assert [t["challenge_reference"] for t in theirs] == [friday["reference"], taken["reference"],
                                                          monday_too["reference"]]
    # The referrer has nothing to do at stage 1 until the respond task is completed.
    assert api("GET", "/tasks", "csc-practitioner").json == {"tasks": []}


# --- claim ------------------------------------------------------------------------------------------------------

def test_claim_is_200_and_records_who(api, raised):
    tid = respond_task_id(raised)
    r = api("POST", f"/tasks/{tid}/claim", "police-practitioner")
    assert r.status_code == 200
    assert r.json["id"] == tid
    assert r.json["claimed_by"] == "police-practitioner"
    assert r.json["status"] == "open"
    assert api("GET", f"/tasks/{tid}", "police-practitioner").json["claimed_by"] == "police-practitioner"
    events = api("GET", f"/challenges/{raised['id']}/events", "csc-practitioner").json["events"]
    assert events[-1]["kind"] == "task_claimed"
    assert events[-1]["actor"] == "police-practitioner"
    assert events[-1]["task_id"] == tid


def test_claiming_ones_own_claim_again_changes_nothing(api, raised):
    tid = respond_task_id(raised)
    assert api("POST", f"/tasks/{tid}/claim", "police-practitioner").status_code == 200
    before = snapshot(api, raised["id"])
    r = api("POST", f"/tasks/{tid}/claim", "police-practitioner")
    assert r.status_code == 200
    assert r.json["claimed_by"] == "police-practitioner"
    assert snapshot(api, raised["id"]) == before


def test_claim_by_another_eligible_user_after_a_claim_is_409(api, raised, second_police_practitioner):
    tid = respond_task_id(raised)
    assert api("POST", f"/tasks/{tid}/claim", "police-practitioner").status_code == 200
    before = snapshot(api, raised["id"])
    r = api("POST", f"/tasks/{tid}/claim", second_police_practitioner)
    assert r.status_code == 409
    assert r.json["error"] == "This task has been claimed by Practitioner, Durham Constabulary."
    assert snapshot(api, raised["id"]) == before
    assert api("GET", f"/tasks/{tid}", "police-practitioner").json["claimed_by"] == "police-practitioner"


def test_the_second_practitioner_can_claim_an_unclaimed_task(api, raised, second_police_practitioner):
    tid = respond_task_id(raised)
    r = api("POST", f"/tasks/{tid}/claim", second_police_practitioner)
    assert r.status_code == 200
    assert r.json["claimed_by"] == second_police_practitioner
    assert api("POST", f"/tasks/{tid}/claim", "police-practitioner").status_code == 409


def test_the_receiving_manager_follows_stage_1_but_the_task_is_another_roles(api, raised):
    """police-manager supervises Durham Constabulary's challenges (the receiving agency): they may read this one,
    but the stage 1 task is the practitioners' (403), and nothing changes."""
    tid = respond_task_id(raised)
    before = snapshot(api, raised["id"])
    r = api("POST", f"/tasks/{tid}/claim", "police-manager")
    assert r.status_code == 403, r.json
    assert r.json["error"] == "This task belongs to another role or agency."
    r = api("POST", f"/tasks/{tid}/complete", "police-manager", json={"data": RESPOND})
    assert r.status_code == 403
    assert api("GET", f"/challenges/{raised['id']}", "police-manager").status_code == 200
    assert snapshot(api, raised["id"]) == before


def test_claim_by_the_referrer_of_a_receiving_task_is_403(api, raised):
    """The referrer sees the whole challenge but the respond task belongs to the receiving agency."""
    tid = respond_task_id(raised)
    before = snapshot(api, raised["id"])
    assert api("GET", f"/tasks/{tid}", "csc-practitioner").status_code == 200
    r = api("POST", f"/tasks/{tid}/claim", "csc-practitioner")
    assert r.status_code == 403
    assert r.json["error"] == "This task belongs to another role or agency."
    r = api("POST", f"/tasks/{tid}/complete", "csc-practitioner", json={"data": RESPOND})
    assert r.status_code == 403
    assert snapshot(api, raised["id"]) == before


# --- complete ---------------------------------------------------------------------------------------------------

def test_complete_is_200_and_opens_the_next_task(api, raised, clock):
    tid = respond_task_id(raised)
    clock.advance(hours=1)
    r = api("POST", f"/tasks/{tid}/complete", "police-practitioner", json={"data": RESPOND})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "completed"
    assert r.json["completed_by"] == "police-practitioner"
    assert r.json["claimed_by"] == "police-practitioner"
    assert r.json["completed_at"] == "2026-12-18T16:00:00Z"
    assert r.json["data"] == RESPOND

    challenge = api("GET", f"/challenges/{raised['id']}", "csc-practitioner").json
    assert [(t["title"], t["status"]) for t in challenge["tasks"]] == [
        ("Stage 1: respond to the challenge", "completed"),
        ("Stage 1: record the discussion and decide", "open"),
    ]
    assert challenge["current_stage"] == 1
    decide = challenge["tasks"][1]
    assert decide["lane"] == "Raising practitioner"
    assert decide["due_at"] == STAGE_1_DUE
    mine = api("GET", "/tasks", "csc-practitioner").json["tasks"]
    assert [t["id"] for t in mine] == [decide["id"]]
    assert api("GET", "/tasks", "police-practitioner").json == {"tasks": []}


def test_complete_accepts_the_answers_without_the_data_wrapper(api, raised):
    r = api("POST", f"/tasks/{respond_task_id(raised)}/complete", "police-practitioner", json=RESPOND)
    assert r.status_code == 200
    assert r.json["data"] == RESPOND


def test_completing_twice_is_409_and_changes_nothing(api, raised):
    tid = respond_task_id(raised)
    assert api("POST", f"/tasks/{tid}/complete", "police-practitioner", json={"data": RESPOND}).status_code == 200
    before = snapshot(api, raised["id"])
    task_before = api("GET", f"/tasks/{tid}", "police-practitioner").json

    other = {"rationale": "A different rationale.", "response": "A different response."}
    r = api("POST", f"/tasks/{tid}/complete", "police-practitioner", json={"data": other})
    assert r.status_code == 409
    assert r.json["error"] == "This task was already completed by Practitioner, Durham Constabulary."
    assert snapshot(api, raised["id"]) == before
    assert api("GET", f"/tasks/{tid}", "police-practitioner").json == task_before
    assert task_before["data"] == RESPOND
    # Claiming a completed task is refused the same way.
    assert api("POST", f"/tasks/{tid}/claim", "police-practitioner").status_code == 409
    assert snapshot(api, raised["id"]) == before


@pytest.mark.parametrize("data,errors", [
    ({}, {"rationale": "This answer is required.", "response": "This answer is required."}),
    ({"rationale": "", "response": "ok"}, {"rationale": "This answer is required."}),
    ({**RESPOND, "extra": "x"}, {"extra": "Unexpected answer."}),
    ({"rationale": 42, "response": "ok"}, {"rationale": "Expected string."}),
    ({**RESPOND, "proposed_plan": "x" * 10001}, {"proposed_plan": "Keep this under 10000 characters."}),
], ids=["empty", "empty-rationale", "unknown-field", "wrong-type", "too-long"])
def test_complete_with_invalid_answers_is_422_per_field_and_changes_nothing(api, raised, counts, data, errors):
    tid = respond_task_id(raised)
    before = snapshot(api, raised["id"])
    before_counts = counts()
    r = api("POST", f"/tasks/{tid}/complete", "police-practitioner", json={"data": data})
    assert r.status_code == 422
    assert r.json["errors"] == errors
    assert r.json["error"] == "Some answers need correcting."
    assert snapshot(api, raised["id"]) == before
    assert counts() == before_counts
    task = api("GET", f"/tasks/{tid}", "police-practitioner").json
    assert task["status"] == "open"
    assert task["claimed_by"] is None
    assert task["data"] is None


def test_complete_with_a_body_that_is_not_json_is_422(api, raised):
    tid = respond_task_id(raised)
    before = snapshot(api, raised["id"])
    r = api("POST", f"/tasks/{tid}/complete", "police-practitioner", data="rationale=x", content_type="text/plain")
    assert r.status_code == 422
    assert r.json["errors"] == {"_body": "Send a JSON object with Content-Type: application/json."}
    assert snapshot(api, raised["id"]) == before


def test_complete_by_another_user_after_a_claim_is_409(api, raised, second_police_practitioner):
    tid = respond_task_id(raised)
    assert api("POST", f"/tasks/{tid}/claim", "police-practitioner").status_code == 200
    before = snapshot(api, raised["id"])
    r = api("POST", f"/tasks/{tid}/complete", second_police_practitioner, json={"data": RESPOND})
    assert r.status_code == 409
    assert r.json["error"] == "This task has been claimed by Practitioner, Durham Constabulary."
    assert snapshot(api, raised["id"]) == before
    # The one who claimed it can still complete it.
    r = api("POST", f"/tasks/{tid}/complete", "police-practitioner", json={"data": RESPOND})
    assert r.status_code == 200


def test_a_cancelled_task_cannot_be_completed(api, raised, clock):
    """At the stage 1 deadline the procedure moves on: the stage 1 task is closed, and completing it is 409."""
    tid = respond_task_id(raised)
    clock.set(datetime(2026, 12, 21, 17, 30, tzinfo=UTC))
    r = api("POST", f"/tasks/{tid}/complete", "police-practitioner", json={"data": RESPOND})
    assert r.status_code == 409
    assert r.json["error"] == "This task is no longer open: the challenge has moved on."


# --- events -----------------------------------------------------------------------------------------------------

def test_events_list_the_challenge_history_oldest_first(api, raised):
    cid, tid = raised["id"], respond_task_id(raised)
    r = api("GET", f"/challenges/{cid}/events", "police-practitioner")
    assert r.status_code == 200
    events = r.json["events"]
    kinds = [e["kind"] for e in events]
    assert kinds[:2] == ["challenge_raised", "task_opened"]
    assert "stage_entered" in kinds
    raised_event = events[0]
    assert raised_event["actor"] == "csc-practitioner"
    assert raised_event["at"] == RAISED_AT
    assert raised_event["data"]["reference"] == raised["reference"]
    assert raised_event["data"]["subject_reference"] == "CH-1042"
    assert raised_event["data"]["receiving_agency"] == "Durham Constabulary"
    assert "mash_advice_shown" not in raised_event["data"]
    opened = events[1]
    assert opened["task_id"] == tid
    assert opened["data"]["title"] == "Stage 1: respond to the challenge"
    assert opened["data"]["due_at"] == "2026-12-21T17:00:00+00:00"
    [stage] = [e for e in events if e["kind"] == "stage_entered"]
    assert stage["data"] == {"stage": 1, "previous": 0}

    api("POST", f"/tasks/{tid}/claim", "police-practitioner")
    api("POST", f"/tasks/{tid}/complete", "police-practitioner", json={"data": RESPOND})
    later = api("GET", f"/challenges/{cid}/events", "csc-practitioner").json["events"]
    assert later[:len(events)] == events
    new_kinds = [e["kind"] for e in later[len(events):]]
    assert new_kinds == ["task_claimed", "task_completed", "task_opened"]
    completed = later[len(events) + 1]
    assert completed["actor"] == "police-practitioner"
    assert completed["data"]["answers"] == RESPOND
    ids = [e["id"] for e in later]
    assert ids == sorted(ids)


def test_escalating_at_stage_1_moves_to_stage_2(api, raised):
    cid, tid = raised["id"], respond_task_id(raised)
    assert api("POST", f"/tasks/{tid}/complete", "police-practitioner", json={"data": RESPOND}).status_code == 200
    [decide] = api("GET", "/tasks", "csc-practitioner").json["tasks"]
    r = api("POST", f"/tasks/{decide['id']}/complete", "csc-practitioner", json={"data": DECIDE_ESCALATE})
    assert r.status_code == 200, r.json
    challenge = api("GET", f"/challenges/{cid}", "csc-practitioner").json
    assert challenge["current_stage"] == 2
    open_tasks = [t for t in challenge["tasks"] if t["status"] == "open"]
    # Stage 2 starts with the raising line manager reviewing whether the concern is justified.
    assert [(t["title"], t["lane"]) for t in open_tasks] == [("Stage 2: review whether the concern is justified",
                                                              "Raising line manager")]
    # Three working days from Friday 18 December 2026: Monday 21, Tuesday 22, Wednesday 23 December, 17:00.
    assert open_tasks[0]["due_at"] == "2026-12-23T17:00:00Z"
    assert [t["id"] for t in api("GET", "/tasks", "csc-manager").json["tasks"]] == [open_tasks[0]["id"]]
    r = api("POST", f"/tasks/{open_tasks[0]['id']}/complete", "csc-manager",
            json={"data": {"justified": True, "review": "The concern stands."}})
    assert r.status_code == 200, r.json
    [respond] = [t for t in api("GET", f"/challenges/{cid}", "csc-practitioner").json["tasks"]
                 if t["status"] == "open"]
    assert (respond["title"], respond["lane"]) == ("Stage 2: respond to the challenge", "Receiving line manager")
    # The receiving line manager now holds a task of the challenge.
    assert [t["id"] for t in api("GET", "/tasks", "police-manager").json["tasks"]] == [respond["id"]]
    assert api("GET", f"/challenges/{cid}", "police-manager").status_code == 200


# --- the OpenAPI document ---------------------------------------------------------------------------------------

def test_openapi_document_is_served_without_a_token_and_looks_like_openapi_3_1(api):
    r = api("GET", "/openapi.json")
    assert r.status_code == 200
    assert r.content_type.startswith("application/json")
    doc = r.json
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearer": []}]
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        for method, operation in item.items():
            assert method in {"get", "post", "put", "patch", "delete"}, (path, method)
            assert operation["responses"], (path, method)
            for status in operation["responses"]:
                assert re.fullmatch(r"[1-5]\d\d", status), (path, method, status)
            params = [p for p in operation.get("parameters", []) if p["in"] == "path"]
            assert [p["name"] for p in params] == re.findall(r"\{(\w+)\}", path), (path, method)
            assert all(p["required"] is True for p in params)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_refs_all_resolve(api):
    doc = api("GET", "/openapi.json").json
    refs = set(_refs(doc))
    assert "#/components/schemas/Challenge" in refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{id}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    return routes


def test_openapi_documents_every_api_route_and_nothing_else(app, api):
    doc = api("GET", "/openapi.json").json
    routes = _api_routes(app)
    assert ("/challenges", "post") in routes and ("/tasks/{id}/complete", "post") in routes
    assert len(routes) == 17  # with release, reassign, agencies, notes, withdraw and attachments
    paths = {re.sub(r"\{[^{}]+\}", "{id}", path): item for path, item in doc["paths"].items()}
    for path, method in sorted(routes):
        assert path in paths, f"{method.upper()} {path} is not documented"
        assert method in paths[path], f"{method.upper()} {path} is not documented"
    documented = {(path, method) for path, item in paths.items() for method in item}
    assert documented == routes


@pytest.mark.parametrize("path,method,statuses", [
    ("/challenges", "post", {"201", "401", "403", "422"}),
    ("/challenges", "get", {"200", "401"}),
    ("/challenges/{id}", "get", {"200", "401", "404"}),
    ("/challenges/{id}/events", "get", {"200", "401", "404"}),
    ("/tasks", "get", {"200", "401"}),
    ("/tasks/{id}", "get", {"200", "401", "404"}),
    ("/tasks/{id}/claim", "post", {"200", "401", "403", "404", "409"}),
    ("/tasks/{id}/complete", "post", {"200", "401", "403", "404", "409", "422"}),
])
def test_openapi_documents_the_status_codes_the_api_answers_with(api, path, method, statuses):
    doc = api("GET", "/openapi.json").json
    assert statuses <= set(doc["paths"][path][method]["responses"])


def test_openapi_raise_schema_matches_the_raise_form(api):
    from engine.procedures.files import raise_form

    schema = api("GET", "/openapi.json").json["components"]["schemas"]["RaiseChallenge"]
    assert schema["required"] == raise_form()["required"]
    assert set(schema["properties"]) == set(raise_form()["properties"]) | {"raised_at"}
    assert schema["properties"]["area"]["enum"] == raise_form()["properties"]["area"]["enum"]


def test_an_unknown_api_path_answers_json_404(api):
    """api.py registers a JSON 404 handler on the blueprint ("No such endpoint.")."""
    r = api("GET", "/nothing-here", "csc-practitioner")
    assert r.status_code == 404
    assert r.content_type.startswith("application/json")
    assert r.json == {"error": "No such endpoint."}


def test_a_wrong_method_on_an_api_path_answers_json_405(api):
    """api.py registers a JSON 405 handler on the blueprint ("Method not allowed.")."""
    r = api("DELETE", "/challenges", "csc-practitioner")
    assert r.status_code == 405
    assert r.content_type.startswith("application/json")
    assert r.json == {"error": "Method not allowed."}


def test_an_oversized_body_is_refused_and_nothing_is_created(app, client, token, agency):
    from sqlalchemy import func, select

    from engine.models import Challenge
    from web.database import db

    bearer = {"Authorization": f"Bearer {token('csc-practitioner')}"}
    body = {"receiving_agency_id": agency("Durham").id, "subject_reference": "CH-1", "area": "thresholds",
            "summary": "x" * (2 * 1024 * 1024), "cp_or_lac": "neither", "significant_risk": False}
    r = client.post("/api/v1/challenges", json=body, headers=bearer)
    assert r.status_code == 413
    assert r.json["error"].startswith("That is more than this service accepts")
    with app.app_context():
        assert db.session.scalar(select(func.count(Challenge.id))) == 0


def test_a_challenge_raised_at_a_moment_ahead_of_the_servers_clock_counts_from_that_moment(api, clock, police):
    """The issue's check, run before the date: raised (through the API) at Fri 18 December 2026 15:00 while the
    server's clock says 24 November; stage 1 is still due Monday 21 December 17:00 London time."""
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    r = api("POST", "/challenges", "csc-practitioner",
            json={**raise_answers(police.id), "raised_at": "2026-12-18T15:00:00Z"})
    assert r.status_code == 201, r.json
    assert r.json["raised_at"] == "2026-12-18T15:00:00Z"
    assert [t["due_at"] for t in r.json["tasks"]] == ["2026-12-21T17:00:00Z"]


def test_the_api_neither_reads_nor_writes_the_cookie_session(app, client, login, api, raised):
    """A browser's session cookie sent along with a bearer token changes nothing: the token alone says who asks
    (even while the browser's user must change their password), and no cookie is set or varied on."""
    from engine.models import User
    from web.database import db

    assert login("csc-practitioner").status_code == 302
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "csc-practitioner")).must_change_password = True
        db.session.commit()
    assert client.get("/tasks").status_code == 302  # the browser is sent to change the password first
    r = api("GET", "/tasks", "police-practitioner")
    assert r.status_code == 200
    assert [t["id"] for t in r.json["tasks"]] == [respond_task_id(raised)]
    assert "Set-Cookie" not in r.headers
    assert "Cookie" not in r.headers.get("Vary", "")
    r = api("GET", "/tasks")
    assert r.status_code == 401  # the session cookie is no credential here
