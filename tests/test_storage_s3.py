"""Issue 23: the app with its photos in a real S3 store (SeaweedFS): upload, serving, faults, start-up check,
backup. (The photo tests of the other modules also run on S3 with `pytest --storage=s3`.)"""
import io
import json
import logging
import tarfile
import uuid

import pytest
import requests
from PIL import Image

from fieldapp import backup, create_app, storage
from fieldapp.models import Photo, Report

from helpers import jpeg, s3_config, stored_names, test_config


@pytest.fixture
def s3(seaweedfs):
    return s3_config(seaweedfs)


@pytest.fixture
def photo_store_config(s3):
    """Overrides conftest's: this module's photos always go to the S3 store, under a prefix of the test (conftest's
    `app` takes it, as with --storage=s3)."""
    return s3


@pytest.fixture
def worker(as_role):
    return as_role("worker")


def send(client, site, blobs, report_uuid=None, outbox=False):
    data = {"uuid": report_uuid or str(uuid.uuid4()), "kind": "hazard", "category": "falls",
            "description": "Loose railing", "photos": [(io.BytesIO(b), f"IMG_{i}.jpg") for i, b in enumerate(blobs)]}
    return client.post(f"/s/{site.id}/reports/new", data=data, content_type="multipart/form-data",
                       headers={"X-Outbox": "1"} if outbox else {})


def new_reports(world):
    return Report.select().where(Report.id != world.report.id)


def test_a_report_photo_goes_to_the_bucket_once_and_is_streamed_back(app, world, worker, as_role):
    report_uuid = str(uuid.uuid4())
    assert send(worker, world.site, [jpeg((800, 600))], report_uuid, outbox=True).status_code == 201
    assert send(worker, world.site, [jpeg((800, 600))], report_uuid, outbox=True).status_code == 200  # sent twice
    photo = Photo.get(Photo.report == new_reports(world).get())
    assert stored_names(app) == [f"{photo.digest[:2]}/{photo.digest}.jpg", f"{photo.digest[:2]}/{photo.digest}_t.jpg"]
    base = f"/s/{world.site.id}/reports/{photo.report_id}"
    foreman = as_role("foreman")
    for path, thumb in ((f"{base}/photos/{photo.digest}.jpg", False), (f"{base}/thumbs/{photo.digest}.jpg", True)):
        response = foreman.get(path)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.data == storage.for_app(app).read(photo.digest, thumb)
        assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        assert int(response.headers["Content-Length"]) == len(response.data)
        Image.open(io.BytesIO(response.data)).verify()
        # The phone's cached copy is still good: 304 without a body.
        again = foreman.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        assert as_role("outsider").get(path).status_code == 404


def test_presigned_serving_redirects_after_the_permission_check(app, world, worker, as_role, seaweedfs):
    app.config["PHOTO_SERVING"] = "presigned"
    assert send(worker, world.site, [jpeg((640, 480))]).status_code == 303
    photo = Photo.get(Photo.report == new_reports(world).get())
    path = f"/s/{world.site.id}/reports/{photo.report_id}/thumbs/{photo.digest}.jpg"
    assert as_role("outsider").get(path).status_code == 404  # no URL for someone who may not see it
    response = as_role("foreman").get(path)
    assert response.status_code == 302 and response.headers["Cache-Control"] == "private, no-store"
    location = response.headers["Location"]
    assert location.startswith(seaweedfs["endpoint_url"]) and "X-Amz-Expires=300" in location
    assert requests.get(location, timeout=5).content == storage.for_app(app).read(photo.digest, thumb=True)


def broken(seaweedfs, fault):
    config = s3_config(seaweedfs)
    config.update({"no_bucket": {"S3_BUCKET": "missing-" + uuid.uuid4().hex[:8]},
                   "credentials": {"S3_SECRET_ACCESS_KEY": "wrong"},
                   "down": {"S3_ENDPOINT_URL": "http://127.0.0.1:5629"}}[fault])  # nothing listens there
    return config


def test_presigned_serving_lets_the_store_through_the_content_security_policy(tmp_path, database_url, s3,
                                                                           seaweedfs):
    default = create_app({**test_config(tmp_path / "a", database_url), **s3})
    assert "img-src 'self' data: blob:;" in default.test_client().get("/sign-in").headers["Content-Security-Policy"]
    node = create_app({**test_config(tmp_path / "a", database_url), **s3, "PHOTO_SERVING": "presigned"})
    csp = node.test_client().get("/sign-in").headers["Content-Security-Policy"]
    assert f"img-src 'self' data: blob: {seaweedfs['endpoint_url']};" in csp
    assert "connect-src 'self';" in csp  # only images may come from the store


