"""Issue 24, finished: the evidence (photos and documents) that closes an order of Arbeidstilsynet, and whether a
person is hired in through a staffing agency (byggherreforskriften § 15 then needs the agency)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class OrderEvidence(pw.Model):
        id = pw.AutoField()
        order = pw.ForeignKeyField(column_name='order_id', field='id', model=orm['inspection_order'],
                                   on_delete='CASCADE')
        kind = pw.CharField(max_length=8)
        digest = pw.CharField(max_length=64)
        name = pw.CharField(max_length=120, default='')
        size = pw.IntegerField(default=0)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['user'], null=True,
                                        on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "order_evidence"
            indexes = [(('order', 'digest'), True)]

    migrator.add_fields('user', hired_in=pw.BooleanField(default=False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('user', 'hired_in')
    migrator.remove_model("order_evidence")
