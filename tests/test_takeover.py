"""Nobody outside a person's organization can take their account over (issue 14).

The attack as found: a manager or foreman of another company adds the victim's phone number to their own
site (or finds the victim there as a worker), issues a sign-in code, redeems it and is signed in as the
victim with the victim's PIN replaced. Every test here failed on the code before the fix.
"""
import re

import pytest
from helpers import PIN, client_for

from fieldapp.models import (AuditEvent, DeviceSession, EnrollmentCode, Invitation, Membership, Organization,
                             Site, User)

CODE_RE = re.compile(r'id="enrollment-code">([0-9A-Z]{4}-[0-9A-Z]{4})<')


@pytest.fixture
def rival(world, app):
    """Another company (org C) with its own site, an org-admin manager and a foreman there."""
    org = Organization.create(name="Konkurrent Bygg AS", org_number="911111128")
    site = Site.create(organization=org, name="Site C", address="Gate 3, Bergen", qr_token="tok-c")
    manager = world.person("+4792000001", "Rival Manager", "manager", site, org_admin=True, employer=org)
    foreman = world.person("+4792000002", "Rival Foreman", "foreman", site, employer=org)

    class Rival:
        pass

    rival = Rival()
    rival.org, rival.site, rival.manager, rival.foreman = org, site, manager, foreman
    return rival


def add_form(phone, role="worker", employer=""):
    return {"name": "Some One", "phone": phone, "role": role, "employer": employer,
            "new_employer_name": "", "new_employer_org_number": "", "hms_card_number": "",
            "hms_card_expiry": "", "language": "nb"}


def snapshot(user_id):
    """Everything about a person that a takeover or an unwanted change would alter."""
    user = User.get_by_id(user_id)
    return dict(
        user=(user.name, user.phone, user.password_hash, user.hms_card_number, user.hms_card_expiry,
              user.organization_id, user.employer_id, user.active),
        memberships=sorted((m.site_id, m.role) for m in Membership.select().where(Membership.user == user_id)),
        codes=EnrollmentCode.select().where(EnrollmentCode.user == user_id).count(),
        live_sessions=DeviceSession.select().where((DeviceSession.user == user_id)
                                                   & DeviceSession.revoked_at.is_null()).count(),
    )


def test_another_companys_manager_adding_a_manager_gets_an_invitation_not_a_code(app, world, rival):
    victim = world.people["manager"]
    victim_phone = client_for(app, victim)
    before = snapshot(victim.id)
    attacker = client_for(app, rival.manager)
    response = attacker.post(f"/s/{rival.site.id}/people/new", data=add_form(victim.phone, role="manager",
                                                                            employer=str(rival.org.id)))
    assert response.status_code == 303
    assert CODE_RE.search(response.get_data(as_text=True)) is None
    people = attacker.get(response.headers["Location"]).get_data(as_text=True)
    assert "invitert" in people and victim.phone in people
    # No code, no membership, no change to the victim; the victim's own phone is still signed in.
    assert snapshot(victim.id) == before
    invitation = Invitation.get(Invitation.user == victim)
    assert (invitation.site_id, invitation.role, invitation.invited_by_id) == (rival.site.id, "manager",
                                                                               rival.manager.id)
    assert victim_phone.get("/").status_code == 200
    # Nor can the attacker reach the victim through their own site's person routes.
    base = f"/s/{rival.site.id}/people/{victim.id}"
    assert attacker.post(base + "/code").status_code == 404
    assert attacker.get(base).status_code == 404


def test_another_companys_foreman_cannot_reset_a_manager_who_is_a_worker_on_his_site(app, world, rival):
    # The victim manages site A for Fjordbygg and works as a worker on the rival's site C (accepted earlier).
    victim = world.people["manager"]
    Membership.create(user=victim, site=rival.site, role="worker")
    before = snapshot(victim.id)
    attacker = client_for(app, rival.foreman)
    base = f"/s/{rival.site.id}/people/{victim.id}"
    assert attacker.post(base + "/code").status_code == 403
    assert attacker.post(base + "/hms-card", data={"hms_card_number": "FAKE", "name": "Owned"}).status_code == 403
    # The rival's manager may run site C, but not the person's account either.
    rival_manager = client_for(app, rival.manager)
    assert rival_manager.post(base + "/code").status_code == 403
    assert rival_manager.post(base + "/hms-card", data={"hms_card_number": "FAKE"}).status_code == 403
    assert snapshot(victim.id) == before
    assert "Ny innloggingskode" not in rival_manager.get(base).get_data(as_text=True)


