"""Exports on a shared phone and in a spreadsheet: never cached, never a formula; photos cached privately."""
import csv
import io
import uuid
from datetime import date, timedelta

import pytest

from fieldapp import downloads
from fieldapp.models import CheckIn, utcnow


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_neutralised(start):
    assert downloads.csv_cell(start + "1+1") == "'" + start + "1+1"


@pytest.mark.parametrize("value, expected", [
    ("Ola Nordmann", "Ola Nordmann"), ("", ""), (None, ""), ("a=b", "a=b"), (" =1", " =1"),
    (42, "42"), (-5, "-5"), ("'=already", "'=already")])
def test_other_cells_are_kept_as_they_are(value, expected):
    assert downloads.csv_cell(value) == expected


def test_the_header_goes_through_the_same_function():
    text = downloads.csv_document(["=Name", "ok"], [["@SUM(A1)", "x"]])
    assert text == "\ufeff'=Name;ok\r\n'@SUM(A1);x\r\n"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_attendance_csv_neutralises_every_person_typed_field(as_role, world, start):
    CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=None, checked_in_at=utcnow(), is_guest=True,
                   name=start + "cmd|' /C calc'!A0", employer_name=start + "HYPERLINK(\"x\")",
                   employer_org_number=start + "1", hms_card_number=start + "2")
    # Around today in any time zone: the list's days are the site's (Oslo) days, the test's clock is UTC.
    first, last = date.today() - timedelta(days=1), date.today() + timedelta(days=1)
    text = as_role("manager").get(f"/s/{world.site.id}/attendance.csv?from={first}&to={last}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    guest = [row for row in rows[1:] if row[-1]][0]  # the visitor column is filled for the guest only
    assert guest[:4] == ["'" + start + "cmd|' /C calc'!A0", "'" + start + 'HYPERLINK("x")',
                         "'" + start + "1", "'" + start + "2"]
    for row in rows:
        assert not any(cell.startswith(downloads.FORMULA_STARTS) for cell in row), row
