"""Review: several web nodes (issue 23) append to one audit chain on PostgreSQL. Two connections stand for two
nodes: each appends inside its own transaction, as a request does. The append is serialized on the chain head
(pg_advisory_xact_lock in the same transaction, fieldapp/audit.py; SQLite: BEGIN IMMEDIATE), and prev_hash is
unique, so the second writer waits for the first to commit or roll back and then chains onto the head that
was really committed: no fork, no break, nothing lost. Run with --database=postgres as well."""
import threading
import time

import pytest
from helpers import make_events

from fieldapp import audit
from fieldapp.db import database, is_sqlite
from fieldapp.models import AuditEvent

WAIT = 10  # seconds: every wait here is bounded


class Node(threading.Thread):
    """One node's request: its own connection and transaction; appends, then waits to be told to end."""

    def __init__(self, name, hold=None, roll_back=False):
        super().__init__(name=name, daemon=True)
        self.hold, self.roll_back = hold, roll_back
        self.appended, self.done = threading.Event(), threading.Event()
        self.event_hash, self.error = None, None

    def run(self):
        try:
            with database.connection_context():
                try:
                    with database.atomic():
                        event = audit.record(None, "test.node", "thing", self.name)
                        self.event_hash = event.hash
                        self.appended.set()
                        if self.hold is not None:
                            assert self.hold.wait(WAIT)
                        if self.roll_back:
                            raise _RolledBack
                except _RolledBack:
                    pass
        except Exception as exc:  # asserted by the test
            self.error = exc
        finally:
            self.appended.set()
            self.done.set()


class _RolledBack(Exception):
    pass


def _waiting_on_advisory_lock():
    """PostgreSQL: how many other sessions wait for an advisory lock (the chain head's)."""
    return database.execute_sql(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' "
        "AND pid <> pg_backend_pid()").fetchone()[0]


@pytest.mark.parametrize("first_rolls_back", [False, True])
def test_second_node_waits_for_the_first_and_chains_onto_what_was_committed(db, first_rolls_back):
    make_events(1)
    before = AuditEvent.select().order_by(AuditEvent.id.desc()).first().hash
    release = threading.Event()
    first = Node("first", hold=release, roll_back=first_rolls_back)
    first.start()
    assert first.appended.wait(WAIT) and first.error is None
    second = Node("second")
    second.start()
    time.sleep(0.5)
    # The second node cannot append while the first one's transaction is open.
    assert not second.done.is_set()
    if not is_sqlite():
        with database.connection_context():
            assert _waiting_on_advisory_lock() == 1  # waiting on the chain head's lock, not on a row
    release.set()
    first.join(WAIT)
    second.join(WAIT)
    assert first.error is None and second.error is None
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    assert len(events) == (2 if first_rolls_back else 3)
    assert events[-1].hash == second.event_hash
    assert events[-1].prev_hash == (before if first_rolls_back else first.event_hash)
    assert audit.verify_chain() == (len(events), None)


def test_two_nodes_appending_at_once_keep_one_chain(db):
    """Two connections, started together by a barrier, append 25 events each in their own transactions."""
    barrier = threading.Barrier(2, timeout=WAIT)
    errors = []

    def node(n):
        try:
            with database.connection_context():
                barrier.wait()
                for i in range(25):
                    with database.atomic():
                        audit.record(None, "test.node", "thing", f"{n}-{i}")
        except Exception as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(n,), daemon=True) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    events = list(AuditEvent.select(AuditEvent.record_id, AuditEvent.prev_hash, AuditEvent.hash)
                  .order_by(AuditEvent.id))
    assert sorted(e.record_id for e in events) == sorted(f"{n}-{i}" for n in range(2) for i in range(25))
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    assert audit.verify_chain() == (50, None)
