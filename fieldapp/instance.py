"""The instance folder: secret key, VAPID key pair, audit signing key, made once on first start (the
uploads folder of local photo storage: fieldapp/storage.py).

Several nodes (issue 23) share their keys instead: FIELDAPP_SECRET_KEY (text) or FIELDAPP_SECRET_KEY_FILE,
FIELDAPP_VAPID_PRIVATE_KEY_FILE (PEM) and FIELDAPP_AUDIT_SIGNING_KEY_FILE (PEM) name the same secrets on every
node; fieldapp/keys.py then checks that they are the ones the database has seen.
"""
import os
import secrets
import stat
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from py_vapid import Vapid02
from py_vapid.utils import b64urlencode


MIN_SECRET_KEY = 32  # characters of FIELDAPP_SECRET_KEY(_FILE): a session cookie signed with less is guessable


class KeyFileError(RuntimeError):
    """A key the configuration names cannot be used: missing, unreadable, open to others, empty or malformed.
    The message names the variable, the file and what to do."""


def read_key_file(path, variable):
    """The bytes of a key file named by `variable` (e.g. "FIELDAPP_VAPID_PRIVATE_KEY_FILE").

    The file must be a regular file, readable by this process, neither readable nor writable by others and not
    writable by its group (chmod 600, or 640 for a group the nodes share: a secret that any local user can read
    is no secret). Raises KeyFileError otherwise, or when it is empty.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise KeyFileError(f"{variable}: {path} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"{variable}: cannot read {path} ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"{variable}: {path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o027:
        raise KeyFileError(f"{variable}: {path} has mode {mode:04o}, open to other users: "
                           f"chmod 600 {path} (or 640 for a group the nodes share)")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise KeyFileError(f"{variable}: cannot read {path} ({exc.strerror}): let the app's user read it") from None
    if not data.strip():
        raise KeyFileError(f"{variable}: {path} is empty")
    return data


def _create_once(path, make_bytes):
    """The file's bytes, made by make_bytes() only if it does not exist; two processes starting together agree
    on one, and a reader never sees a partial file.

    The bytes are written to a temporary file beside `path`, fsynced, then linked to `path` with os.link, which
    fails if `path` exists (create-if-absent, atomic): the name appears only with its whole content. The loser
    of a race reads the winner's file. KeyFileError when an existing file is empty (left by an older version).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        data = make_bytes()
        handle, temp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".key-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as f:  # mkstemp: mode 0600
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(temp, path)
                _fsync_folder(os.path.dirname(path) or ".")
                return data
            except FileExistsError:
                pass  # another process won: read its key below
        finally:
            os.unlink(temp)
    data = Path(path).read_bytes()
    if not data.strip():
        raise KeyFileError(f"{path} is empty: it was left half-made by an earlier start; if this instance never "
                           f"ran with it, remove it and start again (a new key is made)")
    return data


def _fsync_folder(folder):
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _text(data, what):
    """`data` (bytes) as text; KeyFileError naming `what` when it is not UTF-8 text (a binary file)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyFileError(f"{what} is not text (UTF-8): a secret key is text; make one with `python -c "
                           f"'import secrets; print(secrets.token_hex(32))'`") from None
    if not text.strip().isprintable():
        raise KeyFileError(f"{what} holds control characters: a secret key is one line of text")
    return text.strip()


def _check_secret_length(text, what):
    if len(text) < MIN_SECRET_KEY:
        raise KeyFileError(f"{what} holds fewer than {MIN_SECRET_KEY} characters: make one with "
                           f"`python -c 'import secrets; print(secrets.token_hex(32))'`")


def check_secret_key(data, what):
    """The secret key text of `data` (bytes); KeyFileError naming `what` when it is not text of at least
    MIN_SECRET_KEY characters."""
    text = _text(data, what)
    _check_secret_length(text, what)
    return text


def check_vapid_key(path, variable):
    """KeyFileError naming `variable` unless the file at `path` is a P-256 (prime256v1) EC private key, the only
    curve Web Push (RFC 8292) accepts: a P-384 or Ed25519 key would start and fail at the first push."""
    try:
        vapid = Vapid02.from_file(path)
        key = vapid.private_key
    except Exception:  # noqa: BLE001 - py_vapid raises several kinds for a file that is not a key
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyFileError(f"{variable}: {path} is not a P-256 private key (PEM); make one with "
                           f"`openssl ecparam -name prime256v1 -genkey -noout`")


def check_audit_signing_key(pem, what):
    """KeyFileError naming `what` unless `pem` (bytes) is an Ed25519 private key, PEM PKCS#8."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{what} is not an Ed25519 private key (PEM, PKCS#8); make one with "
                           f"`openssl genpkey -algorithm ed25519`")


