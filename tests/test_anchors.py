"""Signed anchors of the audit log outside the database: what the database's owner cannot undo unseen."""
import hashlib
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldapp import anchors, audit, audit_tasks, clock, instance
from fieldapp.models import AuditEvent

from helpers import drop_append_only_guard, make_events


def anchor_file(app):
    return os.path.join(app.config["AUDIT_ANCHOR_DIR"], "anchors.jsonl")


def lines(app):
    with open(anchor_file(app)) as f:
        return [json.loads(line) for line in f if line.strip()]


def anchor_now(app, reason="manual", **kwargs):
    with app.app_context():
        return anchors.write(reason, **kwargs)


def verify(app, *args):
    return app.test_cli_runner().invoke(args=["verify-audit", *args])


def recompute_chain():
    """What the database's owner does after editing history: every hash again from the start."""
    prev = audit.GENESIS
    for event in AuditEvent.select().order_by(AuditEvent.id):
        digest = audit._digest(prev, event.at, event.actor_id, event.action, event.record_type,
                               event.record_id, event.before, event.after)
        AuditEvent.update(prev_hash=prev, hash=digest).where(AuditEvent.id == event.id).execute()
        prev = digest


# --- the key ---------------------------------------------------------------------------------------

def test_signing_key_is_made_once_outside_the_database_and_kept(app, tmp_path):
    from helpers import test_config
    from fieldapp import create_app

    path = app.config["AUDIT_SIGNING_KEY_PATH"]
    assert os.path.dirname(path) == app.instance_path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with app.app_context():
        first = anchors.key_id(anchors.signing_key().public_key())
    again = create_app(test_config(tmp_path))  # the same instance folder: the same key
    with again.app_context():
        assert anchors.key_id(anchors.signing_key().public_key()) == first


def test_signing_key_from_the_environment_replaces_the_file(tmp_path, monkeypatch):
    from helpers import test_config
    from fieldapp import create_app

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    monkeypatch.setenv("FLASK_AUDIT_SIGNING_KEY", pem)
    app = create_app(test_config(tmp_path))
    assert not os.path.exists(os.path.join(app.instance_path, "audit_signing_key.pem"))
    with app.app_context():
        assert anchors.key_id(anchors.signing_key().public_key()) == anchors.key_id(key.public_key())


def test_a_key_that_is_not_ed25519_is_refused(app):
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(ValueError, match="Ed25519"):
        anchors.signing_key({"AUDIT_SIGNING_KEY": pem.decode()})


# --- writing anchors -------------------------------------------------------------------------------

def test_periodic_task_anchors_the_head_only_when_it_changed(app, db):
    with app.app_context():
        assert audit_tasks.anchor_audit_head.call_local() is None  # an empty log: nothing to anchor
        make_events(3)
        written = audit_tasks.anchor_audit_head.call_local()
        assert audit_tasks.anchor_audit_head.call_local() is None  # same head: no new line
        make_events(1)
        newer = audit_tasks.anchor_audit_head.call_local()
    head = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert [a["head_id"] for a in lines(app)] == [written["head_id"], newer["head_id"]] == [head.id - 1, head.id]
    assert lines(app)[-1] == newer and newer["count"] == 4 and newer["head_hash"] == head.hash
    assert newer["reason"] == "periodic"


