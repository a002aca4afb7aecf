"""Small frictions on the phone (issue 16): the PIN keypad and focus, the site named at sign-in after a poster
scan, a clear answer for "Edit" on a waiting report of a site the person has left, and one word per thing."""
import re

from helpers import PIN

from fieldapp.models import Membership, Site


def attributes(page, name):
    tag = re.search(r'<input[^>]*name="%s"[^>]*>' % name, page).group(0)
    return dict(re.findall(r'([\w-]+)(?:="([^"]*)")?', tag[len("<input"):]))


def test_the_pin_field_brings_up_the_keypad(client):
    page = client.get("/sign-in").get_data(as_text=True)
    secret = attributes(page, "secret")
    assert secret["inputmode"] == "numeric" and secret["autocomplete"] == "current-password"
    assert "autofocus" in attributes(page, "phone") and "autofocus" not in secret
    assert "secret-keyboard" in page  # the full keyboard for a password is one tap away


def test_after_a_wrong_pin_the_cursor_is_in_the_pin_field(client, world):
    response = client.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": "999999"})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "autofocus" in attributes(page, "secret")
    assert "autofocus" not in attributes(page, "phone")
    assert attributes(page, "phone")["value"] == world.people["worker"].phone


def test_a_poster_scanned_signed_out_names_the_site_at_sign_in(client, world):
    Site.update(guests_allowed=False).where(Site.id == world.site.id).execute()
    scan = client.get(f"/p/{world.site.qr_token}")
    assert scan.status_code == 302
    page = client.get(scan.headers["Location"]).get_data(as_text=True)
    assert "Logg inn for å sjekke inn på Site A." in page
    # Still named after a wrong PIN; and a sign-in that did not come from a poster names no site.
    again = client.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": "999999",
                                          "next": f"/p/{world.site.qr_token}"})
    assert "Site A" in again.get_data(as_text=True)
    assert "sjekke inn på" not in client.get("/sign-in?next=/p/no-such-token").get_data(as_text=True)
    assert "sjekke inn på" not in client.get("/sign-in?next=/alerts").get_data(as_text=True)
    response = client.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": PIN,
                                             "next": f"/p/{world.site.qr_token}"})
    assert response.status_code == 303


def test_edit_of_a_waiting_report_for_a_site_left_says_so(as_role, world):
    client = as_role("worker")
    Membership.delete().where((Membership.user == world.people["worker"]) & (Membership.site == world.site)).execute()
    response = client.get(f"/s/{world.site.id}/reports/new?outbox=0b5c8f7e-3c1a-4a8e-9d55-2f4f1c2b9a10")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Du er ikke lenger på denne byggeplassen" in page and 'href="/outbox"' in page
    # Any other unknown page keeps the plain answer.
    assert "ikke lenger" not in client.get(f"/s/{world.site.id}/reports/new").get_data(as_text=True)


def test_one_word_for_each_thing_in_bokmal(as_role, client):
    worker = as_role("worker")
    page = worker.get("/").get_data(as_text=True)
    nav = page[page.index('class="bottom-nav"'):]
    assert "Rapport</a>" in nav and "Meld fra</a>" not in nav
    assert "Innloggingskode" in client.get("/enroll").get_data(as_text=True)
    assert "Registreringskode" not in client.get("/enroll").get_data(as_text=True)
