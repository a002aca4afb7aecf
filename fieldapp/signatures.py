"""Signing a record (a walkaround, an SJA) as a person: on their own phone, or with their own PIN on someone
else's (one phone passed round the crew). Shared by the features that collect signatures; each keeps its own
signature rows and calls these checks inside the transaction that writes them.

Rules (issue 18, "Records, rules and bad input"):
- On the signer's own phone (the signed-in person is the signer) no PIN is asked: their device session is
  their proof, as for everything else they record. A PIN typed there anyway is checked, never ignored.
- For anyone else the signer's own PIN is checked by the accounts service's sign-in check
  (accounts.service.authenticate), so it is throttled exactly like sign-in: wrong PINs count against the
  signer's phone number and the client's address, and too many give "throttled" (429) with the wait.
- Signing for someone else without their PIN is refused ("sign_for_other"); signing a record twice is
  refused ("signed_twice"); the time recorded is the phone_time rule's (fieldapp/phone_time.py).
"""
from .accounts import service as accounts
from .inputs import InputError
from .models import User


class SignatureError(InputError):
    """A signature refused: reasons sign_for_other (403), wrong_pin and own_wrong_pin (422), throttled (429, n=minutes),
    signed_twice (409), bad_signer (422). Nothing was saved."""

    scope = "signature"


def parse_signer(raw, allowed_ids):
    """The User for the form's signer id (text), if it is one of allowed_ids; SignatureError("bad_signer")."""
    try:
        signer_id = int(str(raw or "").strip())
    except ValueError:
        raise SignatureError("bad_signer", field="signer") from None
    if signer_id not in set(allowed_ids):
        raise SignatureError("bad_signer", field="signer")
    signer = User.get_or_none((User.id == signer_id) & (User.active == True))  # noqa: E712
    if signer is None:
        raise SignatureError("bad_signer", field="signer")
    return signer


def confirm_signer(device_user, signer, pin, ip, device_cookie=None):
    """Check that `signer` (User) may sign on the phone where `device_user` (User) is signed in.

    pin: the PIN or password typed for the signer (str or None); ip: the client's address for throttling;
    device_cookie: the phone's device cookie (the per-device sign-in throttle, README "Sign-in throttling").
    Returns True when the PIN was used, False for the signer's own phone. Raises SignatureError:
    sign_for_other (no PIN for another person), wrong_pin, own_wrong_pin (a PIN typed on the signer's own
    phone is checked too, and refused when it is not theirs), throttled (n = minutes to wait).
    """
    own = signer.id == device_user.id
    pin = (pin or "").strip()
    if own and not pin:
        return False
    if not pin:
        raise SignatureError("sign_for_other", field="pin")
    # A PIN typed on one's own phone is not needed, but it is never ignored: a wrong one is refused
    # ("own_wrong_pin", issue 18: a new user's wrong PIN was silently accepted).
    wrong = "own_wrong_pin" if own else "wrong_pin"
    try:
        user = accounts.authenticate(signer.phone, pin, ip, device_cookie)
    except accounts.Throttled as exc:
        raise SignatureError("throttled", field="pin", n=max(1, (exc.retry_after + 59) // 60)) from None
    except accounts.SignInError:
        raise SignatureError(wrong, field="pin") from None
    if user.id != signer.id:
        raise SignatureError(wrong, field="pin")
    return not own


def refuse_twice(already_signed):
    """SignatureError("signed_twice") when already_signed (a bool: the feature's own lookup) is true."""
    if already_signed:
        raise SignatureError("signed_twice")
