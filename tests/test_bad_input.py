"""Bad input found by an attack (issue 24's fixes): huge ids, odd digits, absurd dates and numbers answer with a
clear 4xx, never a 500, and nothing is half-saved."""
import io
import re
import threading
import uuid
from datetime import date, datetime, timedelta

import pytest
from helpers import ACCESS, jpeg, stored_names
from pypdf import PdfReader
from werkzeug.routing import IntegerConverter

from fieldapp import pdf as pdfs
from fieldapp.competence import importer
from fieldapp.competence.service import CompetenceError
from fieldapp.duties import pack, reminders, rules, service
from fieldapp.models import (Alert, AlertRecipient, CheckIn, Inspection, InspectionOrder, OrderEvidence, Report,
                             TrainingRecord, User, VerneombudHours, VerneombudTerm)

HUGE = "99999999999999999999999"  # over 2**64: int() reads it, the database cannot
JUST_OVER = str(2**63)  # one over the largest 64-bit id
INT_FIELDS = ("site", "worker", "follow_up", "report", "alert", "sja", "checklist", "certificate", "requirement",
              "meeting", "amu", "order")


def huge_path(template, world, huge):
    """ACCESS's path with every id (placeholder or literal number segment) replaced by `huge`."""
    path = re.sub(r"/[0-9]+(?=/|$)", "/" + huge, template)
    ids = dict.fromkeys(INT_FIELDS, huge)
    return path.format(token=world.site.qr_token, photo="0" * 64, sja_uuid=world.sja.uuid, round=world.round.uuid,
                       document="0" * 64, **ids)


def has_int(app, endpoint):
    return any(isinstance(conv, IntegerConverter) for rule in app.url_map.iter_rules(endpoint)
               for conv in rule._converters.values())


@pytest.mark.parametrize("endpoint", sorted(ACCESS))
def test_a_huge_id_in_any_route_is_404_not_500(app, world_with_records, as_role, endpoint):
    method, template, _who = ACCESS[endpoint]
    client = as_role("manager")
    answers = {}
    for huge in (HUGE, JUST_OVER):
        path = huge_path(template, world_with_records, huge)
        if path in answers:
            continue  # no id in this route: the same request
        response = client.post(path, data={}) if method == "POST" else client.get(path)
        answers[path] = response.status_code
        assert response.status_code < 500, (path, response.status_code)
        if has_int(app, endpoint) and huge in path:
            assert response.status_code in (404, 405), (path, response.status_code)  # no route: not found
    assert len(answers) == (2 if has_int(app, endpoint) else 1), answers


def test_the_largest_id_still_routes(app):
    adapter = app.url_map.bind("localhost")
    endpoint, args = adapter.match(f"/s/{2**63 - 1}/inspections")
    assert args["site_id"] == 2**63 - 1


# --- the duties feature (issue 24) ------------------------------------------------------------------------------

TODAY = date(2026, 6, 15)


@pytest.fixture
def at_noon(frozen_clock):
    frozen_clock(datetime(2026, 6, 15, 10, 0))


def inspection_form(**overrides):
    data = {"held_on": "2026-06-01", "reference": "2026/12345", "sanction": "none", "note": "",
            "order_text": ["Secure the open edges on floor 3"], "order_deadline": ["2026-06-20"]}
    data.update(overrides)
    return data


def an_order(as_role, world):
    assert as_role("manager").post(f"/s/{world.site.id}/inspections", data=inspection_form()).status_code == 303
    return InspectionOrder.get()


@pytest.mark.parametrize("report", ["²", "٣", HUGE, "-1", "1e3"])
def test_closing_an_order_with_an_odd_report_number_is_422(as_role, world, at_noon, report):
    order = an_order(as_role, world)
    response = as_role("manager").post(f"/s/{world.site.id}/inspections/orders/{order.id}/close",
                                       data={"response": "Railings up", "report": report})
    assert response.status_code == 422
    assert 'id="report-error"' in response.get_data(as_text=True)
    assert InspectionOrder.get().closed_at is None


def term_form(world, **overrides):
    data = {"user": str(world.people["verneombud"].id), "role": "verneombud", "how": "election",
            "elected_from": "2026-01-01", "elected_to": "2027-12-31", "notice_on": "2026-01-05", "area": ""}
    data.update(overrides)
    return data


