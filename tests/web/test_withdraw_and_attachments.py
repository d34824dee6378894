"""Withdrawing a challenge and attaching files, through the API and the challenge page: who may, what each
refusal answers (JSON under /api/v1, never a 500; the page again with the message), a file too large for the
request refused with a clear message, and downloads served as attachments that are never sniffed, each logged."""

# ruff: noqa: F811  (the API's fixtures, imported from its tests, are the tests' arguments)
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import AccessLog, Attachment, Challenge, Event
from tests.engine.test_attachments import EMAIL, PDF, PNG
from tests.web.test_api import api, police, raised  # noqa: F401

MB = 1024 * 1024


def _history(app, challenge_id: int) -> tuple[int, int]:
    from web.database import db

    with app.app_context():
        return (db.session.scalar(select(func.count(Event.id)).where(Event.challenge_id == challenge_id)),
                db.session.scalar(select(func.count(Attachment.id))))


def _upload(name: str, content: bytes, field: str = "file") -> dict:
    """A multipart body made here, as bytes: the test client spools a larger body of its own making to a
    temporary file it never closes."""
    boundary = "pc-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


# --- the API ----------------------------------------------------------------------------------------------------


def test_the_referrer_withdraws_through_the_api_and_every_refusal_is_json(app, api, raised):
    path = f"/challenges/{raised['id']}/withdraw"
    before = _history(app, raised["id"])
    for who, body, status, says in (
            ("police-practitioner", {"reason": "Done."}, 403, "Only whoever raised"),
            ("health-practitioner", {"reason": "Done."}, 404, "no such challenge"),
            ("csc-practitioner", {"reason": "  "}, 422, "not withdrawn"),
            ("csc-practitioner", {}, 422, "not withdrawn")):
        r = api("POST", path, who, json=body)
        assert r.status_code == status and says in r.json["error"], (who, r.json)
    r = api("POST", path, "csc-practitioner", data="reason=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 422 and r.json["errors"]["_body"]
    assert api("POST", "/challenges/999999/withdraw", "csc-practitioner", json={"reason": "x"}).status_code == 404
    assert _history(app, raised["id"]) == before

    r = api("POST", path, "csc-practitioner", json={"reason": "Settled at the strategy meeting."})
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["outcome"], r.json["next_timer_due"]) == ("closed", "withdrawn", None)
    assert [t["status"] for t in r.json["tasks"]] == ["withdrawn"]
    assert api("GET", "/tasks", "police-practitioner").json["tasks"] == []
    again = api("POST", path, "csc-practitioner", json={"reason": "Again."})
    assert again.status_code == 409 and "withdrawn already" in again.json["error"]
    kinds = [e["kind"] for e in api("GET", f"/challenges/{raised['id']}/events", "csc-practitioner").json["events"]]
    assert kinds[-3:] == ["challenge_withdrawn", "task_closed_by_withdrawal", "challenge_closed"]


def test_attachments_through_the_api_added_listed_and_downloaded_by_those_who_see_the_case(app, api,
                                                                                             raised):
    base = f"/challenges/{raised['id']}/attachments"
    r = api("POST", base, "police-practitioner", **_upload("Summary of our call.eml", EMAIL))
    assert r.status_code == 201, r.json
    added = r.json
    assert (added["file_name"], added["kind"], added["size"], added["added_by"]) == (
        "Summary of our call.eml", "eml", len(EMAIL), "police-practitioner")
    listed = api("GET", base, "csc-manager").json["attachments"]
    assert [a["id"] for a in listed] == [added["id"]] and listed[0]["url"] == f"/api/v1{base}/{added['id']}"

    got = api("GET", f"{base}/{added['id']}", "csc-practitioner")
    assert got.status_code == 200 and got.data == EMAIL
    assert got.headers["Content-Type"].startswith("message/rfc822")
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "Summary_of_our_call.eml" in got.headers["Content-Disposition"] or \
        "Summary%20of%20our%20call.eml" in got.headers["Content-Disposition"] or \
        "Summary of our call.eml" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    from web.database import db

    with app.app_context():
        logged = db.session.scalar(select(AccessLog).order_by(AccessLog.id.desc()))
        assert (logged.kind, logged.what, logged.challenge_id) == ("case_read", f"attachment:{added['id']}",
                                                                   raised["id"])

    for path in (base, f"{base}/{added['id']}"):
        refused = api("GET", path, "health-practitioner")
        assert refused.status_code == 404 and refused.is_json
    assert api("GET", f"{base}/999999", "csc-practitioner").status_code == 404


@pytest.mark.parametrize("upload, status, says", [
    (_upload("report.pdf", PNG), 422, "its content is not one"),
    (_upload("tool.exe", b"MZ"), 422, "Only PDF"),
    (_upload("a.pdf", PDF, field="other"), 422, "part named"),
    (_upload("big.pdf", b"%PDF-1.4\n" + bytes(5 * MB)), 422, "at most 5 MB"),
    (_upload("bigger.pdf", b"%PDF-1.4\n" + bytes(6 * MB)), 413, "at most 5 MB"),
])
def test_a_refused_attachment_answers_json_and_keeps_nothing(app, api, raised, upload, status, says):
    before = _history(app, raised["id"])
    r = api("POST", f"/challenges/{raised['id']}/attachments", "police-practitioner", **upload)
    assert r.status_code == status and r.is_json, r.data[:200]
    assert says in (r.json.get("errors", {}).get("file", "") + r.json["error"])
    assert _history(app, raised["id"]) == before