def test_a_foreman_of_the_same_company_cannot_reset_someone_who_is_more_than_a_worker_elsewhere(app, world):
    # The site's worker is also foreman on site B: on site A the foreman sees a worker, but may not reset him.
    worker = world.people["worker"]
    Membership.create(user=worker, site=world.other_site, role="foreman")
    foreman = client_for(app, world.people["foreman"])
    base = f"/s/{world.site.id}/people/{worker.id}"
    before = snapshot(worker.id)
    assert foreman.post(base + "/code").status_code == 403
    assert foreman.post(base + "/hms-card", data={"hms_card_number": "HMS000"}).status_code == 403
    assert snapshot(worker.id) == before
    # The company's manager may.
    assert client_for(app, world.people["manager"]).post(base + "/code").status_code == 200


def test_a_foreman_cannot_change_a_managers_card(app, world):
    manager = world.people["manager"]
    response = client_for(app, world.people["foreman"]).post(
        f"/s/{world.site.id}/people/{manager.id}/hms-card", data={"hms_card_number": "HMS000"})
    assert response.status_code == 403
    assert User.get_by_id(manager.id).hms_card_number == "HMS123"


def test_invited_person_accepts_signed_in_as_themselves(app, world, rival):
    victim = world.people["worker"]
    attacker = client_for(app, rival.manager)
    attacker.post(f"/s/{rival.site.id}/people/new", data=add_form(victim.phone, employer=str(rival.org.id)))
    invitation = Invitation.get(Invitation.user == victim)
    # Nobody but the invited person may answer.
    assert attacker.post(f"/invitations/{invitation.id}/accept").status_code == 404
    assert client_for(app, world.people["foreman"]).post(f"/invitations/{invitation.id}/accept").status_code == 404
    person = client_for(app, victim)
    home = person.get("/").get_data(as_text=True)
    assert "Konkurrent Bygg AS" in home and "Site C" in home
    response = person.post(f"/invitations/{invitation.id}/accept")
    assert response.status_code == 303
    assert Membership.get(user=victim, site=rival.site).role == "worker"
    assert not Invitation.select().exists()
    assert AuditEvent.get(AuditEvent.action == "invitation.accept").actor_id == victim.id
    # Still the rival may not issue a code: the account belongs to Fjordbygg.
    assert attacker.post(f"/s/{rival.site.id}/people/{victim.id}/code").status_code == 403
    assert User.get_by_id(victim.id).password_hash == world.pin_hash


def test_invited_person_may_decline(app, world, rival):
    victim = world.people["worker"]
    client_for(app, rival.manager).post(f"/s/{rival.site.id}/people/new",
                                        data=add_form(victim.phone, employer=str(rival.org.id)))
    invitation = Invitation.get(Invitation.user == victim)
    assert client_for(app, victim).post(f"/invitations/{invitation.id}/decline").status_code == 303
    assert not Invitation.select().exists()
    assert not Membership.select().where(Membership.site == rival.site, Membership.user == victim).exists()
    assert AuditEvent.get(AuditEvent.action == "invitation.decline").actor_id == victim.id


def test_inviting_twice_is_a_clear_409(app, world, rival):
    victim = world.people["worker"]
    attacker = client_for(app, rival.manager)
    form = add_form(victim.phone, employer=str(rival.org.id))
    assert attacker.post(f"/s/{rival.site.id}/people/new", data=form).status_code == 303
    again = attacker.post(f"/s/{rival.site.id}/people/new", data=form)
    assert again.status_code == 409 and "allerede invitert" in again.get_data(as_text=True)
    assert Invitation.select().count() == 1


def test_add_person_lists_only_my_own_organizations(app, world, rival):
    page = client_for(app, rival.manager).get(f"/s/{rival.site.id}/people/new").get_data(as_text=True)
    assert "Konkurrent Bygg AS" in page
    assert "Fjordbygg AS" not in page and "Nordlys Elektro AS" not in page
    # A posted id of another company is refused, and nothing is saved.
    response = client_for(app, rival.manager).post(f"/s/{rival.site.id}/people/new",
                                                   data=add_form("45000077", employer=str(world.org.id)))
    assert response.status_code == 422
    assert not User.select().where(User.phone == "+4545000077").exists()
    assert not User.select().where(User.phone == "+4745000077").exists()


def test_new_person_belongs_to_the_sites_organization(app, world, rival):
    response = client_for(app, rival.foreman).post(f"/s/{rival.site.id}/people/new",
                                                   data=add_form("45000078", employer=str(rival.org.id)))
    assert response.status_code == 201
    assert User.get(User.phone == "+4745000078").organization_id == rival.org.id


def test_org_admin_sees_the_organizations_people_only(app, world, rival):
    page = client_for(app, rival.manager).get("/org/people").get_data(as_text=True)
    assert "Rival Foreman" in page and "Worker Person" not in page
    assert client_for(app, rival.foreman).get("/org/people").status_code == 403
    own = client_for(app, world.people["manager"]).get("/org/people").get_data(as_text=True)
    assert "Worker Person" in own and "Rival Foreman" not in own


