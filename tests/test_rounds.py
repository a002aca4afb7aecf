"""Safety walkarounds (issue 18): a round made once per UUID, answers upserted per item, deviations as
follow-up reports, finishing, signing on one's own phone or with one's own PIN, notes after signing, the PDF."""
import io
import uuid
from datetime import datetime, timedelta

import pypdf
import pytest
from helpers import PIN, jpeg

from fieldapp.models import (Alert, AlertRecipient, AuditEvent, ChecklistVersion, Photo, Report, RoundAnswer, RoundPhoto, RoundSignature,
                             SafetyRound, Site, User)
from fieldapp import phone_time
from fieldapp.rounds import service

OUTBOX = {"X-Outbox": "1"}


@pytest.fixture(autouse=True)
def english(world):
    """The messages are checked in English; the built-in checklist's bokmål has its own test."""
    User.update(language="en").execute()


@pytest.fixture
def version(app, world):
    with app.app_context():
        return service.current_version(service.builtin_template())


def keys(version):
    return service.item_keys(version)


def start(client, world, version, round_uuid=None, outbox=True):
    round_uuid = round_uuid or str(uuid.uuid4())
    response = client.post(f"/s/{world.site.id}/rounds/new", data={"uuid": round_uuid, "version": version.id},
                           headers=OUTBOX if outbox else None)
    return round_uuid, response


def answer(client, world, round_uuid, version, item, value="ok", note="", photos=(), made_at=None, answer_uuid=None,
           version_id=None, issued=None):
    data = {"issued": issued or "", "uuid": answer_uuid or str(uuid.uuid4()), "version": version_id or version.id, "item": item,
            "answer": value, "note": note}
    if made_at:
        data["made_at"] = made_at.isoformat() + "Z"
    if photos:
        data["photos"] = [(io.BytesIO(p), f"p{n}.jpg") for n, p in enumerate(photos)]
    return client.post(f"/s/{world.site.id}/rounds/{round_uuid}/answers", data=data, headers=OUTBOX,
                       content_type="multipart/form-data")


def answer_all(client, world, round_uuid, version, deviations=()):
    for item in keys(version):
        bad = item in deviations
        response = answer(client, world, round_uuid, version, item, "deviation" if bad else "ok",
                          note="Broken guard rail" if bad else "")
        assert response.status_code == 201, response.get_data(as_text=True)


def finish(client, world, round_uuid, **data):
    return client.post(f"/s/{world.site.id}/rounds/{round_uuid}/finish",
                       data={"participants": [str(world.people["verneombud"].id)], "summary": "Tidy site", **data})


def sign(client, world, round_uuid, side, signer, pin="", sig_uuid=None):
    return client.post(f"/s/{world.site.id}/rounds/{round_uuid}/sign",
                       data={"uuid": sig_uuid or str(uuid.uuid4()), "side": side, "signer": signer.id, "pin": pin})


def test_a_round_sent_twice_is_saved_once(as_role, world, version):
    client = as_role("verneombud")
    round_uuid, first = start(client, world, version)
    _same, again = start(client, world, version, round_uuid)
    assert (first.status_code, again.status_code) == (201, 200)
    assert SafetyRound.select().where(SafetyRound.uuid == round_uuid).count() == 1
    # The same UUID with another checklist version is a conflict, not a second round.
    other = ChecklistVersion.create(template=version.template, number=99, sections=version.sections)
    _same, clash = start(client, world, other, round_uuid)
    assert clash.status_code == 409
    assert SafetyRound.select().count() == 1


def test_start_page_shows_the_whole_checklist_and_open_items(as_role, world, version):
    page = as_role("foreman").get(f"/s/{world.site.id}/rounds/new").get_data(as_text=True)
    assert "Guard rail at 1 m, with knee and toe boards" in page
    assert page.count('data-round-answer') == len(keys(version))


def test_the_built_in_checklist_is_in_the_person_s_language(app, as_role, world, version):
    User.update(language="nb").where(User.id == world.people["foreman"].id).execute()
    page = as_role("foreman").get(f"/s/{world.site.id}/rounds/new").get_data(as_text=True)
    assert "Stillas" in page or "stillas" in page


