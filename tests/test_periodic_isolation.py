"""Periodic runs over sites and people: one site's unexpected error is logged, the other sites are still done,
and nothing is done twice when the broken site is fixed and the run comes again (fieldapp/isolate.py).

The injected fault is a real one: site A's time zone is a name no zone database knows, so everything that asks
for site A's day raises (ZoneInfoNotFoundError).
"""
import logging
import uuid
from datetime import date, datetime, timedelta

import pytest

from fieldapp.alerts import delivery
from fieldapp.checkin import service as checkin
from fieldapp.competence import reminders as competence
from fieldapp.duties import reminders as duties
from fieldapp.meetings import service as meetings
from fieldapp.models import (Alert, AlertRecipient, CheckIn, CompetenceReminder, HoursDay, HoursDirty, MeetingSchedule,
                             Site, TrainingRecord, VerneombudTerm, utcnow)
from fieldapp.rounds import service as rounds
from fieldapp.stats import hours

NOW = datetime(2026, 11, 30, 7, 0)  # UTC: 08:00 in Oslo


@pytest.fixture
def broken(world, caplog):
    """break_() gives site A an unknown time zone, fix() mends it; logged() lists the run's logged failures."""
    caplog.set_level(logging.ERROR, logger="fieldapp.periodic")

    class Broken:
        @staticmethod
        def break_():
            Site.update(time_zone="Mars/Olympus_Mons").where(Site.id == world.site.id).execute()

        @staticmethod
        def fix():
            Site.update(time_zone=None).where(Site.id == world.site.id).execute()

        @staticmethod
        def logged():
            return [r.getMessage() for r in caplog.records if r.name == "fieldapp.periodic"]

    return Broken


def alerts_on(site):
    return Alert.select().where(Alert.site == site.id).count()


def test_competence_reminders_go_on_past_a_broken_site(app, world, frozen_clock, broken):
    frozen_clock(NOW)
    for person in (world.people["worker"], world.outsider):  # on site A and on site B
        TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=person, course="first_aid",
                              status="approved", taken_on=date(2020, 1, 1), expires_on=date(2026, 12, 10))
    broken.break_()
    with app.app_context():
        first = competence.run()
        assert first["sent"] == 1 and first["failed"] == 1
        assert [r.record.user_id for r in CompetenceReminder.select()] == [world.outsider.id]
        assert any("competence reminders" in m for m in broken.logged())
        broken.fix()
        second = competence.run()
        assert second["sent"] == 1 and second["failed"] == 0
        assert competence.run()["sent"] == 0
    assert CompetenceReminder.select().count() == 2  # each step once
    assert AlertRecipient.select().where(AlertRecipient.user == world.outsider).count() == 1


def test_a_failing_reminder_step_is_rolled_back_and_the_others_sent(app, world, frozen_clock, monkeypatch, broken):
    """A fault after the step is recorded (in its wording) leaves neither the step nor half its alerts."""
    frozen_clock(NOW)
    for person in (world.people["worker"], world.people["foreman"]):
        TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=person, course="first_aid",
                              status="approved", taken_on=date(2020, 1, 1), expires_on=date(2026, 12, 10))
    wording = competence._wording

    def fails_for_the_worker(reader, person, *args):
        if person.id == world.people["worker"].id and reader.id != person.id:
            raise RuntimeError("injected")
        return wording(reader, person, *args)

    monkeypatch.setattr(competence, "_wording", fails_for_the_worker)
    with app.app_context():
        assert competence.run()["failed"] == 1
    assert [r.record.user_id for r in CompetenceReminder.select()] == [world.people["foreman"].id]
    about_worker = Alert.select().where(Alert.body.contains("Worker Person")).count()
    assert about_worker == 0  # not the worker's own copy either: the whole step was rolled back


def test_meeting_reminders_go_on_past_a_broken_site(app, world, frozen_clock, broken):
    frozen_clock(NOW)
    for site in (world.site, world.other_site):  # a schedule each, no meeting yet: the first is due
        MeetingSchedule.create(organization=world.org, site=site, kind="hms", interval_days=28)
    broken.break_()
    with app.app_context():
        assert meetings.remind_due() >= 1
        assert alerts_on(world.site) == 0 and alerts_on(world.other_site) >= 1
        assert any("meeting reminders" in m for m in broken.logged())
        before = Alert.select().count()
        broken.fix()
        assert meetings.remind_due() >= 1
        assert alerts_on(world.site) >= 1
        after = Alert.select().count()
        assert meetings.remind_due() == 0 and Alert.select().count() == after > before


