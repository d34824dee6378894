"""The partnership's figures, computed on the hand-made set of tests/reports_data.py, against answers worked out
by hand (see that module for each case's story and the bank holidays)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.calendar import WorkingCalendar
from engine.cases.writer import partnership_calendar
from engine.errors import Invalid
from engine.models import ChallengeFacts, Partnership, StageFacts
from engine.reports import exports
from engine.reports.cases import CaseFilter, all_rows, page_of, parse_filter
from engine.reports.facts import rebuild
from engine.reports.figures import nearest_rank, report
from engine.reports.periods import Period, half_year_of, parse_period, year_of
from engine.reports.stalls import stalls
from tests.reports_data import t, walk_december

DECEMBER = Period("dates", date(2026, 12, 1), date(2026, 12, 31))


@pytest.fixture
def december(session, clock, demo):
    cases = walk_december(session, clock)
    partnership = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    return cases, partnership


def rows(table) -> dict:
    return {row[0]: row[1:] for row in table.rows}


def figures(session, partnership, clock, period=DECEMBER):
    return report(session, partnership, period, partnership_calendar(partnership), clock.now())


# --- periods and the arithmetic ----------------------------------------------------------------------------------

def test_half_years_and_years_are_financial_and_know_the_one_before():
    assert half_year_of(date(2026, 12, 18)) == Period("half", date(2026, 10, 1), date(2027, 3, 31))
    assert half_year_of(date(2026, 12, 18)).previous() == Period("half", date(2026, 4, 1), date(2026, 9, 30))
    assert half_year_of(date(2026, 5, 1)).previous() == Period("half", date(2025, 10, 1), date(2026, 3, 31))
    assert year_of(date(2027, 2, 1)) == Period("year", date(2026, 4, 1), date(2027, 3, 31))
    assert year_of(date(2027, 2, 1)).previous().key == "2025"
    assert DECEMBER.previous() == Period("dates", date(2026, 11, 1), date(2026, 11, 30))
    assert parse_period("2026-h2", None, None, date(2026, 1, 1)).key == "2026-h2"
    assert parse_period(None, None, None, date(2026, 12, 18)).key == "2026-h2"


@pytest.mark.parametrize("key,first,last", [("2026-h3", None, None), ("h2", None, None), ("1999", None, None),
                                             (None, "2026-12-31", "2026-12-01"), (None, "2026-12-01", None),
                                             (None, "2026-13-01", "2026-12-31"), (None, "٢٠٢٦-12-01", "2026-12-31")])
def test_a_period_that_cannot_be_read_is_refused_with_a_message(key, first, last):
    with pytest.raises(Invalid) as refused:
        parse_period(key, first, last, date(2026, 12, 18))
    assert refused.value.errors["period"]


def test_nearest_rank_median_and_90th_percentile():
    assert nearest_rank({0: 2, 1: 3, 2: 1, 6: 1, 12: 1}, 0.5) == 1
    assert nearest_rank({0: 2, 1: 3, 2: 1, 6: 1, 12: 1}, 0.9) == 12
    assert nearest_rank({5: 1}, 0.9) == 5
    assert nearest_rank({}, 0.5) is None


def test_working_days_between_skip_weekends_and_bank_holidays():
    calendar = WorkingCalendar()
    assert calendar.working_days_between(t(12, 1, 10), t(12, 17, 11)) == 12
    assert calendar.working_days_between(t(12, 24, 10), t(1, 4, 10)) == 4  # 29, 30, 31 Dec and 4 Jan
    assert calendar.working_days_between(t(12, 18, 15), t(12, 21, 9)) == 1
    assert calendar.working_days_between(t(12, 21, 9), t(12, 21, 17)) == 0


# --- the facts each step keeps -----------------------------------------------------------------------------------

def test_each_step_keeps_the_facts_of_its_challenge(session, clock, december):
    cases, _ = december
    facts = {letter: session.get(ChallengeFacts, case.walk.challenge.id) for letter, case in cases.items()}
    assert {k: (f.status, f.stage_reached, f.outcome, f.satisfied, f.referred_to_partnership)
            for k, f in facts.items()} == {
        "A": ("closed", 1, "resolved", "yes", False),
        "B": ("closed", 1, "resolved", "yes", False),
        "C": ("closed", 2, "resolved", "partly", False),
        "D": ("closed", 2, "resolved", "no", False),
        "E": ("closed", 3, "resolved", "yes", False),
        "F": ("closed", 3, "resolved", "partly", False),
        "G": ("closed", 4, "resolved", "yes", False),
        "H": ("closed", 5, "decided_by_partnership", "no", True),
        "I": ("closed", 2, "resolved", "yes", False),
        "J": ("open", 3, None, None, False),
        "K": ("closed", 5, "decided_by_partnership", "partly", True),
    }
    assert facts["K"].working_days_to_close == 12
    k_stages = {s.stage: s for s in session.scalars(select(StageFacts).where(
        StageFacts.challenge_id == cases["K"].walk.challenge.id))}
    assert {n: (s.missed, s.deadline) for n, s in k_stages.items()} == {
        1: (False, t(12, 2, 17)), 2: (False, t(12, 4, 17)), 3: (False, t(12, 8, 17)),
        4: (True, t(12, 8, 17)), 5: (True, t(12, 16, 17))}
    assert k_stages[5].working_days == 6  # Wed 9 to Thu 17 December


def test_rebuilding_the_facts_from_the_history_gives_the_same_rows(session, clock, december):
    _, partnership = december

    def snapshot():
        return (sorted(tuple(getattr(f, c.key) for c in ChallengeFacts.__table__.columns)
                       for f in session.scalars(select(ChallengeFacts))),
                sorted(tuple(getattr(s, c.key) for c in StageFacts.__table__.columns)
                       for s in session.scalars(select(StageFacts))))
    before = snapshot()
    assert rebuild(session, partnership.id, partnership_calendar(partnership)) == 11
    session.commit()
    session.expire_all()
    assert snapshot() == before


# --- the figures of December 2026 --------------------------------------------------------------------------------

def test_raised_closed_and_open_against_november(session, clock, december):
    _, partnership = december
    got = figures(session, partnership, clock)
    assert got.previous == Period("dates", date(2026, 11, 1), date(2026, 11, 30))
    assert rows(got.table("totals")) == {"Raised": [10, 1], "Closed": [8, 1], "Open at the end": [2, 0]}
    assert rows(got.table("stages")) == {"Stage 1": [1, 1], "Stage 2": [2, 0], "Stage 3": [2, 0],
                                         "Stage 4": [1, 0], "Stage 5": [2, 0]}


def test_who_challenged_whom_and_the_areas(session, clock, december):
    _, partnership = december
    got = figures(session, partnership, clock)
    matrix = got.table("matrix")
    assert matrix.columns == ["Raising agency \\ receiving agency", "Darlington Children's Social Care",
                              "Durham Constabulary", "Total"]
    assert rows(matrix) == {"County Durham and Darlington NHS Foundation Trust": [0, 1, 1],
                            "Darlington Children's Social Care": [0, 6, 6],
                            "Darlington Primary School": [3, 0, 3]}
    assert rows(got.table("areas")) == {"Case closure": [1, 0], "Decision making": [2, 0],
                                        "Information sharing": [2, 0], "Other": [1, 0], "Thresholds": [4, 1]}


def test_outcomes_satisfaction_and_referrals(session, clock, december):
    _, partnership = december
    got = figures(session, partnership, clock)
    assert rows(got.table("outcomes")) == {
        "Decided by the Lead Safeguarding Partners / Independent Scrutineer": [2, 0], "Resolved": [6, 1]}
    assert rows(got.table("satisfaction")) == {"Yes": [3, 1], "Partly": [3, 0], "No": [2, 0], "Not recorded": [0, 0]}
    assert rows(got.table("referred")) == {"Referred": [2, 0], "Not referred": [6, 1]}


def test_time_to_resolution_overall_and_per_stage(session, clock, december):
    _, partnership = december
    got = rows(figures(session, partnership, clock).table("resolution"))
    # Closed in December, in working days: B 0, H 0, C 1, E 1, G 1, D 2, F 6, K 12.
    assert got["All closed challenges"] == [1, 12, 8, 0, 0, 1]
    # Stage 2 ended in December for C 1, D 1, E 0, F 0, G 0, H 0, K 0 and J 3 (Mon 21 to Thu 24); I's in January.
    assert got["Stage 2"][:3] == [0, 3, 8]
    # Stage 3 for E 1, F 6, G 0, H 0, K 0 (J's is still open).
    assert got["Stage 3"][:3] == [0, 6, 5]


def test_deadlines_met_and_missed_per_stage(session, clock, december):
    _, partnership = december
    got = rows(figures(session, partnership, clock).table("deadlines"))
    # Stage deadlines that fell in December: stage 1 of all ten (D's missed); stage 2 of C, D, E, F, G, J and K
    # (J's missed; H's and I's fall in January); stage 3 of E, F and K (F's missed); stage 4 and 5 of K (missed).
    assert got == {"Stage 1": [9, 1, 0, 1, 0], "Stage 2": [6, 1, 0, 0, 0], "Stage 3": [2, 1, 0, 0, 0],
                   "Stage 4": [0, 1, 0, 0, 0], "Stage 5": [0, 1, 0, 0, 0]}


def test_open_cases_by_age_at_the_end_of_the_period(session, clock, december):
    _, partnership = december
    got = rows(figures(session, partnership, clock).table("ages"))
    # I raised Wed 30 Dec: 1 working day by 31 Dec; J raised Mon 21 Dec: 6 (22, 23, 24, 29, 30, 31).
    assert got["Up to 5 working days"] == [1, 0]
    assert got["6 to 10"] == [1, 0]
    assert sum(v[0] for v in got.values()) == 2


def test_children_and_adults_are_counted_apart_only_where_the_procedure_covers_both(session, clock, december):
    _, partnership = december
    assert "subjects" not in [table.key for table in figures(session, partnership, clock).tables]


# --- the case list -----------------------------------------------------------------------------------------------

def test_the_case_list_filters_searches_and_pages(session, clock, december):
    cases, partnership = december
    now = clock.now()

    def refs(case_filter):
        return {row.reference for row in all_rows(session, partnership.id, DECEMBER, case_filter, now)}

    ref = {letter: case.walk.challenge.reference for letter, case in cases.items()}
    assert len(refs(CaseFilter())) == 10
    assert refs(CaseFilter(status="open")) == {ref["J"]}  # I closed on 4 January
    assert refs(CaseFilter(status="closed")) == {ref[x] for x in "BCDEFGHIK"}
    assert refs(CaseFilter(stage=3, area="information_sharing")) == {ref["J"]}
    assert refs(CaseFilter(outcome="decided_by_partnership")) == {ref["H"], ref["K"]}
    school = cases["B"].walk.challenge.raising_agency_id
    assert refs(CaseFilter(agency=school)) == {ref["B"], ref["E"], ref["H"]}
    assert refs(CaseFilter(search=ref["F"][-5:])) == {ref["F"]}
    assert refs(CaseFilter(search="CH-1214")) == {ref["F"]}
    assert refs(CaseFilter(search="%")) == set()
    first = page_of(session, partnership.id, DECEMBER, CaseFilter(), now, 1)
    assert (first.total, first.pages, first.rows[0].reference) == (10, 1, ref["I"])


def test_the_case_list_refuses_a_filter_it_does_not_offer(session, december):
    with pytest.raises(Invalid) as refused:
        parse_filter({"stage": "٣", "status": "lost", "area": "x", "outcome": "won", "agency": "99999"}, {1, 2})
    assert set(refused.value.errors) == {"stage", "status", "area", "outcome", "agency"}


def test_overdue_and_significant_risk(session, clock, december):
    cases, partnership = december
    clock.set(t(1, 6, 9))  # J's stage 3 target (Tue 5 Jan 17:00) has passed, not yet fired
    overdue = all_rows(session, partnership.id, DECEMBER, CaseFilter(overdue=True), clock.now())
    assert [row.reference for row in overdue] == [cases["J"].walk.challenge.reference]
    assert all_rows(session, partnership.id, DECEMBER, CaseFilter(risk=True), clock.now()) == []


# --- where cases stall -------------------------------------------------------------------------------------------

def test_where_cases_stall_per_task_of_the_diagram(session, clock, december):
    cases, partnership = december
    version = cases["B"].walk.challenge.procedure_version
    found = {s.bpmn_id: s for s in stalls(session, version, DECEMBER, partnership_calendar(partnership), clock.now())}
    respond = found["s1_respond"]
    # Ten stage 1 responses opened in December; D's lapsed at its deadline Tue 8 Dec (1 working day).
    assert (respond.tasks, respond.still_open, respond.with_deadline, respond.missed) == (10, 0, 10, 1)
    assert (respond.median_days, respond.p90_days) == (0, 0)
    review = found["s2_review"]
    # The line managers' reviews: C's and D's took 1 working day, I's 2 (30 Dec to 4 Jan), J's lapsed on Thu 24
    # Dec, 3 after it opened; the rest were done the day their stage 2 began.
    assert (review.tasks, review.missed, review.median_days, review.p90_days) == (9, 1, 0, 3)
    # The responses, each given five minutes after its review: C, D, E, F, G, H and K's (I's opened in January).
    assert (found["s2_respond"].tasks, found["s2_respond"].p90_days) == (7, 0)
    assert found["s3_respond"].still_open == 1  # J's
    assert "s5_decision" in found


# --- the downloads -----------------------------------------------------------------------------------------------

def test_csv_and_xlsx_read_back_and_keep_formulas_as_text(session, clock, december):
    _, partnership = december
    got = figures(session, partnership, clock)
    table = got.table("totals")
    read = list(csv.reader(io.StringIO(exports.csv_bytes(table.columns, table.rows).decode("utf-8-sig"))))
    assert read == [["", "1 December 2026 to 31 December 2026", "1 November 2026 to 30 November 2026"],
                    ["Raised", "10", "1"], ["Closed", "8", "1"], ["Open at the end", "2", "0"]]
    book = load_workbook(io.BytesIO(exports.report_xlsx(got.tables)))
    sheet = book[book.sheetnames[0]]
    assert [list(r) for r in sheet.iter_rows(values_only=True)][1] == ["Raised", 10, 1]
    assert len(book.sheetnames) == len(got.tables)
    hostile = exports.csv_bytes(["a"], [["=HYPERLINK(\"http://x\")"], ["+1"], ["-2"], ["@SUM(A1)"]]).decode()
    assert [row[0] for row in csv.reader(io.StringIO(hostile.lstrip("\ufeff")))][1:] == \
        ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)"]
    assert exports.file_name("darlington", "challenges", DECEMBER, ["stage-2", "open"]) == \
        "darlington-challenges-2026-12-01-to-2026-12-31-stage-2-open.csv"


def test_the_monitoring_returns_of_a_period_in_one_zip(session, clock, december):
    cases, partnership = december
    data = exports.returns_zip(session, partnership.id, partnership.slug, DECEMBER)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert "darlington-monitoring-2026-12-01-to-2026-12-31.csv" in names
    monitoring = list(csv.reader(io.StringIO(
        archive.read("darlington-monitoring-2026-12-01-to-2026-12-31.csv").decode("utf-8-sig"))))
    assert len(monitoring) == 3  # the header, K's and H's
    assert "Are the professionals involved satisfied with the outcome?" in monitoring[0]
    assert {row[0] for row in monitoring[1:]} == {cases["K"].walk.challenge.reference,
                                                  cases["H"].walk.challenge.reference}
    index = list(csv.reader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    assert ["monitoring.json", "2"] in index


def test_facts_count_one_row_per_challenge(session, december):
    assert session.scalar(select(func.count()).select_from(ChallengeFacts)) == 11


def test_history_from_before_the_facts_were_kept_is_folded_when_the_schema_is_brought_up_to_date(
        database_url, session, clock, december):
    from web import create_app

    _, partnership = december
    kept = session.scalar(select(func.count()).select_from(StageFacts))
    session.execute(StageFacts.__table__.delete())
    session.execute(ChallengeFacts.__table__.delete())
    session.commit()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "facts-test"})
    with app.app_context():
        from web.cli import upgrade_schema
        from web.database import db

        db.session.connection().exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        db.session.commit()
        # The schema is there already (made by the tests): stamp it rather than migrate it again.
        from flask_migrate import stamp

        stamp()
        upgrade_schema()
        db.session.remove()
        db.engine.dispose()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ChallengeFacts)) == 11
    assert session.scalar(select(func.count()).select_from(StageFacts)) == kept
