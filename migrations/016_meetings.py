"""HMS meetings (issue 21): kinds, AMU members, schedules, meetings, proposals, agenda items, attendance,
decisions (each followed up as a Report of kind "decision") and amendments to approved minutes."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class MeetingKind(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=orm['organization'],
                                          on_delete='CASCADE')
        code = pw.CharField(max_length=40)
        names = pw.TextField()
        level = pw.CharField(max_length=20, default='site')

        class Meta:
            table_name = "meeting_kind"
            indexes = [(('organization', 'code'), True)]

    @migrator.create_model
    class AmuMember(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=orm['organization'],
                                          on_delete='CASCADE')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=orm['user'], on_delete='CASCADE')
        side = pw.CharField(max_length=20)

        class Meta:
            table_name = "amu_member"
            indexes = [(('organization', 'user'), True)]

    @migrator.create_model
    class MeetingSchedule(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=orm['organization'],
                                          on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=orm['site'], null=True,
                                  on_delete='CASCADE')
        kind = pw.CharField(max_length=40)
        interval_days = pw.IntegerField()

        class Meta:
            table_name = "meeting_schedule"

    @migrator.create_model
    class Meeting(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=orm['organization'],
                                          on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=orm['site'], null=True,
                                  on_delete='CASCADE')
        kind = pw.CharField(max_length=40)
        held_on = pw.DateField(index=True)
        extra = pw.BooleanField(default=False)
        chair = pw.ForeignKeyField(column_name='chair_id', field='id', model=orm['user'], null=True,
                                   on_delete='SET NULL')
        note = pw.TextField(default='')
        topics = pw.TextField()
        status = pw.CharField(max_length=20, default='draft')
        approved_at = pw.DateTimeField(null=True)
        approved_by = pw.ForeignKeyField(column_name='approved_by_id', field='id', model=orm['user'], null=True,
                                         on_delete='SET NULL')
        employer_approved_by = pw.ForeignKeyField(column_name='employer_approved_by_id', field='id',
                                                  model=orm['user'], null=True, on_delete='SET NULL')
        workers_approved_by = pw.ForeignKeyField(column_name='workers_approved_by_id', field='id',
                                                 model=orm['user'], null=True, on_delete='SET NULL')
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['user'], null=True,
                                        on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "meeting"

    @migrator.create_model
    class MeetingProposal(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        payload_hash = pw.CharField(max_length=64)
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=orm['site'], on_delete='CASCADE')
        proposer = pw.ForeignKeyField(column_name='proposer_id', field='id', model=orm['user'],
                                      on_delete='RESTRICT')
        text = pw.TextField()
        language = pw.CharField(max_length=5, default='nb')
        photo_digest = pw.CharField(max_length=64, null=True)
        created_at = pw.DateTimeField()
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "meeting_proposal"

    @migrator.create_model
    class AgendaItem(pw.Model):
        id = pw.AutoField()
        meeting = pw.ForeignKeyField(column_name='meeting_id', field='id', model=orm['meeting'],
                                     on_delete='CASCADE')
        position = pw.IntegerField(default=0)
        source = pw.CharField(max_length=30)
        record_id = pw.IntegerField(null=True)
        title = pw.TextField()
        note = pw.TextField(default='')
        proposal = pw.ForeignKeyField(column_name='proposal_id', field='id', model=orm['meeting_proposal'],
                                      null=True, on_delete='SET NULL')
        carried_from = pw.ForeignKeyField(column_name='carried_from_id', field='id', model='self', null=True,
                                          on_delete='SET NULL')
        carry_over = pw.BooleanField(default=False)
        vote_unanimous = pw.BooleanField(null=True)
        vote_majority = pw.TextField(default='')
        vote_minority = pw.TextField(default='')

        class Meta:
            table_name = "agenda_item"

    @migrator.create_model
    class MeetingAttendance(pw.Model):
        id = pw.AutoField()
        meeting = pw.ForeignKeyField(column_name='meeting_id', field='id', model=orm['meeting'],
                                     on_delete='CASCADE')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=orm['user'], null=True,
                                  on_delete='SET NULL')
        name = pw.CharField(max_length=200)
        side = pw.CharField(max_length=20)

        class Meta:
            table_name = "meeting_attendance"

    @migrator.create_model
    class MeetingDecision(pw.Model):
        id = pw.AutoField()
        meeting = pw.ForeignKeyField(column_name='meeting_id', field='id', model=orm['meeting'],
                                     on_delete='CASCADE')
        item = pw.ForeignKeyField(column_name='item_id', field='id', model=orm['agenda_item'], null=True,
                                  on_delete='SET NULL')
        text = pw.TextField()
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['user'], on_delete='RESTRICT')
        deadline = pw.DateField()
        report = pw.ForeignKeyField(column_name='report_id', field='id', model=orm['report'], null=True,
                                    on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "meeting_decision"

    @migrator.create_model
    class MeetingAmendment(pw.Model):
        id = pw.AutoField()
        meeting = pw.ForeignKeyField(column_name='meeting_id', field='id', model=orm['meeting'],
                                     on_delete='CASCADE')
        author = pw.ForeignKeyField(column_name='author_id', field='id', model=orm['user'], null=True,
                                    on_delete='SET NULL')
        text = pw.TextField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "meeting_amendment"

    migrator.sql("CREATE INDEX meeting_site_kind ON meeting (site_id, kind, held_on)")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX meeting_site_kind")
    for name in ('meeting_amendment', 'meeting_decision', 'meeting_attendance', 'agenda_item', 'meeting_proposal',
                 'meeting', 'meeting_schedule', 'amu_member', 'meeting_kind'):
        migrator.remove_model(name)
