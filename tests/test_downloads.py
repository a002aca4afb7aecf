"""Exports on a shared phone and in a spreadsheet: never cached, never a formula; photos cached privately."""
import csv
import io
import re
import uuid

import pytest
from helpers import ACCESS, PUBLIC, SIGNED_IN, call

from fieldapp import clock, downloads
from fieldapp.authz import roles_with
from fieldapp.models import CheckIn, utcnow

# Responses that a page, the service worker or the manifest need; everything else that is not a page
# is a file that someone downloads or an image.
NOT_FILES = {"text/html", "text/javascript", "application/javascript", "application/manifest+json",
             "application/json", "text/plain", "text/css"}


# The first words of every export's file name: Norwegian, as the employer files them and the client or
# Arbeidstilsynet receives them ("competence-…", "minutes-…" and "evidence-…" were English).
NORWEGIAN_NAMES = {"sja", "hms-rapport", "timer", "skaderegister", "skaderegister-amu", "mine-data", "dokumentasjon",
                   "tilsynspakke", "kompetanse", "oversiktsliste", "referat", "amu-referat", "vernerunde"}


@pytest.fixture(autouse=True)
def photo_and_alert(world_with_records):
    """World with helpers.add_photo_and_alert's records, copied with the database (tests/conftest.py)."""


def caller(as_role, client, who):
    if who == PUBLIC:
        return client
    if who == SIGNED_IN:
        return as_role("worker")
    roles = {"manager"} if who == "org-admin" else set(roles_with(who))  # who: a permission in the map
    return as_role("manager" if "manager" in roles else sorted(roles)[0])


def test_every_download_is_no_store_and_every_image_private(as_role, client, world):
    """Walks every GET route of the access matrix as someone allowed to use it: a new export that
    forgets no-store, or a new image route cached publicly, fails here."""
    downloads_seen, images_seen = [], []
    for endpoint, (method, _path, who) in sorted(ACCESS.items()):
        if method != "GET" or endpoint in ("static", "shell.favicon"):  # the app's own public files
            continue
        response = call(caller(as_role, client, who), endpoint, world)
        if response.status_code != 200 or response.mimetype in NOT_FILES:
            continue
        cache = response.headers.get("Cache-Control", "")
        if response.mimetype.startswith("image/"):
            images_seen.append(endpoint)
            assert cache.startswith("private"), (endpoint, cache)
        else:
            downloads_seen.append(endpoint)
            assert cache == "no-store", (endpoint, cache)
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith("attachment;"), endpoint
            name = re.search(r'filename="?([^";]+)', disposition).group(1)
            assert re.sub(r"-[0-9].*", "", name) in NORWEGIAN_NAMES, (endpoint, name)
    assert {"checkin.attendance_csv", "checkin.attendance_pdf"} <= set(downloads_seen)
    assert {"reports.photo", "reports.thumbnail"} <= set(images_seen)


@pytest.mark.parametrize("extension", ["csv", "pdf"])
def test_attendance_exports_are_not_stored(as_role, world, extension):
    response = as_role("foreman").get(f"/s/{world.site.id}/attendance.{extension}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "private" not in response.headers["Cache-Control"] and "max-age" not in response.headers["Cache-Control"]


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
    first = last = clock.today(world.site)
    text = as_role("manager").get(f"/s/{world.site.id}/attendance.csv?from={first}&to={last}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    visitor = rows[0].index("Besøkende")
    guest = [row for row in rows[1:] if row[visitor]][0]  # the visitor column is filled for the guest only
    # By header (issue 24 put the date of birth and the staffing agency between them).
    typed = [rows[0].index(name) for name in ("Navn", "Arbeidsgiver", "Organisasjonsnummer", "HMS-kortnummer")]
    assert [guest[i] for i in typed] == ["'" + start + "cmd|' /C calc'!A0", "'" + start + 'HYPERLINK("x")',
                                         "'" + start + "1", "'" + start + "2"]
    for row in rows:
        assert not any(cell.startswith(downloads.FORMULA_STARTS) for cell in row), row
