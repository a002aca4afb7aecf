"""Hazard and incident reports: sent once with all their photos or not at all, seen by the right people,
followed up to the end with a timeline and an audit trail."""
import io
import re
import time
import uuid
from datetime import datetime, timedelta

import pytest
from PIL import Image

from fieldapp import audit, clock, photos, storage
from fieldapp.reports import service as reports
from fieldapp.models import AuditEvent, InjuryDetails, Photo, Report, ReportEvent

from helpers import jpeg, png_header_only, stored_names


def uploads(app):
    return stored_names(app)


def send(client, site, photo_blobs=(), outbox=False, report_uuid=None, **fields):
    data = {"uuid": report_uuid or str(uuid.uuid4()), "kind": "hazard", "category": "falls", **fields}
    data["photos"] = [(io.BytesIO(blob), f"IMG_{i}.jpg") for i, blob in enumerate(photo_blobs)]
    headers = {"X-Outbox": "1"} if outbox else {}
    return client.post(f"/s/{site.id}/reports/new", data=data, headers=headers, content_type="multipart/form-data")


@pytest.fixture
def worker(as_role):
    return as_role("worker")


def new_reports(world):
    return Report.select().where(Report.id != world.report.id)


def test_a_report_with_two_photos_is_saved_with_its_timeline_and_audit(app, world, worker):
    response = send(worker, world.site, [jpeg((4032, 3024), orientation=6, gps=True), jpeg((640, 480))],
                    description="Loose railing", place="3rd floor, stairwell B")
    assert response.status_code == 303
    report = new_reports(world).get()
    assert response.headers["Location"] == f"/s/{world.site.id}/reports/{report.id}?sent=1"
    assert (report.kind, report.category, report.severity) == ("hazard", "falls", "high")  # falls default high
    assert report.reporter_id == world.people["worker"].id and report.place == "3rd floor, stairwell B"
    stored = list(Photo.select().where(Photo.report == report).order_by(Photo.position))
    assert [(p.width, p.height) for p in stored] == [(1200, 1600), (640, 480)]
    for p in stored:
        image = Image.open(io.BytesIO(storage.for_app(app).read(p.digest)))
        assert dict(image.getexif()) == {} and max(image.size) <= 1600
    assert [e.kind for e in ReportEvent.select().where(ReportEvent.report == report)] == ["created"]
    assert AuditEvent.select().where((AuditEvent.action == "report.create")
                                     & (AuditEvent.record_id == str(report.id))).count() == 1
    page = worker.get(response.headers["Location"]).get_data(as_text=True)
    assert "Loose railing" in page and "Takk. Rapporten er sendt" in page


def test_the_same_uuid_sent_again_is_saved_once(app, world, worker):
    report_uuid = str(uuid.uuid4())
    blob = jpeg()
    first = send(worker, world.site, [blob], outbox=True, report_uuid=report_uuid, description="Hole in the deck")
    again = send(worker, world.site, [blob], outbox=True, report_uuid=report_uuid, description="Hole in the deck")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_data(as_text=True) == again.get_data(as_text=True) == report_uuid
    assert new_reports(world).count() == 1 and Photo.select().where(Photo.report != world.report).count() == 1


def test_the_same_uuid_with_other_content_is_a_conflict(world, worker):
    report_uuid = str(uuid.uuid4())
    assert send(worker, world.site, [jpeg()], outbox=True, report_uuid=report_uuid).status_code == 201
    other = send(worker, world.site, [jpeg(colour="blue")], outbox=True, report_uuid=report_uuid)
    assert other.status_code == 409
    assert "annet innhold" in other.get_data(as_text=True)
    assert new_reports(world).count() == 1


BAD_PHOTOS = {
    "not an image": (b"%PDF-1.7\n", 415, "ikke et bilde"),
    "truncated JPEG": (jpeg((800, 600))[:3000], 422, "skadet"),
    "0-byte file": (b"", 422, "tom"),
    "20000x20000 image": (png_header_only(20000, 20000), 413, "for mange piksler"),
}


