"""Reminders and notices never reach another organization's staff (a privacy fault found last time: a
subcontractor's worker's certificate reminder was posted on the lowest-numbered site, another organization's,
whose staff then read it in that site's alert list).

One test per kind of notice: certificates (competence), verneombud terms (duties), orders (duties), meetings,
walkarounds (rounds) and SJA signing. Statistics post no notices. A notice about one person is PERSONAL: only
its recipients see it, on any site; a notice about a site reaches that site's people only.
"""
import uuid
from datetime import date, datetime, timedelta

import pytest
from helpers import add_sja, client_for

from fieldapp.competence import reminders as competence
from fieldapp.duties import reminders as duties
from fieldapp.meetings import service as meetings
from fieldapp.models import (Alert, AlertRecipient, Inspection, InspectionOrder, MeetingSchedule, Membership, Site,
                             TrainingRecord, VerneombudTerm)
from fieldapp.rounds import service as rounds
from fieldapp.sja import service as sja_service

NOW = datetime(2026, 11, 30, 7, 0)


@pytest.fixture
def nordlys(world):
    """The subcontractor Nordlys Elektro: its worker Piotr on main contractor's site A (the lowest-numbered
    site), and its foreman Nils on site A too."""
    world.piotr = world.person("+4791000011", "Piotr Nowak", "worker", world.site, employer=world.sub)
    world.nils = world.person("+4791000012", "Nils Nordlys", "foreman", world.site, employer=world.sub)
    return world


def certificate(person):
    return TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=person, course="first_aid",
                                 status="approved", taken_on=date(2020, 1, 1), expires_on=date(2026, 12, 10))


def told(user):
    return {c.alert_id for c in AlertRecipient.select().where(AlertRecipient.user == user)}


def assert_hidden_from(app, user, site, alert_ids):
    """`user` has none of the alerts in the inbox, on the site's alert list, or by address."""
    assert alert_ids and not (told(user) & set(alert_ids))
    client = client_for(app, user)
    listing = client.get(f"/s/{site.id}/alerts")
    for alert_id in alert_ids:
        assert f"/alerts/{alert_id}\"" not in listing.get_data(as_text=True)
        assert client.get(f"/s/{site.id}/alerts/{alert_id}").status_code == 404
        assert client.get(f"/s/{site.id}/alerts/{alert_id}/status").status_code in (403, 404)
    assert "Piotr Nowak" not in client.get("/alerts").get_data(as_text=True)


def test_a_subcontractors_certificate_reminder_rides_on_their_employers_own_site(app, nordlys, frozen_clock):
    world = nordlys
    own = Site.create(organization=world.sub, name="Nordlys depot", address="Vei 3, Oslo", qr_token="tok-n")
    Membership.create(user=world.piotr, site=own, role="worker")
    Membership.create(user=world.nils, site=own, role="foreman")
    certificate(world.piotr)
    frozen_clock(NOW)
    with app.app_context():
        assert competence.run()["sent"] == 1
    made = [a.id for a in Alert.select()]
    assert {a.site_id for a in Alert.select()} == {own.id}
    assert told(world.piotr) | told(world.nils) == set(made)
    for role in ("manager", "foreman"):
        assert_hidden_from(app, world.people[role], world.site, made)


def test_a_certificate_reminder_on_another_organizations_site_is_seen_by_its_recipients_only(app, nordlys,
                                                                                            frozen_clock):
    world = nordlys
    certificate(world.piotr)
    frozen_clock(NOW)
    with app.app_context():
        assert competence.run() == {"sent": 1, "alerts": 2, "failed": 0}  # Piotr and his own foreman Nils
    made = [a.id for a in Alert.select()]
    assert told(world.piotr) | told(world.nils) == set(made)
    for role in ("manager", "foreman", "verneombud"):  # Fjordbygg's staff on site A
        assert_hidden_from(app, world.people[role], world.site, made)
    mine = [a for a in made if a in told(world.piotr)][0]
    page = client_for(app, world.piotr).get(f"/s/{world.site.id}/alerts/{mine}")
    assert page.status_code == 200 and "Kursbevis går snart ut" in page.get_data(as_text=True)
    # And a Fjordbygg worker's reminder is not Nils' to read either.
    certificate(world.people["worker"])
    with app.app_context():
        competence.run()
    about_worker = [a.id for a in Alert.select().where(Alert.id.not_in(made))]
    assert_hidden_from(app, world.nils, world.site, about_worker)


def test_a_subcontractors_verneombud_term_is_not_told_to_the_main_contractor(app, nordlys, frozen_clock):
    world = nordlys
    boss = world.person("+4791000013", "Nora Nordlys", "manager", world.site, employer=world.sub)
    VerneombudTerm.create(organization=world.sub, user=world.nils, site=world.site, role="verneombud",
                          elected_from=date(2024, 12, 31), elected_to=date(2026, 12, 30), how="election")
    frozen_clock(NOW)
    with app.app_context():
        assert duties.run() == {"terms": 1, "alerts": 2, "failed": 0}  # Nils and his own manager Nora
    made = [a.id for a in Alert.select()]
    assert told(world.nils) | told(boss) == set(made)
    assert_hidden_from(app, world.people["manager"], world.site, made)


# --- notices about a site reach that site's people only -------------------------------------------------------

@pytest.fixture
def elsewhere(world):
    """A manager of the subcontractor on the subcontractor's own site, not on site A."""
    own = Site.create(organization=world.sub, name="Nordlys depot", address="Vei 3, Oslo", qr_token="tok-n")
    return world.person("+4791000014", "Nina Nordlys", "manager", own, employer=world.sub)


def site_a_alerts(world):
    return [a.id for a in Alert.select().where(Alert.site == world.site.id)]


def test_meeting_reminders_stay_on_their_site(app, world, elsewhere, frozen_clock):
    frozen_clock(NOW)
    with app.app_context():
        # A schedule of the site's own and no meeting yet: the first is due (no schedule: no date, no reminder).
        MeetingSchedule.create(organization=world.org, site=world.site, kind="hms", interval_days=28)
        assert meetings.remind_due() >= 1
    assert_hidden_from(app, elsewhere, world.site, site_a_alerts(world))


def test_round_reminders_stay_on_their_site(app, world, elsewhere, frozen_clock):
    frozen_clock(NOW)
    # A site with no walkaround yet is due from the day it was made: made before NOW, whatever today's date.
    Site.update(created_at=NOW - timedelta(days=30)).execute()
    with app.test_request_context():
        assert rounds.remind_due() >= 1
    assert_hidden_from(app, elsewhere, world.site, site_a_alerts(world))


def test_sja_signing_requests_stay_on_their_site(app, world, elsewhere, frozen_clock):
    frozen_clock(NOW)
    sja = add_sja(world, world.people["foreman"], [world.people["worker"], world.people["verneombud"]])
    with app.test_request_context():
        assert sja_service.ask_to_sign(world.people["foreman"], sja) >= 1
    assert_hidden_from(app, elsewhere, world.site, site_a_alerts(world))


def test_order_reminders_stay_on_their_site(app, world, elsewhere, frozen_clock):
    frozen_clock(NOW)
    inspection = Inspection.create(site=world.site, held_on=date(2026, 11, 1), reference="2026/123")
    InspectionOrder.create(inspection=inspection, text="Guard rails on floor 3",
                           deadline=NOW.date() + timedelta(days=3))
    with app.app_context():
        assert duties.run_orders()["orders"] == 1
    assert_hidden_from(app, elsewhere, world.site, site_a_alerts(world))
