"""Push delivery at least once (issue 13) and push endpoints hardened (issue 14): the allowlist against server-side
request forgery, endpoints bound to their owner's device session, broken subscriptions, durable automatic alerts
and the start-up warnings. The consumer killed mid-fanout is in test_push_kill.py."""
import json
import logging
import uuid

import pytest

from fieldapp import push
from fieldapp.alerts import delivery, service
from fieldapp.alerts import tasks as alert_tasks
from fieldapp.models import (Alert, AlertRecipient, AuditEvent, DeviceSession, Membership, PushDelivery,
                             PushSubscription, Report, User, utcnow)

# --- issue 14: only real push services ----------------------------------------------------------------------------

BYPASSES = [
    "https://2130706433/x", "https://0x7f000001/x", "https://127.1/x", "https://0177.0.0.1/x", "https://0/x",
    "https://127.0.0.1/x", "https://[::1]/x", "https://localhost/x", "https://169.254.169.254/latest",
    "https://10.1.2.3/x", "https://push.example.com/x", "https://internal.corp/x",
    # userinfo: every parser must agree on the host, and there is no userinfo on a push endpoint
    "https://fcm.googleapis.com@evil.example/x", "https://evil.example@fcm.googleapis.com/x",
    "https://fcm.googleapis.com:443@evil.example/x", "https://fcm.googleapis.com\\@evil.example/x",
    "https://evil.example\\@fcm.googleapis.com/x",
    # the allowed name as a part of another one
    "https://fcm.googleapis.com.evil.example/x", "https://evilfcm.googleapis.com.evil.example/x",
    "https://evilpush.apple.com/x", "https://push.apple.com/x", "https://notify.windows.com.evil.example/x",
    "https://fcm.googleapis.com%2eevil.example/x",
    # other schemes, ports, malformed hosts
    "http://fcm.googleapis.com/fcm/send/x", "ftp://fcm.googleapis.com/x", "https://fcm.googleapis.com:8443/x",
    "https://fcm.googleapis.com:0/x", "https://fcm.googleapis.com../x", "https://.fcm.googleapis.com/x",
    "https:///fcm.googleapis.com/x", "https:fcm.googleapis.com/x", "https://fcm.googleapis.com /x",
    # IDN: a Cyrillic "с", full-width letters, punycode of a look-alike
    "https://fсm.googleapis.com/x", "https://ｆｃｍ.googleapis.com/x", "https://xn--fm-ilc.googleapis.com/x",
]
ACCEPTED = [
    "https://fcm.googleapis.com/fcm/send/abc:def",
    "https://FCM.GoogleAPIs.com/fcm/send/abc2",  # the host is case-insensitive
    "https://fcm.googleapis.com./fcm/send/abc3",  # one trailing dot: the same DNS name
    "https://fcm.googleapis.com:443/fcm/send/abc4",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
    "https://web.push.apple.com/QGuQyavXutnMH",
    "https://wns2-db5p.notify.windows.com/w/?token=BQYAAAB",
]


def weather_alert(site, sender=None, recipients=None):
    """A weather warning that needs no acknowledgement, stored with its push deliveries and not sent yet
    (service.create with send=False): the test runs the deliveries itself. recipients: [(user id, role)]."""
    alert, _created = service.create(sender, site, uuid.uuid4(), dict(
        template="weather", level="warning", title="", body="", area="", audience="all", ack_required=False,
        ack_minutes=60), recipients=recipients, send=False)
    return alert


def subscribed_workers(push_service, count, device, phone, site=None):
    """`count` new people, each with one phone subscribed at the fake push service (devices device + "0", "1",
    ...; phone numbers phone.format(i)), workers on `site` when given: [(user id, "worker")]."""
    people = []
    for i in range(count):
        user = User.create(name=f"Worker {device}{i}", phone=phone.format(i))
        if site is not None:
            Membership.create(user=user, site=site, role="worker")
        info = push_service.subscribe(f"{device}{i}")
        PushSubscription.create(user=user, endpoint=info["endpoint"], **info["keys"])
        people.append((user.id, "worker"))
    return people


@pytest.fixture
def production(app):
    app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = False
    return app


def keys(push_service):
    return push_service.subscribe("keys-only")["keys"]


