"""The offline outbox on a phone (issue 13, issue 14 "What stays on a shared phone"): an item is saved as the
person who made it or not at all, never dies of a stale token or an ended session, can be resent, edited or
discarded, survives a bad photo, and is uploaded once."""
import io
import threading

import pytest
from PIL import Image

from helpers import CSRF_RE, PIN, fire_background_sync, service_worker_registration, sign_in_ui, wait_until

from fieldapp.accounts import service as accounts
from fieldapp.models import CheckIn, DeviceSession, Equipment, Photo, Report, ReportEvent, SiteEquipment

PHONE_WIDTH = 360


@pytest.fixture
def browser_context_args(browser_context_args):
    # The narrowest common phone: what the brief asks these tests to run at.
    return {**browser_context_args, "viewport": {"width": PHONE_WIDTH, "height": 740}}


class Gate:
    """WSGI middleware in front of the live app: counts report uploads and can refuse them.

    mode None lets them through; "down" answers 503 (the phone retries later); "refuse" answers 422 with
    a short text (the item needs the person's attention).
    """

    def __init__(self, app):
        self.app, self.mode, self.uploads = app, None, 0
        self.lock = threading.Lock()
        self.paths = ("/reports/new",)

    def __call__(self, environ, start_response):
        is_upload = environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith(self.paths)
        if is_upload:
            with self.lock:
                self.uploads += 1
            if self.mode == "down":
                start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "1")])
                return [b"down"]
            if self.mode == "refuse":
                environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                start_response("422 Unprocessable Entity", [("Content-Type", "text/plain; charset=utf-8")])
                return ["Noe i skjemaet var feil.".encode()]
        return self.app(environ, start_response)


@pytest.fixture
def gate(live):
    gate = Gate(live.app.wsgi_app)
    live.app.wsgi_app = gate
    return gate


def new_reports(world):
    return Report.select().where(Report.id != world.report.id)


def jpeg_file(path, size=(3000, 2000)):
    Image.new("RGB", size, (90, 120, 160)).save(path, "JPEG", quality=90)
    return str(path)


def open_report_form(page, live):
    """The report form, seen once with signal so that the service worker keeps it for offline use."""
    world = live.world
    path = f"/s/{world.site.id}/reports/new"
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    # The kept copy is written inside the service worker's waitUntil: wait for it, not for a fixed time.
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('{path}')).then(r => !!r)")
    return path


def open_report_form_offline(page, live, context):
    """The report form with no signal: seen once online, then opened again from the service worker's copy."""
    path = open_report_form(page, live)
    context.set_offline(True)
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    return path


def fill_report(page, category, description):
    page.click(f"label.choice:has(input[value={category}])")
    if page.locator("details.more").get_attribute("open") is None:
        page.click("details.more summary")
    page.fill("textarea[name=description]", description)


def send_report(page, category, description):
    fill_report(page, category, description)
    page.click("button.send")


def status_text(page):
    return page.evaluate("document.getElementById('outbox-status').hidden ? '' : "
                         "document.getElementById('outbox-status').textContent")


def sign_out_ui(page, live):
    page.goto(live.url + "/me")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("form.sign-out button[type=submit]")


