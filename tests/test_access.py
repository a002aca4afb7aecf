"""Every route with every role: another site's records answer 404, the wrong role on the right site 403.

Who may use a site route is the permission its view requires, granted to roles in fieldapp/authz.py's one
map (PERMISSIONS); this test reads that map, as the views and templates do. The test fails when a route is
added without a line in ACCESS: decide who may use it first.
"""
import re
import uuid
from pathlib import Path

import pytest
from helpers import ACCESS, ORG_ADMIN, PUBLIC, call
from werkzeug.exceptions import MethodNotAllowed

from fieldapp.accounts import service as accounts
from fieldapp.authz import PERMISSIONS, ROLES_GRANTED_BY, roles_with
from fieldapp.models import ROLES, Site

# The report routes use World.report, which the site's worker made: the worker may see it and comment.
# Another worker gets 404 for it (tests/test_reports.py).

# What an allowed role gets where the request itself is refused for another reason than access.
ALLOWED_STATUS = {
    "checkin.check_out": {409},  # nobody is checked in: a clear 409, after the role check passed
    # World's meeting is a draft: a worker reads approved minutes only (a clear 404 after the role check).
    "meetings.meeting": {404},
    "meetings.minutes_pdf": {404},
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
    "sja.create_sja": {422},  # no title or steps
    "rounds.discard": {409},  # the matrix round has answers: "tick the box" once the role check passed
    "sja.sign": {409},  # no revision read: "read it again"
    # Everyone may reach them; only the person named responsible (the foreman) decides: 403 for the others.
    "sja.decide": {403, 422},
    "sja.finish": {403, 422},
    "sja.save_template": {422},  # no name
    "sja.edit_sja": {403},  # World's SJA is the foreman's: a worker on it may read and sign it, not change it
    "rounds.start_round": {422},  # no checklist version
    "rounds.answer": {409},  # no version: "the checklist has changed"
    "rounds.finish": {422},  # items not answered
    "rounds.sign": {409},  # not finished
    "rounds.add_note": {422},  # no text
    "checkin.rename_equipment": {404},  # World has no equipment of its own: a clear 404 after the role check
    "competence.reject": {422},  # no reason given
    "competence.photo": {404},  # the verneombud: the worker did not agree to show them the photos
    "competence.add_requirement": {422},  # no course chosen
    "competence.add_record": {422},  # no course chosen
    "alerts.lift": {409},  # the matrix's alert is a warning: only a stop-work order is lifted
    "stats.enter_hours": {422},  # no organisation number or hours
    "stats.import_hours": {422},  # no file
    "stats.remove_hours": {404},  # World has no entered hours: a clear 404 after the role check
    "stats.record_injury": {409},  # World.report is a hazard, not an injury
    # Meetings: no kind, item, text, person or date in the matrix's request.
    "meetings.create": {422},
    "meetings.add_item": {422},
    "meetings.remove_item": {422},
    "meetings.note": {422},
    "meetings.attend": {422},
    "meetings.decide": {422},
    "meetings.vote": {422},
    "meetings.set_date": {422},  # no date given
    "meetings.approve": {403},  # the manager is not World.meeting's chair (the foreman is): only the chair approves
    "meetings.amend": {409},  # a draft is changed, not amended
    "meetings.propose": {422},
    "meetings.save_kind": {422},  # no name given
    "meetings.set_schedule": {422},  # no kind given
    "meetings.add_amu_member": {422},  # no person given
    "meetings.remove_amu_member": {404},  # no such member
    "meetings.record_morning": {422},
    "duties.add_term": {422},  # no person, role or dates
    "duties.record_hours": {422},  # no day or hours
    "duties.add_inspection": {422},  # no date or reference
    "duties.close_order": {422},  # no response written
    "duties.add_evidence": {422},  # no file sent
}
SITE_ROUTES = [e for e, (_m, path, _w) in ACCESS.items() if "{site}" in path]


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ACCESS), "add the new route to ACCESS with who may use it"


@pytest.fixture(autouse=True)
def photo_and_alert(world_with_records):
    """World with helpers.add_photo_and_alert's records, copied with the database (tests/conftest.py)."""


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


@pytest.mark.parametrize("endpoint,role", [(e, r) for e in SITE_ROUTES for r in roles_with(ACCESS[e][2])])
def test_site_routes_serve_the_roles_with_the_right_on_that_site(as_role, world, endpoint, role):
    # One test per allowed role: its request may change the site, so each starts from the same world.
    client = as_role(role)
    got = call(client, endpoint, world)
    assert got.status_code in {200, 201, 204, 303} | ALLOWED_STATUS.get(endpoint, set()), got.status_code
    if role == "manager" and ACCESS[endpoint][0] == "GET":  # the manager's GET is also asked as HEAD
        assert_head_answers_as_get(client, got)


