"""The statistics page and its downloads, hours entry and import, an injury's cost, a person's own data."""
import csv
import io
import json
import re
import uuid
import zipfile
from datetime import date, datetime

import pytest

from flask_babel import force_locale

from fieldapp import clock
from fieldapp.models import (AmuMember, AuditEvent, CertificatePhoto, CheckIn, EnteredHours, InjuryDetails, Meeting,
                             MeetingAttendance, MeetingProposal, Report, RoundAnswer, RoundSchedule, RoundSignature,
                             SafetyRound, Site, Sja, SjaParticipant, SjaSignature, TrainingRecord)
from fieldapp.rounds import service as rounds_service
from fieldapp.stats import entry, exports

NOW = datetime(2026, 6, 15, 10)  # UTC


@pytest.fixture
def scene(world, frozen_clock):
    """June 2026 on site A: 8 hours checked in, a lost-time injury with medical notes, an injury with treatment."""
    frozen_clock(NOW)
    site = world.site
    CheckIn.create(uuid=uuid.uuid4(), site=site, user=None, name="Ola", employer_org_number="923609016",
                   checked_in_at=clock.to_utc(datetime(2026, 6, 1, 7), site),
                   checked_out_at=clock.to_utc(datetime(2026, 6, 1, 15), site))
    world.injury = Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=site, reporter=world.people["worker"],
                                 kind="injury", category="falls", severity="high", description="Fell from a ladder",
                                 happened_at=clock.to_utc(datetime(2026, 6, 2, 9), site))
    InjuryDetails.create(report=world.injury, absence_beyond_day=True, absence_days=4, notes="Fractured wrist")
    return world


def month_args(**extra):
    return {"period": "month", "month": "2026-06", **extra}


def test_the_page_shows_the_figures_and_says_too_few_hours(as_role, scene):
    page = as_role("foreman").get(f"/s/{scene.site.id}/stats", query_string=month_args())
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    # 1 lost-time injury in 8 hours, in bokmål: decimal comma, a space between thousands.
    assert '<dd class="h1-value">125\u00a0000,00</dd>' in text
    assert '<dd class="f-value">500\u00a0000,00</dd>' in text
    assert 'class="warning too-few"' in text
    assert "<svg class=\"chart\"" in text and "style=" not in text.split("<svg", 1)[1].split("</svg>")[0]
    assert "Fractured wrist" not in text


def test_the_page_shows_walkarounds_done_versus_due(as_role, scene):
    site, foreman = scene.site, scene.people["foreman"]
    Site.update(created_at=datetime(2025, 1, 1)).where(Site.id == site.id).execute()
    RoundSchedule.create(site=site, interval_days=5)
    version = rounds_service.current_version(rounds_service.builtin_template())
    for started, finished in ((datetime(2026, 6, 10, 8), datetime(2026, 6, 10, 9)),
                              (datetime(2026, 5, 30, 8), datetime(2026, 5, 30, 9)),  # the month before
                              (datetime(2026, 6, 12, 8), None)):  # not finished
        SafetyRound.create(uuid=uuid.uuid4(), site=site, version=version, started_by=foreman, started_at=started,
                           finished_at=finished)
    SafetyRound.create(uuid=uuid.uuid4(), site=scene.other_site, version=version, started_by=scene.outsider,
                       started_at=datetime(2026, 6, 11, 8), finished_at=datetime(2026, 6, 11, 9))
    client = as_role("foreman")
    client.post("/me/language", data={"language": "en"})
    text = client.get(f"/s/{site.id}/stats", query_string=month_args()).get_data(as_text=True)
    # June 1-15 (today): 15 days at one walkaround every 5 days = 3 due; 1 finished on this site.
    assert '<dd class="rounds-done">1 of 3</dd>' in text


