"""Issue 24: each duty's status rule crossing its boundary, the responsibilities page, own duties, the register."""
import io
import uuid
from datetime import date, datetime, timedelta

import pytest
from helpers import add_person, jpeg, png_header_only
from PIL import Image
from pypdf import PdfReader

from fieldapp.competence import service as competence
from fieldapp import pdf as pdfs
from fieldapp.duties import evidence, pack, reminders, rules, service
from fieldapp.duties.tasks import remind_orders_due, remind_terms_ending
from fieldapp.models import (Alert, AlertRecipient, AuditEvent, CheckIn, Equipment, FollowUp, InjuryDetails,
                             Inspection, InspectionOrder, Meeting, MeetingAttendance, MeetingSchedule, Membership,
                             OrderEvidence, Organization, PersonTask, Report, RoundSignature, SafetyRound, Site,
                             SiteEquipment, SiteRequirement, TrainingRecord, User, VerneombudHours, VerneombudTerm,
                             utcnow)
from fieldapp.rounds import service as rounds

TODAY = date(2026, 6, 15)


@pytest.fixture
def at_noon(frozen_clock):
    frozen_clock(datetime(2026, 6, 15, 10, 0))


def scope_of(world):
    return rules.Scope(world.org, [world.site], world.site.name)


def period():
    return rules.Period(TODAY - timedelta(days=89), TODAY)


def term(world, user=None, start=date(2025, 1, 1), end=None, role="verneombud", site="site", notice=date(2025, 1, 2)):
    return VerneombudTerm.create(organization=world.org, user=user or world.people["verneombud"],
                                 site=world.site if site == "site" else None, role=role,
                                 elected_from=start, elected_to=end or service.term_end(start), how="election",
                                 notice_on=notice)


def add_workers(world, n, first=0):
    for i in range(first, first + n):
        world.person(f"+4792{i:06d}", f"Worker {i}", "worker", world.site)


# --- the rules ---------------------------------------------------------------------------------------------------

def test_term_that_ended_yesterday_is_not_met(app, world, at_noon):
    term(world, start=TODAY - timedelta(days=730), end=TODAY - timedelta(days=1))
    with app.test_request_context():
        # The world's site has three workers: fewer than five may agree another arrangement (AML § 6-1 (1)).
        duty = rules.verneombud_term(scope_of(world), period(), TODAY)
        assert duty.status == rules.AT_RISK and "valgperiode er over" in duty.reason  # nb: the test language
        for i in range(2):
            world.person(f"+4796{i:06d}", f"Worker {i}", "worker", world.site)
        duty = rules.verneombud_term(scope_of(world), period(), TODAY)
    assert duty.status == rules.NOT_MET


def test_term_ending_today_is_at_risk_and_far_off_is_met(app, world, at_noon):
    t = term(world, start=TODAY - timedelta(days=729), end=TODAY)
    with app.test_request_context():
        assert rules.verneombud_term(scope_of(world), period(), TODAY).status == rules.AT_RISK
        t.elected_to = TODAY + timedelta(days=61)
        t.save()
        assert rules.verneombud_term(scope_of(world), period(), TODAY).status == rules.MET
        t.elected_to = TODAY + timedelta(days=60)
        t.save()
        assert rules.verneombud_term(scope_of(world), period(), TODAY).status == rules.AT_RISK


def test_term_without_written_notice_is_at_risk(app, world, at_noon):
    term(world, start=TODAY - timedelta(days=100), notice=None)
    with app.test_request_context():
        assert rules.verneombud_term(scope_of(world), period(), TODAY).status == rules.AT_RISK


def test_fifth_worker_without_verneombud_is_not_met(app, world, at_noon):
    # World has worker, foreman and verneombud (a site role, not in the register) on site A; the manager does not
    # count: 3. AML § 6-1 (1) since 2024: five or more need a verneombud; fewer may agree otherwise in writing.
    add_workers(world, 1)
    with app.test_request_context():
        assert rules.verneombud_in_place(scope_of(world), period(), TODAY).status == rules.AT_RISK
        add_workers(world, 1, first=1)  # the fifth
        duty = rules.verneombud_in_place(scope_of(world), period(), TODAY)
        assert duty.status == rules.NOT_MET
        # The page lists World's verneombud by role: "none registered" says why, or it reads as a contradiction.
        assert "valget registreres i registeret" in duty.reason
        term(world, start=TODAY - timedelta(days=10))
        assert rules.verneombud_in_place(rules.Scope(world.org, [world.site]), period(), TODAY).status == rules.MET


def test_fifth_worker_of_the_organization_over_two_sites_needs_a_verneombud(app, world, at_noon):
    # Site A has three workers (worker, foreman, verneombud); one on site B makes four, the next the fifth.
    world.person("+4793000000", "B Worker 0", "worker", world.other_site)
    with app.test_request_context():
        assert rules.verneombud_in_place(scope_of(world), period(), TODAY).status == rules.AT_RISK
        world.person("+4793999999", "B Worker 2", "worker", world.other_site)
        duty = rules.verneombud_in_place(scope_of(world), period(), TODAY)
        assert duty.status == rules.NOT_MET and "5" in duty.reason
        # A verneombud elected on site B: the business has one, but site A's register still shows none.
        VerneombudTerm.create(organization=world.org, user=world.outsider, site=world.other_site,
                              role="verneombud", how="election", elected_from=TODAY - timedelta(days=10),
                              elected_to=service.term_end(TODAY - timedelta(days=10)))
        assert rules.verneombud_in_place(scope_of(world), period(), TODAY).status == rules.AT_RISK
        both = [world.site, world.other_site]
        assert rules.verneombud_in_place(rules.Scope(world.org, both), period(), TODAY).status == rules.AT_RISK
        term(world, site=None, start=TODAY - timedelta(days=10))  # one for the whole organization
        assert rules.verneombud_in_place(rules.Scope(world.org, both), period(), TODAY).status == rules.MET


def test_walkaround_one_day_overdue_is_not_met(app, world, at_noon):
    with app.test_request_context():
        rounds.set_interval(world.people["manager"], world.site, 14)
        version = rounds.current_version(rounds.templates_for(world.site)[0])
        SafetyRound.create(uuid="00000000-0000-4000-8000-000000000001", site=world.site, version=version,
                           started_by=world.people["verneombud"], started_at=datetime(2026, 6, 1, 10, 0))
        assert rules.walkarounds(scope_of(world), period(), TODAY).status == rules.AT_RISK  # due today
        assert rules.walkarounds(scope_of(world), period(), TODAY + timedelta(days=1)).status == rules.NOT_MET
        assert rules.walkarounds(scope_of(world), period(), TODAY - timedelta(days=1)).status == rules.MET


def test_meeting_without_verneombud_is_not_met(app, world, at_noon):
    meeting = Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=3),
                             status="approved")
    MeetingAttendance.create(meeting=meeting, user=world.people["foreman"], name="Foreman Person", side="employer")
    with app.test_request_context():
        duty = rules.meetings_held(scope_of(world), period(), TODAY)
        assert duty.status == rules.NOT_MET and "verneombud" in duty.reason
        MeetingAttendance.create(meeting=meeting, user=world.people["verneombud"], name="V", side="verneombud")
        term(world, start=TODAY - timedelta(days=100))  # the register, not the site role, says who it is
        assert rules.meetings_held(scope_of(world), period(), TODAY).status == rules.MET


