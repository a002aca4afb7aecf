"""Alerts with web push, end to end: real pywebpush encryption and VAPID, checked and decrypted by a fake push
service on 127.0.0.1; acknowledgement; escalation with a fake clock; templates in every language."""
import json
import re
import uuid
from datetime import timedelta

import pytest
from flask_babel import force_locale
from helpers import subscribe

from fieldapp import audit
from fieldapp.alerts import wording
from fieldapp.alerts import tasks as alert_tasks
from fieldapp.models import Alert, AlertRecipient, AuditEvent, PushSubscription, Report, User, utcnow
from fieldapp.queue import huey


@pytest.fixture
def phones(as_role, push_service):
    """Every person on site A with one subscribed phone; the worker reads English."""
    User.update(language="en").where(User.phone == "+4791000001").execute()
    clients = {}
    for role in ("worker", "foreman", "verneombud", "manager"):
        clients[role] = as_role(role)
        subscribe(clients[role], push_service, role)
    return clients


def compose(client, site, **fields):
    data = {"uuid": str(uuid.uuid4()), **fields}
    return client.post(f"/s/{site.id}/alerts/new", data=data)


# --- subscriptions --------------------------------------------------------------------------------------

def test_bad_subscriptions_get_a_clear_4xx(app, as_role, push_service):
    client = as_role("worker")
    good = push_service.subscribe("phone")
    assert client.post("/me/push", data="{not json", content_type="application/json").status_code == 400
    assert client.post("/me/push", json={"endpoint": good["endpoint"]}).status_code == 400
    assert client.post("/me/push", json={**good, "keys": {"p256dh": "AAAA", "auth": good["keys"]["auth"]}}
                       ).status_code == 422
    assert client.post("/me/push", json={**good, "endpoint": "ftp://push.example/x"}).status_code == 422
    app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = False  # as in production
    for endpoint in ("http://push.example.com/x", "https://127.0.0.1/x", "https://10.1.2.3/x",
                     "https://[::1]/x", "https://localhost/x", "https://169.254.169.254/latest"):
        response = client.post("/me/push", json={**good, "endpoint": endpoint})
        assert response.status_code == 422, endpoint
        assert "ikke tillatt" in response.get_json()["error"]
    assert client.post("/me/push", json={**good, "endpoint": "https://fcm.googleapis.com/fcm/send/abc"}
                       ).status_code == 201
    assert PushSubscription.select().count() == 1


def test_a_signed_out_phone_subscribing_gets_401_not_the_sign_in_page(client, as_role, push_service):
    """The push card posts JSON with fetch: a redirect to the sign-in page read as an unexplained failure ("try
    again with signal"). 401 lets the card take the person to sign in."""
    good = push_service.subscribe("phone")
    response = client.post("/me/push", json=good)
    assert response.status_code == 401 and response.get_json()["signed_out"] is True
    assert PushSubscription.select().count() == 0
    assert client.get("/me").status_code == 302  # a page still goes to sign-in
    # Signed out, the page's CSRF token went with the session: the token check answers first, the same way.
    stale = client.post("/me/push", json=good, csrf=False)
    assert stale.status_code == 401 and stale.get_json()["signed_out"] is True


def test_a_signed_in_json_post_with_an_expired_token_gets_json(as_role, push_service):
    response = as_role("worker").post("/me/push", json=push_service.subscribe("phone"), csrf=False)
    assert response.status_code == 400 and "Last inn siden" in response.get_json()["error"]  # in the reader's bokmål
    assert PushSubscription.select().count() == 0


def test_subscriptions_are_listed_on_the_profile_and_can_be_removed(as_role, push_service):
    client = as_role("worker")
    first = subscribe(client, push_service, "phone-1")
    info = push_service.subscribe("phone-2")
    android = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/131"}
    assert client.post("/me/push", json=info, headers=android).status_code == 201
    assert client.post("/me/push", json=info, headers=android).status_code == 200  # the same device: one row
    page = client.get("/me").get_data(as_text=True)
    assert page.count('class="row push-subscription"') == 2 and "Android" in page
    assert as_role("foreman").post(f"/me/push/{first}/remove").status_code == 404  # not theirs
    assert client.post(f"/me/push/{first}/remove").status_code == 303
    assert PushSubscription.select().count() == 1


# --- sending and delivery -----------------------------------------------------------------------------------

