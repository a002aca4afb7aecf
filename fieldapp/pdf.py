"""The one way the app starts a PDF (fpdf2): A4, the bundled DejaVu fonts (fieldapp/fonts, with their licence)
under the family name "body", regular and bold, so that every export reads the same and Polish, Lithuanian
and Ukrainian text (Latin Extended, Cyrillic) prints without a system font package."""
from pathlib import Path

from flask_babel import ngettext
from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = FONTS / "DejaVuSans.ttf"
FONT_BOLD = FONTS / "DejaVuSans-Bold.ttf"


def document(orientation="P"):
    """A new FPDF on A4 with the "body" font family (styles "" and "B") registered.

    orientation: "P" (portrait) or "L" (landscape). No page is added: the caller adds pages and sets the font.
    """
    pdf = FPDF(orientation=orientation, format="A4")
    pdf.add_font("body", fname=FONT)
    pdf.add_font("body", style="B", fname=FONT_BOLD)
    return pdf


# A table row cannot continue on the next page in fpdf2 ("row too high to be rendered on a single page": a 500
# for the whole PDF). A cell of free text is cut to CELL_CHARS, with a note; the page in the app keeps all of it.
# Its line breaks count too: 300 short lines ("x\r\n" * 300, or a name pasted with Word's line breaks) made one
# row taller than a page, so a cell keeps at most CELL_LINES lines and its further text runs on in the last one.
CELL_CHARS = 600
CELL_LINES = 6


def printable(text):
    """`text` (str) with its tabs as spaces: fpdf2 prints a tab as nothing, so "Ola\tHansen" pasted from a
    spreadsheet printed as "OlaHansen"."""
    return str(text).replace("\t", " ")


def cell_text(value, limit=CELL_CHARS):
    """Text for one table cell: "" for None, else printable(value), cut after `limit` characters with a note in the
    current language saying how many more the app shows, and with at most CELL_LINES lines (further line breaks,
    of any kind str.splitlines knows, become spaces). Text printed with multi_cell (which continues on the next
    page) needs neither."""
    text = "" if value is None else printable(value)
    if len(text) > limit:
        more = len(text) - limit
        text = text[:limit] + " … " + ngettext("(%(num)s more character in the app)",
                                               "(%(num)s more characters in the app)", more)
    lines = text.splitlines()
    if len(lines) > CELL_LINES:
        text = "\n".join(lines[:CELL_LINES - 1] + [" ".join(lines[CELL_LINES - 1:])])
    return text


def row_cells(row):
    """A table row's cells through cell_text: every pdf.table row that shows what people typed goes through here."""
    return [cell_text(cell) for cell in row]


MAX_WORD_SHARE = 1 / 3  # of the usable width: the most one unbroken word may claim for its column
MIN_FONT_SIZE = 5  # pt: below it a printed table is not readable; words may then break


def column_widths(pdf, header, weights, style="B", rows=()):
    """Column widths in mm for ``pdf.table(col_widths=...)`` that sum to the page's usable width (pdf.epw)
    and give every word of ``header`` and of the body ``rows`` room on one line, so a heading or a cell wraps
    between words, never inside one ("Fraværsskad/er", "Відвіду/вач", "Ola Arbeid/er", "2026-/11-30",
    "09:/58" were the bugs).

    header: the column titles (text in the reader's language); weights: the columns' wished-for relative
    widths; style: the headings' font style ("B", fpdf2's default headings); rows: the body's cells (lists of
    text, in the current style), whose words (a date, a time, an organisation number, each part of a name)
    are measured too. Columns whose longest word needs more than their share get it, taken from the others in
    proportion to their spare room. When the words cannot all fit at the current font size, the size is
    lowered in 0.5 pt steps (down to MIN_FONT_SIZE) and left set on ``pdf``. Returns a tuple of floats."""
    family, size, current_style = pdf.font_family, pdf.font_size_pt, pdf.font_style
    room = 2 * pdf.c_margin + 0.6  # the cell's own margins and a hair for rounding
    body_words = [set() for _title in header]
    for row in rows:
        for i, cell in enumerate(list(row)[:len(header)]):
            body_words[i].update(str(cell or "").split())
    while True:
        pdf.set_font(family, style, size)
        need = [max((pdf.get_string_width(word) for word in str(title).split()), default=0) + room
                for title in header]
        pdf.set_font(family, current_style, size)
        # A word wider than a third of the page (a pasted URL, 4,000 characters with no space) breaks inside
        # anyway: it may not squeeze the other columns to nothing ("not enough horizontal space").
        longest = pdf.epw * MAX_WORD_SHARE
        need = [max(n, min(longest, max((pdf.get_string_width(word) for word in words), default=0)) + room)
                for n, words in zip(need, body_words)]
        if sum(need) <= pdf.epw or size <= MIN_FONT_SIZE:
            break
        size -= 0.5
    pdf.set_font(family, current_style, size)
    total = sum(weights)
    widths = [pdf.epw * w / total for w in weights]
    for _round in range(len(widths)):  # bounded: each round fixes at least one column at its need
        short = [i for i, w in enumerate(widths) if w < need[i] - 1e-6]
        if not short:
            break
        missing = sum(need[i] - widths[i] for i in short)
        for i in short:
            widths[i] = need[i]
        spare = {i: widths[i] - need[i] for i in range(len(widths)) if i not in short and widths[i] > need[i]}
        room_left = sum(spare.values())
        if room_left <= 0:
            break
        take = min(missing, room_left)
        for i, slack in spare.items():
            widths[i] -= take * slack / room_left
    scale = pdf.epw / sum(widths)
    return tuple(w * scale for w in widths)