def test_follow_up_past_deadline_is_not_met(app, world, at_noon):
    report = world.report
    with app.test_request_context():
        # No deadline set: it can never be late, so it is not "met" (new-user test: met by default).
        assert rules.follow_ups(scope_of(world), period(), TODAY).status == rules.AT_RISK
        report.deadline = TODAY
        report.save()
        assert rules.follow_ups(scope_of(world), period(), TODAY).status == rules.AT_RISK
        report.deadline = TODAY - timedelta(days=1)
        report.save()
        assert rules.follow_ups(scope_of(world), period(), TODAY).status == rules.NOT_MET
        report.status = "closed"
        report.save()
        assert rules.follow_ups(scope_of(world), period(), TODAY).status == rules.MET
        # Three days ahead is at risk, four is not yet.
        report.status, report.deadline = "open", TODAY + timedelta(days=3)
        report.save()
        assert rules.follow_ups(scope_of(world), period(), TODAY).status == rules.AT_RISK
        report.deadline = TODAY + timedelta(days=4)
        report.save()
        assert rules.follow_ups(scope_of(world), period(), TODAY).status == rules.MET


def test_verneombud_walkarounds_need_the_verneombuds_signature(app, world, at_noon):
    version = rounds.current_version(rounds.templates_for(world.site)[0])
    verneombud, manager = world.people["verneombud"], world.people["manager"]

    def walk(day):
        return SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version, started_by=manager,
                                  started_at=datetime(2026, 6, day, 8, 0))

    def sign(walk_, side, who):
        RoundSignature.create(uuid=uuid.uuid4(), round=walk_, side=side, signer=who, device_user=who,
                              signed_at=walk_.started_at + timedelta(hours=1))

    term(world, start=TODAY - timedelta(days=200))  # registered before the walkarounds
    with app.test_request_context():
        assert rules.verneombud_walkarounds(scope_of(world), period(), TODAY).status == rules.NOT_MET  # none
        first = walk(10)
        sign(first, "employer", manager)  # only the employer's side
        duty = rules.verneombud_walkarounds(scope_of(world), period(), TODAY)
        assert duty.status == rules.AT_RISK and "1" in duty.reason
        sign(first, "verneombud", verneombud)
        assert rules.verneombud_walkarounds(scope_of(world), period(), TODAY).status == rules.MET
        second = walk(12)
        duty = rules.verneombud_walkarounds(scope_of(world), period(), TODAY)
        assert duty.status == rules.AT_RISK and "1" in duty.reason
        sign(second, "verneombud", verneombud)
        assert rules.verneombud_walkarounds(scope_of(world), period(), TODAY).status == rules.MET
        # A walkaround before the period does not count.
        RoundSignature.delete().where(RoundSignature.round == second.id).execute()
        SafetyRound.update(started_at=datetime(2026, 3, 1, 8, 0)).where(SafetyRound.id == second.id).execute()
        assert rules.verneombud_walkarounds(scope_of(world), period(), TODAY).status == rules.MET


def test_serious_injury_not_notified_is_not_met(app, world, at_noon):
    report = world.report
    report.kind = "injury"
    report.happened_at = datetime(2026, 6, 10, 8, 0)
    report.save()
    with app.test_request_context():
        assert rules.injuries(scope_of(world), period(), TODAY).status == rules.AT_RISK  # no details yet
        details = InjuryDetails.create(report=report, serious=True)
        assert rules.injuries(scope_of(world), period(), TODAY).status == rules.NOT_MET
        details.arbeidstilsynet_notified_at = utcnow()
        details.save()
        assert rules.injuries(scope_of(world), period(), TODAY).status == rules.MET


def test_verneombud_without_40_hours_is_not_met(app, world, at_noon):
    with app.test_request_context():
        assert rules.verneombud_training(scope_of(world), period(), TODAY).status == rules.AT_RISK  # none, 3 workers
        for i in range(2):
            world.person(f"+4796{i:06d}", f"Worker {i}", "worker", world.site)
        assert rules.verneombud_training(scope_of(world), period(), TODAY).status == rules.NOT_MET  # none, 5
        term(world, start=TODAY - timedelta(days=10))
        duty = rules.verneombud_training(scope_of(world), period(), TODAY)
        assert duty.status == rules.NOT_MET and "40" in duty.reason


# --- the register: a term is exactly two years -------------------------------------------------------------------

def test_term_end_is_two_years_less_a_day():
    assert service.term_end(date(2026, 1, 1)) == date(2027, 12, 31)
    assert service.term_end(date(2024, 2, 29)) == date(2026, 2, 28)


def form_for(world, **overrides):
    data = {"user": str(world.people["verneombud"].id), "role": "verneombud", "how": "election",
            "elected_from": "2026-01-01", "elected_to": "2027-12-31", "notice_on": "2026-01-05", "area": ""}
    data.update(overrides)
    return data


