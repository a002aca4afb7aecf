"""Safe job analysis (issue 18): the rules, each through the views, as a phone or a browser form sends them."""
import io
import uuid

import pytest
from pypdf import PdfReader
from helpers import PIN, add_sja, sja_form

from fieldapp.models import (Alert, AlertRecipient, AuditEvent, LoginThrottle, Sja, SjaDecision, SjaHazard,
                             SjaSignature, User)
from fieldapp.sja import service


@pytest.fixture
def crew(world):
    return [world.people["worker"], world.people["verneombud"], world.people["foreman"]]


def create(client, world, data, outbox=False):
    headers = {"X-Outbox": "1"} if outbox else {}
    return client.post(f"/s/{world.site.id}/sja/new", data=data, headers=headers)


def page(client, world, sja):
    return client.get(f"/s/{world.site.id}/sja/{sja.id}")


def sign(client, world, sja, outbox=False, **data):
    fields = {"uuid": str(uuid.uuid4()), "revision": str(Sja.get_by_id(sja.id).revision), "language": "en", **data}
    return client.post(f"/s/{world.site.id}/sja/{sja.id}/sign", data=fields,
                       headers={"X-Outbox": "1"} if outbox else {})


# --- making one ----------------------------------------------------------------------------------------------

def test_an_sja_is_saved_with_its_steps_hazards_people_and_an_audit_event(as_role, world, crew):
    response = create(as_role("worker"), world, sja_form(crew, world.people["foreman"]))
    assert response.status_code == 303, response.get_data(as_text=True)
    sja = Sja.get(Sja.site == world.site.id)
    assert (sja.title, sja.place, sja.responsible_id, sja.equipment) == (
        "Welding on the roof", "Roof, axis C", world.people["foreman"].id, ["helmet"])
    hazard = SjaHazard.get()
    assert (hazard.probability, hazard.severity, hazard.measure, hazard.probability_after) == (4, 5, "Fire watch and extinguisher", 1)
    assert sorted(p.user_id for p in sja.participants) == sorted(p.id for p in crew)
    assert AuditEvent.get(AuditEvent.action == "sja.create").record_id == str(sja.id)
    text = page(as_role("worker"), world, sja).get_data(as_text=True)
    assert "4 x 5 = 20" in text and "risk-red" in text


@pytest.mark.parametrize("grades, refused", [(("4", "5"), True), (("2", "4"), True), (("2", "3"), False)])
def test_an_amber_or_red_hazard_without_a_measure_is_refused_beside_the_measure(as_role, world, crew, grades, refused):
    data = sja_form(crew, world.people["foreman"], **{"step-0-hazard-0-probability": grades[0],
                                                      "step-0-hazard-0-severity": grades[1],
                                                      "step-0-hazard-0-measure": ""})
    client = as_role("worker")
    client.post("/me/language", data={"language": "en"})
    response = create(client, world, data)
    if refused:
        assert response.status_code == 422
        assert 'id="step-0-hazard-0-measure-error"' in response.get_data(as_text=True)
        assert "write the measure" in response.get_data(as_text=True)
        assert Sja.select().count() == 0
    else:
        assert response.status_code == 303
        assert Sja.select().count() == 1


def test_the_outbox_gets_the_refusal_in_the_persons_language(as_role, world, crew):
    data = sja_form(crew, world.people["foreman"], **{"step-0-hazard-0-measure": ""})
    response = create(as_role("worker"), world, data, outbox=True)  # the World's people read bokmål
    assert response.status_code == 422
    assert "tiltak" in response.get_data(as_text=True)
    assert Sja.select().count() == 0


@pytest.mark.parametrize("field, value, where", [
    ("title", "", "title"), ("step-0-hazard-0-probability", "6", "step-0-hazard-0-probability"),
    ("responsible", "999999", "responsible"), ("step-0-title", "", "step-0-title"), ("starts_at", "tomorrow", "starts_at"),
    ("starts_at", "2026-W49-2T07:00", "starts_at"), ("starts_at", "20261201T0700", "starts_at"),
    ("equipment", ["x-ray-goggles"], "equipment")])
