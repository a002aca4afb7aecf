"""Issue 22: `flask backup` while uploads stream in, `flask restore` onto a fresh instance, the daily backup."""
import io
import json
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
