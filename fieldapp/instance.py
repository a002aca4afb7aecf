"""The instance folder: secret key, VAPID key pair and audit signing key, made once on first start (the
uploads folder of local photo storage: fieldapp/storage.py)."""
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from py_vapid import Vapid02
from py_vapid.utils import b64urlencode


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
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(instance)
    app.config.setdefault("VAPID_PRIVATE_KEY_PATH", vapid_private_key_path(instance))
    # Anchors go next to the keys unless FLASK_AUDIT_ANCHOR_DIR names another folder (ideally another disk
    # or a folder that is shipped off the host). FLASK_AUDIT_SIGNING_KEY (PEM) replaces the key file.
    app.config.setdefault("AUDIT_ANCHOR_DIR", instance)
    if not app.config.get("AUDIT_SIGNING_KEY"):
        app.config.setdefault("AUDIT_SIGNING_KEY_PATH", audit_signing_key_path(instance))
