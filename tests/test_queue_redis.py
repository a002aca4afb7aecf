"""huey on a real Redis (issue 23): several consumers share the work, a fanout is split into chunks that the
consumers take, Redis down loses nothing (the sweep sends it when Redis is back), and a consumer killed with
SIGKILL in the middle of a fanout leaves nobody without the alert once a second consumer has run.

redis-server (Debian's package) and the huey consumers run as processes of this test on 127.0.0.1 (a port the
system hands out), each stopped by its pid. The consumers use the test's database and instance folder (the same keys).
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from fieldapp.alerts import delivery, service, tasks
from fieldapp.models import Alert, Membership, PushDelivery, PushSubscription, User
from fieldapp.queue import huey, make_huey
from helpers import poll, redis_server, subscribe

ROOT = Path(__file__).resolve().parent.parent
LEASE = 5  # seconds (production: 60)
WORKERS = 16  # push messages in flight per consumer process
# The fake push service's answer time in the fanout tests: a consumer sends WORKERS / SLOW = 128 messages a second,
# so a fanout of a few hundred phones lasts seconds (chunks to share, a kill that lands inside it) while each
# message's encryption and decryption, the tests' CPU, is paid a few hundred times, not 1,400.
SLOW = 0.125


@pytest.fixture
def redis(tmp_path, monkeypatch):
    """A redis-server of this test's own; this process's huey enqueues on it (as a web node with
    FIELDAPP_REDIS_URL would)."""
    # A port the system hands out (its ephemeral range): a fixed 5630-5637 met the third xdist worker's SeaweedFS,
    # whose block is 5610 + 10 * the worker's number, and redis-server could not start under -n 3.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with redis_server(tmp_path, port) as server:
        monkeypatch.setattr(huey, "immediate", False)
        monkeypatch.setattr(huey, "storage", make_huey({"REDIS_URL": server.url}).storage)
        yield server


@pytest.fixture
def consumers(tmp_path, database_url, redis):
    """start(periodic=False) -> a running `huey_consumer fieldapp.worker.huey` process on the test's Redis;
    every one started is killed (by its pid) at the end."""
    started = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDAPP_", "FLASK_")) and k != "REDIS_URL"}
    env.update(FIELDAPP_INSTANCE=str(tmp_path / "instance"), FIELDAPP_DATABASE_URL=database_url,
               FIELDAPP_REDIS_URL=redis.url, PYTHONPATH=str(ROOT), FIELDAPP_LOCAL_DEV="1",
               FIELDAPP_PUSH_ALLOW_LOCAL_ENDPOINTS="true", FIELDAPP_PUSH_WORKERS=str(WORKERS),
               FIELDAPP_PUSH_LEASE_SECONDS=str(LEASE))
    program = str(Path(sys.executable).with_name("huey_consumer"))

    def start(periodic=False, workers=1):
        log = open(tmp_path / f"consumer-{len(started)}.log", "wb")
        command = [program, "fieldapp.worker.huey", "--workers", str(workers), "--worker-type", "thread"]
        process = subprocess.Popen(command + ([] if periodic else ["-n"]), cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        process.log_path = tmp_path / f"consumer-{len(started)}.log"
        started.append((process, log))
        return process

    start.logs = lambda: "\n".join(p.log_path.read_text(errors="replace") for p, _log in started)
    yield start
    for process, log in started:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def executed(process):
    """The deliver_alert tasks with subscription ids (fanout chunks) this consumer ran, from its log."""
    text = process.log_path.read_text(errors="replace")
    return len(re.findall(r"Executing fieldapp\.alerts\.tasks\.deliver_alert: \S+", text))


def crowd(app, world, push_service, phones):
    """`phones` workers on site A, each with a subscribed phone on the fake push service; returns their ids."""
    with app.app_context():
        User.insert_many([dict(name=f"Worker {i}", phone=f"+4740{i:06d}", language="nb" if i % 3 else "en")
                          for i in range(phones)]).execute()
        people = [uid for (uid,) in User.select(User.id).where(User.phone.startswith("+4740")).tuples()]
        Membership.insert_many([{"user": uid, "site": world.site.id, "role": "worker"} for uid in people]).execute()
        rows = []
        for number, uid in enumerate(people):
            info = push_service.subscribe(f"d{number}")
            rows.append(dict(user=uid, endpoint=info["endpoint"], **info["keys"]))
        PushSubscription.insert_many(rows).execute()
    return people


def stop_work(app, world, people):
    """A stop-work order to every one of `people`, its deliveries stored, nothing queued yet."""
    with app.app_context():
        alert, _created = service.create(world.people["verneombud"], world.site, uuid.uuid4(), dict(
            template="stop_work", level="stop_work", title="", body="", area="Tower crane 2", audience="all",
            ack_required=True, ack_minutes=10), recipients=[(uid, "worker") for uid in people], send=False)
    return alert


def reached(push_service):
    with push_service.lock:
        return len({m["device"] for m in push_service.received})


def test_two_consumers_share_a_fanout_split_in_chunks(app, world, push_service, consumers):
    app.config["PUSH_CHUNK"] = 20
    push_service.delay = SLOW
    people = crowd(app, world, push_service, 240)
    first, second = consumers(), consumers()
    alert = stop_work(app, world, people)
    with app.app_context():
        assert tasks.deliver_soon(alert.id) == 12  # 240 phones in chunks of 20: one task each
    assert poll(lambda: reached(push_service) == 240, timeout=120, interval=0.2), consumers.logs()
    assert poll(lambda: delivery.pending_deliveries(alert) == 0, timeout=30, interval=0.2)
    assert push_service.rejected == []
    shares = (executed(first), executed(second))
    # 12 chunks, and each consumer's start-up resume (deliver_alert(None)): both consumers took a share.
    assert sum(shares) >= 12 and min(shares) >= 2, f"each consumer takes chunks: {shares}\n{consumers.logs()}"


def test_with_redis_down_an_alert_is_still_stored_and_the_sweep_sends_it_when_redis_is_back(
        app, world, as_role, push_service, redis, caplog):
    client = as_role("verneombud")
    subscribe(as_role("foreman"), push_service, "foreman")
    redis.stop()
    started = time.monotonic()
    response = client.post(f"/s/{world.site.id}/alerts/new", data={
        "uuid": str(uuid.uuid4()), "template": "stop_work", "area": "Tower crane 2"})
    assert response.status_code == 303  # the alert is committed: success, whatever the queue says
    assert time.monotonic() - started < 15  # the enqueue gave up in seconds, not hung
    alert = Alert.get()
    assert PushDelivery.select().where(PushDelivery.alert == alert).count() == 1
    assert "periodic sweep will send it" in caplog.text
    assert push_service.received == []
    health = client.get("/healthz")  # the node still stores records: a proxy keeps it in rotation
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded" and health.get_json()["queue"].startswith("error")
    redis.start()
    with app.app_context():
        assert tasks.sweep_push_deliveries.call_local()["sent"] == 1  # the minutely sweep, on the periodic consumer
    assert [m["device"] for m in push_service.received] == ["foreman"]
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert push_service.for_device("foreman")[0]["payload"]["alert"] == alert.id


def test_a_consumer_killed_mid_fanout_on_redis_leaves_nobody_without_the_alert(app, world, push_service, consumers):
    app.config["PUSH_CHUNK"] = 40
    push_service.delay = SLOW
    people = crowd(app, world, push_service, 320)
    first = consumers()
    alert = stop_work(app, world, people)
    with app.app_context():
        assert tasks.deliver_soon(alert.id) == 8
    assert poll(lambda: reached(push_service) >= 40, timeout=90, interval=0.05), consumers.logs()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = reached(push_service)
    assert at_kill < 320, "the fanout ended before the kill: nothing was tested"
    consumers()  # the second consumer: the chunks left in Redis, then the killed one's rows after their lease
    assert poll(lambda: reached(push_service) == 320 and delivery.pending_deliveries(alert) == 0,
                timeout=120, interval=0.5), f"{reached(push_service)} reached\n{consumers.logs()}"
    assert push_service.rejected == []
    # At least once, and twice only for what the killed consumer had sent and not yet recorded: at most two
    # windows of its push threads in flight and one batch of answers waiting to be recorded (delivery.py).
    duplicates = len(push_service.received) - 320
    assert 0 <= duplicates <= 2 * WORKERS + delivery.RECORD_EVERY, duplicates
    print(f"killed at {at_kill} reached; all 320 reached after the second consumer; {duplicates} duplicates")
