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
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from . import anchors, instance, storage
from .db import database

FORMAT = 1
PREFIX = "fieldapp-backup-"
KEY_FILES = ("secret_key", "vapid_private.pem", "audit_signing_key.pem")
DB_NAME = "database/fieldapp.db"
ANCHORS_NAME = "anchors/" + anchors.FILE_NAME
# Plain files only in an archive: no links, devices, folders or GNU sparse members (which unpack to more).
PLAIN_FILE_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE)
MAX_MANIFEST_BYTES = 64 * 2**20
MAX_MEMBERS = 10_000_000
FREE_SPACE_MARGIN = 64 * 2**20  # bytes left free after a restore, beyond the archive's files
PRIVATE_FILE_MODE = 0o600  # restored keys and database: the owner only
log = logging.getLogger(__name__)


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
            if allowed_name("uploads/" + name):  # only what restore accepts; strays are not ours to keep
                files["uploads/" + name] = path
            else:
                log.warning("backup: left out %s: not a stored photo or document name", path)
        for name in KEY_FILES:
            path = Path(app.instance_path, name)
            if path.exists():
                files["keys/" + name] = path
        anchor_file = Path(anchors.anchor_path(app.config))
        if anchor_file.exists():
            files[ANCHORS_NAME] = anchor_file
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
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{db_path} is there and is not an empty database ({exc})") from None
        finally:
            con.close()
        if tables:
            return False
    return storage.for_app(app).is_empty()


def allowed_name(name):
    """True for the only names an archive may hold besides manifest.json: DB_NAME, "keys/" + one of KEY_FILES,
    ANCHORS_NAME, and "uploads/" + exactly what storage.name_for gives for a photo, thumbnail or document.

    An allow-list, not a check for ".." or absolute paths: "keys//tmp/x" is neither, yet
    Path(instance, "/tmp/x") is /tmp/x. A name not listed here is never written anywhere."""
    if name in (DB_NAME, ANCHORS_NAME) or name in {"keys/" + key for key in KEY_FILES}:
        return True
    if name.startswith("uploads/"):
        try:
            storage.parse_name(name[len("uploads/"):])
        except ValueError:
            return False
        return True
    return False


def _free_bytes(path):
    """Free bytes on the filesystem of `path` (a function so that tests can make a disk look full)."""
    return shutil.disk_usage(path).free


def _read_manifest(tar, member):
    """The manifest as {"files": {name: (sha256 hex, bytes)}}; BackupError for anything malformed."""
    if member.type not in PLAIN_FILE_TYPES or member.size > MAX_MANIFEST_BYTES:
        raise BackupError("the archive's manifest.json is not a plain file of a plausible size")
    try:
        manifest = json.loads(tar.extractfile(member).read(MAX_MANIFEST_BYTES + 1))
    except (ValueError, UnicodeDecodeError, tarfile.TarError, OSError) as exc:
        raise BackupError(f"the archive's manifest.json cannot be read: {exc}") from None
    if not isinstance(manifest, dict):
        raise BackupError("the archive's manifest.json is not an object")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r} (this version restores {FORMAT})")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BackupError('the archive\'s manifest.json has no "files"')
    out = {}
    for name, entry in files.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("bytes") if isinstance(entry, dict) else None
        if (not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= storage.HEX
                or type(size) is not int or size < 0):
            raise BackupError(f'the manifest\'s entry for {name!r} lacks a valid "sha256" or "bytes"')
        out[name] = (digest, size)
    return out


def _check_archive(tar, archive_bytes):
    """Every member and the manifest, before anything is written: {name: (member, sha256, bytes)}.

    BackupError for: a member that is not a plain file (links, devices, sparse files), a name twice, a name
    not on the allow-list (`allowed_name`), members and manifest that differ, a member whose size is not the
    manifest's, no database, or sizes adding up to more than the archive itself holds."""
    members, manifest_member = {}, None
    try:
        listed = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"the archive is damaged: {exc}") from None
    if len(listed) > MAX_MEMBERS:
        raise BackupError(f"the archive holds {len(listed)} entries, more than {MAX_MEMBERS}")
    for member in listed:
        if member.name == "manifest.json" and manifest_member is None:
            manifest_member = member
            continue
        if member.name in members or member.name == "manifest.json":
            raise BackupError(f"the archive holds {member.name!r} twice")
        if not allowed_name(member.name):
            raise BackupError(f"unsafe entry in the archive: {member.name!r} (not a name `flask backup` writes)")
        if member.type not in PLAIN_FILE_TYPES or member.issparse():
            raise BackupError(f"unsafe entry in the archive: {member.name!r} is not a plain file")
        members[member.name] = member
    if manifest_member is None:
        raise BackupError("no manifest.json in the archive: not a backup of `flask backup`")
    expected = _read_manifest(tar, manifest_member)
    if set(members) != set(expected):
        missing = sorted(set(expected) - set(members)) + sorted(set(members) - set(expected))
        raise BackupError(f"the archive's files differ from its manifest: {', '.join(missing[:5])}")
    if DB_NAME not in members:
        raise BackupError(f"the archive holds no database ({DB_NAME})")
    checked = {}
    for name, member in members.items():
        digest, size = expected[name]
        if member.size != size:
            raise BackupError(f"{name} is {member.size} bytes in the archive, the manifest says {size}")
        checked[name] = (member, digest, size)
    total = sum(size for _m, _d, size in checked.values())
    if total > archive_bytes:
        raise BackupError(f"the archive declares {total} bytes of files but is only {archive_bytes} bytes long")
    return checked


