"""SQL built once per process (db.ReusedSelect) gives the rows peewee's own query gives, with the same
Python types, on SQLite and on PostgreSQL (`pytest --database postgres`): dates, datetimes, booleans,
NULLs. A column whose type differed between the two databases would fail here, not on a page."""
from datetime import date, datetime, timedelta

import pytest

from fieldapp.accounts import service as accounts
from fieldapp.db import ReusedSelect
from fieldapp.models import DeviceSession, Invitation, Membership, User, utcnow
from fieldapp.sites import service as sites


def same_rows(reused_rows, peewee_rows):
    assert reused_rows == peewee_rows
    for mine, theirs in zip(reused_rows, peewee_rows):
        assert [type(v) for v in mine] == [type(v) for v in theirs], (mine, theirs)


def test_the_people_list_rows_match_peewees_tuples_column_by_column(world):
    worker = world.people["worker"]
    User.update(hms_card_expiry=date(2020, 1, 31)).where(User.id == worker.id).execute()
    User.update(password_hash=None).where(User.id == world.people["foreman"].id).execute()
    Invitation.create(site=world.site, user=world.outsider, role="worker",
                      invited_by=world.people["manager"])
    rows = sites._PEOPLE_ON.rows(world.site.id)
    same_rows(rows, list(sites._people_on_query(world.site.id).tuples()))
    assert len(rows) == 5  # four members and one invitation
    by_user = {row[0]: sites.PersonRow._make(row) for row in rows}
    assert by_user[worker.id].hms_card_expiry == date(2020, 1, 31)
    assert isinstance(by_user[worker.id].hms_card_expiry, date)
    assert not by_user[world.people["foreman"].id].enrolled and by_user[worker.id].enrolled


@pytest.mark.parametrize("on_site", [False, True])
def test_the_session_rows_match_peewees_tuples_column_by_column(app, world, on_site):
    with app.test_request_context():
        token = accounts.start_device_session(world.people["manager"], "pytest")
    now = utcnow()
    reused = accounts._LIVE_SESSION_ON_SITE if on_site else accounts._LIVE_SESSION
    values = (accounts._sha256(token), now, now - timedelta(days=30)) + ((world.site.id,) if on_site else ())
    rows = reused.rows(*values)
    same_rows(rows, list(accounts._live_session_query(*values).tuples()))
    assert len(rows) == 1
    session = accounts._session_from_row(rows[0], on_site)
    stored = DeviceSession.get_by_id(session.id)
    for field in DeviceSession._meta.sorted_field_names:
        assert getattr(session, field) == getattr(stored, field)
    assert isinstance(session.created_at, datetime) and session.revoked_at is None
    assert session.user.is_org_admin is True and session.user.active is True
    assert session.user.name == "Manager Person"
    if on_site:
        assert session.user.site_membership.role == "manager"
        assert session.user.site_membership.site.name == "Site A"


def test_a_session_on_a_site_the_person_is_not_on_has_no_membership(app, world):
    with app.test_request_context():
        token = accounts.start_device_session(world.people["manager"], "pytest")
        session = accounts.session_for_token(token, world.other_site.id)
    assert session.user.name == "Manager Person" and session.user.site_membership is None


def test_each_calls_values_are_bound_not_the_first_ones(world):
    """The SQL is kept, the values are not: a second site gets its own people."""
    first = sites._PEOPLE_ON.rows(world.site.id)
    second = sites._PEOPLE_ON.rows(world.other_site.id)
    assert {row[2] for row in second} == {"Other Manager"} and len(first) == 4


def test_a_sample_value_that_never_reaches_the_sql_is_refused(world):
    """A sample that peewee does not pass as a parameter cannot be bound later: refused at the first call."""
    reused = ReusedSelect(lambda site_id: Membership.select(Membership.role).where(Membership.site == 1),
                          [(Membership.site, -7_000_000_003)])
    with pytest.raises(ValueError, match="does not reach the SQL"):
        reused.rows(world.site.id)


