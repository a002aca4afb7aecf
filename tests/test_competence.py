"""Competence (issue 19): a worker's own certificates, approval, requirements at the gate, the matrix, import."""
import csv
import io
import uuid
from datetime import date, datetime, timezone

import pytest
from helpers import client_for, jpeg

from fieldapp.competence import service
from fieldapp.models import (AuditEvent, CertificatePhoto, CheckIn, Membership, PersonTask, Site, SiteRequirement,
                             TrainingRecord, User)


def add_cert(client, **fields):
    data = {"uuid": str(uuid.uuid4()), "course": "hot_work", "taken_on": "2024-05-02", "issuer": "NBF",
            "certificate_number": "VA-1"}
    data.update(fields)
    headers = {"X-Outbox": "1"} if fields.pop("_outbox", False) or data.pop("_outbox", False) else {}
    return client.post("/me/competence", data=data, headers=headers, content_type="multipart/form-data")


def photo(colour="orange"):
    return io.BytesIO(jpeg(colour=colour)), f"{colour}.jpg"


def record(person, course="hot_work", status="approved", taken_on=date(2024, 1, 1), expires_on=None, **kw):
    return TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=person, course=course,
                                 status=status, taken_on=taken_on, expires_on=expires_on, **kw)


def check_in(client, site):
    return client.post(f"/s/{site.id}/checkin", data={"uuid": str(uuid.uuid4()), "all_worn": "y"})


# --- a worker's own certificates ------------------------------------------------------------------------

def test_a_worker_adds_a_certificate_with_photos_and_it_waits_for_approval(as_role, world):
    worker = as_role("worker")
    response = add_cert(worker, photo_front=photo(), photo_back=photo("blue"))
    assert response.status_code == 303, response.get_data(as_text=True)
    row = TrainingRecord.get()
    assert (row.user_id, row.status, row.course) == (world.people["worker"].id, "pending", "hot_work")
    # Hot work: Norsk brannvernforening, 5 years from the date taken.
    assert row.expires_on == date(2029, 5, 2) and not row.expiry_overridden
    assert sorted(p.side for p in CertificatePhoto.select()) == ["back", "front"]
    assert AuditEvent.select().where(AuditEvent.action == "competence.record.create").count() == 1
    page = worker.get("/me/competence").get_data(as_text=True)
    assert "venter på godkjenning" in page and "Sertifikat for varme arbeider" in page


def test_an_expiry_on_the_certificate_overrides_the_computed_one(as_role):
    assert add_cert(as_role("worker"), expires_on="2026-01-31").status_code == 303
    row = TrainingRecord.get()
    assert row.expires_on == date(2026, 1, 31) and row.expiry_overridden


def test_a_course_without_expiry_has_none(as_role):
    assert add_cert(as_role("worker"), course="truck").status_code == 303
    assert TrainingRecord.get().expires_on is None