def test_a_deviation_needs_a_note_and_nothing_is_half_saved(as_role, world, version):
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    response = answer(client, world, round_uuid, version, keys(version)[0], "deviation", note="  ",
                      photos=[jpeg()])
    assert response.status_code == 422
    assert "Describe the deviation" in response.get_data(as_text=True)
    assert RoundAnswer.select().count() == 0 and RoundPhoto.select().count() == 0
    assert Report.select().where(Report.kind == "finding").count() == 0


def test_a_deviation_becomes_a_follow_up_report_with_its_photos(as_role, world, version):
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    item = keys(version)[0]
    response = answer(client, world, round_uuid, version, item, "deviation", note="Gate left open",
                      photos=[jpeg(colour="red"), jpeg(colour="blue")])
    assert response.status_code == 201, response.get_data(as_text=True)
    row = RoundAnswer.get(RoundAnswer.item_key == item)
    finding = Report.get_by_id(row.finding_id)
    assert finding.kind == "finding" and finding.status == "open" and "Gate left open" in finding.description
    assert finding.site_id == world.site.id and finding.reporter_id == world.people["verneombud"].id
    assert RoundPhoto.select().where(RoundPhoto.answer == row).count() == 2
    assert Photo.select().where(Photo.report == finding).count() == 2
    # The existing follow-up: the foreman assigns it to the worker, who then sees it.
    foreman = as_role("foreman")
    deadline = (datetime.utcnow().date() + timedelta(days=3)).isoformat()
    assigned = foreman.post(f"/s/{world.site.id}/reports/{finding.id}/assign",
                            data={"assignee": world.people["worker"].id, "deadline": deadline})
    assert assigned.status_code in (200, 303), assigned.get_data(as_text=True)
    worker_view = as_role("worker").get(f"/s/{world.site.id}/reports/{finding.id}")
    assert worker_view.status_code == 200 and "Gate left open" in worker_view.get_data(as_text=True)
    # The report links back to the round and the item it came from.
    staff_view = foreman.get(f"/s/{world.site.id}/reports/{finding.id}").get_data(as_text=True)
    assert f"/rounds/{round_uuid}#item-{item}" in staff_view
    # The round page shows its findings; the worker may not open rounds.
    page = client.get(f"/s/{world.site.id}/rounds/{round_uuid}").get_data(as_text=True)
    assert "Gate left open" in page
    assert as_role("worker").get(f"/s/{world.site.id}/rounds/{round_uuid}").status_code == 403


def test_an_answer_sent_twice_is_saved_once_and_other_content_is_a_conflict(as_role, world, version):
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    item, answer_uuid = keys(version)[1], str(uuid.uuid4())
    first = answer(client, world, round_uuid, version, item, "deviation", note="Loose cable", answer_uuid=answer_uuid)
    again = answer(client, world, round_uuid, version, item, "deviation", note="Loose cable", answer_uuid=answer_uuid)
    assert (first.status_code, again.status_code) == (201, 200)
    assert RoundAnswer.select().count() == 1 and Report.select().where(Report.kind == "finding").count() == 1
    clash = answer(client, world, round_uuid, version, item, "ok", answer_uuid=answer_uuid)
    assert clash.status_code == 409
    assert RoundAnswer.get().answer == "deviation"


def test_the_later_answer_wins_whatever_order_they_arrive_in(app, as_role, world, version, frozen_clock):
    now = datetime(2026, 11, 30, 10, 0)
    frozen_clock(now)
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    item = keys(version)[2]
    with app.test_request_context():
        issued = phone_time.issue_stamp(now)  # the page was served at 10:00, then the phone went offline
    frozen_clock(now + timedelta(minutes=30))
    later = answer(client, world, round_uuid, version, item, "deviation", note="Dark stairwell",
                   made_at=now + timedelta(minutes=20), issued=issued)
    older = answer(client, world, round_uuid, version, item, "ok", made_at=now + timedelta(minutes=10), issued=issued)
    assert (later.status_code, older.status_code) == (201, 200)
    row = RoundAnswer.get(RoundAnswer.item_key == item)
    assert row.answer == "deviation" and row.note == "Dark stairwell"
    # A still later change to OK closes the finding it had made.
    frozen_clock(now + timedelta(minutes=40))
    newest = answer(client, world, round_uuid, version, item, "ok", made_at=now + timedelta(minutes=35), issued=issued)
    assert newest.status_code == 200
    assert Report.get_by_id(row.finding_id).status == "closed"
    assert service.findings(SafetyRound.get()) == []
    # And a deviation again reopens the same finding: never a second one for one item.
    frozen_clock(now + timedelta(minutes=50))
    again = answer(client, world, round_uuid, version, item, "deviation", note="Still dark",
                   made_at=now + timedelta(minutes=45), issued=issued)
    assert again.status_code == 200
    assert Report.get_by_id(row.finding_id).status == "open"
    assert Report.select().where(Report.kind == "finding").count() == 1


