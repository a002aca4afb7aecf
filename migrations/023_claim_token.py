"""Push delivery claims found by their token (issue 23: consumer CPU per message).

- push_delivery_claim: a partial index on claimed_by, so that a claim marks its rows with one UPDATE and reads
  them back by its token (no list of ids built and sent twice a claim). Rows not in a claim have no token and
  are not in the index.
"""
import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("CREATE INDEX push_delivery_claim ON push_delivery (claimed_by) WHERE claimed_by IS NOT NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX push_delivery_claim")
