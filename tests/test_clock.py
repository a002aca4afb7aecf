"""One clock in the site's time zone: summer time starting and ending, and the hour after midnight in Oslo.

Every test here freezes fieldapp.clock, so none depends on the hour of the day it runs at.
In 2026 summer time in Oslo starts on 29 March (02:00 -> 03:00) and ends on 25 October (03:00 -> 02:00).
"""
import csv
import io
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from flask import render_template_string
from flask_babel import get_locale

from fieldapp import clock, phone_time
from fieldapp.checkin import service as checkin
from fieldapp.models import CheckIn, Report, Site

SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)


def utc(*args):
    return datetime(*args)  # naive UTC, as stored


def check_in(client, site):
    return client.post(f"/s/{site.id}/checkin", data={"uuid": str(uuid.uuid4()), "all_worn": "y"})


def make_overdue_candidate(world, deadline):
    Report.update(deadline=deadline, status="in_progress").where(Report.id == world.report.id).execute()


def overdue_rows(client, site):
    page = client.get(f"/s/{site.id}/reports").get_data(as_text=True)
    listed = client.get(f"/s/{site.id}/reports?status=overdue").get_data(as_text=True)
    return page.count("report-row overdue"), listed.count('class="report-row')


# --- the module itself -------------------------------------------------------------------------------------

@pytest.mark.parametrize("moment, day", [
    (utc(2026, 3, 28, 22, 59), date(2026, 3, 28)),  # 23:59 winter time
    (utc(2026, 3, 28, 23, 0), SPRING),  # 00:00 winter time
    (utc(2026, 3, 29, 21, 59), SPRING),  # 23:59 summer time
    (utc(2026, 3, 29, 22, 0), date(2026, 3, 30)),  # 00:00 summer time
    (utc(2026, 10, 24, 21, 59), date(2026, 10, 24)),  # 23:59 summer time
    (utc(2026, 10, 24, 22, 0), AUTUMN),  # 00:00 summer time
    (utc(2026, 10, 25, 22, 59), AUTUMN),  # 23:59 winter time
    (utc(2026, 10, 25, 23, 0), date(2026, 10, 26)),  # 00:00 winter time
    (utc(2026, 11, 30, 23, 30), date(2026, 12, 1)),  # 00:30 in Oslo: the server's UTC day is still the 30th
])
def test_today_is_the_sites_day_on_both_sides_of_midnight_and_the_changes(app, frozen_clock, moment, day):
    frozen_clock(moment)
    with app.app_context():
        assert clock.today() == day
        assert clock.now().date() == day and clock.now().tzinfo.key == "Europe/Oslo"


def test_the_days_summer_time_starts_and_ends_are_23_and_25_hours(app):
    with app.app_context():
        start, end = clock.day_bounds(SPRING, SPRING)
        assert (start, end) == (utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0))
        start, end = clock.day_bounds(AUTUMN, AUTUMN)
        assert (start, end) == (utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0))
        # Wall times around the changes: 03:00 summer time is 01:00 UTC; the first 02:30 in October is summer time.
        assert clock.at(SPRING, time(3, 0)) == utc(2026, 3, 29, 1, 0)
        assert clock.at(AUTUMN, time(2, 30)) == utc(2026, 10, 25, 0, 30)


def test_the_zone_comes_from_the_site_then_the_setting(app, world):
    world.site.time_zone = "America/New_York"
    world.site.save()
    site = Site.get_by_id(world.site.id)
    with app.app_context():
        assert clock.zone_name(site) == "America/New_York"
        assert clock.zone_name(world.other_site) == "Europe/Oslo"
        app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Helsinki"
        assert clock.zone_name(world.other_site) == "Europe/Helsinki"
        assert clock.local(utc(2026, 1, 5, 12, 0), site).hour == 7


def test_frozen_clock_stops_stored_defaults_too(db, world, frozen_clock):
    frozen_clock(datetime(2026, 3, 29, 3, 15, tzinfo=clock.zone()))
    row = CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=None, checked_in_at=clock.utcnow(), name="x")
    assert row.received_at == utc(2026, 3, 29, 1, 15) == clock.utcnow()


# --- formats in the reader's language ---------------------------------------------------------------------

