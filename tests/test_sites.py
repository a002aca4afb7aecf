"""Managers create and edit sites and give people roles; every change leaves an audit event."""
import pytest
from flask_babel import force_locale

from fieldapp.models import ROLES, AuditEvent, Membership, Site, User
from fieldapp.sites.forms import role_label, role_names


def test_org_admin_creates_a_site_and_becomes_its_manager(as_role, world):
    manager = as_role("manager")
    response = manager.post("/sites/new", data={"name": "Ny skole", "address": "Skoleveien 1, Bergen",
                                                "project_number": "P-9", "client_name": "Bergen kommune"})
    assert response.status_code == 303
    site = Site.get(Site.name == "Ny skole")
    assert site.organization == world.org and len(site.qr_token) >= 20
    assert Membership.get(site=site).role == "manager"
    assert manager.get(response.headers["Location"]).status_code == 200
    event = AuditEvent.get(AuditEvent.action == "site.create")
    assert event.actor_id == world.people["manager"].id and '"Ny skole"' in event.after


def test_site_form_errors_are_shown(as_role, world):
    response = as_role("manager").post("/sites/new", data={"name": "", "address": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Gi byggeplassen et navn." in page and "Skriv inn adressen til byggeplassen." in page
    assert Site.select().count() == 2


def test_manager_edits_the_site_and_the_change_is_audited(as_role, world):
    response = as_role("manager").post(f"/s/{world.site.id}/edit",
                                       data={"name": "Site A2", "address": "Gate 1, Oslo", "active": "y"})
    assert response.status_code == 303
    assert Site.get_by_id(world.site.id).name == "Site A2"
    event = AuditEvent.get(AuditEvent.action == "site.update")
    assert '"Site A"' in event.before and '"Site A2"' in event.after


def test_role_change_with_htmx_returns_the_person_fragment(as_role, world):
    worker = world.people["worker"]
    response = as_role("manager").post(f"/s/{world.site.id}/people/{worker.id}/role", data={"role": "foreman"},
                                       headers={"HX-Request": "true", "HX-Target": "person"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card" id="person">') and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]
    assert Membership.get(user=worker, site=world.site).role == "foreman"
    event = AuditEvent.get(AuditEvent.action == "membership.role")
    assert event.before == '{"role": "worker"}' and event.after == '{"role": "foreman"}'


def test_role_change_without_javascript_redirects_back(as_role, world):
    worker = world.people["worker"]
    response = as_role("manager").post(f"/s/{world.site.id}/people/{worker.id}/role", data={"role": "verneombud"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{world.site.id}/people/{worker.id}"


def test_unknown_role_is_explained_not_a_500(as_role, world):
    worker = world.people["worker"]
    response = as_role("manager").post(f"/s/{world.site.id}/people/{worker.id}/role", data={"role": "boss"})
    assert response.status_code == 422 and "Velg en rolle fra listen." in response.get_data(as_text=True)
    assert Membership.get(user=worker, site=world.site).role == "worker"


def test_the_last_manager_cannot_be_removed_or_demoted(as_role, world):
    manager = world.people["manager"]
    client = as_role("manager")
    demote = client.post(f"/s/{world.site.id}/people/{manager.id}/role", data={"role": "worker"},
                         headers={"HX-Request": "true"})
    assert demote.status_code == 409
    assert "minst én leder" in demote.get_data(as_text=True)
    remove = client.post(f"/s/{world.site.id}/people/{manager.id}/remove", headers={"HX-Request": "true"})
    assert remove.status_code == 409
    assert Membership.get(user=manager, site=world.site).role == "manager"
    # With a second manager, the first may step down.
    world.person("+4791000008", "Second Manager", "manager", world.site)
    assert client.post(f"/s/{world.site.id}/people/{manager.id}/role", data={"role": "worker"}).status_code == 303


def test_remove_person_from_site(as_role, world):
    worker = world.people["worker"]
    response = as_role("manager").post(f"/s/{world.site.id}/people/{worker.id}/remove")
    assert response.status_code == 303 and response.headers["Location"] == f"/s/{world.site.id}/people"
    assert not Membership.select().where((Membership.user == worker) & (Membership.site == world.site)).exists()
    assert AuditEvent.get(AuditEvent.action == "membership.delete").before is not None


def test_home_shows_what_the_role_needs(as_role, world):
    worker_home = as_role("worker").get("/").get_data(as_text=True)
    assert "Meld fra om fare" in worker_home and "Personer på byggeplassen" not in worker_home
    manager_home = as_role("manager").get("/").get_data(as_text=True)
    assert "Personer på byggeplassen" in manager_home and "Ny byggeplass" in manager_home
    foreman_home = as_role("foreman").get("/").get_data(as_text=True)
    assert "Legg til en person" in foreman_home and "Endre byggeplassen" not in foreman_home


def test_people_list_shows_hms_card_state(as_role, world):
    from datetime import date

    from fieldapp.models import User

    User.update(hms_card_number=None).where(User.id == world.people["worker"].id).execute()
    User.update(hms_card_expiry=date(2020, 1, 1)).where(User.id == world.people["foreman"].id).execute()
    page = as_role("manager").get(f"/s/{world.site.id}/people").get_data(as_text=True)
    assert "mangler" in page and "utløpt" in page
    person = as_role("foreman").get(f"/s/{world.site.id}/people/{world.people['foreman'].id}")
    assert "utløpt" in person.get_data(as_text=True)


def test_person_page_shows_actions_by_role(as_role, world):
    worker = world.people["worker"]
    path = f"/s/{world.site.id}/people/{worker.id}"
    manager_view = as_role("manager").get(path).get_data(as_text=True)
    assert "Endre rolle" in manager_view and "Fjern fra byggeplassen" in manager_view
    assert "Ny innloggingskode" in manager_view
    foreman_view = as_role("foreman").get(path).get_data(as_text=True)
    assert "Ny innloggingskode" in foreman_view and "Endre rolle" not in foreman_view
    verneombud_view = as_role("verneombud").get(path).get_data(as_text=True)
    assert worker.phone in verneombud_view and "Ny innloggingskode" not in verneombud_view


def test_foreman_updates_a_persons_hms_card(as_role, world):
    from datetime import date

    from fieldapp.models import User

    worker = world.people["worker"]
    foreman = as_role("foreman")
    path = f"/s/{world.site.id}/people/{worker.id}"
    assert "Oppdater HMS-kortet" in foreman.get(path).get_data(as_text=True)
    response = foreman.post(path + "/hms-card", data={"hms_card_number": "HMS999", "hms_card_expiry": "2029-03-31"})
    assert response.status_code == 303
    saved = User.get_by_id(worker.id)
    assert (saved.hms_card_number, saved.hms_card_expiry) == ("HMS999", date(2029, 3, 31))
    event = AuditEvent.get(AuditEvent.action == "user.hms_card")
    assert '"HMS123"' in event.before and '"HMS999"' in event.after
    bad = foreman.post(path + "/hms-card", data={"hms_card_number": "x", "hms_card_expiry": "31.03.2029"})
    assert bad.status_code == 422 and User.get_by_id(worker.id).hms_card_number == "HMS999"
    # 0001-01-01 was saved, and the worker's next check-in was refused as "card expired".
    for absurd in ("0001-01-01", "9999-12-31"):
        refused = foreman.post(path + "/hms-card", data={"hms_card_number": "x", "hms_card_expiry": absurd})
        assert refused.status_code == 422 and "Oppgi en dato fra" in refused.get_data(as_text=True)
    assert (User.get_by_id(worker.id).hms_card_number, User.get_by_id(worker.id).hms_card_expiry) == (
        "HMS999", date(2029, 3, 31))


def test_the_people_list_shows_changes_at_once_although_rows_are_cached(as_role, world, app):
    client = as_role("manager")
    path = f"/s/{world.site.id}/people"
    assert "Worker Person" in client.get(path).get_data(as_text=True)
    User.update(name="Renamed Worker", hms_card_number=None).where(User.id == world.people["worker"].id).execute()
    page = client.get(path).get_data(as_text=True)
    assert "Renamed Worker" in page and "Worker Person" not in page
    client.post("/me/language", data={"language": "en"})
    page = client.get(path).get_data(as_text=True)
    assert "Renamed Worker" in page and "HMS card: <span class=\"badge warn\">missing</span>" in page


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_list_s_role_names_are_the_role_labels(app, language):
    """role_names (the people list, translated once per page) words each role as role_label does."""
    with app.test_request_context(), force_locale(language):
        names = role_names()
        assert names == {role: str(role_label(role)) for role in ROLES}
        assert language != "nb" or names["foreman"] == "Bas/formann"


def test_every_field_message_is_announced_like_the_others(as_role, world):
    # The HMS card's message (the field macro) had no role="alert", unlike input_error's, so a screen reader
    # did not say why nothing was saved.
    worker = world.people["worker"]
    page = as_role("foreman").post(f"/s/{world.site.id}/people/{worker.id}/hms-card", data={
        "hms_card_number": "x", "hms_card_expiry": "0001-01-01"}).get_data(as_text=True)
    assert '<p class="error" id="hms_card_expiry-error" role="alert">' in page
