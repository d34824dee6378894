"""A subject access export through the business unit's page: everything held under a case reference, as a zip
to hand over (each challenge's details, answers, history, notifications and records as PDFs), access-logged;
nobody else may make one, and an unknown reference is said to be unknown."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from engine.models import AccessLog
from tests.walk import Walk, at

RESPOND = {"rationale": "The referral did not meet the threshold for a section 47 enquiry.",
           "response": "We will review the case with the school's DSL."}


def test_the_business_unit_exports_everything_held_under_a_case_reference(client, login, session, clock):
    walk = Walk(session, clock, "darlington")
    first = walk.raise_("csc-practitioner", "Durham Constabulary", subject_reference="CH-9001")
    walk.act("police-practitioner", RESPOND, at(2026, 12, 18, 16, 0))
    second = Walk(session, clock, "darlington").raise_("school-practitioner", "Durham Constabulary",
                                                      subject_reference="CH-9001")
    Walk(session, clock, "darlington").raise_("csc-practitioner", "Durham Constabulary", subject_reference="CH-1")

    login("csc-practitioner")
    assert client.get("/subject-access").status_code == 404
    assert b"Subject access" not in client.get("/tasks").data
    client.post("/logout")

    login("dsp-business-unit")
    assert b"Subject access" in client.get("/tasks").data
    r = client.post("/subject-access", data={"subject_reference": "CH-0000"})
    assert r.status_code == 422 and b"Nothing is held under the case reference" in r.data
    r = client.post("/subject-access", data={"subject_reference": "CH-9001"})
    assert r.status_code == 200 and r.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    names = set(archive.namelist())
    assert "README.txt" in names
    for challenge in (first, second):
        assert {f"{challenge.reference}/challenge.json", f"{challenge.reference}/history.json",
                f"{challenge.reference}/stages.json", f"{challenge.reference}/monitoring_return.pdf"} <= names
    assert not any("CH-1/" in name for name in names)
    stages = json.loads(archive.read(f"{first.reference}/stages.json"))
    assert RESPOND["rationale"] in json.dumps(stages)
    assert archive.read(f"{first.reference}/monitoring_return.pdf").startswith(b"%PDF")
    logged = session.scalars(select(AccessLog.challenge_id).where(AccessLog.kind == "subject_access_export")).all()
    assert sorted(logged) == sorted([first.id, second.id])
