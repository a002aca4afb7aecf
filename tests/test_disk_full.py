"""Issue 22: disk full while saving a photo or a row gives 503 + Retry-After, no false success, no partial file."""
import errno
import io
import os
import uuid

import peewee
import pytest

from fieldapp import storage
from fieldapp.models import Photo, Report

from helpers import jpeg


@pytest.fixture
def worker(as_role):
    return as_role("worker")


@pytest.fixture(autouse=True)
def local_storage(app):
    if storage.for_app(app).kind != "local":
        pytest.skip("a full disk is local storage's fault (S3: tests/test_storage.py)")


def files_under(root):
    return sorted(os.path.join(d, n) for d, _s, names in os.walk(root) for n in names) if root.exists() else []


def send(client, site, blobs, report_uuid, outbox=False):
    data = {"uuid": report_uuid, "kind": "hazard", "category": "falls", "description": "Loose railing",
            "photos": [(io.BytesIO(blob), f"IMG_{i}.jpg") for i, blob in enumerate(blobs)]}
    return client.post(f"/s/{site.id}/reports/new", data=data, content_type="multipart/form-data",
                       headers={"X-Outbox": "1"} if outbox else {})


def no_space(*_args):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("outbox", [False, True])
def test_disk_full_while_writing_a_photo_is_503_and_leaves_nothing(app, world, worker, monkeypatch, outbox):
    root = storage.for_app(app).root
    before_files, before_rows = files_under(root), Report.select().count()
    calls = []
    real_fsync = os.fsync

    def fsync_fails_on_the_third(fd):  # two files of the first photo fit, the second photo's thumb does not
        calls.append(fd)
        if len(calls) >= 3:
            no_space()
        return real_fsync(fd)

    monkeypatch.setattr(storage.os, "fsync", fsync_fails_on_the_third)
    report_uuid = str(uuid.uuid4())
    response = send(worker, world.site, [jpeg((800, 600)), jpeg((640, 480), colour="blue")], report_uuid, outbox)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert len(calls) == 3
    assert Report.select().count() == before_rows and not Report.select().where(Report.uuid == report_uuid).exists()
    assert files_under(root) == before_files  # no temporary file, no photo of a report that was not saved
    # Space again: the phone's retry of the same item is saved once, with both photos.
    monkeypatch.setattr(storage.os, "fsync", real_fsync)
    assert send(worker, world.site, [jpeg((800, 600)), jpeg((640, 480), colour="blue")], report_uuid,
                outbox).status_code in (200, 201, 303)
    report = Report.get(Report.uuid == report_uuid)
    assert Photo.select().where(Photo.report == report).count() == 2


def test_disk_full_while_writing_a_row_is_503(app, world, worker, monkeypatch):
    before, before_files = Report.select().count(), files_under(storage.for_app(app).root)
    real_create = Report.create

    def full(*args, **kwargs):
        raise peewee.OperationalError("database or disk is full")

    monkeypatch.setattr(Report, "create", full)
    response = send(worker, world.site, [jpeg((800, 600))], str(uuid.uuid4()))
    monkeypatch.setattr(Report, "create", real_create)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert Report.select().count() == before
    assert files_under(storage.for_app(app).root) == before_files  # its photo, written first, is removed again


def test_another_os_error_is_a_plain_500_not_a_retry(app, world, worker, monkeypatch):
    def broken(*_args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(storage.os, "fsync", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = send(worker, world.site, [jpeg((800, 600))], str(uuid.uuid4()))
    assert response.status_code == 500 and "Retry-After" not in response.headers
