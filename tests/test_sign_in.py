"""Sign-in with phone number and PIN, throttling, device sessions and sign-out."""
import argon2
import pytest
from helpers import PIN, sign_in, test_config

from fieldapp import create_app
from fieldapp.accounts import service as accounts
from fieldapp.models import DeviceSession, User, utcnow


def test_sign_in_with_phone_and_pin_starts_a_device_session(client, world):
    worker = world.people["worker"]
    response = client.post("/sign-in", data={"phone": "910 00 001", "secret": PIN})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    sessions = list(DeviceSession.select().where(DeviceSession.user == worker))
    assert len(sessions) == 1 and sessions[0].revoked_at is None
    home = client.get("/")
    assert home.status_code == 200
    assert "Hei, Worker" in home.get_data(as_text=True)


def test_cookie_holds_only_a_token_whose_hash_is_stored(client, world):
    sign_in(client, world.people["worker"])
    with client.session_transaction() as flask_session:
        token = flask_session["sid"]
    stored = DeviceSession.get()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_wrong_pin_is_refused_without_saying_which_part_was_wrong(client, world):
    response = client.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": "000999"})
    assert response.status_code == 401
    assert "Feil telefonnummer eller PIN-kode/passord." in response.get_data(as_text=True)
    unknown = client.post("/sign-in", data={"phone": "99999999", "secret": PIN})
    assert unknown.status_code == 401
    assert DeviceSession.select().count() == 0


def test_empty_form_gets_messages_beside_the_fields(client, world):
    response = client.post("/sign-in", data={"phone": "", "secret": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Skriv inn telefonnummeret ditt." in page
    assert "Skriv inn PIN-kode eller passord." in page


@pytest.mark.parametrize("blank", ["   ", "\n\n", "\x0b\x0c", "\u200b"])
def test_a_pin_of_nothing_visible_is_asked_for_and_not_counted_as_a_failure(client, world, blank):
    """Spaces or pasted line breaks alone were "wrong number or PIN" and counted toward the throttle."""
    from fieldapp.models import LoginThrottle

    response = client.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": blank})
    assert response.status_code == 422
    assert "Skriv inn PIN-kode eller passord." in response.get_data(as_text=True)
    assert LoginThrottle.select().count() == 0


def test_failed_sign_ins_are_throttled_per_phone_number(app, client, world):
    worker = world.people["worker"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/sign-in", data={"phone": worker.phone, "secret": "000999"}).status_code == 401
    # Now even the right PIN waits: the limit protects the account, not the attempt.
    response = client.post("/sign-in", data={"phone": worker.phone, "secret": PIN})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "For mange mislykkede forsøk" in response.get_data(as_text=True)
    # Another person on the same crew address is not locked out.
    sign_in(client, world.people["foreman"])


def test_throttle_window_expires(app, client, world):
    from fieldapp.models import LoginThrottle

    worker = world.people["worker"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/sign-in", data={"phone": worker.phone, "secret": "000999"})
    from datetime import timedelta

    LoginThrottle.update(window_started_at=utcnow() - timedelta(hours=1)).execute()
    sign_in(client, worker)


def test_sign_out_ends_the_server_side_session(client, world):
    sign_in(client, world.people["worker"])
    with client.session_transaction() as flask_session:
        stolen_cookie_token = flask_session["sid"]
    response = client.post("/sign-out")
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"cache"'
    assert DeviceSession.get().revoked_at is not None
    assert client.get("/").status_code == 302
    # A copy of the old cookie is worth nothing any more.
    with client.session_transaction() as flask_session:
        flask_session["sid"] = stolen_cookie_token
    assert client.get("/").status_code == 302


def test_sessions_are_listed_and_a_lost_phone_can_be_signed_out(app, world):
    worker = world.people["worker"]
    phone, lost_phone = app.test_client(), app.test_client()
    phone.post("/sign-in", data={"phone": worker.phone, "secret": PIN},
               headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/156 Mobile"})
    lost_phone.post("/sign-in", data={"phone": worker.phone, "secret": PIN},
                    headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1"})
    profile = phone.get("/me").get_data(as_text=True)
    assert "Android-telefon · Chrome" in profile and "iPhone · Safari" in profile
    lost = DeviceSession.get(DeviceSession.user_agent.contains("iPhone"))
    response = phone.post(f"/me/sessions/{lost.id}/revoke", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="sessions"' in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)  # the fragment, not the page
    assert lost_phone.get("/").status_code == 302
    assert phone.get("/").status_code == 200


def test_cannot_revoke_someone_elses_session(app, world):
    a, b = app.test_client(), app.test_client()
    sign_in(a, world.people["worker"])
    sign_in(b, world.people["foreman"])
    foremans = DeviceSession.get(DeviceSession.user == world.people["foreman"])
    assert a.post(f"/me/sessions/{foremans.id}/revoke").status_code == 404
    assert b.get("/").status_code == 200


def test_next_parameter_never_leaves_the_site(client, world):
    worker = world.people["worker"]
    response = client.post("/sign-in", data={"phone": worker.phone, "secret": PIN, "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    client.post("/sign-out")
    response = client.post("/sign-in", data={"phone": worker.phone, "secret": PIN, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"
    client.post("/sign-out")
    response = client.post("/sign-in", data={"phone": worker.phone, "secret": PIN, "next": "/me"})
    assert response.headers["Location"] == "/me"


def test_signed_out_person_is_sent_to_sign_in_and_back(client, world):
    response = client.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=/me")


def test_expired_and_idle_sessions_end(app, client, world):
    from datetime import timedelta

    sign_in(client, world.people["worker"])
    DeviceSession.update(last_seen_at=utcnow() - timedelta(days=app.config["DEVICE_SESSION_IDLE_DAYS"] + 1)).execute()
    assert client.get("/").status_code == 302


def test_inactive_person_cannot_sign_in(client, world):
    from fieldapp.models import User

    worker = world.people["worker"]
    User.update(active=False).where(User.id == worker.id).execute()
    assert client.post("/sign-in", data={"phone": worker.phone, "secret": PIN}).status_code == 401


def test_sign_in_without_csrf_token_is_refused(client, world):
    response = client.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": PIN}, csrf=False)
    assert response.status_code == 400
    assert "Skjemaet er utløpt" in response.get_data(as_text=True)
    assert DeviceSession.select().count() == 0


def test_tests_hash_cheaply_and_production_hashes_at_full_cost(app, tmp_path):
    with app.app_context():
        assert argon2.extract_parameters(accounts.hash_secret(PIN)).memory_cost == 8  # ARGON2_PROFILE="test"
    production = create_app({**test_config(tmp_path), "ARGON2_PROFILE": "default"})
    with production.app_context():
        assert argon2.extract_parameters(accounts.hash_secret(PIN)).memory_cost == 65536


def test_the_test_profile_is_refused_without_testing(tmp_path):
    production = create_app({**test_config(tmp_path), "TESTING": False})
    with production.app_context(), pytest.raises(RuntimeError, match="tests only"):
        accounts.hash_secret(PIN)


def test_a_cheap_hash_is_made_full_cost_at_the_next_sign_in(app, client, world, tmp_path):
    worker = world.people["worker"]
    production = create_app({**test_config(tmp_path, app.config["DATABASE_URL"]), "ARGON2_PROFILE": "default"})
    production.test_client_class = type(client)
    sign_in(production.test_client(), worker)
    stored = User.get_by_id(worker.id).password_hash
    assert stored != worker.password_hash
    assert argon2.extract_parameters(stored).memory_cost == 65536