@pytest.mark.parametrize("overrides,field", [
    ({"elected_to": "2028-01-01"}, "elected_to"),  # not exactly two years
    ({"elected_to": "2025-12-01"}, "elected_to"),  # before the start
    ({"notice_on": "2026-06-16"}, "notice_on"),  # in the future
    ({"elected_from": ""}, "elected_from"),
    ({"user": str(10 ** 6)}, "user"),
])
def test_bad_term_is_refused_and_nothing_saved(as_role, world, at_noon, overrides, field):
    client = as_role("manager")
    response = client.post(f"/s/{world.site.id}/verneombud", data=form_for(world, **overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert VerneombudTerm.select().count() == 0


def test_manager_records_a_term_and_it_is_audited(as_role, world, at_noon):
    client = as_role("manager")
    response = client.post(f"/s/{world.site.id}/verneombud", data=form_for(world))
    assert response.status_code == 303
    saved = VerneombudTerm.get()
    assert (saved.elected_from, saved.elected_to, saved.site_id) == (date(2026, 1, 1), date(2027, 12, 31),
                                                                      world.site.id)
    page = client.get(f"/s/{world.site.id}/verneombud").get_data(as_text=True)
    assert "Verneombud Person" in page
    assert AuditEvent.select().where(AuditEvent.action == "verneombud.term").count() == 1


def test_verneombud_may_not_record_a_term(as_role, world, at_noon):
    response = as_role("verneombud").post(f"/s/{world.site.id}/verneombud", data=form_for(world))
    assert response.status_code == 403
    assert VerneombudTerm.select().count() == 0


# --- the pages in both languages ------------------------------------------------------------------------------

def set_language(user, language):
    User.update(language=language).where(User.id == user.id).execute()


@pytest.mark.parametrize("language,heading,section", [("en", "Who is responsible for what", "The safety representative (verneombud)"),
                                                      ("nb", "Hvem har ansvar for hva", "Verneombudet")])
def test_responsibilities_page(as_role, world, at_noon, language, heading, section):
    set_language(world.people["foreman"], language)
    response = as_role("foreman").get(f"/s/{world.site.id}/duties?days=30")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert heading in html and section in html
    assert 'data-duty="verneombud_term" data-status="at_risk"' in html  # three workers, none registered
    assert 'data-duty="orders" data-status="met"' in html  # no orders recorded
    assert f'href="/s/{world.site.id}/verneombud"' in html


def test_organization_scope_and_bad_period(as_role, world, at_noon):
    client = as_role("manager")
    assert client.get(f"/s/{world.site.id}/duties?scope=org").status_code == 200
    response = client.get(f"/s/{world.site.id}/duties?days=0")
    assert response.status_code == 422


def test_worker_may_not_see_the_responsibilities_page(as_role, world):
    assert as_role("worker").get(f"/s/{world.site.id}/duties").status_code == 403


@pytest.mark.parametrize("language,text", [("en", "You may stop work and leave"),
                                           ("nb", "Du kan stanse arbeidet")])
def test_worker_reads_own_duties_and_rights(as_role, world, language, text):
    set_language(world.people["worker"], language)
    client = as_role("worker")
    assert "/me/duties" in client.get("/me").get_data(as_text=True)
    html = client.get("/me/duties").get_data(as_text=True)
    assert text in html and "AML § 2-3 (3)" in html
    assert 'id="role-manager"' not in html


def test_verneombud_sees_the_right_to_stop_work(as_role, world):
    html = as_role("verneombud").get("/me/duties").get_data(as_text=True)
    assert 'id="role-verneombud"' in html and "AML § 6-3" in html


def test_membership_count_unchanged(world):
    assert Membership.select().count() == 5 and Report.select().count() == 1


# --- the reminder when a term ends within 60 days ----------------------------------------------------------------

def test_term_reminder_is_sent_once_at_60_days(app, world, frozen_clock):
    t = term(world, start=date(2024, 8, 15))  # ends 2026-08-14
    assert t.elected_to == date(2026, 8, 14)
    with app.app_context():
        frozen_clock(datetime(2026, 6, 14, 6, 0))  # 61 days before: nothing yet
        assert reminders.run() == {"terms": 0, "alerts": 0, "failed": 0}
        frozen_clock(datetime(2026, 6, 15, 6, 0))  # 60 days before
        result = remind_terms_ending.call_local()
        assert result == {"terms": 1, "alerts": 2, "failed": 0}  # the verneombud and the site's manager
        assert reminders.run() == {"terms": 0, "alerts": 0, "failed": 0}  # once per term
        frozen_clock(datetime(2026, 7, 1, 6, 0))
        assert reminders.run() == {"terms": 0, "alerts": 0, "failed": 0}
    readers = {r.user_id for r in AlertRecipient.select()}
    assert readers == {world.people["verneombud"].id, world.people["manager"].id}
    assert all("Verneombud Person" in a.body for a in Alert.select())


# --- the attendance list complete (byggherreforskriften § 15) ------------------------------------------------------

def check_in(world, user, at=datetime(2026, 6, 10, 6, 0)):
    return CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=user, name=user.name, employer_name="Fjordbygg AS",
                          employer_org_number="923609016", checked_in_at=at, checked_out_at=at + timedelta(hours=8))


def test_attendance_list_incomplete_while_someone_lacks_a_date_of_birth(app, world, at_noon):
    with app.test_request_context():
        assert rules.attendance_list(scope_of(world), period(), TODAY).status == rules.NOT_MET  # nobody checked in
        check_in(world, world.people["worker"])
        duty = rules.attendance_list(scope_of(world), period(), TODAY)
        assert duty.status == rules.NOT_MET and "fødselsdato" in duty.reason  # the default language: nb
        User.update(date_of_birth=date(1990, 5, 1)).where(User.id == world.people["worker"].id).execute()
        assert rules.attendance_list(scope_of(world), period(), TODAY).status == rules.MET


def test_date_of_birth_in_the_future_is_refused(as_role, world, at_noon):
    worker = world.people["worker"]
    response = as_role("foreman").post(f"/s/{world.site.id}/people/{worker.id}/attendance-details",
                                       data={"date_of_birth": "2026-06-16", "agency_name": "Bemanning AS",
                                             "agency_org_number": "974760673"})
    assert response.status_code == 422
    assert 'id="date_of_birth-error"' in response.get_data(as_text=True)
    fresh = User.get_by_id(worker.id)
    assert fresh.date_of_birth is None and fresh.staffing_agency_id is None


def test_bad_agency_number_is_refused(as_role, world, at_noon):
    worker = world.people["worker"]
    response = as_role("foreman").post(f"/s/{world.site.id}/people/{worker.id}/attendance-details",
                                       data={"date_of_birth": "1990-05-01", "agency_name": "Bemanning AS",
                                             "agency_org_number": "974760674"})
    assert response.status_code == 422
    assert User.get_by_id(worker.id).date_of_birth is None


def test_date_of_birth_and_agency_shown_on_the_attendance_list_only(as_role, world, at_noon):
    worker = world.people["worker"]
    foreman = as_role("foreman")
    response = foreman.post(f"/s/{world.site.id}/people/{worker.id}/attendance-details",
                            data={"date_of_birth": "1990-05-01", "agency_name": "Bemanning AS",
                                  "agency_org_number": "974 760 673"})
    assert response.status_code == 303
    check_in(world, worker)
    period_args = "?from=2026-06-10&to=2026-06-10"
    page = foreman.get(f"/s/{world.site.id}/attendance{period_args}").get_data(as_text=True)
    assert "1990-05-01" in page and "Bemanning AS (974760673)" in page
    csv = foreman.get(f"/s/{world.site.id}/attendance.csv{period_args}").get_data(as_text=True)
    assert "1990-05-01" in csv and "974760673" in csv
    pdf = foreman.get(f"/s/{world.site.id}/attendance.pdf{period_args}").data
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "1990-05-01" in text and "Bemanning AS" in text
    # Nowhere else: the person's page, the competence files.
    assert "1990-05-01" not in foreman.get(f"/s/{world.site.id}/people/{worker.id}").get_data(as_text=True)
    assert "1990-05-01" not in foreman.get(f"/s/{world.site.id}/competence.csv").get_data(as_text=True)
    assert AuditEvent.select().where(AuditEvent.action == "person.s15").count() == 1
    assert "1990" not in AuditEvent.get(AuditEvent.action == "person.s15").after


# --- Arbeidstilsynet: inspections and orders ----------------------------------------------------------------------

def inspection_form(**overrides):
    data = {"held_on": "2026-06-01", "reference": "2026/12345", "sanction": "none", "note": "",
            "order_text": ["Secure the open edges on floor 3", ""], "order_deadline": ["2026-06-20", ""]}
    data.update(overrides)
    return data


@pytest.mark.parametrize("overrides,field", [
    ({"order_deadline": ["", ""]}, "order_deadline"),  # an order without a deadline
    ({"held_on": "2026-06-16"}, "held_on"),  # in the future
    ({"reference": ""}, "reference"),
])
def test_bad_inspection_is_refused_and_nothing_saved(as_role, world, at_noon, overrides, field):
    response = as_role("manager").post(f"/s/{world.site.id}/inspections", data=inspection_form(**overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert Inspection.select().count() == 0 and InspectionOrder.select().count() == 0


def test_order_status_crosses_its_deadline_and_closes(as_role, world, frozen_clock):
    frozen_clock(datetime(2026, 6, 15, 10, 0))
    client = as_role("manager")
    assert client.post(f"/s/{world.site.id}/inspections", data=inspection_form()).status_code == 303
    order = InspectionOrder.get()
    assert order.deadline == date(2026, 6, 20)
    scope = scope_of(world)
    with client.application.test_request_context():
        assert rules.orders(scope, period(), date(2026, 6, 12)).status == rules.MET  # 8 days left
        assert rules.orders(scope, period(), date(2026, 6, 13)).status == rules.AT_RISK  # a week
        assert rules.orders(scope, period(), date(2026, 6, 20)).status == rules.AT_RISK  # the deadline itself
        assert rules.orders(scope, period(), date(2026, 6, 21)).status == rules.NOT_MET  # a day past
    page = client.get(f"/s/{world.site.id}/duties").get_data(as_text=True)
    assert "Secure the open edges on floor 3" in page
    # Closing needs a response; a report of another site is refused.
    close = f"/s/{world.site.id}/inspections/orders/{order.id}/close"
    assert client.post(close, data={"response": ""}).status_code == 422
    assert client.post(close, data={"response": "Done", "report": "999"}).status_code == 422
    assert InspectionOrder.get().closed_at is None
    assert client.post(close, data={"response": "Railings up", "report": str(world.report.id)}).status_code == 303
    closed = InspectionOrder.get()
    assert closed.closed_at is not None and closed.report_id == world.report.id
    assert client.post(close, data={"response": "Again"}).status_code == 409
    with client.application.test_request_context():
        assert rules.orders(scope, period(), date(2026, 6, 21)).status == rules.MET
    assert AuditEvent.select().where(AuditEvent.action.startswith("inspection.")).count() == 2


def test_foreman_reads_inspections_but_may_not_record(as_role, world):
    client = as_role("foreman")
    assert client.get(f"/s/{world.site.id}/inspections").status_code == 200
    assert client.post(f"/s/{world.site.id}/inspections", data=inspection_form()).status_code == 403


def test_order_reminder_is_sent_once_a_week_before(as_role, world, frozen_clock):
    frozen_clock(datetime(2026, 6, 10, 10, 0))
    client = as_role("manager")
    assert client.post(f"/s/{world.site.id}/inspections",
                       data=inspection_form(held_on="2026-06-01")).status_code == 303  # due 2026-06-20
    with client.application.app_context():
        frozen_clock(datetime(2026, 6, 12, 6, 0))  # 8 days before
        assert reminders.run_orders() == {"orders": 0, "alerts": 0, "failed": 0}
        frozen_clock(datetime(2026, 6, 13, 6, 0))  # 7 days before
        assert remind_orders_due.call_local() == {"orders": 1, "alerts": 1, "failed": 0}
        assert reminders.run_orders() == {"orders": 0, "alerts": 0, "failed": 0}
    copy = AlertRecipient.get()
    assert copy.user_id == world.people["manager"].id
    assert "Secure the open edges" in Alert.get().body


# --- the inspector's pack ---------------------------------------------------------------------------------------

def test_inspector_pack_is_a_real_pdf_without_medical_details(as_role, world, frozen_clock):
    frozen_clock(datetime(2026, 6, 15, 10, 0))
    report = world.report
    report.kind, report.happened_at, report.place = "injury", datetime(2026, 6, 10, 8, 0), "Stair tower"
    report.save()
    InjuryDetails.create(report=report, serious=True, notes="Fractured wrist, treated at the A&E",
                         absence_beyond_day=True, absence_days=3)
    term(world, start=date(2026, 1, 1))
    check_in(world, world.people["worker"])
    # Started at 00:30 on 14 June in Oslo (22:30 UTC the day before): listed on the site's day, not UTC's.
    version = rounds.current_version(rounds.templates_for(world.site)[0])
    SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version, started_by=world.people["verneombud"],
                       started_at=datetime(2026, 6, 13, 22, 30))
    client = as_role("manager")
    assert client.post(f"/s/{world.site.id}/inspections", data=inspection_form()).status_code == 303
    response = client.get(f"/s/{world.site.id}/duties/inspector-pack.pdf?days=30")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Site A" in text and "2026-05-17" in text  # the period: 30 days ending today
    assert "Stair tower" in " ".join(text.split())  # the injury register (may wrap between words)
    assert "Fractured wrist" not in text  # ... without medical details
    assert "Secure the open edges on floor 3" in text and "2026/12345" in text  # open orders
    assert "Verneombud Person" in text
    assert "2026-06-14" in text and "2026-06-13" not in text  # the walkaround on the site's day
    assert as_role("foreman").get(f"/s/{world.site.id}/duties/inspector-pack.pdf").status_code == 403


# --- the verneombud's hours --------------------------------------------------------------------------------------

def test_verneombud_records_hours_and_walkarounds_count_by_themselves(as_role, world, at_noon):
    client = as_role("verneombud")
    url = f"/s/{world.site.id}/verneombud/hours"
    assert client.post(url, data={"worked_on": "2026-06-16", "hours": "2"}).status_code == 422  # future
    assert client.post(url, data={"worked_on": "2026-06-14", "hours": "25"}).status_code == 422
    assert VerneombudHours.select().count() == 0
    assert client.post(url, data={"worked_on": "2026-06-14", "hours": "1,5", "note": "SJA review"}).status_code == 303
    version = rounds.current_version(rounds.templates_for(world.site)[0])
    walk = SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version,
                              started_by=world.people["verneombud"], started_at=datetime(2026, 6, 12, 8, 0))
    RoundSignature.create(uuid=uuid.uuid4(), round=walk, side="verneombud", signer=world.people["verneombud"],
                          device_user=world.people["verneombud"], signed_at=datetime(2026, 6, 12, 9, 0))
    with client.application.test_request_context():
        rows = service.hours_summary(world.site, period())
    assert [(u.id, h, w) for u, h, w in rows] == [(world.people["verneombud"].id, 1.5, 1)]
    # The employer sees them; a worker may not record any.
    assert "Verneombud Person" in as_role("manager").get(f"/s/{world.site.id}/verneombud").get_data(as_text=True)
    assert as_role("worker").post(url, data={"worked_on": "2026-06-14", "hours": "1"}).status_code == 403


# --- the organization's page in a fixed number of queries (bench/duties.py times it) ---------------------------------

def test_org_matrix_counts_match_each_sites_matrix(app, world, at_noon):
    SiteRequirement.create(site=world.site, course="first_aid")
    SiteRequirement.create(site=world.site, course="truck", task="truck_driver")
    SiteRequirement.create(site=world.other_site, course="first_aid")
    PersonTask.create(site=world.site, user=world.people["worker"], task="truck_driver")
    TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=world.people["foreman"], course="first_aid",
                          taken_on=date(2025, 1, 1),
                          expires_on=date(2026, 7, 1), status="approved")
    with app.test_request_context():
        counts = competence.matrix_counts([world.site, world.other_site])
        for site in (world.site, world.other_site):
            assert counts[site.id] == competence.matrix(site).counts
    assert counts[world.site.id]["missing"] == 4  # three without first aid, the driver without a truck licence
    assert counts[world.site.id]["expires_30"] == 1


