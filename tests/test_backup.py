"""Issue 22: `flask backup` while uploads stream in, `flask restore` onto a fresh instance, the daily backup."""
import hashlib
import io
import json
import re
import tarfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from fieldapp import anchors, backup, backup_tasks, create_app, storage
from fieldapp.db import database
from fieldapp.models import Photo, Report

from helpers import jpeg, poll, test_config


@pytest.fixture(autouse=True)
def sqlite_only(database_url):
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite backup; PostgreSQL uses pg_dump (README)")


def send(client, site, blob, report_uuid):
    data = {"uuid": report_uuid, "kind": "hazard", "category": "falls", "description": f"Report {report_uuid}",
            "photos": [(io.BytesIO(blob), "IMG.jpg")]}
    return client.post(f"/s/{site.id}/reports/new", data=data, content_type="multipart/form-data")


def test_backup_during_uploads_restores_every_acknowledged_report_with_photos(app, world, as_role, tmp_path,
                                                                             photo_store_config):
    with app.app_context():
        anchors.write("manual")  # the anchors file goes into the archive and is checked after restore
    acknowledged = []  # (monotonic time of the answer, uuid)
    errors = []
    stop = threading.Event()

    def uploader(n):
        client = as_role("worker")
        i = 0
        while not stop.is_set() and i < 200:  # bounded
            report_uuid = str(uuid.uuid4())
            response = send(client, world.site, jpeg((320 + n * 10 + i % 7, 240), colour=("red", "blue")[n]), report_uuid)
            if response.status_code == 303:
                acknowledged.append((time.monotonic(), report_uuid))
            else:
                errors.append(response.status_code)
            i += 1

    threads = [threading.Thread(target=uploader, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    began = time.monotonic()
    with app.app_context():
        archive = backup.make(app, tmp_path / "backups")
    poll(lambda: any(at >= began for at, _u in list(acknowledged)), timeout=20)  # uploads go on after the backup too
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    before = [u for at, u in acknowledged if at < began]
    assert len(before) >= 4 and len(acknowledged) > len(before)

    # The manifest names every file with its checksum.
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
    assert set(manifest["files"]) | {"manifest.json"} == names
    assert {"database/fieldapp.db", "keys/secret_key", "keys/audit_signing_key.pem", "keys/vapid_private.pem",
            "anchors/anchors.jsonl"} <= names
    assert not any(".tmp" in name for name in names)

    # A fresh instance, through the command.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    # The same photo store: with S3 (--storage=s3) the bucket is not in the archive but stays where it is.
    config = {**test_config(fresh, f"sqlite:///{fresh}/restored.db"), **photo_store_config}
    restored = create_app(config)
    result = restored.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output
    assert Path(fresh, "instance", "secret_key").read_text() == Path(app.instance_path, "secret_key").read_text()
    # The restored keys and database are the owner's only (a new-user test found them 0644 after a restore).
    for name in ("secret_key", "vapid_private.pem", "audit_signing_key.pem"):
        assert Path(fresh, "instance", name).stat().st_mode & 0o077 == 0, name
    assert Path(fresh, "restored.db").stat().st_mode & 0o077 == 0
    with restored.app_context(), database.connection_context():
        stored = {r.uuid: r for r in Report.select()}
        for report_uuid in before:
            report = stored[uuid.UUID(report_uuid)] if uuid.UUID(report_uuid) in stored else stored.get(report_uuid)
            assert report is not None, report_uuid
            digests = [p.digest for p in Photo.select().where(Photo.report == report)]
            assert len(digests) == 1
            for digest in digests:
                assert len(storage.for_app(restored).read(digest)) > 0
                assert storage.for_app(restored).exists(digest, thumb=True)
        # Every photo any restored row names is there (not only those acknowledged before).
        for photo in Photo.select():
            assert storage.for_app(restored).exists(photo.digest)


def test_restore_refuses_a_non_empty_instance_and_a_damaged_archive(app, world, tmp_path):
    with app.app_context():
        archive = backup.make(app, tmp_path / "backups")
    result = app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 1 and "not empty" in result.output
    # One byte of a photo changed in the archive: refused, nothing put in place.
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "database/fieldapp.db":
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(member, io.BytesIO(data))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    restored = create_app(test_config(fresh, f"sqlite:///{fresh}/restored.db"))
    result = restored.test_cli_runner().invoke(args=["restore", str(damaged)])
    assert result.exit_code == 1 and "checksum mismatch: database/fieldapp.db" in result.output
    assert not (fresh / "restored.db").exists()


def test_backup_keeps_the_newest_n(app, world, tmp_path):
    app.config["BACKUP_KEEP"] = 2
    made = []
    with app.app_context():
        for _ in range(4):
            made.append(backup.make(app, tmp_path / "b"))
    assert sorted((tmp_path / "b").glob("fieldapp-backup-*.tar")) == made[-2:]
    assert not list((tmp_path / "b").glob(".backup-*"))


def test_the_worker_backs_up_daily_at_the_set_hour(app, world, tmp_path, monkeypatch):
    app.config.update(BACKUP_DIR=str(tmp_path / "daily"), BACKUP_HOUR=2)
    task = backup_tasks.daily_backup.call_local if hasattr(backup_tasks.daily_backup, "call_local") else None
    monkeypatch.setattr(backup, "now_hour", lambda: 5)
    with app.app_context():
        assert task() is None
        monkeypatch.setattr(backup, "now_hour", lambda: 2)
        path = task()
    assert path and Path(path).parent == tmp_path / "daily" and Path(path).exists()


def test_the_cli_backup_command_writes_an_archive(app, world, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "cli").glob("fieldapp-backup-*.tar"))) == 1


