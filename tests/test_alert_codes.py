"""The app's own alerts about a report store codes and each reader reads them in their own language (issue 15):
an English-speaking foreman no longer reads "...reported: Elektrisk (Farlig forhold)"."""
import importlib.util
import uuid

from helpers import subscribe
from peewee_migrate import Migrator

from fieldapp.config import PROJECT_ROOT
from fieldapp.db import database
from fieldapp.models import Alert, Report, User, utcnow


def report_bare_wire(worker, site):
    response = worker.post(f"/s/{site.id}/reports/new", data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "electrical", "description": "Bare wire"})
    assert response.status_code == 303
    return Report.get(Report.description == "Bare wire")


def speaks(world, role, language):
    User.update(language=language).where(User.id == world.people[role].id).execute()


def test_a_serious_report_alert_is_stored_as_codes_and_read_in_each_persons_language(world, as_role):
    speaks(world, "foreman", "en")  # the worker who reports and the verneombud read bokmål
    report = report_bare_wire(as_role("worker"), world.site)
    alert = Alert.get((Alert.report == report) & (Alert.template == "report_high"))
    assert alert.area == "electrical/hazard"
    english = as_role("foreman").get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "New serious hazard reported" in english and "Electrical (Hazardous condition)" in english
    assert "Elektrisk" not in english and "Farlig forhold" not in english
    norwegian = as_role("verneombud").get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "Elektrisk (Farlig forhold)" in norwegian and "Electrical" not in norwegian
    inbox = as_role("foreman").get("/alerts").get_data(as_text=True)
    assert "New serious hazard reported" in inbox and "Ny alvorlig fare" not in inbox


def test_the_push_message_is_worded_per_recipient_language(world, as_role, push_service):
    speaks(world, "foreman", "en")
    speaks(world, "worker", "en")
    phones = {role: as_role(role) for role in ("worker", "foreman", "verneombud")}
    for role, client in phones.items():
        subscribe(client, push_service, role)
    report = report_bare_wire(phones["worker"], world.site)
    english = push_service.for_device("foreman")[0]["payload"]
    assert english["title"] == "New serious hazard reported"
    assert "Electrical (Hazardous condition)" in english["body"] and "Elektrisk" not in english["body"]
    norwegian = push_service.for_device("verneombud")[0]["payload"]
    assert norwegian["title"] == "Ny alvorlig fare meldt" and "Elektrisk (Farlig forhold)" in norwegian["body"]
    # The English-speaking reporter is told in English that their report was closed.
    phones["foreman"].post(f"/s/{world.site.id}/reports/{report.id}/close", data={"text": "Wire insulated"})
    told = push_service.for_device("worker")[0]["payload"]
    assert told["title"] == "Your report was closed" and "(Electrical)" in told["body"]
    assert Alert.get((Alert.report == report) & (Alert.template == "report_closed")).area == "electrical"


def test_migration_010_turns_stored_norwegian_words_into_codes(app, world, as_role):
    report = world.report  # falls / hazard
    made = dict(site=world.site, level="warning", title="", body="", audience="all", ack_required=False,
                created_at=utcnow())
    old_high = Alert.create(uuid=uuid.uuid4(), template="report_high", area="Fall (Farlig forhold)", report=report,
                            **made)
    old_closed = Alert.create(uuid=uuid.uuid4(), template="report_closed", area="Fall", report=report, **made)
    orphan = Alert.create(uuid=uuid.uuid4(), template="report_high", area="Brann (Nestenulykke)", report=None,
                          **made)
    typed = Alert.create(uuid=uuid.uuid4(), template="crane_lift", area="Sone B", report=None, **made)
    spec = importlib.util.spec_from_file_location("m010", PROJECT_ROOT / "migrations/010_alert_codes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    migrator = Migrator(database)
    module.migrate(migrator, database)
    with database.atomic():
        migrator()  # runs the queued operations, as peewee-migrate's Router does after migrate()
    areas = {a.id: a.area for a in Alert.select()}
    assert areas[old_high.id] == "falls/hazard" and areas[old_closed.id] == "falls"
    assert areas[orphan.id] == "Brann (Nestenulykke)" and areas[typed.id] == "Sone B"
    # An alert whose report is gone shows its old words as they were.
    speaks(world, "manager", "en")
    page = as_role("manager").get(f"/s/{world.site.id}/alerts/{orphan.id}").get_data(as_text=True)
    assert "Brann (Nestenulykke)" in page


def report_injury(worker, site, description, serious):
    data = {"uuid": str(uuid.uuid4()), "kind": "injury", "category": "falls", "description": description}
    if serious:
        data["serious"] = "y"
    assert worker.post(f"/s/{site.id}/reports/new", data=data).status_code == 303
    return Alert.get(Alert.report == Report.get(Report.description == description))


def test_a_serious_injury_reaches_the_manager_who_must_notify_at_once(world, as_role):
    # AML § 5-2: the employer notifies Arbeidstilsynet and the police at once; the manager is told and must
    # acknowledge, and the alert stays at the top of their pages until they do.
    speaks(world, "manager", "en")
    alert = report_injury(as_role("worker"), world.site, "Fell three metres from the scaffold", serious=True)
    told = {r.user_id: r.role for r in alert.recipients}
    assert told == {world.people[role].id: role for role in ("foreman", "verneombud", "manager")}
    assert alert.template == "report_serious_injury" and alert.ack_required and alert.ack_deadline is not None
    manager = as_role("manager")
    home = manager.get("/").get_data(as_text=True)
    banner = home[home.index('class="alert-banners"'):]
    assert "Serious injury reported" in banner
    page = manager.get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "notify Arbeidstilsynet and the police at once (AML § 5-2)" in page and "Falls (Injury)" in page
    foreman = as_role("foreman").get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "Alvorlig personskade meldt" in foreman and "Arbeidstilsynet og politiet" in foreman


def test_an_injury_that_is_not_serious_goes_to_the_verneombud_and_foremen_only(world, as_role):
    alert = report_injury(as_role("worker"), world.site, "Cut a finger on a sheet", serious=False)
    assert {r.role for r in alert.recipients} == {"foreman", "verneombud"}
    assert alert.template == "report_injury" and not alert.ack_required