def test_sent_twice_from_the_outbox_is_saved_once_and_other_content_is_a_conflict(as_role):
    worker = as_role("worker")
    key = str(uuid.uuid4())
    photo = jpeg()
    first = add_cert(worker, uuid=key, _outbox=True, photo_front=(io.BytesIO(photo), "f.jpg"))
    again = add_cert(worker, uuid=key, _outbox=True, photo_front=(io.BytesIO(photo), "f.jpg"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert TrainingRecord.select().count() == 1 and CertificatePhoto.select().count() == 1
    other = add_cert(worker, uuid=key, _outbox=True, certificate_number="VA-2")
    assert other.status_code == 409
    assert "allerede sendt med annet innhold" in other.get_data(as_text=True)
    assert TrainingRecord.select().count() == 1


@pytest.mark.parametrize("fields, status, words", [
    ({"expires_on": "2024-05-01"}, 422, "Utløpsdatoen kan ikke være før"),
    ({"taken_on": "2999-01-01"}, 422, "kan ikke være fram i tid"),
    ({"course": "juggling"}, 422, "Velg en kurstype fra listen"),
    ({"taken_on": "5/2/2024"}, 422, "ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ"),
    ({"taken_on": ""}, 422, "Skriv datoen kurset ble tatt"),
], ids=["expiry_before_taken", "taken_in_future", "unknown_course", "bad_date", "no_date"])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(as_role, fields, status, words):
    response = add_cert(as_role("worker"), photo_front=photo(), **fields)
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert TrainingRecord.select().count() == 0 and CertificatePhoto.select().count() == 0


def test_a_date_in_the_norwegian_form_is_read(as_role):
    assert add_cert(as_role("worker"), taken_on="02.05.2024").status_code == 303
    assert TrainingRecord.get().taken_on == date(2024, 5, 2)


def test_a_file_that_is_no_photo_saves_nothing(as_role):
    response = add_cert(as_role("worker"), photo_front=(io.BytesIO(b"not an image at all"), "f.jpg"))
    assert response.status_code == 415
    assert TrainingRecord.select().count() == 0


# --- approval ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["foreman", "manager"])
def test_a_foreman_or_manager_of_the_employer_approves(as_role, world, role):
    row = record(world.people["worker"], status="pending")
    lead = as_role(role)
    waiting = lead.get(f"/s/{world.site.id}/competence/pending").get_data(as_text=True)
    assert f'data-record="{row.id}"' in waiting and f"/records/{row.id}/front.jpg" not in waiting  # no photo
    assert lead.post(f"/s/{world.site.id}/competence/records/{row.id}/approve").status_code == 303
    row = TrainingRecord.get_by_id(row.id)
    assert row.status == "approved" and row.decided_by_id == world.people[role].id
    assert AuditEvent.select().where(AuditEvent.action == "competence.record.approve").count() == 1
    again = lead.post(f"/s/{world.site.id}/competence/records/{row.id}/approve")
    assert again.status_code == 409 and "allerede godkjent eller avvist" in again.get_data(as_text=True)


def test_rejecting_needs_a_reason_which_the_worker_sees(as_role, world):
    row = record(world.people["worker"], status="pending")
    foreman = as_role("foreman")
    empty = foreman.post(f"/s/{world.site.id}/competence/records/{row.id}/reject", data={"reason": " "})
    assert empty.status_code == 422 and "Skriv hvorfor" in empty.get_data(as_text=True)
    assert TrainingRecord.get_by_id(row.id).status == "pending"
    done = foreman.post(f"/s/{world.site.id}/competence/records/{row.id}/reject", data={"reason": "Uleselig bilde"})
    assert done.status_code == 303
    assert "Uleselig bilde" in as_role("worker").get("/me/competence").get_data(as_text=True)


def test_a_foreman_of_another_employer_may_not_approve(as_role, world):
    world.people["foreman"].employer = world.sub
    world.people["foreman"].save()
    row = record(world.people["worker"], status="pending")
    response = as_role("foreman").post(f"/s/{world.site.id}/competence/records/{row.id}/approve")
    assert response.status_code == 403
    assert "egen arbeidsgiver" in response.get_data(as_text=True)
    assert TrainingRecord.get_by_id(row.id).status == "pending"


def test_the_pending_page_lists_a_subcontractors_worker_and_says_who_approves(as_role, world):
    """The new-user test: Piotr of Nordlys Elektro waited, and Fjordbygg's leads saw "nothing waits"."""
    piotr = world.person("+4791000011", "Piotr Nowak", "worker", world.site, employer=world.sub)
    theirs = record(piotr, status="pending")
    ours = record(world.people["worker"], course="truck", status="pending")
    page = as_role("foreman").get(f"/s/{world.site.id}/competence/pending").get_data(as_text=True)
    assert "Ingenting venter på godkjenning" not in page
    assert f'data-record="{theirs.id}"' in page and "Piotr Nowak" in page
    assert "Venter på en formann eller leder i Nordlys Elektro AS" in page
    assert f"/records/{theirs.id}/approve" not in page and f"/records/{ours.id}/approve" in page
    # The rule is kept: only the employer's foreman or manager decides.
    refused = as_role("foreman").post(f"/s/{world.site.id}/competence/records/{theirs.id}/approve")
    assert refused.status_code == 403 and TrainingRecord.get_by_id(theirs.id).status == "pending"
    world.people["sub_foreman"] = world.person("+4791000012", "Nordlys Formann", "foreman", world.site,
                                               employer=world.sub)
    sub_page = as_role("sub_foreman").get(f"/s/{world.site.id}/competence/pending").get_data(as_text=True)
    assert f"/records/{theirs.id}/approve" in sub_page and f"/records/{ours.id}/approve" not in sub_page
    assert sub_page.index(f'data-record="{theirs.id}"') < sub_page.index(f'data-record="{ours.id}"')  # theirs first
    assert "Venter på en formann eller leder i Fjordbygg AS" in sub_page
    assert as_role("sub_foreman").post(f"/s/{world.site.id}/competence/records/{theirs.id}/approve").status_code == 303
    assert TrainingRecord.get_by_id(theirs.id).status == "approved"


def test_the_persons_page_shows_the_pending_record_and_approves_it_where_allowed(as_role, world):
    row = record(world.people["worker"], status="pending")
    path = f"/s/{world.site.id}/competence/people/{world.people['worker'].id}"
    foreman_page = as_role("foreman").get(path).get_data(as_text=True)
    assert f'data-record="{row.id}"' in foreman_page and f"/records/{row.id}/approve" in foreman_page
    verneombud_page = as_role("verneombud").get(path).get_data(as_text=True)
    assert f'data-record="{row.id}"' in verneombud_page and f"/records/{row.id}/approve" not in verneombud_page
    done = as_role("foreman").post(f"/s/{world.site.id}/competence/records/{row.id}/approve", data={"back": "person"})
    assert done.status_code == 303 and done.headers["Location"].endswith(path)
    assert TrainingRecord.get_by_id(row.id).status == "approved"
    second = record(world.people["worker"], course="first_aid", status="pending")
    empty = as_role("foreman").post(f"/s/{world.site.id}/competence/records/{second.id}/reject",
                                    data={"back": "person", "user": world.people["worker"].id, "reason": ""})
    page = empty.get_data(as_text=True)
    assert empty.status_code == 422 and "Skriv hvorfor" in page and 'id="person-competence"' in page
    assert TrainingRecord.get_by_id(second.id).status == "pending"
    waiting = record(world.people["worker"], course="truck", status="pending")
    world.people["foreman"].employer = world.sub  # now a lead of another employer: sees who decides instead
    world.people["foreman"].save()
    other = as_role("foreman").get(path).get_data(as_text=True)
    assert f'data-record="{waiting.id}"' in other and f"/records/{waiting.id}/approve" not in other
    assert "Venter på en formann eller leder i Fjordbygg AS" in other


def test_a_worker_or_verneombud_cannot_approve(as_role, world):
    row = record(world.people["worker"], status="pending")
    for role in ("worker", "verneombud"):
        assert as_role(role).post(f"/s/{world.site.id}/competence/records/{row.id}/approve").status_code == 403
    assert TrainingRecord.get_by_id(row.id).status == "pending"


def test_a_record_of_someone_not_on_the_site_is_404(as_role, world):
    row = record(world.outsider, status="pending")
    assert as_role("manager").post(f"/s/{world.site.id}/competence/records/{row.id}/approve").status_code == 404


# --- who sees the photos --------------------------------------------------------------------------------------

def test_photos_are_the_persons_their_leads_and_the_verneombud_only_if_agreed(as_role, world):
    worker = as_role("worker")
    assert add_cert(worker, photo_front=photo()).status_code == 303
    row = TrainingRecord.get()
    own = worker.get(f"/me/competence/{row.id}/front.jpg")
    assert own.status_code == 200 and own.mimetype == "image/jpeg"
    site_path = f"/s/{world.site.id}/competence/records/{row.id}/front.jpg"
    assert site_path in as_role("foreman").get(f"/s/{world.site.id}/competence/pending").get_data(as_text=True)
    assert as_role("foreman").get(site_path).status_code == 200
    assert as_role("manager").get(site_path).status_code == 200
    assert as_role("verneombud").get(site_path).status_code == 404
    assert as_role("foreman").get(f"/me/competence/{row.id}/front.jpg").status_code == 404  # not theirs
    TrainingRecord.update(verneombud_may_see=True).execute()
    assert as_role("verneombud").get(site_path).status_code == 200


def test_a_lead_of_another_employer_does_not_see_the_photos(as_role, world):
    assert add_cert(as_role("worker"), photo_front=photo()).status_code == 303
    world.people["foreman"].employer = world.sub
    world.people["foreman"].save()
    row = TrainingRecord.get()
    assert as_role("foreman").get(f"/s/{world.site.id}/competence/records/{row.id}/front.jpg").status_code == 404


def test_the_person_changes_their_consent_for_the_verneombud_later(as_role, world):
    worker = as_role("worker")
    assert add_cert(worker, photo_front=photo()).status_code == 303
    row = TrainingRecord.get()
    site_path = f"/s/{world.site.id}/competence/records/{row.id}/front.jpg"
    assert as_role("verneombud").get(site_path).status_code == 404
    assert f"/me/competence/{row.id}/consent" in worker.get("/me/competence").get_data(as_text=True)
    assert worker.post(f"/me/competence/{row.id}/consent", data={"verneombud_may_see": "y"}).status_code == 303
    assert as_role("verneombud").get(site_path).status_code == 200
    assert worker.post(f"/me/competence/{row.id}/consent", data={"verneombud_may_see": "n"}).status_code == 303
    assert as_role("verneombud").get(site_path).status_code == 404
    changes = [e.after for e in AuditEvent.select().where(AuditEvent.action == "competence.record.consent")
               .order_by(AuditEvent.id)]
    assert len(changes) == 2 and '"verneombud_may_see": true' in changes[0] and "false" in changes[1]
    # Nobody else changes it: another person's record is 404 and unchanged.
    TrainingRecord.update(verneombud_may_see=False).execute()
    assert as_role("foreman").post(f"/me/competence/{row.id}/consent",
                                   data={"verneombud_may_see": "y"}).status_code == 404
    assert TrainingRecord.get_by_id(row.id).verneombud_may_see is False


# --- a lead enters a record for a person ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["foreman", "manager"])
def test_a_foreman_or_manager_enters_a_record_approved_at_once_and_audited(as_role, world, role):
    client, worker = as_role(role), world.people["worker"]
    path = f"/s/{world.site.id}/competence/people/{worker.id}"
    assert f"{path}/records" in client.get(path).get_data(as_text=True)
    data = {"uuid": str(uuid.uuid4()), "course": "truck", "taken_on": "2024-05-02", "issuer": "AKA",
            "certificate_number": "T-9", "verneombud_may_see": "y"}
    assert client.post(f"{path}/records", data=data).status_code == 303
    assert client.post(f"{path}/records", data=data).status_code == 303  # sent twice: saved once
    row = TrainingRecord.get()
    assert (row.user_id, row.course, row.status, row.decided_by_id, row.created_by_id) == (
        worker.id, "truck", "approved", world.people[role].id, world.people[role].id)
    assert row.verneombud_may_see is False  # the person's own choice, not the lead's
    assert AuditEvent.select().where(AuditEvent.action == "competence.record.enter").count() == 1
    assert client.post(f"{path}/records", data={**data, "issuer": "Other"}).status_code == 409


def test_entering_a_record_is_refused_clearly_for_bad_input_other_employers_and_other_roles(as_role, world):
    worker = world.people["worker"]
    path = f"/s/{world.site.id}/competence/people/{worker.id}/records"
    manager = as_role("manager")
    manager.post("/me/language", data={"language": "en"})
    bad = manager.post(path, data={"uuid": str(uuid.uuid4()), "course": "truck", "taken_on": "2099-01-01"})
    assert bad.status_code == 422 and 'id="enter-record"' in bad.get_data(as_text=True)
    assert as_role("verneombud").post(path, data={"uuid": str(uuid.uuid4()), "course": "truck",
                                                   "taken_on": "2024-01-01"}).status_code == 403
    outsider = manager.post(f"/s/{world.site.id}/competence/people/{world.outsider.id}/records",
                            data={"uuid": str(uuid.uuid4()), "course": "truck", "taken_on": "2024-01-01"})
    assert outsider.status_code == 404  # not on this site: not admitted to exist
    world.people["foreman"].employer = world.sub
    world.people["foreman"].save()
    assert as_role("foreman").post(path, data={"uuid": str(uuid.uuid4()), "course": "truck",
                                               "taken_on": "2024-01-01"}).status_code == 403
    assert TrainingRecord.select().count() == 0


# --- requirements at the gate -------------------------------------------------------------------------------

def test_a_blocking_requirement_refuses_check_in_until_approved(as_role, world):
    SiteRequirement.create(site=world.site, course="fall_protection", blocks=True)
    worker = as_role("worker")
    page = worker.get(f"/s/{world.site.id}/checkin").get_data(as_text=True)
    assert "Fallsikring og arbeid i høyden mangler" in page and "Kreves av alle" in page
    refused = check_in(worker, world.site)
    assert refused.status_code == 409 and "Du kan ikke sjekke inn" in refused.get_data(as_text=True)
    assert CheckIn.select().count() == 0
    pending = record(world.people["worker"], course="fall_protection", status="pending")
    assert "venter på godkjenning" in worker.get(f"/s/{world.site.id}/checkin").get_data(as_text=True)
    assert check_in(worker, world.site).status_code == 409
    as_role("foreman").post(f"/s/{world.site.id}/competence/records/{pending.id}/approve")
    assert check_in(worker, world.site).status_code == 303
    assert CheckIn.select().count() == 1


def test_an_expired_hms_card_warns_by_default_and_lets_them_in(as_role, world):
    manager = as_role("manager")
    SiteRequirement.delete().execute()
    assert manager.post(f"/s/{world.site.id}/competence/requirements",
                        data={"course": "hms_card", "task": "", "blocks": "default"}).status_code == 303
    assert SiteRequirement.get().blocks is False
    User.update(hms_card_expiry=date(2020, 1, 1)).where(User.id == world.people["worker"].id).execute()
    worker = as_role("worker")
    assert "HMS-kort har gått ut" in worker.get(f"/s/{world.site.id}/checkin").get_data(as_text=True)
    assert check_in(worker, world.site).status_code == 303


def test_the_outbox_gets_the_refusal_in_the_persons_language(as_role, world):
    SiteRequirement.create(site=world.site, course="first_aid", blocks=True)
    response = as_role("worker").post(f"/s/{world.site.id}/checkin", data={"uuid": str(uuid.uuid4()),
                                                                          "all_worn": "y"},
                                      headers={"X-Outbox": "1"})
    assert response.status_code == 409 and "Førstehjelp" in response.get_data(as_text=True)


def test_a_task_requirement_applies_once_the_task_is_given(as_role, world):
    SiteRequirement.create(site=world.site, course="crane_tower", task="crane_operator", blocks=True)
    worker = as_role("worker")
    assert check_in(worker, world.site).status_code == 303
    CheckIn.delete().execute()
    foreman = as_role("foreman")
    given = foreman.post(f"/s/{world.site.id}/competence/people/{world.people['worker'].id}/tasks",
                         data={"task": ["crane_operator"]})
    assert given.status_code == 303
    page = worker.get(f"/s/{world.site.id}/checkin").get_data(as_text=True)
    assert "Tårnkran (sertifisert) mangler" in page and "Kreves for: Kranfører" in page
    assert check_in(worker, world.site).status_code == 409
    bad = foreman.post(f"/s/{world.site.id}/competence/people/{world.people['worker'].id}/tasks",
                       data={"task": ["juggler"]})
    assert bad.status_code == 422
    assert PersonTask.select().count() == 1


def test_the_same_requirement_twice_and_unknown_codes_are_refused(as_role, world):
    manager = as_role("manager")
    path = f"/s/{world.site.id}/competence/requirements"
    assert manager.post(path, data={"course": "truck", "task": "truck_driver"}).status_code == 303
    twice = manager.post(path, data={"course": "truck", "task": "truck_driver"})
    assert twice.status_code == 409 and "har allerede dette kravet" in twice.get_data(as_text=True)
    assert manager.post(path, data={"course": "nope"}).status_code == 422
    assert manager.post(path, data={"course": "truck", "task": "nope"}).status_code == 422
    assert SiteRequirement.select().where(SiteRequirement.course == "truck").count() == 1


def test_an_organizations_own_course_type_in_each_language(as_role, world, app):
    manager = as_role("manager")
    response = manager.post(f"/s/{world.site.id}/competence/course-types",
                            data={"name_nb": "Asbestsanering", "name_en": "Asbestos removal", "validity_months": "36"})
    assert response.status_code == 303
    with app.test_request_context():
        courses = {c.name: c for c in service.catalogue(world.org.id, "en")}
    assert courses["Asbestos removal"].validity_months == 36
    bad = manager.post(f"/s/{world.site.id}/competence/course-types", data={"name_nb": "X", "validity_months": "0"})
    assert bad.status_code == 422 and "hele måneder" in bad.get_data(as_text=True)


# --- the day of expiry is the site's day --------------------------------------------------------------------

@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 3, 5, 22, 59, tzinfo=timezone.utc), 303),  # 23:59 on 5 March in Oslo: still valid
    (datetime(2026, 3, 5, 23, 1, tzinfo=timezone.utc), 409),  # 00:01 on 6 March in Oslo: expired
])
def test_a_certificate_expires_at_the_sites_midnight(as_role, world, frozen_clock, moment, expected):
    frozen_clock(moment)
    Site.update(time_zone="Europe/Oslo").execute()
    SiteRequirement.create(site=world.site, course="first_aid", blocks=True)
    record(world.people["worker"], course="first_aid", taken_on=date(2024, 3, 5), expires_on=date(2026, 3, 5))
    assert check_in(as_role("worker"), world.site).status_code == expected