# What an attack found (restore writes anywhere, bombs, half-done restores): every archive below is refused
# before anything is put in place, and the good archive then restores into the same instance.

def rewrite(archive, out, change):
    """Copy `archive` to `out` after change(files, manifest, infos): files {name: bytes} and the manifest dict
    may be edited; infos {name: TarInfo} for members whose header the change sets itself."""
    with tarfile.open(archive) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.name != "manifest.json"}
        manifest = json.load(tar.extractfile("manifest.json"))
    infos = {}
    change(files, manifest, infos)
    with tarfile.open(out, "w") as tar:
        for name, data in files.items():
            info = infos.get(name) or tarfile.TarInfo(name)
            if name not in infos:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out


def add(name, data=b"owned\n"):
    def change(files, manifest, infos):
        files[name] = data
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    return change


@pytest.fixture
def good_archive(app, world, tmp_path):
    with app.app_context():
        anchors.write("manual")
        blob = jpeg((64, 48))
        digest = hashlib.sha256(blob).hexdigest()
        storage.for_app(app).put(digest, blob)
        storage.for_app(app).put(digest, blob, thumb=True)
        return backup.make(app, tmp_path / "backups")


@pytest.fixture
def fresh(tmp_path, photo_store_config):
    """A new instance on the same photo store as `app` (with --storage=s3, restore puts photos in the bucket)."""
    folder = tmp_path / "fresh"
    folder.mkdir()
    return create_app({**test_config(folder, f"sqlite:///{folder}/restored.db"), **photo_store_config})


@pytest.fixture
def local_photos(photo_store_config):
    if photo_store_config:
        pytest.skip("the archive holds photos only with local photo storage (S3 is backed up by its own tools)")


def restore(app, archive):
    return app.test_cli_runner().invoke(args=["restore", str(archive)])


def assert_nothing_restored(fresh):
    assert not Path(fresh.config["DATABASE_URL"][len("sqlite:///"):]).exists()
    assert not Path(fresh.instance_path, "uploads").exists() or not any(Path(fresh.instance_path, "uploads").rglob("*.jpg"))
    assert not Path(fresh.instance_path, "anchors.jsonl").exists()


