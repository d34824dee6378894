"""The figures of a period as the section of an annual (or six-monthly) report, in a PDF laid out like the
records: a table per figure, with its note."""

from __future__ import annotations

from ..queries.printing import titled_pdf
from .figures import Report


def report_pdf(report: Report) -> bytes:
    title = f"Professional challenge: {report.period.label}"
    pdf = titled_pdf(title, f"{report.partnership} · {title}")
    t = pdf.text_of
    pdf.set_font(pdf.family, "", 10)
    pdf.multi_cell(0, 5, t(report.partnership), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "B", 16)
    pdf.multi_cell(0, 8, t(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 9)
    pdf.multi_cell(0, 5, t(f"Each figure beside the previous period ({report.previous.label})."),
                   new_x="LMARGIN", new_y="NEXT")
    for table in report.tables:
        pdf.ln(4)
        pdf.set_font(pdf.family, "B", 12)
        pdf.multi_cell(0, 7, t(table.title), new_x="LMARGIN", new_y="NEXT")
        if table.note:
            pdf.set_font(pdf.family, "", 8)
            pdf.multi_cell(0, 4, t(table.note), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 8)
        with pdf.table(first_row_as_headings=True, line_height=4.5, text_align="LEFT") as grid:
            for row in [table.columns, *table.rows]:
                cells = grid.row()
                for value in row:
                    cells.cell(t("-" if value is None else str(value)))
    return bytes(pdf.output())
