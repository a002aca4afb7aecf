"""Sign-in: phone numbers, PIN/password hashes, device sessions, enrollment codes, throttling."""
import functools
import hashlib
import re
import secrets
from collections import namedtuple
from datetime import date, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from peewee import JOIN

from .. import audit
from ..db import Prepared, database, slot
from ..models import DeviceSession, EnrollmentCode, LoginThrottle, Membership, Site, User, utcnow

# argon2 parameters by the ARGON2_PROFILE setting. "default": argon2-cffi's own (RFC 9106's low-memory
# profile, 64 MiB and 3 passes). "test": its CHEAPEST profile (8 KiB, 1 pass), so a test suite that
# signs in hundreds of times does not pay seconds each; refused unless TESTING is on (see _hasher).
HASHERS = {
    "default": PasswordHasher(),
    "test": PasswordHasher.from_parameters(profiles.CHEAPEST),
}

# No 0/O, 1/I/L: the code is read aloud on a noisy site and typed with gloves.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
# People remembered by one device cookie: a phone shared by a crew.
DEVICE_COOKIE_PEOPLE = 5


class SignInError(Exception):
    """Wrong phone number or PIN/password; the message never says which."""


class Throttled(Exception):
    def __init__(self, retry_after):
        super().__init__(retry_after)
        self.retry_after = retry_after


def normalize_phone(raw):
    """'+47 912 34 567', '0047 91234567' and '91234567' all become '+4791234567'; None if not a number."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"\d{8}", digits):
        digits = "+47" + digits
    if not re.fullmatch(r"\+\d{7,15}", digits):
        return None
    return digits


def _looks_like_date(digits):
    """A date as Norwegians write it (and a fødselsnummer starts): DDMMYY, or DDMMYYYY with 8 digits."""
    if len(digits) not in (6, 8):
        return False
    try:
        date(2000, int(digits[2:4]), int(digits[0:2]))  # 2000: a leap year, so 29 February counts too
    except ValueError:
        return False
    return len(digits) == 6 or digits[4:6] in ("19", "20")


def pin_pattern(digits):
    """Why a PIN of digits is guessable, or None: "pin_trivial" or "pin_date".

    Refused, as the first guesses of anyone who tries (issue 14; NIST SP 800-63B 3.1.1.2, "repetitive
    or sequential characters"): two or fewer different digits (111111, 111222), a run up or down
    (123456, 987654, 890123), a repeated block (121212, 123123), doubled digits (112233), a mirror
    (123321), and dates (010190, 01011990).
    """
    n = len(digits)
    if len(set(digits)) <= 2 or digits in "01234567890123456789" or digits in "98765432109876543210":
        return "pin_trivial"
    if any(n % size == 0 and digits == digits[:size] * (n // size) for size in range(1, n // 2 + 1)):
        return "pin_trivial"
    if n % 2 == 0 and all(digits[i] == digits[i + 1] for i in range(0, n, 2)):
        return "pin_trivial"
    if digits == digits[::-1]:
        return "pin_trivial"
    if _looks_like_date(digits):
        return "pin_date"
    return None


def secret_problem(secret):
    """Why a new PIN or password is not good enough, or None. Messages are translated by the caller.

    A PIN has 6 to 12 digits and no pattern (pin_pattern); a password 10 to 200 characters.
    """
    if secret.isdigit():
        if not 6 <= len(secret) <= 12:
            return "pin_length"
        return pin_pattern(secret)
    if len(secret) < 10:
        return "password_length"
    if len(secret) > 200:
        return "password_long"
    return None


def _hasher():
    """The PasswordHasher for the app's ARGON2_PROFILE ("default" outside an app context).

    Raises RuntimeError for an unknown profile, and for "test" when TESTING is off: cheap hashes
    must never protect real PINs.
    """
    profile = current_app.config.get("ARGON2_PROFILE", "default") if has_app_context() else "default"
    if profile not in HASHERS:
        raise RuntimeError(f"ARGON2_PROFILE must be one of {sorted(HASHERS)}, not {profile!r}")
    if profile != "default" and not current_app.config.get("TESTING"):
        raise RuntimeError(f"ARGON2_PROFILE={profile!r} is for tests only (TESTING is off)")
    return HASHERS[profile]


@functools.cache
def _dummy_hash(hasher):
    # Verified when the phone number is unknown, so a wrong number costs as long as a wrong PIN.
    return hasher.hash("not-a-real-password")


def hash_secret(secret):
    """The argon2 hash (str) of a PIN or password, with the app's ARGON2_PROFILE parameters."""
    return _hasher().hash(secret)


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


# --- throttling -----------------------------------------------------------------------------
#
# OWASP's "device cookies" (Slow Down Online Guessing Attacks with Device Cookies): a device on which a
# person has signed in keeps a signed cookie naming them. On such a device only that device's own
# failures count, so an attacker hammering a phone number (or an address a crew shares) never locks
# the rightful person out of their own phone. Every other attempt counts against the phone number
# (a short and a daily window) and the client address. README "Sign-in throttling" has the figures.

class Limit(namedtuple("Limit", "max_failures seconds")):
    """At most max_failures failed attempts per fixed window of `seconds`."""


def check_throttle(limits):
    """limits: {key: Limit}. Raises Throttled(seconds until the latest blocking window ends)."""
    now = utcnow()
    waits = []
    for row in LoginThrottle.select().where(LoginThrottle.key.in_(list(limits))):
        ends = row.window_started_at + timedelta(seconds=limits[row.key].seconds)
        if ends > now and row.failures >= limits[row.key].max_failures:
            waits.append(int((ends - now).total_seconds()) + 1)
    if waits:
        raise Throttled(max(waits))


def note_failure(limits):
    """One more failure for each key of limits ({key: Limit}); a key's expired window starts again."""
    now = utcnow()
    with database.atomic():
        for key, limit in limits.items():
            LoginThrottle.delete().where(
                (LoginThrottle.key == key)
                & (LoginThrottle.window_started_at < now - timedelta(seconds=limit.seconds))).execute()
            (LoginThrottle.insert(key=key, failures=1, window_started_at=now)
             .on_conflict(conflict_target=[LoginThrottle.key],
                          update={LoginThrottle.failures: LoginThrottle.failures + 1})
             .execute())


def clear_failures(key):
    LoginThrottle.delete().where(LoginThrottle.key == key).execute()


def untrusted_limits(phone, ip):
    """For an attempt from a device that has not signed in as this person before."""
    cfg = current_app.config
    return {
        f"phone:{phone}": Limit(cfg["LOGIN_MAX_FAILURES"], cfg["LOGIN_WINDOW_SECONDS"]),
        f"phone-day:{phone}": Limit(cfg["LOGIN_MAX_FAILURES_PER_DAY"], 24 * 3600),
        f"ip:{ip}": Limit(cfg["LOGIN_MAX_FAILURES_PER_IP"], cfg["LOGIN_WINDOW_SECONDS"]),
    }


def _device_serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt="fieldapp.device-cookie")


