"""SJA on a 360 px phone (issue 18): a red hazard is refused until it has a measure; three participants sign,
two with their own PINs on the crew's phone and one on their own phone; an SJA made without signal is saved
exactly once when the signal returns."""
import pytest
from playwright.sync_api import Error as PlaywrightError

from helpers import PIN, add_sja, broken_words, sign_in_ui, wait_until

from fieldapp.models import Sja, SjaSignature, User

PHONE_WIDTH = 360


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": PHONE_WIDTH, "height": 780}}


def open_form(page, live):
    page.goto(f"{live.url}/s/{live.world.site.id}/sja/new")
    wait_until(page, "window.fieldappOutbox !== undefined")


def fill_form(page, world, participants, measure):
    page.fill("#title", "Sveising på taket")
    page.fill("#place", "Tak, akse C")
    for person in participants:
        page.check(f"input[name=participants][value='{person.id}']")
    page.fill("#step-0-title", "Sveise bjelken")
    page.fill("#step-0-hazard-0-cause", "Gnister mot isolasjon")
    page.select_option("#step-0-hazard-0-probability", "4")
    page.select_option("#step-0-hazard-0-severity", "5")
    if measure:
        page.fill("#step-0-hazard-0-measure", measure)


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_three_sign_two_with_pins_on_the_crew_phone_and_a_red_hazard_needs_a_measure(
        live, page, browser, browser_context_args, csp_violations):
    world = live.world
    foreman, worker, verneombud, manager = (world.people[r] for r in ("foreman", "worker", "verneombud", "manager"))
    sign_in_ui(page, live.url, foreman.phone, PIN)
    open_form(page, live)
    fill_form(page, world, [worker, verneombud, manager], measure="")
    # The score shows with its colour and its words; without a measure the red hazard is refused on the form.
    score = page.locator(".sja-hazard").first.locator(".sja-score")
    assert "20" in score.text_content() and "rød" in score.text_content()
    assert "risk-red" in score.get_attribute("class")
    page.click("button.send")
    note = page.locator("#step-0-hazard-0-measure ~ .sja-measure-needed")
    assert note.is_visible() and "tiltak" in note.text_content()
    page.wait_for_timeout(300)
    assert Sja.select().count() == 0
    assert no_sideways_scroll(page)
    page.fill("#step-0-hazard-0-measure", "Brannvakt og slokkeapparat")
    assert not note.is_visible()
    page.click("button.send")
    wait_until(page, "/\\/sja\\/\\d+$/.test(location.pathname)", timeout=15)
    sja = Sja.get()
    assert sja.title == "Sveising på taket"
    assert no_sideways_scroll(page)

    # The crew's phone (the foreman's): the worker and the verneombud each sign with their own PIN.
    for person in (worker, verneombud):
        if page.locator("details.sja-sign-pin").get_attribute("open") is None:
            page.click("details.sja-sign-pin summary")
        page.select_option("#signer", str(person.id))
        page.fill("#pin", PIN)
        with page.expect_navigation():
            page.click("button.sja-sign-pin-button")
    # The foreman (responsible, so a participant too) signs on this phone as himself.
    page.click("button.sja-sign-own")
    wait_until(page, f"document.querySelector('[data-person=\"{foreman.id}\"] .signed') !== null", timeout=15)

    # The manager signs on their own phone.
    other = browser.new_context(**browser_context_args)
    try:
        phone = other.new_page()
        sign_in_ui(phone, live.url, manager.phone, PIN)
        assert "Sveising på taket" in phone.content()  # the home card: waits for their signature
        phone.goto(f"{live.url}/s/{world.site.id}/sja/{sja.id}")
        wait_until(phone, "window.fieldappOutbox !== undefined")
        phone.click("button.sja-sign-own")
        wait_until(phone, f"document.querySelector('[data-person=\"{manager.id}\"] .signed') !== null", timeout=15)
        assert no_sideways_scroll(phone)
    finally:
        other.close()

    signatures = {s.user_id: (s.method, s.device_user_id) for s in SjaSignature.select()}
    assert signatures == {worker.id: ("pin", foreman.id), verneombud.id: ("pin", foreman.id),
                          foreman.id: ("session", foreman.id), manager.id: ("session", manager.id)}
    page.reload()
    page.check("input[name=decision][value=go]")
    with page.expect_navigation():
        page.click("form.sja-decide button[type=submit]")
    assert Sja.get_by_id(sja.id).decision == "go"
    assert csp_violations == []


