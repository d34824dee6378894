"""Records a person can print and file: Darlington's Professional Challenge Recording Tool and the business
unit's monitoring return, as a page and as a PDF, with every field the seed lists."""

from __future__ import annotations

import io

from pypdf import PdfReader

from engine.cases.raising import raise_challenge
from engine.cases.tasks import complete_task
from engine.queries import access
from tests.conftest import raise_answers

RECORDING_TOOL = {
    "meeting_held": True,
    "meeting_date": "2026-12-22",
    "attendees": "CSC team manager, police sergeant, school DSL",
    "discussion": "Differing views on whether a strategy discussion was needed.",
    "agreed_outcomes": "Strategy discussion to be convened by 23 December.",
    "outstanding_issues": "Police attendance at the core group.",
    "next_steps": "Heads of service to meet if the strategy discussion does not happen.",
    "decision": "escalate",
    "reason": "No agreement on police attendance.",
}


def _complete(session, clock, user, **answers):
    task = access.my_tasks(session, user)[0]
    complete_task(session, clock, user, task.id, answers)


def _to_stage_4(session, clock, user, agency):
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    _complete(session, clock, user("police-practitioner"), rationale="Threshold not met.", response="No change.")
    _complete(session, clock, user("csc-practitioner"), discussion="Spoke by phone.", decision="escalate",
              reason="Still disagree.")
    _complete(session, clock, user("csc-manager"), justified=True, review="The concern stands.")
    _complete(session, clock, user("police-manager"), rationale="Threshold not met.", response="Managers agree.")
    _complete(session, clock, user("csc-manager"), discussion="Managers met.", decision="escalate",
              reason="Still disagree.")
    _complete(session, clock, user("police-manager"), rationale="As before.", response="Will attend a meeting.")
    _complete(session, clock, user("csc-manager"), **RECORDING_TOOL)
    session.refresh(challenge)
    return challenge


def test_recording_tool_prints_every_field_as_a_page_and_a_pdf(app, client, login, session, clock, user, agency):
    challenge = _to_stage_4(session, clock, user, agency)
    assert challenge.current_stage == 4
    login("csc-practitioner")  # the referrer
    page = client.get(f"/challenges/{challenge.id}/records/recording_tool")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for label in ("Was an inter-agency meeting held?", "Who attended", "Record of the discussion",
                  "Agreed outcomes and actions", "Outstanding issues", "Next steps"):
        assert label in text
    for value in ("Police attendance at the core group.", "Strategy discussion to be convened by 23 December."):
        assert value in text

    pdf = client.get(f"/challenges/{challenge.id}/records/recording_tool.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    content = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Professional Challenge Recording Tool" in content
    assert "Police attendance at the core group." in content
    assert challenge.reference in content


def test_monitoring_return_answers_the_business_units_questions(app, client, login, session, clock, user, agency):
    challenge = _to_stage_4(session, clock, user, agency)
    _complete(session, clock, user("police-head"), rationale="Resources.", response="We will attend.")
    _complete(session, clock, user("csc-head"), discussion="Heads agreed attendance.", decision="resolved",
              satisfied="yes", reason="Police will attend the core group.")
    login("dsp-business-unit")  # the business unit sees every challenge of its partnership
    page = client.get(f"/challenges/{challenge.id}/records/monitoring_return")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for question in ("What was the challenge?", "What was done to address the challenge?",
                     "What was the outcome of these actions?", "How was the issue resolved?",
                     "Are the professionals involved satisfied with the outcome?",
                     "was the issue referred to the partnership?"):
        assert question in text
    assert "Resolved at stage 4" in text
    assert "Police will attend the core group." in text
    pdf = client.get(f"/challenges/{challenge.id}/records/monitoring_return.pdf")
    content = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Resolved at stage 4" in content


def test_records_are_not_shown_to_an_uninvolved_agency(app, client, login, session, clock, user, agency):
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    login("health-practitioner")
    assert client.get(f"/challenges/{challenge.id}/records/monitoring_return").status_code == 404
    assert client.get(f"/challenges/{challenge.id}/records/monitoring_return.pdf").status_code == 404


def test_an_unknown_record_is_not_found(app, client, login, session, clock, user, agency):
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    login("csc-practitioner")
    assert client.get(f"/challenges/{challenge.id}/records/nonsense").status_code == 404
