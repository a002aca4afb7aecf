"""Demo data: one main contractor, a subcontractor, two sites and a person in every role. Idempotent."""
import uuid
from datetime import date

from . import audit
from .accounts import service as accounts
from .checkin import service as checkin
from .db import database
from .models import AmuMember, Equipment, Membership, Site, User, utcnow
from .phone_time import PhoneTime
from .reports import service as reports
from .sites import service as sites

DEMO_PIN = "482913"
MAIN = ("Fjordbygg AS", "923609016")
SUB = ("Nordlys Elektro AS", "987654325")

PEOPLE = [
    # phone, name, employer, org admin, {site index: role}
    ("+4790000001", "Mona Leder", MAIN, True, {0: "manager", 1: "manager"}),
    ("+4790000002", "Frode Formann", MAIN, False, {0: "foreman", 1: "foreman"}),
    ("+4790000003", "Vera Vern", MAIN, False, {0: "verneombud", 1: "worker"}),
    ("+4790000004", "Ola Arbeider", SUB, False, {0: "worker", 1: "worker"}),
    ("+4790000005", "Piotr Nowak", SUB, False, {0: "worker"}),
    # The subcontractor's own foreman: only their employer approves Piotr's and Ola's certificates (AML § 2-1).
    ("+4790000006", "Nils Nordlys", SUB, False, {0: "foreman"}),
]
SITES = [
    {"name": "Bjørvika kontorbygg", "address": "Dronning Eufemias gate 40, 0191 Oslo",
     "project_number": "P-2026-014", "client_name": "Bjørvika Utvikling AS"},
    {"name": "Lillestrøm skole", "address": "Skolegata 12, 2000 Lillestrøm",
     "project_number": "P-2026-021", "client_name": "Lillestrøm kommune"},
]
LOGINS = [(phone, name, roles) for phone, name, _e, _a, roles in PEOPLE]


def load():
    """Create what is missing; leave what exists. Returns the number of people created."""
    created = 0
    with database.atomic():
        main = sites.get_or_create_organization(None, *MAIN)
        sub = sites.get_or_create_organization(None, *SUB)
        employers = {MAIN: main, SUB: sub}
        site_rows = []
        for index, spec in enumerate(SITES):
            site = Site.get_or_none((Site.name == spec["name"]) & (Site.organization == main))
            if site is None:
                site = Site.create(organization=main, qr_token=sites.new_qr_token(), **spec)
                # What a building site asks of everyone, so that check-in shows its tiles from the start;
                # the office block's work at height also needs a harness (issue 16).
                keys = DEMO_EQUIPMENT + (("fall_arrest",) if index == 0 else ())
                checkin.set_required_equipment(None, site, list(Equipment.select().where(
                    Equipment.key.in_(keys)).order_by(Equipment.sort_order)))
            site_rows.append(site)
        for phone, name, employer, admin, roles in PEOPLE:
            user = User.get_or_none(User.phone == phone)
            if user is None:
                # Every demo account was made on the main contractor's sites: it is the main contractor's
                # (its managers may give a new code), whoever employs the person.
                user = User.create(name=name, phone=phone, employer=employers[employer], organization=main,
                                   is_org_admin=admin,
                                   hms_card_number=f"HMS{phone[-6:]}", hms_card_expiry=date(2028, 6, 30),
                                   password_hash=accounts.hash_secret(DEMO_PIN))
                created += 1
            for index, role in roles.items():
                Membership.get_or_create(user=user, site=site_rows[index], defaults={"role": role})
        # The working environment committee (AMU, AML § 7-1), so that its meetings can be tried: the manager on
        # the employer's side, the verneombud on the employees' (a new user found /amu a 404 for everyone).
        for phone, side in AMU:
            AmuMember.get_or_create(organization=main, user=User.get(User.phone == phone), defaults={"side": side})
        if created:
            audit.record(None, "demo.load", "organization", main.id, after={"people": created})
            _demo_reports(site_rows[0])
    return created


DEMO_EQUIPMENT = ("helmet", "safety_shoes", "hi_vis")
AMU = (("+4790000001", "employer"), ("+4790000003", "workers"))

DEMO_REPORTS = [
    # phone of the reporter, kind, category, text, place
    ("+4790000004", "hazard", "falls", "Rekkverket mangler langs dekkekanten.", "4. etasje, nordfasaden"),
    ("+4790000005", "near_miss", "falling_objects", "En plank falt fra stillaset, ingen ble truffet.", "Stillas øst"),
    ("+4790000003", "hazard", "order_tidiness", "Kabler over gangveien ved heisen.", "1. etasje"),
]


def _demo_reports(site):
    """A few reports to follow up, made as the people would have made them (no photos)."""
    for phone, kind, category, text, place in DEMO_REPORTS:
        user = User.get(User.phone == phone)
        fields, injury = reports.clean_fields({"kind": kind, "category": category, "description": text,
                                               "place": place})
        now = utcnow()
        reports.create_report(None, site, user, uuid.uuid4(), PhoneTime(None, now, now), fields, injury, [])
