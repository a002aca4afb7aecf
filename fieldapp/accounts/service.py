"""Sign-in: phone numbers, PIN/password hashes, device sessions, enrollment codes, throttling."""
import functools
import hashlib
import re
import secrets
import unicodedata
from collections import namedtuple
from datetime import date, datetime, timedelta

import phonenumbers
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from peewee import JOIN

from .. import audit
from ..authz import may_manage_person
from ..db import ReusedSelect, database, model_from
from ..inputs import ascii_digits
from ..models import (DeviceSession, EnrollmentCode, LoginThrottle, Membership, PushDelivery, PushSubscription, Site,
                      User, utcnow)

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


# Characters a phone adds around a number copied from its contacts (iOS wraps it in U+202A..U+202C), and
# zero-width ones pasted from messages: invisible, so the person cannot see why the number is "wrong".
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\ufeff"))


def pin_digits(secret):
    """A PIN typed on a keyboard of another script ("٤٨٢٩١٣") as the 0-9 PIN it is; any other secret (a
    password) as typed. What is checked, hashed and verified: the same PIN on a Latin keyboard then matches."""
    return ascii_digits(secret) if secret and secret.isdecimal() else secret


def normalize_phone(raw):
    """A typed or pasted number as '+<country><number>' (str), or None when it is no phone number at all.

    Forgiving, for sign-in and look-ups (issue 15): '+47 912 34 567', '0047 91234567', '4791234567',
    'tel:+4791234567' and '91234567' (with invisible characters from a copied contact, see INVISIBLE, and
    digits and signs of any script or width, '٩١٢٣٤٥٦٧', '＋４７ ９１２３４５６７') all become '+4791234567'. Whether it is a real mobile number is mobile_number()'s question.
    """
    # NFKC: a Chinese or Japanese keyboard's full-width "＋４７" and separators ("－", "（", U+3000) are the
    # ASCII ones they look like; "＋4790000005" was "not a phone number".
    text = unicodedata.normalize("NFKC", (raw or "").translate(INVISIBLE)).strip()
    # A keyboard set to Arabic or Persian types its own digits; adding the person (phonenumbers) read them as
    # 0-9, so sign-in must too: "٩٠٠٠٠٠٠٥" was "wrong number or PIN" for a number that was right.
    text = ascii_digits(text)
    if text[:4].lower() == "tel:":
        text = text[4:]
    # Dashes of every kind a phone or a document writes between groups: hyphen, non-breaking hyphen, en and em
    # dash, minus sign (U+2010-U+2015, U+2212); NFKC above leaves them as they are.
    digits = re.sub(r"[\s\-()./\u2010-\u2015\u2212]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"47\d{8}", digits):  # the country code without + (10 digits: not a Norwegian number)
        digits = "+" + digits
    if re.fullmatch(r"\d{8}", digits):
        digits = "+47" + digits
    if not re.fullmatch(r"\+\d{7,15}", digits):
        return None
    return digits


# Year range of a birth date or a wedding day that someone would choose as a PIN.
PLAUSIBLE_YEARS = range(1930, 2031)

# A phone keypad (3x3, then 0 under 8): its straight lines, both ways. A PIN made only of them (147258,
# 159357, 852456, 2580...) is a shape drawn with the thumb, guessed as early as 123456.
_KEYPAD_LINES = ("123", "456", "789", "147", "258", "369", "2580", "159", "357")
KEYPAD_LINES = frozenset(seg for line in _KEYPAD_LINES for seg in (line, line[::-1]))
KEYPAD_LINES |= {"580", "085"}  # the end of 2580 (258 is a column)

# The most used PINs that no pattern below catches (RockYou and later leaks; Wang et al. 2017,
# "Understanding human-chosen PINs"; Markert et al. 2020, "This PIN can be easily guessed").
COMMON_PINS = frozenset({
    "246810", "135790", "102938", "112358", "11235813", "314159", "31415926", "141592", "271828", "161803",
    "123000", "5201314", "520131", "131420",
})


def _phone_runs(phone):
    digits = re.sub(r"\D", "", phone or "")
    return {digits[i:i + 6] for i in range(len(digits) - 5)}


@functools.cache
def _dates():
    """Every date of PLAUSIBLE_YEARS as DDMMYY, MMDDYY, YYMMDD, DDMMYYYY, MMDDYYYY and YYYYMMDD."""
    day, last, forms = date(PLAUSIBLE_YEARS[0], 1, 1), date(PLAUSIBLE_YEARS[-1], 12, 31), set()
    while day <= last:
        forms.update(day.strftime(f) for f in ("%d%m%y", "%m%d%y", "%y%m%d", "%d%m%Y", "%m%d%Y", "%Y%m%d"))
        day += timedelta(days=1)
    return frozenset(forms)

MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def mobile_number(raw):
    """(E.164 str, None) for a number a person can sign in with, else (None, reason).

    reason: "not_phone" (no number at all) or "not_mobile" (no such number, or a landline). Rules from
    Google's libphonenumber (the phonenumbers package): Norwegian mobile numbers have 8 digits and start
    with 4 or 9 (Nkom's numbering plan); elsewhere numbers that may be mobile (as in the US) are accepted.
    """
    candidate = normalize_phone(raw)
    if candidate is None:
        return None, "not_phone"
    try:
        number = phonenumbers.parse(candidate, "NO")
    except phonenumbers.NumberParseException:
        return None, "not_mobile"
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in MOBILE_TYPES:
        return None, "not_mobile"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def _looks_like_date(digits):
    """A date in any of the usual orders: DDMMYY, MMDDYY, YYMMDD (6 digits); DDMMYYYY, MMDDYYYY, YYYYMMDD
    (8 digits), of a year from 1930 to 2030 (a fødselsnummer starts with one)."""
    return digits in _dates()


def _periodic(text, max_period=None):
    """Whether text is a block repeated (the last copy may be cut short): 121212, 1231231, abcabcab."""
    n = len(text)
    limit = n // 2 if max_period is None else min(n // 2, max_period)
    return any(text == (text[:p] * (n // p + 1))[:n] for p in range(1, limit + 1))


def _digit_steps(digits):
    """Each digit the one before plus a fixed step, modulo 10: 123456, 135791, 975319, 147036."""
    step = (int(digits[1]) - int(digits[0])) % 10
    return all((int(b) - int(a)) % 10 == step for a, b in zip(digits, digits[1:]))


def _number_steps(digits):
    """Three or more numbers with a fixed step written one after another: 246810 (2 4 6 8 10),
    108642, 102030, 010203 (01 02 03), 121314, 51015."""
    n = len(digits)
    # Numbers of one width (zero-padded): 01 02 03, 100 200 300.
    for width in range(1, n // 3 + 1):
        if n % width == 0:
            terms = [int(digits[i:i + width]) for i in range(0, n, width)]
            if all(b - a == terms[1] - terms[0] for a, b in zip(terms, terms[1:])):
                return True
    # Numbers as written, the width growing or shrinking with them: 2 4 6 8 10, 9 10 11, 12 9 6 3.
    for first in range(1, n // 3 + 1):
        for second in range(1, n - first):
            a, b = digits[:first], digits[first:first + second]
            if (len(a) > 1 and a[0] == "0") or (len(b) > 1 and b[0] == "0"):
                continue
            step, value, text, count = int(b) - int(a), int(a), "", 0
            while len(text) < n and value >= 0:
                text += str(value)
                value += step
                count += 1
            if text == digits and count >= 3:
                return True
    return False


def _keypad_shape(digits):
    """The PIN is made only of keypad lines (KEYPAD_LINES): 147258, 159357, 852456, 25802580."""
    ends = {0}
    for i in range(1, len(digits) + 1):
        if any(i - len(line) in ends and digits[i - len(line):i] == line for line in KEYPAD_LINES):
            ends.add(i)
    return len(digits) in ends


def pin_pattern(digits, phone=None):
    """Why a PIN of digits is guessable, or None: "pin_phone", "pin_common", "pin_date" or "pin_trivial".

    Refused, as the first guesses of anyone who tries (issue 14; NIST SP 800-63B 3.1.1.2, "repetitive
    or sequential characters"): the person's own phone number (any 6 digits of it in a row); the most
    used PINs (COMMON_PINS); dates (010190, 123190, 900101, 01011990, 19900101); two or fewer different
    digits (111111, 111222); sequences with any step (123456, 135791, 246810, 102030); a repeated block
    (121212, 123123); doubled digits (112233); a mirror (123321); lines on the keypad (147258, 159357).
    """
    n = len(digits)
    if any(run in digits for run in _phone_runs(phone)):
        return "pin_phone"
    if digits in COMMON_PINS:
        return "pin_common"
    # The patterns before dates: 111111 and 121212 are dates too, but "repeated digits" says it better.
    if len(set(digits)) <= 2 or _periodic(digits) or digits == digits[::-1]:
        return "pin_trivial"
    if n % 2 == 0 and all(digits[i] == digits[i + 1] for i in range(0, n, 2)):
        return "pin_trivial"
    if _digit_steps(digits) or _number_steps(digits) or _keypad_shape(digits):
        return "pin_trivial"
    if _looks_like_date(digits):
        return "pin_date"
    return None


# Keyboard rows and columns (Norwegian and US layouts) and the alphabet: a password that is a piece of
# one of these (either way) is typed without thinking and tried by every cracker.
KEYBOARD_SEQUENCES = (
    "1234567890+", "qwertyuiopå", "asdfghjkløæ", "zxcvbnm,.-", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./",
    "!\"#¤%&/()=?", "!@#$%^&*()_+", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0pæ",
    "qazwsxedcrfvtgbyhnujmikolp", "abcdefghijklmnopqrstuvwxyzæøå",
)

# The most used passwords of ten characters or more, and the words that short ones are built on (a
# password that is one of these with digits or signs added, "passord2024!", is refused too).
COMMON_PASSWORDS = frozenset({
    "password", "passord", "passwort", "qwerty", "iloveyou", "jegelskerdeg", "welcome", "velkommen",
    "letmein", "admin", "administrator", "sommer", "vinter", "summer", "winter", "fotball", "football",
    "monkey", "dragon", "sunshine", "princess", "baseball", "superman", "trustno1", "changeme", "secret",
    "hemmelig", "fieldapp", "byggeplass", "norge", "abc", "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4t5",
    "q1w2e3r4t5y6", "zaq12wsx", "1qazxsw2", "1qaz2wsx", "qwerty123", "qwe123", "asdf1234", "pass",
})


def password_pattern(password):
    """Why a password of 10+ characters is guessable, or None: "password_repeated", "password_keyboard"
    or "password_common". Compared without case: one character repeated (aaaaaaaaaa), a block shorter
    than a password repeated (passwordpassword, abcabcabca), a run along a keyboard row or column or the
    alphabet (qwertyuiop, 0987654321, asdfghjklø) or such a run repeated, and a most used password
    (COMMON_PASSWORDS), also with digits or signs around it (password123, passord2024!).
    """
    text = password.lower()
    if len(set(text)) == 1 or _periodic(text, max_period=9):
        return "password_repeated"
    block = next((text[:p] for p in range(1, len(text) // 2 + 1) if _periodic(text, p)), text)
    if any(block in seq or block in seq[::-1] for seq in KEYBOARD_SEQUENCES):
        return "password_keyboard"
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", block)  # without digits and signs around it
    if len(core) >= 4 and any(core in seq or core in seq[::-1] for seq in KEYBOARD_SEQUENCES):
        return "password_keyboard"
    if block in COMMON_PASSWORDS or core in COMMON_PASSWORDS:
        return "password_common"
    return None


def secret_problem(secret, phone=None):
    """Why a new PIN or password is not good enough, or None. Messages are translated by the caller.

    A PIN has 6 to 12 digits and no pattern (pin_pattern; phone: the person's own number, refused in
    it); a password 10 to 200 characters and no pattern (password_pattern).
    """
    secret = pin_digits(secret)
    if secret.isascii() and secret.isdigit():
        if not 6 <= len(secret) <= 12:
            return "pin_length"
        return pin_pattern(secret, phone)
    if len(secret) < 10:
        return "password_length"
    if len(secret) > 200:
        return "password_long"
    return password_pattern(secret)


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
    """The argon2 hash (str) of a PIN (its ASCII digits, pin_digits) or password, with the app's ARGON2_PROFILE
    parameters."""
    return _hasher().hash(pin_digits(secret))


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
    ok = False
    # The PIN as 0-9 digits; then as typed, for a secret of another script's digits hashed before pin_digits.
    for typed in dict.fromkeys((pin_digits(secret), secret)):
        try:
            hasher.verify(stored, typed)
            ok = user is not None and user.password_hash is not None
            break
        except (VerificationError, InvalidHashError):
            continue
    if not ok:
        note_failure(limits)
        raise SignInError()
    # The daily window stays: a right PIN on some device must not hand an attacker a new day's tries.
    clear_failures(device_key if device_key in limits else f"phone:{phone}")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(typed)
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


def _live_session_query(token_hash, now, idle_since, site_id=None):
    query = DeviceSession.select(DeviceSession, User).join(User)
    if site_id is not None:
        # The role on the URL's site comes in the same query (LEFT JOIN: None when not a member).
        query = (query.select_extend(Membership, Site)
                 .join_from(User, Membership, JOIN.LEFT_OUTER, attr="site_membership",
                            on=(Membership.user == User.id) & (Membership.site == site_id))
                 .join_from(Membership, Site, JOIN.LEFT_OUTER))
    return (query.where((DeviceSession.token_hash == token_hash)
                        & DeviceSession.revoked_at.is_null()
                        & (DeviceSession.expires_at > now)
                        & (DeviceSession.last_seen_at > idle_since)
                        & (User.active == True))  # noqa: E712
            .limit(1))


# Every request runs one of these two: their SQL is built once per process (db.ReusedSelect).
_SESSION_PARAMS = [(DeviceSession.token_hash, "\x00token-sample"),
                   (DeviceSession.expires_at, datetime(1901, 2, 3, 4, 5, 6, 7)),
                   (DeviceSession.last_seen_at, datetime(1901, 2, 3, 4, 5, 6, 8))]
_LIVE_SESSION = ReusedSelect(_live_session_query, _SESSION_PARAMS)
_LIVE_SESSION_ON_SITE = ReusedSelect(_live_session_query, [*_SESSION_PARAMS, (Membership.site, -7_000_000_002)])


def _session_from_row(row, with_site):
    """(DeviceSession, User[, Membership, Site]) columns -> the DeviceSession with .user, and with_site
    user.site_membership (its .site), or None when the person is not a member of the site."""
    cut = [0]
    for model in (DeviceSession, User, Membership, Site)[:4 if with_site else 2]:
        cut.append(cut[-1] + len(model._meta.sorted_fields))
    device_session = model_from(DeviceSession, row[cut[0]:cut[1]])
    device_session.user = model_from(User, row[cut[1]:cut[2]])
    if with_site:
        membership = None
        if row[cut[2]] is not None:  # the membership's id: None when the LEFT JOIN found none
            membership = model_from(Membership, row[cut[2]:cut[3]])
            membership.site = model_from(Site, row[cut[3]:cut[4]])
        device_session.user.site_membership = membership
    return device_session


def session_for_token(token, site_id=None):
    """The live DeviceSession (with its user) for a cookie token, or None.

    With site_id, session.user.site_membership is the person's Membership of that site (with its
    site), or None: one query for both, as every site page needs both.
    """
    if not token:
        return None
    now = utcnow()
    idle = timedelta(days=current_app.config["DEVICE_SESSION_IDLE_DAYS"])
    if site_id is None:
        rows = _LIVE_SESSION.rows(_sha256(token), now, now - idle)
    else:
        rows = _LIVE_SESSION_ON_SITE.rows(_sha256(token), now, now - idle, site_id)
    session = _session_from_row(rows[0], site_id is not None) if rows else None
    if session and now - session.last_seen_at > timedelta(minutes=5):
        # Written at most every five minutes: a write per request would cost every page.
        DeviceSession.update(last_seen_at=now).where(DeviceSession.id == session.id).execute()
    return session


def _stop_pushes_to_ended_sessions(user, now):
    """Give up the push messages not yet sent to the phones of the user's ended device sessions (call where a
    session ends). They were queued while the person was signed in on that phone; once signed out it may be
    someone else's (issue 14). A message a consumer is sending at this moment still goes."""
    ended = (PushSubscription.select(PushSubscription.id)
             .join(DeviceSession, on=(PushSubscription.device_session == DeviceSession.id))
             .where((DeviceSession.user == user) & DeviceSession.revoked_at.is_null(False)))
    PushDelivery.update(gave_up_at=now).where(PushDelivery.subscription.in_(ended) & PushDelivery.sent_at.is_null()
                                              & PushDelivery.gave_up_at.is_null()).execute()


def revoke_session(actor, session_id, user):
    """End one of the user's device sessions. Returns False if there is no such live session."""
    now = utcnow()
    with database.atomic():
        count = (DeviceSession.update(revoked_at=now)
                 .where((DeviceSession.id == session_id) & (DeviceSession.user == user)
                        & DeviceSession.revoked_at.is_null())
                 .execute())
        if count:
            _stop_pushes_to_ended_sessions(user, now)
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
    return re.sub(r"[^0-9A-Z]", "", ascii_digits((raw or "").upper()))[:CODE_LENGTH * 2]


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


def _creator_may_still_manage(enrollment, user):
    """Whether the code's maker may still manage `user` (authz.may_manage_person), asked again now.

    A code is made for a person as they were: a foreman's code for a worker must not sign anyone in once
    that worker is a manager, or of another organization. The maker's role counts on the sites they
    share with the person (their best: manager, then foreman), as on the site where they made it. A code
    without a maker was made by the CLI or an admin and keeps working; a deactivated maker's codes do not.
    """
    if enrollment.created_by_id is None:
        return True
    creator = User.get_or_none((User.id == enrollment.created_by_id) & (User.active == True))  # noqa: E712
    if creator is None:
        return False
    shared_sites = Membership.select(Membership.site).where(Membership.user == user.id)
    roles = {m.role for m in Membership.select(Membership.role)
             .where((Membership.user == creator.id) & Membership.site.in_(shared_sites))}
    site_role = next((role for role in ("manager", "foreman") if role in roles), None)
    return may_manage_person(creator, user, site_role)


def void_enrollment_codes(user_id):
    """Every unused code of the person stops working: their role rose above worker, or their account
    changed organization, so the people who made those codes may no longer be the ones who may."""
    return (EnrollmentCode.update(used_at=utcnow())
            .where((EnrollmentCode.user == user_id) & EnrollmentCode.used_at.is_null())
            .execute())


def find_enrollment(raw_code):
    """The usable EnrollmentCode row for a typed or scanned code, or None.

    Usable: unused, unexpired, for an active person, and its maker may still manage that person.
    """
    code = normalize_code(raw_code)
    if len(code) != CODE_LENGTH:
        return None
    enrollment = (EnrollmentCode.select(EnrollmentCode, User).join(User, on=(EnrollmentCode.user == User.id))
                  .where((EnrollmentCode.code_hash == _sha256(code)) & EnrollmentCode.used_at.is_null()
                         & (EnrollmentCode.expires_at > utcnow()) & (User.active == True))  # noqa: E712
                  .first())
    if enrollment is None or not _creator_may_still_manage(enrollment, enrollment.user):
        return None
    return enrollment


def redeem_enrollment(raw_code, secret):
    """Use the code once: set the PIN/password. Returns the user, or None if the code is not usable.

    Checked again here, in the transaction that uses the code: its maker may still manage the person
    (a code that fails this is used up, not redeemed), and the PIN or password is good enough.
    """
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
        if not user.active or not _creator_may_still_manage(enrollment, user):
            return None  # the claim stays: this code is void
        if secret_problem(secret, user.phone):
            raise ValueError("the PIN or password was not checked")  # the form checks it first
        user.password_hash = hash_secret(secret)
        user.save(only=[User.password_hash])
        # A new PIN ends every earlier session: the old phone may be the lost one.
        DeviceSession.update(revoked_at=now).where(
            (DeviceSession.user == user) & DeviceSession.revoked_at.is_null()).execute()
        _stop_pushes_to_ended_sessions(user, now)
        audit.record(user, "user.enroll", "user", user.id)
    return user


def set_language(user, language, confirmed=True):
    """The person's language (a code of LANGUAGES, checked by the caller). confirmed: the person chose it
    themselves (first sign-in, the profile), so sign-in stops asking; False for a choice made for them."""
    with database.atomic():
        before = user.language
        changes = {User.language: language}
        if confirmed:
            changes[User.language_confirmed_at] = user.language_confirmed_at = utcnow()
        User.update(changes).where(User.id == user.id).execute()
        user.language = language
        if before != language:
            audit.record(user, "user.language", "user", user.id, {"language": before}, {"language": language})
