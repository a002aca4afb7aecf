"""Check-in on a phone: from the poster's QR code to the foreman's list, and with no signal at all."""
from helpers import PIN, sign_in_ui, wait_until

from fieldapp.models import CheckIn, Equipment, SiteEquipment


def require(site, *keys):
    for key in keys:
        SiteEquipment.create(site=site, equipment=Equipment.get(Equipment.key == key))


def test_scan_poster_sign_in_confirm_equipment_and_appear_on_the_foremans_list(live, page, browser, phone_profile,
                                                                               csp_violations):
    world = live.world
    require(world.site, "helmet", "safety_shoes", "hi_vis")
    # The QR code on the poster opens this URL; a signed-out phone goes to sign-in and back.
    page.goto(f"{live.url}/p/{world.site.qr_token}")
    assert "/sign-in" in page.url
    page.fill("input[name=phone]", world.people["worker"].phone)
    page.fill("input[name=secret]", PIN)
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    page.wait_for_url(f"**/s/{world.site.id}/checkin")
    assert page.locator(".tile").count() == 3
    # Tap 1: "I am wearing all of it" ticks every tile. Tap 2: check in.
    page.click("label.all-worn")
    assert page.eval_on_selector_all("input[name=have]", "els => els.every(e => e.checked)")
    with page.expect_navigation():
        page.click("#check-in button[type=submit]")
    assert "Du er sjekket inn siden" in page.text_content("#check-in")
    row = CheckIn.get()
    assert row.user_id == world.people["worker"].id and row.confirmed == ["helmet", "safety_shoes", "hi_vis"]

    foreman = browser.new_context(**phone_profile, locale="nb-NO").new_page()
    sign_in_ui(foreman, live.url, world.people["foreman"].phone, PIN)
    foreman.goto(f"{live.url}/s/{world.site.id}/on-site")
    assert "Worker Person" in foreman.text_content("#on-site")
    assert "Verneutstyr bekreftet" in foreman.text_content("#on-site")
    assert csp_violations == []


def test_check_in_without_signal_is_sent_once_when_the_signal_returns(live, page, context):
    world = live.world
    require(world.site, "helmet")
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    wait_until(page, "window.fieldappOutbox !== undefined")
    context.set_offline(True)
    page.click("label.all-worn")
    page.click("#check-in button[type=submit]")
    page.wait_for_selector(".outbox-note:not([hidden])")
    wait_until(page, "document.getElementById('outbox-status').hidden === false")
    assert page.text_content("#outbox-status") == "1 venter på å bli sendt"
    assert CheckIn.select().count() == 0
    # Many retries while offline change nothing on the server.
    for _ in range(3):
        page.evaluate("window.fieldappOutbox.flush()")
    assert CheckIn.select().count() == 0
    context.set_offline(False)
    wait_until(page, "window.dispatchEvent(new Event('online'))")  # the page may reload itself meanwhile
    wait_until(page, "document.documentElement.dataset.outbox === '0'", timeout=10)
    assert CheckIn.select().count() == 1
    row = CheckIn.get()
    assert row.user_id == world.people["worker"].id and row.checked_out_at is None
    # The time is the phone's, from when the button was pressed.
    assert (row.received_at - row.checked_in_at).total_seconds() >= 0
    # Only the receipt is left ("sent"), without the form's contents.
    assert page.evaluate("window.fieldappOutbox.all().then(items => items.map(i => i.state))") == ["sent"]
    page.goto(f"{live.url}/")
    assert "Du er sjekket inn siden" in page.text_content("main")


def test_poster_prints_on_one_a4_page(live, browser):
    import re

    context = browser.new_context()  # a desktop browser, as the site office prints it
    page = context.new_page()
    sign_in_ui(page, live.url, live.world.people["manager"].phone, PIN)
    page.goto(f"{live.url}/s/{live.world.site.id}/poster")
    page.emulate_media(media="print")
    assert not page.locator("nav.no-print").is_visible()
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    context.close()


def test_check_in_page_opens_without_signal_and_the_check_in_waits(live, page, context):
    world = live.world
    require(world.site, "helmet")
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(f"{live.url}/s/{world.site.id}/checkin")  # seen once with signal: kept on the phone
    first_uuid = page.input_value("#check-in input[name=uuid]")
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('/s/{world.site.id}/checkin')).then(r => !!r)")
    context.set_offline(True)
    page.goto(f"{live.url}/s/{world.site.id}/checkin")  # e.g. the next morning, in the basement
    assert page.locator("#check-in .all-worn").is_visible()
    assert page.input_value("#check-in input[name=uuid]") != first_uuid  # a new one for this visit
    page.click("label.all-worn")
    page.click("#check-in button[type=submit]")
    page.wait_for_selector(".outbox-note:not([hidden])")
    assert CheckIn.select().count() == 0
    context.set_offline(False)
    wait_until(page, "window.dispatchEvent(new Event('online'))")  # the page may reload itself meanwhile
    wait_until(page, "document.documentElement.dataset.outbox === '0'")
    assert CheckIn.select().count() == 1
    # Signing out forgets the kept page.
    page.goto(f"{live.url}/me")
    with page.expect_navigation():
        page.click("form.sign-out button")
    assert wait_until(page, "caches.has('pages-v1').then(kept => !kept)")


def test_a_refused_check_in_is_told_in_view_and_a_later_check_in_answers_it(live, page):
    """Nothing ticked: the refusal is shown where the person looks (not under the sticky button). Checked in later
    from a fresh page, the refused item is answered by it: no "1 needs checking" left for good."""
    world = live.world
    require(world.site, "helmet", "safety_shoes", "hi_vis")
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("#check-in button[type=submit]")
    note = page.wait_for_selector(".outbox-note.error:not([hidden])")
    box = note.bounding_box()
    sticky = page.locator(".sticky-actions").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= sticky["y"], (box, sticky)
    wait_until(page, "window.fieldappOutbox.all().then(items => items.some(i => i.state === 'failed'))")
    # The bar that says so is one big tap target to the outbox page (it was a 21 px line of text).
    page.goto(f"{live.url}/")
    link = page.wait_for_selector("#outbox-status:not([hidden]) a")
    assert link.bounding_box()["height"] >= 48
    # Away and back: a fresh form, which knows nothing of the refused item.
    page.goto(f"{live.url}/")
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("label.all-worn")
    page.click("#check-in button[type=submit]")
    wait_until(page, "document.body && document.body.textContent.includes('Du er sjekket inn siden')")
    assert CheckIn.select().count() == 1
    wait_until(page, "window.fieldappOutbox.all().then(items => items.every(i => i.state === 'sent'))")
    page.goto(f"{live.url}/")
    wait_until(page, "document.documentElement.dataset.outbox === '0'")
    assert page.locator("#outbox-status").is_hidden()
