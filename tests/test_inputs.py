"""Bad input, one way (issue 15): one catalogue, messages whose numbers are the rules', errors beside the field,
in bokmål and English, with the statuses the outbox reads."""
import ast
import inspect
import re
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale

from fieldapp import clock, inputs, outbox
from fieldapp.models import Alert, Report, ReportEvent, Site, User, VerneombudHours
from fieldapp.reports import service as reports

FIELDAPP = Path(__file__).resolve().parent.parent / "fieldapp"


def speaks(world, role, language):
    User.update(language=language).where(User.id == world.people[role].id).execute()


@pytest.mark.parametrize("language,limit_words,wrong_words", [
    ("nb", "bruk høyst 2000 tegn", "1000"),
    ("en", "use at most 2000 characters", "1000"),
])
def test_a_comment_over_2000_characters_is_told_the_2000_limit_beside_the_box(world, as_role, language,
                                                                              limit_words, wrong_words):
    speaks(world, "worker", language)
    worker = as_role("worker")
    base = f"/s/{world.site.id}/reports/{world.report.id}"
    typed = "Rekkverket " + "x" * reports.MAX_TEXT
    response = worker.post(base + "/comment", data={"text": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    beside = re.search(r'<p class="error" id="comment-text-error"[^>]*>([^<]*)</p>', page)
    assert beside and limit_words in beside.group(1).lower() and wrong_words not in beside.group(1)
    assert 'class="error banner"' not in page
    # What was typed comes back in the comment box, to be shortened rather than typed again.
    box = re.search(r'<textarea id="comment-text"[^>]*>([^<]*)</textarea>', page)
    assert box and box.group(1) == typed
    assert ReportEvent.select().where(ReportEvent.kind == "comment").count() == 0
    # Exactly the number the message states is within the rule.
    assert worker.post(base + "/comment", data={"text": "x" * reports.MAX_TEXT}).status_code == 303


@pytest.mark.parametrize("path,box,data", [
    ("close", "action-text", {"text": ""}),  # no corrective action written yet
    ("action", "action-text", {"text": "Nytt rekkverk " + "y" * 2000}),
    ("comment", "comment-text", {"text": "   "}),
])
def test_a_refused_follow_up_text_is_told_beside_its_own_box_and_kept(world, as_role, path, box, data):
    foreman = as_role("foreman")
    response = foreman.post(f"/s/{world.site.id}/reports/{world.report.id}/{path}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    messages = re.findall(r'<p class="error[^"]*" id="([a-z-]+)-error"', page)
    assert messages == [box] and 'class="error banner"' not in page
    assert re.search(rf'id="{box}"[^>]*aria-invalid="true"', page)
    if data["text"].strip():
        assert data["text"] in page
    assert Report.get_by_id(world.report.id).status != "closed"


@pytest.mark.parametrize("language,words", [("nb", "bruk høyst 200 tegn"),
                                            ("en", "use at most 200 characters")])
def test_a_too_long_alert_area_is_told_beside_the_area_field(world, as_role, language, words):
    speaks(world, "foreman", language)
    response = as_role("foreman").post(f"/s/{world.site.id}/alerts/new", data={
        "uuid": str(uuid.uuid4()), "template": "crane_lift", "area": "x" * 201})
    assert response.status_code == 422 and Alert.select().count() == 0
    page = response.get_data(as_text=True)
    beside = re.search(r'<p class="error" id="area-error"[^>]*>([^<]*)</p>', page)
    assert beside and words in beside.group(1).lower()
    assert 'class="error banner"' not in page  # not also above the form


@pytest.mark.parametrize("language,words", [("nb", "velg hva det gjelder"), ("en", "pick what it is about")])
def test_a_report_without_category_is_told_beside_the_categories(world, as_role, language, words):
    speaks(world, "worker", language)
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "description": "Loose railing"})
    assert response.status_code == 422
    assert Report.select().count() == 1  # the world's own report only
    beside = re.search(r'<p class="error" id="category-error"[^>]*>([^<]*)</p>', response.get_data(as_text=True))
    assert beside and words in beside.group(1).lower()


def test_the_outbox_gets_the_same_status_and_message_in_plain_text(world, as_role):
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", headers={"X-Outbox": "1"}, data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls", "description": "x" * 1001})
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.get_data(as_text=True) == "Teksten er for lang. Bruk høyst 1000 tegn."


