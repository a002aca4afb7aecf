"""Every periodic task is harmless when it runs twice (issue 23): two consumers started without -n, a retry,
or a run that overlaps the next. Run twice in a row, a second run adds nothing; run by two threads at once
(on PostgreSQL with `--database=postgres`), nobody gets a notice, escalation, reminder, push message, anchor or
backup twice.

The tasks are taken from huey's registry, so a periodic task added later is run here too.
"""
import json
import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from fieldapp import audit_tasks, backup, backup_tasks, clock  # noqa: F401  (they register their tasks)
from fieldapp.accounts import tasks as accounts_tasks  # noqa: F401
from fieldapp.alerts import service as alerts
from fieldapp.alerts import tasks as alerts_tasks  # noqa: F401
from fieldapp.checkin import tasks as checkin_tasks  # noqa: F401
from fieldapp.competence import tasks as competence_tasks  # noqa: F401
from fieldapp.db import database, is_sqlite
from fieldapp.duties import tasks as duties_tasks  # noqa: F401
from fieldapp.meetings import tasks as meetings_tasks  # noqa: F401
from fieldapp.models import (ALL_MODELS, Alert, AlertRecipient, AuditEvent, CheckIn, Inspection, InspectionOrder,
                             MeetingSchedule,
                             TrainingRecord, VerneombudTerm, utcnow)
from fieldapp.queue import huey
from fieldapp.rounds import tasks as rounds_tasks  # noqa: F401
from fieldapp.stats import tasks as stats_tasks  # noqa: F401
from helpers import subscribe


def periodic_tasks():
    """The registered periodic tasks; the audit anchor last, so that it anchors what the others recorded."""
    return sorted(huey._registry._periodic_tasks, key=lambda t: (t.__name__ == "anchor_audit_head", t.__name__))


def run_all(app):
    """Every periodic task once, as a consumer would (inside the task context), in this thread."""
    results = {}
    with app.app_context():
        for task_class in periodic_tasks():
            results[task_class.__name__] = task_class().execute()
    return results


@pytest.fixture
def busy_site(app, world, as_role, push_service):
    """Something for every periodic task to do: an unacknowledged stop-work order past its deadline, phones
    with push, a certificate expiring, a verneombud term ending, an order due, a check-in left open yesterday,
    no walkaround and no meeting yet, audit events to anchor, and a backup due this hour."""
    for role in ("worker", "foreman", "verneombud", "manager"):
        subscribe(as_role(role), push_service, role)
    today = clock.today(world.site)
    with app.app_context():
        alert, _ = alerts.create(world.people["verneombud"], world.site, uuid.uuid4(), dict(
            template="stop_work", level="stop_work", title="", body="", area="Crane", audience="all",
            ack_required=True, ack_minutes=10))
        Alert.update(ack_deadline=utcnow() - timedelta(minutes=1)).where(Alert.id == alert.id).execute()
        TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=world.people["worker"],
                              course="hot_work", taken_on=today - timedelta(days=700),
                              expires_on=today + timedelta(days=20), status="approved")
        VerneombudTerm.create(organization=world.org, user=world.people["verneombud"], site=world.site,
                              role="verneombud", elected_from=today - timedelta(days=700),
                              elected_to=today + timedelta(days=30), how="election")
        inspection = Inspection.create(site=world.site, held_on=today - timedelta(days=20), reference="2026/1")
        InspectionOrder.create(inspection=inspection, text="Guard rails", deadline=today + timedelta(days=3))
        # A schedule of the site's own, no meeting yet: the first is due (no schedule: no date, no reminder).
        MeetingSchedule.create(organization=world.org, site=world.site, kind="hms", interval_days=28)
        CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["worker"],
                       checked_in_at=utcnow() - timedelta(days=1, hours=2), name="Worker Person")
    app.config["BACKUP_HOUR"] = backup.now_hour()
    app.config["BACKUP_DIR"] = str(app.instance_path) + "/backups-test"
    push_service.received.clear()  # the alert's first sending; what follows is the tasks' doing
    return alert


def state(app, push_service):
    """Rows per table, anchors written, backups made, push messages accepted."""
    with app.app_context(), database.connection_context():
        rows = {model._meta.table_name: model.select().count() for model in ALL_MODELS}
        anchors_path = app.config["AUDIT_ANCHOR_DIR"] + "/anchors.jsonl"
        try:
            anchors = [json.loads(line) for line in open(anchors_path)]
        except FileNotFoundError:
            anchors = []
        folder = backup.folder(app)
        backups = sorted(p.name for p in folder.glob("*.tar")) if folder.exists() else []
    with push_service.lock:
        pushed = Counter((m["device"], m["payload"]["alert"]) for m in push_service.received)
    return {"rows": rows, "anchors": len(anchors), "anchor_heads": Counter(a["head_hash"] for a in anchors),
            "backups": backups, "pushed": pushed}


def duplicated_notices():
    """(user, what the notice says) that one person got more than once."""
    seen = Counter((r.user_id, r.alert.template, r.alert.title, r.alert.body, r.alert.area, r.alert.level)
                   for r in AlertRecipient.select(AlertRecipient, Alert).join(Alert))
    return {key: n for key, n in seen.items() if n > 1}


def test_every_periodic_task_run_twice_in_a_row_does_nothing_the_second_time(app, busy_site, push_service):
    before = state(app, push_service)
    first = run_all(app)
    once = state(app, push_service)
    # The first run did each kind of work (else this test would prove nothing).
    assert first["escalate_alerts"], first
    assert first["send_expiry_reminders"] and first["remind_terms_ending"]["terms"] == 1
    assert first["remind_orders_due"]["orders"] == 1 and first["remind_due_rounds"] >= 1
    assert first["remind_due_meetings"] >= 1 and first["close_open_check_ins"]
    assert once["rows"]["alert"] > before["rows"]["alert"]
    assert once["anchors"] == before["anchors"] + 1
    assert len(once["backups"]) == (1 if is_sqlite() else 0)  # PostgreSQL: pg_dump, not the worker
    assert sum(once["pushed"].values()) > 0
    second = run_all(app)
    again = state(app, push_service)
    assert again == once, {k: (once[k], again[k]) for k in once if once[k] != again[k]}
    assert not second["escalate_alerts"] and second["daily_backup"] is None
    with app.app_context(), database.connection_context():
        assert duplicated_notices() == {}
        assert AuditEvent.select().where(AuditEvent.action == "alert.escalate").count() == 1
    assert max(again["pushed"].values()) == 1  # one message per phone and alert


def test_every_periodic_task_run_by_two_nodes_at_once_does_each_thing_once(app, busy_site, push_service):
    errors = []
    barrier = threading.Barrier(2)

    def node():
        try:
            barrier.wait(timeout=30)
            run_all(app)
        except Exception as exc:  # noqa: BLE001 - reported below with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=node) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads) and errors == []
    both = state(app, push_service)
    with app.app_context(), database.connection_context():
        assert duplicated_notices() == {}
        assert AuditEvent.select().where(AuditEvent.action == "alert.escalate").count() == 1
    assert both["pushed"] and max(both["pushed"].values()) == 1, both["pushed"]
    assert len(both["backups"]) <= 1
    assert max(both["anchor_heads"].values()) == 1  # never the same head anchored twice
    # And a third run finds nothing left to do.
    run_all(app)
    assert state(app, push_service) == both
