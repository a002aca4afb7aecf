"""Long unbroken words people type (an order of 4,000 characters, a name with no spaces) never make a page wider than
the phone (issue 24's attack: scrollWidth 71,216 px at 360 px)."""
from datetime import date

from helpers import PIN, sign_in_ui

from fieldapp.models import Inspection, InspectionOrder

WORD = "x" * 4000


def test_a_4000_character_word_stays_inside_360_px(live, page, csp_violations):
    world = live.world
    inspection = Inspection.create(site=world.site, held_on=date(2026, 1, 5), reference="R" * 60, note=WORD)
    InspectionOrder.create(inspection=inspection, text=WORD, deadline=date(2099, 1, 1), response=WORD)
    InspectionOrder.create(inspection=inspection, text=WORD, deadline=date(2000, 1, 1))
    page.set_viewport_size({"width": 360, "height": 780})
    sign_in_ui(page, live.url, world.people["manager"].phone, PIN)
    for path in (f"/s/{world.site.id}/inspections", f"/s/{world.site.id}/duties?scope=org",
                 f"/s/{world.site.id}/duties"):
        page.goto(live.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    assert csp_violations == []