@pytest.mark.parametrize("case", sorted(BAD_PHOTOS))
def test_a_bad_photo_is_left_out_and_the_report_saved_with_the_good_one(app, world, worker, case):
    """Issue 13: one bad photo never sinks a report; the person is told which photo and why."""
    blob, _status, words = BAD_PHOTOS[case]
    response = send(worker, world.site, [jpeg(), blob], description="With a bad photo")
    assert response.status_code == 303
    report = new_reports(world).get()
    assert Photo.select().where(Photo.report == report).count() == 1  # the good one is kept
    assert [e.kind for e in ReportEvent.select().where(ReportEvent.report == report)] == ["created", "photo_dropped"]
    page = worker.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bilde 2 (IMG_1.jpg) kunne ikke brukes" in page and words in page.lower()
    # From the outbox: saved, and the receipt says which photo was left out, as JSON (never a page).
    response = send(worker, world.site, [blob], outbox=True, description="Only a bad photo")
    assert response.status_code == 201 and response.mimetype == "application/json"
    notes = response.get_json()["notes"]
    assert len(notes) == 1 and "Bilde 1 (IMG_0.jpg)" in notes[0] and words in notes[0].lower()
    assert new_reports(world).count() == 2


def test_a_photo_over_the_size_cap_is_left_out(app, world, worker, monkeypatch):
    monkeypatch.setattr(photos, "MAX_BYTES", 20_000)
    response = send(worker, world.site, [jpeg(), jpeg((1600, 1200), quality=98)], outbox=True)
    assert response.status_code == 201 and "15 MB" in response.get_json()["notes"][0]
    assert Photo.select().where(Photo.report == new_reports(world).get()).count() == 1


def test_a_request_over_the_upload_cap_is_refused(app, world, worker, monkeypatch):
    from fieldapp.reports import views

    monkeypatch.setattr(views, "REPORT_MAX_BYTES", 10_000)
    response = send(worker, world.site, [jpeg((1600, 1200), quality=98)])
    assert response.status_code == 413 and new_reports(world).count() == 0
    assert "for stor" in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("fields,status,words", [
    ({}, 422, "legg til et bilde"),  # no photo, no text
    ({"description": "x" * 1001}, 422, "for lang"),
    ({"place": "x" * 201, "description": "ok"}, 422, "for lang"),
    ({"category": "", "description": "no category"}, 422, "hva det gjelder"),
    ({"kind": "rumour", "description": "bad kind"}, 422, "hva som skjedde"),
    ({"severity": "apocalyptic", "description": "bad severity"}, 422, "alvorlighetsgrad"),
    ({"uuid": "not-a-uuid", "description": "bad uuid"}, 400, "skjemaet var ødelagt"),
])
def test_bad_report_fields_get_a_clear_message(world, worker, fields, status, words):
    response = send(worker, world.site, **fields)
    assert response.status_code == status
    assert words in response.get_data(as_text=True).lower()
    assert new_reports(world).count() == 0