def test_bad_input_is_told_beside_its_field_and_nothing_is_saved(as_role, world, crew, field, value, where):
    response = create(as_role("worker"), world, sja_form(crew, world.people["foreman"], **{field: value}))
    assert response.status_code == 422
    assert f'id="{where}-error"' in response.get_data(as_text=True)
    assert Sja.select().count() == 0


def test_sent_twice_is_saved_once_and_other_content_under_that_uuid_is_a_conflict(as_role, world, crew):
    client = as_role("worker")
    data = sja_form(crew, world.people["foreman"])
    first, again = create(client, world, data, outbox=True), create(client, world, data, outbox=True)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_data(as_text=True) == again.get_data(as_text=True) == data["uuid"]
    changed = create(client, world, {**data, "title": "Something else"}, outbox=True)
    assert changed.status_code == 409
    assert Sja.select().count() == 1
    assert AuditEvent.select().where(AuditEvent.action == "sja.create").count() == 1


def test_someone_elses_outbox_item_is_never_saved_as_me(as_role, world, crew):
    foreman = as_role("foreman")
    response = foreman.post(f"/s/{world.site.id}/sja/new", data=sja_form(crew, world.people["foreman"]),
                            headers={"X-Outbox": "1", "X-Outbox-Maker": f"{world.people['worker'].id}.1"})
    assert response.status_code == 409 and response.headers["X-Outbox"] == "wrong-person"
    assert Sja.select().count() == 0


# --- who sees it ------------------------------------------------------------------------------------------

def test_a_worker_sees_only_the_sjas_they_take_part_in_and_staff_see_all(as_role, world):
    theirs = add_sja(world, world.people["foreman"], [world.people["worker"]], title="Theirs")
    other = add_sja(world, world.people["foreman"], [world.people["foreman"]], title="Not theirs")
    worker = as_role("worker")
    assert page(worker, world, theirs).status_code == 200
    assert page(worker, world, other).status_code == 404
    assert worker.get(f"/s/{world.site.id}/sja/{other.id}.pdf").status_code == 404
    listing = worker.get(f"/s/{world.site.id}/sja").get_data(as_text=True)
    assert "Theirs" in listing and "Not theirs" not in listing
    assert page(as_role("verneombud"), world, other).status_code == 200
    assert page(as_role("outsider"), world, other).status_code == 404


# --- signing ----------------------------------------------------------------------------------------------

def test_a_participant_signs_on_their_own_phone_once_and_a_resend_is_a_no_op(as_role, world):
    sja = add_sja(world, world.people["foreman"], [world.people["worker"], world.people["foreman"]])
    worker = as_role("worker")
    key = str(uuid.uuid4())
    assert sign(worker, world, sja, outbox=True, uuid=key).status_code == 201
    assert sign(worker, world, sja, outbox=True, uuid=key).status_code == 200
    # A second signature of the same version from another form or phone (another UUID) is the one made: the
    # person has signed, and the outbox must not show it as failed (it was a 409).
    twice = sign(worker, world, sja, outbox=True)
    assert twice.status_code == 200
    signature = SjaSignature.get()
    assert (SjaSignature.select().count(), signature.user_id, signature.method, signature.language) == (
        1, world.people["worker"].id, "session", "en")
    # The worker's signature UUID sent by the foreman: not theirs, and told as a signature, not "an SJA".
    taken = sign(as_role("foreman"), world, sja, outbox=True, uuid=key)
    assert taken.status_code == 409 and "en annen signatur" in taken.get_data(as_text=True)  # the foreman reads nb
    assert SjaSignature.select().count() == 1
    assert AuditEvent.select().where(AuditEvent.action == "sja.sign").count() == 1