@pytest.mark.parametrize("language, expected", [
    ("nb", "05.03.2026 | 14:05 | 05.03.2026, 14:05 | 5. mars 2026"),
    ("en", "05/03/2026 | 14:05 | 05/03/2026, 14:05 | 5 Mar 2026"),  # day first on Norwegian sites (en_GB)
])
def test_template_filters_format_in_the_readers_language_and_the_sites_zone(app, language, expected):
    moment = utc(2026, 3, 5, 13, 5)  # 14:05 in Oslo
    with app.test_request_context(headers={"Accept-Language": language}):
        text = render_template_string('{{ m|date }} | {{ m|time }} | {{ m|datetime }} | {{ m|date("medium") }}',
                                      m=moment)
    assert text == expected


def test_a_plain_date_is_not_shifted_by_the_zone(app):
    with app.test_request_context(headers={"Accept-Language": "nb"}):
        assert render_template_string("{{ d|date }}", d=date(2026, 10, 25)) == "25.10.2026"
        assert render_template_string("{{ d|date }}|{{ d|time }}", d=None) == "|"


# --- check-ins across the changes -------------------------------------------------------------------------

def test_a_check_in_across_the_start_of_summer_time_counts_real_hours(app, as_role, world, frozen_clock):
    site = world.site
    frozen_clock(utc(2026, 3, 29, 0, 30))  # 01:30 winter time
    assert check_in(as_role("worker"), site).status_code in (200, 201, 303)
    frozen_clock(utc(2026, 3, 29, 1, 30))  # 03:30 summer time, one hour later
    row = CheckIn.get()
    CheckIn.update(checked_out_at=clock.utcnow()).where(CheckIn.id == row.id).execute()
    assert checkin.hours_on_site(site, SPRING, SPRING) == {
        (row.user_id, row.name, row.employer_name): pytest.approx(1.0)}
    page = as_role("foreman").get(f"/s/{site.id}/attendance").get_data(as_text=True)
    assert "Worker Person" in page and "29.03.2026" in page
    assert "01:30" in page and "03:30" in page
    text = as_role("foreman").get(f"/s/{site.id}/attendance.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    mine = dict(zip(rows[0], [r for r in rows if r[0] == "Worker Person"][0]))  # columns by their heading
    assert [mine["Dato"], mine["Inn"], mine["Ut"]] == ["2026-03-29", "01:30", "03:30"]


def test_a_check_in_across_the_end_of_summer_time_counts_real_hours(app, as_role, world, frozen_clock):
    site = world.site
    frozen_clock(utc(2026, 10, 24, 23, 30))  # 01:30 summer time on the 25th
    assert check_in(as_role("worker"), site).status_code in (200, 201, 303)
    frozen_clock(utc(2026, 10, 25, 1, 30))  # 02:30 winter time: two hours later, though the wall clock says one
    row = CheckIn.get()
    CheckIn.update(checked_out_at=clock.utcnow()).where(CheckIn.id == row.id).execute()
    assert checkin.hours_on_site(site, AUTUMN, AUTUMN)[(row.user_id, row.name, row.employer_name)] \
        == pytest.approx(2.0)
    page = as_role("foreman").get(f"/s/{site.id}/attendance").get_data(as_text=True)
    assert "Worker Person" in page and "25.10.2026" in page and "01:30" in page and "02:30" in page


@pytest.mark.parametrize("day, closes_at", [(SPRING, utc(2026, 3, 29, 16, 0)), (AUTUMN, utc(2026, 10, 25, 17, 0))])
def test_open_check_ins_close_at_18_local_on_the_change_days(app, world, frozen_clock, day, closes_at):
    row = CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["worker"],
                         checked_in_at=clock.at(day, time(7, 0)), name="Worker Person")
    with app.app_context():
        assert checkin.close_open_check_ins(now=closes_at - timedelta(seconds=1)) == 0
        assert checkin.close_open_check_ins(now=closes_at) == 1
    assert CheckIn.get_by_id(row.id).checked_out_at == closes_at


# --- the hour after midnight in Oslo ----------------------------------------------------------------------

def test_after_midnight_in_oslo_the_attendance_page_lists_the_oslo_day(app, as_role, world, frozen_clock):
    site = world.site
    frozen_clock(utc(2026, 11, 30, 23, 30))  # 00:30 on 1 December in Oslo; the server's day is 30 November
    assert check_in(as_role("worker"), site).status_code in (200, 201, 303)
    page = as_role("foreman").get(f"/s/{site.id}/attendance").get_data(as_text=True)
    assert 'value="2026-12-01"' in page
    assert "Worker Person" in page and "01.12.2026" in page and "00:30" in page
    on_site = as_role("foreman").get(f"/s/{site.id}/on-site").get_data(as_text=True)
    assert "Worker Person" in on_site and "00:30" in on_site


