"""The agenda of a busy site: how long a meeting's agenda takes to build from the records.

    python bench/agenda.py [--reports 5000] [--follow-ups 2000] [--runs 20]

A fresh SQLite database (migrated) gets one site with `reports` reports over the last year (a tenth of them
injuries), `follow-ups` of them assigned with a deadline (half overdue), 500 alerts and 20 open proposals,
a previous HMS meeting 4 weeks ago with carried-over items, and the records of the features that joined the
agenda (certificates, check-ins for the statistics, walkarounds, SJAs). It times meetings.service.build_agenda (the
query work: every agenda source) and create_meeting (the agenda written as rows, and the audit event).

Target (issue 21): the agenda builds in under 200 ms.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument("--follow-ups", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        os.environ["FIELDAPP_INSTANCE"] = instance
        os.environ["FIELDAPP_LOCAL_DEV"] = "1"
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        from fieldapp import clock, create_app
        from fieldapp.db import database, run_migrations
        from fieldapp.meetings import service
        from fieldapp.models import (AgendaItem, Alert, CheckIn, Meeting, MeetingProposal, Membership, Organization,
                                     Report, RoundAnswer, SafetyRound, Site, Sja, TrainingRecord, User, utcnow)
        from fieldapp.rounds import service as rounds_service

        app = create_app()
        with app.test_request_context(), database.connection_context():
            run_migrations()
            now = utcnow()
            org = Organization.create(name="Fjordbygg AS", org_number="923609016")
            site = Site.create(organization=org, name="Bench site", address="Benkveien 1", qr_token="bench")
            foreman = User.create(name="Frode Bas", phone="+4790000001", employer=org)
            Membership.create(user=foreman, site=site, role="foreman")
            rows = []
            for n in range(args.reports):
                follow = n < args.follow_ups
                rows.append(dict(
                    uuid=uuid.uuid4(), payload_hash="0" * 64, site=site.id, reporter=foreman.id,
                    kind="injury" if n % 10 == 0 else "hazard", category="falls", severity="medium",
                    description=f"Report {n}", happened_at=now - timedelta(hours=n * 1.7), received_at=now,
                    status="in_progress" if follow else "open", assignee=foreman.id if follow else None,
                    deadline=(clock.today(site) + timedelta(days=(-10 if n % 2 else 10))) if follow else None))
            with database.atomic():
                for start in range(0, len(rows), 500):
                    Report.insert_many(rows[start:start + 500]).execute()
                Alert.insert_many([dict(uuid=uuid.uuid4(), site=site.id, level=("warning", "stop_work", "info")[n % 3],
                                        title=f"Alert {n}", created_at=now - timedelta(hours=n * 17))
                                   for n in range(500)]).execute()
                MeetingProposal.insert_many([dict(uuid=uuid.uuid4(), payload_hash="0" * 64, site=site.id,
                                                  proposer=foreman.id, text=f"Proposal {n}", created_at=now,
                                                  received_at=now) for n in range(20)]).execute()
                previous = Meeting.create(organization=org, site=site, kind="hms", topics=[],
                                          held_on=clock.today(site) - timedelta(days=28))
                AgendaItem.insert_many([dict(meeting=previous.id, position=n, source="manual", title=f"Item {n}",
                                             carry_over=n % 2 == 0) for n in range(20)]).execute()
                # The features that joined the agenda: 300 people with 3 certificates each, 3000 check-ins,
                # 50 walkarounds with 1000 answers (200 deviations), 100 SJAs.
                people = [User.create(name=f"Person {n}", phone=f"+4791{n:06d}", employer=org) for n in range(300)]
                Membership.insert_many([dict(user=p.id, site=site.id, role="worker") for p in people]).execute()
                TrainingRecord.insert_many([dict(
                    uuid=uuid.uuid4(), payload_hash="0" * 64, user=p.id, course=course, status="approved",
                    taken_on=clock.today(site) - timedelta(days=700),
                    expires_on=clock.today(site) + timedelta(days=(n * 7) % 400 - 60))
                    for n, p in enumerate(people) for course in ("truck", "hot_work", "first_aid")]).execute()
                for start in range(0, 3000, 500):
                    CheckIn.insert_many([dict(uuid=uuid.uuid4(), site=site.id, name=f"Person {n}",
                                              employer_org_number=org.org_number,
                                              checked_in_at=now - timedelta(hours=n * 0.25 + 8),
                                              checked_out_at=now - timedelta(hours=n * 0.25))
                                         for n in range(start, start + 500)]).execute()
                version = rounds_service.current_version(rounds_service.builtin_template())
                for n in range(50):
                    safety_round = SafetyRound.create(uuid=uuid.uuid4(), site=site, version=version, started_by=foreman,
                                                      started_at=now - timedelta(days=n), finished_at=now)
                    RoundAnswer.insert_many([dict(uuid=uuid.uuid4(), round=safety_round.id, item_key=f"i{k}",
                                                  answer="deviation" if k < 4 else "ok", answered_by=foreman.id,
                                                  answered_at=now) for k in range(20)]).execute()
                Sja.insert_many([dict(uuid=uuid.uuid4(), payload_hash="0" * 64, organization=org.id, site=site.id,
                                      title=f"SJA {n}", created_by=foreman.id, created_at=now - timedelta(days=n))
                                 for n in range(100)]).execute()
            today = clock.today(site)
            timings, items = [], 0
            for _run in range(args.runs):
                started = time.perf_counter()
                items = len(service.build_agenda(site, "hms", today, service.last_meeting(site, "hms")))
                timings.append((time.perf_counter() - started) * 1000)
            created = []
            for n in range(5):
                started = time.perf_counter()
                service.create_meeting(foreman, site, "hms", (today + timedelta(days=n)).isoformat())
                created.append((time.perf_counter() - started) * 1000)
            shown, meeting = [], Meeting.select().where(Meeting.id != previous.id).order_by(Meeting.id).first()
            agenda_items = list(AgendaItem.select().where(AgendaItem.meeting == meeting))
            for language in ("nb", "pl") * 5:
                started = time.perf_counter()
                service.item_titles(agenda_items, language)
                shown.append((time.perf_counter() - started) * 1000)
        print(f"site with {args.reports} reports ({args.follow_ups} followed up, half overdue), 500 alerts, "
              f"20 proposals, 10 carried items, 300 people with 900 certificates, 3000 check-ins, 50 walkarounds, "
              f"100 SJAs")
        print(f"build_agenda: {items} items, median {statistics.median(timings):.1f} ms, "
              f"max {max(timings):.1f} ms over {args.runs} runs (target < 200 ms)")
        print(f"create_meeting (agenda written, audited): median {statistics.median(created):.1f} ms, "
              f"max {max(created):.1f} ms over 5 runs")
        print(f"item_titles (the agenda's {len(agenda_items)} items in words, nb and pl): median "
              f"{statistics.median(shown):.1f} ms, max {max(shown):.1f} ms over {len(shown)} runs")


if __name__ == "__main__":
    main()