def test_push_endpoints_outside_the_known_push_services_are_refused(production, as_role, push_service):
    client = as_role("worker")
    for endpoint in BYPASSES:
        response = client.post("/me/push", json={"endpoint": endpoint, "keys": keys(push_service)})
        assert response.status_code == 422, endpoint
        assert "ikke tillatt" in response.get_json()["error"], endpoint
    assert PushSubscription.select().count() == 0
    for number, endpoint in enumerate(ACCEPTED):
        response = client.post("/me/push", json={"endpoint": endpoint, "keys": keys(push_service)})
        assert response.status_code == 201, endpoint
    assert PushSubscription.select().count() == len(ACCEPTED)


def test_a_delivery_runs_endpoint_check_answers_as_endpoint_allowed_for_each_endpoint():
    """push.EndpointCheck keeps answers per push service origin: in any order, with origins shared between
    refused and accepted endpoints, each answer is endpoint_allowed's."""
    extra = ["https://fcm.googleapis.com/fcm/send/a\\b", "https://fcm.googleapis.com/x y",
             "https://fcm.googleapis.com/é", "https://fcm.googleapis.com?x=1",
             "https://fcm.googleapis.com#@evil.example/", "http://127.0.0.1:9/p", "http://localhost/p?q",
             "https://", "fcm.googleapis.com/x", "HTTPS://FCM.googleapis.com/x"]
    endpoints = BYPASSES + ACCEPTED + extra
    for allow_local in (False, True):
        for order in (endpoints, endpoints[::-1]):
            check = push.EndpointCheck(push.DEFAULT_ALLOWED_HOSTS, allow_local)
            for endpoint in order:
                expected = push.endpoint_allowed(endpoint, push.DEFAULT_ALLOWED_HOSTS, allow_local)
                assert check(endpoint) == expected, endpoint
    assert push.EndpointCheck(push.DEFAULT_ALLOWED_HOSTS)("https://fcm.googleapis.com/fcm/send/1")


def test_loopback_is_refused_in_production_even_for_the_fake_service(production, as_role, push_service):
    info = push_service.subscribe("phone")
    assert info["endpoint"].startswith("http://127.0.0.1:")
    assert as_role("worker").post("/me/push", json=info).status_code == 422
    production.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = True  # the escape hatch: loopback only, not any address
    assert as_role("worker").post("/me/push", json=info).status_code == 201
    for endpoint in ("http://10.0.0.1/x", "http://192.168.1.1:8080/x", "http://2130706433/x", "http://evil.example/x"):
        assert not push.endpoint_allowed(endpoint, push.DEFAULT_ALLOWED_HOSTS, allow_local=True), endpoint


def test_an_operator_can_add_a_push_service(production, as_role, push_service):
    endpoint = "https://push.example.no/sub/1"
    client = as_role("worker")
    assert client.post("/me/push", json={"endpoint": endpoint, "keys": keys(push_service)}).status_code == 422
    production.config["PUSH_ALLOWED_HOSTS"] = ("push.example.no", "*.push.example.com")
    assert client.post("/me/push", json={"endpoint": endpoint, "keys": keys(push_service)}).status_code == 201
    hosts = push.allowed_hosts(production.config)
    assert push.endpoint_allowed("https://eu.push.example.com/x", hosts)
    assert not push.endpoint_allowed("https://push.example.com/x", hosts)  # *.suffix is a sub-domain only
    assert push.allowed_hosts({"PUSH_ALLOWED_HOSTS": "a.example, *.b.example"})[-2:] == ("a.example", "*.b.example")


def test_the_sender_never_connects_to_an_endpoint_stored_before_the_allowlist(app, world, as_role, push_service):
    """A row from before issue 14 (or a host the operator removed): marked broken, never contacted."""
    info = push_service.subscribe("old-row")
    PushSubscription.create(user=world.people["worker"], endpoint=info["endpoint"], **info["keys"])
    app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = False
    with app.app_context():
        alert, _created = service.create(world.people["foreman"], world.site, uuid.uuid4(), dict(
            template="area_closed", level="warning", title="", body="", area="B", audience="all",
            ack_required=False, ack_minutes=60))
    assert push_service.received == []
    row = PushDelivery.get(PushDelivery.alert == alert)
    assert row.sent_at is None and row.gave_up_at is not None and row.last_status == delivery.REFUSED_HERE
    assert PushSubscription.get(PushSubscription.endpoint == info["endpoint"]).broken_at is not None


# --- issue 14: an endpoint stays with its owner -----------------------------------------------------------------

