"""End to end in real headless Chromium, under the served Content-Security-Policy: Darlington's business unit
opens Reports, gets the six-monthly report with its charts drawn (by vega-embed, with no eval) and a table beside
each, downloads the figures, filters the case list and downloads it with the filters in the file's name, opens
the printable report and then where cases stall, painted on the diagram."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser import check_page, chromium, log_in, new_page, served
from tests.reports_data import walk_december

pytestmark = pytest.mark.browser


def test_the_business_unit_produces_the_six_monthly_report_filters_downloads_and_sees_where_cases_stall(
        live_app, session, clock, tmp_path):
    cases = walk_december(session, clock)  # the clock is now Monday 4 January 2027
    with served(live_app) as base, chromium() as browser:
        page = new_page(browser, accept_downloads=True)
        log_in(page, base, "dsp-business-unit")
        page.get_by_role("link", name="Reports").click()
        page.wait_for_url(f"{base}/reports")
        assert page.get_by_role("heading", level=1).inner_text() == \
            "Professional challenge: Half year 1 October 2026 to 31 March 2027"
        tables = page.locator(".report-table").count()
        # Waited for through locators: a polled script would be refused by the page's policy (no eval).
        expect(page.locator('[data-chart][data-drawn="true"]')).to_have_count(tables, timeout=60_000)
        assert page.locator("[data-chart] canvas").count() == tables
        totals = page.locator("#table-totals")
        assert totals.locator("tr", has_text="Raised").inner_text().split("\t")[:2] == ["Raised", "11"]
        check_page(page, "the six-monthly report")

        with page.expect_download() as download:
            page.get_by_role("link", name="All figures as a spreadsheet (XLSX)").click()
        assert download.value.suggested_filename == "darlington-report-2026-h2.xlsx"
        book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
        assert list(book["Challenges raised and closed"].iter_rows(values_only=True))[1][:2] == ("Raised", 11)
        with page.expect_download() as download:
            page.locator("#heading-outcomes + .report-pair").get_by_role("link", name="Download as CSV").click()
        assert download.value.suggested_filename == "darlington-outcomes-2026-h2.csv"

        page.get_by_role("link", name="Case list").click()
        page.get_by_label("Status").select_option("closed")
        page.get_by_label("Outcome").select_option("decided_by_partnership")
        page.get_by_role("button", name="Filter").click()
        assert page.get_by_role("status").inner_text().startswith("2 challenges.")
        check_page(page, "the case list")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download as CSV").click()
        assert download.value.suggested_filename == \
            "darlington-challenges-2026-h2-closed-decided-by-partnership.csv"
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
        assert {r["Challenge"] for r in rows} == {cases["H"].walk.ref, cases["K"].walk.ref}

        page.get_by_role("link", name="Figures").click()
        page.get_by_role("link", name="Printable report").click()
        expect(page.locator('[data-chart]:not([data-drawn="true"])')).to_have_count(0, timeout=60_000)
        check_page(page, "the printable report")

        page.goto(f"{base}/reports")
        page.get_by_role("link", name="Where cases stall").click()
        page.wait_for_selector("[data-stalls][data-painted]", timeout=60_000)
        assert int(page.locator("[data-stalls]").get_attribute("data-painted")) >= 8
        assert page.locator(".djs-element.heat-4").count() >= 1
        assert page.locator(".djs-overlay .heat-label").count() >= 8
        # Eleven stage 1 responses in the half year (November's too); D's lapsed.
        assert "1 of 11 (9%)" in page.locator("#stall-table").inner_text()
        check_page(page, "where cases stall")