def test_the_same_moment_is_another_day_on_a_site_far_west(as_role, world, frozen_clock):
    # 03:00 UTC on 6 March is still 5 March in New York: the certificate is valid there.
    frozen_clock(datetime(2026, 3, 6, 3, 0, tzinfo=timezone.utc))
    Site.update(time_zone="America/New_York").execute()
    SiteRequirement.create(site=world.site, course="first_aid", blocks=True)
    record(world.people["worker"], course="first_aid", expires_on=date(2026, 3, 5))
    assert check_in(as_role("worker"), world.site).status_code == 303


# --- the matrix ------------------------------------------------------------------------------------------------

@pytest.fixture
def staffed(world, frozen_clock):
    """Site A requires first aid of everyone and a truck licence of truck drivers; records in each state."""
    frozen_clock(datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc))
    SiteRequirement.create(site=world.site, course="first_aid", blocks=True)
    SiteRequirement.create(site=world.site, course="truck", task="truck_driver")
    p = world.people
    record(p["worker"], course="first_aid", expires_on=date(2026, 6, 20))  # 19 days: expires within 30
    record(p["foreman"], course="first_aid", expires_on=date(2026, 5, 1))  # expired
    record(p["verneombud"], course="first_aid", status="pending", expires_on=date(2028, 1, 1))  # waiting
    record(p["manager"], course="first_aid", expires_on=date(2026, 8, 15))  # 75 days: within 90
    PersonTask.create(site=world.site, user=p["worker"], task="truck_driver")
    return world


