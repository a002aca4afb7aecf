"""Issue 21, what a new user found: agenda items read from codes in each reader's language (page and PDF), and
every typed value kept when a meeting form comes back with a 4xx."""
import io
import uuid
from datetime import date, datetime, timedelta

import pypdf
import pytest
from helpers import record_present

from fieldapp.models import (AgendaItem, Alert, AmuMember, CheckIn, Meeting, MeetingDecision, Report, SafetyRound,
                             Sja, TrainingRecord, User, utcnow)
from fieldapp.rounds import service as rounds_service

NOW = datetime(2026, 3, 10, 9, 0)  # naive UTC; 10:00 in Oslo
TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def frozen(frozen_clock, world):
    frozen_clock(NOW)


def coded_records(world):
    """A report without a description, a report alert (area holds codes) and a stop-work alert (area: a place)."""
    Report.create(uuid=uuid.uuid4(), payload_hash="e" * 64, site=world.site, reporter=world.people["worker"],
                  kind="hazard", category="electrical", severity="high", description="", happened_at=NOW)
    Alert.create(uuid=uuid.uuid4(), site=world.site, level="warning", template="report_high",
                 area="falling_objects/near_miss", created_at=NOW)
    Alert.create(uuid=uuid.uuid4(), site=world.site, level="stop_work", template="stop_work",
                 area="3. etasje, sone B", created_at=NOW)


def start(client, world):
    response = client.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": "2026-03-10"})
    assert response.status_code == 303, response.get_data(as_text=True)
    return Meeting.select().order_by(Meeting.id.desc()).first()


def pdf_text(response):
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.data)).pages)


@pytest.mark.parametrize("language, words", [
    ("nb", ["Elektrisk (Farlig forhold)", "Fallende gjenstander (Nestenulykke)", "STANS ARBEIDET"]),
    ("en", ["Electrical (Hazardous condition)", "Falling objects (Near miss)", "STOP WORK: immediate danger"]),
])
def test_agenda_items_are_read_from_codes_in_the_readers_language(as_role, world, language, words):
    coded_records(world)
    foreman = as_role("foreman")
    meeting = start(foreman, world)
    items = list(AgendaItem.select().where(AgendaItem.meeting == meeting))
    # Items that name a record store no words: the record's codes are read at display time (issue 17).
    assert {i.title for i in items if i.record_id} == {""}
    User.update(language=language).where(User.id == world.people["foreman"].id).execute()
    page = foreman.get(f"/s/{world.site.id}/meetings/{meeting.id}").get_data(as_text=True)
    pdf = pdf_text(foreman.get(f"/s/{world.site.id}/meetings/{meeting.id}/minutes.pdf"))
    for shown in (page, pdf):
        for word in words:
            assert word in shown, (word, language)
        assert "electrical/hazard" not in shown and "falling_objects/near_miss" not in shown
    stop_work = next(i for i in items if i.source == "stop_work")
    assert "· 3. etasje, sone B" in page and stop_work.record_id


def test_a_carried_item_is_read_from_the_record_it_first_named(as_role, world):
    coded_records(world)
    foreman = as_role("foreman")
    first = start(foreman, world)
    item = AgendaItem.get((AgendaItem.meeting == first) & (AgendaItem.source == "report")
                          & (AgendaItem.record_id != world.report.id))
    assert foreman.post(f"/s/{world.site.id}/meetings/{first.id}/note",
                        data={"item": item.id, "note": "", "carry_over": "1"}).status_code == 303
    record_present(first, world.people["foreman"])
    assert foreman.post(f"/s/{world.site.id}/meetings/{first.id}/approve").status_code == 303  # held
    second = start(foreman, world)
    carried = AgendaItem.get((AgendaItem.meeting == second) & (AgendaItem.source == "carried"))
    User.update(language="en").where(User.id == world.people["foreman"].id).execute()
    page = foreman.get(f"/s/{world.site.id}/meetings/{second.id}").get_data(as_text=True)
    assert carried.title == "" and f'id="item-{carried.id}"' in page
    assert page.split(f'id="item-{carried.id}"')[1].split("</strong>")[0].endswith(
        "Electrical (Hazardous condition)")


def test_a_decision_without_a_person_keeps_what_was_typed(as_role, world):
    foreman = as_role("foreman")
    meeting = start(foreman, world)
    item = AgendaItem.select().where(AgendaItem.meeting == meeting).first()
    response = foreman.post(f"/s/{world.site.id}/meetings/{meeting.id}/decisions", data={
        "item": item.id, "text": "Sett opp rekkverk <i>nå</i>", "person": "", "deadline": "2026-03-20"})
    assert response.status_code in (400, 422)
    page = response.get_data(as_text=True)
    assert "Sett opp rekkverk &lt;i&gt;nå&lt;/i&gt;</textarea>" in page  # kept, and escaped
    assert 'value="2026-03-20"' in page and "<details open>" in page
    assert MeetingDecision.select().count() == 0
    # Chosen person kept when the deadline is what is missing.
    person = world.people["worker"].id
    response = foreman.post(f"/s/{world.site.id}/meetings/{meeting.id}/decisions", data={
        "item": item.id, "text": "Rydd stillaset", "person": str(person), "deadline": ""})
    assert response.status_code in (400, 422)
    assert f'<option value="{person}" selected>' in response.get_data(as_text=True)