def test_signing_for_someone_else_needs_their_own_pin(as_role, world):
    worker, verneombud = world.people["worker"], world.people["verneombud"]
    sja = add_sja(world, world.people["foreman"], [worker, verneombud, world.people["foreman"]])
    crew_phone = as_role("foreman")
    without = sign(crew_phone, world, sja, signer=str(worker.id))
    assert without.status_code == 403
    from_outbox = sign(crew_phone, world, sja, outbox=True, signer=str(worker.id), pin=PIN)
    assert from_outbox.status_code == 403  # a PIN never waits on a phone
    wrong = sign(crew_phone, world, sja, signer=str(worker.id), pin="000000")
    assert wrong.status_code == 422 and 'id="pin-error"' in wrong.get_data(as_text=True)
    assert SjaSignature.select().count() == 0
    right = sign(crew_phone, world, sja, signer=str(worker.id), pin=PIN)
    assert right.status_code == 303
    signature = SjaSignature.get()
    assert (signature.user_id, signature.device_user_id, signature.method) == (worker.id, world.people["foreman"].id, "pin")
    # The foreman's own PIN does not sign as the verneombud.
    assert sign(crew_phone, world, sja, signer=str(verneombud.id), pin="111111").status_code == 422


def test_wrong_pins_are_throttled_like_sign_in(app, as_role, world):
    worker = world.people["worker"]
    sja = add_sja(world, world.people["foreman"], [worker, world.people["foreman"]])
    crew_phone = as_role("foreman")
    statuses = [sign(crew_phone, world, sja, signer=str(worker.id), pin="000000").status_code
                for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1)]
    assert statuses[:-1] == [422] * app.config["LOGIN_MAX_FAILURES"] and statuses[-1] == 429
    assert sign(crew_phone, world, sja, signer=str(worker.id), pin=PIN).status_code == 429  # even the right one
    assert LoginThrottle.select().where(LoginThrottle.key == f"phone:{worker.phone}").exists()
    assert SjaSignature.select().count() == 0


def test_a_non_participant_cannot_sign(as_role, world):
    sja = add_sja(world, world.people["foreman"], [world.people["foreman"]])
    assert sign(as_role("verneombud"), world, sja).status_code == 403  # staff see it, but do not take part


def test_a_signature_of_an_older_version_is_refused(as_role, world):
    sja = add_sja(world, world.people["foreman"], [world.people["worker"], world.people["foreman"]])
    response = sign(as_role("worker"), world, sja, revision="0")
    assert response.status_code == 409
    assert SjaSignature.select().count() == 0


# --- deciding, changing, finishing ---------------------------------------------------------------------------

def decide(client, world, sja, decision, note=""):
    return client.post(f"/s/{world.site.id}/sja/{sja.id}/decide",
                       data={"decision": decision, "note": note, "revision": str(Sja.get_by_id(sja.id).revision)})


def edit(client, world, sja, crew, **overrides):
    data = sja_form(crew, world.people["foreman"], revision=str(Sja.get_by_id(sja.id).revision), **overrides)
    return client.post(f"/s/{world.site.id}/sja/{sja.id}/edit", data=data)


def test_participants_are_told_in_their_language_once_per_revision(as_role, world, crew):
    worker, verneombud = world.people["worker"], world.people["verneombud"]
    User.update(language="nb").where(User.id == worker.id).execute()
    User.update(language="en").where(User.id == verneombud.id).execute()
    foreman = as_role("foreman")
    data = sja_form(crew, world.people["foreman"])
    assert create(foreman, world, data).status_code == 303
    assert create(foreman, world, data, outbox=True).status_code in (200, 201, 303)  # sent twice: told once
    sja = Sja.get()

    def told():
        return sorted((r.user_id, a.title) for r, a in
                      ((r, r.alert) for r in AlertRecipient.select().join(Alert).where(Alert.site == world.site)))
    first = told()
    # The worker (bokmål) and the verneombud (English) are told; the foreman made it and is not.
    assert [user for user, _title in first] == sorted([worker.id, verneombud.id])
    assert dict(first)[verneombud.id] == "SJA to sign: Welding on the roof"
    assert dict(first)[worker.id] == "SJA til signering: Welding on the roof"
    assert Alert.select().where(Alert.site == world.site).count() == 2  # one per language
    assert AlertRecipient.select().join(Alert).where(Alert.ack_required == True).count() == 0  # noqa: E712
    # Signing does not tell anyone again; a new revision asks everyone again, once.
    assert sign(as_role("worker"), world, sja).status_code == 303
    assert len(told()) == 2
    assert edit(foreman, world, sja, crew, title="Welding on the roof, east").status_code == 303
    assert len(told()) == 4
    assert service.ask_to_sign(world.people["foreman"], Sja.get_by_id(sja.id)) == 0  # the same revision: nothing new