def test_org_page_queries_do_not_grow_with_sites(as_role, world, at_noon, count_queries):
    client = as_role("manager")
    url = f"/s/{world.site.id}/duties?scope=org"
    client.get(url)
    count_queries.queries.clear()
    assert client.get(url).status_code == 200
    few = len(count_queries.queries)
    for i in range(5):
        site = Site.create(organization=world.org, name=f"Extra {i}", address="Gate", qr_token=f"extra-{i}")
        Membership.create(user=world.people["manager"], site=site, role="manager")
    count_queries.queries.clear()
    assert client.get(url).status_code == 200
    assert len(count_queries.queries) == few


# --- hired-in workers and their staffing agency (byggherreforskriften § 15) ------------------------------------------

def test_hired_in_worker_without_agency_makes_the_list_incomplete(app, world, at_noon):
    worker = world.people["worker"]
    User.update(date_of_birth=date(1990, 5, 1)).where(User.id == worker.id).execute()
    check_in(world, worker)
    with app.test_request_context():
        assert rules.attendance_list(scope_of(world), period(), TODAY).status == rules.MET  # not hired in
        User.update(hired_in=True).where(User.id == worker.id).execute()
        duty = rules.attendance_list(scope_of(world), period(), TODAY)
        assert duty.status == rules.NOT_MET and "bemanningsforetak" in duty.reason
        assert "fødselsdato" not in duty.reason
        User.update(staffing_agency=world.sub).where(User.id == worker.id).execute()
        assert rules.attendance_list(scope_of(world), period(), TODAY).status == rules.MET


