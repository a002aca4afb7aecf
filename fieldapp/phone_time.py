"""The phone's clock is a claim, the server's clock is the record: the one rule for the time a phone's record keeps.

Every record made on a phone (check-in, check-out, report, alert acknowledgement) keeps three times:

- the phone's claim (``made_at``, the phone's own clock when the person tapped; None when absent or
  unparseable: an unreadable claim is treated as missing, never refused),
- the server's receipt time (the server's clock when the request arrived), and
- the recorded time, which legal records (attendance list, H1/H2 hours, report dates) and deadlines use.

The rule (``recorded_time``), in order:

1. No claim: the receipt time.
2. The claim, corrected by the phone's own measured clock error (``clock_offset_ms``, put in the form by
   static/js/clock.js from the server's ``Date`` header), is no more than ``SENT_AT_ONCE`` (2 minutes)
   before the receipt, or after it: the item was sent at once (or the clock is fast): the receipt time.
3. Otherwise the item waited (offline, or its first sends failed): the corrected claim, but never later than
   the receipt and never earlier than ``not_before``, the last moment at which the server can show the item
   did not exist yet. If there is no such moment, the receipt time.

``not_before`` is the latest of:

- the time the server rendered the form the item was made on: a signed stamp (``issued``) in every form that
  makes such a record. The page was served to that phone then, so it is the last time the server saw the
  phone *before the item was made*, and it travels with the item through the outbox and Background Sync.
- if the form carries no valid stamp (an item queued before stamps existed, a hand-made request): the
  device session's ``last_seen_at`` as it was before this request (written at most every 5 minutes).
  That is a true bound for an item made offline after the phone was last seen. It is *later* than the truth
  for an item queued while online whose sends failed, and for the second and later items of a batch that
  the outbox sends when the phone is back (the first request of the batch, or the page load that starts the
  flush, moves ``last_seen_at``): then the record is clamped to a later time, never to an earlier one.
  That is why the stamp, which belongs to the item, comes first.
- any bound of the record itself (an acknowledgement is not before its alert was sent, a check-out not
  before its check-in).

So a clock 10 minutes fast, or 2 hours slow, sent at once gets the receipt time; an item that waited 8 days
offline keeps the time it was made (it is never refused); "7 days back" set on purpose and sent online gets
at most the time the form was served; an acknowledgement sent after its deadline gets a time before the
deadline only if it was made on a page served before the deadline and waited.

Lists and exports mark a record whose phone time and receipt differ by more than
``PHONE_CLOCK_MARK_MINUTES`` (a setting, 5 by default): see ``note``.
"""
from datetime import datetime, timedelta, timezone
from typing import NamedTuple, Optional

from flask import current_app, g, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from . import clock
from .clock import utcnow

# Within this of the receipt (or after it), a claim counts as "sent at once": network time, a slow upload.
SENT_AT_ONCE = timedelta(minutes=2)
# A clock error the phone reports beyond this is not a clock error but nonsense: ignored.
MAX_OFFSET = timedelta(days=3660)
# A phone's time further than this from the receipt is not a clock that is wrong but a value that is not a time:
# it is read as none. A reset phone (1970) is still within it and still marked; year 9999 was stored, and every
# list that shows the phone's time on the site's clock then failed (OverflowError, a 500 for everyone).
MAX_CLAIM_DISTANCE = timedelta(days=100 * 366)
STAMP_SALT = "fieldapp.form-issued"


class PhoneTime(NamedTuple):
    """The times of one record made on a phone; naive UTC datetimes (``claimed`` may be None)."""

    claimed: Optional[datetime]  # what the phone's clock said, as sent
    received: datetime  # the server's clock when the request arrived
    recorded: datetime  # the time the record keeps (``recorded_time``)


def _naive_utc(moment):
    return clock.to_utc(moment)  # a local time without a zone is on the site's wall clock


