"""The reports area over HTTP: who may read it (the partnership body's business unit, executive, scrutineer and
auditors, of their own partnership only), what each page and download holds for the hand-made December set, that
bad requests are refused with a message, and that every read is in the access log."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from engine.models import AccessLog
from tests.reports_data import walk_december

DECEMBER = {"from": "2026-12-01", "to": "2026-12-31"}


@pytest.fixture
def december(session, clock, demo):
    return walk_december(session, clock)


@pytest.mark.parametrize("username", ["dsp-business-unit", "dsp-scrutineer", "dsp-auditor"])
def test_the_partnership_body_reads_its_reports(app, client, login, december, username):
    login(username)
    page = client.get("/reports", query_string=DECEMBER)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Professional challenge: 1 December 2026 to 31 December 2026" in html
    assert "Who challenged whom" in html and "Deadlines met and missed per stage" in html
    assert 'data-chart=' in html and "build/charts.js" in html
    assert page.headers["Cache-Control"].startswith("no-store")
    assert 'href="/reports"' in client.get("/", follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("username", ["csc-practitioner", "police-head", "dudley-business-unit", "tees-auditor"])
def test_nobody_else_finds_darlingtons_reports(app, client, login, december, username):
    login(username)
    if username.startswith("dudley") or username.startswith("tees"):
        # Their own partnership's reports, never Darlington's.
        assert client.get("/reports", query_string={"partnership": "darlington"}).status_code == 404
        assert client.get("/reports").status_code == 200
    else:
        assert client.get("/reports").status_code == 404
        assert client.get("/reports/cases.csv").status_code == 404
        assert 'href="/reports"' not in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_a_report_that_cannot_be_made_is_refused_with_a_message(app, client, login, december):
    login("dsp-business-unit")
    for query in ({"period": "2026-h9"}, {"from": "2026-12-31", "to": "2026-12-01"}, {"from": "x", "to": "y"},
                  {"stage": "٣"}, {"agency": "99999999999999999999"}, {"version": "nope"}):
        for path in ("/reports", "/reports/cases", "/reports/stalls"):
            answer = client.get(path, query_string=query)
            if path == "/reports" and set(query) - {"period", "from", "to"}:
                assert answer.status_code == 200  # the figures take no filters
                continue
            if path == "/reports/cases" and "version" in query:
                continue
            if path == "/reports/stalls" and set(query) & {"stage", "agency"}:
                continue
            assert answer.status_code == 400, (path, query)
            assert "Not a report we can make" in answer.get_data(as_text=True)
    assert client.get("/reports/nothing.csv", query_string=DECEMBER).status_code == 404
    assert client.post("/reports", query_string=DECEMBER).status_code == 405


def test_each_figure_downloads_as_csv_and_the_report_as_xlsx_and_pdf(app, client, login, december):
    login("dsp-business-unit")
    totals = client.get("/reports/totals.csv", query_string=DECEMBER)
    assert totals.headers["Content-Disposition"] == \
        'attachment; filename="darlington-totals-2026-12-01-to-2026-12-31.csv"'
    assert list(csv.reader(io.StringIO(totals.get_data(as_text=True).lstrip("\ufeff"))))[1] == ["Raised", "10", "1"]
    book = load_workbook(io.BytesIO(client.get("/reports/report.xlsx", query_string=DECEMBER).data))
    assert "Challenges raised and closed" in book.sheetnames
    pdf = client.get("/reports/report.pdf", query_string=DECEMBER)
    assert pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Deadlines met and missed per stage" in text and "Open at the end" in text
    printable = client.get("/reports/print", query_string=DECEMBER).get_data(as_text=True)
    assert "data-print" in printable and "Working days to resolution" in printable
    returns = zipfile.ZipFile(io.BytesIO(client.get("/reports/returns.zip", query_string=DECEMBER).data))
    assert "darlington-monitoring-2026-12-01-to-2026-12-31.csv" in returns.namelist()


def test_the_case_list_filters_pages_and_downloads_with_the_filters_in_the_name(app, client, login, december):
    login("dsp-business-unit")
    page = client.get("/reports/cases", query_string={**DECEMBER, "status": "closed", "outcome":
                                                      "decided_by_partnership"}).get_data(as_text=True)
    assert "2 challenges." in page
    assert december["H"].walk.ref in page and december["K"].walk.ref in page and december["B"].walk.ref not in page
    found = client.get("/reports/cases.csv", query_string={**DECEMBER, "status": "closed", "stage": "5"})
    assert found.headers["Content-Disposition"] == \
        'attachment; filename="darlington-challenges-2026-12-01-to-2026-12-31-stage-5-closed.csv"'
    rows = list(csv.DictReader(io.StringIO(found.get_data(as_text=True).lstrip("\ufeff"))))
    assert {row["Challenge"] for row in rows} == {december["H"].walk.ref, december["K"].walk.ref}
    assert {row["Satisfied"] for row in rows} == {"No", "Partly"}
    book = load_workbook(io.BytesIO(client.get("/reports/cases.xlsx", query_string={**DECEMBER, "search":
                                                                                      december["F"].walk.ref}).data))
    assert [r[0] for r in book.active.iter_rows(values_only=True)] == ["Challenge", december["F"].walk.ref]


def test_the_stall_view_paints_the_current_version(app, client, login, december):
    login("dsp-auditor")
    page = client.get("/reports/stalls", query_string=DECEMBER).get_data(as_text=True)
    assert "Stage 1: respond to the challenge" in page and "1 of 10 (10%)" in page
    assert "data-heat=" in page
    diagram = client.get("/reports/stalls/diagram.bpmn", query_string=DECEMBER)
    assert diagram.mimetype == "application/xml" and b"s1_respond" in diagram.data


def test_every_read_of_a_report_is_in_the_access_log(app, client, login, session, december):
    login("dsp-scrutineer")
    client.get("/reports", query_string=DECEMBER)
    client.get("/reports/cases", query_string=DECEMBER)
    client.get("/reports/returns.zip", query_string=DECEMBER)
    session.expire_all()
    seen = [(e.kind, e.what) for e in session.scalars(select(AccessLog).where(AccessLog.kind.in_(
        ("report_read", "cases_listed"))).order_by(AccessLog.id))]
    assert seen == [("report_read", "darlington:report 2026-12-01-to-2026-12-31"),
                    ("cases_listed", "darlington:reports"),
                    ("report_read", "darlington:returns 2026-12-01-to-2026-12-31")]


@pytest.mark.parametrize("username,slug", [("dudley-executive", "dudley"), ("dudley-business-unit", "dudley"),
                                           ("tees-scp", "tees"), ("stoke-sotscp", "stoke"),
                                           ("stoke-auditor", "stoke")])
def test_each_partnerships_body_reads_its_own_reports(app, client, login, username, slug):
    login(username)
    page = client.get("/reports")
    assert page.status_code == 200
    assert client.get("/reports", query_string={"partnership": slug}).status_code == 200
    if slug == "dudley":  # Dudley's procedure covers children and adults: they are counted apart
        assert "Children and adults (raised in the period)" in page.get_data(as_text=True)


def test_every_reports_route_is_private_to_the_browser_and_under_the_policy(app, client, login, december):
    login("dsp-business-unit")
    routes = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("reports.")]
    assert len(routes) >= 11
    for rule in routes:
        path = rule.rule.replace("<key>", "totals")
        answer = client.get(path, query_string=DECEMBER)
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "no-store", path
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"], path
