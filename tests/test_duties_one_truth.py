"""Fault: the responsibilities page read the verneombud from two sources (site roles and the register).

The register (VerneombudTerm: chosen by the employees, the employer told in writing; AML § 6-1, forskrift om
organisering, ledelse og medvirkning §§ 3-1 to 3-4) is the law's record. A site role "verneombud" only gives
the app's permissions: every rule on the page reads the register, so no rule calls a verneombud "in place",
"present" or "signed" while the register rows say none is registered.
"""
import uuid
from datetime import date, datetime, timedelta

import pytest

from helpers import duties_period, duties_scope

from fieldapp.duties import rules, service
from fieldapp.models import Meeting, MeetingAttendance, RoundSignature, SafetyRound, VerneombudTerm
from fieldapp.rounds import service as rounds

TODAY = date(2026, 6, 15)


@pytest.fixture
def at_noon(frozen_clock):
    frozen_clock(datetime(2026, 6, 15, 10, 0))


def register_term(world, user, start=TODAY - timedelta(days=30), role="verneombud"):
    return VerneombudTerm.create(organization=world.org, user=user, site=world.site, role=role, how="election",
                                 elected_from=start, elected_to=service.term_end(start), notice_on=start)


def add_workers(world, n):
    for i in range(n):
        world.person(f"+4794{i:06d}", f"Worker {i}", "worker", world.site)


def test_site_role_alone_never_makes_the_verneombud_in_place(app, world, at_noon):
    # The world's site has a member with the site role "verneombud", and nothing in the register.
    with app.test_request_context():
        assert service.register(world.site, TODAY) == []
        term_duty = rules.verneombud_term(duties_scope(world), duties_period(TODAY), TODAY)
        in_place = rules.verneombud_in_place(duties_scope(world), duties_period(TODAY), TODAY)
    assert term_duty.status == in_place.status != rules.MET, in_place.reason


def test_five_workers_need_a_registered_verneombud(app, world, at_noon):
    # AML § 6-1 (1) since 1 January 2024: five or more employees. World: worker, foreman, verneombud (3).
    add_workers(world, 2)
    with app.test_request_context():
        assert rules.verneombud_in_place(duties_scope(world), duties_period(TODAY), TODAY).status == rules.NOT_MET
        register_term(world, world.people["verneombud"])
        assert rules.verneombud_in_place(duties_scope(world), duties_period(TODAY), TODAY).status == rules.MET


def test_fewer_than_five_without_a_verneombud_is_at_risk_not_met(app, world, at_noon):
    with app.test_request_context():
        duty = rules.verneombud_in_place(duties_scope(world), duties_period(TODAY), TODAY)
        assert duty.status == rules.AT_RISK
        register_term(world, world.people["verneombud"])
        assert rules.verneombud_in_place(duties_scope(world), duties_period(TODAY), TODAY).status == rules.MET


def signed_walkaround(world, signer, started_at):
    """A walkaround on the World's site started by the manager at `started_at`, signed an hour later by `signer`
    on the verneombud's side."""
    version = rounds.current_version(rounds.templates_for(world.site)[0])
    walk = SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version,
                              started_by=world.people["manager"], started_at=started_at)
    RoundSignature.create(uuid=uuid.uuid4(), round=walk, side="verneombud", signer=signer, device_user=signer,
                          signed_at=started_at + timedelta(hours=1))
    return walk


def test_walkaround_signed_by_the_site_role_only_is_not_the_verneombuds(app, world, at_noon):
    verneombud = world.people["verneombud"]
    signed_walkaround(world, verneombud, datetime(2026, 6, 10, 8, 0))
    with app.test_request_context():
        duty = rules.verneombud_walkarounds(duties_scope(world), duties_period(TODAY), TODAY)
        assert duty.status == rules.AT_RISK, duty.reason
        register_term(world, verneombud)
        assert rules.verneombud_walkarounds(duties_scope(world), duties_period(TODAY), TODAY).status == rules.MET


def test_walkaround_before_the_signers_term_does_not_count(app, world, at_noon):
    verneombud = world.people["verneombud"]
    signed_walkaround(world, verneombud, datetime(2026, 5, 1, 8, 0))
    register_term(world, verneombud, start=TODAY - timedelta(days=10))  # elected after the walkaround
    with app.test_request_context():
        assert rules.verneombud_walkarounds(duties_scope(world), duties_period(TODAY), TODAY).status == rules.AT_RISK


def test_meeting_attended_by_an_unregistered_verneombud_is_without_the_verneombud(app, world, at_noon):
    meeting = Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=3),
                             status="approved")
    MeetingAttendance.create(meeting=meeting, user=world.people["verneombud"], name="V", side="verneombud")
    with app.test_request_context():
        duty = rules.meetings_held(duties_scope(world), duties_period(TODAY), TODAY)
        assert duty.status == rules.NOT_MET and "verneombud" in duty.reason
        register_term(world, world.people["verneombud"])
        assert rules.meetings_held(duties_scope(world), duties_period(TODAY), TODAY).status == rules.MET
        data = service.pack_data(world.site, duties_period(TODAY), TODAY, "en")
        assert data["with_verneombud"] == {meeting.id}


def test_hours_list_the_registered_verneombud(app, world, at_noon):
    deputy = world.people["worker"]
    register_term(world, deputy, role="deputy")
    with app.test_request_context():
        people = [u.id for u, _hours, _walks in service.hours_summary(world.site, duties_period(TODAY))]
    assert people == [deputy.id]  # not the member whose site role is "verneombud"


def test_the_registered_verneombud_may_sign_the_verneombuds_side(app, world, at_noon):
    # A worker elected verneombud keeps the site role "worker": the register makes them a signer all the same,
    # so the walkaround rule's fix ("sign the round for the verneombud's side") can be carried out.
    version = rounds.current_version(rounds.templates_for(world.site)[0])
    elected = world.people["worker"]
    walk = SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version, started_by=world.people["manager"],
                              started_at=datetime(2026, 6, 10, 8, 0))
    assert elected.id not in [p.id for p in rounds.signers_for(walk)["verneombud"]]
    register_term(world, elected)
    signers = rounds.signers_for(walk)
    assert elected.id in [p.id for p in signers["verneombud"]]
    assert world.people["verneombud"].id in [p.id for p in signers["verneombud"]]  # the site role still may
