"""The phone's outbox (static/js/outbox-core.js): how its posts are told apart, checked and answered.

An outbox post carries two headers:
  X-Outbox: 1                      it comes from the outbox and wants a short answer, not a page;
  X-Outbox-Maker: <user id>.<device session id>   who made the item on the phone (from the page's meta tag).

Answers the phone understands (besides 2xx = saved, and 4xx with a short text = the person must act):
  401  X-Outbox: signed-out     no live device session: the item waits until its person signs in again;
  409  X-Outbox: wrong-person   the signed-in person is not the item's maker: it is never saved, it waits;
  400  X-Outbox: no-maker       the item says nobody made it (made before the phone recorded makers).

CSRF: outbox posts are authenticated by the session cookie (SameSite=Lax, so never sent on a cross-site
POST), plus the custom X-Outbox header (a cross-site page cannot set it without a CORS preflight, which this
app never grants), plus a same-origin check on Sec-Fetch-Site/Origin where the browser sends them. This does
not go stale the way a token saved at queue time does: an item queued before a sign-in is still accepted
after it (issue 13, "A waiting item never dies of a stale token"). Every other post keeps the form token.
"""
import json
import uuid as uuidlib
from urllib.parse import urlsplit

from flask import request
from flask_babel import gettext as _

from .inputs import InputError, whole_number

MAKER_HEADER = "X-Outbox-Maker"


def parse_uuid(raw):
    """The item's UUID (made on the phone: the key that makes a replayed post a no-op), from the form's text.

    Raises InputError("bad_uuid") (400, fieldapp/inputs.py) for anything that is not a UUID.
    """
    text = str(raw)
    if not text.isascii():  # UUID() reads "٣" as 3 (int(..., 16) takes any script's digits): not a phone's UUID
        raise InputError("bad_uuid")
    try:
        return uuidlib.UUID(text)
    except (ValueError, TypeError, AttributeError):
        raise InputError("bad_uuid") from None


def from_outbox():
    return request.headers.get("X-Outbox") == "1"


def maker():
    """(user id, device session id) from the X-Outbox-Maker header, or None if absent or garbled."""
    raw = request.headers.get(MAKER_HEADER, "")
    user_id, _dot, session_id = raw.partition(".")
    user_id, session_id = whole_number(user_id), whole_number(session_id)
    if user_id is None or session_id is None:
        return None
    return user_id, session_id


def same_origin():
    """False when the browser says the post came from another site (Sec-Fetch-Site, else Origin)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser, or an old one: the custom header already rules out a cross-site form
    here = urlsplit(request.host_url)
    there = urlsplit(origin)
    return (there.scheme, there.netloc) == (here.scheme, here.netloc)


def answer(status, message="", notes=None, kind=None):
    """A short plain-text answer; with notes (list of str), JSON {"message": ..., "notes": [...]}.

    `kind` goes into the X-Outbox header so that the phone can tell signed-out/wrong-person apart.
    """
    headers = {"Cache-Control": "no-store"}
    if kind:
        headers["X-Outbox"] = kind
    if notes:
        headers["Content-Type"] = "application/json"
        return json.dumps({"message": message, "notes": notes}), status, headers
    headers["Content-Type"] = "text/plain; charset=utf-8"
    return message, status, headers


def signed_out():
    return answer(401, _("Sign in to send it."), kind="signed-out")


def wrong_person():
    return answer(409, _("Made by another person: not saved."), kind="wrong-person")


def other_site():
    """The answer to an outbox post that the browser says came from another web site (same_origin() False): no
    phone of this app sends one, so it is refused, not kept for later."""
    return answer(403, _("Sent from another web site: not saved."), kind="other-site")


def maker_problem(user):
    """None if the outbox post may be saved as `user`, else the answer that refuses it.

    Only the user id must match: an item whose device session ended (signed out, revoked from the
    profile, a new code) waits on the phone and is accepted when the same person signs in there again.
    It is then saved with the server's receipt time beside the phone's time, as every outbox item is.
    """
    made_by = maker()
    if made_by is None:
        return answer(400, _("The item does not say who made it."), kind="no-maker")
    if made_by[0] != user.id:
        return wrong_person()
    return None