def parse_claim(raw):
    """The phone's time (ISO 8601; without a zone, the site's time) as naive UTC, or None if absent or unreadable."""
    if not raw or len(str(raw)) > 64:
        return None
    try:
        return _naive_utc(datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        return None


def parse_offset(raw):
    """The phone's measured clock error (phone minus server, integer milliseconds) as a timedelta, or None."""
    try:
        offset = timedelta(milliseconds=int(str(raw).strip()))
    except (TypeError, ValueError, OverflowError):
        return None
    return offset if abs(offset) <= MAX_OFFSET else None


def _serializer():
    return URLSafeSerializer(current_app.secret_key, salt=STAMP_SALT)


def issue_stamp(now=None):
    """A signed stamp of the server's time (for the hidden ``issued`` input of forms made on phones)."""
    moment = now or utcnow()
    return _serializer().dumps(int(moment.replace(tzinfo=timezone.utc).timestamp()))


def read_stamp(raw):
    """The time a stamp from ``issue_stamp`` was issued (naive UTC), or None if missing or not ours."""
    if not raw or len(str(raw)) > 200:
        return None
    try:
        seconds = _serializer().loads(str(raw))
        return datetime.fromtimestamp(int(seconds), timezone.utc).replace(tzinfo=None)
    except (BadSignature, TypeError, ValueError, OverflowError, OSError):
        return None


def recorded_time(claimed, received, not_before=None, offset=None):
    """The time a record made on a phone keeps (the module's rule); naive UTC in, naive UTC out.

    claimed: the phone's time or None; received: the receipt time; not_before: the latest moment the server
    knows the item did not exist yet, or None; offset: the phone's own measured clock error (phone minus
    server) or None. Never later than ``received``.
    """
    if claimed is None:
        return received
    corrected = claimed - offset if offset is not None else claimed
    if corrected >= received - SENT_AT_ONCE:
        return received
    if not_before is None:
        return received
    return min(received, max(corrected, not_before))


def from_request(*bounds, form=None, now=None):
    """PhoneTime for the current request's ``made_at``, ``issued`` and ``clock_offset_ms`` fields. A ``made_at``
    further than MAX_CLAIM_DISTANCE from the receipt counts as none.

    bounds: further times (naive UTC or None) the record cannot be before, e.g. its alert's creation.
    """
    form = request.form if form is None else form
    received = now or utcnow()
    claimed = parse_claim(form.get("made_at"))
    if claimed is not None and abs(claimed - received) > MAX_CLAIM_DISTANCE:
        claimed = None
    floor = read_stamp(form.get("issued"))
    if floor is None:
        device_session = getattr(g, "device_session", None)
        floor = device_session.last_seen_at if device_session is not None else None
    known = [b for b in bounds if b is not None]
    if floor is not None:
        floor = max([floor, *known])
    recorded = recorded_time(claimed, received, floor, parse_offset(form.get("clock_offset_ms")))
    # A record's own bound holds even when the receipt is the record (a check-out right after its check-in).
    recorded = max([recorded, *known])
    return PhoneTime(claimed, received, recorded)


def differs(claimed, received, minutes=None):
    """True when the phone's time and the receipt differ by more than the setting (minutes, default 5)."""
    if claimed is None or received is None:
        return False
    if minutes is None:
        minutes = current_app.config.get("PHONE_CLOCK_MARK_MINUTES", 5)
    return abs(claimed - received) > timedelta(minutes=minutes)


def local_hhmm(moment):
    """A stored moment's time of day on the site's clock as 24-hour "HH:MM" in every language (``clock``).

    The mark is the same in the lists and in the CSV/PDF files, which are read beside each other.
    """
    return clock.local(moment).time().isoformat("minutes")


def note(claimed, received, recorded, minutes=None):
    """The marking a list or export shows beside a record, or "" (translated, plain text).

    When the record keeps an earlier time than its receipt: "recorded later at HH:MM" (the receipt), so a
    foreman sees back-dating; when it keeps the receipt but the phone said otherwise: "phone said HH:MM".
    """
    if not differs(claimed, received, minutes):
        return ""
    if recorded is not None and received - recorded > timedelta(minutes=1):
        return _("recorded later at %(time)s", time=local_hhmm(received))
    return _("phone said %(time)s", time=local_hhmm(claimed))


def init_app(app):
    """Templates get ``phone_time_stamp()`` (the ``issued`` value) and ``phone_time_note(claimed, received, recorded)``."""
    app.jinja_env.globals["phone_time_stamp"] = issue_stamp
    app.jinja_env.globals["phone_time_note"] = note
