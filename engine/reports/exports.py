"""The files reports and lists download as: CSV and XLSX (openpyxl), named by partnership, period and filters,
and the monitoring returns of a period in one zip. Text a spreadsheet would run as a formula is written with a
leading apostrophe, so a case reference such as `=HYPERLINK(...)` stays text."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import Agency, Challenge, Task
from ..queries.records import answers_of
from .figures import Table
from .periods import LONDON, Period

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    """A cell's value as written: moments in London time, text that starts like a formula kept as text."""
    if isinstance(value, datetime):
        return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def file_name(slug: str, what: str, period: Period, words: Iterable[str] = (), extension: str = "csv") -> str:
    return "-".join([slug, what, period.key, *words]) + f".{extension}"


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe(c) for c in columns])
    for row in rows:
        writer.writerow([safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")  # the BOM tells spreadsheets the text is UTF-8


def xlsx_bytes(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook with a sheet per (title, columns, rows)."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    for title, columns, rows in sheets:
        name = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "Sheet"
        while name in used:
            name = name[:26] + f"{len(used)}"
        used.add(name)
        sheet = book.create_sheet(name)
        sheet.append([safe(c) for c in columns])
        for row in rows:
            sheet.append([safe(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_rows(table: Table) -> list[list[Any]]:
    return [["" if v is None else v for v in row] for row in table.rows]


def report_xlsx(tables: Sequence[Table]) -> bytes:
    return xlsx_bytes((table.title, [c or "" for c in table.columns], table_rows(table)) for table in tables)


def returns_zip(session: Session, partnership_id: int, slug: str, period: Period) -> bytes:
    """Every task answered in the period, a CSV per form (the monitoring returns, the records of each stage), with
    the challenge, the task, who completed it and when, and each answer as a column."""
    tasks = session.scalars(
        select(Task).join(Challenge, Challenge.id == Task.challenge_id)
        .where(Challenge.partnership_id == partnership_id, Task.status == "completed",
               Task.completed_at >= period.starts, Task.completed_at < period.ends)
        .options(joinedload(Task.challenge).joinedload(Challenge.procedure_version), joinedload(Task.completed_by))
        .order_by(Task.form, Task.completed_at, Task.id)).all()
    agencies = dict(session.execute(select(Agency.id, Agency.name)
                                    .where(Agency.partnership_id == partnership_id)).all())
    # A form's columns are its fields as the first version answered in the period has them.
    by_form: dict[str, tuple[list[str], list[str], list[list[Any]]]] = {}
    for task in tasks:
        schema = task.challenge.procedure_version.forms.get(task.form, {})
        fields, columns, rows = by_form.setdefault(task.form, (
            list(schema.get("properties", {})),
            ["Challenge", "Case reference", "Task", "Stage", "Completed", "Completed by",
             *(prop.get("title", name) for name, prop in schema.get("properties", {}).items())], []))
        given = {answer.key: answer.text for answer in answers_of(schema, task.data, agencies)}
        rows.append([task.challenge.reference, task.challenge.subject_reference, task.title, task.stage,
                     task.completed_at, task.completed_by.display_name if task.completed_by else "",
                     *(given.get(name, "") for name in fields)])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        index = [[form, len(rows)] for form, (_, _, rows) in sorted(by_form.items())]
        archive.writestr("index.csv", csv_bytes(["Form", "Answered in the period"], index))
        for form, (_, columns, rows) in sorted(by_form.items()):
            archive.writestr(file_name(slug, form.removesuffix(".json"), period), csv_bytes(columns, rows))
    return out.getvalue()