def test_shared_phone_an_item_is_saved_as_its_maker_or_not_at_all(live, page, context, gate, csp_violations):
    world = live.world
    worker, foreman = world.people["worker"], world.people["foreman"]
    sign_in_ui(page, live.url, worker.phone, PIN)
    open_report_form_offline(page, live, context)
    send_report(page, "fire", "Made by the worker")
    page.wait_for_selector(".outbox-item.state-waiting")
    # The signal comes back but the server cannot take it yet: the item still waits.
    gate.mode = "down"
    context.set_offline(False)

    # The worker signs out: warned, and the item stays on the phone.
    sign_out_ui(page, live)
    page.wait_for_selector(".sign-out-warning")
    assert page.text_content(".sign-out-warning") == "1 sak som ikke er sendt ennå, venter på denne telefonen."
    assert DeviceSession.select().where(DeviceSession.revoked_at.is_null()).count() == 1  # not signed out yet
    with page.expect_navigation():
        page.click("form.sign-out button[type=submit]")  # "Logg ut likevel"
    assert "/sign-in" in page.url
    items = page.evaluate("window.fieldappOutbox.all().then(items => items.map(i => [i.state, i.maker.name]))")
    assert items == [["pending", "Worker Person"]]
    # The worker's kept pages are gone (issue 14); the waiting item is not.
    assert page.evaluate("caches.has('pages-v1')") is False

    # The foreman signs in on the same phone, with signal: the worker's item is not sent as the foreman.
    gate.mode = None
    sign_in_ui(page, live.url, foreman.phone, PIN)
    summary = page.evaluate("window.fieldappOutbox.flush()")
    assert summary["other-person"] == 1 and summary["sent"] == 0
    assert new_reports(world).count() == 0
    wait_until(page, "document.getElementById('outbox-status').hidden === false")
    assert status_text(page) == "1 venter på at Worker Person logger inn"
    page.goto(live.url + "/outbox")
    page.wait_for_selector(".outbox-item.state-other")
    assert page.text_content(".outbox-item .outbox-state") == "venter på at Worker Person logger inn"
    assert page.locator(".outbox-item button").count() == 0  # nobody else resends, edits or discards it

    # The foreman signs out (no warning: nothing of theirs waits); the worker signs in: saved as the worker.
    sign_out_ui(page, live)
    page.wait_for_url("**/sign-in")
    sign_in_ui(page, live.url, worker.phone, PIN)
    for _ in range(100):
        if new_reports(world).count():
            break
        page.wait_for_timeout(100)
    report = new_reports(world).get()
    assert report.reporter_id == worker.id and report.description == "Made by the worker"
    assert csp_violations == []