@pytest.mark.parametrize("args, status, field, message", [
    ({"period": "range", "start": "2026-06-10", "end": "2026-06-01"}, 422, "end", "The end date is before"),
    ({"period": "year", "year": "2027"}, 422, "year", "has not started yet"),
    ({"period": "quarter", "year": "2026", "quarter": "5"}, 400, "quarter", "Choose a quarter from 1 to 4."),
    ({"period": "month", "month": "juni"}, 400, "month", "Choose a month."),
    ({"scope": "everything"}, 400, "scope", "Choose this site or all your sites."),
])
def test_bad_periods_get_a_clear_4xx_beside_the_field(as_role, scene, args, status, field, message):
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    page = client.get(f"/s/{scene.site.id}/stats", query_string=args)
    assert page.status_code == status
    text = page.get_data(as_text=True)
    beside = text[text.index(f'<p class="error" id="{field}-error" role="alert">'):].split("</p>")[0]
    assert message in beside and 'class="warning" role="alert"' not in text  # beside its field, not also above
    assert f'aria-describedby="{field}-error"' in text or field in ("scope", "period")
    assert client.get(f"/s/{scene.site.id}/stats/report.pdf", query_string=args).status_code == status


def test_another_sites_figures_are_not_shown(as_role, scene):
    # The outsider manages site B only: site A is 404, and "all my sites" holds only B.
    outsider = as_role("outsider")
    assert outsider.get(f"/s/{scene.site.id}/stats").status_code == 404
    page = outsider.get(f"/s/{scene.other_site.id}/stats", query_string=month_args(scope="org")).get_data(as_text=True)
    assert '<dd class="hours-value">0</dd>' in page


