"""The PDF of a document, laid out from the very HTML the shopper is shown.

The templates write a small, fixed vocabulary of HTML (headings, paragraphs, bullet lists,
tables, ``strong`` and ``br``); :func:`parse` reads it into blocks and :func:`build_pdf` sets
them with fpdf2. One source for both forms means the PDF cannot say something the accepted
HTML did not. A tag outside the vocabulary is refused rather than silently dropped, so a
template change that the PDF cannot show fails the tests instead of vanishing from the PDF.

fpdf2's core fonts are Latin-1 only: a TrueType font (DejaVu Sans, Debian's
``fonts-dejavu-core``) is embedded so that "€", "£" and names such as "Łukasz" or "Ζωή" print.
The output is deterministic: the creation date comes from the input and fpdf2 derives the
file identifier from the content, so the same input gives the same bytes and SHA-256.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

CONTAINERS = frozenset({"article", "header", "section", "footer", "div"})
TEXT_BLOCKS = frozenset({"h1", "h2", "h3", "p", "li"})
ALLOWED = CONTAINERS | TEXT_BLOCKS | {"ul", "table", "thead", "tbody", "tr", "th", "td", "strong", "small", "br"}
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    bold: bool
    small: bool = False  # the form's explanation under a label (``<small>``)


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    runs: tuple[Run, ...]
    note: bool = False  # smaller print for explanations the form puts under a figure


@dataclass(frozen=True, slots=True)
class BulletList:
    items: tuple[tuple[Run, ...], ...]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a cell (cells break at ``<br>``), in one style."""

    text: str
    style: Literal["regular", "bold", "small", "figure"]


@dataclass(frozen=True, slots=True)
class Cell:
    lines: tuple[Line, ...]
    header: bool

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True, slots=True)
class Table:
    rows: tuple[tuple[Cell, ...], ...]
    head_rows: int
    widths: tuple[int, ...] | None
    boxed: bool  # the TILA federal box: a heavy frame, centred cells


Block = Heading | Paragraph | BulletList | Table


