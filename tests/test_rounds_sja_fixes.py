"""What a new user found in walkarounds and SJA (issue 18, the new-user test): discarding an abandoned round,
a PIN typed on one's own phone, the PDF texts in the reader's language. The phone-side fixes (a new round
starts clean, the SJA saved offline, wrapping and the action bar at 360 px) are in
tests/browser/test_rounds_sja_fixes_phone.py."""
import io
import re
import uuid
from pathlib import Path

import pypdf
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from helpers import PIN, add_sja

from fieldapp.models import AuditEvent, Report, RoundAnswer, SafetyRound, SjaSignature, User
from fieldapp.rounds import service

OUTBOX = {"X-Outbox": "1"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def version(app, world):
    with app.app_context():
        return service.current_version(service.builtin_template())


@pytest.fixture(autouse=True)
def english(world):
    User.update(language="en").execute()


def start(client, world, version):
    round_uuid = str(uuid.uuid4())
    response = client.post(f"/s/{world.site.id}/rounds/new", data={"uuid": round_uuid, "version": version.id},
                           headers=OUTBOX)
    assert response.status_code == 201
    return round_uuid


def answer(client, world, round_uuid, version, item, value="ok", note=""):
    return client.post(f"/s/{world.site.id}/rounds/{round_uuid}/answers", headers=OUTBOX,
                       data={"uuid": str(uuid.uuid4()), "version": version.id, "item": item, "answer": value,
                             "note": note})


def discard(client, world, round_uuid, **data):
    return client.post(f"/s/{world.site.id}/rounds/{round_uuid}/discard", data=data)


# --- 2. an abandoned round can be discarded ------------------------------------------------------------------

def test_an_unanswered_round_is_discarded_and_audited(as_role, world, version):
    client = as_role("verneombud")
    round_uuid = start(client, world, version)
    page = client.get(f"/s/{world.site.id}/rounds/{round_uuid}").get_data(as_text=True)
    assert "Discard the walkaround" in page and 'name="confirm"' not in page
    response = discard(client, world, round_uuid)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/s/{world.site.id}/rounds")
    assert SafetyRound.select().where(SafetyRound.uuid == round_uuid).count() == 0
    event = AuditEvent.get(AuditEvent.action == "round.discard")
    assert round_uuid in event.before and event.actor_id == world.people["verneombud"].id
    assert client.get(f"/s/{world.site.id}/rounds/{round_uuid}").status_code == 404


def test_a_round_with_answers_is_discarded_only_when_confirmed(as_role, world, version):
    client = as_role("foreman")
    round_uuid = start(client, world, version)
    items = service.item_keys(version)
    assert answer(client, world, round_uuid, version, items[0]).status_code == 201
    assert answer(client, world, round_uuid, version, items[1], "na").status_code == 201
    page = client.get(f"/s/{world.site.id}/rounds/{round_uuid}").get_data(as_text=True)
    assert 'name="confirm"' in page and "Also discard the 2 answers given" in page
    refused = discard(client, world, round_uuid)
    assert refused.status_code == 409 and "Tick the box" in refused.get_data(as_text=True)
    assert RoundAnswer.select().count() == 2 and AuditEvent.select().where(
        AuditEvent.action == "round.discard").count() == 0
    assert discard(client, world, round_uuid, confirm="yes").status_code == 303
    assert SafetyRound.select().count() == 0 and RoundAnswer.select().count() == 0
    assert '"answers"' in AuditEvent.get(AuditEvent.action == "round.discard").before


def test_a_round_with_follow_ups_or_finished_is_kept(as_role, world, version):
    client = as_role("verneombud")
    round_uuid = start(client, world, version)
    item = service.item_keys(version)[0]
    assert answer(client, world, round_uuid, version, item, "deviation", "Loose guard rail").status_code == 201
    page = client.get(f"/s/{world.site.id}/rounds/{round_uuid}").get_data(as_text=True)
    assert "Discard the walkaround" not in page
    refused = discard(client, world, round_uuid, confirm="yes")
    assert refused.status_code == 409 and "follow-up" in refused.get_data(as_text=True)
    assert SafetyRound.select().count() == 1 and Report.select().where(Report.kind == "finding").count() == 1


def test_a_worker_cannot_discard_a_round(as_role, world, version):
    round_uuid = start(as_role("verneombud"), world, version)
    assert discard(as_role("worker"), world, round_uuid).status_code == 403
    assert SafetyRound.select().count() == 1


# --- 3. a PIN typed on one's own phone is checked, never ignored ---------------------------------------------

def finished_round(client, world, version):
    round_uuid = start(client, world, version)
    for item in service.item_keys(version):
        assert answer(client, world, round_uuid, version, item).status_code == 201
    finish = client.post(f"/s/{world.site.id}/rounds/{round_uuid}/finish",
                         data={"participants": [str(world.people["verneombud"].id)], "summary": "Tidy"})
    assert finish.status_code == 303
    return round_uuid


def sign_round(client, world, round_uuid, signer, pin):
    return client.post(f"/s/{world.site.id}/rounds/{round_uuid}/sign",
                       data={"uuid": str(uuid.uuid4()), "side": "verneombud", "signer": signer.id, "pin": pin})


def test_a_wrong_pin_on_ones_own_phone_is_refused_with_a_clear_message(as_role, world, version):
    client = as_role("verneombud")
    round_uuid = finished_round(client, world, version)
    me = world.people["verneombud"]
    wrong = sign_round(client, world, round_uuid, me, "000000")
    assert wrong.status_code == 422
    assert "No PIN is needed on your own phone" in wrong.get_data(as_text=True)
    assert sign_round(client, world, round_uuid, me, PIN).status_code == 303  # the right one signs
    page = client.get(f"/s/{world.site.id}/rounds/{round_uuid}").get_data(as_text=True)
    assert "on own phone" in page


def test_a_wrong_pin_on_ones_own_phone_is_refused_for_an_sja_too(as_role, world):
    worker = world.people["worker"]
    sja = add_sja(world, world.people["foreman"], [worker, world.people["foreman"]])
    client = as_role("worker")
    fields = {"uuid": str(uuid.uuid4()), "revision": str(sja.revision), "language": "en", "signer": str(worker.id)}
    wrong = client.post(f"/s/{world.site.id}/sja/{sja.id}/sign", data={**fields, "pin": "000000"})
    assert wrong.status_code == 422 and SjaSignature.select().count() == 0
    right = client.post(f"/s/{world.site.id}/sja/{sja.id}/sign", data={**fields, "uuid": str(uuid.uuid4())})
    assert right.status_code == 303 and SjaSignature.get().method == "session"


# --- 5. every PDF text goes through gettext and has its bokmål -----------------------------------------------

PDF_SOURCES = ["fieldapp/rounds/pdf.py", "fieldapp/sja/exports.py"]


@pytest.mark.parametrize("source", PDF_SOURCES)
def test_every_pdf_text_is_extracted_and_translated_to_bokmal(source):
    """pybabel does not see _() inside an f-string: such a text is never translated (issue 18: "Started:")."""
    written = set(re.findall(r"""\b_\((?:"([^"]+)"|'([^']+)')""", (ROOT / source).read_text()))
    written = {a or b for a, b in written}
    extracted = {message for _line, message, _comments, _context in extract_from_file("python", ROOT / source)}
    extracted = {m if isinstance(m, str) else m[0] for m in extracted}
    assert written and written <= extracted, sorted(written - extracted)
    with open(ROOT / "fieldapp/translations/nb/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po)
    untranslated = sorted(m for m in written if not (catalog.get(m) and catalog.get(m).string))
    assert untranslated == []


def test_the_round_pdf_in_bokmal_says_startet(as_role, world, version):
    User.update(language="nb").execute()
    client = as_role("verneombud")
    round_uuid = start(client, world, version)
    response = client.get(f"/s/{world.site.id}/rounds/{round_uuid}/report.pdf")
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.get_data())).pages)
    assert "Startet:" in text and "Started" not in text and "Vernerunde" in text


