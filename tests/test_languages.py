"""Every worker in their own language (issue 17): the five languages, content named per language, alerts in each
recipient's language, the language confirmed at first sign-in, and dates and numbers in the reader's locale."""
import importlib.util
import re
import uuid
from datetime import date, datetime

import pytest
from flask_babel import force_locale, format_date, format_datetime, format_decimal, ngettext
from helpers import PIN, add_person, code_from, subscribe
from peewee_migrate import Router

from fieldapp.config import LANGUAGE_NAMES, PROJECT_ROOT
from fieldapp.db import database
from fieldapp.alerts import delivery
from fieldapp.alerts.wording import templates as alert_templates
from fieldapp.alerts.wording import wording
from fieldapp.checkin.equipment import LABELS as equipment_labels
from fieldapp.reports import labels
from fieldapp.models import Alert, AuditEvent, Equipment, SiteEquipment, User
from fieldapp.templating import plural_forms


def speaks(world, role, language):
    User.update(language=language).where(User.id == world.people[role].id).execute()


# --- the languages --------------------------------------------------------------------------------------

def test_the_five_languages_are_listed_once_by_their_own_names(app):
    assert LANGUAGE_NAMES == {"nb": "Norsk bokmål", "en": "English", "pl": "Polski", "lt": "Lietuvių",
                              "uk": "Українська"}
    assert app.config["LANGUAGES"] == ("nb", "en", "pl", "lt", "uk")


@pytest.mark.parametrize("language, month, decimal", [
    ("nb", "mars", "7,5"), ("en", "March", "7.5"), ("pl", "marca", "7,5"), ("lt", "kovo", "7,5"),
    ("uk", "березня", "7,5")])
def test_dates_times_and_numbers_follow_the_readers_locale(app, language, month, decimal):
    with app.test_request_context(), force_locale(language):
        assert month in format_date(date(2026, 3, 5), "long")
        assert format_decimal(7.5, format="#,##0.0") == decimal
        stamp = format_datetime(datetime(2026, 3, 5, 13, 5), "short")  # stored UTC, shown in Europe/Oslo
        assert "14:05" in stamp if language != "en" else "2:05" in stamp


@pytest.mark.parametrize("language, samples", [
    ("pl", {"one": 1, "few": 2, "many": 5}), ("uk", {"one": 1, "few": 2, "many": 5}),
    ("lt", {"one": 1, "few": 2, "other": 0}), ("nb", {"one": 1, "other": 0}), ("en", {"one": 1, "other": 0})])
def test_a_count_counted_on_the_phone_gets_every_plural_form(app, language, samples):
    """The outbox bar counts on the phone: the page carries each CLDR form (Polish 1 / 2-4 / 5+)."""
    with app.test_request_context(), force_locale(language):
        def make(n):
            return ngettext("%(num)d person on site", "%(num)d people on site", n)

        forms = plural_forms(make)
        assert set(forms) == set(samples)
        # Each form is the catalogue's for a number of its category (Polish 5 and 0 are both "many").
        assert all(forms[category].split(" ", 1)[1] == make(n).split(" ", 1)[1] for category, n in samples.items())
        words = {text.split(" ", 1)[1] for text in forms.values()}  # the count's word, without the count
        assert len(words) == (3 if language in ("pl", "uk", "lt") else 2)  # osoba / osoby / osób


def test_the_outbox_bar_carries_the_plural_forms_as_json(as_role, world):
    speaks(world, "worker", "pl")
    page = as_role("worker").get("/").get_data(as_text=True)
    assert "data-waiting='{" in page and '"many"' in page and "data-signout-one" not in page


# --- content an organization names ----------------------------------------------------------------------

