"""Organizations, people, sites, roles per site, device sessions and the audit log."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Organization(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=200)
        org_number = pw.CharField(max_length=9, unique=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "organization"

    @migrator.create_model
    class User(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=200)
        phone = pw.CharField(max_length=20, unique=True)
        email = pw.CharField(max_length=254, null=True)
        language = pw.CharField(default='nb', max_length=5)
        employer = pw.ForeignKeyField(column_name='employer_id', field='id', model=migrator.orm['organization'], null=True, on_delete='RESTRICT')
        hms_card_number = pw.CharField(max_length=40, null=True)
        hms_card_expiry = pw.DateField(null=True)
        password_hash = pw.CharField(max_length=255, null=True)
        is_org_admin = pw.BooleanField(default=False)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "user"

    @migrator.create_model
    class AuditEvent(pw.Model):
        id = pw.AutoField()
        at = pw.DateTimeField(index=True)
        actor = pw.ForeignKeyField(column_name='actor_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        action = pw.CharField(max_length=80)
        record_type = pw.CharField(max_length=40)
        record_id = pw.CharField(max_length=64)
        before = pw.TextField(null=True)
        after = pw.TextField(null=True)
        prev_hash = pw.CharField(max_length=64, unique=True)
        hash = pw.CharField(max_length=64, unique=True)

        class Meta:
            table_name = "audit_event"

    @migrator.create_model
    class DeviceSession(pw.Model):
        id = pw.AutoField()
        token_hash = pw.CharField(max_length=64, unique=True)
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        user_agent = pw.CharField(default='', max_length=300)
        created_at = pw.DateTimeField()
        last_seen_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "device_session"

    @migrator.create_model
    class EnrollmentCode(pw.Model):
        id = pw.AutoField()
        code_hash = pw.CharField(max_length=64, unique=True)
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        used_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "enrollment_code"

    @migrator.create_model
    class LoginThrottle(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=120, unique=True)
        failures = pw.IntegerField(default=0)
        window_started_at = pw.DateTimeField()

        class Meta:
            table_name = "login_throttle"

    @migrator.create_model
    class Site(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=migrator.orm['organization'], on_delete='RESTRICT')
        name = pw.CharField(max_length=200)
        address = pw.CharField(max_length=300)
        project_number = pw.CharField(max_length=50, null=True)
        client_name = pw.CharField(max_length=200, null=True)
        qr_token = pw.CharField(max_length=64, unique=True)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "site"

    @migrator.create_model
    class Membership(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        role = pw.CharField(max_length=20)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "membership"
            indexes = [(('user', 'site'), True)]

    # The audit log is evidence: the database itself refuses to change or delete a row.
    for statement in append_only(database):
        migrator.sql(statement)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for statement in drop_append_only(database):
        migrator.sql(statement)
    migrator.remove_model('membership')

    migrator.remove_model('site')

    migrator.remove_model('login_throttle')

    migrator.remove_model('enrollment_code')

    migrator.remove_model('device_session')

    migrator.remove_model('audit_event')

    migrator.remove_model('user')

    migrator.remove_model('organization')


def append_only(database):
    if isinstance(database, pw.SqliteDatabase):
        return [
            f"CREATE TRIGGER audit_event_no_{op.lower()} BEFORE {op} ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if isinstance(database, pw.PostgresqlDatabase):
        return [
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        ]
    return []


def drop_append_only(database):
    if isinstance(database, pw.SqliteDatabase):
        return ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"]
    if isinstance(database, pw.PostgresqlDatabase):
        return ["DROP TRIGGER audit_event_append_only ON audit_event",
                "DROP FUNCTION audit_event_append_only()"]
    return []
