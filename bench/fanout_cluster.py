"""A stop-work order to 10,000 phones, delivered by one and then by two huey consumer processes on Redis.

    python bench/fanout_cluster.py [--subscriptions 10000] [--delay 0.05] [--consumers 1 2] [--rounds 1] [--check]

Started here, on 127.0.0.1, and stopped by their pids: Debian's redis-server (port 5640), the fake push
service (tests/push_service.py, its own process, a thread per connection, answering each message after
`delay` seconds; it only counts messages unless --check, which also checks VAPID and decrypts each), and
`huey_consumer fieldapp.worker.huey -n --workers 2 --worker-type thread` processes (FIELDAPP_REDIS_URL,
PUSH_WORKERS 64 each, as in production). The app's database is SQLite in a scratch folder (or PostgreSQL:
--postgres, a server started by tests/pg_server.py).

Per run: a new stop-work alert to every subscription is committed, deliver_soon queues its chunks on Redis
(fieldapp.alerts.tasks.CHUNK subscriptions each) and the clock runs until the push service has had a message
for the last phone. Prints messages/s and that time for each number of consumers, and for each run how long the
alert took to make and queue (part of that time). With --rounds N, each number of consumers sends N alerts and the
median run counts (a shared machine's noise).

Targets (issue 23): under 10 s with one consumer, at least 1.7x faster with two.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from bench.push_fanout import ask  # noqa: E402  the fake push service's commands, as that bench sends them
REDIS_PORT = 5640


def cpu_seconds(pid):
    """User + system CPU seconds the process has used (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10000)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--consumers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--check", action="store_true", help="the push service checks VAPID and decrypts")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a run may take at most")
    parser.add_argument("--rounds", type=int, default=1, help="alerts per number of consumers (the median counts)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="fieldapp-bench-fanout-"))
    from helpers import RedisServer

    redis = RedisServer(scratch / "redis", REDIS_PORT).start()
    postgres = None
    if args.postgres:
        from pg_server import PostgresServer

        postgres = PostgresServer().start()
        database_url = postgres.url(postgres.create_database("fanout"))
    else:
        database_url = f"sqlite:///{scratch}/bench.db"
    os.environ.update(FIELDAPP_INSTANCE=str(scratch / "instance"), FIELDAPP_REDIS_URL=redis.url,
                      FIELDAPP_DATABASE_URL=database_url)
    from fieldapp import create_app
    from fieldapp.alerts import service, tasks
    from fieldapp.db import database, run_migrations
    from fieldapp.models import Membership, Organization, PushSubscription, Site, User
    from fieldapp.queue import huey, make_huey
    from peewee import chunked

    huey.storage = make_huey({"REDIS_URL": redis.url}).storage  # this process enqueues on the bench's Redis
    app = create_app({"PUSH_ALLOW_LOCAL_ENDPOINTS": True, "VAPID_SUBJECT": "mailto:bench@fieldapp.invalid",
                      "LOCAL_DEV": True})
    service_process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "push_service.py"), app.config["VAPID_PUBLIC_KEY"],
         str(args.subscriptions), str(args.delay)] + ([] if args.check else ["count-only"]),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    subscriptions = json.loads(service_process.stdout.readline())["subscriptions"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), FIELDAPP_LOCAL_DEV="1", FIELDAPP_PUSH_ALLOW_LOCAL_ENDPOINTS="true",
               FIELDAPP_VAPID_SUBJECT="mailto:bench@fieldapp.invalid")
    program = str(Path(sys.executable).with_name("huey_consumer"))
    running = []
    results = {}
    try:
        with app.app_context(), database.connection_context():
            run_migrations()
            org = Organization.create(name="Bench AS", org_number="923609016")
            site = Site.create(organization=org, name="Bench", address="x", qr_token="bench")
            sender = User.create(name="Verneombud", phone="+4799999999")
            # In batches: PostgreSQL takes at most 65,535 parameters a statement (SQLite 32,766).
            for batch in chunked([dict(name=f"Worker {i}", phone=f"+4740{i:06d}", language="nb" if i % 3 else "en")
                                  for i in range(args.subscriptions)], 1000):
                User.insert_many(batch).execute()
            people = [uid for (uid,) in User.select(User.id).where(User.phone.startswith("+4740")).tuples()]
            for batch in chunked([{"user": uid, "site": site.id, "role": "worker"} for uid in people], 1000):
                Membership.insert_many(batch).execute()
            for batch in chunked([dict(user=uid, endpoint=info["endpoint"], **info["keys"])
                                  for uid, info in zip(people, subscriptions)], 1000):
                PushSubscription.insert_many(batch).execute()
        from fieldapp import keys
        keys.check(app)  # the consumers' create_app compares their keys with these (the same instance folder)

        for count in args.consumers:
            for _ in range(count):
                log = open(scratch / f"consumer-{len(running)}.log", "wb")
                running.append((subprocess.Popen(
                    [program, "fieldapp.worker.huey", "-n", "--workers", "2", "--worker-type", "thread"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
            time.sleep(5)  # started, and their start-up sweep done (nothing waits yet)
            runs = []
            for _round in range(args.rounds):
                ask(service_process, "reset")
                service_cpu = cpu_seconds(service_process.pid)
                consumer_cpu = [cpu_seconds(p.pid) for p, _log in running]
                with app.app_context(), database.connection_context():
                    start = time.perf_counter()
                    alert, _created = service.create(sender, site, uuid.uuid4(), dict(
                        template="stop_work", level="stop_work", title="", body="", area="Tower crane 2",
                        audience="all", ack_required=True, ack_minutes=10),
                        recipients=[(uid, "worker") for uid in people], send=False)
                    made = time.perf_counter() - start
                    chunks = tasks.deliver_soon(alert.id)
                    queued = time.perf_counter() - start
                deadline = start + args.timeout
                while True:
                    counts = ask(service_process, "count")
                    if counts["devices"] >= args.subscriptions or time.perf_counter() > deadline:
                        break
                    time.sleep(0.02)
                took = time.perf_counter() - start
                runs.append((took, counts))
                print(f"{count} consumer(s): alert made in {made:.2f} s, {chunks} chunks queued at {queued:.2f} s, "
                      f"last phone after {took:6.2f} s, "
                      f"{counts['devices'] / took:7.0f} messages/s ({counts['devices']} phones reached, "
                      f"{counts['received']} messages, {counts['rejected']} rejected)", flush=True)
                used = [cpu_seconds(p.pid) - before for (p, _log), before in zip(running, consumer_cpu)]
                print(f"    CPU: consumers {', '.join(f'{u:.1f} s' for u in used)} "
                      f"({sum(used) * 1000 / max(counts['received'], 1):.2f} ms/message), push service "
                      f"{cpu_seconds(service_process.pid) - service_cpu:.1f} s; load average "
                      f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
                time.sleep(1)  # the last records committed
            results[count] = sorted(runs, key=lambda run: run[0])[len(runs) // 2]  # the median run
            for process, log in running:
                process.send_signal(signal.SIGINT)  # huey's graceful stop
            for process, log in running:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
                    process.wait(timeout=10)
                log.close()
            running.clear()
    finally:
        for process, log in running:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
        ask(service_process, "stop")
        service_process.wait(timeout=10)
        redis.stop()
        if postgres is not None:
            postgres.stop()

    checks = []
    if 1 in results:
        took, counts = results[1]
        checks.append((f"one consumer: {took:.2f} s (target < 10 s)",
                       took < 10 and counts["devices"] == args.subscriptions))
    if 1 in results and 2 in results:
        ratio = results[1][0] / results[2][0]
        checks.append((f"two consumers {ratio:.2f}x faster (target >= 1.7x)",
                       ratio >= 1.7 and results[2][1]["devices"] == args.subscriptions))
    for text, ok in checks:
        print(f"{'met ' if ok else 'MISS'}  {text}")
    return 0 if all(ok for _t, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
