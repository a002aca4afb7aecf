"""Only meetings held count: approved minutes dated no later than today (meetings.service.held). A draft, or a
meeting planned ahead, neither moves the next due date nor counts as held with the verneombud, and the agenda of
minutes typed in late reads its own period, from the last meeting held before it."""
import io
import uuid as uuidlib
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader

from fieldapp.duties import rules
from fieldapp.duties.service import term_end
from fieldapp.meetings import service
from fieldapp.models import (AgendaItem, Meeting, MeetingAttendance, MeetingSchedule, Report, User,
                             VerneombudTerm)

NOW = datetime(2026, 3, 10, 9, 0)
TODAY = date(2026, 3, 10)


def test_a_site_overdue_for_its_meeting_stays_overdue_when_one_is_planned_far_ahead(app, world, as_role,
                                                                                      frozen_clock):
    frozen_clock(NOW)
    MeetingSchedule.create(organization=world.org, site=world.site, kind="hms", interval_days=14)
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=60), topics=[],
                   status="approved")
    assert service.due_meetings(world.site, TODAY)[0][2] is True  # overdue
    manager = as_role("manager")
    r = manager.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms",
                                                              "held_on": (TODAY + timedelta(days=700)).isoformat()})
    assert r.status_code == 303, r.status_code
    # A draft planned two years ahead: is the site still overdue?
    assert service.due_meetings(world.site, TODAY)[0][2] is True, service.due_meetings(world.site, TODAY)


@pytest.mark.parametrize("held_on", ["0001-01-01", "9999-12-31", "2026-02-30", "20260301", "2026-W10-2",
                                     "２０２６-０３-０１", "2021-03-11", "2028-03-09", "2028-03-10", "2021-03-10",
                                     " 2026-03-01 ", "2026-03-01T00:00", ""])
def test_a_manager_typing_any_meeting_date_gets_a_page_or_a_clear_refusal(app, world, as_role, frozen_clock,
                                                                            held_on):
    frozen_clock(NOW)
    manager = as_role("manager")
    r = manager.post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": held_on})
    assert r.status_code in (303, 422, 400), (held_on, r.status_code)
    if r.status_code == 303:
        page = manager.get(r.headers["Location"])
        assert page.status_code == 200
        assert manager.get(f"/s/{world.site.id}/meetings").status_code == 200
        for days in ("1", "730", "90"):
            for scope in ("site", "org"):
                assert manager.get(f"/s/{world.site.id}/duties?days={days}&scope={scope}").status_code == 200
        assert manager.get(f"/s/{world.site.id}/verneombud").status_code == 200
        assert manager.get(f"/s/{world.site.id}/duties/inspector-pack.pdf").status_code == 200


@pytest.mark.parametrize("start", [TODAY - timedelta(days=365 * 10), TODAY, TODAY + timedelta(days=700),
                                   date(2024, 2, 29)])
def test_a_manager_registering_far_or_overlapping_terms_still_sees_the_duties(app, world, as_role, frozen_clock, start):
    frozen_clock(NOW)
    manager = as_role("manager")
    for person, whole in ((world.people["worker"], "0"), (world.people["worker"], "1"), (world.people["foreman"], "0")):
        data = {"user": str(person.id), "role": "verneombud", "how": "election",
                "elected_from": start.isoformat(), "elected_to": term_end(start).isoformat(),
                "notice_on": min(start, TODAY).isoformat(), "area": "", "whole_org": whole}
        r = manager.post(f"/s/{world.site.id}/verneombud", data=data)
        assert r.status_code in (303, 422, 200), r.status_code
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=3), topics=[],
                   status="approved")
    for days in ("1", "730"):
        for scope in ("site", "org"):
            assert manager.get(f"/s/{world.site.id}/duties?days={days}&scope={scope}").status_code == 200
    assert manager.get(f"/s/{world.site.id}/verneombud").status_code == 200
    assert manager.get(f"/s/{world.site.id}/duties/inspector-pack.pdf").status_code == 200


def test_minutes_typed_in_for_an_earlier_meeting_list_the_records_of_its_own_period(app, as_role, world, frozen_clock):
    """Minutes of an earlier meeting typed in after a later one was recorded: the agenda is read from the last
    meeting held before the earlier one's day (here none: LOOKBACK_DAYS before it), not from the later meeting
    onwards (since > until, an empty agenda)."""
    frozen_clock(NOW)
    foreman = world.people["foreman"]
    client = as_role("foreman")
    r = client.post(f"/s/{world.site.id}/meetings/new",
                    data={"kind": "hms", "held_on": (TODAY - timedelta(days=5)).isoformat()})
    assert r.status_code == 303
    early = Report.create(uuid=uuidlib.uuid4(), payload_hash="1" * 64, site=world.site, reporter=foreman,
                          kind="hazard", category="falls", severity="low", description="Before the early meeting",
                          happened_at=NOW - timedelta(days=40))
    r = client.post(f"/s/{world.site.id}/meetings/new",
                    data={"kind": "hms", "held_on": (TODAY - timedelta(days=30)).isoformat()})
    assert r.status_code == 303
    meeting = Meeting.select().order_by(Meeting.id.desc()).first()
    items = {(i.source, i.record_id) for i in AgendaItem.select().where(AgendaItem.meeting == meeting)}
    assert ("report", early.id) in items, items