def test_the_hms_report_downloads(as_role, scene):
    client = as_role("manager")
    pdf = client.get(f"/s/{scene.site.id}/stats/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    assert "Laget 15.06.2026" in pdf_text(pdf.data)  # how current the figures are, as the reader writes dates
    report_csv = client.get(f"/s/{scene.site.id}/stats/report.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(report_csv.lstrip("\ufeff")), delimiter=";"))
    rolling = rows[1]
    assert rolling[1:6] == ["8", "1", "1", "1", "4"]
    assert [r[0] for r in rows[1:] if ":" not in r[0]][1:] == ["2023", "2024", "2025"]
    xlsx = client.get(f"/s/{scene.site.id}/stats/report.xlsx")
    assert xlsx.status_code == 200
    sheet = zipfile.ZipFile(io.BytesIO(xlsx.data)).read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r'<c r="B2"[^>]*><v>8</v></c>', sheet), sheet[:2000]


def test_the_register_has_no_medical_details_and_follows_the_law(as_role, scene):
    for role in ("manager", "verneombud"):
        body = as_role(role).get(f"/s/{scene.site.id}/injuries.csv", query_string=month_args())
        assert body.status_code == 200
        text = body.get_data(as_text=True)
        assert "Fell from a ladder" in text and "Fractured wrist" not in text
    for role in ("foreman", "worker"):
        assert as_role(role).get(f"/s/{scene.site.id}/injuries.csv").status_code == 403
    pdf = as_role("verneombud").get(f"/s/{scene.site.id}/injuries.pdf", query_string=month_args())
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "01.06.2026 – 15.06.2026" in pdf_text(pdf.data)  # the period to today, not "2026-06-01 – 2026-06-15"


def pdf_text(data):
    import pypdf

    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_amu_members_read_their_organizations_register(as_role, scene):
    worker = as_role("worker")
    assert worker.get("/amu/injuries.csv").status_code == 404  # not (yet) an AMU member
    AmuMember.create(organization=scene.org, user=scene.people["worker"], side="workers")
    body = worker.get("/amu/injuries.csv", query_string=month_args())
    assert body.status_code == 200
    text = body.get_data(as_text=True)
    assert "Fell from a ladder" in text and "Fractured wrist" not in text
    pdf = worker.get("/amu/injuries.pdf", query_string=month_args())
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert worker.get("/amu/injuries.csv", query_string={"period": "month", "month": "juni"}).status_code == 400
    assert "/amu/injuries.pdf" in worker.get("/amu").get_data(as_text=True)
    assert worker.get(f"/s/{scene.site.id}/injuries.csv").status_code == 403  # the site's register: its roles


def test_the_hours_export_streams_with_the_readers_decimal_mark(as_role, scene, app):
    # "8.0" in a semicolon-separated file is text (or a date) to Norwegian Excel: a bokmål reader gets "8,0".
    client = as_role("manager")
    for language, hours in (("nb", "8,0"), ("en", "8.0")):
        client.post("/me/language", data={"language": language})
        response = client.get(f"/s/{scene.site.id}/stats/hours.csv", query_string=month_args())
        assert response.is_streamed
        lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
        assert lines[1].split(";")[:2] == ["Site A", "2026-06-01"]
        assert lines[1].split(";")[3:] == ["", "923609016", "2026-06-01 07:00", "2026-06-01 15:00", hours]


# --- entered hours ------------------------------------------------------------------------------------------

def test_entered_hours_by_form_replace_check_ins_and_the_page_says_so(as_role, scene):
    client = as_role("manager")
    saved = client.post(f"/s/{scene.site.id}/hours", data={"site": scene.site.id, "org_number": "923609016",
                                                          "month": "2026-05", "hours": "1 500,5", "people": "10"})
    assert saved.status_code == 303
    assert EnteredHours.get().hours == 1500.5
    assert AuditEvent.select().where(AuditEvent.action == "hours.enter").count() == 1
    client.post(f"/s/{scene.site.id}/hours", data={"site": scene.site.id, "org_number": "923609016",
                                                   "month": "2026-06", "hours": "100"})
    # June has not ended: refused, nothing saved.
    assert EnteredHours.select().count() == 1
    # The list of entered hours names the employer, not only its number.
    page = client.get(f"/s/{scene.site.id}/hours").get_data(as_text=True)
    entered = page[page.index('<ul class="rows">'):].split("</ul>")[0]
    assert "Fjordbygg AS (923609016)" in entered, entered


def test_an_entered_month_can_be_removed_and_the_check_in_hours_count_again(as_role, scene):
    """An employer who entered a month by mistake had no way back: the row replaced the check-ins for good."""
    client = as_role("manager")
    may = month_args(month="2026-05")

    def hours_shown():
        page = client.get(f"/s/{scene.site.id}/stats", query_string=may).get_data(as_text=True)
        return re.search(r'<dd class="hours-value">([^<]*)</dd>', page).group(1)

    checked_in = hours_shown()
    assert client.post(f"/s/{scene.site.id}/hours", data={"site": scene.site.id, "org_number": "923609016",
                                                          "month": "2026-05", "hours": "500"}).status_code == 303
    row = EnteredHours.get()
    assert hours_shown() != checked_in
    assert as_role("worker").post(f"/s/{scene.site.id}/hours/{row.id}/remove").status_code == 403
    assert as_role("outsider").post(f"/s/{scene.site.id}/hours/{row.id}/remove").status_code == 404
    removed = client.post(f"/s/{scene.site.id}/hours/{row.id}/remove")
    assert removed.status_code == 303 and EnteredHours.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "hours.remove").count() == 1
    assert client.post(f"/s/{scene.site.id}/hours/{row.id}/remove").status_code == 404  # gone: nothing twice
    assert hours_shown() == checked_in


@pytest.mark.parametrize("field, value, reason_text", [
    ("hours", "-5", "from 0 up"),
    ("hours", "800", "Over 744 hours"),
    ("people", "", "Over 744 hours"),  # then the site's four people of that employer: 3,000 > 4 x 744
    ("month", "2026-06", "has not ended"),
    ("month", "2026-13", "YYYY-MM"),
    ("month", "２０２６-０５", "YYYY-MM"),  # fullwidth digits: int() alone read them
    ("org_number", "123456789", "organisation number"),
    ("site", "999999", "No site"),
])
def test_bad_entered_hours_are_refused(as_role, scene, field, value, reason_text):
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    data = {"site": scene.site.id, "org_number": "923609016", "month": "2026-05", "hours": "100", "people": "1",
            field: value}
    if field == "people":
        data["hours"] = "3000"
    response = client.post(f"/s/{scene.site.id}/hours", data=data)
    assert response.status_code == 422
    assert reason_text in response.get_data(as_text=True)
    assert EnteredHours.select().count() == 0


