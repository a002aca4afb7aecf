"""The suite's own set-up (tests/conftest.py): a migrated copy per test, made from one migration per run."""
from fieldapp.config import PROJECT_ROOT
from fieldapp.db import run_migrations
from fieldapp.models import Organization


def test_each_test_gets_a_fully_migrated_database_of_its_own(app, db, migrated_template):
    applied = [name for (name,) in db.execute_sql("SELECT name FROM migratehistory ORDER BY id").fetchall()]
    assert applied == sorted(p.stem for p in (PROJECT_ROOT / "migrations").glob("[0-9]*.py"))
    with app.app_context():
        assert run_migrations() == []  # nothing left to do: the copy is as migrated as the template
    assert str(migrated_template) not in app.config["DATABASE_URL"]
    Organization.create(name="Only here AS", org_number="923609016")


def test_what_one_test_writes_is_not_in_the_next_ones_copy(app, db):
    # Runs after the test above in file order (and alone in random order): the template stays empty.
    assert Organization.select().count() == 0
