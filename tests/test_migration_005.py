"""Migration 005 gives every existing account an owning organization, as its docstring says."""
import logging

from peewee import SqliteDatabase
from peewee_migrate import Router

from fieldapp.config import PROJECT_ROOT


def test_existing_people_get_the_organization_that_made_them(tmp_path):
    db = SqliteDatabase(str(tmp_path / "old.db"), pragmas={"foreign_keys": 1})
    router = Router(db, migrate_dir=str(PROJECT_ROOT / "migrations"), ignore=["basemodel"],
                    logger=logging.getLogger("test"))
    router.run("004_alerts")
    now = "2026-01-01 00:00:00"
    for org_id, number in ((1, "923609016"), (2, "987654325")):
        db.execute_sql("INSERT INTO organization (id, name, org_number, created_at) VALUES (?, ?, ?, ?)",
                       (org_id, f"Org {org_id}", number, now))
    db.execute_sql("INSERT INTO site (id, organization_id, name, address, qr_token, active, created_at, "
                   "day_ends_at, guests_allowed) VALUES (1, 1, 'A', 'a', 't1', 1, ?, '18:00:00', 0), "
                   "(2, 2, 'B', 'b', 't2', 1, ?, '18:00:00', 0)", (now, now))
    people = [  # id, employer, org admin
        (1, 2, 1),  # an org admin: their employer's
        (2, 2, 0),  # a subcontractor's worker first put on org 1's site: org 1's
        (3, 1, 0),  # on no site: the employer's
        (4, None, 0),  # on no site and no employer: nobody's (only they themselves)
    ]
    for user_id, employer, admin in people:
        db.execute_sql('INSERT INTO "user" (id, name, phone, language, employer_id, is_org_admin, active, '
                       'created_at) VALUES (?, ?, ?, \'nb\', ?, ?, 1, ?)',
                       (user_id, f"P{user_id}", f"+47900000{user_id:02d}", employer, admin, now))
    db.execute_sql("INSERT INTO membership (user_id, site_id, role, created_at) VALUES "
                   "(2, 1, 'worker', '2026-01-01 00:00:00'), (2, 2, 'manager', '2026-02-01 00:00:00'), "
                   "(1, 1, 'worker', '2026-01-01 00:00:00')")
    router.run()
    owners = dict(db.execute_sql('SELECT id, organization_id FROM "user" ORDER BY id').fetchall())
    assert owners == {1: 2, 2: 1, 3: 1, 4: None}
    assert db.execute_sql("SELECT COUNT(*) FROM invitation").fetchone()[0] == 0
    db.close()