def test_every_problem_of_the_hours_form_is_told_beside_its_field_at_once(as_role, scene):
    """Found by a new user: the form told one problem, then the next once that was mended, as plain text."""
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    response = client.post(f"/s/{scene.site.id}/hours", data={
        "site": scene.site.id, "org_number": "12", "month": "May", "hours": "-1", "people": "none"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("org_number", "month", "hours", "people"):
        assert f'<p class="error" id="{field}-error" role="alert">' in page, field
    assert EnteredHours.select().count() == 0


def upload(client, site, data, commit=False):
    form = {"file": (io.BytesIO(data), "hours.csv")}
    return client.post(f"/s/{site.id}/hours/import", data=form, content_type="multipart/form-data")


@pytest.mark.parametrize("encoding, delimiter", [("utf-8", ";"), ("utf-8-sig", ","), ("cp1252", ";"),
                                                 ("latin-1", ",")])
def test_a_csv_import_is_a_dry_run_first_in_any_usual_encoding(as_role, scene, encoding, delimiter):
    scene.site.name = "Bjørvika Øst"
    scene.site.save()
    client = as_role("manager")
    d = delimiter
    text = f"site{d}employer{d}month{d}hours\nbjørvika øst{d}923609016{d}2026-04{d}1200\n" \
           f"Bjørvika Øst{d}987654325{d}2026-05{d}{'640,5' if d == ';' else '640.5'}\n"
    preview = upload(client, scene.site, text.encode(encoding))
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert "2 lines are ready to save" in preview.get_data(as_text=True) or "2 linjer" in preview.get_data(as_text=True)
    assert "<td>Nordlys Elektro AS (987654325)</td>" in preview.get_data(as_text=True)  # the employer by name
    assert EnteredHours.select().count() == 0  # a dry run saves nothing
    confirm = client.post(f"/s/{scene.site.id}/hours/import", data={"commit": "1", "text": text})
    assert confirm.status_code == 303
    assert sorted((r.employer_org_number, r.hours) for r in EnteredHours.select()) == [
        ("923609016", 1200.0), ("987654325", 640.5)]


def test_a_csv_with_bad_lines_names_each_and_saves_nothing(as_role, scene):
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    text = ("Site A;923609016;2026-04;100\n"
            "Site A;923609016;2026-06;100\n"  # June has not ended
            "Nowhere;923609016;2026-04;100\n"
            "Site A;923609016;2026-03;-1\n"
            "Site A;923609016;2026-03\n"
            "Site A;923609016;2026-04;50\n")  # twice
    response = client.post(f"/s/{scene.site.id}/hours/import", data={"commit": "1", "text": text})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for line in (2, 3, 4, 5, 6):
        assert f"Line {line}:" in body
    assert "Line 1:" not in body
    assert EnteredHours.select().count() == 0


def test_a_file_that_is_not_text_is_refused(as_role, scene):
    response = upload(as_role("manager"), scene.site, "site;org;month;hours\n".encode("utf-16"))
    assert response.status_code == 422
    assert EnteredHours.select().count() == 0


# --- an injury's cost, and a person's own data ----------------------------------------------------------------

def test_a_manager_records_what_the_injury_cost(as_role, scene):
    client = as_role("manager")
    url = f"/s/{scene.site.id}/reports/{scene.injury.id}/injury"
    recorded = client.post(url, data={"returned_on": "2026-06-09", "alternative_work": "y", "absence_hours": "30"})
    assert recorded.status_code == 303
    details = InjuryDetails.get(InjuryDetails.report == scene.injury)
    assert (details.returned_on, details.absence_days, details.alternative_work, details.absence_hours) == (
        date(2026, 6, 9), 6, True, 30.0)  # back on the 9th: the 3rd to the 8th away
    assert client.post(url, data={"returned_on": "2026-05-01"}).status_code == 422  # before the injury
    # A day after today was told "on or after the day of the injury": the range it must be in is told instead.
    future = client.post(url, data={"returned_on": "9999-12-31"}).get_data(as_text=True)
    assert "Oppgi en dato fra 02.06.2026 til 15.06.2026." in future
    assert client.post(url, data={"absence_hours": "-2"}).status_code == 422
    assert InjuryDetails.get(InjuryDetails.report == scene.injury).absence_days == 6
    page = client.get(f"/s/{scene.site.id}/reports/{scene.injury.id}").get_data(as_text=True)
    assert 'class="injury-cost"' in page
    assert 'class="injury-cost"' not in as_role("verneombud").get(
        f"/s/{scene.site.id}/reports/{scene.injury.id}").get_data(as_text=True)


def test_a_person_downloads_their_own_data(as_role, scene):
    client = as_role("worker")
    assert "/me/data.json" in client.get("/me").get_data(as_text=True)
    data = json.loads(client.get("/me/data.json").get_data(as_text=True))
    assert data["account"]["name"] == "Worker Person"
    reports = {r["description"]: r for r in data["reports"]}
    assert set(reports) == {"Open edge on the 3rd floor", "Fell from a ladder"}
    assert reports["Fell from a ladder"]["injury"]["notes"] == "Fractured wrist"  # their own: in full
    assert data["roles"] == [{"site": "Site A", "role": "worker", "since": data["roles"][0]["since"]}]


def test_own_data_holds_walkarounds_sjas_training_and_meetings_without_photo_bytes(as_role, scene):
    worker, foreman = scene.people["worker"], scene.people["foreman"]
    version = rounds_service.current_version(rounds_service.builtin_template())
    walk = SafetyRound.create(uuid=uuid.uuid4(), site=scene.site, version=version, started_by=foreman,
                              started_at=NOW)
    RoundAnswer.create(uuid=uuid.uuid4(), round=walk, item_key="edges", answer="deviation", note="No railing",
                       answered_by=worker, answered_at=NOW)
    RoundAnswer.create(uuid=uuid.uuid4(), round=walk, item_key="fire", answer="ok", answered_by=foreman,
                       answered_at=NOW)  # someone else's
    RoundSignature.create(uuid=uuid.uuid4(), round=walk, side="workers", signer=worker, device_user=worker,
                          signed_at=NOW)
    sja = Sja.create(uuid=uuid.uuid4(), payload_hash="0" * 64, organization=scene.org, site=scene.site,
                     title="Lift trusses", created_by=foreman)
    SjaParticipant.create(sja=sja, user=worker)
    SjaSignature.create(uuid=uuid.uuid4(), sja=sja, user=worker, revision=1, method="pin", language="pl",
                        device_user=foreman, signed_at=NOW)
    record = TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=worker, course="truck",
                                   taken_on=date(2025, 1, 5), expires_on=date(2030, 1, 4), status="approved")
    CertificatePhoto.create(record=record, side="front", digest="ab" * 32, width=800, height=600)
    MeetingProposal.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=scene.site, proposer=worker,
                           text="More light in the stairs", created_at=NOW)
    meeting = Meeting.create(organization=scene.org, site=scene.site, kind="hms", held_on=date(2026, 6, 10),
                             topics=[])
    MeetingAttendance.create(meeting=meeting, user=worker, name=worker.name, side="workers")
    data = json.loads(as_role("worker").get("/me/data.json").get_data(as_text=True))
    assert [(a["item"], a["answer"], a["note"]) for a in data["walkaround_answers"]] == [
        ("edges", "deviation", "No railing")]
    assert [(s["round"], s["side"]) for s in data["walkaround_signatures"]] == [(str(walk.uuid), "workers")]
    assert [p["sja"] for p in data["sja_participation"]] == ["Lift trusses"]
    assert [(s["sja"], s["method"], s["language"]) for s in data["sja_signatures"]] == [("Lift trusses", "pin", "pl")]
    [training] = data["training_records"]
    assert (training["course"], training["expires_on"]) == ("truck", "2030-01-04")
    assert training["photos"] == [{"side": "front", "width": 800, "height": 600, "digest": "ab" * 32}]
    assert [p["text"] for p in data["meeting_proposals"]] == ["More light in the stairs"]
    assert [(a["meeting"], a["held_on"], a["side"]) for a in data["meeting_attendance"]] == [
        ("hms", "2026-06-10", "workers")]
    foreman_data = json.loads(as_role("foreman").get("/me/data.json").get_data(as_text=True))
    assert foreman_data["training_records"] == [] and foreman_data["sja_signatures"] == []