@pytest.mark.parametrize("language,text", [
    ("nb", "Listen er ufullstendig: 1 innleid arbeidstaker på den mangler bemanningsforetaket."),
    ("en", "The list is incomplete: 1 hired-in worker on it lacks the staffing agency.")])
def test_responsibilities_page_shows_the_list_incomplete_for_a_hired_in_worker(as_role, world, at_noon, language,
                                                                               text):
    worker = world.people["worker"]
    User.update(date_of_birth=date(1990, 5, 1), hired_in=True).where(User.id == worker.id).execute()
    check_in(world, worker)
    set_language(world.people["manager"], language)
    page = as_role("manager").get(f"/s/{world.site.id}/duties").get_data(as_text=True)
    assert text in page and 'data-duty="attendance" data-status="not_met"' in page


@pytest.mark.parametrize("language,words", [
    ("nb", ("Legg til bilder eller dokumenter", "Melding", "Bilde som dokumentasjon")),
    ("en", ("Add photos or documents", "and its follow-up", "Photo of the evidence"))])
def test_order_with_evidence_in_both_languages(as_role, world, at_noon, language, words):
    order = order_on_site(as_role, world)
    client = as_role("manager")
    client.post(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence", data=upload((jpeg(), "a.jpg")),
                content_type="multipart/form-data")
    InspectionOrder.update(report=world.report).execute()
    set_language(world.people["manager"], language)
    page = client.get(f"/s/{world.site.id}/inspections").get_data(as_text=True)
    assert all(word in page for word in words)


def test_hired_in_and_agency_recorded_where_a_person_is_added(as_role, world, at_noon):
    manager = as_role("manager")
    # A bad agency number: nothing is saved, the person is not created.
    bad = add_person(manager, world.site, employer=str(world.org.id), hired_in="1", agency_name="Bemanning AS",
                     agency_org_number="974760674")
    assert bad.status_code == 422 and 'id="agency_org_number-error"' in bad.get_data(as_text=True)
    assert User.get_or_none(User.name == "Ny Arbeider") is None
    # A name without a number is refused too.
    assert add_person(manager, world.site, employer=str(world.org.id), agency_name="Bemanning AS").status_code == 422
    ok = add_person(manager, world.site, employer=str(world.org.id), hired_in="1", agency_name="Bemanning AS",
                    agency_org_number="974 760 673")
    assert ok.status_code == 201
    person = User.get(User.name == "Ny Arbeider")
    assert person.hired_in and person.staffing_agency.org_number == "974760673"
    # Hired in, agency not known yet: saved, and the list will show itself incomplete.
    later = add_person(manager, world.site, employer=str(world.org.id), phone="45 00 00 02", name="Innleid Uten",
                       hired_in="1")
    assert later.status_code == 201
    other = User.get(User.name == "Innleid Uten")
    assert other.hired_in and other.staffing_agency_id is None
    # Not hired in: nothing recorded.
    add_person(manager, world.site, employer=str(world.org.id), phone="45 00 00 03", name="Egen Ansatt")
    assert not User.get(User.name == "Egen Ansatt").hired_in


def test_hired_in_without_agency_is_flagged_on_the_attendance_list(as_role, world, at_noon):
    worker = world.people["worker"]
    foreman = as_role("foreman")
    url = f"/s/{world.site.id}/people/{worker.id}/attendance-details"
    assert foreman.post(url, data={"date_of_birth": "1990-05-01", "hired_in": "1"}).status_code == 303
    assert User.get_by_id(worker.id).hired_in
    assert 'name="hired_in" value="1" checked' in foreman.get(url).get_data(as_text=True)
    check_in(world, worker)
    period_args = "?from=2026-06-10&to=2026-06-10"
    page = foreman.get(f"/s/{world.site.id}/attendance{period_args}").get_data(as_text=True)
    assert "Mangler (innleid)" in page
    csv = foreman.get(f"/s/{world.site.id}/attendance.csv{period_args}").get_data(as_text=True)
    assert "Mangler (innleid)" in csv
    # An agency given means hired in, and the flag goes.
    assert foreman.post(url, data={"date_of_birth": "1990-05-01", "agency_name": "Bemanning AS",
                                   "agency_org_number": "974760673"}).status_code == 303
    assert User.get_by_id(worker.id).hired_in
    page = foreman.get(f"/s/{world.site.id}/attendance{period_args}").get_data(as_text=True)
    assert "Mangler (innleid)" not in page and "Bemanning AS (974760673)" in page


# --- the evidence that closes an order: photos and documents -------------------------------------------------------

PDF_DOC = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def upload(*files):
    return {"evidence": [(io.BytesIO(data), name) for data, name in files]}


def order_on_site(as_role, world):
    assert as_role("manager").post(f"/s/{world.site.id}/inspections", data=inspection_form()).status_code == 303
    return InspectionOrder.get()