def test_the_matrix_shows_each_status(as_role, staffed, app):
    with app.test_request_context():
        m = service.matrix(staffed.site)
    cells = {row.user.name: row.cells for row in m.rows}
    assert cells["Worker Person"] == ["expires_30", "missing"]
    assert cells["Foreman Person"] == ["expired", None]
    assert cells["Verneombud Person"] == ["waiting", None]
    assert cells["Manager Person"] == ["expires_90", None]
    page = as_role("foreman").get(f"/s/{staffed.site.id}/competence").get_data(as_text=True)
    assert "går ut innen 30 dager" in page and "venter på godkjenning" in page


def test_the_matrix_filters_by_status_and_task(as_role, staffed):
    foreman = as_role("foreman")
    expired = foreman.get(f"/s/{staffed.site.id}/competence?status=expired").get_data(as_text=True)
    assert "Foreman Person" in expired and "Worker Person" not in expired
    drivers = foreman.get(f"/s/{staffed.site.id}/competence?task=truck_driver").get_data(as_text=True)
    assert "Worker Person" in drivers and "Manager Person" not in drivers
    assert foreman.get(f"/s/{staffed.site.id}/competence?status=bogus").status_code == 400


def test_the_matrix_exports_csv_and_pdf(as_role, staffed):
    manager = as_role("manager")
    response = manager.get(f"/s/{staffed.site.id}/competence.csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Navn", "Rolle", "Førstehjelp", "Truck (sertifisert)"]
    by_name = {r[0]: r[1:] for r in rows[1:]}
    assert by_name["Foreman Person"] == ["Bas/formann", "utløpt", ""]
    assert by_name["Worker Person"] == ["Arbeidstaker", "går ut innen 30 dager", "mangler"]
    assert by_name["Verneombud Person"][1] == "venter på godkjenning"
    pdf = manager.get(f"/s/{staffed.site.id}/competence.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_matrix_costs_the_same_queries_for_more_people(as_role, world, count_queries, pin_hash):
    SiteRequirement.create(site=world.site, course="first_aid")
    SiteRequirement.create(site=world.site, course="truck", task="truck_driver")
    foreman = as_role("foreman")

    def cost():
        count_queries.queries.clear()
        assert foreman.get(f"/s/{world.site.id}/competence").status_code == 200
        return len(count_queries.queries)

    few = cost()
    for n in range(20):
        person = User.create(name=f"P{n}", phone=f"+4792000{n:03d}", employer=world.org)
        Membership.create(user=person, site=world.site, role="worker")
        record(person, course="first_aid", expires_on=date(2030, 1, 1))
        PersonTask.create(site=world.site, user=person, task="truck_driver")
    assert cost() == few


# --- the foreman's on-site list and the manager's home --------------------------------------------------------

def test_the_on_site_list_marks_who_lacks_a_requirement(as_role, world):
    SiteRequirement.create(site=world.site, course="first_aid", blocks=False)
    assert check_in(as_role("worker"), world.site).status_code == 303
    page = as_role("foreman").get(f"/s/{world.site.id}/on-site").get_data(as_text=True)
    assert "Mangler kompetanse" in page and "Førstehjelp" in page


def test_the_managers_home_shows_what_expires_within_30_days(as_role, world, frozen_clock):
    frozen_clock(datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc))
    record(world.people["worker"], course="first_aid", expires_on=date(2026, 6, 20))
    record(world.people["foreman"], course="truck", expires_on=date(2026, 9, 1))  # too far ahead
    home = as_role("manager").get("/").get_data(as_text=True)
    assert "Kursbevis som går ut innen 30 dager" in home
    section = home.split("Kursbevis som går ut innen 30 dager")[1]
    assert "Worker Person" in section and "Foreman Person" not in section
    assert "Kursbevis som går ut innen 30 dager" not in as_role("worker").get("/").get_data(as_text=True)


