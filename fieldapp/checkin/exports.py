"""The attendance list as files: CSV for spreadsheets, PDF for Arbeidstilsynet and the client."""

from flask_babel import gettext as _

from .. import clock, downloads, pdf as pdfs
from ..phone_time import note as phone_time_note

# DejaVu Sans, bundled (fieldapp/fonts/LICENSE): covers Polish and Lithuanian names too, which the PDF
# core fonts (Latin-1) cannot, and no system package has to provide it.


def _columns():
    # byggherreforskriften § 15: name, date of birth, employer and its organisation number, a hired-in worker's
    # staffing agency and its number, HMS card; with date and times.
    return [_("Name"), _("Date of birth"), _("Employer"), _("Organisation number"), _("Staffing agency"),
            _("Agency's organisation number"), _("HMS card number"), _("Date"),
            _("Checked in"), _("Checked out"), _("Visitor"), _("Time note")]


def _hhmm(moment):
    return moment.time().isoformat("minutes")


def _cells(row, site, s15):
    # ISO dates and 24-hour times in the site's zone whatever the reader's language: the files are read by
    # spreadsheets and by Arbeidstilsynet, and sort as text.
    start, end = clock.local(row.checked_in_at, site), clock.local(row.checked_out_at, site)
    out = _hhmm(end) + (" *" if row.auto_closed else "") if end else ""
    person = s15.get(row.user_id)
    born = person.date_of_birth.isoformat() if person and person.date_of_birth else ""
    agency = person.agency_name if person else ""
    if person and person.hired_in and not agency:  # § 15: the list is incomplete without it
        agency = _("Missing (hired in)")
    return [row.name, born, row.employer_name or "", row.employer_org_number or "",
            agency, person.agency_org_number if person else "",
            row.hms_card_number or "",
            start.date().isoformat(), _hhmm(start), out, _("yes") if row.is_guest else "",
            _time_note(row)]


def _time_note(row):
    """Back-dating shows in the files too: each time whose phone claim is far from its receipt."""
    notes = [(_("Checked in"), phone_time_note(row.phone_in_at, row.received_at, row.checked_in_at)),
             (_("Checked out"), phone_time_note(row.phone_out_at, row.out_received_at, row.checked_out_at))]
    return "; ".join(f"{which}: {text}" for which, text in notes if text)


def attendance_csv(site, rows, s15=None):
    """The attendance list as CSV text (downloads.csv_document: BOM, semicolons, formula-safe cells).
    s15: {user id: service.S15} (date of birth, staffing agency), from service.s15_details(rows)."""
    s15 = s15 or {}
    return downloads.csv_document(_columns(), (_cells(row, site, s15) for row in rows))


# Wished-for relative column widths (the 12 columns of _columns()); pdf.column_widths makes room for the longest
# heading word.
ATTENDANCE_WEIGHTS = (30, 22, 30, 24, 28, 24, 22, 22, 13, 13, 13, 36)


def attendance_pdf(site, rows, start, end, s15=None):
    """The attendance list as a landscape A4 PDF; s15 as for attendance_csv."""
    s15 = s15 or {}
    pdf = pdfs.document("L")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("body", size=14)
    pdf.cell(0, 8, _("Attendance list") + f": {site.name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    details = [site.address, site.client_name and _("Client (byggherre)") + f": {site.client_name}",
               f"{start.isoformat()} – {end.isoformat()}"]
    pdf.cell(0, 6, " · ".join(d for d in details if d), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    cells = [pdfs.row_cells(_cells(row, site, s15)) for row in rows]
    # Sized by the headings and the content: a date, a time or a name's word never breaks inside.
    widths = pdfs.column_widths(pdf, _columns(), ATTENDANCE_WEIGHTS, rows=cells)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5, first_row_as_headings=True) as table:
        table.row(_columns())
        for row in cells:
            table.row(row)
    pdf.ln(2)
    pdf.cell(0, 5, _("* closed automatically at the end of the day"))
    return bytes(pdf.output())