def test_the_manager_names_equipment_per_language_and_sees_what_is_missing(as_role, world):
    manager = as_role("manager")
    settings = f"/s/{world.site.id}/checkin-settings"
    response = manager.post(f"/s/{world.site.id}/equipment", data={"name_nb": "Sveisemaske",
                                                                   "name_pl": "Maska spawalnicza"})
    assert response.status_code == 303
    (item,) = Equipment.select().where(~Equipment.builtin)
    assert item.names == {"nb": "Sveisemaske", "pl": "Maska spawalnicza"}
    page = manager.get(settings).get_data(as_text=True)
    assert "Mangler: English, Lietuvių, Українська" in page
    # Each reader gets theirs, else bokmål: a Polish worker, a Lithuanian one.
    Equipment.update(names=item.names).where(Equipment.id == item.id).execute()
    SiteEquipment.create(site=world.site, equipment=item)
    speaks(world, "worker", "pl")
    assert "Maska spawalnicza" in as_role("worker").get(f"/s/{world.site.id}/checkin").get_data(as_text=True)
    speaks(world, "worker", "lt")
    lithuanian = as_role("worker").get(f"/s/{world.site.id}/checkin").get_data(as_text=True)
    assert "Sveisemaske" in lithuanian and "Maska spawalnicza" not in lithuanian
    # The missing ones are added later; the audit trail keeps both versions.
    every = {"name_nb": "Sveisemaske", "name_en": "Welding mask", "name_pl": "Maska spawalnicza",
             "name_lt": "Suvirinimo kaukė", "name_uk": "Зварювальна маска"}
    assert manager.post(f"/s/{world.site.id}/equipment/{item.key}", data=every).status_code == 303
    assert "Suvirinimo kaukė" in as_role("worker").get(f"/s/{world.site.id}/checkin").get_data(as_text=True)
    assert "Mangler:" not in manager.get(settings).get_data(as_text=True)
    assert AuditEvent.select().where(AuditEvent.action == "equipment.rename").count() == 1


@pytest.mark.parametrize("data, status, words", [
    ({"name_nb": "", "name_en": "  "}, 422, "minst ett språk"),
    ({"name_pl": "x" * 81}, 422, "høyst 80 tegn"),
])
def test_bad_equipment_names_get_a_clear_message_and_save_nothing(as_role, world, data, status, words):
    response = as_role("manager").post(f"/s/{world.site.id}/equipment", data=data)
    assert response.status_code == status and words in response.get_data(as_text=True)
    assert Equipment.select().where(~Equipment.builtin).count() == 0


def test_only_the_organizations_own_equipment_can_be_renamed(as_role, world):
    manager = as_role("manager")
    response = manager.post(f"/s/{world.site.id}/equipment/helmet", data={"name_nb": "Lue"})
    assert response.status_code == 404
    assert as_role("outsider").post(f"/s/{world.site.id}/equipment/helmet", data={"name_nb": "Lue"}).status_code == 404


def load_migration(name):
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / f"migrations/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(step, module, migrator):
    """One step of a migration with peewee-migrate's state of the models after every migration done."""
    getattr(module, step)(migrator, database)
    with database.atomic():
        migrator()


def test_migration_012_moves_the_two_name_columns_into_names_and_back(app, world):
    module = load_migration("012_languages")
    item = Equipment.create(key="custom-1", organization=world.org, names={"nb": "Sveisemaske", "en": "Welding mask"})
    only_nb = Equipment.create(key="custom-2", organization=world.org, names={"nb": "Stillasnøkkel"})
    migrator = Router(database.obj, migrate_dir=str(PROJECT_ROOT / "migrations"), ignore=["basemodel"]).migrator
    run("rollback", module, migrator)
    rows = {key: (nb, en) for key, nb, en in database.execute_sql(
        "SELECT key, name_nb, name_en FROM equipment").fetchall() if key.startswith("custom-")}
    assert rows == {"custom-1": ("Sveisemaske", "Welding mask"), "custom-2": ("Stillasnøkkel", None)}
    run("migrate", module, migrator)
    names = {e.key: e.names for e in Equipment.select().where(Equipment.id.in_([item.id, only_nb.id]))}
    assert names == {"custom-1": {"nb": "Sveisemaske", "en": "Welding mask"}, "custom-2": {"nb": "Stillasnøkkel"}}
    assert all(e.names == {} for e in Equipment.select().where(Equipment.builtin))


# --- alerts in each recipient's language ----------------------------------------------------------------

@pytest.fixture
def phones(as_role, push_service, world):
    """The worker reads Polish, the foreman English, the manager Ukrainian; the verneombud writes in bokmål."""
    speaks(world, "worker", "pl")
    speaks(world, "foreman", "en")
    speaks(world, "manager", "uk")
    clients = {}
    for role in ("worker", "foreman", "verneombud", "manager"):
        clients[role] = as_role(role)
        subscribe(clients[role], push_service, role)
    return clients