def test_the_matrix_pages_through_many_people_and_the_file_holds_everyone(as_role, world):
    SiteRequirement.create(site=world.site, course="first_aid")
    User.insert_many([dict(name=f"Z{n:03d}", phone=f"+4793000{n:03d}", employer=world.org.id)
                      for n in range(service.PAGE_SIZE)]).execute()
    Membership.insert_many([dict(user=u.id, site=world.site.id, role="worker")
                            for u in User.select().where(User.name.startswith("Z"))]).execute()
    manager = as_role("manager")
    first = manager.get(f"/s/{world.site.id}/competence").get_data(as_text=True)
    last = manager.get(f"/s/{world.site.id}/competence?page=2").get_data(as_text=True)
    assert "Side 1 av 2" in first and "Z000" in first and "Z199" not in first
    assert "Z199" in last and "Z000" not in last
    assert manager.get(f"/s/{world.site.id}/competence?page=x").status_code == 400
    rows = manager.get(f"/s/{world.site.id}/competence.csv").get_data(as_text=True).strip().splitlines()
    assert len(rows) == 1 + service.PAGE_SIZE + 4


def test_a_persons_page_shows_their_certificates_and_the_photos_each_viewer_may_see(as_role, world):
    assert add_cert(as_role("worker"), photo_front=photo()).status_code == 303
    row = TrainingRecord.get()
    path = f"/s/{world.site.id}/competence/people/{world.people['worker'].id}"
    link = f"/records/{row.id}/front.jpg"
    foreman_page = as_role("foreman").get(path).get_data(as_text=True)
    assert "Sertifikat for varme arbeider" in foreman_page and link in foreman_page
    verneombud_page = as_role("verneombud").get(path)
    assert verneombud_page.status_code == 200 and link not in verneombud_page.get_data(as_text=True)
    assert as_role("worker").get(path).status_code == 403
    assert as_role("manager").get(f"/s/{world.site.id}/competence/people/{world.outsider.id}").status_code == 404