def test_a_note_and_a_new_item_keep_what_was_typed(as_role, world):
    foreman = as_role("foreman")
    meeting = start(foreman, world)
    item = AgendaItem.select().where(AgendaItem.meeting == meeting).first()
    long = "x" * 2001
    response = foreman.post(f"/s/{world.site.id}/meetings/{meeting.id}/note",
                            data={"item": item.id, "note": long, "carry_over": "1"})
    assert response.status_code in (400, 422) and f">{long}</textarea>" in response.get_data(as_text=True)
    title = "y" * 2001
    response = foreman.post(f"/s/{world.site.id}/meetings/{meeting.id}/items", data={"title": title})
    assert response.status_code in (400, 422) and f'value="{title}"' in response.get_data(as_text=True)


def test_a_morning_meeting_with_bad_input_keeps_the_ticks_and_the_note(as_role, world):
    worker, foreman_user = world.people["worker"], world.people["foreman"]
    for person in (worker, foreman_user):
        CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=person, checked_in_at=utcnow(), name=person.name)
    foreman = as_role("foreman")
    response = foreman.post(f"/s/{world.site.id}/meetings/morning", data={
        "held_on": "not a date", "people": [str(worker.id)], "topics": ["lifting"], "note": "Vind i dag"})
    assert response.status_code in (400, 422)
    page = response.get_data(as_text=True)
    assert f'name="people" value="{worker.id}" checked' in page
    assert f'name="people" value="{foreman_user.id}">' in page  # unticked stays unticked
    assert 'name="topics" value="lifting" checked' in page and ">Vind i dag</textarea>" in page
    assert Meeting.select().where(Meeting.kind == "morning").count() == 0


def test_an_amu_vote_and_decision_keep_what_was_typed(as_role, world):
    AmuMember.create(organization=world.org, user=world.people["manager"], side="employer")
    manager = as_role("manager")
    assert manager.post("/amu/new", data={"held_on": "2026-03-10"}).status_code == 303
    meeting = Meeting.get((Meeting.kind == "amu") & Meeting.site.is_null())
    assert manager.post(f"/amu/{meeting.id}/items", data={"title": "Støy i verkstedet"}).status_code == 303
    item = AgendaItem.get(AgendaItem.meeting == meeting)
    refused = manager.post(f"/amu/{meeting.id}/vote", data={"item": item.id, "majority": "Kjøp hørselvern"})
    assert refused.status_code == 422 and ">Kjøp hørselvern</textarea>" in refused.get_data(as_text=True)
    refused = manager.post(f"/amu/{meeting.id}/decisions", data={"item": item.id, "text": "Mål støyen",
                                                                 "person": "", "deadline": "2026-04-01"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and ">Mål støyen</textarea>" in page and 'value="2026-04-01"' in page
    assert "Støy i verkstedet</strong>" in page



def test_walkaround_sja_certificate_and_statistics_items_follow_the_reader_not_the_maker(app, as_role, world):
    """A bokmål-speaking foreman makes the meeting; an English-speaking manager reads the agenda (page and PDF) in
    English, and the foreman still reads bokmål: these items keep codes and numbers, not the maker's words."""
    foreman, worker = world.people["foreman"], world.people["worker"]
    User.update(language="nb").where(User.id == foreman.id).execute()
    User.update(language="en").where(User.id == world.people["manager"].id).execute()
    with app.app_context():
        version = rounds_service.current_version(rounds_service.builtin_template())
    SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version, started_by=foreman,
                       started_at=NOW - timedelta(days=3), finished_at=NOW - timedelta(days=3))
    Sja.create(uuid=uuid.uuid4(), payload_hash="6" * 64, organization=world.org, site=world.site,
               title="Løfte takstoler", created_by=foreman, created_at=NOW - timedelta(days=1), decision="no_go")
    TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="8" * 64, user=worker, course="truck", status="approved",
                          taken_on=TODAY - timedelta(days=700), expires_on=TODAY + timedelta(days=12))
    meeting = start(as_role("foreman"), world)
    stored = {i.source: i.title for i in AgendaItem.select().where(AgendaItem.meeting == meeting)}
    assert stored["round"].startswith("Vernerunde")  # the maker's words, kept beside the codes
    english = ["Walkaround 07/03/2026: 0 deviations", "Løfte takstoler (No-go)",
               "Worker Person: Truck (certified) expires 22/03/2026", "Statistics since 10/02/2026"]
    manager = as_role("manager")
    page = manager.get(f"/s/{world.site.id}/meetings/{meeting.id}").get_data(as_text=True)
    pdf = pdf_text(manager.get(f"/s/{world.site.id}/meetings/{meeting.id}/minutes.pdf"))
    for shown in (page, pdf):
        for words in english:
            assert words in shown, words
        assert "Vernerunde" not in shown and "Statistikk" not in shown
    mine = as_role("foreman").get(f"/s/{world.site.id}/meetings/{meeting.id}").get_data(as_text=True)
    assert "Vernerunde 07.03.2026" in mine and "Walkaround" not in mine


@pytest.mark.parametrize("language, title", [("nb", "Fall, 09.03.2026"), ("en", "Falls, 09/03/2026")])
def test_an_injury_on_the_agenda_has_its_sites_day_as_the_reader_writes_dates(as_role, world, language, title):
    """The new user's find: "Falls, 2026-12-01" in every language. 23:30 UTC on the 8th is the 9th in Oslo."""
    Report.create(uuid=uuid.uuid4(), payload_hash="f" * 64, site=world.site, reporter=world.people["worker"],
                  kind="injury", category="falls", severity="high", description="Ola fell",
                  happened_at=datetime(2026, 3, 8, 23, 30))
    User.update(language=language).where(User.id == world.people["foreman"].id).execute()
    foreman = as_role("foreman")
    meeting = start(foreman, world)
    page = foreman.get(f"/s/{world.site.id}/meetings/{meeting.id}").get_data(as_text=True)
    assert title in page and "2026-03-08" not in page and "Ola fell" not in page
