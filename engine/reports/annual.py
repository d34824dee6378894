"""The figures of a period as the section of an annual (or six-monthly) report, in a PDF laid out like the
records: a table per figure, with its note."""

from __future__ import annotations

from ..queries.printing import titled_pdf
from .figures import Report


def report_pdf(report: Report) -> bytes:
    title = f"Professional challenge: {report.period.label}"
    pdf = titled_pdf(title, f"{report.partnership} · {title}")
    t = pdf.text_of
    pdf.paragraph(report.partnership, 5)
    pdf.heading(title, 1, 16, 8)
    pdf.paragraph(f"Each figure beside the previous period ({report.previous.label}).", 5, 9)
    for table in report.tables:
        pdf.ln(4)
        pdf.heading(table.title, 2, 12, 7)
        if table.note:
            pdf.paragraph(table.note, 4, 8)
        pdf.set_font(pdf.family, "", 8)
        # fpdf2 cannot tag a table's rows and cells: its text is one paragraph of the structure.
        with pdf.tagged("P"), pdf.table(first_row_as_headings=True, line_height=4.5, text_align="LEFT") as grid:
            for row in [table.columns, *table.rows]:
                cells = grid.row()
                for value in row:
                    cells.cell(t("-" if value is None else str(value)))
    return bytes(pdf.output())
