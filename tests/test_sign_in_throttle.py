"""Sign-in throttling that slows an attacker without locking the rightful person out (issue 14).

A device on which the person has signed in keeps a signed device cookie (OWASP's "device cookies"); it
counts only its own failures. Everything else counts per phone number (per 15 minutes and per day) and
per client address, which behind a configured trusted proxy is the address ProxyFix takes from
X-Forwarded-For, and otherwise the connection's.
"""
import re
from datetime import timedelta

import pytest
import helpers
from helpers import PIN, CsrfClient, sign_in

from fieldapp import create_app
from fieldapp.models import LoginThrottle, User, utcnow

COOKIE = "fieldapp_device"  # __Host-fieldapp_device when cookies are Secure (production)
WRONG = "000999"


def attempt(client, user_or_phone, secret=WRONG, **kwargs):
    phone = getattr(user_or_phone, "phone", user_or_phone)
    return client.post("/sign-in", data={"phone": phone, "secret": secret}, **kwargs)


def from_address(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_known_device_signs_in_while_an_attacker_is_throttled(app, world):
    worker = world.people["worker"]
    own_phone = app.test_client()
    sign_in(own_phone, worker)
    assert own_phone.get_cookie(COOKIE) is not None
    own_phone.post("/sign-out")
    attacker = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert attempt(attacker, worker).status_code == 401
    refused = attempt(attacker, worker, PIN)  # even the right PIN waits on a device the person never used
    assert refused.status_code == 429
    assert 15 * 60 - 5 <= int(refused.headers["Retry-After"]) <= 15 * 60 + 1
    message = refused.get_data(as_text=True)
    assert re.search(r"For mange mislykkede forsøk\. Prøv igjen kl\. \d\d:\d\d \(om 15 minutter\)", message)
    # The person on their own phone: a typo, then the right PIN, as if nothing had happened.
    assert attempt(own_phone, worker).status_code == 401
    sign_in(own_phone, worker)
    # The attacker is still throttled.
    assert attempt(attacker, worker, PIN).status_code == 429


def test_the_message_says_when_in_english(app, world):
    attacker = app.test_client()
    attacker.post("/language", data={"language": "en", "next": "/sign-in"})
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(attacker, world.people["worker"])
    page = attempt(attacker, world.people["worker"]).get_data(as_text=True)
    assert re.search(r"Too many failed attempts\. Try again at \d\d:\d\d \(in 15 minutes\)", page)


def test_a_day_allows_only_so_many_guesses_per_number(app, world):
    app.config["LOGIN_MAX_FAILURES_PER_DAY"] = 7
    worker = world.people["worker"]
    attacker = app.test_client()
    for _ in range(5):
        assert attempt(attacker, worker).status_code == 401
    # The 15-minute window ends; the day's count goes on.
    LoginThrottle.update(window_started_at=utcnow() - timedelta(minutes=16)).where(
        LoginThrottle.key == f"phone:{worker.phone}").execute()
    assert [attempt(attacker, worker).status_code for _ in range(3)] == [401, 401, 429]
    response = attempt(attacker, worker, PIN)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 23 * 3600


def test_a_known_device_has_its_own_limit_and_then_counts_as_any_other(app, world):
    app.config["LOGIN_MAX_FAILURES_PER_DEVICE"] = 3
    worker = world.people["worker"]
    phone = app.test_client()
    sign_in(phone, worker)
    phone.post("/sign-out")
    for _ in range(3):
        assert attempt(phone, worker).status_code == 401
    assert not LoginThrottle.select().where(LoginThrottle.key == f"phone:{worker.phone}").exists()
    # Over its own limit: the device is no longer vouched for, so the number's limit applies too.
    assert attempt(phone, worker).status_code == 401
    assert LoginThrottle.get(LoginThrottle.key == f"phone:{worker.phone}").failures == 1


def test_a_known_device_has_a_daily_limit_too(app, world):
    # A stolen phone still vouched for: its 15-minute windows end, its day does not.
    app.config["LOGIN_MAX_FAILURES_PER_DAY"] = 4
    worker = world.people["worker"]
    phone = app.test_client()
    sign_in(phone, worker)
    phone.post("/sign-out")
    for _ in range(4):
        assert attempt(phone, worker).status_code == 401
        LoginThrottle.update(window_started_at=utcnow() - timedelta(minutes=16)).where(
            LoginThrottle.key.startswith("device:")).execute()
    day = LoginThrottle.get(LoginThrottle.key.startswith("device-day:"))
    assert day.failures == 4
    # No longer vouched for: the number's own limits count this attempt.
    assert attempt(phone, worker).status_code == 401
    assert LoginThrottle.get(LoginThrottle.key == f"phone:{worker.phone}").failures == 1


def test_a_device_cookie_vouches_only_for_its_person_and_pin(app, world, pin_hash):
    from fieldapp.accounts import service as accounts

    worker, foreman = world.people["worker"], world.people["foreman"]
    # The attacker's own cookie (from signing in as himself) does not help against someone else.
    attacker = app.test_client()
    sign_in(attacker, foreman)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(attacker, worker)
    assert attempt(attacker, worker, PIN).status_code == 429
    # Nor does a cookie he edits.
    forged = app.test_client()
    forged.set_cookie(COOKIE, attacker.get_cookie(COOKIE).value.replace(str(foreman.id), str(worker.id), 1) + "x")
    assert attempt(forged, worker, PIN).status_code == 429
    # A new PIN (the lost-phone case: a new code) ends the old phone's exemption.
    lost_phone = app.test_client()
    LoginThrottle.delete().execute()
    sign_in(lost_phone, worker)
    with app.app_context():  # the app's cheap test parameters (outside a context: production's full cost)
        new_hash = accounts.hash_secret("584027")
    User.update(password_hash=new_hash).where(User.id == worker.id).execute()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(attacker, worker)
    assert attempt(lost_phone, worker, "584027").status_code == 429


def test_a_shared_phone_remembers_several_people(app, world):
    phone = app.test_client()
    for role in ("worker", "foreman"):
        sign_in(phone, world.people[role])
        phone.post("/sign-out")
    attacker = app.test_client()
    for role in ("worker", "foreman"):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            attempt(attacker, world.people[role])
    for role in ("worker", "foreman"):
        sign_in(phone, world.people[role])
        phone.post("/sign-out")


def test_per_address_limit_ignores_forwarded_headers_without_a_trusted_proxy(app, world):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    client = from_address(app, "10.0.0.1")
    for n in range(3):  # different numbers, so only the address limit can stop them
        response = attempt(client, f"4000000{n}", headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert response.status_code == 401
    # A made-up X-Forwarded-For does not make a new client.
    assert attempt(client, "40000009", headers={"X-Forwarded-For": "198.51.100.99"}).status_code == 429
    # Another address is not affected, and a known device behind the same address is not either.
    assert attempt(from_address(app, "10.0.0.2"), "40000009").status_code == 401
    phone = from_address(app, "10.0.0.2")
    sign_in(phone, world.people["worker"])
    phone.post("/sign-out")
    phone.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    sign_in(phone, world.people["worker"])


def test_per_address_limit_behind_a_trusted_proxy(tmp_path, database_url, world):
    proxied = create_app({**helpers.test_config(tmp_path, database_url), "TRUSTED_PROXIES": 1,
                          "LOGIN_MAX_FAILURES_PER_IP": 3})
    proxied.test_client_class = CsrfClient
    crew = from_address(proxied, "10.0.0.1")  # every client arrives from the proxy's address
    for n in range(3):
        response = attempt(crew, f"4000000{n}", headers={"X-Forwarded-For": "203.0.113.5"})
        assert response.status_code == 401
    assert attempt(crew, "40000009", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    # Another client behind the same proxy is its own address: not locked out.
    assert attempt(crew, "40000009", headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 401
    # A client that sends its own X-Forwarded-For: the proxy appends the real one, the only one believed.
    spoofed = attempt(crew, "40000009", headers={"X-Forwarded-For": "203.0.113.77, 203.0.113.5"})
    assert spoofed.status_code == 429
    assert LoginThrottle.select().where(LoginThrottle.key == "ip:203.0.113.77").count() == 0


@pytest.mark.parametrize("value, expected", [(None, 0), ("1", 1), ("2", 2)])
def test_trusted_proxies_setting(monkeypatch, value, expected):
    from fieldapp import config

    monkeypatch.delenv("FIELDAPP_TRUSTED_PROXIES", raising=False)
    if value is not None:
        monkeypatch.setenv("FIELDAPP_TRUSTED_PROXIES", value)
    assert config.settings().get("TRUSTED_PROXIES", config.Defaults.TRUSTED_PROXIES) == expected


def test_device_cookie_is_http_only_and_long_lived(app, world):
    response = sign_in(app.test_client(), world.people["worker"])
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert f"Max-Age={365 * 86400}" in header


def test_enrolling_remembers_the_device(app, as_role, world):
    from helpers import add_person, code_from

    code = code_from(add_person(as_role("manager"), world.site, employer=str(world.org.id)))
    phone = app.test_client()
    phone.post("/enroll/pin", data={"code": code, "secret": "584027", "confirm": "584027"})
    assert phone.get_cookie(COOKIE) is not None
