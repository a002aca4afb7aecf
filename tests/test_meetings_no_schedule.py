"""Fault: with no meeting schedule (and no meeting held) the meetings page said "next by <today>", the home card
"Next ... by <today>", and the reminder task sent a new "due today" reminder every day. No schedule: say so,
show the manager where to set one, and invent no due date."""
from datetime import date, datetime, timedelta

import pytest

from fieldapp import clock
from fieldapp.meetings import service
from fieldapp.models import Alert, Meeting, MeetingSchedule, User

NOW = datetime(2026, 3, 10, 9, 0)  # naive UTC; 10:00 in Oslo
TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def english(world):
    User.update(language="en").execute()


def page(as_role, world, role):
    return as_role(role).get(f"/s/{world.site.id}/meetings").get_data(as_text=True)


def test_no_schedule_says_so_and_invents_no_date(as_role, world, frozen_clock):
    frozen_clock(NOW)
    with_date = "next by " + clock.format_date(TODAY, "medium")
    foreman = page(as_role, world, "foreman")
    assert with_date not in foreman
    assert "No meeting schedule is set" in foreman
    # What the new user read as a contradiction once a first meeting gave "next by" a date with no schedule set:
    # the page says beforehand that the built-in rhythm counts from the first meeting.
    assert "After the first, the next is due within 28 days unless a schedule is set." in foreman
    assert "A manager sets it in the meeting settings." in foreman
    manager = page(as_role, world, "manager")
    assert with_date not in manager
    assert f'href="/s/{world.site.id}/meetings/settings"' in manager and "Set the meeting schedule" in manager
    assert service.due_meetings(world.site, TODAY) == []
    assert "Next Site HMS meeting by" not in as_role("foreman").get("/").get_data(as_text=True)


def test_a_schedule_or_a_past_meeting_gives_the_date(as_role, world, frozen_clock):
    frozen_clock(NOW)
    MeetingSchedule.create(organization=world.org, site=world.site, kind="hms", interval_days=14)
    assert [k for k, _d, _o in service.due_meetings(world.site, TODAY)] == ["hms"]
    assert "No meeting schedule is set" not in page(as_role, world, "foreman")
    Meeting.create(organization=world.org, site=world.other_site, kind="hms", held_on=TODAY - timedelta(days=10),
                   topics=[], status="approved")
    due = service.due_meetings(world.other_site, TODAY)  # the built-in four weeks, counted from a real meeting
    assert due == [("hms", TODAY + timedelta(days=18), False)]


def test_no_daily_reminder_for_a_site_without_a_schedule(app, world, frozen_clock):
    for day in range(3):
        frozen_clock(NOW + timedelta(days=day))
        with app.app_context():
            service.remind_due()
    assert Alert.select().count() == 0


def test_a_first_meeting_on_a_new_schedule_is_reminded_once_not_every_day(app, world, frozen_clock):
    # Never held: the first is due "today" on every day until it is held; the reminder must not come anew daily.
    MeetingSchedule.create(organization=world.org, site=world.site, kind="hms", interval_days=28)
    counts = []
    for day in range(3):
        frozen_clock(NOW + timedelta(days=day))
        with app.app_context():
            counts.append(service.remind_due())
    assert counts[0] >= 1 and counts[1:] == [0, 0]
