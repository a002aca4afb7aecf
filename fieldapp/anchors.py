"""Signed anchors of the audit log's head, kept outside the database.

The hash chain in `fieldapp/audit.py` shows an accident or a careless edit, but someone who owns the
database can drop the triggers, edit a row and recompute every hash after it, or delete the newest rows:
the chain then verifies again. An anchor is a note of the chain's head (event id, hash, number of events,
time), signed with an Ed25519 key that is not in the database and appended to `anchors.jsonl` in a folder
outside it (`AUDIT_ANCHOR_DIR`, the instance folder by default; each line is also logged on the
`fieldapp.audit.anchor` logger so that log shipping carries it off the host). `verify` compares the log with
every anchor: a missing anchored head or a lower count is truncation, a different hash is rewriting.

One line of anchors.jsonl (keys sorted; `sig` is Ed25519 over the line without `sig`, see `_signed_bytes`):
    {"at": "2026-11-30T02:30:00+00:00", "count": 120, "head_hash": "<64 hex>", "head_id": 120,
     "key": "<16 hex: SHA-256 of the raw public key>", "reason": "periodic", "v": 1, "sig": "<base64url>"}
An anchor written for an export also carries {"export": {"name": <file name>, "sha256": <of the file>}}.
"""
import base64
import fcntl
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from . import audit

FILE_NAME = "anchors.jsonl"
VERSION = 1
# An unchanged head is anchored again after this long, so a newest anchor older than STALE_HOURS means
# anchors stopped being written or their newest lines were removed (together with the newest events).
HEARTBEAT_HOURS = 24
STALE_HOURS = 26
log = logging.getLogger("fieldapp.audit.anchor")


# --- keys ------------------------------------------------------------------------------------------

