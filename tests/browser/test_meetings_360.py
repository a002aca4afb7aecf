"""Issue 21, what a new user found on a 360 x 780 phone: the meetings pages in the app's own controls (48 px,
the main action in the fixed bar, in view without scrolling), agenda items in words, and no text wider than its
box on any meetings page in bokmål and Polish."""
import uuid
from datetime import timedelta

import pytest
from helpers import PIN, sign_in_ui

from fieldapp import clock
from fieldapp.models import AgendaItem, Alert, AmuMember, CheckIn, Meeting, Report, User, utcnow

WIDTH, HEIGHT = 360, 780

# Elements (with a box) whose content is wider than the box, except those meant to scroll sideways.
OVERFLOWING = """() => [...document.querySelectorAll('body *')].filter(e => {
    const s = getComputedStyle(e);
    if (s.display === 'none' || s.visibility === 'hidden' || e.clientWidth === 0) return false;
    if (['auto', 'scroll'].includes(s.overflowX) || e.matches('.visually-hidden, .visually-hidden *')) return false;
    return e.scrollWidth > e.clientWidth + 1;
}).map(e => `${e.tagName}.${e.className} ${e.scrollWidth}>${e.clientWidth}: ${(e.textContent || e.value || '').trim().slice(0, 50)}`)"""


def box(page, selector):
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def records(world):
    """Codes a new user saw raw: a report without text, a report alert, a stop-work alert with a long place."""
    now = utcnow()
    Report.create(uuid=uuid.uuid4(), payload_hash="e" * 64, site=world.site, reporter=world.people["worker"],
                  kind="hazard", category="electrical", severity="high", description="", happened_at=now)
    Alert.create(uuid=uuid.uuid4(), site=world.site, level="warning", template="report_high",
                 area="falling_objects/near_miss", created_at=now)
    Alert.create(uuid=uuid.uuid4(), site=world.site, level="stop_work", template="stop_work",
                 area="3. etasje, sone B, ved trappesjaktøstrekningsrekkverksmontasjeplattformen", created_at=now)
    for person in (world.people["worker"], world.people["verneombud"]):
        CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=person, checked_in_at=now, name=person.name)


@pytest.mark.browser
def test_the_meetings_pages_fit_360_px_with_big_controls_and_words(live, page, csp_violations):
    world = live.world
    site = world.site.id
    records(world)
    foreman = world.people["foreman"]
    AmuMember.create(organization=world.org, user=foreman, side="employer")
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in_ui(page, live.url, foreman.phone, PIN)

    page.goto(f"{live.url}/s/{site}/meetings")
    assert box(page, "button.send-proposal")["height"] >= 48
    with page.expect_navigation():
        page.click("button.start-meeting")
    meeting = Meeting.get(Meeting.kind == "hms")
    text = page.text_content("ol.agenda")
    assert "Elektrisk (Farlig forhold)" in text and "Fallende gjenstander (Nestenulykke)" in text
    assert "STANS ARBEIDET" in text and "electrical/hazard" not in text and "/near_miss" not in text
    page.select_option("#attend-user", str(foreman.id))  # who was present: then the minutes may be approved
    with page.expect_navigation():
        page.click("button.add-attendance")
    for selector in ("select[name=user]", "select[name=side]", "input[name=name]", "button.add-attendance",
                     "button.approve"):
        assert box(page, selector)["height"] >= 48, selector
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, page.evaluate(OVERFLOWING)
    approve = box(page, "button.approve")  # in the fixed bar: in view without scrolling
    assert approve["y"] >= 0 and approve["y"] + approve["height"] <= HEIGHT

    # A decision without a person: the typed text is still there, the item open.
    item = page.locator("li.agenda-item").first
    item.locator("summary").click()
    assert box(page, "li.agenda-item >> nth=0 >> button.add-decision")["height"] >= 48
    item.locator(".decision-form textarea[name=text]").fill("Skift ut kabelen i 3. etasje")
    deadline = clock.today(world.site) + timedelta(days=7)
    item.locator(".decision-form input[name=deadline]").fill(deadline.isoformat())
    with page.expect_navigation():
        item.locator("button.add-decision").click()
    assert page.locator(".error.banner").is_visible()
    kept = page.locator("li.agenda-item").first.locator(".decision-form textarea[name=text]")
    assert kept.is_visible() and kept.input_value() == "Skift ut kabelen i 3. etasje"

    page.goto(f"{live.url}/s/{site}/meetings/morning")
    save = box(page, "button.save-morning")
    assert save["height"] >= 48 and save["y"] >= 0 and save["y"] + save["height"] <= HEIGHT
    tiles = page.locator("fieldset.choice-tiles label.choice")
    assert tiles.count() >= 3
    for n in range(tiles.count()):
        assert tiles.nth(n).bounding_box()["height"] >= 48

    amu_meeting = Meeting.create(organization=world.org, site=None, kind="amu", held_on=clock.today(world.site),
                                 chair=foreman, created_by=foreman, topics=[])
    AgendaItem.create(meeting=amu_meeting, position=0, source="manual", title="Støy i verkstedet")
    pages = [f"/s/{site}/meetings", f"/s/{site}/meetings/{meeting.id}", f"/s/{site}/meetings/morning", "/amu",
             f"/amu/{amu_meeting.id}"]
    for language in ("nb", "pl"):
        User.update(language=language).where(User.id == foreman.id).execute()
        for path in pages:
            page.goto(live.url + path)
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, (language, path)
            assert page.evaluate(OVERFLOWING) == [], (language, path)
    assert csp_violations == []


@pytest.mark.browser
def test_a_refused_meeting_date_has_the_focus_and_is_in_view(live, page):
    # The message stood beside the date, 900 px down, with the page at its top and nothing focused.
    from helpers import wait_until

    world = live.world
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in_ui(page, live.url, world.people["foreman"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/meetings")
    page.fill("#held_on", "0001-01-01")
    with page.expect_navigation():
        page.click("button.start-meeting")
    assert "Oppgi en dato fra" in page.inner_text("#held_on-error")
    assert wait_until(page, "document.activeElement && document.activeElement.id === 'held_on'")
    field = box(page, "#held_on")
    assert 0 <= field["y"] and field["y"] + field["height"] <= HEIGHT
    assert Meeting.select().count() == 0