def test_another_person_cannot_take_an_endpoint_whose_owner_is_still_signed_in(world, as_role, push_service):
    info = push_service.subscribe("shared-phone")
    worker, foreman = as_role("worker"), as_role("foreman")
    assert worker.post("/me/push", json=info).status_code == 201
    response = foreman.post("/me/push", json=info)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert "logge ut" in error and "Worker" not in error  # says what to do, not whose it is
    subscription = PushSubscription.get(PushSubscription.endpoint == info["endpoint"])
    assert subscription.user_id == world.people["worker"].id
    assert not AuditEvent.select().where(AuditEvent.action == "push.move").exists()


def test_after_sign_out_the_next_person_on_the_phone_takes_the_endpoint_over(world, as_role, push_service):
    info = push_service.subscribe("shared-phone")
    worker, foreman = as_role("worker"), as_role("foreman")
    assert worker.post("/me/push", json=info).status_code == 201
    subscription = PushSubscription.get(PushSubscription.endpoint == info["endpoint"])
    assert subscription.device_session is not None and subscription.vapid_key
    # A message for the worker still waiting for this phone must never show on the foreman's screen.
    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, level="info", title="Private", body="For the worker")
    copy = AlertRecipient.create(alert=alert, user=world.people["worker"], role="worker")
    PushDelivery.create(alert=alert, recipient=copy, subscription=subscription)
    assert worker.post("/sign-out").status_code == 303
    assert foreman.post("/me/push", json=info).status_code == 200
    moved = PushSubscription.get_by_id(subscription.id)
    assert moved.user_id == world.people["foreman"].id
    assert moved.device_session_id != subscription.device_session_id
    assert PushDelivery.select().where(PushDelivery.subscription == subscription.id).count() == 0
    event = AuditEvent.get(AuditEvent.action == "push.move")
    assert json.loads(event.before)["user"] == world.people["worker"].id
    assert json.loads(event.after)["user"] == world.people["foreman"].id
    assert event.actor_id == world.people["foreman"].id


def test_an_expired_or_revoked_session_lets_the_endpoint_move_too(world, as_role, push_service):
    from datetime import timedelta

    for name, end in (("revoked", dict(revoked_at=utcnow())),
                      ("expired", dict(expires_at=utcnow() - timedelta(minutes=1))),
                      ("idle", dict(last_seen_at=utcnow() - timedelta(days=46)))):
        info = push_service.subscribe(name)
        assert as_role("worker").post("/me/push", json=info).status_code == 201
        subscription = PushSubscription.get(PushSubscription.endpoint == info["endpoint"])
        foreman = as_role("foreman")
        assert foreman.post("/me/push", json=info).status_code == 409, name
        DeviceSession.update(**end).where(DeviceSession.id == subscription.device_session_id).execute()
        assert foreman.post("/me/push", json=info).status_code == 200, name


def test_a_row_without_a_session_moves_only_when_its_owner_has_no_live_session(world, as_role, push_service):
    info = push_service.subscribe("legacy")
    worker = as_role("worker")
    PushSubscription.create(user=world.people["worker"], endpoint=info["endpoint"], **info["keys"])
    assert as_role("foreman").post("/me/push", json=info).status_code == 409
    DeviceSession.update(revoked_at=utcnow()).where(DeviceSession.user == world.people["worker"]).execute()
    assert as_role("foreman").post("/me/push", json=info).status_code == 200
    assert worker.get("/alerts").status_code == 302  # (the worker's session there had ended too)


def test_a_phone_signed_out_long_ago_gets_no_alerts_after_its_session_is_purged(app, world, as_role, push_service,
                                                                                frozen_clock):
    """Attack (session 6): purging a revoked session set the subscription's session to NULL, and a row without a
    session passed the signed-out check, so a shared phone got its old owner's alerts again after 91 days."""
    from datetime import timedelta

    from fieldapp.accounts import tasks as account_tasks

    worker = as_role("worker")
    assert worker.post("/me/push", json=push_service.subscribe("shared-phone")).status_code == 201
    assert worker.post("/sign-out").status_code == 303
    frozen_clock(utcnow() + timedelta(days=91))
    with app.app_context():
        assert account_tasks.purge_stale_sign_in_data.call_local()["push_subscriptions"] == 1
        alert = weather_alert(world.site, world.people["verneombud"])
        alert_tasks.deliver(alert.id)
    assert push_service.for_device("shared-phone") == []
    assert PushSubscription.select().count() == 0


