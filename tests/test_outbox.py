"""The server's side of the phone's outbox (issue 13): an item is saved as the person who made it or not at
all; a missing session is a 401 the phone understands, never a redirect; no stale token ever kills an item."""
import io
import re
import uuid

import pytest

from fieldapp.models import AlertRecipient, CheckIn, Report

from helpers import jpeg


@pytest.fixture
def worker(as_role):
    return as_role("worker")


def check_in(client, site, maker=None, csrf=False, **headers):
    headers = {"X-Outbox": "1", **headers}
    if maker is not None:
        headers["X-Outbox-Maker"] = maker
    return client.post(f"/s/{site.id}/checkin", data={"uuid": str(uuid.uuid4()), "all_worn": "y"},
                       headers=headers, csrf=csrf)


def test_whoami_names_the_person_and_device_session_and_is_never_cached(worker, client, world):
    response = worker.get("/whoami")
    who = response.get_json()
    assert who["user"] == world.people["worker"].id and who["name"] == world.people["worker"].name
    assert isinstance(who["session"], int) and response.headers["Cache-Control"] == "no-store"
    signed_out = client.get("/whoami")
    assert signed_out.status_code == 401 and signed_out.get_json() == {}
    assert signed_out.headers["Cache-Control"] == "no-store"


def test_an_item_made_by_another_person_is_refused_and_never_saved(as_role, world):
    foreman, worker = as_role("foreman"), as_role("worker")
    made_by_worker = worker.outbox_maker()
    response = check_in(foreman, world.site, maker=made_by_worker)
    assert response.status_code == 409 and response.headers["X-Outbox"] == "wrong-person"
    assert CheckIn.select().count() == 0
    # The same for a report (and before the site check: it must wait, not fail, on a site the other is not on).
    response = foreman.post(f"/s/{world.site.id}/reports/new", csrf=False,
                            data={"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls",
                                  "description": "Not mine"},
                            headers={"X-Outbox": "1", "X-Outbox-Maker": made_by_worker})
    assert response.status_code == 409 and response.headers["X-Outbox"] == "wrong-person"
    assert Report.select().where(Report.id != world.report.id).count() == 0


def test_an_item_without_a_maker_is_refused(worker, world):
    response = check_in(worker, world.site, maker="")
    assert response.status_code == 400 and response.headers["X-Outbox"] == "no-maker"
    assert CheckIn.select().count() == 0


def test_the_makers_item_from_an_ended_session_is_accepted_after_they_sign_in_again(app, worker, world):
    """Revoked or signed out: the phone keeps the item; the same person's new session sends it."""
    from fieldapp.accounts import service as accounts

    old = worker.get("/whoami").get_json()
    with app.test_request_context():
        accounts.revoke_session(world.people["worker"], old["session"], world.people["worker"])
    response = check_in(worker, world.site, maker=f"{old['user']}.{old['session']}")
    assert response.status_code == 401 and response.headers["X-Outbox"] == "signed-out"
    assert "Location" not in response.headers and CheckIn.select().count() == 0
    with app.test_request_context():
        token = accounts.start_device_session(world.people["worker"], "pytest")
    with worker.session_transaction() as flask_session:
        flask_session["sid"] = token
    response = check_in(worker, world.site, maker=f"{old['user']}.{old['session']}")
    assert response.status_code == 201
    assert CheckIn.get().user_id == world.people["worker"].id


@pytest.mark.parametrize("path", ["/s/{site}/checkin", "/s/{site}/checkout", "/s/{site}/reports/new",
                                  "/s/{site}/alerts/1/ack"])
def test_outbox_posts_without_a_session_get_401_not_a_redirect(client, world, path):
    response = client.post(path.format(site=world.site.id), data={"uuid": str(uuid.uuid4())}, csrf=False,
                           headers={"X-Outbox": "1", "X-Outbox-Maker": "1.1"})
    assert response.status_code == 401 and response.headers["X-Outbox"] == "signed-out"
    # A page (not the outbox) is still sent to sign in.
    page = client.get(f"/s/{world.site.id}/checkin")
    assert page.status_code == 302 and page.headers["Location"].startswith("/sign-in")


