"""Forms without a UUID, sent twice (a double tap, a form sent again when the answer was lost): saved once.

Found by the breaker: a meeting, a morning meeting, an agenda item, an AMU meeting, a course type, an equipment
item and a checklist copy were each saved twice. The rule: the same form by the same person within a minute
(db.REPLAY_SECONDS) is the record saved, and a course type or equipment item with the very same names is that
one. Two sent at the same moment are serialized under the site's or the organization's row (db.locked).
"""
import threading
from datetime import datetime, timedelta

import pytest

from fieldapp import db
from fieldapp.models import (AgendaItem, AmuMember, ChecklistTemplate, CourseType, Equipment, Meeting,
                             MeetingAttendance)
from fieldapp.rounds import service as rounds

NOW = datetime(2026, 3, 10, 9, 0)  # naive UTC; 10:00 in Oslo


@pytest.fixture(autouse=True)
def frozen(frozen_clock, world):
    frozen_clock(NOW)


def twice(client, path, data=None):
    answers = [client.post(path, data=data or {}) for _twice in range(2)]
    assert [a.status_code for a in answers] == [303, 303], [a.get_data(as_text=True)[:300] for a in answers]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]  # both lead to the one saved
    return answers[0]


def test_a_meeting_and_its_agenda_item_sent_twice_are_saved_once(as_role, world, frozen_clock):
    foreman = as_role("foreman")
    twice(foreman, f"/s/{world.site.id}/meetings/new", {"kind": "hms", "held_on": "2026-03-12"})
    meetings = Meeting.select().where(Meeting.kind == "hms")
    assert meetings.count() == 1
    meeting = meetings.get()
    items = AgendaItem.select().where(AgendaItem.meeting == meeting)
    before = items.count()
    twice(foreman, f"/s/{world.site.id}/meetings/{meeting.id}/items", {"title": "Støv i kjelleren"})
    assert items.count() == before + 1
    # Later, a meeting for the same day made on purpose is a second meeting; another item is another item.
    frozen_clock(NOW + timedelta(seconds=db.REPLAY_SECONDS + 1))
    assert foreman.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": "2026-03-12"}
                        ).status_code == 303
    assert Meeting.select().where(Meeting.kind == "hms").count() == 2
    foreman.post(f"/s/{world.site.id}/meetings/{meeting.id}/items", data={"title": "Støy ved sagen"})
    assert items.count() == before + 2


def test_a_morning_meeting_sent_twice_is_saved_once_and_another_note_is_another(as_role, world):
    foreman = as_role("foreman")
    form = {"held_on": "2026-03-10", "topics": ["lifting", "weather"], "note": "Vind"}
    twice(foreman, f"/s/{world.site.id}/meetings/morning", form)
    assert Meeting.select().where(Meeting.kind == "morning").count() == 1
    assert foreman.post(f"/s/{world.site.id}/meetings/morning", data={**form, "note": "Vind, og glatt"}
                        ).status_code == 303
    assert Meeting.select().where(Meeting.kind == "morning").count() == 2


def test_an_amu_meeting_sent_twice_is_saved_once(as_role, world):
    AmuMember.create(organization=world.org, user=world.people["manager"], side="employer")
    twice(as_role("manager"), "/amu/new", {"held_on": "2026-03-12"})
    assert Meeting.select().where(Meeting.kind == "amu").count() == 1


def test_a_course_type_and_an_equipment_item_sent_twice_are_saved_once(as_role, world):
    manager = as_role("manager")
    course = {"name_nb": "Dobbelkurs", "validity_months": "12"}
    for _twice in range(2):
        assert manager.post(f"/s/{world.site.id}/competence/course-types", data=course).status_code == 303
    assert CourseType.select().where(CourseType.organization == world.org).count() == 1
    for _twice in range(2):
        assert manager.post(f"/s/{world.site.id}/equipment", data={"name_nb": "Dobbelutstyr"}).status_code == 303
    assert Equipment.select().where(Equipment.organization == world.org).count() == 1
    # Other names are another course type.
    assert manager.post(f"/s/{world.site.id}/competence/course-types",
                        data={"name_nb": "Dobbelkurs 2", "validity_months": "12"}).status_code == 303
    assert CourseType.select().where(CourseType.organization == world.org).count() == 2


def test_a_checklist_copied_twice_is_one_copy(app, as_role, world):
    with app.app_context():
        builtin = rounds.builtin_template()
    manager = as_role("manager")
    twice(manager, f"/s/{world.site.id}/checklists/{builtin.id}/copy")
    assert ChecklistTemplate.select().where(ChecklistTemplate.organization == world.org).count() == 1