@pytest.mark.parametrize("text", ["０１.１２.2025", "1_0.11.2025", "+1.11.2025", "1.11.25", "2025-W48-1", "20251201"])
def test_a_date_in_a_shape_nobody_types_for_a_certificate_is_refused(text):
    """The DD.MM.YYYY reading used int(), which also takes fullwidth digits, underscores and signs."""
    with pytest.raises(service.CompetenceError) as refused:
        service.parse_date(text, "taken_on")
    assert refused.value.reason == "bad_date"


def test_a_certificate_date_is_read_in_both_shapes():
    assert service.parse_date("01.12.2025", "taken_on") == service.parse_date(" 2025-12-01 ", "taken_on")


@pytest.mark.parametrize("role", ["foreman", "manager"])
def test_a_lead_entering_their_own_certificate_waits_for_another_lead(as_role, world, role):
    """The approve button refused one's own record, but the lead's entry form saved it approved by themselves
    (found by the breaker): nobody approves their own certificate, however it is entered."""
    lead = world.people[role]
    client = as_role(role)
    data = {"uuid": str(uuid.uuid4()), "course": "hot_work", "taken_on": "2026-01-02", "issuer": "AKA"}
    assert client.post(f"/s/{world.site.id}/competence/people/{lead.id}/records", data=data).status_code == 303
    row = TrainingRecord.get()
    assert (row.user_id, row.status, row.decided_by_id) == (lead.id, "pending", None)
    other = as_role("manager" if role == "foreman" else "foreman")
    assert other.post(f"/s/{world.site.id}/competence/records/{row.id}/approve").status_code in (200, 303)
    assert TrainingRecord.get_by_id(row.id).status == "approved"


def test_a_one_person_employers_lead_approves_their_own_certificate(app, world):
    """A subcontractor whose only lead is the person themselves (a one-person company): they are the employer,
    so their own entry is approved; otherwise nobody could ever approve it."""
    sole = world.person("+4793000011", "Sole Trader", "foreman", world.site, employer=world.sub)
    client = client_for(app, sole)
    data = {"uuid": str(uuid.uuid4()), "course": "hot_work", "taken_on": "2026-01-02", "issuer": "AKA"}
    assert client.post(f"/s/{world.site.id}/competence/people/{sole.id}/records", data=data).status_code == 303
    row = TrainingRecord.get()
    assert (row.user_id, row.status, row.decided_by_id) == (sole.id, "approved", sole.id)
