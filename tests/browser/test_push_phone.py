"""Issue 13 on a phone: a push subscription the push service will refuse is replaced by itself on the next visit
(made with another VAPID key, or marked broken by the server), and the service worker re-subscribes on
pushsubscriptionchange. The browser's own push service is on the internet; PushManager is replaced here by one
that hands out subscriptions on the fake push service (tests/push_service.py), as in test_alerts_phone.py."""
import base64
import json

from helpers import PIN, sign_in_ui, wait_until

from fieldapp.models import PushSubscription, utcnow

FAKE_PUSH_MANAGER = """
(() => {
  const old = %(old)s, fresh = %(fresh)s, oldKey = new Uint8Array(%(old_key)s);
  const made = [{
    endpoint: old.endpoint, options: { applicationServerKey: oldKey.buffer }, toJSON: () => old,
    unsubscribe: () => { window.__unsubscribed = true; made.shift(); return Promise.resolve(true); },
  }];
  PushManager.prototype.getSubscription = function () { return Promise.resolve(made[0] || null); };
  PushManager.prototype.subscribe = function (options) {
    window.__subscribeKey = Array.from(new Uint8Array(options.applicationServerKey));
    const sub = { endpoint: fresh.endpoint, options: { applicationServerKey: options.applicationServerKey },
                  toJSON: () => fresh, unsubscribe: () => Promise.resolve(true) };
    made.unshift(sub);
    return Promise.resolve(sub);
  };
})();
"""


def key_bytes(text):
    return list(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def phone_with(live, page, context, old_key):
    from push_service import FakePushService

    push = FakePushService(live.app.config["VAPID_PUBLIC_KEY"]).start()
    old, fresh = push.subscribe("old"), push.subscribe("fresh")
    live.app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = True
    context.grant_permissions(["notifications"], origin=live.url)
    page.add_init_script(FAKE_PUSH_MANAGER % dict(old=json.dumps(old), fresh=json.dumps(fresh),
                                                  old_key=json.dumps(old_key)))
    return push, old, fresh


def wait_for_row(page, endpoint, timeout=10.0):
    for _ in range(int(timeout / 0.1)):
        if PushSubscription.select().where(PushSubscription.endpoint == endpoint).exists():
            return PushSubscription.get(PushSubscription.endpoint == endpoint)
        page.wait_for_timeout(100)
    raise AssertionError(f"no subscription for {endpoint}")


def test_a_phone_subscribed_with_a_lost_key_subscribes_anew_on_its_next_visit(live, page, context):
    world = live.world
    server_key = key_bytes(live.app.config["VAPID_PUBLIC_KEY"])
    push, old, fresh = phone_with(live, page, context, old_key=[4] + [7] * 64)  # the key before the folder was lost
    try:
        PushSubscription.create(user=world.people["worker"], endpoint=old["endpoint"], **old["keys"])
        sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
        renewed = wait_for_row(page, fresh["endpoint"])
        assert renewed.user_id == world.people["worker"].id and renewed.broken_at is None
        assert page.evaluate("window.__unsubscribed") is True
        assert page.evaluate("window.__subscribeKey") == server_key
        for _ in range(50):  # the old endpoint goes once the new one is stored (one request)
            if not PushSubscription.select().where(PushSubscription.endpoint == old["endpoint"]).exists():
                break
            page.wait_for_timeout(100)
        assert not PushSubscription.select().where(PushSubscription.endpoint == old["endpoint"]).exists()
    finally:
        push.stop()


def test_a_subscription_the_server_marked_broken_is_replaced_on_the_next_visit(live, page, context):
    world = live.world
    server_key = key_bytes(live.app.config["VAPID_PUBLIC_KEY"])
    push, old, fresh = phone_with(live, page, context, old_key=server_key)  # same key: only the server knows
    try:
        PushSubscription.create(user=world.people["worker"], endpoint=old["endpoint"], broken_at=utcnow(),
                                broken_status=403, **old["keys"])
        sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
        renewed = wait_for_row(page, fresh["endpoint"])
        assert renewed.broken_at is None
        assert page.evaluate("window.__unsubscribed") is True
        wait_until(page, "true")
        assert PushSubscription.select().where(PushSubscription.user == world.people["worker"]).count() == 1
    finally:
        push.stop()


def test_the_service_worker_posts_a_renewed_subscription(live, page, context):
    from push_service import FakePushService

    world = live.world
    push = FakePushService(live.app.config["VAPID_PUBLIC_KEY"]).start()
    try:
        live.app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = True
        old, fresh = push.subscribe("old"), push.subscribe("fresh")
        PushSubscription.create(user=world.people["worker"], endpoint=old["endpoint"], **old["keys"])
        sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
        wait_until(page, "navigator.serviceWorker.controller !== null")
        worker = context.service_workers[0]
        # What the browser does when the push service renews the subscription (Chromium does not fire it).
        worker.evaluate("""([old, fresh]) => {
            const event = new ExtendableEvent("pushsubscriptionchange");
            Object.defineProperty(event, "oldSubscription", { value: { endpoint: old.endpoint } });
            Object.defineProperty(event, "newSubscription", { value: { endpoint: fresh.endpoint, toJSON: () => fresh } });
            self.dispatchEvent(event);
        }""", [old, fresh])
        renewed = wait_for_row(page, fresh["endpoint"])
        assert renewed.user_id == world.people["worker"].id
        for _ in range(50):
            if not PushSubscription.select().where(PushSubscription.endpoint == old["endpoint"]).exists():
                break
            page.wait_for_timeout(100)
        assert not PushSubscription.select().where(PushSubscription.endpoint == old["endpoint"]).exists()
    finally:
        push.stop()