@pytest.mark.parametrize("endpoint", SITE_ROUTES)
def test_site_routes_refuse_the_others(as_role, world, endpoint):
    # A role without the right on the site gets 403. The outsider manages site B: site A must not even be admitted
    # to exist (404). A refused request changes nothing, so one test asks for all of them.
    allowed = roles_with(ACCESS[endpoint][2])
    expected = {role: 403 for role in ROLES if role not in allowed} | {"outsider": 404}
    assert {who: call(as_role(who), endpoint, world).status_code for who in expected} == expected


def test_member_of_another_site_cannot_be_managed_through_mine(as_role, world):
    # The outsider is a member of site B only: not reachable through site A's URLs.
    manager = as_role("manager")
    path = f"/s/{world.site.id}/people/{world.outsider.id}"
    assert manager.post(path + "/role", data={"role": "worker"}).status_code == 404
    assert manager.post(path + "/remove").status_code == 404
    assert manager.post(path + "/code").status_code == 404
    assert manager.get(path).status_code == 404


# --- the map itself ----------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
ASKED = re.compile(r"""\b(?:can|roles_with|requires)\(["']([a-z_.]+)["']""")


def test_the_map_grants_only_known_roles_and_every_permission_is_used():
    assert all(roles and set(roles) <= set(ROLES) for roles in PERMISSIONS.values())
    files = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "fieldapp").rglob("*.py")]
    asked = {name for path in files for name in ASKED.findall(path.read_text())}
    assert asked - set(PERMISSIONS) == set(), "the code asks for permissions the map does not have"
    assert set(PERMISSIONS) - asked == set(), "the map has permissions nothing asks for"
    assert {who for _m, _p, who in ACCESS.values() if who in PERMISSIONS} <= asked


def test_an_unknown_permission_fails_when_the_view_is_defined():
    from fieldapp.authz import requires

    with pytest.raises(KeyError):
        requires("reports.asign")


def test_a_worker_has_only_their_own_duties_and_medical_details_are_the_managers():
    # AML § 2-3: the worker checks in, reports and reads their alerts; nothing about other people.
    # Issue 18: anyone on the site makes and takes part in an SJA (and decides it when named responsible).
    worker = {name for name, roles in PERMISSIONS.items() if "worker" in roles}
    # Issue 21: workers also propose meeting items and read their site's minutes.
    assert worker == {"checkin.self", "reports.create", "reports.read", "reports.comment", "alerts.read",
                      "sja.create", "sja.read", "sja.sign", "sja.decide", "meetings.propose", "meetings.read"}
    assert roles_with("reports.medical.read") == ("manager",)  # health data: the employer only


def test_who_may_add_people_is_who_may_grant_a_role():
    assert {role for role, granted in ROLES_GRANTED_BY.items() if granted} == set(roles_with("people.add"))


# --- each role sees only the links it may use --------------------------------------------------------------

# The main pages, and the site routes each offers (a link or a form) to whoever may use them.
PAGES = {
    "/": ["reports.new_report", "reports.reports", "checkin.on_site", "checkin.attendance",
          "checkin.settings", "sites.people", "sites.add_person", "sites.edit_site", "competence.matrix"],
    "/s/{site}/competence": ["competence.matrix_csv", "competence.matrix_pdf", "competence.pending",
                             "competence.requirements", "competence.import_csv", "competence.person"],
    "/s/{site}/competence/people/{worker}": ["competence.set_tasks", "competence.add_record"],
    "/alerts": ["alerts.compose", "alerts.site_alerts", "alerts.alert"],
    "/s/{site}/people": ["sites.add_person", "sites.person"],
    "/s/{site}/people/{worker}": ["sites.update_hms_card", "sites.new_code", "sites.change_role",
                                  "sites.remove_person"],
    "/s/{site}/reports": ["reports.report"],
    "/s/{site}/reports/{injury}": ["reports.assign", "reports.after_photo", "reports.action", "reports.close",
                                   "reports.notified", "reports.comment"],
    "/s/{site}/alerts/{alert}": ["alerts.acknowledge"],
    "/s/{site}/alerts": ["alerts.compose", "alerts.alert"],
    "/s/{site}/on-site": ["checkin.resolve_follow_up", "checkin.on_site"],
    "/s/{site}/checkin-settings": ["checkin.add_equipment", "checkin.poster"],
    "/s/{site}/poster": ["checkin.renew_poster", "checkin.settings"],
    "/s/{site}/attendance": ["checkin.attendance"],
    "/s/{site}/meetings": ["meetings.settings"],
}
URL_IN_PAGE = re.compile(r'\b(href|action|formaction|hx-get|hx-post)="(/s/[^"?#]*)')