def test_an_sja_made_without_signal_is_saved_once_when_the_signal_returns(live, page, context):
    world = live.world
    foreman, worker = world.people["foreman"], world.people["worker"]
    sign_in_ui(page, live.url, foreman.phone, PIN)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    open_form(page, live)
    path = f"/s/{world.site.id}/sja/new"
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('{path}')).then(r => !!r)")
    # In the basement: the form opens from the service worker's copy, with its script.
    context.set_offline(True)
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    assert page.locator("button.sja-add-step").is_visible()  # sja.js ran
    fill_form(page, world, [worker], measure="Brannvakt")
    page.click("button.send")
    wait_until(page, "!document.querySelector('.outbox-note').hidden")
    assert Sja.select().count() == 0
    context.set_offline(False)
    wait_until(page, "/\\/sja\\/\\d+$/.test(location.pathname)", timeout=40)
    assert Sja.select().count() == 1
    assert "Sveising på taket" in page.content()
    page.wait_for_timeout(500)
    assert Sja.select().count() == 1


def open_sja_to_sign(live, page):
    """World's worker, signed in on the page of a new SJA they and the foreman take part in; returns the worker."""
    world = live.world
    worker = world.people["worker"]
    sja = add_sja(world, world.people["foreman"], [worker, world.people["foreman"]])
    sign_in_ui(page, live.url, worker.phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/sja/{sja.id}")
    wait_until(page, "window.fieldappOutbox !== undefined")
    return worker


def test_a_signature_made_without_signal_is_sent_once_when_the_signal_returns(live, page, context):
    worker = open_sja_to_sign(live, page)
    context.set_offline(True)
    page.click("button.sja-sign-own")
    wait_until(page, "!document.querySelector('#sign .outbox-note').hidden")
    assert SjaSignature.select().count() == 0
    context.set_offline(False)
    wait_until(page, f"document.querySelector('[data-person=\"{worker.id}\"] .signed') !== null", timeout=40)
    page.wait_for_timeout(500)
    signatures = list(SjaSignature.select())
    assert [(s.user_id, s.method, s.revision) for s in signatures] == [(worker.id, "session", 1)]


# What the service worker does when the signal comes back (static/sw.js, Background Sync): send the outbox without
# the page's own hooks, then tell the pages that it changed.
SERVICE_WORKER_SENDS = """fieldappOutboxCore.flush(null).then(function () {
  navigator.serviceWorker.dispatchEvent(new MessageEvent("message", {data: {type: "outbox-changed"}}));
})"""


def test_a_signature_the_service_worker_sends_shows_on_the_page(live, page):
    # When the signal comes back, the page and the service worker both try to send; whichever takes the outbox's
    # lock first sends. When it was the service worker, the page stayed unsigned (a CI run caught the race).
    worker = open_sja_to_sign(live, page)
    page.route("**/sja/*/sign", lambda route: route.abort("internetdisconnected"))  # no signal for this post
    page.click("button.sja-sign-own")
    signed = f"document.querySelector('[data-person=\"{worker.id}\"] .signed') !== null"
    # Kept in the outbox, or already sent by the real service worker's Background Sync and the page reloaded
    # (then the sign form is gone).
    note = "document.querySelector('#sign .outbox-note')"
    wait_until(page, f"({note} !== null && !{note}.hidden) || {signed}")
    page.unroute("**/sja/*/sign")
    # The real service worker's Background Sync may already be sending it (page.route does not reach it): either
    # way it is the service worker, not the page, that sends.
    wait_until(page, "window.fieldappOutboxCore !== undefined")  # the page's scripts, after a reload too
    try:
        page.evaluate(SERVICE_WORKER_SENDS)
    except PlaywrightError as exc:  # the real one sent it meanwhile and the page reloaded as it should
        if "context was destroyed" not in str(exc):
            raise
    wait_until(page, signed, timeout=20)
    assert [s.user_id for s in SjaSignature.select()] == [worker.id]


@pytest.mark.parametrize("language", ["nb", "en", "pl", "lt", "uk"])
def test_the_risk_grades_labels_keep_their_words_whole_at_360_px(live, page, language):
    """The new-user test saw "Prawdopodobień / stwo" under a hazard in Polish: two labels side by side in half of
    a 360 px phone. They stand one above the other there now, in every language."""
    User.update(language=language).where(User.id == live.world.people["worker"].id).execute()
    sign_in_ui(page, live.url, live.world.people["worker"].phone, PIN)
    open_form(page, live)
    assert page.locator(".sja-grades label").count() >= 4
    assert broken_words(page, ".sja-grades label") == []
    assert no_sideways_scroll(page)