def test_round_reminders_go_on_past_a_broken_site(app, world, frozen_clock, broken):
    frozen_clock(NOW)
    # A site with no walkaround yet is due from the day it was made: made before NOW, whatever today's date.
    Site.update(created_at=NOW - timedelta(days=30)).execute()
    broken.break_()
    with app.test_request_context():
        assert rounds.remind_due() == 1  # site B only
        assert alerts_on(world.site) == 0 and alerts_on(world.other_site) == 1
        broken.fix()
        assert rounds.remind_due() == 1  # site A now
        assert rounds.remind_due() == 0
    assert alerts_on(world.site) == 1 and alerts_on(world.other_site) == 1
    assert any("round reminders" in m for m in broken.logged())


def test_closing_check_ins_goes_on_past_a_broken_site(app, world, frozen_clock, broken):
    frozen_clock(NOW)
    yesterday = NOW - timedelta(days=1)
    rows = [CheckIn.create(uuid=uuid.uuid4(), site=site, user=None, name="Visitor", checked_in_at=yesterday)
            for site in (world.site, world.other_site)]
    broken.break_()
    with app.app_context():
        assert checkin.close_open_check_ins() == 1
        assert CheckIn.get_by_id(rows[0].id).checked_out_at is None
        assert CheckIn.get_by_id(rows[1].id).auto_closed
        broken.fix()
        assert checkin.close_open_check_ins() == 1
        assert checkin.close_open_check_ins() == 0
    assert CheckIn.get_by_id(rows[0].id).auto_closed
    assert any("closing check-ins" in m for m in broken.logged())


def test_the_hours_refresh_goes_on_past_a_broken_site_and_keeps_its_marks(app, world, frozen_clock, broken):
    frozen_clock(NOW)
    start = NOW - timedelta(days=1)
    for site in (world.site, world.other_site):
        CheckIn.create(uuid=uuid.uuid4(), site=site, user=None, name="Visitor", checked_in_at=start,
                       checked_out_at=start + timedelta(hours=8))
    broken.break_()
    with app.app_context():
        hours.refresh(list(Site.select()))
        assert HoursDay.select().where(HoursDay.site == world.other_site.id).count() >= 1
        assert HoursDay.select().where(HoursDay.site == world.site.id).count() == 0
        assert HoursDirty.select().where(HoursDirty.site_id == world.site.id).count() >= 1  # kept for next time
        broken.fix()
        hours.refresh(list(Site.select()))
    assert HoursDay.select().where(HoursDay.site == world.site.id).count() >= 1
    assert HoursDirty.select().count() == 0
    assert any("hours refresh" in m for m in broken.logged())


def test_term_reminders_go_on_past_one_that_fails(app, world, frozen_clock, monkeypatch, broken):
    frozen_clock(NOW)
    terms = [VerneombudTerm.create(organization=world.org, user=user, site=site, role="verneombud",
                                   elected_from=date(2024, 12, 31), elected_to=date(2026, 12, 30), how="election")
             for user, site in ((world.people["verneombud"], world.site), (world.outsider, world.other_site))]
    wording = duties._wording

    def fails_for_site_a(reader, term):
        if term.site_id == world.site.id:
            raise RuntimeError("injected")
        return wording(reader, term)

    monkeypatch.setattr(duties, "_wording", fails_for_site_a)
    with app.app_context():
        assert duties.run() == {"terms": 1, "alerts": 1, "failed": 1}
        assert VerneombudTerm.get_by_id(terms[0].id).reminded_at is None  # rolled back: tried again next time
        monkeypatch.setattr(duties, "_wording", wording)
        assert duties.run()["terms"] == 1
        assert duties.run()["terms"] == 0
    assert alerts_on(world.other_site) == 1


def test_escalation_goes_on_past_an_alert_that_fails(app, world, frozen_clock, monkeypatch, broken):
    frozen_clock(NOW)
    made = []
    for site, foreman in ((world.site, world.people["foreman"]), (world.other_site, world.outsider)):
        alert = Alert.create(uuid=uuid.uuid4(), site=site, level="warning", title="Crane", ack_required=True,
                             ack_deadline=utcnow() - timedelta(minutes=5), created_at=utcnow() - timedelta(hours=1))
        AlertRecipient.create(alert=alert, user=foreman, role="foreman")
        made.append(alert)
    queue = delivery.queue_deliveries

    def fails_for_the_first(alert, **kwargs):
        if alert.id == made[0].id:
            raise RuntimeError("injected")
        return queue(alert, **kwargs)

    monkeypatch.setattr(delivery, "queue_deliveries", fails_for_the_first)
    with app.app_context():
        assert [a for a, _f, _m in delivery.escalate()] == [made[1].id]
        assert Alert.get_by_id(made[0].id).escalated_at is None
        monkeypatch.setattr(delivery, "queue_deliveries", queue)
        assert [a for a, _f, _m in delivery.escalate()] == [made[0].id]
        assert delivery.escalate() == []
    assert any("escalation" in m for m in broken.logged())