def secret_key(instance):
    """The instance's own secret key (text), made once in <instance>/secret_key."""
    path = os.path.join(instance, "secret_key")
    return _text(_create_once(path, lambda: secrets.token_hex(32).encode()), path)


def _new_vapid_pem():
    vapid = Vapid02()
    vapid.generate_keys()
    return vapid.private_pem()


def vapid_private_key_path(instance):
    """The Web Push key pair; every push subscription is bound to it, so it is never replaced."""
    path = os.path.join(instance, "vapid_private.pem")
    _create_once(path, _new_vapid_pem)
    return path


def vapid_public_key(private_key_path):
    """The applicationServerKey: the uncompressed P-256 public point, base64url."""
    vapid = Vapid02.from_file(private_key_path)
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64urlencode(raw)


def _new_audit_signing_pem():
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def audit_signing_key_path(instance):
    """The Ed25519 key that signs the audit log's anchors (fieldapp/anchors.py), made once.

    It lives outside the database on purpose: whoever can change the database alone cannot sign an
    anchor. Replacing it makes the old anchors unverifiable without the old public key.
    """
    path = os.path.join(instance, "audit_signing_key.pem")
    _create_once(path, _new_audit_signing_pem)
    return path


def prepare(app):
    instance = app.instance_path
    os.makedirs(instance, exist_ok=True)
    config = app.config
    if config.get("SECRET_KEY") and config.get("SECRET_KEY_FILE"):
        raise KeyFileError("FIELDAPP_SECRET_KEY and FIELDAPP_SECRET_KEY_FILE are both set: keep one")
    if config.get("AUDIT_SIGNING_KEY") and config.get("AUDIT_SIGNING_KEY_FILE"):
        raise KeyFileError("FIELDAPP_AUDIT_SIGNING_KEY and FIELDAPP_AUDIT_SIGNING_KEY_FILE are both set: keep one")
    if config.get("SECRET_KEY_FILE"):
        path = config["SECRET_KEY_FILE"]
        what = f"FIELDAPP_SECRET_KEY_FILE: {path}"
        config["SECRET_KEY"] = check_secret_key(read_key_file(path, "FIELDAPP_SECRET_KEY_FILE"), what)
    elif config.get("SECRET_KEY") and not config.get("TESTING"):
        # FIELDAPP_SECRET_KEY: the same minimum as the file ("a" or " " would sign guessable cookies). Tests may
        # set any key in their configuration.
        key = config["SECRET_KEY"]
        _check_secret_length(key.strip() if isinstance(key, str) else key, "FIELDAPP_SECRET_KEY")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = secret_key(instance)
    if config.get("VAPID_PRIVATE_KEY_FILE"):
        path = config["VAPID_PRIVATE_KEY_FILE"]
        read_key_file(path, "FIELDAPP_VAPID_PRIVATE_KEY_FILE")
        check_vapid_key(path, "FIELDAPP_VAPID_PRIVATE_KEY_FILE")
        config["VAPID_PRIVATE_KEY_PATH"] = path
    config.setdefault("VAPID_PRIVATE_KEY_PATH", vapid_private_key_path(instance))
    # Anchors go next to the keys unless FLASK_AUDIT_ANCHOR_DIR names another folder (ideally another disk
    # or a folder that is shipped off the host). FLASK_AUDIT_SIGNING_KEY (PEM) replaces the key file.
    app.config.setdefault("AUDIT_ANCHOR_DIR", instance)
    if config.get("AUDIT_SIGNING_KEY_FILE"):
        path = config["AUDIT_SIGNING_KEY_FILE"]
        data = read_key_file(path, "FIELDAPP_AUDIT_SIGNING_KEY_FILE")
        check_audit_signing_key(data, f"FIELDAPP_AUDIT_SIGNING_KEY_FILE: {path}")
        config["AUDIT_SIGNING_KEY_PATH"] = path
    if config.get("AUDIT_SIGNING_KEY"):
        pem = config["AUDIT_SIGNING_KEY"]
        check_audit_signing_key(pem.encode() if isinstance(pem, str) else pem, "FIELDAPP_AUDIT_SIGNING_KEY")
    else:
        config.setdefault("AUDIT_SIGNING_KEY_PATH", audit_signing_key_path(instance))