def test_the_worker_runs_the_anchor_task_every_ten_minutes():
    import ast
    import datetime as dt
    import importlib.util

    from fieldapp.queue import huey

    # The consumer's entry point imports the task module (read, not imported: importing it builds an app
    # and binds the database to it).
    source = open(importlib.util.find_spec("fieldapp.worker").origin).read()
    imported = {alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert "audit_tasks" in imported
    assert audit_tasks.anchor_audit_head.task_class in huey._registry._periodic_tasks
    task = audit_tasks.anchor_audit_head.task_class()
    due = [minute for minute in range(60) if task.validate_datetime(dt.datetime(2026, 1, 1, 3, minute))]
    assert due == [0, 10, 20, 30, 40, 50]


def test_anchors_are_also_logged(app, db, caplog):
    make_events(1)
    with caplog.at_level("INFO", logger="fieldapp.audit.anchor"):
        anchor = anchor_now(app)
    assert anchor["sig"] in caplog.text


def test_each_export_anchors_the_head_with_the_files_hash(app, as_role, world):
    manager = as_role("manager")
    today = clock.today(world.site).isoformat()
    for extension in ("csv", "pdf"):
        response = manager.get(f"/s/{world.site.id}/attendance.{extension}?from={today}&to={today}")
        assert response.status_code == 200
        anchor = lines(app)[-1]
        assert anchor["reason"] == "export"
        assert anchor["export"] == {"name": f"oversiktsliste-{world.site.id}-{today}-{today}.{extension}",
                                    "sha256": hashlib.sha256(response.get_data()).hexdigest()}
        head = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
        assert (anchor["head_id"], anchor["head_hash"]) == (head.id, head.hash)


def test_an_export_is_served_even_when_the_anchor_cannot_be_written(app, as_role, world, caplog):
    os.makedirs(app.config["AUDIT_ANCHOR_DIR"], exist_ok=True)
    os.mkdir(anchor_file(app))  # a folder where the file should be: every write fails with OSError
    with caplog.at_level("ERROR"):
        response = as_role("manager").get(f"/s/{world.site.id}/attendance.csv")
    assert response.status_code == 200
    assert "could not anchor the audit log for the export" in caplog.text


# --- verify-audit ----------------------------------------------------------------------------------

def test_verify_passes_with_anchors_and_says_how_far_they_reach(app, db):
    make_events(3)
    anchor_now(app)
    make_events(2)
    anchor_now(app)
    make_events(1)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 6 events" in result.output
    assert "2 signed anchors checked" in result.output and "(1 events since)" in result.output


def test_verify_without_anchors_says_what_it_cannot_see_and_fails(app, db):
    """A missing anchor file must not pass: moving it away would otherwise hide a truncation."""
    make_events(2)
    result = verify(app)
    assert result.exit_code == 1
    assert "no anchors at" in result.output and "cannot be seen" in result.output
    assert "no anchors to check against" in result.output


def test_an_empty_log_without_anchors_verifies(app, db):
    assert verify(app).exit_code == 0


def write_old_anchor(app, hours):
    """An anchor of the current head as if written `hours` ago (signed with this installation's key)."""
    from datetime import datetime, timedelta, timezone

    with app.app_context():
        head_id, head_hash, count = audit.head()
        anchor = anchors.make_anchor(anchors.signing_key(), head_id, head_hash, count, "periodic",
                                     at=datetime.now(timezone.utc) - timedelta(hours=hours))
        os.makedirs(os.path.dirname(anchor_file(app)), exist_ok=True)
        with open(anchor_file(app), "a") as f:
            f.write(json.dumps(anchor, sort_keys=True, separators=(",", ":")) + "\n")


def test_anchors_that_stopped_a_long_time_ago_are_stale(app, db):
    """Newest events and the newest anchor lines deleted together leave an old newest anchor behind."""
    make_events(3)
    write_old_anchor(app, hours=anchors.STALE_HOURS + 1)
    result = verify(app)
    assert result.exit_code == 1 and "STALE:" in result.output


def test_an_unchanged_head_is_anchored_again_each_day(app, db):
    make_events(3)
    write_old_anchor(app, hours=anchors.HEARTBEAT_HOURS - 1)
    with app.app_context():
        assert audit_tasks.anchor_audit_head.call_local() is None  # changed nothing, anchored recently
    write_old_anchor(app, hours=anchors.HEARTBEAT_HOURS + 1)
    with app.app_context():
        assert audit_tasks.anchor_audit_head.call_local()["reason"] == "periodic"
    assert verify(app).exit_code == 0


def test_rows_deleted_from_the_end_are_truncation(app, db):
    make_events(5)
    anchor_now(app)
    drop_append_only_guard()
    newest = [e.id for e in AuditEvent.select().order_by(AuditEvent.id.desc()).limit(2)]
    AuditEvent.delete().where(AuditEvent.id.in_(newest)).execute()
    assert audit.verify_chain() == (3, None)  # the chain alone cannot tell
    result = verify(app)
    assert result.exit_code == 1
    assert "TRUNCATED" in result.output
    assert f"names event {newest[0]} (5 events) as the head, but the log ends at event {newest[1] - 1}" \
        in result.output
    assert "rows were deleted from the end" in result.output
    assert "does not verify: truncated" in result.output


def test_rows_deleted_from_the_end_and_written_again_are_caught(app, db):
    make_events(5)
    anchor_now(app)
    drop_append_only_guard()
    newest = [e.id for e in AuditEvent.select().order_by(AuditEvent.id.desc()).limit(2)]
    AuditEvent.delete().where(AuditEvent.id.in_(newest)).execute()
    make_events(2)  # SQLite gives the same ids again; PostgreSQL new ones
    result = verify(app)
    assert result.exit_code == 1
    assert "REWRITTEN" in result.output or "it is missing from the log" in result.output


def test_a_row_deleted_inside_the_history_lowers_the_count(app, db):
    make_events(5)
    anchor_now(app)
    drop_append_only_guard()
    second = AuditEvent.select().order_by(AuditEvent.id).offset(1).first()
    AuditEvent.delete().where(AuditEvent.id == second.id).execute()
    result = verify(app)
    assert result.exit_code == 1
    assert "broken at event" in result.output
    assert "counted 5 events up to event" in result.output and "the log has 4: 1 were deleted" in result.output


def test_a_row_edited_and_the_whole_chain_recomputed_is_rewriting(app, db):
    make_events(4)
    anchor_now(app)
    drop_append_only_guard()
    third = AuditEvent.select().order_by(AuditEvent.id).offset(2).first()
    AuditEvent.update(after='{"n": 99}').where(AuditEvent.id == third.id).execute()
    recompute_chain()
    assert audit.verify_chain() == (4, None)  # the chain alone cannot tell
    head = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    result = verify(app)
    assert result.exit_code == 1
    assert f"REWRITTEN: event {head.id} does not have the hash that the anchor of" in result.output
    assert "does not verify: rewritten" in result.output


def test_an_older_anchor_still_catches_a_rewrite_behind_a_newer_one(app, db):
    """Rewriting before the newest anchor and then anchoring again does not clean the history."""
    make_events(2)
    anchor_now(app)
    drop_append_only_guard()
    first = AuditEvent.select().order_by(AuditEvent.id).first()
    AuditEvent.update(action="tampered").where(AuditEvent.id == first.id).execute()
    recompute_chain()
    anchor_now(app)  # the owner runs the app, which anchors the rewritten head
    result = verify(app)
    assert result.exit_code == 1 and "(line 1)" in result.output and "REWRITTEN" in result.output


def test_forged_anchors_have_bad_signatures(app, db):
    make_events(3)
    genuine = anchor_now(app)
    forger = Ed25519PrivateKey.generate()
    own_key = anchors.make_anchor(forger, genuine["head_id"], genuine["head_hash"], 3, "manual")
    with_our_key_id = dict(own_key, key=genuine["key"])  # claims to be ours, signed with another key
    changed = dict(genuine, count=2)  # a genuine line with its count lowered
    with open(anchor_file(app), "a") as f:
        for body in (own_key, with_our_key_id, changed):
            f.write(json.dumps(body) + "\n")
        f.write("not json\n")
        f.write(json.dumps(dict(genuine, sig="!!")) + "\n")
        f.write(json.dumps({k: v for k, v in genuine.items() if k != "count"}) + "\n")
    result = verify(app)
    assert result.exit_code == 1
    assert "BAD SIGNATURE: line 2 of" in result.output and "not the audit key" in result.output
    assert "BAD SIGNATURE: line 3 of" in result.output and "forged or changed" in result.output
    assert "BAD SIGNATURE: line 4 of" in result.output
    assert "BAD SIGNATURE: line 5 of" in result.output and "not a signed anchor" in result.output
    assert "BAD SIGNATURE: line 6 of" in result.output
    assert "BAD SIGNATURE: line 7 of" in result.output
    assert "1 signed anchors checked" in result.output
    assert "does not verify: bad signatures" in result.output


def test_verify_against_a_copy_elsewhere_with_only_the_public_key(app, db, tmp_path):
    make_events(2)
    anchor_now(app)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "anchors.jsonl").write_bytes(open(anchor_file(app), "rb").read())
    public = app.test_cli_runner().invoke(args=["audit-public-key"]).output
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    (elsewhere / "audit.pub").write_text(public)
    os.remove(anchor_file(app))  # the owner deletes the copy on the host: the one elsewhere still counts
    drop_append_only_guard()
    AuditEvent.delete().where(AuditEvent.id == AuditEvent.select().order_by(AuditEvent.id.desc()).first().id
                              ).execute()
    args = ["--anchors", str(elsewhere / "anchors.jsonl"), "--public-key", str(elsewhere / "audit.pub")]
    result = verify(app, *args)
    assert result.exit_code == 1 and "TRUNCATED" in result.output
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (elsewhere / "other.pub").write_bytes(other)
    wrong_key = verify(app, "--anchors", str(elsewhere / "anchors.jsonl"), "--public-key",
                       str(elsewhere / "other.pub"))
    assert wrong_key.exit_code == 1 and "not the audit key" in wrong_key.output
    missing = verify(app, "--anchors", str(elsewhere / "nowhere.jsonl"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (elsewhere / "junk.pub").write_text("not a key")
    junk = verify(app, "--public-key", str(elsewhere / "junk.pub"))
    assert junk.exit_code == 1 and "cannot read the public key" in junk.output


def test_audit_anchor_command(app, db):
    make_events(2)
    result = app.test_cli_runner().invoke(args=["audit-anchor"])
    assert result.exit_code == 0 and "(2 events)" in result.output
    assert lines(app)[-1]["reason"] == "manual"


def test_anchor_file_is_not_readable_by_others(app, db):
    make_events(1)
    anchor_now(app)
    assert stat.S_IMODE(os.stat(anchor_file(app)).st_mode) & 0o007 == 0


def test_anchor_dir_is_configurable(tmp_path, monkeypatch):
    from helpers import migrate_fresh, test_config
    from fieldapp import create_app
    from fieldapp.db import database

    folder = tmp_path / "shipped"
    monkeypatch.setenv("FLASK_AUDIT_ANCHOR_DIR", str(folder))
    app = create_app(test_config(tmp_path))
    migrate_fresh(app)
    try:
        make_events(1)
        anchor_now(app)
        assert (folder / "anchors.jsonl").exists()
    finally:
        if not database.is_closed():
            database.close()


def test_key_file_made_with_no_group_or_other_access(tmp_path):
    path = instance.audit_signing_key_path(str(tmp_path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert instance.audit_signing_key_path(str(tmp_path)) == path