def test_the_hours_export_reads_in_batches_without_losing_or_repeating_a_row(as_role, scene, monkeypatch):
    from fieldapp.stats import service

    monkeypatch.setattr(service, "HOURS_BATCH", 2)
    for n in range(5):  # two of them begin at the same moment: the keyset's id breaks the tie
        begin = clock.to_utc(datetime(2026, 6, 3 + n // 2, 7), scene.site)
        CheckIn.create(uuid=uuid.uuid4(), site=scene.site, user=None, name=f"P{n}", employer_org_number="923609016",
                       checked_in_at=begin, checked_out_at=begin.replace(hour=begin.hour + 1))
    response = as_role("manager").get(f"/s/{scene.site.id}/stats/hours.csv", query_string=month_args())
    body = response.get_data(as_text=True)
    names = [line.split(";")[2] for line in body.lstrip("\ufeff").splitlines()[1:]]
    assert names == ["Ola", "P0", "P1", "P2", "P3", "P4"]


# --- a new user's findings (issue 20) -------------------------------------------------------------------------

def test_a_four_column_import_of_realistic_hours_is_not_refused(as_role, scene):
    """41,250 hours without a people column: the employer's people on the site are counted; where none are
    known the per-person check is not applied and the dry run says so."""
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    text = ("site;employer org number;month;hours\n"
            f"{scene.site.name};987654325;2026-04;41250\n")  # no members, no check-ins of this employer
    preview = client.post(f"/s/{scene.site.id}/hours/import", data={"text": text})
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200, body
    assert "Over 744" not in body
    assert "Line 2: no people of that employer are known" in body
    assert EnteredHours.select().count() == 0
    saved = client.post(f"/s/{scene.site.id}/hours/import", data={"commit": "1", "text": text})
    assert saved.status_code == 303
    assert EnteredHours.get().hours == 41250.0


def test_people_who_checked_in_that_month_count_for_the_per_person_check(as_role, scene):
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    site = scene.site
    for name in ("Per", "Pål"):  # two people of 987654325 checked in during April
        CheckIn.create(uuid=uuid.uuid4(), site=site, user=None, name=name, employer_org_number="987654325",
                       checked_in_at=clock.to_utc(datetime(2026, 4, 3, 7), site),
                       checked_out_at=clock.to_utc(datetime(2026, 4, 3, 15), site))
    ok = client.post(f"/s/{site.id}/hours/import", data={"text": f"{site.name};987654325;2026-04;1400\n"})
    assert ok.status_code == 200
    assert "no people of that employer" not in ok.get_data(as_text=True)
    too_many = client.post(f"/s/{site.id}/hours/import", data={"text": f"{site.name};987654325;2026-04;1500\n"})
    assert too_many.status_code == 422
    assert "Line 1: Over 744 hours" in too_many.get_data(as_text=True)
    # May: nobody of that employer checked in, so May's 1,500 hours cannot be checked and are not refused.
    may = client.post(f"/s/{site.id}/hours/import", data={"text": f"{site.name};987654325;2026-05;1500\n"})
    assert may.status_code == 200


@pytest.mark.parametrize("language, h1, share, month, short", [
    ("nb", "125\u00a0000,00", "100\u00a0%", "juni 2026", "jun"), ("en", "125,000.00", "100%", "June 2026", "Jun"),
    ("uk", "125\u00a0000,00", "100\u00a0%", "червень 2026\u202fр.", "черв."),
    ("lt", "125\u00a0000,00", "100\u00a0%", "2026 m. birželis", "birž.")])
def test_the_page_writes_numbers_in_the_readers_language(as_role, scene, language, h1, share, month, short):
    client = as_role("foreman")
    client.post("/me/language", data={"language": language})
    text = client.get(f"/s/{scene.site.id}/stats", query_string=month_args()).get_data(as_text=True)
    assert f'<dd class="h1-value">{h1}</dd>' in text
    months = text[text.index('<table class="stats-months">'):].split("</table>")[0]
    assert f"<tr><td>{month}</td>" in months and "2026-06" not in months  # a month as the reader names it
    # The charts' bars: the month's short name (not "06"), the year under the first bar.
    chart = text[text.index('<div class="chart-box">'):].split("</svg>")[0]
    labels = re.findall(r'font-size="7.5"[^>]*>([^<]*)</text>', chart)
    assert labels[:2] == [short, "2026"] and "06" not in labels, labels
    assert "125000.00" not in text
    # "4k" as a word: the page's random CSRF token and nonce may hold those two characters.
    assert not re.search(r"(?<![\w-])4k(?![\w-])", text)


def test_the_pdf_figures_use_the_readers_decimal_sign(scene, app):
    with app.test_request_context():
        with force_locale("nb"):
            assert exports._text(203.05) == "203,05"
            assert exports._whole(41250) == "41\u00a0250"
        with force_locale("en"):
            assert exports._text(203.05) == "203.05"


def test_the_register_csv_shows_words_not_codes(as_role, scene):
    client = as_role("manager")
    client.post("/me/language", data={"language": "nb"})
    text = client.get(f"/s/{scene.site.id}/injuries.csv", query_string=month_args()).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";" if ";" in text.splitlines()[0] else ","))
    row = rows[1]
    assert "Høy" in row and "Åpen" in row
    assert "high" not in row and "open" not in row


