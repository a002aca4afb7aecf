"""Signing with a person's own PIN on someone else's phone (the crew's phone): the PIN is checked by the same
function as sign-in (accounts.service.authenticate), so it is throttled exactly like sign-in: per phone number,
per client address, and per device for a phone the person has signed in on before (README, "Sign-in
throttling"). No session is started: the phone stays signed in as its owner.

The walkaround half of issue 18 writes fieldapp/signatures.py for the same purpose; the two become one there.
"""
from ..accounts import service as accounts
from .service import SjaError


def verify_pin(person, pin, ip, device_cookie=None):
    """None when `pin` is `person`'s own PIN (or password). person: a User; ip: the client's address.

    Raises SjaError("wrong_pin", field="pin") (422) for a wrong one and SjaError("pin_throttled", n=minutes)
    (429) when sign-in's limits are reached; a wrong PIN counts toward those limits as a wrong sign-in does.
    """
    if not pin:
        raise SjaError("wrong_pin", field="pin")
    try:
        user = accounts.authenticate(person.phone, pin, ip, device_cookie)
    except accounts.Throttled as exc:
        raise SjaError("pin_throttled", field="pin", n=max(1, (exc.retry_after + 59) // 60)) from None
    except accounts.SignInError:
        raise SjaError("wrong_pin", field="pin") from None
    if user.id != person.id:  # cannot happen (phone numbers are unique); never sign as anyone else
        raise SjaError("wrong_pin", field="pin")
