"""Fault: the outbox list wrote each item's time in the phone's locale and zone (toLocaleTimeString([])): a Polish
worker whose phone is set to US English in New York saw "09:05 AM". The time is now written in the app's language
(the page's lang) and in the time zone of the site the item was made on (<meta name="fieldapp-time-zone">)."""
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from helpers import PIN, sign_in_ui, wait_until

from fieldapp.models import Site, User

SITE_ZONE = "Europe/Vilnius"  # not the app's default (Europe/Oslo), nor the phone's


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}, "locale": "en-US",
            "timezone_id": "America/New_York"}


class Refuse:
    """WSGI middleware: report uploads get 422, so the item stays in the outbox list."""

    def __init__(self, app):
        self.app, self.lock, self.count = app, threading.Lock(), 0

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/reports/new"):
            with self.lock:
                self.count += 1
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start_response("422 Unprocessable Entity", [("Content-Type", "text/plain; charset=utf-8")])
            return ["Coś było nie tak.".encode()]
        return self.app(environ, start_response)


def shown_time(page, selector):
    return page.text_content(f"{selector} .outbox-item > span:first-child").strip().rsplit(" ", 1)[-1]


def test_outbox_times_are_in_the_app_language_and_the_sites_zone(live, page, csp_violations):
    world = live.world
    live.app.wsgi_app = Refuse(live.app.wsgi_app)
    User.update(language="pl").where(User.id == world.people["worker"].id).execute()
    Site.update(time_zone=SITE_ZONE).where(Site.id == world.site.id).execute()
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")
    assert page.evaluate("document.documentElement.lang") == "pl"
    assert page.get_attribute('meta[name="fieldapp-time-zone"]', "content") == SITE_ZONE
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("label.choice:has(input[value=falls])")
    if page.locator("details.more").get_attribute("open") is None:
        page.click("details.more summary")
    page.fill("textarea[name=description]", "Luźna barierka")
    page.click("button.send")
    wait_until(page, "document.querySelectorAll('.outbox-item.state-failed').length === 1")
    made = page.evaluate("window.fieldappOutbox.all().then(items => items[0].createdAt)")
    at_site = datetime.fromisoformat(made.replace("Z", "+00:00")).astimezone(ZoneInfo(SITE_ZONE))
    expected = f"{at_site:%H:%M}"  # Polish: 24-hour "14:05"; the phone would have said "07:05 AM"
    assert shown_time(page, ".outbox-list") == expected
    assert "AM" not in page.text_content(".outbox-list") and "PM" not in page.text_content(".outbox-list")
    # The outbox page belongs to no site (the app's zone): the item keeps the zone of the site it was made on.
    page.goto(f"{live.url}/outbox")
    page.wait_for_selector(".outbox-all .outbox-item")
    assert page.get_attribute('meta[name="fieldapp-time-zone"]', "content") == "Europe/Oslo"
    assert shown_time(page, ".outbox-all") == expected
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert csp_violations == []