def test_a_stop_work_alert_reaches_every_phone_in_its_readers_language(world, phones, push_service):
    response = compose(phones["verneombud"], world.site, template="stop_work", area="Tower crane 2")
    assert response.status_code == 303
    alert = Alert.get()
    assert (alert.level, alert.ack_required) == ("stop_work", True)
    assert (alert.ack_deadline - alert.created_at) == timedelta(minutes=10)
    copies = {c.user.name: c for c in AlertRecipient.select().where(AlertRecipient.alert == alert)}
    assert set(copies) == {"Worker Person", "Foreman Person", "Manager Person"}  # not the sender
    assert all(c.delivered_at is not None for c in copies.values())
    assert push_service.rejected == []
    english = push_service.for_device("worker")[0]
    norwegian = push_service.for_device("foreman")[0]
    assert english["payload"]["title"] == "STOP WORK: immediate danger"
    assert norwegian["payload"]["title"] == "STANS ARBEIDET: umiddelbar fare"
    assert "Tower crane 2" in english["payload"]["body"] and "§ 6-3" in norwegian["payload"]["body"]
    assert english["payload"]["url"] == f"/s/{world.site.id}/alerts/{alert.id}"
    assert english["payload"]["level"] == "stop_work"
    headers = english["headers"]
    assert headers["urgency"] == "high" and headers["topic"] == f"alert{alert.id}"
    assert 3600 <= int(headers["ttl"]) <= 24 * 3600  # hours, not 0
    assert english["size"] < 4096
    assert push_service.for_device("verneombud") == []


def test_a_warning_to_those_checked_in_goes_only_to_them(world, phones, push_service):
    from fieldapp.models import CheckIn

    CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["worker"], checked_in_at=utcnow(),
                   name="Worker Person")
    assert compose(phones["foreman"], world.site, template="crane_lift", audience="checked_in",
                   area="Zone B").status_code == 303
    assert [m["device"] for m in push_service.received] == ["worker"]
    alert = Alert.get()
    assert alert.level == "warning" and (alert.ack_deadline - alert.created_at) == timedelta(minutes=60)


def test_an_own_alert_needs_title_and_text_and_sending_twice_makes_one(world, phones, push_service):
    foreman = phones["foreman"]
    response = compose(foreman, world.site, title="", body="")
    assert response.status_code == 422 and "tittel og en tekst" in response.get_data(as_text=True)
    # Beside the title, where the writing starts, not in a banner above the ready-made alerts.
    assert re.search(r'id="title-error"[^>]*>[^<]*tittel og en tekst', response.get_data(as_text=True))
    assert 'class="error banner"' not in response.get_data(as_text=True)
    assert compose(foreman, world.site, title="x" * 121, body="y").status_code == 422
    assert compose(foreman, world.site, title="Hi", body="there", level="panic").status_code == 422
    assert compose(foreman, world.site, title="Hi", body="there", ack_minutes="0").status_code == 422
    assert Alert.select().count() == 0
    form_uuid = str(uuid.uuid4())
    for _ in range(2):
        assert compose(foreman, world.site, uuid=form_uuid, title="Lunch moved", body="Lunch at 11:30 today",
                       level="info").status_code == 303
    assert Alert.select().count() == 1 and not Alert.get().ack_required  # information: no ack by default
    assert len(push_service.for_device("worker")) == 1
    assert push_service.for_device("worker")[0]["payload"]["title"] == "Lunch moved"
    assert compose(phones["worker"], world.site, title="Hi", body="there").status_code == 403


def test_other_words_or_another_sender_under_a_sent_alerts_uuid_are_refused_not_taken_as_sent(world, as_role):
    """Sent twice, saved once, but only the same alert: other words (an edited form sent with the old UUID) or
    another person under that UUID get a 409 that says so, and nothing else is sent or credited to them."""
    foreman, verneombud = as_role("foreman"), as_role("verneombud")
    form_uuid = str(uuid.uuid4())
    words = dict(uuid=form_uuid, title="Crane lift", body="Keep clear of zone B", level="warning")
    assert compose(foreman, world.site, **words).status_code == 303
    assert compose(foreman, world.site, **words).status_code == 303  # the same alert again: the one saved
    edited = compose(foreman, world.site, **{**words, "body": "Keep clear of zone C"})
    assert edited.status_code == 409 and "allerede brukt til å sende et annet varsel" in edited.get_data(as_text=True)
    assert compose(foreman, world.site, **{**words, "level": "stop_work"}).status_code == 409
    assert compose(verneombud, world.site, **words).status_code == 409
    assert Alert.select().count() == 1
    alert = Alert.get()
    assert alert.body == "Keep clear of zone B" and alert.sender_id == world.people["foreman"].id