def test_the_unacknowledged_count_matches_peewees_scalar(world):
    from fieldapp.alerts import service as alerts

    manager = world.people["manager"]
    assert alerts.unacknowledged_count(manager.id) == alerts._unacknowledged_query(manager.id).scalar() == 0


def test_each_people_row_shows_its_own_fields_in_their_places(as_role, world):
    """The row markup, exactly: name, role, enrolment, employer, card and its expiry each where they belong
    (the list is built from bare tuples, so a field out of order would show in the wrong place)."""
    worker, foreman = world.people["worker"], world.people["foreman"]
    User.update(password_hash=None, employer=None, hms_card_number="HMS777",
                hms_card_expiry=date(2020, 1, 31)).where(User.id == worker.id).execute()
    User.update(hms_card_number=None).where(User.id == foreman.id).execute()
    client = as_role("manager")
    client.post("/me/language", data={"language": "en"})
    page = client.get(f"/s/{world.site.id}/people").get_data(as_text=True)
    people = f"/s/{world.site.id}/people"
    assert (f'<li class="row person"><a class="person-link" href="{people}/{worker.id}"><strong>Worker Person</strong>'
            ' <span class="badge role-worker">Worker</span>\n <span class="badge warn">not enrolled</span><br>\n'
            '<span class="muted">– · HMS card: HMS777 <span class="badge danger">expired</span></span></a></li>'
            ) in page
    assert (f'<li class="row person"><a class="person-link" href="{people}/{foreman.id}"><strong>Foreman Person'
            '</strong> <span class="badge role-foreman">Foreman</span>\n<br>\n<span class="muted">Fjordbygg AS · '
            'HMS card: <span class="badge warn">missing</span></span></a></li>') in page


def test_the_on_site_lists_rows_match_peewees_tuples_column_by_column(app, world):
    """The on-site list's poll reads the equipment names, the open follow-ups and whether anything is
    required through SQL built once: the same rows and types as peewee's own queries (JSON lists and dicts)."""
    import uuid

    from fieldapp.checkin import equipment
    from fieldapp.checkin import service as checkin
    from fieldapp.competence import service as competence
    from fieldapp.models import CheckIn, Equipment, FollowUp, SiteRequirement

    org = world.site.organization_id
    Equipment.create(key="custom_apron", builtin=False, organization=org, names={"nb": "Forkle", "en": "Apron"},
                     sort_order=99)
    check_in = CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["worker"], checked_in_at=utcnow(),
                              name="Worker Person", missing=["helmet"])
    FollowUp.create(site=world.site, kind="missing_equipment", check_in=check_in, detail=["helmet", "custom_apron"])
    FollowUp.create(site=world.site, kind="missing_equipment", check_in=check_in, detail="")
    same_rows(equipment._NAMES.rows(org), list(equipment._names_query(org).tuples()))
    same_rows(checkin._OPEN_FOLLOW_UPS.rows(world.site.id),
              list(checkin._open_follow_ups_query(world.site.id).tuples()))
    with app.test_request_context(headers={"Accept-Language": "nb"}):
        labels = equipment.names(org)
        assert labels == {item.key: equipment.label(item) for item in equipment.catalogue(org)}
        assert labels["custom_apron"] == "Forkle" and labels["helmet"] == "Hjelm"
    follow_ups = checkin.open_follow_ups(world.site)
    assert {tuple(f.detail or ()) for f in follow_ups} == {("helmet", "custom_apron"), ()}
    assert competence._ANY_REQUIREMENT.rows(world.site.id) == []
    SiteRequirement.create(site=world.site, course="hms_card", task="", blocks=False)
    assert len(competence._ANY_REQUIREMENT.rows(world.site.id)) == 1


