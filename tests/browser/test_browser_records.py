"""End to end in real headless Chromium: from a challenge's page, the referrer opens its monitoring return as a
printable page and downloads it as a PDF; a user of an uninvolved agency cannot."""

from __future__ import annotations

import pytest

from engine.cases.raising import raise_challenge
from engine.cases.tasks import complete_task
from engine.queries import access
from tests.browser import chromium, log_in, log_out, new_page, served
from tests.conftest import raise_answers

pytestmark = pytest.mark.browser


def test_the_referrer_prints_the_monitoring_return(live_app, session, clock, user, agency):
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    officer = user("police-practitioner")
    task = access.my_tasks(session, officer)[0]
    complete_task(session, clock, officer, task.id, {"rationale": "Threshold not met.",
                                                    "response": "Agreed to review."})
    referrer = user("csc-practitioner")
    task = access.my_tasks(session, referrer)[0]
    complete_task(session, clock, referrer, task.id, {"discussion": "We agreed a strategy discussion.",
                                                     "decision": "resolved", "satisfied": "yes",
                                                     "reason": "Review agreed."})

    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "csc-practitioner")
        page.goto(f"{base}/challenges/{challenge.id}")
        page.get_by_role("link", name="Business unit monitoring return").click()
        page.wait_for_url(f"**/challenges/{challenge.id}/records/monitoring_return")
        assert page.get_by_role("heading", name="Business unit monitoring return").is_visible()
        assert page.get_by_role("heading", name="How was the issue resolved?").is_visible()
        assert "Resolved at stage 1" in page.content()
        assert "We agreed a strategy discussion." in page.content()
        pdf = page.request.get(f"{base}/challenges/{challenge.id}/records/monitoring_return.pdf")
        assert pdf.status == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")
        log_out(page)

        log_in(page, base, "health-practitioner")
        response = page.goto(f"{base}/challenges/{challenge.id}/records/monitoring_return")
        assert response.status == 404
        assert "Not found" in page.content()