@pytest.mark.parametrize("overrides,field", [
    ({"elected_from": "9998-06-01", "elected_to": "9999-12-31"}, "elected_from"),  # once "year 10000": a 500
    ({"elected_from": "9998-01-01", "elected_to": "9999-12-31"}, "elected_from"),
    ({"elected_from": "0001-01-01", "elected_to": "0002-12-31"}, "elected_from"),
    ({"notice_on": "0001-01-01"}, "notice_on"),
])
def test_an_absurd_term_is_422_and_nothing_saved(as_role, world, at_noon, overrides, field):
    response = as_role("manager").post(f"/s/{world.site.id}/verneombud", data=term_form(world, **overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert VerneombudTerm.select().count() == 0


@pytest.mark.parametrize("overrides,field", [
    ({"held_on": "0001-01-01"}, "held_on"),
    ({"order_deadline": ["9999-12-31"]}, "order_deadline"),
    ({"order_deadline": ["0001-01-01"]}, "order_deadline"),
])
def test_an_absurd_inspection_date_is_422(as_role, world, at_noon, overrides, field):
    response = as_role("manager").post(f"/s/{world.site.id}/inspections", data=inspection_form(**overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert Inspection.select().count() == 0


@pytest.mark.parametrize("born,status", [("1899-12-31", 422), ("1900-01-01", 303), ("2026-06-16", 422)])
def test_date_of_birth_from_1900_to_today(as_role, world, at_noon, born, status):
    worker = world.people["worker"]
    response = as_role("manager").post(f"/s/{world.site.id}/people/{worker.id}/attendance-details",
                                       data={"date_of_birth": born})
    assert response.status_code == status
    assert (User.get_by_id(worker.id).date_of_birth is not None) == (status == 303)


def test_hours_on_an_absurd_day_are_422(as_role, world, at_noon):
    url = f"/s/{world.site.id}/verneombud/hours"
    assert as_role("verneombud").post(url, data={"worked_on": "0001-01-01", "hours": "2"}).status_code == 422
    assert VerneombudHours.select().count() == 0


def test_an_overdue_order_reminder_never_says_minus_days(app, world, at_noon):
    inspection = Inspection.create(site=world.site, held_on=TODAY - timedelta(days=40), reference="x")
    order = InspectionOrder.create(inspection=inspection, text="Fix the scaffold", deadline=TODAY - timedelta(days=3))
    with app.test_request_context():
        title, text = reminders._order_wording(world.people["manager"], order, world.site)
    assert "-3" not in text and "Fix the scaffold" in text


def test_forty_orders_are_refused_whole(as_role, world, at_noon):
    form = inspection_form(order_text=[f"Order {i}" for i in range(40)], order_deadline=["2026-07-01"] * 40)
    response = as_role("manager").post(f"/s/{world.site.id}/inspections", data=form)
    assert response.status_code == 422
    assert 'id="order_text-error"' in response.get_data(as_text=True)
    assert Inspection.select().count() == 0 and InspectionOrder.select().count() == 0
    thirty = inspection_form(order_text=[f"Order {i}" for i in range(30)], order_deadline=["2026-07-01"] * 30)
    assert as_role("manager").post(f"/s/{world.site.id}/inspections", data=thirty).status_code == 303
    assert InspectionOrder.select().count() == 30


def test_parallel_uploads_never_pass_the_evidence_cap(app, as_role, world, at_noon):
    order = an_order(as_role, world)
    url = f"/s/{world.site.id}/inspections/orders/{order.id}/evidence"
    clients = [as_role("manager") for _ in range(3)]
    start = threading.Barrier(3)
    statuses = []

    def send(n, client):
        files = [(io.BytesIO(jpeg(colour=(n * 40, i * 30, 90))), f"{n}-{i}.jpg") for i in range(6)]
        start.wait()
        statuses.append(client.post(url, data={"evidence": files}, content_type="multipart/form-data").status_code)

    threads = [threading.Thread(target=send, args=(n, c)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert OrderEvidence.select().count() <= service.MAX_EVIDENCE
    assert sorted(statuses) == [303, 303, 422]


def alert_for(world, user, role, audience="all", ack_required=True):
    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, level="info", title="t", audience=audience,
                         ack_required=ack_required, created_at=datetime(2026, 6, 14, 8, 0))
    return AlertRecipient.create(alert=alert, user=user, role=role)


def test_workers_answer_only_for_alerts_that_asked_them_to_acknowledge(app, world, at_noon):
    scope = rules.Scope(world.org, [world.site], world.site.name)
    period = rules.Period(TODAY - timedelta(days=89), TODAY)
    alert_for(world, world.people["manager"], "manager", audience="personal", ack_required=False)
    alert_for(world, world.people["manager"], "manager")  # a manager's copy is no worker's duty
    alert_for(world, world.people["worker"], "worker", ack_required=False)
    alert_for(world, world.people["worker"], "worker", audience="personal")
    with app.test_request_context():
        assert rules.alerts_acknowledged(scope, period, TODAY).status == rules.MET
        alert_for(world, world.people["worker"], "worker")  # asked the worker to acknowledge: now it counts
        assert rules.alerts_acknowledged(scope, period, TODAY).status == rules.AT_RISK


def test_a_double_tap_saves_a_term_an_inspection_and_hours_once(as_role, world, at_noon):
    manager, verneombud = as_role("manager"), as_role("verneombud")
    for _ in range(2):
        assert manager.post(f"/s/{world.site.id}/verneombud", data=term_form(world)).status_code == 303
        assert manager.post(f"/s/{world.site.id}/inspections", data=inspection_form()).status_code == 303
        assert verneombud.post(f"/s/{world.site.id}/verneombud/hours",
                               data={"worked_on": "2026-06-14", "hours": "2"}).status_code == 303
    assert VerneombudTerm.select().count() == 1
    assert Inspection.select().count() == 1 and InspectionOrder.select().count() == 1
    assert VerneombudHours.select().count() == 1


def test_hours_are_capped_at_24_a_day(as_role, world, frozen_clock):
    frozen_clock(datetime(2026, 6, 15, 10, 0))
    url = f"/s/{world.site.id}/verneombud/hours"
    client = as_role("verneombud")
    assert client.post(url, data={"worked_on": "2026-06-14", "hours": "20", "note": "a"}).status_code == 303
    assert client.post(url, data={"worked_on": "2026-06-14", "hours": "4", "note": "b"}).status_code == 303
    frozen_clock(datetime(2026, 6, 15, 10, 5))  # not a replay: minutes later
    over = client.post(url, data={"worked_on": "2026-06-14", "hours": "0.25", "note": "c"})
    assert over.status_code == 422 and "24" in over.get_data(as_text=True)
    assert client.post(url, data={"worked_on": "2026-06-13", "hours": "24"}).status_code == 303
    assert sum(h.hours for h in VerneombudHours.select().where(VerneombudHours.worked_on == date(2026, 6, 14))) == 24


def test_evidence_names_lose_control_and_bidi_characters(as_role, world, at_noon):
    order = an_order(as_role, world)
    client, url = as_role("manager"), f"/s/{world.site.id}/inspections/orders/{order.id}/evidence"
    # A C0 control in a file's name (the phone's, not typed) is dropped from it; the files are kept.
    files = [(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(jpeg(colour="blue")), "b\x07.jpg")]
    bell = client.post(url, data={"evidence": files}, content_type="multipart/form-data")
    assert bell.status_code == 303
    assert sorted(e.name for e in OrderEvidence.select()) == ["a.jpg", "b.jpg"]
    name = "rail\u202eing\u202dgpj.exe\x85"
    response = client.post(url, data={"evidence": [(io.BytesIO(jpeg(colour="green")), name)]},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert OrderEvidence.select().where(OrderEvidence.name == "railinggpj.exe").count() == 1
    assert service.clean_name("a\u2066b\u200fc\x00d") == "abcd"


def test_an_empty_pdf_is_an_empty_file_not_an_image(as_role, world, at_noon):
    order = an_order(as_role, world)
    client = as_role("manager")
    client.post("/language", data={"language": "en"})
    response = client.post(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence",
                           data={"evidence": [(io.BytesIO(b""), "letter.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "photo" not in body.split('id="evidence-error"')[1][:200].lower()


def test_a_bad_later_file_stores_no_earlier_file(app, as_role, world, at_noon):
    order = an_order(as_role, world)
    before = set(stored_names(app))
    response = as_role("manager").post(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence",
                                       data={"evidence": [(io.BytesIO(jpeg(colour="blue")), "a.jpg"),
                                                          (io.BytesIO(b"%PDF-1.4 fine"), "b.pdf"),
                                                          (io.BytesIO(b"plain text"), "c.txt")]},
                                       content_type="multipart/form-data")
    assert response.status_code == 415
    assert set(stored_names(app)) == before and OrderEvidence.select().count() == 0


# --- long text in PDFs -------------------------------------------------------------------------------------------

LONG_TEXT = ("Secure every open edge on floor three with a guard rail. " * 80)[:4000]
LONG_WORD = "x" * 4000


@pytest.mark.parametrize("text", [LONG_TEXT, LONG_WORD])
def test_the_inspectors_pack_builds_with_4000_characters(as_role, world, at_noon, text):
    client = as_role("manager")
    form = inspection_form(order_text=[text, text], order_deadline=["2026-07-01", "2026-07-02"], note=text)
    assert client.post(f"/s/{world.site.id}/inspections", data=form).status_code == 303
    first = InspectionOrder.select().order_by(InspectionOrder.id).first()
    closed = client.post(f"/s/{world.site.id}/inspections/orders/{first.id}/close", data={"response": text})
    assert closed.status_code == 303
    response = client.get(f"/s/{world.site.id}/duties/inspector-pack.pdf?days=30")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "more characters in the app" in pdf_text or "tegn til i appen" in pdf_text
    page = client.get(f"/s/{world.site.id}/inspections").get_data(as_text=True)
    assert text in page  # the page keeps the whole text


def test_cell_text_cuts_with_a_note(app):
    with app.test_request_context():
        assert pdfs.cell_text(None) == "" and pdfs.cell_text("a" * 600) == "a" * 600
        cut = pdfs.cell_text("a" * 601)
    assert cut.startswith("a" * 600 + " … ") and "1" in cut[600:]


# --- the pack's thumbnails with a hanging store ----------------------------------------------------------------

class HangingStore:
    """A store whose reads of some digests never answer until released (an S3 store hanging)."""

    def __init__(self, answering):
        self.answering = set(answering)
        self.release = threading.Event()
        self.asked = []

    def read(self, digest, thumb=False, ext="jpg"):
        self.asked.append(digest)
        if digest not in self.answering:
            self.release.wait(30)
            raise FileNotFoundError(digest)
        return jpeg(size=(64, 48))


def test_thumbnails_share_one_time_budget_and_the_rest_are_left_out():
    store = HangingStore(answering={"a", "c"})
    try:
        got = pack.fetch_thumbnails(store, ["a", "b", "c", "d", "e", "f"], budget=0.5)
    finally:
        store.release.set()
    assert set(got) == {"a", "c"} and got["a"].startswith(b"\xff\xd8")


def test_the_pack_builds_with_a_hanging_store_and_lists_every_photo(app, as_role, world, at_noon, monkeypatch):
    order = an_order(as_role, world)
    client = as_role("manager")
    files = [(io.BytesIO(jpeg(colour=(i * 50, 10, 10))), f"photo-{i}.jpg") for i in range(3)]
    assert client.post(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence", data={"evidence": files},
                       content_type="multipart/form-data").status_code == 303
    store = HangingStore(answering=[])
    monkeypatch.setattr(pack, "THUMB_BUDGET_SECONDS", 0.3)
    try:
        with app.test_request_context():
            data = service.pack_data(world.site, rules.Period(TODAY - timedelta(days=29), TODAY), TODAY, "en", store)
            body = service.pack.build(data)
    finally:
        store.release.set()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert all(f"photo-{i}.jpg" in text for i in range(3))
    assert len(store.asked) >= 1


# --- the competence CSV import's text ---------------------------------------------------------------------------

CSV_HEADER = "phone;course;taken_on;expires_on;issuer;certificate_number\n"


def test_a_utf8_file_with_one_cp1252_line_keeps_every_letter():
    data = (CSV_HEADER + "91000001;first_aid;2025-02-01;;Førstehjelp AS;\n").encode("utf-8") \
        + "91000002;first_aid;2025-02-02;;Brannvern Sør;\n".encode("cp1252")
    text = importer.read_text(data)
    assert "Førstehjelp AS" in text and "Brannvern Sør" in text and "Ã" not in text


@pytest.mark.parametrize("bad", ["Kurs\u202eSA", "Kurs\u0085AS", "Kurs\u2066AS"])
def test_imported_text_with_c1_or_bidi_controls_is_refused_with_its_line(as_role, world, bad):
    data = (CSV_HEADER + f"91000001;first_aid;2025-02-01;;{bad};\n").encode("utf-8")
    response = as_role("manager").post(f"/s/{world.site.id}/competence/import", content_type="multipart/form-data",
                                       data={"file": (io.BytesIO(data), "records.csv"), "confirm": "y"})
    assert response.status_code == 422
    with pytest.raises(CompetenceError) as caught:
        importer.read_text(data)
    assert caught.value.reason == "csv_invisible" and caught.value.params == {"line": 2}
    assert TrainingRecord.select().count() == 0


@pytest.mark.parametrize("text", [LONG_TEXT, LONG_WORD])
def test_the_injury_register_pdf_builds_with_4000_characters(as_role, world, frozen_clock, text):
    frozen_clock(datetime(2026, 6, 15, 10, 0))
    Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=world.site, reporter=world.people["worker"],
                  kind="injury", category="falls", severity="high", description=text, corrective_action=text,
                  place="Stair tower", happened_at=datetime(2026, 6, 2, 7, 0))
    response = as_role("manager").get(f"/s/{world.site.id}/injuries.pdf",
                                      query_string={"period": "month", "month": "2026-06"})
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Stair tower" in " ".join(pdf_text.split())  # a narrow column may wrap between the two words


@pytest.mark.parametrize("user", ["²", HUGE])
def test_an_odd_person_number_on_a_refused_decision_is_no_500(as_role, world_with_records, user):
    world = world_with_records
    response = as_role("manager").post(f"/s/{world.site.id}/competence/records/{world.certificate.id}/reject",
                                       data={"back": "person", "user": user})
    assert response.status_code == 422


# As saved: 300 typed lines, and a place and a name pasted from Word (its U+000B line breaks read as "\n").
MANY_LINES = ["x\r\n" * 300, "Trapp" + "\nB" * 90, "Ola" + "\nA" * 60]


@pytest.mark.parametrize("text", [*MANY_LINES, "Ola" + "\u2028A" * 60])
def test_a_cell_keeps_at_most_a_few_lines_and_all_its_words(text):
    cell = pdfs.cell_text(text)
    assert len(cell.splitlines()) == pdfs.CELL_LINES
    kept = text[:pdfs.CELL_CHARS].split()
    assert cell.split()[:len(kept)] == kept  # the further lines run on in the last one: no word is dropped


@pytest.mark.parametrize("text", MANY_LINES)
def test_the_registers_build_when_someone_wrote_hundreds_of_lines(as_role, world, frozen_clock, text):
    """A description of 300 short lines, or a place or name pasted from Word with its line breaks (each one a
    line break once read, inputs.PASTED_LINE_BREAKS), made one table row taller than a page: a 500 for the site's
    injury register, attendance list, competence matrix and inspector's pack, for every reader."""
    frozen_clock(datetime(2026, 6, 15, 10, 0))
    worker = world.people["worker"]
    Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=world.site, reporter=worker, kind="injury",
                  category="falls", severity="high", description=text, corrective_action=text, place=text[:200],
                  happened_at=datetime(2026, 6, 2, 7, 0))
    User.update(name=text[:200]).where(User.id == worker.id).execute()
    CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=worker, name=text[:200], employer_name=text[:200],
                   checked_in_at=datetime(2026, 6, 15, 6, 0))
    manager = as_role("manager")
    for path in ("/injuries.pdf?period=month&month=2026-06", "/attendance.pdf", "/competence.pdf",
                 "/duties/inspector-pack.pdf?days=30"):
        response = manager.get(f"/s/{world.site.id}{path}")
        assert response.status_code == 200 and response.data.startswith(b"%PDF"), path


def test_a_place_pasted_from_word_into_an_injury_report_leaves_the_register_printable(as_role, world):
    """The breaker's steps: a worker's injury report whose place (a one-line field, 181 characters) was pasted with
    Word's line breaks; then the manager's injury register and inspector's pack."""
    sent = as_role("worker").post(f"/s/{world.site.id}/reports/new", data={
        "uuid": str(uuid.uuid4()), "kind": "injury", "category": "falls", "severity": "high",
        "description": "Fell in the stairs", "place": "Trapp" + "\x0bB" * 90, "absence_days": "2"})
    assert sent.status_code in (200, 201, 303), sent.get_data(as_text=True)
    assert Report.get(Report.description == "Fell in the stairs").place.count("\n") == 90
    manager = as_role("manager")
    for path in ("/injuries.pdf", "/duties/inspector-pack.pdf?days=30"):
        response = manager.get(f"/s/{world.site.id}{path}")
        assert response.status_code == 200 and response.data.startswith(b"%PDF"), path


@pytest.mark.parametrize("invisible", ["\u200b\u200c\u200d\ufeff", "\u202e", "\u3164", "\u0301\u0301"])
def test_a_name_of_nothing_visible_is_no_name_for_equipment_or_a_meeting_kind(as_role, world, invisible):
    """The breaker stored an equipment item and a meeting kind named only with zero-width characters (tiles and
    lists with no words): they read their names with str.split/strip, not with inputs.free_text as other forms."""
    from fieldapp.models import Equipment, MeetingKind

    manager = as_role("manager")
    equipment, kinds = Equipment.select().count(), MeetingKind.select().count()
    assert manager.post(f"/s/{world.site.id}/equipment", data={"name_nb": invisible}).status_code == 422
    kind = manager.post(f"/s/{world.site.id}/meetings/kinds", data={"code": "", "name_nb": invisible})
    assert kind.status_code == 422
    assert (Equipment.select().count(), MeetingKind.select().count()) == (equipment, kinds)
