"""What a person does on a phone: enroll with a code, sign in and out, switch language, go offline."""
import re

from helpers import PIN, sign_in_ui, wait_until


def test_enrollment_sign_in_and_sign_out(live, page, browser, phone_profile, csp_violations):
    world = live.world
    # The foreman adds a new worker and gets a code.
    sign_in_ui(page, live.url, world.people["foreman"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/people/new")
    page.fill("input[name=name]", "Kari Nordmann")
    page.fill("input[name=phone]", "412 34 567")
    page.select_option("select[name=employer]", str(world.org.id))  # only the foreman's own organizations
    page.fill("input[name=hms_card_number]", "HMS998877")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    code = page.text_content("#enrollment-code").strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert page.locator("img.qr").is_visible()

    # Kari's own phone: type the code, choose a PIN, land on the home screen signed in.
    kari = browser.new_context(**phone_profile, locale="nb-NO").new_page()
    kari.goto(live.url + "/sign-in")
    kari.click("text=Jeg har en kode")
    kari.fill("input[name=code]", code.lower())
    with kari.expect_navigation():
        kari.click("button[type=submit].primary")
    kari.fill("input[name=secret]", "584027")
    kari.fill("input[name=confirm]", "584027")
    with kari.expect_navigation():
        kari.click("button[type=submit].primary")
    kari.wait_for_url("**/welcome/language?lang=nb**")  # a first sign-in: the phone's language (nb-NO) proposed
    with kari.expect_navigation():
        kari.click("#confirm-language")
    assert kari.text_content("h1.greeting") == "Hei, Kari"
    assert "Site A" in kari.text_content("main")

    # Sign out from the profile, then back in with phone number and PIN.
    kari.click("nav.bottom-nav a[href='/me']")
    with kari.expect_navigation():
        kari.click("button.danger")
    assert kari.url.endswith("/sign-in")
    kari.goto(live.url + "/")
    assert "/sign-in" in kari.url
    sign_in_ui(kari, live.url, "41234567", "584027")
    assert kari.text_content("h1.greeting") == "Hei, Kari"
    assert csp_violations == []


def test_wrong_pin_shows_a_clear_message(live, page):
    sign_in_ui(page, live.url, live.world.people["worker"].phone, "000999")
    assert page.locator(".error.banner").text_content() == "Feil telefonnummer eller PIN-kode/passord."


def test_language_switch(live, page, csp_violations):
    page.goto(live.url + "/sign-in")
    assert page.text_content("h1") == "Logg inn"
    with page.expect_navigation():
        page.click("button[value=en]")
    assert page.text_content("h1") == "Sign in"
    assert page.get_attribute("html", "lang") == "en"
    # Signed in, the profile's language counts; the person changes it there.
    sign_in_ui(page, live.url, live.world.people["worker"].phone, PIN)
    assert page.get_attribute("html", "lang") == "nb"
    page.click("nav.bottom-nav a[href='/me']")
    page.select_option("select[name=language]", "en")
    with page.expect_navigation():
        page.click("text=Lagre språk")
    assert page.get_attribute("html", "lang") == "en"
    labels = page.eval_on_selector_all("nav.bottom-nav a", "els => els.map(e => e.lastChild.textContent.trim())")
    assert labels == ["Home", "Report", "Alerts", "Me"]
    page.goto(live.url + "/")
    assert page.text_content("h1.greeting").startswith("Hello")
    assert csp_violations == []


def test_phone_layout_has_big_targets_and_no_sideways_scroll(live, browser, phone_profile):
    context = browser.new_context(**{**phone_profile, "viewport": {"width": 360, "height": 740}}, locale="nb-NO")
    page = context.new_page()
    sign_in_ui(page, live.url, live.world.people["manager"].phone, PIN)
    site_id, worker_id = live.world.site.id, live.world.people["worker"].id
    for path in ("/", "/me", f"/s/{site_id}/people", f"/s/{site_id}/people/new", f"/s/{site_id}/people/{worker_id}"):
        page.goto(live.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        sizes = page.eval_on_selector_all(
            "main a.button, main button, nav.bottom-nav a, main input:not([type=hidden]), main select",
            "els => els.filter(e => e.offsetParent !== null)"
            ".map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect().height])")
        small = [s for s in sizes if s[1] < 48]
        assert sizes and not small, (path, small)
    assert page.locator("nav.bottom-nav").is_visible()


def test_role_change_swaps_the_person_card_with_htmx(live, page, csp_violations):
    world = live.world
    sign_in_ui(page, live.url, world.people["manager"].phone, PIN)
    worker = world.people["worker"]
    page.goto(f"{live.url}/s/{world.site.id}/people")
    page.click(f"text={worker.name}")
    page.wait_for_url(f"**/people/{worker.id}")
    page.evaluate("window.__sameDocument = true")
    page.select_option("#role", "verneombud")
    with page.expect_response(re.compile(r"/role$")):
        page.click("form[action$='/role'] button")
    page.wait_for_selector("#person .badge.role-verneombud")
    assert page.evaluate("window.__sameDocument") is True  # swapped in place, no page load
    assert csp_violations == []


def test_offline_shows_the_offline_page(live, page, context):
    sign_in_ui(page, live.url, live.world.people["worker"].phone, PIN)
    wait_until(page, "navigator.serviceWorker.controller !== null", timeout=10)
    # The shell is cached once the worker is active.
    page.evaluate("navigator.serviceWorker.ready")
    wait_until(page, "document.getElementById('net-status').hidden === true")
    context.set_offline(True)
    wait_until(page, "document.getElementById('net-status').hidden === false")
    page.goto(live.url + "/me")  # not cached (personal): the service worker answers with the offline page
    assert page.locator("#offline-page h1").text_content() == "Ingen forbindelse"
    # The stylesheet came from the cache too.
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).position") == "sticky"
    context.set_offline(False)
    page.goto(live.url + "/me")
    assert page.locator("h1").text_content() == live.world.people["worker"].name