def test_a_damaged_uuid_gets_one_message_on_check_in_reports_and_alerts(world, as_role):
    worker, foreman = as_role("worker"), as_role("foreman")
    answers = [worker.post(f"/s/{world.site.id}/checkin", data={"uuid": "nope", "all_worn": "y"},
                           headers={"X-Outbox": "1"}),
               worker.post(f"/s/{world.site.id}/reports/new", data={"uuid": "nope", "category": "falls"},
                           headers={"X-Outbox": "1"}),
               foreman.post(f"/s/{world.site.id}/alerts/new", data={"uuid": "nope", "template": "weather"})]
    assert [a.status_code for a in answers] == [400, 400, 400]
    for answer in answers:
        assert "Skjemaet var ødelagt" in answer.get_data(as_text=True)


def test_a_uuid_of_another_scripts_digits_is_damaged():
    """uuid.UUID reads "٣" as 3: 32 of them were a UUID, and a comment was saved under 33333333-... ."""
    assert str(outbox.parse_uuid("3" * 32)) == "33333333-3333-3333-3333-333333333333"
    for raw in ("٣" * 32, "３" * 32):
        with pytest.raises(inputs.InputError) as refused:
            outbox.parse_uuid(raw)
        assert refused.value.reason == "bad_uuid"


@pytest.mark.parametrize("language,words", [("nb", "skriv inn navnet ditt"), ("en", "enter your name")])
def test_a_visitor_sees_each_problem_beside_its_field(client, world, language, words):
    Site.update(guests_allowed=True).where(Site.id == world.site.id).execute()
    response = client.post(f"/p/{world.site.qr_token}/guest", data={
        "uuid": str(uuid.uuid4()), "name": "", "employer": "Rådgiver AS", "org_number": "123", "all_worn": "y"},
        headers={"Accept-Language": language})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    name = re.search(r'<p class="error" id="name-error"[^>]*>([^<]*)</p>', page)
    assert name and words in name.group(1).lower()
    assert 'id="org_number-error"' in page and 'id="employer-error"' not in page


SCOPES = {"CheckInError": "checkin", "ReportError": "report", "AlertError": "alert"}


def raised_reasons():
    """(scope or None, reason) of every literal reason given to an InputError class in fieldapp/ (by ast)."""
    reasons = set()
    for path in FIELDAPP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("InputError", "CheckInError", "ReportError", "AlertError", "PhotoError", "PushError",
                            "Conflict"):
                    reasons.add((SCOPES.get(name), node.args[0].value))
    return reasons


def test_every_reason_the_code_raises_is_in_the_catalogue_and_in_both_languages(app):
    reasons = raised_reasons()
    assert {"bad_uuid", "too_long", "uuid_conflict", "already_member", "endpoint_taken"} <= {r for _s, r in reasons}
    def worded(status_and_text):  # a plural message worded for 2 (and any other count it names)
        text = status_and_text[1]
        if callable(text):
            return text(**{name: 2 for name in inspect.signature(text).parameters})
        return text

    with app.test_request_context():
        with force_locale("en"):
            english = {key: worded(message) for key, message in inputs.messages().items()}
        with force_locale("nb"):
            norwegian = {key: worded(message) for key, message in inputs.messages().items()}
    missing = [(scope, reason) for scope, reason in reasons
               if f"{scope}.{reason}" not in english and reason not in english]
    assert missing == []
    untranslated = [key for key in english if english[key] == norwegian[key]]
    assert untranslated == []


