"""What a new user found in walkarounds and SJA at 360 x 780 (issue 18, the new-user test): a new round starts
clean after a finished one; an SJA saved without signal says so with its title, then opens when sent; nothing
runs past a card's edge; the SJA form's main action is in view without scrolling."""
import pytest

from helpers import PIN, add_sja, poll, sign_in_ui, wait_until

from fieldapp.models import SafetyRound, Sja, User

PHONE_WIDTH, PHONE_HEIGHT = 360, 780

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": PHONE_WIDTH, "height": PHONE_HEIGHT}}


# Elements wider than their box (scrollWidth > clientWidth) inside the page's cards, by tag and first words.
OVERFLOWING = """() => [...document.querySelectorAll('main *, .card, .card *')]
    .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1
                 && getComputedStyle(e).overflowX === 'visible' && !['SELECT', 'INPUT', 'TEXTAREA'].includes(e.tagName))
    .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 40))"""


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert page.evaluate(OVERFLOWING) == []


def test_a_new_round_starts_clean_after_a_finished_one(live, page):
    world = live.world
    person = world.people["verneombud"]
    sign_in_ui(page, live.url, person.phone, PIN)
    path = f"/s/{world.site.id}/rounds/new"
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("form[data-round-start] button[type=submit]")
    wait_until(page, "!document.querySelector('[data-round-checklist]').hidden")
    total = page.locator(".round-item").count()
    page.evaluate("""() => document.querySelectorAll('.round-item form[data-round-answer]').forEach(f => {
        f.querySelector('input[value=ok]').checked = true; f.requestSubmit(); })""")
    wait_until(page, f"document.querySelectorAll('.round-item.answered').length === {total}", timeout=30)
    fits(page)
    round_uuid = page.evaluate(f"JSON.parse(localStorage.getItem('fieldapp-round-{world.site.id}-{person.id}')).uuid")
    assert page.evaluate(f"localStorage.getItem('fieldapp-round-answers-{round_uuid}') !== null")
    page.click("form[data-round-finish] button[type=submit]")
    wait_until(page, "!document.querySelector('form[data-round-finish] .answer-state').hidden")
    # The server's record, not the phone's count: the count can read 0 for a moment after the finish is queued,
    # while the last answers are still on their way (seen once in CI).
    poll(lambda: SafetyRound.get().finished_at is not None, timeout=30)
    wait_until(page, "document.documentElement.dataset.outbox === '0'", timeout=30)
    # The phone forgot the finished round: both its pointer and its answers.
    assert page.evaluate(f"localStorage.getItem('fieldapp-round-{world.site.id}-{person.id}')") is None
    assert page.evaluate(f"localStorage.getItem('fieldapp-round-answers-{round_uuid}')") is None
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.wait_for_timeout(200)
    assert page.locator("form[data-round-start]").is_visible()
    assert page.locator("[data-round-checklist]").is_hidden()
    assert page.locator(".round-item.answered").count() == 0
    # A new round: nothing answered yet, a new UUID.
    page.click("form[data-round-start] button[type=submit]")
    wait_until(page, "!document.querySelector('[data-round-checklist]').hidden")
    assert page.locator(".round-item.answered").count() == 0
    assert page.evaluate(f"JSON.parse(localStorage.getItem('fieldapp-round-{world.site.id}-{person.id}')).uuid") != round_uuid
    page.goto(f"{live.url}/s/{world.site.id}/rounds/{round_uuid}")
    fits(page)


def test_an_abandoned_round_is_discarded_from_its_page(live, page):
    world = live.world
    person = world.people["foreman"]
    sign_in_ui(page, live.url, person.phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/rounds/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("form[data-round-start] button[type=submit]")
    poll(lambda: SafetyRound.select().count() == 1, timeout=30)
    round_uuid = SafetyRound.get().uuid
    page.goto(f"{live.url}/s/{world.site.id}/rounds/{round_uuid}")
    fits(page)
    with page.expect_navigation():
        page.click("form[data-round-discard] button[type=submit]")
    assert page.url.endswith(f"/s/{world.site.id}/rounds")
    assert SafetyRound.select().count() == 0
    assert page.evaluate(f"localStorage.getItem('fieldapp-round-{world.site.id}-{person.id}')") is None


def test_an_sja_saved_without_signal_says_so_with_its_title_then_opens(live, page, context):
    world = live.world
    foreman, worker = world.people["foreman"], world.people["worker"]
    sign_in_ui(page, live.url, foreman.phone, PIN)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    path = f"/s/{world.site.id}/sja/new"
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('{path}')).then(r => !!r)")
    # The main action is in view at once, above the bottom navigation, without scrolling.
    send = page.locator("button.send").bounding_box()
    nav_top = page.evaluate("document.querySelector('.bottom-nav')"
                            "?.getBoundingClientRect().top ?? innerHeight")
    assert 0 <= send["y"] and send["y"] + send["height"] <= min(PHONE_HEIGHT, nav_top)
    fits(page)
    context.set_offline(True)
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.fill("#title", "Sveising på taket")
    page.check(f"input[name=participants][value='{worker.id}']")
    page.fill("#step-0-title", "Sveise bjelken")
    page.fill("#place", "Tak, akse C")
    page.fill("#step-0-hazard-0-cause", "Gnister mot isolasjon")
    page.select_option("#step-0-hazard-0-probability", "4")
    page.select_option("#step-0-hazard-0-severity", "5")
    page.fill("#step-0-hazard-0-measure", "Brannvakt")
    page.click("button.send")
    wait_until(page, "!document.querySelector('[data-sja-saved]').hidden")
    assert page.locator("[data-sja-saved] .sja-saved-title").inner_text() == "Sveising på taket"
    assert page.locator("form.sja-form").is_hidden()
    assert Sja.select().count() == 0
    context.set_offline(False)
    wait_until(page, "/\\/sja\\/\\d+$/.test(location.pathname)", timeout=40)
    assert Sja.select().count() == 1 and "Sveising på taket" in page.content()


def test_long_sja_details_wrap_inside_the_card(live, page):
    world = live.world
    foreman = world.people["foreman"]
    User.update(language="nb").where(User.id == foreman.id).execute()
    sja = add_sja(world, foreman, [foreman, world.people["worker"]], place="Aksen C, tredje etasje, ved heisen")
    Sja.update(equipment=["hi_vis", "fall_arrest", "helmet"]).where(Sja.id == sja.id).execute()
    sign_in_ui(page, live.url, foreman.phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/sja/{sja.id}")
    assert "Fallsikringssele" in page.content()
    fits(page)


def test_a_round_finished_elsewhere_is_forgotten_by_the_start_page(live, page):
    world = live.world
    person = world.people["verneombud"]
    sign_in_ui(page, live.url, person.phone, PIN)
    path = f"/s/{world.site.id}/rounds/new"
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("form[data-round-start] button[type=submit]")
    poll(lambda: SafetyRound.select().count() == 1, timeout=30)
    page.reload()
    wait_until(page, "!document.querySelector('[data-round-checklist]').hidden")  # still walking it
    # Finished from another phone: this phone's start page forgets it.
    SafetyRound.update(finished_at=SafetyRound.started_at).execute()
    page.reload()
    wait_until(page, "window.fieldappOutbox !== undefined")
    wait_until(page, f"localStorage.getItem('fieldapp-round-{world.site.id}-{person.id}') === null")
    assert page.locator("form[data-round-start]").is_visible()
    assert page.locator("[data-round-checklist]").is_hidden()