def _pin_tag(user):
    # Binds the cookie to the PIN it was earned with: a new PIN (a lost phone) voids the old devices.
    return _sha256(user.password_hash or "")[:16]


def device_cookie_entries(value):
    """[(user_id, nonce, pin_tag)] from a device cookie; [] if absent, forged or older than its lifetime."""
    if not value:
        return []
    try:
        entries = _device_serializer().loads(value, max_age=current_app.config["DEVICE_COOKIE_DAYS"] * 86400)
    except BadSignature:  # also SignatureExpired
        return []
    if not isinstance(entries, list):
        return []
    return [tuple(e) for e in entries if isinstance(e, list) and len(e) == 3]


def device_cookie_for(value, user):
    """The new device cookie after `user` signed in on this device: theirs first, at most five people
    (a shared phone), each entry with a fresh nonce so that a copied old cookie is not renewed."""
    others = [e for e in device_cookie_entries(value) if e[0] != user.id][:DEVICE_COOKIE_PEOPLE - 1]
    entries = [[user.id, secrets.token_urlsafe(12), _pin_tag(user)]] + [list(e) for e in others]
    return _device_serializer().dumps(entries)


def _trusted_device_key(user, device_cookie):
    """The throttle key of this device for this person if the cookie vouches for it, else None."""
    if user is None or user.password_hash is None:
        return None
    for user_id, nonce, tag in device_cookie_entries(device_cookie):
        if user_id == user.id and secrets.compare_digest(str(tag), _pin_tag(user)):
            return f"device:{nonce}"
    return None


