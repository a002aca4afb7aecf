"""On a 360 px phone: an invitation from another company's site, and a QR link whose code stays out of URLs."""
import re

from helpers import PIN, sign_in_ui

from fieldapp.models import Membership, Organization, User, utcnow

NARROW = {"width": 360, "height": 740}


def narrow_page(browser, phone_profile):
    return browser.new_context(**{**phone_profile, "viewport": NARROW}, locale="nb-NO").new_page()


def csp_watch(page):
    seen = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    return seen


def test_person_of_another_company_accepts_an_invitation(live, browser, phone_profile):
    world = live.world
    org_b = Organization.create(name="Bergen Betong AS", org_number="911111136")
    kari = User.create(name="Kari Betong", phone="+4793000001", employer=org_b, organization=org_b,
                       password_hash=world.pin_hash, hms_card_number="HMS5", language_confirmed_at=utcnow())
    # Org A's manager adds Kari's number to site A: an invitation, no code.
    manager = narrow_page(browser, phone_profile)
    sign_in_ui(manager, live.url, world.people["manager"].phone, PIN)
    manager.goto(f"{live.url}/s/{world.site.id}/people/new")
    manager.fill("input[name=name]", "Kari Betong")
    manager.fill("input[name=phone]", "930 00 001")
    manager.select_option("select[name=employer]", str(world.org.id))
    with manager.expect_navigation():
        manager.click("button[type=submit].primary")
    assert manager.url.endswith(f"/s/{world.site.id}/people")
    invited = manager.locator("#invitations li")
    assert invited.count() == 1 and "invitert" in invited.text_content() and "+4793000001" in invited.text_content()
    assert manager.locator("#enrollment-code").count() == 0
    assert not Membership.select().where(Membership.user == kari).exists()

    # Kari, on her own phone, signs in as herself and sees the invitation on her home screen.
    page = narrow_page(browser, phone_profile)
    violations = csp_watch(page)
    sign_in_ui(page, live.url, "93000001", PIN)
    card = page.locator("section.invitation")
    assert card.count() == 1
    assert "Fjordbygg AS inviterer deg til Site A som arbeidstaker." in card.text_content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    heights = page.eval_on_selector_all("section.invitation button",
                                        "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 48, heights
    with page.expect_navigation():
        page.click("section.invitation button.primary")
    assert page.locator("section.invitation").count() == 0
    assert [h.strip() for h in page.locator("section.site-card h2").all_text_contents()] == ["Site A"]
    assert Membership.get(user=kari, site=world.site).role == "worker"
    # The inviter's list now shows her as a worker, no longer invited.
    manager.goto(f"{live.url}/s/{world.site.id}/people")
    assert manager.locator("#invitations").count() == 0 and "Kari Betong" in manager.text_content("#people")
    assert violations == []


def test_qr_link_code_goes_after_the_hash_and_is_posted(live, browser, phone_profile):
    world = live.world
    manager = narrow_page(browser, phone_profile)
    sign_in_ui(manager, live.url, world.people["manager"].phone, PIN)
    manager.goto(f"{live.url}/s/{world.site.id}/people/new")
    manager.fill("input[name=name]", "Per Ny")
    manager.fill("input[name=phone]", "412 34 568")
    manager.select_option("select[name=employer]", str(world.org.id))
    with manager.expect_navigation():
        manager.click("button[type=submit].primary")
    code = manager.text_content("#enrollment-code").strip().replace("-", "")
    assert re.fullmatch(r"[0-9A-Z]{8}", code)

    # Per's phone opens the QR code's link (what the camera app would open).
    page = narrow_page(browser, phone_profile)
    violations = csp_watch(page)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live.url}/enroll#{code}")
    page.wait_for_selector("input[name=secret]")
    assert "#" not in page.url and code not in page.url
    assert "Velkommen, Per Ny" in page.text_content("h1")
    page.fill("input[name=secret]", "584027")
    page.fill("input[name=confirm]", "584027")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    with page.expect_navigation():  # a first sign-in: the language, confirmed with one tap (issue 17)
        page.click("#confirm-language")
    assert page.text_content("h1.greeting") == "Hei, Per"
    # The browser never sent the code in a URL: only in the posted forms.
    assert requested and not [url for url in requested if code in url], requested
    assert violations == []
