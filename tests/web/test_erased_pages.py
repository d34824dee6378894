"""An erased challenge's pages still open (its details, record, PDFs, replay and audit bundle), showing what is
kept and none of what was erased; its bundle verifies offline, its erased entries counted as erased."""

from __future__ import annotations

from sqlalchemy import select

from engine import retention
from engine.audit import bundle
from engine.audit.log import extend
from engine.audit.notes import Signer
from engine.models import Event
from tests.walk import Walk, at

RESPOND = {"rationale": "The referral did not meet the threshold for a section 47 enquiry.",
           "response": "We will review the case with the school's DSL."}
RESOLVED = {"discussion": "We agreed a strategy discussion will be held.", "decision": "resolved", "satisfied": "yes",
            "reason": "A strategy discussion addresses the concern."}


def test_an_erased_challenges_pages_open_without_its_words(app, client, login, session, clock, demo):
    walk = Walk(session, clock, "darlington")
    challenge = walk.raise_("csc-practitioner", "Durham Constabulary", subject_reference="CH-5150")
    walk.act("police-practitioner", RESPOND, at(2026, 12, 18, 16, 0))
    walk.act("csc-practitioner", RESOLVED, at(2026, 12, 18, 16, 30))
    demo.retention_days = 365
    session.commit()
    signer = Signer.generate("test.invalid/audit")
    extend(session, clock, signer)
    clock.set(at(2027, 12, 20, 9, 0))
    assert retention.erase_due(session, clock) == 1
    extend(session, clock, signer)
    words = session.scalars(select(Event.id).where(Event.challenge_id == challenge.id,
                                                   Event.kind.in_(retention.CONTENT_KINDS))).all()

    for who, paths in (("dsp-business-unit", [f"/challenges/{challenge.id}",
                                             f"/challenges/{challenge.id}/records/monitoring_return",
                                             f"/challenges/{challenge.id}/records/monitoring_return.pdf"]),
                       ("dsp-auditor", [f"/audit/challenges/{challenge.id}",
                                        f"/audit/challenges/{challenge.id}/bundle.zip"])):
        login(who)
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            assert b"threshold for a section 47" not in r.data and b"CH-5150" not in r.data, path
            if path.endswith("bundle.zip"):
                checked = bundle.check(r.data, signer.verifier())
                assert checked.ok, checked.problems
                assert checked.erased == len(words) and checked.entries > checked.erased
        client.post("/logout")