def test_the_compose_form_shows_the_languages_the_recipients_read_with_counts(world, phones):
    page = phones["verneombud"].get(f"/s/{world.site.id}/alerts/new").get_data(as_text=True)
    for code in ("pl", "en", "uk"):
        assert f'data-language="{code}"' in page and f'name="title_{code}"' in page
    assert 'data-language="nb"' not in page  # the sender is the only one who reads bokmål
    assert 'name="title_nb"' not in page  # the sender's own language is the main fields
    row = page.split('data-language="pl">')[1].split("</li>")[0]
    counts = [part.split(": ")[-1] for part in re.findall(r'class="count-\w+">([^<]*)<', row)]
    assert counts == ["1", "0", "0"]  # everyone / checked in / foremen


def test_a_free_text_alert_reaches_each_reader_in_the_language_the_sender_gave(world, phones, push_service):
    response = phones["verneombud"].post(f"/s/{world.site.id}/alerts/new", data={
        "uuid": str(uuid.uuid4()), "level": "warning", "title": "Glatt stillas", "body": "Is på stillaset i dag.",
        "title_pl": "Śliskie rusztowanie", "body_pl": "Lód na rusztowaniu dzisiaj."})
    assert response.status_code == 303
    alert = Alert.get()
    assert alert.language == "nb" and alert.texts == {"pl": {"title": "Śliskie rusztowanie",
                                                             "body": "Lód na rusztowaniu dzisiaj."}}
    polish = push_service.for_device("worker")[0]["payload"]
    assert polish["title"] == "Śliskie rusztowanie" and polish["body"] == "Lód na rusztowaniu dzisiaj."
    # No English text given: the original, with a note in English naming its language.
    english = push_service.for_device("foreman")[0]["payload"]
    assert english["title"] == "Glatt stillas"
    assert english["body"].startswith("(Written in Norsk bokmål") and "Is på stillaset i dag." in english["body"]
    # The inbox and the alert's page read the same.
    assert "Śliskie rusztowanie" in phones["worker"].get("/alerts").get_data(as_text=True)
    page = phones["foreman"].get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "Written in Norsk bokmål" in page
    sender = phones["verneombud"].get(f"/s/{world.site.id}/alerts/{alert.id}").get_data(as_text=True)
    assert "Is på stillaset i dag." in sender and "Skrevet på" not in sender


def test_a_half_given_translation_is_refused_and_nothing_is_sent(world, phones, push_service):
    response = phones["verneombud"].post(f"/s/{world.site.id}/alerts/new", data={
        "uuid": str(uuid.uuid4()), "level": "info", "title": "Møte", "body": "Kl 12 i brakka.", "title_uk": "Нарада"})
    assert response.status_code == 422
    assert "både tittel og tekst" in response.get_data(as_text=True)
    assert Alert.select().count() == 0 and push_service.for_device("manager") == []


def test_a_ready_made_alert_with_added_words_gives_each_reader_theirs(world, phones, push_service):
    phones["verneombud"].post(f"/s/{world.site.id}/alerts/new", data={
        "uuid": str(uuid.uuid4()), "template": "stop_work", "area": "Blokk B", "body": "Vent ved porten.",
        "body_uk": "Чекайте біля воріт."})
    ukrainian = push_service.for_device("manager")[0]["payload"]
    assert "Чекайте біля воріт." in ukrainian["body"] and "Vent ved porten." not in ukrainian["body"]
    assert ukrainian["title"] != "STANS ARBEIDET: umiddelbar fare"  # the catalogue's Ukrainian
    polish = push_service.for_device("worker")[0]["payload"]
    assert "Vent ved porten." in polish["body"]


def test_escalation_reaches_managers_in_their_own_language(app, world, phones, push_service):
    phones["verneombud"].post(f"/s/{world.site.id}/alerts/new", data={
        "uuid": str(uuid.uuid4()), "template": "crane_lift", "area": "Kran 2", "audience": "foremen"})
    alert = Alert.get()
    with app.app_context():
        delivery.escalate(now=alert.ack_deadline)
        delivery.deliver(alert.id)
    told = push_service.for_device("manager")
    assert told and told[-1]["payload"]["title"].startswith("Foreman Person: ")
    with app.test_request_context(), force_locale("uk"):
        assert told[-1]["payload"]["title"] == "Foreman Person: " + wording(alert)[0]


# --- the language chosen at first sign-in -------------------------------------------------------------

