"""Polls that find nothing new leave the page alone (new user, session 6): the on-site list answered 304, but the
browser hands htmx its kept copy as a 200 and htmx swapped it in again every 15 s, taking the focus with it."""
import uuid

from helpers import PIN, sign_in_ui, wait_until

from fieldapp.models import CheckIn, utcnow

POLL = """url => new Promise(resolve => {
  document.addEventListener("htmx:afterSettle", () => resolve("swapped"), { once: true });
  document.addEventListener("htmx:afterRequest", () => setTimeout(() => resolve("kept"), 300), { once: true });
  htmx.ajax("GET", url, { source: "#on-site", target: "#on-site", swap: "outerHTML" });
})"""


def check_in(world, role):
    person = world.people[role]
    CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=person, checked_in_at=utcnow(), name=person.name)


def test_an_unchanged_on_site_poll_keeps_the_list_and_a_change_shows_at_once(live, page, csp_violations):
    world = live.world
    check_in(world, "worker")
    sign_in_ui(page, live.url, world.people["foreman"].phone, PIN)
    url = f"{live.url}/s/{world.site.id}/on-site"
    page.goto(url)
    wait_until(page, "window.htmx !== undefined")
    assert page.get_attribute("#on-site", "data-etag")
    page.evaluate("document.getElementById('on-site').dataset.mark = 'first'")
    for _ in range(2):  # the first answer already has the page's ETag: nothing to swap, twice
        assert page.evaluate(POLL, url) == "kept"
        assert page.get_attribute("#on-site", "data-mark") == "first"
    check_in(world, "verneombud")
    assert page.evaluate(POLL, url) == "swapped"
    assert page.get_attribute("#on-site", "data-mark") is None
    assert world.people["verneombud"].name in page.text_content("#on-site")
    assert page.evaluate(POLL, url) == "kept"  # and unchanged again after that
    assert csp_violations == []