def test_only_the_responsible_person_decides_and_go_needs_every_signature(as_role, world):
    sja = add_sja(world, world.people["foreman"], [world.people["worker"], world.people["foreman"]])
    assert decide(as_role("manager"), world, sja, "go").status_code == 403
    foreman = as_role("foreman")
    assert decide(foreman, world, sja, "go").status_code == 409  # nobody has signed
    assert decide(foreman, world, sja, "no_go").status_code == 422  # a no-go says why
    sign(as_role("worker"), world, sja)
    sign(foreman, world, sja)
    assert decide(foreman, world, sja, "go").status_code == 303
    assert Sja.get_by_id(sja.id).decision == "go"
    assert AuditEvent.select().where(AuditEvent.action == "sja.decide").count() == 1


def test_a_no_go_is_revised_the_crew_signs_again_and_the_history_is_kept(as_role, world, crew):
    foreman = as_role("foreman")
    create(foreman, world, sja_form(crew, world.people["foreman"]))
    sja = Sja.get()
    for person in ("worker", "verneombud", "foreman"):
        assert sign(as_role(person), world, sja).status_code == 303
    assert decide(foreman, world, sja, "no_go", "Too much wind").status_code == 303
    response = edit(foreman, world, sja, crew, **{"step-0-hazard-0-measure": "Fire watch, extinguisher, wind under 8 m/s"})
    assert response.status_code == 303, response.get_data(as_text=True)
    changed = Sja.get_by_id(sja.id)
    assert (changed.revision, changed.decision) == (2, None)
    assert decide(foreman, world, sja, "go").status_code == 409  # the signatures were for version 1
    for person in ("worker", "verneombud", "foreman"):
        assert sign(as_role(person), world, sja).status_code == 303
    assert decide(foreman, world, sja, "go").status_code == 303
    history = [(d.decision, d.revision, d.note) for d in SjaDecision.select().order_by(SjaDecision.id)]
    assert history == [("no_go", 1, "Too much wind"), ("go", 2, "")]
    assert SjaSignature.select().count() == 6
    foreman.post("/me/language", data={"language": "en"})
    text = page(foreman, world, sja).get_data(as_text=True)
    assert "Too much wind" in text and "(version 1)" in text and "(version 2)" in text
    assert "Worker Person signed version 1 on" in text  # the earlier signatures stay on the page


def test_editing_after_the_go_is_refused_and_nothing_changes(as_role, world, crew):
    foreman = as_role("foreman")
    create(foreman, world, sja_form(crew, world.people["foreman"]))
    sja = Sja.get()
    for person in ("worker", "verneombud", "foreman"):
        sign(as_role(person), world, sja)
    decide(foreman, world, sja, "go")
    response = edit(foreman, world, sja, crew, title="Changed afterwards")
    assert response.status_code == 409
    assert foreman.get(f"/s/{world.site.id}/sja/{sja.id}/edit").status_code == 409
    assert Sja.get_by_id(sja.id).title == "Welding on the roof"
    signatures = SjaSignature.select().count()
    assert sign(as_role("worker"), world, sja).status_code == 303  # signed already: nothing new, nothing refused
    assert SjaSignature.select().count() == signatures
    assert AuditEvent.select().where(AuditEvent.action == "sja.change").count() == 0


def test_a_worker_who_neither_made_nor_leads_it_cannot_change_it(as_role, world):
    sja = add_sja(world, world.people["foreman"], [world.people["worker"], world.people["foreman"]])
    response = edit(as_role("worker"), world, sja, [world.people["worker"]])
    assert response.status_code == 403


