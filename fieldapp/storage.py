"""Photo storage (issue 23): one small interface, a local folder by default or an S3-compatible bucket.

Every stored photo is a re-encoded JPEG named by the SHA-256 of its bytes (fieldapp/photos.py); each has a
thumbnail beside it. The name of a stored object is `name_for(digest, thumb)` = "ab/<digest>[_t].jpg". This
module is the only code that knows where the bytes are: no other module reads UPLOAD_FOLDER or builds a path
under it (tests/test_storage.py greps for it).

`for_app(app)` -> the app's store, made once:
- `LocalStorage(folder)`: UPLOAD_FOLDER, default <instance>/uploads. Written to a temporary file beside the
  target, fsynced, renamed: never half a file. A full disk raises OSError(ENOSPC), which the error handler
  answers with 503 + Retry-After (issue 22).
- `S3Storage`, when FIELDAPP_S3_BUCKET is set (fieldapp/config.py): FIELDAPP_S3_ENDPOINT_URL (e.g.
  http://127.0.0.1:8333 for SeaweedFS; unset for AWS), FIELDAPP_S3_ACCESS_KEY_ID,
  FIELDAPP_S3_SECRET_ACCESS_KEY, FIELDAPP_S3_REGION (default us-east-1), FIELDAPP_S3_PREFIX (keys under a
  folder of a shared bucket, default none). boto3 with short timeouts. A store that cannot be reached, a
  missing bucket or refused credentials raise `StorageUnavailable` (reason "down", "no_bucket",
  "credentials"): the request answers 503 with Retry-After and nothing is saved (the row is written only
  after its photos), so the phone's outbox keeps the item and sends it again.

Both stores: `put(digest, data, thumb)` writes once (a second put of the same name is a no-op and returns
False), `exists`, `open` (a binary file object to stream from; FileNotFoundError when missing), `read`,
`delete` (the photo and its thumbnail), `url` (a presigned GET URL, S3 only; None for the local folder),
`names()` (everything stored), `local_files()` and `restore_file()` (what `flask backup` copies and
`flask restore` puts back; S3 copies nothing, restores into the bucket), and `check()` (StorageUnavailable when the
store cannot be used: run at start-up, where it is logged, and by `flask storage-check`, which exits 1).

Serving (measured by `python bench/photo_serving.py --seconds 10 --runs 3`: SeaweedFS 4.48 and gunicorn with
4 workers x 1 thread on 127.0.0.1, 2 cores shared with other work, wrk with 8 connections, a 620 KB photo and
its thumbnail, medians of 3 runs):
    what                     req/s   p50 ms   p99 ms   app CPU ms/photo
    app, photo (streamed)      102     57.2    255.5   3.77
    app, thumbnail             127     60.5    116.8   2.39
    presigned: the 302         191     42.3    167.4   1.93
    presigned: the GET          774      8.7     43.5   0 (the store's)
The redirect saves the app 0.5 ms (thumbnail) to 1.8 ms (photo) of CPU per view: most of the cost is the
signed-in request and the permission check, which both ways pay. But each photo is then two requests for the
phone, its URL is on another origin (fieldapp/headers.py then adds the store to img-src), and a URL
that changes every time is never found in the phone's cache, so thumbnails seen once would not show offline;
a URL handed on works for anyone until it expires. Chosen: through the app (PHOTO_SERVING = "app", the
default): streamed from the store in 64 KB pieces after the permission check (never whole in memory), with
the ETag answered 304 before the store is asked, cached privately and immutably by the phone.
PHOTO_SERVING = "presigned" redirects (302, no-store) after the same check to a URL valid PHOTO_URL_SECONDS.
"""
import errno
import logging
import os
import tempfile
import threading
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)
EXTENSION = "fieldapp_storage"
CHUNK = 64 * 1024
HEX = frozenset("0123456789abcdef")
# S3 error codes -> our reason. Anything else from the store (5xx, throttling) is "down".
NO_BUCKET_CODES = {"NoSuchBucket"}
CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "Forbidden",
                    "InvalidToken", "ExpiredToken"}
MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


class StorageUnavailable(Exception):
    """The photo store cannot be used now. reason: "down" | "no_bucket" | "credentials"; str() for the log."""

    def __init__(self, reason, detail=""):
        super().__init__(f"photo store {reason}: {detail}")
        self.reason = reason
        self.detail = detail


# What is stored, by file extension: photos (JPEG, with a thumbnail) and documents kept as sent (PDF evidence
# on Arbeidstilsynet's orders, fieldapp/duties/evidence.py). Documents have no thumbnail.
CONTENT_TYPES = {"jpg": "image/jpeg", "pdf": "application/pdf"}


def name_for(digest, thumb=False, ext="jpg"):
    """"ab/<digest>.jpg" (or "_t.jpg" for the thumbnail; ".pdf" for a document). ValueError when digest is not
    64 lowercase hex or ext is not one of CONTENT_TYPES."""
    if not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= HEX:
        raise ValueError("not a photo name")
    if ext not in CONTENT_TYPES or (thumb and ext != "jpg"):
        raise ValueError("not a stored kind")
    return f"{digest[:2]}/{digest}{'_t' if thumb else ''}.{ext}"