def test_a_not_serious_injury_does_not_ask_to_notify_arbeidstilsynet(as_role, scene):
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    page = client.get(f"/s/{scene.site.id}/reports/{scene.injury.id}").get_data(as_text=True)
    assert "only of a serious injury or death" in page and '<details class="notify-anyway">' in page
    InjuryDetails.update(serious=True).where(InjuryDetails.report == scene.injury).execute()
    page = client.get(f"/s/{scene.site.id}/reports/{scene.injury.id}").get_data(as_text=True)
    assert "only of a serious injury or death" not in page and "notify-anyway" not in page
    assert "Record when Arbeidstilsynet was notified" in page and "Record when the police were notified" in page


def test_the_scrolling_tables_can_be_reached_by_keyboard(as_role, scene):
    text = as_role("manager").get(f"/s/{scene.site.id}/stats", query_string=month_args()).get_data(as_text=True)
    wraps = re.findall(r'<div class="table-wrap"[^>]*>', text)
    assert len(wraps) >= 3
    assert all('tabindex="0"' in w and 'aria-label="' in w for w in wraps)


@pytest.mark.parametrize("hours,words", [
    ("7440001", "More hours than one employer can work on a site in a month"),
    # What float() read but nobody types as hours: an exponent, Python's digit groups, other scripts' digits.
    ("1e308", "Give the hours as a number from 0 up."), ("1e26", "Give the hours as a number from 0 up."),
    ("1_000", "Give the hours as a number from 0 up."), ("\u0661\u0662", "Give the hours as a number from 0 up."),
    ("nan", "Give the hours as a number from 0 up."), ("-5", "Give the hours as a number from 0 up."),
])
def test_hours_no_site_can_work_are_refused_even_when_nobody_is_known(as_role, scene, hours, words):
    # 912345688: a valid organisation number nobody on the site works for, so the 744 h/person check has no count.
    # 1e308 was saved, and every statistics page and export then answered 500 (infinity); 1e26 broke the hours page.
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    refused = client.post(f"/s/{scene.site.id}/hours", data={"site": scene.site.id, "org_number": "912345688",
                                                             "month": "2026-05", "hours": hours})
    assert refused.status_code == 422
    assert words in refused.get_data(as_text=True)
    preview = upload(client, scene.site, f"{scene.site.id};912345688;2026-04;{hours}\n".encode())
    assert preview.status_code == 422 and words in preview.get_data(as_text=True)
    assert EnteredHours.select().count() == 0
    assert client.get(f"/s/{scene.site.id}/hours").status_code == 200
    assert client.get(f"/s/{scene.site.id}/stats").status_code == 200


