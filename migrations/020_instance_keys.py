"""Instance keys (issue 23): the fingerprints of the secret key, the VAPID key and the audit signing key that
the first node recorded; a node with other keys refuses to start (fieldapp/keys.py)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class InstanceKey(pw.Model):
        name = pw.CharField(max_length=20, primary_key=True)
        fingerprint = pw.CharField(max_length=64)
        recorded_at = pw.DateTimeField()
        recorded_by = pw.CharField(max_length=200, default='')

        class Meta:
            table_name = "instance_key"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('instance_key')
