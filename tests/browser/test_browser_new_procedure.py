"""End to end in real headless Chromium: for a partnership the test sets up (Wessex, with a role no demo
partnership has: a family advocate), its process owner creates a procedure from a blank diagram, draws three
stages, gives each lane its role and side, makes each task's form in the form editor, sets the first stage's
deadline in working days, validates and publishes it; practitioners then raise a challenge and complete it stage
by stage with no code change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.accounts import create_user
from engine.cases.raising import raise_challenge
from engine.demo import DEMO_PASSWORD, add_roles
from engine.models import Agency, Challenge, Partnership, Task, User
from tests.browser import check_page, chromium, log_in, log_out, new_page, served
from tests.conftest import raise_answers

pytestmark = pytest.mark.browser

# What a process owner would draw with the palette: a pool with three lanes, and in them a start event, three user
# tasks (one a stage), a deadline on the first, a gateway where its two ways meet and an end event, joined by
# sequence flows.
DRAW = """() => {
  const m = window.procedureModeler;
  const modeling = m.get('modeling'), factory = m.get('elementFactory'), canvas = m.get('canvas');
  const registry = m.get('elementRegistry');
  const start = registry.get('raised');
  const pool = modeling.createShape(factory.createParticipantShape({ isExpanded: true }), { x: 600, y: 300 },
                                    canvas.getRootElement());
  modeling.resizeShape(pool, { x: pool.x, y: pool.y, width: 1100, height: 450 });
  modeling.updateProperties(pool, { name: 'Wessex professional challenge' });
  const first = modeling.addLane(pool, 'bottom');
  const second = modeling.addLane(pool, 'bottom');
  const lanes = registry.filter((e) => e.type === 'bpmn:Lane').sort((a, b) => a.y - b.y);
  ['Receiving practitioner', 'Family advocate', 'Raising practitioner'].forEach((name, i) => {
    modeling.updateProperties(lanes[i], { name });
  });
  const at = (lane, x) => ({ x, y: lane.y + lane.height / 2 });
  modeling.moveElements([start], { x: pool.x + 80 - start.x, y: at(lanes[2], 0).y - start.y - 18 });
  const task = (id, name, lane, x) => modeling.createShape(
    factory.createShape({ type: 'bpmn:UserTask', businessObject: m.get('bpmnFactory').create('bpmn:UserTask',
                        { id, name }) }), at(lane, x), pool);
  const respond = task('respond', 'Respond to the challenge', lanes[0], pool.x + 300);
  const review = task('review', 'Family advocate review', lanes[1], pool.x + 550);
  const confirm = task('confirm', 'Confirm the outcome', lanes[2], pool.x + 800);
  const end = modeling.createShape({ type: 'bpmn:EndEvent', id: 'done' }, at(lanes[2], pool.x + 1000), pool);
  modeling.updateProperties(end, { name: 'Resolved' });
  const timer = { type: 'bpmn:BoundaryEvent', eventDefinitionType: 'bpmn:TimerEventDefinition' };
  const deadline = modeling.createShape(timer, { x: respond.x + 80, y: respond.y + respond.height }, respond,
                                        { attach: true });
  modeling.updateProperties(deadline, { id: 'respond_deadline', name: 'Stage 1 deadline' });
  const merge = modeling.createShape({ type: 'bpmn:ExclusiveGateway' }, at(lanes[1], pool.x + 420), pool);
  modeling.updateProperties(merge, { id: 'to_2', name: 'To stage 2' });
  [[start, respond], [respond, merge], [deadline, merge], [merge, review], [review, confirm], [confirm, end]]
    .forEach(([a, b]) => modeling.connect(a, b, { type: 'bpmn:SequenceFlow' }));
  return pool.businessObject.processRef.id;
}"""


@pytest.fixture
def wessex(session, clock, demo):
    """A partnership of its own: two agencies, its body, a role of its own, and people."""
    partnership = Partnership(slug="wessex", name="Wessex Safeguarding Partnership", nation="england-wales")
    session.add(partnership)
    session.flush()
    add_roles(session, partnership, {"practitioner": "Practitioner", "family_advocate": "Family advocate",
                                     "process_owner": "Process owner"})
    agencies = {}
    for short, name, kind, body in [("council", "Wessex Council Children's Services", "children_social_care", False),
                                    ("police", "Wessex Police", "police", False),
                                    ("body", "Wessex Partnership Office", "business_unit", True)]:
        agencies[short] = Agency(partnership_id=partnership.id, name=name, kind=kind, is_partnership_body=body)
        session.add(agencies[short])
        session.flush()
    for username, short, role in [("wessex-council-practitioner", "council", "practitioner"),
                                  ("wessex-police-practitioner", "police", "practitioner"),
                                  ("wessex-advocate", "body", "family_advocate"),
                                  ("wessex-owner", "body", "process_owner")]:
        create_user(session, username, username.replace("-", " ").title(), f"{username}@test.invalid",
                    DEMO_PASSWORD, [(agencies[short].id, role)])
    session.commit()
    return agencies


def _set_form(page, element: str, field_label: str, *, choices: str | None = None) -> None:
    page.get_by_label("Element", exact=True).select_option(element)
    page.get_by_label("Form", exact=True).select_option("__new__")
    page.get_by_role("button", name="Edit the form").click()
    page.get_by_role("button", name="Add a field").click()
    page.get_by_label("Label", exact=True).fill(field_label)
    page.get_by_label("Label", exact=True).blur()
    page.get_by_label("Required").check()
    if choices:
        page.get_by_label("Type").select_option("choice")
        page.get_by_label("Choices, one a line (value=label)").fill(choices)
        page.get_by_label("Choices, one a line (value=label)").blur()
    page.locator(".form-preview label, .form-preview legend").filter(has_text=field_label).first.wait_for()


def _complete(page, base, username: str, task: str, fill) -> None:
    log_in(page, base, username)
    page.get_by_role("link", name=task).first.click()
    page.get_by_role("button", name="Claim it").click()
    fill(page)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/challenges/*")
    log_out(page)


def test_a_procedure_drawn_in_the_browser_for_a_new_partnership_runs_with_no_code_change(live_app, session, clock,
                                                                                         wessex):
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser)
        log_in(page, base, "wessex-owner")
        page.get_by_role("link", name="Procedures").click()
        page.get_by_text("New procedure from a blank diagram").click()
        page.get_by_label("Short name").fill("wessex")
        page.get_by_label("Title").fill("Wessex professional challenge")
        page.get_by_role("button", name="Create the draft").click()
        page.wait_for_selector("[data-modeler][data-ready=true]", timeout=30_000)
        assert page.evaluate(DRAW) == "wessex_procedure"

        for lane, role, side in [("Receiving practitioner", "practitioner", "receiving"),
                                 ("Family advocate", "family_advocate", "partnership"),
                                 ("Raising practitioner", "practitioner", "raising")]:
            value = page.locator("#modeler-element option", has_text=lane).first.get_attribute("value")
            page.get_by_label("Element", exact=True).select_option(value)
            page.get_by_label("Role of the lane").select_option(role)
            page.get_by_label("Side: whose people hold it").select_option(side)
        _set_form(page, "respond", "Your response to the concerns raised")
        page.get_by_label("Stage").fill("1")
        page.get_by_label("Stage").blur()
        _set_form(page, "review", "The advocate's view", choices="agree=Agree with the response\ndisagree=Disagree")
        page.get_by_label("Stage").fill("2")
        page.get_by_label("Stage").blur()
        check_page(page, "the modeler with the form editor")
        _set_form(page, "confirm", "How it was resolved")
        page.get_by_label("Stage").fill("3")
        page.get_by_label("Stage").blur()
        page.get_by_label("Element", exact=True).select_option("respond_deadline")
        page.get_by_label("How many").fill("2")
        page.get_by_label("Unit").select_option("working_days")
        page.get_by_label("Counted from").select_option("raised")
        page.get_by_role("button", name="Set the deadline").click()
        page.get_by_text("working_days_after(raised_at, 2): for a challenge raised Friday 18 December 2026, 15:00, "
                         "Tuesday 22 December 2026, 17:00.").wait_for()
        page.get_by_role("button", name="Validate", exact=True).click()
        page.get_by_text("No problems: the draft can be published.").wait_for()
        page.get_by_label("What changed, and why").fill("First version")
        page.get_by_role("button", name="Save, validate and publish").click()
        page.wait_for_url(f"{base}/procedures")
        assert "Version 1 of Wessex professional challenge is current" in page.locator(".flash").inner_text()
        log_out(page)

        session.expire_all()
        raiser = session.scalar(select(Agency).where(Agency.name == "Wessex Council Children's Services"))
        practitioner = session.scalar(select(User).where(User.username == "wessex-council-practitioner"))
        challenge = raise_challenge(session, clock, practitioner, raise_answers(wessex["police"].id))
        assert challenge.raising_agency_id == raiser.id
        task = session.scalar(select(Task).where(Task.challenge_id == challenge.id))
        assert (task.bpmn_id, task.role, task.stage, task.due_at.day) == ("respond", "practitioner", 1, 22)

        _complete(page, base, "wessex-police-practitioner", "Respond to the challenge",
                  lambda p: p.get_by_label("Your response to the concerns raised").fill("We will assess."))
        _complete(page, base, "wessex-advocate", "Family advocate review",
                  lambda p: p.get_by_role("radio", name="Agree with the response").check())
        _complete(page, base, "wessex-council-practitioner", "Confirm the outcome",
                  lambda p: p.get_by_label("How it was resolved").fill("An assessment was opened."))
    session.expire_all()
    challenge = session.get(Challenge, challenge.id)
    assert (challenge.status, challenge.current_stage) == ("closed", 3)