@dataclass
class _TableDraft:
    widths: tuple[int, ...] | None
    boxed: bool
    rows: list[list[Cell]] = field(default_factory=list)
    head_rows: int = 0
    in_head: bool = False


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._stack: list[str] = []
        self._runs: list[Run] | None = None  # the text block or cell being read
        self._block_attrs: dict[str, str] = {}
        self._bold = 0
        self._small = 0
        self._items: list[tuple[Run, ...]] | None = None
        self._table: _TableDraft | None = None
        self._cell: tuple[bool, bool] | None = None  # (header, figure)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            raise ValueError(f"<{tag}> is not in the documents' HTML vocabulary")
        values = {name: value or "" for name, value in attrs}
        if tag == "br":
            self._text("\n")
            return
        self._stack.append(tag)
        if tag == "strong":
            self._bold += 1
        elif tag == "small":
            self._small += 1
        elif tag in TEXT_BLOCKS:
            self._runs, self._block_attrs = [], values
        elif tag == "ul":
            self._items = []
        elif tag == "table":
            cols = values.get("data-cols")
            widths = tuple(int(w) for w in cols.split()) if cols else None
            self._table = _TableDraft(widths=widths, boxed="box" in values.get("class", "").split())
        elif tag == "thead" and self._table is not None:
            self._table.in_head = True
        elif tag == "tr" and self._table is not None:
            self._table.rows.append([])
            if self._table.in_head:
                self._table.head_rows += 1
        elif tag in ("th", "td"):
            self._runs = []
            self._cell = (tag == "th", "figure" in values.get("class", "").split())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "br":
            return
        if not self._stack or self._stack[-1] != tag:
            raise ValueError(f"</{tag}> closes {'<' + self._stack[-1] + '>' if self._stack else 'nothing'}")
        self._stack.pop()
        if tag == "strong":
            self._bold -= 1
        elif tag == "small":
            self._small -= 1
        elif tag in ("h1", "h2", "h3"):
            self.blocks.append(Heading(int(tag[1]), "".join(r.text for r in self._take_runs())))
        elif tag == "p":
            note = "note" in self._block_attrs.get("class", "").split()
            self.blocks.append(Paragraph(self._take_runs(), note=note))
        elif tag == "li" and self._items is not None:
            self._items.append(self._take_runs())
        elif tag == "ul" and self._items is not None:
            self.blocks.append(BulletList(tuple(self._items)))
            self._items = None
        elif tag == "thead" and self._table is not None:
            self._table.in_head = False
        elif tag in ("th", "td") and self._table is not None and self._cell is not None:
            header, figure = self._cell
            self._table.rows[-1].append(Cell(_lines(self._take_runs(), header=header, figure=figure), header=header))
            self._cell = None
        elif tag == "table" and self._table is not None:
            draft, self._table = self._table, None
            self.blocks.append(
                Table(tuple(tuple(r) for r in draft.rows), draft.head_rows, draft.widths, boxed=draft.boxed)
            )

    def handle_data(self, data: str) -> None:
        if self._runs is None:
            if data.strip():
                raise ValueError(f"text outside a paragraph, heading, item or cell: {data.strip()[:40]!r}")
            return
        self._text(_SPACE.sub(" ", data))

    def _text(self, text: str) -> None:
        if self._runs is None:
            raise ValueError("<br> outside a paragraph, heading, item or cell")
        bold, small = self._bold > 0, self._small > 0
        if self._runs and (self._runs[-1].bold, self._runs[-1].small) == (bold, small):
            self._runs[-1] = Run(self._runs[-1].text + text, bold, small)
        else:
            self._runs.append(Run(text, bold, small))

    def _take_runs(self) -> tuple[Run, ...]:
        runs, self._runs = self._runs or [], None
        # HTML collapses white space at line breaks and at the ends of a block
        cleaned: list[Run] = []
        for run in runs:
            text = re.sub(r" *\n *", "\n", run.text)
            if cleaned and (cleaned[-1].text.endswith((" ", "\n")) or not cleaned[-1].text):
                text = text.lstrip(" ")
            cleaned.append(Run(text, run.bold, run.small))
        if cleaned:
            cleaned[0] = Run(cleaned[0].text.lstrip(), cleaned[0].bold, cleaned[0].small)
            cleaned[-1] = Run(cleaned[-1].text.rstrip(), cleaned[-1].bold, cleaned[-1].small)
        return tuple(r for r in cleaned if r.text)


def _lines(runs: tuple[Run, ...], *, header: bool, figure: bool) -> tuple[Line, ...]:
    """A cell's runs as lines of one style each: a header's label is bold, its ``<small>``
    explanation regular and smaller; a value is bold when all of it is ``<strong>``."""
    lines: list[list[Run]] = [[]]
    for run in runs:
        for index, part in enumerate(run.text.split("\n")):
            if index:
                lines.append([])
            if part.strip():
                lines[-1].append(Run(part, run.bold, run.small))
    result: list[Line] = []
    for parts in lines:
        if not parts:
            continue
        text = "".join(p.text for p in parts).strip()
        if figure:
            style: Literal["regular", "bold", "small", "figure"] = "figure"
        elif all(p.small for p in parts):
            style = "small"
        elif header or all(p.bold for p in parts):
            style = "bold"
        else:
            style = "regular"
        result.append(Line(text, style))
    return tuple(result)


def parse(fragment: str) -> list[Block]:
    """The blocks of a document fragment written in the documents' HTML vocabulary."""
    reader = _Reader()
    reader.feed(fragment)
    reader.close()
    if reader._stack:
        raise ValueError(f"<{reader._stack[-1]}> is never closed")
    return reader.blocks


@dataclass(frozen=True, slots=True)
class Fonts:
    """The TrueType files embedded in every PDF: a regular and a bold face."""

    regular: Path
    bold: Path


