"""The suite's own set-up (tests/conftest.py): a migrated copy per test, made from one migration per run."""
from fieldapp.config import PROJECT_ROOT
from fieldapp.db import run_migrations
from fieldapp.models import Organization, Site


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


def test_a_test_may_change_the_apps_config_and_templates(app, world):
    # The app is shared by the tests of a process (conftest._worker_app): the next test must not see this.
    from jinja2 import ChoiceLoader, DictLoader

    app.config["DEVICE_SESSION_IDLE_DAYS"] = 1
    app.jinja_env.loader = ChoiceLoader([DictLoader({"base.html": "changed"}), app.jinja_env.loader])
    assert app.jinja_env.get_template("base.html").render() == "changed"
    world.site.name = "Renamed in memory only"


def test_the_next_test_gets_the_app_and_world_as_made(app, client, world, database_url, tmp_path):
    # Runs after the test above in file order (and alone in random order).
    from fieldapp.config import Defaults

    assert app.config["DEVICE_SESSION_IDLE_DAYS"] == Defaults.DEVICE_SESSION_IDLE_DAYS != 1
    assert "<!doctype html>" in client.get("/sign-in").get_data(as_text=True)
    assert world.site.name == "Site A" and Site.get_by_id(world.site.id).name == "Site A"
    assert app.config["DATABASE_URL"] == database_url and app.instance_path == str(tmp_path / "instance")