def site_endpoints_on(app, page):
    """{endpoint} of every site route the page links to or posts to."""
    adapter = app.url_map.bind("localhost")
    found = set()
    for attribute, path in URL_IN_PAGE.findall(page):
        methods = ("POST", "GET") if attribute in ("action", "formaction", "hx-post") else ("GET", "POST")
        for method in methods:
            try:
                found.add(adapter.match(path, method)[0])
                break
            except MethodNotAllowed:
                continue
    return found


@pytest.fixture
def full_site(app, world):
    """An injury report with its medical details, and a check-in with missing equipment to follow up."""
    import uuid

    from fieldapp.models import CheckIn, FollowUp, InjuryDetails, Report, utcnow

    world.injury = Report.create(uuid=uuid.uuid4(), payload_hash="1" * 64, site=world.site,
                                 reporter=world.people["worker"], kind="injury", category="falls",
                                 severity="high", description="Cut hand", happened_at=utcnow())
    InjuryDetails.create(report=world.injury, medical_treatment=True)
    check_in = CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["worker"],
                              checked_in_at=utcnow(), name="Worker Person", missing=["helmet"])
    FollowUp.create(site=world.site, kind="missing_equipment", check_in=check_in, detail='["helmet"]')
    return world


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_the_links_it_may_use(app, as_role, full_site, role):
    world = full_site
    client = as_role(role)
    opened = 0
    for template, offered in PAGES.items():
        path = template.format(site=world.site.id, worker=world.people["worker"].id, injury=world.injury.id,
                               alert=world.alert.id)
        response = client.get(path)
        if response.status_code == 403:
            continue
        assert response.status_code == 200, (path, response.status_code)
        opened += 1
        found = site_endpoints_on(app, response.get_data(as_text=True))
        for endpoint in found:
            who = ACCESS[endpoint][2]
            assert role in roles_with(who), f"{path} shows a {role} {endpoint}, which needs {who}"
        for endpoint in offered:
            assert (endpoint in found) == (role in roles_with(ACCESS[endpoint][2])), (path, endpoint)
    assert opened >= 4  # home, inbox, reports and a report are every member's



# --- one way to load the signed-in person ------------------------------------------------------------------

def test_the_person_is_known_before_any_decorator_runs(as_role, world):
    """authz.load_signed_in_person loads the person for every request: a form refused by @outbox_post's CSRF
    check (above @requires) is answered in the person's language, with their navigation."""
    from fieldapp.models import User

    User.update(language="en").where(User.id == world.people["worker"].id).execute()
    response = as_role("worker").post(f"/s/{world.site.id}/checkin", data={"all_worn": "y"}, csrf=False)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The form has expired" in page and 'href="/me"' in page


def test_a_site_page_costs_one_query_for_the_person_and_their_role(as_role, world, count_queries):
    client = as_role("worker")
    client.get("/")  # the device session's last_seen_at is written at most every five minutes: not counted
    count_queries.queries.clear()
    assert client.get(f"/s/{world.site.id}/checkin").status_code == 200
    loads = [q for q in count_queries.queries if "device_session" in q.lower()]
    assert len(loads) == 1 and "membership" in loads[0].lower(), loads


def assert_head_answers_as_get(person, got):
    """HEAD on the path the GET response `got` answered gives its status and no body.

    Uptime checkers and proxies send HEAD: a view that takes GET and POST must not treat it as a form post
    (HEAD /sign-in answered 422 "fill in the form")."""
    query = got.request.query_string.decode()
    head = person.head(got.request.path + (f"?{query}" if query else ""))
    assert head.status_code == got.status_code, (head.status_code, got.status_code)
    assert head.get_data() == b""


# The site routes the manager may GET are asked as HEAD in test_site_routes_serve_the_roles_...; the others here.
HEAD_HERE = sorted(e for e, (m, _p, who) in ACCESS.items()
                   if m == "GET" and not (e in SITE_ROUTES and "manager" in roles_with(who)))


@pytest.mark.parametrize("endpoint", HEAD_HERE)
def test_head_answers_as_get_does(client, as_role, world, endpoint):
    _method, _template, who = ACCESS[endpoint]
    person = client if who == PUBLIC else as_role("manager")
    assert_head_answers_as_get(person, call(person, endpoint, world))


def test_every_get_route_is_asked_as_head():
    in_matrix = {e for e in SITE_ROUTES if ACCESS[e][0] == "GET" and "manager" in roles_with(ACCESS[e][2])}
    assert in_matrix | set(HEAD_HERE) == {e for e, (m, _p, _w) in ACCESS.items() if m == "GET"}