def test_a_failure_in_the_middle_leaves_nothing_and_the_retry_saves_it(app, world, worker, monkeypatch):
    report_uuid = str(uuid.uuid4())
    real_create = Photo.create
    calls = []

    def second_photo_fails(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_create(**kwargs)

    monkeypatch.setattr(Photo, "create", second_photo_fails)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    before = uploads(app)
    response = send(worker, world.site, [jpeg(), jpeg(colour="blue")], outbox=True, report_uuid=report_uuid)
    assert response.status_code == 500
    assert new_reports(world).count() == 0 and uploads(app) == before
    assert AuditEvent.select().where(AuditEvent.action == "report.create").count() == 0
    monkeypatch.setattr(Photo, "create", real_create)
    retry = send(worker, world.site, [jpeg(), jpeg(colour="blue")], outbox=True, report_uuid=report_uuid)
    assert retry.status_code == 201
    assert Photo.select().where(Photo.report == new_reports(world).get()).count() == 2


def injury(worker, world, **extra):
    fields = {"absence_beyond_day": "y", "absence_days": "3", "medical_treatment": "y", "serious": "y",
              "injury_notes": "Deep cut, left hand, stitches at the A&E", **extra}
    response = send(worker, world.site, [jpeg()], kind="injury", category="machines_tools", **fields)
    assert response.status_code == 303
    return new_reports(world).order_by(Report.id.desc()).first()


def test_injury_medical_details_are_for_managers_only(world, worker, as_role):
    report = injury(worker, world)
    assert report.severity == "high"
    details = InjuryDetails.get(InjuryDetails.report == report)
    assert (details.absence_days, details.medical_treatment, details.serious) == (3, True, True)
    path = f"/s/{world.site.id}/reports/{report.id}"
    for role in ("worker", "foreman", "verneombud"):
        page = as_role(role).get(path).get_data(as_text=True)
        assert "Deep cut" not in page and "stitches" not in page, role
        assert "bare av byggeplassens ledere" in page
    page = as_role("manager").get(path).get_data(as_text=True)
    assert "Deep cut, left hand" in page and "§ 5-2" in page


def test_everyone_on_a_serious_injury_is_told_it_is_serious_but_not_the_medical_details(world, worker, as_role):
    """The foreman and the verneombud act on a serious injury at once (AML § 5-2): that it is serious is shown
    to every reader of the report; what the injury is stays with the managers."""
    serious = injury(worker, world)
    minor = injury(worker, world, serious="")
    for role in ("worker", "foreman", "verneombud", "manager"):
        client = as_role(role)
        page = client.get(f"/s/{world.site.id}/reports/{serious.id}").get_data(as_text=True)
        assert page.count('class="warning serious-injury"') == 1 and "§ 5-2" in page, role
        assert ("Deep cut" in page) == (role == "manager"), role
        page = client.get(f"/s/{world.site.id}/reports/{minor.id}").get_data(as_text=True)
        assert "serious-injury" not in page, role


def test_the_manager_records_when_the_authorities_were_notified(world, worker, as_role):
    report = injury(worker, world)
    manager = as_role("manager")
    path = f"/s/{world.site.id}/reports/{report.id}/notified"
    assert manager.post(path, data={"authority": "police", "at": "not a time"}).status_code == 422
    assert manager.post(path, data={"authority": "police", "at": "2099-01-01T10:00"}).status_code == 422
    # Before the injury happened (year 1 overflowed in the conversion to UTC: a 500).
    for early in ("0001-01-01T00:00", "1900-01-01T10:00"):
        assert manager.post(path, data={"authority": "police", "at": early}).status_code == 422, early
    assert InjuryDetails.get(InjuryDetails.report == report).police_notified_at is None
    when = clock.today(world.site).isoformat() + "T00:05"
    assert manager.post(path, data={"authority": "arbeidstilsynet", "at": when}).status_code == 303
    details = InjuryDetails.get(InjuryDetails.report == report)
    assert details.arbeidstilsynet_notified_at is not None and details.police_notified_at is None
    assert as_role("foreman").post(path, data={"authority": "police", "at": when}).status_code == 403


def test_a_notification_time_outside_the_injury_and_now_is_told_beside_its_field(world, worker, as_role):
    # "Give the date and time of the notification" in a banner, for a time that was given (a year early, or in
    # 2099), with the field emptied: the manager could not see what was wrong, nor where.
    report = injury(worker, world)
    manager = as_role("manager")
    manager.post("/me/language", data={"language": "en"})
    path = f"/s/{world.site.id}/reports/{report.id}/notified"
    for authority, at in (("police", "2099-01-01T10:00"), ("arbeidstilsynet", "1900-01-01T10:00")):
        refused = manager.post(path, data={"authority": authority, "at": at})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422
        beside = page[page.index(f'id="at-{authority}-error"'):].split("</p>")[0]
        assert "after the injury and not in the future" in beside and 'class="error banner"' not in page
        assert f'value="{at}" aria-invalid="true" aria-describedby="at-{authority}-error"' in page  # kept, in its form
        assert page.count(f'value="{at}"') == 1
    missing = manager.post(path, data={"authority": "police", "at": ""}).get_data(as_text=True)
    assert "Give the date and time of the notification." in missing and 'id="at-police-error"' in missing
    assert InjuryDetails.get(InjuryDetails.report == report).police_notified_at is None


def test_a_worker_sees_their_own_reports_and_not_a_colleagues(app, world, worker):
    colleague_user = world.person("+4791000007", "Colleague Worker", "worker", world.site)
    from fieldapp.accounts import service as accounts

    colleague = app.test_client()
    with app.test_request_context():
        token = accounts.start_device_session(colleague_user, "pytest")
    with colleague.session_transaction() as s:
        s["sid"] = token
    photo = Photo.create(report=world.report, digest="a" * 64, width=10, height=10)
    assert colleague.get(f"/s/{world.site.id}/reports/{world.report.id}").status_code == 404
    assert colleague.get(f"/s/{world.site.id}/reports/{world.report.id}/photos/{photo.digest}.jpg").status_code == 404
    assert "Open edge" not in colleague.get(f"/s/{world.site.id}/reports").get_data(as_text=True)
    assert "Open edge" in worker.get(f"/s/{world.site.id}/reports").get_data(as_text=True)


def test_photos_are_served_to_the_site_with_long_private_caching(app, world, worker, as_role):
    send(worker, world.site, [jpeg()])
    report = new_reports(world).get()
    photo = Photo.get(Photo.report == report)
    for path in (f"/s/{world.site.id}/reports/{report.id}/photos/{photo.digest}.jpg",
                 f"/s/{world.site.id}/reports/{report.id}/thumbs/{photo.digest}.jpg"):
        response = as_role("foreman").get(path)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        Image.open(io.BytesIO(response.data)).verify()
        assert as_role("outsider").get(path).status_code == 404
    # A photo of another report cannot be fetched through this one's URL.
    assert as_role("foreman").get(f"/s/{world.site.id}/reports/{world.report.id}/photos/{photo.digest}.jpg"
                                  ).status_code == 404


def test_follow_up_from_assignment_to_closed_and_the_reporter_is_told(app, world, worker, as_role):
    send(worker, world.site, [jpeg()], description="Missing toe board")
    report = new_reports(world).get()
    base = f"/s/{world.site.id}/reports/{report.id}"
    foreman = as_role("foreman")
    deadline = (clock.today(world.site) + timedelta(days=2)).isoformat()
    assert foreman.post(base + "/assign", data={"assignee": world.outsider.id, "deadline": deadline}).status_code == 422
    assert foreman.post(base + "/assign", data={"assignee": world.people["foreman"].id,
                                                "deadline": "2000-01-01"}).status_code == 422
    assert foreman.post(base + "/assign", data={"assignee": world.people["foreman"].id,
                                                "deadline": deadline}).status_code == 303
    report = Report.get_by_id(report.id)
    assert report.status == "in_progress" and report.assignee_id == world.people["foreman"].id
    # Closing needs the corrective action.
    assert foreman.post(base + "/close", data={"text": ""}).status_code == 422
    response = foreman.post(base + "/after-photo", data={"photo": (io.BytesIO(jpeg(colour="green")), "after.jpg")},
                            content_type="multipart/form-data")
    assert response.status_code == 303
    assert foreman.post(base + "/after-photo", data={"photo": (io.BytesIO(b"nope"), "x.jpg")},
                        content_type="multipart/form-data").status_code == 415
    assert worker.post(base + "/comment", data={"text": "Thanks!"}).status_code == 303
    assert worker.post(base + "/close", data={"text": "I fixed it myself"}).status_code == 403
    assert foreman.post(base + "/close", data={"text": "Toe board mounted along the edge"}).status_code == 303
    report = Report.get_by_id(report.id)
    assert report.status == "closed" and report.corrective_action == "Toe board mounted along the edge"
    assert report.description == "Missing toe board"  # the original content is untouched
    kinds = [e.kind for e in ReportEvent.select().where(ReportEvent.report == report).order_by(ReportEvent.id)]
    assert kinds == ["created", "assigned", "after_photo", "comment", "action", "closed"]
    assert Photo.select().where((Photo.report == report) & Photo.after).count() == 1
    # The reporter is told on the home screen until they have looked at it.
    home = worker.get("/").get_data(as_text=True)
    assert "er behandlet og lukket" in home
    page = worker.get(base).get_data(as_text=True)
    assert "Toe board mounted" in page and "Utbedret og lukket" in page
    assert "er behandlet og lukket" not in worker.get("/").get_data(as_text=True)
    # Reopening needs a reason and is a new timeline entry.
    assert foreman.post(base + "/reopen", data={"text": ""}).status_code == 422
    assert foreman.post(base + "/reopen", data={"text": "Board came loose"}).status_code == 303
    assert Report.get_by_id(report.id).status == "in_progress"
    assert audit.verify_chain()[1] is None


def test_lists_filter_and_overdue_items_stand_out(world, worker, as_role):
    send(worker, world.site, description="Cable across the walkway", category="electrical")
    send(worker, world.site, description="Messy container area", category="order_tidiness")
    messy = Report.get(Report.description == "Messy container area")
    Report.update(deadline=clock.today(world.site) - timedelta(days=1),
                  status="in_progress").where(Report.id == messy.id).execute()
    foreman = as_role("foreman")
    page = foreman.get(f"/s/{world.site.id}/reports").get_data(as_text=True)
    assert "Cable across the walkway" in page and "Messy container area" in page
    assert page.count('class="report-row') == 3
    assert page.count("report-row overdue") == 1
    overdue = foreman.get(f"/s/{world.site.id}/reports?status=overdue").get_data(as_text=True)
    assert overdue.count('class="report-row') == 1 and "Orden og ryddighet" in overdue
    electrical = foreman.get(f"/s/{world.site.id}/reports?category=electrical").get_data(as_text=True)
    assert electrical.count('class="report-row') == 1 and "Elektrisk" in electrical
    high = foreman.get(f"/s/{world.site.id}/reports?severity=high").get_data(as_text=True)
    assert high.count('class="report-row') == 2  # electrical (default high) and World's falls report
    # The htmx filter swaps the rows only.
    fragment = foreman.get(f"/s/{world.site.id}/reports?status=all", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).startswith('<ul id="report-rows"')
    home = foreman.get("/").get_data(as_text=True)
    assert "Rapporter å følge opp: 3" in home and "1 på overtid" in home


def test_report_from_the_bottom_navigation_goes_to_the_checked_in_site(world, worker):
    response = worker.get("/report")
    assert response.status_code == 302 and response.headers["Location"] == f"/s/{world.site.id}/reports/new"
    page = worker.get(response.headers["Location"]).get_data(as_text=True)
    assert 'capture="environment"' in page and 'name="category"' in page


def test_six_big_pngs_in_one_report_keep_the_ones_the_budget_allows(app, world, worker):
    """Issue 14 per request: six 7000x7000 Paeth PNGs cost 4.7 s of CPU in one request before the budget.
    bench/photos.py and test_photo_costs.py measure it in a fresh process; here the whole request."""
    from bench import photos as bench

    paeth = bench.png(7000, 7000, b"\x10\x20\x30\x80")
    start = time.thread_time()
    response = send(worker, world.site, [paeth] * 6, outbox=True, description="Six screenshots")
    cpu = time.thread_time() - start
    assert response.status_code == 201 and cpu <= 2.0, cpu
    report = new_reports(world).get()
    assert [(p.width, p.height) for p in Photo.select().where(Photo.report == report)] == [(1600, 1600)]
    from fieldapp.reports import service

    assert [(d["n"], d["reason"]) for d in service.dropped_photos(report)] == [(n, "budget") for n in range(2, 7)]
    notes = response.get_json()["notes"]
    assert len(notes) == 5 and "Bilde 2 (IMG_1.jpg)" in notes[0] and "send dette bildet i en egen rapport" in notes[0]


def test_a_report_of_six_phone_photos_keeps_them_all(app, world, worker):
    blobs = [jpeg((4032, 3024), colour=colour, quality=95) for colour in ("red", "orange", "olive", "teal", "navy",
                                                                         "purple")]
    response = send(worker, world.site, blobs, outbox=True, description="Six phone photos")
    assert response.status_code == 201 and response.mimetype == "text/plain"  # no notes: nothing left out
    assert Photo.select().where(Photo.report == new_reports(world).get()).count() == 6


def test_a_description_of_invisible_characters_is_no_description(world, as_role):
    """A zero-width space pasted from a chat passed str.strip(): a report with nothing in it was saved."""
    for invisible in ("\u200b", "\ufeff \u200b\n", "\u202e"):
        response = as_role("worker").post(f"/s/{world.site.id}/reports/new", data={
            "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "fire", "description": invisible})
        assert response.status_code == 422, repr(invisible)
    assert Report.select().count() == 1  # World's own


def test_a_comment_sent_twice_is_saved_once_and_a_different_one_is_added(world, as_role):
    worker = as_role("worker")
    path = f"/s/{world.site.id}/reports/{world.report.id}/comment"
    for _ in range(2):
        assert worker.post(path, data={"text": "The railing is loose again"}).status_code == 303
    assert worker.post(path, data={"text": "And the stair light is out"}).status_code == 303
    comments = [e.text for e in ReportEvent.select().where((ReportEvent.report == world.report)
                                                           & (ReportEvent.kind == "comment"))]
    assert comments == ["The railing is loose again", "And the stair light is out"]
    # Another person writing the same words is another comment.
    assert as_role("foreman").post(path, data={"text": "The railing is loose again"}).status_code == 303
    assert ReportEvent.select().where(ReportEvent.kind == "comment").count() == 3


def comment_form_uuid(page):
    return re.search(r'/comment">\s*<input type="hidden" name="csrf_token"[^>]*>\s*'
                     r'<input type="hidden" name="uuid" value="([0-9a-f-]{36})">', page).group(1)


def test_a_comment_form_sent_again_an_hour_later_is_saved_once(world, as_role, frozen_clock):
    """The answer to a comment lost on the way, the person goes back and sends the form again much later: the
    minute's replay window let it in twice. The form's UUID makes it the saved one at any time; the same form
    with other words is told, and the page it gets sends the new words as a new comment."""
    worker = as_role("worker")
    report_path = f"/s/{world.site.id}/reports/{world.report.id}"
    frozen_clock(datetime(2026, 11, 30, 9, 0))
    form = comment_form_uuid(worker.get(report_path).get_data(as_text=True))
    def comments():
        return [e.text for e in ReportEvent.select().where((ReportEvent.report == world.report)
                                                            & (ReportEvent.kind == "comment")).order_by(ReportEvent.id)]

    assert worker.post(report_path + "/comment", data={"text": "Rail loose", "uuid": form}).status_code == 303
    frozen_clock(datetime(2026, 11, 30, 10, 30))
    again = worker.post(report_path + "/comment", data={"text": "Rail loose", "uuid": form})
    assert again.status_code == 303 and comments() == ["Rail loose"]
    edited = worker.post(report_path + "/comment", data={"text": "Rail loose at gate 2", "uuid": form})
    page = edited.get_data(as_text=True)
    assert edited.status_code == 409 and comments() == ["Rail loose"]
    assert 'id="comment-text-error"' in page and ">Rail loose at gate 2</textarea>" in page
    fresh = comment_form_uuid(page)
    assert fresh != form
    sent = worker.post(report_path + "/comment", data={"text": "Rail loose at gate 2", "uuid": fresh})
    assert sent.status_code == 303
    assert comments() == ["Rail loose", "Rail loose at gate 2"]
    # Another person's post under that form's UUID is not saved as the worker's, nor twice.
    other = as_role("foreman").post(report_path + "/comment", data={"text": "Rail loose", "uuid": form})
    assert other.status_code == 409 and len(comments()) == 2
    assert worker.post(report_path + "/comment", data={"text": "x", "uuid": "not-a-uuid"}).status_code == 400
    assert len(comments()) == 2


def test_a_close_or_reopen_racing_another_is_recorded_once(world):
    """Two phones closing at once both read the report open: the second finds it closed under the row's lock and
    records nothing (the timeline showed "closed" three times in a row, found by the breaker)."""
    foreman, manager = world.people["foreman"], world.people["manager"]
    seen_by_one, seen_by_other = Report.get_by_id(world.report.id), Report.get_by_id(world.report.id)
    assert reports.close(foreman, seen_by_one, "New railing bolted") is True
    assert reports.close(manager, seen_by_other, "New railing bolted") is False
    # A corrective action typed on a page read before the close does not change the closed report's.
    with pytest.raises(reports.ReportError):
        reports.set_action(manager, seen_by_other, "Something else")
    stale = Report.get_by_id(world.report.id)  # read while closed
    reports.reopen(foreman, Report.get_by_id(world.report.id), "Loose again")
    with pytest.raises(reports.ReportError):
        reports.reopen(manager, stale, "Loose again")
    events = ReportEvent.select().where(ReportEvent.report == world.report).order_by(ReportEvent.id)
    assert [e.kind for e in events if e.kind in ("closed", "reopened", "action")] == ["action", "closed", "reopened"]
    assert Report.get_by_id(world.report.id).corrective_action == "New railing bolted"


def test_an_assignment_racing_a_close_is_refused_and_the_report_stays_closed(world):
    """Assign read the report open outside its transaction and wrote "in_progress" over a close made at the same
    moment: a report "in progress" with a closing date and no reopening in its timeline (found by the breaker)."""
    manager, foreman = world.people["manager"], world.people["foreman"]
    reports.set_action(manager, Report.get_by_id(world.report.id), "New railing")
    seen_by_assigner = Report.get_by_id(world.report.id)  # the assign form's post, read before the close
    assert reports.close(manager, Report.get_by_id(world.report.id), "") is True
    with pytest.raises(reports.ReportError) as refused:
        reports.assign(foreman, seen_by_assigner, str(world.people["worker"].id), "")
    assert refused.value.reason == "closed"
    closed = Report.get_by_id(world.report.id)
    assert closed.status == "closed" and closed.closed_at is not None
    kinds = [e.kind for e in ReportEvent.select().where(ReportEvent.report == world.report).order_by(ReportEvent.id)]
    assert "assigned" not in kinds[kinds.index("closed"):]


def test_the_same_follow_up_sent_twice_is_one_entry_in_the_timeline(world, worker, as_role):
    """Assign, the corrective action and a notification posted twice (a double tap, a form sent again) each made
    two timeline entries; two comment forms with the same words are two comments, not one forgotten."""
    manager = as_role("manager")
    report = injury(worker, world)
    base = f"/s/{world.site.id}/reports/{report.id}"
    deadline = (clock.today(world.site) + timedelta(days=3)).isoformat()
    when = clock.today(world.site).isoformat() + "T00:05"
    for _twice in range(2):
        assert manager.post(base + "/assign", data={"assignee": world.people["foreman"].id,
                                                    "deadline": deadline}).status_code == 303
        assert manager.post(base + "/action", data={"text": "Sett opp rekkverk"}).status_code == 303
        assert manager.post(base + "/notified", data={"authority": "police", "at": when}).status_code == 303

    def kinds():
        return [e.kind for e in ReportEvent.select().where(ReportEvent.report == report).order_by(ReportEvent.id)]
    assert [k for k in kinds() if k in ("assigned", "action", "notified")] == ["assigned", "action", "notified"]
    # A change is still one: another deadline, another action.
    later = (clock.today(world.site) + timedelta(days=5)).isoformat()
    assert manager.post(base + "/assign", data={"assignee": world.people["foreman"].id, "deadline": later}).status_code == 303
    assert manager.post(base + "/action", data={"text": "Rekkverk satt opp"}).status_code == 303
    assert kinds().count("assigned") == 2 and kinds().count("action") == 2
    # Two comment forms (two UUIDs) with the same words: both are kept.
    for form in (uuid.uuid4(), uuid.uuid4()):
        assert manager.post(base + "/comment", data={"text": "OK, sjekket", "uuid": str(form)}).status_code == 303
    assert kinds().count("comment") == 2


def test_the_follow_up_forms_leave_the_messages_to_the_app(world, as_role):
    """A required box left empty got the browser's bubble ("Please fill out this field.") in the phone's language,
    not the app's message beside the box in the reader's: every form on the report page is novalidate."""
    page = as_role("manager").get(f"/s/{world.site.id}/reports/{world.report.id}").get_data(as_text=True)
    forms = re.findall(r"<form [^>]*>", page)
    assert len(forms) >= 4 and all("novalidate" in form for form in forms if 'method="post"' in form), forms


@pytest.mark.parametrize("change", ["comment", "close", "assign", "reopen", "action", "after-photo", "notified"])
def test_a_refused_follow_ups_address_opened_again_leads_back_to_the_report(world, as_role, change):
    """The refused comment's page stays at .../comment: a reload (GET) gave 405 "this address cannot be used"."""
    worker = as_role("worker")
    base = f"/s/{world.site.id}/reports/{world.report.id}"
    again = worker.get(f"{base}/{change}")
    assert again.status_code == 303 and again.headers["Location"] == base
    assert as_role("outsider").get(f"{base}/{change}").status_code == 404


def test_a_second_close_with_another_action_is_told_not_dropped(world, as_role):
    """Closed by one lead, closed again by another with a different corrective action: a silent 303 and the text
    lost (found by the breaker). The same close sent again stays a quiet 303."""
    path = f"/s/{world.site.id}/reports/{world.report.id}/close"
    assert as_role("foreman").post(path, data={"text": "Railing mounted"}).status_code == 303
    assert as_role("foreman").post(path, data={"text": "Railing mounted"}).status_code == 303  # sent again
    other = as_role("manager").post(path, data={"text": "Area fenced off"})
    assert other.status_code == 409
    assert Report.get_by_id(world.report.id).corrective_action == "Railing mounted"
    closes = ReportEvent.select().where((ReportEvent.report == world.report) & (ReportEvent.kind == "closed"))
    assert closes.count() == 1