def test_an_unapproved_draft_is_not_a_meeting_held_with_the_verneombud(app, world, as_role, frozen_clock):
    """Duties: a draft meeting (minutes not approved) whose draft lists a registered verneombud as attending does
    not make "HMS meetings held" met while the last meeting held is overdue."""
    frozen_clock(NOW)
    vo = world.people["verneombud"]
    start = TODAY - timedelta(days=30)
    VerneombudTerm.create(organization=world.org, user=vo, site=world.site, role="verneombud", how="election",
                          elected_from=start, elected_to=term_end(start), notice_on=start)
    MeetingSchedule.create(organization=world.org, site=world.site, kind="hms", interval_days=28)
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=100),
                   topics=[], status="approved")
    r = as_role("manager").post(f"/s/{world.site.id}/meetings/new", data={"kind": "hms", "held_on": TODAY.isoformat()})
    assert r.status_code == 303
    draft = Meeting.select().order_by(Meeting.id.desc()).first()
    assert draft.status == "draft"
    MeetingAttendance.create(meeting=draft, user=vo, name=vo.name, side="verneombud")
    scope = rules.Scope(world.org, [world.site], world.site.name)
    duty = rules.meetings_held(scope, rules.Period(TODAY - timedelta(days=89), TODAY), TODAY)
    assert duty.status != rules.MET


def test_minutes_typed_in_before_an_approved_later_meeting_read_from_the_meeting_held_before_them(app, as_role, world,
                                                                                                 frozen_clock):
    """The later meeting is held (approved): the earlier one's agenda still reads its own period, from the last
    meeting held before its day, carries that meeting's items, not the later one's, and shows its decisions."""
    frozen_clock(NOW)
    foreman = world.people["foreman"]
    first = Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=60),
                           topics=[], status="approved", chair=foreman)
    AgendaItem.create(meeting=first, position=0, source="manual", title="From the first", carry_over=True)
    later = Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=5),
                           topics=[], status="approved", chair=foreman)
    AgendaItem.create(meeting=later, position=0, source="manual", title="From the later", carry_over=True)
    early = Report.create(uuid=uuidlib.uuid4(), payload_hash="2" * 64, site=world.site, reporter=foreman,
                          kind="hazard", category="falls", severity="low", description="Between first and typed",
                          happened_at=NOW - timedelta(days=40))
    client = as_role("foreman")
    r = client.post(f"/s/{world.site.id}/meetings/new",
                    data={"kind": "hms", "held_on": (TODAY - timedelta(days=30)).isoformat()})
    assert r.status_code == 303
    typed = Meeting.select().order_by(Meeting.id.desc()).first()
    items = list(AgendaItem.select().where(AgendaItem.meeting == typed))
    assert ("report", early.id) in {(i.source, i.record_id) for i in items}
    assert [i.title for i in items if i.source == "carried"] == ["From the first"]
    # The later meeting's previous is the typed-in one only once that is held; until then it is the first.
    assert service.previous_meeting(world.site, "hms", later.held_on, TODAY, later) == first
    Meeting.update(status="approved").where(Meeting.id == typed.id).execute()
    assert service.previous_meeting(world.site, "hms", later.held_on, TODAY, later) == typed
    assert service.previous_meeting(world.site, "hms", typed.held_on, TODAY, typed) == first


def test_a_draft_or_a_meeting_dated_ahead_moves_no_due_date_on_the_home_card_or_the_reminder(app, as_role, world,
                                                                                            frozen_clock):
    """The home card and remind_due read the same due dates: an approved meeting dated ahead (approval does not
    check the date) and a draft dated today leave the site overdue from the last meeting held."""
    frozen_clock(NOW)
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=40),
                   topics=[], status="approved")
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY, topics=[])
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY + timedelta(days=3),
                   topics=[], status="approved")
    due = {kind: (day, late) for kind, day, late in service.due_meetings(world.site)}
    assert due["hms"] == (TODAY - timedelta(days=12), True)
    User.update(language="en").where(User.id == world.people["foreman"].id).execute()
    assert "Site HMS meeting is overdue since 26 Feb 2026" in as_role("foreman").get("/").get_data(as_text=True)
    with app.app_context():
        assert service.remind_due() >= 1


def test_the_inspectors_pack_lists_the_meetings_held_with_the_day_their_minutes_were_approved(app, as_role, world,
                                                                                             frozen_clock):
    """The pack's meetings are those held: not a draft (however dated), not approved minutes dated ahead."""
    frozen_clock(NOW)
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=3),
                   topics=[], status="approved", approved_at=datetime(2026, 3, 8, 23, 30))  # 8 March UTC: 9th in Oslo
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY - timedelta(days=4), topics=[])
    Meeting.create(organization=world.org, site=world.site, kind="hms", held_on=TODAY + timedelta(days=2),
                   topics=[], status="approved", approved_at=NOW)
    User.update(language="en").where(User.id == world.people["manager"].id).execute()
    response = as_role("manager").get(f"/s/{world.site.id}/duties/inspector-pack.pdf?days=30")
    assert response.status_code == 200
    text = " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).split())
    meetings = text.split("Verneombud present", 1)[1].split("Open orders", 1)[0]
    assert "2026-03-07" in meetings and "2026-03-09" in meetings  # held, and approved on the site's 9 March
    assert "2026-03-06" not in meetings and "2026-03-12" not in meetings and "2026-03-10" not in meetings