def test_photos_and_documents_are_evidence_on_the_order(as_role, world, at_noon):
    order = order_on_site(as_role, world)
    client = as_role("manager")
    url = f"/s/{world.site.id}/inspections/orders/{order.id}/evidence"
    files = upload((jpeg(gps=True), "railing.jpg"), (PDF_DOC, "invoice-railings.pdf"))
    response = client.post(url, data=files, content_type="multipart/form-data")
    assert response.status_code == 303
    rows = {e.kind: e for e in OrderEvidence.select()}
    assert set(rows) == {"photo", "document"} and rows["document"].name == "invoice-railings.pdf"
    # Sent twice = saved once.
    again = upload((jpeg(gps=True), "railing.jpg"), (PDF_DOC, "invoice-railings.pdf"))
    assert client.post(url, data=again, content_type="multipart/form-data").status_code == 303
    assert OrderEvidence.select().count() == 2
    # Shown on the order, one tap away; the photo re-encoded without its metadata.
    page = client.get(f"/s/{world.site.id}/inspections").get_data(as_text=True)
    photo_url = f"/s/{world.site.id}/inspections/orders/{order.id}/evidence/{rows['photo'].digest}.jpg"
    doc_url = f"/s/{world.site.id}/inspections/orders/{order.id}/evidence/{rows['document'].digest}.pdf"
    assert photo_url in page and doc_url in page and "invoice-railings.pdf" in page
    foreman = as_role("foreman")  # reads the inspections page: sees the evidence
    photo = foreman.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(photo.data))
    assert 0x8825 not in image.getexif() and 0x010F not in image.getexif()
    thumb = foreman.get(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence/{rows['photo'].digest}/thumb.jpg")
    assert thumb.status_code == 200
    document = foreman.get(doc_url)
    assert document.status_code == 200 and document.data == PDF_DOC
    assert document.headers["Content-Disposition"].startswith("attachment")
    # Not on another site, not for a worker, not as the other kind.
    assert as_role("outsider").get(photo_url.replace(f"/s/{world.site.id}/", f"/s/{world.other_site.id}/")
                                   ).status_code == 404
    assert as_role("worker").get(photo_url).status_code == 403
    assert foreman.get(doc_url.replace(".pdf", ".jpg")).status_code == 404
    assert AuditEvent.select().where(AuditEvent.action == "inspection.order.evidence").count() == 1


@pytest.mark.parametrize("files,status,reason", [
    ([(b"just some text", "note.txt")], 415, "verken et bilde eller en PDF"),
    ([(b"", "empty.jpg")], 422, "tom"),
    ([], 422, "Velg et bilde eller et PDF-dokument"),
    ([(jpeg(), f"{i}.jpg") for i in range(7)], 422, "filer"),
    ([(png_header_only(20000, 20000), "bomb.png")], 413, "piksler"),
    ([(jpeg(), "ok.jpg"), (b"GIF89a....", "x.gif")], 415, "verken et bilde eller en PDF"),
])
def test_bad_evidence_is_refused_and_nothing_saved(as_role, world, at_noon, files, status, reason):
    order = order_on_site(as_role, world)
    response = as_role("manager").post(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence",
                                       data=upload(*files), content_type="multipart/form-data")
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert reason in body and 'id="evidence-error"' in body
    assert OrderEvidence.select().count() == 0


def test_document_over_the_cap_is_refused(as_role, world, at_noon, monkeypatch):
    monkeypatch.setattr(evidence, "MAX_DOCUMENT_BYTES", len(PDF_DOC) - 1)
    order = order_on_site(as_role, world)
    response = as_role("manager").post(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence",
                                       data=upload((PDF_DOC, "big.pdf")), content_type="multipart/form-data")
    assert response.status_code == 413 and OrderEvidence.select().count() == 0


def test_evidence_needs_the_manager_and_the_sites_order(as_role, world, at_noon):
    order = order_on_site(as_role, world)
    url = f"/s/{world.site.id}/inspections/orders/{order.id}/evidence"
    assert as_role("foreman").post(url, data=upload((jpeg(), "a.jpg")),
                                   content_type="multipart/form-data").status_code == 403
    other = as_role("outsider").post(f"/s/{world.other_site.id}/inspections/orders/{order.id}/evidence",
                                     data=upload((jpeg(), "a.jpg")), content_type="multipart/form-data")
    assert other.status_code == 404 and OrderEvidence.select().count() == 0


def test_closing_with_evidence_and_a_bad_file_closes_nothing(as_role, world, at_noon):
    order = order_on_site(as_role, world)
    client = as_role("manager")
    close = f"/s/{world.site.id}/inspections/orders/{order.id}/close"
    bad = client.post(close, data={"response": "Railings up", **upload((b"plain text", "a.txt"))},
                      content_type="multipart/form-data")
    assert bad.status_code == 415
    assert InspectionOrder.get().closed_at is None and OrderEvidence.select().count() == 0
    ok = client.post(close, data={"response": "Railings up", "report": str(world.report.id),
                                  **upload((jpeg(), "done.jpg"))}, content_type="multipart/form-data")
    assert ok.status_code == 303
    closed = InspectionOrder.get()
    assert closed.closed_at is not None and [e.kind for e in closed.evidence] == ["photo"]
    page = client.get(f"/s/{world.site.id}/inspections").get_data(as_text=True)
    assert f"/s/{world.site.id}/reports/{world.report.id}" in page


def test_inspector_pack_lists_each_orders_evidence(as_role, world, frozen_clock):
    frozen_clock(datetime(2026, 6, 15, 10, 0))
    order = order_on_site(as_role, world)
    client = as_role("manager")
    assert client.post(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence",
                       data=upload((jpeg(), "railing-north.jpg"), (PDF_DOC, "invoice-railings.pdf")),
                       content_type="multipart/form-data").status_code == 303
    response = client.get(f"/s/{world.site.id}/duties/inspector-pack.pdf?days=30")
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "railing-north.jpg" in text and "invoice-railings.pdf" in text
    assert sum(len(page.images) for page in reader.pages) == 1  # the photo's thumbnail
    # Closed in the period: still in the pack, with its response.
    assert client.post(f"/s/{world.site.id}/inspections/orders/{order.id}/close",
                       data={"response": "Railings mounted on all floors"}).status_code == 303
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(
        client.get(f"/s/{world.site.id}/duties/inspector-pack.pdf?days=30").data)).pages)
    assert "Railings mounted on all floors" in text and "invoice-railings.pdf" in text


def test_adding_a_known_person_as_hired_in_records_it_once(as_role, world, at_noon):
    manager = as_role("manager")
    # The outsider is a person of the organization on site B: added to site A, marked hired in with an agency.
    response = add_person(manager, world.site, employer=str(world.org.id), phone=world.outsider.phone,
                          name=world.outsider.name, hired_in="1", agency_name="Bemanning AS",
                          agency_org_number="974760673")
    assert response.status_code in (201, 303)
    person = User.get_by_id(world.outsider.id)
    assert person.hired_in and person.staffing_agency.org_number == "974760673"
    assert AuditEvent.select().where((AuditEvent.action == "person.s15")
                                     & (AuditEvent.record_id == person.id)).count() == 1
    # Already on the site: refused, and nothing about the agency changes.
    again = add_person(manager, world.site, employer=str(world.org.id), phone=world.outsider.phone,
                       name=world.outsider.name, hired_in="1", agency_name="Annet Byrå AS",
                       agency_org_number="914778204")
    assert again.status_code == 409
    assert User.get_by_id(world.outsider.id).staffing_agency.org_number == "974760673"