def _copy_bounded(src, dst, size):
    """Copy exactly `size` bytes from src to dst; returns their SHA-256 hex. BackupError if src holds more or
    fewer (a member never unpacks past what it declared)."""
    digest, left = hashlib.sha256(), size
    while left > 0:
        block = src.read(min(left, 1 << 20))
        if not block:
            break
        digest.update(block)
        dst.write(block)
        left -= len(block)
    if left or src.read(1):
        raise BackupError("an archive member is not the size it declares")
    return digest.hexdigest()


def _destination(app, name):
    if name == DB_NAME:
        return _sqlite_path(app)
    if name.startswith("keys/"):
        return Path(app.instance_path, name[len("keys/"):])
    return Path(anchors.anchor_path(app.config))


def restore(app, archive):
    """Put `archive` back on this (empty) instance and verify the audit log.

    `archive`: an uncompressed tar as `make` writes it (a compressed one is refused: it could unpack to far
    more than its size). Returns anchors.verify's findings (chain_broken_at, truncated, rewritten,
    bad_signatures, stale, count).
    BackupError, with nothing put in place, for: not an archive of ours, a compressed archive, a name outside
    `allowed_name`, a malformed manifest, a checksum or size that does not match, too little free space, or
    an instance that is not empty. Nothing is overwritten in those cases, so a corrected archive can be
    restored into the same instance. Restored keys and database are mode 0600.
    """
    db_path = _sqlite_path(app)
    if not _instance_is_empty(app, db_path):
        raise BackupError("this instance is not empty: restore only onto a new instance folder and database")
    archive = Path(archive)
    try:
        archive_bytes = archive.stat().st_size
        tar = tarfile.open(archive, "r:")  # uncompressed only: "r" would unpack gz/bz2/xz silently
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"not a backup archive (an uncompressed tar from `flask backup`): {exc}") from None
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with tar, tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".restore-") as work:
        checked = _check_archive(tar, archive_bytes)
        total = sum(size for _m, _d, size in checked.values())
        free = _free_bytes(work)
        if free < total + FREE_SPACE_MARGIN:
            raise BackupError(f"not enough free space to restore: {total // 2**20 + 1} MB needed "
                              f"(+{FREE_SPACE_MARGIN // 2**20} MB margin), {free // 2**20} MB free")
        for index, (name, (member, digest, size)) in enumerate(sorted(checked.items())):
            out = Path(work, f"{index:08d}")  # our own flat name; the archive's name picks only the destination
            # Owner-only, whatever the archive or the umask says: the keys and the database are secrets (a
            # restored secret_key readable by every local user would let them sign sessions).
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "wb") as dst:
                try:
                    with tar.extractfile(member) as src:
                        got = _copy_bounded(src, dst, size)
                except (tarfile.TarError, OSError, EOFError) as exc:
                    raise BackupError(f"the archive is damaged at {name}: {exc}") from None
            if got != digest:
                raise BackupError(f"checksum mismatch: {name}")
            checked[name] = out
        _check_contents(checked)
        # Every file is good: put them in place, the database last (it makes the instance "not empty").
        _put_in_place(app, db_path, checked, work)
    key = anchors.signing_key(app.config)
    with database.connection_context():
        return anchors.verify([anchors.anchor_path(app.config)], [key.public_key()])


def _check_contents(files):
    """BackupError unless the database is a sound SQLite file with tables and each key is a key of its kind
    (fieldapp/instance.py's checks): a bad one would otherwise be found only after it was put in place."""
    con = sqlite3.connect(f"file:{files[DB_NAME]}?mode=ro", uri=True)
    try:
        sound = con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{DB_NAME} in the archive is not a SQLite database: {exc}") from None
    finally:
        con.close()
    if not sound or not tables:
        raise BackupError(f"{DB_NAME} in the archive is damaged or empty")
    try:
        if "keys/secret_key" in files:
            instance.check_secret_key(files["keys/secret_key"].read_bytes(), "keys/secret_key in the archive")
        if "keys/vapid_private.pem" in files:
            instance.check_vapid_key(files["keys/vapid_private.pem"], "keys/vapid_private.pem in the archive")
        if "keys/audit_signing_key.pem" in files:
            instance.check_audit_signing_key(files["keys/audit_signing_key.pem"].read_bytes(),
                                             "keys/audit_signing_key.pem in the archive")
    except instance.KeyFileError as exc:
        raise BackupError(str(exc)) from None


def _put_in_place(app, db_path, files, work):
    """Move the checked files {name: Path in work} to their places; on any failure undo what was moved (the
    first-start keys come back) and raise BackupError, so that the restore can be tried again."""
    store = storage.for_app(app)
    placed, saved = [], []  # (Path placed), (original Path, its copy in work)
    order = sorted(files, key=lambda name: (name == DB_NAME, not name.startswith("uploads/"), name))
    try:
        for name in order:
            src = files[name]
            if name.startswith("uploads/"):
                target = store.restore_file(name[len("uploads/"):], src)
                if target is not None:
                    placed.append(target)
                continue
            dst = _destination(app, name)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if name == DB_NAME:
                if not database.is_closed():
                    database.close()
                for suffix in ("-wal", "-shm"):
                    Path(str(dst) + suffix).unlink(missing_ok=True)
            if dst.exists():
                keep = Path(work, f"old-{len(saved)}")
                os.replace(dst, keep)
                saved.append((dst, keep))
            shutil.move(src, dst)  # a rename on one filesystem; copied when the instance is on another
            placed.append(dst)
    except (OSError, ValueError, storage.StorageUnavailable) as exc:
        for path in reversed(placed):
            path.unlink(missing_ok=True)
        for original, keep in reversed(saved):
            os.replace(keep, original)
        raise BackupError(f"restore stopped, nothing kept: {exc}") from None