# Every route that changes a person's account or membership, as (method, path template, form data).
ACCOUNT_ROUTES = [
    ("POST", "/s/{site}/people/new", lambda w: add_form(w.people["worker"].phone, role="manager")),
    ("POST", "/s/{site}/people/{person}/code", lambda w: {}),
    ("POST", "/s/{site}/people/{person}/hms-card", lambda w: {"name": "Owned", "hms_card_number": "FAKE"}),
    ("POST", "/s/{site}/people/{person}/role", lambda w: {"role": "manager"}),
    ("POST", "/s/{site}/people/{person}/remove", lambda w: {}),
    ("GET", "/s/{site}/people/{person}", None),
    # Competence (issue 19): a person's records and the tasks they are given on the site.
    ("GET", "/s/{site}/competence/people/{person}", None),
    ("POST", "/s/{site}/competence/people/{person}/tasks", lambda w: {"tasks": ["crane_operator"]}),
    ("POST", "/s/{site}/competence/people/{person}/records",
     lambda w: {"uuid": "6f1c1f7e-8d1c-4d55-9a55-2f4d6b1b7a01", "course": "hot_work", "taken_on": "2025-06-01"}),
    # The attendance list's § 15 details (date of birth, staffing agency: issue 24).
    ("POST", "/s/{site}/people/{person}/attendance-details", lambda w: {"date_of_birth": "1990-01-01"}),
]


@pytest.mark.parametrize("attacker_role", ["manager", "foreman"])
@pytest.mark.parametrize("method, template, data", ACCOUNT_ROUTES,
                         ids=[t.split("{person}")[-1] or t for _m, t, _d in ACCOUNT_ROUTES])
def test_every_account_route_refuses_another_organization(app, world, rival, attacker_role, method, template,
                                                          data):
    attacker = client_for(app, getattr(rival, attacker_role))
    victims = [world.people[role] for role in ("worker", "foreman", "manager")]
    before = {v.id: snapshot(v.id) for v in victims}
    events = AuditEvent.select().count()
    for victim in victims:
        path = template.format(site=world.site.id, person=victim.id)
        response = attacker.post(path, data=data(world)) if method == "POST" else attacker.get(path)
        assert response.status_code in (403, 404), (path, response.status_code)
    assert {v.id: snapshot(v.id) for v in victims} == before
    assert AuditEvent.select().count() == events
    assert not Invitation.select().exists()


def test_the_attack_end_to_end_no_longer_signs_the_attacker_in(app, world, rival):
    """The whole path as reported: add, take the code, redeem, be the victim. Now it stops at the invitation."""
    victim = world.people["manager"]
    attacker = client_for(app, rival.manager)
    response = attacker.post(f"/s/{rival.site.id}/people/new", data=add_form(victim.phone, role="manager",
                                                                            employer=str(rival.org.id)))
    assert CODE_RE.search(response.get_data(as_text=True)) is None
    from helpers import sign_in

    sign_in(app.test_client(), victim, PIN)  # the victim's PIN still works


def test_the_walk_covers_every_route_about_a_person(app):
    # A new route that acts on a person must join ACCOUNT_ROUTES (and use authz.may_manage_person).
    walked = {template.replace("{site}", "<int:site_id>").replace("{person}", "<int:user_id>")
              for _m, template, _d in ACCOUNT_ROUTES}
    person_routes = {rule.rule for rule in app.url_map.iter_rules()
                     if "<int:user_id>" in rule.rule or rule.rule.endswith("/people/new")}
    assert person_routes == walked


# --- a code made for a worker, used after the worker was promoted (found by the security test) -------------

def _code_for_worker(app, world):
    response = client_for(app, world.people["foreman"]).post(
        f"/s/{world.site.id}/people/{world.people['worker'].id}/code")
    assert response.status_code == 200
    return CODE_RE.search(response.get_data(as_text=True)).group(1)


def _redeem(app, code, pin="584027"):
    phone = app.test_client()
    return phone.post("/enroll", data={"code": code}), phone.post("/enroll/pin", data={"code": code, "secret": pin,
                                                                                      "confirm": pin})


def test_a_foremans_code_for_a_worker_dies_when_the_worker_is_promoted(app, world):
    """As reported: foreman gets a code for a worker; the manager makes the worker a manager; the foreman
    may no longer get a code (403), and the OLD code must not sign anyone in as that manager."""
    worker = world.people["worker"]
    code = _code_for_worker(app, world)
    response = client_for(app, world.people["manager"]).post(f"/s/{world.site.id}/people/{worker.id}/role",
                                                             data={"role": "manager"})
    assert response.status_code == 303
    assert client_for(app, world.people["foreman"]).post(
        f"/s/{world.site.id}/people/{worker.id}/code").status_code == 403
    assert not EnrollmentCode.select().where((EnrollmentCode.user == worker)
                                             & EnrollmentCode.used_at.is_null()).exists()
    step1, step2 = _redeem(app, code)
    assert (step1.status_code, step2.status_code) == (404, 404)
    assert User.get_by_id(worker.id).password_hash == world.pin_hash