# --- the typed staffing agency is never swapped, renamed or made from the employer (new-user test) ----------------

AGENCY_MESSAGES = {
    "nb": {"employer": "Bemanningsforetaket kan ikke være personens egen arbeidsgiver",
           "differs": "Organisasjonsnummer 987654325 tilhører Nordlys Elektro AS"},
    "en": {"employer": "The staffing agency cannot be the person's own employer",
           "differs": "Organisation number 987654325 belongs to Nordlys Elektro AS"},
}


def organizations():
    return sorted((o.name, o.org_number) for o in Organization.select())


@pytest.mark.parametrize("language", ["nb", "en"])
def test_agency_with_the_employers_number_is_refused_where_a_person_is_added(as_role, world, at_noon, language):
    set_language(world.people["manager"], language)
    manager = as_role("manager")
    before = organizations()
    response = add_person(manager, world.site, employer=str(world.org.id), name="Jonas Innleid", hired_in="1",
                          agency_name="Bemanning Øst AS", agency_org_number="923609016")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="agency_org_number-error"' in page
    assert AGENCY_MESSAGES[language]["employer"] in page.replace("&#39;", "'")
    assert User.get_or_none(User.name == "Jonas Innleid") is None and organizations() == before
    # A new employer with the same number as the agency: refused too, neither organization made.
    response = add_person(manager, world.site, name="Jonas Innleid", hired_in="1", new_employer_name="Ny AS",
                          new_employer_org_number="914778204", agency_name="Bemanning Øst AS",
                          agency_org_number="914778204")
    assert response.status_code == 422 and organizations() == before


@pytest.mark.parametrize("language", ["nb", "en"])
def test_known_number_under_another_name_is_not_swapped_in(as_role, world, at_noon, language):
    set_language(world.people["manager"], language)
    manager = as_role("manager")
    before = organizations()
    # 987654325 is Nordlys Elektro AS (known, not the employer): the typed name is not swapped for it.
    response = add_person(manager, world.site, employer=str(world.org.id), name="Jonas Innleid", hired_in="1",
                          agency_name="Bemanning Øst AS", agency_org_number="987654325")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and AGENCY_MESSAGES[language]["differs"] in page
    assert User.get_or_none(User.name == "Jonas Innleid") is None and organizations() == before
    # The same name typed as registered is taken (case and spaces aside).
    ok = add_person(manager, world.site, employer=str(world.org.id), name="Jonas Innleid", hired_in="1",
                    agency_name="nordlys  elektro as", agency_org_number="987 654 325")
    assert ok.status_code == 201
    assert User.get(User.name == "Jonas Innleid").staffing_agency_id == world.sub.id
    assert organizations() == before


@pytest.mark.parametrize("language", ["nb", "en"])
def test_editing_the_agency_replaces_the_link_and_renames_nothing(as_role, world, at_noon, language):
    worker = world.people["worker"]  # employed by Fjordbygg AS
    set_language(world.people["foreman"], language)
    foreman = as_role("foreman")
    url = f"/s/{world.site.id}/people/{worker.id}/attendance-details"
    before = organizations()
    # The employer's own number as the agency: refused beside the field, nothing saved.
    response = foreman.post(url, data={"date_of_birth": "1990-05-01", "agency_name": "Bemanning Øst AS",
                                       "agency_org_number": "923609016"})
    assert response.status_code == 422
    assert AGENCY_MESSAGES[language]["employer"] in response.get_data(as_text=True).replace("&#39;", "'")
    fresh = User.get_by_id(worker.id)
    assert fresh.staffing_agency_id is None and fresh.date_of_birth is None and organizations() == before
    # Only the number changed while the employer's name is still typed: no "Fjordbygg AS" with another number.
    response = foreman.post(url, data={"date_of_birth": "1990-05-01", "agency_name": "Fjordbygg AS",
                                       "agency_org_number": "914778204"})
    assert response.status_code == 422 and organizations() == before
    assert User.get_by_id(worker.id).staffing_agency_id is None
    # The right name and number: a new agency with exactly that name, linked to the person.
    assert foreman.post(url, data={"date_of_birth": "1990-05-01", "agency_name": "Bemanning Øst AS",
                                   "agency_org_number": "914778204"}).status_code == 303
    agency = User.get_by_id(worker.id).staffing_agency
    assert (agency.name, agency.org_number) == ("Bemanning Øst AS", "914778204")
    # Changing to another known agency replaces the link; neither organization is renamed.
    assert foreman.post(url, data={"date_of_birth": "1990-05-01", "agency_name": "Nordlys Elektro AS",
                                   "agency_org_number": "987654325"}).status_code == 303
    assert User.get_by_id(worker.id).staffing_agency_id == world.sub.id
    assert organizations() == sorted(before + [("Bemanning Øst AS", "914778204")])


# --- a duty with nothing to measure against is never "met" (new-user test) ----------------------------------------

def test_no_meeting_and_no_schedule_is_at_risk_with_the_schedule_as_fix(app, world, at_noon):
    with app.test_request_context():
        duty = rules.meetings_held(scope_of(world), period(), TODAY)
        assert duty.status == rules.AT_RISK
        assert duty.fix_link == ("meetings.settings", {"site_id": world.site.id, "_anchor": "schedule"})
        # A schedule of its own, still no meeting: at risk, and the fix is to call it.
        MeetingSchedule.create(organization=world.org, site=world.site, kind="hms", interval_days=28)
        duty = rules.meetings_held(scope_of(world), period(), TODAY)
        assert duty.status == rules.AT_RISK and duty.fix_link is None
        # One meeting held with the verneombud: met.
        meeting = Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY, status="approved")
        MeetingAttendance.create(meeting=meeting, user=world.people["verneombud"], name="V", side="verneombud")
        term(world, start=TODAY - timedelta(days=100))  # the register, not the site role, says who it is
        assert rules.meetings_held(scope_of(world), period(), TODAY).status == rules.MET


@pytest.mark.parametrize("language,words", [("nb", "Sett opp en møteplan"), ("en", "Set a meeting schedule")])
def test_page_links_the_meeting_schedule_fix(as_role, world, at_noon, language, words):
    set_language(world.people["manager"], language)
    page = as_role("manager").get(f"/s/{world.site.id}/duties").get_data(as_text=True)
    row = page[page.index('data-duty="meetings"'):]
    row = row[:row.index("</li>")]
    assert 'data-status="at_risk"' in page[page.index('data-duty="meetings"') - 5:][:80]
    assert f'href="/s/{world.site.id}/meetings/settings#schedule">{words}' in row


