"""Issue 23: photo storage behind one interface, on the local folder and on a real S3 store (SeaweedFS)."""
import io
import re
import uuid
from pathlib import Path

import pytest
import requests

from fieldapp import storage
from fieldapp.config import PROJECT_ROOT, settings

from helpers import s3_config

DIGEST = "ab" + "c" * 62


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return storage.LocalStorage(tmp_path / "uploads")
    config = s3_config(request.getfixturevalue("seaweedfs"))
    return storage.from_config(config, str(tmp_path))


def test_only_the_storage_module_knows_where_photos_are():
    """No code but fieldapp/storage.py reads UPLOAD_FOLDER or builds a path in the uploads folder (config.py
    only names the setting's default)."""
    offenders = []
    pattern = re.compile(r"UPLOAD_FOLDER|[\"']uploads[\"']|path_for\(|photos\.folder\(")
    for path in sorted((PROJECT_ROOT / "fieldapp").rglob("*.py")):
        if path.name in ("storage.py", "config.py") and path.parent.name == "fieldapp":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_a_photo_is_written_once_under_its_name_and_read_back(store):
    assert store.names() == [] and not store.exists(DIGEST)
    assert store.put(DIGEST, b"first") is True
    assert store.put(DIGEST, b"second") is False  # named by content: the first stays
    assert store.put(DIGEST, b"thumb", thumb=True) is True
    assert store.exists(DIGEST) and store.exists(DIGEST, thumb=True)
    assert store.read(DIGEST) == b"first" and store.read(DIGEST, thumb=True) == b"thumb"
    assert store.names() == [f"ab/{DIGEST}.jpg", f"ab/{DIGEST}_t.jpg"]
    body = store.open(DIGEST)
    try:
        assert body.read(2) == b"fi" and body.read() == b"rst"  # a stream, read in pieces
    finally:
        body.close()
    store.delete(DIGEST)
    assert store.names() == [] and not store.exists(DIGEST, thumb=True)
    with pytest.raises(FileNotFoundError):
        store.open(DIGEST)
    store.delete(DIGEST)  # deleting what is gone is no error


@pytest.mark.parametrize("name", ["../../etc/passwd", "AB" + "c" * 62, "ab" * 31, ""])
def test_only_a_digest_names_a_photo(name):
    with pytest.raises(ValueError):
        storage.name_for(name)


def test_s3_settings_come_from_the_environment_as_text():
    found = settings({"FIELDAPP_S3_BUCKET": "photos", "FIELDAPP_S3_ENDPOINT_URL": "http://127.0.0.1:8333",
                      "FIELDAPP_S3_ACCESS_KEY_ID": "1234", "FIELDAPP_S3_SECRET_ACCESS_KEY": "0777",
                      "FIELDAPP_S3_REGION": "eu-north-1"})
    assert found["S3_ACCESS_KEY_ID"] == "1234" and found["S3_SECRET_ACCESS_KEY"] == "0777"  # not numbers
    made = storage.from_config({**found}, "/tmp/unused")
    assert made.kind == "s3" and made.bucket == "photos" and made.client.meta.region_name == "eu-north-1"
    assert storage.from_config({}, "/srv/instance").root == Path("/srv/instance/uploads")


def test_a_presigned_url_reads_the_photo_without_credentials(seaweedfs, tmp_path):
    made = storage.from_config(s3_config(seaweedfs), str(tmp_path))
    made.put(DIGEST, b"\xff\xd8 a photo")
    url = made.url(DIGEST, seconds=60)
    assert url.startswith(seaweedfs["endpoint_url"]) and "Signature=" in url
    assert requests.get(url, timeout=5).content == b"\xff\xd8 a photo"
    tampered = url.replace(DIGEST, "ab" + "d" * 62)
    assert requests.get(tampered, timeout=5).status_code == 403
    assert storage.LocalStorage(tmp_path).url(DIGEST) is None


@pytest.mark.parametrize("fault", ["no_bucket", "credentials", "down"])
def test_a_store_that_cannot_be_used_says_why(seaweedfs, tmp_path, fault):
    config = broken_config(seaweedfs, fault)
    made = storage.from_config(config, str(tmp_path))
    with pytest.raises(storage.StorageUnavailable) as caught:
        made.put(DIGEST, b"photo")
    assert caught.value.reason == fault
    with pytest.raises(storage.StorageUnavailable):
        made.check()


def broken_config(server, fault):
    config = s3_config(server)
    if fault == "no_bucket":
        config["S3_BUCKET"] = "no-such-bucket-" + uuid.uuid4().hex[:8]
    elif fault == "credentials":
        config["S3_SECRET_ACCESS_KEY"] = "wrong"
    else:
        config["S3_ENDPOINT_URL"] = "http://127.0.0.1:5629"  # nothing listens there
    return config


def test_local_storage_refuses_an_unsafe_restore_name(tmp_path):
    source = tmp_path / "file"
    source.write_bytes(b"x")
    with pytest.raises(ValueError):
        storage.LocalStorage(tmp_path / "uploads").restore_file("../escape.jpg", source)
    assert not (tmp_path / "escape.jpg").exists()


def test_s3_restore_takes_only_photo_names(seaweedfs, tmp_path):
    source = tmp_path / "file"
    source.write_bytes(b"photo bytes")
    made = storage.from_config(s3_config(seaweedfs), str(tmp_path))
    made.restore_file(f"ab/{DIGEST}_t.jpg", source)
    assert made.read(DIGEST, thumb=True) == b"photo bytes"
    with pytest.raises(ValueError):
        made.restore_file("ab/../../other.jpg", source)
    assert io.BytesIO(made.read(DIGEST, thumb=True)).read() == b"photo bytes"


def test_storage_check_on_the_local_folder(app):
    if storage.for_app(app).kind != "local":
        pytest.skip("the local folder's check")
    result = app.test_cli_runner().invoke(args=["storage-check"])
    assert result.exit_code == 0 and "photo storage ok: local folder" in result.output
    assert str(storage.for_app(app).root).startswith(app.instance_path)
