"""End to end in real headless Chromium, under the served Content-Security-Policy: the Tees auditor opens a case
that went through two tiers of senior management on the Tees version whose stage 3 was one loop
(tests/procedures/tees_one_loop), sees the tier count on the loop in the diagram, steps back
through it with the keyboard and the buttons, opens who read the case, downloads its audit bundle, and the bundle
then verifies offline, in a process with no server and no database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.audit.log import extend
from engine.models import Partnership
from engine.procedures.files import read_folder
from engine.procedures.versions import publish
from tests.browser import check_page, chromium, log_in, new_page, served
from tests.walk import Walk, at

pytestmark = pytest.mark.browser
ONE_LOOP = Path(__file__).parent.parent / "procedures" / "tees_one_loop"

RESPOND = {"rationale": "The disclosure did not meet the threshold.", "response": "We will look at it again."}
ESCALATE = {"discussion": "We spoke and could not agree.", "decision": "escalate", "reason": "No agreement."}
SENIOR = {"manager": "D. Patel, Detective Inspector", "rationale": "The decision stands.",
          "response": "We will review it with partners."}
NEXT_TIER = {"manager": "R. Jones, Head of Service", "discussion": "The senior managers met.",
             "professional_meeting": False, "decision": "next_tier", "reason": "Take it higher."}


def test_an_auditor_replays_a_tees_case_through_two_tiers_and_its_bundle_verifies_offline(live_app, session, clock,
                                                                                          tmp_path):
    tees = session.scalar(select(Partnership).where(Partnership.slug == "tees"))
    publish(session, clock, tees, read_folder(ONE_LOOP), by="test", reason="The version with one loop at stage 3")
    session.commit()
    walk = Walk(session, clock, "tees")
    challenge = walk.raise_("tees-csc-practitioner", "Cleveland Police")
    walk.complete("tees-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 10))
    walk.complete("tees-csc-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 11))
    walk.complete("tees-police-manager", "s2_respond", RESPOND, at(2026, 12, 22, 10))
    walk.complete("tees-csc-manager", "s2_decide", ESCALATE, at(2026, 12, 22, 11))
    walk.complete("tees-police-senior", "s3_respond", SENIOR, at(2026, 12, 23, 10))
    walk.complete("tees-csc-senior", "s3_decide", NEXT_TIER, at(2026, 12, 23, 11))
    walk.complete("tees-police-senior", "s3_respond", SENIOR, at(2026, 12, 24, 10))
    with live_app.app_context():
        from web.security import audit_signer

        signer = audit_signer(live_app)
    extend(session, clock, signer)

    with served(live_app) as base, chromium() as browser:
        page = new_page(browser, accept_downloads=True)
        log_in(page, base, "tees-auditor")
        page.get_by_role("link", name="Audit").click()
        page.wait_for_url(f"{base}/audit")
        check_page(page, "the audit page")
        page.get_by_role("link", name=f"Replay {challenge.reference}").click()
        page.wait_for_selector("[data-replay][data-ready=true]")
        check_page(page, "the replay page")
        # The second tier of senior management: the loop's tasks ran twice.
        respond = page.locator('[data-element-id="s3_respond"]').first
        assert "replay-completed" in respond.get_attribute("class")
        assert page.locator(".djs-overlay .replay-count", has_text="×2").count() >= 2
        assert page.locator(".djs-connection.replay-flow").count() > 5
        steps = int(page.locator("#replay-slider").get_attribute("max"))
        assert f"Step {steps} of {steps}" in page.locator("#replay-position").inner_text()

        # Back to the start with the keyboard, then one step on with the button.
        page.locator("#replay-previous").focus()
        for _ in range(steps):
            page.keyboard.press("ArrowLeft")
        assert "Step 1 of" in page.locator("#replay-position").inner_text()
        assert "Challenge raised" in page.locator("#replay-detail").inner_text()
        assert page.locator(".djs-overlay .replay-count").count() == 0
        page.get_by_role("button", name="Next step").click()
        assert "Step 2 of" in page.locator("#replay-position").inner_text()
        check_page(page, "the replay page at step 2")
        # The table carries every step for screen readers.
        assert page.locator("#replay-table tbody tr").count() == steps

        page.get_by_role("link", name="Who read it").click()
        assert "Read a case" in page.locator("#access-log").inner_text()
        assert "replay" in page.locator("#access-log").inner_text()
        check_page(page, "the case's access log")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the audit bundle").click()
        bundle = tmp_path / "bundle.zip"
        download.value.save_as(bundle)

    done = subprocess.run([sys.executable, "-m", "engine.audit.bundle", "verify", str(bundle), "--key",
                           signer.verifier()], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and "the bundle verifies" in done.stdout, done.stdout + done.stderr
