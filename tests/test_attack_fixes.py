"""What an attacker found in issues 18-21, each refused with a clear message instead of a 500 or a wrong save."""
import io
import uuid
from datetime import date, datetime

import pytest
from helpers import add_sja, jpeg, sja_form

from fieldapp import inputs
from fieldapp.meetings import tasks as meeting_tasks
from fieldapp.models import (Alert, Meeting, MeetingAttendance, MeetingDecision, Report, RoundAnswer, Sja,
                             TrainingRecord, User)
from fieldapp.rounds import service as rounds


# --- 1. nobody approves their own certificate ---------------------------------------------------------------

@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_a_foreman_cannot_decide_his_own_certificate(as_role, world, verb):
    foreman = as_role("foreman")
    sent = foreman.post("/me/competence", data={"uuid": str(uuid.uuid4()), "course": "hot_work",
                                               "taken_on": "2024-05-02", "issuer": "NBF"},
                        content_type="multipart/form-data")
    assert sent.status_code == 303, sent.get_data(as_text=True)
    row = TrainingRecord.get()
    response = foreman.post(f"/s/{world.site.id}/competence/records/{row.id}/{verb}", data={"reason": "Ugyldig"})
    assert response.status_code == 403
    assert "sitt eget sertifikat" in response.get_data(as_text=True)
    row = TrainingRecord.get_by_id(row.id)
    assert row.status == "pending" and row.decided_by_id is None
    # Another lead of the same employer still may.
    assert as_role("manager").post(f"/s/{world.site.id}/competence/records/{row.id}/approve").status_code == 303
    assert TrainingRecord.get_by_id(row.id).decided_by_id == world.people["manager"].id


# --- 3. numbers are ASCII digits only ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, number", [("12", 12), (" 7 ", 7), ("²", None), ("٣", None), ("-1", None), ("1.5", None),
                                         ("", None), (None, None), ("9" * 40, None)])
def test_whole_number_takes_only_ascii_digits(raw, number):
    assert inputs.whole_number(raw) == number


@pytest.mark.parametrize("field", ["step-0-hazard-0-probability", "responsible", "participants"])
def test_a_superscript_digit_in_an_sja_number_is_a_422_not_a_500(as_role, world, field):
    crew = [world.people["worker"], world.people["foreman"]]
    response = as_role("worker").post(f"/s/{world.site.id}/sja/new",
                                      data=sja_form(crew, world.people["foreman"], **{field: "²"}))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert Sja.select().count() == 0


def test_a_superscript_page_number_is_a_400(as_role, world):
    assert as_role("manager").get(f"/s/{world.site.id}/competence?page=²").status_code == 400


# --- 4. a round answer's UUID may equal a report's -----------------------------------------------------------