def test_the_alert_status_rows_match_peewees_tuples_column_by_column(world):
    """The sender's status poll reads the recipients and their phones' subscriptions through SQL built once."""
    import uuid

    from fieldapp.alerts import service as alerts
    from fieldapp.models import Alert, AlertRecipient, PushSubscription

    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["foreman"], level="warning",
                         title="Crane lift", body="Keep clear")
    for role in ("worker", "verneombud", "manager"):
        AlertRecipient.create(alert=alert, user=world.people[role], role=role,
                              acked_at=utcnow() if role == "worker" else None)
    PushSubscription.create(user=world.people["worker"], endpoint="https://push.example/1", p256dh="k", auth="a")
    PushSubscription.create(user=world.people["verneombud"], endpoint="https://push.example/2", p256dh="k",
                            auth="a", broken_at=utcnow())
    same_rows(alerts._RECIPIENTS.rows(alert.id), list(alerts._recipients_query(alert.id).tuples()))
    same_rows(alerts._SUBSCRIPTIONS.rows(alert.id), list(alerts._subscriptions_query(alert.id).tuples()))
    rows = {r.role: r for r in alerts.status_rows(alert)}
    assert not rows["worker"].push_broken and not rows["worker"].no_push and rows["worker"].acked_at
    assert rows["verneombud"].push_broken and not rows["verneombud"].no_push
    assert rows["manager"].no_push and not rows["manager"].push_broken
    assert [r.role for r in alerts.status_rows(alert)][-1] == "worker"  # those who acknowledged come last


def test_the_sql_is_built_once_per_kind_of_database_and_each_database_answers_its_own_rows(world, tmp_path):
    """Another database of the same kind (the tests open one per test) reuses the SQL, and is the one asked."""
    import shutil

    from fieldapp.db import database, is_sqlite, make_database

    if not is_sqlite():
        pytest.skip("copies the SQLite file; the kind of database does not matter to what is kept")
    built = []

    def build(site_id):
        built.append(site_id)
        return Membership.select(Membership.role).where(Membership.site == site_id).order_by(Membership.role)

    reused = ReusedSelect(build, [(Membership.site, -7_000_000_004)])
    first_rows = reused.rows(world.site.id)
    first = database.obj
    first.close()
    shutil.copyfile(first.database, tmp_path / "copy.db")
    database.initialize(make_database(f"sqlite:///{tmp_path / 'copy.db'}"))
    try:
        Membership.delete().where(Membership.role == "worker").execute()
        second_rows = reused.rows(world.site.id)
    finally:
        database.close()
        database.initialize(first)
    assert len(built) == 1  # the SQL was built for the first database only
    assert ("worker",) in first_rows and ("worker",) not in second_rows
    assert len(second_rows) == len(first_rows) - 1


def test_the_banner_rows_match_peewees_tuples_and_make_whole_alerts(world):
    """Every page of a person with an alert to acknowledge reads the banner through SQL built once: the same rows
    and types as peewee's own query, and alerts with their site and sender as the page shows them."""
    import uuid

    from fieldapp.alerts import service as alerts
    from fieldapp.models import Alert, AlertRecipient

    worker = world.people["worker"]
    stop = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["verneombud"], level="stop_work",
                        template="stop_work", area="Crane 2", ack_required=True, texts={"en": {"title": "t"}})
    app_made = Alert.create(uuid=uuid.uuid4(), site=world.site, level="warning", title="Term ends", body="Soon",
                            ack_required=True)
    for alert in (stop, app_made):
        AlertRecipient.create(alert=alert, user=worker, role="worker")
    same_rows(alerts._BANNER.rows(worker.id), list(alerts._banner_query(worker.id).tuples()))
    shown, more = alerts.banner(worker.id)
    assert [c.alert_id for c in shown] == [stop.id, app_made.id] and not more
    first = shown[0].alert
    assert (first.level, first.template, first.area, first.texts) == ("stop_work", "stop_work", "Crane 2",
                                                                     {"en": {"title": "t"}})
    assert first.site.name == "Site A" and first.sender.name == world.people["verneombud"].name
    assert isinstance(first.created_at, datetime) and shown[1].alert.sender is None
