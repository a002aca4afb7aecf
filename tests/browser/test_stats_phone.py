"""The statistics page on a 360 px phone: the figures, the charts, and the HMS report downloaded as PDF."""
import uuid
from datetime import timedelta

from helpers import PIN, broken_words, sign_in_ui

from fieldapp import clock
from fieldapp.models import CheckIn, InjuryDetails, Report, User, utcnow


# The statistics tables and the figures' names, whose words must not break over two lines.
STATS_TEXT = ".table-wrap th, .table-wrap td, main dl.facts dt"


def test_a_manager_opens_the_statistics_and_downloads_the_pdf(live, page, csp_violations):
    world = live.world
    start = utcnow() - timedelta(days=3)
    CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=None, name="Ola", employer_org_number="923609016",
                   checked_in_at=start, checked_out_at=start + timedelta(hours=8))
    injury = Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=world.site, reporter=world.people["worker"],
                           kind="injury", category="falls", severity="high", happened_at=start + timedelta(hours=2))
    InjuryDetails.create(report=injury, absence_beyond_day=True, absence_days=2)
    page.set_viewport_size({"width": 360, "height": 780})
    sign_in_ui(page, live.url, world.people["manager"].phone, PIN)
    with page.expect_navigation():
        page.click("text=HMS-statistikk")
    assert page.text_content("h1") == "HMS-statistikk"
    assert page.text_content("dd.hours-value") == "8"
    assert page.text_content("dd.h1-value") == "125\u00a0000,00"  # bokmål: decimal comma
    assert page.locator("svg.chart").count() == 3
    # Nothing wider than the phone but the tables, which scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Each table that scrolls sideways takes keyboard focus and is named (axe scrollable-region-focusable).
    wraps = page.locator("div.table-wrap")
    assert wraps.count() >= 3
    for i in range(wraps.count()):
        wraps.nth(i).focus()
        assert page.evaluate("document.activeElement.classList.contains('table-wrap')")
        assert wraps.nth(i).get_attribute("aria-label")
    chart = page.locator("svg.chart").first.bounding_box()
    assert 250 <= chart["width"] <= 360
    # No word of a table or of the figures' names is broken over two lines ("des./20/25", "Må/ne/d" at 360 px):
    # a table scrolls sideways instead. Ukrainian has the longest words.
    assert broken_words(page, STATS_TEXT) == []
    User.update(language="uk").where(User.id == world.people["manager"].id).execute()
    page.reload()
    assert page.text_content("h1") == "Статистика з охорони праці"
    assert broken_words(page, STATS_TEXT) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    User.update(language="nb").where(User.id == world.people["manager"].id).execute()
    page.reload()
    with page.expect_download() as caught:
        page.click("text=HMS-rapport (PDF)")
    download = caught.value
    assert download.suggested_filename.startswith(f"hms-rapport-{world.site.id}-")
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    assert csp_violations == []
    assert clock.today(world.site)  # the site's clock, not the server's, named the file