@dataclass(frozen=True, slots=True)
class PdfMeta:
    title: str
    author: str  # the creditor
    subject: str
    created: datetime  # fixes /CreationDate, and so the bytes
    footer: str  # printed on every page beside the page number
    page_format: Literal["A4", "letter"]


FAMILY = "DocumentSans"
INK = (25, 30, 40)
MUTED = (90, 96, 110)
RULE = (170, 176, 188)
HEAD_FILL = (232, 236, 243)


class _Document(FPDF):
    def __init__(self, meta: PdfMeta) -> None:
        super().__init__(orientation="portrait", unit="mm", format=meta.page_format)
        self._footer_text = meta.footer

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, size=7.5)
        self.set_text_color(*MUTED)
        usable = self.w - self.l_margin - self.r_margin
        self.cell(usable - 28, 5, self._footer_text, align="L")
        self.cell(28, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def build_pdf(blocks: list[Block], meta: PdfMeta, fonts: Fonts) -> bytes:
    """Sets the blocks on pages; the same blocks and metadata always give the same bytes."""
    pdf = _Document(meta)
    pdf.set_creation_date(meta.created)
    pdf.set_producer("bnpl-credit disclosures (fpdf2)")
    pdf.set_title(meta.title)
    pdf.set_author(meta.author)
    pdf.set_subject(meta.subject)
    pdf.set_lang("en")
    pdf.add_font(FAMILY, "", str(fonts.regular))
    pdf.add_font(FAMILY, "B", str(fonts.bold))
    pdf.set_margins(left=18, top=16, right=18)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_text_color(*INK)
    previous: Block | None = None
    for block in blocks:
        if isinstance(block, Heading):
            _heading(pdf, block, first=previous is None)
        elif isinstance(block, Paragraph):
            _paragraph(pdf, block)
        elif isinstance(block, BulletList):
            _bullets(pdf, block)
        else:
            _table(pdf, block)
        previous = block
    return bytes(pdf.output())


def _heading(pdf: FPDF, block: Heading, *, first: bool) -> None:
    size = {1: 15.0, 2: 11.0, 3: 9.5}[block.level]
    if not first:
        pdf.ln({1: 4, 2: 3.5, 3: 1.5}[block.level])
    # never strand a heading at the foot of a page: keep room for it and the opening of what
    # follows (a table's head and first rows)
    if block.level >= 2 and pdf.will_page_break(34):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", size)
    pdf.multi_cell(0, size * 0.5, block.text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if block.level <= 2:
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.3 if block.level == 2 else 0.6)
        pdf.line(pdf.l_margin, pdf.get_y() + 0.8, pdf.w - pdf.r_margin, pdf.get_y() + 0.8)
        pdf.ln(2.2)
    else:
        pdf.ln(0.8)


def _write_runs(pdf: FPDF, runs: tuple[Run, ...], size: float, *, left: float | None = None) -> None:
    """Flows mixed bold and regular runs as one paragraph, wrapping at spaces across runs
    (``FPDF.write`` per run would split a word that starts a run at the end of a line)."""
    columns = pdf.text_columns(text_align="LEFT", line_height=1.28, l_margin=left)
    with columns, columns.paragraph() as paragraph:
        for run in runs:
            pdf.set_font(FAMILY, "B" if run.bold else "", size)
            paragraph.write(run.text)


def _paragraph(pdf: FPDF, block: Paragraph) -> None:
    if block.note:
        pdf.set_text_color(*MUTED)
    _write_runs(pdf, block.runs, 7.8 if block.note else 9.0)
    pdf.set_text_color(*INK)
    pdf.ln(1.6)


def _bullets(pdf: FPDF, block: BulletList) -> None:
    for item in block.items:
        pdf.set_font(FAMILY, "", 9.0)
        pdf.set_x(pdf.l_margin + 1.5)
        pdf.cell(4, 4.6, "•")
        pdf.set_x(pdf.l_margin)
        _write_runs(pdf, item, 9.0, left=pdf.l_margin + 5.5)
        pdf.ln(0.8)
    pdf.ln(1.0)


_CELL_FONT = {"regular": ("", 8.6, 4.0), "bold": ("B", 8.6, 4.0), "small": ("", 7.6, 3.5), "figure": ("B", 12.5, 6.0)}
_PAD_X, _PAD_Y = 1.8, 1.5


@dataclass(frozen=True, slots=True)
class _SetLine:
    """One printed line of a cell: the text that fits the column, in its line's style."""

    text: str
    style: Literal["regular", "bold", "small", "figure"]


def _set_cell(pdf: FPDF, cell: Cell, width: float) -> tuple[list[_SetLine], float]:
    """Breaks a cell's lines to the column once; the height includes the padding."""
    lines: list[_SetLine] = []
    height = 2 * _PAD_Y
    for line in cell.lines:
        style, size, line_height = _CELL_FONT[line.style]
        pdf.set_font(FAMILY, style, size)
        broken = pdf.multi_cell(width - 2 * _PAD_X, line_height, line.text, dry_run=True, output="LINES")
        assert isinstance(broken, list)  # output="LINES" answers the lines alone
        lines += [_SetLine(str(text), line.style) for text in broken]
        height += line_height * len(broken)
    return lines, height


def _table(pdf: FPDF, block: Table) -> None:
    """Rows of cells with borders; header rows shaded and repeated after a page break.

    Drawn by hand rather than with ``FPDF.table``, whose cells take one style each: the forms
    put a bold label and its plain explanation in one cell."""
    columns = max(len(row) for row in block.rows)
    fractions = block.widths or tuple([1] * columns)
    if len(fractions) != columns:
        raise ValueError(f"data-cols gives {len(fractions)} widths for {columns} columns")
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    widths = [usable * f / sum(fractions) for f in fractions]
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    # broken into lines once: line breaking is the dearest part of the layout
    cells = [[_set_cell(pdf, cell, widths[i]) for i, cell in enumerate(row)] for row in block.rows]
    heights = [max(height for _, height in row) for row in cells]
    # keep the head and the first rows together: a table never starts on a page's last line
    if pdf.will_page_break(sum(heights[: block.head_rows + 2])):
        pdf.add_page()
    top = pdf.get_y()

    def draw(index: int) -> None:
        height, y, x = heights[index], pdf.get_y(), pdf.l_margin
        for i, (lines, cell_height) in enumerate(cells[index]):
            pdf.set_fill_color(*HEAD_FILL)
            pdf.rect(x, y, widths[i], height, style="DF" if index < block.head_rows else "D")
            line_y = y + _PAD_Y + ((height - cell_height) / 2 if block.boxed else 0)
            for line in lines:
                style, size, line_height = _CELL_FONT[line.style]
                pdf.set_font(FAMILY, style, size)
                pdf.set_text_color(*(MUTED if line.style == "small" else INK))
                pdf.set_xy(x + _PAD_X, line_y)
                pdf.cell(widths[i] - 2 * _PAD_X, line_height, line.text, align="C" if block.boxed else "L")
                line_y += line_height
            pdf.set_text_color(*INK)
            x += widths[i]
        pdf.set_xy(pdf.l_margin, y + height)

    for index in range(len(block.rows)):
        if pdf.will_page_break(heights[index]):
            _frame(pdf, block, top)
            pdf.add_page()
            top = pdf.get_y()
            if index >= block.head_rows:
                for heading in range(block.head_rows):
                    draw(heading)
        draw(index)
    _frame(pdf, block, top)
    pdf.ln(2.5)


def _frame(pdf: FPDF, block: Table, top: float) -> None:
    """The TILA box's heavy frame: the federal box must stand apart from everything else."""
    if block.boxed:
        pdf.set_line_width(0.8)
        pdf.set_draw_color(*INK)
        pdf.rect(pdf.l_margin, top, pdf.w - pdf.l_margin - pdf.r_margin, pdf.get_y() - top)
        pdf.set_line_width(0.2)
        pdf.set_draw_color(*RULE)