def test_why_a_finding_was_closed_by_its_round_is_told_in_each_readers_language(as_role, world, version):
    """The reason was stored as words in the language of the person who changed the answer: an English
    verneombud's change showed English in a Norwegian manager's timeline (found by the breaker)."""
    User.update(language="nb").where(User.id == world.people["manager"].id).execute()  # the rest read English
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    item = keys(version)[2]
    assert answer(client, world, round_uuid, version, item, "deviation", note="Gjerdet er åpent").status_code == 201
    assert answer(client, world, round_uuid, version, item, "ok").status_code == 200
    finding = Report.get(Report.kind == "finding")
    assert finding.status == "closed"
    norwegian = as_role("manager").get(f"/s/{world.site.id}/reports/{finding.id}").get_data(as_text=True)
    assert "Svaret i vernerunden ble endret: ikke et avvik." in norwegian and "not a deviation" not in norwegian
    english = client.get(f"/s/{world.site.id}/reports/{finding.id}").get_data(as_text=True)
    assert "The walkaround answer was changed: not a deviation." in english


def test_an_answer_to_a_changed_version_is_refused(as_role, world, version):
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    response = answer(client, world, round_uuid, version, keys(version)[0], version_id=version.id + 1000)
    assert response.status_code == 409
    assert "The checklist has changed" in response.get_data(as_text=True)
    assert RoundAnswer.select().count() == 0


def test_finishing_with_unanswered_items_is_refused(as_role, world, version):
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    answer(client, world, round_uuid, version, keys(version)[0])
    response = finish(client, world, round_uuid)
    assert response.status_code == 422
    assert f"{len(keys(version)) - 1} items are not answered yet" in response.get_data(as_text=True)
    assert SafetyRound.get().finished_at is None


def finished_round(as_role, world, version, deviations=()):
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    answer_all(client, world, round_uuid, version, deviations)
    response = finish(client, world, round_uuid, names="Kari Byggherre")
    assert response.status_code == 303, response.get_data(as_text=True)
    return client, round_uuid


def test_signing_for_someone_else_twice_and_editing_after_signing(as_role, world, version):
    verneombud, round_uuid = finished_round(as_role, world, version, deviations=keys(version)[:1])
    foreman, manager = world.people["foreman"], world.people["manager"]
    # Answers are closed once the round is finished.
    late = answer(verneombud, world, round_uuid, version, keys(version)[3], "deviation", note="Late")
    assert late.status_code == 409 and "finished" in late.get_data(as_text=True)
    # The verneombud cannot sign for the employer's side without that person's PIN ...
    refused = sign(verneombud, world, round_uuid, "employer", foreman)
    assert refused.status_code == 403 and "cannot sign for someone else" in refused.get_data(as_text=True)
    wrong = sign(verneombud, world, round_uuid, "employer", foreman, pin="000000")
    assert wrong.status_code == 422
    assert RoundSignature.select().count() == 0
    # ... signs their own side on their own phone, and the foreman signs on the same phone with his PIN.
    assert sign(verneombud, world, round_uuid, "verneombud", world.people["verneombud"]).status_code == 303
    twice = sign(verneombud, world, round_uuid, "verneombud", world.people["verneombud"])
    assert twice.status_code == 409 and "Already signed" in twice.get_data(as_text=True)
    assert sign(verneombud, world, round_uuid, "employer", foreman, pin=PIN).status_code == 303
    # The manager cannot sign the employer's side again.
    assert sign(as_role("manager"), world, round_uuid, "employer", manager).status_code == 409
    signed = SafetyRound.get()
    assert signed.signed_at is not None
    rows = {s.side: s for s in RoundSignature.select()}
    assert rows["employer"].with_pin and rows["employer"].signer_id == foreman.id
    assert not rows["verneombud"].with_pin
    # Signed: answers are refused, a note is the way to correct.
    edit = answer(verneombud, world, round_uuid, version, keys(version)[0], "ok")
    assert edit.status_code == 409 and "is signed" in edit.get_data(as_text=True)
    assert verneombud.post(f"/s/{world.site.id}/rounds/{round_uuid}/notes",
                           data={"note": "Gate fixed the same day"}).status_code == 303
    page = verneombud.get(f"/s/{world.site.id}/rounds/{round_uuid}").get_data(as_text=True)
    assert "Gate fixed the same day" in page and "Kari Byggherre" in page
    actions = {e.action for e in AuditEvent.select()}
    assert {"round.create", "round.answer", "round.finish", "round.sign", "round.note"} <= actions