def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=8)
def _load_private(pem):
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the audit signing key must be an Ed25519 key (PEM, PKCS#8)")
    return key


def signing_key(config=None):
    """The Ed25519 private key: FLASK_AUDIT_SIGNING_KEY (PEM text) or the file AUDIT_SIGNING_KEY_PATH.

    Raises ValueError for a key that is not Ed25519 PEM.
    """
    config = config if config is not None else current_app.config
    pem = config.get("AUDIT_SIGNING_KEY")
    if pem:
        pem = pem.encode() if isinstance(pem, str) else pem
    else:
        with open(config["AUDIT_SIGNING_KEY_PATH"], "rb") as f:
            pem = f.read()
    return _load_private(pem)


def public_key_pem(key):
    """The public half as PEM text (SubjectPublicKeyInfo), for a verifier on another machine."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(data):
    """A public key from PEM bytes (a private key PEM gives its public half). Raises ValueError."""
    if b"PRIVATE KEY" in data:
        return _load_private(data).public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def key_id(public_key):
    """A short name for a public key: the first 16 hex digits of SHA-256 of its 32 raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --- writing ---------------------------------------------------------------------------------------

def _older_than(at, hours, now=None):
    """True when the ISO time `at` is more than `hours` before now (or cannot be read)."""
    try:
        then = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return True
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return (now or datetime.now(timezone.utc)) - then > timedelta(hours=hours)


def anchor_path(config=None):
    config = config if config is not None else current_app.config
    return os.path.join(config["AUDIT_ANCHOR_DIR"], FILE_NAME)


def _signed_bytes(body):
    """What the signature covers: the anchor without `sig`, as compact JSON with sorted keys."""
    unsigned = {k: v for k, v in body.items() if k != "sig"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def make_anchor(key, head_id, head_hash, count, reason, export=None, at=None):
    """A signed anchor (a dict ready for one JSON line)."""
    body = {
        "v": VERSION,
        "at": (at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "head_id": head_id, "head_hash": head_hash, "count": count,
        "reason": reason, "key": key_id(key.public_key()),
    }
    if export is not None:
        body["export"] = export
    body["sig"] = _b64(key.sign(_signed_bytes(body)))
    return body


def _last_line(f):
    """The last complete line of an open binary file, or None; reads at most 64 KiB from the end."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - 65536))
    tail = f.read().rstrip(b"\n")
    if not tail:
        return None
    return tail.rsplit(b"\n", 1)[-1]


def write(reason, export=None, only_if_changed=False):
    """Anchor the chain's head now: append one signed line to anchors.jsonl and log it.

    reason: "periodic", "export" or "manual". export: {"name", "sha256"} of the file that was handed out.
    only_if_changed: write nothing when the newest anchor in the file already names this head and is less
    than HEARTBEAT_HOURS old (and when the log is empty). The daily anchor of an unchanged head lets
    `verify` tell a quiet log from anchors whose newest lines were deleted with the newest events. Returns the anchor dict, or None when nothing was written. Raises OSError when the
    folder cannot be written; the caller decides whether that stops its work.
    """
    head_id, head_hash, count = audit.head()
    key = signing_key()
    path = anchor_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # O_APPEND and one write per line; the lock keeps the "has the head changed" check and the append
    # together when the web processes and the worker anchor at the same moment.
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "r+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        if only_if_changed:
            if count == 0:
                return None
            last = _last_line(f)
            if last is not None:
                try:
                    previous = json.loads(last)
                except ValueError:
                    previous = None  # a damaged last line: anchor anew (verify reports the damage)
                if isinstance(previous, dict) and (previous.get("head_id"), previous.get("head_hash")) \
                        == (head_id, head_hash) and not _older_than(previous.get("at"), HEARTBEAT_HOURS):
                    return None
        anchor = make_anchor(key, head_id, head_hash, count, reason, export)
        line = json.dumps(anchor, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        f.write(line.encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())
    log.info("audit anchor %s", line)
    return anchor


# --- verifying -------------------------------------------------------------------------------------

@dataclass
class Anchor:
    line: int  # 1-based line number in the file
    body: dict

    @property
    def label(self):
        return f"anchor of {self.body.get('at')} (line {self.line})"


@dataclass
class Findings:
    """What `verify` found. Every list holds ready-to-print messages; `ok` when all are empty."""

    count: int = 0
    last_id: int = 0
    chain_broken_at: int | None = None
    chain_checked: int = 0
    anchors_valid: int = 0
    newest: Anchor | None = None
    missing_files: list = field(default_factory=list)
    bad_signatures: list = field(default_factory=list)
    truncated: list = field(default_factory=list)
    rewritten: list = field(default_factory=list)

    stale: list = field(default_factory=list)

    @property
    def unanchored(self):
        """Events exist but no anchor file could be read: truncation and rewriting cannot be seen."""
        return self.count > 0 and bool(self.missing_files) and self.anchors_valid == 0

    @property
    def ok(self):
        return self.chain_broken_at is None and not (self.bad_signatures or self.truncated or self.rewritten
                                                     or self.stale or self.unanchored)


def read_anchors(path, public_keys, findings):
    """The anchors of one file whose signature verifies with one of public_keys; the others become
    bad-signature findings (unreadable lines, unknown keys, signatures that do not match)."""
    keys = {key_id(k): k for k in public_keys}
    valid = []
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        findings.missing_files.append(path)
        return valid
    with f:
        for number, raw in enumerate(f, start=1):
            raw = raw.strip()
            if not raw:
                continue
            problem = None
            try:
                body = json.loads(raw)
                if not (isinstance(body, dict) and isinstance(body.get("head_id"), int)
                        and isinstance(body.get("count"), int) and isinstance(body.get("head_hash"), str)
                        and isinstance(body.get("sig"), str)):
                    raise ValueError("fields missing")
                key = keys.get(body.get("key"))
                if key is None:
                    problem = f"signed with key {body.get('key')!r}, not the audit key"
                else:
                    key.verify(_unb64(body["sig"]), _signed_bytes(body))
            except InvalidSignature:
                problem = "its signature does not match its content (forged or changed)"
            except ValueError:  # not JSON, fields missing, or a signature that is not base64
                problem = "not a signed anchor (unreadable or incomplete)"
            if problem:
                findings.bad_signatures.append(f"line {number} of {path}: {problem}")
            else:
                valid.append(Anchor(number, body))
    return valid


def verify(paths, public_keys, now=None):
    """Check the chain, then the log against every anchor in paths that is signed by one of public_keys.

    Truncation: an anchored head event is missing, or fewer events lead up to it than the anchor counted.
    Rewriting: an anchored head event has another hash (the chain was recomputed after an edit, or the
    newest rows were deleted and others written in their place), or more events lead up to it.
    Stale: the newest anchor is older than STALE_HOURS (now: an aware datetime, default the clock).
    Unanchored: events but no anchor file. Both fail `ok`: without current anchors a truncation of the
    log together with the anchor file's newest lines cannot be told apart from a quiet log.
    Returns Findings; one pass over the log, memory in proportion to the number of anchors.
    """
    findings = Findings()
    anchors = []
    for path in paths:
        anchors.extend(read_anchors(path, public_keys, findings))
    findings.anchors_valid = len(anchors)
    chain = audit.walk(watch={a.body["head_id"] for a in anchors})
    findings.count, findings.last_id = chain.count, chain.last_id
    findings.chain_broken_at = chain.first_broken
    findings.chain_checked = chain.broken_position or chain.count
    for anchor in anchors:
        head_id, head_hash, count = anchor.body["head_id"], anchor.body["head_hash"], anchor.body["count"]
        if findings.newest is None or (head_id, anchor.body["at"]) >= \
                (findings.newest.body["head_id"], findings.newest.body["at"]):
            findings.newest = anchor
        if count == 0:
            continue
        seen = chain.watched.get(head_id)
        if seen is None:
            if head_id > chain.last_id:
                findings.truncated.append(
                    f"the {anchor.label} names event {head_id} ({count} events) as the head, but the log "
                    f"ends at event {chain.last_id} with {chain.count} events: rows were deleted from the end")
            else:
                findings.truncated.append(
                    f"the {anchor.label} names event {head_id} as the head, and it is missing from the log: "
                    f"rows were deleted")
            continue
        position, stored_hash = seen
        if stored_hash != head_hash:
            findings.rewritten.append(
                f"event {head_id} does not have the hash that the {anchor.label} recorded "
                f"({stored_hash[:12]}... instead of {head_hash[:12]}...): the history up to it was rewritten")
        elif position < count:
            findings.truncated.append(
                f"the {anchor.label} counted {count} events up to event {head_id}, the log has {position}: "
                f"{count - position} were deleted")
        elif position > count:
            findings.rewritten.append(
                f"the {anchor.label} counted {count} events up to event {head_id}, the log has {position}: "
                f"{position - count} were added to the past")
    if findings.count > 0 and findings.newest is not None and _older_than(findings.newest.body["at"], STALE_HOURS, now):
        findings.stale.append(
            f"the newest anchor ({findings.newest.label}) is from {findings.newest.body['at']}, more than "
            f"{STALE_HOURS} hours ago, although an anchor is written at least every {HEARTBEAT_HOURS} hours: "
            f"anchoring stopped (is the worker running?) or the newest anchors were removed")
    return findings