def test_an_outbox_post_needs_no_form_token_but_a_cross_site_one_is_refused(worker, world):
    # Queued before a later sign-in, its token would be stale: the outbox does not use one.
    assert check_in(worker, world.site, **{"Sec-Fetch-Site": "same-origin"}).status_code == 201
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        refused = check_in(worker, world.site, **headers)
        # Said as the outbox's answers are (plain text, its kind in X-Outbox), not as a page about roles.
        assert refused.status_code == 403 and refused.headers["X-Outbox"] == "other-site"
        assert refused.get_data(as_text=True) == "Sendt fra et annet nettsted: ikke lagret."  # Ola reads nb
    assert CheckIn.select().count() == 1


OUTBOX_REFUSALS = {  # what the phone shows under a refused item, in the reader's language
    "nb": ["Laget av en annen person: ikke lagret.", "Det står ikke hvem som laget dette.",
           "Sendt fra et annet nettsted: ikke lagret.", "Logg inn for å sende det."],
    "pl": ["Utworzone przez inną osobę: nie zapisano.", "Nie wiadomo, kto to utworzył.",
           "Wysłane z innej strony internetowej: nie zapisano.", "Zaloguj się, aby to wysłać."],
    "en": ["Made by another person: not saved.", "The item does not say who made it.",
           "Sent from another web site: not saved.", "Sign in to send it."],
}


@pytest.mark.parametrize("language", sorted(OUTBOX_REFUSALS))
def test_the_outbox_refusals_speak_the_readers_language(as_role, world, client, language):
    """The short answers the outbox page shows under a refused item were English for every reader."""
    for person in ("worker", "foreman"):
        world.people[person].language = language
        world.people[person].save()
    worker, foreman = as_role("worker"), as_role("foreman")
    answers = [check_in(foreman, world.site, maker=worker.outbox_maker()), check_in(worker, world.site, maker=""),
               check_in(worker, world.site, **{"Sec-Fetch-Site": "cross-site"})]
    answers.append(check_in(client, world.site, maker="1.1", **{"Accept-Language": language}))  # signed out
    assert [(a.status_code, a.get_data(as_text=True)) for a in answers] == list(
        zip((409, 400, 403, 401), OUTBOX_REFUSALS[language]))
    assert CheckIn.select().count() == 0


def test_a_form_post_without_the_token_is_still_refused(worker, world):
    response = worker.post(f"/s/{world.site.id}/checkin", data={"uuid": str(uuid.uuid4()), "all_worn": "y"},
                           csrf=False)
    assert response.status_code == 400 and CheckIn.select().count() == 0


def test_an_acknowledgement_from_the_outbox_carries_its_maker(as_role, world):
    from fieldapp.models import Alert

    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["verneombud"], level="warning",
                         template="crane_lift", area="Crane")
    AlertRecipient.create(alert=alert, user=world.people["worker"], role="worker")
    worker, foreman = as_role("worker"), as_role("foreman")
    path = f"/s/{world.site.id}/alerts/{alert.id}/ack"
    other = foreman.post(path, data={"uuid": str(uuid.uuid4())}, csrf=False,
                         headers={"X-Outbox": "1", "X-Outbox-Maker": worker.outbox_maker()})
    acked = AlertRecipient.select().where(AlertRecipient.acked_at.is_null(False))
    assert other.status_code == 409 and acked.count() == 0
    mine = worker.post(path, data={"uuid": str(uuid.uuid4())}, csrf=False, headers={"X-Outbox": "1"})
    assert mine.status_code == 201 and acked.count() == 1


def test_sign_out_clears_the_cache_but_never_the_storage(worker):
    response = worker.post("/sign-out")
    assert response.status_code == 303
    # "storage" would also wipe IndexedDB: other people's waiting items on a shared phone.
    assert response.headers["Clear-Site-Data"] == '"cache"'


def test_photos_are_private(worker, world, app):
    response = worker.post(f"/s/{world.site.id}/reports/new", headers={"X-Outbox": "1"},
                           data={"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls",
                                 "photos": [(io.BytesIO(jpeg()), "a.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 201
    report = Report.get(Report.uuid == response.get_data(as_text=True))
    page = worker.get(f"/s/{world.site.id}/reports/{report.id}").get_data(as_text=True)
    src = re.search(r'src="(/s/\d+/reports/\d+/thumbs/[0-9a-f]+\.jpg)"', page).group(1)
    photo = worker.get(src)
    assert photo.status_code == 200 and photo.headers["Cache-Control"].startswith("private")