@pytest.mark.parametrize("language,words", [("nb", "fristen må være i dag eller senere"), ("en", "the deadline must be a date")])
def test_a_past_deadline_is_told_beside_the_deadline(world, as_role, language, words):
    speaks(world, "foreman", language)
    response = as_role("foreman").post(f"/s/{world.site.id}/reports/{world.report.id}/assign", data={
        "assignee": world.people["foreman"].id, "deadline": "2000-01-01"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    beside = re.search(r'<p class="error" id="deadline-error"[^>]*>([^<]*)</p>', page)
    assert beside and words in beside.group(1).lower()
    assert 'id="assignee-error"' not in page
    assert Report.get_by_id(world.report.id).assignee_id is None


def test_a_refused_assignment_keeps_the_person_and_date_chosen(world, as_role):
    # The new-user pass: the chosen person went back to "Choose a person" and the date was emptied.
    foreman = world.people["foreman"]
    response = as_role("foreman").post(f"/s/{world.site.id}/reports/{world.report.id}/assign", data={
        "assignee": foreman.id, "deadline": "9999-12-31"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'<option value="{foreman.id}" selected>', page)
    assert re.search(r'<input id="deadline" type="date" name="deadline" min="[0-9-]+" max="[0-9-]+" '
                     r'value="9999-12-31" aria-invalid="true"', page)


def test_a_deadline_that_is_no_date_is_told_so_not_that_it_is_past(world, as_role):
    # 2026-02-30 got "the deadline must be a date from today on": the wrong thing to correct.
    speaks(world, "foreman", "en")
    response = as_role("foreman").post(f"/s/{world.site.id}/reports/{world.report.id}/assign", data={
        "assignee": world.people["foreman"].id, "deadline": "2026-02-30"})
    beside = re.search(r'<p class="error" id="deadline-error"[^>]*>([^<]*)</p>', response.get_data(as_text=True))
    assert response.status_code == 422 and beside
    assert beside.group(1) == "Give the date as year-month-day, for example 2027-03-31."


@pytest.mark.parametrize("text, day", [("2026-12-01", date(2026, 12, 1)), (" 2026-12-01 ", date(2026, 12, 1)),
                                       ("20261201", None), ("2026-W49-2", None), ("2026-12-01T00:00", None),
                                       ("２０２６-１２-０１", None), ("2026-02-30", None), ("", None), (None, None)])
def test_a_date_is_only_what_the_date_field_sends(text, day):
    """Python 3.11 reads 20261201 and the week date 2026-W49-2 as 1 December: no person typed those meaning it."""
    if day is None:
        with pytest.raises(ValueError):
            inputs.iso_date(text)
    else:
        assert inputs.iso_date(text) == day


@pytest.mark.parametrize("text, ok", [("2026-12-01T10:30", True), ("2026-12-01T10:30:15", True),
                                      ("2026-12-01T10:30Z", False), ("2026-12-01T10:30+01:00", False),
                                      ("2026-12-01", False), ("20261201T1030", False), ("2026-W49-2T10:30", False)])
def test_a_local_time_is_only_what_the_datetime_field_sends(text, ok):
    if ok:
        assert inputs.iso_local_time(text) == datetime.fromisoformat(text)
    else:
        with pytest.raises(ValueError):
            inputs.iso_local_time(text)


# Another shape than the date field's (20301201, a week date), or years ahead (9999-12-31 was saved).
@pytest.mark.parametrize("deadline", ["20301201", "2030-W49-2", "9999-12-31", "2099-01-01"])
def test_a_deadline_nobody_means_is_refused_beside_the_field(world, as_role, deadline):
    response = as_role("foreman").post(f"/s/{world.site.id}/reports/{world.report.id}/assign", data={
        "assignee": world.people["foreman"].id, "deadline": deadline})
    assert response.status_code == 422
    assert 'id="deadline-error"' in response.get_data(as_text=True)
    assert Report.get_by_id(world.report.id).assignee_id is None


@pytest.mark.parametrize("held_on", ["20260301", "2026-W10-2"])
def test_a_meeting_date_in_another_shape_is_refused_and_no_draft_made(world, as_role, held_on):
    from fieldapp.models import Meeting

    response = as_role("manager").post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": held_on})
    assert response.status_code == 422
    assert Meeting.select().count() == 0


@pytest.mark.parametrize("raw,number", [
    ("7,5", 7.5), (" 7.5 ", 7.5), ("12", 12.0), ("0", 0.0),
    ("1e1", None), ("1_0", None), ("\u0661\u0662", None), ("nan", None), ("inf", None), ("-3", None), ("+3", None),
    ("7,5,0", None), ("", None), (None, None), ("٣", None), ("１２", None),
])
def test_decimal_numbers_are_ascii_digits_with_one_decimal_mark(raw, number):
    """float() read all of these; a form's hours are digits with a comma or point, or refused."""
    assert inputs.decimal_number(raw) == number


@pytest.mark.parametrize("typed", ["1e1", "1_0", "\u0661\u0662", "nan"])
def test_verneombud_hours_take_only_plain_numbers(as_role, world, typed):
    client = as_role("verneombud")
    today = clock.today(world.site).isoformat()
    response = client.post(f"/s/{world.site.id}/verneombud/hours", data={"worked_on": today, "hours": typed})
    assert response.status_code == 422 and VerneombudHours.select().count() == 0
    assert client.post(f"/s/{world.site.id}/verneombud/hours",
                       data={"worked_on": today, "hours": "7,5"}).status_code == 303
    assert VerneombudHours.get().hours == 7.5