@pytest.mark.parametrize("name", [
    "keys/{outside}",                     # keys//tmp/x: not absolute as a whole, no "..", yet outside
    "anchors/{outside}",
    "uploads/{outside}",
    "uploads/../../escaped.jpg",
    "keys/../escaped",
    "keys/authorized_keys",               # inside, but not one of the three key files
    "database/other.db",
    "uploads/ab/readme.txt",              # not a stored photo or document name
    "uploads/" + "A" * 2 + "/" + "A" * 64 + ".jpg",
    "uploads/00/" + "ab" * 32 + ".jpg",   # the folder is not the digest's first two digits
    "manifest.json/x",
])
def test_restore_accepts_only_the_names_backup_writes(good_archive, fresh, tmp_path, name):
    outside = tmp_path / "outside" / "x"
    outside.parent.mkdir()
    name = name.format(outside=outside)
    bad = rewrite(good_archive, tmp_path / "bad.tar", add(name))
    result = restore(fresh, bad)
    assert result.exit_code == 1 and "unsafe entry in the archive" in result.output, result.output
    assert not outside.exists() and not (tmp_path / "escaped.jpg").exists() and not (tmp_path / "escaped").exists()
    assert_nothing_restored(fresh)
    assert not backup.allowed_name(name)
    result = restore(fresh, good_archive)  # the good one still restores into the same instance
    assert result.exit_code == 0 and "audit chain intact" in result.output, result.output


def test_allowed_names_are_exactly_what_backup_writes(good_archive, local_photos):
    with tarfile.open(good_archive) as tar:
        names = [n for n in tar.getnames() if n != "manifest.json"]
    assert any(n.startswith("uploads/") for n in names)
    assert all(backup.allowed_name(n) for n in names)
    digest = "ab" * 32
    assert storage.parse_name(f"ab/{digest}_t.jpg") == (digest, True, "jpg")
    assert storage.parse_name(f"ab/{digest}.pdf") == (digest, False, "pdf")
    for bad in (f"ab/{digest}_t.pdf", f"/ab/{digest}.jpg", f"ab//{digest}.jpg", f"ab/{digest}.jpg/x", f"ab/{digest}.JPG"):
        with pytest.raises(ValueError):
            storage.parse_name(bad)


def test_links_and_devices_in_an_archive_are_refused(good_archive, fresh, tmp_path):
    def change(files, manifest, infos):
        info = tarfile.TarInfo("keys/secret_key")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        infos["keys/secret_key"] = info
        files["keys/secret_key"] = b""
        manifest["files"]["keys/secret_key"] = {"sha256": hashlib.sha256(b"").hexdigest(), "bytes": 0}
    result = restore(fresh, rewrite(good_archive, tmp_path / "link.tar", change))
    assert result.exit_code == 1 and "is not a plain file" in result.output, result.output
    assert_nothing_restored(fresh)


def test_a_compressed_archive_is_refused_unopened(good_archive, fresh, tmp_path):
    """A gz/bz2/xz archive could unpack to far more than its size (a decompression bomb): only plain tar."""
    for mode in ("w:gz", "w:xz"):
        packed = tmp_path / f"packed.tar.{mode[2:]}"
        with tarfile.open(good_archive) as src, tarfile.open(packed, mode) as dst:
            for member in src.getmembers():
                dst.addfile(member, src.extractfile(member))
        result = restore(fresh, packed)
        assert result.exit_code == 1 and "not a backup archive (an uncompressed tar" in result.output, result.output
        assert_nothing_restored(fresh)


def test_a_member_larger_than_the_manifest_says_is_refused(good_archive, fresh, tmp_path):
    def change(files, manifest, infos):
        files["database/fieldapp.db"] += b"\0" * 4096
    result = restore(fresh, rewrite(good_archive, tmp_path / "big.tar", change))
    assert result.exit_code == 1 and "database/fieldapp.db is" in result.output and "the manifest says" in result.output
    assert_nothing_restored(fresh)