@pytest.mark.parametrize("deadline, overdue", [(date(2026, 12, 1), (0, 0)), (date(2026, 11, 30), (1, 1))])
def test_after_midnight_in_oslo_a_deadline_of_today_is_not_overdue(as_role, world, frozen_clock, deadline, overdue):
    frozen_clock(utc(2026, 11, 30, 23, 30))  # 00:30 on 1 December in Oslo
    make_overdue_candidate(world, deadline)
    assert overdue_rows(as_role("foreman"), world.site) == overdue


@pytest.mark.parametrize("deadline, moment, overdue", [
    (SPRING, utc(2026, 3, 28, 23, 0), (0, 0)),  # 00:00 winter time on the deadline
    (SPRING, utc(2026, 3, 29, 21, 59), (0, 0)),  # 23:59 summer time on the deadline
    (SPRING, utc(2026, 3, 29, 22, 0), (1, 1)),  # 00:00 the day after
    (AUTUMN, utc(2026, 10, 25, 22, 59), (0, 0)),  # 23:59 winter time on the deadline
    (AUTUMN, utc(2026, 10, 25, 23, 0), (1, 1)),  # 00:00 the day after
])
def test_a_deadline_on_a_change_day_is_overdue_from_local_midnight(as_role, world, frozen_clock, deadline, moment,
                                                                   overdue):
    frozen_clock(moment)
    make_overdue_candidate(world, deadline)
    assert overdue_rows(as_role("foreman"), world.site) == overdue


def test_the_home_screen_counts_overdue_on_the_oslo_day(as_role, world, frozen_clock):
    frozen_clock(utc(2026, 11, 30, 23, 30))  # 00:30 on 1 December in Oslo
    foreman = as_role("foreman")
    make_overdue_candidate(world, date(2026, 12, 1))
    assert "på overtid" not in foreman.get("/").get_data(as_text=True)
    make_overdue_candidate(world, date(2026, 11, 30))
    assert "1 på overtid" in foreman.get("/").get_data(as_text=True)


def test_a_notification_time_typed_without_a_zone_is_the_sites_wall_clock(as_role, world, frozen_clock):
    from fieldapp.models import InjuryDetails

    frozen_clock(utc(2026, 10, 25, 12, 0))
    Report.update(kind="injury", happened_at=utc(2026, 10, 24, 15, 0)).where(Report.id == world.report.id).execute()
    InjuryDetails.create(report=world.report)
    path = f"/s/{world.site.id}/reports/{world.report.id}/notified"
    assert as_role("manager").post(path, data={"authority": "police", "at": "2026-10-25T02:30"}).status_code == 303
    assert InjuryDetails.get(InjuryDetails.report == world.report).police_notified_at == utc(2026, 10, 25, 0, 30)


def test_a_phone_time_without_a_zone_is_the_sites_wall_clock(app):
    with app.app_context():
        assert phone_time.parse_claim("2026-03-29T03:30") == utc(2026, 3, 29, 1, 30)
        assert phone_time.parse_claim("2026-01-05T08:00") == utc(2026, 1, 5, 7, 0)
        assert phone_time.local_hhmm(utc(2026, 10, 25, 1, 30)) == "02:30"


def test_english_dates_are_day_first_while_the_language_stays_english(app):
    """Workers on Norwegian sites who read English expect 30/11/2026, not 11/30/26: English is formatted as
    en_GB, but the language code everything else reads (translations, <html lang>, content names) stays "en"."""
    day = date(2026, 11, 30)
    with app.test_request_context(headers={"Accept-Language": "en-US,en;q=0.9"}):
        assert str(get_locale()) == "en"
        assert render_template_string("{{ d|date }} | {{ d|date('medium') }} | {{ current_lang() }}", d=day) \
            == "30/11/2026 | 30 Nov 2026 | en"
        assert clock.format_time(utc(2026, 11, 30, 13, 5)) == "14:05"
    with app.test_request_context(headers={"Accept-Language": "pl"}):
        assert render_template_string("{{ d|date }}", d=day) == "30.11.2026"  # other languages: their own
