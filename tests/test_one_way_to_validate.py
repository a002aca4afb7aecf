"""One way to validate (issue 15): sign-in, enrollment, the profile, sites and people read their forms with
fieldapp.inputs like every other feature. Each field's problem is told beside that field, in the person's
language, with a 4xx, and nothing is saved; no WTForms form class is left in fieldapp/."""
import ast
import html
import re
from pathlib import Path

import pytest
from helpers import add_person, code_from

from fieldapp.config import PROJECT_ROOT
from fieldapp.models import AuditEvent, DeviceSession, Site, User

FIELDAPP = Path(__file__).resolve().parent.parent / "fieldapp"


def beside(page, field):
    """The message shown beside a field (the error paragraph the field's aria-describedby names), or None."""
    found = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def speaks(user, language):
    User.update(language=language).where(User.id == user.id).execute()


def test_no_wtforms_form_class_is_left_in_the_app():
    """A FlaskForm/wtforms.Form subclass, or an import of wtforms or flask_wtf's forms, would be a second way to
    validate. Flask-WTF's CSRF protection (flask_wtf.csrf) stays: that is not validation."""
    offenders = []
    for path in FIELDAPP.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    node.module.split(".")[0] == "wtforms" or
                    (node.module.split(".")[0] == "flask_wtf" and node.module != "flask_wtf.csrf")):
                offenders.append(f"{path.name}: from {node.module} import ...")
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] in ("wtforms", "flask_wtf")
                                                    for a in node.names):
                offenders.append(f"{path.name}: import ...")
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base).split(".")[-1] for base in node.bases}
                if bases & {"FlaskForm", "Form", "BaseForm"}:
                    offenders.append(f"{path.name}: class {node.name}")
    assert offenders == []


# Where fromisoformat may read text that no person typed: the phone's own timestamps (phone_time), anchor files,
# the timeline's JSON (clock), and a date column SQLite hands back as text (the line checks isinstance(..., str)).
FROMISOFORMAT_ALLOWED = {"inputs.py", "phone_time.py", "anchors.py", "clock.py"}


def fromisoformat_offenders(root):
    offenders = []
    for path in root.rglob("*.py"):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if "fromisoformat(" in line and path.name not in FROMISOFORMAT_ALLOWED and not (
                    number and "isinstance(" in lines[number - 1] and ", str)" in lines[number - 1]):
                offenders.append(f"{path.relative_to(root)}:{number + 1}")
    return offenders


def test_typed_dates_are_read_one_way():
    """Every date a person types goes through inputs.iso_date/iso_local_time (or FormReader.date): fromisoformat
    itself also reads 20261201 and the week date 2026-W49-2 as 1 December."""
    assert fromisoformat_offenders(FIELDAPP) == []


def test_the_date_check_itself_would_find_a_stray_fromisoformat(tmp_path):
    (tmp_path / "views.py").write_text("day = date.fromisoformat(request.form['day'])\n")
    (tmp_path / "service.py").write_text("if isinstance(day, str):\n    day = date.fromisoformat(day)\n")
    assert fromisoformat_offenders(tmp_path) == ["views.py:1"]


def test_the_check_itself_would_find_a_form_class(tmp_path):
    """The scan above is not blind: the shape of the old forms is found by the same rules."""
    tree = ast.parse("from flask_wtf import FlaskForm\nclass SiteForm(FlaskForm):\n    pass\n")
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
               and {ast.unparse(b) for b in n.bases} & {"FlaskForm"}]
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "flask_wtf"]
    assert classes and imports


# --- sign-in and enrollment (no one signed in: the language chosen on the phone) ---------------------

