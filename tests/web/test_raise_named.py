"""The raise form as the procedure reads: who is challenged (their role required; name, team and contact as
given) shown wherever the challenge is read, the concern first raised explained for each procedure, and a walked
case's pages, records, PDFs and notices with every date in words (no ISO dates). The PDFs are tagged."""

from __future__ import annotations

import io
import re

import pypdf
from sqlalchemy import select

from engine.models import Challenge, Notification
from engine.queries.documents import available
from tests.conftest import raise_answers
from tests.engine.test_dudley_scenario import (
    CONSIDER,
    ESCALATE,
    ESCALATION,
    GOVERNORS,
    MEETING,
    REPRESENTATION,
    RESPOND,
    TEMPLATE,
)
from tests.walk import Walk, at
from tests.web import test_web_pages as pages
from tests.web.test_web_pages import field_error, form_data, text

as_user = pages.as_user

NAMED = {"challenged_role": "Detective sergeant", "challenged_name": "Jo Smith",
         "challenged_team": "Public protection unit", "challenged_contact": "0121 626 5000"}
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")




def _visible(page: str) -> str:
    """What a person reads of a page: its text, without the markup (whose attributes may hold ISO moments, as
    <time datetime> does) or the scripts."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages).split())


def test_the_raise_form_refuses_a_challenge_without_the_role_challenged(as_user, agency, session):
    csc = as_user("csc-practitioner")
    before = session.scalar(select(Challenge.id).order_by(Challenge.id.desc()).limit(1))
    answers = form_data(raise_answers(agency("Durham").id))
    del answers["challenged_role"]
    r = csc.post("/challenges/new", data={**answers, "challenged_contact": "the front desk"})
    assert r.status_code == 422
    assert field_error(r, "challenged_role") == "This answer is required."
    assert field_error(r, "challenged_contact").startswith("Enter an email address")
    assert session.scalar(select(Challenge.id).order_by(Challenge.id.desc()).limit(1)) == before


def test_the_raise_form_says_what_the_concern_date_does_in_each_procedure(as_user):
    darlington = text(as_user("csc-practitioner").get("/challenges/new"))
    assert ("Recorded with the challenge. Deadlines count from the day the challenge is raised, not from this date."
            in darlington)
    assert "Role of the professional or decision-maker you are challenging" in darlington
    dudley = text(as_user("dudley-school-practitioner").get("/challenges/new"))
    assert "Your partnership's procedure counts its days from this date: it is day 1." in dudley


def test_who_was_challenged_is_shown_to_both_sides_and_in_the_records_and_the_api(as_user, agency, token, app):
    csc = as_user("csc-practitioner")
    r = csc.post("/challenges/new", data=form_data(raise_answers(agency("Durham").id, **NAMED,
                                                                 concern_first_raised="2026-12-01")))
    assert r.status_code == 302
    page = text(csc.get(r.headers["Location"]))
    for words in NAMED.values():
        assert words in page
    # Darlington records the concern date but counts from the raising.
    assert "Tuesday 1 December 2026" in page
    assert "Deadlines count from Friday 18 December 2026, the day the challenge was raised." in page
    challenge_id = int(r.headers["Location"].rsplit("/", 1)[1])

    police = as_user("police-practitioner")
    [task_id] = re.findall(r'data-task-id="(\d+)"', police.get("/tasks").get_data(as_text=True))
    task_page = text(police.get(f"/tasks/{task_id}"))
    assert "Who was challenged" in task_page and "Detective sergeant" in task_page and "0121 626 5000" in task_page

    with app.app_context():
        from web.database import db

        keys = list(available(db.session, db.session.get(Challenge, challenge_id)))
    record = text(csc.get(f"/challenges/{challenge_id}/records/{keys[0]}"))
    assert "Detective sergeant, Public protection unit (Jo Smith; 0121 626 5000)" in record
    assert "Detective sergeant, Public protection unit (Jo Smith; 0121 626 5000)" in \
        _pdf_text(csc.get(f"/challenges/{challenge_id}/records/{keys[0]}.pdf").data)

    bearer = {"Authorization": f"Bearer {token('csc-practitioner')}"}
    body = app.test_client().get(f"/api/v1/challenges/{challenge_id}", headers=bearer).json
    assert body["challenged"] == {"role": "Detective sergeant", "name": "Jo Smith",
                                  "team": "Public protection unit", "contact": "0121 626 5000"}
    assert (body["concern_first_raised"], body["deadlines_from"]) == ("2026-12-01", "2026-12-18")


def test_the_case_page_says_when_a_stage_had_ended_before_the_challenge_was_raised(as_user):
    csc = as_user("dudley-school-practitioner")
    r = csc.get("/challenges/new")
    police = re.search(r'<option value="(\d+)">West Midlands Police</option>', r.get_data(as_text=True)).group(1)
    r = csc.post("/challenges/new", data=form_data(raise_answers(int(police), concern_first_raised="2026-12-14")))
    assert r.status_code == 302
    page = " ".join(text(csc.get(r.headers["Location"])).split())
    assert "Open at stage 2" in page
    assert ("Deadlines count from Monday 14 December 2026, the day the concern was first raised: the procedure "
            "counts its days from the concern, so that day is day 1. When it was raised the deadline of stage 1 "
            "had already passed, so it moved on at once to the stage the procedure's timetable had reached.") in page


def _walk_dudley(session, clock) -> Walk:
    """A Dudley challenge raised over a concern of the day before, taken through all four stages."""
    walk = Walk(session, clock, "dudley")
    clock.set(at(2026, 12, 18, 9))
    walk.raise_("dudley-school-practitioner", "West Midlands Police", concern_first_raised="2026-12-17", **NAMED)
    walk.complete("dudley-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 18, 14))
    walk.complete("dudley-school-practitioner", "s1_decide", ESCALATE, at(2026, 12, 18, 15))
    walk.fire(at(2026, 12, 29, 17))  # the stage 2 reminder, two working days before day 9 (Thursday 31 December)
    walk.complete("dudley-police-manager", "s2_respond", RESPOND, at(2026, 12, 30, 10))
    walk.complete("dudley-school-manager", "s2_decide", ESCALATE, at(2026, 12, 30, 14))
    walk.complete("dudley-school-head", "s3_escalate_raising", ESCALATION, at(2027, 1, 4, 10))
    walk.complete("dudley-police-senior", "s3_escalate_receiving", ESCALATION, at(2027, 1, 4, 11))
    walk.complete("dudley-school-governors", "s3_governors_raising", GOVERNORS, at(2027, 1, 4, 12))
    walk.complete("dudley-police-rep", "s3_respond", RESPOND, at(2027, 1, 4, 13))
    walk.complete("dudley-school-rep", "s3_decide", ESCALATE, at(2027, 1, 4, 14))
    walk.complete("dudley-school-rep", "s4_representation_raising", REPRESENTATION, at(2027, 1, 5, 10))
    walk.fire(at(2027, 1, 12, 17))  # the police's representation lapses (day 16 counted from the concern)
    walk.complete("dudley-executive", "s4_consider", CONSIDER, at(2027, 1, 13, 10))
    walk.complete("dudley-executive", "s4_meeting", MEETING, at(2027, 1, 18, 16))
    walk.complete("dudley-executive", "s4_template", TEMPLATE, at(2027, 1, 19, 11))
    assert walk.refresh().status == "closed"
    return walk


def test_a_walked_case_reads_every_date_in_words(session, clock, as_user, app):
    walk = _walk_dudley(session, clock)
    challenge = walk.refresh()
    referrer = as_user("dudley-school-practitioner")
    found: dict[str, list[str]] = {}

    def scan(where: str, words: str) -> None:
        hits = ISO_DATE.findall(words)
        if hits:
            found[where] = hits

    page = referrer.get(f"/challenges/{challenge.id}").get_data(as_text=True)
    assert "Detective sergeant" in page and "Thursday 17 December 2026" in page
    scan("challenge page", _visible(page))
    assert "Deadlines count from Thursday 17 December 2026, the day the concern was first raised" in _visible(page)
    for task in walk.rows("s4_meeting") + walk.rows("s1_respond"):
        scan(f"task {task.bpmn_id}", _visible(as_user("dudley-executive" if task.bpmn_id == "s4_meeting" else
                                                      "dudley-police-practitioner").get(f"/tasks/{task.id}")
                                              .get_data(as_text=True)))
    for key in available(session, challenge):
        record = _visible(referrer.get(f"/challenges/{challenge.id}/records/{key}").get_data(as_text=True))
        scan(f"record {key}", record)
        if key == "resolution_template":  # the meeting's date, answered as 2027-01-18
            assert "Monday 18 January 2027" in record
        pdf = referrer.get(f"/challenges/{challenge.id}/records/{key}.pdf").data
        words = _pdf_text(pdf)
        assert challenge.reference in words
        scan(f"pdf {key}", words)
    for username in ("dudley-school-practitioner", "dudley-executive", "dudley-police-rep"):
        scan(f"notifications of {username}", _visible(as_user(username).get("/notifications").get_data(as_text=True)))
    for n in session.scalars(select(Notification).where(Notification.challenge_id == challenge.id)):
        scan(f"notice {n.subject}", f"{n.subject}\n{n.body}")
    assert found == {}


def _assert_tagged(data: bytes, title: str) -> None:
    reader = pypdf.PdfReader(io.BytesIO(data))
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"]) is True, title
    assert catalog["/Lang"] == "en-GB"
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"]) is True
    assert title in reader.metadata.title
    document = catalog["/StructTreeRoot"]["/K"]
    document = (document[0] if isinstance(document, list) else document).get_object()
    assert document["/S"] == "/Document"
    kinds = [kid.get_object()["/S"] for kid in document["/K"]]
    assert kinds.count("/H1") == 1 and "/H2" in kinds and "/P" in kinds, (title, kinds)
    # Every piece of marked content is closed on its page, and the footers are marked as artifacts.
    for page in reader.pages:
        content = page.get_contents().get_data().decode("latin-1")
        assert content.count("BDC") + content.count("BMC") == content.count("EMC")
        assert "/Artifact BMC" in content
    assert _pdf_text(data)


def test_the_records_and_the_report_pdfs_are_tagged(session, clock, as_user):
    walk = _walk_dudley(session, clock)
    referrer = as_user("dudley-school-practitioner")
    for key in available(session, walk.refresh()):
        _assert_tagged(referrer.get(f"/challenges/{walk.challenge.id}/records/{key}.pdf").data,
                       walk.challenge.reference)
    report = as_user("dudley-business-unit").get("/reports/report.pdf",
                                                 query_string={"from": "2026-12-01", "to": "2027-01-31"})
    assert report.status_code == 200
    _assert_tagged(report.data, "Professional challenge")
    assert not ISO_DATE.search(_pdf_text(report.data))
