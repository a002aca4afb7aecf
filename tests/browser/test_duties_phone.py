"""A worker reads their own duties and rights on a 360 px phone, from the profile (issue 24)."""
from helpers import PIN, sign_in_ui


def test_a_worker_reads_their_duties_and_rights(live, page, csp_violations):
    world = live.world
    page.set_viewport_size({"width": 360, "height": 780})
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/me")
    with page.expect_navigation():
        page.click("text=Mine plikter og rettigheter")
    assert page.text_content("h1") == "Mine plikter og rettigheter"
    section = page.locator("#role-worker")
    assert section.is_visible()
    text = section.inner_text()
    assert "Bruk verneutstyret byggeplassen krever." in text
    assert "Du kan stanse arbeidet og gå når du mener det er akutt fare for liv eller helse." in text
    assert "AML § 2-3 (3)" in text
    assert page.locator("#role-manager").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert csp_violations == []


def test_a_manager_reads_the_responsibilities_page_and_taps_the_evidence(live, page, csp_violations):
    world = live.world
    page.set_viewport_size({"width": 360, "height": 780})
    sign_in_ui(page, live.url, world.people["manager"].phone, PIN)
    with page.expect_navigation():
        page.click("text=Hvem har ansvar for hva")
    assert page.text_content("h1") == "Hvem har ansvar for hva"
    row = page.locator('[data-duty="verneombud_term"]')
    assert row.get_attribute("data-status") == "not_met"
    assert "Ingen verneombud er registrert." in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_navigation():
        row.locator("text=Dokumentasjon").click()
    assert page.text_content("h1") == "Verneombudsregister"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert csp_violations == []