def test_an_auditor_cannot_attach_and_a_closed_challenge_takes_no_file(app, api, raised):
    base = f"/challenges/{raised['id']}/attachments"
    assert api("POST", base, "dsp-auditor", **_upload("a.pdf", PDF)).status_code == 403
    api("POST", f"/challenges/{raised['id']}/withdraw", "csc-practitioner", json={"reason": "Settled."})
    r = api("POST", base, "csc-practitioner", **_upload("a.pdf", PDF))
    assert r.status_code == 409 and "closed" in r.json["error"]


# --- the challenge page -------------------------------------------------------------------------------------------


@pytest.fixture
def page_challenge(app, raised):
    return raised["id"]


def test_the_withdraw_form_is_the_referrers_alone_and_asks_for_confirmation(app, client, login, page_challenge):
    login("police-practitioner")
    page = client.get(f"/challenges/{page_challenge}").get_data(as_text=True)
    assert "Withdraw this challenge" not in page and "Attach a file" in page
    r = client.post(f"/challenges/{page_challenge}/withdraw", data={"reason": "Not mine.", "confirm": "yes"})
    assert r.status_code == 403
    client.post("/logout")

    login("csc-practitioner")
    assert "Withdraw this challenge" in client.get(f"/challenges/{page_challenge}").get_data(as_text=True)
    before = _history(app, page_challenge)
    r = client.post(f"/challenges/{page_challenge}/withdraw", data={"reason": "Settled by phone."})
    assert r.status_code == 422 and "Tick the box to confirm" in r.get_data(as_text=True)
    r = client.post(f"/challenges/{page_challenge}/withdraw", data={"reason": " ", "confirm": "yes"})
    assert r.status_code == 422 and "Say why you are withdrawing it" in r.get_data(as_text=True)
    assert _history(app, page_challenge) == before

    r = client.post(f"/challenges/{page_challenge}/withdraw", data={"reason": "Settled by phone.",
                                                                     "confirm": "yes"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "its deadlines stopped" in text
    assert "Withdrawn by Practitioner, Darlington Children&#39;s Social Care" in text
    assert "Challenge withdrawn by its referrer: “Settled by phone.”" in text
    assert "closed when the challenge was withdrawn" in text and "Withdraw this challenge" not in text
    monitoring = client.get(f"/challenges/{page_challenge}/records/monitoring_return").get_data(as_text=True)
    assert "Withdrawn by the referrer" in monitoring and "Settled by phone." in monitoring
    r = client.post(f"/challenges/{page_challenge}/withdraw", data={"reason": "Again.", "confirm": "yes"})
    assert r.status_code == 409 and "withdrawn already" in r.get_data(as_text=True)
    with app.app_context():
        from web.database import db

        assert db.session.get(Challenge, page_challenge).outcome == "withdrawn"


def test_a_file_attached_on_the_page_is_listed_and_downloaded_and_one_too_large_is_refused(app, client, login,
                                                                                            page_challenge):
    login("police-practitioner")
    r = client.post(f"/challenges/{page_challenge}/attachments", **_upload("summary.pdf", PDF),
                    follow_redirects=True)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "summary.pdf is attached (PDF," in text
    assert "by Practitioner, Durham Constabulary" in text and "File attached: summary.pdf" in text
    before = _history(app, page_challenge)
    r = client.post(f"/challenges/{page_challenge}/attachments",
                    **_upload("big.pdf", b"%PDF-1.4\n" + bytes(6 * MB)))
    assert r.status_code == 413
    text = r.get_data(as_text=True)
    assert "The file was not attached" in text and "A file can be at most 5 MB" in text
    r = client.post(f"/challenges/{page_challenge}/attachments", **_upload("photo.png", PDF))
    assert r.status_code == 422 and "its content is not one" in r.get_data(as_text=True)
    assert _history(app, page_challenge) == before

    from web.database import db

    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id))
    got = client.get(f"/challenges/{page_challenge}/attachments/{attachment_id}")
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"] == "attachment; filename=summary.pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    client.post("/logout")
    login("health-practitioner")
    assert client.get(f"/challenges/{page_challenge}/attachments/{attachment_id}").status_code == 404
    # Too large from someone who may not see the case, or not logged in: the message, and nothing of the case.
    for _ in range(2):
        r = client.post(f"/challenges/{page_challenge}/attachments",
                        **_upload("big.pdf", b"%PDF-1.4\n" + bytes(6 * MB)))
        assert r.status_code == 413 and "A file can be at most 5 MB" in r.get_data(as_text=True)
        assert "CH-1042" not in r.get_data(as_text=True)
        client.post("/logout")


def test_other_requests_keep_the_one_megabyte_limit(app, client, login, page_challenge):
    login("csc-practitioner")
    r = client.post(f"/challenges/{page_challenge}/notes", data={"note": "x" * (2 * MB)})
    assert r.status_code == 413 and "(1 MB)" in r.get_data(as_text=True)