def test_signing_a_round_that_is_not_finished_is_refused(as_role, world, version):
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    response = sign(client, world, round_uuid, "verneombud", world.people["verneombud"])
    assert response.status_code == 409 and RoundSignature.select().count() == 0


def test_wrong_pins_are_throttled_like_sign_in(app, as_role, world, version):
    verneombud, round_uuid = finished_round(as_role, world, version)
    statuses = [sign(verneombud, world, round_uuid, "employer", world.people["foreman"], pin="111111").status_code
                for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {422}
    # Even the right PIN waits until the window ends.
    assert sign(verneombud, world, round_uuid, "employer", world.people["foreman"], pin=PIN).status_code == 429


def test_the_pdf_is_a_real_pdf_with_the_findings(as_role, world, version):
    client = as_role("verneombud")
    round_uuid, _ = start(client, world, version)
    items = keys(version)
    for item in items:
        bad = item == items[5]
        answer(client, world, round_uuid, version, item, "deviation" if bad else "ok",
               note="Cable across the walkway" if bad else "", photos=[jpeg()] if bad else ())
    finish(client, world, round_uuid)
    sign(client, world, round_uuid, "verneombud", world.people["verneombud"])
    response = client.get(f"/s/{world.site.id}/rounds/{round_uuid}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Cable across the walkway" in text and "Verneombud Person" in text
    assert any(page.images for page in reader.pages)  # the finding's thumbnail


def test_the_next_round_starts_with_the_still_open_findings(as_role, world, version):
    client, _first = finished_round(as_role, world, version, deviations=keys(version)[:1])
    page = client.get(f"/s/{world.site.id}/rounds/new").get_data(as_text=True)
    assert "Open items from earlier rounds" in page and "Broken guard rail" in page
    finding = Report.get(Report.kind == "finding")
    as_role("foreman").post(f"/s/{world.site.id}/reports/{finding.id}/close", data={"text": "Rail fixed"})
    assert Report.get_by_id(finding.id).status == "closed"
    page = client.get(f"/s/{world.site.id}/rounds/new").get_data(as_text=True)
    assert "Broken guard rail" not in page


def test_home_shows_the_next_round_due_to_those_who_run_rounds(as_role, world, version, frozen_clock):
    frozen_clock(datetime(2026, 11, 30, 9, 0))
    assert "Safety walkaround" in as_role("verneombud").get("/").get_data(as_text=True)
    assert "Safety walkaround" not in as_role("worker").get("/").get_data(as_text=True)
    SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version, started_by=world.people["foreman"],
                       started_at=datetime(2026, 11, 20, 9, 0))
    home = as_role("foreman").get("/").get_data(as_text=True)
    assert "Overdue" in home
    as_role("manager").post(f"/s/{world.site.id}/rounds/schedule", data={"interval_days": "14"})
    assert "Overdue" not in as_role("foreman").get("/").get_data(as_text=True)
    bad = as_role("manager").post(f"/s/{world.site.id}/rounds/schedule", data={"interval_days": "0"})
    assert bad.status_code == 422


def test_an_edited_checklist_is_a_new_version_and_old_rounds_keep_theirs(as_role, world, version):
    verneombud, round_uuid = finished_round(as_role, world, version)
    manager = as_role("manager")
    copied = manager.post(f"/s/{world.site.id}/checklists/{version.template_id}/copy")
    assert copied.status_code == 303
    edit_url = copied.headers["Location"]
    response = manager.post(edit_url, data={"name": "Our round", "outline": "# Gate\n- Gate shut at night\n"})
    assert response.status_code == 303, response.get_data(as_text=True)
    empty = manager.post(edit_url, data={"name": "Our round", "outline": "# Gate\n"})
    assert empty.status_code == 422
    page = verneombud.get(f"/s/{world.site.id}/rounds/{round_uuid}").get_data(as_text=True)
    assert "Guard rail at 1 m" in page and "Gate shut at night" not in page
    assert "Gate shut at night" in manager.get(f"/s/{world.site.id}/rounds/new?template="
                                               f"{edit_url.split('/')[-2]}").get_data(as_text=True)
    assert as_role("foreman").get(f"/s/{world.site.id}/checklists").status_code == 403



def test_a_due_round_is_reminded_once_by_push_and_inbox(app, as_role, world, version, frozen_clock):
    frozen_clock(datetime(2026, 11, 30, 9, 0))
    Site.update(created_at=datetime(2026, 11, 2, 7, 0)).execute()  # whatever day the test runs
    SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version, started_by=world.people["foreman"],
                       started_at=datetime(2026, 11, 23, 8, 0))
    with app.test_request_context():
        assert service.remind_due() == 2  # site A's is due today; site B never had one
        assert service.remind_due() == 0  # once per due date
    assert {a.site_id for a in Alert.select().where(Alert.template == "round_due")} == {world.site.id,
                                                                                        world.other_site.id}
    alert = Alert.get((Alert.template == "round_due") & (Alert.site == world.site))
    told = {r.user_id for r in AlertRecipient.select().where(AlertRecipient.alert == alert)}
    assert told == {world.people[r].id for r in ("foreman", "verneombud", "manager")}
    inbox = as_role("verneombud").get("/alerts").get_data(as_text=True)
    assert "Safety walkaround due" in inbox
    # A round started today moves the due date a week on: no reminder until then.
    SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version, started_by=world.people["foreman"],
                       started_at=datetime(2026, 11, 30, 8, 30))
    with app.test_request_context():
        assert service.remind_due() == 0


