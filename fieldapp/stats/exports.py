"""The statistics as files: the HMS report (PDF, CSV, XLSX), the injury register (PDF, CSV), the hours export.

Numbers in files: H-values with two decimals, hours whole; dates ISO (files are read by spreadsheets and by
clients' tender teams, and sort as text).
"""
import io

import xlsxwriter
from flask_babel import gettext as _
from flask_babel import format_decimal, ngettext

from .. import clock, downloads, pdf as pdfs
from ..reports import labels



# The PDF tables' wished-for relative column widths; pdf.column_widths widens a column whose heading has a
# longer word (in the reader's language) at the others' expense.
REPORT_WEIGHTS = (50, 22, 18, 18, 16, 12, 12, 12)
REGISTER_WEIGHTS = (18, 10, 24, 22, 22, 60, 28, 12, 12, 17, 12, 10, 16)
REGISTER_PDF_COLUMNS = (0, 1, 2, 3, 4, 6, 7, 9, 10, 11, 12, 13, 15)  # no severity, serious, corrective action


def _value(number):
    return "" if number is None else round(number, 2)


def _text(number):
    """A figure for the PDF in the reader's language: "203,05" in bokmål, "203.05" in English."""
    return "–" if number is None else format_decimal(number, format="#,##0.00")


def _whole(number):
    return format_decimal(round(number), format="#,##0")


def figure_header():
    return [_("Period"), _("Hours worked"), _("Injuries"), _("Lost-time injuries"), _("Injuries counted in H2"),
            _("Days of absence"), "H1", "H2", "F", _("Too few hours")]


def figure_row(label, f):
    return [label, round(f.hours), f.injuries, f.lost_time, f.recordable, f.absence_days, _value(f.h1),
            _value(f.h2), _value(f.f), _("yes") if f.too_few else ""]


def report_rows(sections):
    """The rows of the HMS report's table. sections: [(title, Statistics)] (the periods asked for)."""
    rows = []
    for title, result in sections:
        rows.append(figure_row(title, result.total))
        for org, name, own, f in result.employers:
            who = (name or org or _("Unknown employer")) + ("" if own else " (" + _("subcontractor") + ")")
            rows.append(figure_row(f"{title}: {who}", f))
    return rows


def report_csv(sections):
    return downloads.csv_document(figure_header(), report_rows(sections))


