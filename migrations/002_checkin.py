"""Check-in: protective equipment, what each site requires, check-ins, follow-ups; site settings."""

import datetime
from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext

# The built-in catalogue; names and icons live in fieldapp/checkin/equipment.py (translated there).
BUILTIN_EQUIPMENT = ["helmet", "safety_shoes", "hi_vis", "safety_glasses", "hearing_protection", "gloves",
                     "fall_arrest", "respiratory_protection"]


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'site',
        day_ends_at=pw.TimeField(default=datetime.time(18, 0)),
        guests_allowed=pw.BooleanField(default=False),
        closed_on=pw.DateField(null=True))

    @migrator.create_model
    class Equipment(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=40, unique=True)
        builtin = pw.BooleanField(default=False)
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=migrator.orm['organization'], null=True, on_delete='CASCADE')
        name_nb = pw.CharField(max_length=80, null=True)
        name_en = pw.CharField(max_length=80, null=True)
        sort_order = pw.IntegerField(default=100)

        class Meta:
            table_name = "equipment"

    @migrator.create_model
    class SiteEquipment(pw.Model):
        id = pw.AutoField()
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        equipment = pw.ForeignKeyField(column_name='equipment_id', field='id', model=migrator.orm['equipment'], on_delete='CASCADE')

        class Meta:
            table_name = "site_equipment"
            indexes = [(('site', 'equipment'), True)]

    @migrator.create_model
    class CheckIn(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], null=True, on_delete='CASCADE')
        checked_in_at = pw.DateTimeField(index=True)
        received_at = pw.DateTimeField()
        checked_out_at = pw.DateTimeField(null=True)
        checkout_uuid = pw.UUIDField(null=True, unique=True)
        auto_closed = pw.BooleanField(default=False)
        confirmed = pw.TextField(default='[]')
        missing = pw.TextField(default='[]')
        name = pw.CharField(max_length=200)
        employer_name = pw.CharField(max_length=200, null=True)
        employer_org_number = pw.CharField(max_length=9, null=True)
        hms_card_number = pw.CharField(max_length=40, null=True)
        hms_card_expiry = pw.DateField(null=True)
        is_guest = pw.BooleanField(default=False)

        class Meta:
            table_name = "check_in"

    @migrator.create_model
    class FollowUp(pw.Model):
        id = pw.AutoField()
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        kind = pw.CharField(max_length=40)
        check_in = pw.ForeignKeyField(column_name='check_in_id', field='id', model=migrator.orm['check_in'], null=True, on_delete='CASCADE')
        detail = pw.TextField(default='')
        created_at = pw.DateTimeField()
        resolved_at = pw.DateTimeField(null=True)
        resolved_by = pw.ForeignKeyField(column_name='resolved_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')

        class Meta:
            table_name = "follow_up"

    # One open check-in per person, enforced by the database (both SQLite and PostgreSQL have partial indexes).
    migrator.sql("CREATE UNIQUE INDEX check_in_one_open_per_person ON check_in (user_id) "
                 "WHERE checked_out_at IS NULL")
    for order, key in enumerate(BUILTIN_EQUIPMENT, start=1):
        migrator.sql(f"INSERT INTO equipment (key, builtin, sort_order) VALUES ('{key}', TRUE, {order * 10})")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX check_in_one_open_per_person")
    migrator.remove_model('follow_up')
    migrator.remove_model('check_in')
    migrator.remove_model('site_equipment')
    migrator.remove_model('equipment')
    migrator.remove_fields('site', 'day_ends_at', 'guests_allowed', 'closed_on')
