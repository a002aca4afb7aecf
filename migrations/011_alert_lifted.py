"""A stop-work order can be lifted ("arbeidet kan gjenopptas", AML § 6-3): who lifted it and when."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'alert',
        lifted_at=pw.DateTimeField(null=True),
        lifted_by=pw.ForeignKeyField(column_name='lifted_by_id', field='id', model=migrator.orm['user'],
                                     null=True, on_delete='SET NULL'))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('alert', 'lifted_at', 'lifted_by')
