"""Adding a person with a new employer is one transaction: a refusal leaves no organization behind (issue 15)."""
from fieldapp.models import AuditEvent, Membership, Organization

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
