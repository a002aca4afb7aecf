"""Reporting a hazard on a phone: four taps with a real photo, and the same with no signal at all."""
import io

from PIL import Image

from helpers import PIN, fire_background_sync, sign_in_ui, wait_until

from fieldapp import storage
from fieldapp.models import Photo, Report, ReportEvent


def phone_jpeg(path):
    """A phone-sized JPEG held upright (EXIF orientation 6) with a GPS block."""
    image = Image.new("RGB", (3000, 2000), (90, 120, 160))
    image.paste((255, 0, 0), (0, 0, 750, 500))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (59.0, 54.0, 50.0), 3: "E", 4: (10.0, 45.0, 10.0)}
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return str(path)


def new_reports(world):
    return Report.select().where(Report.id != world.report.id)


def test_from_home_to_a_sent_report_with_a_photo_in_four_taps(live, page, tmp_path, csp_violations):
    world = live.world
    photo = phone_jpeg(tmp_path / "IMG_0001.jpg")
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    taps = 0
    page.click(".site-card a.report-button")  # 1: Report a hazard
    taps += 1
    page.wait_for_url(f"**/s/{world.site.id}/reports/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    # 2: Take a photo (the phone's camera answers through the file input).
    page.set_input_files(".photo-pick input[capture]", photo)
    taps += 1
    page.wait_for_selector(".previews img.preview")
    page.click("label.choice:has(input[value=falling_objects])")  # 3: what it is about
    taps += 1
    assert page.is_checked("input[name=severity][value=high]")  # suggested for falling objects
    page.click("button.send")  # 4: send
    taps += 1
    assert taps == 4
    page.wait_for_selector(".outbox-item.state-sent")
    assert "Sendt" in page.text_content(".outbox-list")
    report = new_reports(world).get()
    assert (report.kind, report.category, report.severity) == ("hazard", "falling_objects", "high")
    stored = Photo.get(Photo.report == report)
    image = Image.open(io.BytesIO(storage.for_app(live.app).read(stored.digest)))
    # Upright (3000x2000 turned by EXIF), long edge 1600 (rounding differs by a pixel), no EXIF.
    assert image.height == 1600 and image.width in (1066, 1067) and dict(image.getexif()) == {}
    assert image.getpixel((image.width - 20, 20))[0] > 200  # the red corner is top right now
    # The form is ready for the next report: a new UUID, nothing chosen.
    assert page.locator(".previews img").count() == 0
    assert not page.is_checked("input[value=falling_objects]")
    assert csp_violations == []


def test_a_report_made_offline_is_sent_once_when_the_signal_returns(live, page, context, tmp_path):
    world = live.world
    photo = phone_jpeg(tmp_path / "IMG_0002.jpg")
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")  # seen once with signal: kept on the phone
    # The service worker writes the kept copy inside waitUntil: wait for it to be there, not for a time.
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('/s/{world.site.id}/reports/new')).then(r => !!r)")
    context.set_offline(True)
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")  # opens without signal
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.set_input_files(".photo-pick input[capture]", photo)
    page.wait_for_selector(".previews img.preview")
    page.click("label.choice:has(input[value=order_tidiness])")
    page.click("details.more summary")
    page.fill("textarea[name=description]", "Planks with nails in the walkway")
    page.click("button.send")
    page.wait_for_selector(".outbox-item.state-waiting")
    wait_until(page, "document.getElementById('outbox-status').hidden === false")
    assert page.text_content("#outbox-status") == "1 venter på å bli sendt"
    # Retries without signal change nothing on the server.
    for _ in range(3):
        page.evaluate("window.fieldappOutbox.flush()")
    assert new_reports(world).count() == 0
    stored = page.evaluate("window.fieldappOutbox.all().then(items => items.map(i => ["
                           "i.state, i.fields.filter(f => f[1] instanceof Blob).map(f => f[1].size)]))")
    assert len(stored) == 1 and stored[0][0] == "pending" and stored[0][1][0] > 10_000  # the photo is kept
    context.set_offline(False)
    wait_until(page, "window.dispatchEvent(new Event('online'))")  # the page may reload itself meanwhile
    page.wait_for_selector(".outbox-item.state-sent", timeout=15000)
    wait_until(page, "document.documentElement.dataset.outbox === '0'")
    # Once more for good measure: nothing is sent twice.
    page.evaluate("window.fieldappOutbox.flush()")
    assert new_reports(world).count() == 1
    report = new_reports(world).get()
    assert report.description == "Planks with nails in the walkway" and report.category == "order_tidiness"
    assert Photo.select().where(Photo.report == report).count() == 1
    assert (report.received_at - report.happened_at).total_seconds() >= 0  # the phone's time of the report
    # The foreman sees it with its photo.
    response = page.request.get(f"{live.url}/s/{world.site.id}/reports/{report.id}")
    assert response.status == 200 and "Planks with nails" in response.text()


