"""The audit log: append-only in the database, each row chained to the one before."""

import pytest
from helpers import drop_append_only_guard, make_events
from peewee import DatabaseError, IntegrityError

from fieldapp import audit
from fieldapp.db import database
from fieldapp.models import AuditEvent


def test_chain_verifies(db):
    make_events(5)
    assert audit.verify_chain() == (5, None)
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    assert events[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))


def test_database_refuses_to_change_or_delete_events(db):
    make_events(2)
    with pytest.raises(DatabaseError, match="append-only"):
        with database.atomic():
            AuditEvent.update(action="tampered").execute()
    with pytest.raises(DatabaseError, match="append-only"):
        with database.atomic():
            AuditEvent.delete().execute()
    assert AuditEvent.select().count() == 2


def test_verify_finds_a_tampered_row(db):
    make_events(4)
    # Someone with the database file drops the trigger and edits history.
    drop_append_only_guard()
    third = AuditEvent.select().order_by(AuditEvent.id).offset(2).first()
    AuditEvent.update(after='{"n": 99}').where(AuditEvent.id == third.id).execute()
    count, broken = audit.verify_chain()
    assert broken == third.id


def test_two_writers_on_the_same_head_do_not_fork_the_chain(db):
    make_events(1)
    head = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    # A second writer that read the same head cannot append onto it: prev_hash is unique.
    # IntegrityError naming prev_hash: any other failure (a missing field) would not prove the point.
    with pytest.raises(IntegrityError, match="prev_hash"):
        with database.atomic():
            AuditEvent.create(action="x", record_type="t", record_id="1", prev_hash=head.prev_hash, hash="f" * 64)
    # record() itself re-reads the head and chains on.
    audit.record(None, "test.event", "thing", 2)
    assert audit.verify_chain() == (2, None)


def test_verify_audit_command(app, db):
    make_events(3)
    assert app.test_cli_runner().invoke(args=["audit-anchor"]).exit_code == 0
    result = app.test_cli_runner().invoke(args=["verify-audit"])
    assert result.exit_code == 0 and "intact: 3 events" in result.output
    drop_append_only_guard()
    AuditEvent.delete().where(AuditEvent.id == 2).execute()
    result = app.test_cli_runner().invoke(args=["verify-audit"])
    assert result.exit_code != 0 and "broken at event 3" in result.output


def test_changes_to_people_roles_and_sites_are_audited(as_role, world):
    manager = as_role("manager")
    manager.post("/sites/new", data={"name": "Z", "address": "Z-veien 1"})
    worker = world.people["worker"]
    manager.post(f"/s/{world.site.id}/people/{worker.id}/role", data={"role": "verneombud"})
    manager.post(f"/s/{world.site.id}/people/new", data={
        "name": "Ny", "phone": "45000002", "role": "worker", "employer": str(world.org.id), "language": "nb"})
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    for expected in ("site.create", "membership.create", "membership.role", "user.create",
                     "user.enrollment_code"):
        assert expected in actions
    assert audit.verify_chain()[1] is None


def test_concurrent_writers_keep_one_unbroken_chain(app, db):
    """Eight threads append at once (on PostgreSQL truly in parallel): every event lands, the chain holds."""
    import threading

    errors = []

    def writer(n):
        try:
            with database.connection_context():
                for i in range(10):
                    with database.atomic():
                        audit.record(None, "test.concurrent", "thing", f"{n}-{i}")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert audit.verify_chain() == (80, None)