def test_an_answer_arriving_as_the_round_is_discarded_or_finished_is_refused_not_orphaned(
        as_role, world, version, monkeypatch):
    """The answer was checked against the round as read before its transaction: a discard or a finish committed
    in between left a finding of a round that no longer exists, or an answer in a finished round, with the phone
    told "saved" (found by the breaker). Here the other phone's request commits while the answer's photos are
    processed, just before its transaction."""
    client = as_role("verneombud")
    user = world.people["verneombud"]
    items = service.item_keys(version)
    real_process = service._process
    other_phone = {}

    def racing(uploads):
        other_phone["done"]()
        return real_process(uploads)

    monkeypatch.setattr(service, "_process", racing)
    # A discard in between.
    gone = start(client, world, version)
    other_phone["done"] = lambda: service.discard(SafetyRound.get(SafetyRound.uuid == gone), user, True)
    refused = answer(client, world, gone, version, items[0], "deviation", "Loose guard rail")
    assert refused.status_code == 409 and "discarded" in refused.get_data(as_text=True)
    assert Report.select().where(Report.kind == "finding").count() == 0 and RoundAnswer.select().count() == 0
    # A finish in between.
    other_phone["done"] = lambda: None
    done = start(client, world, version)
    for item in items:
        assert answer(client, world, done, version, item).status_code == 201
    other_phone["done"] = lambda: service.finish(SafetyRound.get(SafetyRound.uuid == done), user, [], "", "")
    late = answer(client, world, done, version, items[0], "deviation", "Loose guard rail")
    assert late.status_code == 409 and "finished" in late.get_data(as_text=True)
    assert Report.select().where(Report.kind == "finding").count() == 0
    assert {a.answer for a in RoundAnswer.select()} == {"ok"}


def test_another_persons_round_or_answer_uuid_is_a_409_not_theirs(as_role, world, version):
    """The same UUID from another person was answered 200 with the first person's round or answer, as if it were
    theirs (found by the breaker): only the person who sent it gets it back."""
    foreman, manager = as_role("foreman"), as_role("manager")
    round_uuid = start(foreman, world, version)
    other = manager.post(f"/s/{world.site.id}/rounds/new", data={"uuid": round_uuid, "version": version.id},
                         headers=OUTBOX)
    assert other.status_code == 409 and SafetyRound.select().count() == 1
    # Told what happened: the form was used for another walkaround ("started with another checklist" was not so).
    assert "already used to start another walkaround" in other.get_data(as_text=True)
    item = service.item_keys(version)[0]
    answer_uuid = str(uuid.uuid4())
    data = {"uuid": answer_uuid, "version": version.id, "item": item, "answer": "ok", "note": ""}
    path = f"/s/{world.site.id}/rounds/{round_uuid}/answers"
    assert foreman.post(path, data=data, headers=OUTBOX).status_code == 201
    assert foreman.post(path, data=data, headers=OUTBOX).status_code in (200, 201)  # the same, sent again
    assert manager.post(path, data=data, headers=OUTBOX).status_code == 409
    row = RoundAnswer.get()
    assert row.answered_by_id == world.people["foreman"].id and RoundAnswer.select().count() == 1