def test_a_deviation_whose_uuid_is_a_reports_uuid_gets_its_own_finding(as_role, world, app):
    with app.app_context():
        version = rounds.current_version(rounds.builtin_template())
    client = as_role("verneombud")
    round_uuid = str(uuid.uuid4())
    assert client.post(f"/s/{world.site.id}/rounds/new", data={"uuid": round_uuid, "version": version.id},
                       headers={"X-Outbox": "1"}).status_code in (200, 201, 303)
    item = rounds.item_keys(version)[0]
    taken = str(world.report.uuid)  # an existing report's UUID, sent as the answer's
    data = {"issued": "", "uuid": taken, "version": version.id, "item": item, "answer": "deviation",
            "note": "Gate left open", "photos": [(io.BytesIO(jpeg(colour="red")), "p.jpg")]}
    url = f"/s/{world.site.id}/rounds/{round_uuid}/answers"
    response = client.post(url, data=data, headers={"X-Outbox": "1"}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    row = RoundAnswer.get(RoundAnswer.item_key == item)
    finding = Report.get_by_id(row.finding_id)
    assert finding.id != world.report.id and str(finding.uuid) != taken and "Gate left open" in finding.description
    assert Report.get_by_id(world.report.id).description == world.report.description  # the old one untouched
    data["photos"] = [(io.BytesIO(jpeg(colour="red")), "p.jpg")]
    again = client.post(url, data=data, headers={"X-Outbox": "1"}, content_type="multipart/form-data")
    assert again.status_code in (200, 201) and Report.select().where(Report.kind == "finding").count() == 1


# --- 2. absurd dates are refused, and one already stored breaks nothing ---------------------------------------

NOW = datetime(2026, 3, 10, 9, 0)  # naive UTC; 10:00 in Oslo


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2031-03-10"])
def test_an_absurd_meeting_date_is_a_422_with_the_range(as_role, world, frozen_clock, day):
    frozen_clock(NOW)
    verneombud = as_role("verneombud")
    response = verneombud.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": day})
    assert response.status_code == 422
    assert "Oppgi en dato fra 10.03.2021 til 09.03.2028." in response.get_data(as_text=True)
    # An English reader gets the range as an English reader writes dates.
    User.update(language="en").where(User.id == world.people["verneombud"].id).execute()
    english = verneombud.post(f"/s/{world.site.id}/meetings/new", data={"kind": "startup", "held_on": day})
    assert '<option value="startup" selected>' in english.get_data(as_text=True)  # the kind chosen, kept
    assert "Give a date from 10/03/2021 to 09/03/2028." in english.get_data(as_text=True)
    morning = as_role("foreman").post(f"/s/{world.site.id}/meetings/morning",
                                      data={"held_on": day, "topics": ["weather"], "note": "x"})
    assert morning.status_code == 422
    assert Meeting.select().count() == 0
    assert verneombud.get(f"/s/{world.site.id}/meetings").status_code == 200


def test_an_absurd_decision_deadline_is_a_422(as_role, world, frozen_clock):
    frozen_clock(NOW)
    foreman = as_role("foreman")
    assert foreman.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": "2026-03-10"}
                        ).status_code == 303
    meeting = Meeting.get()
    response = foreman.post(f"/s/{world.site.id}/meetings/{meeting.id}/decisions", data={
        "text": "Railing", "person": world.people["worker"].id, "deadline": "9999-12-31"})
    assert response.status_code == 422 and MeetingDecision.select().count() == 0


def test_a_meeting_stored_in_year_9999_breaks_no_page_and_no_other_sites_reminder(app, as_role, world, frozen_clock):
    frozen_clock(NOW)
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=date(9999, 12, 31), topics=[],
                   status="approved")  # approved minutes dated ahead: not held, so no due date is counted from it
    Meeting.create(organization=world.org, site=world.other_site, kind="hms", held_on=date(2026, 2, 1), topics=[],
                   status="approved")
    foreman = as_role("foreman")
    assert foreman.get(f"/s/{world.site.id}/meetings").status_code == 200
    assert foreman.get("/").status_code == 200 and as_role("manager").get("/").status_code == 200
    assert foreman.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": "2026-03-10"}
                        ).status_code == 303
    with app.app_context():
        assert meeting_tasks.remind_due_meetings.call_local() >= 1  # site B's overdue meeting is still reminded
    assert Alert.select().where(Alert.site == world.other_site).count() == 1


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00", "9999-12-31T23:59", "2026-03-11T07:00+05:00"])
def test_an_absurd_or_zoned_sja_start_is_a_422(as_role, world, frozen_clock, starts_at):
    frozen_clock(NOW)
    crew = [world.people["worker"], world.people["foreman"]]
    response = as_role("worker").post(f"/s/{world.site.id}/sja/new",
                                      data=sja_form(crew, world.people["foreman"], starts_at=starts_at))
    assert response.status_code == 422
    assert 'id="starts_at-error"' in response.get_data(as_text=True)
    assert Sja.select().count() == 0