# --- sign-in and device sessions ------------------------------------------------------------

def authenticate(raw_phone, secret, ip, device_cookie=None):
    """The user for this phone number and PIN/password. Raises SignInError or Throttled.

    ip: the client's address (behind a trusted proxy, the one ProxyFix took from X-Forwarded-For);
    device_cookie: the raw device cookie, or None. A device the person has signed in on before is
    limited only by its own failures (LOGIN_MAX_FAILURES_PER_DEVICE); once over it, it counts as any
    other device: per phone number (short and daily windows) and per address.
    """
    phone = normalize_phone(raw_phone) or (raw_phone or "").strip()[:40]
    user = User.get_or_none((User.phone == phone) & (User.active == True))  # noqa: E712
    cfg = current_app.config
    device_key = _trusted_device_key(user, device_cookie)
    limits = None
    if device_key is not None:
        # Also a daily cap: a stolen phone that is still vouched for must not get 960 guesses a day.
        limits = {device_key: Limit(cfg["LOGIN_MAX_FAILURES_PER_DEVICE"], cfg["LOGIN_WINDOW_SECONDS"]),
                  device_key.replace("device:", "device-day:", 1): Limit(cfg["LOGIN_MAX_FAILURES_PER_DAY"],
                                                                          24 * 3600)}
        try:
            check_throttle(limits)
        except Throttled:
            limits = None  # this device used up its own allowance: no longer vouched for
    if limits is None:
        limits = untrusted_limits(phone, ip)
        check_throttle(limits)
    hasher = _hasher()
    stored = user.password_hash if user and user.password_hash else _dummy_hash(hasher)
    try:
        hasher.verify(stored, secret)
        ok = user is not None and user.password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        note_failure(limits)
        raise SignInError()
    # The daily window stays: a right PIN on some device must not hand an attacker a new day's tries.
    clear_failures(device_key if device_key in limits else f"phone:{phone}")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(secret)
        User.update(password_hash=user.password_hash).where(User.id == user.id).execute()
    return user


def start_device_session(user, user_agent):
    """A new server-side session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with database.atomic():
        session = DeviceSession.create(
            token_hash=_sha256(token), user=user, user_agent=(user_agent or "")[:300],
            created_at=now, last_seen_at=now,
            expires_at=now + timedelta(days=current_app.config["DEVICE_SESSION_DAYS"]),
        )
        audit.record(user, "session.start", "device_session", session.id)
    return token


def _live_session_query(with_site_membership=False):
    query = DeviceSession.select(DeviceSession, User).join(User)
    if with_site_membership:
        # The role on the URL's site comes in the same query (LEFT JOIN: None when not a member).
        query = (query.select_extend(Membership, Site)
                 .join_from(User, Membership, JOIN.LEFT_OUTER, attr="site_membership",
                            on=(Membership.user == User.id) & (Membership.site == slot("site_id")))
                 .join_from(Membership, Site, JOIN.LEFT_OUTER))
    return (query.where((DeviceSession.token_hash == slot("token_hash"))
                        & DeviceSession.revoked_at.is_null()
                        & (DeviceSession.expires_at > slot("now", DeviceSession.expires_at))
                        & (DeviceSession.last_seen_at > slot("idle_since", DeviceSession.last_seen_at))
                        & (User.active == True))  # noqa: E712
            .limit(1))


# Every signed-in request runs one of these: prepared once (see db.Prepared).
_live_session = Prepared(_live_session_query)
_live_session_on_site = Prepared(lambda: _live_session_query(with_site_membership=True))


def session_for_token(token, site_id=None):
    """The live DeviceSession (with its user) for a cookie token, or None.

    With site_id, session.user.site_membership is the person's Membership of that site (with its
    site), or None: one query for both, as every site page needs both.
    """
    if not token:
        return None
    now = utcnow()
    idle = timedelta(days=current_app.config["DEVICE_SESSION_IDLE_DAYS"])
    values = dict(token_hash=_sha256(token), now=now, idle_since=now - idle)
    if site_id is None:
        session = _live_session.first(**values)
    else:
        session = _live_session_on_site.first(site_id=site_id, **values)
        if session is not None:
            membership = getattr(session.user, "site_membership", None)
            session.user.site_membership = membership if membership is not None and membership.id else None
    if session and now - session.last_seen_at > timedelta(minutes=5):
        # Written at most every five minutes: a write per request would cost every page.
        DeviceSession.update(last_seen_at=now).where(DeviceSession.id == session.id).execute()
    return session


def revoke_session(actor, session_id, user):
    """End one of the user's device sessions. Returns False if there is no such live session."""
    with database.atomic():
        count = (DeviceSession.update(revoked_at=utcnow())
                 .where((DeviceSession.id == session_id) & (DeviceSession.user == user)
                        & DeviceSession.revoked_at.is_null())
                 .execute())
        if count:
            audit.record(actor, "session.revoke", "device_session", session_id)
    return bool(count)


