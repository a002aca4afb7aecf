"""Safety walkarounds on a 360 px phone (issue 18): a round walked with no signal, closed and opened again in
the middle, sent once when the signal returns; two phones answering sections of one round."""
import pytest
from PIL import Image

from helpers import PIN, poll, sign_in_ui, wait_until

from fieldapp.models import Report, RoundAnswer, RoundPhoto, SafetyRound

PHONE_WIDTH = 360


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": PHONE_WIDTH, "height": 780}}


def jpeg_file(path, colour):
    Image.new("RGB", (1200, 900), colour).save(path, "JPEG", quality=85)
    return str(path)


def open_start_page(page, live):
    """The start page, seen once with signal so that the service worker keeps it for offline use."""
    path = f"/s/{live.world.site.id}/rounds/new"
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(live.url + path)
    wait_until(page, "window.fieldappOutbox !== undefined")
    wait_until(page, f"caches.open('pages-v1').then(c => c.match('{path}')).then(r => !!r)")
    return path


def answer_ok(page, selector="[data-round-checklist]"):
    """Every unanswered item under selector answered OK, as taps would (radio, then the item's Save)."""
    return page.evaluate("""(selector) => {
        const forms = [...document.querySelectorAll(selector + ' .round-item:not(.answered) form[data-round-answer]')];
        forms.forEach(f => { f.querySelector('input[value=ok]').checked = true; f.requestSubmit(); });
        return forms.length; }""", selector)


def answer_deviation(page, item_key, note, photo):
    item = page.locator(f"#item-{item_key}")
    item.locator("label.answer-deviation").click()
    item.locator("textarea[name=note]").fill(note)
    item.locator("input[type=file]").set_input_files(photo)
    item.locator("button[type=submit]").click()
    wait_until(page, f"document.querySelector('#item-{item_key}').classList.contains('answered')")


def test_a_round_walked_offline_is_sent_once_with_its_findings_and_photos(live, page, context, tmp_path):
    world = live.world
    sign_in_ui(page, live.url, world.people["verneombud"].phone, PIN)
    path = open_start_page(page, live)
    context.set_offline(True)
    page.goto(live.url + path)  # from the service worker's copy
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("form[data-round-start] button[type=submit]")
    wait_until(page, "!document.querySelector('[data-round-checklist]').hidden")
    keys = page.evaluate("[...document.querySelectorAll('.round-item')].map(li => li.dataset.item)")
    # A deviation without a note is stopped on the phone, before it is queued.
    first = page.locator(f"#item-{keys[0]}")
    first.locator("label.answer-deviation").click()
    first.locator("button[type=submit]").click()
    assert "answered" not in (first.get_attribute("class") or "")
    answer_deviation(page, keys[0], "Gate left open", jpeg_file(tmp_path / "a.jpg", "red"))
    first_section = "#section-" + page.evaluate("document.querySelector('.round-section').dataset.section")
    answer_ok(page, first_section)
    wait_until(page, f"!document.querySelector('{first_section} .round-item:not(.answered)')")
    # The app is closed and opened again in the middle, still without signal: the round goes on.
    page.goto(live.url + path)
    wait_until(page, "!document.querySelector('[data-round-checklist]').hidden")
    assert page.locator(f"{first_section} .round-item.answered").count() == page.locator(
        f"{first_section} .round-item").count()
    answer_deviation(page, keys[10], "Boards missing on the scaffold", jpeg_file(tmp_path / "b.jpg", "blue"))
    answer_ok(page)
    wait_until(page, f"document.querySelectorAll('.round-item.answered').length === {len(keys)}")
    assert page.evaluate("document.body.scrollWidth") <= PHONE_WIDTH  # nothing wider than the phone
    # The end, still offline: participants and a summary, queued after the answers.
    page.fill("form[data-round-finish] textarea[name=names]", "Kari Byggherre")
    page.fill("form[data-round-finish] textarea[name=summary]", "Two findings, both followed up.")
    page.click("form[data-round-finish] button[type=submit]")
    wait_until(page, "!document.querySelector('form[data-round-finish] .answer-state').hidden")
    assert SafetyRound.select().count() == 0  # nothing has left the phone
    context.set_offline(False)
    poll(lambda: RoundAnswer.select().count() == len(keys), timeout=60)
    poll(lambda: SafetyRound.get().finished_at is not None, timeout=30)
    assert SafetyRound.select().count() == 1
    assert SafetyRound.get().summary == "Two findings, both followed up."
    findings = Report.select().where(Report.kind == "finding")
    assert sorted(r.description.split("\n")[-1] for r in findings) == ["Boards missing on the scaffold",
                                                                       "Gate left open"]
    assert RoundPhoto.select().count() == 2
    wait_until(page, "document.documentElement.dataset.outbox === '0'", timeout=20)
    # The round's page: the two findings, ready to sign; the phone forgets the finished round.
    round_uuid = SafetyRound.get().uuid
    # The finish was queued: the phone already forgot the round (a new round starts clean, issue 18).
    assert page.evaluate(f"localStorage.getItem('fieldapp-round-{world.site.id}-{world.people['verneombud'].id}')") is None
    page.goto(f"{live.url}/s/{world.site.id}/rounds/{round_uuid}")
    assert page.locator(".round-findings .finding").count() == 2
    assert page.locator("form.sign-form").count() == 2
    wait_until(page, f"localStorage.getItem('fieldapp-round-{world.site.id}-{world.people['verneombud'].id}') === null")


def test_two_phones_answer_sections_of_one_round(live, page, browser, browser_context_args, tmp_path):
    world = live.world
    sign_in_ui(page, live.url, world.people["verneombud"].phone, PIN)
    open_start_page(page, live)
    page.click("form[data-round-start] button[type=submit]")
    poll(lambda: SafetyRound.select().count() == 1, timeout=20)
    round_uuid = SafetyRound.get().uuid
    other = browser.new_context(**browser_context_args)
    try:
        foreman = other.new_page()
        sign_in_ui(foreman, live.url, world.people["foreman"].phone, PIN)
        wait_until(foreman, "navigator.serviceWorker.controller !== null")
        foreman.goto(f"{live.url}/s/{world.site.id}/rounds/{round_uuid}")
        wait_until(foreman, "window.fieldappOutbox !== undefined")
        sections = page.evaluate("[...document.querySelectorAll('.round-section')].map(s => s.dataset.section)")
        half = len(sections) // 2
        mine = sum(answer_ok(page, f"#section-{s}") for s in sections[:half])
        theirs = sum(answer_ok(foreman, f"#section-{s}") for s in sections[half:])
        poll(lambda: RoundAnswer.select().count() == mine + theirs, timeout=60)
        by = {a.answered_by_id for a in RoundAnswer.select()}
        assert by == {world.people["verneombud"].id, world.people["foreman"].id}
        assert SafetyRound.select().count() == 1
    finally:
        other.close()