def test_editing_a_copy_keeps_the_translations_of_what_did_not_change(as_role, world, version):
    manager = as_role("manager")
    edit_url = manager.post(f"/s/{world.site.id}/checklists/{version.template_id}/copy").headers["Location"]
    outline = manager.get(edit_url).get_data(as_text=True)
    assert "# Scaffolding" in outline and "- Guard rail at 1 m, with knee and toe boards" in outline
    text = outline.split('name="outline" rows="20">')[1].split("</textarea>")[0]
    text = text.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
    text = text.replace("- A scaffold sign at each access", "- A scaffold sign with the inspection date at each access")
    assert manager.post(edit_url, data={"name": "Our round", "outline": text}).status_code == 303
    template_id = int(edit_url.split("/")[-2])
    new = service.current_version(ChecklistVersion.get(ChecklistVersion.template == template_id).template)
    items = {i["key"]: i["text"] for s in new.sections for i in s["items"]}
    assert new.number == 2 and len(items) == len(keys(version))
    assert {"msgid": "Guard rail at 1 m, with knee and toe boards"} in items.values()  # still translated
    assert {"en": "A scaffold sign with the inspection date at each access"} in items.values()


def test_an_answer_sent_at_once_with_other_content_under_its_uuid_is_a_409(as_role, world, version, monkeypatch):
    """The breaker's bursts: the same UUID sent "ok" and "deviation" at once. The UUID was checked before the
    round's lock, so the second request found no row, and _upsert (by item) wrote "deviation" over the "ok" saved
    a moment before, answered 200, and opened a finding. Made certain here: the first check misses."""
    verneombud = as_role("verneombud")
    round_uuid, _ = start(verneombud, world, version)
    item, key = keys(version)[0], str(uuid.uuid4())
    assert answer(verneombud, world, round_uuid, version, item, "ok", answer_uuid=key).status_code == 201
    real = RoundAnswer.get_or_none
    misses = iter([True])
    monkeypatch.setattr(RoundAnswer, "get_or_none",
                        classmethod(lambda cls, *a, **k: None if next(misses, False) else real(*a, **k)))
    late = answer(verneombud, world, round_uuid, version, item, "deviation", note="Loose rail", answer_uuid=key)
    assert late.status_code == 409, late.get_data(as_text=True)
    assert RoundAnswer.get(RoundAnswer.uuid == key).answer == "ok"
    assert not Report.select().where(Report.kind == "finding").exists()
