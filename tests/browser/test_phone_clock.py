"""A phone whose clock is wrong, at 360 px: its check-in and report are saved at the server's time, the phone
tells its person, and the foreman's attendance list marks what the phone claimed (fieldapp/phone_time.py)."""
import pytest

from helpers import PIN, sign_in_ui, wait_until

from fieldapp import phone_time
from fieldapp.models import CheckIn, Equipment, Report, SiteEquipment

# The phone's Date is shifted by an init script (Playwright's page.clock would also fake the timers that the
# outbox and htmx rely on); the server, its Date header and the foreman's phone keep the real time.
SHIFT_DATE = """(() => {
  const shift = %d, Real = Date;
  class PhoneDate extends Real {
    constructor(...args) { if (args.length === 0) super(Real.now() + shift); else super(...args); }
    static now() { return Real.now() + shift; }
  }
  globalThis.Date = PhoneDate;
})();"""


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}}


def seconds(a, b):
    return abs((a - b).total_seconds())


@pytest.mark.parametrize("shift_minutes, shown", [(10, "10 min"), (-120, "120 min")], ids=["10-min-fast", "2-h-slow"])
def test_a_phone_with_a_wrong_clock_checks_in_and_reports_and_is_warned(live, page, context, browser,
                                                                       browser_context_args, csp_violations,
                                                                       shift_minutes, shown):
    world = live.world
    SiteEquipment.create(site=world.site, equipment=Equipment.get(Equipment.key == "helmet"))
    shift_ms = shift_minutes * 60 * 1000
    context.add_init_script(SHIFT_DATE % shift_ms)
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    assert abs(page.evaluate("Date.now() - performance.timeOrigin - performance.now()") - shift_ms) < 5000

    # The phone tells its person, in their language, with how to fix it.
    page.goto(f"{live.url}/s/{world.site.id}/checkin")
    banner = page.locator("#clock-warning")
    banner.wait_for()
    assert banner.is_visible()
    assert f"Klokken på telefonen går {shown} feil." in banner.text_content()
    assert "automatisk dato og klokkeslett" in banner.text_content()
    box = banner.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360  # fits the phone's width

    # Check in: saved (no 422), at the server's time; the phone's claim kept beside it.
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("label.all-worn")
    with page.expect_navigation():
        page.click("#check-in button[type=submit]")
    assert "Du er sjekket inn siden" in page.text_content("#check-in")
    row = CheckIn.get()
    assert seconds(row.checked_in_at, row.received_at) < 5
    assert seconds(row.phone_in_at, row.received_at) - abs(shift_minutes) * 60 < 30
    assert (row.phone_in_at > row.received_at) == (shift_minutes > 0)

    # Report: saved, at the server's time.
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("label.choice:has(input[value=order_tidiness])")
    page.click("details.more summary")
    page.fill("textarea[name=description]", "Cables across the walkway")
    page.click("button.send")
    page.wait_for_selector(".outbox-item.state-sent")
    report = Report.get(Report.description == "Cables across the walkway")
    assert seconds(report.happened_at, report.received_at) < 5
    assert seconds(report.phone_at, report.received_at) - abs(shift_minutes) * 60 < 30
    assert page.locator("#clock-warning").is_visible()

    # The foreman (a right clock: no warning) sees the worker on today's list, marked with the phone's claim.
    foreman = browser.new_context(**browser_context_args).new_page()
    sign_in_ui(foreman, live.url, world.people["foreman"].phone, PIN)
    foreman.goto(f"{live.url}/s/{world.site.id}/attendance")
    wait_until(foreman, "window.fieldappClock && window.fieldappClock.offset() !== null")
    assert foreman.locator("#clock-warning").count() == 0
    rows = foreman.locator("table.attendance tbody tr", has_text="Worker Person")
    assert rows.count() == 1
    assert f"telefonen sa kl. {phone_time.local_hhmm(row.phone_in_at)}" in rows.first.text_content()
    foreman.goto(f"{live.url}/s/{world.site.id}/reports")
    assert "telefonen sa kl." in foreman.text_content("#report-rows")
    assert csp_violations == []