def test_first_sign_in_offers_the_browsers_language_and_one_tap_confirms_it(app, world):
    User.update(language_confirmed_at=None).where(User.id == world.people["worker"].id).execute()
    phone = app.test_client()
    polish = {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}
    assert '<html lang="pl">' in phone.get("/sign-in", headers=polish).get_data(as_text=True)  # follows the browser
    response = phone.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": PIN}, headers=polish)
    assert response.status_code == 303 and response.headers["Location"].startswith("/welcome/language?lang=pl")
    page = phone.get(response.headers["Location"], headers=polish).get_data(as_text=True)
    assert '<html lang="pl">' in page and 'id="confirm-language"' in page and 'value="pl"' in page
    confirmed = phone.post("/welcome/language", data={"language": "pl", "next": "/"})
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/"
    person = User.get_by_id(world.people["worker"].id)
    assert person.language == "pl" and person.language_confirmed_at is not None
    assert '<html lang="pl">' in phone.get("/").get_data(as_text=True)
    # Once chosen, signing in goes straight on, whatever the browser says.
    again = app.test_client().post("/sign-in", data={"phone": person.phone, "secret": PIN},
                                   headers={"Accept-Language": "uk"})
    assert again.headers["Location"] == "/"


def test_another_language_can_be_chosen_instead_and_the_profile_changes_it(app, as_role, world):
    User.update(language_confirmed_at=None).where(User.id == world.people["foreman"].id).execute()
    client = as_role("foreman")
    page = client.get("/welcome/language?lang=nb&next=/alerts").get_data(as_text=True)
    assert all(f'value="{code}"' in page for code in LANGUAGE_NAMES)
    assert client.post("/welcome/language", data={"language": "lt", "next": "/alerts"}).headers["Location"] == "/alerts"
    assert User.get_by_id(world.people["foreman"].id).language == "lt"
    assert client.post("/me/language", data={"language": "uk"}).status_code == 303
    assert '<html lang="uk">' in client.get("/me").get_data(as_text=True)
    assert client.post("/welcome/language", data={"language": "xx"}).status_code == 400
    assert User.get_by_id(world.people["foreman"].id).language == "uk"


# --- built-in content through the catalogues ----------------------------------------------------------------

def builtin_texts():
    """{(what, key): text} of the built-in content in the current language."""
    texts = {("equipment", key): str(text) for key, text in equipment_labels.items()}
    texts.update({("kind", key): str(text) for key, text in labels.kinds().items()})
    texts.update({("category", key): str(text) for key, text in labels.categories().items()})
    for key, (_level, title, text) in alert_templates().items():
        texts[("alert title", key)] = str(title("X"))
        texts[("alert text", key)] = str(text("X"))
    return texts


@pytest.mark.parametrize("language", ["nb", "pl", "lt", "uk"])
def test_built_in_content_is_worded_in_every_language(app, language):
    """Equipment, report kinds and categories and the alert templates come from the catalogues: each text in
    `language` is the catalogue's own (never the English msgid, unless the catalogue says the same)."""
    with app.test_request_context():
        with force_locale("en"):
            english = builtin_texts()
        with force_locale(language):
            translated = builtin_texts()
    same = [key for key in english if translated[key] == english[key]]
    assert not same, f"{language}: still in English: {same}"


def test_enrollment_follows_the_browser_and_proposes_its_language(app, as_role, world):
    code = code_from(add_person(as_role("manager"), world.site, employer=str(world.org.id)))
    phone = app.test_client()
    ukrainian = {"Accept-Language": "uk-UA,uk;q=0.9"}
    assert '<html lang="uk">' in phone.get("/enroll", headers=ukrainian).get_data(as_text=True)
    step1 = phone.post("/enroll", data={"code": code}, headers=ukrainian)
    assert '<html lang="uk">' in step1.get_data(as_text=True)
    done = phone.post("/enroll/pin", data={"code": code, "secret": "584027", "confirm": "584027"}, headers=ukrainian)
    assert done.headers["Location"].startswith("/welcome/language?lang=uk")
    person = User.get(User.phone == "+4745000001")
    assert person.language_confirmed_at is None  # proposed, not yet confirmed
    assert phone.post("/welcome/language", data={"language": "uk", "next": "/?welcome=1"}).status_code == 303
    assert User.get_by_id(person.id).language == "uk"


def test_after_sign_out_the_sign_in_page_keeps_the_persons_language(world, as_role):
    # A Polish worker on a phone whose browser asks for Norwegian: the page after signing out stays Polish.
    User.update(language="pl").where(User.id == world.people["worker"].id).execute()
    worker = as_role("worker")
    response = worker.post("/sign-out", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert response.status_code == 303
    page = worker.get(response.headers["Location"], headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert '<html lang="pl">' in page.get_data(as_text=True)
    assert worker.get("/me").status_code == 302  # signed out all the same