def test_two_copies_of_one_form_sent_at_the_same_moment_make_one_meeting(as_role, world):
    foreman = as_role("foreman")
    path, statuses = f"/s/{world.site.id}/meetings/new", []
    clients = [foreman, as_role("foreman")]  # two connections of the same person (two taps, two tabs)

    def send(client):
        statuses.append(client.post(path, data={"kind": "hms", "held_on": "2026-03-12"}).status_code)
    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [303, 303]
    assert Meeting.select().where(Meeting.kind == "hms").count() == 1


# --- the second breaker's finds -------------------------------------------------------------------------------

def test_attendance_sent_at_once_or_by_a_typed_name_twice_is_one_line(as_role, world):
    """Three posts of the same person at once made two attendance rows (the check ran before the meeting's
    lock); a typed name was listed as often as it was sent; a morning meeting with people=4&people=4 listed
    the person twice."""
    foreman = as_role("foreman")
    twice(foreman, f"/s/{world.site.id}/meetings/new", {"kind": "hms", "held_on": "2026-03-12"})
    meeting = Meeting.get(Meeting.kind == "hms")
    path = f"/s/{world.site.id}/meetings/{meeting.id}/attendance"
    statuses = []
    clients = [foreman, as_role("foreman"), as_role("foreman")]

    def send(client, data):
        statuses.append(client.post(path, data=data).status_code)
    for data in ({"user": world.people["worker"].id, "side": "workers"}, {"name": "Ekstern Konsulent",
                                                                         "side": "employer"}):
        statuses.clear()
        threads = [threading.Thread(target=send, args=(c, data)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(statuses) == [303, 409, 409], statuses
    assert foreman.post(path, data={"name": "ekstern konsulent", "side": "employer"}).status_code == 409
    assert MeetingAttendance.select().where(MeetingAttendance.meeting == meeting).count() == 2
    worker = world.people["worker"].id
    twice(foreman, f"/s/{world.site.id}/meetings/morning", {"held_on": "2026-03-10", "people": [worker, worker],
                                                           "topics": ["weather"], "note": "Vind"})
    morning = Meeting.get(Meeting.kind == "morning")
    there = [a.user_id for a in MeetingAttendance.select().where(MeetingAttendance.meeting == morning)]
    assert sorted(there) == sorted([world.people["foreman"].id, worker])  # the one who held it, and the worker once


def test_a_different_form_within_the_minute_is_a_second_record(app, as_role, world, frozen_clock):
    """The replay window swallowed forms that were not the same: an extra meeting beside an ordinary one, a
    morning meeting A sent again after B (only the newest was compared), the same agenda title from another
    person (or from anyone, at any time, after the last item), and a copy of a fresh copy."""
    foreman, manager = as_role("foreman"), as_role("manager")
    site = world.site.id
    twice(foreman, f"/s/{site}/meetings/new", {"kind": "hms", "held_on": "2026-03-12"})
    extra = foreman.post(f"/s/{site}/meetings/new", data={"kind": "hms", "held_on": "2026-03-12", "extra": "1"})
    assert extra.status_code == 303 and Meeting.select().where(Meeting.kind == "hms").count() == 2
    a = {"held_on": "2026-03-10", "people": [world.people["worker"].id], "topics": ["weather"], "note": "A"}
    b = {**a, "topics": ["lifting"]}
    for form in (a, b, a):
        assert foreman.post(f"/s/{site}/meetings/morning", data=form).status_code == 303
    assert Meeting.select().where(Meeting.kind == "morning").count() == 2
    meeting = Meeting.select().where(Meeting.kind == "hms").order_by(Meeting.id).first()
    items = AgendaItem.select().where((AgendaItem.meeting == meeting) & (AgendaItem.title == "Kranløft"))
    twice(foreman, f"/s/{site}/meetings/{meeting.id}/items", {"title": "Kranløft"})
    assert manager.post(f"/s/{site}/meetings/{meeting.id}/items", data={"title": "Kranløft"}).status_code == 303
    assert items.count() == 2  # the foreman's once, and the manager's
    frozen_clock(NOW + timedelta(seconds=db.REPLAY_SECONDS + 1))
    assert foreman.post(f"/s/{site}/meetings/{meeting.id}/items", data={"title": "Kranløft"}).status_code == 303
    assert items.count() == 3
    with app.app_context():
        builtin = rounds.builtin_template()
    first = twice(manager, f"/s/{site}/checklists/{builtin.id}/copy").headers["Location"]
    copy_id = int(first.split("/checklists/")[1].split("/")[0])
    again = manager.post(f"/s/{site}/checklists/{copy_id}/copy")
    assert again.status_code == 303 and again.headers["Location"] != first
    assert ChecklistTemplate.select().where(ChecklistTemplate.organization == world.org).count() == 2
