"""A record as a PDF (fpdf2), laid out like the printable page: title, the challenge's details, each section.

The PDFs are tagged for screen readers: the document's language (en-GB) and title (shown as the window's title),
and a structure tree in which each heading is an H1 or H2 and each piece of text a P, with the page footers marked
as artifacts (not read out). fpdf2 2.8.9 builds the tree (/StructTreeRoot, /MarkInfo) from marked content; its
own API marks only images, links and outline titles, so `tagged` writes the marked content of our text itself. A
paragraph that runs onto another page becomes one P on each page; a table's text is one P (fpdf2 cannot tag a
table's rows and cells)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fpdf import FPDF
from fpdf.prefs import ViewerPreferences

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
        self.set_lang("en-GB")
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)
        self._open_tag: str | None = None  # the structure type of the marked content being written

    def _begin_tag(self, struct_type: str) -> None:
        mcid = self.struct_builder.next_mcid_for_page(self.page)
        self._add_marked_content(struct_type=f"/{struct_type}", mcid=mcid)
        self._out(f"/{struct_type} <</MCID {mcid}>> BDC")

    @contextmanager
    def tagged(self, struct_type: str) -> Iterator[None]:
        """What is written inside is one structure element of `struct_type` (H1, H2, P): marked content of the
        page, in the document's structure tree. A page break inside ends it on its page and goes on with another
        element of the same type on the next."""
        self._begin_tag(struct_type)
        self._open_tag = struct_type
        try:
            yield
        finally:
            self._open_tag = None
            self._out("EMC")

    def heading(self, text: str, level: int, size: float, height: float) -> None:
        """A heading (H1 or H2), kept whole on one page."""
        self.set_font(self.family, "B", size)
        needed = self.multi_cell(0, height, self.text_of(text), dry_run=True, output="HEIGHT")
        if self.y + needed > self.page_break_trigger:
            self.add_page()
        with self.tagged(f"H{level}"):
            self.multi_cell(0, height, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, height: float, size: float = 10, style: str = "") -> None:
        self.set_font(self.family, style, size)
        with self.tagged("P"):
            self.multi_cell(0, height, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def header(self) -> None:
        if self._open_tag:  # text that ran over the page break goes on as a new element of the same type
            self._begin_tag(self._open_tag)

    def text_of(self, value: str) -> str:
        if self.unicode_ok:
            return value
        return value.translate({0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-", 0x2014: "-"}) \
            .encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        if self._open_tag:
            self._out("EMC")  # the element being written ends on this page
        self._out("/Artifact BMC")
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 6, self.text_of(f"{self.footer_text} · page {self.page_no()}"), align="C")
        self._out("EMC")


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
    pdf.paragraph(document.partnership, 5)
    pdf.heading(document.title, 1, 16, 8)
    pdf.ln(2)
    for answer in document.header:
        pdf.set_font(pdf.family, "B", 10)
        with pdf.tagged("P"):
            pdf.cell(74, 6, pdf.text_of(answer.label))
            pdf.set_font(pdf.family, "", 10)
            pdf.multi_cell(0, 6, pdf.text_of(answer.text), new_x="LMARGIN", new_y="NEXT")
    for section in document.sections:
        pdf.ln(3)
        pdf.heading(section.heading, 2, 12, 7)
        if section.note:
            pdf.paragraph(section.note, 5, 9)
        for answer in section.answers:
            pdf.paragraph(answer.label, 6, style="B")
            pdf.paragraph(answer.text or "-", 5)
    return bytes(pdf.output())
