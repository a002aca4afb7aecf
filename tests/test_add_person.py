"""Adding a person with a new employer is one transaction: a refusal leaves no organization behind (issue 15)."""
from fieldapp.models import AuditEvent, Membership, Organization, Site, User

NEW_ORG = "910000004"  # a valid organisation number (mod 11) that no organization in the world has


def add(client, site, phone, **overrides):
    data = {"name": "Ny Arbeider", "phone": phone, "role": "worker", "employer": "",
            "new_employer_name": "Ny Bedrift AS", "new_employer_org_number": NEW_ORG, "hms_card_number": "",
            "hms_card_expiry": "", "language": "nb"}
    data.update(overrides)
    return client.post(f"/s/{site.id}/people/new", data=data)


def test_a_person_already_on_the_site_leaves_no_new_employer_saved(as_role, world):
    worker = world.people["worker"]
    before = Membership.select().where(Membership.site == world.site).count()
    response = add(as_role("manager"), world.site, worker.phone)
    assert response.status_code == 409
    assert not Organization.select().where(Organization.org_number == NEW_ORG).exists()
    assert not AuditEvent.select().where(AuditEvent.action == "organization.create").exists()
    assert Membership.select().where(Membership.site == world.site).count() == before


def test_a_new_person_with_a_new_employer_saves_both(as_role, world):
    response = add(as_role("manager"), world.site, "45 00 00 02")
    assert response.status_code == 201
    org = Organization.get(Organization.org_number == NEW_ORG)
    assert org.name == "Ny Bedrift AS" and org.employees.count() == 1


def test_an_hms_card_number_is_letters_and_digits_everywhere_it_is_typed(as_role, world, client):
    """"🦺🦺" was saved as a person's HMS card number (new-user test): the number is what the card shows."""
    manager = as_role("manager")
    refused = add(manager, world.site, "45 00 00 03", hms_card_number="🦺🦺")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="hms_card_number-error"' in page
    assert "bare bokstaver og sifre" in page and "🦺🦺" in page  # told beside the box, what was typed kept
    assert not User.select().where(User.phone == "+4745000003").exists()
    for n, good in enumerate(("HMS 1234567", "12-345/67", "AB.123", "HMS\u00a0123", "\u0661\u0662\u0663\u0664")):
        assert add(manager, world.site, f"45 00 00 1{n}", hms_card_number=good).status_code == 201, good
    saved = {u.hms_card_number for u in User.select().where(User.phone.startswith("+4745000"))}
    assert {"HMS 123", "1234"} <= saved  # a copied non-breaking space and an Arabic keyboard's digits, as on the card
    # The same rule on the person's card form and on a guest's check-in.
    person = world.people["worker"]
    card = manager.post(f"/s/{world.site.id}/people/{person.id}/hms-card", data={"hms_card_number": "kort!?"})
    assert card.status_code == 422 and User.get_by_id(person.id).hms_card_number == "HMS123"
    Site.update(guests_allowed=True).where(Site.id == world.site.id).execute()
    guest = client.post(f"/p/{world.site.qr_token}/guest", data={
        "uuid": "0b3c59f2-6c4e-4a8e-9a53-3b8c5f1d2e7a", "name": "Gjest", "employer": "Rådgiver AS",
        "hms_card_number": "🦺", "all_worn": "y"})
    assert guest.status_code == 422 and "bare bokstaver og sifre" in guest.get_data(as_text=True)
