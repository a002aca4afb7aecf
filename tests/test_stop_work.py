"""A stop-work order on every page until acknowledged or lifted; lifting it is recorded and everyone is told
(issue 16). The phone-sized checks are in tests/browser/test_phone_360.py."""
import uuid
from datetime import datetime

import pytest
from helpers import subscribe

from fieldapp.alerts import service
from fieldapp.models import Alert, AlertRecipient, AuditEvent, User


@pytest.fixture
def phones(as_role, push_service):
    """Every person on site A with one subscribed phone except the manager (no push); the worker reads English."""
    User.update(language="en").where(User.phone == "+4791000001").execute()
    clients = {}
    for role in ("worker", "foreman", "verneombud", "manager"):
        clients[role] = as_role(role)
        if role != "manager":
            subscribe(clients[role], push_service, role)
    return clients


def stop_work(client, site, area="Tower crane 2"):
    response = client.post(f"/s/{site.id}/alerts/new", data={"uuid": str(uuid.uuid4()), "template": "stop_work",
                                                             "area": area})
    assert response.status_code == 303, response.get_data(as_text=True)
    return Alert.select().order_by(Alert.id.desc()).get()


def banner(client, path="/"):
    page = client.get(path).get_data(as_text=True)
    start = page.find('class="alert-banners"')
    return "" if start < 0 else page[start:page.index("</aside>", start)]


def test_the_banner_shows_on_every_page_until_acknowledged(world, phones):
    alert = stop_work(phones["verneombud"], world.site)
    worker = phones["worker"]
    for path in ("/", f"/s/{world.site.id}/checkin", f"/s/{world.site.id}/reports/new", "/alerts",
                 f"/s/{world.site.id}/reports"):
        shown = banner(worker, path)
        assert "STOP WORK: immediate danger" in shown, path
        assert "Verneombud Person" in shown and "Site A" in shown, path
        assert f'href="/s/{world.site.id}/alerts/{alert.id}"' in shown, path
    # Not on the alert's own page (its big button is there), nor for the sender, who has no copy.
    assert "STOP WORK" not in banner(worker, f"/s/{world.site.id}/alerts/{alert.id}")
    assert banner(phones["verneombud"]) == ""
    response = worker.post(f"/s/{world.site.id}/alerts/{alert.id}/ack", data={"uuid": str(uuid.uuid4())})
    assert response.status_code == 303
    assert "STOP WORK" not in banner(worker)
    assert "STANS ARBEIDET" in banner(phones["foreman"])  # each person acknowledges for themselves


def test_the_home_screen_says_first_that_work_is_stopped(world, phones):
    alert = stop_work(phones["verneombud"], world.site)
    page = phones["worker"].get("/").get_data(as_text=True)
    card = page[page.index('class="card site-card stopped"'):]
    assert card.index("Work is stopped on this site") < card.index("Site A</h2>")
    # Still so after acknowledging: acknowledging is "I have read it", not "work may start again".
    phones["worker"].post(f"/s/{world.site.id}/alerts/{alert.id}/ack", data={"uuid": str(uuid.uuid4())})
    assert "Work is stopped on this site" in phones["worker"].get("/").get_data(as_text=True)
    other = phones["manager"].get("/").get_data(as_text=True)
    assert "Arbeidet er stanset på denne byggeplassen" in other


def test_lifting_is_recorded_and_everyone_is_told_once(world, phones, push_service):
    alert = stop_work(phones["verneombud"], world.site)
    got_order = {r.user_id for r in AlertRecipient.select().where(AlertRecipient.alert == alert)}
    assert "lift-button" in phones["verneombud"].get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "lift-button" not in phones["worker"].get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert phones["worker"].post(f"/s/{world.site.id}/alerts/{alert.id}/lift").status_code == 403
    for _ in range(2):  # sent twice: lifted once, told once
        response = phones["verneombud"].post(f"/s/{world.site.id}/alerts/{alert.id}/lift")
        assert response.status_code == 303
    alert = Alert.get_by_id(alert.id)
    assert alert.lifted_at is not None and alert.lifted_by_id == world.people["verneombud"].id
    events = list(AuditEvent.select().where((AuditEvent.action == "alert.lift") & (AuditEvent.record_id == str(alert.id))))
    assert [e.actor_id for e in events] == [world.people["verneombud"].id]
    notice = Alert.get(Alert.template == "work_resumed")
    told = {r.user_id for r in AlertRecipient.select().where(AlertRecipient.alert == notice)}
    # Everyone who got the order; not the verneombud who stopped the work and now lifted it.
    assert told == got_order - {world.people["verneombud"].id} and world.people["foreman"].id in told
    titles = [m["payload"]["title"] for m in push_service.for_device("worker")]
    assert titles.count("Work may start again") == 1
    assert [m["payload"]["title"] for m in push_service.for_device("foreman")].count("Arbeidet kan gjenopptas") == 1
    # Gone from the banner and the home card; in the inbox (the manager has no push: the inbox reaches them).
    assert "STANS ARBEIDET" not in banner(phones["manager"])
    assert "Arbeidet er stanset" not in phones["manager"].get("/").get_data(as_text=True)
    assert "Arbeidet kan gjenopptas" in phones["manager"].get("/alerts").get_data(as_text=True)
    page = phones["worker"].get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert f"Lifted by {world.people['verneombud'].name}" in page and "lift-button" not in page