@pytest.mark.parametrize("language,data,field,words", [
    ("nb", {"phone": "", "secret": "584027"}, "phone", "Skriv inn telefonnummeret ditt."),
    ("en", {"phone": "", "secret": "584027"}, "phone", "Enter your phone number."),
    ("nb", {"phone": "91000001", "secret": ""}, "secret", "Skriv inn PIN-kode eller passord."),
    ("en", {"phone": "91000001", "secret": ""}, "secret", "Enter your PIN or password."),
    ("nb", {"phone": "9" * 41, "secret": "584027"}, "phone", "Bruk høyst 40 tegn."),
    ("en", {"phone": "91000001", "secret": "x" * 201}, "secret", "Use at most 200 characters."),
])
def test_sign_in_fields_are_explained_beside_the_field(client, world, language, data, field, words):
    client.post("/language", data={"language": language})
    response = client.post("/sign-in", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and words in (beside(page, field) or "")
    assert 'class="error banner"' not in page  # beside the field, not also above the form
    assert DeviceSession.select().count() == 0
    assert 'value="584027"' not in page and 'value="xxx' not in page  # a secret is never sent back


def test_sign_in_keeps_the_typed_phone_number_when_the_secret_is_missing(client, world):
    page = client.post("/sign-in", data={"phone": "910 00 001", "secret": ""}).get_data(as_text=True)
    assert 'value="910 00 001"' in page


def test_a_secret_with_spaces_is_taken_as_typed(app, client, world):
    """Spaces count in a password: the reader does not strip them (a stripped secret would not match)."""
    response = client.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": " 584027 "})
    assert response.status_code == 401


@pytest.mark.parametrize("language,words", [("nb", "Skriv inn koden du fikk."),
                                            ("en", "Enter the code you were given.")])
def test_an_empty_enrollment_code_is_explained_beside_the_field(client, language, words):
    client.post("/language", data={"language": language})
    response = client.post("/enroll", data={"code": " "})
    assert response.status_code == 422 and beside(response.get_data(as_text=True), "code") == words


@pytest.mark.parametrize("data,field,words", [
    ({"secret": "", "confirm": ""}, "secret", "Velg en PIN-kode eller et passord."),
    ({"secret": "584027", "confirm": "584028"}, "confirm", "De to er ikke like."),
    ({"secret": "123456", "confirm": "123456"}, "secret", "for lett å gjette"),
    ({"secret": "x" * 201, "confirm": "x" * 201}, "secret", "høyst 200 tegn"),
])
def test_a_new_pin_is_explained_beside_its_field_and_the_code_stays_unused(app, as_role, world, data, field,
                                                                           words):
    code = code_from(add_person(as_role("manager"), world.site, employer=str(world.org.id)))
    phone = app.test_client()
    response = phone.post("/enroll/pin", data={"code": code, **data})
    assert response.status_code == 422 and words in (beside(response.get_data(as_text=True), field) or "")
    assert User.get(User.phone == "+4745000001").password_hash is None
    # The code still works: nothing was used up by the refused attempt.
    ok = phone.post("/enroll/pin", data={"code": code, "secret": "584027", "confirm": "584027"})
    assert ok.status_code == 303


def test_an_unknown_language_is_refused_on_the_profile(as_role, world):
    worker = as_role("worker")
    response = worker.post("/me/language", data={"language": "xx"})
    assert response.status_code == 422 and beside(response.get_data(as_text=True), "language") == \
        "Velg et språk fra listen."
    assert User.get_by_id(world.people["worker"].id).language == "nb"
    assert worker.post("/me/language", data={"language": "en"}).status_code == 303
    assert User.get_by_id(world.people["worker"].id).language == "en"


# --- sites --------------------------------------------------------------------------------------

@pytest.mark.parametrize("language,data,field,words", [
    ("nb", {"name": "", "address": "Gate 3"}, "name", "Gi byggeplassen et navn."),
    ("en", {"name": "", "address": "Gate 3"}, "name", "Give the site a name."),
    ("nb", {"name": "Ny skole", "address": ""}, "address", "Skriv inn adressen til byggeplassen."),
    ("en", {"name": "Ny skole", "address": ""}, "address", "Enter the site's address."),
    ("nb", {"name": "x" * 201, "address": "Gate 3"}, "name", "Bruk høyst 200 tegn."),
    ("en", {"name": "Ny skole", "address": "x" * 301}, "address", "Use at most 300 characters."),
    ("en", {"name": "Ny skole", "address": "Gate 3", "project_number": "9" * 51}, "project_number",
     "Use at most 50 characters."),
    ("nb", {"name": "Ny skole", "address": "Gate 3", "client_name": "x" * 201}, "client_name",
     "Bruk høyst 200 tegn."),
])
def test_new_site_fields_are_explained_beside_the_field(as_role, world, language, data, field, words):
    speaks(world.people["manager"], language)
    manager = as_role("manager")
    events = AuditEvent.select().count()
    response = manager.post("/sites/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and words in (beside(page, field) or "")
    assert f'value="{data["name"]}"' in page  # what was typed stays in the form
    assert Site.select().count() == 2 and AuditEvent.select().count() == events


def test_every_problem_of_a_site_form_is_shown_at_once(as_role, world):
    page = as_role("manager").post("/sites/new", data={"name": "", "address": ""}).get_data(as_text=True)
    assert beside(page, "name") == "Gi byggeplassen et navn."
    assert beside(page, "address") == "Skriv inn adressen til byggeplassen."


def test_editing_a_site_checks_the_same_fields_and_saves_nothing_when_wrong(as_role, world):
    manager = as_role("manager")
    path = f"/s/{world.site.id}/edit"
    assert 'value="Site A"' in manager.get(path).get_data(as_text=True)
    response = manager.post(path, data={"name": "", "address": "Ny gate 9", "active": "y"})
    assert response.status_code == 422 and beside(response.get_data(as_text=True), "name") == \
        "Gi byggeplassen et navn."
    assert Site.get_by_id(world.site.id).address == "Gate 1, Oslo"
    assert manager.post(path, data={"name": "Site A2", "address": "Ny gate 9"}).status_code == 303
    saved = Site.get_by_id(world.site.id)
    assert (saved.name, saved.address, saved.active, saved.project_number) == ("Site A2", "Ny gate 9", False, None)


# --- people -------------------------------------------------------------------------------------

@pytest.mark.parametrize("language,overrides,field,words", [
    ("nb", {"name": ""}, "name", "Skriv inn navnet til personen."),
    ("en", {"name": ""}, "name", "Enter the person's name."),
    ("en", {"name": "x" * 201}, "name", "Use at most 200 characters."),
    ("nb", {"phone": ""}, "phone", "Skriv inn et mobilnummer."),
    ("en", {"phone": ""}, "phone", "Enter a mobile number."),
    ("en", {"phone": "12345678"}, "phone", "Not a mobile number."),
    ("en", {"phone": "+1234567"}, "phone", "Not a mobile number."),
    ("en", {"phone": "12"}, "phone", "Not a phone number."),
    ("en", {"role": "emperor"}, "role", "Choose a role from the list."),
    ("en", {"employer": ""}, "employer", "Choose the employer, or add a new one."),
    ("en", {"employer": "999999"}, "employer", "Choose the employer, or add a new one."),
    ("en", {"new_employer_name": "X AS"}, "new_employer_name",
     "A new employer needs both a name and an organisation number."),
    ("nb", {"new_employer_name": "X AS", "new_employer_org_number": "923609017"}, "new_employer_org_number",
     "Ikke et gyldig organisasjonsnummer"),
    ("en", {"hms_card_number": "x" * 41}, "hms_card_number", "Use at most 40 characters."),
    ("en", {"hms_card_expiry": "31.01.2028"}, "hms_card_expiry", "Give the date as year-month-day"),
    ("nb", {"hms_card_expiry": "2028-02-30"}, "hms_card_expiry", "Skriv datoen som år-måned-dag"),
    ("en", {"language": "xx"}, "language", "Choose a language from the list."),
])
def test_add_person_fields_are_explained_beside_the_field(as_role, world, language, overrides, field, words):
    speaks(world.people["manager"], language)
    manager = as_role("manager")
    users, events = User.select().count(), AuditEvent.select().count()
    response = add_person(manager, world.site, **{"employer": str(world.org.id), **overrides})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and words in (beside(page, field) or ""), page
    assert User.select().count() == users and AuditEvent.select().count() == events


def test_add_person_keeps_what_was_typed_and_tells_every_problem(as_role, world):
    page = add_person(as_role("manager"), world.site, name="", phone="12", hms_card_number="HMS42",
                      employer=str(world.org.id), role="foreman").get_data(as_text=True)
    assert beside(page, "name") and beside(page, "phone")
    assert 'value="HMS42"' in page and 'value="12"' in page
    assert re.search(rf'<option value="{world.org.id}" selected>', page)
    assert re.search(r'<option value="foreman" selected>', page)


def test_someone_already_on_the_site_is_told_beside_the_phone_number(as_role, world):
    response = add_person(as_role("manager"), world.site, phone=world.people["worker"].phone,
                          employer=str(world.org.id))
    assert response.status_code == 409
    assert beside(response.get_data(as_text=True), "phone") == "Denne personen er allerede på byggeplassen."


@pytest.mark.parametrize("data,field,words", [
    ({"hms_card_number": "x" * 41}, "hms_card_number", "Use at most 40 characters."),
    ({"hms_card_expiry": "2029-13-01"}, "hms_card_expiry", "Give the date as year-month-day"),
    ({"name": "x" * 201}, "name", "Use at most 200 characters."),
    ({"name": ""}, "name", "Enter the person's name."),
    ({"name": "\u200b\u202e"}, "name", "Enter the person's name."),  # was ignored: a 303 and the old name kept
])
def test_hms_card_fields_are_explained_beside_the_field(as_role, world, data, field, words):
    speaks(world.people["foreman"], "en")
    worker = world.people["worker"]
    response = as_role("foreman").post(f"/s/{world.site.id}/people/{worker.id}/hms-card", data=data)
    assert response.status_code == 422 and words in (beside(response.get_data(as_text=True), field) or "")
    saved = User.get_by_id(worker.id)
    assert (saved.name, saved.hms_card_number) == ("Worker Person", "HMS123")


# A checkbox in a plain ".field" is drawn like a text input: a wide box on a line of its own, away from its words
# (the injury form's "Fatal" box sat centred under its label at 360 px). Its field is ".field.checkbox": the box
# and its words on one line (static/css/app.css).
CHECKBOX_IN_A_PLAIN_FIELD = re.compile(r'class="field"[^>]*>\s*(?:<label[^>]*>\s*)?<input[^>]*type="checkbox"')


def test_every_checkbox_sits_beside_its_words():
    found = [str(path.relative_to(PROJECT_ROOT)) for path in (PROJECT_ROOT / "templates").rglob("*.html")
             if CHECKBOX_IN_A_PLAIN_FIELD.search(path.read_text())]
    assert found == []
    assert CHECKBOX_IN_A_PLAIN_FIELD.search('<div class="field"><label><input type="checkbox" name="fatal">')
