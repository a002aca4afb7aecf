"""Every route with every role: another site's records answer 404, the wrong role on the right site 403.

The test fails when a route is added without a line in ACCESS: decide who may use it first.
"""
import uuid

import pytest
from helpers import ACCESS, ORG_ADMIN, PUBLIC, add_photo_and_alert, call

from fieldapp.accounts import service as accounts
from fieldapp.models import ROLES, Site

# The report routes use World.report, which the site's worker made: the worker may see it and comment.
# Another worker gets 404 for it (tests/test_reports.py).

# What an allowed role gets where the request itself is refused for another reason than access.
ALLOWED_STATUS = {
    "checkin.check_out": {409},  # nobody is checked in: a clear 409, after the role check passed
    # The matrix sends no report fields, text or photo: a clear 422 once access was granted.
    "reports.create_report": {422},
    "reports.assign": {422},
    "reports.comment": {422},
    "reports.action": {422},
    "reports.after_photo": {422},
    "reports.close": {422},
    "reports.reopen": {409, 422},
    "reports.notified": {422},
    "alerts.send": {422},  # no title, text or template
}
SITE_ROUTES = [e for e, (_m, path, _w) in ACCESS.items() if "{site}" in path]


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ACCESS), "add the new route to ACCESS with who may use it"


@pytest.fixture(autouse=True)
def photo_and_alert(app, world):
    add_photo_and_alert(app, world)


# What a signed-out phone gets from each public route (200 unless listed here); the test reaches each
# route's own work (guests allowed, a live code, a guest checked in), so no 404 passes for "public".
PUBLIC_STATUS = {
    "shell.whoami": 401,  # {} when nobody is signed in
    "accounts.enroll_code": 303,  # off to the form that asks for the code
    "accounts.choose_language": 303,
    "accounts.enroll_secret": 422,  # a real code, and no PIN chosen yet
    "checkin.guest_check_out": 303,
}


@pytest.mark.parametrize("endpoint", sorted(e for e, (_m, _p, w) in ACCESS.items() if w == PUBLIC))
def test_public_routes_need_no_sign_in(app, client, world, endpoint):
    Site.update(guests_allowed=True).where(Site.id == world.site.id).execute()
    with app.test_request_context():
        code = accounts.issue_enrollment_code(world.people["manager"], world.people["worker"])
    guest = client.post(f"/p/{world.site.qr_token}/guest", data={
        "uuid": str(uuid.uuid4()), "name": "Vera Besøk", "employer": "Besøk AS", "all_worn": "y"})
    assert guest.status_code == 303, guest.get_data(as_text=True)
    status = call(client, endpoint, world, code=code).status_code
    assert status == PUBLIC_STATUS.get(endpoint, 200), status


@pytest.mark.parametrize("endpoint", sorted(e for e, (_m, _p, w) in ACCESS.items() if w != PUBLIC))
def test_signed_out_is_sent_to_sign_in(client, world, endpoint):
    response = call(client, endpoint, world)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(e for e, (_m, _p, w) in ACCESS.items() if w == ORG_ADMIN))
def test_org_admin_routes(as_role, world, role, endpoint):
    status = call(as_role(role), endpoint, world).status_code
    assert status == (200 if role == "manager" else 403)  # the fixture's manager is the org admin


@pytest.mark.parametrize("role", ROLES)
def test_someone_elses_invitation_is_404(as_role, world, role):
    # The only signed-in route with a record in its path: an invitation is its person's alone.
    from fieldapp.models import Invitation

    invitation = Invitation.create(user=world.outsider, site=world.site, role="worker")
    for answer in ("accept", "decline"):
        assert as_role(role).post(f"/invitations/{invitation.id}/{answer}").status_code == 404
    assert Invitation.get_by_id(invitation.id).user_id == world.outsider.id


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", SITE_ROUTES)
def test_site_routes_check_the_role_on_that_site(as_role, world, endpoint, role):
    allowed = ACCESS[endpoint][2]
    status = call(as_role(role), endpoint, world).status_code
    if role in allowed:
        assert status in {200, 201, 204, 303} | ALLOWED_STATUS.get(endpoint, set()), status
    else:
        assert status == 403


@pytest.mark.parametrize("endpoint", SITE_ROUTES)
def test_another_sites_manager_gets_404(as_role, world, endpoint):
    # The outsider manages site B; site A must not even be admitted to exist.
    assert call(as_role("outsider"), endpoint, world).status_code == 404


def test_member_of_another_site_cannot_be_managed_through_mine(as_role, world):
    # The outsider is a member of site B only: not reachable through site A's URLs.
    manager = as_role("manager")
    path = f"/s/{world.site.id}/people/{world.outsider.id}"
    assert manager.post(path + "/role", data={"role": "worker"}).status_code == 404
    assert manager.post(path + "/remove").status_code == 404
    assert manager.post(path + "/code").status_code == 404
    assert manager.get(path).status_code == 404
