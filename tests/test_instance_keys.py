"""Instance secrets shared by several nodes (issue 23): from the environment or from files, fingerprints recorded
by the first start, and a node with another key refusing to start with one clear log line."""
import logging
import os
import secrets
import subprocess
import sys
import threading
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from py_vapid import Vapid02

from fieldapp import config, create_app, instance, keys
from fieldapp.config import PROJECT_ROOT
from fieldapp.db import database, make_database
from fieldapp.models import InstanceKey
from helpers import test_config


def write(path, data, mode=0o600):
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return str(path)


def vapid_pem():
    vapid = Vapid02()
    vapid.generate_keys()
    return vapid.private_pem()


def signing_pem():
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture
def shared(tmp_path):
    """Key files as an operator would hand every node: {name: path}."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    return {"SECRET_KEY_FILE": write(folder / "secret_key", secrets.token_hex(32)),
            "VAPID_PRIVATE_KEY_FILE": write(folder / "vapid.pem", vapid_pem()),
            "AUDIT_SIGNING_KEY_FILE": write(folder / "audit.pem", signing_pem())}


def node(tmp_path, database_url, name, **keys_config):
    """A node with an instance folder of its own (no shared filesystem) on the shared database."""
    settings = test_config(tmp_path / name, database_url)
    settings.update(keys_config)
    app = create_app(settings)
    database.close() if not database.is_closed() else None
    return app


def recorded(url):
    """The fingerprints stored in the database at url (its own connection: a node that failed to start bound
    nothing)."""
    db = make_database(url)
    try:
        with db.bind_ctx([InstanceKey]), db.connection_context():
            return {row.name: row.fingerprint for row in InstanceKey.select()}
    finally:
        db.close_all() if hasattr(db, "close_all") else db.close()


def test_nodes_with_the_same_key_files_start_and_agree(tmp_path, database_url, shared):
    first = node(tmp_path, database_url, "a", **shared)
    stored = recorded(database_url)
    assert set(stored) == {"secret_key", "vapid", "audit_signing"}
    assert stored == keys.fingerprints(first.config)
    secret = first.config["SECRET_KEY"]
    assert secret not in stored.values() and all(len(value) == 64 for value in stored.values())
    second = node(tmp_path, database_url, "b", **shared)
    assert second.config["SECRET_KEY"] == secret
    assert second.config["VAPID_PUBLIC_KEY"] == first.config["VAPID_PUBLIC_KEY"]
    assert recorded(database_url) == stored
    with second.app_context():
        assert keys.check(second) == {"recorded": [], "matched": ["secret_key", "vapid", "audit_signing"],
                                      "replaced": []}


def test_a_node_with_another_vapid_key_refuses_to_start(tmp_path, database_url, shared, caplog):
    node(tmp_path, database_url, "a", **shared)
    other = dict(shared, VAPID_PRIVATE_KEY_FILE=write(tmp_path / "other-vapid.pem", vapid_pem()))
    with caplog.at_level(logging.ERROR), pytest.raises(keys.KeyMismatch) as refused:
        node(tmp_path, database_url, "b", **other)
    assert "the vapid key differs" in str(refused.value)
    assert "FIELDAPP_VAPID_PRIVATE_KEY_FILE" in str(refused.value)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lines) == 1 and "vapid key differs" in lines[0] and "FIELDAPP_ACCEPT_NEW_KEYS=vapid" in lines[0]
    # The recorded fingerprint is untouched; a deliberate change is accepted once, named.
    before = recorded(database_url)
    replaced = node(tmp_path, database_url, "d", ACCEPT_NEW_KEYS="vapid", **other)
    assert recorded(database_url)["vapid"] == keys.fingerprints(replaced.config)["vapid"] != before["vapid"]
    node(tmp_path, database_url, "e", **other)  # now the new one is the recorded one


@pytest.mark.parametrize("name, change", [
    ("secret_key", {"SECRET_KEY_FILE": None, "SECRET_KEY": "x" * 40}),
    ("audit_signing", {"AUDIT_SIGNING_KEY_FILE": "other"}),
])
def test_another_secret_or_signing_key_refuses_too(tmp_path, database_url, shared, name, change):
    node(tmp_path, database_url, "a", **shared)
    other = dict(shared)
    for key, value in change.items():
        if value is None:
            other.pop(key)
        elif value == "other":
            other[key] = write(tmp_path / "other.pem", signing_pem())
        else:
            other[key] = value
    with pytest.raises(keys.KeyMismatch, match=f"the {name} key differs"):
        node(tmp_path, database_url, "b", **other)


def test_keys_from_the_environment_and_from_files_are_the_same_keys(tmp_path, database_url, shared, monkeypatch):
    secret = "1234567890" * 4  # digits: stays text, not a number parsed as JSON
    monkeypatch.setenv("FIELDAPP_SECRET_KEY", secret)
    monkeypatch.setenv("FIELDAPP_VAPID_PRIVATE_KEY_FILE", shared["VAPID_PRIVATE_KEY_FILE"])
    monkeypatch.setenv("FIELDAPP_AUDIT_SIGNING_KEY", open(shared["AUDIT_SIGNING_KEY_FILE"]).read())
    from_env = node(tmp_path, database_url, "env")
    assert from_env.config["SECRET_KEY"] == secret
    assert from_env.config["VAPID_PRIVATE_KEY_PATH"] == shared["VAPID_PRIVATE_KEY_FILE"]
    for name in ("FIELDAPP_SECRET_KEY", "FIELDAPP_VAPID_PRIVATE_KEY_FILE", "FIELDAPP_AUDIT_SIGNING_KEY"):
        monkeypatch.delenv(name)
    files = dict(shared, SECRET_KEY_FILE=write(tmp_path / "secret", secret + "\n"))
    from_files = node(tmp_path, database_url, "files", **files)  # the same keys: starts
    assert keys.fingerprints(from_files.config) == keys.fingerprints(from_env.config) == recorded(database_url)
    # Without any of them, the node makes its own keys in its instance folder: they differ, so it refuses.
    with pytest.raises(keys.KeyMismatch):
        node(tmp_path, database_url, "own")


def test_settings_keep_secrets_as_text():
    found = config.settings({"FIELDAPP_SECRET_KEY": "12345678901234567890123456789012",
                             "FIELDAPP_VAPID_PRIVATE_KEY_FILE": "/run/secrets/vapid.pem"})
    assert found["SECRET_KEY"] == "12345678901234567890123456789012"
    assert found["VAPID_PRIVATE_KEY_FILE"] == "/run/secrets/vapid.pem"


def test_bad_key_files_stop_the_start_with_a_clear_error(tmp_path, database_url, shared):
    cases = [
        ({"VAPID_PRIVATE_KEY_FILE": str(tmp_path / "missing.pem")}, "missing.pem does not exist"),
        ({"VAPID_PRIVATE_KEY_FILE": write(tmp_path / "open.pem", vapid_pem(), 0o644)},
         "has mode 0644, open to other users: chmod 600"),
        ({"AUDIT_SIGNING_KEY_FILE": str(tmp_path)}, "is not a regular file"),
        ({"AUDIT_SIGNING_KEY_FILE": shared["VAPID_PRIVATE_KEY_FILE"]}, "is not an Ed25519 private key"),
        ({"VAPID_PRIVATE_KEY_FILE": write(tmp_path / "empty.pem", b"")}, "empty.pem is empty"),
        ({"VAPID_PRIVATE_KEY_FILE": write(tmp_path / "junk.pem", b"not a key")}, "is not a P-256 private key"),
        ({"SECRET_KEY_FILE": write(tmp_path / "short", "abc")}, "fewer than 32 characters"),
        ({"SECRET_KEY": "y" * 40}, "FIELDAPP_SECRET_KEY and FIELDAPP_SECRET_KEY_FILE are both set"),
    ]
    for change, message in cases:
        with pytest.raises(instance.KeyFileError, match=message):
            node(tmp_path, database_url, "bad", **dict(shared, **change))
    assert recorded(database_url) == {}  # nothing recorded by a node that did not start


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_key_file_is_a_clear_error(tmp_path, database_url, shared):
    path = write(tmp_path / "locked.pem", vapid_pem(), 0o000)
    with pytest.raises(instance.KeyFileError, match="cannot read .*locked.pem"):
        node(tmp_path, database_url, "x", **dict(shared, VAPID_PRIVATE_KEY_FILE=path))


def test_a_database_not_yet_migrated_is_checked_after_migrating(tmp_path, shared):
    url = f"sqlite:///{tmp_path}/new.db"
    app = node(tmp_path, url, "a", **shared)  # no table yet: starts, records nothing
    runner = app.test_cli_runner()
    result = runner.invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    assert recorded(url) == keys.fingerprints(app.config)


def test_a_consumer_with_other_keys_refuses_to_start(tmp_path, database_url, shared):
    """The worker (fieldapp/worker.py, what huey_consumer imports) runs the same check as a web node."""
    node(tmp_path, database_url, "a", **shared)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDAPP_", "FLASK_"))}
    env.update(FIELDAPP_INSTANCE=str(tmp_path / "own-keys"), FIELDAPP_DATABASE_URL=database_url,
               PYTHONPATH=str(PROJECT_ROOT), FIELDAPP_LOCAL_DEV="1")
    started = subprocess.run([sys.executable, "-c", "import fieldapp.worker"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode != 0
    assert "refusing to start: the secret_key key differs" in started.stderr
    assert "FIELDAPP_SECRET_KEY or FIELDAPP_SECRET_KEY_FILE" in started.stderr
    env.update(FIELDAPP_SECRET_KEY_FILE=shared["SECRET_KEY_FILE"],
               FIELDAPP_VAPID_PRIVATE_KEY_FILE=shared["VAPID_PRIVATE_KEY_FILE"],
               FIELDAPP_AUDIT_SIGNING_KEY_FILE=shared["AUDIT_SIGNING_KEY_FILE"])
    started = subprocess.run([sys.executable, "-c", "import fieldapp.worker"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr


def test_two_nodes_starting_together_agree_on_one_record(tmp_path, database_url, shared):
    """The first start of two nodes at once: one records, the other matches it; with other keys, one of the two
    refuses (whichever lost the insert), never both recorded."""
    same = [node(tmp_path, database_url, name, **shared) for name in ("a", "b")]
    other = node(tmp_path, database_url, "c", **dict(shared, VAPID_PRIVATE_KEY_FILE=write(
        tmp_path / "other.pem", vapid_pem())), ACCEPT_NEW_KEYS="vapid")

    def race(apps):
        with same[0].app_context():
            InstanceKey.delete().execute()
        barrier, outcomes = threading.Barrier(len(apps)), []

        def start(app):
            barrier.wait(timeout=30)
            try:
                outcomes.append(keys.check(app))
            except keys.KeyMismatch as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=start, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return outcomes

    outcomes = race(same)
    assert sorted(len(o["recorded"]) for o in outcomes) == [0, 3]
    assert recorded(database_url) == keys.fingerprints(same[0].config)
    other.config["ACCEPT_NEW_KEYS"] = ""
    outcomes = race([same[0], other])
    assert sum(isinstance(o, keys.KeyMismatch) for o in outcomes) == 1
    assert recorded(database_url)["vapid"] in {keys.fingerprints(a.config)["vapid"] for a in (same[0], other)}


# What an attack found: weak or ill-fitting keys accepted or failing with a raw ValueError, and a key file read
# half-made by a second process starting at the same time.

@pytest.mark.parametrize("weak", ["a", " ", " " * 40, "x" * 31])
def test_a_weak_secret_key_in_the_environment_is_refused(tmp_path, database_url, monkeypatch, weak):
    monkeypatch.setenv("FIELDAPP_SECRET_KEY", weak)
    with pytest.raises(instance.KeyFileError, match="^FIELDAPP_SECRET_KEY holds fewer than 32 characters"):
        node(tmp_path, database_url, "weak", TESTING=False)  # as deployed
    monkeypatch.setenv("FIELDAPP_SECRET_KEY", "k" * 32)
    strong = Flask("strong", instance_path=str(tmp_path / "strong"))
    strong.config.update(config.settings(), TESTING=False)
    instance.prepare(strong)
    assert strong.config["SECRET_KEY"] == "k" * 32


def p384_pem():
    return ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def test_keys_that_do_not_fit_are_refused_naming_the_variable(tmp_path, database_url, shared, monkeypatch):
    cases = [
        ({"VAPID_PRIVATE_KEY_FILE": write(tmp_path / "p384.pem", p384_pem())},
         "FIELDAPP_VAPID_PRIVATE_KEY_FILE: .*p384.pem is not a P-256 private key"),
        ({"VAPID_PRIVATE_KEY_FILE": write(tmp_path / "ed.pem", signing_pem())},
         "FIELDAPP_VAPID_PRIVATE_KEY_FILE: .*ed.pem is not a P-256 private key"),
        ({"SECRET_KEY_FILE": write(tmp_path / "binary", b"\xff\xfe" * 40)},
         "FIELDAPP_SECRET_KEY_FILE: .*binary is not text"),
        ({"SECRET_KEY_FILE": write(tmp_path / "control", "\x00" * 40)},
         "FIELDAPP_SECRET_KEY_FILE: .*control holds control characters"),
        ({"AUDIT_SIGNING_KEY_FILE": None, "AUDIT_SIGNING_KEY": "garbage"},
         "^FIELDAPP_AUDIT_SIGNING_KEY is not an Ed25519 private key"),
        ({"AUDIT_SIGNING_KEY_FILE": None, "AUDIT_SIGNING_KEY": p384_pem().decode()},
         "^FIELDAPP_AUDIT_SIGNING_KEY is not an Ed25519 private key"),
    ]
    for change, message in cases:
        settings = dict(shared, **change)
        settings = {k: v for k, v in settings.items() if v is not None}
        with pytest.raises(instance.KeyFileError, match=message) as refused:
            node(tmp_path, database_url, "bad", **settings)
        assert "\n" not in str(refused.value)
    # The same garbage from the environment: the error names the variable, not a raw ValueError.
    monkeypatch.setenv("FIELDAPP_AUDIT_SIGNING_KEY", "garbage")
    with pytest.raises(instance.KeyFileError, match="^FIELDAPP_AUDIT_SIGNING_KEY is not an Ed25519"):
        node(tmp_path, database_url, "env")
    assert recorded(database_url) == {}


def test_readers_never_see_a_half_made_key_file(tmp_path):
    """Threads racing on one new file: every one gets the same whole key, even when making it is slow (the old
    create-then-write left a window where a reader got b"")."""
    for round_ in range(30):  # bounded
        path = tmp_path / f"key-{round_}"
        barrier, got = threading.Barrier(6), []

        def make():
            time.sleep(0.002)  # the window between creating the name and writing the key
            return secrets.token_hex(32).encode()

        def start():
            barrier.wait(timeout=30)
            try:
                got.append(instance._create_once(path, make))
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                got.append(exc)

        threads = [threading.Thread(target=start) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(set(got)) == 1 and len(got[0]) == 64, got
        assert path.read_bytes() == got[0] and os.stat(path).st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".key-*"))


RACE = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("instance", sys.argv[3])  # the module alone: starts in ms
instance = importlib.util.module_from_spec(spec)
spec.loader.exec_module(instance)
start = float(sys.argv[2])
waited = time.time() < start
time.sleep(max(0.0, start - time.time() - 0.005))  # asleep until just before the start, then spin
while time.time() < start:
    pass
print(instance.secret_key(sys.argv[1]), waited)
"""


def test_processes_starting_together_read_the_same_secret_key(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    raced, lead = 0, 0.4  # the four are started and waiting by then (a bare Python starts in ~50 ms)
    for round_ in range(5):  # bounded: 0.4 s of lead, doubled after a round the machine's load left unraced
        folder = tmp_path / f"instance-{round_}"
        folder.mkdir()
        start = time.time() + lead
        procs = [subprocess.Popen([sys.executable, "-c", RACE, str(folder), str(start), instance.__file__], env=env, cwd=PROJECT_ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outputs = [p.communicate(timeout=60) for p in procs]
        keys_read = {out.split()[0] for out, _err in outputs}
        assert len(keys_read) == 1 and len(keys_read.pop()) == 64, outputs
        together = sum(out.split()[1] == "True" for out, _err in outputs) >= 2
        raced += together
        lead = lead if together else lead * 2
    assert raced, "no round had two processes waiting for the common start: nothing was raced"


def test_an_empty_key_file_left_by_an_older_start_is_a_clear_error(tmp_path):
    (tmp_path / "secret_key").write_bytes(b"")
    with pytest.raises(instance.KeyFileError, match="secret_key is empty"):
        instance.secret_key(str(tmp_path))
