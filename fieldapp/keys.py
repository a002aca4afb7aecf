"""Instance keys shared by several nodes (issue 23): a node whose keys differ from the database's refuses to start.

Every web node and consumer must sign session cookies with the same secret key, send push with the VAPID key
the phones subscribed with, and sign audit anchors with one key. A node started with another key would work
for a while and then fail quietly (cookies refused by the other nodes, 403 from the push services for every
phone, anchors the verifier rejects). So on start (create_app, hence the worker and `flask migrate`) each key's
fingerprint is compared with the one the first node recorded in `instance_key`.

Fingerprints, 64 hex digits, never the secret: HMAC-SHA-256 keyed by the secret key over FINGERPRINT_LABEL;
SHA-256 of the VAPID public key (the 65-byte uncompressed point the phones hold); SHA-256 of the audit signing
public key's 32 raw bytes.
"""
import base64
import hashlib
import hmac
import logging
import os
import secrets
import socket

from cryptography.hazmat.primitives import serialization
from peewee import OperationalError

from . import anchors, audit
from .db import database, is_sqlite
from .models import InstanceKey, utcnow

FINGERPRINT_LABEL = b"fieldapp instance key fingerprint v1"
# The variable that sets each key, for the message that tells the operator what to do.
VARIABLES = {
    "secret_key": "FIELDAPP_SECRET_KEY or FIELDAPP_SECRET_KEY_FILE",
    "vapid": "FIELDAPP_VAPID_PRIVATE_KEY_FILE",
    "audit_signing": "FIELDAPP_AUDIT_SIGNING_KEY_FILE",
}
log = logging.getLogger("fieldapp.keys")


class KeyMismatch(RuntimeError):
    """A key differs from the one the database recorded; the message says which and what to do."""


def _unb64(text):
    text = text.decode() if isinstance(text, bytes) else text
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprints(config):
    """{name: 64 hex digits} for the configured secret key, VAPID key and audit signing key."""
    secret = config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    signing_public = anchors.signing_key(config).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "secret_key": hmac.new(secret, FINGERPRINT_LABEL, hashlib.sha256).hexdigest(),
        "vapid": hashlib.sha256(_unb64(config["VAPID_PUBLIC_KEY"])).hexdigest(),
        "audit_signing": hashlib.sha256(signing_public).hexdigest(),
    }


def _accepted(config):
    text = config.get("ACCEPT_NEW_KEYS") or ""
    names = text.split(",") if isinstance(text, str) else list(text)
    return {name.strip() for name in names if name.strip()}


def check(app):
    """Record this node's key fingerprints (first start), or compare them with the recorded ones.

    Two nodes starting together agree: each inserts with ON CONFLICT DO NOTHING and then reads what won.
    A name in ACCEPT_NEW_KEYS (FIELDAPP_ACCEPT_NEW_KEYS=vapid, after a deliberate change) records this node's
    fingerprint instead, audited. Returns {"recorded": [names], "matched": [names], "replaced": [names]}, or
    None when the database is not migrated yet (`flask migrate` checks after migrating) or cannot be reached
    (logged). Raises KeyMismatch, after one log line, when a key differs.
    """
    mine = fingerprints(app.config)
    accepted = _accepted(app.config)
    unknown = accepted - set(mine)
    if unknown:
        raise KeyMismatch(f"FIELDAPP_ACCEPT_NEW_KEYS names {', '.join(sorted(unknown))}: the keys are "
                          f"{', '.join(mine)}")
    db = database.obj
    if is_sqlite(db) and db.database != ":memory:" and not os.path.exists(db.database):
        return None  # a new instance: connecting would make the file (`flask restore` wants none)
    # This start's own mark: two starts in one process (threads, a test) must not both think they recorded.
    node = f"{socket.gethostname()} pid {os.getpid()} start {secrets.token_hex(4)}"[:200]
    result = {"recorded": [], "matched": [], "replaced": []}
    try:
        with db.connection_context():
            if not db.table_exists(InstanceKey._meta.table_name):
                return None
            with db.atomic():
                before = {row.name for row in InstanceKey.select(InstanceKey.name)}
                for name, fingerprint in mine.items():
                    if name not in before:
                        (InstanceKey.insert(name=name, fingerprint=fingerprint, recorded_at=utcnow(),
                                            recorded_by=node).on_conflict_ignore().execute())
                    stored = InstanceKey.get_by_id(name)
                    if stored.fingerprint == fingerprint:
                        won = name not in before and stored.recorded_by == node
                        result["recorded" if won else "matched"].append(name)
                    elif name in accepted:
                        (InstanceKey.update(fingerprint=fingerprint, recorded_at=utcnow(), recorded_by=node)
                         .where(InstanceKey.name == name).execute())
                        audit.record(None, "instance_key.replace", "instance_key", None,
                                     before={"name": name, "fingerprint": stored.fingerprint},
                                     after={"name": name, "fingerprint": fingerprint})
                        result["replaced"].append(name)
                    else:
                        text = (f"refusing to start: the {name} key differs from the one this database has "
                                f"seen (fingerprint {fingerprint[:16]}, recorded {stored.fingerprint[:16]} by "
                                f"{stored.recorded_by} at {stored.recorded_at:%Y-%m-%d %H:%M} UTC): give this "
                                f"node the same {VARIABLES[name]} as the others, or, if the key was replaced on "
                                f"purpose, start once with FIELDAPP_ACCEPT_NEW_KEYS={name}")
                        if name == "vapid":
                            text += " (every phone must then subscribe to push again)"
                        app.logger.error("keys: %s", text)
                        raise KeyMismatch(text)
    except OperationalError as exc:
        app.logger.warning("keys: could not compare the instance keys with the database's: %s", exc)
        return None
    finally:
        if hasattr(db, "close_idle"):
            db.close_idle()  # no pooled connection left open in a process that may fork (gunicorn --preload)
    if result["recorded"] or result["replaced"]:
        log.info("keys: recorded %s, replaced %s", result["recorded"], result["replaced"])
    return result