def test_a_csv_with_old_mac_line_ends_is_read_and_a_broken_one_is_a_clear_422(as_role, scene):
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    mac = upload(client, scene.site, f"{scene.site.id};923609016;2026-03;50\r{scene.site.id};923609016;2026-02;50\r"
                 .encode())
    assert mac.status_code == 200 and "2 lines are ready to save" in mac.get_data(as_text=True)
    # A field longer than csv's limit (128 KB) and a binary file (a zip) raised _csv.Error: a 500.
    too_long = upload(client, scene.site, b'1;"' + b"x" * 200_000 + b'";2026-03;50\n')
    assert too_long.status_code == 422 and "could not be read as text" in too_long.get_data(as_text=True)
    binary = upload(client, scene.site, b"PK\x03\x04" + bytes(range(1, 256)) * 40)
    assert binary.status_code == 422 and "Nothing was saved" in binary.get_data(as_text=True)
    assert EnteredHours.select().count() == 0


def test_a_large_import_is_saved_after_its_dry_run_and_a_too_large_file_is_told_so(as_role, scene):
    # The dry run of a 600 KB file passed, and saving it answered 413 "take a smaller photo": the text sent back
    # was over Flask's 500 KB limit for a form field. A 1.5 MB file was "could not be read as text".
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    months = [f"{year}-{month:02d}" for year in range(2001, 2026) for month in range(1, 13)][:300]
    text = "".join(f"{scene.site.id};923609016;{month};50{' ' * 2000}\n" for month in months)
    assert 600_000 < len(text) < entry.MAX_BYTES
    dry = upload(client, scene.site, text.encode())
    assert dry.status_code == 200 and "300 lines are ready to save" in dry.get_data(as_text=True)
    saved = client.post(f"/s/{scene.site.id}/hours/import", data={"commit": "1", "text": text})
    assert saved.status_code == 303, saved.status_code
    assert EnteredHours.select().count() == 300
    too_large = upload(client, scene.site, text.encode() * 3)
    assert too_large.status_code == 413
    assert "The document is too large. Use a file of at most 1 MB." in too_large.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["1,500", "1.500", "12,345"])