def test_background_sync_sends_the_report_with_the_app_closed(live, page, context, tmp_path):
    """The page is gone when the signal returns: the service worker's sync event sends what waits."""
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    context.set_offline(True)
    page.set_input_files(".photo-pick input[capture]", phone_jpeg(tmp_path / "IMG_0003.jpg"))
    page.wait_for_selector(".previews img.preview")
    page.click("label.choice:has(input[value=fire])")
    page.click("button.send")
    page.wait_for_selector(".outbox-item.state-waiting")
    page.goto("about:blank")  # the app is closed
    assert new_reports(world).count() == 0
    # Chromium may fire the registered sync by itself as the signal returns (the real thing); the test fires it
    # too, so that it does not depend on when: either way the service worker sends the report, once.
    context.set_offline(False)
    fire_background_sync(context, page, live.url)
    for _ in range(100):
        if new_reports(world).count():
            break
        page.wait_for_timeout(100)
    assert new_reports(world).count() == 1
    report = new_reports(world).get()
    assert report.category == "fire" and Photo.select().where(Photo.report == report).count() == 1


IN_VIEW = """(el) => { const r = el.getBoundingClientRect(); const bar = document.querySelector('.sticky-actions');
    const bottom = bar ? bar.getBoundingClientRect().top : innerHeight; return r.top >= 0 && r.bottom <= bottom; }"""


def test_a_report_the_server_would_refuse_is_told_beside_its_field_before_it_waits_on_the_phone(live, page, context):
    """The server refuses a report with no category ("no_category") or with neither photo nor text ("empty"):
    said on the form at once, beside the field and in view above the Send bar, even offline, instead of a failed
    item on the outbox page once the signal returns. Mended, it is queued and sent as ever."""
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    context.set_offline(True)
    queued = "window.fieldappOutbox.all().then(items => items.length)"
    page.click("button.send")  # nothing chosen, nothing written
    category = page.locator(".no-category")
    category.wait_for(state="visible")
    assert category.text_content() == "Velg hva det gjelder."
    assert category.evaluate(IN_VIEW)
    # Under all the tiles, not in the grid's last free cell beside the last one.
    assert category.evaluate("(el) => { const tiles = el.parentNode.querySelectorAll('.choice');"
                             " return el.getBoundingClientRect().top >= tiles[tiles.length - 1]"
                             ".getBoundingClientRect().bottom; }")
    assert page.evaluate(queued) == 0
    page.click("label.choice:has(input[value=order_tidiness])")
    assert category.is_hidden()  # gone once the person acts on it
    page.click("button.send")  # a category, but neither photo nor text
    empty = page.locator(".report-empty")
    empty.wait_for(state="visible")
    assert empty.text_content() == "Legg til et bilde eller noen ord om hva du så."
    assert empty.evaluate(IN_VIEW)
    assert page.evaluate(queued) == 0
    assert page.evaluate("document.activeElement.name") == "description"  # the text field, opened
    page.fill("textarea[name=description]", "\u200b")  # invisible: still no words
    page.click("button.send")
    empty.wait_for(state="visible")
    assert page.evaluate(queued) == 0
    page.fill("textarea[name=description]", "Loose planks by the stairs")
    assert empty.is_hidden()
    page.click("button.send")
    page.wait_for_selector(".outbox-item.state-waiting")
    context.set_offline(False)
    wait_until(page, "window.dispatchEvent(new Event('online'))")
    page.wait_for_selector(".outbox-item.state-sent", timeout=15000)
    assert new_reports(world).get().description == "Loose planks by the stairs"


def test_back_after_a_comment_does_not_offer_it_again(live, page, csp_violations):
    """Back after sending a comment fetched the page again (a fresh form UUID), and Chromium put the sent words
    back in the box: one more tap, a minute later, saved them twice (found by the new-user test at 360 px)."""
    world = live.world
    sign_in_ui(page, live.url, world.people["foreman"].phone, PIN)
    report_url = f"{live.url}/s/{world.site.id}/reports/{world.report.id}"
    page.goto(report_url)
    page.fill("#comment-text", "Rekkverket er sikret med strips")
    page.click("form:has(#comment-text) button[type=submit]")
    page.wait_for_url("**#timeline")
    page.go_back()
    page.wait_for_selector("#comment-text")
    assert page.input_value("#comment-text") == ""  # nothing to send twice
    comments = ReportEvent.select().where((ReportEvent.report == world.report) & (ReportEvent.kind == "comment"))
    assert [e.text for e in comments] == ["Rekkverket er sikret med strips"]
    assert csp_violations == []
