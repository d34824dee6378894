"""A record as a PDF (fpdf2), laid out like the printable page: title, the challenge's details, each section."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from .documents import Document

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class _RecordPDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        if (DEJAVU / "DejaVuSans.ttf").exists():
            self.add_font("Body", "", str(DEJAVU / "DejaVuSans.ttf"))
            self.add_font("Body", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
            self.family, self.unicode_ok = "Body", True
        else:  # the core fonts know Latin-1 only
            self.family, self.unicode_ok = "Helvetica", False

    def text_of(self, value: str) -> str:
        if self.unicode_ok:
            return value
        return value.translate({0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-", 0x2014: "-"}) \
            .encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 6, self.text_of(f"{self.footer_text} · page {self.page_no()}"), align="C")


def titled_pdf(title: str, footer: str) -> _RecordPDF:
    """An A4 document in the records' fonts and footer, its first page begun."""
    pdf = _RecordPDF(footer)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(title)
    pdf.add_page()
    return pdf


def render_pdf(document: Document) -> bytes:
    pdf = titled_pdf(f"{document.title} {document.reference}",
                     f"{document.partnership} · {document.reference} · {document.title}")
    t = pdf.text_of
    pdf.set_font(pdf.family, "", 10)
    pdf.multi_cell(0, 5, t(document.partnership), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "B", 16)
    pdf.multi_cell(0, 8, t(document.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for answer in document.header:
        pdf.set_font(pdf.family, "B", 10)
        pdf.cell(74, 6, t(answer.label))
        pdf.set_font(pdf.family, "", 10)
        pdf.multi_cell(0, 6, t(answer.text), new_x="LMARGIN", new_y="NEXT")
    for section in document.sections:
        pdf.ln(3)
        pdf.set_font(pdf.family, "B", 12)
        pdf.multi_cell(0, 7, t(section.heading), new_x="LMARGIN", new_y="NEXT")
        if section.note:
            pdf.set_font(pdf.family, "", 9)
            pdf.multi_cell(0, 5, t(section.note), new_x="LMARGIN", new_y="NEXT")
        for answer in section.answers:
            pdf.set_font(pdf.family, "B", 10)
            pdf.multi_cell(0, 6, t(answer.label), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(pdf.family, "", 10)
            pdf.multi_cell(0, 5, t(answer.text or "-"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
