"""The shop's PDF documents' pages, drawn straight onto ReportLab's canvas, and their font.

Every receipt carries its invoice, so the invoice is drawn on every paying notification (in the
request without a broker, in the worker with one). ReportLab's platypus (flowables, paragraphs,
tables) laid out a one-page invoice in some 9 ms of CPU here, more than the whole notification
besides; `Pages` draws the same page in about 2: a cursor going down A4 pages with the shop's
margins, text set left, right or wrapped to a width (mixed with bold), rules, and a new page
(its repeated header drawn by the caller) where the next row would not fit.

The text is set in Bitstream Vera, which ships inside ReportLab and is embedded (subset) in the
file: unlike the PDF's built-in Helvetica it has "−", "ł" and the like, and the file looks the
same in every viewer. Embedding builds a subset of the font (the glyphs a document uses, in the
order it first uses them) for each document and compresses it; a subset is built and compressed
once per process (`_SubsetsOnce`) and reused by the next document that uses the same glyphs in
the same order (the bold font's, nearly always: headings and totals).
"""

import io
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from threading import Lock

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace
from reportlab.pdfgen.canvas import Canvas

FONT = "InvoiceSans"
FONT_BOLD = "InvoiceSans-Bold"
_FONT_FILES = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf"}
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#BBBBBB")
MARGIN = 20 * mm
# Inside the margins, as platypus's frame pads them (the credit notes are laid out by it).
FRAME_PADDING = 6
# Subsets kept per process (a font program, some 10 KB, and its compressed form each).
SUBSETS_KEPT = 64


class _FlateOnce:
    """ReportLab's FlateDecode filter, remembering what it compressed last (by content)."""

    pdfname = "FlateDecode"

    def __init__(self) -> None:
        self._done: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = Lock()

    def encode(self, content: bytes | str) -> bytes:
        if isinstance(content, str):
            content = content.encode("utf-8")
        with self._lock:
            found = self._done.get(content)
            if found is not None:
                self._done.move_to_end(content)
                return found
        found = zlib.compress(content)
        with self._lock:
            self._done[content] = found
            while len(self._done) > SUBSETS_KEPT * len(_FONT_FILES):
                self._done.popitem(last=False)
        return found

    def decode(self, encoded: bytes) -> bytes:
        return zlib.decompress(encoded)


_FLATE_ONCE = _FlateOnce()


class _SubsetsOnceFace(TTFontFace):
    """A TrueType face whose subsets (the font programs embedded in a document) are built and
    compressed once per process for the same glyphs: a subset depends on its glyphs only."""

    @lru_cache(maxsize=SUBSETS_KEPT)  # noqa: B019 (two faces, alive as long as the process)
    def _subset(self, codes: tuple[int, ...]) -> bytes:
        return super().makeSubset(list(codes))

    def makeSubset(self, subset) -> bytes:
        return self._subset(tuple(subset))

    def addSubsetObjects(self, doc, fontname, subset):
        reference = super().addSubsetObjects(doc, fontname, subset)
        # The font program's stream, as ReportLab's own method names it in the document.
        program = doc.idToObject[f"fontFile:{self.filename}({fontname})"]
        if program.filters:
            program.filters = [_FLATE_ONCE]
        return reference


class _SubsetsOnce(TTFont):
    def __init__(self, name: str, filename: str) -> None:
        # Only the glyphs a document uses, not all of ASCII besides (ReportLab's default keeps
        # ASCII codes readable in the file): the invoice's file is 26 KB instead of 42, which
        # is most of what encoding it into the e-mail costs, and it is drawn faster.
        super().__init__(name, filename, asciiReadable=False)
        self.face = _SubsetsOnceFace(filename)


def fonts_register() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(reportlab.__file__).parent / "fonts"
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(_SubsetsOnce(name, str(folder / filename)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def printable(text: str) -> bool:
    """Whether the documents' font has a glyph for every character of `text`."""
    glyphs = pdfmetrics.getFont(FONT).face.charToGlyph
    return all(ord(char) in glyphs for char in text)


@dataclass(frozen=True)
class Span:
    """Text in one font: a run of a line that mixes regular and bold."""

    text: str
    bold: bool = False

    @property
    def font(self) -> str:
        return FONT_BOLD if self.bold else FONT


def width_of(spans: list[Span], size: float) -> float:
    return sum(pdfmetrics.stringWidth(span.text, span.font, size) for span in spans)


def wrapped(text: str, *, size: float, width: float, first: float | None = None, bold=False):
    """`text` broken into lines at spaces to fit `width` points (the first line `first`); a
    word longer than a line is broken where it must be."""
    font = FONT_BOLD if bold else FONT
    lines: list[str] = []
    line = ""
    for word in text.split():
        limit = first if first is not None and not lines else width
        candidate = f"{line} {word}" if line else word
        if pdfmetrics.stringWidth(candidate, font, size) <= limit:
            line = candidate
            continue
        if line:
            lines.append(line)
            limit = width
        while pdfmetrics.stringWidth(word, font, size) > limit:
            cut = len(word)
            while cut > 1 and pdfmetrics.stringWidth(word[:cut], font, size) > limit:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


class Pages:
    """A document's A4 pages with the shop's margins, drawn from the top down: `y` is where the
    next line's top is, in points from the page's foot."""

    def __init__(self, *, title: str, author: str, subject: str) -> None:
        fonts_register()
        self._buffer = io.BytesIO()
        # The initial font is named, else every page lists Helvetica, unused.
        self.canvas = Canvas(self._buffer, pagesize=A4, initialFontName=FONT)
        self.canvas.setTitle(title)
        self.canvas.setAuthor(author)
        self.canvas.setSubject(subject)
        self.page_width, self.page_height = A4
        self.left = MARGIN + FRAME_PADDING
        self.right = self.page_width - MARGIN - FRAME_PADDING
        self.bottom = MARGIN + FRAME_PADDING
        self.y = self.top

    @property
    def top(self) -> float:
        return self.page_height - MARGIN - FRAME_PADDING

    @property
    def width(self) -> float:
        return self.right - self.left

    def line(
        self,
        spans: list[Span],
        *,
        x: float,
        size: float,
        leading: float,
        align: str = "left",
        color=colors.black,
    ) -> None:
        """One line of `spans` from `x` (or ending at `x`: align="right"), the cursor moved
        down by `leading`; the text sits on its baseline as platypus sets it."""
        baseline = self.y - leading + (leading - size) / 2 + size * 0.2
        if align == "right":
            x -= width_of(spans, size)
        # One text object for the whole line, as a reader extracts it: a line, not pieces.
        text = self.canvas.beginText(x, baseline)
        text.setFillColor(color)
        for span in spans:
            text.setFont(span.font, size)
            text.textOut(span.text)
        self.canvas.drawText(text)
        self.y -= leading

    def text_at(self, text: str, *, x: float, y: float, size: float, bold=False, right=False):
        """`text` on the baseline `y`, starting at `x` (ending there: right), in black."""
        font = FONT_BOLD if bold else FONT
        self.canvas.setFillColor(colors.black)
        self.canvas.setFont(font, size)
        (self.canvas.drawRightString if right else self.canvas.drawString)(x, y, text)

    def rule(self, x0: float, x1: float, y: float, *, width: float, color=colors.black):
        self.canvas.setStrokeColor(color)
        self.canvas.setLineWidth(width)
        self.canvas.line(x0, y, x1, y)

    def fits(self, height: float) -> bool:
        return self.y - height >= self.bottom

    def page_new(self) -> None:
        self.canvas.showPage()
        self.y = self.top

    def pdf(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self._buffer.getvalue()