def live_sessions(user):
    now = utcnow()
    return list(DeviceSession.select()
                .where((DeviceSession.user == user) & DeviceSession.revoked_at.is_null()
                       & (DeviceSession.expires_at > now))
                .order_by(DeviceSession.last_seen_at.desc()))


# --- enrollment -----------------------------------------------------------------------------

def normalize_code(raw):
    return re.sub(r"[^0-9A-Z]", "", (raw or "").upper())[:CODE_LENGTH * 2]


def format_code(code):
    return f"{code[:4]}-{code[4:]}"


def enrollment_link(code):
    """The QR code's link: https://host/enroll#K7M4Q9XP. The code is after "#", which browsers never
    send: it stays out of request paths and access logs; the page's script posts it (issue 14)."""
    return url_for("accounts.enroll", _external=True) + "#" + code


def issue_enrollment_code(actor, user):
    """A new single-use code for the user; earlier unused codes stop working."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = utcnow()
    with database.atomic():
        EnrollmentCode.update(used_at=now).where(
            (EnrollmentCode.user == user) & EnrollmentCode.used_at.is_null()).execute()
        EnrollmentCode.create(
            code_hash=_sha256(code), user=user, created_by=actor, created_at=now,
            expires_at=now + timedelta(minutes=current_app.config["ENROLLMENT_CODE_MINUTES"]),
        )
        audit.record(actor, "user.enrollment_code", "user", user.id)
    return code


def find_enrollment(raw_code):
    """The usable EnrollmentCode row for a typed or scanned code, or None."""
    code = normalize_code(raw_code)
    if len(code) != CODE_LENGTH:
        return None
    return (EnrollmentCode.select(EnrollmentCode, User).join(User, on=(EnrollmentCode.user == User.id))
            .where((EnrollmentCode.code_hash == _sha256(code)) & EnrollmentCode.used_at.is_null()
                   & (EnrollmentCode.expires_at > utcnow()) & (User.active == True))  # noqa: E712
            .first())


def redeem_enrollment(raw_code, secret):
    """Use the code once: set the PIN/password. Returns the user, or None if the code is not usable."""
    code = normalize_code(raw_code)
    now = utcnow()
    with database.atomic():
        # The conditional update is the single use: of two concurrent redemptions one updates 0 rows.
        claimed = (EnrollmentCode.update(used_at=now)
                   .where((EnrollmentCode.code_hash == _sha256(code)) & EnrollmentCode.used_at.is_null()
                          & (EnrollmentCode.expires_at > now))
                   .execute())
        if not claimed:
            return None
        enrollment = EnrollmentCode.get(EnrollmentCode.code_hash == _sha256(code))
        user = User.get_by_id(enrollment.user_id)
        user.password_hash = hash_secret(secret)
        user.save(only=[User.password_hash])
        # A new PIN ends every earlier session: the old phone may be the lost one.
        DeviceSession.update(revoked_at=now).where(
            (DeviceSession.user == user) & DeviceSession.revoked_at.is_null()).execute()
        audit.record(user, "user.enroll", "user", user.id)
    return user


def set_language(user, language):
    with database.atomic():
        before = user.language
        User.update(language=language).where(User.id == user.id).execute()
        audit.record(user, "user.language", "user", user.id, {"language": before}, {"language": language})
