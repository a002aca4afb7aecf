"""A Polish and a Ukrainian worker at 360 px (issue 17): first sign-in confirms the language in one tap, then
check in, report a hazard, acknowledge a stop-work order; no text on any of these pages overflows its box."""
import uuid

import pytest
from PIL import Image

from helpers import PIN, sign_in_ui, wait_until

from fieldapp.alerts.wording import wording
from fieldapp.models import Alert, AlertRecipient, CheckIn, Equipment, Report, SiteEquipment, User

# Every element with text of its own, visible, with a box: its text must fit (scrollWidth <= clientWidth), the box
# must be on the screen, and the page must not scroll sideways. Form fields hold what the person types, so they are left out.
OVERFLOWS = """() => {
  const found = [];
  if (document.documentElement.scrollWidth > window.innerWidth) found.push({tag: 'html',
      text: 'page scrolls sideways', sw: document.documentElement.scrollWidth, cw: window.innerWidth});
  for (const el of document.body.querySelectorAll('*')) {
    if (['INPUT', 'TEXTAREA', 'SELECT', 'OPTION', 'SCRIPT', 'STYLE'].includes(el.tagName)) continue;
    if (el.closest('svg') || el.clientWidth === 0 || el.getClientRects().length === 0) continue;
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    // A box wider than its parent's (a table too wide for the card) is cut off or pushes the page sideways.
    const box = el.getBoundingClientRect(), outer = el.parentElement.getBoundingClientRect();
    const sticksOut = el.textContent.trim() && getComputedStyle(el).position === 'static'
      && (box.right > outer.right + 1 || box.left < outer.left - 1);
    if ((own && el.scrollWidth > el.clientWidth + 1) || sticksOut)
      found.push({tag: el.tagName, cls: String(el.className), text: el.textContent.trim().slice(0, 60),
                  sw: el.scrollWidth, cw: el.clientWidth, box: [Math.round(box.left), Math.round(box.right)],
                  parent: [Math.round(outer.left), Math.round(outer.right)]});
  }
  return found;
}"""
WORDS = {  # the browser's Accept-Language for each test language
    "pl": "pl-PL,pl;q=0.9", "uk": "uk-UA,uk;q=0.9", "lt": "lt-LT,lt;q=0.9",
}


@pytest.fixture
def browser_context_args(browser_context_args, request):
    language = request.node.callspec.params["language"]
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}, "locale": WORDS[language][:5],
            "extra_http_headers": {"Accept-Language": WORDS[language]}}


def photo(path):
    Image.new("RGB", (1200, 900), (200, 120, 40)).save(path, "JPEG", quality=85)
    return str(path)


def no_overflow(page, where):
    assert page.evaluate("document.documentElement.lang") == where[0], where
    found = page.evaluate(OVERFLOWS)
    assert found == [], (where, found)


@pytest.mark.parametrize("language", ["pl", "uk"])
def test_check_in_report_and_stop_work_at_360_px(live, page, tmp_path, csp_violations, language):
    world = live.world
    worker = world.people["worker"]
    for key in ("helmet", "safety_shoes", "hi_vis", "hearing_protection", "fall_arrest"):
        SiteEquipment.create(site=world.site, equipment=Equipment.get(Equipment.key == key))
    User.update(language="nb", language_confirmed_at=None).where(User.id == worker.id).execute()
    assert page.viewport_size == {"width": 360, "height": 780}

    # Sign-in follows the browser; the first sign-in offers its language, confirmed with one tap.
    page.goto(live.url + "/sign-in")
    no_overflow(page, (language, "sign-in"))
    wait_until(page, "navigator.serviceWorker.ready.then(() => true)")
    page.fill("input[name=phone]", worker.phone)
    page.fill("input[name=secret]", PIN)
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    page.wait_for_url("**/welcome/language**")
    no_overflow(page, (language, "first language"))
    assert page.get_attribute("#confirm-language", "value") == language
    with page.expect_navigation():
        page.click("#confirm-language")
    assert User.get_by_id(worker.id).language == language
    no_overflow(page, (language, "home"))

    # Check in: all the site's equipment worn, one tap, then send.
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    no_overflow(page, (language, "check-in"))
    page.click("label.all-worn")
    with page.expect_navigation():
        page.click("#check-in button[type=submit]")
    no_overflow(page, (language, "checked in"))
    assert CheckIn.get().user_id == worker.id

    # Report a hazard with a photo.
    page.goto(live.url + "/")
    page.click(".site-card a.report-button")
    page.wait_for_url(f"**/s/{world.site.id}/reports/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    no_overflow(page, (language, "report form"))
    page.set_input_files(".photo-pick input[capture]", photo(tmp_path / "hazard.jpg"))
    page.wait_for_selector(".previews img.preview")
    page.click("label.choice:has(input[value=falling_objects])")
    page.click("button.send")
    page.wait_for_selector(".outbox-item.state-sent")
    no_overflow(page, (language, "report sent"))
    assert Report.select().where(Report.reporter == worker, Report.id != world.report.id).count() == 1

    # A stop-work order (AML § 6-3): read in the worker's language and acknowledged.
    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["verneombud"], level="stop_work",
                         template="stop_work", area="Blokk B, 3. etasje", ack_required=True)
    AlertRecipient.create(alert=alert, user=worker, role="worker")
    page.goto(f"{live.url}/s/{world.site.id}/alerts/{alert.id}")
    no_overflow(page, (language, "stop-work order"))
    with live.app.test_request_context():
        title, _text = wording(alert, language)
    assert title in page.text_content("main") and "STANS ARBEIDET" not in page.text_content("main")
    page.click("button.ack-button")
    page.wait_for_selector(".ack-done")
    no_overflow(page, (language, "acknowledged"))
    assert AlertRecipient.get(AlertRecipient.alert == alert).acked_at is not None
    assert csp_violations == []
    # The check finds a word too long for its box.
    page.evaluate("""() => { const box = document.createElement('p'); box.id = 'too-long';
        box.style.width = '60px'; box.style.whiteSpace = 'nowrap'; box.textContent = 'Niebezpieczeństwo';
        document.querySelector('main').append(box); }""")
    assert [found["text"] for found in page.evaluate(OVERFLOWS)] == ["Niebezpieczeństwo"]


@pytest.mark.parametrize("language", ["lt", "pl"])
def test_the_forms_that_take_a_text_per_language_fit_at_360_px(live, page, language):
    """The manager's equipment names and the compose form's reader languages (a table of counts)."""
    world = live.world
    for role, code in (("worker", "uk"), ("foreman", "nb"), ("manager", language), ("verneombud", language)):
        User.update(language=code).where(User.id == world.people[role].id).execute()
    Equipment.create(key="custom-mask", organization=world.org, names={"nb": "Sveisemaske"})
    for role, path in (("manager", f"/s/{world.site.id}/checkin-settings"),
                       ("verneombud", f"/s/{world.site.id}/alerts/new")):
        person = world.people[role]
        page.context.clear_cookies()
        sign_in_ui(page, live.url, person.phone, PIN)
        page.goto(live.url + path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        no_overflow(page, (language, path))
    assert page.locator("#reader-languages li[data-language]").count() == 3  # uk, nb and the manager's