def test_a_gone_subscription_is_removed(world, phones, push_service, as_role):
    gone = push_service.subscribe("old-phone", plan=[410])
    assert as_role("worker").post("/me/push", json=gone).status_code == 201
    compose(phones["foreman"], world.site, template="area_closed", area="the east stair")
    assert not PushSubscription.select().where(PushSubscription.endpoint == gone["endpoint"]).exists()
    assert len(push_service.for_device("worker")) == 1  # the other phone still got it


def test_a_busy_push_service_is_retried_with_backoff(app, world, phones, push_service, as_role):
    from fieldapp.models import PushDelivery

    busy = push_service.subscribe("busy-phone", plan=[503, 429])
    assert as_role("worker").post("/me/push", json=busy).status_code == 201
    huey.flush()
    compose(phones["foreman"], world.site, template="weather", area="the roof")
    alert = Alert.get()
    assert push_service.for_device("busy-phone") == []
    row = PushDelivery.get(PushDelivery.subscription == PushSubscription.get(endpoint=busy["endpoint"]))
    clock = utcnow()
    for attempt, expected_delay in ((1, 30), (2, 60)):
        scheduled = huey.scheduled()
        assert len(scheduled) == 1
        task = scheduled[0]
        assert task.args == (alert.id,)
        assert abs((task.eta - huey._get_timestamp()).total_seconds() - expected_delay) < 5
        row = PushDelivery.get_by_id(row.id)
        assert row.attempts == attempt and row.sent_at is None and row.last_status == (503, 429)[attempt - 1]
        assert abs((row.next_attempt_at - clock).total_seconds() - expected_delay) < 5
        huey.flush()
        with app.app_context():
            # Not yet due: nothing is sent early.
            assert alert_tasks.deliver(alert.id, now=row.next_attempt_at - timedelta(seconds=1))["sent"] == 0
            clock = row.next_attempt_at + timedelta(seconds=1)
            alert_tasks.deliver(*task.args, now=clock)  # what the consumer does at the eta
    assert len(push_service.for_device("busy-phone")) == 1
    assert PushDelivery.get_by_id(row.id).sent_at is not None
    assert huey.scheduled() == []
    assert PushSubscription.select().where(PushSubscription.endpoint == busy["endpoint"]).exists()


# --- acknowledgement -------------------------------------------------------------------------------------------