def report_xlsx(sections, monthly):
    """The HMS report as XLSX (XlsxWriter, constant_memory: rows are written out as they are made).
    monthly: a Statistics whose months are listed on the second sheet."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet(_("HMS figures")[:31])
    for col, title in enumerate(figure_header()):
        sheet.write_string(0, col, title, bold)
    for r, row in enumerate(report_rows(sections), start=1):
        for col, cell in enumerate(row):
            if isinstance(cell, (int, float)):
                sheet.write_number(r, col, cell)
            else:
                sheet.write_string(r, col, str(cell))
    months = book.add_worksheet(_("Months")[:31])
    for col, title in enumerate(figure_header()):
        months.write_string(0, col, title, bold)
    for r, (first, f) in enumerate(monthly.months, start=1):
        for col, cell in enumerate(figure_row(first.isoformat()[:7], f)):
            if isinstance(cell, (int, float)):
                months.write_number(r, col, cell)
            else:
                months.write_string(r, col, str(cell))
    book.close()
    return out.getvalue()


def definitions_text(lost_time_days, few_hours):
    return [
        ngettext("H1: lost-time injuries per million hours worked. A lost-time injury is an absence of at least "
                 "%(num)s full day after the day of injury, or a fatality.",
                 "H1: lost-time injuries per million hours worked. A lost-time injury is an absence of at least "
                 "%(num)s full days after the day of injury, or a fatality.", lost_time_days),
        _("H2: lost-time injuries and injuries with medical treatment or alternative work, per million hours "
          "worked. First aid alone is not counted."),
        _("F: days of absence per million hours worked. All of an injury's days of absence count in the period "
          "of the day of injury, even when the absence runs into the next period."),
        _("Hours: from check-in to check-out, split at midnight on the site's clock; where hours were entered "
          "for a site, employer and month, they replace the check-in hours. Open check-ins are not counted."),
        _("Subcontractors' hours and injuries are included, and shown apart per employer."),
        ngettext("Below %(hours)s hour the figures say little: they are marked.",
                 "Below %(hours)s hours the figures say little: they are marked.", few_hours,
                 hours=_whole(few_hours)),
    ]


def _pdf():
    pdf = pdfs.document("P")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    return pdf


def _bars(pdf, months, title, number_format=_text):
    """A bar chart drawn with the PDF's own rectangles, one bar per month: months [(first day, number or None)],
    labelled as on the page (clock.month_labels: the short month, the year under the first bar and each January)."""
    labels = clock.month_labels([first for first, _value in months])
    bars = [(label, value) for (label, _year), (_first, value) in zip(labels, months)]
    pdf.set_font("body", "B", 10)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    x0, y0, width, height = pdf.l_margin, pdf.get_y() + 4, pdf.epw, 40
    top = max([v for _l, v in bars if v] or [1])
    step = width / max(1, len(bars))
    pdf.set_font("body", size=6)
    pdf.set_fill_color(31, 95, 168)
    for i, (label, value) in enumerate(bars):
        h = height * ((value or 0) / top)
        x = x0 + i * step + step * 0.15
        if value:
            pdf.rect(x, y0 + height - h, step * 0.7, h, style="F")
        pdf.text(x, y0 + height - h - 1, number_format(value) if value is not None else "–")
        pdf.text(x, y0 + height + 4, label)
        if labels[i][1]:
            pdf.text(x, y0 + height + 7, labels[i][1])
    pdf.line(x0, y0 + height, x0 + width, y0 + height)
    pdf.set_y(y0 + height + 10)


def report_pdf(scope_name, sections, monthly, settings, made_on):
    """The HMS report: each period's figures (total and per employer), a trend chart of H2 per month over
    the rolling 12 months, and the definitions. settings: (lost_time_days, few_hours); made_on: the site's day
    (a date), printed under the title in the reader's format so a client sees how current the figures are."""
    pdf = _pdf()
    pdf.set_font("body", "B", 15)
    pdf.cell(0, 9, _("HMS report"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    pdf.cell(0, 5, scope_name + " · " + _("Made on %(date)s", date=clock.format_date(made_on)),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    header = [_("Period"), _("Hours worked"), _("Lost-time injuries"), _("Injuries counted in H2"),
              _("Days of absence"), "H1", "H2", "F"]
    pdf.set_font("body", size=7.5)
    widths = pdfs.column_widths(pdf, header, REPORT_WEIGHTS)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.5,
                   first_row_as_headings=True) as table:
        table.row(header)
        for title, result in sections:
            f = result.total
            mark = " *" if f.too_few else ""
            table.row(pdfs.row_cells([title, _whole(f.hours), str(f.lost_time), str(f.recordable),
                                      str(f.absence_days), _text(f.h1) + mark, _text(f.h2) + mark, _text(f.f) + mark]))
            for org, name, own, ef in result.employers:
                who = (name or org or _("Unknown employer")) + ("" if own else " (" + _("subcontractor") + ")")
                table.row(pdfs.row_cells(["  " + who, _whole(ef.hours), str(ef.lost_time), str(ef.recordable),
                                          str(ef.absence_days), _text(ef.h1), _text(ef.h2), _text(ef.f)]))
    pdf.ln(3)
    _bars(pdf, [(first, f.h2) for first, f in monthly.months], _("H2 per month, rolling 12 months"))
    _bars(pdf, [(first, f.hours) for first, f in monthly.months], _("Hours worked per month"), _whole)
    pdf.set_font("body", "B", 10)
    pdf.cell(0, 6, _("Definitions"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=8)
    for line in definitions_text(*settings) + [_("* too few hours for the figure to mean much")]:
        pdf.multi_cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    for title, result in sections:
        for first, site, org, name in result.replaced:
            pdf.multi_cell(0, 4, _("%(month)s, %(site)s, %(employer)s: entered hours used instead of check-ins.",
                                   month=clock.format_month(first), site=site, employer=name or org),
                           new_x="LMARGIN", new_y="NEXT")
        break
    return bytes(pdf.output())


# --- the injury register (AML § 5-1) -------------------------------------------------------------------------

def register_header():
    return [_("Date"), _("Time"), _("Site"), _("Place"), _("What it is about"), _("Severity"), _("What happened"),
            _("Employer"), _("Organisation number"), _("Lost-time injury"), _("Days of absence"), _("Returned"),
            _("Alternative work"), _("Fatal"), _("Serious (AML § 5-2)"), _("Status"), _("Corrective action")]


def register_cells(row):
    local = clock.local(row.happened_at, row.site_obj)
    yes = _("yes")
    return [local.date().isoformat(), local.time().isoformat("minutes"), row.site, row.place,
            labels.categories().get(row.category, row.category), labels.severities().get(row.severity, row.severity),
            row.description, row.employer,
            row.org_number, yes if row.lost_time else "", row.absence_days, row.returned_on.isoformat()
            if row.returned_on else "", yes if row.alternative_work else "", yes if row.fatal else "",
            yes if row.serious else "", labels.statuses().get(row.status, row.status), row.corrective_action]


def register_csv(rows):
    return downloads.csv_document(register_header(), (register_cells(r) for r in rows))


def register_pdf(scope_name, period, rows):
    pdf = pdfs.document("L")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("body", "B", 14)
    pdf.cell(0, 8, _("Register of injuries (AML § 5-1)"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    pdf.cell(0, 5, f"{scope_name} · {clock.format_date(period.start)} – {clock.format_date(period.end)}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, _("Without medical details."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("body", size=7)
    keep = REGISTER_PDF_COLUMNS
    header = register_header()
    titles = [header[i] for i in keep]
    body = [pdfs.row_cells([cells[i] for i in keep]) for cells in map(register_cells, rows)]
    widths = pdfs.column_widths(pdf, titles, REGISTER_WEIGHTS, rows=body)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4, first_row_as_headings=True) as table:
        table.row(titles)
        for cells in body:
            table.row(cells)
    if not rows:
        pdf.cell(0, 6, _("No injuries were reported in this period."))
    return bytes(pdf.output())


# --- the hours export ---------------------------------------------------------------------------------------

def hours_header():
    return [_("Site"), _("Date"), _("Name"), _("Employer"), _("Organisation number"), _("Checked in"),
            _("Checked out"), _("Hours")]


def hours_pieces(lines):
    """The hours export as CSV pieces (downloads.csv_lines): lines from service.hours_lines."""
    return downloads.csv_lines(hours_header(), lines)
