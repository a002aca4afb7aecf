"""Alert fan-out to 1,000 phones: the app's delivery beside a naive loop of pywebpush.webpush() calls.

    python bench/push_fanout.py [--subscriptions 1000] [--delay 0.05] [--naive 1000]

The fake push service (tests/push_service.py) runs in its own process on 127.0.0.1, answers each message
after `delay` seconds (as a real push service across the internet does), checks every VAPID header and
decrypts every message with the subscription's keys. The app's side is the real thing: an alert with
1,000 recipients in a SQLite database, delivered by fieldapp.alerts.service.deliver (one shared HTTP
session, a bounded thread pool, VAPID signed once per push service), recording every delivery (since
issue 13: claimed from push_delivery rows with a lease and recorded in batches as answers come).

Target (issue 5): at least 20x the naive loop's messages per second, and all delivered and decrypted.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_service(public_key, count, delay):
    process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "push_service.py"), public_key, str(count),
                                str(delay)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    hello = json.loads(process.stdout.readline())
    return process, hello["subscriptions"]


def ask(process, command):
    process.stdin.write(command + "\n")
    process.stdin.flush()
    if command in ("count", "reset"):
        return json.loads(process.stdout.readline())
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--naive", type=int, default=None, help="messages for the naive loop (default: all)")
    args = parser.parse_args()
    naive_count = args.naive or args.subscriptions

    scratch = Path(tempfile.mkdtemp(prefix="fieldapp-bench-push-"))
    import os

    os.environ["FIELDAPP_INSTANCE"] = str(scratch / "instance")
    from pywebpush import webpush

    from fieldapp import create_app
    from fieldapp.alerts import service
    from fieldapp.db import database, run_migrations
    from fieldapp.models import Alert, AlertRecipient, Membership, Organization, PushSubscription, Site, User

    app = create_app({"INSTANCE_PATH": str(scratch / "instance"),
                      "DATABASE_URL": f"sqlite:///{scratch}/bench.db", "PUSH_ALLOW_LOCAL_ENDPOINTS": True,
                      "VAPID_SUBJECT": "mailto:bench@fieldapp.invalid"})
    process, subscriptions = start_service(app.config["VAPID_PUBLIC_KEY"], args.subscriptions, args.delay)
    try:
        with app.app_context(), database.connection_context():
            run_migrations()
            org = Organization.create(name="Bench AS", org_number="923609016")
            site = Site.create(organization=org, name="Bench", address="x", qr_token="bench")
            with database.atomic():
                for i, info in enumerate(subscriptions):
                    user = User.create(name=f"Worker {i}", phone=f"+4740{i:06d}", language="nb" if i % 3 else "en")
                    Membership.create(user=user, site=site, role="worker")
                    PushSubscription.create(user=user, endpoint=info["endpoint"], p256dh=info["keys"]["p256dh"],
                                            auth=info["keys"]["auth"])
            alert = Alert.create(uuid=uuid.uuid4(), site=site, level="stop_work", template="stop_work",
                                 area="Tower crane 2", audience="all", ack_required=True)
            AlertRecipient.insert_many([{"alert": alert.id, "user": m.user_id, "role": "worker"}
                                        for m in Membership.select()]).execute()
            if hasattr(service, "queue_deliveries"):  # since issue 13: one delivery row per phone, with the alert
                with database.atomic():
                    service.queue_deliveries(alert)
            data = service.payload(alert, "nb")

            # Warm both paths (TLS-free here, but imports, key loading and the first connection).
            ask(process, "reset")
            start, cpu = time.perf_counter(), time.process_time()
            result = service.deliver(alert.id)
            app_seconds = time.perf_counter() - start
            app_cpu = time.process_time() - cpu
            app_counts = ask(process, "count")
            delivered = AlertRecipient.select().where(AlertRecipient.delivered_at.is_null(False)).count()

            ask(process, "reset")
            key_path = app.config["VAPID_PRIVATE_KEY_PATH"]
            start = time.perf_counter()
            for info in subscriptions[:naive_count]:
                webpush(info, data, vapid_private_key=key_path, vapid_claims={"sub": app.config["VAPID_SUBJECT"]},
                        ttl=3600, timeout=10)
            naive_seconds = time.perf_counter() - start
            naive_counts = ask(process, "count")
    finally:
        ask(process, "stop")
        process.wait(timeout=10)

    app_rate = args.subscriptions / app_seconds
    naive_rate = naive_count / naive_seconds
    print(f"{args.subscriptions} subscriptions, push service answers after {args.delay * 1000:.0f} ms")
    print(f"app    {app_seconds:7.2f} s  {app_rate:8.1f} messages/s  sent {result['sent']}, recorded {delivered}, "
          f"service decrypted {app_counts['received']} for {app_counts['devices']} devices, "
          f"rejected {app_counts['rejected']}; CPU here {app_cpu * 1000 / args.subscriptions:.2f} ms/message")
    print(f"naive  {naive_seconds:7.2f} s  {naive_rate:8.1f} messages/s  ({naive_count} messages; service decrypted "
          f"{naive_counts['received']}, rejected {naive_counts['rejected']})")
    ratio = app_rate / naive_rate
    checks = [
        (f"ratio {ratio:.1f}x (target >= 20x)", ratio >= 20),
        (f"all {args.subscriptions} delivered and decrypted",
         app_counts["devices"] == args.subscriptions and app_counts["rejected"] == 0
         and delivered == args.subscriptions),
    ]
    for text, ok in checks:
        print(f"{'met ' if ok else 'MISS'}  {text}")
    return 0 if all(ok for _t, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
