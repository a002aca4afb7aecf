"""What a new manager found on a 360 x 780 phone (uxfix brief, point 3): "Sett opp møteplanen" opened the meeting
settings at the top with the schedule ~1,280 px down; saving gave no sign it was saved; the "Innebygd" badges
broke mid-word. The link now lands on the schedule form, "Lagre" confirms and keeps the person there, and no
badge breaks or sticks out of the screen."""
import pytest
from helpers import PIN, sign_in_ui

from fieldapp import clock
from fieldapp.duties import service as duties
from fieldapp.models import MeetingSchedule, VerneombudTerm

WIDTH, HEIGHT = 360, 780

# Badges taller than one line of their text (broken inside a word or between words) or past the screen's edge.
BROKEN_BADGES = """() => [...document.querySelectorAll('.badge')].filter(e => {
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    if (s.display === 'none' || r.width === 0) return false;
    return r.height > parseFloat(s.fontSize) * 2 || r.right > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1;
}).map(e => `${e.className} ${Math.round(e.getBoundingClientRect().height)}px: ${e.textContent.trim()}`)"""

# Buttons, boxes and choices shorter than 44 px (the browser's unstyled ones are about 20 px).
SMALL_CONTROLS = """() => [...document.querySelectorAll('main button, main select, main input:not([type=hidden])')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height < 44; })
    .map(e => `${e.tagName} ${e.name || ''} ${Math.round(e.getBoundingClientRect().height)}px: ${e.textContent.trim()}`)"""


def in_view(page, selector):
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found["y"] >= 0 and found["y"] < HEIGHT


@pytest.mark.browser
def test_schedule_link_lands_on_the_form_and_saving_confirms_there(live, page, csp_violations):
    world = live.world
    site = world.site.id
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in_ui(page, live.url, world.people["manager"].phone, PIN)

    page.goto(f"{live.url}/s/{site}/meetings")
    with page.expect_navigation():
        page.get_by_role("link", name="Sett opp møteplanen").first.click()
    assert page.url.endswith("/meetings/settings#schedule")
    assert page.evaluate("window.scrollY") > 0 and in_view(page, "#schedule h2")
    assert page.evaluate(BROKEN_BADGES) == []
    assert page.locator("#schedule .badge, #kinds .badge").count() > 0  # the "Innebygd" badges were looked at
    # Every button, box and choice is a glove-sized target: the settings' own were the browser's bare 20 px ones.
    assert page.evaluate(SMALL_CONTROLS) == []

    form = page.locator("#schedule form").first
    form.locator("input[name=interval_days]").fill("14")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    notice = page.locator("#schedule [role=status]")
    assert notice.is_visible() and "lagret" in notice.text_content()
    assert page.evaluate("window.scrollY") > 0 and in_view(page, "#schedule [role=status]")
    assert MeetingSchedule.select().where(MeetingSchedule.site == world.site).count() == 1

    start = clock.today(world.site)  # a worker registered as verneombud: the register page warns (point 4)
    VerneombudTerm.create(organization=world.org, user=world.people["worker"], site=world.site, role="verneombud",
                          how="election", elected_from=start, elected_to=duties.term_end(start), notice_on=start)
    for path in ("duties", "meetings", "reports", "verneombud"):  # other pages with badges
        page.goto(f"{live.url}/s/{site}/{path}")
        assert page.evaluate(BROKEN_BADGES) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, path
    assert page.locator(".role-missing button").is_visible()
    assert csp_violations == []
