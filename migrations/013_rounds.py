"""Safety walkarounds (vernerunder, issue 18): checklist templates in versions, rounds, answers, photos,
signatures and notes, and each site's round interval."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ChecklistTemplate(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=migrator.orm['organization'], null=True, on_delete='CASCADE')
        key = pw.CharField(max_length=40, null=True, unique=True)
        names = pw.TextField()
        current = pw.IntegerField(default=1)
        created_at = pw.DateTimeField()
        archived_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "checklist_template"

    @migrator.create_model
    class ChecklistVersion(pw.Model):
        id = pw.AutoField()
        template = pw.ForeignKeyField(column_name='template_id', field='id', model=migrator.orm['checklist_template'], on_delete='CASCADE')
        number = pw.IntegerField()
        sections = pw.TextField()
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "checklist_version"
            indexes = [(('template', 'number'), True)]

    @migrator.create_model
    class RoundSchedule(pw.Model):
        id = pw.AutoField()
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], unique=True, on_delete='CASCADE')
        interval_days = pw.IntegerField(default=7)
        reminded_for = pw.DateField(null=True)

        class Meta:
            table_name = "round_schedule"

    @migrator.create_model
    class SafetyRound(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        version = pw.ForeignKeyField(column_name='version_id', field='id', model=migrator.orm['checklist_version'], on_delete='RESTRICT')
        started_by = pw.ForeignKeyField(column_name='started_by_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        started_at = pw.DateTimeField()
        phone_at = pw.DateTimeField(null=True)
        received_at = pw.DateTimeField()
        summary = pw.TextField(default='')
        participants = pw.TextField()
        finished_at = pw.DateTimeField(null=True)
        finished_by = pw.ForeignKeyField(column_name='finished_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        signed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "safety_round"

    @migrator.create_model
    class RoundAnswer(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        round = pw.ForeignKeyField(column_name='round_id', field='id', model=migrator.orm['safety_round'], on_delete='CASCADE')
        item_key = pw.CharField(max_length=40)
        answer = pw.CharField(max_length=12)
        note = pw.TextField(default='')
        answered_by = pw.ForeignKeyField(column_name='answered_by_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        answered_at = pw.DateTimeField()
        phone_at = pw.DateTimeField(null=True)
        received_at = pw.DateTimeField()
        finding = pw.ForeignKeyField(column_name='finding_id', field='id', model=migrator.orm['report'], null=True, on_delete='SET NULL')

        class Meta:
            table_name = "round_answer"
            indexes = [(('round', 'item_key'), True)]

    @migrator.create_model
    class RoundPhoto(pw.Model):
        id = pw.AutoField()
        answer = pw.ForeignKeyField(column_name='answer_id', field='id', model=migrator.orm['round_answer'], on_delete='CASCADE')
        digest = pw.CharField(max_length=64, index=True)
        width = pw.IntegerField()
        height = pw.IntegerField()
        added_by = pw.ForeignKeyField(column_name='added_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "round_photo"
            indexes = [(('answer', 'digest'), True)]

    @migrator.create_model
    class RoundSignature(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        round = pw.ForeignKeyField(column_name='round_id', field='id', model=migrator.orm['safety_round'], on_delete='CASCADE')
        side = pw.CharField(max_length=12)
        signer = pw.ForeignKeyField(column_name='signer_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        device_user = pw.ForeignKeyField(column_name='device_user_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        with_pin = pw.BooleanField(default=False)
        signed_at = pw.DateTimeField()
        phone_at = pw.DateTimeField(null=True)
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "round_signature"
            indexes = [(('round', 'side'), True), (('round', 'signer'), True)]

    @migrator.create_model
    class RoundNote(pw.Model):
        id = pw.AutoField()
        round = pw.ForeignKeyField(column_name='round_id', field='id', model=migrator.orm['safety_round'], on_delete='CASCADE')
        author = pw.ForeignKeyField(column_name='author_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        text = pw.TextField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "round_note"

    # The site's round list, newest first.
    migrator.sql("CREATE INDEX safety_round_site_started ON safety_round (site_id, started_at)")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX safety_round_site_started")
    for table in ('round_note', 'round_signature', 'round_photo', 'round_answer', 'safety_round', 'round_schedule',
                  'checklist_version', 'checklist_template'):
        migrator.remove_model(table)
