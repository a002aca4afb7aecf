"""Who is responsible for what (issue 24): the verneombud register, Arbeidstilsynet's inspections and orders, and the two fields the attendance list
lacked (byggherreforskriften § 15): a person's date of birth and a hired-in worker's staffing agency."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class VerneombudTerm(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=orm['organization'],
                                          on_delete='CASCADE')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=orm['user'], on_delete='RESTRICT')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=orm['site'], null=True,
                                  on_delete='CASCADE')
        area = pw.CharField(max_length=200, default='')
        role = pw.CharField(max_length=12)
        elected_from = pw.DateField()
        elected_to = pw.DateField(index=True)
        how = pw.CharField(max_length=12)
        notice_on = pw.DateField(null=True)
        regional = pw.BooleanField(default=False)
        reminded_at = pw.DateTimeField(null=True)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['user'], null=True,
                                        on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "verneombud_term"


    @migrator.create_model
    class Inspection(pw.Model):
        id = pw.AutoField()
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=orm['site'], on_delete='CASCADE')
        held_on = pw.DateField()
        reference = pw.CharField(max_length=60)
        sanction = pw.CharField(max_length=8, default='none')
        note = pw.TextField(default='')
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['user'], null=True,
                                        on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "inspection"

    @migrator.create_model
    class InspectionOrder(pw.Model):
        id = pw.AutoField()
        inspection = pw.ForeignKeyField(column_name='inspection_id', field='id', model=orm['inspection'],
                                        on_delete='CASCADE')
        text = pw.TextField()
        deadline = pw.DateField(index=True)
        response = pw.TextField(default='')
        report = pw.ForeignKeyField(column_name='report_id', field='id', model=orm['report'], null=True,
                                    on_delete='SET NULL')
        closed_at = pw.DateTimeField(null=True)
        closed_by = pw.ForeignKeyField(column_name='closed_by_id', field='id', model=orm['user'], null=True,
                                       on_delete='SET NULL')
        reminded_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "inspection_order"

    @migrator.create_model
    class VerneombudHours(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=orm['user'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=orm['site'], on_delete='CASCADE')
        worked_on = pw.DateField()
        hours = pw.FloatField()
        note = pw.CharField(max_length=300, default='')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "verneombud_hours"

    migrator.add_fields(
        'user',
        date_of_birth=pw.DateField(null=True),
        staffing_agency=pw.ForeignKeyField(column_name='staffing_agency_id', field='id', model=orm['organization'],
                                           null=True, on_delete='SET NULL'))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('user', 'date_of_birth', 'staffing_agency')
    migrator.remove_model("verneombud_hours")
    migrator.remove_model("inspection_order")
    migrator.remove_model("inspection")
    migrator.remove_model("verneombud_term")
