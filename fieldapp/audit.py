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


def head():
    """The chain's newest event as (id, hash, number of events up to and including it).

    (0, GENESIS, 0) for an empty log. Counting only up to the head's id keeps the three consistent
    while other requests append (appends take turns and always get a higher id).
    """
    last = AuditEvent.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
    if last is None:
        return 0, GENESIS, 0
    return last.id, last.hash, AuditEvent.select().where(AuditEvent.id <= last.id).count()


class ChainWalk:
    """What one pass over the log found (see walk)."""

    def __init__(self):
        self.count = 0  # events in the log
        self.last_id = 0  # id of the newest event, 0 when the log is empty
        self.first_broken = None  # id of the first event whose prev_hash or hash does not match
        self.broken_position = None  # its position counting from 1
        self.watched = {}  # event id -> (its position counting from 1, its stored hash)


def walk(watch=()):
    """Walk the log in id order, recomputing every hash; note the position and hash of the watched ids.

    The walk goes on past a break so that the anchors (fieldapp/anchors.py) can still be compared.
    Memory grows with len(watch) only, time with the number of events.
    """
    watch = set(watch)
    result = ChainWalk()
    prev_hash = GENESIS
    query = (AuditEvent
             .select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.record_type,
                     AuditEvent.record_id, AuditEvent.before, AuditEvent.after, AuditEvent.prev_hash,
                     AuditEvent.hash)
             .order_by(AuditEvent.id).tuples())
    for event_id, at, actor_id, action, record_type, record_id, before, after, stored_prev, stored in \
            query.iterator():
        result.count += 1
        result.last_id = event_id
        if event_id in watch:
            result.watched[event_id] = (result.count, stored)
        if result.first_broken is None:
            expected = _digest(prev_hash, at, actor_id, action, record_type, record_id, before, after)
            if stored_prev != prev_hash or stored != expected:
                result.first_broken = event_id
                result.broken_position = result.count
        prev_hash = stored
    return result


def verify_chain():
    """Walk the log in order. Returns (number of events, id of the first broken event or None).

    The number counts the events up to and including the first broken one (all of them when intact).
    """
    result = walk()
    if result.first_broken is None:
        return result.count, None
    return result.broken_position, result.first_broken
