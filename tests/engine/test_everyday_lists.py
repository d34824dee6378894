"""Risk first and lists for people with many cases: risk kept on the challenge row, My tasks narrowed by
procedure, stage, overdue, risk, claim and side, sorted by risk, and paged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.cases.raising import raise_challenge
from engine.cases.tasks import claim_task
from engine.queries import access
from engine.queries.filters import TaskFilters
from tests.conftest import raise_answers


@pytest.fixture
def police(agency):
    return agency("Durham")


@pytest.fixture
def three(session, clock, user, police):
    """Three challenges to Durham Constabulary: no stated risk (soonest), on a Child Protection Plan, and a child
    at significant risk now (latest), raised on Monday, Tuesday and Wednesday (the clock at Monday morning, so no
    deadline has passed)."""
    clock.set(datetime(2026, 12, 14, 9, tzinfo=UTC))
    referrer = user("csc-practitioner")
    plain = raise_challenge(session, clock, referrer, raise_answers(police.id, subject_reference="CH-PLAIN"),
                            raised_at=datetime(2026, 12, 14, 10, tzinfo=UTC))
    cp = raise_challenge(session, clock, referrer, raise_answers(police.id, subject_reference="CH-CP",
                                                                  cp_or_lac="child_protection_plan"),
                         raised_at=datetime(2026, 12, 15, 10, tzinfo=UTC))
    risk = raise_challenge(session, clock, referrer, raise_answers(police.id, subject_reference="CH-RISK",
                                                                    significant_risk=True),
                           raised_at=datetime(2026, 12, 16, 10, tzinfo=UTC))
    return plain, cp, risk


def references(lines) -> list[str]:
    return [line.subject_reference for line in lines]


def test_risk_as_stated_is_kept_on_the_challenge_row(three):
    plain, cp, risk = three
    assert (plain.significant_risk, plain.cp_or_lac) == (False, "neither")
    assert (cp.significant_risk, cp.cp_or_lac) == (False, "child_protection_plan")
    assert (risk.significant_risk, risk.cp_or_lac) == (True, "neither")


def test_each_line_of_my_tasks_carries_risk_and_both_agencies(session, user, three):
    lines = access.my_tasks(session, user("police-practitioner"))
    assert references(lines) == ["CH-PLAIN", "CH-CP", "CH-RISK"]  # soonest deadline first
    by_case = {line.subject_reference: line for line in lines}
    assert by_case["CH-RISK"].significant_risk is True
    assert by_case["CH-CP"].cp_or_lac == "child_protection_plan"
    assert by_case["CH-PLAIN"].raising_agency_name == "Darlington Children's Social Care"
    assert by_case["CH-PLAIN"].receiving_agency_name == "Durham Constabulary"
    assert by_case["CH-PLAIN"].side == "receiving"


def test_sorted_by_risk_significant_risk_comes_first_then_cp_or_lac(session, user, three):
    lines = access.my_tasks(session, user("police-practitioner"), filters=TaskFilters(sort="risk"))
    assert references(lines) == ["CH-RISK", "CH-CP", "CH-PLAIN"]


@pytest.mark.parametrize(("risk", "expected"), [
    ("significant", ["CH-RISK"]), ("cp_or_lac", ["CH-CP"]), ("any", ["CH-CP", "CH-RISK"])])
def test_the_risk_filter_keeps_only_cases_at_that_risk(session, user, three, risk, expected):
    lines = access.my_tasks(session, user("police-practitioner"), filters=TaskFilters(risk=risk))
    assert references(lines) == expected


def test_filters_by_claim_side_stage_procedure_and_overdue(session, clock, user, three):
    officer = user("police-practitioner")
    plain, cp, risk = three
    [cp_task] = [line for line in access.my_tasks(session, officer) if line.challenge_id == cp.id]
    claim_task(session, clock, officer, cp_task.id)

    def shown(**chosen) -> list[str]:
        return references(access.my_tasks(session, officer, filters=TaskFilters(**chosen),
                                          now=datetime(2026, 12, 15, 18, tzinfo=UTC)))

    assert shown(claimed="mine") == ["CH-CP"]
    assert shown(claimed="unclaimed") == ["CH-PLAIN", "CH-RISK"]
    assert shown(side="receiving") == ["CH-PLAIN", "CH-CP", "CH-RISK"]
    assert shown(side="raising") == []
    assert shown(stage=1) == ["CH-PLAIN", "CH-CP", "CH-RISK"]
    assert shown(stage=2) == []
    assert shown(procedure="darlington") == ["CH-PLAIN", "CH-CP", "CH-RISK"]
    assert shown(procedure="tees") == []
    # Stage 1 is one working day: raised on Monday 14th, due Tuesday 17:00; at Tuesday 18:00 only it is overdue.
    assert shown(overdue=True) == ["CH-PLAIN"]


def test_pages_follow_on_without_gaps_or_repeats(session, user, three):
    officer = user("police-practitioner")
    first = access.my_tasks(session, officer, limit=2)
    second = access.my_tasks(session, officer, limit=2, offset=2)
    assert references(first) + references(second) == ["CH-PLAIN", "CH-CP", "CH-RISK"]
    risky = TaskFilters(sort="risk")
    assert references(access.my_tasks(session, officer, limit=1, offset=1, filters=risky)) == ["CH-CP"]


def test_filters_read_from_a_query_string_ignore_what_is_not_a_choice():
    parsed = TaskFilters.parse({"risk": "significant", "stage": "2", "overdue": "1", "sort": "risk",
                                "claimed": "someone", "side": "sideways"})
    assert parsed == TaskFilters(stage=2, overdue=True, risk="significant", sort="risk")
    assert parsed.query_args() == {"stage": "2", "overdue": "1", "risk": "significant", "sort": "risk"}
    assert TaskFilters.parse({"stage": "99999999999"}).stage is None
    assert not TaskFilters.parse({}).any_set


# --- supervision: my agency's cases -------------------------------------------------------------------------------

def test_managers_of_the_raising_and_receiving_agencies_see_the_challenge_and_others_do_not(session, user, three):
    plain = three[0]
    for manager in ("csc-head", "csc-manager", "police-head", "police-manager"):
        assert access.can_view(session, user(manager), plain.id), manager
    for outsider in ("health-head", "health-manager", "school-manager", "health-practitioner"):
        assert not access.can_view(session, user(outsider), plain.id), outsider


def test_my_agency_cases_lists_each_open_challenge_with_stage_deadline_and_holder(session, clock, user, three):
    from engine.queries.supervision import agency_cases, is_supervisor

    plain, cp, risk = three
    officer = user("police-practitioner")
    [cp_task] = [line for line in access.my_tasks(session, officer) if line.challenge_id == cp.id]
    claim_task(session, clock, officer, cp_task.id)

    assert not is_supervisor(session, user("csc-practitioner"))
    assert is_supervisor(session, user("tees-police-director"))  # stage 3's top tier supervises too
    cases = agency_cases(session, user("csc-head"))
    assert [c.subject_reference for c in cases] == ["CH-PLAIN", "CH-CP", "CH-RISK"]
    assert {c.our_side for c in cases} == {"raising"}
    assert [c.stage for c in cases] == [1, 1, 1]
    assert cases[0].due_at == datetime(2026, 12, 15, 17, tzinfo=UTC)
    by_case = {c.subject_reference: c for c in cases}
    assert [t.claimed_by for t in by_case["CH-CP"].tasks] == ["Practitioner, Durham Constabulary"]
    assert [(t.claimed_by, t.agency_name) for t in by_case["CH-PLAIN"].tasks] == [(None, "Durham Constabulary")]

    police_side = agency_cases(session, user("police-manager"), TaskFilters(sort="risk"))
    assert [c.subject_reference for c in police_side] == ["CH-RISK", "CH-CP", "CH-PLAIN"]
    assert {c.our_side for c in police_side} == {"receiving"}
    assert agency_cases(session, user("police-manager"), TaskFilters(side="raising")) == []
    assert [c.subject_reference for c in agency_cases(session, user("police-manager"),
                                                      TaskFilters(claimed="unclaimed"))] == ["CH-PLAIN", "CH-RISK"]
    assert agency_cases(session, user("health-manager")) == []


def test_for_an_adult_the_child_protection_question_is_not_asked_and_cannot_be_answered(session, clock, user,
                                                                                         police):
    from engine.errors import Invalid

    answers = raise_answers(police.id, subject_kind="adult")
    del answers["cp_or_lac"]
    adult = raise_challenge(session, clock, user("csc-practitioner"), answers)
    assert adult.cp_or_lac == "neither"
    with pytest.raises(Invalid) as refused:
        raise_challenge(session, clock, user("csc-practitioner"),
                        raise_answers(police.id, subject_kind="adult", cp_or_lac="looked_after"))
    assert "applies to a child" in refused.value.errors["cp_or_lac"]
    with pytest.raises(Invalid):  # for a child it is still asked
        child = raise_answers(police.id, subject_kind="child")
        del child["cp_or_lac"]
        raise_challenge(session, clock, user("csc-practitioner"), child)
