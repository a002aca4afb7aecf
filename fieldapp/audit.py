"""The append-only audit log: who did what to which record, each row chained to the one before."""
import hashlib
import json

from peewee import IntegrityError

from .db import database, is_sqlite
from .models import AuditEvent, utcnow

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x48_4D_53_41  # "HMSA": any constant shared by every app process


def snapshot(record, fields):
    """The named fields of a record as JSON-ready values (dates as ISO text, foreign keys as ids)."""
    out = {}
    for name in fields:
        field = record._meta.fields[name]
        value = record.__data__.get(field.name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _digest(prev_hash, at, actor_id, action, record_type, record_id, before, after):
    payload = json.dumps(
        [prev_hash, at.isoformat(), actor_id, action, record_type, str(record_id), before, after],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(actor, action, record_type, record_id, before=None, after=None):
    """Append one event. Call inside the transaction that makes the change it describes."""
    before_json = None if before is None else json.dumps(before, sort_keys=True, ensure_ascii=False)
    after_json = None if after is None else json.dumps(after, sort_keys=True, ensure_ascii=False)
    actor_id = actor.id if actor is not None else None
    for _attempt in range(5):
        try:
            # A savepoint: losing the race for this head must not roll back the caller's change.
            with database.atomic():
                _lock_the_chain()
                head = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
                prev_hash = head.hash if head else GENESIS
                at = utcnow()
                digest = _digest(prev_hash, at, actor_id, action, record_type, record_id,
                                 before_json, after_json)
                return AuditEvent.create(
                    at=at, actor=actor_id, action=action, record_type=record_type,
                    record_id=str(record_id), before=before_json, after=after_json,
                    prev_hash=prev_hash, hash=digest,
                )
        except IntegrityError:
            continue  # another writer appended first: chain onto its row
    raise RuntimeError("could not append to the audit log")


def _lock_the_chain():
    """Appends take turns until their transaction ends.

    SQLite transactions here begin IMMEDIATE, which already serializes writers. On PostgreSQL,
    without a lock, eight concurrent writers kept losing the race for the head to each other.
    """
    if not is_sqlite():
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK_KEY,))


def verify_chain():
    """Walk the log in order. Returns (number of events, id of the first broken event or None)."""
    prev_hash = GENESIS
    count = 0
    query = AuditEvent.select().order_by(AuditEvent.id)
    for event in query.iterator():
        count += 1
        expected = _digest(
            prev_hash, event.at, event.actor_id, event.action, event.record_type,
            event.record_id, event.before, event.after,
        )
        if event.prev_hash != prev_hash or event.hash != expected:
            return count, event.id
        prev_hash = event.hash
    return count, None