def test_an_alert_queued_before_a_sign_out_is_not_sent_to_that_phone_after_it(app, world, as_role, push_service):
    """Attack (session 7): the consumer was busy when the alert was made, the person signed out of the shared
    phone, then the consumer sent the queued message to it. Ending the session gives up what is not sent yet."""
    worker = as_role("worker")
    assert worker.post("/me/push", json=push_service.subscribe("shared-phone")).status_code == 201
    assert as_role("worker").post("/me/push", json=push_service.subscribe("own-tablet")).status_code == 201
    with app.app_context():
        alert = weather_alert(world.site, world.people["verneombud"])  # queued, not sent yet
    assert worker.post("/sign-out").status_code == 303
    with app.app_context():
        assert alert_tasks.deliver(alert.id)["sent"] == 1
    assert push_service.for_device("shared-phone") == []
    assert len(push_service.for_device("own-tablet")) == 1  # the phone still signed in gets it
    given_up = PushDelivery.get(PushDelivery.gave_up_at.is_null(False))
    assert given_up.sent_at is None and given_up.subscription.endpoint.endswith("shared-phone")


@pytest.mark.parametrize("spelling", [
    "https://FCM.googleapis.com/fcm/send/OLA-DEVICE-1", "https://fcm.googleapis.com./fcm/send/OLA-DEVICE-1",
    "https://fcm.googleapis.com:443/fcm/send/OLA-DEVICE-1", "HTTPS://fcm.googleapis.com/fcm/send/OLA-DEVICE-1"])
def test_another_spelling_of_a_live_endpoint_cannot_take_it_either(world, as_role, push_service, spelling):
    keys = push_service.subscribe("any")["keys"]
    worker, foreman = as_role("worker"), as_role("foreman")
    original = "https://fcm.googleapis.com/fcm/send/OLA-DEVICE-1"
    assert worker.post("/me/push", json={"endpoint": original, "keys": keys}).status_code == 201
    assert foreman.post("/me/push", json={"endpoint": spelling, "keys": keys}).status_code == 409
    assert [s.user_id for s in PushSubscription.select()] == [world.people["worker"].id]