def parse_name(name):
    """(digest, thumb, ext) of a stored name exactly as `name_for` gives it ("ab/<digest>[_t].jpg",
    "ab/<digest>.pdf"). ValueError for anything else: another folder, "..", an absolute path, upper case,
    another extension. What `flask restore` accepts under uploads/ (fieldapp/backup.py)."""
    if not isinstance(name, str) or name.count("/") != 1:
        raise ValueError(f"not a stored name: {name!r}")
    stem, _, ext = name.split("/")[1].partition(".")
    digest, _, rest = stem.partition("_")
    thumb = rest == "t"
    try:
        if name_for(digest, thumb, ext) == name:
            return digest, thumb, ext
    except ValueError:
        pass
    raise ValueError(f"not a stored name: {name!r}")


class LocalStorage:
    """Photos in a folder of this machine (one node only: several nodes need S3Storage)."""

    kind = "local"

    def __init__(self, root):
        self.root = Path(root)

    def describe(self):
        return f"local folder {self.root}"

    def path(self, digest, thumb=False, ext="jpg"):
        return self.root / name_for(digest, thumb, ext)

    def put(self, digest, data, thumb=False, ext="jpg"):
        """Write `data` (bytes) once under the digest's name: True if written, False if already there."""
        path = self.path(digest, thumb, ext)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return False  # named by content: the same photo is already there
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise
        return True

    def exists(self, digest, thumb=False, ext="jpg"):
        return self.path(digest, thumb, ext).exists()

    def open(self, digest, thumb=False, ext="jpg"):
        """A binary file object of the stored photo (the caller closes it); FileNotFoundError when missing."""
        return open(self.path(digest, thumb, ext), "rb")

    def read(self, digest, thumb=False, ext="jpg"):
        with self.open(digest, thumb, ext) as f:
            return f.read()

    def delete(self, digest):
        """Remove the photo and its thumbnail (either may be missing)."""
        for thumb in (False, True):
            self.path(digest, thumb).unlink(missing_ok=True)

    def url(self, digest, thumb=False, seconds=300):
        return None

    def names(self):
        """Sorted names ("ab/<digest>[_t].jpg") of everything stored."""
        return [name for name, _path in self.local_files()]

    def local_files(self):
        """[(name relative to the folder, Path)] of every stored file, sorted; temporary files left out."""
        if not self.root.exists():
            return []
        return [(p.relative_to(self.root).as_posix(), p) for p in sorted(self.root.rglob("*"))
                if p.is_file() and not p.name.startswith(".upload-")]

    def restore_file(self, name, source):
        """Put a backed-up file back, renamed from `source`: returns its Path. ValueError unless `name` is
        exactly what `name_for` gives (`parse_name`): nothing outside the folder can be written."""
        target = self.path(*parse_name(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        return target

    def is_empty(self):
        return not self.local_files()

    def check(self):
        """OSError when the folder cannot be made or written."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise OSError(errno.EACCES, "the uploads folder cannot be written", str(self.root))


def _reason(exc):
    """StorageUnavailable for a boto error; FileNotFoundError for a missing object."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in NO_BUCKET_CODES:
            return StorageUnavailable("no_bucket", code)
        if code in CREDENTIAL_CODES or status == 403:
            return StorageUnavailable("credentials", code)
        if code in MISSING_CODES or status == 404:
            return FileNotFoundError(errno.ENOENT, "no such photo", code)
        return StorageUnavailable("down", f"{code} {status}")
    return StorageUnavailable("down", f"{type(exc).__name__}: {exc}")


# One boto3 session per process for every store's client: a new session reads botocore's service models again
# (about 1 MB of JSON, 0.1 s of CPU) for each client, one from a kept session 3 ms. Clients are thread-safe, a
# session is not: clients are made from it under the lock (boto3's guide, "Multithreading or multiprocessing").
# Each client keeps its own endpoint, credentials and connections.
_SESSION = boto3.session.Session()
_SESSION_LOCK = threading.Lock()


class S3Storage:
    """Photos in an S3-compatible bucket (AWS S3, SeaweedFS, Ceph RGW, Garage...)."""

    kind = "s3"

    def __init__(self, bucket, endpoint_url=None, access_key_id=None, secret_access_key=None,
                 region="us-east-1", prefix=""):
        self.bucket = bucket
        self.prefix = (prefix.strip("/") + "/") if prefix and prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        config = BotoConfig(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"},
                            max_pool_connections=32, signature_version="s3v4", s3={"addressing_style": "path"})
        with _SESSION_LOCK:
            self.client = _SESSION.client(
                "s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key_id or None,
                aws_secret_access_key=secret_access_key or None, region_name=region or "us-east-1", config=config)

    def describe(self):
        return f"S3 bucket {self.bucket} at {self.endpoint_url or 'AWS'}"

    def key(self, digest, thumb=False, ext="jpg"):
        return self.prefix + name_for(digest, thumb, ext)

    def _call(self, method, **kwargs):
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _reason(exc) from exc

    def exists(self, digest, thumb=False, ext="jpg"):
        try:
            self._call("head_object", Key=self.key(digest, thumb, ext))
        except FileNotFoundError:
            return False
        return True

    def put(self, digest, data, thumb=False, ext="jpg"):
        """Write `data` once under the digest's name: True if written, False if already there.
        StorageUnavailable when the store refuses or cannot be reached (nothing is then stored)."""
        if self.exists(digest, thumb, ext):
            return False
        self._call("put_object", Key=self.key(digest, thumb, ext), Body=data, ContentType=CONTENT_TYPES[ext])
        return True

    def open(self, digest, thumb=False, ext="jpg"):
        """The object's streaming body (read(n), iter_chunks(), close(); .size: its length in bytes);
        FileNotFoundError when missing."""
        answer = self._call("get_object", Key=self.key(digest, thumb, ext))
        body = answer["Body"]
        body.size = answer.get("ContentLength")
        return body

    def read(self, digest, thumb=False, ext="jpg"):
        body = self.open(digest, thumb, ext)
        try:
            return body.read()
        finally:
            body.close()

    def delete(self, digest):
        for thumb in (False, True):
            self._call("delete_object", Key=self.key(digest, thumb))

    def url(self, digest, thumb=False, seconds=300):
        """A presigned GET URL valid for `seconds` (signed locally: no request to the store)."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key(digest, thumb)}, ExpiresIn=int(seconds))

    def names(self):
        """Sorted names ("ab/<digest>[_t].jpg") of everything under the prefix (listed 1,000 at a time)."""
        out = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                out += [item["Key"][len(self.prefix):] for item in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            raise _reason(exc) from exc
        return sorted(out)

    def local_files(self):
        return []  # the bucket is backed up by the store's own tools (README, Photo storage)

    def restore_file(self, name, source):
        """Put a backed-up file of local storage ("ab/<digest>[_t].jpg") into the bucket, once: the way from
        a local folder to S3 is `flask backup` on the old node, `flask restore` on the new one."""
        digest, thumb, ext = parse_name(name)
        with open(source, "rb") as f:
            self.put(digest, f.read(), thumb, ext)

    def is_empty(self):
        return True  # the bucket may hold other instances' photos (a prefix each); files are put once by name

    def check(self):
        """StorageUnavailable unless the bucket exists and the credentials may read it."""
        try:
            self._call("head_bucket")
            self._call("list_objects_v2", Prefix=self.prefix, MaxKeys=1)
        except FileNotFoundError as exc:  # HEAD has no body: a bare 404 is the bucket's
            raise StorageUnavailable("no_bucket", "404") from exc


def from_config(config, instance_path):
    """The store a configuration names: S3Storage when S3_BUCKET is set, else LocalStorage(UPLOAD_FOLDER or
    <instance_path>/uploads)."""
    if config.get("S3_BUCKET"):
        return S3Storage(config["S3_BUCKET"], config.get("S3_ENDPOINT_URL"), config.get("S3_ACCESS_KEY_ID"),
                         config.get("S3_SECRET_ACCESS_KEY"), config.get("S3_REGION") or "us-east-1",
                         config.get("S3_PREFIX") or "")
    return LocalStorage(config.get("UPLOAD_FOLDER") or os.path.join(instance_path, "uploads"))


def for_app(app):
    """The app's store (made by init_app, or on first use)."""
    store = app.extensions.get(EXTENSION)
    if store is None:
        store = app.extensions[EXTENSION] = from_config(app.config, app.instance_path)
    return store


def check(app):
    """(ok, message) for the app's store: message says what is wrong and which variable to look at."""
    store = for_app(app)
    try:
        store.check()
    except StorageUnavailable as exc:
        hint = {"no_bucket": "the bucket does not exist: create it (FIELDAPP_S3_BUCKET)",
                "credentials": "the store refused the credentials (FIELDAPP_S3_ACCESS_KEY_ID, "
                               "FIELDAPP_S3_SECRET_ACCESS_KEY)",
                "down": "the store cannot be reached (FIELDAPP_S3_ENDPOINT_URL)"}[exc.reason]
        return False, f"photo storage NOT usable: {store.describe()}: {hint} ({exc.detail})"
    except OSError as exc:
        return False, f"photo storage NOT usable: {store.describe()}: {exc}"
    return True, f"photo storage ok: {store.describe()}"


def init_app(app):
    """Make the store; for S3, check it once and log an error line (not a refusal: the store may come back,
    and check-ins and alerts need no photos) when it cannot be used. `flask storage-check` refuses."""
    store = for_app(app)
    if store.kind == "s3":
        ok, message = check(app)
        if ok:
            log.info(message)
        else:
            log.error(message)
