"""Expiry reminders (issue 19): 90, 30 and 0 days before and once after, each step once, in each reader's language."""
import uuid
from datetime import date, datetime, time, timedelta, timezone

from fieldapp import clock
from fieldapp.competence import reminders
from fieldapp.competence.tasks import send_expiry_reminders
from fieldapp.models import Alert, AlertRecipient, CompetenceReminder, TrainingRecord, User

START = date(2026, 1, 1)


def record(person, course, expires_on, status="approved"):
    return TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=person, course=course,
                                 status=status, taken_on=date(2020, 1, 1), expires_on=expires_on)


def test_each_step_is_sent_once_over_100_days(app, world, frozen_clock):
    people = world.people
    User.update(language="en").where(User.id == people["manager"].id).execute()
    first_aid = record(people["worker"], "first_aid", date(2026, 3, 1))  # 59 days ahead on the first day
    hot_work = record(people["foreman"], "hot_work", date(2026, 5, 1))  # 120 days ahead
    old_truck = record(people["worker"], "truck", date(2026, 2, 1))
    record(people["worker"], "truck", None)  # renewed without expiry: the old one is never reminded of
    record(people["verneombud"], "road_work", date(2026, 2, 1), status="pending")  # not approved: nothing
    sent_on = {}
    with app.app_context():
        for day in range(100):
            today = START + timedelta(days=day)
            # 06:15 in Oslo, when the periodic task runs; twice, as a retry or a second consumer would.
            frozen_clock(clock.at(today, time(6, 15), world.site))
            for _run in range(2):
                reminders.run()
            for row in CompetenceReminder.select().where(CompetenceReminder.sent_at == clock.utcnow()):
                sent_on.setdefault((row.record_id, row.step), []).append(today)
    assert sent_on == {
        (first_aid.id, "90"): [date(2026, 1, 1)],
        (first_aid.id, "30"): [date(2026, 1, 30)],
        (first_aid.id, "0"): [date(2026, 3, 1)],
        (first_aid.id, "after"): [date(2026, 3, 2)],
        (hot_work.id, "90"): [date(2026, 1, 31)],
        (hot_work.id, "30"): [date(2026, 4, 1)],
    }
    assert not CompetenceReminder.select().where(CompetenceReminder.record == old_truck.id).exists()
    # The worker, the foreman and the manager for each of the worker's steps; the foreman (the person) and the
    # manager for the foreman's.
    copies = {}
    for copy in AlertRecipient.select(AlertRecipient, Alert).join(Alert):
        copies.setdefault(copy.user_id, []).append(copy.alert)
    assert len(copies[people["worker"].id]) == 4
    assert len(copies[people["foreman"].id]) == 4 + 2
    assert len(copies[people["manager"].id]) == 4 + 2
    assert people["verneombud"].id not in copies
    worker_titles = sorted(a.title for a in copies[people["worker"].id])
    assert worker_titles == sorted(["Kursbevis går snart ut", "Kursbevis går snart ut", "Kursbevis går ut i dag",
                                    "Kursbevis har gått ut"])
    manager_texts = [a.body for a in copies[people["manager"].id]]
    assert "Worker Person: First aid expires in 30 days (30 Jan 2026)." not in manager_texts  # 30 days before 1 Mar
    assert "Worker Person: First aid expires in 30 days (1 Mar 2026)." in manager_texts
    assert any(text.startswith("Foreman Person: Hot work certificate expires in 90 days") for text in manager_texts)


def test_a_corrected_expiry_starts_the_steps_again(app, world, frozen_clock):
    row = record(world.people["worker"], "first_aid", date(2026, 1, 10))
    with app.app_context():
        frozen_clock(datetime(2026, 1, 1, 6, 0, tzinfo=timezone.utc))
        assert reminders.run()["sent"] == 1  # "30"
        assert reminders.run()["sent"] == 0
        TrainingRecord.update(expires_on=date(2026, 1, 20)).where(TrainingRecord.id == row.id).execute()
        assert reminders.run()["sent"] == 1  # "30" for the new expiry
    assert sorted((r.step, r.expires_on) for r in CompetenceReminder.select()) == [
        ("30", date(2026, 1, 10)), ("30", date(2026, 1, 20))]


def test_the_periodic_task_runs_the_reminders(app, world, frozen_clock):
    record(world.people["worker"], "first_aid", date(2026, 1, 1))
    frozen_clock(datetime(2026, 1, 1, 6, 0, tzinfo=timezone.utc))
    with app.app_context():
        result = send_expiry_reminders.call_local()
    assert result == {"sent": 1, "alerts": 3, "failed": 0}
    assert CompetenceReminder.get().step == "0"
