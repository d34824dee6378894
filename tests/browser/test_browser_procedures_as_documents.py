"""End to end in real headless Chromium: the procedures as their documents read. A Tees referrer sees each tier of
management numbered on the case page, the head of service holding tier 2 finds it in My tasks, and the auditor's
replay draws the diagram with the tiers' lanes; a Darlington
challenge offers its Recording Tool only once stage 3 has started, the tool carries the disagreement, and at
stage 5 the raising agency's designated lead finds the monitoring questions already answered from what the stages
recorded, checks them and sends them to the DSP Business Unit."""

from __future__ import annotations

import pytest

from tests.browser import check_page, chromium, log_in, log_out, new_page, served
from tests.walk import Walk, at

pytestmark = pytest.mark.browser

RESPOND = {"rationale": "The threshold was not met.", "response": "We will review it."}
ESCALATE = {"discussion": "We could not agree.", "decision": "escalate", "reason": "No agreement."}
SENIOR = {"manager": "D. Patel, Detective Inspector", "rationale": "The decision stands.",
          "response": "We will review it with partners."}
NEXT_TIER = {"manager": "R. Jones, Service Manager", "discussion": "The senior managers met.",
             "professional_meeting": False, "decision": "next_tier", "reason": "Take it higher."}
TOOL = {"meeting_held": False, "discussion": "Each agency set out its view.",
        "agreed_outcomes": "Police will share the incident log.", "next_steps": "Heads of service.",
        "decision": "escalate", "reason": "The disagreement remains."}


def test_a_tees_case_page_numbers_each_tier_of_management(live_app, session, clock):
    walk = Walk(session, clock, "tees")
    challenge = walk.raise_("tees-csc-practitioner", "Cleveland Police")
    walk.complete("tees-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    walk.complete("tees-csc-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 10))
    walk.complete("tees-police-manager", "s2_respond", RESPOND, at(2026, 12, 21, 11))
    walk.complete("tees-csc-manager", "s2_decide", ESCALATE, at(2026, 12, 21, 12))
    walk.complete("tees-police-senior", "s3_respond", SENIOR, at(2026, 12, 22, 10))
    walk.complete("tees-csc-senior", "s3_decide", NEXT_TIER, at(2026, 12, 22, 11))

    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "tees-csc-practitioner")
        page.goto(f"{base}/challenges/{challenge.id}")
        stage_3 = page.locator("section.stage", has=page.get_by_role("heading", name="Stage 3", exact=False)).last
        headings = stage_3.locator("h4").all_inner_texts()
        assert headings == ["Stage 3, tier 1: receiving senior manager responds",
                            "Stage 3, tier 1: senior managers record the outcome",
                            "Stage 3, tier 2: receiving head of service responds"]
        # Each tier has its own deadline: tier 2's, five working days from Tue 22 Dec: 23, 24, 29, 30, 31 December.
        assert "due Thu 31 Dec 2026, 17:00" in stage_3.locator(".task-record").last.inner_text()
        check_page(page, "a Tees case page at tier 2")
        log_out(page)

        log_in(page, base, "tees-police-head")
        page.goto(f"{base}/tasks")
        assert page.get_by_role("link", name="Stage 3, tier 2: receiving head of service responds").is_visible()
        check_page(page, "a head of service's tasks at tier 2")
        log_out(page)

        # The diagram with its tiers' lanes draws in the auditor's replay, tier 1 done and tier 2 waiting.
        log_in(page, base, "tees-auditor")
        page.goto(f"{base}/audit")
        page.get_by_role("link", name=f"Replay {challenge.reference}").click()
        page.wait_for_selector("[data-replay][data-ready=true]")
        assert "replay-completed" in page.locator('[data-element-id="s3_decide"]').first.get_attribute("class")
        assert page.locator('[data-element-id="s3_t2_respond"]').count() >= 1
        assert page.locator('[data-element-id="lane_12"]').count() >= 1
        check_page(page, "the replay of a Tees case at tier 2")


def test_darlington_offers_the_recording_tool_from_stage_3_and_the_dsl_sends_prefilled_monitoring(live_app, session,
                                                                                                   clock):
    walk = Walk(session, clock, "darlington")
    challenge = walk.raise_("csc-practitioner", "Durham Constabulary")
    walk.complete("police-practitioner", "s1_respond", RESPOND, at(2026, 12, 18, 16))
    walk.complete("csc-practitioner", "s1_decide", ESCALATE, at(2026, 12, 18, 16, 30))

    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "csc-practitioner")
        page.goto(f"{base}/challenges/{challenge.id}")
        # Stage 2: there is nothing to record on the Recording Tool yet.
        assert page.get_by_role("link", name="Business unit monitoring return").is_visible()
        assert page.get_by_role("link", name="Professional Challenge Recording Tool").count() == 0
        assert page.goto(f"{base}/challenges/{challenge.id}/records/recording_tool").status == 404

        walk.complete("csc-manager", "s2_review", {"justified": True, "review": "It stands."}, at(2026, 12, 21, 9))
        walk.complete("police-manager", "s2_respond", RESPOND, at(2026, 12, 21, 10))
        walk.complete("csc-manager", "s2_decide", ESCALATE, at(2026, 12, 21, 11))
        page.goto(f"{base}/challenges/{challenge.id}")
        page.get_by_role("link", name="Professional Challenge Recording Tool").click()
        page.wait_for_url(f"**/challenges/{challenge.id}/records/recording_tool")
        assert page.get_by_role("heading", name="The disagreement").is_visible()
        assert challenge.summary in page.content()
        check_page(page, "the Recording Tool at stage 3")
        log_out(page)

        walk.complete("police-manager", "s3_respond", RESPOND, at(2026, 12, 22, 10))
        walk.complete("csc-manager", "s3_decide", TOOL, at(2026, 12, 22, 11))
        walk.complete("police-head", "s4_respond", RESPOND, at(2026, 12, 23, 10))
        walk.complete("csc-head", "s4_decide", ESCALATE, at(2026, 12, 23, 11))
        assert walk.refresh().current_stage == 5

        log_in(page, base, "csc-manager")
        page.goto(f"{base}/tasks")
        page.get_by_role("link", name="Stage 5: monitoring questions").click()
        assert page.get_by_label("What was the challenge?").input_value().startswith(challenge.summary)
        assert "Stage 3: Professional Challenge Recording Tool" in page.get_by_label(
            "What was done to address the challenge?").input_value()
        assert "Police will share the incident log." in page.get_by_label("How was the issue resolved?").input_value()
        check_page(page, "the prefilled monitoring questions")
        page.get_by_role("group", name="Are the professionals involved satisfied with the outcome?").get_by_label(
            "No").check()
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url(f"**/challenges/{challenge.id}")
        log_out(page)

        log_in(page, base, "dsp-business-unit")
        page.goto(f"{base}/notifications")
        assert page.get_by_text(f"{challenge.reference}: stage 5 monitoring information from Darlington Children's "
                                "Social Care").first.is_visible()
        check_page(page, "the Business Unit's notifications")
