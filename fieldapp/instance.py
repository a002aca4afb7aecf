"""The instance folder: secret key, VAPID key pair, audit signing key, made once on first start (the
uploads folder of local photo storage: fieldapp/storage.py).

Several nodes (issue 23) share their keys instead: FIELDAPP_SECRET_KEY (text) or FIELDAPP_SECRET_KEY_FILE,
FIELDAPP_VAPID_PRIVATE_KEY_FILE (PEM) and FIELDAPP_AUDIT_SIGNING_KEY_FILE (PEM) name the same secrets on every
node; fieldapp/keys.py then checks that they are the ones the database has seen.
"""
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
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
    """Write the file only if it does not exist; two processes starting together agree on one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Path(path).read_bytes()
    data = make_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return data


def secret_key(instance):
    return _create_once(os.path.join(instance, "secret_key"), lambda: secrets.token_hex(32).encode()).decode()


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
        text = read_key_file(config["SECRET_KEY_FILE"], "FIELDAPP_SECRET_KEY_FILE").decode("utf-8", "replace")
        config["SECRET_KEY"] = text.strip()
        if len(config["SECRET_KEY"]) < MIN_SECRET_KEY:
            raise KeyFileError(f"FIELDAPP_SECRET_KEY_FILE: {config['SECRET_KEY_FILE']} holds fewer than "
                               f"{MIN_SECRET_KEY} characters: make one with `python -c 'import secrets; "
                               f"print(secrets.token_hex(32))'`")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = secret_key(instance)
    if config.get("VAPID_PRIVATE_KEY_FILE"):
        path = config["VAPID_PRIVATE_KEY_FILE"]
        read_key_file(path, "FIELDAPP_VAPID_PRIVATE_KEY_FILE")
        try:
            Vapid02.from_file(path)
        except Exception:  # noqa: BLE001 - py_vapid raises several kinds for a file that is not a key
            raise KeyFileError(f"FIELDAPP_VAPID_PRIVATE_KEY_FILE: {path} is not a P-256 private key (PEM); "
                               f"make one with `openssl ecparam -name prime256v1 -genkey -noout`") from None
        config["VAPID_PRIVATE_KEY_PATH"] = path
    config.setdefault("VAPID_PRIVATE_KEY_PATH", vapid_private_key_path(instance))
    # Anchors go next to the keys unless FLASK_AUDIT_ANCHOR_DIR names another folder (ideally another disk
    # or a folder that is shipped off the host). FLASK_AUDIT_SIGNING_KEY (PEM) replaces the key file.
    app.config.setdefault("AUDIT_ANCHOR_DIR", instance)
    if config.get("AUDIT_SIGNING_KEY_FILE"):
        path = config["AUDIT_SIGNING_KEY_FILE"]
        data = read_key_file(path, "FIELDAPP_AUDIT_SIGNING_KEY_FILE")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"FIELDAPP_AUDIT_SIGNING_KEY_FILE: {path} is not an Ed25519 private key (PEM, "
                               f"PKCS#8); make one with `openssl genpkey -algorithm ed25519`")
        config["AUDIT_SIGNING_KEY_PATH"] = path
    if not config.get("AUDIT_SIGNING_KEY"):
        config.setdefault("AUDIT_SIGNING_KEY_PATH", audit_signing_key_path(instance))