@pytest.mark.parametrize("change", ["foreman_elsewhere", "org_admin", "other_organization", "creator_left_site",
                                    "creator_deactivated"])
def test_redemption_asks_again_whether_the_maker_may_manage_the_person(app, world, rival, change):
    # Each change made behind the app's back (no voiding): the check at redemption alone stops the code.
    worker = world.people["worker"]
    code = _code_for_worker(app, world)
    if change == "foreman_elsewhere":
        Membership.create(user=worker, site=world.other_site, role="foreman")
    elif change == "org_admin":
        User.update(is_org_admin=True).where(User.id == worker.id).execute()
    elif change == "other_organization":
        User.update(organization=rival.org).where(User.id == worker.id).execute()
    elif change == "creator_left_site":
        Membership.delete().where(Membership.user == world.people["foreman"]).execute()
    else:
        User.update(active=False).where(User.id == world.people["foreman"].id).execute()
    step1, step2 = _redeem(app, code)
    assert (step1.status_code, step2.status_code) == (404, 404)
    assert User.get_by_id(worker.id).password_hash == world.pin_hash


def test_redeem_refuses_between_the_pin_form_and_the_update(app, world):
    # The check is also inside the transaction that uses the code: it wins a race with the promotion.
    from fieldapp.accounts import service as accounts

    worker = world.people["worker"]
    code = _code_for_worker(app, world)
    Membership.update(role="manager").where(Membership.user == worker).execute()
    with app.app_context():
        assert accounts.redeem_enrollment(code, "584027") is None
    assert User.get_by_id(worker.id).password_hash == world.pin_hash
    assert EnrollmentCode.get(EnrollmentCode.user == worker).used_at is not None  # and it is void


def test_a_code_still_works_when_nothing_changed(app, world):
    worker = world.people["worker"]
    code = _code_for_worker(app, world)
    # A role change that is no promotion keeps it (worker to worker on another site too).
    Membership.create(user=worker, site=world.other_site, role="worker")
    step1, step2 = _redeem(app, code)
    assert (step1.status_code, step2.status_code) == (200, 303)
    assert User.get_by_id(worker.id).password_hash != world.pin_hash


def test_a_managers_code_for_a_manager_and_a_code_without_maker_still_work(app, world):
    from fieldapp.accounts import service as accounts

    foreman = world.people["foreman"]
    response = client_for(app, world.people["manager"]).post(f"/s/{world.site.id}/people/{foreman.id}/code")
    assert _redeem(app, CODE_RE.search(response.get_data(as_text=True)).group(1))[1].status_code == 303
    # Made by the CLI or an admin (no maker): works for anyone, a manager too.
    with app.test_request_context():
        code = accounts.issue_enrollment_code(None, world.people["manager"])
    assert _redeem(app, code, pin="604918")[1].status_code == 303


def test_a_site_manager_cannot_take_over_the_org_admin(app, world):
    """A manager of one site (not the org admin) issued a sign-in code for the org admin, whose PIN the code
    replaces: a way to take over the whole organization (found by the breaker). Only an org admin manages one."""
    admin = world.people["manager"]  # World's manager is the org admin
    site_manager = world.person("+4793000001", "Site Manager", "manager", world.other_site, employer=world.org)
    Membership.create(user=admin, site=world.other_site, role="foreman")
    before = snapshot(admin.id)
    client = client_for(app, site_manager)
    base = f"/s/{world.other_site.id}/people/{admin.id}"
    assert client.post(base + "/code").status_code == 403
    assert client.post(base + "/hms-card", data={"hms_card_number": "HMS000", "name": "Owned"}).status_code == 403
    assert snapshot(admin.id) == before
    # Nor demote or remove the org admin on the site (they had no way back onto it), nor show the forms to.
    page = client.get(base).get_data(as_text=True)
    assert "/role" not in page and "/remove" not in page
    assert client.post(base + "/role", data={"role": "worker"}).status_code == 403
    assert client.post(base + "/remove").status_code == 403
    assert Membership.get(user=admin, site=world.other_site).role == "foreman"
    # The site manager still manages the site's other people.
    worker = world.person("+4793000002", "Site Worker", "worker", world.other_site, employer=world.org)
    assert client.post(f"/s/{world.other_site.id}/people/{worker.id}/code").status_code == 200
    assert client.post(f"/s/{world.other_site.id}/people/{worker.id}/role", data={"role": "foreman"}).status_code == 303
    assert Membership.get(user=worker, site=world.other_site).role == "foreman"
    assert client.post(f"/s/{world.other_site.id}/people/{worker.id}/remove").status_code == 303
