"""On a 360 px phone (issue 15): a number pasted from Contacts signs in, and a visitor's mistakes are shown beside
the fields they are about."""
from helpers import PIN, sign_in_ui

from fieldapp.models import Site

NARROW = {"width": 360, "height": 740}


def narrow_page(browser, phone_profile):
    page = browser.new_context(**{**phone_profile, "viewport": NARROW}, locale="nb-NO").new_page()
    page.csp = []
    page.on("console", lambda msg: page.csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    return page


def test_a_number_pasted_from_contacts_signs_in(live, browser, phone_profile):
    page = narrow_page(browser, phone_profile)
    # What iOS puts on the clipboard when a number is copied from Contacts.
    sign_in_ui(page, live.url, "\u202a+47 910 00 001\u202c", PIN)
    assert page.url == live.url + "/"
    assert page.csp == []


def test_a_visitor_sees_each_mistake_beside_its_field(live, browser, phone_profile):
    site = live.world.site
    Site.update(guests_allowed=True).where(Site.id == site.id).execute()
    page = narrow_page(browser, phone_profile)
    page.goto(f"{live.url}/p/{site.qr_token}/guest")
    page.fill("input[name=employer]", "Rådgiver AS")
    page.fill("input[name=org_number]", "123")
    with page.expect_navigation():
        page.click("form button[type=submit].primary")
    name_error = page.locator("#name-error")
    org_error = page.locator("#org_number-error")
    assert name_error.text_content() == "Skriv inn navnet ditt."
    assert "Ikke et gyldig organisasjonsnummer" in org_error.text_content()
    assert page.locator("#employer-error").count() == 0
    # Each message sits in its field's box, right under the input it is about.
    assert page.evaluate("document.querySelector('#org_number-error').previousElementSibling.id") == "org_number"
    assert name_error.is_visible() and org_error.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.input_value("input[name=employer]") == "Rådgiver AS"  # what was typed is kept
    assert page.csp == []


def test_adding_a_person_shows_each_mistake_beside_its_field(live, browser, phone_profile):
    """Sites read their forms with fieldapp.inputs too: every mistake at once, each under its own input."""
    world = live.world
    page = narrow_page(browser, phone_profile)
    sign_in_ui(page, live.url, world.people["manager"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/people/new")
    page.fill("input[name=phone]", "12")
    page.fill("input[name=hms_card_number]", "HMS4242")
    page.fill("input[name=hms_card_expiry]", "2028-01-31")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert page.locator("#name-error").text_content() == "Skriv inn navnet til personen."
    assert "Ikke et telefonnummer" in page.locator("#phone-error").text_content()
    assert page.locator("#employer-error").text_content() == "Velg arbeidsgiver, eller legg til en ny."
    for field in ("name", "phone", "employer"):
        assert page.evaluate(f"document.querySelector('#{field}-error').previousElementSibling.id") == field
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
    assert page.input_value("input[name=hms_card_number]") == "HMS4242"  # what was typed is kept
    assert page.input_value("input[name=hms_card_expiry]") == "2028-01-31"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.csp == []