def test_the_employer_cannot_lift_a_verneombuds_stop_work_order(world, phones):
    """AML § 6-3: the verneombud's stop is not the employer's to overrule (found by the attack test)."""
    alert = stop_work(phones["verneombud"], world.site)
    for role in ("foreman", "manager"):
        assert "lift-button" not in phones[role].get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
        response = phones[role].post(f"/s/{world.site.id}/alerts/{alert.id}/lift")
        assert response.status_code == 403 and "§ 6-3" in response.get_data(as_text=True)
    assert Alert.get_by_id(alert.id).lifted_at is None
    assert not AuditEvent.select().where(AuditEvent.action == "alert.lift").exists()


def test_a_foremans_stop_work_order_is_lifted_by_the_foreman_or_a_manager(world, phones):
    alert = stop_work(phones["foreman"], world.site)
    assert phones["verneombud"].post(f"/s/{world.site.id}/alerts/{alert.id}/lift").status_code == 403
    assert phones["manager"].post(f"/s/{world.site.id}/alerts/{alert.id}/lift").status_code == 303
    assert Alert.get_by_id(alert.id).lifted_by_id == world.people["manager"].id


def test_only_a_stop_work_order_is_lifted(world, phones):
    response = phones["foreman"].post(f"/s/{world.site.id}/alerts/new",
                                      data={"uuid": str(uuid.uuid4()), "template": "crane_lift", "area": "A"})
    alert = Alert.get(Alert.template == "crane_lift")
    assert response.status_code == 303
    response = phones["verneombud"].post(f"/s/{world.site.id}/alerts/{alert.id}/lift")
    assert response.status_code == 409
    assert "Bare en arbeidsstans kan oppheves." in response.get_data(as_text=True)
    assert Alert.get_by_id(alert.id).lifted_at is None
    assert Alert.select().where(Alert.template == "work_resumed").count() == 0


def test_the_status_says_who_has_no_push(world, phones):
    alert = stop_work(phones["verneombud"], world.site)
    page = phones["verneombud"].get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    rows = {name: page[page.index(f"<strong>{name}</strong>"):][:900] for name in ("Manager Person", "Worker Person")}
    assert "no-push" in rows["Manager Person"].split("</li>")[0]
    assert "no-push" not in rows["Worker Person"].split("</li>")[0]


def test_the_banner_shows_stop_work_first_then_the_newest_three_still_to_acknowledge(world, db):
    worker = world.people["worker"]

    def alert(level, day, **fields):
        made = Alert.create(uuid=uuid.uuid4(), site=world.site, level=level, title=f"{level} {day}",
                            created_at=datetime(2026, 11, day, 8), **fields)
        AlertRecipient.create(alert=made, user=worker, role="worker")
        return made

    assert service.banner(worker.id) == ([], False)
    old_stop = alert("stop_work", 1)
    info = [alert("info", day) for day in (2, 3, 4)]
    alert("info", 5, ack_required=False)  # nothing to acknowledge
    alert("stop_work", 6, lifted_at=datetime(2026, 11, 7))  # lifted
    acked = alert("info", 8)
    AlertRecipient.update(acked_at=datetime(2026, 11, 8, 9)).where(AlertRecipient.alert == acked).execute()
    shown, more = service.banner(worker.id)
    assert [copy.alert_id for copy in shown] == [old_stop.id, info[2].id, info[1].id]
    assert more  # info[0] waits too: the banner points to the inbox
    assert shown[0].alert.site.name == "Site A" and shown[0].alert.sender is None
    assert service.banner(world.people["foreman"].id) == ([], False)
    AlertRecipient.update(acked_at=datetime(2026, 11, 9)).where(AlertRecipient.alert == info[0]).execute()
    assert len(service.banner(worker.id)[0]) == 3 and not service.banner(worker.id)[1]  # three left: all shown


def test_the_banner_leads_to_the_inbox_when_more_wait_than_it_shows(world, as_role):
    worker = world.people["worker"]
    for day in range(1, 5):
        made = Alert.create(uuid=uuid.uuid4(), site=world.site, level="warning", title=f"Crane {day}",
                            created_at=datetime(2026, 11, day, 8))
        AlertRecipient.create(alert=made, user=worker, role="worker")
    page = as_role("worker").get("/").get_data(as_text=True)
    banners = page[page.index('class="alert-banners"'):].split("</aside>")[0]
    assert banners.count('class="alert-banner level-') == 3 and "Crane 1" not in banners
    assert 'class="alert-banner-more" href="/alerts"' in banners


def test_lifting_a_warning_is_a_409_that_does_not_say_try_again(world, phones):
    """Only a stop-work order is lifted: the refusal's page said "it is not your fault, try again in a moment"
    (the 500 page's words, for any status without its own)."""
    response = phones["foreman"].post(f"/s/{world.site.id}/alerts/new", data={
        "uuid": str(uuid.uuid4()), "title": "Crane lift", "body": "Keep clear", "level": "warning"})
    assert response.status_code == 303
    alert = Alert.select().order_by(Alert.id.desc()).get()
    refused = phones["foreman"].post(f"/s/{world.site.id}/alerts/{alert.id}/lift")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Ingenting ble endret" in page
    assert "ikke din feil" not in page and Alert.get_by_id(alert.id).lifted_at is None