@pytest.mark.parametrize("fields", [{"taken_on": "0001-01-01"}, {"expires_on": "9999-12-31"}])
def test_an_absurd_certificate_date_is_a_422(as_role, world, frozen_clock, fields):
    frozen_clock(NOW)
    data = {"uuid": str(uuid.uuid4()), "course": "hot_work", "taken_on": "2024-05-02", "issuer": "NBF", **fields}
    response = as_role("worker").post("/me/competence", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "Oppgi en dato fra" in response.get_data(as_text=True)
    assert TrainingRecord.select().count() == 0


# --- 5. workers read approved minutes only; the agenda never quotes an injury ------------------------------

def test_a_worker_reads_only_approved_minutes_and_no_injury_text(as_role, world, frozen_clock):
    frozen_clock(NOW)
    Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=world.site, reporter=world.people["worker"],
                  kind="injury", category="falls", severity="high", description="Kari Nordmann broke her wrist",
                  happened_at=datetime(2026, 3, 9, 8, 0))
    foreman = as_role("foreman")
    assert foreman.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": "2026-03-10"}
                        ).status_code == 303
    meeting = Meeting.get()
    draft = foreman.get(f"/s/{world.site.id}/meetings/{meeting.id}").get_data(as_text=True)
    assert "Kari Nordmann" not in draft and "09.03.2026" in draft  # the category and day, not the words
    worker = as_role("worker")
    assert worker.get(f"/s/{world.site.id}/meetings/{meeting.id}").status_code == 404
    assert worker.get(f"/s/{world.site.id}/meetings/{meeting.id}/minutes.pdf").status_code == 404
    assert f"/meetings/{meeting.id}" not in worker.get(f"/s/{world.site.id}/meetings").get_data(as_text=True)
    Meeting.update(status="approved").where(Meeting.id == meeting.id).execute()
    assert worker.get(f"/s/{world.site.id}/meetings/{meeting.id}").status_code == 200
    assert worker.get(f"/s/{world.site.id}/meetings/{meeting.id}/minutes.pdf").status_code == 200
    assert f"/meetings/{meeting.id}" in worker.get(f"/s/{world.site.id}/meetings").get_data(as_text=True)


# --- 6. attendance: one line per person, its own message ---------------------------------------------------

def test_attendance_refuses_the_same_person_twice_a_bad_id_and_a_long_name(as_role, world, frozen_clock):
    frozen_clock(NOW)
    foreman = as_role("foreman")
    assert foreman.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": "2026-03-10"}
                        ).status_code == 303
    url = f"/s/{world.site.id}/meetings/{Meeting.get().id}/attendance"
    person = world.people["worker"].id
    assert foreman.post(url, data={"user": person, "side": "workers"}).status_code == 303
    twice = foreman.post(url, data={"user": person, "side": "workers"})
    assert twice.status_code == 409 and "allerede på deltakerlisten" in twice.get_data(as_text=True)
    bad = foreman.post(url, data={"user": "²", "side": "workers"})
    assert bad.status_code == 422 and "skriv navnet" in bad.get_data(as_text=True)
    long = foreman.post(url, data={"name": "x" * 201, "side": "workers"})
    assert long.status_code == 422
    assert MeetingAttendance.select().count() == 1


# --- 6. nothing typed is cut silently ---------------------------------------------------------------------

def test_a_long_sja_template_name_is_refused_not_cut(as_role, world):
    sja = add_sja(world, responsible=world.people["foreman"], participants=[world.people["foreman"]])
    response = as_role("foreman").post(f"/s/{world.site.id}/sja/{sja.id}/template",
                                       data={"uuid": str(uuid.uuid4()), "name_nb": "x" * 201})
    assert response.status_code == 422
    assert Sja.select().where(Sja.site.is_null()).count() == 0


def test_a_long_checklist_line_is_refused_not_cut(as_role, world):
    manager = as_role("manager")
    with manager.application.app_context():
        template_id = rounds.builtin_template().id
    edit_url = manager.post(f"/s/{world.site.id}/checklists/{template_id}/copy").headers["Location"]
    response = manager.post(edit_url, data={"name": "Our round", "outline": "# Gate\n- " + "x" * 2001 + "\n"})
    assert response.status_code == 422


def test_more_typed_round_participants_than_allowed_are_refused(as_role, world, app):
    with app.app_context():
        version = rounds.current_version(rounds.builtin_template())
    client = as_role("verneombud")
    round_uuid = str(uuid.uuid4())
    client.post(f"/s/{world.site.id}/rounds/new", data={"uuid": round_uuid, "version": version.id},
                headers={"X-Outbox": "1"})
    names = "\n".join(f"Guest {n}" for n in range(rounds.MAX_NAMES + 1))
    response = client.post(f"/s/{world.site.id}/rounds/{round_uuid}/finish", data={"names": names})
    assert response.status_code == 422
    assert "Skriv inn høyst 20 navn" in response.get_data(as_text=True)
