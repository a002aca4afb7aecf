"""A site's own time zone (fieldapp/clock.py): null means the BABEL_DEFAULT_TIMEZONE setting (Europe/Oslo)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'site',
        time_zone=pw.CharField(max_length=64, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('site', 'time_zone')
