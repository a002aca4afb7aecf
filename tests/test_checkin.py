"""Check-in with protective equipment, the poster, check-out, and what the foreman sees."""
import json
import re
import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest

from fieldapp import clock, phone_time
from fieldapp.checkin import equipment, service
from fieldapp.models import AuditEvent, CheckIn, Equipment, FollowUp, Organization, Site, SiteEquipment, User, utcnow


@pytest.fixture
def site(world):
    """Site A requires a helmet and safety shoes."""
    for key in ("helmet", "safety_shoes"):
        SiteEquipment.create(site=world.site, equipment=Equipment.get(Equipment.key == key))
    return world.site


def post_check_in(client, site, **fields):
    data = {"uuid": str(uuid.uuid4()), "all_worn": "y"}
    data.update(fields)
    return client.post(f"/s/{site.id}/checkin", data=data)


def test_poster_sends_a_signed_out_person_to_sign_in_and_back(client, site):
    response = client.get(f"/p/{site.qr_token}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next=/p/{site.qr_token}"


def test_poster_takes_a_member_to_the_check_in_page(as_role, site):
    response = as_role("worker").get(f"/p/{site.qr_token}")
    assert response.status_code == 302 and response.headers["Location"] == f"/s/{site.id}/checkin"
    page = as_role("worker").get(f"/s/{site.id}/checkin").get_data(as_text=True)
    assert "Hjelm" in page and "Vernesko" in page and "Jeg har på meg alt" in page


def test_renewed_poster_stops_the_old_one(as_role, site):
    old = site.qr_token
    assert as_role("manager").post(f"/s/{site.id}/poster/renew").status_code == 303
    response = as_role("worker").get(f"/p/{old}")
    assert response.status_code == 404 and "ikke lenger i bruk" in response.get_data(as_text=True)
    new = Site.get_by_id(site.id).qr_token
    assert new != old and as_role("worker").get(f"/p/{new}").status_code == 302
    assert AuditEvent.get(AuditEvent.action == "site.poster_renew").record_id == str(site.id)


def test_poster_page_has_the_qr_code_and_prints(as_role, site):
    page = as_role("foreman").get(f"/s/{site.id}/poster").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page and f"/p/{site.qr_token}" in page
    assert re.search(r"css/poster\.[0-9a-f]+\.css", page) and "Hjelm" in page  # hashed, immutable (issue 22)


def test_the_poster_says_check_in_in_every_interface_language(as_role, site):
    """The poster hangs for every crew: Norwegian, English, Polish, Lithuanian and Ukrainian (new-user test:
    Ukrainian was missing), from the one list of languages."""
    page = as_role("foreman").get(f"/s/{site.id}/poster").get_data(as_text=True)
    for code, words in (("nb", "Sjekk inn"), ("en", "Check in"), ("pl", "Zamelduj się"), ("uk", "Відмітити прихід")):
        assert f'<span lang="{code}">{words}</span>' in page, code
    assert '<span lang="lt">' in page


def test_non_member_is_told_why(as_role, site):
    response = as_role("outsider").get(f"/p/{site.qr_token}")
    assert response.status_code == 403
    assert "Du står ikke på listen" in response.get_data(as_text=True)


def test_check_in_with_all_equipment(as_role, world, site):
    worker = as_role("worker")
    response = post_check_in(worker, site)
    assert response.status_code == 303
    row = CheckIn.get()
    assert row.confirmed == ["helmet", "safety_shoes"] and row.missing == []
    assert row.user == world.people["worker"] and row.name == "Worker Person"
    assert row.employer_org_number == "923609016" and row.hms_card_number == "HMS123"
    page = worker.get(f"/s/{site.id}/checkin").get_data(as_text=True)
    assert "Du er sjekket inn siden" in page and "Sjekk ut" in page
    home = worker.get("/").get_data(as_text=True)
    assert "Du er sjekket inn siden" in home and f'action="/s/{site.id}/checkout" data-outbox' in home


def test_each_item_must_be_ticked_or_declared_missing(as_role, site):
    response = post_check_in(as_role("worker"), site, all_worn="", have=["helmet"])
    assert response.status_code == 422
    assert "Kryss av for hvert utstyr" in response.get_data(as_text=True)
    assert CheckIn.select().count() == 0


def test_unknown_equipment_is_refused(as_role, site):
    response = post_check_in(as_role("worker"), site, have=["jetpack"])
    assert response.status_code == 422 and CheckIn.select().count() == 0


def test_missing_item_is_recorded_and_the_foreman_is_told(as_role, site):
    response = post_check_in(as_role("worker"), site, all_worn="y", missing=["helmet"])
    assert response.status_code == 303
    row = CheckIn.get()
    assert row.confirmed == ["safety_shoes"] and row.missing == ["helmet"]
    follow_up = FollowUp.get(FollowUp.check_in == row)
    assert follow_up.kind == "missing_equipment"
    foreman = as_role("foreman")
    page = foreman.get(f"/s/{site.id}/on-site").get_data(as_text=True)
    assert "Manglende verneutstyr" in page and "Mangler: Hjelm" in page
    assert foreman.post(f"/s/{site.id}/follow-ups/{follow_up.id}/resolve").status_code == 303
    assert FollowUp.get_by_id(follow_up.id).resolved_at is not None


def test_sending_the_same_check_in_again_saves_it_once(as_role, site):
    worker = as_role("worker")
    key = str(uuid.uuid4())
    first = worker.post(f"/s/{site.id}/checkin", data={"uuid": key, "all_worn": "y"}, headers={"X-Outbox": "1"})
    again = worker.post(f"/s/{site.id}/checkin", data={"uuid": key, "all_worn": "y"}, headers={"X-Outbox": "1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_data(as_text=True) == again.get_data(as_text=True) == key
    assert CheckIn.select().count() == 1


def test_the_database_refuses_a_duplicate_uuid(db, world, site):
    key = uuid.uuid4()
    CheckIn.create(uuid=key, site=site, user=world.people["worker"], checked_in_at=utcnow(), name="x")
    from peewee import IntegrityError

    with pytest.raises(IntegrityError):
        with db.atomic():
            CheckIn.create(uuid=key, site=site, user=world.people["foreman"], checked_in_at=utcnow(), name="y")


def test_a_check_in_resent_with_other_answers_is_refused_not_dropped(as_role, site):
    """The same UUID with another equipment answer was answered 200 and the new answer silently dropped."""
    worker, same = as_role("worker"), str(uuid.uuid4())
    headers = {"X-Outbox": "1"}
    first = worker.post(f"/s/{site.id}/checkin", data={"uuid": same, "all_worn": "y"}, headers=headers)
    assert first.status_code == 201
    again = worker.post(f"/s/{site.id}/checkin", data={"uuid": same, "all_worn": "y"}, headers=headers)
    assert again.status_code == 200  # the same one sent again: saved once
    other = worker.post(f"/s/{site.id}/checkin", data={"uuid": same, "have": ["safety_shoes"],
                                                       "missing": ["helmet"]}, headers=headers)
    assert other.status_code == 409 and "andre svar" in other.get_data(as_text=True)
    row = CheckIn.get()
    assert set(row.confirmed) == {"helmet", "safety_shoes"} and row.missing == []
    assert not FollowUp.select().where(FollowUp.check_in == row).exists()


def test_checking_in_twice_shows_the_open_check_in(as_role, site):
    worker = as_role("worker")
    post_check_in(worker, site)
    response = post_check_in(worker, site)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Du er allerede sjekket inn." in page and "Du er sjekket inn siden" in page
    assert CheckIn.select().count() == 1


def test_one_uuid_cannot_serve_two_sites(as_role, world, site):
    worker = as_role("worker")
    world.person("+4791000011", "Worker Two", "worker", world.other_site)
    key = str(uuid.uuid4())
    post_check_in(worker, site, uuid=key)
    from fieldapp.models import Membership

    Membership.create(user=world.people["worker"], site=world.other_site, role="worker")
    response = post_check_in(worker, world.other_site, uuid=key)
    assert response.status_code == 409 and CheckIn.select().count() == 1


def test_check_in_made_offline_keeps_the_phones_time(app, as_role, site):
    # The form was served three hours ago (its signed stamp), the check-in made two hours ago, sent now.
    with app.app_context():
        issued = phone_time.issue_stamp(utcnow() - timedelta(hours=3))
    two_hours_ago = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    response = post_check_in(as_role("worker"), site, made_at=two_hours_ago, issued=issued)
    assert response.status_code == 303
    row = CheckIn.get()
    assert abs((utcnow() - timedelta(hours=2) - row.checked_in_at).total_seconds()) < 60
    assert (row.received_at - row.checked_in_at).total_seconds() > 7000


@pytest.mark.parametrize("made_at", ["tomorrow", (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat(),
                                     (datetime.now(timezone.utc) - timedelta(days=30)).isoformat()],
                         ids=["unreadable", "an_hour_ahead", "30_days_back"])
def test_no_phone_time_is_refused(as_role, site, made_at):
    # Without a stamp older than the claim, the server records the time it got it (fieldapp/phone_time.py).
    response = post_check_in(as_role("worker"), site, made_at=made_at)
    assert response.status_code == 303
    row = CheckIn.get()
    assert abs((row.checked_in_at - row.received_at).total_seconds()) < 1


def test_bad_uuid_is_a_400(as_role, site):
    assert post_check_in(as_role("worker"), site, uuid="not-a-uuid").status_code == 400


def test_check_out_once(as_role, site):
    worker = as_role("worker")
    post_check_in(worker, site)
    key = str(uuid.uuid4())
    assert worker.post(f"/s/{site.id}/checkout", data={"uuid": key}).status_code == 303
    again = worker.post(f"/s/{site.id}/checkout", data={"uuid": key}, headers={"X-Outbox": "1"})
    assert again.status_code == 200
    row = CheckIn.get()
    assert row.checked_out_at is not None and str(row.checkout_uuid) == key and not row.auto_closed
    none_open = worker.post(f"/s/{site.id}/checkout", data={"uuid": str(uuid.uuid4())})
    assert none_open.status_code == 409 and "Du er ikke sjekket inn her." in none_open.get_data(as_text=True)


def test_hms_card_warnings_at_check_in(as_role, world, site):
    worker = world.people["worker"]
    User.update(hms_card_number=None).where(User.id == worker.id).execute()
    assert "Du har ikke registrert HMS-kortnummer" in as_role("worker").get(f"/s/{site.id}/checkin").get_data(as_text=True)
    User.update(hms_card_number="HMS1", hms_card_expiry=date(2020, 1, 1)).where(User.id == worker.id).execute()
    assert "HMS-kortet ditt er utløpt" in as_role("worker").get(f"/s/{site.id}/checkin").get_data(as_text=True)


def test_on_site_list_for_the_foreman(as_role, world, site):
    post_check_in(as_role("worker"), site)
    post_check_in(as_role("verneombud"), site, missing=["safety_shoes"])
    foreman = as_role("foreman")
    page = foreman.get(f"/s/{site.id}/on-site").get_data(as_text=True)
    assert "2 personer på byggeplassen" in page
    assert "Worker Person" in page and "Verneombud Person" in page and "Fjordbygg AS" in page
    assert "Verneutstyr bekreftet" in page and "Mangler: Vernesko" in page and "HMS123" in page
    fragment = foreman.get(f"/s/{site.id}/on-site", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="on-site"') and 'hx-trigger="every 15s"' in body and "<html" not in body
    assert as_role("worker").get(f"/s/{site.id}/on-site").status_code == 403


def test_on_site_list_queries_do_not_grow(as_role, world, site, count_queries):
    foreman = as_role("foreman")
    post_check_in(as_role("worker"), site)
    count_queries.queries.clear()
    foreman.get(f"/s/{site.id}/on-site")
    few = len(count_queries.queries)
    for i in range(20):
        user = world.person(f"+474100{i:04d}", f"Extra {i}", "worker", site)
        CheckIn.create(uuid=uuid.uuid4(), site=site, user=user, checked_in_at=utcnow(), name=user.name,
                       missing='["helmet"]')
    count_queries.queries.clear()
    page = foreman.get(f"/s/{site.id}/on-site").get_data(as_text=True)
    assert "21 personer" in page
    assert len(count_queries.queries) == few


def oslo(day, hour, minute=0):
    return clock.at(day, time(hour, minute))


def test_open_check_ins_close_at_the_end_of_the_day(app, world, site, frozen_clock):
    frozen_clock(datetime(2026, 6, 10, 12, 0, tzinfo=clock.zone()))  # noon: today's check-in stays open
    yesterday = clock.today() - timedelta(days=1)
    early = CheckIn.create(uuid=uuid.uuid4(), site=site, user=world.people["worker"], checked_in_at=oslo(yesterday, 7),
                           name="Worker Person")
    late = CheckIn.create(uuid=uuid.uuid4(), site=site, user=world.people["foreman"], checked_in_at=oslo(yesterday, 19),
                          name="Foreman Person")
    today_row = CheckIn.create(uuid=uuid.uuid4(), site=site, user=world.people["manager"],
                               checked_in_at=oslo(clock.today(), 7), name="Manager Person")
    from fieldapp.checkin import tasks

    with app.app_context():
        closed = tasks.close_open_check_ins.call_local()
    assert closed >= 2
    early = CheckIn.get_by_id(early.id)
    assert early.auto_closed and early.checked_out_at == oslo(yesterday, 18)
    late = CheckIn.get_by_id(late.id)  # checked in after the day's end: closed at midnight
    assert late.auto_closed and late.checked_out_at == oslo(clock.today(), 0)
    now_local = clock.now(site)
    expected_open = now_local.hour < 18
    assert (CheckIn.get_by_id(today_row.id).checked_out_at is None) == expected_open
    assert AuditEvent.select().where(AuditEvent.action == "checkin.auto_close").count() == closed


def test_attendance_list_page_csv_and_pdf(as_role, world, site):
    post_check_in(as_role("worker"), site)
    CheckIn.create(uuid=uuid.uuid4(), site=site, user=None, checked_in_at=utcnow(), name="=HYPERLINK(evil)",
                   employer_name="Besøk AS", is_guest=True)
    manager = as_role("manager")
    today = clock.today(site).isoformat()
    page = manager.get(f"/s/{site.id}/attendance?from={today}&to={today}").get_data(as_text=True)
    assert "Worker Person" in page and "923609016" in page and "HMS123" in page
    csv_response = manager.get(f"/s/{site.id}/attendance.csv?from={today}&to={today}")
    assert csv_response.mimetype == "text/csv" and "attachment" in csv_response.headers["Content-Disposition"]
    text = csv_response.get_data(as_text=True)
    assert text.startswith("\ufeffNavn;Fødselsdato;Arbeidsgiver;Organisasjonsnummer;Bemanningsforetak;"
                           "Bemanningsforetakets organisasjonsnummer;HMS-kortnummer;Dato;Inn;Ut")
    assert "Worker Person;;Fjordbygg AS;923609016;;;HMS123;" in text
    assert "'=HYPERLINK(evil)" in text  # a spreadsheet formula is neutralised
    pdf = manager.get(f"/s/{site.id}/attendance.pdf?from={today}&to={today}")
    assert pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF")
    assert len(pdf.get_data()) > 1000


@pytest.mark.parametrize("query, field, message", [
    ("from=yesterday", "from", "Give the date as year-month-day"),
    ("from=2026-02-30", "from", "Give the date as year-month-day"),
    ("from=２０２６-０１-０１", "from", "Give the date as year-month-day"),
    ("from=0001-01-01", "from", "Give a date from "),
    ("from=2026-03-01&to=9999-12-31", "to", "Give a date from "),
    ("from=2026-03-01&to=2026-02-01", "to", "The end date is before the start date."),
    ("from=2020-01-01&to=2026-01-01", "to", "Choose a shorter period (at most one year).")])
def test_a_bad_date_range_is_told_beside_its_date(as_role, site, query, field, message):
    # It was a bare 400 "something in the request was wrong", with no range and no field named.
    manager = as_role("manager")
    manager.post("/me/language", data={"language": "en"})
    page = manager.get(f"/s/{site.id}/attendance?{query}")
    assert page.status_code == 422
    beside = page.get_data(as_text=True).split(f'<p class="error" id="{field}-error" role="alert">')[1].split("</p>")[0]
    assert message in beside, beside
    if message == "Give a date from ":  # the range, written as an English reader writes dates
        assert re.fullmatch(r"Give a date from \d\d/\d\d/\d{4} to \d\d/\d\d/\d{4}\.", beside), beside
    for name, typed in re.findall(r"(from|to)=([^&]+)", query):  # both dates as typed, to correct one of them
        assert f'name="{name}" value="{typed}"' in page.get_data(as_text=True)
    for export in ("csv", "pdf"):
        refused = manager.get(f"/s/{site.id}/attendance.{export}?{query}")
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)


def test_hours_on_site_by_person_and_month(db, world, site):
    day = clock.today(site)
    worker = world.people["worker"]
    CheckIn.create(uuid=uuid.uuid4(), site=site, user=worker, checked_in_at=oslo(day, 7),
                   checked_out_at=oslo(day, 15, 30), name=worker.name, employer_name="Fjordbygg AS")
    CheckIn.create(uuid=uuid.uuid4(), site=site, user=world.people["foreman"], checked_in_at=oslo(day, 6),
                   checked_out_at=oslo(day, 14), name="Foreman Person", employer_name="Fjordbygg AS")
    hours = service.hours_on_site(site, day, day)
    assert hours[(worker.id, worker.name, "Fjordbygg AS")] == pytest.approx(8.5)
    assert service.hours_by_month(site, day.year)[day.month] == pytest.approx(16.5)


def test_attendance_is_deleted_six_months_after_the_site_closes(app, as_role, world, site):
    CheckIn.create(uuid=uuid.uuid4(), site=site, user=world.people["worker"], checked_in_at=utcnow(), name="x")
    CheckIn.create(uuid=uuid.uuid4(), site=world.other_site, user=world.outsider, checked_in_at=utcnow(), name="y")
    as_role("manager").post(f"/s/{site.id}/edit", data={"name": site.name, "address": site.address})  # inactive
    assert Site.get_by_id(site.id).closed_on == clock.today(site)
    assert service.purge_old_attendance(183) == 0  # closed today: kept
    Site.update(closed_on=clock.today(site) - timedelta(days=200)).where(Site.id == site.id).execute()
    from fieldapp.checkin import tasks

    with app.app_context():
        assert tasks.purge_old_attendance.call_local() == 1
    assert [c.name for c in CheckIn.select()] == ["y"]


def test_settings_choose_equipment_visitors_and_day_end(as_role, world):
    foreman = as_role("foreman")
    response = foreman.post(f"/s/{world.site.id}/checkin-settings",
                            data={"equipment": ["helmet", "hi_vis"], "guests_allowed": "y", "day_ends_at": "16:30"})
    assert response.status_code == 303
    site = Site.get_by_id(world.site.id)
    assert site.guests_allowed and site.day_ends_at.strftime("%H:%M") == "16:30"
    assert [e.key for e in equipment.required_for(site)] == ["helmet", "hi_vis"]
    event = AuditEvent.get(AuditEvent.action == "site.equipment")
    assert json.loads(event.after) == {"required": ["helmet", "hi_vis"]}
    bad = foreman.post(f"/s/{world.site.id}/checkin-settings", data={"equipment": ["jetpack"], "day_ends_at": "16:30"})
    assert bad.status_code == 422
    late = foreman.post(f"/s/{world.site.id}/checkin-settings", data={"equipment": ["helmet"], "day_ends_at": "25:99"})
    assert late.status_code == 422


def test_manager_adds_equipment_named_in_both_languages(as_role, world):
    manager = as_role("manager")
    assert manager.post(f"/s/{world.site.id}/equipment", data={"name_nb": "Sveisemaske", "name_en": "Welding mask"}).status_code == 303
    (item,) = [e for e in Equipment.select().where(~Equipment.builtin) if e.names.get("nb") == "Sveisemaske"]
    assert item.names == {"nb": "Sveisemaske", "en": "Welding mask"}
    assert not item.builtin and item.organization_id == world.org.id
    assert "Sveisemaske" in manager.get(f"/s/{world.site.id}/checkin-settings").get_data(as_text=True)
    User.update(language="en").where(User.id == world.people["manager"].id).execute()
    assert "Welding mask" in manager.get(f"/s/{world.site.id}/checkin-settings").get_data(as_text=True)
    # Another organization's sites do not see it.
    other_org = Organization.create(name="Annen Bygg AS", org_number="974760673")
    other_site = Site.create(organization=other_org, name="Annen", address="x", qr_token="other-org")
    other_manager = world.person("+4791000077", "Annen Leder", "manager", other_site)
    assert Equipment.select().where(~Equipment.builtin).count() == 1
    assert "Sveisemaske" not in [equipment.label(e) for e in equipment.catalogue(other_org.id)]
    assert other_manager.id
    assert manager.post(f"/s/{world.site.id}/equipment", data={"name_nb": ""}).status_code == 422


def test_visitor_checks_in_and_out_without_an_account(app, client, world, site):
    Site.update(guests_allowed=True).where(Site.id == site.id).execute()
    assert "Sjekk inn som besøkende" in client.get(f"/p/{site.qr_token}").get_data(as_text=True)
    bad = client.post(f"/p/{site.qr_token}/guest", data={"uuid": str(uuid.uuid4()), "name": "Vera Besøk",
                                                          "employer": "Rådgiver AS", "org_number": "123",
                                                          "all_worn": "y"})
    assert bad.status_code == 422 and "Ikke et gyldig organisasjonsnummer" in bad.get_data(as_text=True)
    response = client.post(f"/p/{site.qr_token}/guest", data={
        "uuid": str(uuid.uuid4()), "name": "Vera Besøk", "employer": "Rådgiver AS", "org_number": "923609016",
        "hms_card_number": "HMS55", "all_worn": "y"})
    assert response.status_code == 303
    row = CheckIn.get()
    assert row.is_guest and row.user is None and row.name == "Vera Besøk" and row.employer_org_number == "923609016"
    page = client.get(f"/p/{site.qr_token}/guest").get_data(as_text=True)
    assert "Du er sjekket inn siden" in page
    out = client.post(f"/p/{site.qr_token}/guest/checkout", data={"uuid": str(uuid.uuid4())})
    assert out.status_code == 303 and CheckIn.get_by_id(row.id).checked_out_at is not None


def test_visitors_only_where_allowed(client, site):
    assert client.get(f"/p/{site.qr_token}/guest").status_code == 404


@pytest.mark.parametrize("query", ["from=0001-01-01", "from=9999-12-31", "from=2026-01-01&to=9999-12-31",
                                   "from=1900-01-01&to=1900-01-02"])
def test_an_attendance_range_far_from_today_is_a_clear_422(as_role, world, query):
    """0001-01-01 and 9999-12-31 overflowed in the day's bounds (a 500) on the page, the CSV and the PDF."""
    manager = as_role("manager")
    for tail in ("", ".csv", ".pdf"):
        response = manager.get(f"/s/{world.site.id}/attendance{tail}?{query}")
        assert response.status_code == 422, (tail, query)
        assert "Oppgi en dato fra" in response.get_data(as_text=True)


def test_the_hours_on_site_are_written_in_the_readers_language(as_role, world, site):
    """The unit was a hand-written Norwegian "t" (timer) on the English page too."""
    post_check_in(as_role("worker"), site)
    manager = as_role("manager")
    today = clock.today(site).isoformat()
    path = f"/s/{site.id}/attendance?from={today}&to={today}"
    assert re.search(r"<strong>0,0 t</strong>", manager.get(path).get_data(as_text=True))
    manager.post("/me/language", data={"language": "en"})
    page = manager.get(path).get_data(as_text=True)
    assert re.search(r"<strong>0.0 h</strong>", page) and " t</strong>" not in page


def test_a_check_in_sent_again_after_the_list_changed_is_the_one_saved(as_role, site):
    """Queued on the phone and sent again after the manager changed the site's list: the same answers were
    refused against the new list (422 "equipment the site does not require"), as if the person were not
    checked in. The saved check-in's own list decides whether it is the same."""
    worker, same = as_role("worker"), str(uuid.uuid4())
    form = {"uuid": same, "have": ["helmet"], "missing": ["safety_shoes"]}
    assert worker.post(f"/s/{site.id}/checkin", data=form, headers={"X-Outbox": "1"}).status_code == 201
    SiteEquipment.delete().where(SiteEquipment.site == site).execute()
    SiteEquipment.create(site=site, equipment=Equipment.get(Equipment.key == "hi_vis"))
    again = worker.post(f"/s/{site.id}/checkin", data=form, headers={"X-Outbox": "1"})
    assert again.status_code == 200 and again.get_data(as_text=True) == same
    worn = worker.post(f"/s/{site.id}/checkin", data={"uuid": same, "all_worn": "y", "missing": ["safety_shoes"]},
                       headers={"X-Outbox": "1"})
    assert worn.status_code == 200  # "all of it" against the list it was saved with
    other = worker.post(f"/s/{site.id}/checkin", data={"uuid": same, "all_worn": "y"}, headers={"X-Outbox": "1"})
    assert other.status_code == 409 and CheckIn.select().count() == 1


def test_a_guests_check_in_uuid_sent_with_another_name_is_refused(client, site):
    """A guest check-in's UUID posted again with another person's name answered "checked in" (as the first
    guest) and left the second person off the attendance list."""
    Site.update(guests_allowed=True).where(Site.id == site.id).execute()
    path = f"/p/{site.qr_token}/guest"
    form = {"uuid": str(uuid.uuid4()), "name": "Kari Gjest", "employer": "Firma AS", "all_worn": "y"}
    assert client.post(path, data=form).status_code == 303
    assert client.post(path, data=form).status_code == 303  # the same, sent again
    other = client.post(path, data={**form, "name": "Per Annen", "employer": "Annet AS"})
    assert other.status_code == 409
    assert [row.name for row in CheckIn.select()] == ["Kari Gjest"]


def test_a_check_out_queued_offline_that_arrives_after_the_end_of_day_close_keeps_the_phones_time(world, site):
    """The breaker's find: Ola left at 15:00 with no signal; the site's end of day (18:00) closed his check-in
    automatically, and when the phone's check-out came it was refused "not checked in here" (409): the list said
    he stayed until 18:00 and his phone showed a failure for what he did right."""
    worker, now = world.people["worker"], utcnow().replace(microsecond=0)
    row = CheckIn.create(uuid=uuid.uuid4(), site=site, user=worker, name=worker.name,
                         checked_in_at=now - timedelta(hours=8), checked_out_at=now - timedelta(hours=1),
                         auto_closed=True)
    left = now - timedelta(hours=3)
    key = uuid.uuid4()
    saved = service.check_out(site, worker, key, phone_time.PhoneTime(left, now, left))
    assert (saved.id, saved.checked_out_at, saved.auto_closed, saved.checkout_uuid) == (row.id, left, False, key)
    assert service.check_out(site, worker, key, phone_time.PhoneTime(left, now, left)).id == row.id  # a resend
    # Another check-out for it is refused: it was checked out once already.
    with pytest.raises(service.CheckInError):
        service.check_out(site, worker, uuid.uuid4(), phone_time.PhoneTime(left, now, left))


def test_a_check_out_made_after_the_end_of_day_close_leaves_the_sites_time(world, site):
    worker, now = world.people["worker"], utcnow().replace(microsecond=0)
    closed_at = now - timedelta(hours=1)
    CheckIn.create(uuid=uuid.uuid4(), site=site, user=worker, name=worker.name, checked_in_at=now - timedelta(hours=8),
                   checked_out_at=closed_at, auto_closed=True)
    saved = service.check_out(site, worker, uuid.uuid4(), phone_time.PhoneTime(None, now, now))
    assert saved.checked_out_at == closed_at and saved.auto_closed


def test_an_auto_closed_check_in_is_not_checked_out_after_a_new_check_in(world, site):
    worker, now = world.people["worker"], utcnow().replace(microsecond=0)
    CheckIn.create(uuid=uuid.uuid4(), site=site, user=worker, name=worker.name, checked_in_at=now - timedelta(days=1),
                   checked_out_at=now - timedelta(hours=20), auto_closed=True)
    CheckIn.create(uuid=uuid.uuid4(), site=site, user=worker, name=worker.name, checked_in_at=now - timedelta(hours=2),
                   checked_out_at=now - timedelta(hours=1))
    with pytest.raises(service.CheckInError):
        service.check_out(site, worker, uuid.uuid4(), phone_time.PhoneTime(None, now, now - timedelta(hours=22)))