def test_sizes_beyond_the_archive_or_the_free_space_are_refused(good_archive, fresh, tmp_path, monkeypatch):
    bad = tmp_path / "huge.tar"
    with tarfile.open(good_archive) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.name != "manifest.json"}
    manifest = {"format": backup.FORMAT, "files": {n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                                                   for n, d in files.items()}}
    manifest["files"]["keys/secret_key"]["bytes"] = 2**40
    buffer = io.BytesIO()
    tar = tarfile.open(fileobj=buffer, mode="w")
    data = json.dumps(manifest).encode()
    info = tarfile.TarInfo("manifest.json")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    for name, data in files.items():
        if name != "keys/secret_key":
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    end = tar.offset
    tar.close()
    lie = tarfile.TarInfo("keys/secret_key")  # tarfile cannot write a lie: the header alone says 1 TB
    lie.size = 2**40
    bad.write_bytes(buffer.getvalue()[:end] + lie.tobuf() + b"\0" * 4096)
    result = restore(fresh, bad)
    assert result.exit_code == 1, result.output
    assert "damaged" in result.output or "declares" in result.output, result.output
    assert_nothing_restored(fresh)

    monkeypatch.setattr(backup, "_free_bytes", lambda path: 10 * 2**20)
    result = restore(fresh, good_archive)
    assert result.exit_code == 1 and "not enough free space to restore" in result.output, result.output
    assert_nothing_restored(fresh)


@pytest.mark.parametrize("change, message", [
    (lambda files, manifest, infos: (files.pop("database/fieldapp.db"),
                                     manifest["files"].pop("database/fieldapp.db")), "holds no database"),
    (lambda files, manifest, infos: manifest.pop("files"), 'has no "files"'),
    (lambda files, manifest, infos: manifest["files"]["keys/secret_key"].pop("sha256"),
     "lacks a valid \"sha256\" or \"bytes\""),
    (lambda files, manifest, infos: manifest["files"]["keys/secret_key"].update(bytes="12"),
     "lacks a valid \"sha256\" or \"bytes\""),
    (lambda files, manifest, infos: manifest["files"].update(x=1), "lacks a valid"),
    (lambda files, manifest, infos: files.pop("keys/secret_key"), "differ from its manifest: keys/secret_key"),
    # Consistent with its manifest, yet not what it claims to be: found before anything is put in place.
    (add("database/fieldapp.db", b"not a database" * 100), "database/fieldapp.db in the archive is not a SQLite"),
    (add("keys/secret_key", b"short"), "keys/secret_key in the archive holds fewer than 32 characters"),
    (add("keys/vapid_private.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
     "keys/vapid_private.pem in the archive: .* is not a P-256 private key"),
    (add("keys/audit_signing_key.pem", b"garbage"), "keys/audit_signing_key.pem in the archive is not an Ed25519"),
])
def test_a_malformed_archive_is_a_clear_error_and_the_restore_can_be_retried(good_archive, fresh, tmp_path,
                                                                            change, message):
    result = restore(fresh, rewrite(good_archive, tmp_path / "bad.tar", change))
    assert result.exit_code == 1 and re.search(message, result.output), result.output
    assert "Traceback" not in result.output
    assert_nothing_restored(fresh)
    result = restore(fresh, good_archive)
    assert result.exit_code == 0 and "audit chain intact" in result.output, result.output


def test_a_failure_while_putting_files_in_place_undoes_it_and_a_retry_works(good_archive, fresh, monkeypatch,
                                                                          local_photos):
    first_keys = {n: Path(fresh.instance_path, n).read_bytes() for n in backup.KEY_FILES}
    real = storage.LocalStorage.restore_file
    calls = []

    def fails_second(self, name, source):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, name, source)

    monkeypatch.setattr(storage.LocalStorage, "restore_file", fails_second)
    result = restore(fresh, good_archive)
    assert result.exit_code == 1 and "restore stopped, nothing kept" in result.output, result.output
    assert_nothing_restored(fresh)
    assert {n: Path(fresh.instance_path, n).read_bytes() for n in backup.KEY_FILES} == first_keys
    monkeypatch.setattr(storage.LocalStorage, "restore_file", real)
    result = restore(fresh, good_archive)
    assert result.exit_code == 0 and "audit chain intact" in result.output, result.output
    assert Path(fresh.instance_path, "secret_key").read_bytes() != first_keys["secret_key"]
