"""Fault: the minutes of a meeting listed people's certificates as expired or expiring counted from the day the
minutes were opened in the app, not from the meeting's day: minutes typed in after the meeting said a
certificate had "expired" on a date after the meeting, and a planned meeting's agenda called valid what would
have expired by the day. The minutes record a meeting: a certificate item is as of the meeting's day (only the
records taken by then), and says so."""
import io
import uuid
from datetime import date, datetime, timedelta

import pypdf
import pytest

from fieldapp.meetings import service
from fieldapp.models import AgendaItem, Meeting, Report, Sja, TrainingRecord, User

NOW = datetime(2026, 3, 10, 9, 0)  # naive UTC; 10:00 in Oslo
TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def frozen(frozen_clock, world):
    frozen_clock(NOW)
    User.update(language="en").execute()


def record(user, course, expires_on, taken_on=TODAY - timedelta(days=700)):
    return TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="8" * 64, user=user, course=course,
                                 taken_on=taken_on, expires_on=expires_on, status="approved")


def start(client, world, held_on):
    response = client.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": held_on.isoformat()})
    assert response.status_code == 303, response.get_data(as_text=True)
    return Meeting.select().order_by(Meeting.id.desc()).first()


def certificate_titles(app, meeting):
    items = list(AgendaItem.select().where((AgendaItem.meeting == meeting) & (AgendaItem.source == "certificate"))
                 .order_by(AgendaItem.position))
    with app.test_request_context():
        titles = service.item_titles(items, "en")
    return {item.record_id: titles[item.id] for item in items}


def test_minutes_typed_in_later_show_certificates_as_of_the_meeting_day(app, as_role, world):
    held = TODAY - timedelta(days=60)  # 09/01/2026
    worker, foreman = world.people["worker"], world.people["foreman"]
    then_expired = record(worker, "truck", held - timedelta(days=3))  # expired before the meeting
    record(worker, "truck", TODAY + timedelta(days=700), taken_on=TODAY - timedelta(days=20))  # renewed after it
    later = record(foreman, "scaffold_user", TODAY - timedelta(days=5))  # expired long after the meeting
    titles = certificate_titles(app, start(as_role("foreman"), world, held))
    assert later.id not in titles  # valid on the meeting day, and more than 30 days from expiring
    assert then_expired.id in titles  # the renewal came after the meeting
    assert "expired 06/01/2026" in titles[then_expired.id]
    assert "as of the meeting on 09/01/2026" in titles[then_expired.id]


def test_a_planned_meeting_lists_what_will_have_expired_by_its_day(app, as_role, world):
    held = TODAY + timedelta(days=14)
    lapsing = record(world.people["worker"], "truck", TODAY + timedelta(days=5))
    titles = certificate_titles(app, start(as_role("foreman"), world, held))
    assert "expired 15/03/2026" in titles[lapsing.id] and "as of the meeting on 24/03/2026" in titles[lapsing.id]


def test_approved_minutes_pdf_labels_the_certificates_with_the_meeting_day(app, as_role, world):
    held = TODAY - timedelta(days=2)
    record(world.people["worker"], "truck", TODAY - timedelta(days=4))
    meeting = start(as_role("foreman"), world, held)
    Meeting.update(status="approved").where(Meeting.id == meeting.id).execute()
    response = as_role("worker").get(f"/s/{world.site.id}/meetings/{meeting.id}/minutes.pdf")
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert "expired 06/03/2026" in " ".join(text.split())
    assert "as of the meeting on 08/03/2026" in " ".join(text.split())


def test_minutes_typed_in_later_list_only_what_was_there_by_the_meeting_day(app, as_role, world):
    # The same kind: the agenda's other records stop at the end of the meeting's day.
    foreman = world.people["foreman"]
    held = TODAY - timedelta(days=10)

    def report(days_ago, text):
        return Report.create(uuid=uuid.uuid4(), payload_hash=(str(days_ago) * 64)[:64], site=world.site,
                             reporter=foreman, kind="hazard", category="falls", severity="low", description=text,
                             happened_at=NOW - timedelta(days=days_ago))
    before = report(12, "Before the meeting")
    after = report(2, "After the meeting")
    sja = Sja.create(uuid=uuid.uuid4(), payload_hash="6" * 64, organization=world.org, site=world.site,
                     title="Made after the meeting", created_by=foreman, created_at=NOW - timedelta(days=1))
    meeting = start(as_role("foreman"), world, held)
    items = {(i.source, i.record_id) for i in AgendaItem.select().where(AgendaItem.meeting == meeting)}
    assert ("report", before.id) in items
    assert ("report", after.id) not in items and ("sja", sja.id) not in items