def test_endpoints_are_stored_in_one_spelling(world, as_role, push_service):
    keys = push_service.subscribe("any")["keys"]
    response = as_role("worker").post("/me/push", json={
        "endpoint": "https://Updates.Push.Services.Mozilla.com.:443/wpush/v2/gAAA?x=1", "keys": keys})
    assert response.status_code == 201
    assert PushSubscription.get().endpoint == "https://updates.push.services.mozilla.com/wpush/v2/gAAA?x=1"


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://127.0.0.1:5313"}, {"Origin": "null"}])
def test_only_this_origin_can_say_a_phone_received_an_alert(world, as_role, headers):
    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, level="warning", title="Crane", body="Stop")
    copy = AlertRecipient.create(alert=alert, user=world.people["worker"], role="worker")
    worker = as_role("worker")
    url = f"/s/{world.site.id}/alerts/{alert.id}/received"
    assert worker.post(url, csrf=False, headers=headers).status_code == 403
    assert AlertRecipient.get_by_id(copy.id).received_at is None
    assert worker.post(url, csrf=False, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 204
    assert AlertRecipient.get_by_id(copy.id).received_at is not None


# --- issue 13: broken subscriptions -----------------------------------------------------------------------------

def compose(client, site, **fields):
    return client.post(f"/s/{site.id}/alerts/new", data={"uuid": str(uuid.uuid4()), **fields})


def test_a_push_service_refusing_the_key_marks_the_phone_broken_until_it_subscribes_anew(
        world, as_role, push_service):
    worker, verneombud = as_role("worker"), as_role("verneombud")
    # 403: what a push service answers when the VAPID key is not the one the phone subscribed with.
    old = push_service.subscribe("worker-phone", plan=[403])
    assert worker.post("/me/push", json=old).status_code == 201
    assert compose(verneombud, world.site, template="crane_lift", area="Zone B").status_code == 303
    alert = Alert.get()
    subscription = PushSubscription.get(PushSubscription.endpoint == old["endpoint"])
    assert (subscription.broken_status, subscription.broken_at is not None) == (403, True)
    assert PushDelivery.get(PushDelivery.subscription == subscription).gave_up_at is not None
    copy = AlertRecipient.get((AlertRecipient.alert == alert) & (AlertRecipient.user == world.people["worker"]))
    assert copy.delivered_at is None
    status = verneombud.get(f"/s/{world.site.id}/alerts/{alert.id}/status",
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    worker_row = status[status.index("Worker Person"):]
    assert "Varsler må slås på igjen" in worker_row[:worker_row.index("</li>")]
    foreman_row = status[status.index("Foreman Person"):]
    assert "Varsler må slås på igjen" not in foreman_row[:foreman_row.index("</li>")]
    # The phone's next visit: the server says it is broken ...
    answer = worker.post("/me/push", json=old)
    assert answer.status_code == 200 and answer.get_json()["broken"] is True
    # ... so push.js subscribes anew and names the endpoint it replaces.
    new = push_service.subscribe("worker-phone-2")
    answer = worker.post("/me/push", json={**new, "replaces": old["endpoint"]})
    assert answer.status_code == 201 and answer.get_json()["broken"] is False
    assert not PushSubscription.select().where(PushSubscription.endpoint == old["endpoint"]).exists()
    status = verneombud.get(f"/s/{world.site.id}/alerts/{alert.id}/status",
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Varsler må slås på igjen" not in status
    # A broken phone gets no more messages; the new one does.
    assert compose(verneombud, world.site, title="Lunch", body="At 11", level="info").status_code == 303
    assert [m["payload"]["title"] for m in push_service.for_device("worker-phone-2")] == ["Lunch"]
    assert push_service.rejected == []


def test_replaces_removes_only_the_persons_own_endpoint(world, as_role, push_service):
    theirs = push_service.subscribe("foreman-phone")
    assert as_role("foreman").post("/me/push", json=theirs).status_code == 201
    mine = push_service.subscribe("worker-phone")
    assert as_role("worker").post("/me/push", json={**mine, "replaces": theirs["endpoint"]}).status_code == 201
    assert PushSubscription.select().where(PushSubscription.endpoint == theirs["endpoint"]).exists()


def test_the_service_worker_gets_the_key_and_a_token_to_renew_with(app, as_role):
    response = as_role("worker").get("/me/push/key")
    data = response.get_json()
    assert data["key"] == app.config["VAPID_PUBLIC_KEY"] and data["csrf"]
    assert response.headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/me/push/key").status_code == 302


def test_the_service_worker_resubscribes_on_pushsubscriptionchange(client):
    script = client.get("/sw.js").get_data(as_text=True)
    handler = script[script.index('addEventListener("pushsubscriptionchange"'):]
    assert "/me/push/key" in handler and "replaces" in handler and "pushManager.subscribe" in handler
    push_js = client.get("/static/js/push.js").get_data(as_text=True)
    assert "applicationServerKey" in push_js and "answer.broken" in push_js


# --- issue 13: durable automatic alerts, records as it goes --------------------------------------------------------

def test_a_serious_report_keeps_its_alert_when_the_queue_fails_and_the_sweep_sends_it(
        app, world, as_role, push_service, monkeypatch, caplog):
    from fieldapp.alerts import tasks

    for role in ("foreman", "verneombud"):
        assert as_role(role).post("/me/push", json=push_service.subscribe(role)).status_code == 201

    def queue_down(*args, **kwargs):
        raise ConnectionError("huey storage unreachable")  # the web process loses the queue after commit

    monkeypatch.setattr(alert_tasks, "deliver_alert", queue_down)
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", data={
        "uuid": str(uuid.uuid4()), "kind": "injury", "category": "falls", "description": "Fell from a ladder"})
    assert response.status_code == 303
    report = Report.get(Report.description == "Fell from a ladder")
    alert = Alert.get(Alert.report == report)  # committed with the report
    assert PushDelivery.select().where(PushDelivery.alert == alert).count() == 2
    assert push_service.received == []
    assert "periodic sweep will send it" in caplog.text
    monkeypatch.undo()
    with app.app_context():
        assert tasks.sweep_push_deliveries.call_local()["sent"] == 2
    assert sorted(m["device"] for m in push_service.received) == ["foreman", "verneombud"]
    assert push_service.for_device("foreman")[0]["payload"]["title"] == "Personskade meldt"
    assert delivery.pending_deliveries(alert) == 0


def test_a_report_whose_alert_cannot_be_made_is_not_saved_either(app, world, as_role, monkeypatch):
    """One transaction: never a serious report without its alert."""
    def broken(report, serious=False):
        raise RuntimeError("simulated crash while making the alert")

    monkeypatch.setattr("fieldapp.reports.service.alerts.report_created", broken)
    with pytest.raises(RuntimeError):
        as_role("worker").post(f"/s/{world.site.id}/reports/new", data={
            "uuid": str(uuid.uuid4()), "kind": "injury", "category": "falls", "description": "Cut hand"})
    assert not Report.select().where(Report.description == "Cut hand").exists()


def test_deliveries_are_recorded_as_they_complete_not_at_the_end(app, world, as_role, push_service, count_queries):
    """Small batches: with 120 phones the run commits several times, each with the answers so far."""
    push_service.delay = 0.01
    with app.app_context():
        people = subscribed_workers(push_service, 120, "w", "+4740{:06d}", site=world.site)
        alert = weather_alert(world.site, None, recipients=people)
        count_queries.queries.clear()
        result = alert_tasks.deliver(alert.id)
    assert result["sent"] == 120
    commits = [q for q in count_queries.queries if q.startswith("('UPDATE \"push_delivery\"") and '"sent_at" = ' in q]
    assert len(commits) >= 3  # 120 answers in batches of at most 50 (or every 0.5 s)
    assert AlertRecipient.select().where((AlertRecipient.alert == alert)
                                         & AlertRecipient.delivered_at.is_null(False)).count() == 120


def test_a_second_run_does_not_send_what_another_has_claimed(app, world, as_role, push_service):
    from datetime import timedelta

    assert as_role("worker").post("/me/push", json=push_service.subscribe("worker")).status_code == 201
    with app.app_context():
        alert = weather_alert(world.site, world.people["foreman"])
        now = utcnow()
        claimed = delivery._claim(10, timedelta(seconds=60), alert.id, now)
        assert len(claimed) == 1
        assert alert_tasks.deliver(alert.id)["sent"] == 0  # the other consumer holds it
        assert alert_tasks.deliver(alert.id, now=now + timedelta(seconds=61))["sent"] == 1  # its lease ran out
    assert len(push_service.for_device("worker")) == 1


def test_a_fanout_splits_into_spans_that_hold_every_delivery_once_and_old_chunks_still_send(
        app, world, push_service):
    with app.app_context():
        people = subscribed_workers(push_service, 7, "s", "+47400011{:02d}")
        alert = weather_alert(world.site, None, recipients=people)
        due = sorted(sid for (sid,) in PushDelivery.select(PushDelivery.subscription)
                     .where(PushDelivery.alert == alert).tuples())
        spans = delivery.chunks(alert.id, 3)
        assert spans == [(due[0], due[2]), (due[3], due[5]), (due[6], due[6])]
        assert alert_tasks.deliver_alert.call_local(alert.id, spans[1])["sent"] == 3
        # A chunk queued before migration 023 carries its sorted ids: the same subscriptions are sent.
        assert alert_tasks.deliver_alert.call_local(alert.id, due[:3])["sent"] == 3
        assert alert_tasks.deliver_alert.call_local(alert.id, spans[0])["sent"] == 0  # already sent
        assert alert_tasks.deliver_alert.call_local(alert.id, spans[2])["sent"] == 1
    assert sorted(len(push_service.for_device(f"s{i}")) for i in range(7)) == [1] * 7


def test_an_alert_of_four_byte_characters_within_the_forms_limits_reaches_every_phone(app, world, as_role,
                                                                                      push_service):
    """The form's limits in four-byte characters: 120 of title and 600 of text come to 2,976 bytes, at the edge
    of the payload's limit; the message goes whole (the next test passes the limit with an escalation's prefix)."""
    assert as_role("worker").post("/me/push", json=push_service.subscribe("worker")).status_code == 201
    with app.app_context():
        heavy, _created = service.create(world.people["manager"], world.site, uuid.uuid4(), dict(
            template=None, level="warning", title="🚧" * 120, body="🚧" * 2000, area="", audience="all",
            ack_required=False, ack_minutes=60), send=False)
        plain = weather_alert(world.site, world.people["manager"])
        assert alert_tasks.deliver(None)["sent"] == 2  # the sweep
    got = {m["payload"]["alert"]: m for m in push_service.for_device("worker")}
    assert set(got) == {heavy.id, plain.id}
    assert got[heavy.id]["payload"]["body"].endswith("…") and got[heavy.id]["payload"]["body"].startswith("🚧")
    assert got[heavy.id]["payload"]["title"] == "🚧" * 120


def test_an_escalation_whose_prefix_makes_the_message_too_long_does_not_stop_the_sweep(app, world, as_role,
                                                                                        push_service):
    """Attack (session 6): the managers' copy of an escalation carries the late foremen's names before the title;
    with a long text that made the payload fail inside the sweep, every minute, for every alert behind it."""
    from collections import Counter
    from datetime import timedelta

    User.update(name="Kristoffer Andersen-Johansen").where(User.id == world.people["foreman"].id).execute()
    for role in ("foreman", "worker", "manager"):
        assert as_role(role).post("/me/push", json=push_service.subscribe(role)).status_code == 201
    with app.app_context():
        heavy, _created = service.create(world.people["verneombud"], world.site, uuid.uuid4(), dict(
            template=None, level="warning", title="🚧" * 120, body="🚧" * 2000, area="", audience="all",
            ack_required=True, ack_minutes=1), send=False)
        assert alert_tasks.deliver(None)["sent"] == 3
        later = utcnow() + timedelta(minutes=5)
        delivery.escalate(now=later)
        plain = weather_alert(world.site, world.people["verneombud"])
        for minute in range(3):  # three sweeps, each after the last one's lease
            alert_tasks.deliver(None, now=later + timedelta(minutes=2 * minute))
    got = Counter((m["device"], m["payload"]["alert"]) for m in push_service.received)
    assert got[("worker", plain.id)] == 1 and got[("foreman", plain.id)] == 1
    assert got[("manager", heavy.id)] == 2  # the alert, then the escalation with the foreman's name
    told = [m["payload"] for m in push_service.for_device("manager") if m["headers"].get("topic") == f"alert{heavy.id}"]
    assert any(p["title"].startswith("Kristoffer Andersen-Johansen: ") for p in told)
    with app.app_context():
        assert PushDelivery.select().where(PushDelivery.sent_at.is_null()).count() == 0


def test_a_message_that_cannot_be_made_is_a_failed_attempt_not_the_end_of_the_run(app, world, as_role,
                                                                                  push_service, monkeypatch):
    for role in ("worker", "foreman"):
        assert as_role(role).post("/me/push", json=push_service.subscribe(role)).status_code == 201
    real = delivery.payload

    def broken_for_english(alert, language, prefix=""):
        if language == "en":
            raise RuntimeError("simulated bug in one message")
        return real(alert, language, prefix)

    monkeypatch.setattr(delivery, "payload", broken_for_english)
    with app.app_context():
        User.update(language="en").where(User.id == world.people["worker"].id).execute()
        User.update(language="nb").where(User.id == world.people["foreman"].id).execute()
        alert = weather_alert(world.site, world.people["verneombud"])
        counts = alert_tasks.deliver(alert.id)
        assert counts["sent"] == 1 and counts["retry"] == 1
        row = PushDelivery.get((PushDelivery.alert == alert) & PushDelivery.sent_at.is_null())
        assert row.attempts == 1 and row.gave_up_at is None and row.claimed_by is None


# --- start-up warnings ---------------------------------------------------------------------------------------------

def test_production_start_warns_about_the_default_subject_and_a_lost_vapid_key(app, world, caplog, monkeypatch):
    import os
    from datetime import timedelta

    monkeypatch.delenv("FIELDAPP_LOCAL_DEV", raising=False)
    with caplog.at_level(logging.WARNING):
        assert service.warn_about_push_setup(app) == []  # TESTING: quiet
    app.config["TESTING"] = False
    PushSubscription.create(user=world.people["worker"], endpoint="https://fcm.googleapis.com/fcm/send/1",
                            p256dh="x", auth="y", vapid_key=app.config["VAPID_PUBLIC_KEY"])
    with caplog.at_level(logging.WARNING):
        warnings = service.warn_about_push_setup(app)
    assert len(warnings) == 1 and "VAPID_SUBJECT is the default" in caplog.text
    app.config["VAPID_SUBJECT"] = "mailto:hms@fjordbygg.no"
    assert service.warn_about_push_setup(app) == []
    # The instance folder was lost: a subscription made with another key ...
    PushSubscription.create(user=world.people["worker"], endpoint="https://fcm.googleapis.com/fcm/send/2",
                            p256dh="x", auth="y", vapid_key="BOtherKey")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        warnings = service.warn_about_push_setup(app)
    assert len(warnings) == 1 and "1 push subscriptions were made with another VAPID key" in caplog.text
    # ... or, for rows that do not record their key, one older than the key file.
    PushSubscription.update(vapid_key=None, created_at=utcnow() - timedelta(days=3)).execute()
    os.utime(app.config["VAPID_PRIVATE_KEY_PATH"])
    assert "2 push subscriptions" in service.warn_about_push_setup(app)[0]
    app.config["LOCAL_DEV"] = True  # what FIELDAPP_LOCAL_DEV=1 sets (config.settings)
    assert service.warn_about_push_setup(app) == []


def test_a_phone_whose_person_signed_out_gets_no_more_of_their_alerts(world, as_role, push_service):
    worker = as_role("worker")
    assert worker.post("/me/push", json=push_service.subscribe("shared-phone")).status_code == 201
    assert worker.post("/sign-out").status_code == 303
    assert compose(as_role("verneombud"), world.site, template="crane_lift", area="Zone C").status_code == 303
    assert push_service.for_device("shared-phone") == []
    assert PushDelivery.select().count() == 0


def test_a_message_that_cannot_be_sent_is_given_up_after_the_attempts(app, world, as_role, push_service):
    from datetime import timedelta

    info = push_service.subscribe("bad")
    subscription = PushSubscription.create(user=world.people["worker"], endpoint=info["endpoint"],
                                           p256dh=info["keys"]["p256dh"], auth="AAAA")  # pywebpush cannot use it
    with app.app_context():
        alert = weather_alert(world.site, world.people["foreman"])
        clock = utcnow()
        for _attempt in range(delivery.MAX_ATTEMPTS):
            alert_tasks.deliver(alert.id, now=clock)
            clock += timedelta(hours=2)
        row = PushDelivery.get(PushDelivery.subscription == subscription)
        assert row.attempts == delivery.MAX_ATTEMPTS and row.gave_up_at is not None and row.sent_at is None
        assert alert_tasks.deliver(None, now=clock)["retry"] == 0  # the sweep leaves it alone


def test_the_reporters_closed_alert_survives_a_queue_failure_and_the_sweep_sends_it(
        app, world, as_role, push_service, monkeypatch, caplog):
    """The 'your report was closed' alert is saved with the closing, so a lost enqueue only delays it."""
    from fieldapp.alerts import tasks

    worker = as_role("worker")
    assert worker.post("/me/push", json=push_service.subscribe("worker")).status_code == 201
    response = worker.post(f"/s/{world.site.id}/reports/new", data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "order_tidiness", "severity": "low",
        "description": "Loose planks by the gate"})
    assert response.status_code == 303
    report = Report.get(Report.description == "Loose planks by the gate")

    monkeypatch.setattr(alert_tasks, "deliver_alert", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("down")))
    response = as_role("foreman").post(f"/s/{world.site.id}/reports/{report.id}/close",
                                       data={"text": "Planks stacked and strapped"})
    assert response.status_code == 303
    alert = Alert.get((Alert.report == report) & (Alert.template == "report_closed"))
    assert PushDelivery.select().where(PushDelivery.alert == alert).count() == 1
    assert push_service.received == [] and "periodic sweep will send it" in caplog.text
    monkeypatch.undo()
    with app.app_context():
        assert tasks.sweep_push_deliveries.call_local()["sent"] == 1
    assert [m["device"] for m in push_service.received] == ["worker"]


def test_a_report_is_not_closed_without_the_reporters_alert(app, world, as_role, monkeypatch):
    """One transaction: a crash while making the 'closed' alert leaves the report open, never closed unannounced."""
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "order_tidiness", "severity": "low",
        "description": "Cables across the walkway"})
    assert response.status_code == 303
    report = Report.get(Report.description == "Cables across the walkway")

    def broken(report, serious=False):
        raise RuntimeError("simulated crash while making the alert")

    monkeypatch.setattr("fieldapp.reports.service.alerts.report_closed", broken)
    with pytest.raises(RuntimeError):
        as_role("foreman").post(f"/s/{world.site.id}/reports/{report.id}/close", data={"text": "Cables hung up"})
    assert Report.get_by_id(report.id).status == "open"


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_json_nested_too_deeply_is_bad_input_not_a_server_error(as_role, body):
    response = as_role("worker").post("/me/push", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.get_json()
    assert PushSubscription.select().count() == 0
