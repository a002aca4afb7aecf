"""HMS statistics (issue 20): what an injury cost, hours entered where people do not check in, and an index.

InjuryDetails gains: moved to alternative work, fatal, the date the person returned, and the absence in hours
(so that another lost-time threshold than one day can be reported). entered_hours holds hours per site,
employer (organisation number) and month; check_in gets an index on (site, checked_in_at) so that a period's
hours are summed by the database from the rows of the sites asked for.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'injury_details',
        alternative_work=pw.BooleanField(default=False),
        fatal=pw.BooleanField(default=False),
        returned_on=pw.DateField(null=True),
        absence_hours=pw.FloatField(null=True))

    @migrator.create_model
    class EnteredHours(pw.Model):
        id = pw.AutoField()
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        employer_org_number = pw.CharField(max_length=9)
        month = pw.DateField()
        hours = pw.FloatField()
        entered_by = pw.ForeignKeyField(column_name='entered_by_id', field='id', model=migrator.orm['user'],
                                        null=True, on_delete='SET NULL')
        entered_at = pw.DateTimeField()

        class Meta:
            table_name = "entered_hours"
            indexes = [(('site', 'employer_org_number', 'month'), True)]

    migrator.sql("CREATE INDEX check_in_site_time ON check_in (site_id, checked_in_at, checked_out_at, employer_org_number, missing)")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX check_in_site_time")
    migrator.remove_model('entered_hours')
    migrator.remove_fields('injury_details', 'alternative_work', 'fatal', 'returned_on', 'absence_hours')