def test_shared_phone_a_check_in_is_recorded_for_its_maker_only(live, page, context, gate):
    """The attendance list (byggherreforskriften § 15) must never show the next person at the site."""
    world = live.world
    worker, foreman = world.people["worker"], world.people["foreman"]
    SiteEquipment.create(site=world.site, equipment=Equipment.get(Equipment.key == "helmet"))
    gate.paths = ("/checkin",)
    sign_in_ui(page, live.url, worker.phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    wait_until(page, "window.fieldappOutbox !== undefined")
    context.set_offline(True)
    page.click("label.all-worn")
    page.click("#check-in button[type=submit]")
    page.wait_for_selector(".outbox-note:not([hidden])")
    gate.mode = "down"
    context.set_offline(False)
    sign_out_ui(page, live)
    page.wait_for_selector(".sign-out-warning")
    with page.expect_navigation():
        page.click("form.sign-out button[type=submit]")
    gate.mode = None
    sign_in_ui(page, live.url, foreman.phone, PIN)
    page.goto(live.url + "/outbox")
    page.wait_for_selector(".outbox-item.state-other")
    assert page.text_content(".outbox-item span").startswith("Innsjekking ")
    assert CheckIn.select().count() == 0
    sign_out_ui(page, live)
    page.wait_for_url("**/sign-in")
    sign_in_ui(page, live.url, worker.phone, PIN)
    for _ in range(100):
        if CheckIn.select().count():
            break
        page.wait_for_timeout(100)
    assert [row.user_id for row in CheckIn.select()] == [worker.id]


def test_background_sync_after_a_new_sign_in_sends_the_item(live, page, context, gate, tmp_path):
    """Today the service worker sent the token saved at queue time: after a sign-in it was "form expired"."""
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    open_report_form_offline(page, live, context)
    page.set_input_files(".photo-pick input[capture]", jpeg_file(tmp_path / "a.jpg"))
    send_report(page, "electrical", "Open fuse box")
    page.wait_for_selector(".outbox-item.state-waiting")
    page.goto("about:blank")  # the app is closed
    gate.mode = "down"  # the signal returns but the server cannot take it yet (the browser's own sync fails)
    context.set_offline(False)
    # The same person signs in again (a new session and a new CSRF token), without opening the app's pages.
    match = CSRF_RE.search(page.request.get(live.url + "/sign-in").text())
    token = match.group(1) or match.group(2)
    signed_in = page.request.post(live.url + "/sign-in", form={"csrf_token": token, "next": "",
                                                              "phone": world.people["worker"].phone, "secret": PIN},
                                  max_redirects=0)
    assert signed_in.status == 303
    assert new_reports(world).count() == 0
    gate.mode = None
    fire_background_sync(context, page, live.url)
    for _ in range(100):
        if new_reports(world).count():
            break
        page.wait_for_timeout(100)
    report = new_reports(world).get()
    assert report.reporter_id == world.people["worker"].id and report.category == "electrical"
    assert Photo.select().where(Photo.report == report).count() == 1


def test_a_revoked_session_then_sign_in_sends_the_waiting_item_as_its_maker(live, page, context):
    """A lost phone's session ended from the profile: its items wait there for the same person to sign in."""
    world = live.world
    worker = world.people["worker"]
    sign_in_ui(page, live.url, worker.phone, PIN)
    open_report_form_offline(page, live, context)
    send_report(page, "lifting", "Sling worn through")
    page.wait_for_selector(".outbox-item.state-waiting")
    # Ended from another device while this phone had no signal.
    session = DeviceSession.get(DeviceSession.user == worker)
    with live.app.test_request_context():
        assert accounts.revoke_session(worker, session.id, worker)
    context.set_offline(False)
    wait_until(page, "window.dispatchEvent(new Event('online'))")  # the page may reload itself meanwhile
    wait_until(page, "document.getElementById('outbox-status').textContent.startsWith('Logg inn')")
    assert status_text(page) == "Logg inn for å sende 1 som venter"
    assert page.text_content(".outbox-item .outbox-state") == "Logg inn for å sende"
    assert new_reports(world).count() == 0
    sign_in_ui(page, live.url, worker.phone, PIN)
    for _ in range(100):
        if new_reports(world).count():
            break
        page.wait_for_timeout(100)
    report = new_reports(world).get()
    assert report.reporter_id == worker.id and report.description == "Sling worn through"
    wait_until(page, "document.documentElement.dataset.outbox === '0'")


def test_failed_items_are_kept_until_resent_edited_or_discarded(live, page, gate, tmp_path):
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    open_report_form(page, live)
    gate.mode = "refuse"
    for text in ("First", "Second", "Third"):
        if text == "Third":
            page.set_input_files(".photo-pick input[capture]", jpeg_file(tmp_path / "third.jpg", (800, 600)))
            page.wait_for_selector(".previews img.preview")
        send_report(page, "falls", text)
        wait_until(page, f"document.querySelectorAll('.outbox-item.state-failed').length === "
                         f"{['First', 'Second', 'Third'].index(text) + 1}")
    assert status_text(page) == "3 må sjekkes"
    assert new_reports(world).count() == 0
    gate.mode = None
    # From the home screen to the outbox page.
    page.goto(live.url + "/")
    page.click("a.outbox-link")
    page.wait_for_url("**/outbox")
    page.wait_for_selector(".outbox-item.state-failed >> nth=2")
    assert page.locator(".outbox-reason").all_text_contents() == ["Noe i skjemaet var feil."] * 3

    def item(description):
        return page.evaluate("d => window.fieldappOutbox.all().then(items => items.filter(i => "
                             "i.fields.some(f => f[0] === 'description' && f[1] === d)).map(i => i.uuid)[0])",
                             description)

    # Try again: sent.
    first = item("First")
    page.click(f".outbox-item[data-uuid='{first}'] button[data-action=retry]")
    page.wait_for_selector(f".outbox-item[data-uuid='{first}'].state-sent")
    assert [r.description for r in new_reports(world)] == ["First"]
    # Discard asks first; "keep it" keeps it; "yes" removes it.
    second = item("Second")
    page.click(f".outbox-item[data-uuid='{second}'] button[data-action=discard]")
    assert "Forkaste den for godt?" in page.text_content(f".outbox-item[data-uuid='{second}']")
    page.click(f".outbox-item[data-uuid='{second}'] button[data-action=discard-no]")
    page.wait_for_selector(f".outbox-item[data-uuid='{second}'] button[data-action=retry]")
    page.click(f".outbox-item[data-uuid='{second}'] button[data-action=discard]")
    page.click(f".outbox-item[data-uuid='{second}'] button[data-action=discard-yes]")
    page.wait_for_selector(f".outbox-item[data-uuid='{second}']", state="detached")
    # Edit: the form opens with the item's fields; sending it replaces the failed item.
    third = item("Third")
    page.click(f".outbox-item[data-uuid='{third}'] button[data-action=edit]")
    page.wait_for_url(f"**/reports/new?outbox={third}")
    wait_until(page, "document.querySelector('textarea[name=description]').value === 'Third'")
    assert page.is_checked("input[name=category][value=falls]")
    assert page.locator(".previews img.preview").count() == 1  # its photo came back too
    page.fill("textarea[name=description]", "Third, corrected")
    page.click("button.send")
    page.wait_for_selector(".outbox-item.state-sent >> nth=1")
    assert sorted(r.description for r in new_reports(world)) == ["First", "Third, corrected"]
    third_report = new_reports(world).where(Report.description == "Third, corrected").get()
    assert Photo.select().where(Photo.report == third_report).count() == 1
    left = page.evaluate("window.fieldappOutbox.all().then(items => items.map(i => i.state).sort())")
    assert left == ["sent", "sent"]  # the failed one was replaced, the discarded one is gone


def test_one_unreadable_photo_and_one_good_one(live, page, tmp_path):
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    open_report_form(page, live)
    small_png = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(small_png, "PNG")
    page.set_input_files(".photo-pick input[multiple]", files=[
        {"name": "good.png", "mimeType": "image/png", "buffer": small_png.getvalue()},
        {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0 this is not a photo" * 10},
    ])
    send_report(page, "other", "Two photos, one bad")
    page.wait_for_selector(".outbox-item.state-sent")
    note = page.text_content(".outbox-receipt-note")
    assert note.startswith("Bilde 2 (broken.jpg) kunne ikke brukes:")
    report = new_reports(world).get()
    assert Photo.select().where(Photo.report == report).count() == 1
    dropped = ReportEvent.select().where((ReportEvent.report == report) & (ReportEvent.kind == "photo_dropped"))
    assert [e.data for e in dropped] == [{"n": 2, "name": "broken.jpg", "reason": "not_image"}]
    page.goto(f"{live.url}/s/{world.site.id}/reports/{report.id}")
    assert "Bilde 2 (broken.jpg) kunne ikke brukes" in page.text_content(".photo-note")
    assert page.locator(".photos img").count() == 1


def test_twenty_reports_queued_offline_are_uploaded_once_each(live, page, context, gate):
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    path = open_report_form_offline(page, live, context)
    for number in range(20):
        send_report(page, "order_tidiness", f"Report {number}")
        wait_until(page, f"document.querySelectorAll('.outbox-item.state-waiting').length === {number + 1}")
    assert gate.uploads == 0
    # A second tab of the app is open too: three senders want to go when the signal returns.
    other = context.new_page()
    other.goto(live.url + path)
    registration = service_worker_registration(context, page)
    context.set_offline(False)
    fire_background_sync(context, page, live.url, registration)
    other.evaluate("window.fieldappOutbox.flush()")
    wait_until(page, "document.querySelectorAll('.outbox-item.state-sent').length === 20", timeout=30)
    page.evaluate("window.fieldappOutbox.flush()")
    other.evaluate("window.fieldappOutbox.flush()")
    page.wait_for_timeout(500)
    assert new_reports(world).count() == 20
    assert gate.uploads == 20


def test_an_offline_report_survives_a_reload_while_offline(live, page, context, tmp_path):
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    path = open_report_form_offline(page, live, context)
    page.set_input_files(".photo-pick input[capture]", jpeg_file(tmp_path / "big.jpg"))
    send_report(page, "fire", "Gas bottles by the exit")
    page.wait_for_selector(".outbox-item.state-waiting")
    # The browser re-encoded the photo to what the server keeps: a JPEG, 1600 px on the long edge.
    size = page.evaluate("window.fieldappOutbox.all().then(items => items[0].fields.filter(f => f[1] instanceof Blob))"
                         ".then(fs => createImageBitmap(fs[0][1]).then(b => [fs[0][1].type, b.width, b.height]))")
    assert size == ["image/jpeg", 1600, 1067]
    page.reload()
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.wait_for_selector(".outbox-item.state-waiting")
    # The outbox page opens without signal too, and lists it.
    page.goto(live.url + "/outbox")
    page.wait_for_selector(".outbox-item.state-waiting")
    assert new_reports(world).count() == 0
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    context.set_offline(False)
    page.wait_for_selector(".outbox-item.state-sent", timeout=15000)
    report = new_reports(world).get()
    assert report.description == "Gas bottles by the exit"
    stored = Photo.get(Photo.report == report)
    assert (stored.width, stored.height) == (1600, 1067)


def test_sign_out_forgets_the_persons_photos(live, page, tmp_path):
    """Photos are served private; after sign-out the browser no longer has them (Clear-Site-Data: "cache")."""
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    open_report_form(page, live)
    page.set_input_files(".photo-pick input[capture]", jpeg_file(tmp_path / "p.jpg", (800, 600)))
    send_report(page, "fire", "With a photo")
    page.wait_for_selector(".outbox-item.state-sent")
    report = new_reports(world).get()
    page.goto(f"{live.url}/s/{world.site.id}/reports/{report.id}")
    src = page.get_attribute(".photos img", "src")
    cached = "src => fetch(src, {cache: 'only-if-cached', mode: 'same-origin'}).then(r => r.status, () => 'none')"
    assert page.evaluate(cached, src) == 200  # kept by the browser while signed in
    assert page.evaluate("window.fieldappOutbox.all().then(items => items.map(i => i.state))") == ["sent"]
    sign_out_ui(page, live)
    page.wait_for_url("**/sign-in")
    assert page.evaluate(cached, src) == "none"
    # The person's receipt (what they sent, when) is gone from the phone too.
    assert page.evaluate("window.fieldappOutbox.all().then(items => items.length)") == 0


def test_a_check_in_refused_online_says_why_on_the_form_and_is_fixed_there(live, page):
    """Refused while the person looks at it (equipment not ticked): the reason on the form, never "saved";
    ticking and sending again replaces the failed item, and the person is on the attendance list."""
    world = live.world
    for key in ("helmet", "safety_shoes"):
        SiteEquipment.create(site=world.site, equipment=Equipment.get(Equipment.key == key))
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("#check-in button[type=submit]")
    page.wait_for_selector(".outbox-note.error:not([hidden])")
    note = page.text_content(".outbox-note")
    assert "Lagret på telefonen" not in note and "utstyr" in note.lower(), note
    assert CheckIn.select().count() == 0
    assert page.is_enabled("#check-in button[type=submit]")
    page.click("label.all-worn")
    page.click("#check-in button[type=submit]")
    page.wait_for_selector(".notice[role=status]")  # the page reloads as checked in
    assert [c.user_id for c in CheckIn.select()] == [world.people["worker"].id]
    states = page.evaluate("window.fieldappOutbox.all().then(items => items.map(i => i.state))")
    assert states == ["sent"]  # the failed item was replaced by the one that went through


def test_a_kept_page_of_the_last_person_is_not_offered_to_the_next(live, page, context):
    """The breaker: Ola's kept report page, opened offline after Piotr had signed in over Ola's session (no
    sign-out), queued Piotr's report under Ola's name and it was saved as Ola's when he next signed in."""
    world = live.world
    worker, foreman = world.people["worker"], world.people["foreman"]
    path = f"/s/{world.site.id}/reports/new"
    sign_in_ui(page, live.url, worker.phone, PIN)
    page.goto(live.url + path)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(live.url + path)  # now through the service worker, which keeps it
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('{path}')).then(r => !!r)")
    sign_in_ui(page, live.url, foreman.phone, PIN)  # over Ola's session, as a shared phone is handed on
    wait_until(page, "window.fieldappOutbox !== undefined")
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('{path}')).then(r => !r)")
    context.set_offline(True)
    page.goto(live.url + path)
    maker = page.evaluate("(document.querySelector('meta[name=fieldapp-maker]') || {}).content || ''")
    assert not maker.startswith(f"{worker.id}."), maker  # the offline page, not Ola's form
    context.set_offline(False)
    page.goto(live.url + path)  # opened with signal by the one signed in now: kept for him
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('{path}')).then(r => !!r)")
    context.set_offline(True)
    page.goto(live.url + path)
    maker = page.evaluate("document.querySelector('meta[name=fieldapp-maker]').content")
    assert maker.startswith(f"{foreman.id}."), maker
    context.set_offline(False)
