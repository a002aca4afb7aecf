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

    migrator.sql("CREATE INDEX check_in_site_time ON check_in (site_id, checked_in_at)")

    # Hours per site, employer and local day, kept by fieldapp/stats/hours.py from the check-ins: what the
    # statistics sum (a year of 40 sites is some 40,000 rows, not 400,000 check-ins).
    @migrator.create_model
    class HoursDay(pw.Model):
        id = pw.AutoField()
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        employer_org_number = pw.CharField(max_length=9, null=True)
        day = pw.DateField()
        hours = pw.FloatField()
        spill = pw.FloatField()
        checkins = pw.IntegerField()
        complete = pw.IntegerField()

        class Meta:
            table_name = "hours_day"
            indexes = [(('site', 'day'), False)]

    # Which check-in days changed since: written by the database itself on every insert, change or delete of
    # a check-in, so no code path that writes check-ins can forget it. No foreign key: a site's deletion
    # deletes its check-ins, whose marks then outlive it until the next refresh drops them.
    @migrator.create_model
    class HoursDirty(pw.Model):
        id = pw.AutoField()
        site_id = pw.IntegerField()
        utc_day = pw.DateField()

        class Meta:
            table_name = "hours_dirty"
            indexes = [(('site_id',), False)]

    for statement in hours_triggers(database):
        migrator.sql(statement)
    # Every day that already has check-ins is to be summed once.
    day = "date(checked_in_at)" if isinstance(database, pw.SqliteDatabase) else "CAST(checked_in_at AS date)"
    migrator.sql(f"INSERT INTO hours_dirty (site_id, utc_day) SELECT DISTINCT site_id, {day} FROM check_in")


def hours_triggers(database):
    """The triggers that mark a check-in's day (its UTC date; old and new) in hours_dirty."""
    if isinstance(database, pw.SqliteDatabase):
        mark = "INSERT INTO hours_dirty (site_id, utc_day) VALUES ({row}.site_id, date({row}.checked_in_at));"
        return [
            f"CREATE TRIGGER check_in_hours_insert AFTER INSERT ON check_in BEGIN {mark.format(row='NEW')} END",
            f"CREATE TRIGGER check_in_hours_update AFTER UPDATE OF site_id, checked_in_at, checked_out_at, "
            f"employer_org_number, missing ON check_in BEGIN {mark.format(row='OLD')} {mark.format(row='NEW')} END",
            f"CREATE TRIGGER check_in_hours_delete AFTER DELETE ON check_in BEGIN {mark.format(row='OLD')} END",
        ]
    if isinstance(database, pw.PostgresqlDatabase):
        return [
            "CREATE FUNCTION check_in_hours_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
            "INSERT INTO hours_dirty (site_id, utc_day) VALUES (OLD.site_id, CAST(OLD.checked_in_at AS date)); "
            "END IF; "
            "IF TG_OP IN ('INSERT', 'UPDATE') THEN "
            "INSERT INTO hours_dirty (site_id, utc_day) VALUES (NEW.site_id, CAST(NEW.checked_in_at AS date)); "
            "END IF; RETURN NULL; END $$",
            "CREATE TRIGGER check_in_hours_mark AFTER INSERT OR UPDATE OR DELETE ON check_in "
            "FOR EACH ROW EXECUTE FUNCTION check_in_hours_mark()",
        ]
    return []


def drop_hours_triggers(database):
    if isinstance(database, pw.SqliteDatabase):
        return [f"DROP TRIGGER check_in_hours_{op}" for op in ("insert", "update", "delete")]
    if isinstance(database, pw.PostgresqlDatabase):
        return ["DROP TRIGGER check_in_hours_mark ON check_in", "DROP FUNCTION check_in_hours_mark()"]
    return []


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for statement in drop_hours_triggers(database):
        migrator.sql(statement)
    migrator.remove_model('hours_dirty')
    migrator.remove_model('hours_day')
    migrator.sql("DROP INDEX check_in_site_time")
    migrator.remove_model('entered_hours')
    migrator.remove_fields('injury_details', 'alternative_work', 'fatal', 'returned_on', 'absence_hours')
