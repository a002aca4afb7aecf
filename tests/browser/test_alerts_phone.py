"""Alerts on a phone: a push message shown by the service worker that opens the alert, and an
acknowledgement made without signal that is sent once when the signal returns."""
import json
import uuid

import pytest

from helpers import PIN, service_worker_registration, sign_in_ui, wait_until

from fieldapp.alerts import delivery
from fieldapp.alerts import tasks as alert_tasks
from fieldapp.models import Alert, AlertRecipient


def make_alert(world, level="stop_work", template="stop_work"):
    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["verneombud"], level=level,
                         template=template, area="Tower crane 2", ack_required=True)
    AlertRecipient.create(alert=alert, user=world.people["worker"], role="worker")
    return alert


def test_a_push_message_shows_a_notification_that_opens_the_alert(live, page, context):
    world = live.world
    alert = make_alert(world)
    context.grant_permissions(["notifications"], origin=live.url)
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    with live.app.test_request_context():
        data = delivery.payload(alert, "nb").decode()
    cdp, registration = service_worker_registration(context, page)
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live.url, "registrationId": registration, "data": data})
    shown = wait_until(page, "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(list => list.map("
                             "n => ({title: n.title, body: n.body, tag: n.tag, sticky: n.requireInteraction, "
                             "url: n.data.url})))")
    assert shown == [{"title": "STANS ARBEIDET: umiddelbar fare", "body": shown[0]["body"], "tag": f"alert-{alert.id}",
                      "sticky": True, "url": f"/s/{world.site.id}/alerts/{alert.id}"}]
    assert "Tower crane 2" in shown[0]["body"]
    # The service worker told the server that the phone got it.
    wait_until(page, "true")
    copy = AlertRecipient.get(AlertRecipient.alert == alert)
    for _ in range(50):
        copy = AlertRecipient.get_by_id(copy.id)
        if copy.received_at:
            break
        page.wait_for_timeout(100)
    assert copy.received_at is not None
    # A touch on the notification opens the alert in the app.
    worker = context.service_workers[0]
    worker.evaluate("self.registration.getNotifications().then(list => self.dispatchEvent("
                    "new NotificationEvent('notificationclick', {notification: list[0]})))")
    page.wait_for_url(f"**/s/{world.site.id}/alerts/{alert.id}")
    assert "Lest og forstått" in page.text_content("#alert")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.getNotifications()).then(l => l.length)") == 0


def test_an_alert_acknowledged_without_signal_is_sent_once(live, page, context):
    world = live.world
    alert = make_alert(world, level="warning", template="crane_lift")
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/alerts/{alert.id}")
    wait_until(page, "window.fieldappOutbox !== undefined")
    context.set_offline(True)
    page.click("button.ack-button")
    page.wait_for_selector(".outbox-note:not([hidden])")
    assert AlertRecipient.get(AlertRecipient.alert == alert).acked_at is None
    for _ in range(3):
        page.evaluate("window.fieldappOutbox.flush()")
    assert AlertRecipient.get(AlertRecipient.alert == alert).acked_at is None
    page.wait_for_timeout(1200)  # acknowledged here, sent later: the time is the phone's
    context.set_offline(False)
    # The browser's own "online" event may already have sent the item and reloaded the page (outbox.js): the
    # nudge goes through wait_until, which asks again on the new page instead of failing on the old one.
    wait_until(page, "window.dispatchEvent(new Event('online'))")
    wait_until(page, "document.documentElement.dataset.outbox === '0'")
    page.wait_for_selector(".ack-done")
    copy = AlertRecipient.get(AlertRecipient.alert == alert)
    assert copy.acked_at is not None and copy.ack_uuid is not None
    # The recorded phone time is before the receipt (the wait above makes them differ by more than rounding).
    assert copy.ack_phone_at < copy.ack_received_at
    states = page.evaluate("window.fieldappOutbox.all().then(items => items.map(i => i.state))")
    assert states == ["sent"]
    assert json.loads(json.dumps(states)) == ["sent"]