def test_lessons_learned_are_shown_on_the_next_sja_with_the_same_title_or_place(as_role, world, crew):
    foreman = as_role("foreman")
    create(foreman, world, sja_form(crew, world.people["foreman"], place="Tak, akse C"))
    sja = Sja.get()
    assert foreman.post(f"/s/{world.site.id}/sja/{sja.id}/finish", data={"lessons": "x"}).status_code == 409
    for person in ("worker", "verneombud", "foreman"):
        sign(as_role(person), world, sja)
    decide(foreman, world, sja, "go")
    lessons = "Cover the insulation with fire blankets first"
    assert foreman.post(f"/s/{world.site.id}/sja/{sja.id}/finish", data={"lessons": lessons}).status_code == 303
    assert AuditEvent.select().where(AuditEvent.action == "sja.finish").count() == 1
    copy = foreman.get(f"/s/{world.site.id}/sja/new?copy={sja.id}").get_data(as_text=True)
    assert lessons in copy and 'value="Welding on the roof"' in copy
    by_place = add_sja(world, world.people["foreman"], [world.people["foreman"]], title="Other job", place="tak, akse c")
    assert lessons in page(foreman, world, by_place).get_data(as_text=True)
    elsewhere = add_sja(world, world.people["foreman"], [world.people["foreman"]], title="Other job", place="Basement")
    assert lessons not in page(foreman, world, elsewhere).get_data(as_text=True)


def test_an_organization_template_is_named_per_language_and_copied(as_role, world):
    sja = add_sja(world, world.people["foreman"], [world.people["foreman"]])
    manager = as_role("manager")
    response = manager.post(f"/s/{world.site.id}/sja/{sja.id}/template",
                            data={"uuid": str(uuid.uuid4()), "name_nb": "Løft med kran", "name_en": "Crane lift"})
    assert response.status_code == 303
    template = Sja.get(Sja.site.is_null())
    assert template.template_names == {"nb": "Løft med kran", "en": "Crane lift"}
    worker = as_role("worker")
    assert "Løft med kran" in worker.get(f"/s/{world.site.id}/sja").get_data(as_text=True)
    form = worker.get(f"/s/{world.site.id}/sja/new?template={template.id}").get_data(as_text=True)
    assert "Load swings" in form
    made = create(worker, world, sja_form([world.people["worker"]], world.people["foreman"],
                                          copied_from=str(template.id)))
    assert made.status_code == 303
    assert Sja.get(Sja.site == world.site.id, Sja.id != sja.id).copied_from_id == template.id
    assert as_role("worker").post(f"/s/{world.site.id}/sja/{sja.id}/template",
                                  data={"name_nb": "x"}).status_code == 403


def test_the_home_card_lists_the_sjas_awaiting_my_signature(as_role, world):
    sja = add_sja(world, world.people["foreman"], [world.people["worker"], world.people["foreman"]], title="Crane job")
    worker = as_role("worker")
    assert "Crane job" in worker.get("/").get_data(as_text=True)
    sign(worker, world, sja)
    assert "Crane job" not in worker.get("/").get_data(as_text=True)
    assert "Crane job" not in as_role("verneombud").get("/").get_data(as_text=True)  # not taking part


