"""Agenda items worded in each reader's language (leftovers, item 6).

- agenda_item.params: what a walkaround, SJA, certificate or statistics item found, as codes and numbers
  (JSON), so that each reader reads it in their own language; items made before keep their stored title.
"""
import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('agenda_item', params=pw.TextField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('agenda_item', 'params')
