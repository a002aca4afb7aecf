"""Safe job analysis (SJA, issue 18): the analysis, its steps and hazards, participants, signatures, decisions."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Sja(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        payload_hash = pw.CharField(max_length=64)
        organization = pw.ForeignKeyField(column_name='organization_id', field='id',
                                          model=migrator.orm['organization'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], null=True,
                                  on_delete='CASCADE')
        template_names = pw.TextField(null=True)
        title = pw.CharField(max_length=200)
        operation = pw.TextField(default='')
        place = pw.CharField(max_length=200, default='')
        starts_at = pw.DateTimeField(null=True)
        responsible = pw.ForeignKeyField(column_name='responsible_id', field='id', model=migrator.orm['user'],
                                         null=True, on_delete='RESTRICT')
        links = pw.TextField(default='')
        equipment = pw.TextField()
        revision = pw.IntegerField(default=1)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'],
                                        on_delete='RESTRICT')
        created_at = pw.DateTimeField()
        received_at = pw.DateTimeField()
        phone_at = pw.DateTimeField(null=True)
        copied_from = pw.ForeignKeyField(column_name='copied_from_id', field='id', model='self', null=True,
                                         on_delete='SET NULL')
        decision = pw.CharField(max_length=10, null=True)
        decided_at = pw.DateTimeField(null=True)
        lessons = pw.TextField(default='')
        finished_at = pw.DateTimeField(null=True)
        finished_by = pw.ForeignKeyField(column_name='finished_by_id', field='id', model=migrator.orm['user'],
                                         null=True, on_delete='SET NULL')

        class Meta:
            table_name = "sja"

    @migrator.create_model
    class SjaStep(pw.Model):
        id = pw.AutoField()
        sja = pw.ForeignKeyField(column_name='sja_id', field='id', model=migrator.orm['sja'], on_delete='CASCADE')
        position = pw.IntegerField()
        title = pw.CharField(max_length=200)

        class Meta:
            table_name = "sja_step"

    @migrator.create_model
    class SjaHazard(pw.Model):
        id = pw.AutoField()
        step = pw.ForeignKeyField(column_name='step_id', field='id', model=migrator.orm['sja_step'],
                                  on_delete='CASCADE')
        position = pw.IntegerField()
        cause = pw.TextField()
        consequence = pw.TextField(default='')
        probability = pw.IntegerField()
        severity = pw.IntegerField()
        measure = pw.TextField(default='')
        measure_by = pw.CharField(max_length=200, default='')
        probability_after = pw.IntegerField(null=True)
        severity_after = pw.IntegerField(null=True)

        class Meta:
            table_name = "sja_hazard"

    @migrator.create_model
    class SjaParticipant(pw.Model):
        id = pw.AutoField()
        sja = pw.ForeignKeyField(column_name='sja_id', field='id', model=migrator.orm['sja'], on_delete='CASCADE')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        added_at = pw.DateTimeField()

        class Meta:
            table_name = "sja_participant"
            indexes = [(('sja', 'user'), True)]

    @migrator.create_model
    class SjaSignature(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        sja = pw.ForeignKeyField(column_name='sja_id', field='id', model=migrator.orm['sja'], on_delete='CASCADE')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        revision = pw.IntegerField()
        method = pw.CharField(max_length=10)
        language = pw.CharField(max_length=5)
        device_user = pw.ForeignKeyField(column_name='device_user_id', field='id', model=migrator.orm['user'],
                                         on_delete='RESTRICT')
        signed_at = pw.DateTimeField()
        received_at = pw.DateTimeField()
        phone_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "sja_signature"
            indexes = [(('sja', 'user', 'revision'), True)]

    @migrator.create_model
    class SjaDecision(pw.Model):
        id = pw.AutoField()
        sja = pw.ForeignKeyField(column_name='sja_id', field='id', model=migrator.orm['sja'], on_delete='CASCADE')
        decision = pw.CharField(max_length=10)
        revision = pw.IntegerField()
        note = pw.TextField(default='')
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['user'],
                                        on_delete='RESTRICT')
        at = pw.DateTimeField()

        class Meta:
            table_name = "sja_decision"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("sja_decision", "sja_signature", "sja_participant", "sja_hazard", "sja_step", "sja"):
        migrator.remove_model(table)
