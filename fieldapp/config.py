"""Configuration: safe defaults in code (Defaults), overridden by environment variables that settings() reads.

settings() is the one place that reads the environment: create_app (fieldapp/__init__.py) and the task queue
(fieldapp/queue.py) both take what it returns. Every variable has one prefix, FIELDAPP_ (the README's table).
"""
import json
import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


PREFIX = "FIELDAPP_"
# Names read before the one prefix, still read (after FIELDAPP_<NAME>) so that a deployment keeps working:
# FLASK_<NAME> for any setting, and these three without a prefix.
OLD_PREFIX = "FLASK_"
OLD_NAMES = ("DATABASE_URL", "REDIS_URL", "PUSH_ALLOWED_HOSTS")
# The interface's languages, each by its own name, in the order the language menus list them: the one list
# (Defaults.LANGUAGES for i18n and the profile, the forms' choices).
LANGUAGE_NAMES = {"nb": "Norsk bokmål", "en": "English", "pl": "Polski", "lt": "Lietuvių", "uk": "Українська"}


def _flag(value):
    return value.strip().lower() in ("1", "true", "yes", "on")


def _value(text):
    """As Flask's from_prefixed_env: JSON when the text parses (numbers, true, lists), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def settings(environ=None):
    """The settings the environment gives: {NAME: value}, from FIELDAPP_<NAME> (or an old name, see OLD_NAMES).

    Always has INSTANCE_PATH (FIELDAPP_INSTANCE, default ./instance: keys, databases, uploads). Special forms:
    FIELDAPP_LOCAL_DEV (a flag: 1/true/yes/on) sets LOCAL_DEV and turns SESSION_COOKIE_SECURE off;
    FIELDAPP_HSTS is a flag; PUSH_ALLOWED_HOSTS is a comma-separated list; TRUSTED_PROXIES an integer.
    Raises ValueError for a TRUSTED_PROXIES that is not an integer.
    """
    env = os.environ if environ is None else environ
    found = {}
    for name in OLD_NAMES:
        if name in env:
            found[name] = env[name]
    for prefix in (OLD_PREFIX, PREFIX):  # FIELDAPP_ last: it wins
        found.update({key[len(prefix):]: text for key, text in env.items() if key.startswith(prefix)})
    values = {"INSTANCE_PATH": found.pop("INSTANCE", None) or str(PROJECT_ROOT / "instance")}
    for name in ("LOCAL_DEV", "HSTS"):
        if name in found:
            values[name] = _flag(found.pop(name))
    if values.get("LOCAL_DEV"):
        values["SESSION_COOKIE_SECURE"] = False
    if "PUSH_ALLOWED_HOSTS" in found:
        values["PUSH_ALLOWED_HOSTS"] = tuple(h.strip() for h in found.pop("PUSH_ALLOWED_HOSTS").split(",") if h.strip())
    if "TRUSTED_PROXIES" in found:
        text = found.pop("TRUSTED_PROXIES").strip()
        if text:
            values["TRUSTED_PROXIES"] = int(text)
    # Taken as text, never parsed as JSON: a secret key of digits, or a bucket name, stays a string.
    for name in ("DATABASE_URL", "REDIS_URL", "VAPID_SUBJECT", "SECRET_KEY", "SECRET_KEY_FILE",
                 "VAPID_PRIVATE_KEY_FILE", "AUDIT_SIGNING_KEY", "AUDIT_SIGNING_KEY_FILE", "ACCEPT_NEW_KEYS",
                 "S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION", "S3_PREFIX"):
        if name in found:
            values[name] = found.pop(name)
    values.update({name: _value(text) for name, text in found.items()})
    return values


class Defaults:
    # Set per installation: FIELDAPP_SECRET_KEY or FIELDAPP_SECRET_KEY_FILE (every node the same), or the
    # instance/secret_key file made on first run (one node).
    SECRET_KEY = None
    # Names of instance keys (secret_key, vapid, audit_signing) whose new fingerprint this start records in
    # place of the old one, after a deliberate change (fieldapp/keys.py). Empty: a changed key stops the start.
    ACCEPT_NEW_KEYS = ""
    DEBUG = False
    # Local development over plain http (make run) turns this off; production is behind HTTPS.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=180)
    # The cookie only carries the device-session token, which expires server-side: re-signing it
    # on every response would cost every page for nothing.
    SESSION_REFRESH_EACH_REQUEST = False
    # Pages and JSON compressed (Flask-Compress; static files are compressed once at startup by
    # fieldapp/static_files.py). Not images, PDFs or spreadsheets: they are compressed already.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_BR_LEVEL = 5
    COMPRESS_MIMETYPES = ["text/html", "text/plain", "text/css", "text/javascript", "application/javascript",
                          "application/json", "application/manifest+json", "text/csv", "image/svg+xml"]
    COMPRESS_STREAMS = False
    # A device session (server-side, revocable) lasts this long, and ends sooner when unused.
    DEVICE_SESSION_DAYS = 180
    DEVICE_SESSION_IDLE_DAYS = 45
    ENROLLMENT_CODE_MINUTES = 30
    # Failed sign-ins from devices the person has not signed in on before, per phone number: at most 5
    # per 15-minute window and 20 per day (README "Sign-in throttling": the guessing rate per year).
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_DAY = 20
    # Per client address (untrusted devices only): a whole crew often shares one (carrier NAT, site wi-fi).
    LOGIN_MAX_FAILURES_PER_IP = 50
    # A device with the person's device cookie counts only its own failures: per window, and per day
    # LOGIN_MAX_FAILURES_PER_DAY like a number.
    LOGIN_MAX_FAILURES_PER_DEVICE = 10
    DEVICE_COOKIE_DAYS = 365
    # argon2 cost for PINs and passwords (fieldapp/accounts/service.py HASHERS); "test" only with TESTING.
    ARGON2_PROFILE = "default"
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (werkzeug ProxyFix); 0 trusts
    # none, so a client cannot choose its own address for the per-address limit.
    TRUSTED_PROXIES = 0
    # Tokens live as long as the session: an outbox may replay a form hours later.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_DEFAULT_TIMEZONE = "Europe/Oslo"
    LANGUAGES = tuple(LANGUAGE_NAMES)
    # FIELDAPP_LOCAL_DEV: plain http on 127.0.0.1 (make run); push set-up warnings are not logged either.
    LOCAL_DEV = False
    VAPID_SUBJECT = "mailto:hms@fieldapp.invalid"
    # Push messages in flight at once when an alert is delivered.
    PUSH_WORKERS = 64
    # Push endpoints must be public https; the tests' fake push service is on http://127.0.0.1.
    PUSH_ALLOW_LOCAL_ENDPOINTS = False
    # Push service hosts beyond the browsers' own (fieldapp.push.DEFAULT_ALLOWED_HOSTS): "host" or "*.suffix".
    PUSH_ALLOWED_HOSTS = ()
    # byggherreforskriften § 15: the attendance list is kept six months after the work ends.
    ATTENDANCE_RETENTION_DAYS = 183
    # `flask backup` and the worker's daily backup (fieldapp/backup.py): where (default <instance>/backups;
    # better another disk), at what hour (UTC), and how many archives are kept.
    BACKUP_DIR = None
    BACKUP_KEEP = 7
    BACKUP_HOUR = 2
    # Lists and exports mark a record whose phone time and receipt differ by more than this (fieldapp/phone_time.py).
    PHONE_CLOCK_MARK_MINUTES = 5
    # Set to serve the Strict-Transport-Security header (only behind HTTPS).
    HSTS = False
    # Photo storage (fieldapp/storage.py): the local folder UPLOAD_FOLDER (default <instance>/uploads), or an
    # S3-compatible bucket when FIELDAPP_S3_BUCKET is set. PHOTO_SERVING: "app" (streamed through the app after
    # the permission check) or "presigned" (a 302 to a URL valid PHOTO_URL_SECONDS); README "Photo storage".
    UPLOAD_FOLDER = None
    S3_BUCKET = None
    S3_ENDPOINT_URL = None
    S3_ACCESS_KEY_ID = None
    S3_SECRET_ACCESS_KEY = None
    S3_REGION = "us-east-1"
    S3_PREFIX = ""
    PHOTO_SERVING = "app"
    PHOTO_URL_SECONDS = 300
