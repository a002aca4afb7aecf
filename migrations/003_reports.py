"""Hazard and incident reports (RUH): the report, injury details, photos and the follow-up timeline."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Report(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        payload_hash = pw.CharField(max_length=64)
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        reporter = pw.ForeignKeyField(column_name='reporter_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=20)
        category = pw.CharField(max_length=30)
        severity = pw.CharField(max_length=10)
        description = pw.TextField(default='')
        place = pw.CharField(max_length=200, default='')
        happened_at = pw.DateTimeField(index=True)
        received_at = pw.DateTimeField()
        status = pw.CharField(max_length=20, default='open', index=True)
        assignee = pw.ForeignKeyField(column_name='assignee_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        deadline = pw.DateField(null=True)
        corrective_action = pw.TextField(default='')
        closed_at = pw.DateTimeField(null=True)
        reporter_told_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "report"

    @migrator.create_model
    class InjuryDetails(pw.Model):
        id = pw.AutoField()
        report = pw.ForeignKeyField(column_name='report_id', field='id', model=migrator.orm['report'], unique=True, on_delete='CASCADE')
        absence_beyond_day = pw.BooleanField(default=False)
        absence_days = pw.IntegerField(null=True)
        medical_treatment = pw.BooleanField(default=False)
        serious = pw.BooleanField(default=False)
        notes = pw.TextField(default='')
        arbeidstilsynet_notified_at = pw.DateTimeField(null=True)
        police_notified_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "injury_details"

    @migrator.create_model
    class Photo(pw.Model):
        id = pw.AutoField()
        report = pw.ForeignKeyField(column_name='report_id', field='id', model=migrator.orm['report'], on_delete='CASCADE')
        digest = pw.CharField(max_length=64, index=True)
        width = pw.IntegerField()
        height = pw.IntegerField()
        after = pw.BooleanField(default=False)
        position = pw.IntegerField(default=0)
        added_by = pw.ForeignKeyField(column_name='added_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "photo"
            indexes = [(('report', 'digest', 'after'), True)]

    @migrator.create_model
    class ReportEvent(pw.Model):
        id = pw.AutoField()
        report = pw.ForeignKeyField(column_name='report_id', field='id', model=migrator.orm['report'], on_delete='CASCADE')
        at = pw.DateTimeField()
        actor = pw.ForeignKeyField(column_name='actor_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        kind = pw.CharField(max_length=20)
        text = pw.TextField(default='')
        data = pw.TextField(default='{}')

        class Meta:
            table_name = "report_event"

    # The follow-up lists filter a site's reports by status, newest first.
    migrator.sql("CREATE INDEX report_site_status ON report (site_id, status, happened_at)")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX report_site_status")
    migrator.remove_model('report_event')
    migrator.remove_model('photo')
    migrator.remove_model('injury_details')
    migrator.remove_model('report')
