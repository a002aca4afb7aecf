"""A worker adds a certificate photo with no signal, the foreman approves it, and the check-in then passes the
site's requirement (issue 19), on a 360 px phone."""
import uuid
from datetime import date

import pytest
from PIL import Image

from helpers import PIN, sign_in_ui, wait_until

from fieldapp.models import CertificatePhoto, CheckIn, SiteRequirement, TrainingRecord

PHONE_WIDTH = 360


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": PHONE_WIDTH, "height": 780}}


def sign_out_ui(page, live):
    page.goto(live.url + "/me")
    wait_until(page, "window.fieldappOutbox !== undefined")
    with page.expect_navigation():
        page.click("form.sign-out button[type=submit]")


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_offline_certificate_approved_then_check_in_passes(live, page, context, tmp_path, csp_violations):
    world = live.world
    worker, foreman = world.people["worker"], world.people["foreman"]
    SiteRequirement.create(site=world.site, course="first_aid", blocks=True)
    photo = tmp_path / "certificate.jpg"
    Image.new("RGB", (2400, 1600), (200, 30, 30)).save(photo, "JPEG", quality=90)

    sign_in_ui(page, live.url, worker.phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    assert "Førstehjelp mangler" in page.text_content(".competence-gate")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(live.url + "/me/competence")
    wait_until(page, "window.fieldappOutbox !== undefined")
    assert fits_the_screen(page)
    # Seen once with signal, the page then opens from the service worker's copy with none.
    wait_until(page, "caches.open('pages-v1').then(c => c.match('/me/competence')).then(r => !!r)")
    context.set_offline(True)
    page.goto(live.url + "/me/competence")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.select_option("select[name=course]", "first_aid")
    page.fill("input[name=taken_on]", "2025-09-15")
    page.fill("input[name=issuer]", "Røde Kors")
    page.set_input_files("input[name=photo_front]", str(photo))
    page.click("button.send")
    page.wait_for_selector(".outbox-note:not([hidden])")
    assert TrainingRecord.select().count() == 0  # only on the phone so far
    context.set_offline(False)  # the outbox sends it when the signal returns
    for _ in range(100):
        if TrainingRecord.select().count():
            break
        page.wait_for_timeout(100)
    record = TrainingRecord.get()
    assert (record.user_id, record.course, record.status, record.issuer) == (worker.id, "first_aid", "pending",
                                                                             "Røde Kors")
    stored = CertificatePhoto.get(CertificatePhoto.record == record)
    assert stored.side == "front" and max(stored.width, stored.height) <= 1600  # shrunk, re-encoded
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    assert "Førstehjelp venter på godkjenning" in page.text_content(".competence-gate")

    sign_out_ui(page, live)
    sign_in_ui(page, live.url, foreman.phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/competence/pending")
    assert fits_the_screen(page)
    assert "Worker Person" in page.text_content("#pending")
    with page.expect_navigation():
        page.click(f"li[data-record='{record.id}'] button.approve")
    assert "Ingenting venter på godkjenning" in page.text_content("#pending")
    assert TrainingRecord.get_by_id(record.id).status == "approved"

    sign_out_ui(page, live)
    sign_in_ui(page, live.url, worker.phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    wait_until(page, "window.fieldappOutbox !== undefined")
    assert page.locator(".competence-gate").count() == 0
    page.click("#check-in button[type=submit]")
    for _ in range(100):
        if CheckIn.select().count():
            break
        page.wait_for_timeout(100)
    assert [row.user_id for row in CheckIn.select()] == [worker.id]
    assert csp_violations == []


def test_send_for_approval_is_in_view_without_scrolling(live, page, csp_violations):
    """At 360 x 780 the form's main action sits above the bottom navigation, not at y 976 below the fold."""
    sign_in_ui(page, live.url, live.world.people["worker"].phone, PIN)
    page.goto(live.url + "/me/competence")
    send = page.locator("button.send")
    box = send.bounding_box()
    nav = page.locator(".bottom-nav").bounding_box()
    assert box is not None and nav is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= nav["y"] <= 780
    assert page.evaluate("window.scrollY") == 0
    # Nothing to tap is hidden under it: the last field of the form scrolls clear of the bar.
    page.locator("input[name=verneombud_may_see]").scroll_into_view_if_needed()
    last = page.locator("input[name=verneombud_may_see]").bounding_box()
    assert last["y"] + last["height"] <= send.bounding_box()["y"]
    assert fits_the_screen(page)
    assert csp_violations == []


def test_a_subcontractors_pending_certificate_says_who_approves_and_the_import_lists_codes(live, page,
                                                                                          csp_violations):
    """The new-user test at 360 px: the main contractor's foreman sees Piotr's waiting certificate and who may
    approve it; the manager's import page lists the course codes. Both fit the phone's width."""
    world = live.world
    piotr = world.person("+4791000011", "Piotr Nowak", "worker", world.site, employer=world.sub)
    TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=piotr, course="first_aid",
                          status="pending", taken_on=date(2025, 9, 15))
    sign_in_ui(page, live.url, world.people["foreman"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/competence/pending")
    text = page.text_content("#pending")
    assert "Piotr Nowak" in text and "Venter på en formann eller leder i Nordlys Elektro AS" in text
    assert page.locator("button.approve").count() == 0
    assert fits_the_screen(page)
    sign_out_ui(page, live)
    sign_in_ui(page, live.url, world.people["manager"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/competence/import")
    page.click("details.course-codes summary")
    assert page.locator("details.course-codes code", has_text="first_aid").is_visible()
    assert fits_the_screen(page)
    assert csp_violations == []


@pytest.mark.parametrize("field, day", [("taken_on", "9999-12-31"), ("taken_on", "0001-01-01"),
                                        ("expires_on", "9999-12-31")])
def test_an_absurd_date_is_stopped_on_the_phone_with_what_was_typed_kept(live, page, field, day):
    # The server refused 9999-12-31 with 422, but from the outbox: the form was emptied and the phone held a
    # "needs checking" item that could only be sent again or dropped. The input's min and max stop it first.
    worker = live.world.people["worker"]
    sign_in_ui(page, live.url, worker.phone, PIN)
    page.goto(live.url + "/me/competence")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.select_option("select[name=course]", "first_aid")
    page.fill("input[name=taken_on]", "2025-09-15")
    page.fill("input[name=issuer]", "Røde Kors")
    page.fill(f"input[name={field}]", day)
    page.click("button.send")
    assert page.evaluate(f"!document.querySelector('input[name={field}]').validity.valid")
    assert page.input_value("input[name=issuer]") == "Røde Kors"  # nothing lost
    assert page.evaluate("document.querySelector('.outbox-note') === null "
                         "|| document.querySelector('.outbox-note').hidden")
    assert page.evaluate("window.fieldappOutbox.all().then(items => items.length)") == 0  # nothing queued
    assert TrainingRecord.select().count() == 0