def test_hours_with_one_thousands_separator_are_refused_not_guessed(as_role, scene, typed):
    # "1,500" was saved as 1.5 hours for an English reader, who meant fifteen hundred.
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    refused = client.post(f"/s/{scene.site.id}/hours", data={"site": scene.site.id, "org_number": "923609016",
                                                             "month": "2026-05", "hours": typed, "people": "10"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="hours-error"' in page
    assert "Write the hours without a thousands separator, for example 1500 or 1500.5." in page
    assert EnteredHours.select().count() == 0
    for fine, hours in (("1 500", 1500.0), ("1500,5", 1500.5), ("1.5", 1.5)):
        client.post(f"/s/{scene.site.id}/hours", data={"site": scene.site.id, "org_number": "923609016",
                                                       "month": "2026-05", "hours": fine, "people": "10"})
        assert EnteredHours.get().hours == hours


def test_a_byte_cp1252_leaves_undefined_is_no_control_character():
    """latin-1 read 0x81 as U+0081, a C1 control: the dry run's text sent back to be saved was then refused."""
    text = entry.decode("Bjørvika\x81;923609016;2026-04;10\n".encode("latin-1"))
    assert text.startswith("Bjørvika\ufffd;") and not any("\x80" <= c <= "\x9f" for c in text)