def test_acknowledging_from_the_outbox_is_recorded_once_with_the_phones_time(world, phones):
    compose(phones["verneombud"], world.site, template="stop_work", area="Level 3")
    alert = Alert.get()
    worker = phones["worker"]
    page = worker.get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "STANS ARBEIDET" not in page  # the worker reads English
    assert "STOP WORK: immediate danger" in page and "Read and understood" in page
    copy = AlertRecipient.get((AlertRecipient.alert == alert) & (AlertRecipient.user == world.people["worker"]))
    assert copy.seen_at is not None and copy.acked_at is None
    made_at = (utcnow() + timedelta(seconds=1)).isoformat() + "Z"
    ack_uuid = str(uuid.uuid4())
    path = f"/s/{world.site.id}/alerts/{alert.id}/ack"
    first = worker.post(path, data={"uuid": ack_uuid, "made_at": made_at}, headers={"X-Outbox": "1"})
    again = worker.post(path, data={"uuid": ack_uuid, "made_at": made_at}, headers={"X-Outbox": "1"})
    assert (first.status_code, again.status_code) == (201, 200)
    copy = AlertRecipient.get_by_id(copy.id)
    assert copy.acked_at is not None and str(copy.ack_uuid) == ack_uuid
    assert AuditEvent.select().where(AuditEvent.action == "alert.acknowledge").count() == 1
    # Another person's acknowledgement under that UUID: told so (not "already used to send another alert").
    other = phones["foreman"].post(path, data={"uuid": ack_uuid, "made_at": made_at})
    assert other.status_code == 409 and "bekreftelsen ble sendt fra et annet skjema" in other.get_data(as_text=True)
    # The sender sees who has and who has not.
    status = phones["verneombud"].get(f"/s/{world.site.id}/alerts/{alert.id}/status",
                                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "1 av 3 har bekreftet" in status
    assert status.index("Foreman Person") < status.index("Worker Person")  # the ones waiting first
    assert 'hx-trigger="every 5s"' in status
    # Someone who is not a recipient cannot acknowledge it.
    assert phones["verneombud"].post(path, data={"uuid": str(uuid.uuid4())}).status_code == 404


def test_the_inbox_counts_what_is_not_acknowledged(world, phones):
    compose(phones["verneombud"], world.site, template="crane_lift", area="Zone A")
    compose(phones["verneombud"], world.site, title="Coffee", body="In the barracks", level="info")
    page = phones["foreman"].get("/alerts").get_data(as_text=True)
    assert 'class="nav-count"' in page and ">2</span>" in page
    alert = Alert.get(Alert.template == "crane_lift")
    phones["foreman"].post(f"/s/{world.site.id}/alerts/{alert.id}/ack", data={"uuid": str(uuid.uuid4())})
    phones["foreman"].get(f"/s/{world.site.id}/alerts/{Alert.get(Alert.title == 'Coffee').id}")  # seen
    assert 'class="nav-count"' not in phones["foreman"].get("/alerts").get_data(as_text=True)


# --- escalation ------------------------------------------------------------------------------------------------

def test_a_foreman_who_does_not_acknowledge_is_reminded_and_the_manager_told(app, world, as_role, push_service):
    foreman, manager, verneombud = as_role("foreman"), as_role("manager"), as_role("verneombud")
    subscribe(foreman, push_service, "foreman")
    subscribe(manager, push_service, "manager")
    assert compose(verneombud, world.site, template="stop_work", audience="foremen").status_code == 303
    alert = Alert.get()
    assert [m["device"] for m in push_service.received] == ["foreman"]
    # Nine minutes later nothing happens; after the ten-minute deadline it escalates, once.
    with app.app_context():
        assert alert_tasks.escalate(now=alert.created_at + timedelta(minutes=9)) == []
        done = alert_tasks.escalate(now=alert.created_at + timedelta(minutes=10, seconds=1))
        assert done == [(alert.id, [world.people["foreman"].id], [world.people["manager"].id])]
        assert alert_tasks.escalate(now=alert.created_at + timedelta(minutes=30)) == []
    assert len(push_service.for_device("foreman")) == 2
    told = push_service.for_device("manager")
    assert len(told) == 1 and told[0]["payload"]["title"].startswith("Foreman Person: STANS ARBEIDET")
    alert = Alert.get_by_id(alert.id)
    assert alert.escalated_at is not None
    copy = AlertRecipient.get((AlertRecipient.alert == alert) & (AlertRecipient.user == world.people["manager"]))
    assert copy.added_by_escalation
    assert AlertRecipient.get((AlertRecipient.alert == alert)
                              & (AlertRecipient.user == world.people["foreman"])).escalated_at is not None
    event = AuditEvent.get(AuditEvent.action == "alert.escalate")
    assert json.loads(event.after) == {"foremen": [world.people["foreman"].id],
                                       "managers": [world.people["manager"].id]}
    page = manager.get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "ikke bekreftet det i tide" in page
    assert audit.verify_chain()[1] is None


def test_an_acknowledged_warning_does_not_escalate(app, world, as_role, push_service):
    foreman, verneombud = as_role("foreman"), as_role("verneombud")
    subscribe(foreman, push_service, "foreman")
    compose(verneombud, world.site, template="crane_lift", audience="foremen")
    alert = Alert.get()
    with app.app_context():
        assert alert_tasks.escalate(now=alert.created_at + timedelta(minutes=59)) == []
    foreman.post(f"/s/{world.site.id}/alerts/{alert.id}/ack", data={"uuid": str(uuid.uuid4())})
    with app.app_context():
        assert alert_tasks.escalate(now=alert.created_at + timedelta(minutes=61)) == [(alert.id, [], [])]
    assert len(push_service.for_device("foreman")) == 1


# --- templates and automatic alerts ------------------------------------------------------------------------------

def test_every_template_exists_in_every_language(app):
    with app.test_request_context():
        texts = {}
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                for key, (level, title, text) in wording.templates().items():
                    texts[(language, key)] = (str(title("Zone C")), str(text("Zone C")))
        for key in wording.templates():
            assert texts[("nb", key)] != texts[("en", key)], key
            assert all(texts[(lang, key)][0] for lang in app.config["LANGUAGES"])
        # Each template the compose page offers has its wording (the page looks every one up).
        assert set(wording.COMPOSE_TEMPLATES) <= set(wording.templates())


def test_a_serious_report_alerts_the_verneombud_and_foremen_and_closing_tells_the_reporter(
        app, world, as_role, push_service):
    import io

    from helpers import jpeg

    phones = {role: as_role(role) for role in ("worker", "foreman", "verneombud", "manager")}
    for role, client in phones.items():
        subscribe(client, push_service, role)
    response = phones["worker"].post(f"/s/{world.site.id}/reports/new", content_type="multipart/form-data", data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "electrical", "description": "Bare wire",
        "photos": [(io.BytesIO(jpeg()), "a.jpg")]})
    assert response.status_code == 303
    report = Report.get(Report.description == "Bare wire")
    assert sorted(m["device"] for m in push_service.received) == ["foreman", "verneombud"]
    message = push_service.for_device("verneombud")[0]["payload"]
    assert message["title"] == "Ny alvorlig fare meldt" and "Elektrisk" in message["body"]
    # A low-severity report alerts nobody.
    phones["worker"].post(f"/s/{world.site.id}/reports/new", data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "order_tidiness", "description": "Mess"})
    assert len(push_service.received) == 2
    phones["foreman"].post(f"/s/{world.site.id}/reports/{report.id}/close", data={"text": "Wire insulated"})
    told = push_service.for_device("worker")
    assert len(told) == 1 and told[0]["payload"]["title"] == "Rapporten din er lukket"