def test_competence_with_no_required_course_is_at_risk(app, world, at_noon):
    SiteRequirement.delete().where(SiteRequirement.site == world.site).execute()
    with app.test_request_context():
        duty = rules.competence_present(scope_of(world), period(), TODAY)
        assert duty.status == rules.AT_RISK
        assert duty.fix_link == ("competence.requirements", {"site_id": world.site.id})
        SiteRequirement.create(site=world.site, course="first_aid", task="no-one-has-this-task")
        assert rules.competence_present(scope_of(world), period(), TODAY).status == rules.MET


def test_equipment_with_nothing_asked_for_is_at_risk(app, world, at_noon):
    SiteEquipment.delete().where(SiteEquipment.site == world.site).execute()
    FollowUp.delete().execute()  # the world's missing helmet, put right
    with app.test_request_context():
        duty = rules.equipment_confirmed(scope_of(world), period(), TODAY)
        assert duty.status == rules.AT_RISK and duty.fix_link == ("checkin.settings", {"site_id": world.site.id})
        helmet = Equipment.get_or_create(key="helmet", defaults={"builtin": True})[0]
        SiteEquipment.create(site=world.site, equipment=helmet)
        assert rules.equipment_confirmed(scope_of(world), period(), TODAY).status == rules.MET


def test_empty_attendance_list_without_workers_is_at_risk(app, world, at_noon):
    Membership.delete().where((Membership.site == world.site) & (Membership.role == "worker")).execute()
    with app.test_request_context():
        assert rules.attendance_list(scope_of(world), period(), TODAY).status == rules.AT_RISK
        User.update(date_of_birth=date(1990, 5, 1)).where(User.id == world.people["foreman"].id).execute()
        check_in(world, world.people["foreman"])
        assert rules.attendance_list(scope_of(world), period(), TODAY).status == rules.MET


def test_no_alert_is_met_but_not_worded_as_acknowledged(app, world, at_noon):
    with app.test_request_context():
        duty = rules.alerts_acknowledged(scope_of(world), period(), TODAY)
    assert duty.status == rules.MET and duty.reason != rules._("Alerts are acknowledged.")


def pdf_boxes(data):
    """[(page number, kind, text, bottom, top)] in pt from the page's foot: each text run and each image."""
    boxes = []
    for number, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        def on_text(text, cm, tm, _font, size, number=number):
            if text.strip():
                y = tm[5] * cm[3] + cm[5]
                boxes.append((number, "text", text.strip(), y - 0.25 * size, y + 0.75 * size))

        def on_op(op, _args, cm, _tm, number=number):
            if op == b"Do":
                boxes.append((number, "image", "", cm[5], cm[5] + cm[3]))
        page.extract_text(visitor_text=on_text, visitor_operand_before=on_op)
    return boxes


@pytest.mark.parametrize("size", [(1600, 600), (400, 300), (300, 900)])
def test_pack_photo_overlaps_no_text_and_sits_under_its_line(as_role, world, frozen_clock, size):
    frozen_clock(datetime(2026, 6, 15, 10, 0))
    order = order_on_site(as_role, world)
    term(world)
    client = as_role("manager")
    assert client.post(f"/s/{world.site.id}/inspections/orders/{order.id}/evidence",
                       data=upload((jpeg(size=size), "railing.jpg")),
                       content_type="multipart/form-data").status_code == 303
    boxes = pdf_boxes(client.get(f"/s/{world.site.id}/duties/inspector-pack.pdf?days=30").data)
    images = [b for b in boxes if b[1] == "image"]
    assert len(images) == 1
    page, _kind, _text, bottom, top = images[0]
    texts = [b for b in boxes if b[1] == "text" and b[0] == page]
    overlapping = [t for t in texts if t[4] > bottom + 0.5 and t[3] < top - 0.5]
    assert not overlapping
    # The line naming the photo is just above it (no gap), and the next heading comes below it.
    above = min((t[3] - top for t in texts if t[3] >= top - 0.5), default=None)
    assert above is not None and above < 4 * 72 / 25.4
    assert any(t[2].startswith("Verneombud") and t[4] <= bottom for t in texts)


def test_pack_thumbnails_start_a_page_when_the_row_does_not_fit():
    doc = pdfs.document("P")
    doc.set_auto_page_break(True, margin=12)
    doc.add_page()
    doc.set_y(doc.h - 30)
    thumb = io.BytesIO(jpeg(size=(320, 480)))
    boxes = pack._thumbnails(doc, [(thumb, *pack._fit(320, 480))])
    (page, _x, y, _w, h), = boxes
    assert page == 2 and y + h <= doc.h - doc.b_margin and doc.get_y() >= y + h


# --- the register's smaller faults (new-user test) ----------------------------------------------------------------

@pytest.mark.parametrize("language,shown,not_shown", [("en", "2.5 h", "2.5 t"), ("nb", "2,5 t", "2.5")])
def test_verneombud_hours_read_in_the_readers_language(as_role, world, at_noon, language, shown, not_shown):
    term(world)
    VerneombudHours.create(user=world.people["verneombud"], site=world.site, worked_on=TODAY, hours=2.5, note="")
    set_language(world.people["manager"], language)
    page = as_role("manager").get(f"/s/{world.site.id}/verneombud").get_data(as_text=True)
    row = page[page.index('class="card verneombud-hours"'):]
    row = row[:row.index("</ul>")]
    assert shown in row and not_shown not in row


@pytest.mark.parametrize("language,done,missing", [("en", "Done", "Not recorded"), ("nb", "Ferdig", "Ikke registrert")])
def test_register_shows_each_verneombuds_40_hour_course(as_role, world, at_noon, language, done, missing):
    term(world)
    term(world, user=world.people["worker"], role="deputy")
    TrainingRecord.create(uuid=uuid.uuid4(), payload_hash="0" * 64, user=world.people["verneombud"],
                          course="verneombud_40h", taken_on=date(2025, 3, 1), status="approved")
    set_language(world.people["manager"], language)
    page = as_role("manager").get(f"/s/{world.site.id}/verneombud").get_data(as_text=True)
    assert f'course-done">{done}</dd>' in page and f'course-missing">{missing}</dd>' in page


@pytest.mark.parametrize("language,shown", [("nb", "31. des. 2027"), ("en", "31 Dec 2027")])
def test_term_length_error_gives_the_date_in_the_readers_format(as_role, world, at_noon, language, shown):
    set_language(world.people["manager"], language)
    response = as_role("manager").post(f"/s/{world.site.id}/verneombud",
                                       data=form_for(world, elected_to="2028-01-01"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and shown in page and "2027-12-31" not in page


def test_inviting_a_person_of_another_organization_makes_no_agency(as_role, world, at_noon):
    other = User.create(name="Elektriker Nordlys", phone="+4745000077", employer=world.sub, organization=world.sub)
    before = organizations()
    response = add_person(as_role("manager"), world.site, employer=str(world.org.id), phone="45 00 00 77",
                          name=other.name, hired_in="1", agency_name="Bemanning Øst AS",
                          agency_org_number="914778204")
    assert response.status_code == 303
    assert organizations() == before and User.get_by_id(other.id).staffing_agency_id is None
