"""PDF tables give every heading word room on one line, in every language (issue 20: "Fraværsskad/er",
"Klokk/eslett", "Відвіду/вач")."""
import io
from datetime import date, datetime
from types import SimpleNamespace

import pypdf
import pytest
from flask_babel import force_locale

from fieldapp import pdf as pdfs
from fieldapp.checkin import exports as checkin_exports
from fieldapp.stats import exports as stats_exports

LANGUAGES = ("nb", "en", "pl", "lt", "uk")


def _fits(size, header, weights, orientation="L"):
    pdf = pdfs.document(orientation)
    pdf.set_font("body", size=size)
    widths = pdfs.column_widths(pdf, header, weights)
    pdf.set_font("body", "B", pdf.font_size_pt)
    too_narrow = [(word, round(w, 1)) for title, w in zip(header, widths) for word in title.split()
                  if pdf.get_string_width(word) + 2 * pdf.c_margin > w]
    return widths, pdf.epw, too_narrow


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_heading_word_fits_its_column(app, language):
    with app.test_request_context(), force_locale(language):
        header = stats_exports.register_header()
        register = [header[i] for i in stats_exports.REGISTER_PDF_COLUMNS]
        cases = [(7, register, stats_exports.REGISTER_WEIGHTS, "L"),
                 (7.5, [header[0]] + stats_exports.figure_header()[1:2] + stats_exports.figure_header()[3:9],
                  stats_exports.REPORT_WEIGHTS, "P"),
                 (9, checkin_exports._columns(), checkin_exports.ATTENDANCE_WEIGHTS, "L")]
        for size, titles, weights, orientation in cases:
            widths, epw, too_narrow = _fits(size, titles, weights, orientation)
            assert too_narrow == [], (language, titles)
            assert sum(widths) == pytest.approx(epw)


def test_a_column_is_widened_only_as_much_as_its_word_needs(app):
    pdf = pdfs.document("P")
    pdf.set_font("body", size=8)
    widths = pdfs.column_widths(pdf, ["Aaaaaaaaaaaaaaaaaaaaaaaa", "b", "b"], (1, 10, 10))
    word = pdf.get_string_width("Aaaaaaaaaaaaaaaaaaaaaaaa")  # regular: the helper measured it in bold, wider
    assert widths[0] > word and widths[1] == pytest.approx(widths[2])
    assert sum(widths) == pytest.approx(pdf.epw)


def test_the_ukrainian_attendance_pdf_prints_visitor_whole(app):
    site = SimpleNamespace(name="Київ", address="вул. Хрещатик 1", client_name=None)
    with app.test_request_context(), force_locale("uk"):
        body = checkin_exports.attendance_pdf(site, [], date(2026, 3, 2), date(2026, 3, 2))
        visitor = checkin_exports._columns()[7]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages)
    assert visitor in text.replace("\n", " ")


def _row(name, when, **extra):
    fields = dict(name=name, user_id=None, employer_name="Fjordbygg Entreprenør Vest AS",
                  employer_org_number="923609016", hms_card_number="HMS-0012345678", checked_in_at=when,
                  checked_out_at=when.replace(hour=16, minute=58), auto_closed=True, is_guest=False,
                  phone_in_at=None, received_at=None, phone_out_at=None, out_received_at=None)
    fields.update(extra)
    return SimpleNamespace(**fields)


@pytest.mark.parametrize("language", LANGUAGES)
def test_attendance_pdf_never_breaks_a_date_a_time_or_a_name(app, language):
    """The new-user test found "Ola Arbeid/er", "2026-/11-30" and "09:/58" with room to spare in other columns."""
    site = SimpleNamespace(name="Site A", address="Gate 1, Oslo", client_name="Byggherre AS", time_zone="Europe/Oslo")
    rows = [_row("Ola Arbeider", datetime(2026, 11, 30, 8, 58)),
            _row("Kristoffersen-Johannessen Bartholomeus", datetime(2026, 11, 30, 8, 58))]
    with app.test_request_context(), force_locale(language):
        body = checkin_exports.attendance_pdf(site, rows, date(2026, 11, 30), date(2026, 11, 30))
    lines = [line for page in pypdf.PdfReader(io.BytesIO(body)).pages for line in page.extract_text().split("\n")]
    words = {word for line in lines for word in line.split()}
    assert {"2026-11-30", "09:58", "17:58", "Ola", "Arbeider", "Kristoffersen-Johannessen", "Bartholomeus",
            "923609016", "HMS-0012345678"} <= words
