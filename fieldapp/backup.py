"""Backups that restore (issue 22): the SQLite database, the uploads and the instance keys in one archive.

`make(app, folder)` -> Path of `fieldapp-backup-<UTC time>.tar`, made while the app runs:
1. the database, copied with SQLite's online backup API (a consistent snapshot; writers keep writing);
2. then the uploads of local photo storage (photos are written and fsynced before their row commits, so
   every photo a row in the snapshot names is already on disk; temporary `.upload-*.tmp` files are left out).
   With S3 storage (fieldapp/storage.py) the bucket is not copied: the store's own tools back it up (README,
   "Photo storage"), and the manifest says which bucket the photos are in ("photos");
3. the instance keys (secret_key, vapid_private.pem, audit_signing_key.pem) and the audit anchors file;
4. `manifest.json`: {"format": 1, "created_at": ISO UTC, "photos": where the photos are,
   "files": {name: {"sha256": hex, "bytes": n}}}.
The archive is written beside its final name and renamed (never half an archive under the final name), and
only the newest `keep` archives in the folder are kept.

`restore(app, archive)` puts an archive back on an empty instance (no database tables, no uploads; the keys
a first start makes are replaced), checking every file against the manifest first, then verifies the audit
chain and anchors (`anchors.verify`, as `flask verify-audit`). Raises BackupError with a message for a person.

PostgreSQL: pg_dump and pg_restore (README, "Backups"); `make` refuses (the database is not a file).
"""
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from . import anchors, storage
from .db import database

FORMAT = 1
PREFIX = "fieldapp-backup-"
KEY_FILES = ("secret_key", "vapid_private.pem", "audit_signing_key.pem")
DB_NAME = "database/fieldapp.db"


class BackupError(Exception):
    """A backup or restore that cannot be done; str() says why."""


def _sqlite_path(app):
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        raise BackupError("the database is not SQLite: use pg_dump (README, Backups)")
    return Path(url[len("sqlite:///"):])


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now_hour():
    """The UTC hour now (the scheduled backup's clock; a function so that tests can set it)."""
    return datetime.now(timezone.utc).hour


def folder(app):
    """Where scheduled backups go: BACKUP_DIR, else <instance>/backups."""
    return Path(app.config.get("BACKUP_DIR") or Path(app.instance_path, "backups"))


def _snapshot(source, target):
    """SQLite online backup of `source` into the new file `target` (pages copied in steps; writers go on)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst, pages=1024)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def make(app, target_folder=None, keep=None, now=None):
    """Write one archive into `target_folder` (default `folder(app)`); keep the newest `keep` (BACKUP_KEEP).

    Returns the archive's Path. BackupError when the database is not SQLite or is missing.
    """
    source = _sqlite_path(app)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    target_folder = Path(target_folder or folder(app))
    target_folder.mkdir(parents=True, exist_ok=True)
    keep = app.config.get("BACKUP_KEEP", 7) if keep is None else keep
    started = now or datetime.now(timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
    files = {}  # archive name -> path on disk
    with tempfile.TemporaryDirectory(dir=target_folder, prefix=".backup-") as work:
        snapshot = Path(work, "fieldapp.db")
        _snapshot(source, snapshot)
        files[DB_NAME] = snapshot
        store = storage.for_app(app)
        for name, path in store.local_files():
            files["uploads/" + name] = path
        for name in KEY_FILES:
            path = Path(app.instance_path, name)
            if path.exists():
                files["keys/" + name] = path
        anchor_file = Path(anchors.anchor_path(app.config))
        if anchor_file.exists():
            files["anchors/" + anchors.FILE_NAME] = anchor_file
        manifest = {"format": FORMAT, "created_at": started.isoformat(), "photos": store.describe(), "files": {}}
        partial = Path(work, "archive.tar")
        with tarfile.open(partial, "w") as tar:
            for name, path in files.items():
                # Hash what goes in: read once into the archive, then hash the archived bytes back out.
                tar.add(path, arcname=name, recursive=False)
            tar.close()
        with tarfile.open(partial, "r") as tar:
            for member in tar.getmembers():
                digest = hashlib.sha256()
                extracted = tar.extractfile(member)
                for block in iter(lambda: extracted.read(1 << 20), b""):
                    digest.update(block)
                manifest["files"][member.name] = {"sha256": digest.hexdigest(), "bytes": member.size}
        with tarfile.open(partial, "a") as tar:
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(data), int(started.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        final = target_folder / f"{PREFIX}{stamp}.tar"
        os.replace(partial, final)
        os.chmod(final, 0o600)  # it holds the keys
    _prune(target_folder, keep)
    return final


def _prune(target_folder, keep):
    archives = sorted(target_folder.glob(f"{PREFIX}*.tar"))
    for old in archives[:-keep] if keep > 0 else []:
        old.unlink()


def _instance_is_empty(app, db_path):
    if db_path.exists() and db_path.stat().st_size > 0:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            con.close()
        if tables:
            return False
    return storage.for_app(app).is_empty()


def restore(app, archive):
    """Put `archive` back on this (empty) instance and verify the audit log.

    Returns anchors.verify's findings (chain_broken_at, truncated, rewritten, bad_signatures, stale, count).
    BackupError: not an archive of ours, a checksum that does not match, an unsafe name, or an instance
    that is not empty (nothing is overwritten then).
    """
    db_path = _sqlite_path(app)
    if not _instance_is_empty(app, db_path):
        raise BackupError("this instance is not empty: restore only onto a new instance folder and database")
    try:
        tar = tarfile.open(archive, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"not a backup archive: {exc}")
    with tar, tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".restore-") as work:
        try:
            manifest = json.load(tar.extractfile("manifest.json"))
        except (KeyError, ValueError) as exc:
            raise BackupError(f"no readable manifest in the archive: {exc}")
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        expected = manifest["files"]
        members = {m.name: m for m in tar.getmembers() if m.name != "manifest.json"}
        if set(members) != set(expected):
            raise BackupError("the archive's files differ from its manifest")
        for name, member in members.items():
            parts = Path(name).parts
            if not member.isfile() or Path(name).is_absolute() or ".." in parts:
                raise BackupError(f"unsafe entry in the archive: {name}")
            out = Path(work, *parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            if _sha256(out) != expected[name]["sha256"]:
                raise BackupError(f"checksum mismatch: {name}")
        # Every file is good: put them in place.
        if not database.is_closed():
            database.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        os.replace(Path(work, DB_NAME), db_path)
        store = storage.for_app(app)
        for name in members:
            src = Path(work, name)
            if name.startswith("uploads/"):
                store.restore_file(name[len("uploads/"):], src)
                continue
            elif name.startswith("keys/"):
                dst = Path(app.instance_path, name[len("keys/"):])
            elif name.startswith("anchors/"):
                dst = Path(anchors.anchor_path(app.config))
            else:
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    key = anchors.signing_key(app.config)
    with database.connection_context():
        return anchors.verify([anchors.anchor_path(app.config)], [key.public_key()])