def test_the_pdf_is_a_real_pdf_with_the_hazards_scores_people_and_decision(as_role, world):
    sja = add_sja(world, world.people["foreman"], [world.people["worker"], world.people["foreman"]])
    foreman = as_role("foreman")
    sign(as_role("worker"), world, sja)
    sign(foreman, world, sja)
    decide(foreman, world, sja, "go")
    foreman.post("/me/language", data={"language": "en"})
    response = foreman.get(f"/s/{world.site.id}/sja/{sja.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    for words in ("Load swings", "Tag lines", "Worker Person", "Foreman Person", "Go: the job may start"):
        assert words in text, words
    assert "4x5=20" in "".join(text.split())  # the score, however the narrow column wraps it


def test_on_the_crew_phone_each_reads_it_in_their_own_language_and_the_signature_says_which(as_role, world):
    worker = world.people["worker"]
    worker.language = "en"
    worker.save()
    sja = add_sja(world, world.people["foreman"], [worker, world.people["foreman"]])
    crew_phone = as_role("foreman")  # the foreman reads bokmål
    assert "Høy risiko (rød)" in page(crew_phone, world, sja).get_data(as_text=True)
    theirs = crew_phone.get(f"/s/{world.site.id}/sja/{sja.id}?reader={worker.id}").get_data(as_text=True)
    assert "High risk (red)" in theirs and "Load swings" in theirs  # the app's words translated, the text as written
    assert 'name="language" value="en"' in theirs
    assert sign(crew_phone, world, sja, signer=str(worker.id), pin=PIN, language="en").status_code == 303
    assert SjaSignature.get().language == "en"


def test_the_sja_page_and_pdf_cost_as_many_queries_with_one_signature_as_with_four(as_role, world, count_queries):
    people = [world.people[r] for r in ("worker", "verneombud", "manager", "foreman")]
    sja = add_sja(world, world.people["foreman"], people)
    foreman = as_role("foreman")
    sign(foreman, world, sja)

    def cost():
        page(foreman, world, sja)  # the device session's last_seen_at is written at most every 5 min: warm up
        count_queries.queries.clear()
        assert page(foreman, world, sja).status_code == 200
        assert foreman.get(f"/s/{world.site.id}/sja/{sja.id}.pdf").status_code == 200
        return len(count_queries.queries)

    few = cost()
    for role in ("worker", "verneombud", "manager"):
        sign(as_role(role), world, sja)
    assert cost() == few


def test_the_start_input_offers_only_the_range_the_server_accepts(as_role, world, crew, frozen_clock):
    # From the outbox a refused SJA can only be sent again or dropped: the phone refuses an absurd start first.
    import re
    from datetime import datetime

    frozen_clock(datetime(2026, 3, 10, 9, 0))  # 10:00 in Oslo
    form_page = as_role("foreman").get(f"/s/{world.site.id}/sja/new").get_data(as_text=True)
    starts = re.search(r'<input id="starts_at"[^>]*>', form_page).group(0)
    assert 'min="2025-03-10T00:00"' in starts and 'max="2028-03-09T23:59"' in starts, starts
    for outside, status in (("2025-03-09T23:00", 422), ("2028-03-10T07:00", 422), ("2028-03-09T07:00", 303)):
        response = create(as_role("foreman"), world, sja_form(crew, world.people["foreman"], starts_at=outside))
        assert response.status_code == status, outside


@pytest.mark.parametrize("query", ["copy=99999999999999999999", "template=9223372036854775808",
                                   "copy=-99999999999999999999", "copy=%D9%A3", "template=abc"])
def test_an_odd_id_in_the_new_sja_address_is_ignored_not_a_500(as_role, world, query):
    """type=int read 20 digits, and the lookup overflowed the database's integer: a 500 for any worker."""
    response = as_role("worker").get(f"/s/{world.site.id}/sja/new?{query}")
    assert response.status_code == 200


def test_a_participant_who_may_not_change_the_sja_is_told_before_the_form(as_role, world, crew):
    """The breaker's find: a worker on the crew opened /edit (200, the whole form) and was refused only after
    filling it in. The form is for those who may change the SJA; the others are told so at once."""
    foreman = as_role("foreman")
    create(foreman, world, sja_form(crew, world.people["foreman"]))
    sja = Sja.get()
    refused = as_role("worker").get(f"/s/{world.site.id}/sja/{sja.id}/edit")
    assert refused.status_code == 403
    assert "Bare den som laget den, den ansvarlige" in refused.get_data(as_text=True)
    assert 'name="step-0-title"' not in refused.get_data(as_text=True)
    assert foreman.get(f"/s/{world.site.id}/sja/{sja.id}/edit").status_code == 200