def test_turning_on_notifications_is_a_tap_and_the_phone_then_gets_alerts(live, page, context):
    """The browser's own push service is on the internet; here PushManager.subscribe hands back a
    subscription on the fake push service, which then checks and decrypts what the app sends."""
    from push_service import FakePushService

    world = live.world
    service_ = FakePushService(live.app.config["VAPID_PUBLIC_KEY"]).start()
    try:
        live.app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = True
        subscription = service_.subscribe("pixel")
        context.grant_permissions(["notifications"], origin=live.url)
        page.add_init_script("""
            (() => {
              const fake = %s;
              const made = [];
              PushManager.prototype.getSubscription = function () { return Promise.resolve(made[0] || null); };
              PushManager.prototype.subscribe = function (options) {
                window.__subscribeKey = Array.from(new Uint8Array(options.applicationServerKey)).length;
                const sub = { endpoint: fake.endpoint, toJSON: () => fake };
                made.push(sub);
                return Promise.resolve(sub);
              };
            })();
        """ % json.dumps(subscription))
        sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
        page.wait_for_selector(".push-setup .push-subscribe:visible")  # a step to take, no prompt on load
        page.click(".push-setup .push-subscribe")
        page.wait_for_selector(".push-setup .push-on:visible")
        assert page.evaluate("window.__subscribeKey") == 65  # the app's VAPID public key, decoded
        from fieldapp.models import PushSubscription

        stored = PushSubscription.get()
        assert stored.user_id == world.people["worker"].id and stored.endpoint == subscription["endpoint"]
        page.goto(live.url + "/me")
        assert page.locator(".push-subscription").count() == 1
        # The verneombud sends a stop-work order; the phone's push service gets it, encrypted for this phone.
        alert = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["verneombud"],
                             level="stop_work", template="stop_work", area="Tower crane 2")
        AlertRecipient.create(alert=alert, user=world.people["worker"], role="worker")
        with live.app.app_context():
            delivery.queue_deliveries(alert)  # what service.create writes with the alert
            result = alert_tasks.deliver(alert.id)
        assert result["sent"] == 1
        assert service_.for_device("pixel")[0]["payload"]["title"] == "STANS ARBEIDET: umiddelbar fare"
    finally:
        service_.stop()


def test_a_browser_without_push_is_told_how_to_install_the_app(live, page):
    page.add_init_script("delete window.PushManager;")
    sign_in_ui(page, live.url, live.world.people["worker"].phone, PIN)
    page.wait_for_selector(".push-setup .push-install:visible")
    assert "Legg til på Hjem-skjerm" in page.text_content(".push-setup")
    assert not page.locator(".push-setup .push-subscribe").is_visible()


@pytest.mark.parametrize("fault, shown", [
    # The browser's push service cannot be reached (headless Chromium, a phone without Google services).
    ("PushManager.prototype.subscribe = () => Promise.reject("
     "new DOMException('Registration failed - push service not available', 'AbortError'));", ".push-unavailable"),
    # The phone has a subscription, but the app cannot be reached to store it (no signal).
    ("PushManager.prototype.subscribe = () => Promise.resolve({endpoint: 'https://fcm.googleapis.com/x', "
     "toJSON: () => ({endpoint: 'https://fcm.googleapis.com/x', keys: {p256dh: 'a', auth: 'b'}})});"
     "const realFetch = window.fetch; window.fetch = (url, options) => String(url).endsWith('/me/push') "
     "? Promise.reject(new TypeError('Failed to fetch')) : realFetch(url, options);", ".push-failed"),
])
def test_turning_on_notifications_says_whose_fault_it_was(live, page, context, fault, shown):
    context.grant_permissions(["notifications"], origin=live.url)
    page.add_init_script("PushManager.prototype.getSubscription = () => Promise.resolve(null);" + fault)
    sign_in_ui(page, live.url, live.world.people["worker"].phone, PIN)
    page.goto(live.url + "/me")
    page.click(".push-setup .push-subscribe")
    page.wait_for_selector(f".push-setup {shown}:visible")
    other = ".push-failed" if shown == ".push-unavailable" else ".push-unavailable"
    assert not page.locator(f".push-setup {other}").is_visible()
    assert page.locator(".push-setup .push-subscribe").is_visible()  # another try is one tap away


def test_back_after_sending_an_alert_shows_an_empty_form(live, page):
    """Back from the sent alert showed the form as sent, and one more tap sent it to everyone again (found by the
    new-user helper)."""
    world = live.world
    sign_in_ui(page, live.url, world.people["foreman"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/alerts/new")
    page.check("input[name=template][value='']")
    page.fill("#title", "Lunch moved")
    page.fill("#body", "Lunch at 11:30 today")
    with page.expect_navigation():
        page.click(".alert-form button[type=submit]")
    assert f"/s/{world.site.id}/alerts/" in page.url and Alert.select().count() == 1
    page.go_back()
    page.wait_for_selector("#title")
    assert page.input_value("#title") == "" and page.input_value("#body") == ""