def test_someone_removed_from_the_site_is_not_left_with_its_alerts(app, world, as_role, push_service):
    # The alert's page answers them 404 once they are off the site: the banner, the count and the inbox must not
    # offer it (it stayed at the top of every page, never to be acknowledged), and escalation must not remind them.
    foreman, verneombud = as_role("foreman"), as_role("verneombud")
    assert compose(verneombud, world.site, template="stop_work", audience="foremen").status_code == 303
    alert = Alert.get()
    home = foreman.get("/").get_data(as_text=True)
    assert 'class="alert-banners"' in home and 'class="nav-count"' in home
    assert as_role("manager").post(f"/s/{world.site.id}/people/{world.people['foreman'].id}/remove").status_code == 303
    home = foreman.get("/").get_data(as_text=True)
    assert 'class="alert-banners"' not in home and 'class="nav-count"' not in home
    assert f"/alerts/{alert.id}" not in foreman.get("/alerts").get_data(as_text=True)
    with app.app_context():
        done = alert_tasks.escalate(now=alert.created_at + timedelta(minutes=11))
    assert done == [(alert.id, [], [])]  # nobody late who is still a foreman there: nobody reminded or told
    assert AlertRecipient.get(AlertRecipient.alert == alert).acked_at is None  # the record of who was told stays


def test_an_alert_that_asks_no_acknowledgement_shows_who_has_seen_it(world, as_role):
    """The inbox showed no "not acknowledged" badge for an information alert, while its page told the sender
    "0 of 3 acknowledged" and "Acknowledged: No" for each person (new-user test): it was never asked for."""
    foreman = as_role("foreman")
    assert compose(foreman, world.site, title="Lunsj flyttet", body="Lunsj kl. 11.30", level="info").status_code == 303
    alert = Alert.get(Alert.title == "Lunsj flyttet")
    page = foreman.get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    summary = re.search(r'<p class="status-summary">(.*?)</p>', page, re.S).group(1)
    assert "har sett det" in summary and "Det ble ikke bedt om bekreftelse." in summary
    assert "har bekreftet" not in summary and "Bekreftet Nei" not in re.sub(r"\s+", " ", page)
    # One that asks for it still counts the acknowledgements.
    assert compose(foreman, world.site, title="Kranløft", body="Hold avstand", level="warning",
                   ack_required="y", ack_minutes="30").status_code == 303
    asked = Alert.get(Alert.title == "Kranløft")
    assert asked.ack_required
    page = foreman.get(f"/s/{world.site.id}/alerts/{asked.id}").get_data(as_text=True)
    assert "har bekreftet" in re.search(r'<p class="status-summary">(.*?)</p>', page, re.S).group(1)


def test_the_sites_alert_list_counts_who_has_seen_an_alert_that_asks_no_acknowledgement(world, as_role):
    foreman = as_role("foreman")
    assert compose(foreman, world.site, title="Kaffe", body="Kaffe i brakka", level="info").status_code == 303
    alert = Alert.get(Alert.title == "Kaffe")
    as_role("worker").get(f"/s/{world.site.id}/alerts/{alert.id}")  # seen by the worker
    listing = re.sub(r"\s+", " ", foreman.get(f"/s/{world.site.id}/alerts").get_data(as_text=True))
    row = re.search(r"<strong>Kaffe</strong>(.*?)</a>", listing).group(1)
    assert "1 av 3 har sett det" in row and "bekreftet" not in row
    status = foreman.get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert 'hx-trigger="every 5s"' in status  # two have not seen it yet: the sender's page keeps up