@pytest.mark.parametrize("fault", ["no_bucket", "credentials", "down"])
@pytest.mark.parametrize("outbox", [False, True])
def test_an_unusable_store_is_503_with_retry_after_and_saves_nothing(app, world, worker, seaweedfs, fault, outbox):
    good = storage.for_app(app)
    app.extensions[storage.EXTENSION] = storage.from_config(broken(seaweedfs, fault), app.instance_path)
    worker.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nb"
    before, report_uuid = Report.select().count(), str(uuid.uuid4())
    response = send(worker, world.site, [jpeg()], report_uuid, outbox)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert "Bildene kan ikke lagres" in text and "Ingenting ble lagret" in text  # in the person's language
    if outbox:
        assert response.mimetype == "text/plain"  # the outbox shows it beside the waiting item
    assert Report.select().count() == before and not Report.select().where(Report.uuid == report_uuid).exists()
    assert good.names() == []
    # The store is back: the phone's outbox sends the same item again; it is saved once, with its photo.
    app.extensions[storage.EXTENSION] = good
    assert send(worker, world.site, [jpeg()], report_uuid, outbox).status_code in (201, 303)
    assert Photo.select().join(Report).where(Report.uuid == report_uuid).count() == 1
    assert len(good.names()) == 2


@pytest.mark.parametrize("fault", ["no_bucket", "credentials", "down"])
def test_start_up_logs_and_storage_check_refuses_an_unusable_store(tmp_path, database_url, seaweedfs, fault, caplog):
    config = broken(seaweedfs, fault)
    with caplog.at_level(logging.ERROR, logger="fieldapp.storage"):
        node = create_app({**test_config(tmp_path, database_url), **config})
    words = {"no_bucket": "bucket does not exist", "credentials": "refused the credentials",
             "down": "cannot be reached"}[fault]
    assert any(words in r.getMessage() and "NOT usable" in r.getMessage() for r in caplog.records)
    result = node.test_cli_runner().invoke(args=["storage-check"])
    assert result.exit_code == 1 and words in result.output


def test_storage_check_passes_on_a_good_store(app):
    result = app.test_cli_runner().invoke(args=["storage-check"])
    assert result.exit_code == 0 and "photo storage ok: S3 bucket" in result.output


def test_backup_with_s3_names_the_bucket_and_copies_no_photos(app, world, worker, tmp_path, database_url):
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite backup; PostgreSQL uses pg_dump (README)")
    assert send(worker, world.site, [jpeg()]).status_code == 303
    archive = backup.make(app, tmp_path / "backups")
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["photos"].startswith("S3 bucket fieldapp-test")
    assert not [name for name in manifest["files"] if name.startswith("uploads/")]
    assert "database/fieldapp.db" in manifest["files"]


def test_a_local_backup_restores_into_s3(tmp_path, database_url, seaweedfs, s3):
    """The way from one node with a folder to several with a bucket: `flask backup` on the old instance,
    `flask restore` on a new one that has S3 configured: the photos go into the bucket."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite backup; PostgreSQL uses pg_dump (README)")
    old = create_app(test_config(tmp_path / "old", database_url))
    digest = "ab" + "e" * 62
    storage.for_app(old).put(digest, b"thumb", thumb=True)
    storage.for_app(old).put(digest, b"photo")
    archive = backup.make(old, tmp_path / "backups")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    new = create_app({**test_config(fresh, f"sqlite:///{fresh}/restored.db"), **s3})
    result = new.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert storage.for_app(new).read(digest) == b"photo" and storage.for_app(new).read(digest, thumb=True) == b"thumb"


def test_a_photo_is_streamed_from_the_store_in_pieces(app, world, worker, as_role):
    noise = io.BytesIO()
    Image.effect_noise((1600, 1200), 40).convert("RGB").save(noise, "JPEG", quality=90)
    assert send(worker, world.site, [noise.getvalue()]).status_code == 303
    photo = Photo.get(Photo.report == new_reports(world).get())
    stored = storage.for_app(app).read(photo.digest)
    assert len(stored) > 4 * storage.CHUNK
    response = as_role("foreman").get(f"/s/{world.site.id}/reports/{photo.report_id}/photos/{photo.digest}.jpg",
                                      buffered=False)
    assert response.is_streamed
    pieces = list(response.response)
    response.close()
    assert len(pieces) > 1 and max(len(p) for p in pieces) <= storage.CHUNK
    assert b"".join(pieces) == stored


@pytest.mark.parametrize("fault", ["credentials", "down"])
def test_viewing_a_photo_while_the_store_is_down_is_503_not_404(app, world, worker, as_role, seaweedfs, fault):
    assert send(worker, world.site, [jpeg()]).status_code == 303
    photo = Photo.get(Photo.report == new_reports(world).get())
    app.extensions[storage.EXTENSION] = storage.from_config(broken(seaweedfs, fault), app.instance_path)
    response = as_role("foreman").get(f"/s/{world.site.id}/reports/{photo.report_id}/thumbs/{photo.digest}.jpg")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
